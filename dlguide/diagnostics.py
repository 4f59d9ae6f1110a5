r"""Gradients of a Keras model's loss, on whichever backend Keras runs.

Keras 3 computes a model's forward pass the same way on TensorFlow, JAX and PyTorch, but each
backend takes gradients its own way: TensorFlow records the pass on a `tf.GradientTape`, JAX
differentiates a pure function with `jax.value_and_grad`, and PyTorch calls `loss.backward()`
and leaves the result in each parameter's `.grad`. [`gradients`][dlguide.diagnostics.gradients]
hides that difference behind one call, following the custom-training-step pattern that the Keras
guides give for each backend; [`gradient_norms`][dlguide.diagnostics.gradient_norms] reduces the
gradients of the weight matrices to one number per layer, which is how
[chapter 4](../chapters/04-activations.md) watches gradients vanish and explode.
[`gradient_of`][dlguide.diagnostics.gradient_of] does the same for any scalar function of an
array written with `keras.ops`, such as a loss on the states of a recurrent network.

Both differentiate the mean loss over the whole batch at the model's current weights, in
inference mode (`training=False`: dropout off, batch-norm statistics untouched), and change no
weight.

For a model that ends in a softmax or sigmoid, prefer a linear output and `from_logits=True`.
On JAX and PyTorch, Keras takes the logarithm of the probabilities clipped away from 0 and 1
(to $[\epsilon, 1 - \epsilon]$ with $\epsilon = 10^{-7}$ for the categorical losses), so a
saturated output gets a zero gradient; on TensorFlow it quietly uses the logits behind the
activation instead. From logits, every backend computes the same loss and the same gradients.

Examples:
    >>> import keras, numpy as np
    >>> from dlguide.diagnostics import gradient_norms
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
    >>> norms = gradient_norms(model, np.ones((2, 4)), np.array([0, 2]))
    >>> list(norms) == [model.layers[0].name], norms[model.layers[0].name] > 0
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_finite_array

__all__ = ["LOSSES", "gradient_norms", "gradient_of", "gradients"]

LOSSES: dict[str, type[keras.losses.Loss]] = {
    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
    "mean_squared_error": keras.losses.MeanSquaredError,
}
"""The loss names the functions accept, each with the Keras loss class (batch mean) it builds."""


def _check_inputs(
    model: keras.Model, x: ArrayLike, y: ArrayLike, loss: str, from_logits: bool
) -> tuple[NDArray[Any], NDArray[Any], keras.losses.Loss]:
    """Validated `x`, `y` and the loss object; raises ValueError/TypeError on bad input."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("model must be built (start it with keras.Input or call it once)")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    if not isinstance(from_logits, bool):
        raise TypeError(f"from_logits must be a bool, got {type(from_logits).__name__}")
    if from_logits and loss == "mean_squared_error":
        raise ValueError("from_logits=True needs a cross-entropy loss, got 'mean_squared_error'")
    x = as_finite_array(x, "x")
    y = as_finite_array(y, "y")
    inputs = getattr(model, "inputs", None)  # a subclassed model has none: any (batch, ...) fits
    expected_x = tuple(inputs[0].shape[1:]) if inputs else (None,) * max(x.ndim - 1, 1)
    if len(x.shape[1:]) != len(expected_x) or any(
        e not in (None, got) for e, got in zip(expected_x, x.shape[1:], strict=False)
    ):
        raise ValueError(f"x must have shape (batch, *{expected_x}), got shape {x.shape}")
    n, output = len(x), tuple(model.compute_output_shape((len(x), *x.shape[1:])))
    sparse = loss == "sparse_categorical_crossentropy"
    expected_y = [(n,), (n, 1)] if sparse else [output]
    if y.shape not in expected_y:
        raise ValueError(f"y must have shape {' or '.join(map(str, expected_y))}, got {y.shape}")
    loss_fn = LOSSES[loss](from_logits=True) if from_logits else LOSSES[loss]()
    return x.astype(model.compute_dtype), y, loss_fn


def gradients(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    loss: str = "sparse_categorical_crossentropy",
    *,
    from_logits: bool = False,
) -> list[NDArray[Any]]:
    r"""Gradient of the mean loss with respect to every trainable variable of a Keras model.

    With model $f_\theta$, a batch of $n$ examples and a per-example loss $\ell$, it computes

    $$ g = \nabla_\theta L(\theta), \qquad L(\theta) = \frac1n \sum_{i=1}^{n}
    \ell\bigl(y_i, f_\theta(x_i)\bigr), $$

    at the current weights $\theta$, with the active backend's automatic differentiation
    (`keras.backend.backend()`): `tf.GradientTape` on TensorFlow, `jax.value_and_grad` over
    `model.stateless_call` on JAX, `loss.backward()` on PyTorch.

    Args:
        model: A built Keras model.
        x: Inputs, shape `(n, *input_shape)`; cast to the model's compute dtype.
        y: Targets: integer class labels of shape `(n,)` or `(n, 1)` for
            `"sparse_categorical_crossentropy"`, otherwise the model's output shape.
        loss: One of the names in `LOSSES`.
        from_logits: Whether the model outputs logits (cross-entropy losses only).

    Returns:
        One NumPy array per entry of `model.trainable_variables`, in that order and of the same
        shape (zeros for a variable the loss does not depend on).

    Raises:
        TypeError: If `model` is not a `keras.Model`, `x` or `y` is not numeric, or
            `from_logits` is not a bool.
        ValueError: If the model is not built, `loss` is unknown (or not a cross-entropy with
            `from_logits=True`), `x` or `y` is empty, holds NaN or infinity, or has the wrong
            shape.

    Examples:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        >>> g = gradients(model, np.ones((2, 4)), np.zeros((2, 1)), loss="mean_squared_error")
        >>> [a.shape for a in g]
        [(4, 1), (1,)]
    """
    x, y, loss_fn = _check_inputs(model, x, y, loss, from_logits)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss_fn(y, model(x, training=False))
        grads = tape.gradient(value, model.trainable_variables)
    elif backend == "jax":
        import jax

        def loss_of(trainable: list[Any], non_trainable: list[Any]) -> Any:
            y_pred, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return loss_fn(y, y_pred)

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        _, grads = jax.value_and_grad(loss_of)(trainable, non_trainable)
    elif backend == "torch":
        model.zero_grad()  # .grad accumulates: start from zero
        loss_fn(y, model(x, training=False)).backward()
        grads = [v.value.grad for v in model.trainable_variables]
        model.zero_grad()  # leave no gradient behind for a later optimizer step
    else:
        raise ValueError(f"Keras backend must be tensorflow, jax or torch, got {backend!r}")
    return [  # a variable the loss does not depend on gets None on TensorFlow and torch: zeros
        np.zeros(v.shape, v.dtype) if g is None else keras.ops.convert_to_numpy(g)
        for g, v in zip(grads, model.trainable_variables, strict=True)
    ]


