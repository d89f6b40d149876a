"""Each workspace's choice of model and dataset in the run store (ann.service.choices): a real SQLite database.

What a learner relies on: what they picked is there after a reload, in another tab and after a restart of the
server (another RunStore on the same folder); a chosen run that is deleted gives way to the default model,
named; no workspace sees or changes another's choice; an old database gains the table.
"""

from __future__ import annotations

import sqlite3
import time

from test_runs import _OLD_SCHEMA, QUICK, SMALL, _ended_run

from ann.service.choices import ModelChoice, ModelKind, WorkspaceChoice
from ann.service.records import Limits, new_workspace_key, owner_of
from ann.service.store import RunStore


def test_a_choice_is_kept_for_the_workspace_across_stores_and_without_its_key(tmp_path):
    store = RunStore(tmp_path)
    key = new_workspace_key()
    assert store.choice(key) == WorkspaceChoice()  # nothing chosen yet: the defaults
    run = _ended_run(store, key, epochs=1, accuracy=0.9)
    store.choose_model(key, ModelChoice(ModelKind.RUN, run.id, run.name))
    store.choose_dataset(key, "fashion")
    again = RunStore(tmp_path)  # a restart of the server, or another process
    assert again.choice(key) == WorkspaceChoice(ModelChoice(ModelKind.RUN, run.id, "Run 1"), "fashion")
    again.choose_model(key, ModelChoice(ModelKind.SHIPPED, "default", "Default model"))
    assert store.choice(key).model == ModelChoice(ModelKind.SHIPPED, "default", "Default model")
    assert store.choice(key).dataset == "fashion"  # choosing a model leaves the dataset alone, and back
    store.choose_dataset(key, None)
    assert store.choice(key) == WorkspaceChoice(ModelChoice(ModelKind.SHIPPED, "default", "Default model"), None)
    assert key.encode() not in (tmp_path / "runs.db").read_bytes()  # kept by the key's hash, like the runs


def test_a_deleted_run_gives_way_to_the_default_and_is_named(tmp_path):
    store = RunStore(tmp_path)
    key = new_workspace_key()
    run = _ended_run(store, key, epochs=2)
    chosen = ModelChoice(ModelKind.RUN, run.id, run.name)
    store.choose_model(key, chosen)
    store.choose_dataset(key, "kmnist")
    store.delete(key, run.id)
    assert store.choice(key) == WorkspaceChoice(None, "kmnist", gone=chosen)
    # a shared run whose link is withdrawn is gone too; one whose link works is not
    owner, viewer = new_workspace_key(), new_workspace_key()
    theirs = _ended_run(store, owner, epochs=1)
    token = store.share(owner, theirs.id)
    store.choose_model(viewer, ModelChoice(ModelKind.SHARED, token, "Shared run 1"))
    assert store.choice(viewer).model == ModelChoice(ModelKind.SHARED, token, "Shared run 1")
    store.unshare(owner, theirs.id)
    assert store.choice(viewer).model is None and store.choice(viewer).gone.label == "Shared run 1"
    # a run with no whole epoch has no model to open
    failed = _ended_run(store, key, epochs=0, status="failed")
    store.choose_model(key, ModelChoice(ModelKind.RUN, failed.id, failed.name))
    assert store.choice(key).gone is not None


def test_workspaces_never_see_or_change_each_other_s_choice(tmp_path):
    store = RunStore(tmp_path)
    alice, bob = new_workspace_key(), new_workspace_key()
    alices = _ended_run(store, alice, epochs=1)
    store.choose_model(alice, ModelChoice(ModelKind.RUN, alices.id, alices.name))
    store.choose_dataset(alice, "fashion")
    assert store.choice(bob) == WorkspaceChoice()
    store.choose_dataset(bob, "kmnist")
    store.choose_model(bob, ModelChoice(ModelKind.SHIPPED, "seed", "The seed's network"))
    assert store.choice(alice) == WorkspaceChoice(ModelChoice(ModelKind.RUN, alices.id, "Run 1"), "fashion")
    # Alice's run id under Bob's key is not a run of Bob's: it cannot be opened as his
    store.choose_model(bob, ModelChoice(ModelKind.RUN, alices.id, "Run 1"))
    assert store.choice(bob).model is None and store.choice(bob).gone.ident == alices.id
    assert store.choice("not a key") == WorkspaceChoice()  # a malformed key simply has no choice


def test_a_model_only_its_session_holds_is_kept_by_name_over_the_last_one_that_opens(tmp_path):
    store = RunStore(tmp_path)
    key = new_workspace_key()
    store.choose_model(key, ModelChoice(ModelKind.SHIPPED, "best", "Best reader of handwriting"))
    store.choose_model(key, ModelChoice(ModelKind.SESSION, "a1b2c3", "Uploaded mine.npz"))
    chosen = store.choice(key)
    assert chosen.model == ModelChoice(ModelKind.SHIPPED, "best", "Best reader of handwriting")
    assert chosen.session_model == "Uploaded mine.npz"
    store.choose_model(key, None)  # the default model: and the session's model is no longer the choice
    assert store.choice(key) == WorkspaceChoice()


def test_an_unknown_kind_written_by_a_newer_version_reads_as_the_default(tmp_path):
    store = RunStore(tmp_path)
    key = new_workspace_key()
    with sqlite3.connect(tmp_path / "runs.db") as conn:
        conn.execute("INSERT INTO choices (owner, model, model_label, dataset, updated) VALUES (?, ?, ?, ?, 1.0)",
                     (owner_of(key), "hub:abc", "From the hub", "mnist"))
    assert store.choice(key) == WorkspaceChoice(None, "mnist")


def test_a_store_made_before_choices_were_kept_gains_the_table(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    conn = sqlite3.connect(folder / "runs.db")
    conn.executescript(_OLD_SCHEMA)
    conn.commit()
    conn.close()
    store = RunStore(folder)
    key = new_workspace_key()
    store.choose_dataset(key, "fashion")
    assert RunStore(folder).choice(key).dataset == "fashion"


def test_housekeeping_forgets_the_choices_of_workspaces_that_have_no_run_left(tmp_path):
    store = RunStore(tmp_path, Limits(max_age_days=30))
    idle, busy = new_workspace_key(), new_workspace_key()
    store.submit(busy, SMALL, QUICK, records=100)  # still queued a month on: never removed by age
    for key in (idle, busy):
        store.choose_dataset(key, "fashion")
    store.housekeeping(now=time.time() + 10 * 86_400)
    assert store.choice(idle).dataset == "fashion"
    store.housekeeping(now=time.time() + 31 * 86_400)
    assert store.choice(idle) == WorkspaceChoice() and store.choice(busy).dataset == "fashion"


def test_an_offered_run_is_kept_until_taken_or_declined_and_only_while_it_is_there(tmp_path):
    store = RunStore(tmp_path)
    key, other = new_workspace_key(), new_workspace_key()
    run = _ended_run(store, key, epochs=1, accuracy=0.8)
    store.offer(key, run.id)
    assert store.choice(key).offer == run.id and store.choice(other).offer is None
    store.offer(other, run.id)  # another workspace's run is nothing to offer there
    assert store.choice(other).offer is None
    store.choose_dataset(key, "fashion")
    assert RunStore(tmp_path).choice(key).offer == run.id  # untouched by other choices, kept across stores
    store.offer(key, None)
    assert store.choice(key).offer is None
    store.offer(key, run.id)
    store.delete(key, run.id)
    assert store.choice(key).offer is None
