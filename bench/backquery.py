"""The network run backwards, for every shipped model: how surely it reads its own pictures, and what they cost.

For each shipped model and each method of ``ann.lab.inside`` (gradient ascent, Rashid's inversion): how many of
the ten pictures the model reads as the digit they were made for, its lowest output for that digit, how many the
other shipped model reads the same way (the pictures carry the digits' shapes, not a pattern only their own
network answers), and the time to draw all ten (median of ``--repeats``) as a ratio to the reference measured in
the same run: scoring the 10,000 MNIST test images with the same model (what the Evaluate page does first).
Results go to bench/out/backquery.json.

    python bench/backquery.py [--data DIR] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import DEFAULT_DATA_DIR, write_results

from ann.data.mnist import load_mnist
from ann.lab.inside import BackqueryMethod, backquery_images
from ann.metrics import evaluate
from ann.model_io import load_model
from ann.models import shipped_models


def median_seconds(repeats: int, fn, *args) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    mnist = load_mnist(args.data, download=False)
    networks = {model.name: load_model(model.path).network for model in shipped_models()}
    results = {}
    for name, network in networks.items():
        reference = median_seconds(args.repeats, evaluate, network, mnist.test.images, mnist.test.labels)
        others = [other for other_name, other in networks.items() if other_name != name]
        for method in BackqueryMethod:
            seconds = median_seconds(args.repeats, backquery_images, network, method)
            pictures = backquery_images(network, method)
            outputs = network.query(pictures.astype(network.dtype)).astype(np.float64)
            own = outputs[np.arange(len(outputs)), np.arange(len(outputs))]
            row = {"read_as_own": int(np.sum(outputs.argmax(axis=1) == np.arange(len(outputs)))),
                   "lowest_own_output": float(own.min()),
                   "read_as_own_by_the_other": [int(np.sum(o.predict(pictures.astype(o.dtype)) ==
                                                           np.arange(len(outputs)))) for o in others],
                   "seconds": seconds, "scoring_seconds": reference, "ratio_to_scoring": seconds / reference}
            results[f"{name}/{method.value}"] = row
            print(f"{name:<12} {method.value:<10} reads {row['read_as_own']}/10 as their own digits (lowest own "
                  f"output {row['lowest_own_output']:.3f}; the other model: {row['read_as_own_by_the_other']}); "
                  f"{seconds:.3f} s = {row['ratio_to_scoring']:.2f}x scoring the 10,000 test images "
                  f"({reference:.3f} s)", flush=True)
    print(f"written to {write_results('backquery', results)}")


if __name__ == "__main__":
    main()
