"""How long going through a run's epochs takes, and how much memory it holds: the Inside page's epoch
scrubber (``ann.lab.epochs.epoch_changes`` on the 10,000 test images) and the Hidden-layer map's epochs
(``ann.lab.epochs.epoch_maps`` on 2,000 of them), reading each epoch's checkpoint from a real run store.

A run of each shape is written into a temporary run store with ``RunStore.record_epoch``, as a worker
writes it (the weights are untrained: the time does not depend on their values), then read back one network
at a time (``NetworksOnDemand``, as the pages do). The peak of the memory the work allocates is measured with
tracemalloc, against the same work on a list holding every epoch's network.

    python bench/run_epochs.py [--data DIR] [--shapes 200:5 800,800:50] [--repeats 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from functools import partial

import numpy as np
from _common import DEFAULT_DATA_DIR, median, write_results
from threadpoolctl import threadpool_limits

from ann.config import NetworkConfig, TrainConfig
from ann.data.mnist import load_mnist
from ann.lab.epochs import NetworksOnDemand, epoch_changes, epoch_maps
from ann.network import Network
from ann.service.store import RunStore

WORKSPACE = "bench-run-epochs-workspace"
MAP_IMAGES = 2000


def write_run(store: RunStore, hidden: tuple[int, ...], epochs: int):
    run = store.submit(WORKSPACE, NetworkConfig(hidden_nodes=hidden), TrainConfig(epochs=epochs, rotate=0.0),
                       records=60_000)
    claimed = store.claim()
    history = []
    for epoch in range(1, epochs + 1):
        history.append({"epoch": epoch, "train_loss": 0.1, "train_accuracy": 0.9, "test_accuracy": 0.9,
                        "test_loss": 0.1, "seconds": 1.0, "samples_seen": 60_000 * epoch, "learning_rate": 0.1,
                        "stopped": False})
        store.record_epoch(claimed, history[-1], Network(claimed.network_config, seed=epoch),
                           np.random.default_rng(epoch), history, 0.1)
    store.end(run.id, "finished")
    return store.get_run(WORKSPACE, run.id)


def peak_mb(fn) -> tuple[float, float]:
    """Seconds and the peak of memory allocated (MB) while ``fn`` runs."""
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--shapes", nargs="+", default=["200:5", "800,800:50"],
                        help="hidden layers and epochs, e.g. 200:5 (the seed's network, 5 epochs)")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    mnist = load_mnist(args.data, download=False)
    images, labels = mnist.test.images, mnist.test.labels
    results = {}
    with tempfile.TemporaryDirectory() as folder, threadpool_limits(1):  # as the app runs: one BLAS thread
        store = RunStore(folder)
        for shape in args.shapes:
            hidden_text, epochs_text = shape.split(":")
            hidden, epochs = tuple(int(n) for n in hidden_text.split(",")), int(epochs_text)
            name = f"784-{'-'.join(map(str, hidden))}-10 x {epochs} epochs"
            run = write_run(store, hidden, epochs)
            keys = list(range(epochs + 1))

            def load(epoch: int, run=run) -> Network:
                return (Network(run.network_config, seed=run.train_config.seed) if epoch == 0
                        else store.load_network(run, epoch))

            figures = {}
            scrub = [peak_mb(partial(epoch_changes, NetworksOnDemand(keys, load), images, labels, bins=120,
                                     keep_images=False)) for _ in range(args.repeats)]
            figures["scrubber_s"] = median([s for s, _ in scrub])
            figures["scrubber_peak_mb"] = max(m for _, m in scrub)
            everyone = [load(e) for e in keys]
            held = sum(sum(W.nbytes for W in net.weights) for net in everyone) / 1e6
            figures["scrubber_from_a_list_peak_mb"] = held + peak_mb(partial(
                epoch_changes, everyone, images, labels, bins=120, keep_images=False))[1]
            del everyone
            for align in ("last_pca", "procrustes"):
                maps = [peak_mb(partial(epoch_maps, NetworksOnDemand(keys, load), images[:MAP_IMAGES], align=align))
                        for _ in range(args.repeats)]
                figures[f"map_{align}_s"] = median([s for s, _ in maps])
                figures[f"map_{align}_peak_mb"] = max(m for _, m in maps)
            results[name] = {k: round(v, 3) for k, v in figures.items()}
            print(name)
            for key, value in results[name].items():
                print(f"  {key:32s} {value:.3f}")
    print(f"written to {write_results('run_epochs', results)}")


if __name__ == "__main__":
    main()
