"""User images to network inputs, the way MNIST itself was made.

LeCun, Cortes and Burges describe MNIST's preparation: each NIST digit was size-normalised to fit a
20x20 box preserving its aspect ratio (anti-aliasing made the grey levels), then placed in a 28x28 field
so that its centre of mass sits at the centre. A photo, an uploaded PNG or a canvas drawing looks like
MNIST to the network only after the same steps, which :func:`to_mnist` performs:

1. polarity: MNIST has bright ink on a dark background; dark-on-light input (the seed's PNGs, paper)
   is inverted. ``invert="auto"`` decides from the background level (median of the border pixels) and
   which side of it the most extreme pixels lie.
2. background removal: the background level is subtracted, so grey paper becomes 0, and faint texture
   (below 15 % of the strongest ink) is cleared.
3. crop to the bounding box of the ink (pixels at 30 % or more of the strongest ink: about where the
   edge of a bilevel NIST stroke would be).
4. resize so the longer side is 20 pixels, keeping the aspect ratio: shrinking averages the area each
   output pixel covers (anti-aliasing, as a bilevel NIST digit became grey levels; Pillow's BOX filter,
   written here as two small matrix products), enlarging interpolates linearly; then the strongest ink
   is scaled to 255.
5. paste into a 28x28 field, shifted by whole pixels so the centre of mass lands on pixel (14, 14), as
   in MNIST (its test set: mean centre of mass (13.99, 14.01), never more than 0.5 px away).

Image files are decoded in bounded memory by :func:`decode_image` (see its docstring): at most
``MAX_IMAGE_PIXELS`` pixels, reduced while or right after decoding to at most ``DECODED_LONG_SIDE`` pixels on
the long side, and to uint8, before any floating-point work.

Inputs are never modified. Public errors are :class:`ImageError` (not an image, too large, wrong shape)
and its subclass :class:`NoDigitError` (nothing drawn).
"""

from __future__ import annotations

import functools
import io
import os
import threading
from typing import Any

import numpy as np
import scipy.ndimage

__all__ = [
    "ImageError",
    "NoDigitError",
    "load_image",
    "decode_image",
    "canvas_to_grey",
    "to_mnist",
    "prepare",
    "is_blank",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_DECODE_BYTES",
    "DECODED_LONG_SIDE",
    "IMAGE_FORMATS",
]

MAX_IMAGE_BYTES = 20 * 1024 * 1024  # 20 MB of encoded file
MAX_IMAGE_PIXELS = 64_000_000  # width x height: a 64-megapixel photo; more is refused as a decompression bomb
MAX_DECODE_BYTES = 128 * 2**20  # what decoding one image at full size may take (PNG, GIF, TIFF, BMP, WebP and
#                                 progressive JPEG; a baseline JPEG is decoded reduced): 32 MP in colour
DECODED_LONG_SIDE = 1024  # decoded images are reduced to at most this many pixels on their long side: a digit
#                           filling a tenth of the frame still spans 100 pixels, five times MNIST's 20
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP")  # what Pillow may open (JPEG includes phones'
#                                                                 MPO); not EPS, PSD and the rest
FIELD_SIDE = 28  # MNIST images are 28x28 ...
BOX_SIDE = 20  # ... with the digit scaled to fit 20x20 inside
CENTRE = 14.0  # where MNIST puts the centre of mass (row, column), in pixel indices
MIN_CONTRAST = 10.0  # strongest ink must stand this far (of 255) above the background to count
NOISE_FRACTION = 0.15  # ink weaker than this fraction of the strongest is background texture
BOX_FRACTION = 0.30  # ink at least this fraction of the strongest defines the bounding box
MIN_INK_PIXELS = 4  # fewer bounding-box pixels than this is a speck, not a digit
# ITU-R 601-2 luma, the weights Pillow uses for its "L" conversion.
_LUMA = np.array([0.299, 0.587, 0.114])

_EMPTY_MESSAGE = "no digit found: the image is empty — draw or upload a digit"


