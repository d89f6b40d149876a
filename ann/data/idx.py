"""MNIST's IDX files, gzipped or not: reading (from a path or an upload's bytes, in bounded memory) and writing.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ann.data.split import MAX_LABEL, IDXFormatError
from ann.files import atomic_write as _atomic_write
from ann.inputs import IMAGE_SIDE, N_CLASSES, N_PIXELS
from ann.inputs import check_labels

_IMAGES_MAGIC = 2051  # 0x0803: unsigned bytes, 3 dimensions
_LABELS_MAGIC = 2049  # 0x0801: unsigned bytes, 1 dimension
_GZIP_MAGIC = b"\x1f\x8b"


_GUNZIP_STEP = 1 << 22  # bytes unpacked at a time from an upload's gzip stream


# --------------------------------------------------------------------------- IDX files


def read_idx_images(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX image file (gzipped if its name ends in ``.gz``).

    Returns
    -------
    ndarray of uint8, shape (n, 784), read-only

    Raises
    ------
    IDXFormatError
        Empty file, not gzip though named ``.gz``, corrupt or truncated gzip stream, wrong magic
        number, images not 28x28, fewer or more bytes than the header declares.
    """
    path = Path(path)
    return idx_images_from_bytes(path.name, decompress_idx(path.name, path.read_bytes(), is_gz(path)))


def read_idx_labels(path: str | os.PathLike, n_classes: int = N_CLASSES) -> np.ndarray:
    """Read an IDX label file (gzipped if its name ends in ``.gz``).

    Parameters
    ----------
    path : path of the file
    n_classes : int, default 10
        Labels must lie in 0 .. n_classes - 1.

    Returns
    -------
    ndarray of int64, shape (n,), values 0 .. n_classes - 1, read-only

    Raises
    ------
    IDXFormatError
        As :func:`read_idx_images`, and for a label out of range.
    """
    path = Path(path)
    return idx_labels_from_bytes(path.name, decompress_idx(path.name, path.read_bytes(), is_gz(path)), n_classes)


def parse_idx_images(name: str, raw: bytes, max_bytes: int | None = None) -> np.ndarray:
    """:func:`read_idx_images` for a file's content (an upload): gzipped if ``raw`` starts like gzip.

    Parameters
    ----------
    name : str
        The file's name, for messages.
    raw : bytes
        The file's content, gzipped or not.
    max_bytes : int, optional
        Refuse a file that holds (or unpacks to) more than this many bytes, before unpacking all of it.

    Returns
    -------
    ndarray of uint8, shape (n, 784), read-only
    """
    return idx_images_from_bytes(name, decompress_idx(name, raw, raw[:2] == _GZIP_MAGIC, max_bytes))


def parse_idx_labels(name: str, raw: bytes, n_classes: int = N_CLASSES, max_bytes: int | None = None
                     ) -> np.ndarray:
    """:func:`read_idx_labels` for a file's content (an upload); see :func:`parse_idx_images`."""
    return idx_labels_from_bytes(name, decompress_idx(name, raw, raw[:2] == _GZIP_MAGIC, max_bytes), n_classes)


def idx_kind(name: str, raw: bytes) -> str | None:
    """``"images"`` or ``"labels"`` from an IDX file's magic number (gzipped or not), else None.

    Only the first bytes are unpacked, so this is cheap for any file.
    """
    head = raw[:8]
    if raw[:2] == _GZIP_MAGIC:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw[:4096], 8)
        except zlib.error:
            return None
    magic = int.from_bytes(head[:4], "big") if len(head) >= 4 else None
    return {_IMAGES_MAGIC: "images", _LABELS_MAGIC: "labels"}.get(magic)


def write_idx_images(path: str | os.PathLike, images: np.ndarray) -> None:
    """Write images as an IDX file, gzipped if the name ends in ``.gz``, atomically.

    Parameters
    ----------
    path : path of the file to create or replace
    images : array_like of integers 0-255, shape (n, 784) or (n, 28, 28)
    """
    pixels = as_pixels(images)
    header = struct.pack(">IIII", _IMAGES_MAGIC, pixels.shape[0], IMAGE_SIDE, IMAGE_SIDE)
    _write_idx(Path(path), header, pixels.tobytes())


