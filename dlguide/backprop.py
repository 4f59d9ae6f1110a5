r"""Backpropagation, from scratch in NumPy: gradients and training of a fully connected network.

A network is a list of layers. Layer $k$ holds a weight matrix $W^{(k)}$ of shape
`(n_{k-1}, n_k)`, a bias vector $b^{(k)}$ of shape `(n_k,)` and the name of its activation $f_k$.
A batch of $N$ inputs is a matrix $X$ of shape `(N, n_0)`, one example per row, and the forward pass
is

$$ a^{(0)} = X, \qquad z^{(k)} = a^{(k-1)} W^{(k)} + b^{(k)}, \qquad a^{(k)} = f_k(z^{(k)}). $$

Backpropagation is the chain rule applied from the loss $L$ back to every weight. Write
$\delta^{(k)} = \partial L / \partial z^{(k)}$ (shape `(N, n_k)`). Then

$$ \delta^{(L)} = \frac{\partial L}{\partial a^{(L)}} \odot f_L'(z^{(L)}), \qquad
   \delta^{(k-1)} = \big(\delta^{(k)} W^{(k)\top}\big) \odot f_{k-1}'(z^{(k-1)}), $$

$$ \frac{\partial L}{\partial W^{(k)}} = a^{(k-1)\top} \delta^{(k)}, \qquad
   \frac{\partial L}{\partial b^{(k)}} = \sum_{n=1}^{N} \delta^{(k)}_{n,:}. $$

Every matrix above holds the whole batch, so one backward pass is a handful of matrix products.

A layer is a plain dict, `{"weights": W, "biases": b, "activation": "sigmoid"}`: the layers of
[`dlguide.neurons`][dlguide.neurons] plus an activation name. Gradients come back in the same shape,
one `{"weights": dL/dW, "biases": dL/db}` dict per layer. The weight layout is Keras' `Dense`
kernel layout, so `keras_layer.set_weights([W, b])` copies a layer into Keras unchanged.

Losses follow Keras' definitions (mean over the batch and the outputs), so the numbers here match
`keras.losses` and `tf.GradientTape`. Arrays are float64 by default; a network built with
`dtype=np.float32` computes in float32.

Examples:
    >>> import numpy as np
    >>> from dlguide.backprop import init_network, gradients, gradient_check
    >>> net = init_network([2, 2, 1], "sigmoid", seed=0)
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    >>> loss, grads = gradients(net, X, Y, "mse")
    >>> grads[0]["weights"].shape, grads[1]["biases"].shape
    ((2, 2), (1,))
    >>> gradient_check(net, X, Y, "mse") < 1e-6
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._checks import as_finite_array

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Gradient",
    "History",
    "Layer",
    "activate",
    "activation_backward",
    "backward",
    "compute_loss",
    "dense",
    "forward",
    "gradient_check",
    "gradients",
    "init_network",
    "loss_gradient",
    "numerical_gradients",
    "output_delta",
    "predict",
    "relative_error",
    "sgd_step",
    "train",
]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
"""Activation names a layer may use."""

LOSSES = ("mse", "binary_crossentropy", "categorical_crossentropy")
"""Loss names; the two cross-entropies need a `sigmoid` and a `softmax` output layer."""

_OUTPUT_FOR_LOSS = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}

Array = NDArray[np.floating]


class Layer(TypedDict):
    """One fully connected layer: `weights` `(n_in, n_out)`, `biases` `(n_out,)`, `activation`."""

    weights: Array
    biases: Array
    activation: str


class Gradient(TypedDict):
    """Gradient of the loss for one layer: same shapes as the layer's `weights` and `biases`."""

    weights: Array
    biases: Array


@dataclass(frozen=True)
class History:
    r"""What [`train`][dlguide.backprop.train] measured, one entry per epoch run.

    Attributes:
        loss: Training loss of each epoch (for full-batch training: the loss before that epoch's
            update; for mini-batches: the mean over the epoch's batches, as Keras reports it).
        mae: Mean absolute error $\frac{1}{NK}\sum |a^{(L)} - y|$ of each epoch, measured like
            `loss`.
        converged: Whether the stopping criterion (`monitor` ≤ `tol`) was met.
    """

    loss: NDArray[np.float64]
    mae: NDArray[np.float64]
    converged: bool

    @property
    def epochs(self) -> int:
        """Number of epochs that ran."""
        return len(self.loss)


# --------------------------------------------------------------------------------------------------
# input checks


def _check_name(value: object, allowed: Sequence[str], what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, one of {list(allowed)}; got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}: expected one of {list(allowed)}")
    return value


def _check_dtype(dtype: DTypeLike) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from error
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