class ImageError(ValueError):
    """A user image that cannot be turned into a network input (not an image, too large, bad shape)."""


class NoDigitError(ImageError):
    """The image holds no ink: an empty canvas, a blank page, or only a speck."""

    def __init__(self, message: str = _EMPTY_MESSAGE):
        super().__init__(message)


# --------------------------------------------------------------------------- reading


def _source_bytes(source) -> tuple[bytes, str]:
    """Read an encoded image from a path, bytes or a file-like object; return (data, name for messages)."""
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if not os.path.isfile(name):
            raise ImageError(f"{name}: no such file; check the path")
        size = os.path.getsize(name)
        if size > MAX_IMAGE_BYTES:
            raise ImageError(_too_large_bytes(name, size))
        with open(name, "rb") as f:
            return f.read(), name
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "the uploaded data"
    elif hasattr(source, "getvalue"):  # io.BytesIO, Streamlit's UploadedFile: no change to the position
        data, name = source.getvalue(), getattr(source, "name", "the uploaded file")
    elif hasattr(source, "read"):
        data, name = source.read(MAX_IMAGE_BYTES + 1), getattr(source, "name", "the uploaded file")
    else:
        raise TypeError(
            f"expected a path, bytes or a file-like object holding a PNG or JPG, got {type(source).__name__}"
        )
    if not isinstance(data, bytes):
        raise ImageError(
            f"{name} is not an image (PNG or JPG expected): reading it gave {type(data).__name__}, not bytes"
        )
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(_too_large_bytes(name, len(data)))
    return data, name


def _too_large_bytes(name: str, size: int) -> str:
    return (
        f"{name} is too large: {size / 2**20:.1f} MB (the limit is {MAX_IMAGE_BYTES // 2**20} MB); "
        "save a smaller PNG or JPG"
    )


def _to_unit_range(channels: np.ndarray) -> np.ndarray:
    """Pixel values of any decoded dtype as float64 on the 0..255 scale."""
    if channels.dtype == bool:
        return channels * 255.0
    values = channels.astype(np.float64)
    sixteen_bit = channels.dtype == np.uint16 or (
        np.issubdtype(channels.dtype, np.integer) and channels.size and channels.max() > 255
    )
    if sixteen_bit:  # 16-bit PNG (Pillow gives uint16 or int32)
        values *= 255.0 / 65535.0
    return np.clip(values, 0.0, 255.0)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3] @ _LUMA


def _border(values: np.ndarray) -> np.ndarray:
    """The pixels on the edge of a 2-D array, shape (perimeter,)."""
    if min(values.shape) <= 2:
        return values.ravel()
    return np.concatenate([values[0], values[-1], values[1:-1, 0], values[1:-1, -1]])