def write_idx_labels(path: str | os.PathLike, labels: np.ndarray) -> None:
    """Write labels as an IDX file, gzipped if the name ends in ``.gz``, atomically.

    Parameters
    ----------
    path : path of the file to create or replace
    labels : array_like of integers 0-9, shape (n,)
    """
    digits = as_labels(labels)
    header = struct.pack(">II", _LABELS_MAGIC, digits.shape[0])
    _write_idx(Path(path), header, digits.astype(np.uint8).tobytes())


def is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def decompress_idx(name: str, raw: bytes, compressed: bool, max_bytes: int | None = None) -> bytes:
    """The IDX bytes of a file's content, with gzip problems turned into IDXFormatError.

    With ``max_bytes``, a file holding more is refused, and a gzip stream is unpacked only that far (a
    small upload can unpack to gigabytes).
    """
    if not raw:
        raise IDXFormatError(f"{name}: empty file")
    if not compressed:
        if max_bytes is not None and len(raw) > max_bytes:
            raise IDXFormatError(_too_large(name, max_bytes))
        return raw
    if raw[:2] != _GZIP_MAGIC:
        raise IDXFormatError(
            f"{name}: not a gzip file although its name ends in .gz "
            "(if it was already decompressed, remove .gz from its name)"
        )
    if max_bytes is not None:
        return _bounded_gunzip(name, raw, max_bytes)
    try:
        data = gzip.decompress(raw)
    except EOFError as exc:
        raise IDXFormatError(
            f"{name}: gzip stream ends early (truncated file or interrupted download)"
        ) from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise IDXFormatError(f"{name}: corrupt gzip stream ({exc})") from exc
    if not data:
        raise IDXFormatError(f"{name}: empty file (after decompression)")
    return data


def _too_large(name: str, max_bytes: int) -> str:
    return (f"{name}: holds more than {max_bytes:,} bytes of IDX data, more than a dataset may have here "
            f"({(max_bytes - 16) // N_PIXELS:,} images at most)")


def _bounded_gunzip(name: str, raw: bytes, max_bytes: int) -> bytearray:
    """Unpack a gzip stream (members one after another, as gzip does), refusing more than ``max_bytes``.

    It is unpacked 4 MB at a time into one growing buffer, returned as it is (no final copy): the peak is
    the data itself, or ``max_bytes`` and a step for a file that holds more.
    """
    out = bytearray()
    rest = raw
    try:
        while rest:
            unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while True:
                out += unpacker.decompress(rest, min(_GUNZIP_STEP, max_bytes + 1 - len(out)))
                if len(out) > max_bytes:
                    raise IDXFormatError(_too_large(name, max_bytes))
                rest = unpacker.unconsumed_tail
                if unpacker.eof or not rest:
                    break
            if not unpacker.eof:
                raise IDXFormatError(f"{name}: gzip stream ends early (truncated file or interrupted download)")
            rest = unpacker.unused_data.lstrip(b"\0")  # gzip allows padding after a member
    except zlib.error as exc:
        raise IDXFormatError(f"{name}: corrupt gzip stream ({exc})") from None
    if not out:
        raise IDXFormatError(f"{name}: empty file (after decompression)")
    return out


def _magic_hint(magic: int, expected: int) -> str:
    if expected == _IMAGES_MAGIC and magic == _LABELS_MAGIC:
        return "is this a label file?"
    if expected == _LABELS_MAGIC and magic == _IMAGES_MAGIC:
        return "is this an image file?"
    if magic >> 16 == int.from_bytes(_GZIP_MAGIC, "big"):
        return "the file looks gzip-compressed: its name should end in .gz"
    return "not an MNIST IDX file"


def _check_magic(name: str, data: bytes, expected: int, header_size: int) -> None:
    if len(data) < 4:
        raise IDXFormatError(f"{name}: truncated header: {len(data)} bytes, an IDX header needs {header_size}")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected:
        raise IDXFormatError(
            f"{name}: magic number {magic}, expected {expected} ({_magic_hint(magic, expected)})"
        )
    if len(data) < header_size:
        raise IDXFormatError(f"{name}: truncated header: {len(data)} bytes, expected {header_size}")


