"""The named datasets (ann.data.named): registry, folders, downloads through a fake opener, identification,
and what a model file says it was trained on.

There is no route to the real mirrors here: the downloads are served by a fake ``urlopen`` from small files
the tests write in MNIST's format, with the registry's checksums patched to theirs for the test.
"""

from __future__ import annotations

import io
import json
import re
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from dataset_files import band_set, idx_bytes, md5

from ann.data import named
from ann.data.named import NAMED, Dataset, ensure_named, folder_of, identify_folder, load_named, named_status
from ann.data.split import ChecksumError, DownloadError
from ann.dataset_tag import MNIST_TAG, DatasetTag, mismatch

NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.delenv("ANN_DATA_DIR", raising=False)

    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr("urllib.request.urlopen", refuse)


class FakeResponse(io.BytesIO):
    def __init__(self, content: bytes):
        super().__init__(content)
        self.headers = {"Content-Length": str(len(content))}


def tiny_published(monkeypatch, key: str, seed: int = 0) -> dict[str, bytes]:
    """Small files in the dataset's format (600 training and 100 test images), with the registry's md5 sums
    patched to theirs: what the fake mirrors serve."""
    train_images, train_labels = idx_bytes(band_set(600, seed=seed))
    test_images, test_labels = idx_bytes(band_set(100, seed=seed + 1))
    files = dict(zip(NAMES, (train_images, train_labels, test_images, test_labels)))
    for name, content in files.items():
        monkeypatch.setitem(NAMED[key].published.files, name, md5(content))
    return files


def serve(monkeypatch, files: dict[str, bytes], fail: set[str] = frozenset()) -> list[str]:
    urls: list[str] = []

    def urlopen(request, timeout=None):
        url = request.full_url
        urls.append(url)
        assert timeout and timeout > 0
        if any(url.startswith(prefix) for prefix in fail):
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        return FakeResponse(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    return urls


# --------------------------------------------------------------------------- the registry


def test_the_registry_names_each_dataset_its_classes_and_its_own_folder(tmp_path):
    assert list(NAMED) == ["mnist", "fashion", "kmnist"]
    assert NAMED["fashion"].class_names[0] == "T-shirt/top" and NAMED["fashion"].class_names[9] == "Ankle boot"
    assert NAMED["kmnist"].class_names[0] == "o (お)" and NAMED["kmnist"].class_names[9] == "wo (を)"
    for spec in NAMED.values():
        assert len(spec.class_names) == len(set(spec.class_names)) == 10
        assert list(spec.published.files) == list(NAMES)
        assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in spec.published.files.values())
        assert spec.published.mirror_list() and all(m.endswith("/") for m in spec.published.mirror_list())
    assert folder_of("mnist", tmp_path) == tmp_path  # where MNIST always was
    assert folder_of("fashion", tmp_path) == tmp_path / "fashion"
    assert folder_of("kmnist", tmp_path) == tmp_path / "kmnist"
    with pytest.raises(named.UnknownDatasetError, match="dataset 'emnist' is not known; choose one of: mnist"):
        folder_of("emnist")
    # the three publish different files under the same names: their checksums must all differ
    sums = [v for spec in NAMED.values() for v in spec.published.files.values()]
    assert len(set(sums)) == 12


# --------------------------------------------------------------------------- downloads


@pytest.mark.parametrize("key", ["fashion", "kmnist"])
def test_a_named_dataset_downloads_into_its_folder_verified_and_loads_with_its_class_names(monkeypatch, tmp_path, key):
    files = tiny_published(monkeypatch, key)
    urls = serve(monkeypatch, files)
    progress = []
    folder = ensure_named(key, tmp_path, progress=lambda *a: progress.append(a))
    assert folder == tmp_path / key
    assert urls == [NAMED[key].published.mirror_list()[0] + name for name in NAMES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)  # no temporary files left
    assert progress[-1] == (len(files[NAMES[-1]]), len(files[NAMES[-1]]), NAMES[-1])
    assert named_status(key, tmp_path)["complete"] and not named_status("mnist", tmp_path)["complete"]
    data = load_named(key, tmp_path)
    assert isinstance(data, Dataset) and data.key == key and data.class_names == NAMED[key].class_names
    assert len(data.train) == 600 and len(data.test) == 100 and not data.digits
    mapped = load_named(key, tmp_path, mapped=True)
    assert np.array_equal(mapped.train.images, data.train.images) and not mapped.train.images.flags.writeable
    # present files: no network at all
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("network"))
    assert len(load_named(key, tmp_path).test) == 100


def test_the_next_mirror_is_tried_and_a_corrupt_file_is_refused_leaving_nothing(monkeypatch, tmp_path):
    files = tiny_published(monkeypatch, "fashion")
    mirrors = NAMED["fashion"].published.mirror_list()
    urls = serve(monkeypatch, files, fail={mirrors[0]})
    ensure_named("fashion", tmp_path)
    assert urls[:2] == [mirrors[0] + NAMES[0], mirrors[1] + NAMES[0]]

    broken = dict(files)
    broken[NAMES[0]] = files[NAMES[0]][:-10] + bytes(10)
    serve(monkeypatch, broken)
    with pytest.raises(DownloadError, match=rf"md5 [0-9a-f]{{32}}, expected {md5(files[NAMES[0]])}"):
        ensure_named("fashion", tmp_path / "other")
    assert list((tmp_path / "other" / "fashion").iterdir()) == []


