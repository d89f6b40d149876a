"""MNIST from IDX or CSV files: reading, writing, download and verification.

Two on-disk formats give the same arrays:

- the four original IDX files (``train-images-idx3-ubyte.gz`` and friends), gzipped or not;
- the seed blog's CSV format: one record a line, the label then 784 pixel values 0-255,
  comma-separated, no header, no newline after the last record.

For users, :func:`load_mnist` downloads the IDX files on first use into the data folder
(``data/`` at the project root, or ``$ANN_DATA_DIR``, or an explicit ``data_dir``), checks their
published md5 and writes them atomically, so an interrupted download never leaves a file that
looks complete. Every file problem is reported by a specific exception that names the file and
what is wrong with it (:class:`IDXFormatError`, :class:`CSVFormatError`, :class:`ChecksumError`,
:class:`DownloadError`).

The same functions read the other datasets published in MNIST's format (Fashion-MNIST, Kuzushiji-MNIST):
each is a :class:`Published` (its files, md5 sums, mirrors; ``ann.datasets`` keeps them), passed as
``source=``. :func:`parse_csv`, :func:`parse_idx_images` and :func:`parse_idx_labels` read a file's bytes (an
upload), in bounded memory, for ``ann.own_data``.

Arrays come out batches first: images ``uint8`` of shape ``(n, 784)`` and labels ``int64`` of
shape ``(n,)``. They are read-only, so a dashboard can share one loaded copy between users
without one of them changing it for the others.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import re
import struct
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ann.files import atomic_write as _atomic_write
import numpy.typing as npt

__all__ = [
    "DATA_DIR_ENV",
    "MAX_LABEL",
    "MNIST_PUBLISHED",
    "Published",
    "idx_kind",
    "parse_csv",
    "parse_idx_images",
    "parse_idx_labels",
    "IMAGE_SIDE",
    "MIRRORS",
    "MNIST",
    "MNIST_FILES",
    "MNIST_RAW_MD5",
    "MNIST_SIZES",
    "N_CLASSES",
    "N_PIXELS",
    "ChecksumError",
    "CSVFormatError",
    "DownloadError",
    "IDXFormatError",
    "MNISTFormatError",
    "Split",
    "default_data_dir",
    "ensure_mnist",
    "load_mnist",
    "make_targets",
    "mnist_status",
    "read_csv",
    "read_idx_images",
    "read_idx_labels",
    "scale_inputs",
    "write_csv",
    "write_idx_images",
    "write_idx_labels",
]

IMAGE_SIDE = 28
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE  # 784 inputs, the seed's input_nodes
N_CLASSES = 10

# The published md5 of each gzipped file (torchvision checks the same values), in the order
# a download reports them: training set first, images before labels.
MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# Sizes in bytes of the gzipped files: the progress total when a server sends no Content-Length.
MNIST_SIZES: dict[str, int] = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}
# md5 of the decompressed files, so a user who unpacked them by hand is still verified.
MNIST_RAW_MD5: dict[str, str] = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
# Tried in order; each serves the four files under these exact names.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
)
DATA_DIR_ENV = "ANN_DATA_DIR"
MAX_LABEL = 61  # the most any labels file may hold: 62 classes (digits, then upper and lower case letters)



@dataclass(frozen=True)
class Published:
    """A dataset published as MNIST's four IDX files: where to fetch them and how to check them.

    MNIST, Fashion-MNIST and Kuzushiji-MNIST all use the same four file names; ``ann.datasets`` keeps one
    of these for each (and each in its own folder).

    Attributes
    ----------
    title : str
        The name used in messages ("MNIST", "Fashion-MNIST").
    files : dict
        Gzipped file name to its published md5, training set first, images before labels.
    sizes : dict
        Gzipped file name to its size in bytes: the progress total when a server sends no Content-Length.
    raw_md5 : dict
        md5 of the decompressed files where published; only these names are accepted decompressed (a
        decompressed copy of any other file could not be verified).
    mirrors : tuple of str or None
        URL prefixes tried in order; None means this module's :data:`MIRRORS` (MNIST's).
    n_classes : int
        Labels run from 0 to ``n_classes - 1``.
    """

    title: str
    files: dict[str, str]
    sizes: dict[str, int]
    raw_md5: dict[str, str]
    mirrors: tuple[str, ...] | None = None
    n_classes: int = N_CLASSES

    def mirror_list(self) -> tuple[str, ...]:
        return MIRRORS if self.mirrors is None else self.mirrors

    def expected_md5(self, file_name: str) -> str | None:
        return self.files.get(file_name) or self.raw_md5.get(file_name)


# MNIST's own description shares the dicts above, so a test that patches one patches both.
MNIST_PUBLISHED = Published("MNIST", MNIST_FILES, MNIST_SIZES, MNIST_RAW_MD5)

_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IMAGES_MAGIC = 2051  # 0x0803: unsigned bytes, 3 dimensions
_LABELS_MAGIC = 2049  # 0x0801: unsigned bytes, 1 dimension
_GZIP_MAGIC = b"\x1f\x8b"
_DOWNLOAD_TIMEOUT = 30.0  # seconds without data before a mirror counts as unreachable
_DOWNLOAD_CHUNK = 1 << 16
_CSV_FIELDS = 1 + N_PIXELS
# Rows parsed per vectorised step: its index arrays take 8 bytes a value, so 1,024 MNIST rows take about 30 MB
# of temporaries (4,096 took 130 MB, measured on a 105 MB upload), and parse as fast.
_CSV_CHUNK_ROWS = 1024
_CSV_SCAN_BLOCK = 1 << 24  # bytes looked at a time for newlines: a 16 MB mask at most
_GUNZIP_STEP = 1 << 22  # bytes unpacked at a time from an upload's gzip stream

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
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (n,), got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if bad.size:
        raise ValueError(f"label {labels[bad[0]]} at index {bad[0]} is out of range 0-{n_classes - 1}")
    targets = np.full((labels.shape[0], n_classes), low, dtype=dtype)
    targets[np.arange(labels.shape[0]), labels] = high
    return targets


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
    return _parse_idx_images(path.name, _decompress(path.name, path.read_bytes(), _is_gz(path)))


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
    return _parse_idx_labels(path.name, _decompress(path.name, path.read_bytes(), _is_gz(path)), n_classes)


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
    return _parse_idx_images(name, _decompress(name, raw, raw[:2] == _GZIP_MAGIC, max_bytes))


def parse_idx_labels(name: str, raw: bytes, n_classes: int = N_CLASSES, max_bytes: int | None = None
                     ) -> np.ndarray:
    """:func:`read_idx_labels` for a file's content (an upload); see :func:`parse_idx_images`."""
    return _parse_idx_labels(name, _decompress(name, raw, raw[:2] == _GZIP_MAGIC, max_bytes), n_classes)


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
    pixels = _as_pixels(images)
    header = struct.pack(">IIII", _IMAGES_MAGIC, pixels.shape[0], IMAGE_SIDE, IMAGE_SIDE)
    _write_idx(Path(path), header, pixels.tobytes())


