"""Your own data (ann.data.own): CSV, IDX, a folder or zip of class folders; the split; every bad case; the
server's per-workspace store. Every set here is small and written by the test itself."""

from __future__ import annotations

import gzip
import io
import re
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from dataset_files import band_set, csv_bytes, idx_bytes, shape_image, write_idx_set, write_shape_folder, zip_folder

from ann.data import own
from ann.data.own import DatasetLimitError, OwnDataError, read_own_data, split_seeded
from ann.data.split import Split
from ann.service.datasets import DatasetStore

OWNER, OTHER = "a" * 32, "b" * 32


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """Three classes of twelve drawn shapes (mixed sizes, PNG and JPEG, grey, colour, palette, alpha)."""
    return write_shape_folder(tmp_path_factory.mktemp("own") / "shapes")


# --------------------------------------------------------------------------- the three forms


def test_one_csv_is_split_seeded_and_stratified_as_stated(tmp_path):
    whole = band_set(200, n_classes=4, seed=1)
    path = tmp_path / "letters.csv"
    csv_bytes(whole, path)
    data = read_own_data(path)
    assert data.key.startswith("own-") and data.title == "letters" and data.class_names == ("0", "1", "2", "3")
    train_counts, test_counts = data.counts()
    assert test_counts.tolist() == [10, 10, 10, 10] and train_counts.tolist() == [40, 40, 40, 40]  # 20% of 50
    assert "split with seed 0: 20% of each class held out" in data.note
    # every record once, in one set or the other
    rows = {r.tobytes() for r in np.asarray(whole.images)}
    assert {r.tobytes() for r in np.concatenate([data.train.images, data.test.images])} == rows
    assert not data.train.images.flags.writeable
    same, other = read_own_data(path), read_own_data(path, seed=7, test_fraction=0.3)
    assert same.key == data.key and np.array_equal(same.test.images, data.test.images)
    assert other.key != data.key and other.counts()[1].tolist() == [15, 15, 15, 15]


def test_two_csvs_named_train_and_test_keep_their_split_and_order(tmp_path):
    train, test = band_set(60, 3, seed=2), band_set(30, 3, seed=3)
    csv_bytes(train, tmp_path / "my_train.csv")
    csv_bytes(test, tmp_path / "my_test.csv")
    data = read_own_data(tmp_path)
    assert np.array_equal(data.train.labels, train.labels) and np.array_equal(data.test.images, test.images)
    assert "its own training and test sets" in data.note
    uploaded = read_own_data([("my_test.csv", csv_bytes(test)), ("my_train.csv", csv_bytes(train))])
    assert uploaded.key == data.key


def test_csv_labels_go_up_to_61_and_classes_txt_names_them(tmp_path):
    whole = band_set(62 * 10, n_classes=62, seed=4)
    data = read_own_data([("emnist.csv", csv_bytes(whole))])
    assert data.n_classes == 62 and data.class_names[-1] == "61"
    names = "\n".join(["zero", "one", "two"]) + "\n"
    named = read_own_data([("x.csv", csv_bytes(band_set(30, 3))), ("classes.txt", names.encode())])
    assert named.class_names == ("zero", "one", "two")


def test_an_idx_pair_and_two_pairs(tmp_path):
    whole = band_set(100, 5, seed=5)
    images, labels = idx_bytes(whole, gz=True)
    data = read_own_data([("labels.gz", labels), ("pictures.gz", images)])  # told apart by magic, not name
    assert data.class_names == tuple("01234") and len(data.train) + len(data.test) == 100
    folder = write_idx_set(tmp_path / "idx", band_set(80, 4, 6), band_set(40, 4, 7), gz=False)
    given = read_own_data(folder)
    assert len(given.train) == 80 and len(given.test) == 40 and np.array_equal(given.test.labels, band_set(40, 4, 7).labels)


def test_an_image_folder_a_zip_of_it_and_its_upload_are_the_same_dataset(shapes):
    data = read_own_data(shapes)
    assert data.title == "shapes" and data.class_names == ("circle", "cross", "square")  # sorted by name
    assert data.counts()[0].tolist() == [10, 10, 10] and data.counts()[1].tolist() == [2, 2, 2]
    assert data.train.images.shape[1] == 784 and data.train.images.dtype == np.uint8
    # shapes made as drawings are: ink fitted into the 20x20 box inside 28x28, so the border stays dark
    field = np.asarray(data.train.images).reshape(-1, 28, 28)
    assert field[:, :3, :].max() == 0 and field.max(axis=(1, 2)).min() == 255
    # a zip with a top folder, system litter and another order of entries: the same content, the same key
    packed = zip_folder(shapes, top="shapes", extra={"__MACOSX/shapes/._circle": b"junk", "shapes/.DS_Store": b"x",
                                                      "shapes/README.md": b"# my shapes"})
    assert read_own_data([("shapes.zip", packed)]).key == data.key
    (shapes.parent / "shapes.zip").write_bytes(packed)
    assert read_own_data([("shapes.zip", zip_folder(shapes, extra={"LICENSE": b"CC0"}))]).key == data.key
    # a browser's directory upload names each file by its path in the folder
    uploaded = [(p.relative_to(shapes.parent).as_posix(), p.read_bytes()) for p in shapes.rglob("*.*")]
    assert read_own_data(uploaded).key == data.key and read_own_data(uploaded).title == "shapes"
    assert read_own_data(shapes.parent / "shapes.zip").key == data.key


