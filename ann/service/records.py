"""What a run is: its record (:class:`RunInfo`), its statuses, the per-workspace limits, and the store's errors.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ann.config import NetworkConfig, TrainConfig
from ann.dataset_tag import MNIST_TAG, DatasetTag
from ann.model_io import jsonable
from ann.paths import PROJECT_ROOT

SCHEMA_VERSION = 1
CHECKPOINT_FORMAT = "ann-explorer-checkpoint"
WORKSPACE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")

class RunStatus(StrEnum):
    """Where a run is in its life; stored in the ``runs`` table's ``status`` column."""

    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # a worker trains it
    PAUSED = "paused"  # held by its owner (a worker may still hold it, or it waits in the queue)
    FINISHED = "finished"  # every epoch asked for is done
    STOPPED = "stopped"  # its owner stopped it; its last whole epoch is kept
    INTERRUPTED = "interrupted"  # its worker died (a crash, a restart); it can go on from its last whole epoch
    FAILED = "failed"  # training raised an error; the message says which

    @property
    def text(self) -> str:
        """The word a page shows ("training" for a running run)."""
        return "training" if self is RunStatus.RUNNING else self.value


class Control(StrEnum):
    """A request from a run's owner to the worker that holds it; stored in the ``control`` column."""

    NONE = ""
    PAUSE = "pause"
    STOP = "stop"


class Source(StrEnum):
    """Where a run was started; stored in the ``source`` column."""

    APP = "app"  # the dashboard's Train page
    CLI = "cli"  # python -m ann train --save-run


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED)  # holding a place in the queue or a worker
ENDED_STATUSES = (RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.INTERRUPTED, RunStatus.FAILED)


class RunNotFound(LookupError):
    """No such run in this workspace (or no such share link). Deliberately says nothing more."""


class RunStateError(ValueError):
    """The request does not fit the run's state (continue a run that is training, ...); says why."""


class RunLimitError(RunStateError):
    """A workspace already holds as many waiting or training runs as a visitor may."""


class CheckpointError(ValueError):
    """A checkpoint file is missing or damaged; the message names the file and what was done with it."""


# --------------------------------------------------------------------------- limits


def _env_number(name: str, default: float, low: float) -> float:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= low else default


@dataclass(frozen=True)
class Limits:
    """What one workspace may hold on a server; every value can be set by an environment variable."""

    max_active: int = 3  # runs queued, training or paused at once ($ANN_RUNS_MAX_ACTIVE)
    max_runs: int = 30  # runs kept; beyond, the oldest ended runs are removed ($ANN_RUNS_MAX_KEPT)
    max_megabytes: float = 500.0  # checkpoints kept, in MB ($ANN_RUNS_MAX_MB)
    max_age_days: float = 30.0  # an ended run is removed this long after it ended ($ANN_RUNS_MAX_AGE_DAYS)
    max_datasets: int = 5  # own datasets kept per workspace ($ANN_DATA_MAX_SETS)
    max_dataset_megabytes: float = 300.0  # own datasets kept per workspace, in MB ($ANN_DATA_MAX_MB)

    @classmethod
    def from_environment(cls) -> Limits:
        return cls(
            max_active=int(_env_number("ANN_RUNS_MAX_ACTIVE", cls.max_active, 1)),
            max_runs=int(_env_number("ANN_RUNS_MAX_KEPT", cls.max_runs, 1)),
            max_megabytes=_env_number("ANN_RUNS_MAX_MB", cls.max_megabytes, 1),
            max_age_days=_env_number("ANN_RUNS_MAX_AGE_DAYS", cls.max_age_days, 0.001),
            max_datasets=int(_env_number("ANN_DATA_MAX_SETS", cls.max_datasets, 1)),
            max_dataset_megabytes=_env_number("ANN_DATA_MAX_MB", cls.max_dataset_megabytes, 1),
        )


PRIVATE_FOLDER = 0o700  # the runs folder, its run folders and datasets/: the server's user only
PRIVATE_FILE = 0o600  # runs.db (and SQLite's -wal and -shm beside it)


def default_runs_dir() -> Path:
    """``$ANN_RUNS_DIR`` if set, else ``runs/`` in the project."""
    return Path(os.environ.get("ANN_RUNS_DIR") or PROJECT_ROOT / "runs")


