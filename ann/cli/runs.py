"""``runs list|show|export|delete`` and ``train --save-run``: the command line's door to the run store.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ann.cli.common import FAILURE, ProgressBar, UsageError, epoch_done
from ann.config import configs_to_dict
from ann.files import atomic_write_bytes
from ann.formats import format_accuracy
from ann.model_io import save_model
from ann.paths import PROJECT_ROOT
from ann.service.database import this_worker
from ann.service.records import RunNotFound, RunStatus, is_workspace_key, new_workspace_key
from ann.service.store import RunStore
from ann.service.worker import train_run


def _store_and_workspace(args: argparse.Namespace):

    store = RunStore(args.runs_dir)
    for notice in store.notices:  # a damaged or lost database, rebuilt from the run folders
        print(f"note: {notice}", file=sys.stderr)
    if args.workspace is not None:
        if not is_workspace_key(args.workspace):
            raise UsageError(f"--workspace {args.workspace!r} is not a workspace key (16 to 64 letters, digits, "
                             "- and _; copy it from the Runs page's private link)")
        return store, args.workspace
    key_file = store.root / "cli-workspace.key"
    try:
        key = key_file.read_text().strip()
    except FileNotFoundError:
        key = ""
    if not is_workspace_key(key):

        key = new_workspace_key()
        atomic_write_bytes(key_file, key.encode())
        os.chmod(key_file, 0o600)
    return store, key


DEFAULT_DASHBOARD = "http://localhost:8501"  # `streamlit run app.py` with no settings
DASHBOARD_URL_ENV = "ANN_DASHBOARD_URL"  # a server's public address, when it is not the one Streamlit listens on
# Streamlit's own sources for the server's address and port, strongest first after the command line (which the
# CLI cannot see): its environment variables, then the project's config file, then the user's.
STREAMLIT_ENV = {"address": "STREAMLIT_SERVER_ADDRESS", "port": "STREAMLIT_SERVER_PORT",
                 "baseUrlPath": "STREAMLIT_SERVER_BASE_URL_PATH"}
_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # listening everywhere: this machine answers as localhost


def dashboard_url(explicit: str | None = None, environ: Mapping[str, str] | None = None,
                  config_files: Sequence[Path] | None = None) -> str:
    """Where the dashboard of this checkout answers, for the links the CLI prints (no trailing slash).

    ``explicit`` (``--dashboard-url``) or ``$ANN_DASHBOARD_URL`` wins; otherwise the address, port and base path
    Streamlit itself would use: ``$STREAMLIT_SERVER_ADDRESS``, ``$STREAMLIT_SERVER_PORT`` and
    ``$STREAMLIT_SERVER_BASE_URL_PATH``, then ``[server]`` in ``.streamlit/config.toml`` of the project (then of
    the user's home), else Streamlit's defaults (``localhost:8501``). An unreadable config file is skipped.
    """
    environ = os.environ if environ is None else environ
    chosen = explicit or environ.get(DASHBOARD_URL_ENV, "").strip()
    if chosen:
        return chosen.rstrip("/")
    if config_files is None:
        config_files = [PROJECT_ROOT / ".streamlit" / "config.toml", Path.home() / ".streamlit" / "config.toml"]
    server: dict[str, Any] = {}
    for path in reversed(list(config_files)):  # the user's first, the project's over it
        try:
            server |= tomllib.loads(path.read_text()).get("server", {})
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError):
            continue
    for name, variable in STREAMLIT_ENV.items():
        if environ.get(variable, "").strip():
            server[name] = environ[variable].strip()
    address = str(server.get("address", "") or "").strip()
    host = "localhost" if address in _ANY_ADDRESS else (f"[{address}]" if ":" in address else address)
    port = str(server.get("port", "") or "8501").strip()
    base = str(server.get("baseUrlPath", "") or "").strip("/")
    return f"http://{host}:{port}" + (f"/{base}" if base else "")


def _dashboard_link(args: argparse.Namespace, key: str) -> str:
    return f"{dashboard_url(getattr(args, 'dashboard_url', None))}/runs?workspace={key}"


def train_recorded(args: argparse.Namespace, net_cfg, train_cfg, data, n_records: int, out: Path) -> int:
    """``train --save-run``: the run is trained here, by the training service's own loop, and recorded in
    the run store as it goes (checkpoints after every epoch, pause/stop from the dashboard honoured). Data of
    one's own is kept in the workspace's datasets, where the dashboard's workers can continue the run."""

    store, key = _store_and_workspace(args)
    dataset = store.save_dataset(key, data) if data.key.startswith("own-") else data.key
    cluster = _cluster(store, args.scheduler) if args.scheduler else None
    worker = f"{args.scheduler} (dask scheduler)" if cluster is not None else this_worker()
    run = store.submit(key, net_cfg, train_cfg, preset=args.preset, records=n_records, dataset=dataset,
                       source="cli", status=RunStatus.RUNNING, worker=worker)
    where = f" on the Dask cluster at {args.scheduler}" if cluster is not None else ""
    print(f"recording {run.name} (id {run.id}) in {store.root}{where}; the dashboard shows it at "
          f"{_dashboard_link(args, key)}", file=sys.stderr)
    bar = ProgressBar(f"epoch {run.epochs_done + 1}/{train_cfg.epochs}")
    state = {"bar": bar}

    def on_epoch(metrics: dict[str, Any]) -> None:
        state["bar"] = epoch_done(state["bar"], metrics, train_cfg.epochs, quiet=args.json)

    if cluster is not None:
        status = _train_on_cluster(cluster, store, run, data, lambda d, t: state["bar"].update(d, t), on_epoch)
    else:
        status = train_run(store, run, data, on_progress=lambda d, t: state["bar"].update(d, t), on_epoch=on_epoch)
    run = store.get_run(key, run.id)
    history = store.history(run)
    if not run.has_model:
        raise RuntimeError(f"{run.name} ended ({status}) before its first epoch: {run.message or 'no model'}")
    network = store.load_network(run)
    save_model(out, network, train_cfg, history, run.info() | {"trained_by": "python -m ann train"},
               run.dataset_tag)
    result = {"test_accuracy": run.test_accuracy, "train_seconds": run.train_seconds, "epochs": history,
              "config": configs_to_dict(net_cfg, train_cfg), "model": str(out), "run": run.id,
              "status": run.status, "dataset": run.dataset_tag.to_json()}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"performance: {format_accuracy(run.test_accuracy)} on the test set, {run.train_seconds:.1f}s of training; "
              f"model saved to {out}; recorded as {run.name} ({run.status})")
    return 0 if status == RunStatus.FINISHED else FAILURE


