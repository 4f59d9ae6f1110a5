r"""Optimizers from scratch: SGD (with momentum and Nesterov), RMSprop, Adam and Adagrad.

Each optimizer is a small class. You create it with its hyperparameters, then call
`step(params, grads)` once per update: it returns the new parameters and keeps its own state (the
velocities, running averages, step count) as plain NumPy arrays you can print. The update equations
are the ones `keras.optimizers` implements, term for term (same defaults, same placement of
$\epsilon$, same bias correction), and `tests/test_optimizers.py` checks that both produce the same
parameter trajectory.

In every formula, $\theta$ is a parameter array, $g$ its gradient, $\eta$ the learning rate, $t$
the step number starting at 1 and all operations are element-wise.

Examples:
    >>> import numpy as np
    >>> from dlguide.optimizers import Adam
    >>> opt = Adam(learning_rate=0.1)
    >>> w = np.array([1.0, -2.0])
    >>> for _ in range(3):
    ...     w = opt.step(w, 2 * w)  # gradient of sum(w ** 2)
    >>> np.round(w, 4), opt.iterations
    (array([ 0.7016, -1.7006]), 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

__all__ = ["SGD", "Adagrad", "Adam", "Optimizer", "RMSprop", "get"]

Array = NDArray[np.floating[Any]]


def _check_hyper(value: object, name: str, low: float, high: float | None = None) -> float:
    """Return `value` as a float with `low <= value` (and `value < high`), or raise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not np.isfinite(number) or number < low or (high is not None and number >= high):
        expected = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be finite and {expected}, got {number}")
    return number


def _check_arrays(arrays: Sequence[Any], name: str) -> list[Array]:
    checked = []
    for i, array in enumerate(arrays):
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{name}[{i}] must be a numpy array, got {type(array).__name__}")
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"{name}[{i}] must have a floating dtype, got {array.dtype}")
        if array.size == 0:
            raise ValueError(f"{name}[{i}] must not be empty, got shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name}[{i}] must contain only finite values, got {array!r}")
        checked.append(array)
    return checked