def _check_network(network: Sequence[Layer]) -> np.dtype:
    """Check every layer of `network` and that their shapes chain; return the common dtype."""
    if isinstance(network, dict) or not isinstance(network, Sequence):
        raise TypeError(f"network must be a list of layer dicts, got {type(network).__name__}")
    if len(network) == 0:
        raise ValueError("network must have at least one layer, got an empty list")
    dtype = None
    for k, layer in enumerate(network):
        if not isinstance(layer, dict):
            raise TypeError(f"network[{k}] must be a layer dict, got {type(layer).__name__}")
        missing = {"weights", "biases", "activation"} - layer.keys()
        if missing:
            raise ValueError(
                f"network[{k}] must have keys 'weights', 'biases', 'activation'; "
                f"missing {sorted(missing)}"
            )
        w, b = layer["weights"], layer["biases"]
        for name, array, ndim in (("weights", w, 2), ("biases", b, 1)):
            if not isinstance(array, np.ndarray):
                raise TypeError(
                    f"network[{k}][{name!r}] must be a NumPy array, got {type(array).__name__}"
                )
            if array.dtype not in (np.float32, np.float64):
                raise ValueError(
                    f"network[{k}][{name!r}] must be float32 or float64, got {array.dtype}"
                )
            if array.ndim != ndim or array.size == 0:
                raise ValueError(
                    f"network[{k}][{name!r}] must be a non-empty {ndim}-D array, "
                    f"got shape {array.shape}"
                )
            if not np.all(np.isfinite(array)):
                raise ValueError(f"network[{k}][{name!r}] must contain only finite values")
        if b.shape[0] != w.shape[1]:
            raise ValueError(
                f"network[{k}]['biases'] must have one entry per column of the weights: "
                f"expected shape ({w.shape[1]},), got {b.shape}"
            )
        if k > 0 and w.shape[0] != network[k - 1]["weights"].shape[1]:
            raise ValueError(
                f"network[{k}]['weights'] must have {network[k - 1]['weights'].shape[1]} rows "
                f"(the outputs of layer {k - 1}), got shape {w.shape}"
            )
        dtype = dtype or w.dtype
        if w.dtype != dtype or b.dtype != dtype:
            raise ValueError(
                f"all arrays of a network must share one dtype: expected {dtype}, "
                f"network[{k}] has {w.dtype} weights and {b.dtype} biases"
            )
        _check_name(layer["activation"], ACTIVATIONS, f"activation of network[{k}]")
    assert dtype is not None
    return np.dtype(dtype)


def _check_loss_pairing(network: Sequence[Layer], loss: str) -> None:
    needed = _OUTPUT_FOR_LOSS.get(loss)
    got = network[-1]["activation"]
    if needed is not None and got != needed:
        raise ValueError(
            f"loss {loss!r} needs a {needed!r} output layer, got a {got!r} output layer"
        )


def _check_targets(targets: Array, loss: str, name: str = "targets") -> None:
    if loss in _OUTPUT_FOR_LOSS and (targets.min() < 0 or targets.max() > 1):
        raise ValueError(
            f"{name} for {loss!r} must lie in [0, 1], "
            f"got values in [{targets.min():g}, {targets.max():g}]"
        )
    if loss == "categorical_crossentropy":
        sums = targets.sum(axis=1)
        if not np.allclose(sums, 1.0, atol=1e-4):
            raise ValueError(
                f"{name} for 'categorical_crossentropy' must be one-hot (or probability) rows "
                f"summing to 1, got row sums in [{sums.min():g}, {sums.max():g}]"
            )


def _check_data(
    network: Sequence[Layer], inputs: ArrayLike, targets: ArrayLike | None, loss: str | None
) -> tuple[Array, Array | None]:
    """Check network, inputs (and targets, loss); return inputs/targets in the network's dtype."""
    dtype = _check_network(network)
    x = as_finite_array(inputs, "inputs", ndim=2, dtype=dtype)
    n_in = network[0]["weights"].shape[0]
    if x.shape[1] != n_in:
        raise ValueError(
            f"inputs must have shape (N, {n_in}) to match the first layer's weights "
            f"{network[0]['weights'].shape}, got {x.shape}"
        )
    if targets is None:
        return x, None
    loss = _check_name(loss, LOSSES, "loss")
    _check_loss_pairing(network, loss)
    y = as_finite_array(targets, "targets", ndim=2, dtype=dtype)
    expected = (x.shape[0], network[-1]["weights"].shape[1])
    if y.shape != expected:
        raise ValueError(
            f"targets must have shape {expected} (one row per input, one column per output), "
            f"got {y.shape}"
        )
    _check_targets(y, loss)
    return x, y


# --------------------------------------------------------------------------------------------------
# building a network


def dense(
    weights: ArrayLike, biases: ArrayLike, activation: str, *, dtype: DTypeLike = np.float64
) -> Layer:
    r"""One fully connected layer from given weights: $a = f(xW + b)$.

    Args:
        weights: $W$, shape `(n_in, n_out)` (column $j$ feeds node $j$, Keras' kernel layout).
        biases: $b$, shape `(n_out,)`.
        activation: One of [`ACTIVATIONS`][dlguide.backprop.ACTIVATIONS].
        dtype: `np.float64` (default) or `np.float32`.

    Returns:
        The layer dict, with copies of `weights` and `biases` in `dtype`.

    Raises:
        ValueError: On wrong shapes, empty arrays, non-finite values or an unknown activation.

    Examples:
        >>> layer = dense([[0.66], [0.05]], [0.42], "sigmoid")
        >>> layer["weights"].shape, layer["biases"].shape, layer["activation"]
        ((2, 1), (1,), 'sigmoid')
    """
    resolved = _check_dtype(dtype)
    w = as_finite_array(weights, "weights", ndim=2, dtype=resolved).copy()
    b = as_finite_array(biases, "biases", ndim=1, dtype=resolved).copy()
    if b.shape[0] != w.shape[1]:
        raise ValueError(
            f"biases must have one entry per column of weights: expected shape ({w.shape[1]},), "
            f"got {b.shape}"
        )
    return {
        "weights": w,
        "biases": b,
        "activation": _check_name(activation, ACTIVATIONS, "activation"),
    }


