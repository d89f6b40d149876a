"""ann.blas: one BLAS library for the products of a step, the same bits at any thread count, clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from ann import blas
from ann.config import NetworkConfig, TrainConfig
from ann.network import Network
from ann.train import fit

# Shapes on both sides of blas.SPLIT_MACS: 64x784x200 (10 M, one call) and 64x784x800 (40 M, split).
SHAPES = [(64, 784, 200), (64, 784, 800), (3, 800, 800 * 8)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, n_in, n_out", SHAPES)
def test_products_match_numpy(dtype, n, n_in, n_out):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n_in)).astype(dtype)
    W = rng.standard_normal((n_out, n_in)).astype(dtype)
    g = rng.standard_normal((n, n_out)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    tol = {"rtol": 1e-4, "atol": 1e-3} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(blas.linear(a, W), a @ W.T, **tol)
    np.testing.assert_allclose(blas.linear(a, W, b), a @ W.T + b, **tol)
    np.testing.assert_allclose(blas.backward(g, W), g @ W, **tol)
    C = W.copy()
    blas.add_outer(C, 0.5, g, a, beta=0.9)
    np.testing.assert_allclose(C, 0.9 * W + 0.5 * g.T @ a, **tol)
    V, W2 = rng.standard_normal(W.shape).astype(dtype), W.copy()
    expected_v = 0.9 * V + 0.5 * g.T @ a - 0.01 * W
    blas.momentum_update(W2, V, 0.5, g, a, 0.9, decay=0.01)
    np.testing.assert_allclose(V, expected_v, **tol)
    np.testing.assert_allclose(W2, W + expected_v, **tol)


def test_one_thread_and_two_give_the_same_bits():
    """Large products are cut into fixed slices, whatever the thread count: a mini-batch run of the Best
    recipe's network repeats bit for bit at 1 and 2 threads (OpenBLAS's own pool would not)."""
    rng = np.random.default_rng(1)
    X = rng.random((640, 784), dtype=np.float32)
    labels = rng.integers(0, 10, len(X))
    config = NetworkConfig(hidden_nodes=(800, 800), activation="relu", loss="cross_entropy", propagate="delta",
                           bias=True)
    weights = []
    for count in (1, 2, 1):
        net = Network(config, seed=3)
        with blas.threads("batch", count):
            for s in range(0, len(X), 64):
                net.train(X[s:s + 64], net.targets(labels[s:s + 64]), 0.05, 0.9)
        weights.append(net.weights)
    for other in weights[1:]:
        for W, V in zip(weights[0], other):
            np.testing.assert_array_equal(W, V)


def test_every_blas_pool_is_at_one_thread_once_ann_computes():
    with blas.threads("batch", 2) as count:
        assert count == 2 and blas._team.size == 2
    assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}


LATE_SCIPY = textwrap.dedent("""
    import sys
    import numpy as np
    from threadpoolctl import threadpool_info
    import ann.augment, ann.data.preprocess, ann.lab.by_hand, ann.lab.hidden_map, ann.lab.inside, ann.network
    from ann import blas
    from ann.config import NetworkConfig
    from ann.network import Network

    loaded = [name for name in sys.modules if name.split(".")[0] == "scipy"]
    assert not loaded, loaded  # importing ann's modules loads no SciPy
    blas.hold_pools_at_one()  # as the dashboard's frame does on a first look, before any product
    net = Network(NetworkConfig(hidden_nodes=(30,), dtype="float64"), seed=1)
    x = np.full((5, 784), 0.5)
    out = net.query(x)  # the first product: SciPy's BLAS (and scipy.special's expit) now
    assert "scipy.linalg" in sys.modules and "scipy.special" in sys.modules
    pools = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    assert len(pools) >= 2 and set(pools.values()) == {1}, pools  # NumPy's and SciPy's, SciPy's held too
    np.testing.assert_allclose(out.sum(axis=1), net.query(x).sum(axis=1))
    print("ok")
""")


def test_scipy_is_imported_at_first_use_and_its_pool_held_at_one():
    """In a process of its own (pytest's has SciPy already): ann's modules import no SciPy, and SciPy's BLAS
    library, loaded by the first product after the pools were held, is held at one thread too."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", LATE_SCIPY], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")


