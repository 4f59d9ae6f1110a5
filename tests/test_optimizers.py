"""Tests for dlguide.optimizers: each from-scratch optimizer against its keras.optimizers class."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlguide import optimizers
from dlguide.optimizers import SGD, Adagrad, Adam, RMSprop

N_STEPS = 150
# float32 tolerance: both sides compute in float32 from identical gradients, and in practice agree
# bit for bit; rtol 1e-5 / atol 1e-6 leaves room for a different operation order on other CPUs.
RTOL, ATOL = 1e-5, 1e-6

KERAS_CLASSES = {
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
    "adam": keras.optimizers.Adam,
    "adagrad": keras.optimizers.Adagrad,
}

CASES = [
    ("sgd", {"learning_rate": 0.05}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("rmsprop", {"learning_rate": 0.01}),
    ("rmsprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "epsilon": 1e-4}),
    ("adam", {"learning_rate": 0.01}),
    ("adam", {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}),
    ("adagrad", {"learning_rate": 0.1}),
    ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3}),
]


def _random_problem(seed: int) -> tuple[Any, list[np.ndarray]]:
    """A small tanh network's squared error on random data, and its float32 starting parameters."""
    rng = np.random.default_rng(seed)
    X = tf.constant(rng.normal(size=(32, 4)), dtype=tf.float32)
    y = tf.constant(rng.normal(size=(32,)), dtype=tf.float32)
    params = [rng.normal(size=s).astype(np.float32) for s in [(4, 3), (3,), (3,)]]

    def loss(W: Any, b: Any, v: Any) -> Any:
        hidden = tf.tanh(tf.matmul(X, W) + b)
        return tf.reduce_mean((tf.linalg.matvec(hidden, v) - y) ** 2)

    return loss, params


@pytest.mark.parametrize(("name", "hyper"), CASES, ids=[f"{n}-{sorted(h)}" for n, h in CASES])
@pytest.mark.tensorflow_reference
def test_trajectory_matches_keras(name: str, hyper: dict[str, Any]) -> None:
    loss, start = _random_problem(seed=3)
    keras_opt = KERAS_CLASSES[name](**hyper)
    keras_vars = [keras.Variable(p) for p in start]
    keras_opt.build(keras_vars)

    @tf.function  # one compiled Keras step: the gradients at Keras' parameters, then its update
    def keras_step() -> tuple[Any, list[Any]]:
        with tf.GradientTape() as tape:
            value = loss(*keras_vars)
        grads = tape.gradient(value, keras_vars)
        keras_opt.apply_gradients(zip(grads, keras_vars, strict=True))
        return value, grads

    ours = optimizers.get(name, **hyper)
    params = [p.copy() for p in start]
    first_loss = None
    for step in range(N_STEPS):
        value, grads = keras_step()
        first_loss = float(value) if first_loss is None else first_loss
        params = ours.step(params, [g.numpy() for g in grads])  # the very same gradients
        for ours_p, keras_v in zip(params, keras_vars, strict=True):
            assert ours_p.dtype == np.float32
            np.testing.assert_allclose(
                ours_p, keras_v.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"step {step + 1}"
            )
    assert ours.iterations == N_STEPS == int(keras_opt.iterations.numpy())
    # the comparison is not vacuous: parameters moved far and the loss went down
    moved = max(float(np.abs(p - s).max()) for p, s in zip(params, start, strict=True))
    assert moved > 0.1
    assert float(loss(*keras_vars)) < 0.9 * first_loss


def test_wrong_formula_is_caught() -> None:
    """Adam with epsilon inside the square root (a common variant) drifts away from Keras."""
    hyper = {"learning_rate": 0.01, "epsilon": 1e-3}
    theta = np.array([1.0, -1.0, 0.5], dtype=np.float32)
    keras_var, keras_opt = keras.Variable(theta), keras.optimizers.Adam(**hyper)
    m = v = np.zeros(3, dtype=np.float32)
    wrong = theta.copy()
    for t in range(1, 101):
        g = (2 * keras_var.numpy()).astype(np.float32)
        keras_opt.apply_gradients([(tf.constant(g), keras_var)])
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        wrong = wrong - 0.01 * m_hat / np.sqrt(v_hat + 1e-3)
    assert np.abs(wrong - keras_var.numpy()).max() > 100 * ATOL


def test_single_array_and_list_give_the_same_result() -> None:
    g = np.array([0.3, -0.2])
    single, listed = Adam(learning_rate=0.1), Adam(learning_rate=0.1)
    a, b = np.array([1.0, 2.0]), [np.array([1.0, 2.0])]
    for _ in range(5):
        a, b = single.step(a, g), listed.step(b, [g])
    assert isinstance(a, np.ndarray) and isinstance(b, list)
    np.testing.assert_array_equal(a, b[0])


def test_step_does_not_modify_inputs_and_keeps_dtype() -> None:
    params = [np.ones((2, 2)), np.ones(3, dtype=np.float32)]
    grads = [np.full((2, 2), 0.5), np.full(3, 0.5, dtype=np.float32)]
    before = [p.copy() for p in params]
    new = SGD(learning_rate=0.1, momentum=0.9).step(params, grads)
    for p, b in zip(params, before, strict=True):
        np.testing.assert_array_equal(p, b)
    assert [n.dtype for n in new] == [np.float64, np.float32]
    np.testing.assert_allclose(new[0], 0.95)