def write_idx_labels(path: str | os.PathLike, labels: np.ndarray) -> None:
    """Write labels as an IDX file, gzipped if the name ends in ``.gz``, atomically.

    Parameters
    ----------
    path : path of the file to create or replace
    labels : array_like of integers 0-9, shape (n,)
    """
    digits = _as_labels(labels)
    header = struct.pack(">II", _LABELS_MAGIC, digits.shape[0])
    _write_idx(Path(path), header, digits.astype(np.uint8).tobytes())


def _is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def _decompress(name: str, raw: bytes, compressed: bool, max_bytes: int | None = None) -> bytes:
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


def _parse_idx_images(name: str, data: bytes) -> np.ndarray:
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


def _parse_idx_labels(name: str, data: bytes, n_classes: int = N_CLASSES) -> np.ndarray:
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
        if _is_gz(path):
            # mtime=0 makes the output reproducible: same arrays, same bytes.
            with gzip.GzipFile(filename=path.name, mode="wb", fileobj=stream, mtime=0) as gz:
                gz.write(header)
                gz.write(payload)
        else:
            stream.write(header)
            stream.write(payload)

    _atomic_write(path, write)


def _as_pixels(images: np.ndarray) -> np.ndarray:
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


def _as_labels(labels: np.ndarray) -> np.ndarray:
    """Validate labels for writing; return int64 of shape (n,)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (n,), got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers 0-9, got dtype {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= N_CLASSES))
    if bad.size:
        raise ValueError(f"label {labels[bad[0]]} at index {bad[0]} is out of range 0-9")
    return labels.astype(np.int64)


# --------------------------------------------------------------------------- CSV files


def read_csv(path: str | os.PathLike, n_classes: int = N_CLASSES) -> Split:
    """Read the seed's CSV format: a label then 784 pixel values 0-255 a line, no header.

    Parsing is vectorised (about a second for the full 60,000-line ``mnist_train.csv``). Windows
    line endings and a final newline are accepted.

    Parameters
    ----------
    path : path of the file
    n_classes : int, default 10
        Labels must lie in 0 .. n_classes - 1.

    Returns
    -------
    Split
        Read-only ``images`` uint8 (n, 784) and ``labels`` int64 (n,).

    Raises
    ------
    CSVFormatError
        Empty file or line, a line without exactly 785 values, a value that is not an integer,
        a label out of range or a pixel outside 0-255; the message gives the line and column.
    """
    path = Path(path)
    return parse_csv(path.name, path.read_bytes(), n_classes)


def parse_csv(name: str, data: bytes, n_classes: int = N_CLASSES) -> Split:
    """:func:`read_csv` for a file's content (an upload); ``name`` is used in messages."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")  # a copy, for Windows line endings only
    # Memory: an upload can be 200 MB, so neither the data nor a mask of its size is copied: the final
    # newlines are cut by length, and the newlines found a block at a time.
    end = len(data)
    while end and data[end - 1] == ord("\n"):
        end -= 1
    buf = np.frombuffer(data, dtype=np.uint8, count=end)
    blocks = range(0, end, _CSV_SCAN_BLOCK)
    if not any((buf[start:start + _CSV_SCAN_BLOCK] > ord(" ")).any() for start in blocks):
        raise CSVFormatError(
            f"{name}: empty file (expected one record a line: a label then {N_PIXELS} pixel values)"
        )
    newlines = np.concatenate([np.zeros(0, np.int64)] + [
        np.flatnonzero(buf[start:start + _CSV_SCAN_BLOCK] == ord("\n")) + start for start in blocks])
    line_starts = np.concatenate(([0], newlines + 1))
    line_ends = np.concatenate((newlines, [buf.size]))
    images = np.empty((line_starts.size, N_PIXELS), dtype=np.uint8)
    labels = np.empty(line_starts.size, dtype=np.int64)
    for first in range(0, line_starts.size, _CSV_CHUNK_ROWS):
        last = min(first + _CSV_CHUNK_ROWS, line_starts.size)
        chunk = buf[line_starts[first] : line_ends[last - 1]]
        rows = _parse_csv_fast(chunk, last - first, n_classes)
        if rows is None:
            # Something unusual in this chunk: the exact parser finds and names it.
            rows = _parse_csv_exact(chunk.tobytes(), first + 1, name, n_classes)
        images[first:last] = rows[:, 1:]
        labels[first:last] = rows[:, 0]
    images.flags.writeable = False
    labels.flags.writeable = False
    return Split(images=images, labels=labels)


