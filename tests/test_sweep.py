"""ann.experiments.sweep and ``python -m ann sweep``: grids, this process, local processes, a real Dask
LocalCluster, failures, stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ann.blas import available_cores
from ann.estimates import training_seconds
from ann.experiments.executors import IN_THIS_PROCESS
from ann.experiments.grid import SweepData, SweepError, expand_grid, parse_param
from ann.experiments.results import load_results, save_results, validate_results
from ann.experiments.run import train_run
from ann.experiments.seed_claims import as_error_rules, as_sweep
from ann.experiments.sweep import run_sweep
from ann.experiments.timing import sweep_seconds, sweep_start_seconds

ROOT = Path(__file__).resolve().parents[1]
TINY = {"epochs": 1, "rotate": 0.0, "limit": 300}  # a run of a few hundredths of a second
MEETING_FOLDER = "ANN_TEST_MEETING_FOLDER"  # where the runs of paired_task meet (inherited by the workers)
PARTNER_WAIT = 60.0  # seconds a paired run waits for its partner: far more than a worker takes to start


@pytest.fixture(scope="module")
def data(mnist):
    return SweepData(mnist.train.images[:300], mnist.train.labels[:300], mnist.test.images[:500],
                     mnist.test.labels[:500])


# Tasks for the failure tests. Module-level, so that a worker process can import them by name.
def failing_task(spec, data, should_stop, progress, threads):
    if spec.train.learning_rate == 0.3:
        raise RuntimeError("no training at 0.3 today")
    return train_run(spec, data, should_stop, progress, threads)


def dying_task(spec, data, should_stop, progress, threads):
    if spec.index == 1:
        os._exit(3)  # the worker process dies, as when it is killed or runs out of memory
    return train_run(spec, data, should_stop, progress, threads)


def paired_task(spec, data, should_stop, progress, threads):
    """train_run, once the partner run (0 with 1, 2 with 3) has started too: two runs meet only if they are
    on two workers at the same time, whatever the workers' start-up times (one worker would wait alone)."""
    folder = Path(os.environ[MEETING_FOLDER])
    (folder / str(spec.index)).write_text(str(os.getpid()))
    partner = folder / str(spec.index ^ 1)
    deadline = time.monotonic() + PARTNER_WAIT
    while not partner.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {spec.index} waited {PARTNER_WAIT:.0f} s alone for run {spec.index ^ 1}")
        time.sleep(0.01)
    return train_run(spec, data, should_stop, progress, threads)


def curves(result):
    return [(r["values"], r["seed"], r["test_accuracy"], r["train_loss"]) for r in result["runs"]]


# --------------------------------------------------------------------------- the grid


def test_parse_param_reads_each_settings_type_and_the_command_line_spellings():
    assert parse_param("learning_rate=0.01,0.03") == ("learning_rate", [0.01, 0.03])
    assert parse_param("lr=0.1") == ("learning_rate", [0.1])
    assert parse_param("hidden=100,300x100") == ("hidden_nodes", [(100,), (300, 100)])
    assert parse_param("batch-size=1,32") == ("batch_size", [1, 32])
    assert parse_param("shuffle=true,false") == ("shuffle", [True, False])
    assert parse_param("error_rule=transpose,equal") == ("error_rule", ["transpose", "equal"])


@pytest.mark.parametrize("text, match", [
    ("learning_rate", "expected NAME=VALUE"),
    ("speed=1,2", "'speed' is not a setting; choose one of: activation"),
    ("seed=1,2", "use --seeds N"),
    ("learning_rate=", "at least one value"),
    ("epochs=two", "'two' is not a whole number"),
    ("learning_rate=0.1,nan", "not a finite number"),
    ("hidden_nodes=100,big", "'big' is not a layer size"),
    ("momentum=0.9,0.9", "0.9 given more than once"),
])
def test_a_bad_param_is_refused_with_what_to_do(text, match):
    with pytest.raises(SweepError, match=match):
        parse_param(text)


def test_expand_grid_makes_every_combination_for_every_seed_and_checks_each():
    specs = expand_grid([parse_param("lr=0.1,0.3"), parse_param("hidden=50,100")], [80, 81], {"epochs": 2})
    assert len(specs) == 8 and [s.index for s in specs] == list(range(8))
    assert {(s.train.learning_rate, s.network.hidden_nodes, s.seed) for s in specs} == {
        (lr, (h,), seed) for lr in (0.1, 0.3) for h in (50, 100) for seed in (80, 81)}
    assert all(s.train.epochs == 2 and s.train.seed == s.seed for s in specs)
    with pytest.raises(SweepError, match="learning_rate=20 cannot train: learning_rate=20.0 is out of range"):
        expand_grid([parse_param("lr=0.1,20")], [80])
    with pytest.raises(SweepError, match="given more than once"):
        expand_grid([parse_param("lr=0.1"), parse_param("lr=0.3")], [80])


# --------------------------------------------------------------------------- local processes and Dask