def test_train_and_test_folders_give_the_split_and_both_are_shuffled(tmp_path):
    root = write_shape_folder(tmp_path / "s", classes=("bar", "cross"), per_class=16, layout="split")
    seen = []
    data = read_own_data(root, progress=lambda done, total: seen.append((done, total)))
    assert data.counts()[0].tolist() == [12, 12] and data.counts()[1].tolist() == [4, 4]
    assert seen[-1] == (32, 32)
    assert 0 < np.abs(np.diff(data.train.labels)).sum()  # not class by class
    assert "its own training and test sets (shuffled with seed 0)" in data.note


def test_natural_order_of_class_names(tmp_path):
    for name in ("10", "2", "1"):
        for i in range(10):
            (tmp_path / name).mkdir(exist_ok=True)
            (tmp_path / name / f"{i}.png").write_bytes(shape_image("bar", 30, np.random.default_rng(i)))
    assert read_own_data(tmp_path).class_names == ("1", "2", "10")


def test_split_seeded_is_stratified_and_reproducible():
    whole = band_set(103, 3, seed=8)
    train, test = split_seeded(whole, 3, 0.2, seed=5)
    counts = np.bincount(whole.labels, minlength=3)
    assert np.bincount(test.labels, minlength=3).tolist() == [round(c * 0.2) for c in counts]
    again = split_seeded(whole, 3, 0.2, seed=5)
    assert np.array_equal(again[1].images, test.images) and len(train) + len(test) == 103


# --------------------------------------------------------------------------- every bad case, named


def _classes(tmp_path, counts: dict[str, int]):
    rng = np.random.default_rng(0)
    for name, n in counts.items():
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (tmp_path / name / f"{i}.png").write_bytes(shape_image("circle", 30, rng))
    return tmp_path


KAGGLE_HEADER = ("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n").encode()  # Kaggle's MNIST CSV has one


def _csv(n_rows: int = 30, n_classes: int = 3) -> bytes:
    return csv_bytes(band_set(n_rows, n_classes))


@pytest.mark.parametrize("files, match", [
    ([("a.csv", b"")], r"a\.csv: empty file"),
    ([("a.csv", KAGGLE_HEADER + _csv())], r"a\.csv: line 1, column 1: 'label' is not an integer \(a header line"),
    ([("a.csv", _csv().replace(b"\n1,", b"\n70,", 1))], r"a\.csv: line \d+: label 70 is out of range 0-61 "
                                                        r"\(at most 62 classes\)"),
    ([("a.csv", _csv() + b"\n1,2,3")], r"a\.csv: line 31 has 3 values, expected 785"),
    ([("a.csv", _csv()), ("b.csv", _csv())], "do not say which is the training set"),
    ([("a.csv", _csv()), ("classes.txt", b"x\ny\n")], r"a\.csv: line \d+: label 2 is out of range 0-1 .*"
                                                      r"classes\.txt names 2 classes"),
    ([("a.csv", _csv()), ("classes.txt", b"x\n\ny\nz")], r"classes\.txt: line 2 is empty"),
    ([("a.csv", _csv(5, 3))], r"class '0' \(label 0\) has only 2 images; every class needs at least 10"),
    ([("a.csv", csv_bytes(Split(band_set(20, 2).images, np.zeros(20, np.int64))))], r"only one class \('0'\)"),
    ([("a.csv", _csv()), ("p.gz", idx_bytes(band_set(30, 3))[0])], "give CSV files or IDX files, not both"),
    ([("notes.txt", b"hello")], r"notes\.txt: neither a CSV file nor an IDX file"),
    ([("i.gz", idx_bytes(band_set(30, 3))[0])], r"1 IDX image file\(s\) and 0 label file\(s\)"),
    ([("i.gz", idx_bytes(band_set(30, 3))[0]), ("l.gz", idx_bytes(band_set(29, 3))[1])],
     r"i\.gz has 30 images but l\.gz has 29 labels: the two files do not belong together"),
    ([("i", struct.pack(">IIII", 2051, 2, 32, 32) + bytes(2048)), ("l", idx_bytes(band_set(2, 2), gz=False)[1])],
     r"i: images are 32x32, expected 28x28"),
    ([("i.gz", gzip.compress(struct.pack(">IIII", 2051, 10**6, 28, 28) + bytes(1000) * 90_000)),
      ("l.gz", idx_bytes(band_set(30, 3))[1])], r"i\.gz: holds more than 78,400,016 bytes of IDX data"),
    ([("l", struct.pack(">II", 2049, 30) + bytes([99] * 30)), ("i", idx_bytes(band_set(30, 3), gz=False)[0])],
     r"l: label 99 at index 0 is out of range 0-61"),
    ([("a.zip", b"PK\x03\x04 not really a zip")], r"a\.zip: not a zip file"),
    ([("a.zip", b"PK\x05\x06" + bytes(18))], r"a: empty: no files found"),  # a zip of nothing
    ([("set/../../etc/a.csv", _csv())], r"'set/\.\./\.\./etc/a\.csv' is not a file name this program accepts"),
])
def test_bad_uploads_are_refused_with_the_file_and_the_problem(files, match):
    with pytest.raises(OwnDataError, match=match):
        read_own_data(files)


