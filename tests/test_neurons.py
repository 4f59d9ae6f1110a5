"""dlguide.neurons: the course's worked example, forward passes against Keras, shapes, bad input."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from dlguide import activations as act
from dlguide.neurons import (
    LAYER_ACTIVATIONS,
    dense,
    draw_network,
    forward_propagate,
    init_network,
    initialize_network,
)

X = [0.5, 0.85]
COURSE_NETWORK = [
    dense([[0.9, 0.46], [0.42, 0.92]], [0.06, 0.34]),
    dense([[0.66], [0.05]], [0.42]),
]
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def to_keras(network, dtype="float32"):
    """A keras.Sequential with the same architecture and a copy of the network's weights."""
    model = keras.Sequential(
        [keras.Input((network[0]["weights"].shape[0],), dtype=dtype)]
        + [
            keras.layers.Dense(layer["weights"].shape[1], layer["activation"], dtype=dtype)
            for layer in network
        ]
    )
    for keras_layer, layer in zip(model.layers, network, strict=True):
        keras_layer.set_weights([layer["weights"], layer["biases"]])
    return model


# ------------------------------------------------------------------------------------ references


def test_course_worked_example_layer_by_layer():
    output, activations = forward_propagate(COURSE_NETWORK, X)
    z1 = np.asarray(X) @ COURSE_NETWORK[0]["weights"] + COURSE_NETWORK[0]["biases"]
    np.testing.assert_allclose(z1, [0.867, 1.352], atol=1e-12)
    np.testing.assert_allclose(activations[1], [0.7041, 0.7945], atol=5e-5)
    z2 = activations[1] @ COURSE_NETWORK[1]["weights"] + COURSE_NETWORK[1]["biases"]
    np.testing.assert_allclose(z2, [0.9244], atol=5e-5)
    assert output.shape == (1,)
    assert round(float(output[0]), 4) == 0.7159


