r"""Convolution and pooling written out in NumPy: forward passes and their gradients.

A 2-D convolution layer slides a small kernel over an image. Images come in Keras' channels-last
layout, a batch $x$ of shape `(n, height, width, channels)`, and the kernel $K$ has Keras' layout
`(kernel_height, kernel_width, in_channels, filters)`. With stride $s$ and the input already
padded, output pixel $(i, j)$ of filter $f$ is

$$ y_{i,j,f} = b_f + \sum_{u=0}^{k_h-1} \sum_{v=0}^{k_w-1} \sum_{c} x_{s i + u,\, s j + v,\, c}
   \, K_{u,v,c,f}. $$

(Deep-learning libraries call this a convolution; mathematicians would call it a
cross-correlation, since the kernel is not flipped.) Written as loops this is six nested `for`s.
[`conv2d`][dlguide.convolution.conv2d] instead cuts every window out of the image at once
(`numpy.lib.stride_tricks.sliding_window_view`, no copy), lays each window out as one row of a
matrix (*im2col*: one row per output pixel, $k_h k_w C$ columns) and multiplies that matrix by the
kernel reshaped to $(k_h k_w C) \times F$: one matrix product computes the whole layer.

The spatial output size along an axis of length $n$, kernel size $k$, stride $s$ and $p$ zeros
of padding on each side is

$$ n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1. $$

Padding `"valid"` means $p = 0$. Padding `"same"` pads just enough for
$n_\text{out} = \lceil n / s \rceil$, putting the odd zero (if any) after the image, as Keras and
TensorFlow do. An int `padding` pads $p$ zeros on every side.

Pooling slides a window the same way but has no weights: max pooling keeps each window's largest
value, average pooling its mean (with `"same"` padding, the mean of the real pixels only, as in
Keras). The strides default to the pool size, so windows do not overlap.

Each forward function has a `*_backward` partner that takes the gradient of the loss with respect
to the output, $\partial L / \partial y$, and returns the gradients with respect to the inputs.
They equal what `tf.GradientTape` computes for the Keras layers `Conv2D`, `MaxPooling2D` and
`AveragePooling2D`; the tests check that.

Every public function checks its arguments once: a wrong rank, a channel mismatch, a kernel larger
than the padded input, a stride below 1 or a NaN raises a `ValueError` that names the shapes. Inputs
keep a floating dtype (`float32` stays `float32`); integer inputs are computed in `float64`.

Examples:
    >>> import numpy as np
    >>> from dlguide.convolution import conv2d, conv_output_size
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> kernel = np.ones((2, 2, 1, 1))  # sums each 2x2 window
    >>> conv2d(x, kernel, stride=2)[0, :, :, 0]
    array([[10., 18.],
           [42., 50.]])
    >>> conv_output_size(28, 5), conv_output_size(28, 5, padding="same")
    (24, 28)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from ._checks import as_finite_array, as_finite_float_array, check_int, check_int_pair

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "conv2d",
    "conv2d_backward",
    "conv_output_size",
    "max_pool2d",
    "max_pool2d_backward",
]

Padding = str | int
"""`"valid"`, `"same"` or a number of zeros to pad on every side."""


# --- sizes and padding --------------------------------------------------------------------------
def _pads(n: int, k: int, s: int, padding: Padding) -> tuple[int, int]:
    """Zeros to add before and after an axis of length n for kernel size k and stride s."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        n_out = -(-n // s)  # ceil(n / s)
        total = max((n_out - 1) * s + k - n, 0)
        return total // 2, total - total // 2
    return int(padding), int(padding)


