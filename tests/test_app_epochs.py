"""AppTest of a run's epochs on the Inside page (the epoch scrubber) and the Hidden-layer map (the epoch slider).

Runs are written straight into the server's run store with real networks' checkpoints (as a worker leaves
them: tests/test_app_runs.py's ``finished_run``); every figure the pages show is checked against the
networks read back from the store and scored here. tests/test_e2e_epochs.py trains a run for real in a
browser and goes through its epochs.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from apptest_helpers import no_exceptions, open_page, texts
from test_app_runs import finished_run

from ann.config import NetworkConfig, TrainConfig
from ann.formats import format_accuracy

SCRUBBER = "One of your runs, epoch by epoch"


@pytest.fixture(autouse=True)
def mnist_folder(monkeypatch, mnist_dir):
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))


def claimed_run(key: str, network_config: NetworkConfig, epochs: int):
    """A run of ``key``'s workspace claimed as a worker would, with ``epochs`` recorded epochs, still running."""
    from ann.network import Network
    from ui import workspace

    store = workspace.store()
    # submitted as already training (by "this test"), so the server's own workers never take it
    claimed = store.submit(key, network_config, TrainConfig(epochs=5, rotate=0.0), records=500, status="running",
                           worker="apptest:0")
    history = []
    for epoch in range(1, epochs + 1):
        record_epoch(claimed, history, Network(network_config, seed=epoch))
    return store.get_run(key, claimed.id), claimed, history


def record_epoch(claimed, history: list, network) -> None:
    from ui import workspace

    epoch = len(history) + 1
    history.append({"epoch": epoch, "train_loss": 0.5, "train_accuracy": 0.5, "test_accuracy": 0.5,
                     "test_loss": 0.3, "seconds": 1.0, "samples_seen": 500 * epoch, "learning_rate": 0.1,
                     "stopped": False})
    workspace.store().record_epoch(claimed, history[-1], network, np.random.default_rng(epoch), history, 0.1)


def network_at(run, epoch: int):
    """The run's network after ``epoch`` read straight from its snapshot file, as a worker wrote it (float16
    weights), or 0: rebuilt from the run's seed."""
    from ann.model_io import load_model
    from ann.network import Network
    from ui import workspace

    if epoch == 0:
        return Network(run.network_config, seed=run.train_config.seed)
    return load_model(workspace.store().folder(run.id) / f"epoch_{epoch:04d}.npz").network


def scores(network, mnist):
    from ann.metrics import evaluate

    return evaluate(network, mnist.test.images, mnist.test.labels)


def metrics(at) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


# --------------------------------------------------------------------------- Inside: the epoch scrubber


def test_inside_scrubber_opens_from_a_link_computes_on_the_button_and_shows_each_epoch(mnist):
    at = open_page("inside")
    key = at.session_state["workspace_key"]
    run = finished_run(key, epochs=3)
    at.query_params["run"] = run.id  # the Runs page's link
    at.run()
    no_exceptions(at)
    assert at.session_state["in_view"] == SCRUBBER and at.selectbox(key="in_run").value == run.id
    assert "run" not in at.query_params
    assert not at.metric and not at.get("vega_lite_chart")  # nothing computed before the button
    assert "3 finished epochs with a checkpoint" in texts(at.caption)

    at.button(key="in_epochs_go").click().run()
    no_exceptions(at)
    slider = at.select_slider(key=f"in_epoch_{run.id}_4")
    assert slider.value == 3 and slider.options == ["start", "1", "2", "3"]
    last, before = scores(network_at(run, 3), mnist), scores(network_at(run, 2), mnist)
    shown = metrics(at)
    # the accuracy each epoch had as it trained, as Runs shows it (finished_run records 78%, 79%, 80%), not that
    # of its float16 snapshot; the snapshot's figure is said beside it when the two differ
    assert shown["Test accuracy"] == ("80.00%", "+1.00 points") == (format_accuracy(0.8), "+1.00 points")
    assert shown["Test images read wrong"] == ("2,000", "-100")
    differing = abs(round(last.accuracy * 10_000) - 8_000)
    assert (f"saved snapshot, its weights stored in float16, which reads {format_accuracy(last.accuracy)} of the "
            f"test images right: {differing:,} images differently") in texts(at.caption)
    gained = int(np.trace(last.confusion)) - int(np.trace(before.confusion))
    said = f"**Epoch 3** read {abs(gained):,} {'more' if gained >= 0 else 'fewer'} test images right"
    assert said in texts(at.markdown)

    slider.set_value(0).run()  # before training: the network the run's seed builds
    no_exceptions(at)
    start = scores(network_at(run, 0), mnist)
    assert metrics(at)["Test accuracy"][0] == format_accuracy(start.accuracy)  # no record: rebuilt exactly
    assert "Nothing yet: these are the weights the run started from" in texts(at.caption)

    at.select_slider(key=f"in_epoch_{run.id}_4").set_value(2).run()
    no_exceptions(at)
    moved = network_at(run, 2).weights[0].astype(np.float64) - network_at(run, 1).weights[0]
    pictures = at.get("image")
    weights, changes = pictures[0], pictures[1]
    assert len(weights.value) == len(changes.value) == 20  # the 20 hidden nodes, all of them
    assert changes.captions == [f"node {j}: {np.linalg.norm(moved[j]):.2f}" for j in range(20)]
    rms = np.sqrt(np.mean(moved ** 2))
    assert metrics(at)["First layer's weights moved"][0] == f"{rms:.4f}"
    assert len(at.get("vega_lite_chart")) == 5  # accuracy per epoch, two matrices, two histograms

    at.segmented_control(key="in_scrub_nodes_by").set_value("changed").run()
    no_exceptions(at)
    most = np.argsort(-np.linalg.norm(moved, axis=1))[:3]
    assert at.get("image")[0].captions[:3] == [f"node {j}" for j in most]


