"""The run store: every training run, its per-epoch metrics and its checkpoints, in a SQLite database on disk.

A run is a job: the dashboard's Start (or ``python -m ann train --save-run``) writes it here as *queued*; a
worker process (:mod:`ann.jobs`) claims it, trains it and writes as it goes; pages only read. Nothing lives
only in memory, so a reload, another page, or a restart of the server loses nothing but, at worst, the epoch
in progress.

The runs folder (``runs/`` in the project, or ``$ANN_RUNS_DIR``)::

    runs.db                  SQLite in WAL mode: tables runs, epochs, events
    <run id>/run.json        what was asked for (owner, configuration, ...), written when it is submitted
    <run id>/resume.npz      the end of the last whole epoch, exactly: weights, biases, momentum buffers,
                             the random generator's state, the history; Continue starts from here
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
(``own-<hash>``), which the workspace keeps in ``datasets/<owner>/<key>/`` (``ann.own_data.DatasetStore``):
private like its runs, read by the workers from there, and covered by the same housekeeping (kept while a run
uses it; removed after :attr:`Limits.max_age_days` unused; at most :attr:`Limits.max_datasets` a workspace).
Each run records its dataset's key, title and class names (``dataset_info``), so its model files say what
they were trained on even after the data is gone.

Bad files. A database that SQLite cannot read is moved aside (``runs.db.corrupt-<time>``) and a new one is
built from the run folders (``run.json`` + ``resume.npz``), so the runs survive it; a damaged checkpoint is
moved aside (``resume.npz.corrupt-<time>``) and named in the run's message; the store always opens.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ann.config import ConfigError, NetworkConfig, TrainConfig, configs_from_dict, configs_to_dict
from ann.datasets import MNIST_TAG, Dataset, DatasetTag, tag_for_key
from ann.files import atomic_write, atomic_write_bytes
from ann.model_io import jsonable
from ann.own_data import DatasetStore, OwnDataError

if TYPE_CHECKING:  # the network brings SciPy; listing runs needs only NumPy and sqlite3
    from ann.network import Network

SCHEMA_VERSION = 1
ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT_FORMAT = "ann-explorer-checkpoint"
WORKSPACE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")

QUEUED, RUNNING, PAUSED = "queued", "running", "paused"
FINISHED, STOPPED, INTERRUPTED, FAILED = "finished", "stopped", "interrupted", "failed"
ACTIVE_STATUSES = (QUEUED, RUNNING, PAUSED)  # a run in one of these holds a place in the queue or a worker
ENDED_STATUSES = (FINISHED, STOPPED, INTERRUPTED, FAILED)
STATUS_TEXT = {
    QUEUED: "queued", RUNNING: "training", PAUSED: "paused", FINISHED: "finished", STOPPED: "stopped",
    INTERRUPTED: "interrupted", FAILED: "failed",
}


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


def default_runs_dir() -> Path:
    """``$ANN_RUNS_DIR`` if set, else ``runs/`` in the project."""
    return Path(os.environ.get("ANN_RUNS_DIR") or ROOT / "runs")


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


def _dumps(value: Any) -> str:
    return json.dumps(jsonable(value))


# --------------------------------------------------------------------------- what a run is


@dataclass(frozen=True)
class RunInfo:
    """One row of the store: a run as the pages see it (a snapshot; read it again for news)."""

    id: str
    number: int
    status: str
    network_config: NetworkConfig
    train_config: TrainConfig  # train_config.epochs is the number of epochs the run is to reach
    preset: str | None
    records: int
    dataset: str
    source: str  # "app" or "cli"
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

    @property
    def name(self) -> str:
        return f"Run {self.number}"

    @property
    def dataset_tag(self) -> DatasetTag:
        """What the run trains on: the dataset's key, title and class names."""
        return DatasetTag(self.dataset, self.dataset_title, tuple(self.class_names))

    @property
    def target_epochs(self) -> int:
        return self.train_config.epochs

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def held_by_worker(self) -> bool:
        """Training, or paused in the middle of an epoch with its worker waiting."""
        return self.status in (RUNNING, PAUSED) and self.worker is not None

    @property
    def status_text(self) -> str:
        if self.status == PAUSED and self.worker is None:
            return "paused (between epochs)"
        return STATUS_TEXT.get(self.status, self.status)

    @property
    def can_continue(self) -> bool:
        return self.status in ENDED_STATUSES

    @property
    def has_model(self) -> bool:
        return self.epochs_done >= 1

    def seconds_left(self) -> float | None:
        """Training time left, from the speed so far (None until there is a speed to go by)."""
        if self.status not in (RUNNING, PAUSED):
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
        return {"trained_by": "ANN Explorer Train page" if self.source == "app" else "python -m ann train",
                "preset": self.preset, "train_records": self.records, "test_accuracy": self.test_accuracy,
                "train_seconds": self.train_seconds, "stopped": self.status == STOPPED, "run": self.name,
                "dataset": self.dataset}


