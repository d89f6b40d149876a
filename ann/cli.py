"""The command line: ``python -m ann download | train | evaluate | predict | sweep | runs``.

Which data: ``--dataset mnist|fashion|kmnist`` names a dataset published in MNIST's format (downloaded on first
use into its folder under ``data/``); ``--data PATH`` gives data of one's own (``ann.own_data``: a CSV file, a
pair of IDX files, a folder or zip of one subfolder per class), or, with ``--dataset``, the folder holding that
dataset's four files. A folder that holds a named dataset's files (MNIST's, as always) is read as that dataset.

Exit codes: 0 success, 2 a usage error (a bad flag or value), 1 any other failure, with a one-line message
on stderr and no traceback (set ``ANN_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ann import __version__
from ann.config import PRESETS, ConfigError, configs_from_dict, configs_to_dict

USAGE_ERROR = 2
FAILURE = 1


class UsageError(Exception):
    """A bad command-line value: exit code 2."""


class ProgressBar:
    """One self-overwriting progress line on stderr, redrawn at most a few times a second."""

    def __init__(self, label: str, stream=sys.stderr, width: int = 30) -> None:
        self.label = label
        self.stream = stream
        self.width = width
        self.started = time.perf_counter()
        self.last_draw = 0.0

    def update(self, done: float, total: float, suffix: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last_draw < 0.25 and done < total:
            return
        self.last_draw = now
        fraction = min(done / total, 1.0) if total else 1.0
        filled = int(fraction * self.width)
        elapsed = now - self.started
        eta = elapsed / fraction - elapsed if fraction > 0 else 0.0
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:6.1%} ETA {eta:5.0f}s {suffix}")
        self.stream.flush()

    def close(self, message: str = "") -> None:
        self.stream.write(f"\r{self.label} {message}".ljust(self.width + 40) + "\n")
        self.stream.flush()


def _data_args(parser: argparse.ArgumentParser, own: bool = True) -> None:
    from ann.datasets import DATASET_KEYS

    parser.add_argument("--dataset", choices=DATASET_KEYS, default=None,
                        help="a dataset in MNIST's format: mnist (handwritten digits, the default), fashion "
                             "(Fashion-MNIST) or kmnist (Kuzushiji-MNIST); downloaded on first use")
    if not own:
        parser.add_argument("--data", metavar="DIR", default=None,
                            help="the folder for the dataset's four files (default: data/ for MNIST, data/fashion/ "
                                 "and data/kmnist/ for the others; data/ is $ANN_DATA_DIR if set)")
        return
    parser.add_argument("--data", metavar="PATH", nargs="+", default=None,
                        help="your own data: a CSV file (the seed's format), a pair of IDX files, or a folder or "
                             ".zip with one subfolder of images per class; or, with --dataset, the folder holding "
                             "that dataset's four files (a folder holding MNIST's files is read as MNIST)")
    parser.add_argument("--test-fraction", type=float, default=None, metavar="F",
                        help="your own data given as one set: the share of each class held out for testing "
                             "(default 0.2)")
    parser.add_argument("--split-seed", type=int, default=None, metavar="N",
                        help="the seed of that split and of the shuffling (default 0)")


def _workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", metavar="KEY", default=None,
                        help="the workspace key (default: the command line's own, kept in the runs folder)")
    parser.add_argument("--runs-dir", metavar="DIR", default=None,
                        help="the run store (default: $ANN_RUNS_DIR, else runs/ in the project)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _copy_flags(source: argparse.ArgumentParser, target: argparse.ArgumentParser, skip: tuple[str, ...]) -> None:
    """Give ``target`` a copy of each of ``source``'s options (not those whose dest is in ``skip``). Copies,
    not the same objects (as ``parents=`` would share), so that changing one parser never changes the other."""
    for action in source._actions:
        if action.dest not in skip and action.option_strings:
            target._add_action(copy.copy(action))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ann",
        description="ANN Explorer: Tariq Rashid's MNIST network in NumPy. Defaults are the seed's values.")
    parser.add_argument("--version", action="version", version=f"ann {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("download", help="download and verify a dataset's four files (MNIST by default)")
    _data_args(p, own=False)

    p = sub.add_parser("train", help="train a network and save it",
                       description="Train a network. Flags not given come from --preset (if any), "
                                   "else the seed's values.")
    _data_args(p)
    p.add_argument("--preset", choices=sorted(PRESETS), help="a named recipe; explicit flags override it")
    p.add_argument("--hidden", type=_positive_int, nargs="+", metavar="N",
                   help="hidden layer sizes, e.g. --hidden 200 or --hidden 300 100 (seed: 200)")
    p.add_argument("--lr", type=float, dest="learning_rate", help="learning rate (seed: 0.1)")
    p.add_argument("--epochs", type=_positive_int, help="passes over the training set (seed: 5)")
    p.add_argument("--batch-size", type=_positive_int, help="samples per step (seed: 1)")
    p.add_argument("--rotate", type=float, help="rotation in degrees, 0 = off (seed: 10)")
    p.add_argument("--augment", choices=["copies", "random"],
                   help="copies: each record also trained at +/-rotate (seed); random: one random "
                        "distortion per record per epoch")
    p.add_argument("--shift", type=int, help="random: largest shift in pixels")
    p.add_argument("--elastic", type=float, dest="elastic_alpha", help="random: elastic distortion strength")
    p.add_argument("--elastic-sigma", type=float, help="random: smoothness of the elastic field in pixels")
    p.add_argument("--elastic-fraction", type=float,
                   help="random: share of each epoch's records also distorted elastically (default 1)")
    p.add_argument("--thickness", type=float,
                   help="random: strokes thinned or thickened by up to this many pixels of width (0 = off)")
    p.add_argument("--contrast", type=float,
                   help="random: stroke edges raised to a power from 1/(1+C) to 1+C, softer or harder (0 = off)")
    p.add_argument("--noise", type=float,
                   help="random: Gaussian noise of standard deviation up to this, on the 0..1 scale (0 = off)")
    p.add_argument("--momentum", type=float, help="momentum (seed: 0)")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay (seed: 0)")
    p.add_argument("--schedule", choices=["constant", "cosine"], help="learning-rate schedule (seed: constant)")
    p.add_argument("--warmup-epochs", type=float, help="cosine: linear warm-up over this many epochs")
    p.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=None,
                   help="shuffle the records every epoch (seed: no)")
    p.add_argument("--activation", choices=["sigmoid", "tanh", "relu"], help="hidden activation (seed: sigmoid)")
    p.add_argument("--loss", choices=["mse", "cross_entropy"],
                   help="mse with sigmoid outputs (seed) or cross_entropy with softmax outputs")
    p.add_argument("--error-rule", choices=["transpose", "equal", "proportional", "transpose_normalized"],
                   help="how the error is sent back to hidden layers (seed: transpose)")
    p.add_argument("--propagate", choices=["error", "delta"],
                   help="error: the seed's update; delta: exact backpropagation")
    p.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None,
                   help="bias nodes (seed: none)")
    p.add_argument("--seed", type=int, help="random seed (seed: 80)")
    p.add_argument("--limit", type=_positive_int, help="train on the first N training records only")
    p.add_argument("--dtype", choices=["float32", "float64"], help="float64 reproduces the seed bit for bit")
    p.add_argument("--out", default="model.npz", help="where to save the model (default: model.npz)")
    p.add_argument("--float16", action="store_true",
                   help="store the weights as float16 in the model file: half the size; the network computes in "
                        "its own dtype after loading (the test accuracy is checked again and reported)")
    p.add_argument("--json", action="store_true", help="end with one JSON line of results on stdout")
    p.add_argument("--save-run", action="store_true",
                   help="also record the run in the run store (runs/ or $ANN_RUNS_DIR), where the dashboard's "
                        "Runs page and 'python -m ann runs' list it")
    _workspace_arg(p)

    p = sub.add_parser("runs", help="list, show, export or delete recorded training runs",
                       description="The run store shared with the dashboard. Commands act on one workspace: the "
                                   "command line's own (made on first use), or --workspace KEY (a browser's "
                                   "key is in its private link on the Runs page).")
    runs_sub = p.add_subparsers(dest="runs_command", required=True, metavar="RUNS_COMMAND")
    q = runs_sub.add_parser("list", help="the workspace's runs, one line each")
    _workspace_arg(q)
    q.add_argument("--json", action="store_true", help="print one JSON list")
    q = runs_sub.add_parser("show", help="one run: its settings and every epoch")
    q.add_argument("run", metavar="RUN", help="a run's id, or its number (3 or 'Run 3')")
    _workspace_arg(q)
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q = runs_sub.add_parser("export", help="write a run's model file (its last whole epoch)")
    q.add_argument("run", metavar="RUN", help="a run's id, or its number")
    q.add_argument("--out", required=True, help="the model file to write (.npz)")
    _workspace_arg(q)
    q = runs_sub.add_parser("delete", help="delete a run and its checkpoints")
    q.add_argument("run", metavar="RUN", help="a run's id, or its number")
    _workspace_arg(q)

    p = sub.add_parser("evaluate", help="score a model on a test set (by default that of the dataset it was "
                                        "trained on)")
    p.add_argument("model", help="a model file saved by 'train'")
    _data_args(p)
    p.add_argument("--json", action="store_true", help="print the results as one JSON line")

    p = sub.add_parser("predict", help="read the class (the digit, for MNIST) of your own images (PNG, JPG, "
                                       "phone photos)",
                       description="Read the class of each image (its digit, for a model trained on MNIST), "
                                   "prepared as the dashboard's Draw page does. Exit code 1 if any file could not "
                                   "be read (the others are still read).")
    p.add_argument("--model", metavar="FILE", default=None,
                   help="a model file (default: the dashboard's default model, "
                        "data/<the shipped handwriting model>)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files, dark ink on light or the reverse")
    p.add_argument("--json", action="store_true",
                   help="end with one JSON list on stdout: file, digit, confidence, outputs, error per image")

    # sweep: every training flag of 'train' (copied from its parser, so the two never drift apart), plus
    # the grid, the seeds and where the runs train. --out and --json are the sweep's own.
    p = sub.add_parser("sweep", help="train a grid of runs in parallel (local processes or a Dask cluster)",
                       description="Train every combination of the --param values (for each seed) in "
                                   "parallel. Other training flags fix the rest, as for 'train'.")
    _copy_flags(sub.choices["train"], p, skip=("help", "out", "float16", "json", "save_run", "workspace", "runs_dir"))
    p.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...", required=True,
                   help="a setting and its values, e.g. learning_rate=0.01,0.03,0.1 or hidden_nodes=100,200 "
                        "(layers: 300x100); repeat for a grid")
    p.add_argument("--seeds", type=_positive_int, default=1,
                   help="seeds per grid point: --seed, --seed + 1, ... (default 1)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None,
                       help="local processes, one run each at a time (default: the cores)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                       help="train on this Dask cluster instead (pip install -r requirements-dask.txt)")
    p.add_argument("--out", default="sweep.json", help="results file, the Experiments page's format "
                                                       "(default: sweep.json)")
    p.add_argument("--json", action="store_true", help="end with one JSON line of results on stdout")
    return parser


def _load_data(args: argparse.Namespace, model_tag=None):
    """The dataset the flags name (see the module's docstring); ``model_tag``: a model's own dataset, the
    default when no flag names one."""
    from ann.datasets import NAMED, identify_folder, load_named
    from ann.own_data import SPLIT_SEED, TEST_FRACTION, read_own_data

    bars: dict[str, ProgressBar] = {}

    def progress(done: int, total: int, label: str) -> None:
        if label not in bars:
            for other in bars.values():
                other.close("done")
            bars.clear()
            bars[label] = ProgressBar(label)
        bars[label].update(done, total)

    def download_progress(done: int, total: int, filename: str) -> None:
        progress(done, total, f"downloading {filename}")

    def finish(dataset):
        for bar in bars.values():
            bar.close("done")
        return dataset

    key, paths = args.dataset, getattr(args, "data", None)
    split_flags = getattr(args, "test_fraction", None) is not None or getattr(args, "split_seed", None) is not None
    if key is None and paths is None and model_tag is not None and model_tag.key != "mnist":
        if model_tag.key not in NAMED:
            raise UsageError(f"{args.model} was trained on {model_tag.title} ({model_tag.key}), data of your own: "
                             "give it with --data PATH")
        key = model_tag.key
    if paths is None or key is not None:
        if paths is not None and len(paths) != 1:
            raise UsageError(f"--dataset {key} with --data: give the one folder that holds its four files")
        if split_flags:
            raise UsageError("--test-fraction and --split-seed split your own data (--data); a named dataset comes "
                             "with its own test set")
        return finish(load_named(key or "mnist", folder=paths[0] if paths else None, progress=download_progress))
    if len(paths) == 1:
        path = Path(paths[0])
        if not path.exists() or (path.is_dir() and not any(path.iterdir())):
            return finish(load_named("mnist", folder=path, progress=download_progress))  # MNIST's folder, to fill
        if path.is_dir() and (found := identify_folder(path)) is not None and not split_flags:
            return finish(load_named(found, folder=path, progress=download_progress))
    fraction = args.test_fraction if args.test_fraction is not None else TEST_FRACTION
    seed = args.split_seed if args.split_seed is not None else SPLIT_SEED
    dataset = read_own_data(paths, test_fraction=fraction, seed=seed,
                            progress=lambda done, total: progress(done, total, "reading images"))
    return finish(dataset)


def _describe_data(dataset) -> str:
    return (f"{dataset.title} ({dataset.key}): {len(dataset.train):,} training and {len(dataset.test):,} test "
            f"images, {dataset.n_classes} classes" + (f"; {dataset.note}" if dataset.key.startswith("own-") else ""))


def cmd_download(args: argparse.Namespace) -> int:
    from ann.data import ensure_mnist
    from ann.datasets import ensure_named, named

    bar: ProgressBar | None = None

    def progress(done: int, total: int, filename: str) -> None:
        nonlocal bar
        if bar is None or bar.label != filename:
            if bar is not None:
                bar.close("done")
            bar = ProgressBar(filename)
        bar.update(done, total)

    key = args.dataset or "mnist"
    if args.data is None:  # its own folder under the data folder
        folder = ensure_named(key, progress=progress)
    else:  # the folder given holds the four files
        folder = ensure_mnist(args.data, progress=progress, source=named(key).published)
    if bar is not None:
        bar.close("done")
    print(f"{named(key).title} is ready in {folder}")
    return 0


_TRAIN_FLAGS = ("learning_rate", "epochs", "batch_size", "rotate", "augment", "shift", "elastic_alpha",
                "elastic_sigma", "elastic_fraction", "thickness", "contrast", "noise", "warmup_epochs",
                "momentum", "weight_decay", "schedule", "shuffle", "activation", "loss", "error_rule",
                "propagate", "bias", "seed", "limit", "dtype")


def _epoch_done(bar: ProgressBar, metrics: dict[str, Any], epochs: int, quiet: bool) -> ProgressBar:
    """Close the epoch's progress line with its figures, print its line (unless ``quiet``: --json), and
    return the next epoch's bar."""
    bar.close(f"loss {metrics['train_loss']:.4f}  train {metrics['train_accuracy']:.2%}  "
              f"test {metrics['test_accuracy']:.2%}  {metrics['seconds']:.1f}s")
    if not quiet:
        print(f"epoch {metrics['epoch']}: train_loss {metrics['train_loss']:.4f} "
              f"train_accuracy {metrics['train_accuracy']:.4f} "
              f"test_accuracy {metrics['test_accuracy']:.4f} seconds {metrics['seconds']:.1f}")
    return ProgressBar(f"epoch {metrics['epoch'] + 1}/{epochs}")


def cmd_train(args: argparse.Namespace) -> int:
    from ann.model_io import save_model
    from ann.network import Network
    from ann.train import train

    values: dict[str, Any] = {k: getattr(args, k) for k in _TRAIN_FLAGS if getattr(args, k) is not None}
    if args.hidden is not None:
        values["hidden_nodes"] = tuple(args.hidden)
    try:
        net_cfg, train_cfg = configs_from_dict(values, preset=args.preset)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name such as {out / 'model.npz'}")

    data = _load_data(args)
    # one output node per class: 10 for MNIST and its siblings, as many as your own data has
    net_cfg = replace(net_cfg, output_nodes=data.n_classes)
    network = Network(net_cfg, seed=train_cfg.seed)
    n_records = min(train_cfg.limit or len(data.train.labels), len(data.train.labels))
    if args.save_run:
        return _train_recorded(args, net_cfg, train_cfg, data, n_records, out)
    layers = "-".join(str(n) for n in net_cfg.layer_sizes)
    print(f"data: {_describe_data(data)}", file=sys.stderr)
    print(f"training {layers} {net_cfg.activation}/{net_cfg.loss} on {n_records} records "
          f"x{train_cfg.copies_per_record}, {train_cfg.epochs} epochs, batch {train_cfg.batch_size}, "
          f"lr {train_cfg.learning_rate}", file=sys.stderr)
    history: list[dict[str, Any]] = []
    bar = ProgressBar(f"epoch 1/{train_cfg.epochs}")

    def progress(done: int, total: int) -> None:
        bar.update(done, total)

    for metrics in train(network, data.train.images, data.train.labels, train_cfg,
                         data.test.images, data.test.labels, progress=progress):
        history.append(metrics)
        bar = _epoch_done(bar, metrics, train_cfg.epochs, quiet=args.json)
    train_seconds = sum(m["seconds"] for m in history)
    info = {"trained_by": "python -m ann train", "preset": args.preset, "train_records": n_records,
            "test_accuracy": history[-1]["test_accuracy"], "train_seconds": train_seconds, "dataset": data.key}
    stored = {}
    if args.float16:
        # The file's own accuracy: the weights as they will be read back, rounded to float16.
        from ann.model_io import load_model, model_to_bytes
        from ann.train import accuracy_of

        reread = load_model(model_to_bytes(network, dataset=data.tag, storage="float16")).network
        info["stored_as"] = "float16"
        info["test_accuracy"] = accuracy_of(reread, data.test.images, data.test.labels)
        stored = {"stored_as": "float16", "stored_test_accuracy": info["test_accuracy"]}
    save_model(out, network, train_cfg, history, info, data.tag, storage="float16" if args.float16 else None)
    result = {
        "test_accuracy": history[-1]["test_accuracy"],
        "train_seconds": train_seconds,
        "epochs": history,
        "config": configs_to_dict(net_cfg, train_cfg),
        "model": str(out),
        "dataset": data.tag.to_json(),
        **stored,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"performance: {result['test_accuracy'] * 100:.2f}% on the test set, "
              f"{train_seconds:.1f}s of training; model saved to {out}"
              + (f" (float16: {stored['stored_test_accuracy'] * 100:.2f}%)" if stored else ""))
    return 0


def _store_and_workspace(args: argparse.Namespace):
    from ann.runs import RunStore, is_workspace_key, new_workspace_key

    store = RunStore(args.runs_dir)
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
        from ann.files import atomic_write_bytes

        key = new_workspace_key()
        atomic_write_bytes(key_file, key.encode())
        os.chmod(key_file, 0o600)
    return store, key


def _dashboard_link(key: str) -> str:
    return f"http://localhost:8501/runs?workspace={key}"


def _train_recorded(args: argparse.Namespace, net_cfg, train_cfg, data, n_records: int, out: Path) -> int:
    """``train --save-run``: the run is trained here, by the training service's own loop, and recorded in
    the run store as it goes (checkpoints after every epoch, pause/stop from the dashboard honoured). Data of
    one's own is kept in the workspace's datasets, where the dashboard's workers can continue the run."""
    from ann.jobs import train_run
    from ann.model_io import save_model
    from ann.runs import FINISHED, RUNNING, this_worker

    store, key = _store_and_workspace(args)
    dataset = store.save_dataset(key, data) if data.key.startswith("own-") else data.key
    run = store.submit(key, net_cfg, train_cfg, preset=args.preset, records=n_records, dataset=dataset,
                       source="cli", status=RUNNING, worker=this_worker())
    print(f"recording {run.name} (id {run.id}) in {store.root}; the dashboard shows it at "
          f"{_dashboard_link(key)}", file=sys.stderr)
    bar = ProgressBar(f"epoch {run.epochs_done + 1}/{train_cfg.epochs}")
    state = {"bar": bar}

    def on_epoch(metrics: dict[str, Any]) -> None:
        state["bar"] = _epoch_done(state["bar"], metrics, train_cfg.epochs, quiet=args.json)

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
        print(f"performance: {run.test_accuracy * 100:.2f}% on the test set, {run.train_seconds:.1f}s of training; "
              f"model saved to {out}; recorded as {run.name} ({run.status})")
    return 0 if status == FINISHED else FAILURE


def _find_run(store, key: str, text: str):
    from ann.runs import RunNotFound

    runs = store.list_runs(key)
    wanted = text.strip()
    number = wanted[4:].strip() if wanted.lower().startswith("run ") else wanted
    for run in runs:
        if run.id == wanted or (number.isdigit() and run.number == int(number)):
            return run
    raise RunNotFound(f"no run {text!r} in this workspace ('python -m ann runs list' lists them)")


def cmd_runs(args: argparse.Namespace) -> int:
    from ann.runs import RunNotFound

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
                accuracy = f"{run.test_accuracy:.2%}" if run.test_accuracy is not None else "-"
                created = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created))
                layers = "-".join(str(n) for n in run.network_config.layer_sizes)
                data = run.dataset_title if len(run.dataset_title) <= 16 else run.dataset_title[:15] + "~"
                print(f"{run.name:<8} {run.id:<16} {run.status:<12} {data:<16} {layers:<18} "
                      f"{run.epochs_done:>3}/{run.target_epochs:<3} {accuracy:>8}  {created}")
            if args.workspace is None:
                print(f"\nthe dashboard lists these at {_dashboard_link(key)}")
            return 0
        run = _find_run(store, key, args.run)
        if args.runs_command == "show":
            history = store.history(run)
            if args.json:
                print(json.dumps(_run_summary(run) | {"epochs": history, "events": store.events(run),
                                                      "message": run.message}))
                return 0
            summary = _run_summary(run)
            for name, value in summary.items():
                if name != "config":
                    print(f"{name:>15}: {value}")
            print(f"{'config':>15}: " + ", ".join(f"{k}={v}" for k, v in summary["config"].items()))
            if run.message:
                print(f"{'message':>15}: {run.message}")
            for epoch in history:
                test = epoch.get("test_accuracy")
                print(f"epoch {epoch['epoch']:>3}: train_loss {epoch['train_loss']:.4f} train_accuracy "
                      f"{epoch['train_accuracy']:.4f} test_accuracy {test if test is None else round(test, 4)} "
                      f"lr {epoch.get('learning_rate')} seconds {epoch['seconds']:.1f}")
            return 0
        if args.runs_command == "export":
            from ann.files import atomic_write_bytes

            if not run.has_model:
                raise RuntimeError(f"{run.name} has no finished epoch yet, so no model to export")
            out = Path(args.out)
            if out.is_dir():
                raise UsageError(f"--out {out} is a folder; give a file name such as {out / 'model.npz'}")
            atomic_write_bytes(out, store.model_bytes(run))
            print(f"{run.name} (epoch {run.epochs_done}, {run.test_accuracy:.2%}) written to {out}")
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
            "dataset_title": run.dataset_title,
            "config": configs_to_dict(run.network_config, run.train_config)}


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ann.datasets import mismatch
    from ann.metrics import evaluate
    from ann.model_io import load_model

    model = load_model(args.model)
    data = _load_data(args, model.dataset)
    problem = mismatch(model.dataset, data.tag)
    if problem is not None and model.network.config.output_nodes != data.n_classes:
        raise RuntimeError(problem)
    if problem is not None:  # same number of classes: it can be scored, but say what it is
        print(f"note: {problem}", file=sys.stderr)
    result = evaluate(model.network, data.test.images, data.test.labels)
    names = list(data.class_names)
    if args.json:
        print(json.dumps({
            "accuracy": result.accuracy,
            "test_accuracy": result.accuracy,
            "confusion": result.confusion.tolist(),
            "precision": result.precision.tolist(),
            "recall": result.recall.tolist(),
            "dataset": data.tag.to_json(),
            "model_dataset": model.dataset.to_json(),
        }))
        return 0
    print(f"performance: {result.accuracy * 100:.2f}% ({int(np.trace(result.confusion))} of "
          f"{len(data.test.labels)} test images of {data.title})")
    width = max(6, min(max(len(n) for n in names), 12) + 1)
    short = [n if len(n) < width else n[:width - 2] + "~" for n in names]
    what = "digit" if data.digits else "class"
    print(f"\nconfusion matrix (rows: true {what}, columns: predicted)")
    print(" " * width + "".join(f"{n:>{width}}" for n in short))
    for name, row in zip(short, result.confusion):
        print(f"{name:>{width}}" + "".join(f"{c:>{width}}" for c in row))
    print(f"\n{what:>{width}}  precision  recall")
    for i, name in enumerate(short):
        print(f"{name:>{width}}  {result.precision[i]:9.4f}  {result.recall[i]:6.4f}")
    return 0


