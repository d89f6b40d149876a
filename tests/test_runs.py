"""The run store (ann.service.store): a real SQLite database in a temporary folder, written by threads and processes.

What a visitor relies on: runs and their epochs survive anything short of deleting the folder (a corrupt
database is rebuilt from the run folders, a damaged checkpoint is named and moved aside); no workspace sees
another's runs; housekeeping removes the oldest ended runs first and says so beforehand.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from ann.config import NetworkConfig, TrainConfig
from ann.model_io import load_model
from ann.service.records import (
    ENDED_STATUSES,
    CheckpointError,
    Limits,
    RunLimitError,
    RunNotFound,
    RunStateError,
    RunStatus,
    new_workspace_key,
    owner_of,
)
from ann.service.store import RunStore

SMALL = NetworkConfig(hidden_nodes=(20,))
QUICK = TrainConfig(epochs=3, rotate=0.0, batch_size=16)


def _fake_epoch(store: RunStore, run, epoch: int, accuracy: float = 0.5) -> None:
    """Record one epoch the way a worker does: a real network's checkpoints, then the row."""
    from ann.network import Network

    network = Network(run.network_config, seed=epoch)
    history = store.history(run) + [{"epoch": epoch, "train_loss": 1.0 / epoch, "train_accuracy": accuracy,
                                     "test_accuracy": accuracy, "test_loss": 1.0, "seconds": 0.5,
                                     "samples_seen": 100 * epoch, "learning_rate": 0.1, "stopped": False}]
    store.record_epoch(run, history[-1], network, np.random.default_rng(epoch), history, 0.1)


def _ended_run(store: RunStore, workspace: str, epochs: int = 1, status: str = RunStatus.FINISHED, accuracy: float = 0.5):
    run = store.submit(workspace, SMALL, replace(QUICK, epochs=max(epochs, 1)), records=100)
    claimed = store.claim()
    assert claimed.id == run.id
    for epoch in range(1, epochs + 1):
        _fake_epoch(store, claimed, epoch, accuracy)
    store.end(run.id, status)
    return store.get_run(workspace, run.id)


def test_a_submitted_run_is_queued_numbered_and_listed_only_in_its_workspace(tmp_path):
    store = RunStore(tmp_path)
    alice, bob = new_workspace_key(), new_workspace_key()
    first = store.submit(alice, SMALL, QUICK, preset=None, records=500)
    second = store.submit(alice, SMALL, QUICK, records=500)
    bobs = store.submit(bob, SMALL, QUICK, records=500)
    assert (first.name, second.name, bobs.name) == ("Run 1", "Run 2", "Run 1")
    assert first.status == RunStatus.QUEUED and first.learning_rate == QUICK.learning_rate and first.target_epochs == 3
    assert [r.id for r in store.list_runs(alice)] == [first.id, second.id]
    assert [r.id for r in store.list_runs(bob)] == [bobs.id]
    assert (tmp_path / "runs.db").exists() and (tmp_path / first.id / "run.json").exists()
    # the key itself is never stored, only its hash
    assert alice.encode() not in (tmp_path / "runs.db").read_bytes()
    assert alice not in (tmp_path / first.id / "run.json").read_text()


def test_another_workspace_can_neither_see_nor_touch_a_run(tmp_path):
    """Every request for a run of another workspace, a guessed id or a malformed key is "not found"."""
    store = RunStore(tmp_path)
    owner, stranger = new_workspace_key(), new_workspace_key()
    run = store.submit(owner, SMALL, QUICK, records=100)
    assert store.list_runs(stranger) == []
    for action in (lambda k, i: store.get_run(k, i), lambda k, i: store.pause(k, i), lambda k, i: store.resume(k, i),
                   lambda k, i: store.stop(k, i), lambda k, i: store.delete(k, i),
                   lambda k, i: store.set_learning_rate(k, i, 0.5), lambda k, i: store.continue_run(k, i, 2),
                   lambda k, i: store.share(k, i), lambda k, i: store.unshare(k, i)):
        for key, run_id in ((stranger, run.id), (owner, "0123456789abcdef"), ("short", run.id),
                            (owner, "../../etc"), (None, run.id)):
            with pytest.raises(RunNotFound, match="^not found$"):
                action(key, run_id)
    assert store.get_run(owner, run.id).status == RunStatus.QUEUED  # nothing happened to it
    assert store.get_run(owner, run.id).learning_rate == QUICK.learning_rate


