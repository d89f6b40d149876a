"""The multilayer perceptron: Tariq Rashid's classic network, generalised and fast.

Layout follows the seed: ``weights[l]`` has shape ``(n_out, n_in)`` like the seed's ``wih`` and ``who``, so
row ``j`` of ``weights[0]`` is hidden node ``j``'s incoming weights (a 28x28 picture). Data flows as batches of
rows: ``X`` of shape ``(n_samples, n_in)``; a single sample is a batch of one.

How one training step works, in the seed's words and sign (``error = target - output``):

1. Forward: ``a_l = f(a_{l-1} @ W_l.T + b_l)``, sigmoid everywhere in the seed.
2. The output error ``e_L = T - O``.
3. Each layer turns its error into a step through its own slope: ``g_l = e_l * f'(a_l)``, and its weights
   move by ``W_l += lr * g_l.T @ a_{l-1}`` (averaged over the batch).
4. The error is sent back to the layer below by one of the four error rules: ``e_{l-1} = x_l @ M(W_l)``,
   where the seed sends the raw error (``x_l = e_l``, ``propagate="error"``) and exact backpropagation sends
   the slope-weighted one (``x_l = g_l``, ``propagate="delta"``).

The seed's update is *not* exactly the gradient of its squared error: it sends ``W.T @ E`` back, leaving out
the output layer's sigmoid slope. It trains well all the same. ``propagate="delta"`` with the ``transpose``
rule gives the exact gradient, which the finite-difference tests check for every activation and loss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ann import blas
from ann.blas import scipy_on_first_use as scipy  # SciPy's modules imported at first use
from ann.config import NetworkConfig

# --- activations: the function and its slope written in terms of the function's output -----------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return scipy.special.expit(z, out=z)


def _sigmoid_slope(a: np.ndarray) -> np.ndarray:
    return a * (1.0 - a)


def _tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z, out=z)


def _tanh_slope(a: np.ndarray) -> np.ndarray:
    return 1.0 - a * a


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0, out=z)


def _relu_slope(a: np.ndarray) -> np.ndarray:
    return (a > 0).astype(a.dtype)


def _softmax(z: np.ndarray) -> np.ndarray:
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


# Each activation works in place on the pre-activation array it is given (the caller owns it).
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
}
# The slope f'(z) expressed through a = f(z), which is what the forward pass keeps.
SLOPES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _sigmoid_slope,
    "tanh": _tanh_slope,
    "relu": _relu_slope,
}

# --- losses: the output layer's activation goes with the loss --------------------------------------------


def _mse(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Half the squared error summed over the outputs, averaged over the batch."""
    return float(0.5 * np.sum((targets - outputs) ** 2) / len(outputs))


