"""The run store's SQLite database: schema, a small connection pool, and repair from the run folders.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ann.config import ConfigError, configs_from_dict
from ann.data.named import tag_for_key
from ann.dataset_tag import MNIST_TAG, DatasetTag
from ann.service.checkpoints import POINT_COLUMNS, folder_bytes, read_checkpoint_meta
from ann.service.records import (
    PRIVATE_FILE,
    PRIVATE_FOLDER,
    RUN_ID_PATTERN,
    SCHEMA_VERSION,
    CheckpointError,
    Limits,
    RunInfo,
    RunStatus,
    Source,
    default_runs_dir,
    dumps_json,
)

if TYPE_CHECKING:  # the network brings SciPy; listing runs needs only NumPy and sqlite3
    pass


COLUMNS = ("id", "owner", "number", "status", "config", "preset", "records", "dataset", "source",
            "learning_rate", "epochs_done", "created", "queued", "started", "ended", "heartbeat",
            "progress_done", "progress_total", "epoch_seconds", "train_seconds", "test_accuracy",
            "best_accuracy", "message", "share", "control", "worker", "disk_bytes", "dataset_info",
            "trained_on")

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
    dataset_info TEXT,
    trained_on TEXT
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
CREATE TABLE IF NOT EXISTS points (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    samples INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    train_loss REAL NOT NULL,
    train_accuracy REAL NOT NULL,
    slice_accuracy REAL,
    PRIMARY KEY (run_id, samples)
);
CREATE TABLE IF NOT EXISTS live (
    run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    samples INTEGER NOT NULL,
    labels TEXT NOT NULL,
    answers TEXT NOT NULL,
    shares TEXT NOT NULL,
    digits BLOB NOT NULL,
    weights BLOB NOT NULL,
    nodes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS choices (
    owner TEXT PRIMARY KEY,
    model TEXT,
    model_label TEXT,
    session_model TEXT,
    dataset TEXT,
    offer TEXT,
    updated REAL NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
"""


def row_to_run(row: sqlite3.Row) -> RunInfo:
    values = dict(row)
    config = json.loads(values.pop("config"))
    network_config, train_config = configs_from_dict(config)
    values.pop("owner")
    values["status"], values["source"] = RunStatus(values["status"]), Source(values["source"])
    info = values.pop("dataset_info", None)
    stored = json.loads(info) if info else (tag_for_key(values["dataset"]) or MNIST_TAG).to_json()
    tag = DatasetTag.from_json({**stored, "key": values["dataset"]}, network_config.output_nodes)
    return RunInfo(network_config=network_config, train_config=train_config, dataset_title=tag.title,
                   class_names=tag.class_names, **values)


