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
each is a :class:`Published` (its files, md5 sums, mirrors; ``ann.data.named`` keeps them), passed as
``source=``. :func:`parse_csv`, :func:`parse_idx_images` and :func:`parse_idx_labels` read a file's bytes (an
upload), in bounded memory, for ``ann.data.own``.

Arrays come out batches first: images ``uint8`` of shape ``(n, 784)`` and labels ``int64`` of
shape ``(n,)``. They are read-only, so a dashboard can share one loaded copy between users
without one of them changing it for the others.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ann.data.idx import decompress_idx, idx_images_from_bytes, idx_labels_from_bytes, is_gz
from ann.data.split import MNIST, ChecksumError, DownloadError, IDXFormatError, ProgressCallback, Split
from ann.files import atomic_write as _atomic_write
from ann.inputs import N_CLASSES, N_PIXELS
from ann.paths import DATA_DIR

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


@dataclass(frozen=True)
class Published:
    """A dataset published as MNIST's four IDX files: where to fetch them and how to check them.

    MNIST, Fashion-MNIST and Kuzushiji-MNIST all use the same four file names; ``ann.data.named`` keeps one
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


_DOWNLOAD_TIMEOUT = 30.0  # seconds without data before a mirror counts as unreachable
_DOWNLOAD_CHUNK = 1 << 16


# --------------------------------------------------------------------------- data folder


def default_data_dir() -> Path:
    """The folder MNIST is read from and downloaded to when no ``data_dir`` is given.

    ``$ANN_DATA_DIR`` if set, else ``data/`` at the project root (beside the ``ann`` package).
    """
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return _resolved(override)
    return DATA_DIR


@functools.lru_cache(maxsize=8)
def _resolved(folder: str) -> Path:
    """``folder`` made absolute, links followed: once per value (the dashboard asks several times a script run,
    and each resolve is a system call per part of the path)."""
    return Path(folder).expanduser().resolve()


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


# path -> ((size, mtime_ns), md5): a file's md5 is read again only when the file changed
_FILE_MD5: dict[str, tuple[tuple[int, int], str]] = {}


def _file_md5(path: Path) -> str:
    """``path``'s md5, remembered while its size and modification time stay the same: the dashboard asks for
    the status of the same four files on many visits, and reading and hashing them costs 25-60 ms each time."""
    stat = path.stat()
    seen = _FILE_MD5.get(str(path))
    if seen is not None and seen[0] == (stat.st_size, stat.st_mtime_ns):
        return seen[1]
    digest = _md5(path.read_bytes())
    _FILE_MD5[str(path)] = ((stat.st_size, stat.st_mtime_ns), digest)
    return digest


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

    Checks the md5 of present files (about 25 ms for all four of MNIST, then only of files whose size or
    modification time changed); never touches the network.

    Parameters
    ----------
    data_dir : path, optional
        The folder of the four files; default :func:`default_data_dir`.
    source : Published, default MNIST
        Which dataset's files to look for (``ann.data.named`` has the others).

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
        elif _file_md5(path) != source.expected_md5(path.name):
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
        Another dataset published in MNIST's format (Fashion-MNIST, Kuzushiji-MNIST: see ``ann.data.named``):
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
        images = idx_images_from_bytes(
            images_path.name,
            decompress_idx(images_path.name, _read_verified(images_path, verify, source), is_gz(images_path)),
        )
        labels = idx_labels_from_bytes(
            labels_path.name,
            decompress_idx(labels_path.name, _read_verified(labels_path, verify, source), is_gz(labels_path)),
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
    return DATA_DIR / "cache"


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
                reasons.append(f"{urllib.parse.urlsplit(mirror).netloc}: {failure}")
        else:
            # Offline, most likely: trying the other files would only repeat the same timeouts.
            raise DownloadError(
                f"Could not download {source.title} file {name} from any of its mirrors:\n  "
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


# What the resolver says when a host name cannot be looked up: offline, or no name server (glibc, macOS, Windows)
_LOOKUP_FAILED = re.compile(r"name resolution|name or service not known|nodename nor servname|getaddrinfo failed",
                            re.IGNORECASE)


def _describe(exc: BaseException) -> str:
    """Why a mirror failed, as a clause a person reads: no "[Errno -2]", no exception class names where a word
    will do."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"it answered HTTP {exc.code} {exc.reason}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror) or _LOOKUP_FAILED.search(str(reason)):
        return "its name could not be looked up (is this machine connected to the internet?)"
    if isinstance(reason, TimeoutError):
        return f"it did not answer within {_DOWNLOAD_TIMEOUT:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "it refused the connection"
    if isinstance(reason, ssl.SSLError):
        return f"no secure connection could be made ({reason.reason or reason})"
    text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
    text = re.sub(r"\[Errno -?\d+\]\s*", "", text).strip()
    return text[:1].lower() + text[1:] if text else type(reason).__name__
