"""Shared fixtures: where the real MNIST files are, and the full dataset loaded once per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The tests use the real MNIST files: $ANN_TEST_MNIST if set, else ../shared/mnist beside the clone (as in
# CI), else the project's data/ folder, downloading them there on first use like the app does.
SHARED_MNIST = ROOT.parent / "shared" / "mnist"
# The seed's two CSV extracts (the first 100 training and 10 test records, as the blog post uses them), by
# the md5 of the files it links to. The tests make them from the IDX files with ann.data.csv_files.write_csv and check
# these sums, so a user's clone needs only the four IDX files.
SEED_CSV_MD5 = {
    "mnist_train_100.csv": "1eda4899f572aec39595af846a606a5f",
    "mnist_test_10.csv": "206736bf55da6d5740f49767b789c4d9",
}


def _temporary_env(name: str, folder: Path):
    """Set ``name`` to ``folder`` for the session, then put back what was there."""
    previous = os.environ.get(name)
    os.environ[name] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = previous


@pytest.fixture(autouse=True)
def keep_main_module():
    """An AppTest runs its script as ``__main__`` and leaves it there; a process spawned later (a sweep's
    workers, a Dask nanny) would run that script again and die. Each test gets pytest's own back."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session", autouse=True)
def runs_dir(tmp_path_factory) -> Path:
    """Every test (and every app server a test starts) keeps its training runs in a temporary run store,
    never in the project's runs/ folder."""
    yield from _temporary_env("ANN_RUNS_DIR", tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory) -> Path:
    """The uncompressed copies of the datasets (ann.data.mnist.load_mnist_mapped) go to a temporary folder too."""
    yield from _temporary_env("ANN_CACHE_DIR", tmp_path_factory.mktemp("cache"))


def find_mnist_dir() -> Path:
    if os.environ.get("ANN_TEST_MNIST"):
        return Path(os.environ["ANN_TEST_MNIST"])
    if (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists():
        return SHARED_MNIST
    from ann.data.mnist import ensure_mnist

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
    from ann.data.mnist import load_mnist

    return load_mnist(mnist_dir, download=False)


@pytest.fixture(scope="session")
def seed_csv_dir(mnist, tmp_path_factory) -> Path:
    """A folder with the seed's CSV extracts, written from the IDX files and checked by md5."""
    import hashlib

    from ann.data.csv_files import write_csv
    from ann.data.split import Split

    folder = tmp_path_factory.mktemp("seed_csv")
    write_csv(folder / "mnist_train_100.csv", Split(mnist.train.images[:100], mnist.train.labels[:100]))
    write_csv(folder / "mnist_test_10.csv", Split(mnist.test.images[:10], mnist.test.labels[:10]))
    for name, md5 in SEED_CSV_MD5.items():
        got = hashlib.md5((folder / name).read_bytes()).hexdigest()
        if got != md5:
            pytest.fail(f"{name} written from the IDX files has md5 {got}, not the seed's {md5}")
    return folder
