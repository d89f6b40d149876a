"""What every command shares: exit codes, the usage error, the progress bar, loading the data a command names.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ann.blas import available_cores
from ann.data.named import NAMED, identify_folder, load_named
from ann.data.own import SPLIT_SEED, TEST_FRACTION, read_own_data
from ann.formats import format_accuracy

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


def load_data(args: argparse.Namespace, model_tag=None):
    """The dataset the flags name (see the module's docstring); ``model_tag``: a model's own dataset, the
    default when no flag names one."""

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


def describe_data(dataset) -> str:
    return (f"{dataset.title} ({dataset.key}): {len(dataset.train):,} training and {len(dataset.test):,} test "
            f"images, {dataset.n_classes} classes" + (f"; {dataset.note}" if dataset.key.startswith("own-") else ""))


def usable_cores() -> int:

    return available_cores()


TRAIN_FLAGS = ("learning_rate", "epochs", "batch_size", "rotate", "augment", "shift", "elastic_alpha",
                "elastic_sigma", "elastic_fraction", "thickness", "contrast", "noise", "warmup_epochs",
                "momentum", "weight_decay", "schedule", "shuffle", "activation", "loss", "error_rule",
                "propagate", "bias", "seed", "limit", "dtype")


def epoch_done(bar: ProgressBar, metrics: dict[str, Any], epochs: int, quiet: bool) -> ProgressBar:
    """Close the epoch's progress line with its figures, print its line (unless ``quiet``: --json), and
    return the next epoch's bar."""
    bar.close(f"loss {metrics['train_loss']:.4f}  train {format_accuracy(metrics['train_accuracy'])}  "
              f"test {format_accuracy(metrics['test_accuracy'])}  {metrics['seconds']:.1f}s")
    if not quiet:
        print(f"epoch {metrics['epoch']}: train_loss {metrics['train_loss']:.4f} "
              f"train_accuracy {metrics['train_accuracy']:.4f} "
              f"test_accuracy {metrics['test_accuracy']:.4f} seconds {metrics['seconds']:.1f}")
    return ProgressBar(f"epoch {metrics['epoch'] + 1}/{epochs}")
