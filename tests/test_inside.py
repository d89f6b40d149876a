"""ann.lab.inside: gradient ascent on the shipped models, backquery (by hand, against Rashid's code, on trained
networks), weight pictures, activations and output contributions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

from ann.config import NetworkConfig, TrainConfig
from ann.lab.inside import (
    AscentConfig,
    ascent_images,
    backquery,
    backquery_all,
    backquery_images,
    hidden_activations,
    hidden_weight_images,
    output_contributions,
)
from ann.model_io import load_model
from ann.models import SHIPPED_MODELS
from ann.network import Network
from ann.train import fit

L = np.log(99.0)  # logit(0.99) = -logit(0.01)


def _tiny(activation="sigmoid", loss="mse", bias=False) -> Network:
    """3 inputs, 2 hidden, 2 outputs, with weights small enough to backquery by hand."""
    net = Network(NetworkConfig(input_nodes=3, hidden_nodes=(2,), output_nodes=2, activation=activation,
                                loss=loss, bias=bias, dtype="float64"), seed=0)
    net.weights = [np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]]), np.array([[1.0, -1.0], [0.0, 2.0]])]
    return net


# --------------------------------------------------------------------------- gradient ascent


@pytest.fixture(scope="module")
def shipped_networks() -> dict[str, Network]:
    return {model.name: load_model(model.path).network for model in SHIPPED_MODELS}


# Measured with the defaults: both shipped models read all 10 of their pictures as the digit they were made
# for, with an output of at least 0.997 (handwriting) and 0.998 (seed) for that digit; with the start, the blur,
# the sparsity or the number of steps changed by a fifth, still 10 of 10 and at least 0.948. The other shipped
# model, which never took part in the climb, reads 7 (of the handwriting model's) and 8 (of the seed's) of them
# as the same digits: the pictures carry the digits' shapes, not a pattern only their own network responds to.
@pytest.mark.parametrize("name", [model.name for model in SHIPPED_MODELS])
def test_each_shipped_model_reads_its_gradient_ascent_pictures_as_their_own_digits(shipped_networks, name):
    network = shipped_networks[name]
    pictures = ascent_images(network)
    assert pictures.shape == (10, 784) and pictures.dtype == np.float64
    assert pictures.min() >= 0.01 and pictures.max() <= 1.0
    outputs = network.query(pictures.astype(network.dtype)).astype(np.float64)
    assert int(np.sum(np.argmax(outputs, axis=1) == np.arange(10))) >= 9, np.argmax(outputs, axis=1)
    own = outputs[np.arange(10), np.arange(10)]
    assert np.median(own) >= 0.9, own
    other = next(net for other_name, net in shipped_networks.items() if other_name != name)
    assert int(np.sum(other.predict(pictures.astype(other.dtype)) == np.arange(10))) >= 5
    np.testing.assert_array_equal(ascent_images(network), pictures)  # no randomness: the same every time
    np.testing.assert_array_equal(backquery_images(network, "ascent"), pictures)


def test_gradient_ascent_is_smooth_and_keeps_some_ink(shipped_networks):
    """The blur keeps neighbouring pixels close (a network alone would happily read speckle), and no picture is
    a blank page."""
    network = shipped_networks["seed"]
    smooth = ascent_images(network)
    sharp = ascent_images(network, AscentConfig(blur=0.0, shift=0))
    def roughness(X):
        images = X.reshape(-1, 28, 28)
        return float(np.abs(np.diff(images, axis=1)).mean() + np.abs(np.diff(images, axis=2)).mean())
    assert roughness(smooth) < 0.6 * roughness(sharp), (roughness(smooth), roughness(sharp))
    assert smooth.mean(axis=1).min() >= 0.08  # min_ink 0.1, less what the last step's clipping takes


def test_gradient_ascent_and_the_method_choice_reject_what_they_cannot_do():
    with pytest.raises(ValueError, match="do not form a square image"):
        ascent_images(Network(NetworkConfig(input_nodes=3, hidden_nodes=(2,), output_nodes=2)))
    with pytest.raises(ValueError, match="method='dream' is not known; choose one of: ascent, inversion"):
        backquery_images(Network(NetworkConfig(hidden_nodes=(5,))), "dream")
    net = Network(NetworkConfig(hidden_nodes=(5,)))
    np.testing.assert_array_equal(backquery_images(net, "inversion"), backquery_all(net))


# --------------------------------------------------------------------------- backquery


def test_backquery_by_hand_on_a_tiny_network():
    # label 0: outputs (0.99, 0.01) -> logit (L, -L) -> W_out.T gives (L, -3L) -> rescaled (0.99, 0.01)
    # -> logit (L, -L) -> W_in.T gives (L, -L, -2L) -> rescaled (0.99, 0.01 + 0.98/3, 0.01)
    net = _tiny()
    np.testing.assert_allclose(backquery(net, 0), [0.99, 0.01 + 0.98 / 3, 0.01], atol=1e-12)
    # label 1 mirrors it: (-L, 3L) -> (0.01, 0.99) -> (-L, L) -> (-L, L, 2L) -> (0.01, 0.01 + 0.98*2/3, 0.99)
    np.testing.assert_allclose(backquery(net, 1), [0.01, 0.01 + 0.98 * 2 / 3, 0.99], atol=1e-12)


def test_backquery_by_hand_for_other_activations_and_softmax():
    # tanh: (L, -3L) is squeezed into (0.98, -0.98), arctanh gives (A, -A): the same image as sigmoid
    np.testing.assert_allclose(backquery(_tiny("tanh"), 0), [0.99, 0.01 + 0.98 / 3, 0.01], atol=1e-12)
    # relu: (L, -3L) passes through as is -> W_in.T gives (L, -3L, -4L) -> rescaled (0.99, 0.01 + 0.98/5, 0.01)
    np.testing.assert_allclose(backquery(_tiny("relu"), 0), [0.99, 0.01 + 0.98 / 5, 0.01], atol=1e-12)
    # softmax: centred log of (0.99, 0.01) is (L/2, -L/2), half the logit; the rescale removes the factor
    np.testing.assert_allclose(backquery(_tiny(loss="cross_entropy"), 0), backquery(_tiny(), 0), atol=1e-12)


def test_backquery_subtracts_biases_and_survives_a_constant_signal():
    net = _tiny(bias=True)
    # output net input logit(t) - b = (0, 0) exactly: no pattern left, every layer constant
    net.biases = [np.zeros(2), scipy.special.logit([0.99, 0.01])]
    np.testing.assert_allclose(backquery(net, 0), [0.5, 0.5, 0.5])
    net.biases = [np.zeros(2), np.array([0.0, 0.0])]
    np.testing.assert_allclose(backquery(net, 0), backquery(_tiny(), 0), atol=1e-12)


def _rashid_backquery(wih, who, targets):
    """Make Your Own Neural Network's backquery, transcribed (column vectors, sigmoid, 1 hidden layer)."""
    final_outputs = np.array(targets, ndmin=2).T
    final_inputs = scipy.special.logit(final_outputs)
    hidden_outputs = np.dot(who.T, final_inputs)
    hidden_outputs -= np.min(hidden_outputs)
    hidden_outputs /= np.max(hidden_outputs)
    hidden_outputs *= 0.98
    hidden_outputs += 0.01
    hidden_inputs = scipy.special.logit(hidden_outputs)
    inputs = np.dot(wih.T, hidden_inputs)
    inputs -= np.min(inputs)
    inputs /= np.max(inputs)
    inputs *= 0.98
    inputs += 0.01
    return inputs[:, 0]


