"""How long the new pages' heavy work takes: the hidden layer's map (PCA, t-SNE) and the robustness sweeps.

For the shipped model (784-200-10) on the first N test images: the last hidden layer's activations, PCA,
t-SNE (scikit-learn, one thread, 1,000 iterations, as ``ann.lab.hidden_map.tsne`` runs it), every sweep of
``ann.lab.robustness.PERTURBATIONS`` at its default levels, the occlusion map and the sensitivity summary of
one image. Each timed ``--repeats`` times; the median is printed and written to bench/out/lab_speed.json.

    python bench/lab_speed.py [--data DIR] [--images 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import DEFAULT_DATA_DIR, REPO_DIR, median, write_results
from threadpoolctl import threadpool_limits

from ann.data.mnist import load_mnist
from ann.inputs import scale_inputs
from ann.lab.hidden_map import fit_pca, last_hidden, tsne
from ann.lab.robustness import PERTURBATIONS, accuracy_curve, occlusion_map, sensitivity
from ann.model_io import load_model


def timed(fn, repeats: int) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    network = load_model(REPO_DIR / "data" / "pretrained.npz").network
    mnist = load_mnist(args.data, download=False)
    images, labels = mnist.test.images[:args.images], mnist.test.labels[:args.images]
    X = scale_inputs(images)
    results: dict[str, float] = {}
    with threadpool_limits(1):  # as the app runs: one BLAS thread
        results["hidden_activations_s"], hidden = timed(lambda: last_hidden(network, images), args.repeats)
        results["pca_s"], _ = timed(lambda: fit_pca(hidden).transform(hidden), args.repeats)
        tsne(hidden[:200], perplexity=30)  # scikit-learn's import and first call, not timed
        results["tsne_s"], _ = timed(lambda: tsne(hidden, seed=0), args.repeats)
        for kind in PERTURBATIONS:
            results[f"sweep_{kind}_s"], points = timed(lambda kind=kind: list(accuracy_curve(network, X, labels, kind)),
                                                       args.repeats)
            results[f"sweep_{kind}_accuracy"] = [round(p["accuracy"], 4) for p in points]
        results["occlusion_map_s"], _ = timed(lambda: occlusion_map(network, X[0], int(labels[0])), args.repeats)
        results["sensitivity_s"], _ = timed(lambda: sensitivity(network, X[0]), args.repeats)
    for name, value in results.items():
        print(f"{name:28s} {value if isinstance(value, list) else f'{value:.3f}'}")
    print(f"written to {write_results('lab_speed', {'images': args.images, **results})}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
