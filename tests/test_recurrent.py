"""Tests for dlguide.recurrent: NumPy SimpleRNN, LSTM and GRU against the Keras layers.

Each Keras layer is built with random weights (biases made non-zero so that they are tested too);
its `get_weights()` go into the NumPy layer, and the outputs must agree to float32 precision.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from dlguide import recurrent

LAYERS = {
    "simple_rnn": (keras.layers.SimpleRNN, recurrent.simple_rnn),
    "lstm": (keras.layers.LSTM, recurrent.lstm),
    "gru": (keras.layers.GRU, recurrent.gru),
}


def _keras_layer(kind: str, units: int, features: int, return_sequences: bool, seed: int):
    keras.utils.set_random_seed(seed)
    layer = LAYERS[kind][0](units, return_sequences=return_sequences)
    layer.build((None, None, features))
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [w + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in layer.get_weights()]
    )
    return layer


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize(
    ("batch", "steps", "features", "units"),
    [(1, 1, 1, 1), (3, 7, 4, 5), (2, 25, 3, 16), (5, 4, 10, 2)],
    ids=["tiny", "small", "long", "wide-input"],
)
def test_numpy_layer_equals_keras(
    kind: str, return_sequences: bool, batch: int, steps: int, features: int, units: int
) -> None:
    layer = _keras_layer(kind, units, features, return_sequences, seed=steps + units)
    x = np.random.default_rng(units).normal(size=(batch, steps, features)).astype("float32")
    expected = keras.ops.convert_to_numpy(layer(x))
    got = LAYERS[kind][1](x, *layer.get_weights(), return_sequences=return_sequences)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_cells_step_like_keras_cells() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4)).astype("float32")
    h = rng.normal(size=(3, 6)).astype("float32")
    c = rng.normal(size=(3, 6)).astype("float32")
    for cell_cls, fn, state in (
        (keras.layers.SimpleRNNCell, recurrent.simple_rnn_cell, h),
        (keras.layers.LSTMCell, recurrent.lstm_cell, (h, c)),
        (keras.layers.GRUCell, recurrent.gru_cell, h),
    ):
        cell = cell_cls(6)
        cell.build((None, 4))
        cell.set_weights(
            [w + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in cell.get_weights()]
        )
        keras_state = [
            keras.ops.convert_to_tensor(s)
            for s in (state if isinstance(state, tuple) else (state,))
        ]
        out, new_state = cell(x, keras_state)
        got = fn(x, state, *cell.get_weights())
        got_h = got[0] if isinstance(got, tuple) else got
        np.testing.assert_allclose(got_h, keras.ops.convert_to_numpy(out), atol=1e-5)
        if isinstance(got, tuple):  # the LSTM's cell state too
            np.testing.assert_allclose(got[1], keras.ops.convert_to_numpy(new_state[1]), atol=1e-5)


def test_gru_reset_after_differs_from_reset_before() -> None:
    # Our GRU is Keras' default reset_after=True; the classic variant gives other numbers.
    keras.utils.set_random_seed(1)
    classic = keras.layers.GRU(4, reset_after=False)
    x = np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(classic(x))
    kernel, recurrent_kernel, bias = classic.get_weights()
    bias = np.random.default_rng(2).normal(size=(2, 12))
    ours = recurrent.gru(x, kernel, recurrent_kernel, bias)
    assert ours.shape == expected.shape and not np.allclose(ours, expected, atol=1e-3)


W1 = (np.ones((2, 3)), np.ones((3, 3)), np.zeros(3))  # simple_rnn: d=2, n=3


@pytest.mark.parametrize(
    ("fn", "args", "match"),
    [
        pytest.param(
            recurrent.simple_rnn, (np.ones((4, 2)), *W1), r"x must have 3 dimension", id="rank-2"
        ),
        pytest.param(
            recurrent.simple_rnn,
            (np.ones((1, 4, 2, 1)), *W1),
            r"x must have 3 dimension",
            id="rank-4",
        ),
        pytest.param(
            recurrent.simple_rnn,
            (np.ones((1, 4, 5)), *W1),
            r"x has 5 features per step but kernel expects 2",
            id="width-mismatch",
        ),
        pytest.param(
            recurrent.simple_rnn,
            (np.ones((1, 0, 2)), *W1),
            "x must not be empty",
            id="empty-sequence",
        ),
        pytest.param(recurrent.simple_rnn, (np.full((1, 3, 2), np.nan), *W1), "finite", id="nan"),
        pytest.param(
            recurrent.simple_rnn,
            (np.ones((1, 3, 2)), np.ones((2, 3)), np.ones((2, 3)), np.zeros(3)),
            r"recurrent_kernel must have shape \(3, 3\)",
            id="recurrent-shape",
        ),
        pytest.param(
            recurrent.simple_rnn,
            (np.ones((1, 3, 2)), np.ones((2, 3)), np.ones((3, 3)), np.zeros(4)),
            r"bias must have shape \(3,\)",
            id="bias-shape",
        ),
        pytest.param(
            recurrent.lstm,
            (np.ones((1, 3, 2)), np.ones((2, 6)), np.ones((1, 6)), np.zeros(6)),
            r"kernel must have 4·units columns",
            id="lstm-gates",
        ),
        pytest.param(
            recurrent.gru,
            (np.ones((1, 3, 2)), np.ones((2, 6)), np.ones((2, 6)), np.zeros(6)),
            r"bias must have 2 dimension",
            id="gru-bias-rank",
        ),
        pytest.param(
            recurrent.gru,
            (np.ones((1, 3, 2)), np.ones((2, 6)), np.ones((2, 6)), np.zeros((2, 5))),
            r"bias must have shape \(2, 6\)",
            id="gru-bias-shape",
        ),
    ],
)
def test_bad_input(fn, args, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        fn(*args)


def test_state_gradient_norms_vanish_and_match_finite_differences() -> None:
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(2, 12, 3)).astype("float32")
    cell = keras.layers.SimpleRNNCell(5)
    norms = recurrent.state_gradient_norms(cell, x)
    assert norms.shape == (12,)
    # Last step: dL/dh_T = h_T for L = ½‖h_T‖², so its norm is ‖h_T‖ of the NumPy layer.
    h_last = recurrent.simple_rnn(x, *cell.get_weights())
    assert norms[-1] == pytest.approx(np.linalg.norm(h_last), rel=1e-5)
    assert norms[0] < norms[-1]  # the gradient shrinks going back in time
    with pytest.raises(ValueError, match="x must have 3 dimension"):
        recurrent.state_gradient_norms(cell, x[0])


CELLS = {
    "SimpleRNN": keras.layers.SimpleRNNCell,
    "LSTM": keras.layers.LSTMCell,
    "GRU": keras.layers.GRUCell,
}


def _seeded_cell(kind: str) -> keras.layers.Layer:
    """A 5-unit cell with weights from a seeded NumPy generator: the same on every backend."""
    cell = CELLS[kind](5)
    cell.build((None, 3))
    rng = np.random.default_rng(1)
    cell.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in cell.get_weights()])
    return cell


def _tape_reference(cell: keras.layers.Layer, x: np.ndarray) -> list[float]:
    """‖∂L/∂h_t‖ with tf.GradientTape watching every state the cell outputs (TensorFlow only)."""
    import tensorflow as tf

    state = [tf.zeros((len(x), size)) for size in tf.nest.flatten(cell.state_size)]
    hidden = []
    with tf.GradientTape() as tape:
        for t in range(x.shape[1]):
            output, state = cell(x[:, t, :], state)
            state = tf.nest.flatten(state)
            hidden.append(output)
        loss = 0.5 * tf.reduce_sum(hidden[-1] ** 2)
    return [float(tf.norm(g)) for g in tape.gradient(loss, hidden)]


def _norms_in(backend: str) -> dict[str, dict[str, list[float]]]:
    """Run this file under `backend`: state_gradient_norms of each cell (and on TensorFlow the
    tape reference)."""
    done = subprocess.run(
        [sys.executable, __file__],
        env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def tape_norms() -> dict[str, list[float]]:
    return _norms_in("tensorflow")["tape"]


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_state_gradient_norms_equal_a_gradient_tape_on_every_backend(backend, tape_norms) -> None:
    pytest.importorskip(backend)
    got = _norms_in(backend)
    for kind in CELLS:
        # float32 throughout; other kernels and summation orders (measured: 1.4e-6 relative)
        np.testing.assert_allclose(got["norms"][kind], tape_norms[kind], rtol=1e-5, err_msg=kind)


if __name__ == "__main__":  # the subprocess of test_state_gradient_norms_equal_a_gradient_tape...
    x = np.random.default_rng(0).normal(size=(3, 10, 3)).astype("float32")
    out: dict = {"norms": {}, "tape": {}}
    for kind in CELLS:
        out["norms"][kind] = recurrent.state_gradient_norms(_seeded_cell(kind), x).tolist()
        if keras.backend.backend() == "tensorflow":
            out["tape"][kind] = _tape_reference(_seeded_cell(kind), x)
    print(json.dumps(out))
