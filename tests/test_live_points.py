"""Live points: a run's curves within each epoch (ann.live_points, the training loop, the run store, the pages).

The count, keys and order of the points of the seed's short run on real MNIST; the fixed, stratified slice
they are scored on; the same training steps with or without them; their home in the run store (an old
database gains their tables), a Continue appending to them and a stopped epoch's dropped; the Train page
drawing them while a run trains.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from apptest_helpers import figures, no_exceptions, open_page, texts
from streamlit import dataframe_util
from synthetic import band_set

from ann import live_points as live
from ann.config import NetworkConfig, TrainConfig
from ann.data.named import Dataset, load_named
from ann.data.split import Split
from ann.network import Network
from ann.service.records import RunStatus, new_workspace_key
from ann.service.store import RunStore
from ann.service.worker import train_run
from ann.train import as_inputs, train
from ui import charts, workspace

POINT_KEYS = {"epoch", "samples", "train_loss", "train_accuracy", "slice_accuracy"}


def collect(network, images, labels, config, test_images=None, test_labels=None, **kwargs):
    """Train; return the epochs' metrics and the points with the slice's outputs as they came."""
    points = []
    history = list(train(network, images, labels, config, test_images, test_labels,
                         points=lambda point, outputs: points.append((point, outputs.copy())), **kwargs))
    return history, points


# --------------------------------------------------------------------------- the training loop


def test_the_seed_s_short_run_records_fifty_points_an_epoch_in_order(mnist):
    """One epoch of the seed's network on 10,000 real records: 50 points (the Train page draws them all),
    each with the four values, in order, the last at the epoch's end; the running values are those of the
    samples since the point before, so together they make the epoch's own."""
    network = Network(NetworkConfig(), seed=80)
    (epoch,), points = collect(network, mnist.train.images, mnist.train.labels, TrainConfig(limit=10_000, epochs=1),
                               mnist.test.images, mnist.test.labels)
    assert len(points) == live.POINTS_PER_EPOCH >= 25
    assert all(set(point) == POINT_KEYS for point, _ in points)
    samples = [point["samples"] for point, _ in points]
    assert samples == sorted(set(samples)) and samples[-1] == epoch["samples_seen"] == 30_000
    assert all(point["epoch"] == 1 for point, _ in points)
    assert all(0.0 <= point[key] <= 1.0 for point, _ in points for key in ("train_accuracy", "slice_accuracy"))
    # each point's running values cover the samples since the previous one: weighted, they are the epoch's
    counts = np.diff([0] + samples)
    accuracy = sum(point["train_accuracy"] * n for (point, _), n in zip(points, counts)) / samples[-1]
    loss = sum(point["train_loss"] * n for (point, _), n in zip(points, counts)) / samples[-1]
    assert accuracy == pytest.approx(epoch["train_accuracy"], abs=1e-12)
    assert loss == pytest.approx(epoch["train_loss"], rel=1e-9)
    # it learns within the epoch, from the first point on (measured: 75% after 576 samples, 96% at the end)
    slice_accuracy = [point["slice_accuracy"] for point, _ in points]
    assert slice_accuracy[0] <= 0.8 and np.mean(slice_accuracy[-5:]) >= 0.9
    size = live.slice_size(30_000 / 50, 10, 10_000)
    assert size == 40 and all(outputs.shape == (size, 10) for _, outputs in points)


