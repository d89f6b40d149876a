"""How long a wait will be: measured on the server that runs it, then corrected by the job's own rate.

Two halves, one home for each rule:

- **Before a job starts**, :func:`training_speed` times a few small epochs of the real training loop for
  the network's size and settings on synthetic records, the way the job's worker will run them (its thread
  count and its ``nice`` level, in a thread of its own), and a forward pass over synthetic test images.
  The figures are cached per process: one calibration for each setup a server is asked about, measured
  in the background (:class:`Measurements`: a page asks without waiting, and shows the figure once it is
  there). :func:`training_seconds` turns them into a run's time; :func:`process_start_seconds` measures what a
  fresh worker process costs before it trains; :func:`others_running` and :func:`core_share` say how much
  less of a core each of several parallel workers gets on a busy machine than the calibration did.
- **While it runs**, :class:`TimeLeft` gives the seconds left from the fraction done: the calibrated
  estimate at first, the job's own rate (measured from its first report, so start-up does not count as
  slowness) more and more as it goes.

:func:`duration_text` is how every page says a duration ("8 s", "2 min 05 s").

Lab work (a t-SNE map, the robustness sweeps) and the sweeps of :mod:`ann.experiments` calibrate themselves
where they live, through the same :data:`MEASUREMENTS`, and report their progress to a :class:`TimeLeft` the
same way. Nothing here imports Streamlit.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ann.config import NetworkConfig, TrainConfig
from ann.network import Network
from ann.paths import PROJECT_ROOT
from ann.train import score, train

__all__ = [
    "MEASUREMENTS",
    "TRUST_FRACTION",
    "Measurements",
    "TimeLeft",
    "TrainingSpeed",
    "core_share",
    "duration_text",
    "others_running",
    "process_start_seconds",
    "training_seconds",
    "training_speed",
]

# A job's own rate is trusted fully once this share of it is done since its first report; before that it
# is blended with the calibrated estimate in proportion.
TRUST_FRACTION = 0.1
# The calibration trains a warm-up epoch of CALIBRATION_RECORDS records, then more such epochs until this much
# training time has passed: long enough to average a few scheduler slices on a busy server, short enough for
# a page. Small epochs, because the loop reports once an epoch (and a chunk of 1,024 records of a large
# network with elastic distortions takes seconds on a crowded, niced core).
CALIBRATION_SECONDS = 0.3
CALIBRATION_RECORDS = 256
CALIBRATION_MAX_EPOCHS = 200
CALIBRATION_TEST_IMAGES = 1000  # images scored (after a warm-up of 100) for the test pass's speed


def duration_text(seconds: float | None) -> str:
    """A duration as a page shows it: "8 s", "2 min 05 s", "1 h 03 min"; "-" when unknown. A number and its
    unit are joined by a no-break space, so a narrow column never wraps between them ("18" and "s" on two
    lines)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 59.5:
        text = f"{max(seconds, 1):.0f} s"
    elif round(seconds) < 3600:
        seconds = round(seconds)
        text = f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    else:
        seconds = round(seconds)
        text = f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"
    return _units_kept(text)


def _units_kept(text: str) -> str:
    """"2 min 05 s" -> "2\u00a0min 05\u00a0s": each number held to its unit."""
    words = text.split(" ")
    return " ".join(f"{words[i]}\u00a0{words[i + 1]}" for i in range(0, len(words), 2))


# --------------------------------------------------------------------------- while a job runs


