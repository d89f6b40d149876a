"""Training runs on a Dask cluster: the executor the training service uses when it is given a scheduler.

The web server stays the only writer of its run store. It claims queued runs in the same fair order as its
local workers (:meth:`WorkQueue.claim`), and sends each to the cluster as one task: the run's record, the
state to continue from (for Continue and Resume), and the name of its dataset. On a Dask worker the task runs
the training service's own loop (:func:`ann.service.worker.train_run`) over a :class:`RemoteStore`: the run
store as the task sees it, whose writes (progress, a paused run's heartbeat, a new learning rate, each epoch's
metrics with the network and the random generator, the end) travel back as messages on one Dask queue per
server, and whose reads are answered from the task itself (the state to continue from) and from one Dask
variable per run that the server keeps up to date (Pause, Stop, the learning rate, how many runs wait). The
server writes every message into the store exactly as a local worker would: checkpoints, epochs, events. A
write the store's worker side gains later (:class:`WorkQueue`'s public methods) rides along unchanged.

Data travels once. A dataset is scattered to the cluster once (keyed by what it is: a named set and its
folder, or a workspace's own set by its content hash); a worker that trains on it fetches it once and keeps
it (:func:`dataset_here`), however many runs use it. The server then holds no training data.

Ahead of the first run. When the server connects, it sends in the background what its first runs would
otherwise wait for: the named sets it has (MNIST first) are scattered and published, and one task on each
worker (:func:`warm_up`) imports the training code and fetches them from its peers; a worker that joins
later gets the same task when the server sees it. ``ready`` is set when that is done (or has failed: a run
then sends what it needs, as without it). A workspace's own set is sent when a run first needs it.

Faults. A worker lost mid-run: Dask starts the task again elsewhere; the task sees it was started before and
ends at once, and the run is marked interrupted (Continue resumes it from its last whole epoch, which the
server has on disk); with no worker left to rerun it the server sees the worker gone and does the same. A
scheduler that cannot be reached: the service says so and its local workers train the runs; it tries again
every :attr:`ClusterExecutor.retry_seconds`. A scheduler lost mid-run: its runs are marked interrupted and
resumable, on the local workers or on the cluster when it is back.
"""

from __future__ import annotations

import copy
import hashlib
import pickle
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from distributed import Client, Event, Future, Queue, Variable, get_client, get_worker

from ann.data.named import DATASET_KEYS, folder_of, load_named
from ann.remote import ship_code, tune_allocator
from ann.service.queue import WorkQueue
from ann.service.records import CheckpointError, RunInfo, RunNotFound, RunStatus
from ann.service.store import RunStore
from ann.service.worker import train_run

CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler before the runs go to the local workers
CONTROL_SECONDS = 0.25  # a task reads its run's variable at most this often (controls arrive well within 2 s)
LOST = "lost"  # what a task started again after its worker was lost returns
KEPT_DATASETS = 4  # datasets a worker keeps in memory for the next runs (the least recently used go first)
WARM_SECONDS = 120.0  # the most the background preparation waits for the workers' warm-up tasks

# What a task may ask the server to write: the worker's side of the store, except what a task never does.
FORWARDED = frozenset(name for name, value in vars(WorkQueue).items()
                      if callable(value) and not name.startswith("_")) - {"claim", "poll", "held_by_workers",
                                                                           "mark_orphans"}


class ClusterUnavailable(RuntimeError):
    """The Dask scheduler cannot be reached (or Dask is missing); the message says what to do."""


# --------------------------------------------------------------------------- what travels


@dataclass
class _Split:
    images: np.ndarray
    labels: np.ndarray


class ClusterData:
    """A dataset as it travels to the workers: the arrays :func:`train_run` reads, its title and classes.

    Each arrival in a process (unpickling) is counted in :data:`ARRIVALS`, by key: how the tests see that a
    worker got a dataset once."""

    def __init__(self, key: str, dataset: Any) -> None:
        self.key = key
        self.title = getattr(dataset, "title", key)
        self.n_classes = getattr(dataset, "n_classes", None)
        # views of the (mapped) arrays: pickled straight from the pages, no copy in the server
        self.train = _Split(np.asarray(dataset.train.images), np.asarray(dataset.train.labels))
        self.test = _Split(np.asarray(dataset.test.images), np.asarray(dataset.test.labels))

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        ARRIVALS[self.key] = ARRIVALS.get(self.key, 0) + 1


