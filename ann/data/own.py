"""Your own data: the seed's CSV, a pair of IDX files, or a folder (or zip) of one subfolder per class.

Three forms are read, from a path (the command line) or from uploaded files (the dashboard):

(a) **CSV**, the seed's format: a label then 784 pixel values 0-255 a line, no header. One file, or two whose
    names say which is which (``...train...csv`` and ``...test...csv``).
(b) **IDX**, MNIST's format: a pair of files (images and labels, told apart by their magic numbers), or two
    pairs whose names say train (``train``) and test (``test`` or ``t10k``); gzipped or not.
(c) **Images**, a folder or a zip with one subfolder per class, named after the class (``cat/``, ``dog/``),
    holding images of any size and colour (PNG, JPEG, GIF, BMP, TIFF, WebP). Each is decoded in bounded
    memory and turned into a 28x28 input by ``ann.data.preprocess``, as a drawing is: cropped to its ink, fitted into
    20x20 and centred by mass. ``train/`` and ``test/`` folders above the class folders give the split.

For CSV and IDX, labels are numbers 0-61 and the classes are named by them, unless a ``classes.txt`` beside
the files names them (one name a line, label 0 first).

**One set given alone** is split in two, seeded and stratified: :data:`TEST_FRACTION` (a fifth) of each
class's images, drawn with :data:`SPLIT_SEED`, become the test set, and both sets are shuffled with the same
seed (an image folder is read class by class, and the seed's training goes in file order). The
:class:`~ann.data.named.Dataset` says so in its ``note``.

**Limits** (:data:`LIMITS`): 2 to 62 classes; at least :data:`MIN_PER_CLASS` images in every class, one of
them at least in the test set; at most :data:`MAX_RECORDS` images in all, :data:`MAX_IMAGE_FILES` image files,
:data:`MAX_TOTAL_MB` MB of files as given and :data:`MAX_UNPACKED_MB` MB unpacked from a zip. Anything wrong
is an :class:`OwnDataError` whose message names the file (or class) and what to do. Nothing is half-loaded:
a dataset comes back whole, or not at all.

**On the server** (:class:`DatasetStore`), a visitor's dataset is kept privately in their workspace's own
folder beside the run store, content-addressed (its key is the start of the SHA-256 of its arrays, so the same
data uploaded twice is stored once), as uncompressed ``.npy`` files that the server and the training workers
map read-only (one copy in memory). The run store's housekeeping covers it: see :class:`DatasetStore`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import numpy as np

from ann.data.csv_files import read_csv_stream
from ann.data.decode import MAX_IMAGE_BYTES, ImageError, NoDigitError, load_image
from ann.data.idx import idx_kind, parse_idx_images, parse_idx_labels
from ann.data.named import Dataset
from ann.data.preprocess import to_mnist
from ann.data.split import MAX_LABEL, MNISTFormatError, Split
from ann.dataset_tag import MAX_CLASS_NAME
from ann.inputs import N_PIXELS

MIN_CLASSES = 2
MAX_CLASSES = MAX_LABEL + 1  # 62: the ten digits and the upper- and lower-case letters, as EMNIST's byclass
MIN_PER_CLASS = 10  # images per class: a fifth of ten leaves two to test on
MAX_RECORDS = 100_000  # images in all: 78 MB of pixels, more than MNIST's 70,000
MAX_IMAGE_FILES = 20_000  # image files in a folder or zip: each is decoded (about 1-3 ms a small one)
MAX_TOTAL_MB = 120  # the files as given (a zip as stored): MNIST's training set as the seed's CSV is 105 MB, and
#                    reading a CSV takes about 1.5 times its size on top (bench/own_data_speed.py)
MAX_UNPACKED_MB = 512  # a zip's files unpacked, declared sizes summed before anything is unpacked
MAX_ZIP_ENTRIES = MAX_IMAGE_FILES + 5_000  # listed entries (files and folders) of a zip
TEST_FRACTION = 0.2  # of each class, held out for testing when one set is given alone
SPLIT_SEED = 0
MIN_TEST_FRACTION, MAX_TEST_FRACTION = 0.05, 0.5
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
CLASSES_FILE = "classes.txt"
LIMITS = {
    "classes": f"{MIN_CLASSES} to {MAX_CLASSES}",
    "images per class": f"at least {MIN_PER_CLASS} (at least one of them in the test set)",
    "images in all": f"at most {MAX_RECORDS:,}",
    "image files": f"at most {MAX_IMAGE_FILES:,}",
    "files as given": f"at most {MAX_TOTAL_MB} MB",
    "unpacked from a zip": f"at most {MAX_UNPACKED_MB} MB",
}
_IGNORED = re.compile(r"^(\..*|__MACOSX|Thumbs\.db|desktop\.ini)$", re.IGNORECASE)  # what systems add to zips
_DOCUMENTS = re.compile(r"^(readme|licen[cs]e|copying)(\..*)?$|\.md$", re.IGNORECASE)  # beside the data, at the top
_SPLIT_FOLDERS = {"train": "train", "training": "train", "test": "test", "testing": "test", "t10k": "test"}
_IDX_BYTES = 16 + MAX_RECORDS * N_PIXELS  # an IDX images file of MAX_RECORDS images
_LABEL_BYTES = 8 + MAX_RECORDS

ProgressCallback = Callable[[int, int], None]


class OwnDataError(ValueError):
    """Data of one's own that cannot be used: the message names the file or class, what is wrong, and what
    to do."""


class DatasetLimitError(OwnDataError):
    """A workspace keeps as many datasets on the server as it may, and all are in use by its runs."""


# --------------------------------------------------------------------------- the files given


@dataclass(frozen=True)
class _Entry:
    """One file of what was given: its path below the root given (POSIX parts), size, and a way to read it."""

    parts: tuple[str, ...]
    size: int
    read_bytes: Callable[[int], bytes]  # read_bytes(limit): at most limit + 1 bytes
    open: Callable[[], BinaryIO]  # the file as a stream, read a piece at a time

    @property
    def name(self) -> str:
        return "/".join(self.parts)

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.parts[-1]).suffix.lower()

    def head(self, n: int) -> bytes:
        """The first ``n`` bytes (fewer for a shorter file)."""
        return self.read_bytes(n)[:n]

    def read(self, limit: int) -> bytes:
        """The whole file; OwnDataError if it is longer than ``limit`` bytes."""
        data = self.read_bytes(limit)
        if len(data) > limit:
            raise OwnDataError(f"{self.name}: more than {limit / 2**20:.0f} MB, too large to read here")
        return data


@dataclass
class _Given:
    """What was given, flattened: its files, its folders (to find empty ones), and a name for messages."""

    title: str
    entries: list[_Entry]
    folders: set[tuple[str, ...]]


def _ignored(parts: Iterable[str]) -> bool:
    return any(_IGNORED.match(part) for part in parts)


def _from_folder(folder: Path) -> _Given:
    entries: list[_Entry] = []
    folders: set[tuple[str, ...]] = set()
    for current, dirs, files in os.walk(folder):  # symbolic links to folders are not followed
        rel = Path(current).relative_to(folder).parts
        dirs[:] = sorted(d for d in dirs if not _IGNORED.match(d))
        folders.update(rel + (d,) for d in dirs)
        for file_name in sorted(files):
            if _IGNORED.match(file_name):
                continue
            path = Path(current) / file_name
            if not path.is_file():
                continue
            entries.append(_Entry(rel + (file_name,), path.stat().st_size, _file_reader(path),
                                  functools.partial(open, path, "rb")))
            if len(entries) > MAX_ZIP_ENTRIES:
                raise OwnDataError(f"{folder}: more than {MAX_ZIP_ENTRIES:,} files; a dataset here has at most "
                                   f"{MAX_IMAGE_FILES:,} images")
    return _Given(folder.name, entries, folders)


def _file_reader(path: Path) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        with open(path, "rb") as stream:
            return stream.read(limit + 1)
    return read


_EOCD = struct.Struct("<4s4H2LH")  # the zip's end record: signature, disks, entry counts, directory size, offset


def _check_zip_end(name: str, data: bytes) -> None:
    """The entry count from the zip's end record, before zipfile builds an object for every entry it lists
    (a 50 MB upload can list a million). Found where zipfile finds it: at the very end, else the last one in
    the final 64 KB (a comment may follow it)."""
    tail_from = max(0, len(data) - _EOCD.size - 0xFFFF)
    end = len(data) - _EOCD.size
    if not (end >= 0 and data[end:end + 4] == b"PK\x05\x06"):
        end = data.rfind(b"PK\x05\x06", tail_from)
    if end < 0 or end + _EOCD.size > len(data):
        raise OwnDataError(f"{name}: not a zip file this program can read (its end record is missing: cut short?)")
    entries = _EOCD.unpack_from(data, end)[4]
    if entries == 0xFFFF or data[max(0, end - 20):end][:4] == b"PK\x06\x07":
        raise OwnDataError(f"{name}: a ZIP64 archive (for more than 65,535 entries or 4 GB); a dataset here has at "
                           f"most {MAX_IMAGE_FILES:,} images")
    if entries > MAX_ZIP_ENTRIES:
        raise OwnDataError(f"{name}: {entries:,} entries; a dataset here has at most {MAX_IMAGE_FILES:,} images")


def _from_zip(name: str, data: bytes) -> _Given:
    """A zip's files, checked before anything is unpacked: its entry count and declared sizes."""
    _check_zip_end(name, data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, struct.error, NotImplementedError) as exc:
        raise OwnDataError(f"{name}: not a zip file this program can read ({_zip_problem(exc)})") from None
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise OwnDataError(f"{name}: {len(infos):,} entries; a dataset here has at most {MAX_IMAGE_FILES:,} images")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED_MB * 2**20:
        raise OwnDataError(f"{name}: unpacks to {unpacked / 2**20:,.0f} MB; at most {MAX_UNPACKED_MB} MB are read "
                           "here (make the images smaller, or send fewer)")
    entries: list[_Entry] = []
    folders: set[tuple[str, ...]] = set()
    for info in infos:
        parts = tuple(p for p in PurePosixPath(info.filename.replace("\\", "/")).parts if p not in ("", "/"))
        if ".." in parts:
            raise OwnDataError(f"{name}: the entry {info.filename!r} points outside the zip; make the zip again")
        if not parts or _ignored(parts):
            continue
        folders.update(parts[:i] for i in range(1, len(parts)))
        if info.is_dir():
            folders.add(parts)
            continue
        if info.flag_bits & 0x1:
            raise OwnDataError(f"{name}: {info.filename} is encrypted; make the zip without a password")
        entries.append(_Entry(parts, info.file_size, _zip_reader(archive, info, name),
                              functools.partial(archive.open, info)))
    return _Given(PurePosixPath(name).stem or "uploaded data", entries, folders)


