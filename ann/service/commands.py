"""A visitor's requests to the run store (submit, pause, resume, stop, continue, share, delete) and the
housekeeping that keeps each workspace within its limits.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ann.config import NetworkConfig, TrainConfig, configs_to_dict
from ann.data.named import tag_for_key
from ann.data.own import OwnDataError
from ann.dataset_tag import DatasetTag
from ann.files import atomic_write_bytes
from ann.service.queries import Queries
from ann.service.records import (
    ACTIVE_STATUSES,
    ENDED_STATUSES,
    PRIVATE_FOLDER,
    Control,
    RunInfo,
    RunLimitError,
    RunStateError,
    RunStatus,
    dumps_json,
    owner_of,
)

if TYPE_CHECKING:  # the network brings SciPy; listing runs needs only NumPy and sqlite3
    pass


class Commands(Queries):
    """What a visitor asks of their runs; every call names the workspace key."""

    # --- submitting and controlling (a visitor's requests) ------------------------------------------------

    def submit(self, workspace: str, network_config: NetworkConfig, train_config: TrainConfig, *,
               preset: str | None = None, records: int, dataset: str | DatasetTag = "mnist", source: str = "app",
               status: str = RunStatus.QUEUED, worker: str | None = None) -> RunInfo:
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
        if status == RunStatus.QUEUED:
            self._check_active_limit(owner)  # before housekeeping: a refused run must not cost an old one
        self.housekeeping(workspace, making_room=True)
        now = time.time()
        run_id = secrets.token_hex(8)
        config = configs_to_dict(network_config, train_config)
        with self._db(write=True) as conn:
            if status == RunStatus.QUEUED:
                self._check_active_limit(owner, conn)
            number = conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE owner = ?",
                                  (owner,)).fetchone()[0]
            conn.execute(
                "INSERT INTO runs (id, owner, number, status, config, preset, records, dataset, source,"
                " learning_rate, created, queued, started, heartbeat, worker, trained_on, dataset_info)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, owner, number, status, dumps_json(config), preset, int(records), tag.key, source,
                 float(train_config.learning_rate), now, now, now if status == RunStatus.RUNNING else None,
                 now if status == RunStatus.RUNNING else None, worker, worker, dumps_json(tag.to_json())))
        folder = self.folder(run_id)
        folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
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
        atomic_write_bytes(self.folder(run_id) / "run.json", dumps_json(static).encode())

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
        if run.status == RunStatus.QUEUED:
            return self._control(workspace, run_id, (RunStatus.QUEUED,), "paused",
                                 "UPDATE runs SET status = ?, control = ?", (RunStatus.PAUSED, Control.NONE))
        return self._control(workspace, run_id, (RunStatus.RUNNING, RunStatus.PAUSED), "paused",
                             "UPDATE runs SET control = ?", (Control.PAUSE,))

    def resume(self, workspace: str, run_id: str) -> RunInfo:
        """Let a paused run go on: at once if its worker is waiting, else back into the queue."""
        run = self.get_run(workspace, run_id)
        if run.status == RunStatus.PAUSED and run.worker is None:
            return self._control(workspace, run_id, (RunStatus.PAUSED,), "resumed",
                                 "UPDATE runs SET status = ?, control = ?, queued = ?",
                                 (RunStatus.QUEUED, Control.NONE, time.time()))
        return self._control(workspace, run_id, (RunStatus.RUNNING, RunStatus.PAUSED), "resumed",
                             "UPDATE runs SET control = ?", (Control.NONE,))

    def stop(self, workspace: str, run_id: str) -> RunInfo:
        """Stop a run: its finished epochs are kept (the epoch in progress is not). A run that has not
        started yet, or is parked between epochs, stops at once."""
        run = self.get_run(workspace, run_id)
        if run.status == RunStatus.QUEUED or (run.status == RunStatus.PAUSED and run.worker is None):
            return self._control(workspace, run_id, (RunStatus.QUEUED, RunStatus.PAUSED), "stopped",
                                 "UPDATE runs SET status = ?, control = ?, ended = ?, worker = NULL",
                                 (RunStatus.STOPPED, Control.NONE, time.time()))
        return self._control(workspace, run_id, (RunStatus.RUNNING, RunStatus.PAUSED), "stopped",
                             "UPDATE runs SET control = ?", (Control.STOP,))

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
            conn.execute("UPDATE runs SET status = ?, config = ?, queued = ?, ended = NULL, control = ?,"
                         " message = NULL, progress_done = 0, progress_total = 0, epoch_seconds = 0"
                         " WHERE id = ?", (RunStatus.QUEUED, dumps_json(config), time.time(), Control.NONE, run_id))
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
        one more run). With ``workspace`` None, also the choices (``ann.service.choices``) of workspaces that
        have no run left and chose nothing for as long. Returns the removed runs' ids."""
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
            with self._db(write=True) as conn:  # a workspace's choices go with its last run, once as old
                conn.execute("DELETE FROM choices WHERE updated < ? AND owner NOT IN (SELECT owner FROM runs)",
                             (cutoff,))
        return removed
