"""ui.memory: when sessions end, one malloc_trim a moment after the last of them (a classroom leaving at once
makes one trim, off the script threads)."""

from __future__ import annotations

import time

import pytest

from ui import memory


@pytest.mark.skipif(memory._trim is None, reason="no malloc_trim in this C library (not glibc)")
def test_a_burst_of_departures_makes_one_trim_after_the_last():
    before = memory.trims_done
    for _ in range(30):  # thirty sessions released at once: each schedules the trim again
        assert memory.trim_soon(delay=1.0)
    time.sleep(0.3)
    assert memory.trims_done == before  # not yet: it waits for the departures to end
    deadline = time.monotonic() + 10
    while memory.trims_done == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert memory.trims_done == before + 1
    time.sleep(1.5)
    assert memory.trims_done == before + 1  # the earlier schedules were cancelled, not run


def test_without_malloc_trim_nothing_is_scheduled(monkeypatch):
    monkeypatch.setattr(memory, "_trim", None)
    assert memory.trim_soon(delay=0.01) is False
