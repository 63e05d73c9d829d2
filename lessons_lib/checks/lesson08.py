"""Checkers for lesson 08 (myths and facts). Each prints feedback and returns True/False."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..masks import mask_from_padded
from ..myths import row_steps
from ._common import checker

__all__ = ["EXERCISE_1_X", "exercise_1", "exercise_2", "exercise_3"]

#: One sequence of 4 steps, 2 features, for exercise 1.
EXERCISE_1_X = np.array([[[0.0, 0.0], [2.0, 0.0], [0.0, 0.0], [0.0, -1.0]]], dtype=np.float32)

_EX2_LENGTHS, _EX2_MAXLEN = [6, 4, 1, 1], 6


@checker
def exercise_1(answer) -> bool:
    """Which steps of ``EXERCISE_1_X`` does ``Masking(mask_value=0.0)`` keep? (4 booleans)."""
    expected = mask_from_padded(EXERCISE_1_X, 0.0)[0].tolist()
    if answer is None:
        print("Not yet: answer is None. Give 4 booleans, True where the step is kept.")
        return False
    try:
        got = [bool(v) for v in np.asarray(answer, dtype=object).reshape(-1)]
    except (TypeError, ValueError):
        print(f"Not yet: expected a list of 4 booleans, got {answer!r}.")
        return False
    if len(got) != len(expected):
        print(f"Not yet: expected 4 booleans (one per step), got {len(got)}.")
        return False
    if got == expected:
        print(f"Correct: {expected}. A step is masked only when ALL its features equal 0.")
        return True
    wrong = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    print(f"Not yet: step(s) {wrong} are wrong. Masking drops a step only when every feature equals mask_value.")
    return False


@checker
def exercise_2(answer) -> bool:
    """Row-steps for lengths [6, 4, 1, 1] padded to 6: ``(packed, keras_masked)``."""
    steps = row_steps(_EX2_LENGTHS, _EX2_MAXLEN)
    expected = (steps["packed"], steps["padded"])
    if answer is None:
        print("Not yet: answer is None. Give a tuple (packed, keras_masked) of two ints.")
        return False
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        print(f"Not yet: expected a tuple of two ints, got {answer!r}.")
        return False
    packed, masked = answer
    ok = True
    if packed != expected[0]:
        print(f"Not yet: packed = {packed!r}. A packed batch computes one step per real element: sum(lengths).")
        ok = False
    if masked != expected[1]:
        print(f"Not yet: keras_masked = {masked!r}. On a CPU a Keras mask skips no work: every row runs every step.")
        ok = False
    if ok:
        print(f"Correct: packed {expected[0]} row-steps, masked Keras {expected[1]} (on a CPU a mask saves no work).")
    return ok


@checker
def exercise_3(index: Callable[[int, int], int]) -> bool:
    """``index(L, maxlen)``: where the backward summary sits in a post-padded, masked Bidirectional output."""
    if not callable(index):
        print(f"Not yet: expected a function index(L, maxlen), got {index!r}.")
        return False
    cases = [(L, maxlen) for maxlen in (3, 7) for L in range(1, maxlen + 1)]
    for L, maxlen in cases:
        try:
            got = index(L, maxlen)
        except Exception as err:  # a learner's function may fail in any way
            print(f"Not yet: index({L}, {maxlen}) raised {type(err).__name__}: {err}")
            return False
        if got != 0:
            print(
                f"Not yet: index({L}, {maxlen}) = {got!r}. The backward direction reads from the end to the start,\n"
                "so its summary of the whole sequence is its output at step 0."
            )
            return False
    print("Correct: step 0 holds the backward summary (the forward one is at step L - 1).")
    return True
