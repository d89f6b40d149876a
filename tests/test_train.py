"""The training loop on real MNIST: metrics per epoch, progress, stop, schedules, and a real score."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from synthetic import band_set

from ann.config import PRESETS, ConfigError, NetworkConfig, TrainConfig, configs_from_dict
from ann.metrics import confusion_matrix, evaluate, most_confident_mistakes, precision_recall, scorecard
from ann.network import Network
from ann.train import fit, learning_rate_at, train

KEYS = {"epoch", "train_loss", "train_accuracy", "test_accuracy", "test_loss", "seconds", "samples_seen",
        "learning_rate", "stopped"}


def test_short_real_mnist_run_reaches_a_stated_accuracy(mnist):
    """The seed's network, one sample at a time with its rotations, on 10,000 real records: >= 91%."""
    net = Network(NetworkConfig(), seed=80)
    history = fit(net, mnist.train.images, mnist.train.labels, TrainConfig(limit=10_000, epochs=1),
                  test_images=mnist.test.images, test_labels=mnist.test.labels)
    (metrics,) = history
    assert set(metrics) == KEYS
    assert metrics["samples_seen"] == 30_000  # each record plus its two rotations
    assert metrics["test_accuracy"] >= 0.91
    assert 0.5 < metrics["train_accuracy"] <= 1.0
    assert metrics["seconds"] > 0


def test_minibatch_momentum_run_on_full_mnist_epoch(mnist):
    """One fast epoch over all 60,000 records in mini-batches: >= 93% (95.33-95.67% measured over 5 seeds,
    both dtypes and a 1e-7 nudge of the initial weights, bench/test_margins.py)."""
    net = Network(PRESETS["fast"].network, seed=80)
    config = PRESETS["fast"].train
    history = fit(net, mnist.train.images, mnist.train.labels,
                  TrainConfig(**{**config.__dict__, "epochs": 1}),
                  test_images=mnist.test.images, test_labels=mnist.test.labels)
    assert history[0]["samples_seen"] == 60_000
    assert history[0]["test_accuracy"] >= 0.93


def test_progress_is_reported_and_loss_falls(mnist):
    calls = []
    net = Network(NetworkConfig(), seed=80)
    history = fit(net, mnist.train.images, mnist.train.labels,
                  TrainConfig(limit=3000, epochs=2, rotate=0.0, batch_size=10, learning_rate=0.3),
                  progress=lambda done, total: calls.append((done, total)))
    # chunks of whole batches (1020 records), per epoch, ending at the epoch's total
    assert calls == [(1020, 3000), (2040, 3000), (3000, 3000)] * 2
    assert history[1]["train_loss"] < history[0]["train_loss"]
    assert history[1]["samples_seen"] == 6000
    assert history[0]["test_accuracy"] is None  # no test set given


def test_stop_request_ends_cleanly_between_steps(mnist):
    net = Network(NetworkConfig(), seed=80)
    seen = []

    def progress(done, total):
        seen.append(done)

    gen = train(net, mnist.train.images, mnist.train.labels, TrainConfig(limit=20_000, epochs=3),
                test_images=mnist.test.images[:500], test_labels=mnist.test.labels[:500],
                progress=progress, should_stop=lambda: len(seen) >= 2)
    results = list(gen)
    assert len(results) == 1 and results[0]["stopped"] is True
    assert results[0]["samples_seen"] == seen[-1] < 60_000
    assert all(np.all(np.isfinite(W)) for W in net.weights)
    assert results[0]["test_accuracy"] is not None  # the partial network is still scored


def test_shuffle_and_augmentation_are_reproducible(mnist):
    config = TrainConfig(limit=1000, epochs=1, batch_size=20, augment="random", rotate=10, shift=2,
                         elastic_alpha=20, shuffle=True, seed=7)
    nets = [Network(NetworkConfig(), seed=7) for _ in range(2)]
    for net in nets:
        fit(net, mnist.train.images, mnist.train.labels, config)
    np.testing.assert_array_equal(nets[0].weights[0], nets[1].weights[0])
    other = Network(NetworkConfig(), seed=7)
    fit(other, mnist.train.images, mnist.train.labels, TrainConfig(**{**config.__dict__, "seed": 8}))
    assert not np.array_equal(other.weights[0], nets[0].weights[0])


