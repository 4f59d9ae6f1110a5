"""Tests for dlguide.attention: NumPy attention against Keras with the same weights.

Keras computes in float32, dlguide in float64, so outputs and attention scores are compared with
atol 1e-5 (the observed gap is about 1e-7). Causality is checked exactly: in float64 a masked key
gets a weight of exactly 0, so a future token cannot change an earlier output by even one bit.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from dlguide import attention as att

ATOL = 1e-5  # float32 Keras against float64 NumPy


def keras_mha(weights: att.MultiHeadWeights, query, value, key=None, **call_kwargs):
    """A Keras MultiHeadAttention holding `weights`, called like ours; returns (output, scores)."""
    h, d_k = weights.q_bias.shape
    layer = keras.layers.MultiHeadAttention(
        num_heads=h,
        key_dim=d_k,
        value_dim=weights.v_bias.shape[1],
        output_shape=weights.out_bias.shape[0],
    )
    layer(query, value, key=key)  # builds the layer
    layer.set_weights(weights.to_keras())
    out, scores = layer(query, value, key=key, return_attention_scores=True, **call_kwargs)
    return keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(scores)


# id: (heads, key_dim, value_dim, d_query, d_kv, T_q, T_k, self-attention?)
CONFIGS = [
    pytest.param(1, 4, None, 8, 8, 5, 5, True, id="self-1head-dk4"),
    pytest.param(2, 8, None, 16, 16, 6, 6, True, id="self-2heads-dk8"),
    pytest.param(4, 3, 5, 12, 12, 7, 7, True, id="self-4heads-dk3-dv5"),
    pytest.param(8, 16, None, 32, 32, 4, 4, True, id="self-8heads-dk16"),
    pytest.param(2, 4, None, 8, 6, 5, 9, False, id="cross-2heads-dk4"),
    pytest.param(3, 6, 2, 10, 7, 3, 8, False, id="cross-3heads-dk6-dv2"),
]


def inputs(d_query, d_kv, t_q, t_k, self_attention, batch=3, seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(batch, t_q, d_query)).astype("float32")
    value = query if self_attention else rng.normal(size=(batch, t_k, d_kv)).astype("float32")
    return query, value


def pad_lengths_mask(batch, t_q, t_k, seed=1):
    """A padding mask over keys: sequence b has a random length >= 1 (padding at the end)."""
    lengths = np.random.default_rng(seed).integers(1, t_k + 1, size=batch)
    ids = (np.arange(t_k)[None, :] < lengths[:, None]).astype(int)  # 1 = token, 0 = padding
    return np.broadcast_to(att.padding_mask(ids), (batch, t_q, t_k))


# Every configuration with every mask, except causal masks where T_q != T_k (they do not exist).
CONFIGS_WITH_MASKS = [
    pytest.param(*config.values, masking, id=f"{config.id}-{masking}")
    for config in CONFIGS
    for masking in ["none", "padding", "causal", "padding+causal"]
    if "causal" not in masking or config.values[5] == config.values[6]
]


@pytest.mark.parametrize(
    ("h", "d_k", "d_v", "d_q", "d_kv", "t_q", "t_k", "self_att", "masking"), CONFIGS_WITH_MASKS
)
def test_multi_head_attention_matches_keras(h, d_k, d_v, d_q, d_kv, t_q, t_k, self_att, masking):
    query, value = inputs(d_q, d_kv, t_q, t_k, self_att)
    weights = att.init_multi_head_weights(
        h, d_k, d_q, value_input_dim=d_kv, value_dim=d_v, seed=h * 100 + d_k
    )
    mask = pad_lengths_mask(len(query), t_q, t_k) if "padding" in masking else None
    causal = "causal" in masking

    ours, our_scores = att.multi_head_attention(query, value, weights, mask=mask, causal=causal)
    theirs, their_scores = keras_mha(
        weights, query, value, attention_mask=mask, use_causal_mask=causal
    )

    assert ours.shape == theirs.shape == (len(query), t_q, d_q)
    assert our_scores.shape == their_scores.shape == (len(query), h, t_q, t_k)
    np.testing.assert_allclose(our_scores, their_scores, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)
    np.testing.assert_allclose(our_scores.sum(axis=-1), 1.0, atol=1e-12)
    if mask is not None:
        assert (our_scores[~np.broadcast_to(mask[:, None], our_scores.shape)] == 0).all()


def test_separate_key_input_matches_keras():
    rng = np.random.default_rng(3)
    query = rng.normal(size=(2, 4, 6)).astype("float32")
    value = rng.normal(size=(2, 7, 5)).astype("float32")
    key = rng.normal(size=(2, 7, 5)).astype("float32")
    weights = att.init_multi_head_weights(2, 3, 6, value_input_dim=5, output_dim=9, seed=5)
    ours, our_scores = att.multi_head_attention(query, value, weights, key=key)
    theirs, their_scores = keras_mha(weights, query, value, key=key)
    np.testing.assert_allclose(our_scores, their_scores, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)


def test_weights_read_from_a_keras_layer():
    """The other direction: a Keras layer's own (Glorot, zero-bias) weights read into ours."""
    x = np.random.default_rng(7).normal(size=(2, 5, 8)).astype("float32")
    keras.utils.set_random_seed(7)
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    theirs, their_scores = layer(x, x, return_attention_scores=True)
    weights = att.MultiHeadWeights.from_keras(layer.get_weights())
    ours, our_scores = att.multi_head_attention(x, x, weights)
    np.testing.assert_allclose(our_scores, keras.ops.convert_to_numpy(their_scores), atol=ATOL)
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(theirs), atol=ATOL)