ARRIVALS: dict[str, int] = {}  # in a worker: how many times each dataset arrived in this process
_here: OrderedDict[str, ClusterData] = OrderedDict()  # in a worker: the datasets it keeps
_here_lock = threading.Lock()


def dataset_here(key: str) -> ClusterData:
    """On a worker: the dataset named ``key``, from this process if it has it, else fetched once from the
    cluster (from this worker's own store of data when the scatter put it here) and kept."""
    with _here_lock:
        if key in _here:
            _here.move_to_end(key)
            return _here[key]
        worker = get_worker()
        data = worker.data[key] if key in worker.data else get_client().get_dataset(key).result()
        _here[key] = data
        while len(_here) > KEPT_DATASETS:
            _here.popitem(last=False)
        return data


def arrivals() -> dict[str, int]:
    """On a worker (``client.run(arrivals)``): :data:`ARRIVALS`."""
    return dict(ARRIVALS)


def kept() -> list[str]:
    """On a worker (``client.run(kept)``): the keys of the datasets it keeps for the next runs. Without the
    lock: ``client.run`` calls it in the worker's event loop, which a task holding the lock while it fetches
    a dataset waits for (copying the keys is one step under the GIL)."""
    return list(_here)


def warm_up(keys: tuple[str, ...]) -> list[str]:
    """The task each worker runs before its first run: the training code imported (this module, the network
    and SciPy under it), glibc's thresholds set, and the datasets ``keys`` fetched and kept. Returns the
    keys the worker now keeps."""
    from ann import blas
    from ann.network import Network  # noqa: F401 -- heavy, imported here so that the first run need not

    for name in ("scipy.special", "scipy.ndimage", "scipy.sparse"):  # ann imports SciPy at first use (ann.blas):
        blas.scipy_module(name)  # here before the first run, with SciPy's BLAS, which training uses
    tune_allocator()
    for key in keys:
        dataset_here(key)
    return kept()


@dataclass(frozen=True)
class ClusterJob:
    """One run sent to the cluster."""

    run: RunInfo
    token: str  # this submission: its variable's name, and the tag on its messages
    queue: str  # the server's message queue
    data_key: str
    resume: dict[str, Any] | None  # the state to continue from (network, rng, history, ...), None for a new run
    hold_seconds: float  # a run paused this long while others wait gives its worker back


class RemoteStore:
    """The run store as a task on the cluster sees it: writes become messages to the server, reads are
    answered from the job and from the run's variable. Duck-types what :func:`train_run` calls."""

    def __init__(self, job: ClusterJob, client: Client) -> None:
        self._job = job
        self._queue = Queue(job.queue, client=client)
        self._control = Variable(job.token, client=client)
        self._read_at = float("-inf")
        self._value: dict[str, Any] = {}

    def _read(self) -> dict[str, Any]:
        now = time.monotonic()
        if now - self._read_at >= CONTROL_SECONDS:
            try:
                self._value = self._control.get(timeout=5)
            except TimeoutError:  # set before the task was sent: gone means the server let the run go
                self._value = {"deleted": True}
            self._read_at = now
        return self._value

    def poll(self, run_id: str) -> tuple[str, float, str] | None:
        value = self._read()
        if value.get("deleted"):
            return None
        return value["control"], float(value["learning_rate"]), ""

    def counts(self) -> dict[str, int]:
        return {RunStatus.QUEUED: int(self._read().get("queued", 0))}

    def load_resume(self, run: RunInfo, network_only: bool = False) -> dict[str, Any]:  # noqa: ARG002 -- the store's signature
        if self._job.resume is None:
            raise CheckpointError(f"{run.name} has no state to continue from in its job")
        state = dict(self._job.resume)
        network = copy.copy(state["network"])
        # Fresh arrays, as a local worker reads them from its file: the ones that arrived are views into
        # Dask's message buffers, aligned otherwise, and BLAS rounds an unaligned product differently.
        network.weights = [np.array(w, copy=True) for w in network.weights]
        if network.biases is not None:
            network.biases = [np.array(b, copy=True) for b in network.biases]
        if network._velocity is not None:
            network._velocity = [np.array(v, copy=True) for v in network._velocity]
        state["network"] = network
        return state

    def __getattr__(self, name: str):
        if name not in FORWARDED:
            raise AttributeError(name)

        def send(*args: Any, **kwargs: Any) -> None:
            # pickled here: the scheduler relays bytes and never needs to read them
            self._queue.put(pickle.dumps((self._job.token, name, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL))

        return send


def train_on_cluster(job: ClusterJob) -> str:
    """The task: train ``job.run`` on this Dask worker with the service's own loop; returns its status."""
    tune_allocator()
    client = get_client()
    started = Event(f"{job.token}-started", client=client)
    if started.is_set():
        return LOST  # started before, on a worker that was lost: the server marks the run interrupted
    started.set()
    remote = RemoteStore(job, client)
    remote.record_worker(job.run.id, f"{get_worker().address} (dask)")
    data = dataset_here(job.data_key)
    # one thread: a Dask worker's thread is one core's share, as a local worker's process is
    return train_run(remote, job.run, data, hold_seconds=job.hold_seconds, threads=1)


# --------------------------------------------------------------------------- the server's side


@dataclass
class _Held:
    run: RunInfo
    token: str
    future: Any
    control: Variable
    sent: dict[str, Any] = field(default_factory=dict)
    where: str | None = None


def data_key(run: RunInfo, data_dir: str | None, verify: bool) -> str:
    """What a run's dataset is, as a key on the cluster: a workspace's own set by its content hash (its key),
    a named set as :func:`named_key`."""
    if run.dataset.startswith("own-"):
        return f"ann-data-{run.dataset}"
    return named_key(run.dataset, data_dir, verify)


def named_key(name: str, data_dir: str | None, verify: bool) -> str:
    """A named set as a key on the cluster: its name and its files (names, sizes, times), so that servers
    reading the same files share one copy on the cluster, and changed files are a new one."""
    folder = folder_of(name, data_dir)
    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.glob("*-ubyte*") if p.is_file())
    where = hashlib.sha256(repr((str(folder), verify, files)).encode()).hexdigest()[:16]
    return f"ann-data-{name}-{where}"


