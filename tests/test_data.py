"""Tests for ann.data: real MNIST behaviour, file round trips, every bad-input case, download."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED_CSV_MD5, SHARED_MNIST

from ann.data import idx, mnist
from ann.data.csv_files import read_csv, write_csv
from ann.data.idx import read_idx_images, read_idx_labels, write_idx_images, write_idx_labels
from ann.data.mnist import MIRRORS, MNIST_FILES, default_data_dir, ensure_mnist, load_mnist, mnist_status
from ann.data.split import ChecksumError, CSVFormatError, DownloadError, IDXFormatError, MNISTFormatError, Split
from ann.inputs import make_targets, scale_inputs

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


# --------------------------------------------------------------------------- fixtures


# mnist_dir and mnist (the real files, loaded once) come from conftest.py.


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch):
    """Tests must not depend on, or leak, the developer's ANN_DATA_DIR."""
    monkeypatch.delenv("ANN_DATA_DIR", raising=False)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any real network access is a test failure; download tests install their own fake."""

    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr("urllib.request.urlopen", refuse)


def rng_images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 784), dtype=np.uint8)


def idx_images_bytes(count: int, rows: int = 28, cols: int = 28, payload: bytes | None = None,
                     magic: int = 2051) -> bytes:
    header = struct.pack(">IIII", magic, count, rows, cols)
    return header + (bytes(count * rows * cols) if payload is None else payload)


def idx_labels_bytes(labels, magic: int = 2049, count: int | None = None) -> bytes:
    labels = bytes(labels)
    return struct.pack(">II", magic, len(labels) if count is None else count) + labels


def csv_line(label: int = 3, pixels=None) -> str:
    pixels = [0] * 784 if pixels is None else pixels
    return ",".join(str(v) for v in [label, *pixels])


# --------------------------------------------------------------------------- real MNIST


def test_real_mnist_shapes_dtypes_and_label_counts(mnist):
    assert mnist.train.images.shape == (60000, 784) and mnist.test.images.shape == (10000, 784)
    assert mnist.train.images.dtype == np.uint8 and mnist.test.images.dtype == np.uint8
    assert mnist.train.labels.dtype == np.int64 and mnist.test.labels.dtype == np.int64
    assert np.bincount(mnist.train.labels).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.test.labels).tolist() == TEST_COUNTS
    assert len(mnist.train) == 60000 and len(mnist.test) == 10000
    assert mnist.train.images.max() == 255 and mnist.train.images.min() == 0


def test_loaded_arrays_are_read_only(mnist):
    for split in (mnist.train, mnist.test):
        for array in (split.images, split.labels):
            assert not array.flags.writeable
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 1


def test_idx_and_seed_csv_extracts_agree(mnist, seed_csv_dir):
    train_100 = read_csv(seed_csv_dir / "mnist_train_100.csv")
    test_10 = read_csv(seed_csv_dir / "mnist_test_10.csv")
    np.testing.assert_array_equal(train_100.images, mnist.train.images[:100])
    np.testing.assert_array_equal(train_100.labels, mnist.train.labels[:100])
    np.testing.assert_array_equal(test_10.images, mnist.test.images[:10])
    np.testing.assert_array_equal(test_10.labels, mnist.test.labels[:10])
    assert train_100.images.dtype == np.uint8 and train_100.labels.dtype == np.int64
    assert test_10.labels.tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert not train_100.images.flags.writeable and not train_100.labels.flags.writeable


def test_csv_writer_is_byte_identical_to_the_seed_files(mnist, tmp_path):
    """write_csv reproduces the seed's two extracts to the byte (their md5s), and leaves no temp file."""
    write_csv(tmp_path / "mnist_train_100.csv", Split(mnist.train.images[:100], mnist.train.labels[:100]))
    write_csv(tmp_path / "mnist_test_10.csv", Split(mnist.test.images[:10], mnist.test.labels[:10]))
    for name, md5 in SEED_CSV_MD5.items():
        assert hashlib.md5((tmp_path / name).read_bytes()).hexdigest() == md5, name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SEED_CSV_MD5)  # no temp files
    shared = SHARED_MNIST / "mnist_train_100.csv"
    if shared.exists():  # in this project's workplace, the copies it was given agree too
        assert (tmp_path / "mnist_train_100.csv").read_bytes() == shared.read_bytes()


