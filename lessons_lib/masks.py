"""Binary mask matrices: which time steps of a padded batch are real.

``mask[b, t]`` is True when step ``t`` of sequence ``b`` holds data and False
where it is padding. Every function returns a new array.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import (
    as_bool_mask,
    as_lengths,
    check_count,
    check_lengths_fit,
    check_numeric,
    check_real_number,
    check_side,
)

__all__ = ["sequence_mask", "mask_from_padded", "lengths_from_mask"]


def sequence_mask(lengths: ArrayLike, maxlen: int | None = None, *, padding: str = "post") -> np.ndarray:
    """Build the ``(batch, maxlen)`` bool mask of a batch with these lengths.

    Args:
        lengths: ``(batch,)`` non-negative ints.
        maxlen: width of the mask; ``None`` means ``max(lengths)``.
        padding: "post" puts the True block at the start of each row, "pre"
            at the end.

    Returns:
        A new bool array of shape ``(batch, maxlen)`` with ``mask.sum(1) == lengths``.

    Example:
        >>> sequence_mask([3, 1], 4).astype(int)
        array([[1, 1, 1, 0],
               [1, 0, 0, 0]])
        >>> sequence_mask([3, 1], 4, padding="pre").astype(int)
        array([[0, 1, 1, 1],
               [0, 0, 0, 1]])
    """
    check_side("padding", padding)
    lengths = as_lengths(lengths)
    maxlen = check_count("maxlen", maxlen, allow_none=True)
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    check_lengths_fit(lengths, maxlen)
    return _mask_rows(lengths, maxlen, padding)


def _mask_rows(lengths: np.ndarray, maxlen: int, padding: str) -> np.ndarray:
    """Rows of a ``(maxlen + 1, maxlen)`` lookup table: row ``k`` holds ``k`` True values.

    Copying one ready-made row per sequence (``np.take``) is several times faster
    than comparing ``arange(maxlen) < lengths[:, None]`` element by element.
    """
    table = np.arange(maxlen + 1)[:, None] > np.arange(maxlen)
    if padding == "pre":
        table = np.ascontiguousarray(table[:, ::-1])
    return np.take(table, lengths, axis=0)


def mask_from_padded(padded: ArrayLike, value: float = 0) -> np.ndarray:
    """Infer the mask of a padded batch from its padding value.

    For 2-D ``(batch, time)`` input this is ``padded != value``. For 3-D
    ``(batch, time, features)`` input a step is real when *any* feature differs
    from ``value``, exactly like ``keras.layers.Masking``: a step is masked only
    when all of its features equal ``value``. ``value`` may be NaN.

    ``padded`` must hold numbers and ``value`` must be one real number: a
    string, ``None``, an object array or a bool (a bool array already *is* a
    mask) raises TypeError naming the argument and the first bad index.

    Example:
        >>> mask_from_padded(np.array([[[0., 1.], [0., 0.]]]))
        array([[ True, False]])
    """
    padded = np.asarray(padded)
    if padded.ndim not in (2, 3):
        raise ValueError(f"padded must be 2-D (batch, time) or 3-D (batch, time, features), got shape {padded.shape}")
    if np.ndim(value) != 0:
        raise TypeError(f"value must be a scalar, got {value!r}")
    check_real_number("value", value)
    check_numeric("padded", padded, bool_hint="a bool array already is a mask")
    if np.issubdtype(np.asarray(value).dtype, np.floating) and np.isnan(value):
        differs = ~np.isnan(padded)
    else:
        differs = padded != value
    return differs if padded.ndim == 2 else differs.any(axis=-1)


def lengths_from_mask(mask: ArrayLike) -> np.ndarray:
    """Count the real steps in each row of a contiguous mask.

    Each row must be one block of True values touching the start (post-padding)
    or the end (pre-padding) of the row, or be all False. A row with holes, such
    as ``[1, 0, 1]``, is rejected because no single length describes it.

    Example:
        >>> lengths_from_mask(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 0]], bool))
        array([2, 2, 0])
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (batch, time), got shape {mask.shape}")
    mask = as_bool_mask("mask", mask)
    lengths = mask.sum(axis=1).astype(np.int64)
    post_ok = (mask == sequence_mask(lengths, mask.shape[1], padding="post")).all(axis=1)
    pre_ok = (mask == sequence_mask(lengths, mask.shape[1], padding="pre")).all(axis=1)
    bad = np.flatnonzero(~(post_ok | pre_ok))
    if bad.size:
        row = int(bad[0])
        raise ValueError(
            f"mask row {row} is not one contiguous block at the start or end "
            f"(row {row} = {mask[row].astype(int).tolist()}); it has holes"
        )
    return lengths