def test_backquery_matches_rashids_code_and_has_the_right_shape():
    net = Network(NetworkConfig(hidden_nodes=(30,), dtype="float64"), seed=5)
    images = backquery_all(net)
    assert images.shape == (10, 784) and images.dtype == np.float64
    assert images.min() == pytest.approx(0.01) and images.max() == pytest.approx(0.99)
    for digit in (0, 7):
        targets = np.full(10, 0.01)
        targets[digit] = 0.99
        np.testing.assert_allclose(images[digit], _rashid_backquery(*net.weights, targets), atol=1e-12)
    deep = backquery(Network(NetworkConfig(hidden_nodes=(40, 20, 15), activation="tanh", bias=True)), 3)
    assert deep.shape == (784,) and deep.min() >= 0.01 - 1e-12 and deep.max() <= 0.99 + 1e-12


@pytest.mark.parametrize("label", [10, -1, 2.0, True, "3"])
def test_backquery_rejects_a_label_that_is_not_an_output(label):
    with pytest.raises(ValueError, match="not an output node"):
        backquery(Network(NetworkConfig(hidden_nodes=(5,))), label)


def test_backquery_rejects_targets_at_the_ends():
    with pytest.raises(ValueError, match="0 < low < high < 1"):
        backquery(Network(NetworkConfig(hidden_nodes=(5,))), 1, low=0.0, high=1.0)


