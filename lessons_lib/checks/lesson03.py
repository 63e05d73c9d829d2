"""Checkers for lesson 03 (PyTorch packing). Each prints feedback and returns a truthy/falsy result.

Every checker answers any junk (None, a string, a number, an array of the wrong
shape, a set, a dict, a function that raises) with "Not yet: ..." and a reason;
it never raises.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np
import torch

from ._common import CheckResult, checker, verdict

__all__ = ["EXERCISE_1_LENGTHS", "EXERCISE_2_SECOND_LENGTHS", "exercise_1", "exercise_2", "exercise_3"]

EXERCISE_1_LENGTHS = [2, 5, 1, 3]
# Exercise 2 also runs the learner's function on this batch: other lengths, another batch size,
# and one all-padding step at the end, so that a result built from anything but `out` shows.
EXERCISE_2_SECOND_LENGTHS = [2, 5, 1, 3, 4]


def _describe(value: Any) -> str:
    """A short description of a learner's value: its type and, if short, its repr."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    try:
        text = repr(value)
    except Exception:  # a learner's object whose repr fails
        text = ""
    kind = type(value).__name__
    return f"{kind} {text}" if text and len(text) <= 40 else f"a {kind}"


def _never_raises(fn):
    """Last resort: an unexpected error while checking becomes a "Not yet" with its reason."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # any answer a learner may pass
            return verdict(False, f"this answer could not be checked ({type(exc).__name__}: {exc}).")

    return wrapper


def _int_list(answer: Any) -> list[int] | str:
    """``answer`` as a list of ints, or the reason it is not one."""
    what = f"expected a list of ints (one per time step), got {_describe(answer)}"
    if answer is None or isinstance(answer, (str, bytes, dict, set, frozenset, numbers.Number)):
        return what
    try:
        arr = answer.detach().cpu().numpy() if isinstance(answer, torch.Tensor) else np.asarray(answer)
    except Exception:  # ragged lists, objects numpy cannot read
        return what
    if arr.dtype.kind not in "iuf":
        return what
    if arr.ndim != 1:
        return f"expected a 1-D list of ints (one per time step), got shape {arr.shape}"
    if not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
        return f"batch_sizes are whole numbers (counts of sequences), got {arr.tolist()}"
    return [int(v) for v in arr]


@checker
@_never_raises
def exercise_1(answer: Any) -> bool:
    """``answer``: the ``batch_sizes`` of packing lengths ``EXERCISE_1_LENGTHS`` = [2, 5, 1, 3]."""
    lengths = np.array(EXERCISE_1_LENGTHS)
    expected = [int((lengths > t).sum()) for t in range(lengths.max())]
    if answer is None:
        print(f"Not yet: expected a list of {len(expected)} ints (one per time step), got None")
        return False
    got = _int_list(answer)
    if isinstance(got, str):
        print(f"Not yet: {got}")
        return False
    if got == expected:
        print(f"Correct: batch_sizes = {expected}; batch_sizes[t] counts the sequences longer than t")
        return True
    if got == sorted(EXERCISE_1_LENGTHS, reverse=True):
        print("Not yet: that is the sorted lengths; batch_sizes has one entry per TIME STEP, not per sequence")
    elif len(got) != len(expected):
        print(f"Not yet: batch_sizes has one entry per time step, so {len(expected)} entries (max length), "
              f"got {len(got)}")
    else:
        t = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        print(f"Not yet: at time step {t} you have {got[t]}; count the lengths greater than {t}")
    return False


def _second_batch(units: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(output, h_n, lengths)`` of a seeded packed bidirectional LSTM the learner never saw."""
    from torch.nn.utils import rnn

    from ..reference_lstm import random_lstm_weights
    from ..synthetic import random_ragged_batch
    from ..torch_packing import lstm_from_keras_weights

    lengths = torch.tensor(EXERCISE_2_SECOND_LENGTHS)
    bilstm = lstm_from_keras_weights(random_lstm_weights(2, units, seed=11),
                                     reverse_weights=random_lstm_weights(2, units, seed=12), dtype=dtype)
    seqs = [torch.from_numpy(s).to(dtype) for s in random_ragged_batch(lengths.tolist(), 2, seed=13)]
    packed = rnn.pack_sequence(seqs, enforce_sorted=False)
    with torch.no_grad():
        packed_out, (h_n, _) = bilstm(packed)
    output, _ = rnn.pad_packed_sequence(packed_out, batch_first=True, total_length=int(lengths.max()) + 1)
    return output, h_n, lengths


