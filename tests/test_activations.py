"""Tests for dlguide.activations: values against keras.activations, derivatives against autodiff.

Everything runs in float64 on both sides, so most tolerances sit near machine precision
(rtol 1e-12, atol 1e-14). Where TensorFlow itself is less precise the looser tolerance is stated
next to the check, with the reason.
"""

from __future__ import annotations

import math
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlguide import activations as act

RTOL, ATOL = 1e-12, 1e-14  # float64 against float64, unless a case says otherwise
POSITIVE = np.array([1e-8, 1.0, 3.0, 10.0, 20.0, 40.0, 50.0, 100.0, 1e3, 1e4])
EXTREME = np.concatenate([-POSITIVE[::-1], [0.0], POSITIVE])  # the tails, the kink, tiny |z|
Z = np.concatenate([np.random.default_rng(4).normal(0.0, 5.0, size=500), EXTREME])

K = keras.activations
# name: (ours, our derivative, the reference in TensorFlow/Keras, (rtol, atol) for values and grads)
CASES = {
    "binary_step": (act.binary_step, act.binary_step_grad, lambda x: tf.cast(x >= 0, x.dtype)),
    "linear": (act.linear, act.linear_grad, K.linear),
    "sigmoid": (act.sigmoid, act.sigmoid_grad, K.sigmoid),
    "tanh": (act.tanh, act.tanh_grad, K.tanh),
    "arctan": (act.arctan, act.arctan_grad, tf.math.atan),
    "relu": (act.relu, act.relu_grad, K.relu),
    "leaky_relu": (act.leaky_relu, act.leaky_relu_grad, lambda x: K.leaky_relu(x, 0.01)),
    "leaky_relu_0.2": (
        lambda z: act.leaky_relu(z, alpha=0.2),
        lambda z: act.leaky_relu_grad(z, alpha=0.2),
        K.leaky_relu,  # Keras' default negative_slope is 0.2, ours 0.01
    ),
    "elu": (act.elu, act.elu_grad, K.elu),
    "elu_0.5": (
        lambda z: act.elu(z, alpha=0.5),
        lambda z: act.elu_grad(z, alpha=0.5),
        lambda x: K.elu(x, alpha=0.5),
    ),
    "selu": (act.selu, act.selu_grad, K.selu),
    "gelu": (act.gelu, act.gelu_grad, K.gelu),  # both default to the exact (erf) form
    "gelu_tanh": (
        lambda z: act.gelu(z, approximate=True),
        lambda z: act.gelu_grad(z, approximate=True),
        lambda x: K.gelu(x, approximate=True),
    ),
}
TOLERANCES = {
    # tf.nn.leaky_relu keeps its slope as a float32 (0.01 -> 0.0099999998): relative 2.3e-8.
    "leaky_relu": (1e-7, ATOL),
    "leaky_relu_0.2": (1e-7, ATOL),
    # TF's float64 erfc is accurate to ~5e-9 only, and its tanh-GELU casts 0.044715 through
    # float32 (error 9e-10); test_gelu_matches_math_erf checks ours at 1e-14 instead.
    "gelu": (0.0, 1e-8),
    "gelu_tanh": (0.0, 1e-8),
}
ELEMENTWISE = [name for name in act.ACTIVATIONS if name != "softmax"]


