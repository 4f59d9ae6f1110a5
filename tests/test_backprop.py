"""Tests for dlguide.backprop: gradients against tf.GradientTape and finite differences, training
steps against keras.optimizers.SGD, then table-driven and fuzzed bad input."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_neurons import BAD_NETWORKS  # the malformed networks every entry point rejects

from dlguide import activations as act
from dlguide import backprop as bp
from dlguide.neurons import dense, forward_propagate, init_network

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
    for keras_layer, layer in zip(model.layers, network, strict=True):
        keras_layer.set_weights([layer["weights"], layer["biases"]])
    return model


KERAS_LOSSES = {
    "mse": keras.losses.MeanSquaredError,
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
}


# -------------------------------------------------------------------------------------------------
# forward pass


@pytest.mark.parametrize(("sizes", "activations", "loss"), CONFIGS, ids=IDS)
@pytest.mark.tensorflow_reference
def test_forward_and_loss_match_keras(sizes, activations, loss):
    net = init_network(sizes, activations, seed=1, dtype=np.float32)
    x, y = make_data(sizes, loss, dtype=np.float32)
    model = to_keras(net)
    ours, _ = forward_propagate(net, x)
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
    net = init_network(sizes, activations, seed=2)
    x, y = make_data(sizes, loss, seed=3)
    error = bp.gradient_check(net, x, y, loss)
    # central differences with eps=1e-6 are accurate to ~1e-9 relative in float64
    assert error < 1e-6, error


@pytest.mark.parametrize(("sizes", "activations", "loss"), CONFIGS, ids=IDS)
@pytest.mark.tensorflow_reference
def test_gradients_match_gradient_tape_float32(sizes, activations, loss):
    net = init_network(sizes, activations, seed=4, dtype=np.float32)
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
        dense([[0.9, 0.46], [0.42, 0.92]], [0.06, 0.34], "sigmoid"),
        dense([[0.66], [0.05]], [0.42], "sigmoid"),
    ]
    x = np.array([[0.5, 0.85]])
    _, acts = forward_propagate(net, x)
    h, out = acts[1][0], acts[2][0, 0]
    delta_out = 2 * (out - 1.0) * out * (1 - out)
    delta_hidden = delta_out * net[1]["weights"][:, 0] * h * (1 - h)
    grads = bp.backward(net, acts, np.array([[1.0]]), "mse")
    np.testing.assert_allclose(grads[1]["weights"][:, 0], delta_out * h, rtol=1e-12)
    np.testing.assert_allclose(grads[1]["biases"], [delta_out], rtol=1e-12)
    np.testing.assert_allclose(grads[0]["weights"], np.outer(x[0], delta_hidden), rtol=1e-12)
    np.testing.assert_allclose(grads[0]["biases"], delta_hidden, rtol=1e-12)


def test_chain_gradient_is_product_of_local_derivatives():
    # dL/dw1 of a chain of 1-neuron sigmoid layers:
    # 2(a_n - t) * prod_k sigma'(z_k) * prod_{k>1} w_k * x
    weights, biases = [0.15] + [0.45] * 5, [0.4] + [0.65] * 5
    net = [dense([[w]], [b], "sigmoid") for w, b in zip(weights, biases, strict=True)]
    x, t = 0.1, 0.25
    _, acts = forward_propagate(net, [[x]])
    a = [float(v[0, 0]) for v in acts[1:]]
    expected = 2 * (a[-1] - t) * np.prod([ak * (1 - ak) for ak in a]) * np.prod(weights[1:]) * x
    _, grads = bp.gradients(net, [[x]], [[t]], "mse")
    assert grads[0]["weights"][0, 0] == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_shortcut_equals_general_chain_rule():
    # sigmoid + BCE and softmax + CCE use delta = (a - y)/N(K); it must equal dL/da * f'(z), with
    # dL/da differentiated from compute_loss and f'(z) from dlguide.activations
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(4, 3)), rng.normal(size=(5, 4))
    z = x @ w
    for name, loss, y in [
        ("sigmoid", "binary_crossentropy", rng.integers(0, 2, size=(5, 3)).astype(float)),
        ("softmax", "categorical_crossentropy", np.eye(3)[[0, 2, 1, 1, 0]]),
    ]:
        net = [dense(w, np.zeros(3), name)]
        a, acts = forward_propagate(net, x)
        if loss == "binary_crossentropy":
            dl_da = (a - y) / (a * (1 - a)) / a.size
        else:
            dl_da = -y / a / len(a)
        general = np.stack([act.get(name).jvp(z[i], dl_da[i]) for i in range(len(z))])
        shortcut = bp.backward(net, acts, y, loss)[0]["weights"]
        np.testing.assert_allclose(shortcut, x.T @ general, rtol=1e-10, atol=1e-15)


def test_numerical_gradients_leave_network_unchanged():
    net = init_network([2, 3, 1], "tanh", seed=0)
    before = [layer["weights"].copy() for layer in net]
    bp.numerical_gradients(net, XOR_X, XOR_Y, "mse")
    for layer, w in zip(net, before, strict=True):
        np.testing.assert_array_equal(layer["weights"], w)


def test_gradient_check_detects_a_wrong_gradient(monkeypatch):
    # a backward pass that forgets the sigmoid derivative must fail the check
    net = init_network([2, 3, 1], "sigmoid", seed=0)
    monkeypatch.setitem(bp.ACTIVATION_BACKWARD, "sigmoid", lambda a, g: g)
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
    net = init_network(sizes, activations, seed=6, dtype=np.float32)
    x, y = make_data(sizes, loss, n=8, seed=7, dtype=np.float32)
    model = to_keras(net)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss=loss)
    keras_history = model.fit(
        x, y, batch_size=batch_size or len(x), epochs=epochs, shuffle=False, verbose=0
    )
    trained, history = bp.train(
        net, x, y, loss, learning_rate=0.5, epochs=epochs, batch_size=batch_size, shuffle=False
    )
    for layer, keras_layer in zip(trained, model.layers, strict=True):
        w, b = keras_layer.get_weights()
        np.testing.assert_allclose(layer["weights"], w, rtol=1e-5, atol=1e-6)  # float32 rounding
        np.testing.assert_allclose(layer["biases"], b, rtol=1e-5, atol=1e-6)
    # per-epoch loss: Keras averages the batch losses weighted by batch size, as train does
    np.testing.assert_allclose(history.loss, keras_history.history["loss"], rtol=1e-5)


def test_train_does_not_modify_its_input_and_sgd_step_is_pure():
    net = init_network([2, 2, 1], "sigmoid", seed=0, scale=1.0)
    before = [layer["weights"].copy() for layer in net]
    trained, _ = bp.train(net, XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=5)
    _, grads = bp.gradients(net, XOR_X, XOR_Y, "mse")
    stepped = bp.sgd_step(net, grads, 0.1)
    for layer, w in zip(net, before, strict=True):
        np.testing.assert_array_equal(layer["weights"], w)
    np.testing.assert_allclose(stepped[0]["weights"], before[0] - 0.1 * grads[0]["weights"])
    assert not np.array_equal(trained[0]["weights"], before[0])


def test_train_full_batch_equals_repeated_sgd_steps():
    net = init_network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
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
    net = init_network([2, 4, 1], ["tanh", "sigmoid"], seed=0)
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
    net = init_network([2, 3, 1], "sigmoid", seed=0)
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
    net = init_network([2, 2, 1], "sigmoid", seed=0, scale=1.0)
    trained, _ = bp.train(net, XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=30_000)
    out = forward_propagate(trained, XOR_X)[0][:, 0]
    assert np.sum(np.abs(out - 0.5) < 0.02) == 2
    assert np.sum(np.abs(out - XOR_Y[:, 0]) < 0.1) == 2  # the other two are nearly right


def test_train_raises_on_divergence():
    net = init_network([1, 1], "linear", seed=0)
    x = np.linspace(-1, 1, 8)[:, None] * 1e3
    with pytest.raises(ValueError, match=r"diverged.*epoch"):
        bp.train(net, x, 2 * x, "mse", learning_rate=10.0, epochs=200)


# -------------------------------------------------------------------------------------------------
# bad input: every entry point checks its arguments once, at the door


def _net():
    return init_network([2, 3, 1], "sigmoid", seed=0)


def _softmax_net():
    return init_network([2, 3, 2], ["tanh", "softmax"], seed=0)


def _grads():
    return bp.gradients(_net(), XOR_X, XOR_Y, "mse")[1]


ONE_HOT = np.eye(2)[[0, 1, 1, 0]]
BAD_CALLS = [
    # gradients: shapes, names and the loss/output pairing
    pytest.param(
        lambda: bp.gradients(_net(), np.ones((4, 3)), XOR_Y, "mse"),
        ValueError,
        r"shape \(N, 2\).*got \(4, 3\)",
        id="gradients-inputs-wrong-width",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), np.ones(2), XOR_Y, "mse"),
        ValueError,
        r"2 dimension.*got shape \(2,\)",
        id="gradients-inputs-1-d",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), XOR_X, XOR_Y[:3], "mse"),
        ValueError,
        r"shape \(4, 1\).*got \(3, 1\)",
        id="gradients-targets-too-few",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), XOR_X, np.ones((4, 2)), "mse"),
        ValueError,
        r"shape \(4, 1\).*got \(4, 2\)",
        id="gradients-targets-too-wide",
    ),
    pytest.param(
        lambda: bp.gradients([], XOR_X, XOR_Y, "mse"),
        ValueError,
        "at least one layer",
        id="gradients-empty-network",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), XOR_X, XOR_Y, "hinge"),
        ValueError,
        "loss must be one of.*mse.*got 'hinge'",
        id="gradients-unknown-loss",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), XOR_X, XOR_Y, None),
        TypeError,
        "loss must be a str",
        id="gradients-loss-none",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), XOR_X, XOR_Y * 2, "binary_crossentropy"),
        ValueError,
        r"must lie in \[0, 1\]",
        id="gradients-bce-targets-above-1",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), XOR_X, XOR_Y - 1, "binary_crossentropy"),
        ValueError,
        r"must lie in \[0, 1\]",
        id="gradients-bce-targets-below-0",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), XOR_X, XOR_Y, "categorical_crossentropy"),
        ValueError,
        "needs a 'softmax' output layer, got a 'sigmoid'",
        id="gradients-cce-sigmoid",
    ),
    pytest.param(
        lambda: bp.gradients(_softmax_net(), XOR_X, ONE_HOT, "binary_crossentropy"),
        ValueError,
        "needs a 'sigmoid' output layer, got a 'softmax'",
        id="gradients-bce-softmax",
    ),
    pytest.param(
        lambda: bp.gradients(
            _softmax_net(), XOR_X, np.full((4, 2), 0.25), "categorical_crossentropy"
        ),
        ValueError,
        "summing to 1",
        id="gradients-cce-rows-not-summing-to-1",
    ),
    pytest.param(
        lambda: bp.gradients(_net()[0], XOR_X, XOR_Y, "mse"),
        TypeError,
        "list of layer dicts",
        id="gradients-layer-not-network",
    ),
    pytest.param(
        lambda: bp.gradients(_net(), [["a", "b"]], [[1.0]], "mse"),
        TypeError,
        "numeric",
        id="gradients-string-inputs",
    ),
    # numerical_gradients and gradient_check: the step
    pytest.param(
        lambda: bp.gradient_check(_net(), XOR_X, XOR_Y, "mse", eps=0.0),
        ValueError,
        "eps must be > 0",
        id="gradient-check-eps-zero",
    ),
    pytest.param(
        lambda: bp.numerical_gradients(_net(), XOR_X, XOR_Y, "mse", eps=np.nan),
        ValueError,
        "eps must be finite",
        id="numerical-eps-nan",
    ),
    pytest.param(
        lambda: bp.numerical_gradients(_net(), XOR_X, XOR_Y, "mse", eps="small"),
        TypeError,
        "eps must be a real number",
        id="numerical-eps-string",
    ),
    pytest.param(
        lambda: bp.gradient_check(_net(), np.empty((0, 2)), np.empty((0, 1)), "mse"),
        ValueError,
        "inputs must not be empty",
        id="gradient-check-empty",
    ),
    pytest.param(
        lambda: bp.gradient_check(_net(), XOR_X, XOR_Y, "cross_entropy"),
        ValueError,
        "got 'cross_entropy'",
        id="gradient-check-unknown-loss",
    ),
    # relative_error
    pytest.param(
        lambda: bp.relative_error([], []), ValueError, "non-empty list", id="relerr-empty"
    ),
    pytest.param(
        lambda: bp.relative_error({"weights": 1}, {"weights": 1}),
        ValueError,
        "non-empty list",
        id="relerr-dict",
    ),
    pytest.param(
        lambda: bp.relative_error([{"weights": np.ones(1)}], [{"weights": np.ones(1)}]),
        ValueError,
        "'weights' and 'biases'",
        id="relerr-missing-biases",
    ),
    pytest.param(
        lambda: bp.relative_error(
            [{"weights": np.ones((1, 1)), "biases": np.ones(1)}],
            [{"weights": np.ones((1, 2)), "biases": np.ones(1)}],
        ),
        ValueError,
        "same shapes",
        id="relerr-shapes-differ",
    ),
    pytest.param(
        lambda: bp.relative_error(
            [{"weights": np.full((1, 1), np.nan), "biases": np.ones(1)}],
            [{"weights": np.ones((1, 1)), "biases": np.ones(1)}],
        ),
        ValueError,
        "finite",
        id="relerr-nan",
    ),
    # sgd_step
    pytest.param(
        lambda: bp.sgd_step(_net(), _grads()[:1], 0.1),
        ValueError,
        "one entry per layer",
        id="sgd-step-too-few-grads",
    ),
    pytest.param(
        lambda: bp.sgd_step(_net(), _grads()[::-1], 0.1),
        ValueError,
        "shapes of the layers",
        id="sgd-step-grads-swapped",
    ),
    pytest.param(
        lambda: bp.sgd_step(_net(), _grads(), -1.0), ValueError, "> 0", id="sgd-step-negative-rate"
    ),
    pytest.param(
        lambda: bp.sgd_step(_net(), _grads(), "0.1"),
        TypeError,
        "learning_rate must be a real",
        id="sgd-step-string-rate",
    ),
    pytest.param(
        lambda: bp.sgd_step([], [], 0.1), ValueError, "at least one layer", id="sgd-step-empty"
    ),
    # train
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=0),
        ValueError,
        "epochs must be at least 1",
        id="train-zero-epochs",
    ),
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=2.5),
        TypeError,
        "epochs must be an int",
        id="train-float-epochs",
    ),
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.0, epochs=1),
        ValueError,
        "learning_rate must be > 0",
        id="train-zero-rate",
    ),
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1, batch_size=0),
        ValueError,
        "batch_size must be at least 1",
        id="train-zero-batch",
    ),
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1, batch_size=2.0),
        TypeError,
        "batch_size must be an int",
        id="train-float-batch",
    ),
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1, tol=-1.0),
        ValueError,
        "tol must be None or >= 0",
        id="train-negative-tol",
    ),
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1, monitor="acc"),
        ValueError,
        "monitor must be one of",
        id="train-unknown-monitor",
    ),
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1, shuffle=1),
        TypeError,
        "shuffle must be True or False",
        id="train-shuffle-int",
    ),
    pytest.param(
        lambda: bp.train(_net(), XOR_X, XOR_Y, "hinge", learning_rate=0.1, epochs=1),
        ValueError,
        "got 'hinge'",
        id="train-unknown-loss",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_CALLS)
def test_entry_points_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


NAN_X = np.where(XOR_X == 1.0, np.nan, XOR_X)
BAD_ARRAYS = {  # variant -> (inputs, targets, error, expected message)
    "nan-inputs": (NAN_X, XOR_Y, ValueError, "inputs must contain only finite values"),
    "inf-inputs": (
        np.where(XOR_X == 1.0, np.inf, XOR_X),
        XOR_Y,
        ValueError,
        "inputs must contain only finite values",
    ),
    "inf-targets": (
        XOR_X,
        np.where(XOR_Y == 1, np.inf, XOR_Y),
        ValueError,
        "targets must contain only finite",
    ),
    "empty": (np.empty((0, 2)), np.empty((0, 1)), ValueError, "must not be empty"),
    "1-d-inputs": (XOR_X.ravel(), XOR_Y, ValueError, r"inputs must have 2 dimension\(s\)"),
    "1-d-targets": (XOR_X, XOR_Y.ravel(), ValueError, r"targets must have 2 dimension\(s\)"),
    "string-targets": (XOR_X, [["a"]] * 4, TypeError, "targets must hold numbers"),
    "ragged-inputs": ([[0.0, 1.0], [1.0]], XOR_Y[:2], TypeError, "inputs must hold numbers"),
}
DATA_FUNCTIONS = {
    "gradients": lambda x, y: bp.gradients(_net(), x, y, "mse"),
    "numerical_gradients": lambda x, y: bp.numerical_gradients(_net(), x, y, "mse"),
    "gradient_check": lambda x, y: bp.gradient_check(_net(), x, y, "mse"),
    "train": lambda x, y: bp.train(_net(), x, y, "mse", learning_rate=0.1, epochs=1),
}


@pytest.mark.parametrize(
    ("function", "variant"),
    [pytest.param(f, v, id=f"{f}-{v}") for f in DATA_FUNCTIONS for v in BAD_ARRAYS],
)
def test_every_data_function_rejects_bad_arrays(function, variant):
    x, y, error, match = BAD_ARRAYS[variant]
    with pytest.raises(error, match=match):
        DATA_FUNCTIONS[function](x, y)


@pytest.mark.parametrize(("network", "error", "match"), BAD_NETWORKS)
@pytest.mark.parametrize("function", ["gradients", "train"])
def test_entry_points_reject_malformed_networks(function, network, error, match):
    call = {
        "gradients": lambda: bp.gradients(network, XOR_X, XOR_Y, "mse"),
        "train": lambda: bp.train(network, XOR_X, XOR_Y, "mse", learning_rate=0.1, epochs=1),
    }[function]
    with pytest.raises(error, match=match):
        call()


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
        loss, draw(st.sampled_from(["sigmoid", "tanh", "relu", "linear", "softmax"]))
    )
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 5))
    net = init_network(sizes, [*hidden, output], seed=seed)
    x, y = make_data(sizes, loss, n=n, seed=seed)
    return net, x, y, loss


@settings(max_examples=60, deadline=None)
@given(problems())
def test_fuzz_gradient_check_agrees(problem):
    net, x, y, loss = problem
    _, acts = forward_propagate(net, x)
    zs = [a @ layer["weights"] + layer["biases"] for a, layer in zip(acts, net, strict=False)]
    relu_zs = [z for z, layer in zip(zs, net, strict=True) if layer["activation"] == "relu"]
    # a finite difference straddling a ReLU kink is not a derivative: keep clear of it
    assume(all(np.min(np.abs(z)) > 1e-4 for z in relu_zs))
    numeric = bp.numerical_gradients(net, x, y, loss)
    _, analytic = bp.gradients(net, x, y, loss)
    # float64 central differences, eps=1e-6, agree to ~1e-9 relative. When every gradient is 0
    # (all ReLUs dead, or a flat sigmoid) the relative error compares rounding noise (~1e-11)
    # with 0, so that case is checked in absolute terms instead.
    if max(np.abs(g[k]).max() for g in analytic for k in ("weights", "biases")) < 1e-9:
        assert all(np.abs(g[k]).max() < 1e-9 for g in numeric for k in ("weights", "biases"))
    else:
        assert bp.relative_error(analytic, numeric) < 1e-6


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
