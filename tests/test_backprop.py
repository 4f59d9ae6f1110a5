"""Tests for dlguide.backprop: gradients against finite differences and tf.GradientTape, training
steps against keras.optimizers.SGD, and rejection of bad input (partly fuzzed with hypothesis)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dlguide import backprop as bp

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])

# (layer sizes, activations, loss): depths 1 to 4, every activation, every loss
CONFIGS = [
    ([3, 2], ["linear"], "mse"),
    ([3, 4, 2], ["sigmoid", "sigmoid"], "mse"),
    ([3, 4, 2], ["tanh", "tanh"], "mse"),
    ([3, 5, 4, 2], ["tanh", "relu", "linear"], "mse"),
    ([3, 4, 3], ["sigmoid", "softmax"], "mse"),
    ([4, 6, 1], ["relu", "sigmoid"], "binary_crossentropy"),
    ([4, 5, 3], ["tanh", "sigmoid"], "binary_crossentropy"),
    ([4, 5, 5, 3], ["tanh", "sigmoid", "softmax"], "categorical_crossentropy"),
    ([2, 3, 3, 3, 3], ["relu", "relu", "tanh", "softmax"], "categorical_crossentropy"),
]
IDS = ["-".join(map(str, s)) + "-" + "-".join(a) + "-" + loss for s, a, loss in CONFIGS]


def make_data(sizes, loss, n=6, seed=0, dtype=np.float64):
    """Seeded inputs and targets that suit `loss` (real values, 0/1 labels, or one-hot rows)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    if loss == "mse":
        y = rng.normal(size=(n, k))
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(n, k)).astype(float)
    else:
        y = np.eye(k)[rng.integers(0, k, size=n)]
    return x.astype(dtype), y.astype(dtype)


def to_keras(network, dtype="float32"):
    """A keras.Sequential with the same architecture and a copy of the network's weights."""
    model = keras.Sequential(
        [keras.Input((network[0]["weights"].shape[0],), dtype=dtype)]
        + [
            keras.layers.Dense(
                layer["weights"].shape[1], activation=layer["activation"], dtype=dtype
            )
            for layer in network
        ]
    )
    for dense, layer in zip(model.layers, network, strict=True):
        dense.set_weights([layer["weights"], layer["biases"]])
    return model


KERAS_LOSSES = {
    "mse": keras.losses.MeanSquaredError,
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
}


# -------------------------------------------------------------------------------------------------
# forward pass


def test_chapter1_network_output_matches_neurons_module():
    # the chapter-1 network: 2-2-1 sigmoid, x = (0.5, 0.85); its output 0.7159 is quoted to 4 places
    network = [
        bp.dense([[0.9, 0.46], [0.42, 0.92]], [0.06, 0.34], "sigmoid"),
        bp.dense([[0.66], [0.05]], [0.42], "sigmoid"),
    ]
    out = bp.predict(network, [[0.5, 0.85]])
    assert out.shape == (1, 1)
    assert abs(out[0, 0] - 0.7159) < 5e-5
    neurons = pytest.importorskip("dlguide.neurons")
    reference, _ = neurons.forward_propagate(
        [{"weights": layer["weights"], "biases": layer["biases"]} for layer in network], [0.5, 0.85]
    )
    np.testing.assert_allclose(out[0], reference, rtol=1e-12)  # same float64 arithmetic


@pytest.mark.parametrize(("sizes", "activations", "loss"), CONFIGS, ids=IDS)
def test_forward_and_loss_match_keras(sizes, activations, loss):
    net = bp.init_network(sizes, activations, seed=1, dtype=np.float32)
    x, y = make_data(sizes, loss, dtype=np.float32)
    model = to_keras(net)
    ours = bp.predict(net, x)
    assert ours.dtype == np.float32
    theirs = model(x).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)  # float32 rounding
    ours_loss = bp.compute_loss(ours, y, loss)
    theirs_loss = float(KERAS_LOSSES[loss]()(y, theirs))
    assert abs(ours_loss - theirs_loss) <= 1e-5 * abs(theirs_loss)  # float32 rounding


