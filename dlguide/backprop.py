r"""Backpropagation, from scratch in NumPy: gradients and training of a dense network.

The networks are those of [`dlguide.neurons`][dlguide.neurons] (lists of `{"weights", "biases",
"activation"}` dicts), run forward by [`forward_propagate`][dlguide.neurons.forward_propagate]:

$$ a^{(0)} = X, \qquad z^{(k)} = a^{(k-1)} W^{(k)} + b^{(k)}, \qquad a^{(k)} = f_k(z^{(k)}), $$

with a batch $X$ of shape `(N, n_0)`, one example per row. Backpropagation is the chain rule
applied from the loss $L$ back to every weight. Write $\delta^{(k)} = \partial L / \partial z^{(k)}$
(shape `(N, n_k)`). Then

$$ \delta^{(L)} = \frac{\partial L}{\partial a^{(L)}} \odot f_L'(z^{(L)}), \qquad
   \delta^{(k-1)} = \big(\delta^{(k)} W^{(k)\top}\big) \odot f_{k-1}'(z^{(k-1)}), $$

$$ \frac{\partial L}{\partial W^{(k)}} = a^{(k-1)\top} \delta^{(k)}, \qquad
   \frac{\partial L}{\partial b^{(k)}} = \sum_{n=1}^{N} \delta^{(k)}_{n,:}. $$

Each matrix holds the whole batch, so a backward pass is a few matrix products. Gradients come
back as one `{"weights": dL/dW, "biases": dL/db}` per layer. Losses are Keras' (mean over batch
and outputs), so the numbers match `keras.losses` and `tf.GradientTape`.

**The contract.** Every function takes a network, a batch of inputs `(N, n_0)` and targets
`(N, n_L)`, and a loss from [`LOSSES`][dlguide.backprop.LOSSES], unless it says otherwise. The
entry points (all but [`compute_loss`][dlguide.backprop.compute_loss] and
[`backward`][dlguide.backprop.backward], the math behind them, which trust their arguments) check
them once: `TypeError` for a value of the wrong kind; `ValueError` for a malformed network, shapes
that do not match it, empty or non-finite arrays, unknown names, out-of-range numbers, targets
outside $[0, 1]$ for a cross-entropy, or a cross-entropy without its output activation (`sigmoid`
for binary, `softmax` for categorical).

Examples:
    >>> import numpy as np
    >>> from dlguide.neurons import init_network
    >>> net = init_network([2, 2, 1], "sigmoid", seed=0)
    >>> X, Y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([[0], [1], [1], [0]])
    >>> gradient_check(net, X, Y, "mse") < 1e-6
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_finite_array, check_bool, check_int, check_name, check_network, check_real
from .neurons import ACTIVATE, Layer, dense, forward_propagate

__all__ = [
    "ACTIVATION_BACKWARD",
    "LOSSES",
    "Gradient",
    "History",
    "backward",
    "compute_loss",
    "gradient_check",
    "gradients",
    "numerical_gradients",
    "relative_error",
    "sgd_step",
    "train",
]

Array = NDArray[Any]

LOSSES = ("mse", "binary_crossentropy", "categorical_crossentropy")
"""Loss names; the two cross-entropies need a `sigmoid` and a `softmax` output layer."""

_KEYS: tuple[Literal["weights", "biases"], ...] = ("weights", "biases")
_OUTPUT_FOR_LOSS = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}

ACTIVATION_BACKWARD: dict[str, Callable[[Array, Array], Array]] = {
    "sigmoid": lambda a, g: g * a * (1.0 - a),  # σ'(z) = a(1 - a)
    "tanh": lambda a, g: g * (1.0 - a * a),  # tanh'(z) = 1 - a²
    "relu": lambda a, g: g * (a > 0),  # relu'(z) = [z > 0] = [a > 0]
    "linear": lambda a, g: g,
    "softmax": lambda a, g: a * (g - (g * a).sum(axis=-1, keepdims=True)),  # row-wise Jacobian
}
r"""$\partial L/\partial z$ from $a = f(z)$ and $g = \partial L/\partial a$, per layer activation,
with $f'$ written through the $a$ the forward pass computed; softmax's Jacobian
$\partial a_i/\partial z_j = a_i([i=j] - a_j)$ gives $a \odot (g - g \cdot a)$ row by row."""


class Gradient(TypedDict):
    """Gradient of the loss for one layer: same shapes as the layer's `weights` and `biases`."""

    weights: Array
    biases: Array


