"""The training loop: a generator that yields one flat metrics dict per epoch.

The loop is the seam between the network and any user interface (Keras callbacks in spirit): the command
line prints each dict, the dashboard draws it. Within an epoch it reports progress through a callback and
checks a stop request between chunks of about a thousand records, so a stop is honoured within a fraction of
a second and always between two whole training steps: the network is never left half-updated.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ann import augment, blas, live_points
from ann.config import TrainConfig
from ann.inputs import scale_inputs
from ann.network import Network

ProgressCallback = Callable[[int, int], None]  # (samples done in this epoch, samples in this epoch)
StopRequest = Callable[[], bool]
LearningRateSource = Callable[[], float]  # the base learning rate now (it may change while a run trains)

_CHUNK_RECORDS = 1024  # records scaled, augmented and trained between two progress reports


def blas_threads(work: str = "batch", threads: int | None = None):
    """A context in which training or scoring runs its BLAS products on the threads chosen for ``work``.

    ``work`` is ``"sample"`` (one sample per step), ``"batch"`` (mini-batch steps) or ``"score"`` (forward
    passes over a data set); ``threads`` overrides the choice, as does ``$ANN_BLAS_THREADS`` when
    ``threads`` is not given. Defaults (measured, see :mod:`ann.blas`): one thread for per-sample steps,
    every core for mini-batches and scoring. Every product goes through one BLAS library whose own pool
    stays at one thread; the large products are cut into fixed slices that :mod:`ann.blas`'s threads
    share, so the result is the same bits whatever the count, and a busy second core slows the work
    instead of stalling it. A process that shares the machine with other training processes (the
    training service's workers) should still ask for one thread (``ANN_BLAS_THREADS=1``).

    Yields the thread count.
    """
    return blas.threads(work, threads)


AUGMENT_PARTS = 2  # each share of a chunk (elastic, plain) is distorted in this many fixed parts


def random_variant(X: np.ndarray, rng: np.random.Generator, config: TrainConfig) -> np.ndarray:
    """One random distortion of every record of a chunk, (n, 784) like ``X``.

    Every record is rotated and shifted; only the first ``config.elastic_fraction`` of the chunk is also
    distorted elastically; then, if enabled, every record gets a random pen (``config.thickness``,
    ``contrast``, ``noise``: :func:`ann.augment.pen_variation`). The chunks are drawn from a shuffled
    order, so which records get the elastic distortion changes from epoch to epoch. A part of the data
    left undistorted keeps a large network fitting the real digits while the rest teaches it the
    distortions: 99.34% against 99.17% for 784-800-800-10 over 50 epochs (bench/README.md).

    Each share (elastic, plain) is cut into :data:`AUGMENT_PARTS` fixed parts, and each part draws from a
    generator of its own, seeded from ``rng`` in a fixed order before any part runs. So the parts are
    independent: the threads of the current :func:`blas_threads` context share them (NumPy's array
    loops release the GIL; two threads take about 0.57x the time of one), and the result is the same
    bits whatever the thread count. ``rng`` advances by one draw of a few integers per call.
    """
    kwargs = {"max_degrees": config.rotate, "max_shift": config.shift,
              "elastic_alpha": config.elastic_alpha, "elastic_sigma": config.elastic_sigma}
    n = len(X)
    if config.elastic_alpha == 0 or config.elastic_fraction >= 1.0:
        shares = [(0, n, kwargs)]
    else:
        cut = int(round(n * config.elastic_fraction))
        shares = [(0, cut, kwargs), (cut, n, kwargs | {"elastic_alpha": 0.0})]
    parts = [(lo + (hi - lo) * i // AUGMENT_PARTS, lo + (hi - lo) * (i + 1) // AUGMENT_PARTS, share_kwargs)
             for lo, hi, share_kwargs in shares for i in range(AUGMENT_PARTS)]
    parts = [(lo, hi, share_kwargs) for lo, hi, share_kwargs in parts if hi > lo]
    seeds = rng.integers(np.iinfo(np.int64).max, size=len(parts))
    pen = bool(config.thickness or config.contrast or config.noise)
    out = np.empty_like(X)

    def part(lo: int, hi: int, part_kwargs: dict[str, Any], seed: int) -> Callable[[], None]:
        def run() -> None:
            part_rng = np.random.default_rng(seed)
            distorted = augment.random_distort(X[lo:hi], part_rng, **part_kwargs)
            if pen:  # after the shape, the pen
                distorted = augment.pen_variation(distorted, part_rng, config.thickness, config.contrast,
                                                  config.noise)
            out[lo:hi] = distorted
        return run

    blas.run_tasks([part(lo, hi, part_kwargs, int(seed)) for (lo, hi, part_kwargs), seed in zip(parts, seeds)])
    return out


def learning_rate_at(config: TrainConfig, progress: float, base: float | None = None) -> float:
    """The learning rate after ``progress`` epochs (a float, 0 .. config.epochs).

    ``constant`` is the seed's; ``cosine`` warms up linearly over ``warmup_epochs`` and then decays along a
    half cosine to zero at the end of training. ``base`` replaces ``config.learning_rate`` (a rate changed
    while the run trains scales the whole schedule from there on).
    """
    base = config.learning_rate if base is None else base
    if config.schedule == "constant":
        return base
    if progress < config.warmup_epochs:
        return base * max(progress, 1e-3) / config.warmup_epochs
    span = max(config.epochs - config.warmup_epochs, 1e-9)
    done = min((progress - config.warmup_epochs) / span, 1.0)
    return base * 0.5 * (1.0 + math.cos(math.pi * done))


def as_inputs(images: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """uint8 pixels are scaled the seed's way; float arrays are taken to be scaled inputs already."""
    if images.dtype == np.uint8:
        return scale_inputs(images, dtype)
    return np.asarray(images, dtype)


def score(network: Network, images: np.ndarray, labels: np.ndarray, batch: int = 2000,
          threads: int | None = None) -> tuple[float, float]:
    """Accuracy and mean loss on a labelled set, in one forward pass (``threads``: see :func:`blas_threads`).

    Parameters
    ----------
    images : ndarray (n, 784), uint8 pixels or scaled inputs
    labels : ndarray (n,) int

    Returns
    -------
    (accuracy, loss) : fraction predicted right, and the loss averaged over the samples
    """
    correct = 0
    loss_sum = 0.0
    with blas_threads("score", threads):
        for start in range(0, len(images), batch):
            y = labels[start:start + batch]
            outputs = network.query(as_inputs(images[start:start + batch], network.dtype))
            correct += int(np.sum(np.argmax(outputs, axis=1) == y))
            loss_sum += network.loss_of(outputs, network.targets(y)) * len(y)
    n = max(len(images), 1)
    return correct / n, loss_sum / n


def accuracy_of(network: Network, images: np.ndarray, labels: np.ndarray, batch: int = 2000) -> float:
    """Fraction of ``images`` (uint8 pixels or scaled inputs, (n, 784)) whose label the network predicts."""
    return score(network, images, labels, batch)[0]


def train(
    network: Network,
    images: np.ndarray,
    labels: np.ndarray,
    config: TrainConfig | None = None,
    test_images: np.ndarray | None = None,
    test_labels: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopRequest | None = None,
    start_epoch: int = 0,
    rng: np.random.Generator | None = None,
    samples_seen: int = 0,
    base_learning_rate: LearningRateSource | None = None,
    threads: int | None = None,
    points: live_points.PointRecorder | None = None,
) -> Iterator[dict[str, Any]]:
    """Train ``network`` in place, yielding one metrics dict at the end of every epoch.

    Parameters
    ----------
    network : Network
        Trained in place.
    images : ndarray (n, 784), uint8 pixels or scaled float inputs
    labels : ndarray (n,) int
    config : TrainConfig
        Learning rate, epochs, batch size, augmentation, ... (the seed's values by default).
    test_images, test_labels : optional
        Scored at the end of every epoch (``test_accuracy``; None without them).
    progress : callable(done, total), optional
        Called after every chunk with the samples trained so far in this epoch and the epoch's total.
    should_stop : callable() -> bool, optional
        Polled between chunks; when it returns True the loop yields the partial epoch (``stopped=True``)
        and ends. Time spent inside it is not training time: a caller that pauses a run by blocking here
        (as the training service does) leaves the epoch's ``seconds`` unchanged.
    start_epoch : int
        Epochs already trained (0 for a new run): training continues with epoch ``start_epoch + 1`` up to
        ``config.epochs``, the learning-rate schedule at the same place. With the generator ``rng`` the
        earlier epochs left (it is advanced in place) and the same ``network`` (momentum buffers included),
        5 epochs and then 3 more are the 8 epochs of one run, bit for bit (for a cosine schedule, only if
        the first 5 were trained with the 8-epoch schedule: its shape depends on ``config.epochs``).
    rng : numpy.random.Generator, optional
        Shuffling and random augmentation draw from it; by default a new one from ``config.seed``.
    samples_seen : int
        Samples trained before ``start_epoch`` (``samples_seen`` continues from it).
    base_learning_rate : callable() -> float, optional
        Read before every chunk: the learning rate to use from there on in place of
        ``config.learning_rate`` (the schedule, if any, scales it). Lets a user change the rate while the
        run trains; a rate that never changes gives the same steps as without it.
    threads : int, optional
        Threads for the products (:func:`blas_threads`); by default ``$ANN_BLAS_THREADS``, else one for
        per-sample training and every core for mini-batches. The result is the same bits either way.
    points : callable(point, slice_outputs), optional
        Called with a live point every 2% of each epoch's samples (:mod:`ann.live_points`): a dict of
        ``epoch``, ``samples`` (trained so far in the run), ``train_loss`` and ``train_accuracy`` (running,
        over the samples since the point before) and ``slice_accuracy`` (on the fixed slice of the test set;
        None without a test set), and the slice's outputs, (slice size, classes), the fixed digits' first.
        The training takes the same steps, bit for bit, with or without it.

    Yields
    ------
    dict
        ``epoch`` (1-based), ``train_loss`` and ``train_accuracy`` (running, over this epoch's samples as
        they were trained, augmented copies included), ``test_accuracy``, ``seconds`` (training time of the
        epoch: not the scoring, nor time spent in ``should_stop``), ``test_loss``, ``samples_seen`` (all epochs so far), ``learning_rate`` (at the end of the
        epoch) and ``stopped``.
    """
    config = config or TrainConfig()
    labels = np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != network.config.input_nodes:
        raise ValueError(f"images of shape {images.shape} do not fit the network's "
                         f"{network.config.input_nodes} inputs")
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if config.limit is not None:
        images, labels = images[:config.limit], labels[:config.limit]
    n = len(images)
    if n == 0:
        raise ValueError("no training records: the training set (after --limit) is empty")
    if not 0 <= start_epoch <= config.epochs:
        raise ValueError(f"start_epoch={start_epoch} is outside 0..{config.epochs} (the configuration's epochs)")
    rng = rng if rng is not None else np.random.default_rng(config.seed)
    batch = config.batch_size
    chunk = max(_CHUNK_RECORDS // batch, 1) * batch
    per_sample = batch == 1 and config.momentum == 0.0 and config.weight_decay == 0.0
    constant_lr = config.schedule == "constant"
    work = "sample" if per_sample else "batch"
    train_threads = blas.requested_threads(work, threads)  # a bad count is reported here, before training
    random_augment = config.random_augment
    # Random distortions are computed chunk by chunk, just before the chunk trains, by the same threads as
    # the products (random_variant cuts them into fixed parts): a thread of their own beside the training
    # would put three busy threads on two cores, and a slice of a product that lost its core makes the
    # other wait (bench/README.md).
    watch = None
    if points is not None:
        # The loop stops for a point only between two of its steps: a mini-batch, or one of train_sequence's
        # blocks (a chunk starts at a multiple of them), so the steps are the same bits with or without points.
        unit = batch if batch > 1 else (SEQUENCE_BLOCK if per_sample and constant_lr else 1)
        watch = _Watch(network, points, live_points.point_ends(n, unit), config.copies_per_record, test_images,
                       test_labels)
    plan = _Plan(images=images, labels=labels, test_images=test_images, test_labels=test_labels,
                 progress=progress, should_stop=should_stop, start_epoch=start_epoch, samples_seen=samples_seen,
                 base_learning_rate=base_learning_rate, threads=threads, chunk=chunk, per_sample=per_sample,
                 constant_lr=constant_lr, work=work, train_threads=train_threads, random_augment=random_augment,
                 watch=watch)
    yield from _epochs(network, config, rng, plan)


SEQUENCE_BLOCK = 64  # samples in a block of Network.train_sequence (its default); a chunk is a multiple of it


class _Watch:
    """The live points within :func:`_epochs`: where they fall (after how many of an epoch's records), the
    slice they score, and the samples trained since the last one."""

    def __init__(self, network: Network, record: live_points.PointRecorder, ends: list[int], copies: int,
                 test_images: np.ndarray | None, test_labels: np.ndarray | None) -> None:
        self.network, self.record = network, record
        self.ends, self.at_end = ends, set(ends)  # in order; and to look one up
        self.slice_inputs = self.slice_labels = None
        if test_images is not None and test_labels is not None and len(test_labels):
            classes = network.config.output_nodes
            size = live_points.slice_size(ends[-1] * copies / len(ends), classes, len(test_labels))
            chosen = live_points.slice_indices(test_labels, classes, size)
            self.slice_inputs = as_inputs(test_images[chosen], network.dtype)
            self.slice_labels = np.asarray(test_labels)[chosen]
        self.loss_sum, self.correct, self.count = 0.0, 0, 0

    def add(self, loss_sum: float, correct: int, count: int) -> None:
        """Samples just trained: their summed loss, how many the network got right (before their steps)."""
        self.loss_sum += loss_sum
        self.correct += correct
        self.count += count

    def point(self, epoch: int, samples: int) -> None:
        """Score the slice now and hand the point over; the running sums start again."""
        network = self.network
        slice_accuracy, outputs = None, np.empty((0, network.config.output_nodes), network.dtype)
        if self.slice_inputs is not None:
            outputs = network.query(self.slice_inputs)
            slice_accuracy = float(np.mean(np.argmax(outputs, axis=1) == self.slice_labels))
        self.record({"epoch": epoch, "samples": int(samples), "train_loss": self.loss_sum / max(self.count, 1),
                     "train_accuracy": self.correct / max(self.count, 1), "slice_accuracy": slice_accuracy},
                    outputs)
        self.loss_sum, self.correct, self.count = 0.0, 0, 0


@dataclass(frozen=True)
class _Plan:
    """What :func:`train` checked and worked out before its first epoch (its arguments, as there)."""

    images: np.ndarray
    labels: np.ndarray
    test_images: np.ndarray | None
    test_labels: np.ndarray | None
    progress: ProgressCallback | None
    should_stop: StopRequest | None
    start_epoch: int
    samples_seen: int
    base_learning_rate: LearningRateSource | None
    threads: int | None  # as asked for: scoring uses it too
    chunk: int  # records trained between two looks at should_stop and progress
    per_sample: bool  # one sample at a time, the seed's way (batch 1, no momentum, no weight decay)
    constant_lr: bool
    work: str  # "sample" or "batch": which thread default applies
    train_threads: int  # threads for the training products
    random_augment: bool  # random distortions, drawn afresh every epoch
    watch: _Watch | None  # the live points, if asked for


def _epochs(network: Network, config: TrainConfig, rng: np.random.Generator, plan: _Plan
            ) -> Iterator[dict[str, Any]]:
    """The epochs of :func:`train` (see there), after its checks."""
    images, labels, test_images, test_labels = plan.images, plan.labels, plan.test_images, plan.test_labels
    progress, should_stop, samples_seen, threads = plan.progress, plan.should_stop, plan.samples_seen, plan.threads
    chunk, per_sample, constant_lr, work = plan.chunk, plan.per_sample, plan.constant_lr, plan.work
    train_threads, random_augment, start_epoch = plan.train_threads, plan.random_augment, plan.start_epoch
    watch = plan.watch
    n = len(images)
    copies = config.copies_per_record
    per_epoch = n * copies
    batch = config.batch_size
    for epoch in range(start_epoch + 1, config.epochs + 1):
        started = time.perf_counter()
        waited = 0.0  # time spent in should_stop (a paused run waits there): not training time
        order = rng.permutation(n) if config.shuffle else None
        loss_sum = 0.0
        correct = 0
        done = 0
        stopped = False
        base = None

        def chunk_inputs(start: int, order: np.ndarray | None = order) -> np.ndarray:
            idx = order[start:start + chunk] if order is not None else slice(start, start + chunk)
            return as_inputs(images[idx], network.dtype)

        for start in range(0, n, chunk):
            if should_stop is not None:
                asked = time.perf_counter()
                stopped = bool(should_stop())
                waited += time.perf_counter() - asked
                if stopped:
                    break
            if plan.base_learning_rate is not None:
                base = float(plan.base_learning_rate())
            lr = learning_rate_at(config, epoch - 1 + start / n, base)
            idx = order[start:start + chunk] if order is not None else slice(start, start + chunk)
            y = labels[idx]
            T = network.targets(y)
            if copies == 3:  # the seed: each record, then rotated +angle, then rotated -angle
                interleaved = augment.seed_copies(chunk_inputs(start), config.rotate)  # (n, 3, 784)
                variants = (interleaved[:, 0], interleaved[:, 1], interleaved[:, 2])
            elif random_augment:
                with blas_threads(work, train_threads):
                    variants = (random_variant(chunk_inputs(start), rng, config),)
            else:
                variants = (chunk_inputs(start),)
            X = variants[0]  # for its shape: every variant has the chunk's records in order
            outputs = np.empty((len(variants), *T.shape), network.dtype)
            if per_sample and constant_lr:  # the seed's loop, with the first layer's updates in blocks
                stacked = interleaved if copies == 3 else np.stack(variants, axis=1)
                sequence = stacked.reshape(-1, X.shape[1])  # record, +rot, -rot, record, ...
                targets = np.repeat(T, len(variants), axis=0)
            # the chunk in parts, each ending at a live point or at the chunk's end
            cuts = [len(X)] if watch is None else [
                end - start for end in watch.ends if start < end < start + len(X)] + [len(X)]
            lo = 0
            with blas_threads(work, train_threads):
                for hi in cuts:
                    if per_sample and constant_lr:
                        V = len(variants)
                        trained = network.train_sequence(sequence[lo * V:hi * V], targets[lo * V:hi * V], lr)
                        outputs[:, lo:hi] = trained.reshape(hi - lo, V, -1).transpose(1, 0, 2)
                    elif per_sample:
                        step = network.train_sample
                        for i in range(lo, hi):
                            lr = learning_rate_at(config, epoch - 1 + (start + i) / n, base)
                            for v, Xv in enumerate(variants):
                                outputs[v, i] = step(Xv[i], T[i], lr)
                    else:
                        for b in range(lo, hi, batch):
                            lr = learning_rate_at(config, epoch - 1 + (start + b) / n, base)
                            for v, Xv in enumerate(variants):
                                outputs[v, b:b + batch] = network.train(
                                    Xv[b:b + batch], T[b:b + batch], lr, config.momentum, config.weight_decay)
                    part_loss, part_correct = 0.0, 0
                    for v in range(len(variants)):
                        loss = network.loss_of(outputs[v, lo:hi], T[lo:hi]) * (hi - lo)
                        hits = int(np.sum(np.argmax(outputs[v, lo:hi], axis=1) == y[lo:hi]))
                        loss_sum, correct = loss_sum + loss, correct + hits
                        part_loss, part_correct = part_loss + loss, part_correct + hits
                    if watch is not None:
                        watch.add(part_loss, part_correct, (hi - lo) * len(variants))
                        if start + hi in watch.at_end:
                            watch.point(epoch, samples_seen + done + hi * len(variants))
                    lo = hi
            done += len(X) * len(variants)
            if progress is not None:
                progress(done, per_epoch)
        seconds = time.perf_counter() - started - waited
        samples_seen += done
        if done == 0:  # stopped before the epoch's first chunk: the rate it would have started with
            lr = learning_rate_at(config, epoch - 1, base)
        test_accuracy = test_loss = None
        if test_images is not None and test_labels is not None:
            test_accuracy, test_loss = score(network, test_images, test_labels, threads=threads)
        yield {
            "epoch": epoch,
            "train_loss": loss_sum / max(done, 1),
            "train_accuracy": correct / max(done, 1),
            "test_accuracy": test_accuracy,
            "test_loss": test_loss,
            "seconds": seconds,
            "samples_seen": samples_seen,
            "learning_rate": lr,
            "stopped": stopped,
        }
        if stopped:
            return


def fit(network: Network, images: np.ndarray, labels: np.ndarray, config: TrainConfig | None = None,
        **kwargs: Any) -> list[dict[str, Any]]:
    """Run :func:`train` to the end and return the list of per-epoch dicts."""
    return list(train(network, images, labels, config, **kwargs))
