"""The experiments' results for the pages: the shipped files, and what a result says, in sentences.

The sentences are written from the numbers (never typed in by hand), so they stay true when
``bench/run_experiments.py`` is run again, and the same functions describe a live run on a subset. Each
says what the seed blog claimed and whether these figures agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import streamlit as st

from ann.experiments.results import ResultsFileError, load_results, validate_results
from ann.formats import format_accuracy
from ui.experiments_charts import (
    RULE_SHORT,
    SEED_CHOICE,
    epochs_chart,
    error_rules_chart,
    error_rules_svg,
    peak_epoch,
    sweep_chart,
)

ROOT = Path(__file__).resolve().parents[1]
ERROR_RULES_PATH = ROOT / "data" / "experiments_error_rules.json"
SWEEPS_PATH = ROOT / "data" / "experiments_sweeps.json"
MAX_RESULTS_MB = 10  # an uploaded results file: a sweep of a hundred runs with their histories takes well under 1 MB
CLOSE = 0.01  # within one percentage point of the best counts as "did well" (about 100 test images)


# --------------------------------------------------------------------------- the shipped files


@st.cache_data(show_spinner=False, max_entries=4)
def _read(path: str, modified: float) -> dict[str, Any]:
    """A results file, read and checked once per server (``modified`` in the key: a new file is re-read)."""
    return load_results(path)


# The shipped files' charts, built once per server and shared by every visitor (the file's path and time in the
# key, the parsed file passed along unhashed). Here, in a module imported once, and not in the page, whose file
# runs on every script run: a cached function defined there is made anew each run (Streamlit reads its source
# to name its cache). Call them with keyword arguments (a positional one costs an inspect.signature).
@st.cache_data(show_spinner=False, max_entries=16)
def shipped_spec(path: str, modified: float, parameter: str, zoom: bool, position: int, _result: dict) -> dict:
    """The Vega-Lite dict of a shipped file's chart (``parameter``: "rules", or a sweep's parameter)."""
    chart = (error_rules_chart(_result, zoom=zoom) if parameter == "rules" else
             epochs_chart(_result) if parameter == "epochs" else sweep_chart(_result))
    return chart.to_dict()


@st.cache_data(show_spinner=False, max_entries=4)
def shipped_rules_svg(path: str, modified: float, zoom: bool, _result: dict) -> str:
    """The shipped error-rules file as a picture (SVG)."""
    return error_rules_svg(_result, zoom=zoom)


def shipped(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """A shipped results file and None, or None and a sentence saying why it cannot be shown."""
    if not path.is_file():
        return None, (f"`data/{path.name}` is not there yet: `python bench/run_experiments.py` computes it on "
                      "full MNIST (about 20 minutes on 2 cores). Meanwhile, run the experiment live below.")
    try:
        return _read(str(path), path.stat().st_mtime), None
    except (ResultsFileError, OSError) as exc:
        return None, f"`data/{path.name}` could not be read: {exc}"


def read_results_file(name: str, raw: bytes) -> dict[str, Any]:
    """An uploaded results file, checked: ``{"result": ..., "name": ...}`` or ``{"error": sentence}``."""
    if len(raw) > MAX_RESULTS_MB * 2**20:  # JSON takes ten times its size in Python objects
        return {"error": f"{name} is {len(raw) / 2**20:,.0f} MB; a results file is read here up to {MAX_RESULTS_MB} "
                         "MB (the file `python -m ann sweep --out` wrote)."}
    try:
        results = json.loads(raw.decode("utf-8"))
        validate_results(results, name, require_header=True)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {"error": f"{name} is not a JSON results file ({exc}); give the file `python -m ann sweep "
                         "--out` wrote."}
    except ResultsFileError as exc:
        return {"error": f"This file cannot be shown: {exc}"}
    return {"result": results, "name": name}


def sweeps_by_parameter(collection: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """The sweeps of a ``"sweeps"`` file grouped by parameter, in file order (an epochs sweep may come twice,
    with and without rotations)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in (collection or {}).get("sweeps", []):
        grouped.setdefault(entry["parameter"], []).append(entry)
    return grouped


# --------------------------------------------------------------------------- what a result says


def points(difference: float) -> str:
    """A difference of accuracies in percentage points, e.g. ``0.55 points``."""
    value = abs(difference) * 100
    return f"{value:.2f} point{'' if round(value, 2) == 1 else 's'}"


def setting(result: dict[str, Any]) -> str:
    """The data a result was measured on, in words: records, rotations, epochs."""
    config = result.get("config", {})
    records = int(result.get("records", 0))
    text = "all 60,000 training records" if records >= 60_000 else f"the first {records:,} training records"
    if config.get("rotate") and config.get("augment") == "copies":
        text += f", each also rotated by ±{config['rotate']:g}°"
    if result.get("parameter") != "epochs" and config.get("epochs"):
        text += f", {config['epochs']} epochs"
    return text