@pytest.mark.parametrize("causal", [False, True], ids=["no-mask", "causal"])
def test_scaled_dot_product_attention_matches_keras_ops(causal):
    rng = np.random.default_rng(11)
    q, k, v = (rng.normal(size=(2, 6, 3, 4)).astype("float32") for _ in range(3))  # (B, T, H, D)
    theirs = keras.ops.convert_to_numpy(keras.ops.dot_product_attention(q, k, v, is_causal=causal))
    mask = att.causal_mask(6) if causal else None
    to_heads = (0, 2, 1, 3)  # ours puts the head axis before the positions: (B, H, T, D)
    ours, _ = att.scaled_dot_product_attention(
        q.transpose(to_heads), k.transpose(to_heads), v.transpose(to_heads), mask
    )
    np.testing.assert_allclose(ours.transpose(to_heads), theirs, rtol=0, atol=ATOL)


def test_scaled_dot_product_attention_by_formula():
    rng = np.random.default_rng(2)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    out, weights = att.scaled_dot_product_attention(q, k, v)
    scores = q @ k.T / 2.0  # sqrt(d_k) = 2
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(weights, expected, rtol=1e-13)
    np.testing.assert_allclose(out, expected @ v, rtol=1e-13)


def test_fully_masked_row_gets_uniform_weights():
    q = k = v = np.eye(3)
    mask = np.array([[False, False, False], [True, True, False], [True, True, True]])
    _, weights = att.scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(weights[0], 1 / 3)
    assert weights[1, 2] == 0.0


