"""Group sequences into batches, and measure how much of a batch is padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_lengths, check_count

__all__ = ["bucket_batches", "length_boundaries", "padding_fraction", "random_batches", "sorted_batches"]


def _split(order: np.ndarray, batch_size: int, drop_last: bool) -> list[np.ndarray]:
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


def random_batches(lengths: ArrayLike, batch_size: int, *, seed: int | None = None, drop_last: bool = False) -> list[np.ndarray]:
    """Shuffle all indices and cut them into batches (what a plain DataLoader does).

    Example:
        >>> [b.tolist() for b in random_batches([5, 1, 3], 2, seed=0)]
        [[2, 0], [1]]
    """
    lengths = as_lengths(lengths)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    order = np.random.default_rng(seed).permutation(len(lengths))
    return _split(order, batch_size, drop_last)


def sorted_batches(lengths: ArrayLike, batch_size: int, *, drop_last: bool = False) -> list[np.ndarray]:
    """Batches of the indices in length order: the least padding possible, no shuffling.

    The indices are sorted by length and cut into consecutive batches. When
    ``batch_size`` does not divide the number of sequences, the one short
    batch goes where it saves the most padding (at the short end, the long
    end, or in between; ties keep it last). So :func:`padding_fraction` of
    these batches is the minimum over all ways of cutting the data into
    batches of ``batch_size`` (plus one shorter batch): the lower bound that
    bucketing is measured against. With ``drop_last=True`` the short batch,
    holding the longest sequences, is dropped instead.

    Example:
        >>> [b.tolist() for b in sorted_batches([5, 1, 3], 2)]
        [[1, 2], [0]]
        >>> [b.tolist() for b in sorted_batches([1, 1, 1, 9, 1], 2)]  # the 9 gets the short batch
        [[0, 1], [2, 4], [3]]
    """
    lengths = as_lengths(lengths)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    order = np.argsort(lengths, kind="stable")
    n = len(order)
    n_full, rest = divmod(n, batch_size)
    if drop_last or rest == 0 or n_full == 0:
        return _split(order, batch_size, drop_last)
    ordered = lengths[order]
    # Padded steps with the short batch after k full batches (k = 0..n_full): the full batches
    # before it end at indices bs-1, 2bs-1, ...; those after it are shifted by `rest`.
    before = batch_size * np.concatenate([[0], np.cumsum(ordered[batch_size - 1 : n_full * batch_size : batch_size])])
    after_max = ordered[rest + batch_size - 1 :: batch_size]
    after = batch_size * np.concatenate([np.cumsum(after_max[::-1])[::-1], [0]])
    short = rest * ordered[np.arange(n_full + 1) * batch_size + rest - 1]
    cost = before + short + after
    k = n_full - int(np.argmin(cost[::-1]))  # the last minimum: keep the short batch late on ties
    cut = k * batch_size
    return _split(order[:cut], batch_size, False) + [order[cut : cut + rest]] + _split(order[cut + rest :], batch_size, False)


def bucket_batches(
    lengths: ArrayLike,
    batch_size: int,
    *,
    seed: int | None = None,
    bucket_size_multiplier: int = 400,
    drop_last: bool = False,
) -> list[np.ndarray]:
    """Length-bucketed batches, shuffled within and across buckets.

    The indices are shuffled, then cut into chunks of
    ``batch_size * bucket_size_multiplier``. Each chunk is sorted by length
    (ties broken randomly) and cut into batches, and the batches of all
    chunks are shuffled. Each index appears exactly once. Similar lengths end
    up together, so little padding is needed, yet batch contents and order
    change from epoch to epoch (pass a different ``seed`` per epoch).

    Args:
        lengths: ``(n,)`` non-negative ints.
        batch_size: sequences per batch, >= 1.
        seed: seed for the shuffles (``None``: fresh randomness).
        bucket_size_multiplier: batches per bucket; larger means closer to
            fully sorted batches, smaller means more randomness. The default,
            400, keeps 20,000 long-tailed lengths (1..500) within 1 percentage
            point of the sorted lower bound while no whole batch repeats between
            epochs (bench/RESULTS.md). Others pool less: torchtext's
            ``BucketIterator`` 100 x batch size (about 4 points above the
            bound there), fastai's ``SortishSampler`` 50 x batch size (about
            8 points). A bigger pool also brings the same neighbours back more
            often (:func:`lessons_lib.cost.pairs_together_again`).
        drop_last: drop a final short batch of each bucket.

    Returns:
        A list of int64 index arrays.

    Example:
        >>> batches = bucket_batches([5, 1, 3, 1, 5, 3], 2, seed=0)
        >>> sorted(i for b in batches for i in b.tolist())
        [0, 1, 2, 3, 4, 5]
    """
    lengths = as_lengths(lengths)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    bucket_size_multiplier = check_count("bucket_size_multiplier", bucket_size_multiplier, minimum=1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    chunk = batch_size * bucket_size_multiplier
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        idx = order[start : start + chunk]
        # idx is already in random order, so a stable sort breaks ties randomly.
        idx = idx[np.argsort(lengths[idx], kind="stable")]
        batches.extend(_split(idx, batch_size, drop_last))
    return [batches[i] for i in rng.permutation(len(batches))]


def padding_fraction(lengths: ArrayLike, batches: Sequence[ArrayLike] | None = None, *, maxlen: int | None = None) -> float:
    """Fraction of time steps that are padding when each batch is padded to its longest item.

    With ``batches=None`` the whole data set is one batch; ``maxlen`` pads every
    batch to one fixed length instead (it must be at least the longest length).

    Example:
        >>> round(padding_fraction([4, 2, 2, 0], [[0, 1], [2, 3]]), 4)
        0.3333
    """
    lengths = as_lengths(lengths)
    if batches is None:
        batches = [np.arange(len(lengths))]
    if maxlen is not None:
        maxlen = check_count("maxlen", maxlen)
        if lengths.size and lengths.max() > maxlen:
            i = int(np.argmax(lengths))
            raise ValueError(f"lengths[{i}] = {lengths[i]} is longer than maxlen = {maxlen}")
    real = padded = 0
    for j, b in enumerate(batches):
        b = np.asarray(b)
        if b.size and (not np.issubdtype(b.dtype, np.integer) or b.min() < 0 or b.max() >= len(lengths)):
            raise ValueError(f"batches[{j}] holds an index outside 0..{len(lengths) - 1}: {b.tolist()}")
        if b.size == 0:
            continue
        width = maxlen if maxlen is not None else int(lengths[b].max())
        real += int(lengths[b].sum())
        padded += width * len(b)
    return 0.0 if padded == 0 else 1.0 - real / padded


def length_boundaries(lengths: ArrayLike, n_buckets: int) -> list[int]:
    """Bucket boundaries at the length quantiles, for ``tf.data``'s ``bucket_by_sequence_length``.

    ``tf.data.Dataset.bucket_by_sequence_length`` puts a sequence of length
    ``n`` in the first bucket whose boundary is greater than ``n``. These
    boundaries split ``lengths`` into ``n_buckets`` groups of roughly equal
    size (fewer when many lengths are equal), so every bucket fills batches.

    Args:
        lengths: ``(n,)`` non-negative ints, at least one.
        n_buckets: how many buckets to aim for, >= 1 (1 gives no boundary).

    Returns:
        A sorted list of distinct ints (plain Python ints, as tf.data wants).

    Example:
        >>> length_boundaries([1, 2, 3, 4, 5, 6, 7, 8], 4)
        [3, 5, 7]
    """
    lengths = as_lengths(lengths)
    n_buckets = check_count("n_buckets", n_buckets, minimum=1)
    if lengths.size == 0:
        raise ValueError("lengths is empty: no quantiles to put boundaries at")
    q = np.quantile(lengths, np.arange(1, n_buckets) / n_buckets, method="lower")
    # A length equal to a quantile goes to the lower bucket, so the boundary is one above it.
    bounds = np.unique(q.astype(np.int64) + 1)
    return [int(b) for b in bounds if b <= lengths.max()]
