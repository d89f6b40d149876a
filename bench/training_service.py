"""The training service (``ann.service.worker``): threads or processes, and what the pool costs against the CLI.

Two measurements, each written to bench/out/training_service.json:

1. **Threads or processes.** The same queue of runs (the seed's network, per-sample, ``--records`` records,
   ``--epochs`` epochs each) is trained by ``--workers`` training *threads* inside this process, then by the
   service's worker *processes*. Meanwhile this process's main thread plays the dashboard's server
   answering a visitor: every 0.25 s it reads a drawing the way the Draw page does (``ann.data.preprocess`` on a
   280x280 canvas image, then the network's answer) and times it. Reported for each: the visitor's answer
   times (median, 95th percentile, worst), the wall time for the whole queue, the peak memory of this process
   and its children (the sum of their RSS, and of their PSS, which counts shared pages once), and the time
   from submitting a run to its first progress (a worker's start-up included).
2. **The pool against the CLI.** The same runs trained one after another by ``python -m ann train`` (each a
   new process, as a user would) against the service with ``--workers`` workers, and with one worker (its
   own overhead: claiming, progress and checkpoint writes, the worker's start-up). Target: the pool at
   most 1.1x the CLI's time.

Run (a few minutes)::

    python bench/training_service.py
    python bench/training_service.py --runs 6 --records 20000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import DEFAULT_DATA_DIR, OUT_DIR, REPO_DIR, tree_memory, write_results

from ann.config import NetworkConfig, TrainConfig
from ann.service.pool import TrainingService
from ann.service.records import new_workspace_key
from ann.service.store import RunStore
from ann.service.worker import load_dataset, train_run


class MemorySampler(threading.Thread):
    def __init__(self, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.peak_rss = self.peak_pss = 0.0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.every):
            rss, pss, _ = tree_memory(os.getpid())
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)

    def stop(self) -> tuple[float, float]:
        self.stop_event.set()
        self.join()
        return self.peak_rss, self.peak_pss


def visitor_drawing():
    """A canvas image as the Draw page receives it (RGBA, 280x280, a thick stroke) and the model to read it."""
    import numpy as np

    from ann.model_io import load_model

    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[40:240, 125:155, :3] = 255
    canvas[40:240, 125:155, 3] = 255
    return canvas, load_model(REPO_DIR / "data" / "pretrained.npz").network


def answer(canvas, network) -> float:
    from ann.data.prepare import prepare

    started = time.perf_counter()
    x, _ = prepare(canvas, dtype=network.dtype)
    network.query(x)
    return time.perf_counter() - started


def submit_queue(store: RunStore, n: int, records: int, epochs: int) -> list[tuple[str, str]]:
    submitted = []
    for _ in range(n):
        key = new_workspace_key()  # one visitor each, as in a classroom
        run = store.submit(key, NetworkConfig(), TrainConfig(epochs=epochs, limit=records), records=records)
        submitted.append((key, run.id))
    return submitted


def wait_all(store: RunStore, submitted, canvas, network, timeout: float) -> dict:
    """Play the visitor until every run has ended; returns latencies and first-progress times."""
    latencies, first_progress = [], {}
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        runs = [store.get_run(k, i) for k, i in submitted]
        for run in runs:
            if run.id not in first_progress and (run.progress_done or run.epochs_done):
                first_progress[run.id] = time.perf_counter() - started
        if all(not r.active for r in runs):
            break
        scheduled = time.perf_counter()
        answer(canvas, network)
        latencies.append(time.perf_counter() - scheduled)
        time.sleep(max(0.25 - (time.perf_counter() - scheduled), 0.0))
    runs = [store.get_run(k, i) for k, i in submitted]
    return {"wall_seconds": time.perf_counter() - started, "latencies": latencies, "runs": runs,
            "first_progress": sorted(first_progress.values())}


def summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    return {"answers": len(ordered), "median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def with_threads(data_dir: Path, n: int, records: int, epochs: int, workers: int, canvas, network) -> dict:
    store = RunStore(Path(tempfile.mkdtemp(prefix="bench_threads_")))
    sampler = MemorySampler()
    sampler.start()
    submitted = submit_queue(store, n, records, epochs)

    def worker() -> None:
        dataset = load_dataset(data_dir)
        while True:
            run = store.claim()
            if run is None:
                return
            train_run(store, run, dataset)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    result = wait_all(store, submitted, canvas, network, timeout=3600)
    for thread in threads:
        thread.join()
    result["peak_rss_mb"], result["peak_pss_mb"] = sampler.stop()
    return result


def with_processes(data_dir: Path, n: int, records: int, epochs: int, workers: int, canvas, network) -> dict:
    store = RunStore(Path(tempfile.mkdtemp(prefix="bench_processes_")))
    sampler = MemorySampler()
    sampler.start()
    service = TrainingService(store, data_dir, workers=workers)
    try:
        submitted = submit_queue(store, n, records, epochs)
        service.wake()
        result = wait_all(store, submitted, canvas, network, timeout=3600)
    finally:
        service.close()
    result["peak_rss_mb"], result["peak_pss_mb"] = sampler.stop()
    return result


def cli_one_after_another(data_dir: Path, n: int, records: int, epochs: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO_DIR))
    started = time.perf_counter()
    for i in range(n):
        subprocess.run([sys.executable, "-m", "ann", "train", "--data", str(data_dir), "--limit", str(records),
                        "--epochs", str(epochs), "--out", str(OUT_DIR / f"service_cli_{i}.npz"), "--json"],
                       cwd=REPO_DIR, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def pool_only(data_dir: Path, n: int, records: int, epochs: int, workers: int) -> float:
    store = RunStore(Path(tempfile.mkdtemp(prefix="bench_pool_")))
    service = TrainingService(store, data_dir, workers=workers)
    try:
        started = time.perf_counter()
        submitted = submit_queue(store, n, records, epochs)
        service.wake()
        while any(store.get_run(k, i).active for k, i in submitted):
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        assert all(store.get_run(k, i).status == "finished" for k, i in submitted)
        return elapsed
    finally:
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    canvas, network = visitor_drawing()
    answer(canvas, network)  # imports and first-call costs out of the way

    print(f"load before: {os.getloadavg()}")
    results: dict = {"settings": vars(args) | {"data": str(args.data)}}
    idle = [answer(canvas, network) for _ in range(20)]
    results["visitor_idle"] = summary(idle)
    print(f"visitor alone: {results['visitor_idle']}")
    for mode, fn in (("threads", with_threads), ("processes", with_processes)):
        outcome = fn(args.data, args.runs, args.records, args.epochs, args.workers, canvas, network)
        statuses = [r.status for r in outcome["runs"]]
        results[mode] = {"wall_seconds": round(outcome["wall_seconds"], 2), "visitor": summary(outcome["latencies"]),
                         "peak_rss_mb": round(outcome["peak_rss_mb"]), "peak_pss_mb": round(outcome["peak_pss_mb"]),
                         "first_progress_seconds": [round(t, 2) for t in outcome["first_progress"]],
                         "all_finished": statuses == ["finished"] * args.runs}
        print(f"{mode}: {results[mode]}")

    cli = cli_one_after_another(args.data, args.runs, args.records, args.epochs)
    pool = pool_only(args.data, args.runs, args.records, args.epochs, args.workers)
    single = pool_only(args.data, args.runs, args.records, args.epochs, 1)
    cli_again = cli_one_after_another(args.data, args.runs, args.records, args.epochs)
    cli_mean = (cli + cli_again) / 2
    results["pool_vs_cli"] = {
        "cli_one_after_another_seconds": [round(cli, 2), round(cli_again, 2)],
        f"pool_{args.workers}_workers_seconds": round(pool, 2), "pool_1_worker_seconds": round(single, 2),
        "ratio_pool_to_cli": round(pool / cli_mean, 3), "ratio_1_worker_to_cli": round(single / cli_mean, 3)}
    print(f"pool vs CLI: {results['pool_vs_cli']}")
    print(f"load after: {os.getloadavg()}")
    print(f"written to {write_results('training_service', results)}")


if __name__ == "__main__":
    main()
