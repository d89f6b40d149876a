"""Hostile uploads, each run through ann in a child whose address space is limited: the bound is proved.

Every case writes its own file (tests/hostile_files.py: bombs cost a few MB and well under a second to write)
and runs it in a fresh process (one BLAS thread, as the app runs) that imports ann, measures its baseline
address space, limits it with ``RLIMIT_AS`` to that baseline plus ``LIMIT_MB`` (about 1 GB in all), and
reports what ann said or answered and its peak resident memory above the baseline. Before issue #13 the
model bomb below peaked at 3.4 GB, the blank PNG at 1.05 GB and a 12 MP phone photo at 595 MB
(bench/upload_memory.py measures both in the same run): each would fail here.

Each case asserts its clear message or its right answer, that the child was neither killed nor out of
memory, and a peak within the bound stated in ann (with a margin over the peaks measured here, 2026-12, listed
per case in bench/README.md).
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import re
import struct
import sys
import zipfile

import hostile_files as h
import numpy as np
import pytest

from ann.data import prepare
from ann.data.decode import DECODED_LONG_SIDE, MAX_DECODE_BYTES

# The children read /proc/self/status and rely on RLIMIT_AS, which bounds memory on Linux only.
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's /proc and RLIMIT_AS")

LIMIT_MB = 768  # on top of the child's baseline (about 250 MB of address space): about 1 GB in all
SMALL_MB = 24  # a refusal made from headers and end records: measured 0-5 MB
DECODE_MB = MAX_DECODE_BYTES / 2**20 + 24  # an image decoded in full: at most its stated bound plus tiles


def _seed_meta(**network) -> dict:
    return h.model_meta(**network)


def _nested_model() -> bytes:
    inner = h.model_npz(_seed_meta(), *h.seed_model_entries())
    return h.model_npz(_seed_meta(), h.Entry("weights_0.npy", inner), h.seed_model_entries()[1])


def _object_array(values) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array(values, dtype=object), allow_pickle=True)
    return buffer.getvalue()


def _truncated_entry() -> bytes:
    """weights_0's header announces (200, 784) float32, the entry holds half of that: sizes consistent."""
    full = h.npy_entry("weights_0", np.zeros((200, 784), np.float32))
    return h.model_npz(_seed_meta(), h.Entry(full.name, full.data[:len(full.data) // 2]),
                       h.seed_model_entries()[1])


def _unclosed_header() -> h.Entry:
    """weights_0 whose .npy header lost the parenthesis closing its shape: NumPy's parser raises TokenError."""
    entry = h.seed_model_entries()[0]
    data = bytearray(entry.data)
    close = data.index(b")", data.index(b"'shape': ("))
    data[close:close + 1] = b" "
    return h.Entry(entry.name, bytes(data))


def _flipped_byte() -> bytes:
    """A good model file with one byte of weights_1's data changed: the CRC no longer matches."""
    data = bytearray(h.model_npz(_seed_meta(), *[h.Entry(e.name, e.data, stored=True)
                                                 for e in h.seed_model_entries()]))
    at = data.rfind(b"weights_1.npy") - 2000  # inside weights_1's stored data (8 KB), before the directory
    data[at] ^= 0xFF
    return bytes(data)


@functools.cache
def _issue_bomb() -> bytes:
    """The issue's model bomb: a valid 3.5 MB .npz whose weights_0 unpacks to 30000x30000 float32 (3.6 GB)."""
    return h.model_npz(_seed_meta(), h.npy_entry("weights_0", descr="<f4", shape=(30000, 30000)),
                       h.npy_entry("weights_1", descr="<f4", shape=(10, 200)))


@functools.cache
def _issue_photo() -> bytes:
    """A 12 MP phone photo of a 7 (4032x3024 from the sensor, EXIF orientation 6, grainy paper): 2.4 MB."""
    return h.phone_photo(7, 4032, 3024, orientation=6, noise=4)


# id: (bytes maker, expected message, peak bound in MB)
MODEL_REFUSALS = {
    "the issue's bomb: a compressed 30000x30000 weights_0": (
        _issue_bomb,
        r"weights_0 has shape \(30000, 30000\), but its configuration says \(200, 784\)", SMALL_MB),
    "a bomb its configuration agrees with (500 million weights)": (
        lambda: h.model_npz(_seed_meta(input_nodes=50_000, hidden_nodes=(10_000,)),
                            h.npy_entry("weights_0", descr="<f4", shape=(10_000, 50_000)),
                            h.npy_entry("weights_1", descr="<f4", shape=(10, 10_000))),
        r"50000-10000-10 network has 500,100,000 weights and biases; models of at most 16,000,000", SMALL_MB),
    "a configuration out of range": (
        lambda: h.model_npz(_seed_meta() | {"network": {"hidden_nodes": [30_000]}},
                            h.npy_entry("weights_0", descr="<f4", shape=(30_000, 784))),
        r"configuration is not valid \(hidden_nodes=30000 is out of range", SMALL_MB),
    "a meta of 200 million characters": (
        lambda: h.model_npz(h.meta_entry(_seed_meta(), chars=200_000_000), *h.seed_model_entries()),
        r"meta entry is 200,000,000 characters long", SMALL_MB),
    "a meta nested 200,000 lists deep": (
        lambda: h.model_npz("[" * 200_000 + "]" * 200_000, *h.seed_model_entries()),
        r"metadata is not JSON this program reads \(RecursionError\)", SMALL_MB),
    "a pickled object meta": (
        lambda: h.model_npz(h.Entry("meta.npy", _object_array([{"evil": 1}])), *h.seed_model_entries()),
        r"meta holds Python objects \(dtype object\), which are not read", SMALL_MB),
    "pickled object weights": (
        lambda: h.model_npz(_seed_meta(), h.Entry("weights_0.npy", _object_array([1.0] * 10)),
                            h.seed_model_entries()[1]),
        r"weights_0 holds Python objects", SMALL_MB),
    "structured weights": (
        lambda: h.model_npz(_seed_meta(), h.npy_entry("weights_0", np.zeros((200, 784), [("w", "<f4")])),
                            h.seed_model_entries()[1]),
        r"weights_0 holds \[\('w', '<f4'\)\] values; weights and biases are float16, float32 or float64",
        SMALL_MB),
    "an unknown entry": (
        lambda: h.model_npz(_seed_meta(), *h.seed_model_entries(), h.npy_entry("evil", np.zeros(3))),
        r"unexpected entries 'evil\.npy'; a model file holds only meta\.npy", SMALL_MB),
    "an entry twice": (
        lambda: h.model_npz(_seed_meta(), *h.seed_model_entries(), h.seed_model_entries()[0]),
        r"the entries \['weights_0\.npy'\] appear more than once", SMALL_MB),
    "60,000 entries": (
        lambda: h.zip_archive([h.Entry(f"{i}", stored=True) for i in range(60_000)]),
        r"a zip archive of 60,000 entries \([0-9,]+ bytes of table of contents\); a model file has at most 23",
        SMALL_MB),
    "a model file nested in weights_0": (
        _nested_model, r"its entry weights_0 is not a NumPy array", SMALL_MB),
    "a model file zipped again": (
        lambda: h.zip_archive([h.Entry("model.npz", h.model_npz(_seed_meta(), *h.seed_model_entries()))]),
        r"unexpected entries 'model\.npz'", SMALL_MB),
    "a file cut in half": (
        lambda: h.model_npz(_seed_meta(), *h.seed_model_entries())[:300_000],
        r"corrupt or truncated \.npz \(the end of its zip archive is missing\)", SMALL_MB),
    "an entry shorter than its header says": (
        _truncated_entry, r"weights_0 is damaged: its header announces 627,200 bytes", SMALL_MB),
    "a changed byte": (_flipped_byte, r"corrupt or truncated \.npz \(its data cannot be unpacked\); save it again$",
                       SMALL_MB),
    "an .npy header with an unclosed parenthesis": (
        lambda: h.model_npz(_seed_meta(), _unclosed_header(), h.seed_model_entries()[1]),
        r"upload\.npz: its entry weights_0 is not a NumPy array \(its header is malformed\)$", SMALL_MB),
    "an .npy header of 9 KB of nonsense": (
        lambda: h.model_npz(_seed_meta(), h.Entry("weights_0.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 9000)
                                                  + b"{'descr': '" + b"A" * 8980 + b"\n"),
                            h.seed_model_entries()[1]),
        r"upload\.npz: its entry weights_0 is not a NumPy array \(its header is malformed\)$", SMALL_MB),
    "a ZIP64 end record": (
        lambda: h.model_npz(_seed_meta(), *h.seed_model_entries(), zip64_end=True), r"a ZIP64 archive", SMALL_MB),
    "a PNG named .npz": (lambda: h.png_blank(10, 10), r"not a model file \(an \.npz saved by ANN Explorer", SMALL_MB),
    "weights that diverged": (
        lambda: h.model_npz(_seed_meta(), h.npy_entry("weights_0", np.full((200, 784), np.nan, np.float32)),
                            h.seed_model_entries()[1]),
        r"weights_0 holds NaN or infinite values", SMALL_MB),
}


@pytest.fixture(scope="module")
def forker():
    runner = h.Forker()
    yield runner
    runner.close()


@pytest.fixture
def run(forker, tmp_path):
    """Write ``data`` to a file and run it through ann as ``kind`` in a fresh, limited child."""
    def run_case(kind: str, data: bytes, suffix: str) -> dict:
        path = tmp_path / f"upload{suffix}"
        path.write_bytes(data)
        result = forker.run(kind, path, limit_mb=LIMIT_MB)
        assert result["outcome"] in ("ok", "error"), result  # not killed, not out of memory
        return result
    return run_case


@pytest.mark.parametrize("case", list(MODEL_REFUSALS))
def test_model_file_refused_with_a_clear_message(case, run, tmp_path):
    make, message, peak_mb = MODEL_REFUSALS[case]
    result = run("model", make(), ".npz")
    assert result["outcome"] == "error" and result["error"] == "ModelFileError", result
    assert re.search(message, result["message"]), result["message"]
    assert result["message"].startswith(str(tmp_path / "upload.npz")), result["message"]  # names the file
    assert result["peak_above_baseline_mb"] <= peak_mb, result


def test_model_info_refuses_the_bomb_too(run):
    _, message, _ = MODEL_REFUSALS["the issue's bomb: a compressed 30000x30000 weights_0"]
    result = run("model_info", _issue_bomb(), ".npz")
    assert result["outcome"] == "error" and re.search(message, result["message"]), result
    assert result["peak_above_baseline_mb"] <= SMALL_MB, result


def test_the_limit_is_real_the_code_before_13_runs_out_of_memory(forker, tmp_path):
    """The same children running the readers as they were before issue #13 (np.load of every entry; the
    whole frame decoded, float64 from there) on the issue's bombs: out of memory, so a regression to
    unbounded reading fails this suite instead of passing it by luck."""
    for kind, data, suffix in (("reference_model", _issue_bomb(), ".npz"),
                               ("reference_image", h.png_blank(3999, 3999, 4), ".png")):
        path = tmp_path / f"bomb{suffix}"
        path.write_bytes(data)
        result = forker.run(kind, path, limit_mb=LIMIT_MB)
        assert result["outcome"] == "MemoryError", result


@pytest.mark.parametrize("dtype", ["<f4", "<f8"])
def test_the_largest_train_page_network_loads_at_its_own_size(dtype, run):
    """784-1000-1000-1000-1000-10 with biases, real (zero) arrays: the peak is the network's own float32
    weights (15.2 MB) plus what reading one layer at a time costs (a float64 layer of 8 MB, then its
    float32 copy)."""
    sizes = (784, 1000, 1000, 1000, 1000, 10)
    entries = [h.npy_entry(f"weights_{i}", descr=dtype, shape=(n_out, n_in))
               for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes))]
    entries += [h.npy_entry(f"biases_{i}", descr=dtype, shape=(n,)) for i, n in enumerate(sizes[1:])]
    meta = _seed_meta(hidden_nodes=sizes[1:-1], bias=True, activation="relu")
    result = run("model", h.model_npz(meta, *entries), ".npz")
    assert result["outcome"] == "ok" and result["layers"] == list(sizes), result
    model_mb = sum(n_in * n_out for n_in, n_out in itertools.pairwise(sizes)) * 4 / 2**20
    layer_mb = 1000 * 1000 * np.dtype(dtype).itemsize / 2**20
    assert result["peak_above_baseline_mb"] <= model_mb + layer_mb + 8, result


