r"""Repeated random-split experiments: how good is a model, and how sure are you?

One train/test split gives one test score, and a different split gives a different one. To compare
two set-ups fairly you repeat the whole experiment — split, (normalise,) build, train, score — over
$R$ random splits and report the mean and the spread of the $R$ scores
([`repeated_split_scores`][dlguide.experiments.repeated_split_scores]). Repeat $r$ uses the seed
`seed + r` for both the split and Keras' weight initialisation and shuffling, so every number can be
reproduced, and two set-ups run with the same `seed` see the same $R$ splits.

[`summarize`][dlguide.experiments.summarize] puts several results side by side in a pandas table.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ._checks import check_int

__all__ = ["RepeatedSplitResult", "repeated_split_scores", "summarize"]


@dataclass(frozen=True)
class RepeatedSplitResult:
    r"""Test scores of one set-up over $R$ random splits.

    Attributes:
        name: Label of the set-up, e.g. `"A: baseline"`.
        scores: Test mean squared error of each repeat, shape `(R,)`.
        seeds: The seed of each repeat, `(seed, seed + 1, …, seed + R - 1)`.
    """

    name: str
    scores: NDArray[np.float64]
    seeds: tuple[int, ...]

    @property
    def mean(self) -> float:
        r"""Mean test score $\bar s = \frac{1}{R}\sum_{r=1}^{R} s_r$."""
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        r"""Sample standard deviation $\sqrt{\frac{1}{R-1}\sum_r (s_r - \bar s)^2}$ (0 if $R=1$)."""
        if self.scores.size < 2:
            return 0.0
        return float(np.std(self.scores, ddof=1))

    @property
    def median(self) -> float:
        """Median test score; unlike the mean, one failed run barely moves it."""
        return float(np.median(self.scores))


def _as_float_array(value: ArrayLike, name: str, ndim: int) -> NDArray[np.float32]:
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be numeric, got {type(value).__name__}") from error
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values; clean or impute NaN/inf first")
    return array


def repeated_split_scores(
    build_model: Callable[[int], keras.Model],
    X: ArrayLike,
    y: ArrayLike,
    *,
    n_repeats: int = 50,
    test_size: float = 0.3,
    epochs: int = 50,
    normalize: bool = False,
    normalize_target: bool = False,
    seed: int = 0,
    batch_size: int = 32,
    name: str = "",
) -> RepeatedSplitResult:
    r"""Train a fresh model on each of `n_repeats` random splits and collect the test MSEs.

    For repeat $r = 0, \dots, R-1$ with seed $s_r = \text{seed} + r$:

    1. split `(X, y)` with `sklearn.model_selection.train_test_split(test_size=test_size,
       random_state=s_r)`;
    2. if `normalize`, z-score every column with the **training** mean and standard deviation,
       $x' = (x - \mu_\text{train}) / \sigma_\text{train}$ (`StandardScaler` fitted on the training
       rows only, so no test information leaks into training);
    3. if `normalize_target`, train on $y' = (y - \mu_y) / \sigma_y$ with the training rows' mean
       and standard deviation, and map predictions back, $\hat y = \mu_y + \sigma_y \hat y'$;
    4. `keras.utils.set_random_seed(s_r)`, then `model = build_model(n_features)`, and train it
       for `epochs` passes over the training rows in mini-batches of `batch_size`, each pass in
       the order `np.random.default_rng(s_r).permutation` draws, one draw per pass. The
       batches of all epochs go to one `model.fit` call, so Keras builds its input pipeline once
       rather than once per epoch. Once a model built alike has been trained, by this or an
       earlier call, that compiled model is trained instead, with this repeat's initial weights
       and a restarted optimizer: the same training, without Keras tracing the training step
       again;
    5. score the test rows in the target's own units:
       $\text{MSE} = \frac{1}{n}\sum_i (y_i - \hat y_i)^2$.

    Args:
        build_model: Called with the number of input features; returns a new **compiled**
            `keras.Model` with one output per row.
        X: Predictors, shape `(n_samples, n_features)`, finite.
        y: Target, shape `(n_samples,)`, finite.
        n_repeats: Number of random splits $R \ge 1$.
        test_size: Fraction of rows held out for testing, in $(0, 1)$.
        epochs: Training epochs per repeat.
        normalize: Z-score the predictors with training-split statistics.
        normalize_target: Z-score the target with training-split statistics for training; the
            score is still computed on the original scale.
        seed: Seed of the first repeat.
        batch_size: Mini-batch size of `fit`.
        name: Label stored in the result.

    Returns:
        A [`RepeatedSplitResult`][dlguide.experiments.RepeatedSplitResult] with `scores` of shape
        `(n_repeats,)`.

    Raises:
        TypeError: If an argument has the wrong type, or `build_model` returns something that is not
            a compiled `keras.Model`.
        ValueError: If `X`/`y` have the wrong shape, are empty, contain NaN/inf or differ in length;
            if `test_size` leaves an empty split; if a count is below 1; or if a model's predictions
            have the wrong shape or are not finite.

    Examples:
        >>> import keras, numpy as np
        >>> def build(n):
        ...     m = keras.Sequential([keras.Input((n,)), keras.layers.Dense(1)])
        ...     m.compile(optimizer="adam", loss="mse")
        ...     return m
        >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = X.sum(axis=1)
        >>> res = repeated_split_scores(build, X, y, n_repeats=2, epochs=1, name="linear")
        >>> res.scores.shape, res.seeds
        ((2,), (0, 1))
    """
    if not callable(build_model):
        raise TypeError(f"build_model must be callable, got {type(build_model).__name__}")
    features = _as_float_array(X, "X", 2)
    target = _as_float_array(y, "y", 1)
    if features.shape[0] != target.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got {features.shape[0]} and "
            f"{target.shape[0]}"
        )
    n_repeats = check_int(n_repeats, "n_repeats", 1)
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    seed = check_int(seed, "seed", 0)
    if isinstance(test_size, bool) or not isinstance(test_size, float | int):
        raise TypeError(f"test_size must be a float in (0, 1), got {type(test_size).__name__}")
    n = features.shape[0]
    n_test = int(np.ceil(test_size * n))
    if not 0.0 < test_size < 1.0 or n_test < 1 or n - n_test < 2:
        raise ValueError(
            f"test_size must be in (0, 1) and leave >= 1 test row and >= 2 training rows; "
            f"got test_size={test_size} with {n} rows"
        )

    scores = np.empty(n_repeats, dtype=np.float64)
    seeds = tuple(seed + r for r in range(n_repeats))
    for r, s in enumerate(seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            features, target, test_size=test_size, random_state=s
        )
        if normalize:
            scaler = StandardScaler().fit(X_train)
            X_train = scaler.transform(X_train).astype(np.float32)
            X_test = scaler.transform(X_test).astype(np.float32)
        y_mean, y_scale = 0.0, 1.0
        if normalize_target:
            y_mean, y_scale = float(np.mean(y_train)), float(np.std(y_train))
            if y_scale == 0.0:
                raise ValueError(f"repeat {r} (seed {s}): the training target is constant")
        keras.utils.set_random_seed(s)
        fresh = build_model(features.shape[1])
        if not isinstance(fresh, keras.Model):
            raise TypeError(f"build_model must return a keras.Model, got {type(fresh).__name__}")
        if not getattr(fresh, "compiled", False):
            raise TypeError("build_model must return a compiled model: call model.compile(...)")
        model, optimizer_start = _traced_like(fresh)
        _restart(model, fresh, optimizer_start)
        y_fit = ((y_train - y_mean) / y_scale).astype(np.float32)
        steps = int(np.ceil(len(X_train) / batch_size))  # batches per epoch
        model.fit(
            _shuffled_batches(X_train, y_fit, batch_size, epochs, s),
            steps_per_epoch=epochs * steps,
            shuffle=False,
            verbose=0,
        )
        prediction = keras.ops.convert_to_numpy(model(X_test, training=False))
        if prediction.shape not in ((y_test.shape[0],), (y_test.shape[0], 1)):
            raise ValueError(
                f"the model must output one value per row, got shape {prediction.shape} for "
                f"{y_test.shape[0]} test rows"
            )
        if not np.all(np.isfinite(prediction)):
            raise ValueError(f"repeat {r} (seed {s}) diverged: its predictions contain NaN/inf")
        prediction = y_mean + y_scale * prediction.reshape(-1).astype(np.float64)
        scores[r] = mean_squared_error(y_test, prediction)
    return RepeatedSplitResult(name=name, scores=scores, seeds=seeds)


def _shuffled_batches(
    X: NDArray[np.float32], y: NDArray[np.float32], batch_size: int, epochs: int, seed: int
) -> Iterator[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    """Yield the mini-batches of `epochs` passes over `(X, y)`, each pass in a new random order."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            rows = order[start : start + batch_size]
            yield X[rows], y[rows]


