"""The dashboard's shipped experiments: the seed's error-rule chart and its tuning claims, on full MNIST.

Writes two results files (read by the Experiments page through ``ann.experiments.results.load_results``):

- ``data/experiments_error_rules.json``: the seed's chart. Its configuration exactly (784-200-10 sigmoid,
  lr 0.1, one sample at a time, float32, 5 epochs, every record also rotated by +10 and -10 degrees: the
  seed's full program, which is presumably what drew its chart), once per error rule, from the same seed:
  test accuracy after every epoch.
- ``data/experiments_sweeps.json``: the seed's tuning claims ("200 hidden nodes and lr 0.1 were chosen by
  tuning; 5 epochs, more overfit"), each a sweep with everything else at the seed's values:
  the learning rate over 0.01..0.7 and the hidden layer over 10..800 nodes (5 epochs each, with the
  seed's rotations), and the epochs 1..20 in one run, test accuracy next to the accuracy on 10,000
  training records, with the seed's rotations and, for contrast, without.

Everything trains through ``ann.train.train`` (the product's own loop), as grids of
``ann.experiments.sweep.run_sweep`` whose runs train one at a time in this one process (the machine has 2
cores and is shared). About 20 minutes here (1,275 s on the shared 2-core machine, with others working);
progress goes to stdout. Run in the background::

    nohup python bench/run_experiments.py > bench/out/run_experiments.log 2>&1 &

    python bench/run_experiments.py --only error_rules      # one of the two files
    python bench/run_experiments.py --limit 2000 --out bench/out/smoke   # a quick smoke run
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import DEFAULT_DATA_DIR, REPO_DIR

from ann.config import NetworkConfig, TrainConfig
from ann.data.mnist import load_mnist
from ann.experiments.grid import SweepData
from ann.experiments.results import save_results
from ann.experiments.seed_claims import compare_error_rules, sweep_one_setting

LEARNING_RATES = [0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7]
HIDDEN_NODES = [10, 25, 50, 100, 200, 400, 800]
EPOCHS = list(range(1, 21))

SEED_SETTING = ("The seed's configuration (784-200-10 sigmoid, lr 0.1, one sample at a time, float32, "
                "no bias, initial weights from seed 80, records in file order)")
ROTATIONS = "every record also trained rotated by +10 and -10 degrees, as the seed's full program does"


class Reporter:
    """One progress line per 10% of an experiment (and at its end), with the elapsed time."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.started = time.perf_counter()
        self.next_step = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if fraction >= self.next_step or fraction >= 1.0:
            elapsed = time.perf_counter() - self.started
            print(f"[{time.strftime('%H:%M:%S')}] {self.title} {fraction:6.1%} {elapsed:7.1f} s  {message}",
                  flush=True)
            self.next_step = fraction + 0.1


def run_error_rules(mnist, out_dir: Path, limit: int | None) -> None:
    config = TrainConfig(limit=limit)  # the seed's: lr 0.1, 5 epochs, batch 1, rotations +-10
    data = SweepData(mnist.train.images, mnist.train.labels, mnist.test.images, mnist.test.labels)
    results = compare_error_rules(data, config, NetworkConfig(), progress=Reporter("error rules"))
    results["note"] = (f"{SEED_SETTING}, 5 epochs, {ROTATIONS}; only the error rule changes. Rules: "
                       "transpose = W^T.E (the seed's blue line, its choice), transpose_normalized = W^T.E/N "
                       "(red), equal = error split equally over the N links (yellow), proportional = split "
                       "by each weight's share of the absolute weights (green). test_accuracy on the 10,000 "
                       "test images after each epoch; train_loss is the running loss over the epoch's samples.")
    path = save_results(out_dir / "experiments_error_rules.json", results)
    finals = ", ".join(f"{s['rule']} {s['test_accuracy'][-1]:.4f}" for s in results["series"])
    print(f"wrote {path} ({results['seconds_total']:.0f} s): {finals}", flush=True)


def run_sweeps(mnist, out_dir: Path, limit: int | None) -> None:
    data = SweepData(mnist.train.images, mnist.train.labels, mnist.test.images, mnist.test.labels)
    seed_train = TrainConfig(limit=limit)
    plan = [
        ("learning_rate", "learning_rate", LEARNING_RATES, seed_train,
         f"{SEED_SETTING}, 5 epochs, {ROTATIONS}; the learning rate varies. final_test_accuracy after 5 "
         "epochs."),
        ("hidden_nodes", "hidden_nodes", HIDDEN_NODES, seed_train,
         f"{SEED_SETTING}, 5 epochs, {ROTATIONS}; the hidden layer's size varies. final_test_accuracy "
         "after 5 epochs."),
        ("epochs", "epochs", EPOCHS, seed_train,
         f"{SEED_SETTING}, {ROTATIONS}; one run of 20 epochs, scored after every epoch on the test set "
         "(test_accuracy) and, with a clean forward pass, on the first 10,000 training records "
         "(train_accuracy). Overfitting shows where train_accuracy keeps rising while test_accuracy stalls "
         "or falls."),
        ("epochs_no_rotation", "epochs", EPOCHS, TrainConfig(rotate=0.0, limit=limit),
         f"{SEED_SETTING}, without the rotations (each record once per epoch), for contrast with the "
         "rotated run: one run of 20 epochs, test_accuracy and train_accuracy (first 10,000 training "
         "records, clean forward pass) after every epoch."),
    ]
    collected = []
    started = time.perf_counter()
    for name, parameter, values, train_config, note in plan:
        result = sweep_one_setting(data, parameter, values, train_config, NetworkConfig(), progress=Reporter(name))
        result = {"name": name, **result, "note": note}
        collected.append(result)
        # Saved after every sweep, so an interrupted run still leaves the finished sweeps behind.
        path = save_results(out_dir / "experiments_sweeps.json", {
            "kind": "sweeps",
            "note": "Sweeps over the seed's tuning choices (lr 0.1, 200 hidden nodes, 5 epochs), each varying "
                    "one setting with the rest at the seed's values; see each sweep's note.",
            "seconds_total": time.perf_counter() - started,
            "sweeps": collected,
        })
        finals = ", ".join(f"{v}: {a:.4f}" for v, a in zip(result["values"], result["final_test_accuracy"]))
        print(f"wrote {path} with {name} ({result['seconds_total']:.0f} s): {finals}", flush=True)
        if "train_accuracy" in result["series"][0]:
            train_acc = ", ".join(f"{a:.4f}" for a in result["series"][0]["train_accuracy"])
            print(f"  train accuracy per epoch: {train_acc}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compute the dashboard's shipped experiment results.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="MNIST IDX folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "data", help="output folder (default: %(default)s)")
    parser.add_argument("--only", choices=("error_rules", "sweeps"), help="compute only one of the two files")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N records (smoke runs)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    mnist = load_mnist(args.data, download=False)
    if args.only in (None, "error_rules"):
        run_error_rules(mnist, args.out, args.limit)
    if args.only in (None, "sweeps"):
        run_sweeps(mnist, args.out, args.limit)
    print(f"total {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
