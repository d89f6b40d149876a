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