def test_full_training_set_as_csv_round_trips(mnist, tmp_path):
    path = tmp_path / "mnist_train.csv"
    write_csv(path, mnist.train)
    assert not path.read_bytes().endswith(b"\n")
    split = read_csv(path)
    np.testing.assert_array_equal(split.images, mnist.train.images)
    np.testing.assert_array_equal(split.labels, mnist.train.labels)


def test_csv_accepts_windows_line_endings_and_a_final_newline(seed_csv_dir, tmp_path):
    text = (seed_csv_dir / "mnist_test_10.csv").read_bytes()
    path = tmp_path / "crlf.csv"
    path.write_bytes(text.replace(b"\n", b"\r\n") + b"\r\n")
    expected = read_csv(seed_csv_dir / "mnist_test_10.csv")
    got = read_csv(path)
    np.testing.assert_array_equal(got.images, expected.images)
    np.testing.assert_array_equal(got.labels, expected.labels)


def test_writing_the_real_files_uncompressed_reproduces_the_published_md5(mnist, tmp_path):
    # Byte-exact writer check: the decompressed originals have known md5s.
    write_idx_images(tmp_path / "train-images-idx3-ubyte", mnist.train.images)
    write_idx_labels(tmp_path / "train-labels-idx1-ubyte", mnist.train.labels)
    write_idx_images(tmp_path / "t10k-images-idx3-ubyte", mnist.test.images)
    write_idx_labels(tmp_path / "t10k-labels-idx1-ubyte", mnist.test.labels)
    for name, md5 in RAW_MD5.items():
        assert hashlib.md5((tmp_path / name).read_bytes()).hexdigest() == md5, name
    # ...and such a folder of decompressed files loads, verified, like the gzipped one.
    assert mnist_status(tmp_path)["complete"]
    loaded = load_mnist(tmp_path, download=False)
    np.testing.assert_array_equal(loaded.test.images, mnist.test.images)
    np.testing.assert_array_equal(loaded.train.labels, mnist.train.labels)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, suffix):
    images = rng_images(50, seed=1)
    labels = np.random.default_rng(2).integers(0, 10, size=50)
    write_idx_images(tmp_path / f"images{suffix}", images)
    write_idx_labels(tmp_path / f"labels{suffix}", labels)
    assert ((tmp_path / f"images{suffix}").read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    got_images = read_idx_images(tmp_path / f"images{suffix}")
    got_labels = read_idx_labels(tmp_path / f"labels{suffix}")
    assert got_images.dtype == np.uint8 and got_images.shape == (50, 784)
    assert got_labels.dtype == np.int64 and got_labels.shape == (50,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_write_idx_accepts_28x28_images_and_is_reproducible(tmp_path):
    images = rng_images(3, seed=3)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_idx_images(tmp_path / "a" / "images.gz", images)
    write_idx_images(tmp_path / "b" / "images.gz", images.reshape(3, 28, 28))
    # Same arrays, same bytes: no timestamp in the gzip header.
    assert (tmp_path / "a" / "images.gz").read_bytes() == (tmp_path / "b" / "images.gz").read_bytes()


def test_write_idx_replaces_an_existing_file(tmp_path):
    path = tmp_path / "labels"
    write_idx_labels(path, [1, 2, 3])
    write_idx_labels(path, [4])
    assert read_idx_labels(path).tolist() == [4]
    assert [p.name for p in tmp_path.iterdir()] == ["labels"]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: write_idx_images(p, np.zeros((2, 784), np.float32)), "integer pixel values 0-255"),
        (lambda p: write_idx_images(p, np.zeros((2, 783), np.uint8)), r"shape \(n, 784\)"),
        (lambda p: write_idx_images(p, np.full((1, 784), 256)), "pixel value 256 at image 0"),
        (lambda p: write_idx_labels(p, [1, 10]), "label 10 at index 1 is out of range 0-9"),
        (lambda p: write_idx_labels(p, [[1]]), r"shape \(n,\)"),
        (lambda p: write_csv(p, Split(np.zeros((0, 784), np.uint8), np.zeros(0, np.int64))), "empty split"),
    ],
)
def test_writers_reject_bad_arrays_and_leave_nothing(tmp_path, call, match):
    with pytest.raises(ValueError, match=match):
        call(tmp_path / "out.gz")
    assert list(tmp_path.iterdir()) == []


