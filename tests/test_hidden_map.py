"""ann.lab.hidden_map (PCA, t-SNE, Procrustes, the last hidden layer) and ann.lab.epochs (a run's epochs, aligned and
compared), on tiny synthetic networks and data."""

from __future__ import annotations

import numpy as np
import pytest

from ann.config import NetworkConfig
from ann.lab.epochs import NetworksOnDemand, epoch_changes, epoch_maps
from ann.lab.hidden_map import fit_pca, last_hidden, procrustes, tsne
from ann.metrics import confusion_matrix
from ann.network import Network


def rotation(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


# --------------------------------------------------------------------------- PCA


def test_pca_of_a_known_set():
    """Four points on the axes of an ellipse turned by 30 degrees in a 3-D space: the components are the
    ellipse's axes, longest first, and the variance shares are a^2 / (a^2 + b^2) and b^2 / (a^2 + b^2)."""
    a, b = 3.0, 1.0
    flat = np.array([[a, 0.0], [-a, 0.0], [0.0, b], [0.0, -b]])
    basis = np.array([[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]])  # orthonormal rows in 3-D
    axes = rotation(30.0).T @ basis  # the ellipse's axes, turned in their plane
    points = flat @ axes + np.array([5.0, -2.0, 1.0])
    pca = fit_pca(points, 2)
    np.testing.assert_allclose(pca.mean, [5.0, -2.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(pca.components @ axes.T), np.eye(2), atol=1e-12)
    np.testing.assert_allclose(pca.explained_variance_ratio, [a * a / (a * a + b * b), b * b / (a * a + b * b)])
    coords = pca.transform(points)
    np.testing.assert_allclose(np.abs(coords), np.abs(flat), atol=1e-12)
    for row in pca.components:  # the sign rule: each component's largest entry is positive
        assert row[np.argmax(np.abs(row))] > 0


def test_pca_is_the_same_for_the_same_data_and_names_bad_input():
    points = np.random.default_rng(0).normal(size=(50, 6))
    np.testing.assert_array_equal(fit_pca(points).components, fit_pca(points.copy()).components)
    with pytest.raises(ValueError, match="n_components=7 is out of range; use 1 to 6"):
        fit_pca(points, 7)
    with pytest.raises(ValueError, match="at least 2 points"):
        fit_pca(points[:1])
    with pytest.raises(ValueError, match="do not fit this PCA"):
        fit_pca(points).transform(np.zeros((3, 5)))


# --------------------------------------------------------------------------- Procrustes


@pytest.mark.parametrize("mirror", [False, True])
def test_procrustes_undoes_a_known_rotation_scale_and_shift(mirror):
    target = np.random.default_rng(1).normal(size=(30, 2))
    moved = 2.5 * target @ rotation(40.0).T + np.array([3.0, -7.0])
    if mirror:
        moved[:, 0] *= -1
    np.testing.assert_allclose(procrustes(moved, target), target, atol=1e-12)


def test_procrustes_without_scaling_keeps_the_size():
    target = np.random.default_rng(2).normal(size=(30, 2))
    moved = 2.0 * target @ rotation(-75.0).T
    aligned = procrustes(moved, target, scale=False)
    np.testing.assert_allclose(np.linalg.norm(aligned - aligned.mean(0)), np.linalg.norm(moved - moved.mean(0)))
    np.testing.assert_allclose(aligned / 2.0, target - target.mean(0) + aligned.mean(0) / 2.0, atol=1e-12)
    with pytest.raises(ValueError, match="must be the same points"):
        procrustes(moved, target[:5])


# --------------------------------------------------------------------------- t-SNE


def test_tsne_keeps_separate_clusters_apart():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 10, (3, 20))
    points = np.concatenate([c + rng.normal(0, 0.5, (40, 20)) for c in centres])
    coords = tsne(points, seed=0, perplexity=10)
    assert coords.shape == (120, 2)
    groups = np.repeat(np.arange(3), 40)
    # every point's nearest neighbour on the map is from its own cluster
    distances = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert np.all(groups[np.argmin(distances, axis=1)] == groups)
    with pytest.raises(ValueError, match="too few for t-SNE"):
        tsne(points[:20], perplexity=10)


def test_tsne_reports_every_iteration_and_gives_scikit_learns_own_map():
    pytest.importorskip("sklearn")
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(4)
    points = np.concatenate([c + rng.normal(0, 0.5, (40, 20)) for c in rng.normal(0, 10, (3, 20))])
    reports: list[tuple[int, int]] = []
    coords = tsne(points, seed=2, perplexity=10, progress=lambda done, total: reports.append((done, total)))
    done = [d for d, _ in reports]
    assert reports[0] == (0, 1000) and reports[-1] == (1000, 1000)
    assert done == sorted(done) and set(range(1001)) <= set(done)  # every iteration, in order
    # the same map as scikit-learn's TSNE, bit for bit: the progress hook changes nothing
    reduced = fit_pca(points, 20).transform(points)
    plain = TSNE(n_components=2, perplexity=10, init="pca", random_state=2, n_jobs=1).fit_transform(reduced)
    assert np.array_equal(coords, plain.astype(np.float64))


def test_tsne_runs_with_every_thread_pool_at_one_thread():
    pytest.importorskip("sklearn")
    from threadpoolctl import threadpool_info

    rng = np.random.default_rng(5)
    points = rng.normal(0, 1, (100, 10))
    seen: list[list[dict]] = []
    tsne(points, perplexity=10, progress=lambda done, total: seen.append(threadpool_info()) if done in (1, 900)
         else None)
    assert len(seen) == 2
    for pools in seen:
        assert any(pool["user_api"] == "openmp" for pool in pools)  # scikit-learn's OpenMP is loaded and bound
        assert {pool["num_threads"] for pool in pools} == {1}, pools


# --------------------------------------------------------------------------- the last hidden layer


def test_last_hidden_is_the_last_hidden_layers_output():
    net = Network(NetworkConfig(hidden_nodes=(9, 7)), seed=1)
    images = np.random.default_rng(0).integers(0, 256, (5, 784), dtype=np.uint8)
    got = last_hidden(net, images, batch=2)
    from ann.inputs import scale_inputs

    np.testing.assert_allclose(got, net.forward(scale_inputs(images))[-2], rtol=1e-6)
    assert got.shape == (5, 7) and got.dtype == np.float64
    with pytest.raises(ValueError, match="has no hidden layer"):
        last_hidden(Network(NetworkConfig(hidden_nodes=())), images)


# --------------------------------------------------------------------------- a run's epochs


def permuted(net: Network, order: np.ndarray) -> Network:
    """The same function with its last hidden layer's nodes in another order."""
    other = net.copy()
    other.weights[-2] = net.weights[-2][order]
    other.weights[-1] = net.weights[-1][:, order]
    return other


def test_procrustes_maps_of_one_network_with_its_nodes_reordered_are_one_map():
    """Reordering hidden nodes moves no image in the hidden space except by a permutation of its axes, so
    each such "epoch", mapped by its own PCA and aligned, coincides with the last one."""
    net = Network(NetworkConfig(hidden_nodes=(10,), dtype="float64"), seed=2)
    rng = np.random.default_rng(0)
    epochs = [permuted(net, rng.permutation(10)) for _ in range(3)] + [net]
    images = rng.uniform(0.01, 1.0, (40, 784))
    maps = epoch_maps(epochs, images, align="procrustes")
    assert len(maps) == 4 and all(m.shape == (40, 2) for m in maps)
    for m in maps[:-1]:
        np.testing.assert_allclose(m, maps[-1], atol=1e-9)
    expected = fit_pca(last_hidden(net, images)).transform(last_hidden(net, images))
    np.testing.assert_allclose(maps[-1], expected, atol=1e-12)


def test_last_pca_maps_share_the_last_epochs_axes():
    _, networks, images, _ = tiny_run(3)
    maps = epoch_maps(networks, images, align="last_pca")
    pca = fit_pca(last_hidden(networks[-1], images))
    for net, m in zip(networks, maps):
        np.testing.assert_allclose(m, pca.transform(last_hidden(net, images)), atol=1e-12)
    assert not np.allclose(maps[0], maps[-1])  # training moved the points


def test_epoch_maps_names_bad_input():
    net = Network(NetworkConfig(hidden_nodes=(10,)), seed=2)
    images = np.zeros((5, 784), np.uint8)
    with pytest.raises(ValueError, match="networks is empty"):
        epoch_maps([], images)
    with pytest.raises(ValueError, match="not all the same shape"):
        epoch_maps([net, Network(NetworkConfig(hidden_nodes=(11,)))], images)
    with pytest.raises(ValueError, match="align='umap' is not known"):
        epoch_maps([net], images, align="umap")


def tiny_run(epochs: int = 3):
    """A 784-8-10 network trained a few epochs on 200 random images with random labels: the start and one
    copy per finished epoch."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (200, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 200)
    net = Network(NetworkConfig(hidden_nodes=(8,)), seed=5)
    start = net.copy()
    from ann.inputs import scale_inputs

    X, T = scale_inputs(images), net.targets(labels)
    snapshots = []
    for _ in range(epochs):
        for s in range(0, 200, 20):
            net.train(X[s:s + 20], T[s:s + 20], 0.5)
        snapshots.append(net.copy())
    return start, snapshots, images, labels


def test_epoch_changes_match_the_networks():
    start, networks, images, labels = tiny_run()
    changes = epoch_changes(networks, images, labels, initial=start, bins=20)
    assert [c.epoch for c in changes] == [1, 2, 3]
    before = start
    for change, net in zip(changes, networks):
        predictions = net.predict(net.forward(images.astype(np.float32) / 255 * 0.99 + 0.01)[0])
        assert change.accuracy == pytest.approx(np.mean(predictions == labels))
        np.testing.assert_array_equal(change.confusion, confusion_matrix(labels, predictions))
        np.testing.assert_array_equal(change.confusion_change,
                                      change.confusion - confusion_matrix(labels, before.predict(
                                          before.forward(images.astype(np.float32) / 255 * 0.99 + 0.01)[0])))
        delta = net.weights[0].astype(np.float64) - before.weights[0]
        np.testing.assert_allclose(change.node_change, np.linalg.norm(delta, axis=1), rtol=1e-12)
        np.testing.assert_allclose(change.node_change_images, delta.reshape(8, 28, 28))
        for l, (W, W0) in enumerate(zip(net.weights, before.weights)):
            assert change.layer_change[l] == pytest.approx(np.sqrt(np.mean((W.astype(float) - W0) ** 2)))
            assert change.histograms[l].sum() == W.size  # every weight in a bin
            np.testing.assert_array_equal(change.histogram_edges[l], changes[0].histogram_edges[l])  # shared
        before = net
    assert changes[0].node_change.max() > 0  # training moved the weights


def test_the_first_epoch_has_no_change_without_a_start():
    _, networks, images, labels = tiny_run(2)
    changes = epoch_changes(networks, images, labels)
    assert changes[0].node_change is None and changes[0].confusion_change is None
    assert changes[1].node_change is not None
    with pytest.raises(ValueError, match="bins=2 is out of range"):
        epoch_changes(networks, images, labels, bins=2)


def test_networks_read_on_demand_give_the_same_results_with_few_in_memory():
    """A run's checkpoints read one at a time: the maps and changes equal those of the list in memory, and
    no more than ``keep`` networks are held by the sequence (each read at most twice per function)."""
    start, networks, images, labels = tiny_run(4)
    held = []

    def load(epoch):
        held.append(epoch)
        return networks[epoch - 1].copy()

    lazy = NetworksOnDemand([1, 2, 3, 4], load, keep=2)
    reports = []
    changes = epoch_changes(lazy, images, labels, initial=start, bins=20, keep_images=False,
                            progress=lambda fraction, message: reports.append(fraction))
    expected = epoch_changes(networks, images, labels, initial=start, bins=20)
    assert lazy.loads <= 2 * 4 and len(lazy._kept) <= 2
    for got, want in zip(changes, expected):
        assert got.accuracy == want.accuracy and got.node_change_images is None
        np.testing.assert_array_equal(got.confusion_change, want.confusion_change)
        np.testing.assert_allclose(got.node_change, want.node_change)
        for a, b in zip(got.histograms, want.histograms):
            np.testing.assert_array_equal(a, b)
    assert reports == sorted(reports) and reports[-1] == 1.0 and len(reports) == 2 * 4 + 1

    lazy = NetworksOnDemand([1, 2, 3, 4], load, keep=1)
    for align in ("last_pca", "procrustes"):
        np.testing.assert_allclose(epoch_maps(lazy, images, align=align), epoch_maps(networks, images, align=align))
    with pytest.raises(ValueError, match="keep=0"):
        NetworksOnDemand([1], load, keep=0)
    with pytest.raises(IndexError):
        lazy[4]


def test_a_network_of_another_shape_is_named():
    start, networks, images, labels = tiny_run(2)
    other = Network(NetworkConfig(hidden_nodes=(9,)), seed=1)
    with pytest.raises(ValueError, match="network 2 is 784-9-10, the others 784-8-10"):
        epoch_changes([networks[0], other], images, labels)
    with pytest.raises(ValueError, match="the starting network is 784-9-10"):
        epoch_changes(networks, images, labels, initial=other)
