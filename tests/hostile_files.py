"""Hostile and awkward uploads, written on the fly (nothing is stored), and a child process that measures them.

Writers (each returns the file's bytes):

- model files: :func:`model_npz` writes an .npz entry by entry, any entry possibly a *bomb*: an ``.npy``
  header announcing a huge array followed by that many zero bytes, deflated. Zeros are compressed once (a
  16 MB block) and the compressed block repeated, so a 3.6 GB array costs a few MB and well under a second
  to write; the CRC is the real one, so the file is a valid zip that NumPy itself would unpack.
  :func:`zip_archive` writes any list of entries (duplicates, nested zips, thousands of entries, ZIP64).
- images: :func:`png_blank` (a PNG bomb of any size, valid to the last checksum), :func:`png_array` (8- or
  16-bit grey, grey+alpha, RGB or RGBA from an array), :func:`paper_digit` and :func:`phone_photo` (a digit
  written on lit, grainy paper, at a phone's 12 MP, stored rotated with the EXIF orientation that turns it
  upright), :func:`patch_jpeg_size` (a JPEG whose header claims another size).

The child: ``python tests/hostile_files.py KIND PATH [--limit-mb N]`` (:func:`run_child`) imports ann (one
BLAS thread, like the app), measures its own baseline, limits its address space with ``RLIMIT_AS`` to that
baseline plus N MB, runs the file through ann as KIND (``image``: ``ann.data.preprocess.prepare`` and the shipped
network's reading; ``model``: ``ann.model_io.load_model``; ``model_info``: ``read_model_info``; ``own_data``:
``ann.data.own.read_own_data`` (a zip of class folders, or of IDX files); the
``reference_*`` kinds run the code as it was before issue #13, for the bench) and prints one JSON line: the
outcome, the message or the answer, the peak resident memory above the baseline (VmHWM, reset at the start),
and the seconds. :class:`Forker` does the same in a child forked for each file from one interpreter that has
imported ann once (milliseconds a case instead of half a second). bench/upload_memory.py uses fresh
interpreters; tests/test_hostile_inputs.py forks.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import sys
import zlib
from dataclasses import asdict, dataclass

import numpy as np

ZERO_BLOCK = 1 << 24  # 16 MB of zeros, compressed once and repeated
MODEL_FORMAT = {"format": "ann-explorer-model", "format_version": 1}

# Single strokes as fractions of the digit's box (the shapes bench/app_perf.py draws on the canvas, which the
# shipped network reads as drawn).
DIGIT_STROKES = {
    1: [[(0.5, 0.1), (0.5, 0.9)]],
    2: [[(0.2, 0.3), (0.35, 0.12), (0.65, 0.12), (0.8, 0.3), (0.7, 0.5), (0.2, 0.88), (0.82, 0.88)]],
    3: [[(0.2, 0.15), (0.75, 0.15), (0.45, 0.47), (0.78, 0.62), (0.65, 0.86), (0.2, 0.84)]],
    4: [[(0.65, 0.9), (0.65, 0.1), (0.18, 0.65), (0.85, 0.65)]],
    7: [[(0.18, 0.15), (0.82, 0.15), (0.42, 0.9)]],
}


# --------------------------------------------------------------------------- deflate, zip and .npy


def deflate_zeros_then(prefix: bytes, zeros: int, suffix: bytes = b"", fill: bytes = b"\0"
                       ) -> tuple[bytes, int, int]:
    """A raw deflate stream of ``prefix``, ``zeros`` bytes of ``fill`` repeated (zeros by default), then
    ``suffix``: (compressed, crc32, uncompressed size).

    Each part comes from its own compressor ended by a full flush (no reference to earlier data), so the
    compressed 16 MB block of zeros can be repeated as it is; only the last part is final.
    """
    parts, crc = [], zlib.crc32(prefix)
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts.append(head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH))
    pattern = fill * (ZERO_BLOCK // len(fill))  # a whole number of fills
    block = pattern[:min(len(pattern), zeros)]
    if zeros:
        zipper = zlib.compressobj(9, zlib.DEFLATED, -15)
        segment = zipper.compress(block) + zipper.flush(zlib.Z_FULL_FLUSH)
        full, rest = divmod(zeros, len(block))
        parts.extend([segment] * full)
        for _ in range(full):
            crc = zlib.crc32(block, crc)
    else:
        rest = 0
    tail = pattern[:rest] + suffix
    crc = zlib.crc32(tail, crc)
    ender = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts.append(ender.compress(tail) + ender.flush())
    return b"".join(parts), crc, len(prefix) + zeros + len(suffix)


@dataclass
class Entry:
    """One zip entry: ``data`` followed by ``zeros`` zero bytes, deflated (or stored)."""

    name: str
    data: bytes = b""
    zeros: int = 0
    stored: bool = False
    fill: bytes = b"\0"  # what the ``zeros`` bytes are made of, repeated (a whole number of times)
    size_claimed: int | None = None  # a lie in the headers about the unpacked size


def zip_archive(entries: list[Entry], zip64_end: bool = False) -> bytes:
    """A zip file of ``entries`` (names may repeat), written by hand: local headers, data, the table of
    contents and the end record (preceded by ZIP64 end records if ``zip64_end``). Sizes must stay below
    4 GB."""
    out, directory = io.BytesIO(), []
    for entry in entries:
        name = entry.name.encode()
        if entry.stored:
            payload = entry.data + (entry.fill * (entry.zeros // len(entry.fill) + 1))[:entry.zeros]
            crc, size, method = zlib.crc32(payload), len(payload), 0
        else:
            payload, crc, size = deflate_zeros_then(entry.data, entry.zeros, fill=entry.fill)
            method = 8
        size = entry.size_claimed if entry.size_claimed is not None else size
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(payload), size,
                              len(name), 0) + name)
        out.write(payload)
        directory.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc,
                                     len(payload), size, len(name), 0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    out.write(b"".join(directory))
    size = out.tell() - start
    if zip64_end:
        end64 = out.tell()
        out.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, len(entries), len(entries), size,
                              start))
        out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end64, 1))
    count = min(len(entries), 0xFFFF)  # more entries need the ZIP64 records; zipfile reads on regardless
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0))
    return out.getvalue()


def npy_header(descr: str, shape: tuple[int, ...], fortran_order: bool = False) -> bytes:
    """An .npy version 1.0 header, exactly as NumPy writes it (padded so the data starts 64-byte aligned)."""
    text = repr({"descr": descr, "fortran_order": fortran_order, "shape": tuple(shape)})
    padding = 64 - (10 + len(text) + 1) % 64
    text = text + " " * (padding % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def npy_entry(name: str, array: np.ndarray | None = None, descr: str | None = None,
              shape: tuple[int, ...] | None = None) -> Entry:
    """An .npy entry: a real ``array``, or a bomb of zeros announced as ``descr`` and ``shape``."""
    if array is not None:
        array = np.ascontiguousarray(array)
        return Entry(f"{name}.npy", npy_header(np.lib.format.dtype_to_descr(array.dtype), array.shape)
                     + array.tobytes())
    nbytes = math.prod(shape) * np.dtype(descr).itemsize
    return Entry(f"{name}.npy", npy_header(descr, shape), zeros=nbytes)


def meta_entry(meta: dict | str, chars: int | None = None) -> Entry:
    """The ``meta`` entry: JSON text as a 0-d unicode array, announced as ``chars`` characters (padded with
    zeros, which NumPy reads as the end of the string)."""
    text = meta if isinstance(meta, str) else json.dumps(meta)
    chars = chars or max(1, len(text))
    data = text.encode("utf-32-le")
    return Entry("meta.npy", npy_header(f"<U{chars}", ()) + data, zeros=4 * chars - len(data))


def model_meta(**network) -> dict:
    """A valid ``meta`` for a network configuration given as NetworkConfig fields."""
    from ann.config import NetworkConfig

    config = asdict(NetworkConfig(**network))
    config["hidden_nodes"] = list(config["hidden_nodes"])
    return {**MODEL_FORMAT, "network": config, "train": None, "history": [], "info": {}}


def model_npz(meta: dict | str | Entry, *entries: Entry, zip64_end: bool = False) -> bytes:
    """A model file: ``meta`` then the given .npy entries."""
    first = meta if isinstance(meta, Entry) else meta_entry(meta)
    return zip_archive([first, *entries], zip64_end=zip64_end)


def seed_model_entries(hidden: int = 200, rng_seed: int = 0) -> list[Entry]:
    """Real float32 weights for a 784-hidden-10 network (random, finite)."""
    rng = np.random.default_rng(rng_seed)
    return [npy_entry("weights_0", rng.normal(0, 0.05, (hidden, 784)).astype(np.float32)),
            npy_entry("weights_1", rng.normal(0, 0.1, (10, hidden)).astype(np.float32))]


# --------------------------------------------------------------------------- PNG


def gzip_zeros_then(prefix: bytes, zeros: int) -> bytes:
    """A gzip file of ``prefix`` then ``zeros`` zero bytes (the deflate trick of :func:`deflate_zeros_then`)."""
    body, crc, size = deflate_zeros_then(prefix, zeros)
    return b"\x1f\x8b\x08\x00" + bytes(4) + b"\x02\xff" + body + struct.pack("<2L", crc, size & 0xFFFFFFFF)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">L", len(body)) + kind + body + struct.pack(">L", zlib.crc32(kind + body))


_PNG_COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)


def _png(width: int, height: int, channels: int, bit_depth: int, idat: bytes) -> bytes:
    header = struct.pack(">2L5B", width, height, bit_depth, _PNG_COLOUR[channels], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_blank(width: int, height: int, channels: int = 4, value: int = 0) -> bytes:
    """A blank PNG of any size, every pixel byte ``value`` (0: transparent black in RGBA), 8 bits per
    channel: a decompression bomb of a few KB per 16 megapixels, valid to its last checksum."""
    row = b"\x00" + bytes([value]) * (width * channels)  # filter type 0, then the pixels
    rows_per_block = max(1, ZERO_BLOCK // len(row))
    block = row * min(rows_per_block, height)
    full, rest = divmod(height, len(block) // len(row))
    zipper = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = zipper.compress(block) + zipper.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(full):
        adler = zlib.adler32(block, adler)
    tail = row * rest
    adler = zlib.adler32(tail, adler)
    ender = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = b"\x78\xda" + segment * full + ender.compress(tail) + ender.flush() + struct.pack(">L", adler)
    return _png(width, height, channels, 8, stream)


def png_array(pixels: np.ndarray) -> bytes:
    """A PNG of ``pixels``: (h, w) grey or (h, w, 2|3|4), uint8 or uint16 (written as 16 bits)."""
    pixels = np.asarray(pixels)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    bit_depth = 16 if pixels.dtype == np.uint16 else 8
    raw = pixels.astype(">u2" if bit_depth == 16 else np.uint8).reshape(pixels.shape[0], -1)
    rows = np.concatenate([np.zeros((raw.shape[0], 1), np.uint8), raw.view(np.uint8)], axis=1)
    return _png(pixels.shape[1], pixels.shape[0], channels, bit_depth, zlib.compress(rows.tobytes(), 6))


# --------------------------------------------------------------------------- photos of digits


def paper_digit(digit: int, width: int, height: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Dark ink on lit paper: (height, width) uint8, the digit's box a third of the shorter side, centred;
    the paper 190..205 in a gentle gradient (a lamp on one side), plus grain of ``noise`` grey levels."""
    from PIL import Image, ImageDraw

    side = min(width, height) // 3
    left, top = (width - side * 3 // 4) // 2, (height - side) // 2
    ink = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(ink)
    stroke = max(2, side // 11)
    for line in DIGIT_STROKES[digit]:
        points = [(left + fx * side * 3 / 4, top + fy * side) for fx, fy in line]
        draw.line(points, fill=255, width=stroke, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - stroke / 2, y - stroke / 2, x + stroke / 2, y + stroke / 2), fill=255)
    paper = np.linspace(205, 190, width, dtype=np.float32)[None, :]
    page = paper - (paper - 45.0) * (np.asarray(ink, dtype=np.float32) / 255.0)
    if noise:
        rng = np.random.default_rng(seed)
        page += rng.normal(0.0, noise, size=page.shape).astype(np.float32)
    return np.clip(page, 0, 255).astype(np.uint8)


# What to store so that the EXIF orientation's transpose (as viewers and PIL.ImageOps.exif_transpose apply
# it) shows the picture upright: the inverse of each orientation's transpose.
_STORE_FOR_ORIENTATION = {1: None, 2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
                          6: "ROTATE_90", 7: "TRANSVERSE", 8: "ROTATE_270"}


def phone_photo(digit: int, width: int = 4032, height: int = 3024, orientation: int = 1, noise: float = 0.0,
                progressive: bool = False, mode: str = "RGB", quality: int = 90) -> bytes:
    """A JPEG photo of a digit on paper as a phone stores it: ``width`` x ``height`` pixels as the sensor
    reads them, with the EXIF ``orientation`` that turns them upright for viewing (6: the phone held
    upright, the usual case; 5 to 8 show the picture ``height`` wide and ``width`` tall)."""
    from PIL import Image

    turned = orientation in (5, 6, 7, 8)
    upright = Image.fromarray(paper_digit(digit, height if turned else width, width if turned else height, noise))
    if mode == "RGB":  # paper is a little warm under a lamp
        grey = np.asarray(upright, dtype=np.float32)
        upright = Image.fromarray(np.clip(np.stack([grey * 1.02, grey, grey * 0.93], axis=2), 0, 255)
                                  .astype(np.uint8))
    elif mode != "L":
        upright = upright.convert(mode)
    method = _STORE_FOR_ORIENTATION[orientation]
    stored = upright.transpose(getattr(Image.Transpose, method)) if method else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif.tobytes(), quality=quality, progressive=progressive)
    return buffer.getvalue()