def new_workspace_key() -> str:
    """A fresh private workspace key: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def is_workspace_key(text: Any) -> bool:
    return isinstance(text, str) and bool(WORKSPACE_PATTERN.match(text))


def owner_of(workspace: str) -> str:
    """The stored form of a workspace key: its SHA-256, so the database never holds the key itself."""
    if not is_workspace_key(workspace):
        raise RunNotFound("not found")
    return hashlib.sha256(workspace.encode()).hexdigest()[:32]


def dumps_json(value: Any) -> str:
    return json.dumps(jsonable(value))


# --------------------------------------------------------------------------- what a run is


@dataclass(frozen=True)
class RunInfo:
    """One row of the store: a run as the pages see it (a snapshot; read it again for news)."""

    id: str
    number: int
    status: RunStatus
    network_config: NetworkConfig
    train_config: TrainConfig  # train_config.epochs is the number of epochs the run is to reach
    preset: str | None
    records: int
    dataset: str
    source: Source
    learning_rate: float  # the base learning rate now in force (it can be changed while training)
    epochs_done: int
    created: float
    queued: float | None
    started: float | None
    ended: float | None
    heartbeat: float | None
    progress_done: int
    progress_total: int
    epoch_seconds: float  # training seconds so far in the epoch in progress
    train_seconds: float  # training seconds of the finished epochs
    test_accuracy: float | None
    best_accuracy: float | None
    message: str | None
    share: str | None
    control: str
    worker: str | None
    disk_bytes: int
    dataset_title: str = "MNIST"  # the dataset's name for people, and its class names (output i is class i)
    class_names: tuple[str, ...] = MNIST_TAG.class_names
    trained_on: str | None = None  # where it trained last: host:pid of a local worker, or a Dask worker's address

    @property
    def name(self) -> str:
        return f"Run {self.number}"

    @property
    def dataset_tag(self) -> DatasetTag:
        """What the run trains on: the dataset's key, title and class names."""
        return DatasetTag(self.dataset, self.dataset_title, tuple(self.class_names))

    @property
    def trained_where(self) -> str:
        """Where it trained last, for people: ``"Dask worker 10.0.0.5:40123"``, ``"host, process 4242"``, or ``""``."""
        where = self.trained_on or ""
        if where.endswith(" (dask)"):
            return f"Dask worker {where.removesuffix(' (dask)').removeprefix('tcp://')}"
        if where.endswith(" (dask scheduler)"):
            return f"Dask cluster {where.removesuffix(' (dask scheduler)').removeprefix('tcp://')}"
        host, _, pid = where.rpartition(":")
        return f"{host}, process {pid}" if host and pid.isdigit() else where

    @property
    def target_epochs(self) -> int:
        return self.train_config.epochs

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def held_by_worker(self) -> bool:
        """Training, or paused in the middle of an epoch with its worker waiting."""
        return self.status in (RunStatus.RUNNING, RunStatus.PAUSED) and self.worker is not None

    @property
    def status_text(self) -> str:
        if self.status == RunStatus.PAUSED and self.worker is None:
            return "paused (between epochs)"
        return RunStatus(self.status).text

    @property
    def can_continue(self) -> bool:
        return self.status in ENDED_STATUSES

    @property
    def has_model(self) -> bool:
        return self.epochs_done >= 1

    def seconds_left(self) -> float | None:
        """Training time left, from the speed so far (None until there is a speed to go by)."""
        if self.status not in (RunStatus.RUNNING, RunStatus.PAUSED):
            return None
        total_samples = self.progress_total or 0
        if self.epochs_done and self.train_seconds > 0:
            per_epoch = self.train_seconds / self.epochs_done
        elif self.progress_done and self.epoch_seconds > 0 and total_samples:
            per_epoch = self.epoch_seconds * total_samples / self.progress_done
        else:
            return None
        in_epoch = self.epoch_seconds if self.progress_done else 0.0
        remaining_epochs = max(self.target_epochs - self.epochs_done, 0)
        return max(per_epoch * remaining_epochs - in_epoch, 0.0)

    def info(self) -> dict[str, Any]:
        """The model file's ``info`` for this run, in the shape the command line writes."""
        return {"trained_by": "ANN Explorer Train page" if self.source == Source.APP else "python -m ann train",
                "preset": self.preset, "train_records": self.records, "test_accuracy": self.test_accuracy,
                "train_seconds": self.train_seconds, "stopped": self.status == RunStatus.STOPPED, "run": self.name,
                "dataset": self.dataset}