_COLUMNS = ("id", "owner", "number", "status", "config", "preset", "records", "dataset", "source",
            "learning_rate", "epochs_done", "created", "queued", "started", "ended", "heartbeat",
            "progress_done", "progress_total", "epoch_seconds", "train_seconds", "test_accuracy",
            "best_accuracy", "message", "share", "control", "worker", "disk_bytes", "dataset_info")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    preset TEXT,
    records INTEGER NOT NULL,
    dataset TEXT NOT NULL DEFAULT 'mnist',
    source TEXT NOT NULL DEFAULT 'app',
    learning_rate REAL NOT NULL,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    queued REAL,
    started REAL,
    claimed REAL,
    ended REAL,
    heartbeat REAL,
    progress_done INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    epoch_seconds REAL NOT NULL DEFAULT 0,
    train_seconds REAL NOT NULL DEFAULT 0,
    test_accuracy REAL,
    best_accuracy REAL,
    message TEXT,
    share TEXT UNIQUE,
    control TEXT NOT NULL DEFAULT '',
    worker TEXT,
    disk_bytes INTEGER NOT NULL DEFAULT 0,
    dataset_info TEXT
);
CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner, number);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, queued);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    value REAL,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id, at);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
"""


def _row_to_run(row: sqlite3.Row) -> RunInfo:
    values = dict(row)
    config = json.loads(values.pop("config"))
    network_config, train_config = configs_from_dict(config)
    values.pop("owner")
    info = values.pop("dataset_info", None)
    stored = json.loads(info) if info else (tag_for_key(values["dataset"]) or MNIST_TAG).to_json()
    tag = DatasetTag.from_json({**stored, "key": values["dataset"]}, network_config.output_nodes)
    return RunInfo(network_config=network_config, train_config=train_config, dataset_title=tag.title,
                   class_names=tag.class_names, **values)


def this_worker() -> str:
    """``host:pid`` of this process, as recorded on the runs it trains."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is dead for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


# --------------------------------------------------------------------------- the store


