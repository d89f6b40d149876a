"""Model files: the network, its configuration and its training history in one ``.npz``, without pickle.

Layout of a model file (format version 1): arrays ``weights_0 .. weights_{L-1}`` (each (n_out, n_in)),
``biases_0 ..`` when the network has biases, and ``meta``, a 0-d unicode array holding JSON::

    {"format": "ann-explorer-model", "format_version": 1, "network": {...NetworkConfig...},
     "train": {...TrainConfig...} or null, "history": [per-epoch dicts], "info": {...free-form...},
     "dataset": {"key": "fashion", "title": "Fashion-MNIST", "classes": ["T-shirt/top", ...]}}

``dataset`` records what the network was trained on: output ``i`` is ``classes[i]`` (a file written before it
was recorded counts as MNIST). Loading gives it as :attr:`LoadedModel.dataset`; ``ann.dataset_tag.mismatch`` says
when it is not the dataset in use.

Saving is atomic (a temporary file in the same folder, then a rename), so a crash never leaves half a model
where a good one was.

Reading is bounded, because a model file may be a visitor's upload: a 3.5 MB .npz can hold a compressed
30000x30000 array (3.6 GB unpacked). :func:`load_model` and :func:`read_model_info` check the zip's table of
contents, every entry's name and ``.npy`` header, ``meta`` and the configuration it holds, and every header
shape against that configuration, before a single array is unpacked; the weights are then read one layer at a
time into the network. Anything wrong is a :class:`ModelFileError` that names the file and the problem.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ann.config import ConfigError, NetworkConfig, TrainConfig
from ann.dataset_tag import MNIST_TAG, DatasetTag
from ann.files import atomic_write_bytes

if TYPE_CHECKING:  # the network brings SciPy; describing a model file (read_model_info) needs only NumPy
    from ann.network import Network

FORMAT_NAME = "ann-explorer-model"
FORMAT_VERSION = 1
MAX_MODEL_BYTES = 200 * 1024 * 1024  # the file itself: far above any sensible MLP here
MAX_MODEL_PARAMETERS = 16_000_000  # weights and biases: 4x the Train page's largest network (784-4x1000-10);
#                                    64 MB in float32, 128 MB in float64
MAX_META_CHARS = 1_000_000  # the JSON in ``meta``: a 1,000-epoch history takes about a third of it
MAX_LAYERS = 11  # NetworkConfig allows 10 hidden layers, plus the output layer
MAX_MEMBERS = 1 + 2 * MAX_LAYERS  # meta, and weights and biases for each layer
MAX_DIRECTORY_BYTES = 64 * 1024  # the zip's table of contents: a model file's takes about 100 bytes an entry
_MAX_NPY_HEADER = 10_000  # NumPy's own default limit on an .npy header (read with ast.literal_eval)
_FINITE_CHECK_BLOCK = 1 << 20  # values checked for NaN at a time
_MEMBER_NAME = re.compile(r"(meta|(weights|biases)_(?P<index>[0-9]{1,2}))\.npy")
# The zip's end record (signature, disk numbers, entry counts, size and offset of the table of contents,
# comment length) and the ZIP64 locator that would come just before it.
_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_LOCATOR_BYTES = 20


class ModelFileError(ValueError):
    """A model file cannot be read: not an .npz of ours, corrupt, a newer format, or inconsistent."""


@dataclass
class LoadedModel:
    """What a model file holds."""

    network: Network
    train_config: TrainConfig | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    dataset: DatasetTag = MNIST_TAG  # what it was trained on: output i is dataset.class_names[i]


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars as Python numbers and NaN/inf as None (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def model_to_bytes(network: Network, train_config: TrainConfig | None = None,
                   history: list[dict[str, Any]] | None = None, info: dict[str, Any] | None = None,
                   dataset: DatasetTag | None = None, storage: str | None = None) -> bytes:
    """The model file's bytes (for a download button, or to write yourself).

    ``dataset`` is what the network was trained on; None means MNIST for a network of 10 outputs (every model
    before datasets were recorded), else classes named by their numbers.

    ``storage`` ("float16", "float32" or "float64") stores the weights and biases in that precision; by
    default the network's own. A float16 file is half the size of a float32 one; reading it gives the
    network's own dtype back (the values rounded to float16's 11 significant bits).
    """
    if storage is not None and storage not in ("float16", "float32", "float64"):
        raise ValueError(f"storage={storage!r} is not known; choose float16, float32 or float64")
    tag = dataset if dataset is not None else DatasetTag.from_json(None, network.config.output_nodes)
    if tag.n_classes != network.config.output_nodes:
        raise ValueError(f"the dataset {tag.describe()} does not fit a network of {network.config.output_nodes} "
                         "outputs")
    net_cfg = asdict(network.config)
    net_cfg["hidden_nodes"] = list(network.config.hidden_nodes)
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "network": net_cfg,
        "train": asdict(train_config) if train_config is not None else None,
        "history": history or [],
        "info": info or {},
        "dataset": tag.to_json(),
    }
    arrays = {f"weights_{i}": W for i, W in enumerate(network.weights)}
    if network.biases is not None:
        arrays.update({f"biases_{i}": b for i, b in enumerate(network.biases)})
    if storage is not None:
        arrays = {key: value.astype(storage) for key, value in arrays.items()}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array(json.dumps(jsonable(meta))), **arrays)
    return buffer.getvalue()


def save_model(path: str | os.PathLike, network: Network, train_config: TrainConfig | None = None,
               history: list[dict[str, Any]] | None = None, info: dict[str, Any] | None = None,
               dataset: DatasetTag | None = None, storage: str | None = None) -> Path:
    """Write a model file atomically and return its path (``dataset`` and ``storage``: see
    :func:`model_to_bytes`)."""
    path = Path(path)
    data = model_to_bytes(network, train_config, history, info, dataset, storage)
    atomic_write_bytes(path, data)
    return path


def read_model_info(source: str | os.PathLike | bytes | IO[bytes], name: str | None = None) -> dict[str, Any]:
    """A model file's configuration, history and info without reading its weights or building its network.

    Cheap, for listing or describing a model: only the zip's table of contents, the arrays' headers and
    ``meta`` are read, with every check of :func:`load_model` that needs no weights (so a file described
    here loads, unless its weights are damaged).

    Parameters
    ----------
    source : path, bytes or binary file object
        The model file.
    name : str, optional
        The name used in messages (default: the path, or "model file").

    Returns
    -------
    dict
        ``network`` (NetworkConfig), ``train`` (TrainConfig or None), ``history`` (list of per-epoch dicts),
        ``info`` (dict), ``dataset`` (DatasetTag: what it was trained on).

    Raises
    ------
    ModelFileError
        Like :func:`load_model`.
    """
    with _open_source(source, name) as (stream, label), _guarded(label), _open_zip(stream, label) as archive:
        members = _read_members(archive, label)
        model = _read_meta(archive, members, label)
        _expected_arrays(members, model, label)
    return {"network": model.network, "train": model.train_config, "history": model.history,
            "info": model.info, "dataset": model.dataset}


def load_model(source: str | os.PathLike | bytes | IO[bytes], name: str | None = None) -> LoadedModel:
    """Read a model file from a path, bytes or a binary file object, in bounded memory.

    Everything is checked before any array is unpacked: the zip's table of contents (at most
    ``MAX_MEMBERS`` entries), each entry's name and ``.npy`` header (plain float arrays only; no objects,
    so no pickle, no structured or nested data), ``meta`` (at most ``MAX_META_CHARS`` characters of JSON),
    the configuration it holds, and the header shapes against that configuration, which may have at most
    ``MAX_MODEL_PARAMETERS`` weights and biases. Then the arrays are read one at a time straight into the
    network, so the peak memory is the model's own size plus one layer: a small file that unpacks to
    gigabytes is refused in milliseconds.

    Parameters
    ----------
    source : path, bytes or binary file object
        The model file (at most ``MAX_MODEL_BYTES``).
    name : str, optional
        The name used in messages (default: the path, or "model file").

    Returns
    -------
    LoadedModel

    Raises
    ------
    ModelFileError
        With a message naming the file and what is wrong with it.
    """
    with _open_source(source, name) as (stream, label), _guarded(label), _open_zip(stream, label) as archive:
        members = _read_members(archive, label)
        model = _read_meta(archive, members, label)
        expected = _expected_arrays(members, model, label)
        dtype = np.dtype(model.network.dtype)
        arrays = {key: _read_weights(archive, members[key], dtype, label) for key in expected}
    n_layers = len(model.network.layer_sizes) - 1
    weights = [arrays[f"weights_{i}"] for i in range(n_layers)]
    biases = [arrays[f"biases_{i}"] for i in range(n_layers)] if model.network.bias else None
    return LoadedModel(network=_network_with(model.network, weights, biases), train_config=model.train_config,
                       history=model.history, info=model.info, dataset=model.dataset)


# --------------------------------------------------------------------------- reading, step by step


@dataclass(frozen=True)
class _Member:
    """One ``.npy`` entry of the archive as its header describes it (nothing unpacked yet)."""

    key: str  # "meta", "weights_0", ...
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


@dataclass(frozen=True)
class _Meta:
    network: NetworkConfig
    train_config: TrainConfig | None
    history: list[dict[str, Any]]
    info: dict[str, Any]
    dataset: DatasetTag


@contextmanager
def _open_source(source: str | os.PathLike | bytes | IO[bytes], name: str | None
                 ) -> Iterator[tuple[IO[bytes], str]]:
    """A seekable binary stream over the model file (bytes given are not copied) and its name for messages."""
    if isinstance(source, (str, os.PathLike)):
        name = name or str(source)
        path = Path(source)
        if path.is_dir():
            raise ModelFileError(f"{name}: is a folder, not a model file")
        try:
            stream = open(path, "rb")  # noqa: SIM115 -- closed by the with below; a missing file gets its message
        except FileNotFoundError:
            raise ModelFileError(f"{name}: no such file") from None
        except OSError as exc:
            raise ModelFileError(f"{name}: cannot be read ({exc.strerror or exc})") from None
        with stream:
            size = os.fstat(stream.fileno()).st_size
            _check_file_size(size, stream.read(2), name)
            yield stream, name
        return
    name = name or "model file"
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = source if isinstance(source, bytes) else bytes(source)
    else:
        data = source.read(MAX_MODEL_BYTES + 1)
        if not isinstance(data, bytes):
            raise ModelFileError(f"{name}: reading it gave {type(data).__name__}, not bytes; open it in binary "
                                 "mode ('rb')")
    _check_file_size(len(data), data[:2], name)
    yield io.BytesIO(data), name  # BytesIO shares the bytes object until written to: no copy


def _check_file_size(size: int, start: bytes, name: str) -> None:
    if size > MAX_MODEL_BYTES:
        raise ModelFileError(f"{name}: {size / 2**20:.0f} MB is larger than a model file can be here (at most "
                             f"{MAX_MODEL_BYTES // 2**20} MB)")
    if start != b"PK":
        raise ModelFileError(f"{name}: not a model file (an .npz saved by ANN Explorer is expected)")


# What reading an .npz can raise on damaged bytes: zipfile and zlib on the archive; NumPy's .npy header parser
# (ast.literal_eval, and tokenize for old headers) SyntaxError, tokenize.TokenError, ValueError, TypeError,
# RecursionError (deeply nested literals), KeyError and IndexError on odd dictionaries; struct and EOFError on
# short data.
NPY_READ_ERRORS = (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, struct.error, RuntimeError,
                   NotImplementedError, SyntaxError, tokenize.TokenError, TypeError, KeyError, IndexError,
                   RecursionError)


@contextmanager
def _guarded(name: str) -> Iterator[None]:
    """Whatever the zip or NumPy reader raises on damaged data becomes one clear ModelFileError."""
    try:
        yield
    except ModelFileError:
        raise
    except NPY_READ_ERRORS:  # their texts quote internals (and a header's bytes): said in our words instead
        raise ModelFileError(f"{name}: corrupt or truncated .npz (its data cannot be unpacked); save it "
                             "again") from None


@contextmanager
def _open_zip(stream: IO[bytes], name: str) -> Iterator[zipfile.ZipFile]:
    """The archive, once its end record says its table of contents is as small as a model file's.

    zipfile builds an object for every entry listed in the table of contents before anything can be
    checked, and a 50 MB upload can list a million empty entries: so the end record, found exactly where
    zipfile finds it, is read first.
    """
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    # zipfile looks for the end record at the very end, else for its last signature in the last 64 KB (an
    # archive comment may follow it); a ZIP64 locator would sit just before it.
    search_from = max(0, size - _EOCD.size - 0xFFFF)
    tail_from = max(0, search_from - _ZIP64_LOCATOR_BYTES)
    stream.seek(tail_from)
    tail = stream.read()
    end = len(tail) - _EOCD.size
    if not (end >= 0 and tail[end:end + 4] == _EOCD_SIGNATURE and tail[-2:] == b"\0\0"):
        end = tail.rfind(_EOCD_SIGNATURE, search_from - tail_from)
    if end < 0 or end + _EOCD.size > len(tail):
        raise ModelFileError(f"{name}: corrupt or truncated .npz (the end of its zip archive is missing)")
    if end >= _ZIP64_LOCATOR_BYTES and tail[end - _ZIP64_LOCATOR_BYTES:][:4] == _ZIP64_LOCATOR_SIGNATURE:
        raise ModelFileError(f"{name}: a ZIP64 archive; model files here are far below 4 GB and never need it")
    _, _, _, _, entries, directory_bytes, _, _ = _EOCD.unpack_from(tail, end)
    if entries > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise ModelFileError(f"{name}: a zip archive of {entries:,} entries ({directory_bytes:,} bytes of table "
                             f"of contents); a model file has at most {MAX_MEMBERS} (meta, weights and biases)")
    stream.seek(0)
    with zipfile.ZipFile(stream) as archive:
        yield archive


def _read_members(archive: zipfile.ZipFile, name: str) -> dict[str, _Member]:
    """Each entry's name and ``.npy`` header, checked, without unpacking any array."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise ModelFileError(f"{name}: the entries {repeated} appear more than once; save the model again")
    unknown = [n for n in names if not _is_member_name(n)]
    if unknown:
        shown = ", ".join(repr(n) for n in sorted(unknown)[:5]) + (" ..." if len(unknown) > 5 else "")
        raise ModelFileError(f"{name}: unexpected entries {shown}; a model file holds only meta.npy, "
                             "weights_<i>.npy and biases_<i>.npy (is it an .npz of ours?)")
    members = {}
    for info in infos:
        key = info.filename[:-len(".npy")]
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{name}: {key} is encrypted; model files are never encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{name}: {key} is compressed with zip method {info.compress_type}; NumPy "
                                 "writes only stored or deflated entries (save the model again)")
        with archive.open(info) as entry:
            try:
                version = np.lib.format.read_magic(entry)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(entry, max_header_size=_MAX_NPY_HEADER)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(entry, max_header_size=_MAX_NPY_HEADER)
                else:
                    raise ValueError(f".npy format version {version[0]}.{version[1]} is not used for plain arrays")
            except NPY_READ_ERRORS:
                raise ModelFileError(f"{name}: its entry {key} is not a NumPy array (its header is "
                                     "malformed)") from None
            header_bytes = entry.tell()
        if any(not isinstance(n, int) or n < 0 for n in shape):
            raise ModelFileError(f"{name}: {key} has an impossible shape {_short(shape)}")
        member = _Member(key, info, tuple(shape), dtype)
        if dtype.hasobject:
            raise ModelFileError(f"{name}: {key} holds Python objects (dtype object), which are not read: model "
                                 "files hold numbers and text only, never pickles")
        if info.file_size != header_bytes + member.nbytes:
            raise ModelFileError(f"{name}: {key} is damaged: its header announces {member.nbytes:,} bytes of "
                                 f"data ({_short(dtype)} {_short(tuple(shape))}), the entry holds "
                                 f"{info.file_size - header_bytes:,}")
        members[key] = member
    return members


