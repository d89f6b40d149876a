"""Inside a network (backquery, weight images, contributions) and the experiment runners and results files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.special

from ann.config import ERROR_RULE_NAMES, ConfigError, NetworkConfig, TrainConfig
from ann.experiments import compare_error_rules, sweep
from ann.inside import backquery, backquery_all, hidden_activations, hidden_weight_images, output_contributions
from ann.results import FORMAT_VERSION, ResultsFileError, load_results, save_results
from ann.network import Network
from ann.train import fit

ROOT = Path(__file__).resolve().parents[1]
L = np.log(99.0)  # logit(0.99) = -logit(0.01)


def _tiny(activation="sigmoid", loss="mse", bias=False) -> Network:
    """3 inputs, 2 hidden, 2 outputs, with weights small enough to backquery by hand."""
    net = Network(NetworkConfig(input_nodes=3, hidden_nodes=(2,), output_nodes=2, activation=activation,
                                loss=loss, bias=bias, dtype="float64"), seed=0)
    net.weights = [np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]]), np.array([[1.0, -1.0], [0.0, 2.0]])]
    return net


# --------------------------------------------------------------------------- backquery


def test_backquery_by_hand_on_a_tiny_network():
    # label 0: outputs (0.99, 0.01) -> logit (L, -L) -> W_out.T gives (L, -3L) -> rescaled (0.99, 0.01)
    # -> logit (L, -L) -> W_in.T gives (L, -L, -2L) -> rescaled (0.99, 0.01 + 0.98/3, 0.01)
    net = _tiny()
    np.testing.assert_allclose(backquery(net, 0), [0.99, 0.01 + 0.98 / 3, 0.01], atol=1e-12)
    # label 1 mirrors it: (-L, 3L) -> (0.01, 0.99) -> (-L, L) -> (-L, L, 2L) -> (0.01, 0.01 + 0.98*2/3, 0.99)
    np.testing.assert_allclose(backquery(net, 1), [0.01, 0.01 + 0.98 * 2 / 3, 0.99], atol=1e-12)


def test_backquery_by_hand_for_other_activations_and_softmax():
    # tanh: (L, -3L) is squeezed into (0.98, -0.98), arctanh gives (A, -A): the same image as sigmoid
    np.testing.assert_allclose(backquery(_tiny("tanh"), 0), [0.99, 0.01 + 0.98 / 3, 0.01], atol=1e-12)
    # relu: (L, -3L) passes through as is -> W_in.T gives (L, -3L, -4L) -> rescaled (0.99, 0.01 + 0.98/5, 0.01)
    np.testing.assert_allclose(backquery(_tiny("relu"), 0), [0.99, 0.01 + 0.98 / 5, 0.01], atol=1e-12)
    # softmax: centred log of (0.99, 0.01) is (L/2, -L/2), half the logit; the rescale removes the factor
    np.testing.assert_allclose(backquery(_tiny(loss="cross_entropy"), 0), backquery(_tiny(), 0), atol=1e-12)


def test_backquery_subtracts_biases_and_survives_a_constant_signal():
    net = _tiny(bias=True)
    # output net input logit(t) - b = (0, 0) exactly: no pattern left, every layer constant
    net.biases = [np.zeros(2), scipy.special.logit([0.99, 0.01])]
    np.testing.assert_allclose(backquery(net, 0), [0.5, 0.5, 0.5])
    net.biases = [np.zeros(2), np.array([0.0, 0.0])]
    np.testing.assert_allclose(backquery(net, 0), backquery(_tiny(), 0), atol=1e-12)


def _rashid_backquery(wih, who, targets):
    """Make Your Own Neural Network's backquery, transcribed (column vectors, sigmoid, 1 hidden layer)."""
    final_outputs = np.array(targets, ndmin=2).T
    final_inputs = scipy.special.logit(final_outputs)
    hidden_outputs = np.dot(who.T, final_inputs)
    hidden_outputs -= np.min(hidden_outputs)
    hidden_outputs /= np.max(hidden_outputs)
    hidden_outputs *= 0.98
    hidden_outputs += 0.01
    hidden_inputs = scipy.special.logit(hidden_outputs)
    inputs = np.dot(wih.T, hidden_inputs)
    inputs -= np.min(inputs)
    inputs /= np.max(inputs)
    inputs *= 0.98
    inputs += 0.01
    return inputs[:, 0]


