"""ann's own code, sent to a Dask cluster by the client that uses it.

A cluster needs the dependencies, not a checkout: its scheduler and workers are started from an environment
with ``requirements-dask.txt`` only (numpy, scipy, threadpoolctl, distributed), in any folder, with no
``PYTHONPATH``. The client (a sweep, the training service) zips the ``ann`` package it runs from and
registers it on the scheduler and on every worker, those that join later included (Dask's ``UploadFile``
plugins: each node unpacks it in its own temporary folder and puts the zip first on ``sys.path``). The
scheduler needs it too: it unpickles the task graph, and a task names a function of ``ann``.

The zip is named by a hash of its contents, so the same code is registered once however many clients send
it. A cluster serves one version of ``ann`` at a time: a node imports the package once, so a client with
other code should use a fresh cluster (or restart the workers, ``client.restart()``).
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent  # this ann


def package_zip() -> tuple[str, bytes]:
    """The ``ann`` package as a zip (its sources, no caches) and a name for it: ``ann-<hash>.zip``."""
    files = sorted(path for path in PACKAGE.rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"))
    buffer = io.BytesIO()
    digest = hashlib.sha256()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = "ann/" + path.relative_to(PACKAGE).as_posix()
            data = path.read_bytes()
            digest.update(name.encode() + b"\0" + data)
            # a fixed date: the same sources make the same bytes
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return f"ann-{digest.hexdigest()[:16]}.zip", buffer.getvalue()


def ship_code(client: Any) -> str:
    """Register this ``ann`` on the cluster of ``client`` (a ``distributed.Client``): the scheduler and
    every worker, now and later, can import it. Returns the zip's name. Raises what the client raises
    when the cluster cannot take it (a lost connection)."""
    from distributed.diagnostics.plugin import SchedulerUploadFile, UploadFile  # Dask: optional and slow to import

    name, data = package_zip()
    # A node in this very process (a LocalCluster's scheduler, threads as workers) has this ann already, and an
    # upload would put a zip in a temporary folder first on this process's sys.path and reload ann from it.
    here = os.getpid()
    scheduler_here = client.run_on_scheduler(os.getpid) == here
    workers_here = set(client.run(os.getpid).values()) == {here}
    with tempfile.TemporaryDirectory(prefix="ann_code_") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        # the plugins read the file when made; their name makes a second registration of the same code a no-op
        if not scheduler_here:
            client.register_plugin(SchedulerUploadFile(str(path), load=True), name=f"ann-code-{name}")
        if not workers_here:
            client.register_plugin(UploadFile(str(path), load=True), name=f"ann-code-{name}")
    return name


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_allocator_tuned = False


def tune_allocator() -> None:
    """On a Dask worker: give this process glibc's allocator back its usual heap for large arrays.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which fixes glibc's mmap threshold at 128
    KB: every per-sample training step's temporary arrays (a 200x784 outer product is 627 KB) are then mapped
    and unmapped by the kernel, and the seed's training took 1.4x the CPU time of a local worker (measured,
    bench/README.md). Thresholds of 32 and 64 MB keep them on the heap, as in a plain process. Elsewhere than
    glibc: nothing to do. Called by every training task (the service's runs, a sweep's runs)."""
    global _allocator_tuned
    if _allocator_tuned:
        return
    _allocator_tuned = True
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        libc.mallopt(_M_TRIM_THRESHOLD, 64 * 1024 * 1024)
    except (OSError, AttributeError):
        pass
