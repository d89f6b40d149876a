"""Sweeps that scale out: a grid of training runs, trained side by side on local processes or a Dask cluster.

A sweep is every combination of a few settings (``learning_rate=0.01,0.03,0.1`` x ``hidden_nodes=100,200``)
times a number of seeds, everything else fixed. :func:`expand_grid` turns it into :class:`RunSpec` objects,
checked up front (a bad value is a :class:`SweepError` before anything trains); :func:`run_sweep` trains
them with :func:`ann.train.train`, the product's own loop, one run per worker at a time:

- on local processes (the default; as many as the cores), each started fresh (``spawn``) and given the
  data once;
- or on a Dask cluster (``dask.distributed``, the optional extra in requirements-dask.txt) when a
  scheduler address is given: the data are scattered to the workers once, each run is a task.

Each worker trains with one BLAS thread (the runs, not the products, are what is spread over the cores).
A run that raises is recorded as failed with its message, and the others go on; a local worker process
that dies takes only the runs it was training with it (a new pool carries on with the rest); on Dask a
lost worker's run is retried elsewhere by the scheduler, and failed after its retries. ``should_stop``
stops every run between two chunks (partial runs keep their finished epochs) and starts no new one.

Results are plain JSON-able dicts of kind ``"grid"`` (see :func:`run_sweep`), saved and read by
:mod:`ann.experiments.results`; :func:`as_sweep` and :func:`as_error_rules` turn a one-setting grid into the
``"sweep"`` and ``"error_rules"`` results the Experiments page draws. A run's results do not depend on
where it ran: equal seeds give equal numbers on processes and on Dask (the tests check it).
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import time
import traceback
import types
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ann.blas import available_cores
from ann.config import ConfigError, NetworkConfig, TrainConfig, configs_from_dict, configs_to_dict
from ann.network import Network
from ann.remote import ship_code, tune_allocator
from ann.train import accuracy_of, train

__all__ = [
    "ALIASES",
    "RunSpec",
    "SweepData",
    "SweepError",
    "as_error_rules",
    "as_sweep",
    "expand_grid",
    "format_value",
    "parse_param",
    "run_sweep",
    "train_run",
]

# Command-line spellings accepted for a setting's name (``--param lr=0.1,0.3``), besides the field names.
ALIASES = {"lr": "learning_rate", "hidden": "hidden_nodes", "elastic": "elastic_alpha"}
NOT_SWEPT = ("input_nodes", "output_nodes", "seed", "limit")  # seeds: --seeds; records: one limit for all
STATUSES = ("finished", "failed", "stopped")
CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler before giving up

ProgressCallback = Callable[[float, str], None]  # (fraction of the whole sweep done, message)
RunCallback = Callable[[dict[str, Any]], None]  # called with each run's record as it ends
StopRequest = Callable[[], bool]


class SweepError(ValueError):
    """A sweep cannot run as asked: a bad --param, no runs, a bad worker count, an unreachable scheduler.
    The message names the value and what to do."""


# --------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its grid point, its seed and the full configuration it trains with."""

    index: int  # position in the grid (the order runs are listed in the results)
    values: tuple[tuple[str, Any], ...]  # (setting, value) of this grid point, in --param order
    seed: int
    network: NetworkConfig
    train: TrainConfig
    train_eval_records: int = 0  # > 0: also score the first this many training records after every epoch

    @property
    def label(self) -> str:
        point = " ".join(f"{k}={_show(v)}" for k, v in self.values)
        return f"{point} seed {self.seed}".strip()

    @property
    def cost(self) -> float:
        """Relative cost, for progress: epochs x records x weights."""
        sizes = self.network.layer_sizes
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        records = self.train.limit or 60_000
        return float(self.train.epochs * records * self.train.copies_per_record * weights)


@dataclass(frozen=True)
class SweepData:
    """The arrays every run trains and is scored on (sent to each worker once).

    images : ndarray (n, 784) uint8 (or scaled float); labels : ndarray (n,) int
    test_images : ndarray (m, 784); test_labels : ndarray (m,) int
    """

    images: np.ndarray
    labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def format_value(value: Any) -> str:
    """A setting's value as the command line writes it (hidden layers 300x100, numbers short)."""
    if isinstance(value, (tuple, list)):
        return "x".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


_show = format_value


