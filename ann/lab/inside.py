"""Looking inside a trained network: what each node looks for, and the network run backwards.

- :func:`ascent_images` finds, for every output, the picture the network reads as that output most surely:
  gradient ascent on the pixels from a grey page, kept smooth and sparse. Every shipped model reads its own
  pictures as the digits they were made for; the Inside page draws these by default.
- :func:`backquery` runs a trained network backwards, from a chosen output digit to the image the network
  "expects" for it, as in Tariq Rashid's *Make Your Own Neural Network* (the book the seed follows):
  the target output (0.99 for the digit, 0.01 elsewhere) goes back through the inverse activation and the
  transposed weights, layer by layer, each layer's signal rescaled into the activation's range on the way.
- :func:`hidden_weight_images`, :func:`hidden_activations` and :func:`output_contributions` show what each
  hidden node looks for, how strongly it fires for one image, and how the output nodes add those up.

The dashboard's Inside page draws these; nothing here trains or changes the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ann import blas
from ann.blas import scipy_on_first_use as scipy  # SciPy's modules imported at first use
from ann.lab.robustness import INK, PAPER, gradient_to_inputs
from ann.network import Network
from ann.train import as_inputs, blas_threads

__all__ = [
    "BACKQUERY_METHODS",
    "AscentConfig",
    "BackqueryMethod",
    "ascent_images",
    "backquery",
    "backquery_all",
    "backquery_images",
    "hidden_activations",
    "hidden_weight_images",
    "output_contributions",
]

# --- backquery: each activation's inverse and the range its signal is rescaled into first ------------------


def _logit(a: np.ndarray) -> np.ndarray:
    return scipy.special.logit(a)


def _identity(a: np.ndarray) -> np.ndarray:
    return a


# The inverse of each hidden activation, applied to a signal already rescaled into SIGNAL_RANGES.
# relu has no inverse (every negative input gives 0); on its active side it is the identity, so the signal
# is passed through as is.
INVERSE_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _logit,
    "tanh": np.arctanh,
    "relu": _identity,
}
# Where a layer's back-sent signal is squeezed before the inverse activation: inside the activation's output
# range, away from the ends where the inverse runs off to infinity. Rashid's 0.01..0.99 for sigmoid; for tanh
# the same margin inside its range -1..1, so that arctanh gives signed net inputs as logit does (0.01..0.99
# would make every tanh node's net input positive). relu (None): no squeeze at all. Its outputs are
# unbounded, and a squeeze into 0.01..0.99 would make every node's net input positive, losing which nodes the
# digit wants silent: on a 784-200-10 relu/softmax network the network recognised its own backquery images
# for 4 of 10 digits with that squeeze and for 9 of 10 with the signal passed through unchanged.
SIGNAL_RANGES: dict[str, tuple[float, float] | None] = {
    "sigmoid": (0.01, 0.99),
    "tanh": (-0.98, 0.98),
    "relu": None,
}
PIXEL_RANGE = (0.01, 0.99)  # the returned image, like scaled inputs (ann.inputs.scale_inputs' 0.01 background)


def _rescale(signal: np.ndarray, low: float, high: float) -> np.ndarray:
    """Rashid's squeeze: subtract the minimum, divide by the (new) maximum, map 0..1 onto low..high.

    A constant signal carries no pattern; it becomes the middle of the range rather than a division by zero.
    """
    span = float(signal.max() - signal.min())
    if not span > 0.0:
        return np.full_like(signal, 0.5 * (low + high))
    return (signal - signal.min()) / span * (high - low) + low


def _output_net_input(network: Network, targets: np.ndarray) -> np.ndarray:
    """The output layer's net input that would produce ``targets`` (1-D float64), bias taken off.

    sigmoid outputs (the seed's mse): the logit. softmax outputs (cross-entropy): softmax ignores a constant
    added to all its inputs, so ``log(target)`` is one inverse among many; it is centred to mean zero, the
    choice that treats every output node alike.
    """
    if network.config.loss == "mse":
        z = _logit(targets)
    else:
        z = np.log(targets)
        z -= z.mean()
    if network.biases is not None:
        z = z - network.biases[-1].astype(np.float64)
    return z


def backquery(network: Network, label: int, low: float = 0.01, high: float = 0.99) -> np.ndarray:
    """The input image the network associates with output ``label``: the network run backwards.

    Rashid's ``backquery``, for any number of layers: set the outputs to ``high`` for ``label`` and ``low``
    elsewhere; turn them into the output layer's net input (logit for sigmoid outputs, centred log for
    softmax outputs, minus the bias if the network has one); send that back through the transposed weights
    (``W.T @ z``); rescale the signal into the hidden activation's range (subtract the minimum, divide by
    the maximum, map onto 0.01..0.99 for sigmoid, -0.98..0.98 for tanh) and apply the inverse activation
    (logit, arctanh), or, for relu, which has no inverse, pass the signal through as is (see
    :data:`SIGNAL_RANGES`); subtract that layer's bias; repeat down to the inputs, which are rescaled into
    0.01..0.99 like scaled pixels.

    The result is not an image the network was shown: it is the pattern of light and dark its weights
    favour for ``label``. Rashid shows these pictures look like blurred digits; for a network trained well
    enough, the network also classifies them as ``label`` (a property the tests check).

    Parameters
    ----------
    network : Network
        A trained network (not modified).
    label : int
        The output node to start from, 0 .. output_nodes - 1 (the digit).
    low, high : float
        Target outputs for the other nodes and for ``label`` (Rashid's 0.01 and 0.99), 0 < low < high < 1.

    Returns
    -------
    ndarray of float64, shape (input_nodes,)
        Pixel-like values in 0.01..0.99 (reshape a 784-vector to 28x28 to show it); 0.01 is the background
        of a scaled input, so with ``cmap="Greys"`` dark pixels are where the network expects ink.

    Raises
    ------
    ValueError
        ``label`` is not an output node, or ``low``/``high`` are not inside 0..1 in that order.
    """
    n_out = network.config.output_nodes
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < n_out:
        raise ValueError(f"label={label!r} is not an output node of this network; use an integer "
                         f"from 0 to {n_out - 1}")
    if not 0.0 < low < high < 1.0:
        raise ValueError(f"low={low!r}, high={high!r}: the target outputs must satisfy 0 < low < high < 1 "
                         "(the inverse activation is infinite at 0 and 1)")
    targets = np.full(n_out, low, dtype=np.float64)
    targets[label] = high
    z = _output_net_input(network, targets)
    activation = network.config.activation
    for l in range(len(network.weights) - 1, 0, -1):  # down to the first hidden layer
        signal = network.weights[l].astype(np.float64).T @ z
        signal_range = SIGNAL_RANGES[activation]
        z = INVERSE_ACTIVATIONS[activation](_rescale(signal, *signal_range) if signal_range else signal)
        if network.biases is not None:
            z = z - network.biases[l - 1].astype(np.float64)
    return _rescale(network.weights[0].astype(np.float64).T @ z, *PIXEL_RANGE)


def backquery_all(network: Network, low: float = 0.01, high: float = 0.99) -> np.ndarray:
    """:func:`backquery` for every output node: shape (output_nodes, input_nodes) float64, row d for digit d."""
    return np.stack([backquery(network, d, low, high) for d in range(network.config.output_nodes)])


# --- gradient ascent: the picture each output wants most, found from a grey start --------------------------


class BackqueryMethod(StrEnum):
    """How the network is run backwards."""

    ASCENT = "ascent"  # gradient ascent on the pixels from a grey start (ascent_images)
    INVERSION = "inversion"  # Rashid's: the outputs sent back through inverted activations (backquery_all)


@dataclass(frozen=True)
class AscentConfig:
    """How :func:`ascent_images` climbs. The defaults suit both shipped models, and networks trained briefly;
    what they measure is in bench/README.md ("The network run backwards")."""

    steps: int = 60  # gradient steps; the step length decays to 0 over them (a cosine), so the picture settles
    step_size: float = 0.1  # the first step's length, as a root-mean-square change per pixel
    start: float = 0.1  # the grey every pixel starts at (paper is 0.01, full ink 1.0)
    blur: float = 1.0  # smoothness, in pixels: the picture is a Gaussian blur of what is climbed, so no pixel
    # can change alone and the ink comes in strokes rather than in the speckle a network also responds to
    sparsity: float = 0.2  # each step pulls every inked pixel this much towards paper: ink only where it counts
    min_ink: float = 0.1  # below this mean ink a picture the pull turns round and inked pixels grow: a nearly
    # empty page is what some networks read as a 1 or a 7 (an MNIST digit has about 0.13)
    shift: int = 2  # each step follows the gradient averaged over the picture moved this many pixels up,
    # down, left and right: strokes that still count when they are a little off, as handwriting is


def _blur(X: np.ndarray, sigma: float, side: int) -> np.ndarray:
    images = X.reshape(-1, side, side)
    return scipy.ndimage.gaussian_filter(images, (0, sigma, sigma), mode="constant").reshape(X.shape)


def _log_softmax_gradient(network: Network, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """d(-log softmax(z)[label]) / dX for every row of ``X``, ``z`` the output layer's net input.

    The softmax of the net inputs, whatever the output activation: with sigmoid outputs (the seed's) the
    network's own loss has a slope of nearly 0 wherever an output is saturated, and a climb from grey would
    stall; the net inputs keep their slope. For softmax outputs this is the network's own loss.
    """
    layers = network.forward(X)
    biases = network.biases[-1] if network.biases is not None else None
    z = blas.linear(layers[-2], network.weights[-1], biases).astype(np.float64)
    delta = scipy.special.softmax(z, axis=1)
    delta[np.arange(len(labels)), labels] -= 1.0
    return gradient_to_inputs(network, layers, delta.astype(network.dtype)).astype(np.float64)


def ascent_images(network: Network, config: AscentConfig = AscentConfig()) -> np.ndarray:
    """For every output, the picture the network reads as that output most surely: found by gradient ascent.

    All outputs' pictures climb together from the same grey page: at every step each one moves against the
    exact gradient of ``-log softmax(z)[d]`` with respect to its pixels (:func:`_log_softmax_gradient`,
    through :func:`ann.lab.robustness.gradient_to_inputs`, the backpropagation FGSM uses), normalised to
    the step's length, averaged over the picture shifted by ``config.shift`` pixels four ways, and blurred;
    inked pixels are pulled back towards paper (``config.sparsity``) while the picture holds more than
    ``config.min_ink`` of ink. Deterministic: no random numbers, the same picture on every call.

    Parameters
    ----------
    network : Network
        A trained network (not modified) whose inputs form a square image (784 = 28x28).
    config : AscentConfig

    Returns
    -------
    ndarray of float64, shape (output_nodes, input_nodes)
        Row d is the picture for output d, scaled like the inputs: 0.01 paper to 1.0 full ink.

    Raises
    ------
    ValueError
        The network's inputs do not form a square image.
    """
    n_inputs = network.config.input_nodes
    side = math.isqrt(n_inputs)
    if side * side != n_inputs:
        raise ValueError(f"the network has {n_inputs} inputs, which do not form a square image; gradient "
                         "ascent draws pictures, so it needs a square number of inputs (784 = 28x28)")
    n = network.config.output_nodes
    r = config.shift
    shifts = ((0, 0), (r, 0), (-r, 0), (0, r), (0, -r)) if r else ((0, 0),)
    labels = np.tile(np.arange(n), len(shifts))
    climbed = np.full((n, n_inputs), config.start)
    with blas_threads("batch"):
        for step in range(config.steps):
            X = np.clip(_blur(climbed, config.blur, side), PAPER, INK)
            images = X.reshape(n, side, side)
            batch = np.concatenate([np.roll(images, s, axis=(1, 2)) for s in shifts]).reshape(-1, n_inputs)
            G = _log_softmax_gradient(network, batch.astype(network.dtype), labels).reshape(len(shifts), n, side,
                                                                                              side)
            g = sum(np.roll(G[k], (-dy, -dx), axis=(1, 2)) for k, (dy, dx) in enumerate(shifts)).reshape(n, -1)
            g *= side / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)  # rms 1 a pixel
            inked = X.mean(axis=1, keepdims=True) > config.min_ink
            g += config.sparsity * np.sign(X - PAPER) * np.where(inked, 1.0, -1.0)
            rate = config.step_size * 0.5 * (1.0 + math.cos(math.pi * step / config.steps))
            climbed = np.clip(climbed - rate * _blur(g, config.blur, side), PAPER - 0.5, INK + 0.5)
    return np.clip(_blur(climbed, config.blur, side), PAPER, INK)


# Each method's pictures for every output, row d for output d, scaled like the inputs.
BACKQUERY_METHODS: dict[BackqueryMethod, Callable[[Network], np.ndarray]] = {
    BackqueryMethod.ASCENT: ascent_images,
    BackqueryMethod.INVERSION: backquery_all,
}


def backquery_images(network: Network, method: BackqueryMethod | str = BackqueryMethod.ASCENT) -> np.ndarray:
    """Every output's picture by ``method`` (:data:`BACKQUERY_METHODS`): shape (output_nodes, input_nodes)."""
    try:
        chosen = BackqueryMethod(method)
    except ValueError:
        raise ValueError(f"method={method!r} is not known; choose one of: "
                         f"{', '.join(m.value for m in BackqueryMethod)}") from None
    return BACKQUERY_METHODS[chosen](network)


# --- weights and activations -----------------------------------------------------------------------------


def hidden_weight_images(network: Network, layer: int = 0) -> np.ndarray:
    """The incoming weights of each node of ``layer`` as images: what each node looks for.

    Row ``j`` of ``weights[layer]`` is node ``j``'s weight for every input; for the first layer the inputs
    are the 784 pixels, so each row is a 28x28 picture (positive where ink excites the node).

    Parameters
    ----------
    network : Network
    layer : int
        Index into ``network.weights``; its input count must be a square number (784 for layer 0).

    Returns
    -------
    ndarray, shape (n_nodes, side, side), the network's dtype
        A copy: (200, 28, 28) for the seed's network.

    Raises
    ------
    ValueError
        ``layer`` does not exist, or its inputs do not form a square image (every layer after the first).
    """
    n_layers = len(network.weights)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < n_layers:
        raise ValueError(f"layer={layer!r} does not exist; this network has weight layers 0 to {n_layers - 1}")
    W = network.weights[layer]
    side = math.isqrt(W.shape[1])
    if side * side != W.shape[1]:
        raise ValueError(f"layer {layer} has {W.shape[1]} inputs, which do not form a square image; only the "
                         "first layer (layer=0) sees the pixels")
    return W.reshape(W.shape[0], side, side).copy()


def _one_sample(network: Network, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if x.shape != (network.config.input_nodes,):
        raise ValueError(f"x of shape {x.shape} is not one input of this network: expected "
                         f"({network.config.input_nodes},) or (1, {network.config.input_nodes})")
    return as_inputs(x[None, :], network.dtype)


def hidden_activations(network: Network, x: np.ndarray) -> list[np.ndarray]:
    """Every hidden layer's output for one input.

    Parameters
    ----------
    network : Network
    x : ndarray (784,) or (1, 784)
        uint8 pixels 0-255 (scaled the seed's way) or scaled float inputs.

    Returns
    -------
    list of ndarray
        One 1-D array per hidden layer, ``[hidden_1, ..., hidden_L]`` (empty for a network without hidden
        layers), in the network's dtype. The input and the outputs are :meth:`Network.forward`'s first and
        last entries.
    """
    return [a[0] for a in network.forward(_one_sample(network, x))[1:-1]]


def output_contributions(network: Network, x: np.ndarray) -> np.ndarray:
    """How each output node's net input is made up, hidden node by hidden node, for one input.

    ``C[k, j] = W_out[k, j] * h[j]``: positive entries are hidden nodes pushing digit ``k`` up, negative
    ones pushing it down. ``C.sum(axis=1)`` plus the output bias (``network.biases[-1]``, when the network
    has biases) is the output layer's net input, which the output activation turns into the outputs.

    Parameters
    ----------
    network : Network
    x : ndarray (784,) or (1, 784)
        uint8 pixels or scaled inputs.

    Returns
    -------
    ndarray of float64, shape (output_nodes, n_last_hidden)
        ``n_last_hidden`` is the size of the last hidden layer (the inputs for a network without one).
    """
    layers = network.forward(_one_sample(network, x))
    h = layers[-2][0].astype(np.float64)
    return network.weights[-1].astype(np.float64) * h[None, :]
