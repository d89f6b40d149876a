"""Seeded mutations of valid files for every reader of uploads and stored files, run in a limited child.

Each reader (model file, checkpoint, CSV, IDX pair, image, zip of class folders) gets a valid file, written
here, and ``cases`` mutations of it drawn from a seeded generator: a few bytes flipped, the file cut short,
a run of bytes repeated, and edits where the format keeps its structure (``.npy`` headers, the zip's headers,
an IDX header, a CSV's lines, an image's first bytes). Every mutation must give a valid result or one of the
app's own exceptions (:data:`CLEAR`): anything else is reported with its case number, type and first words.

``python tests/fuzz_readers.py READER CASES SEED [--limit-mb N]`` prints one JSON line: the outcomes counted,
the unexpected exceptions, the seconds, and the peak resident memory above the child's baseline (VmHWM, reset
at the start), with the address space limited to that baseline plus N MB (``RLIMIT_AS``), as
``tests/hostile_files.py``'s child does. tests/test_fuzz_readers.py runs it for each reader.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)
sys.path.insert(0, os.path.join(_REPO, "tests"))

import hostile_files as h  # noqa: E402 -- after the path: the writers of valid and hostile files

from ann.config import NetworkConfig, TrainConfig  # noqa: E402
from ann.data.csv_files import parse_csv  # noqa: E402
from ann.data.decode import ImageError, NoDigitError, load_image  # noqa: E402
from ann.data.own import OwnDataError, read_own_data  # noqa: E402
from ann.data.preprocess import to_mnist  # noqa: E402
from ann.data.split import MNISTFormatError  # noqa: E402
from ann.model_io import ModelFileError, load_model, model_to_bytes  # noqa: E402
from ann.network import Network  # noqa: E402
from ann.service.checkpoints import read_checkpoint_meta, read_resume, write_resume  # noqa: E402
from ann.service.records import CheckpointError, RunInfo  # noqa: E402

CLEAR = (ModelFileError, CheckpointError, MNISTFormatError, OwnDataError, ImageError, NoDigitError)
NETWORK = NetworkConfig(hidden_nodes=(16,))


# --------------------------------------------------------------------------- the valid files


def _model() -> bytes:
    return model_to_bytes(Network(NETWORK, seed=1))


def _checkpoint() -> bytes:
    """A run's resume.npz as the worker writes it (momentum included), for the 784-16-10 network."""
    network = Network(NETWORK, seed=1)
    x = np.random.default_rng(0).random((8, 784), np.float32)
    network.train(x, np.eye(10, dtype=np.float32)[np.arange(8) % 10] * 0.98 + 0.01, 0.1, momentum=0.9)
    run = _run_info()
    history = [{"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.5, "test_accuracy": 0.5, "seconds": 1.0,
                "samples_seen": 8, "learning_rate": 0.1}]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resume.npz"
        write_resume(path, network, np.random.default_rng(3), history, [], 0.1, run)
        return path.read_bytes()


def _run_info() -> RunInfo:
    from ann.dataset_tag import MNIST_TAG
    from ann.service.records import RunStatus, Source

    return RunInfo(id="0123456789abcdef", number=1, status=RunStatus.FINISHED, network_config=NETWORK,
                   train_config=TrainConfig(epochs=1), preset=None, records=8, dataset="mnist", source=Source.APP,
                   learning_rate=0.1, epochs_done=1, created=0.0, queued=None, started=None, ended=None,
                   heartbeat=None, progress_done=0, progress_total=0, epoch_seconds=0.0, train_seconds=1.0,
                   test_accuracy=0.5, best_accuracy=0.5, message=None, share=None, control="", worker=None,
                   disk_bytes=0, dataset_title=MNIST_TAG.title, class_names=MNIST_TAG.class_names)