def _parse_csv_fast(chunk: np.ndarray, n_rows: int, n_classes: int = N_CLASSES) -> np.ndarray | None:
    """Parse well-formed lines of digits and commas, or return None to defer to the exact parser.

    ``chunk`` holds ``n_rows`` lines separated by newlines, without a final newline.
    """
    is_comma = chunk == ord(",")
    is_newline = chunk == ord("\n")
    digits = chunk - np.uint8(ord("0"))  # wraps around for bytes below '0', so one compare suffices
    if not np.all((digits < 10) | is_comma | is_newline):
        return None
    separators = np.flatnonzero(is_comma | is_newline)
    if separators.size + 1 != n_rows * _CSV_FIELDS:
        return None
    # With the right total, every line still needs its newline exactly after its 785th value.
    line_breaks = separators[_CSV_FIELDS - 1 :: _CSV_FIELDS]
    if not np.all(is_newline[line_breaks]):
        return None
    ends = np.append(separators, chunk.size)
    lengths = np.diff(ends, prepend=-1) - 1
    if lengths.min() < 1 or lengths.max() > 3:
        return None  # an empty value, or a long one (leading zeros or out of range)
    # Values have 1 to 3 digits: add the tens and hundreds where present. Indices that fall
    # before a short value's start are masked out by the length test.
    values = digits[ends - 1].astype(np.int16)
    values += np.where(lengths >= 2, digits[ends - 2], 0).astype(np.int16) * 10
    values += np.where(lengths >= 3, digits[ends - 3], 0).astype(np.int16) * 100
    rows = values.reshape(n_rows, _CSV_FIELDS)
    if rows.max() > 255 or rows[:, 0].max() >= n_classes:
        return None
    return rows.astype(np.uint8)