def init_network(
    sizes: Sequence[int],
    activations: str | Sequence[str],
    *,
    seed: int | None = 0,
    dtype: DTypeLike = np.float64,
    scale: float | None = None,
) -> list[Layer]:
    r"""A fully connected network with random weights.

    With `scale=None` the weights follow Keras' default, Glorot-uniform, and the biases start at 0:

    $$ W^{(k)}_{ij} \sim \mathcal U\!\left(-\ell_k, \ell_k\right), \quad
       \ell_k = \sqrt{\frac{6}{n_{k-1} + n_k}}, \qquad b^{(k)} = 0. $$

    With a number `scale` every weight and bias is drawn from $\mathcal U(-s, s)$ instead.

    Args:
        sizes: Layer widths $[n_0, n_1, \dots, n_L]$, inputs first; at least two entries.
        activations: One name for every layer, or one per layer ($L$ names), from
            [`ACTIVATIONS`][dlguide.backprop.ACTIVATIONS].
        seed: Seed for `numpy.random.default_rng`; `None` draws fresh randomness.
        dtype: `np.float64` (default) or `np.float32`.
        scale: `None` for Glorot-uniform weights and zero biases, or $s > 0$ for $\mathcal U(-s,s)$.

    Returns:
        $L$ layer dicts; layer $k$ has weights of shape `(sizes[k], sizes[k+1])`.

    Raises:
        ValueError: If `sizes` has fewer than two entries or one below 1, the number of activation
            names is wrong, a name is unknown, or `scale` is not a positive finite number.

    Examples:
        >>> net = init_network([3, 4, 2], ["relu", "softmax"], seed=1)
        >>> [(layer["weights"].shape, layer["activation"]) for layer in net]
        [((3, 4), 'relu'), ((4, 2), 'softmax')]
    """
    resolved = _check_dtype(dtype)
    if isinstance(sizes, str) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the inputs and one layer, got {list(sizes)}")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"sizes must hold ints, got {n!r} ({type(n).__name__})")
        if n < 1:
            raise ValueError(f"every layer width must be at least 1, got sizes={list(sizes)}")
    n_layers = len(sizes) - 1
    names = [activations] * n_layers if isinstance(activations, str) else list(activations)
    if len(names) != n_layers:
        raise ValueError(
            f"activations must be one name or {n_layers} names (one per layer), got {len(names)}"
        )
    for name in names:
        _check_name(name, ACTIVATIONS, "activation")
    if scale is not None and (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not (np.isfinite(scale) and scale > 0)
    ):
        raise ValueError(f"scale must be None or a positive finite number, got {scale!r}")

    rng = np.random.default_rng(seed)
    network: list[Layer] = []
    for n_in, n_out, name in zip(sizes[:-1], sizes[1:], names, strict=True):
        if scale is None:
            limit = np.sqrt(6.0 / (n_in + n_out))
            w = rng.uniform(-limit, limit, size=(n_in, n_out))
            b = np.zeros(n_out)
        else:
            w = rng.uniform(-scale, scale, size=(n_in, n_out))
            b = rng.uniform(-scale, scale, size=n_out)
        network.append(
            {"weights": w.astype(resolved), "biases": b.astype(resolved), "activation": name}
        )
    return network


# --------------------------------------------------------------------------------------------------
# activations and losses


def _activate(z: Array, name: str) -> Array:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z), without overflow
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "linear":
        return z
    e = np.exp(z - z.max(axis=1, keepdims=True))  # softmax, shifted so exp cannot overflow
    return e / e.sum(axis=1, keepdims=True)


def activate(z: ArrayLike, activation: str) -> Array:
    r"""Apply an activation to the weighted sums of a batch.

    $$ \sigma(z) = \frac{1}{1+e^{-z}}, \quad \tanh(z), \quad \mathrm{relu}(z) = \max(z, 0),
       \quad \mathrm{linear}(z) = z, \quad \mathrm{softmax}(z)_j = \frac{e^{z_j}}{\sum_i e^{z_i}} $$

    The sigmoid is computed as $\tfrac12(1 + \tanh(z/2))$, the same function without overflow;
    softmax subtracts each row's maximum first, which leaves it unchanged.

    Args:
        z: Weighted sums, shape `(N, n)` (float64; a float32 array stays float32).
        activation: One of [`ACTIVATIONS`][dlguide.backprop.ACTIVATIONS]; softmax works on rows.

    Returns:
        The activations, shape `(N, n)`.

    Raises:
        ValueError: On a non-2-D or empty `z`, non-finite values or an unknown name.

    Examples:
        >>> activate(np.array([[0.0, 2.0]]), "sigmoid").round(4)
        array([[0.5   , 0.8808]])
    """
    z_arr = as_finite_array(z, "z", ndim=2, dtype=_float_dtype_of(z))
    return _activate(z_arr, _check_name(activation, ACTIVATIONS, "activation"))


def _float_dtype_of(value: ArrayLike) -> np.dtype:
    dtype = getattr(value, "dtype", None)
    return np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)


def _activation_backward(grad_a: Array, z: Array, a: Array, name: str) -> Array:
    if name == "sigmoid":
        return grad_a * a * (1.0 - a)
    if name == "tanh":
        return grad_a * (1.0 - a * a)
    if name == "relu":
        return grad_a * (z > 0)
    if name == "linear":
        return grad_a
    return a * (grad_a - np.sum(grad_a * a, axis=1, keepdims=True))  # softmax Jacobian product