def test_backquery_matches_rashids_code_and_has_the_right_shape():
    net = Network(NetworkConfig(hidden_nodes=(30,), dtype="float64"), seed=5)
    images = backquery_all(net)
    assert images.shape == (10, 784) and images.dtype == np.float64
    assert images.min() == pytest.approx(0.01) and images.max() == pytest.approx(0.99)
    for digit in (0, 7):
        targets = np.full(10, 0.01)
        targets[digit] = 0.99
        np.testing.assert_allclose(images[digit], _rashid_backquery(*net.weights, targets), atol=1e-12)
    deep = backquery(Network(NetworkConfig(hidden_nodes=(40, 20, 15), activation="tanh", bias=True)), 3)
    assert deep.shape == (784,) and deep.min() >= 0.01 - 1e-12 and deep.max() <= 0.99 + 1e-12


@pytest.mark.parametrize("label", [10, -1, 2.0, True, "3"])
def test_backquery_rejects_a_label_that_is_not_an_output(label):
    with pytest.raises(ValueError, match="not an output node"):
        backquery(Network(NetworkConfig(hidden_nodes=(5,))), label)


def test_backquery_rejects_targets_at_the_ends():
    with pytest.raises(ValueError, match="0 < low < high < 1"):
        backquery(Network(NetworkConfig(hidden_nodes=(5,))), 1, low=0.0, high=1.0)


# What backquery means: the image made for digit d is the one, of the ten, that drives output d hardest.
# Asked the other way ("does the network classify backquery(d) as d?") the count is chaotic: over seeds
# 80-85, with and without a 1e-7 nudge of the initial weights, in float32 and float64, it ranged 8-9 of 10
# for the sigmoid network, 6-9 for relu/softmax and 2-9 for tanh (sums taken in another order, on another
# BLAS kernel, moved it from 7 to 6 in CI). The property asserted here held for all 10 digits in every one of
# those 72 runs (bench/test_margins.py measures it), and output d's strongest image was backquery(d) for at
# least 8 of 10 in each; the thresholds sit below both.
@pytest.mark.parametrize("network_config,train_config", [
    (NetworkConfig(), TrainConfig(limit=5000, epochs=1, rotate=0.0)),  # the seed's network
    (NetworkConfig(activation="tanh"), TrainConfig(limit=5000, epochs=1, rotate=0.0, learning_rate=0.05)),
    (NetworkConfig(activation="relu", loss="cross_entropy", propagate="delta", bias=True),
     TrainConfig(limit=5000, epochs=1, rotate=0.0, learning_rate=0.05)),
], ids=["sigmoid", "tanh", "relu-softmax-bias"])
def test_a_trained_network_recognises_its_own_backquery_images(mnist, network_config, train_config):
    """Each digit's backquery image drives that digit's output above its mean over the other nine images."""
    net = Network(network_config, seed=80)
    fit(net, mnist.train.images, mnist.train.labels, train_config)
    outputs = net.query(backquery_all(net))  # row i: the ten outputs for backquery(i)
    own = np.diag(outputs)
    others = (outputs.sum(axis=0) - own) / 9
    assert int(np.sum(own > others)) >= 9, (own, others)  # 10 of 10 in every measured run
    assert int(np.sum(np.argmax(outputs, axis=0) == np.arange(10))) >= 6, outputs  # 8-10 measured


# --------------------------------------------------------------------------- weights, activations, contributions


def test_hidden_weight_images_are_the_first_layers_rows():
    net = Network(NetworkConfig(hidden_nodes=(20, 7)), seed=1)
    images = hidden_weight_images(net)
    assert images.shape == (20, 28, 28) and images.dtype == net.weights[0].dtype
    np.testing.assert_array_equal(images[4], net.weights[0][4].reshape(28, 28))
    images[0] = 99.0  # a copy: the network is untouched
    assert not np.any(net.weights[0] == 99.0)
    with pytest.raises(ValueError, match="20 inputs, which do not form a square image"):
        hidden_weight_images(net, layer=1)
    with pytest.raises(ValueError, match="layer=3 does not exist"):
        hidden_weight_images(net, layer=3)


