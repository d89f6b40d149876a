"""Tiny synthetic data for tests whose logic does not need real digits."""

from __future__ import annotations

import numpy as np


def band_set(n: int = 2048, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images (n, 784) whose label 0-9 is which tenth of the image is bright, and the labels:
    easy to learn (a network reads them all within an epoch or two), so training finishes in moments."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 60, (n, 784), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, label * 78:(label + 1) * 78] += 150
    return images, labels
