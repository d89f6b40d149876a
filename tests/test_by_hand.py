"""ann.lab.by_hand: every number of one step worked out by hand, checked against ann.network doing the same step."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ann.config import ERROR_RULE_NAMES, NetworkConfig
from ann.lab.by_hand import SEED_EXAMPLE, hidden_errors_by_rule, node_step, small_step
from ann.network import Network

PROPAGATE = {"seed": "error", "exact": "delta"}


def network_with(hidden_weights, output_weights, rule="transpose", update="seed") -> Network:
    W_ih, W_ho = np.asarray(hidden_weights, float), np.asarray(output_weights, float)
    config = NetworkConfig(input_nodes=W_ih.shape[1], hidden_nodes=(W_ih.shape[0],), output_nodes=W_ho.shape[0],
                           error_rule=rule, propagate=PROPAGATE[update], dtype="float64")
    net = Network(config)
    net.weights = [W_ih.copy(), W_ho.copy()]
    return net


def test_the_seeds_example_splits_an_error_three_to_one():
    """Section 4.2: weights 3.0 and 1.0 into one output node split its error 3/4 and 1/4 (by share)."""
    errors = hidden_errors_by_rule(np.array([[3.0, 1.0]]), np.array([0.8]))
    assert errors["proportional"] == pytest.approx([0.6, 0.2])
    assert errors["equal"] == pytest.approx([0.4, 0.4])  # split evenly over the N = 2 links
    assert errors["transpose"] == pytest.approx([2.4, 0.8])  # W^T . E
    assert errors["transpose_normalized"] == pytest.approx([1.2, 0.4])  # W^T . E / N


def test_the_seeds_forward_example():
    """Section 4.1 with Rashid's numbers: X = W . I, then the sigmoid (0.7408 and 0.6457 in the book)."""
    w = small_step(**SEED_EXAMPLE)
    assert w.hidden_net == pytest.approx([1.05, 0.6])
    assert w.hidden_outputs == pytest.approx([0.7408, 0.6457], abs=5e-5)


