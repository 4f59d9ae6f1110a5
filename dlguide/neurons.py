r"""Artificial neurons and forward propagation, from scratch in NumPy.

A neuron takes inputs $x_1, \dots, x_n$, forms the weighted sum $z = \sum_i w_i x_i + b$ and passes
it through an activation function, here the sigmoid $a = \sigma(z) = 1 / (1 + e^{-z})$. A layer of
neurons does the same for every neuron at once: with a weight matrix $W$ of shape
`(n_inputs, n_nodes)` and a bias vector $b$ of shape `(n_nodes,)`,

$$ z = x W + b, \qquad a = \sigma(z). $$

Forward propagation feeds the input through every layer in turn; the activations of the last layer
are the network's output.

A network is a list of layers; each layer is a dict with the weight matrix `"weights"` and the bias
vector `"biases"`. Plain data, so you can print it, edit it and load published weights into it.

Examples:
    >>> import numpy as np
    >>> from dlguide.neurons import forward_propagate, layer_from_weights
    >>> network = [
    ...     layer_from_weights([[0.9, 0.46], [0.42, 0.92]], [0.06, 0.34]),
    ...     layer_from_weights([[0.66], [0.05]], [0.42]),
    ... ]
    >>> output, _ = forward_propagate(network, [0.5, 0.85])
    >>> round(float(output[0]), 4)
    0.7159
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_finite_array, check_int

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "Layer",
    "compute_weighted_sum",
    "draw_network",
    "forward_propagate",
    "initialize_network",
    "layer_from_weights",
    "node_activation",
]

FloatArray = NDArray[np.float64]


class Layer(TypedDict):
    """One dense layer: `weights` has shape `(n_inputs, n_nodes)`, `biases` `(n_nodes,)`."""

    weights: FloatArray
    biases: FloatArray


def compute_weighted_sum(inputs: ArrayLike, weights: ArrayLike, bias: ArrayLike) -> FloatArray:
    r"""Weighted sum of the inputs of every node in a layer.

    $$ z_j = \sum_i x_i \, w_{ij} + b_j \quad\Longleftrightarrow\quad z = x W + b $$

    Args:
        inputs: The layer's inputs $x$, shape `(n_inputs,)`.
        weights: The weight matrix $W$, shape `(n_inputs, n_nodes)`; column $j$ holds the weights
            of node $j$.
        bias: The biases $b$, shape `(n_nodes,)`.

    Returns:
        The weighted sums $z$, shape `(n_nodes,)`.

    Raises:
        ValueError: If the shapes do not line up or a value is not finite.

    Examples:
        >>> compute_weighted_sum([0.5, 0.85], [[0.9], [0.42]], [0.06])
        array([0.867])
    """
    x = as_finite_array(inputs, "inputs", ndim=1)
    w = as_finite_array(weights, "weights", ndim=2)
    b = as_finite_array(bias, "bias", ndim=1)
    if w.shape[0] != x.shape[0]:
        raise ValueError(
            f"weights must have one row per input: expected {x.shape[0]} rows for "
            f"{x.shape[0]} inputs, got weights of shape {w.shape}"
        )
    if b.shape[0] != w.shape[1]:
        raise ValueError(
            f"bias must have one entry per node: expected shape ({w.shape[1]},), got {b.shape}"
        )
    return x @ w + b


def node_activation(weighted_sum: ArrayLike) -> FloatArray:
    r"""Sigmoid activation of a node (or of every node of a layer at once).

    $$ a = \sigma(z) = \frac{1}{1 + e^{-z}} $$

    Computed as $\tfrac12 (1 + \tanh(z/2))$, which is the same function but cannot overflow.

    Args:
        weighted_sum: The weighted sum(s) $z$, any shape.

    Returns:
        The activations $a \in (0, 1)$, same shape as the input.

    Raises:
        ValueError: If a value is not finite.

    Examples:
        >>> round(float(node_activation(0.867)), 4)
        0.7041
    """
    z = np.asarray(weighted_sum, dtype=np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError(f"weighted_sum must contain only finite values, got {z!r}")
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def layer_from_weights(weights: ArrayLike, biases: ArrayLike) -> Layer:
    """Build a layer from given weights, checking that the shapes agree.

    Args:
        weights: Weight matrix, shape `(n_inputs, n_nodes)`.
        biases: Bias vector, shape `(n_nodes,)`.

    Returns:
        The layer as a dict with float64 `"weights"` and `"biases"`.

    Raises:
        ValueError: If the shapes disagree or a value is not finite.

    Examples:
        >>> layer = layer_from_weights([[0.66], [0.05]], [0.42])
        >>> layer["weights"].shape, layer["biases"].shape
        ((2, 1), (1,))
    """
    w = as_finite_array(weights, "weights", ndim=2)
    b = as_finite_array(biases, "biases", ndim=1)
    if b.shape[0] != w.shape[1]:
        raise ValueError(
            f"biases must have one entry per node (column of weights): expected shape "
            f"({w.shape[1]},), got {b.shape}"
        )
    return {"weights": w, "biases": b}


def initialize_network(
    num_inputs: int,
    num_hidden_layers: int,
    num_nodes_hidden: int | Sequence[int],
    num_nodes_output: int,
    *,
    seed: int | None = 0,
) -> list[Layer]:
    r"""Create a fully connected network with random weights and biases.

    Every weight and bias is drawn uniformly from $[0, 1)$, as in the course this book follows, from
    a seeded generator so the same arguments always give the same network.

    Args:
        num_inputs: Number of inputs $n_0$.
        num_hidden_layers: Number of hidden layers $L$ (0 for no hidden layer).
        num_nodes_hidden: Nodes per hidden layer: one int for all of them, or one int per layer.
        num_nodes_output: Number of output nodes.
        seed: Seed for `numpy.random.default_rng`; `None` draws fresh randomness.

    Returns:
        A list of $L + 1$ layers; layer $k$ has weights of shape $(n_{k-1}, n_k)$.

    Raises:
        TypeError: If a count is not an int.
        ValueError: If a count is below 1 (0 allowed for `num_hidden_layers`) or
            `num_nodes_hidden` lists the wrong number of layers.

    Examples:
        >>> network = initialize_network(5, 3, [3, 2, 3], 1)
        >>> [layer["weights"].shape for layer in network]
        [(5, 3), (3, 2), (2, 3), (3, 1)]
    """
    n_inputs = check_int(num_inputs, "num_inputs", 1)
    n_hidden = check_int(num_hidden_layers, "num_hidden_layers", 0)
    n_output = check_int(num_nodes_output, "num_nodes_output", 1)
    if isinstance(num_nodes_hidden, Sequence) and not isinstance(num_nodes_hidden, str):
        hidden = [check_int(n, "num_nodes_hidden[i]", 1) for n in num_nodes_hidden]
        if len(hidden) != n_hidden:
            raise ValueError(
                f"num_nodes_hidden must list {n_hidden} layer sizes (one per hidden layer), "
                f"got {len(hidden)}: {list(num_nodes_hidden)}"
            )
    else:
        hidden = [check_int(num_nodes_hidden, "num_nodes_hidden", 1)] * n_hidden

    rng = np.random.default_rng(seed)
    sizes = [n_inputs, *hidden, n_output]
    return [
        {"weights": rng.uniform(size=(n_in, n_out)), "biases": rng.uniform(size=n_out)}
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def forward_propagate(
    network: Sequence[Layer], inputs: ArrayLike
) -> tuple[FloatArray, list[FloatArray]]:
    r"""Feed `inputs` through every layer of `network`.

    For each layer $k$: $z^{(k)} = a^{(k-1)} W^{(k)} + b^{(k)}$ and $a^{(k)} = \sigma(z^{(k)})$,
    starting from $a^{(0)} = x$.

    Args:
        network: Layers as returned by [`initialize_network`][dlguide.neurons.initialize_network]
            or built with [`layer_from_weights`][dlguide.neurons.layer_from_weights].
        inputs: One input vector $x$, shape `(n_inputs,)`.

    Returns:
        A pair `(output, activations)`: the output layer's activations, shape `(n_output,)`, and
        the list of every layer's activations $[a^{(0)}, a^{(1)}, \dots]$ (input included), for
        inspecting what each layer computed.

    Raises:
        ValueError: If the network is empty, a layer's shapes do not match the previous layer, the
            input has the wrong length, or a value is not finite.

    Examples:
        >>> network = initialize_network(2, 1, 2, 1)
        >>> output, activations = forward_propagate(network, [0.5, 0.85])
        >>> [a.shape for a in activations]
        [(2,), (2,), (1,)]
    """
    if isinstance(network, dict) or not isinstance(network, Sequence):
        raise TypeError(f"network must be a list of layers, got {type(network).__name__}")
    if len(network) == 0:
        raise ValueError("network must have at least one layer, got an empty list")
    for index, layer in enumerate(network):
        if not isinstance(layer, dict) or {"weights", "biases"} - set(layer):
            raise ValueError(
                f"layer {index} must be a dict with 'weights' and 'biases', got {layer!r}"
            )
    x = as_finite_array(inputs, "inputs", ndim=1)
    expected = as_finite_array(network[0]["weights"], "layer 0 weights", ndim=2).shape[0]
    if x.shape[0] != expected:
        raise ValueError(
            f"inputs must have length {expected} (the first layer's number of weight rows), "
            f"got length {x.shape[0]}"
        )
    activations = [x]
    for index, layer in enumerate(network):
        try:
            z = compute_weighted_sum(activations[-1], layer["weights"], layer["biases"])
        except ValueError as error:
            raise ValueError(f"layer {index}: {error}") from None
        activations.append(node_activation(z))
    return activations[-1], activations


def draw_network(layer_sizes: Sequence[int], ax: Axes | None = None) -> Axes:
    """Draw the structure of a fully connected network: one circle per neuron, one line per weight.

    Args:
        layer_sizes: Neurons per layer, input layer first, e.g. `[5, 3, 2, 3, 1]`.
        ax: Matplotlib axes to draw on; a new figure is created if omitted.

    Returns:
        The axes, with one circle patch per neuron and one line per connection.

    Raises:
        TypeError: If a size is not an int.
        ValueError: If fewer than two layers are given or a size is below 1.

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
        _, ax = plt.subplots(figsize=(1.6 * len(sizes), 0.8 * max(sizes) + 1))

    tallest = max(sizes)
    positions = [[(float(k), (n - 1) / 2 - i) for i in range(n)] for k, n in enumerate(sizes)]
    for left, right in zip(positions[:-1], positions[1:], strict=True):
        for x0, y0 in left:
            for x1, y1 in right:
                ax.plot([x0, x1], [y0, y1], color="0.6", linewidth=0.8, zorder=1)
    names = ["input", *(f"hidden {k}" for k in range(1, len(sizes) - 1)), "output"]
    for k, column in enumerate(positions):
        color = "tab:green" if k == 0 else "tab:red" if k == len(sizes) - 1 else "tab:blue"
        for x, y in column:
            ax.add_patch(Circle((x, y), 0.18, facecolor=color, edgecolor="black", zorder=2))
        ax.annotate(names[k], (k, -(tallest - 1) / 2 - 0.6), ha="center", va="top")
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-(tallest - 1) / 2 - 1.0, (tallest - 1) / 2 + 0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("layer")
    ax.set_ylabel("neuron")
    ax.set_xticks(range(len(sizes)), [f"{n} neurons" for n in sizes])
    ax.set_yticks([])
    return ax
