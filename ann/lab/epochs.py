"""A run epoch by epoch: what the network looked like after each finished epoch, and what each one changed.

Every function takes ``networks``, a list with one :class:`ann.network.Network` per finished epoch of one
run, oldest first (the run store's per-epoch checkpoints), and returns plain arrays for a page to draw:

- :func:`epoch_maps`: the last hidden layer's map of the same images at every epoch, aligned from epoch
  to epoch so that a slider over the epochs shows the digits pulling apart rather than the map spinning.
- :func:`epoch_changes`: for each epoch, what changed since the one before: every first-layer node's
  weight change (as a number and as a picture), each layer's change, the confusion matrix and its change,
  and every layer's weight histogram on bins shared by all the epochs.

Both read ``networks`` by index, one network at a time, and keep only what they need: a
:class:`NetworksOnDemand` that reads each epoch's checkpoint when asked lets a run of fifty epochs of a
large network be gone through without holding fifty networks in memory. Both report their progress to an
optional ``progress(fraction_done, message)`` callback, for a progress bar.

Nothing here changes a network.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from ann.lab.hidden_map import fit_pca, last_hidden, procrustes
from ann.metrics import evaluate
from ann.network import Network

__all__ = ["ALIGNMENTS", "EpochChange", "NetworksOnDemand", "epoch_changes", "epoch_maps"]

ALIGNMENTS = ("last_pca", "procrustes")
# The share of epoch_changes' progress given to its first pass (reading every network once; the second pass
# reads each again and scores it). Measured for a run's float16 checkpoints and the 10,000 test images on
# one core: 784-200-10 reads in 6 ms and scores in 47 ms, 784-800-800-10 in 36 ms and 216 ms: 10-13%.
READ_SHARE = 0.1

ProgressCallback = Callable[[float, str], None]  # (fraction of the whole done, what is being done)


class NetworksOnDemand(Sequence):
    """A sequence of networks read one at a time by ``load(key)``, keeping only the last ``keep`` read.

    For a run's checkpoints: ``NetworksOnDemand(epochs, lambda e: store.load_network(run, e))`` gives the
    functions of this module every epoch in order while at most ``keep`` networks are in memory (plus the
    one or two a function holds itself), where a list of fifty networks of 784-800-800-10 would hold 250 MB.

    Parameters
    ----------
    keys : sequence of hashable, one per network, oldest first (epoch numbers, say)
    load : callable(key) -> Network, called again for a network that has been let go
    keep : int >= 1, how many networks read last to keep

    Attributes
    ----------
    loads : int, how many times ``load`` has been called (a network is read again after it was let go)
    """

    def __init__(self, keys: Sequence[Hashable], load: Callable[[Hashable], Network], keep: int = 2) -> None:
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError(f"keep={keep!r}: keep at least one network (a whole number >= 1)")
        self.keys = list(keys)
        self._load = load
        self._keep = keep
        self._kept: OrderedDict[int, Network] = OrderedDict()
        self.loads = 0

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int) -> Network:  # type: ignore[override]
        if isinstance(index, slice):
            raise TypeError("NetworksOnDemand reads one network at a time: index it with a whole number")
        n = len(self.keys)
        if not -n <= index < n:
            raise IndexError(f"network {index} of {n}")
        index %= n
        if index in self._kept:
            self._kept.move_to_end(index)
            return self._kept[index]
        network = self._load(self.keys[index])
        self.loads += 1
        self._kept[index] = network
        while len(self._kept) > self._keep:
            self._kept.popitem(last=False)
        return network


def _check_networks(networks: Sequence[Network] | Sequence) -> Sequence[Network]:
    """The networks as a sequence read by index (a list, a tuple, a NetworksOnDemand, ...), not empty."""
    if not isinstance(networks, Sequence):
        networks = list(networks)
    if len(networks) == 0:
        raise ValueError("networks is empty: pass one network per finished epoch of the run, oldest first")
    return networks


def _check_shape(network: Network, expected: tuple[int, ...], name: str) -> None:
    if network.config.layer_sizes != expected:
        raise ValueError(f"the networks are not all the same shape ({name} is "
                         f"{'-'.join(map(str, network.config.layer_sizes))}, the others "
                         f"{'-'.join(map(str, expected))}): they must be one run's epochs")


def _report(progress: ProgressCallback | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def epoch_maps(networks: Sequence[Network], images: np.ndarray, align: str = "last_pca",
               progress: ProgressCallback | None = None) -> list[np.ndarray]:
    """The hidden layer's map of ``images`` after every epoch, aligned across the epochs.

    Parameters
    ----------
    networks : sequence of Network, one per finished epoch, oldest first, all the same shape
        Read by index, in order (a :class:`NetworksOnDemand` keeps them out of memory); only one epoch's
        activations are held at a time.
    images : ndarray (n, 784), uint8 pixels or scaled inputs; n >= 2
    align : str
        ``"last_pca"`` (default): one PCA, fitted on the last epoch's activations, projects every epoch:
        the axes stay fixed and earlier epochs show how far the points still had to go. ``"procrustes"``:
        each epoch gets its own PCA, turned, mirrored, scaled and shifted (:func:`ann.lab.hidden_map.procrustes`)
        onto the epoch after it, starting from the last: every frame is its epoch's own best view.
    progress : callable(fraction_done, message), optional

    Returns
    -------
    list of ndarray (n, 2) float64, one per network, in the same order
    """
    networks = _check_networks(networks)
    if align not in ALIGNMENTS:
        raise ValueError(f"align={align!r} is not known; choose one of: {', '.join(ALIGNMENTS)}")
    last = networks[-1]
    shape = last.config.layer_sizes
    count = len(networks)
    if align == "last_pca":
        pca = fit_pca(last_hidden(last, images), 2)
    maps = []
    for e in range(count):
        _report(progress, e / count, f"mapping network {e + 1} of {count}")
        net = networks[e]
        _check_shape(net, shape, f"network {e + 1}")
        activations = last_hidden(net, images)
        own = pca if align == "last_pca" else fit_pca(activations, 2)
        maps.append(own.transform(activations))
    if align == "procrustes":
        for e in range(count - 2, -1, -1):  # backwards: each epoch onto the one after it, already aligned
            maps[e] = procrustes(maps[e], maps[e + 1])
    _report(progress, 1.0, f"mapped {count} networks")
    return maps


@dataclass(frozen=True)
class EpochChange:
    """One epoch, and what changed since the epoch before (the ``*_change`` fields are None for the first
    epoch when no starting network was given).

    Attributes
    ----------
    epoch : int, counted from 1
    accuracy : float, on the images given
    confusion : ndarray (n_classes, n_classes) int64, rows true digits, columns predictions
    confusion_change : ndarray (n_classes, n_classes) int64 or None, this epoch's minus the one before's
    node_change : ndarray (n_first,) float64 or None
        For every node of the first layer, the size (Euclidean norm) of the change of its incoming weights.
    node_change_images : ndarray (n_first, 28, 28) float64 or None
        Those changes as pictures, when the inputs are 784 pixels (else None).
    layer_change : list of float or None
        For every weight layer, the root-mean-square change of its weights.
    histogram_edges : list of ndarray (bins + 1,) float64
        Per weight layer, the bin edges: the same for every epoch of the call.
    histograms : list of ndarray (bins,) int64
        Per weight layer, how many weights fall in each bin at this epoch.
    """

    epoch: int
    accuracy: float
    confusion: np.ndarray
    confusion_change: np.ndarray | None
    node_change: np.ndarray | None
    node_change_images: np.ndarray | None
    layer_change: list[float] | None
    histogram_edges: list[np.ndarray]
    histograms: list[np.ndarray]


def epoch_changes(networks: Sequence[Network], images: np.ndarray, labels: np.ndarray,
                  initial: Network | None = None, bins: int = 60, keep_images: bool = True,
                  progress: ProgressCallback | None = None) -> list[EpochChange]:
    """Each epoch's state and its change since the epoch before, for an epoch scrubber.

    Parameters
    ----------
    networks : sequence of Network, one per finished epoch, oldest first, all the same shape
        Read by index, twice over, in order (a :class:`NetworksOnDemand` keeps them out of memory).
    images : ndarray (n, 784), uint8 pixels or scaled inputs (the test set, or a sample of it)
    labels : ndarray (n,) int
    initial : Network, optional
        The run's network before its first epoch (the same seed rebuilds it); without it the first epoch
        has no changes.
    bins : int, 5..500, bins per weight histogram
    keep_images : bool
        Keep ``node_change_images`` (False: None, for a caller that keeps many epochs and draws the
        pictures of one at a time: 200 first-layer nodes take 1.25 MB an epoch).
    progress : callable(fraction_done, message), optional

    Returns
    -------
    list of EpochChange, one per network
    """
    networks = _check_networks(networks)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 5 <= bins <= 500:
        raise ValueError(f"bins={bins!r} is out of range; use a whole number from 5 to 500")
    count = len(networks)
    shape = networks[0].config.layer_sizes
    if initial is not None:
        _check_shape(initial, shape, "the starting network")
    # First pass: shared edges per layer, over every epoch (and the start), so that the bars of one layer
    # line up from epoch to epoch on a slider.
    first = initial if initial is not None else networks[0]
    low = [float(W.min()) for W in first.weights]
    high = [float(W.max()) for W in first.weights]
    for e in range(count):
        _report(progress, READ_SHARE * e / count, f"reading network {e + 1} of {count}")
        net = networks[e]
        _check_shape(net, shape, f"network {e + 1}")
        low = [min(a, float(W.min())) for a, W in zip(low, net.weights)]
        high = [max(b, float(W.max())) for b, W in zip(high, net.weights)]
    edges = [np.linspace(a, b if b > a else a + 1.0, bins + 1) for a, b in zip(low, high)]
    side = round(np.sqrt(shape[0]))
    pictures = side * side == shape[0]

    # Second pass: each epoch's scores, and its change since the one before.
    changes = []
    previous = initial
    previous_confusion = evaluate(initial, images, labels).confusion if initial is not None else None
    for e in range(count):
        _report(progress, READ_SHARE + (1 - READ_SHARE) * e / count, f"scoring network {e + 1} of {count}")
        net = networks[e]
        scores = evaluate(net, images, labels)
        histograms = [np.histogram(W, bins=edge)[0].astype(np.int64) for W, edge in zip(net.weights, edges)]
        if previous is None:
            node_change = node_images = layer_change = confusion_change = None
        else:
            delta = net.weights[0].astype(np.float64) - previous.weights[0].astype(np.float64)
            node_change = np.sqrt((delta ** 2).sum(axis=1))
            node_images = delta.reshape(-1, side, side) if pictures and keep_images else None
            layer_change = [float(np.sqrt(np.mean((W.astype(np.float64) - W0.astype(np.float64)) ** 2)))
                            for W, W0 in zip(net.weights, previous.weights)]
            confusion_change = scores.confusion - previous_confusion
        changes.append(EpochChange(epoch=e + 1, accuracy=scores.accuracy, confusion=scores.confusion,
                                   confusion_change=confusion_change, node_change=node_change,
                                   node_change_images=node_images,
                                   layer_change=layer_change, histogram_edges=edges, histograms=histograms))
        previous, previous_confusion = net, scores.confusion
    _report(progress, 1.0, f"scored {count} networks")
    return changes
