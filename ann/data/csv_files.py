"""The seed blog's CSV format: one record a line, the label then 784 pixel values 0-255, comma-separated, no
header. Read in bounded memory (from a path, a stream or an upload's bytes) and written.

Reading is bounded by what is read, not by the file's shape: the bytes are taken :data:`PIECE_BYTES` at a time,
and the line length (at most :data:`MAX_LINE_BYTES`), the number of values a line and the number of records
are checked as they arrive. A file of one 100 MB line is refused after its first piece, a file of millions of
short lines at its first line, and a file of too many records at the first record past the limit.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ann.data.idx import as_labels, as_pixels
from ann.data.split import MAX_LABEL, CSVFormatError, Split
from ann.files import atomic_write as _atomic_write
from ann.inputs import N_CLASSES, N_PIXELS

_CSV_FIELDS = 1 + N_PIXELS
# Rows formatted per vectorised step when writing.
_CSV_CHUNK_ROWS = 1024
PIECE_BYTES = 1 << 20  # read and parsed at a time: about 600 MNIST records, 25 MB of parsing temporaries
LONGEST_RECORD = _CSV_FIELDS * 4  # bytes: 785 values of "255," (the last one's comma is its newline)
MAX_LINE_BYTES = 1 << 14  # a longer line is no record (room for spaces, and a header line to name as one)
_SHORTEST_RECORD = _CSV_FIELDS * 2  # bytes: 785 values of "0,"


# --------------------------------------------------------------------------- CSV files


def read_csv(path: str | os.PathLike, n_classes: int = N_CLASSES, max_records: int | None = None) -> Split:
    """Read the seed's CSV format: a label then 784 pixel values 0-255 a line, no header.

    Parsing is vectorised (about a second for the full 60,000-line ``mnist_train.csv``) and reads the file a
    piece at a time. Windows line endings and final newlines are accepted.

    Parameters
    ----------
    path : path of the file
    n_classes : int, default 10
        Labels must lie in 0 .. n_classes - 1.
    max_records : int, optional
        Refuse a file of more records, at the first one past the limit.

    Returns
    -------
    Split
        Read-only ``images`` uint8 (n, 784) and ``labels`` int64 (n,).

    Raises
    ------
    CSVFormatError
        Empty file or line, a line without exactly 785 values or longer than a record can be, a value that
        is not an integer, a label out of range, a pixel outside 0-255, too many records; the message gives
        the line and column.
    """
    path = Path(path)
    with open(path, "rb") as stream:
        return read_csv_stream(path.name, stream, n_classes, max_records, size_hint=os.fstat(stream.fileno()).st_size)


def parse_csv(name: str, data: bytes, n_classes: int = N_CLASSES, max_records: int | None = None) -> Split:
    """:func:`read_csv` for a file's content (an upload); ``name`` is used in messages."""
    return read_csv_stream(name, io.BytesIO(data), n_classes, max_records, size_hint=len(data))


def read_csv_stream(name: str, stream: BinaryIO, n_classes: int = N_CLASSES, max_records: int | None = None,
                    size_hint: int | None = None) -> Split:
    """:func:`read_csv` for a binary stream (a file, an entry of a zip), read :data:`PIECE_BYTES` at a time.

    ``size_hint`` (the stream's length, if known) sizes the arrays once: a record takes at least 1,570 bytes.
    Memory: the records read (785 bytes each) and one piece's parsing, whatever the file holds.
    """
    reader = _CSVReader(name, n_classes, max_records, size_hint)
    carry = b""
    while True:
        piece = stream.read(PIECE_BYTES)
        if not piece:
            break
        data = carry + piece if carry else piece
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
        else:
            reader.feed(data[:cut])
            carry = data[cut + 1:]
        if len(carry) > MAX_LINE_BYTES:
            raise CSVFormatError(
                f"{name}: line {reader.line_no + 1:,} is longer than {MAX_LINE_BYTES:,} bytes, more than a record "
                f"can be (a label then {N_PIXELS} pixel values take at most {LONGEST_RECORD:,}): not the seed's "
                "CSV format")
    if carry.strip():
        reader.feed(carry)
    return reader.split()


class _CSVReader:
    """Complete lines in, records out: the arrays, the line count, and blank lines not yet known to be final."""

    def __init__(self, name: str, n_classes: int, max_records: int | None, size_hint: int | None) -> None:
        self.name, self.n_classes, self.max_records = name, n_classes, max_records
        capacity = 1024 if size_hint is None else size_hint // _SHORTEST_RECORD + 1
        if max_records is not None:
            capacity = min(capacity, max_records)
        self.images = np.empty((max(capacity, 1), N_PIXELS), np.uint8)
        self.labels = np.empty(max(capacity, 1), np.int64)
        self.count = 0
        self.line_no = 0  # lines consumed so far
        self.blank_from: int | None = None  # the first of the blank lines just read (fine only at the end)

    def feed(self, block: bytes) -> None:
        """Lines separated by newlines, without a final newline."""
        n_lines = block.count(b"\n") + 1
        rows_text = block.rstrip()
        if not rows_text:
            if self.blank_from is None:
                self.blank_from = self.line_no + 1
            self.line_no += n_lines
            return
        if self.blank_from is not None:
            raise CSVFormatError(f"{self.name}: line {self.blank_from:,} is empty")
        n_rows = n_lines - block.count(b"\n", len(rows_text))  # the newlines among the blanks at the end
        if n_rows < n_lines:  # blank lines at the end of the block: fine if nothing follows them
            self.blank_from = self.line_no + n_rows + 1
        if b"\r" in rows_text:
            rows_text = rows_text.replace(b"\r\n", b"\n")  # a copy of one piece, for Windows line endings only
        rows = _parse_csv_fast(np.frombuffer(rows_text, np.uint8), n_rows, self.n_classes)
        if rows is None:
            # Something unusual in this piece: the exact parser finds and names it.
            rows = _parse_csv_exact(rows_text, self.line_no + 1, self.name, self.n_classes)
        if self.max_records is not None and self.count + n_rows > self.max_records:
            raise CSVFormatError(f"{self.name}: more than {self.max_records:,} records; a dataset here has at most "
                                 f"{self.max_records:,}")
        self._grow(self.count + n_rows)
        self.images[self.count:self.count + n_rows] = rows[:, 1:]
        self.labels[self.count:self.count + n_rows] = rows[:, 0]
        self.count += n_rows
        self.line_no += n_lines

    def _grow(self, needed: int) -> None:
        if needed <= len(self.labels):
            return
        capacity = max(needed, len(self.labels) * 3 // 2)
        if self.max_records is not None:
            capacity = min(capacity, self.max_records)
        images = np.empty((capacity, N_PIXELS), np.uint8)
        images[:self.count] = self.images[:self.count]
        labels = np.empty(capacity, np.int64)
        labels[:self.count] = self.labels[:self.count]
        self.images, self.labels = images, labels

    def split(self) -> Split:
        if self.count == 0:
            raise CSVFormatError(
                f"{self.name}: empty file (expected one record a line: a label then {N_PIXELS} pixel values)")
        # the records read, as views (rows never written are never touched, so they take no memory)
        images, labels = self.images[:self.count], self.labels[:self.count]
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
