"""Heavy libraries imported on first use rather than with the module that names them.

A first look at most pages draws no chart, yet ``ui.charts`` and its siblings are imported by the frame that
every page runs. Importing altair and pandas with them cost a fresh server about 0.75 s of CPU (pandas 0.5 s,
altair 0.25 s) before its first visitor saw anything. ``lazy_module("altair")`` names the module at the top of
the file, as usual, and imports it when the first attribute is asked for: on the first chart.

Thread-safe: every access goes through :func:`importlib.import_module`, whose module locks make two sessions'
first charts wait for one import (the standard library's ``LazyLoader`` is not safe across threads in Python
3.11). After the first import an access is one dictionary lookup in ``sys.modules``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


class LazyModule:
    """Stands for the module ``name`` until an attribute is asked for; then is a window onto it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """``name``'s module, imported when first used (typed ``Any``: an attribute is the module's own)."""
    return LazyModule(name)




def spare_pandas_for_plain_dicts() -> bool:
    """Let Components v2 pass a plain dictionary to the browser without importing pandas and pyarrow.

    Streamlit looks for data frames among the values of a dictionary given to a Components-v2 component
    (``serialization._extract_dataframes_from_dict``) with ``dataframe_util.is_dataframe_like``, which imports
    pandas and pyarrow (0.3-0.4 s of a fresh server's CPU) before its first test. streamlit-drawable-canvas
    passes its settings so, one of them a plain ``dict`` (the initial drawing). A plain dictionary is data
    frame-like for Streamlit only as a mapping of columns to pandas Series, and there is none while pandas has
    not been imported: so until then such a value is answered False here without the imports, and everything
    else (and everything once pandas is in) goes to Streamlit's own test. Installed once per process; returns
    False where Streamlit has no such function to wrap (another version: nothing changes)."""
    try:
        from streamlit.components.v2.bidi_component import serialization
    except ImportError:
        return False
    original = getattr(serialization, "is_dataframe_like", None)
    if original is None or getattr(original, "spares_pandas", False):
        return original is not None

    def is_dataframe_like(value: object) -> bool:
        if type(value) is dict and "pandas" not in sys.modules:
            return False
        return original(value)

    is_dataframe_like.spares_pandas = True  # type: ignore[attr-defined]
    serialization.is_dataframe_like = is_dataframe_like
    return True
