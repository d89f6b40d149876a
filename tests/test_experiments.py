"""ann.experiments.seed_claims: the error-rule comparison and the one-setting sweeps (grids run in this process),
and the shipped results files they made."""

from __future__ import annotations

from pathlib import Path

import pytest

from ann.config import ERROR_RULE_NAMES, ConfigError, TrainConfig
from ann.experiments.grid import SweepData
from ann.experiments.results import FORMAT_VERSION, load_results, save_results
from ann.experiments.seed_claims import compare_error_rules, sweep_one_setting

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- experiment runners


@pytest.fixture(scope="module")
def small(mnist):
    """500 training records and 1,000 test records."""
    return SweepData(mnist.train.images[:500], mnist.train.labels[:500], mnist.test.images[:1000],
                     mnist.test.labels[:1000])


def _check_series(series, epochs):
    assert series["epochs"] == list(range(1, epochs + 1))
    for key in ("test_accuracy", "train_loss", "seconds"):
        assert len(series[key]) == epochs
    assert all(0.0 <= a <= 1.0 for a in series["test_accuracy"])


def test_compare_error_rules_returns_a_curve_per_rule_and_round_trips(small, tmp_path):
    calls = []
    results = compare_error_rules(small, TrainConfig(epochs=2, rotate=0.0),
                                  progress=lambda f, m: calls.append((f, m)))
    assert results["kind"] == "error_rules" and results["records"] == 500 and results["stopped"] is False
    assert [s["rule"] for s in results["series"]] == list(ERROR_RULE_NAMES)
    assert "error_rule" not in results["config"] and results["config"]["hidden_nodes"] == [200]
    for series in results["series"]:
        _check_series(series, 2)
    finals = {s["rule"]: s["test_accuracy"][-1] for s in results["series"]}
    assert finals["transpose"] > 0.6 and finals["transpose"] > finals["equal"]  # the rules really differ
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and all(0 <= f <= 1 for f in fractions)
    assert isinstance(calls[0][1], str)
    loaded = load_results(save_results(tmp_path / "rules.json", results))
    assert loaded["format_version"] == FORMAT_VERSION and loaded["machine"]["cpus"] >= 1
    assert loaded["series"][0]["test_accuracy"] == [round(a, 4) for a in results["series"][0]["test_accuracy"]]


def test_sweeps_over_learning_rate_and_hidden_nodes(small, tmp_path):
    for parameter, values in (("learning_rate", [0.05, 0.3]), ("hidden_nodes", [10, 30])):
        results = sweep_one_setting(small, parameter, values, TrainConfig(epochs=2, rotate=0.0))
        assert results["kind"] == "sweep" and results["parameter"] == parameter
        assert results["values"] == values and parameter not in results["config"]
        assert [s["value"] for s in results["series"]] == values
        for series, final in zip(results["series"], results["final_test_accuracy"]):
            _check_series(series, 2)
            assert final == series["test_accuracy"][-1]
        assert load_results(save_results(tmp_path / f"{parameter}.json", results))["values"] == values


def test_epochs_sweep_scores_held_in_training_records_each_epoch(small, tmp_path):
    results = sweep_one_setting(small, "epochs", [1, 3, 2], TrainConfig(rotate=0.0), train_eval_records=300)
    (series,) = results["series"]
    _check_series(series, 3)
    assert results["train_eval_records"] == 300 and results["values"] == [1, 3, 2]
    assert results["final_test_accuracy"] == [series["test_accuracy"][i] for i in (0, 2, 1)]
    assert len(series["train_accuracy"]) == 3 and all(0 <= a <= 1 for a in series["train_accuracy"])
    # 500 records learned three times over: the held-in records are known better than unseen ones
    assert series["train_accuracy"][-1] > series["test_accuracy"][-1]
    collection = {"kind": "sweeps", "sweeps": [{"name": "epochs", **results}]}
    assert load_results(save_results(tmp_path / "sweeps.json", collection))["sweeps"][0]["name"] == "epochs"


def test_a_stop_request_ends_the_experiment_with_what_it_has(mnist, small):
    calls = []
    # One report as the sweep starts, then 3,000 records are 3 chunks an epoch, each reported, plus one report
    # at the epoch's end: the 5th report ends epoch 1, and the stop is honoured before epoch 2's first chunk.
    data = SweepData(mnist.train.images, mnist.train.labels, small.test_images, small.test_labels)
    results = compare_error_rules(data, TrainConfig(epochs=3, rotate=0.0, limit=3000),
                                  progress=lambda f, m: calls.append(f), should_stop=lambda: len(calls) >= 5)
    assert results["stopped"] is True and results["records"] == 3000
    assert len(results["series"]) == 1 and results["series"][0]["epochs"] == [1]  # partial epoch 2 dropped
    assert calls[-1] == 1.0


def test_runners_reject_unknown_names(small):
    with pytest.raises(ConfigError, match="sweep parameter 'batch_size' is not known"):
        sweep_one_setting(small, "batch_size", [1, 2], TrainConfig(epochs=1))
    with pytest.raises(ConfigError, match="error rule 'half' is not known"):
        compare_error_rules(small, TrainConfig(epochs=1), rules=["transpose", "half"])
    with pytest.raises(ConfigError, match="positive whole numbers"):
        sweep_one_setting(small, "epochs", [0, 2], TrainConfig())


# --------------------------------------------------------------------------- the shipped results


def test_shipped_error_rules_file_is_the_seed_chart():
    path = ROOT / "data" / "experiments_error_rules.json"
    results = load_results(path)
    assert path.stat().st_size < 50_000
    assert results["records"] == 60_000 and results["test_records"] == 10_000
    assert sorted(s["rule"] for s in results["series"]) == sorted(ERROR_RULE_NAMES)
    assert all(s["epochs"] == [1, 2, 3, 4, 5] for s in results["series"])
    finals = {s["rule"]: s["test_accuracy"][-1] for s in results["series"]}
    assert finals["transpose"] > 0.9
    assert results["note"]


def test_shipped_sweeps_file_has_the_three_sweeps():
    path = ROOT / "data" / "experiments_sweeps.json"
    results = load_results(path)
    assert path.stat().st_size < 50_000
    by_name = {s["name"]: s for s in results["sweeps"]}
    assert by_name["learning_rate"]["values"] == [0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7]
    assert by_name["hidden_nodes"]["values"] == [10, 25, 50, 100, 200, 400, 800]
    epochs = by_name["epochs"]
    assert epochs["values"] == list(range(1, 21))
    assert len(epochs["series"][0]["train_accuracy"]) == 20
    assert all(s["records"] == 60_000 and s["note"] for s in results["sweeps"])
