"""tf.data: ``padded_batch`` vs ``bucket_by_sequence_length``, the Keras-side answer to bucketing.

Both pipelines shuffle the whole data set first (seeded), then batch. The
padding fraction is counted from the shapes of the batches the pipeline
actually yields; the time is one full pass over the pipeline, iterated
eagerly from Python (median [min-max]), so it compares the pipelines with one
another, not with a NumPy planner.
"""

from __future__ import annotations

import numpy as np

import _common
import lessons_lib as ll
from _common import Section
from lessons_lib import cost
from lessons_lib.batching import length_boundaries

BATCH_SIZE = 32


def make_dataset(lengths: np.ndarray, seed: int = 0):
    """A tf.data.Dataset of int32 token-id sequences (one 1-D tensor per element)."""
    import tensorflow as tf

    seqs = ll.random_token_sequences(lengths, 1000, seed=seed)
    flat = tf.constant(np.concatenate(seqs).astype(np.int32))
    starts = np.cumsum(lengths) - lengths
    return tf.data.Dataset.from_tensor_slices((starts, lengths)).map(lambda s, n: flat[s : s + n])


def pipelines(ds, lengths: np.ndarray, seed: int = 0) -> dict:
    import tensorflow as tf

    n = len(lengths)
    shuffled = ds.shuffle(n, seed=seed, reshuffle_each_iteration=False)
    found = {"padded_batch(32)": shuffled.padded_batch(BATCH_SIZE)}
    for k in (5, 10, 20):
        bounds = length_boundaries(lengths, k)
        found[f"bucket_by_sequence_length, {len(bounds) + 1} buckets"] = shuffled.bucket_by_sequence_length(
            lambda x: tf.shape(x)[0], bucket_boundaries=bounds, bucket_batch_sizes=[BATCH_SIZE] * (len(bounds) + 1)
        )
    return found


def padding_of(pipeline) -> tuple[float, int, int]:
    """(padding fraction, number of batches, real steps) counted from the yielded batches."""
    padded = real = batches = 0
    for b in pipeline:
        b = b.numpy()
        padded += b.size
        real += int((b != 0).sum())  # token ids are >= 1, so 0 is exactly the padding
        batches += 1
    return 1.0 - real / padded, batches, real


def run(quick: bool = False) -> list[Section]:
    n = 500 if quick else 5_000
    lengths = cost.long_tailed_lengths(n, seed=0)
    ds = make_dataset(lengths)
    sec = Section(
        f"tf.data pipelines on {n} long-tailed sequences (batch size {BATCH_SIZE})",
        "Padding fraction counted from the batches each pipeline yields, and the time of one pass "
        "(CPU, 1 thread, iterated eagerly in Python, median [min-max] of 5 repeats). "
        "Boundaries from `lessons_lib.batching.length_boundaries` (length quantiles).",
        ["pipeline", "batches", "padding fraction", "one pass (eager)"],
    )
    for name, pipeline in pipelines(ds, lengths).items():
        frac, batches, real = padding_of(pipeline)
        assert real == cost.packed_steps(lengths), name  # every sequence came through exactly once
        t = _common.timing(lambda: sum(1 for _ in pipeline), 5)
        sec.rows.append([f"`{name}`", batches, f"{frac:.4f}", t.ms()])
        sec.data[name] = {"padding_fraction": frac, "batches": batches, "seconds": t.median, "spread_s": t.json()}
    for name, batches in {
        "ll.bucket_batches (reference)": ll.bucket_batches(lengths, BATCH_SIZE, seed=0),
        "ll.sorted_batches (lower bound)": ll.sorted_batches(lengths, BATCH_SIZE),
    }.items():
        sec.rows.append([name, len(batches), f"{ll.padding_fraction(lengths, batches):.4f}", "-"])
    sec.notes.append(
        "`bucket_by_sequence_length` pads each batch to its own longest item (unless "
        "`pad_to_bucket_boundary=True`), so narrower buckets give less padding; each bucket "
        "flushes a short last batch, hence a few more batches."
    )
    return [sec]