def _field_types() -> dict[str, Any]:
    types = {f.name: f.default for f in fields(NetworkConfig)}
    types.update({f.name: f.default for f in fields(TrainConfig)})
    return types


def _parse_value(name: str, text: str, default: Any) -> Any:
    text = text.strip()
    if name == "hidden_nodes":  # one size per run: 200, or layers joined by x: 300x100
        try:
            sizes = tuple(int(part) for part in text.lower().split("x"))
        except ValueError:
            raise SweepError(f"--param hidden_nodes: {text!r} is not a layer size; give whole numbers such as "
                             "100,200 (one hidden layer each) or 300x100 (two layers)") from None
        return sizes
    if isinstance(default, bool):
        if text.lower() in ("true", "yes", "1", "on"):
            return True
        if text.lower() in ("false", "no", "0", "off"):
            return False
        raise SweepError(f"--param {name}: {text!r} is not true or false")
    if isinstance(default, int) or name == "limit":
        try:
            return int(text)
        except ValueError:
            raise SweepError(f"--param {name}: {text!r} is not a whole number") from None
    if isinstance(default, float):
        try:
            value = float(text)
        except ValueError:
            raise SweepError(f"--param {name}: {text!r} is not a number") from None
        if not np.isfinite(value):
            raise SweepError(f"--param {name}: {text!r} is not a finite number")
        return value
    return text


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"learning_rate=0.01,0.03,0.1"`` -> ``("learning_rate", [0.01, 0.03, 0.1])``.

    The name is a field of :class:`~ann.config.NetworkConfig` or :class:`~ann.config.TrainConfig` (or a
    command-line spelling: ``lr``, ``hidden``, ``batch-size``...); values are parsed as that field's type.

    Raises
    ------
    SweepError
        No ``=``, an unknown name, a setting that cannot be swept, no values, a value of the wrong type,
        or the same value twice.
    """
    name, sep, values_text = text.partition("=")
    name = name.strip().replace("-", "_")
    name = ALIASES.get(name, name)
    if not sep or not name:
        raise SweepError(f"--param {text!r}: expected NAME=VALUE,VALUE,... such as learning_rate=0.01,0.03,0.1")
    known = _field_types()
    if name not in known:
        raise SweepError(f"--param {text!r}: {name!r} is not a setting; choose one of: "
                         f"{', '.join(sorted(set(known) - set(NOT_SWEPT)))}")
    if name in NOT_SWEPT:
        hint = {"seed": "use --seeds N", "limit": "use --limit N (the same records for every run)"}.get(
            name, "it is fixed by MNIST")
        raise SweepError(f"--param {name}: this setting is not swept; {hint}")
    parts = [p for p in values_text.split(",") if p.strip()]
    if not parts:
        raise SweepError(f"--param {name}: give at least one value, e.g. {name}=1,2")
    values = [_parse_value(name, p, known[name]) for p in parts]
    duplicates = sorted({_show(v) for v in values if values.count(v) > 1})
    if duplicates:
        raise SweepError(f"--param {name}: {', '.join(duplicates)} given more than once")
    return name, values


def expand_grid(params: Sequence[tuple[str, Sequence[Any]]], seeds: Sequence[int],
                base: dict[str, Any] | None = None, preset: str | None = None,
                train_eval_records: int = 0) -> list[RunSpec]:
    """Every combination of the settings' values, for every seed, as checked run specifications.

    Parameters
    ----------
    params : sequence of (name, values), e.g. from :func:`parse_param`
    seeds : the seeds each grid point is trained with (weights, shuffling, augmentation)
    base : dict, optional
        The fixed settings (configs_from_dict keys), over ``preset``'s or the seed's defaults.
    train_eval_records : int
        Score the first this many training records after every epoch too (the overfitting curve).

    Raises
    ------
    SweepError
        A setting given twice or also in ``base``, no seeds, a repeated seed, or a combination that the
        configuration refuses (the message names the run).
    """
    base = dict(base or {})
    names = [name for name, _ in params]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SweepError(f"--param {', '.join(repeated)} given more than once; give each setting's values "
                         "in one --param")
    if not seeds:
        raise SweepError("no seeds to run: --seeds must be at least 1")
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"seeds {list(seeds)} repeat a seed")
    for name in names:
        base.pop(name, None)  # the grid's values win over a fixed flag for the same setting
    specs = []
    points = list(itertools.product(*[[(name, v) for v in values] for name, values in params])) or [()]
    for point in points:
        for seed in seeds:
            values = dict(base) | dict(point) | {"seed": int(seed)}
            try:
                network, train = configs_from_dict(values, preset=preset)
            except ConfigError as exc:
                label = " ".join(f"{k}={_show(v)}" for k, v in point)
                raise SweepError(f"the run {label or 'of this sweep'} cannot train: {exc}") from None
            specs.append(RunSpec(len(specs), tuple(point), int(seed), network, train, int(train_eval_records)))
    return specs


# --------------------------------------------------------------------------- one run (runs on a worker)


def train_run(spec: RunSpec, data: SweepData, should_stop: StopRequest | None = None,
              progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Train one run of a sweep with :func:`ann.train.train` on one BLAS thread; its record.

    Returns
    -------
    dict
        ``index``, ``values`` ({setting: value}), ``seed``, ``status`` ("finished" or "stopped"),
        ``epochs``, ``test_accuracy``, ``train_loss``, ``seconds`` (per finished epoch; a stopped epoch is
        left out), ``train_accuracy`` when ``spec.train_eval_records``, ``final_test_accuracy`` (None if no
        epoch finished) and ``worker`` (host and process id).
    """

    network = Network(spec.network, seed=spec.train.seed)
    record = _record(spec)
    record.update({"status": "finished", "epochs": [], "test_accuracy": [], "train_loss": [], "seconds": []})
    evaluate = None
    if spec.train_eval_records:
        k = min(spec.train_eval_records, len(data.images))
        evaluate = (data.images[:k], data.labels[:k])
        record["train_accuracy"] = []
    epochs = spec.train.epochs
    epoch_now = [1]

    def on_chunk(done: int, total: int) -> None:
        if progress is not None:
            progress((epoch_now[0] - 1 + done / max(total, 1)) / epochs)

    for metrics in train(network, data.images, data.labels, spec.train, data.test_images, data.test_labels,
                         progress=on_chunk, should_stop=should_stop, threads=1):
        if metrics["stopped"]:
            record["status"] = "stopped"
            break
        for key in ("test_accuracy", "train_loss", "seconds"):
            record[key].append(metrics[key])
        record["epochs"].append(metrics["epoch"])
        if evaluate is not None:
            # A clean forward pass over fixed training records, not the epoch's running accuracy.
            record["train_accuracy"].append(accuracy_of(network, *evaluate))
        epoch_now[0] = metrics["epoch"] + 1
    record["final_test_accuracy"] = record["test_accuracy"][-1] if record["test_accuracy"] else None
    return record


