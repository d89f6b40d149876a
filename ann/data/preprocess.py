"""User images to network inputs, the way MNIST itself was made.

LeCun, Cortes and Burges describe MNIST's preparation: each NIST digit was size-normalised to fit a
20x20 box preserving its aspect ratio (anti-aliasing made the grey levels), then placed in a 28x28 field
so that its centre of mass sits at the centre. A photo, an uploaded PNG or a canvas drawing looks like
MNIST to the network only after the same steps, which :func:`to_mnist` performs:

1. polarity: MNIST has bright ink on a dark background; dark-on-light input (the seed's PNGs, paper)
   is inverted. ``invert="auto"`` decides which way the ink departs furthest from the background: the
   border's level for a small image, a local median for a larger one (a photo's border may lie in shadow).
2. background removal: the paper's level is removed, so grey paper becomes 0, and faint texture (below
   15 % of the strongest ink) is cleared. With ``Preprocess.flatten`` (the default) the paper is estimated
   pixel by pixel (:func:`background`), so a shadow across a photographed page is not taken for ink, and
   dark ink is measured as the share of its paper's light it takes away.
3. specks (``Preprocess.despeckle``): pieces of ink small and far from the digit are removed
   (:func:`despeckle`), so a dot in a corner does not set the crop.
4. crop to the bounding box of the ink (pixels at 30 % or more of the strongest ink: about where the
   edge of a bilevel NIST stroke would be).
5. stroke width (``Preprocess.stroke``): measured (:func:`stroke_width`) on the digit at 4x its final size
   and brought into ``STROKE_RANGE`` (MNIST's own 10th percentile to its median, measured) by grey erosion
   or dilation (:func:`change_width`); a felt pen is thinned, a fine pen thickened. Slant
   (``Preprocess.deslant``, off: it did not help the measure) is brought into MNIST's range by a shear.
6. resize so the longer side is 20 pixels, keeping the aspect ratio: shrinking averages the area each
   output pixel covers (anti-aliasing, as a bilevel NIST digit became grey levels; Pillow's BOX filter,
   written here as two small matrix products), enlarging interpolates linearly; then the strongest ink
   is scaled to 255.
7. paste into a 28x28 field, shifted by whole pixels so the centre of mass lands on pixel (14, 14), as
   in MNIST (its test set: mean centre of mass (13.99, 14.01), never more than 0.5 px away).

Steps 1, 2 (one level), 4, 6 and 7 are MNIST's own (``PLAIN_PREPROCESS``); the others bring a digit from
outside MNIST nearer MNIST's look, and each was kept because ``bench/real_handwriting.py`` showed it helps.
:func:`mnist_steps` returns every stage, for the Draw page's "what the network sees, step by step".

Image files are decoded in bounded memory by :func:`decode_image` (see its docstring): at most
``MAX_IMAGE_PIXELS`` pixels, reduced while or right after decoding to at most ``DECODED_LONG_SIDE`` pixels on
the long side, and to uint8, before any floating-point work.

Inputs are never modified. Public errors are :class:`ImageError` (not an image, too large, wrong shape)
and its subclass :class:`NoDigitError` (nothing drawn).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ann.blas import scipy_on_first_use as scipy  # SciPy's modules imported at first use
from ann.data.decode import (
    ImageError,
    NoDigitError,
    border_values,
)

FIELD_SIDE = 28  # MNIST images are 28x28 ...
BOX_SIDE = 20  # ... with the digit scaled to fit 20x20 inside
CENTRE = 14.0  # where MNIST puts the centre of mass (row, column), in pixel indices
MIN_CONTRAST = 10.0  # strongest ink must stand this far (of 255) above the background to count
NOISE_FRACTION = 0.15  # ink weaker than this fraction of the strongest is background texture
BOX_FRACTION = 0.30  # ink at least this fraction of the strongest defines the bounding box
MIN_INK_PIXELS = 4  # fewer bounding-box pixels than this is a speck, not a digit


# --------------------------------------------------------------------------- MNIST-style normalisation
#
# Measured on MNIST itself by bench/real_handwriting.py --measure-mnist (its 60,000 training digits through
# the same steps, stroke and slant steps off), in pixels of the 28x28 image.
MNIST_STROKE_WIDTH = (1.56, 2.17, 3.06)  # stroke width: 10th percentile, median, 90th percentile
MNIST_SLANT = (-0.46, -0.10, 0.23)  # slant (columns per row, + leans left): 10th, median, 90th percentile
# Strokes are brought into this range (px of 28x28): MNIST's 10th percentile to its median. Chosen on the
# tuning part of bench/real_handwriting.py: a top at MNIST's median read thick handwriting better than one
# at its 75th or 90th percentile (bench/README.md), and thick is what foreign digits mostly are.
STROKE_RANGE = (MNIST_STROKE_WIDTH[0], MNIST_STROKE_WIDTH[1])
STROKE_PASSES = 3  # thinning or thickening is measured and repeated at most this many times
WORK_SCALE = 4  # the stroke and slant steps work on the digit at 4x its final size (80 px on the long side)
BACKGROUND_FOOTPRINT = 0.4  # local background: closing over 40% of the short side (wider than any stroke)
BACKGROUND_MIN_SIDE = 48  # smaller images have too few pixels around the digit: one level from the border
BACKGROUND_REDUCED_SIDE = 256  # the background is estimated on a copy reduced to this long side (smooth)
BACKGROUND_STROKES = 4  # ... then over this many widths of the strongest stroke
POLARITY_SIDE = 64  # polarity is decided on a copy reduced to this long side
SPECK_SHARE = 0.25  # a part of the ink with at least this share of the largest part's ink is always kept
SPECK_MIN_SHARE = 0.01  # ... one with less than this share is a speck wherever it lies
SPECK_REACH = 0.25  # ... and one in between is kept if it lies within this share of the digit's size


@dataclass(frozen=True)
class Preprocess:
    """Which of :func:`to_mnist`'s optional steps run. The defaults are what ``bench/real_handwriting.py``
    showed to help on handwriting from outside MNIST (bench/README.md has the figures)."""

    flatten: bool = True  # uneven light (a shadow across a photographed page) removed by a local estimate
    #                       of the paper, not one level for the whole image
    despeckle: bool = True  # specks and dirt away from the digit removed before it is cropped
    deslant: bool = False  # slant brought into MNIST's range by image moments: off, it did not help
    stroke: bool = True  # stroke width brought into MNIST's range (thinned or thickened)


DEFAULT_PREPROCESS = Preprocess()
PLAIN_PREPROCESS = Preprocess(flatten=False, despeckle=False, deslant=False, stroke=False)  # MNIST's steps only


def preprocess_for(train_config) -> Preprocess:
    """The steps for a model's inputs, from how it was trained (its ``TrainConfig``, or None if unknown).

    Every step of ``DEFAULT_PREPROCESS``, except the stroke width for a model trained with random stroke
    thickness (``thickness > 0``): it learned strokes of every width, and on the measure's real handwriting
    thinning them cost it 2 points (93.8% against 91.8% on optdigits' tuning part, bench/README.md), while
    a model that never saw other widths gains 8 to 10 there from the step.
    """
    if train_config is not None and getattr(train_config, "thickness", 0.0) > 0:
        return replace(DEFAULT_PREPROCESS, stroke=False)
    return DEFAULT_PREPROCESS


@dataclass(frozen=True)
class Step:
    """One stage of :func:`mnist_steps`: its picture and what it found or did.

    ``image`` is 2-D float64 0..255; from ``ink`` on, bright ink on 0, as the network sees it.
    """

    name: str  # grey, ink, despeckled, crop, deslanted, stroke, mnist
    title: str
    image: np.ndarray
    note: str


def check_grey(grey) -> np.ndarray:
    values = np.asarray(grey)
    if values.ndim != 2:
        hint = " (reshape a flattened 28x28 image with x.reshape(28, 28))" if values.shape == (784,) else ""
        raise ImageError(f"a grey image must be 2-D (height, width), got shape {values.shape}{hint}")
    if values.size == 0:
        raise ImageError(f"the image has no pixels (shape {values.shape})")
    if values.dtype == bool:
        return values * 255.0
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise ImageError(f"a grey image must hold numbers 0..255, got dtype {values.dtype}")
    values = values.astype(np.float64, copy=False)  # only ever read: no copy of a float64 image
    if not np.all(np.isfinite(values)):
        raise ImageError("the grey image contains NaN or infinite values; pass grey levels 0..255")
    low, high = values.min(), values.max()
    if low < 0 or high > 255:
        raise ImageError(f"grey levels must lie in 0..255, got {low:g}..{high:g}")
    return values


def _is_dark_ink(grey: np.ndarray, invert) -> bool:
    if invert not in ("auto", True, False):
        raise ValueError(f"invert must be 'auto', True or False, got {invert!r}")
    if invert != "auto":
        return bool(invert)
    # Ink is what departs furthest from the background: darker (ink on paper) or lighter (chalk, a
    # canvas). Comparing the extremes, not a fixed 128, also handles dim photos of grey paper.
    height, width = grey.shape
    if min(height, width) < BACKGROUND_MIN_SIDE:  # a small image: the border is the background
        background = float(np.median(border_values(grey)))
        return background - grey.min() > grey.max() - background
    # A photo's border may lie in a shadow, darker than the lit paper: then the lit paper would stand
    # further from the border's level than the ink does. So the background is found pixel by pixel
    # instead, by a median over 40% of the short side (ink is the minority in any such window, whichever
    # its polarity), on a copy reduced to POLARITY_SIDE pixels; the ink is the stronger departure from it.
    small = _block_mean(grey, max(1, -(-max(height, width) // POLARITY_SIDE)))
    size = max(3, int(round(BACKGROUND_FOOTPRINT * min(small.shape))) | 1)
    departure = small - scipy.ndimage.median_filter(small, size=size, mode="nearest")
    return -departure.min() > departure.max()


def _block_mean(grey: np.ndarray, factor: int) -> np.ndarray:
    """``grey`` reduced by ``factor`` on both sides, each pixel the mean of its block (edges repeated)."""
    if factor == 1:
        return grey
    height, width = grey.shape
    rows, cols = -(-height // factor), -(-width // factor)
    padded = np.pad(grey, ((0, rows * factor - height), (0, cols * factor - width)), mode="edge")
    return padded.reshape(rows, factor, cols, factor).mean(axis=(1, 3))


def background(grey: np.ndarray, dark_ink: bool) -> np.ndarray:
    """The paper (or board) behind the ink, pixel by pixel: what the image would be without the digit.

    A photographed page is not evenly lit: one corner is darker, a hand or the phone casts a shadow, so one
    level for the whole image turns the shadow into "ink". The paper is estimated locally instead, by a grey
    closing for dark ink (the brightest level within reach, then the darkest of those; an opening, its
    mirror image, for light ink): it removes what is narrower than its footprint, the strokes, and keeps
    the light and the edges of shadows, which are wider. Twice: first over ``BACKGROUND_FOOTPRINT`` of the
    short side (wider than any stroke), which finds the strokes; then over a few stroke widths
    (``BACKGROUND_STROKES``) of the strongest stroke found, which follows the shadows closely, into the
    corners of the page, where a wide footprint would leave a shaded corner looking like ink. Both run on
    a copy reduced to ``BACKGROUND_REDUCED_SIDE`` pixels and the result is interpolated back (light
    changes slowly), so a 1024-pixel photo costs a few milliseconds.

    Parameters
    ----------
    grey : ndarray, shape (h, w), float64, 0..255
    dark_ink : bool
        True for dark ink on light paper.

    Returns
    -------
    ndarray, shape (h, w), float64
        The background level; the border's median everywhere when the image is smaller than
        ``BACKGROUND_MIN_SIDE`` on its short side.
    """
    height, width = grey.shape
    if min(height, width) < BACKGROUND_MIN_SIDE:
        return np.full(grey.shape, float(np.median(border_values(grey))))
    factor = max(1, -(-max(height, width) // BACKGROUND_REDUCED_SIDE))
    small = _block_mean(grey, factor)
    rows, cols = small.shape
    morphology = scipy.ndimage.grey_closing if dark_ink else scipy.ndimage.grey_opening
    widest = max(3, int(round(BACKGROUND_FOOTPRINT * min(rows, cols))))
    estimate = morphology(small, size=(widest, widest), mode="nearest")
    # The strongest stroke: the piece of strong ink around the strongest pixel, its width twice the
    # greatest distance from its inside to its edge.
    ink = estimate - small if dark_ink else small - estimate
    strong = ink >= 0.5 * ink.max()
    labels, _ = scipy.ndimage.label(strong, structure=np.ones((3, 3), dtype=bool))
    stroke = labels == labels.flat[np.argmax(ink)]
    stroke_px = 2.0 * float(scipy.ndimage.distance_transform_edt(np.pad(stroke, 1)).max())
    size = min(widest, max(5, int(round(BACKGROUND_STROKES * stroke_px))))
    if size < widest:
        estimate = morphology(small, size=(size, size), mode="nearest")
    if factor == 1:
        return estimate
    # Back to full size by linear interpolation between the reduced pixels' centres: two thin matrix
    # products, no full-size coordinate arrays (an upload's memory stays bounded).
    return _resize(estimate, height, width)


def ink_of(grey: np.ndarray, invert, flatten: bool = True) -> np.ndarray:
    """Bright-on-dark ink with the background removed, float64 (h, w) 0..255; NoDigitError if none.

    Dark ink is measured against the paper it lies on, as a fraction of that paper's brightness: light
    multiplies, so a stroke in a shadow is as dark, relatively, as one in full light.
    """
    dark_ink = _is_dark_ink(grey, invert)
    if flatten:
        paper = background(grey, dark_ink)
    else:
        paper = np.full(grey.shape, float(np.median(border_values(grey))))
    # Computed in the paper's own array: an upload's image is up to 1024x1024, and each full-size float
    # array is 8 MB (decoding and preprocessing together stay within the bounds of bench/upload_memory.py).
    if dark_ink:
        contrast = max(float((paper[rows] - grey[rows]).max()) for rows in _row_blocks(grey.shape[0]))
        if contrast < MIN_CONTRAST:
            raise NoDigitError()
        if flatten:  # 1 - grey / paper: the share of the paper's light the ink takes away
            np.maximum(paper, MIN_CONTRAST, out=paper)
            np.divide(grey, paper, out=paper)
            np.subtract(1.0, paper, out=paper)
            paper *= 255.0
        else:
            np.subtract(paper, grey, out=paper)
    else:
        np.subtract(grey, paper, out=paper)
    ink = paper
    np.maximum(ink, 0.0, out=ink)
    if not dark_ink and ink.max() < MIN_CONTRAST:
        raise NoDigitError()
    contrast = ink.max()
    ink[ink < NOISE_FRACTION * contrast] = 0.0
    return ink


def _row_blocks(rows: int, block: int = 64):
    """Slices of at most ``block`` rows covering ``rows``: full-size temporaries a block at a time."""
    return (slice(start, start + block) for start in range(0, rows, block))


def _parts(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """The separate pieces of ink (8-connected, over the NOISE_FRACTION level): labels and their count."""
    return scipy.ndimage.label(ink > 0, structure=np.ones((3, 3), dtype=bool))


def despeckle(ink: np.ndarray) -> np.ndarray:
    """The ink with specks away from the digit removed (dust, paper fibres, a stray dot of the pen).

    The ink falls into separate pieces. The one with the most ink is the digit (or its largest part); a
    piece with at least ``SPECK_SHARE`` of its ink is a part of the digit too (the two strokes of a 4 that
    do not meet); a piece under ``SPECK_MIN_SHARE`` of it is a speck; anything in between is kept when it
    lies within ``SPECK_REACH`` of the digit's size from what is kept (the detached bar of a 5), repeated
    until nothing more joins. Specks matter because the digit is cropped to its ink's bounding box: one
    dot in a corner of a photo would otherwise shrink the digit to a fraction of the 20x20 box.

    Parameters
    ----------
    ink : ndarray, shape (h, w), float64, bright ink on 0 (from the ``ink`` step)

    Returns
    -------
    ndarray, same shape: a copy with the specks set to 0.
    """
    return _despeckle(ink.copy())[0]


def _despeckle(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`despeckle` in place; returns the ink and how many specks were removed."""
    labels, count = _parts(ink)
    if count <= 1:
        return ink, 0
    index = np.arange(1, count + 1)
    mass = scipy.ndimage.sum_labels(ink, labels, index)
    boxes = scipy.ndimage.find_objects(labels)
    largest = float(mass.max())
    keep = mass >= SPECK_SHARE * largest
    candidates = (mass >= SPECK_MIN_SHARE * largest) & ~keep
    while candidates.any():
        kept = [boxes[i] for i in np.flatnonzero(keep)]
        top, bottom = min(b[0].start for b in kept), max(b[0].stop for b in kept)
        left, right = min(b[1].start for b in kept), max(b[1].stop for b in kept)
        reach = SPECK_REACH * max(bottom - top, right - left)
        joined = False
        for i in np.flatnonzero(candidates):
            rows, cols = boxes[i]
            gap_rows = max(top - rows.stop, rows.start - bottom, 0)
            gap_cols = max(left - cols.stop, cols.start - right, 0)
            if max(gap_rows, gap_cols) <= reach:
                keep[i], candidates[i], joined = True, False, True
        if not joined:
            break
    drop = np.zeros(count + 1, dtype=bool)
    drop[index[~keep]] = True
    ink[drop[labels]] = 0.0
    return ink, int(np.count_nonzero(~keep))


def _resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Weights (n_out, n_in) resizing a line of ``n_in`` pixels to ``n_out``, anti-aliased.

    Shrinking averages areas: output pixel ``k`` covers input ``[k * scale, (k + 1) * scale)`` and each
    input pixel counts by how much of it lies inside (what anti-aliasing a bilevel digit into grey levels
    gives; a digit enlarged by whole-pixel blocks comes back exactly). Enlarging interpolates linearly
    between pixel centres, clamped at the ends. Rows sum to 1.
    """
    scale = n_in / n_out
    if scale > 1:
        start = np.arange(n_out)[:, None] * scale
        pixel = np.arange(n_in)[None, :]
        weights = np.clip(np.minimum(start + scale, pixel + 1) - np.maximum(start, pixel), 0.0, None)
    else:
        centres = np.clip((np.arange(n_out) + 0.5) * scale - 0.5, 0, n_in - 1)
        weights = np.maximum(0.0, 1.0 - np.abs(np.arange(n_in)[None, :] - centres[:, None]))
    return weights / weights.sum(axis=1, keepdims=True)


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    return _resample_matrix(image.shape[0], height) @ image @ _resample_matrix(image.shape[1], width).T


def ink_box(ink: np.ndarray) -> tuple[slice, slice]:
    strong = ink >= BOX_FRACTION * ink.max()
    if np.count_nonzero(strong) < MIN_INK_PIXELS:
        raise NoDigitError(
            f"no digit found: only {np.count_nonzero(strong)} ink pixel(s), a speck rather than a digit "
            "— draw or upload a digit"
        )
    rows = np.flatnonzero(strong.any(axis=1))
    cols = np.flatnonzero(strong.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _fit(crop: np.ndarray, long_side: int) -> np.ndarray:
    """``crop`` resized so its longer side is ``long_side``, keeping the aspect ratio (at least 1 px)."""
    height, width = crop.shape
    if height >= width:
        new_height, new_width = long_side, max(1, int(round(long_side * width / height)))
    else:
        new_height, new_width = max(1, int(round(long_side * height / width))), long_side
    return _resize(crop, new_height, new_width)


def skeleton(mask) -> np.ndarray:
    """The centre lines of a binary image, one pixel wide (Zhang and Suen's thinning, 1984).

    Border pixels are peeled off in two alternating sub-passes (south-east, then north-west) as long as
    removing them keeps every stroke connected and does not shorten a line's end, until nothing changes.
    Vectorised: each sub-pass looks at all pixels at once.

    Parameters
    ----------
    mask : array_like of bool, shape (h, w)

    Returns
    -------
    ndarray of bool, shape (h, w)
        A subset of ``mask``. A piece that thinning would erase entirely (a 2x2 block) keeps one pixel.
    """
    image = np.pad(np.asarray(mask, dtype=bool), 1).astype(np.uint8)
    while True:
        changed = False
        for first in (True, False):
            p2, p3, p4 = image[:-2, 1:-1], image[:-2, 2:], image[1:-1, 2:]
            p5, p6, p7 = image[2:, 2:], image[2:, 1:-1], image[2:, :-2]
            p8, p9 = image[1:-1, :-2], image[:-2, :-2]
            ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
            neighbours = sum(ring[:8], np.zeros_like(p2, dtype=np.int16))
            crossings = sum(((a == 0) & (b == 1)).astype(np.int16) for a, b in zip(ring[:-1], ring[1:]))
            if first:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (image[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (crossings == 1) & side
            if remove.any():
                image[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            break
    thin = image[1:-1, 1:-1].astype(bool)
    labels, count = scipy.ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count:
        present = np.zeros(count + 1, dtype=bool)
        present[labels[thin]] = True
        for part in np.flatnonzero(~present[1:]) + 1:  # erased entirely: keep its deepest pixel
            depth = scipy.ndimage.distance_transform_edt(labels == part)
            thin[np.unravel_index(np.argmax(depth), depth.shape)] = True
    return thin


def _line_length(line: np.ndarray) -> tuple[float, int]:
    """Length in pixels of a one-pixel-wide centre line (a diagonal step counts sqrt(2)), and its ends."""
    s = line
    orthogonal = np.count_nonzero(s[:, :-1] & s[:, 1:]) + np.count_nonzero(s[:-1] & s[1:])
    # A diagonal link is a step of its own only where neither pixel of the corner it cuts is set
    # (otherwise the two orthogonal links already cover it).
    falling = s[:-1, :-1] & s[1:, 1:] & ~(s[:-1, 1:] | s[1:, :-1])
    rising = s[:-1, 1:] & s[1:, :-1] & ~(s[:-1, :-1] | s[1:, 1:])
    length = orthogonal + np.sqrt(2.0) * (np.count_nonzero(falling) + np.count_nonzero(rising))
    neighbours = scipy.ndimage.convolve(s.astype(np.int16), np.ones((3, 3), dtype=np.int16), mode="constant") - 1
    ends = int(np.count_nonzero(s & (neighbours == 1)))
    return float(length), ends


def stroke_width(image: np.ndarray) -> float:
    """The mean width of the strokes of a digit, in pixels of ``image``.

    A stroke of width ``w`` drawn along a centre line of length ``L`` with a round pen covers
    ``w * L + (pi / 4) * w**2`` per pair of line ends (the two half-discs of its caps). The ink's area is
    its grey sum (anti-aliased edges count by their share, so the measure has no pixel steps), the centre
    line is the :func:`skeleton` of the ink at half its strongest level or more, and the equation is solved
    for ``w``. A line drawn ``w`` pixels wide measures ``w`` to within about 0.3 pixels (tests).

    Parameters
    ----------
    image : ndarray, shape (h, w), bright ink on 0

    Returns
    -------
    float
        0.0 when there is no ink.
    """
    strongest = image.max()
    if strongest <= 0:
        return 0.0
    ink = image / strongest
    line = skeleton(ink >= 0.5)
    length, ends = _line_length(line)
    area = float(ink.sum())
    caps = np.pi / 4 * ends / 2
    if length <= 0:  # a dot: a disc of that area
        return float(2.0 * np.sqrt(area / np.pi))
    if caps == 0:
        return area / length
    return float((-length + np.sqrt(length * length + 4 * caps * area)) / (2 * caps))


def draw_centre_line(line: np.ndarray, width: float) -> np.ndarray:
    """Strokes of ``width`` pixels drawn along a centre line with a round pen, anti-aliased, 0..1."""
    distance = scipy.ndimage.distance_transform_edt(~line)
    return np.clip(width / 2.0 + 0.5 - distance, 0.0, 1.0)


def _disc(radius: int) -> np.ndarray:
    """A disc of whole ``radius`` as a boolean footprint, (2r+1, 2r+1); radius 1 is the 3x3 cross."""
    rows, cols = np.indices((2 * radius + 1, 2 * radius + 1)) - radius
    return rows * rows + cols * cols <= radius * radius


def change_width(image: np.ndarray, per_side: float) -> np.ndarray:
    """Thicken (``per_side > 0``) or thin (``< 0``) the strokes of ``image`` by ``|per_side|`` pixels on each
    side: a grey dilation (erosion) by a disc of that radius, linear between the two whole radii around it,
    so the change is continuous in ``per_side``. Leave ``|per_side| + 1`` pixels of room around the ink.

    Parameters
    ----------
    image : ndarray, shape (h, w), bright ink on 0
    per_side : float

    Returns
    -------
    ndarray, shape (h, w), float64
    """
    operation = scipy.ndimage.grey_dilation if per_side > 0 else scipy.ndimage.grey_erosion
    radius = abs(per_side)
    low, high = int(np.floor(radius)), int(np.ceil(radius))

    def by(r: int) -> np.ndarray:
        return image.astype(np.float64) if r == 0 else operation(image, footprint=_disc(r), mode="constant")

    share = radius - low
    return by(low) if share == 0 else (1.0 - share) * by(low) + share * by(high)


def slant(image: np.ndarray) -> float:
    """How far the ink leans, by image moments: columns moved per row down, the regression of the
    ink's column on its row (> 0 leans left, < 0 leans right). 0.0 for a single row of ink."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    row_mean = (rows * image).sum() / total
    col_mean = (cols * image).sum() / total
    spread = ((rows - row_mean) ** 2 * image).sum()
    if spread <= 0:
        return 0.0
    return float(((rows - row_mean) * (cols - col_mean) * image).sum() / spread)


def shear(image: np.ndarray, amount: float) -> np.ndarray:
    """Shift each row sideways by ``-amount`` columns per row from the ink's centre row (bilinear), on a
    field widened to hold the result; :func:`slant` of the result is the input's minus ``amount``."""
    height, width = image.shape
    total = image.sum()
    centre = (np.arange(height) * image.sum(axis=1)).sum() / total if total > 0 else (height - 1) / 2
    extra = int(np.ceil(abs(amount) * max(centre, height - 1 - centre))) + 1
    out_width = width + 2 * extra
    rows, cols = np.indices((height, out_width), dtype=np.float64)
    source_cols = cols - extra + amount * (rows - centre)
    return scipy.ndimage.map_coordinates(image, [rows, source_cols], order=1, mode="constant", cval=0.0)


def _crop_to_ink(image: np.ndarray) -> np.ndarray:
    rows, cols = ink_box(image)
    return image[rows, cols]


def _normalise(grey, invert, preprocess: Preprocess, steps: list[Step] | None) -> np.ndarray:
    """The steps of :func:`mnist_steps`; ``steps`` (if a list) receives each one."""

    def record(name: str, title: str, image: np.ndarray, note: str = "") -> None:
        if steps is not None:
            steps.append(Step(name, title, image, note))

    if not isinstance(preprocess, Preprocess):
        raise TypeError(f"preprocess must be an ann.data.preprocess.Preprocess, got {type(preprocess).__name__}")
    grey = check_grey(grey)
    record("grey", "Your image in grey", grey, f"{grey.shape[1]}x{grey.shape[0]} pixels")
    ink = ink_of(grey, invert, flatten=preprocess.flatten)
    record("ink", "Ink only", ink, "paper or background removed, light and shadows evened out"
           if preprocess.flatten else "one background level removed")
    if preprocess.despeckle:
        if steps is not None:  # the ink step keeps its picture
            ink = ink.copy()
        ink, removed = _despeckle(ink)
        record("despeckled", "Specks removed", ink,
               f"{removed} speck{'s' if removed != 1 else ''} removed" if removed else "no specks")
    rows, cols = ink_box(ink)
    crop = ink[rows, cols]
    record("crop", "Cropped", crop, f"{crop.shape[1]}x{crop.shape[0]} pixels of ink")

    # The digit at WORK_SCALE times its final size, strongest ink 1: where slant and strokes are changed.
    work_side = BOX_SIDE * WORK_SCALE
    work = _fit(crop, work_side)
    work /= work.max()
    if preprocess.deslant:
        measured = slant(work)
        low, _, high = MNIST_SLANT
        amount = measured - min(max(measured, low), high)
        if amount:
            work = _crop_to_ink(shear(work, amount))
            work = _fit(work, work_side)
            work /= work.max()
        record("deslanted", "Slant corrected", work * 255.0,
               f"slant {measured:+.2f} -> {measured - amount:+.2f} columns per row" if amount else
               f"slant {measured:+.2f}: within MNIST's")
    if preprocess.stroke:
        width = stroke_width(work) / WORK_SCALE  # in pixels of the 28x28 image
        low, high = STROKE_RANGE
        target = min(max(width, low), high)
        if target != width:
            # A grey erosion narrows an anti-aliased stroke by less than its radius says, so the change is
            # measured and repeated (at most STROKE_PASSES times) until the width is within 0.15 px.
            now = width
            for _ in range(STROKE_PASSES):
                per_side = (target - now) * WORK_SCALE / 2  # working pixels added (or taken) on each side
                changed = change_width(np.pad(work, int(np.ceil(abs(per_side))) + 1), per_side)
                if changed.max() <= 0.5 * work.max():  # thinning would erase the digit (a dot): stop
                    break
                work = _fit(_crop_to_ink(changed), work_side)
                work /= work.max()
                now = stroke_width(work) / WORK_SCALE
                if abs(now - target) <= 0.15:
                    break
            note = f"strokes {width:.1f} px wide -> {now:.1f} px (brought into {low:g} to {high:g})"
        else:
            note = f"strokes {width:.1f} px wide: within {low:g} to {high:g}"
        record("stroke", "Stroke width", work * 255.0, note)

    small = _fit(work, BOX_SIDE) if (preprocess.deslant or preprocess.stroke) else _fit(crop, BOX_SIDE)
    # MNIST strokes are saturated: the strongest ink becomes 255 whatever the pen or lighting.
    small *= 255.0 / small.max()
    new_height, new_width = small.shape
    centre_row, centre_col = scipy.ndimage.center_of_mass(small)
    top = int(np.floor(CENTRE - centre_row + 0.5))
    left = int(np.floor(CENTRE - centre_col + 0.5))
    top = min(max(top, 0), FIELD_SIDE - new_height)
    left = min(max(left, 0), FIELD_SIDE - new_width)
    field = np.zeros((FIELD_SIDE, FIELD_SIDE))
    field[top : top + new_height, left : left + new_width] = small
    image = np.clip(np.rint(field), 0, 255).astype(np.uint8)
    record("mnist", "What the network sees", image.astype(np.float64),
           "fitted into 20x20, centred by mass on the 28-pixel square")
    return image


def mnist_steps(grey, invert="auto", preprocess: Preprocess = DEFAULT_PREPROCESS) -> list[Step]:
    """Every stage of :func:`to_mnist`, for showing how a digit becomes what the network sees.

    Parameters
    ----------
    grey, invert, preprocess
        As for :func:`to_mnist`.

    Returns
    -------
    list of Step
        ``grey`` (the input), ``ink``, ``despeckled`` (if on), ``crop``, ``deslanted`` (if on), ``stroke``
        (if on) and ``mnist`` (the 28x28 result, equal to :func:`to_mnist`'s), each with a note.

    Raises
    ------
    NoDigitError, ImageError
        As for :func:`to_mnist`.
    """
    steps: list[Step] = []
    _normalise(grey, invert, preprocess, steps)
    return steps


def to_mnist(grey, invert="auto", preprocess: Preprocess = DEFAULT_PREPROCESS) -> np.ndarray:
    """Normalise a grey image of one digit the way MNIST was made, and bring it nearer MNIST's look.

    Parameters
    ----------
    grey : array_like, shape (h, w), 0..255
        A grey image (:func:`load_image`, :func:`canvas_to_grey`); any size from a few pixels up.
    invert : {"auto", True, False}
        ``True``: the image is dark ink on a light background (paper, the seed's PNGs) and is inverted.
        ``False``: it is already light ink on a dark background (MNIST, a canvas's alpha).
        ``"auto"``: decide from the border's median level and the extremes.
    preprocess : Preprocess
        Which optional steps run (uneven background, specks, slant, stroke width); ``PLAIN_PREPROCESS``
        gives MNIST's own steps only.

    Returns
    -------
    ndarray, shape (28, 28), uint8
        Ink bright (up to 255) on 0, the digit fitted into 20x20 keeping its aspect ratio, its centre of
        mass at pixel (14, 14) (within half a pixel, unless that would push the digit off the field).

    Raises
    ------
    NoDigitError
        If nothing stands at least 10/255 above the background, or fewer than 4 pixels do (a single dot
        is a speck, not a digit).
    ImageError
        If ``grey`` is not a 2-D array of grey levels 0..255.
    """
    return _normalise(grey, invert, preprocess, None)
