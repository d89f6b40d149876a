"""Model files: the network, its configuration and its training history in one ``.npz``, without pickle.

Layout of a model file (format version 1): arrays ``weights_0 .. weights_{L-1}`` (each (n_out, n_in)),
``biases_0 ..`` when the network has biases, and ``meta``, a 0-d unicode array holding JSON::

    {"format": "ann-explorer-model", "format_version": 1, "network": {...NetworkConfig...},
     "train": {...TrainConfig...} or null, "history": [per-epoch dicts], "info": {...free-form...}}

Saving is atomic (a temporary file in the same folder, then a rename), so a crash never leaves half a model
where a good one was.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ann.config import ConfigError, NetworkConfig, TrainConfig
from ann.files import atomic_write_bytes

if TYPE_CHECKING:  # the network brings SciPy; describing a model file (read_model_info) needs only NumPy
    from ann.network import Network

FORMAT_NAME = "ann-explorer-model"
FORMAT_VERSION = 1
MAX_MODEL_BYTES = 200 * 1024 * 1024  # far above any sensible MLP here; stops a hostile upload early


class ModelFileError(ValueError):
    """A model file cannot be read: not an .npz of ours, corrupt, a newer format, or inconsistent."""


@dataclass
class LoadedModel:
    """What a model file holds."""

    network: Network
    train_config: TrainConfig | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def model_to_bytes(network: Network, train_config: TrainConfig | None = None,
                   history: list[dict[str, Any]] | None = None, info: dict[str, Any] | None = None) -> bytes:
    """The model file's bytes (for a download button, or to write yourself)."""
    net_cfg = asdict(network.config)
    net_cfg["hidden_nodes"] = list(network.config.hidden_nodes)
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "network": net_cfg,
        "train": asdict(train_config) if train_config is not None else None,
        "history": history or [],
        "info": info or {},
    }
    arrays = {f"weights_{i}": W for i, W in enumerate(network.weights)}
    if network.biases is not None:
        arrays.update({f"biases_{i}": b for i, b in enumerate(network.biases)})
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array(json.dumps(_jsonable(meta))), **arrays)
    return buffer.getvalue()


def save_model(path: str | os.PathLike, network: Network, train_config: TrainConfig | None = None,
               history: list[dict[str, Any]] | None = None, info: dict[str, Any] | None = None) -> Path:
    """Write a model file atomically and return its path."""
    path = Path(path)
    data = model_to_bytes(network, train_config, history, info)
    atomic_write_bytes(path, data)
    return path


def read_model_info(source: str | os.PathLike) -> dict[str, Any]:
    """A model file's configuration, history and info without reading its weights or building its network
    (cheap: for listing or describing a model). Keys: ``network`` (NetworkConfig), ``train`` (TrainConfig or
    None), ``history``, ``info``. Raises :class:`ModelFileError` like :func:`load_model`."""
    name = str(source)
    try:
        with np.load(source, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
        if meta.get("format") != FORMAT_NAME or meta.get("format_version", 0) > FORMAT_VERSION:
            raise ModelFileError(f"{name}: not an ANN Explorer model of a version this program reads")
        return {"network": NetworkConfig(**meta["network"]),
                "train": TrainConfig(**meta["train"]) if meta.get("train") else None,
                "history": list(meta.get("history") or []), "info": dict(meta.get("info") or {})}
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such file") from None
    except Exception as exc:  # noqa: BLE001 -- any damage: say which file and what
        raise ModelFileError(f"{name}: not a readable model file ({exc})") from None


def load_model(source: str | os.PathLike | bytes | IO[bytes], name: str | None = None) -> LoadedModel:
    """Read a model file from a path, bytes or a binary file object.

    Raises
    ------
    ModelFileError
        With a message naming the file and what is wrong with it.
    """
    if isinstance(source, (str, os.PathLike)):
        name = name or str(source)
        try:
            size = Path(source).stat().st_size
            if size > MAX_MODEL_BYTES:
                raise ModelFileError(f"{name}: {size} bytes is too large for a model file of ours")
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise ModelFileError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise ModelFileError(f"{name}: is a folder, not a model file") from None
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = source.read(MAX_MODEL_BYTES + 1)
    name = name or "model file"
    if len(data) > MAX_MODEL_BYTES:
        raise ModelFileError(f"{name}: larger than {MAX_MODEL_BYTES // 2**20} MB, too large for a model file")
    if not data.startswith(b"PK"):
        raise ModelFileError(f"{name}: not a model file (an .npz saved by ANN Explorer is expected)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ModelFileError(f"{name}: corrupt or truncated .npz ({exc})") from None
    if "meta" not in arrays:
        raise ModelFileError(f"{name}: an .npz, but not an ANN Explorer model (no 'meta' entry)")
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{name}: its metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{name}: an .npz, but not an ANN Explorer model")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{name}: format version {version!r}; this ANN Explorer reads up to version "
                             f"{FORMAT_VERSION} (upgrade ANN Explorer to read it)")
    try:
        net_cfg = NetworkConfig(**meta["network"])
        train_cfg = TrainConfig(**meta["train"]) if meta.get("train") else None
    except (ConfigError, TypeError, KeyError) as exc:
        raise ModelFileError(f"{name}: its configuration is not valid ({exc})") from None
    from ann.network import Network

    network = Network(net_cfg)
    n_layers = len(network.weights)
    for i in range(n_layers):
        key = f"weights_{i}"
        if key not in arrays:
            raise ModelFileError(f"{name}: missing {key}")
        W = arrays[key]
        if W.shape != network.weights[i].shape:
            raise ModelFileError(f"{name}: {key} has shape {W.shape}, but its configuration says "
                                 f"{network.weights[i].shape}")
        if not np.all(np.isfinite(W)):
            raise ModelFileError(f"{name}: {key} holds NaN or infinite values (the training diverged)")
        network.weights[i] = np.ascontiguousarray(W, dtype=network.dtype)
    if network.biases is not None:
        for i in range(n_layers):
            key = f"biases_{i}"
            if key not in arrays or arrays[key].shape != network.biases[i].shape:
                raise ModelFileError(f"{name}: {key} is missing or has the wrong shape")
            network.biases[i] = np.array(arrays[key], dtype=network.dtype)
    extra = set(arrays) - {"meta"} - {f"weights_{i}" for i in range(n_layers)} - {
        f"biases_{i}" for i in range(n_layers)}
    if extra:
        raise ModelFileError(f"{name}: unexpected entries {sorted(extra)} for a {n_layers}-layer network")
    history = meta.get("history") or []
    info = meta.get("info") or {}
    if not isinstance(history, list) or not isinstance(info, dict):
        raise ModelFileError(f"{name}: history or info has the wrong type")
    return LoadedModel(network=network, train_config=train_cfg, history=history, info=info)
