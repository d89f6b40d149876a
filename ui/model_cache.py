"""Work that depends only on a model: done once per model version, and kept where it belongs.

A page's scorecard, weight pictures, backquery images or chart of a model are the same for every visitor
who looks at the same model. :func:`per_model` computes ``compute(network, *args)`` once and keeps it:

- for a **shipped model** (``model.shared``: the network read once per server and shared read-only by every
  session, ``source == "pretrained"``), in one cache for the whole server (``st.cache_data``), keyed on the
  model's identity and version (``model.key``: ``shipped-<file digest>.0``), the function and its
  arguments. A classroom of thirty opening Evaluate scores the test set once, not thirty times, and no
  session keeps a copy. ``st.cache_data`` hands each caller its own copy of the result, so no visitor can
  change what another sees;
- for a **session's own model** (trained, uploaded, or the shipped one once taught: its key is random and
  changes with every change of its weights), in this session's state only, for its current version only:
  another visitor never sees it, and it goes when the session goes.

``compute`` must be a top-level function of a module or page (it is named in the key by its file and name)
that does not change the network; its other arguments must be hashable. Work that builds on earlier work
of the same model version (a chart of its scorecard) gets that earlier result through ``using``: it is
passed on but not part of the key, which the model's key already determines.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

import streamlit as st

if TYPE_CHECKING:
    from ui.state import ActiveModel

T = TypeVar("T")
SESSION_KEY = "model_cache"  # {"key": model.key, "entries": {(function, args): result}}
SESSION_ENTRIES = 32  # per session, for its own model's current version: the oldest goes first
SHARED_ENTRIES = 512  # for the whole server: a few shipped models' views, each a few kB to a MB


def per_model(model: ActiveModel, compute: Callable[..., T], *args: Hashable, using: tuple = ()) -> T:
    """``compute(model.network, *using, *args)``, computed once per model version (see the module's
    docstring)."""
    name = f"{compute.__code__.co_filename}:{compute.__qualname__}"
    if model.shared:
        # keyword arguments: a positional one costs Streamlit an inspect.signature of the function to name it.
        # The arguments go into the key as one byte string: Streamlit hashes a tuple item by item (Inside's 64
        # nodes and captions: 0.5 ms a run), bytes in one go. Equal arguments pickle alike (the rare exception, an
        # object repeated in one and not in the other, costs a recomputation, never another's result).
        return _shared(name=name, model_key=model.key, args=pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL),
                       _args=args, _compute=compute, _network=model.network, _using=using)
    cache = st.session_state.get(SESSION_KEY)
    if cache is None or cache["key"] != model.key:
        cache = {"key": model.key, "entries": {}}  # the model changed: its old results go
        st.session_state[SESSION_KEY] = cache
    entries: dict[tuple, Any] = cache["entries"]
    entry = (name, args)
    if entry not in entries:
        if len(entries) >= SESSION_ENTRIES:
            del entries[next(iter(entries))]
        entries[entry] = compute(model.network, *using, *args)
    return entries[entry]


@st.cache_data(show_spinner=False, max_entries=SHARED_ENTRIES)
def _shared(name: str, model_key: str, args: bytes, _args: tuple, _compute: Callable[..., T], _network: Any,
            _using: tuple) -> T:
    return _compute(_network, *_using, *_args)
