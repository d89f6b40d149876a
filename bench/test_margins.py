"""Margins of the tests' thresholds: how far each accuracy or count threshold in tests/ sits from the values
the tested configuration actually gives, over seeds, both dtypes and other orders of the floating-point sums.

A test whose verdict moves with the order of floating-point sums (another BLAS kernel, another thread
count, float32 instead of float64) is a defect. Training one sample at a time is chaotic enough that a
rounding difference of one ulp in the first step gives, a few thousand steps later, a network as different
as one trained from another seed. So each threshold must sit well below the worst value over seeds, and
this script measures it: every thresholded test's own computation, rebuilt from the project's functions
(``ann.train.fit``, ``ann.lab.inside.backquery_all``, ``ann.experiments.seed_claims.compare_error_rules`` / ``sweep_one_setting``,
``ann.data.preprocess.prepare``, ``ann.metrics.evaluate``, ...), for ``--seeds`` seeds x {float32, float64} x these
variants:

``base``      the configuration as the test has it (only the seed changes)
``eps``       every initial weight multiplied by (1 + 1e-7 N(0, 1)): a rounding-sized nudge, the best probe
              of a cliff (a count that moves under it moves with the BLAS kernel too)
``perm``      the first hidden layer's nodes permuted (rows of W0, columns of W1, the bias): the same
              network, its sums taken in another order
``threads2``  ``ANN_BLAS_THREADS=2``: BLAS's own split of the work (the training loop uses 1 by default)

``base`` and ``eps`` run for every seed, ``perm`` and ``threads2`` for the first ``--extra-seeds`` seeds.
Image-processing checks (tests/test_images.py) have no BLAS sums and no network: their "seeds" are other
real digits at other places on the page, and their dtype is the network input's only.

It prints one row per check: test, threshold (the test's, and the old one where it changed), min / median
/ max over every run, and the margin (worst value minus threshold, or threshold minus worst for an upper
bound). The table also goes to bench/out/test_margins.txt and the raw values to bench/out/test_margins.json.

Run (about 30-40 minutes here on 2 busy cores for the defaults; ``--only`` picks measurements by name)::

    python bench/test_margins.py
    python bench/test_margins.py --seeds 5 --extra-seeds 2 --only backquery every_rule
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from _common import DEFAULT_DATA_DIR, OUT_DIR, REPO_DIR, write_results

from ann.config import ERROR_RULE_NAMES, PRESETS, NetworkConfig, TrainConfig
from ann.data.mnist import load_mnist
from ann.experiments.grid import SweepData
from ann.experiments.seed_claims import compare_error_rules, sweep_one_setting
from ann.lab.inside import backquery_all
from ann.network import Network
from ann.train import fit

DTYPES = ("float32", "float64")
VARIANTS = ("base", "eps", "perm", "threads2")
FIRST_SEED = 80  # the tests' seed


# --------------------------------------------------------------------------- variants


def _perturb(net: Network, kind: str, seed: int) -> None:
    if kind == "eps":
        rng = np.random.default_rng(10_000 + seed)
        for W in net.weights:
            W *= (1.0 + 1e-7 * rng.standard_normal(W.shape)).astype(W.dtype)
    elif kind == "perm" and len(net.weights) >= 2:
        p = np.random.default_rng(20_000 + seed).permutation(net.weights[0].shape[0])
        net.weights[0] = np.ascontiguousarray(net.weights[0][p])
        net.weights[1] = np.ascontiguousarray(net.weights[1][:, p])
        if net.biases is not None:
            net.biases[0] = np.ascontiguousarray(net.biases[0][p])


@contextlib.contextmanager
def variant(kind: str) -> Iterator[None]:
    """Apply a variant to every Network built (and trained) inside the block."""
    if kind == "threads2":
        old = os.environ.get("ANN_BLAS_THREADS")
        os.environ["ANN_BLAS_THREADS"] = "2"
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("ANN_BLAS_THREADS", None)
            else:
                os.environ["ANN_BLAS_THREADS"] = old
        return
    if kind == "base":
        yield
        return
    original = Network.__init__

    def init(self, config=None, seed=80):
        original(self, config, seed)
        _perturb(self, kind, seed)

    Network.__init__ = init
    try:
        yield
    finally:
        Network.__init__ = original


# --------------------------------------------------------------------------- checks and measurements


@dataclass
class Check:
    test: str  # the test (and what of it)
    key: str  # the value in the measurement's result
    op: str  # ">", ">=" (value must be above), "<" (value must be below)
    threshold: float | None  # the test's threshold now (None: for information only)
    before: str = ""  # the old threshold, when it changed

    def margin(self, values: list[float]) -> float | None:
        if self.threshold is None:
            return None
        return min(values) - self.threshold if self.op in (">", ">=") else self.threshold - max(values)

    def holds(self, values: list[float]) -> bool:
        ops = {">": lambda v: v > self.threshold, ">=": lambda v: v >= self.threshold,
               "<": lambda v: v < self.threshold}
        return self.threshold is None or all(ops[self.op](v) for v in values)


@dataclass
class Run:
    mnist: Any
    seed: int
    dtype: str
    variant: str


@dataclass
class Measure:
    name: str
    fn: Callable[[Run], dict[str, Any] | None]
    checks: list[Check]
    seed_step: int = 1  # seeds FIRST_SEED, FIRST_SEED + step, ...: a pooled measure uses step seeds itself
    variants: tuple[str, ...] = VARIANTS
    dtypes: tuple[str, ...] = DTYPES
    values: dict[str, list[float]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)


def _net(config: NetworkConfig, dtype: str, seed: int) -> Network:
    return Network(replace(config, dtype=dtype), seed=seed)


# --- tests/test_experiments.py

BACKQUERY_CONFIGS = {  # the test's three networks (its parametrize ids), each trained on 5,000 records once
    "sigmoid": (NetworkConfig(), TrainConfig(limit=5000, epochs=1, rotate=0.0)),
    "tanh": (NetworkConfig(activation="tanh"), TrainConfig(limit=5000, epochs=1, rotate=0.0, learning_rate=0.05)),
    "relu-softmax-bias": (NetworkConfig(activation="relu", loss="cross_entropy", propagate="delta", bias=True),
                          TrainConfig(limit=5000, epochs=1, rotate=0.0, learning_rate=0.05)),
}
def make_backquery(case: str) -> Callable[[Run], dict[str, Any]]:
    """test_a_trained_network_recognises_its_own_backquery_images for one network: for how many digits the
    backquery image drives its own output above that output's mean over the other nine images ("own"), for
    how many output d is strongest on backquery(d) ("column"), and the old count, how many backquery images
    the network reads as their own digit ("read")."""
    network_config, train_config = BACKQUERY_CONFIGS[case]

    def measure(run: Run) -> dict[str, Any]:
        net = _net(network_config, run.dtype, run.seed)
        fit(net, run.mnist.train.images, run.mnist.train.labels, train_config)
        outputs = net.query(backquery_all(net))
        own = np.diag(outputs)
        others = (outputs.sum(axis=0) - own) / 9
        digits = np.arange(10)
        return {"own": int(np.sum(own > others)), "column": int(np.sum(np.argmax(outputs, axis=0) == digits)),
                "read": int(np.sum(np.argmax(outputs, axis=1) == digits))}

    return measure


def small(mnist):
    """test_experiments.py's ``small`` fixture: 500 training records, 1,000 test records."""
    return SweepData(mnist.train.images[:500], mnist.train.labels[:500], mnist.test.images[:1000],
                     mnist.test.labels[:1000])


