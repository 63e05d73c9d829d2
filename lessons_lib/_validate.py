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
    lengths = as_lengths(lengths)
    if lengths.shape[0] != padded.shape[0]:
        raise ValueError(f"lengths has {lengths.shape[0]} entries but padded has batch size {padded.shape[0]}")
    check_lengths_fit(lengths, padded.shape[1], axis_name="the time axis of padded")
    return padded, lengths
