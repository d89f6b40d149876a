"""The Best recipe, ann against PyTorch 2.13 (CPU), side by side in one run: time to 99.3% test accuracy.

Both train exactly the same thing:

- network: ``PRESETS["best"]``, 784-800-800-10 ReLU, biases, softmax with cross-entropy, float32, from the
  same initial weights (ann's, copied into torch);
- data: every epoch the same shuffled order and the same randomly distorted arrays (rotation, shift, and
  elastic distortion on half the records): each side draws them with ``ann.train.random_variant`` from
  its own ``np.random.default_rng(seed)``, chunk by chunk in the same order as ann's loop (ann computes
  a chunk's distortions on its two threads just before training it; the torch loop here computes the
  next chunk's on a thread of its own while the previous one trains, which suits torch's one thread);
- optimiser and schedule: SGD with momentum 0.9 in ann's form (``v = 0.9 v - lr * grad; w += v``), the
  gradient averaged over the recipe's batches (256 since issue #10), the learning rate ``ann.train.learning_rate_at`` (1 warm-up epoch,
  then cosine) at every batch.

So they must learn alike (their test accuracies agree to a few hundredths of a percent, rounding apart),
and only the time differs. The sides alternate epoch by epoch (ann's epoch 1, torch's epoch 1, ann's
epoch 2, ...), so a busy spell on the shared machine hits both. Each side's seconds are training only
(its test scoring after each epoch is not timed). torch runs at its own best thread count, chosen by a
short probe of 1 and 2 threads before the run; ann at its default (every core; ``--ann-threads``).

Prints, per epoch, both test accuracies and cumulative seconds; then each side's time to ``--target``
(the first epoch at or above it) and the ratio; writes bench/out/best_vs_torch.json.

Run (about 8-12 minutes here; needs ``pip install -r bench/requirements.txt``)::

    python bench/best_vs_torch.py
    python bench/best_vs_torch.py --epochs 3 --limit 10000     # a quick look
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from _common import DEFAULT_DATA_DIR, median, write_results

TARGET = 0.993
def chunk_records(batch: int) -> int:
    """Records per augmentation chunk, as ann.train draws them (1,024 rounded down to whole batches)."""
    from ann.train import _CHUNK_RECORDS

    return max(_CHUNK_RECORDS // batch, 1) * batch


def torch_best_threads(initial, X, T, batch: int, probe_steps: int = 40) -> tuple[int, dict]:
    """torch's faster thread count (1 or 2) on the recipe's step: median of 3 alternating probes each."""
    import torch

    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(3):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            model, velocity = torch_model(initial)
            started = time.perf_counter()
            for s in range(probe_steps):
                torch_step(model, velocity, X[s * batch:(s + 1) * batch], T[s * batch:(s + 1) * batch], 0.01, 0.9)
            times[threads].append(time.perf_counter() - started)
    medians = {t: median(v) for t, v in times.items()}
    return min(medians, key=medians.get), medians


def torch_model(initial):
    """784-800-800-10 ReLU with biases, ann's initial weights (ann's biases start at zero)."""
    import torch

    layers = []
    for i, W in enumerate(initial):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.zero_()
        layers.append(linear)
        if i < len(initial) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    velocity = [torch.zeros_like(p) for p in model.parameters()]
    return model, velocity


def torch_step(model, velocity, xb, tb, lr: float, momentum: float) -> None:
    """One step in ann's form: v = momentum v - lr grad (mean over the batch), w += v."""
    import torch

    xb, tb = torch.from_numpy(xb), torch.from_numpy(tb)
    loss = torch.nn.functional.cross_entropy(model(xb), tb)
    model.zero_grad(set_to_none=True)
    loss.backward()
    with torch.no_grad():
        for p, v in zip(model.parameters(), velocity):
            v.mul_(momentum).sub_(p.grad, alpha=lr)
            p.add_(v)


def torch_epochs(initial, images, labels, config, test_x, test_y, seed: int):
    """The recipe in PyTorch, one epoch per ``next()``: yields (seconds, test accuracy)."""
    import torch

    from ann.train import as_inputs, learning_rate_at, random_variant

    model, velocity = torch_model(initial)
    rng = np.random.default_rng(seed)
    n = len(images)
    chunk = chunk_records(config.batch_size)
    with ThreadPoolExecutor(1) as prefetch:
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            order = rng.permutation(n)
            ahead = None
            for start in range(0, n, chunk):
                idx = order[start:start + chunk]
                distorted = ahead.result() if ahead is not None else random_variant(
                    as_inputs(images[idx], np.float32), rng, config)
                ahead = None
                if start + chunk < n:
                    ahead = prefetch.submit(random_variant, as_inputs(images[order[start + chunk:start + 2 * chunk]],
                                                                      np.float32), rng, config)
                y = labels[idx].astype(np.int64)
                for b in range(0, len(idx), config.batch_size):
                    lr = learning_rate_at(config, epoch - 1 + (start + b) / n)
                    torch_step(model, velocity, distorted[b:b + config.batch_size], y[b:b + config.batch_size],
                               lr, config.momentum)
            seconds = time.perf_counter() - started
            with torch.no_grad():
                predicted = model(torch.from_numpy(test_x)).argmax(dim=1).numpy()
            yield seconds, float(np.mean(predicted == test_y))


