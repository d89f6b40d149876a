"""BLAS threads by kind of work: the machine's peak, and each kind of work at 1 and 2 threads, idle and
with a competing process on the other core.

What it measures, in one process, with every product going through ``ann.blas`` (one BLAS library):

1. **peak**: float32 GEMM of 2,048 x 2,048 x 2,048 at 1 and 2 threads, GFLOP/s (best of 5): the ceiling the
   other figures are read against.
2. **kinds of work** (``ann.blas.WORK_KINDS``), each timed at 1 and 2 threads, alternating, ``--repeats``
   times, the median reported. The kinds:

   - ``sample``: ``Network.train_sequence`` on 3,072 samples of the seed's 784-200-10 (one sample a step);
   - ``batch``: 48 mini-batch steps of 64 (momentum 0.9) of 784-200-10 and of 784-800-800-10 ReLU with
     biases (the Best recipe's network);
   - ``score``: a forward pass over 10,000 images of 784-800-800-10 in batches of 2,000 (as
     ``ann.train.score`` does).

   Each also gets its GFLOP/s (multiply-adds x 2 / seconds) against the peak at the same thread count.
3. the same with a **competing process**: a second Python process spinning on one core for the whole
   measurement (as another worker or another user would), to show that two threads do not collapse.

The defaults in ``ann.blas.DEFAULT_THREADS`` are chosen from these figures (bench/README.md). Writes
bench/out/blas_threads.json.

Run (about a minute)::

    python bench/blas_threads.py
    python bench/blas_threads.py --repeats 7 --no-competitor
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
from _common import median, write_results

from ann import blas
from ann.config import NetworkConfig
from ann.network import Network


def gemm_peak(threads: int, size: int = 2048) -> float:
    """GFLOP/s of one big float32 GEMM through ann's BLAS library (best of 5)."""
    rng = np.random.default_rng(0)
    A = rng.random((size, size), dtype=np.float32)
    B = rng.random((size, size), dtype=np.float32)
    best = float("inf")
    with blas.threads("batch", threads):  # split into ann.blas.PARTS slices, like every large product
        blas.linear(A, B)
        for _ in range(5):
            started = time.perf_counter()
            blas.linear(A, B)
            best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


SETTINGS = ("1 thread", "2 threads")


def make_work(rng: np.random.Generator) -> dict:
    """Each kind of work as (function, flops); ``function()`` runs it once on fresh arrays."""
    X = rng.random((3072, 784), dtype=np.float32)
    labels = rng.integers(0, 10, len(X))

    def sample() -> None:
        net = Network(NetworkConfig(), seed=80)
        net.train_sequence(X, net.targets(labels), 0.1)

    best_config = NetworkConfig(hidden_nodes=(800, 800), activation="relu", loss="cross_entropy",
                                propagate="delta", bias=True)

    def batch_of(config: NetworkConfig, steps: int = 48):
        def run() -> None:
            net = Network(config, seed=80)
            T = net.targets(labels)
            for s in range(steps):
                net.train(X[s * 64:(s + 1) * 64], T[s * 64:(s + 1) * 64], 0.01, 0.9)
        return run

    test = rng.random((10_000, 784), dtype=np.float32)
    scorer = Network(best_config, seed=80)

    def score() -> None:
        for s in range(0, len(test), 2000):
            scorer.query(test[s:s + 2000])

    def train_flops(sizes, n):  # forward, weight gradients, and the errors sent below the first layer
        pairs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
        return 2 * n * (2 * sum(pairs) + sum(pairs[1:]))

    seed_sizes = NetworkConfig().layer_sizes
    best_pairs = sum(a * b for a, b in zip(best_config.layer_sizes[:-1], best_config.layer_sizes[1:]))
    return {
        "sample 784-200-10": (sample, train_flops(seed_sizes, len(X))),
        "batch64 784-200-10": (batch_of(NetworkConfig(propagate="delta")), train_flops(seed_sizes, 48 * 64)),
        "batch64 784-800-800-10": (batch_of(best_config), train_flops(best_config.layer_sizes, 48 * 64)),
        "score 784-800-800-10": (score, 2 * len(test) * best_pairs),
    }


def run_setting(run, setting: str) -> float:
    """Seconds of one run at a setting."""
    with blas.threads("batch", 1 if setting == "1 thread" else 2):
        started = time.perf_counter()
        run()
        return time.perf_counter() - started


def measure(work: dict, repeats: int) -> dict:
    """Each kind of work at each setting, alternating; medians in seconds."""
    results = {}
    for name, (run, flops) in work.items():
        seconds = {setting: [] for setting in SETTINGS}
        for setting in SETTINGS:  # warm-up
            run_setting(run, setting)
        for _ in range(repeats):
            for setting in SETTINGS:
                seconds[setting].append(run_setting(run, setting))
        medians = {setting: median(values) for setting, values in seconds.items()}
        one = medians["1 thread"]
        results[name] = {"median_seconds": medians, "all_seconds": seconds,
                         "gflops": {s: flops / m / 1e9 for s, m in medians.items()},
                         "ratio_to_1_thread": {s: m / one for s, m in medians.items()}}
        print(f"  {name:24s} " + "   ".join(f"{s} {m * 1e3:7.1f} ms ({flops / m / 1e9:5.1f} GF/s, "
                                           f"{m / one:.2f}x)" for s, m in medians.items()), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="BLAS threads by kind of work, idle and with a competitor.")
    parser.add_argument("--repeats", type=int, default=5, help="alternating repeats per thread count")
    parser.add_argument("--no-competitor", action="store_true", help="skip the run with a competing process")
    args = parser.parse_args(argv)

    library = blas.library_info()["library"]
    print(f"BLAS: {library['filepath']} (OpenBLAS {library.get('version')}, {library.get('architecture')}); "
          f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    peak = {threads: gemm_peak(threads) for threads in (1, 2)}
    print(f"peak float32 GEMM 2048^3: {peak[1]:.0f} GFLOP/s at 1 thread, {peak[2]:.0f} at 2")
    work = make_work(np.random.default_rng(0))
    print("idle machine:")
    load_before = os.getloadavg()[0]
    idle = measure(work, args.repeats)
    loaded = None
    if not args.no_competitor:
        print("with a competing process spinning on one core:")
        competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.5)
            loaded = measure(work, args.repeats)
        finally:
            competitor.kill()
            competitor.wait()
    for table in (idle, loaded):
        for r in (table or {}).values():
            r["share_of_peak"] = {s: g / peak[1 if s == "1 thread" else 2] for s, g in r["gflops"].items()}
    path = write_results("blas_threads", {"library": library, "peak_gflops": peak, "idle": idle,
                                          "with_competitor": loaded, "load_average_before": load_before,
                                          "repeats": args.repeats, "defaults": blas.DEFAULT_THREADS})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
