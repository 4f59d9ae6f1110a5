r"""Gradient descent and the training loop, from scratch in NumPy.

Gradient descent minimises a loss $J(w)$ by stepping against its gradient, again and again:

$$ w_{k+1} = w_k - \eta \, \nabla J(w_k), $$

where $\eta > 0$ is the **learning rate**. Too small and it crawls; too large and it oscillates or
diverges. [`gradient_descent`][dlguide.gradient_descent.gradient_descent] runs this loop on any
function whose gradient you supply and returns the whole
[`Trajectory`][dlguide.gradient_descent.Trajectory], so you can plot the path and count the steps.
It stops on the first of three rules: a maximum number of epochs, the loss falling below a
threshold, or no improvement for a number of epochs (patience).

Training a model is the same loop with data in it. For linear regression $\hat y = X w + b$ one
epoch of **forward → error → backward → update** is:

1. forward: predict $\hat y = X w + b$;
2. error: $e = \hat y - y$ and the loss $J = \frac1n \sum_i e_i^2$;
3. backward: $\nabla_w J = \frac2n X^\top e$, $\;\partial J / \partial b = \frac2n \sum_i e_i$
   ([`mse_loss_and_grads`][dlguide.gradient_descent.mse_loss_and_grads]);
4. update: $w \leftarrow w - \eta \nabla_w J$, $\;b \leftarrow b - \eta \, \partial J/\partial b$.

[`minibatch_gradient_descent`][dlguide.gradient_descent.minibatch_gradient_descent] runs it on
batches of the data: the whole set (batch gradient descent), a few samples (mini-batch) or one
sample at a time (stochastic gradient descent).

Examples:
    >>> import numpy as np
    >>> from dlguide.gradient_descent import gradient_descent
    >>> run = gradient_descent(
    ...     loss=lambda w: float(w @ w) + 6.0, grad=lambda w: 2 * w,
    ...     w0=np.array([3.0, 3.0]), learning_rate=0.1, tol=6.0 + 1e-6,
    ... )
    >>> run.stop_reason, run.n_steps
    ('threshold', 38)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_finite_array, check_int, check_real

__all__ = [
    "MinibatchHistory",
    "Trajectory",
    "gradient_descent",
    "minibatch_gradient_descent",
    "mse_loss_and_grads",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Trajectory:
    r"""The path gradient descent took.

    Attributes:
        path: Every iterate $w_0, w_1, \dots, w_n$, shape `(n_steps + 1, d)`.
        losses: $J(w_0), \dots, J(w_n)$, shape `(n_steps + 1,)`.
        stop_reason: Why it stopped: `"max_epochs"`, `"threshold"` (loss below `tol`),
            `"no_improvement"` (patience ran out) or `"diverged"` (loss above `diverge_above`
            or not finite).
    """

    path: FloatArray
    losses: FloatArray
    stop_reason: str

    @property
    def n_steps(self) -> int:
        """Number of updates taken, $n$."""
        return len(self.losses) - 1

    @property
    def final(self) -> FloatArray:
        """The last iterate $w_n$, shape `(d,)`."""
        return self.path[-1]


def gradient_descent(
    loss: Callable[[FloatArray], float],
    grad: Callable[[FloatArray], ArrayLike],
    w0: ArrayLike,
    learning_rate: float,
    *,
    max_epochs: int = 1000,
    tol: float | None = None,
    patience: int | None = None,
    min_delta: float = 0.0,
    diverge_above: float = 1e10,
) -> Trajectory:
    r"""Minimise `loss` by gradient descent and return every iterate.

    $$ w_{k+1} = w_k - \eta \, \nabla J(w_k), \qquad k = 0, 1, \dots $$

    One epoch is one update here: the whole "data set" is the function itself. After each update it
    stops, checking in this order, when

    - the loss is not finite or exceeds `diverge_above` (`"diverged"`);
    - the loss is below `tol` (`"threshold"`);
    - the loss has not fallen below the best so far minus `min_delta` for `patience` epochs in a row
      (`"no_improvement"`);
    - `max_epochs` updates have been made (`"max_epochs"`).

    If $J(w_0)$ is already below `tol`, no step is taken.

    Args:
        loss: $J$, takes an array of shape `(d,)` and returns a real number.
        grad: $\nabla J$, takes an array of shape `(d,)` and returns one of shape `(d,)`.
        w0: Starting point $w_0$, shape `(d,)` (use shape `(1,)` for a function of one variable).
        learning_rate: Step size $\eta > 0$.
        max_epochs: Most updates to make, at least 1.
        tol: Stop once $J(w) <$ `tol`; `None` disables the rule.
        patience: Stop after this many epochs without improvement; `None` disables the rule.
        min_delta: Smallest decrease of the best loss that counts as an improvement, $\ge 0$.
        diverge_above: Declare divergence once the loss exceeds this.

    Returns:
        The [`Trajectory`][dlguide.gradient_descent.Trajectory]: path, losses and stop reason.

    Raises:
        ValueError: If `w0` is not a non-empty finite 1-D array, a number is out of range, or `loss`
            or `grad` returns the wrong shape or a non-finite value at a point where the loss was
            still finite.
        TypeError: If an argument has the wrong type.

    Examples:
        >>> import numpy as np
        >>> run = gradient_descent(lambda w: float(w[0] ** 2), lambda w: 2 * w, np.array([1.0]),
        ...                        learning_rate=0.25, max_epochs=3)
        >>> run.path[:, 0]
        array([1.   , 0.5  , 0.25 , 0.125])
        >>> run.stop_reason
        'max_epochs'
    """
    if not callable(loss) or not callable(grad):
        raise TypeError(
            f"loss and grad must be callables, got {type(loss).__name__} and {type(grad).__name__}"
        )
    w = as_finite_array(w0, "w0", ndim=1)
    eta = check_real(learning_rate, "learning_rate", positive=True)
    max_epochs = check_int(max_epochs, "max_epochs", 1)
    tol = None if tol is None else check_real(tol, "tol")
    patience = None if patience is None else check_int(patience, "patience", 1)
    min_delta = check_real(min_delta, "min_delta")
    if min_delta < 0:
        raise ValueError(f"min_delta must be >= 0, got {min_delta}")
    diverge_above = check_real(diverge_above, "diverge_above")

    def evaluate(point: FloatArray) -> float:
        value = loss(point)
        if np.ndim(value) != 0:
            raise ValueError(f"loss must return a scalar, got shape {np.shape(value)}")
        return float(value)

    path, losses = [w], [evaluate(w)]
    if not np.isfinite(losses[0]):
        raise ValueError(f"loss(w0) must be finite, got {losses[0]}")
    if tol is not None and losses[0] < tol:
        return Trajectory(np.array(path), np.array(losses), "threshold")

    best, waited, reason = losses[0], 0, "max_epochs"
    for epoch in range(1, max_epochs + 1):
        g = np.asarray(grad(w), dtype=np.float64)
        if g.shape != w.shape:
            raise ValueError(f"grad must return shape {w.shape} like w0, got {g.shape}")
        if not np.all(np.isfinite(g)):
            raise ValueError(f"grad returned non-finite values at epoch {epoch}: {g!r}")
        w = w - eta * g  # the update
        with np.errstate(over="ignore", invalid="ignore"):
            current = evaluate(w)
        path.append(w)
        losses.append(current)
        if not np.isfinite(current) or current > diverge_above:
            reason = "diverged"
            break
        if tol is not None and current < tol:
            reason = "threshold"
            break
        if patience is not None:
            if current < best - min_delta:
                best, waited = current, 0
            else:
                waited += 1
                if waited >= patience:
                    reason = "no_improvement"
                    break
    return Trajectory(np.array(path), np.array(losses), reason)


def mse_loss_and_grads(
    X: ArrayLike, y: ArrayLike, w: ArrayLike, b: float
) -> tuple[float, FloatArray, float]:
    r"""Mean squared error of linear regression and its gradients: forward, error, backward.

    $$ \hat y = X w + b, \qquad e = \hat y - y, \qquad J = \frac1n \sum_{i=1}^n e_i^2, $$
    $$ \nabla_w J = \frac2n X^\top e, \qquad \frac{\partial J}{\partial b} = \frac2n \sum_i e_i. $$

    This $J$ is Keras' `"mse"` loss, so the gradients match `keras.losses.MeanSquaredError`.

    Args:
        X: Inputs, shape `(n, d)`.
        y: Targets, shape `(n,)`.
        w: Weights, shape `(d,)`.
        b: Bias, a real number.

    Returns:
        `(J, grad_w, grad_b)`: the loss, $\nabla_w J$ of shape `(d,)` and $\partial J/\partial b$.

    Raises:
        ValueError: If the shapes disagree, an array is empty or a value is not finite.

    Examples:
        >>> import numpy as np
        >>> J, gw, gb = mse_loss_and_grads(np.array([[1.0], [2.0]]), np.array([1.0, 3.0]),
        ...                                np.array([1.0]), 0.0)
        >>> J, gw, gb
        (0.5, array([-2.]), -1.0)
    """
    X = as_finite_array(X, "X", ndim=2)
    y = as_finite_array(y, "y", ndim=1)
    w = as_finite_array(w, "w", ndim=1)
    b = check_real(b, "b")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must have one target per row of X: expected ({X.shape[0]},), got {y.shape}"
        )
    if w.shape[0] != X.shape[1]:
        raise ValueError(
            f"w must have one weight per column of X: expected ({X.shape[1]},), got {w.shape}"
        )
    n = X.shape[0]
    error = X @ w + b - y  # forward, then error
    loss = float(np.mean(error**2))
    grad_w = (2.0 / n) * (X.T @ error)  # backward
    grad_b = (2.0 / n) * float(np.sum(error))
    return loss, grad_w, grad_b


@dataclass(frozen=True)
class MinibatchHistory:
    r"""What [`minibatch_gradient_descent`][dlguide.gradient_descent.minibatch_gradient_descent]
    returns.

    Attributes:
        w: Final weights, shape `(d,)`.
        b: Final bias.
        losses: Loss on the **whole** data set before training and after every update, shape
            `(epochs * updates_per_epoch + 1,)`.
        updates_per_epoch: $\lceil n / \text{batch size} \rceil$.
    """

    w: FloatArray
    b: float
    losses: FloatArray
    updates_per_epoch: int

    @property
    def epoch_losses(self) -> FloatArray:
        """Whole-data loss at the start and after every epoch, shape `(epochs + 1,)`."""
        return self.losses[:: self.updates_per_epoch]


def minibatch_gradient_descent(
    X: ArrayLike,
    y: ArrayLike,
    learning_rate: float,
    batch_size: int,
    epochs: int,
    *,
    w0: ArrayLike | None = None,
    b0: float = 0.0,
    shuffle: bool = True,
    seed: int | None = 0,
) -> MinibatchHistory:
    r"""Fit linear regression $\hat y = X w + b$ by (mini-)batch gradient descent on the MSE.

    Each epoch splits the $n$ samples (shuffled first if `shuffle`) into batches of `batch_size`
    (the last one may be smaller) and, for each batch $B$, makes one update with the gradient of
    the loss on that batch only:

    $$ w \leftarrow w - \eta \, \frac{2}{|B|} X_B^\top (X_B w + b - y_B), \qquad
       b \leftarrow b - \eta \, \frac{2}{|B|} \sum_{i \in B} (x_i^\top w + b - y_i). $$

    `batch_size = n` is batch gradient descent (one update per epoch), `batch_size = 1` is
    stochastic gradient descent ($n$ updates per epoch), anything between is mini-batch. With
    `shuffle=False` the updates are those of Keras `fit(..., batch_size, shuffle=False)` with the
    `"mse"` loss and `keras.optimizers.SGD(learning_rate)`.

    Args:
        X: Inputs, shape `(n, d)`.
        y: Targets, shape `(n,)`.
        learning_rate: Step size $\eta > 0$.
        batch_size: Samples per update, $1 \le$ `batch_size` $\le n$.
        epochs: Passes over the data, at least 1.
        w0: Starting weights, shape `(d,)`; zeros if `None`.
        b0: Starting bias.
        shuffle: Reshuffle the samples at the start of every epoch.
        seed: Seed of the shuffling generator (`numpy.random.default_rng`).

    Returns:
        The [`MinibatchHistory`][dlguide.gradient_descent.MinibatchHistory]: final `w`, `b` and the
        whole-data loss after every update.

    Raises:
        ValueError: If the shapes disagree, an array is empty, a value is not finite or a number is
            out of range (including a loss that overflows because the learning rate is too high).
        TypeError: If an argument has the wrong type.

    Examples:
        >>> import numpy as np
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = 2 * X[:, 0] + 1
        >>> h = minibatch_gradient_descent(X, y, learning_rate=0.1, batch_size=2, epochs=200)
        >>> np.round(h.w, 3), round(h.b, 3), h.updates_per_epoch
        (array([2.]), 1.0, 2)
    """
    X = as_finite_array(X, "X", ndim=2)
    y = as_finite_array(y, "y", ndim=1)
    n, d = X.shape
    if y.shape[0] != n:
        raise ValueError(f"y must have one target per row of X: expected ({n},), got {y.shape}")
    eta = check_real(learning_rate, "learning_rate", positive=True)
    batch_size = check_int(batch_size, "batch_size", 1)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most the number of samples {n}, got {batch_size}")
    epochs = check_int(epochs, "epochs", 1)
    w = np.zeros(d) if w0 is None else as_finite_array(w0, "w0", ndim=1)
    if w.shape != (d,):
        raise ValueError(f"w0 must have one weight per column of X: expected ({d},), got {w.shape}")
    b = check_real(b0, "b0")
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be a bool, got {type(shuffle).__name__}")

    rng = np.random.default_rng(seed)
    losses = [mse_loss_and_grads(X, y, w, b)[0]]
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            error = X[batch] @ w + b - y[batch]  # forward, error
            grad_w = (2.0 / len(batch)) * (X[batch].T @ error)  # backward
            grad_b = (2.0 / len(batch)) * float(np.sum(error))
            w, b = w - eta * grad_w, b - eta * grad_b  # update
            with np.errstate(over="ignore", invalid="ignore"):
                full_loss = float(np.mean((X @ w + b - y) ** 2))
            if not np.isfinite(full_loss):
                raise ValueError(
                    f"the loss overflowed after {len(losses)} updates: learning_rate {eta} is too "
                    f"high for this data (expected a finite loss, got {full_loss})"
                )
            losses.append(full_loss)
    return MinibatchHistory(w, b, np.array(losses), -(-n // batch_size))