@pytest.mark.parametrize("config", [
    TrainConfig(limit=1500, epochs=2),  # the seed's: per sample, rotated copies, train_sequence's blocks
    TrainConfig(limit=1500, epochs=1, rotate=0.0, schedule="cosine"),  # per sample, one step at a time
    TrainConfig(limit=1500, epochs=2, rotate=0.0, batch_size=32, momentum=0.9, shuffle=True),
    TrainConfig(limit=1500, epochs=1, batch_size=16, augment="random", shift=2, elastic_alpha=20.0, shuffle=True),
], ids=["seed", "cosine", "batches", "random"])
def test_points_leave_the_training_steps_unchanged(config):
    """The loop pauses for a point only between two of its steps: the weights are the same bits."""
    images, labels = band_set(1500, 1)
    test_images, test_labels = band_set(300, 2)
    plain = Network(NetworkConfig(hidden_nodes=(30,)), seed=3)
    watched = Network(NetworkConfig(hidden_nodes=(30,)), seed=3)
    without = list(train(plain, images, labels, config, test_images, test_labels))
    with_points, points = collect(watched, images, labels, config, test_images, test_labels)
    assert all(np.array_equal(a, b) for a, b in zip(plain.weights, watched.weights))
    assert [e["test_accuracy"] for e in without] == [e["test_accuracy"] for e in with_points]
    assert len(points) >= 15 * config.epochs and points[-1][0]["samples"] == with_points[-1]["samples_seen"]


def test_each_point_scores_the_fixed_slice_with_the_network_as_it_is_then():
    """What the loop hands over is the network's output on the slice's images at that moment."""
    images, labels = band_set(2000, 1)
    test_images, test_labels = band_set(400, 2)
    network = Network(NetworkConfig(hidden_nodes=(20,)), seed=1)
    config = TrainConfig(epochs=1, rotate=0.0, batch_size=20)
    size = live.slice_size(2000 / 50, 10, 400)
    chosen = live.slice_indices(test_labels, 10, size)
    checked = []

    def record(point, outputs):
        expected = network.query(as_inputs(test_images[chosen], network.dtype))
        assert np.allclose(outputs, expected, atol=1e-5)
        assert point["slice_accuracy"] == pytest.approx(np.mean(np.argmax(expected, 1) == test_labels[chosen]))
        checked.append(point["samples"])

    list(train(network, images, labels, config, test_images, test_labels, points=record))
    assert len(checked) == 50


def test_without_a_test_set_points_have_no_slice_accuracy():
    images, labels = band_set(600, 1)
    _, points = collect(Network(NetworkConfig(hidden_nodes=(10,)), seed=1), images, labels,
                        TrainConfig(epochs=1, rotate=0.0, batch_size=4))
    assert points and all(p["slice_accuracy"] is None and outputs.shape[0] == 0 for p, outputs in points)


# --------------------------------------------------------------------------- the slice and where points fall


def test_the_slice_is_stratified_fixed_and_starts_with_one_image_of_each_class(mnist):
    labels = mnist.test.labels
    first = live.slice_indices(labels, 10, 1000)
    assert np.array_equal(first, live.slice_indices(np.array(labels), 10, 1000))  # the same for every run
    assert np.bincount(labels[first], minlength=10).tolist() == [100] * 10
    # any run's slice is the start of the same order: a smaller one is a prefix of a larger one
    assert np.array_equal(live.slice_indices(labels, 10, 40), first[:40])
    assert np.bincount(labels[first[:40]], minlength=10).tolist() == [4] * 10
    # the first ten: the first test image of each class, in class order (the Train page's fixed digits)
    assert first[:10].tolist() == [int(np.flatnonzero(labels == c)[0]) for c in range(10)]
    digits = live.FixedDigits(mnist.test.images, labels, 10)
    assert digits.labels.tolist() == list(range(10)) and np.array_equal(digits.pixels, mnist.test.images[first[:10]])


def test_a_class_that_runs_out_is_skipped():
    labels = np.array([0] * 2 + [1] * 10 + [2] * 1)
    chosen = live.slice_indices(labels, 3, 8)
    assert labels[chosen].tolist() == [0, 1, 2, 0, 1, 1, 1, 1]


def test_the_slice_grows_with_the_training_between_two_points_within_bounds():
    assert live.slice_size(600, 10, 10_000) == 40  # the seed's network on 10,000 records
    assert live.slice_size(3600, 10, 10_000) == 270  # ... on all 60,000
    assert live.slice_size(10, 10, 10_000) == 10 * live.MIN_PER_CLASS
    assert live.slice_size(1e9, 10, 10_000) == 10 * live.MAX_PER_CLASS
    assert live.slice_size(1e9, 10, 300) == 300