def test_training_does_not_mutate_the_data(mnist):
    images = np.array(mnist.train.images[:500])
    before = images.copy()
    fit(Network(), images, mnist.train.labels[:500], TrainConfig(epochs=1))
    np.testing.assert_array_equal(images, before)


def test_bad_training_inputs():
    net = Network()
    with pytest.raises(ValueError, match="do not fit"):
        list(train(net, np.zeros((10, 100), np.uint8), np.zeros(10, np.int64)))
    with pytest.raises(ValueError, match="10 images but 9 labels"):
        list(train(net, np.zeros((10, 784), np.uint8), np.zeros(9, np.int64)))


def test_cosine_schedule():
    config = TrainConfig(learning_rate=0.1, epochs=10, schedule="cosine", warmup_epochs=1)
    assert learning_rate_at(config, 0.5) == pytest.approx(0.05)
    assert learning_rate_at(config, 1.0) == pytest.approx(0.1)
    assert learning_rate_at(config, 5.5) == pytest.approx(0.05)
    assert learning_rate_at(config, 10) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate_at(TrainConfig(), 3.3) == 0.1


@pytest.mark.parametrize("bad, match", [
    (dict(learning_rate=0), r"learning_rate=0 is out of range"),
    (dict(learning_rate=1e9), r"learning_rate=1000000000.0 is out of range"),
    (dict(epochs=0), r"epochs=0"),
    (dict(batch_size=10**9), r"batch_size"),
    (dict(rotate=-5), r"rotate=-5"),
    (dict(augment="mixup"), r"augment='mixup' is not known"),
])
def test_absurd_hyperparameters_are_refused(bad, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**bad)


def test_configs_from_dict_layers_presets_and_overrides():
    net, tr = configs_from_dict({"epochs": 2}, preset="best")
    assert tr.epochs == 2 and net == PRESETS["best"].network
    net, tr = configs_from_dict({})
    assert net == NetworkConfig() and tr == TrainConfig()
    with pytest.raises(ConfigError, match="unknown configuration keys: colour"):
        configs_from_dict({"colour": "red"})
    with pytest.raises(ConfigError, match="preset='huge'"):
        configs_from_dict({}, preset="huge")


def test_metrics_on_a_known_case():
    labels = np.array([0, 0, 1, 1, 2, 2])
    preds = np.array([0, 1, 1, 1, 2, 0])
    assert scorecard(preds, labels).tolist() == [1, 0, 1, 1, 1, 0]
    C = confusion_matrix(labels, preds, 3)
    assert C.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    precision, recall = precision_recall(C)
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 1.0])
    np.testing.assert_allclose(recall, [0.5, 1.0, 0.5])
    precision, recall = precision_recall(np.zeros((3, 3)))  # never predicted: 0, not NaN
    assert np.all(precision == 0) and np.all(recall == 0)


def test_evaluate_on_real_test_set(mnist):
    net = Network(PRESETS["fast"].network, seed=80)
    fit(net, mnist.train.images, mnist.train.labels,
        TrainConfig(**{**PRESETS["fast"].train.__dict__, "epochs": 1, "limit": 10_000}))
    result = evaluate(net, mnist.test.images, mnist.test.labels)
    assert result.confusion.sum() == 10_000
    assert result.confusion.sum(axis=1).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert result.accuracy == pytest.approx(np.trace(result.confusion) / 10_000)
    assert result.accuracy > 0.88  # 91.24-91.89% measured over 5 seeds and both dtypes (bench/test_margins.py)
    worst = most_confident_mistakes(result, mnist.test.labels, k=5)
    assert len(worst) == 5
    assert np.all(result.predictions[worst] != mnist.test.labels[worst])
    assert np.all(np.diff(result.confidences[worst]) <= 0)


def test_evaluate_reports_its_progress_batch_by_batch_and_scores_the_same():
    X, y = band_set(450, 3)
    net = Network(NetworkConfig(hidden_nodes=(12,)), seed=1)
    reports: list[tuple[int, int]] = []
    result = evaluate(net, X, y, batch=200, progress=lambda done, total: reports.append((done, total)))
    assert reports == [(200, 450), (400, 450), (450, 450)]
    plain = evaluate(net, X, y, batch=200)
    assert np.array_equal(result.outputs, plain.outputs) and result.accuracy == plain.accuracy