def _check_padding(padding: object) -> Padding:
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid', 'same' or an int >= 0, got {padding!r}")
        return padding
    return check_int(padding, "padding", 0)


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: Padding = "valid") -> int:
    r"""Length of a convolution's or pooling's output along one axis.

    $$ n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 $$

    for $p$ zeros of padding on each side (`"valid"`: $p = 0$). For `"same"` padding the result
    is $\lceil n / s \rceil$: the padding is chosen to give exactly that.

    Args:
        n: Input length (height or width), at least 1.
        kernel_size: Kernel (or pool window) length $k$, at least 1.
        stride: Step $s$ between windows, at least 1.
        padding: `"valid"`, `"same"` or an int $p \ge 0$.

    Returns:
        The output length, at least 1.

    Raises:
        ValueError: If a size is below 1, `padding` is unknown or negative, or the kernel is
            longer than the padded input (the output would be empty).
        TypeError: If a size is not an int.

    Examples:
        >>> conv_output_size(28, 5)  # (28 - 5) / 1 + 1
        24
        >>> conv_output_size(28, 3, stride=2, padding=1)  # floor((28 + 2 - 3) / 2) + 1
        14
        >>> conv_output_size(7, 2, stride=2, padding="same")  # ceil(7 / 2)
        4
    """
    n, k = check_int(n, "n", 1), check_int(kernel_size, "kernel_size", 1)
    s, padding = check_int(stride, "stride", 1), _check_padding(padding)
    before, after = _pads(n, k, s, padding)
    if n + before + after < k:
        raise ValueError(
            f"kernel_size {k} is larger than the input length {n} padded with {padding!r}"
        )
    return (n + before + after - k) // s + 1