def test_split_checks_shapes_and_holds_arrays():
    split = Split([[0] * 784], [5])
    assert isinstance(split.images, np.ndarray) and split.labels.tolist() == [5] and len(split) == 1
    with pytest.raises(ValueError, match=r"shape \(n, 784\)"):
        Split(np.zeros((2, 10), np.uint8), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        Split(np.zeros((2, 784), np.uint8), np.zeros(3, np.int64))


# --------------------------------------------------------------------------- scaling and targets


def test_scale_inputs_float64_is_bit_identical_to_the_seed(seed_csv_dir):
    record = (seed_csv_dir / "mnist_train_100.csv").read_text().split("\n")[0].split(",")
    seed_inputs = (np.asarray(record[1:], dtype=np.float64) / 255.0 * 0.99) + 0.01
    pixels = read_csv(seed_csv_dir / "mnist_train_100.csv").images[0]
    ours = scale_inputs(pixels, dtype=np.float64)
    assert ours.dtype == np.float64
    assert np.array_equal(ours, seed_inputs)


def test_scale_inputs_float32_range_and_purity():
    images = np.array([[0, 128, 255]], dtype=np.uint8)
    before = images.copy()
    scaled = scale_inputs(images)
    assert scaled.dtype == np.float32 and scaled.shape == (1, 3)
    np.testing.assert_allclose(scaled, [[0.01, 128 / 255 * 0.99 + 0.01, 1.0]], rtol=1e-6)
    np.testing.assert_array_equal(images, before)
    with pytest.raises(ValueError, match="floating dtype"):
        scale_inputs(images, dtype=np.int32)


def test_make_targets():
    targets = make_targets(np.array([0, 9, 3]))
    assert targets.shape == (3, 10) and targets.dtype == np.float32
    assert targets.argmax(axis=1).tolist() == [0, 9, 3]
    assert np.allclose(targets.max(axis=1), 0.99) and np.allclose(targets.min(axis=1), 0.01)
    assert np.isclose(targets.sum(), 3 * (0.99 + 9 * 0.01))
    assert make_targets([1], n_classes=3, low=0.0, high=1.0, dtype=np.float64).tolist() == [[0.0, 1.0, 0.0]]
    with pytest.raises(ValueError, match="label 10 at index 1 is out of range 0-9"):
        make_targets(np.array([1, 10]))


# --------------------------------------------------------------------------- bad IDX files


def test_exception_hierarchy():
    assert issubclass(IDXFormatError, MNISTFormatError) and issubclass(CSVFormatError, MNISTFormatError)
    assert issubclass(ChecksumError, MNISTFormatError) and issubclass(MNISTFormatError, ValueError)


def write_gz(path: Path, content: bytes) -> Path:
    path.write_bytes(gzip.compress(content))
    return path


@pytest.mark.parametrize(
    "name, content, reader, match",
    [
        ("train-images-idx3-ubyte.gz", gzip.compress(idx_labels_bytes([1, 2])), read_idx_images,
         re.escape("train-images-idx3-ubyte.gz: magic number 2049, expected 2051 (is this a label file?)")),
        ("train-labels-idx1-ubyte.gz", gzip.compress(idx_images_bytes(1)), read_idx_labels,
         re.escape("train-labels-idx1-ubyte.gz: magic number 2051, expected 2049 (is this an image file?)")),
        ("images", b"PK\x03\x04 definitely not idx", read_idx_images,
         r"images: magic number 1347093252, expected 2051 \(not an MNIST IDX file\)"),
        ("images", gzip.compress(idx_images_bytes(1)), read_idx_images, "looks gzip-compressed.*end in .gz"),
        ("images.gz", gzip.compress(idx_images_bytes(3, payload=bytes(1000))), read_idx_images,
         r"images.gz: truncated: the header declares 3 images of 28x28 = 2,352 bytes but only 1,000 bytes follow"),
        ("labels", idx_labels_bytes([1, 2], count=5), read_idx_labels,
         r"labels: truncated: the header declares 5 labels = 5 bytes but only 2 bytes follow"),
        ("images", struct.pack(">II", 2051, 5), read_idx_images, "truncated header: 8 bytes, expected 16"),
        ("images", b"\x00\x00", read_idx_images, "truncated header"),
        ("images", idx_images_bytes(2, rows=32, cols=32), read_idx_images, "images are 32x32, expected 28x28"),
        ("images", idx_images_bytes(1) + b"extra", read_idx_images, "5 unexpected bytes after the 1 images"),
        ("labels.gz", gzip.compress(idx_labels_bytes([3, 12, 4])), read_idx_labels,
         "labels.gz: label 12 at index 1 is out of range 0-9"),
        ("images.gz", idx_images_bytes(1), read_idx_images,
         "images.gz: not a gzip file although its name ends in .gz"),
        ("images.gz", gzip.compress(idx_images_bytes(5, payload=rng_images(5).tobytes()))[:-100], read_idx_images,
         "images.gz: gzip stream ends early"),
        ("images.gz", b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff" * 40, read_idx_images,
         "images.gz: corrupt gzip stream"),
        ("images.gz", b"", read_idx_images, "images.gz: empty file"),
        ("labels", b"", read_idx_labels, "labels: empty file"),
        ("labels.gz", gzip.compress(b""), read_idx_labels, r"labels.gz: empty file \(after decompression\)"),
    ],
)
def test_bad_idx_files_raise_a_specific_error(tmp_path, name, content, reader, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IDXFormatError, match=match):
        reader(path)


def test_image_and_label_count_mismatch(tmp_path, mnist_dir):
    write_gz(tmp_path / "train-images-idx3-ubyte.gz", idx_images_bytes(3))
    write_gz(tmp_path / "train-labels-idx1-ubyte.gz", idx_labels_bytes([1, 2]))
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes((mnist_dir / name).read_bytes())
    with pytest.raises(
        IDXFormatError,
        match="train-images-idx3-ubyte.gz has 3 images but train-labels-idx1-ubyte.gz has 2 labels",
    ):
        load_mnist(tmp_path, download=False, verify=False)


# --------------------------------------------------------------------------- bad CSV files


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "bad.csv: empty file"),
        ("\n\n", "bad.csv: empty file"),
        (csv_line() + "\n" + csv_line(pixels=[0] * 783), r"bad.csv: line 2 has 784 values, expected 785"),
        (csv_line() + "\n\n" + csv_line(), "bad.csv: line 2 is empty"),
        (csv_line() + "\n" + csv_line(pixels=[0] * 10 + ["x"] + [0] * 773),
         "bad.csv: line 2, column 12: 'x' is not an integer"),
        (csv_line(pixels=[0.5] + [0] * 783), "bad.csv: line 1, column 2: '0.5' is not an integer"),
        ("label," + ",".join(f"pixel{i}" for i in range(784)), "'label' is not an integer .*header line"),
        (csv_line(pixels=[0] * 783 + [256]), "bad.csv: line 1, column 785: pixel value 256 is out of range 0-255"),
        (csv_line(pixels=[-1] + [0] * 783), "line 1, column 2: pixel value -1 is out of range 0-255"),
        (csv_line(pixels=[1000] + [0] * 783), "pixel value 1000 is out of range"),
        (csv_line(label=10), "bad.csv: line 1: label 10 is out of range 0-9"),
        (csv_line(pixels=[""] + [0] * 783), "line 1, column 2 is empty"),
    ],
)
def test_bad_csv_files_raise_a_specific_error(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CSVFormatError, match=match):
        read_csv(path)