def _zip_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, zip_name: str) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        try:
            with archive.open(info) as stream:  # read in 1 MB steps: each unpacks at most that much
                pieces, got = [], 0
                while got <= limit:
                    piece = stream.read(min(1 << 20, limit + 1 - got))
                    if not piece:
                        break
                    pieces.append(piece)
                    got += len(piece)
                return b"".join(pieces)
        except _READ_ERRORS as exc:
            raise OwnDataError(f"{zip_name}: {info.filename} cannot be unpacked ({_zip_problem(exc)})") from None
    return read


# What zipfile, zlib and the file system raise on damaged data (zipfile: BadZipFile, and a ValueError such as
# "negative seek value", a struct.error or an EOFError for some malformed headers; NotImplementedError for an
# unknown compression; RuntimeError for an encrypted entry).
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, EOFError, OSError, NotImplementedError, RuntimeError,
                ValueError)


def _zip_problem(exc: BaseException) -> str:
    """What went wrong in a zip, in a few words of the app's own (zipfile's texts quote internals)."""
    if isinstance(exc, NotImplementedError):
        return "it uses a compression this program does not read; make a plain zip"
    if isinstance(exc, RuntimeError):
        return "it is encrypted; make the zip without a password"
    if "CRC" in str(exc):
        return "its data does not match its checksum: damaged"
    return "damaged or cut short"


