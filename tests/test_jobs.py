"""The training service (ann.service.worker): real worker processes training runs of a real run store.

The runs train on a tiny set in MNIST's own file format, written by the tests (3,000 training and 500 test
images whose label is the bright band's position), so each test takes seconds; the one test of bit-for-bit
continuation uses the first records of the real MNIST.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from synthetic import band_set

from ann.blas import available_cores
from ann.config import NetworkConfig, TrainConfig
from ann.estimates import process_start_seconds, training_seconds
from ann.service.pool import TrainingService
from ann.service.records import RunStatus, new_workspace_key
from ann.service.store import RunStore
from ann.service.worker import default_workers

ROOT = Path(__file__).resolve().parents[1]
TINY = NetworkConfig(hidden_nodes=(30,))
QUICK = TrainConfig(epochs=2, rotate=0.0, batch_size=16)
# Per-sample training of 3,000 records: an epoch of about 0.1-0.3 s in chunks of 1,024 records, so a run
# lasts long enough to pause, stop, change and kill, and every request meets a chunk boundary quickly.
SLOW = TrainConfig(epochs=400, rotate=0.0, batch_size=1)
WAIT = 60.0  # generous: a busy machine slows the workers, never the verdicts


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """A folder with the four files of a tiny dataset in MNIST's format (IDX, gzipped)."""
    from ann.data.idx import write_idx_images, write_idx_labels

    folder = tmp_path_factory.mktemp("tiny_mnist")
    for prefix, (images, labels) in (("train", band_set(3000, 1)), ("t10k", band_set(500, 2))):
        write_idx_images(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx_labels(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture
def service(tmp_path, tiny_data):
    made = []

    def make(workers: int = 2, data=None, verify: bool = False, **kwargs) -> TrainingService:
        svc = TrainingService(RunStore(tmp_path / "runs"), data or tiny_data, workers=workers, verify_data=verify,
                              idle_seconds=20, nice=0, **kwargs)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


def _wait(condition, what: str, timeout: float = WAIT, every: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _run(store: RunStore, workspace: str, run_id: str):
    return store.get_run(workspace, run_id)


def test_the_default_pool_size_follows_the_cores_and_the_environment(monkeypatch):
    monkeypatch.delenv("ANN_TRAIN_WORKERS", raising=False)
    assert default_workers() == available_cores() >= 1
    monkeypatch.setenv("ANN_TRAIN_WORKERS", "3")
    assert default_workers() == 3
    for bad in ("0", "-2", "many", ""):
        monkeypatch.setenv("ANN_TRAIN_WORKERS", bad)
        assert default_workers() == available_cores()


def test_queued_runs_all_finish_and_never_more_train_at_once_than_the_limit(service):
    svc = service(workers=2)
    store = svc.store
    workspaces = [new_workspace_key() for _ in range(3)]
    submitted = [(w, svc.submit(w, TINY, replace(QUICK, epochs=3), records=3000).id)
                 for _ in range(2) for w in workspaces]
    most_training = most_workers = 0
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        counts = store.counts()  # one query: a consistent snapshot of every run's status
        most_training = max(most_training, counts.get(RunStatus.RUNNING, 0) + counts.get(RunStatus.PAUSED, 0))
        most_workers = max(most_workers, len(svc.alive_workers()))
        if counts.get(RunStatus.FINISHED, 0) == len(submitted):
            break
        time.sleep(0.01)
    runs = [_run(store, w, i) for w, i in submitted]
    assert [r.status for r in runs] == [RunStatus.FINISHED] * 6
    assert all(r.epochs_done == 3 and len(store.history(r)) == 3 for r in runs)
    assert all(r.test_accuracy > 0.9 for r in runs)  # the band set is easy: 100% in every run measured
    assert 1 <= most_training <= 2 and most_workers <= 2


def test_pause_is_honoured_within_a_second_and_resume_and_stop_keep_the_finished_epochs(service):
    svc = service(workers=1)
    store = svc.store
    owner = new_workspace_key()
    run = svc.submit(owner, TINY, SLOW, records=3000)
    _wait(lambda: _run(store, owner, run.id).epochs_done >= 1, "the first epoch")
    asked = time.monotonic()
    store.pause(owner, run.id)
    _wait(lambda: _run(store, owner, run.id).status == RunStatus.PAUSED, "the pause", every=0.005)
    took = time.monotonic() - asked
    assert took < 1.0, f"the pause took {took:.2f} s"
    frozen = _run(store, owner, run.id)
    time.sleep(1.0)
    still = _run(store, owner, run.id)
    assert (still.status, still.epochs_done, still.progress_done) == (RunStatus.PAUSED, frozen.epochs_done,
                                                                      frozen.progress_done)
    store.resume(owner, run.id)
    _wait(lambda: _run(store, owner, run.id).epochs_done > frozen.epochs_done, "training to go on")
    store.stop(owner, run.id)
    ended = _wait(lambda: (r := _run(store, owner, run.id)).status == RunStatus.STOPPED and r, "the stop")
    assert ended.epochs_done >= frozen.epochs_done + 1 and ended.worker is None
    assert [e["epoch"] for e in store.history(ended)] == list(range(1, ended.epochs_done + 1))
    assert "the epoch in progress is not" in ended.message
    assert store.load_network(ended).weights[0].shape == (30, 784)
    # training time leaves the pause out: every epoch took a fraction of the second the run sat paused
    assert max(e["seconds"] for e in store.history(ended)) < 1.0


def test_a_learning_rate_changed_while_training_applies_from_the_next_chunk(service):
    """The change is recorded where the worker took it; replaying that switch in-process gives the very
    same weights (float64), so it took effect exactly there and nowhere else."""
    from ann.data.mnist import load_mnist
    from ann.network import Network
    from ann.train import fit

    svc = service(workers=1)
    store = svc.store
    owner = new_workspace_key()
    network_config = replace(TINY, dtype="float64")
    config = replace(SLOW, epochs=12, learning_rate=0.1)
    run = svc.submit(owner, network_config, config, records=3000)
    _wait(lambda: (r := _run(store, owner, run.id)).epochs_done >= 1 or r.progress_done > 0, "training")
    store.set_learning_rate(owner, run.id, 0.02)
    ended = _wait(lambda: (r := _run(store, owner, run.id)).status == RunStatus.FINISHED and r, "the end")
    events = store.events(ended)
    assert len(events) == 1 and events[0]["kind"] == "learning_rate" and events[0]["value"] == 0.02
    at = events[0]["at"]
    assert 0 < at < 12 and ended.learning_rate == 0.02
    history = store.history(ended)
    assert history[-1]["learning_rate"] == 0.02 and history[0]["learning_rate"] in (0.1, 0.02)

    data = svc.data_dir
    dataset = load_mnist(data, download=False, verify=False)
    chunk_progress = []

    def rate() -> float:  # called before each chunk; a chunk is 1,024 of the 3,000 records
        chunk_progress.append(None)
        return 0.1 if replay_position() < at - 1e-9 else 0.02

    boundaries = [e + min(c * 1024, 3000) / 3000 for e in range(12) for c in range(3)]

    def replay_position() -> float:
        return boundaries[len(chunk_progress) - 1]

    replayed = Network(network_config, seed=config.seed)
    fit(replayed, dataset.train.images, dataset.train.labels, config, base_learning_rate=rate)
    served = store.load_network(ended)
    for W_replay, W_served in zip(replayed.weights, served.weights):
        assert np.array_equal(W_replay, W_served)


def test_continue_equals_one_longer_run_bit_for_bit(service, mnist_dir, mnist):
    """The seed's configuration in float64: 2 epochs, then Continue by 2, equal 4 epochs in one go
    (weights to 1e-12; in fact identical), with the curves continuing in the same run."""
    from ann.network import Network
    from ann.train import fit

    svc = service(workers=1, data=mnist_dir, verify=True)
    store = svc.store
    owner = new_workspace_key()
    network_config = NetworkConfig(dtype="float64")  # the seed's 784-200-10 sigmoid
    config = TrainConfig(epochs=2, limit=300)  # the seed's per-sample loop with its +-10 degree rotations
    run = svc.submit(owner, network_config, config, records=300)
    _wait(lambda: _run(store, owner, run.id).status == RunStatus.FINISHED, "the first two epochs")
    svc.continue_run(owner, run.id, 2)
    ended = _wait(lambda: (r := _run(store, owner, run.id)).status == RunStatus.FINISHED and r.epochs_done == 4 and r,
                  "two more epochs")
    assert ended.name == run.name and [e["epoch"] for e in store.history(ended)] == [1, 2, 3, 4]

    whole = Network(network_config, seed=config.seed)
    whole_history = fit(whole, mnist.train.images, mnist.train.labels, replace(config, epochs=4),
                        test_images=mnist.test.images, test_labels=mnist.test.labels)
    served = store.load_network(ended)
    for W_whole, W_served in zip(whole.weights, served.weights):
        assert np.max(np.abs(W_whole - W_served)) <= 1e-12
    assert [e["test_accuracy"] for e in store.history(ended)] == [e["test_accuracy"] for e in whole_history]


def test_a_worker_killed_inside_an_epoch_loses_only_that_epoch(service, tiny_data):
    """kill -9 of the worker mid-epoch: the run is marked interrupted, keeps its whole epochs, and
    Continue ends where an uninterrupted run ends (no shuffling, constant rate: the very same weights)."""
    from ann.data.mnist import load_mnist
    from ann.network import Network
    from ann.train import fit

    svc = service(workers=1)
    store = svc.store
    owner = new_workspace_key()
    network_config = replace(TINY, dtype="float64")
    config = replace(SLOW, epochs=8)
    run = svc.submit(owner, network_config, config, records=3000)
    inside = _wait(lambda: (r := _run(store, owner, run.id)).epochs_done >= 2 and r.progress_done > 0 and r,
                   "the middle of the third epoch or later", every=0.002)
    pid = int(inside.worker.rpartition(":")[2])
    os.kill(pid, signal.SIGKILL)
    interrupted = _wait(lambda: (r := _run(store, owner, run.id)).status == RunStatus.INTERRUPTED and r,
                        "the run to be marked interrupted", timeout=30)
    assert interrupted.epochs_done >= inside.epochs_done  # only the epoch in progress was lost
    assert [e["epoch"] for e in store.history(interrupted)] == list(range(1, interrupted.epochs_done + 1))
    svc.continue_run(owner, run.id, 8 - interrupted.epochs_done)
    ended = _wait(lambda: (r := _run(store, owner, run.id)).status == RunStatus.FINISHED and r, "the continued run")
    assert ended.epochs_done == 8

    dataset = load_mnist(tiny_data, download=False, verify=False)
    whole = Network(network_config, seed=config.seed)
    fit(whole, dataset.train.images, dataset.train.labels, config)
    assert all(np.array_equal(a, b) for a, b in zip(whole.weights, store.load_network(ended).weights))


def test_a_worker_killed_between_epochs_loses_nothing(tmp_path, tiny_data):
    """A process that trains a run and is killed (SIGKILL) right after its second epoch was recorded:
    two whole epochs, the run interrupted, and a new service marks it so at start-up."""
    store = RunStore(tmp_path / "runs")
    owner = new_workspace_key()
    run = store.submit(owner, TINY, replace(QUICK, epochs=5), records=3000)
    script = textwrap.dedent(f"""
        import os, signal
        from ann.service.worker import load_dataset, train_run
        from ann.service.store import RunStore
        store = RunStore({str(tmp_path / 'runs')!r})
        run = store.claim()
        def after_epoch(metrics):
            if metrics["epoch"] == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        train_run(store, run, load_dataset({str(tiny_data)!r}, verify=False), on_epoch=after_epoch)
    """)
    child = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=120)
    assert child.returncode == -signal.SIGKILL
    assert store.get_run(owner, run.id).status == RunStatus.RUNNING  # nobody has noticed yet
    svc = TrainingService(store, tiny_data, workers=1, verify_data=False, nice=0)
    try:
        assert svc.interrupted_at_start == [run.id]
        interrupted = store.get_run(owner, run.id)
        assert interrupted.status == RunStatus.INTERRUPTED and interrupted.epochs_done == 2
        assert len(store.history(interrupted)) == 2
        svc.continue_run(owner, run.id, 3)
        ended = _wait(lambda: (r := store.get_run(owner, run.id)).status == RunStatus.FINISHED and r, "the rest")
        assert ended.epochs_done == 5 and [e["epoch"] for e in store.history(ended)] == [1, 2, 3, 4, 5]
    finally:
        svc.close()


def test_when_the_server_dies_its_workers_mark_their_runs_interrupted_and_end(tmp_path, tiny_data):
    """kill -9 of the process that owns the pool (the dashboard's server): its worker notices within a
    second or two, records the run as interrupted (keeping its whole epochs) and exits."""
    runs_dir = tmp_path / "runs"
    owner = new_workspace_key()
    script = textwrap.dedent(f"""
        import time
        from ann.config import NetworkConfig, TrainConfig
        from ann.service.pool import TrainingService
        from ann.service.store import RunStore
        svc = TrainingService(RunStore({str(runs_dir)!r}), {str(tiny_data)!r}, workers=1, verify_data=False,
                              nice=0)
        svc.submit({owner!r}, NetworkConfig(hidden_nodes=(30,)),
                   TrainConfig(epochs=400, rotate=0.0, batch_size=1), records=3000)
        time.sleep(600)
    """)
    server = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        store = _wait(lambda: (runs_dir / "runs.db").exists() and RunStore(runs_dir), "the store")
        trained = _wait(lambda: (r := store.list_runs(owner)) and r[0].epochs_done >= 1 and r[0], "an epoch")
        worker_pid = int(trained.worker.rpartition(":")[2])
    finally:
        server.kill()
        server.wait()
    ended = _wait(lambda: (r := store.get_run(owner, trained.id)).status == RunStatus.INTERRUPTED and r,
                  "the orphaned worker to mark its run", timeout=30)
    assert "server that started its worker stopped" in ended.message and ended.epochs_done >= 1
    _wait(lambda: not os.path.exists(f"/proc/{worker_pid}") or
          open(f"/proc/{worker_pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", "the worker to exit")


def test_a_run_paused_long_while_others_wait_gives_its_worker_back(service):
    """With one worker, a run paused past the hold time is parked (its worker takes the next run);
    Resume queues it again and it finishes from its last whole epoch."""
    svc = service(workers=1, hold_seconds=0.5)
    store = svc.store
    alice, bob = new_workspace_key(), new_workspace_key()
    long_run = svc.submit(alice, TINY, replace(SLOW, epochs=6), records=3000)
    _wait(lambda: _run(store, alice, long_run.id).epochs_done >= 1, "an epoch")
    store.pause(alice, long_run.id)
    _wait(lambda: _run(store, alice, long_run.id).status == RunStatus.PAUSED, "the pause")
    other = svc.submit(bob, TINY, QUICK, records=3000)
    _wait(lambda: _run(store, bob, other.id).status == RunStatus.FINISHED, "the other visitor's run")
    parked = _run(store, alice, long_run.id)
    assert parked.status == RunStatus.PAUSED and parked.worker is None and "Resume puts it back" in parked.message
    svc.resume(alice, long_run.id)
    ended = _wait(lambda: (r := _run(store, alice, long_run.id)).status == RunStatus.FINISHED and r, "the parked run")
    assert ended.epochs_done == 6 and [e["epoch"] for e in store.history(ended)] == list(range(1, 7))


def test_a_run_that_cannot_train_fails_with_its_reason_and_the_worker_goes_on(service, tmp_path):
    svc = service(workers=1, data=tmp_path / "no_data_here")
    store = svc.store
    owner = new_workspace_key()
    run = svc.submit(owner, TINY, QUICK, records=100)
    failed = _wait(lambda: (r := _run(store, owner, run.id)).status == "failed" and r, "the failure")
    assert "the training data could not be read" in failed.message
    assert RunStatus.QUEUED not in store.counts()


def test_workers_train_each_run_on_its_own_dataset(service, tiny_data, tmp_path):
    """One pool, three runs: MNIST's format in the data folder, a named set in its own folder below it, and a
    workspace's own data (four classes) kept in the run store. Each trains on its own data (each band set is
    learnt to over 90%: an untrained network scores about 10-25%), and its model names its classes. A run
    whose own data has gone from the server fails, saying so, and the worker goes on."""
    import shutil

    from dataset_files import band_set, csv_bytes, write_idx_set

    from ann.data.named import NAMED
    from ann.data.own import read_own_data

    root = tmp_path / "data"
    shutil.copytree(tiny_data, root)
    write_idx_set(root / "fashion", band_set(1000, seed=5), band_set(200, seed=6))
    svc = service(workers=1, data=root)
    store = svc.store
    owner = new_workspace_key()
    own = store.save_dataset(owner, read_own_data([("four.csv", csv_bytes(band_set(1000, 4, seed=7)))]))
    runs = [svc.submit(owner, TINY, QUICK, records=3000),
            svc.submit(owner, TINY, QUICK, records=1000, dataset="fashion"),
            svc.submit(owner, replace(TINY, output_nodes=4), QUICK, records=800, dataset=own)]
    ended = [_wait(lambda r=r: (x := _run(store, owner, r.id)).status in (RunStatus.FINISHED, "failed") and x, r.name)
             for r in runs]
    assert [r.status for r in ended] == [RunStatus.FINISHED] * 3, [r.message for r in ended]
    assert [r.dataset_tag for r in ended][1:] == [NAMED["fashion"].tag, own]
    assert all(r.test_accuracy > 0.9 for r in ended)
    assert [h["samples_seen"] for h in (store.history(r)[-1] for r in ended)] == [6000, 2000, 1600]
    assert store.load_network(ended[2]).weights[-1].shape == (4, 30)



def test_a_run_whose_own_data_is_gone_fails_saying_so(tmp_path):
    """The worker's loop (run here in-process) names the missing dataset on the run and goes on."""
    from dataset_files import band_set, csv_bytes

    from ann.data.own import read_own_data
    from ann.service.records import owner_of
    from ann.service.worker import worker_main

    store = RunStore(tmp_path / "runs")
    owner = new_workspace_key()
    own = store.save_dataset(owner, read_own_data([("four.csv", csv_bytes(band_set(100, 4)))]))
    run = store.submit(owner, replace(TINY, output_nodes=4), QUICK, records=80, dataset=own)
    store.datasets.delete(owner_of(owner), own.key)  # gone from the disk, as after a long time unused
    assert worker_main(["--runs", str(store.root), "--idle", "0", "--poll", "0.01", "--nice", "0"]) == 0
    failed = _run(store, owner, run.id)
    assert failed.status == "failed"
    assert failed.message.startswith("Failed: the training data could not be read (four): the dataset ")
    assert "is not on this server" in failed.message and "upload it again" in failed.message


def test_a_runs_estimate_is_measured_as_its_worker_will_train(service, monkeypatch):
    monkeypatch.delenv("ANN_BLAS_THREADS", raising=False)
    svc = service(workers=2)
    assert svc.worker_threads == max(available_cores() // 2, 1)
    network, training = NetworkConfig(hidden_nodes=(16,)), TrainConfig(epochs=2, batch_size=8, rotate=0.0)
    measured = training_seconds(network, training, 1000, 500, threads=svc.worker_threads, nice=svc.nice)
    # no worker running yet: a fresh worker process's start is part of the wait
    assert not svc.alive_workers()
    assert svc.run_seconds(network, training, 1000, 500) == pytest.approx(measured + process_start_seconds(svc.nice),
                                                                          rel=1e-9)
    monkeypatch.setenv("ANN_BLAS_THREADS", "1")
    assert svc.worker_threads == 1
