"""What a run's live points cost: a run trained by the training service's own loop
(``ann.service.worker.train_run``, into a temporary run store, as a worker trains it) with its live points
and without, back to back.

With points, the loop stops every 2% of an epoch to score the run's slice of the test set, and the worker
writes the points and the network's view (the fixed digits' answers, a few nodes' weights) to the store
with its progress reports; everything else (progress, checkpoints, the test set after each epoch) is the
same in both. The figure is the ratio of the two, as process CPU time (what the run takes from a shared
machine) and as wall time; each repeat runs without, with, without, and compares the middle run with the
mean of the two around it: medians over the repeats; and the quickest run with points against the quickest
without (the least disturbed of each, as ``timeit`` takes). On a shared machine one run's CPU time varies by
10-20% from the next (caches, the other core's work), more than the points cost; so the script also times
the points' own code in the run with them (scoring the slice, the worker's keeping and writing of the
points and the view), as a share of the runs without: the direct cost, steadier than the ratios.

    python bench/live_points.py [--data DIR] [--repeats 5] [--cases seed:10000 fast:10000 seed:60000]

A case is ``preset:records`` and trains one epoch. The issue's limit: at most 5% more, on the seed's
network with 10,000 records too (``seed:10000``, the default's first case).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from _common import DEFAULT_DATA_DIR, write_results

import ann.train
from ann.config import PRESETS
from ann.data.named import load_named
from ann.service.records import RunStatus
from ann.service.store import RunStore
from ann.service.worker import PointsOut, train_run

WORKSPACE = "bench-live-points-workspace"


POINT_CODE = ((ann.train._Watch, "point"), (PointsOut, "point"), (PointsOut, "take"), (RunStore, "_write_points"))
inside_points = [0.0]  # process seconds spent in POINT_CODE
slice_images = [0]  # the slice's size in the last run with points


def timed(method: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            inside_points[0] += time.process_time() - started
    return wrapper


def slice_seen(method: Callable) -> Callable:
    def wrapper(self, point, outputs):
        slice_images[0] = len(outputs)
        return method(self, point, outputs)
    return wrapper


def one_run(store: RunStore, dataset, preset: str, records: int, live_points: bool) -> tuple[float, float, int]:
    """(process seconds, wall seconds, points recorded) of one epoch of ``preset`` on ``records`` records."""
    train_config = dataclasses.replace(PRESETS[preset].train, epochs=1, limit=records)
    run = store.submit(WORKSPACE, PRESETS[preset].network, train_config, records=records, status=RunStatus.RUNNING,
                       worker="bench:0")
    cpu, wall = time.process_time(), time.perf_counter()
    status = train_run(store, run, dataset, live_points=live_points)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if status != RunStatus.FINISHED:
        raise RuntimeError(f"the bench's run ended {status}")
    points = len(store.points(store.get_run(WORKSPACE, run.id)))
    store.delete(WORKSPACE, run.id)
    return cpu, wall, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", nargs="+", default=["seed:10000", "fast:10000", "seed:60000"])
    args = parser.parse_args()
    os.environ.setdefault("ANN_BLAS_THREADS", "1")  # as the service's workers train on a 2-core server
    for owner, name in POINT_CODE:
        wrapped = timed(getattr(owner, name))
        static = isinstance(inspect.getattr_static(owner, name), staticmethod)
        setattr(owner, name, staticmethod(wrapped) if static else wrapped)
    PointsOut.point = slice_seen(PointsOut.point)
    dataset = load_named("mnist", args.data, mapped=True)
    results = {}
    with tempfile.TemporaryDirectory() as root:
        store = RunStore(root)
        for case in args.cases:
            preset, records = case.split(":")
            records = int(records)
            one_run(store, dataset, preset, records, True)  # warm-up: imports, the data's pages, the store
            cpu_ratios, wall_ratios, shares, rows = [], [], [], []
            for _ in range(args.repeats):
                before = one_run(store, dataset, preset, records, False)
                inside_points[0] = 0.0
                with_points = one_run(store, dataset, preset, records, True)
                inside = inside_points[0]
                after = one_run(store, dataset, preset, records, False)
                cpu_ratios.append(with_points[0] / ((before[0] + after[0]) / 2))
                wall_ratios.append(with_points[1] / ((before[1] + after[1]) / 2))
                shares.append(inside / ((before[0] + after[0]) / 2))
                rows.append({"without": [round(before[0], 3), round(after[0], 3)], "with": round(with_points[0], 3),
                             "inside_points": round(inside, 4), "points": with_points[2]})
                print(f"{case}: CPU without {before[0]:.2f}/{after[0]:.2f} s, with {with_points[0]:.2f} s "
                      f"({with_points[2]} points, {inside * 1e3:.0f} ms in their code: {shares[-1]:.1%}): "
                      f"{cpu_ratios[-1]:.3f}x; wall {wall_ratios[-1]:.3f}x", flush=True)
            quickest = (min(r["with"] for r in rows) / min(min(r["without"]) for r in rows))
            results[case] = {"cpu_ratio": statistics.median(cpu_ratios), "wall_ratio": statistics.median(wall_ratios),
                             "quickest_cpu_ratio": quickest,
                             "direct_share": statistics.median(shares),
                             "points": rows[-1]["points"],
                             "slice_images": slice_images[0],
                             "runs": rows}
            print(f"{case}: median {results[case]['cpu_ratio']:.3f}x CPU, {results[case]['wall_ratio']:.3f}x wall, "
                  f"quickest {quickest:.3f}x CPU, "
                  f"{results[case]['direct_share']:.1%} in the points' code; "
                  f"{results[case]['points']} points, a slice of {results[case]['slice_images']} test images\n",
                  flush=True)
    path = write_results("live_points", {"cases": results, "repeats": args.repeats})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
