r"""Neurons, layers and forward propagation, from scratch in NumPy: the book's one dense network.

A neuron takes inputs $x_1, \dots, x_n$, forms the weighted sum $z = \sum_i w_i x_i + b$ and passes
it through an activation function, e.g. the sigmoid $a = \sigma(z) = 1 / (1 + e^{-z})$. A layer
does the same for all its neurons at once: with a weight matrix $W$ of shape `(n_in, n_out)`
(column $j$ feeds neuron $j$, Keras' `Dense` kernel layout) and a bias vector $b$ of shape
`(n_out,)`,

$$ z = x W + b, \qquad a = f(z). $$

Forward propagation feeds the input through every layer in turn; the last layer's activations are
the network's output.

**The contract, shared by [`dlguide.backprop`][dlguide.backprop].** A network is a list of
layers; a layer is a plain dict `{"weights": W, "biases": b, "activation": name}` with `name` one
of [`LAYER_ACTIVATIONS`][dlguide.neurons.LAYER_ACTIVATIONS], so you can print it, edit it, and copy
it into Keras with `dense_layer.set_weights([W, b])`. All arrays of a network share one dtype,
float64 by default or float32. Inputs are one example, shape `(n_0,)`, or a batch with one example
per row, shape `(N, n_0)`. The functions a reader calls check their arguments once: a value of the
wrong kind raises `TypeError`, a wrong shape, an empty or non-finite array or an unknown name raises
`ValueError`, naming what was expected and what came.

Examples:
    >>> from dlguide.neurons import dense, forward_propagate
    >>> network = [
    ...     dense([[0.9, 0.46], [0.42, 0.92]], [0.06, 0.34]),
    ...     dense([[0.66], [0.05]], [0.42]),
    ... ]
    >>> output, _ = forward_propagate(network, [0.5, 0.85])
    >>> round(float(output[0]), 4)
    0.7159
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._checks import (
    as_finite_array,
    check_float_dtype,
    check_int,
    check_name,
    check_network,
    check_real,
)
from .activations import _FORMULAS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ACTIVATE",
    "LAYER_ACTIVATIONS",
    "Layer",
    "dense",
    "draw_network",
    "forward_propagate",
    "init_network",
    "initialize_network",
]

Array = NDArray[Any]

LAYER_ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
"""Activations a layer may use: the formulas of [`dlguide.activations`][dlguide.activations]."""

ACTIVATE: dict[str, Callable[[Array], Array]] = {
    name: _FORMULAS[name] for name in LAYER_ACTIVATIONS
}
"""Each layer activation's formula by name (softmax works on the last axis, i.e. on each row)."""


class Layer(TypedDict):
    """One dense layer: `weights` `(n_in, n_out)`, `biases` `(n_out,)`, `activation` name."""

    weights: Array
    biases: Array
    activation: str


def dense(
    weights: ArrayLike,
    biases: ArrayLike,
    activation: str = "sigmoid",
    *,
    dtype: DTypeLike = np.float64,
) -> Layer:
    r"""One dense layer from given weights: $a = f(xW + b)$.

    Args:
        weights: $W$, shape `(n_in, n_out)`: one row per input, one column per neuron.
        biases: $b$, shape `(n_out,)`.
        activation: $f$, one of [`LAYER_ACTIVATIONS`][dlguide.neurons.LAYER_ACTIVATIONS].
        dtype: `np.float64` or `np.float32`.

    Returns:
        The layer dict, with copies of `weights` and `biases` in `dtype`.

    Examples:
        >>> layer = dense([[0.66], [0.05]], [0.42])
        >>> layer["weights"].shape, layer["biases"].shape, layer["activation"]
        ((2, 1), (1,), 'sigmoid')
    """
    dtype = check_float_dtype(dtype)
    w = as_finite_array(weights, "weights", ndim=2, dtype=dtype).copy()
    b = as_finite_array(biases, "biases", ndim=1, dtype=dtype).copy()
    if b.shape != (w.shape[1],):
        raise ValueError(
            f"biases must have shape ({w.shape[1]},), one entry per column of the weights, "
            f"got {b.shape}"
        )
    return {
        "weights": w,
        "biases": b,
        "activation": check_name(activation, "activation", LAYER_ACTIVATIONS),
    }


