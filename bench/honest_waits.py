"""Honest waits: every estimate the app shows against the real time, with the second core busy.

Starts a busy process (``python -c "while True: pass"``) beside the measured work, then, each as a page
does it:

- t-SNE maps of 500 and 2,000 test images of the default model's last hidden layer (the Hidden-layer map
  page): the time, and the time left its bar showed at 10% and 50% (the t-SNE's own rate);
- the robustness sweeps, every kind of damage on 2,000 test images with the default model (the Robustness
  page): its calibrated estimate against the time;
- a short Train run (the seed preset on 10,000 records, the Train page's default) through the training
  service in a fresh runs folder: the estimate the page shows against the time from Start to its end;
- an Experiments live run (the four error rules, the page's default settings, 5,000 records and 5 epochs):
  the estimate against the time.

Prints each figure as a ratio actual / estimate (honest within 1.5x either way), and writes
bench/out/honest_waits.json, with the load average after each part (the machine is shared: other work on
it slows everything beyond the one busy process). ``--quick`` runs a smaller Train and Experiments run;
``--no-busy`` leaves the second core idle (for comparison); ``--parts`` picks the parts.

    python bench/honest_waits.py --data /work/shared/mnist      # about 3 min on an otherwise quiet machine
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time

import _common  # noqa: F401 -- puts the repository on sys.path
import numpy as np

from ann.config import PRESETS
from ann.data.mnist import load_mnist
from ann.estimates import TimeLeft
from ann.experiments.grid import SweepData, expand_grid
from ann.experiments.sweep import run_sweep
from ann.experiments.timing import sweep_seconds
from ann.lab.hidden_map import last_hidden, tsne
from ann.lab.robustness import PERTURBATIONS, accuracy_curve, sweep_estimate
from ann.model_io import load_model
from ann.models import default_model
from ann.service.pool import TrainingService
from ann.service.records import new_workspace_key
from ann.service.store import RunStore
from ann.train import as_inputs

TSNE_LIMITS = {500: 10.0, 2000: 30.0}  # seconds, with the second core busy (the bar)
HONEST = 1.5  # an estimate within this factor of the real time, either way
PARTS = ("tsne", "sweep", "train", "experiment")


def load() -> str:
    """The machine's load average (1 and 5 minutes): how crowded the cores were, beyond the busy process."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f}, {five:.1f}"


def ratio_text(actual: float, estimate: float) -> str:
    ratio = actual / estimate if estimate > 0 else float("inf")
    verdict = "ok" if 1 / HONEST <= ratio <= HONEST else "OFF"
    return f"actual {actual:6.1f} s, estimate {estimate:6.1f} s, actual/estimate {ratio:4.2f} ({verdict})"


def time_tsne(hidden: np.ndarray) -> dict:
    """One t-SNE with the page's bar logic: what it said at 10% and 50% against the time it took."""
    clock = TimeLeft(None)
    said: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        clock.update(done / total)
        for mark in (0.1, 0.5):
            key = f"total_said_at_{int(mark * 100)}"
            if key not in said and done / total >= mark and clock.total() is not None:
                said[key] = clock.total()

    started = time.perf_counter()
    tsne(hidden, seed=0, progress=progress)
    return {"seconds": time.perf_counter() - started, **said}


def time_sweep(network, images, labels) -> dict:
    estimate = sweep_estimate(network, images, labels, list(PERTURBATIONS))
    started = time.perf_counter()
    for kind, perturbation in PERTURBATIONS.items():
        for level in perturbation.levels:  # one job a level, as the page runs them
            next(accuracy_curve(network, images, labels, kind, [level], seed=0))
    return {"seconds": time.perf_counter() - started, "estimate": estimate}


