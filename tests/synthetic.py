"""Tiny synthetic data for tests whose logic does not need real digits."""

from __future__ import annotations

import numpy as np


def band_set(n: int = 2048, seed: int = 0, n_classes: int = 10, balanced: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images (n, 784) whose label is which band of the image is bright (tenths for 10 classes),
    and the labels: easy to learn (a network reads them all within an epoch or two), so training finishes in
    moments. ``balanced``: every class the same number of times (give or take one), in random order."""
    rng = np.random.default_rng(seed)
    if balanced:
        labels = np.arange(n) % n_classes
        rng.shuffle(labels)
    else:
        labels = rng.integers(0, n_classes, n)
    images = rng.integers(0, 60, (n, 784), dtype=np.uint8)
    width = 784 // n_classes
    for i, label in enumerate(labels):
        images[i, label * width:(label + 1) * width] += 150
    return images, labels