# What backquery means: the image made for digit d is the one, of the ten, that drives output d hardest.
# Asked the other way ("does the network classify backquery(d) as d?") the count is chaotic: over seeds
# 80-85, with and without a 1e-7 nudge of the initial weights, in float32 and float64, it ranged 8-9 of 10
# for the sigmoid network, 6-9 for relu/softmax and 2-9 for tanh (sums taken in another order, on another
# BLAS kernel, moved it from 7 to 6 in CI). The property asserted here held for all 10 digits in every one of
# those 72 runs (bench/test_margins.py measures it), and output d's strongest image was backquery(d) for at
# least 8 of 10 in each; the thresholds sit below both.
@pytest.mark.parametrize("network_config,train_config", [
    (NetworkConfig(), TrainConfig(limit=5000, epochs=1, rotate=0.0)),  # the seed's network
    (NetworkConfig(activation="tanh"), TrainConfig(limit=5000, epochs=1, rotate=0.0, learning_rate=0.05)),
    (NetworkConfig(activation="relu", loss="cross_entropy", propagate="delta", bias=True),
     TrainConfig(limit=5000, epochs=1, rotate=0.0, learning_rate=0.05)),
], ids=["sigmoid", "tanh", "relu-softmax-bias"])
def test_a_trained_network_recognises_its_own_backquery_images(mnist, network_config, train_config):
    """Each digit's backquery image drives that digit's output above its mean over the other nine images."""
    net = Network(network_config, seed=80)
    fit(net, mnist.train.images, mnist.train.labels, train_config)
    outputs = net.query(backquery_all(net))  # row i: the ten outputs for backquery(i)
    own = np.diag(outputs)
    others = (outputs.sum(axis=0) - own) / 9
    assert int(np.sum(own > others)) >= 9, (own, others)  # 10 of 10 in every measured run
    assert int(np.sum(np.argmax(outputs, axis=0) == np.arange(10))) >= 6, outputs  # 8-10 measured


# --------------------------------------------------------------------------- weights, activations, contributions


def test_hidden_weight_images_are_the_first_layers_rows():
    net = Network(NetworkConfig(hidden_nodes=(20, 7)), seed=1)
    images = hidden_weight_images(net)
    assert images.shape == (20, 28, 28) and images.dtype == net.weights[0].dtype
    np.testing.assert_array_equal(images[4], net.weights[0][4].reshape(28, 28))
    images[0] = 99.0  # a copy: the network is untouched
    assert not np.any(net.weights[0] == 99.0)
    with pytest.raises(ValueError, match="20 inputs, which do not form a square image"):
        hidden_weight_images(net, layer=1)
    with pytest.raises(ValueError, match="layer=3 does not exist"):
        hidden_weight_images(net, layer=3)


def test_hidden_activations_for_one_input(mnist):
    net = Network(NetworkConfig(hidden_nodes=(20, 7)), seed=1)
    pixels = mnist.test.images[0]
    hidden = hidden_activations(net, pixels)
    assert [h.shape for h in hidden] == [(20,), (7,)]
    layers = net.forward(pixels.astype(np.float32) / 255 * 0.99 + 0.01)
    np.testing.assert_allclose(hidden[1], layers[2][0], rtol=1e-6)
    np.testing.assert_allclose(hidden_activations(net, pixels[None, :])[0], hidden[0])
    with pytest.raises(ValueError, match="not one input"):
        hidden_activations(net, mnist.test.images[:2])


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_output_contributions_add_up_to_the_output_net_input(mnist, loss):
    net = Network(NetworkConfig(hidden_nodes=(30, 12), loss=loss, bias=True, dtype="float64"), seed=2)
    rng = np.random.default_rng(0)
    for b in net.biases:
        b += rng.normal(0, 0.5, b.shape)
    x = mnist.test.images[3]
    contributions = output_contributions(net, x)
    assert contributions.shape == (10, 12)
    net_input = contributions.sum(axis=1) + net.biases[-1]
    outputs = net.query(x.astype(np.float64) / 255 * 0.99 + 0.01)[0]
    if loss == "mse":  # sigmoid: the logit undoes it
        np.testing.assert_allclose(net_input, scipy.special.logit(outputs), rtol=1e-9, atol=1e-9)
    else:  # softmax: undone up to a constant
        np.testing.assert_allclose(net_input - net_input.mean(), np.log(outputs) - np.log(outputs).mean(),
                                   atol=1e-9)


def test_output_contributions_of_the_seed_network_without_bias(mnist):
    net = Network(NetworkConfig(), seed=80)
    x = mnist.test.images[0]
    contributions = output_contributions(net, x)
    assert contributions.shape == (10, 200)
    outputs = net.query(x.astype(np.float32) / 255 * 0.99 + 0.01)[0]
    np.testing.assert_allclose(scipy.special.expit(contributions.sum(axis=1)), outputs, rtol=1e-5)
