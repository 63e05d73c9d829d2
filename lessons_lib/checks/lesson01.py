"""Checkers for lesson 01 (mask matrices)."""

from __future__ import annotations

import numpy as np

from ..masks import sequence_mask
from ._common import CheckResult, answer_array, check_array, checker, verdict

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


def _exercise_1_hint(arr: np.ndarray) -> str | None:
    """A specific hint for a plausible wrong mask, or None."""
    lengths, maxlen = np.array(EXERCISE_1_LENGTHS), EXERCISE_1_MAXLEN
    post = sequence_mask(lengths, maxlen, padding="post")
    pre = sequence_mask(lengths, maxlen, padding="pre")
    if np.array_equal(arr, post):
        return (
            "that is the POST-padding mask (real steps first). Pre-padding puts the padding first, so "
            "each row's True steps sit at its END: arange(maxlen) >= maxlen - lengths[:, None]."
        )
    if np.array_equal(arr, ~pre) or np.array_equal(arr, ~post):
        return "True marks the padding here; a mask is True at the REAL steps (negate it, or swap < and >=)."
    diff = arr.sum(axis=1) - lengths
    if np.all(diff == diff[0]) and diff[0] in (-1, 1):
        return (
            f"every row has one True step too {'many' if diff[0] > 0 else 'few'}; check >= against > "
            "(row b must have exactly lengths[b] True steps, the last ones)."
        )
    return None


@checker
def exercise_1(mask) -> CheckResult:
    """The pre-padding mask of lengths [2, 4, 1] with maxlen 5."""
    expected = sequence_mask(EXERCISE_1_LENGTHS, EXERCISE_1_MAXLEN, padding="pre")
    if mask is not None and not isinstance(mask, (str, set, dict)):
        arr = np.asarray(mask)
        if arr.shape == expected.shape[::-1]:
            return verdict(False, f"mask has shape {arr.shape}: one ROW per sequence, so (batch, maxlen) = {expected.shape}.")
        if arr.shape == expected.shape and arr.dtype != bool and np.isin(arr, (0, 1)).all():
            if np.array_equal(arr.astype(bool), expected):
                why = "the values are right, but a comparison such as >= gives bool directly (or use .astype(bool))"
                return verdict(False, f"mask has dtype {arr.dtype}: {why}.")
            hint = _exercise_1_hint(arr.astype(bool))
            return verdict(False, f"mask should be a bool array, got dtype {arr.dtype}." + (f" Also, {hint}" if hint else ""))
    arr = answer_array(mask, expected, "mask") if not isinstance(mask, (str, set, dict)) else None
    if arr is None:
        return verdict(False, f"mask should be a (3, 5) bool array, got a {type(mask).__name__}.")
    if isinstance(arr, CheckResult):
        return arr
    hint = None if np.array_equal(arr, expected) else _exercise_1_hint(arr)
    return verdict(False, "mask: " + hint) if hint else check_array(arr, expected, "mask")


def _exercise_2_hint(got: np.ndarray, expected: np.ndarray) -> str | None:
    """A specific hint for a plausible wrong list of lengths, or None."""
    padded = EXERCISE_2_PADDED
    full = [int(b) for b in np.flatnonzero(expected == padded.shape[1])]
    if np.array_equal(got, np.argmax(padded == 0, axis=1)):
        return (
            "np.argmax(padded == 0, axis=1) is the index of each row's FIRST padding step. That is the "
            f"length only where a row has padding: row {full[0]} has none, all False, and argmax of all "
            f"False is 0, not {padded.shape[1]}. Count the real steps instead: (padded != 0).sum(axis=1)."
        )
    if np.array_equal(got, np.argmax(padded != 0, axis=1)) or np.array_equal(got, np.argmin(padded == 0, axis=1)):
        return (
            "argmax of a bool mask gives the index of its FIRST True (here the first real step, 0), not "
            "how many there are. Count the real steps: (padded != 0).sum(axis=1)."
        )
    if np.array_equal(got, np.argmax(padded, axis=1)) or np.array_equal(got, np.argmin(padded, axis=1)):
        return (
            "argmax/argmin of the tokens finds where the largest/smallest token sits, not a length. "
            "Count the real steps: (padded != 0).sum(axis=1)."
        )
    if np.array_equal(got, padded.shape[1] - expected):
        return "those are the numbers of PADDING steps; the length counts the real ones (padded != 0)."
    if np.array_equal(got, expected - 1):
        return "those are the indices of the last real steps; a length is one more than that index."
    return None


@checker
def exercise_2(lengths) -> CheckResult:
    """The lengths of the post-padded batch EXERCISE_2_PADDED (padding token 0)."""
    expected = (EXERCISE_2_PADDED != 0).sum(axis=1)
    if isinstance(lengths, (str, set, dict)):
        return verdict(False, f"lengths should be an integer array of shape {expected.shape}, got a {type(lengths).__name__}.")
    arr = answer_array(lengths, expected, "lengths")
    if isinstance(arr, CheckResult):
        return arr
    if not np.issubdtype(arr.dtype, np.integer):
        return verdict(False, f"lengths should be integers, got dtype {arr.dtype}.")
    hint = None if np.array_equal(arr, expected) else _exercise_2_hint(arr, expected)
    return verdict(False, "lengths: " + hint) if hint else check_array(arr, expected, "lengths")


@checker
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