def _cluster(store: RunStore, address: str):
    """The Dask executor for one run of this command, or None (and why, on stderr) when its scheduler cannot
    be reached: the run then trains here."""
    try:
        from ann.service.cluster import ClusterExecutor  # Dask: optional, and a second to import
    except ImportError:
        raise UsageError("--scheduler needs Dask's distributed scheduler: pip install -r requirements-dask.txt") from None
    cluster = ClusterExecutor(store, address, claim=False)
    if not cluster.connected:
        print(f"note: {cluster.unreachable or cluster.notice}; the run trains here.", file=sys.stderr)
        cluster.close()
        return None
    return cluster


def _train_on_cluster(cluster, store: RunStore, run, data, on_progress, on_epoch) -> str:
    """Send the run to the cluster and follow it in the store, which this process writes as the messages
    arrive; Ctrl-C marks it interrupted (resumable)."""
    try:
        cluster.start(run, data)
        seen = run.epochs_done
        while True:
            now = store._run(run.id)
            history = store.history(now) if now.epochs_done > seen else []
            for metrics in history[seen:]:
                on_epoch(metrics)
            seen = max(seen, now.epochs_done)
            if now.progress_total:
                on_progress(now.progress_done, now.progress_total)
            if not now.active:
                return now.status
            if not cluster.held():  # ended there: the executor has written how
                return store._run(run.id).status
            time.sleep(0.2)
    except KeyboardInterrupt:
        cluster.close("Interrupted (Ctrl-C).")
        raise
    finally:
        cluster.close()