def test_csv_error_line_numbers_count_across_parsing_chunks(tmp_path):
    lines = [csv_line(label=i % 10) for i in range(5000)]
    lines[4321] = csv_line(pixels=[0] * 700)
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines))
    with pytest.raises(CSVFormatError, match="long.csv: line 4322 has 701 values"):
        read_csv(path)


def test_csv_exact_parser_accepts_spaces_and_leading_zeros(tmp_path):
    pixels = list(range(256)) + [0] * 528
    path = tmp_path / "odd.csv"
    path.write_text("7, " + ", ".join(f"{v:04d}" for v in pixels))
    split = read_csv(path)
    assert split.labels.tolist() == [7]
    np.testing.assert_array_equal(split.images[0], pixels)


# --------------------------------------------------------------------------- data folder


def test_default_data_dir_is_data_at_the_project_root():
    expected = Path(__file__).resolve().parents[1] / "data"
    assert default_data_dir() == expected
    assert default_data_dir().is_absolute()


def test_ann_data_dir_overrides_the_default_and_data_dir_overrides_both(monkeypatch, mnist_dir, tmp_path):
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))
    assert default_data_dir() == mnist_dir.resolve()
    assert load_mnist(download=False).test.labels[:3].tolist() == [7, 2, 1]
    assert mnist_status()["complete"]
    # An explicit argument wins over the environment variable.
    assert mnist_status(tmp_path)["missing"] == list(MNIST_FILES)
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path))):
        load_mnist(tmp_path, download=False)


