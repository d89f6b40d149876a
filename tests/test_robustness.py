"""ann.lab.robustness: damage to images, the exact input gradient, FGSM, the occlusion map, one image's summary."""

from __future__ import annotations

import numpy as np
import pytest

from ann.config import NetworkConfig
from ann.lab.robustness import (
    INK,
    PAPER,
    PERTURBATIONS,
    accuracy_curve,
    add_noise,
    fgsm,
    fooling_epsilon,
    input_gradient,
    level_seconds,
    occlude,
    occlusion_map,
    rotate,
    sensitivity,
    stroke,
    sweep_estimate,
)
from ann.network import Network

CONFIGS = {
    "seed": NetworkConfig(hidden_nodes=(12,), dtype="float64"),
    "tanh_two_layers": NetworkConfig(hidden_nodes=(12, 8), activation="tanh", bias=True, dtype="float64"),
    "relu_softmax": NetworkConfig(hidden_nodes=(12,), activation="relu", loss="cross_entropy", bias=True,
                                  dtype="float64"),
    "trained_by_equal_split": NetworkConfig(hidden_nodes=(12,), error_rule="equal", dtype="float64"),
}


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(PAPER, INK, (n, 784))


def sample_losses(net: Network, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.array([net.loss(x[None, :], net.targets(np.array([y]))) for x, y in zip(X, labels)])


# --------------------------------------------------------------------------- the input gradient and FGSM


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_input_gradient_matches_finite_differences(name):
    net = Network(CONFIGS[name], seed=2)
    if net.biases is not None:
        net.biases = [np.random.default_rng(3).normal(0, 0.5, b.shape) for b in net.biases]
    X, labels = images(3), np.array([0, 4, 9])
    gradient = input_gradient(net, X, labels)
    assert gradient.shape == (3, 784) and gradient.dtype == np.float64
    pixels = np.random.default_rng(1).choice(784, 25, replace=False)
    h = 1e-6
    for i in range(3):
        for p in pixels:
            up, down = X[i:i + 1].copy(), X[i:i + 1].copy()
            up[0, p] += h
            down[0, p] -= h
            T = net.targets(labels[i:i + 1])
            numeric = (net.loss(up, T) - net.loss(down, T)) / (2 * h)
            assert gradient[i, p] == pytest.approx(numeric, rel=1e-5, abs=1e-10)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_an_fgsm_step_raises_every_samples_loss(name):
    net = Network(CONFIGS[name], seed=2)
    X, labels = images(20, seed=4), np.arange(20) % 10
    before = sample_losses(net, X, labels)
    after = sample_losses(net, fgsm(net, X, labels, 0.01), labels)
    assert np.all(after > before)


def test_fgsm_moves_each_pixel_by_epsilon_inside_the_pixel_range():
    net = Network(CONFIGS["seed"], seed=2)
    X, labels = images(5), np.arange(5)
    X[:, :100] = PAPER  # background pixels can only grow
    adversarial = fgsm(net, X, labels, 0.1)
    assert adversarial.dtype == X.dtype
    assert adversarial.min() >= PAPER and adversarial.max() <= INK
    change = np.abs(adversarial - X)
    assert np.all((np.isclose(change, 0.1)) | (adversarial == PAPER) | (adversarial == INK))
    np.testing.assert_array_equal(fgsm(net, X, labels, 0.0), X)


def test_fgsm_fools_the_pretrained_network_more_than_random_signs(mnist):
    """The shipped model on 500 test images: FGSM at epsilon 0.1 costs far more accuracy than a random +-0.1
    sign pattern of the same size. Measured on five slices of 500 test images (0, 500, 2000, 5000, 9500):
    clean 95.0-99.2%, FGSM 59.8-77.6%, random signs 85.2-94.2%, the gap 16.6-27.6 points."""
    from pathlib import Path

    from ann.inputs import scale_inputs
    from ann.model_io import load_model

    net = load_model(Path(__file__).resolve().parents[1] / "data" / "pretrained.npz").network
    X = scale_inputs(mnist.test.images[:500])
    y = mnist.test.labels[:500]
    clean = np.mean(net.predict(X) == y)
    attacked = np.mean(net.predict(fgsm(net, X, y, 0.1)) == y)
    signs = np.random.default_rng(0).choice([-1.0, 1.0], X.shape).astype(np.float32)
    random_signs = np.mean(net.predict(np.clip(X + 0.1 * signs, PAPER, INK)) == y)
    assert clean > 0.93
    assert attacked < 0.85
    assert attacked < random_signs - 0.08


def test_fooling_epsilon_finds_the_smallest_step_that_changes_the_answer():
    net = Network(CONFIGS["seed"], seed=2)
    x = images(1)[0]
    predicted = int(net.predict(x[None, :])[0])
    epsilon, fooled = fooling_epsilon(net, x, predicted, epsilons=np.linspace(0.01, 1.0, 100))
    assert epsilon is not None
    assert int(net.predict(fooled[None, :])[0]) != predicted
    smaller = fgsm(net, x[None, :], np.array([predicted]), round(epsilon - 0.01, 10)) if epsilon > 0.01 else None
    if smaller is not None:
        assert int(net.predict(smaller)[0]) == predicted
    assert fooling_epsilon(net, x, predicted, epsilons=[0.0]) == (None, None)


# --------------------------------------------------------------------------- everyday damage


def test_noise_is_seeded_and_stays_in_range():
    X = images(4)
    a = add_noise(X, 0.3, np.random.default_rng(7))
    b = add_noise(X, 0.3, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.min() >= PAPER and a.max() <= INK
    assert 0.15 < np.std(a - X) < 0.3  # clipping shrinks it below 0.3
    np.testing.assert_array_equal(add_noise(X, 0.0, np.random.default_rng(7)), X)


def test_stroke_thickens_and_thins_by_one_pixel_a_step():
    X = np.full((1, 784), PAPER)
    X[0, 14 * 28 + 14] = INK  # one dot
    grown = stroke(X, 1).reshape(28, 28)
    assert set(zip(*np.nonzero(grown > PAPER))) == {(14, 14), (13, 14), (15, 14), (14, 13), (14, 15)}
    bar = np.full((28, 28), PAPER)
    bar[5:20, 10:13] = INK  # a bar three pixels wide
    thinner = stroke(bar.reshape(1, 784), -1).reshape(28, 28)
    assert np.array_equal(np.nonzero((thinner > PAPER).any(axis=0))[0], [11])  # one pixel wide
    assert stroke(bar.reshape(1, 784), -2).max() == PAPER  # gone
    np.testing.assert_array_equal(stroke(X, 0), X)


def test_stroke_keeps_the_images_of_a_batch_apart():
    X = np.full((2, 784), PAPER)
    X[0, 0] = INK  # a dot in the corner of the first image only
    out = stroke(X, 2)
    assert out[1].max() == PAPER


def test_occlude_puts_one_square_of_paper_inside_the_digits_box():
    X = np.full((50, 784), INK)
    out = occlude(X, 6, np.random.default_rng(0)).reshape(50, 28, 28)
    for image in out:
        rows, cols = np.nonzero(image == PAPER)
        assert len(rows) == 36
        assert rows.max() - rows.min() == 5 and cols.max() - cols.min() == 5
        assert rows.min() >= 4 and rows.max() < 24 and cols.min() >= 4 and cols.max() < 24
    np.testing.assert_array_equal(occlude(X, 0, np.random.default_rng(0)), X)


def test_rotate_is_the_seeds_rotation():
    import scipy.ndimage

    X = images(2)
    expected = scipy.ndimage.rotate(X[1].reshape(28, 28), 30, cval=0.01, order=1, reshape=False)
    np.testing.assert_allclose(rotate(X, 30)[1].reshape(28, 28), np.clip(expected, PAPER, INK), atol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: add_noise(images(1), -0.1, np.random.default_rng(0)), r"sigma=-0.1 is out of range"),
    (lambda: add_noise(images(1), 0.1, 3), "rng must be a numpy.random.Generator"),
    (lambda: stroke(images(1), 9), "steps=9 must be a whole number from -5"),
    (lambda: occlude(images(1), 30, np.random.default_rng(0)), "side=30 must be"),
    (lambda: rotate(np.zeros((2, 10)), 5), r"X has shape \(2, 10\)"),
    (lambda: rotate(np.zeros((2, 784), np.uint8), 5), "X has dtype uint8"),
    (lambda: fgsm(Network(CONFIGS["seed"]), images(1), [0], 2.0), "epsilon=2.0 is out of range"),
    (lambda: input_gradient(Network(CONFIGS["seed"]), images(2), [0]), "labels of shape"),
    (lambda: list(accuracy_curve(Network(CONFIGS["seed"]), images(2), [0, 1], "blur")), "kind='blur'"),
])
def test_bad_settings_are_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# --------------------------------------------------------------------------- accuracy curves


