"""One BLAS library for every matrix product of training and scoring, and how many threads it may use.

NumPy and SciPy wheels each bring their own OpenBLAS (``libscipy_openblas64_`` in NumPy,
``libscipy_openblas`` in SciPy), each with its own thread pool. A training step that mixed them (products
through NumPy's ``@``, in-place updates through ``scipy.linalg.blas``) was 30x slower with two threads than
with one: after each call a pool's worker keeps spinning on the second core, which the other pool's
worker then needs (bench/README.md). So every product of a step, forward, backward and the in-place
updates, goes through SciPy's BLAS here (its f2py wrappers, and for the large products its Cython entry
points), and every other BLAS library loaded in the process is held at one thread. SciPy's library is the one chosen because only its wrappers update a matrix in place
(``C = alpha A B + beta C``, ``A += alpha x y^T``), and because it was also the faster on the training
step's shapes: 0.48 against 0.51 ms (784-200-10) and 4.2 against 4.6 ms (784-800-800-10) a step of 64
at one thread, 0.39 against 0.48 and 2.7 against 3.0 ms at two (this machine, idle).

Layout: the network keeps row-major (C-order) matrices, ``W`` of shape ``(n_out, n_in)`` and batches of
rows ``(n, n_features)``. A C-order array is, unchanged in memory, the Fortran-order array of its
transpose, which is what the Fortran BLAS wants: so no product here copies its operands.

Threads: OpenBLAS's own pool stalls. When another process holds the second core, its first thread spins
waiting for the second, which waits for a time slice: a 784-800-800-10 step of 64 took 108-120 ms at
two OpenBLAS threads against 4.6 ms at one (bench/blas_threads.py). And its results depend on its thread
count (its one-thread and two-thread paths sum in different orders), so a run would not repeat bit for
bit. So the library's pool is always held at one thread, and the large products (at least
:data:`SPLIT_MACS` multiply-adds: the 800-wide layers, scoring passes) are cut into :data:`PARTS` fixed
slices along their output, which a team of this module's own threads computes side by side (SciPy's
Cython BLAS entry points, called through ctypes, release the GIL). The slices are the same whatever the
thread count, so one thread and two give the same bits; a thread that waits for the other sleeps
instead of spinning, so a busy second core costs about what it takes from the work, not 25x.

How many threads (:data:`DEFAULT_THREADS`, measured in bench/blas_threads.py): per-sample steps (BLAS-2
on one sample) stay on one; mini-batch steps and scoring use every core. A process says how many it
wants with the ``count`` argument of :func:`threads` or with ``$ANN_BLAS_THREADS``, which overrides the
defaults for every kind of work (the training service runs each of its workers with one).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import OpenBLASController, ThreadpoolController, threadpool_limits

__all__ = [
    "DEFAULT_THREADS",
    "PARTS",
    "SPLIT_MACS",
    "WORK_KINDS",
    "BlasThreadsError",
    "accumulate",
    "add_outer",
    "available_cores",
    "backward",
    "check_in_place",
    "library_info",
    "linear",
    "matvec",
    "momentum_update",
    "pools_at_one",
    "hold_pools_at_one",
    "rank_one_update",
    "requested_threads",
    "run_tasks",
    "scipy_module",
    "scipy_on_first_use",
    "threads",
    "vecmat",
    "vector_functions",
]

WORK_KINDS = ("sample", "batch", "score")
# Threads when neither the caller nor $ANN_BLAS_THREADS says; "cores": every core this process may run
# on. Per-sample steps are BLAS-2 calls on one sample, too small to split; see bench/blas_threads.py.
DEFAULT_THREADS: dict[str, int | str] = {"sample": 1, "batch": "cores", "score": "cores"}
ENV_VARIABLE = "ANN_BLAS_THREADS"
# A product of at least this many multiply-adds is cut into PARTS slices along its output (rows of the
# weight matrix), each computed by one thread of the team. Both are fixed, whatever the thread count, so
# that the bits do not depend on it. 2^24: a 64-row batch through a 784x800 or 800x800 layer (40 M) is
# split, 784-200-10 at batch 64 (10 M, where a handoff would cost more than it saves) is not.
SPLIT_MACS = 1 << 24
PARTS = 2

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _LoadedOnFirstUse(dict):
    """A table of SciPy's BLAS functions by dtype, filled at its first lookup (:func:`_load_scipy_blas`).

    Importing SciPy's linear algebra costs a process 0.2 s of CPU. The dashboard imports this module on every
    first look at a page, and most first looks compute no product (their views are kept: ``ui.model_cache``),
    so SciPy loads with the first product instead. A filled table is a plain dictionary lookup."""

    def __missing__(self, key):
        _load_scipy_blas()
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        raise KeyError(key)


_GEMM, _GEMV, _GER = _LoadedOnFirstUse(), _LoadedOnFirstUse(), _LoadedOnFirstUse()


class BlasThreadsError(ValueError):
    """A thread count that is not a whole number of at least one (from an argument or the environment)."""


# --------------------------------------------------------------------------- SciPy's Cython BLAS via ctypes


def _capsule_function(cython_blas, name: str, restype, argtypes):
    """A ctypes function for ``scipy.linalg.cython_blas``'s ``name``: the same library as the f2py
    wrappers, and ctypes releases the GIL for the length of the call (the f2py wrappers do not)."""
    capsule = cython_blas.__pyx_capi__[name]
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    address = get_pointer(capsule, get_name(capsule))
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


_int_p = ctypes.POINTER(ctypes.c_int)
_CTYPE = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}
_RAW_GEMM, _RAW_AXPY = _LoadedOnFirstUse(), _LoadedOnFirstUse()
_load_lock = threading.Lock()
_scipy_loaded = False


def _load_scipy_blas() -> None:
    """Import SciPy's BLAS and fill the tables above, once per process (any thread; the others wait). The
    library it loads brings a thread pool of its own: if the pools are already held at one thread
    (:func:`hold_pools_at_one`), this one is held too before anything can use it."""
    global _scipy_loaded
    if _scipy_loaded:
        return
    with _load_lock:
        if _scipy_loaded:
            return
        from scipy.linalg import blas as fblas
        from scipy.linalg import cython_blas

        _hold_libraries_loaded_since()  # before the tables fill: a thread that finds a function finds it held
        for dtype, prefix in zip(DTYPES, ("s", "d")):
            real_p = ctypes.POINTER(_CTYPE[dtype])
            dict.__setitem__(_RAW_GEMM, dtype, _capsule_function(
                cython_blas, prefix + "gemm", None,
                [ctypes.c_char_p, ctypes.c_char_p, _int_p, _int_p, _int_p, real_p, ctypes.c_void_p, _int_p,
                 ctypes.c_void_p, _int_p, real_p, ctypes.c_void_p, _int_p]))
            dict.__setitem__(_RAW_AXPY, dtype, _capsule_function(
                cython_blas, prefix + "axpy", None, [_int_p, real_p, ctypes.c_void_p, _int_p, ctypes.c_void_p, _int_p]))
            for table, name in ((_GEMM, "gemm"), (_GEMV, "gemv"), (_GER, "ger")):
                dict.__setitem__(table, dtype, getattr(fblas, prefix + name))
        _scipy_loaded = True


def scipy_module(name: str):
    """The SciPy module ``name`` (``"scipy.special"``, ``"scipy.ndimage"``, ...), imported on first use.

    SciPy's modules share its BLAS library, so that library is loaded first (:func:`_load_scipy_blas`), and
    its thread pool held like the others. ``ann`` imports SciPy through here, inside the functions that use
    it: a dashboard page that only shows what was computed before never pays for the import."""
    _load_scipy_blas()
    return importlib.import_module(name)


class _SciPyOnFirstUse:
    """Stands for the ``scipy`` package in ``ann``'s modules: ``scipy.special.expit(...)`` reads as before,
    and ``scipy.special`` is imported (:func:`scipy_module`) the first time it is used, then kept as a plain
    attribute, so a call in a loop costs what it cost with ``import scipy.special`` at the top."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        module = scipy_module(f"scipy.{name}")
        setattr(self, name, module)
        return module


