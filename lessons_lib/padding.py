"""Turn ragged sequences into one padded array, and back.

Unlike ``keras.utils.pad_sequences`` (whose default is ``padding="pre"``),
:func:`pad_sequences` pads at the end by default (``padding="post"``), the
layout that cuDNN and PyTorch's ``pad_sequence`` expect.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ._validate import check_count, check_numeric, check_padded_batch, check_real_number, check_side
from .masks import _mask_rows, sequence_mask

__all__ = ["pad_sequences", "unpad_sequences"]


def _as_items(sequences: Any) -> list[np.ndarray]:
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, (Sequence, np.ndarray)):
        # Accept any iterable (a generator, a torch list...) but not a str or a scalar.
        try:
            sequences = list(sequences)
        except TypeError:
            raise TypeError(
                f"sequences must be a list of 1-D or 2-D arrays, got {type(sequences).__name__}"
            ) from None
    # Checks run over whole lists in C (map, set) rather than per item in Python:
    # this function is meant for 100,000-sequence batches.
    types = set(map(type, sequences))
    if types <= {np.ndarray}:
        return list(sequences)
    if any(issubclass(t, (str, bytes)) for t in types):
        i = next(i for i, s in enumerate(sequences) if isinstance(s, (str, bytes)))
        raise TypeError(f"sequences[{i}] is a {type(sequences[i]).__name__}; expected a list or array of numbers")
    try:
        return list(map(np.asarray, sequences))
    except ValueError:
        for i, s in enumerate(sequences):  # error path only: name the ragged item
            try:
                np.asarray(s)
            except ValueError as err:
                raise ValueError(f"sequences[{i}] is ragged (its rows differ in length): {err}") from None
        raise


def _check_item_numbers(items: list[np.ndarray], originals: Any) -> None:
    """Raise TypeError naming the first item (and index in it) that is not numbers."""
    for i, a in enumerate(items):
        if a.dtype.kind not in "iufcb":
            original = originals[i] if isinstance(originals, (list, tuple)) else a
            check_numeric(f"sequences[{i}]", original, allow_bool=True, allow_complex=True)


def _item_lengths(items: list[np.ndarray]) -> np.ndarray:
    try:
        # list(map(len)) then one conversion is faster than np.fromiter over the map.
        return np.array(list(map(len, items)), dtype=np.int64).reshape(len(items))
    except TypeError:
        for i, a in enumerate(items):  # error path only: a scalar item has no len()
            if a.ndim == 0:
                v = a.item() if a.dtype.kind in "iufcb" else a[()]
                if a.dtype.kind in "iufcb":
                    raise TypeError(
                        f"sequences[{i}] = {v!r} is a single number, not a sequence; wrap it in a list"
                    ) from None
                raise TypeError(f"sequences[{i}] = {v!r} is a {type(v).__name__}, not a sequence of numbers") from None
        raise


def _item_layout(items: list[np.ndarray]) -> tuple[int, tuple[int, ...]]:
    """Return (ndim, feature_shape) shared by all items, or raise naming the odd one."""
    ndim = None
    features: tuple[int, ...] | None = None
    for i, a in enumerate(items):
        if a.ndim not in (1, 2):
            raise ValueError(f"sequences[{i}] must be 1-D (time,) or 2-D (time, features), got shape {a.shape}")
        if a.ndim == 1 and a.size == 0:
            continue  # an empty list fits any layout
        if ndim is None:
            ndim, features = a.ndim, a.shape[1:]
            first = i
        elif a.ndim != ndim:
            raise ValueError(
                f"sequences[{i}] has shape {a.shape} but sequences[{first}] has shape {items[first].shape}; "
                "all items must be 1-D, or all 2-D"
            )
        elif a.shape[1:] != features:
            raise ValueError(
                f"sequences[{i}] has {a.shape[1]} features but sequences[{first}] has {features[0]}; "
                "feature sizes must agree"
            )
    if ndim is None:
        return 1, ()
    return ndim, features


def _result_dtype(flat: np.ndarray | None, value: Any, dtype: DTypeLike | None) -> np.dtype:
    if dtype is not None:
        out = np.dtype(dtype)
        if out.kind not in "iufcb":
            raise TypeError(f"dtype must be a numeric (or bool) dtype, got {out}")
    else:
        out = flat.dtype if flat is not None else np.asarray(value).dtype
    v = np.asarray(value)
    if v.ndim != 0 or not (np.issubdtype(v.dtype, np.number) or v.dtype == bool):
        raise TypeError(f"value must be a number, got {value!r}")
    check_real_number("value", value)  # also refuses a bool or complex padding value
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NaN -> int casts warn; we report it ourselves
        back = v.astype(out).astype(np.float64)
    want = v.astype(np.float64)
    if not (back == want or (np.isnan(want) and np.isnan(back))):
        raise ValueError(f"value={value!r} cannot be stored in dtype {out}; pass a matching dtype=")
    return out


def pad_sequences(
    sequences: Sequence[ArrayLike],
    maxlen: int | None = None,
    *,
    padding: str = "post",
    truncating: str = "post",
    value: float = 0,
    dtype: DTypeLike | None = None,
) -> np.ndarray:
    """Pad (and, only if ``maxlen`` asks for it, truncate) ragged sequences.

    Args:
        sequences: list of 1-D ``(time,)`` token-id sequences or 2-D
            ``(time, features)`` arrays of numbers. Lengths may differ,
            including 0. A string, ``None`` or other object anywhere raises
            TypeError naming ``sequences[i]`` and the index inside it.
        maxlen: length of the time axis; ``None`` means the longest item.
            Items longer than ``maxlen`` are cut, from the side ``truncating``.
        padding: "post" (default, pad at the end) or "pre" (pad at the start;
            the default of ``keras.utils.pad_sequences``).
        truncating: "post" keeps the first ``maxlen`` steps, "pre" the last.
        value: the padding value, one real number (a bool, a string or
            ``None`` raises TypeError).
        dtype: dtype of the result, numeric or bool; ``None`` keeps the items'
            common dtype.

    Returns:
        A new array of shape ``(batch, maxlen)`` or ``(batch, maxlen, features)``.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]])
        array([[1, 2, 3],
               [4, 0, 0]])
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="pre", truncating="pre")
        array([[2, 3],
               [0, 4]])
    """
    check_side("padding", padding)
    check_side("truncating", truncating)
    maxlen = check_count("maxlen", maxlen, allow_none=True)
    items = _as_items(sequences)
    lengths = _item_lengths(items)
    if maxlen is None:
        if not items:
            raise ValueError("sequences is empty: pass maxlen= to get a (0, maxlen) array")
        maxlen = int(lengths.max())
    empty = np.flatnonzero(lengths == 0)
    nonempty = items if empty.size == 0 else [items[i] for i in np.flatnonzero(lengths)]
    flat = None
    if nonempty:
        try:
            flat = np.concatenate(nonempty)
        except (ValueError, TypeError):
            _check_item_numbers(items, sequences)  # raises an error naming the odd item
            _item_layout(items)
            raise
        if flat.dtype.kind not in "iufcb":  # a string, None or object somewhere: name it
            _check_item_numbers(items, sequences)
    if (flat is not None and flat.ndim not in (1, 2)) or empty.size:
        ndim, features = _item_layout(items)
    else:
        features = () if flat is None else flat.shape[1:]
    if flat is not None and flat.ndim != len(features) + 1:
        _item_layout(items)
    out_dtype = _result_dtype(flat, value, dtype)
    batch = len(items)
    if np.asarray(value) == 0:
        out = np.zeros((batch, maxlen) + features, dtype=out_dtype)  # calloc: cheaper than full
    else:
        out = np.full((batch, maxlen) + features, value, dtype=out_dtype)
    if flat is None or maxlen == 0:
        return out
    kept = np.minimum(lengths, maxlen)
    if (kept < lengths).any():
        # Keep, for each item, the first (truncating="post") or last ("pre") `kept` steps.
        starts = np.cumsum(lengths) - lengths
        within = np.arange(flat.shape[0]) - np.repeat(starts, lengths)
        rep_len, rep_kept = np.repeat(lengths, lengths), np.repeat(kept, lengths)
        keep = within < rep_kept if truncating == "post" else within >= rep_len - rep_kept
        flat = flat[keep]
    where = _mask_rows(kept, maxlen, padding)
    # Row-major order of `where` matches the concatenation order of `flat` for both sides.
    out[where] = flat
    return out


def unpad_sequences(padded: ArrayLike, lengths: ArrayLike, *, padding: str = "post") -> list[np.ndarray]:
    """Split a padded batch back into a list of its valid parts.

    The inverse of :func:`pad_sequences` (without truncation).

    Args:
        padded: array of shape ``(batch, time)`` or ``(batch, time, features)``.
        lengths: ``(batch,)`` non-negative ints, each at most ``time``.
        padding: the side the padding is on, "post" or "pre".

    Returns:
        A list of ``batch`` new arrays, item ``i`` of shape ``(lengths[i], ...)``.

    Example:
        >>> unpad_sequences(np.array([[0, 7, 8], [0, 0, 9]]), [2, 1], padding="pre")
        [array([7, 8]), array([9])]
    """
    check_side("padding", padding)
    padded, lengths = check_padded_batch(padded, lengths)
    mask = sequence_mask(lengths, padded.shape[1], padding=padding)
    flat = padded[mask]  # boolean indexing copies, row by row in time order
    return np.split(flat, np.cumsum(lengths)[:-1])