# -------------------------------------------------------------------------------------------------
# gradients


@pytest.mark.parametrize(("sizes", "activations", "loss"), CONFIGS, ids=IDS)
def test_gradients_match_central_differences_float64(sizes, activations, loss):
    net = bp.init_network(sizes, activations, seed=2)
    x, y = make_data(sizes, loss, seed=3)
    error = bp.gradient_check(net, x, y, loss)
    # central differences with eps=1e-6 are accurate to ~1e-9 relative in float64
    assert error < 1e-6, error


@pytest.mark.parametrize(("sizes", "activations", "loss"), CONFIGS, ids=IDS)
def test_gradients_match_gradient_tape_float32(sizes, activations, loss):
    net = bp.init_network(sizes, activations, seed=4, dtype=np.float32)
    x, y = make_data(sizes, loss, seed=5, dtype=np.float32)
    loss_value, ours = bp.gradients(net, x, y, loss)
    assert all(g["weights"].dtype == np.float32 for g in ours)
    model = to_keras(net)
    with tf.GradientTape() as tape:
        keras_loss = KERAS_LOSSES[loss]()(tf.constant(y), model(tf.constant(x)))
    tape_grads = tape.gradient(keras_loss, model.trainable_variables)
    theirs = [
        {"weights": w.numpy(), "biases": b.numpy()}
        for w, b in zip(tape_grads[::2], tape_grads[1::2], strict=True)
    ]
    # float32: both sides round at ~1e-7 per operation
    assert bp.relative_error(ours, theirs) < 1e-5
    assert abs(loss_value - float(keras_loss)) <= 1e-5 * abs(float(keras_loss))


def test_backward_reproduces_hand_computed_deltas():
    # chapter-1 network, target 1, L = (a - 1)^2: the delta terms written out with the chain rule
    net = [
        bp.dense([[0.9, 0.46], [0.42, 0.92]], [0.06, 0.34], "sigmoid"),
        bp.dense([[0.66], [0.05]], [0.42], "sigmoid"),
    ]
    x = np.array([[0.5, 0.85]])
    zs, acts = bp.forward(net, x)
    h, out = acts[1][0], acts[2][0, 0]
    delta_out = 2 * (out - 1.0) * out * (1 - out)
    delta_hidden = delta_out * net[1]["weights"][:, 0] * h * (1 - h)
    grads = bp.backward(net, zs, acts, [[1.0]], "mse")
    np.testing.assert_allclose(grads[1]["weights"][:, 0], delta_out * h, rtol=1e-12)
    np.testing.assert_allclose(grads[1]["biases"], [delta_out], rtol=1e-12)
    np.testing.assert_allclose(grads[0]["weights"], np.outer(x[0], delta_hidden), rtol=1e-12)
    np.testing.assert_allclose(grads[0]["biases"], delta_hidden, rtol=1e-12)


def test_chain_gradient_is_product_of_local_derivatives():
    # dL/dw1 of a chain of 1-neuron sigmoid layers:
    # 2(a_n - t) * prod_k sigma'(z_k) * prod_{k>1} w_k * x
    weights, biases = [0.15] + [0.45] * 5, [0.4] + [0.65] * 5
    net = [bp.dense([[w]], [b], "sigmoid") for w, b in zip(weights, biases, strict=True)]
    x, t = 0.1, 0.25
    _, acts = bp.forward(net, [[x]])
    a = [float(v[0, 0]) for v in acts[1:]]
    expected = 2 * (a[-1] - t) * np.prod([ak * (1 - ak) for ak in a]) * np.prod(weights[1:]) * x
    _, grads = bp.gradients(net, [[x]], [[t]], "mse")
    assert grads[0]["weights"][0, 0] == pytest.approx(expected, rel=1e-12)


