"""What padding does to an LSTM, measured with the NumPy reference LSTM.

Pure functions behind lesson 01's demonstrations and widget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import ArrayLike

from ._validate import check_count, check_side
from .masks import sequence_mask
from .padding import pad_sequences
from .reference_lstm import lstm_forward

__all__ = ["final_state_vs_reference", "numeric_input_gradient"]


def final_state_vs_reference(
    sequence: ArrayLike,
    weights: Mapping[str, np.ndarray],
    pad_amount: int,
    padding: str = "post",
    use_mask: bool = True,
) -> dict:
    """Pad one ``(time, features)`` sequence with zeros and compare its final h.

    The reference is the LSTM run on the sequence alone, without padding.

    Returns:
        ``{"reference": (u,), "padded": (u,), "max_abs_diff": float,
        "padded_length": int, "padding": str, "use_mask": bool}``

    Example:
        >>> from lessons_lib.reference_lstm import random_lstm_weights
        >>> w = random_lstm_weights(2, 3, seed=0)
        >>> r = final_state_vs_reference(np.ones((4, 2)), w, pad_amount=3, use_mask=True)
        >>> r["max_abs_diff"] < 1e-12
        True
    """
    seq = np.asarray(sequence, dtype=np.float64)
    if seq.ndim != 2:
        raise ValueError(f"sequence must be 2-D (time, features), got shape {seq.shape}")
    pad_amount = check_count("pad_amount", pad_amount)
    check_side("padding", padding)
    length = seq.shape[0]
    padded = pad_sequences([seq], length + pad_amount, padding=padding, value=0.0)
    mask = sequence_mask([length], length + pad_amount, padding=padding) if use_mask else None
    _, h_ref, _ = lstm_forward(seq[None], **weights)
    _, h_pad, _ = lstm_forward(padded, **weights, mask=mask)
    return {
        "reference": h_ref[0],
        "padded": h_pad[0],
        "max_abs_diff": float(np.abs(h_ref[0] - h_pad[0]).max()),
        "padded_length": length + pad_amount,
        "padding": padding,
        "use_mask": bool(use_mask),
    }


def numeric_input_gradient(loss: Callable[[np.ndarray], float], x: ArrayLike, eps: float = 1e-6) -> np.ndarray:
    """Central finite-difference gradient of a scalar ``loss(x)`` w.r.t. every entry of ``x``.

    Slow (two calls per entry): meant for small teaching examples.

    Example:
        >>> g = numeric_input_gradient(lambda a: float((a ** 2).sum()), np.array([1.0, -2.0]))
        >>> np.round(g, 6).tolist()
        [2.0, -4.0]
    """
    x = np.array(x, dtype=np.float64)  # a copy: we perturb it
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = loss(x)
        x[idx] = old - eps
        down = loss(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad
