"""The network: the seed's exact update, exact gradients, the four error rules, batches."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

from ann.config import ConfigError, NetworkConfig
from ann.network import ERROR_RULES, Network


class SeedNeuralNetwork:
    """The seed blog's NeuralNetwork class as written (the only change: it takes the generator it draws
    from, which is np.random after np.random.seed(80) in the blog)."""

    def __init__(self, input_nodes, hidden_nodes, output_nodes, learning_rate, random=np.random):
        self.i_nodes = input_nodes
        self.h_nodes = hidden_nodes
        self.o_nodes = output_nodes
        self.lr = learning_rate
        self.wih = random.normal(0.0, pow(self.h_nodes, -0.5), (self.h_nodes, self.i_nodes))
        self.who = random.normal(0.0, pow(self.o_nodes, -0.5), (self.o_nodes, self.h_nodes))
        self.activation_function = lambda x: scipy.special.expit(x)

    def train(self, inputs_list, targets_list):
        inputs = np.array(inputs_list, ndmin=2).T
        targets = np.array(targets_list, ndmin=2).T
        hidden_inputs = np.dot(self.wih, inputs)
        hidden_outputs = self.activation_function(hidden_inputs)
        final_inputs = np.dot(self.who, hidden_outputs)
        final_outputs = self.activation_function(final_inputs)
        output_errors = targets - final_outputs
        hidden_errors = np.dot(self.who.T, output_errors)
        self.who += self.lr * np.dot((output_errors * final_outputs * (1.0 - final_outputs)),
                                     np.transpose(hidden_outputs))
        self.wih += self.lr * np.dot((hidden_errors * hidden_outputs * (1.0 - hidden_outputs)),
                                     np.transpose(inputs))

    def query(self, inputs_list):
        inputs = np.array(inputs_list, ndmin=2).T
        hidden_outputs = self.activation_function(np.dot(self.wih, inputs))
        return self.activation_function(np.dot(self.who, hidden_outputs))


def seed_training(records: list[str], epochs: int, rotate: bool) -> SeedNeuralNetwork:
    """The seed's training loop over CSV lines (np.float -> float, ndimage.interpolation -> ndimage)."""
    import scipy.ndimage

    n = SeedNeuralNetwork(784, 200, 10, 0.1, random=np.random.RandomState(80))
    for _ in range(epochs):
        for record in records:
            all_values = record.split(',')
            inputs = (np.array(all_values[1:], dtype=float) / 255.0 * 0.99) + 0.01
            targets = np.zeros(10) + 0.01
            targets[int(all_values[0])] = 0.99
            n.train(inputs, targets)
            if rotate:
                plus = scipy.ndimage.rotate(inputs.reshape(28, 28), 10, cval=0.01, order=1, reshape=False)
                n.train(plus.reshape(784), targets)
                minus = scipy.ndimage.rotate(inputs.reshape(28, 28), -10, cval=0.01, order=1, reshape=False)
                n.train(minus.reshape(784), targets)
    return n


def test_initial_weights_are_the_seeds_draws():
    np.random.seed(80)  # exactly the blog's global seeding
    seed_net = SeedNeuralNetwork(784, 200, 10, 0.1)
    net = Network(NetworkConfig(dtype="float64"), seed=80)
    np.testing.assert_array_equal(net.weights[0], seed_net.wih)
    np.testing.assert_array_equal(net.weights[1], seed_net.who)


