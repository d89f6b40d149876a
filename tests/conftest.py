"""Shared fixtures: where the real MNIST files are, and the full dataset loaded once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The tests use the real MNIST files: $ANN_TEST_MNIST if set, else ../shared/mnist beside the clone (as in
# CI), else the project's data/ folder, downloading them there on first use like the app does.
SHARED_MNIST = ROOT.parent / "shared" / "mnist"


def find_mnist_dir() -> Path:
    if os.environ.get("ANN_TEST_MNIST"):
        return Path(os.environ["ANN_TEST_MNIST"])
    if (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists():
        return SHARED_MNIST
    from ann.data import ensure_mnist

    return ensure_mnist(ROOT / "data")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    folder = find_mnist_dir()
    if not (folder / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"real MNIST files not found in {folder}; set ANN_TEST_MNIST to their folder")
    return folder


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    """The full real MNIST, loaded once (read-only arrays)."""
    from ann.data import load_mnist

    return load_mnist(mnist_dir, download=False)
