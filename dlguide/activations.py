r"""Activation functions and their derivatives, written out in NumPy.

Each activation $a = f(z)$ comes as a pair: the function and its derivative $f'(z)$, both taking the
pre-activation $z$. Softmax maps a vector to a vector, so its derivative is a Jacobian matrix;
[`softmax_jvp`][dlguide.activations.softmax_jvp] multiplies it by a vector without building it.
[`get`][dlguide.activations.get] looks a pair up by name.

**The contract of every function here.** `z` is array-like of any shape (softmax works on the
last axis); the result is float64 shaped like `z` (the softmax Jacobian adds an axis). `z` is
checked once, at the door: empty, NaN/infinite, ragged, or a scalar for softmax raises
`ValueError`; strings, complex numbers, objects or parameters of the wrong kind raise `TypeError`.
Behind the door the formula trusts its input, as do the modules that call it on checked arrays.

Every function is numerically stable: no overflow or NaN for finite inputs up to $\pm 10^{300}$
(SELU's $\lambda z$ itself overflows near the top of the range). At the kinks, ReLU, leaky ReLU,
ELU and SELU take their left-hand derivative and $H(0) = 1$, as TensorFlow's gradients do.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr  # the standard normal CDF, Φ(z), accurate in both tails

from ._checks import as_finite_array, check_bool, check_name, check_real

Array = NDArray[Any]
"""What every function here returns: a NumPy array (float64 for the public functions)."""
_P = ParamSpec("_P")

SELU_ALPHA = 1.6732632423543772848170429916717
"""SELU's $\\alpha$ (Klambauer et al., 2017), to full double precision."""
SELU_SCALE = 1.0507009873554804934193349852946
"""SELU's $\\lambda$ (Klambauer et al., 2017), to full double precision."""

_GELU_SATURATION = 40.0  # beyond it GELU is exactly z or 0 in float64: clip, so z**3 can't overflow
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715

_FORMULAS: dict[str, Callable[..., Array]] = {}  # the formulas behind the door, by name


def _checked(
    formula: Callable[Concatenate[Array, _P], Array],
) -> Callable[Concatenate[ArrayLike, _P], Array]:
    """The door: check `z` as the module docstring says, then apply `formula`."""
    vectors = formula.__name__.startswith("softmax")
    _FORMULAS[formula.__name__] = formula

    @functools.wraps(formula)
    def door(z: ArrayLike, /, *args: _P.args, **kwargs: _P.kwargs) -> Array:
        array = as_finite_array(z, "z")
        if vectors and array.ndim == 0:
            raise ValueError("z must have at least 1 axis (softmax works on the last), got ()")
        return formula(array, *args, **kwargs)

    return door


@_checked
def binary_step(z: Array) -> Array:
    r"""Binary (Heaviside) step, the perceptron's activation: $H(z) = 1$ for $z \ge 0$, else 0.

    Examples:
        >>> binary_step([-2.0, 0.0, 3.0])
        array([0., 1., 1.])
    """
    return (z >= 0).astype(z.dtype)


@_checked
def binary_step_grad(z: Array) -> Array:
    r"""Derivative of the binary step, $H'(z) = 0$ (undefined at 0, taken as 0): untrainable.

    Examples:
        >>> binary_step_grad([-2.0, 0.0, 3.0])
        array([0., 0., 0.])
    """
    return np.zeros_like(z)


@_checked
def linear(z: Array) -> Array:
    r"""Linear (identity) activation, used on regression outputs: $f(z) = z$.

    Examples:
        >>> linear([-2.0, 0.0, 3.0])
        array([-2.,  0.,  3.])
    """
    return z.copy()


@_checked
def linear_grad(z: Array) -> Array:
    r"""Derivative of the linear activation: $f'(z) = 1$.

    Examples:
        >>> linear_grad([-2.0, 0.0, 3.0])
        array([1., 1., 1.])
    """
    return np.ones_like(z)


