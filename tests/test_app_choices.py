"""AppTest for what a learner chose: the active model and dataset belong to the workspace, and a run that ends
takes the active model's place only if it reads better on the same test set (otherwise it is offered).

Runs are written straight into the server's run store, as a worker writes them (``finished_run``'s way), and
ended while the page watches them, so the rule is tested through the same path a real run's end takes, without
training. Another session of the same workspace (a reload, a second tab) is opened with the workspace's private
link, as AppTest has no cookies; tests/test_e2e_choices.py reloads a real browser.
"""

from __future__ import annotations

import numpy as np
import pytest
from apptest_helpers import no_exceptions, open_page, texts

from ann.config import NetworkConfig, TrainConfig
from ann.models import default_name

DEFAULT_READS = "99.36%"  # the shipped default model's test accuracy (its file's info)


@pytest.fixture(autouse=True)
def mnist_folder(monkeypatch, mnist_dir):
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))


def training_run(key: str, hidden: int = 20):
    """A run of ``key``'s workspace that a worker (this test) is training."""
    from ui import workspace

    return workspace.store().submit(key, NetworkConfig(hidden_nodes=(hidden,)), TrainConfig(epochs=1, rotate=0.0),
                                    records=500, status="running", worker="apptest:0")


def end_run(run, accuracy: float) -> None:
    """Its one epoch, recorded as a worker records it, reading ``accuracy`` on the test set; then its end."""
    from ann.network import Network
    from ui import workspace

    store = workspace.store()
    history = [{"epoch": 1, "train_loss": 0.5, "train_accuracy": accuracy, "test_accuracy": accuracy,
                "test_loss": 0.3, "seconds": 1.0, "samples_seen": 500, "learning_rate": 0.1, "stopped": False}]
    store.record_epoch(run, history[0], Network(run.network_config, seed=1), np.random.default_rng(1), history, 0.1)
    store.end(run.id, "finished")


def watch_run_end(page: str, accuracy: float):
    """A page open while a run of its workspace trains (the status bar watches it), then the run's end."""
    at = open_page(page)
    run = training_run(at.session_state["workspace_key"])
    at.run()  # the status at the top now watches the run
    end_run(run, accuracy)
    at.run()  # as the status bar's timer would: it notices the end
    no_exceptions(at)
    return at, run


def test_a_run_that_reads_worse_is_offered_not_put_in_place_of_the_active_model():
    from ui import workspace

    at, run = watch_run_end("draw", 0.8)
    assert at.session_state["active_model"].shipped_name == default_name()  # still the 99.36% model
    offer = texts(at.markdown)
    assert f"Run 1 reads 80.00%; the active model reads {DEFAULT_READS}. Use Run 1?" in offer
    assert workspace.store().choice(at.session_state["workspace_key"]).model is None  # nothing changed there
    at.switch_page("pages/evaluate.py").run()  # the offer stays in the status banner on every page
    assert "Use Run 1?" in texts(at.markdown)
    at.button(key="sb_offer_use").click().run()
    no_exceptions(at)
    assert at.session_state["active_model"].run_id == run.id
    assert "Use Run 1?" not in texts(at.markdown)  # taken: the offer is gone
    assert workspace.store().choice(at.session_state["workspace_key"]).model.ident == run.id


def test_the_offer_is_there_after_a_reload_until_the_active_model_is_kept():
    at, _ = watch_run_end("home", 0.9)
    key = at.session_state["workspace_key"]
    again = open_page(query={"workspace": key})  # a reload (a new session of the workspace) offers it too
    assert "Use Run 1?" in texts(again.markdown)
    again.button(key="sb_offer_keep").click().run()
    no_exceptions(again)
    assert "Use Run 1?" not in texts(again.markdown)
    assert again.session_state["active_model"].shipped_name == default_name()
    again.switch_page("pages/draw.py").run()
    assert "Use Run 1?" not in texts(again.markdown)
    assert "Use Run 1?" not in texts(open_page("draw", query={"workspace": key}).markdown)  # declined for good


def test_a_run_that_reads_better_becomes_the_active_model_by_itself():
    at, run = watch_run_end("draw", 0.995)
    no_exceptions(at)
    assert at.session_state["active_model"].run_id == run.id
    assert "Use Run 1?" not in texts(at.markdown)
    # against the seed's network (96.76%), a run at 97% reads better as well
    at.radio(key="model_picker").set_value("shipped:seed").run()
    second = training_run(at.session_state["workspace_key"], hidden=30)
    at.run()
    end_run(second, 0.97)
    at.run()
    assert at.session_state["active_model"].run_id == second.id


