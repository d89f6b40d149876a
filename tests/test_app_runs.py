"""AppTest for the Runs page and the workspace key: every run of this browser, and nothing of another's.

Runs are written straight into the server's run store (the same ``ann.service.store`` a worker writes through), so
these tests need no training; tests/test_e2e_runs.py trains for real in a browser.
"""

from __future__ import annotations

import numpy as np
import pytest
from apptest_helpers import no_exceptions, open_page, texts

from ann.config import NetworkConfig, TrainConfig


@pytest.fixture(autouse=True)
def mnist_folder(monkeypatch, mnist_dir):
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))


def finished_run(key: str, accuracy: float = 0.8, epochs: int = 2, hidden: int = 20, worker: str = "apptest:0"):
    """A run of ``key``'s workspace with ``epochs`` recorded epochs, as a worker leaves it."""
    from ann.network import Network
    from ui import workspace

    store = workspace.store()
    # submitted as already training (by "this test"), so the server's own workers never take it
    claimed = store.submit(key, NetworkConfig(hidden_nodes=(hidden,)), TrainConfig(epochs=epochs, rotate=0.0),
                           records=500, status="running", worker=worker)
    run = claimed
    history = []
    for epoch in range(1, epochs + 1):
        history.append({"epoch": epoch, "train_loss": 0.5 / epoch, "train_accuracy": accuracy, "test_accuracy":
                        accuracy - 0.01 * (epochs - epoch), "test_loss": 0.3, "seconds": 1.0,
                        "samples_seen": 500 * epoch, "learning_rate": 0.1, "stopped": False})
        store.record_epoch(claimed, history[-1], Network(claimed.network_config, seed=epoch),
                           np.random.default_rng(epoch), history, 0.1)
    store.end(run.id, "finished")
    return store.get_run(key, run.id)


def test_an_empty_workspace_says_how_to_start():
    at = open_page("runs")
    no_exceptions(at)
    assert "No runs yet" in texts(at.info)


def test_runs_are_listed_compared_made_active_shared_and_deleted():
    from ui import workspace

    at = open_page("runs")
    key = at.session_state["workspace_key"]
    first = finished_run(key, 0.81)
    second = finished_run(key, 0.86, hidden=40)
    at.run()
    no_exceptions(at)
    table = at.dataframe[0].value
    assert list(table["run"]) == ["Run 2", "Run 1"] and list(table["network"]) == ["784-40-10", "784-20-10"]
    assert at.multiselect(key="rn_compare").value == ["Run 1", "Run 2"]
    assert at.selectbox(key="rn_pick").value == second.id

    at.button(key=f"rn_use_{second.id}").click().run()
    no_exceptions(at)
    assert at.session_state["active_model"].name == "Run 2"
    assert "Run 2: 784-40-10" in texts(at.sidebar.caption)

    at.button(key=f"rn_share_{second.id}").click().run()
    token = workspace.store().get_run(key, second.id).share
    assert token and f"share={token}" in "\n".join(c.value for c in at.code)

    at.selectbox(key="rn_pick").set_value(first.id).run()
    at.button(key=f"rn_delete_{first.id}").click().run()
    no_exceptions(at)
    assert [r.name for r in workspace.store().list_runs(key)] == ["Run 2"]

    viewer = open_page("runs", query={"share": token})  # another browser with the link
    no_exceptions(viewer)
    assert viewer.session_state["workspace_key"] != key
    assert "A shared run" in texts(viewer.subheader)
    assert not [b for b in viewer.button if b.key and b.key.startswith(("rn_delete", "rn_share", "rn_continue"))]
    viewer.button(key="rn_use_shared").click().run()
    assert viewer.session_state["active_model"].source == "shared"
    assert workspace.store().list_runs(viewer.session_state["workspace_key"]) == []


def test_a_run_says_where_it_trained():
    at = open_page("runs")
    key = at.session_state["workspace_key"]
    on_cluster = finished_run(key, worker="tcp://10.0.0.5:40123 (dask)")
    finished_run(key, worker="lab-server:4242")
    at.run()
    no_exceptions(at)
    assert list(at.dataframe[0].value["trained on"]) == ["lab-server, process 4242", "Dask worker 10.0.0.5:40123"]
    assert "Trained on lab-server, process 4242." in texts(at.caption)
    at.selectbox(key="rn_pick").set_value(on_cluster.id).run()
    assert "Trained on Dask worker 10.0.0.5:40123." in texts(at.caption)


def test_guessed_ids_links_and_keys_are_not_found():
    at = open_page("runs", query={"run": "0123456789abcdef"})
    no_exceptions(at)
    assert "That run was not found" in texts(at.warning)
    bad_share = open_page("runs", query={"share": "y" * 24})
    assert "This share link was not found" in texts(bad_share.error)
    unknown = open_page(query={"workspace": "z" * 22})  # the link's page says so, whichever it is
    assert "was not found on this server" in texts(unknown.warning)
    assert unknown.session_state["workspace_key"] != "z" * 22