def _flatten_alpha(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite a grey image with alpha (0..1) onto a plain background, 0..255.

    The background is white, as a viewer shows a transparent PNG, except when the background is the
    transparent part and what is drawn on it is light (white strokes on a transparent canvas): then
    black, so the digit does not vanish white-on-white.
    """
    background = 255.0
    if np.median(_border(alpha)) < 0.5:
        drawn = alpha > 0.5
        if drawn.any() and grey[drawn].mean() > 127.5:
            background = 0.0
    return grey * alpha + background * (1.0 - alpha)


def _channels_to_grey(pixels: np.ndarray) -> np.ndarray:
    """Decoded pixels (h, w), (h, w, 2) grey+alpha, (h, w, 3) RGB or (h, w, 4) RGBA to grey 0..255."""
    values = _to_unit_range(pixels)
    if values.ndim == 2:
        return values
    channels = values.shape[2]
    if channels == 1:
        return values[..., 0]
    if channels == 2:
        return _flatten_alpha(values[..., 0], values[..., 1] / 255.0)
    if channels == 3:
        return _luminance(values)
    return _flatten_alpha(_luminance(values), values[..., 3] / 255.0)


def load_image(source) -> np.ndarray:
    """Read a PNG, JPG (or GIF, TIFF, BMP, WebP) as a grey image, reduced to at most ``DECODED_LONG_SIDE``
    pixels on its long side.

    Parameters
    ----------
    source : str, os.PathLike, bytes or file-like
        A path, the encoded bytes, or an object with ``getvalue()`` or ``read()`` (an open file,
        ``io.BytesIO``, Streamlit's ``UploadedFile``).

    Returns
    -------
    ndarray, shape (h, w), float64
        Grey levels 0 (black) .. 255 (white), ``max(h, w) <= DECODED_LONG_SIDE``. Colour becomes luminance
        (ITU-R 601-2); transparency is composited onto white (onto black when light strokes sit on a
        transparent background); the EXIF orientation of phone photos is applied; an animated image or a
        multi-page TIFF gives its first frame.

    Raises
    ------
    ImageError
        If the data is not an image of a known format, is larger than ``MAX_IMAGE_BYTES``, has more than
        ``MAX_IMAGE_PIXELS`` pixels, or would take more than ``MAX_DECODE_BYTES`` to decode.
    """
    return _channels_to_grey(decode_image(source))


# --------------------------------------------------------------------------- decoding in bounded memory
#
# Only this section touches Pillow. What it costs, for a W x H image: a baseline JPEG is decoded by
# libjpeg already scaled down by 2, 4 or 8 (draft mode), into one grey byte per pixel; every other format is
# decoded at full size (PNG, GIF, TIFF, BMP and WebP have no reduced decoding), W * H * 1, 2 or 4 bytes, and
# a progressive JPEG makes libjpeg hold all its DCT coefficients (2 bytes per sample) whatever the scale.
# That figure is checked against MAX_DECODE_BYTES before decoding. The frame is then reduced tile by tile,
# so no second full-size copy is ever made, and only the small result becomes floats.

_TILE_SIDE = 1024  # source pixels per side of a tile converted and reduced at a time (4 MB in RGBA)
_ORIENTATION_TAG = 0x0112  # EXIF: how the camera was held
_JPEG_FORMATS = ("JPEG", "MPO")  # MPO: a phone's JPEG with extra pictures (depth, a preview) after the first
# Bytes per pixel of Pillow's own storage for each mode (every mode not listed takes 4).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# 8-bit modes each source mode is brought to before reducing (the rest: numbers, or RGB).
_EIGHT_BIT_MODE = {"1": "L", "L": "L", "LA": "LA", "La": "LA", "PA": "RGBA", "RGBA": "RGBA", "RGBa": "RGBA"}
_NUMERIC_MODES = ("I", "F", "I;16", "I;16L", "I;16B", "I;16N")  # 16-bit and 32-bit grey: scaled to 0..255
_PREMULTIPLIED = {"LA": "La", "RGBA": "RGBa"}  # averaging alpha images: colours weighted by their alpha
# A process decodes one image at a time: Streamlit serves every visitor from threads of one process, so this
# keeps the whole server's decoding memory at one image's bound, however many upload at once.
_DECODE_LOCK = threading.Lock()


def decode_image(source) -> np.ndarray:
    """Decode an image file into a small uint8 array, in bounded memory.

    The image is refused before decoding when it has more than ``MAX_IMAGE_PIXELS`` pixels (a
    decompression bomb: a 16 KB PNG can declare 16 megapixels) or when decoding it would take more than
    ``MAX_DECODE_BYTES``. A baseline JPEG (what phone cameras write) is decoded already reduced by libjpeg;
    anything else is decoded at full size as 8-bit (or 16-bit) pixels and reduced tile by tile. The result
    has at most ``DECODED_LONG_SIDE`` pixels on its long side (each a box average of a whole number of
    source pixels per side), its EXIF orientation applied. One image is decoded at a time per process.

    Parameters
    ----------
    source : str, os.PathLike, bytes or file-like
        As for :func:`load_image`.

    Returns
    -------
    ndarray, uint8
        Shape (h, w) grey, (h, w, 2) grey and alpha, (h, w, 3) RGB or (h, w, 4) RGBA, with
        ``max(h, w) <= DECODED_LONG_SIDE``. 16-bit images are scaled to 0..255; a palette becomes RGB(A);
        CMYK becomes RGB; an animated image or a multi-page TIFF gives its first frame.

    Raises
    ------
    ImageError
        As for :func:`load_image`.
    """
    data, name = _source_bytes(source)
    if not data:
        raise ImageError(f"{name} is not an image (PNG or JPG expected): it is empty")
    with _DECODE_LOCK:
        try:
            return _decode(data, name)
        except (ImageError, MemoryError):
            raise
        except Exception as exc:  # Pillow signals a bad file with OSError, SyntaxError, ValueError, ...
            reason = "the data could not be decoded" if "cannot identify" in str(exc) else str(exc)
            raise ImageError(f"{name} is not an image (PNG or JPG expected): {reason}") from exc


def _decode(data: bytes, name: str) -> np.ndarray:
    from PIL import Image  # imported here: only image files need it

    try:
        image = Image.open(io.BytesIO(data), formats=_readable_formats())
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours, checked in open()
        raise ImageError(f"{name} is refused as a possible decompression bomb: {exc} The limit here is "
                         f"{MAX_IMAGE_PIXELS / 1e6:g} megapixels; scale it down or crop it to the digit") from None
    with image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageError(
                f"{name} is refused as a possible decompression bomb: {width}x{height} is "
                f"{width * height / 1e6:.1f} megapixels (the limit is {MAX_IMAGE_PIXELS / 1e6:g}); "
                "scale it down or crop it to the digit"
            )
        if width == 0 or height == 0:
            raise ImageError(f"{name} has no pixels ({width}x{height})")
        coefficients = _jpeg_coefficient_bytes(image)
        if image.format in _JPEG_FORMATS:
            # libjpeg decodes scaled by 1/2, 1/4 or 1/8, the largest that keeps the long side at
            # DECODED_LONG_SIDE or more, straight into grey (JPEG's Y is the ITU-R 601 luminance).
            scale = max(width, height) / DECODED_LONG_SIDE
            image.draft("L", (max(1, int(width / scale)), max(1, int(height / scale))))
        needed = coefficients + image.size[0] * image.size[1] * _BYTES_PER_PIXEL.get(image.mode, 4)
        if needed > MAX_DECODE_BYTES:
            kind = "a progressive JPEG" if coefficients else f"a {image.format} in mode {image.mode}"
            raise ImageError(
                f"{name} is too large to decode here: {width}x{height} pixels as {kind} takes "
                f"{needed / 2**20:.0f} MB (the limit is {MAX_DECODE_BYTES // 2**20} MB); save it as a "
                "baseline JPEG, or scale it down or crop it to the digit"
            )
        image.load()
        # The orientation is read after load(): a PNG may keep its EXIF after the pixels.
        orientation = image.getexif().get(_ORIENTATION_TAG, 1)
        small = _reduced(image)
    transpose = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                 4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                 8: Image.Transpose.ROTATE_90}.get(orientation)  # as PIL.ImageOps.exif_transpose does
    if transpose is not None:
        small = small.transpose(transpose)
    return np.array(small)


@functools.cache
def _readable_formats() -> tuple[str, ...]:
    """IMAGE_FORMATS that this Pillow build reads (Image.open raises KeyError for a format it lacks)."""
    from PIL import Image

    Image.init()
    return tuple(name for name in IMAGE_FORMATS if name in Image.OPEN)


def _jpeg_coefficient_bytes(image) -> int:
    """What libjpeg holds while decoding a progressive JPEG: every component's DCT coefficients (2 bytes
    each, subsampled components fewer), whatever the draft scale. 0 for anything else."""
    if image.format not in _JPEG_FORMATS or not image.info.get("progressive"):
        return 0
    layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
    h_max = max(layer[1] for layer in layers)
    v_max = max(layer[2] for layer in layers)
    samples = sum(layer[1] * layer[2] for layer in layers) / (h_max * v_max)
    return int(2 * samples * image.size[0] * image.size[1])


def _reduced(image):
    """The loaded image in mode L, LA, RGB or RGBA, 8 bits, reduced by one whole factor so that its long side
    is at most DECODED_LONG_SIDE; converted and reduced tile by tile (no second full-size copy)."""
    from PIL import Image

    width, height = image.size
    factor = -(-max(width, height) // DECODED_LONG_SIDE)
    if image.mode in _NUMERIC_MODES:
        mode = "L"
        sixteen_bit = image.mode.startswith("I;16") or (image.mode == "I" and image.getextrema()[1] > 255)
        scale = 255.0 / 65535.0 if sixteen_bit else 1.0

        def eight_bit(tile):
            values = np.asarray(tile, dtype=np.float32) * np.float32(scale)
            return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))  # mode L
    else:
        if image.mode == "P":
            mode = "RGBA" if "transparency" in image.info else "RGB"
        else:
            mode = _EIGHT_BIT_MODE.get(image.mode, "RGB")  # RGB, CMYK, YCbCr, ...: RGB

        def eight_bit(tile):
            return tile if tile.mode == mode else tile.convert(mode)
    # Averaging colours of partly transparent pixels is right only with the colours weighted by alpha.
    working = _PREMULTIPLIED.get(mode, mode) if factor > 1 else mode
    reduced = Image.new(mode, (-(-width // factor), -(-height // factor)))
    step = factor * max(1, _TILE_SIDE // factor)  # tiles start on whole reduction blocks
    for top in range(0, height, step):
        for left in range(0, width, step):
            tile = eight_bit(image.crop((left, top, min(left + step, width), min(top + step, height))))
            if factor > 1:
                tile = tile if working == mode else tile.convert(working)
                tile = tile.reduce(factor)
                tile = tile if working == mode else tile.convert(mode)
            reduced.paste(tile, (left // factor, top // factor))
    return reduced


def canvas_to_grey(rgba) -> np.ndarray:
    """Grey image from a drawing canvas (``streamlit-drawable-canvas`` ``image_data``).

    Parameters
    ----------
    rgba : array_like, shape (h, w, 4), uint8 (or float 0..255)
        The canvas pixels. The canvas draws strokes (of any colour) on a transparent background, or on
        an opaque background colour.

    Returns
    -------
    ndarray, shape (h, w), float64, 0..255
        With a transparent background (alpha 0 along the border), the alpha channel itself: it is the ink,
        whatever the stroke colour, anti-aliased edges included, bright on dark. With an opaque
        background, the luminance (composited onto white where partly transparent); :func:`to_mnist`
        then detects the polarity.

    Raises
    ------
    ImageError
        If the array is not (h, w, 4).
    """
    values = np.asarray(rgba)
    if values.ndim != 3 or values.shape[2] != 4:
        raise ImageError(f"a canvas image must have shape (height, width, 4) RGBA, got {values.shape}")
    values = _to_unit_range(values)
    alpha = values[..., 3]
    if np.median(_border(alpha)) < 127.5:
        return alpha.copy()
    return _flatten_alpha(_luminance(values), alpha / 255.0)


# --------------------------------------------------------------------------- MNIST-style normalisation


def _check_grey(grey) -> np.ndarray:
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
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ImageError("the grey image contains NaN or infinite values; pass grey levels 0..255")
    low, high = values.min(), values.max()
    if low < 0 or high > 255:
        raise ImageError(f"grey levels must lie in 0..255, got {low:g}..{high:g}")
    return values


def _ink(grey: np.ndarray, invert) -> np.ndarray:
    """Bright-on-dark ink with the background removed, float64 (h, w) 0..255; NoDigitError if none."""
    if invert not in ("auto", True, False):
        raise ValueError(f"invert must be 'auto', True or False, got {invert!r}")
    background = float(np.median(_border(grey)))
    if invert == "auto":
        # Ink is what departs furthest from the background: darker (ink on paper) or lighter (chalk,
        # a canvas). Comparing the extremes, not a fixed 128, also handles dim photos of grey paper.
        dark_ink = background - grey.min() > grey.max() - background
    else:
        dark_ink = bool(invert)
    ink = background - grey if dark_ink else grey - background
    np.maximum(ink, 0.0, out=ink)
    contrast = ink.max()
    if contrast < MIN_CONTRAST:
        raise NoDigitError()
    ink[ink < NOISE_FRACTION * contrast] = 0.0
    return ink


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


def _ink_box(ink: np.ndarray) -> tuple[slice, slice]:
    strong = ink >= BOX_FRACTION * ink.max()
    if np.count_nonzero(strong) < MIN_INK_PIXELS:
        raise NoDigitError(
            f"no digit found: only {np.count_nonzero(strong)} ink pixel(s), a speck rather than a digit "
            "— draw or upload a digit"
        )
    rows = np.flatnonzero(strong.any(axis=1))
    cols = np.flatnonzero(strong.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def to_mnist(grey, invert="auto") -> np.ndarray:
    """Normalise a grey image of one digit the way MNIST was made.

    Parameters
    ----------
    grey : array_like, shape (h, w), 0..255
        A grey image (:func:`load_image`, :func:`canvas_to_grey`); any size from a few pixels up.
    invert : {"auto", True, False}
        ``True``: the image is dark ink on a light background (paper, the seed's PNGs) and is inverted.
        ``False``: it is already light ink on a dark background (MNIST, a canvas's alpha).
        ``"auto"``: decide from the border's median level and the extremes.

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
    ink = _ink(_check_grey(grey), invert)
    rows, cols = _ink_box(ink)
    crop = ink[rows, cols]
    height, width = crop.shape
    if height >= width:
        new_height, new_width = BOX_SIDE, max(1, int(round(BOX_SIDE * width / height)))
    else:
        new_height, new_width = max(1, int(round(BOX_SIDE * height / width))), BOX_SIDE
    small = _resample_matrix(height, new_height) @ crop @ _resample_matrix(width, new_width).T
    # MNIST strokes are saturated: the strongest ink becomes 255 whatever the pen or lighting.
    small *= 255.0 / small.max()

    centre_row, centre_col = scipy.ndimage.center_of_mass(small)
    top = int(np.floor(CENTRE - centre_row + 0.5))
    left = int(np.floor(CENTRE - centre_col + 0.5))
    top = min(max(top, 0), FIELD_SIDE - new_height)
    left = min(max(left, 0), FIELD_SIDE - new_width)
    field = np.zeros((FIELD_SIDE, FIELD_SIDE))
    field[top : top + new_height, left : left + new_width] = small
    return np.clip(np.rint(field), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- conveniences


def _any_to_grey(source) -> np.ndarray:
    """A path, bytes, file-like, grey (h, w), RGB (h, w, 3) or RGBA canvas (h, w, 4) array to grey."""
    if isinstance(source, np.ndarray):
        if source.ndim == 3 and source.shape[2] == 4:
            return canvas_to_grey(source)
        if source.ndim == 3 and source.shape[2] == 3:
            return _luminance(_to_unit_range(source))
        return source  # checked by to_mnist
    if isinstance(source, (list, tuple)):
        return _any_to_grey(np.asarray(source))
    return load_image(source)


def prepare(source, invert="auto", dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
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
    image = to_mnist(_any_to_grey(source), invert=invert)
    x = (image.reshape(1, FIELD_SIDE * FIELD_SIDE) / 255.0 * 0.99 + 0.01).astype(dtype)
    return x, image


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
        grey = _check_grey(_any_to_grey(np.asarray(image)))
        _ink_box(_ink(grey, "auto"))
    except NoDigitError:
        return True
    return False