def init_network(
    sizes: Sequence[int],
    activations: str | Sequence[str] = "sigmoid",
    *,
    seed: int | None = 0,
    dtype: DTypeLike = np.float64,
    scale: float | None = None,
) -> list[Layer]:
    r"""A dense network with random weights.

    With `scale=None` the weights follow Keras' default, Glorot-uniform, and the biases start at 0:

    $$ W^{(k)}_{ij} \sim \mathcal U\!\left(-\ell_k, \ell_k\right), \quad
       \ell_k = \sqrt{\frac{6}{n_{k-1} + n_k}}, \qquad b^{(k)} = 0. $$

    With a number `scale` $= s > 0$ every weight and bias is drawn from $\mathcal U(-s, s)$.

    Args:
        sizes: Layer widths $[n_0, n_1, \dots, n_L]$, inputs first; at least two ints $\ge 1$.
        activations: One name for every layer, or one per layer ($L$ names).
        seed: Seed for `numpy.random.default_rng`; `None` draws fresh randomness.
        dtype: `np.float64` or `np.float32`.
        scale: `None` for Glorot-uniform weights and zero biases, or $s$.

    Returns:
        $L$ layers; layer $k$ has weights of shape `(sizes[k], sizes[k+1])`.

    Examples:
        >>> net = init_network([3, 4, 2], ["relu", "softmax"], seed=1)
        >>> [(layer["weights"].shape, layer["activation"]) for layer in net]
        [((3, 4), 'relu'), ((4, 2), 'softmax')]
    """
    dtype = check_float_dtype(dtype)
    if isinstance(sizes, str) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
    sizes = [check_int(n, "every layer width in sizes", 1) for n in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the inputs and one layer, got {sizes}")
    names = [activations] * (len(sizes) - 1) if isinstance(activations, str) else list(activations)
    if len(names) != len(sizes) - 1:
        raise ValueError(
            f"activations must be one name or {len(sizes) - 1} names (one per layer), "
            f"got {len(names)}"
        )
    if scale is not None:
        scale = check_real(scale, "scale", positive=True)

    rng = np.random.default_rng(seed)
    network = []
    for n_in, n_out, name in zip(sizes[:-1], sizes[1:], names, strict=True):
        if scale is None:
            limit = np.sqrt(6.0 / (n_in + n_out))
            w, b = rng.uniform(-limit, limit, size=(n_in, n_out)), np.zeros(n_out)
        else:
            w, b = rng.uniform(-scale, scale, size=(n_in, n_out)), rng.uniform(-scale, scale, n_out)
        network.append(dense(w, b, name, dtype=dtype))
    return network


def initialize_network(
    num_inputs: int,
    num_hidden_layers: int,
    num_nodes_hidden: int | Sequence[int],
    num_nodes_output: int,
    *,
    seed: int | None = 0,
) -> list[Layer]:
    r"""The course's network builder: sigmoid layers, weights and biases from $\mathcal U[0, 1)$.

    Same layers as [`init_network`][dlguide.neurons.init_network], drawn as the course draws
    them, from a seeded generator so the same arguments always give the same network.

    Args:
        num_inputs: Number of inputs $n_0 \ge 1$.
        num_hidden_layers: Number of hidden layers ($\ge 0$).
        num_nodes_hidden: Nodes per hidden layer: one int for all of them, or one int per layer.
        num_nodes_output: Number of output nodes ($\ge 1$).
        seed: Seed for `numpy.random.default_rng`; `None` draws fresh randomness.

    Returns:
        `num_hidden_layers + 1` sigmoid layers.

    Examples:
        >>> network = initialize_network(5, 3, [3, 2, 3], 1)
        >>> [layer["weights"].shape for layer in network]
        [(5, 3), (3, 2), (2, 3), (3, 1)]
    """
    n_hidden = check_int(num_hidden_layers, "num_hidden_layers", 0)
    if isinstance(num_nodes_hidden, Sequence) and not isinstance(num_nodes_hidden, str):
        hidden = [check_int(n, "num_nodes_hidden[i]", 1) for n in num_nodes_hidden]
        if len(hidden) != n_hidden:
            raise ValueError(
                f"num_nodes_hidden must list {n_hidden} layer sizes (one per hidden layer), "
                f"got {len(hidden)}: {hidden}"
            )
    else:
        hidden = [check_int(num_nodes_hidden, "num_nodes_hidden", 1)] * n_hidden
    sizes = [
        check_int(num_inputs, "num_inputs", 1),
        *hidden,
        check_int(num_nodes_output, "num_nodes_output", 1),
    ]
    rng = np.random.default_rng(seed)
    return [
        dense(rng.uniform(size=(n_in, n_out)), rng.uniform(size=n_out))
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def forward_propagate(network: Sequence[Layer], inputs: ArrayLike) -> tuple[Array, list[Array]]:
    r"""Feed `inputs` through every layer of `network`: forward propagation.

    $$ a^{(0)} = x, \qquad z^{(k)} = a^{(k-1)} W^{(k)} + b^{(k)}, \qquad a^{(k)} = f_k(z^{(k)}) $$

    The same lines compute one example, shape `(n_0,)`, or a batch of $N$, shape `(N, n_0)`:
    for a batch, $z^{(k)}$ and $a^{(k)}$ have one row per example.

    Args:
        network: Layers, e.g. from [`init_network`][dlguide.neurons.init_network].
        inputs: $x$, shape `(n_0,)` or `(N, n_0)`; converted to the network's dtype.

    Returns:
        `(output, activations)`: the output $a^{(L)}$ and every layer's activations
        $[a^{(0)}, a^{(1)}, \dots, a^{(L)}]$, the inputs first (backpropagation needs them all).

    Examples:
        >>> network = initialize_network(2, 1, 2, 1)
        >>> output, activations = forward_propagate(network, [0.5, 0.85])
        >>> [a.shape for a in activations]
        [(2,), (2,), (1,)]
    """
    dtype = check_network(network)
    x = as_finite_array(inputs, "inputs", dtype=dtype)
    n_in = network[0]["weights"].shape[0]
    if x.ndim not in (1, 2) or x.shape[-1] != n_in:
        raise ValueError(
            f"inputs must have shape ({n_in},) or (N, {n_in}) to match the first layer's weights "
            f"{network[0]['weights'].shape}, got {x.shape}"
        )
    activations = [x]
    for layer in network:
        z = activations[-1] @ layer["weights"] + layer["biases"]
        activations.append(ACTIVATE[layer["activation"]](z))
    return activations[-1], activations


def draw_network(layer_sizes: Sequence[int], ax: Axes | None = None) -> Axes:
    """Draw the structure of a fully connected network: one circle per neuron, one line per weight.

    Args:
        layer_sizes: Neurons per layer, input layer first, at least two ints $\\ge 1$, e.g.
            `[5, 3, 2, 3, 1]`.
        ax: Matplotlib axes to draw on; a new figure is created if omitted.

    Returns:
        The axes, with one circle patch per neuron and one line per connection.

    Examples:
        >>> ax = draw_network([2, 2, 1])
        >>> len(ax.patches), len(ax.lines)  # 5 neurons, 2*2 + 2*1 connections
        (5, 6)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    if isinstance(layer_sizes, str) or not isinstance(layer_sizes, Sequence):
        raise TypeError(f"layer_sizes must be a sequence of ints, got {type(layer_sizes).__name__}")
    sizes = [check_int(n, "layer_sizes[i]", 1) for n in layer_sizes]
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes must list at least 2 layers, got {len(sizes)}: {sizes}")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * len(sizes), 0.6 * max(sizes) + 1.2))

    tallest = max(sizes)
    # Layers at least twice as far apart as neurons, and spread over the axes' width, so the
    # per-layer labels have room however tall the network is.
    figure = ax.get_figure(root=True)
    assert figure is not None  # an Axes always belongs to a figure
    width, height = ax.get_position().size * figure.get_size_inches()
    gap = max(2.0, (width / height * tallest - 1.2) / (len(sizes) - 1))
    positions = [[(gap * k, (n - 1) / 2 - i) for i in range(n)] for k, n in enumerate(sizes)]
    for left, right in zip(positions[:-1], positions[1:], strict=True):
        for x0, y0 in left:
            for x1, y1 in right:
                ax.plot([x0, x1], [y0, y1], color="0.6", linewidth=0.8, zorder=1)
    names = ["input", *(f"hidden {k}" for k in range(1, len(sizes) - 1)), "output"]
    for k, column in enumerate(positions):
        color = "tab:green" if k == 0 else "tab:red" if k == len(sizes) - 1 else "tab:blue"
        for x, y in column:
            ax.add_patch(Circle((x, y), 0.18, facecolor=color, edgecolor="black", zorder=2))
    ax.set_xlim(-0.6, gap * (len(sizes) - 1) + 0.6)
    ax.set_ylim(-(tallest - 1) / 2 - 0.5, (tallest - 1) / 2 + 0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("layer")
    ax.set_ylabel("neuron")
    ax.set_xticks(  # one label per layer: its name and size on two lines
        [gap * k for k in range(len(sizes))],
        [f"{name}\n{n} neuron{'s' if n > 1 else ''}" for name, n in zip(names, sizes, strict=True)],
    )
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return ax
