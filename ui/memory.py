"""The server process's memory allocator: fewer glibc malloc arenas.

glibc's ``malloc`` gives a thread that finds the allocator busy an arena of its own, up to eight per core,
and memory freed in an arena stays with that arena for its next allocations rather than going back to the
system. Streamlit runs each session's script on a thread of its own, so a burst of sessions (a classroom
pressing Start at once) spreads the server's allocations over many arenas, each keeping its own high-water
mark. Two arenas are enough for a server of two busy threads' worth of Python (the GIL lets one thread run
Python at a time). Measured with ``bench/classroom_training.py`` (32 sessions press Start): the server alone
peaked at 286 MB with glibc's default and 244 MB with two arenas; the tree's RSS sum 601 -> 555 MB.

No Streamlit import: the function is plain Python, and a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
ARENAS = 2


def fewer_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit glibc's malloc to ``arenas`` arenas from now on, unless ``MALLOC_ARENA_MAX`` was set already
    (an operator's choice wins). Returns True if the limit was set. Arenas made before the call stay."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt): nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_ARENA_MAX, int(arenas)) == 1
