"""The training service on a real Dask cluster (ann.service.cluster): a LocalCluster of worker processes.

The runs train on the tiny band set of test_jobs.py (3,000 records in MNIST's format); the one test of equal
weights uses the first records of the real MNIST. Separate ``dask scheduler`` and ``dask worker`` processes,
started as the README says, are in test_cluster_processes.py.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from test_jobs import _wait, tiny_data  # noqa: F401 -- tiny_data: the same module fixture

from ann.config import NetworkConfig, TrainConfig
from ann.service.pool import TrainingService
from ann.service.records import RunStatus, new_workspace_key
from ann.service.store import RunStore

distributed = pytest.importorskip("distributed", reason="the Dask extra (requirements-dask.txt)")
from ann.service import cluster as cluster_module  # noqa: E402 -- needs Dask, skipped above without it

TINY = NetworkConfig(hidden_nodes=(30,))
QUICK = TrainConfig(epochs=2, rotate=0.0, batch_size=16)
SLOW = TrainConfig(epochs=400, rotate=0.0, batch_size=1)  # per-sample: epochs of 0.1-0.3 s, chunks of 1,024
WAIT = 60.0


def _cluster():
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                    silence_logs=40)


@pytest.fixture(scope="module")
def cluster():
    with _cluster() as made:
        yield made


@pytest.fixture
def service(tmp_path, tiny_data):
    made = []

    def make(scheduler: str, data=None, verify: bool = False, **kwargs) -> TrainingService:
        svc = TrainingService(RunStore(tmp_path / f"runs{len(made)}"), data or tiny_data, workers=1,
                              verify_data=verify, idle_seconds=20, nice=0, scheduler=scheduler, **kwargs)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


def _ended(store, owner, run_id, status=RunStatus.FINISHED, timeout: float = WAIT):
    return _wait(lambda: (r := store.get_run(owner, run_id)).status == status and r, f"the run to be {status}", timeout)


def test_the_seed_configuration_gives_the_same_weights_on_the_cluster_as_on_the_local_pool(service, cluster,
                                                                                             mnist_dir):
    """float64, the seed's 784-200-10 with its rotations, 300 records: to 1e-12 (in fact identical)."""
    network_config = NetworkConfig(dtype="float64")
    config = TrainConfig(epochs=1, limit=300)
    weights, points = {}, {}
    for scheduler in ("", cluster.scheduler_address):
        svc = service(scheduler, data=mnist_dir, verify=True)
        assert svc.executor == ("dask" if scheduler else "local")
        owner = new_workspace_key()
        run = svc.submit(owner, network_config, config, records=300)
        ended = _ended(svc.store, owner, run.id)
        weights[svc.executor] = svc.store.load_network(ended).weights
        assert (ended.trained_on or "").endswith(" (dask)") == bool(scheduler)
        assert svc.store.history(ended)[0]["test_accuracy"] > 0.5
        points[svc.executor] = svc.store.points(ended)  # the live points within the epoch ride along
    for local, remote in zip(weights["local"], weights["dask"]):
        assert np.max(np.abs(local - remote)) <= 1e-12
    assert points["dask"] and len(points["dask"]) == len(points["local"])