# --- argument checks (the public functions call one of these, once) ----------------------------
def _check_windows(
    x_shape: tuple[int, ...], window: tuple[int, int], stride: tuple[int, int], padding: Padding
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Pads along height and width; raises if a window does not fit into the padded input."""
    pads = []
    for axis, name in ((0, "height"), (1, "width")):
        n, k, s = x_shape[1 + axis], window[axis], stride[axis]
        before, after = _pads(n, k, s, padding)
        if n + before + after < k:
            raise ValueError(
                f"window {window[0]}x{window[1]} is larger than the input {x_shape[1]}x"
                f"{x_shape[2]} (x shape {x_shape}) along its {name} with padding {padding!r}"
            )
        pads.append((before, after))
    return pads[0], pads[1]


def _check_conv(
    x: ArrayLike, kernel: ArrayLike, stride: Any, padding: Any
) -> tuple[NDArray[Any], NDArray[Any], tuple[int, int], tuple[tuple[int, int], ...]]:
    x = as_finite_float_array(x, "x", ndim=4)
    kernel = as_finite_float_array(kernel, "kernel", ndim=4)
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(
            f"x has {x.shape[3]} channel(s) (shape {x.shape}) but the kernel expects "
            f"{kernel.shape[2]} (kernel shape {kernel.shape}, layout (height, width, in, out))"
        )
    stride, padding = check_int_pair(stride, "stride", 1), _check_padding(padding)
    pads = _check_windows(x.shape, kernel.shape[:2], stride, padding)
    dtype = np.result_type(x, kernel)
    return x.astype(dtype, copy=False), kernel.astype(dtype, copy=False), stride, pads


def _check_grad_out(grad_out: ArrayLike, expected: tuple[int, ...]) -> NDArray[Any]:
    grad_out = as_finite_float_array(grad_out, "grad_out", ndim=4)
    if grad_out.shape != expected:
        raise ValueError(
            f"grad_out must have the forward output's shape {expected}, got {grad_out.shape}"
        )
    return grad_out


def _check_pool(
    x: ArrayLike, pool_size: Any, stride: Any, padding: Any
) -> tuple[NDArray[Any], tuple[int, int], tuple[int, int], tuple[tuple[int, int], ...]]:
    x = as_finite_float_array(x, "x", ndim=4)
    window = check_int_pair(pool_size, "pool_size", 1)
    stride = window if stride is None else check_int_pair(stride, "stride", 1)
    padding = _check_padding(padding)
    if not isinstance(padding, str):
        raise ValueError(f"pooling padding must be 'valid' or 'same', got {padding!r}")
    pads = _check_windows(x.shape, window, stride, padding)
    return x, window, stride, pads


# --- im2col and its inverse ---------------------------------------------------------------------
def _pad(x: NDArray[Any], pads: tuple[tuple[int, int], ...], value: float = 0.0) -> NDArray[Any]:
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def _windows(xp: NDArray[Any], window: tuple[int, int], stride: tuple[int, int]) -> NDArray[Any]:
    """Every window of the padded batch, as a view: (n, h_out, w_out, channels, k_h, k_w)."""
    views = sliding_window_view(xp, window, axis=(1, 2))
    return views[:, :: stride[0], :: stride[1]]


def _add_windows(
    grad_windows: NDArray[Any], padded_shape: tuple[int, ...], stride: tuple[int, int]
) -> NDArray[Any]:
    """Inverse of `_windows` for gradients (col2im): sum each window's gradient into its pixels.

    `grad_windows` has shape (n, h_out, w_out, k_h, k_w, channels). One loop step per kernel
    position (u, v) adds that position's gradient to the pixels it read in every window at once.
    """
    _, h_out, w_out, k_h, k_w, _ = grad_windows.shape
    grad = np.zeros(padded_shape, dtype=grad_windows.dtype)
    for u in range(k_h):
        for v in range(k_w):
            rows = slice(u, u + stride[0] * (h_out - 1) + 1, stride[0])
            cols = slice(v, v + stride[1] * (w_out - 1) + 1, stride[1])
            grad[:, rows, cols, :] += grad_windows[:, :, :, u, v, :]
    return grad


def _crop(xp: NDArray[Any], pads: tuple[tuple[int, int], ...]) -> NDArray[Any]:
    (top, bottom), (left, right) = pads
    return xp[:, top : xp.shape[1] - bottom, left : xp.shape[2] - right, :]


# --- convolution --------------------------------------------------------------------------------
def conv2d(
    x: ArrayLike,
    kernel: ArrayLike,
    bias: ArrayLike | None = None,
    stride: int | tuple[int, int] = 1,
    padding: Padding = "valid",
) -> NDArray[Any]:
    r"""2-D convolution of a batch of images, as in `keras.layers.Conv2D` (im2col formulation).

    $$ y_{n,i,j,f} = b_f + \sum_{u,v,c} x^\text{pad}_{n,\, s_h i + u,\, s_w j + v,\, c}
       \, K_{u,v,c,f} $$

    Every window of the padded input becomes one row of a matrix with $k_h k_w C$ columns, and
    the whole layer is one matrix product with the kernel reshaped to $(k_h k_w C) \times F$.

    Args:
        x: Images, shape `(n, height, width, channels)`.
        kernel: Weights, shape `(k_h, k_w, channels, filters)` (Keras' layout).
        bias: One value per filter, shape `(filters,)`; `None` for no bias.
        stride: Step between windows, an int or `(s_h, s_w)`.
        padding: `"valid"` (no padding), `"same"` (output size $\lceil n / s \rceil$) or an int
            number of zeros on every side.

    Returns:
        Feature maps, shape `(n, h_out, w_out, filters)` with sizes from
        [`conv_output_size`][dlguide.convolution.conv_output_size].

    Raises:
        ValueError: For a wrong rank, a channel mismatch, a bias of the wrong shape, a kernel
            larger than the padded input, a stride below 1, an unknown padding or NaN/inf.
        TypeError: For non-numeric input or a non-int stride.

    Examples:
        >>> import numpy as np
        >>> x = np.zeros((2, 5, 5, 3)); x[:, 2, 2, :] = 1.0  # one bright pixel
        >>> y = conv2d(x, np.ones((3, 3, 3, 4)), bias=np.arange(4.0), padding="same")
        >>> y.shape, y[0, 1, 1].tolist(), y[0, 0, 0].tolist()
        ((2, 5, 5, 4), [3.0, 4.0, 5.0, 6.0], [0.0, 1.0, 2.0, 3.0])
    """
    x, kernel, stride, pads = _check_conv(x, kernel, stride, padding)
    k_h, k_w, channels, filters = kernel.shape
    if bias is None:
        bias = np.zeros(filters, dtype=x.dtype)
    bias = as_finite_array(bias, "bias", ndim=1, dtype=x.dtype)
    if bias.shape != (filters,):
        raise ValueError(f"bias must have shape ({filters},), one per filter, got {bias.shape}")

    windows = _windows(_pad(x, pads), (k_h, k_w), stride)  # (n, h_out, w_out, C, k_h, k_w)
    n, h_out, w_out = windows.shape[:3]
    # im2col: one row per output pixel, its window in (u, v, c) order, the kernel's order
    cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h_out * w_out, k_h * k_w * channels)
    y = cols @ kernel.reshape(k_h * k_w * channels, filters) + bias
    return y.reshape(n, h_out, w_out, filters)


def conv2d_backward(
    grad_out: ArrayLike,
    x: ArrayLike,
    kernel: ArrayLike,
    stride: int | tuple[int, int] = 1,
    padding: Padding = "valid",
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    r"""Gradients of a loss through [`conv2d`][dlguide.convolution.conv2d].

    With $g = \partial L / \partial y$ of shape `(n, h_out, w_out, filters)` and the im2col
    matrix $X_\text{col}$ of the forward pass:

    $$ \frac{\partial L}{\partial b_f} = \sum_{n,i,j} g_{n,i,j,f}, \qquad
       \frac{\partial L}{\partial K} = X_\text{col}^\top g, \qquad
       \frac{\partial L}{\partial x_{n,\, s_h i + u,\, s_w j + v,\, c}} \mathrel{+}=
       \sum_f g_{n,i,j,f} K_{u,v,c,f}. $$

    The input gradient sends every output pixel's gradient back to the pixels its window read,
    weighted by the kernel; pixels read by several windows add up their shares (col2im), and the
    gradient of the padding is dropped.

    Args:
        grad_out: $\partial L / \partial y$, the shape `conv2d` returned.
        x: The forward pass's images, `(n, height, width, channels)`.
        kernel: The forward pass's weights, `(k_h, k_w, channels, filters)`.
        stride: As in the forward pass.
        padding: As in the forward pass.

    Returns:
        `(grad_x, grad_kernel, grad_bias)` with the shapes of `x`, `kernel` and the bias
        `(filters,)`.

    Raises:
        ValueError: As `conv2d`, and if `grad_out` does not have the forward output's shape.
        TypeError: For non-numeric input.

    Examples:
        >>> import numpy as np
        >>> x, kernel = np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1))
        >>> grad_x, grad_kernel, grad_bias = conv2d_backward(np.ones((1, 2, 2, 1)), x, kernel)
        >>> grad_x[0, :, :, 0]  # how many windows read each pixel
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
        >>> grad_kernel.ravel().tolist(), grad_bias.tolist()
        ([4.0, 4.0, 4.0, 4.0], [4.0])
    """
    x, kernel, stride, pads = _check_conv(x, kernel, stride, padding)
    k_h, k_w, channels, filters = kernel.shape
    xp = _pad(x, pads)
    windows = _windows(xp, (k_h, k_w), stride)
    n, h_out, w_out = windows.shape[:3]
    g = _check_grad_out(grad_out, (n, h_out, w_out, filters)).astype(x.dtype, copy=False)

    g_rows = g.reshape(n * h_out * w_out, filters)
    cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h_out * w_out, k_h * k_w * channels)
    grad_bias = g_rows.sum(axis=0)
    grad_kernel = (cols.T @ g_rows).reshape(k_h, k_w, channels, filters)
    grad_cols = g_rows @ kernel.reshape(k_h * k_w * channels, filters).T
    grad_windows = grad_cols.reshape(n, h_out, w_out, k_h, k_w, channels)
    grad_x = _crop(_add_windows(grad_windows, xp.shape, stride), pads)
    return grad_x, grad_kernel, grad_bias


# --- pooling ------------------------------------------------------------------------------------
def max_pool2d(
    x: ArrayLike,
    pool_size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> NDArray[Any]:
    r"""Max pooling, as in `keras.layers.MaxPooling2D`: the largest value of each window.

    $$ y_{n,i,j,c} = \max_{0 \le u < p_h,\ 0 \le v < p_w} x_{n,\, s_h i + u,\, s_w j + v,\, c} $$

    Each channel is pooled on its own. With `"same"` padding the padded pixels count as
    $-\infty$, so they are never the maximum.

    Args:
        x: Images or feature maps, shape `(n, height, width, channels)`.
        pool_size: Window size, an int or `(p_h, p_w)`.
        stride: Step between windows, an int or a pair; `None` (default) means `pool_size`.
        padding: `"valid"` (windows that do not fit are dropped) or `"same"`.

    Returns:
        Shape `(n, h_out, w_out, channels)`.

    Raises:
        ValueError: For a wrong rank, a window larger than the padded input, a stride or pool
            size below 1, an unknown padding or NaN/inf.
        TypeError: For non-numeric input or non-int sizes.

    Examples:
        >>> import numpy as np
        >>> x = np.arange(25.0).reshape(1, 5, 5, 1)
        >>> max_pool2d(x)[0, :, :, 0]  # odd size, valid padding: the last row and column drop
        array([[ 6.,  8.],
               [16., 18.]])
        >>> max_pool2d(x, padding="same")[0, :, :, 0]
        array([[ 6.,  8.,  9.],
               [16., 18., 19.],
               [21., 23., 24.]])
    """
    x, window, stride, pads = _check_pool(x, pool_size, stride, padding)
    windows = _windows(_pad(x, pads, value=-np.inf), window, stride)
    return windows.max(axis=(4, 5))


def max_pool2d_backward(
    grad_out: ArrayLike,
    x: ArrayLike,
    pool_size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> NDArray[Any]:
    r"""Gradient of a loss through [`max_pool2d`][dlguide.convolution.max_pool2d].

    The maximum passes its window's gradient on unchanged; every other pixel of the window gets
    nothing:

    $$ \frac{\partial L}{\partial x_{n,\, s_h i + u,\, s_w j + v,\, c}} \mathrel{+}=
       g_{n,i,j,c} \,[\,(u, v) = \operatorname{argmax}\,], $$

    where a tie goes to the first maximum in row-major order (as in TensorFlow), and a pixel that
    is the maximum of several overlapping windows adds up their gradients.

    Args:
        grad_out: $\partial L / \partial y$, the shape `max_pool2d` returned.
        x: The forward pass's input.
        pool_size: As in the forward pass.
        stride: As in the forward pass.
        padding: As in the forward pass.

    Returns:
        $\partial L / \partial x$, the shape of `x`.

    Raises:
        ValueError: As `max_pool2d`, and if `grad_out` does not have the forward output's shape.
        TypeError: For non-numeric input or non-int sizes.

    Examples:
        >>> import numpy as np
        >>> x = np.array([[1.0, 3.0], [3.0, 2.0]]).reshape(1, 2, 2, 1)  # a tie
        >>> max_pool2d_backward(np.ones((1, 1, 1, 1)), x)[0, :, :, 0]
        array([[0., 1.],
               [0., 0.]])
    """
    x, window, stride, pads = _check_pool(x, pool_size, stride, padding)
    xp = _pad(x, pads, value=-np.inf)
    windows = _windows(xp, window, stride)  # (n, h_out, w_out, C, p_h, p_w)
    n, h_out, w_out, channels = windows.shape[:4]
    g = _check_grad_out(grad_out, (n, h_out, w_out, channels)).astype(x.dtype, copy=False)

    flat = windows.reshape(n, h_out, w_out, channels, window[0] * window[1])
    first_max = flat.argmax(axis=-1)  # argmax returns the first of tied maxima
    is_max = np.arange(flat.shape[-1]) == first_max[..., np.newaxis]
    grad_windows = (is_max * g[..., np.newaxis]).reshape(windows.shape)
    grad_windows = grad_windows.transpose(0, 1, 2, 4, 5, 3)  # (n, h_out, w_out, p_h, p_w, C)
    return _crop(_add_windows(grad_windows, xp.shape, stride), pads)


def _window_counts(
    x_shape: tuple[int, ...],
    window: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple[tuple[int, int], ...],
) -> NDArray[Any]:
    """Real (non-padding) pixels in each window: (1, h_out, w_out, 1)."""
    ones = np.ones((1, x_shape[1], x_shape[2], 1))
    return _windows(_pad(ones, pads), window, stride).sum(axis=(4, 5))


def avg_pool2d(
    x: ArrayLike,
    pool_size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> NDArray[Any]:
    r"""Average pooling, as in `keras.layers.AveragePooling2D`: the mean of each window.

    $$ y_{n,i,j,c} = \frac{1}{|W_{ij}|} \sum_{(u, v) \in W_{ij}}
       x_{n,\, s_h i + u,\, s_w j + v,\, c} $$

    where $W_{ij}$ holds the window's positions inside the image: with `"same"` padding, padded
    pixels are left out of the mean (not counted as zeros), as in Keras.

    Args:
        x: Images or feature maps, shape `(n, height, width, channels)`.
        pool_size: Window size, an int or `(p_h, p_w)`.
        stride: Step between windows, an int or a pair; `None` (default) means `pool_size`.
        padding: `"valid"` or `"same"`.

    Returns:
        Shape `(n, h_out, w_out, channels)`.

    Raises:
        ValueError: As [`max_pool2d`][dlguide.convolution.max_pool2d].
        TypeError: For non-numeric input or non-int sizes.

    Examples:
        >>> import numpy as np
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> avg_pool2d(x, padding="same")[0, :, :, 0]  # edge windows average fewer pixels
        array([[2. , 3.5],
               [6.5, 8. ]])
    """
    x, window, stride, pads = _check_pool(x, pool_size, stride, padding)
    sums = _windows(_pad(x, pads), window, stride).sum(axis=(4, 5))
    return sums / _window_counts(x.shape, window, stride, pads).astype(x.dtype)


def avg_pool2d_backward(
    grad_out: ArrayLike,
    x: ArrayLike,
    pool_size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> NDArray[Any]:
    r"""Gradient of a loss through [`avg_pool2d`][dlguide.convolution.avg_pool2d].

    Every pixel of a window gets an equal share of the window's gradient:

    $$ \frac{\partial L}{\partial x_{n,\, s_h i + u,\, s_w j + v,\, c}} \mathrel{+}=
       \frac{g_{n,i,j,c}}{|W_{ij}|}. $$

    Args:
        grad_out: $\partial L / \partial y$, the shape `avg_pool2d` returned.
        x: The forward pass's input (only its shape is used, but it is checked like the forward
            pass's).
        pool_size: As in the forward pass.
        stride: As in the forward pass.
        padding: As in the forward pass.

    Returns:
        $\partial L / \partial x$, the shape of `x`.

    Raises:
        ValueError: As `avg_pool2d`, and if `grad_out` does not have the forward output's shape.
        TypeError: For non-numeric input or non-int sizes.

    Examples:
        >>> import numpy as np
        >>> avg_pool2d_backward(np.ones((1, 1, 1, 1)), np.zeros((1, 2, 2, 1)))[0, :, :, 0]
        array([[0.25, 0.25],
               [0.25, 0.25]])
    """
    x, window, stride, pads = _check_pool(x, pool_size, stride, padding)
    counts = _window_counts(x.shape, window, stride, pads).astype(x.dtype)
    n, h_out, w_out = x.shape[0], counts.shape[1], counts.shape[2]
    g = _check_grad_out(grad_out, (n, h_out, w_out, x.shape[3])).astype(x.dtype, copy=False)

    share = g / counts  # (n, h_out, w_out, C)
    grad_windows = np.broadcast_to(
        share[:, :, :, np.newaxis, np.newaxis, :], (n, h_out, w_out, *window, x.shape[3])
    )
    padded_shape = (n, x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1]), x.shape[3])
    return _crop(_add_windows(grad_windows, padded_shape, stride), pads)
