"""ann versus PyTorch: one mini-batch epoch of the same network, timed back to back.

The issue's requirement: mini-batch mode, the same 784-200-10 network, float32, batch 64, no augmentation:
one epoch in at most 0.8x the time PyTorch (2.13, CPU) takes with the same sizes, batch size and number
of threads.

Both sides train the same thing from the same start:

- network: 784-200-10, sigmoid hidden and output layers, no bias, loss 0.5 * sum of squared errors
  averaged over the batch, plain SGD with learning rate 0.1, batch 64, float32; the same initial weights
  (ann's, copied into torch);
- data: the 60,000 MNIST training images scaled with ``ann.inputs.scale_inputs`` (float32, given to both
  already scaled) and targets 0.01/0.99, visited in the same shuffled order
  (``np.random.default_rng(80).permutation``, which is what ann's loop draws for its first epoch);
- threads: both sides are timed at 1 and at 2 threads (``ANN_BLAS_THREADS`` for ann's loop,
  ``torch.set_num_threads``), alternating; the requirement compares ann at its default thread count for
  mini-batches with torch at whichever count is faster for it, and ann's 2-thread epoch with its
  1-thread one (more threads must never be slower).

The ann side is the product: ``ann.train.train`` with ``TrainConfig(batch_size=64, rotate=0, shuffle=True,
epochs=1)`` and its own ``seconds`` (training time of the epoch). ann runs ``propagate="delta"`` by default
here so that both sides compute the exact gradient (torch's autograd) and must end with the same test
accuracy; ``--propagate error`` times the seed's rule instead (the same number of matrix products).
The torch side is the usual loop: ``nn.Linear(bias=False)``, ``torch.sigmoid``, the loss, ``backward``,
``torch.optim.SGD.step``, with a batch gathered from the shuffled order at each step (timed from the
first batch to the last step).

One untimed warm-up epoch each, then ``--repeats`` rounds of every (side, threads) pair, each from the
initial weights. Prints the medians, the ratios and both test accuracies after one epoch; writes
bench/out/torch_vs_numpy.json.

Run (needs ``pip install -r bench/requirements.txt``; about a minute)::

    python bench/torch_vs_numpy.py
    python bench/torch_vs_numpy.py --repeats 9 --threads 1
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from _common import DEFAULT_DATA_DIR, median, write_results

BATCH = 64
LEARNING_RATE = 0.1
SEED = 80
REQUIRED_RATIO = 0.8


def time_ann(network_config, initial, X, y, X_test, y_test) -> tuple[float, float]:
    """One epoch of ann.train.train from the initial weights: (its seconds, test accuracy)."""
    from ann.config import TrainConfig
    from ann.network import Network
    from ann.train import accuracy_of, train

    net = Network(network_config, seed=SEED)
    net.weights = [W.copy() for W in initial]
    config = TrainConfig(batch_size=BATCH, learning_rate=LEARNING_RATE, rotate=0, shuffle=True, epochs=1,
                         seed=SEED)
    (metrics,) = list(train(net, X, y, config))
    return metrics["seconds"], accuracy_of(net, X_test, y_test)


def time_torch(initial, X, T, order, X_test, y_test) -> tuple[float, float]:
    """The same epoch in PyTorch: (seconds, test accuracy)."""
    import torch

    model = torch.nn.Sequential(
        torch.nn.Linear(784, 200, bias=False), torch.nn.Sigmoid(),
        torch.nn.Linear(200, 10, bias=False), torch.nn.Sigmoid(),
    )
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(initial[0]))
        model[2].weight.copy_(torch.from_numpy(initial[1]))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)
    order_t = torch.from_numpy(order)
    started = time.perf_counter()
    for start in range(0, len(order_t), BATCH):
        idx = order_t[start:start + BATCH]
        xb, tb = Xt[idx], Tt[idx]
        out = model(xb)
        loss = 0.5 * ((tb - out) ** 2).sum() / len(xb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        predicted = model(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return seconds, float(np.mean(predicted == y_test))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One float32 mini-batch epoch: ann against PyTorch.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="MNIST IDX folder (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per side and thread count (median)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to time both sides at (default: 1 2)")
    parser.add_argument("--propagate", choices=["delta", "error"], default="delta",
                        help="ann's rule: delta = exact gradient like torch (default), error = the seed's")
    args = parser.parse_args(argv)

    import torch

    from ann import blas
    from ann.config import NetworkConfig
    from ann.data.mnist import load_mnist
    from ann.inputs import scale_inputs
    from ann.network import Network

    mnist = load_mnist(args.data, download=False)
    X = scale_inputs(mnist.train.images, np.float32)
    y = np.asarray(mnist.train.labels)
    X_test = scale_inputs(mnist.test.images, np.float32)
    y_test = np.asarray(mnist.test.labels)
    network_config = NetworkConfig(dtype="float32", propagate=args.propagate)
    initial = [W.copy() for W in Network(network_config, seed=SEED).weights]
    T = np.full((len(y), 10), 0.01, np.float32)
    T[np.arange(len(y)), y] = 0.99
    order = np.random.default_rng(SEED).permutation(len(y))  # ann's first-epoch order for seed 80
    ann_default = blas.requested_threads("batch")

    seconds = {("ann", t): [] for t in args.threads} | {("torch", t): [] for t in args.threads}
    accuracy = {}

    def one(side: str, threads: int) -> float:
        if side == "ann":
            os.environ["ANN_BLAS_THREADS"] = str(threads)  # ann's training loop reads it
            s, accuracy[side] = time_ann(network_config, initial, X, y, X_test, y_test)
        else:
            torch.set_num_threads(threads)
            s, accuracy[side] = time_torch(initial, X, T, order, X_test, y_test)
        return s

    print(f"load {os.getloadavg()[0]:.2f}; ann's default for mini-batches: {ann_default} thread(s)", flush=True)
    for threads in args.threads:  # warm-up (caches, thread pools)
        one("ann", threads)
        one("torch", threads)
    for r in range(args.repeats):
        line = []
        for threads in args.threads:
            for side in ("ann", "torch"):
                seconds[(side, threads)].append(one(side, threads))
                line.append(f"{side}@{threads} {seconds[(side, threads)][-1]:.3f}")
        print(f"repeat {r + 1}: " + ", ".join(line) + f"  (load {os.getloadavg()[0]:.2f})", flush=True)
    os.environ.pop("ANN_BLAS_THREADS", None)

    medians = {k: median(v) for k, v in seconds.items()}
    torch_best = min(args.threads, key=lambda t: medians[("torch", t)])
    ann_at_default = ann_default if ann_default in args.threads else min(args.threads)
    ratio = medians[("ann", ann_at_default)] / medians[("torch", torch_best)]
    print()
    print(f"torch {torch.__version__}, numpy {np.__version__}, ann propagate={args.propagate}")
    for threads in args.threads:
        print(f"{threads} thread(s): ann median {medians[('ann', threads)]:.3f} s/epoch, "
              f"torch median {medians[('torch', threads)]:.3f} s/epoch")
    if 1 in args.threads and 2 in args.threads:
        more = medians[("ann", 2)] / medians[("ann", 1)]
        print(f"ann at 2 threads / 1 thread: {more:.2f} (must be <= 1: more threads never slower)")
    print(f"ann at its default ({ann_at_default}) / torch at its best ({torch_best}): {ratio:.2f} "
          f"(requirement <= {REQUIRED_RATIO}: {'met' if ratio <= REQUIRED_RATIO else 'NOT met'}); "
          f"test accuracy ann {accuracy['ann']:.2%}, torch {accuracy['torch']:.2%}")
    results = {
        "threads": args.threads,
        "ann_default_threads": ann_default,
        "torch_best_threads": torch_best,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "ann_propagate": args.propagate,
        "repeats": args.repeats,
        "seconds": {f"{side}_{t}": v for (side, t), v in seconds.items()},
        "median_seconds": {f"{side}_{t}": v for (side, t), v in medians.items()},
        "ratio_ann_default_over_torch_best": ratio,
        "ratio_ann_2_over_1": (medians[("ann", 2)] / medians[("ann", 1)]
                               if 1 in args.threads and 2 in args.threads else None),
        "required_ratio_at_most": REQUIRED_RATIO,
        "met": bool(ratio <= REQUIRED_RATIO),
        "ann_test_accuracy": accuracy["ann"],
        "torch_test_accuracy": accuracy["torch"],
    }
    print(f"results: {write_results('torch_vs_numpy', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
