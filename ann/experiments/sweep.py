"""The one way to run a grid: :func:`run_sweep` trains every run of a grid on an executor (this process,
local processes or a Dask cluster; :mod:`ann.experiments.executors`) and gathers their records.

Results are plain JSON-able dicts of kind ``"grid"`` (see :func:`run_sweep`), saved and read by
:mod:`ann.experiments.results`; :mod:`ann.experiments.seed_claims` turns one-setting grids into the
``"sweep"`` and ``"error_rules"`` results the Experiments page draws. A run's results do not depend on where
it ran: equal seeds give equal numbers here, on processes and on Dask (the tests check it). ``should_stop``
stops every run between two chunks (partial runs keep their finished epochs) and starts no new one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ann.config import configs_to_dict
from ann.experiments.executors import Executor, open_executor
from ann.experiments.grid import RunSpec, SweepData, SweepError
from ann.experiments.run import RunOutcome, RunTask, StopRequest, failed_record, train_run

__all__ = ["run_sweep"]

ProgressCallback = Callable[[float, str], None]  # (fraction of the whole sweep done, message)
RunCallback = Callable[[dict[str, Any]], None]  # called with each run's record as it ends
WAIT_SECONDS = 0.2  # how long the sweep waits for a run to end before it looks at progress and stop again
WORKER_DIED = "the worker process training it died (killed, or out of memory); the other runs went on"


def run_sweep(
    specs: Sequence[RunSpec],
    data: SweepData,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
    on_run: RunCallback | None = None,
    should_stop: StopRequest | None = None,
    task: RunTask = train_run,
) -> dict[str, Any]:
    """Train every run of a grid, in parallel or here, and gather their records.

    Parameters
    ----------
    specs : from :func:`ann.experiments.grid.expand_grid`
    data : the training and test arrays (the runs' ``limit`` is applied here)
    workers : int, optional
        Local processes (default: the cores this process may use); 0: in this process, one run after
        another (``IN_THIS_PROCESS``); ignored with ``scheduler``.
    scheduler : str, optional
        A Dask scheduler's address (``tcp://host:8786``): the runs become tasks on its cluster.
    progress : callable(fraction, message), optional
        The fraction of the sweep done (runs weighted by their cost; within a run by epochs, here and on
        local processes), and a message; 1.0 once it is over.
    on_run : callable(record), optional
        Called in this process with each run's record as it ends (finished, failed or stopped).
    should_stop : callable() -> bool, optional
        Polled a few times a second (here: between chunks); once True, the running runs stop between two
        chunks and no new one starts (``stopped`` is True in the result).
    task : callable(spec, data, should_stop, progress, threads) -> record
        What a worker runs for a spec: :func:`ann.experiments.run.train_run` (a module-level function, as
        workers import it).

    Returns
    -------
    dict
        ``{"kind": "grid", "parameters": [{"name", "values"}], "seeds": [...], "config": {the fixed
        settings}, "records", "test_records", "train_eval_records", "backend": "in_process" | "processes" |
        "dask", "workers", "scheduler", "stopped", "failed" (count), "seconds_total", "runs": [record, ...]}``,
        runs in grid order; runs never started (after a stop) are left out.

    Raises
    ------
    SweepError
        No runs, a bad worker count, Dask missing or the scheduler unreachable.
    """
    specs = list(specs)
    if not specs:
        raise SweepError("the sweep has no runs: give at least one --param value and one seed")
    data = data.limited(_shared_limit(specs))
    tracker = _Tracker(specs, progress, on_run)
    started = time.perf_counter()
    executor = open_executor(data, len(specs), workers, scheduler, should_stop, tracker.run_progress)
    try:
        stopped = _Drive(executor, specs, tracker, should_stop, task).run()
    finally:
        executor.close()
    tracker.over(stopped)
    return _grid_result(specs, data, executor, tracker.records, stopped, time.perf_counter() - started)


def _shared_limit(specs: list[RunSpec]) -> int | None:
    """The records every run trains on (None: all); runs that disagree get all and each takes its own."""
    limits = {spec.train.limit for spec in specs}
    return limits.pop() if len(limits) == 1 else None


class _Tracker:
    """What a sweep has done: each run's record as it ends, and the fraction of the whole done (each run
    weighted by its cost; a running run by the fraction of it its worker reported)."""

    def __init__(self, specs: list[RunSpec], progress: ProgressCallback | None, on_run: RunCallback | None) -> None:
        self.specs, self.progress, self.on_run = specs, progress, on_run
        self.costs = np.array([spec.cost for spec in specs])
        self.total = float(self.costs.sum()) or 1.0
        self.within = np.zeros(len(specs))  # the fraction of each run done
        self.records: dict[int, dict[str, Any]] = {}

    def report(self, message: str) -> None:
        if self.progress is not None:
            self.progress(min(float((self.costs * self.within).sum()) / self.total, 1.0), message)

    def run_progress(self, index: int, fraction: float) -> None:
        """A worker's word on a running run (only whole runs count as done: at most 0.999 of it)."""
        if index in self.records:
            return
        self.within[index] = min(max(fraction, 0.0), 0.999)
        spec = self.specs[index]
        epoch = min(int(fraction * spec.train.epochs) + 1, spec.train.epochs)
        self.report(f"{self.done_message()}; {spec.label}: epoch {epoch}/{spec.train.epochs}")

    def finish(self, spec: RunSpec, record: dict[str, Any]) -> None:
        self.records[spec.index] = record
        self.within[spec.index] = 1.0
        if self.on_run is not None:
            self.on_run(record)
        self.report(f"{self.done_message()}; last: {spec.label}")

    def done_message(self) -> str:
        failed = sum(r["status"] == RunOutcome.FAILED for r in self.records.values())
        return f"{len(self.records)}/{len(self.specs)} runs done" + (f", {failed} failed" if failed else "")

    def over(self, stopped: bool) -> None:
        if self.progress is not None:
            self.progress(1.0, f"stopped: {self.done_message()}" if stopped else self.done_message())