def test_pause_resume_a_new_learning_rate_and_stop_reach_a_run_on_the_cluster(service, cluster):
    svc = service(cluster.scheduler_address)
    store = svc.store
    owner = new_workspace_key()
    run = svc.submit(owner, TINY, replace(SLOW, learning_rate=0.1), records=3000)
    training = _wait(lambda: (r := store.get_run(owner, run.id)).epochs_done >= 1 and r, "the first epoch")
    assert training.trained_where.startswith("Dask worker 127.0.0.1:")
    assert store.history(training)[0]["epoch"] == 1 and store.load_network(training).weights[0].shape == (30, 784)

    asked = time.monotonic()
    svc.pause(owner, run.id)
    _wait(lambda: store.get_run(owner, run.id).status == RunStatus.PAUSED, "the pause", every=0.005)
    took = time.monotonic() - asked
    assert took < 2.0, f"the pause took {took:.2f} s"
    frozen = store.get_run(owner, run.id)
    time.sleep(1.5)  # a paused worker's heartbeat comes every second
    still = store.get_run(owner, run.id)
    assert (still.status, still.epochs_done, still.progress_done) == (RunStatus.PAUSED, frozen.epochs_done,
                                                                      frozen.progress_done)
    assert still.heartbeat > frozen.heartbeat  # a paused run's worker still says it is there
    svc.resume(owner, run.id)
    _wait(lambda: store.get_run(owner, run.id).epochs_done > frozen.epochs_done, "training to go on")

    svc.set_learning_rate(owner, run.id, 0.02)
    events = _wait(lambda: store.events(store.get_run(owner, run.id)), "the new rate to be taken", timeout=10)
    assert events[0]["kind"] == "learning_rate" and events[0]["value"] == 0.02
    _wait(lambda: any(e["learning_rate"] == 0.02 for e in store.history(store.get_run(owner, run.id))),
          "an epoch at the new rate")

    asked = time.monotonic()
    svc.stop(owner, run.id)
    ended = _ended(store, owner, run.id, RunStatus.STOPPED, timeout=10)
    assert time.monotonic() - asked < 2.0
    assert ended.worker is None and "the epoch in progress is not" in ended.message
    assert [e["epoch"] for e in store.history(ended)] == list(range(1, ended.epochs_done + 1))
    # the run is continued from the checkpoint the server wrote: on the cluster again
    svc.continue_run(owner, run.id, 1)
    continued = _ended(store, owner, run.id)
    assert continued.epochs_done == ended.epochs_done + 1 and continued.trained_on.endswith(" (dask)")


def test_a_dataset_travels_to_a_worker_once_however_many_runs_use_it(service, cluster):
    svc = service(cluster.scheduler_address)
    owners = [new_workspace_key() for _ in range(3)]
    runs = [(owner, svc.submit(owner, TINY, QUICK, records=3000).id) for owner in owners for _ in range(2)]
    ended = [_ended(svc.store, owner, run_id) for owner, run_id in runs]
    places = {run.trained_on for run in ended}
    assert len(places) == 2, places  # both workers trained
    arrivals = svc.cluster.client.run(cluster_module.arrivals)
    got = [count for per_worker in arrivals.values() for count in per_worker.values()]
    assert got and max(got) == 1, arrivals  # six runs, one arrival of the dataset on each worker that used it


def test_the_servers_dataset_is_on_every_worker_before_any_run_and_travels_once_for_several(service, tiny_data):
    """Sent ahead when the server connects, once a worker is there: each worker process has it (one arrival)
    and the training code imported before a run is queued; a worker that joins later gets it too; six runs add
    no arrival."""
    with distributed.LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as own_cluster:
        svc = service(own_cluster.scheduler_address)
        key = cluster_module.named_key("mnist", str(tiny_data), False)
        assert svc.executor == "dask" and not svc.cluster.ready.wait(1.0)  # no worker yet: nothing to send to
        own_cluster.scale(1)
        assert svc.cluster.ready.wait(WAIT) and not svc.store.counts().get(RunStatus.QUEUED)
        client = svc.cluster.client
        assert key in client.list_datasets()
        assert list(client.run(cluster_module.arrivals).values()) == [{key: 1}]
        assert list(client.run(cluster_module.kept).values()) == [[key]]
        wanted = {"ann.service.cluster", "ann.network", "scipy.linalg", "scipy.ndimage", "scipy.special"}
        modules = client.run(lambda: sorted(wanted & set(sys.modules)))  # ann imports SciPy at first use: not here
        assert list(modules.values()) == [sorted(wanted)]

        own_cluster.scale(2)  # a worker joins: the server sees it within a second and sends it the same task
        client.wait_for_workers(2, timeout=WAIT)
        _wait(lambda: all(kept == [key] for kept in client.run(cluster_module.kept).values()), "the new worker's copy")
        assert all(got == {key: 1} for got in client.run(cluster_module.arrivals).values())

        owners = [new_workspace_key() for _ in range(3)]
        runs = [(owner, svc.submit(owner, TINY, QUICK, records=3000).id) for owner in owners for _ in range(2)]
        ended = [_ended(svc.store, owner, run_id) for owner, run_id in runs]
        assert len({run.trained_on for run in ended}) == 2  # both workers trained
        assert all(got == {key: 1} for got in client.run(cluster_module.arrivals).values())