def test_output_delta_shortcut_equals_general_chain_rule():
    # sigmoid + BCE and softmax + CCE use delta = (a - y)/N(K); it must equal dL/da * f'(z)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 3))
    y_bin = rng.integers(0, 2, size=(5, 3)).astype(float)
    a = bp.activate(z, "sigmoid")
    general = bp.activation_backward(
        bp.loss_gradient(a, y_bin, "binary_crossentropy"), z, a, "sigmoid"
    )
    shortcut = bp.output_delta(z, a, y_bin, "sigmoid", "binary_crossentropy")
    np.testing.assert_allclose(shortcut, general, rtol=1e-10)
    y_hot = np.eye(3)[[0, 2, 1, 1, 0]]
    a = bp.activate(z, "softmax")
    general = bp.activation_backward(
        bp.loss_gradient(a, y_hot, "categorical_crossentropy"), z, a, "softmax"
    )
    shortcut = bp.output_delta(z, a, y_hot, "softmax", "categorical_crossentropy")
    np.testing.assert_allclose(shortcut, general, rtol=1e-10, atol=1e-15)


def test_numerical_gradients_leave_network_unchanged():
    net = bp.init_network([2, 3, 1], "tanh", seed=0)
    before = [layer["weights"].copy() for layer in net]
    bp.numerical_gradients(net, XOR_X, XOR_Y, "mse")
    for layer, w in zip(net, before, strict=True):
        np.testing.assert_array_equal(layer["weights"], w)


def test_gradient_check_detects_a_wrong_gradient(monkeypatch):
    # a backward pass that forgets the sigmoid derivative must fail the check
    net = bp.init_network([2, 3, 1], "sigmoid", seed=0)
    original = bp._activation_backward

    def broken(grad_a, z, a, name):
        return grad_a if name == "sigmoid" else original(grad_a, z, a, name)

    monkeypatch.setattr(bp, "_activation_backward", broken)
    assert bp.gradient_check(net, XOR_X, XOR_Y, "mse") > 1e-2


def test_relative_error_values():
    g = [{"weights": np.array([[3.0]]), "biases": np.array([4.0])}]
    h = [{"weights": np.array([[3.0]]), "biases": np.array([0.0])}]
    assert bp.relative_error(g, g) == 0.0
    assert bp.relative_error(g, h) == pytest.approx(4.0 / (5.0 + 3.0))  # ||g-h|| / (||g||+||h||)


# -------------------------------------------------------------------------------------------------
# training


@pytest.mark.parametrize(
    ("sizes", "activations", "loss", "batch_size", "epochs"),
    [
        ([3, 4, 2], ["tanh", "linear"], "mse", None, 3),
        ([3, 4, 2], ["relu", "sigmoid"], "binary_crossentropy", 2, 3),
        ([3, 5, 3], ["sigmoid", "softmax"], "categorical_crossentropy", 4, 2),
    ],
)
def test_train_matches_keras_sgd(sizes, activations, loss, batch_size, epochs):
    net = bp.init_network(sizes, activations, seed=6, dtype=np.float32)
    x, y = make_data(sizes, loss, n=8, seed=7, dtype=np.float32)
    model = to_keras(net)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss=loss)
    keras_history = model.fit(
        x, y, batch_size=batch_size or len(x), epochs=epochs, shuffle=False, verbose=0
    )
    trained, history = bp.train(
        net, x, y, loss, learning_rate=0.5, epochs=epochs, batch_size=batch_size, shuffle=False
    )
    for layer, dense in zip(trained, model.layers, strict=True):
        w, b = dense.get_weights()
        np.testing.assert_allclose(layer["weights"], w, rtol=1e-5, atol=1e-6)  # float32 rounding
        np.testing.assert_allclose(layer["biases"], b, rtol=1e-5, atol=1e-6)
    # per-epoch loss: Keras averages the batch losses weighted by batch size, as train does
    np.testing.assert_allclose(history.loss, keras_history.history["loss"], rtol=1e-5)


def test_train_does_not_modify_its_input_and_sgd_step_is_pure():
    net = bp.init_network([2, 2, 1], "sigmoid", seed=0, scale=1.0)
    before = [layer["weights"].copy() for layer in net]
    trained, _ = bp.train(net, XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=5)
    _, grads = bp.gradients(net, XOR_X, XOR_Y, "mse")
    stepped = bp.sgd_step(net, grads, 0.1)
    for layer, w in zip(net, before, strict=True):
        np.testing.assert_array_equal(layer["weights"], w)
    np.testing.assert_allclose(stepped[0]["weights"], before[0] - 0.1 * grads[0]["weights"])
    assert not np.array_equal(trained[0]["weights"], before[0])


