"""Tests for dlguide.gradient_descent: the update rule, the stopping rules and the training loop."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlguide.gradient_descent import (
    gradient_descent,
    minibatch_gradient_descent,
    mse_loss_and_grads,
)


def bowl(w: np.ndarray) -> float:
    """The course's J(w, b) = w² + b² + 6."""
    return float(w @ w) + 6.0


def bowl_grad(w: np.ndarray) -> np.ndarray:
    return 2.0 * w


# --- gradient_descent ---------------------------------------------------------------------------
@pytest.mark.parametrize("eta", [0.01, 0.3, 0.9])
def test_quadratic_matches_closed_form(eta: float) -> None:
    # J = a (w - c)^2 gives w_k = c + (1 - 2 a eta)^k (w_0 - c); float64 round-off only: rtol 1e-12
    a, c, w0 = 1.5, -2.0, 4.0
    run = gradient_descent(
        lambda w: float(a * (w[0] - c) ** 2),
        lambda w: 2 * a * (w - c),
        np.array([w0]),
        learning_rate=eta / a,
        max_epochs=30,
    )
    k = np.arange(31)
    np.testing.assert_allclose(run.path[:, 0], c + (1 - 2 * eta) ** k * (w0 - c), rtol=1e-12)
    np.testing.assert_allclose(run.losses, a * (run.path[:, 0] - c) ** 2, rtol=1e-12)
    assert run.stop_reason == "max_epochs" and run.n_steps == 30


def test_threshold_steps_match_theory() -> None:
    # J - 6 = 18 (1 - 2 eta)^(2k) on the bowl from (3, 3): first k with J - 6 < 1e-6
    for eta in [0.05, 0.1, 0.3]:
        run = gradient_descent(bowl, bowl_grad, np.array([3.0, 3.0]), eta, tol=6 + 1e-6)
        expected = math.ceil(math.log(1e-6 / 18) / (2 * math.log(1 - 2 * eta)))
        assert run.stop_reason == "threshold"
        assert run.n_steps == expected
        assert run.losses[-1] < 6 + 1e-6 <= run.losses[-2]


@pytest.mark.tensorflow_reference
def test_matches_keras_sgd_on_a_non_quadratic() -> None:
    # J(w) = log(sum(exp(A w))) + |w|^2 / 2, float64 on both sides: rtol 1e-10 (the learning
    # rate 0.25 is exact in float32, the dtype of Keras' learning-rate variable)
    A = np.random.default_rng(0).normal(size=(5, 3))

    def loss(w: np.ndarray) -> float:
        return float(np.log(np.sum(np.exp(A @ w))) + 0.5 * w @ w)

    def grad(w: np.ndarray) -> np.ndarray:
        p = np.exp(A @ w - np.max(A @ w))
        return A.T @ (p / p.sum()) + w

    w0 = np.array([1.0, -2.0, 0.5])
    run = gradient_descent(loss, grad, w0, learning_rate=0.25, max_epochs=100)
    var = tf.Variable(w0, dtype=tf.float64)
    opt = keras.optimizers.SGD(learning_rate=0.25)
    A_tf = tf.constant(A)
    for k in range(1, 101):
        with tf.GradientTape() as tape:
            value = tf.reduce_logsumexp(tf.linalg.matvec(A_tf, var)) + 0.5 * tf.reduce_sum(var**2)
        opt.apply_gradients([(tape.gradient(value, var), var)])
        np.testing.assert_allclose(run.path[k], var.numpy(), rtol=1e-10, atol=1e-12)
    assert np.abs(run.final - w0).max() > 1.0  # it moved


def test_too_high_rate_diverges() -> None:
    # |1 - 2 eta| = 1.2 > 1: |w| grows by 1.2 each step until J > 1e10
    run = gradient_descent(bowl, bowl_grad, np.array([3.0, 3.0]), 1.1, max_epochs=10_000)
    assert run.stop_reason == "diverged"
    assert run.losses[-1] > 1e10 >= run.losses[-2]
    expected = math.ceil(math.log((1e10 - 6) / 18) / (2 * math.log(1.2)))
    assert run.n_steps == expected


def test_overflow_counts_as_divergence() -> None:
    run = gradient_descent(
        lambda w: float(np.exp(w[0] ** 2)), lambda w: 2 * w, np.array([1.0]), 1e154, max_epochs=5
    )
    assert run.stop_reason == "diverged" and run.n_steps == 1
    assert math.isinf(run.losses[-1])