def test_mixed_image_sizes_in_idx_pairs_name_the_odd_file(tmp_path):
    good_images, good_labels = idx_bytes(band_set(40, 4), gz=False)
    odd = struct.pack(">IIII", 2051, 10, 20, 20) + bytes(4000)
    files = [("train-images", good_images), ("train-labels", good_labels), ("t10k-images", odd),
             ("t10k-labels", idx_bytes(band_set(10, 4), gz=False)[1])]
    with pytest.raises(OwnDataError, match="t10k-images: images are 20x20, expected 28x28"):
        read_own_data(files)


@pytest.mark.parametrize("make, match", [
    (lambda p: _classes(p, {"cat": 12, "dog": 12}) and (p / "dog" / "notes.txt").write_text("hi"),
     r"dog/notes\.txt is not an image"),
    (lambda p: _classes(p, {"cat": 12, "dog": 12}) and (p / "dog" / "3.png").write_bytes(b"\x89PNG broken"),
     r"dog/3\.png is not an image \(PNG or JPG expected\)"),
    (lambda p: _classes(p, {"cat": 12, "dog": 12}) and (p / "dog" / "4.png").write_bytes(_blank_png()),
     r"dog/4\.png: nothing stands out from the background \(a blank image\?\)"),
    (lambda p: _classes(p, {"cat": 12, "dog": 12}) and (p / "loose.png").write_bytes(_blank_png()),
     r"loose\.png is not in a class folder"),
    (lambda p: _classes(p, {"cat": 12, "dog": 12}) and (p / "bird").mkdir(), r"the folder bird is empty"),
    (lambda p: _classes(p, {"cat": 12, "dog": 3}), r"class 'dog' \(folder dog\) has only 3 images"),
    (lambda p: _classes(p, {"cat": 12}), r"only one class \('cat'\)"),
    (lambda p: _classes(p / "train", {"cat": 12, "dog": 12}) and _classes(p / "test", {"cat": 2}),
     r"class 'dog' \(folder train/dog\) has no images in the test set"),
    (lambda p: _classes(p / "train", {"cat": 12, "dog": 12}) and _classes(p, {"cow": 10}),
     r"cow/0\.png is in neither the train nor the test folder"),
    (lambda p: p.mkdir(exist_ok=True), r"empty: no files found"),
])
def test_bad_image_folders_are_refused_naming_the_file_or_class(tmp_path, make, match):
    root = tmp_path / "set"
    root.mkdir()
    make(root)
    with pytest.raises(OwnDataError, match=match):
        read_own_data(root)


def _blank_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (40, 40), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def test_more_than_62_classes_is_refused_before_any_image_is_decoded(tmp_path, monkeypatch):
    tiny = _blank_png()  # blank: decoding one would fail, so the count must be checked first
    for c in range(63):
        (tmp_path / f"c{c}").mkdir()
        for i in range(10):
            (tmp_path / f"c{c}" / f"{i}.png").write_bytes(tiny)
    with pytest.raises(OwnDataError, match="63 classes; at most 62 are read here"):
        read_own_data(tmp_path)


