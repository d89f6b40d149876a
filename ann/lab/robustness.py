"""How robust is a trained network? Perturbed test images, adversarial examples, occlusion sensitivity.

Every perturbation takes scaled inputs ``X`` of shape ``(n_samples, 784)`` (pixel / 255 * 0.99 + 0.01, so
the paper is 0.01 and full ink 1.0, as :func:`ann.inputs.scale_inputs` makes them) and returns a new array of
the same shape and dtype, kept inside that range; the input is never modified. Randomness comes only from
the :class:`numpy.random.Generator` passed in.

- :func:`add_noise`, :func:`rotate` (the seed's own rotation), :func:`stroke` (thicker or thinner ink) and
  :func:`occlude` (a square of paper over part of the digit) make the everyday kinds of damage;
  :func:`accuracy_curve` measures the test accuracy against the strength of each (:data:`PERTURBATIONS`).
- :func:`input_gradient` is the exact gradient of each sample's loss with respect to its pixels, sent back
  through the weights from :meth:`ann.network.Network.forward`'s activations; :func:`fgsm` is the fast
  gradient sign method built on it (Goodfellow, Shlens and Szegedy, 2015): every pixel moved by
  ``epsilon`` in the direction that raises the loss.
- :func:`occlusion_map` slides a patch of paper over one image and records how much the network's
  confidence in a digit drops: which pixels its answer depends on.
- :func:`sensitivity` sums these up for one image (the Draw page's "how sure is it, and how easily
  fooled").

Nothing here trains or changes the network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ann import augment, blas
from ann.blas import scipy_on_first_use as scipy  # SciPy's modules imported at first use
from ann.estimates import MEASUREMENTS
from ann.network import SLOPES, Network

__all__ = [
    "INK",
    "PAPER",
    "PERTURBATIONS",
    "Perturbation",
    "accuracy_curve",
    "add_noise",
    "fgsm",
    "fooling_epsilon",
    "gradient_to_inputs",
    "input_gradient",
    "level_seconds",
    "occlude",
    "occlusion_map",
    "rotate",
    "sensitivity",
    "stroke",
    "sweep_estimate",
]

PAPER = 0.01  # a scaled input's background (pixel 0), as ann.inputs.scale_inputs makes it
INK = 1.0  # a scaled input's full ink (pixel 255)
IMAGE_SIDE = 28
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
DIGIT_BOX = (4, 24)  # rows and columns MNIST fits the digit into (its 20x20 box centred in 28x28)
# The 4-neighbour cross: one step of thickening grows a stroke by one pixel on each side, no more along
# the diagonals, so a stroke's shape is kept.
_CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


# --------------------------------------------------------------------------- checks


def _check_inputs(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != N_PIXELS:
        raise ValueError(f"{name} has shape {X.shape}; expected (n_samples, {N_PIXELS}), one flattened 28x28 "
                         "image a row (reshape a single image with x.reshape(1, 784))")
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} has dtype {X.dtype}; expected scaled float32 or float64 inputs (convert "
                        "pixels with ann.inputs.scale_inputs first)")
    return X


def _check_labels(labels, n: int, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,) or (n and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"labels of shape {labels.shape} and dtype {labels.dtype} do not fit {n} images: "
                         f"expected ({n},) integers")
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}; got {labels.min()}..{labels.max()}")
    return labels.astype(np.int64)


def _check_level(value, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}={value!r} is not a number")
    value = float(value)
    if not (np.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name}={value!r} is out of range; use a value from {low:g} to {high:g}")
    return value


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _clip(X: np.ndarray) -> np.ndarray:
    return np.clip(X, PAPER, INK, out=X)


# --------------------------------------------------------------------------- everyday damage


def add_noise(X, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise of standard deviation ``sigma`` added to every pixel, then kept inside 0.01..1.0.

    Parameters
    ----------
    X : ndarray (n, 784), float32 or float64, scaled inputs
    sigma : float, 0..2, on the scaled inputs' scale (1.0 is the whole range from paper to ink)
    rng : numpy.random.Generator

    Returns
    -------
    ndarray (n, 784), the dtype of ``X``
    """
    X = _check_inputs(X)
    sigma = _check_level(sigma, "sigma", 0.0, 2.0)
    rng = _check_rng(rng)
    if sigma == 0.0:
        return X.copy()
    return _clip(X + rng.normal(0.0, sigma, X.shape).astype(X.dtype))