def error_rules_finding(results: dict[str, Any]) -> str:
    """What an error-rule comparison shows, and whether it agrees with the seed (Markdown)."""
    series = {s["rule"]: s for s in results.get("series", []) if s["test_accuracy"]}
    if not series:
        return "No rule finished an epoch."
    finals = {rule: s["test_accuracy"][-1] for rule, s in series.items()}
    order = sorted(finals, key=finals.get, reverse=True)
    best = order[0]
    listing = ", ".join(f"{RULE_SHORT.get(r, r)} {format_accuracy(finals[r])}" for r in order)
    parts = [f"**Our figures** ({setting(results)}), test accuracy at the end: {listing}."]

    blue, green = finals.get("transpose"), finals.get("proportional")
    if blue is not None and green is not None:
        top = finals[best]
        blue_note = "the best" if best == "transpose" else f"{points(top - blue)} behind the best"
        if top - blue <= CLOSE and top - green <= CLOSE:
            parts.append(f"**They agree with the seed**: blue (Wᵀ·E) and green (split by weight share) both "
                         f"end within a point of the best, and Wᵀ·E, the seed's choice, is {blue_note}.")
        elif top - blue <= CLOSE:
            parts.append(f"**They partly agree**: Wᵀ·E, the seed's choice, does well ({blue_note}), but green "
                         f"(split by weight share) ends {points(top - green)} behind the best, not level.")
        else:
            parts.append(f"**They disagree with the seed here**: Wᵀ·E ends {points(top - blue)} behind "
                         f"{RULE_SHORT.get(best, best)}.")
    equal = finals.get("equal")
    if equal is not None and equal < 0.5:
        parts.append(f"The equal split never learns ({format_accuracy(equal)}, close to the 10% of guessing): it gives "
                     "every hidden node the same error, so no node can tell that it was to blame, and all of "
                     "them are pushed the same way instead of learning different strokes.")
    normalized = series.get("transpose_normalized")
    if normalized is not None and "transpose" in series:
        first_gap = series["transpose"]["test_accuracy"][0] - normalized["test_accuracy"][0]
        last_gap = finals["transpose"] - finals["transpose_normalized"]
        hidden = (results.get("config", {}).get("hidden_nodes") or [None])[-1]
        n = f"N = {hidden}" if hidden else "N"
        if first_gap > 0.01:
            trend = ("and closes most of the gap" if last_gap < first_gap / 2 else "and stays behind")
            parts.append(f"Wᵀ·E / N starts slower ({format_accuracy(normalized['test_accuracy'][0])} after epoch 1, "
                         f"against {format_accuracy(series['transpose']['test_accuracy'][0])}) {trend}: dividing by "
                         f"{n} makes the "
                         "hidden layer's error that many times smaller, as if the first layer of weights "
                         "learned at a much lower rate.")
    return "  \n".join(parts)


def learning_rate_finding(result: dict[str, Any]) -> str:
    """What a learning-rate sweep shows next to the seed's 0.1."""
    values, finals = result.get("values", []), result.get("final_test_accuracy", [])
    if not values:
        return "No learning rate finished."
    by_value = dict(zip(map(float, values), finals))
    best = max(by_value, key=by_value.get)
    text = f"**Our figures** ({setting(result)}): the best rate is {best:g} ({format_accuracy(by_value[best])})"
    seed = SEED_CHOICE["learning_rate"]
    if seed not in by_value:
        return text + "; the seed's 0.1 was not in this sweep."
    gap = by_value[best] - by_value[seed]
    text += f", the seed's {seed:g} gives {format_accuracy(by_value[seed])}."
    largest = max(by_value)
    if largest > seed and by_value[largest] < by_value[seed]:
        text += f" Larger rates overshoot: {largest:g} ends at {format_accuracy(by_value[largest])}."
    if gap <= 0.002:
        text += " **This agrees with the seed**: 0.1 is as good as the best rate here."
    elif gap <= CLOSE:
        better = [v for v in by_value if by_value[v] > by_value[seed]]
        text += (f" **This partly agrees**: 0.1 is within a point of the best, but "
                 f"{', '.join(f'{v:g}' for v in sorted(better))} did better, by up to {points(gap)}.")
    else:
        text += f" **This disagrees with the seed**: 0.1 is {points(gap)} behind the best rate."
    return text


def hidden_nodes_finding(result: dict[str, Any]) -> str:
    """What a hidden-layer-size sweep shows next to the seed's 200 nodes."""
    values, finals = result.get("values", []), result.get("final_test_accuracy", [])
    if not values:
        return "No size finished."
    by_value = dict(zip(map(int, values), finals))
    best = max(by_value, key=by_value.get)
    smallest = min(by_value)
    text = (f"**Our figures** ({setting(result)}): {smallest} nodes reach {format_accuracy(by_value[smallest])}; "
            f"the best is {best} nodes ({format_accuracy(by_value[best])})")
    seed = SEED_CHOICE["hidden_nodes"]
    if seed not in by_value:
        return text + "; the seed's 200 was not in this sweep."
    gap = by_value[best] - by_value[seed]
    text += f"; the seed's {seed} give {format_accuracy(by_value[seed])}."
    if best > seed and gap > 0:
        text += (f" {best} nodes gain {points(gap)} for {best / seed:g} times the weights, and the training "
                 "time.")
    if gap <= CLOSE:
        text += (" **This agrees with the seed**: 200 nodes are within a point of the best, and more nodes "
                 "cost far more time than they gain.")
    else:
        text += f" **This disagrees with the seed**: 200 nodes are {points(gap)} behind the best size here."
    return text


