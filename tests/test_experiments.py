"""Tests for dlguide.experiments: the repeated random-split runner and its summary table.

The models are tiny and train for a few epochs on 60 synthetic rows, so the file runs in seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from dlguide import experiments
from dlguide.experiments import RepeatedSplitResult, repeated_split_scores, summarize

RNG = np.random.default_rng(0)
X = RNG.normal(loc=[0.0, 100.0, -5.0], scale=[1.0, 30.0, 2.0], size=(60, 3))
Y = X @ np.array([2.0, 0.05, -1.0]) + RNG.normal(scale=0.1, size=60)
X_NAN = X.copy()
X_NAN[5, 1] = np.nan


def build(n_features: int) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mean_squared_error")
    return model


def run(**kwargs: object) -> RepeatedSplitResult:
    options: dict = {"n_repeats": 2, "epochs": 3, "normalize": True, "seed": 7, "batch_size": 16}
    options.update(kwargs)
    return repeated_split_scores(build, X, Y, **options)


def test_shapes_seeds_and_statistics() -> None:
    result = run(n_repeats=3, name="tiny")
    assert result.name == "tiny"
    assert result.scores.shape == (3,) and result.scores.dtype == np.float64
    assert result.seeds == (7, 8, 9)
    assert np.all(result.scores > 0)
    # The properties are the plain NumPy statistics (sample std, ddof=1).
    assert result.mean == pytest.approx(np.mean(result.scores), rel=1e-12)
    assert result.std == pytest.approx(np.std(result.scores, ddof=1), rel=1e-12)
    assert result.median == pytest.approx(np.median(result.scores), rel=1e-12)


def test_deterministic_and_seeded_per_repeat() -> None:
    first = run()
    again = run()
    # Same seeds on the same CPU: identical float32 training, so equal to float rounding.
    np.testing.assert_allclose(first.scores, again.scores, rtol=1e-6)
    # Repeat r uses seed + r: the second repeat of seed 7 is the first repeat of seed 8.
    shifted = run(n_repeats=1, seed=8)
    np.testing.assert_allclose(first.scores[1], shifted.scores[0], rtol=1e-6)
    # Different splits and initialisations give different scores.
    assert not np.allclose(first.scores[0], first.scores[1])


def test_model_cache_is_bounded_and_invisible() -> None:
    # Compiled models are reused across calls, but only the most recently used few are kept,
    # and whether a model came from the cache never changes a score.
    def build_width(width: int) -> Callable[[int], keras.Model]:
        def build_model(n_features: int) -> keras.Model:
            model = keras.Sequential(
                [keras.Input((n_features,)), keras.layers.Dense(width), keras.layers.Dense(1)]
            )
            model.compile(optimizer="sgd", loss="mean_squared_error")
            return model

        return build_model

    options: dict = {"n_repeats": 1, "epochs": 2, "seed": 3, "normalize": True}
    first = repeated_split_scores(build_width(3), X, Y, **options)
    for width in range(4, 4 + experiments._TRAINED_MAX):  # as many other shapes as it keeps
        repeated_split_scores(build_width(width), X, Y, **options)
    assert len(experiments._TRAINED) == experiments._TRAINED_MAX
    cached_widths = {model.layers[0].units for model, _ in experiments._TRAINED.values()}
    assert cached_widths == set(range(4, 4 + experiments._TRAINED_MAX))  # width 3 was dropped
    again = repeated_split_scores(build_width(3), X, Y, **options)
    np.testing.assert_allclose(again.scores, first.scores, rtol=1e-6)


@pytest.mark.parametrize("normalize_target", [False, True])
def test_one_repeat_matches_a_hand_written_run(normalize_target: bool) -> None:
    # The runner must do exactly: split → scalers fitted on training rows → seed → build → train
    # on mini-batches reshuffled each epoch → predictions mapped back to the target's units → MSE.
    result = run(n_repeats=1, epochs=4, seed=3, test_size=0.25, normalize_target=normalize_target)
    X_train, X_test, y_train, y_test = train_test_split(
        X.astype(np.float32), Y.astype(np.float32), test_size=0.25, random_state=3
    )
    scaler = StandardScaler().fit(X_train)
    mean, scale = (y_train.mean(), y_train.std()) if normalize_target else (0.0, 1.0)
    keras.utils.set_random_seed(3)
    model = build(3)
    x_fit = scaler.transform(X_train).astype(np.float32)
    y_fit = ((y_train - mean) / scale).astype(np.float32)
    rng = np.random.default_rng(3)
    for _ in range(4):  # epochs, each in a new order drawn from the repeat's seed; batches of 16
        order = rng.permutation(len(x_fit))
        for start in range(0, len(x_fit), 16):
            rows = order[start : start + 16]
            model.train_on_batch(x_fit[rows], y_fit[rows])
    pred = model.predict(scaler.transform(X_test).astype(np.float32), verbose=0).ravel()
    expected = np.mean((y_test - (mean + scale * pred)) ** 2)
    np.testing.assert_allclose(result.scores[0], expected, rtol=1e-5)  # float32 predictions


def test_normalize_target_changes_the_fit() -> None:
    raw = run(normalize_target=False)
    scaled = run(normalize_target=True)
    assert not np.allclose(raw.scores, scaled.scores, rtol=1e-3)
    with pytest.raises(ValueError, match="training target is constant"):
        repeated_split_scores(build, X, np.ones(60), n_repeats=1, epochs=1, normalize_target=True)


def test_normalize_changes_the_inputs() -> None:
    # Column 2 has scale 30: raw and z-scored inputs train to different test errors.
    raw = run(normalize=False)
    scaled = run(normalize=True)
    assert not np.allclose(raw.scores, scaled.scores, rtol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"X": X[:, 0]}, ValueError, "X must be 2-D"),
        ({"y": Y[:-1]}, ValueError, "same number of rows, got 60 and 59"),
        ({"y": Y.reshape(-1, 1)}, ValueError, "y must be 1-D"),
        ({"X": X_NAN}, ValueError, "X must contain only finite values"),
        ({"X": np.empty((0, 3)), "y": np.empty(0)}, ValueError, "must not be empty"),
        ({"X": [["a", "b"]], "y": [1.0]}, TypeError, "X must be numeric"),
        ({"n_repeats": 0}, ValueError, "n_repeats must be at least 1, got 0"),
        ({"n_repeats": True}, TypeError, "n_repeats must be an int"),
        ({"epochs": 2.5}, TypeError, "epochs must be an int"),
        ({"test_size": 0.0}, ValueError, "test_size must be in"),
        ({"test_size": 1.0}, ValueError, "test_size must be in"),
        ({"test_size": "0.3"}, TypeError, "test_size must be a float"),
        ({"seed": -1}, ValueError, "seed must be at least 0"),
        ({"build_model": "dense"}, TypeError, "build_model must be callable"),
    ],
)
def test_bad_input(kwargs: dict, error: type[Exception], match: str) -> None:
    args = {"build_model": build, "X": X, "y": Y, "n_repeats": 1, "epochs": 1}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        repeated_split_scores(**args)


def test_bad_models() -> None:
    def uncompiled(n: int) -> keras.Model:
        return keras.Sequential([keras.Input((n,)), keras.layers.Dense(1)])

    def exploding(n: int) -> keras.Model:
        model = keras.Sequential([keras.Input((n,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(1e12), loss="mean_squared_error")
        return model

    with pytest.raises(TypeError, match="compiled"):
        repeated_split_scores(uncompiled, X, Y, n_repeats=1, epochs=1)
    with pytest.raises(TypeError, match=r"keras\.Model"):
        repeated_split_scores(lambda n: object(), X, Y, n_repeats=1, epochs=1)  # type: ignore[arg-type,return-value]
    # A learning rate of 1e12 overflows float32: the runner names the repeat instead of scoring NaN.
    with pytest.raises(ValueError, match=r"repeat 0 \(seed 0\) diverged"):
        repeated_split_scores(exploding, X, Y, n_repeats=1, epochs=2)


def test_summarize_table() -> None:
    a = RepeatedSplitResult("A", np.array([100.0, 300.0, 200.0]), (0, 1, 2))
    b = RepeatedSplitResult("B", np.array([50.0, 70.0]), (0, 1))
    table = summarize([a, b])
    assert list(table.index) == ["A", "B"]
    assert list(table.columns) == ["repeats", "mean", "std", "median", "min", "max", "mean ± std"]
    assert table.loc["A", "repeats"] == 3
    assert table.loc["A", "mean"] == pytest.approx(200.0)
    assert table.loc["A", "std"] == pytest.approx(100.0)  # sample std of 100, 200, 300
    assert table.loc["B", "mean ± std"] == "60.0 ± 14.1"
    assert table.loc["B", "min"] == 50.0 and table.loc["B", "max"] == 70.0
    single = RepeatedSplitResult("C", np.array([5.0]), (0,))
    assert summarize([single]).loc["C", "std"] == 0.0


def test_summarize_bad_input() -> None:
    a = RepeatedSplitResult("A", np.array([1.0]), (0,))
    with pytest.raises(ValueError, match="at least one"):
        summarize([])
    with pytest.raises(ValueError, match="unique"):
        summarize([a, a])
    with pytest.raises(TypeError, match="RepeatedSplitResult"):
        summarize([a, {"name": "B"}])  # type: ignore[list-item]