def _gather(source: Any) -> _Given:
    """Whatever was given (a path, paths, or uploaded ``(name, bytes)`` pairs) as one flat list of files."""
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    items = list(source)
    if not items:
        raise OwnDataError("no files given: give a CSV file, a pair of IDX files, or a folder or zip of "
                           "images with one subfolder per class")
    if all(isinstance(item, (str, os.PathLike)) for item in items):
        paths = [Path(item).expanduser() for item in items]
        for path in paths:
            if not path.exists():
                raise OwnDataError(f"{path}: no such file or folder")
        if len(paths) == 1 and paths[0].is_dir():
            return _from_folder(paths[0])
        if any(path.is_dir() for path in paths):
            raise OwnDataError(f"{', '.join(map(str, paths))}: give one folder, or files (not both)")
        total = sum(path.stat().st_size for path in paths)
        _check_total(total, paths[0].name)
        if len(paths) == 1 and _is_zip(paths[0].name, _file_reader(paths[0])(4)):
            return _from_zip(paths[0].name, paths[0].read_bytes())
        return _Given(paths[0].stem if len(paths) == 1 else paths[0].parent.name or "own data",
                      [_Entry((p.name,), p.stat().st_size, _file_reader(p), functools.partial(open, p, "rb"))
                       for p in paths], set())
    pairs = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], (bytes, bytearray, memoryview))):
            raise TypeError("give a path, a list of paths, or a list of (file name, bytes) pairs")
        pairs.append((item[0], bytes(item[1])))
    _check_total(sum(len(data) for _, data in pairs), pairs[0][0])
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise OwnDataError(f"{min(n for n in names if names.count(n) > 1)} is given twice")
    zips = [(name, data) for name, data in pairs if _is_zip(name, data)]
    if zips:
        if len(pairs) > 1:
            raise OwnDataError(f"{zips[0][0]}: a zip comes alone; put everything in it, or give the files "
                               "without a zip")
        return _from_zip(*zips[0])
    # A folder uploaded as it is (a browser's directory upload) names each file by its path in the folder
    entries = []
    for name, data in pairs:
        parts = tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", "/"))
        if ".." in parts or not parts:
            raise OwnDataError(f"{name!r} is not a file name this program accepts")
        if not _ignored(parts):
            entries.append(_Entry(parts, len(data), lambda limit, d=data: d[:limit + 1],
                                  functools.partial(io.BytesIO, data)))
    tops = {entry.parts[0] for entry in entries if len(entry.parts) > 1}
    title = (tops.pop() if len(tops) == 1 and all(len(e.parts) > 1 for e in entries)
             else PurePosixPath(names[0]).stem if len(names) == 1 else "uploaded data")
    return _Given(title, entries, set())


