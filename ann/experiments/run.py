"""One run of a grid: a :class:`~ann.experiments.grid.RunSpec` trained with :func:`ann.train.train`, the
product's own loop, into a plain JSON-able record (wherever it runs: this process, a local worker process, a
Dask worker)."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from ann.experiments.grid import RunSpec, SweepData
from ann.network import Network
from ann.train import accuracy_of, train

__all__ = ["RunOutcome", "RunTask", "failed_record", "guarded", "train_run"]

StopRequest = Callable[[], bool]
RunProgress = Callable[[float], None]  # the fraction of this run done
# What an executor runs for a spec: (spec, data, should_stop, progress, threads) -> record. Module-level, so
# that worker processes import it by name.
RunTask = Callable[[RunSpec, SweepData, StopRequest | None, RunProgress | None, int | None], dict[str, Any]]


class RunOutcome(StrEnum):
    """How a run of a grid ended."""

    FINISHED = "finished"
    FAILED = "failed"  # it raised, or its worker process died; ``error`` says why
    STOPPED = "stopped"  # a stop request ended it between two chunks; its finished epochs are kept


def train_run(spec: RunSpec, data: SweepData, should_stop: StopRequest | None = None,
              progress: RunProgress | None = None, threads: int | None = None) -> dict[str, Any]:
    """Train one run of a grid with :func:`ann.train.train`; its record.

    ``threads``: the BLAS threads (:func:`ann.train.blas_threads`; worker processes train with one each,
    a run in the caller's process as the caller's defaults say). ``progress`` hears the run's fraction
    done after every chunk and every epoch.

    Returns
    -------
    dict
        ``index``, ``values`` ({setting: value}), ``seed``, ``status`` ("finished" or "stopped"),
        ``epochs``, ``test_accuracy``, ``train_loss``, ``seconds`` (per finished epoch; a stopped epoch is
        left out), ``train_accuracy`` when ``spec.train_eval_records``, ``final_test_accuracy`` (None if no
        epoch finished), ``worker`` (host and process id) and ``error`` (None).
    """
    network = Network(spec.network, seed=spec.train.seed)
    record = _empty_record(spec, RunOutcome.FINISHED)
    evaluate = None
    if spec.train_eval_records:
        k = min(spec.train_eval_records, len(data.images))
        evaluate = (data.images[:k], data.labels[:k])
    epochs = spec.train.epochs
    epoch_now = 1  # the epoch being trained

    def on_chunk(done: int, total: int) -> None:
        if progress is not None:
            progress((epoch_now - 1 + done / max(total, 1)) / epochs)

    for metrics in train(network, data.images, data.labels, spec.train, data.test_images, data.test_labels,
                         progress=on_chunk, should_stop=should_stop, threads=threads):
        if metrics["stopped"]:
            record["status"] = RunOutcome.STOPPED
            break
        for key in ("test_accuracy", "train_loss", "seconds"):
            record[key].append(metrics[key])
        record["epochs"].append(metrics["epoch"])
        if evaluate is not None:
            # A clean forward pass over fixed training records, not the epoch's running accuracy (which
            # mixes in rotated copies and counts each record before the step that learns from it).
            record["train_accuracy"].append(accuracy_of(network, *evaluate))
        epoch_now = metrics["epoch"] + 1
        if progress is not None:
            progress(metrics["epoch"] / epochs)
    record["final_test_accuracy"] = record["test_accuracy"][-1] if record["test_accuracy"] else None
    return record


def _empty_record(spec: RunSpec, status: RunOutcome) -> dict[str, Any]:
    record = {"index": spec.index, "values": {k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.values},
              "seed": spec.seed, "worker": f"{os.uname().nodename}:{os.getpid()}", "error": None,
              "status": status, "epochs": [], "test_accuracy": [], "train_loss": [], "seconds": []}
    if spec.train_eval_records:
        record["train_accuracy"] = []
    record["final_test_accuracy"] = None
    return record


def failed_record(spec: RunSpec, message: str) -> dict[str, Any]:
    """The record of a run that did not train: no epochs, and ``message`` as its error."""
    record = _empty_record(spec, RunOutcome.FAILED)
    record["error"] = message
    return record


def guarded(task: RunTask, spec: RunSpec, data: SweepData, should_stop: StopRequest | None,
            progress: RunProgress | None, threads: int | None) -> dict[str, Any]:
    """Run ``task``; an exception becomes a failed record (on a worker: the worker and the other runs go on)."""
    try:
        return task(spec, data, should_stop, progress, threads)
    except Exception as exc:  # reported in the results, never raised into the pool
        last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" ({os.path.basename(last.filename)}:{last.lineno})" if last else ""
        return failed_record(spec, f"{type(exc).__name__}: {exc}{where}")