@pytest.mark.parametrize("rule", ERROR_RULE_NAMES)
@pytest.mark.parametrize("update", ["seed", "exact"])
@pytest.mark.parametrize("example", ["seed", "random"])
def test_every_number_of_a_small_step_matches_the_network(rule, update, example):
    if example == "seed":
        values = dict(SEED_EXAMPLE)
    else:  # 3 inputs, 4 hidden nodes, 2 outputs, weights of both signs
        rng = np.random.default_rng(5)
        values = {"inputs": rng.uniform(0.01, 1.0, 3), "hidden_weights": rng.normal(0, 1, (4, 3)),
                  "output_weights": rng.normal(0, 1, (2, 4)), "targets": np.array([0.01, 0.99]),
                  "learning_rate": 0.3}
    w = small_step(**values, update=update, error_rule=rule)
    net = network_with(values["hidden_weights"], values["output_weights"], rule, update)
    x, t = values["inputs"][None, :], values["targets"][None, :]

    _, hidden, outputs = net.forward(x)
    np.testing.assert_allclose(w.hidden_net, x[0] @ net.weights[0].T, rtol=1e-13)
    np.testing.assert_allclose(w.hidden_outputs, hidden[0], rtol=1e-13)
    np.testing.assert_allclose(w.output_net, hidden[0] @ net.weights[1].T, rtol=1e-13)
    np.testing.assert_allclose(w.outputs, outputs[0], rtol=1e-13)
    np.testing.assert_allclose(w.output_errors, t[0] - outputs[0], rtol=1e-13)
    assert w.loss == pytest.approx(net.loss(x, t), rel=1e-13)

    before = [W.copy() for W in net.weights]
    net.train(x, t, values["learning_rate"])
    np.testing.assert_allclose(w.output_weight_changes, net.weights[1] - before[1], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(w.hidden_weight_changes, net.weights[0] - before[0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(w.new_output_weights, net.weights[1], rtol=1e-13)
    np.testing.assert_allclose(w.new_hidden_weights, net.weights[0], rtol=1e-13)
    np.testing.assert_allclose(w.new_outputs, net.query(x)[0], rtol=1e-13)
    assert w.new_loss == pytest.approx(net.loss(x, t), rel=1e-12)
    # The hidden error the step used is the chosen rule's, and its entries are what the change is built from.
    np.testing.assert_array_equal(w.hidden_errors, w.hidden_errors_by_rule[rule])
    np.testing.assert_allclose(w.hidden_weight_changes,
                               w.learning_rate * np.outer(w.hidden_errors * w.hidden_slopes, w.inputs), rtol=1e-14)


def test_the_exact_update_is_the_gradient_and_the_seeds_is_not():
    values = dict(SEED_EXAMPLE)
    exact = small_step(**values, update="exact")
    seed = small_step(**values, update="seed")
    lr = values["learning_rate"]

    def loss_at(W_ih):
        return small_step(values["inputs"], W_ih, values["output_weights"], values["targets"], lr).loss

    h = 1e-6
    numeric = np.zeros((2, 2))
    for j in range(2):
        for i in range(2):
            up, down = values["hidden_weights"].copy(), values["hidden_weights"].copy()
            up[j, i] += h
            down[j, i] -= h
            numeric[j, i] = (loss_at(up) - loss_at(down)) / (2 * h)
    np.testing.assert_allclose(-exact.hidden_weight_changes / lr, numeric, rtol=1e-6)
    assert not np.allclose(-seed.hidden_weight_changes / lr, numeric, rtol=0.1)
    # The output layer's change is the same under both: only what is sent back differs.
    np.testing.assert_array_equal(exact.output_weight_changes, seed.output_weight_changes)


def test_a_step_makes_the_error_smaller():
    w = small_step(**SEED_EXAMPLE)
    assert w.new_loss < w.loss


@pytest.mark.parametrize("bad, match", [
    ({"inputs": [1.0, float("nan")]}, "not a finite number"),
    ({"hidden_weights": [[1.0, 2.0, 3.0]]}, "hidden_weights has shape"),
    ({"targets": [1.5, 0.0]}, "must lie in 0..1"),
    ({"learning_rate": 0.0}, "learning_rate=0.0 is out of range"),
    ({"update": "adam"}, "update='adam' is not known"),
    ({"error_rule": "half"}, "error_rule='half' is not known"),
])
def test_bad_values_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        small_step(**(dict(SEED_EXAMPLE) | bad))


# --------------------------------------------------------------------------- one node of a real network

CONFIGS = {
    "seed": NetworkConfig(hidden_nodes=(6, 5)),
    "relu_softmax_bias": NetworkConfig(hidden_nodes=(6, 5), activation="relu", loss="cross_entropy", bias=True,
                                       propagate="delta"),
    "tanh_bias_float64": NetworkConfig(hidden_nodes=(6,), activation="tanh", bias=True, dtype="float64",
                                       error_rule="proportional"),
}


def tiny_network(name: str) -> Network:
    net = Network(CONFIGS[name], seed=3)
    if net.biases is not None:  # biases that are not zero, so that they take part
        rng = np.random.default_rng(4)
        net.biases = [rng.normal(0, 0.3, b.shape).astype(b.dtype) for b in net.biases]
    return net


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("update", ["seed", "exact"])
def test_every_number_of_a_node_matches_the_network(name, update):
    net = tiny_network(name)
    x = np.random.default_rng(1).uniform(0.01, 1.0, 784)
    label = 3
    for layer in range(1, len(net.weights) + 1):
        for node in (0, net.weights[layer - 1].shape[0] - 1):
            w = node_step(net, x, label, layer, node, learning_rate=0.2, update=update)
            reference = Network(replace(net.config, dtype="float64", propagate=PROPAGATE[update]))
            reference.weights = [W.astype(np.float64) for W in net.weights]
            reference.biases = [b.astype(np.float64) for b in net.biases] if net.biases is not None else None
            layers = reference.forward(x[None, :])
            np.testing.assert_allclose(w.inputs, layers[layer - 1][0], rtol=1e-13)
            np.testing.assert_allclose(w.output, layers[layer][0, node], rtol=1e-13)
            if w.activation != "softmax":  # a softmax output needs every node's net input
                f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
                     "relu": lambda z: max(z, 0.0)}[w.activation]
                assert f(w.net) == pytest.approx(w.output, rel=1e-12, abs=1e-15)
            T = reference.targets(np.array([label]))
            assert w.loss == pytest.approx(reference.loss(x[None, :], T), rel=1e-12)

            before_W = reference.weights[layer - 1][node].copy()
            before_b = reference.biases[layer - 1][node] if reference.biases is not None else None
            reference.train(x[None, :], T, 0.2)
            np.testing.assert_allclose(w.weight_changes, reference.weights[layer - 1][node] - before_W,
                                       rtol=1e-8, atol=1e-15)
            np.testing.assert_allclose(w.new_weights, reference.weights[layer - 1][node], rtol=1e-13)
            if before_b is not None:
                assert w.bias_change == pytest.approx(reference.biases[layer - 1][node] - before_b, rel=1e-8,
                                                      abs=1e-15)
            np.testing.assert_allclose(w.new_outputs, reference.query(x[None, :])[0], rtol=1e-12)
            np.testing.assert_allclose(w.new_output, reference.forward(x[None, :])[layer][0, node], rtol=1e-12,
                                       atol=1e-15)
            assert w.new_loss == pytest.approx(reference.loss(x[None, :], T), rel=1e-12)
            if not w.is_output:
                assert w.errors_by_rule[w.error_rule] == w.error
                assert w.step == pytest.approx(w.error * w.slope, rel=1e-14)


def test_a_node_step_leaves_the_network_alone():
    net = tiny_network("seed")
    before = [W.copy() for W in net.weights]
    node_step(net, np.full(784, 0.5), 1, 1, 0)
    for W, W0 in zip(net.weights, before):
        np.testing.assert_array_equal(W, W0)


@pytest.mark.parametrize("kwargs, match", [
    ({"layer": 0}, "layer=0 does not exist"),
    ({"layer": 4}, "layer=4 does not exist"),
    ({"node": 6}, "node=6 is not a node of layer 1"),
    ({"label": 10}, "label=10 is not a digit"),
    ({"x": np.zeros(10)}, "x has shape"),
])
def test_node_step_names_bad_values(kwargs, match):
    args = {"x": np.full(784, 0.5), "label": 1, "layer": 1, "node": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        node_step(tiny_network("seed"), **args)