@_checked
def sigmoid(z: Array) -> Array:
    r"""Logistic sigmoid, squashing $z$ into $(0, 1)$.

    $$\sigma(z) = \frac{1}{1 + e^{-z}} = \begin{cases} 1 / (1 + e^{-|z|}) & z \ge 0 \\
    e^{-|z|} / (1 + e^{-|z|}) & z < 0 \end{cases}$$

    The right-hand form never overflows and is precise in both tails; it is the book's one sigmoid.

    Examples:
        >>> sigmoid([-1.0, 0.0, 1.0]).round(4)
        array([0.2689, 0.5   , 0.7311])
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@_checked
def sigmoid_grad(z: Array) -> Array:
    r"""Derivative of the sigmoid, at most $1/4$ (at $z = 0$); precise in the tails.

    $$\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr) = \sigma(|z|)\,\sigma(-|z|)$$

    Examples:
        >>> sigmoid_grad([-1.0, 0.0, 1.0]).round(4)
        array([0.1966, 0.25  , 0.1966])
    """
    return _FORMULAS["sigmoid"](z) * _FORMULAS["sigmoid"](-z)  # σ(z)σ(-z), precise in both tails


@_checked
def tanh(z: Array) -> Array:
    r"""Hyperbolic tangent, a rescaled sigmoid in $(-1, 1)$: $\tanh(z) = 2\sigma(2z) - 1$.

    Examples:
        >>> tanh([-1.0, 0.0, 1.0]).round(4)
        array([-0.7616,  0.    ,  0.7616])
    """
    return np.tanh(z)


@_checked
def tanh_grad(z: Array) -> Array:
    r"""Derivative of tanh, at most 1 (at $z = 0$); the right-hand form is precise in the tails.

    $$\tanh'(z) = 1 - \tanh^2(z) = 4\,\sigma'(2z) = 4\,\sigma(2|z|)\,\sigma(-2|z|)$$

    Examples:
        >>> tanh_grad([-1.0, 0.0, 1.0]).round(4)
        array([0.42, 1.  , 0.42])
    """
    return 4.0 * _FORMULAS["sigmoid_grad"](2.0 * z)


@_checked
def arctan(z: Array) -> Array:
    r"""Arctangent, $\arctan(z) \in (-\pi/2, \pi/2)$, with slowly (polynomially) fading tails.

    Examples:
        >>> arctan([-1.0, 0.0, 1.0]).round(4)
        array([-0.7854,  0.    ,  0.7854])
    """
    return np.arctan(z)


@_checked
def arctan_grad(z: Array) -> Array:
    r"""Derivative of the arctangent; the right-hand form (`np.hypot`) cannot overflow.

    $f'(z) = \frac{1}{1 + z^2} = \bigl(1 / \sqrt{1 + z^2}\bigr)^2$.

    Examples:
        >>> arctan_grad([-1.0, 0.0, 1.0])
        array([0.5, 1. , 0.5])
    """
    return (1.0 / np.hypot(1.0, z)) ** 2


@_checked
def relu(z: Array) -> Array:
    r"""Rectified linear unit: $\operatorname{ReLU}(z) = \max(0, z)$.

    Examples:
        >>> relu([-2.0, 0.0, 3.0])
        array([0., 0., 3.])
    """
    return np.maximum(z, 0.0)


@_checked
def relu_grad(z: Array) -> Array:
    r"""Derivative of ReLU: $\operatorname{ReLU}'(z) = 1$ for $z > 0$, else 0 (0 at $z = 0$).

    Examples:
        >>> relu_grad([-2.0, 0.0, 3.0])
        array([0., 0., 1.])
    """
    return (z > 0).astype(z.dtype)


@_checked
def leaky_relu(z: Array, alpha: float = 0.01) -> Array:
    r"""Leaky ReLU: a small slope $\alpha$ for negative inputs keeps units from dying.

    $f(z) = z$ for $z > 0$, else $\alpha z$. $\alpha = 0.01$ is the original (Maas et al., 2013)
    and PyTorch's default; Keras uses 0.2 (`keras.activations`) and 0.3 (`layers.LeakyReLU`).

    Examples:
        >>> leaky_relu([-2.0, 0.0, 3.0])
        array([-0.02,  0.  ,  3.  ])
    """
    alpha = check_real(alpha, "alpha")
    return np.where(z > 0, z, alpha * z)


@_checked
def leaky_relu_grad(z: Array, alpha: float = 0.01) -> Array:
    r"""Derivative of leaky ReLU: $f'(z) = 1$ for $z > 0$, else $\alpha$.

    Examples:
        >>> leaky_relu_grad([-2.0, 0.0, 3.0])
        array([0.01, 0.01, 1.  ])
    """
    alpha = check_real(alpha, "alpha")
    return np.where(z > 0, 1.0, alpha)


@_checked
def elu(z: Array, alpha: float = 1.0) -> Array:
    r"""Exponential linear unit (Clevert et al., 2015): smooth, saturating at $-\alpha$.

    $\operatorname{ELU}(z) = z$ for $z > 0$, else $\alpha\,(e^{z} - 1)$.

    Examples:
        >>> elu([-2.0, 0.0, 3.0]).round(4)
        array([-0.8647,  0.    ,  3.    ])
    """
    alpha = check_real(alpha, "alpha")
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


@_checked
def elu_grad(z: Array, alpha: float = 1.0) -> Array:
    r"""Derivative of ELU: $\operatorname{ELU}'(z) = 1$ for $z > 0$, else $\alpha\, e^{z}$.

    Examples:
        >>> elu_grad([-2.0, 0.0, 3.0]).round(4)
        array([0.1353, 1.    , 1.    ])
    """
    alpha = check_real(alpha, "alpha")
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


@_checked
def selu(z: Array) -> Array:
    r"""Scaled ELU (Klambauer et al., 2017), self-normalising with LeCun-normal weights.

    $\operatorname{SELU}(z) = \lambda\,\operatorname{ELU}_\alpha(z)$, with
    $\lambda \approx 1.0507$ ([`SELU_SCALE`][dlguide.activations.SELU_SCALE]) and
    $\alpha \approx 1.6733$ ([`SELU_ALPHA`][dlguide.activations.SELU_ALPHA]).

    Examples:
        >>> selu([-2.0, 0.0, 3.0]).round(4)
        array([-1.5202,  0.    ,  3.1521])
    """
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


@_checked
def selu_grad(z: Array) -> Array:
    r"""Derivative of SELU: $\lambda$ for $z > 0$, else $\lambda \alpha\, e^{z}$.

    Examples:
        >>> selu_grad([-2.0, 0.0, 3.0]).round(4)
        array([0.2379, 1.7581, 1.0507])
    """
    return SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))


@_checked
def gelu(z: Array, approximate: bool = False) -> Array:
    r"""Gaussian error linear unit (Hendrycks & Gimpel, 2016), used in transformers.

    $\operatorname{GELU}(z) = z\,\Phi(z) = \frac{z}{2}\bigl(1 + \operatorname{erf}(z/\sqrt 2)\bigr)$
    ($\Phi$: the standard normal CDF), or with `approximate=True` the tanh form
    $\frac{z}{2}\bigl(1 + \tanh(\sqrt{2/\pi}\,(z + 0.044715\,z^3))\bigr)$. The exact default
    matches `keras.activations.gelu`; the backend function `keras.ops.gelu` defaults to `True`.

    Examples:
        >>> gelu([-2.0, 0.0, 3.0]).round(4)
        array([-0.0455,  0.    ,  2.996 ])
    """
    if not check_bool(approximate, "approximate"):
        return z * ndtr(z)
    z = np.clip(z, -_GELU_SATURATION, None)  # below -40 the result is -0.0 and z**3 may overflow
    return 0.5 * z * (1.0 + np.tanh(_SQRT_2_OVER_PI * (z + _GELU_CUBIC * z**3)))


@_checked
def gelu_grad(z: Array, approximate: bool = False) -> Array:
    r"""Derivative of GELU; slightly negative for $z \lesssim -0.75$.

    $\operatorname{GELU}'(z) = \Phi(z) + z\,\varphi(z)$, $\varphi(z) = e^{-z^2/2} / \sqrt{2\pi}$.
    With `approximate=True`, writing $u = \sqrt{2/\pi}\,(z + 0.044715\,z^3)$,
    $\operatorname{GELU}'(z) \approx \tfrac12(1 + \tanh u) + \tfrac12 z\,(1 - \tanh^2 u)
    \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\, z^2)$.

    Examples:
        >>> gelu_grad([-2.0, 0.0, 3.0]).round(4)
        array([-0.0852,  0.5   ,  1.0119])
    """
    approximate = check_bool(approximate, "approximate")
    z = np.clip(z, -_GELU_SATURATION, _GELU_SATURATION)  # exact: the derivative is 0 or 1 there
    if not approximate:
        return ndtr(z) + z * np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    u = _SQRT_2_OVER_PI * (z + _GELU_CUBIC * z**3)
    sech2 = _FORMULAS["tanh_grad"](u)  # 1 - tanh(u)**2, precise in the tails
    du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * z**2)
    return 0.5 * (1.0 + np.tanh(u)) + 0.5 * z * sech2 * du


@_checked
def softmax(z: Array) -> Array:
    r"""Softmax over the last axis: turns logits into probabilities that sum to 1.

    $\operatorname{softmax}(z)_i = e^{z_i} / \sum_j e^{z_j} = e^{z_i - m} / \sum_j e^{z_j - m}$ with
    $m = \max_j z_j$: subtracting the maximum keeps every exponent $\le 0$, so nothing overflows.

    Examples:
        >>> softmax([1000.0, 1001.0, 1002.0]).round(4)
        array([0.09  , 0.2447, 0.6652])
    """
    with np.errstate(over="ignore"):  # a gap beyond the float range gives exp(-inf) = 0: right
        e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@_checked
def softmax_jacobian(z: Array) -> Array:
    r"""Jacobian of softmax, shape `(..., n, n)`: symmetric, and every row sums to 0.

    $J_{ij} = \partial s_i / \partial z_j = s_i\,(\delta_{ij} - s_j)$, i.e.
    $J = \operatorname{diag}(s) - s s^\top$ with $s = \operatorname{softmax}(z)$.

    Examples:
        >>> softmax_jacobian([0.0, 0.0])
        array([[ 0.25, -0.25],
               [-0.25,  0.25]])
    """
    s = _FORMULAS["softmax"](z)
    return s[..., :, None] * (np.eye(s.shape[-1]) - s[..., None, :])


@_checked
def softmax_jvp(z: Array, v: ArrayLike) -> Array:
    r"""Jacobian-vector product of softmax, $J v$, without building $J$.

    $J v = s \odot (v - \langle s, v\rangle)$ with $s = \operatorname{softmax}(z)$. $J$ is
    symmetric, so with $v = \partial L / \partial s$ (shaped like `z`) this is the
    $\partial L / \partial z$ backpropagation needs, in $O(n)$ per vector instead of $O(n^2)$.

    Examples:
        >>> softmax_jvp([0.0, 0.0], [1.0, 0.0])
        array([ 0.25, -0.25])
    """
    v = _checked_like(v, z)
    s = _FORMULAS["softmax"](z)
    return s * (v - (s * v).sum(axis=-1, keepdims=True))


def _checked_like(v: ArrayLike, z: Array) -> Array:
    v = as_finite_array(v, "v")
    if v.shape != z.shape:
        raise ValueError(f"v must have the shape of z {z.shape}, got shape {v.shape}")
    return v


@dataclass(frozen=True)
class Activation:
    r"""An activation function paired with its derivative.

    Attributes:
        name: The name [`get`][dlguide.activations.get] knows it by.
        fn: $z \mapsto f(z)$.
        grad: $z \mapsto f'(z)$; for softmax the Jacobian, shape `(..., n, n)`.
        elementwise: False for softmax, whose outputs each depend on the whole vector.

    Examples:
        >>> act = get("tanh")
        >>> act.fn([0.0]), act.grad([0.0])
        (array([0.]), array([1.]))
    """

    name: str
    fn: Callable[[ArrayLike], Array]
    grad: Callable[[ArrayLike], Array]
    elementwise: bool = True

    def jvp(self, z: ArrayLike, v: ArrayLike) -> Array:
        r"""Jacobian-vector product $J_f(z)\,v$; also $v^\top J_f(z)$, since $J_f$ is symmetric.

        Elementwise, $J = \operatorname{diag}(f'(z))$: $\partial L/\partial z =$ `jvp(z, dL_da)`.

        Examples:
            >>> get("relu").jvp([-1.0, 2.0], [5.0, 5.0])
            array([0., 5.])
        """
        if not self.elementwise:
            return softmax_jvp(z, v)
        f_prime = self.grad(z)
        return f_prime * _checked_like(v, f_prime)


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in [
        Activation("binary_step", binary_step, binary_step_grad),
        Activation("linear", linear, linear_grad),
        Activation("sigmoid", sigmoid, sigmoid_grad),
        Activation("tanh", tanh, tanh_grad),
        Activation("arctan", arctan, arctan_grad),
        Activation("relu", relu, relu_grad),
        Activation("leaky_relu", leaky_relu, leaky_relu_grad),
        Activation("elu", elu, elu_grad),
        Activation("selu", selu, selu_grad),
        Activation("gelu", gelu, gelu_grad),
        Activation("softmax", softmax, softmax_jacobian, elementwise=False),
    ]
}
"""Every activation in this module by name, with default parameters."""


def get(name: str) -> Activation:
    r"""An activation and its derivative by name, with default parameters; an unknown `name`
    raises `ValueError` listing the keys of [`ACTIVATIONS`][dlguide.activations.ACTIVATIONS].

    Examples:
        >>> get("sigmoid").grad([0.0])
        array([0.25])
    """
    return ACTIVATIONS[check_name(name, "activation", list(ACTIVATIONS))]
