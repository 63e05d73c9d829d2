"""Batch planners (random, sorted, bucketed), padding_fraction and length_boundaries."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessons_lib as ll
from lessons_lib.batching import length_boundaries

lengths_st = st.lists(st.integers(0, 60), min_size=0, max_size=80)


def _flat(batches):
    return sorted(int(i) for b in batches for i in np.asarray(b).tolist())


# -- every index exactly once per epoch ------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(lengths=lengths_st, batch_size=st.integers(1, 9), seed=st.integers(0, 2**31), mult=st.integers(1, 6))
def test_bucket_batches_cover_every_index_once(lengths, batch_size, seed, mult):
    batches = ll.bucket_batches(lengths, batch_size, seed=seed, bucket_size_multiplier=mult)
    assert _flat(batches) == list(range(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches)
    assert all(b.dtype == np.int64 for b in batches)


@settings(max_examples=40, deadline=None)
@given(lengths=lengths_st, batch_size=st.integers(1, 9), seed=st.integers(0, 2**31))
def test_random_and_sorted_batches_cover_every_index_once(lengths, batch_size, seed):
    assert _flat(ll.random_batches(lengths, batch_size, seed=seed)) == list(range(len(lengths)))
    assert _flat(ll.sorted_batches(lengths, batch_size)) == list(range(len(lengths)))


@settings(max_examples=40, deadline=None)
@given(lengths=lengths_st, batch_size=st.integers(1, 9), seed=st.integers(0, 2**31), mult=st.integers(1, 6))
def test_drop_last_keeps_only_full_batches_and_no_index_twice(lengths, batch_size, seed, mult):
    for batches in (
        ll.bucket_batches(lengths, batch_size, seed=seed, bucket_size_multiplier=mult, drop_last=True),
        ll.random_batches(lengths, batch_size, seed=seed, drop_last=True),
        ll.sorted_batches(lengths, batch_size, drop_last=True),
    ):
        flat = _flat(batches)
        assert len(flat) == len(set(flat))
        assert all(len(b) == batch_size for b in batches)


def test_sorted_batches_are_in_length_order():
    lengths = np.array([5, 1, 3, 9, 2, 7])
    batches = ll.sorted_batches(lengths, 2)
    assert [lengths[b].tolist() for b in batches] == [[1, 2], [3, 5], [7, 9]]


def test_empty_lengths_give_no_batches():
    assert ll.bucket_batches([], 4, seed=0) == []
    assert ll.random_batches([], 4, seed=0) == []
    assert ll.sorted_batches([], 4) == []


# -- shuffling ---------------------------------------------------------------------------------


def test_bucket_batches_different_seeds_give_different_orders():
    lengths = ll.random_lengths(500, 1, 50, seed=0)
    a = ll.bucket_batches(lengths, 16, seed=0)
    b = ll.bucket_batches(lengths, 16, seed=1)
    assert len(a) == len(b)
    assert not all(np.array_equal(x, y) for x, y in zip(a, b))
    # not just the order of batches: their members change too
    assert {frozenset(x.tolist()) for x in a} != {frozenset(y.tolist()) for y in b}


def test_random_batches_different_seeds_give_different_orders():
    lengths = ll.random_lengths(100, 1, 50, seed=0)
    a, b = ll.random_batches(lengths, 8, seed=0), ll.random_batches(lengths, 8, seed=1)
    assert not all(np.array_equal(x, y) for x, y in zip(a, b))


def test_same_seed_gives_same_batches():
    lengths = ll.random_lengths(300, 1, 50, seed=2)
    a, b = ll.bucket_batches(lengths, 8, seed=7), ll.bucket_batches(lengths, 8, seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_bucketed_batches_hold_similar_lengths():
    lengths = ll.random_lengths(2000, 1, 200, seed=3)
    bucketed = ll.padding_fraction(lengths, ll.bucket_batches(lengths, 32, seed=0))
    random = ll.padding_fraction(lengths, ll.random_batches(lengths, 32, seed=0))
    assert bucketed < 0.1 < 0.4 < random


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 40), min_size=1, max_size=60), batch_size=st.integers(1, 7), seed=st.integers(0, 99))
def test_one_pool_for_everything_reaches_the_sorted_bound(lengths, batch_size, seed):
    # With a pool as large as the data, bucketing is a sort with random tie-breaking: when the
    # batch size divides n, the batch boundaries fall at the same places in length order, so the
    # padding is the bound. Otherwise the short batch may sit elsewhere, never below the bound.
    mult = len(lengths) // batch_size + 1
    bucketed = ll.padding_fraction(lengths, ll.bucket_batches(lengths, batch_size, seed=seed, bucket_size_multiplier=mult))
    bound = ll.padding_fraction(lengths, ll.sorted_batches(lengths, batch_size))
    assert bucketed >= bound - 1e-12
    if len(lengths) % batch_size == 0:
        assert bucketed == pytest.approx(bound)


def _brute_force_min_padded_steps(lengths, batch_size):
    """Fewest padded steps over every assignment to batches of batch_size plus one short batch."""
    n = len(lengths)
    n_full, rest = divmod(n, batch_size)
    best = None
    for perm in itertools.permutations(range(n)):
        for k in range(n_full + 1) if rest else [n_full]:
            cut = k * batch_size
            groups = [perm[i : i + batch_size] for i in range(0, cut, batch_size)]
            groups += [perm[cut : cut + rest]] if rest else []
            groups += [perm[i : i + batch_size] for i in range(cut + rest, n, batch_size)]
            steps = sum(len(g) * max(lengths[i] for i in g) for g in groups if g)
            best = steps if best is None else min(best, steps)
    return best


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.integers(0, 12), min_size=1, max_size=6), batch_size=st.integers(1, 4))
def test_sorted_batches_are_the_lower_bound(lengths, batch_size):
    batches = ll.sorted_batches(lengths, batch_size)
    assert _flat(batches) == list(range(len(lengths)))
    assert sorted(len(b) for b in batches)[1:] == [batch_size] * (len(batches) - 1)
    steps = sum(len(b) * max(lengths[i] for i in b.tolist()) for b in batches)
    assert steps == _brute_force_min_padded_steps(lengths, batch_size)


def test_sorted_batches_put_the_short_batch_where_it_saves_most():
    # 5 sequences, batch 2: the lone 9 gets the short batch (2+2+9 = 13 steps, not 2+18 = 20)
    assert [b.tolist() for b in ll.sorted_batches([1, 1, 1, 9, 1], 2)] == [[0, 1], [2, 4], [3]]
    # a tie keeps the short batch last
    assert [b.tolist() for b in ll.sorted_batches([5, 1, 3], 2)] == [[1, 2], [0]]
    # drop_last drops the longest sequences' short batch
    assert [b.tolist() for b in ll.sorted_batches([1, 1, 1, 9, 1], 2, drop_last=True)] == [[0, 1], [2, 4]]


# -- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [ll.bucket_batches, ll.random_batches, ll.sorted_batches])
@pytest.mark.parametrize("bad", [0, -3])
def test_batch_size_below_one_is_rejected(fn, bad):
    with pytest.raises(ValueError, match=rf"batch_size must be >= 1, got {bad}"):
        fn([1, 2, 3], bad)


@pytest.mark.parametrize("fn", [ll.bucket_batches, ll.random_batches, ll.sorted_batches])
@pytest.mark.parametrize("bad", [2.0, True, "4", None])
def test_batch_size_must_be_an_int(fn, bad):
    with pytest.raises(TypeError, match="batch_size must be an int"):
        fn([1, 2, 3], bad)


@pytest.mark.parametrize("fn", [ll.bucket_batches, ll.random_batches, ll.sorted_batches])
def test_negative_lengths_are_rejected_with_their_index(fn):
    with pytest.raises(ValueError, match=r"lengths must be >= 0, got -2 at index 1"):
        fn([3, -2, 4], 2)


@pytest.mark.parametrize("bad", [[1.5, 2], ["a", "b"], [True, False]])
def test_non_integer_lengths_are_rejected(bad):
    with pytest.raises(TypeError, match="lengths must hold integers"):
        ll.bucket_batches(bad, 2)


def test_two_dimensional_lengths_are_rejected():
    with pytest.raises(ValueError, match=r"lengths must be 1-D, got shape \(2, 2\)"):
        ll.bucket_batches([[1, 2], [3, 4]], 2)


@pytest.mark.parametrize("bad", [0, -1])
def test_bucket_size_multiplier_below_one_is_rejected(bad):
    with pytest.raises(ValueError, match=rf"bucket_size_multiplier must be >= 1, got {bad}"):
        ll.bucket_batches([1, 2, 3], 2, bucket_size_multiplier=bad)


def test_inputs_are_not_changed():
    lengths = np.array([4, 1, 3, 2, 5])
    before = lengths.copy()
    ll.bucket_batches(lengths, 2, seed=0)
    ll.random_batches(lengths, 2, seed=0)
    ll.sorted_batches(lengths, 2)
    batches = [np.array([0, 1]), np.array([2, 3, 4])]
    ll.padding_fraction(lengths, batches)
    length_boundaries(lengths, 3)
    assert np.array_equal(lengths, before)
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3, 4]]


# -- padding_fraction --------------------------------------------------------------------------


def test_padding_fraction_by_hand():
    # batches padded to 3 and 9: 2*3 + 2*9 = 24 cells, 1+3+9+2 = 15 real
    assert ll.padding_fraction([1, 3, 9, 2], [[0, 1], [2, 3]]) == pytest.approx(1 - 15 / 24)
    # one batch of everything, padded to 9
    assert ll.padding_fraction([1, 3, 9, 2]) == pytest.approx(1 - 15 / 36)
    # fixed maxlen
    assert ll.padding_fraction([1, 3, 9, 2], [[0, 1], [2, 3]], maxlen=10) == pytest.approx(1 - 15 / 40)


def test_padding_fraction_is_zero_for_equal_lengths_and_empty_input():
    assert ll.padding_fraction([4, 4, 4], [[0, 1], [2]]) == 0.0
    assert ll.padding_fraction([], []) == 0.0
    assert ll.padding_fraction([0, 0]) == 0.0


def test_padding_fraction_rejects_bad_batches_and_maxlen():
    with pytest.raises(ValueError, match=r"batches\[1\] holds an index outside 0..2: \[3\]"):
        ll.padding_fraction([1, 2, 3], [[0], [3]])
    with pytest.raises(ValueError, match=r"lengths\[2\] = 9 is longer than maxlen = 5"):
        ll.padding_fraction([1, 2, 9], maxlen=5)
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        ll.padding_fraction([1, -1])


# -- length_boundaries -------------------------------------------------------------------------


def test_length_boundaries_split_into_roughly_equal_buckets():
    lengths = ll.random_lengths(1000, 1, 300, seed=0)
    bounds = length_boundaries(lengths, 5)
    assert bounds == sorted(set(bounds)) and all(isinstance(b, int) for b in bounds)
    # tf.data semantics: bucket i holds bounds[i-1] <= length < bounds[i]
    counts = np.bincount(np.searchsorted(bounds, lengths, side="right"), minlength=len(bounds) + 1)
    assert len(counts) == 5 and counts.min() > 150


def test_length_boundaries_with_equal_lengths_and_one_bucket():
    assert length_boundaries([5, 5, 5], 4) == []
    assert length_boundaries([1, 2, 3], 1) == []


def test_length_boundaries_bad_arguments():
    with pytest.raises(ValueError, match="n_buckets must be >= 1, got 0"):
        length_boundaries([1, 2], 0)
    with pytest.raises(ValueError, match="lengths is empty"):
        length_boundaries([], 3)
