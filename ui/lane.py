"""The server's lane for bulk script work: runs that a classroom makes by the dozen take turns.

Streamlit runs every session's script on a thread of its own, and Python runs one thread at a time (the
GIL). When a classroom presses Start at once, thirty-two Start presses and then their run views' timers
are thirty-odd threads wanting the GIL together; another visitor's drawing is one more, and Python hands
the GIL round without regard for who is waiting on an answer: the drawing made during such a burst took
5-10 s to answer (``bench/classroom_training.py``), though it needs about 0.3 s of the interpreter.

So the work a burst is made of (a Start press, a run view redrawn by its timer, on the Train page) goes
through this lane: at most :data:`WIDTH` such script runs go on at once in the whole server, and the others
sleep until one is done, off the GIL. Work outside the lane (a drawing, a page opened, any other widget)
then shares the interpreter with a couple of threads instead of thirty. The burst's own work takes no
longer in all (it was waiting for the same interpreter), it just waits in line instead of in a scrum.

Re-entrant per thread (a run view drawn inside the Start fragment holds the lane once), and never a
deadlock: a thread that waits :data:`MAX_WAIT_SECONDS` goes on without it. No Streamlit import.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

WIDTH = 2  # bulk script runs at once: two, so one waiting on the database leaves the other the interpreter
MAX_WAIT_SECONDS = 10.0

_slots = threading.BoundedSemaphore(WIDTH)
_held = threading.local()


@contextmanager
def bulk() -> Iterator[bool]:
    """Hold a place in the lane for the block (or go on without one after :data:`MAX_WAIT_SECONDS`).
    Yields whether this block took a place (False inside a block that already holds one, or after the wait)."""
    depth = getattr(_held, "depth", 0)
    took = depth == 0 and _slots.acquire(timeout=MAX_WAIT_SECONDS)
    _held.depth = depth + 1
    try:
        yield took
    finally:
        _held.depth = depth
        if took:
            _slots.release()
