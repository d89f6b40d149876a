"""The training service (:class:`TrainingService`), living in the web server: the one door for every request
about a run, whichever executor trains it.

By default its executor is a pool of local worker processes: it starts workers while runs are queued, at most
``ANN_TRAIN_WORKERS`` (default: the cores this process may use, at least 1), restarts none by itself (a queued
run simply waits for the next worker), and marks runs whose worker died *interrupted*. Given a Dask scheduler
(``scheduler=`` or ``$ANN_TRAIN_SCHEDULER``, ``tcp://HOST:PORT``), queued runs train on that cluster instead
(:mod:`ann.service.cluster`), in the same fair order and with the same controls; while the scheduler cannot be
reached, the local pool takes them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from ann.blas import available_cores, requested_threads
from ann.estimates import process_start_seconds, training_seconds
from ann.paths import PROJECT_ROOT
from ann.service.records import RunInfo, RunStatus
from ann.service.store import RunStore
from ann.service.worker import default_workers

# the supervisor asks the run store for queued runs at least this often, even when nothing it reads has changed
WAKE_ANYWAY_SECONDS = 5.0

# --------------------------------------------------------------------------- the pool


class TrainingService:
    """The server's pool of worker processes over a run store.

    Parameters
    ----------
    store : RunStore
    data_dir : path, optional
        The data folder the workers train from (default: ``ann.data``'s default): MNIST in it, Fashion-MNIST and
        Kuzushiji-MNIST below it; a run on a workspace's own data reads it from the run store.
    workers : int, optional
        At most this many runs train at once; default :func:`default_workers`.
    verify_data : bool
        False for data in MNIST's format that is not MNIST itself (the tests' tiny sets).
    idle_seconds, hold_seconds, nice : passed to each worker (see :func:`worker_main`).
    scheduler : str, optional
        A Dask scheduler (``tcp://HOST:PORT``) to train the queued runs on; default ``$ANN_TRAIN_SCHEDULER``
        (empty: none). ``cluster_notice`` says why the cluster is not in use when it is not.
    """

    def __init__(self, store: RunStore, data_dir: str | os.PathLike | None = None, *, workers: int | None = None,
                 verify_data: bool = True, idle_seconds: float = 60.0, hold_seconds: float = 60.0, nice: int = 10,
                 supervise_seconds: float = 0.5, stale_seconds: float = 60.0, scheduler: str | None = None) -> None:
        self.store = store
        self.data_dir = None if data_dir is None else str(data_dir)
        self.workers = workers if workers is not None else default_workers()
        if self.workers < 1:
            raise ValueError(f"workers={workers}: at least 1 worker is needed")
        self.verify_data = verify_data
        self.idle_seconds = idle_seconds
        self.hold_seconds = hold_seconds
        self.nice = nice
        self.supervise_seconds = supervise_seconds
        self.stale_seconds = stale_seconds
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.interrupted_at_start = store.mark_orphans(stale_seconds)
        self.scheduler = (scheduler if scheduler is not None else os.environ.get("ANN_TRAIN_SCHEDULER", "")).strip() or None
        self.cluster = None
        if self.scheduler:
            from ann.service.cluster import ClusterExecutor  # Dask: optional, and a second to import

            self.cluster = ClusterExecutor(store, self.scheduler, self.data_dir, verify_data=verify_data,
                                           hold_seconds=hold_seconds)
        self._thread = threading.Thread(target=self._supervise, name="ann-training-service", daemon=True)
        self._thread.start()

    # --- what the pages call: every request about a run comes through here, whichever starts a worker ---------

    @property
    def worker_threads(self) -> int:
        """The BLAS threads each worker trains with: ``$ANN_BLAS_THREADS`` if set, else the cores shared out
        (one each when every core has a worker)."""
        if os.environ.get("ANN_BLAS_THREADS", "").strip():
            return requested_threads("batch")
        return max(available_cores() // self.workers, 1)

    def submit(self, workspace: str, network_config, train_config, **kwargs: Any) -> RunInfo:
        """Queue a run (see :meth:`RunStore.submit`) and make sure a worker will take it."""
        run = self.store.submit(workspace, network_config, train_config, **kwargs)
        if self.cluster is not None and not self.cluster.connected and self.cluster.notice:
            self.store.note(run.id, self.cluster.notice)
        self.wake()
        return run

    @property
    def executor(self) -> str:
        """Where queued runs train now: ``"dask"`` (the cluster) or ``"local"`` (this server's workers)."""
        return "dask" if self.cluster is not None and self.cluster.connected else "local"

    @property
    def cluster_notice(self) -> str | None:
        """Why the cluster given is not in use (unreachable, lost), or None."""
        return None if self.cluster is None or self.cluster.connected else self.cluster.notice

    def continue_run(self, workspace: str, run_id: str, more_epochs: int) -> RunInfo:
        run = self.store.continue_run(workspace, run_id, more_epochs)
        self.wake()
        return run

    def resume(self, workspace: str, run_id: str) -> RunInfo:
        run = self.store.resume(workspace, run_id)
        self.wake()
        return run

    def pause(self, workspace: str, run_id: str) -> RunInfo:
        return self.store.pause(workspace, run_id)

    def stop(self, workspace: str, run_id: str) -> RunInfo:
        return self.store.stop(workspace, run_id)

    def set_learning_rate(self, workspace: str, run_id: str, learning_rate: float) -> RunInfo:
        return self.store.set_learning_rate(workspace, run_id, learning_rate)

    def run_seconds(self, network_config, train_config, records: int, test_images: int,
                    wait: bool = True) -> float | None:
        """Calibrated seconds from Start to the end of a run of these settings on this server, if a worker
        is free: its training and scoring measured as a worker runs them (:mod:`ann.estimates`: the
        workers' thread count and ``nice``), plus a worker process's start when none is running.
        ``wait=False``: None while either is being measured (in the background)."""
        seconds = training_seconds(network_config, train_config, records, test_images,
                                   threads=self.worker_threads, nice=self.nice, wait=wait)
        start = 0.0 if self.alive_workers() else process_start_seconds(self.nice, wait=wait)
        return None if seconds is None or start is None else seconds + start

    def alive_workers(self) -> list[int]:
        with self._lock:
            self._reap()
            return [proc.pid for proc in self._procs]

    def wake(self) -> None:
        """Start workers for the queued runs that no idle worker will take, up to the limit."""
        if self._closing.is_set():
            return
        if self.cluster is not None and self.cluster.connected:
            self.cluster.poke()
            return
        with self._lock:
            self._reap()
            queued = self.store.counts().get(RunStatus.QUEUED, 0)
            if not queued:
                return
            ours = {proc.pid for proc in self._procs}
            busy = sum(1 for run_worker in self._held_workers() if run_worker in ours)
            idle = len(self._procs) - busy
            for _ in range(min(self.workers - len(self._procs), queued - idle)):
                self._procs.append(self._spawn())

    def close(self, timeout: float = 10.0) -> None:
        """End the workers (each marks the run it was training interrupted) and the supervisor."""
        self._closing.set()
        if self.cluster is not None:
            self.cluster.close()
        with self._lock:
            for proc in self._procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for proc in self._procs:
                try:
                    proc.wait(max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self._procs.clear()
        self._thread.join(timeout=2.0)

    # --- inside ------------------------------------------------------------------------------------------

    def _held_workers(self) -> list[int]:
        pids = []
        for worker in self.store.held_by_workers():
            pid = worker.rpartition(":")[2]
            if pid.isdigit():
                pids.append(int(pid))
        return pids

    def _reap(self) -> None:
        self._procs = [proc for proc in self._procs if proc.poll() is None]

    def _spawn(self) -> subprocess.Popen:
        command = [sys.executable, "-m", "ann.service.worker", "--runs", str(self.store.root), "--parent", str(os.getpid()),
                   "--idle", str(self.idle_seconds), "--hold", str(self.hold_seconds), "--nice", str(self.nice)]
        if self.data_dir is not None:
            command += ["--data", self.data_dir]
        if not self.verify_data:
            command.append("--no-verify")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
        # The cores shared out: each worker trains with cores // workers threads (one each when every core
        # has a worker); BLAS's own pools stay at one thread (ann.blas splits the large products itself).
        env.setdefault("ANN_BLAS_THREADS", str(self.worker_threads))
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(name, "1")
        log = open(self.store.root / "workers.log", "ab")  # noqa: SIM115 -- handed to the child
        try:
            return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()

    def _what_wake_reads(self) -> tuple:
        """What :meth:`wake` decides from, cheaply: the database's and its WAL's time and size (any commit,
        from any process, changes one of them) and which of our workers are alive. Equal to the last time's:
        ``wake`` would find what it found then, and the supervisor skips its query."""
        files = []
        for path in (self.store.db_path, f"{self.store.db_path}-wal"):
            try:
                stat = os.stat(path)
                files.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                files.append(None)
        with self._lock:
            alive = tuple(proc.pid for proc in self._procs if proc.poll() is None)
        return (*files, alive)

    def _supervise(self) -> None:
        # Every half second: queued runs get their workers (wake). Its query of the run store is skipped while
        # nothing it reads has changed, at most for WAKE_ANYWAY_SECONDS: an idle server's supervisor costs a
        # stat() of two files, not a SQLite query, twice a second.
        last_orphans = last_housekeeping = last_wake = 0.0
        last_read = None
        while not self._closing.wait(self.supervise_seconds):
            try:
                now = time.monotonic()
                if now - last_orphans >= 5.0:
                    last_orphans = now
                    self.store.mark_orphans(self.stale_seconds)
                if now - last_housekeeping >= 600.0:
                    last_housekeeping = now
                    self.store.housekeeping(None)
                read = self._what_wake_reads()
                if read != last_read or now - last_wake >= WAKE_ANYWAY_SECONDS or self.cluster is not None:
                    self.wake()
                    last_read, last_wake = read, now  # after it: a wake that failed (a locked database) is tried again
            except Exception:  # noqa: BLE001 -- the supervisor must outlive a locked or busy database
                continue

