"""The training service on a Dask cluster against its local pool: wall time of a queue, and the server's memory.

The same queue (``--runs`` runs of the seed's network, per-sample, ``--records`` records, ``--epochs`` epochs
each, submitted at once by four visitors) is trained by the service's local pool of ``--workers`` worker
processes and by a Dask cluster of as many single-thread workers (``dask scheduler`` and ``dask worker
--nworkers N --nthreads 1`` started as separate processes, as people start them, from a folder outside the
checkout, no ``PYTHONPATH``). Each of ``--rounds`` rounds starts a new cluster and trains four queues back to
back: local, the cluster's **first** queue, local, a **warm** queue on the same cluster; each cluster queue is
compared with the local queue just before it. One untimed local queue of two short runs comes first, so that
the first round's local pool does not pay the machine's cold file cache.

Each queue has a service of its own, made as a web server makes it at its start. On a cluster it connects,
sends ``ann``'s code, and in the background sends the named sets this server has and has every worker import
the training code and fetch them (``ClusterExecutor.ready``); a web server does this long before its first
visitor presses Start, so the clock starts once it is done and its duration is reported apart
(``prepare_seconds``). ``--at-once`` submits the first queue the moment the service is made instead: what the
very first visitor of a web server just started would wait for. The local pool starts its worker processes
(imports, the mapped MNIST) inside the clock, on every queue: that is what it does for every queue after its
workers' idle time. The clock runs from the first submission to the last run's end.

Meanwhile this process (the web server) has its resident memory sampled every 0.05 s from before its service
is made: for cluster runs it reads each dataset once to send it (mapped file pages, shared with the page
cache) and holds no training data afterwards.

Target: the cluster at most 1.15x the local pool's wall time, for the first queue and a warm one. On a shared
machine the wall time follows the load of the moment, so the workers' CPU time (the local workers as this
process's children, the Dask workers from ``/proc``) is reported too: the cost of the same work on either
executor, whatever the load.

Run (about a minute on a quiet machine; alone on it for figures)::

    python bench/cluster_training.py
    python bench/cluster_training.py --runs 8 --records 10000 --epochs 1 --workers 2 --rounds 3
    python bench/cluster_training.py --at-once     # the first queue the moment the service is made
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
        while not self.halt.wait(0.05):
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


def start_cluster(workers: int, folder: Path) -> tuple[str, list[subprocess.Popen], list[int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    address = f"tcp://127.0.0.1:{port}"
    log = open(folder / "cluster.log", "ab")  # noqa: SIM115 -- the children keep it
    procs = [subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              cwd=folder, env=env, stdout=log, stderr=log),
             subprocess.Popen(["dask", "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                               "--no-dashboard"], cwd=folder, env=env, stdout=log, stderr=log)]
    import distributed  # Dask: optional

    with distributed.Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=60)
        pids = list(client.run(os.getpid).values())
    return address, procs, pids


def stop_cluster(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        proc.send_signal(signal.SIGINT)
    for proc in reversed(procs):
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_queue(scheduler: str, args, folder: Path, worker_pids: list[int], kind: str, *, runs: int | None = None,
              records: int | None = None, at_once: bool = False) -> dict:
    runs = args.runs if runs is None else runs
    records = args.records if records is None else records
    before = rss_mb()
    sampler = Sampler()
    sampler.start()
    made = time.perf_counter()
    store = RunStore(folder / f"runs-{time.monotonic_ns()}")
    svc = TrainingService(store, args.data, workers=args.workers, nice=0, idle_seconds=30, scheduler=scheduler)
    assert svc.executor == ("dask" if scheduler else "local"), svc.cluster_notice
    made_rss = rss_mb()  # connected: Dask's client and the executor's code, before any dataset is sent
    prepare = None
    if scheduler and not at_once:
        assert svc.cluster.ready.wait(120), "the cluster's preparation did not end within 120 s"
        prepare = time.perf_counter() - made
    config = TrainConfig(epochs=args.epochs, limit=records, rotate=0.0)
    visitors = [new_workspace_key() for _ in range(4)]
    cpu_before = cpu_seconds(worker_pids) if scheduler else children_cpu()
    started = time.perf_counter()
    runs = [(visitors[i % 4], svc.submit(visitors[i % 4], NetworkConfig(), config, records=records).id)
            for i in range(runs)]
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
    return {"executor": "dask" if scheduler else "local", "queue": kind, "at_once": at_once and bool(scheduler),
            "prepare_seconds": None if prepare is None else round(prepare, 2), "wall_seconds": round(wall, 2),
            "train_seconds": round(sum(r.train_seconds for r in ended), 2), "worker_cpu_seconds": round(cpu, 2),
            "server_rss_before_mb": round(before, 1), "server_rss_made_mb": round(made_rss, 1),
            "server_rss_peak_mb": round(sampler.peak, 1),
            "server_rss_after_mb": round(after, 1), "server_file_pages_peak_mb": round(sampler.peak_file, 1),
            "where": sorted({r.trained_where for r in ended})}


def ratios(rounds: list[dict], kind: str, field: str) -> list[float]:
    """Each ``kind`` cluster queue's ``field`` over the local queue's just before it."""
    return [round(rounds[i][field] / rounds[i - 1][field], 3) for i, r in enumerate(rounds)
            if r["executor"] == "dask" and r["queue"] == kind]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="new clusters, each with a first and a warm queue")
    parser.add_argument("--at-once", action="store_true",
                        help="submit each cluster's first queue the moment its service is made")
    parser.add_argument("--data", default=os.environ.get("ANN_TEST_MNIST", str(DEFAULT_DATA_DIR)))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ann_cluster_bench_"))
    one_queue("", args, folder, [], "untimed", runs=2, records=1000)  # the machine's file cache, warmed
    rounds = []
    for _ in range(args.rounds):
        address, procs, worker_pids = start_cluster(args.workers, folder)
        try:
            for scheduler, kind in (("", "local"), (address, "first"), ("", "local"), (address, "warm")):
                result = one_queue(scheduler, args, folder, worker_pids, kind,
                                   at_once=args.at_once and kind == "first")
                rounds.append(result)
                print(result, file=sys.stderr)
        finally:
            stop_cluster(procs)
    first, warm = ratios(rounds, "first", "wall_seconds"), ratios(rounds, "warm", "wall_seconds")
    cpu_first, cpu_warm = ratios(rounds, "first", "worker_cpu_seconds"), ratios(rounds, "warm", "worker_cpu_seconds")
    summary = {
        "runs": args.runs, "records": args.records, "epochs": args.epochs, "workers": args.workers,
        "first_queue_at_once": args.at_once,
        "local_wall_seconds": [r["wall_seconds"] for r in rounds if r["executor"] == "local"],
        "dask_first_wall_seconds": [r["wall_seconds"] for r in rounds if r["queue"] == "first"],
        "dask_warm_wall_seconds": [r["wall_seconds"] for r in rounds if r["queue"] == "warm"],
        "prepare_seconds": {kind: [r["prepare_seconds"] for r in rounds if r["queue"] == kind]
                            for kind in ("first", "warm")},
        "first_ratio_dask_to_local": first, "warm_ratio_dask_to_local": warm,
        "median_first_ratio": round(statistics.median(first), 3),
        "median_warm_ratio": round(statistics.median(warm), 3),
        "first_cpu_ratio_dask_to_local": cpu_first, "warm_cpu_ratio_dask_to_local": cpu_warm,
        # each queue's anonymous RSS: before its service, once made, at its peak, after its last run
        "server_rss_mb": [(r["queue"], r["server_rss_before_mb"], r["server_rss_made_mb"], r["server_rss_peak_mb"],
                           r["server_rss_after_mb"]) for r in rounds],
        "server_file_pages_peak_mb": [(r["queue"], r["server_file_pages_peak_mb"]) for r in rounds],
        "rounds": rounds,
    }
    path = write_results("cluster_training", summary)
    print(f"{args.runs} runs, {args.workers} workers, {args.rounds} new clusters"
          f"{' (first queue at once)' if args.at_once else ''}:\n"
          f"  wall dask/local: first queue {first} (median {summary['median_first_ratio']}), "
          f"warm {warm} (median {summary['median_warm_ratio']})\n"
          f"  workers' CPU dask/local: first {cpu_first}, warm {cpu_warm}\n"
          f"  local {summary['local_wall_seconds']} s; dask first {summary['dask_first_wall_seconds']} s, "
          f"warm {summary['dask_warm_wall_seconds']} s; cluster prepared ahead in "
          f"{summary['prepare_seconds']['first']} s (first), {summary['prepare_seconds']['warm']} s (warm)\n"
          f"  server anonymous RSS (MB) before / made / peak / after, queue by queue: "
          f"{'; '.join(f'{q} {b} / {m} / {pk} / {a}' for q, b, m, pk, a in summary['server_rss_mb'])}\n"
          f"  written to {path}")


if __name__ == "__main__":
    main()
