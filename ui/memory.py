"""Giving the memory of visitors who left back to the system (issue #14).

What ``bench/classroom.py --probe`` found: when a wave of visitors leaves (their sessions released after
``server.disconnectedSessionTTL``), every Python object of theirs is freed (CPython's count of allocated
blocks comes back to the same figure, wave after wave), yet the server's resident size stays where it was:
the C allocator (glibc's malloc, which CPython and NumPy allocate from; each script run's thread may use its
own heap arena) keeps freed pages for later instead of handing them back. The next wave reuses part of them
and takes more, so resident size creeps up by a shrinking amount per wave: a plateau, not a leak.

``malloc_trim(0)`` hands every free page of every arena back to the system. :func:`watch_session` gives
each session a marker whose release (the session ending) schedules one trim a few seconds after the last
release, so a classroom leaving at once costs one trim (tens of milliseconds on the server, off the script
threads), and the next class starts from the memory the server really uses. Where the C library has no
``malloc_trim`` (not glibc: macOS, musl), nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

import streamlit as st

TRIM_DELAY_SECONDS = 5.0  # after the last session released: a wave of departures makes one trim


def _find_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # no C library by that name, or not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_trim = _find_trim()
_lock = threading.Lock()
_timer: threading.Timer | None = None
trims_done = 0  # how many trims ran (tests read it)


def _run_trim() -> None:
    global trims_done
    if _trim is not None:
        _trim(0)
    trims_done += 1


def trim_soon(delay: float = TRIM_DELAY_SECONDS) -> bool:
    """Schedule ``malloc_trim(0)`` ``delay`` seconds from now, replacing one scheduled before (so a burst of
    calls makes one trim). Thread-safe; makes no Streamlit call. Returns False where there is no
    ``malloc_trim``."""
    global _timer
    if _trim is None:
        return False
    with _lock:
        if _timer is not None:
            _timer.cancel()
        _timer = threading.Timer(delay, _run_trim)
        _timer.name = "ann-malloc-trim"
        _timer.daemon = True
        _timer.start()
    return True


@st.cache_resource(scope="session", show_spinner=False, on_release=lambda _marker: trim_soon())
def _session_marker() -> object:
    return object()


def watch_session() -> None:
    """Call on every script run: the session's marker, released (and a trim scheduled) when it ends."""
    _session_marker()