def activation_backward(grad_a: ArrayLike, z: ArrayLike, a: ArrayLike, activation: str) -> Array:
    r"""Backpropagate through an activation: $\partial L/\partial a \mapsto \partial L/\partial z$.

    For the element-wise activations $\frac{\partial L}{\partial z} = \frac{\partial L}{\partial a}
    \odot f'(z)$ with

    $$ \sigma'(z) = a(1-a), \quad \tanh'(z) = 1 - a^2, \quad \mathrm{relu}'(z) = [z > 0],
       \quad \mathrm{linear}'(z) = 1, $$

    each written with the activation $a = f(z)$ the forward pass already computed. Softmax mixes a
    row's entries; its Jacobian $\partial a_i/\partial z_j = a_i([i=j] - a_j)$ gives, row by row,
    $\frac{\partial L}{\partial z} = a \odot \big(g - (g \cdot a)\big)$ with
    $g = \partial L/\partial a$.

    Args:
        grad_a: $\partial L/\partial a$, shape `(N, n)`.
        z: The weighted sums of the forward pass, shape `(N, n)`.
        a: The activations of the forward pass, $f(z)$, shape `(N, n)`.
        activation: One of [`ACTIVATIONS`][dlguide.backprop.ACTIVATIONS].

    Returns:
        $\partial L/\partial z$, shape `(N, n)`.

    Raises:
        ValueError: On shapes that differ, empty or non-finite arrays or an unknown name.

    Examples:
        >>> z = np.array([[0.0]])
        >>> activation_backward(np.ones((1, 1)), z, activate(z, "sigmoid"), "sigmoid")
        array([[0.25]])
    """
    dtype = _float_dtype_of(grad_a)
    g = as_finite_array(grad_a, "grad_a", ndim=2, dtype=dtype)
    z_arr = as_finite_array(z, "z", ndim=2, dtype=dtype)
    a_arr = as_finite_array(a, "a", ndim=2, dtype=dtype)
    if not g.shape == z_arr.shape == a_arr.shape:
        raise ValueError(
            f"grad_a, z and a must have the same shape, got {g.shape}, {z_arr.shape}, {a_arr.shape}"
        )
    return _activation_backward(g, z_arr, a_arr, _check_name(activation, ACTIVATIONS, "activation"))


def _clip(a: Array) -> Array:
    r"""Clip probabilities to $[\epsilon, 1-\epsilon]$ ($\epsilon$: the dtype's machine epsilon) so
    that log() stays finite when an output saturates at exactly 0 or 1."""
    eps = np.finfo(a.dtype).eps
    return np.clip(a, eps, 1.0 - eps)


def _compute_loss(a: Array, y: Array, name: str) -> float:
    if name == "mse":
        d = a - y
        return float(np.vdot(d, d)) / d.size  # vdot: the sum of squares in one call
    p = _clip(a)
    if name == "binary_crossentropy":
        return -float((y * np.log(p) + (1.0 - y) * np.log(1.0 - p)).sum()) / a.size
    return -float(np.vdot(y, np.log(p))) / a.shape[0]


def _check_outputs_targets(
    outputs: ArrayLike, targets: ArrayLike, loss: str
) -> tuple[Array, Array]:
    _check_name(loss, LOSSES, "loss")
    dtype = _float_dtype_of(outputs)
    a = as_finite_array(outputs, "outputs", ndim=2, dtype=dtype)
    y = as_finite_array(targets, "targets", ndim=2, dtype=dtype)
    if a.shape != y.shape:
        raise ValueError(
            f"outputs and targets must have the same shape, got {a.shape} and {y.shape}"
        )
    if loss in _OUTPUT_FOR_LOSS and (a.min() < 0 or a.max() > 1):
        raise ValueError(
            f"outputs for {loss!r} must be probabilities in [0, 1], "
            f"got values in [{a.min():g}, {a.max():g}]"
        )
    _check_targets(y, loss)
    return a, y


def compute_loss(outputs: ArrayLike, targets: ArrayLike, loss: str) -> float:
    r"""The loss of a batch, defined as in Keras.

    With $a$ the network's outputs and $y$ the targets, both of shape `(N, K)`:

    $$ \text{mse} = \frac{1}{NK}\sum_{n,k} (a_{nk} - y_{nk})^2, \qquad
       \text{binary\_crossentropy} = -\frac{1}{NK}\sum_{n,k}
           \big[y_{nk}\log a_{nk} + (1-y_{nk})\log(1-a_{nk})\big], $$

    $$ \text{categorical\_crossentropy} = -\frac{1}{N}\sum_{n,k} y_{nk}\log a_{nk}. $$

    The cross-entropies clip $a$ to $[\epsilon, 1-\epsilon]$, with $\epsilon$ the dtype's machine
    epsilon ($1.2 \times 10^{-7}$ in float32, like Keras' $10^{-7}$; $2.2 \times 10^{-16}$ in
    float64), so a saturated output gives a large finite loss rather than infinity.

    Args:
        outputs: $a$, shape `(N, K)`; probabilities for the cross-entropies.
        targets: $y$, shape `(N, K)`; in $[0, 1]$ for the cross-entropies, rows summing to 1 for
            categorical cross-entropy.
        loss: One of [`LOSSES`][dlguide.backprop.LOSSES].

    Returns:
        The loss, a Python float.

    Raises:
        ValueError: On differing shapes, empty or non-finite arrays, values outside $[0, 1]$ for a
            cross-entropy, or an unknown loss name.

    Examples:
        >>> compute_loss(np.array([[0.5], [1.0]]), np.array([[0.0], [1.0]]), "mse")
        0.125
    """
    a, y = _check_outputs_targets(outputs, targets, loss)
    return _compute_loss(a, y, loss)


def _loss_gradient(a: Array, y: Array, name: str) -> Array:
    if name == "mse":
        return 2.0 * (a - y) / a.size
    p = _clip(a)
    if name == "binary_crossentropy":
        return (p - y) / (p * (1.0 - p)) / a.size
    return -y / p / a.shape[0]


def loss_gradient(outputs: ArrayLike, targets: ArrayLike, loss: str) -> Array:
    r"""The gradient $\partial L/\partial a$ of a loss with respect to the network's outputs.

    Differentiating [`compute_loss`][dlguide.backprop.compute_loss]:

    $$ \frac{\partial\,\text{mse}}{\partial a} = \frac{2(a-y)}{NK}, \qquad
       \frac{\partial\,\text{bce}}{\partial a} = \frac{a-y}{a(1-a)\,NK}, \qquad
       \frac{\partial\,\text{cce}}{\partial a} = -\frac{y}{a\,N}. $$

    Args:
        outputs: $a$, shape `(N, K)`.
        targets: $y$, shape `(N, K)`.
        loss: One of [`LOSSES`][dlguide.backprop.LOSSES].

    Returns:
        $\partial L/\partial a$, shape `(N, K)`.

    Raises:
        ValueError: As [`compute_loss`][dlguide.backprop.compute_loss].

    Examples:
        >>> loss_gradient(np.array([[0.5], [1.0]]), np.array([[0.0], [1.0]]), "mse")
        array([[0.5],
               [0. ]])
    """
    a, y = _check_outputs_targets(outputs, targets, loss)
    return _loss_gradient(a, y, loss)


