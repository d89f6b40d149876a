"""A run epoch by epoch: what the network looked like after each finished epoch, and what each one changed.

Every function takes ``networks``, a list with one :class:`ann.network.Network` per finished epoch of one
run, oldest first (the run store's per-epoch checkpoints), and returns plain arrays for a page to draw:

- :func:`epoch_maps`: the last hidden layer's map of the same images at every epoch, aligned from epoch
  to epoch so that a slider over the epochs shows the digits pulling apart rather than the map spinning.
- :func:`epoch_changes`: for each epoch, what changed since the one before: every first-layer node's
  weight change (as a number and as a picture), each layer's change, the confusion matrix and its change,
  and every layer's weight histogram on bins shared by all the epochs.

Nothing here changes a network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ann.hidden_map import fit_pca, last_hidden, procrustes
from ann.metrics import evaluate
from ann.network import Network

__all__ = ["ALIGNMENTS", "EpochChange", "epoch_changes", "epoch_maps"]

ALIGNMENTS = ("last_pca", "procrustes")


def _check_networks(networks: Sequence[Network]) -> list[Network]:
    networks = list(networks)
    if not networks:
        raise ValueError("networks is empty: pass one network per finished epoch of the run, oldest first")
    shapes = [n.config.layer_sizes for n in networks]
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError(f"the networks are not all the same shape ({sorted(set(shapes))}): they must be one "
                         "run's epochs")
    return networks


def epoch_maps(networks: Sequence[Network], images: np.ndarray, align: str = "last_pca") -> list[np.ndarray]:
    """The hidden layer's map of ``images`` after every epoch, aligned across the epochs.

    Parameters
    ----------
    networks : sequence of Network, one per finished epoch, oldest first, all the same shape
    images : ndarray (n, 784), uint8 pixels or scaled inputs; n >= 2
    align : str
        ``"last_pca"`` (default): one PCA, fitted on the last epoch's activations, projects every epoch:
        the axes stay fixed and earlier epochs show how far the points still had to go. ``"procrustes"``:
        each epoch gets its own PCA, turned, mirrored, scaled and shifted (:func:`ann.hidden_map.procrustes`)
        onto the epoch after it, starting from the last: every frame is its epoch's own best view.

    Returns
    -------
    list of ndarray (n, 2) float64, one per network, in the same order
    """
    networks = _check_networks(networks)
    if align not in ALIGNMENTS:
        raise ValueError(f"align={align!r} is not known; choose one of: {', '.join(ALIGNMENTS)}")
    activations = [last_hidden(net, images) for net in networks]
    if align == "last_pca":
        pca = fit_pca(activations[-1], 2)
        return [pca.transform(a) for a in activations]
    maps = [fit_pca(a, 2).transform(a) for a in activations]
    for e in range(len(maps) - 2, -1, -1):  # backwards: each epoch onto the one after it, already aligned
        maps[e] = procrustes(maps[e], maps[e + 1])
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
                  initial: Network | None = None, bins: int = 60) -> list[EpochChange]:
    """Each epoch's state and its change since the epoch before, for an epoch scrubber.

    Parameters
    ----------
    networks : sequence of Network, one per finished epoch, oldest first, all the same shape
    images : ndarray (n, 784), uint8 pixels or scaled inputs (the test set, or a sample of it)
    labels : ndarray (n,) int
    initial : Network, optional
        The run's network before its first epoch (the same seed rebuilds it); without it the first epoch
        has no changes.
    bins : int, 5..500, bins per weight histogram

    Returns
    -------
    list of EpochChange, one per network
    """
    networks = _check_networks(networks)
    if initial is not None:
        _check_networks([initial, networks[0]])
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 5 <= bins <= 500:
        raise ValueError(f"bins={bins!r} is out of range; use a whole number from 5 to 500")
    everyone = ([initial] if initial is not None else []) + networks
    # Shared edges per layer, over every epoch (and the start): the bars of one layer line up on the slider.
    edges = []
    for l in range(len(networks[0].weights)):
        low = min(float(n.weights[l].min()) for n in everyone)
        high = max(float(n.weights[l].max()) for n in everyone)
        if not high > low:
            high = low + 1.0
        edges.append(np.linspace(low, high, bins + 1))
    first_layer = networks[0].weights[0]
    side = round(np.sqrt(first_layer.shape[1]))
    pictures = side * side == first_layer.shape[1]

    changes = []
    previous = initial
    previous_confusion = evaluate(initial, images, labels).confusion if initial is not None else None
    for e, net in enumerate(networks, start=1):
        scores = evaluate(net, images, labels)
        histograms = [np.histogram(W, bins=edge)[0].astype(np.int64) for W, edge in zip(net.weights, edges)]
        if previous is None:
            node_change = node_images = layer_change = confusion_change = None
        else:
            delta = net.weights[0].astype(np.float64) - previous.weights[0].astype(np.float64)
            node_change = np.sqrt((delta ** 2).sum(axis=1))
            node_images = delta.reshape(-1, side, side) if pictures else None
            layer_change = [float(np.sqrt(np.mean((W.astype(np.float64) - W0.astype(np.float64)) ** 2)))
                            for W, W0 in zip(net.weights, previous.weights)]
            confusion_change = scores.confusion - previous_confusion
        changes.append(EpochChange(epoch=e, accuracy=scores.accuracy, confusion=scores.confusion,
                                   confusion_change=confusion_change, node_change=node_change,
                                   node_change_images=node_images, layer_change=layer_change,
                                   histogram_edges=edges, histograms=histograms))
        previous, previous_confusion = net, scores.confusion
    return changes
