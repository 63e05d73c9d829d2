"""What padding costs, counted rather than timed.

Timings depend on the machine and on who else uses it; the quantities here do
not. They are the numbers lesson 07 and ``bench/`` draw conclusions from:

- :func:`padded_steps`: the time steps an LSTM runs over when each batch is
  padded to its longest item (or to one fixed ``maxlen``): the sum over
  batches of ``batch × max_len``. A Keras LSTM with a mask runs all of them:
  the mask only decides which results are kept.
- :func:`packed_steps`: the time steps a packed LSTM (PyTorch
  ``PackedSequence``) runs over: the sum of the lengths.
- :func:`sequential_steps`: the length of the chain of time steps that must
  run one after another (each batch's longest item, summed over batches):
  the latency term. Packing cuts the work, not this chain; bucketing cuts both.
- :func:`lstm_flops`: a floating-point-operation estimate for that many steps.
- :func:`batching_report`: padded steps and padding fraction of the four
  batching schemes side by side.
- :func:`long_tailed_lengths`: a seeded log-normal length distribution (a
  few very long sequences, many short ones), the case where padding hurts.
- :func:`pairs_together_again` and :func:`majority_label_share`: what
  bucketing does to the randomness of batches (do the same sequences meet
  again next epoch? are batches more label-homogeneous?).

Everything is NumPy only, deterministic, and never changes its inputs.

Example:
    >>> lengths = [5, 1, 2, 8]
    >>> padded_steps(lengths, [[0, 1], [2, 3]]), packed_steps(lengths)
    (26, 16)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_lengths, check_count
from .batching import bucket_batches, padding_fraction, random_batches, sorted_batches

__all__ = [
    "SCHEMES",
    "batching_report",
    "long_tailed_lengths",
    "median_seconds",
    "lstm_flops",
    "lstm_step_flops",
    "majority_label_share",
    "packed_steps",
    "padded_steps",
    "pairs_together_again",
    "same_batches",
    "sequential_steps",
]

#: The four batching schemes of :func:`batching_report`, in display order.
SCHEMES = ("global maxlen", "random batches", "bucketed", "sorted")


def _check_batches(lengths: np.ndarray, batches: Sequence[ArrayLike]) -> list[np.ndarray]:
    out = []
    for j, b in enumerate(batches):
        b = np.asarray(b)
        if b.ndim != 1:
            raise ValueError(f"batches[{j}] must be a 1-D array of indices, got shape {b.shape}")
        if b.size and (not np.issubdtype(b.dtype, np.integer) or b.min() < 0 or b.max() >= len(lengths)):
            raise ValueError(f"batches[{j}] holds an index outside 0..{len(lengths) - 1}: {b.tolist()}")
        out.append(b)
    return out


def padded_steps(lengths: ArrayLike, batches: Sequence[ArrayLike] | None = None, *, maxlen: int | None = None) -> int:
    """Time steps processed when every batch is padded: ``sum(len(b) * width)``.

    Args:
        lengths: ``(n,)`` non-negative ints.
        batches: index arrays into ``lengths``; ``None`` means one batch of all.
        maxlen: pad every batch to this fixed width (at least the longest
            length) instead of to its own longest item.

    Returns:
        An int: the number of (sequence, time step) cells an LSTM steps
        through, padding included. Masking does not lower it.

    Example:
        >>> padded_steps([5, 1, 2, 8], [[0, 1], [2, 3]])  # 2*5 + 2*8
        26
        >>> padded_steps([5, 1, 2, 8], maxlen=10)
        40
    """
    lengths = as_lengths(lengths)
    if maxlen is not None:
        maxlen = check_count("maxlen", maxlen)
        if lengths.size and lengths.max() > maxlen:
            i = int(np.argmax(lengths))
            raise ValueError(f"lengths[{i}] = {lengths[i]} is longer than maxlen = {maxlen}")
    batches = [np.arange(len(lengths))] if batches is None else _check_batches(lengths, batches)
    total = 0
    for b in batches:
        if b.size:
            width = maxlen if maxlen is not None else int(lengths[b].max())
            total += width * len(b)
    return total


def packed_steps(lengths: ArrayLike) -> int:
    """Time steps processed by a packed LSTM: the sum of the lengths.

    A ``PackedSequence`` runs step ``t`` only for the sequences still alive
    at ``t``, so however the data is batched the total is ``sum(lengths)``.

    Example:
        >>> packed_steps([5, 1, 2, 8])
        16
    """
    return int(as_lengths(lengths).sum())


def sequential_steps(lengths: ArrayLike, batches: Sequence[ArrayLike] | None = None) -> int:
    """Time steps that run one after another: the sum over batches of the batch's longest length.

    An LSTM cannot compute step ``t`` before step ``t - 1``, so each batch is a
    chain of ``max_len`` dependent steps, padded or packed alike: packing makes
    each step cheaper (fewer rows), not the chain shorter. Each step has a fixed
    cost (kernel launches, Python and framework overhead), so on small layers
    this count, not the work, sets the time. Bucketing shortens the chains of all
    batches but the ones holding the longest sequences.

    Example:
        >>> sequential_steps([5, 1, 2, 8], [[0, 1], [2, 3]])  # 5 + 8
        13
        >>> sequential_steps([5, 1, 2, 8])  # one batch: its max_len
        8
    """
    lengths = as_lengths(lengths)
    batches = [np.arange(len(lengths))] if batches is None else _check_batches(lengths, batches)
    return int(sum(int(lengths[b].max()) for b in batches if b.size))


def lstm_step_flops(n_features: int, units: int) -> int:
    """Estimated forward FLOPs of one LSTM time step for one sequence.

    Counts the two matrix products ``x @ W`` and ``h @ U`` for the four
    gates as one multiply and one add each (``2 * 4u * (n_features + u)``),
    the bias add (``4u``), the five nonlinearities (three sigmoids, two tanh)
    as one operation per value (``5u``) and the state update
    ``c = f*c + i*g; h = o*tanh(c)`` (``4u``). The matrix products dominate.

    Example:
        >>> lstm_step_flops(1, 1)
        29
    """
    n_features = check_count("n_features", n_features, minimum=1)
    units = check_count("units", units, minimum=1)
    return 8 * units * (n_features + units) + 4 * units + 5 * units + 4 * units


def lstm_flops(steps: int, n_features: int, units: int, *, backward: bool = False) -> int:
    """Estimated FLOPs of an LSTM over ``steps`` (sequence, time step) cells.

    Args:
        steps: from :func:`padded_steps` or :func:`packed_steps`.
        n_features: input size.
        units: hidden size.
        backward: include the backward pass, counted as twice the forward
            (the usual rule of thumb: gradients for inputs and for weights).

    Example:
        >>> lstm_flops(10, 1, 1), lstm_flops(10, 1, 1, backward=True)
        (290, 870)
    """
    steps = check_count("steps", steps)
    per_step = lstm_step_flops(n_features, units)
    return steps * per_step * (3 if backward else 1)


def same_batches(a: Sequence[ArrayLike], b: Sequence[ArrayLike]) -> int:
    """How many batches of ``a`` also occur in ``b`` with exactly the same members.

    A measure of shuffling: sorted batches repeat every epoch (all of them
    are the same), well shuffled ones almost never do.

    Example:
        >>> same_batches([[0, 1], [2, 3]], [[1, 0], [2, 4]])
        1
    """
    seen = {frozenset(np.asarray(x).tolist()) for x in b}
    return sum(frozenset(np.asarray(x).tolist()) in seen for x in a)


def _batch_ids(batches: Sequence[ArrayLike], name: str) -> dict[int, int]:
    """index -> position of its batch; every index at most once."""
    where: dict[int, int] = {}
    for j, b in enumerate(batches):
        arr = np.asarray(b)
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"{name}[{j}] must be a 1-D array of integer indices, got {arr.tolist()!r}")
        for i in arr.tolist():
            if i < 0:
                raise ValueError(f"{name}[{j}] holds a negative index: {i}")
            if i in where:
                raise ValueError(f"{name}[{j}] repeats index {i} (already in {name}[{where[i]}])")
            where[i] = j
    return where


def pairs_together_again(a: Sequence[ArrayLike], b: Sequence[ArrayLike]) -> float:
    """Share of the pairs batched together in epoch ``a`` that are batched together again in ``b``.

    A measure of how much shuffling survives bucketing: count every pair of
    indices that share a batch in ``a``, and the fraction of them that also
    share a batch in ``b``. Sorted batches give 1.0 (the same neighbours every
    epoch); random batches give about ``(batch_size - 1) / (n - 1)``.
    Indices of ``a`` missing from ``b`` count as not together.

    Args:
        a, b: two epochs' batches, each a list of 1-D integer index arrays in
            which every index occurs at most once.

    Returns:
        A float in 0..1; ``nan`` when ``a`` has no batch of two or more.

    Example:
        >>> pairs_together_again([[0, 1], [2, 3]], [[1, 0], [2, 4], [3]])  # (0, 1) again, (2, 3) not
        0.5
    """
    where_b = _batch_ids(b, "b")
    _batch_ids(a, "a")  # validates a
    pairs = again = 0
    for batch in a:
        members = np.asarray(batch).tolist()
        pairs += len(members) * (len(members) - 1) // 2
        _, counts = np.unique([where_b.get(i, -1 - k) for k, i in enumerate(members)], return_counts=True)
        again += int((counts * (counts - 1) // 2).sum())
    return float("nan") if pairs == 0 else again / pairs


def majority_label_share(labels: ArrayLike, batches: Sequence[ArrayLike]) -> float:
    """Mean over batches of the share of the batch that carries the batch's most common label.

    1.0 means every batch holds one class; for random batches of ``k``
    balanced classes it is a little above ``1 / k``. Bucketing by length
    raises it when length correlates with the label (Japanese Vowels: the
    speaker), which makes the gradient of one batch less representative.

    Args:
        labels: ``(n,)`` integer class labels.
        batches: index arrays into ``labels``.

    Example:
        >>> majority_label_share([0, 0, 1, 1], [[0, 1], [2, 3]]), majority_label_share([0, 0, 1, 1], [[0, 2], [1, 3]])
        (1.0, 0.5)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise TypeError(f"labels must be a 1-D array of integer class labels, got dtype {labels.dtype}, shape {labels.shape}")
    checked = _check_batches(labels, batches)
    shares = [np.unique(labels[b], return_counts=True)[1].max() / len(b) for b in checked if b.size]
    if not shares:
        raise ValueError("batches holds no non-empty batch")
    return float(np.mean(shares))