def test_train_full_batch_equals_repeated_sgd_steps():
    net = bp.init_network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
    manual = net
    for _ in range(4):
        _, grads = bp.gradients(manual, XOR_X, XOR_Y, "binary_crossentropy")
        manual = bp.sgd_step(manual, grads, 0.3)
    trained, history = bp.train(
        net, XOR_X, XOR_Y, "binary_crossentropy", learning_rate=0.3, epochs=4
    )
    for a, b in zip(trained, manual, strict=True):
        np.testing.assert_allclose(a["weights"], b["weights"], rtol=1e-12)
    assert history.epochs == 4 and not history.converged


def test_stopping_criterion():
    net = bp.init_network([2, 4, 1], ["tanh", "sigmoid"], seed=0)
    _, history = bp.train(
        net, XOR_X, XOR_Y, "binary_crossentropy", learning_rate=1.0, epochs=20_000, tol=0.05
    )
    assert history.converged
    assert history.loss[-1] <= 0.05 < history.loss[-2]  # stops at the first epoch at or below tol
    assert history.epochs < 20_000
    _, history = bp.train(
        net, XOR_X, XOR_Y, "mse", learning_rate=1.0, epochs=20_000, tol=0.05, monitor="mae"
    )
    assert history.converged and history.mae[-1] <= 0.05 < history.mae[-2]


def test_minibatch_history_is_batch_weighted_mean():
    net = bp.init_network([2, 3, 1], "sigmoid", seed=0)
    x = np.vstack([XOR_X, XOR_X[:1]])  # 5 rows, batch size 2 -> batches of 2, 2, 1
    y = np.vstack([XOR_Y, XOR_Y[:1]])
    _, history = bp.train(
        net, x, y, "mse", learning_rate=0.1, epochs=1, batch_size=2, shuffle=False
    )
    manual, losses = net, []
    for rows in (slice(0, 2), slice(2, 4), slice(4, 5)):
        loss, grads = bp.gradients(manual, x[rows], y[rows], "mse")
        losses.append(loss * len(x[rows]) / 5)
        manual = bp.sgd_step(manual, grads, 0.1)
    assert history.loss[0] == pytest.approx(sum(losses), rel=1e-12)


def test_xor_stuck_seed_outputs_one_half_for_two_inputs():
    # seed 0 (uniform(-1, 1) init, lr 0.1, MSE, full batch) gets stuck; chapter 3 shows it at length
    net = bp.init_network([2, 2, 1], "sigmoid", seed=0, scale=1.0)
    trained, _ = bp.train(net, XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=30_000)
    out = bp.predict(trained, XOR_X)[:, 0]
    assert np.sum(np.abs(out - 0.5) < 0.02) == 2
    assert np.sum(np.abs(out - XOR_Y[:, 0]) < 0.1) == 2  # the other two are nearly right


def test_train_raises_on_divergence():
    net = bp.init_network([1, 1], "linear", seed=0)
    x = np.linspace(-1, 1, 8)[:, None] * 1e3
    with pytest.raises(ValueError, match=r"diverged.*epoch"):
        bp.train(net, x, 2 * x, "mse", learning_rate=10.0, epochs=200)


# -------------------------------------------------------------------------------------------------
# bad input