def test_a_share_link_is_read_only_and_can_be_withdrawn(tmp_path):
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = _ended_run(store, owner, epochs=2)
    token = store.share(owner, run.id)
    assert store.share(owner, run.id) == token  # the same link each time
    shared = store.get_shared(token)
    assert shared.id == run.id and shared.epochs_done == 2
    assert len(store.history(shared)) == 2
    # the token is not a workspace key: it lists nothing and controls nothing
    assert store.list_runs(token) == []
    with pytest.raises(RunNotFound):
        store.delete(token, run.id)
    with pytest.raises(RunNotFound):
        store.get_shared(token[:-2] + "xx")
    store.unshare(owner, run.id)
    with pytest.raises(RunNotFound, match="^not found$"):
        store.get_shared(token)
    assert store.get_run(owner, run.id).share is None


def test_concurrent_writers_lose_nothing(tmp_path):
    """Eight threads submit, claim, report and record epochs at once; every write lands, numbers stay
    unique per workspace, and no run is claimed twice."""
    store = RunStore(tmp_path, Limits(max_active=100, max_runs=100))
    workspaces = [new_workspace_key() for _ in range(4)]
    claimed: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def submitter(workspace: str) -> None:
        try:
            for _ in range(6):
                store.submit(workspace, SMALL, QUICK, records=100)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def worker() -> None:
        try:
            idle_since = time.monotonic()
            while time.monotonic() - idle_since < 1.0:
                run = store.claim()
                if run is None:
                    time.sleep(0.01)
                    continue
                idle_since = time.monotonic()
                with lock:
                    claimed.append(run.id)
                for step in range(3):
                    store.report(run.id, progress_done=step, progress_total=3, epoch_seconds=0.1)
                _fake_epoch(store, run, 1)
                store.end(run.id, RunStatus.FINISHED)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=submitter, args=(w,)) for w in workspaces]
    threads += [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(claimed) == len(set(claimed)) == 24
    for workspace in workspaces:
        runs = store.list_runs(workspace)
        assert [r.number for r in runs] == [1, 2, 3, 4, 5, 6]
        assert all(r.status == RunStatus.FINISHED and r.epochs_done == 1 and len(store.history(r)) == 1 for r in runs)


def test_claims_are_fair_between_workspaces_and_the_queue_position_says_so(tmp_path):
    """Alice queues three runs, then Bob one: with one worker, Bob's run starts second, not fourth."""
    store = RunStore(tmp_path)
    alice, bob = new_workspace_key(), new_workspace_key()
    a1, a2, a3 = (store.submit(alice, SMALL, QUICK, records=100) for _ in range(3))
    b1 = store.submit(bob, SMALL, QUICK, records=100)
    assert [store.queue_position(r) for r in (a1, a2, a3, b1)] == [0, 2, 3, 1]
    order = []
    for _ in range(4):
        run = store.claim("host:1")
        order.append(run.id)
        positions_now = {r.id: store.queue_position(r) for r in store.list_runs(alice) + store.list_runs(bob)}
        assert positions_now[run.id] is None  # a running run has no place in the queue
        store.end(run.id, RunStatus.FINISHED)
    assert order == [a1.id, b1.id, a2.id, a3.id]
    assert store.claim() is None


def test_a_workspace_may_hold_only_a_few_waiting_runs(tmp_path):
    store = RunStore(tmp_path, Limits(max_active=2))
    owner = new_workspace_key()
    store.submit(owner, SMALL, QUICK, records=100)
    second = store.submit(owner, SMALL, QUICK, records=100)
    with pytest.raises(RunLimitError, match="already have 2 runs waiting or training"):
        store.submit(owner, SMALL, QUICK, records=100)
    store.stop(owner, second.id)  # a queued run stops at once and frees its place
    assert store.get_run(owner, second.id).status == RunStatus.STOPPED
    store.submit(owner, SMALL, QUICK, records=100)
    assert len(store.list_runs(new_workspace_key())) == 0


def test_requests_that_do_not_fit_the_state_are_refused_with_the_reason(tmp_path):
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    ended = _ended_run(store, owner, epochs=1)
    with pytest.raises(RunStateError, match="Run 1 is finished: it cannot be paused now"):
        store.pause(owner, ended.id)
    with pytest.raises(RunStateError, match="continue by 1 to 1000 epochs"):
        store.continue_run(owner, ended.id, 0)
    queued = store.submit(owner, SMALL, QUICK, records=100)
    with pytest.raises(RunStateError, match="only a finished, stopped, interrupted or failed run"):
        store.continue_run(owner, queued.id, 2)
    with pytest.raises(Exception, match="learning_rate=50.0 is out of range"):
        store.set_learning_rate(owner, queued.id, 50.0)
    running = store.claim()
    with pytest.raises(RunStateError, match="stop it first"):
        store.delete(owner, running.id)


def test_pause_resume_and_stop_of_runs_not_yet_training(tmp_path):
    """A queued run paused waits outside the queue; resumed, it queues again; stopped, it ends at once."""
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = store.submit(owner, SMALL, QUICK, records=100)
    assert store.pause(owner, run.id).status_text == "paused (between epochs)"
    assert store.claim() is None  # a paused run is not taken
    assert store.resume(owner, run.id).status == RunStatus.QUEUED
    running = store.claim()
    assert running.id == run.id and running.status == RunStatus.RUNNING
    assert store.pause(owner, run.id).control == "pause"  # the worker is asked, and answers
    assert store.resume(owner, run.id).control == ""
    assert store.stop(owner, run.id).control == "stop"


def test_a_corrupt_database_is_moved_aside_and_the_runs_rebuilt_from_their_folders(tmp_path):
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = _ended_run(store, owner, epochs=2, accuracy=0.75)
    token = store.share(owner, run.id)
    queued = store.submit(owner, SMALL, QUICK, records=100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"runs.db{suffix}").unlink(missing_ok=True)
    (tmp_path / "runs.db").write_bytes(b"this is not a database" * 100)

    reopened = RunStore(tmp_path)
    assert len(reopened.notices) == 1
    assert "could not be read" in reopened.notices[0] and "2 run(s) recovered" in reopened.notices[0]
    assert str(tmp_path) not in reopened.notices[0]  # every visitor sees it: no server paths
    assert list(tmp_path.glob("runs.db.corrupt-*"))
    runs = {r.id: r for r in reopened.list_runs(owner)}
    assert runs[run.id].status == RunStatus.FINISHED and runs[run.id].epochs_done == 2
    assert runs[run.id].test_accuracy == 0.75 and runs[run.id].share == token
    assert [e["epoch"] for e in reopened.history(runs[run.id])] == [1, 2]
    assert runs[queued.id].status == RunStatus.INTERRUPTED and runs[queued.id].epochs_done == 0
    assert reopened.load_network(runs[run.id]).weights[0].shape == (20, 784)
    assert reopened.get_shared(token).id == run.id


@pytest.mark.parametrize("loss", ["missing", "empty"])
def test_a_missing_or_empty_database_is_rebuilt_from_the_run_folders_with_the_notice(tmp_path, loss):
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = _ended_run(store, owner, epochs=2, accuracy=0.75)
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"runs.db{suffix}").unlink(missing_ok=True)
    if loss == "empty":
        (tmp_path / "runs.db").write_bytes(b"")  # emptied: a full disk, a bad copy

    reopened = RunStore(tmp_path)
    assert len(reopened.notices) == 1
    kept = r" \(kept as runs\.db\.corrupt-[0-9-]+\)" if loss == "empty" else ""
    assert re.fullmatch(rf"The run store's database was {loss}{kept}; a new one was built from the run folders "
                        r"\(1 run\(s\) recovered\)\.", reopened.notices[0]), reopened.notices
    (found,) = reopened.list_runs(owner)
    assert found.id == run.id and found.epochs_done == 2 and found.test_accuracy == 0.75
    assert [e["epoch"] for e in reopened.history(found)] == [1, 2]
    assert RunStore(tmp_path).notices == []  # rebuilt once: the next opening finds it whole


