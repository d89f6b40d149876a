"""Where the runs of a grid train: in this process, on local worker processes, or on a Dask cluster.

:func:`open_executor` picks one from ``workers`` and ``scheduler``; :func:`ann.experiments.sweep.run_sweep`
drives it. Every executor trains one run per worker at a time with :func:`ann.experiments.run.train_run`
(or a task of the same shape) and tells ``on_progress(run index, fraction of that run done)``:

- **in this process** (``workers=0``): one run after another, with the caller's BLAS threads; the caller's
  ``should_stop`` is polled between chunks and its progress heard after every chunk, and an exception in a
  run propagates (the caller is right here to read its traceback);
- **local processes** (the default; as many as the cores): each started fresh (``spawn``) and given the data
  once, each training with one BLAS thread (the runs, not the products, are spread over the cores); a
  worker takes one run at a time and the next run goes to whichever worker is free first, so a worker
  that comes up first may train every short run before the others are up (a worker takes about a second
  to start);
- **a Dask cluster** (``dask.distributed``, the optional extra in requirements-dask.txt) when a scheduler
  address is given: the data are scattered to the workers once, each run is a task.

On workers, a run that raises is recorded as failed with its message and the others go on; a local worker
process that dies takes only the runs it was training with it (a new pool carries on with the rest); on Dask
a lost worker's run is retried elsewhere by the scheduler, and failed after its retries.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import time
import types
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import numpy as np

from ann.blas import available_cores
from ann.experiments.grid import RunSpec, SweepData, SweepError
from ann.experiments.run import RunTask, StopRequest, failed_record, guarded
from ann.remote import ship_code, tune_allocator

__all__ = ["CONNECT_TIMEOUT", "IN_THIS_PROCESS", "Backend", "Executor", "open_executor"]

IN_THIS_PROCESS = 0  # workers=0: the runs train in the calling process, one after another
CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler before giving up
WORKER_THREADS = 1  # BLAS threads of a run on a worker (local process or Dask)
ARRAYS = ("images", "labels", "test_images", "test_labels")

OnProgress = Callable[[int, float], None]  # (run index, fraction of that run done)


class Backend(StrEnum):
    """Where a grid's runs train (the ``backend`` of a grid result)."""

    IN_PROCESS = "in_process"
    PROCESSES = "processes"
    DASK = "dask"


def open_executor(data: SweepData, runs: int, workers: int | None, scheduler: str | None,
                  should_stop: StopRequest | None, on_progress: OnProgress) -> Executor:
    """The executor for ``runs`` runs: Dask with a ``scheduler`` address, else ``workers`` local processes
    (default: the cores this process may use; no more than the runs), or this process with ``workers=0``.

    Raises
    ------
    SweepError
        A bad worker count, Dask missing or the scheduler unreachable.
    """
    if scheduler:
        return _Dask(scheduler, data, runs)
    if workers is None:
        workers = available_cores()
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
        raise SweepError(f"workers={workers!r}: give a whole number of local processes, at least 1 (or 0 to "
                         "train in this process)")
    if workers == IN_THIS_PROCESS:
        return _InProcess(data, should_stop, on_progress)
    return _Processes(int(min(workers, runs)), data, on_progress)


class Executor:
    """What every executor does; the defaults are those of an executor with nothing to restart or drain."""

    backend: Backend
    workers: int  # runs trained at once
    slots: int  # runs handed over at once (more than ``workers`` where the executor queues them itself)
    address: str | None = None  # the Dask scheduler's

    def submit(self, task: RunTask, spec: RunSpec) -> cf.Future:
        raise NotImplementedError

    def wait(self, futures: list, timeout: float) -> set:
        """The futures that are done, once at least one is or ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            done = {f for f in futures if f.done()}
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.02)

    def result(self, future: cf.Future, spec: RunSpec) -> dict[str, Any] | None:
        """The run's record, or None if the worker pool broke under it (see :meth:`restart`)."""
        return future.result()

    def restart(self) -> bool:
        """Replace a broken pool; True if none of its workers had even started."""
        return False

    def poll_progress(self) -> None:
        """Pass the progress the workers sent since the last call to ``on_progress``."""

    def stop(self) -> None:
        """Ask every running run to stop between two chunks."""

    def close(self) -> None:
        """Stop and release the workers (every run stopped or done)."""


# --------------------------------------------------------------------------- this process


class _InProcess(Executor):
    """The runs one after another in this process: the caller's stop request and BLAS threads."""

    backend = Backend.IN_PROCESS
    workers = slots = 1

    def __init__(self, data: SweepData, should_stop: StopRequest | None, on_progress: OnProgress) -> None:
        self._data, self._should_stop, self._on_progress = data, should_stop, on_progress

    def submit(self, task: RunTask, spec: RunSpec) -> cf.Future:
        future: cf.Future = cf.Future()
        future.set_result(task(spec, self._data, self._should_stop,
                               lambda fraction: self._on_progress(spec.index, fraction), None))
        return future


# --------------------------------------------------------------------------- local processes

_worker_state: dict[str, Any] = {}  # in each local worker process: the data, the stop flag, the progress queue


def _local_init(folder: str, stop, progress_queue) -> None:
    # The arrays are read (mapped) from files rather than sent through the spawn pipe: a child that dies while
    # starting leaves its parent blocked for good writing a large payload into that pipe (the parent holds
    # its read end open until the write ends), which hung a sweep test twice on a loaded machine.
    arrays = {name: np.load(os.path.join(folder, f"{name}.npy"), mmap_mode="r") for name in ARRAYS}
    _worker_state.update(data=SweepData(**arrays), stop=stop, progress=progress_queue)
    progress_queue.put((-1, 0.0))  # this worker is up: a pool that breaks after this broke in a run