def epochs_finding(result: dict[str, Any]) -> str:
    """Where more epochs stop helping (the test accuracy's peak) next to the seed's 5 epochs."""
    peak = peak_epoch(result)
    if peak is None:
        return "No epoch finished."
    series = result["series"][0]
    epochs, test = series["epochs"], series["test_accuracy"]
    train = series.get("train_accuracy") or []
    last = epochs[-1]
    at = dict(zip(epochs, test))
    peak_epoch_, peak_accuracy = peak
    text = (f"**Our figures** ({setting(result)}): the test accuracy peaks at epoch {peak_epoch_} "
            f"({format_accuracy(peak_accuracy)})")
    seed = SEED_CHOICE["epochs"]
    if seed in at:
        text += f"; after the seed's {seed} epochs it is {format_accuracy(at[seed])}"
    text += "."
    if last > peak_epoch_:
        drop = peak_accuracy - test[-1]
        text += (f" By epoch {last} it is {format_accuracy(test[-1])}, {points(drop)} below the peak" if drop > 0.0005
                 else f" By epoch {last} it has stayed at about the same level")
        if train:
            train_at = dict(zip(epochs, train))
            text += (f", while the accuracy on the training records goes from "
                     f"{format_accuracy(train_at[peak_epoch_])} to {format_accuracy(train[-1])}")
        text += "."
        if train and train[-1] > train_at[peak_epoch_] and drop > 0.0005:
            text += (" The network goes on fitting the images it trains on without reading new ones any "
                     "better: that is overfitting.")
    if seed not in at:
        return text
    if abs(peak_epoch_ - seed) <= 2 and last > peak_epoch_:
        verdict = (" **This agrees with the seed**: about 5 epochs get the most from the data (the peak is "
                   f"only {points(peak_accuracy - at[seed])} higher), and after the peak more epochs only cost "
                   "time or lose accuracy.")
    elif peak_epoch_ > seed + 2:
        until = (f"was still improving at the last epoch, {last}" if peak_epoch_ == last
                 else f"still improved until epoch {peak_epoch_}")
        verdict = (f" **This partly agrees**: the test accuracy {until}, "
                   f"{points(peak_accuracy - at[seed])} above the seed's 5 epochs.")
    else:
        verdict = f" Here the test accuracy peaked early, at epoch {peak_epoch_}."
    text += verdict
    if train and train[-1] - test[-1] > 0.02:
        text += (f" At the end the training records are read {points(train[-1] - test[-1])} better than the "
                 "test set: the network knows the images it trained on better than new ones, and the fewer "
                 "images it trains on, the wider that gap.")
    return text


def grid_finding(result: dict[str, Any]) -> str:
    """What a ``grid`` result says: the best setting (mean over its seeds) and the runs that failed."""
    names = [p["name"] for p in result.get("parameters", [])]
    groups: dict[tuple, list[float]] = {}
    for run in result.get("runs", []):
        if run.get("status") == "finished" and run.get("final_test_accuracy") is not None:
            key = tuple(str(run["values"][n]) for n in names)
            groups.setdefault(key, []).append(run["final_test_accuracy"])
    failed = [run for run in result.get("runs", []) if run.get("status") == "failed"]
    parts = []
    if groups:
        key, accuracies = max(groups.items(), key=lambda item: sum(item[1]) / len(item[1]))
        mean = sum(accuracies) / len(accuracies)
        point = ", ".join(f"{n.replace('_', ' ')} {v}" for n, v in zip(names, key)) or "the one setting"
        spread = (f" (mean of {len(accuracies)} seeds, {format_accuracy(min(accuracies))} to "
                  f"{format_accuracy(max(accuracies))})"
                  if len(accuracies) > 1 else "")
        parts.append(f"**Best**: {point}, {format_accuracy(mean)} on the test set{spread}, of {len(groups)} "
                     "settings tried.")
    else:
        parts.append("No run of this sweep finished.")
    if failed:
        parts.append(f"**{len(failed)} run{'s' if len(failed) > 1 else ''} failed**: "
                     + "; ".join(f"run {r['index'] + 1} ({r['error']})" for r in failed[:3])
                     + (" ..." if len(failed) > 3 else "") + ".")
    if result.get("stopped"):
        parts.append("The sweep was stopped before every run finished.")
    return " ".join(parts)