def rotate(X, degrees: float) -> np.ndarray:
    """Every image turned anticlockwise by ``degrees`` about its centre: the seed's rotation
    (:func:`ann.augment.rotate`, order-1 interpolation, corners filled with paper)."""
    X = _check_inputs(X)
    degrees = _check_level(degrees, "degrees", -180.0, 180.0)
    return _clip(augment.rotate(X, degrees, cval=PAPER))


def stroke(X, steps: int) -> np.ndarray:
    """Thicker (``steps > 0``) or thinner (``steps < 0``) ink: grey dilation or erosion by a 3x3 cross,
    ``|steps|`` times.

    One step grows every stroke by about one pixel on each side (each pixel takes the darkest value among
    itself and its four neighbours), or wears one away (the lightest). MNIST's strokes are 2-4 pixels wide,
    so two steps of thinning erase most of a digit.

    Parameters
    ----------
    X : ndarray (n, 784), float32 or float64, scaled inputs
    steps : int, -5..5

    Returns
    -------
    ndarray (n, 784), the dtype of ``X``
    """
    X = _check_inputs(X)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not -5 <= steps <= 5:
        raise ValueError(f"steps={steps!r} must be a whole number from -5 (thinner) to 5 (thicker)")
    images = X.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    footprint = _CROSS[None, :, :]  # images are stacked on axis 0: never mix one image with the next
    operation = scipy.ndimage.grey_dilation if steps > 0 else scipy.ndimage.grey_erosion
    for _ in range(abs(int(steps))):
        images = operation(images, footprint=footprint, mode="constant", cval=PAPER)
    return images.reshape(X.shape).astype(X.dtype, copy=True)


def occlude(X, side: int, rng: np.random.Generator) -> np.ndarray:
    """A square of paper ``side`` pixels wide over each image, somewhere inside the 20x20 box where MNIST
    puts the digit (each image's position drawn uniformly by ``rng``).

    Parameters
    ----------
    X : ndarray (n, 784), float32 or float64, scaled inputs
    side : int, 0..20 (0: no square)
    rng : numpy.random.Generator

    Returns
    -------
    ndarray (n, 784), the dtype of ``X``
    """
    X = _check_inputs(X)
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or not 0 <= side <= 20:
        raise ValueError(f"side={side!r} must be a whole number of pixels from 0 to 20 (the digit's box)")
    rng = _check_rng(rng)
    out = X.copy()
    if side == 0 or len(X) == 0:
        return out
    low, high = DIGIT_BOX
    tops = rng.integers(low, high - side + 1, size=len(X))
    lefts = rng.integers(low, high - side + 1, size=len(X))
    images = out.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    rows = np.arange(IMAGE_SIDE)
    inside_rows = (rows[None, :] >= tops[:, None]) & (rows[None, :] < tops[:, None] + side)
    inside_cols = (rows[None, :] >= lefts[:, None]) & (rows[None, :] < lefts[:, None] + side)
    images[inside_rows[:, :, None] & inside_cols[:, None, :]] = PAPER
    return out


# --------------------------------------------------------------------------- the input gradient and FGSM


def input_gradient(network: Network, X, labels) -> np.ndarray:
    """The gradient of each sample's own loss with respect to its inputs: ``d loss_i / d X_i``.

    The loss is the network's own (:meth:`Network.loss` for one sample: half the squared error of the
    sigmoid outputs against the 0.01/0.99 targets, or the cross-entropy of the softmax outputs), and the
    gradient is exact whatever error rule the network was trained with: backpropagation through the
    activations that :meth:`Network.forward` returns and the transposed weights,
    ``dL/dz_L`` at the outputs, ``dL/da_{l-1} = dL/dz_l @ W_l``, ``dL/dz_{l-1} = dL/da_{l-1} * f'(a_{l-1})``,
    down to ``dL/dX = dL/dz_1 @ W_1`` (:func:`gradient_to_inputs`). Biases do not enter it.

    Parameters
    ----------
    network : Network (not modified)
    X : ndarray (n, 784), scaled inputs
    labels : ndarray (n,) int, the digit each loss is measured against

    Returns
    -------
    ndarray (n, 784) float64
    """
    X = _check_inputs(X)
    labels = _check_labels(labels, len(X), network.config.output_nodes)
    layers = [a.astype(np.float64) for a in network.forward(X.astype(network.dtype))]
    out = layers[-1]
    T = network.targets(labels).astype(np.float64)
    if network.config.loss == "mse":
        dz = (out - T) * out * (1.0 - out)  # d(0.5 * sum (T - O)^2)/dz through the sigmoid
    else:
        dz = out - T  # softmax with cross-entropy: the slope cancels
    return gradient_to_inputs(network, layers, dz)


