r"""Training practice for classifiers: error analysis and k-fold cross-validation.

Two helpers that [chapter 8](../chapters/08-classification.md) teaches and later chapters reuse.

[`most_confident_errors`][dlguide.classification.most_confident_errors] finds the test images a
classifier gets wrong *with the most confidence*: with predicted probabilities $p_{ic}$ the model
predicts $\hat y_i = \arg\max_c p_{ic}$ with confidence $p_{i \hat y_i}$, and the worst mistakes are
the misclassified $i$ ($\hat y_i \ne y_i$) with the largest confidence. Looking at them is the
quickest way to find label noise, ambiguous classes and what the model has not learnt.

[`cross_validate`][dlguide.classification.cross_validate] estimates how well a *recipe* (an
architecture plus its training settings) generalises, not one trained model: it splits the data
into $k$ folds, trains a fresh model on $k - 1$ of them, scores it on the held-out one, and repeats
for every fold, so that every sample is held out exactly once. The spread of the $k$ scores says
how much a single train/validation split can be trusted.

Examples:
    >>> import numpy as np
    >>> from dlguide.classification import most_confident_errors
    >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> most_confident_errors(probs, [0, 0, 1, 1], k=2)
    array([1, 2])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.model_selection import KFold, StratifiedKFold

from ._checks import check_int
from .experiments import _blueprint, _optimizer_start, _restart

__all__ = ["cross_validate", "most_confident_errors"]


def _as_array(value: ArrayLike, name: str) -> NDArray[Any]:
    """Convert `value` to a non-empty numeric array with only finite values, or raise."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # pragma: no cover - ragged input
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from error
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got an array of dtype {array.dtype}")
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return array


def _as_labels(value: ArrayLike, name: str, n_classes: int | None = None) -> NDArray[np.int64]:
    """Integer class labels of shape `(n,)`, in `[0, n_classes)` when `n_classes` is given."""
    labels = _as_array(value, name)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be integer class labels of shape (n,), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or (n_classes is not None and labels.max() >= n_classes):
        upper = "" if n_classes is None else f" and below {n_classes}"
        raise ValueError(
            f"{name} must be class indices >= 0{upper}, got values from {labels.min()} to "
            f"{labels.max()}"
        )
    return labels


def most_confident_errors(probs: ArrayLike, y_true: ArrayLike, k: int = 16) -> NDArray[np.int64]:
    r"""Indices of the `k` misclassified samples the model was most sure about.

    With predicted class probabilities $p_{ic}$, the prediction is
    $\hat y_i = \arg\max_c p_{ic}$ and its confidence is $p_{i \hat y_i}$. Among the errors
    $E = \{ i : \hat y_i \ne y_i \}$ this returns the $k$ indices with the largest confidence,

    $$ \operatorname{top}_k \big\{ p_{i \hat y_i} : i \in E \big\}, $$

    most confident first; ties keep the order of the samples.

    Args:
        probs: Predicted probabilities (or any scores where larger means more likely), shape
            `(n, n_classes)`, for example the output of `model.predict(x)` with a softmax layer.
        y_true: The true class indices $y_i$, shape `(n,)`, integers in `[0, n_classes)`.
        k: How many errors to return, at least 1. Fewer come back if the model makes fewer
            than `k` mistakes (none at all if it makes none).

    Returns:
        Sample indices, shape `(min(k, |E|),)`, sorted by decreasing confidence.

    Raises:
        TypeError: If `probs` is not numeric, `y_true` does not hold integers, or `k` is not
            an int.
        ValueError: If the shapes disagree, a value is not finite, a label is out of range, or
            `k < 1`.

    Examples:
        >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
        >>> most_confident_errors(probs, [0, 0, 1, 1], k=5)  # samples 1 and 2 are wrong
        array([1, 2])
    """
    p = _as_array(probs, "probs")
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probs must have shape (n, n_classes) with n_classes >= 2, got {p.shape}")
    y = _as_labels(y_true, "y_true", n_classes=p.shape[1])
    if y.shape[0] != p.shape[0]:
        raise ValueError(
            f"y_true must have one label per row of probs: expected {p.shape[0]}, got {y.shape[0]}"
        )
    k = check_int(k, "k", 1)

    y_pred = p.argmax(axis=1)
    confidence = p[np.arange(len(p)), y_pred]
    errors = np.flatnonzero(y_pred != y)
    order = np.argsort(-confidence[errors], kind="stable")
    return errors[order[:k]].astype(np.int64)