class RunStore:
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

    def __init__(self, root: str | os.PathLike | None = None, limits: Limits | None = None) -> None:
        self.root = Path(root) if root is not None else default_runs_dir()
        self.limits = limits or Limits.from_environment()
        self.db_path = self.root / "runs.db"
        self.notices: list[str] = []  # what went wrong at opening (a corrupt database), for the pages
        # Idle connections, reused: the dashboard reads the store several times in every script run of every
        # session (a classroom's live views poll it), and opening a connection (the file, the schema, the
        # pragmas) cost more than the query. One process's pool only: a forked child opens its own.
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        self._idle_pid = os.getpid()
        self.root.mkdir(parents=True, exist_ok=True)
        self._open()

    # --- the database ------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False: a pooled connection serves one thread at a time, but not always the same one
        conn = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
        return conn

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; with ``write`` a transaction that takes the write lock at once (BEGIN IMMEDIATE),
        so a read-then-write (a claim) cannot interleave with another writer."""
        conn = self._take_connection()
        clean = False
        try:
            if write:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            else:
                yield conn
            clean = not conn.in_transaction
        finally:
            self._give_back(conn, clean)

    _MAX_IDLE = 4  # connections kept open between uses (more threads at once simply open more)

    def _take_connection(self) -> sqlite3.Connection:
        with self._idle_lock:
            if self._idle_pid != os.getpid():  # a forked child: the parent's connections are not ours to use
                self._idle, self._idle_pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _give_back(self, conn: sqlite3.Connection, clean: bool) -> None:
        """Keep ``conn`` for the next use if it ended cleanly (no open transaction, no error), else close it."""
        if clean:
            with self._idle_lock:
                if self._idle_pid == os.getpid() and len(self._idle) < self._MAX_IDLE:
                    self._idle.append(conn)
                    return
        conn.close()

    def _close_idle(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _open(self) -> None:
        try:
            self._create_schema()
            with self._db() as conn:
                result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {result}")
        except sqlite3.DatabaseError as exc:
            self._close_idle()  # none may go on reading the file that is moved aside
            moved = self._move_aside_database()
            self._create_schema()
            recovered = self._rebuild_from_folders()
            self.notices.append(
                f"The run store's database {self.db_path} could not be read ({exc}); it was moved to "
                f"{moved.name} and a new one was built from the run folders ({recovered} run(s) recovered).")

    def _create_schema(self) -> None:
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            if "dataset_info" not in columns:  # a store made before runs recorded their dataset's classes
                try:
                    conn.execute("ALTER TABLE runs ADD COLUMN dataset_info TEXT")
                except sqlite3.OperationalError as exc:
                    if "duplicate column" not in str(exc):  # another process added it first: fine
                        raise
        finally:
            conn.close()

    def _move_aside_database(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.db_path.with_name(f"{self.db_path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{self.db_path}{suffix}")
            if path.exists():
                path.replace(Path(f"{target}{suffix}"))
        return target

    def _rebuild_from_folders(self) -> int:
        """Re-insert every run whose folder still has its ``run.json`` (and, if trained, ``resume.npz``)."""
        recovered = 0
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and RUN_ID_PATTERN.match(p.name)):
            try:
                static = json.loads((folder / "run.json").read_text())
                history: list[dict[str, Any]] = []
                events: list[dict[str, Any]] = []
                learning_rate = float(static["config"]["learning_rate"])
                if (folder / "resume.npz").exists():
                    meta = _read_checkpoint_meta(folder / "resume.npz")
                    history, events = list(meta["history"]), list(meta.get("events") or [])
                    learning_rate = float(meta.get("learning_rate", learning_rate))
                done = len(history)
                status = FINISHED if done >= int(static["config"]["epochs"]) else INTERRUPTED
                accuracies = [e.get("test_accuracy") for e in history if e.get("test_accuracy") is not None]
                with self._db(write=True) as conn:
                    conn.execute(
                        "INSERT OR IGNORE INTO runs (id, owner, number, status, config, preset, records, dataset,"
                        " source, learning_rate, epochs_done, created, ended, train_seconds, test_accuracy,"
                        " best_accuracy, message, share, disk_bytes, dataset_info)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (folder.name, static["owner"], int(static["number"]), status, _dumps(static["config"]),
                         static.get("preset"), int(static["records"]), static.get("dataset", "mnist"),
                         static.get("source", "app"), learning_rate, done, float(static["created"]),
                         time.time(), float(sum(e.get("seconds") or 0 for e in history)),
                         accuracies[-1] if accuracies else None, max(accuracies) if accuracies else None,
                         "Recovered from its folder after the database was damaged.", static.get("share"),
                         _folder_bytes(folder),
                         _dumps(static["dataset_info"]) if static.get("dataset_info") else None))
                    conn.executemany("INSERT OR IGNORE INTO epochs (run_id, epoch, metrics) VALUES (?,?,?)",
                                     [(folder.name, int(e["epoch"]), _dumps(e)) for e in history])
                    conn.executemany("INSERT INTO events (run_id, at, kind, value, time) VALUES (?,?,?,?,?)",
                                     [(folder.name, float(e["at"]), str(e["kind"]), e.get("value"),
                                       float(e.get("time") or 0)) for e in events])
                recovered += 1
            except (OSError, ValueError, KeyError, TypeError, CheckpointError, ConfigError, sqlite3.Error):
                continue  # a folder we cannot make sense of is left as it is, for a person to look at
        return recovered

    # --- reading -----------------------------------------------------------------------------------------

    def _select(self, conn: sqlite3.Connection, where: str, args: tuple) -> list[RunInfo]:
        rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE {where}", args).fetchall()
        runs = []
        for row in rows:
            try:
                runs.append(_row_to_run(row))
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

    def workspace_exists(self, workspace: str) -> bool:
        try:
            owner = owner_of(workspace)
        except RunNotFound:
            return False
        with self._db() as conn:
            return conn.execute("SELECT 1 FROM runs WHERE owner = ? LIMIT 1", (owner,)).fetchone() is not None

    def queue_position(self, run: RunInfo) -> int | None:
        """How many runs will start before this queued one (None if it is not queued).

        The queue is fair between workspaces (see :func:`_fair_order`): a workspace's second queued run waits
        behind every other workspace's next one.
        """
        if run.status != QUEUED:
            return None
        with self._db() as conn:
            queued = conn.execute("SELECT id, owner, queued FROM runs WHERE status = ? ORDER BY queued, id",
                                  (QUEUED,)).fetchall()
            last_claimed = dict(conn.execute(
                "SELECT owner, MAX(claimed) FROM runs WHERE claimed IS NOT NULL GROUP BY owner").fetchall())
        order = [row["id"] for row in _fair_order(queued, last_claimed)]
        return order.index(run.id) if run.id in order else None

    def counts(self) -> dict[str, int]:
        """How many runs there are in each status, over all workspaces (for the service and benchmarks)."""
        with self._db() as conn:
            return dict(conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())

    # --- submitting and controlling (a visitor's requests) ------------------------------------------------

    def submit(self, workspace: str, network_config: NetworkConfig, train_config: TrainConfig, *,
               preset: str | None = None, records: int, dataset: str | DatasetTag = "mnist", source: str = "app",
               status: str = QUEUED, worker: str | None = None) -> RunInfo:
        """A new run, queued (or, for the command line training it itself, already running).

        Parameters
        ----------
        dataset : str or DatasetTag
            What it trains on: a named dataset's key, or the tag of a dataset the workspace keeps here
            (:meth:`save_dataset`). The network must have one output per class.

        Raises
        ------
        RunLimitError
            The workspace already has :attr:`Limits.max_active` runs queued, training or paused.
        RunStateError
            The dataset is not known here (or not this workspace's), or does not fit the network.
        """
        owner = owner_of(workspace)
        key = dataset.key if isinstance(dataset, DatasetTag) else dataset
        if isinstance(key, str) and key.startswith("own-"):
            try:
                tag = self.datasets.open(owner, key).tag  # this workspace's, and whole
            except OwnDataError as exc:
                raise RunStateError(str(exc)) from None
            self.datasets.touch(owner, key)
        else:
            tag = tag_for_key(key)
            if tag is None:
                raise RunStateError(f"dataset {key!r} is not known here: name mnist, fashion or kmnist, or upload "
                                    "your own data first")
        if network_config.output_nodes != tag.n_classes:
            raise RunStateError(f"the network has {network_config.output_nodes} outputs, but {tag.title} has "
                                f"{tag.n_classes} classes: it needs one output per class")
        if status == QUEUED:
            self._check_active_limit(owner)  # before housekeeping: a refused run must not cost an old one
        self.housekeeping(workspace, making_room=True)
        now = time.time()
        run_id = secrets.token_hex(8)
        config = configs_to_dict(network_config, train_config)
        with self._db(write=True) as conn:
            if status == QUEUED:
                self._check_active_limit(owner, conn)
            number = conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE owner = ?",
                                  (owner,)).fetchone()[0]
            conn.execute(
                "INSERT INTO runs (id, owner, number, status, config, preset, records, dataset, source,"
                " learning_rate, created, queued, started, heartbeat, worker, dataset_info)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, owner, number, status, _dumps(config), preset, int(records), tag.key, source,
                 float(train_config.learning_rate), now, now, now if status == RUNNING else None,
                 now if status == RUNNING else None, worker, _dumps(tag.to_json())))
        folder = self.folder(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        self._write_static(run_id, {"id": run_id, "owner": owner, "number": number, "config": config,
                                    "preset": preset, "records": int(records), "dataset": tag.key,
                                    "dataset_info": tag.to_json(),
                                    "source": source, "created": now, "share": None})
        return self._run(run_id)

    def _check_active_limit(self, owner: str, conn: sqlite3.Connection | None = None) -> None:
        if conn is None:
            with self._db() as conn:
                return self._check_active_limit(owner, conn)
        active = conn.execute(f"SELECT COUNT(*) FROM runs WHERE owner = ? AND status IN "
                              f"({','.join('?' * len(ACTIVE_STATUSES))})", (owner, *ACTIVE_STATUSES)).fetchone()[0]
        if active >= self.limits.max_active:
            raise RunLimitError(
                f"You already have {active} runs waiting or training, the most one visitor may have on this "
                "server at once. Wait for one to finish, or stop one, then try again.")

    def _write_static(self, run_id: str, static: dict[str, Any]) -> None:
        atomic_write_bytes(self.folder(run_id) / "run.json", _dumps(static).encode())

    def _update_static(self, run_id: str, **changes: Any) -> None:
        path = self.folder(run_id) / "run.json"
        try:
            static = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        static.update(changes)
        self._write_static(run_id, static)

    def _control(self, workspace: str, run_id: str, allowed: tuple[str, ...], action: str,
                 sql: str, args: tuple) -> RunInfo:
        run = self.get_run(workspace, run_id)
        if run.status not in allowed:
            raise RunStateError(f"{run.name} is {run.status_text}: it cannot be {action} now.")
        with self._db(write=True) as conn:
            conn.execute(sql + " WHERE id = ? AND status IN (" + ",".join("?" * len(allowed)) + ")",
                         (*args, run_id, *allowed))
        return self._run(run_id)

    def pause(self, workspace: str, run_id: str) -> RunInfo:
        """Ask the worker to pause between two training steps (it answers within a second); a queued run
        simply waits, paused, until it is resumed."""
        run = self.get_run(workspace, run_id)
        if run.status == QUEUED:
            return self._control(workspace, run_id, (QUEUED,), "paused",
                                 "UPDATE runs SET status = 'paused', control = ''", ())
        return self._control(workspace, run_id, (RUNNING, PAUSED), "paused", "UPDATE runs SET control = 'pause'", ())

    def resume(self, workspace: str, run_id: str) -> RunInfo:
        """Let a paused run go on: at once if its worker is waiting, else back into the queue."""
        run = self.get_run(workspace, run_id)
        if run.status == PAUSED and run.worker is None:
            return self._control(workspace, run_id, (PAUSED,), "resumed",
                                 "UPDATE runs SET status = 'queued', control = '', queued = ?", (time.time(),))
        return self._control(workspace, run_id, (RUNNING, PAUSED), "resumed", "UPDATE runs SET control = ''", ())

    def stop(self, workspace: str, run_id: str) -> RunInfo:
        """Stop a run: its finished epochs are kept (the epoch in progress is not). A run that has not
        started yet, or is parked between epochs, stops at once."""
        run = self.get_run(workspace, run_id)
        if run.status == QUEUED or (run.status == PAUSED and run.worker is None):
            return self._control(workspace, run_id, (QUEUED, PAUSED), "stopped",
                                 "UPDATE runs SET status = 'stopped', control = '', ended = ?, worker = NULL",
                                 (time.time(),))
        return self._control(workspace, run_id, (RUNNING, PAUSED), "stopped", "UPDATE runs SET control = 'stop'", ())

    def set_learning_rate(self, workspace: str, run_id: str, learning_rate: float) -> RunInfo:
        """Change the run's learning rate; the worker takes it at its next chunk and records when."""
        TrainConfig(learning_rate=float(learning_rate))  # ConfigError names a value out of range
        return self._control(workspace, run_id, ACTIVE_STATUSES, "given a new learning rate",
                             "UPDATE runs SET learning_rate = ?", (float(learning_rate),))

    def continue_run(self, workspace: str, run_id: str, more_epochs: int) -> RunInfo:
        """Queue ``more_epochs`` more epochs of an ended run, from the end of its last whole epoch: the same
        run, its curves continuing, its random state carried over."""
        if not isinstance(more_epochs, (int, np.integer)) or not 1 <= int(more_epochs) <= 1000:
            raise RunStateError(f"more_epochs={more_epochs!r}: continue by 1 to 1000 epochs")
        run = self.get_run(workspace, run_id)
        if run.status not in ENDED_STATUSES:
            raise RunStateError(f"{run.name} is {run.status_text}: only a finished, stopped, interrupted or "
                                "failed run can be continued.")
        owner = owner_of(workspace)
        with self._db(write=True) as conn:
            self._check_active_limit(owner, conn)
            config = configs_to_dict(run.network_config, replace(run.train_config,
                                                                 epochs=run.epochs_done + int(more_epochs)))
            conn.execute("UPDATE runs SET status = 'queued', config = ?, queued = ?, ended = NULL, control = '',"
                         " message = NULL, progress_done = 0, progress_total = 0, epoch_seconds = 0"
                         " WHERE id = ?", (_dumps(config), time.time(), run_id))
        self._update_static(run_id, config=config)
        return self._run(run_id)

    def share(self, workspace: str, run_id: str) -> str:
        """The run's share token (made on first use): a read-only link for anyone who has it."""
        run = self.get_run(workspace, run_id)
        if run.share:
            return run.share
        token = secrets.token_urlsafe(18)
        with self._db(write=True) as conn:
            conn.execute("UPDATE runs SET share = ? WHERE id = ?", (token, run_id))
        self._update_static(run_id, share=token)
        return token

    def unshare(self, workspace: str, run_id: str) -> None:
        """Withdraw the share link: it says "not found" from now on."""
        self.get_run(workspace, run_id)
        with self._db(write=True) as conn:
            conn.execute("UPDATE runs SET share = NULL WHERE id = ?", (run_id,))
        self._update_static(run_id, share=None)

    def delete(self, workspace: str, run_id: str) -> None:
        """Remove a run and its checkpoints. A run that is training is asked to stop first."""
        run = self.get_run(workspace, run_id)
        if run.held_by_worker:
            raise RunStateError(f"{run.name} is {run.status_text}: stop it first, then delete it.")
        self._remove(run_id)

    def _remove(self, run_id: str) -> None:
        with self._db(write=True) as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.folder(run_id), ignore_errors=True)

    # --- housekeeping ------------------------------------------------------------------------------------

    def removal_preview(self, workspace: str, now: float | None = None) -> list[tuple[RunInfo, str]]:
        """What housekeeping removes next, and why: the runs a new submission would push out (over the
        run or disk quota), and the runs that pass the age limit within the next day."""
        now = time.time() if now is None else now
        runs = self.list_runs(workspace)
        ended = sorted((r for r in runs if r.status in ENDED_STATUSES), key=lambda r: (r.ended or r.created))
        out: list[tuple[RunInfo, str]] = []
        chosen: set[str] = set()
        limits = self.limits
        excess = len(runs) + 1 - limits.max_runs  # one more run is about to be added
        for run in ended[:max(excess, 0)]:
            out.append((run, f"a workspace keeps at most {limits.max_runs} runs"))
            chosen.add(run.id)
        used = sum(r.disk_bytes for r in runs)
        for run in ended:
            if used <= limits.max_megabytes * 1e6:
                break
            if run.id not in chosen:
                out.append((run, f"a workspace keeps at most {limits.max_megabytes:g} MB of checkpoints"))
                chosen.add(run.id)
            used -= run.disk_bytes
        horizon = now + 86_400 - limits.max_age_days * 86_400
        for run in ended:
            if run.id not in chosen and (run.ended or run.created) < horizon:
                out.append((run, f"runs are kept {limits.max_age_days:g} days after they end"))
        return out

    def housekeeping(self, workspace: str | None = None, making_room: bool = False,
                     now: float | None = None) -> list[str]:
        """Remove what the limits say must go: ended runs past the age limit (every workspace when
        ``workspace`` is None, and then the own datasets that no run uses and that were unused as long), and
        for ``workspace`` its oldest ended runs beyond the run and disk quotas (``making_room``: leave room for
        one more run). Returns the removed runs' ids."""
        now = time.time() if now is None else now
        limits = self.limits
        removed: list[str] = []
        cutoff = now - limits.max_age_days * 86_400
        with self._db() as conn:
            if workspace is None:
                rows = conn.execute(f"SELECT id FROM runs WHERE status IN ({','.join('?' * len(ENDED_STATUSES))})"
                                    " AND COALESCE(ended, created) < ?", (*ENDED_STATUSES, cutoff)).fetchall()
            else:
                rows = conn.execute(f"SELECT id FROM runs WHERE owner = ? AND status IN "
                                    f"({','.join('?' * len(ENDED_STATUSES))}) AND COALESCE(ended, created) < ?",
                                    (owner_of(workspace), *ENDED_STATUSES, cutoff)).fetchall()
        for row in rows:
            self._remove(row["id"])
            removed.append(row["id"])
        if workspace is not None:
            runs = self.list_runs(workspace)
            ended = sorted((r for r in runs if r.status in ENDED_STATUSES), key=lambda r: (r.ended or r.created))
            count, used = len(runs), sum(r.disk_bytes for r in runs)
            room = 1 if making_room else 0
            for run in ended:
                if count + room <= limits.max_runs and used <= limits.max_megabytes * 1e6:
                    break
                self._remove(run.id)
                removed.append(run.id)
                count -= 1
                used -= run.disk_bytes
        if workspace is None:
            self.datasets.housekeeping(self._datasets_in_use(), now)
        return removed

    # --- visitors' own datasets --------------------------------------------------------------------------

    @property
    def datasets(self) -> DatasetStore:
        """The workspaces' own datasets, in ``datasets/`` beside the runs (see ``ann.own_data``)."""
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
        returns its tag, to :meth:`submit` runs with. ``ann.own_data.DatasetLimitError`` when the workspace
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

    # --- the worker's side -------------------------------------------------------------------------------

    def claim(self, worker: str | None = None) -> RunInfo | None:
        """Take the next queued run for a worker, fairly (:func:`_fair_order`). Atomic: two workers never
        take the same run."""
        worker = worker or this_worker()
        now = time.time()
        with self._db(write=True) as conn:
            queued = conn.execute("SELECT id, owner, queued FROM runs WHERE status = ? ORDER BY queued, id",
                                  (QUEUED,)).fetchall()
            if not queued:
                return None
            last_claimed = dict(conn.execute(
                "SELECT owner, MAX(claimed) FROM runs WHERE claimed IS NOT NULL GROUP BY owner").fetchall())
            pick = _fair_order(queued, last_claimed)[0]
            conn.execute("UPDATE runs SET status = 'running', worker = ?, started = COALESCE(started, ?),"
                         " claimed = ?, heartbeat = ?, control = '', progress_done = 0, progress_total = 0,"
                         " epoch_seconds = 0 WHERE id = ?", (worker, now, now, now, pick["id"]))
        return self._run(pick["id"])

    def poll(self, run_id: str) -> tuple[str, float, str] | None:
        """The owner's requests for a run being trained: (control, learning rate, status), or None when the
        run was deleted."""
        with self._db() as conn:
            row = conn.execute("SELECT control, learning_rate, status FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else (row["control"], float(row["learning_rate"]), row["status"])

    def report(self, run_id: str, *, status: str | None = None, progress_done: int | None = None,
               progress_total: int | None = None, epoch_seconds: float | None = None) -> None:
        """The worker's heartbeat, with its progress (and a change between running and paused)."""
        sets, args = ["heartbeat = ?"], [time.time()]
        for column, value in (("status", status), ("progress_done", progress_done),
                              ("progress_total", progress_total), ("epoch_seconds", epoch_seconds)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value)
        with self._db(write=True) as conn:
            conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))

    def record_event(self, run_id: str, at: float, kind: str, value: float | None) -> None:
        with self._db(write=True) as conn:
            conn.execute("INSERT INTO events (run_id, at, kind, value, time) VALUES (?,?,?,?,?)",
                         (run_id, float(at), kind, value, time.time()))

    def record_epoch(self, run: RunInfo, metrics: dict[str, Any], network: Network,
                     rng: np.random.Generator, history: list[dict[str, Any]], learning_rate: float) -> None:
        """A finished epoch: its checkpoints first (atomic files), then its row. Killed in between, the
        checkpoint is ahead of the database, and :meth:`load_resume` brings the database up to it."""
        folder = self.folder(run.id)
        folder.mkdir(parents=True, exist_ok=True)
        events = self.events(run)
        write_model_snapshot(folder / f"epoch_{int(metrics['epoch']):04d}.npz", network, run, history)
        write_resume(folder / "resume.npz", network, rng, history, events, learning_rate, run)
        accuracies = [e["test_accuracy"] for e in history if e.get("test_accuracy") is not None]
        with self._db(write=True) as conn:
            conn.execute("INSERT OR REPLACE INTO epochs (run_id, epoch, metrics) VALUES (?,?,?)",
                         (run.id, int(metrics["epoch"]), _dumps(metrics)))
            conn.execute("UPDATE runs SET epochs_done = ?, train_seconds = ?, test_accuracy = ?, best_accuracy = ?,"
                         " progress_done = 0, epoch_seconds = 0, heartbeat = ?, disk_bytes = ? WHERE id = ?",
                         (len(history), float(sum(e["seconds"] for e in history)),
                          accuracies[-1] if accuracies else None, max(accuracies) if accuracies else None,
                          time.time(), _folder_bytes(folder), run.id))

    def end(self, run_id: str, status: str, message: str | None = None) -> None:
        """The worker is done with a run: finished, stopped, failed, interrupted, or parked while paused."""
        parked = status == PAUSED
        with self._db(write=True) as conn:
            conn.execute("UPDATE runs SET status = ?, worker = NULL, control = '', message = ?, ended = ?,"
                         " progress_done = 0, epoch_seconds = 0, heartbeat = ? WHERE id = ?",
                         (status, message, None if parked else time.time(), time.time(), run_id))

    def mark_orphans(self, stale_seconds: float = 60.0, now: float | None = None) -> list[str]:
        """Runs a worker was training when it died (a crash, ``kill -9``, a server restart) become
        *interrupted*: their worker process is gone (same host), or silent for ``stale_seconds``.
        Continue resumes them from their last whole epoch."""
        now = time.time() if now is None else now
        host = socket.gethostname()
        orphans = []
        with self._db() as conn:
            rows = conn.execute("SELECT id, worker, heartbeat FROM runs WHERE status IN (?, ?) AND worker IS NOT NULL",
                                (RUNNING, PAUSED)).fetchall()
        for row in rows:
            worker_host, _, pid = (row["worker"] or "").rpartition(":")
            dead = worker_host == host and pid.isdigit() and not _process_alive(int(pid))
            if dead or (row["heartbeat"] or 0) < now - stale_seconds:
                orphans.append(row["id"])
        for run_id in orphans:
            with self._db(write=True) as conn:
                conn.execute("UPDATE runs SET status = 'interrupted', worker = NULL, control = '', ended = ?,"
                             " message = ? WHERE id = ? AND status IN (?, ?)",
                             (now, "Interrupted: the process training it stopped (a server restart or crash). "
                              "Continue resumes it from its last whole epoch.", run_id, RUNNING, PAUSED))
        return orphans

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
                                 [(run.id, int(e["epoch"]), _dumps(e)) for e in history])
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
        from ann.model_io import ModelFileError, load_model

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
        from ann.model_io import model_to_bytes

        state = self.load_resume(run)
        return model_to_bytes(state["network"], run.train_config, state["history"], run.info(), run.dataset_tag)


