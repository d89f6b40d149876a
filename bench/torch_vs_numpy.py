"""ann versus PyTorch: one mini-batch epoch of the same network, timed back to back.

The issue's requirement: mini-batch mode, the same 784-200-10 network, float32, batch 64, no augmentation:
one epoch in at most 0.8x the time PyTorch (2.13, CPU) takes with the same sizes, batch size and number
of threads.

Both sides train the same thing from the same start:

- network: 784-200-10, sigmoid hidden and output layers, no bias, loss 0.5 * sum of squared errors
  averaged over the batch, plain SGD with learning rate 0.1, batch 64, float32; the same initial weights
  (ann's, copied into torch);
- data: the 60,000 MNIST training images scaled with ``ann.data.scale_inputs`` (float32, given to both
  already scaled) and targets 0.01/0.99, visited in the same shuffled order
  (``np.random.default_rng(80).permutation``, which is what ann's loop draws for its first epoch);
- threads: ``torch.set_num_threads`` equals the BLAS threads ann trains with (ann's loop sets them
  itself: ``$ANN_BLAS_THREADS``, one by default; read with threadpoolctl). ``--threads N`` sets both.

The ann side is the product: ``ann.train.train`` with ``TrainConfig(batch_size=64, rotate=0, shuffle=True,
epochs=1)`` and its own ``seconds`` (training time of the epoch). ann runs ``propagate="delta"`` by default
here so that both sides compute the exact gradient (torch's autograd) and must end with the same test
accuracy; ``--propagate error`` times the seed's rule instead (the same number of matrix products).
The torch side is the usual loop: ``nn.Linear(bias=False)``, ``torch.sigmoid``, the loss, ``backward``,
``torch.optim.SGD.step``, with a batch gathered from the shuffled order at each step (timed from the
first batch to the last step).

One untimed warm-up epoch each, then ``--repeats`` epochs alternating ann / torch, each from the initial
weights. Prints the medians, the ratio ann/torch (the requirement: <= 0.8) and both test accuracies after
one epoch; writes bench/out/torch_vs_numpy.json.

Run (needs ``pip install -r bench/requirements.txt``; about a minute)::

    python bench/torch_vs_numpy.py
    python bench/torch_vs_numpy.py --repeats 9 --threads 2
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from _common import DEFAULT_DATA_DIR, median, write_results

BATCH = 64
LEARNING_RATE = 0.1
SEED = 80
REQUIRED_RATIO = 0.8


def ann_threads() -> int:
    """The BLAS threads ann's training loop runs with (``ann.train.blas_threads``, read with threadpoolctl)."""
    from ann.train import blas_threads

    with blas_threads():
        counts = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(counts) if counts else 1


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
    parser.add_argument("--repeats", type=int, default=7, help="timed epochs per side (median reported)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both (sets ANN_BLAS_THREADS; default: what ann's loop uses)")
    parser.add_argument("--propagate", choices=["delta", "error"], default="delta",
                        help="ann's rule: delta = exact gradient like torch (default), error = the seed's")
    args = parser.parse_args(argv)

    import torch

    from ann.config import NetworkConfig
    from ann.data import load_mnist, scale_inputs
    from ann.network import Network

    if args.threads:
        os.environ["ANN_BLAS_THREADS"] = str(args.threads)  # ann's training loop sets its own BLAS threads
    threads = ann_threads()
    torch.set_num_threads(threads)
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

    ann_seconds, torch_seconds = [], []
    with threadpool_limits(limits=threads, user_api="blas"):
        time_ann(network_config, initial, X, y, X_test, y_test)  # warm-up (caches, thread pools)
        time_torch(initial, X, T, order, X_test, y_test)
        for r in range(args.repeats):
            s_ann, acc_ann = time_ann(network_config, initial, X, y, X_test, y_test)
            s_torch, acc_torch = time_torch(initial, X, T, order, X_test, y_test)
            ann_seconds.append(s_ann)
            torch_seconds.append(s_torch)
            print(f"repeat {r + 1}: ann {s_ann:.3f} s, torch {s_torch:.3f} s, ratio {s_ann / s_torch:.2f}",
                  flush=True)

    ann_median, torch_median = median(ann_seconds), median(torch_seconds)
    ratio = ann_median / torch_median
    pairwise = median([a / t for a, t in zip(ann_seconds, torch_seconds)])
    print()
    print(f"threads {threads}, torch {torch.__version__}, numpy {np.__version__}, ann propagate={args.propagate}")
    print(f"ann   median {ann_median:.3f} s/epoch, test accuracy {acc_ann:.2%}")
    print(f"torch median {torch_median:.3f} s/epoch, test accuracy {acc_torch:.2%}")
    print(f"ratio ann/torch {ratio:.2f} (median of pairwise ratios {pairwise:.2f}; "
          f"requirement <= {REQUIRED_RATIO}: {'met' if ratio <= REQUIRED_RATIO else 'NOT met'})")
    results = {
        "threads": threads,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "ann_propagate": args.propagate,
        "repeats": args.repeats,
        "ann_seconds": ann_seconds,
        "torch_seconds": torch_seconds,
        "ann_median_seconds": ann_median,
        "torch_median_seconds": torch_median,
        "ratio_ann_over_torch": ratio,
        "median_pairwise_ratio": pairwise,
        "required_ratio_at_most": REQUIRED_RATIO,
        "met": bool(ratio <= REQUIRED_RATIO),
        "ann_test_accuracy": acc_ann,
        "torch_test_accuracy": acc_torch,
    }
    print(f"results: {write_results('torch_vs_numpy', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
