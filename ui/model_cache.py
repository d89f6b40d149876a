"""Work that depends only on a model: done once per model version, and kept where it belongs.

A page's scorecard, weight pictures, backquery images or chart of a model are the same for every visitor
who looks at the same model. :func:`per_model` computes ``compute(network, *args)`` once and keeps it:

- for a **shipped model** (``model.shared``: the network read once per server and shared read-only by every
  session, ``source == "pretrained"``), in one cache for the whole server (``st.cache_data``), keyed on the
  model's identity and version (``model.key``: ``shipped-<file digest>.0``), the function and its
  arguments. A classroom of thirty opening Evaluate scores the test set once, not thirty times, and no
  session keeps a copy. ``st.cache_data`` hands each caller its own copy of the result, so no visitor can
  change what another sees. A shipped model's results are also kept on disk (``views/`` in the cache
  folder, ``$ANN_CACHE_DIR`` or ``data/cache``), so a server started again, or a second one, reads them
  instead of scoring the test set again: a file's name is a digest of the model file's digest, the function,
  its arguments and the code that computes them (every ``.py`` file of ``ann/``, ``ui/`` and ``pages/``, with
  NumPy's and Python's versions), so a changed model, dataset key or line of code never reads a stale one;
- for a **session's own model** (trained, uploaded, or the shipped one once taught: its key is random and
  changes with every change of its weights), in this session's state only, for its current version only:
  another visitor never sees it, and it goes when the session goes.

``compute`` must be a top-level function of a module or page (it is named in the key by its file and name)
that does not change the network; its other arguments must be hashable. Work that builds on earlier work
of the same model version (a chart of its scorecard) gets that earlier result through ``using``: it is
passed on but not part of the key, which the model's key already determines.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import sys
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import streamlit as st

import ann
from ann.data.mnist import default_cache_dir
from ann.files import atomic_write_bytes

if TYPE_CHECKING:
    from ui.state import ActiveModel

T = TypeVar("T")
SESSION_KEY = "model_cache"  # {"key": model.key, "entries": {(function, args): result}}
SESSION_ENTRIES = 32  # per session, for its own model's current version: the oldest goes first
SHARED_ENTRIES = 512  # for the whole server: a few shipped models' views, each a few kB to a MB
DISK_FILES = 2000  # kept on disk at most (the oldest go first): some 100 MB at the largest views' size
_APP = Path(__file__).resolve().parents[1]
CODE_FOLDERS = (Path(ann.__file__).resolve().parent, _APP / "ui", _APP / "pages")  # every byte names a file on disk


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
                       _args=args, _compute=compute, _model=model, _using=using)
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
def _shared(name: str, model_key: str, args: bytes, _args: tuple, _compute: Callable[..., T], _model: ActiveModel,
            _using: tuple) -> T:
    """The result for the whole server: from the disk when a shipped model's is there (its network is then
    not even built), else computed (and written there for a shipped model)."""
    path = disk_path(name, model_key, args) if _model.source == "pretrained" else None
    if path is not None:
        kept = _read(path)
        if kept is not _MISSING:
            return kept
    result = _compute(_model.network, *_using, *_args)
    if path is not None:
        _write(path, result)
    return result


_MISSING = object()


@functools.cache
def code_digest() -> str:
    """A digest of the code that computes the views (every ``.py`` file of :data:`CODE_FOLDERS`) and of the
    Python and NumPy it runs on: once per process, a few milliseconds."""
    digest = hashlib.sha256(f"{sys.version}|{np.__version__}".encode())
    for folder in CODE_FOLDERS:
        for path in sorted(folder.rglob("*.py")):
            digest.update(f"{folder.name}/{path.relative_to(folder)}".encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def views_dir() -> Path:
    """Where shipped models' results are kept on disk: ``views/`` in the cache folder."""
    return default_cache_dir() / "views"


def disk_path(name: str, model_key: str, args: bytes) -> Path:
    """The file of one result on disk: named by a digest of everything it depends on."""
    digest = hashlib.sha256(b"\0".join((code_digest().encode(), name.encode(), model_key.encode(), args)))
    return views_dir() / f"{digest.hexdigest()[:40]}.pickle"


def _read(path: Path) -> Any:
    """A kept result, or ``_MISSING`` (none, or one that does not read: it is removed and computed again)."""
    try:
        data = path.read_bytes()
    except OSError:
        return _MISSING
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 - a truncated or foreign file: computed again, never shown
        path.unlink(missing_ok=True)
        return _MISSING


def _write(path: Path, result: Any) -> None:
    """Keep a result on disk (atomically: another server reads the old file or the whole new one); at most
    :data:`DISK_FILES` files, the oldest removed first. A folder that cannot be written only costs the next
    server the computation."""
    try:
        atomic_write_bytes(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        files = list(path.parent.glob("*.pickle"))
        if len(files) > DISK_FILES:
            files.sort(key=lambda file: file.stat().st_mtime)
            for old in files[: len(files) - DISK_FILES]:
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        pass
