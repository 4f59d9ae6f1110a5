r"""Attention written out in NumPy: scaled dot-product attention, multi-head attention, positions.

[`scaled_dot_product_attention`][dlguide.attention.scaled_dot_product_attention] is the core of a
transformer:

$$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}
+ M\right) V,$$

where the mask $M$ is $0$ where a query may look at a key and $-\infty$ where it may not.
[`causal_mask`][dlguide.attention.causal_mask] and [`padding_mask`][dlguide.attention.padding_mask]
build the two masks a transformer needs, as booleans (`True` = may attend, Keras' convention).

[`multi_head_attention`][dlguide.attention.multi_head_attention] runs $h$ attentions side by side on
learned projections and concatenates them. Its weights,
[`MultiHeadWeights`][dlguide.attention.MultiHeadWeights], have exactly the layout of
`keras.layers.MultiHeadAttention`, so the same numbers can be loaded into both and compared.
[`positional_encoding`][dlguide.attention.positional_encoding] is the sinusoidal encoding of
Vaswani et al. (2017), which gives an otherwise order-blind transformer the position of each token.

Arrays are computed in `float64`. Bad shapes, masks that do not fit, and NaN or infinity raise a
`ValueError` that names the argument.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dlguide._checks import as_bool_mask, as_finite_array, check_int, check_real

__all__ = [
    "MultiHeadWeights",
    "causal_mask",
    "init_multi_head_weights",
    "multi_head_attention",
    "padding_mask",
    "positional_encoding",
    "scaled_dot_product_attention",
    "softmax",
]

_MASKED = -1e9  # the score a masked key gets; Keras' softmax uses the same number


def softmax(scores: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    r"""Softmax along one axis, shifted by the maximum so that it never overflows.

    $$\operatorname{softmax}(s)_j = \frac{e^{s_j - \max_k s_k}}{\sum_i e^{s_i - \max_k s_k}}$$

    Args:
        scores: Real numbers, any shape with at least one axis.
        axis: The axis that sums to one.

    Returns:
        Weights of the shape of `scores`, each slice along `axis` summing to 1.

    Examples:
        >>> softmax([0.0, np.log(3.0)]).round(4)
        array([0.25, 0.75])
    """
    s = np.asarray(scores, dtype=np.float64)
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def scaled_dot_product_attention(
    query: ArrayLike, key: ArrayLike, value: ArrayLike, mask: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Scaled dot-product attention: each query takes a weighted average of the values.

    $$A = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right), \qquad
    \text{output} = A V$$

    Row $i$ of $A$ says how much query $i$ looks at each key. Where `mask` is `False` the score is
    replaced by $-10^9$, so that key gets weight 0 (as in Keras). A query whose keys are all masked
    gets equal weights on all of them.

    Args:
        query: $Q$, shape `(..., T_q, d_k)`.
        key: $K$, shape `(..., T_k, d_k)`.
        value: $V$, shape `(..., T_k, d_v)`.
        mask: Optional booleans broadcastable to `(..., T_q, T_k)`; `True` where query $i$ may
            attend to key $j$.

    Returns:
        `(output, weights)`: the output, shape `(..., T_q, d_v)`, and the attention weights $A$,
        shape `(..., T_q, T_k)`, each row summing to 1.

    Raises:
        ValueError: If the arrays have fewer than 2 axes, their sizes do not fit together, the
            mask does not broadcast to the scores, or a value is NaN or infinite.

    Examples:
        >>> q = np.array([[1.0, 0.0]])
        >>> k = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> v = np.array([[10.0], [20.0]])
        >>> out, weights = scaled_dot_product_attention(q, k, v)
        >>> weights.round(3)
        array([[0.67, 0.33]])
        >>> out.round(2)
        array([[13.3]])
    """
    q, k, v = _check_qkv(query, key, value)
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)  # (..., T_q, T_k)
    if mask is not None:
        scores = np.where(as_bool_mask(mask, "mask", scores.shape), scores, _MASKED)
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def causal_mask(length: int) -> NDArray[np.bool_]:
    r"""The causal (look-ahead) mask: position $i$ may attend to positions $j \le i$ only.

    $$M_{ij} = \begin{cases}\text{True} & j \le i \\ \text{False} & j > i\end{cases}$$

    Args:
        length: The sequence length $T$.

    Returns:
        A lower-triangular boolean array of shape `(T, T)`.

    Examples:
        >>> causal_mask(3).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    length = check_int(length, "length", 1)
    return np.tril(np.ones((length, length), dtype=bool))


def padding_mask(token_ids: ArrayLike, pad_id: int = 0) -> NDArray[np.bool_]:
    r"""The padding mask: no query attends to a padding token.

    $$M_{b,i,j} = [\,\text{token}_{b,j} \ne \text{pad}\,]$$

    Args:
        token_ids: Integer token ids, shape `(B, T)`.
        pad_id: The id used for padding.

    Returns:
        Booleans of shape `(B, 1, T)`: `True` at real tokens. The middle axis broadcasts over the
        queries, so the mask combines with a causal mask by `&`.

    Examples:
        >>> padding_mask([[5, 7, 0, 0]]).astype(int)
        array([[[1, 1, 0, 0]]])
    """
    ids = as_finite_array(token_ids, "token_ids", ndim=2, dtype=np.int64)
    pad_id = check_int(pad_id, "pad_id", 0)
    return (ids != pad_id)[:, None, :]


@dataclass(frozen=True)
class MultiHeadWeights:
    r"""The weights of a multi-head attention layer, in `keras.layers.MultiHeadAttention`'s layout.

    With $h$ heads, key size $d_k$ and value size $d_v$, each projection kernel holds one matrix
    per head: `q_kernel[:, i, :]` is head $i$'s $W^Q_i$. The field order is the order of
    `layer.get_weights()`.

    Attributes:
        q_kernel: $W^Q$, shape `(d_query, h, d_k)`.
        q_bias: shape `(h, d_k)`.
        k_kernel: $W^K$, shape `(d_key, h, d_k)`.
        k_bias: shape `(h, d_k)`.
        v_kernel: $W^V$, shape `(d_value, h, d_v)`.
        v_bias: shape `(h, d_v)`.
        out_kernel: $W^O$, shape `(h, d_v, d_out)`: the output projection of the concatenated heads.
        out_bias: shape `(d_out,)`.
    """

    q_kernel: NDArray[np.float64]
    q_bias: NDArray[np.float64]
    k_kernel: NDArray[np.float64]
    k_bias: NDArray[np.float64]
    v_kernel: NDArray[np.float64]
    v_bias: NDArray[np.float64]
    out_kernel: NDArray[np.float64]
    out_bias: NDArray[np.float64]

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, as_finite_array(getattr(self, f.name), f.name))
        shapes = {f.name: getattr(self, f.name).shape for f in fields(self)}
        wanted = {"q_kernel": 3, "k_kernel": 3, "v_kernel": 3, "out_kernel": 3}
        for name, ndim in wanted.items():
            if len(shapes[name]) != ndim:
                raise ValueError(f"{name} must have {ndim} dimensions, got shape {shapes[name]}")
        _, h, d_k = shapes["q_kernel"]
        d_v = shapes["v_kernel"][2]
        d_out = shapes["out_kernel"][2]
        expected = {
            "q_bias": (h, d_k),
            "k_kernel": (shapes["k_kernel"][0], h, d_k),
            "k_bias": (h, d_k),
            "v_kernel": (shapes["v_kernel"][0], h, d_v),
            "v_bias": (h, d_v),
            "out_kernel": (h, d_v, d_out),
            "out_bias": (d_out,),
        }
        for name, shape in expected.items():
            if shapes[name] != shape:
                raise ValueError(
                    f"{name} must have shape {shape} to fit q_kernel {shapes['q_kernel']}, "
                    f"got {shapes[name]}"
                )

    @property
    def num_heads(self) -> int:
        """The number of heads $h$."""
        return int(self.q_kernel.shape[1])

    @classmethod
    def from_keras(cls, weights: list[ArrayLike]) -> MultiHeadWeights:
        """The weights of a built `keras.layers.MultiHeadAttention`, from `layer.get_weights()`."""
        if len(weights) != len(fields(cls)):
            raise ValueError(
                f"expected the {len(fields(cls))} arrays of layer.get_weights() (a layer built "
                f"with use_bias=True), got {len(weights)}"
            )
        return cls(*(np.asarray(w) for w in weights))

    def to_keras(self) -> list[NDArray[np.float64]]:
        """The arrays in `layer.set_weights()` order."""
        return [getattr(self, f.name) for f in fields(self)]


def init_multi_head_weights(
    num_heads: int,
    key_dim: int,
    query_dim: int,
    *,
    value_input_dim: int | None = None,
    value_dim: int | None = None,
    output_dim: int | None = None,
    seed: int = 0,
) -> MultiHeadWeights:
    r"""Random multi-head attention weights: Glorot-uniform kernels and small random biases.

    Args:
        num_heads: $h$.
        key_dim: $d_k$, the size of each head's queries and keys.
        query_dim: The feature size of the query input.
        value_input_dim: The feature size of the key/value input (default: `query_dim`, i.e.
            self-attention).
        value_dim: $d_v$, the size of each head's values (default: `key_dim`, as in Keras).
        output_dim: The output feature size (default: `query_dim`, as in Keras).
        seed: Seed of the NumPy generator.

    Returns:
        A [`MultiHeadWeights`][dlguide.attention.MultiHeadWeights].

    Examples:
        >>> w = init_multi_head_weights(num_heads=2, key_dim=4, query_dim=8)
        >>> w.q_kernel.shape, w.out_kernel.shape, w.num_heads
        ((8, 2, 4), (2, 4, 8), 2)
    """
    h = check_int(num_heads, "num_heads", 1)
    d_k = check_int(key_dim, "key_dim", 1)
    d_q = check_int(query_dim, "query_dim", 1)
    d_in = d_q if value_input_dim is None else check_int(value_input_dim, "value_input_dim", 1)
    d_v = d_k if value_dim is None else check_int(value_dim, "value_dim", 1)
    d_out = d_q if output_dim is None else check_int(output_dim, "output_dim", 1)
    rng = np.random.default_rng(check_int(seed, "seed", 0))

    def glorot(fan_in: int, fan_out: int, shape: tuple[int, ...]) -> NDArray[np.float64]:
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)

    return MultiHeadWeights(
        q_kernel=glorot(d_q, h * d_k, (d_q, h, d_k)),
        q_bias=rng.normal(0.0, 0.1, size=(h, d_k)),
        k_kernel=glorot(d_in, h * d_k, (d_in, h, d_k)),
        k_bias=rng.normal(0.0, 0.1, size=(h, d_k)),
        v_kernel=glorot(d_in, h * d_v, (d_in, h, d_v)),
        v_bias=rng.normal(0.0, 0.1, size=(h, d_v)),
        out_kernel=glorot(h * d_v, d_out, (h, d_v, d_out)),
        out_bias=rng.normal(0.0, 0.1, size=(d_out,)),
    )


def multi_head_attention(
    query: ArrayLike,
    value: ArrayLike,
    weights: MultiHeadWeights,
    *,
    key: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    causal: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Multi-head attention: $h$ attentions on learned projections, concatenated and projected.

    $$\text{head}_i = \operatorname{Attention}(X_q W^Q_i + b^Q_i,\; X_k W^K_i + b^K_i,\;
    X_v W^V_i + b^V_i)$$
    $$\operatorname{MultiHead}(X_q, X_k, X_v) = [\text{head}_1, \dots, \text{head}_h]\, W^O + b^O$$

    This is what `keras.layers.MultiHeadAttention()(query, value, key, attention_mask,
    use_causal_mask=causal, return_attention_scores=True)` computes. Self-attention passes the same
    array as `query` and `value`; cross-attention (a decoder looking at an encoder) passes the
    decoder's states as `query` and the encoder's as `value`.

    Args:
        query: $X_q$, shape `(B, T_q, d_query)`.
        value: $X_v$, shape `(B, T_k, d_value)`.
        weights: The projections, see [`MultiHeadWeights`][dlguide.attention.MultiHeadWeights].
        key: $X_k$, shape `(B, T_k, d_key)`; default `value`.
        mask: Optional booleans broadcastable to `(B, T_q, T_k)`, `True` where attention is
            allowed (for example [`padding_mask`][dlguide.attention.padding_mask]).
        causal: If true, also apply [`causal_mask`][dlguide.attention.causal_mask] (needs
            `T_q == T_k`).

    Returns:
        `(output, scores)`: the output, shape `(B, T_q, d_out)`, and the attention weights of
        every head, shape `(B, h, T_q, T_k)`.

    Raises:
        ValueError: If an input is not 3-D, the batch sizes or feature sizes do not match the
            weights, the mask does not fit, `causal` is set with `T_q != T_k`, or a value is not
            finite.

    Examples:
        >>> w = init_multi_head_weights(num_heads=2, key_dim=4, query_dim=8)
        >>> x = np.random.default_rng(0).normal(size=(1, 5, 8))
        >>> out, scores = multi_head_attention(x, x, w, causal=True)
        >>> out.shape, scores.shape
        ((1, 5, 8), (1, 2, 5, 5))
        >>> bool(scores[0, :, 0, 1:].max() == 0.0)  # the first token sees only itself
        True
    """
    x_q, x_k, x_v = _check_mha_inputs(query, value, key, weights)
    batch, t_q, t_k = x_q.shape[0], x_q.shape[1], x_k.shape[1]
    allowed = np.ones((batch, t_q, t_k), dtype=bool)
    if mask is not None:
        allowed = allowed & as_bool_mask(mask, "mask", (batch, t_q, t_k))
    if causal:
        if t_q != t_k:
            raise ValueError(f"causal=True needs T_q == T_k, got T_q={t_q} and T_k={t_k}")
        allowed = allowed & causal_mask(t_q)

    # Per-head projections: (B, T, d) x (d, h, d_k) -> (B, h, T, d_k)
    q = np.einsum("btd,dhk->bhtk", x_q, weights.q_kernel) + weights.q_bias[:, None, :]
    k = np.einsum("btd,dhk->bhtk", x_k, weights.k_kernel) + weights.k_bias[:, None, :]
    v = np.einsum("btd,dhk->bhtk", x_v, weights.v_kernel) + weights.v_bias[:, None, :]

    heads, scores = scaled_dot_product_attention(q, k, v, allowed[:, None])  # (B, h, T_q, d_v)

    # Concatenate the heads, then project: (B, T_q, h * d_v) @ (h * d_v, d_out)
    h, d_v, d_out = weights.out_kernel.shape
    concat = heads.transpose(0, 2, 1, 3).reshape(batch, t_q, h * d_v)
    output = concat @ weights.out_kernel.reshape(h * d_v, d_out) + weights.out_bias
    return output, scores