def _output_delta(z: Array, a: Array, y: Array, activation: str, loss: str) -> Array:
    if _OUTPUT_FOR_LOSS.get(loss) == activation:
        # sigmoid + binary cross-entropy, softmax + categorical cross-entropy: f' cancels
        return (a - y) / (a.size if loss == "binary_crossentropy" else a.shape[0])
    return _activation_backward(_loss_gradient(a, y, loss), z, a, activation)


def output_delta(
    z: ArrayLike, a: ArrayLike, targets: ArrayLike, activation: str, loss: str
) -> Array:
    r"""The output layer's error term $\delta^{(L)} = \partial L / \partial z^{(L)}$.

    In general $\delta^{(L)} = \frac{\partial L}{\partial a^{(L)}} \odot f_L'(z^{(L)})$ (see
    [`loss_gradient`][dlguide.backprop.loss_gradient] and
    [`activation_backward`][dlguide.backprop.activation_backward]). For a sigmoid output with binary
    cross-entropy, and a softmax output with categorical cross-entropy, the activation's derivative
    cancels the loss's denominator and what is left is simply

    $$ \delta^{(L)} = \frac{a^{(L)} - y}{NK} \quad\text{and}\quad
       \delta^{(L)} = \frac{a^{(L)} - y}{N}. $$

    This form is used for those two pairs: it is cheaper and stays exact when an output saturates.

    Args:
        z: Output weighted sums $z^{(L)}$, shape `(N, K)`.
        a: Output activations $a^{(L)} = f_L(z^{(L)})$, shape `(N, K)`.
        targets: $y$, shape `(N, K)`.
        activation: The output layer's activation.
        loss: One of [`LOSSES`][dlguide.backprop.LOSSES]; a cross-entropy needs its matching output.

    Returns:
        $\delta^{(L)}$, shape `(N, K)`.

    Raises:
        ValueError: On differing shapes, empty or non-finite arrays, unknown names, or a
            cross-entropy with the wrong output activation.

    Examples:
        >>> z = np.array([[0.0]])
        >>> output_delta(z, activate(z, "sigmoid"), np.array([[1.0]]), "sigmoid", "mse")
        array([[-0.25]])
    """
    a_arr, y = _check_outputs_targets(a, targets, loss)
    z_arr = as_finite_array(z, "z", ndim=2, dtype=a_arr.dtype)
    if z_arr.shape != a_arr.shape:
        raise ValueError(f"z and a must have the same shape, got {z_arr.shape} and {a_arr.shape}")
    _check_name(activation, ACTIVATIONS, "activation")
    needed = _OUTPUT_FOR_LOSS.get(loss)
    if needed is not None and activation != needed:
        raise ValueError(f"loss {loss!r} needs a {needed!r} output, got {activation!r}")
    return _output_delta(z_arr, a_arr, y, activation, loss)


# --------------------------------------------------------------------------------------------------
# forward and backward pass


def _forward(network: Sequence[Layer], x: Array) -> tuple[list[Array], list[Array]]:
    zs: list[Array] = []
    activations: list[Array] = [x]
    for layer in network:
        z = activations[-1] @ layer["weights"] + layer["biases"]
        zs.append(z)
        activations.append(_activate(z, layer["activation"]))
    return zs, activations


def forward(network: Sequence[Layer], inputs: ArrayLike) -> tuple[list[Array], list[Array]]:
    r"""Forward pass of a batch, keeping what the backward pass needs.

    $$ a^{(0)} = X, \qquad z^{(k)} = a^{(k-1)} W^{(k)} + b^{(k)}, \qquad a^{(k)} = f_k(z^{(k)}) $$

    Args:
        network: Layer dicts, e.g. from [`init_network`][dlguide.backprop.init_network].
        inputs: $X$, shape `(N, n_0)`, one example per row; converted to the network's dtype.

    Returns:
        `(zs, activations)`: the weighted sums $[z^{(1)}, \dots, z^{(L)}]$ and the activations
        $[a^{(0)}, a^{(1)}, \dots, a^{(L)}]$ (the inputs first), $z^{(k)}, a^{(k)}$ of shape
        `(N, n_k)`.

    Raises:
        ValueError: On a malformed network, wrong input shape, empty or non-finite inputs.

    Examples:
        >>> net = init_network([2, 3, 1], "tanh", seed=0)
        >>> zs, activations = forward(net, np.ones((5, 2)))
        >>> [a.shape for a in activations]
        [(5, 2), (5, 3), (5, 1)]
    """
    x, _ = _check_data(network, inputs, None, None)
    return _forward(network, x)


def predict(network: Sequence[Layer], inputs: ArrayLike) -> Array:
    r"""The network's output $a^{(L)}$ for a batch of inputs.

    The last activation of [`forward`][dlguide.backprop.forward].

    Args:
        network: Layer dicts.
        inputs: $X$, shape `(N, n_0)`.

    Returns:
        $a^{(L)}$, shape `(N, n_L)`.

    Raises:
        ValueError: As [`forward`][dlguide.backprop.forward].

    Examples:
        >>> net = [dense([[1.0], [1.0]], [0.0], "linear")]
        >>> predict(net, [[1.0, 2.0], [3.0, 4.0]])
        array([[3.],
               [7.]])
    """
    return forward(network, inputs)[1][-1]


