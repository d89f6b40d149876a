"""The grid of a sweep: every combination of a few settings, times a number of seeds, as checked runs.

A sweep is every combination of a few settings (``learning_rate=0.01,0.03,0.1`` x ``hidden_nodes=100,200``)
times a number of seeds, everything else fixed. :func:`parse_param` reads one setting's values as the command
line writes them; :func:`expand_grid` turns the settings into :class:`RunSpec` objects, each configuration
checked up front (a bad value is a :class:`SweepError` before anything trains). :class:`SweepData` holds the
arrays every run trains and is scored on. :func:`ann.experiments.sweep.run_sweep` trains the runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ann.config import ConfigError, NetworkConfig, TrainConfig, configs_from_dict

__all__ = [
    "ALIASES",
    "RunSpec",
    "SweepData",
    "SweepError",
    "expand_grid",
    "format_value",
    "parse_param",
]

# Command-line spellings accepted for a setting's name (``--param lr=0.1,0.3``), besides the field names.
ALIASES = {"lr": "learning_rate", "hidden": "hidden_nodes", "elastic": "elastic_alpha"}
NOT_SWEPT = ("input_nodes", "output_nodes", "seed", "limit")  # seeds: --seeds; records: one limit for all


class SweepError(ValueError):
    """A sweep cannot run as asked: a bad --param, no runs, a bad worker count, an unreachable scheduler.
    The message names the value and what to do."""


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its grid point, its seed and the full configuration it trains with."""

    index: int  # position in the grid (the order runs are listed in the results)
    values: tuple[tuple[str, Any], ...]  # (setting, value) of this grid point, in --param order
    seed: int
    network: NetworkConfig
    train: TrainConfig
    train_eval_records: int = 0  # > 0: also score the first this many training records after every epoch

    @property
    def label(self) -> str:
        point = " ".join(f"{k}={format_value(v)}" for k, v in self.values)
        return f"{point} seed {self.seed}".strip()

    @property
    def cost(self) -> float:
        """Relative cost, for progress: epochs x records x weights."""
        sizes = self.network.layer_sizes
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        records = self.train.limit or 60_000
        return float(self.train.epochs * records * self.train.copies_per_record * weights)


@dataclass(frozen=True)
class SweepData:
    """The arrays every run trains and is scored on (sent to each worker once).

    images : ndarray (n, 784) uint8 (or scaled float); labels : ndarray (n,) int
    test_images : ndarray (m, 784); test_labels : ndarray (m,) int
    """

    images: np.ndarray
    labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def __post_init__(self) -> None:
        for name, images, labels in (("training set", self.images, self.labels),
                                     ("test set", self.test_images, self.test_labels)):
            shape, label_shape = np.shape(images), np.shape(labels)
            if len(shape) != 2 or len(label_shape) != 1 or shape[0] != label_shape[0] or shape[0] == 0:
                raise SweepError(f"{name}: images of shape {shape} and labels of shape {label_shape} do "
                                 "not match; expected (n, 784) images and (n,) labels, n > 0")

    def limited(self, limit: int | None) -> SweepData:
        """The first ``limit`` training records (all with None), the same test set."""
        if limit is None or limit >= len(self.images):
            return self
        return SweepData(self.images[:limit], self.labels[:limit], self.test_images, self.test_labels)


def format_value(value: Any) -> str:
    """A setting's value as the command line writes it (hidden layers 300x100, numbers short)."""
    if isinstance(value, (tuple, list)):
        return "x".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)



def _field_types() -> dict[str, Any]:
    types = {f.name: f.default for f in fields(NetworkConfig)}
    types.update({f.name: f.default for f in fields(TrainConfig)})
    return types