def _net():
    return bp.init_network([2, 3, 1], "sigmoid", seed=0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: bp.forward(_net(), np.ones((4, 3))), r"shape \(N, 2\).*got \(4, 3\)"),
        (lambda: bp.forward(_net(), np.ones(2)), r"2 dimension.*got shape \(2,\)"),
        (lambda: bp.forward(_net(), np.ones((0, 2))), "must not be empty"),
        (lambda: bp.forward(_net(), [[np.nan, 1.0]]), "finite"),
        (lambda: bp.forward(_net(), [[np.inf, 1.0]]), "finite"),
        (lambda: bp.forward([], XOR_X), "at least one layer"),
        (lambda: bp.gradients(_net(), XOR_X, XOR_Y[:3], "mse"), r"shape \(4, 1\).*got \(3, 1\)"),
        (lambda: bp.gradients(_net(), XOR_X, XOR_Y, "hinge"), "unknown loss 'hinge'.*mse"),
        (lambda: bp.gradients(_net(), XOR_X, XOR_Y * 2, "binary_crossentropy"), r"\[0, 1\]"),
        (
            lambda: bp.gradients(_net(), XOR_X, XOR_Y, "categorical_crossentropy"),
            "needs a 'softmax' output layer, got a 'sigmoid'",
        ),
        (lambda: bp.init_network([2, 3, 1], "swish"), "unknown activation 'swish'.*sigmoid"),
        (lambda: bp.init_network([2, 3, 1], ["relu"]), "2 names.*got 1"),
        (lambda: bp.init_network([2], "relu"), "at least the inputs and one layer"),
        (lambda: bp.init_network([2, 0, 1], "relu"), "at least 1"),
        (lambda: bp.init_network([2, 1], "relu", dtype=np.float16), "float32 or float64"),
        (lambda: bp.init_network([2, 1], "relu", scale=-1.0), "positive"),
        (lambda: bp.dense([[1.0, 2.0]], [0.0], "relu"), r"expected shape \(2,\), got \(1,\)"),
        (lambda: bp.dense([[1.0]], [0.0], "gelu"), "unknown activation 'gelu'"),
        (lambda: bp.dense([[np.nan]], [0.0], "relu"), "finite"),
        (lambda: bp.activate(np.ones((2, 2)), "elu"), "unknown activation"),
        (lambda: bp.activate(np.ones(3), "relu"), r"2 dimension.*got shape \(3,\)"),
        (lambda: bp.activate(np.array([[np.inf]]), "relu"), "finite"),
        (
            lambda: bp.activation_backward(
                np.ones((2, 2)), np.ones((2, 3)), np.ones((2, 2)), "relu"
            ),
            "same shape",
        ),
        (lambda: bp.compute_loss(np.ones((2, 1)), np.ones((3, 1)), "mse"), "same shape"),
        (
            lambda: bp.compute_loss(np.ones((2, 1)) * 2, np.ones((2, 1)), "binary_crossentropy"),
            r"probabilities in \[0, 1\]",
        ),
        (lambda: bp.loss_gradient(np.ones((0, 1)), np.ones((0, 1)), "mse"), "empty"),
        (
            lambda: bp.compute_loss(
                np.full((2, 2), 0.5), np.ones((2, 2)), "categorical_crossentropy"
            ),
            "summing to 1",
        ),
        (
            lambda: bp.output_delta(
                np.ones((1, 1)), np.ones((1, 1)) / 2, [[1.0]], "relu", "binary_crossentropy"
            ),
            "needs a 'sigmoid' output",
        ),
        (lambda: bp.gradient_check(_net(), XOR_X, XOR_Y, "mse", eps=0.0), "eps must be a positive"),
        (lambda: bp.numerical_gradients(_net(), XOR_X, XOR_Y, "mse", eps=np.nan), "eps"),
        (lambda: bp.relative_error([], []), "non-empty list"),
        (
            lambda: bp.relative_error(
                [{"weights": np.ones((1, 1)), "biases": np.ones(1)}],
                [{"weights": np.ones((1, 2)), "biases": np.ones(1)}],
            ),
            "same shapes",
        ),
        (
            lambda: bp.sgd_step(_net(), [{"weights": np.ones((2, 3)), "biases": np.ones(3)}], 0.1),
            "one entry per layer",
        ),
        (
            lambda: bp.sgd_step(_net(), bp.gradients(_net(), XOR_X, XOR_Y, "mse")[1], -1.0),
            "positive",
        ),
        (lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=0), "at least 1"),
        (lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.0, epochs=1), "positive"),
        (
            lambda: bp.train(
                _net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1, batch_size=0
            ),
            "at least 1",
        ),
        (
            lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1, tol=-1.0),
            "tol",
        ),
        (
            lambda: bp.train(
                _net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1, monitor="acc"
            ),
            "unknown monitor",
        ),
        (lambda: bp.backward(_net(), [], [XOR_X], XOR_Y, "mse"), "expected 2 zs and 3 activations"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


NAN_X = np.where(XOR_X == 1.0, np.nan, XOR_X)
BAD_ARRAYS = {  # variant -> (inputs, targets, expected message)
    "non-finite inputs": (NAN_X, XOR_Y, "inputs must contain only finite values"),
    "non-finite targets": (
        XOR_X,
        np.where(XOR_Y == 1, np.inf, XOR_Y),
        "targets must contain only finite values",
    ),
    "empty": (np.empty((0, 2)), np.empty((0, 1)), "must not be empty"),
    "1-D inputs": (XOR_X.ravel(), XOR_Y, r"inputs must have 2 dimension\(s\), got shape \(8,\)"),
    "1-D targets": (XOR_X, XOR_Y.ravel(), r"targets must have 2 dimension\(s\), got shape \(4,\)"),
}
DATA_FUNCTIONS = {
    "gradients": lambda x, y: bp.gradients(_net(), x, y, "mse"),
    "numerical_gradients": lambda x, y: bp.numerical_gradients(_net(), x, y, "mse"),
    "gradient_check": lambda x, y: bp.gradient_check(_net(), x, y, "mse"),
    "train": lambda x, y: bp.train(_net(), x, y, "mse", learning_rate=0.1, epochs=1),
    "backward": lambda x, y: bp.backward(_net(), *bp.forward(_net(), XOR_X), y, "mse"),
    "compute_loss": lambda x, y: bp.compute_loss(x, y, "mse"),
    "loss_gradient": lambda x, y: bp.loss_gradient(x, y, "mse"),
}


@pytest.mark.parametrize(
    ("function", "variant"),
    [
        (function, variant)
        for function in DATA_FUNCTIONS
        for variant in BAD_ARRAYS
        # backward takes the forward pass's activations, not inputs
        if not (function == "backward" and "inputs" in variant)
    ],
)
def test_every_data_function_rejects_bad_arrays(function, variant):
    x, y, match = BAD_ARRAYS[variant]
    if function in ("compute_loss", "loss_gradient"):  # these take outputs of shape (N, 1)
        if x.ndim == 2:
            x = x[:, :1]
        match = match.replace("inputs", "outputs")
    with pytest.raises(ValueError, match=match):
        DATA_FUNCTIONS[function](x, y)


@pytest.mark.parametrize(
    "call",
    [
        lambda bad: bp.forward(_net(), bad),
        lambda bad: bp.predict(_net(), bad),
        lambda bad: bp.activate(bad, "tanh"),
        lambda bad: bp.activation_backward(bad, bad, bad, "tanh"),
        lambda bad: bp.output_delta(bad, bad, bad, "linear", "mse"),
        lambda bad: bp.dense(bad, [0.0, 0.0], "tanh"),
    ],
)
@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.array([[0.5, np.nan]]), "finite"),
        (np.array([[0.5, -np.inf]]), "finite"),
        (np.empty((0, 2)), "empty"),
        (np.array([0.5, 0.5]), r"2 dimension\(s\)"),
    ],
)
def test_array_functions_reject_nan_empty_and_wrong_ndim(call, bad, match):
    with pytest.raises(ValueError, match=match):
        call(bad)