class Optimizer:
    r"""Base class: `step` checks the inputs once and applies `update` to each parameter array.

    Subclasses set their state in `_build` (called on the first step, from the parameter shapes)
    and implement the update of one parameter array in `update(i, theta, g)`: the math, which
    trusts its arguments (`step` has checked them).

    Attributes:
        learning_rate: $\eta$.
        iterations: Number of steps taken so far ($t - 1$ during a step).
    """

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = _check_hyper(learning_rate, "learning_rate", 0.0)
        if self.learning_rate == 0:
            raise ValueError("learning_rate must be > 0, got 0.0")
        self.iterations = 0
        self._shapes: list[tuple[tuple[int, ...], np.dtype[Any]]] | None = None

    @overload
    def step(self, params: Array, grads: Array) -> Array: ...
    @overload
    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> list[Array]: ...
    def step(self, params: Array | Sequence[Array], grads: Array | Sequence[Array]) -> Any:
        """Make one update and return the new parameters; the inputs are not modified.

        Args:
            params: One parameter array or a list of them (floating dtype, any shapes).
            grads: The gradients, same structure and shapes as `params`. Each gradient is cast
                to its parameter's dtype, as Keras does.

        Returns:
            The updated parameters, in the same structure as `params`.

        Raises:
            ValueError: If shapes differ between `params` and `grads` or from the first step,
                an array is empty or not floating, or a value is not finite.
            TypeError: If the structures differ or an element is not a NumPy array.
        """
        single = isinstance(params, np.ndarray)
        if single != isinstance(grads, np.ndarray):
            raise TypeError(
                "params and grads must both be arrays or both be lists of arrays, got "
                f"{type(params).__name__} and {type(grads).__name__}"
            )
        p_list = _check_arrays([params] if single else list(params), "params")
        g_list = _check_arrays([grads] if single else list(grads), "grads")
        if not p_list:
            raise ValueError("params must hold at least one array, got an empty list")
        if len(p_list) != len(g_list):
            raise ValueError(
                f"grads must have one array per parameter: expected {len(p_list)}, "
                f"got {len(g_list)}"
            )
        for i, (p, g) in enumerate(zip(p_list, g_list, strict=True)):
            if p.shape != g.shape:
                raise ValueError(
                    f"grads[{i}] must have shape {p.shape} like params[{i}], got {g.shape}"
                )
        shapes = [(p.shape, p.dtype) for p in p_list]
        if self._shapes is None:
            self._build(p_list)
            self._shapes = shapes
        elif shapes != self._shapes:
            raise ValueError(
                "params must keep the shapes and dtypes of the first step: "
                f"expected {self._shapes}, got {shapes}"
            )
        new = [
            self.update(i, p, g.astype(p.dtype, copy=False))
            for i, (p, g) in enumerate(zip(p_list, g_list, strict=True))
        ]
        self.iterations += 1
        return new[0] if single else new

    def _build(self, params: list[Array]) -> None:
        """Create the state arrays for `params` (nothing for plain SGD)."""

    def update(self, i: int, theta: Array, g: Array) -> Array:
        """The new value of parameter array `i`, `theta`, given its gradient `g` (same shape and
        dtype); updates this optimizer's state for that array. Called by `step`."""
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    Without momentum ($\mu = 0$): $\theta \leftarrow \theta - \eta g$.

    With momentum $\mu$ the velocity $v$ (zeros at first) accumulates the steps:

    $$ v \leftarrow \mu v - \eta g, \qquad \theta \leftarrow \theta + v, $$

    and with Nesterov momentum the step looks ahead along the new velocity:

    $$ v \leftarrow \mu v - \eta g, \qquad \theta \leftarrow \theta + \mu v - \eta g. $$

    As in `keras.optimizers.SGD`.

    Args:
        learning_rate: $\eta > 0$.
        momentum: $\mu \in [0, 1)$.
        nesterov: Use Nesterov momentum (needs $\mu > 0$ to make a difference).

    Examples:
        >>> import numpy as np
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> w = np.array([1.0])
        >>> w = opt.step(w, np.array([1.0])); w = opt.step(w, np.array([1.0]))
        >>> w, opt.velocities[0]
        (array([0.71]), array([-0.19]))
    """

    def __init__(
        self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False
    ) -> None:
        super().__init__(learning_rate)
        self.momentum = _check_hyper(momentum, "momentum", 0.0, 1.0)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be a bool, got {type(nesterov).__name__}")
        self.nesterov = nesterov
        self.velocities: list[Array] = []

    def _build(self, params: list[Array]) -> None:
        self.velocities = [np.zeros_like(p) for p in params]

    def update(self, i: int, theta: Array, g: Array) -> Array:
        eta, mu = theta.dtype.type(self.learning_rate), theta.dtype.type(self.momentum)
        if self.momentum == 0:
            return theta - eta * g
        self.velocities[i] = mu * self.velocities[i] - eta * g
        if self.nesterov:
            return theta + (mu * self.velocities[i] - eta * g)
        return theta + self.velocities[i]


class RMSprop(Optimizer):
    r"""RMSprop: divide the step by a running root-mean-square of the gradients.

    With $s$ (zeros at first) the running average of squared gradients:

    $$ s \leftarrow \rho s + (1 - \rho) g^2, \qquad
       \theta \leftarrow \theta - \frac{\eta \, g}{\sqrt{s + \epsilon}}. $$

    Note that $\epsilon$ sits **inside** the square root, as in `keras.optimizers.RMSprop`. With
    momentum $\mu > 0$ the step goes through a velocity $m$ (zeros at first):
    $m \leftarrow \mu m + \eta g / \sqrt{s + \epsilon}$, $\theta \leftarrow \theta - m$.

    Args:
        learning_rate: $\eta > 0$.
        rho: Decay $\rho \in [0, 1)$ of the running average.
        momentum: $\mu \in [0, 1)$.
        epsilon: $\epsilon \ge 0$.

    Examples:
        >>> import numpy as np
        >>> opt = RMSprop(learning_rate=0.01)
        >>> w = opt.step(np.array([1.0]), np.array([2.0]))  # s = 0.1 * 4 = 0.4
        >>> w.round(6), opt.velocities[0]
        (array([0.968377]), array([0.4]))
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(learning_rate)
        self.rho = _check_hyper(rho, "rho", 0.0, 1.0)
        self.momentum = _check_hyper(momentum, "momentum", 0.0, 1.0)
        self.epsilon = _check_hyper(epsilon, "epsilon", 0.0)
        self.velocities: list[Array] = []
        self.momentums: list[Array] = []

    def _build(self, params: list[Array]) -> None:
        self.velocities = [np.zeros_like(p) for p in params]
        self.momentums = [np.zeros_like(p) for p in params]

    def update(self, i: int, theta: Array, g: Array) -> Array:
        f = theta.dtype.type
        rho = f(self.rho)
        self.velocities[i] = rho * self.velocities[i] + f(1 - self.rho) * g**2
        increment = f(self.learning_rate) * g / np.sqrt(self.velocities[i] + f(self.epsilon))
        if self.momentum == 0:
            return theta - increment
        self.momentums[i] = f(self.momentum) * self.momentums[i] + increment
        return theta - self.momentums[i]