def test_hand_computed_first_steps() -> None:
    # SGD with momentum 0.9: v1 = -0.1, v2 = 0.9 * -0.1 - 0.1 = -0.19; theta = 1 - 0.1 - 0.19
    opt = SGD(learning_rate=0.1, momentum=0.9)
    w = opt.step(opt.step(np.array([1.0]), np.array([1.0])), np.array([1.0]))
    np.testing.assert_allclose(w, [0.71], rtol=1e-12)
    # Nesterov: theta1 = 1 + 0.9 * -0.1 - 0.1 = 0.81
    w = SGD(learning_rate=0.1, momentum=0.9, nesterov=True).step(np.array([1.0]), np.array([1.0]))
    np.testing.assert_allclose(w, [0.81], rtol=1e-12)
    # RMSprop: s = 0.1 * 4 = 0.4, theta = 1 - 0.01 * 2 / sqrt(0.4 + 1e-7)
    w = RMSprop(learning_rate=0.01).step(np.array([1.0]), np.array([2.0]))
    np.testing.assert_allclose(w, [1 - 0.02 / np.sqrt(0.4 + 1e-7)], rtol=1e-12)
    # Adam, first step: alpha = 0.1 * sqrt(0.001) / 0.1, m = 0.3, v = 0.009
    w = Adam(learning_rate=0.1).step(np.array([1.0]), np.array([3.0]))
    alpha = 0.1 * np.sqrt(0.001) / 0.1
    np.testing.assert_allclose(w, [1 - alpha * 0.3 / (np.sqrt(0.009) + 1e-7)], rtol=1e-12)
    # Adagrad: a = 0.1 + 0.09, theta = 1 - 0.1 * 0.3 / sqrt(0.19 + 1e-7)
    w = Adagrad(learning_rate=0.1).step(np.array([1.0]), np.array([0.3]))
    np.testing.assert_allclose(w, [1 - 0.03 / np.sqrt(0.19 + 1e-7)], rtol=1e-12)


def test_state_is_explicit() -> None:
    opt = Adam(learning_rate=0.1)
    opt.step([np.zeros(2), np.zeros((1, 3))], [np.ones(2), np.ones((1, 3))])
    assert [m.shape for m in opt.m] == [(2,), (1, 3)]
    np.testing.assert_allclose(opt.m[0], 0.1)
    np.testing.assert_allclose(opt.v[1], 0.001)
    acc = Adagrad(initial_accumulator_value=0.25)
    acc.step(np.zeros(2), np.array([1.0, 2.0]))
    np.testing.assert_allclose(acc.accumulators[0], [1.25, 4.25])


def test_get_knows_the_keras_names() -> None:
    assert isinstance(optimizers.get("Adam"), Adam)
    opt = optimizers.get("sgd", learning_rate=0.2, momentum=0.5, nesterov=True)
    assert (opt.learning_rate, opt.momentum, opt.nesterov) == (0.2, 0.5, True)
    with pytest.raises(ValueError, match=r"expected one of \['adagrad', 'adam', .*got 'adamw'"):
        optimizers.get("adamw")
    with pytest.raises(TypeError, match="name must be a str"):
        optimizers.get(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SGD(learning_rate=0), "learning_rate must be > 0"),
        (lambda: SGD(learning_rate=-1.0), r"learning_rate must be finite and >= 0.0, got -1.0"),
        (lambda: SGD(learning_rate=float("nan")), "learning_rate must be finite"),
        (lambda: SGD(momentum=1.0), r"momentum must be finite and in \[0.0, 1.0\), got 1.0"),
        (lambda: RMSprop(rho=-0.1), r"rho must be finite and in \[0.0, 1.0\)"),
        (lambda: Adam(beta_2=1.5), r"beta_2 must be finite and in \[0.0, 1.0\), got 1.5"),
        (lambda: Adam(epsilon=float("inf")), "epsilon must be finite"),
        (lambda: Adagrad(initial_accumulator_value=-1), "initial_accumulator_value must be"),
    ],
)
def test_bad_hyperparameters_raise(make: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_hyperparameter_types_raise() -> None:
    with pytest.raises(TypeError, match="learning_rate must be a real number, got str"):
        SGD(learning_rate="0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nesterov must be a bool, got int"):
        SGD(momentum=0.9, nesterov=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("params", "grads", "error", "match"),
    [
        (np.ones(2), np.ones(3), ValueError, r"grads\[0\] must have shape \(2,\).*got \(3,\)"),
        ([np.ones(2)], [np.ones(2), np.ones(2)], ValueError, "expected 1, got 2"),
        ([], [], ValueError, "at least one array, got an empty list"),
        (np.ones(0), np.ones(0), ValueError, r"params\[0\] must not be empty, got shape \(0,\)"),
        (np.array([1.0, np.nan]), np.ones(2), ValueError, r"params\[0\] must contain only finite"),
        (np.ones(2), np.array([np.inf, 0.0]), ValueError, r"grads\[0\] must contain only finite"),
        (np.ones(2, dtype=int), np.ones(2), ValueError, "floating dtype, got int64"),
        (np.ones(2), [np.ones(2)], TypeError, "both be arrays or both be lists"),
        ([[1.0, 2.0]], [np.ones(2)], TypeError, r"params\[0\] must be a numpy array, got list"),
    ],
)
def test_bad_step_inputs_raise(params: Any, grads: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Adam().step(params, grads)


def test_shapes_must_not_change_between_steps() -> None:
    opt = RMSprop()
    opt.step(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match=r"keep the shapes.*expected \[\(\(2,\).*got \[\(\(3,\)"):
        opt.step(np.ones(3), np.ones(3))
