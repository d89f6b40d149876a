"""Experiment results files: JSON with a format version, a creation date and the machine it ran on.

:func:`save_results` writes a result of :mod:`ann.experiments` atomically, validated first, so a bad result
never replaces a good file; :func:`load_results` reads one back and checks it, raising
:class:`ResultsFileError` that names the file and the problem.
"""

from __future__ import annotations

import json
import math
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ann.config import SWEEP_PARAMETERS
from ann.experiments.run import RunOutcome
from ann.files import atomic_write_bytes

__all__ = [
    "FORMAT_VERSION",
    "RESULT_KINDS",
    "ResultsFileError",
    "load_results",
    "machine_info",
    "save_results",
    "validate_results",
]

FORMAT_VERSION = 1
RESULT_KINDS = ("error_rules", "sweep", "sweeps", "grid")  # "sweeps": several sweep results in one file;
# "grid": a sweep over any settings and seeds, one record per run (ann.experiments.sweep, python -m ann sweep)
RUN_STATUSES = tuple(RunOutcome)


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


def _validate_grid(results: dict[str, Any], source: str) -> None:
    """A ``grid`` result of :func:`ann.experiments.sweep.run_sweep`: its settings, seeds and one record per run."""
    missing = [k for k in ("parameters", "seeds", "config", "records", "runs") if k not in results]
    _check(not missing, source, f"missing key(s) {', '.join(missing)} for kind 'grid'")
    parameters, seeds, runs = results["parameters"], results["seeds"], results["runs"]
    _check(isinstance(parameters, list) and all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                                and isinstance(p.get("values"), list) and p["values"]
                                                for p in parameters),
           source, "parameters must be a list of {name, values} with at least one value each")
    _check(isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds),
           source, "seeds must be a non-empty list of whole numbers")
    _check(isinstance(results["config"], dict), source, "config is not an object")
    _check(isinstance(results["records"], int) and results["records"] >= 0, source,
           f"records must be a whole number >= 0, got {results['records']!r}")
    _check(isinstance(runs, list), source, "runs is not a list")
    names = [p["name"] for p in parameters]
    for i, run in enumerate(runs):
        _check(isinstance(run, dict), source, f"runs[{i}] is not an object")
        status = run.get("status")
        _check(status in RUN_STATUSES, source,
               f"runs[{i}]: status {status!r} is not one of {', '.join(RUN_STATUSES)}")
        _check(isinstance(run.get("values"), dict) and sorted(run["values"]) == sorted(names), source,
               f"runs[{i}]: values must name exactly the grid's settings ({', '.join(names)})")
        _check(run.get("seed") in seeds, source, f"runs[{i}]: seed {run.get('seed')!r} is not one of the seeds")
        _validate_series({"run": i, **run}, f"runs[{i}]", source, "run")
        final = run.get("final_test_accuracy")
        _check(final is None or (_is_number(final) and 0.0 <= final <= 1.0), source,
               f"runs[{i}]: final_test_accuracy {final!r} is not an accuracy (0..1) or null")
        if status == "failed":
            _check(isinstance(run.get("error"), str) and run["error"], source,
                   f"runs[{i}]: a failed run must say why (error)")


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
    if kind == "grid":
        _validate_grid(results, source)
        return
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
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
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
                               "written by ann.experiments.results.save_results") from None
    validate_results(results, str(path), require_header=True)
    return results
