"""Checkers for lesson 04 (custom masking layers).

Each checker prints "Correct: ..." or "Not yet: ..." and returns True or
False; it never raises on a wrong answer (an exception raised by the
learner's own code is reported as feedback).
"""

from __future__ import annotations

import inspect
import numbers
import re
import warnings

import numpy as np
from ._common import CheckResult, checker, verdict

__all__ = [
    "exercise_1",
    "exercise_2",
    "exercise_3",
    "EXERCISE_1_LENGTHS",
    "EXERCISE_1_STEPS",
    "EXERCISE_3_MASK",
    "EXERCISE_3_ROWS",
    "EXERCISE_3_SCORES",
]

#: Exercise 1: the batch that goes through ``MergeSteps(size=3)``.
EXERCISE_1_LENGTHS = (7, 3, 0, 4)
EXERCISE_1_STEPS = 8
_EXERCISE_1_SIZE = 3


def _describe(exc: Exception) -> str:
    """``Name: message`` of an exception, without Keras's wrapper text and colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    parts = [p.strip() for p in text.split("\n\n") if p.strip()]
    if len(parts) > 1 and parts[0].startswith("Exception encountered"):
        text = parts[1]
    return f"{type(exc).__name__}: {text[:200]}"


def _kind(value) -> str:
    """``"a str"``, ``"an int"``: what a learner passed, for a message."""
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _fail(message: str) -> CheckResult:
    return verdict(False, message)


def _ok(message: str) -> CheckResult:
    return verdict(True, message)


@checker
def exercise_1(answer) -> bool:
    """Mask that ``MergeSteps(size=3)`` gives a post-padded batch with lengths (7, 3, 0, 4) in 8 steps."""
    lengths = np.array(EXERCISE_1_LENGTHS)
    n_out = -(-EXERCISE_1_STEPS // _EXERCISE_1_SIZE)
    expected = np.arange(n_out) < -(-lengths[:, None] // _EXERCISE_1_SIZE)
    if answer is None:
        return _fail(f"fill in `answer` with a bool array of shape {expected.shape} (batch, merged steps)")
    if isinstance(answer, (str, bytes, set, frozenset, dict, numbers.Number)):
        return _fail(
            f"expected a bool array of shape {expected.shape} (batch, merged steps), "
            f"got {_kind(answer)}"
        )
    try:
        got = np.asarray(answer)
    except Exception as exc:  # noqa: BLE001 - feedback, not a crash
        return _fail(f"could not turn the answer into an array ({type(exc).__name__})")
    if got.shape != expected.shape:
        return _fail(f"expected shape {expected.shape} (8 steps in blocks of 3 -> {n_out} merged steps), got {got.shape}")
    if got.dtype != bool and not (np.issubdtype(got.dtype, np.integer) and np.isin(got, (0, 1)).all()):
        return _fail(f"expected a bool (or 0/1) array, got dtype {got.dtype}")
    wrong = np.flatnonzero((got.astype(bool) != expected).any(axis=1))
    if wrong.size:
        row = int(wrong[0])
        return _fail(
            f"row {row} (length {lengths[row]}) should be {expected[row].astype(int).tolist()}, "
            f"got {got[row].astype(int).tolist()}: a merged step is real when any step of its block is real"
        )
    return _ok(f"a sequence of length n keeps ceil(n / 3) merged steps: {(-(-lengths // 3)).tolist()}")


@checker
def exercise_2(layer_class) -> bool:
    """A layer class that adds 1 to its inputs and passes the mask on unchanged."""
    if layer_class is None:
        return _fail("pass your layer class (not an instance), e.g. exercise_2(Shift)")
    import keras

    if isinstance(layer_class, keras.layers.Layer):
        name = type(layer_class).__name__
        return _fail(
            f"you passed an instance, {name}(); pass the class itself, exercise_2({name}): "
            "the checker creates the layer and puts it after Masking"
        )
    if not inspect.isclass(layer_class):
        return _fail(f"pass your layer class, e.g. exercise_2(Shift); got {_kind(layer_class)}")
    if not issubclass(layer_class, keras.layers.Layer):
        return _fail(f"{layer_class.__name__} should be a subclass of keras.layers.Layer")

    x = np.zeros((2, 4, 3), np.float32)
    x[0, :3] = 1.5
    x[1, :1] = -2.0
    mask = np.array([[True, True, True, False], [True, False, False, False]])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            masked = keras.layers.Masking(0.0)(x)
            out = layer_class()(masked)
    except Exception as exc:  # noqa: BLE001 - the learner's code failed: say how
        return _fail(f"calling your layer raised {_describe(exc)}")
    messages = [str(w.message) for w in caught if "mask" in str(w.message)]
    if messages:
        first = messages[0].split(". ")[0]
        return _fail(
            "the layer does not support masking, so the mask is lost (hint: supports_masking).\n"
            f"Keras warned: {first}."
        )
    out_mask = getattr(out, "_keras_mask", None)
    if out_mask is None:
        return _fail("the output carries no mask, so an LSTM after this layer would see every step")
    try:
        out_mask, values = np.asarray(out_mask), np.asarray(out, dtype=np.float64)
    except Exception:  # noqa: BLE001 - an odd output is feedback, not a crash
        return _fail(f"call should return one tensor like its input, got {_kind(out)}")
    if out_mask.shape != mask.shape or (out_mask != mask).any():
        return _fail(
            f"the output mask should equal the input mask {mask.astype(int).tolist()}, "
            f"got {out_mask.astype(int).tolist()}"
        )
    if values.shape != x.shape or not np.allclose(values[mask], x[mask] + 1.0):
        return _fail("the values are wrong: the layer should add 1 to every real step")
    return _ok("the mask passes through, so the layers after it still skip the padding")


#: Exercise 3: the scores and mask given to the learner's function, and what each row tests.
EXERCISE_3_SCORES = np.array(
    [
        [0.5, -1.0, 2.0, 0.0],
        [1.0, 3.0, 0.0, 0.0],
        [0.2, 0.1, 0.0, 0.0],
        [800.0, 799.0, 0.0, 0.0],
        [0.5, -0.5, 1000.0, 1000.0],
    ]
)
EXERCISE_3_MASK = np.array(
    [
        [True, True, True, True],
        [True, True, False, False],
        [False, False, False, False],
        [True, True, False, False],
        [True, True, False, False],
    ]
)
EXERCISE_3_ROWS = (
    "a full row",
    "a padded row",
    "an all-masked row",
    "a row with large scores (800)",
    "a padded row, padded scores 1000",
)
_LARGE_PADDING_ROW = 4


def _reference_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    shifted = np.where(mask, scores, -np.inf)
    top = shifted.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.where(mask, np.exp(np.where(mask, scores - top, 0.0)), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


@checker
def exercise_3(fn) -> bool:
    """``fn(scores, mask) -> weights``: a NumPy masked softmax over axis 1 of (batch, time) scores."""
    if fn is None or not callable(fn):
        return _fail("pass your function, e.g. exercise_3(my_masked_softmax)")
    if inspect.isclass(fn):
        return _fail(f"pass a function fn(scores, mask), not the class {fn.__name__}")
    scores, mask = EXERCISE_3_SCORES, EXERCISE_3_MASK
    expected = _reference_softmax(scores, mask)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow in the learner's own code is reported below
            got = fn(scores.copy(), mask.copy())
    except Exception as exc:  # noqa: BLE001 - the learner's code failed: say how
        return _fail(f"your function raised {_describe(exc)}")
    if got is None:
        return _fail("your function returned None; return the weights, shape (batch, time)")
    try:
        weights = np.asarray(got)
        if weights.dtype.kind not in "biuf":
            raise TypeError(weights.dtype)
    except Exception:  # noqa: BLE001 - a learner may return anything
        return _fail(f"return the weights as an array of real numbers, got {_kind(got)}")
    got = weights.astype(np.float64)
    if got.shape != scores.shape:
        return _fail(f"expected weights of shape {scores.shape}, got {got.shape}")
    for row in range(scores.shape[0]):
        problem = _row_problem(row, got[row], expected[row])
        if problem:
            return _fail(problem)
    return _ok("weights sum to 1 on real steps, 0 on padding, 0 (not NaN) on all-masked rows, no overflow")


def _row_problem(row: int, got: np.ndarray, expected: np.ndarray) -> str:
    """What is wrong with ``got``, the learner's weights for one row of exercise 3; "" if right."""
    keep, what = EXERCISE_3_MASK[row], EXERCISE_3_ROWS[row]
    shown = np.round(got, 4).tolist()
    large_padding = row == _LARGE_PADDING_ROW
    if np.isnan(got).any():
        hint = ""
        if large_padding and not np.isnan(got[keep]).any():
            hint = ": exp(1000) overflowed (inf * 0 = NaN); exponentiate the real steps only"
        elif large_padding:
            hint = ": the padded scores must not set the shift; use the largest REAL score"
        return f"row {row} ({what}) contains NaN: {shown}{hint}"
    if (got[~keep] != 0).any():
        return f"row {row} ({what}): padded steps must get exactly 0, got {shown}"
    if np.allclose(got, expected, atol=1e-6):
        return ""
    hint = ""
    if large_padding and np.allclose(got[keep], 0.0):
        hint = (": the padded scores set the shift, so every real exp() underflowed to 0; "
                "shift by the largest REAL score")
    return f"row {row} ({what}) should be {np.round(expected, 4).tolist()}, got {shown}{hint}"