def _cross_entropy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Cross-entropy of softmax outputs, averaged over the batch."""
    tiny = np.finfo(outputs.dtype).tiny
    return float(-np.sum(targets * np.log(np.maximum(outputs, tiny))) / len(outputs))


LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "mse": _mse,
    "cross_entropy": _cross_entropy,
}
# mse pairs with sigmoid outputs (the seed); cross_entropy with softmax outputs, whose slope cancels
# against the loss so that the output layer's step is simply target - output.
OUTPUT_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mse": _sigmoid,
    "cross_entropy": _softmax,
}
TARGET_RANGES: dict[str, tuple[float, float]] = {
    "mse": (0.01, 0.99),  # the seed: sigmoid never reaches 0 or 1, so aim inside
    "cross_entropy": (0.0, 1.0),  # softmax outputs are probabilities: one-hot targets
}

# --- error rules: how the error of a layer is sent back to the layer below ---------------------------------


def _rule_transpose(weights: np.ndarray) -> np.ndarray:
    """``E_hidden = W^T . E_output``: each link carries error in proportion to its weight (the seed's choice).

    Hidden node ``j`` receives ``sum_k W[k, j] * e_k``. Cheap (one matrix product) and, sent as the
    slope-weighted error, exactly backpropagation.
    """
    return weights


def _rule_equal(weights: np.ndarray) -> np.ndarray:
    """Equal split: output node ``k``'s error is divided evenly among its ``N`` incoming links.

    ``E_hidden[j] = sum_k e_k / N`` with ``N = n_in``, the same for every hidden node; the weights play no
    part, so the hidden nodes cannot tell which of them caused the error.
    """
    return np.full_like(weights, 1.0 / weights.shape[1])


def _rule_proportional(weights: np.ndarray) -> np.ndarray:
    """Split by each weight's share: ``E_hidden[j] = sum_k e_k * W[k, j] / sum_i |W[k, i]|``.

    The seed's example splits an error 3:1 between weights 3.0 and 1.0. Weights can be negative, so the
    shares are taken against the sum of absolute weights: for all-positive weights this is exactly the
    seed's ``W11 / (W11 + W21)``, and a near-zero signed sum can never blow the error up.
    """
    totals = np.abs(weights).sum(axis=1, keepdims=True)
    return weights / np.maximum(totals, np.finfo(weights.dtype).tiny)


def _rule_transpose_normalized(weights: np.ndarray) -> np.ndarray:
    """``E_hidden = W^T . E_output / N`` with ``N = n_in``, the number of links into each output node.

    A form of normalisation: the same direction as ``transpose`` but ``N`` times smaller, so the layers
    below learn ``N`` times more slowly.
    """
    return weights / weights.shape[1]


ERROR_RULES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "transpose": _rule_transpose,
    "equal": _rule_equal,
    "proportional": _rule_proportional,
    "transpose_normalized": _rule_transpose_normalized,
}


class Network:
    """A fully connected network trained by the seed's rule (or exact backpropagation).

    Parameters
    ----------
    config : NetworkConfig
        Layer sizes, activation, loss, error rule, dtype.
    seed : int
        The weights into a layer of ``n`` nodes are drawn from N(0, n^-0.5) by
        ``np.random.RandomState(seed)``, layer by layer, exactly as the seed's ``np.random.seed(80)``
        followed by ``np.random.normal`` does.

    Attributes
    ----------
    weights : list of ndarray, each (n_out, n_in)
    biases : list of ndarray, each (n_out,), or None when ``config.bias`` is False (the seed has none)
    """

    def __init__(self, config: NetworkConfig | None = None, seed: int = 80) -> None:
        self.config = config or NetworkConfig()
        self.dtype = np.dtype(self.config.dtype)
        rng = np.random.RandomState(seed)
        sizes = self.config.layer_sizes
        self.weights = [
            rng.normal(0.0, pow(n_out, -0.5), (n_out, n_in)).astype(self.dtype)
            for n_in, n_out in zip(sizes[:-1], sizes[1:])
        ]
        self.biases = [np.zeros(n, self.dtype) for n in sizes[1:]] if self.config.bias else None
        self._velocity: list[np.ndarray] | None = None  # momentum buffers, made on first use
        self._hidden_fn = ACTIVATIONS[self.config.activation]
        self._hidden_slope = SLOPES[self.config.activation]
        self._output_fn = OUTPUT_ACTIVATIONS[self.config.loss]
        self._loss_fn = LOSSES[self.config.loss]
        self._rule = ERROR_RULES[self.config.error_rule]
        # Flags read at every per-sample step, kept as attributes rather than looked up each time.
        self._mse = self.config.loss == "mse"
        self._send_step = self.config.propagate == "delta"
        self._sigmoid_hidden = self.config.activation == "sigmoid"

    # --- inference -------------------------------------------------------------------------------------

    def _as_batch(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.config.input_nodes:
            raise ValueError(
                f"inputs of shape {X.shape} do not fit this network: expected (n_samples, "
                f"{self.config.input_nodes}) scaled pixels (see ann.inputs.scale_inputs)"
            )
        return X.astype(self.dtype, copy=False)

    def forward(self, X: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for a batch.

        Parameters
        ----------
        X : ndarray (n_samples, input_nodes)

        Returns
        -------
        list of ndarray
            ``[X, hidden_1, ..., outputs]``, each (n_samples, layer size) in the network's dtype.
        """
        a = np.ascontiguousarray(self._as_batch(X))
        outputs = [a]
        last = len(self.weights) - 1
        biases = self.biases
        for l, W in enumerate(self.weights):
            z = blas.linear(a, W, biases[l] if biases is not None else None)
            a = self._output_fn(z) if l == last else self._hidden_fn(z)
            outputs.append(a)
        return outputs

    def query(self, X: np.ndarray) -> np.ndarray:
        """The output layer for a batch, shape (n_samples, output_nodes): the seed's ``query``."""
        return self.forward(X)[-1]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most active output node per sample, shape (n_samples,) int64."""
        return np.argmax(self.query(X), axis=1).astype(np.int64)

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """Target vectors for integer labels: 0.01/0.99 for mse (the seed), one-hot for cross-entropy."""
        low, high = TARGET_RANGES[self.config.loss]
        labels = np.asarray(labels)
        T = np.full((len(labels), self.config.output_nodes), low, dtype=self.dtype)
        T[np.arange(len(labels)), labels] = high
        return T

    def loss(self, X: np.ndarray, T: np.ndarray) -> float:
        """The loss averaged over the batch (half squared error, or cross-entropy)."""
        return self.loss_of(self.query(X), T)

    def loss_of(self, outputs: np.ndarray, T: np.ndarray) -> float:
        """The loss of outputs already computed, shape (n_samples, output_nodes), averaged over the batch."""
        return self._loss_fn(outputs, np.asarray(T, self.dtype))

    # --- training --------------------------------------------------------------------------------------

    def _steps(self, layers: list[np.ndarray], T: np.ndarray) -> list[np.ndarray]:
        """Each layer's step ``g_l`` (n_samples, n_out): ``-dLoss/dz`` for exact backpropagation."""
        out = layers[-1]
        error = T - out
        if self.config.loss == "mse":
            step = error * _sigmoid_slope(out)
        else:  # softmax with cross-entropy: the slope cancels
            step = error
        steps = [step]
        send_step = self.config.propagate == "delta"
        for l in range(len(self.weights) - 1, 0, -1):
            error = blas.backward(step if send_step else error, self._rule(self.weights[l]))
            step = error * self._hidden_slope(layers[l])
            steps.append(step)
        return steps[::-1]

    def gradients(self, X: np.ndarray, T: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """The direction the training step moves against, averaged over the batch.

        With ``propagate="delta"`` and the ``transpose`` rule this is the exact gradient of
        :meth:`loss` (checked against finite differences in the tests); otherwise it is the seed's rule.

        Returns
        -------
        (weight_gradients, bias_gradients)
            Shapes like ``weights`` and ``biases``; ``bias_gradients`` is None without biases.
        """
        layers = self.forward(X)
        T = np.asarray(T, self.dtype)
        n = len(T)
        steps = self._steps(layers, T)
        grad_w = [-(g.T @ a) / n for g, a in zip(steps, layers[:-1])]
        grad_b = [-g.sum(axis=0) / n for g in steps] if self.biases is not None else None
        return grad_w, grad_b

    def train(self, X: np.ndarray, T: np.ndarray, learning_rate: float, momentum: float = 0.0,
              weight_decay: float = 0.0) -> np.ndarray:
        """One training step on a batch: the batch average of the seed's update.

        With a batch of one, no momentum and no weight decay this is the seed's ``train`` exactly
        (:meth:`train_sample`). Every product goes through :mod:`ann.blas` (one BLAS library, so more
        threads are never slower), and the weights and momentum buffers are updated in place.

        Parameters
        ----------
        X : ndarray (n_samples, input_nodes)
        T : ndarray (n_samples, output_nodes)
            Targets, see :meth:`targets`.
        learning_rate, momentum, weight_decay : float

        Returns
        -------
        ndarray (n_samples, output_nodes)
            The outputs before the step (for the running loss and accuracy, at no extra cost).
        """
        X = self._as_batch(X)
        T = np.asarray(T, self.dtype)
        if len(X) == 1 and momentum == 0.0 and weight_decay == 0.0:
            return self.train_sample(np.ascontiguousarray(X[0]), T[0], learning_rate)[None, :]
        layers = self.forward(X)
        steps = self._steps(layers, T)
        scale = learning_rate / len(X)
        if momentum and self._velocity is None:
            self._velocity = [np.zeros_like(W) for W in self.weights]
            if self.biases is not None:
                self._velocity += [np.zeros_like(b) for b in self.biases]
        n_layers = len(self.weights)
        for l, (g, a) in enumerate(zip(steps, layers[:-1])):
            W = self.weights[l]
            if momentum:  # v = momentum v + scale g^T a; v -= lr decay W; W += v
                blas.momentum_update(W, self._velocity[l], scale, g, a, momentum, learning_rate * weight_decay)
            else:  # W = (1 - lr decay) W + scale g^T a
                blas.momentum_update(W, None, scale, g, a, 1.0 - learning_rate * weight_decay)
            if self.biases is not None:
                b_update = g.sum(axis=0) * scale
                if momentum:
                    vb = self._velocity[n_layers + l]
                    vb *= momentum
                    vb += b_update
                    b_update = vb
                self.biases[l] += b_update
        return layers[-1]

    def _sample_stepper(self) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
        """The seed's ``train`` for one sample, from the first layer's input ``z0 = W0 @ x`` on, as a
        function bound to this network's arrays: ``step(z0, t, lr, out=None, scaled_step0=None)``.

        It updates every layer above the first in place (BLAS ``ger``) and returns ``(outputs,
        lr * g_0)``: the outputs before the step, and the first layer's step times the learning rate,
        whose update ``W0 += outer(lr * g_0, x)``, ``b0 += lr * g_0`` is left to the caller, which may
        defer it (:meth:`train_sequence`) or apply it at once (:meth:`train_sample`). Both train through
        this one function.

        Parameters of ``step``
        ----------------------
        z0 : ndarray (n_first,), ``W0 @ x`` without the bias: overwritten (it becomes the activation)
        t : ndarray (output_nodes,), the target in the network's dtype
        lr : float
        out : ndarray (output_nodes,), optional, where to write the outputs
        scaled_step0 : ndarray (n_first,), optional, where to write ``lr * g_0``

        Written for the fewest NumPy calls, since at one sample per step the calls, not the arithmetic,
        are most of the time: BLAS functions and views bound once, the learning rate folded into the
        error sent down (BLAS ``alpha``), so every hidden step comes out already scaled. Products are
        taken in the seed's order (``e * o * (1 - o)``); only the rounding of ``lr * (W^T e)`` against
        the seed's ``lr * outer(...)`` differs (the tests hold float64 to 1e-10 of the seed's class).
        """
        gemv, ger = blas.vector_functions(self.dtype)
        weights, biases = self.weights, self.biases
        for W in weights:
            blas.check_in_place(W)
        upper = [(W, W.T) for W in weights[1:]]  # the layers above the first, with their Fortran views
        upper_biases = list(biases[1:]) if biases is not None else [None] * len(upper)
        first_bias = biases[0] if biases is not None else None
        hidden_fn, hidden_slope, rule = self._hidden_fn, self._hidden_slope, self._rule
        transpose_rule = self.config.error_rule == "transpose"  # rule(W) is W itself: skip the call
        mse, send_step, sigmoid_hidden = self._mse, self._send_step, self._sigmoid_hidden
        expit = scipy.special.expit
        top = len(upper) - 1

        if top == 0 and first_bias is None and mse and sigmoid_hidden and not send_step and transpose_rule:
            W1, W1T = upper[0]

            def seed_step(z0: np.ndarray, t: np.ndarray, lr: float, out: np.ndarray | None = None,
                          scaled_step0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
                # The seed's own network (one sigmoid hidden layer, sigmoid outputs, W^T.E, no biases): the
                # general step below with its loops and choices unrolled, the same operations in the same
                # order (so the same bits), about 15% less time a sample.
                h = expit(z0, out=z0)
                z = gemv(1.0, W1T, h, trans=1)
                out = expit(z, out=z if out is None else out)
                error = t - out
                g = error * out
                g *= 1.0 - out
                hidden_error = gemv(lr, W1T, error)  # lr W1^T e, with W1 before its step
                ger(lr, h, g, a=W1T, overwrite_a=1)
                hidden_error *= h
                one_minus = np.subtract(1.0, h, out=h)  # h is z0's buffer: no longer needed
                return out, np.multiply(hidden_error, one_minus, out=scaled_step0)

            return seed_step

        def step(z0: np.ndarray, t: np.ndarray, lr: float, out: np.ndarray | None = None,
                 scaled_step0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
            z = z0
            if first_bias is not None:
                z += first_bias
            hidden = []
            for (_, WT), b in zip(upper, upper_biases):
                h = expit(z, out=z) if sigmoid_hidden else hidden_fn(z)
                hidden.append(h)
                z = gemv(1.0, WT, h, trans=1)  # W @ h
                if b is not None:
                    z += b
            if mse:
                out = expit(z, out=z if out is None else out)
                error = t - out
                g = error * out
                g *= 1.0 - out
            else:  # softmax with cross-entropy: the slope cancels
                soft = _softmax(z[None, :])[0]
                if out is None:
                    out = soft
                else:
                    out[...] = soft
                error = t - out
                g = error
            if top < 0:  # no hidden layer: the output layer is the first
                if scaled_step0 is None:
                    return out, g * lr
                return out, np.multiply(g, lr, out=scaled_step0)
            scale = lr  # the step g of the output layer is unscaled; every hidden one is times lr
            for i in range(top, -1, -1):
                W, WT = upper[i]
                h = hidden[i]
                sent = g if send_step else error
                # the error for the layer below uses W before this step, as the seed does: W^T sent
                error = gemv(scale, WT if transpose_rule else rule(W).T, sent)
                ger(scale, h, g, a=WT, overwrite_a=1)  # W += outer(lr g, h), in place
                b = upper_biases[i]
                if b is not None:
                    b += g * scale
                scale = 1.0
                if sigmoid_hidden:
                    g = error * h
                    one_minus = 1.0 - h
                else:
                    one_minus = hidden_slope(h)
                    g = error
                g = np.multiply(g, one_minus, out=scaled_step0 if i == 0 and scaled_step0 is not None else None)
            return out, g

        return step

    def train_sample(self, x: np.ndarray, t: np.ndarray, learning_rate: float) -> np.ndarray:
        """The seed's ``train`` for one sample, no momentum or decay: matrix-vector products and in-place
        rank-one (BLAS ``ger``) updates, through the same per-sample step as :meth:`train_sequence`.

        Parameters
        ----------
        x : ndarray (input_nodes,), scaled inputs in the network's dtype
        t : ndarray (output_nodes,), the target in the network's dtype

        Returns
        -------
        ndarray (output_nodes,): the outputs before the step.
        """
        W0 = self.weights[0]
        out, scaled_step0 = self._sample_stepper()(blas.matvec(W0, x), t, learning_rate)
        blas.rank_one_update(W0, 1.0, scaled_step0, x)
        if self.biases is not None:
            self.biases[0] += scaled_step0
        return out

    def train_sequence(self, X: np.ndarray, T: np.ndarray, learning_rate: float, block: int = 64) -> np.ndarray:
        """Train on the samples one at a time, in order: the same steps as calling :meth:`train_sample` on
        each, computed faster.

        Each sample's update of the first weight matrix is a rank-one ``W0 += lr * s x^T``. The next
        sample only needs ``W0 @ x``, which equals the old ``W0 @ x`` plus ``lr * s (x_k . x)`` for the
        pending updates. So a block of samples takes ``X @ W0.T`` and the Gram matrix ``X @ X.T`` in two
        matrix products, each sample adds its small correction (one matrix-vector product) and runs the
        same per-sample step as :meth:`train_sample` from there, and the block's updates reach ``W0`` in
        one more product: three passes over the big matrix per block instead of three per sample. Only
        the order of the floating-point sums differs from the seed's loop (the tests hold it to 1e-10 in
        float64).

        Parameters
        ----------
        X : ndarray (n, input_nodes), scaled inputs in the network's dtype, in training order
        T : ndarray (n, output_nodes), targets
        learning_rate : float
        block : int, samples per block

        Returns
        -------
        ndarray (n, output_nodes): each sample's outputs before its step.
        """
        X = np.ascontiguousarray(X, self.dtype)
        T = np.asarray(T, self.dtype)
        W0 = self.weights[0]
        bias0 = self.biases[0] if self.biases is not None else None
        step = self._sample_stepper()
        gemv, _ = blas.vector_functions(self.dtype)
        outputs = np.empty((len(X), self.config.output_nodes), self.dtype)
        for start in range(0, len(X), block):
            Xb = X[start:start + block]
            Z0 = blas.linear(Xb, W0)  # every sample's W0 @ x under W0 as it is at the block's start
            gram = blas.linear(Xb, Xb)
            # row j: lr * g_0 of sample j, its rank-one update of W0 (times x_j) not yet applied
            pending = np.empty((len(Xb), W0.shape[0]), self.dtype)
            Tb = T[start:start + block]
            out_b = outputs[start:start + block]
            for j in range(len(Xb)):
                z = Z0[j]
                if j:  # the block's earlier updates, not yet in W0: z += pending[:j].T @ gram[j, :j]
                    gemv(1.0, pending[:j].T, gram[j, :j], beta=1.0, y=z, overwrite_y=1)
                _, scaled = step(z, Tb[j], learning_rate, out_b[j], pending[j])
                if bias0 is not None:
                    bias0 += scaled
            blas.add_outer(W0, 1.0, pending, Xb)  # W0 += pending.T @ Xb: the block's updates at once
        return outputs

    # --- state -----------------------------------------------------------------------------------------

    def copy(self) -> Network:
        """An independent copy (weights, biases and momentum)."""
        other = Network.__new__(Network)
        other.__dict__.update(self.__dict__)
        other.weights = [W.copy() for W in self.weights]
        other.biases = [b.copy() for b in self.biases] if self.biases is not None else None
        other._velocity = [v.copy() for v in self._velocity] if self._velocity is not None else None
        return other

    def parameter_count(self) -> int:
        n = sum(W.size for W in self.weights)
        return n + (sum(b.size for b in self.biases) if self.biases is not None else 0)

    def describe(self) -> dict[str, Any]:
        """A short summary for people: layer sizes, activation, loss, rule, parameter count."""
        c = self.config
        return {
            "layers": list(c.layer_sizes),
            "activation": c.activation,
            "output": "sigmoid" if c.loss == "mse" else "softmax",
            "loss": c.loss,
            "error_rule": c.error_rule,
            "propagate": c.propagate,
            "bias": c.bias,
            "dtype": c.dtype,
            "parameters": self.parameter_count(),
        }