@pytest.fixture(scope="module")
def local_result(data, tmp_path_factory):
    # A run takes far less time than a worker process takes to start, so a worker that comes up first may
    # rightly train every run before the other is up; paired runs make the sweep need both workers at once.
    specs = expand_grid([parse_param("lr=0.1,0.3")], [80, 81], TINY)
    fractions, ended = [], []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MEETING_FOLDER, str(tmp_path_factory.mktemp("meeting")))
        result = run_sweep(specs, data, workers=2, progress=lambda f, m: fractions.append(f),
                           on_run=ended.append, task=paired_task)
    return result, fractions, ended


def test_a_sweep_on_local_processes_trains_every_run_in_parallel(local_result, tmp_path):
    result, fractions, ended = local_result
    assert result["backend"] == "processes" and result["workers"] == 2
    assert result["failed"] == 0, [r["error"] for r in result["runs"]]
    assert [(r["values"]["learning_rate"], r["seed"]) for r in result["runs"]] == [
        (0.1, 80), (0.1, 81), (0.3, 80), (0.3, 81)]
    assert all(r["status"] == "finished" and r["epochs"] == [1] for r in result["runs"])
    assert all(r["final_test_accuracy"] > 0.5 for r in result["runs"])  # 300 records: about 0.7-0.8
    # each run met its partner, so runs 0 and 1 (and 2 and 3) trained at the same time on the two workers
    workers = [r["worker"] for r in result["runs"]]
    assert workers[0] != workers[1] and workers[2] != workers[3] and len(set(workers)) == 2
    assert not any(worker.endswith(f":{os.getpid()}") for worker in workers)
    assert sorted(r["index"] for r in ended) == [0, 1, 2, 3]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    loaded = load_results(save_results(tmp_path / "sweep.json", result))  # the Experiments page's format
    assert loaded["kind"] == "grid" and len(loaded["runs"]) == 4
    assert loaded["parameters"] == [{"name": "learning_rate", "values": [0.1, 0.3]}] and loaded["seeds"] == [80, 81]


def test_the_same_run_in_this_process_gives_the_same_numbers(local_result, data):
    result, _, _ = local_result
    spec = expand_grid([parse_param("lr=0.3")], [81], TINY)[0]
    here = train_run(spec, data)
    there = result["runs"][3]
    assert (here["test_accuracy"], here["train_loss"]) == (there["test_accuracy"], there["train_loss"])


def test_the_same_sweep_in_this_process_gives_the_same_runs_in_order_with_progress(local_result, data):
    specs = expand_grid([parse_param("lr=0.1,0.3")], [80, 81], TINY)
    fractions, ended = [], []
    here = run_sweep(specs, data, workers=IN_THIS_PROCESS, progress=lambda f, m: fractions.append(f),
                     on_run=ended.append)
    assert here["backend"] == "in_process" and here["workers"] == 1 and here["failed"] == 0
    assert curves(here) == curves(local_result[0])
    assert [r["index"] for r in ended] == [0, 1, 2, 3] and {r["worker"] for r in here["runs"]} == {
        f"{os.uname().nodename}:{os.getpid()}"}
    # heard within every run (its chunks and its epoch), not only as runs end
    assert len(fractions) > 2 * len(specs) and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_run_that_raises_in_this_process_raises_to_the_caller(data):
    specs = expand_grid([parse_param("lr=0.1,0.3")], [80], TINY)
    with pytest.raises(RuntimeError, match="no training at 0.3 today"):
        run_sweep(specs, data, workers=IN_THIS_PROCESS, task=failing_task)


def test_a_sweep_on_a_dask_local_cluster_equals_local_processes_and_reports_a_failed_run(local_result, data):
    distributed = pytest.importorskip("distributed", reason="the Dask extra (requirements-dask.txt)")
    # The cluster's worker processes start with this process's sys.path, so they import failing_task from
    # this file by name, as workers import ann.experiments.run.train_run.
    specs = expand_grid([parse_param("lr=0.1,0.3")], [80, 81], TINY)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        on_dask = run_sweep(specs, data, scheduler=cluster.scheduler_address)
        with_failure = run_sweep(specs, data, scheduler=cluster.scheduler_address, task=failing_task)
    assert on_dask["backend"] == "dask" and on_dask["scheduler"] == cluster.scheduler_address
    assert on_dask["workers"] == 2 and on_dask["failed"] == 0
    assert curves(on_dask) == curves(local_result[0])  # equal seeds, equal results, wherever they ran
    assert with_failure["failed"] == 2, [r["error"] for r in with_failure["runs"]]
    for run in with_failure["runs"]:
        if run["values"]["learning_rate"] == 0.3:
            assert run["status"] == "failed" and "RuntimeError: no training at 0.3 today" in run["error"]
        else:
            assert run["status"] == "finished" and run["final_test_accuracy"] is not None


def test_a_run_that_raises_is_reported_and_the_others_go_on(data):
    specs = expand_grid([parse_param("lr=0.1,0.3,0.5")], [80], TINY)
    result = run_sweep(specs, data, workers=2, task=failing_task)
    assert [r["status"] for r in result["runs"]] == ["finished", "failed", "finished"]
    assert result["failed"] == 1 and "no training at 0.3 today" in result["runs"][1]["error"]


