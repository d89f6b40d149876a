"""The seed blog's CSV format: one record a line, the label then 784 pixel values 0-255, comma-separated, no
header. Read in bounded memory (from a path or an upload's bytes) and written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ann.data.idx import as_labels, as_pixels
from ann.data.split import MAX_LABEL, CSVFormatError, Split
from ann.files import atomic_write as _atomic_write
from ann.inputs import N_CLASSES, N_PIXELS

_CSV_FIELDS = 1 + N_PIXELS
# Rows parsed per vectorised step: its index arrays take 8 bytes a value, so 1,024 MNIST rows take about 30 MB
# of temporaries; more rows a step cost memory and parse no faster (bench/upload_memory.py).
_CSV_CHUNK_ROWS = 1024
_CSV_SCAN_BLOCK = 1 << 24  # bytes looked at a time for newlines: a 16 MB mask at most


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
    pixels = as_pixels(split.images)
    labels = as_labels(split.labels)
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