def _parse_csv_exact(text: bytes, first_line: int, name: str, n_classes: int = N_CLASSES) -> np.ndarray:
    """Parse line by line with Python's int(), raising CSVFormatError at the first problem."""
    rows = []
    for offset, line in enumerate(text.split(b"\n")):
        line_no = first_line + offset
        if not line.strip():
            raise CSVFormatError(f"{name}: line {line_no} is empty")
        fields = line.split(b",")
        if len(fields) != _CSV_FIELDS:
            raise CSVFormatError(
                f"{name}: line {line_no} has {len(fields)} values, expected {_CSV_FIELDS} "
                f"(a label then {N_PIXELS} pixel values)"
            )
        row = []
        for column, field in enumerate(fields, start=1):
            if not field.strip():
                raise CSVFormatError(f"{name}: line {line_no}, column {column} is empty")
            try:
                value = int(field)
            except ValueError:
                shown = field.decode("utf-8", errors="replace").strip()
                hint = " (a header line? the seed's format has none)" if line_no == 1 else ""
                raise CSVFormatError(
                    f"{name}: line {line_no}, column {column}: {shown!r} is not an integer{hint}"
                ) from None
            if column == 1 and not 0 <= value < n_classes:
                raise CSVFormatError(f"{name}: line {line_no}: label {value} is out of range 0-{n_classes - 1}"
                                     + (f" (at most {MAX_LABEL + 1} classes)" if n_classes > N_CLASSES else ""))
            if column > 1 and not 0 <= value <= 255:
                raise CSVFormatError(
                    f"{name}: line {line_no}, column {column}: pixel value {value} is out of range 0-255"
                )
            row.append(value)
        rows.append(row)
    return np.array(rows, dtype=np.uint8)


def write_csv(path: str | os.PathLike, split: Split) -> None:
    """Write a split in the seed's CSV format, atomically.

    No header and no newline after the last record, so writing the first 100 training images
    reproduces the seed's ``mnist_train_100.csv`` byte for byte.

    Parameters
    ----------
    path : path of the file to create or replace
    split : Split with at least one record (images integers 0-255, labels 0-9)
    """
    pixels = _as_pixels(split.images)
    labels = _as_labels(split.labels)
    if labels.shape[0] != pixels.shape[0]:
        raise ValueError(f"{pixels.shape[0]} images but {labels.shape[0]} labels")
    if labels.shape[0] == 0:
        raise ValueError("cannot write an empty split: the CSV format has no way to say 'no records'")
    records = np.column_stack((labels.astype(np.uint8), pixels))

    def write(stream: BinaryIO) -> None:
        for first in range(0, records.shape[0], _CSV_CHUNK_ROWS):
            text = _format_csv_rows(records[first : first + _CSV_CHUNK_ROWS])
            if first + _CSV_CHUNK_ROWS >= records.shape[0]:
                text = text[:-1]  # the seed's files end without a newline
            stream.write(text)

    _atomic_write(Path(path), write)


def _format_csv_rows(records: np.ndarray) -> bytes:
    """Format uint8 records (n, 785) as text, each line ending in a newline, vectorised.

    Every value gets 3 digit slots and 1 separator slot; a mask then keeps the digits that are
    not leading zeros.
    """
    chars = np.empty(records.shape + (4,), dtype=np.uint8)
    chars[..., 0] = records // 100 + ord("0")
    chars[..., 1] = records // 10 % 10 + ord("0")
    chars[..., 2] = records % 10 + ord("0")
    chars[..., 3] = ord(",")
    chars[:, -1, 3] = ord("\n")
    keep = np.ones(chars.shape, dtype=bool)
    keep[..., 0] = records >= 100
    keep[..., 1] = records >= 10
    return chars[keep].tobytes()


# --------------------------------------------------------------------------- data folder


def default_data_dir() -> Path:
    """The folder MNIST is read from and downloaded to when no ``data_dir`` is given.

    ``$ANN_DATA_DIR`` if set, else ``data/`` at the project root (beside the ``ann`` package).
    """
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parent.parent / "data"


def _resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    if data_dir is None:
        return default_data_dir()
    return Path(data_dir).expanduser().resolve()