def test_no_improvement_stops_after_patience() -> None:
    # eta = 1 on w^2 flips w -> -w: the loss never improves, so it stops after `patience` steps
    run = gradient_descent(lambda w: float(w @ w), bowl_grad, np.array([2.0]), 1.0, patience=4)
    assert run.stop_reason == "no_improvement" and run.n_steps == 4
    np.testing.assert_array_equal(run.path[:, 0], [2.0, -2.0, 2.0, -2.0, 2.0])


def test_min_delta_makes_slow_progress_count_as_none() -> None:
    # eta = 1e-4: each step lowers J by about 18 * 4e-4 = 7.2e-3, so 3 steps by less than 0.025
    # (the improvement is measured against the best loss so far, as in keras EarlyStopping)
    kwargs: dict[str, Any] = {"max_epochs": 50, "patience": 3}
    slow = gradient_descent(bowl, bowl_grad, np.array([3.0, 3.0]), 1e-4, **kwargs)
    assert slow.stop_reason == "max_epochs"
    strict = gradient_descent(
        bowl, bowl_grad, np.array([3.0, 3.0]), 1e-4, min_delta=0.025, **kwargs
    )
    assert strict.stop_reason == "no_improvement" and strict.n_steps == 3


def test_start_below_threshold_takes_no_step() -> None:
    run = gradient_descent(bowl, bowl_grad, np.array([0.0, 0.0]), 0.1, tol=7.0)
    assert run.n_steps == 0 and run.stop_reason == "threshold"
    assert run.path.shape == (1, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"w0": np.ones((2, 1))}, ValueError, r"w0 must have 1 dimension\(s\), got shape \(2, 1\)"),
        ({"w0": np.ones(0)}, ValueError, r"w0 must not be empty, got shape \(0,\)"),
        ({"w0": np.array([1.0, np.nan])}, ValueError, "w0 must contain only finite values"),
        ({"w0": "ab"}, TypeError, "w0 must hold numbers"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be > 0, got 0.0"),
        ({"learning_rate": float("inf")}, ValueError, "learning_rate must be finite, got inf"),
        ({"learning_rate": "0.1"}, TypeError, "learning_rate must be a real number, got str"),
        ({"max_epochs": 0}, ValueError, "max_epochs must be at least 1, got 0"),
        ({"max_epochs": 10.0}, TypeError, "max_epochs must be an int, got float"),
        ({"patience": 0}, ValueError, "patience must be at least 1, got 0"),
        ({"min_delta": -1.0}, ValueError, "min_delta must be >= 0, got -1.0"),
        (
            {"grad": lambda w: w[:1]},
            ValueError,
            r"grad must return shape \(2,\) like w0, got \(1,\)",
        ),
        ({"grad": lambda w: w * np.nan}, ValueError, "grad returned non-finite values at epoch 1"),
        ({"loss": lambda w: w}, ValueError, r"loss must return a scalar, got shape \(2,\)"),
        ({"loss": lambda w: float("nan")}, ValueError, "loss\\(w0\\) must be finite, got nan"),
        ({"loss": 3.0}, TypeError, "loss and grad must be callables, got float"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any], error: type, match: str) -> None:
    arguments: dict[str, Any] = {
        "loss": bowl,
        "grad": bowl_grad,
        "w0": np.array([1.0, 2.0]),
        "learning_rate": 0.1,
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        gradient_descent(**arguments)


# --- mse_loss_and_grads -------------------------------------------------------------------------
def test_mse_loss_and_grads_match_tensorflow() -> None:
    rng = np.random.default_rng(1)
    X, y, w, b = rng.normal(size=(20, 3)), rng.normal(size=20), rng.normal(size=3), 0.7
    loss, grad_w, grad_b = mse_loss_and_grads(X, y, w, b)
    w_tf, b_tf = tf.Variable(w), tf.Variable(b, dtype=tf.float64)
    with tf.GradientTape() as tape:
        y_hat = tf.linalg.matvec(tf.constant(X), w_tf) + b_tf
        value = tf.reduce_mean((y_hat - y) ** 2)
    tf_grad_w, tf_grad_b = tape.gradient(value, [w_tf, b_tf])
    # float64 on both sides: rtol 1e-12; Keras' "mse" loss computes in float32: rtol 1e-6
    np.testing.assert_allclose(loss, float(value), rtol=1e-12)
    keras_mse = keras.losses.MeanSquaredError()(y[:, None], y_hat.numpy()[:, None])
    np.testing.assert_allclose(loss, float(keras_mse), rtol=1e-6)
    np.testing.assert_allclose(grad_w, tf_grad_w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad_b, float(tf_grad_b), rtol=1e-12)


@pytest.mark.parametrize(
    ("X", "y", "w", "match"),
    [
        (np.ones(3), np.ones(3), np.ones(1), r"X must have 2 dimension\(s\)"),
        (np.ones((3, 2)), np.ones(4), np.ones(2), r"one target per row of X: expected \(3,\)"),
        (np.ones((3, 2)), np.ones(3), np.ones(3), r"one weight per column of X: expected \(2,\)"),
        (np.ones((0, 2)), np.ones(0), np.ones(2), "X must not be empty"),
        (np.ones((3, 2)), np.array([1.0, np.inf, 0]), np.ones(2), "y must contain only finite"),
    ],
)
def test_mse_bad_inputs_raise(X: Any, y: Any, w: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mse_loss_and_grads(X, y, w, 0.0)


# --- minibatch_gradient_descent -----------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [40, 7, 1])
def test_minibatch_matches_keras_fit_without_shuffling(batch_size: int) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=40)
    w0, b0 = rng.normal(size=3), 0.2
    ours = minibatch_gradient_descent(
        X, y, learning_rate=0.05, batch_size=batch_size, epochs=3, w0=w0, b0=b0, shuffle=False
    )
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.set_weights([w0[:, None].astype(np.float32), np.array([b0], dtype=np.float32)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    history = model.fit(
        X.astype(np.float32),
        y.astype(np.float32),
        batch_size=batch_size,
        epochs=3,
        shuffle=False,
        verbose=0,
    )
    kernel, bias = model.get_weights()
    assert ours.updates_per_epoch == math.ceil(40 / batch_size)
    # Keras runs in float32, ours in float64: rtol 1e-4
    np.testing.assert_allclose(ours.w, kernel[:, 0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.b, bias[0], rtol=1e-4, atol=1e-5)
    if batch_size == 40:  # one update per epoch: Keras' epoch loss is the loss before it
        np.testing.assert_allclose(ours.epoch_losses[:-1], history.history["loss"], rtol=1e-4)
    assert ours.losses[-1] < 0.75 * ours.losses[0]  # it trained


def test_minibatch_shuffling_is_seeded() -> None:
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    a = minibatch_gradient_descent(X, y, 0.05, batch_size=5, epochs=2, seed=1)
    b = minibatch_gradient_descent(X, y, 0.05, batch_size=5, epochs=2, seed=1)
    c = minibatch_gradient_descent(X, y, 0.05, batch_size=5, epochs=2, seed=2)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not np.array_equal(a.losses, c.losses)
    assert a.losses.shape == (2 * 6 + 1,) and a.epoch_losses.shape == (3,)


def test_minibatch_reaches_least_squares() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 2))
    y = X @ np.array([3.0, -1.0]) + 2.0 + 0.5 * rng.normal(size=200)
    run = minibatch_gradient_descent(X, y, 0.05, batch_size=200, epochs=300)
    coef, *_ = np.linalg.lstsq(np.c_[X, np.ones(200)], y, rcond=None)
    np.testing.assert_allclose(np.r_[run.w, run.b], coef, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 11}, ValueError, "batch_size must be at most the number of samples 10"),
        ({"batch_size": 0}, ValueError, "batch_size must be at least 1, got 0"),
        ({"epochs": 0}, ValueError, "epochs must be at least 1, got 0"),
        ({"learning_rate": -0.1}, ValueError, "learning_rate must be > 0, got -0.1"),
        (
            {"w0": np.ones(3)},
            ValueError,
            r"w0 must have one weight per column of X: expected \(2,\)",
        ),
        ({"y": np.ones(9)}, ValueError, r"y must have one target per row of X: expected \(10,\)"),
        ({"shuffle": 1}, TypeError, "shuffle must be a bool, got int"),
        ({"learning_rate": 1e3, "epochs": 50}, ValueError, "the loss overflowed after"),
    ],
)
def test_minibatch_bad_arguments_raise(kwargs: dict[str, Any], error: type, match: str) -> None:
    rng = np.random.default_rng(5)
    arguments: dict[str, Any] = {
        "X": rng.normal(size=(10, 2)),
        "y": rng.normal(size=10),
        "learning_rate": 0.1,
        "batch_size": 2,
        "epochs": 1,
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        minibatch_gradient_descent(**arguments)