class _Drive:
    """Hands the runs to an executor in grid order, as many at once as it has slots, until every run
    ended or a stop request came; a local pool that breaks is replaced and the runs lost with it failed
    (or, if no worker even started, tried once more)."""

    def __init__(self, executor: Executor, specs: list[RunSpec], tracker: _Tracker,
                 should_stop: StopRequest | None, task: RunTask) -> None:
        self.executor, self.tracker, self.should_stop, self.task = executor, tracker, should_stop, task
        self.waiting = list(reversed(specs))  # popped from the end: grid order
        self.running: dict[Any, RunSpec] = {}
        self.stopped = self.retried = False

    def run(self) -> bool:
        """Drive the sweep to its end; True if a stop request ended it."""
        self.tracker.report(f"0/{len(self.tracker.specs)} runs done")
        while self.waiting or self.running:
            self._check_stop()
            self._hand_over()
            if not self.running:
                break
            self._collect()
            self.executor.poll_progress()
            if self.running:
                self.tracker.report(f"{self.tracker.done_message()}, {len(self.running)} running")
        return self.stopped

    def _check_stop(self) -> None:
        if not self.stopped and self.should_stop is not None and self.should_stop():
            self._stop()

    def _stop(self) -> None:
        self.stopped = True
        self.executor.stop()
        self.waiting.clear()

    def _hand_over(self) -> None:
        while self.waiting and len(self.running) < self.executor.slots:
            spec = self.waiting.pop()
            self.running[self.executor.submit(self.task, spec)] = spec

    def _collect(self) -> None:
        for future in self.executor.wait(list(self.running), timeout=WAIT_SECONDS):
            spec = self.running.pop(future)
            record = self.executor.result(future, spec)
            if record is None:  # the local pool broke: every run in it is lost with the process
                self._pool_broke(spec)
                return
            self.tracker.finish(spec, record)
            if record["status"] == RunOutcome.STOPPED and not self.stopped:  # the stop request reached the run
                self._stop()

    def _pool_broke(self, spec: RunSpec) -> None:
        lost = [spec, *self.running.values()]
        self.running.clear()
        never_started = self.executor.restart()
        if never_started and not self.retried:  # no worker even started (a failed start-up): once more
            self.retried = True
            self.waiting.extend(reversed(lost))  # popped from the end: grid order
            return
        for lost_spec in lost:
            self.tracker.finish(lost_spec, failed_record(lost_spec, WORKER_DIED))


def _grid_result(specs: list[RunSpec], data: SweepData, executor: Executor, records: dict[int, dict[str, Any]],
                 stopped: bool, seconds: float) -> dict[str, Any]:
    runs = [records[i] for i in sorted(records)]
    first = specs[0]
    swept = [name for name, _ in first.values]
    config = configs_to_dict(first.network, first.train)
    for key in (*swept, "seed"):
        config.pop(key, None)
    parameters = [{"name": name, "values": _unique([_plain(dict(s.values)[name]) for s in specs])}
                  for name in swept]
    return {
        "kind": "grid",
        "parameters": parameters,
        "seeds": _unique([s.seed for s in specs]),
        "config": config,
        "records": int(len(data.images)),
        "test_records": int(len(data.test_images)),
        "train_eval_records": int(first.train_eval_records),
        "backend": executor.backend,
        "workers": int(executor.workers),
        "scheduler": executor.address,
        "stopped": stopped or any(r["status"] == RunOutcome.STOPPED for r in runs),
        "failed": sum(r["status"] == RunOutcome.FAILED for r in runs),
        "seconds_total": seconds,
        "runs": runs,
    }


def _plain(value: Any) -> Any:
    """A setting's value as JSON has it (a tuple of layer sizes as a list)."""
    return list(value) if isinstance(value, tuple) else value


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out