def test_malformed_networks_are_rejected():
    good = _net()
    wrong_chain = [good[0], bp.dense(np.ones((2, 1)), [0.0], "sigmoid")]
    with pytest.raises(ValueError, match=r"must have 3 rows.*got shape \(2, 1\)"):
        bp.predict(wrong_chain, XOR_X)
    mixed = [good[0], {**good[1], "weights": good[1]["weights"].astype(np.float32)}]
    with pytest.raises(ValueError, match="share one dtype"):
        bp.predict(mixed, XOR_X)
    with pytest.raises(ValueError, match="unknown activation of network"):
        bp.predict([{**good[0], "activation": "Sigmoid"}, good[1]], XOR_X)
    with pytest.raises(ValueError, match="missing"):
        bp.predict([{"weights": good[0]["weights"]}, good[1]], XOR_X)
    with pytest.raises(ValueError, match="finite"):
        bp.predict([{**good[0], "biases": np.array([0.0, np.nan, 0.0])}, good[1]], XOR_X)


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError, match="list of layer dicts"):
        bp.predict(_net()[0], XOR_X)
    with pytest.raises(TypeError, match="numeric"):
        bp.predict(_net(), [["a", "b"]])
    with pytest.raises(TypeError, match="loss must be a str"):
        bp.gradients(_net(), XOR_X, XOR_Y, None)
    with pytest.raises(TypeError, match="epochs must be an int"):
        bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=2.5)