def _backward(
    network: Sequence[Layer], zs: list[Array], activations: list[Array], y: Array, loss: str
) -> list[Gradient]:
    grads: list[Gradient] = []  # filled from the last layer back, reversed at the end
    delta = _output_delta(zs[-1], activations[-1], y, network[-1]["activation"], loss)
    for k in range(len(network) - 1, -1, -1):
        grads.append({"weights": activations[k].T @ delta, "biases": delta.sum(axis=0)})
        if k > 0:
            grad_a = delta @ network[k]["weights"].T
            delta = _activation_backward(
                grad_a, zs[k - 1], activations[k], network[k - 1]["activation"]
            )
    return grads[::-1]


def backward(
    network: Sequence[Layer],
    zs: Sequence[Array],
    activations: Sequence[Array],
    targets: ArrayLike,
    loss: str,
) -> list[Gradient]:
    r"""Backward pass: the gradient of the loss for every weight and bias, by the chain rule.

    Starting from $\delta^{(L)}$ ([`output_delta`][dlguide.backprop.output_delta]), for
    $k = L, \dots, 1$:

    $$ \frac{\partial L}{\partial W^{(k)}} = a^{(k-1)\top}\delta^{(k)}, \qquad
       \frac{\partial L}{\partial b^{(k)}} = \textstyle\sum_n \delta^{(k)}_{n,:}, \qquad
       \delta^{(k-1)} = \big(\delta^{(k)} W^{(k)\top}\big) \odot f_{k-1}'(z^{(k-1)}). $$

    Args:
        network: Layer dicts.
        zs: The weighted sums from [`forward`][dlguide.backprop.forward].
        activations: The activations from [`forward`][dlguide.backprop.forward] (inputs first).
        targets: $y$, shape `(N, n_L)`.
        loss: One of [`LOSSES`][dlguide.backprop.LOSSES].

    Returns:
        One `{"weights": dL/dW, "biases": dL/db}` dict per layer, shaped like the layer.

    Raises:
        ValueError: On a malformed network, `zs`/`activations` that do not match it, wrong target
            shape, non-finite values or an unknown loss.

    Examples:
        >>> net = init_network([2, 2, 1], "sigmoid", seed=0)
        >>> zs, activations = forward(net, [[0.0, 1.0]])
        >>> grads = backward(net, zs, activations, [[1.0]], "mse")
        >>> [g["weights"].shape for g in grads]
        [(2, 2), (2, 1)]
    """
    _check_network(network)
    if len(zs) != len(network) or len(activations) != len(network) + 1:
        raise ValueError(
            f"expected {len(network)} zs and {len(network) + 1} activations for a "
            f"{len(network)}-layer network, got {len(zs)} and {len(activations)}"
        )
    x, y = _check_data(network, activations[0], targets, loss)
    dtype = x.dtype
    zs_checked = [as_finite_array(z, f"zs[{k}]", ndim=2, dtype=dtype) for k, z in enumerate(zs)]
    acts = [x] + [
        as_finite_array(a, f"activations[{k}]", ndim=2, dtype=dtype)
        for k, a in enumerate(activations[1:], 1)
    ]
    for k, layer in enumerate(network):
        expected = (x.shape[0], layer["weights"].shape[1])
        if zs_checked[k].shape != expected or acts[k + 1].shape != expected:
            raise ValueError(
                f"zs[{k}] and activations[{k + 1}] must have shape {expected}, "
                f"got {zs_checked[k].shape} and {acts[k + 1].shape}"
            )
    assert y is not None
    return _backward(network, zs_checked, acts, y, loss)


def gradients(
    network: Sequence[Layer], inputs: ArrayLike, targets: ArrayLike, loss: str
) -> tuple[float, list[Gradient]]:
    r"""Loss and gradients of a batch: [`forward`][dlguide.backprop.forward], then
    [`backward`][dlguide.backprop.backward].

    Args:
        network: Layer dicts.
        inputs: $X$, shape `(N, n_0)`.
        targets: $y$, shape `(N, n_L)`.
        loss: One of [`LOSSES`][dlguide.backprop.LOSSES].

    Returns:
        `(loss_value, grads)`: $L$ as a float and one gradient dict per layer.

    Raises:
        ValueError: On a malformed network, wrong shapes, empty or non-finite arrays, targets out
            of range for a cross-entropy, or unknown names.

    Examples:
        >>> net = [dense([[2.0]], [0.0], "linear")]
        >>> loss, grads = gradients(net, [[1.0]], [[1.0]], "mse")
        >>> loss, float(grads[0]["weights"][0, 0])
        (1.0, 2.0)
    """
    x, y = _check_data(network, inputs, targets, loss)
    assert y is not None
    zs, activations = _forward(network, x)
    return _compute_loss(activations[-1], y, loss), _backward(network, zs, activations, y, loss)


# --------------------------------------------------------------------------------------------------
# gradient checking


