"""Small helpers shared by the bench scripts: paths, the JSON results file, medians.

Not a benchmark itself. The scripts run from any folder as ``python bench/<name>.py``; this module puts
the repository root on ``sys.path`` so that ``import ann`` finds the working tree, not an installed copy.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"  # git-ignored: results, generated CSV files, model files, logs
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "mnist"

if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))


def machine() -> dict[str, Any]:
    """What the figures were measured on (the machine is shared: the load average says how busy)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in load] if load else None,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_results(name: str, results: dict[str, Any]) -> Path:
    """Write ``results`` (plus machine facts) to bench/out/<name>.json and return the path."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    payload = {"benchmark": name, **results, "machine": machine()}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except OSError:
            continue
    return pids


def tree_memory(pid: int) -> tuple[float, float, int]:
    """(sum of RSS, sum of PSS) in MB over ``pid`` and every process below it, and how many processes.

    RSS counts a page shared by several processes (libraries, a mapped data file) in each of them: an upper
    bound. PSS splits it between them: the sum is the memory the tree really takes (what a container's limit
    counts)."""
    rss = pss = 0.0
    pids = process_tree(pid)
    for current in pids:
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
        except OSError:
            continue
    return rss, pss, len(pids)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def run_ann_train(args: list[str], data_dir: Path, out_model: Path, log: Path | None = None,
                  repo: Path = REPO_DIR) -> dict[str, Any]:
    """Run ``python -m ann train ... --json`` in a subprocess and return its JSON result.

    stderr (the progress bar) goes to ``log`` when given, else it is kept and shown only on failure.
    ``repo`` is the tree whose ``ann`` runs (another commit's, see :func:`checkout`).
    """
    command = [sys.executable, "-m", "ann", "train", *args, "--data", str(data_dir), "--out", str(out_model),
               "--json"]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo) + os.pathsep + env.get("PYTHONPATH", "")
    stderr = open(log, "w") if log else subprocess.PIPE
    try:
        done = subprocess.run(command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    finally:
        if log:
            stderr.close()
    if done.returncode != 0:
        detail = done.stderr if not log else Path(log).read_text()
        raise RuntimeError(f"{' '.join(command)} failed with exit code {done.returncode}:\n{detail[-3000:]}")
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(last)


def checkout(ref: str) -> Path:
    """The repository's files at commit ``ref`` (``git archive``) in bench/out/tree-<ref>/, to time ``ann`` as
    it was ("before") against the working tree ("after") in one run."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO_DIR, capture_output=True, text=True)
    if sha.returncode != 0:
        raise SystemExit(f"--before {ref}: not a commit of this repository ({sha.stderr.strip()})")
    folder = OUT_DIR / f"tree-{sha.stdout.strip()}"
    if not (folder / "ann" / "__init__.py").exists():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha.stdout.strip(), "ann"], cwd=REPO_DIR, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder
