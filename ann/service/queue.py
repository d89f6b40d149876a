"""The worker's side of the run store: claiming queued runs in a fair order, progress, live points, epochs,
the end.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from ann.live_points import LiveView
from ann.service.checkpoints import POINT_COLUMNS, folder_bytes, write_model_snapshot, write_resume
from ann.service.database import Database, process_alive, this_worker
from ann.service.records import PRIVATE_FOLDER, Control, RunInfo, RunStatus, dumps_json

if TYPE_CHECKING:  # the network brings SciPy; listing runs needs only NumPy and sqlite3
    from ann.network import Network


def fair_order(queued: list[sqlite3.Row], last_claimed: dict[str, float]) -> list[sqlite3.Row]:
    """The order in which queued runs start: round robin between workspaces.

    The next run is the oldest queued run of the workspace served least recently (a workspace never served
    comes first; ties go to the oldest queued run). So a visitor who queues three runs gets one, then
    another visitor's first, then the next: never three in front of someone else's.
    """
    pending: dict[str, list[sqlite3.Row]] = {}
    for row in sorted(queued, key=lambda r: (r["queued"] or 0.0, r["id"])):
        pending.setdefault(row["owner"], []).append(row)
    served = {owner: last_claimed.get(owner, float("-inf")) for owner in pending}
    order = []
    clock = max([t for t in last_claimed.values() if t is not None] + [0.0])
    while pending:
        owner = min(pending, key=lambda o: (served[o], pending[o][0]["queued"] or 0.0, pending[o][0]["id"]))
        order.append(pending[owner].pop(0))
        clock += 1.0
        served[owner] = clock
        if not pending[owner]:
            del pending[owner]
    return order


class WorkQueue(Database):
    """What a worker process does to the store: claim, poll for requests, report, record an epoch, end."""

    # --- the worker's side -------------------------------------------------------------------------------

    def claim(self, worker: str | None = None) -> RunInfo | None:
        """Take the next queued run for a worker, fairly (:func:`fair_order`). Atomic: two workers never
        take the same run."""
        worker = worker or this_worker()
        now = time.time()
        with self._db(write=True) as conn:
            queued = conn.execute("SELECT id, owner, queued FROM runs WHERE status = ? ORDER BY queued, id",
                                  (RunStatus.QUEUED,)).fetchall()
            if not queued:
                return None
            last_claimed = dict(conn.execute(
                "SELECT owner, MAX(claimed) FROM runs WHERE claimed IS NOT NULL GROUP BY owner").fetchall())
            pick = fair_order(queued, last_claimed)[0]
            conn.execute("UPDATE runs SET status = ?, worker = ?, trained_on = ?, started = COALESCE(started, ?),"
                         " claimed = ?, heartbeat = ?, control = ?, progress_done = 0, progress_total = 0,"
                         " epoch_seconds = 0 WHERE id = ?", (RunStatus.RUNNING, worker, worker, now, now, now,
                                                             Control.NONE, pick["id"]))
        return self._run(pick["id"])

    def record_worker(self, run_id: str, worker: str) -> None:
        """Where a claimed run trains, once its worker is known (a Dask worker's address)."""
        with self._db(write=True) as conn:
            conn.execute("UPDATE runs SET worker = ?, trained_on = ?, heartbeat = ? WHERE id = ? AND worker IS NOT NULL",
                         (worker, worker, time.time(), run_id))

    def note(self, run_id: str, message: str) -> None:
        """A word on a run for its owner (where it trains and why), until it ends."""
        with self._db(write=True) as conn:
            conn.execute("UPDATE runs SET message = ? WHERE id = ?", (message, run_id))

    def poll(self, run_id: str) -> tuple[str, float, str] | None:
        """The owner's requests for a run being trained: (control, learning rate, status), or None when the
        run was deleted."""
        with self._db() as conn:
            row = conn.execute("SELECT control, learning_rate, status FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else (row["control"], float(row["learning_rate"]), row["status"])

    def report(self, run_id: str, *, status: str | None = None, progress_done: int | None = None,
               progress_total: int | None = None, epoch_seconds: float | None = None,
               points: list[dict[str, Any]] | None = None, view: LiveView | None = None) -> None:
        """The worker's heartbeat, with its progress (and a change between running and paused), and the live
        points since its last report with the network's view at the latest (:meth:`record_points`), all in
        one transaction: the page reads them together."""
        sets, args = ["heartbeat = ?"], [time.time()]
        for column, value in (("status", status), ("progress_done", progress_done),
                              ("progress_total", progress_total), ("epoch_seconds", epoch_seconds)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value)
        with self._db(write=True) as conn:
            conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))
            self._write_points(conn, run_id, points or [], view)

    def record_event(self, run_id: str, at: float, kind: str, value: float | None) -> None:
        with self._db(write=True) as conn:
            conn.execute("INSERT INTO events (run_id, at, kind, value, time) VALUES (?,?,?,?,?)",
                         (run_id, float(at), kind, value, time.time()))

    def record_points(self, run_id: str, points: list[dict[str, Any]], view: LiveView | None = None) -> None:
        """Live points of a run being trained, and the network's view at the latest (see ``ann.live_points``)."""
        with self._db(write=True) as conn:
            self._write_points(conn, run_id, points, view)

    @staticmethod
    def _write_points(conn: sqlite3.Connection, run_id: str, points: list[dict[str, Any]],
                      view: LiveView | None) -> None:
        if points:
            conn.executemany(f"INSERT OR REPLACE INTO points (run_id, {', '.join(POINT_COLUMNS)})"
                             " VALUES (?,?,?,?,?,?)", [(run_id, *(p[c] for c in POINT_COLUMNS)) for p in points])
        if view is not None:
            conn.execute("INSERT OR REPLACE INTO live (run_id, samples, labels, answers, shares, digits, weights,"
                         " nodes) VALUES (?,?,?,?,?,?,?,?)",
                         (run_id, view.samples, json.dumps(list(view.labels)), json.dumps(list(view.answers)),
                          json.dumps([round(share, 4) for share in view.shares]),
                          np.ascontiguousarray(view.digits, np.uint8).tobytes(),
                          np.ascontiguousarray(view.weights, np.float16).tobytes(), len(view.weights)))

    def drop_points_after(self, run_id: str, epoch: int) -> None:
        """Forget the live points of the epochs after ``epoch``: one that was not kept (a stop, a crash), and
        is trained again when the run goes on."""
        with self._db(write=True) as conn:
            conn.execute("DELETE FROM points WHERE run_id = ? AND epoch > ?", (run_id, int(epoch)))

    def record_epoch(self, run: RunInfo, metrics: dict[str, Any], network: Network,
                     rng: np.random.Generator, history: list[dict[str, Any]], learning_rate: float) -> None:
        """A finished epoch: its checkpoints first (atomic files), then its row. Killed in between, the
        checkpoint is ahead of the database, and :meth:`load_resume` brings the database up to it."""
        folder = self.folder(run.id)
        folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        events = self.events(run)
        with self._db() as conn:  # the epoch's own are in already: the worker writes them with its progress
            points = [dict(row) for row in conn.execute(
                f"SELECT {', '.join(POINT_COLUMNS)} FROM points WHERE run_id = ? AND epoch <= ? ORDER BY samples",
                (run.id, int(metrics["epoch"]))).fetchall()]
        write_model_snapshot(folder / f"epoch_{int(metrics['epoch']):04d}.npz", network, run, history)
        write_resume(folder / "resume.npz", network, rng, history, events, learning_rate, run, points)
        accuracies = [e["test_accuracy"] for e in history if e.get("test_accuracy") is not None]
        with self._db(write=True) as conn:
            conn.execute("INSERT OR REPLACE INTO epochs (run_id, epoch, metrics) VALUES (?,?,?)",
                         (run.id, int(metrics["epoch"]), dumps_json(metrics)))
            conn.execute("UPDATE runs SET epochs_done = ?, train_seconds = ?, test_accuracy = ?, best_accuracy = ?,"
                         " progress_done = 0, epoch_seconds = 0, heartbeat = ?, disk_bytes = ? WHERE id = ?",
                         (len(history), float(sum(e["seconds"] for e in history)),
                          accuracies[-1] if accuracies else None, max(accuracies) if accuracies else None,
                          time.time(), folder_bytes(folder), run.id))

    def end(self, run_id: str, status: str, message: str | None = None) -> None:
        """The worker is done with a run: finished, stopped, failed, interrupted, or parked while paused."""
        parked = status == RunStatus.PAUSED
        with self._db(write=True) as conn:
            conn.execute("UPDATE runs SET status = ?, worker = NULL, control = ?, message = ?, ended = ?,"
                         " progress_done = 0, epoch_seconds = 0, heartbeat = ? WHERE id = ?",
                         (status, Control.NONE, message, None if parked else time.time(), time.time(), run_id))

    def held_by_workers(self) -> list[str]:
        """The ``host:pid`` of every worker holding a run (training it, or paused in the middle of an epoch)."""
        with self._db() as conn:
            rows = conn.execute("SELECT worker FROM runs WHERE status IN (?, ?) AND worker IS NOT NULL",
                                (RunStatus.RUNNING, RunStatus.PAUSED)).fetchall()
        return [row["worker"] for row in rows]

    def mark_orphans(self, stale_seconds: float = 60.0, now: float | None = None) -> list[str]:
        """Runs a worker was training when it died (a crash, ``kill -9``, a server restart) become
        *interrupted*: their worker process is gone (same host), or silent for ``stale_seconds``.
        Continue resumes them from their last whole epoch."""
        now = time.time() if now is None else now
        host = socket.gethostname()
        orphans = []
        with self._db() as conn:
            rows = conn.execute("SELECT id, worker, heartbeat FROM runs WHERE status IN (?, ?) AND worker IS NOT NULL",
                                (RunStatus.RUNNING, RunStatus.PAUSED)).fetchall()
        for row in rows:
            worker_host, _, pid = (row["worker"] or "").rpartition(":")
            dead = worker_host == host and pid.isdigit() and not process_alive(int(pid))
            if dead or (row["heartbeat"] or 0) < now - stale_seconds:
                orphans.append(row["id"])
        for run_id in orphans:
            with self._db(write=True) as conn:
                conn.execute("UPDATE runs SET status = ?, worker = NULL, control = ?, ended = ?,"
                             " message = ? WHERE id = ? AND status IN (?, ?)",
                             (RunStatus.INTERRUPTED, Control.NONE, now, "Interrupted: the process training it stopped (a server restart or crash). "
                              "Continue resumes it from its last whole epoch.", run_id, RunStatus.RUNNING, RunStatus.PAUSED))
        return orphans
