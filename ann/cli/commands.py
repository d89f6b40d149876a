"""``download``, ``train``, ``evaluate``, ``predict``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ann.cli.common import FAILURE, TRAIN_FLAGS, ProgressBar, UsageError, describe_data, epoch_done, load_data
from ann.cli.runs import train_recorded
from ann.config import ConfigError, configs_from_dict, configs_to_dict
from ann.data.mnist import ensure_mnist
from ann.data.named import ensure_named, named
from ann.data.prepare import prepare_file
from ann.data.preprocess import preprocess_for
from ann.dataset_tag import mismatch
from ann.formats import count, format_accuracy
from ann.metrics import evaluate
from ann.model_io import load_model, model_to_bytes, save_model
from ann.models import SHIPPED_MODELS, default_model
from ann.network import Network
from ann.train import accuracy_of, train


def cmd_download(args: argparse.Namespace) -> int:

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






def cmd_train(args: argparse.Namespace) -> int:

    values: dict[str, Any] = {k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k) is not None}
    if args.hidden is not None:
        values["hidden_nodes"] = tuple(args.hidden)
    try:
        net_cfg, train_cfg = configs_from_dict(values, preset=args.preset)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name such as {out / 'model.npz'}")

    data = load_data(args)
    # one output node per class: 10 for MNIST and its siblings, as many as your own data has
    net_cfg = replace(net_cfg, output_nodes=data.n_classes)
    network = Network(net_cfg, seed=train_cfg.seed)
    n_records = min(train_cfg.limit or len(data.train.labels), len(data.train.labels))
    if args.save_run:
        return train_recorded(args, net_cfg, train_cfg, data, n_records, out)
    if args.scheduler:
        raise UsageError("--scheduler trains a recorded run on a Dask cluster: add --save-run")
    layers = "-".join(str(n) for n in net_cfg.layer_sizes)
    print(f"data: {describe_data(data)}", file=sys.stderr)
    print(f"training {layers} {net_cfg.activation}/{net_cfg.loss} on {count(n_records, 'record')} "
          f"x{train_cfg.copies_per_record}, {count(train_cfg.epochs, 'epoch')}, batch {train_cfg.batch_size}, "
          f"lr {train_cfg.learning_rate}", file=sys.stderr)
    history: list[dict[str, Any]] = []
    bar = ProgressBar(f"epoch 1/{train_cfg.epochs}")

    def progress(done: int, total: int) -> None:
        bar.update(done, total)

    for metrics in train(network, data.train.images, data.train.labels, train_cfg,
                         data.test.images, data.test.labels, progress=progress):
        history.append(metrics)
        bar = epoch_done(bar, metrics, train_cfg.epochs, quiet=args.json)
    train_seconds = sum(m["seconds"] for m in history)
    info = {"trained_by": "python -m ann train", "preset": args.preset, "train_records": n_records,
            "test_accuracy": history[-1]["test_accuracy"], "train_seconds": train_seconds, "dataset": data.key}
    stored = {}
    if args.float16:
        # The file's own accuracy: the weights as they will be read back, rounded to float16.

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
        print(f"performance: {format_accuracy(result['test_accuracy'])} on the test set, "
              f"{train_seconds:.1f}s of training; model saved to {out}"
              + (f" (float16: {format_accuracy(stored['stored_test_accuracy'])})" if stored else ""))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:

    model = load_model(args.model)
    data = load_data(args, model.dataset)
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
    print(f"performance: {format_accuracy(result.accuracy)} ({int(np.trace(result.confusion)):,} of "
          f"{count(len(data.test.labels), 'test image')} of {data.title})")
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

    model = default_model()
    if model is None:
        names = ", ".join(m.label for m in SHIPPED_MODELS)
        raise RuntimeError(f"no shipped model file found ({names}); give one with --model FILE")
    return model.path


def cmd_predict(args: argparse.Namespace) -> int:

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
        prepared = prepare_file(Path(name), name, dtype=model.network.dtype, preprocess=preprocess)
        if prepared.error is not None:
            entry["error"] = prepared.error
            results.append(entry)
            print(f"{name}: error: {prepared.error.removeprefix(name + ': ')}")
            continue
        x = prepared.x
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
