"""An image (a file, a path, a canvas drawing, an array) to network inputs in one call: decode, then MNIST's steps.

The Draw page, the dataset readers and ``python -m ann predict`` all read images through :func:`prepare`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ann.data.decode import (
    NoDigitError,
    canvas_to_grey,
    load_image,
    luminance,
    to_unit_range,
)
from ann.data.preprocess import (
    DEFAULT_PREPROCESS,
    FIELD_SIDE,
    Preprocess,
    Step,
    check_grey,
    ink_of,
    ink_box,
    mnist_steps,
    to_mnist,
)
from ann.inputs import scale_inputs
from ann.data.decode import ImageError


def _any_to_grey(source) -> np.ndarray:
    """A path, bytes, file-like, grey (h, w), RGB (h, w, 3) or RGBA canvas (h, w, 4) array to grey."""
    if isinstance(source, np.ndarray):
        if source.ndim == 3 and source.shape[2] == 4:
            return canvas_to_grey(source)
        if source.ndim == 3 and source.shape[2] == 3:
            return luminance(to_unit_range(source))
        return source  # checked by to_mnist
    if isinstance(source, (list, tuple)):
        return _any_to_grey(np.asarray(source))
    return load_image(source)


def prepare(source, invert="auto", dtype=np.float32,
            preprocess: Preprocess = DEFAULT_PREPROCESS) -> tuple[np.ndarray, np.ndarray]:
    """Turn a user's image into a batch of one network input.

    Parameters
    ----------
    source : path, bytes, file-like, or ndarray
        An image file (see :func:`load_image`), a grey array (h, w) 0..255, an RGB array (h, w, 3) or
        a canvas's RGBA array (h, w, 4) (see :func:`canvas_to_grey`).
    invert : {"auto", True, False}
        Polarity, as in :func:`to_mnist`.
    dtype : numpy dtype
        Dtype of the network input.
    preprocess : Preprocess
        The optional steps, as in :func:`to_mnist`.

    Returns
    -------
    x : ndarray, shape (1, 784), ``dtype``
        The seed's scaling of the MNIST-style image: pixel / 255 * 0.99 + 0.01.
    image : ndarray, shape (28, 28), uint8
        The MNIST-style image itself (for display).

    Raises
    ------
    NoDigitError
        If the image holds no digit (empty canvas, blank page).
    ImageError
        If the source is not a readable image of acceptable size and shape.
    """
    image = to_mnist(_any_to_grey(source), invert=invert, preprocess=preprocess)
    x = scale_inputs(image.reshape(1, FIELD_SIDE * FIELD_SIDE), np.float64).astype(dtype)
    return x, image


def prepare_steps(source, invert="auto", dtype=np.float32,
                  preprocess: Preprocess = DEFAULT_PREPROCESS) -> tuple[np.ndarray, np.ndarray, list[Step]]:
    """:func:`prepare`, with every stage of the preprocessing (:func:`mnist_steps`) for showing.

    Returns
    -------
    x : ndarray, shape (1, 784), ``dtype``
    image : ndarray, shape (28, 28), uint8
    steps : list of Step
        As :func:`mnist_steps` returns them; the last one's image is ``image``.

    Raises
    ------
    NoDigitError, ImageError
        As for :func:`prepare`.
    """
    steps = mnist_steps(_any_to_grey(source), invert=invert, preprocess=preprocess)
    image = steps[-1].image.astype(np.uint8)
    x = scale_inputs(image.reshape(1, FIELD_SIDE * FIELD_SIDE), np.float64).astype(dtype)
    return x, image, steps


def is_blank(image: Any) -> bool:
    """True if there is nothing to recognise: ``None`` (a canvas not drawn yet), or an RGBA canvas,
    RGB or grey array in which :func:`to_mnist` finds no digit.

    Parameters
    ----------
    image : None or ndarray, shape (h, w), (h, w, 3) or (h, w, 4)

    Returns
    -------
    bool

    Raises
    ------
    ImageError
        If ``image`` is an array of an unusable shape (not a picture at all, rather than an empty one).
    """
    if image is None:
        return True
    try:
        grey = check_grey(_any_to_grey(np.asarray(image)))
        ink_box(ink_of(grey, "auto"))
    except NoDigitError:
        return True
    return False


@dataclass(frozen=True)
class PreparedFile:
    """One named image file read for the network: its input and picture, or the reason it could not be read.

    Attributes
    ----------
    name : str
        The file's name, as the visitor gave it.
    x : ndarray of shape (1, 784) or None
        The network input (None when the file could not be read).
    image : ndarray of shape (28, 28), uint8, or None
        The MNIST-style picture.
    error : str or None
        One line, starting with the file's name: what is wrong and what to do.
    """

    name: str
    x: np.ndarray | None = None
    image: np.ndarray | None = None
    error: str | None = None


def prepare_file(source: Any, name: str, dtype=np.float32,
                 preprocess: Preprocess = DEFAULT_PREPROCESS) -> PreparedFile:
    """:func:`prepare` for one file of a list (the Draw page's uploads, ``python -m ann predict``'s arguments).

    A file that cannot be read is not an exception here: its :class:`PreparedFile` carries the message,
    prefixed with the file's name, so a list goes on after a bad file.
    """
    try:
        if name.lower().endswith(".npz"):
            raise ImageError(f"{name} is a model file, not an image (give a model with --model FILE)")
        x, image = prepare(source, dtype=dtype, preprocess=preprocess)
    except (ImageError, OSError) as exc:  # NoDigitError included: a blank image
        message = " ".join(str(exc).split())
        return PreparedFile(name, error=message if message.startswith(name) else f"{name}: {message}")
    return PreparedFile(name, x, image)
