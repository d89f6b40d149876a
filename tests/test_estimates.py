"""Estimates and time left (ann.estimates): the logic, on a clock the test moves by hand; the calibration's
cache and arithmetic. No assertion here depends on how fast the machine is."""

import dataclasses
import math
import re
import threading
import time

import pytest

from ann.config import PRESETS, NetworkConfig, TrainConfig
from ann.estimates import (
    TRUST_FRACTION,
    Measurements,
    TimeLeft,
    core_share,
    duration_text,
    training_seconds,
    training_speed,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "-"), (math.inf, "-"), (math.nan, "-"), (0.2, "1 s"), (8.4, "8 s"), (59.4, "59 s"),
    (59.6, "1 min 00 s"), (125, "2 min 05 s"), (3599.6, "1 h 00 min"), (3725, "1 h 02 min")])
def test_duration_text(seconds, text):
    # each number is held to its unit by a no-break space; the words are separated by plain spaces
    assert duration_text(seconds) == re.sub(r"(\d) ", "\\1\u00a0", text)


def test_before_any_report_the_estimate_counts_down_to_a_tenth_of_itself():
    clock = Clock()
    left = TimeLeft(10.0, clock)
    assert left.seconds_left() == 10.0
    clock.now += 3
    assert left.seconds_left() == pytest.approx(7.0)
    clock.now += 30  # slower than calibrated: never "0 s left" while it still runs
    assert left.seconds_left() == pytest.approx(1.0)


def test_without_an_estimate_there_is_nothing_to_say_until_there_is_a_rate():
    clock = Clock()
    left = TimeLeft(None, clock)
    assert left.seconds_left() is None
    clock.now += 5  # start-up: five seconds before the first report
    left.update(0.1)
    assert left.seconds_left() is None
    clock.now += 1
    left.update(0.2)
    # the rate since the first report (1 s per tenth), not since the start (6 s for two tenths)
    assert left.seconds_left() == pytest.approx(8.0)
    assert left.total() == pytest.approx(14.0)


def test_the_own_rate_takes_over_from_the_estimate_in_proportion():
    clock = Clock()
    left = TimeLeft(10.0, clock)
    clock.now += 2
    left.update(0.05)
    prior_rate = (10.0 - 2) / 0.95  # calibrated seconds per whole job, start-up left out
    assert left.seconds_left() == pytest.approx(prior_rate * 0.95)
    clock.now += 2  # four times slower than calibrated
    left.update(0.05 + TRUST_FRACTION / 2)
    f = 0.05 + TRUST_FRACTION / 2
    own = 2 / (TRUST_FRACTION / 2) * (1 - f)
    assert left.seconds_left() == pytest.approx(0.5 * own + 0.5 * prior_rate * (1 - f))
    clock.now += 2
    left.update(0.05 + TRUST_FRACTION)
    f = 0.05 + TRUST_FRACTION
    assert left.seconds_left() == pytest.approx(4 / TRUST_FRACTION * (1 - f))


def test_updates_are_clipped_and_never_go_back():
    clock = Clock()
    left = TimeLeft(4.0, clock)
    left.update(0.5)
    left.update(0.2)
    assert left.fraction == 0.5
    left.update(7.0)
    assert left.fraction == 1.0
    assert left.seconds_left() == 0.0


@pytest.mark.parametrize("estimate", [-1.0, math.inf, math.nan])
def test_a_bad_estimate_is_refused(estimate):
    with pytest.raises(ValueError, match="estimate="):
        TimeLeft(estimate)


SMALL = NetworkConfig(hidden_nodes=(20,))


def test_calibration_is_measured_once_per_setup():
    training = TrainConfig(epochs=1, batch_size=16, rotate=0.0)
    speed = training_speed(SMALL, training)
    assert speed.seconds_per_sample > 0 and speed.seconds_per_test_image > 0
    assert math.isfinite(speed.seconds_per_sample)
    # what does not change the time per sample does not calibrate again
    again = dataclasses.replace(training, learning_rate=0.7, epochs=9, limit=300, seed=5, warmup_epochs=4.0)
    assert training_speed(SMALL, again) is speed
    # what does, does
    assert training_speed(SMALL, dataclasses.replace(training, batch_size=32)) is not speed
    assert training_speed(SMALL, training, nice=1) is not speed


