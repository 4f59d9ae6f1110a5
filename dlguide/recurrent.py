r"""Recurrent layers by hand: SimpleRNN, LSTM and GRU in NumPy, in Keras' own conventions.

A recurrent layer applies one **cell** at every time step, carrying a state from step to step:
$h_t = \text{cell}(x_t, h_{t-1})$ with $h_0 = 0$. The cells below are written from their
equations with the weight layout of `keras.layers.SimpleRNN`, `LSTM` and `GRU`, so that the
weights of a trained Keras layer (`layer.get_weights()`) plug straight in:

| layer | `kernel` | `recurrent_kernel` | `bias` | gate order |
| --- | --- | --- | --- | --- |
| SimpleRNN | $(d, n)$ | $(n, n)$ | $(n,)$ | — |
| LSTM | $(d, 4n)$ | $(n, 4n)$ | $(4n,)$ | input $i$, forget $f$, candidate $g$, output $o$ |
| GRU | $(d, 3n)$ | $(n, 3n)$ | $(2, 3n)$: $b^x$, $b^h$ | update $z$, reset $r$, $\tilde h$ |

with $d$ input features and $n$ units. Inputs are batches of sequences, shape
`(batch, time, features)`. The layer functions
([`simple_rnn`][dlguide.recurrent.simple_rnn], [`lstm`][dlguide.recurrent.lstm],
[`gru`][dlguide.recurrent.gru]) check their inputs and unroll the cell with a Python loop over
time: the loop *is* the recurrence. [`state_gradient_norms`][dlguide.recurrent.state_gradient_norms]
measures how far the gradient travels back through that loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dlguide._checks import as_finite_array
from dlguide.activations import _FORMULAS

__all__ = [
    "gru",
    "gru_cell",
    "lstm",
    "lstm_cell",
    "simple_rnn",
    "simple_rnn_cell",
    "state_gradient_norms",
]

Array = NDArray[np.float64]


_sigmoid = _FORMULAS["sigmoid"]  # the book's one sigmoid, from dlguide.activations


# --------------------------------------------------------------------------------------------------
# Cells: one time step (inputs are trusted; the layer functions check them)
# --------------------------------------------------------------------------------------------------


def simple_rnn_cell(
    x_t: Array, h_prev: Array, kernel: Array, recurrent_kernel: Array, bias: Array
) -> Array:
    r"""One step of a simple (Elman) recurrent cell.

    $$h_t = \tanh(x_t W + h_{t-1} U + b)$$

    Args:
        x_t: Inputs at step $t$, shape `(batch, d)`.
        h_prev: Previous state $h_{t-1}$, shape `(batch, n)`.
        kernel: $W$, shape `(d, n)`.
        recurrent_kernel: $U$, shape `(n, n)`.
        bias: $b$, shape `(n,)`.

    Returns:
        The new state $h_t$, shape `(batch, n)`; it is also the output.

    Examples:
        >>> x_t, h_prev = np.ones((1, 2)), np.zeros((1, 1))
        >>> simple_rnn_cell(x_t, h_prev, np.ones((2, 1)), np.ones((1, 1)), np.zeros(1)).round(4)
        array([[0.964]])
    """
    return np.tanh(x_t @ kernel + h_prev @ recurrent_kernel + bias)


def lstm_cell(
    x_t: Array,
    state: tuple[Array, Array],
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
) -> tuple[Array, Array]:
    r"""One step of a long short-term memory cell (Hochreiter & Schmidhuber, 1997), as in Keras.

    With $[\,\cdot\,]_k$ the $k$-th block of $n$ columns (Keras' order $i, f, g, o$):

    $$\begin{aligned}
    i_t &= \sigma([x_t W + h_{t-1} U + b]_1), &
    f_t &= \sigma([x_t W + h_{t-1} U + b]_2), \\
    g_t &= \tanh([x_t W + h_{t-1} U + b]_3), &
    o_t &= \sigma([x_t W + h_{t-1} U + b]_4), \\
    c_t &= f_t \odot c_{t-1} + i_t \odot g_t, &
    h_t &= o_t \odot \tanh(c_t).
    \end{aligned}$$

    The cell state $c_t$ is updated by addition, gated by $f_t$; that path is what lets gradients
    survive many steps.

    Args:
        x_t: Inputs at step $t$, shape `(batch, d)`.
        state: $(h_{t-1}, c_{t-1})$, each of shape `(batch, n)`.
        kernel: $W$, shape `(d, 4n)`.
        recurrent_kernel: $U$, shape `(n, 4n)`.
        bias: $b$, shape `(4n,)`.

    Returns:
        $(h_t, c_t)$, each of shape `(batch, n)`; $h_t$ is the output.

    Examples:
        >>> h, c = lstm_cell(np.ones((1, 1)), (np.zeros((1, 1)), np.zeros((1, 1))),
        ...                  np.ones((1, 4)), np.zeros((1, 4)), np.zeros(4))
        >>> round(float(c[0, 0]), 4), round(float(h[0, 0]), 4)  # c = σ(1)·tanh(1)
        (0.5568, 0.3696)
    """
    h_prev, c_prev = state
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias  # (batch, 4n)
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
    i, f, g, o = _sigmoid(z_i), _sigmoid(z_f), np.tanh(z_g), _sigmoid(z_o)
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c


def gru_cell(
    x_t: Array, h_prev: Array, kernel: Array, recurrent_kernel: Array, bias: Array
) -> Array:
    r"""One step of a gated recurrent unit (Cho et al., 2014), Keras' `reset_after=True` variant.

    With input bias $b^x$ and recurrent bias $b^h$ (the two rows of `bias`) and Keras' block
    order $z, r, \tilde h$:

    $$\begin{aligned}
    z_t &= \sigma([x_t W + b^x]_1 + [h_{t-1} U + b^h]_1), \\
    r_t &= \sigma([x_t W + b^x]_2 + [h_{t-1} U + b^h]_2), \\
    \tilde h_t &= \tanh\big([x_t W + b^x]_3 + r_t \odot [h_{t-1} U + b^h]_3\big), \\
    h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t.
    \end{aligned}$$

    "Reset after" means the reset gate multiplies $h_{t-1}U + b^h$ *after* the matrix product,
    which is what cuDNN computes; the original paper resets $h_{t-1}$ before it.

    Args:
        x_t: Inputs at step $t$, shape `(batch, d)`.
        h_prev: Previous state $h_{t-1}$, shape `(batch, n)`.
        kernel: $W$, shape `(d, 3n)`.
        recurrent_kernel: $U$, shape `(n, 3n)`.
        bias: $(b^x, b^h)$, shape `(2, 3n)`.

    Returns:
        The new state $h_t$, shape `(batch, n)`; it is also the output.

    Examples:
        >>> h = gru_cell(np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 3)), np.zeros((1, 3)),
        ...              np.zeros((2, 3)))
        >>> round(float(h[0, 0]), 4)  # (1 - σ(1)) · tanh(1)
        0.2048
    """
    x_z, x_r, x_h = np.split(x_t @ kernel + bias[0], 3, axis=-1)
    h_z, h_r, h_h = np.split(h_prev @ recurrent_kernel + bias[1], 3, axis=-1)
    z = _sigmoid(x_z + h_z)
    r = _sigmoid(x_r + h_r)
    candidate = np.tanh(x_h + r * h_h)
    return z * h_prev + (1.0 - z) * candidate


# --------------------------------------------------------------------------------------------------
# Layers: the cell unrolled over time
# --------------------------------------------------------------------------------------------------


def _check_layer(
    x: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike,
    gates: int,
    bias_rows: int | None,
) -> tuple[Array, Array, Array, Array]:
    """Validated float64 arrays; raises ValueError naming the shape that was expected."""
    x_ = as_finite_array(x, "x", ndim=3)
    w = as_finite_array(kernel, "kernel", ndim=2)
    u = as_finite_array(recurrent_kernel, "recurrent_kernel", ndim=2)
    b = as_finite_array(bias, "bias", ndim=1 if bias_rows is None else 2)
    units, rem = divmod(w.shape[1], gates)
    if rem:
        raise ValueError(f"kernel must have {gates}·units columns, got shape {w.shape}")
    if w.shape[0] != x_.shape[2]:
        raise ValueError(
            f"x has {x_.shape[2]} features per step but kernel expects {w.shape[0]} "
            f"(x shape {x_.shape}, kernel shape {w.shape})"
        )
    if u.shape != (units, gates * units):
        raise ValueError(
            f"recurrent_kernel must have shape {(units, gates * units)}, got {u.shape}"
        )
    want_b = (gates * units,) if bias_rows is None else (bias_rows, gates * units)
    if b.shape != want_b:
        raise ValueError(f"bias must have shape {want_b}, got {b.shape}")
    return x_, w, u, b


def _unroll(
    step: Callable[[Array, Any], tuple[Array, Any]],
    x: Array,
    state: Any,
    return_sequences: bool,
) -> Array:
    """Apply `step(x_t, state) -> (output, state)` for t = 1..T; last output or all outputs."""
    outputs = []
    for t in range(x.shape[1]):
        output, state = step(x[:, t, :], state)
        outputs.append(output)
    return np.stack(outputs, axis=1) if return_sequences else outputs[-1]


def simple_rnn(
    x: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike,
    *,
    return_sequences: bool = False,
) -> Array:
    r"""A SimpleRNN layer: [`simple_rnn_cell`][dlguide.recurrent.simple_rnn_cell] over time.

    The state starts at $h_0 = 0$.

    Equal to `keras.layers.SimpleRNN(n, return_sequences=...)` with weights
    `[kernel, recurrent_kernel, bias]` (its `get_weights()`).

    Args:
        x: Sequences, shape `(batch, T, d)`, $T \ge 1$.
        kernel: $W$, shape `(d, n)`.
        recurrent_kernel: $U$, shape `(n, n)`.
        bias: $b$, shape `(n,)`.
        return_sequences: Return every $h_t$, shape `(batch, T, n)`, instead of only $h_T$,
            shape `(batch, n)`.

    Returns:
        $h_T$ or $(h_1, \dots, h_T)$.

    Raises:
        ValueError: If an array has the wrong rank or shape, is empty (e.g. $T = 0$) or holds
            NaN or infinity.

    Examples:
        >>> x = np.ones((2, 3, 1))
        >>> simple_rnn(x, [[0.5]], [[0.5]], [0.0], return_sequences=True)[0, :, 0].round(3).tolist()
        [0.462, 0.624, 0.671]
    """
    x_, w, u, b = _check_layer(x, kernel, recurrent_kernel, bias, 1, None)
    h0 = np.zeros((x_.shape[0], w.shape[1]))

    def step(x_t: Array, h: Array) -> tuple[Array, Array]:
        h = simple_rnn_cell(x_t, h, w, u, b)
        return h, h

    return _unroll(step, x_, h0, return_sequences)


def lstm(
    x: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike,
    *,
    return_sequences: bool = False,
) -> Array:
    r"""An LSTM layer: [`lstm_cell`][dlguide.recurrent.lstm_cell] over time, $h_0 = c_0 = 0$.

    Equal to `keras.layers.LSTM(n, return_sequences=...)` with weights
    `[kernel, recurrent_kernel, bias]`.

    Args:
        x: Sequences, shape `(batch, T, d)`, $T \ge 1$.
        kernel: $W$, shape `(d, 4n)`.
        recurrent_kernel: $U$, shape `(n, 4n)`.
        bias: $b$, shape `(4n,)`.
        return_sequences: Return every $h_t$ instead of only $h_T$.

    Returns:
        $h_T$, shape `(batch, n)`, or $(h_1, \dots, h_T)$, shape `(batch, T, n)`.

    Raises:
        ValueError: If an array has the wrong rank or shape, is empty or holds NaN or infinity.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> lstm(rng.normal(size=(2, 5, 3)), rng.normal(size=(3, 8)), rng.normal(size=(2, 8)),
        ...      np.zeros(8)).shape
        (2, 2)
    """
    x_, w, u, b = _check_layer(x, kernel, recurrent_kernel, bias, 4, None)
    zeros = np.zeros((x_.shape[0], u.shape[0]))

    def step(x_t: Array, state: tuple[Array, Array]) -> tuple[Array, tuple[Array, Array]]:
        h, c = lstm_cell(x_t, state, w, u, b)
        return h, (h, c)

    return _unroll(step, x_, (zeros, zeros), return_sequences)


def gru(
    x: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike,
    *,
    return_sequences: bool = False,
) -> Array:
    r"""A GRU layer: [`gru_cell`][dlguide.recurrent.gru_cell] over time, $h_0 = 0$.

    Equal to `keras.layers.GRU(n, return_sequences=...)` (whose default is `reset_after=True`)
    with weights `[kernel, recurrent_kernel, bias]`.

    Args:
        x: Sequences, shape `(batch, T, d)`, $T \ge 1$.
        kernel: $W$, shape `(d, 3n)`.
        recurrent_kernel: $U$, shape `(n, 3n)`.
        bias: $(b^x, b^h)$, shape `(2, 3n)`.
        return_sequences: Return every $h_t$ instead of only $h_T$.

    Returns:
        $h_T$, shape `(batch, n)`, or $(h_1, \dots, h_T)$, shape `(batch, T, n)`.

    Raises:
        ValueError: If an array has the wrong rank or shape, is empty or holds NaN or infinity.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> gru(rng.normal(size=(2, 5, 3)), rng.normal(size=(3, 6)), rng.normal(size=(2, 6)),
        ...     np.zeros((2, 6)), return_sequences=True).shape
        (2, 5, 2)
    """
    x_, w, u, b = _check_layer(x, kernel, recurrent_kernel, bias, 3, 2)
    h0 = np.zeros((x_.shape[0], u.shape[0]))

    def step(x_t: Array, h: Array) -> tuple[Array, Array]:
        h = gru_cell(x_t, h, w, u, b)
        return h, h

    return _unroll(step, x_, h0, return_sequences)


# --------------------------------------------------------------------------------------------------
# Backpropagation through time, measured
# --------------------------------------------------------------------------------------------------


def state_gradient_norms(cell: Any, x: ArrayLike) -> Array:
    r"""Norms $\lVert \partial L / \partial h_t \rVert$, $t = 1, \dots, T$, of a Keras cell on `x`.

    The cell (e.g. `keras.layers.LSTMCell(n)`) is unrolled from a zero state, and the loss
    depends on the last state only: $L = \tfrac12 \lVert h_T \rVert^2$ summed over the batch.
    Backpropagation through time gives

    $$\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}
    \prod_{k=t+1}^{T} \frac{\partial h_k}{\partial h_{k-1}},$$

    a product of $T - t$ Jacobians, which shrinks (vanishes) or grows (explodes) geometrically
    with the distance $T - t$. To get every $\partial L/\partial h_t$ from one backward pass, a
    nudge $\varepsilon_t$ is added to each state as the cell produces it, $h_t \to h_t +
    \varepsilon_t$: the gradient of $L$ with respect to $\varepsilon_t$ at $\varepsilon = 0$ is
    $\partial L/\partial h_t$. [`gradient_of`][dlguide.diagnostics.gradient_of] takes it with the
    active Keras backend's automatic differentiation (TensorFlow, JAX or PyTorch).

    Args:
        cell: A Keras recurrent cell: `SimpleRNNCell`, `LSTMCell` or `GRUCell`, built or not.
        x: Inputs, shape `(batch, T, d)`.

    Returns:
        Shape `(T,)`: entry `t - 1` is the Frobenius norm of $\partial L/\partial h_t$ over the
        batch.

    Raises:
        ValueError: If `x` is not a non-empty finite 3-D array.

    Examples:
        >>> import keras
        >>> norms = state_gradient_norms(keras.layers.SimpleRNNCell(4), np.ones((2, 6, 3)))
        >>> norms.shape, bool(norms[-1] > 0)
        ((6,), True)
    """
    import keras

    from dlguide.diagnostics import gradient_of

    x = as_finite_array(x, "x", ndim=3).astype("float32")
    batch, steps, features = x.shape
    if not cell.built:
        cell.build((None, features))  # create the weights outside the differentiated function
    sizes = cell.state_size if isinstance(cell.state_size, list | tuple) else [cell.state_size]

    def last_state_loss(nudges: Any) -> Any:  # nudges: (T, batch, units), one per state h_t
        state = [keras.ops.zeros((batch, size)) for size in sizes]
        for t in range(steps):
            h, new_state = cell(x[:, t, :], state)
            h = h + nudges[t]
            state = [h, *keras.tree.flatten(new_state)[1:]]  # an LSTM also carries c_t
        return 0.5 * keras.ops.sum(h**2)

    grads = gradient_of(last_state_loss, np.zeros((steps, batch, sizes[0])))
    return np.linalg.norm(grads.reshape(steps, -1), axis=1).astype(np.float64)