def patch_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header (SOF0 or SOF2) claiming ``width`` x ``height`` (a JPEG bomb's header:
    Pillow's open() believes it; decoding would allocate for it)."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at >= 0:
            return data[:at + 5] + struct.pack(">2H", height, width) + data[at + 9:]
    raise ValueError("no baseline or progressive frame header found")


# --------------------------------------------------------------------------- the measuring child


def _status() -> dict[str, float]:
    """VmSize, VmHWM and VmRSS of this process in MB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmSize", "VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0]) / 1024
    return values


def _reference_image(path: str):
    """The image path as it was before issue #13: imageio decodes the whole frame, float64 from there."""
    import imageio.v3 as iio

    from ann.data import decode, preprocess

    pixels = iio.imread(path, plugin="pillow", index=0, rotate=True)
    return preprocess.to_mnist(decode._channels_to_grey(pixels))


def _reference_model(path: str):
    """The model path as it was before issue #13: np.load unpacks every entry before anything is checked."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return {key: list(value.shape) for key, value in arrays.items()}


def _imported():
    """Import what the cases use (so that imports are part of the baseline, not of a case) and return the
    shipped network, which reads the digits."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from PIL import Image

    from ann import model_io
    from ann.data import own  # noqa: F401 -- imported for the baseline

    Image.init()  # every Pillow plugin imported now, not inside the measurement
    network = model_io.load_model(os.path.join(_REPO, "data", "pretrained.npz")).network
    network.query(np.zeros((1, 784), np.float32))
    return network


def _measure(kind: str, path: str, limit_mb: float, network) -> dict:
    """Run one file through ann in this process, its address space limited to the baseline + ``limit_mb``."""
    import resource
    import time

    from ann import model_io
    from ann.data import own, prepare

    base = _status()
    try:  # Linux: "5" resets VmHWM to the current VmRSS, so the peak measured is this case's own
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass
    limit = int((base["VmSize"] + limit_mb) * 2**20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    result = {"kind": kind, "file_bytes": os.path.getsize(path), "baseline_vmsize_mb": round(base["VmSize"], 1),
              "address_space_limit_mb": round(limit / 2**20, 1)}
    started = time.perf_counter()
    try:
        if kind in ("image", "reference_image"):
            image = prepare.prepare(path)[1] if kind == "image" else _reference_image(path)
            x = (image.reshape(1, 784) / 255.0 * 0.99 + 0.01).astype(np.float32)
            outputs = network.query(x)[0]
            result.update(outcome="ok", digit=int(np.argmax(outputs)), output=round(float(outputs.max()), 3),
                          image=image.tolist())
        elif kind in ("model", "model_info"):
            loaded = (model_io.load_model if kind == "model" else model_io.read_model_info)(path)
            config = loaded.network.config if kind == "model" else loaded["network"]
            result.update(outcome="ok", layers=list(config.layer_sizes))
        elif kind == "own_data":
            data = own.read_own_data(path)
            result.update(outcome="ok", classes=list(data.class_names), train=len(data.train), test=len(data.test))
        elif kind == "reference_model":
            result.update(outcome="ok", arrays=_reference_model(path))
        else:
            raise SystemExit(f"unknown kind {kind!r}")
    except MemoryError:
        result.update(outcome="MemoryError")
    except Exception as exc:  # noqa: BLE001 -- the verdict is the caller's: report what was raised
        result.update(outcome="error", error=type(exc).__name__, message=str(exc))
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["peak_above_baseline_mb"] = round(_status()["VmHWM"] - base["VmRSS"], 1)
    return result


def _child_env() -> dict[str, str]:
    return dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=_REPO)


def run_child(kind: str, path: str | os.PathLike, limit_mb: float = 768.0, timeout: float = 120.0) -> dict:
    """Run ``kind`` on ``path`` in a new interpreter (address space limited to its baseline + ``limit_mb``)
    and return its JSON result; a child killed or crashed is reported as ``outcome`` "crashed"."""
    import subprocess

    done = subprocess.run([sys.executable, __file__, kind, str(path), "--limit-mb", str(limit_mb)],
                          capture_output=True, text=True, env=_child_env(), timeout=timeout, cwd=_REPO, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"kind": kind, "outcome": "crashed", "returncode": done.returncode, "stderr": done.stderr[-2000:]}
    return json.loads(lines[-1])


_PEAK_AT_EXIT = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    with open(os.environ["ANN_TEST_PEAK_FILE"], "w") as out:
        out.write(hwm.split()[1])
atexit.register(_peak)
sys.argv = ["python -m ann", *sys.argv[1:]]
runpy.run_module("ann", run_name="__main__", alter_sys=True)
"""


def run_cli(args: list[str], cwd: str | os.PathLike, env: dict[str, str] | None = None,
            timeout: float = 300.0) -> dict:
    """``python -m ann ARGS`` as a person runs it: its exit code, stdout, stderr, and its peak resident memory
    in MB (its own VmHWM, read as it exits: the whole process, imports included, so subtract a baseline run's).
    Not ``ru_maxrss``: that keeps the high-water mark of the forking parent (pytest's, here) across exec."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        peak_file = os.path.join(folder, "peak")
        done = subprocess.run([sys.executable, "-c", _PEAK_AT_EXIT, *args], cwd=cwd, capture_output=True, text=True,
                              env={**_child_env(), **(env or {}), "ANN_TEST_PEAK_FILE": peak_file},
                              timeout=timeout, check=False)
        with open(peak_file) as peak:
            peak_mb = int(peak.read()) / 1024
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "peak_mb": round(peak_mb, 1)}


class Forker:
    """One interpreter that imports ann once and forks a fresh child for each file: a fork costs a few
    milliseconds, a new interpreter with NumPy, SciPy and Pillow about half a second. Each child measures
    its own baseline and limits its own address space, exactly as :func:`run_child`'s does."""

    def __init__(self) -> None:
        import subprocess

        self.process = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, env=_child_env(), cwd=_REPO)

    def run(self, kind: str, path: str | os.PathLike, limit_mb: float = 768.0, timeout: float = 120.0) -> dict:
        import select

        self.process.stdin.write(f"{kind}\t{path}\t{limit_mb}\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.close()
            raise TimeoutError(f"{kind} {path}: no answer within {timeout} s")
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except Exception:  # noqa: BLE001 -- stuck: stop it, by its own PID
                self.process.kill()
                self.process.wait()


def _serve() -> None:
    """The forking server behind :class:`Forker`: one request per line on stdin, one JSON line back."""
    network = _imported()
    for line in sys.stdin:
        kind, path, limit_mb = line.rstrip("\n").split("\t")
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                print(json.dumps(_measure(kind, path, float(limit_mb), network)), flush=True)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if status != 0:  # killed by a signal, or died without its line
            print(json.dumps({"kind": kind, "outcome": "crashed", "wait_status": status}), flush=True)


_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__":
    sys.path.insert(0, _REPO)
    arguments = sys.argv[1:]
    if arguments == ["--serve"]:
        _serve()
        raise SystemExit(0)
    limit_mb = 768.0
    if "--limit-mb" in arguments:
        at = arguments.index("--limit-mb")
        limit_mb = float(arguments[at + 1])
        del arguments[at:at + 2]
    print(json.dumps(_measure(arguments[0], arguments[1], limit_mb, _imported())))
