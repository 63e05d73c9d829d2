"""lessons_lib.cost: step counts, FLOP estimates, the batching report, and lesson 07's checkers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessons_lib as ll
from lessons_lib import cost
from lessons_lib.checks import lesson07


# -- padded_steps / packed_steps ---------------------------------------------------------------


def test_padded_and_packed_steps_by_hand():
    lengths = [5, 1, 2, 8]
    assert cost.padded_steps(lengths, [[0, 1], [2, 3]]) == 2 * 5 + 2 * 8
    assert cost.padded_steps(lengths) == 4 * 8
    assert cost.padded_steps(lengths, [[0, 1], [2, 3]], maxlen=10) == 40
    assert cost.padded_steps(lengths, [[0], [], [1, 2, 3]]) == 5 + 3 * 8
    assert cost.packed_steps(lengths) == 16
    assert cost.padded_steps([], []) == 0 and cost.packed_steps([]) == 0


@settings(max_examples=50, deadline=None)
@given(lengths=st.lists(st.integers(0, 50), min_size=1, max_size=60), batch_size=st.integers(1, 8), seed=st.integers(0, 99))
def test_counts_agree_with_padding_fraction(lengths, batch_size, seed):
    batches = ll.random_batches(lengths, batch_size, seed=seed)
    padded, packed = cost.padded_steps(lengths, batches), cost.packed_steps(lengths)
    assert packed <= padded <= len(lengths) * max(lengths)
    expected = 0.0 if padded == 0 else 1 - packed / padded
    assert ll.padding_fraction(lengths, batches) == pytest.approx(expected)
    # packed steps do not depend on the batching; sorted batches need the fewest padded steps
    assert cost.padded_steps(lengths, ll.sorted_batches(lengths, batch_size)) <= padded


def test_padded_steps_rejects_bad_input():
    with pytest.raises(ValueError, match=r"lengths\[2\] = 9 is longer than maxlen = 5"):
        cost.padded_steps([1, 2, 9], maxlen=5)
    with pytest.raises(ValueError, match=r"batches\[1\] holds an index outside 0..2: \[5\]"):
        cost.padded_steps([1, 2, 3], [[0], [5]])
    with pytest.raises(ValueError, match=r"batches\[0\] must be a 1-D array of indices, got shape \(1, 2\)"):
        cost.padded_steps([1, 2, 3], [[[0, 1]]])
    with pytest.raises(ValueError, match="lengths must be >= 0, got -1 at index 0"):
        cost.packed_steps([-1, 2])
    with pytest.raises(TypeError, match="maxlen must be an int"):
        cost.padded_steps([1, 2], maxlen=2.5)


# -- FLOP estimates ----------------------------------------------------------------------------


def test_lstm_step_flops_formula():
    # 8u(f+u) for the two matrix products of 4 gates, 4u bias, 5u nonlinearities, 4u state update
    assert cost.lstm_step_flops(16, 32) == 8 * 32 * (16 + 32) + 13 * 32
    assert cost.lstm_step_flops(1, 1) == 29


def test_lstm_flops_scales_with_steps_and_backward():
    one = cost.lstm_flops(1, 12, 8)
    assert cost.lstm_flops(100, 12, 8) == 100 * one
    assert cost.lstm_flops(100, 12, 8, backward=True) == 3 * 100 * one
    assert cost.lstm_flops(0, 12, 8) == 0


@pytest.mark.parametrize("name, args", [("n_features", (0, 4)), ("units", (4, 0))])
def test_flops_reject_sizes_below_one(name, args):
    with pytest.raises(ValueError, match=rf"{name} must be >= 1, got 0"):
        cost.lstm_step_flops(*args)


def test_flops_reject_non_integer_arguments():
    with pytest.raises(TypeError, match="units must be an int, got 2.5"):
        cost.lstm_step_flops(3, 2.5)
    with pytest.raises(ValueError, match="steps must be >= 0, got -1"):
        cost.lstm_flops(-1, 3, 2)


# -- batching_report -----------------------------------------------------------------------------


def test_batching_report_orders_the_schemes():
    lengths = cost.long_tailed_lengths(3000, seed=0)
    report = cost.batching_report(lengths, 32, seed=0)
    assert tuple(report) == cost.SCHEMES
    fractions = [report[s]["padding_fraction"] for s in cost.SCHEMES]
    assert fractions[0] > fractions[1] > fractions[2] >= fractions[3] > 0
    assert {r["real_steps"] for r in report.values()} == {int(lengths.sum())}
    assert report["global maxlen"]["padded_steps"] == len(lengths) * int(lengths.max())
    for r in report.values():
        assert r["padding_fraction"] == pytest.approx(1 - r["real_steps"] / r["padded_steps"])


def test_batching_report_uses_the_given_maxlen_and_multiplier():
    lengths = [3, 1, 4, 1, 5, 9, 2, 6]
    report = cost.batching_report(lengths, 2, maxlen=12, bucket_size_multiplier=4)
    assert report["global maxlen"]["padded_steps"] == 8 * 12
    # one pool covers all 8: the bucketed padding is the sorted bound
    assert report["bucketed"]["padded_steps"] == report["sorted"]["padded_steps"]
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        cost.batching_report(lengths, 0)


def test_goal_bucketing_within_two_points_of_sorted_with_a_large_pool():
    # The lesson's claim, on its own data: a pool as large as the data set reaches the bound
    # while the batches still change between epochs.
    lengths = cost.long_tailed_lengths(4000, seed=0)
    bound = ll.padding_fraction(lengths, ll.sorted_batches(lengths, 32))
    e0 = ll.bucket_batches(lengths, 32, seed=0, bucket_size_multiplier=125)
    e1 = ll.bucket_batches(lengths, 32, seed=1, bucket_size_multiplier=125)
    assert 100 * (ll.padding_fraction(lengths, e0) - bound) <= 2.0
    assert cost.same_batches(e0, e1) < len(e0) // 4


# -- long_tailed_lengths, same_batches, median_seconds ---------------------------------------------


def test_long_tailed_lengths_range_shape_and_seed():
    a = cost.long_tailed_lengths(5000, seed=0)
    assert a.dtype == np.int64 and a.shape == (5000,)
    assert a.min() >= 1 and a.max() <= 500
    assert np.median(a) == pytest.approx(40, abs=3)
    assert a.mean() > np.median(a)  # a long right tail
    assert np.array_equal(a, cost.long_tailed_lengths(5000, seed=0))
    assert not np.array_equal(a, cost.long_tailed_lengths(5000, seed=1))
    b = cost.long_tailed_lengths(100, low=5, high=20, seed=2)
    assert b.min() >= 5 and b.max() <= 20


def test_long_tailed_lengths_bad_arguments():
    with pytest.raises(ValueError, match="high must be >= 10, got 5"):
        cost.long_tailed_lengths(3, low=10, high=5)
    with pytest.raises(ValueError, match="median must be > 0"):
        cost.long_tailed_lengths(3, median=0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        cost.long_tailed_lengths(-1)


def test_same_batches_counts_identical_member_sets():
    assert cost.same_batches([[0, 1], [2, 3]], [[1, 0], [2, 4]]) == 1
    assert cost.same_batches([np.array([0, 1])], [np.array([0, 1])]) == 1
    assert cost.same_batches([], [[0]]) == 0
    sorted_batches = ll.sorted_batches([3, 1, 2, 5], 2)
    assert cost.same_batches(sorted_batches, ll.sorted_batches([3, 1, 2, 5], 2)) == 2


# -- sequential_steps: the latency term --------------------------------------------------------


def test_sequential_steps_is_the_sum_of_batch_maxima():
    lengths = [5, 1, 2, 8]
    assert cost.sequential_steps(lengths, [[0, 1], [2, 3]]) == 5 + 8
    assert cost.sequential_steps(lengths) == 8
    assert cost.sequential_steps(lengths, [[0], [], [1, 2, 3]]) == 5 + 8
    # the law table's third batch: 830 steps of work over a 200-step chain
    sparse = np.r_[200, np.full(63, 10)]
    assert (cost.packed_steps(sparse), cost.sequential_steps(sparse)) == (830, 200)


def test_bucketing_shortens_the_chain_packing_cannot():
    lengths = cost.long_tailed_lengths(256, seed=3)
    random_b, bucket_b = ll.random_batches(lengths, 32, seed=0), ll.bucket_batches(lengths, 32, seed=0)
    assert cost.sequential_steps(lengths, bucket_b) < cost.sequential_steps(lengths, random_b) / 2
    with pytest.raises(ValueError, match=r"batches\[0\]"):
        cost.sequential_steps(lengths, [[999]])


# -- pairs_together_again / majority_label_share -----------------------------------------------


def test_pairs_together_again_by_hand():
    assert cost.pairs_together_again([[0, 1], [2, 3]], [[1, 0], [2, 4], [3]]) == 0.5
    assert cost.pairs_together_again([[0, 1, 2]], [[0, 1], [2]]) == pytest.approx(1 / 3)
    assert np.isnan(cost.pairs_together_again([[0], [1]], [[0, 1]]))  # no pair in the first epoch
    assert cost.pairs_together_again([[0, 1]], [[0]]) == 0.0  # 1 missing from the second epoch


def test_pairs_together_again_random_bucketed_sorted():
    """The measured figures of lesson 07 and bench_waste: 0.002 random, 0.158 default pool, 1.0 sorted."""
    lengths = cost.long_tailed_lengths(20000, seed=0)
    random_share = cost.pairs_together_again(*(ll.random_batches(lengths, 32, seed=s) for s in (0, 1)))
    bucket_share = cost.pairs_together_again(*(ll.bucket_batches(lengths, 32, seed=s) for s in (0, 1)))
    sorted_share = cost.pairs_together_again(*(ll.sorted_batches(lengths, 32) for _ in (0, 1)))
    assert round(random_share, 3) == 0.002 and round(bucket_share, 3) == 0.158 and sorted_share == 1.0
    # random batches: about (batch - 1) / (n - 1)
    assert random_share == pytest.approx(31 / 19999, rel=0.2)


@pytest.mark.parametrize(
    "a, b, match",
    [
        ([[0, 1], [1]], [[0, 1]], r"a\[1\] repeats index 1"),
        ([[0, 1]], [[0, 1], [0]], r"b\[1\] repeats index 0"),
        ([[0, -1]], [[0]], r"a\[0\] holds a negative index"),
        ([[0.5, 1.0]], [[0, 1]], r"a\[0\] must be a 1-D array of integer indices"),
        ([[[0, 1]]], [[0, 1]], r"a\[0\] must be a 1-D array"),
    ],
)
def test_pairs_together_again_rejects_bad_batches(a, b, match):
    with pytest.raises(ValueError, match=match):
        cost.pairs_together_again(a, b)


def test_majority_label_share_by_hand_and_on_japanese_vowels():
    assert cost.majority_label_share([0, 0, 1, 1], [[0, 1], [2, 3]]) == 1.0
    assert cost.majority_label_share([0, 0, 1, 1], [[0, 2], [1, 3]]) == 0.5
    assert cost.majority_label_share([0, 1, 1], [[0, 1, 2], []]) == pytest.approx(2 / 3)  # empty batches skipped
    from lessons_lib.datasets import load_japanese_vowels

    jv = load_japanese_vowels("train")
    share = {
        name: np.mean([cost.majority_label_share(jv.labels, make(jv.lengths, 32, seed=s)) for s in range(5)])
        for name, make in (("random", ll.random_batches), ("bucketed", ll.bucket_batches))
    }
    assert (round(share["random"], 3), round(share["bucketed"], 3)) == (0.2, 0.294)


def test_majority_label_share_rejects_bad_input():
    with pytest.raises(TypeError, match="labels must be a 1-D array of integer"):
        cost.majority_label_share(["a", "b"], [[0, 1]])
    with pytest.raises(TypeError, match="labels"):
        cost.majority_label_share([0.5, 1.0], [[0, 1]])
    with pytest.raises(ValueError, match=r"batches\[0\] holds an index outside"):
        cost.majority_label_share([0, 1], [[0, 5]])
    with pytest.raises(ValueError, match="no non-empty batch"):
        cost.majority_label_share([0, 1], [[]])


def test_median_seconds_calls_warmup_plus_repeats():
    calls = []
    result = cost.median_seconds(lambda: calls.append(1), 4, warmup=2)
    assert len(calls) == 6 and isinstance(result, float) and result >= 0
    with pytest.raises(ValueError, match="repeats must be >= 1, got 0"):
        cost.median_seconds(lambda: None, 0)


def test_cost_functions_do_not_change_inputs():
    lengths = np.array([4, 1, 3])
    batches = [np.array([0, 1]), np.array([2])]
    cost.padded_steps(lengths, batches)
    cost.packed_steps(lengths)
    cost.batching_report(lengths, 2)
    assert lengths.tolist() == [4, 1, 3] and [b.tolist() for b in batches] == [[0, 1], [2]]


# -- lesson 07 checkers ------------------------------------------------------------------------------


def test_exercise_1(capsys):
    assert bool(lesson07.exercise_1(1 - 36 / 54)) is True
    assert "Correct" in capsys.readouterr().out
    for wrong, hint in [(None, "expected a number"), (36 / 54, "REAL steps"), (0.4, "global maximum"),
                        (0.9, "is off"), ("0.33", "expected a number")]:
        assert bool(lesson07.exercise_1(wrong)) is False
        out = capsys.readouterr().out
        assert out.startswith("Not yet") and hint in out


def test_exercise_2(capsys):
    assert bool(lesson07.exercise_2([[4, 0], [2, 5], [3, 1]])) is True
    assert "Correct" in capsys.readouterr().out
    for wrong, hint in [([[0, 1], [2, 3], [4, 5]], "54 padded steps"), ([[0, 1], [2, 3]], "3 batches"),
                        ([[0, 0], [2, 3], [4, 5]], "exactly once"), (None, "expected a list"),
                        ([[0, 1, 2], [3], [4, 5]], "3 batches of 2")]:
        assert bool(lesson07.exercise_2(wrong)) is False
        out = capsys.readouterr().out
        assert out.startswith("Not yet") and hint in out


def test_exercise_3(capsys):
    assert bool(lesson07.exercise_3((60, 36))) is True
    assert "Correct" in capsys.readouterr().out
    for wrong, hint in [((36, 36), "does not skip"), ((60, 60), "sum of the lengths"), ((1, 2), "is off"),
                        (None, "expected a pair"), ((1, 2, 3), "expected a pair")]:
        assert bool(lesson07.exercise_3(wrong)) is False
        out = capsys.readouterr().out
        assert out.startswith("Not yet") and hint in out