def _find_run(store, key: str, text: str):

    runs = store.list_runs(key)
    wanted = text.strip()
    number = wanted[4:].strip() if wanted.lower().startswith("run ") else wanted
    for run in runs:
        if run.id == wanted or (number.isdigit() and run.number == int(number)):
            return run
    raise RunNotFound(f"no run {text!r} in this workspace ('python -m ann runs list' lists them)")


def cmd_runs(args: argparse.Namespace) -> int:

    store, key = _store_and_workspace(args)
    try:
        if args.runs_command == "list":
            runs = store.list_runs(key)
            if args.json:
                print(json.dumps([_run_summary(run) for run in runs]))
                return 0
            if not runs:
                print(f"no runs in this workspace ({store.root})")
                return 0
            print(f"{'run':<8} {'id':<16} {'status':<12} {'data':<16} {'network':<18} {'epochs':>7} {'test':>8}  "
                  "created")
            for run in runs:
                accuracy = format_accuracy(run.test_accuracy)
                created = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created))
                layers = "-".join(str(n) for n in run.network_config.layer_sizes)
                data = run.dataset_title if len(run.dataset_title) <= 16 else run.dataset_title[:15] + "~"
                print(f"{run.name:<8} {run.id:<16} {run.status:<12} {data:<16} {layers:<18} "
                      f"{run.epochs_done:>3}/{run.target_epochs:<3} {accuracy:>8}  {created}")
            if args.workspace is None:
                print(f"\nthe dashboard lists these at {_dashboard_link(args, key)}")
            return 0
        run = _find_run(store, key, args.run)
        if args.runs_command == "show":
            history = store.history(run)
            if args.json:
                print(json.dumps(_run_summary(run) | {"epochs": history, "events": store.events(run),
                                                      "points": store.points(run), "message": run.message}))
                return 0
            summary = _run_summary(run)
            for name, value in summary.items():
                if name != "config":
                    print(f"{name:>15}: {value}")
            print(f"{'config':>15}: " + ", ".join(f"{k}={v}" for k, v in summary["config"].items()))
            if run.message:
                print(f"{'message':>15}: {run.message}")
            points = store.points(run)
            if points:
                print(f"{'live points':>15}: {len(points)}, every 2% of an epoch (--json lists them)")
            for epoch in history:
                test = epoch.get("test_accuracy")
                print(f"epoch {epoch['epoch']:>3}: train_loss {epoch['train_loss']:.4f} train_accuracy "
                      f"{epoch['train_accuracy']:.4f} test_accuracy {test if test is None else round(test, 4)} "
                      f"lr {epoch.get('learning_rate')} seconds {epoch['seconds']:.1f}")
            return 0
        if args.runs_command == "export":

            if not run.has_model:
                raise RuntimeError(f"{run.name} has no finished epoch yet, so no model to export")
            out = Path(args.out)
            if out.is_dir():
                raise UsageError(f"--out {out} is a folder; give a file name such as {out / 'model.npz'}")
            atomic_write_bytes(out, store.model_bytes(run))
            print(f"{run.name} (epoch {run.epochs_done}, {format_accuracy(run.test_accuracy)}) written to {out}")
            return 0
        store.delete(key, run.id)
        print(f"{run.name} ({run.id}) deleted")
        return 0
    except RunNotFound as exc:
        message = str(exc) if str(exc) != "not found" else f"run {getattr(args, 'run', '')!r} not found"
        print(f"error: {message}", file=sys.stderr)
        return FAILURE


def _run_summary(run) -> dict[str, Any]:
    return {"run": run.name, "id": run.id, "status": run.status, "epochs_done": run.epochs_done,
            "target_epochs": run.target_epochs, "test_accuracy": run.test_accuracy,
            "best_accuracy": run.best_accuracy, "train_seconds": run.train_seconds, "records": run.records,
            "preset": run.preset, "source": run.source, "created": run.created, "dataset": run.dataset,
            "dataset_title": run.dataset_title, "trained_on": run.trained_on,
            "config": configs_to_dict(run.network_config, run.train_config)}