def test_hidden_activations_for_one_input(mnist):
    net = Network(NetworkConfig(hidden_nodes=(20, 7)), seed=1)
    pixels = mnist.test.images[0]
    hidden = hidden_activations(net, pixels)
    assert [h.shape for h in hidden] == [(20,), (7,)]
    layers = net.forward(pixels.astype(np.float32) / 255 * 0.99 + 0.01)
    np.testing.assert_allclose(hidden[1], layers[2][0], rtol=1e-6)
    np.testing.assert_allclose(hidden_activations(net, pixels[None, :])[0], hidden[0])
    with pytest.raises(ValueError, match="not one input"):
        hidden_activations(net, mnist.test.images[:2])


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_output_contributions_add_up_to_the_output_net_input(mnist, loss):
    net = Network(NetworkConfig(hidden_nodes=(30, 12), loss=loss, bias=True, dtype="float64"), seed=2)
    rng = np.random.default_rng(0)
    for b in net.biases:
        b += rng.normal(0, 0.5, b.shape)
    x = mnist.test.images[3]
    contributions = output_contributions(net, x)
    assert contributions.shape == (10, 12)
    net_input = contributions.sum(axis=1) + net.biases[-1]
    outputs = net.query(x.astype(np.float64) / 255 * 0.99 + 0.01)[0]
    if loss == "mse":  # sigmoid: the logit undoes it
        np.testing.assert_allclose(net_input, scipy.special.logit(outputs), rtol=1e-9, atol=1e-9)
    else:  # softmax: undone up to a constant
        np.testing.assert_allclose(net_input - net_input.mean(), np.log(outputs) - np.log(outputs).mean(),
                                   atol=1e-9)


def test_output_contributions_of_the_seed_network_without_bias(mnist):
    net = Network(NetworkConfig(), seed=80)
    x = mnist.test.images[0]
    contributions = output_contributions(net, x)
    assert contributions.shape == (10, 200)
    outputs = net.query(x.astype(np.float32) / 255 * 0.99 + 0.01)[0]
    np.testing.assert_allclose(scipy.special.expit(contributions.sum(axis=1)), outputs, rtol=1e-5)


# --------------------------------------------------------------------------- experiment runners


@pytest.fixture(scope="module")
def small(mnist):
    """500 training records and 1,000 test records."""
    return mnist.train.images[:500], mnist.train.labels[:500], mnist.test.images[:1000], mnist.test.labels[:1000]


def _check_series(series, epochs):
    assert series["epochs"] == list(range(1, epochs + 1))
    for key in ("test_accuracy", "train_loss", "seconds"):
        assert len(series[key]) == epochs
    assert all(0.0 <= a <= 1.0 for a in series["test_accuracy"])


def test_compare_error_rules_returns_a_curve_per_rule_and_round_trips(small, tmp_path):
    calls = []
    results = compare_error_rules(*small, TrainConfig(epochs=2, rotate=0.0),
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
        results = sweep(*small, parameter, values, TrainConfig(epochs=2, rotate=0.0))
        assert results["kind"] == "sweep" and results["parameter"] == parameter
        assert results["values"] == values and parameter not in results["config"]
        assert [s["value"] for s in results["series"]] == values
        for series, final in zip(results["series"], results["final_test_accuracy"]):
            _check_series(series, 2)
            assert final == series["test_accuracy"][-1]
        assert load_results(save_results(tmp_path / f"{parameter}.json", results))["values"] == values


def test_epochs_sweep_scores_held_in_training_records_each_epoch(small, tmp_path):
    results = sweep(*small, "epochs", [1, 3, 2], TrainConfig(rotate=0.0), train_eval_records=300)
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
    # 3,000 records are 3 chunks an epoch, each reported, plus one report at the epoch's end: the 5th report
    # comes after the first chunk of epoch 2, and the stop is honoured before the second.
    results = compare_error_rules(mnist.train.images, mnist.train.labels, *small[2:],
                                  TrainConfig(epochs=3, rotate=0.0, limit=3000),
                                  progress=lambda f, m: calls.append(f), should_stop=lambda: len(calls) >= 5)
    assert results["stopped"] is True and results["records"] == 3000
    assert len(results["series"]) == 1 and results["series"][0]["epochs"] == [1]  # partial epoch 2 dropped
    assert calls[-1] == 1.0


def test_runners_reject_unknown_names(small):
    with pytest.raises(ConfigError, match="sweep parameter 'batch_size' is not known"):
        sweep(*small, "batch_size", [1, 2], TrainConfig(epochs=1))
    with pytest.raises(ConfigError, match="error rule 'half' is not known"):
        compare_error_rules(*small, TrainConfig(epochs=1), rules=["transpose", "half"])
    with pytest.raises(ConfigError, match="positive whole numbers"):
        sweep(*small, "epochs", [0, 2], TrainConfig())


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