def test_every_pool_openmp_included_is_at_one_thread_inside_the_bound():
    pytest.importorskip("sklearn")
    import sklearn.manifold  # noqa: F401 -- brings scikit-learn's OpenMP library into the process

    openmp = [i for i in threadpool_info() if i["user_api"] == "openmp"]
    assert openmp, "scikit-learn loaded no OpenMP library"
    before = {i["filepath"]: i["num_threads"] for i in openmp}
    with blas.pools_at_one():
        assert {i["num_threads"] for i in threadpool_info()} == {1}
    # OpenMP's count is the calling thread's own: given back on leaving; BLAS's stays at one
    assert {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"} == before
    assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}


def test_thread_counts_by_kind_of_work(monkeypatch):
    monkeypatch.delenv("ANN_BLAS_THREADS", raising=False)
    assert blas.requested_threads("sample") == 1
    assert blas.requested_threads("batch") == blas.available_cores()
    assert blas.requested_threads("batch", 3) == 3
    monkeypatch.setenv("ANN_BLAS_THREADS", "1")
    assert blas.requested_threads("batch") == 1 and blas.requested_threads("score") == 1
    with pytest.raises(ValueError, match="kind of work"):
        blas.requested_threads("gpu")


@pytest.mark.parametrize("bad", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_says_what_to_do(monkeypatch, bad):
    monkeypatch.setenv("ANN_BLAS_THREADS", bad)
    with pytest.raises(blas.BlasThreadsError, match=r"ANN_BLAS_THREADS=.*whole number of at least 1"):
        fit(Network(), np.zeros((10, 784), np.uint8), np.zeros(10, np.int64), TrainConfig(epochs=1, rotate=0))


def test_in_place_update_refuses_an_array_it_would_copy():
    W = np.zeros((10, 20), np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        blas.add_outer(W.T, 1.0, np.ones((2, 20), np.float32), np.ones((2, 10), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        blas.rank_one_update(np.zeros((10, 20), np.int64), 1.0, np.ones(10), np.ones(20))


def test_a_random_augmented_run_is_the_same_on_one_thread_and_on_two(mnist):
    """Two threads also share the parts of each chunk's distortions (ann.train.random_variant): every part
    draws from a generator of its own, so the run is the same bits as on one thread, across epochs too."""
    config = TrainConfig(limit=2048, epochs=2, batch_size=64, augment="random", rotate=12.0, shift=2,
                         elastic_alpha=34.0, elastic_fraction=0.5, momentum=0.9, shuffle=True, learning_rate=0.05,
                         schedule="cosine", seed=5)
    network_config = NetworkConfig(hidden_nodes=(800,), activation="relu", loss="cross_entropy",
                                   propagate="delta", bias=True)
    runs = []
    for count in (1, 2):
        net = Network(network_config, seed=5)
        history = fit(net, mnist.train.images, mnist.train.labels, config, threads=count)
        runs.append((net, [m["train_loss"] for m in history]))
    (one, losses_one), (two, losses_two) = runs
    assert losses_one == losses_two
    for W, V in zip(one.weights + one.biases, two.weights + two.biases):
        np.testing.assert_array_equal(W, V)


def test_a_thread_that_is_held_up_leaves_its_tasks_to_the_other():
    """Tasks go to whichever thread is free first: while one thread is held up in a task (its core taken
    by another program, here an event not yet set), the other runs every task left, including the one
    that releases it. Handing tasks out round robin would leave task 3 to the held-up thread: a stall."""
    release = threading.Event()
    ran = []

    def task(i: int):
        def run():
            if i == 1:
                ran.append((i, release.wait(timeout=20)))
                return
            ran.append((i, True))
            if i == 3:
                release.set()
        return run

    with blas.threads("batch", 2):
        blas.run_tasks([task(i) for i in range(4)])
    assert sorted(ran) == [(0, True), (1, True), (2, True), (3, True)]


def test_an_error_in_a_task_reaches_the_caller_after_the_others_finish():
    """On two threads the other tasks still run (the product is never left half written by a thread still
    working when the caller raises); on one, the error stops the loop at once."""
    done = []

    def fail():
        raise ValueError("slice 1 failed")

    tasks = [lambda: done.append(0), fail, lambda: done.append(2)]
    for count in (1, 2):
        done.clear()
        with blas.threads("batch", count), pytest.raises(ValueError, match="slice 1 failed"):
            blas.run_tasks(tasks)
        assert sorted(done) == ([0] if count == 1 else [0, 2])