class TimeLeft:
    """The seconds left of a job that reports the fraction it has done.

    Before its first report (a process starting, a first chunk), the calibrated ``estimate`` counts down
    from the moment the job started. From its first report on, the job's own rate since that report
    (elapsed seconds per fraction done) takes over in proportion to the share done since then, fully from
    :data:`TRUST_FRACTION`; without an estimate it is the only guide (None until there is a rate).

    Parameters
    ----------
    estimate : float or None
        Calibrated seconds for the whole job, its start-up included.
    clock : callable() -> float
        Seconds, monotonic (injected in tests).
    """

    def __init__(self, estimate: float | None, clock: Callable[[], float] = time.perf_counter) -> None:
        if estimate is not None and not (math.isfinite(estimate) and estimate >= 0):
            raise ValueError(f"estimate={estimate!r}: give a finite number of seconds, at least 0, or None")
        self.estimate = estimate
        self.clock = clock
        self.started = clock()
        self.fraction = 0.0
        self._first: tuple[float, float] | None = None  # (elapsed, fraction) at the first report

    def elapsed(self) -> float:
        return self.clock() - self.started

    def update(self, fraction: float) -> None:
        """The job has done ``fraction`` (0..1) of its work (a smaller value than before is ignored)."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        if fraction <= self.fraction:
            return
        if self._first is None:
            self._first = (self.elapsed(), fraction)
        self.fraction = fraction

    def seconds_left(self) -> float | None:
        """The estimated seconds left (0 once done; None with no estimate and no rate yet)."""
        f = self.fraction
        if f >= 1.0:
            return 0.0
        elapsed = self.elapsed()
        if self._first is None:  # not a single report: the estimate counts down, never below a tenth of itself
            return None if self.estimate is None else max(self.estimate - elapsed, 0.1 * self.estimate)
        first_elapsed, first_fraction = self._first
        prior = None
        if self.estimate is not None:
            # the calibrated time for the part not done, as if the job ran at the calibrated rate
            work = max(self.estimate - first_elapsed, 0.0) / max(1.0 - first_fraction, 1e-9)
            prior = work * (1.0 - f)
        done_since = f - first_fraction
        if done_since <= 0.0:
            return prior
        own = (elapsed - first_elapsed) / done_since * (1.0 - f)
        if prior is None:
            return own
        trust = min(done_since / TRUST_FRACTION, 1.0)
        return trust * own + (1.0 - trust) * prior

    def total(self) -> float | None:
        """Elapsed plus left: the job's whole time as it now looks."""
        left = self.seconds_left()
        return None if left is None else self.elapsed() + left


# --------------------------------------------------------------------------- before a job starts


@dataclass(frozen=True)
class TrainingSpeed:
    """What one training setup costs on this server, measured.

    Attributes
    ----------
    seconds_per_sample : float, one training sample (its augmentation included)
    seconds_per_test_image : float, one image scored after an epoch
    threads, nice : int, how the calibration ran (as the job's worker will)
    """

    seconds_per_sample: float
    seconds_per_test_image: float
    threads: int
    nice: int


Figure = TypeVar("Figure")


