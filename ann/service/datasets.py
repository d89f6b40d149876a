"""The server's store of visitors' own datasets: each workspace's sets on disk, private to it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from ann.data.named import Dataset
from ann.data.own import DatasetLimitError, OwnDataError
from ann.data.split import Split
from ann.dataset_tag import KEY_PATTERN
from ann.files import atomic_write
from ann.inputs import N_PIXELS
from ann.service.records import PRIVATE_FOLDER

# --------------------------------------------------------------------------- on the server


_ARRAYS = (("train", "images", np.uint8, (N_PIXELS,)), ("train", "labels", np.int64, ()),
           ("test", "images", np.uint8, (N_PIXELS,)), ("test", "labels", np.int64, ()))
_OWNER_PATTERN = re.compile(r"^[0-9a-f]{32}$")


class DatasetStore:
    """Visitors' own datasets on the server, each private to its workspace.

    Layout: ``<root>/<owner>/<key>/`` (``owner`` is the run store's hash of the workspace key, never the key
    itself) holding ``train-images.npy``, ``train-labels.npy``, ``test-images.npy``, ``test-labels.npy`` and
    ``dataset.json`` (title, class names, note, counts, times). A dataset folder is written under a temporary
    name and renamed when whole, so a reader finds all of it or none; the same content has the same key, so
    saving it again only marks it used.

    Housekeeping (:meth:`housekeeping`, run by the run store's): a dataset that no run of its workspace uses
    is removed once unused for ``max_age_days``; saving beyond ``max_sets`` datasets or ``max_megabytes`` in a
    workspace first removes its least recently used datasets that no run uses, and is refused
    (:class:`DatasetLimitError`) when every one is in use.
    """

    def __init__(self, root: str | os.PathLike, *, max_sets: int = 5, max_megabytes: float = 300.0,
                 max_age_days: float = 30.0) -> None:
        self.root = Path(root)
        self.max_sets = max_sets
        self.max_megabytes = max_megabytes
        self.max_age_days = max_age_days

    def folder(self, owner: str, key: str) -> Path:
        if not _OWNER_PATTERN.match(owner) or not isinstance(key, str) or not KEY_PATTERN.match(key) \
                or not key.startswith("own-"):
            raise OwnDataError(f"dataset {key!r} not found")
        return self.root / owner / key

    def describe(self, owner: str) -> list[dict[str, Any]]:
        """The workspace's datasets (their ``dataset.json``), most recently used first."""
        found = []
        folder = self.root / owner if _OWNER_PATTERN.match(owner) else None
        if folder is None or not folder.is_dir():
            return []
        for path in folder.iterdir():
            meta = self._meta(path)
            if meta is not None:
                found.append(meta)
        return sorted(found, key=lambda m: -m.get("used", 0))

    def _meta(self, path: Path) -> dict[str, Any] | None:
        if not path.is_dir() or not KEY_PATTERN.match(path.name) or not path.name.startswith("own-"):
            return None
        try:
            meta = json.loads((path / "dataset.json").read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) and meta.get("key") == path.name else None

    def save(self, owner: str, dataset: Dataset, in_use: set[str] = frozenset(), now: float | None = None) -> str:
        """Keep ``dataset`` for the workspace (or mark it used if it is there already); returns its key.

        Raises
        ------
        DatasetLimitError
            The workspace already keeps ``max_sets`` datasets (or ``max_megabytes``) and runs use them all.
        """
        now = time.time() if now is None else now
        target = self.folder(owner, dataset.key)
        if self._meta(target) is not None:
            self.touch(owner, dataset.key, now)
            return dataset.key
        size = sum(np.asarray(getattr(getattr(dataset, s), k)).nbytes for s, k, _, _ in _ARRAYS)
        self._make_room(owner, size, in_use)
        # private to the server's user, as the run store is: datasets/, the workspace's folder, the set's
        self.root.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        target.parent.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        temp = target.parent / f".{dataset.key}.{secrets.token_hex(4)}.part"
        temp.mkdir(mode=PRIVATE_FOLDER)
        try:
            for split, kind, dtype, _ in _ARRAYS:
                array = np.ascontiguousarray(getattr(getattr(dataset, split), kind), dtype=dtype)
                atomic_write(temp / f"{split}-{kind}.npy",
                             lambda stream, a=array: np.save(stream, a, allow_pickle=False))
            train_counts, test_counts = dataset.counts()
            meta = {"key": dataset.key, "title": dataset.title, "classes": list(dataset.class_names),
                    "note": dataset.note, "train": len(dataset.train), "test": len(dataset.test),
                    "train_counts": train_counts.tolist(), "test_counts": test_counts.tolist(),
                    "bytes": int(size), "created": now, "used": now}
            atomic_write(temp / "dataset.json", lambda stream: stream.write(json.dumps(meta).encode()))
            try:
                os.rename(temp, target)
            except OSError:
                if self._meta(target) is None:  # not another writer's identical copy: a real failure
                    raise
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        return dataset.key

    def _make_room(self, owner: str, size: int, in_use: set[str]) -> None:
        kept = self.describe(owner)
        used = sum(int(m.get("bytes", 0)) for m in kept)
        if size > self.max_megabytes * 1e6:
            raise DatasetLimitError(f"this dataset takes {size / 1e6:.0f} MB; a workspace keeps at most "
                                    f"{self.max_megabytes:g} MB of datasets here")
        for meta in sorted(kept, key=lambda m: m.get("used", 0)):  # least recently used first
            if len(kept) + 1 <= self.max_sets and used + size <= self.max_megabytes * 1e6:
                return
            if meta["key"] in in_use:
                continue
            self._remove(owner, meta["key"])
            kept.remove(meta)
            used -= int(meta.get("bytes", 0))
        if len(kept) + 1 > self.max_sets or used + size > self.max_megabytes * 1e6:
            raise DatasetLimitError(
                f"you already keep {len(kept)} dataset(s) ({used / 1e6:.0f} MB) on this server, the most a workspace "
                f"may ({self.max_sets} datasets, {self.max_megabytes:g} MB), and your runs use every one: delete a "
                "run that uses one, or a dataset, then try again")

    def touch(self, owner: str, key: str, now: float | None = None) -> None:
        """Mark a dataset used now (housekeeping removes the long unused ones)."""
        path = self.folder(owner, key) / "dataset.json"
        meta = self._meta(path.parent)
        if meta is None:
            return
        meta["used"] = time.time() if now is None else now
        atomic_write(path, lambda stream: stream.write(json.dumps(meta).encode()))

    def open(self, owner: str, key: str) -> Dataset:
        """The dataset, its arrays mapped read-only from the server's copies.

        Raises
        ------
        OwnDataError
            Not in this workspace (removed, or never uploaded here), or its files are damaged.
        """
        folder = self.folder(owner, key)
        meta = self._meta(folder)
        if meta is None:
            raise OwnDataError(f"the dataset {key} is not on this server (datasets unused for "
                               f"{self.max_age_days:g} days are removed): upload it again")
        arrays = {}
        try:
            for split, kind, dtype, tail in _ARRAYS:
                array = np.load(folder / f"{split}-{kind}.npy", mmap_mode="r", allow_pickle=False)
                if array.dtype != dtype or array.shape[1:] != tail:
                    raise ValueError(f"{split}-{kind}.npy holds {array.dtype} {array.shape}")
                arrays[split, kind] = array
            return Dataset(key=key, title=str(meta["title"]), class_names=tuple(meta["classes"]),
                           train=Split(arrays["train", "images"], arrays["train", "labels"]),
                           test=Split(arrays["test", "images"], arrays["test", "labels"]),
                           digits=False, note=str(meta.get("note", "")))
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise OwnDataError(f"the dataset {meta.get('title', key)} ({key}) is damaged on the server ({exc}): "
                               "upload it again") from None

    def delete(self, owner: str, key: str) -> None:
        self._remove(owner, key)

    def _remove(self, owner: str, key: str) -> None:
        folder = self.folder(owner, key)
        if folder.exists():
            # renamed first, so no reader ever sees half a folder
            doomed = folder.parent / f".{key}.{secrets.token_hex(4)}.gone"
            try:
                os.rename(folder, doomed)
            except OSError:
                return
            shutil.rmtree(doomed, ignore_errors=True)

    def housekeeping(self, in_use: dict[str, set[str]], now: float | None = None) -> list[str]:
        """Remove every workspace's datasets that no run uses and that have been unused for ``max_age_days``
        (and leftovers of interrupted writes). ``in_use`` maps an owner to the keys its runs use."""
        now = time.time() if now is None else now
        removed = []
        if not self.root.is_dir():
            return removed
        for owner_folder in self.root.iterdir():
            if not owner_folder.is_dir() or not _OWNER_PATTERN.match(owner_folder.name):
                continue
            owner = owner_folder.name
            for path in owner_folder.iterdir():
                if path.name.startswith(".") and path.stat().st_mtime < now - 3600:
                    shutil.rmtree(path, ignore_errors=True)  # a write or removal that never finished
                    continue
                meta = self._meta(path)
                if meta is None or meta["key"] in in_use.get(owner, set()):
                    continue
                if meta.get("used", 0) < now - self.max_age_days * 86_400:
                    self._remove(owner, meta["key"])
                    removed.append(meta["key"])
        return removed
