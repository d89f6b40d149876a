"""28x28 digits as pictures: upscaled by whole pixels (so they stay crisp), dark ink on white.

The seed shows its digits with matplotlib's ``cmap='Greys'``: ink dark, paper white. The dashboard does
the same everywhere, whatever the polarity of the data (MNIST stores ink as high values on black).
"""

from __future__ import annotations

import numpy as np

SIDE = 28


def image_number(index: int) -> str:
    """An image's number as people count: ``#1`` is the first image of its set (``index`` 0), on every page."""
    return f"#{int(index) + 1:,}"


def to_pixels(image: np.ndarray) -> np.ndarray:
    """Pixel values 0-255 (ink high), uint8 of shape (28, 28).

    Parameters
    ----------
    image : ndarray (784,) or (28, 28)
        uint8 pixels 0-255, or float network inputs scaled the seed's way (0.01 background .. 1.0 ink).
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip((image.astype(np.float32) - 0.01) / 0.99 * 255.0, 0, 255).round().astype(np.uint8)
    return image.reshape(SIDE, SIDE)


def digit_image(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """The digit as a (28*scale, 28*scale) uint8 grey picture, dark ink on white, for ``st.image``."""
    paper = 255 - to_pixels(image)
    return np.repeat(np.repeat(paper, scale, axis=0), scale, axis=1)


def csv_record(label: int, image: np.ndarray) -> str:
    """The image as one line of the seed's CSV files: the label, then 784 pixel values 0-255."""
    return ",".join(str(int(v)) for v in [label, *to_pixels(image).ravel()])


def step_picture(image: np.ndarray, side: int = 112, ink: bool = True) -> np.ndarray:
    """One stage of the preprocessing (``ann.data.preprocess.Step.image``, any size, 0..255) as a ``side`` x ``side``
    picture: ink dark on white when ``ink`` (the stages that hold bright ink on 0), else as it is (the user's
    own image); fitted inside, keeping its shape, on white with a light grey frame, so every stage shows at
    the same size. Small images are enlarged by whole pixels, so the pixels stay visible; large ones are
    reduced by averaging."""
    values = np.clip(np.asarray(image, dtype=np.float64), 0, 255)
    if ink:
        values = 255.0 - values
    inner = side - 4
    rows, cols = values.shape
    longest = max(rows, cols)
    if longest <= inner:
        scale = max(1, inner // longest)
        values = np.repeat(np.repeat(values, scale, axis=0), scale, axis=1)
    else:
        factor = -(-longest // inner)
        padded = np.pad(values, ((0, -rows % factor), (0, -cols % factor)), mode="edge")
        values = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).mean(axis=(1, 3))
    picture = np.full((side, side), 255.0)
    picture[0, :] = picture[-1, :] = picture[:, 0] = picture[:, -1] = 200.0  # the frame
    top, left = (side - values.shape[0]) // 2, (side - values.shape[1]) // 2
    picture[top:top + values.shape[0], left:left + values.shape[1]] = values
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8)
