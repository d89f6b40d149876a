"""How long a local sweep takes on this server: its runs measured (:mod:`ann.estimates`), dealt to the
workers, and its own start measured once with a sweep of tiny runs. The Experiments page's estimates."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ann.blas import available_cores
from ann.estimates import MEASUREMENTS, core_share, others_running, training_seconds, training_speed
from ann.experiments.grid import RunSpec, SweepData, expand_grid
from ann.experiments.sweep import run_sweep

__all__ = ["sweep_seconds", "sweep_start_seconds"]


def sweep_start_seconds(workers: int, wait: bool = True) -> float | None:
    """What a local sweep costs besides its runs' training: ``workers`` fresh processes started side by
    side, the data handed to them, the results gathered. Measured once per process for each worker count
    (:data:`ann.estimates.MEASUREMENTS`), with a sweep of ``workers`` tiny runs (one epoch of 64 synthetic
    records each). ``wait=False``: None while it is being measured."""

    def measure() -> float:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (64, 784), dtype=np.uint8)
        labels = rng.integers(0, 10, 64)
        specs = expand_grid([("learning_rate", [0.1 + 0.01 * k for k in range(workers)])], [0],
                            {"epochs": 1, "rotate": 0.0, "hidden_nodes": (10,)})
        started = time.perf_counter()
        run_sweep(specs, SweepData(images, labels, images, labels), workers=workers)
        return time.perf_counter() - started

    return MEASUREMENTS.get(("sweep start", workers), measure, wait=wait)


def sweep_seconds(specs: Sequence[RunSpec], records: int, test_images: int, workers: int,
                  others: float | None = None, wait: bool = True) -> float | None:
    """Calibrated seconds for a sweep on local processes (:func:`run_sweep`).

    Each run's training and scoring at this server's measured speed (:func:`ann.estimates.training_seconds`,
    one thread, as the workers train), the runs dealt to ``workers`` processes longest first, slowed by how
    much less of a core each worker gets than the one-thread calibration did, with ``others`` threads
    running beside them (default: :func:`ann.estimates.others_running`, now): beside one busy process on
    two cores, two workers get two thirds of a core each. Plus the sweep's own start
    (:func:`sweep_start_seconds`).

    ``records``: the training records each run gets (its limit applied); ``test_images``: the test set's size.
    ``wait=False``: None while any of these is being measured (every one missing is asked for at once, in
    the background).
    """
    runs: list[float | None] = []
    for spec in specs:
        seconds = training_seconds(spec.network, spec.train, min(records, spec.train.limit or records),
                                   test_images, threads=1, wait=wait)
        if seconds is not None and spec.train_eval_records:
            per_image = training_speed(spec.network, spec.train, threads=1).seconds_per_test_image
            seconds += spec.train.epochs * spec.train_eval_records * per_image
        runs.append(seconds)
    loads = [0.0] * max(min(workers, len(runs)), 1)
    start = sweep_start_seconds(len(loads), wait=wait)
    if start is None or None in runs:
        return None
    for seconds in sorted(runs, reverse=True):
        loads[loads.index(min(loads))] += seconds
    others = others_running() if others is None else others
    cores = available_cores()
    slowdown = core_share(1, others, cores) / core_share(len(loads), others, cores)
    return max(loads) * slowdown + start