def _check_payload(name: str, available: int, declared: int, what: str) -> None:
    if available < declared:
        raise IDXFormatError(
            f"{name}: truncated: the header declares {what} = {declared:,} bytes "
            f"but only {available:,} bytes follow"
        )
    if available > declared:
        raise IDXFormatError(
            f"{name}: {available - declared:,} unexpected bytes after the {what} the header declares "
            "(wrong or corrupt file)"
        )


def idx_images_from_bytes(name: str, data: bytes) -> np.ndarray:
    _check_magic(name, data, _IMAGES_MAGIC, 16)
    count, rows, cols = struct.unpack(">III", data[4:16])
    if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE):
        raise IDXFormatError(
            f"{name}: images are {rows}x{cols}, expected {IMAGE_SIDE}x{IMAGE_SIDE} (MNIST's size; images of "
            "another size can be given as a folder of image files, one subfolder per class, which are resized)"
        )
    declared = count * rows * cols
    _check_payload(name, len(data) - 16, declared, f"{count:,} images of {rows}x{cols}")
    # A view on the data: no copy; read-only (bytes are immutable; an unpacked upload's buffer is not, so it is
    # marked so)
    images = np.frombuffer(data, dtype=np.uint8, count=declared, offset=16).reshape(count, N_PIXELS)
    images.flags.writeable = False
    return images


def idx_labels_from_bytes(name: str, data: bytes, n_classes: int = N_CLASSES) -> np.ndarray:
    _check_magic(name, data, _LABELS_MAGIC, 8)
    (count,) = struct.unpack(">I", data[4:8])
    _check_payload(name, len(data) - 8, count, f"{count:,} labels")
    labels = np.frombuffer(data, dtype=np.uint8, count=count, offset=8)
    bad = np.flatnonzero(labels >= n_classes)
    if bad.size:
        raise IDXFormatError(
            f"{name}: label {labels[bad[0]]} at index {bad[0]} is out of range 0-{n_classes - 1}"
            + (f" (at most {MAX_LABEL + 1} classes)" if n_classes > N_CLASSES else ""))
    labels = labels.astype(np.int64)
    labels.flags.writeable = False
    return labels


def _write_idx(path: Path, header: bytes, payload: bytes) -> None:
    def write(stream: BinaryIO) -> None:
        if is_gz(path):
            # mtime=0 makes the output reproducible: same arrays, same bytes.
            with gzip.GzipFile(filename=path.name, mode="wb", fileobj=stream, mtime=0) as gz:
                gz.write(header)
                gz.write(payload)
        else:
            stream.write(header)
            stream.write(payload)

    _atomic_write(path, write)


def as_pixels(images: np.ndarray) -> np.ndarray:
    """Validate images for writing; return uint8 of shape (n, 784)."""
    images = np.asarray(images)
    if images.ndim == 3 and images.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
        images = images.reshape(images.shape[0], N_PIXELS)
    if images.ndim != 2 or images.shape[1] != N_PIXELS:
        raise ValueError(f"images must have shape (n, {N_PIXELS}) or (n, 28, 28), got {images.shape}")
    if not np.issubdtype(images.dtype, np.integer):
        raise ValueError(
            f"images must hold integer pixel values 0-255, got dtype {images.dtype} "
            "(write the raw uint8 pixels, not scaled inputs)"
        )
    if images.dtype != np.uint8 and images.size:
        bad = np.flatnonzero((images < 0) | (images > 255))
        if bad.size:
            row, col = divmod(int(bad[0]), N_PIXELS)
            raise ValueError(f"pixel value {images[row, col]} at image {row}, pixel {col} is out of range 0-255")
    return np.ascontiguousarray(images, dtype=np.uint8)


def as_labels(labels: np.ndarray) -> np.ndarray:
    """Validate labels for writing; return int64 of shape (n,)."""
    return check_labels(labels, N_CLASSES).astype(np.int64)