def _local_task(task: RunTask, spec: RunSpec) -> dict[str, Any]:
    stop, progress_queue = _worker_state["stop"], _worker_state["progress"]
    last = [0.0]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] > 0.25 or fraction >= 1.0:
            last[0] = now
            progress_queue.put((spec.index, fraction))

    return guarded(task, spec, _worker_state["data"], stop.is_set, report, WORKER_THREADS)


@contextmanager
def _plain_main() -> Iterator[None]:
    """While processes are spawned, a ``__main__`` with no file: a spawned child runs its parent's main module
    again by path, and in a Streamlit server (or an AppTest) that is a page script, which must not run in a
    training worker (an AppTest's script raised there, and every worker died at start-up)."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class _Processes(Executor):
    """Up to ``workers`` local processes, each training one run at a time."""

    backend = Backend.PROCESSES

    def __init__(self, workers: int, data: SweepData, on_progress: OnProgress) -> None:
        self.workers = self.slots = workers
        self._on_progress = on_progress
        self._context = multiprocessing.get_context("spawn")  # fresh interpreters: safe beside threads
        self._folder = tempfile.mkdtemp(prefix="ann_sweep_")
        for name in ARRAYS:
            np.save(os.path.join(self._folder, f"{name}.npy"), np.ascontiguousarray(getattr(data, name)))
        self._workers_started = 0  # workers that came up (their initializer ran)
        self._stop = self._context.Event()
        self._progress = self._context.Queue()
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(self.workers, mp_context=self._context, initializer=_local_init,
                                      initargs=(self._folder, self._stop, self._progress))

    def submit(self, task: RunTask, spec: RunSpec) -> cf.Future:
        with _plain_main():  # the pool starts its processes here, on its first submissions
            return self._pool.submit(_local_task, task, spec)

    def wait(self, futures: list, timeout: float) -> set:
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def result(self, future: cf.Future, spec: RunSpec) -> dict[str, Any] | None:
        try:
            return future.result()
        except BrokenProcessPool:
            return None

    def restart(self) -> bool:
        """A worker died: the pool is unusable. Start a new one for the runs still to come.

        With a new progress queue too: a process that dies while its queue's feeder thread is writing (the
        previous run's last progress, say) leaves the queue's shared write lock taken for good, and the new
        workers would block on it at exit (a sweep that never ends). Progress lost with the old queue is only
        progress."""
        self._drain()  # counts the workers that came up
        never_started = self._workers_started == 0
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._progress = self._context.Queue()
        self._pool = self._new_pool()
        return never_started

    def _drain(self) -> list[tuple[int, float]]:
        messages = []
        while True:
            try:
                index, fraction = self._progress.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return messages
            if index < 0:
                self._workers_started += 1
            else:
                messages.append((index, fraction))

    def poll_progress(self) -> None:
        for index, fraction in self._drain():
            self._on_progress(index, fraction)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._progress.close()
        shutil.rmtree(self._folder, ignore_errors=True)


# --------------------------------------------------------------------------- Dask


def _dask_task(task: RunTask, spec: RunSpec, data: SweepData, stop_name: str) -> dict[str, Any]:
    from distributed import Event, get_client  # only on a Dask worker

    tune_allocator()
    event = Event(stop_name, client=get_client())
    checked = [0.0, False]

    def should_stop() -> bool:
        now = time.monotonic()
        if now - checked[0] > 1.0:  # a round trip to the scheduler: at most once a second
            checked[0] = now
            checked[1] = bool(event.is_set())
        return checked[1]

    return guarded(task, spec, data, should_stop, None, WORKER_THREADS)


class _Dask(Executor):
    """Runs as tasks on a Dask cluster (all handed over at once, the scheduler queues them); the data
    scattered to every worker once."""

    backend = Backend.DASK

    def __init__(self, address: str, data: SweepData, runs: int) -> None:
        try:
            from distributed import Client, Event  # the optional extra, heavy: only for a Dask sweep
        except ImportError:
            raise SweepError("--scheduler needs Dask's distributed scheduler: pip install -r "
                             "requirements-dask.txt (or run without --scheduler on local processes)") from None
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {exc}); start "
                             "one with 'dask scheduler' and workers with 'dask worker ADDRESS' (README: "
                             "'Sweeps on a Dask cluster'), or drop --scheduler to use local processes") from None
        self.address = address
        self.slots = runs
        try:
            ship_code(self.client)  # the cluster needs ann's dependencies, not ann itself
            workers = self.client.scheduler_info().get("workers", {})
            self.workers = sum(w.get("nthreads", 1) for w in workers.values()) or 0
            self._stop_name = f"ann-sweep-stop-{uuid.uuid4().hex}"
            self._event = Event(self._stop_name, client=self.client)
            self._data = self.client.scatter(data, broadcast=True)
        except BaseException:
            self.client.close()
            raise

    def submit(self, task: RunTask, spec: RunSpec):
        return self.client.submit(_dask_task, task, spec, self._data, self._stop_name, pure=False,
                                  key=f"ann-run-{spec.index}-{uuid.uuid4().hex[:8]}")

    # wait: polled (the default) rather than distributed.wait, which looks for a default client (this one
    # is not, so as not to change the caller's process-wide default).

    def result(self, future, spec: RunSpec) -> dict[str, Any] | None:
        try:
            return future.result()
        except Exception as exc:  # KilledWorker after the scheduler's retries, a lost connection...
            return failed_record(spec, f"{type(exc).__name__} on the Dask cluster: {exc}")

    def stop(self) -> None:
        self._event.set()

    def close(self) -> None:
        try:
            self._event.set()
        finally:
            self.client.close()