@pytest.mark.parametrize("n, unit, count", [(10_000, 64, 50), (10_000, 1, 50), (60_000, 256, 50), (1000, 64, 16),
                                            (100, 32, 4), (30, 64, 1)])
def test_points_fall_between_steps_every_two_percent_or_as_near_as_steps_allow(n, unit, count):
    ends = live.point_ends(n, unit)
    assert len(ends) == count and ends == sorted(set(ends)) and ends[-1] == n
    assert all(end % unit == 0 for end in ends[:-1])


def test_answer_shares_are_the_answer_s_part_of_the_outputs():
    answers, shares = live.answer_shares(np.array([[0.1, 0.3, 0.1], [0.0, 0.0, 0.0]]))
    assert answers.tolist() == [1, 0] and shares == pytest.approx([0.6, 0.0])


# --------------------------------------------------------------------------- in the run store


@pytest.fixture
def tiny_dataset():
    train_images, train_labels = band_set(1500, 1)
    test_images, test_labels = band_set(300, 2)
    return Dataset("mnist", "bands", tuple(str(c) for c in range(10)), Split(train_images, train_labels),
                   Split(test_images, test_labels))


def test_a_run_s_points_are_kept_a_continue_appends_and_a_stopped_epoch_s_are_dropped(tmp_path, tiny_dataset):
    store = RunStore(tmp_path / "runs")
    key = new_workspace_key()
    config = TrainConfig(epochs=2, rotate=0.0, batch_size=10)
    run = store.submit(key, NetworkConfig(hidden_nodes=(12,)), config, records=1500, status=RunStatus.RUNNING,
                       worker="t:1")
    assert train_run(store, run, tiny_dataset) == RunStatus.FINISHED
    run = store.get_run(key, run.id)
    points = store.points(run)
    per_epoch = len(live.point_ends(1500, 10))
    assert len(points) == 2 * per_epoch and all(set(p) == POINT_KEYS for p in points)
    assert [p["samples"] for p in points] == sorted({p["samples"] for p in points})
    assert points[-1]["samples"] == 3000 and [p["epoch"] for p in points][per_epoch - 1:per_epoch + 1] == [1, 2]
    view = store.live_view(run)
    assert view.samples == 3000 and view.labels == tuple(range(10)) and view.digits.shape == (10, 784)
    assert view.weights.shape == (live.LIVE_NODES, 784) and len(view.answers) == len(view.shares) == 10

    store.continue_run(key, run.id, 1)  # one more epoch: its points follow the first two epochs'
    assert train_run(store, store.claim("t:2"), tiny_dataset) == RunStatus.FINISHED
    more = store.points(store.get_run(key, run.id))
    assert more[:len(points)] == points and len(more) == 3 * per_epoch
    assert more[-1]["samples"] == 4500 and {p["epoch"] for p in more[len(points):]} == {3}

    store.continue_run(key, run.id, 1)
    claimed = store.claim("t:3")
    store.stop(key, run.id)  # honoured at the first chunk: the epoch in progress is not kept, nor its points
    assert train_run(store, claimed, tiny_dataset) == RunStatus.STOPPED
    assert store.points(store.get_run(key, run.id)) == more


def test_a_damaged_database_is_rebuilt_with_the_points_of_the_kept_epochs(tmp_path, tiny_dataset):
    store = RunStore(tmp_path / "runs")
    key = new_workspace_key()
    run = store.submit(key, NetworkConfig(hidden_nodes=(12,)), TrainConfig(epochs=2, rotate=0.0, batch_size=10),
                       records=1500, status=RunStatus.RUNNING, worker="t:1")
    assert train_run(store, run, tiny_dataset) == RunStatus.FINISHED
    kept = store.points(store.get_run(key, run.id))
    for path in (tmp_path / "runs").glob("runs.db*"):
        path.unlink()
    (tmp_path / "runs" / "runs.db").write_bytes(b"this is not a database" * 100)
    rebuilt = RunStore(tmp_path / "runs")
    assert rebuilt.notices and rebuilt.points(rebuilt.get_run(key, run.id)) == kept