def test_a_new_store_gives_no_notice_and_its_files_are_private(tmp_path):
    root = tmp_path / "runs"
    store = RunStore(root)
    assert store.notices == []
    owner = new_workspace_key()
    run = _ended_run(store, owner, epochs=1)
    assert (root.stat().st_mode & 0o777, (root / run.id).stat().st_mode & 0o777) == (0o700, 0o700)
    assert (root / "runs.db").stat().st_mode & 0o777 == 0o600
    for suffix in ("-wal", "-shm"):
        if (root / f"runs.db{suffix}").exists():
            assert (root / f"runs.db{suffix}").stat().st_mode & 0o777 == 0o600
    # a store made before it was private is tightened when opened
    root.chmod(0o755)
    (root / "runs.db").chmod(0o644)
    RunStore(root)
    assert (root.stat().st_mode & 0o777, (root / "runs.db").stat().st_mode & 0o777) == (0o700, 0o600)


def test_a_damaged_checkpoint_is_named_moved_aside_and_nothing_else_is_lost(tmp_path):
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = _ended_run(store, owner, epochs=2)
    resume = tmp_path / run.id / "resume.npz"
    resume.write_bytes(resume.read_bytes()[:200])  # truncated, as by a full disk
    with pytest.raises(CheckpointError) as raised:
        store.load_resume(run)  # Continue: needs the exact state, and says why it cannot
    message = str(raised.value)
    assert re.match(rf"{run.name}: resume\.npz is damaged \(it cannot be read as a checkpoint\)\. It was moved aside "
                    r"as resume\.npz\.corrupt-[0-9-]+; its network is read from its last good snapshot, epoch 2", message)
    assert str(tmp_path) not in message
    assert list((tmp_path / run.id).glob("resume.npz.corrupt-*")) and not resume.exists()
    again = store.get_run(owner, run.id)
    assert again.message.startswith("Its checkpoint resume.npz was damaged. It was moved aside as resume.npz.corrupt-")
    assert len(store.history(again)) == 2  # the curves are all there
    # Make it the active model, runs export: the last good snapshot, epoch 2's
    assert store.load_network(again).weights[0].shape == (20, 784)
    assert load_model(store.model_bytes(again)).network.weights[0].shape == (20, 784)
    with pytest.raises(CheckpointError, match="is missing"):
        store.load_resume(again)


