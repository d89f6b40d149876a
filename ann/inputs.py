"""The network's inputs and targets as the seed encodes them: pixels 0-255 scaled to 0.01..1.0, one target row
of 0.01 with 0.99 at the label.

One home for this rule: the training loop, the data readers, the image preprocessing and the lab all call
:func:`scale_inputs`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IMAGE_SIDE = 28
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE  # 784 inputs, the seed's input_nodes
N_CLASSES = 10


# --------------------------------------------------------------------------- scaling


def scale_inputs(images: np.ndarray, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """Scale pixel values 0-255 to network inputs in 0.01..1.0, as the seed does.

    The seed keeps inputs away from 0 because a zero input zeroes its weight updates.

    Parameters
    ----------
    images : array_like of shape (n, 784) (any shape works), values 0-255
    dtype : floating dtype, default float32
        Precision of the computation and of the result. With ``np.float64`` the result is
        bit-for-bit the seed's ``(np.asarray(values, dtype=float64) / 255.0 * 0.99) + 0.01``.

    Returns
    -------
    ndarray of ``dtype``, same shape as ``images`` (a new array; the input is untouched).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"scale_inputs needs a floating dtype, got {dtype}")
    values = np.asarray(images).astype(dtype)
    # Python floats are "weak" scalars in NumPy 2, so float32 stays float32 throughout.
    return (values / 255.0 * 0.99) + 0.01


def check_labels(labels: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """``labels`` as an array of shape (n,) of integers 0..n_classes-1; ValueError names the first bad one."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (n,), got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers 0-{n_classes - 1}, got dtype {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if bad.size:
        raise ValueError(f"label {labels[bad[0]]} at index {bad[0]} is out of range 0-{n_classes - 1}")
    return labels


def make_targets(
    labels: np.ndarray,
    n_classes: int = N_CLASSES,
    low: float = 0.01,
    high: float = 0.99,
    dtype: npt.DTypeLike = np.float32,
) -> np.ndarray:
    """One target row per label: ``high`` at the label's index, ``low`` elsewhere.

    The seed uses 0.01 and 0.99 because a sigmoid never reaches 0 or 1.

    Parameters
    ----------
    labels : array_like of int, shape (n,), values 0..n_classes-1
    n_classes : int, default 10
    low, high : float, default 0.01 and 0.99
    dtype : floating dtype, default float32

    Returns
    -------
    ndarray of ``dtype``, shape (n, n_classes)
    """
    labels = check_labels(labels, n_classes)
    targets = np.full((labels.shape[0], n_classes), low, dtype=dtype)
    targets[np.arange(labels.shape[0]), labels] = high
    return targets
