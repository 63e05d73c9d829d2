"""Argument checks shared by the helpers.

Every check raises ``ValueError`` or ``TypeError`` with a message that names
the argument and the offending index or value, so that a learner sees *what*
is wrong, not just that something is.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

PADDING_SIDES = ("pre", "post")

# dtype kinds that hold real numbers: signed and unsigned ints, floats.
_REAL_KINDS = "iuf"


def index_text(index: tuple[int, ...]) -> str:
    """``(1, 2)`` -> ``"[1, 2]"``: the index as a learner would type it (``()`` -> ``""``)."""
    if not index:
        return ""
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _is_number(v: Any, *, allow_bool: bool, allow_complex: bool) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return allow_bool
    return isinstance(v, numbers.Complex if allow_complex else numbers.Real)


def _first_non_number_nested(
    value: Any, index: tuple[int, ...], *, allow_bool: bool, allow_complex: bool
) -> tuple[tuple[int, ...], Any] | None:
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _first_non_number_nested(v, index + (i,), allow_bool=allow_bool, allow_complex=allow_complex)
            if found is not None:
                return found
        return None
    if isinstance(value, np.ndarray):
        return None if value.dtype.kind in "iufcb" else (index, value)
    return None if _is_number(value, allow_bool=allow_bool, allow_complex=allow_complex) else (index, value)


def check_numeric(
    name: str, value: Any, *, allow_bool: bool = False, allow_complex: bool = False, bool_hint: str = ""
) -> np.ndarray:
    """Return ``np.asarray(value)`` if it holds numbers; else raise TypeError naming the first bad index.

    Strings, ``None`` and other objects are refused, and so is any object
    array (even one of numbers: ``dtype=object`` arrays are slow and hide
    mistakes). Bools and complex numbers are refused unless allowed.

    Example:
        >>> check_numeric("x", [[1.0, None]])
        Traceback (most recent call last):
        ...
        TypeError: x[0, 1] = None is a NoneType, not a number
    """
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind in _REAL_KINDS or (kind == "b" and allow_bool) or (kind == "c" and allow_complex):
        return arr
    if kind in "USO" and isinstance(value, (list, tuple)):
        # NumPy turns [1, "a"] into ["1", "a"]: look at the caller's own list to name the real culprit.
        found = _first_non_number_nested(value, (), allow_bool=allow_bool, allow_complex=allow_complex)
        if found is not None:
            index, v = found
            raise TypeError(f"{name}{index_text(index)} = {v!r} is a {type(v).__name__}, not a number")
    if arr.size == 0:
        raise TypeError(f"{name} must hold numbers, got an empty array of dtype {arr.dtype}")
    first = (0,) * arr.ndim
    if kind == "O":
        for index, v in np.ndenumerate(arr):  # Python loop: only object arrays get here
            if not _is_number(v, allow_bool=allow_bool, allow_complex=allow_complex):
                raise TypeError(f"{name}{index_text(index)} = {v!r} is a {type(v).__name__}, not a number")
        v = arr[first]
        raise TypeError(
            f"{name} is an object array ({name}{index_text(first)} = {v!r} is a Python {type(v).__name__} "
            f"inside dtype=object); pass a numeric array, e.g. np.asarray(..., dtype=float)"
        )
    if kind == "b":
        raise TypeError(
            f"{name} must hold numbers, not bools ({name}{index_text(first)} = {arr[first].item()!r})"
            + (f"; {bool_hint}" if bool_hint else "")
        )
    if kind == "c":
        bad = np.argwhere(arr.imag != 0)
        index = tuple(bad[0]) if bad.size else first
        raise TypeError(f"{name}{index_text(index)} = {arr[index].item()!r} is complex; {name} must hold real numbers")
    v = arr[first].item() if kind in "US" else arr[first]
    raise TypeError(f"{name}{index_text(first)} = {v!r} is a {type(v).__name__}, not a number (dtype {arr.dtype})")


def check_real_number(name: str, value: Any) -> Any:
    """Return ``value`` if it is one real number (int or float, NaN allowed); else raise TypeError.

    Bools, complex numbers, strings, ``None`` and sequences are refused.

    Example:
        >>> check_real_number("value", -1.0)
        -1.0
        >>> check_real_number("value", "0")
        Traceback (most recent call last):
        ...
        TypeError: value must be a number, got '0' of type str
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number, got {value!r} (a bool); pass 1 or 0 instead")
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    return value