_TRAINED: OrderedDict[tuple[Any, ...], tuple[keras.Model, list[Any]]] = OrderedDict()
"""Compiled models by blueprint, with their optimizer's start state (see `_restart`)."""
_TRAINED_MAX = 8
"""How many blueprints `_TRAINED` keeps; the least recently used is dropped first."""


def _traced_like(fresh: keras.Model) -> tuple[keras.Model, list[Any]]:
    """The model an earlier repeat trained (and Keras traced) built like `fresh`, or `fresh`."""
    blueprint = _blueprint(fresh)
    if blueprint not in _TRAINED:
        _TRAINED[blueprint] = fresh, _optimizer_start(fresh)
        if len(_TRAINED) > _TRAINED_MAX:
            _TRAINED.popitem(last=False)
    _TRAINED.move_to_end(blueprint)
    return _TRAINED[blueprint]


def _blueprint(model: keras.Model) -> tuple[Any, ...]:
    """What makes two compiled models interchangeable: layers, their configs, optimizer, loss."""

    def unnamed(config: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in config.items() if key != "name"}

    layers = [(type(layer).__name__, unnamed(layer.get_config())) for layer in model.layers]
    optimizer = getattr(model, "optimizer", None)
    optimizer_config = None if optimizer is None else unnamed(optimizer.get_config())
    shapes = [tuple(weight.shape) for weight in model.weights]
    return repr(layers), repr(shapes), repr(optimizer_config), repr(getattr(model, "loss", None))