def positional_encoding(length: int, depth: int, base: float = 10_000.0) -> NDArray[np.float64]:
    r"""The sinusoidal positional encoding of Vaswani et al. (2017).

    $$PE_{p,\,2i} = \sin\!\left(\frac{p}{\text{base}^{2i/d}}\right), \qquad
    PE_{p,\,2i+1} = \cos\!\left(\frac{p}{\text{base}^{2i/d}}\right)$$

    Each pair of columns is a sine and a cosine of one frequency; frequencies fall geometrically
    from 1 to $1/\text{base}$ across the $d$ columns, so every position gets a distinct pattern and
    $PE_{p+k}$ is a fixed rotation of $PE_p$.

    Args:
        length: Number of positions $p = 0, \dots, T-1$.
        depth: The model size $d$ (columns); odd $d$ ends with a sine column.
        base: The wavelength scale (10,000 in the paper).

    Returns:
        An array of shape `(length, depth)` with values in $[-1, 1]$.

    Examples:
        >>> positional_encoding(3, 4).round(3)
        array([[ 0.   ,  1.   ,  0.   ,  1.   ],
               [ 0.841,  0.54 ,  0.01 ,  1.   ],
               [ 0.909, -0.416,  0.02 ,  1.   ]])
    """
    length = check_int(length, "length", 1)
    depth = check_int(depth, "depth", 1)
    base = check_real(base, "base", positive=True)
    positions = np.arange(length)[:, None]  # (T, 1)
    pair = np.arange(depth)[None, :] // 2  # column j belongs to frequency pair i = j // 2
    angles = positions / base ** (2 * pair / depth)  # (T, d)
    return np.where(np.arange(depth) % 2 == 0, np.sin(angles), np.cos(angles))