def test_a_scheduler_that_cannot_be_reached_leaves_the_runs_to_the_local_pool_and_says_so(service):
    svc = service("tcp://127.0.0.1:9")
    assert svc.executor == "local"
    assert "cannot be reached" in svc.cluster_notice and "this server's own workers" in svc.cluster_notice
    owner = new_workspace_key()
    run = svc.submit(owner, TINY, QUICK, records=3000)
    assert "tcp://127.0.0.1:9 cannot be reached" in svc.store.get_run(owner, run.id).message
    ended = _ended(svc.store, owner, run.id)
    host, _, pid = ended.trained_where.partition(", process ")
    assert host == socket.gethostname() and pid.isdigit() and ended.message is None


def test_a_worker_killed_mid_run_interrupts_its_run_which_continues_from_its_last_whole_epoch(service, tiny_data):
    from ann.data.mnist import load_mnist
    from ann.network import Network
    from ann.train import fit

    with _cluster() as own_cluster:
        svc = service(own_cluster.scheduler_address)
        store = svc.store
        owner = new_workspace_key()
        network_config = replace(TINY, dtype="float64")
        config = replace(SLOW, epochs=8)
        run = svc.submit(owner, network_config, config, records=3000)
        inside = _wait(lambda: (r := store.get_run(owner, run.id)).epochs_done >= 2 and r.progress_done > 0 and r,
                       "the middle of the third epoch or later", every=0.002)
        address = inside.trained_on.removesuffix(" (dask)")
        pid = svc.cluster.client.run(os.getpid, workers=[address])[address]
        os.kill(pid, signal.SIGKILL)
        interrupted = _ended(store, owner, run.id, RunStatus.INTERRUPTED, timeout=30)
        assert "Dask worker" in interrupted.message and "was lost" in interrupted.message
        assert interrupted.epochs_done >= inside.epochs_done  # only the epoch in progress was lost
        assert [e["epoch"] for e in store.history(interrupted)] == list(range(1, interrupted.epochs_done + 1))
        svc.continue_run(owner, run.id, 8 - interrupted.epochs_done)
        ended = _ended(store, owner, run.id)
    assert ended.epochs_done == 8
    dataset = load_mnist(tiny_data, download=False, verify=False)
    whole = Network(network_config, seed=config.seed)
    fit(whole, dataset.train.images, dataset.train.labels, config)
    assert all(np.array_equal(a, b) for a, b in zip(whole.weights, store.load_network(ended).weights))


def test_a_server_that_stops_interrupts_its_cluster_runs_and_frees_their_workers(service, cluster, tmp_path):
    svc = service(cluster.scheduler_address)
    owner = new_workspace_key()
    run = svc.submit(owner, TINY, SLOW, records=3000)
    _wait(lambda: svc.store.get_run(owner, run.id).epochs_done >= 1, "the first epoch")
    svc.close()
    ended = svc.store.get_run(owner, run.id)
    assert ended.status == RunStatus.INTERRUPTED and "the server that sent it to the Dask cluster stopped" in ended.message
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        # a cancelled task's thread runs on until it returns: the run's variable tells it to, at its next chunk
        _wait(lambda: not any(client.run(lambda dask_worker: len(dask_worker.active_threads)).values()),
              "the cluster's workers to be free", timeout=5)
