"""Tests for dlguide.diagnostics: gradients against tf.GradientTape, and across Keras backends.

The test process runs Keras on TensorFlow (see conftest.py). For JAX and PyTorch, this file is run
as a script in a subprocess with another KERAS_BACKEND: it rebuilds the same model, loads the same
weights and data from an .npz file, and prints its gradients as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from dlguide.diagnostics import LOSSES, gradient_norms, gradient_of, gradients

N, D, K = 32, 8, 3  # examples, input features, classes
# (loss, output activation, from_logits): each loss with the output it expects, and the
# cross-entropies once more from logits. (On TensorFlow, Keras computes a cross-entropy from the
# logits behind a final softmax or sigmoid, so binary cross-entropy on a softmax output gives a
# different number there than on JAX: a mismatch of Keras' backends, not of these gradients.)
CASES = [
    ("sparse_categorical_crossentropy", "softmax", False),
    ("categorical_crossentropy", "softmax", False),
    ("binary_crossentropy", "sigmoid", False),
    ("mean_squared_error", "softmax", False),
    ("sparse_categorical_crossentropy", "linear", True),
    ("categorical_crossentropy", "linear", True),
    ("binary_crossentropy", "linear", True),
]


def build_model(output: str = "softmax") -> keras.Model:
    """A small MLP whose inference pass differs from training: Dropout and BatchNormalization."""
    return keras.Sequential(
        [
            keras.Input((D,)),
            keras.layers.Dense(6, activation="tanh", name="hidden"),
            keras.layers.Dropout(0.5),
            keras.layers.BatchNormalization(name="norm"),  # non-trainable moving mean/variance
            keras.layers.Dense(K, activation=output, name="out"),
        ]
    )


def seeded_data(model: keras.Model) -> dict[str, np.ndarray]:
    """Weights (moving variances kept positive), inputs and labels from a seeded NumPy rng."""
    rng = np.random.default_rng(0)
    data = {
        f"w{i}": rng.normal(scale=0.7, size=v.shape).astype("float32")
        for i, v in enumerate(model.weights)
    }
    for i, v in enumerate(model.weights):
        if v.path.endswith("moving_variance"):
            data[f"w{i}"] = np.abs(data[f"w{i}"]) + 0.5
    data["x"] = rng.normal(size=(N, D)).astype("float32")
    data["y"] = rng.integers(0, K, size=N)
    return data


def load(model: keras.Model, data: dict[str, np.ndarray]) -> None:
    model.set_weights([data[f"w{i}"] for i in range(len(model.weights))])


def targets(y: np.ndarray, loss: str) -> np.ndarray:
    """Class labels for the sparse loss, one-hot rows (matching the softmax output) otherwise."""
    return y if loss == "sparse_categorical_crossentropy" else np.eye(K, dtype="float32")[y]


def tape_gradients(
    model: keras.Model, x: np.ndarray, y: np.ndarray, loss: str, from_logits: bool
) -> list:
    """The reference: the mean loss differentiated directly with tf.GradientTape."""
    import tensorflow as tf

    loss_fn = LOSSES[loss](from_logits=True) if from_logits else LOSSES[loss]()
    with tf.GradientTape() as tape:
        value = loss_fn(y, model(x, training=False))
    return [g.numpy() for g in tape.gradient(value, model.trainable_variables)]


def seeded_model(output: str = "softmax") -> tuple[keras.Model, dict[str, np.ndarray]]:
    model = build_model(output)
    data = seeded_data(model)
    load(model, data)
    return model, data


@pytest.fixture
def model_and_data():
    return seeded_model()


@pytest.mark.parametrize(("loss", "output", "from_logits"), CASES)
@pytest.mark.tensorflow_reference
def test_matches_gradient_tape(loss, output, from_logits):
    model, data = seeded_model(output)
    y = targets(data["y"], loss)
    expected = tape_gradients(model, data["x"], y, loss, from_logits)
    got = gradients(model, data["x"], y, loss, from_logits=from_logits)
    assert [g.shape for g in got] == [v.shape for v in model.trainable_variables]
    for g, e in zip(got, expected, strict=True):
        # Same backend, same float32 ops: agreement to float32 round-off (rtol 1e-6).
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-9)
        assert np.abs(e).max() > 1e-4  # a real, non-zero gradient was compared
    norms = gradient_norms(model, data["x"], y, loss, from_logits=from_logits)
    assert list(norms) == ["hidden", "out"]  # kernels only, first layer first
    np.testing.assert_allclose(
        list(norms.values()), [np.linalg.norm(expected[0]), np.linalg.norm(expected[-2])], rtol=1e-6
    )


def test_changes_no_weight(model_and_data):
    model, data = model_and_data
    before = model.get_weights()
    gradient_norms(model, data["x"], data["y"])
    for b, a in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.tensorflow_reference
def test_other_backends_agree_with_tensorflow(backend, tmp_path):
    pytest.importorskip(backend)
    _, data = seeded_model()
    path = tmp_path / "case.npz"
    np.savez(path, **data)
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        [sys.executable, __file__, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    for case, got, norms in zip(CASES, result["gradients"], result["norms"], strict=True):
        loss, output, from_logits = case
        model, _ = seeded_model(output)
        y = targets(data["y"], loss)
        expected = tape_gradients(model, data["x"], y, loss, from_logits)
        # Different backend, different float32 kernels and summation order (measured: entries
        # within 6e-5 relative, norms within 2e-7): rtol 1e-4 plus atol 1e-6 for entries near
        # zero on each gradient entry, rtol 1e-5 on the kernel norms.
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(np.array(g), e, rtol=1e-4, atol=1e-6, err_msg=str(case))
        np.testing.assert_allclose(
            norms, [np.linalg.norm(expected[0]), np.linalg.norm(expected[-2])], rtol=1e-5
        )


# ---------------------------------------------------------------------------- bad inputs


def test_rejects_a_non_model():
    with pytest.raises(TypeError, match=r"keras\.Model, got list"):
        gradient_norms([1, 2], np.ones((2, D)), np.zeros(2))


def test_rejects_an_unbuilt_model():
    model = keras.Sequential([keras.layers.Dense(K)])
    with pytest.raises(ValueError, match="must be built"):
        gradient_norms(model, np.ones((2, D)), np.zeros(2))


def test_rejects_an_unknown_loss(model_and_data):
    model, data = model_and_data
    with pytest.raises(ValueError, match=r"one of \['binary_crossentropy'.*got 'hinge'"):
        gradient_norms(model, data["x"], data["y"], loss="hinge")


@pytest.mark.parametrize(
    ("x_shape", "y_shape", "message"),
    [
        ((N, D + 1), (N,), r"x must have shape \(batch, \*\(8,\)\), got shape \(32, 9\)"),
        ((N,), (N,), r"x must have shape \(batch, \*\(8,\)\), got shape \(32,\)"),
        ((N, D), (N - 1,), r"y must have shape \(32,\) or \(32, 1\), got \(31,\)"),
        ((N, D), (N, K), r"y must have shape \(32,\) or \(32, 1\), got \(32, 3\)"),
        ((0, D), (0,), r"x must not be empty"),
    ],
)
def test_rejects_wrong_shapes(model_and_data, x_shape, y_shape, message):
    model, _ = model_and_data
    with pytest.raises(ValueError, match=message):
        gradient_norms(model, np.ones(x_shape), np.zeros(y_shape))


def test_rejects_wrong_target_shape_for_dense_losses(model_and_data):
    model, data = model_and_data
    with pytest.raises(ValueError, match=r"y must have shape \(32, 3\), got \(32,\)"):
        gradient_norms(model, data["x"], data["y"], loss="categorical_crossentropy")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_rejects_non_finite_values(model_and_data, bad):
    model, data = model_and_data
    x, y = data["x"].copy(), data["y"].astype(float)
    x[3, 2] = bad
    with pytest.raises(ValueError, match="x must contain only finite values, got 1 nan/inf"):
        gradient_norms(model, x, data["y"])
    y[0] = bad
    with pytest.raises(ValueError, match="y must contain only finite values"):
        gradient_norms(model, data["x"], y)


def test_rejects_from_logits_without_a_cross_entropy(model_and_data):
    model, data = model_and_data
    y = targets(data["y"], "mean_squared_error")
    with pytest.raises(ValueError, match="needs a cross-entropy loss, got 'mean_squared_error'"):
        gradients(model, data["x"], y, "mean_squared_error", from_logits=True)
    with pytest.raises(TypeError, match="from_logits must be a bool, got int"):
        gradients(model, data["x"], data["y"], from_logits=1)


def test_rejects_a_model_without_kernels():
    model = keras.Sequential([keras.Input((D,)), keras.layers.Activation("softmax")])
    with pytest.raises(ValueError, match="at least one layer with a trainable kernel"):
        gradient_norms(model, np.ones((2, D)), np.zeros(2))


# ---------------------------------------------------------------------------- gradient_of


@pytest.mark.parametrize(
    ("fn", "grad"),
    [
        pytest.param(lambda x: 0.5 * keras.ops.sum(x**2), lambda x: x, id="half-squared-norm"),
        pytest.param(
            lambda x: keras.ops.sum(keras.ops.sin(x) * x),
            lambda x: np.cos(x) * x + np.sin(x),
            id="x-sin-x",
        ),
        pytest.param(
            lambda x: keras.ops.sum(keras.ops.tanh(keras.ops.matmul(x, x))),
            lambda x: (1 - np.tanh(x @ x) ** 2) @ x.T + x.T @ (1 - np.tanh(x @ x) ** 2),
            id="tanh-of-a-matrix-square",
        ),
    ],
)
def test_gradient_of_matches_the_analytic_gradient(fn, grad):
    x = np.random.default_rng(0).normal(size=(4, 4)).astype("float32")
    got = gradient_of(fn, x)
    assert got.shape == x.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, grad(x.astype(np.float64)), rtol=1e-4, atol=1e-5)


def test_gradient_of_a_function_that_ignores_its_input_is_zero():
    np.testing.assert_array_equal(gradient_of(lambda x: keras.ops.ones(()), np.ones(3)), 0.0)


@pytest.mark.parametrize(
    ("fn", "x", "error", "match"),
    [
        pytest.param(
            "sum", np.ones(3), TypeError, "fn must be callable, got str", id="not-callable"
        ),
        pytest.param(keras.ops.sum, np.array([1.0, np.nan]), ValueError, "finite", id="nan"),
        pytest.param(keras.ops.sum, np.array([]), ValueError, "empty", id="empty"),
    ],
)
def test_gradient_of_rejects_bad_input(fn, x, error, match):
    with pytest.raises(error, match=match):
        gradient_of(fn, x)


if __name__ == "__main__":  # the subprocess of test_other_backends_agree_with_tensorflow
    saved = dict(np.load(Path(sys.argv[1])))
    out: dict = {"backend": keras.backend.backend(), "gradients": [], "norms": []}
    for loss, output, from_logits in CASES:
        model = build_model(output)
        load(model, saved)
        y = targets(saved["y"], loss)
        grads = gradients(model, saved["x"], y, loss, from_logits=from_logits)
        norms = gradient_norms(model, saved["x"], y, loss, from_logits=from_logits)
        out["gradients"].append([g.tolist() for g in grads])
        out["norms"].append(list(norms.values()))
    print(json.dumps(out))