@pytest.mark.parametrize("kind", list(PERTURBATIONS))
def test_accuracy_curve_starts_at_the_clean_accuracy(kind):
    net = Network(CONFIGS["seed"], seed=2)
    X, labels = images(40), np.arange(40) % 10
    levels = PERTURBATIONS[kind].levels[:3]
    points = list(accuracy_curve(net, X, labels, kind, levels, batch=16))
    assert [p["level"] for p in points] == list(levels)
    assert points[0]["accuracy"] == np.mean(net.predict(X) == labels)
    assert points[0]["changed"] == 0.0
    for p in points:
        assert 0.0 <= p["accuracy"] <= 1.0 and 0.0 <= p["changed"] <= 1.0 and p["confidence"] > 0


def test_accuracy_curve_levels_do_not_depend_on_each_other():
    net = Network(CONFIGS["seed"], seed=2)
    X, labels = images(30), np.arange(30) % 10
    alone = list(accuracy_curve(net, X, labels, "noise", [0.4]))
    together = list(accuracy_curve(net, X, labels, "noise", [0.2, 0.4]))
    assert alone[0] == together[1]


# --------------------------------------------------------------------------- the occlusion map


def test_occlusion_map_of_a_network_that_looks_at_one_pixel():
    """A network without hidden layer whose output 0 is sigmoid(5 * pixel (10, 12)): hiding that pixel is the
    only thing that matters, so the map is the full drop there, zero wherever no patch covering it reaches
    that pixel, and in between the share of a pixel's patches that cover (10, 12)."""
    net = Network(NetworkConfig(hidden_nodes=(), dtype="float64"))
    net.weights[0][:] = 0.0
    net.weights[0][0, 10 * 28 + 12] = 5.0
    x = np.full(784, INK)
    patch = 4
    heat = occlusion_map(net, x, 0, patch=patch)
    assert heat.shape == (28, 28) and heat.dtype == np.float64
    drop = 1 / (1 + np.exp(-5 * INK)) - 1 / (1 + np.exp(-5 * PAPER))
    assert heat[10, 12] == pytest.approx(drop, rel=1e-12)
    rows, cols = np.indices((28, 28))
    far = (np.abs(rows - 10) >= patch) | (np.abs(cols - 12) >= patch)
    assert np.all(heat[far] == 0.0)
    assert np.all(heat[~far] > 0.0) and heat.max() == pytest.approx(drop, rel=1e-12)
    # A neighbour: 3 of the 4 row offsets (and all 4 column ones) of its 16 patches also cover (10, 12).
    assert heat[11, 12] == pytest.approx(drop * 3 / 4, rel=1e-12)


