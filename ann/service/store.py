"""The run store: every training run, its per-epoch metrics and its checkpoints, in a SQLite database on disk.

A run is a job: the dashboard's Start (or ``python -m ann train --save-run``) writes it here as *queued*; a
worker process (:mod:`ann.service.worker`) claims it, trains it and writes as it goes; pages only read. Nothing lives
only in memory, so a reload, another page, or a restart of the server loses nothing but, at worst, the epoch
in progress.

The runs folder (``runs/`` in the project, or ``$ANN_RUNS_DIR``)::

    runs.db                  SQLite in WAL mode: tables runs, epochs, events, points (a run's live points,
                             50 an epoch), live (the network's answers at its latest point), and choices
                             (each workspace's active model and dataset: ann.service.choices)
    <run id>/run.json        what was asked for (owner, configuration, ...), written when it is submitted
    <run id>/resume.npz      the end of the last whole epoch, exactly: weights, biases, momentum buffers,
                             the random generator's state, the history (and the live points, for a
                             rebuild); Continue starts from here
    <run id>/epoch_0001.npz  every finished epoch's network as a model file (weights stored as float16,
                             for looking back: the epoch scrubber, the hidden layer's map)

Privacy. Every visitor's browser holds a private *workspace key* (a random token). The store never keeps
the key itself, only its SHA-256 (``owner``), and every call made for a visitor names the key: runs of
another workspace are "not found", exactly like runs that do not exist. A run is seen by others only
through its share token, read-only.

Housekeeping. A workspace keeps at most :attr:`Limits.max_runs` runs and :attr:`Limits.max_megabytes` of
checkpoints, and a run that ended more than :attr:`Limits.max_age_days` ago is removed; the oldest ended runs
go first, and :meth:`RunStore.removal_preview` tells the pages what goes next, before it happens.

Datasets. A run trains on a named dataset (``mnist``, ``fashion``, ``kmnist``) or on a visitor's own
(``own-<hash>``), which the workspace keeps in ``datasets/<owner>/<key>/`` (``ann.service.datasets.DatasetStore``):
private like its runs, read by the workers from there, and covered by the same housekeeping (kept while a run
uses it; removed after :attr:`Limits.max_age_days` unused; at most :attr:`Limits.max_datasets` a workspace).
Each run records its dataset's key, title and class names (``dataset_info``), so its model files say what
they were trained on even after the data is gone.

Bad files. A database that SQLite cannot read is moved aside (``runs.db.corrupt-<time>``) and a new one is
built from the run folders (``run.json`` + ``resume.npz``), so the runs survive it; a damaged checkpoint is
moved aside (``resume.npz.corrupt-<time>``) and named in the run's message; the store always opens.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ann.data.named import Dataset
from ann.dataset_tag import DatasetTag
from ann.model_io import ModelFileError, load_model, model_to_bytes
from ann.service.checkpoints import read_resume
from ann.service.choices import Choices
from ann.service.commands import Commands
from ann.service.datasets import DatasetStore
from ann.service.queue import WorkQueue
from ann.service.records import (
    ACTIVE_STATUSES,
    CheckpointError,
    RunInfo,
    RunNotFound,
    RunStateError,
    dumps_json,
    owner_of,
)

if TYPE_CHECKING:  # the network brings SciPy; listing runs needs only NumPy and sqlite3
    from ann.network import Network


class RunStore(Commands, WorkQueue, Choices):
    """The runs folder and its database. Cheap to create; safe to use from many threads and processes.

    Every method opens its own short connection (SQLite in WAL mode lets readers and one writer work at
    once; writers wait up to ``busy_timeout``), so one object can serve all the dashboard's sessions.

    Parameters
    ----------
    root : path, optional
        The runs folder (created if missing); default :func:`default_runs_dir`.
    limits : Limits, optional
        Per-workspace limits; default from the environment (:meth:`Limits.from_environment`).
    """


    # --- visitors' own datasets --------------------------------------------------------------------------

    @property
    def datasets(self) -> DatasetStore:
        """The workspaces' own datasets, in ``datasets/`` beside the runs (see ``ann.data.own``)."""
        return DatasetStore(self.root / "datasets", max_sets=self.limits.max_datasets,
                            max_megabytes=self.limits.max_dataset_megabytes, max_age_days=self.limits.max_age_days)

    def _datasets_in_use(self, owner: str | None = None) -> dict[str, set[str]]:
        """Own datasets that runs use, by owner: kept (a run may be continued, or its data looked at)."""
        with self._db() as conn:
            rows = conn.execute("SELECT DISTINCT owner, dataset FROM runs WHERE dataset LIKE 'own-%'"
                                + (" AND owner = ?" if owner else ""), (owner,) if owner else ()).fetchall()
        in_use: dict[str, set[str]] = {}
        for row in rows:
            in_use.setdefault(row["owner"], set()).add(row["dataset"])
        return in_use

    def save_dataset(self, workspace: str, dataset: Dataset) -> DatasetTag:
        """Keep a visitor's dataset on the server, privately in their workspace (where the workers read it);
        returns its tag, to :meth:`submit` runs with. ``ann.data.own.DatasetLimitError`` when the workspace
        keeps as many as it may and its runs use them all."""
        owner = owner_of(workspace)
        self.datasets.save(owner, dataset, self._datasets_in_use(owner).get(owner, set()))
        return dataset.tag

    def open_dataset(self, workspace: str, key: str) -> Dataset:
        """One of the workspace's own datasets, mapped read-only; ``OwnDataError`` when it is not here."""
        return self.datasets.open(owner_of(workspace), key)

    def list_datasets(self, workspace: str) -> list[dict[str, Any]]:
        """The workspace's own datasets (title, classes, counts, times), most recently used first."""
        try:
            return self.datasets.describe(owner_of(workspace))
        except RunNotFound:
            return []

    def delete_dataset(self, workspace: str, key: str) -> None:
        """Remove one of the workspace's datasets; refused while a run of it waits or trains on it."""
        owner = owner_of(workspace)
        with self._db() as conn:
            busy = conn.execute(f"SELECT number FROM runs WHERE owner = ? AND dataset = ? AND status IN "
                                f"({','.join('?' * len(ACTIVE_STATUSES))})",
                                (owner, key, *ACTIVE_STATUSES)).fetchone()
        if busy is not None:
            raise RunStateError(f"Run {busy['number']} is waiting or training on this dataset: stop it first")
        self.datasets.delete(owner, key)

    def run_dataset(self, run: RunInfo) -> Dataset:
        """The own dataset a run trains on, for its worker (no workspace key needed: the run names its owner).
        ``OwnDataError`` when it is no longer on the server."""
        with self._db() as conn:
            row = conn.execute("SELECT owner FROM runs WHERE id = ?", (run.id,)).fetchone()
        if row is None:
            raise RunNotFound(f"run {run.id} is not in the store (deleted?)")
        return self.datasets.open(row["owner"], run.dataset)

    def disk_used(self, workspace: str) -> int:
        return sum(run.disk_bytes for run in self.list_runs(workspace))

    # --- checkpoints -------------------------------------------------------------------------------------

    def folder(self, run_id: str) -> Path:
        return self.root / run_id

    def load_resume(self, run: RunInfo, network_only: bool = False) -> dict[str, Any]:
        """The state to continue ``run`` from: ``network`` (momentum included), ``rng``, ``history``,
        ``samples_seen``, ``learning_rate``; brings the database's epochs up to the checkpoint if a kill
        left the database behind it. ``network_only``: the network without its momentum, for predicting
        (:func:`read_resume`).

        Raises
        ------
        CheckpointError
            The file is damaged (moved aside, and named in the message) or does not fit the run.
        """
        path = self.folder(run.id) / "resume.npz"
        try:
            state = read_resume(path, run.network_config, network_only=network_only)
        except CheckpointError as exc:
            if path.exists():
                moved = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
                path.replace(moved)
                message = f"{exc} It was moved to {moved}."
            else:
                message = str(exc)
            raise CheckpointError(message) from None
        history = state["history"]
        if len(history) > run.epochs_done:  # killed after the checkpoint, before the database row
            with self._db(write=True) as conn:
                conn.executemany("INSERT OR REPLACE INTO epochs (run_id, epoch, metrics) VALUES (?,?,?)",
                                 [(run.id, int(e["epoch"]), dumps_json(e)) for e in history])
                accuracies = [e["test_accuracy"] for e in history if e.get("test_accuracy") is not None]
                conn.execute("UPDATE runs SET epochs_done = ?, train_seconds = ?, test_accuracy = ?,"
                             " best_accuracy = ? WHERE id = ?",
                             (len(history), float(sum(e["seconds"] for e in history)),
                              accuracies[-1] if accuracies else None, max(accuracies) if accuracies else None,
                              run.id))
        elif len(history) < run.epochs_done:
            raise CheckpointError(f"{path} holds {len(history)} epochs, but the run has {run.epochs_done}: "
                                  "the checkpoint is older than the run's record.")
        return state

    def load_network(self, run: RunInfo, epoch: int | None = None, snapshot: bool = False) -> Network:
        """The run's network after its last whole epoch (exact, from the checkpoint Continue starts from), or
        after ``epoch`` from that epoch's own snapshot (float16: for looking at, not for continuing).

        ``snapshot=True`` reads the snapshot for the last epoch too: it never changes, whereas the resume
        checkpoint moves on while a worker trains, and reading it may bring the database up to it (for
        pages that look at a run's epochs while it trains)."""
        if not snapshot and (epoch is None or epoch == run.epochs_done):
            return self.load_resume(run)["network"]
        epoch = run.epochs_done if epoch is None else epoch

        path = self.folder(run.id) / f"epoch_{int(epoch):04d}.npz"
        if not 1 <= int(epoch) <= run.epochs_done or not path.exists():
            raise CheckpointError(f"{run.name} has no checkpoint for epoch {epoch}")
        try:
            return load_model(path).network
        except ModelFileError as exc:
            raise CheckpointError(f"{run.name}'s checkpoint of epoch {epoch} is damaged: {exc}") from None

    def epoch_snapshots(self, run: RunInfo) -> list[int]:
        """The epochs whose snapshot is on disk, in order."""
        folder = self.folder(run.id)
        found = []
        for path in folder.glob("epoch_*.npz"):
            match = re.match(r"^epoch_(\d{4,})\.npz$", path.name)
            if match and int(match.group(1)) <= run.epochs_done:
                found.append(int(match.group(1)))
        return sorted(found)

    def model_bytes(self, run: RunInfo) -> bytes:
        """The run's network after its last whole epoch as a model file (for a download)."""

        state = self.load_resume(run)
        return model_to_bytes(state["network"], run.train_config, state["history"], run.info(), run.dataset_tag)