# ``from ann.blas import scipy_on_first_use as scipy`` in place of ``import scipy.special`` (and its kin)
scipy_on_first_use = _SciPyOnFirstUse()


def _gemm_f(dtype, trans_a: bytes, trans_b: bytes, m: int, n: int, k: int, alpha: float, a: int, lda: int,
            b: int, ldb: int, beta: float, c: int, ldc: int) -> None:
    """Fortran ``?gemm`` on raw addresses: C(m, n) = alpha op(A) op(B) + beta C, column-major."""
    real = _CTYPE[dtype]
    I = ctypes.c_int
    _RAW_GEMM[dtype](trans_a, trans_b, I(m), I(n), I(k), real(alpha), a, I(lda), b, I(ldb), real(beta), c,
                     I(ldc))


def _axpy_f(dtype, n: int, alpha: float, x: int, y: int) -> None:
    """Fortran ``?axpy`` on raw addresses: y += alpha x over n contiguous elements."""
    one = ctypes.c_int(1)
    _RAW_AXPY[dtype](ctypes.c_int(n), _CTYPE[dtype](alpha), x, one, y, one)


def _slices(size: int) -> list[tuple[int, int]]:
    """The PARTS fixed slices of ``range(size)``."""
    bounds = [size * i // PARTS for i in range(PARTS + 1)]
    return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


# --------------------------------------------------------------------------- the team of threads


class _Job:
    """One product's slices, taken in order by whichever thread of the team is free first.

    The calling thread and the helpers each take the next slice not yet taken until none is left, so a
    helper that is slow to wake (its core busy with another thread, e.g. the augmentation of the next
    chunk) leaves its slices to the caller instead of making it wait. A slice writes its own rows of the
    output with the same call whoever runs it, so the bits do not depend on who took which.
    """

    __slots__ = ("tasks", "taken", "left", "error", "lock", "done")

    def __init__(self, tasks: list[Callable[[], None]]) -> None:
        self.tasks = tasks
        self.taken = 0  # slices handed out
        self.left = len(tasks)  # slices not yet finished
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.done = threading.Event()

    def work(self) -> None:
        """Run slices until none is left to take (a helper that comes late finds none and returns)."""
        tasks, lock = self.tasks, self.lock
        while True:
            with lock:
                index = self.taken
                if index >= len(tasks):
                    return
                self.taken = index + 1
            try:
                tasks[index]()
            except BaseException as exc:  # handed back to the caller, which raises it
                with lock:
                    self.error = self.error or exc
            with lock:
                self.left -= 1
                if self.left == 0:
                    self.done.set()


class _Team:
    """Helper threads that share the slices of a product with the calling thread.

    A helper waits on its own queue (asleep, not spinning); the caller hands the product's job to the
    helpers it needs, works on it itself, then waits until every slice is finished. With no helper the
    caller computes every slice in turn: the same slices, so the same bits.
    """

    def __init__(self) -> None:
        self.size = 1  # threads in use, the caller included
        self._helpers: list[tuple[queue.SimpleQueue, threading.Thread]] = []
        self._lock = threading.Lock()  # one product at a time: the helpers are shared by the process

    @staticmethod
    def _helper(inbox: queue.SimpleQueue) -> None:
        while True:
            job = inbox.get()
            if job is None:
                return
            job.work()

    def ensure(self, helpers: int) -> None:
        while len(self._helpers) < helpers:
            inbox: queue.SimpleQueue = queue.SimpleQueue()
            thread = threading.Thread(target=self._helper, args=(inbox,), name="ann-blas", daemon=True)
            thread.start()
            self._helpers.append((inbox, thread))

    def run(self, tasks: list[Callable[[], None]]) -> None:
        """Run every task, spread over up to ``self.size`` threads; returns when all are done."""
        helpers = min(self.size - 1, len(tasks) - 1)
        if helpers <= 0 or threading.current_thread().name == "ann-blas":
            for task in tasks:
                task()
            return
        with self._lock:
            self.ensure(helpers)
            job = _Job(tasks)
            for inbox, _ in self._helpers[:helpers]:
                inbox.put(job)
            job.work()
            job.done.wait()
            if job.error is not None:
                raise job.error


_team = _Team()


def run_tasks(tasks: list[Callable[[], None]]) -> None:
    """Run independent tasks on the threads of the current :func:`threads` context (the team of the
    products), each taking the next task not yet taken; returns when all are done.

    For work other than products that is cut into fixed parts (the random distortions of a chunk,
    :func:`ann.train.random_variant`): the parts must not depend on each other, so that the result is
    the same bits whichever thread ran which. The tasks should release the GIL for most of their time
    (NumPy's array loops do), or a second thread gains nothing.
    """
    _team.run(tasks)


# --------------------------------------------------------------------------- products


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def linear(a: np.ndarray, W: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """A layer's input to its activation: ``a @ W.T (+ bias)``.

    Parameters
    ----------
    a : ndarray (n, n_in), float32 or float64 (C-contiguous, else copied)
    W : ndarray (n_out, n_in), C-contiguous, same dtype
    bias : ndarray (n_out,), optional

    Returns
    -------
    ndarray (n, n_out), C-contiguous, a new array.
    """
    n, n_in = a.shape
    n_out = W.shape[0]
    if n == 0:  # BLAS refuses empty operands
        return np.zeros((0, n_out), W.dtype) + (0 if bias is None else bias)
    if n * n_in * n_out < SPLIT_MACS:
        gemm = _GEMM[W.dtype]
        if bias is None:
            # (W.T)ᵀ (n_out, n_in) times aᵀ (n_in, n): Fortran (n_out, n), i.e. C-order (n, n_out).
            return gemm(1.0, W.T, a.T, trans_a=1).T
        z = np.empty((n, n_out), W.dtype)
        z[...] = bias
        gemm(1.0, W.T, a.T, beta=1.0, c=z.T, trans_a=1, overwrite_c=1)
        return z
    a = np.ascontiguousarray(a, W.dtype)
    _require_c(W)
    z = np.empty((n, n_out), W.dtype)
    if bias is not None:
        z[...] = bias
    item = W.dtype.itemsize
    pa, pw, pz = _address(a), _address(W), _address(z)
    beta = 0.0 if bias is None else 1.0

    def part(lo: int, hi: int) -> Callable[[], None]:
        # Zᵀ[lo:hi] (Fortran, ld n_out) = W[lo:hi] aᵀ: rows lo..hi of W are columns of Wᵀ in Fortran order.
        return lambda: _gemm_f(W.dtype, b"T", b"N", hi - lo, n, n_in, 1.0, pw + lo * n_in * item, n_in,
                               pa, n_in, beta, pz + lo * item, n_out)

    _team.run([part(lo, hi) for lo, hi in _slices(n_out)])
    return z


def backward(step: np.ndarray, M: np.ndarray) -> np.ndarray:
    """The error sent to the layer below: ``step @ M`` for ``step`` (n, n_out) and ``M`` (n_out, n_in).

    Returns a new C-contiguous (n, n_in) array.
    """
    n, n_out = step.shape
    n_in = M.shape[1]
    if n * n_in * n_out < SPLIT_MACS or n == 0:
        return _GEMM[M.dtype](1.0, M.T, step.T).T
    step = np.ascontiguousarray(step, M.dtype)
    M = np.ascontiguousarray(M)
    e = np.empty((n, n_in), M.dtype)
    item = M.dtype.itemsize
    pg, pm, pe = _address(step), _address(M), _address(e)

    def part(lo: int, hi: int) -> Callable[[], None]:
        # eᵀ[lo:hi] (Fortran, ld n_in) = Mᵀ[lo:hi] gᵀ, with Mᵀ the Fortran view of M (ld n_in).
        return lambda: _gemm_f(M.dtype, b"N", b"N", hi - lo, n, n_out, 1.0, pm + lo * item, n_in, pg, n_out,
                               0.0, pe + lo * item, n_in)

    _team.run([part(lo, hi) for lo, hi in _slices(n_in)])
    return e


def add_outer(C: np.ndarray, alpha: float, g: np.ndarray, a: np.ndarray, beta: float = 1.0) -> None:
    """In place: ``C = beta * C + alpha * g.T @ a``, the batch's update of a weight matrix.

    Parameters
    ----------
    C : ndarray (n_out, n_in), C-contiguous: updated in place (no temporary matrix)
    g : ndarray (n, n_out), the layer's steps
    a : ndarray (n, n_in), the layer's inputs
    """
    momentum_update(C, None, alpha, g, a, beta)


def momentum_update(W: np.ndarray, velocity: np.ndarray | None, alpha: float, g: np.ndarray, a: np.ndarray,
                    beta: float, decay: float = 0.0) -> None:
    """A weight matrix's step from a batch, in place, each slice of rows in one pass.

    Without ``velocity``: ``W = beta * W + alpha * g.T @ a``. With it: ``v = beta * v + alpha * g.T @ a``,
    then ``v -= decay * W`` (weight decay, if any) and ``W += v``.

    Parameters
    ----------
    W, velocity : ndarray (n_out, n_in), C-contiguous, updated in place
    g : ndarray (n, n_out), the layer's steps; a : ndarray (n, n_in), its inputs
    """
    target = W if velocity is None else velocity
    _require_c(W)
    _require_c(target)
    n, n_out = g.shape
    n_in = a.shape[1]
    dtype = W.dtype
    if n * n_in * n_out < SPLIT_MACS:
        # Cᵀ (Fortran) = alpha aᵀ g + beta Cᵀ, in place: C (n_out, n_in) in C order is Cᵀ in Fortran order.
        _GEMM[dtype](alpha, a.T, g.T, beta=beta, c=target.T, trans_b=1, overwrite_c=1)
        if velocity is not None:
            if decay:
                _axpy_f(dtype, W.size, -decay, _address(W), _address(velocity))
            _axpy_f(dtype, W.size, 1.0, _address(velocity), _address(W))
        return
    a = np.ascontiguousarray(a, dtype)
    g = np.ascontiguousarray(g, dtype)
    item = dtype.itemsize
    pa, pg, pt, pw = _address(a), _address(g), _address(target), _address(W)

    def part(lo: int, hi: int) -> Callable[[], None]:
        def run() -> None:
            # Cᵀ[:, lo:hi] = alpha aᵀ g[:, lo:hi] + beta Cᵀ[:, lo:hi]: rows lo..hi of C, contiguous.
            _gemm_f(dtype, b"N", b"T", n_in, hi - lo, n, alpha, pa, n_in, pg + lo * item, n_out, beta,
                    pt + lo * n_in * item, n_in)
            if velocity is not None:
                offset, count = lo * n_in * item, (hi - lo) * n_in
                if decay:
                    _axpy_f(dtype, count, -decay, pw + offset, pt + offset)
                _axpy_f(dtype, count, 1.0, pt + offset, pw + offset)
        return run

    _team.run([part(lo, hi) for lo, hi in _slices(n_out)])


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
    _require_c(W)
    _GER[W.dtype](alpha, x, step, a=W.T, overwrite_a=1)


def vector_functions(dtype: np.dtype) -> tuple[Any, Any]:
    """The raw ``gemv`` and ``ger`` of the library for ``dtype``, for loops that call them per sample
    (a Python wrapper around each call would cost as much as the call)."""
    dtype = np.dtype(dtype)
    return _GEMV[dtype], _GER[dtype]


def check_in_place(C: np.ndarray) -> None:
    """Raise ValueError unless BLAS can update ``C`` in place (see :func:`add_outer`)."""
    _require_c(C)


def _require_c(C: np.ndarray) -> None:
    # The f2py wrappers write into the very array only when it is contiguous and of their dtype; otherwise
    # they would silently update a copy. The network's own matrices always are: this guards misuse.
    if not (C.flags.c_contiguous and C.flags.writeable) or C.dtype not in DTYPES:
        raise ValueError(f"an in-place BLAS update needs a writable C-contiguous float32 or float64 array, "
                         f"got dtype {C.dtype} with flags c_contiguous={C.flags.c_contiguous}, "
                         f"writeable={C.flags.writeable}")


# --------------------------------------------------------------------------- threads

_controller: ThreadpoolController | None = None
_libraries: ThreadpoolController | None = None


def _blas_libraries() -> ThreadpoolController:
    """Every BLAS library loaded in the process (SciPy's, NumPy's), found once."""
    global _controller, _libraries
    if _controller is None:
        _controller = ThreadpoolController()
        _libraries = _controller.select(user_api="blas")
    return _libraries


def _scipy_library_info() -> dict[str, Any] | None:
    _load_scipy_blas()
    scipy = importlib.import_module("scipy")
    scipy_dir = Path(scipy.__file__).resolve().parent
    # Wheels put SciPy's library in site-packages/scipy.libs (Linux) or scipy/.dylibs (macOS); a
    # distribution that links both packages to one system BLAS has a single library.
    homes = (str(scipy_dir) + os.sep, str(scipy_dir) + ".libs" + os.sep)
    infos = _blas_libraries().info()
    mine = [i for i in infos if str(Path(i["filepath"]).resolve()).startswith(homes)]
    return (mine or infos or [None])[0]


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system tells (else all), and a
    container's CPU quota (cgroup v2 ``cpu.max``, as on hosted servers) if lower."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(-(-int(quota) // int(period)), 1))
    except (OSError, ValueError):
        pass
    return max(cores, 1)


def _parse(value: Any, source: str) -> int:
    text = str(value).strip()
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1 or text != str(count):
        raise BlasThreadsError(f"{source}={value!r} is not a thread count; use a whole number of at least 1 "
                               f"(this machine has {available_cores()} cores)")
    return count


def requested_threads(work: str = "batch", count: int | None = None) -> int:
    """How many threads a kind of work runs with.

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


_hold_lock = threading.Lock()
_pools_held = False


def hold_pools_at_one() -> None:
    """Set every BLAS library's own thread pool to one thread, for the rest of the process.

    Once, not as a limit restored on leaving: the training loop and the thread that distorts its next
    chunk would enter and leave at their own times, and threadpoolctl (3.8) lets only one "controlling"
    thread change OpenBLAS's process-wide setting, silently ignoring the others. A pool that went back
    to two threads under a running product changes its bits (and its idle worker spins on the second
    core). Every product of ann runs through this module's own slices instead, so the pools have no
    work for a second thread; NumPy code of the same process runs its BLAS on one thread afterwards.
    """
    global _pools_held
    if _pools_held:
        return
    with _hold_lock:
        if _pools_held:
            return
        _limit_to_one()
        _pools_held = True


def _limit_to_one() -> None:
    try:  # take over from whichever thread threadpoolctl last let set OpenBLAS's threads
        OpenBLASController.clear_controlling_thread(force=True)
    except (ImportError, AttributeError):  # threadpoolctl before 3.6 has no controlling thread
        pass
    _blas_libraries().limit(limits=1)  # kept: never restored


def _hold_libraries_loaded_since() -> None:
    """A BLAS library loaded after :func:`hold_pools_at_one` ran (SciPy's, on first use) is held too: the
    libraries are looked for again."""
    global _controller
    with _hold_lock:
        _controller = None
        if _pools_held:
            _limit_to_one()


@contextmanager
def threads(work: str = "batch", count: int | None = None) -> Iterator[int]:
    """A context in which the large products above run on ``requested_threads(work, count)`` threads.

    Every BLAS library's own pool is at one thread (:func:`hold_pools_at_one`: theirs spin and stall,
    and change the bits); the team of this module spreads the slices of the large products instead. The
    team's previous size comes back on exit. Yields the count.
    """
    count = requested_threads(work, count)
    hold_pools_at_one()
    previous = _team.size
    _team.size = count
    try:
        yield count
    finally:
        _team.size = previous


@contextmanager
def pools_at_one() -> Iterator[None]:
    """A context in which every thread pool of a library is at one thread: BLAS's (:func:`hold_pools_at_one`,
    for the whole process) and OpenMP's (scikit-learn's t-SNE, for the calling thread, and restored on exit).

    OpenMP's pool spins like OpenBLAS's: scikit-learn's t-SNE of 500 points took 15 s at two threads beside
    a busy second core, 1.4 s at one (bench/README.md). OpenMP keeps its thread count per calling thread,
    so the bound is set in the thread that runs the work (a page's script thread), and only libraries
    loaded when it is entered are bound: enter it after importing the library that brings the pool.
    """
    hold_pools_at_one()
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def library_info() -> dict[str, Any]:
    """Which BLAS library the products use (file, version, architecture), and the others loaded."""
    mine = _scipy_library_info()
    return {"library": mine,
            "others": [i["filepath"] for i in _blas_libraries().info() if mine is None or i["filepath"] != mine["filepath"]],
            "split_macs": SPLIT_MACS, "parts": PARTS}
