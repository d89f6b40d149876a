"""Training as a service: worker processes train the queued runs of the run store; a pool keeps them going.

Why processes, not threads (measured in ``bench/training_service.py``, figures in bench/README.md): the
seed's per-sample training is thousands of small NumPy calls a second, each holding Python's GIL, so a
training thread inside the dashboard's server slows every page of every visitor; a worker process has its
own interpreter and the operating system shares the cores (workers run at a lower priority, ``nice``, so
the pages come first). A process also gives its memory back when it ends, and one that crashes or is
killed takes nothing else with it. The price is a start-up of about half a second (imports and MNIST),
paid once per worker, not per run: a worker trains run after run and exits after a minute without work.

The worker's side is :func:`train_run` (also used by ``python -m ann train --save-run``, which trains in its
own process). Between two chunks of about a thousand records it reports progress and reads the owner's
requests from the store: pause (it waits there, honoured within a second), stop (it ends after the
chunk; the epoch in progress is not kept), a new learning rate (taken for the next chunk, and recorded).
With its progress it writes the run's live points (every 2% of an epoch) and the network's answers to the
fixed test digits. After every epoch it writes the checkpoints and the epoch's metrics. A run paused for more than
``hold_seconds`` while others wait is parked: its worker goes back to the queue, and Resume queues the
run again from its last whole epoch.

The pool (:class:`TrainingService`) lives in the server: it starts workers while runs are queued, at most
``ANN_TRAIN_WORKERS`` (default: the cores this process may use, at least 1), restarts none by itself
(a queued run simply waits for the next worker), and marks runs whose worker died *interrupted*.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ann.blas import available_cores
from ann.data.named import load_named
from ann.live_points import LIVE_NODES, FixedDigits, LiveView
from ann.service.database import this_worker
from ann.service.records import CheckpointError, Control, RunInfo, RunNotFound, RunStatus
from ann.service.store import RunStore
from ann.train import train

if TYPE_CHECKING:
    from ann.network import Network

REPORT_SECONDS = 0.5  # progress is written to the store at most twice a second
PAUSE_POLL_SECONDS = 0.2  # a paused worker looks for Resume or Stop five times a second
HEARTBEAT_SECONDS = 1.0


class _Parked(Exception):
    """A paused run gives its worker back to the queue."""


class _Interrupted(Exception):
    """The server that started this worker is gone, or the worker was asked to end."""


class _Deleted(Exception):
    """The run was deleted while it trained."""


def default_workers() -> int:
    """``$ANN_TRAIN_WORKERS`` if it is a whole number >= 1, else :func:`available_cores`."""
    try:
        value = int(os.environ.get("ANN_TRAIN_WORKERS", ""))
    except ValueError:
        return available_cores()
    return value if value >= 1 else available_cores()


# --------------------------------------------------------------------------- the worker's side


class PointsOut:
    """A run's live points on their way to the store (see :mod:`ann.live_points`): the training loop hands
    each over (:meth:`point`, its ``points`` callback); the worker's next progress report takes them
    (:meth:`take`), at most twice a second, together with the network's view at the latest of them (its
    answers to the fixed digits, a few first-layer nodes' weights), which is made only then.
    """

    def __init__(self, network: Network, digits: FixedDigits) -> None:
        self.network, self.digits = network, digits
        self.pending: list[dict[str, Any]] = []
        self.latest: tuple[int, np.ndarray, np.ndarray] | None = None  # samples, digits' outputs, first weights

    def point(self, point: dict[str, Any], outputs: np.ndarray) -> None:
        self.pending.append(point)
        if len(outputs):  # the slice's first rows are the fixed digits'
            self.latest = (point["samples"], outputs[:len(self.digits.labels)].copy(),
                           self.network.weights[0][:LIVE_NODES].copy())

    def take(self) -> tuple[list[dict[str, Any]], LiveView | None]:
        """The points since the last call, and the view at the latest of them."""
        points, view = self.pending, None if self.latest is None else self.digits.view(*self.latest)
        self.pending, self.latest = [], None
        return points, view


class RunControl:
    """The training loop's link to the store while one run trains: progress out, requests in.

    Its methods are the callbacks :func:`ann.train.train` takes: :meth:`progress`, :meth:`should_stop`
    and :meth:`base_learning_rate`.
    """

    def __init__(self, store: RunStore, run: RunInfo, epochs_done: int, learning_rate: float, *,
                 parent_pid: int | None = None, hold_seconds: float = 60.0,
                 on_progress: Callable[[int, int], None] | None = None,
                 ending: threading.Event | None = None, points_out: PointsOut | None = None) -> None:
        self.store = store
        self.points_out = points_out
        self.run = run
        self.parent_pid = parent_pid
        self.hold_seconds = hold_seconds
        self.on_progress = on_progress
        self.ending = ending
        self.epochs_done = epochs_done
        self.learning_rate = learning_rate
        self.done = 0
        self.total = 0
        self.epoch_started = time.perf_counter()
        self.waited = 0.0
        self.last_report = 0.0
        self.pending_rate: float | None = None  # the rate the owner asked for, read by should_stop

    def epoch_ended(self) -> None:
        self.epochs_done += 1
        self.done = 0
        self.epoch_started = time.perf_counter()
        self.waited = 0.0

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self.on_progress is not None:
            self.on_progress(done, total)
        now = time.perf_counter()
        if now - self.last_report >= REPORT_SECONDS or done >= total:
            self.last_report = now
            points, view = self.points_out.take() if self.points_out is not None else ([], None)
            self.store.report(self.run.id, progress_done=done, progress_total=total,
                              epoch_seconds=now - self.epoch_started - self.waited, points=points, view=view)

    def _check_alive(self) -> None:
        if self.ending is not None and self.ending.is_set():
            raise _Interrupted("Interrupted: the worker training it was asked to end (the server stopped).")
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            raise _Interrupted("Interrupted: the server that started its worker stopped.")

    def _poll(self) -> tuple[str, float]:
        polled = self.store.poll(self.run.id)
        if polled is None:
            raise _Deleted()
        control, learning_rate, _ = polled
        return control, learning_rate

    def should_stop(self) -> bool:
        """Polled before every chunk: True to stop; while paused it waits here (and the wait is not
        counted as training time by ann.train)."""
        self._check_alive()
        control, self.pending_rate = self._poll()
        if control == Control.STOP:
            return True
        if control != Control.PAUSE:
            return False
        started = time.perf_counter()
        self.store.report(self.run.id, status=RunStatus.PAUSED)
        last_beat = started
        while True:
            time.sleep(PAUSE_POLL_SECONDS)
            self._check_alive()
            control, self.pending_rate = self._poll()
            if control == Control.STOP:
                return True
            now = time.perf_counter()
            if control != Control.PAUSE:
                self.waited += now - started
                self.store.report(self.run.id, status=RunStatus.RUNNING)
                return False
            if now - started > self.hold_seconds and self.store.counts().get(RunStatus.QUEUED, 0) > 0:
                raise _Parked()
            if now - last_beat >= HEARTBEAT_SECONDS:
                last_beat = now
                self.store.report(self.run.id)

    def base_learning_rate(self) -> float:
        """The learning rate for the next chunk; a change the owner made is recorded where it happens."""
        rate = self.pending_rate
        if rate is not None and not math.isclose(rate, self.learning_rate, rel_tol=1e-12, abs_tol=0.0):
            at = self.epochs_done + (self.done / self.total if self.total else 0.0)
            self.store.record_event(self.run.id, at, "learning_rate", rate)
            self.learning_rate = rate
        return self.learning_rate


_datasets: dict[tuple[str, str, bool], Any] = {}


def load_dataset(data_dir: str | os.PathLike | None, verify: bool = True, key: str = "mnist"):
    """A named dataset for a worker, read once per process, mapped from the uncompressed copies the server maps
    too: the workers and the server share one copy of its pages (``ann.data.mnist.load_mnist_mapped``).

    ``data_dir`` is the data folder: MNIST's four files in it (or files in its format with ``verify=False``),
    Fashion-MNIST and Kuzushiji-MNIST in its ``fashion/`` and ``kmnist/`` (``ann.data.named.folder_of``).
    """

    cache_key = (key, str(data_dir), verify)
    if cache_key not in _datasets:
        _datasets[cache_key] = load_named(key, data_dir, verify=verify, mapped=True)
    return _datasets[cache_key]


def dataset_for_run(store: RunStore, run: RunInfo, data_dir: str | os.PathLike | None, verify: bool = True):
    """The data a run trains on: a named dataset (:func:`load_dataset`), or its workspace's own, which the
    store keeps mapped read-only (a few milliseconds to open, so it is opened again for every run)."""
    if run.dataset.startswith("own-"):
        return store.run_dataset(run)
    return load_dataset(data_dir, verify, run.dataset)


def train_run(store: RunStore, run: RunInfo, dataset, *, parent_pid: int | None = None,
              hold_seconds: float = 60.0, on_progress: Callable[[int, int], None] | None = None,
              on_epoch: Callable[[dict[str, Any]], None] | None = None,
              ending: threading.Event | None = None, live_points: bool = True, threads: int | None = None) -> str:
    """Train a claimed run to its target epochs (or until stopped, parked, interrupted), writing to the
    store as it goes: its live points (50 an epoch, :class:`PointsOut`; ``live_points=False`` leaves them
    out, for bench/live_points.py), its progress, and each epoch. Returns the status it ended with. Never
    raises for a problem of the run itself: a failure is recorded on the run (status "failed", with the
    message).

    ``store`` is the run store, or what stands for it on a Dask worker (``ann.service.cluster.RemoteStore``);
    ``threads`` the BLAS threads (default: ``$ANN_BLAS_THREADS``, which the pool sets for its workers)."""

    from ann.network import Network  # SciPy: heavy, and only training needs it

    try:
        classes = getattr(dataset, "n_classes", None)
        if classes is not None and classes != run.network_config.output_nodes:
            raise ValueError(f"its network has {run.network_config.output_nodes} outputs, but its dataset "
                             f"{getattr(dataset, 'title', run.dataset)} has {classes} classes")
        if run.epochs_done > 0:
            state = store.load_resume(run)
            network, rng, history = state["network"], state["rng"], state["history"]
            samples_seen = state["samples_seen"]
        else:
            network = Network(run.network_config, seed=run.train_config.seed)
            rng = np.random.default_rng(run.train_config.seed)
            history, samples_seen = [], 0
        store.drop_points_after(run.id, len(history))  # an epoch that was not kept is trained again
        points_out = None
        if live_points:
            points_out = PointsOut(network, FixedDigits(dataset.test.images, dataset.test.labels,
                                                        run.network_config.output_nodes))
        control = RunControl(store, run, len(history), run.learning_rate, parent_pid=parent_pid,
                             hold_seconds=hold_seconds, on_progress=on_progress, ending=ending, points_out=points_out)
        for metrics in train(network, dataset.train.images, dataset.train.labels, run.train_config,
                             dataset.test.images, dataset.test.labels, progress=control.progress,
                             should_stop=control.should_stop, start_epoch=len(history), rng=rng,
                             samples_seen=samples_seen, base_learning_rate=control.base_learning_rate,
                             points=None if points_out is None else points_out.point, threads=threads):
            if metrics["stopped"]:
                store.drop_points_after(run.id, len(history))
                store.end(run.id, RunStatus.STOPPED, f"Stopped during epoch {metrics['epoch']}; the {len(history)} "
                          "finished epoch(s) are kept, the epoch in progress is not.")
                return RunStatus.STOPPED
            history.append(metrics)
            store.record_epoch(run, metrics, network, rng, history, control.learning_rate)
            control.epoch_ended()
            if on_epoch is not None:
                on_epoch(metrics)
        store.end(run.id, RunStatus.FINISHED)
        return RunStatus.FINISHED
    except _Parked:
        store.end(run.id, RunStatus.PAUSED, "Paused for a while with others waiting, so its worker went on to the next "
                  "run; Resume puts it back in the queue, from its last whole epoch.")
        return RunStatus.PAUSED
    except _Interrupted as exc:
        store.end(run.id, RunStatus.INTERRUPTED, f"{exc} Continue resumes it from its last whole epoch.")
        return RunStatus.INTERRUPTED
    except _Deleted:
        return "deleted"
    except KeyboardInterrupt:
        store.end(run.id, RunStatus.INTERRUPTED, "Interrupted (Ctrl-C). Continue resumes it from its last whole epoch.")
        raise
    except CheckpointError as exc:
        store.end(run.id, RunStatus.FAILED, str(exc))
        return RunStatus.FAILED
    except Exception as exc:  # noqa: BLE001 -- a run's failure is recorded on the run; the worker goes on
        message = " ".join(str(exc).split()) or type(exc).__name__
        try:
            store.end(run.id, RunStatus.FAILED, f"Failed: {type(exc).__name__}: {message}")
        except RunNotFound:
            pass
        return RunStatus.FAILED


def worker_main(argv: list[str] | None = None) -> int:
    """A worker process: claim queued runs and train them, one at a time, until idle for ``--idle``
    seconds or the server (``--parent``) is gone."""
    parser = argparse.ArgumentParser(prog="python -m ann.service.worker", description="An ANN Explorer training worker.")
    parser.add_argument("--runs", required=True, help="the runs folder")
    parser.add_argument("--data", default=None, help="the data folder (MNIST in it, the other named sets below)")
    parser.add_argument("--no-verify", action="store_true", help="data in MNIST's format, not MNIST itself")
    parser.add_argument("--parent", type=int, default=None, help="end when this process is gone")
    parser.add_argument("--idle", type=float, default=60.0, help="end after this many seconds without work")
    parser.add_argument("--hold", type=float, default=60.0, help="park a run paused this long while others wait")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between looks at the queue")
    parser.add_argument("--nice", type=int, default=10, help="lower this worker's priority by this much")
    args = parser.parse_args(argv)
    if args.nice:
        try:
            os.nice(args.nice)
        except OSError:
            pass
    ending = threading.Event()

    def on_term(signum, frame) -> None:  # noqa: ARG001 -- signal handler signature
        ending.set()

    signal.signal(signal.SIGTERM, on_term)
    store = RunStore(args.runs)
    worker = this_worker()
    last_work = time.monotonic()
    while not ending.is_set():
        if args.parent is not None and os.getppid() != args.parent:
            break
        run = store.claim(worker)
        if run is None:
            if time.monotonic() - last_work > args.idle:
                break
            time.sleep(args.poll)
            continue
        try:
            dataset = dataset_for_run(store, run, args.data, verify=not args.no_verify)
        except Exception as exc:  # noqa: BLE001 -- the data is missing or damaged: say so on the run
            message = " ".join(str(exc).split()) or type(exc).__name__
            store.end(run.id, RunStatus.FAILED, f"Failed: the training data could not be read ({run.dataset_title}): {message}")
            continue
        train_run(store, run, dataset, parent_pid=args.parent, hold_seconds=args.hold, ending=ending)
        last_work = time.monotonic()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
