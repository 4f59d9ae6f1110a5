"""Input checks shared by the dlguide modules (private: not part of the documented API).

The public functions a reader calls check their arguments once, at the door, with these helpers;
the code behind the door trusts what it gets. Every check raises a `TypeError` for a value of the
wrong kind and a `ValueError` for a value of the right kind that cannot be used, in one message
style: `"<name> must be <what was expected>, got <what came>"`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_int(value: object, name: str, minimum: int) -> int:
    """`value` as an int of at least `minimum` (bools are not ints here)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_real(value: object, name: str, *, positive: bool = False) -> float:
    """`value` as a finite float (strictly positive if asked)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if positive and number <= 0:
        raise ValueError(f"{name} must be > 0, got {number}")
    return number


def check_bool(value: object, name: str) -> bool:
    """`value` if it is a bool (NumPy's included)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_name(value: object, name: str, allowed: Sequence[str]) -> str:
    """`value` if it is one of the strings in `allowed`."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {list(allowed)}; got {value!r}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def check_float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """`dtype` resolved, if it is float32 or float64."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from error
    if resolved not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


def as_finite_array(
    value: ArrayLike, name: str, *, ndim: int | None = None, dtype: DTypeLike | None = np.float64
) -> NDArray[Any]:
    """`value` as a non-empty array of real numbers, all finite (and with `ndim` dimensions).

    It is converted to `dtype`; with `dtype=None` a float32 array stays float32 and everything
    else becomes float64.
    """
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        raise TypeError(
            f"{name} must hold numbers in a rectangular array (numeric and array-like), got a "
            f"ragged {type(value).__name__}"
        ) from error
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold numbers (numeric and array-like, real), got {type(value).__name__} "
            f"of dtype {array.dtype}"
        )
    if dtype is None:
        dtype = np.float32 if array.dtype == np.float32 else np.float64
    array = array.astype(dtype, copy=False)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimension(s), got shape {array.shape} "
            f"({array.ndim} dimensions)"
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(
            f"{name} must contain only finite values, got {array.size - int(finite.sum())} "
            "nan/inf value(s)"
        )
    return array


def check_network(network: object) -> np.dtype[Any]:
    """Check a list of dense layers (see `dlguide.neurons`) and that their shapes chain.

    Returns the dtype all their arrays share.
    """
    if isinstance(network, dict | str) or not isinstance(network, Sequence):
        raise TypeError(f"network must be a list of layer dicts, got {type(network).__name__}")
    if len(network) == 0:
        raise ValueError("network must have at least one layer, got an empty list")
    from .neurons import LAYER_ACTIVATIONS

    dtype = None
    for k, layer in enumerate(network):
        if not isinstance(layer, dict):
            raise TypeError(f"network[{k}] must be a layer dict, got {type(layer).__name__}")
        missing = {"weights", "biases", "activation"} - layer.keys()
        if missing:
            raise ValueError(
                f"network[{k}] must have keys 'weights', 'biases', 'activation', got one "
                f"missing {sorted(missing)}"
            )
        for key, ndim in (("weights", 2), ("biases", 1)):
            array = layer[key]
            if not isinstance(array, np.ndarray):
                raise TypeError(
                    f"network[{k}][{key!r}] must be a NumPy array, got {type(array).__name__}"
                )
            if array.dtype not in FLOAT_DTYPES:
                raise ValueError(
                    f"network[{k}][{key!r}] must be float32 or float64, got {array.dtype}"
                )
            as_finite_array(array, f"network[{k}][{key!r}]", ndim=ndim, dtype=None)
        w, b = layer["weights"], layer["biases"]
        if b.shape != (w.shape[1],):
            raise ValueError(
                f"network[{k}]['biases'] must have shape ({w.shape[1]},), one entry per column "
                f"of the weights, got {b.shape}"
            )
        if k > 0 and w.shape[0] != network[k - 1]["weights"].shape[1]:
            raise ValueError(
                f"network[{k}]['weights'] must have {network[k - 1]['weights'].shape[1]} rows "
                f"(the outputs of layer {k - 1}), got shape {w.shape}"
            )
        dtype = dtype or w.dtype
        if w.dtype != dtype or b.dtype != dtype:
            raise ValueError(
                f"all arrays of a network must share one dtype {dtype}, got network[{k}] with "
                f"{w.dtype} weights and {b.dtype} biases"
            )
        check_name(layer["activation"], f"activation of network[{k}]", LAYER_ACTIVATIONS)
    return np.dtype(dtype)


def as_bool_mask(value: ArrayLike, name: str, shape: tuple[int, ...]) -> NDArray[np.bool_]:
    """`value` (booleans, or the numbers 0 and 1) as a boolean array broadcast to `shape`."""
    array = np.asarray(value)
    if array.dtype != np.bool_:
        numbers = as_finite_array(array, name)
        if not np.isin(numbers, (0, 1)).all():
            raise ValueError(f"{name} must hold booleans (or 0 and 1), got other values")
        array = numbers.astype(bool)
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(
            f"{name} must broadcast to shape {shape}, got shape {array.shape}"
        ) from None


def check_int_pair(value: object, name: str, minimum: int) -> tuple[int, int]:
    """`value` (an int, or a pair of ints for height and width) as a pair of ints >= `minimum`."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return check_int(value[0], name, minimum), check_int(value[1], name, minimum)
    number = check_int(value, name, minimum)
    return number, number


def as_finite_float_array(value: ArrayLike, name: str, *, ndim: int | None = None) -> NDArray[Any]:
    """As `as_finite_array`, but a floating array keeps its dtype (float32 stays float32); any
    other input becomes float64."""
    dtype: DTypeLike = np.float64
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        dtype = value.dtype
    return as_finite_array(value, name, ndim=ndim, dtype=dtype)


def check_names(value: object, name: str) -> tuple[str, ...]:
    """`value` (a list or tuple of distinct, non-empty strings, at least two) as a tuple."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a list or tuple of str, got {value!r}")
    if len(value) < 2 or len(set(value)) != len(value) or not all(value):
        raise ValueError(f"{name} must hold at least two distinct, non-empty names, got {value!r}")
    return tuple(value)
