"""ann.experiments.results: every bad results file is named and explained; a bad result never replaces a good file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ann.experiments.results import FORMAT_VERSION, ResultsFileError, load_results, save_results

# --------------------------------------------------------------------------- bad results files


def _valid() -> dict:
    return {"kind": "error_rules", "config": {}, "records": 10, "series": [
        {"rule": "transpose", "epochs": [1, 2], "test_accuracy": [0.5, 0.6], "train_loss": [0.3, 0.2],
         "seconds": [1.0, 1.0]}]}


def _written(tmp_path, results) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"format_version": 1, "created": "2025-01-01", **results}))
    return path


def _broken(change):
    results = _valid()
    change(results)
    return results


@pytest.mark.parametrize("results,match", [
    ([1, 2], "expected a JSON object"),
    ({**_valid(), "kind": "model"}, "kind 'model' is not known"),
    (_broken(lambda r: r.pop("series")), "missing key.*series"),
    (_broken(lambda r: r["series"][0].pop("test_accuracy")), r"series\[0\] is missing test_accuracy"),
    (_broken(lambda r: r["series"][0]["test_accuracy"].append(0.7)),
     "test_accuracy has 3 values but epochs has 2"),
    (_broken(lambda r: r["series"][0].update(test_accuracy=[50.0, 60.0])),
     "test_accuracy value 50.0 is outside 0..1"),
    (_broken(lambda r: r["series"][0].update(epochs=[2, 1])), "epochs must increase"),
    (_broken(lambda r: r["series"][0].update(train_loss=[0.3, None])), "train_loss holds a value that is not"),
    ({"kind": "sweep", "parameter": "learning_rate", "values": [0.1, 0.2], "final_test_accuracy": [0.9],
      "config": {}, "records": 1, "series": []}, "2 values but 1 final_test_accuracy"),
    ({"kind": "sweep", "parameter": "momentum", "values": [], "final_test_accuracy": [], "config": {},
      "records": 1, "series": []}, "parameter 'momentum' is not one of"),
    ({"kind": "sweeps", "sweeps": [{"kind": "error_rules", **{k: v for k, v in _valid().items() if k != "kind"}}]},
     r"sweeps\[0\]: kind 'error_rules'"),
])
def test_each_bad_results_file_is_named_and_explained(tmp_path, results, match):
    path = _written(tmp_path, results) if isinstance(results, dict) else tmp_path / "results.json"
    if not isinstance(results, dict):
        path.write_text(json.dumps(results))
    with pytest.raises(ResultsFileError, match=match) as info:
        load_results(path)
    assert "results.json" in str(info.value)


def test_not_json_and_header_problems(tmp_path):
    path = tmp_path / "results.json"
    path.write_bytes(b"\x89PNG\r\n")
    with pytest.raises(ResultsFileError, match="results.json: not a JSON file"):
        load_results(path)
    path.write_text("{\"kind\": ")
    with pytest.raises(ResultsFileError, match="not a JSON file"):
        load_results(path)
    path.write_text(json.dumps(_valid()))
    with pytest.raises(ResultsFileError, match="missing key.*format_version.*not written by save_results"):
        load_results(path)
    path.write_text(json.dumps({"format_version": FORMAT_VERSION + 1, "created": "2030-01-01", **_valid()}))
    with pytest.raises(ResultsFileError, match=f"format_version {FORMAT_VERSION + 1} is not one this version"):
        load_results(path)


def test_save_refuses_a_bad_result_and_keeps_the_old_file(tmp_path):
    path = save_results(tmp_path / "results.json", _valid())
    before = path.read_bytes()
    with pytest.raises(ResultsFileError, match="results.json: .*outside 0..1"):
        save_results(path, _broken(lambda r: r["series"][0].update(test_accuracy=[0.5, 1.5])))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left behind