def test_offline_the_message_says_what_to_fetch_and_where_to_put_it(monkeypatch, tmp_path):
    def offline(request, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(DownloadError) as info:
        load_named("kmnist", tmp_path)
    message = str(info.value)
    assert "Could not download Kuzushiji-MNIST file train-images-idx3-ubyte.gz" in message
    assert "its name could not be looked up" in message and "[Errno" not in message
    assert str(tmp_path / "kmnist") in message and all(name in message for name in NAMES)
    assert all(mirror in message for mirror in NAMED["kmnist"].published.mirror_list())
    assert "ANN_DATA_DIR" in message and "(in its kmnist/ subfolder)" in message
    assert not any((tmp_path / "kmnist").iterdir())


def test_a_present_file_with_the_wrong_checksum_is_named_and_kept(monkeypatch, tmp_path):
    files = tiny_published(monkeypatch, "fashion")
    folder = tmp_path / "fashion"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    (folder / NAMES[1]).write_bytes(idx_bytes(band_set(600, seed=9))[1])
    with pytest.raises(ChecksumError, match=r"train-labels-idx1-ubyte.gz: .*not the original Fashion-MNIST file"):
        load_named("fashion", tmp_path)
    assert named_status("fashion", tmp_path)["corrupt"] == [NAMES[1]]


def test_identify_folder_tells_the_named_sets_apart_by_checksum(monkeypatch, tmp_path, mnist_dir):
    files = tiny_published(monkeypatch, "kmnist", seed=3)
    (tmp_path / "k").mkdir()
    for name, content in files.items():
        (tmp_path / "k" / name).write_bytes(content)
    assert identify_folder(tmp_path / "k") == "kmnist"
    (tmp_path / "k" / NAMES[3]).unlink()  # one missing: still Kuzushiji-MNIST (the rest can be downloaded)
    assert identify_folder(tmp_path / "k") == "kmnist"
    assert identify_folder(mnist_dir) == "mnist"
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / NAMES[0]).write_bytes(idx_bytes(band_set(50, seed=4))[0])  # MNIST's name, not its file
    assert identify_folder(tmp_path / "own") is None
    assert identify_folder(tmp_path / "nothing") is None


# --------------------------------------------------------------------------- what a model was trained on


def test_tags_round_trip_and_bad_tags_say_what_is_wrong():
    tag = NAMED["fashion"].tag
    assert DatasetTag.from_json(json.loads(json.dumps(tag.to_json())), 10) == tag
    assert DatasetTag.from_json(None, 10) == MNIST_TAG  # files from before datasets were recorded
    assert DatasetTag.from_json(None, 3).class_names == ("0", "1", "2")
    for bad, match in (({"key": "Fashion!", "title": "x", "classes": ["a", "b"]}, "not a dataset key"),
                       ({"key": "own-1", "title": "", "classes": ["a", "b"]}, "title '' is not a name"),
                       ({"key": "own-1", "title": "x", "classes": ["a", 3]}, "classes are not a list of names"),
                       ({"key": "own-1", "title": "x", "classes": ["a", "b"]}, "names 2 classes for a network of 10"),
                       ([1, 2], "its dataset entry is list")):
        with pytest.raises(ValueError, match=match):
            DatasetTag.from_json(bad, 10)


def test_mismatch_names_both_datasets_and_whether_scores_mean_anything():
    assert mismatch(MNIST_TAG, MNIST_TAG) is None
    same_count = mismatch(MNIST_TAG, NAMED["fashion"].tag)
    assert "trained on MNIST, not on Fashion-MNIST" in same_count and "0, 1, 2, ..." in same_count
    own = DatasetTag("own-0123456789abcdef", "shapes", ("circle", "cross", "square"))
    other_count = mismatch(MNIST_TAG, own)
    assert "its 10 outputs do not match the 3 classes, so it cannot be scored on shapes" in other_count


def test_a_model_file_records_its_dataset_and_old_files_count_as_mnist(tmp_path):
    from ann.config import NetworkConfig
    from ann.model_io import ModelFileError, load_model, model_to_bytes, read_model_info, save_model
    from ann.network import Network

    own = DatasetTag("own-0123456789abcdef", "shapes", ("circle", "cross", "square"))
    network = Network(NetworkConfig(hidden_nodes=(8,), output_nodes=3), seed=1)
    save_model(tmp_path / "m.npz", network, dataset=own)
    assert load_model(tmp_path / "m.npz").dataset == own
    assert read_model_info(tmp_path / "m.npz")["dataset"] == own
    with pytest.raises(ValueError, match="does not fit a network of 3 outputs"):
        model_to_bytes(network, dataset=MNIST_TAG)

    ten = Network(NetworkConfig(hidden_nodes=(8,)), seed=1)
    old = _rewrite_meta(model_to_bytes(ten), lambda meta: meta.pop("dataset"))
    assert load_model(old).dataset == MNIST_TAG
    bad = _rewrite_meta(model_to_bytes(ten), lambda meta: meta["dataset"].update(classes=["a"] * 9))
    with pytest.raises(ModelFileError, match="the record of what it was trained on is not valid: it names 9 classes"):
        load_model(bad, name="bad.npz")


def _rewrite_meta(data: bytes, change) -> bytes:
    with np.load(io.BytesIO(data)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(meta)
    out = io.BytesIO()
    np.savez_compressed(out, meta=np.array(json.dumps(meta)), **arrays)
    return out.getvalue()


def test_the_shipped_model_is_an_mnist_model():
    from ann.model_io import read_model_info

    shipped = Path(__file__).resolve().parents[1] / "data" / "pretrained.npz"
    assert read_model_info(shipped)["dataset"] == MNIST_TAG