def test_inside_scrubber_of_a_run_in_training_takes_in_new_epochs(mnist):
    from ann.network import Network
    from ui import workspace

    at = open_page("inside")
    key = at.session_state["workspace_key"]
    run, claimed, history = claimed_run(key, NetworkConfig(hidden_nodes=(12,)), epochs=2)
    try:
        at.session_state["in_view"] = SCRUBBER  # a click on the tab
        at.run()
        at.button(key="in_epochs_go").click().run()
        no_exceptions(at)
        assert at.select_slider(key=f"in_epoch_{run.id}_3").value == 2
        record_epoch(claimed, history, Network(run.network_config, seed=3))  # the worker finishes epoch 3
        at.run()
        assert "has finished 1 more epoch since you opened it" in texts(at.caption)
        assert "no checkpoint on disk" not in texts(at.caption)  # a newer epoch is not a missing one
        assert at.select_slider(key=f"in_epoch_{run.id}_3").value == 2  # nothing moves by itself
        at.button(key="in_epochs_newer").click().run()
        no_exceptions(at)
        assert at.select_slider(key=f"in_epoch_{run.id}_4").value == 3
        third = scores(network_at(workspace.store().get_run(key, run.id), 3), mnist)
        assert metrics(at)["Test accuracy"][0] == format_accuracy(history[2]["test_accuracy"])  # as recorded
        assert f"which reads {format_accuracy(third.accuracy)} of the test images right" in texts(at.caption)
    finally:
        workspace.store().end(run.id, "stopped")


def test_a_damaged_checkpoint_is_named_not_a_traceback_and_the_resume_file_is_left_alone():
    from ui import workspace

    at = open_page("inside")
    key = at.session_state["workspace_key"]
    store = workspace.store()
    damaged = finished_run(key, epochs=3)
    (store.folder(damaged.id) / "epoch_0002.npz").write_bytes(b"not a checkpoint")
    intact = finished_run(key, epochs=2)
    resume = store.folder(intact.id) / "resume.npz"
    resume.write_bytes(b"damaged too, but only Continue needs it")
    at.session_state["in_view"] = SCRUBBER
    at.run()
    assert at.selectbox(key="in_run").value == intact.id  # the newest first
    at.button(key="in_epochs_go").click().run()
    no_exceptions(at)
    assert metrics(at)["Test accuracy"][0].endswith("%")  # every epoch's own snapshot is read, not resume.npz
    assert resume.read_bytes() == b"damaged too, but only Continue needs it"  # nor moved aside from here

    at.selectbox(key="in_run").set_value(damaged.id).run()
    at.button(key="in_epochs_go").click().run()
    no_exceptions(at)
    assert "Run 1's checkpoint of epoch 2 is damaged" in texts(at.error)


def test_an_epoch_without_its_checkpoint_is_skipped_and_said_so():
    from ui import workspace

    at = open_page("inside")
    run = finished_run(at.session_state["workspace_key"], epochs=3)
    (workspace.store().folder(run.id) / "epoch_0002.npz").unlink()
    at.session_state["in_view"] = SCRUBBER
    at.run()
    at.button(key="in_epochs_go").click().run()
    no_exceptions(at)
    assert at.select_slider(key=f"in_epoch_{run.id}_3").options == ["start", "1", "3"]
    captions = texts(at.caption)
    assert "Epoch 2 of Run 1 has no checkpoint on disk" in captions and "The change since epoch 1" in captions


