"""Image files and canvas drawings to grey pixels, in bounded memory.

Image files are decoded by :func:`decode_image` (see its docstring): at most ``MAX_IMAGE_PIXELS`` pixels,
reduced while or right after decoding to at most ``DECODED_LONG_SIDE`` pixels on the long side, and to uint8,
before any floating-point work. Public errors are :class:`ImageError` (not an image, too large, wrong shape)
and its subclass :class:`NoDigitError` (nothing drawn).
"""

from __future__ import annotations

import functools
import io
import os
import re
import threading

import numpy as np
from PIL import Image

MAX_IMAGE_BYTES = 20 * 1024 * 1024  # 20 MB of encoded file
MAX_IMAGE_PIXELS = 64_000_000  # width x height: a 64-megapixel photo; more is refused as a decompression bomb
MAX_DECODE_BYTES = 128 * 2**20  # what decoding one image at full size may take (PNG, GIF, TIFF, BMP, WebP and
#                                 progressive JPEG; a baseline JPEG is decoded reduced): 32 MP in colour
DECODED_LONG_SIDE = 1024  # decoded images are reduced to at most this many pixels on their long side: a digit
#                           filling a tenth of the frame still spans 100 pixels, five times MNIST's 20
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP")  # what Pillow may open (JPEG includes phones'


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


def to_unit_range(channels: np.ndarray) -> np.ndarray:
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


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3] @ _LUMA


def border_values(values: np.ndarray) -> np.ndarray:
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
    if np.median(border_values(alpha)) < 0.5:
        drawn = alpha > 0.5
        if drawn.any() and grey[drawn].mean() > 127.5:
            background = 0.0
    return grey * alpha + background * (1.0 - alpha)


def _channels_to_grey(pixels: np.ndarray) -> np.ndarray:
    """Decoded pixels (h, w), (h, w, 2) grey+alpha, (h, w, 3) RGB or (h, w, 4) RGBA to grey 0..255."""
    values = to_unit_range(pixels)
    if values.ndim == 2:
        return values
    channels = values.shape[2]
    if channels == 1:
        return values[..., 0]
    if channels == 2:
        return _flatten_alpha(values[..., 0], values[..., 1] / 255.0)
    if channels == 3:
        return luminance(values)
    return _flatten_alpha(luminance(values), values[..., 3] / 255.0)


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
            # said in the app's words: Pillow's texts are long, technical, and sometimes echo the file's bytes
            reason = "the file is cut short" if "truncated" in str(exc) else "the data could not be decoded"
            raise ImageError(f"{name} is not an image (PNG or JPG expected): {reason}") from None


def _decode(data: bytes, name: str) -> np.ndarray:

    try:
        image = Image.open(io.BytesIO(data), formats=_readable_formats())
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours, checked in open()
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)) / 1e6:,.0f} megapixels" if pixels else "too many pixels"
        raise ImageError(f"{name} is refused: {size} (the limit here is {MAX_IMAGE_PIXELS / 1e6:g}); scale it "
                         "down or crop it to the digit") from None
    with image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageError(
                f"{name} is refused: {width}x{height} is "
                f"{width * height / 1e6:.1f} megapixels (the limit here is {MAX_IMAGE_PIXELS / 1e6:g}); "
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
    values = to_unit_range(values)
    alpha = values[..., 3]
    if np.median(border_values(alpha)) < 127.5:
        return alpha.copy()
    return _flatten_alpha(luminance(values), alpha / 255.0)
