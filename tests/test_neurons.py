"""dlguide.neurons: the course's worked example, Keras agreement, shapes and bad input."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from dlguide.neurons import (
    compute_weighted_sum,
    draw_network,
    forward_propagate,
    initialize_network,
    layer_from_weights,
    node_activation,
)

X = [0.5, 0.85]
COURSE_NETWORK = [
    layer_from_weights([[0.9, 0.46], [0.42, 0.92]], [0.06, 0.34]),
    layer_from_weights([[0.66], [0.05]], [0.42]),
]


def test_course_worked_example_layer_by_layer():
    z1 = compute_weighted_sum(X, COURSE_NETWORK[0]["weights"], COURSE_NETWORK[0]["biases"])
    np.testing.assert_allclose(z1, [0.867, 1.352], atol=1e-12)
    a1 = node_activation(z1)
    np.testing.assert_allclose(a1, [0.7041, 0.7945], atol=5e-5)
    z2 = compute_weighted_sum(a1, COURSE_NETWORK[1]["weights"], COURSE_NETWORK[1]["biases"])
    np.testing.assert_allclose(z2, [0.9244], atol=5e-5)
    output, activations = forward_propagate(COURSE_NETWORK, X)
    assert output.shape == (1,)
    assert round(float(output[0]), 4) == 0.7159
    np.testing.assert_allclose(activations[1], a1)


def test_sigmoid_matches_the_formula_and_does_not_overflow():
    z = np.array([-1000.0, -5.0, 0.0, 0.867, 5.0, 1000.0])
    expected = [
        0.0,
        1 / (1 + math.exp(5)),
        0.5,
        1 / (1 + math.exp(-0.867)),
        1 / (1 + math.exp(-5)),
        1.0,
    ]
    with np.errstate(over="raise"):
        np.testing.assert_allclose(node_activation(z), expected, rtol=1e-12, atol=1e-300)


def test_forward_propagation_matches_keras_dense_layers():
    keras.utils.set_random_seed(3)
    network = initialize_network(5, 3, [3, 2, 3], 1, seed=3)
    model = keras.Sequential(
        [keras.Input(shape=(5,))]
        + [keras.layers.Dense(n, activation="sigmoid") for n in (3, 2, 3, 1)]
    )
    model.set_weights([layer[k] for layer in network for k in ("weights", "biases")])
    inputs = np.random.default_rng(3).uniform(size=(4, 5))
    expected = model.predict(inputs, verbose=0)
    ours = np.stack([forward_propagate(network, x)[0] for x in inputs])
    np.testing.assert_allclose(ours, expected, atol=1e-6)  # Keras computes in float32


def test_initialize_network_shapes_seed_and_range():
    network = initialize_network(5, 3, [3, 2, 3], 1, seed=7)
    assert [layer["weights"].shape for layer in network] == [(5, 3), (3, 2), (2, 3), (3, 1)]
    assert [layer["biases"].shape for layer in network] == [(3,), (2,), (3,), (1,)]
    again = initialize_network(5, 3, [3, 2, 3], 1, seed=7)
    other = initialize_network(5, 3, [3, 2, 3], 1, seed=8)
    for a, b, c in zip(network, again, other, strict=True):
        np.testing.assert_array_equal(a["weights"], b["weights"])
        assert not np.array_equal(a["weights"], c["weights"])
    values = np.concatenate([np.ravel(layer[k]) for layer in network for k in layer])
    assert values.min() >= 0.0 and values.max() < 1.0
    uniform = initialize_network(2, 2, 4, 3)
    assert [layer["weights"].shape for layer in uniform] == [(2, 4), (4, 4), (4, 3)]
    assert [layer["weights"].shape for layer in initialize_network(3, 0, [], 2)] == [(3, 2)]


def test_forward_propagate_returns_every_layers_activations():
    network = initialize_network(5, 3, [3, 2, 3], 1, seed=0)
    output, activations = forward_propagate(network, np.linspace(0, 1, 5))
    assert [a.shape for a in activations] == [(5,), (3,), (2,), (3,), (1,)]
    np.testing.assert_array_equal(output, activations[-1])
    np.testing.assert_allclose(activations[0], np.linspace(0, 1, 5))


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([0.5, 0.85, 0.1], "inputs must have length 2"),
        ([0.5], "inputs must have length 2"),
        ([0.5, np.nan], "finite"),
        ([0.5, np.inf], "finite"),
        ([[0.5, 0.85]], "must have 1 dimension"),
        ([], "must not be empty"),
    ],
)
def test_forward_propagate_rejects_bad_inputs(inputs, message):
    with pytest.raises(ValueError, match=message):
        forward_propagate(COURSE_NETWORK, inputs)


def test_forward_propagate_rejects_inconsistent_weights():
    broken = [COURSE_NETWORK[0], layer_from_weights([[0.66], [0.05], [0.1]], [0.42])]
    with pytest.raises(
        ValueError, match=r"layer 1: weights must have one row per input: expected 2"
    ):
        forward_propagate(broken, X)
    with pytest.raises(ValueError, match="at least one layer"):
        forward_propagate([], X)
    with pytest.raises(ValueError, match="'weights' and 'biases'"):
        forward_propagate([{"weights": np.ones((2, 1))}], X)
    with pytest.raises(TypeError, match="list of layers"):
        forward_propagate(COURSE_NETWORK[0], X)


def test_layer_and_weighted_sum_validation():
    with pytest.raises(ValueError, match=r"expected shape \(2,\), got \(3,\)"):
        layer_from_weights(np.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        layer_from_weights([[np.nan]], [0.0])
    with pytest.raises(ValueError, match="bias must have one entry per node"):
        compute_weighted_sum([1.0, 2.0], np.ones((2, 3)), np.ones(2))
    with pytest.raises(TypeError, match="numeric"):
        compute_weighted_sum(["a", "b"], np.ones((2, 1)), [0.0])
    with pytest.raises(ValueError, match="finite"):
        node_activation([0.0, np.nan])


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 1, 2, 1), ValueError, "num_inputs must be at least 1, got 0"),
        ((2, -1, 2, 1), ValueError, "num_hidden_layers must be at least 0"),
        ((2, 2, [3], 1), ValueError, "must list 2 layer sizes"),
        ((2, 1, 0, 1), ValueError, "num_nodes_hidden must be at least 1"),
        ((2.5, 1, 2, 1), TypeError, "num_inputs must be an int, got float"),
        ((2, 1, 2, True), TypeError, "num_nodes_output must be an int, got bool"),
    ],
)
def test_initialize_network_rejects_bad_sizes(args, error, message):
    with pytest.raises(error, match=message):
        initialize_network(*args)


def test_draw_network_draws_one_circle_per_neuron_and_one_line_per_weight():
    ax = draw_network([5, 3, 2, 3, 1])
    assert len(ax.patches) == 5 + 3 + 2 + 3 + 1
    assert len(ax.lines) == 5 * 3 + 3 * 2 + 2 * 3 + 3 * 1
    assert ax.get_xlabel() == "layer"
    with pytest.raises(ValueError, match="at least 2 layers"):
        draw_network([3])
    with pytest.raises(TypeError, match="sequence of ints"):
        draw_network("3-2-1")