def _fair_order(queued: list[sqlite3.Row], last_claimed: dict[str, float]) -> list[sqlite3.Row]:
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


# --------------------------------------------------------------------------- checkpoint files


def _folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.iterdir() if folder.exists() else ():
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


def write_model_snapshot(path: Path, network: Network, run: RunInfo, history: list[dict[str, Any]]) -> None:
    """An epoch's network as a model file (``ann.model_io``'s format) with float16 weights: half the disk,
    and for looking at the weights, maps and confusion matrices of an epoch, no visible difference."""
    from ann.model_io import FORMAT_NAME, FORMAT_VERSION

    net_cfg = asdict(network.config)
    net_cfg["hidden_nodes"] = list(network.config.hidden_nodes)
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "network": net_cfg,
            "train": asdict(run.train_config), "history": history,
            "info": run.info() | {"epoch": len(history), "stored_as": "float16"},
            "dataset": run.dataset_tag.to_json()}
    arrays = {f"weights_{i}": W.astype(np.float16) for i, W in enumerate(network.weights)}
    if network.biases is not None:
        arrays.update({f"biases_{i}": b.astype(np.float16) for i, b in enumerate(network.biases)})
    atomic_write(path, lambda stream: np.savez_compressed(stream, meta=np.array(_dumps(meta)), **arrays))