def gradient_to_inputs(network: Network, layers: list[np.ndarray], delta: np.ndarray) -> np.ndarray:
    """A gradient at the output layer's net input sent back to the inputs: backpropagation, exactly.

    ``dL/da_{l-1} = dL/dz_l @ W_l``, ``dL/dz_{l-1} = dL/da_{l-1} * f'(a_{l-1})``, down to
    ``dL/dX = dL/dz_1 @ W_1``: the half of a training step that moves no weight. :func:`input_gradient`
    starts it from the network's own loss; ``ann.lab.inside.ascent_images`` from the log of one output's
    softmax share.

    Parameters
    ----------
    network : Network (not modified)
    layers : list of ndarray
        :meth:`Network.forward`'s activations for the inputs, ``[X, hidden_1, ..., outputs]``.
    delta : ndarray (n, output_nodes)
        ``dL/dz`` at the output layer's net input; its dtype is the dtype the products run in (the weights
        are converted to it, without a copy when they already have it).

    Returns
    -------
    ndarray (n, input_nodes), the dtype of ``delta``
    """
    slope = SLOPES[network.config.activation]
    dz = delta
    for l in range(len(network.weights) - 1, 0, -1):
        da = dz @ network.weights[l].astype(dz.dtype, copy=False)
        dz = da * slope(layers[l].astype(dz.dtype, copy=False))
    return dz @ network.weights[0].astype(dz.dtype, copy=False)


def fgsm(network: Network, X, labels, epsilon: float) -> np.ndarray:
    """The fast gradient sign method: every pixel moved by ``epsilon`` towards a larger loss.

    ``X + epsilon * sign(d loss / d X)``, kept inside the pixel range 0.01..1.0. For a small ``epsilon``
    this raises each sample's loss (to first order by ``epsilon`` times the gradient's L1 norm) while the
    image barely changes to a person's eye.

    Parameters
    ----------
    network : Network (not modified)
    X : ndarray (n, 784), scaled inputs
    labels : ndarray (n,) int, the true digits (the attack pushes away from them)
    epsilon : float, 0..1, on the scaled inputs' scale (0.1 is about 26 grey levels of 255)

    Returns
    -------
    ndarray (n, 784), the dtype of ``X``
    """
    X = _check_inputs(X)
    epsilon = _check_level(epsilon, "epsilon", 0.0, 1.0)
    if epsilon == 0.0:
        return X.copy()
    gradient = input_gradient(network, X, labels)
    return _clip((X + epsilon * np.sign(gradient)).astype(X.dtype))


# --------------------------------------------------------------------------- accuracy against damage


@dataclass(frozen=True)
class Perturbation:
    """One kind of damage, for :func:`accuracy_curve` and the dashboard.

    Attributes
    ----------
    name, title : str
        Key and a heading for people.
    level_name : str
        What the level measures (an axis title).
    levels : tuple of float
        The default levels of a sweep, weakest first; the first is no damage at all.
    low, high : float
        The range a level may take.
    apply : callable (network, X, labels, level, rng) -> X'
    integer : bool
        Levels are whole numbers.
    """

    name: str
    title: str
    level_name: str
    levels: tuple[float, ...]
    low: float
    high: float
    apply: Callable[[Network, np.ndarray, np.ndarray, float, np.random.Generator], np.ndarray]
    integer: bool = False