def test_mnist_status(mnist_dir, tmp_path):
    status = mnist_status(mnist_dir)
    assert status["complete"] and status["missing"] == [] and status["corrupt"] == []
    assert status["data_dir"] == str(mnist_dir.resolve())
    assert all(info["status"] == "ok" for info in status["files"].values())
    assert set(status["files"]) == set(MNIST_FILES)

    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"junk")
    status = mnist_status(tmp_path)
    assert not status["complete"]
    assert status["missing"] == ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    assert status["corrupt"] == ["train-labels-idx1-ubyte.gz"]
    assert status["files"]["t10k-labels-idx1-ubyte.gz"] == {
        "status": "ok", "path": str(tmp_path / "t10k-labels-idx1-ubyte.gz")}
    # a file's md5 is remembered while it stays the same; a file replaced by another is checked again
    good = tmp_path / "t10k-labels-idx1-ubyte.gz"
    good.write_bytes(b"x" * good.stat().st_size)
    assert mnist_status(tmp_path)["corrupt"] == ["train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes((mnist_dir / "train-labels-idx1-ubyte.gz").read_bytes())
    assert mnist_status(tmp_path)["corrupt"] == ["t10k-labels-idx1-ubyte.gz"]


def copy_real_files(mnist_dir: Path, folder: Path) -> None:
    for name in MNIST_FILES:
        (folder / name).write_bytes((mnist_dir / name).read_bytes())


def test_wrong_md5_names_file_and_both_md5s_and_keeps_the_file(mnist_dir, tmp_path):
    copy_real_files(mnist_dir, tmp_path)
    bad = tmp_path / "train-labels-idx1-ubyte.gz"
    content = bytearray(bad.read_bytes())
    content[-20] ^= 0xFF
    bad.write_bytes(bytes(content))
    actual = hashlib.md5(bytes(content)).hexdigest()
    expected_message = (
        rf"train-labels-idx1-ubyte.gz: md5 {actual}, expected d53e105ee54ea40749a09fcbcd1e9432"
        rf".*Delete {re.escape(str(bad))} and it will be downloaded again"
    )
    with pytest.raises(ChecksumError, match=expected_message):
        load_mnist(tmp_path)  # download=True: a present-but-bad file must not be replaced silently
    with pytest.raises(ChecksumError, match=expected_message):
        ensure_mnist(tmp_path)
    assert bad.read_bytes() == bytes(content)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path) in message and "train-images-idx3-ubyte.gz" in message and MIRRORS[0] in message


# --------------------------------------------------------------------------- download


class FakeResponse(io.BytesIO):
    """What urlopen returns: a readable, closable stream with headers."""

    def __init__(self, content: bytes, fail_after: int | None = None, length: int | None = None):
        super().__init__(content)
        self.headers = {"Content-Length": str(len(content) if length is None else length)}
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(size)


