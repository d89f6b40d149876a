"""Checkpoint files of a run: each epoch's model snapshot and the exact resume state.
"""

from __future__ import annotations

import itertools
import json
import math
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from ann.config import NetworkConfig, configs_to_dict
from ann.files import atomic_write
from ann.model_io import FORMAT_NAME, FORMAT_VERSION, NPY_READ_ERRORS, jsonable
from ann.service.records import CHECKPOINT_FORMAT, CheckpointError, RunInfo, dumps_json

if TYPE_CHECKING:  # the network brings SciPy; listing runs needs only NumPy and sqlite3
    from ann.network import Network


# --------------------------------------------------------------------------- checkpoint files


def folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.iterdir() if folder.exists() else ():
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


def write_model_snapshot(path: Path, network: Network, run: RunInfo, history: list[dict[str, Any]]) -> None:
    """An epoch's network as a model file (``ann.model_io``'s format) with float16 weights: half the disk,
    and for looking at the weights, maps and confusion matrices of an epoch, no visible difference."""

    net_cfg = asdict(network.config)
    net_cfg["hidden_nodes"] = list(network.config.hidden_nodes)
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "network": net_cfg,
            "train": asdict(run.train_config), "history": history,
            "info": run.info() | {"epoch": len(history), "stored_as": "float16"},
            "dataset": run.dataset_tag.to_json()}
    arrays = {f"weights_{i}": W.astype(np.float16) for i, W in enumerate(network.weights)}
    if network.biases is not None:
        arrays.update({f"biases_{i}": b.astype(np.float16) for i, b in enumerate(network.biases)})
    atomic_write(path, lambda stream: np.savez_compressed(stream, meta=np.array(dumps_json(meta)), **arrays))


POINT_COLUMNS = ("samples", "epoch", "train_loss", "train_accuracy", "slice_accuracy")  # a live point's values


def write_resume(path: Path, network: Network, rng: np.random.Generator, history: list[dict[str, Any]],
                 events: list[dict[str, Any]], learning_rate: float, run: RunInfo,
                 points: list[dict[str, Any]] | None = None) -> None:
    """Everything needed to continue exactly: weights, biases and momentum buffers in the network's own
    dtype, the random generator's state, the history so far (and, for a rebuild, the run's settings and its
    live points: an array of :data:`POINT_COLUMNS`, NaN where a point has no slice accuracy)."""
    meta = {"format": CHECKPOINT_FORMAT, "format_version": 1, "run": run.id, "epoch": len(history),
            "network": configs_to_dict(run.network_config, run.train_config), "history": history,
            "events": events, "learning_rate": learning_rate,
            "rng": rng.bit_generator.state, "rng_kind": type(rng.bit_generator).__name__,
            "samples_seen": int(history[-1]["samples_seen"]) if history else 0,
            "momentum_layers": 0 if network._velocity is None else len(network._velocity)}
    arrays: dict[str, np.ndarray] = {f"weights_{i}": W for i, W in enumerate(network.weights)}
    if network.biases is not None:
        arrays.update({f"biases_{i}": b for i, b in enumerate(network.biases)})
    for i, v in enumerate(network._velocity or []):
        arrays[f"velocity_{i}"] = v
    arrays["points"] = np.array([[np.nan if p[c] is None else p[c] for c in POINT_COLUMNS] for p in points or []],
                                np.float64).reshape(-1, len(POINT_COLUMNS))
    # The generator's state holds 128-bit integers: JSON keeps them exactly (Python ints), unlike npz.
    atomic_write(path, lambda stream: np.savez(stream, meta=np.array(json.dumps(jsonable(meta))), **arrays))


# Messages name a checkpoint by its file name alone: they reach visitors, who have no business with the server's
# folders (the run store names the run).


MAX_META_BYTES = 64 * 2**20  # a checkpoint's meta (history, events, the generator's state) and live points
_MAX_NPY_HEADER = 10_000  # NumPy's own default limit on an .npy header


def _check_sizes(stream: BinaryIO, name: str, max_bytes: int, keys: tuple[str, ...] | None = None) -> None:
    """Every entry's ``.npy`` header against its zip entry's size, and their sum against ``max_bytes``, before
    ``np.load`` allocates what a (damaged) header claims. ``keys``: only these entries."""
    try:
        with zipfile.ZipFile(stream) as archive:
            total = 0
            for info in archive.infolist():
                key = info.filename.removesuffix(".npy")
                if keys is not None and key not in keys:
                    continue
                with archive.open(info) as entry:
                    version = np.lib.format.read_magic(entry)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(entry, max_header_size=_MAX_NPY_HEADER)
                    header_bytes = entry.tell()
                if dtype.hasobject or header_bytes + math.prod(shape) * dtype.itemsize != info.file_size:
                    raise CheckpointError(f"{name} is damaged (an array's header does not match its size)")
                total += info.file_size
        if total > max_bytes:
            raise CheckpointError(f"{name} is damaged (it claims {total / 2**20:,.0f} MB of arrays)")
    except NPY_READ_ERRORS:
        raise CheckpointError(f"{name} is damaged (it cannot be read as a checkpoint)") from None
    stream.seek(0)


