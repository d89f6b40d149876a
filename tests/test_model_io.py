"""Model files: round trip, atomic save, and a clear error for every bad file."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from ann.config import NetworkConfig, TrainConfig
from ann.model_io import FORMAT_VERSION, ModelFileError, load_model, model_to_bytes, save_model
from ann.network import Network


def _trained_net(**config) -> Network:
    net = Network(NetworkConfig(**config), seed=3)
    rng = np.random.default_rng(0)
    X = rng.uniform(0.01, 1, (8, 784))
    net.train(X, net.targets(rng.integers(0, 10, 8)), 0.1, momentum=0.5)
    return net


@pytest.mark.parametrize("config", [{}, dict(hidden_nodes=(30, 20), bias=True, activation="relu",
                                             loss="cross_entropy", dtype="float64")])
def test_round_trip_keeps_weights_config_history(tmp_path, config):
    net = _trained_net(**config)
    history = [{"epoch": 1, "test_accuracy": 0.9, "train_loss": float("nan")}]
    path = save_model(tmp_path / "m.npz", net, TrainConfig(epochs=3), history, {"note": "hi"})
    loaded = load_model(path)
    assert loaded.network.config == net.config
    for a, b in zip(loaded.network.weights, net.weights):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    if net.biases is not None:
        for a, b in zip(loaded.network.biases, net.biases):
            np.testing.assert_array_equal(a, b)
    assert loaded.train_config == TrainConfig(epochs=3)
    assert loaded.history == [{"epoch": 1, "test_accuracy": 0.9, "train_loss": None}]
    assert loaded.info == {"note": "hi"}
    X = np.full((2, 784), 0.5)
    np.testing.assert_array_equal(loaded.network.query(X), net.query(X))
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left beside it


def test_model_file_holds_no_pickle(tmp_path):
    data = model_to_bytes(_trained_net())
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:  # would raise if anything were pickled
        meta = json.loads(str(npz["meta"]))
    assert meta["format_version"] == FORMAT_VERSION
    assert len(data) < 1_000_000  # the seed's 784-200-10 network in float32 is a small file


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_model(tmp_path / "m.npz", _trained_net())
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        save_model(path, _trained_net(hidden_nodes=(5,)))
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _good_meta(**changes) -> str:
    meta = json.loads(str(np.load(io.BytesIO(model_to_bytes(_trained_net())))["meta"]))
    meta.update(changes)
    return json.dumps(meta)


@pytest.mark.parametrize("data, match", [
    (b"", "not a model file"),
    (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "not a model file"),
    (model_to_bytes(Network())[:300], "corrupt or truncated"),
    (_npz_bytes(weights_0=np.zeros((200, 784))), "no 'meta' entry"),
    (_npz_bytes(meta=np.array("{not json")), "not valid JSON"),
    (_npz_bytes(meta=np.array(json.dumps({"format": "keras"}))), "not an ANN Explorer model"),
    (_npz_bytes(meta=np.array(_good_meta(format_version=99))), "format version 99"),
    (_npz_bytes(meta=np.array(_good_meta(network={"activation": "swish"}))), "configuration is not valid"),
    (_npz_bytes(meta=np.array(_good_meta()), weights_0=np.zeros((200, 784))), "missing weights_1"),
    (_npz_bytes(meta=np.array(_good_meta()), weights_0=np.zeros((100, 784)), weights_1=np.zeros((10, 200))),
     r"weights_0 has shape \(100, 784\)"),
    (_npz_bytes(meta=np.array(_good_meta()), weights_0=np.full((200, 784), np.nan),
                weights_1=np.zeros((10, 200))), "NaN or infinite"),
])
def test_bad_model_files_get_a_clear_error(data, match):
    with pytest.raises(ModelFileError, match=match):
        load_model(data, name="upload.npz")


def test_pickled_object_array_is_refused():
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ModelFileError, match="corrupt|not"):
        load_model(buffer.getvalue())


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model(tmp_path)


def test_loading_from_a_file_object(tmp_path):
    data = model_to_bytes(_trained_net())
    loaded = load_model(io.BytesIO(data))
    assert loaded.network.config == NetworkConfig()
    assert zipfile.is_zipfile(io.BytesIO(data))


def test_read_model_info_describes_without_building(tmp_path):
    from ann.model_io import read_model_info

    path = save_model(tmp_path / "m.npz", _trained_net(hidden_nodes=(30,)), TrainConfig(epochs=2),
                      [{"epoch": 1}], {"note": "x"})
    meta = read_model_info(path)
    assert meta["network"].hidden_nodes == (30,) and meta["train"].epochs == 2
    assert meta["history"] == [{"epoch": 1}] and meta["info"] == {"note": "x"}
    (tmp_path / "bad.npz").write_bytes(b"junk")
    with pytest.raises(ModelFileError, match=r"bad\.npz: not a model file"):
        read_model_info(tmp_path / "bad.npz")


def test_float16_storage_halves_the_file_and_reads_back_in_the_network_s_dtype():
    net = Network(NetworkConfig(hidden_nodes=(300,), bias=True), seed=1)
    full, half = model_to_bytes(net), model_to_bytes(net, storage="float16")
    assert len(half) < 0.6 * len(full)
    loaded = load_model(half).network
    assert loaded.dtype == np.float32 and loaded.config == net.config
    for stored, original in zip(loaded.weights + loaded.biases, net.weights + net.biases):
        assert stored.dtype == np.float32
        np.testing.assert_allclose(stored, original, rtol=2 ** -11, atol=2 ** -24)
    with pytest.raises(ValueError, match="float16, float32 or float64"):
        model_to_bytes(net, storage="int8")


def test_every_shipped_model_loads_and_is_a_few_mb():
    from ann.models import SHIPPED_MODELS, default_model, shipped_model

    for model in SHIPPED_MODELS:
        if not model.path.is_file():
            continue
        assert model.path.stat().st_size < 4 * 2**20, model.label  # a few MB at most
        loaded = load_model(model.path)
        assert loaded.info.get("test_accuracy", 0) > 0.95 and loaded.network.config.output_nodes == 10
    assert default_model() is not None and default_model().name in {m.name for m in SHIPPED_MODELS}
    with pytest.raises(KeyError, match="the shipped models are"):
        shipped_model("nonsense")