class FakeMirrors:
    """A fake urlopen: serves ``serve(url, name)`` and records the URLs asked for."""

    def __init__(self, serve):
        self.serve = serve
        self.urls: list[str] = []

    def __call__(self, request, timeout=None):
        url = request.full_url if hasattr(request, "full_url") else request
        self.urls.append(url)
        assert timeout is not None and timeout > 0
        return self.serve(url, url.rsplit("/", 1)[1])


def real_file_server(mnist_dir):
    return lambda url, name: FakeResponse((mnist_dir / name).read_bytes())


def test_download_fetches_verifies_and_reports_progress(monkeypatch, mnist_dir, tmp_path):
    fake = FakeMirrors(real_file_server(mnist_dir))
    monkeypatch.setattr("urllib.request.urlopen", fake)
    calls = []
    folder = tmp_path / "new" / "data"  # created on demand
    assert ensure_mnist(folder, progress=lambda done, total, name: calls.append((done, total, name))) == folder

    assert fake.urls == [MIRRORS[0] + name for name in MNIST_FILES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILES)  # and no temp files
    for name, md5 in MNIST_FILES.items():
        assert hashlib.md5((folder / name).read_bytes()).hexdigest() == md5
        size = (mnist_dir / name).stat().st_size
        reports = [c for c in calls if c[2] == name]
        assert reports[0] == (0, size, name) and reports[-1] == (size, size, name)
        assert [c[0] for c in reports] == sorted(c[0] for c in reports)
    assert mnist_status(folder)["complete"]

    # Present files: loading touches no network at all.
    monkeypatch.setattr("urllib.request.urlopen", FakeMirrors(lambda url, name: pytest.fail("network")))
    assert np.bincount(load_mnist(folder).test.labels).tolist() == TEST_COUNTS


