"""Writing files atomically: readers see the old file or the complete new one, never half of it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(stream)`` on a temporary file beside ``path``, then rename it to ``path``.

    The rename is atomic on one file system, so readers see the old file or the complete new
    one, never half of it; on any failure (even KeyboardInterrupt) the temporary file is
    removed and ``path`` is untouched.
    """
    path = Path(path)
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            # Mode "xb" never clobbers another writer's temp file and, unlike mkstemp,
            # respects the umask, so the final file gets the user's usual permissions.
            stream = open(temp, "xb")
            break
        except FileExistsError:
            continue
    try:
        with stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (creating its folder) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda stream: stream.write(data))
    return path
