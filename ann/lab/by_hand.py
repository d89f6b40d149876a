"""One training step worked out by hand: every number of the seed's sections 4.1 and 4.2.

The seed explains the network on small hand-drawn examples: the signal into a node is ``X = W . I``
(``I1 x W11 + I2 x W21 = J1``), squeezed by the sigmoid; the output error is ``target - output``; it is
sent back to the hidden layer by one of four rules (an even split, a split by each weight's share, such
as 3.0 and 1.0 taking 3/4 and 1/4, ``W^T . E``, or ``W^T . E / N``); and each weight moves by
``lr * E * O * (1 - O) . O_prev^T``. This module does that arithmetic in the open, for

- :func:`small_step`: a small sigmoid network (the seed's examples: two inputs, two hidden nodes, two
  outputs) with every input, weight, target and the learning rate given, and
- :func:`node_step`: any one node of a real network on one image.

Each returns a frozen record of every intermediate number, so that a page can show them all and a test can
check each against :class:`ann.network.Network` doing the same step. Nothing here changes a network: the
step is applied to copies of the weights.

Notation (the seed's): ``W`` of a layer has shape ``(n_out, n_in)`` and row ``j`` holds the weights of the
links into node ``j``, so the seed's link weight ``W_{i,j}`` (from node ``i`` below to node ``j``) is
``W[j, i]``. ``O`` is a layer's output, ``E`` its error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ann.blas import scipy_on_first_use as scipy  # SciPy's modules imported at first use
from ann.config import ERROR_RULE_NAMES
from ann.network import ERROR_RULES, SLOPES, Network

__all__ = [
    "SEED_EXAMPLE",
    "UPDATES",
    "NodeWorkings",
    "StepWorkings",
    "hidden_errors_by_rule",
    "node_step",
    "small_step",
]

# What is sent back to the layer below: the raw error (the seed's update) or the error times the slope of
# the layer's activation (exact backpropagation, the gradient of the squared error with the W^T.E rule).
UPDATES = {"seed": "error", "exact": "delta"}

# The seed's small examples. Inputs 1.0 and 0.5 with the first layer's weights 0.9, 0.3 (into hidden node
# 1) and 0.2, 0.8 (into hidden node 2) are the two-node example of Rashid's book, which the seed's 4.1
# follows; 3.0 and 1.0 are the weights into output node 1 in the seed's 4.2, which the split-by-share rule
# divides 3/4 and 1/4. Output node 2's weights (1.0 and 4.0) and the targets (the seed's 0.99 for the
# right answer and 0.01 for the other) complete the network so that a step can be taken.
SEED_EXAMPLE = {
    "inputs": np.array([1.0, 0.5]),
    "hidden_weights": np.array([[0.9, 0.3], [0.2, 0.8]]),
    "output_weights": np.array([[3.0, 1.0], [1.0, 4.0]]),
    "targets": np.array([0.99, 0.01]),
    "learning_rate": 0.1,
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return scipy.special.expit(z)


def _check_update(update: str) -> str:
    if update not in UPDATES:
        raise ValueError(f"update={update!r} is not known; choose 'seed' (send the error E back, as the seed "
                         "does) or 'exact' (send E * O * (1 - O) back: the exact gradient)")
    return UPDATES[update]


def _check_rule(rule: str) -> None:
    if rule not in ERROR_RULES:
        raise ValueError(f"error_rule={rule!r} is not known; choose one of: {', '.join(ERROR_RULE_NAMES)}")


def _check_learning_rate(learning_rate) -> float:
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.integer, np.floating)):
        raise TypeError(f"learning_rate={learning_rate!r} is not a number")
    learning_rate = float(learning_rate)
    if not (np.isfinite(learning_rate) and 0.0 < learning_rate <= 10.0):
        raise ValueError(f"learning_rate={learning_rate!r} is out of range; use a value above 0 and at most 10")
    return learning_rate


def _finite(name: str, values, shape: tuple[int, ...]) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != shape:
        raise ValueError(f"{name} has shape {values.shape}; expected {shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} holds a value that is not a finite number: {values.ravel().tolist()}")
    return values


def hidden_errors_by_rule(output_weights: np.ndarray, sent_back: np.ndarray) -> dict[str, np.ndarray]:
    """The hidden layer's error under each of the seed's four rules.

    Parameters
    ----------
    output_weights : ndarray (n_out, n_hidden) float64, the weights of the links into the layer above
    sent_back : ndarray (n_out,) float64, what the layer above sends back (its error, or error x slope)

    Returns
    -------
    dict
        Rule name (``equal``, ``proportional``, ``transpose``, ``transpose_normalized``, the names of
        :data:`ann.network.ERROR_RULES`) to an ndarray (n_hidden,) float64: hidden node ``j`` receives
        ``sum_k sent_back[k] * M[k, j]``, ``M`` being the rule's matrix (the weights themselves for
        ``transpose``).
    """
    return {rule: sent_back @ ERROR_RULES[rule](output_weights) for rule in
            ("equal", "proportional", "transpose", "transpose_normalized")}


# --------------------------------------------------------------------------- a small network, all of it


@dataclass(frozen=True)
class StepWorkings:
    """Every number of one training step of a two-layer sigmoid network (the seed's), float64.

    Shapes: ``n_in`` inputs, ``n_hidden`` hidden nodes, ``n_out`` outputs.

    Attributes
    ----------
    inputs : (n_in,)  ``I``
    hidden_weights : (n_hidden, n_in), output_weights : (n_out, n_hidden)  before the step
    targets : (n_out,)  ``T``
    learning_rate : float
    update : str  "seed" (the error is sent back) or "exact" (the error times the output's slope)
    error_rule : str  the rule the step sends the error back by
    hidden_net : (n_hidden,)  ``X_hidden = W_ih . I``
    hidden_outputs : (n_hidden,)  ``O_hidden = sigmoid(X_hidden)``
    output_net : (n_out,)  ``X_output = W_ho . O_hidden``
    outputs : (n_out,)  ``O = sigmoid(X_output)``
    output_errors : (n_out,)  ``E = T - O``
    output_slopes : (n_out,)  ``O * (1 - O)``, the sigmoid's slope
    output_steps : (n_out,)  ``E * O * (1 - O)``
    sent_back : (n_out,)  ``E`` (seed) or ``E * O * (1 - O)`` (exact)
    hidden_errors_by_rule : dict of rule -> (n_hidden,)  the four rules applied to ``sent_back``
    hidden_errors : (n_hidden,)  the chosen rule's
    hidden_slopes, hidden_steps : (n_hidden,)  ``O_h * (1 - O_h)`` and ``E_h * O_h * (1 - O_h)``
    output_weight_changes : (n_out, n_hidden)  ``lr * (E * O * (1 - O)) . O_hidden^T``
    hidden_weight_changes : (n_hidden, n_in)  ``lr * (E_h * O_h * (1 - O_h)) . I^T``
    new_hidden_weights, new_output_weights : the weights after the step
    loss : float  ``0.5 * sum (T - O)^2`` before the step (the network's mse)
    new_outputs : (n_out,), new_loss : float  after the step, the same inputs
    """

    inputs: np.ndarray
    hidden_weights: np.ndarray
    output_weights: np.ndarray
    targets: np.ndarray
    learning_rate: float
    update: str
    error_rule: str
    hidden_net: np.ndarray
    hidden_outputs: np.ndarray
    output_net: np.ndarray
    outputs: np.ndarray
    output_errors: np.ndarray
    output_slopes: np.ndarray
    output_steps: np.ndarray
    sent_back: np.ndarray
    hidden_errors_by_rule: dict[str, np.ndarray]
    hidden_errors: np.ndarray
    hidden_slopes: np.ndarray
    hidden_steps: np.ndarray
    output_weight_changes: np.ndarray
    hidden_weight_changes: np.ndarray
    new_hidden_weights: np.ndarray
    new_output_weights: np.ndarray
    loss: float
    new_outputs: np.ndarray
    new_loss: float


def small_step(inputs, hidden_weights, output_weights, targets, learning_rate: float = 0.1,
               update: str = "seed", error_rule: str = "transpose") -> StepWorkings:
    """One training step of a small sigmoid network, every intermediate number kept.

    Parameters
    ----------
    inputs : array_like (n_in,)
    hidden_weights : array_like (n_hidden, n_in); row ``j`` holds the weights into hidden node ``j``
    output_weights : array_like (n_out, n_hidden); row ``k`` holds the weights into output ``k``
    targets : array_like (n_out,), each in 0..1 (the seed uses 0.01 and 0.99)
    learning_rate : float, above 0 and at most 10
    update : "seed" or "exact"
    error_rule : one of the four rules (:data:`ann.config.ERROR_RULE_NAMES`)

    Returns
    -------
    StepWorkings

    Raises
    ------
    ValueError
        A shape that does not fit, a value that is not finite, a target outside 0..1, an unknown rule or
        update, a learning rate out of range.
    """
    I = np.asarray(inputs, dtype=np.float64)
    if I.ndim != 1 or not 1 <= I.size <= 10:
        raise ValueError(f"inputs has shape {I.shape}; expected a list of 1 to 10 numbers")
    W_ih = np.asarray(hidden_weights, dtype=np.float64)
    if W_ih.ndim != 2 or not 1 <= W_ih.shape[0] <= 10:
        raise ValueError(f"hidden_weights has shape {W_ih.shape}; expected (hidden nodes, {I.size}), "
                         "1 to 10 hidden nodes")
    W_ih = _finite("hidden_weights", W_ih, (W_ih.shape[0], I.size))
    n_hidden = W_ih.shape[0]
    W_ho = np.asarray(output_weights, dtype=np.float64)
    if W_ho.ndim != 2 or not 1 <= W_ho.shape[0] <= 10:
        raise ValueError(f"output_weights has shape {W_ho.shape}; expected (outputs, {n_hidden}), 1 to 10 outputs")
    W_ho = _finite("output_weights", W_ho, (W_ho.shape[0], n_hidden))
    I = _finite("inputs", I, I.shape)
    T = _finite("targets", targets, (W_ho.shape[0],))
    if np.any((T < 0.0) | (T > 1.0)):
        raise ValueError(f"targets {T.tolist()} must lie in 0..1: a sigmoid output never leaves that range "
                         "(the seed aims at 0.01 and 0.99)")
    learning_rate = _check_learning_rate(learning_rate)
    propagate = _check_update(update)
    _check_rule(error_rule)

    # 4.1: the signal forward, X = W . I, then the sigmoid.
    X_h = W_ih @ I
    O_h = _sigmoid(X_h)
    X_o = W_ho @ O_h
    O = _sigmoid(X_o)
    # 4.2: the output error, the slope, and what is sent back.
    E = T - O
    slope_o = O * (1.0 - O)
    step_o = E * slope_o
    sent_back = E if propagate == "error" else step_o
    by_rule = hidden_errors_by_rule(W_ho, sent_back)
    E_h = by_rule[error_rule]
    slope_h = O_h * (1.0 - O_h)
    step_h = E_h * slope_h
    # Both changes use the weights as they were before the step, as the seed's train() does.
    dW_ho = learning_rate * np.outer(step_o, O_h)
    dW_ih = learning_rate * np.outer(step_h, I)
    new_W_ih, new_W_ho = W_ih + dW_ih, W_ho + dW_ho
    new_O = _sigmoid(new_W_ho @ _sigmoid(new_W_ih @ I))
    return StepWorkings(
        inputs=I, hidden_weights=W_ih, output_weights=W_ho, targets=T, learning_rate=learning_rate,
        update=update, error_rule=error_rule, hidden_net=X_h, hidden_outputs=O_h, output_net=X_o, outputs=O,
        output_errors=E, output_slopes=slope_o, output_steps=step_o, sent_back=sent_back,
        hidden_errors_by_rule=by_rule, hidden_errors=E_h, hidden_slopes=slope_h, hidden_steps=step_h,
        output_weight_changes=dW_ho, hidden_weight_changes=dW_ih, new_hidden_weights=new_W_ih,
        new_output_weights=new_W_ho, loss=float(0.5 * np.sum(E ** 2)), new_outputs=new_O,
        new_loss=float(0.5 * np.sum((T - new_O) ** 2)))


# --------------------------------------------------------------------------- one node of a real network


@dataclass(frozen=True)
class NodeWorkings:
    """One node's part in one training step of a real network on one image, float64.

    ``layer`` counts weight layers from 1: 1 is the first hidden layer, ``len(network.weights)`` the output
    layer. ``n_in`` is the size of the layer below (784 pixels for layer 1).

    Attributes
    ----------
    layer, node : int
    is_output : bool
    activation : str  the node's activation: "sigmoid", "tanh", "relu" or "softmax"
    update, error_rule : str  what the step sends back, and by which rule
    learning_rate : float
    label : int  the digit the step trains towards
    inputs : (n_in,)  ``O_prev``, the outputs of the layer below (the scaled pixels for layer 1)
    weights : (n_in,)  the weights into the node, before the step
    bias : float or None
    products : (n_in,)  ``W_ji * O_prev_i``
    net : float  ``X = sum(products) (+ bias)``
    output : float  the node's output
    target : float or None  an output node's target
    error : float  ``E``: ``T - O`` for an output node, what the chosen rule sends back for a hidden one
    errors_by_rule : dict of rule -> float, or None  a hidden node's error under each of the four rules,
        from what the layer above sends back (that layer's own error coming by the chosen rule)
    slope : float  the activation's slope at the output (1 for a softmax output with cross-entropy,
        whose slope cancels against the loss)
    step : float  ``E * slope``
    weight_changes : (n_in,)  ``lr * step * O_prev``
    bias_change : float or None
    new_weights : (n_in,)
    loss, new_loss : float  the network's loss on the image before and after the whole network's step
    new_output : float  the node's output after the step, on the same image
    outputs, new_outputs : (n_classes,)  the network's outputs before and after
    """

    layer: int
    node: int
    is_output: bool
    activation: str
    update: str
    error_rule: str
    learning_rate: float
    label: int
    inputs: np.ndarray
    weights: np.ndarray
    bias: float | None
    products: np.ndarray
    net: float
    output: float
    target: float | None
    error: float
    errors_by_rule: dict[str, float] | None
    slope: float
    step: float
    weight_changes: np.ndarray
    bias_change: float | None
    new_weights: np.ndarray
    loss: float
    new_loss: float
    new_output: float
    outputs: np.ndarray
    new_outputs: np.ndarray


def _as_float64_network(network: Network, propagate: str, error_rule: str) -> Network:
    """A float64 copy of ``network`` sending back ``propagate`` by ``error_rule``: the same weights."""
    config = replace(network.config, propagate=propagate, error_rule=error_rule, dtype="float64")
    copy = Network(config, seed=0)  # its random weights are replaced at once
    copy.weights = [W.astype(np.float64) for W in network.weights]
    copy.biases = [b.astype(np.float64) for b in network.biases] if network.biases is not None else None
    return copy


def node_step(network: Network, x, label: int, layer: int, node: int, learning_rate: float = 0.1,
              update: str | None = None, error_rule: str | None = None) -> NodeWorkings:
    """One node's share of one training step on one image (batch of one, no momentum), worked out.

    The whole network's step is the one :meth:`Network.train` takes on ``x`` with target
    ``network.targets([label])`` (computed here in float64 on copies of the weights); the record holds
    the numbers that concern ``node``.

    Parameters
    ----------
    network : Network (not modified)
    x : ndarray (784,) or (1, 784), scaled inputs
    label : int, the digit to train towards
    layer : int, 1..len(network.weights): 1 is the first hidden layer, the last is the output layer
    node : int, 0..(size of that layer) - 1
    learning_rate : float
    update : "seed" or "exact", optional; default: the network's own (``propagate`` "error" is the seed's)
    error_rule : str, optional; default: the network's own

    Returns
    -------
    NodeWorkings
    """
    n_layers = len(network.weights)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= n_layers:
        raise ValueError(f"layer={layer!r} does not exist; use 1 (the first hidden layer) to {n_layers} "
                         "(the output layer)")
    size = network.weights[layer - 1].shape[0]
    if isinstance(node, bool) or not isinstance(node, (int, np.integer)) or not 0 <= node < size:
        raise ValueError(f"node={node!r} is not a node of layer {layer}; use 0 to {size - 1}")
    n_out = network.config.output_nodes
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < n_out:
        raise ValueError(f"label={label!r} is not a digit of this network; use 0 to {n_out - 1}")
    learning_rate = _check_learning_rate(learning_rate)
    if update is None:
        update = "seed" if network.config.propagate == "error" else "exact"
    propagate = _check_update(update)
    error_rule = network.config.error_rule if error_rule is None else error_rule
    _check_rule(error_rule)
    x = np.asarray(x)
    if x.shape not in ((network.config.input_nodes,), (1, network.config.input_nodes)):
        raise ValueError(f"x has shape {x.shape}; expected one image of ({network.config.input_nodes},) scaled "
                         "inputs")

    net64 = _as_float64_network(network, propagate, error_rule)
    layers = [a[0] for a in net64.forward(x.reshape(1, -1).astype(np.float64))]
    T = net64.targets(np.array([label]))[0]
    is_output = layer == n_layers
    softmax = network.config.loss == "cross_entropy"
    slope_fn = SLOPES[network.config.activation]

    # The errors and steps of every layer, from the top down, as the seed's train() computes them.
    error = T - layers[-1]
    step = error if softmax else error * layers[-1] * (1.0 - layers[-1])
    errors, steps, by_rule = {n_layers: error}, {n_layers: step}, {}
    for l in range(n_layers, 1, -1):  # weight layer l sends back to the nodes of weight layer l - 1
        sent_back = steps[l] if propagate == "delta" else errors[l]
        by_rule[l - 1] = hidden_errors_by_rule(net64.weights[l - 1], sent_back)
        errors[l - 1] = by_rule[l - 1][error_rule]
        steps[l - 1] = errors[l - 1] * slope_fn(layers[l - 1])
    # Every layer's change, with the weights before the step; then the network again on the same image.
    new_weights = [W + learning_rate * np.outer(steps[l + 1], layers[l]) for l, W in enumerate(net64.weights)]
    new_biases = ([b + learning_rate * steps[l + 1] for l, b in enumerate(net64.biases)]
                  if net64.biases is not None else None)
    stepped = _as_float64_network(network, propagate, error_rule)
    stepped.weights, stepped.biases = new_weights, new_biases
    new_layers = [a[0] for a in stepped.forward(x.reshape(1, -1).astype(np.float64))]

    inputs = layers[layer - 1]
    weights = net64.weights[layer - 1][node]
    bias = float(net64.biases[layer - 1][node]) if net64.biases is not None else None
    products = weights * inputs
    output = float(layers[layer][node])
    if is_output:
        activation = "softmax" if softmax else "sigmoid"
        slope = 1.0 if softmax else output * (1.0 - output)
    else:
        activation = network.config.activation
        slope = float(slope_fn(np.array([output]))[0])
    node_step_value = float(steps[layer][node])
    return NodeWorkings(
        layer=layer, node=node, is_output=is_output, activation=activation, update=update, error_rule=error_rule,
        learning_rate=learning_rate, label=int(label), inputs=inputs, weights=weights.copy(), bias=bias,
        products=products, net=float(products.sum() + (bias or 0.0)), output=output,
        target=float(T[node]) if is_output else None, error=float(errors[layer][node]),
        errors_by_rule=None if is_output else {r: float(v[node]) for r, v in by_rule[layer].items()},
        slope=slope, step=node_step_value, weight_changes=learning_rate * node_step_value * inputs,
        bias_change=learning_rate * node_step_value if bias is not None else None,
        new_weights=new_weights[layer - 1][node].copy(), loss=net64.loss_of(layers[-1][None, :], T[None, :]),
        new_loss=stepped.loss_of(new_layers[-1][None, :], T[None, :]), new_output=float(new_layers[layer][node]),
        outputs=layers[-1], new_outputs=new_layers[-1])