PERTURBATIONS: dict[str, Perturbation] = {
    "noise": Perturbation(
        "noise", "Gaussian noise", "noise level (standard deviation, 1 = paper to ink)",
        (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0), 0.0, 2.0,
        lambda net, X, y, level, rng: add_noise(X, level, rng)),
    "rotation": Perturbation(
        "rotation", "Rotation", "angle (degrees, anticlockwise)",
        (0.0, -60.0, -45.0, -30.0, -20.0, -10.0, 10.0, 20.0, 30.0, 45.0, 60.0), -180.0, 180.0,
        lambda net, X, y, level, rng: rotate(X, level)),
    "stroke": Perturbation(
        "stroke", "Thicker and thinner strokes", "steps (negative: thinner, positive: thicker)",
        (0, -2, -1, 1, 2, 3), -5, 5,
        lambda net, X, y, level, rng: stroke(X, int(level)), integer=True),
    "occlusion": Perturbation(
        "occlusion", "An occluding square", "side of the square (pixels)",
        (0, 4, 6, 8, 10, 12, 14), 0, 20,
        lambda net, X, y, level, rng: occlude(X, int(level), rng), integer=True),
    "fgsm": Perturbation(
        "fgsm", "Adversarial (FGSM)", "epsilon (each pixel's change, 1 = paper to ink)",
        (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4), 0.0, 1.0,
        lambda net, X, y, level, rng: fgsm(net, X, y, level)),
}


def accuracy_curve(network: Network, X, labels, kind: str, levels: Sequence[float] | None = None,
                   seed: int = 0, batch: int = 1000) -> Iterator[dict]:
    """Test accuracy at each level of one kind of damage, one level at a time (for a progress bar).

    Parameters
    ----------
    network : Network (not modified)
    X : ndarray (n, 784), scaled inputs
    labels : ndarray (n,) int
    kind : str, a key of :data:`PERTURBATIONS`
    levels : sequence of float, optional
        Default: the perturbation's own ``levels``. Returned sorted, in the order given here.
    seed : int
        Seeds the damage that is random (noise, the squares' positions); each level starts afresh from it,
        so a level's result does not depend on which other levels were asked for.
    batch : int, images per forward pass

    Yields
    ------
    dict
        ``{"kind", "level", "accuracy", "confidence", "changed"}``: the accuracy on the damaged images, the
        mean winning output, and the fraction whose prediction differs from the undamaged image's.
    """
    if kind not in PERTURBATIONS:
        raise ValueError(f"kind={kind!r} is not known; choose one of: {', '.join(PERTURBATIONS)}")
    perturbation = PERTURBATIONS[kind]
    X = _check_inputs(X).astype(network.dtype, copy=False)
    labels = _check_labels(labels, len(X), network.config.output_nodes)
    levels = perturbation.levels if levels is None else tuple(levels)
    for level in levels:
        _check_level(level, perturbation.level_name, perturbation.low, perturbation.high)
    with blas.threads("score"):  # the products on ann's threads, every library's own pool at one
        yield from _levels(network, X, labels, perturbation, levels, seed, batch)


def _levels(network: Network, X: np.ndarray, labels: np.ndarray, perturbation: Perturbation,
            levels: Sequence[float], seed: int, batch: int) -> Iterator[dict]:
    """The levels of :func:`accuracy_curve`, after its checks."""
    kind = perturbation.name
    clean = np.concatenate([network.predict(X[s:s + batch]) for s in range(0, len(X), batch)]) if len(X) \
        else np.zeros(0, np.int64)
    for level in levels:
        rng = np.random.default_rng(seed)
        level = int(level) if perturbation.integer else float(level)
        predicted, confidence = [], []
        for start in range(0, len(X), batch):
            damaged = perturbation.apply(network, X[start:start + batch], labels[start:start + batch], level, rng)
            outputs = network.query(damaged)
            predicted.append(np.argmax(outputs, axis=1))
            confidence.append(outputs.max(axis=1).astype(np.float64))
        predicted = np.concatenate(predicted) if predicted else np.zeros(0, np.int64)
        n = max(len(X), 1)
        yield {"kind": kind, "level": level, "accuracy": float(np.sum(predicted == labels)) / n,
               "confidence": float(np.concatenate(confidence).mean()) if confidence else 0.0,
               "changed": float(np.sum(predicted != clean)) / n}


CALIBRATION_IMAGES = 200  # images a sweep's calibration damages and reads, one level of each kind ...
CALIBRATION_SECONDS = 0.1  # ... again and again for this long


