"""Tests for dlguide.plotting: drawn data equals the input, axes are labelled, bad input raises."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from dlguide.plotting import plot_confusion_matrix, plot_history, plot_image_grid

HISTORY = {
    "loss": [1.2, 0.8, 0.5, 0.4],
    "val_loss": [1.3, 0.9, 0.7, 0.75],
    "accuracy": [0.5, 0.7, 0.8, 0.85],
    "val_accuracy": [0.45, 0.65, 0.72, 0.71],
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- plot_history -----------------------------------------------------------------------------


def test_history_lines_hold_the_history_values():
    ax = plot_history(HISTORY)
    train, val = ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])  # epochs count from 1
    np.testing.assert_array_equal(train.get_ydata(), HISTORY["loss"])
    np.testing.assert_array_equal(val.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(val.get_ydata(), HISTORY["val_loss"])
    assert (train.get_label(), val.get_label()) == ("training loss", "validation loss")
    assert val.get_linestyle() == "--" and train.get_linestyle() == "-"
    assert to_rgba(train.get_color()) == to_rgba(val.get_color())
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "loss")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "training loss",
        "validation loss",
    ]


def test_history_from_a_real_keras_fit():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    assert isinstance(history, keras.callbacks.History)

    ax = plot_history(history, metrics=["loss", "accuracy"])
    lines = ax.get_lines()
    assert len(lines) == 4  # training + validation for two metrics
    for line, key in zip(lines, ["loss", "val_loss", "accuracy", "val_accuracy"], strict=True):
        np.testing.assert_allclose(line.get_ydata(), history.history[key], rtol=0, atol=0)
    assert ax.get_ylabel() == "value"


def test_history_single_string_metric_and_given_axes():
    _, (left, right) = plt.subplots(1, 2)
    returned = plot_history(HISTORY, metrics="accuracy", ax=right)
    assert returned is right
    assert len(left.get_lines()) == 0
    np.testing.assert_array_equal(right.get_lines()[0].get_ydata(), HISTORY["accuracy"])
    assert right.get_ylabel() == "accuracy"


def test_history_without_validation_draws_training_only():
    ax = plot_history({"loss": [3.0, 2.0]})
    assert [line.get_label() for line in ax.get_lines()] == ["training loss"]


@pytest.mark.parametrize(
    ("history", "metrics", "message"),
    [
        (HISTORY, ("mae",), "no metric 'mae'"),
        (HISTORY, ("val_loss",), "training name"),
        (HISTORY, (), "one or more metric names"),
        ({"loss": [1.0, float("nan")]}, ("loss",), "finite"),
        ({"loss": []}, ("loss",), "non-empty 1-D"),
        ({"loss": [[1.0, 2.0]]}, ("loss",), "non-empty 1-D"),
        ({"loss": [1.0, 0.5], "val_loss": [0.9]}, ("loss",), "validation_freq"),
    ],
)
def test_history_bad_input_raises_value_error(history, metrics, message):
    with pytest.raises(ValueError, match=message):
        plot_history(history, metrics=metrics)


def test_history_wrong_type_raises_type_error():
    with pytest.raises(TypeError, match=r"History or its \.history dict"):
        plot_history([1.0, 0.5])
    with pytest.raises(TypeError, match="sequence of numbers"):
        plot_history({"loss": ["a", "b"]})


# --- plot_confusion_matrix --------------------------------------------------------------------


def _count_matrix(y_true, y_pred, k):
    """Reference: count pairs by hand, independent of scikit-learn."""
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def test_confusion_matrix_counts_and_labels():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, size=200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, size=200))
    names = ["cat", "dog", "bird", "fish"]
    ax = plot_confusion_matrix(y_true, y_pred, class_names=names)

    shown = np.asarray(ax.images[0].get_array())
    np.testing.assert_array_equal(shown, _count_matrix(y_true, y_pred, 4))
    assert shown.sum() == 200
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in shown.ravel()]  # one annotation per cell, row by row
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Predicted label", "True label")
    assert len(ax.figure.axes) == 1  # no colour bar


def test_confusion_matrix_normalize_true_rows_sum_to_one():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 1, 0]
    ax = plot_confusion_matrix(y_true, y_pred, normalize="true")
    shown = np.asarray(ax.images[0].get_array())
    expected = np.array([[1 / 3, 2 / 3, 0], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(shown, expected, atol=1e-12)  # exact fractions up to rounding
    assert ax.texts[1].get_text() == "0.67"


def test_confusion_matrix_keeps_classes_that_never_occur():
    ax = plot_confusion_matrix([0, 0, 2], [0, 2, 2], class_names=["a", "b", "c"])
    shown = np.asarray(ax.images[0].get_array())
    assert shown.shape == (3, 3)
    np.testing.assert_array_equal(shown[1], [0, 0, 0])


def test_confusion_matrix_string_labels_and_float_integer_labels():
    ax = plot_confusion_matrix(["b", "a", "a"], ["a", "a", "b"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 1], [1, 0]])
    ax = plot_confusion_matrix(np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(ax.images[0].get_array(), [[0, 1], [0, 1]])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "message"),
    [
        ([0, 1], [0, 1, 1], {}, "same length"),
        ([], [], {}, "non-empty 1-D"),
        ([0, 1], [[0.9, 0.1], [0.2, 0.8]], {}, "argmax"),
        ([0, 1], [0.2, 0.8], {}, "probabilities"),
        ([0, 3], [0, 1], {"class_names": ["a", "b"]}, r"0\.\.1, got labels such as \[3\]"),
        (["a", "b"], ["a", "b"], {"class_names": ["a", "b"]}, "must hold the integers"),
        ([0, 1], [0, 1], {"class_names": []}, "non-empty list"),
        ([0, 1], [0, 1], {"normalize": "rows"}, "normalize must be one of"),
    ],
)
def test_confusion_matrix_bad_input_raises(y_true, y_pred, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_confusion_matrix(y_true, y_pred, **kwargs)


# --- plot_image_grid --------------------------------------------------------------------------


def test_image_grid_one_axes_per_image_with_titles():
    rng = np.random.default_rng(2)
    images = rng.random((10, 8, 8))
    titles = [f"image {i}" for i in range(10)]
    fig = plot_image_grid(images, titles=titles, ncols=4)
    assert len(fig.axes) == 10  # 3 rows x 4 columns, the 2 unused cells removed
    for i, ax in enumerate(fig.axes):
        np.testing.assert_array_equal(ax.images[0].get_array(), images[i])
        assert ax.get_title() == titles[i]
        assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    rows = {round(ax.get_position().y0, 3) for ax in fig.axes}
    columns = {round(ax.get_position().x0, 3) for ax in fig.axes}
    assert (len(rows), len(columns)) == (3, 4)


def test_image_grid_channels_and_shared_colour_range():
    rgb = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    rgb[1] = 255
    fig = plot_image_grid(rgb)
    assert len(fig.axes) == 2  # fewer images than ncols: one row of 2
    assert fig.axes[1].images[0].get_array().shape == (4, 4, 3)

    grey = np.linspace(0, 1, 2 * 5 * 5).reshape(2, 5, 5, 1)
    fig = plot_image_grid(grey, vmin=0.0, vmax=1.0, cmap="viridis")
    assert fig.axes[0].images[0].get_array().shape == (5, 5)  # the channel axis is dropped
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)
    assert fig.axes[0].images[0].get_cmap().name == "viridis"


@pytest.mark.parametrize(
    ("images", "kwargs", "message"),
    [
        (np.zeros((8, 8)), {}, "non-empty batch"),
        (np.zeros((0, 8, 8)), {}, "non-empty batch"),
        (np.zeros((2, 8, 8, 2)), {}, "1, 3 or 4 channels"),
        (np.full((1, 2, 2, 3), 2.0), {}, r"\[0.0, 1.0\]"),
        (np.full((1, 2, 2), np.inf), {}, "finite"),
        (np.zeros((3, 2, 2)), {"titles": ["a", "b"]}, "3 strings"),
        (np.zeros((1, 2, 2)), {"titles": "a"}, "got a string"),
        (np.zeros((3, 2, 2)), {"ncols": 0}, "positive integer"),
        (np.zeros((3, 2, 2)), {"ncols": 2.5}, "positive integer"),
    ],
)
def test_image_grid_bad_input_raises_value_error(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_image_grid(images, **kwargs)


def test_image_grid_wrong_types_raise_type_error():
    with pytest.raises(TypeError, match="numeric"):
        plot_image_grid(np.array([[["a"]]]))
    with pytest.raises(TypeError, match="title must be a str"):
        plot_image_grid(np.zeros((1, 2, 2)), titles=[3])