def cross_validate(
    build_model: Callable[[], keras.Model],
    x: ArrayLike,
    y: ArrayLike,
    n_splits: int = 5,
    *,
    epochs: int = 5,
    batch_size: int = 32,
    stratify: bool = True,
    seed: int = 0,
    fit_kwargs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    r"""k-fold cross-validation of a Keras model recipe.

    The samples are split into $k$ folds $F_1, \dots, F_k$ (scikit-learn `StratifiedKFold`, which
    keeps each class's share the same in every fold, or `KFold`), shuffled with `seed`. For each
    fold $j$ a fresh model from `build_model()` is trained on the other folds and evaluated on
    $F_j$, giving a score $s_j$. Report

    $$ \bar s = \frac{1}{k} \sum_{j=1}^{k} s_j \quad\pm\quad
       \sqrt{\frac{1}{k-1} \sum_{j=1}^{k} (s_j - \bar s)^2 }, $$

    e.g. `scores["accuracy"].mean()` and `scores["accuracy"].std()`. Before building the model
    of fold $j$ (counting from 0), `keras.utils.set_random_seed(seed + j)` is called, so the
    same arguments give the same scores.

    Args:
        build_model: A function with no arguments that returns a new, compiled Keras model
            (`model.compile(..., metrics=[...])` decides which scores come back).
        x: Inputs, shape `(n, ...)`.
        y: Targets, shape `(n,)` (class indices) or `(n, n_classes)` (one-hot); whatever the
            model's loss expects. Stratification uses the class index (the argmax of a one-hot row).
        n_splits: The number of folds $k$, at least 2.
        epochs: Training epochs per fold.
        batch_size: Batch size for training and evaluation.
        stratify: `True` for `StratifiedKFold` (classification), `False` for plain `KFold`.
        seed: Seed for the fold shuffle and for every fold's model.
        fit_kwargs: Extra keyword arguments for `model.fit`, e.g. `{"callbacks": [...]}`.

    Returns:
        One row per fold (index `fold`, from 0): the metrics from `model.evaluate` on the held-out
        fold (`loss`, `accuracy`, …), plus `n_train` and `n_val`, the sizes of the two parts.

    Raises:
        TypeError: If `build_model` is not callable or does not return a Keras model, a count is
            not an int, or (with `stratify=True`) a 1-D `y` does not hold integer labels.
        ValueError: If `x` and `y` differ in length, hold non-finite values, `n_splits < 2`, a
            class has fewer than `n_splits` samples (with `stratify=True`), or `fit_kwargs`
            sets an argument this function sets itself.

    Examples:
        >>> def build():
        ...     model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
        ...     model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        ...     return model
        >>> x = np.random.default_rng(0).normal(size=(60, 4))
        >>> y = np.repeat([0, 1, 2], 20)
        >>> scores = cross_validate(build, x, y, n_splits=3, epochs=1)
        >>> list(scores.columns), scores["n_val"].tolist()
        (['accuracy', 'loss', 'n_train', 'n_val'], [20, 20, 20])
    """
    if not callable(build_model):
        raise TypeError(f"build_model must be callable, got {type(build_model).__name__}")
    x_arr = _as_array(x, "x")
    y_arr = _as_array(y, "y")
    if x_arr.shape[0] != y_arr.shape[0]:
        raise ValueError(
            f"x and y must have the same number of samples, got {x_arr.shape[0]} and "
            f"{y_arr.shape[0]}"
        )
    n_splits = check_int(n_splits, "n_splits", 2)
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    seed = check_int(seed, "seed", 0)
    if n_splits > x_arr.shape[0]:
        raise ValueError(
            f"n_splits must be at most the number of samples {x_arr.shape[0]}, got {n_splits}"
        )
    extra = dict(fit_kwargs or {})
    clash = {"x", "y", "epochs", "batch_size", "validation_data", "verbose"} & extra.keys()
    if clash:
        raise ValueError(
            f"fit_kwargs must not set {sorted(clash)}: cross_validate sets them itself"
        )

    if stratify:
        if y_arr.ndim == 2:
            classes = y_arr.argmax(axis=1)
        elif y_arr.ndim == 1:
            classes = _as_labels(y_arr, "y")
        else:
            raise ValueError(
                f"y must have shape (n,) or (n, n_classes) to stratify, got {y_arr.shape}"
            )
        counts = np.bincount(classes)
        smallest = counts[counts > 0].min()
        if smallest < n_splits:
            raise ValueError(
                f"every class needs at least n_splits={n_splits} samples to stratify, but one "
                f"has {smallest}; lower n_splits or pass stratify=False"
            )
        splits = StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(x_arr, classes)
    else:
        splits = KFold(n_splits, shuffle=True, random_state=seed).split(x_arr)

    rows = []
    model: keras.Model | None = None  # the first fold's model, trained again by later folds
    blueprint: tuple[Any, ...] = ()
    optimizer_start: list[Any] = []
    for fold, (train_idx, val_idx) in enumerate(splits):
        keras.utils.set_random_seed(seed + fold)
        fresh = build_model()
        if not isinstance(fresh, keras.Model):
            raise TypeError(f"build_model must return a keras.Model, got {type(fresh).__name__}")
        # the same training as `fresh`, without Keras tracing its steps again (see experiments)
        if model is None or _blueprint(fresh) != blueprint:
            model, blueprint, optimizer_start = fresh, _blueprint(fresh), _optimizer_start(fresh)
        else:
            _restart(model, fresh, optimizer_start)
        model.fit(
            x_arr[train_idx],
            y_arr[train_idx],
            epochs=epochs,
            batch_size=batch_size,
            verbose=0,
            **extra,
        )
        scores = model.evaluate(
            x_arr[val_idx], y_arr[val_idx], batch_size=batch_size, verbose=0, return_dict=True
        )
        row = {name: float(value) for name, value in sorted(scores.items())}
        rows.append({**row, "n_train": len(train_idx), "n_val": len(val_idx)})
    return pd.DataFrame(rows).rename_axis("fold")
