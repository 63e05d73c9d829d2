"""Checkers for lesson 03 (PyTorch packing). Each prints feedback and returns True/False."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ._common import checker

__all__ = ["EXERCISE_1_LENGTHS", "exercise_1", "exercise_2", "exercise_3"]

EXERCISE_1_LENGTHS = [2, 5, 1, 3]


def _as_array(answer: Any) -> np.ndarray | None:
    try:
        if isinstance(answer, torch.Tensor):
            return answer.detach().cpu().numpy()
        arr = np.asarray(answer)
        return arr if np.issubdtype(arr.dtype, np.number) else None
    except (TypeError, ValueError):
        return None


@checker
def exercise_1(answer: Any) -> bool:
    """``answer``: the ``batch_sizes`` of packing lengths ``EXERCISE_1_LENGTHS`` = [2, 5, 1, 3]."""
    lengths = np.array(EXERCISE_1_LENGTHS)
    expected = [int((lengths > t).sum()) for t in range(lengths.max())]
    if answer is None:
        print(f"Not yet: expected a list of {len(expected)} ints (one per time step), got None")
        return False
    arr = _as_array(answer)
    if arr is None or arr.ndim != 1:
        print(f"Not yet: expected a 1-D list of ints, got {answer!r}")
        return False
    got = arr.astype(np.int64).tolist() if np.all(arr == np.round(arr)) else arr.tolist()
    if got == expected:
        print(f"Correct: batch_sizes = {expected}; batch_sizes[t] counts the sequences longer than t")
        return True
    if got == sorted(EXERCISE_1_LENGTHS, reverse=True):
        print("Not yet: that is the sorted lengths; batch_sizes has one entry per TIME STEP, not per sequence")
    elif len(got) != len(expected):
        print(f"Not yet: batch_sizes has one entry per time step, so {len(expected)} entries (max length), got {len(got)}")
    else:
        t = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        print(f"Not yet: at time step {t} you have {got[t]}; count the lengths greater than {t}")
    return False


@checker
def exercise_2(answer: Any, output: torch.Tensor, h_n: torch.Tensor, lengths: Any) -> bool:
    """``answer``: ``(batch, 2 * units)`` taken from the padded ``output`` of a packed
    bidirectional LSTM that equals ``torch.cat([h_n[0], h_n[1]], dim=1)``."""
    expected = torch.cat([h_n[-2], h_n[-1]], dim=1).detach()
    if answer is None:
        print(f"Not yet: expected a tensor of shape {tuple(expected.shape)}, got None")
        return False
    if not isinstance(answer, torch.Tensor):
        print(f"Not yet: expected a torch.Tensor, got {type(answer).__name__}")
        return False
    answer = answer.detach()
    if tuple(answer.shape) != tuple(expected.shape):
        print(f"Not yet: expected shape {tuple(expected.shape)}, got {tuple(answer.shape)}")
        return False
    units = h_n.shape[-1]
    fwd_ok = torch.allclose(answer[:, :units], expected[:, :units], atol=1e-5)
    bwd_ok = torch.allclose(answer[:, units:], expected[:, units:], atol=1e-5)
    if fwd_ok and bwd_ok:
        print("Correct: forward half at each sequence's last valid step, backward half at step 0")
        return True
    if torch.allclose(answer, output[:, -1].detach(), atol=1e-5):
        print("Not yet: output[:, -1] is padding (zeros) for every sequence shorter than the batch")
    elif not fwd_ok:
        print(f"Not yet: the first {units} columns (forward direction) should be output[b, lengths[b] - 1, :{units}]")
    else:
        print(f"Not yet: forward half is right; the backward direction ends at time step 0: output[:, 0, {units}:]")
    return False


@checker
def exercise_3(answer: Any, pred: torch.Tensor, target: torch.Tensor, lengths: Any) -> bool:
    """``answer``: the mean squared error of ``pred`` vs ``target`` over real steps only."""
    lengths = torch.as_tensor(lengths)
    mask = torch.arange(pred.shape[1])[None, :] < lengths[:, None]
    expected = float(((pred - target) ** 2)[mask].mean())
    if answer is None:
        print("Not yet: expected a number (a float or a 0-d tensor), got None")
        return False
    try:
        value = float(answer.detach() if isinstance(answer, torch.Tensor) else answer)
    except (TypeError, ValueError):
        print(f"Not yet: expected a number, got {type(answer).__name__}")
        return False
    if abs(value - expected) <= 1e-5:
        print(f"Correct: masked MSE = {expected:.4f}")
        return True
    unmasked = float(((pred - target) ** 2).mean())
    per_seq = float(torch.stack([((pred[b, :n] - target[b, :n]) ** 2).mean() for b, n in enumerate(lengths.tolist())]).mean())
    if abs(value - unmasked) <= 1e-5:
        print(f"Not yet: {value:.4f} is the unmasked mean; it counts the padding steps too")
    elif abs(value - per_seq) <= 1e-5:
        print(f"Not yet: {value:.4f} averages per-sequence means (short sequences weigh more); average over all real steps")
    else:
        print(f"Not yet: got {value:.4f}; divide the sum of squared errors on real steps by the number of real steps")
    return False