# -------------------------------------------------------------------------------------------------
# fuzzing the gradient checker

ACTIVATION_NAMES = st.sampled_from(["sigmoid", "tanh", "relu", "linear"])


@st.composite
def problems(draw):
    """A random small network, data and loss; the output activation suits the loss."""
    loss = draw(st.sampled_from(bp.LOSSES))
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=5))
    hidden = draw(st.lists(ACTIVATION_NAMES, min_size=len(sizes) - 2, max_size=len(sizes) - 2))
    output = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}.get(
        loss, draw(st.sampled_from(bp.ACTIVATIONS))
    )
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 5))
    net = bp.init_network(sizes, [*hidden, output], seed=seed)
    x, y = make_data(sizes, loss, n=n, seed=seed)
    return net, x, y, loss


@settings(max_examples=60, deadline=None)
@given(problems())
def test_fuzz_gradient_check_agrees(problem):
    net, x, y, loss = problem
    zs, _ = bp.forward(net, x)
    relu_zs = [z for z, layer in zip(zs, net, strict=True) if layer["activation"] == "relu"]
    # a finite difference straddling a ReLU kink is not a derivative: keep clear of it
    assume(all(np.min(np.abs(z)) > 1e-4 for z in relu_zs))
    assert bp.gradient_check(net, x, y, loss) < 1e-6  # float64 central differences, eps=1e-6


@settings(max_examples=60, deadline=None)
@given(
    problems(),
    st.sampled_from(["inputs", "targets"]),
    st.sampled_from([np.nan, np.inf, -np.inf]),
    st.integers(0, 10_000),
)
def test_fuzz_gradient_check_rejects_non_finite(problem, which, bad, position):
    net, x, y, loss = problem
    arrays = {"inputs": x.copy(), "targets": y.copy()}
    arrays[which].flat[position % arrays[which].size] = bad
    with pytest.raises(ValueError, match=f"{which} must contain only finite values"):
        bp.gradient_check(net, arrays["inputs"], arrays["targets"], loss)


@settings(max_examples=60, deadline=None)
@given(problems(), st.integers(-2, 2).filter(bool), st.sampled_from(["inputs", "targets"]))
def test_fuzz_gradient_check_rejects_wrong_shapes(problem, delta, which):
    net, x, y, loss = problem
    arrays = {"inputs": x, "targets": y}
    array = arrays[which]
    new_cols = array.shape[1] + delta
    assume(new_cols >= 1)
    arrays[which] = np.resize(array, (array.shape[0], new_cols))
    if which == "targets" and loss == "categorical_crossentropy":
        arrays[which] = np.eye(new_cols)[np.zeros(array.shape[0], dtype=int)]
    with pytest.raises(ValueError, match=f"{which} must have shape"):
        bp.gradient_check(net, arrays["inputs"], arrays["targets"], loss)


def test_gradient_check_rejects_empty_and_unknown_loss():
    with pytest.raises(ValueError, match="inputs must not be empty"):
        bp.gradient_check(_net(), np.empty((0, 2)), np.empty((0, 1)), "mse")
    with pytest.raises(ValueError, match="unknown loss 'cross_entropy'"):
        bp.gradient_check(_net(), XOR_X, XOR_Y, "cross_entropy")
