"""The experiments behind the seed blog's claims, as grids through :func:`ann.experiments.sweep.run_sweep`.

- :func:`compare_error_rules`: the seed's chart of the four ways to send the error back to the hidden layer:
  a grid over ``error_rule``, per-epoch test accuracy for each rule, same data, same seed, same configuration.
- :func:`sweep_one_setting`: final test accuracy against the learning rate or the hidden layer's size (a grid
  over that setting), and the test and train accuracy epoch by epoch (one long run), to see where more epochs
  start to overfit.

Both train in this process, one run after another, with ``progress(fraction_done, message)`` and a
``should_stop()`` request. :func:`as_error_rules`, :func:`as_sweep` and :func:`as_epochs_sweep` turn a
one-setting grid into the ``"error_rules"`` and ``"sweep"`` results the Experiments page draws (the page runs
its live grids on worker processes and turns them with these too); they are saved and read back by
:mod:`ann.experiments.results`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ann.config import (
    ERROR_RULE_NAMES,
    SWEEP_PARAMETERS,
    ConfigError,
    NetworkConfig,
    TrainConfig,
    configs_to_dict,
)
from ann.experiments.executors import IN_THIS_PROCESS
from ann.experiments.grid import SweepData, expand_grid
from ann.experiments.run import RunOutcome, StopRequest
from ann.experiments.sweep import ProgressCallback, run_sweep

__all__ = [
    "SWEEP_PARAMETERS",
    "as_epochs_sweep",
    "as_error_rules",
    "as_sweep",
    "compare_error_rules",
    "sweep_one_setting",
]

TRAIN_EVAL_RECORDS = 10_000  # the held-in training records scored after every epoch of an "epochs" sweep
CURVES = ("epochs", "test_accuracy", "train_loss", "seconds")
CONFIG_ORDER = tuple(configs_to_dict(NetworkConfig(), TrainConfig()))  # the order a result's config lists keys in


def compare_error_rules(
    data: SweepData,
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
    data : SweepData
        The training set (``train_config.limit`` is honoured) and the test set, scored after every epoch.
    train_config : TrainConfig, optional
        Default the seed's (lr 0.1, 5 epochs, one sample at a time, rotations of +-10 degrees);
        ``seed`` seeds the network's weights too.
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

    Raises
    ------
    ConfigError
        An unknown rule.
    SweepError
        A configuration the network refuses (the message names it).
    """
    train_config = train_config or TrainConfig()
    network_config = network_config or NetworkConfig()
    rules = list(rules)
    for rule in rules:
        if rule not in ERROR_RULE_NAMES:
            raise ConfigError(f"error rule {rule!r} is not known; choose from: {', '.join(ERROR_RULE_NAMES)}")
    specs = expand_grid([("error_rule", rules)], [train_config.seed], configs_to_dict(network_config, train_config))
    grid = run_sweep(specs, data, workers=IN_THIS_PROCESS, progress=progress, should_stop=should_stop)
    return as_error_rules(grid)