def _short(value: Any, chars: int = 60) -> str:
    """A value from the file, shown in a message at most ``chars`` long (a header can hold kilobytes)."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= chars else text[:chars - 3] + "..."


def _is_member_name(filename: str) -> bool:
    match = _MEMBER_NAME.fullmatch(filename)
    return bool(match) and (match["index"] is None or int(match["index"]) < MAX_LAYERS)


def _read_meta(archive: zipfile.ZipFile, members: dict[str, _Member], name: str) -> _Meta:
    """The JSON in ``meta``, after its header says it is a modest piece of text."""
    member = members.get("meta")
    if member is None:
        raise ModelFileError(f"{name}: an .npz, but not an ANN Explorer model (no 'meta' entry)")
    if member.dtype.kind != "U" or member.shape != ():
        raise ModelFileError(f"{name}: its meta entry is not text ({_short(member.dtype)} "
                             f"{_short(member.shape)}); not an ANN Explorer model")
    chars = member.dtype.itemsize // 4
    if chars > MAX_META_CHARS:
        raise ModelFileError(f"{name}: its meta entry is {chars:,} characters long; a model's is far shorter "
                             f"(at most {MAX_META_CHARS:,} are read)")
    with archive.open(member.info) as entry:
        text = str(np.lib.format.read_array(entry, allow_pickle=False, max_header_size=_MAX_NPY_HEADER)[()])
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{name}: its metadata is not valid JSON ({exc})") from None
    except (ValueError, RecursionError) as exc:  # integers of 5,000 digits, lists nested 100,000 deep
        raise ModelFileError(f"{name}: its metadata is not JSON this program reads ({type(exc).__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{name}: an .npz, but not an ANN Explorer model")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{name}: format version {_short(version)}; this ANN Explorer reads up to version "
                             f"{FORMAT_VERSION} (upgrade ANN Explorer to read it)")
    try:
        net_cfg = NetworkConfig(**meta["network"])
        train_cfg = TrainConfig(**meta["train"]) if meta.get("train") else None
    except (ConfigError, TypeError, KeyError, ValueError) as exc:
        raise ModelFileError(f"{name}: its configuration is not valid ({exc})") from None
    history = meta.get("history") or []
    info = meta.get("info") or {}
    if not isinstance(history, list) or not isinstance(info, dict):
        raise ModelFileError(f"{name}: history or info has the wrong type")
    try:
        dataset = DatasetTag.from_json(meta.get("dataset"), net_cfg.output_nodes)
    except ValueError as exc:
        raise ModelFileError(f"{name}: the record of what it was trained on is not valid: {exc}") from None
    return _Meta(net_cfg, train_cfg, history, info, dataset)


def _expected_arrays(members: dict[str, _Member], model: _Meta, name: str) -> dict[str, tuple[int, ...]]:
    """The arrays the configuration calls for, in order, with their shapes; checked against the headers."""
    sizes = model.network.layer_sizes
    n_layers = len(sizes) - 1
    expected = {f"weights_{i}": (sizes[i + 1], sizes[i]) for i in range(n_layers)}
    if model.network.bias:
        expected |= {f"biases_{i}": (sizes[i + 1],) for i in range(n_layers)}
    parameters = sum(math.prod(shape) for shape in expected.values())
    if parameters > MAX_MODEL_PARAMETERS:
        layers = "-".join(str(n) for n in sizes)
        raise ModelFileError(f"{name}: its {layers} network has {parameters:,} weights and biases; models of at "
                             f"most {MAX_MODEL_PARAMETERS:,} are read here")
    for key, shape in expected.items():
        member = members.get(key)
        if member is None:
            raise ModelFileError(f"{name}: missing {key}")
        if member.shape != shape:
            raise ModelFileError(f"{name}: {key} has shape {_short(member.shape)}, but its configuration says {shape}; "
                                 "the file is damaged or was not saved by ANN Explorer")
        if member.dtype.kind != "f" or member.dtype.itemsize > 8:
            raise ModelFileError(f"{name}: {key} holds {_short(member.dtype)} values; weights and biases are float16, "
                                 "float32 or float64")
    extra = set(members) - {"meta"} - set(expected)
    if extra:
        raise ModelFileError(f"{name}: unexpected entries {sorted(extra)} for a {n_layers}-layer network"
                             + ("" if model.network.bias else " without biases"))
    return expected


def _read_weights(archive: zipfile.ZipFile, member: _Member, dtype: np.dtype, name: str) -> np.ndarray:
    """One array, unpacked in chunks into its own buffer, in the network's dtype, checked to be finite."""
    with archive.open(member.info) as entry:
        raw = np.lib.format.read_array(entry, allow_pickle=False, max_header_size=_MAX_NPY_HEADER)
    array = np.ascontiguousarray(raw, dtype=dtype)  # no copy when the file's dtype and order already fit
    del raw
    flat = array.reshape(-1)
    for start in range(0, flat.size, _FINITE_CHECK_BLOCK):  # in blocks: no full-size mask of booleans
        if not np.isfinite(flat[start:start + _FINITE_CHECK_BLOCK]).all():
            raise ModelFileError(f"{name}: {member.key} holds NaN or infinite values (the training diverged)")
    return array


def _network_with(config: NetworkConfig, weights: list[np.ndarray], biases: list[np.ndarray] | None) -> Network:
    """A network holding these arrays, without drawing random weights of the same size first (which would
    double what loading a model costs): the constructor runs on the smallest layers of the same kind, and
    the arrays then take their place."""
    from ann.network import Network  # SciPy: heavy, and only loading a network needs it

    smallest = replace(config, input_nodes=1, hidden_nodes=(1,) * len(config.hidden_nodes), output_nodes=2)
    network = Network(smallest)
    network.config = config
    network.weights = weights
    network.biases = biases
    return network
