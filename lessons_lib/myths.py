"""Helpers behind lesson 08 (myths and facts about LSTM masking).

Pure NumPy: ground truth computed with the reference LSTM
(:func:`lessons_lib.lstm_forward`) on each sequence *alone*, without padding,
and small counting helpers (how many row-steps an LSTM computes, how a
packed batch shrinks). The framework builders come from lessons 02 and 03
(``keras_masking.lstm_layer``, ``torch_packing.lstm_from_keras_weights``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_lengths, check_count
from .reference_lstm import lstm_forward

__all__ = [
    "bidirectional_reference",
    "packed_batch_sizes",
    "reference_final_states",
    "reference_outputs",
    "row_steps",
    "safe_pack_lengths",
]

_WEIGHT_KEYS = ("kernel", "recurrent_kernel", "bias")


def _check_weights(weights: Mapping[str, np.ndarray], name: str = "weights") -> dict[str, np.ndarray]:
    if not isinstance(weights, Mapping):
        raise TypeError(f"{name} must be a dict with keys {_WEIGHT_KEYS}, got {type(weights).__name__}")
    missing = [k for k in _WEIGHT_KEYS if k not in weights]
    if missing:
        raise ValueError(f"{name} is missing {missing}; expected keys {_WEIGHT_KEYS}")
    return {k: np.asarray(weights[k]) for k in _WEIGHT_KEYS}


def _check_sequences(sequences: Sequence[ArrayLike], name: str = "sequences") -> list[np.ndarray]:
    if isinstance(sequences, np.ndarray) and sequences.ndim == 3:
        raise TypeError(f"{name} must be a list of unpadded (time, features) arrays, got one 3-D array")
    items = [np.asarray(s, dtype=np.float64) for s in sequences]
    if not items:
        raise ValueError(f"{name} must hold at least one sequence")
    for i, s in enumerate(items):
        if s.ndim != 2:
            raise ValueError(f"{name}[{i}] must be 2-D (time, features), got shape {s.shape}")
    return items


def reference_outputs(sequences: Sequence[ArrayLike], weights: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Per-step outputs of the reference LSTM on each sequence alone (no padding).

    Args:
        sequences: list of ``(length_i, features)`` arrays.
        weights: ``{"kernel", "recurrent_kernel", "bias"}`` in the Keras layout.

    Returns:
        A list of float64 ``(length_i, units)`` arrays; a zero-length sequence
        gives a ``(0, units)`` array.

    Example:
        >>> from lessons_lib import random_lstm_weights
        >>> w = random_lstm_weights(2, 3, seed=0)
        >>> [o.shape for o in reference_outputs([np.ones((4, 2)), np.ones((1, 2))], w)]
        [(4, 3), (1, 3)]
    """
    w = _check_weights(weights)
    outs = []
    for s in _check_sequences(sequences):
        out, _, _ = lstm_forward(s[None], **w)
        outs.append(out[0])
    return outs


def reference_final_states(sequences: Sequence[ArrayLike], weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """Final hidden state ``h`` of the reference LSTM on each sequence alone.

    This is what every correct way of batching (masking, packing) must give.
    A zero-length sequence keeps the initial state, zeros.

    Returns:
        float64 array ``(batch, units)``.

    Example:
        >>> from lessons_lib import random_lstm_weights
        >>> w = random_lstm_weights(2, 3, seed=0)
        >>> reference_final_states([np.ones((4, 2)), np.ones((0, 2))], w).shape
        (2, 3)
    """
    w = _check_weights(weights)
    states = []
    for s in _check_sequences(sequences):
        _, h, _ = lstm_forward(s[None], **w)
        states.append(h[0])
    return np.stack(states)


def bidirectional_reference(
    sequences: Sequence[ArrayLike], forward: Mapping[str, np.ndarray], backward: Mapping[str, np.ndarray]
) -> np.ndarray:
    """What a bidirectional LSTM should summarise each sequence to, without padding.

    The forward direction reads the sequence start to end; the backward one
    reads it end to start. Each row is ``concat(h_forward, h_backward)``, the
    two final states, as Keras ``Bidirectional`` concatenates them.

    Returns:
        float64 array ``(batch, 2 * units)``.

    Example:
        >>> from lessons_lib import random_lstm_weights
        >>> wf, wb = random_lstm_weights(2, 3, seed=0), random_lstm_weights(2, 3, seed=1)
        >>> bidirectional_reference([np.ones((4, 2))], wf, wb).shape
        (1, 6)
    """
    seqs = _check_sequences(sequences)
    h_fwd = reference_final_states(seqs, forward)
    h_bwd = reference_final_states([s[::-1] for s in seqs], backward)
    return np.concatenate([h_fwd, h_bwd], axis=1)


def packed_batch_sizes(lengths: ArrayLike) -> np.ndarray:
    """How many sequences are still running at each time step (PyTorch's ``batch_sizes``).

    A ``PackedSequence`` stores, for step ``t``, only the rows whose length
    exceeds ``t``; its ``batch_sizes`` holds those counts.

    Example:
        >>> packed_batch_sizes([3, 1, 2]).tolist()
        [3, 2, 1]
    """
    lengths = as_lengths(lengths)
    if lengths.size == 0 or lengths.max() == 0:
        return np.zeros(0, dtype=np.int64)
    return (lengths[None, :] > np.arange(lengths.max())[:, None]).sum(axis=1).astype(np.int64)


def row_steps(lengths: ArrayLike, maxlen: int | None = None) -> dict[str, int | float]:
    """Count the LSTM cell updates a padded and a packed batch need.

    A padded batch (masked or not) updates every row at every step:
    ``batch * maxlen``. A packed batch updates only real steps:
    ``sum(lengths)``.

    Returns:
        ``{"padded": int, "packed": int, "saved_fraction": float}``, where
        ``saved_fraction = 1 - packed / padded`` (0.0 for an empty batch).

    Example:
        >>> row_steps([4, 2, 2])
        {'padded': 12, 'packed': 8, 'saved_fraction': 0.3333}
    """
    lengths = as_lengths(lengths)
    maxlen = check_count("maxlen", maxlen, allow_none=True)
    longest = int(lengths.max()) if lengths.size else 0
    if maxlen is None:
        maxlen = longest
    elif maxlen < longest:
        raise ValueError(f"maxlen = {maxlen} is shorter than the longest length {longest}")
    padded = int(lengths.size * maxlen)
    packed = int(lengths.sum())
    saved = round(1 - packed / padded, 4) if padded else 0.0
    return {"padded": padded, "packed": packed, "saved_fraction": saved}


def safe_pack_lengths(lengths: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Make lengths acceptable to ``pack_padded_sequence``, which rejects zeros.

    Returns ``(clamped, keep)``: zero lengths raised to 1, and a bool
    ``keep`` that is False for rows that were empty. Zero those rows' final
    states (or drop them) after the LSTM: the one step they ran reads padding.

    Example:
        >>> clamped, keep = safe_pack_lengths([3, 0, 2])
        >>> clamped.tolist(), keep.tolist()
        ([3, 1, 2], [True, False, True])
    """
    lengths = as_lengths(lengths)
    keep = lengths > 0
    return np.where(keep, lengths, 1), keep