def test_points_of_an_epoch_in_progress_show_while_it_trains_and_go_when_it_is_trained_again(tmp_path):
    store = RunStore(tmp_path / "runs")
    key = new_workspace_key()
    run = store.submit(key, NetworkConfig(hidden_nodes=(12,)), TrainConfig(epochs=1), records=100,
                       status=RunStatus.RUNNING, worker="t:1")
    point = {"epoch": 1, "samples": 30, "train_loss": 0.5, "train_accuracy": 0.25, "slice_accuracy": None}
    store.record_points(run.id, [point])
    assert store.points(store.get_run(key, run.id)) == [point]  # training: the epoch in progress shows
    store.end(run.id, RunStatus.INTERRUPTED)
    assert store.points(store.get_run(key, run.id)) == []  # ended before the epoch did: not kept
    store.drop_points_after(run.id, 0)  # what a worker does before it trains the epoch again
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 0


def test_a_database_made_before_points_gains_their_tables(tmp_path):
    """A run store of an older version opens: its runs are kept and the new tables are made."""
    root = tmp_path / "runs"
    store = RunStore(root)
    key = new_workspace_key()
    run = store.submit(key, NetworkConfig(hidden_nodes=(12,)), TrainConfig(epochs=1), records=100)
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("DROP TABLE points")
        conn.execute("DROP TABLE live")
    reopened = RunStore(root)
    assert reopened.list_runs(key)[0].id == run.id and reopened.points(run) == []
    reopened.record_points(run.id, [{"epoch": 1, "samples": 10, "train_loss": 0.1, "train_accuracy": 0.5,
                                     "slice_accuracy": 0.75}])
    assert reopened.live_view(run) is None and len(reopened.points(replace(run, status=RunStatus.RUNNING))) == 1


# --------------------------------------------------------------------------- on the pages


def chart_rows(chart) -> pd.DataFrame:
    """The rows an altair chart drew (Streamlit sends its data apart from the spec, as Arrow)."""
    return pd.concat([dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets])


def running_run_with_points(store, key: str, points: int):
    """A run in its first epoch (10,000 records of the seed's network), with ``points`` live points and the
    network's view recorded as its worker records them."""
    run = store.submit(key, NetworkConfig(), TrainConfig(epochs=1), records=10_000, status=RunStatus.RUNNING,
                       worker="apptest:0")
    mnist = load_named("mnist", None, mapped=True)
    digits = live.FixedDigits(mnist.test.images, mnist.test.labels, 10)
    network = Network(NetworkConfig(), seed=80)
    outputs = network.query(as_inputs(mnist.test.images[live.slice_indices(mnist.test.labels, 10, 40)], np.float32))
    store.record_points(run.id, [{"epoch": 1, "samples": 600 * (i + 1), "train_loss": 0.2 - 0.001 * i,
                                  "train_accuracy": 0.5 + 0.01 * i, "slice_accuracy": 0.4 + 0.01 * i}
                                 for i in range(points)],
                        digits.view(600 * points, outputs, network.weights[0]))
    return store.get_run(key, run.id)


