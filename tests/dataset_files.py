"""Small datasets the tests write themselves: band images (learnable in one epoch), IDX and CSV files, and
folders of drawn shapes (one subfolder per class)."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import synthetic

from ann.data.idx import write_idx_images
from ann.data.split import Split

SHAPES = ("circle", "square", "cross", "triangle", "bar")


def band_set(n: int, n_classes: int = 10, seed: int = 0) -> Split:
    """``synthetic.band_set`` with every class equally often, as a Split: a network learns it in one epoch
    (100% measured on every set made here), so a test can tell a trained run from an untrained one."""
    images, labels = synthetic.band_set(n, seed, n_classes=n_classes, balanced=True)
    return Split(images, labels.astype(np.int64))


def write_idx_set(folder: Path, train: Split, test: Split, gz: bool = True) -> Path:
    """The four files of a set in MNIST's format, under MNIST's names."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for prefix, split in (("train", train), ("t10k", test)):
        write_idx_images(folder / f"{prefix}-images-idx3-ubyte{suffix}", split.images)
        _write_labels(folder / f"{prefix}-labels-idx1-ubyte{suffix}", split.labels)
    return folder


def _write_labels(path: Path, labels: np.ndarray) -> None:
    """IDX labels of any value 0-255 (ann.data's writer keeps to MNIST's 0-9)."""
    import struct

    raw = struct.pack(">II", 2049, len(labels)) + np.asarray(labels, np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw, mtime=0) if path.name.endswith(".gz") else raw)


def idx_bytes(split: Split, gz: bool = True) -> tuple[bytes, bytes]:
    """(images file, labels file) contents for a split."""
    import struct

    images = struct.pack(">IIII", 2051, len(split), 28, 28) + np.asarray(split.images, np.uint8).tobytes()
    labels = struct.pack(">II", 2049, len(split)) + np.asarray(split.labels, np.uint8).tobytes()
    if gz:
        return gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)
    return images, labels


def csv_bytes(split: Split, path: Path | None = None) -> bytes:
    """The seed's CSV for a split (labels may go beyond 9 here)."""
    rows = np.column_stack((np.asarray(split.labels), np.asarray(split.images, np.int64)))
    text = "\n".join(",".join(str(int(v)) for v in row) for row in rows).encode()
    if path is not None:
        path.write_bytes(text)
    return text


def shape_image(kind: str, size: int, rng: np.random.Generator, mode: str = "RGB") -> bytes:
    """A PNG or JPEG of a dark shape on a light background, of a given size, slightly jittered."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size + int(rng.integers(0, 9))), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    m = size // 5 + int(rng.integers(-2, 3))
    width = max(2, size // 10)
    ink = tuple(int(v) for v in rng.integers(0, 80, 3))
    if kind == "circle":
        draw.ellipse([m, m, size - m, size - m], outline=ink, width=width)
    elif kind == "square":
        draw.rectangle([m, m, size - m, size - m], outline=ink, width=width)
    elif kind == "cross":
        draw.line([m, m, size - m, size - m], fill=ink, width=width)
        draw.line([m, size - m, size - m, m], fill=ink, width=width)
    elif kind == "triangle":
        draw.polygon([(size // 2, m), (size - m, size - m), (m, size - m)], outline=ink, width=width)
    else:
        draw.rectangle([size // 2 - width, m, size // 2 + width, size - m], fill=ink)
    buffer = io.BytesIO()
    if mode == "JPEG":
        image.save(buffer, format="JPEG")
    else:
        (image if mode == "RGB" else image.convert(mode)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_shape_folder(root: Path, classes=SHAPES[:3], per_class: int = 12, seed: int = 0,
                       layout: str = "flat") -> Path:
    """A folder of one subfolder per class of drawn shapes, of mixed sizes, formats and colour modes;
    ``layout="split"`` puts the class folders inside train/ (three quarters) and test/ (the rest)."""
    rng = np.random.default_rng(seed)
    modes = ("RGB", "L", "RGBA", "P", "JPEG")
    for c, kind in enumerate(classes):
        for i in range(per_class):
            where = root
            if layout == "split":
                where = root / ("test" if i % 4 == 3 else "train")
            folder = where / kind
            folder.mkdir(parents=True, exist_ok=True)
            mode = modes[(i + c) % len(modes)]
            suffix = ".jpg" if mode == "JPEG" else ".png"
            (folder / f"{i}{suffix}").write_bytes(shape_image(kind, int(rng.integers(24, 90)), rng, mode))
    return root


def zip_folder(folder: Path, top: str | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip of a folder's files (below ``top/`` if given), plus extra entries (name: content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*"), reverse=True):  # an order unlike the folder's, on purpose
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.writestr(f"{top}/{name}" if top else name, path.read_bytes())
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()
