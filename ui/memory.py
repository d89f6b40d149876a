"""The server process's memory: freed heap pages handed back to the system.

glibc's ``malloc`` keeps up to eight arenas per core, one per thread that needs one, and memory freed in an
arena stays with it for later allocations rather than going back to the system. Streamlit runs every
session's script on a thread of its own, so a burst of sessions (a classroom pressing Start at once) spreads
the server's allocations over many arenas, and each keeps its high-water mark as resident memory long after
the burst. ``MALLOC_ARENA_MAX=2`` in the server's environment would prevent that, but only when set before the
server starts (``mallopt`` comes too late: Streamlit's own threads have made 15 arenas before the first
script runs), and a hosted platform starts ``streamlit run app.py`` itself. So a thread of the server's calls
glibc's ``malloc_trim(0)`` every few seconds: it gives every arena's whole free pages back (``madvise``),
in a few milliseconds. Measured with ``bench/classroom_training.py`` (32 sessions press Start): see
bench/README.md.

No Streamlit import; a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time

TRIM_SECONDS = 5.0

_started = threading.Event()


def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to trim
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def trim_now() -> bool | None:
    """Give the heap's free pages back to the system now. True if some were, None without glibc."""
    trim = _malloc_trim()
    return None if trim is None else bool(trim(0))


def start_trimming(every: float = TRIM_SECONDS) -> bool:
    """Start the server's trimming thread (once per process). Returns False without glibc."""
    trim = _malloc_trim()
    if trim is None:
        return False
    if _started.is_set():
        return True
    _started.set()

    def loop() -> None:
        while True:
            time.sleep(every)
            trim(0)  # ctypes releases the GIL: the server's threads go on meanwhile

    threading.Thread(target=loop, name="ann-malloc-trim", daemon=True).start()
    return True
