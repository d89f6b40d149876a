"""Looking inside a trained network, and the experiments behind the seed blog's claims.

Two concerns that the dashboard's "Inside" and "Experiments" pages share, kept free of any user interface:

**Inside a network**

- :func:`backquery` runs a trained network backwards, from a chosen output digit to the image the network
  "expects" for it, as in Tariq Rashid's *Make Your Own Neural Network* (the book the seed follows):
  the target output (0.99 for the digit, 0.01 elsewhere) goes back through the inverse activation and the
  transposed weights, layer by layer, each layer's signal rescaled into the activation's range on the way.
- :func:`hidden_weight_images`, :func:`hidden_activations` and :func:`output_contributions` show what each
  hidden node looks for, how strongly it fires for one image, and how the output nodes add those up.

**Experiments** (plain JSON-able results, so the dashboard can ship precomputed files and rerun them live)

- :func:`compare_error_rules`: the seed's chart of the four ways to send the error back to the hidden layer,
  per-epoch test accuracy for each rule, same data, same seed, same configuration.
- :func:`sweep`: final test accuracy against the learning rate or the hidden layer's size, and the
  test and train accuracy epoch by epoch, to see where more epochs start to overfit.

Every experiment trains with :func:`ann.train.train`, the same loop the product trains with, and takes a
``progress(fraction_done, message)`` callback and a ``should_stop()`` request. :func:`save_results` writes a
result atomically with a format version, a creation date and the machine it ran on; :func:`load_results`
reads one back and checks it, raising :class:`ResultsFileError` that names the file and the problem.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import scipy.special

from ann.config import ERROR_RULE_NAMES, ConfigError, NetworkConfig, TrainConfig, configs_to_dict
from ann.files import atomic_write_bytes
from ann.network import Network
from ann.train import accuracy_of, as_inputs, train

__all__ = [
    "FORMAT_VERSION",
    "RESULT_KINDS",
    "SWEEP_PARAMETERS",
    "ResultsFileError",
    "backquery",
    "backquery_all",
    "compare_error_rules",
    "hidden_activations",
    "hidden_weight_images",
    "load_results",
    "output_contributions",
    "save_results",
    "sweep",
    "validate_results",
]

FORMAT_VERSION = 1
RESULT_KINDS = ("error_rules", "sweep", "sweeps")  # "sweeps": several sweep results in one file
SWEEP_PARAMETERS = ("learning_rate", "hidden_nodes", "epochs")
TRAIN_EVAL_RECORDS = 10_000  # the held-in training records scored after every epoch of an "epochs" sweep

ProgressCallback = Callable[[float, str], None]  # (fraction of the whole experiment done, message)
StopRequest = Callable[[], bool]


# =========================================================================== inside a network

# --- backquery: each activation's inverse and the range its signal is rescaled into first ------------------


def _logit(a: np.ndarray) -> np.ndarray:
    return scipy.special.logit(a)


def _identity(a: np.ndarray) -> np.ndarray:
    return a


# The inverse of each hidden activation, applied to a signal already rescaled into SIGNAL_RANGES.
# relu has no inverse (every negative input gives 0); on its active side it is the identity, so the signal
# is passed through as is.
INVERSE_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _logit,
    "tanh": np.arctanh,
    "relu": _identity,
}
# Where a layer's back-sent signal is squeezed before the inverse activation: inside the activation's output
# range, away from the ends where the inverse runs off to infinity. Rashid's 0.01..0.99 for sigmoid; for tanh
# the same margin inside its range -1..1, so that arctanh gives signed net inputs as logit does (0.01..0.99
# would make every tanh node's net input positive). relu (None): no squeeze at all. Its outputs are
# unbounded, and a squeeze into 0.01..0.99 would make every node's net input positive, losing which nodes the
# digit wants silent: on a 784-200-10 relu/softmax network the network recognised its own backquery images
# for 4 of 10 digits with that squeeze and for 9 of 10 with the signal passed through unchanged.
SIGNAL_RANGES: dict[str, tuple[float, float] | None] = {
    "sigmoid": (0.01, 0.99),
    "tanh": (-0.98, 0.98),
    "relu": None,
}
PIXEL_RANGE = (0.01, 0.99)  # the returned image, like scaled inputs (ann.data.scale_inputs' 0.01 background)


def _rescale(signal: np.ndarray, low: float, high: float) -> np.ndarray:
    """Rashid's squeeze: subtract the minimum, divide by the (new) maximum, map 0..1 onto low..high.

    A constant signal carries no pattern; it becomes the middle of the range rather than a division by zero.
    """
    span = float(signal.max() - signal.min())
    if not span > 0.0:
        return np.full_like(signal, 0.5 * (low + high))
    return (signal - signal.min()) / span * (high - low) + low


def _output_net_input(network: Network, targets: np.ndarray) -> np.ndarray:
    """The output layer's net input that would produce ``targets`` (1-D float64), bias taken off.

    sigmoid outputs (the seed's mse): the logit. softmax outputs (cross-entropy): softmax ignores a constant
    added to all its inputs, so ``log(target)`` is one inverse among many; it is centred to mean zero, the
    choice that treats every output node alike.
    """
    if network.config.loss == "mse":
        z = _logit(targets)
    else:
        z = np.log(targets)
        z -= z.mean()
    if network.biases is not None:
        z = z - network.biases[-1].astype(np.float64)
    return z


def backquery(network: Network, label: int, low: float = 0.01, high: float = 0.99) -> np.ndarray:
    """The input image the network associates with output ``label``: the network run backwards.

    Rashid's ``backquery``, for any number of layers: set the outputs to ``high`` for ``label`` and ``low``
    elsewhere; turn them into the output layer's net input (logit for sigmoid outputs, centred log for
    softmax outputs, minus the bias if the network has one); send that back through the transposed weights
    (``W.T @ z``); rescale the signal into the hidden activation's range (subtract the minimum, divide by
    the maximum, map onto 0.01..0.99 for sigmoid, -0.98..0.98 for tanh) and apply the inverse activation
    (logit, arctanh), or, for relu, which has no inverse, pass the signal through as is (see
    :data:`SIGNAL_RANGES`); subtract that layer's bias; repeat down to the inputs, which are rescaled into
    0.01..0.99 like scaled pixels.

    The result is not an image the network was shown: it is the pattern of light and dark its weights
    favour for ``label``. Rashid shows these pictures look like blurred digits; for a network trained well
    enough, the network also classifies them as ``label`` (a property the tests check).

    Parameters
    ----------
    network : Network
        A trained network (not modified).
    label : int
        The output node to start from, 0 .. output_nodes - 1 (the digit).
    low, high : float
        Target outputs for the other nodes and for ``label`` (Rashid's 0.01 and 0.99), 0 < low < high < 1.

    Returns
    -------
    ndarray of float64, shape (input_nodes,)
        Pixel-like values in 0.01..0.99 (reshape a 784-vector to 28x28 to show it); 0.01 is the background
        of a scaled input, so with ``cmap="Greys"`` dark pixels are where the network expects ink.

    Raises
    ------
    ValueError
        ``label`` is not an output node, or ``low``/``high`` are not inside 0..1 in that order.
    """
    n_out = network.config.output_nodes
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < n_out:
        raise ValueError(f"label={label!r} is not an output node of this network; use an integer "
                         f"from 0 to {n_out - 1}")
    if not 0.0 < low < high < 1.0:
        raise ValueError(f"low={low!r}, high={high!r}: the target outputs must satisfy 0 < low < high < 1 "
                         "(the inverse activation is infinite at 0 and 1)")
    targets = np.full(n_out, low, dtype=np.float64)
    targets[label] = high
    z = _output_net_input(network, targets)
    activation = network.config.activation
    for l in range(len(network.weights) - 1, 0, -1):  # down to the first hidden layer
        signal = network.weights[l].astype(np.float64).T @ z
        signal_range = SIGNAL_RANGES[activation]
        z = INVERSE_ACTIVATIONS[activation](_rescale(signal, *signal_range) if signal_range else signal)
        if network.biases is not None:
            z = z - network.biases[l - 1].astype(np.float64)
    return _rescale(network.weights[0].astype(np.float64).T @ z, *PIXEL_RANGE)


def backquery_all(network: Network, low: float = 0.01, high: float = 0.99) -> np.ndarray:
    """:func:`backquery` for every output node: shape (output_nodes, input_nodes) float64, row d for digit d."""
    return np.stack([backquery(network, d, low, high) for d in range(network.config.output_nodes)])


# --- weights and activations -----------------------------------------------------------------------------


def hidden_weight_images(network: Network, layer: int = 0) -> np.ndarray:
    """The incoming weights of each node of ``layer`` as images: what each node looks for.

    Row ``j`` of ``weights[layer]`` is node ``j``'s weight for every input; for the first layer the inputs
    are the 784 pixels, so each row is a 28x28 picture (positive where ink excites the node).

    Parameters
    ----------
    network : Network
    layer : int
        Index into ``network.weights``; its input count must be a square number (784 for layer 0).

    Returns
    -------
    ndarray, shape (n_nodes, side, side), the network's dtype
        A copy: (200, 28, 28) for the seed's network.

    Raises
    ------
    ValueError
        ``layer`` does not exist, or its inputs do not form a square image (every layer after the first).
    """
    n_layers = len(network.weights)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < n_layers:
        raise ValueError(f"layer={layer!r} does not exist; this network has weight layers 0 to {n_layers - 1}")
    W = network.weights[layer]
    side = math.isqrt(W.shape[1])
    if side * side != W.shape[1]:
        raise ValueError(f"layer {layer} has {W.shape[1]} inputs, which do not form a square image; only the "
                         "first layer (layer=0) sees the pixels")
    return W.reshape(W.shape[0], side, side).copy()


def _one_sample(network: Network, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if x.shape != (network.config.input_nodes,):
        raise ValueError(f"x of shape {x.shape} is not one input of this network: expected "
                         f"({network.config.input_nodes},) or (1, {network.config.input_nodes})")
    return as_inputs(x[None, :], network.dtype)


def hidden_activations(network: Network, x: np.ndarray) -> list[np.ndarray]:
    """Every hidden layer's output for one input.

    Parameters
    ----------
    network : Network
    x : ndarray (784,) or (1, 784)
        uint8 pixels 0-255 (scaled the seed's way) or scaled float inputs.

    Returns
    -------
    list of ndarray
        One 1-D array per hidden layer, ``[hidden_1, ..., hidden_L]`` (empty for a network without hidden
        layers), in the network's dtype. The input and the outputs are :meth:`Network.forward`'s first and
        last entries.
    """
    return [a[0] for a in network.forward(_one_sample(network, x))[1:-1]]


def output_contributions(network: Network, x: np.ndarray) -> np.ndarray:
    """How each output node's net input is made up, hidden node by hidden node, for one input.

    ``C[k, j] = W_out[k, j] * h[j]``: positive entries are hidden nodes pushing digit ``k`` up, negative
    ones pushing it down. ``C.sum(axis=1)`` plus the output bias (``network.biases[-1]``, when the network
    has biases) is the output layer's net input, which the output activation turns into the outputs.

    Parameters
    ----------
    network : Network
    x : ndarray (784,) or (1, 784)
        uint8 pixels or scaled inputs.

    Returns
    -------
    ndarray of float64, shape (output_nodes, n_last_hidden)
        ``n_last_hidden`` is the size of the last hidden layer (the inputs for a network without one).
    """
    layers = network.forward(_one_sample(network, x))
    h = layers[-2][0].astype(np.float64)
    return network.weights[-1].astype(np.float64) * h[None, :]


# =========================================================================== experiments


class _Progress:
    """Turns per-run, per-epoch, per-chunk progress into one fraction of the whole experiment.

    Each run is weighted by its expected cost (epochs x nodes), so a sweep over hidden sizes advances in
    proportion to time rather than jumping through the small networks.
    """

    def __init__(self, callback: ProgressCallback | None, costs: Sequence[float]) -> None:
        self.callback = callback
        total = float(sum(costs)) or 1.0
        self.starts = np.concatenate([[0.0], np.cumsum(costs)[:-1]]) / total
        self.shares = np.asarray(costs, dtype=np.float64) / total

    def report(self, run: int, within: float, message: str) -> None:
        if self.callback is not None:
            fraction = float(self.starts[run] + self.shares[run] * min(max(within, 0.0), 1.0))
            self.callback(min(fraction, 1.0), message)

    def done(self, message: str) -> None:
        if self.callback is not None:
            self.callback(1.0, message)


def _run_cost(network_config: NetworkConfig, epochs: int) -> float:
    sizes = network_config.layer_sizes
    return float(epochs * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))


def _check_data(images: np.ndarray, labels: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 2 or len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"{name}: images of shape {images.shape} and labels of shape {labels.shape} do not "
                         "match; expected (n, 784) images and (n,) labels, n > 0")
    return images, labels


def _run(
    network_config: NetworkConfig,
    train_config: TrainConfig,
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    tracker: _Progress,
    run_index: int,
    title: str,
    should_stop: StopRequest | None,
    train_eval: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, list], bool]:
    """One training run through ann.train.train: per-epoch curves of its completed epochs, and whether it
    was stopped. A stopped epoch is partial, so it is left out of the curves."""
    network = Network(network_config, seed=train_config.seed)
    epochs_total = train_config.epochs
    curves: dict[str, list] = {"epochs": [], "test_accuracy": [], "train_loss": [], "seconds": []}
    if train_eval is not None:
        curves["train_accuracy"] = []
    epoch_now = 1  # the epoch being trained, for the progress messages

    def on_chunk(done: int, total: int) -> None:
        within = (epoch_now - 1 + done / max(total, 1)) / epochs_total
        tracker.report(run_index, within, f"{title}: epoch {epoch_now}/{epochs_total}, "
                                          f"{100 * done / max(total, 1):.0f}%")

    stopped = False
    for metrics in train(network, images, labels, train_config, test_images, test_labels,
                         progress=on_chunk, should_stop=should_stop):
        if metrics["stopped"]:
            stopped = True
            break
        curves["epochs"].append(metrics["epoch"])
        curves["test_accuracy"].append(metrics["test_accuracy"])
        curves["train_loss"].append(metrics["train_loss"])
        curves["seconds"].append(metrics["seconds"])
        if train_eval is not None:
            # A clean forward pass over fixed training records, not the running accuracy of the epoch
            # (which mixes in rotated copies and counts each record before the step that learns from it).
            curves["train_accuracy"].append(accuracy_of(network, *train_eval))
        epoch_now = metrics["epoch"] + 1
        tracker.report(run_index, metrics["epoch"] / epochs_total,
                       f"{title}: epoch {metrics['epoch']}/{epochs_total} done, "
                       f"test accuracy {metrics['test_accuracy']:.2%}")
    return curves, stopped


def _flat_config(network_config: NetworkConfig, train_config: TrainConfig, varied: str) -> dict[str, Any]:
    """Both configurations as one flat dict, without the key the experiment varies."""
    config = configs_to_dict(network_config, train_config)
    config.pop(varied, None)
    return config


def compare_error_rules(
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    train_config: TrainConfig | None = None,
    network_config: NetworkConfig | None = None,
    rules: Iterable[str] = ERROR_RULE_NAMES,
    progress: ProgressCallback | None = None,
    should_stop: StopRequest | None = None,
) -> dict[str, Any]:
    """The seed's chart: test accuracy epoch by epoch for each way of sending the error back.

    Each rule trains a fresh network from the same seed on the same data with the same configuration; only
    ``network_config.error_rule`` changes (see :data:`ann.network.ERROR_RULES`).

    Parameters
    ----------
    images : ndarray (n, 784), uint8 pixels or scaled inputs
    labels : ndarray (n,) int
    test_images, test_labels : the test set, scored after every epoch
    train_config : TrainConfig, optional
        Default the seed's (lr 0.1, 5 epochs, one sample at a time, rotations of +-10 degrees);
        ``limit`` is honoured, ``seed`` seeds the network's weights too.
    network_config : NetworkConfig, optional
        Default the seed's 784-200-10 sigmoid network.
    rules : iterable of str
        Names from ``ERROR_RULE_NAMES``, in the order to run them.
    progress : callable(fraction_done, message), optional
    should_stop : callable() -> bool, optional
        Polled between chunks of training; the experiment then ends with what it has (``stopped`` True,
        the interrupted epoch left out).

    Returns
    -------
    dict
        ``{"kind": "error_rules", "config": {flat config without error_rule}, "records": n_train,
        "test_records": n_test, "stopped": bool, "seconds_total": float, "series": [{"rule": name,
        "epochs": [1, 2, ..], "test_accuracy": [..], "train_loss": [..], "seconds": [..]}, ..]}``; a rule
        stopped before its first epoch ends has no series.
    """
    train_config = train_config or TrainConfig()
    network_config = network_config or NetworkConfig()
    rules = list(rules)
    for rule in rules:
        if rule not in ERROR_RULE_NAMES:
            raise ConfigError(f"error rule {rule!r} is not known; choose from: {', '.join(ERROR_RULE_NAMES)}")
    images, labels = _check_data(images, labels, "training set")
    test_images, test_labels = _check_data(test_images, test_labels, "test set")
    if train_config.limit is not None:
        images, labels = images[:train_config.limit], labels[:train_config.limit]
    configs = [replace(network_config, error_rule=rule) for rule in rules]
    tracker = _Progress(progress, [_run_cost(c, train_config.epochs) for c in configs])
    started = time.perf_counter()
    series, stopped = [], False
    for i, (rule, config) in enumerate(zip(rules, configs)):
        curves, stopped = _run(config, train_config, images, labels, test_images, test_labels, tracker, i,
                               f"rule {rule} ({i + 1}/{len(rules)})", should_stop)
        if curves["epochs"]:
            series.append({"rule": rule, **curves})
        if stopped:
            break
    tracker.done("stopped" if stopped else "done")
    return {
        "kind": "error_rules",
        "config": _flat_config(network_config, train_config, "error_rule"),
        "records": int(len(images)),
        "test_records": int(len(test_images)),
        "stopped": stopped,
        "seconds_total": time.perf_counter() - started,
        "series": series,
    }


def _sweep_configs(parameter: str, value: Any, network_config: NetworkConfig,
                   train_config: TrainConfig) -> tuple[NetworkConfig, TrainConfig]:
    if parameter == "learning_rate":
        return network_config, replace(train_config, learning_rate=float(value))
    # hidden_nodes: every hidden layer gets the value (the seed's network has one)
    depth = max(len(network_config.hidden_nodes), 1)
    return replace(network_config, hidden_nodes=(int(value),) * depth), train_config


def sweep(
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    parameter: str,
    values: Sequence[float],
    train_config: TrainConfig | None = None,
    network_config: NetworkConfig | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopRequest | None = None,
    train_eval_records: int = TRAIN_EVAL_RECORDS,
) -> dict[str, Any]:
    """Test accuracy as one setting varies, everything else fixed.

    - ``"learning_rate"`` and ``"hidden_nodes"``: one fresh run per value (``train_config.epochs`` epochs,
      same seed); the final test accuracy per value, and each run's per-epoch curve. For hidden_nodes,
      every hidden layer of ``network_config`` takes the value.
    - ``"epochs"``: a single run of ``max(values)`` epochs (epoch ``e`` of a longer run is exactly a run of
      ``e`` epochs with a constant learning rate), scoring after every epoch the test set *and* the first
      ``train_eval_records`` training records with a clean forward pass. Where the train accuracy keeps
      rising while the test accuracy stalls or falls, more epochs only fit the training set: overfitting.
      ``final_test_accuracy[i]`` is the test accuracy after ``values[i]`` epochs.

    Parameters
    ----------
    images, labels, test_images, test_labels : as :func:`compare_error_rules`
    parameter : {"learning_rate", "hidden_nodes", "epochs"}
    values : sequence of numbers
        Learning rates, hidden sizes or epoch counts (positive integers), in the order to run them.
    train_config, network_config : optional
        The fixed settings, by default the seed's.
    progress, should_stop : as :func:`compare_error_rules`
    train_eval_records : int
        ``"epochs"`` only: how many training records (the first ones) are scored as the train accuracy.

    Returns
    -------
    dict
        ``{"kind": "sweep", "parameter": str, "config": {flat config without the parameter}, "records": n,
        "test_records": n_test, "values": [..completed..], "final_test_accuracy": [..], "stopped": bool,
        "seconds_total": float, "series": [{"value": v, "epochs": [..], "test_accuracy": [..],
        "train_loss": [..], "seconds": [..]} (+ "train_accuracy": [..] for "epochs")]}``. ``values`` lists
        the values whose runs finished; a stopped run keeps its completed epochs in ``series``.

    Raises
    ------
    ConfigError
        Unknown parameter, no values, or a value the configuration rejects.
    """
    train_config = train_config or TrainConfig()
    network_config = network_config or NetworkConfig()
    if parameter not in SWEEP_PARAMETERS:
        raise ConfigError(f"sweep parameter {parameter!r} is not known; choose one of: "
                          f"{', '.join(SWEEP_PARAMETERS)}")
    values = list(values)
    if not values:
        raise ConfigError(f"sweep over {parameter}: give at least one value")
    images, labels = _check_data(images, labels, "training set")
    test_images, test_labels = _check_data(test_images, test_labels, "test set")
    if train_config.limit is not None:
        images, labels = images[:train_config.limit], labels[:train_config.limit]
    started = time.perf_counter()
    series: list[dict[str, Any]] = []
    done_values: list[Any] = []
    finals: list[float] = []

    if parameter == "epochs":
        if any(isinstance(v, bool) or int(v) != v or v < 1 for v in values):
            raise ConfigError(f"sweep over epochs: values must be positive whole numbers, got {values}")
        values = [int(v) for v in values]
        run_config = replace(train_config, epochs=max(values))
        tracker = _Progress(progress, [1.0])
        k = min(int(train_eval_records), len(images))
        curves, stopped = _run(network_config, run_config, images, labels, test_images, test_labels, tracker,
                               0, f"{max(values)} epochs", should_stop,
                               train_eval=(images[:k], labels[:k]))
        if curves["epochs"]:
            series.append({"value": max(values), **curves})
        for v in values:
            if v <= len(curves["epochs"]):
                done_values.append(v)
                finals.append(curves["test_accuracy"][v - 1])
        extra = {"train_eval_records": k}
    else:
        configs = [_sweep_configs(parameter, v, network_config, train_config) for v in values]
        tracker = _Progress(progress, [_run_cost(n, t.epochs) for n, t in configs])
        stopped = False
        for i, (v, (net_cfg, run_cfg)) in enumerate(zip(values, configs)):
            curves, stopped = _run(net_cfg, run_cfg, images, labels, test_images, test_labels, tracker, i,
                                   f"{parameter} = {v} ({i + 1}/{len(values)})", should_stop)
            if curves["epochs"]:
                series.append({"value": v, **curves})
            if stopped:
                break
            done_values.append(v)
            finals.append(curves["test_accuracy"][-1])
        extra = {}
    tracker.done("stopped" if stopped else "done")
    return {
        "kind": "sweep",
        "parameter": parameter,
        "config": _flat_config(network_config, train_config, parameter),
        "records": int(len(images)),
        "test_records": int(len(test_images)),
        **extra,
        "values": done_values,
        "final_test_accuracy": finals,
        "stopped": stopped,
        "seconds_total": time.perf_counter() - started,
        "series": series,
    }


# =========================================================================== results files


class ResultsFileError(ValueError):
    """An experiment results file cannot be used: not JSON, not ours, or inconsistent. Names the file."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(condition: bool, source: str, message: str) -> None:
    if not condition:
        raise ResultsFileError(f"{source}: {message}")


_SERIES_CURVES = ("test_accuracy", "train_loss", "seconds")


def _validate_series(entry: Any, where: str, source: str, label_key: str) -> None:
    _check(isinstance(entry, dict), source, f"{where} is not an object")
    missing = [k for k in (label_key, "epochs", *_SERIES_CURVES) if k not in entry]
    _check(not missing, source, f"{where} is missing {', '.join(missing)}")
    where = f"{where} ({label_key} {entry[label_key]!r})"
    epochs = entry["epochs"]
    _check(isinstance(epochs, list) and all(isinstance(e, int) and not isinstance(e, bool) and e >= 1
                                            for e in epochs),
           source, f"{where}: epochs must be a list of positive whole numbers")
    _check(all(b > a for a, b in zip(epochs, epochs[1:])), source, f"{where}: epochs must increase")
    for key in (*_SERIES_CURVES, "train_accuracy"):
        if key not in entry:
            continue
        curve = entry[key]
        _check(isinstance(curve, list), source, f"{where}: {key} is not a list")
        _check(len(curve) == len(epochs), source,
               f"{where}: {key} has {len(curve)} values but epochs has {len(epochs)}")
        _check(all(_is_number(v) for v in curve), source, f"{where}: {key} holds a value that is not a number")
        if key.endswith("accuracy"):
            bad = [v for v in curve if not 0.0 <= v <= 1.0]
            if bad:
                raise ResultsFileError(f"{source}: {where}: {key} value {bad[0]!r} is outside 0..1 (accuracy "
                                       "is a fraction, not a percentage)")
        else:
            _check(all(v >= 0 for v in curve), source, f"{where}: {key} holds a negative value")


def _validate_experiment(results: Any, source: str, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    _check(isinstance(results, dict), source, f"{prefix}expected a JSON object")
    kind = results.get("kind")
    _check(kind in ("error_rules", "sweep"), source,
           f"{prefix}kind {kind!r} is not an experiment; expected 'error_rules' or 'sweep'")
    required = ["config", "records", "series"]
    if kind == "sweep":
        required += ["parameter", "values", "final_test_accuracy"]
    missing = [k for k in required if k not in results]
    _check(not missing, source, f"{prefix}missing key(s) {', '.join(missing)} for kind {kind!r}")
    _check(isinstance(results["config"], dict), source, f"{prefix}config is not an object")
    _check(isinstance(results["records"], int) and results["records"] >= 0, source,
           f"{prefix}records must be a whole number >= 0, got {results['records']!r}")
    _check(isinstance(results["series"], list), source, f"{prefix}series is not a list")
    label_key = "rule" if kind == "error_rules" else "value"
    for i, entry in enumerate(results["series"]):
        _validate_series(entry, f"{prefix}series[{i}]", source, label_key)
    if kind == "sweep":
        _check(results["parameter"] in SWEEP_PARAMETERS, source,
               f"{prefix}parameter {results['parameter']!r} is not one of {', '.join(SWEEP_PARAMETERS)}")
        values, finals = results["values"], results["final_test_accuracy"]
        _check(isinstance(values, list) and isinstance(finals, list), source,
               f"{prefix}values and final_test_accuracy must be lists")
        _check(len(values) == len(finals), source,
               f"{prefix}{len(values)} values but {len(finals)} final_test_accuracy entries")
        _check(all(_is_number(v) for v in values), source, f"{prefix}values holds a value that is not a number")
        _check(all(_is_number(v) and 0.0 <= v <= 1.0 for v in finals), source,
               f"{prefix}final_test_accuracy holds a value outside 0..1")


def validate_results(results: Any, source: str = "results", require_header: bool = False) -> None:
    """Check an experiment result (or a ``"sweeps"`` collection) and raise :class:`ResultsFileError` if bad.

    ``source`` names the file (or object) in the message. ``require_header`` also demands what
    :func:`save_results` adds: ``format_version`` (not newer than this code reads) and ``created``.
    """
    _check(isinstance(results, dict), source, "expected a JSON object at the top level")
    if require_header:
        missing = [k for k in ("format_version", "created") if k not in results]
        _check(not missing, source, f"missing key(s) {', '.join(missing)} (not written by save_results?)")
        version = results["format_version"]
        _check(isinstance(version, int) and 1 <= version <= FORMAT_VERSION, source,
               f"format_version {version!r} is not one this version reads (1..{FORMAT_VERSION}); update "
               "ANN Explorer or re-run bench/run_experiments.py")
    kind = results.get("kind")
    _check(kind in RESULT_KINDS, source, f"kind {kind!r} is not known; expected one of: {', '.join(RESULT_KINDS)}")
    if kind != "sweeps":
        _validate_experiment(results, source)
        return
    _check(isinstance(results.get("sweeps"), list), source, "missing key sweeps (a list of sweep results)")
    for i, entry in enumerate(results["sweeps"]):
        _validate_experiment(entry, source, f"sweeps[{i}]")
        _check(entry["kind"] == "sweep", source, f"sweeps[{i}]: kind {entry['kind']!r}, expected 'sweep'")
    names = [entry.get("name", entry["parameter"]) for entry in results["sweeps"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    _check(not duplicates, source, f"sweeps: name(s) {', '.join(map(str, duplicates))} appear more than once "
                                   "(give each sweep a distinct \"name\")")


def _rounded(value: Any, decimals: int) -> Any:
    if isinstance(value, dict):
        return {str(k): _rounded(v, decimals) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v, decimals) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, decimals) if math.isfinite(value) else None
    return value


def machine_info() -> dict[str, Any]:
    """What an experiment ran on (the seconds in a results file mean little without it)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(terse=True),
        "processor": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average": [round(x, 2) for x in load] if load else None,
    }


def save_results(path: str | os.PathLike, results: dict[str, Any], decimals: int = 4) -> Path:
    """Write an experiment's results as JSON, atomically, with ``format_version``, ``created`` and ``machine``.

    Floats are rounded to ``decimals`` places (accuracies on 10,000 test images need no more). The results
    are validated first, so a bad result never replaces a good file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ResultsFileError
        ``results`` is not a valid experiment result (the message names ``path``).
    """
    path = Path(path)
    validate_results(results, str(path))
    payload = {
        "kind": results["kind"],
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **{k: v for k, v in results.items() if k not in ("kind", "format_version", "created", "machine")},
    }
    if "machine" in results:  # keep the machine the experiment actually ran on
        payload["machine"] = results["machine"]
    text = json.dumps(_rounded(payload, decimals), indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a results file written by :func:`save_results`.

    Raises
    ------
    FileNotFoundError
        No such file.
    ResultsFileError
        Not JSON, not a results file, a newer format, missing keys, curves whose lengths disagree, or an
        accuracy outside 0..1; the message names the file and the problem.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        results = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsFileError(f"{path}: not a JSON file ({exc}); expected an experiment results file "
                               "written by ann.experiments.save_results") from None
    validate_results(results, str(path), require_header=True)
    return results
