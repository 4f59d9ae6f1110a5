"""Tests for dlguide.classification: error analysis and k-fold cross-validation."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, StratifiedKFold

from dlguide.classification import cross_validate, most_confident_errors


# --- most_confident_errors ----------------------------------------------------------------------
def _brute_force_errors(probs: np.ndarray, y_true: np.ndarray, k: int) -> list[int]:
    """The definition, one sample at a time: wrong predictions sorted by (-confidence, index)."""
    wrong = []
    for i, (row, label) in enumerate(zip(probs, y_true, strict=True)):
        predicted = int(np.argmax(row))
        if predicted != label:
            wrong.append((-row[predicted], i))
    return [i for _, i in sorted(wrong)[:k]]


@pytest.mark.parametrize("k", [1, 7, 50, 1000])
def test_most_confident_errors_matches_brute_force(k: int) -> None:
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(400, 10))
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1)).astype(np.float64)
    y_true = rng.integers(0, 10, size=400)
    expected = _brute_force_errors(probs, y_true, k)
    result = most_confident_errors(probs, y_true, k)
    assert result.dtype == np.int64
    assert result.tolist() == expected
    # the returned confidences never increase and every returned sample is an error
    conf = probs[result, probs[result].argmax(axis=1)]
    assert np.all(np.diff(conf) <= 0)
    assert np.all(probs[result].argmax(axis=1) != y_true[result])


def test_most_confident_errors_ties_keep_sample_order() -> None:
    probs = np.array([[0.2, 0.8], [0.8, 0.2], [0.2, 0.8], [0.9, 0.1]])
    assert most_confident_errors(probs, [0, 1, 0, 0], k=3).tolist() == [0, 1, 2]


def test_most_confident_errors_with_no_errors_is_empty() -> None:
    probs = np.eye(3)
    result = most_confident_errors(probs, [0, 1, 2], k=5)
    assert result.shape == (0,)


@pytest.mark.parametrize(
    ("probs", "y_true", "k", "error", "match"),
    [
        (np.ones(4), [0, 1, 0, 1], 1, ValueError, r"shape \(n, n_classes\)"),
        (np.ones((4, 1)), [0, 0, 0, 0], 1, ValueError, "n_classes >= 2"),
        (np.ones((4, 2)), [0, 1, 0], 1, ValueError, "one label per row"),
        (np.ones((3, 2)), [0, 2, 1], 1, ValueError, "below 2"),
        (np.ones((3, 2)), [0, -1, 1], 1, ValueError, ">= 0"),
        (np.ones((3, 2)), [0.0, 1.0, 1.0], 1, TypeError, "integer class labels"),
        (np.ones((3, 2)), [[0], [1], [1]], 1, ValueError, r"shape \(n,\)"),
        (np.array([[0.5, np.nan], [0.5, 0.5]]), [0, 1], 1, ValueError, "finite"),
        (np.ones((0, 2)), [], 1, ValueError, "at least one sample"),
        (np.ones((2, 2)), [0, 1], 0, ValueError, "k must be at least 1"),
        (np.ones((2, 2)), [0, 1], 2.0, TypeError, "k must be an int"),
        (np.array([["a", "b"]]), [0], 1, TypeError, "numeric"),
    ],
)
def test_most_confident_errors_rejects_bad_input(probs, y_true, k, error, match) -> None:
    with pytest.raises(error, match=match):
        most_confident_errors(probs, y_true, k)


# --- cross_validate -----------------------------------------------------------------------------
def _blobs(n_per_class: int = 30, n_classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(n_classes, 4))
    y = np.repeat(np.arange(n_classes), n_per_class)
    x = (centres[y] + rng.normal(size=(len(y), 4))).astype("float32")
    order = rng.permutation(len(y))
    return x[order], y[order]


def _build() -> keras.Model:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.mark.parametrize("stratify", [True, False])
def test_cross_validate_matches_a_manual_keras_loop(stratify: bool) -> None:
    """The reference: scikit-learn's splitter and plain Keras fit/evaluate, written out."""
    x, y = _blobs()
    scores = cross_validate(_build, x, y, n_splits=3, epochs=2, batch_size=16, stratify=stratify)

    splitter = (StratifiedKFold if stratify else KFold)(3, shuffle=True, random_state=0)
    expected = []
    for fold, (tr, va) in enumerate(splitter.split(x, y)):
        keras.utils.set_random_seed(fold)
        model = _build()
        model.fit(x[tr], y[tr], epochs=2, batch_size=16, verbose=0)
        expected.append(model.evaluate(x[va], y[va], batch_size=16, verbose=0, return_dict=True))

    assert isinstance(scores, pd.DataFrame)
    assert scores.index.name == "fold"
    assert list(scores.columns) == ["accuracy", "loss", "n_train", "n_val"]
    # same seeds, same data, same ops on CPU: agreement to float32 round-off (1e-6 relative)
    np.testing.assert_allclose(scores["loss"], [e["loss"] for e in expected], rtol=1e-6)
    np.testing.assert_allclose(scores["accuracy"], [e["accuracy"] for e in expected], rtol=1e-6)
    assert scores["n_val"].tolist() == [30, 30, 30]
    assert scores["n_train"].tolist() == [60, 60, 60]


def test_cross_validate_is_reproducible_and_seed_dependent() -> None:
    x, y = _blobs()
    first = cross_validate(_build, x, y, n_splits=2, epochs=1, seed=3)
    again = cross_validate(_build, x, y, n_splits=2, epochs=1, seed=3)
    other = cross_validate(_build, x, y, n_splits=2, epochs=1, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["loss"], other["loss"])


def test_cross_validate_accepts_one_hot_targets_and_fit_kwargs() -> None:
    x, y = _blobs(n_per_class=20)

    def build_categorical() -> keras.Model:
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        return model

    seen_epochs = []
    recorder = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen_epochs.append(1)
    )
    scores = cross_validate(
        build_categorical,
        x,
        keras.utils.to_categorical(y, 3),
        n_splits=4,
        epochs=2,
        fit_kwargs={"callbacks": [recorder]},
    )
    # stratified on the argmax: every validation fold holds 5 of each class's 20 -> 15 samples
    assert scores["n_val"].tolist() == [15, 15, 15, 15]
    assert len(seen_epochs) == 4 * 2
    assert scores["accuracy"].between(0, 1).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"build_model": "not a function"}, TypeError, "callable"),
        ({"build_model": lambda: "model"}, TypeError, "keras.Model"),
        ({"y": np.zeros(10, dtype=int)}, ValueError, "same number of samples"),
        ({"n_splits": 1}, ValueError, "n_splits must be at least 2"),
        ({"n_splits": 31}, ValueError, "at least n_splits=31 samples"),
        ({"n_splits": 3.0}, TypeError, "n_splits must be an int"),
        ({"epochs": 0}, ValueError, "epochs must be at least 1"),
        ({"fit_kwargs": {"epochs": 3}}, ValueError, "must not set"),
        ({"y": np.full(90, 0.5)}, TypeError, "integer class labels"),
        ({"x": np.full((90, 4), np.inf)}, ValueError, "finite"),
    ],
)
def test_cross_validate_rejects_bad_input(kwargs, error, match) -> None:
    x, y = _blobs()
    arguments = {"build_model": _build, "x": x, "y": y, "n_splits": 3, "epochs": 1, **kwargs}
    with pytest.raises(error, match=match):
        cross_validate(**arguments)
