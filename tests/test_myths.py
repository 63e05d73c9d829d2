"""lessons_lib.myths (lesson 08 helpers) and the lesson 08 checkers."""

from __future__ import annotations

import numpy as np
import pytest

import lessons_lib as ll
from lessons_lib import myths
from lessons_lib.checks import lesson08 as check

W = ll.random_lstm_weights(2, 3, seed=1)
W_BACK = ll.random_lstm_weights(2, 3, seed=2)
SEQS = ll.random_ragged_batch([4, 1, 3], 2, seed=0)


def test_reference_outputs_and_final_states_agree_with_each_sequence_alone():
    outs = myths.reference_outputs(SEQS, W)
    h = myths.reference_final_states(SEQS, W)
    assert [o.shape for o in outs] == [(4, 3), (1, 3), (3, 3)]
    assert h.shape == (3, 3) and h.dtype == np.float64
    for s, o, hb in zip(SEQS, outs, h):
        ref_out, ref_h, _ = ll.lstm_forward(s[None], **W)
        np.testing.assert_allclose(o, ref_out[0])
        np.testing.assert_allclose(hb, ref_h[0])
        np.testing.assert_allclose(o[-1], hb)  # the last output is the final state


def test_reference_equals_masked_padded_run():
    """The ground truth is what a correctly masked padded batch gives, on either side."""
    for side in ("pre", "post"):
        padded = ll.pad_sequences(SEQS, 6, padding=side)
        _, h, _ = ll.lstm_forward(padded, **W, mask=ll.sequence_mask([4, 1, 3], 6, padding=side))
        np.testing.assert_allclose(myths.reference_final_states(SEQS, W), h, atol=1e-12)


def test_zero_length_sequence_keeps_the_initial_state():
    h = myths.reference_final_states([np.zeros((0, 2)), SEQS[0]], W)
    assert (h[0] == 0).all() and np.abs(h[1]).max() > 0
    assert myths.reference_outputs([np.zeros((0, 2))], W)[0].shape == (0, 3)


def test_bidirectional_reference_reads_backward_from_the_end():
    bi = myths.bidirectional_reference(SEQS, W, W_BACK)
    assert bi.shape == (3, 6)
    np.testing.assert_allclose(bi[:, :3], myths.reference_final_states(SEQS, W))
    np.testing.assert_allclose(bi[:, 3:], myths.reference_final_states([s[::-1] for s in SEQS], W_BACK))
    # Reversing matters (the backward weights on the unreversed sequence give something else).
    assert np.abs(bi[0, 3:] - myths.reference_final_states(SEQS[:1], W_BACK)[0]).max() > 1e-3


@pytest.mark.parametrize(
    "lengths, expected",
    [([3, 1, 2], [3, 2, 1]), ([2, 2], [2, 2]), ([0, 2], [1, 1]), ([0, 0], []), ([], [])],
)
def test_packed_batch_sizes(lengths, expected):
    assert myths.packed_batch_sizes(np.array(lengths, dtype=int)).tolist() == expected


def test_packed_batch_sizes_match_torch():
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    lengths = [5, 3, 2, 5, 1]
    packed = pack_padded_sequence(torch.zeros(5, 5, 1), torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == myths.packed_batch_sizes(lengths).tolist()


def test_row_steps():
    assert myths.row_steps([4, 2, 2]) == {"padded": 12, "packed": 8, "saved_fraction": 0.3333}
    assert myths.row_steps([4, 2, 2], 10) == {"padded": 30, "packed": 8, "saved_fraction": 0.7333}
    assert myths.row_steps([3, 3]) == {"padded": 6, "packed": 6, "saved_fraction": 0.0}
    assert myths.row_steps([]) == {"padded": 0, "packed": 0, "saved_fraction": 0.0}
    assert myths.row_steps([0, 0], 2)["saved_fraction"] == 1.0


def test_safe_pack_lengths():
    clamped, keep = myths.safe_pack_lengths([3, 0, 2])
    assert clamped.tolist() == [3, 1, 2] and keep.tolist() == [True, False, True]
    assert clamped.dtype == np.int64 and keep.dtype == bool


def test_inputs_are_not_mutated():
    seqs = [s.copy() for s in SEQS]
    weights = {k: v.copy() for k, v in W.items()}
    lengths = np.array([3, 0, 2])
    myths.reference_outputs(seqs, weights)
    myths.reference_final_states(seqs, weights)
    myths.bidirectional_reference(seqs, weights, weights)
    myths.safe_pack_lengths(lengths)
    myths.row_steps(lengths, 4)
    myths.packed_batch_sizes(lengths)
    assert all((a == b).all() for a, b in zip(seqs, SEQS))
    assert all((weights[k] == W[k]).all() for k in W)
    assert lengths.tolist() == [3, 0, 2]


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: myths.reference_final_states([np.ones(3)], W), ValueError, "sequences[0]"),
        (lambda: myths.reference_final_states([], W), ValueError, "at least one"),
        (lambda: myths.reference_final_states(np.ones((2, 3, 2)), W), TypeError, "unpadded"),
        (lambda: myths.reference_outputs(SEQS, {"kernel": W["kernel"]}), ValueError, "missing"),
        (lambda: myths.reference_outputs(SEQS, [1, 2, 3]), TypeError, "weights"),
        (lambda: myths.reference_final_states([np.ones((2, 5))], W), ValueError, "kernel"),
        (lambda: myths.packed_batch_sizes([2, -1]), ValueError, "index 1"),
        (lambda: myths.packed_batch_sizes([2.5]), TypeError, "lengths"),
        (lambda: myths.row_steps([4, 2], 3), ValueError, "maxlen = 3"),
        (lambda: myths.row_steps([4, 2], -1), ValueError, "maxlen"),
        (lambda: myths.row_steps([[4, 2]]), ValueError, "1-D"),
        (lambda: myths.safe_pack_lengths([1, -2]), ValueError, "-2"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)


# The checkers: feedback, never an exception, True only for the right answer.


def test_exercise_1(capsys):
    assert bool(check.exercise_1(None)) is False
    assert bool(check.exercise_1([True] * 4)) is False
    assert "step(s)" in capsys.readouterr().out
    assert bool(check.exercise_1([True, False])) is False
    assert bool(check.exercise_1("yes")) is False
    capsys.readouterr()
    right = ll.mask_from_padded(check.EXERCISE_1_X, 0.0)[0]
    assert bool(check.exercise_1(right)) is True and bool(check.exercise_1(right.tolist())) is True
    assert capsys.readouterr().out.startswith("Correct")


def test_exercise_2(capsys):
    assert bool(check.exercise_2(None)) is False
    assert bool(check.exercise_2(12)) is False
    assert bool(check.exercise_2((12, 12))) is False
    assert "skips no work" in capsys.readouterr().out
    assert bool(check.exercise_2((24, 12))) is False
    assert bool(check.exercise_2((12, 24))) is True


def test_exercise_3(capsys):
    assert bool(check.exercise_3(None)) is False
    assert bool(check.exercise_3(lambda L, maxlen: maxlen - 1)) is False
    assert bool(check.exercise_3(lambda L, maxlen: L - 1)) is False
    assert bool(check.exercise_3(lambda L, maxlen: 1 / 0)) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert bool(check.exercise_3(lambda L, maxlen: 0)) is True