class ClusterExecutor:
    """Queued runs of ``store`` trained on the Dask cluster at ``address``; see the module's notes.

    Parameters
    ----------
    store : RunStore
    address : str
        The scheduler, ``tcp://HOST:PORT``.
    data_dir, verify_data :
        Where the named datasets are read (once each, to be scattered), as for the local workers.
    claim : bool
        Take queued runs from the store (the service); False to train only the runs given to :meth:`start`
        (``python -m ann train --save-run --scheduler``).
    hold_seconds : float
        A run paused this long while others wait gives its worker back (as on the local workers).

    ``connected`` says whether the cluster is in use; ``notice`` why not (for the pages and the command line);
    ``ready`` is set once what the first runs need has been sent ahead (see the module's notes), or has failed.
    """

    retry_seconds = 15.0  # a scheduler that could not be reached is tried again this often
    step_seconds = 0.1

    def __init__(self, store: RunStore, address: str, data_dir: str | None = None, *, verify_data: bool = True,
                 claim: bool = True, hold_seconds: float = 60.0, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.store = store
        self.address = address
        self.data_dir = data_dir
        self.verify_data = verify_data
        self.claim = claim
        self.hold_seconds = hold_seconds
        self.connect_timeout = connect_timeout
        self.notice: str | None = None
        self.unreachable: str | None = None  # the notice's first part, when the scheduler could not be reached
        self.client: Client | None = None
        self._queue: Queue | None = None
        self._data: dict[str, Future] = {}
        self._held: dict[str, _Held] = {}  # by token
        self.ready = threading.Event()
        self._direct = True  # data goes straight to a worker, until one cannot be reached from here
        self._warm_keys: tuple[str, ...] | None = None  # the datasets sent ahead, once they are
        self._warmed: set[str] = set()  # the workers given a warm-up task
        self._warm: dict[str, Future] = {}  # the warm-up tasks not yet done, by worker
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._last_attempt = time.monotonic()
        self._last_workers = 0.0
        self._connect()
        self._thread = threading.Thread(target=self._loop, name="ann-cluster-executor", daemon=True)
        self._thread.start()

    # --- what the service calls ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.status == "running"

    def poke(self) -> None:
        """Look at the queue now (a run was queued)."""
        self._wake.set()

    def held(self) -> list[str]:
        """The ids of the runs training on the cluster now."""
        with self._lock:
            return [held.run.id for held in self._held.values()]

    def start(self, run: RunInfo, dataset: Any = None) -> None:
        """Send a run this server holds (claimed, status running) to the cluster. ``dataset``: its data, when
        the caller has it at hand (else read from the data folder or the workspace's own sets)."""
        with self._lock:
            self._submit(run, dataset)

    def close(self, message: str = "Interrupted: the server that sent it to the Dask cluster stopped.") -> None:
        """End the executor: its runs are marked interrupted (resumable), the connection closed."""
        self._closing.set()
        self._thread.join(timeout=5.0)
        with self._lock:
            self._drop_all(f"{message} Continue resumes it from its last whole epoch.")
            self._disconnect()

    # --- connecting --------------------------------------------------------------------------------------

    def _connect(self) -> None:
        self._last_attempt = time.monotonic()
        try:
            client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            self.unreachable = (f"The Dask scheduler at {self.address} cannot be reached ({type(exc).__name__}: "
                                f"{' '.join(str(exc).split())[:200]})")
            self.notice = (f"{self.unreachable}; runs train on this server's own workers until it can (tried again "
                           f"every {self.retry_seconds:g} s).")
            return
        try:
            ship_code(client)
            self._queue = Queue(f"ann-train-{uuid.uuid4().hex}", client=client)
        except Exception as exc:  # noqa: BLE001 -- a cluster that cannot take the code is not usable
            client.close()
            self.notice = f"The Dask cluster at {self.address} could not take ann's code ({type(exc).__name__}: {exc})."
            return
        self.client, self.notice, self.unreachable = client, None, None
        self._data.clear()
        self.ready.clear()
        if self.claim:  # a server: its visitors' first runs will want its named sets
            threading.Thread(target=self._prepare, args=(client,), name="ann-cluster-prepare", daemon=True).start()
        else:  # the command line sends the one run it has, with its dataset, at once
            self.ready.set()

    def _prepare(self, client: Client) -> None:
        """In the background, once connected and a worker is there: every worker set to import the training code
        while the named sets this server has are sent and published (MNIST first, one at a time, so that a run
        waiting for the lock waits for one set at most), then a warm-up task on every worker (:func:`warm_up`)
        that fetches them. Sets ``ready`` at the end, whatever happened."""
        imports: list[Future] = []  # held until the end: a future let go may be cancelled before it runs
        try:
            while not self._workers(client):  # a cluster whose workers have not joined yet: wait for the first
                if self._closing.wait(0.5) or self.client is not client:
                    return
            with self._lock:
                if self._closing.is_set() or self.client is not client:
                    return
                imports = [self._warm_task(address, ()) for address in self._workers(client)]
            keys = []
            for name in DATASET_KEYS:
                with self._lock:
                    if self._closing.is_set() or self.client is not client:
                        return
                    try:
                        key = named_key(name, self.data_dir, self.verify_data)
                        self._ensure_data(key, lambda name=name: load_named(name, self.data_dir,
                                                                             verify=self.verify_data, mapped=True))
                    except Exception:  # noqa: BLE001 -- not on this server, or unreadable: a run that needs it says so
                        continue
                    keys.append(key)
            with self._lock:
                if self._closing.is_set() or self.client is not client:
                    return
                self._warm_keys = tuple(keys)
                self._warm_workers()
            deadline = time.monotonic() + WARM_SECONDS
            # self._warm is pruned by the loop of the tasks whose worker left: no wait for those
            while (not all(future.done() for future in list(self._warm.values())) and time.monotonic() < deadline
                   and not self._closing.is_set() and self.client is client):
                time.sleep(0.05)
        except Exception:  # noqa: BLE001 -- ahead of time only: without it a run sends what it needs
            pass
        finally:
            del imports
            self.ready.set()

    def _workers(self, client: Client | None = None) -> set[str]:
        return set((client or self.client).scheduler_info(n_workers=-1).get("workers", {}))

    def _warm_task(self, address: str, keys: tuple[str, ...]) -> Future:
        return self.client.submit(warm_up, keys, key=f"ann-warm-{uuid.uuid4().hex}", workers=[address],
                                  allow_other_workers=False, pure=False)

    def _warm_workers(self) -> None:
        """A warm-up task for each worker that has not had one (those that joined since included), once the
        datasets have been sent ahead; the tasks done, or whose worker left, are let go."""
        if self._warm_keys is None:
            return
        workers = self._workers()
        for address, future in list(self._warm.items()):
            if future.done() or address not in workers:
                del self._warm[address]
        for address in workers - self._warmed:
            self._warmed.add(address)
            self._warm[address] = self._warm_task(address, self._warm_keys)

    def _disconnect(self) -> None:
        client, self.client, self._queue = self.client, None, None
        names, self._data = list(self._data), {}
        self._warm_keys, self._warmed, self._warm = None, set(), {}
        if client is None:
            return
        try:
            if client.status == "running":  # the named sets stay for the next server; a workspace's own go
                for name in names:
                    if name.startswith("ann-data-own-"):
                        client.unpublish_dataset(name)
        except Exception:  # noqa: BLE001 -- a lost scheduler may fail the goodbye too
            pass
        try:
            client.close(timeout=2)
        except Exception:  # noqa: BLE001 -- as above
            pass

    # --- the loop ----------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._closing.is_set():
            self._wake.wait(self.step_seconds)
            self._wake.clear()
            if self._closing.is_set():
                break
            with self._lock:
                try:
                    self._step()
                except Exception as exc:  # noqa: BLE001 -- a lost scheduler shows up as any error of any call
                    if self.client is not None and not self.connected:
                        self._scheduler_lost(exc)

    def _step(self) -> None:
        if not self.connected:
            if self.client is not None:
                self._scheduler_lost(None)
            if self.claim and time.monotonic() - self._last_attempt >= self.retry_seconds:
                self._connect()
            return
        self._drain()
        for held in list(self._held.values()):
            if held.future.done():
                self._drain()
                self._finish(held)
        self._send_controls()
        now = time.monotonic()
        if now - self._last_workers >= 1.0:
            self._last_workers = now
            self._warm_workers()
            self._check_workers()
        if self.claim:
            self._fill()

    def _slots(self) -> int:
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return sum(int(w.get("nthreads", 1)) for w in workers.values())

    def _fill(self) -> None:
        if not self.store.counts().get(RunStatus.QUEUED, 0):  # a read: claiming takes the write lock
            return
        free = self._slots() - len(self._held)
        while free > 0:
            run = self.store.claim(f"{self.address} (dask scheduler)")
            if run is None:
                return
            self._submit(run, None)
            free -= 1

    def _submit(self, run: RunInfo, dataset: Any) -> None:
        def load() -> Any:
            if dataset is not None:
                return dataset
            if run.dataset.startswith("own-"):
                return self.store.run_dataset(run)
            return load_named(run.dataset, self.data_dir, verify=self.verify_data, mapped=True)

        try:
            key = data_key(run, self.data_dir, self.verify_data)
            self._ensure_data(key, load)
            resume = self.store.load_resume(run) if run.epochs_done > 0 else None
        except CheckpointError as exc:
            self.store.end(run.id, RunStatus.FAILED, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 -- the data is missing or damaged: say so on the run
            message = " ".join(str(exc).split()) or type(exc).__name__
            self.store.end(run.id, RunStatus.FAILED,
                           f"Failed: the training data could not be read ({run.dataset_title}): {message}")
            return
        token = f"ann-run-{run.id}-{uuid.uuid4().hex[:12]}"
        control = Variable(token, client=self.client)
        held = _Held(run=run, token=token, future=None, control=control)
        self._send_control(held, self.store.poll(run.id), self.store.counts().get(RunStatus.QUEUED, 0))
        job = ClusterJob(run=run, token=token, queue=self._queue.name, data_key=key, resume=resume,
                         hold_seconds=self.hold_seconds)
        held.future = self.client.submit(train_on_cluster, job, key=token, pure=False, retries=0)
        self._held[token] = held

    def _ensure_data(self, key: str, load: Callable[[], Any]) -> None:
        """Make sure the cluster has the dataset ``key``; ``load()`` reads it when it has to be sent. The
        server keeps no reference to it afterwards: the cluster has it."""
        if key not in self._data and key in self.client.list_datasets():  # sent already (another server)
            self._data[key] = self._published(key)
        if key not in self._data or self._data[key].status != "finished":  # new, or lost with its worker
            future = self._scatter(key, ClusterData(key, load()))
            # published under its key: a task finds it by name without depending on it, so it is fetched by
            # a worker that has not got it, and never again (dataset_here)
            self.client.publish_dataset(future, name=key, override=True)
            self._data[key] = future

    def _scatter(self, key: str, data: ClusterData) -> Future:
        """``data`` onto one worker: straight to it (one hop, and no copy held by the scheduler on the way), or
        through the scheduler once this server has found it cannot reach the workers itself."""
        if self._direct:
            try:
                return self.client.scatter({key: data}, hash=False, direct=True)[key]
            except (OSError, TimeoutError):
                self._direct = False
        return self.client.scatter({key: data}, hash=False)[key]

    def _published(self, key: str, timeout: float = 5.0) -> Future:
        """The cluster's copy of a dataset published earlier, once the scheduler has said where it is."""
        future = self.client.get_dataset(key)
        deadline = time.monotonic() + timeout
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.01)
        return future

    def _send_control(self, held: _Held, polled: tuple[str, float, str] | None, queued: int) -> None:
        value = ({"deleted": True} if polled is None else
                 {"control": polled[0], "learning_rate": polled[1], "queued": int(queued)})
        if value != held.sent:
            held.control.set(value)
            held.sent = value

    def _send_controls(self) -> None:
        if not self._held:
            return
        queued = self.store.counts().get(RunStatus.QUEUED, 0)
        for held in self._held.values():
            self._send_control(held, self.store.poll(held.run.id), queued)

    def _drain(self) -> None:
        messages = self._queue.get(batch=True)
        for payload in messages:
            token, name, args, kwargs = pickle.loads(payload)
            held = self._held.get(token)
            if held is None or name not in FORWARDED:
                continue  # a submission that ended here already (interrupted): its news are stale
            if name == "record_worker":
                held.where = args[1]
            try:
                getattr(self.store, name)(*args, **kwargs)
            except RunNotFound:
                continue  # deleted meanwhile

    def _finish(self, held: _Held, message: str | None = None) -> None:
        """The task ended (or its worker is gone: ``message``): make sure the run's record says how."""
        outcome: Any = None
        if message is None:
            try:
                outcome = held.future.result(timeout=1)
            except Exception as exc:  # noqa: BLE001 -- whatever ended the task ends the run
                outcome = exc
            if outcome == LOST:
                message = self._lost_message(held)
            elif isinstance(outcome, BaseException):
                message = (f"Interrupted: its task on the Dask cluster ended with {type(outcome).__name__}: "
                           f"{' '.join(str(outcome).split())[:300]}. Continue resumes it from its last whole epoch.")
        else:
            self.client.cancel(held.future)
        try:
            run = self.store._run(held.run.id)
        except RunNotFound:
            run = None
        if run is not None and run.held_by_worker and message is not None:
            self.store.end(run.id, RunStatus.INTERRUPTED, message)
        elif run is not None and run.held_by_worker:
            self.store.end(run.id, RunStatus.INTERRUPTED, "Interrupted: its task on the Dask cluster ended without "
                           "saying how. Continue resumes it from its last whole epoch.")
        self._held.pop(held.token, None)
        try:
            held.control.delete()
            if outcome != LOST and message is None:  # kept set after a loss: a rerun of the task must not train
                Event(f"{held.token}-started", client=self.client).clear()
        except Exception:  # noqa: BLE001 -- tidying only
            pass

    def _lost_message(self, held: _Held) -> str:
        where = f" {held.where.removesuffix(' (dask)')}" if held.where else ""
        return (f"Interrupted: the Dask worker{where} training it was lost; the epoch in progress is not kept. "
                "Continue resumes it from its last whole epoch.")

    def _check_workers(self) -> None:
        """A run whose worker left the cluster, with no other to start it again, is interrupted here."""
        if not self._held:
            return
        alive = set(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        for held in list(self._held.values()):
            address = (held.where or "").removesuffix(" (dask)")
            if address and address not in alive:
                self._drain()
                self._finish(held, self._lost_message(held))

    def _drop_all(self, message: str) -> None:
        for held in list(self._held.values()):
            self._held.pop(held.token, None)
            if self.connected:  # the task lets its run go at its next chunk (as for a deleted run)
                try:
                    held.control.set({"deleted": True})
                    self.client.cancel(held.future)
                except Exception:  # noqa: BLE001 -- the scheduler may be going too
                    pass
            try:
                run = self.store._run(held.run.id)
            except RunNotFound:
                continue
            if run.held_by_worker:
                self.store.end(run.id, RunStatus.INTERRUPTED, message)

    def _scheduler_lost(self, exc: BaseException | None) -> None:
        why = f" ({type(exc).__name__})" if exc is not None else ""
        self.notice = (f"The Dask scheduler at {self.address} was lost; runs train on this server's own workers "
                       f"until it is back (tried again every {self.retry_seconds:g} s).")
        self._drop_all(f"Interrupted: the Dask scheduler at {self.address} was lost{why}; the epoch in progress is "
                       "not kept. Continue resumes it from its last whole epoch, on the cluster when it is back or "
                       "on this server.")
        self._disconnect()
        self._last_attempt = time.monotonic()