@pytest.mark.parametrize("rotate", [False, True], ids=["plain", "with-rotations"])
def test_reproduces_the_seed_on_real_mnist(seed_csv_dir, rotate):
    """The fidelity proof: same first records of real MNIST, seed 80, batch 1, float64 -> same weights."""
    from ann.config import TrainConfig
    from ann.data.csv_files import read_csv
    from ann.train import fit

    csv = seed_csv_dir / "mnist_train_100.csv"
    records = csv.read_text().split("\n")
    reference = seed_training(records, epochs=2, rotate=rotate)

    split = read_csv(csv)
    net = Network(NetworkConfig(dtype="float64"), seed=80)
    fit(net, split.images, split.labels, TrainConfig(epochs=2, rotate=10.0 if rotate else 0.0))
    # the weights moved a lot from their start, and agree with the seed's to 1e-10
    assert np.abs(reference.wih - Network(NetworkConfig(dtype="float64")).weights[0]).max() > 1e-3
    np.testing.assert_allclose(net.weights[0], reference.wih, rtol=0, atol=1e-10)
    np.testing.assert_allclose(net.weights[1], reference.who, rtol=0, atol=1e-10)
    test = read_csv(seed_csv_dir / "mnist_test_10.csv")
    from ann.inputs import scale_inputs

    X = scale_inputs(test.images, np.float64)
    expected = np.hstack([reference.query(x) for x in X]).T
    np.testing.assert_allclose(net.query(X), expected, rtol=0, atol=1e-10)


def test_float32_training_stays_close_to_float64(seed_csv_dir):
    from ann.config import TrainConfig
    from ann.data.csv_files import read_csv
    from ann.train import fit

    split = read_csv(seed_csv_dir / "mnist_train_100.csv")
    nets = {}
    for dtype in ("float32", "float64"):
        nets[dtype] = Network(NetworkConfig(dtype=dtype), seed=80)
        fit(nets[dtype], split.images, split.labels, TrainConfig(epochs=1))
    assert nets["float32"].weights[0].dtype == np.float32
    np.testing.assert_allclose(nets["float32"].weights[1], nets["float64"].weights[1], atol=1e-4)


def _numeric_gradients(net: Network, X, T, eps=1e-6):
    grads = []
    for params in net.weights + (net.biases or []):
        g = np.zeros_like(params)
        for idx in np.ndindex(params.shape):
            old = params[idx]
            params[idx] = old + eps
            up = net.loss(X, T)
            params[idx] = old - eps
            down = net.loss(X, T)
            params[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("bias", [False, True])
def test_exact_gradients_match_finite_differences(activation, loss, bias):
    rng = np.random.default_rng(0)
    config = NetworkConfig(input_nodes=5, hidden_nodes=(4, 3), output_nodes=3, activation=activation,
                           loss=loss, propagate="delta", bias=bias, dtype="float64")
    net = Network(config, seed=1)
    if bias:  # non-zero biases, so their gradients are exercised away from the start
        net.biases = [rng.normal(0, 0.3, b.shape) for b in net.biases]
    X = rng.uniform(0.01, 1.0, (6, 5))
    T = net.targets(rng.integers(0, 3, 6))
    grad_w, grad_b = net.gradients(X, T)
    analytic = grad_w + (grad_b or [])
    numeric = _numeric_gradients(net, X, T)
    for a, n in zip(analytic, numeric):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-8)


def test_seed_rule_is_not_the_exact_gradient_and_sends_raw_error_back():
    """The seed sends W^T . (T - O) back, leaving out the output's sigmoid slope."""
    rng = np.random.default_rng(2)
    seed_net = Network(NetworkConfig(input_nodes=4, hidden_nodes=(3,), output_nodes=2, dtype="float64"))
    exact = seed_net.copy()
    exact.config = NetworkConfig(input_nodes=4, hidden_nodes=(3,), output_nodes=2, dtype="float64",
                                 propagate="delta")
    X = rng.uniform(0.01, 1, (1, 4))
    T = seed_net.targets([1])
    x, h, o = seed_net.forward(X)
    expected_hidden_step = ((T - o) @ seed_net.weights[1]) * h * (1 - h)
    grad_seed, _ = seed_net.gradients(X, T)
    np.testing.assert_allclose(grad_seed[0], -(expected_hidden_step.T @ x))
    grad_exact, _ = exact.gradients(X, T)
    np.testing.assert_allclose(grad_exact[1], grad_seed[1])  # the output layer's step is the same
    assert not np.allclose(grad_exact[0], grad_seed[0])


