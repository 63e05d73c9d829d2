"""Checkers for lesson 07 (what padding costs).

Each checker prints "Correct: ..." or "Not yet: ..." and returns True or
False; it never raises on a wrong answer.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..cost import packed_steps, padded_steps
from ._common import checker

__all__ = ["EXERCISE_LENGTHS", "exercise_1", "exercise_2", "exercise_3"]

#: The six sequence lengths all three exercises use.
EXERCISE_LENGTHS = (3, 10, 4, 9, 2, 8)
#: Exercise 1's batches (indices into EXERCISE_LENGTHS).
EXERCISE_1_BATCHES = ([0, 1], [2, 3], [4, 5])


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


@checker
def exercise_1(answer) -> bool:
    """The padding fraction of EXERCISE_LENGTHS batched as EXERCISE_1_BATCHES (a float)."""
    lengths = np.array(EXERCISE_LENGTHS)
    padded = padded_steps(lengths, EXERCISE_1_BATCHES)
    expected = 1 - packed_steps(lengths) / padded
    if answer is None or not _is_number(answer):
        print(f"Not yet: expected a number between 0 and 1, got {answer!r}.")
        return False
    if abs(answer - expected) < 1e-3:
        print(f"Correct: {padded} padded steps hold {packed_steps(lengths)} real ones, "
              f"so {expected:.4f} of the steps are padding.")
        return True
    if abs(answer - packed_steps(lengths) / padded) < 1e-3:
        print("Not yet: that is the fraction of REAL steps; padding is 1 minus it.")
    elif abs(answer - (1 - packed_steps(lengths) / (len(lengths) * lengths.max()))) < 1e-3:
        print("Not yet: that pads every batch to the global maximum (10); here each batch "
              "is padded to its own longest sequence.")
    else:
        print(f"Not yet: {answer!r} is off. Each batch costs batch size x its longest length; "
              "compare the sum of those with the sum of the lengths.")
    return False


@checker
def exercise_2(answer) -> bool:
    """Three batches of two indices covering 0..5 once, with the least padding possible."""
    lengths = np.array(EXERCISE_LENGTHS)
    n = len(lengths)
    try:
        batches = [np.asarray(b) for b in answer]
        flat = sorted(int(i) for b in batches for i in b.tolist())
    except (TypeError, ValueError):
        print(f"Not yet: expected a list of 3 lists of 2 indices, like [[0, 1], [2, 3], [4, 5]]; got {answer!r}.")
        return False
    if len(batches) != 3 or any(b.shape != (2,) for b in batches):
        print(f"Not yet: expected 3 batches of 2 indices each, got {answer!r}.")
        return False
    if flat != list(range(n)):
        print(f"Not yet: every index 0..{n - 1} must appear exactly once; you used {flat}.")
        return False
    best = padded_steps(lengths, [np.argsort(lengths)[i : i + 2] for i in range(0, n, 2)])
    got = padded_steps(lengths, batches)
    if got == best:
        print(f"Correct: {got} padded steps for {packed_steps(lengths)} real ones, the fewest possible\n"
              "(pair the sequences in length order).")
        return True
    print(f"Not yet: your batches cost {got} padded steps; {best} is possible. Hint: sort by length.")
    return False


@checker
def exercise_3(answer) -> bool:
    """(steps a masked Keras LSTM runs, steps a packed PyTorch LSTM runs) for all six in one batch."""
    lengths = np.array(EXERCISE_LENGTHS)
    expected = (padded_steps(lengths), packed_steps(lengths))
    try:
        masked, packed = answer
    except (TypeError, ValueError):
        print(f"Not yet: expected a pair (masked_keras_steps, packed_torch_steps), got {answer!r}.")
        return False
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in (masked, packed)):
        print(f"Not yet: both numbers of the pair should be whole step counts, got {type(masked).__name__} "
              f"and {type(packed).__name__}.")
        return False
    if (masked, packed) == expected:
        print(f"Correct: on a CPU (Keras's generic loop) the mask does not skip work\n"
              f"({expected[0]} = 6 x 10 steps), packing does ({expected[1]} = the sum of the lengths).")
        return True
    if masked == expected[1]:
        print("Not yet: on a CPU a Keras mask does not skip computation; the masked LSTM still steps "
              "through every padded time step (batch x max_len).")
    elif packed == expected[0]:
        print("Not yet: a PackedSequence runs each sequence only for its own length; "
              "count the sum of the lengths.")
    else:
        print(f"Not yet: {answer!r} is off; think batch x max_len for one, sum of lengths for the other.")
    return False