def test_the_network_sigmoid_is_the_activations_sigmoid():
    # one sigmoid: a sigmoid layer computes activations.sigmoid, without overflow at +-1000
    z = np.array([-1000.0, -5.0, 0.0, 0.867, 5.0, 1000.0])
    layer = dense(np.diag(z), np.zeros(6))
    with np.errstate(over="raise"):
        out, _ = forward_propagate([layer], np.ones(6))
    np.testing.assert_array_equal(out, act.sigmoid(z))
    expected = [0.0, 1 / (1 + math.exp(5)), 0.5, 1 / (1 + math.exp(-0.867)), 1 / (1 + math.exp(-5))]
    np.testing.assert_allclose(out, [*expected, 1.0], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("activation", LAYER_ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_propagate_matches_keras_dense_layers(activation, dtype):
    network = init_network([5, 4, 3], ["tanh", activation], seed=3, dtype=dtype)
    inputs = np.random.default_rng(3).normal(size=(6, 5)).astype(dtype)
    output, activations = forward_propagate(network, inputs)
    assert output.dtype == dtype and [a.shape for a in activations] == [(6, 5), (6, 4), (6, 3)]
    expected = to_keras(network, dtype)(inputs).numpy()
    tol = 1e-5 if dtype == "float32" else 1e-12  # float32 rounds at ~1e-7 per operation
    np.testing.assert_allclose(output, expected, rtol=tol, atol=tol)


def test_one_example_and_a_batch_give_the_same_rows():
    network = initialize_network(5, 3, [3, 2, 3], 1, seed=3)
    batch = np.random.default_rng(3).uniform(size=(4, 5))
    rows = np.stack([forward_propagate(network, x)[0] for x in batch])
    np.testing.assert_allclose(forward_propagate(network, batch)[0], rows, rtol=1e-15)


def test_initialize_network_shapes_seed_and_range():
    network = initialize_network(5, 3, [3, 2, 3], 1, seed=7)
    assert [layer["weights"].shape for layer in network] == [(5, 3), (3, 2), (2, 3), (3, 1)]
    assert [layer["biases"].shape for layer in network] == [(3,), (2,), (3,), (1,)]
    assert {layer["activation"] for layer in network} == {"sigmoid"}
    again = initialize_network(5, 3, [3, 2, 3], 1, seed=7)
    other = initialize_network(5, 3, [3, 2, 3], 1, seed=8)
    for a, b, c in zip(network, again, other, strict=True):
        np.testing.assert_array_equal(a["weights"], b["weights"])
        assert not np.array_equal(a["weights"], c["weights"])
    values = np.concatenate(
        [np.ravel(layer[k]) for layer in network for k in ("weights", "biases")]
    )
    assert values.min() >= 0.0 and values.max() < 1.0
    uniform = initialize_network(2, 2, 4, 3)
    assert [layer["weights"].shape for layer in uniform] == [(2, 4), (4, 4), (4, 3)]
    assert [layer["weights"].shape for layer in initialize_network(3, 0, [], 2)] == [(3, 2)]


def test_init_network_glorot_limits_and_uniform_scale():
    net = init_network([30, 20, 10], ["relu", "linear"], seed=0)
    for layer in net:
        n_in, n_out = layer["weights"].shape
        assert np.abs(layer["weights"]).max() <= math.sqrt(6 / (n_in + n_out))
        np.testing.assert_array_equal(layer["biases"], 0.0)
    scaled = init_network([2, 2, 1], "sigmoid", seed=0, scale=1.0)
    assert all(np.abs(layer["biases"]).max() > 0 for layer in scaled)


def test_forward_propagate_returns_every_layers_activations():
    network = initialize_network(5, 3, [3, 2, 3], 1, seed=0)
    output, activations = forward_propagate(network, np.linspace(0, 1, 5))
    assert [a.shape for a in activations] == [(5,), (3,), (2,), (3,), (1,)]
    np.testing.assert_array_equal(output, activations[-1])
    np.testing.assert_allclose(activations[0], np.linspace(0, 1, 5))


def test_draw_network_draws_one_circle_per_neuron_and_one_line_per_weight():
    ax = draw_network([5, 3, 2, 3, 1])
    assert len(ax.patches) == 5 + 3 + 2 + 3 + 1
    assert len(ax.lines) == 5 * 3 + 3 * 2 + 2 * 3 + 3 * 1
    assert ax.get_xlabel() == "layer"


# ------------------------------------------------------------------------------------ bad input


def _net():
    return init_network([2, 3, 1], "sigmoid", seed=0)


GOOD = _net()
BAD_NETWORKS = [
    pytest.param([], ValueError, "at least one layer", id="empty-network"),
    pytest.param(GOOD[0], TypeError, "list of layer dicts", id="one-layer-dict"),
    pytest.param("net", TypeError, "list of layer dicts", id="a-string"),
    pytest.param([GOOD[0], 3], TypeError, r"network\[1\] must be a layer dict", id="not-a-dict"),
    pytest.param(
        [{"weights": GOOD[0]["weights"]}, GOOD[1]], ValueError, "missing", id="missing-keys"
    ),
    pytest.param(
        [GOOD[0], dense(np.ones((2, 1)), [0.0])], ValueError, r"must have 3 rows", id="no-chain"
    ),
    pytest.param(
        [GOOD[0], {**GOOD[1], "weights": GOOD[1]["weights"].astype(np.float32)}],
        ValueError,
        "share one dtype",
        id="mixed-dtypes",
    ),
    pytest.param(
        [{**GOOD[0], "activation": "Sigmoid"}, GOOD[1]],
        ValueError,
        r"activation of network\[0\] must be one of",
        id="unknown-activation",
    ),
    pytest.param(
        [{**GOOD[0], "activation": 3}, GOOD[1]], TypeError, "must be a str", id="activation-int"
    ),
    pytest.param(
        [{**GOOD[0], "biases": np.array([0.0, np.nan, 0.0])}, GOOD[1]],
        ValueError,
        "finite",
        id="nan-bias",
    ),
    pytest.param(
        [{**GOOD[0], "biases": np.zeros(2)}, GOOD[1]], ValueError, r"shape \(3,\)", id="bias-size"
    ),
    pytest.param(
        [{**GOOD[0], "weights": [[1.0, 2.0, 3.0]] * 2}, GOOD[1]],
        TypeError,
        "NumPy array",
        id="list-weights",
    ),
    pytest.param(
        [{**GOOD[0], "weights": np.ones((2, 3), dtype=int)}, GOOD[1]],
        ValueError,
        "float32 or float64",
        id="int-weights",
    ),
    pytest.param(
        [{**GOOD[0], "weights": np.ones(3)}, GOOD[1]], ValueError, "2 dimension", id="1-d-weights"
    ),
]


@pytest.mark.parametrize(("network", "error", "match"), BAD_NETWORKS)
def test_forward_propagate_rejects_malformed_networks(network, error, match):
    with pytest.raises(error, match=match):
        forward_propagate(network, XOR_X)


BAD_INPUTS = [
    pytest.param([0.5, 0.85, 0.1], ValueError, r"shape \(2,\) or \(N, 2\)", id="too-long"),
    pytest.param([0.5], ValueError, r"shape \(2,\) or \(N, 2\).*got \(1,\)", id="too-short"),
    pytest.param(np.ones((4, 3)), ValueError, r"got \(4, 3\)", id="batch-wrong-width"),
    pytest.param(np.ones((1, 1, 2)), ValueError, r"got \(1, 1, 2\)", id="3-d"),
    pytest.param(0.5, ValueError, r"got \(\)", id="scalar"),
    pytest.param([0.5, np.nan], ValueError, "finite", id="nan"),
    pytest.param([0.5, np.inf], ValueError, "finite", id="inf"),
    pytest.param([[np.inf, 1.0]], ValueError, "finite", id="batch-inf"),
    pytest.param([], ValueError, "must not be empty", id="empty"),
    pytest.param(np.ones((0, 2)), ValueError, "must not be empty", id="empty-batch"),
    pytest.param(["a", "b"], TypeError, "numeric", id="strings"),
    pytest.param([[1.0, 2.0], [3.0]], TypeError, "rectangular", id="ragged"),
    pytest.param([1 + 2j, 0.0], TypeError, "complex128", id="complex"),
]


@pytest.mark.parametrize(("inputs", "error", "match"), BAD_INPUTS)
def test_forward_propagate_rejects_bad_inputs(inputs, error, match):
    with pytest.raises(error, match=match):
        forward_propagate(COURSE_NETWORK, inputs)


BAD_BUILDS = [
    pytest.param(
        lambda: dense(np.ones((2, 2)), np.ones(3)),
        ValueError,
        r"shape \(2,\).*got \(3,\)",
        id="dense-bias-size",
    ),
    pytest.param(lambda: dense([[np.nan]], [0.0]), ValueError, "finite", id="dense-nan"),
    pytest.param(lambda: dense([[1.0]], [0.0], "gelu"), ValueError, "gelu", id="dense-gelu"),
    pytest.param(lambda: dense([1.0], [0.0]), ValueError, "2 dimension", id="dense-1-d"),
    pytest.param(lambda: dense([[1.0]], [[0.0]]), ValueError, "1 dimension", id="dense-2-d-bias"),
    pytest.param(lambda: dense([[]], []), ValueError, "empty", id="dense-empty"),
    pytest.param(lambda: dense([["a"]], [0.0]), TypeError, "numeric", id="dense-strings"),
    pytest.param(
        lambda: dense([[1.0]], [0.0], dtype=np.float16),
        ValueError,
        "float32 or float64",
        id="dense-float16",
    ),
    pytest.param(
        lambda: dense([[1.0]], [0.0], dtype="nonsense"),
        TypeError,
        "float32 or float64",
        id="dense-bad-dtype",
    ),
    pytest.param(lambda: init_network([2, 3, 1], "swish"), ValueError, "swish", id="init-swish"),
    pytest.param(
        lambda: init_network([2, 3, 1], ["relu"]), ValueError, "2 names.*got 1", id="init-names"
    ),
    pytest.param(
        lambda: init_network([2], "relu"), ValueError, "at least the inputs", id="init-one-size"
    ),
    pytest.param(lambda: init_network([2, 0, 1], "relu"), ValueError, "at least 1", id="init-0"),
    pytest.param(lambda: init_network([2, 1.5, 1]), TypeError, "must be an int", id="init-float"),
    pytest.param(lambda: init_network("2-3-1"), TypeError, "sequence of ints", id="init-string"),
    pytest.param(
        lambda: init_network([2, 1], "relu", dtype=np.float16),
        ValueError,
        "float32 or float64",
        id="init-float16",
    ),
    pytest.param(
        lambda: init_network([2, 1], "relu", scale=-1.0), ValueError, "> 0", id="init-scale"
    ),
    pytest.param(
        lambda: init_network([2, 1], "relu", scale=np.inf), ValueError, "finite", id="init-inf"
    ),
    pytest.param(
        lambda: initialize_network(0, 1, 2, 1),
        ValueError,
        "num_inputs must be at least 1, got 0",
        id="course-no-inputs",
    ),
    pytest.param(
        lambda: initialize_network(2, -1, 2, 1),
        ValueError,
        "num_hidden_layers must be at least",
        id="course-negative-hidden",
    ),
    pytest.param(
        lambda: initialize_network(2, 2, [3], 1),
        ValueError,
        "must list 2 layer sizes",
        id="course-hidden-list",
    ),
    pytest.param(
        lambda: initialize_network(2, 1, 0, 1),
        ValueError,
        "num_nodes_hidden must be at least 1",
        id="course-zero-nodes",
    ),
    pytest.param(
        lambda: initialize_network(2.5, 1, 2, 1),
        TypeError,
        "num_inputs must be an int",
        id="course-float",
    ),
    pytest.param(
        lambda: initialize_network(2, 1, 2, True),
        TypeError,
        "num_nodes_output must be an int",
        id="course-bool",
    ),
    pytest.param(lambda: draw_network([3]), ValueError, "at least 2 layers", id="draw-one-layer"),
    pytest.param(lambda: draw_network("3-2-1"), TypeError, "sequence of ints", id="draw-string"),
    pytest.param(lambda: draw_network([3, 0]), ValueError, "at least 1", id="draw-zero"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_BUILDS)
def test_builders_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