# ----------------------------------------------------------------------------- input checks


def _check_qkv(
    query: ArrayLike, key: ArrayLike, value: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    q, k, v = (as_finite_array(a, n) for a, n in ((query, "query"), (key, "key"), (value, "value")))
    for array, name in ((q, "query"), (k, "key"), (v, "value")):
        if array.ndim < 2:
            raise ValueError(
                f"{name} must have at least 2 axes (..., T, d), got shape {array.shape}"
            )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"query and key must have the same last axis d_k, got query {q.shape} and key {k.shape}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"key and value must have the same number of positions T_k, got key {k.shape} "
            f"and value {v.shape}"
        )
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError as error:
        raise ValueError(
            f"the leading (batch) axes of query {q.shape}, key {k.shape} and value {v.shape} "
            "do not broadcast"
        ) from error
    return q, k, v


def _check_mha_inputs(
    query: ArrayLike, value: ArrayLike, key: ArrayLike | None, weights: MultiHeadWeights
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    if not isinstance(weights, MultiHeadWeights):
        raise TypeError(f"weights must be MultiHeadWeights, got {type(weights).__name__}")
    x_q = as_finite_array(query, "query", ndim=3)
    x_v = as_finite_array(value, "value", ndim=3)
    x_k = x_v if key is None else as_finite_array(key, "key", ndim=3)
    for array, name, kernel in (
        (x_q, "query", weights.q_kernel),
        (x_k, "key", weights.k_kernel),
        (x_v, "value", weights.v_kernel),
    ):
        if array.shape[0] != x_q.shape[0]:
            raise ValueError(
                f"{name} must have the batch size of query ({x_q.shape[0]}), "
                f"got shape {array.shape}"
            )
        if array.shape[2] != kernel.shape[0]:
            raise ValueError(
                f"{name} has {array.shape[2]} features but its projection expects "
                f"{kernel.shape[0]} (kernel shape {kernel.shape})"
            )
    if x_k.shape[1] != x_v.shape[1]:
        raise ValueError(
            f"key and value must have the same number of positions, got {x_k.shape} and {x_v.shape}"
        )
    return x_q, x_k, x_v