def read_checkpoint_meta(path: Path) -> dict[str, Any]:
    """A checkpoint's metadata, with its live points as dicts under ``"points"`` (none in an older file)."""
    try:
        with open(path, "rb") as stream:
            _check_sizes(stream, path.name, MAX_META_BYTES, keys=("meta", "points"))
            with np.load(stream, allow_pickle=False) as npz:
                meta = json.loads(str(npz["meta"]))
                rows = npz["points"].tolist() if "points" in npz.files else []
        if isinstance(meta, dict):
            meta["points"] = [{c: (int(v) if c in ("samples", "epoch") else None if math.isnan(v) else v)
                               for c, v in zip(POINT_COLUMNS, row)} for row in rows]
    except FileNotFoundError:
        raise CheckpointError(f"{path.name} is missing") from None
    except CheckpointError:
        raise
    except NPY_READ_ERRORS:  # np.load's zip and header parsers: their texts quote internals
        raise CheckpointError(f"{path.name} is damaged (it cannot be read as a checkpoint)") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path.name} is not a checkpoint of ANN Explorer")
    return meta


def read_resume(path: Path, network_config: NetworkConfig, network_only: bool = False) -> dict[str, Any]:
    """Read a ``resume.npz`` written by :func:`write_resume`, checking every array against the network's
    configuration. Raises :class:`CheckpointError` naming the file and the problem.

    ``network_only``: leave the momentum out (the network has none: it is for predicting, not for going on
    training). Its arrays are as large as the weights and are then never read: the dashboard's server reads a
    run's network this way, a third of the bytes of the whole state (the Best network: about 10 MB of 30
    MB held for a moment, 5 MB kept).
    """
    from ann.network import Network  # SciPy: heavy, and listing runs needs no network

    try:
        # one open file: an atomic replacement by a worker meanwhile leaves this reader on the old, whole file
        stream = open(path, "rb")  # noqa: SIM115 -- closed below, also when np.load fails
    except FileNotFoundError:
        raise CheckpointError(f"{path.name} is missing: the run has no checkpoint to start from") from None
    parameters = sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(network_config.layer_sizes))
    try:
        with stream:
            # weights, biases and momentum, in float64 at most, and the meta and live points
            _check_sizes(stream, path.name, 2 * parameters * 8 + MAX_META_BYTES)
            with np.load(stream, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files
                          if key != "points" and not (network_only and key.startswith("velocity_"))}
        meta = json.loads(str(arrays.pop("meta")))
    except CheckpointError:
        raise
    except NPY_READ_ERRORS:
        raise CheckpointError(f"{path.name} is damaged (it cannot be read as a checkpoint)") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path.name} is not a checkpoint of ANN Explorer")
    network = Network(network_config)
    try:
        for i, W in enumerate(network.weights):
            got = arrays[f"weights_{i}"]
            if got.shape != W.shape or got.dtype != W.dtype:
                raise CheckpointError(f"{path.name}: weights_{i} is {got.dtype}{got.shape}, the run's network needs "
                                      f"{W.dtype}{W.shape}")
            network.weights[i] = np.ascontiguousarray(got)
        if network.biases is not None:
            network.biases = [np.array(arrays[f"biases_{i}"], dtype=network.dtype)
                              for i in range(len(network.weights))]
        n_velocity = 0 if network_only else int(meta.get("momentum_layers") or 0)
        if n_velocity:
            network._velocity = [np.ascontiguousarray(arrays[f"velocity_{i}"]) for i in range(n_velocity)]
        rng = np.random.Generator(getattr(np.random, meta["rng_kind"])())
        rng.bit_generator.state = meta["rng"]
        history = list(meta["history"])
    except CheckpointError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, OverflowError):
        raise CheckpointError(f"{path.name} is incomplete or does not fit the run") from None
    return {"network": network, "rng": rng, "history": history, "samples_seen": int(meta.get("samples_seen", 0)),
            "learning_rate": float(meta.get("learning_rate", 0.0)), "events": list(meta.get("events") or [])}
