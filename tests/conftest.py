"""Shared fixtures: where the real MNIST files are, and the full dataset loaded once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The project's tests read the real MNIST files from ../shared/mnist (beside the clone, in CI as here);
# ANN_TEST_MNIST points elsewhere.
MNIST_DIR = Path(os.environ.get("ANN_TEST_MNIST", ROOT.parent / "shared" / "mnist"))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"real MNIST files not found in {MNIST_DIR}; set ANN_TEST_MNIST to their folder")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    """The full real MNIST, loaded once (read-only arrays)."""
    from ann.data import load_mnist

    return load_mnist(mnist_dir, download=False)