def _record(spec: RunSpec) -> dict[str, Any]:
    return {"index": spec.index, "values": {k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.values},
            "seed": spec.seed, "worker": f"{os.uname().nodename}:{os.getpid()}", "error": None}


def _failed(spec: RunSpec, message: str) -> dict[str, Any]:
    record = _record(spec)
    record.update({"status": "failed", "error": message, "epochs": [], "test_accuracy": [], "train_loss": [],
                   "seconds": [], "final_test_accuracy": None})
    if spec.train_eval_records:
        record["train_accuracy"] = []
    return record


def _guarded(task: Callable, spec: RunSpec, data: SweepData, should_stop, progress) -> dict[str, Any]:
    """Run ``task``; an exception becomes a failed record (the worker and the other runs go on)."""
    try:
        return task(spec, data, should_stop, progress)
    except Exception as exc:  # reported in the results, never raised into the pool
        last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" ({os.path.basename(last.filename)}:{last.lineno})" if last else ""
        return _failed(spec, f"{type(exc).__name__}: {exc}{where}")


# --------------------------------------------------------------------------- local processes

_worker_state: dict[str, Any] = {}  # in each local worker process: the data, the stop flag, the progress queue


def _local_init(folder: str, stop, progress_queue) -> None:
    # The arrays are read (mapped) from files rather than sent through the spawn pipe: a child that dies while
    # starting leaves its parent blocked for good writing a large payload into that pipe (the parent holds
    # its read end open until the write ends), which hung a sweep test twice on a loaded machine.
    arrays = {name: np.load(os.path.join(folder, f"{name}.npy"), mmap_mode="r")
              for name in ("images", "labels", "test_images", "test_labels")}
    _worker_state.update(data=SweepData(**arrays), stop=stop, progress=progress_queue)
    progress_queue.put((-1, 0.0))  # this worker is up: a pool that breaks after this broke in a run