def test_a_worker_process_that_dies_fails_only_its_runs(data):
    specs = expand_grid([parse_param("lr=0.1,0.3,0.5,0.7")], [80], TINY)
    result = run_sweep(specs, data, workers=1, task=dying_task)  # one worker: only run 1 is in it
    assert [r["status"] for r in result["runs"]] == ["finished", "failed", "finished", "finished"]
    assert "worker process training it died" in result["runs"][1]["error"]


def test_a_stop_request_ends_the_sweep_with_what_finished(data):
    specs = expand_grid([parse_param("lr=0.1,0.3,0.5,0.7")], [80], {**TINY, "epochs": 3})
    ended = []
    result = run_sweep(specs, data, workers=1, on_run=ended.append, should_stop=lambda: len(ended) >= 1)
    assert result["stopped"] is True
    assert 1 <= len(result["runs"]) < 4 and result["runs"][0]["status"] == "finished"


def test_one_setting_grids_become_the_pages_sweep_and_error_rule_results(data):
    rules = run_sweep(expand_grid([parse_param("error_rule=transpose,equal")], [80], TINY), data, workers=2)
    as_rules = as_error_rules(rules)
    validate_results(as_rules)
    assert [s["rule"] for s in as_rules["series"]] == ["transpose", "equal"]
    sweep = as_sweep(run_sweep(expand_grid([parse_param("hidden=20,40")], [80], TINY), data, workers=2))
    validate_results(sweep)
    assert sweep["parameter"] == "hidden_nodes" and sweep["values"] == [20, 40]


def test_bad_workers_and_an_unreachable_scheduler_say_what_to_do(data, monkeypatch):
    specs = expand_grid([parse_param("lr=0.1")], [80], TINY)
    with pytest.raises(SweepError, match=r"workers=-1: give a whole number of local processes, at least 1 \(or 0"):
        run_sweep(specs, data, workers=-1)
    pytest.importorskip("distributed")
    monkeypatch.setattr("ann.experiments.executors.CONNECT_TIMEOUT", 2.0)
    with pytest.raises(SweepError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:9.*dask scheduler"):
        run_sweep(specs, data, scheduler="tcp://127.0.0.1:9")


# --------------------------------------------------------------------------- the command line


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ANN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "ann", "sweep", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_cli_sweep_writes_the_results_file_and_a_json_summary(mnist_dir, tmp_path):
    out = tmp_path / "grid.json"
    done = run_cli("--data", str(mnist_dir), "--param", "lr=0.1,0.3", "--param", "hidden=30", "--seeds", "2",
                   "--limit", "300", "--epochs", "1", "--rotate", "0", "--workers", "2", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["runs"] == 4 and summary["failed"] == 0 and summary["backend"] == "processes"
    assert "run 4/4" in done.stderr and "4 runs, 0 failed" in done.stderr
    result = load_results(out)
    assert [p["name"] for p in result["parameters"]] == ["learning_rate", "hidden_nodes"]
    assert result["config"]["epochs"] == 1 and "learning_rate" not in result["config"]


@pytest.mark.parametrize("args, message", [
    (["--param", "lr=0.1,abc"], "'abc' is not a number"),
    (["--param", "lr=0.1", "--workers", "0"], "0 must be at least 1"),
    (["--param", "lr=0.1", "--workers", "2", "--scheduler", "tcp://x:1"], "not allowed with argument"),
])
def test_cli_sweep_usage_errors_exit_2_with_a_message(args, message):
    done = run_cli(*args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_a_sweeps_estimate_deals_the_measured_runs_to_the_workers():
    specs = expand_grid([parse_param("lr=0.1,0.2,0.3,0.4")], [80], {**TINY, "hidden_nodes": (16,)})
    one = training_seconds(specs[0].network, specs[0].train, 300, 500, threads=1)  # same cost for every lr
    start = {workers: sweep_start_seconds(workers) for workers in (1, 2, 4)}
    assert all(seconds > 0 for seconds in start.values())
    assert sweep_start_seconds(2) is start[2]  # measured once per worker count
    assert sweep_seconds(specs, 300, 500, workers=1, others=0) == pytest.approx(4 * one + start[1], rel=1e-9)
    if available_cores() >= 2:
        assert sweep_seconds(specs, 300, 500, workers=2, others=0) == pytest.approx(2 * one + start[2], rel=1e-9)
    # four processes (one a run) on this machine's cores: each gets its share of a core
    share = min(1.0, available_cores() / 4)
    assert sweep_seconds(specs, 300, 500, workers=8, others=0) == pytest.approx(one / share + start[4], rel=1e-9)
    if available_cores() == 2:  # beside a busy process, two workers get two thirds of a core each
        assert sweep_seconds(specs, 300, 500, workers=2, others=1) == pytest.approx(2 * one * 1.5 + start[2],
                                                                                    rel=1e-9)
