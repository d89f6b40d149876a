"""The server process's memory housekeeping: one full garbage collection a minute, and freed heap pages
handed back to the system.

Two measures, both for a server that many sessions share (a classroom):

- **Garbage collection on a timer, not after every script run.** Streamlit runs a full ``gc.collect(2)``
  after every script run of every session (``runner.postScriptGC``). Under a burst of 32 Start presses it
  was a fifth of the server's CPU (py-spy, ``bench/classroom_training.py``), time every visitor's next
  answer waited for. ``.streamlit/config.toml`` turns it off, and the thread here collects once a minute
  instead: reference cycles are freed a little later, at a fixed small cost however many sessions run
  scripts. A minute is also how long a visitor's session outlives the visit (``disconnectedSessionTTL``),
  so a session's memory goes within two minutes of the visitor. A full collection walks every object the
  server holds (20-400 ms, as many sessions and imported libraries as it holds): every 20 s it was a
  quarter of a warm server's busy time during page loads. Python's own collections of the young
  generations still run as objects are made.
- **Free pages back to the system.** glibc's ``malloc`` keeps up to eight arenas per core, one per thread
  that needs one, and memory freed in an arena stays with it rather than going back to the system.
  Streamlit runs every session's script on a thread of its own, so a burst of sessions spreads the server's
  allocations over many arenas, each keeping its high-water mark. ``MALLOC_ARENA_MAX=2`` would prevent that
  only if set before the server starts (``mallopt`` comes too late: Streamlit's own threads have made 15
  arenas before the first script runs), and a hosted platform starts ``streamlit run app.py`` itself. So
  after each collection the thread calls glibc's ``malloc_trim(0)``, which gives every arena's whole free
  pages back (``madvise``) in a few milliseconds.

No Streamlit import; the trimming is a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time

EVERY_SECONDS = 60.0

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


def start_housekeeping(every: float = EVERY_SECONDS) -> bool:
    """Start the server's housekeeping thread, once per process: every ``every`` seconds a full garbage
    collection, then (with glibc) ``malloc_trim``. Returns True if this call started it."""
    if _started.is_set():
        return False
    _started.set()
    trim = _malloc_trim()

    def loop() -> None:
        while True:
            time.sleep(every)
            gc.collect()
            if trim is not None:
                trim(0)  # ctypes releases the GIL: the server's threads go on meanwhile

    threading.Thread(target=loop, name="ann-memory-housekeeping", daemon=True).start()
    return True
