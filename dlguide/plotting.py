r"""Plotting helpers the chapters share: learning curves, confusion matrices, image grids.

Three figures come back again and again in the book:

- **Learning curves** — the training and validation value of a metric after every epoch, read
  from the `History` that `keras.Model.fit` returns
  ([`plot_history`][dlguide.plotting.plot_history]).
- **Confusion matrices** — $C_{ij}$ counts the samples whose true class is $i$ and whose predicted
  class is $j$; the diagonal holds the correct predictions
  ([`plot_confusion_matrix`][dlguide.plotting.plot_confusion_matrix]).
- **Image grids** — a batch of images side by side, e.g. before and after augmentation, or the most
  confidently wrong predictions ([`plot_image_grid`][dlguide.plotting.plot_image_grid]).

Each function checks its input, labels its axes and returns the matplotlib `Axes` (or, for the grid,
the `Figure`) so a chapter can add a title or save it.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from dlguide.plotting import plot_history
    >>> ax = plot_history({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.6]})
    >>> [line.get_label() for line in ax.get_lines()]
    ['training loss', 'validation loss']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

__all__ = ["plot_confusion_matrix", "plot_history", "plot_image_grid"]

_NORMALIZE_OPTIONS = (None, "true", "pred", "all")


def _history_dict(history: Any) -> Mapping[str, Any]:
    """Return the `{name: per-epoch values}` mapping of a Keras `History` or of a plain mapping."""
    if isinstance(history, Mapping):
        return history
    inner = getattr(history, "history", None)
    if isinstance(inner, Mapping):
        return inner
    raise TypeError(
        "history must be a keras.callbacks.History or its .history dict "
        f"({{'loss': [...], 'val_loss': [...]}}), got {type(history).__name__}"
    )


def _series(history: Mapping[str, Any], key: str) -> NDArray[np.float64]:
    """One per-epoch series from a history, as a finite, non-empty 1-D float array."""
    try:
        values = np.asarray(history[key], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"history[{key!r}] must be a sequence of numbers, got {type(history[key]).__name__}"
        ) from error
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"history[{key!r}] must be a non-empty 1-D sequence (one value per epoch), "
            f"got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"history[{key!r}] must contain only finite values, got {values.tolist()!r}; "
            "a diverged run has nan/inf losses — plot the epochs before it diverged"
        )
    return values


def plot_history(
    history: Any,
    metrics: str | Sequence[str] = ("loss",),
    ax: Axes | None = None,
) -> Axes:
    r"""Learning curves: training and validation value of each metric against the epoch.

    For every metric `m` the training curve `history["m"]` is drawn as a solid line and, when the
    history has it, the validation curve `history["val_m"]` as a dashed line of the same colour.
    Epochs are numbered from 1, so the point at epoch $e$ is the value after $e$ passes over the
    training data. A gap between the two curves that widens with $e$ is overfitting.

    Args:
        history: The `keras.callbacks.History` returned by `model.fit`, or its `.history` dict
            `{name: [value per epoch]}`.
        metrics: The metric name(s) to draw, as Keras names them (`"loss"`, `"accuracy"`, …); give
            the training name, the `val_` curve comes with it. A single string is one metric.
        ax: The Axes to draw on; a new figure is created when `None`. Metrics with different scales
            (loss, accuracy) read better on separate Axes: call the function once per Axes.

    Returns:
        The Axes, with "epoch" on the x-axis, the metric name (or "value" for several metrics) on
        the y-axis, and a legend.

    Raises:
        TypeError: If `history` is neither a `History` nor a mapping.
        ValueError: If `metrics` is empty, names a metric the history lacks or a `val_` name, or a
            series is empty, not 1-D, not finite, or a validation series has a different length
            than its training series (as with `validation_freq > 1`).

    Examples:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> ax = plot_history({"loss": [0.9, 0.4], "accuracy": [0.6, 0.8]}, metrics="accuracy")
        >>> ax.get_lines()[0].get_ydata().tolist(), ax.get_xlabel(), ax.get_ylabel()
        ([0.6, 0.8], 'epoch', 'accuracy')
    """
    record = _history_dict(history)
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names or not all(isinstance(name, str) for name in names):
        raise ValueError(f"metrics must be one or more metric names (str), got {metrics!r}")
    available = sorted(key for key in record if not str(key).startswith("val_"))
    for name in names:
        if name.startswith("val_"):
            raise ValueError(
                f"give the training name of a metric ({name.removeprefix('val_')!r}); "
                f"its validation curve {name!r} is drawn with it"
            )
        if name not in record:
            raise ValueError(f"history has no metric {name!r}; it has {available}")

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for index, name in enumerate(names):
        train = _series(record, name)
        epochs = np.arange(1, train.size + 1)
        color = f"C{index % 10}"
        ax.plot(epochs, train, color=color, label=f"training {name}")
        if f"val_{name}" in record:
            val = _series(record, f"val_{name}")
            if val.size != train.size:
                raise ValueError(
                    f"history[{'val_' + name!r}] has {val.size} values but history[{name!r}] has "
                    f"{train.size}; plot_history needs one validation value per epoch "
                    "(fit with validation_freq=1)"
                )
            ax.plot(epochs, val, color=color, linestyle="--", label=f"validation {name}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_xlabel("epoch")
    ax.set_ylabel(names[0] if len(names) == 1 else "value")
    ax.legend()
    return ax


def _label_vector(values: ArrayLike, name: str) -> NDArray[Any]:
    """Class labels as a non-empty 1-D array (integers or strings, not floats with fractions)."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        hint = " (one-hot or probabilities? take argmax(axis=1) first)" if array.ndim == 2 else ""
        raise ValueError(
            f"{name} must be a non-empty 1-D array of class labels, got shape {array.shape}{hint}"
        )
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(
                f"{name} must hold class labels (integers), got non-integer floats such as "
                f"{array[:5].tolist()!r}; did you pass probabilities instead of labels?"
            )
        array = array.astype(np.int64)
    elif array.dtype.kind not in "iuUSOb":
        raise TypeError(f"{name} must hold integer or string class labels, got dtype {array.dtype}")
    return array