def _raw_name(gz_name: str) -> str:
    return gz_name.removesuffix(".gz")


def _find_file(folder: Path, gz_name: str, source: Published = MNIST_PUBLISHED) -> Path | None:
    """The file to read for ``gz_name``: the gzipped file, else a decompressed copy whose md5 is published,
    else None."""
    candidates = [folder / gz_name]
    if _raw_name(gz_name) in source.raw_md5:
        candidates.append(folder / _raw_name(gz_name))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _checksum_error(path: Path, actual: str, expected: str, title: str = "MNIST") -> ChecksumError:
    return ChecksumError(
        f"{path.name}: md5 {actual}, expected {expected}: the file in {path.parent} is corrupt "
        f"or not the original {title} file. Delete {path} and it will be downloaded again on next use "
        f"(or pass verify=False to load other data in {title}'s format)."
    )


def _read_verified(path: Path, verify: bool, source: Published = MNIST_PUBLISHED) -> bytes:
    raw = path.read_bytes()
    if verify:
        actual = _md5(raw)
        expected = source.expected_md5(path.name)
        if actual != expected:
            raise _checksum_error(path, actual, expected, source.title)
    return raw


def mnist_status(data_dir: str | os.PathLike | None = None, source: Published = MNIST_PUBLISHED) -> dict:
    """Which files are present, missing or corrupt: for the dashboard's Home page.

    Checks the md5 of present files (about 25 ms for all four of MNIST); never touches the network.

    Parameters
    ----------
    data_dir : path, optional
        The folder of the four files; default :func:`default_data_dir`.
    source : Published, default MNIST
        Which dataset's files to look for (``ann.datasets`` has the others).

    Returns
    -------
    dict
        ``{"data_dir": str, "complete": bool, "missing": [names], "corrupt": [names],
        "files": {name: {"status": "ok" | "missing" | "corrupt", "path": str | None}}}``,
        names being the keys of ``source.files``. A decompressed copy counts for its ``.gz`` name.
    """
    folder = _resolve_data_dir(data_dir)
    files: dict[str, dict] = {}
    for name in source.files:
        path = _find_file(folder, name, source)
        if path is None:
            status = "missing"
        elif _md5(path.read_bytes()) != source.expected_md5(path.name):
            status = "corrupt"
        else:
            status = "ok"
        files[name] = {"status": status, "path": None if path is None else str(path)}
    missing = [name for name, info in files.items() if info["status"] == "missing"]
    corrupt = [name for name, info in files.items() if info["status"] == "corrupt"]
    return {
        "data_dir": str(folder),
        "complete": not missing and not corrupt,
        "missing": missing,
        "corrupt": corrupt,
        "files": files,
    }


# --------------------------------------------------------------------------- loading


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: ProgressCallback | None = None,
    *,
    verify: bool = True,
    source: Published = MNIST_PUBLISHED,
) -> MNIST:
    """Load MNIST's training and test sets, downloading missing files first.

    Parameters
    ----------
    data_dir : path, optional
        Folder of the four IDX files (gzipped or not). Default :func:`default_data_dir`.
    download : bool, default True
        Download missing files from :data:`MIRRORS`. When False a missing file raises
        FileNotFoundError. Present files never touch the network.
    progress : callable ``progress(done_bytes, total_bytes, filename)``, optional
        Called while downloading.
    verify : bool, default True
        Check each file's published md5 (about 25 ms for all four). Turn off only to load other
        data in MNIST's format.
    source : Published, default MNIST
        Another dataset published in MNIST's format (Fashion-MNIST, Kuzushiji-MNIST: see ``ann.datasets``):
        its files, checksums, mirrors and class count.

    Returns
    -------
    MNIST
        ``.train`` (60,000) and ``.test`` (10,000) :class:`Split`, arrays read-only.

    Raises
    ------
    DownloadError
        A missing file could not be downloaded (offline, say); the message says what to fetch
        by hand and where to put it.
    ChecksumError
        A present file has the wrong md5 (it is not deleted: the message says to delete it).
    IDXFormatError
        A file is malformed, or a split's image and label counts differ.
    """
    folder = _resolve_data_dir(data_dir)
    missing = [name for name in source.files if _find_file(folder, name, source) is None]
    if missing:
        if not download:
            raise FileNotFoundError(
                _missing_files_message(folder, missing, source) + " Or call load_mnist(download=True)."
            )
        _download(folder, missing, progress, source)
    splits = {}
    for split_name, (images_name, labels_name) in _SPLIT_FILES.items():
        images_path = _find_file(folder, images_name, source)
        labels_path = _find_file(folder, labels_name, source)
        if images_path is None or labels_path is None:  # deleted while we were loading
            raise FileNotFoundError(_missing_files_message(folder, [images_name, labels_name], source))
        images = _parse_idx_images(
            images_path.name,
            _decompress(images_path.name, _read_verified(images_path, verify, source), _is_gz(images_path)),
        )
        labels = _parse_idx_labels(
            labels_path.name,
            _decompress(labels_path.name, _read_verified(labels_path, verify, source), _is_gz(labels_path)),
            source.n_classes,
        )
        if images.shape[0] != labels.shape[0]:
            raise IDXFormatError(
                f"{images_path.name} has {images.shape[0]:,} images but {labels_path.name} has "
                f"{labels.shape[0]:,} labels: the two files do not belong together"
            )
        splits[split_name] = Split(images=images, labels=labels)
    return MNIST(train=splits["train"], test=splits["test"])


