r"""Activation functions and their derivatives, written out in NumPy.

Each activation $a = f(z)$ comes as a pair of functions: the function itself and its derivative
$f'(z)$, both taking the pre-activation $z$. Softmax maps a whole vector to a vector, so its
derivative is a Jacobian matrix; [`softmax_jvp`][dlguide.activations.softmax_jvp] multiplies that
matrix by a vector without building it. [`get`][dlguide.activations.get] looks a pair up by name.

All functions are numerically stable: they neither overflow nor return NaN for any finite input
up to $\pm 10^{300}$ (SELU's output $\lambda z$ itself overflows near the top of the float range).
Inputs are converted to `float64`; scalars give 0-d arrays.

Conventions at the kinks: ReLU, leaky ReLU, ELU and SELU take their left-hand derivative at
$z = 0$ and the binary step fires at $z = 0$ ($H(0) = 1$). These match TensorFlow's gradients.

Every public function raises `ValueError` for empty arrays, NaN or infinity, wrong shapes and
unknown names, and `TypeError` for inputs that are not real numbers.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr  # the standard normal CDF, Φ(z), accurate in both tails

__all__ = [
    "ACTIVATIONS",
    "SELU_ALPHA",
    "SELU_SCALE",
    "Activation",
    "arctan",
    "arctan_grad",
    "binary_step",
    "binary_step_grad",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "get",
    "leaky_relu",
    "leaky_relu_grad",
    "linear",
    "linear_grad",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_jacobian",
    "softmax_jvp",
    "tanh",
    "tanh_grad",
]

SELU_ALPHA = 1.6732632423543772848170429916717
"""SELU's $\\alpha$ (Klambauer et al., 2017), to full double precision."""
SELU_SCALE = 1.0507009873554804934193349852946
"""SELU's $\\lambda$ (Klambauer et al., 2017), to full double precision."""

# Beyond |z| = 40 both GELU forms equal z (or 0) and their derivatives equal 1 (or 0) exactly in
# float64, so the derivatives clip z there; that keeps z**2 and z**3 from overflowing.
_GELU_SATURATION = 40.0
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


# ----------------------------------------------------------------------------- input checks