def compare_rules(run: Run) -> dict[str, Any]:
    results = compare_error_rules(small(run.mnist), TrainConfig(epochs=2, rotate=0.0, seed=run.seed),
                                  NetworkConfig(dtype=run.dtype))
    finals = {s["rule"]: s["test_accuracy"][-1] for s in results["series"]}
    return {"transpose": finals["transpose"], "transpose_minus_equal": finals["transpose"] - finals["equal"]}


def epochs_sweep(run: Run) -> dict[str, Any]:
    results = sweep_one_setting(small(run.mnist), "epochs", [1, 3, 2], TrainConfig(rotate=0.0, seed=run.seed),
                                NetworkConfig(dtype=run.dtype), train_eval_records=300)
    (series,) = results["series"]
    return {"train_minus_test": series["train_accuracy"][-1] - series["test_accuracy"][-1]}


# --- tests/test_network.py


def every_rule(run: Run) -> dict[str, Any]:
    out = {}
    for rule in ERROR_RULE_NAMES:
        net = _net(NetworkConfig(error_rule=rule), run.dtype, run.seed)
        history = fit(net, run.mnist.train.images, run.mnist.train.labels,
                      TrainConfig(limit=3000, epochs=1, rotate=0.0, batch_size=1),
                      test_images=run.mnist.test.images[:2000], test_labels=run.mnist.test.labels[:2000])
        out[rule] = history[-1]["test_accuracy"]
    out["transpose_minus_equal"] = out["transpose"] - out["equal"]
    return out