def test_causal_mask_leaks_nothing():
    """Changing token t never changes the outputs at positions before t, to the last bit."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, 8, 12))
    weights = att.init_multi_head_weights(3, 4, 12, seed=9)
    base, base_scores = att.multi_head_attention(x, x, weights, causal=True)
    assert (np.triu(base_scores[0], k=1) == 0).all()
    for t in range(8):
        changed = x.copy()
        changed[0, t] = rng.normal(scale=10.0, size=12)
        out, _ = att.multi_head_attention(changed, changed, weights, causal=True)
        np.testing.assert_array_equal(out[0, :t], base[0, :t])
        assert not np.allclose(out[0, t], base[0, t])  # the change itself is seen


def test_padding_mask_hides_padding():
    """What sits in padded positions never changes the output."""
    rng = np.random.default_rng(5)
    ids = np.array([[4, 9, 2, 0, 0], [7, 3, 0, 0, 0]])
    x = rng.normal(size=(2, 5, 6))
    weights = att.init_multi_head_weights(2, 3, 6, seed=1)
    base, _ = att.multi_head_attention(x, x, weights, mask=att.padding_mask(ids))
    x[ids == 0] = rng.normal(scale=100.0, size=(int((ids == 0).sum()), 6))
    out, _ = att.multi_head_attention(x, x, weights, mask=att.padding_mask(ids))
    real = ids != 0
    np.testing.assert_array_equal(out[real], base[real])


def test_positional_encoding_matches_formula():
    length, depth = 50, 17
    pe = att.positional_encoding(length, depth)
    assert pe.shape == (length, depth)
    for p in range(length):
        for j in range(depth):
            angle = p / 10_000 ** (2 * (j // 2) / depth)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert pe[p, j] == pytest.approx(expected, abs=1e-12)


def test_positional_encoding_shift_is_a_rotation():
    """PE[p + k] is PE[p] rotated pair by pair, by angle k * frequency (the same for every p)."""
    depth, k = 16, 7
    pe = att.positional_encoding(64, depth)
    freq = 1.0 / 10_000 ** (2 * np.arange(depth // 2) / depth)
    c, s = np.cos(k * freq), np.sin(k * freq)
    sin_p, cos_p = pe[:-k, 0::2], pe[:-k, 1::2]
    np.testing.assert_allclose(pe[k:, 0::2], sin_p * c + cos_p * s, atol=1e-12)
    np.testing.assert_allclose(pe[k:, 1::2], cos_p * c - sin_p * s, atol=1e-12)


def test_masks():
    np.testing.assert_array_equal(att.causal_mask(4), np.tril(np.ones((4, 4), bool)))
    mask = att.padding_mask([[3, 0], [0, 5]], pad_id=0)
    np.testing.assert_array_equal(mask, [[[True, False]], [[False, True]]])


W = att.init_multi_head_weights(2, 4, 8, seed=0)
X = np.zeros((2, 5, 8))
NAN_X = X.copy()
NAN_X[0, 1, 2] = np.nan
Q3 = np.ones((3, 4))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: att.scaled_dot_product_attention(Q3, np.ones((3, 5)), np.ones((3, 2))),
            "same last axis d_k",
            id="sdpa-dk-mismatch",
        ),
        pytest.param(
            lambda: att.scaled_dot_product_attention(Q3, np.ones((3, 4)), np.ones((2, 2))),
            "same number of positions",
            id="sdpa-tk-mismatch",
        ),
        pytest.param(
            lambda: att.scaled_dot_product_attention(np.ones(4), np.ones((3, 4)), Q3),
            "at least 2 axes",
            id="sdpa-1d-query",
        ),
        pytest.param(
            lambda: att.scaled_dot_product_attention(Q3, Q3, Q3, np.ones((2, 3), bool)),
            "must broadcast to shape",
            id="sdpa-mask-wrong-shape",
        ),
        pytest.param(
            lambda: att.scaled_dot_product_attention(Q3, Q3, Q3, np.full((3, 3), 0.5)),
            "booleans",
            id="sdpa-mask-not-boolean",
        ),
        pytest.param(
            lambda: att.scaled_dot_product_attention(Q3, Q3, Q3, np.full((3, 3), np.nan)),
            "finite",
            id="sdpa-mask-nan",
        ),
        pytest.param(
            lambda: att.scaled_dot_product_attention(Q3 * np.nan, Q3, Q3),
            "finite",
            id="sdpa-nan-query",
        ),
        pytest.param(lambda: att.multi_head_attention(NAN_X, X, W), "finite", id="mha-nan-query"),
        pytest.param(
            lambda: att.multi_head_attention(X, np.zeros((2, 5, 7)), W),
            "has 7 features but its projection expects 8",
            id="mha-value-width",
        ),
        pytest.param(
            lambda: att.multi_head_attention(X, np.zeros((3, 5, 8)), W),
            "batch size",
            id="mha-batch-mismatch",
        ),
        pytest.param(
            lambda: att.multi_head_attention(X[0], X[0], W),
            "3 dimension",
            id="mha-2d-query",
        ),
        pytest.param(
            lambda: att.multi_head_attention(X, X, W, mask=np.ones((2, 4, 5), bool)),
            "must broadcast to shape",
            id="mha-mask-wrong-shape",
        ),
        pytest.param(
            lambda: att.multi_head_attention(X, np.zeros((2, 6, 8)), W, causal=True),
            "T_q == T_k",
            id="mha-causal-cross",
        ),
        pytest.param(
            lambda: att.MultiHeadWeights(*W.to_keras()[:7], np.zeros(3)),
            "out_bias must have shape",
            id="weights-shape-mismatch",
        ),
        pytest.param(
            lambda: att.MultiHeadWeights.from_keras(W.to_keras()[:6]),
            "use_bias=True",
            id="weights-from-keras-without-bias",
        ),
        pytest.param(lambda: att.positional_encoding(0, 8), "at least 1", id="pe-zero-length"),
        pytest.param(lambda: att.padding_mask([1, 2, 0]), "2 dimension", id="padding-mask-1d"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: att.multi_head_attention(X, X, W.to_keras()), id="mha-weights-list"),
        pytest.param(lambda: att.positional_encoding(4.0, 8), id="pe-float-length"),
    ],
)
def test_wrong_types_raise_type_error(call):
    with pytest.raises(TypeError):
        call()