def _cell_fontsize(n_classes: int, normalize: str | None) -> str:
    """Font size of the numbers in the cells: smaller for many classes and for fractions."""
    if n_classes <= 6:
        return "medium"
    return "small" if normalize is None else "x-small"


def plot_confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    class_names: Sequence[str] | None = None,
    normalize: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    r"""Confusion matrix of a classifier, drawn as an annotated heat map.

    With $K$ classes, entry $C_{ij}$ of the $K \times K$ matrix counts the samples of true class $i$
    predicted as class $j$ (scikit-learn's `confusion_matrix`):

    $$ C_{ij} = \bigl|\{\, n : y_n = i,\ \hat y_n = j \,\}\bigr|. $$

    `normalize="true"` divides each row by its sum, $C_{ij} / \sum_k C_{ik}$, so the diagonal is the
    recall of each class; `"pred"` divides each column by its sum (the diagonal is the precision);
    `"all"` divides by the number of samples $N$.

    Args:
        y_true: True class labels, shape `(N,)`.
        y_pred: Predicted class labels, shape `(N,)` — labels, not probabilities: take
            `probabilities.argmax(axis=1)` first.
        class_names: Display names of the classes. When given, the labels must be the integers
            $0, \dots, K-1$ with $K$ = `len(class_names)`, and every class gets a row and a column
            even if it never occurs. When `None`, the rows are the sorted labels that occur.
        normalize: `None` (counts), `"true"`, `"pred"` or `"all"`.
        ax: The Axes to draw on; a new figure is created when `None`.

    Returns:
        The Axes, with "Predicted label" on the x-axis and "True label" on the y-axis. The matrix
        itself is `ax.images[0].get_array()`.

    Raises:
        ValueError: If the label arrays are empty, not 1-D, of different lengths, hold a label
            outside `range(len(class_names))`, or `normalize` is not one of the four options.
        TypeError: If the labels are neither integers nor strings.

    Examples:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> ax = plot_confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], class_names=["cat", "dog"])
        >>> ax.images[0].get_array().tolist()
        [[1, 1], [0, 2]]
    """
    if normalize not in _NORMALIZE_OPTIONS:
        raise ValueError(f"normalize must be one of {_NORMALIZE_OPTIONS}, got {normalize!r}")
    truth = _label_vector(y_true, "y_true")
    predicted = _label_vector(y_pred, "y_pred")
    if truth.shape != predicted.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {truth.size} and {predicted.size}"
        )

    if class_names is None:
        labels = np.unique(np.concatenate([truth, predicted]))
        display_labels = [str(label) for label in labels]
    else:
        if isinstance(class_names, str) or len(class_names) == 0:
            raise ValueError(f"class_names must be a non-empty list of names, got {class_names!r}")
        labels = np.arange(len(class_names))
        for name, array in (("y_true", truth), ("y_pred", predicted)):
            outside = np.setdiff1d(array, labels) if array.dtype.kind in "iub" else array[:1]
            if outside.size:
                raise ValueError(
                    f"with {len(class_names)} class_names, {name} must hold the integers "
                    f"0..{len(class_names) - 1}, got labels such as {outside[:5].tolist()!r}"
                )
        display_labels = [str(name) for name in class_names]

    matrix = confusion_matrix(truth, predicted, labels=labels, normalize=normalize)
    if ax is None:
        size = max(4.0, 0.5 * len(labels) + 2.0)
        _, ax = plt.subplots(figsize=(size, size))
    display = ConfusionMatrixDisplay(matrix, display_labels=display_labels)
    long_names = max(len(label) for label in display_labels) > 3
    display.plot(
        ax=ax,
        cmap="Blues",
        colorbar=False,
        values_format="d" if normalize is None else ".2f",
        xticks_rotation=45 if long_names else "horizontal",
        text_kw={"fontsize": _cell_fontsize(len(labels), normalize)},
    )
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    return ax


