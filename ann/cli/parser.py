"""The command line's arguments: one subparser a command.
"""

from __future__ import annotations

import argparse
import copy

from ann import __version__
from ann.config import PRESETS
from ann.data.named import DATASET_KEYS


def _data_args(parser: argparse.ArgumentParser, own: bool = True) -> None:

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


def _dashboard_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dashboard-url", metavar="URL", default=None,
                        help="the dashboard's address for the link printed (default: $ANN_DASHBOARD_URL, else the "
                             "address and port the dashboard is configured with: $STREAMLIT_SERVER_PORT and "
                             "$STREAMLIT_SERVER_ADDRESS, .streamlit/config.toml, else http://localhost:8501)")


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
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="with --save-run: train on this Dask cluster, recording here (pip install -r "
                        "requirements-dask.txt); if it cannot be reached, the run trains here")
    _dashboard_arg(p)
    _workspace_arg(p)

    p = sub.add_parser("runs", help="list, show, export or delete recorded training runs",
                       description="The run store shared with the dashboard. Commands act on one workspace: the "
                                   "command line's own (made on first use), or --workspace KEY (a browser's "
                                   "key is in its private link on the Runs page).")
    runs_sub = p.add_subparsers(dest="runs_command", required=True, metavar="RUNS_COMMAND")
    q = runs_sub.add_parser("list", help="the workspace's runs, one line each")
    _workspace_arg(q)
    _dashboard_arg(q)
    q.add_argument("--json", action="store_true", help="print one JSON list")
    q = runs_sub.add_parser("show", help="one run: its settings, every epoch and (--json) its live points")
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
    _copy_flags(sub.choices["train"], p, skip=("help", "out", "float16", "json", "save_run", "workspace", "runs_dir",
                                                  "dashboard_url", "scheduler"))
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