def _records(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    images = (rng.random((n, 784)) < 0.2).astype(np.uint8) * rng.integers(0, 256, (n, 784), dtype=np.uint8)
    return images, np.arange(n) % 2


def _csv() -> bytes:
    images, labels = _records()
    rows = np.column_stack([labels, images])
    return "\n".join(",".join(map(str, row)) for row in rows).encode()


def _idx_pair() -> tuple[bytes, bytes]:
    images, labels = _records()
    head = np.array([2051, len(images), 28, 28], ">u4").tobytes()
    return head + images.tobytes(), np.array([2049, len(labels)], ">u4").tobytes() + labels.astype(np.uint8).tobytes()


def _image() -> bytes:
    return h.png_array(h.paper_digit(3, 60, 60))


def _class_zip() -> bytes:
    pictures = [h.png_array(h.paper_digit(d, 28, 28)) for d in (1, 7)]
    return h.zip_archive([h.Entry(f"{c}/{i}.png", pictures[k], stored=i % 2 == 0)
                          for k, c in enumerate(("one", "seven")) for i in range(10)])


# --------------------------------------------------------------------------- mutations


def _structure(data: bytes) -> list[int]:
    """Offsets where a format keeps its structure: .npy headers, zip headers, PNG chunks, line starts."""
    marks = [m.start() for pattern in (rb"\x93NUMPY", rb"PK\x03\x04", rb"PK\x01\x02", rb"PK\x05\x06", rb"IHDR",
                                       rb"IDAT", rb"\{'descr'", rb"'shape'")
             for m in re.finditer(pattern, data[:1 << 20])]
    return marks or [0]


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One seeded mutation of ``data``."""
    out = bytearray(data)
    kind = rng.integers(7)
    if kind == 0:  # a few bytes anywhere
        for _ in range(rng.integers(1, 9)):
            out[rng.integers(len(out))] = rng.integers(256)
    elif kind == 1:  # cut short
        del out[rng.integers(len(out)):]
    elif kind == 2:  # a few bytes near a structure (a header, a signature, a size)
        marks = _structure(data)
        for _ in range(rng.integers(1, 5)):
            at = min(len(out) - 1, marks[rng.integers(len(marks))] + int(rng.integers(0, 96)))
            out[at] = rng.integers(256)
    elif kind == 3:  # a digit in a header made larger (a shape, a count, a size)
        marks = _structure(data)
        at = marks[rng.integers(len(marks))]
        window = out[at:at + 128]
        digits = [i for i, b in enumerate(window) if 48 <= b <= 57]
        if digits:
            i = at + digits[rng.integers(len(digits))]
            out[i:i + 1] = b"9" * int(rng.integers(1, 12))
        else:
            out[at + 8 if at + 8 < len(out) else 0] = 0xFF
    elif kind == 4:  # a character of a header's syntax removed or doubled (parentheses, quotes, colons)
        syntax = [i for i in range(min(len(out), 1 << 16)) if out[i] in b"(){}[]',:"]
        if syntax:
            i = syntax[rng.integers(len(syntax))]
            out[i:i + 1] = b"" if rng.integers(2) else bytes([out[i]]) * 2
    elif kind == 5:  # a run of bytes repeated
        start = int(rng.integers(len(out)))
        piece = out[start:start + int(rng.integers(1, 4096))]
        out[start:start] = piece * int(rng.integers(1, 64))
    else:  # four bytes set to a large or a negative number, as sizes and counts are stored
        at = int(rng.integers(max(1, len(out) - 4)))
        out[at:at + 4] = bytes(rng.choice([b"\xff\xff\xff\x7f", b"\xff\xff\xff\xff", b"\x00\x00\x00\x80",
                                           b"\x7f\xff\xff\xff"]))
    return bytes(out)


# --------------------------------------------------------------------------- the readers


def _read_checkpoint(data: bytes) -> object:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resume.npz"
        path.write_bytes(data)
        read_checkpoint_meta(path)
        return read_resume(path, NETWORK)


def _read_image(data: bytes) -> object:
    source = io.BytesIO(data)
    source.name = "upload.png"
    return to_mnist(load_image(source))


READERS = {
    # reader: (the valid file, what reads a mutation of it)
    "model": (_model, lambda data: load_model(data, "model.npz")),
    "checkpoint": (_checkpoint, _read_checkpoint),
    "csv": (_csv, lambda data: parse_csv("digits.csv", data, n_classes=62, max_records=1000)),
    "csv_dataset": (_csv, lambda data: read_own_data([("digits.csv", data)])),
    "idx_images": (lambda: _idx_pair()[0],
                   lambda data: read_own_data([("train-images-idx3-ubyte", data),
                                               ("train-labels-idx1-ubyte", _idx_pair()[1])])),
    "idx_labels": (lambda: _idx_pair()[1],
                   lambda data: read_own_data([("train-images-idx3-ubyte", _idx_pair()[0]),
                                               ("train-labels-idx1-ubyte", data)])),
    "image": (_image, _read_image),
    "zip": (_class_zip, lambda data: read_own_data([("digits.zip", data)])),
}


def fuzz(reader: str, cases: int, seed: int, limit_mb: float) -> dict:
    """Run ``cases`` mutations through ``reader`` in this process, its address space limited."""
    make, read = READERS[reader]
    valid = make()
    read(valid)  # the valid file reads (and every import and cache is in the baseline)
    rng = np.random.default_rng(seed)
    base = h._status()
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_AS, (int((base["VmSize"] + limit_mb) * 2**20),
                                            resource.getrlimit(resource.RLIMIT_AS)[1]))
    counts = {"ok": 0, "clear": 0}
    unexpected = []
    started = time.perf_counter()
    for case in range(cases):
        data = mutate(valid, rng)
        try:
            read(data)
            counts["ok"] += 1
        except CLEAR as exc:
            counts["clear"] += 1
            message = str(exc)
            if len(message) > 400 or "Traceback" in message:
                unexpected.append({"case": case, "type": type(exc).__name__, "long_message": message[:200]})
        except Exception as exc:  # noqa: BLE001 -- the finding: report it
            unexpected.append({"case": case, "type": type(exc).__name__, "message": str(exc)[:200]})
    return {"reader": reader, "cases": cases, "seed": seed, **counts, "unexpected": unexpected[:20],
            "unexpected_count": len(unexpected), "seconds": round(time.perf_counter() - started, 2),
            "peak_above_baseline_mb": round(h._status()["VmHWM"] - base["VmRSS"], 1)}


if __name__ == "__main__":
    arguments = sys.argv[1:]
    limit = 768.0
    if "--limit-mb" in arguments:
        at = arguments.index("--limit-mb")
        limit = float(arguments[at + 1])
        del arguments[at:at + 2]
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    print(json.dumps(fuzz(arguments[0], int(arguments[1]), int(arguments[2]), limit)))
