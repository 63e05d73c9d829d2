"""Seeded synthetic ragged data for demonstrations and tests."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_lengths, check_count

__all__ = ["random_lengths", "random_ragged_batch", "random_token_sequences"]


def random_lengths(n: int, low: int = 1, high: int = 10, *, seed: int = 0) -> np.ndarray:
    """``n`` integer lengths drawn uniformly from ``[low, high]`` (inclusive).

    Example:
        >>> random_lengths(3, 2, 5, seed=1).tolist()
        [3, 4, 5]
    """
    check_count("n", n)
    check_count("low", low)
    check_count("high", high, minimum=low)
    return np.random.default_rng(seed).integers(low, high + 1, size=n)


def random_ragged_batch(lengths: ArrayLike, n_features: int, *, seed: int = 0) -> list[np.ndarray]:
    """One float32 ``(length, n_features)`` array per length, standard normal.

    Example:
        >>> [a.shape for a in random_ragged_batch([3, 1], 2)]
        [(3, 2), (1, 2)]
    """
    lengths = as_lengths(lengths)
    check_count("n_features", n_features, minimum=1)
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((int(n), n_features)).astype(np.float32) for n in lengths]


def random_token_sequences(lengths: ArrayLike, vocab_size: int, *, seed: int = 0) -> list[np.ndarray]:
    """Token-id sequences with ids in ``1 .. vocab_size - 1`` (0 is kept for padding).

    Example:
        >>> [s.tolist() for s in random_token_sequences([3, 1], 10, seed=0)]
        [[8, 6, 5], [3]]
    """
    lengths = as_lengths(lengths)
    check_count("vocab_size", vocab_size, minimum=2)
    rng = np.random.default_rng(seed)
    return [rng.integers(1, vocab_size, size=int(n)) for n in lengths]
