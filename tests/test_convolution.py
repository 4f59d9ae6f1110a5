"""Tests for dlguide.convolution: conv2d and pooling against Keras layers and tf.GradientTape."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlguide.convolution import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    conv2d_backward,
    conv_output_size,
    max_pool2d,
    max_pool2d_backward,
)

# tf.GradientTape sees a Keras layer's computation only when Keras runs on TensorFlow; under
# another backend those comparisons are skipped, and the hypothesis tests below still compare the
# gradients with TensorFlow's own ops (tf.nn.conv2d, max_pool2d, avg_pool2d) on any backend.
needs_tensorflow_backend = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.GradientTape on a Keras layer needs KERAS_BACKEND=tensorflow",
)


def _keras_conv(kernel: np.ndarray, bias: np.ndarray, stride, padding: str, x_shape, dtype):
    k_h, k_w, _, filters = kernel.shape
    layer = keras.layers.Conv2D(filters, (k_h, k_w), strides=stride, padding=padding, dtype=dtype)
    layer.build(x_shape)
    layer.set_weights([kernel, bias])
    return layer


def _random_conv(seed: int, x_shape, kernel_shape, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape).astype(dtype)
    fan_in = int(np.prod(kernel_shape[:3]))  # Glorot/He-like scale: outputs of order 1
    kernel = (rng.normal(size=kernel_shape) / np.sqrt(fan_in)).astype(dtype)
    bias = rng.normal(size=kernel_shape[-1]).astype(dtype)
    return x, kernel, bias


# --- output size --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "k", "s", "padding", "expected"),
    [
        (28, 5, 1, "valid", 24),
        (28, 3, 1, "same", 28),
        (28, 3, 2, "same", 14),
        (28, 3, 2, 1, 14),
        (7, 2, 2, "valid", 3),
        (7, 2, 2, "same", 4),
        (5, 5, 3, "valid", 1),
        (32, 3, 3, 0, 10),
        (12, 2, 1, "valid", 11),
    ],
)
def test_conv_output_size_formula(n, k, s, padding, expected) -> None:
    assert conv_output_size(n, k, s, padding) == expected
    if isinstance(padding, int):
        assert expected == (n + 2 * padding - k) // s + 1


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv_output_size_matches_keras(padding: str, stride: int) -> None:
    for n, k in [(28, 5), (11, 3), (9, 4), (6, 1)]:
        layer = keras.layers.Conv2D(1, k, strides=stride, padding=padding)
        shape = layer.compute_output_shape((1, n, n, 1))
        assert shape[1] == shape[2] == conv_output_size(n, k, stride, padding)


# --- conv2d forward and backward against Keras --------------------------------------------------
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("kernel_size", [(1, 1), (3, 3), (5, 5), (2, 3)])
def test_conv2d_matches_keras_conv2d(stride, padding, channels, kernel_size) -> None:
    x, kernel, bias = _random_conv(
        stride * 100 + channels, (3, 11, 10, channels), (*kernel_size, channels, 4)
    )
    layer = _keras_conv(kernel, bias, stride, padding, x.shape, "float32")
    expected = keras.ops.convert_to_numpy(layer(x))
    result = conv2d(x, kernel, bias, stride=stride, padding=padding)
    assert result.dtype == np.float32
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, atol=1e-5, rtol=0)


def _tape_gradients(layer, x: np.ndarray, grad_out: np.ndarray):
    """Gradients of sum(y * grad_out), so that dL/dy = grad_out, via tf.GradientTape."""
    x_tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        loss = tf.reduce_sum(layer(x_tensor) * grad_out)
    grads = tape.gradient(loss, [x_tensor, layer.kernel.value, layer.bias.value])
    return [g.numpy() for g in grads]


@needs_tensorflow_backend
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel_size", [(1, 1), (3, 3), (4, 4), (3, 2)])
def test_conv2d_backward_matches_gradient_tape_float64(stride, padding, kernel_size) -> None:
    x, kernel, bias = _random_conv(7 * stride, (2, 9, 8, 3), (*kernel_size, 3, 5), np.float64)
    layer = _keras_conv(kernel, bias, stride, padding, x.shape, "float64")
    y = conv2d(x, kernel, bias, stride=stride, padding=padding)
    grad_out = np.random.default_rng(1).normal(size=y.shape)
    expected = _tape_gradients(layer, x, grad_out)
    result = conv2d_backward(grad_out, x, kernel, stride=stride, padding=padding)
    for name, got, want in zip(["x", "kernel", "bias"], result, expected, strict=True):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-12, err_msg=name)


@needs_tensorflow_backend
def test_conv2d_backward_matches_gradient_tape_float32() -> None:
    x, kernel, bias = _random_conv(3, (4, 12, 12, 2), (3, 3, 2, 6))
    layer = _keras_conv(kernel, bias, 2, "same", x.shape, "float32")
    grad_out = np.random.default_rng(2).normal(size=(4, 6, 6, 6)).astype(np.float32)
    expected = _tape_gradients(layer, x, grad_out)
    result = conv2d_backward(grad_out, x, kernel, stride=2, padding="same")
    for got, want in zip(result, expected, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_conv2d_int_padding_is_zero_padding_then_valid() -> None:
    x, kernel, bias = _random_conv(5, (2, 7, 6, 2), (3, 3, 2, 3), np.float64)
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    np.testing.assert_allclose(
        conv2d(x, kernel, bias, stride=2, padding=2), conv2d(padded, kernel, bias, stride=2)
    )
    grad_out = np.ones((2, 5, 4, 3))
    grad_x = conv2d_backward(grad_out, x, kernel, stride=2, padding=2)[0]
    grad_padded = conv2d_backward(grad_out, padded, kernel, stride=2)[0]
    np.testing.assert_allclose(grad_x, grad_padded[:, 2:-2, 2:-2, :])


def test_conv2d_equals_the_loop_definition_with_rectangular_stride() -> None:
    x, kernel, bias = _random_conv(9, (2, 7, 9, 2), (2, 3, 2, 3), np.float64)
    s_h, s_w = 2, 3
    out = np.zeros((2, 3, 3, 3))
    for n, i, j, f in itertools.product(*map(range, out.shape)):
        window = x[n, i * s_h : i * s_h + 2, j * s_w : j * s_w + 3, :]
        out[n, i, j, f] = np.sum(window * kernel[..., f]) + bias[f]
    np.testing.assert_allclose(conv2d(x, kernel, bias, stride=(s_h, s_w)), out, rtol=1e-12)


def test_conv2d_without_bias_and_with_integer_input() -> None:
    x = np.arange(2 * 4 * 4, dtype=np.int64).reshape(2, 4, 4, 1)
    kernel = np.ones((2, 2, 1, 1), dtype=np.int64)
    y = conv2d(x, kernel)
    assert y.dtype == np.float64
    assert y[0, 0, 0, 0] == 0 + 1 + 4 + 5


# --- hypothesis: any shape ----------------------------------------------------------------------
@st.composite
def conv_cases(draw):
    k_h, k_w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.sampled_from(["valid", "same"]))
    low_h, low_w = (1, 1) if padding == "same" else (k_h, k_w)
    height, width = draw(st.integers(low_h, 9)), draw(st.integers(low_w, 9))
    shapes = {
        "x": (draw(st.integers(1, 3)), height, width, draw(st.integers(1, 3))),
        "filters": draw(st.integers(1, 4)),
        "kernel": (k_h, k_w),
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "padding": padding,
        "seed": draw(st.integers(0, 2**16)),
    }
    return shapes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=conv_cases())
def test_conv2d_forward_and_backward_any_shape(case) -> None:
    x, kernel, bias = _random_conv(
        case["seed"], case["x"], (*case["kernel"], case["x"][3], case["filters"]), np.float64
    )
    stride, padding = case["stride"], case["padding"]
    x_t, k_t = tf.constant(x), tf.constant(kernel)
    with tf.GradientTape() as tape:
        tape.watch([x_t, k_t])
        y_t = tf.nn.conv2d(x_t, k_t, strides=stride, padding=padding.upper()) + bias
        grad_out = np.random.default_rng(case["seed"]).normal(size=y_t.shape)
        loss = tf.reduce_sum(y_t * grad_out)
    want_x, want_k = (g.numpy() for g in tape.gradient(loss, [x_t, k_t]))

    y = conv2d(x, kernel, bias, stride=stride, padding=padding)
    np.testing.assert_allclose(y, y_t.numpy(), rtol=1e-10, atol=1e-12)
    grad_x, grad_k, grad_b = conv2d_backward(grad_out, x, kernel, stride=stride, padding=padding)
    np.testing.assert_allclose(grad_x, want_x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_k, want_k, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_b, grad_out.sum(axis=(0, 1, 2)), rtol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 3),
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    channels=st.integers(1, 3),
    pool=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.sampled_from(["valid", "same"]),
    seed=st.integers(0, 2**16),
)
def test_pooling_any_shape(n, height, width, channels, pool, stride, padding, seed) -> None:
    if padding == "valid" and (height < pool[0] or width < pool[1]):
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(n, height, width, channels)).astype(np.float64)  # many ties
    for ours, ours_backward, tf_pool in [
        (max_pool2d, max_pool2d_backward, tf.nn.max_pool2d),
        (avg_pool2d, avg_pool2d_backward, tf.nn.avg_pool2d),
    ]:
        x_t = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_t)
            y_t = tf_pool(x_t, ksize=pool, strides=stride, padding=padding.upper())
            grad_out = rng.normal(size=y_t.shape)
            loss = tf.reduce_sum(y_t * grad_out)
        y = ours(x, pool, stride, padding)
        np.testing.assert_allclose(y, y_t.numpy(), rtol=1e-12)
        grad_x = ours_backward(grad_out, x, pool, stride, padding)
        np.testing.assert_allclose(grad_x, tape.gradient(loss, x_t).numpy(), rtol=1e-10, atol=1e-12)


# --- pooling against the Keras layers -----------------------------------------------------------
@needs_tensorflow_backend
@pytest.mark.parametrize(
    ("layer_class", "forward", "backward"),
    [
        pytest.param(keras.layers.MaxPooling2D, max_pool2d, max_pool2d_backward, id="max"),
        pytest.param(keras.layers.AveragePooling2D, avg_pool2d, avg_pool2d_backward, id="avg"),
    ],
)
@pytest.mark.parametrize(
    ("shape", "pool_size", "strides", "padding"),
    [
        pytest.param((2, 8, 8, 3), 2, None, "valid", id="even-2x2"),
        pytest.param((2, 7, 9, 2), 2, None, "valid", id="odd-valid"),
        pytest.param((2, 7, 9, 2), 2, None, "same", id="odd-same"),
        pytest.param((1, 9, 9, 1), 3, 2, "valid", id="overlapping-3x3-stride-2"),
        pytest.param((1, 10, 7, 2), (3, 2), (1, 2), "same", id="rectangular-same"),
    ],
)
def test_pooling_matches_keras_layers(
    layer_class, forward, backward, shape, pool_size, strides, padding
) -> None:
    rng = np.random.default_rng(11)
    x = rng.integers(0, 3, size=shape).astype(np.float32)  # small integers: ties everywhere
    layer = layer_class(pool_size=pool_size, strides=strides, padding=padding)
    x_t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        y_t = layer(x_t)
        grad_out = rng.normal(size=y_t.shape).astype(np.float32)
        loss = tf.reduce_sum(y_t * grad_out)
    y = forward(x, pool_size, strides, padding)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, y_t.numpy(), atol=1e-6)
    grad_x = backward(grad_out, x, pool_size, strides, padding)
    np.testing.assert_allclose(grad_x, tape.gradient(loss, x_t).numpy(), rtol=1e-5, atol=1e-6)


def test_max_pool_tie_goes_to_first_maximum_in_row_major_order() -> None:
    x = np.array([[5.0, 1.0], [5.0, 5.0]]).reshape(1, 2, 2, 1)
    grad = max_pool2d_backward(np.full((1, 1, 1, 1), 2.0), x)
    assert grad[0, :, :, 0].tolist() == [[2.0, 0.0], [0.0, 0.0]]


# --- bad input ----------------------------------------------------------------------------------
GOOD_X = np.zeros((2, 6, 6, 3))
GOOD_K = np.zeros((3, 3, 3, 4))
NAN_X = GOOD_X.copy()
NAN_X[0, 1, 2, 0] = np.nan


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda: conv2d(np.zeros((6, 6, 3)), GOOD_K),
            ValueError,
            r"x must have 4 dimension\(s\), got shape \(6, 6, 3\)",
            id="conv-x-rank-3",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, np.zeros((3, 3, 3))),
            ValueError,
            r"kernel must have 4 dimension\(s\), got shape \(3, 3, 3\)",
            id="conv-kernel-rank-3",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, np.zeros((3, 3, 1, 4))),
            ValueError,
            r"x has 3 channel\(s\) \(shape \(2, 6, 6, 3\)\) but the kernel expects 1 "
            r"\(kernel shape \(3, 3, 1, 4\)",
            id="conv-channel-mismatch",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, np.zeros((7, 3, 3, 4))),
            ValueError,
            r"window 7x3 is larger than the input 6x6 \(x shape \(2, 6, 6, 3\)\) along its "
            r"height with padding 'valid'",
            id="conv-kernel-larger-than-valid-input",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, GOOD_K, stride=0),
            ValueError,
            "stride must be at least 1, got 0",
            id="conv-stride-0",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, GOOD_K, stride=(1, -2)),
            ValueError,
            "stride must be at least 1, got -2",
            id="conv-stride-negative",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, GOOD_K, stride=(1, 2, 3)),
            ValueError,
            "stride must be an int or a pair of ints",
            id="conv-stride-triple",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, GOOD_K, stride=1.5),
            TypeError,
            "stride must be an int, got float",
            id="conv-stride-float",
        ),
        pytest.param(
            lambda: conv2d(NAN_X, GOOD_K),
            ValueError,
            "x must contain only finite values, got 1 nan/inf",
            id="conv-nan-input",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, GOOD_K, bias=np.zeros(3)),
            ValueError,
            r"bias must have shape \(4,\), one per filter, got \(3,\)",
            id="conv-bias-shape",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, GOOD_K, padding="full"),
            ValueError,
            "padding must be 'valid', 'same' or an int >= 0, got 'full'",
            id="conv-unknown-padding",
        ),
        pytest.param(
            lambda: conv2d(GOOD_X, GOOD_K, padding=-1),
            ValueError,
            "padding must be at least 0, got -1",
            id="conv-negative-padding",
        ),
        pytest.param(
            lambda: conv2d(np.full((1, 2, 2, 1), "a"), np.zeros((1, 1, 1, 1))),
            TypeError,
            "x must hold numbers",
            id="conv-strings",
        ),
        pytest.param(
            lambda: conv2d_backward(np.zeros((2, 4, 4, 3)), GOOD_X, GOOD_K),
            ValueError,
            r"grad_out must have the forward output's shape \(2, 4, 4, 4\), got \(2, 4, 4, 3\)",
            id="conv-backward-grad-shape",
        ),
        pytest.param(
            lambda: max_pool2d(np.zeros((6, 6))),
            ValueError,
            r"x must have 4 dimension\(s\), got shape \(6, 6\)",
            id="pool-x-rank-2",
        ),
        pytest.param(
            lambda: max_pool2d(GOOD_X, pool_size=7),
            ValueError,
            r"window 7x7 is larger than the input 6x6",
            id="pool-window-larger-than-input",
        ),
        pytest.param(
            lambda: avg_pool2d(GOOD_X, stride=0),
            ValueError,
            "stride must be at least 1, got 0",
            id="pool-stride-0",
        ),
        pytest.param(
            lambda: avg_pool2d(GOOD_X, padding=1),
            ValueError,
            "pooling padding must be 'valid' or 'same', got 1",
            id="pool-int-padding",
        ),
        pytest.param(
            lambda: max_pool2d(NAN_X),
            ValueError,
            "x must contain only finite values",
            id="pool-nan",
        ),
        pytest.param(
            lambda: max_pool2d_backward(np.zeros((2, 2, 2, 3)), GOOD_X),
            ValueError,
            r"grad_out must have the forward output's shape \(2, 3, 3, 3\), got \(2, 2, 2, 3\)",
            id="max-pool-backward-grad-shape",
        ),
        pytest.param(
            lambda: avg_pool2d_backward(np.zeros((2, 3, 3, 1)), GOOD_X),
            ValueError,
            r"grad_out must have the forward output's shape \(2, 3, 3, 3\)",
            id="avg-pool-backward-grad-shape",
        ),
        pytest.param(
            lambda: conv_output_size(3, 5),
            ValueError,
            "kernel_size 5 is larger than the input length 3 padded with 'valid'",
            id="size-kernel-too-large",
        ),
        pytest.param(
            lambda: conv_output_size(28, 3, stride=0),
            ValueError,
            "stride must be at least 1, got 0",
            id="size-stride-0",
        ),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()