def test_the_train_page_draws_a_training_run_s_points_and_its_answers(monkeypatch, mnist_dir):
    """While a run trains its first epoch, the curves have its points (the training values and the test
    slice's, none of the whole test set yet), and its answers to the ten digits and a few nodes' weights
    are shown; a first look at the page, with no run, draws neither."""
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))
    at = open_page("train")
    no_exceptions(at)
    assert not at.get("vega_lite_chart") and "answers now" not in texts(at.markdown)
    key = at.session_state["workspace_key"]
    run = running_run_with_points(workspace.store(), key, 30)
    at.session_state["tr_view"] = run.id
    at.run()
    no_exceptions(at)
    accuracy, loss = at.get("vega_lite_chart")
    rows = chart_rows(accuracy)
    assert sorted(set(rows["set"])) == ["test slice", "train"]
    for split in ("train", "test slice"):
        drawn = rows[rows["set"] == split].sort_values("x")
        assert len(drawn) == 30 and drawn["x"].tolist() == pytest.approx([0.02 * (i + 1) for i in range(30)])
    assert len(chart_rows(loss)) == 30
    assert "Accuracy on the test slice now: **69.00%**" in texts(at.markdown)
    bodies = [html.proto.body for html in at.get("html")]
    answers = figures(next(body for body in bodies if "answered" in body))
    view = workspace.store().live_view(run)
    assert [caption for caption, _ in answers] == [f"{'✓' if a == t else '✗'} {a}" for a, t in zip(view.answers,
                                                                                                   view.labels)]
    assert all(np.array_equal(picture, 255 - pixels.reshape(28, 28))  # dark ink on white paper
               for (_, picture), pixels in zip(answers, view.digits))
    weights = figures(next(body for body in bodies if 'alt="node 1"' in body))
    assert len(weights) == live.LIVE_NODES


def test_a_long_run_s_points_are_thinned_for_the_chart():
    points = [{"epoch": i // 50 + 1, "samples": 100 * (i + 1), "train_loss": 0.1, "train_accuracy": 0.9,
               "slice_accuracy": 0.8} for i in range(3000)]
    history = [{"epoch": e, "train_loss": 0.1, "train_accuracy": 0.9, "test_accuracy": 0.85, "test_loss": 0.2}
               for e in range(1, 61)]
    frame = charts.history_frame({"Run 1": history}, {"Run 1": points}, {"Run 1": 5000})
    train_rows = frame[(frame["set"] == "train") & (frame["metric"] == "accuracy")]
    assert len(train_rows) == charts.MAX_SHOWN_POINTS and train_rows["x"].max() == 60.0
    assert len(frame[frame["set"] == "test"]) == 2 * 60  # accuracy and loss after every epoch, all kept


def test_the_curves_write_their_text_sizes_none_under_the_phone_s_smallest():
    """Vega-Lite draws text at fixed CSS px whatever the chart's width: the sizes written into the live curves
    (not left to a theme) are what a phone shows; tests/test_e2e_phone.py measures them in a browser."""
    from ui.phone import SMALLEST_FONT

    points = [{"epoch": 1, "samples": 100 * (i + 1), "train_loss": 0.1, "train_accuracy": 0.9,
               "slice_accuracy": 0.8} for i in range(50)]
    history = [{"epoch": 1, "train_loss": 0.1, "train_accuracy": 0.9, "test_accuracy": 0.85, "test_loss": 0.2}]
    events = [{"kind": "learning_rate", "at": 0.5, "value": 0.05}]

    def marks(spec: dict) -> list[dict]:
        found = [spec["mark"]] if isinstance(spec.get("mark"), dict) else []
        return found + [mark for layer in spec.get("layer", []) for mark in marks(layer)]

    for chart in charts.history_charts({"Run 1": history}, epochs=2, events={"Run 1": events},
                                       points={"Run 1": points}, per_epoch={"Run 1": 5000}):
        spec = chart.to_dict()
        config = spec["config"]
        sizes = [config["axis"]["labelFontSize"], config["axis"]["titleFontSize"], config["legend"]["labelFontSize"],
                 config["legend"]["titleFontSize"], config["title"]["fontSize"]]
        text_marks = [mark for mark in marks(spec) if mark.get("type") == "text"]
        assert text_marks  # the learning rate's label beside its rule
        sizes += [mark["fontSize"] for mark in text_marks]
        assert min(sizes) >= SMALLEST_FONT, sizes