def write_resume(path: Path, network: Network, rng: np.random.Generator, history: list[dict[str, Any]],
                 events: list[dict[str, Any]], learning_rate: float, run: RunInfo) -> None:
    """Everything needed to continue exactly: weights, biases and momentum buffers in the network's own
    dtype, the random generator's state, the history so far (and the run's settings, for a rebuild)."""
    meta = {"format": CHECKPOINT_FORMAT, "format_version": 1, "run": run.id, "epoch": len(history),
            "network": configs_to_dict(run.network_config, run.train_config), "history": history,
            "events": events, "learning_rate": learning_rate,
            "rng": rng.bit_generator.state, "rng_kind": type(rng.bit_generator).__name__,
            "samples_seen": int(history[-1]["samples_seen"]) if history else 0,
            "momentum_layers": 0 if network._velocity is None else len(network._velocity)}
    arrays: dict[str, np.ndarray] = {f"weights_{i}": W for i, W in enumerate(network.weights)}
    if network.biases is not None:
        arrays.update({f"biases_{i}": b for i, b in enumerate(network.biases)})
    for i, v in enumerate(network._velocity or []):
        arrays[f"velocity_{i}"] = v
    # The generator's state holds 128-bit integers: JSON keeps them exactly (Python ints), unlike npz.
    atomic_write(path, lambda stream: np.savez(stream, meta=np.array(json.dumps(jsonable(meta))), **arrays))