def _is_zip(name: str, head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04" or name.lower().endswith(".zip")


def _check_total(total: int, name: str) -> None:
    if total > MAX_TOTAL_MB * 2**20:
        raise OwnDataError(f"{name}: {total / 2**20:,.0f} MB in all; at most {MAX_TOTAL_MB} MB of files are read "
                           "here")


# --------------------------------------------------------------------------- reading


def read_own_data(source: Any, *, title: str | None = None, test_fraction: float = TEST_FRACTION,
                  seed: int = SPLIT_SEED, progress: ProgressCallback | None = None) -> Dataset:
    """Read a dataset of one's own: CSV, IDX, or images in one subfolder per class.

    Parameters
    ----------
    source : path, list of paths, or list of ``(file name, bytes)``
        A CSV file, a folder, a zip, or a few files (two IDX files, two CSV files); or the files a visitor
        uploaded, as pairs of name and content (a zip alone, or CSV or IDX files).
    title : str, optional
        A name for people (default: the folder's, zip's or file's name).
    test_fraction : float, default 0.2
        When one set is given alone: the share of each class held out for testing (0.05 to 0.5).
    seed : int, default 0
        The seed of that split and of the shuffling.
    progress : callable ``progress(done, total)``, optional
        Called as the images of a folder are decoded.

    Returns
    -------
    Dataset
        Keyed ``own-<16 hex digits>`` by its content; ``note`` says where it came from and how it was split.

    Raises
    ------
    OwnDataError
        Naming the file or class and the problem: nothing found, mixed kinds, a file that is not an image,
        an empty class folder, a CSV or IDX error, images of another size than 28x28 in IDX, labels out of
        range, a class with too few images, too few or too many classes, over a size limit.
    """
    if not MIN_TEST_FRACTION <= float(test_fraction) <= MAX_TEST_FRACTION:
        raise OwnDataError(f"test fraction {test_fraction!r} is out of range; use {MIN_TEST_FRACTION} to "
                           f"{MAX_TEST_FRACTION} (the share of each class held out for testing)")
    try:
        return _read_own_data(source, title, test_fraction, seed, progress)
    except OwnDataError:
        raise
    except _READ_ERRORS as exc:  # a zip's entry damaged past its headers, found as it is streamed
        raise OwnDataError(f"{_source_name(source)}: a file in it cannot be read ({_zip_problem(exc)})") from None


def _source_name(source: Any) -> str:
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    first = items[0] if items else "own data"
    return first[0] if isinstance(first, tuple) else Path(first).name


def _read_own_data(source: Any, title: str | None, test_fraction: float, seed: int,
                   progress: ProgressCallback | None) -> Dataset:
    given = _gather(source)
    given.entries = [e for e in given.entries if not (len(e.parts) == 1 and _DOCUMENTS.search(e.parts[0]))]
    if not given.entries:
        raise OwnDataError(f"{given.title}: empty: no files found. Give a CSV file, a pair of IDX files, or a folder "
                           "or zip of images with one subfolder per class")
    in_folders = any(len(entry.parts) > 1 for entry in given.entries)
    has_images = any(entry.suffix in IMAGE_EXTENSIONS for entry in given.entries)
    if in_folders or has_images:
        labelled, class_names, where = _read_image_tree(given, progress)
        kind = "images"
    else:
        labelled, class_names, where = _read_flat_files(given)
        kind = "CSV" if any(entry.suffix == ".csv" for entry in given.entries) else "IDX"
    return _assemble(labelled, class_names, where, title or given.title, kind, test_fraction, seed)


def _read_flat_files(given: _Given) -> tuple[dict[str, Split], tuple[str, ...] | None, dict[int, str]]:
    """CSV or IDX files (and maybe classes.txt): the sets they hold, by role ("all", or "train" and "test")."""
    names_file = [e for e in given.entries if e.parts[-1].lower() == CLASSES_FILE]
    data_files = [e for e in given.entries if e.parts[-1].lower() != CLASSES_FILE]
    class_names = _read_class_names(names_file[0]) if names_file else None
    csvs = [e for e in data_files if e.suffix == ".csv"]
    others = [e for e in data_files if e.suffix != ".csv"]
    if csvs and others:
        raise OwnDataError(f"{others[0].name} beside the CSV file {csvs[0].name}: give CSV files or IDX files, "
                           "not both")
    if not data_files:
        raise OwnDataError(f"{given.title}: no data files, only {CLASSES_FILE}: add a CSV file or IDX files")
    n_classes = MAX_CLASSES if class_names is None else len(class_names)
    where: dict[int, str] = {}
    if csvs:
        if len(csvs) > 2:
            raise OwnDataError(f"{len(csvs)} CSV files ({', '.join(e.name for e in csvs)}): give one (it is split "
                               "in two), or two named ...train...csv and ...test...csv")
        sets = {}
        for role, entry in _roles(csvs, "CSV").items():
            try:
                with entry.open() as stream:
                    sets[role] = read_csv_stream(entry.name, stream, n_classes, MAX_RECORDS, size_hint=entry.size)
            except MNISTFormatError as exc:
                raise OwnDataError(_with_hint(str(exc), class_names)) from None
            _check_records(entry.name, len(sets[role]))
            where[len(where)] = entry.name
        return sets, class_names, where
    kinds: dict[str, list[_Entry]] = {"images": [], "labels": []}
    for entry in others:
        kind = idx_kind(entry.name, entry.head(4096))
        if kind is None:
            raise OwnDataError(f"{entry.name}: neither a CSV file nor an IDX file (its first bytes are not an IDX "
                               "magic number); give the seed's CSV, MNIST-format IDX files, or images in class "
                               "folders")
        kinds[kind].append(entry)
    images, labels = kinds["images"], kinds["labels"]
    if len(images) != len(labels) or len(images) not in (1, 2):
        raise OwnDataError(f"{len(images)} IDX image file(s) and {len(labels)} label file(s): give a pair (images "
                           "and labels, split in two here), or two pairs named for train and test (t10k)")
    image_roles, label_roles = _roles(images, "IDX image"), _roles(labels, "IDX label")
    sets = {}
    for role in image_roles:
        image_entry, label_entry = image_roles[role], label_roles[role]
        try:
            pixels = parse_idx_images(image_entry.name, _read_idx(image_entry, _IDX_BYTES), max_bytes=_IDX_BYTES)
            digits = parse_idx_labels(label_entry.name, _read_idx(label_entry, _LABEL_BYTES), n_classes,
                                      max_bytes=_LABEL_BYTES)
        except MNISTFormatError as exc:
            raise OwnDataError(_with_hint(str(exc), class_names)) from None
        if len(pixels) != len(digits):
            raise OwnDataError(f"{image_entry.name} has {len(pixels):,} images but {label_entry.name} has "
                               f"{len(digits):,} labels: the two files do not belong together")
        _check_records(image_entry.name, len(pixels))
        sets[role] = Split(pixels, digits)
        where[len(where)] = image_entry.name
    return sets, class_names, where


def _read_idx(entry: _Entry, max_bytes: int) -> bytes:
    """An IDX file's bytes: an uncompressed one at most ``max_bytes`` (refused from its size, before reading),
    a gzipped one at most as large as an upload may be (it is unpacked in steps, up to ``max_bytes``)."""
    gzipped = entry.head(2) == b"\x1f\x8b"
    if not gzipped and entry.size > max_bytes:
        raise OwnDataError(f"{entry.name}: {entry.size:,} bytes, more than a dataset's IDX file may have here "
                           f"({max_bytes:,} bytes: {MAX_RECORDS:,} images at most)")
    return entry.read(MAX_TOTAL_MB * 2**20 if gzipped else max_bytes)


def _with_hint(message: str, class_names: tuple[str, ...] | None) -> str:
    if class_names is not None and "out of range" in message:
        return message + f" ({CLASSES_FILE} names {len(class_names)} classes)"
    return message


def _roles(entries: list[_Entry], what: str) -> dict[str, _Entry]:
    """One file is the whole set ("all"); two are told apart by "train" and "test"/"t10k" in their names."""
    if len(entries) == 1:
        return {"all": entries[0]}
    roles: dict[str, _Entry] = {}
    for entry in entries:
        lower = entry.parts[-1].lower()
        role = "test" if ("test" in lower or "t10k" in lower) else "train" if "train" in lower else None
        if role is None or role in roles:
            raise OwnDataError(f"two {what} files ({', '.join(e.name for e in entries)}), but their names do not say "
                               "which is the training set and which the test set: put 'train' in one name and "
                               "'test' in the other")
        roles[role] = entry
    return roles


def _read_class_names(entry: _Entry) -> tuple[str, ...]:
    text = entry.read(1 << 20)
    try:
        lines = text.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise OwnDataError(f"{entry.name}: not UTF-8 text; it should hold one class name a line") from None
    while lines and not lines[-1].strip():
        lines.pop()
    names = [line.strip() for line in lines]
    for number, class_name in enumerate(names, start=1):
        if not class_name or len(class_name) > MAX_CLASS_NAME:
            raise OwnDataError(f"{entry.name}: line {number} is {'empty' if not class_name else 'too long'}; each "
                               f"line names one class (1 to {MAX_CLASS_NAME} characters), label 0 first")
    if len(set(names)) != len(names):
        repeated = next(n for n in names if names.count(n) > 1)
        raise OwnDataError(f"{entry.name}: the class name {repeated!r} appears twice")
    if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise OwnDataError(f"{entry.name}: {len(names)} class names; a dataset has {MIN_CLASSES} to "
                           f"{MAX_CLASSES} classes")
    return tuple(names)


def _check_records(name: str, count: int) -> None:
    if count > MAX_RECORDS:
        raise OwnDataError(f"{name}: {count:,} images; a dataset here has at most {MAX_RECORDS:,}")


def _natural_key(text: str) -> list:
    """Sort "2" before "10": digits compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", text)]


def _read_image_tree(given: _Given, progress: ProgressCallback | None
                     ) -> tuple[dict[str, Split], tuple[str, ...], dict[int, str]]:
    """Images in class folders (optionally below train/ and test/): each decoded and made 28x28."""

    # A zip of one folder holding everything ("digits/cat/1.png"): that folder is the root, and a README in
    # it is beside the data, not in a class
    tops = {entry.parts[0] for entry in given.entries}
    if len(tops) == 1 and any(len(entry.parts) > 2 for entry in given.entries):
        given.entries = [e for e in given.entries if not (len(e.parts) == 2 and _DOCUMENTS.search(e.parts[1]))]
    parts_of = [entry.parts for entry in given.entries]
    folders = set(given.folders)
    while parts_of and all(len(p) > 2 for p in parts_of) and len({p[0] for p in parts_of}) == 1 \
            and {f[0] for f in folders} <= {parts_of[0][0]}:
        top = parts_of[0][0]
        if top.lower() in _SPLIT_FOLDERS:
            break
        parts_of = [p[1:] for p in parts_of]
        folders = {f[1:] for f in folders if len(f) > 1}
    # In a fixed order (natural, by path), so the same images give the same dataset, and key, however given
    entries = sorted((_Entry(parts, e.size, e.read_bytes, e.open) for parts, e in zip(parts_of, given.entries)),
                     key=lambda e: [_natural_key(part) for part in e.parts])
    for entry in entries:
        if entry.suffix not in IMAGE_EXTENSIONS:
            raise OwnDataError(f"{entry.name} is not an image (PNG, JPEG, GIF, BMP, TIFF or WebP are read, by their "
                               "file name's ending): remove it from the class folders")
        if len(entry.parts) == 1:
            raise OwnDataError(f"{entry.name} is not in a class folder: put every image in a folder named after "
                               "its class (cat/1.png, dog/2.png)")
    if len(entries) > MAX_IMAGE_FILES:
        raise OwnDataError(f"{given.title}: {len(entries):,} images; at most {MAX_IMAGE_FILES:,} image files are read "
                           "here")
    # Folders that hold nothing at all: an empty class (its images forgotten, most likely)
    holding = {entry.parts[:i] for entry in entries for i in range(1, len(entry.parts))}
    for folder in sorted(folders - holding):
        raise OwnDataError(f"the folder {'/'.join(folder)} is empty: put the images of its class in it, or remove it")

    def split_of(parts: tuple[str, ...]) -> str | None:
        roles = {_SPLIT_FOLDERS[p.lower()] for p in parts[:-2] if p.lower() in _SPLIT_FOLDERS}
        return roles.pop() if len(roles) == 1 else None

    splits = {split_of(entry.parts) for entry in entries}
    if len(splits) > 1:
        stray = next(e for e in entries if split_of(e.parts) is None) if None in splits else None
        if stray is not None:
            raise OwnDataError(f"{stray.name} is in neither the train nor the test folder: with train/ and test/ "
                               "folders, every class folder goes inside one of them")
    class_names = tuple(sorted({entry.parts[-2] for entry in entries}, key=_natural_key))
    for class_name in class_names:
        if len(class_name) > MAX_CLASS_NAME:
            raise OwnDataError(f"the class folder {class_name!r} has a name of {len(class_name)} characters; use at "
                               f"most {MAX_CLASS_NAME}")
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.array([index[entry.parts[-2]] for entry in entries], np.int64)
    role_of = np.array([split_of(entry.parts) or "all" for entry in entries])
    where = {i: ", ".join(sorted({"/".join(e.parts[:-1]) for e in entries if e.parts[-2] == class_name}))
             for i, class_name in enumerate(class_names)}
    # the classes and their counts are known from the file names: checked before a minute of decoding
    _check_classes(given.title, class_names, np.bincount(labels, minlength=len(class_names)),
                   np.bincount(labels[role_of == "test"], minlength=len(class_names)) if "test" in role_of else None,
                   lambda i: f" (folder {where[i]})")
    pixels = np.empty((len(entries), N_PIXELS), np.uint8)
    for number, entry in enumerate(entries):
        data = io.BytesIO(entry.read(MAX_IMAGE_BYTES))
        data.name = entry.name  # ann.data.preprocess names the file in its messages
        try:
            pixels[number] = to_mnist(load_image(data)).reshape(N_PIXELS)
        except NoDigitError:
            raise OwnDataError(f"{entry.name}: nothing stands out from the background (a blank image?): remove it, "
                               "or give the picture more contrast") from None
        except ImageError as exc:
            raise OwnDataError(str(exc)) from None
        if progress is not None:
            progress(number + 1, len(entries))
    sets = {role: Split(pixels[role_of == role], labels[role_of == role])
            for role in (sorted(s for s in splits if s is not None) or ["all"])}
    return sets, class_names, where


def split_seeded(split: Split, n_classes: int, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
                 ) -> tuple[Split, Split]:
    """Split one set in two, stratified: ``round(n_c * test_fraction)`` images of each class c (at least one)
    are drawn at random for the test set; both sets are then shuffled. The same seed gives the same split.

    Returns
    -------
    (train, test) : Split, Split
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(split.labels)
    test_parts = []
    for label in range(n_classes):
        members = np.flatnonzero(labels == label)
        if len(members):
            take = max(1, round(len(members) * test_fraction))
            test_parts.append(rng.permutation(members)[:take])
    test_index = np.concatenate(test_parts) if test_parts else np.zeros(0, np.int64)
    is_test = np.zeros(len(labels), bool)
    is_test[test_index] = True
    train_index = rng.permutation(np.flatnonzero(~is_test))
    test_index = rng.permutation(test_index)
    return (Split(np.asarray(split.images)[train_index], labels[train_index]),
            Split(np.asarray(split.images)[test_index], labels[test_index]))


def _shuffled(split: Split, seed: int) -> Split:
    order = np.random.default_rng(seed).permutation(len(split))
    return Split(np.asarray(split.images)[order], np.asarray(split.labels)[order])


def _assemble(sets: dict[str, Split], class_names: tuple[str, ...] | None, where: dict[int, str], title: str,
              kind: str, test_fraction: float, seed: int) -> Dataset:
    """Check classes and counts, split or shuffle as needed, and make the Dataset (keyed by its content)."""
    if class_names is None:  # CSV or IDX without classes.txt: the labels name the classes
        top = max(int(s.labels.max()) for s in sets.values() if len(s))
        class_names = tuple(str(i) for i in range(top + 1))
    n = len(class_names)
    total = sum(len(s) for s in sets.values())
    if total > MAX_RECORDS:
        raise OwnDataError(f"{title}: {total:,} images; a dataset here has at most {MAX_RECORDS:,}")
    _check_classes(title, class_names, sum(np.bincount(s.labels, minlength=n) for s in sets.values()),
                   np.bincount(sets["test"].labels, minlength=n) if "test" in sets else None,
                   (lambda i: f" (folder {where[i]})") if kind == "images" else (lambda i: f" (label {i})"))
    if "all" in sets:
        train, test = split_seeded(sets["all"], n, test_fraction, seed)
        note = (f"{kind} from {title}; one set given, split with seed {seed}: {test_fraction:.0%} of each class "
                "held out for testing, both sets shuffled")
    else:
        train, test = sets["train"], sets["test"]
        if kind == "images":  # read class by class: in that order the seed's training would forget
            train, test = _shuffled(train, seed), _shuffled(test, seed + 1)
        note = f"{kind} from {title}; its own training and test sets" + (
            f" (shuffled with seed {seed})" if kind == "images" else "")
    for split in (train, test):
        split.images.flags.writeable = False
        split.labels.flags.writeable = False
    return Dataset(key=content_key(class_names, train, test), title=title[:200] or "own data",
                   class_names=class_names, train=train, test=test, digits=False, note=note)


def _check_classes(title: str, class_names: tuple[str, ...], counts: np.ndarray, test_counts: np.ndarray | None,
                   place: Callable[[int], str]) -> None:
    """2 to 62 classes, each with at least MIN_PER_CLASS images and (with a test set given) one to test on."""
    n = len(class_names)
    if n < MIN_CLASSES:
        raise OwnDataError(f"{title}: only one class ({class_names[0]!r}); a dataset needs {MIN_CLASSES} to "
                           f"{MAX_CLASSES} classes")
    if n > MAX_CLASSES:
        raise OwnDataError(f"{title}: {n} classes; at most {MAX_CLASSES} are read here")
    for i, class_name in enumerate(class_names):
        if counts[i] < MIN_PER_CLASS:
            what = "no images" if counts[i] == 0 else f"only {counts[i]} image{'s' if counts[i] > 1 else ''}"
            raise OwnDataError(f"class {class_name!r}{place(i)} has {what}; every class needs at least "
                               f"{MIN_PER_CLASS}: add images, or remove the class")
        if test_counts is not None and test_counts[i] == 0:
            raise OwnDataError(f"class {class_name!r}{place(i)} has no images in the test set: add some, or give one "
                               "set alone to have it split")


def content_key(class_names: tuple[str, ...], train: Split, test: Split) -> str:
    """``own-`` and the first 16 hex digits of the SHA-256 of the class names and the four arrays."""
    digest = hashlib.sha256(json.dumps(list(class_names)).encode())
    for array, dtype in ((train.images, np.uint8), (train.labels, np.int64), (test.images, np.uint8),
                         (test.labels, np.int64)):
        digest.update(np.ascontiguousarray(array, dtype=dtype).data)  # a view: no copy of the pixels
    return "own-" + digest.hexdigest()[:16]
