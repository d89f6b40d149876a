"""Seed versus ann: the seed blog's own program against ``python -m ann train`` with the seed's settings.

The requirements: the seed's program (784-200-10 sigmoid, lr 0.1, one sample at a time, 5 epochs, every
record also rotated by +10 and -10 degrees) took 75-82 s per epoch and scored 96.61%; ``ann`` with the same
configuration must reach at least that accuracy and run at least 5 times faster (the first issue), and
since issue #10 at least 12 times faster (same math, float32 allowed; the float64 path stays within 1e-10
of the seed's class, which tests/test_network.py checks).

What it measures, back to back in one run (the machine is shared, so only the ratios are meaningful):

1. ``same math``: the seed's program (bench/seed_program.py) and ``ann.train.train`` in float64 each
   train on the first ``--check-records`` records for one epoch from the same seed; the largest absolute
   difference between their weights (float64: expected ~1e-15, i.e. the same arithmetic; float32 too).
2. the seed's program for ``--seed-epochs`` epochs (default 1): seconds per epoch, CSV parsing per record
   included as the seed does it; its test accuracy only when it ran the full 5 epochs (otherwise the
   issue's 96.61% is the reference).
3. ``python -m ann train`` with the seed's defaults (float32, then ``--dtype float64``) in a subprocess:
   ``train_seconds / epochs`` and ``test_accuracy`` from its ``--json`` line.
4. with ``--before REF``: the same float32 run with ``ann`` as it was at commit REF (extracted by ``git
   archive`` into bench/out/), right after this tree's, to show the per-sample path's speed before and after.

It prints seconds per epoch, the speed ratios seed/ann and the accuracies, and writes
bench/out/seed_vs_ann.json. The seed needs the full CSV files: they are written once into bench/out/ from
the IDX files with ``ann.data.csv_files.write_csv``.

Run (about 2 minutes per seed epoch plus about 1-2 minutes per ann run here)::

    python bench/seed_vs_ann.py                  # 1 seed epoch
    python bench/seed_vs_ann.py --seed-epochs 5  # the seed's full program, its accuracy measured too
    python bench/seed_vs_ann.py --before 7aa5e39 # ann before issue #10's per-sample work, timed too
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import seed_program
from _common import DEFAULT_DATA_DIR, OUT_DIR, checkout, run_ann_train, write_results

SEED_EPOCHS = 5
SEED_REFERENCE_ACCURACY = 96.61  # the figure for the seed's program (5 epochs)
SEED_REFERENCE_SECONDS = (75.0, 82.0)  # the seconds per epoch for it
REQUIRED_SPEEDUP = 12.0  # issue #10 (the first issue asked for 5)


def ensure_csv(data_dir: Path) -> tuple[Path, Path]:
    """bench/out/mnist_train.csv and mnist_test.csv in the seed's format, written once from the IDX files."""
    from ann.data.csv_files import write_csv
    from ann.data.mnist import load_mnist

    train_csv, test_csv = OUT_DIR / "mnist_train.csv", OUT_DIR / "mnist_test.csv"
    if not (train_csv.exists() and test_csv.exists()):
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        mnist = load_mnist(data_dir, download=False)
        write_csv(train_csv, mnist.train)
        write_csv(test_csv, mnist.test)
    return train_csv, test_csv