def test_on_the_train_page_the_offer_is_in_the_run_s_view():
    at, run = watch_run_end("draw", 0.85)
    at.switch_page("pages/train.py").run()  # its first visit: the newest run is in view
    no_exceptions(at)
    assert "Run 1 finished: 85.00% on the test set." in texts(at.success)
    assert "Use Run 1?" in texts(at.markdown) and at.button(key="tr_offer_use")
    assert not [b for b in at.button if b.key == "sb_offer_use"]  # once: in the view, not in the banner too
    at.button(key="tr_offer_use").click().run()
    no_exceptions(at)
    assert at.session_state["active_model"].run_id == run.id
    assert "Run 1 is now the active model." in texts(at.success) and "Run 1: 784-20-10" in texts(at.sidebar.caption)


def test_another_session_of_the_workspace_opens_its_model_and_dataset():
    """A pick made on one page is there in a new session of the same workspace, on any page; a run chosen
    and deleted since gives way to the default model, named once."""
    from ui import workspace

    at, run = watch_run_end("draw", 0.8)
    key = at.session_state["workspace_key"]
    at.radio(key="model_picker").set_value(f"run:{run.id}").run()
    at.radio(key="dataset_picker_sidebar").set_value("fashion").run()
    no_exceptions(at)

    again = open_page("evaluate", query={"workspace": key})  # a reload: a new session of the same workspace
    no_exceptions(again)
    assert again.session_state["active_model"].run_id == run.id
    assert again.session_state["dataset_key"] == "fashion"
    assert "Run 1" in texts(again.sidebar.caption)

    training_run(key)  # the workspace keeps a run: its private link still finds it
    workspace.store().delete(key, run.id)
    later = open_page(query={"workspace": key})  # said on the first page the new session shows
    no_exceptions(later)
    assert later.session_state["active_model"].shipped_name == default_name()
    assert "Run 1, the model last chosen in this browser, is no longer on this server" in texts(later.warning)
    later.switch_page("pages/dataset.py").run()
    assert later.session_state["dataset_key"] == "fashion" and not texts(later.warning)
    assert workspace.store().choice(key).model is None  # said once: the store holds the default now


def test_an_uploaded_model_is_named_when_a_new_session_cannot_open_it():
    from ann.model_io import model_to_bytes
    from ann.network import Network

    at, run = watch_run_end("draw", 0.8)
    key = at.session_state["workspace_key"]
    at.radio(key="model_picker").set_value(f"run:{run.id}").run()
    at.switch_page("pages/train.py").run()
    at.session_state["tr_model_files"] = True
    at.run()
    upload = model_to_bytes(Network(NetworkConfig(hidden_nodes=(30,))), info={"test_accuracy": 0.1})
    at.file_uploader(key="tr_upload").set_value(("mine.npz", upload, "application/octet-stream")).run()
    assert at.session_state["active_model"].name == "Uploaded mine.npz"

    again = open_page(query={"workspace": key})
    no_exceptions(again)
    assert again.session_state["active_model"].run_id == run.id  # the last choice the server keeps
    assert ("Uploaded mine.npz was held only by the browser tab it was made in (uploaded and taught models are "
            "not kept on the server), so Run 1 is active") in texts(again.warning)


def test_a_script_run_notices_ended_runs_once(monkeypatch):
    """The frame reads the workspace's runs and notices those that ended; the status bar on the page is drawn
    from the same runs and does not notice them a second time (its own timer's reruns do)."""
    from ui import run_panels

    at = open_page("draw")
    training_run(at.session_state["workspace_key"])
    calls = []
    real = run_panels.notice_ended_runs

    def counted(runs):
        calls.append([run.id for run in runs])
        return real(runs)

    monkeypatch.setattr(run_panels, "notice_ended_runs", counted)
    at.run()  # the status bar at the top is drawn: a run is training
    no_exceptions(at)
    assert at.get("progress") and "Run 1" in at.get("progress")[0].proto.text
    assert len(calls) == 1
    at.switch_page("pages/evaluate.py").run()
    assert len(calls) == 2