def _image_stack(images: ArrayLike) -> NDArray[Any]:
    """Images as an array `(n, height, width)` or `(n, height, width, 3 | 4)`, ready for imshow."""
    try:
        stack = np.asarray(images)
    except ValueError as error:
        raise ValueError(f"images must all have the same shape: {error}") from error
    if stack.dtype.kind not in "iufb":
        raise TypeError(f"images must be numeric, got dtype {stack.dtype}")
    if stack.ndim not in (3, 4) or stack.size == 0:
        raise ValueError(
            "images must be a non-empty batch of shape (n, height, width) or "
            f"(n, height, width, channels), got shape {stack.shape}"
        )
    if stack.ndim == 4:
        if stack.shape[-1] == 1:
            stack = stack[..., 0]
        elif stack.shape[-1] not in (3, 4):
            raise ValueError(
                f"images must have 1, 3 or 4 channels (last axis), got shape {stack.shape}; "
                "channels-first batches need np.moveaxis(images, 1, -1)"
            )
    if not np.all(np.isfinite(stack)):
        raise ValueError("images must contain only finite values")
    if stack.ndim == 4:
        low, high = (0.0, 1.0) if stack.dtype.kind in "fb" else (0, 255)
        if stack.min() < low or stack.max() > high:
            raise ValueError(
                f"colour images must lie in [{low}, {high}] for {stack.dtype} data, got values in "
                f"[{stack.min()}, {stack.max()}]; rescale them (matplotlib would clip them)"
            )
    return stack


def plot_image_grid(
    images: ArrayLike,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str = "gray",
    *,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    r"""A grid of images, `ncols` per row, each with an optional title.

    The grid has $\lceil n / \text{ncols} \rceil$ rows; the figure keeps exactly one Axes per
    image (unused cells of the last row are removed), with ticks hidden since pixel coordinates
    carry no meaning here.

    Args:
        images: A batch of shape `(n, height, width)` (grey scale, drawn with `cmap`) or
            `(n, height, width, channels)` with 1, 3 (RGB) or 4 (RGBA) channels. Colour images
            must be floats in $[0, 1]$ or integers in $[0, 255]$.
        titles: One title per image (e.g. `"true 3 / predicted 8"`), or `None`.
        ncols: Images per row, at least 1.
        cmap: Colour map for grey-scale images.
        vmin: Lower end of the grey-scale colour range shared by every image. With `vmin` and
            `vmax` both `None`, each grey image is scaled to its own range; fix them to compare
            brightness across images (e.g. before and after augmentation).
        vmax: Upper end of the shared grey-scale colour range.

    Returns:
        The Figure; `fig.axes` holds one Axes per image, in order.

    Raises:
        ValueError: If the batch is empty, has the wrong number of dimensions or channels, holds
            non-finite or out-of-range colour values, `titles` has the wrong length, or `ncols`
            is not a positive integer.
        TypeError: If the images are not numeric or a title is not a string.

    Examples:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> fig = plot_image_grid(np.zeros((5, 8, 8)), titles=list("abcde"), ncols=3)
        >>> len(fig.axes), fig.axes[4].get_title()
        (5, 'e')
    """
    stack = _image_stack(images)
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    n = stack.shape[0]
    if titles is not None:
        if isinstance(titles, str) or len(titles) != n:
            length = "a string" if isinstance(titles, str) else f"{len(titles)} titles"
            raise ValueError(f"titles must be a list of {n} strings, one per image, got {length}")
        for title in titles:
            if not isinstance(title, str):
                raise TypeError(f"each title must be a str, got {type(title).__name__}")

    columns = min(int(ncols), n)
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(1.6 * columns, 1.6 * rows + 0.3), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        if index >= n:
            fig.delaxes(ax)
            continue
        ax.imshow(stack[index], cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[index], fontsize="small")
    fig.tight_layout()
    return fig