def test_a_private_workspace_link_moves_the_runs_to_another_browser():
    at = open_page("runs")
    key = at.session_state["workspace_key"]
    finished_run(key)
    elsewhere = open_page(query={"workspace": key})
    no_exceptions(elsewhere)
    assert elsewhere.session_state["workspace_key"] == key
    assert "now uses the workspace of the link" in texts(elsewhere.success)
    assert "workspace" not in elsewhere.query_params  # the key leaves the address bar at once
    elsewhere.switch_page("pages/runs.py").run()
    assert list(elsewhere.dataframe[0].value["run"]) == ["Run 1"]


def test_the_status_bar_costs_a_visitor_without_a_run_nothing(monkeypatch):
    """A first look reads the run store once (the frame's one query) and starts no live status; a run in
    training brings the status (a fragment on a timer) at the top of every page."""
    from ann.service.store import RunStore
    from ui import run_panels, workspace

    started, queries = [], []
    monkeypatch.setattr(run_panels, "_status_live", lambda hide: started.append(hide))
    original = RunStore.list_runs
    monkeypatch.setattr(RunStore, "list_runs", lambda self, key: queries.append(key) or original(self, key))
    at = open_page()
    queries.clear()
    at.switch_page("pages/dataset.py").run()
    no_exceptions(at)
    assert len(queries) == 1 and not started

    key = at.session_state["workspace_key"]
    run = workspace.store().submit(key, NetworkConfig(hidden_nodes=(20,)), TrainConfig(epochs=1, rotate=0.0),
                                   records=500, status="running", worker="apptest:0")
    try:
        at.run()
        no_exceptions(at)
        assert started == [None]  # the live status, now that a run of this visitor trains
    finally:
        workspace.store().end(run.id, "stopped")


def test_the_model_picker_offers_the_visitor_s_ended_runs_not_another_s():
    """Draw's picker lists this workspace's runs that have ended with a model; picking one makes it active."""
    from ann.service.records import new_workspace_key

    at = open_page("draw")
    mine = finished_run(at.session_state["workspace_key"], 0.83, hidden=30)
    finished_run(new_workspace_key(), 0.5, hidden=25)  # another browser's run
    at.run()
    labels = at.radio(key="model_picker").options
    assert sum("784-30-10" in label for label in labels) == 1 and not any("784-25-10" in label for label in labels)
    at.radio(key="model_picker").set_value(f"run:{mine.id}").run()
    no_exceptions(at)
    active = at.session_state["active_model"]
    assert active.run_id == mine.id and active.source == "run"
    assert "784-30-10" in texts(at.caption)


def test_a_run_made_active_is_read_from_its_checkpoint_and_its_deletion_brings_back_the_default():
    """A session keeps a run's id, not its network (a classroom's finished Best runs held 10 MB each); the
    network read back equals the checkpoint's; teaching takes the session's own copy; a deleted run's model
    gives way to the default model with a message, on this page and in another tab of the same browser."""
    from ui import workspace

    at = open_page("runs")
    key = at.session_state["workspace_key"]
    run = finished_run(key, 0.84, hidden=30)
    at.run()
    at.button(key=f"rn_use_{run.id}").click().run()
    no_exceptions(at)
    model = at.session_state["active_model"]
    assert model.name == "Run 1" and model._network is None  # nothing held by the session
    expected = workspace.store().load_network(run)
    for got, want in zip(model.network.weights, expected.weights):
        np.testing.assert_array_equal(got, want)

    workspace.store().delete(key, run.id)  # as from another tab, or housekeeping
    at.switch_page("pages/draw.py").run()
    no_exceptions(at)
    assert at.session_state["active_model"].source == "pretrained"
    assert "Run 1 can no longer be read (Run 1 was deleted)" in texts(at.warning)


def test_teaching_a_run_s_model_takes_the_session_s_own_copy():
    from ui import state

    at = open_page("runs")
    key = at.session_state["workspace_key"]
    run = finished_run(key, 0.84, hidden=30)
    at.run()
    at.button(key=f"rn_use_{run.id}").click().run()
    model = at.session_state["active_model"]
    shared = model.network
    own = state.own_network(model)
    assert own is not shared and model._network is own and model._loader is None
    own.weights[0][0, 0] += 1.0
    assert shared.weights[0][0, 0] != own.weights[0][0, 0]  # the cached network is untouched


def test_a_page_that_does_not_use_the_run_s_network_does_not_read_its_checkpoint(monkeypatch):
    """Every script run checks that the active run's model is still there; the check looks for its
    checkpoint, it does not read it (thirty sessions on runs of their own, a cache of four: a 10 MB read on
    every script run of every session). Draw, which predicts, reads it."""
    from ann.service.store import RunStore
    from ui import state

    at = open_page("runs")
    run = finished_run(at.session_state["workspace_key"], 0.84, hidden=30)
    at.run()
    at.button(key=f"rn_use_{run.id}").click().run()
    no_exceptions(at)
    reads = []
    original = RunStore.load_resume
    monkeypatch.setattr(RunStore, "load_resume", lambda self, r, **kw: reads.append(r.id) or original(self, r, **kw))
    state._run_network.clear()  # as when thirty other runs have gone through the cache since
    for page in ("pages/train.py", "pages/dataset.py", "pages/home.py"):
        at.switch_page(page).run()
        no_exceptions(at)
    assert reads == []
    at.switch_page("pages/draw.py").run()
    no_exceptions(at)
    assert reads == [run.id]