def test_error_rules_split_the_error_as_the_seed_describes():
    # the seed's picture: two hidden nodes feed one output node through weights 3.0 and 1.0
    W = np.array([[3.0, 1.0]])
    e = np.array([[0.8]])
    assert np.allclose(e @ ERROR_RULES["proportional"](W), [[0.6, 0.2]])  # 3/4 and 1/4
    assert np.allclose(e @ ERROR_RULES["equal"](W), [[0.4, 0.4]])  # 1/2 each
    assert np.allclose(e @ ERROR_RULES["transpose"](W), [[2.4, 0.8]])  # W^T . E
    assert np.allclose(e @ ERROR_RULES["transpose_normalized"](W), [[1.2, 0.4]])  # W^T . E / N
    # negative weights: shares against absolute sums, so nothing blows up near a zero signed sum
    W = np.array([[1.0, -0.999]])
    assert np.all(np.abs(e @ ERROR_RULES["proportional"](W)) <= 0.8)


def _accuracy_after_a_short_run(rule: str, mnist) -> float:
    from ann.config import TrainConfig
    from ann.train import fit

    net = Network(NetworkConfig(error_rule=rule), seed=80)
    history = fit(net, mnist.train.images, mnist.train.labels,
                  TrainConfig(limit=3000, epochs=1, rotate=0.0, batch_size=1),
                  test_images=mnist.test.images[:2000], test_labels=mnist.test.labels[:2000])
    return history[-1]["test_accuracy"]


# Measured over seeds 80-84, float32 and float64, with and without a 1e-7 nudge of the initial weights
# (bench/test_margins.py): transpose 0.869-0.874, proportional 0.755-0.786, transpose_normalized 0.657-0.704.
@pytest.mark.parametrize("rule", ["transpose", "proportional", "transpose_normalized"])
def test_every_informative_error_rule_learns(rule, mnist):
    assert _accuracy_after_a_short_run(rule, mnist) > 0.5  # far above the 10% of guessing


def test_the_equal_split_learns_far_less_than_the_seeds_rule(mnist):
    """The seed's finding: split equally, every hidden node gets the same error and the hidden layer learns
    nothing useful. Measured as above: equal 0.196-0.535 (seed 80 happened to give the top of that range, so
    a "learns above 50%" test passed by luck), against transpose's 0.869 at worst."""
    assert _accuracy_after_a_short_run("equal", mnist) < _accuracy_after_a_short_run("transpose", mnist) - 0.15


def test_batch_step_is_the_average_of_the_per_sample_gradient():
    rng = np.random.default_rng(3)
    net = Network(NetworkConfig(input_nodes=6, hidden_nodes=(5,), output_nodes=3, dtype="float64",
                                bias=True))
    X = rng.uniform(0.01, 1, (4, 6))
    T = net.targets([0, 1, 2, 1])
    per_sample = [net.gradients(X[i:i + 1], T[i:i + 1]) for i in range(4)]
    mean_w = [np.mean([g[0][l] for g in per_sample], axis=0) for l in range(2)]
    mean_b = [np.mean([g[1][l] for g in per_sample], axis=0) for l in range(2)]
    before = net.copy()
    net.train(X, T, learning_rate=0.5)
    for l in range(2):
        np.testing.assert_allclose(net.weights[l], before.weights[l] - 0.5 * mean_w[l], atol=1e-12)
        np.testing.assert_allclose(net.biases[l], before.biases[l] - 0.5 * mean_b[l], atol=1e-12)


def test_fast_single_sample_path_equals_the_batch_path():
    rng = np.random.default_rng(4)
    for config in (NetworkConfig(input_nodes=8, hidden_nodes=(6, 5), output_nodes=3, dtype="float64",
                                 bias=True, activation="tanh", error_rule="proportional"),
                   NetworkConfig(input_nodes=8, hidden_nodes=(6,), output_nodes=3, dtype="float64",
                                 loss="cross_entropy", propagate="delta")):
        fast = Network(config, seed=5)
        slow = fast.copy()
        X = rng.uniform(0.01, 1, (1, 8))
        T = fast.targets([2])
        fast.train(X, T, 0.3)  # the BLAS rank-one path
        slow.train(X, T, 0.3, weight_decay=1e-300)  # the general path (a negligible decay forces it)
        for a, b in zip(fast.weights + fast.biases if fast.biases else fast.weights,
                        slow.weights + slow.biases if slow.biases else slow.weights):
            np.testing.assert_allclose(a, b, atol=1e-12)