def batching_report(
    lengths: ArrayLike,
    batch_size: int,
    *,
    seed: int = 0,
    maxlen: int | None = None,
    bucket_size_multiplier: int | None = None,
) -> dict[str, dict[str, float]]:
    """Padding under the four batching schemes, for one epoch.

    Schemes (keys of the result, in the order of :data:`SCHEMES`):
    ``"global maxlen"`` pads everything to ``maxlen`` (default: the longest
    length); ``"random batches"`` pads each shuffled batch to its longest item;
    ``"bucketed"`` uses :func:`~lessons_lib.bucket_batches` (with its own
    default pool unless ``bucket_size_multiplier`` is given);
    ``"sorted"`` uses :func:`~lessons_lib.sorted_batches`, the lower bound.

    Returns:
        ``{scheme: {"padded_steps": int, "real_steps": int, "padding_fraction": float}}``.

    Example:
        >>> r = batching_report([1, 9, 2, 8], 2, seed=0)
        >>> r["global maxlen"]["padded_steps"], r["sorted"]["padded_steps"]
        (36, 22)
    """
    lengths = as_lengths(lengths)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    everything = [np.arange(len(lengths))]
    plans = {
        "global maxlen": (everything, maxlen),
        "random batches": (random_batches(lengths, batch_size, seed=seed), None),
        "bucketed": (
            bucket_batches(
                lengths,
                batch_size,
                seed=seed,
                **({} if bucket_size_multiplier is None else {"bucket_size_multiplier": bucket_size_multiplier}),
            ),
            None,
        ),
        "sorted": (sorted_batches(lengths, batch_size), None),
    }
    real = packed_steps(lengths)
    report = {}
    for name, (batches, width) in plans.items():
        report[name] = {
            "padded_steps": padded_steps(lengths, batches, maxlen=width),
            "real_steps": real,
            "padding_fraction": padding_fraction(lengths, batches, maxlen=width),
        }
    return report