class Adam(Optimizer):
    r"""Adam: momentum on the gradient and RMSprop-style scaling, with bias correction.

    With first and second moment estimates $m$, $v$ (zeros at first):

    $$ m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
       v \leftarrow \beta_2 v + (1 - \beta_2) g^2, $$
    $$ \alpha_t = \eta \, \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}, \qquad
       \theta \leftarrow \theta - \frac{\alpha_t \, m}{\sqrt{v} + \epsilon}. $$

    This is the form of `keras.optimizers.Adam` (and of Kingma & Ba, 2015, section 2, the
    "efficient" ordering): the bias correction is folded into the step size $\alpha_t$ and
    $\epsilon$ is added **outside** the square root, to $\sqrt{v}$ rather than to
    $\sqrt{\hat v_t}$. The two orderings differ only through where $\epsilon$ sits.

    Args:
        learning_rate: $\eta > 0$.
        beta_1: Decay $\beta_1 \in [0, 1)$ of the first moment.
        beta_2: Decay $\beta_2 \in [0, 1)$ of the second moment.
        epsilon: $\epsilon \ge 0$.

    Examples:
        >>> import numpy as np
        >>> opt = Adam(learning_rate=0.1)
        >>> opt.step(np.array([1.0]), np.array([3.0])).round(6)  # first step: -eta * sign(g)
        array([0.9])
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(learning_rate)
        self.beta_1 = _check_hyper(beta_1, "beta_1", 0.0, 1.0)
        self.beta_2 = _check_hyper(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = _check_hyper(epsilon, "epsilon", 0.0)
        self.m: list[Array] = []
        self.v: list[Array] = []

    def _build(self, params: list[Array]) -> None:
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def update(self, i: int, theta: Array, g: Array) -> Array:
        f = theta.dtype.type  # compute in the parameters' dtype (float32 in Keras)
        t = f(self.iterations + 1)
        alpha = f(self.learning_rate) * np.sqrt(1 - f(self.beta_2) ** t) / (1 - f(self.beta_1) ** t)
        self.m[i] = self.m[i] + (g - self.m[i]) * f(1 - self.beta_1)
        self.v[i] = self.v[i] + (g**2 - self.v[i]) * f(1 - self.beta_2)
        return theta - (self.m[i] * alpha) / (np.sqrt(self.v[i]) + f(self.epsilon))


class Adagrad(Optimizer):
    r"""Adagrad: divide the step by the root of the sum of all past squared gradients.

    With the accumulator $a$ starting at $a_0$ (`initial_accumulator_value`, 0.1 in Keras):

    $$ a \leftarrow a + g^2, \qquad
       \theta \leftarrow \theta - \frac{\eta \, g}{\sqrt{a + \epsilon}}. $$

    As in `keras.optimizers.Adagrad`. The effective step only shrinks, so Adagrad slows down on
    long runs.

    Args:
        learning_rate: $\eta > 0$.
        initial_accumulator_value: $a_0 \ge 0$.
        epsilon: $\epsilon \ge 0$.

    Examples:
        >>> import numpy as np
        >>> opt = Adagrad(learning_rate=0.1)
        >>> opt.step(np.array([1.0]), np.array([0.3])).round(6)  # a = 0.1 + 0.09
        array([0.931175])
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(learning_rate)
        self.initial_accumulator_value = _check_hyper(
            initial_accumulator_value, "initial_accumulator_value", 0.0
        )
        self.epsilon = _check_hyper(epsilon, "epsilon", 0.0)
        self.accumulators: list[Array] = []

    def _build(self, params: list[Array]) -> None:
        a0 = self.initial_accumulator_value
        self.accumulators = [np.full_like(p, a0) for p in params]

    def update(self, i: int, theta: Array, g: Array) -> Array:
        f = theta.dtype.type
        self.accumulators[i] = self.accumulators[i] + g**2
        return theta - f(self.learning_rate) * g / np.sqrt(self.accumulators[i] + f(self.epsilon))


_OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adagrad": Adagrad,
}


def get(name: str, **hyperparameters: Any) -> Optimizer:
    """Create an optimizer by its Keras name.

    Args:
        name: One of `"sgd"`, `"rmsprop"`, `"adam"`, `"adagrad"` (case-insensitive).
        **hyperparameters: Passed to the class, e.g. `learning_rate=0.01`.

    Returns:
        A fresh optimizer with no state.

    Raises:
        ValueError: If the name is unknown.
        TypeError: If `name` is not a string or a hyperparameter is unknown.

    Examples:
        >>> get("sgd", learning_rate=0.1, momentum=0.9).momentum
        0.9
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    key = name.lower()
    if key not in _OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer name: expected one of {sorted(_OPTIMIZERS)}, got {name!r}"
        )
    return _OPTIMIZERS[key](**hyperparameters)