def default_cache_dir() -> Path:
    """Where :func:`load_mnist_mapped` keeps its uncompressed copies: ``$ANN_CACHE_DIR``, else ``data/cache``
    in the project (git-ignored, like the downloads)."""
    override = os.environ.get("ANN_CACHE_DIR", "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parent.parent / "data" / "cache"


_CACHED_ARRAYS = (("train", "images", (N_PIXELS,), np.uint8), ("train", "labels", (), np.int64),
                  ("test", "images", (N_PIXELS,), np.uint8), ("test", "labels", (), np.int64))


def load_mnist_mapped(data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None,
                      *, verify: bool = True, source: Published = MNIST_PUBLISHED) -> MNIST:
    """MNIST mapped into memory from uncompressed copies, so that processes share one copy of its pages.

    The dashboard's server and its training workers each need all 70,000 images (55 MB). Read with
    :func:`load_mnist`, each process holds its own copy; mapped read-only from the same ``.npy`` files, the
    operating system keeps one copy in its page cache for all of them (the sum of the processes' PSS
    counts it once). The copies are made on first use from the IDX files, through :func:`load_mnist` and
    its checks, and named after the source files' sizes and modification times, so a replaced file makes
    new ones. When the cache folder cannot be written, the data is simply loaded into memory.

    Parameters are :func:`load_mnist`'s (never downloads); ``cache_dir`` defaults to
    :func:`default_cache_dir`. The arrays are read-only, like :func:`load_mnist`'s.
    """
    folder = _resolve_data_dir(data_dir)
    sources = [_find_file(folder, name, source) for name in source.files]
    if any(path is None for path in sources):
        return load_mnist(folder, download=False, verify=verify, source=source)  # raises, naming the missing
    stamp = hashlib.sha1(repr([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sources]).encode(),
                         usedforsecurity=False).hexdigest()[:16]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    prefix = "mnist" if source is MNIST_PUBLISHED else re.sub(r"[^a-z0-9]+", "-", source.title.lower())
    cache = cache / f"{prefix}-{stamp}{'' if verify else '-unverified'}"
    paths = {(split, kind): cache / f"{split}-{kind}.npy" for split, kind, _, _ in _CACHED_ARRAYS}
    mapped = _map_cached(paths)
    if mapped is not None:
        return mapped
    mnist = load_mnist(folder, download=False, verify=verify, source=source)  # not made yet, or damaged
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for split, kind, _, _ in _CACHED_ARRAYS:
            array = getattr(getattr(mnist, split), kind)
            _atomic_write(paths[split, kind], lambda stream, a=array: np.save(stream, a, allow_pickle=False))
    except OSError:
        return mnist  # a read-only place: the data in memory serves as well
    return _map_cached(paths) or mnist


def _map_cached(paths: dict[tuple[str, str], Path]) -> MNIST | None:
    arrays = {}
    try:
        for split, kind, tail, dtype in _CACHED_ARRAYS:
            array = np.load(paths[split, kind], mmap_mode="r", allow_pickle=False)
            if array.dtype != dtype or array.shape[1:] != tail:
                return None
            arrays[split, kind] = array
        return MNIST(train=Split(arrays["train", "images"], arrays["train", "labels"]),
                     test=Split(arrays["test", "images"], arrays["test", "labels"]))
    except (OSError, ValueError, EOFError):
        return None


def ensure_mnist(
    data_dir: str | os.PathLike | None = None, progress: ProgressCallback | None = None,
    source: Published = MNIST_PUBLISHED,
) -> Path:
    """Download the files missing from the data folder and verify the present ones.

    Parameters
    ----------
    data_dir : path, optional
        Default :func:`default_data_dir`; created if needed.
    progress : callable ``progress(done_bytes, total_bytes, filename)``, optional
    source : Published, default MNIST
        Which dataset (see :func:`load_mnist`).

    Returns
    -------
    Path
        The absolute data folder, holding all four verified files.

    Raises
    ------
    DownloadError, ChecksumError
        As :func:`load_mnist`.
    """
    folder = _resolve_data_dir(data_dir)
    missing = []
    for name in source.files:
        path = _find_file(folder, name, source)
        if path is None:
            missing.append(name)
        else:
            _read_verified(path, True, source)
    if missing:
        _download(folder, missing, progress, source)
    return folder


# --------------------------------------------------------------------------- download


class _MirrorFailure(Exception):
    """One mirror could not serve one file; the reason goes into DownloadError's message."""


def _download(folder: Path, names: list[str], progress: ProgressCallback | None,
              source: Published = MNIST_PUBLISHED) -> None:
    """Download ``names`` into ``folder`` one by one, stopping at the first that fails everywhere."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"Cannot create the {source.title} data folder {folder} ({exc}). "
            f"Set {DATA_DIR_ENV} to a writable folder."
        ) from exc
    for index, name in enumerate(names):
        reasons = []
        for mirror in source.mirror_list():
            try:
                _download_file(mirror + name, folder / name, source.files[name], progress, source.sizes)
                break
            except _MirrorFailure as failure:
                reasons.append(f"{mirror + name}: {failure}")
        else:
            # Offline, most likely: trying the other files would only repeat the same timeouts.
            raise DownloadError(
                f"Could not download {source.title} file {name} from any mirror:\n  "
                + "\n  ".join(reasons)
                + "\n"
                + _missing_files_message(folder, names[index:], source)
            )


def _missing_files_message(folder: Path, names: Iterable[str], source: Published = MNIST_PUBLISHED) -> str:
    names = list(names)
    mirrors = source.mirror_list()
    it = "it" if len(names) == 1 else "them"
    others = f" (or {', '.join(mirrors[1:])})" if len(mirrors) > 1 else ""
    return (
        f"Missing from the {source.title} data folder {folder}: {', '.join(names)}. "
        f"To install by hand, download {it} (keep the .gz files compressed) from {mirrors[0]}{others} and put "
        f"{it} in {folder}, or set {DATA_DIR_ENV} to a folder that holds the files"
        + ("." if source is MNIST_PUBLISHED else f" (in its {folder.name}/ subfolder).")
    )


def _download_file(url: str, target: Path, expected_md5: str, progress: ProgressCallback | None,
                   sizes: dict[str, int] | None = None) -> None:
    """Fetch ``url`` to ``target`` atomically, checking its md5 before it takes the final name.

    Network problems and a wrong md5 raise _MirrorFailure (the caller tries the next mirror);
    anything else, a full disk or an interrupt from the progress callback, propagates. Either
    way only the temporary file is ever written, and it is removed on failure.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "ann-explorer"})
    try:
        response = urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT)
    except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError and timeouts are OSErrors
        raise _MirrorFailure(_describe(exc)) from exc

    def write(stream: BinaryIO) -> None:
        length = response.headers.get("Content-Length") if response.headers else None
        total = int(length) if length and length.isdigit() else (sizes or MNIST_SIZES).get(target.name, 0)
        digest = hashlib.md5(usedforsecurity=False)
        done = 0
        if progress is not None:
            progress(0, total, target.name)
        while True:
            try:
                chunk = response.read(_DOWNLOAD_CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise _MirrorFailure(f"connection lost after {done:,} bytes ({_describe(exc)})") from exc
            if not chunk:
                break
            stream.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, max(total, done), target.name)
        actual = digest.hexdigest()
        if actual != expected_md5:
            raise _MirrorFailure(
                f"received {done:,} bytes with md5 {actual}, expected {expected_md5} "
                "(truncated or corrupt download)"
            )

    with response:
        _atomic_write(target, write)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"{exc.reason}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
