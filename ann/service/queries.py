"""Reading the run store: a workspace's runs, one run, its history, events and live points, the queue's counts.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import TYPE_CHECKING, Any

import numpy as np

from ann.config import ConfigError
from ann.live_points import LiveView
from ann.service.checkpoints import POINT_COLUMNS
from ann.service.database import COLUMNS, Database, row_to_run
from ann.service.queue import fair_order
from ann.service.records import RUN_ID_PATTERN, RunInfo, RunNotFound, RunStatus, owner_of

if TYPE_CHECKING:  # the network brings SciPy; listing runs needs only NumPy and sqlite3
    pass


class Queries(Database):
    """What pages and the command line read."""

    # --- reading -----------------------------------------------------------------------------------------

    def _select(self, conn: sqlite3.Connection, where: str, args: tuple) -> list[RunInfo]:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM runs WHERE {where}", args).fetchall()
        runs = []
        for row in rows:
            try:
                runs.append(row_to_run(row))
            except (ConfigError, ValueError, TypeError, KeyError):
                continue  # a row written by a newer version with settings this one does not know
        return runs

    def list_runs(self, workspace: str) -> list[RunInfo]:
        """The workspace's runs, oldest first (an unknown or malformed key simply has none)."""
        try:
            owner = owner_of(workspace)
        except RunNotFound:
            return []
        with self._db() as conn:
            return self._select(conn, "owner = ? ORDER BY number", (owner,))

    def get_run(self, workspace: str, run_id: str) -> RunInfo:
        """One run of the workspace; :class:`RunNotFound` for anything else (another's run, a guessed id)."""
        if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
            raise RunNotFound("not found")
        owner = owner_of(workspace)
        with self._db() as conn:
            found = self._select(conn, "id = ? AND owner = ?", (run_id, owner))
        if not found:
            raise RunNotFound("not found")
        return found[0]

    def get_shared(self, token: str) -> RunInfo:
        """The run a share link names, read-only; :class:`RunNotFound` for a wrong or withdrawn link."""
        if not isinstance(token, str) or not re.match(r"^[A-Za-z0-9_-]{16,64}$", token):
            raise RunNotFound("not found")
        with self._db() as conn:
            found = self._select(conn, "share = ?", (token,))
        if not found:
            raise RunNotFound("not found")
        return found[0]

    def _run(self, run_id: str) -> RunInfo:
        """A run by id, for the workers (no owner check: they train what the queue gives them)."""
        with self._db() as conn:
            found = self._select(conn, "id = ?", (run_id,))
        if not found:
            raise RunNotFound(f"run {run_id} is not in the store (deleted?)")
        return found[0]

    def history(self, run: RunInfo) -> list[dict[str, Any]]:
        """The run's per-epoch metrics dicts, in order (as ``ann.train`` yielded them)."""
        with self._db() as conn:
            rows = conn.execute("SELECT metrics FROM epochs WHERE run_id = ? ORDER BY epoch", (run.id,)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def events(self, run: RunInfo) -> list[dict[str, Any]]:
        """Changes made while the run trained: ``{"at": epochs (float), "kind": "learning_rate", "value"}``."""
        with self._db() as conn:
            rows = conn.execute("SELECT at, kind, value, time FROM events WHERE run_id = ? ORDER BY at, time",
                                (run.id,)).fetchall()
        return [dict(row) for row in rows]

    def points(self, run: RunInfo) -> list[dict[str, Any]]:
        """The run's live points in order (see :mod:`ann.live_points`): ``samples``, ``epoch``, ``train_loss``,
        ``train_accuracy``, ``slice_accuracy``. Those of its whole epochs, and while it is queued, training or
        paused those of the epoch in progress (the points of an epoch that is not kept are not shown, like
        the epoch)."""
        last = run.epochs_done + (1 if run.active else 0)
        with self._db() as conn:
            rows = conn.execute(f"SELECT {', '.join(POINT_COLUMNS)} FROM points WHERE run_id = ? AND epoch <= ?"
                                " ORDER BY samples", (run.id, last)).fetchall()
        return [dict(row) for row in rows]

    def live_view(self, run: RunInfo) -> LiveView | None:
        """The network at the run's latest reported live point: its answers to the fixed digits and a few
        first-layer nodes' weights (None before the first point)."""
        with self._db() as conn:
            row = conn.execute("SELECT samples, labels, answers, shares, digits, weights, nodes FROM live"
                               " WHERE run_id = ?", (run.id,)).fetchone()
        if row is None:
            return None
        labels = tuple(json.loads(row["labels"]))
        return LiveView(samples=int(row["samples"]), labels=labels, answers=tuple(json.loads(row["answers"])),
                        shares=tuple(json.loads(row["shares"])),
                        digits=np.frombuffer(row["digits"], np.uint8).reshape(len(labels), -1),
                        weights=np.frombuffer(row["weights"], np.float16).reshape(int(row["nodes"]), -1))

    def workspace_exists(self, workspace: str) -> bool:
        try:
            owner = owner_of(workspace)
        except RunNotFound:
            return False
        with self._db() as conn:
            return conn.execute("SELECT 1 FROM runs WHERE owner = ? LIMIT 1", (owner,)).fetchone() is not None

    def queue_position(self, run: RunInfo) -> int | None:
        """How many runs will start before this queued one (None if it is not queued).

        The queue is fair between workspaces (see :func:`fair_order`): a workspace's second queued run waits
        behind every other workspace's next one.
        """
        if run.status != RunStatus.QUEUED:
            return None
        with self._db() as conn:
            queued = conn.execute("SELECT id, owner, queued FROM runs WHERE status = ? ORDER BY queued, id",
                                  (RunStatus.QUEUED,)).fetchall()
            last_claimed = dict(conn.execute(
                "SELECT owner, MAX(claimed) FROM runs WHERE claimed IS NOT NULL GROUP BY owner").fetchall())
        order = [row["id"] for row in fair_order(queued, last_claimed)]
        return order.index(run.id) if run.id in order else None

    def counts(self) -> dict[str, int]:
        """How many runs there are in each status, over all workspaces (for the service and benchmarks)."""
        with self._db() as conn:
            return dict(conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
