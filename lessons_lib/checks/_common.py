"""Small shared pieces for the exercise checkers."""

from __future__ import annotations

import functools

import numpy as np


class CheckResult:
    """Truthy when the answer is right. Shows nothing in a notebook: the checker already printed."""

    __slots__ = ("ok", "message")

    def __init__(self, ok: bool, message: str):
        self.ok, self.message = bool(ok), message

    def __bool__(self) -> bool:
        return self.ok

    def __eq__(self, other) -> bool:
        return bool(self) == bool(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"CheckResult({self.ok})"

    def _ipython_display_(self) -> None:
        pass  # the message was printed when the check ran


#: How the safety net of :func:`checker` starts its message (tests tell it from a real hint by this).
UNCHECKABLE = "this answer could not be checked"


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def checker(fn):
    """Decorator: a checker that printed its own feedback returns a :class:`CheckResult`.

    It is also a safety net, so that a checker never raises at a learner: if the
    checker itself fails on an answer it did not foresee, the learner reads
    "Not yet: this answer could not be checked (TypeError: ...)" instead of a
    traceback. A checker should still catch junk itself and say what is wrong;
    ``tests/test_checkers_junk.py`` fails on answers that reach this net.

    Example:
        >>> @checker
        ... def exercise_0(answer):
        ...     return verdict(float(answer) == 1.0, "the answer is 1.")
        >>> bool(exercise_0("1"))
        Correct: the answer is 1.
        True
        >>> bool(exercise_0(None))
        Not yet: this answer could not be checked (TypeError: float() argument must be a string or a real number, not 'NoneType').
        False
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any answer a learner may pass must get feedback
            return verdict(False, f"{UNCHECKABLE} ({type(exc).__name__}: {_short(exc)}).")
        return result if isinstance(result, CheckResult) else CheckResult(bool(result), "")

    wrapper.is_checker = True
    return wrapper


def verdict(ok: bool, message: str) -> CheckResult:
    """Print "Correct: ..." or "Not yet: ..." and return a truthy/falsy :class:`CheckResult`."""
    text = ("Correct: " if ok else "Not yet: ") + message
    print(text)
    return CheckResult(ok, text)


def answer_array(answer, expected: np.ndarray, what: str) -> np.ndarray | CheckResult:
    """The learner's answer as an array shaped like ``expected``, or a failed check saying why not."""
    if answer is None:
        return verdict(False, f"{what} is still None; replace it with your answer.")
    try:
        arr = np.asarray(answer)
    except Exception as exc:  # any object a learner may pass
        return verdict(False, f"{what} could not be turned into an array ({type(exc).__name__}).")
    if arr.shape != expected.shape:
        return verdict(False, f"{what} should have shape {expected.shape}, got {arr.shape}.")
    if expected.dtype == bool and arr.dtype != bool:
        return verdict(False, f"{what} should be a bool array, got dtype {arr.dtype}.")
    return arr


def check_array(answer, expected: np.ndarray, what: str) -> CheckResult:
    """Compare a learner's array with the expected one and explain the first difference."""
    arr = answer_array(answer, expected, what)
    if isinstance(arr, CheckResult):
        return arr
    if not np.array_equal(arr, expected):
        where = tuple(int(i) for i in np.argwhere(arr != expected)[0])
        return verdict(False, f"{what} differs at index {where}: got {arr[where].item()!r}, expected {expected[where].item()!r}.")
    return verdict(True, f"{what} is right.")