def level_seconds(network: Network, X, labels, kind: str, wait: bool = True) -> float | None:
    """Seconds per image for one level of one kind of damage (:func:`accuracy_curve`), measured on this
    server for the network's shape: a middle level on the first :data:`CALIBRATION_IMAGES` of ``X``,
    after a warm-up, for :data:`CALIBRATION_SECONDS` (at least twice). Measured once per process for each
    network shape and kind (:data:`ann.estimates.MEASUREMENTS`); ``wait=False``: None while it is being
    measured."""
    if kind not in PERTURBATIONS:
        raise ValueError(f"kind={kind!r} is not known; choose one of: {', '.join(PERTURBATIONS)}")
    perturbation = PERTURBATIONS[kind]
    level = perturbation.levels[len(perturbation.levels) // 2]
    sample, sample_labels = X[:CALIBRATION_IMAGES], np.asarray(labels)[:CALIBRATION_IMAGES]

    def measure() -> float:
        next(accuracy_curve(network, sample[:20], sample_labels[:20], kind, [level]))  # warm-up
        started = time.perf_counter()
        images = 0  # repeated until the budget is spent: a busy server's time slices average out
        while images < 2 * len(sample) or time.perf_counter() - started < CALIBRATION_SECONDS:
            next(accuracy_curve(network, sample, sample_labels, kind, [level]))
            images += len(sample)
        return (time.perf_counter() - started) / max(images, 1)

    return MEASUREMENTS.get(("robustness level", network.config, kind), measure, wait=wait)


def sweep_estimate(network: Network, X, labels, kinds: Sequence[str], wait: bool = True) -> float | None:
    """Calibrated seconds for every level of ``kinds`` on all of ``X`` (:func:`level_seconds`);
    ``wait=False``: None while any kind is being measured (every one missing is asked for at once)."""
    costs = [level_seconds(network, X, labels, kind, wait=wait) for kind in kinds]
    if None in costs:
        return None
    return sum(cost * len(X) * len(PERTURBATIONS[kind].levels) for cost, kind in zip(costs, kinds))


# --------------------------------------------------------------------------- one image


def occlusion_map(network: Network, x, digit: int, patch: int = 4, stride: int = 1) -> np.ndarray:
    """Which pixels the network's answer depends on: the drop in output ``digit`` when a patch of paper
    covers them.

    A ``patch`` x ``patch`` square of paper (0.01) is put at every position (every ``stride`` pixels) and
    the network run on each occluded copy, all in one batch. Each pixel's value is the mean drop of output
    ``digit`` (clean output minus occluded output) over the positions whose square covers it: positive
    where hiding the pixel lowers the network's belief in ``digit``, negative where hiding it raises it.

    Parameters
    ----------
    network : Network (not modified)
    x : ndarray (784,) or (1, 784), scaled inputs
    digit : int, the output node to watch (usually the prediction or the true label)
    patch : int, 1..14
    stride : int, 1..patch

    Returns
    -------
    ndarray (28, 28) float64
    """
    X = _check_inputs(np.asarray(x).reshape(1, -1) if np.ndim(x) == 1 else x, "x")
    if len(X) != 1:
        raise ValueError(f"x holds {len(X)} images; occlusion_map explains one (pass x of shape (784,))")
    n_out = network.config.output_nodes
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= digit < n_out:
        raise ValueError(f"digit={digit!r} is not an output node; use an integer from 0 to {n_out - 1}")
    if isinstance(patch, bool) or not isinstance(patch, (int, np.integer)) or not 1 <= patch <= 14:
        raise ValueError(f"patch={patch!r} must be a whole number of pixels from 1 to 14")
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or not 1 <= stride <= patch:
        raise ValueError(f"stride={stride!r} must be a whole number from 1 to the patch size ({patch}), so "
                         "that every pixel is covered")
    starts = list(range(0, IMAGE_SIDE - patch + 1, stride))
    if starts[-1] != IMAGE_SIDE - patch:  # the last row and column are covered too
        starts.append(IMAGE_SIDE - patch)
    positions = [(r, c) for r in starts for c in starts]
    copies = np.repeat(X.astype(network.dtype), len(positions), axis=0).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    for i, (r, c) in enumerate(positions):
        copies[i, r:r + patch, c:c + patch] = PAPER
    clean = float(network.query(X.astype(network.dtype))[0, digit])
    drops = clean - network.query(copies.reshape(len(positions), N_PIXELS))[:, digit].astype(np.float64)
    total = np.zeros((IMAGE_SIDE, IMAGE_SIDE))
    count = np.zeros((IMAGE_SIDE, IMAGE_SIDE))
    for drop, (r, c) in zip(drops, positions):
        total[r:r + patch, c:c + patch] += drop
        count[r:r + patch, c:c + patch] += 1
    return total / count


def fooling_epsilon(network: Network, x, label: int, epsilons: Sequence[float] | None = None
                    ) -> tuple[float | None, np.ndarray | None]:
    """The smallest FGSM step (of ``epsilons``) that changes the network's answer for one image.

    Parameters
    ----------
    network : Network (not modified)
    x : ndarray (784,) or (1, 784), scaled inputs
    label : int, the answer to push away from (the prediction, for a drawing without a true label)
    epsilons : sequence of float, optional; default 0.01, 0.02, ... 0.5

    Returns
    -------
    (epsilon, fooled) : (float, ndarray (784,)) or (None, None) when no epsilon tried changes the answer
    """
    X = _check_inputs(np.asarray(x).reshape(1, -1) if np.ndim(x) == 1 else x, "x")
    epsilons = np.round(np.arange(1, 51) * 0.01, 2) if epsilons is None else np.asarray(epsilons, np.float64)
    labels = np.array([label])
    gradient_sign = np.sign(input_gradient(network, X, labels))
    # One gradient serves every epsilon: FGSM's step for any epsilon is along the same sign pattern.
    candidates = np.clip(X.astype(np.float64) + epsilons[:, None] * gradient_sign, PAPER, INK).astype(network.dtype)
    changed = np.flatnonzero(network.predict(candidates) != label)
    if not changed.size:
        return None, None
    first = int(changed[0])
    return float(epsilons[first]), candidates[first]


def sensitivity(network: Network, x) -> dict:
    """How sure the network is of one image's answer, and how easily it is fooled.

    Every test here pushes away from the network's own answer (a drawing has no true label).

    Parameters
    ----------
    network : Network (not modified)
    x : ndarray (784,) or (1, 784), scaled inputs

    Returns
    -------
    dict
        ``predicted``, ``confidence`` (the winning output), ``runner_up`` and its output, ``margin`` (the
        difference); ``fooling_epsilon`` and ``fooled`` (784,) with ``fooled_prediction`` and
        ``fooled_confidence`` (None when even epsilon 0.5 does not change the answer);
        ``rotation_angles`` (-45..45 in steps of 5) with ``rotation_predictions``, ``stroke_steps`` (-2..3)
        with ``stroke_predictions`` (int64 each); ``occlusion`` (28, 28), :func:`occlusion_map` for the
        predicted digit.
    """
    X = _check_inputs(np.asarray(x).reshape(1, -1) if np.ndim(x) == 1 else x, "x").astype(network.dtype)
    outputs = network.query(X)[0].astype(np.float64)
    order = np.argsort(-outputs, kind="stable")
    predicted = int(order[0])
    epsilon, fooled = fooling_epsilon(network, X, predicted)
    fooled_outputs = network.query(fooled[None, :])[0].astype(np.float64) if fooled is not None else None
    angles = np.arange(-45, 46, 5)
    # one image at nineteen angles: sampled image by image (an angle each), not through the fixed-angle path,
    # which first builds a 784x784 operator per angle: about 1 s of server CPU for the first drawing on a server
    rotated = _clip(augment.rotate(np.repeat(X, len(angles), axis=0), angles.astype(np.float64)))
    steps = np.arange(-2, 4)
    stroked = np.concatenate([stroke(X, int(s)) for s in steps])
    return {
        "predicted": predicted,
        "confidence": float(outputs[predicted]),
        "runner_up": int(order[1]),
        "runner_up_confidence": float(outputs[order[1]]),
        "margin": float(outputs[predicted] - outputs[order[1]]),
        "fooling_epsilon": epsilon,
        "fooled": fooled,
        "fooled_prediction": None if fooled_outputs is None else int(np.argmax(fooled_outputs)),
        "fooled_confidence": None if fooled_outputs is None else float(fooled_outputs.max()),
        "rotation_angles": angles.astype(float),
        "rotation_predictions": network.predict(rotated),
        "stroke_steps": steps,
        "stroke_predictions": network.predict(stroked),
        "occlusion": occlusion_map(network, X[0], predicted),
    }
