"""What a run shows while it trains: a point every 2% of an epoch, scored on a fixed slice of the test set.

A curve with one point per epoch is empty for the first epoch and has two dots after two: a class that
starts a one-epoch run sees nothing until it ends. So the training loop (:func:`ann.train.train`) records a
*live point* every 2% of an epoch's samples (:data:`POINTS_PER_EPOCH` an epoch): the running training loss
and accuracy over the samples since the last point (the training pass computes the outputs anyway), and the
accuracy on a *slice* of the test set, scored at that moment. The full test set is still scored at every
epoch's end.

The slice is the start of one fixed order of the test set that takes the classes in turn (the first image
of each class in file order, then the second of each, ...), so any slice of ``k * classes`` images holds
``k`` of each class, every run that scores ``k`` a class scores the same images, and the slice's first
images are the *ten fixed digits* (one per class) that the Train page shows with the network's answers.

How large the slice is decides what the points cost: scoring it 50 times an epoch must stay a small share of
the training (:data:`SLICE_SHARE`). Training a sample costs at least as much as scoring :data:`TRAIN_COST`
images (a forward pass, a backward pass and an update over the same weights; one sample at a time is no
cheaper, thanks to ``Network.train_sequence``'s blocks), so the slice gets the images that this share of
the samples trained between two points pays for, within :data:`MIN_PER_CLASS` and :data:`MAX_PER_CLASS` a
class: 40 images for the seed's network on 10,000 records (600 samples between two points), 270 on all
60,000; just the ten fixed digits for the Fast preset on 10,000 records (200 samples between two points, in
mini-batches: an epoch takes a quarter of a second), 90 on all 60,000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

POINTS_PER_EPOCH = 50  # one point every 2% of an epoch's samples
SLICE_SHARE = 0.025  # of the training time, for scoring the slice at every point
TRAIN_COST = 3.0  # a training sample costs at least this many scored images (bench/live_points.py)
MIN_PER_CLASS = 1  # the cheapest runs (an epoch in a quarter of a second) score just the fixed digits
MAX_PER_CLASS = 100  # beyond this the slice's accuracy is as steady as a curve needs (about 1 point in 100)
LIVE_NODES = 6  # first-layer nodes whose weights the live view shows

PointRecorder = Callable[[dict, np.ndarray], None]  # (the point, the slice's outputs at that moment)


def slice_indices(labels: np.ndarray, n_classes: int, size: int) -> np.ndarray:
    """The first ``size`` images of the fixed order the slice is taken from: the classes in turn, each
    class's images in file order (the first image of class 0, of class 1, ..., then the second of each, ...;
    a class that runs out is skipped from there on).

    Parameters
    ----------
    labels : ndarray (n,) int, the test set's labels
    n_classes : int
    size : int

    Returns
    -------
    ndarray (min(size, n),) of int64: positions in the test set
    """
    labels = np.asarray(labels)
    size = min(int(size), len(labels))
    present = max(int(np.count_nonzero(np.bincount(labels, minlength=n_classes))), 1)
    per_class = -(-size // present)  # enough of each class unless some run out
    while True:
        firsts = [np.flatnonzero(labels == c)[:per_class] for c in range(n_classes)]
        taken = sum(len(f) for f in firsts)
        if taken >= size or per_class >= len(labels):
            break
        per_class *= 2
    index = np.concatenate(firsts)
    rank = np.concatenate([np.arange(len(f)) for f in firsts])
    klass = np.concatenate([np.full(len(f), c) for c, f in enumerate(firsts)])
    return index[np.lexsort((klass, rank))][:size].astype(np.int64)


def slice_size(samples_per_point: float, n_classes: int, test_count: int) -> int:
    """How many test images a run's slice holds: what :data:`SLICE_SHARE` of the training between two
    points pays for, ``k`` images of each class with ``MIN_PER_CLASS <= k <= MAX_PER_CLASS`` (and no more
    than the test set has)."""
    affordable = SLICE_SHARE * samples_per_point * TRAIN_COST
    per_class = int(np.clip(affordable // max(n_classes, 1), MIN_PER_CLASS, MAX_PER_CLASS))
    return min(per_class * n_classes, test_count)


def point_ends(n_records: int, unit: int, per_epoch: int = POINTS_PER_EPOCH) -> list[int]:
    """Where an epoch's points fall: after how many of its ``n_records`` records, in order, the last at the
    epoch's end.

    Each is the nearest whole number of ``unit`` records to a multiple of ``n_records / per_epoch``: the
    training then stops for a point only between two of its steps (a mini-batch, or a block of
    ``ann.network.Network.train_sequence``), so it takes the same steps, bit for bit, as without points.
    An epoch with fewer than ``per_epoch`` units gets a point after each.
    """
    ends = {min(n_records, unit * round(k * n_records / per_epoch / unit)) for k in range(1, per_epoch)}
    ends.discard(0)
    ends.add(n_records)
    return sorted(ends)


def answer_shares(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each image's answer (the most active output) and its share of the outputs' sum: the probability for
    softmax outputs, the answer's weight among the ten for sigmoid ones.

    Parameters
    ----------
    outputs : ndarray (n, classes)

    Returns
    -------
    answers : ndarray (n,) int64
    shares : ndarray (n,) float64 in [0, 1]
    """
    outputs = np.asarray(outputs, np.float64)
    answers = np.argmax(outputs, axis=1)
    totals = outputs.sum(axis=1)
    top = outputs[np.arange(len(outputs)), answers]
    shares = np.divide(top, totals, out=np.zeros_like(top), where=totals > 0)
    return answers.astype(np.int64), shares


@dataclass(frozen=True)
class LiveView:
    """The network as it was at a run's latest live point, for the Train page: its answers to the fixed
    digits (the slice's first images, one of each class) and what a few first-layer nodes look for."""

    samples: int  # trained so far in the run
    labels: tuple[int, ...]  # each fixed digit's class
    answers: tuple[int, ...]  # the network's answer to each
    shares: tuple[float, ...]  # the answer's share of the outputs (see answer_shares)
    digits: np.ndarray  # (digits, inputs) uint8 pixels
    weights: np.ndarray  # (LIVE_NODES or fewer, inputs) float16: the first weight layer's first rows


class FixedDigits:
    """The fixed digits of a test set: the slice's first images, the first of each class in file order.

    Parameters
    ----------
    test_images : ndarray (n, inputs) uint8
    test_labels : ndarray (n,) int
    n_classes : int
    """

    def __init__(self, test_images: np.ndarray, test_labels: np.ndarray, n_classes: int) -> None:
        test_labels = np.asarray(test_labels)
        present = int(np.count_nonzero(np.bincount(test_labels, minlength=n_classes)))  # a class may have none
        chosen = slice_indices(test_labels, n_classes, present)
        self.labels = test_labels[chosen].astype(np.int64)
        self.pixels = np.asarray(test_images[chosen], np.uint8)

    def view(self, samples: int, outputs: np.ndarray, first_weights: np.ndarray) -> LiveView:
        """The :class:`LiveView` at a point: ``outputs`` are the slice's (these digits' rows first),
        ``first_weights`` the network's first weight layer, (nodes, inputs)."""
        answers, shares = answer_shares(outputs[:len(self.labels)])
        return LiveView(samples=int(samples), labels=tuple(int(v) for v in self.labels),
                        answers=tuple(int(v) for v in answers), shares=tuple(float(v) for v in shares),
                        digits=self.pixels, weights=np.asarray(first_weights[:LIVE_NODES], np.float16))