def quiet(fn, *args):
    """Call fn with NumPy overflow/invalid/divide-by-zero and all warnings turned into errors."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        return fn(*args)


def tf_value_and_grad(reference, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = tf.Variable(z, dtype=tf.float64)
    with tf.GradientTape() as tape:
        y = reference(x)
    grad = tape.gradient(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return y.numpy(), grad.numpy()


@pytest.mark.parametrize("name", CASES)
@pytest.mark.tensorflow_reference
def test_values_and_derivatives_match_tensorflow(name):
    ours, ours_grad, reference = CASES[name]
    rtol, atol = TOLERANCES.get(name, (RTOL, ATOL))
    # The 0.0 in EXTREME pins the kink conventions; TF's SeluGrad takes the right-hand slope
    # (lambda) at exactly 0 where we take the left-hand one (lambda * alpha), so SELU skips it.
    z = Z[Z != 0] if name == "selu" else Z
    value, grad = tf_value_and_grad(reference, z)
    np.testing.assert_allclose(quiet(ours, z), value, rtol=rtol, atol=atol)
    np.testing.assert_allclose(quiet(ours_grad, z), grad, rtol=rtol, atol=atol)


def test_kink_conventions_at_zero():
    at_zero = {name: float(act.get(name).grad(0.0)) for name in ELEMENTWISE}
    assert at_zero["relu"] == 0.0 and at_zero["leaky_relu"] == 0.01
    assert at_zero["binary_step"] == 0.0 and float(act.binary_step(0.0)) == 1.0
    assert at_zero["elu"] == 1.0 and float(act.elu_grad(0.0, alpha=0.5)) == 0.5
    assert at_zero["selu"] == pytest.approx(act.SELU_SCALE * act.SELU_ALPHA, rel=1e-15)


def test_derivative_bounds_hold_after_rounding():
    # sigma' <= 1/4 and tanh' <= 1 must survive rounding near 0, where a naive e/(1+e)**2
    # comes out one ulp too large for about one point in ten here.
    tiny = np.geomspace(1e-20, 1.0, 100_001)
    z = np.concatenate([-tiny, [0.0], tiny])
    assert act.sigmoid_grad(z).max() == 0.25 and act.tanh_grad(z).max() == 1.0
    assert act.sigmoid_grad(0.0) == 0.25 and act.tanh_grad(0.0) == 1.0


def test_selu_constants_are_keras_constants():
    # Keras documents alpha=1.67326324 and scale=1.05070098 (truncated to 8 decimals).
    assert pytest.approx(1.67326324, abs=1e-8) == act.SELU_ALPHA
    assert pytest.approx(1.05070098, abs=1e-8) == act.SELU_SCALE
    # SELU(z) for large negative z saturates at -lambda * alpha.
    assert float(act.selu(-1e4)) == pytest.approx(-act.SELU_SCALE * act.SELU_ALPHA, rel=1e-15)


def test_gelu_matches_math_erf():
    z = np.linspace(-12.0, 12.0, 481)
    exact = np.array([0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))) for x in z])
    np.testing.assert_allclose(act.gelu(z), exact, rtol=0, atol=1e-14)
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    cdf = np.array([0.5 * (1.0 + math.erf(x / math.sqrt(2.0))) for x in z])
    np.testing.assert_allclose(act.gelu_grad(z), cdf + z * pdf, rtol=0, atol=1e-14)
    # The clipping at |z| = 40 is exact: the derivative there is already 0 or 1 in float64.
    for approximate in (False, True):
        assert act.gelu_grad([-40.0, 40.0], approximate).tolist() == [0.0, 1.0]
        assert act.gelu_grad([-1e300, 1e300], approximate).tolist() == [0.0, 1.0]


@pytest.mark.tensorflow_reference
def test_softmax_matches_keras_and_autodiff():
    rng = np.random.default_rng(5)
    z = np.concatenate([rng.normal(0.0, 3.0, size=(64, 7)), 1e4 * rng.normal(size=(4, 7))])
    v = rng.normal(size=z.shape)
    x = tf.Variable(z, dtype=tf.float64)
    np.testing.assert_allclose(act.softmax(z), K.softmax(x).numpy(), rtol=RTOL, atol=ATOL)

    with tf.GradientTape() as tape:
        s = K.softmax(x)
    jacobian = tape.batch_jacobian(s, x).numpy()
    np.testing.assert_allclose(act.softmax_jacobian(z), jacobian, rtol=RTOL, atol=ATOL)

    # Forward mode gives J v directly; reverse mode with output_gradients gives v^T J.
    with tf.autodiff.ForwardAccumulator(x, tf.constant(v)) as acc:
        s = K.softmax(x)
    np.testing.assert_allclose(act.softmax_jvp(z, v), acc.jvp(s).numpy(), rtol=RTOL, atol=ATOL)
    with tf.GradientTape() as tape:
        s = K.softmax(x)
    vjp = tape.gradient(s, x, output_gradients=tf.constant(v)).numpy()
    np.testing.assert_allclose(act.get("softmax").jvp(z, v), vjp, rtol=RTOL, atol=ATOL)


def test_softmax_with_huge_logits():
    assert quiet(act.softmax, [1e4, 0.0, -1e4]).tolist() == [1.0, 0.0, 0.0]
    np.testing.assert_allclose(
        act.softmax([1000.0, 1001.0, 1002.0]), act.softmax([0.0, 1.0, 2.0]), rtol=1e-15
    )
    # Gaps wider than the float range: exp(-inf) = 0, no warning, no NaN.
    assert quiet(act.softmax, [1.7e308, -1.7e308]).tolist() == [1.0, 0.0]
    np.testing.assert_allclose(quiet(act.softmax, [1e300, 1e300]), [0.5, 0.5], rtol=1e-15)
    # Softmax of [z, 0] is the sigmoid of z.
    z = np.linspace(-50.0, 50.0, 101)
    two = act.softmax(np.stack([z, np.zeros_like(z)], axis=-1))
    np.testing.assert_allclose(two[:, 0], act.sigmoid(z), rtol=1e-13, atol=1e-300)


def test_activation_jvp_is_grad_times_v_and_checks_shapes():
    z, v = np.array([-2.0, 0.5, 3.0]), np.array([1.0, -2.0, 4.0])
    for name in ELEMENTWISE:
        a = act.get(name)
        np.testing.assert_array_equal(a.jvp(z, v), a.grad(z) * v)
        with pytest.raises(
            ValueError, match=r"v must have the shape of z \(3,\), got shape \(2,\)"
        ):
            a.jvp(z, v[:2])
    with pytest.raises(ValueError, match=r"v must have the shape of z"):
        act.get("softmax").jvp(z, v[:2])


def test_inputs_are_converted_to_float64_and_keep_their_shape():
    assert act.sigmoid(np.zeros((2, 3), dtype=np.float32)).dtype == np.float64
    assert act.relu([[1, -2], [3, -4]]).tolist() == [[1.0, 0.0], [3.0, 0.0]]
    assert act.tanh(0).shape == ()
    assert act.softmax_jacobian(np.zeros((5, 3))).shape == (5, 3, 3)


# ----------------------------------------------------------------------------- bad input

ALL_FUNCTIONS = {fn.__name__: fn for a in act.ACTIVATIONS.values() for fn in (a.fn, a.grad)} | {
    "softmax_jvp": lambda z: act.softmax_jvp(z, z),
    "Activation.jvp": lambda z: act.get("tanh").jvp(z, z),
}
BAD_Z = {  # name -> (z, error, message)
    "empty": ([], ValueError, r"z must not be empty, got shape \(0,\)"),
    "empty-2-d": (np.zeros((2, 0)), ValueError, r"z must not be empty, got shape \(2, 0\)"),
    "nan": ([1.0, np.nan, 2.0], ValueError, r"z must contain only finite values, got 1 nan/inf"),
    "inf": ([1.0, np.inf, 2.0], ValueError, r"z must contain only finite values, got 1 nan/inf"),
    "minus-inf": ([-np.inf, 2.0], ValueError, r"z must contain only finite values"),
    "strings": (["a", "b"], TypeError, r"z must hold numbers .* dtype <U1"),
    "complex": ([1 + 2j], TypeError, r"z must hold numbers .* dtype complex128"),
    "none": (None, TypeError, r"z must hold numbers .* dtype object"),
    "ragged": ([[1.0, 2.0], [3.0]], TypeError, r"z must hold numbers in a rectangular array"),
}


@pytest.mark.parametrize(
    ("function", "bad"), [pytest.param(f, b, id=f"{f}-{b}") for f in ALL_FUNCTIONS for b in BAD_Z]
)
def test_bad_z_is_rejected(function, bad):
    z, error, match = BAD_Z[bad]
    with pytest.raises(error, match=match):
        ALL_FUNCTIONS[function](z)


SLOPED = {"leaky_relu": act.leaky_relu, "leaky_relu_grad": act.leaky_relu_grad}
SLOPED |= {"elu": act.elu, "elu_grad": act.elu_grad}
BAD_CALLS = [
    *[
        pytest.param(
            lambda fn=fn: fn(3.0), ValueError, r"at least 1 axis.*got \(\)", id=f"{n}-scalar"
        )
        for n, fn in {
            "softmax": act.softmax,
            "softmax_jacobian": act.softmax_jacobian,
            "softmax_jvp": lambda z: act.softmax_jvp(z, z),
        }.items()
    ],
    pytest.param(
        lambda: act.softmax_jvp([0.0, 1.0], [0.0, np.nan]),
        ValueError,
        "v must contain only finite",
        id="softmax_jvp-nan-v",
    ),
    pytest.param(
        lambda: act.softmax_jvp([0.0, 1.0], [0.0, 1.0, 2.0]),
        ValueError,
        r"v must have the shape of z \(2,\), got shape \(3,\)",
        id="softmax_jvp-v-too-long",
    ),
    pytest.param(
        lambda: act.get("relu").jvp([0.0, 1.0, 2.0], [1.0, 2.0]),
        ValueError,
        r"v must have the shape of z \(3,\), got shape \(2,\)",
        id="jvp-v-too-short",
    ),
    pytest.param(
        lambda: act.get("softmax").jvp([0.0, 1.0, 2.0], [1.0, 2.0]),
        ValueError,
        r"v must have the shape of z \(3,\)",
        id="softmax-jvp-v-too-short",
    ),
    pytest.param(
        lambda: act.get("tanh").jvp([0.0], ["a"]),
        TypeError,
        "v must hold numbers",
        id="jvp-string-v",
    ),
    *[
        pytest.param(
            lambda fn=fn: fn([1.0], alpha=float("nan")),
            ValueError,
            r"alpha must be finite, got nan",
            id=f"{n}-alpha-nan",
        )
        for n, fn in SLOPED.items()
    ],
    *[
        pytest.param(
            lambda fn=fn: fn([1.0], alpha="0.1"),
            TypeError,
            r"alpha must be a real number, got str",
            id=f"{n}-alpha-string",
        )
        for n, fn in SLOPED.items()
    ],
    *[
        pytest.param(
            lambda fn=fn: fn([1.0], approximate="yes"),
            TypeError,
            r"approximate must be True or False, got 'yes'",
            id=f"{fn.__name__}-approximate-yes",
        )
        for fn in (act.gelu, act.gelu_grad)
    ],
    pytest.param(
        lambda: act.get("swish"),
        ValueError,
        r"activation must be one of \['binary_step', .*'softmax'\], got 'swish'",
        id="get-swish",
    ),
    pytest.param(lambda: act.get("Sigmoid"), ValueError, r"got 'Sigmoid'", id="get-capitalised"),
    pytest.param(lambda: act.get(3), TypeError, r"activation must be a str.*got 3", id="get-int"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_CALLS)
def test_bad_arguments_are_rejected(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_get_knows_every_name():
    assert [act.get(name).name for name in act.ACTIVATIONS] == list(act.ACTIVATIONS)
    assert len(act.ACTIVATIONS) == 11


# ----------------------------------------------------------------------------- fuzzing

MODERATE = hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(-1e4, 1e4))
HUGE = hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(-1e300, 1e300))


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=60, deadline=None)
@given(z=MODERATE)
def test_fuzz_derivative_matches_central_differences(name, z):
    a = act.get(name)
    value, grad = quiet(a.fn, z), quiet(a.grad, z)
    assert np.isfinite(value).all() and np.isfinite(grad).all()
    # Central differences away from the kink at 0; step relative to |z|. Truncation error is
    # O(h^2 f''') and rounding error O(eps |f| / h), both far below the tolerance.
    z = z[np.abs(z) > 1e-3]
    if z.size == 0:
        return
    h = 1e-5 * np.maximum(1.0, np.abs(z))
    numeric = (a.fn(z + h) - a.fn(z - h)) / (2 * h)
    np.testing.assert_allclose(a.grad(z), numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=60, deadline=None)
@given(z=HUGE)
def test_fuzz_huge_inputs_stay_finite_without_warnings(name, z):
    a = act.get(name)
    assert np.isfinite(quiet(a.fn, z)).all()
    assert np.isfinite(quiet(a.grad, z)).all()


@settings(max_examples=200, deadline=None)
@given(z=MODERATE)
def test_fuzz_sigmoid_and_tanh_relations(z):
    s, ds = act.sigmoid(z), act.sigmoid_grad(z)
    assert ((s >= 0) & (s <= 1)).all()
    assert ((ds >= 0) & (ds <= 0.25)).all()
    np.testing.assert_allclose(ds, s * (1 - s), rtol=1e-6, atol=1e-16)  # cancellation in 1 - s
    np.testing.assert_allclose(act.tanh(z), 2 * act.sigmoid(2 * z) - 1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(act.tanh_grad(z), 1 - act.tanh(z) ** 2, rtol=0, atol=1e-15)
    assert ((act.tanh_grad(z) >= 0) & (act.tanh_grad(z) <= 1)).all()  # 0 once it underflows


@settings(max_examples=200, deadline=None)
@given(
    z=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
        elements=st.floats(allow_nan=False, allow_infinity=False),
    ),
    data=st.data(),
)
def test_fuzz_softmax(z, data):
    s = quiet(act.softmax, z)
    assert ((s >= 0) & (s <= 1)).all()
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    # Logits of any size are fine for the JVP; the vector v stays in a moderate range.
    v = data.draw(hnp.arrays(np.float64, z.shape, elements=st.floats(-1e4, 1e4)))
    jvp = quiet(act.softmax_jvp, z, v)
    expected = np.einsum("...ij,...j->...i", act.softmax_jacobian(z), v)
    np.testing.assert_allclose(jvp, expected, rtol=1e-9, atol=1e-9)
    # Rows of J sum to zero: moving all logits together leaves the probabilities unchanged.
    np.testing.assert_allclose(act.softmax_jvp(z, np.ones_like(z)), 0.0, rtol=0, atol=1e-12)