def _make_private(path: Path, mode: int) -> None:
    """Tighten a file or folder of the store made before it was private (or under a loose umask)."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except PermissionError:  # not ours (a store shared on purpose): left as its owner set it
        pass


def _create_private_file(path: Path) -> None:
    """Create ``path`` empty and private unless it exists (SQLite's -wal and -shm files take its permissions),
    without opening it.

    A database file is never opened, then closed, outside SQLite: its locks (POSIX record locks) belong to the
    process, not to a descriptor, so closing any descriptor of the file drops the locks of every connection
    this process has to it. Another process closing its last connection would then take itself for the last
    one anywhere, fold the write-ahead log into the file and delete the log and its index while this process
    still uses them: from then on this process would read and write a database of its own, and the runs it
    queues would never reach a worker."""
    try:
        os.mknod(path, stat.S_IFREG | PRIVATE_FILE)
    except FileExistsError:
        pass
    except (AttributeError, PermissionError):  # no mknod of plain files here (Windows; macOS needs root)
        try:  # O_EXCL: only a file just made is opened, which no connection of this process has yet
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, PRIVATE_FILE))
        except FileExistsError:
            pass


def this_worker() -> str:
    """``host:pid`` of this process, as recorded on the runs it trains."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(pid: int) -> bool:
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


OPEN_ATTEMPTS = 20  # tries at opening a store that other processes are writing to (about 10 s in all)


def _is_contention(exc: sqlite3.OperationalError) -> bool:
    """A lock held by another connection, as opposed to a damaged file."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Database:
    """The runs folder and its SQLite database: connections, schema, and rebuilding a damaged one."""

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
        self.root.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
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
        """Open the database, made private to the server's user; rebuild it from the run folders when it is
        damaged, or missing or empty beside run folders (deleted, or emptied by a full disk or a bad copy).

        The notices say what happened without the server's paths: every visitor sees them."""
        _make_private(self.root, PRIVATE_FOLDER)
        lost = self._lost_beside_runs()
        if lost:
            moved = self._move_aside_database() if self.db_path.exists() else None
            self._create_schema()
            recovered = self._rebuild_from_folders()
            self.notices.append(
                f"The run store's database was {lost}{f' (kept as {moved.name})' if moved else ''}; a new one was "
                f"built from the run folders ({recovered} run(s) recovered).")
            return
        try:
            self._check_readable()
        except sqlite3.DatabaseError:
            self._close_idle()  # none may go on reading the file that is moved aside
            moved = self._move_aside_database()
            self._create_schema()
            recovered = self._rebuild_from_folders()
            self.notices.append(
                f"The run store's database could not be read (damaged); it was kept as {moved.name} and a new one "
                f"was built from the run folders ({recovered} run(s) recovered).")

    def _check_readable(self) -> None:
        """Create what is missing of the schema and check the file's integrity; DatabaseError if it is damaged.

        Another process writing at the same moment (a worker reporting progress) can make a statement fail at
        once with "database is locked" (SQLite does not wait when a read would have to become a write over a
        newer snapshot): that is contention, not damage, so it is retried, and never moves a good file aside."""
        for attempt in range(OPEN_ATTEMPTS):
            try:
                self._create_schema()
                with self._db() as conn:
                    result = conn.execute("PRAGMA quick_check").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if not _is_contention(exc) or attempt == OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        if result != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {result}")

    def _lost_beside_runs(self) -> str | None:
        """"missing" or "empty" when there is no database (or 0 bytes, and no log) but run folders with their
        ``run.json``: their runs would vanish from every list. None otherwise (a new store, or a good one)."""
        try:
            size = self.db_path.stat().st_size
        except FileNotFoundError:
            size = None
        wal = Path(f"{self.db_path}-wal")
        if size or (size == 0 and wal.exists() and wal.stat().st_size):
            return None  # a new database's pages can all be in its write-ahead log until a checkpoint
        if not any((folder / "run.json").exists() for folder in self.root.iterdir()
                   if folder.is_dir() and RUN_ID_PATTERN.match(folder.name)):
            return None
        return "missing" if size is None else "empty"

    def _create_schema(self) -> None:
        _create_private_file(self.db_path)
        _make_private(self.db_path, PRIVATE_FILE)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            # a table added since the store was made (choices) comes with CREATE TABLE IF NOT EXISTS; a
            # column added since needs its ALTER TABLE
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            # a store made before runs recorded their dataset's classes, or where they trained
            for column in ("dataset_info", "trained_on"):
                if column in columns:
                    continue
                try:
                    conn.execute(f"ALTER TABLE runs ADD COLUMN {column} TEXT")
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
                points: list[dict[str, Any]] = []
                learning_rate = float(static["config"]["learning_rate"])
                if (folder / "resume.npz").exists():
                    meta = read_checkpoint_meta(folder / "resume.npz")
                    history, events = list(meta["history"]), list(meta.get("events") or [])
                    points = meta["points"]
                    learning_rate = float(meta.get("learning_rate", learning_rate))
                done = len(history)
                status = RunStatus.FINISHED if done >= int(static["config"]["epochs"]) else RunStatus.INTERRUPTED
                accuracies = [e.get("test_accuracy") for e in history if e.get("test_accuracy") is not None]
                with self._db(write=True) as conn:
                    conn.execute(
                        "INSERT OR IGNORE INTO runs (id, owner, number, status, config, preset, records, dataset,"
                        " source, learning_rate, epochs_done, created, ended, train_seconds, test_accuracy,"
                        " best_accuracy, message, share, disk_bytes, dataset_info)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (folder.name, static["owner"], int(static["number"]), status, dumps_json(static["config"]),
                         static.get("preset"), int(static["records"]), static.get("dataset", "mnist"),
                         static.get("source", "app"), learning_rate, done, float(static["created"]),
                         time.time(), float(sum(e.get("seconds") or 0 for e in history)),
                         accuracies[-1] if accuracies else None, max(accuracies) if accuracies else None,
                         "Recovered from its folder after the database was lost.", static.get("share"),
                         folder_bytes(folder),
                         dumps_json(static["dataset_info"]) if static.get("dataset_info") else None))
                    if not conn.execute("SELECT changes()").fetchone()[0]:
                        continue  # recovered meanwhile by another process opening the same store
                    conn.executemany("INSERT OR IGNORE INTO epochs (run_id, epoch, metrics) VALUES (?,?,?)",
                                     [(folder.name, int(e["epoch"]), dumps_json(e)) for e in history])
                    conn.executemany("INSERT INTO events (run_id, at, kind, value, time) VALUES (?,?,?,?,?)",
                                     [(folder.name, float(e["at"]), str(e["kind"]), e.get("value"),
                                       float(e.get("time") or 0)) for e in events])
                    conn.executemany(f"INSERT OR IGNORE INTO points (run_id, {', '.join(POINT_COLUMNS)})"
                                     " VALUES (?,?,?,?,?,?)",
                                     [(folder.name, *(p[c] for c in POINT_COLUMNS)) for p in points])
                recovered += 1
            except (OSError, ValueError, KeyError, TypeError, CheckpointError, ConfigError, sqlite3.Error):
                continue  # a folder we cannot make sense of is left as it is, for a person to look at
        return recovered