def time_train_run(data_dir: str, records: int, epochs: int) -> dict:
    preset = PRESETS["seed"]
    training = dataclasses.replace(preset.train, epochs=epochs, limit=records)
    with tempfile.TemporaryDirectory(prefix="honest-waits-runs-") as root:
        store = RunStore(root)
        service = TrainingService(store, data_dir)
        try:
            estimate = service.run_seconds(preset.network, training, records, 10_000)
            workspace = new_workspace_key()
            started = time.perf_counter()
            run = service.submit(workspace, preset.network, training, preset="seed", records=records)
            while store.get_run(workspace, run.id).active:
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            run = store.get_run(workspace, run.id)
        finally:
            service.close()
    return {"seconds": seconds, "estimate": estimate, "status": run.status, "train_seconds": run.train_seconds}


def time_experiment(mnist, records: int, epochs: int) -> dict:
    rules = ["transpose", "transpose_normalized", "equal", "proportional"]
    base = {"learning_rate": 0.1, "epochs": epochs, "limit": records, "rotate": 0.0, "hidden_nodes": (200,)}
    specs = expand_grid([("error_rule", rules)], [80], base)
    data = SweepData(mnist.train.images[:records], mnist.train.labels[:records], mnist.test.images,
                     mnist.test.labels)
    workers = min(2, len(specs))
    estimate = sweep_seconds(specs, records, len(mnist.test.labels), workers)
    started = time.perf_counter()
    result = run_sweep(specs, data, workers=workers)
    return {"seconds": time.perf_counter() - started, "estimate": estimate,
            "finished": sum(r["status"] == "finished" for r in result["runs"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(_common.DEFAULT_DATA_DIR))
    parser.add_argument("--quick", action="store_true", help="a shorter Train and Experiments run")
    parser.add_argument("--no-busy", action="store_true", help="leave the second core idle")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which, comma-separated: {', '.join(PARTS)}")
    args = parser.parse_args()
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"--parts {', '.join(sorted(unknown))}: choose from {', '.join(PARTS)}")

    mnist = load_mnist(args.data)
    shipped = default_model()
    network = load_model(shipped.path).network
    busy = None if args.no_busy else subprocess.Popen([sys.executable, "-c", "while True: pass"])
    results: dict = {"busy_second_core": busy is not None, "model": shipped.name}
    try:
        print(f"{'busy second core' if busy else 'idle second core'}; default model {shipped.name} "
              f"({'-'.join(map(str, network.config.layer_sizes))}); {load()}", flush=True)
        order = np.sort(np.random.default_rng(0).permutation(len(mnist.test.labels))[:2000])
        hidden = last_hidden(network, mnist.test.images[order])
        for n, limit in TSNE_LIMITS.items() if "tsne" in parts else ():
            figures = time_tsne(hidden[:n])
            results[f"tsne_{n}"] = figures
            said = ", ".join(f"bar's total at {k[-2:]}%: {v:.1f} s ({figures['seconds'] / v:.2f})"
                             for k, v in figures.items() if k.startswith("total_said"))
            print(f"t-SNE {n:5,}: {figures['seconds']:5.1f} s (limit {limit:.0f} s: "
                  f"{'ok' if figures['seconds'] <= limit else 'OVER'}); {said}; {load()}", flush=True)

        if "sweep" in parts:
            images, labels = as_inputs(mnist.test.images[order], network.dtype), mnist.test.labels[order]
            results["sweep"] = figures = time_sweep(network, images, labels)
            print(f"robustness sweep, 2,000 images: {ratio_text(figures['seconds'], figures['estimate'])}; "
                  f"{load()}", flush=True)
        if "train" in parts:
            records, epochs = (2000, 2) if args.quick else (10_000, 5)
            results["train"] = figures = time_train_run(args.data, records, epochs)
            print(f"Train run, seed preset, {records:,} records x {epochs} epochs ({figures['status']}): "
                  f"{ratio_text(figures['seconds'], figures['estimate'])}; {load()}", flush=True)
        if "experiment" in parts:
            records, epochs = (2000, 2) if args.quick else (5000, 5)
            results["experiment"] = figures = time_experiment(mnist, records, epochs)
            print(f"Experiments, 4 error rules, {records:,} records x {epochs} epochs: "
                  f"{ratio_text(figures['seconds'], figures['estimate'])}; {load()}", flush=True)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    print(f"wrote {_common.write_results('honest_waits', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
