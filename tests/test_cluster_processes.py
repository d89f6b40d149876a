"""A Dask cluster as people start it: ``dask scheduler`` and ``dask worker`` as separate processes, in a folder
outside the checkout, with no PYTHONPATH (they cannot import ann: the client sends its code). A sweep and a
recorded training run from the command line train there; then the scheduler dies under the dashboard's
training service, and its run is interrupted and resumable on the local pool.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ann.config import NetworkConfig, TrainConfig
from ann.service.pool import TrainingService
from ann.service.records import RunStatus, new_workspace_key
from ann.service.store import RunStore

pytest.importorskip("distributed", reason="the Dask extra (requirements-dask.txt)")

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(condition, what: str, timeout: float = 60.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def outside(tmp_path) -> tuple[Path, dict[str, str]]:
    """A folder outside the checkout and an environment without PYTHONPATH, where ann cannot be imported."""
    folder = tmp_path / "cluster"
    folder.mkdir()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    check = subprocess.run([sys.executable, "-c", "import ann"], cwd=folder, env=env, capture_output=True, text=True)
    assert check.returncode != 0 and "No module named 'ann'" in check.stderr
    return folder, env


@pytest.fixture
def dask_cluster(outside):
    """``dask scheduler`` and ``dask worker ADDRESS --nworkers 2 --nthreads 1``, as the guide says."""
    folder, env = outside
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(folder / "cluster.log", "wb")  # noqa: SIM115 -- closed at the end
    scheduler = subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 cwd=folder, env=env, stdout=log, stderr=log)
    worker = subprocess.Popen(["dask", "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                              cwd=folder, env=env, stdout=log, stderr=log)
    try:
        import distributed

        with distributed.Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, scheduler
    finally:
        for proc in (worker, scheduler):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in (worker, scheduler):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _ann(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ann", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def test_a_sweep_and_a_recorded_run_train_on_a_cluster_that_has_only_the_dependencies(dask_cluster, mnist_dir,
                                                                                      tmp_path):
    address, _ = dask_cluster
    out = tmp_path / "sweep.json"
    sweep = _ann("sweep", "--data", str(mnist_dir), "--param", "lr=0.1,0.3", "--limit", "300", "--epochs", "1",
                 "--rotate", "0", "--hidden", "30", "--scheduler", address, "--out", str(out), "--json")
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    summary = json.loads(sweep.stdout.strip().splitlines()[-1])
    assert summary["backend"] == "dask" and summary["runs"] == 2 and summary["failed"] == 0

    runs_dir = tmp_path / "runs"
    trained = _ann("train", "--data", str(mnist_dir), "--limit", "300", "--epochs", "2", "--hidden", "30",
                   "--save-run", "--scheduler", address, "--runs-dir", str(runs_dir), "--out",
                   str(tmp_path / "model.npz"), "--json")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert f"on the Dask cluster at {address}" in trained.stderr
    result = json.loads(trained.stdout.strip().splitlines()[-1])
    assert result["status"] == "finished" and len(result["epochs"]) == 2 and (tmp_path / "model.npz").exists()
    shown = _ann("runs", "show", result["run"], "--runs-dir", str(runs_dir), "--json")
    assert shown.returncode == 0, shown.stderr
    run = json.loads(shown.stdout)
    assert run["trained_on"].startswith("tcp://127.0.0.1:") and run["trained_on"].endswith(" (dask)")
    assert [e["epoch"] for e in run["epochs"]] == [1, 2]


def test_a_scheduler_lost_mid_run_interrupts_the_run_which_continues_on_the_local_pool(dask_cluster, tmp_path,
                                                                                    mnist_dir):
    address, scheduler = dask_cluster
    svc = TrainingService(RunStore(tmp_path / "runs"), mnist_dir, workers=1, nice=0, scheduler=address)
    try:
        assert svc.executor == "dask"
        owner = new_workspace_key()
        config = TrainConfig(epochs=200, limit=2000, rotate=0.0)  # per-sample: about 0.1-0.3 s an epoch
        run = svc.submit(owner, NetworkConfig(hidden_nodes=(30,)), config, records=2000)
        _wait(lambda: svc.store.get_run(owner, run.id).epochs_done >= 2, "two epochs on the cluster")
        scheduler.kill()
        scheduler.wait()
        ended = _wait(lambda: (r := svc.store.get_run(owner, run.id)).status == RunStatus.INTERRUPTED and r,
                      "the run to be marked interrupted", timeout=30)
        assert f"the Dask scheduler at {address} was lost" in ended.message and ended.epochs_done >= 2
        assert svc.executor == "local" and "was lost" in svc.cluster_notice
        svc.continue_run(owner, run.id, 1)
        done = _wait(lambda: (r := svc.store.get_run(owner, run.id)).status == RunStatus.FINISHED and r,
                     "the run to finish on the local pool")
        assert done.epochs_done == ended.epochs_done + 1 and not done.trained_on.endswith("(dask)")
    finally:
        svc.close()


def test_a_recorded_run_whose_scheduler_cannot_be_reached_trains_here_and_says_so(mnist_dir, tmp_path):
    runs_dir = tmp_path / "runs"
    trained = _ann("train", "--data", str(mnist_dir), "--limit", "300", "--epochs", "1", "--hidden", "30",
                   "--save-run", "--scheduler", "tcp://127.0.0.1:9", "--runs-dir", str(runs_dir), "--out",
                   str(tmp_path / "model.npz"), "--json")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "note: The Dask scheduler at tcp://127.0.0.1:9 cannot be reached" in trained.stderr
    assert "; the run trains here." in trained.stderr
    run = json.loads(_ann("runs", "show", "1", "--runs-dir", str(runs_dir), "--json").stdout)
    assert run["status"] == "finished" and run["trained_on"].startswith(f"{socket.gethostname()}:")