def sweep_one_setting(
    data: SweepData,
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
    data, train_config, network_config, progress, should_stop : as :func:`compare_error_rules`
    parameter : {"learning_rate", "hidden_nodes", "epochs"}
    values : sequence of numbers
        Learning rates, hidden sizes or epoch counts (positive integers), in the order to run them.
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
        Unknown parameter, no values, or epochs that are not positive whole numbers.
    SweepError
        A value the configuration rejects (the message names the run).
    """
    train_config = train_config or TrainConfig()
    network_config = network_config or NetworkConfig()
    if parameter not in SWEEP_PARAMETERS:
        raise ConfigError(f"sweep parameter {parameter!r} is not known; choose one of: "
                          f"{', '.join(SWEEP_PARAMETERS)}")
    values = list(values)
    if not values:
        raise ConfigError(f"sweep over {parameter}: give at least one value")
    base = configs_to_dict(network_config, train_config)
    seeds = [train_config.seed]
    if parameter == "epochs":
        if any(isinstance(v, bool) or int(v) != v or v < 1 for v in values):
            raise ConfigError(f"sweep over epochs: values must be positive whole numbers, got {values}")
        values = [int(v) for v in values]
        records = len(data.limited(train_config.limit).images)
        specs = expand_grid([], seeds, base | {"epochs": max(values)},
                            train_eval_records=min(int(train_eval_records), records))
        grid = run_sweep(specs, data, workers=IN_THIS_PROCESS, progress=progress, should_stop=should_stop)
        return as_epochs_sweep(grid, values)
    depth = max(len(network_config.hidden_nodes), 1)  # every hidden layer takes the value
    grid_values = [(int(v),) * depth if parameter == "hidden_nodes" else float(v) for v in values]
    specs = expand_grid([(parameter, grid_values)], seeds, base)
    grid = run_sweep(specs, data, workers=IN_THIS_PROCESS, progress=progress, should_stop=should_stop)
    return as_sweep(grid)


# --------------------------------------------------------------------------- the page's result kinds


def _config(grid: dict[str, Any], without: str) -> dict[str, Any]:
    """The grid's fixed settings and its seed, in the configuration's own order, without ``without``."""
    config = dict(grid["config"], seed=grid["seeds"][0])
    config.pop(without, None)
    return dict(sorted(config.items(), key=lambda item: CONFIG_ORDER.index(item[0])
                       if item[0] in CONFIG_ORDER else len(CONFIG_ORDER)))


def _check_grid(grid: dict[str, Any], kind: str, parameters: list[str] | None = None) -> None:
    """A grid with one seed over ``parameters`` (None: any one setting), or a ValueError naming what it has."""
    names = [p["name"] for p in grid["parameters"]]
    if len(grid["seeds"]) != 1 or (len(names) != 1 if parameters is None else names != parameters):
        wanted = "one setting" if parameters is None else " and ".join(parameters) or "no setting"
        raise ValueError(f"{kind} needs a grid over {wanted} with one seed; got {', '.join(names) or 'no setting'} "
                         f"with seeds {grid['seeds']}")


def as_error_rules(grid: dict[str, Any]) -> dict[str, Any]:
    """A grid over ``error_rule`` (one seed) as the ``"error_rules"`` result the Experiments page draws."""
    _check_grid(grid, "as_error_rules", ["error_rule"])
    series = [{"rule": run["values"]["error_rule"], **{k: run[k] for k in CURVES}}
              for run in grid["runs"] if run["epochs"]]
    return {"kind": "error_rules", "config": _config(grid, "error_rule"), "records": grid["records"],
            "test_records": grid["test_records"], "stopped": grid["stopped"],
            "seconds_total": grid["seconds_total"], "series": series}


def _sweep_value(value: Any) -> Any:
    """A hidden_nodes value as the sweep names it: the size every hidden layer has."""
    return value[0] if isinstance(value, list) and len(set(value)) == 1 else value


def as_sweep(grid: dict[str, Any]) -> dict[str, Any]:
    """A one-setting, one-seed grid as the ``"sweep"`` result the Experiments page draws (failed runs and
    partial runs left out of ``values``; a partial run keeps its finished epochs in ``series``)."""
    _check_grid(grid, "as_sweep")
    parameter = grid["parameters"][0]["name"]
    series, values, finals = [], [], []
    for run in grid["runs"]:
        value = _sweep_value(run["values"][parameter])
        if run["epochs"]:
            entry = {"value": value, **{k: run[k] for k in CURVES}}
            if "train_accuracy" in run:
                entry["train_accuracy"] = run["train_accuracy"]
            series.append(entry)
        if run["status"] == RunOutcome.FINISHED and run["epochs"]:
            values.append(value)
            finals.append(run["final_test_accuracy"])
    out = {"kind": "sweep", "parameter": parameter, "config": _config(grid, parameter), "records": grid["records"],
           "test_records": grid["test_records"], "values": values, "final_test_accuracy": finals,
           "stopped": grid["stopped"], "seconds_total": grid["seconds_total"], "series": series}
    if grid.get("train_eval_records"):
        out["train_eval_records"] = grid["train_eval_records"]
    return out


def as_epochs_sweep(grid: dict[str, Any], values: Sequence[int]) -> dict[str, Any]:
    """A grid of one long run (no setting varied, one seed, train records scored) as the ``"epochs"`` sweep
    result the Experiments page draws: the test accuracy after each of ``values`` epochs that finished."""
    _check_grid(grid, "as_epochs_sweep", [])
    curves = next((run for run in grid["runs"] if run["epochs"]), None)
    done = [v for v in values if curves is not None and v <= len(curves["epochs"])]
    series = [] if curves is None else [
        {"value": max(values), **{k: curves[k] for k in (*CURVES, "train_accuracy") if k in curves}}]
    return {"kind": "sweep", "parameter": "epochs", "config": _config(grid, "epochs"), "records": grid["records"],
            "test_records": grid["test_records"], "train_eval_records": grid["train_eval_records"],
            "values": done, "final_test_accuracy": [curves["test_accuracy"][v - 1] for v in done],
            "stopped": grid["stopped"], "seconds_total": grid["seconds_total"], "series": series}