def test_elastic_fraction_distorts_only_its_share_of_a_chunk():
    """elastic_fraction=0.25: the first quarter of the chunk is distorted elastically, the rest untouched
    (no rotation or shift here, so the rest comes back exactly)."""
    from ann.train import random_variant

    X = np.random.default_rng(0).uniform(0.01, 1.0, (16, 784)).astype(np.float32)
    config = TrainConfig(augment="random", rotate=0.0, elastic_alpha=34.0, elastic_fraction=0.25)
    out = random_variant(X, np.random.default_rng(1), config)
    assert out.shape == X.shape and out.dtype == X.dtype
    assert np.array_equal(out[4:], X[4:])
    assert all(not np.allclose(out[i], X[i]) for i in range(4))
    with pytest.raises(ConfigError, match="elastic_fraction=1.5 is out of range"):
        TrainConfig(elastic_fraction=1.5)


@pytest.mark.parametrize("preset", ["seed", "fast"])
def test_continuing_a_run_equals_one_longer_run(mnist, preset):
    """5 epochs, then 3 more from where they ended (same network, the random generator carried over), are
    the 8 epochs of one run: bit for bit, for the seed's per-sample loop and for shuffled momentum batches."""
    from dataclasses import replace

    network_config = replace(PRESETS[preset].network, dtype="float64")
    config = replace(PRESETS[preset].train, epochs=8, limit=600)
    whole = Network(network_config, seed=80)
    whole_history = fit(whole, mnist.train.images, mnist.train.labels, config)

    parts = Network(network_config, seed=80)
    rng = np.random.default_rng(config.seed)
    first = fit(parts, mnist.train.images, mnist.train.labels, replace(config, epochs=5), rng=rng)
    rest = fit(parts, mnist.train.images, mnist.train.labels, config, start_epoch=5, rng=rng,
               samples_seen=first[-1]["samples_seen"])
    for W_whole, W_parts in zip(whole.weights, parts.weights):
        assert np.array_equal(W_whole, W_parts)
    assert [e["epoch"] for e in first + rest] == list(range(1, 9))
    assert [e["train_loss"] for e in first + rest] == [e["train_loss"] for e in whole_history]
    assert rest[-1]["samples_seen"] == whole_history[-1]["samples_seen"]
    with pytest.raises(ValueError, match="start_epoch=9 is outside 0..8"):
        next(iter(fit(parts, mnist.train.images, mnist.train.labels, config, start_epoch=9)))


def test_a_learning_rate_changed_while_training_takes_effect_at_the_next_chunk():
    """base_learning_rate is read before every chunk: a rate that never changes gives the same steps as
    the configuration's; a change applies from the next chunk on and is reported as the epoch's rate."""
    images, labels = band_set()
    config = TrainConfig(epochs=2, rotate=0.0, batch_size=16, learning_rate=0.1)
    plain, same = Network(seed=3), Network(seed=3)
    fit(plain, images, labels, config)
    fit(same, images, labels, config, base_learning_rate=lambda: 0.1)
    assert all(np.array_equal(a, b) for a, b in zip(plain.weights, same.weights))

    rates = iter([0.1, 0.1, 0.5, 0.5])  # chunks of 1,024 records: epoch 1 at 0.1, epoch 2 at 0.5
    changed = Network(seed=3)
    history = fit(changed, images, labels, config, base_learning_rate=lambda: next(rates))
    assert [epoch["learning_rate"] for epoch in history] == [0.1, 0.5]
    # the same as one epoch at 0.1 followed by one at 0.5
    by_hand = Network(seed=3)
    rng = np.random.default_rng(config.seed)
    fit(by_hand, images, labels, replace(config, epochs=1), rng=rng)
    fit(by_hand, images, labels, replace(config, learning_rate=0.5), start_epoch=1, rng=rng)
    assert all(np.array_equal(a, b) for a, b in zip(changed.weights, by_hand.weights))
    assert not all(np.array_equal(a, b) for a, b in zip(changed.weights, plain.weights))


def test_time_spent_in_the_stop_callback_is_not_training_time():
    """A paused run waits inside should_stop: that wait is left out of the epoch's seconds."""
    import time

    images, labels = band_set(1024)
    config = TrainConfig(epochs=1, rotate=0.0, batch_size=64)

    def slow_check() -> bool:
        time.sleep(0.5)
        return False

    history = fit(Network(seed=1), images, labels, config, should_stop=slow_check)
    assert history[0]["seconds"] < 0.4  # the 0.5 s wait is not counted; the training itself is ~10 ms