def _as_array(z: ArrayLike, where: str, name: str = "z") -> NDArray[np.float64]:
    """`z` as a float64 array, after checking it is non-empty, real and finite."""
    try:
        array = np.asarray(z)
    except ValueError as error:  # ragged nested lists
        raise ValueError(
            f"{where}: expected {name} to be a rectangular array of real numbers, got {error}"
        ) from error
    kind, size = array.dtype.kind, array.dtype.itemsize
    if kind not in "biuf" or (kind == "f" and size > 8):
        raise TypeError(
            f"{where}: expected {name} to hold real numbers (bool, int or float up to 64 bits), "
            f"got dtype {array.dtype}"
        )
    if array.size == 0:
        raise ValueError(f"{where}: expected a non-empty array for {name}, got shape {array.shape}")
    array = array.astype(np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        first = array[~finite].flat[0]
        raise ValueError(
            f"{where}: expected finite values in {name}, got {np.count_nonzero(~finite)} "
            f"non-finite value(s) such as {first}"
        )
    return array


def _as_real(value: object, where: str, name: str) -> float:
    """A finite real parameter such as a slope, as a float."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: expected {name} to be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite {name}, got {value!r}")
    return float(value)


def _as_vectors(z: ArrayLike, where: str) -> NDArray[np.float64]:
    """`z` checked like `_as_array`, and with at least one axis (softmax works on the last)."""
    array = _as_array(z, where)
    if array.ndim == 0:
        raise ValueError(
            f"{where}: expected an array with at least 1 axis (the last one holds the logits), "
            "got a scalar of shape ()"
        )
    return array


# ----------------------------------------------------------------------------- binary step


def binary_step(z: ArrayLike) -> np.ndarray:
    r"""Binary (Heaviside) step: the perceptron's all-or-nothing activation.

    $$H(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0 \end{cases}$$

    Args:
        z: Pre-activations, any shape.

    Returns:
        An array of 0.0 and 1.0 with the shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> binary_step([-2.0, 0.0, 3.0])
        array([0., 1., 1.])
    """
    z = _as_array(z, "binary_step")
    return (z >= 0).astype(np.float64)


def binary_step_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of the binary step: zero everywhere (undefined at 0, taken as 0).

    $$H'(z) = 0$$

    A zero derivative is why a network of steps cannot be trained by gradient descent.

    Args:
        z: Pre-activations, any shape.

    Returns:
        Zeros with the shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> binary_step_grad([-2.0, 0.0, 3.0])
        array([0., 0., 0.])
    """
    z = _as_array(z, "binary_step_grad")
    return np.zeros_like(z)


# ----------------------------------------------------------------------------- linear


def linear(z: ArrayLike) -> np.ndarray:
    r"""Linear (identity) activation, used on regression outputs.

    $$f(z) = z$$

    Args:
        z: Pre-activations, any shape.

    Returns:
        A float64 copy of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> linear([-2.0, 0.0, 3.0])
        array([-2.,  0.,  3.])
    """
    return _as_array(z, "linear").copy()


def linear_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of the linear activation.

    $$f'(z) = 1$$

    Args:
        z: Pre-activations, any shape.

    Returns:
        Ones with the shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> linear_grad([-2.0, 0.0, 3.0])
        array([1., 1., 1.])
    """
    return np.ones_like(_as_array(z, "linear_grad"))


# ----------------------------------------------------------------------------- sigmoid


def sigmoid(z: ArrayLike) -> np.ndarray:
    r"""Logistic sigmoid, squashing $z$ into $(0, 1)$.

    $$\sigma(z) = \frac{1}{1 + e^{-z}}$$

    Computed as $\sigma(z) = 1 / (1 + e^{-|z|})$ for $z \ge 0$ and $e^{-|z|} / (1 + e^{-|z|})$
    for $z < 0$, so the exponential never overflows.

    Args:
        z: Pre-activations, any shape.

    Returns:
        $\sigma(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> sigmoid([-1.0, 0.0, 1.0]).round(4)
        array([0.2689, 0.5   , 0.7311])
    """
    z = _as_array(z, "sigmoid")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of the sigmoid; at most $1/4$, reached at $z = 0$.

    $$\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr) = \sigma(|z|)\,\sigma(-|z|)
    = \frac{1}{1 + e^{-|z|}} \cdot \frac{e^{-|z|}}{1 + e^{-|z|}}$$

    The right-hand form keeps full relative precision in the tails, where $1 - \sigma(z)$
    would cancel, and never rounds above $\tfrac14$.

    Args:
        z: Pre-activations, any shape.

    Returns:
        $\sigma'(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> sigmoid_grad([-1.0, 0.0, 1.0]).round(4)
        array([0.1966, 0.25  , 0.1966])
    """
    z = _as_array(z, "sigmoid_grad")
    e = np.exp(-np.abs(z))
    return (1.0 / (1.0 + e)) * (e / (1.0 + e))


# ----------------------------------------------------------------------------- tanh


def tanh(z: ArrayLike) -> np.ndarray:
    r"""Hyperbolic tangent, squashing $z$ into $(-1, 1)$; a rescaled sigmoid.

    $$\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}} = 2\sigma(2z) - 1$$

    Args:
        z: Pre-activations, any shape.

    Returns:
        $\tanh(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> tanh([-1.0, 0.0, 1.0]).round(4)
        array([-0.7616,  0.    ,  0.7616])
    """
    return np.tanh(_as_array(z, "tanh"))


def tanh_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of tanh; at most 1, reached at $z = 0$.

    $$\tanh'(z) = 1 - \tanh^2(z) = 4\,\sigma'(2z)
    = 4 \cdot \frac{1}{1 + e^{-2|z|}} \cdot \frac{e^{-2|z|}}{1 + e^{-2|z|}}$$

    The right-hand form keeps full relative precision in the tails and never rounds above 1.

    Args:
        z: Pre-activations, any shape.

    Returns:
        $\tanh'(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> tanh_grad([-1.0, 0.0, 1.0]).round(4)
        array([0.42, 1.  , 0.42])
    """
    z = _as_array(z, "tanh_grad")
    e = np.exp(-2.0 * np.abs(z))
    return 4.0 * (1.0 / (1.0 + e)) * (e / (1.0 + e))


# ----------------------------------------------------------------------------- arctan


def arctan(z: ArrayLike) -> np.ndarray:
    r"""Arctangent, squashing $z$ into $(-\pi/2, \pi/2)$ with slowly (polynomially) fading tails.

    $$f(z) = \arctan(z)$$

    Args:
        z: Pre-activations, any shape.

    Returns:
        $\arctan(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> arctan([-1.0, 0.0, 1.0]).round(4)
        array([-0.7854,  0.    ,  0.7854])
    """
    return np.arctan(_as_array(z, "arctan"))


def arctan_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of the arctangent.

    $$f'(z) = \frac{1}{1 + z^2} = \Bigl(\frac{1}{\sqrt{1 + z^2}}\Bigr)^2$$

    The right-hand form (via `np.hypot`) never squares a huge $z$, so it cannot overflow.

    Args:
        z: Pre-activations, any shape.

    Returns:
        $1 / (1 + z^2)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> arctan_grad([-1.0, 0.0, 1.0])
        array([0.5, 1. , 0.5])
    """
    z = _as_array(z, "arctan_grad")
    return (1.0 / np.hypot(1.0, z)) ** 2


# ----------------------------------------------------------------------------- ReLU family


def relu(z: ArrayLike) -> np.ndarray:
    r"""Rectified linear unit.

    $$\operatorname{ReLU}(z) = \max(0, z)$$

    Args:
        z: Pre-activations, any shape.

    Returns:
        $\max(0, z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> relu([-2.0, 0.0, 3.0])
        array([0., 0., 3.])
    """
    return np.maximum(_as_array(z, "relu"), 0.0)


def relu_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of ReLU: 1 for active units, 0 otherwise (0 at $z = 0$).

    $$\operatorname{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}$$

    Args:
        z: Pre-activations, any shape.

    Returns:
        An array of 0.0 and 1.0 with the shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> relu_grad([-2.0, 0.0, 3.0])
        array([0., 0., 1.])
    """
    return (_as_array(z, "relu_grad") > 0).astype(np.float64)


def leaky_relu(z: ArrayLike, alpha: float = 0.01) -> np.ndarray:
    r"""Leaky ReLU: a small slope $\alpha$ for negative inputs keeps units from dying.

    $$f(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}$$

    The default $\alpha = 0.01$ is the original one (Maas et al., 2013) and PyTorch's; Keras
    uses `negative_slope=0.2` in `keras.activations.leaky_relu` and `0.3` in the
    `keras.layers.LeakyReLU` layer.

    Args:
        z: Pre-activations, any shape.
        alpha: Slope for $z \le 0$.

    Returns:
        $f(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite, or `alpha` is not finite.
        TypeError: If `z` or `alpha` is not real.

    Examples:
        >>> leaky_relu([-2.0, 0.0, 3.0])
        array([-0.02,  0.  ,  3.  ])
    """
    z = _as_array(z, "leaky_relu")
    alpha = _as_real(alpha, "leaky_relu", "alpha")
    return np.where(z > 0, z, alpha * z)


def leaky_relu_grad(z: ArrayLike, alpha: float = 0.01) -> np.ndarray:
    r"""Derivative of leaky ReLU.

    $$f'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}$$

    Args:
        z: Pre-activations, any shape.
        alpha: Slope for $z \le 0$.

    Returns:
        $f'(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite, or `alpha` is not finite.
        TypeError: If `z` or `alpha` is not real.

    Examples:
        >>> leaky_relu_grad([-2.0, 0.0, 3.0])
        array([0.01, 0.01, 1.  ])
    """
    z = _as_array(z, "leaky_relu_grad")
    alpha = _as_real(alpha, "leaky_relu_grad", "alpha")
    return np.where(z > 0, 1.0, alpha)


def elu(z: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    r"""Exponential linear unit (Clevert et al., 2015): smooth, saturating at $-\alpha$.

    $$\operatorname{ELU}(z) = \begin{cases} z & z > 0 \\ \alpha\,(e^{z} - 1) & z \le 0 \end{cases}$$

    $e^{z} - 1$ is computed with `np.expm1` on $\min(z, 0)$: exact near 0, no overflow.

    Args:
        z: Pre-activations, any shape.
        alpha: Magnitude of the negative saturation value.

    Returns:
        $\operatorname{ELU}(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite, or `alpha` is not finite.
        TypeError: If `z` or `alpha` is not real.

    Examples:
        >>> elu([-2.0, 0.0, 3.0]).round(4)
        array([-0.8647,  0.    ,  3.    ])
    """
    z = _as_array(z, "elu")
    alpha = _as_real(alpha, "elu", "alpha")
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_grad(z: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    r"""Derivative of ELU.

    $$\operatorname{ELU}'(z) = \begin{cases} 1 & z > 0 \\ \alpha\, e^{z} & z \le 0 \end{cases}$$

    Args:
        z: Pre-activations, any shape.
        alpha: Magnitude of the negative saturation value.

    Returns:
        $\operatorname{ELU}'(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite, or `alpha` is not finite.
        TypeError: If `z` or `alpha` is not real.

    Examples:
        >>> elu_grad([-2.0, 0.0, 3.0]).round(4)
        array([0.1353, 1.    , 1.    ])
    """
    z = _as_array(z, "elu_grad")
    alpha = _as_real(alpha, "elu_grad", "alpha")
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def selu(z: ArrayLike) -> np.ndarray:
    r"""Scaled ELU (Klambauer et al., 2017), self-normalising with LeCun-normal weights.

    $$\operatorname{SELU}(z) = \lambda \begin{cases} z & z > 0 \\ \alpha\,(e^{z} - 1) & z \le 0
    \end{cases}$$

    with $\lambda \approx 1.0507$ ([`SELU_SCALE`][dlguide.activations.SELU_SCALE]) and
    $\alpha \approx 1.6733$ ([`SELU_ALPHA`][dlguide.activations.SELU_ALPHA]).

    Args:
        z: Pre-activations, any shape.

    Returns:
        $\operatorname{SELU}(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> selu([-2.0, 0.0, 3.0]).round(4)
        array([-1.5202,  0.    ,  3.1521])
    """
    z = _as_array(z, "selu")
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def selu_grad(z: ArrayLike) -> np.ndarray:
    r"""Derivative of SELU.

    $$\operatorname{SELU}'(z) = \lambda \begin{cases} 1 & z > 0 \\ \alpha\, e^{z} & z \le 0
    \end{cases}$$

    Args:
        z: Pre-activations, any shape.

    Returns:
        $\operatorname{SELU}'(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> selu_grad([-2.0, 0.0, 3.0]).round(4)
        array([0.2379, 1.7581, 1.0507])
    """
    z = _as_array(z, "selu_grad")
    return SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))


# ----------------------------------------------------------------------------- GELU


def _check_approximate(approximate: object, where: str) -> bool:
    if not isinstance(approximate, bool | np.bool_):
        raise TypeError(f"{where}: expected approximate to be True or False, got {approximate!r}")
    return bool(approximate)


def gelu(z: ArrayLike, approximate: bool = False) -> np.ndarray:
    r"""Gaussian error linear unit (Hendrycks & Gimpel, 2016), used in transformers.

    $$\operatorname{GELU}(z) = z\,\Phi(z) = \frac{z}{2}\Bigl(1 + \operatorname{erf}\frac{z}{\sqrt 2}
    \Bigr)$$

    where $\Phi$ is the standard normal CDF. With `approximate=True`, the tanh form

    $$\operatorname{GELU}(z) \approx \frac{z}{2}\Bigl(1 + \tanh\bigl(\sqrt{2/\pi}\,
    (z + 0.044715\,z^3)\bigr)\Bigr).$$

    The default (exact) matches `keras.activations.gelu`, whose default is also
    `approximate=False`; note that the backend function `keras.ops.gelu` defaults to `True`.

    Args:
        z: Pre-activations, any shape.
        approximate: Use the tanh approximation instead of $\Phi$.

    Returns:
        $\operatorname{GELU}(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers or `approximate` is not a bool.

    Examples:
        >>> gelu([-2.0, 0.0, 3.0]).round(4)
        array([-0.0455,  0.    ,  2.996 ])
    """
    z = _as_array(z, "gelu")
    if not _check_approximate(approximate, "gelu"):
        return z * ndtr(z)
    z = np.clip(z, -_GELU_SATURATION, None)  # below -40 the result is -0.0 and z**3 may overflow
    return 0.5 * z * (1.0 + np.tanh(_SQRT_2_OVER_PI * (z + _GELU_CUBIC * z**3)))


def gelu_grad(z: ArrayLike, approximate: bool = False) -> np.ndarray:
    r"""Derivative of GELU; slightly negative for $z \lesssim -0.75$.

    $$\operatorname{GELU}'(z) = \Phi(z) + z\,\varphi(z), \qquad
    \varphi(z) = \frac{e^{-z^2/2}}{\sqrt{2\pi}}.$$

    With `approximate=True`, writing $u = \sqrt{2/\pi}\,(z + 0.044715\,z^3)$,

    $$\operatorname{GELU}'(z) \approx \tfrac12\bigl(1 + \tanh u\bigr) + \tfrac12\, z\,
    \bigl(1 - \tanh^2 u\bigr)\sqrt{2/\pi}\,\bigl(1 + 3 \cdot 0.044715\, z^2\bigr).$$

    Args:
        z: Pre-activations, any shape.
        approximate: Differentiate the tanh approximation instead.

    Returns:
        $\operatorname{GELU}'(z)$, shape of `z`.

    Raises:
        ValueError: If `z` is empty or not finite.
        TypeError: If `z` does not hold real numbers or `approximate` is not a bool.

    Examples:
        >>> gelu_grad([-2.0, 0.0, 3.0]).round(4)
        array([-0.0852,  0.5   ,  1.0119])
    """
    z = _as_array(z, "gelu_grad")
    approximate = _check_approximate(approximate, "gelu_grad")
    z = np.clip(z, -_GELU_SATURATION, _GELU_SATURATION)  # exact: the derivative is 0 or 1 there
    if not approximate:
        return ndtr(z) + z * np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    u = _SQRT_2_OVER_PI * (z + _GELU_CUBIC * z**3)
    e = np.exp(-2.0 * np.abs(u))
    sech2 = 4.0 * (1.0 / (1.0 + e)) * (e / (1.0 + e))  # 1 - tanh(u)**2 as in tanh_grad
    du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * z**2)
    return 0.5 * (1.0 + np.tanh(u)) + 0.5 * z * sech2 * du


# ----------------------------------------------------------------------------- softmax


def softmax(z: ArrayLike) -> np.ndarray:
    r"""Softmax over the last axis: turns logits into probabilities that sum to 1.

    $$\operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}
    = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}}, \qquad m = \max_j z_j$$

    Subtracting the maximum (the right-hand form) changes nothing mathematically but keeps every
    exponent $\le 0$, so huge logits such as $10^4$ cannot overflow.

    Args:
        z: Logits, shape `(..., n)`; each slice along the last axis is one distribution.

    Returns:
        Probabilities, shape of `z`, summing to 1 along the last axis.

    Raises:
        ValueError: If `z` is a scalar, empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> softmax([1000.0, 1001.0, 1002.0]).round(4)
        array([0.09  , 0.2447, 0.6652])
    """
    z = _as_vectors(z, "softmax")
    # A gap beyond the float range gives -inf below, and exp(-inf) = 0 is the right answer.
    with np.errstate(over="ignore"):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(z: ArrayLike) -> np.ndarray:
    r"""Jacobian of softmax: how each probability moves with each logit.

    $$J_{ij} = \frac{\partial s_i}{\partial z_j} = s_i\,(\delta_{ij} - s_j),
    \qquad J = \operatorname{diag}(s) - s s^\top, \quad s = \operatorname{softmax}(z)$$

    $J$ is symmetric and every row sums to 0 (the probabilities always sum to 1).

    Args:
        z: Logits, shape `(..., n)`.

    Returns:
        The Jacobian, shape `(..., n, n)`.

    Raises:
        ValueError: If `z` is a scalar, empty or not finite.
        TypeError: If `z` does not hold real numbers.

    Examples:
        >>> softmax_jacobian([0.0, 0.0])
        array([[ 0.25, -0.25],
               [-0.25,  0.25]])
    """
    s = softmax(_as_vectors(z, "softmax_jacobian"))
    return s[..., :, None] * (np.eye(s.shape[-1]) - s[..., None, :])


def softmax_jvp(z: ArrayLike, v: ArrayLike) -> np.ndarray:
    r"""Jacobian-vector product of softmax, $J v$, without building $J$.

    $$J v = s \odot \bigl(v - \langle s, v\rangle\bigr), \qquad s = \operatorname{softmax}(z)$$

    Because $J$ is symmetric this is also the vector-Jacobian product $v^\top J$ that
    backpropagation needs: pass $v = \partial L / \partial s$ to get $\partial L / \partial z$.
    Costs $O(n)$ per vector instead of the $O(n^2)$ of the full Jacobian.

    Args:
        z: Logits, shape `(..., n)`.
        v: Vectors, same shape as `z`.

    Returns:
        $J v$, shape of `z`.

    Raises:
        ValueError: If `z` is a scalar, `z` or `v` is empty or not finite, or the shapes differ.
        TypeError: If `z` or `v` does not hold real numbers.

    Examples:
        >>> softmax_jvp([0.0, 0.0], [1.0, 0.0])
        array([ 0.25, -0.25])
    """
    z = _as_vectors(z, "softmax_jvp")
    v = _as_array(v, "softmax_jvp", "v")
    if v.shape != z.shape:
        raise ValueError(
            f"softmax_jvp: expected v with the shape of z {z.shape}, got shape {v.shape}"
        )
    s = softmax(z)
    return s * (v - (s * v).sum(axis=-1, keepdims=True))


# ----------------------------------------------------------------------------- lookup by name


@dataclass(frozen=True)
class Activation:
    r"""An activation function paired with its derivative.

    Attributes:
        name: The name [`get`][dlguide.activations.get] knows it by.
        fn: $z \mapsto f(z)$.
        grad: $z \mapsto f'(z)$, elementwise, with the shape of $z$; for softmax the
            Jacobian, shape `(..., n, n)`.
        elementwise: False for softmax, whose outputs each depend on the whole vector.

    Examples:
        >>> act = get("tanh")
        >>> act.fn([0.0]), act.grad([0.0])
        (array([0.]), array([1.]))
    """

    name: str
    fn: Callable[[ArrayLike], np.ndarray]
    grad: Callable[[ArrayLike], np.ndarray]
    elementwise: bool = True

    def jvp(self, z: ArrayLike, v: ArrayLike) -> np.ndarray:
        r"""Jacobian-vector product $J_f(z)\,v$; also $v^\top J_f(z)$, since $J_f$ is symmetric.

        For an elementwise $f$ the Jacobian is $\operatorname{diag}(f'(z))$, so
        $J v = f'(z) \odot v$. In backpropagation, $\partial L/\partial z =$
        `act.jvp(z, dL_da)` for every activation here, softmax included.

        Args:
            z: Pre-activations.
            v: Vectors, same shape as `z`.

        Returns:
            $J_f(z)\,v$, shape of `z`.

        Raises:
            ValueError: If `z` or `v` is empty or not finite, or the shapes differ.
            TypeError: If `z` or `v` does not hold real numbers.

        Examples:
            >>> get("relu").jvp([-1.0, 2.0], [5.0, 5.0])
            array([0., 5.])
        """
        if not self.elementwise:
            return softmax_jvp(z, v)
        where = f"Activation({self.name!r}).jvp"
        z, v = _as_array(z, where), _as_array(v, where, "v")
        if v.shape != z.shape:
            raise ValueError(f"{where}: expected v with the shape of z {z.shape}, got {v.shape}")
        return self.grad(z) * v


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
    r"""Look up an activation and its derivative by name.

    Parameterised activations come with their defaults (leaky ReLU $\alpha = 0.01$, ELU
    $\alpha = 1$, exact GELU); call the functions directly for other values.

    Args:
        name: One of the keys of [`ACTIVATIONS`][dlguide.activations.ACTIVATIONS], e.g.
            `"sigmoid"`.

    Returns:
        The [`Activation`][dlguide.activations.Activation].

    Raises:
        ValueError: If `name` is unknown; the message lists the known names.
        TypeError: If `name` is not a string.

    Examples:
        >>> get("sigmoid").grad([0.0])
        array([0.25])
    """
    if not isinstance(name, str):
        raise TypeError(f"get: expected an activation name (str), got {name!r}")
    if name not in ACTIVATIONS:
        raise ValueError(
            f"get: expected one of {', '.join(ACTIVATIONS)}, got unknown activation {name!r}"
        )
    return ACTIVATIONS[name]
