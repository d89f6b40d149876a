"""The server's lane for bulk script work (ui.lane): a bounded number at once, re-entrant, never stuck."""

from __future__ import annotations

import threading
import time

import pytest

from ui import lane


@pytest.fixture
def fresh_lane(monkeypatch):
    monkeypatch.setattr(lane, "_slots", threading.BoundedSemaphore(lane.WIDTH))
    monkeypatch.setattr(lane, "_held", threading.local())
    return lane


def test_at_most_width_blocks_at_once(fresh_lane):
    inside, most = 0, 0
    count_lock = threading.Lock()
    release = threading.Event()

    def work():
        nonlocal inside, most
        with fresh_lane.bulk() as took:
            assert took
            with count_lock:
                inside += 1
                most = max(most, inside)
            release.wait(5)
            time.sleep(0.01)
            with count_lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    time.sleep(0.3)  # every thread has reached the lane by now; only WIDTH are inside
    with count_lock:
        assert inside == fresh_lane.WIDTH
    release.set()
    for t in threads:
        t.join(10)
    assert most == fresh_lane.WIDTH
    assert inside == 0


def test_nested_blocks_hold_one_place(fresh_lane):
    with fresh_lane.bulk() as outer:
        with fresh_lane.bulk() as inner:  # a run view drawn inside the Start fragment
            assert outer and not inner
            free = fresh_lane._slots.acquire(blocking=False)  # one place is still free (WIDTH is 2)
            assert free
            fresh_lane._slots.release()
    for _ in range(fresh_lane.WIDTH):  # every place is back
        assert fresh_lane._slots.acquire(blocking=False)


def test_a_place_comes_back_after_an_exception(fresh_lane):
    with pytest.raises(RuntimeError):
        with fresh_lane.bulk():
            raise RuntimeError("st.rerun raises through the block")
    for _ in range(fresh_lane.WIDTH):
        assert fresh_lane._slots.acquire(blocking=False)


def test_a_full_lane_is_passed_after_the_wait(fresh_lane, monkeypatch):
    monkeypatch.setattr(fresh_lane, "MAX_WAIT_SECONDS", 0.2)
    for _ in range(fresh_lane.WIDTH):  # held elsewhere, and never given back
        fresh_lane._slots.acquire()
    started = time.perf_counter()
    with fresh_lane.bulk() as took:
        waited = time.perf_counter() - started
    assert not took
    assert 0.15 <= waited < 5.0