def numerical_gradients(
    network: Sequence[Layer], inputs: ArrayLike, targets: ArrayLike, loss: str, *, eps: float = 1e-6
) -> list[Gradient]:
    r"""Gradients by central finite differences, one parameter at a time.

    $$ \frac{\partial L}{\partial \theta} \approx
       \frac{L(\theta + \varepsilon) - L(\theta - \varepsilon)}{2\varepsilon} $$

    The error of this estimate is $O(\varepsilon^2)$ plus rounding of order
    $\text{machine-}\epsilon \cdot L / \varepsilon$; $\varepsilon = 10^{-6}$ suits float64. It
    needs two forward passes per parameter, so use it on small networks only. Near a ReLU kink
    ($|z| < \varepsilon$) the estimate straddles the kink and disagrees with the true gradient.

    Args:
        network: Layer dicts (not modified).
        inputs: $X$, shape `(N, n_0)`.
        targets: $y$, shape `(N, n_L)`.
        loss: One of [`LOSSES`][dlguide.backprop.LOSSES].
        eps: Step $\varepsilon > 0$.

    Returns:
        One `{"weights", "biases"}` dict per layer, shaped like the layer.

    Raises:
        ValueError: As [`gradients`][dlguide.backprop.gradients], or if `eps` is not a positive
            finite number.

    Examples:
        >>> net = [dense([[2.0]], [0.0], "linear")]
        >>> g = numerical_gradients(net, [[1.0]], [[1.0]], "mse")
        >>> round(float(g[0]["weights"][0, 0]), 6)
        2.0
    """
    x, y = _check_data(network, inputs, targets, loss)
    assert y is not None
    if isinstance(eps, bool) or not (isinstance(eps, int | float) and np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    work: list[Layer] = [layer.copy() for layer in network]
    grads: list[Gradient] = []
    for layer in work:
        grad: dict[str, Array] = {}
        for key in ("weights", "biases"):
            param = layer[key].copy()
            layer[key] = param  # perturb a copy, never the caller's array
            g = np.zeros_like(param)
            for i in np.ndindex(param.shape):
                original = param[i]
                param[i] = original + eps
                plus = _compute_loss(_forward(work, x)[1][-1], y, loss)
                param[i] = original - eps
                minus = _compute_loss(_forward(work, x)[1][-1], y, loss)
                param[i] = original
                g[i] = (plus - minus) / (2 * eps)
            grad[key] = g
        grads.append({"weights": grad["weights"], "biases": grad["biases"]})
    return grads


def _flatten(grads: Sequence[Gradient], name: str) -> Array:
    if isinstance(grads, dict) or not isinstance(grads, Sequence) or len(grads) == 0:
        raise ValueError(
            f"{name} must be a non-empty list of gradient dicts, got {type(grads).__name__}"
        )
    parts = []
    for k, g in enumerate(grads):
        if not isinstance(g, dict) or not {"weights", "biases"} <= g.keys():
            raise ValueError(f"{name}[{k}] must be a dict with 'weights' and 'biases'")
        for key in ("weights", "biases"):
            parts.append(as_finite_array(g[key], f"{name}[{k}][{key!r}]", dtype=np.float64).ravel())
    return np.concatenate(parts)


def relative_error(grads_a: Sequence[Gradient], grads_b: Sequence[Gradient]) -> float:
    r"""Relative difference between two sets of gradients, all parameters at once.

    $$ e = \frac{\lVert g_a - g_b \rVert_2}{\lVert g_a \rVert_2 + \lVert g_b \rVert_2} $$

    with every weight and bias of every layer stacked into one vector; $e = 0$ when both are zero.
    A correct backward pass gives $e \approx 10^{-9}$ against central differences in float64; a
    wrong one gives $e$ of order $10^{-1}$.

    Args:
        grads_a: Gradient dicts, e.g. from [`gradients`][dlguide.backprop.gradients].
        grads_b: Gradient dicts with the same shapes.

    Returns:
        $e \in [0, 1]$.

    Raises:
        ValueError: If the lists differ in length or shapes, or hold non-finite values.

    Examples:
        >>> g = [{"weights": np.ones((2, 1)), "biases": np.zeros(1)}]
        >>> relative_error(g, g)
        0.0
    """
    a, b = _flatten(grads_a, "grads_a"), _flatten(grads_b, "grads_b")
    shapes_a = [(g["weights"].shape, g["biases"].shape) for g in grads_a]
    shapes_b = [(g["weights"].shape, g["biases"].shape) for g in grads_b]
    if shapes_a != shapes_b:
        raise ValueError(
            f"grads_a and grads_b must have the same shapes, got {shapes_a} and {shapes_b}"
        )
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def gradient_check(
    network: Sequence[Layer], inputs: ArrayLike, targets: ArrayLike, loss: str, *, eps: float = 1e-6
) -> float:
    r"""Compare backpropagation with central finite differences.

    Returns the [`relative_error`][dlguide.backprop.relative_error] between
    [`gradients`][dlguide.backprop.gradients] and
    [`numerical_gradients`][dlguide.backprop.numerical_gradients]. In float64, below $10^{-6}$
    means the backward pass is right.

    Args:
        network: Layer dicts (use float64 for a meaningful check).
        inputs: $X$, shape `(N, n_0)`.
        targets: $y$, shape `(N, n_L)`.
        loss: One of [`LOSSES`][dlguide.backprop.LOSSES].
        eps: Finite-difference step $\varepsilon$.

    Returns:
        The relative error $e$.

    Raises:
        ValueError: As [`numerical_gradients`][dlguide.backprop.numerical_gradients].

    Examples:
        >>> net = init_network([3, 4, 2], ["tanh", "softmax"], seed=0)
        >>> X = np.random.default_rng(0).normal(size=(5, 3))
        >>> Y = np.eye(2)[[0, 1, 1, 0, 1]]
        >>> gradient_check(net, X, Y, "categorical_crossentropy") < 1e-6
        True
    """
    numeric = numerical_gradients(network, inputs, targets, loss, eps=eps)
    _, analytic = gradients(network, inputs, targets, loss)
    return relative_error(analytic, numeric)


# --------------------------------------------------------------------------------------------------
# training


def sgd_step(
    network: Sequence[Layer], grads: Sequence[Gradient], learning_rate: float
) -> list[Layer]:
    r"""One step of gradient descent: $\theta \leftarrow \theta - \eta\, \partial L/\partial\theta$.

    Args:
        network: Layer dicts (not modified).
        grads: One gradient dict per layer, shaped like the layer.
        learning_rate: $\eta > 0$.

    Returns:
        A new network with the updated weights and biases.

    Raises:
        ValueError: On a malformed network, gradients that do not match it, or a learning rate that
            is not a positive finite number.

    Examples:
        >>> net = [dense([[2.0]], [0.0], "linear")]
        >>> _, grads = gradients(net, [[1.0]], [[1.0]], "mse")
        >>> float(sgd_step(net, grads, 0.25)[0]["weights"][0, 0])
        1.5
    """
    dtype = _check_network(network)
    _check_learning_rate(learning_rate)
    if len(grads) != len(network):
        raise ValueError(f"grads must have one entry per layer ({len(network)}), got {len(grads)}")
    _flatten(grads, "grads")
    updated: list[Layer] = []
    for k, (layer, g) in enumerate(zip(network, grads, strict=True)):
        for key in ("weights", "biases"):
            if np.shape(g[key]) != layer[key].shape:
                raise ValueError(
                    f"grads[{k}][{key!r}] must have shape {layer[key].shape}, "
                    f"got {np.shape(g[key])}"
                )
        updated.append(
            {
                "weights": (layer["weights"] - learning_rate * np.asarray(g["weights"])).astype(
                    dtype
                ),
                "biases": (layer["biases"] - learning_rate * np.asarray(g["biases"])).astype(dtype),
                "activation": layer["activation"],
            }
        )
    return updated


def _check_learning_rate(learning_rate: float) -> None:
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float | np.floating):
        raise TypeError(f"learning_rate must be a number, got {type(learning_rate).__name__}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive finite number, got {learning_rate!r}")


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

    Each step computes the gradients of one batch ([`gradients`][dlguide.backprop.gradients]) and
    updates every parameter by $\theta \leftarrow \theta - \eta\,\partial L/\partial \theta$. One
    epoch is one pass over the data: a single step with `batch_size=None` (full batch), otherwise
    $\lceil N / B \rceil$ steps over the rows, reshuffled every epoch unless `shuffle=False`.

    Stopping criterion: after each epoch, if `tol` is set and the epoch's `monitor` value
    (`"loss"` or `"mae"`, as recorded in [`History`][dlguide.backprop.History]) is $\le$ `tol`,
    training stops.

    Args:
        network: Layer dicts (not modified: training works on a copy).
        inputs: $X$, shape `(N, n_0)`.
        targets: $y$, shape `(N, n_L)`.
        loss: One of [`LOSSES`][dlguide.backprop.LOSSES].
        learning_rate: $\eta > 0$.
        epochs: Maximum number of epochs, $\ge 1$.
        batch_size: Rows per step $B \ge 1$, or `None` for the full batch.
        tol: Stop once `monitor` $\le$ `tol`; `None` never stops early.
        monitor: `"loss"` or `"mae"`.
        shuffle: Reshuffle the rows before each epoch of mini-batches (as Keras' `fit` does).
        seed: Seed of the shuffling generator (unused with the full batch).

    Returns:
        `(trained_network, history)`.

    Raises:
        TypeError: If `epochs` or `batch_size` is not an int.
        ValueError: On a malformed network or data, unknown names, a non-positive learning rate,
            `epochs` or `batch_size` below 1, a negative `tol`, or a diverged run (non-finite
            loss), which names the epoch.

    Examples:
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
    assert y is not None
    _check_learning_rate(learning_rate)
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer):
        raise TypeError(f"epochs must be an int, got {type(epochs).__name__}")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    n = x.shape[0]
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise TypeError(f"batch_size must be an int or None, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1 or None, got {batch_size}")
    if tol is not None and (
        isinstance(tol, bool) or not isinstance(tol, int | float) or not np.isfinite(tol) or tol < 0
    ):
        raise ValueError(f"tol must be None or a finite number >= 0, got {tol!r}")
    _check_name(monitor, ("loss", "mae"), "monitor")
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be a bool, got {type(shuffle).__name__}")

    net: list[Layer] = [
        {
            "weights": layer["weights"].copy(),
            "biases": layer["biases"].copy(),
            "activation": layer["activation"],
        }
        for layer in network
    ]
    full_batch = batch_size is None or batch_size >= n
    step = n if full_batch or batch_size is None else int(batch_size)
    rng = np.random.default_rng(seed)
    losses = np.empty(epochs)
    maes = np.empty(epochs)
    stopped = False
    for epoch in range(epochs):
        order = None if full_batch else (rng.permutation(n) if shuffle else np.arange(n))
        epoch_loss = epoch_mae = 0.0
        for start in range(0, n, step):
            if order is None:
                xb, yb = x, y
            else:
                rows = order[start : start + step]
                xb, yb = x[rows], y[rows]
            zs, activations = _forward(net, xb)
            out = activations[-1]
            grads = _backward(net, zs, activations, yb, loss)
            for layer, g in zip(net, grads, strict=True):
                layer["weights"] -= learning_rate * g["weights"]
                layer["biases"] -= learning_rate * g["biases"]
            weight = yb.shape[0] / n
            epoch_loss += weight * _compute_loss(out, yb, loss)
            epoch_mae += weight * float(np.abs(out - yb).sum()) / out.size
        if not np.isfinite(epoch_loss):
            raise ValueError(
                f"training diverged: the loss became {epoch_loss} in epoch {epoch + 1}; "
                f"lower the learning rate (got {learning_rate})"
            )
        losses[epoch], maes[epoch] = epoch_loss, epoch_mae
        if tol is not None and (epoch_loss if monitor == "loss" else epoch_mae) <= tol:
            stopped = True
            losses, maes = losses[: epoch + 1], maes[: epoch + 1]
            break
    return net, History(loss=losses, mae=maes, converged=stopped)