class Measurements:
    """Figures of this server measured once per process for each key, in the background, one at a time.

    :meth:`get` returns a key's figure, measuring it first if no one has: in a thread of its own
    (``ann-calibration``), so that a page can ask without waiting (``wait=False``: None until the figure is
    there) and show it when it is, and a visitor's first look at the page is not held up by it. However many
    callers ask for a key at once (a classroom opening a page), it is measured once; and the measurements
    of all keys run one after another, so none measures the load of another and a classroom's first looks
    start at most one at a time. A measurement must not wait for another (it would wait for itself).
    A measurement that fails raises its error to every caller that waits for it, and to every later one:
    it is not tried again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the three tables below
        self._one_at_a_time = threading.Lock()  # held while a measurement runs
        self._known: dict[Hashable, object] = {}
        self._failed: dict[Hashable, Exception] = {}
        self._pending: dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable, measure: Callable[[], Figure], wait: bool = True, nice: int = 0) -> Figure | None:
        """The figure for ``key``: known, or measured now by ``measure()`` in a thread ``nice`` steps lower in
        priority (as a worker runs: on a busy server a niced process gets less of a core, and the
        measurement should see that). ``wait=False``: None while it is being measured."""
        with self._lock:
            if key in self._known:
                return self._known[key]  # type: ignore[return-value]
            if key in self._failed:
                raise self._failed[key]
            done = self._pending.get(key)
            if done is None:
                done = self._pending[key] = threading.Event()
                threading.Thread(target=self._measure, args=(key, measure, nice, done), name="ann-calibration",
                                 daemon=True).start()
        if not wait:
            return None
        done.wait()
        with self._lock:
            if key in self._failed:
                raise self._failed[key]
            return self._known[key]  # type: ignore[return-value]

    def _measure(self, key: Hashable, measure: Callable[[], object], nice: int, done: threading.Event) -> None:
        try:
            if nice and hasattr(os, "setpriority"):
                tid = threading.get_native_id()
                try:
                    os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
                except OSError:  # not allowed here: measure at the thread's own priority
                    pass
            with self._one_at_a_time:
                figure = measure()
        except Exception as exc:  # handed to the callers
            with self._lock:
                self._failed[key] = exc
        else:
            with self._lock:
                self._known[key] = figure
        finally:
            with self._lock:
                del self._pending[key]
            done.set()


MEASUREMENTS = Measurements()  # the process's one set: every calibration of ann goes through it


def _speed_key(network: NetworkConfig, training: TrainConfig, threads: int, nice: int) -> tuple:
    # what the time per sample depends on: not the learning rate, the epochs (nor the warm-up, which must fit
    # in them), the record limit or the seed
    neutral = dataclasses.replace(training, learning_rate=0.1, epochs=1, warmup_epochs=0.0, limit=None, seed=0)
    return "training speed", network, neutral, threads, nice


def training_speed(network: NetworkConfig, training: TrainConfig, threads: int = 1, nice: int = 0,
                   budget: float = CALIBRATION_SECONDS, wait: bool = True) -> TrainingSpeed | None:
    """This server's speed for a training setup, measured once per process (:data:`MEASUREMENTS`).

    Trains a fresh network of ``network``'s shape with ``training``'s settings on synthetic records (the
    real loop: batches, augmentation, the seed's rotated copies) for a warm-up epoch of
    :data:`CALIBRATION_RECORDS` records and then more such epochs until ``budget`` seconds of training have
    passed, and scores synthetic test images, with ``threads`` BLAS threads, in a
    thread ``nice`` steps lower in priority.

    Returns
    -------
    TrainingSpeed, or None with ``wait=False`` while it is being measured
    """
    key = _speed_key(network, training, threads, nice)

    def measure() -> TrainingSpeed:
        rng = np.random.default_rng(0)
        # a small epoch, trained again and again: the loop reports once an epoch, so the budget is kept to
        # within one such epoch even on a crowded server
        records = max(CALIBRATION_RECORDS // training.batch_size, 1) * training.batch_size
        images = rng.integers(0, 256, (max(records, CALIBRATION_TEST_IMAGES), network.input_nodes), dtype=np.uint8)
        labels = rng.integers(0, network.output_nodes, len(images))
        net = Network(network, seed=0)
        config = dataclasses.replace(key[2], epochs=CALIBRATION_MAX_EPOCHS, limit=records)
        seconds = samples = 0.0
        for metrics in train(net, images, labels, config, threads=threads):
            if metrics["epoch"] == 1:
                continue  # warm-up: first calls, caches
            seconds += metrics["seconds"]
            samples += records * training.copies_per_record
            if seconds >= budget:
                break
        test = images[:CALIBRATION_TEST_IMAGES]
        score(net, test[:100], labels[:100], threads=threads)  # warm-up
        started = time.perf_counter()
        score(net, test, labels[:len(test)], threads=threads)
        per_test = (time.perf_counter() - started) / len(test)
        return TrainingSpeed(seconds / samples, per_test, threads, nice)

    return MEASUREMENTS.get(key, measure, wait=wait, nice=nice)


def training_seconds(network: NetworkConfig, training: TrainConfig, records: int, test_images: int,
                     threads: int = 1, nice: int = 0, epochs: int | None = None, wait: bool = True) -> float | None:
    """Seconds to train ``epochs`` (default: ``training.epochs``) epochs on ``records`` records and score
    ``test_images`` after each, at this server's measured speed (:func:`training_speed`), start-up not
    included. ``wait=False``: None while the speed is being measured."""
    speed = training_speed(network, training, threads, nice, wait=wait)
    if speed is None:
        return None
    epochs = training.epochs if epochs is None else epochs
    samples = records * training.copies_per_record * epochs
    return samples * speed.seconds_per_sample + epochs * test_images * speed.seconds_per_test_image


def core_share(threads: int, others: float, cores: int) -> float:
    """The share of a core each of ``threads`` busy threads gets beside ``others`` busy threads on
    ``cores`` cores, the operating system sharing them fairly (1.0: a core each)."""
    return min(1.0, cores / max(others + threads, 1e-9))


def others_running(samples: int = 10, interval: float = 0.01) -> float:
    """How many threads besides the caller are running on this machine now: the kernel's count of running
    threads (``procs_running`` in /proc/stat, the caller included), averaged over ``samples`` readings
    ``interval`` seconds apart. 0.0 where the system does not say."""
    counts = []
    for index in range(samples):
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                for line in stat:
                    if line.startswith("procs_running"):
                        counts.append(int(line.split()[1]))
                        break
        except (OSError, ValueError):
            return 0.0
        if index + 1 < samples:
            time.sleep(interval)
    return max(sum(counts) / len(counts) - 1.0, 0.0) if counts else 0.0


def process_start_seconds(nice: int = 0, wait: bool = True) -> float | None:
    """What a fresh worker process costs before it trains: a Python interpreter importing the training
    loop, timed once per process (a subprocess, ``nice`` steps lower, as the workers run). ``wait=False``:
    None while it is being measured."""

    def measure() -> float:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
        # the child lowers its own priority first, as a worker does (os.nice at its start)
        command = [sys.executable, "-c", f"import os; os.nice({int(nice)}); import ann.train"]
        started = time.perf_counter()
        try:
            subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, timeout=60, capture_output=True)
        except (OSError, subprocess.SubprocessError):
            pass  # the time it took is still what a start costs here
        return time.perf_counter() - started

    return MEASUREMENTS.get(("process start", nice), measure, wait=wait)