def test_momentum_and_weight_decay():
    rng = np.random.default_rng(6)
    net = Network(NetworkConfig(input_nodes=4, hidden_nodes=(3,), output_nodes=2, dtype="float64"))
    X = rng.uniform(0.01, 1, (2, 4))
    T = net.targets([0, 1])
    start = net.copy()
    g1, _ = net.gradients(X, T)
    net.train(X, T, 0.1, momentum=0.9)
    g2, _ = net.gradients(X, T)
    net.train(X, T, 0.1, momentum=0.9)
    # v1 = -lr g1; v2 = 0.9 v1 - lr g2; W2 = W0 + v1 + v2
    expected = start.weights[0] - 0.1 * g1[0] + (0.9 * -0.1 * g1[0] - 0.1 * g2[0])
    np.testing.assert_allclose(net.weights[0], expected, atol=1e-12)
    decayed = start.copy()
    decayed.train(X, T, 0.1, weight_decay=0.01)
    plain = start.copy()
    plain.train(X, T, 0.1, weight_decay=1e-300)
    np.testing.assert_allclose(decayed.weights[0], plain.weights[0] - 0.1 * 0.01 * start.weights[0],
                               atol=1e-12)


def test_query_and_predict_shapes_and_wrong_input_shape():
    net = Network()
    X = np.full((3, 784), 0.01, np.float32)
    assert net.query(X).shape == (3, 10)
    assert net.predict(X).dtype == np.int64
    assert net.query(X[0]).shape == (1, 10)  # a single sample is a batch of one
    with pytest.raises(ValueError, match=r"expected \(n_samples, 784\)"):
        net.query(np.zeros((2, 28, 28)))
    soft = Network(NetworkConfig(loss="cross_entropy"))
    np.testing.assert_allclose(soft.query(X).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("bad, match", [
    (dict(activation="swish"), r"activation='swish' is not known"),
    (dict(error_rule="magic"), r"error_rule='magic'"),
    (dict(hidden_nodes=(0,)), r"hidden_nodes=0 is out of range"),
    (dict(hidden_nodes=(100_000,)), r"hidden_nodes=100000 is out of range"),
    (dict(dtype="float16"), r"dtype='float16'"),
])
def test_bad_network_configs_are_refused(bad, match):
    with pytest.raises(ConfigError, match=match):
        NetworkConfig(**bad)


@pytest.mark.parametrize("config", [
    NetworkConfig(dtype="float64"),
    NetworkConfig(input_nodes=30, hidden_nodes=(12, 7), output_nodes=4, dtype="float64", bias=True,
                  activation="tanh", error_rule="proportional"),
    NetworkConfig(input_nodes=30, hidden_nodes=(9,), output_nodes=4, dtype="float64", loss="cross_entropy",
                  propagate="delta", activation="relu", bias=True),
])
def test_block_sequence_training_equals_one_sample_at_a_time(config):
    """train_sequence defers the first layer's rank-one updates; the result must be the seed's loop's."""
    rng = np.random.default_rng(9)
    X = rng.uniform(0.01, 1.0, (150, config.input_nodes))
    one = Network(config, seed=80)
    T = one.targets(rng.integers(0, config.output_nodes, 150))
    blocked = one.copy()
    expected = np.stack([one.train_sample(x, t, 0.1) for x, t in zip(X, T)])
    outputs = blocked.train_sequence(X, T, 0.1, block=64)  # 150 = two whole blocks and a part
    np.testing.assert_allclose(outputs, expected, rtol=0, atol=1e-12)
    for a, b in zip(blocked.weights + (blocked.biases or []), one.weights + (one.biases or [])):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