def first_at(accuracies: list[float], seconds: list[float], target: float) -> tuple[int | None, float | None]:
    total = 0.0
    for epoch, (a, s) in enumerate(zip(accuracies, seconds), start=1):
        total += s
        if a >= target:
            return epoch, total
    return None, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The Best recipe: ann against PyTorch, epoch by epoch.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="MNIST IDX folder (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=None, help="fewer epochs (the schedule shrinks with them)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N records only")
    parser.add_argument("--target", type=float, default=TARGET, help="test accuracy to reach (default 0.993)")
    parser.add_argument("--ann-threads", type=int, default=None, help="ann's threads (default: its own)")
    args = parser.parse_args(argv)

    import torch

    from ann import blas
    from ann.config import PRESETS
    from ann.data import load_mnist, scale_inputs
    from ann.network import Network
    from ann.train import train

    preset = PRESETS["best"]
    config = preset.train
    if args.epochs:
        config = replace(config, epochs=args.epochs)
    if args.limit:
        config = replace(config, limit=args.limit)
    mnist = load_mnist(args.data, download=False)
    images, labels = mnist.train.images[:config.limit], mnist.train.labels[:config.limit]
    test_x = scale_inputs(mnist.test.images, np.float32)
    test_y = np.asarray(mnist.test.labels)
    network = Network(preset.network, seed=config.seed)
    initial = [W.copy() for W in network.weights]

    probe_rows = 40 * config.batch_size
    probe_x = scale_inputs(images[:probe_rows], np.float32)
    threads, probe = torch_best_threads(initial, probe_x, labels[:probe_rows].astype(np.int64), config.batch_size)
    torch.set_num_threads(threads)
    ann_threads = blas.requested_threads("batch", args.ann_threads)
    print(f"torch {torch.__version__}: {threads} thread(s) (probe of 40 steps: 1 thread {probe[1]:.3f} s, "
          f"2 threads {probe[2]:.3f} s); ann: {ann_threads} thread(s); load {os.getloadavg()[0]:.2f}", flush=True)

    ann_run = train(network, images, labels, config, mnist.test.images, mnist.test.labels, threads=ann_threads)
    torch_run = torch_epochs(initial, images, labels, config, test_x, test_y, config.seed)
    sides = {"ann": {"seconds": [], "test_accuracy": []}, "torch": {"seconds": [], "test_accuracy": []}}
    loads = []
    for epoch in range(1, config.epochs + 1):
        metrics = next(ann_run)
        sides["ann"]["seconds"].append(metrics["seconds"])
        sides["ann"]["test_accuracy"].append(metrics["test_accuracy"])
        seconds, accuracy = next(torch_run)
        sides["torch"]["seconds"].append(seconds)
        sides["torch"]["test_accuracy"].append(accuracy)
        loads.append(round(os.getloadavg()[0], 2))
        print(f"epoch {epoch:3d}: ann {metrics['test_accuracy']:.2%} ({sum(sides['ann']['seconds']):7.1f} s)   "
              f"torch {accuracy:.2%} ({sum(sides['torch']['seconds']):7.1f} s)   load {loads[-1]}", flush=True)

    results = {"target": args.target, "epochs": config.epochs, "records": len(images), "torch_threads": threads,
               "torch_probe_seconds": probe, "ann_threads": ann_threads, "torch_version": torch.__version__,
               "loads": loads}
    for name, side in sides.items():
        epoch, seconds = first_at(side["test_accuracy"], side["seconds"], args.target)
        side.update({"epoch_at_target": epoch, "seconds_to_target": seconds,
                     "train_seconds": sum(side["seconds"]), "final_test_accuracy": side["test_accuracy"][-1]})
        reached = f"{seconds:.1f} s (epoch {epoch})" if epoch else "not reached"
        print(f"{name:5s}: final {side['final_test_accuracy']:.2%}, {side['train_seconds']:.1f} s of training; "
              f"{args.target:.1%} at {reached}")
        results[name] = side
    ann_time, torch_time = sides["ann"]["seconds_to_target"], sides["torch"]["seconds_to_target"]
    total_ratio = sides["ann"]["train_seconds"] / sides["torch"]["train_seconds"]
    results["ratio_train_seconds_ann_over_torch"] = total_ratio
    if ann_time is not None and torch_time is not None:
        results["ratio_to_target_ann_over_torch"] = ann_time / torch_time
        verdict = "ann first" if ann_time < torch_time else "torch first"
        print(f"time to {args.target:.1%}: ann/torch = {ann_time / torch_time:.2f} ({verdict}); "
              f"all epochs: {total_ratio:.2f}")
    else:
        results["ratio_to_target_ann_over_torch"] = None
        print(f"time to {args.target:.1%}: not reached by both; all epochs: ann/torch = {total_ratio:.2f}")
    print(f"results: {write_results('best_vs_torch', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