def test_with_every_checkpoint_damaged_the_run_says_so_without_server_paths(tmp_path):
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = _ended_run(store, owner, epochs=2)
    for path in (tmp_path / run.id).glob("*.npz"):
        path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError) as raised:
        store.model_bytes(run)
    assert "no other checkpoint of it can be read" in str(raised.value) and str(tmp_path) not in str(raised.value)
    assert len(list((tmp_path / run.id).glob("*.corrupt-*"))) == 3  # resume and both snapshots, kept aside


def test_a_checkpoint_ahead_of_the_database_brings_the_database_up_to_it(tmp_path):
    """A kill between writing an epoch's checkpoint and its row loses nothing: the next load adds the row."""
    from ann.network import Network
    from ann.service.checkpoints import write_resume

    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = _ended_run(store, owner, epochs=1)
    history = store.history(run) + [dict(store.history(run)[0], epoch=2, test_accuracy=0.9)]
    write_resume(tmp_path / run.id / "resume.npz", Network(SMALL, seed=2), np.random.default_rng(2), history, [],
                 0.1, run)
    state = store.load_resume(run)
    assert len(state["history"]) == 2
    again = store.get_run(owner, run.id)
    assert again.epochs_done == 2 and again.test_accuracy == 0.9 and len(store.history(again)) == 2


def test_housekeeping_removes_the_oldest_ended_runs_first_and_says_so_beforehand(tmp_path):
    store = RunStore(tmp_path, Limits(max_runs=3, max_megabytes=1000, max_age_days=30, max_active=3))
    owner = new_workspace_key()
    old = _ended_run(store, owner)
    middle = _ended_run(store, owner)
    newest = _ended_run(store, owner)
    preview = store.removal_preview(owner)
    assert [(r.id, why) for r, why in preview] == [(old.id, "a workspace keeps at most 3 runs")]
    fourth = store.submit(owner, SMALL, QUICK, records=100)  # makes room: the oldest ended run goes
    assert [r.id for r in store.list_runs(owner)] == [middle.id, newest.id, fourth.id]
    assert not (tmp_path / old.id).exists()
    # active runs are never removed, however full the workspace
    store.submit(owner, SMALL, QUICK, records=100)
    store.submit(owner, SMALL, QUICK, records=100)
    assert all(r.status in ENDED_STATUSES or r.status == RunStatus.QUEUED for r in store.list_runs(owner))
    assert len([r for r in store.list_runs(owner) if r.status == RunStatus.QUEUED]) == 3