def same_math(train_csv: Path, test_csv: Path, data_dir: Path, records: int) -> dict:
    """Largest weight difference between the seed's program and ann after ``records`` records, 1 epoch."""
    from ann.config import NetworkConfig, TrainConfig
    from ann.data.mnist import load_mnist
    from ann.network import Network
    from ann.train import fit

    seed_net, _, _ = seed_program.run(train_csv, test_csv, epochs=1, limit=records)
    mnist = load_mnist(data_dir, download=False)
    out = {"records": records}
    for dtype in ("float64", "float32"):
        net = Network(NetworkConfig(dtype=dtype), seed=80)
        fit(net, mnist.train.images, mnist.train.labels, TrainConfig(epochs=1, limit=records))
        out[f"max_abs_weight_difference_{dtype}"] = max(
            float(np.max(np.abs(net.weights[0] - seed_net.wih))),
            float(np.max(np.abs(net.weights[1] - seed_net.who))))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The seed's program against python -m ann train, same settings.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="MNIST IDX folder (default: %(default)s)")
    parser.add_argument("--seed-epochs", type=int, default=1,
                        help="epochs of the seed's program to time (its accuracy is measured only at 5)")
    parser.add_argument("--ann-epochs", type=int, default=SEED_EPOCHS, help="epochs for ann (the seed's: 5)")
    parser.add_argument("--check-records", type=int, default=1000,
                        help="records for the same-math check (0 skips it)")
    parser.add_argument("--before", metavar="REF", default=None,
                        help="also time the float32 run with ann as it was at this commit (before/after)")
    args = parser.parse_args(argv)
    if args.seed_epochs < 1:
        parser.error("--seed-epochs must be at least 1")

    train_csv, test_csv = ensure_csv(args.data)
    results: dict = {"seed_epochs": args.seed_epochs, "ann_epochs": args.ann_epochs}

    if args.check_records:
        results["same_math"] = same_math(train_csv, test_csv, args.data, args.check_records)
        print(f"same math after {args.check_records} records: max |W_ann - W_seed| = "
              f"{results['same_math']['max_abs_weight_difference_float64']:.2e} (float64), "
              f"{results['same_math']['max_abs_weight_difference_float32']:.2e} (float32)", flush=True)

    print(f"seed's program, {args.seed_epochs} epoch(s) ...", flush=True)
    _, seed_seconds, seed_performance = seed_program.run(
        train_csv, test_csv, epochs=args.seed_epochs,
        on_epoch=lambda e, s: print(f"  seed epoch {e + 1}: {s:.1f} s", flush=True))
    seed_per_epoch = float(np.median(seed_seconds))
    results["seed"] = {
        "seconds_per_epoch": seed_seconds,
        "median_seconds_per_epoch": seed_per_epoch,
        "test_accuracy_percent": float(seed_performance) if args.seed_epochs == SEED_EPOCHS else None,
        "test_accuracy_percent_after_run": float(seed_performance),
        "reference_test_accuracy_percent": SEED_REFERENCE_ACCURACY,
    }

    for dtype in ("float32", "float64"):
        print(f"python -m ann train --dtype {dtype} --epochs {args.ann_epochs} ...", flush=True)
        started = time.perf_counter()
        result = run_ann_train(["--dtype", dtype, "--epochs", str(args.ann_epochs)], args.data,
                               OUT_DIR / f"seed_vs_ann_{dtype}.npz")
        per_epoch = result["train_seconds"] / args.ann_epochs
        results[f"ann_{dtype}"] = {
            "seconds_per_epoch": [m["seconds"] for m in result["epochs"]],
            "mean_seconds_per_epoch": per_epoch,
            "test_accuracy_percent": result["test_accuracy"] * 100,
            "wall_seconds": time.perf_counter() - started,
            "speedup_vs_seed": seed_per_epoch / per_epoch,
        }
        print(f"  {per_epoch:.2f} s/epoch, {result['test_accuracy'] * 100:.2f}%", flush=True)

    if args.before:
        tree = checkout(args.before)
        print(f"python -m ann train --dtype float32 --epochs {args.ann_epochs} with ann at {args.before} ...",
              flush=True)
        result = run_ann_train(["--dtype", "float32", "--epochs", str(args.ann_epochs)], args.data,
                               OUT_DIR / "seed_vs_ann_before.npz", repo=tree)
        per_epoch = result["train_seconds"] / args.ann_epochs
        results["ann_float32_before"] = {
            "ref": args.before,
            "seconds_per_epoch": [m["seconds"] for m in result["epochs"]],
            "mean_seconds_per_epoch": per_epoch,
            "test_accuracy_percent": result["test_accuracy"] * 100,
            "speedup_vs_seed": seed_per_epoch / per_epoch,
        }
        print(f"  {per_epoch:.2f} s/epoch, {result['test_accuracy'] * 100:.2f}%", flush=True)

    seed_acc = results["seed"]["test_accuracy_percent"]
    print()
    print(f"{'':22}{'s/epoch':>10}{'speed-up':>10}{'test accuracy':>16}")
    acc_text = (f"{seed_acc:.2f}%" if seed_acc is not None
                else f"({SEED_REFERENCE_ACCURACY:.2f}%)*")
    print(f"{'seed program':22}{seed_per_epoch:10.1f}{1.0:9.2f}x{acc_text:>16}")
    rows = [("ann float32", "ann_float32"), ("ann float64", "ann_float64")]
    if args.before:
        rows.append((f"ann float32 @{args.before}", "ann_float32_before"))
    for label, key in rows:
        r = results[key]
        print(f"{label:22}{r['mean_seconds_per_epoch']:10.2f}{r['speedup_vs_seed']:9.2f}x"
              f"{r['test_accuracy_percent']:15.2f}%")
    if seed_acc is None:
        print(f"* the seed ran {args.seed_epochs} epoch(s), not 5: {SEED_REFERENCE_ACCURACY}% is the issue's "
              f"figure for its 5 epochs (after {args.seed_epochs}: {seed_performance:.2f}%)")
    r32 = results["ann_float32"]
    reference = seed_acc if seed_acc is not None else SEED_REFERENCE_ACCURACY
    results["requirement"] = {
        "speedup_at_least": REQUIRED_SPEEDUP,
        "speedup_float32": r32["speedup_vs_seed"],
        "accuracy_at_least_percent": reference,
        "met": bool(r32["speedup_vs_seed"] >= REQUIRED_SPEEDUP and r32["test_accuracy_percent"] >= reference),
    }
    print(f"requirement (>= {REQUIRED_SPEEDUP:g}x faster, >= {reference:.2f}%): "
          f"{'met' if results['requirement']['met'] else 'NOT met'}")
    print(f"results: {write_results('seed_vs_ann', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
