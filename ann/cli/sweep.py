"""``sweep``: a grid of runs, in local processes or on a Dask cluster.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ann.cli.common import FAILURE, TRAIN_FLAGS, ProgressBar, UsageError, load_data, usable_cores
from ann.config import PRESETS
from ann.experiments.grid import SweepData, SweepError, expand_grid, format_value, parse_param
from ann.experiments.results import save_results
from ann.experiments.sweep import run_sweep
from ann.formats import count, format_accuracy


def cmd_sweep(args: argparse.Namespace) -> int:

    base: dict[str, Any] = {k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k, None) is not None}
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

    dataset = load_data(args)
    # one output node per class of the data, whatever the grid varies
    specs = [replace(spec, network=replace(spec.network, output_nodes=dataset.n_classes)) for spec in specs]
    data = SweepData(dataset.train.images, dataset.train.labels, dataset.test.images, dataset.test.labels)
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else \
        f"{min(args.workers or usable_cores(), len(specs))} local processes"
    grid = " x ".join(f"{name} ({len(values)})" for name, values in params)
    print(f"sweep: {count(len(specs), 'run')} ({grid}, {count(args.seeds, 'seed')}) on {where}",
          file=sys.stderr)
    bar = ProgressBar("runs")

    def on_run(record: dict[str, Any]) -> None:
        point = " ".join(f"{k}={format_value(v)}" for k, v in record["values"].items())
        if record["status"] == "failed":
            outcome = f"FAILED: {record['error']}"
        elif record["final_test_accuracy"] is None:
            outcome = "stopped before its first epoch"
        else:
            outcome = f"test {format_accuracy(record['final_test_accuracy'])} in {sum(record['seconds']):.1f}s"
        sys.stderr.write("\r" + " " * 79 + "\r")
        print(f"run {record['index'] + 1}/{len(specs)} {point} seed {record['seed']}: {outcome}", file=sys.stderr)

    try:
        result = run_sweep(specs, data, workers=args.workers, scheduler=args.scheduler,
                           progress=lambda fraction, message: bar.update(fraction, 1.0, message[:60]),
                           on_run=on_run)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    bar.close(f"{count(len(result['runs']), 'run')}, {result['failed']} failed, {result['seconds_total']:.0f}s")
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
            print(f"best: {point} seed {best['seed']}: {format_accuracy(best['final_test_accuracy'])} on the test set")
        print(f"{count(len(result['runs']), 'run')} ({result['failed']} failed) in {result['seconds_total']:.0f}s; "
              f"results saved to {out} (open it on the Experiments page)")
    return FAILURE if result["failed"] else 0