def test_the_disk_quota_and_the_age_limit(tmp_path):
    store = RunStore(tmp_path, Limits(max_runs=100, max_megabytes=1000, max_age_days=2))
    owner = new_workspace_key()
    runs = [_ended_run(store, owner, epochs=2) for _ in range(3)]
    per_run = runs[0].disk_bytes
    assert per_run > 100_000  # two epoch snapshots and the resume checkpoint of a 784-20-10 network
    small = RunStore(tmp_path, Limits(max_runs=100, max_megabytes=2.5 * per_run / 1e6, max_age_days=2))
    preview = small.removal_preview(owner)
    assert [r.id for r, _ in preview] == [runs[0].id]
    assert "MB of checkpoints" in preview[0][1]
    small.housekeeping(owner)
    assert [r.id for r in small.list_runs(owner)] == [runs[1].id, runs[2].id]
    # the age limit: a day before, the preview names the runs; after, they are gone
    ended = max(r.ended for r in small.list_runs(owner))
    soon = small.removal_preview(owner, now=ended + 1.5 * 86_400)
    assert {r.id for r, why in soon if "kept 2 days" in why} == {runs[1].id, runs[2].id}
    assert small.housekeeping(None, now=ended + 1.5 * 86_400) == []
    assert sorted(small.housekeeping(None, now=ended + 2.1 * 86_400)) == sorted([runs[1].id, runs[2].id])
    assert small.list_runs(owner) == []


def test_orphans_of_a_dead_worker_become_interrupted(tmp_path):
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = store.submit(owner, SMALL, QUICK, records=100)
    import socket
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    store.claim(f"{socket.gethostname()}:{dead.pid}")
    assert store.mark_orphans() == [run.id]
    ended = store.get_run(owner, run.id)
    assert ended.status == RunStatus.INTERRUPTED and "Continue resumes it" in ended.message
    # a silent worker on another host is given stale_seconds
    other = store.submit(owner, SMALL, QUICK, records=100)
    store.claim("elsewhere:123")
    assert store.mark_orphans(stale_seconds=60) == []
    assert store.mark_orphans(stale_seconds=60, now=time.time() + 61) == [other.id]


def test_run_json_and_checkpoints_hold_what_a_rebuild_needs(tmp_path):
    store = RunStore(tmp_path)
    owner = new_workspace_key()
    run = _ended_run(store, owner, epochs=1)
    static = json.loads((tmp_path / run.id / "run.json").read_text())
    assert static["number"] == 1 and static["config"]["hidden_nodes"] == [20] and static["records"] == 100
    assert store.epoch_snapshots(run) == [1]
    from ann.model_io import load_model

    snapshot = load_model(tmp_path / run.id / "epoch_0001.npz")
    assert snapshot.info["stored_as"] == "float16" and snapshot.history[-1]["epoch"] == 1
    assert load_model(store.model_bytes(run)).network.weights[0].dtype == np.float32