@dataclass(frozen=True)
class History:
    r"""What [`train`][dlguide.backprop.train] measured, one entry per epoch run.

    Attributes:
        loss: Training loss of each epoch (full batch: the loss before that epoch's update;
            mini-batches: the mean over the epoch's batches, weighted by size, as Keras reports it).
        mae: Mean absolute error $\frac{1}{NK}\sum |a^{(L)} - y|$ of each epoch, like `loss`.
        converged: Whether the stopping criterion (`monitor` ≤ `tol`) was met.
    """

    loss: NDArray[np.float64]
    mae: NDArray[np.float64]
    converged: bool

    @property
    def epochs(self) -> int:
        """Number of epochs that ran."""
        return len(self.loss)


def _check_data(
    network: Sequence[Layer], inputs: ArrayLike, targets: ArrayLike, loss: str
) -> tuple[Array, Array]:
    """The door of every function that takes a batch: inputs and targets in the network's dtype."""
    dtype = check_network(network)
    x = as_finite_array(inputs, "inputs", ndim=2, dtype=dtype)
    y = as_finite_array(targets, "targets", ndim=2, dtype=dtype)
    n_in, n_out = network[0]["weights"].shape[0], network[-1]["weights"].shape[1]
    if x.shape[1] != n_in:
        raise ValueError(f"inputs must have shape (N, {n_in}) like the first layer, got {x.shape}")
    if y.shape != (x.shape[0], n_out):
        raise ValueError(f"targets must have shape {(x.shape[0], n_out)}, got {y.shape}")
    needed, got = _OUTPUT_FOR_LOSS.get(check_name(loss, "loss", LOSSES)), network[-1]["activation"]
    if needed is not None and got != needed:
        raise ValueError(
            f"loss {loss!r} needs a {needed!r} output layer, got a {got!r} output layer"
        )
    if needed is not None and (y.min() < 0 or y.max() > 1):
        raise ValueError(f"targets for {loss!r} must lie in [0, 1], got [{y.min():g}, {y.max():g}]")
    if loss == "categorical_crossentropy" and not np.allclose(y.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(
            "targets for 'categorical_crossentropy' must be one-hot (or probability) rows summing "
            f"to 1, got row sums in [{y.sum(axis=1).min():g}, {y.sum(axis=1).max():g}]"
        )
    return x, y


def compute_loss(outputs: Array, targets: Array, loss: str) -> float:
    r"""The loss of a batch, defined as in Keras; trusts its arguments (see the module docstring).

    With $a$ the network's outputs and $y$ the targets, both of shape `(N, K)`:

    $$ \text{mse} = \frac{1}{NK}\sum_{n,k} (a_{nk} - y_{nk})^2, \qquad
       \text{binary\_crossentropy} = -\frac{1}{NK}\sum_{n,k}
           \big[y_{nk}\log a_{nk} + (1-y_{nk})\log(1-a_{nk})\big], $$

    $$ \text{categorical\_crossentropy} = -\frac{1}{N}\sum_{n,k} y_{nk}\log a_{nk}. $$

    The cross-entropies clip $a$ to $[\epsilon, 1-\epsilon]$ ($\epsilon$: the dtype's machine
    epsilon, like Keras' $10^{-7}$), so a saturated output gives a large finite loss.

    Examples:
        >>> compute_loss(np.array([[0.5], [1.0]]), np.array([[0.0], [1.0]]), "mse")
        0.125
    """
    a, y = np.asarray(outputs), np.asarray(targets)
    if loss == "mse":
        d = a - y
        return float(np.vdot(d, d)) / d.size  # vdot: the sum of squares in one call
    eps = np.finfo(a.dtype).eps
    p = np.clip(a, eps, 1.0 - eps)
    if loss == "binary_crossentropy":
        return -float((y * np.log(p) + (1.0 - y) * np.log(1.0 - p)).sum()) / a.size
    return -float(np.vdot(y, np.log(p))) / len(a)


def backward(
    network: Sequence[Layer], activations: Sequence[Array], targets: Array, loss: str
) -> list[Gradient]:
    r"""Backward pass: the gradient of the loss for every weight and bias, by the chain rule.

    The output error term is $\delta^{(L)} = \frac{\partial L}{\partial a^{(L)}} \odot
    f_L'(z^{(L)})$ with $\partial\,\text{mse}/\partial a = 2(a - y)/(NK)$. For a sigmoid output
    with binary cross-entropy, and a softmax output with categorical cross-entropy, $f'$ cancels
    the loss's denominator and $\delta^{(L)} = (a - y)/(NK)$ and $(a - y)/N$: cheaper, and exact
    when an output saturates. Then, for $k = L, \dots, 1$:

    $$ \frac{\partial L}{\partial W^{(k)}} = a^{(k-1)\top}\delta^{(k)}, \qquad
       \frac{\partial L}{\partial b^{(k)}} = \textstyle\sum_n \delta^{(k)}_{n,:}, \qquad
       \delta^{(k-1)} = \big(\delta^{(k)} W^{(k)\top}\big) \odot f_{k-1}'(z^{(k-1)}). $$

    Trusts its arguments: `activations` as [`forward_propagate`][dlguide.neurons.forward_propagate]
    returns them for a batch, `targets` of shape `(N, n_L)` in the same dtype.

    Examples:
        >>> from dlguide.neurons import init_network
        >>> net = init_network([2, 2, 1], "sigmoid", seed=0)
        >>> _, activations = forward_propagate(net, [[0.0, 1.0]])
        >>> grads = backward(net, activations, np.array([[1.0]]), "mse")
        >>> [g["weights"].shape for g in grads]
        [(2, 2), (2, 1)]
    """
    a, y = activations[-1], targets
    if loss == "mse":
        delta = ACTIVATION_BACKWARD[network[-1]["activation"]](a, 2.0 * (a - y) / a.size)
    else:  # sigmoid + binary, softmax + categorical cross-entropy: f' cancels
        delta = (a - y) / (a.size if loss == "binary_crossentropy" else len(a))
    grads: list[Gradient] = []  # from the last layer back, reversed at the end
    for k in range(len(network) - 1, -1, -1):
        grads.append({"weights": activations[k].T @ delta, "biases": delta.sum(axis=0)})
        if k > 0:
            grad_a = delta @ network[k]["weights"].T
            delta = ACTIVATION_BACKWARD[network[k - 1]["activation"]](activations[k], grad_a)
    return grads[::-1]


def gradients(
    network: Sequence[Layer], inputs: ArrayLike, targets: ArrayLike, loss: str
) -> tuple[float, list[Gradient]]:
    r"""Loss and gradients of a batch: [`forward_propagate`][dlguide.neurons.forward_propagate],
    [`compute_loss`][dlguide.backprop.compute_loss], then [`backward`][dlguide.backprop.backward].

    Returns `(loss_value, grads)`: $L$ as a float and one gradient dict per layer.

    Examples:
        >>> net = [dense([[2.0]], [0.0], "linear")]
        >>> loss, grads = gradients(net, [[1.0]], [[1.0]], "mse")
        >>> loss, float(grads[0]["weights"][0, 0])
        (1.0, 2.0)
    """
    x, y = _check_data(network, inputs, targets, loss)
    output, activations = forward_propagate(network, x)
    return compute_loss(output, y, loss), backward(network, activations, y, loss)


def numerical_gradients(
    network: Sequence[Layer], inputs: ArrayLike, targets: ArrayLike, loss: str, *, eps: float = 1e-6
) -> list[Gradient]:
    r"""Gradients by central finite differences, one parameter at a time.

    $$ \frac{\partial L}{\partial \theta} \approx
       \frac{L(\theta + \varepsilon) - L(\theta - \varepsilon)}{2\varepsilon} $$

    Its error is $O(\varepsilon^2)$ plus rounding of order $\text{machine-}\epsilon \cdot L /
    \varepsilon$; $\varepsilon = 10^{-6}$ suits float64. Two forward passes per parameter: small
    networks only. Near a ReLU kink ($|z| < \varepsilon$) the estimate straddles the kink.

    Examples:
        >>> g = numerical_gradients([dense([[2.0]], [0.0], "linear")], [[1.0]], [[1.0]], "mse")
        >>> round(float(g[0]["weights"][0, 0]), 6)
        2.0
    """
    x, y = _check_data(network, inputs, targets, loss)
    eps = check_real(eps, "eps", positive=True)
    work: list[Layer] = [{**layer} for layer in network]
    grads: list[Gradient] = []
    for layer in work:
        grad: dict[str, Array] = {}
        for key in _KEYS:
            param = layer[key].copy()
            layer[key] = param  # perturb a copy, never the caller's array
            g = np.zeros_like(param)
            for i in np.ndindex(param.shape):
                original = param[i]
                param[i] = original + eps
                plus = compute_loss(forward_propagate(work, x)[0], y, loss)
                param[i] = original - eps
                minus = compute_loss(forward_propagate(work, x)[0], y, loss)
                param[i] = original
                g[i] = (plus - minus) / (2 * eps)
            grad[key] = g
        grads.append({"weights": grad["weights"], "biases": grad["biases"]})
    return grads


def _flatten(grads: Sequence[Gradient], name: str) -> Array:
    """Check a list of gradient dicts and stack every entry into one float64 vector."""
    if isinstance(grads, dict) or not isinstance(grads, Sequence) or len(grads) == 0:
        raise ValueError(f"{name} must be a non-empty list of gradient dicts, got {grads!r}")
    if not all(isinstance(g, dict) and {"weights", "biases"} <= g.keys() for g in grads):
        raise ValueError(f"{name} must hold dicts with 'weights' and 'biases', got {grads!r}")
    return np.concatenate(
        [
            as_finite_array(g[key], f"{name}[{k}][{key!r}]").ravel()
            for k, g in enumerate(grads)
            for key in _KEYS
        ]
    )


def relative_error(grads_a: Sequence[Gradient], grads_b: Sequence[Gradient]) -> float:
    r"""Relative difference between two sets of gradients, all parameters at once.

    $$ e = \frac{\lVert g_a - g_b \rVert_2}{\lVert g_a \rVert_2 + \lVert g_b \rVert_2} \in [0, 1] $$

    over every weight and bias stacked into one vector ($e = 0$ when both are zero). A correct
    backward pass gives $e \approx 10^{-9}$ against central differences in float64, a wrong one
    $e \sim 10^{-1}$.

    Examples:
        >>> g = [{"weights": np.ones((2, 1)), "biases": np.zeros(1)}]
        >>> relative_error(g, g)
        0.0
    """
    a, b = _flatten(grads_a, "grads_a"), _flatten(grads_b, "grads_b")
    shapes_a = [(np.shape(g["weights"]), np.shape(g["biases"])) for g in grads_a]
    shapes_b = [(np.shape(g["weights"]), np.shape(g["biases"])) for g in grads_b]
    if shapes_a != shapes_b:
        raise ValueError(f"grads_b must have the same shapes as grads_a {shapes_a}, got {shapes_b}")
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def gradient_check(
    network: Sequence[Layer], inputs: ArrayLike, targets: ArrayLike, loss: str, *, eps: float = 1e-6
) -> float:
    r"""Compare backpropagation with central finite differences.

    Returns the [`relative_error`][dlguide.backprop.relative_error] between
    [`gradients`][dlguide.backprop.gradients] and
    [`numerical_gradients`][dlguide.backprop.numerical_gradients] (same arguments). In float64,
    below $10^{-6}$ means the backward pass is right.

    Examples:
        >>> from dlguide.neurons import init_network
        >>> net = init_network([3, 4, 2], ["tanh", "softmax"], seed=0)
        >>> X = np.random.default_rng(0).normal(size=(5, 3))
        >>> Y = np.eye(2)[[0, 1, 1, 0, 1]]
        >>> gradient_check(net, X, Y, "categorical_crossentropy") < 1e-6
        True
    """
    numeric = numerical_gradients(network, inputs, targets, loss, eps=eps)
    return relative_error(gradients(network, inputs, targets, loss)[1], numeric)


def sgd_step(
    network: Sequence[Layer], grads: Sequence[Gradient], learning_rate: float
) -> list[Layer]:
    r"""One step of gradient descent: $\theta \leftarrow \theta - \eta\, \partial L/\partial\theta$.

    `grads` holds one gradient dict per layer, shaped like the layer; `network` is not modified.

    Examples:
        >>> net = [dense([[2.0]], [0.0], "linear")]
        >>> _, grads = gradients(net, [[1.0]], [[1.0]], "mse")
        >>> float(sgd_step(net, grads, 0.25)[0]["weights"][0, 0])
        1.5
    """
    dtype = check_network(network)
    eta = check_real(learning_rate, "learning_rate", positive=True)
    if len(grads) != len(network):
        raise ValueError(f"grads must have one entry per layer ({len(network)}), got {len(grads)}")
    _flatten(grads, "grads")
    shapes = [(layer["weights"].shape, layer["biases"].shape) for layer in network]
    if [(np.shape(g["weights"]), np.shape(g["biases"])) for g in grads] != shapes:
        raise ValueError(f"grads must have the shapes of the layers {shapes}, got other shapes")
    return [
        dense(
            layer["weights"] - eta * np.asarray(g["weights"]),
            layer["biases"] - eta * np.asarray(g["biases"]),
            layer["activation"],
            dtype=dtype,
        )
        for layer, g in zip(network, grads, strict=True)
    ]


def train(
    network: Sequence[Layer],
    inputs: ArrayLike,
    targets: ArrayLike,
    loss: str,
    *,
    learning_rate: float,
    epochs: int,
    batch_size: int | None = None,
    tol: float | None = None,
    monitor: str = "loss",
    shuffle: bool = True,
    seed: int | None = 0,
) -> tuple[list[Layer], History]:
    r"""Train with (mini-batch) gradient descent; stop after `epochs` or once `monitor` ≤ `tol`.

    Each step runs the forward pass of one batch, [`backward`][dlguide.backprop.backward], and
    updates every parameter by $\theta \leftarrow \theta - \eta\,\partial L/\partial \theta$. One
    epoch is one pass over the data: one step with `batch_size=None` (full batch), otherwise
    $\lceil N / B \rceil$ steps over the rows, reshuffled every epoch unless `shuffle=False`. After
    each epoch, if `tol` is set and the epoch's `monitor` value (`"loss"` or `"mae"`, as recorded
    in [`History`][dlguide.backprop.History]) is $\le$ `tol`, training stops. A loss that stops
    being finite raises `ValueError` naming the epoch.

    Args:
        learning_rate: $\eta > 0$.
        epochs: Maximum number of epochs, $\ge 1$.
        batch_size: Rows per step $B \ge 1$, or `None` for the full batch.
        tol: Stop once `monitor` $\le$ `tol` ($\ge 0$); `None` never stops early.
        monitor: `"loss"` or `"mae"`.
        shuffle: Reshuffle the rows before each epoch of mini-batches (as Keras' `fit` does).
        seed: Seed of the shuffling generator (unused with the full batch).

    Returns:
        `(trained_network, history)`; `network` itself is not modified.

    Examples:
        >>> from dlguide.neurons import init_network
        >>> net = init_network([2, 4, 1], ["tanh", "sigmoid"], seed=0)
        >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> Y = np.array([[0.0], [1.0], [1.0], [0.0]])
        >>> trained, history = train(
        ...     net, X, Y, "binary_crossentropy", learning_rate=1.0, epochs=2000
        ... )
        >>> bool(history.loss[-1] < history.loss[0] / 10)
        True
    """
    x, y = _check_data(network, inputs, targets, loss)
    eta = check_real(learning_rate, "learning_rate", positive=True)
    epochs = check_int(epochs, "epochs", 1)
    n = len(x)
    step = n if batch_size is None else min(check_int(batch_size, "batch_size", 1), n)
    if tol is not None and check_real(tol, "tol") < 0:
        raise ValueError(f"tol must be None or >= 0, got {tol}")
    check_name(monitor, "monitor", ("loss", "mae"))
    check_bool(shuffle, "shuffle")

    net = [
        dense(layer["weights"], layer["biases"], layer["activation"], dtype=x.dtype)
        for layer in network
    ]
    rng = np.random.default_rng(seed)
    losses, maes = np.empty(epochs), np.empty(epochs)
    for epoch in range(epochs):
        order = np.arange(n) if step == n or not shuffle else rng.permutation(n)
        epoch_loss = epoch_mae = 0.0
        for start in range(0, n, step):
            rows = order[start : start + step]
            xb, yb = (x, y) if step == n else (x[rows], y[rows])
            activations = [xb]  # forward
            for layer in net:
                z = activations[-1] @ layer["weights"] + layer["biases"]
                activations.append(ACTIVATE[layer["activation"]](z))
            out = activations[-1]
            grads = backward(net, activations, yb, loss)  # backward
            for layer, g in zip(net, grads, strict=True):  # update
                layer["weights"] -= eta * g["weights"]
                layer["biases"] -= eta * g["biases"]
            epoch_loss += len(yb) / n * compute_loss(out, yb, loss)
            epoch_mae += len(yb) / n * float(np.abs(out - yb).sum()) / out.size
        if not np.isfinite(epoch_loss):
            raise ValueError(
                f"training diverged: the loss must stay finite, got {epoch_loss} in epoch "
                f"{epoch + 1}; lower the learning rate (got {eta})"
            )
        losses[epoch], maes[epoch] = epoch_loss, epoch_mae
        if tol is not None and (epoch_loss if monitor == "loss" else epoch_mae) <= tol:
            return net, History(losses[: epoch + 1], maes[: epoch + 1], converged=True)
    return net, History(losses, maes, converged=False)