def test_load_mnist_downloads_only_the_missing_file(monkeypatch, mnist_dir, tmp_path):
    copy_real_files(mnist_dir, tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    fake = FakeMirrors(real_file_server(mnist_dir))
    monkeypatch.setattr("urllib.request.urlopen", fake)
    progress = []
    mnist = load_mnist(tmp_path, progress=lambda *args: progress.append(args))
    assert fake.urls == [MIRRORS[0] + "t10k-labels-idx1-ubyte.gz"]
    assert progress[-1] == (4542, 4542, "t10k-labels-idx1-ubyte.gz")
    assert np.bincount(mnist.test.labels).tolist() == TEST_COUNTS


def test_download_falls_back_to_the_second_mirror(monkeypatch, mnist_dir, tmp_path):
    def serve(url, name):
        if url.startswith(MIRRORS[0]):
            raise urllib.error.HTTPError(url, 503, "Service Unavailable", {}, None)
        return FakeResponse((mnist_dir / name).read_bytes())

    fake = FakeMirrors(serve)
    monkeypatch.setattr("urllib.request.urlopen", fake)
    ensure_mnist(tmp_path)
    assert fake.urls[:2] == [MIRRORS[0] + "train-images-idx3-ubyte.gz", MIRRORS[1] + "train-images-idx3-ubyte.gz"]
    assert mnist_status(tmp_path)["complete"]


def test_corrupt_download_is_rejected_and_leaves_nothing(monkeypatch, mnist_dir, tmp_path):
    def serve(url, name):
        content = bytearray((mnist_dir / name).read_bytes())
        content[100] ^= 0xFF  # same size, wrong bytes
        return FakeResponse(bytes(content))

    monkeypatch.setattr("urllib.request.urlopen", FakeMirrors(serve))
    with pytest.raises(DownloadError, match=r"md5 [0-9a-f]{32}, expected f68b3c2dcbeaaa9fbdd348bbdeb94873") as info:
        ensure_mnist(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("truncate", [True, False])
def test_download_failing_midway_leaves_nothing(monkeypatch, mnist_dir, tmp_path, truncate):
    def serve(url, name):
        content = (mnist_dir / name).read_bytes()
        if truncate:  # the server closes early: fewer bytes than Content-Length
            return FakeResponse(content[: len(content) // 2], length=len(content))
        return FakeResponse(content, fail_after=200_000)  # the connection drops

    monkeypatch.setattr("urllib.request.urlopen", FakeMirrors(serve))
    with pytest.raises(DownloadError, match="train-images-idx3-ubyte.gz") as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert ("truncated or corrupt download" in message) if truncate else ("connection lost" in message)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_leaves_nothing(monkeypatch, mnist_dir, tmp_path):
    monkeypatch.setattr("urllib.request.urlopen", FakeMirrors(real_file_server(mnist_dir)))

    def interrupt(done, total, name):
        if done > 100_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ensure_mnist(tmp_path, progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_offline_gives_download_error_saying_what_to_do(monkeypatch, tmp_path):
    def serve(url, name):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    fake = FakeMirrors(serve)
    monkeypatch.setattr("urllib.request.urlopen", fake)
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message  # where to put the files by hand
    assert all(name in message for name in MNIST_FILES)  # which files are missing
    assert MIRRORS[0] in message and MIRRORS[1] in message  # where to get them
    # the resolver's "[Errno -3] Temporary failure in name resolution" as a sentence, naming each mirror's host
    assert "Could not download MNIST file train-images-idx3-ubyte.gz from any of its mirrors" in message
    for mirror in MIRRORS:
        host = mirror.split("/")[2]
        assert f"{host}: its name could not be looked up (is this machine connected to the internet?)" in message
    assert "[Errno" not in message
    assert "ANN_DATA_DIR" in message
    assert len(fake.urls) == len(MIRRORS)  # gives up after the first file instead of repeating timeouts
    assert list(tmp_path.iterdir()) == []


def test_download_goes_to_ann_data_dir(monkeypatch, mnist_dir, tmp_path):
    monkeypatch.setenv("ANN_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("urllib.request.urlopen", FakeMirrors(real_file_server(mnist_dir)))
    assert ensure_mnist() == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(MNIST_FILES)


def _tiny_idx_folder(folder: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", 50), ("t10k", 20)):
        idx.write_idx_images(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 784), dtype=np.uint8))
        idx.write_idx_labels(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    return folder


def test_mapped_copies_equal_the_files_are_read_only_and_rebuilt_when_damaged(tmp_path):
    """load_mnist_mapped: the same arrays as load_mnist, mapped read-only from .npy copies made once; a
    damaged copy is made again; where the cache cannot be written, the data is loaded into memory."""
    folder = _tiny_idx_folder(tmp_path / "tiny")
    cache = tmp_path / "cache"
    loaded = mnist.load_mnist(folder, download=False, verify=False)
    mapped = mnist.load_mnist_mapped(folder, cache, verify=False)
    for split in ("train", "test"):
        assert np.array_equal(getattr(mapped, split).images, getattr(loaded, split).images)
        assert np.array_equal(getattr(mapped, split).labels, getattr(loaded, split).labels)
    assert not mapped.train.images.flags.writeable
    copies = sorted(cache.glob("mnist-*/*.npy"))
    assert [p.name for p in copies] == ["test-images.npy", "test-labels.npy", "train-images.npy", "train-labels.npy"]
    assert isinstance(mapped.train.images.base, np.memmap) or isinstance(mapped.train.images, np.memmap)

    train_copy = next(p for p in copies if p.name == "train-images.npy")
    train_copy.write_bytes(train_copy.read_bytes()[:100])  # truncated
    again = mnist.load_mnist_mapped(folder, cache, verify=False)
    assert np.array_equal(again.train.images, loaded.train.images)
    assert train_copy.stat().st_size == 128 + 50 * 784  # made again, whole

    # a new file in the folder makes new copies (named after the files' sizes and times)
    _tiny_idx_folder(folder, seed=1)
    changed = mnist.load_mnist_mapped(folder, cache, verify=False)
    assert not np.array_equal(changed.train.images, loaded.train.images)

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would go")
    in_memory = mnist.load_mnist_mapped(folder, blocked, verify=False)
    assert np.array_equal(in_memory.test.images, changed.test.images)