def _default_model_path() -> Path:
    from ann.models import SHIPPED_MODELS, default_model

    model = default_model()
    if model is None:
        names = ", ".join(m.label for m in SHIPPED_MODELS)
        raise RuntimeError(f"no shipped model file found ({names}); give one with --model FILE")
    return model.path


def cmd_predict(args: argparse.Namespace) -> int:
    from ann.images import ImageError, prepare, preprocess_for
    from ann.model_io import load_model

    path = Path(args.model) if args.model is not None else _default_model_path()
    model = load_model(path)
    names = model.dataset.class_names
    preprocess = preprocess_for(model.train_config)  # as the Draw page prepares images for this model
    if args.model is None:
        print(f"model: {path.relative_to(path.parents[1]) if len(path.parents) > 1 else path} (the default; "
              "--model FILE for another)", file=sys.stderr)
    if not model.dataset.digits:
        print(f"note: {path} was trained on {model.dataset.describe()}; each image is prepared as a drawing "
              "is (cropped to its ink, fitted and centred), as its images were", file=sys.stderr)
    results = []
    for name in args.images:
        entry: dict[str, Any] = {"file": name, "digit": None, "class": None, "confidence": None, "outputs": None,
                                 "error": None}
        try:
            if name.lower().endswith(".npz"):
                raise ImageError(f"{name} is a model file, not an image (give a model with --model FILE)")
            x, _ = prepare(Path(name), dtype=model.network.dtype, preprocess=preprocess)
        except (ImageError, OSError) as exc:
            message = " ".join(str(exc).split())
            entry["error"] = message if message.startswith(name) else f"{name}: {message}"
            results.append(entry)
            print(f"{name}: error: {entry['error'].removeprefix(name + ': ')}")
            continue
        outputs = model.network.query(x)[0]
        digit = int(np.argmax(outputs))
        # "digit" keeps its name (the output's index: scripts read it); "class" is that class's name
        entry.update(digit=digit, confidence=float(outputs[digit]), outputs=[float(v) for v in outputs],
                     **{"class": names[digit]})
        results.append(entry)
        print(f"{name}: {names[digit]} (confidence {outputs[digit]:.2f})")
    if args.json:
        print(json.dumps(results))
    return FAILURE if any(entry["error"] for entry in results) else 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ann.results import save_results
    from ann.sweep import SweepData, SweepError, expand_grid, format_value, parse_param, run_sweep

    base: dict[str, Any] = {k: getattr(args, k) for k in _TRAIN_FLAGS if getattr(args, k, None) is not None}
    if args.hidden is not None:
        base["hidden_nodes"] = tuple(args.hidden)
    first_seed = base.pop("seed", None)
    if first_seed is None:
        first_seed = PRESETS[args.preset].train.seed if args.preset else 80
    try:
        params = [parse_param(text) for text in args.param]
        specs = expand_grid(params, [first_seed + i for i in range(args.seeds)], base, preset=args.preset)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name such as {out / 'sweep.json'}")

    dataset = _load_data(args)
    # one output node per class of the data, whatever the grid varies
    specs = [replace(spec, network=replace(spec.network, output_nodes=dataset.n_classes)) for spec in specs]
    limit = specs[0].train.limit
    data = SweepData(dataset.train.images[:limit], dataset.train.labels[:limit], dataset.test.images,
                     dataset.test.labels)
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else \
        f"{min(args.workers or _cores(), len(specs))} local processes"
    grid = " x ".join(f"{name} ({len(values)})" for name, values in params)
    print(f"sweep: {len(specs)} runs ({grid}, {args.seeds} seed{'s' if args.seeds > 1 else ''}) on {where}",
          file=sys.stderr)
    bar = ProgressBar("runs")

    def on_run(record: dict[str, Any]) -> None:
        point = " ".join(f"{k}={format_value(v)}" for k, v in record["values"].items())
        if record["status"] == "failed":
            outcome = f"FAILED: {record['error']}"
        elif record["final_test_accuracy"] is None:
            outcome = "stopped before its first epoch"
        else:
            outcome = f"test {record['final_test_accuracy']:.2%} in {sum(record['seconds']):.1f}s"
        sys.stderr.write("\r" + " " * 79 + "\r")
        print(f"run {record['index'] + 1}/{len(specs)} {point} seed {record['seed']}: {outcome}", file=sys.stderr)

    try:
        result = run_sweep(specs, data, workers=args.workers, scheduler=args.scheduler,
                           progress=lambda fraction, message: bar.update(fraction, 1.0, message[:60]),
                           on_run=on_run)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    bar.close(f"{len(result['runs'])} runs, {result['failed']} failed, {result['seconds_total']:.0f}s")
    save_results(out, result)
    finished = [r for r in result["runs"] if r["final_test_accuracy"] is not None]
    best = max(finished, key=lambda r: r["final_test_accuracy"], default=None)
    summary = {"results": str(out), "runs": len(result["runs"]), "failed": result["failed"],
               "seconds_total": result["seconds_total"], "backend": result["backend"], "workers": result["workers"],
               "best": None if best is None else {"values": best["values"], "seed": best["seed"],
                                                  "test_accuracy": best["final_test_accuracy"]}}
    if args.json:
        print(json.dumps(summary))
    else:
        if best is not None:
            point = " ".join(f"{k}={format_value(v)}" for k, v in best["values"].items())
            print(f"best: {point} seed {best['seed']}: {best['final_test_accuracy']:.2%} on the test set")
        print(f"{len(result['runs'])} runs ({result['failed']} failed) in {result['seconds_total']:.0f}s; "
              f"results saved to {out} (open it on the Experiments page)")
    return FAILURE if result["failed"] else 0


def _cores() -> int:
    from ann.blas import available_cores

    return available_cores()


COMMANDS = {"download": cmd_download, "train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "sweep": cmd_sweep, "runs": cmd_runs}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 on a usage error
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, no traceback: the message says what is wrong
        if os.environ.get("ANN_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return FAILURE