def test_the_stated_limits_are_enforced(tmp_path, monkeypatch, shapes):
    monkeypatch.setattr(own, "MAX_IMAGE_FILES", 20)
    with pytest.raises(OwnDataError, match="36 images; at most 20 image files are read here"):
        read_own_data(shapes)
    monkeypatch.setattr(own, "MAX_ZIP_ENTRIES", 20)
    with pytest.raises(OwnDataError, match=r"x\.zip: 36 entries"):
        read_own_data([("x.zip", zip_folder(shapes))])
    monkeypatch.setattr(own, "MAX_ZIP_ENTRIES", 1000)
    monkeypatch.setattr(own, "MAX_UNPACKED_MB", 0.01)
    with pytest.raises(OwnDataError, match=r"x\.zip: unpacks to .* MB; at most 0.01 MB"):
        read_own_data([("x.zip", zip_folder(shapes))])
    monkeypatch.setattr(own, "MAX_TOTAL_MB", 0.001)
    with pytest.raises(OwnDataError, match=r"a\.csv: 0 MB in all; at most 0.001 MB"):
        read_own_data([("a.csv", _csv(30))])
    monkeypatch.setattr(own, "MAX_TOTAL_MB", 200)
    monkeypatch.setattr(own, "MAX_RECORDS", 25)
    with pytest.raises(OwnDataError, match="a.csv: more than 25 records; a dataset here has at most 25"):
        read_own_data([("a.csv", _csv(30))])
    with pytest.raises(OwnDataError, match=r"test fraction 0\.9 is out of range; use 0\.05 to 0\.5"):
        read_own_data([("a.csv", _csv(30))], test_fraction=0.9)


def test_a_zip_entry_pointing_outside_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil/1.png", _blank_png())
    with pytest.raises(OwnDataError, match="points outside the zip"):
        read_own_data([("evil.zip", buffer.getvalue())])


# --------------------------------------------------------------------------- on the server


def test_the_store_keeps_a_dataset_whole_private_and_content_addressed(tmp_path, shapes):
    store = DatasetStore(tmp_path / "datasets")
    data = read_own_data(shapes)
    assert store.save(OWNER, data) == data.key
    opened = store.open(OWNER, data.key)
    assert opened.tag == data.tag and opened.note == data.note
    assert np.array_equal(opened.train.images, data.train.images) and not opened.train.images.flags.writeable
    assert isinstance(opened.test.images, np.memmap) or isinstance(opened.test.images.base, np.memmap)
    store.save(OWNER, data)  # the same content again: kept once
    assert [m["key"] for m in store.describe(OWNER)] == [data.key]
    assert len(list((tmp_path / "datasets" / OWNER).iterdir())) == 1
    with pytest.raises(OwnDataError, match="not on this server"):  # another workspace: not found
        store.open(OTHER, data.key)
    assert store.describe(OTHER) == []
    with pytest.raises(OwnDataError, match="not found"):
        store.open("../" + OWNER, data.key)


def test_a_failed_save_leaves_nothing(tmp_path, monkeypatch):
    store = DatasetStore(tmp_path / "datasets")
    data = read_own_data([("a.csv", _csv(40, 2))])
    calls = []

    def failing_save(stream, array, allow_pickle=False):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        np.lib.format.write_array(stream, array, allow_pickle=False)

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        store.save(OWNER, data)
    assert list((tmp_path / "datasets" / OWNER).iterdir()) == []
    with pytest.raises(OwnDataError):
        store.open(OWNER, data.key)


def test_housekeeping_and_the_quota_spare_datasets_in_use(tmp_path):
    store = DatasetStore(tmp_path / "datasets", max_sets=2, max_age_days=30)
    sets = [read_own_data([(f"{i}.csv", csv_bytes(band_set(30, 3, seed=i)))]) for i in range(4)]
    day = 86_400.0
    store.save(OWNER, sets[0], now=time.time() - 40 * day)
    store.save(OWNER, sets[1], now=time.time() - 20 * day)
    # a third pushes out the least recently used one that no run uses
    store.save(OWNER, sets[2], in_use={sets[0].key})
    assert {m["key"] for m in store.describe(OWNER)} == {sets[0].key, sets[2].key}
    with pytest.raises(DatasetLimitError, match="your runs use every one"):
        store.save(OWNER, sets[3], in_use={sets[0].key, sets[2].key})
    # old and unused goes; old but used by a run stays
    assert store.housekeeping({OWNER: {sets[0].key}}) == []
    assert store.housekeeping({}) == [sets[0].key]
    assert [m["key"] for m in store.describe(OWNER)] == [sets[2].key]


def test_every_limit_is_stated_in_the_readme():
    readme = (Path(__file__).resolve().parents[1] / "docs" / "guide.md").read_text()
    for number in (own.MAX_CLASSES, own.MIN_PER_CLASS, f"{own.MAX_RECORDS:,}",
                   f"{own.MAX_IMAGE_FILES:,}", own.MAX_TOTAL_MB, own.MAX_UNPACKED_MB):
        assert re.search(rf"\b{re.escape(str(number))}\b", readme), number