def _parse_value(name: str, text: str, default: Any) -> Any:
    text = text.strip()
    if name == "hidden_nodes":  # one size per run: 200, or layers joined by x: 300x100
        try:
            sizes = tuple(int(part) for part in text.lower().split("x"))
        except ValueError:
            raise SweepError(f"--param hidden_nodes: {text!r} is not a layer size; give whole numbers such as "
                             "100,200 (one hidden layer each) or 300x100 (two layers)") from None
        return sizes
    if isinstance(default, bool):
        if text.lower() in ("true", "yes", "1", "on"):
            return True
        if text.lower() in ("false", "no", "0", "off"):
            return False
        raise SweepError(f"--param {name}: {text!r} is not true or false")
    if isinstance(default, int) or name == "limit":
        try:
            return int(text)
        except ValueError:
            raise SweepError(f"--param {name}: {text!r} is not a whole number") from None
    if isinstance(default, float):
        try:
            value = float(text)
        except ValueError:
            raise SweepError(f"--param {name}: {text!r} is not a number") from None
        if not np.isfinite(value):
            raise SweepError(f"--param {name}: {text!r} is not a finite number")
        return value
    return text


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"learning_rate=0.01,0.03,0.1"`` -> ``("learning_rate", [0.01, 0.03, 0.1])``.

    The name is a field of :class:`~ann.config.NetworkConfig` or :class:`~ann.config.TrainConfig` (or a
    command-line spelling: ``lr``, ``hidden``, ``batch-size``...); values are parsed as that field's type.

    Raises
    ------
    SweepError
        No ``=``, an unknown name, a setting that cannot be swept, no values, a value of the wrong type,
        or the same value twice.
    """
    name, sep, values_text = text.partition("=")
    name = name.strip().replace("-", "_")
    name = ALIASES.get(name, name)
    if not sep or not name:
        raise SweepError(f"--param {text!r}: expected NAME=VALUE,VALUE,... such as learning_rate=0.01,0.03,0.1")
    known = _field_types()
    if name not in known:
        raise SweepError(f"--param {text!r}: {name!r} is not a setting; choose one of: "
                         f"{', '.join(sorted(set(known) - set(NOT_SWEPT)))}")
    if name in NOT_SWEPT:
        hint = {"seed": "use --seeds N", "limit": "use --limit N (the same records for every run)"}.get(
            name, "it is fixed by MNIST")
        raise SweepError(f"--param {name}: this setting is not swept; {hint}")
    parts = [p for p in values_text.split(",") if p.strip()]
    if not parts:
        raise SweepError(f"--param {name}: give at least one value, e.g. {name}=1,2")
    values = [_parse_value(name, p, known[name]) for p in parts]
    duplicates = sorted({format_value(v) for v in values if values.count(v) > 1})
    if duplicates:
        raise SweepError(f"--param {name}: {', '.join(duplicates)} given more than once")
    return name, values


def expand_grid(params: Sequence[tuple[str, Sequence[Any]]], seeds: Sequence[int],
                base: dict[str, Any] | None = None, preset: str | None = None,
                train_eval_records: int = 0) -> list[RunSpec]:
    """Every combination of the settings' values, for every seed, as checked run specifications.

    Parameters
    ----------
    params : sequence of (name, values), e.g. from :func:`parse_param`
    seeds : the seeds each grid point is trained with (weights, shuffling, augmentation)
    base : dict, optional
        The fixed settings (configs_from_dict keys), over ``preset``'s or the seed's defaults.
    train_eval_records : int
        Score the first this many training records after every epoch too (the overfitting curve).

    Raises
    ------
    SweepError
        A setting given twice or also in ``base``, no seeds, a repeated seed, or a combination that the
        configuration refuses (the message names the run).
    """
    base = dict(base or {})
    names = [name for name, _ in params]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SweepError(f"--param {', '.join(repeated)} given more than once; give each setting's values "
                         "in one --param")
    if not seeds:
        raise SweepError("no seeds to run: --seeds must be at least 1")
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"seeds {list(seeds)} repeat a seed")
    for name in names:
        base.pop(name, None)  # the grid's values win over a fixed flag for the same setting
    specs = []
    points = list(itertools.product(*[[(name, v) for v in values] for name, values in params])) or [()]
    for point in points:
        for seed in seeds:
            values = dict(base) | dict(point) | {"seed": int(seed)}
            try:
                network, train = configs_from_dict(values, preset=preset)
            except ConfigError as exc:
                label = " ".join(f"{k}={format_value(v)}" for k, v in point)
                raise SweepError(f"the run {label or 'of this sweep'} cannot train: {exc}") from None
            specs.append(RunSpec(len(specs), tuple(point), int(seed), network, train, int(train_eval_records)))
    return specs