def as_bool_mask(name: str, mask: Any) -> np.ndarray:
    """Return ``mask`` as a bool array; 0/1 integers are accepted, anything else raises TypeError.

    The message names the first offending index.

    Example:
        >>> as_bool_mask("mask", [[1, 0]]).tolist()
        [[True, False]]
    """
    arr = np.asarray(mask)
    if arr.dtype == bool:
        return arr
    prefix = f"{name} must be bool (or 0/1 integers), got dtype {arr.dtype}"
    if arr.dtype.kind in "iu":
        bad = np.argwhere((arr != 0) & (arr != 1))
        if not bad.size:
            return arr.astype(bool)
        index = tuple(bad[0])
    elif arr.dtype.kind == "O":
        bad = [i for i, v in np.ndenumerate(arr) if not isinstance(v, (bool, np.bool_))]
        index = bad[0] if bad else (0,) * arr.ndim
    else:
        index = (0,) * arr.ndim
    if arr.size == 0:
        raise TypeError(prefix)
    v = arr[index]
    v = v.item() if isinstance(v, np.generic) else v
    raise TypeError(f"{prefix} ({name}{index_text(index)} = {v!r})")


def check_side(name: str, value: Any) -> str:
    """Return ``value`` if it is "pre" or "post", else raise ValueError."""
    if not isinstance(value, str) or value not in PADDING_SIDES:
        raise ValueError(f"{name} must be 'pre' or 'post', got {value!r}")
    return value


def check_count(name: str, value: Any, *, allow_none: bool = False, minimum: int = 0) -> int | None:
    """Return ``value`` as an int >= ``minimum`` (bools and floats are rejected)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_lengths(lengths: Any, name: str = "lengths") -> np.ndarray:
    """Validate a 1-D collection of non-negative integer lengths; return int64 copy."""
    arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if isinstance(lengths, (list, tuple)) and arr.dtype.kind in "iu" and bool in set(map(type, lengths)):
        # NumPy turns [3, True] into [3, 1] without a word; a bool is not a length.
        i = next(i for i, v in enumerate(lengths) if type(v) is bool)
        raise TypeError(f"{name} must hold integers, got a bool (value {lengths[i]!r} at index {i})")
    if arr.dtype.kind in "US" and isinstance(lengths, (list, tuple)):
        # NumPy turns [3, "a"] into ["3", "a"]: name the caller's own culprit.
        i = next((i for i, v in enumerate(lengths) if not isinstance(v, numbers.Integral)), 0)
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype} (value {lengths[i]!r} at index {i})")
    if arr.dtype.kind == "O":
        bad = [i for i, v in enumerate(arr) if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral)]
        i = bad[0] if bad else 0
        raise TypeError(
            f"{name} must hold integers, got dtype object (value {arr[i]!r} at index {i}"
            + ("" if bad else ", inside an object array; pass a list of ints or an int array") + ")"
        )
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        bad = _first_non_integer(arr)
        raise TypeError(
            f"{name} must hold integers, got dtype {arr.dtype}"
            + (f" (value {arr[bad].item()!r} at index {bad})" if bad is not None else "")
        )
    arr = arr.astype(np.int64, copy=True)
    neg = np.flatnonzero(arr < 0)
    if neg.size:
        raise ValueError(f"{name} must be >= 0, got {arr[neg[0]]} at index {neg[0]}")
    return arr


def _first_non_integer(arr: np.ndarray) -> int | None:
    if arr.dtype == bool:
        return 0 if arr.size else None
    try:
        flt = arr.astype(float)
    except (TypeError, ValueError):
        return 0 if arr.size else None
    bad = np.flatnonzero(flt != np.round(flt))
    return int(bad[0]) if bad.size else (0 if arr.size else None)


def check_lengths_fit(lengths: np.ndarray, maxlen: int, *, name: str = "lengths", axis_name: str = "maxlen") -> None:
    """Raise ValueError naming the first length that exceeds ``maxlen``."""
    over = np.flatnonzero(lengths > maxlen)
    if over.size:
        i = int(over[0])
        raise ValueError(f"{name}[{i}] = {lengths[i]} is longer than {axis_name} = {maxlen}")


def check_padded_batch(padded: Any, lengths: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a ``(batch, time[, features])`` array and its ``(batch,)`` lengths together."""
    padded = np.asarray(padded)
    if padded.ndim not in (2, 3):
        raise ValueError(f"padded must be 2-D (batch, time) or 3-D (batch, time, features), got shape {padded.shape}")
    # A padded batch may hold bools (per-step flags) or complex numbers; not strings or objects.
    check_numeric("padded", padded, allow_bool=True, allow_complex=True)
    lengths = as_lengths(lengths)
    if lengths.shape[0] != padded.shape[0]:
        raise ValueError(f"lengths has {lengths.shape[0]} entries but padded has batch size {padded.shape[0]}")
    check_lengths_fit(lengths, padded.shape[1], axis_name="the time axis of padded")
    return padded, lengths