def _call(answer: Any, output: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor | str:
    """``answer(output, lengths)`` on copies, or the reason it gave no usable tensor."""
    try:
        result = answer(output.clone(), lengths.clone())
    except Exception as exc:  # any error in the learner's function
        return f"answer(out, lengths) raised {type(exc).__name__}: {exc}"
    if not isinstance(result, torch.Tensor):
        return f"answer(out, lengths) should return a torch.Tensor, got {_describe(result)}"
    return result.detach()


def _halves_hint(result: torch.Tensor, output: torch.Tensor, expected: torch.Tensor, units: int) -> str | None:
    """None if ``result`` equals ``expected``, else a hint naming the wrong half."""
    if tuple(result.shape) != tuple(expected.shape):
        return f"expected shape {tuple(expected.shape)} = (batch, 2 * H), got {tuple(result.shape)}"
    if not (result.is_floating_point() and torch.isfinite(result).all()):
        return f"expected a float tensor of finite values, got {_describe(result)}"
    result = result.to(expected.dtype)
    fwd_ok = torch.allclose(result[:, :units], expected[:, :units], atol=1e-5)
    bwd_ok = torch.allclose(result[:, units:], expected[:, units:], atol=1e-5)
    if fwd_ok and bwd_ok:
        return None
    if torch.allclose(result, output[:, -1].to(expected.dtype), atol=1e-5):
        return "out[:, -1] is padding (zeros) for every sequence shorter than the batch"
    if not fwd_ok:
        return (f"the first {units} columns (forward direction) should be the output at each sequence's "
                f"last valid step: out[b, lengths[b] - 1, :{units}]")
    return f"the forward half is right; the backward direction ends at time step 0: out[:, 0, {units}:]"


@checker
@_never_raises
def exercise_2(answer: Any, output: torch.Tensor, h_n: torch.Tensor, lengths: Any) -> bool | CheckResult:
    """``answer``: a function ``(out, lengths) -> (batch, 2 * H)`` tensor that builds
    ``torch.cat([h_n[0], h_n[1]], dim=1)`` of a packed bidirectional LSTM from its padded
    output ``out`` alone. It is called on ``output`` and on a second batch whose ``h_n`` the
    learner does not have, so a result taken from ``h_n`` (or from fixed sizes) does not pass."""
    if not (isinstance(output, torch.Tensor) and isinstance(h_n, torch.Tensor) and output.dim() == 3):
        return verdict(False, "call it as check.exercise_2(answer, bi_out, bi_h, lengths_t).")
    units = h_n.shape[-1]
    expected = torch.cat([h_n[-2], h_n[-1]], dim=1).detach()
    if answer is None:
        return verdict(False, "answer is still None; define answer(out, lengths) that returns a (batch, 2 * H) "
                              "tensor.")
    if isinstance(answer, torch.Tensor):
        same = tuple(answer.shape) == tuple(expected.shape) and torch.allclose(
            answer.detach().to(expected.dtype), expected, atol=1e-5)
        why = ("those are the right numbers, but a tensor cannot show it was built from bi_out only "
               "(torch.cat([bi_h[0], bi_h[1]], dim=1) is such a tensor)." if same else "a tensor cannot be "
               "checked on a second batch.")
        return verdict(False, f"{why} Give a function: def answer(out, lengths): ... return a tensor built "
                              "from out and lengths.")
    if not callable(answer):
        return verdict(False, f"expected a function answer(out, lengths), got {_describe(answer)}.")
    lengths = torch.as_tensor(lengths).cpu()
    result = _call(answer, output, lengths)
    if isinstance(result, str):
        return verdict(False, f"on bi_out, {result}.")
    hint = _halves_hint(result, output.detach(), expected, units)
    if hint:
        return verdict(False, f"on bi_out: {hint}.")
    out2, h2, lengths2 = _second_batch(units, output.dtype)
    result2 = _call(answer, out2, lengths2)
    where = f"a second batch (lengths {lengths2.tolist()}, {out2.shape[1]} steps)"
    if isinstance(result2, str):
        return verdict(False, f"right on bi_out, but on {where} {result2}; use only out and lengths.")
    hint2 = _halves_hint(result2, out2, torch.cat([h2[-2], h2[-1]], dim=1), units)
    if hint2:
        return verdict(False, f"right on bi_out, but not on {where}: {hint2}. Build the result from out and "
                              "lengths only (not from bi_out, bi_h or fixed sizes).")
    return verdict(True, "forward half at each last valid step, backward half at step 0, on both batches.")


def _number(answer: Any) -> float | str:
    """``answer`` as a float, or the reason it is not one number."""
    what = f"expected one number (a float or a 0-d tensor), got {_describe(answer)}"
    if isinstance(answer, torch.Tensor):
        if answer.numel() != 1 or answer.dtype == torch.bool or answer.is_complex():
            return what
        return float(answer.detach().reshape(()))
    if isinstance(answer, (np.ndarray, np.generic)):
        if answer.size != 1 or answer.dtype.kind not in "iuf":
            return what
        return float(np.asarray(answer).reshape(()))
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
        return float(answer)
    return what


def _batch_problem(pred: Any, target: Any, lengths: Any) -> str | None:
    """Why ``pred``, ``target`` and ``lengths`` are not a batch the exercise can use, or None."""
    for name, value in (("pred", pred), ("target", target)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point() or value.ndim < 2:
            return f"{name} should be the lesson's float tensor (batch, time, ...), got {_describe(value)}"
    if pred.shape != target.shape:
        return f"pred and target should have one shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
    steps = _int_list(lengths)
    batch, time = pred.shape[:2]
    if isinstance(steps, str) or len(steps) != batch or not all(1 <= n <= time for n in steps):
        return f"lengths should hold {batch} lengths between 1 and {time}, got {_describe(lengths)}"
    return None


@checker
@_never_raises
def exercise_3(answer: Any, pred: torch.Tensor, target: torch.Tensor, lengths: Any) -> bool:
    """``answer``: the mean squared error of ``pred`` vs ``target`` over real steps only."""
    problem = _batch_problem(pred, target, lengths)
    if problem:
        print(f"Not yet: {problem} (pass the lesson's pred, target and lengths unchanged)")
        return False
    lengths = torch.as_tensor(_int_list(lengths))
    mask = torch.arange(pred.shape[1])[None, :] < lengths[:, None]
    with torch.no_grad():
        sq_err = (pred - target) ** 2
        n_real, n_all = int(mask.sum()), sq_err.numel()
        real_sum = float(sq_err[mask].sum())
        expected = real_sum / n_real
        unmasked = float(sq_err.mean())
        per_seq = float(torch.stack([sq_err[b, :n].mean() for b, n in enumerate(lengths.tolist())]).mean())
    if answer is None:
        print("Not yet: expected a number (a float or a 0-d tensor), got None")
        return False
    value = _number(answer)
    if isinstance(value, str):
        print(f"Not yet: {value}")
        return False
    if abs(value - expected) <= 1e-5:
        print(f"Correct: masked MSE = {expected:.4f}")
        return True
    if abs(value - unmasked) <= 1e-5:
        print(f"Not yet: {value:.4f} is the unmasked mean; it counts the padding steps too")
    elif abs(value - real_sum / n_all) <= 1e-5:
        print(f"Not yet: {value:.4f} zeroes the padding steps but still divides by all {n_all} steps; "
              f"divide by the {n_real} real steps (mask.sum())")
    elif abs(value - per_seq) <= 1e-5:
        print(f"Not yet: {value:.4f} averages per-sequence means (short sequences weigh more); "
              "average over all real steps")
    elif abs(value - real_sum) <= 1e-5:
        print(f"Not yet: {value:.4f} is the sum over the real steps; divide it by their number ({n_real})")
    else:
        print(f"Not yet: got {value:.4f}; divide the sum of squared errors on real steps by the number of "
              "real steps")
    return False