# --------------------------------------------------------------------------- images


def _gif_two_frames() -> bytes:
    from PIL import Image

    frames = [Image.fromarray(h.paper_digit(d, 300, 300)).convert("P") for d in (3, 7)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return buffer.getvalue()


def _tiff_two_pages() -> bytes:
    from PIL import Image

    pages = [Image.fromarray(h.paper_digit(2, 400, 300)), Image.new("L", (400, 300), 200)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    return buffer.getvalue()


def _palette_with_transparency() -> bytes:
    """A palette PNG whose two colours are the same dark grey, one of them transparent: the digit is in the
    transparency alone (read without it, the picture is uniform and holds no digit). 2500x2000: reduced by 3."""
    from PIL import Image

    ink = 255 - h.paper_digit(4, 2500, 2000)  # bright strokes on dark
    image = Image.fromarray(np.where(ink > 100, 1, 0).astype(np.uint8), "P")
    image.putpalette([20, 20, 20, 20, 20, 20] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    return buffer.getvalue()


def _grey_alpha() -> bytes:
    """Black ink whose opacity is the ink, on nothing: grey+alpha (LA), 8 bits (the digit is in the alpha
    alone)."""
    ink = 255 - h.paper_digit(2, 600, 450).astype(np.int32) - 50
    return h.png_array(np.stack([np.zeros_like(ink), np.clip(ink * 2, 0, 255)], axis=2).astype(np.uint8))


def _sixteen_bit_rgb() -> bytes:
    grey = h.paper_digit(3, 1300, 1000).astype(np.uint16) * 257
    return h.png_array(np.stack([grey, grey, grey], axis=2))


def _cmyk_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(h.paper_digit(7, 1600, 1200)).convert("CMYK").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _eps() -> bytes:
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n0 0 moveto 10 10 lineto stroke\n%%EOF\n"


# id: (bytes maker, suffix, expected digit or message, peak bound in MB)
IMAGES = {
    # The issue's rows: a 12 MP photo (held upright: EXIF orientation 6), the blank 3999x3999 RGBA PNG.
    "a 12 MP phone photo, EXIF-rotated": (_issue_photo, ".jpg", 7, 40),
    "the blank 3999x3999 RGBA PNG": (
        lambda: h.png_blank(3999, 3999, 4), ".png", r"^no digit found: the image is empty", 100),
    "a 50 MP grey photo": (lambda: h.phone_photo(3, 8160, 6120, mode="L"), ".jpg", 3, 40),
    "a 12 MP progressive JPEG": (lambda: h.phone_photo(2, 4032, 3024, progressive=True), ".jpg", 2, 80),
    "a PNG of 81 megapixels": (
        lambda: h.png_blank(9000, 9000, 1), ".png",
        r"refused: 9000x9000 is 81\.0 megapixels \(the limit here is 64\)", SMALL_MB),
    "a PNG beyond Pillow's own limit": (
        lambda: h.png_blank(14000, 14000, 1), ".png",
        r"is refused: 196 megapixels \(the limit here is 64\); scale it down", SMALL_MB),
    "an RGBA PNG too large to decode": (
        lambda: h.png_blank(7000, 7000, 4), ".png",
        r"too large to decode here: 7000x7000 pixels as a PNG in mode RGBA takes 187 MB \(the limit is 128 MB\)",
        SMALL_MB),
    "a JPEG claiming 65000x65000": (
        lambda: h.patch_jpeg_size(h.phone_photo(7, 64, 48), 65000, 65000), ".jpg",
        r"is refused: 4,225 megapixels \(the limit here is 64\)",
        SMALL_MB),
    "a progressive JPEG claiming 48 MP": (
        lambda: h.patch_jpeg_size(h.phone_photo(7, 64, 48, progressive=True), 8000, 6000), ".jpg",
        r"8000x6000 pixels as a progressive JPEG takes 140 MB \(the limit is 128 MB\); save it as a baseline",
        SMALL_MB),
    "a 16-bit RGB PNG": (_sixteen_bit_rgb, ".png", 3, DECODE_MB),
    "a 16-bit grey PNG": (lambda: h.png_array(h.paper_digit(1, 1100, 900).astype(np.uint16) * 257), ".png", 1,
                          DECODE_MB),
    "a CMYK JPEG": (_cmyk_jpeg, ".jpg", 7, DECODE_MB),
    "a palette PNG with transparency": (_palette_with_transparency, ".png", 4, DECODE_MB),
    "a grey+alpha PNG": (_grey_alpha, ".png", 2, DECODE_MB),
    "an animated GIF (its first frame)": (_gif_two_frames, ".gif", 3, DECODE_MB),
    "a two-page TIFF (its first page)": (_tiff_two_pages, ".tif", 2, DECODE_MB),
    "a photo cut in half": (
        lambda: h.phone_photo(7, 1200, 900, noise=4)[:150_000], ".jpg",
        r"is not an image \(PNG or JPG expected\): the file is cut short$", DECODE_MB),
    "a PNG cut short": (lambda: h.png_blank(3000, 3000, 4)[:20_000], ".png",
                        r"is not an image \(PNG or JPG expected\)", DECODE_MB),
    "an EPS file (Pillow could run Ghostscript)": (
        _eps, ".eps", r"is not an image \(PNG or JPG expected\): the data could not be decoded", SMALL_MB),
}


@pytest.mark.parametrize("case", list(IMAGES))
def test_image_gets_its_answer_or_a_clear_message(case, run):
    make, suffix, expected, peak_mb = IMAGES[case]
    result = run("image", make(), suffix)
    if isinstance(expected, int):
        assert result["outcome"] == "ok", result
        assert result["digit"] == expected and result["output"] > 0.8, {**result, "image": None}
    else:
        assert result["outcome"] == "error" and result["error"] in ("ImageError", "NoDigitError"), result
        assert re.search(expected, result["message"]), result["message"]
    assert result["peak_above_baseline_mb"] <= peak_mb, {**result, "image": None}


# --------------------------------------------------------------------------- your own data (issue #12)


def _class_zip(*extra: h.Entry, per_class: int = 10) -> bytes:
    """A zip of two class folders of small PNGs (a valid dataset), plus ``extra`` entries."""
    png = h.png_array(h.paper_digit(1, 60, 60))
    entries = [h.Entry(f"{c}/{i}.png", png, stored=True) for c in ("a", "b") for i in range(per_class)]
    return h.zip_archive([*entries, *extra])


def _idx_bomb_zip() -> bytes:
    """A zip of an IDX pair whose gzipped images file (4 MB) unpacks to 4 GB: 5.5 million images declared."""
    images = h.gzip_zeros_then(struct.pack(">IIII", 2051, 5_500_000, 28, 28), 4 * 2**30 - 16)
    labels = struct.pack(">II", 2049, 5_500_000) + bytes(5_500_000)
    return h.zip_archive([h.Entry("train-images-idx3-ubyte.gz", images, stored=True),
                          h.Entry("train-labels-idx1-ubyte", labels)])


_RECORD = b"0," * 784 + b"0\n"  # the shortest record: a label and 784 pixels, all zero
RECORDS_MB = 100_000 * 785 / 2**20 + 40  # the records read (785 bytes each) and a piece's parsing: measured 103


def _csv_zip(fill: bytes, size: int) -> bytes:
    """A zip of digits.csv: ``size`` bytes of ``fill`` repeated (deflated: 112 MB take 114 KB)."""
    return h.zip_archive([h.Entry("digits.csv", zeros=size, fill=fill)])


# id: (bytes maker, expected message or None for a dataset read, peak bound in MB)
OWN_DATA = {
    # CSV read a piece at a time, its lines checked as they arrive. Before, the first two took 1.9 GB and a
    # MemoryError (43.6 GiB) in the CLI.
    "a 114 KB zip holding a CSV of one 112 MB line": (
        lambda: _csv_zip(b"0,", 112 * 2**20),
        r"^digits\.csv: line 1 is longer than 16,384 bytes, more than a record can be", SMALL_MB),
    "a 116 KB zip holding a CSV of 57 million short lines": (
        lambda: _csv_zip(b"0\n", 57_000_000 * 2), r"^digits\.csv: line 1 has 1 values, expected 785", SMALL_MB),
    "a zip holding a CSV of 100,001 records": (
        lambda: _csv_zip(_RECORD, 100_001 * len(_RECORD)),
        r"^digits\.csv: more than 100,000 records; a dataset here has at most 100,000$", RECORDS_MB),
    "a good zip of two class folders": (_class_zip, None, SMALL_MB),
    "a zip listing 60,000 entries": (
        lambda: h.zip_archive([h.Entry(f"a/{i}.png", stored=True) for i in range(60_000)]),
        r"60,000 entries; a dataset here has at most 20,000 images", SMALL_MB),
    "an image that unpacks to 3 GB": (
        lambda: _class_zip(h.Entry("a/huge.png", zeros=3 * 2**30)), r"unpacks to 3,072 MB; at most 512 MB", SMALL_MB),
    "an image claiming 1 KB that unpacks to 1 GB": (
        lambda: _class_zip(h.Entry("a/liar.png", zeros=2**30, size_claimed=1024)),
        r"a/liar\.png (is not an image|cannot be unpacked)", SMALL_MB),
    "a gzipped IDX file unpacking to 4 GB": (
        # unpacked up to the largest dataset allowed (100,000 images: 78.4 MB) into a buffer that grows by
        # about an eighth at a time, then refused
        _idx_bomb_zip, r"train-images-idx3-ubyte\.gz: holds more than 78,400,016 bytes of IDX data",
        78.4 * 1.25 + SMALL_MB),
}


def test_a_48_mb_csv_of_short_lines_is_refused_at_its_first_line(run):
    result = run("own_data", b"0\n" * (24 * 2**20), ".csv")
    assert result["outcome"] == "error" and result["error"] == "OwnDataError", result
    assert result["message"].startswith("upload.csv: line 1 has 1 values, expected 785"), result
    assert result["peak_above_baseline_mb"] <= SMALL_MB, result


def test_a_48_mb_csv_of_records_reads_in_a_bounded_working_set(run, mnist, tmp_path):
    """MNIST's first 27,500 training images as the seed's CSV (48 MB): read a piece at a time from the file,
    the memory is the images (21 MB), their shuffled split (21 MB) and a piece's parsing, never the file's
    size again. Before, 48 MB of CSV took the server from 200 to 987 MB."""
    from ann.data.csv_files import write_csv
    from ann.data.split import Split

    path = tmp_path / "digits.csv"
    write_csv(path, Split(mnist.train.images[:27_500], mnist.train.labels[:27_500]))
    assert 46 * 2**20 < path.stat().st_size < 50 * 2**20
    result = run("own_data", path.read_bytes(), ".csv")
    assert result["outcome"] == "ok" and result["train"] + result["test"] == 27_500, result
    images_mb = 27_500 * 784 / 2**20
    assert result["peak_above_baseline_mb"] <= 2 * images_mb + 40, result  # measured 52


@pytest.mark.parametrize("case", list(OWN_DATA))
def test_an_uploaded_dataset_is_read_or_refused_in_bounded_memory(case, run):
    make, message, peak_mb = OWN_DATA[case]
    result = run("own_data", make(), ".zip")
    if message is None:
        assert result["outcome"] == "ok" and result["classes"] == ["a", "b"] and result["train"] == 16, result
    else:
        assert result["outcome"] == "error" and result["error"] == "OwnDataError", result
        assert re.search(message, result["message"]), result["message"]
    assert result["peak_above_baseline_mb"] <= peak_mb, result


# --------------------------------------------------------------------------- in process: exactness


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_upright_digit(orientation):
    """Each of the eight EXIF orientations, stored as a phone would: the same 28x28 digit as the upright
    photo (JPEG's own blocks fall differently on a rotated picture: nearly, not bit for bit)."""

    upright = prepare.prepare(h.phone_photo(2, 1400, 1000, orientation=1))[1].astype(float)
    turned = prepare.prepare(h.phone_photo(2, 1400, 1000, orientation=orientation))[1].astype(float)
    assert np.corrcoef(upright.ravel(), turned.ravel())[0, 1] > 0.97


def test_decoded_photo_is_small_uint8_in_the_right_orientation():
    from ann.data import decode

    pixels = decode.decode_image(_issue_photo())
    assert pixels.dtype == np.uint8 and pixels.ndim == 2  # JPEG decoded straight to grey
    assert pixels.shape == (1008, 756)  # 4032x3024 from the sensor, 3024 wide upright, reduced 4x (libjpeg
    #                                      2x, then 2x)
    assert max(pixels.shape) <= DECODED_LONG_SIDE


def test_reducing_weighs_colours_by_their_alpha():
    """White strokes on transparent black, reduced: the half-covered blocks must composite exactly as the
    full-size image would (averaging straight RGBA would darken them)."""
    from ann.data import decode

    rgba = np.zeros((2048, 2048, 4), np.uint8)
    rgba[:, 1024:] = (255, 255, 255, 255)
    rgba[:, 1023] = (255, 255, 255, 255)  # a column that half-covers the 2x2 blocks of columns 1022..1023
    pixels = decode.decode_image(h.png_array(rgba))
    assert pixels.shape == (1024, 1024, 4)
    assert np.all(pixels[:, 511] == (255, 255, 255, 128))
    assert np.all(pixels[:, 510] == 0) and np.all(pixels[:, 512] == 255)


def test_the_hostile_writers_write_what_numpy_and_zipfile_read():
    """The bombs are real files: a small one unpacks with NumPy to what it announces, CRC included."""
    data = h.model_npz(_seed_meta(), h.npy_entry("weights_0", descr="<f4", shape=(3000, 3000)),
                       *h.seed_model_entries()[1:])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
    with np.load(io.BytesIO(data)) as npz:
        assert npz["weights_0"].shape == (3000, 3000) and not npz["weights_0"].any()
        assert json.loads(str(npz["meta"]))["network"]["hidden_nodes"] == [200]
    from PIL import Image

    with Image.open(io.BytesIO(h.png_blank(300, 200, 4, value=7))) as image:
        assert image.size == (300, 200) and image.mode == "RGBA"
        assert np.all(np.asarray(image) == 7)