def test_occlusion_map_covers_every_pixel_with_a_stride():
    net = Network(CONFIGS["seed"], seed=2)
    heat = occlusion_map(net, images(1)[0], 3, patch=5, stride=3)
    assert heat.shape == (28, 28) and np.all(np.isfinite(heat))


def test_occlusion_map_names_bad_settings():
    net = Network(CONFIGS["seed"], seed=2)
    with pytest.raises(ValueError, match="digit=10 is not an output node"):
        occlusion_map(net, images(1)[0], 10)
    with pytest.raises(ValueError, match="stride=5 must be a whole number from 1 to the patch size"):
        occlusion_map(net, images(1)[0], 1, patch=4, stride=5)
    with pytest.raises(ValueError, match="x holds 2 images"):
        occlusion_map(net, images(2), 1)


def test_sensitivity_of_one_image():
    net = Network(CONFIGS["seed"], seed=2)
    x = images(1)[0]
    report = sensitivity(net, x)
    outputs = net.query(x[None, :])[0]
    assert report["predicted"] == int(np.argmax(outputs))
    assert report["confidence"] == pytest.approx(outputs.max())
    assert report["margin"] == pytest.approx(np.sort(outputs)[-1] - np.sort(outputs)[-2])
    assert report["rotation_predictions"][list(report["rotation_angles"]).index(0.0)] == report["predicted"]
    assert report["stroke_predictions"][list(report["stroke_steps"]).index(0)] == report["predicted"]
    assert report["occlusion"].shape == (28, 28)
    if report["fooled"] is not None:
        assert report["fooled_prediction"] != report["predicted"]


def test_a_sweeps_estimate_is_each_kinds_measured_cost_times_its_levels_and_images():
    net = Network(CONFIGS["seed"], seed=0)
    X, labels = images(300), np.arange(300) % 10
    per_image = {kind: level_seconds(net, X, labels, kind) for kind in ("noise", "fgsm")}
    assert all(seconds > 0 for seconds in per_image.values())
    assert level_seconds(net, X, labels, "noise") == per_image["noise"]  # measured once per shape and kind
    expected = sum(per_image[kind] * 300 * len(PERTURBATIONS[kind].levels) for kind in per_image)
    assert sweep_estimate(net, X, labels, ["noise", "fgsm"]) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="kind='blur' is not known"):
        level_seconds(net, X, labels, "blur")