def _optimizer_start(model: keras.Model) -> list[Any]:
    """Build the optimizer's state now and return its values before any step."""
    if getattr(model, "optimizer", None) is None:  # not compiled: fit will say so
        return []
    model.optimizer.build(model.trainable_variables)
    return [variable.numpy() for variable in model.optimizer.variables]


def _restart(model: keras.Model, fresh: keras.Model, optimizer_start: list[Any]) -> None:
    """Give `model` the initial weights of `fresh` (built alike) and restart its optimizer.

    Keras traces a model's training step on its first `fit`, which for the small models of these
    experiments costs more than the training itself. Training the first repeat's model again,
    with the initial weights `build_model` drew for this repeat and the optimizer's state as it
    was before any step, trains exactly as `fresh` would (the same seeded weights, shuffling and
    updates) without tracing again.
    """
    model.set_weights(fresh.get_weights())
    for variable, value in zip(model.optimizer.variables, optimizer_start, strict=True):
        variable.assign(value)


def summarize(results: Sequence[RepeatedSplitResult]) -> pd.DataFrame:
    r"""Tabulate several [`RepeatedSplitResult`][dlguide.experiments.RepeatedSplitResult]s.

    Args:
        results: One result per set-up, in the order the rows should have; names must be unique.

    Returns:
        A DataFrame indexed by `name` with the columns `repeats`, `mean`, `std` (sample standard
        deviation), `median`, `min`, `max` and `mean ± std` (text, one decimal).

    Raises:
        TypeError: If an element is not a `RepeatedSplitResult`.
        ValueError: If `results` is empty or two results share a name.

    Examples:
        >>> import numpy as np
        >>> r = RepeatedSplitResult("A", np.array([1.0, 3.0]), (0, 1))
        >>> summarize([r])["mean ± std"].tolist()
        ['2.0 ± 1.4']
    """
    items = list(results)
    if not items:
        raise ValueError("results must hold at least one RepeatedSplitResult, got none")
    for item in items:
        if not isinstance(item, RepeatedSplitResult):
            raise TypeError(f"results must hold RepeatedSplitResult, got {type(item).__name__}")
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        raise ValueError(f"result names must be unique, got {names}")
    rows: list[dict[str, Any]] = [
        {
            "name": item.name,
            "repeats": int(item.scores.size),
            "mean": item.mean,
            "std": item.std,
            "median": item.median,
            "min": float(item.scores.min()),
            "max": float(item.scores.max()),
            "mean ± std": f"{item.mean:.1f} ± {item.std:.1f}",
        }
        for item in items
    ]
    return pd.DataFrame(rows).set_index("name")
