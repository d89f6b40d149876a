"""The containers every reader fills (:class:`Split`, :class:`MNIST`) and the errors they raise.

Arrays come out batches first: images ``uint8`` of shape ``(n, 784)`` and labels ``int64`` of shape ``(n,)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ann.inputs import N_PIXELS

MAX_LABEL = 61  # the most any labels file may hold: 62 classes (digits, then upper and lower case letters)


ProgressCallback = Callable[[int, int, str], None]


# --------------------------------------------------------------------------- exceptions


class MNISTFormatError(ValueError):
    """A data file is corrupt, truncated or not what its name says. The message names the file."""


class IDXFormatError(MNISTFormatError):
    """An IDX file (gzipped or not) is malformed."""


class CSVFormatError(MNISTFormatError):
    """A CSV file does not follow the seed's format (label then 784 pixels 0-255 a line)."""


class ChecksumError(MNISTFormatError):
    """A present MNIST file does not have the published md5: it is corrupt or not the original."""


class DownloadError(OSError):
    """MNIST could not be downloaded; the message says which files to fetch by hand and where to put them."""


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True, eq=False)
class Split:
    """One part of a dataset (MNIST's training or test set).

    Attributes
    ----------
    images : ndarray of uint8, shape (n, 784)
        Pixel values 0-255, one flattened 28x28 image a row, 0 the background.
    labels : ndarray of int64, shape (n,)
        The digit 0-9 shown in each image.
    """

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        images, labels = np.asarray(self.images), np.asarray(self.labels)
        # Frozen, so set through object; asarray keeps arrays as they are (no copy).
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        if images.ndim != 2 or images.shape[1] != N_PIXELS:
            raise ValueError(f"Split images must have shape (n, {N_PIXELS}), got {images.shape}")
        if labels.shape != (images.shape[0],):
            raise ValueError(
                f"Split labels must have shape ({images.shape[0]},) to match the images, got {labels.shape}"
            )

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True, eq=False)
class MNIST:
    """The MNIST dataset: 60,000 training and 10,000 test images (:class:`Split` each)."""

    train: Split
    test: Split