def _csv(name: str):
    from ann.data.csv_files import read_csv

    return read_csv(DATA_DIR / name)


def float32_vs_float64(run: Run) -> dict[str, Any] | None:
    if run.dtype != "float32":  # the test compares the two dtypes itself
        return None
    split = _csv("mnist_train_100.csv")
    nets = {}
    for dtype in DTYPES:
        nets[dtype] = _net(NetworkConfig(), dtype, run.seed)
        fit(nets[dtype], split.images, split.labels, TrainConfig(epochs=1))
    return {"max_diff": float(np.abs(nets["float32"].weights[1] - nets["float64"].weights[1]).max())}


def _test_module(name: str):
    spec = importlib.util.spec_from_file_location(f"_tests_{name}", REPO_DIR / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_fidelity(run: Run) -> dict[str, Any] | None:
    """test_reproduces_the_seed_on_real_mnist: ann's float64 training against the seed's own loop."""
    if run.dtype != "float64" or run.variant in ("eps", "perm") or run.seed != FIRST_SEED:
        return None  # seed 80 in both, fixed; the seed's loop cannot be nudged alike; threads2 is the probe
    seed_training = _test_module("test_network").seed_training
    records = (DATA_DIR / "mnist_train_100.csv").read_text().split("\n")
    split = _csv("mnist_train_100.csv")
    out = {}
    for rotate in (False, True):
        reference = seed_training(records, epochs=2, rotate=rotate)
        net = Network(NetworkConfig(dtype="float64"), seed=80)
        fit(net, split.images, split.labels, TrainConfig(epochs=2, rotate=10.0 if rotate else 0.0))
        out["rotations" if rotate else "plain"] = max(float(np.abs(a - b).max())
                                                      for a, b in zip(net.weights, (reference.wih, reference.who)))
    return out


# --- tests/test_train.py


def short_run(run: Run) -> dict[str, Any]:
    net = _net(NetworkConfig(), run.dtype, run.seed)
    (metrics,) = fit(net, run.mnist.train.images, run.mnist.train.labels, TrainConfig(limit=10_000, epochs=1),
                     test_images=run.mnist.test.images, test_labels=run.mnist.test.labels)
    return {"test_accuracy": metrics["test_accuracy"], "train_accuracy": metrics["train_accuracy"]}


def fast_epoch(run: Run) -> dict[str, Any]:
    net = _net(PRESETS["fast"].network, run.dtype, run.seed)
    config = TrainConfig(**{**PRESETS["fast"].train.__dict__, "epochs": 1, "seed": run.seed})
    history = fit(net, run.mnist.train.images, run.mnist.train.labels, config,
                  test_images=run.mnist.test.images, test_labels=run.mnist.test.labels)
    return {"test_accuracy": history[0]["test_accuracy"]}


def loss_falls(run: Run) -> dict[str, Any]:
    net = _net(NetworkConfig(), run.dtype, run.seed)
    history = fit(net, run.mnist.train.images, run.mnist.train.labels,
                  TrainConfig(limit=3000, epochs=2, rotate=0.0, batch_size=10, learning_rate=0.3, seed=run.seed))
    return {"ratio": history[1]["train_loss"] / history[0]["train_loss"]}


def evaluate_fast(run: Run) -> dict[str, Any]:
    from ann.metrics import evaluate

    net = _net(PRESETS["fast"].network, run.dtype, run.seed)
    fit(net, run.mnist.train.images, run.mnist.train.labels,
        TrainConfig(**{**PRESETS["fast"].train.__dict__, "epochs": 1, "limit": 10_000, "seed": run.seed}))
    return {"accuracy": evaluate(net, run.mnist.test.images, run.mnist.test.labels).accuracy}


# --- tests/test_cli.py (the same computation in process: the CLI trains with ann.train and the defaults)


def cli_model(run: Run) -> dict[str, Any]:
    import imageio.v3 as iio

    from ann.data.prepare import prepare

    net = _net(NetworkConfig(), run.dtype, run.seed)
    history = fit(net, run.mnist.train.images, run.mnist.train.labels,
                  TrainConfig(limit=6000, epochs=1, seed=run.seed),
                  test_images=run.mnist.test.images, test_labels=run.mnist.test.labels)
    right = 0
    for i in range(9):  # test_predict_own_images_like_the_seed: dark ink on white, 4x, as PNG
        img = 255 - np.kron(run.mnist.test.images[i].reshape(28, 28), np.ones((4, 4), np.uint8))
        x, _ = prepare(iio.imwrite("<bytes>", img, extension=".png"), dtype=net.dtype)
        right += int(np.argmax(net.query(x)[0]) == int(run.mnist.test.labels[i]))
    return {"test_accuracy": history[-1]["test_accuracy"], "predict_right": right}


# --- tests/test_app.py and tests/test_e2e.py


def app_tiny_run(run: Run) -> dict[str, Any]:
    """The Train page's seed preset with 500 records and 1 epoch (test_app's tiny run)."""
    net = _net(NetworkConfig(), run.dtype, run.seed)
    history = fit(net, run.mnist.train.images, run.mnist.train.labels, TrainConfig(limit=500, epochs=1, seed=run.seed),
                  test_images=run.mnist.test.images, test_labels=run.mnist.test.labels)
    return {"test_accuracy": history[0]["test_accuracy"]}


def e2e_run(run: Run) -> dict[str, Any]:
    """test_e2e's run through the browser: the page's default 10,000 records, seed preset, 3 epochs."""
    net = _net(NetworkConfig(), run.dtype, run.seed)
    history = fit(net, run.mnist.train.images, run.mnist.train.labels, TrainConfig(limit=10_000, epochs=3, seed=run.seed),
                  test_images=run.mnist.test.images, test_labels=run.mnist.test.labels)
    return {"percent": 100 * history[-1]["test_accuracy"]}


def shipped_model(run: Run) -> dict[str, Any] | None:
    """data/pretrained.npz on the test set (Evaluate page: test_app, test_e2e), its weights nudged by 1e-7
    per seed for ``eps``; nothing is trained, so ``perm`` and ``threads2`` are the forward pass only."""
    from ann.metrics import evaluate
    from ann.model_io import load_model

    model = load_model(REPO_DIR / "data" / "pretrained.npz")
    net = Network(replace(model.network.config, dtype=run.dtype), seed=0)
    net.weights = [W.astype(run.dtype) for W in model.network.weights]
    net.biases = [b.astype(run.dtype) for b in model.network.biases] if model.network.biases else None
    if run.variant in ("eps", "perm"):
        _perturb(net, run.variant, run.seed)
    elif run.seed != FIRST_SEED:  # base: the same computation for every seed, once is enough
        return None
    percent = 100 * evaluate(net, run.mnist.test.images, run.mnist.test.labels).accuracy
    return {"percent": percent, "info_test_accuracy": float(model.info.get("test_accuracy", 0))}


# --- tests/test_images.py: real digits through ann.data.preprocess; "seed" = which digits and where on the page


def images_checks(run: Run) -> dict[str, Any] | None:
    import imageio.v3 as iio

    from ann.data import preprocess

    if run.variant != "base":
        return None
    t = _test_module("test_images")
    n = t.N_DIGITS
    rng = np.random.default_rng(run.seed)
    if run.seed == FIRST_SEED:  # the test's own digits and page
        chosen, top, left = np.arange(n), 31, 57
    else:
        chosen, top, left = rng.choice(10_000, n, replace=False), int(rng.integers(0, 44)), int(rng.integers(0, 97))
    digits = run.mnist.test.images[chosen].reshape(n, 28, 28)

    def paper(digit):
        big = np.kron(digit.astype(np.float64), np.ones((7, 7)))
        page = np.zeros((240, 293))
        page[top:top + 196, left:left + 196] = big
        return (255 - page).astype(np.uint8)

    aligned, plain, centre = [], [], []
    for digit in digits:
        _, image = preprocess.prepare(t.png_bytes(paper(digit)), dtype=run.dtype)
        aligned.append(t.best_aligned_correlation(image, digit))
        plain.append(t.correlation(image, digit))
        centre.append(float(np.abs(t.centre_of_mass(image) - 14.0).max()))
    jpg_png, jpg_digit = [], []
    for digit in digits[:8]:
        _, from_jpg = preprocess.prepare(iio.imwrite("<bytes>", paper(digit), extension=".jpg", quality=85),
                                     dtype=run.dtype)
        _, from_png = preprocess.prepare(t.png_bytes(paper(digit)), dtype=run.dtype)
        jpg_png.append(t.correlation(from_jpg, from_png))
        jpg_digit.append(t.best_aligned_correlation(from_jpg, digit))
    small_digit = [t.best_aligned_correlation(preprocess.to_mnist(d), d) for d in digits[:10]]
    digit = digits[0]  # the grey photo
    clean = preprocess.to_mnist(paper(digit))
    ink = 1.0 - paper(digit) / 255.0
    page = np.clip(150.0 - 110.0 * ink + np.random.default_rng(0 if run.seed == FIRST_SEED else run.seed)
                   .normal(0, 4, size=ink.shape), 0, 255)
    photo = preprocess.to_mnist(page)
    return {"aligned_min": min(aligned), "plain_median": float(np.median(plain)), "centre_max": max(centre),
            "jpg_png_min": min(jpg_png), "jpg_digit_min": min(jpg_digit), "mnist28_min": min(small_digit),
            "photo": t.correlation(photo, clean),
            "photo_ink_ratio": np.count_nonzero(photo) / max(np.count_nonzero(clean), 1)}


# --- tests/test_augment.py


def elastic_ink(run: Run) -> dict[str, Any] | None:
    from ann import augment

    if run.variant != "base":
        return None
    X = (run.mnist.test.images[:40] / 255.0 * 0.99 + 0.01).astype(run.dtype)
    result = augment.elastic(X, np.random.default_rng(0 if run.seed == FIRST_SEED else run.seed))
    return {"ink_change": float(abs(result.sum() - X.sum()) / X.sum())}


def measures() -> list[Measure]:
    E, N, T = "test_experiments", "test_network", "test_train"
    out = [
        Measure(f"backquery_{case}", make_backquery(case), checks=[
            Check(f"{E}::backquery[{case}]: own output above its mean on the others", "own", ">=", 9),
            Check(f"{E}::backquery[{case}]: output d strongest on backquery(d)", "column", ">=", 6),
            Check("  read as its own digit (the old test)", "read", ">=", None),
        ]) for case in BACKQUERY_CONFIGS
    ]
    out += [
        Measure("compare_rules", compare_rules, checks=[
            Check(f"{E}::compare_error_rules: transpose", "transpose", ">", 0.6),
            Check(f"{E}::compare_error_rules: transpose - equal", "transpose_minus_equal", ">", 0.0)]),
        Measure("epochs_sweep", epochs_sweep, checks=[
            Check(f"{E}::epochs_sweep: train - test accuracy", "train_minus_test", ">", 0.0)]),
        Measure("every_rule", every_rule, checks=[
            *[Check(f"{N}::every_informative_error_rule_learns[{rule}]", rule, ">", 0.5)
              for rule in ERROR_RULE_NAMES if rule != "equal"],
            Check(f"{N}::equal_split_learns_far_less: transpose - equal", "transpose_minus_equal", ">", 0.15)]),
        Measure("float32_vs_float64", float32_vs_float64, dtypes=("float32",), checks=[
            Check(f"{N}::float32_stays_close_to_float64: max |dW|", "max_diff", "<", 1e-4)]),
        Measure("seed_fidelity", seed_fidelity, dtypes=("float64",), checks=[
            Check(f"{N}::reproduces_the_seed[plain]: max |dW|", "plain", "<", 1e-10),
            Check(f"{N}::reproduces_the_seed[with-rotations]: max |dW|", "rotations", "<", 1e-10)]),
        Measure("short_run", short_run, checks=[
            Check(f"{T}::short_real_mnist_run: test accuracy", "test_accuracy", ">=", 0.91),
            Check(f"{T}::short_real_mnist_run: train accuracy", "train_accuracy", ">", 0.5)]),
        Measure("fast_epoch", fast_epoch, checks=[
            Check(f"{T}::minibatch_momentum_full_epoch", "test_accuracy", ">=", 0.93, "0.94")]),
        Measure("loss_falls", loss_falls, checks=[
            Check(f"{T}::progress_and_loss_falls: loss2/loss1", "ratio", "<", 1.0)]),
        Measure("evaluate_fast", evaluate_fast, checks=[
            Check(f"{T}::evaluate_on_real_test_set", "accuracy", ">", 0.88, "0.9")]),
        Measure("cli", cli_model, checks=[
            Check("test_cli::train_json_contract: test accuracy", "test_accuracy", ">=", 0.85),
            Check("test_cli::predict_own_images: right of 9", "predict_right", ">=", 7)]),
        Measure("app_tiny_run", app_tiny_run, checks=[
            Check("test_app::train_starts_a_tiny_run: test accuracy", "test_accuracy", ">", 0.5)]),
        Measure("shipped_model", shipped_model, checks=[
            Check("test_app::evaluate_scorecard: shipped model %", "percent", ">", 90),
            Check("test_e2e::evaluate_confusion: shipped model %", "percent", ">", 95),
            Check("test_e2e::model_downloads: info test_accuracy", "info_test_accuracy", ">", 0.95)]),
        Measure("e2e_run", e2e_run, checks=[
            Check("test_e2e::training_live: 10,000 x 3 epochs %", "percent", ">", 90)]),
        Measure("images", images_checks, variants=("base",), checks=[
            Check("test_images::enlarged_png: aligned corr (min)", "aligned_min", ">", 0.95),
            Check("test_images::enlarged_png: plain corr (median)", "plain_median", ">", 0.95),
            Check("test_images::enlarged_png: |centre - 14| (max)", "centre_max", "<", 0.75),
            Check("test_images::jpg: corr jpg-png (min)", "jpg_png_min", ">", 0.95),
            Check("test_images::jpg: aligned corr jpg-digit (min)", "jpg_digit_min", ">", 0.9),
            Check("test_images::28x28_unchanged: aligned corr (min)", "mnist28_min", ">", 0.95),
            Check("test_images::grey_photo: corr", "photo", ">", 0.95),
            Check("test_images::grey_photo: ink ratio", "photo_ink_ratio", "<", 1.2)]),
        Measure("elastic_ink", elastic_ink, variants=("base",), checks=[
            Check("test_augment::elastic_keeps_range: ink change", "ink_change", "<", 0.2)]),
    ]
    return out


# --------------------------------------------------------------------------- running and the table


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
        return f"{value:.1e}"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value)}"
    return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:.2f}"