def test_a_run_records_its_dataset_and_a_workspace_uses_only_its_own_data(tmp_path):
    """Each run names its dataset's classes (its model files too); a workspace's own data is private to it,
    must fit the network (one output per class), and survives a database rebuilt from the run folders."""
    from dataset_files import band_set, csv_bytes

    from ann.data.named import NAMED
    from ann.data.own import read_own_data
    from ann.model_io import load_model

    store = RunStore(tmp_path / "runs")
    alice, bob = new_workspace_key(), new_workspace_key()
    data = read_own_data([("letters.csv", csv_bytes(band_set(60, 4)))])
    tag = store.save_dataset(alice, data)
    assert [m["key"] for m in store.list_datasets(alice)] == [data.key] and store.list_datasets(bob) == []
    four = replace(SMALL, output_nodes=4)
    with pytest.raises(RunStateError, match="not on this server"):  # bob cannot train on alice's data
        store.submit(bob, four, QUICK, records=48, dataset=tag)
    with pytest.raises(RunStateError, match="the network has 10 outputs, but letters has 4 classes"):
        store.submit(alice, SMALL, QUICK, records=48, dataset=tag)
    with pytest.raises(RunStateError, match="dataset 'emnist' is not known here"):
        store.submit(alice, SMALL, QUICK, records=48, dataset="emnist")
    fashion = store.submit(alice, SMALL, QUICK, records=100, dataset="fashion")
    assert fashion.dataset_tag == NAMED["fashion"].tag
    own = store.submit(alice, four, QUICK, records=48, dataset=data.key)
    assert own.dataset_tag == data.tag and own.dataset_title == "letters"
    assert np.array_equal(store.run_dataset(own).test.images, data.test.images)
    with pytest.raises(RunStateError, match="Run 2 is waiting or training on this dataset"):
        store.delete_dataset(alice, data.key)

    claimed = store.claim()
    while claimed.id != own.id:
        store.end(claimed.id, RunStatus.STOPPED)
        claimed = store.claim()
    _fake_epoch(store, claimed, 1)
    store.end(own.id, RunStatus.FINISHED)
    assert load_model(store.folder(own.id) / "epoch_0001.npz").dataset == data.tag
    assert load_model(store.model_bytes(store.get_run(alice, own.id))).dataset == data.tag

    store.db_path.write_bytes(b"this is not a database" * 100)  # rebuilt from run.json: the tags survive
    rebuilt = RunStore(tmp_path / "runs")
    assert {r.dataset_tag for r in rebuilt.list_runs(alice)} == {NAMED["fashion"].tag, data.tag}


def test_a_store_made_before_datasets_were_recorded_gains_the_column(tmp_path):
    import sqlite3

    folder = tmp_path / "runs"
    folder.mkdir()
    conn = sqlite3.connect(folder / "runs.db")
    conn.executescript(_OLD_SCHEMA)
    conn.execute("INSERT INTO runs (id, owner, number, status, config, records, learning_rate, created) "
                 "VALUES ('0123456789abcdef', ?, 1, 'finished', ?, 100, 0.1, 1.0)",
                 (owner_of("k" * 22), json.dumps({"hidden_nodes": [20]})))
    conn.commit()
    conn.close()
    store = RunStore(folder)
    (run,) = store.list_runs("k" * 22)
    assert run.dataset == "mnist" and run.dataset_title == "MNIST" and run.class_names[9] == "9"


_OLD_SCHEMA = """CREATE TABLE runs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, number INTEGER NOT NULL,
status TEXT NOT NULL, config TEXT NOT NULL, preset TEXT, records INTEGER NOT NULL,
dataset TEXT NOT NULL DEFAULT 'mnist', source TEXT NOT NULL DEFAULT 'app', learning_rate REAL NOT NULL,
epochs_done INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, queued REAL, started REAL, claimed REAL, ended REAL,
heartbeat REAL, progress_done INTEGER NOT NULL DEFAULT 0, progress_total INTEGER NOT NULL DEFAULT 0,
epoch_seconds REAL NOT NULL DEFAULT 0, train_seconds REAL NOT NULL DEFAULT 0, test_accuracy REAL, best_accuracy REAL,
message TEXT, share TEXT UNIQUE, control TEXT NOT NULL DEFAULT '', worker TEXT,
disk_bytes INTEGER NOT NULL DEFAULT 0);"""


def test_a_network_for_predicting_is_read_without_its_momentum(tmp_path):
    """The dashboard reads a run's network to predict with: the same weights as the full state, and the
    momentum arrays (as large as the weights) are left in the file."""
    from ann.network import Network
    from ann.service.checkpoints import write_resume

    store = RunStore(tmp_path)
    run = _ended_run(store, new_workspace_key(), epochs=1)
    network = Network(SMALL, seed=3)
    network._velocity = [np.full_like(W, 0.5) for W in network.weights]
    write_resume(tmp_path / run.id / "resume.npz", network, np.random.default_rng(3), store.history(run), [], 0.1,
                 run)
    full = store.load_resume(run)
    light = store.load_resume(run, network_only=True)
    assert full["network"]._velocity is not None and light["network"]._velocity is None
    for got, want in zip(light["network"].weights, network.weights):
        np.testing.assert_array_equal(got, want)
    assert light["history"] == full["history"]
