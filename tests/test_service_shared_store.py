"""Several stores and training services on one run store: the same SQLite file on disk, real worker processes.

Two dashboards (two server replicas, or one server's services for two data folders) and ``python -m ann train
--save-run`` may share a runs folder. Each must see what the others write, and a run queued through any of them
must be taken by a worker: it may never stay queued while the workers poll an empty queue.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from test_jobs import QUICK, TINY, WAIT, _wait, tiny_data  # noqa: F401 -- tiny_data: the same module fixture

from ann.service.pool import TrainingService
from ann.service.records import RunStatus, new_workspace_key
from ann.service.store import RunStore

ROOT = Path(__file__).resolve().parents[1]


def _in_another_process(root: Path, code: str) -> str:
    """Run ``code`` with ``store = RunStore(root)`` in a new Python process; its output. The process ends, so its
    connections to the database close, as a worker's do when it ends idle."""
    script = "import sys\nfrom ann.service.store import RunStore\nstore = RunStore(sys.argv[1])\n" + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script, str(root)], cwd=ROOT, capture_output=True, text=True,
                          timeout=WAIT, check=True)
    return done.stdout.strip()


def test_a_second_store_on_the_same_file_leaves_the_first_ones_writes_seen_by_other_processes(tmp_path):
    root = tmp_path / "runs"
    first = RunStore(root)
    owner = new_workspace_key()
    assert first.list_runs(owner) == []  # its connection stays open for the next call, as a server's does
    second = RunStore(root)  # what a second training service in the same server makes
    _in_another_process(root, "store.counts()")  # a worker that starts, polls and ends
    run = first.submit(owner, TINY, QUICK, records=3000)
    assert _in_another_process(root, "print(getattr(store.claim(), 'id', None))") == run.id
    assert first.get_run(owner, run.id).status == RunStatus.RUNNING
    assert second.get_run(owner, run.id).status == RunStatus.RUNNING
    assert _in_another_process(root, "print(store.counts())") == f"{{'{RunStatus.RUNNING}': 1}}"


def test_runs_queued_beside_a_second_service_on_the_same_store_are_trained(tmp_path, tiny_data):
    """As the dashboard's cache makes it for another data folder: one store, two services in one server, workers
    that end when idle and start again for the next run."""
    runs = tmp_path / "runs"
    other_data = shutil.copytree(tiny_data, tmp_path / "other_data")
    server = TrainingService(RunStore(runs), tiny_data, workers=1, verify_data=False, idle_seconds=1.0, nice=0)
    other = TrainingService(RunStore(runs), other_data, workers=1, verify_data=False, idle_seconds=1.0, nice=0)
    try:
        owner = new_workspace_key()
        for number in (1, 2):
            run = server.submit(owner, TINY, QUICK, records=3000)
            _wait(lambda run=run: server.store.get_run(owner, run.id).status == RunStatus.FINISHED,
                  f"run {number} to finish, seen by the service that queued it")
            assert other.store.get_run(owner, run.id).status == RunStatus.FINISHED
            assert RunStore(runs).get_run(owner, run.id).epochs_done == QUICK.epochs
            # every worker ends idle, closing its connections: the next run starts a new one
            _wait(lambda: not server.alive_workers() and not other.alive_workers(), "the workers to end, idle")
    finally:
        other.close()
        server.close()


def test_a_run_queued_in_the_store_by_someone_else_is_trained_by_the_supervisor(tmp_path, tiny_data):
    """Queued through another store object (another server's, or a script's), so no call of this service wakes
    its workers: its supervisor must notice the change on disk, though it skips its query while nothing changes."""
    runs = tmp_path / "runs"
    server = TrainingService(RunStore(runs), tiny_data, workers=1, verify_data=False, idle_seconds=1.0, nice=0)
    try:
        owner = new_workspace_key()
        for number in (1, 2):  # the second after the first's worker has ended idle: nothing alive, nothing queued
            run = RunStore(runs).submit(owner, TINY, QUICK, records=3000)
            _wait(lambda run=run: server.store.get_run(owner, run.id).status == RunStatus.FINISHED,
                  f"run {number}, queued beside the service, to be trained")
            _wait(lambda: not server.alive_workers(), "the worker to end, idle")
    finally:
        server.close()
