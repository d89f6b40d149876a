"""Scoring a network: the seed's scorecard, accuracy, the confusion matrix, precision and recall."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ann.network import Network
from ann.train import as_inputs, blas_threads


def scorecard(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The seed's scorecard: 1 where the prediction is right, 0 where it is wrong. Shape (n,) int64."""
    return (np.asarray(predictions) == np.asarray(labels)).astype(np.int64)


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction right (the seed prints it as ``performance`` in percent)."""
    card = scorecard(predictions, labels)
    return float(card.mean()) if card.size else 0.0


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts ``C[true, predicted]``, shape (n_classes, n_classes) int64: rows are the true digits."""
    labels = np.asarray(labels, np.int64)
    predictions = np.asarray(predictions, np.int64)
    return np.bincount(labels * n_classes + predictions, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes)


def precision_recall(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision (of the predictions of digit d, how many were d) and recall (of the true d's,
    how many were found). Shape (n_classes,) float64 each; 0 where a class was never predicted or never
    present, rather than a division by zero."""
    confusion = np.asarray(confusion, np.float64)
    hits = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    present = confusion.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, present, out=np.zeros_like(hits), where=present > 0)
    return precision, recall


@dataclass(frozen=True)
class Evaluation:
    """A network's scores on a labelled set.

    Attributes
    ----------
    accuracy : float
    confusion : ndarray (10, 10) int64, rows true digit, columns prediction
    precision, recall : ndarray (10,) float64
    predictions : ndarray (n,) int64
    confidences : ndarray (n,) float, the winning output's value (a probability for softmax outputs)
    outputs : ndarray (n, 10), every output node's value
    """

    accuracy: float
    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    predictions: np.ndarray
    confidences: np.ndarray
    outputs: np.ndarray


def evaluate(network: Network, images: np.ndarray, labels: np.ndarray, batch: int = 2000,
             progress: Callable[[int, int], None] | None = None) -> Evaluation:
    """Score ``network`` on ``images`` (uint8 pixels or scaled inputs, (n, 784)) with ``labels`` (n,).

    ``progress(done, total)``, if given, is called after every batch with the images scored so far.
    """
    labels = np.asarray(labels, np.int64)
    parts = []
    with blas_threads("score"):
        for start in range(0, len(images), batch):
            parts.append(network.query(as_inputs(images[start:start + batch], network.dtype)))
            if progress is not None:
                progress(min(start + batch, len(images)), len(images))
    outputs = np.concatenate(parts) if parts else np.zeros((0, network.config.output_nodes), network.dtype)
    predictions = np.argmax(outputs, axis=1).astype(np.int64)
    confusion = confusion_matrix(labels, predictions, network.config.output_nodes)
    precision, recall = precision_recall(confusion)
    return Evaluation(
        accuracy=accuracy(predictions, labels),
        confusion=confusion,
        precision=precision,
        recall=recall,
        predictions=predictions,
        confidences=outputs.max(axis=1) if len(outputs) else np.zeros(0, network.dtype),
        outputs=outputs,
    )


def most_confident_mistakes(evaluation: Evaluation, labels: np.ndarray, k: int = 12) -> np.ndarray:
    """Indices of the ``k`` wrong predictions the network was surest of, surest first."""
    wrong = np.flatnonzero(evaluation.predictions != np.asarray(labels))
    return wrong[np.argsort(-evaluation.confidences[wrong], kind="stable")[:k]]