def test_training_seconds_counts_samples_copies_epochs_and_scoring():
    training = dataclasses.replace(PRESETS["seed"].train, epochs=2)  # the seed's three copies of each record
    network = dataclasses.replace(PRESETS["seed"].network, hidden_nodes=(20,))
    speed = training_speed(network, training)
    seconds = training_seconds(network, training, records=1000, test_images=500)
    expected = 1000 * 3 * 2 * speed.seconds_per_sample + 2 * 500 * speed.seconds_per_test_image
    assert seconds == pytest.approx(expected, rel=1e-12)
    assert training_seconds(network, training, 1000, 500, epochs=4) == pytest.approx(2 * expected, rel=1e-12)


def test_core_share_is_a_fair_share_of_the_cores():
    assert core_share(1, 0, 2) == 1.0 and core_share(2, 0, 2) == 1.0
    assert core_share(1, 1, 2) == 1.0  # beside one busy process on two cores: a core of its own
    assert core_share(2, 1, 2) == pytest.approx(2 / 3)  # two workers beside it: two thirds each
    assert core_share(2, 28, 2) == pytest.approx(2 / 30)



# --------------------------------------------------------------------------- measured in the background


class Gate:
    """A measurement that runs until the test opens the gate, counting how often it ran and how many ran at once."""

    def __init__(self, figure: float, log: list, running: list) -> None:
        self.figure, self.log, self.running = figure, log, running
        self.opened = threading.Event()
        self.started = threading.Event()

    def __call__(self) -> float:
        self.running.append(self.figure)
        self.log.append((self.figure, len(self.running)))
        self.started.set()
        self.opened.wait(10)
        self.running.remove(self.figure)
        return self.figure


def test_many_callers_at_once_measure_a_key_once_and_only_the_waiting_ones_wait():
    measurements, log = Measurements(), []
    gate = Gate(2.5, log, [])
    # a classroom's first looks: nobody waits, each gets None at once, and one measurement starts
    assert [measurements.get("setup", gate, wait=False) for _ in range(30)] == [None] * 30
    assert gate.started.wait(10)
    waited: list = []
    waiter = threading.Thread(target=lambda: waited.append(measurements.get("setup", gate)))
    waiter.start()
    time.sleep(0.1)
    assert waiter.is_alive() and not waited  # the one that waits (a Start pressed) waits for the same measurement
    gate.opened.set()
    waiter.join(10)
    assert waited == [2.5]
    assert measurements.get("setup", gate, wait=False) == 2.5
    assert log == [(2.5, 1)]  # measured once


def test_measurements_run_one_at_a_time():
    measurements, log, running = Measurements(), [], []
    first, second = Gate(1.0, log, running), Gate(2.0, log, running)
    assert measurements.get("one", first, wait=False) is None
    assert first.started.wait(10)
    assert measurements.get("two", second, wait=False) is None
    time.sleep(0.1)
    assert not second.started.is_set()  # waits for the first: it must not measure the first's load
    first.opened.set()
    second.opened.set()
    assert measurements.get("two", second) == 2.0 and measurements.get("one", first) == 1.0
    assert log == [(1.0, 1), (2.0, 1)]


def test_a_failed_measurement_is_raised_to_every_caller_and_not_tried_again():
    measurements, calls = Measurements(), []

    def broken() -> float:
        calls.append(1)
        raise RuntimeError("no BLAS here")

    with pytest.raises(RuntimeError, match="no BLAS here"):
        measurements.get("broken", broken)
    with pytest.raises(RuntimeError, match="no BLAS here"):
        measurements.get("broken", broken, wait=False)
    assert calls == [1]


def test_a_page_asks_for_a_training_speed_without_waiting_and_gets_the_same_figure_later():
    training = TrainConfig(epochs=1, batch_size=8, rotate=0.0)
    network = NetworkConfig(hidden_nodes=(23,))  # a shape no other test measures
    started = time.perf_counter()
    assert training_speed(network, training, wait=False) is None
    # the caller does not train: 0.4-2 ms measured here, against 0.2 s and more for the calibration itself
    assert time.perf_counter() - started < 0.05
    speed = training_speed(network, training)
    assert speed.seconds_per_sample > 0
    assert training_speed(network, training, wait=False) is speed
    assert training_seconds(network, training, 100, 10, wait=False) == training_seconds(network, training, 100, 10)