def table(all_measures: list[Measure]) -> str:
    header = f"{'test / check':62s} {'thr':>5s} {'old':>15s} {'n':>4s} {'min':>8s} {'median':>8s} {'max':>8s} {'margin':>8s}"
    lines = [header, "-" * len(header)]
    for m in all_measures:
        for c in m.checks:
            values = m.values.get(c.key, [])
            if not values:
                continue
            thr = "-" if c.threshold is None else f"{c.op}{_fmt(c.threshold)}"
            flag = "" if c.holds(values) else "  FAILS"
            lines.append(f"{c.test:62s} {thr:>5s} {c.before or '':>15s} {len(values):>4d} {_fmt(min(values)):>8s} "
                         f"{_fmt(statistics.median(values)):>8s} {_fmt(max(values)):>8s} {_fmt(c.margin(values)):>8s}"
                         f"{flag}")
    return "\n".join(lines)


def by_group(m: Measure) -> str:
    """min/max per dtype and variant, to see where the spread comes from."""
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    for r in m.runs:
        g = groups.setdefault((r["dtype"], r["variant"]), {})
        for c in m.checks:
            v = r["result"].get(c.key)
            g.setdefault(c.key, []).extend(v if isinstance(v, list) else [v])
    parts = []
    for (dtype, var), keys in sorted(groups.items()):
        desc = ", ".join(f"{k} {_fmt(min(v))}..{_fmt(max(v))}" for k, v in keys.items() if v and v[0] is not None)
        parts.append(f"    {dtype:7s} {var:8s} {desc}")
    return "\n".join(parts)