def _local_task(task: Callable, spec: RunSpec) -> dict[str, Any]:
    stop, progress_queue = _worker_state["stop"], _worker_state["progress"]
    last = [0.0]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] > 0.25 or fraction >= 1.0:
            last[0] = now
            progress_queue.put((spec.index, fraction))

    return _guarded(task, spec, _worker_state["data"], stop.is_set, report)


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


class _Processes:
    """Up to ``workers`` local processes, each training one run at a time."""

    backend = "processes"

    def __init__(self, workers: int, data: SweepData) -> None:
        self.workers = workers
        self.address = None
        self._context = multiprocessing.get_context("spawn")  # fresh interpreters: safe beside threads
        self._folder = tempfile.mkdtemp(prefix="ann_sweep_")
        for name in ("images", "labels", "test_images", "test_labels"):
            np.save(os.path.join(self._folder, f"{name}.npy"), np.ascontiguousarray(getattr(data, name)))
        self.workers_started = 0  # workers that came up (their initializer ran)
        self._stop = self._context.Event()
        self._progress = self._context.Queue()
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(self.workers, mp_context=self._context, initializer=_local_init,
                                      initargs=(self._folder, self._stop, self._progress))

    def submit(self, task: Callable, spec: RunSpec) -> cf.Future:
        with _plain_main():  # the pool starts its processes here, on its first submissions
            return self._pool.submit(_local_task, task, spec)

    def result(self, future: cf.Future, spec: RunSpec) -> dict[str, Any] | None:
        """The run's record, or None if the pool broke under it (see :meth:`broken`)."""
        try:
            return future.result()
        except BrokenProcessPool:
            return None

    def broken(self) -> None:
        """A worker died: the pool is unusable. Start a new one for the runs still to come.

        With a new progress queue too: a process that dies while its queue's feeder thread is writing (the
        previous run's last progress, say) leaves the queue's shared write lock taken for good, and the new
        workers would block on it at exit (a sweep that never ends). Progress lost with the old queue is only
        progress."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._progress = self._context.Queue()
        self._pool = self._new_pool()

    def wait(self, futures: list, timeout: float) -> set:
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def progress_messages(self) -> list[tuple[int, float]]:
        messages = []
        while True:
            try:
                index, fraction = self._progress.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return messages
            if index < 0:
                self.workers_started += 1
            else:
                messages.append((index, fraction))

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._progress.close()
        shutil.rmtree(self._folder, ignore_errors=True)


# --------------------------------------------------------------------------- Dask


def _dask_task(task: Callable, spec: RunSpec, data: SweepData, stop_name: str) -> dict[str, Any]:
    from distributed import Event, get_client

    tune_allocator()
    event = Event(stop_name, client=get_client())
    checked = [0.0, False]

    def should_stop() -> bool:
        now = time.monotonic()
        if now - checked[0] > 1.0:  # a round trip to the scheduler: at most once a second
            checked[0] = now
            checked[1] = bool(event.is_set())
        return checked[1]

    return _guarded(task, spec, data, should_stop, None)


class _Dask:
    """Runs as tasks on a Dask cluster; the data scattered to every worker once."""

    backend = "dask"

    def __init__(self, address: str, data: SweepData) -> None:
        try:
            from distributed import Client, Event
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
        try:
            workers = self.client.scheduler_info().get("workers", {})
            self.workers = sum(w.get("nthreads", 1) for w in workers.values()) or 0
            ship_code(self.client)  # the cluster needs ann's dependencies, not ann itself
            self._stop_name = f"ann-sweep-stop-{uuid.uuid4().hex}"
            self._event = Event(self._stop_name, client=self.client)
            self._data = self.client.scatter(data, broadcast=True)
        except BaseException:
            self.client.close()
            raise

    def submit(self, task: Callable, spec: RunSpec):
        return self.client.submit(_dask_task, task, spec, self._data, self._stop_name, pure=False,
                                  key=f"ann-run-{spec.index}-{uuid.uuid4().hex[:8]}")

    def result(self, future, spec: RunSpec) -> dict[str, Any] | None:
        try:
            return future.result()
        except Exception as exc:  # KilledWorker after the scheduler's retries, a lost connection...
            return _failed(spec, f"{type(exc).__name__} on the Dask cluster: {exc}")

    def broken(self) -> None:  # the scheduler reschedules a lost worker's tasks itself
        pass

    def wait(self, futures: list, timeout: float) -> set:
        # Polled rather than distributed.wait, which looks for a default client (this one is not, so as
        # not to change the caller's process-wide default).
        deadline = time.monotonic() + timeout
        while True:
            done = {f for f in futures if f.done()}
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.02)

    def progress_messages(self) -> list[tuple[int, float]]:
        return []

    def stop(self) -> None:
        self._event.set()

    def close(self) -> None:
        try:
            self._event.set()
        finally:
            self.client.close()


# --------------------------------------------------------------------------- the sweep


def run_sweep(
    specs: Sequence[RunSpec],
    data: SweepData,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
    on_run: RunCallback | None = None,
    should_stop: StopRequest | None = None,
    task: Callable[..., dict[str, Any]] = train_run,
) -> dict[str, Any]:
    """Train every run of a grid, in parallel, and gather their records.

    Parameters
    ----------
    specs : from :func:`expand_grid`
    data : the training and test arrays (only the records the runs use: apply the limit first)
    workers : int, optional
        Local processes (default: the cores this process may use); ignored with ``scheduler``.
    scheduler : str, optional
        A Dask scheduler's address (``tcp://host:8786``): the runs become tasks on its cluster.
    progress : callable(fraction, message), optional
        The fraction of the sweep done (runs weighted by their cost; within a run by epochs, on local
        processes), and a message.
    on_run : callable(record), optional
        Called in this process with each run's record as it ends (finished, failed or stopped).
    should_stop : callable() -> bool, optional
        Polled a few times a second; once True, the running runs stop between two chunks and no new one
        starts (``stopped`` is True in the result).
    task : callable(spec, data, should_stop, progress) -> record
        What a worker runs for a spec: :func:`train_run` (a module-level function, as workers import it).

    Returns
    -------
    dict
        ``{"kind": "grid", "parameters": [{"name", "values"}], "seeds": [...], "config": {the fixed
        settings}, "records", "test_records", "backend": "processes" | "dask", "workers", "scheduler",
        "stopped", "failed" (count), "seconds_total", "runs": [record, ...]}``, runs in grid order; runs
        never started (after a stop) are left out.

    Raises
    ------
    SweepError
        No runs, a bad worker count, Dask missing or the scheduler unreachable.
    """
    specs = list(specs)
    if not specs:
        raise SweepError("the sweep has no runs: give at least one --param value and one seed")
    if scheduler:
        pool: _Processes | _Dask = _Dask(scheduler, data)
    else:
        if workers is None:

            workers = available_cores()
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
            raise SweepError(f"workers={workers!r}: give a whole number of local processes, at least 1")
        pool = _Processes(int(min(workers, len(specs))), data)
    started = time.perf_counter()
    costs = np.array([s.cost for s in specs])
    total = float(costs.sum()) or 1.0
    within = np.zeros(len(specs))
    records: dict[int, dict[str, Any]] = {}
    waiting = list(reversed(specs))  # popped from the end: grid order
    running: dict[Any, RunSpec] = {}
    stopped = retried = False
    slots = max(pool.workers, 1) if pool.backend == "processes" else len(specs)

    def report(message: str) -> None:
        if progress is not None:
            progress(min(float((costs * within).sum()) / total, 1.0), message)

    def finish(spec: RunSpec, record: dict[str, Any]) -> None:
        records[spec.index] = record
        within[spec.index] = 1.0
        if on_run is not None:
            on_run(record)
        failed = sum(r["status"] == "failed" for r in records.values())
        report(f"{len(records)}/{len(specs)} runs done" + (f", {failed} failed" if failed else "")
               + f"; last: {spec.label}")

    try:
        report(f"0/{len(specs)} runs done")
        while waiting or running:
            if not stopped and should_stop is not None and should_stop():
                stopped = True
                pool.stop()
                waiting.clear()
            while waiting and len(running) < slots:
                spec = waiting.pop()
                running[pool.submit(task, spec)] = spec
            if not running:
                break
            for future in pool.wait(list(running), timeout=0.2):
                spec = running.pop(future)
                record = pool.result(future, spec)
                if record is None:  # the local pool broke: every run in it is lost with the process
                    lost = [spec] + list(running.values())
                    running.clear()
                    pool.progress_messages()  # counts the workers that came up
                    never_up = getattr(pool, "workers_started", 1) == 0
                    pool.broken()
                    if never_up and not retried:  # no worker even started (a failed start-up): once more
                        retried = True
                        waiting.extend(reversed(lost))  # popped from the end: grid order
                        break
                    for lost_spec in lost:
                        finish(lost_spec, _failed(lost_spec, "the worker process training it died (killed, "
                                                             "or out of memory); the other runs went on"))
                    break
                finish(spec, record)
            for index, fraction in pool.progress_messages():
                if index not in records:
                    within[index] = min(max(fraction, 0.0), 0.999)
            if running and progress is not None:
                report(f"{len(records)}/{len(specs)} runs done, {len(running)} running")
    finally:
        pool.close()
    runs = [records[i] for i in sorted(records)]
    first = specs[0]
    swept = [name for name, _ in first.values]
    config = configs_to_dict(first.network, first.train)
    for key in (*swept, "seed"):
        config.pop(key, None)
    parameters = [{"name": name, "values": _unique([dict(s.values)[name] for s in specs])} for name in swept]
    return {
        "kind": "grid",
        "parameters": [{"name": p["name"], "values": [list(v) if isinstance(v, tuple) else v for v in p["values"]]}
                       for p in parameters],
        "seeds": _unique([s.seed for s in specs]),
        "config": config,
        "records": int(len(data.images)),
        "test_records": int(len(data.test_images)),
        "train_eval_records": int(first.train_eval_records),
        "backend": pool.backend,
        "workers": int(pool.workers),
        "scheduler": pool.address,
        "stopped": stopped or any(r["status"] == "stopped" for r in runs),
        "failed": sum(r["status"] == "failed" for r in runs),
        "seconds_total": time.perf_counter() - started,
        "runs": runs,
    }


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


# --------------------------------------------------------------------------- the page's result kinds


def as_sweep(grid: dict[str, Any]) -> dict[str, Any]:
    """A one-setting, one-seed grid as the ``"sweep"`` result the Experiments page draws (failed runs and
    partial runs left out of ``values``; a partial run keeps its finished epochs in ``series``)."""
    if len(grid["parameters"]) != 1 or len(grid["seeds"]) != 1:
        raise ValueError("as_sweep needs a grid over one setting with one seed")
    parameter = grid["parameters"][0]["name"]
    series, values, finals = [], [], []
    for run in grid["runs"]:
        value = run["values"][parameter]
        value = value[0] if isinstance(value, list) and len(value) == 1 else value
        if run["epochs"]:
            entry = {"value": value, **{k: run[k] for k in ("epochs", "test_accuracy", "train_loss", "seconds")}}
            if "train_accuracy" in run:
                entry["train_accuracy"] = run["train_accuracy"]
            series.append(entry)
        if run["status"] == "finished" and run["epochs"]:
            values.append(value)
            finals.append(run["final_test_accuracy"])
    config = dict(grid["config"], seed=grid["seeds"][0])
    out = {"kind": "sweep", "parameter": parameter, "config": config, "records": grid["records"],
           "test_records": grid["test_records"], "values": values, "final_test_accuracy": finals,
           "stopped": grid["stopped"], "seconds_total": grid["seconds_total"], "series": series}
    if grid.get("train_eval_records"):
        out["train_eval_records"] = grid["train_eval_records"]
    return out


def as_error_rules(grid: dict[str, Any]) -> dict[str, Any]:
    """A grid over ``error_rule`` (one seed) as the ``"error_rules"`` result the Experiments page draws."""
    if [p["name"] for p in grid["parameters"]] != ["error_rule"] or len(grid["seeds"]) != 1:
        raise ValueError("as_error_rules needs a grid over error_rule alone with one seed")
    series = [{"rule": run["values"]["error_rule"],
               **{k: run[k] for k in ("epochs", "test_accuracy", "train_loss", "seconds")}}
              for run in grid["runs"] if run["epochs"]]
    return {"kind": "error_rules", "config": dict(grid["config"], seed=grid["seeds"][0]),
            "records": grid["records"], "test_records": grid["test_records"], "stopped": grid["stopped"],
            "seconds_total": grid["seconds_total"], "series": series}
