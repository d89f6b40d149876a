"""The training service on a Dask cluster against its local pool: wall time of a queue, and the server's memory.

The same queue (``--runs`` runs of the seed's network, per-sample, ``--records`` records, ``--epochs`` epochs
each, submitted at once by four visitors) is trained by the service's local pool of ``--workers`` worker
processes, then by a Dask cluster of as many single-thread workers (``dask scheduler`` and ``dask worker
--nworkers N --nthreads 1`` started as separate processes, as people start them, from a folder outside the
checkout), alternately ``--rounds`` times. The clock runs from the first submission to the last run's end,
with the pool's worker start-up inside it and the cluster already up (a cluster is started once, for many
queues). Meanwhile this process (the web server) has its resident memory sampled every 0.1 s: for cluster runs
it reads each dataset once to send it and then holds no training data.

Target: the cluster at most 1.15x the local pool's wall time. On a shared machine the wall time follows the
load of the moment, so the workers' CPU time (the local workers as this process's children, the Dask workers
from ``/proc``) is reported too: the cost of the same work on either executor, whatever the load.

Run (about a minute)::

    python bench/cluster_training.py
    python bench/cluster_training.py --runs 8 --records 10000 --epochs 1 --workers 2 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import DEFAULT_DATA_DIR, write_results

from ann.config import NetworkConfig, TrainConfig
from ann.service.pool import TrainingService
from ann.service.records import RunStatus, new_workspace_key
from ann.service.store import RunStore


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_mb(field: str = "RssAnon") -> float:
    """This process's resident memory in MB: ``RssAnon`` (its own: arrays, objects) by default; ``RssFile``
    counts the pages of mapped files it touched (shared with the page cache and other processes)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self.peak_file = rss_mb("RssFile")
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.1):
            self.peak = max(self.peak, rss_mb())
            self.peak_file = max(self.peak_file, rss_mb("RssFile"))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def start_cluster(workers: int, folder: Path) -> tuple[str, list[subprocess.Popen]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    address = f"tcp://127.0.0.1:{port}"
    log = open(folder / "cluster.log", "wb")  # noqa: SIM115 -- the children keep it
    procs = [subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              cwd=folder, env=env, stdout=log, stderr=log),
             subprocess.Popen(["dask", "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                               "--no-dashboard"], cwd=folder, env=env, stdout=log, stderr=log)]
    import distributed  # Dask: optional

    with distributed.Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=60)
        pids = list(client.run(os.getpid).values())
    return address, procs, pids


def one_queue(scheduler: str, args, folder: Path, worker_pids: list[int]) -> dict:
    store = RunStore(folder / f"runs-{time.monotonic_ns()}")
    svc = TrainingService(store, args.data, workers=args.workers, nice=0, idle_seconds=30, scheduler=scheduler)
    assert svc.executor == ("dask" if scheduler else "local"), svc.cluster_notice
    config = TrainConfig(epochs=args.epochs, limit=args.records, rotate=0.0)
    visitors = [new_workspace_key() for _ in range(4)]
    before = rss_mb()
    sampler = Sampler()
    sampler.start()
    cpu_before = cpu_seconds(worker_pids) if scheduler else children_cpu()
    started = time.perf_counter()
    runs = [(visitors[i % 4], svc.submit(visitors[i % 4], NetworkConfig(), config, records=args.records).id)
            for i in range(args.runs)]
    while True:
        states = [store.get_run(owner, run_id).status for owner, run_id in runs]
        if all(status not in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED) for status in states):
            break
        time.sleep(0.05)
    wall = time.perf_counter() - started
    sampler.halt.set()
    sampler.join()
    ended = [store.get_run(owner, run_id) for owner, run_id in runs]
    after = rss_mb()
    cpu = cpu_seconds(worker_pids) if scheduler else None
    svc.close()  # the local workers end and are reaped: their CPU time is then the children's
    cpu = (cpu if scheduler else children_cpu()) - cpu_before
    assert all(run.status == RunStatus.FINISHED for run in ended), [(r.status, r.message) for r in ended]
    return {"executor": "dask" if scheduler else "local", "wall_seconds": round(wall, 2),
            "train_seconds": round(sum(r.train_seconds for r in ended), 2), "worker_cpu_seconds": round(cpu, 2),
            "server_rss_before_mb": round(before, 1), "server_rss_peak_mb": round(sampler.peak, 1),
            "server_rss_after_mb": round(after, 1), "server_file_pages_peak_mb": round(sampler.peak_file, 1),
            "where": sorted({r.trained_where for r in ended})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", default=os.environ.get("ANN_TEST_MNIST", str(DEFAULT_DATA_DIR)))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ann_cluster_bench_"))
    address, procs, worker_pids = start_cluster(args.workers, folder)
    rounds = []
    try:
        for _ in range(args.rounds):
            for scheduler in ("", address):
                result = one_queue(scheduler, args, folder, worker_pids)
                rounds.append(result)
                print(result, file=sys.stderr)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGINT)
        for proc in reversed(procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    local = [r["wall_seconds"] for r in rounds if r["executor"] == "local"]
    dask = [r["wall_seconds"] for r in rounds if r["executor"] == "dask"]
    ratios = [d / lo for lo, d in zip(local, dask)]
    cpu_ratios = [d["worker_cpu_seconds"] / lo["worker_cpu_seconds"]
                  for lo, d in zip([r for r in rounds if r["executor"] == "local"],
                                   [r for r in rounds if r["executor"] == "dask"])]
    summary = {
        "runs": args.runs, "records": args.records, "epochs": args.epochs, "workers": args.workers,
        "local_wall_seconds": local, "dask_wall_seconds": dask,
        "ratio_dask_to_local": [round(r, 3) for r in ratios], "median_ratio": round(statistics.median(ratios), 3),
        "cpu_ratio_dask_to_local": [round(r, 3) for r in cpu_ratios],
        "median_cpu_ratio": round(statistics.median(cpu_ratios), 3),
        "server_rss_peak_mb": {kind: max(r["server_rss_peak_mb"] for r in rounds if r["executor"] == kind)
                               for kind in ("local", "dask")},
        "server_rss_before_mb": {kind: min(r["server_rss_before_mb"] for r in rounds if r["executor"] == kind)
                                 for kind in ("local", "dask")},
        "rounds": rounds,
    }
    path = write_results("cluster_training", summary)
    print(f"{args.runs} runs, {args.workers} workers: local {local} s, dask {dask} s; dask/local "
          f"{summary['ratio_dask_to_local']} (median {summary['median_ratio']}); workers' CPU dask/local "
          f"{summary['cpu_ratio_dask_to_local']}; server RSS peak "
          f"{summary['server_rss_peak_mb']} MB; written to {path}")


if __name__ == "__main__":
    main()
