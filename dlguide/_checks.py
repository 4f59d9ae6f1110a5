"""Input checks shared by the dlguide modules (private: not part of the documented API).

Every check raises a `TypeError` for a value of the wrong kind and a `ValueError` for a value of
the right kind that cannot be used, with a message that names the argument, what was expected and
what came.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray


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


def as_finite_array(
    value: ArrayLike, name: str, *, ndim: int | None = None, dtype: DTypeLike = np.float64
) -> NDArray[Any]:
    """`value` as a non-empty array of `dtype` with only finite values (and `ndim` dimensions)."""
    if isinstance(value, np.ndarray) and not (
        np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_
    ):
        raise TypeError(f"{name} must hold numbers, got an array of dtype {value.dtype}")
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be numeric and array-like, got {type(value).__name__}"
        ) from error
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
