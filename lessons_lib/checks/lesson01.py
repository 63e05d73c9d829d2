"""Checkers for lesson 01 (mask matrices)."""

from __future__ import annotations

import numpy as np

from ..masks import sequence_mask
from ._common import CheckResult, check_array, verdict

EXERCISE_1_LENGTHS = [2, 4, 1]
EXERCISE_1_MAXLEN = 5
EXERCISE_2_PADDED = np.array([[7, 3, 9, 0, 0], [4, 0, 0, 0, 0], [8, 8, 1, 6, 2], [0, 0, 0, 0, 0]])
#: Settings of exercise 3, and whether each gives the unpadded final state.
EXERCISE_3_OPTIONS = {
    "a": "post-padding, no mask, read h after the last column",
    "b": "pre-padding, no mask, read h after the last column",
    "c": "post-padding, no mask, multiply the outputs by the mask, read the last column",
    "d": "post-padding, mask passed to the LSTM (state carried over padded steps)",
    "e": "pre-padding, mask passed to the LSTM (state carried over padded steps)",
}
_EXERCISE_3_RIGHT = {"d", "e"}


def exercise_1(mask) -> CheckResult:
    """The pre-padding mask of lengths [2, 4, 1] with maxlen 5."""
    expected = sequence_mask(EXERCISE_1_LENGTHS, EXERCISE_1_MAXLEN, padding="pre")
    return check_array(mask, expected, "mask")


def exercise_2(lengths) -> CheckResult:
    """The lengths of the post-padded batch EXERCISE_2_PADDED (padding token 0)."""
    expected = (EXERCISE_2_PADDED != 0).sum(axis=1)
    if lengths is not None and np.asarray(lengths).shape == expected.shape:
        got = np.asarray(lengths)
        if not np.issubdtype(got.dtype, np.integer):
            return verdict(False, f"lengths should be integers, got dtype {got.dtype}.")
    return check_array(lengths, expected, "lengths")


def exercise_3(answer) -> CheckResult:
    """The set of option letters whose final hidden state equals the unpadded one."""
    if answer is None:
        return verdict(False, "answer is still None; give a set of letters such as {'a', 'c'}.")
    try:
        chosen = {str(a).strip().lower() for a in answer}
    except TypeError:
        return verdict(False, "answer should be a set of letters such as {'a', 'c'}.")
    unknown = chosen - set(EXERCISE_3_OPTIONS)
    if unknown:
        return verdict(False, f"unknown options {sorted(unknown)}; choose from {sorted(EXERCISE_3_OPTIONS)}.")
    missing, extra = _EXERCISE_3_RIGHT - chosen, chosen - _EXERCISE_3_RIGHT
    if extra:
        why = {
            "a": "(a) steps through the padding zeros, so h moves on after the real end",
            "b": "(b) starts from a state already moved by the leading zeros",
            "c": "(c) the last column of outputs times the mask is 0 for every short sequence",
        }
        return verdict(False, "; ".join(why.get(x, f"({x}) is wrong") for x in sorted(extra)) + ".")
    if missing:
        return verdict(False, f"you missed {sorted(missing)}: a mask that carries the state works on either side.")
    return verdict(True, "only carrying the state over masked steps gives the unpadded final state, on either side.")