def gradient_norms(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    loss: str = "sparse_categorical_crossentropy",
    *,
    from_logits: bool = False,
) -> dict[str, float]:
    r"""Euclidean norm of the loss gradient with respect to each layer's weight matrix.

    For every layer $l$ of `model.layers` with a trainable `kernel` $W_l$ (Dense, Conv, …) it
    returns the Frobenius norm

    $$ \Bigl\lVert \frac{\partial L}{\partial W_l} \Bigr\rVert = \sqrt{\sum_{i,j}
    \Bigl(\frac{\partial L}{\partial W_{l,ij}}\Bigr)^2}, $$

    with $L$ the mean loss over the batch, computed by [`gradients`][dlguide.diagnostics.gradients]
    on the active Keras backend. Biases are left out. Layers nested inside a layer of `model`
    are not visited.

    Args:
        model: A built Keras model.
        x: Inputs, shape `(n, *input_shape)`.
        y: Targets, shape `(n,)` or `(n, 1)` for the sparse loss, else the model's output shape.
        loss: One of the names in `LOSSES`.
        from_logits: Whether the model outputs logits (cross-entropy losses only).

    Returns:
        `{layer name: norm}`, in the order of `model.layers` (first layer first).

    Raises:
        TypeError: As in [`gradients`][dlguide.diagnostics.gradients].
        ValueError: As in [`gradients`][dlguide.diagnostics.gradients], or if no layer has a
            trainable kernel.

    Examples:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, name="out")])
        >>> norms = gradient_norms(model, np.ones((2, 4)), np.ones((2, 1)), "mean_squared_error")
        >>> list(norms), norms["out"] > 0
        (['out'], True)
    """
    grads = gradients(model, x, y, loss, from_logits=from_logits)  # validates the inputs first
    position = {id(v): i for i, v in enumerate(model.trainable_variables)}
    kernels = {
        layer.name: position[id(layer.kernel)]
        for layer in model.layers
        if getattr(layer, "kernel", None) is not None and id(layer.kernel) in position
    }
    if not kernels:
        raise ValueError("model must have at least one layer with a trainable kernel, got none")
    return {name: float(np.linalg.norm(grads[i])) for name, i in kernels.items()}


def gradient_of(fn: Callable[[Any], Any], x: ArrayLike) -> NDArray[Any]:
    r"""Gradient $\nabla f(x)$ of a scalar function $f$ at the array $x$, on any Keras backend.

    `fn` computes $f$ from a backend tensor with `keras.ops` (and Keras layers); the gradient is
    taken with the active backend's automatic differentiation: `tf.GradientTape` on TensorFlow,
    `jax.grad` on JAX, `backward()` on PyTorch.

    Args:
        fn: A function of one tensor, shape `x.shape`, that returns a scalar tensor.
        x: The point, any shape; cast to float32 (Keras' default float type).

    Returns:
        $\partial f / \partial x$ as a float32 NumPy array of the shape of `x`.

    Raises:
        TypeError: If `fn` is not callable or `x` is not numeric.
        ValueError: If `x` is empty or holds NaN or infinity.

    Examples:
        >>> import keras, numpy as np
        >>> gradient_of(lambda x: 0.5 * keras.ops.sum(x**2), np.array([1.0, -2.0, 3.0]))
        array([ 1., -2.,  3.], dtype=float32)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    x = as_finite_array(x, "x").astype("float32")
    point = keras.ops.convert_to_tensor(x)  # a tensor of the backend, on its device
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(point)
            value = fn(point)
        grad = tape.gradient(value, point)
    elif backend == "jax":
        import jax

        grad = jax.grad(fn)(point)
    elif backend == "torch":
        point.requires_grad_()
        fn(point).backward()
        grad = point.grad
    else:
        raise ValueError(f"Keras backend must be tensorflow, jax or torch, got {backend!r}")
    # A function that does not depend on x gets None on TensorFlow and PyTorch: zeros.
    return np.zeros_like(x) if grad is None else keras.ops.convert_to_numpy(grad)