def main() -> int:
    global DATA_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--seeds", type=int, default=10, help="seeds per dtype for base and eps (default 10)")
    parser.add_argument("--extra-seeds", type=int, default=3, help="seeds for perm and threads2 (default 3)")
    parser.add_argument("--only", nargs="*", help="measurement names (prefixes) to run")
    parser.add_argument("--name", default="test_margins", help="output name in bench/out (default test_margins)")
    args = parser.parse_args()
    DATA_DIR = args.data
    mnist = load_mnist(args.data, download=False)
    chosen = [m for m in measures() if not args.only or any(m.name.startswith(o) for o in args.only)]
    started = time.perf_counter()
    for m in chosen:
        t0 = time.perf_counter()
        for dtype in m.dtypes:
            for var in m.variants:
                n = args.seeds if var in ("base", "eps") else args.extra_seeds
                for i in range(n):
                    seed = FIRST_SEED + m.seed_step * i
                    with variant(var):
                        result = m.fn(Run(mnist, seed, dtype, var))
                    if result is None:
                        continue
                    m.runs.append({"seed": seed, "dtype": dtype, "variant": var, "result": result})
                    for key, value in result.items():
                        m.values.setdefault(key, []).extend(value if isinstance(value, list) else [value])
        print(f"[{m.name}: {len(m.runs)} runs, {time.perf_counter() - t0:.0f} s]", file=sys.stderr, flush=True)
        print(by_group(m), file=sys.stderr, flush=True)
    text = table(chosen)
    head = (f"bench/test_margins.py: {args.seeds} seeds x {{float32, float64}} for base and eps, {args.extra_seeds} "
            f"for perm and threads2; {time.perf_counter() - started:.0f} s, {time.strftime('%Y-%m-%d %H:%M')}\n"
            "margin: worst value minus threshold (for '<': threshold minus worst). old: the threshold before.\n")
    details = "\n\n".join(f"{m.name}:\n{by_group(m)}" for m in chosen)
    print(head + text)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / f"{args.name}.txt").write_text(head + text + "\n\nper dtype and variant:\n" + details + "\n")
    write_results(args.name, {"args": {k: str(v) for k, v in vars(args).items()},
                              "measures": {m.name: m.runs for m in chosen}})
    return 0


DATA_DIR = DEFAULT_DATA_DIR

if __name__ == "__main__":
    raise SystemExit(main())