def _read_checkpoint_meta(path: Path) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path} is damaged ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of ANN Explorer")
    return meta


def read_resume(path: Path, network_config: NetworkConfig, network_only: bool = False) -> dict[str, Any]:
    """Read a ``resume.npz`` written by :func:`write_resume`, checking every array against the network's
    configuration. Raises :class:`CheckpointError` naming the file and the problem.

    ``network_only``: leave the momentum out (the network has none: it is for predicting, not for going on
    training). Its arrays are as large as the weights and are then never read: the dashboard's server reads a
    run's network this way, a third of the bytes of the whole state (the Best network: about 10 MB of 30
    MB held for a moment, 5 MB kept).
    """
    from ann.network import Network

    try:
        # one open file: an atomic replacement by a worker meanwhile leaves this reader on the old, whole file
        stream = open(path, "rb")  # noqa: SIM115 -- closed below, also when np.load fails
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing: the run has no checkpoint to start from") from None
    try:
        with stream, np.load(stream, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files
                      if not (network_only and key.startswith("velocity_"))}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path} is damaged ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of ANN Explorer")
    network = Network(network_config)
    try:
        for i, W in enumerate(network.weights):
            got = arrays[f"weights_{i}"]
            if got.shape != W.shape or got.dtype != W.dtype:
                raise CheckpointError(f"{path}: weights_{i} is {got.dtype}{got.shape}, the run's network needs "
                                      f"{W.dtype}{W.shape}")
            network.weights[i] = np.ascontiguousarray(got)
        if network.biases is not None:
            network.biases = [np.array(arrays[f"biases_{i}"], dtype=network.dtype)
                              for i in range(len(network.weights))]
        n_velocity = 0 if network_only else int(meta.get("momentum_layers") or 0)
        if n_velocity:
            network._velocity = [np.ascontiguousarray(arrays[f"velocity_{i}"]) for i in range(n_velocity)]
        rng = np.random.Generator(getattr(np.random, meta["rng_kind"])())
        rng.bit_generator.state = meta["rng"]
        history = list(meta["history"])
    except CheckpointError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path} is incomplete or does not fit the run ({exc!r})") from None
    return {"network": network, "rng": rng, "history": history, "samples_seen": int(meta.get("samples_seen", 0)),
            "learning_rate": float(meta.get("learning_rate", 0.0)), "events": list(meta.get("events") or [])}
