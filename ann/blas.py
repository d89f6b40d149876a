"""One BLAS library for every matrix product of training and scoring, and how many threads it may use.

NumPy and SciPy wheels each bring their own OpenBLAS (``libscipy_openblas64_`` in NumPy,
``libscipy_openblas`` in SciPy), each with its own thread pool. A training step that mixed them (products
through NumPy's ``@``, in-place updates through ``scipy.linalg.blas``) was 30x slower with two threads than
with one: after each call a pool's worker keeps spinning on the second core, which the other pool's
worker then needs (bench/README.md). So every product of a step, forward, backward and the in-place
updates, goes through SciPy's BLAS wrappers here, and :func:`threads` gives that library the threads
asked for while every other BLAS library loaded in the process is held at one, so that its workers never
spin. SciPy's library is the one chosen because only its wrappers update a matrix in place
(``C = alpha A B + beta C``, ``A += alpha x y^T``), and because it was also the faster on the training
step's shapes: 0.48 against 0.51 ms (784-200-10) and 4.2 against 4.6 ms (784-800-800-10) a step of 64
at one thread, 0.39 against 0.48 and 2.7 against 3.0 ms at two (this machine, idle).

Layout: the network keeps row-major (C-order) matrices, ``W`` of shape ``(n_out, n_in)`` and batches of
rows ``(n, n_features)``. A C-order array is, unchanged in memory, the Fortran-order array of its
transpose, which is what the Fortran BLAS wants: so no product here copies its operands.

Threads by kind of work (:data:`DEFAULT_THREADS`, measured in bench/blas_threads.py): per-sample steps
(BLAS-2 on one sample) gain nothing from a second thread; mini-batch steps and scoring do. A process
says how many it wants with the ``threads`` argument of :func:`threads` or with ``$ANN_BLAS_THREADS``,
which overrides the defaults for every kind of work (the training service runs each worker with one).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from scipy.linalg import blas as _fblas
from threadpoolctl import ThreadpoolController

__all__ = [
    "DEFAULT_THREADS",
    "WORK_KINDS",
    "BlasThreadsError",
    "accumulate",
    "add_outer",
    "add_scaled",
    "available_cores",
    "library_info",
    "linear",
    "matvec",
    "rank_one_update",
    "requested_threads",
    "threads",
    "vecmat",
    "backward",
    "check_in_place",
    "vector_functions",
]

WORK_KINDS = ("sample", "batch", "score")
# Threads when neither the caller nor $ANN_BLAS_THREADS says: "cores" means every core this process may
# run on. Measured by bench/blas_threads.py (bench/README.md): per-sample steps are BLAS-2 calls on one
# sample, too small to split, so a second thread only spins; mini-batch steps of 64 and scoring passes of
# 2,000 rows run 1.2-1.6x faster on two idle cores.
DEFAULT_THREADS: dict[str, int | str] = {"sample": 1, "batch": "cores", "score": "cores"}
ENV_VARIABLE = "ANN_BLAS_THREADS"

_GEMM = {np.dtype(np.float32): _fblas.sgemm, np.dtype(np.float64): _fblas.dgemm}
_GEMV = {np.dtype(np.float32): _fblas.sgemv, np.dtype(np.float64): _fblas.dgemv}
_GER = {np.dtype(np.float32): _fblas.sger, np.dtype(np.float64): _fblas.dger}
_AXPY = {np.dtype(np.float32): _fblas.saxpy, np.dtype(np.float64): _fblas.daxpy}


class BlasThreadsError(ValueError):
    """A thread count that is not a whole number of at least one (from an argument or the environment)."""


# --------------------------------------------------------------------------- products


def linear(a: np.ndarray, W: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """A layer's input to its activation: ``a @ W.T (+ bias)``.

    Parameters
    ----------
    a : ndarray (n, n_in), C-contiguous, float32 or float64
    W : ndarray (n_out, n_in), C-contiguous, same dtype
    bias : ndarray (n_out,), optional

    Returns
    -------
    ndarray (n, n_out), C-contiguous, a new array.
    """
    gemm = _GEMM[W.dtype]
    if a.shape[0] == 0:  # BLAS refuses empty operands
        return np.zeros((0, W.shape[0]), W.dtype) + (0 if bias is None else bias)
    if bias is None:
        # (W.T)ᵀ (n_out, n_in) times aᵀ (n_in, n): Fortran (n_out, n), i.e. C-order (n, n_out).
        return gemm(1.0, W.T, a.T, trans_a=1).T
    z = np.empty((a.shape[0], W.shape[0]), W.dtype)
    z[...] = bias
    gemm(1.0, W.T, a.T, beta=1.0, c=z.T, trans_a=1, overwrite_c=1)
    return z


def backward(step: np.ndarray, M: np.ndarray) -> np.ndarray:
    """The error sent to the layer below: ``step @ M`` for ``step`` (n, n_out) and ``M`` (n_out, n_in).

    Returns a new C-contiguous (n, n_in) array.
    """
    return _GEMM[M.dtype](1.0, M.T, step.T).T


def add_outer(C: np.ndarray, alpha: float, g: np.ndarray, a: np.ndarray, beta: float = 1.0) -> None:
    """In place: ``C = beta * C + alpha * g.T @ a``, the batch's update of a weight matrix.

    Parameters
    ----------
    C : ndarray (n_out, n_in), C-contiguous: updated in place (no temporary matrix)
    g : ndarray (n, n_out), the layer's steps
    a : ndarray (n, n_in), the layer's inputs
    """
    _check_writable(C)
    # C (n_out, n_in) in C order is Cᵀ in Fortran order: Cᵀ = alpha aᵀ g + beta Cᵀ.
    _GEMM[C.dtype](alpha, a.T, g.T, beta=beta, c=C.T, trans_b=1, overwrite_c=1)


def add_scaled(y: np.ndarray, alpha: float, x: np.ndarray) -> None:
    """In place: ``y += alpha * x`` for two C-contiguous arrays of one shape (threaded by the library,
    unlike NumPy's ``+=``: 61 against 176 us for 800x800 float32 at two threads)."""
    _check_writable(y)
    _AXPY[y.dtype](x.ravel(), y.ravel(), a=alpha)


def matvec(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``W @ x`` for one sample: ``W`` (n_out, n_in) C-contiguous, ``x`` (n_in,); a new (n_out,) array."""
    return _GEMV[W.dtype](1.0, W.T, x, trans=1)


def vecmat(e: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``e @ M`` for one sample: ``e`` (n_out,), ``M`` (n_out, n_in) C-contiguous; a new (n_in,) array."""
    return _GEMV[M.dtype](1.0, M.T, e)


def accumulate(y: np.ndarray, A: np.ndarray, x: np.ndarray) -> None:
    """In place: ``y += A.T @ x`` for ``y`` (n,) contiguous, ``A`` (k, n) C-contiguous, ``x`` (k,)."""
    _GEMV[y.dtype](1.0, A.T, x, beta=1.0, y=y, overwrite_y=1)


def rank_one_update(W: np.ndarray, alpha: float, step: np.ndarray, x: np.ndarray) -> None:
    """In place: ``W += alpha * outer(step, x)`` for ``W`` (n_out, n_in) C-contiguous (BLAS ``ger``)."""
    _check_writable(W)
    _GER[W.dtype](alpha, x, step, a=W.T, overwrite_a=1)


def vector_functions(dtype: np.dtype) -> tuple[Any, Any]:
    """The raw ``gemv`` and ``ger`` of the library for ``dtype``, for loops that call them per sample
    (a Python wrapper around each call would cost as much as the call)."""
    dtype = np.dtype(dtype)
    return _GEMV[dtype], _GER[dtype]


def check_in_place(C: np.ndarray) -> None:
    """Raise ValueError unless BLAS can update ``C`` in place (see :func:`add_outer`)."""
    _check_writable(C)


def _check_writable(C: np.ndarray) -> None:
    # The wrappers write into the very array only when it is contiguous and of their dtype; otherwise
    # they would silently update a copy. The network's own matrices always are: this guards misuse.
    if not (C.flags.c_contiguous and C.flags.writeable) or C.dtype not in _GEMM:
        raise ValueError(f"an in-place BLAS update needs a writable C-contiguous float32 or float64 array, "
                         f"got dtype {C.dtype} with flags c_contiguous={C.flags.c_contiguous}, "
                         f"writeable={C.flags.writeable}")


# --------------------------------------------------------------------------- threads

_controller: ThreadpoolController | None = None
_ours: ThreadpoolController | None = None
_others: ThreadpoolController | None = None


def _controllers() -> tuple[ThreadpoolController, ThreadpoolController | None]:
    """(SciPy's BLAS, every other BLAS library in the process), found once."""
    global _controller, _ours, _others
    if _controller is None:
        _controller = ThreadpoolController()
        blas_libs = [info for info in _controller.info() if info["user_api"] == "blas"]
        scipy_dir = Path(scipy.__file__).resolve().parent
        # Wheels put SciPy's library in site-packages/scipy.libs (Linux) or scipy/.dylibs (macOS); a
        # distribution that links both packages to one system BLAS has a single library, ours.
        homes = (str(scipy_dir) + os.sep, str(scipy_dir) + ".libs" + os.sep)
        mine = [i["filepath"] for i in blas_libs if str(Path(i["filepath"]).resolve()).startswith(homes)]
        if not mine:
            mine = [i["filepath"] for i in blas_libs]  # cannot tell them apart: treat all as ours
        rest = [i["filepath"] for i in blas_libs if i["filepath"] not in mine]
        _ours = _controller.select(filepath=mine)
        _others = _controller.select(filepath=rest) if rest else None
    return _ours, _others


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _parse(value: Any, source: str) -> int:
    try:
        count = int(str(value).strip())
    except ValueError:
        count = 0
    if count < 1 or str(value).strip() != str(count):
        raise BlasThreadsError(f"{source}={value!r} is not a thread count; use a whole number of at least 1 "
                               f"(this machine has {available_cores()} cores)")
    return count


def requested_threads(work: str = "batch", count: int | None = None) -> int:
    """How many BLAS threads a kind of work runs with.

    ``count`` if given, else ``$ANN_BLAS_THREADS`` if set, else :data:`DEFAULT_THREADS` for ``work``
    ("cores": :func:`available_cores`).

    Raises
    ------
    BlasThreadsError
        ``count`` or ``$ANN_BLAS_THREADS`` is not a whole number >= 1.
    ValueError
        ``work`` is not one of :data:`WORK_KINDS`.
    """
    if work not in DEFAULT_THREADS:
        raise ValueError(f"work={work!r} is not a kind of work; choose one of: {', '.join(WORK_KINDS)}")
    if count is not None:
        return _parse(count, "threads")
    env = os.environ.get(ENV_VARIABLE)
    if env is not None and env.strip():
        return _parse(env, ENV_VARIABLE)
    default = DEFAULT_THREADS[work]
    return available_cores() if default == "cores" else int(default)


@contextmanager
def threads(work: str = "batch", count: int | None = None) -> Iterator[int]:
    """A context in which the products above run on ``requested_threads(work, count)`` threads.

    Every other BLAS library in the process (NumPy's own) is held at one thread meanwhile, so that no
    second pool spins on a core this one needs. The previous limits come back on exit. Yields the count.
    """
    count = requested_threads(work, count)
    ours, others = _controllers()
    with ours.limit(limits=count):
        if others is None:
            yield count
        else:
            with others.limit(limits=1):
                yield count


def library_info() -> dict[str, Any]:
    """Which BLAS library the products use (file, version, architecture, threads now), for the benches."""
    ours, others = _controllers()
    info = [i for i in ours.info()]
    return {"library": info[0] if info else None,
            "others": [i["filepath"] for i in others.info()] if others is not None else []}