@pytest.mark.parametrize("hidden,activation", [((30, 20), "tanh"), ((), "sigmoid")], ids=["deep", "no-hidden"])
def test_inside_scrubber_of_other_network_shapes(hidden, activation):
    from ui import workspace

    at = open_page("inside")
    key = at.session_state["workspace_key"]
    run, _, _ = claimed_run(key, NetworkConfig(hidden_nodes=hidden, activation=activation, bias=True), epochs=2)
    workspace.store().end(run.id, "stopped")
    at.session_state["in_view"] = SCRUBBER
    at.run()
    at.button(key="in_epochs_go").click().run()
    no_exceptions(at)
    weights = at.get("image")[0]
    assert len(weights.value) == (30 if hidden else 10)  # the first layer's nodes (the outputs without hidden)
    assert weights.captions[3] == ("node 3" if hidden else "digit 3")
    assert len(at.get("vega_lite_chart")) == 3 + len(hidden) + 1  # one histogram per weight layer


def test_inside_without_runs_and_with_a_link_to_anothers_run():
    at = open_page("inside")
    other = open_page("inside")
    theirs = finished_run(other.session_state["workspace_key"], epochs=1)
    at.query_params["run"] = theirs.id
    at.run()
    no_exceptions(at)
    assert "That run was not found in your workspace." in texts(at.warning)
    assert at.session_state["in_view"] == "The active model"  # the link opened nothing
    at.session_state["in_view"] = SCRUBBER
    at.run()
    assert "You have no runs yet" in texts(at.info)  # the other visitor's run is not listed
    assert not at.main.selectbox  # no run picker (the sidebar has the dataset picker)


# --------------------------------------------------------------------------- Hidden-layer map, epoch by epoch


def chart_spec(at) -> dict:
    return json.loads(at.get("vega_lite_chart")[0].proto.spec)


def test_map_epochs_on_the_button_with_fixed_axes_a_slider_and_play(mnist):
    from ann.train import as_inputs
    from ui import map_view

    at = open_page("map")
    key = at.session_state["workspace_key"]
    run = finished_run(key, epochs=2)
    at.session_state["map_view"] = SCRUBBER
    at.run()
    no_exceptions(at)
    assert "Map its epochs" in texts(at.info) and not at.get("vega_lite_chart")
    at.select_slider(key="map_run_images").set_value(500).run()
    at.button(key="map_run_draw").click().run()
    no_exceptions(at)

    slider_key = f"map_epoch_{run.id}_3"
    assert at.select_slider(key=slider_key).value == 2
    order = map_view.sample_indices(500, 10_000)
    net = network_at(run, 2)
    read = np.argmax(net.query(as_inputs(mnist.test.images[order], net.dtype)), axis=1)
    right = float(np.mean(read == mnist.test.labels[order]))
    expected = f"After epoch 2 (2 of Run 1's epochs on the slider): {format_accuracy(right)} of these 500 test images"
    assert expected in texts(at.caption)
    domain = chart_spec(at)["layer"][0]["encoding"]["x"]["scale"]["domain"]

    at.button(key="map_play").click().run()  # at the last epoch, Play starts again from the start
    no_exceptions(at)
    assert at.select_slider(key=slider_key).value == 0 and at.session_state["map_playing"] == slider_key
    assert "Before training" in texts(at.caption)
    assert chart_spec(at)["layer"][0]["encoding"]["x"]["scale"]["domain"] == domain  # the axes stay put
    at.run()  # each redraw of the playing frame (the browser's timer) is one epoch further
    assert at.select_slider(key=slider_key).value == 1 and at.session_state["map_playing"] == slider_key
    at.run()
    no_exceptions(at)
    assert at.select_slider(key=slider_key).value == 2 and at.session_state["map_playing"] is None  # it stops
    assert at.button(key="map_play")

    at.segmented_control(key="map_run_align").set_value("procrustes").run()
    no_exceptions(at)
    assert "own PCA 1, aligned" in json.dumps(chart_spec(at))


def test_map_epochs_need_a_run_with_a_hidden_layer_and_a_finished_epoch():
    from ui import workspace

    at = open_page("map")
    key = at.session_state["workspace_key"]
    store = workspace.store()
    run, _, _ = claimed_run(key, NetworkConfig(hidden_nodes=()), epochs=1)  # no hidden layer to map
    store.end(run.id, "stopped")
    at.session_state["map_view"] = SCRUBBER
    at.run()
    no_exceptions(at)
    assert "None of your runs has a hidden layer and a finished epoch yet" in texts(at.info)
    at.query_params["run"] = "0123456789abcdef"  # a guessed id
    at.run()
    assert re.search(r"That run was not found in your workspace", texts(at.warning))