def long_tailed_lengths(n: int, *, low: int = 1, high: int = 500, median: float = 40.0, sigma: float = 0.9, seed: int = 0) -> np.ndarray:
    """``n`` log-normal lengths, rounded and clipped to ``[low, high]``.

    Most sequences are near ``median``, a few are many times longer: the
    shape of real text, speech and click-stream lengths, and the case where
    one global ``maxlen`` wastes most of the compute.

    Example:
        >>> long_tailed_lengths(5, seed=0).tolist()
        [45, 36, 71, 44, 25]
    """
    n = check_count("n", n)
    low = check_count("low", low)
    high = check_count("high", high, minimum=max(low, 1))
    if not (median > 0 and sigma >= 0):
        raise ValueError(f"median must be > 0 and sigma >= 0, got median={median!r}, sigma={sigma!r}")
    raw = np.random.default_rng(seed).lognormal(np.log(median), sigma, size=n)
    return np.clip(np.round(raw), low, high).astype(np.int64)


def median_seconds(fn: Callable[[], object], repeats: int = 5, *, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``repeats`` calls of ``fn``, after ``warmup`` untimed calls.

    A timing is a measurement of one machine at one moment: print it in a
    cell tagged ``nbval-ignore-output`` and draw conclusions from counts
    (:func:`padded_steps`, :func:`packed_steps`), never from the timing.

    Example:
        >>> median_seconds(lambda: sum(range(10)), repeats=3) >= 0
        True
    """
    repeats = check_count("repeats", repeats, minimum=1)
    warmup = check_count("warmup", warmup)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
