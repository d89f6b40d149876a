"""The experiments behind the seed blog's claims, as plain JSON-able results.

- :func:`compare_error_rules`: the seed's chart of the four ways to send the error back to the hidden layer,
  per-epoch test accuracy for each rule, same data, same seed, same configuration.
- :func:`sweep`: final test accuracy against the learning rate or the hidden layer's size, and the
  test and train accuracy epoch by epoch, to see where more epochs start to overfit.

Every experiment trains with :func:`ann.train.train`, the same loop the product trains with, and takes a
``progress(fraction_done, message)`` callback and a ``should_stop()`` request. The results are saved and read
back by :mod:`ann.experiments.results` (the dashboard ships precomputed files and reruns them live).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ann.config import ERROR_RULE_NAMES, SWEEP_PARAMETERS, ConfigError, NetworkConfig, TrainConfig, configs_to_dict
from ann.network import Network
from ann.train import accuracy_of, train

__all__ = [
    "SWEEP_PARAMETERS",
    "compare_error_rules",
    "sweep",
]

TRAIN_EVAL_RECORDS = 10_000  # the held-in training records scored after every epoch of an "epochs" sweep

ProgressCallback = Callable[[float, str], None]  # (fraction of the whole experiment done, message)
StopRequest = Callable[[], bool]


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
