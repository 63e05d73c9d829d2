"""Checkers for lesson 05 (parity between NumPy, Keras and PyTorch LSTMs).

Each checker prints "Correct: ..." or "Not yet: ..." with what is wrong, and
returns True or False. None of them raises on a wrong answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from ._common import CheckResult, checker, verdict

__all__ = ["exercise_1", "exercise_2", "exercise_3"]

_ATOL = 1e-5


def _not_yet(message: str) -> CheckResult:
    return verdict(False, message)


def _correct(message: str) -> CheckResult:
    return verdict(True, message)


def _as_array(value: Any) -> np.ndarray | None:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= _ATOL))


def _exercise_torch_lstm(torch_lstm: Any) -> str | None:
    """Why ``torch_lstm`` is not the one-layer, one-direction nn.LSTM exercise 1 gives, or None."""
    import torch

    if not isinstance(torch_lstm, torch.nn.LSTM):
        return f"torch_lstm should be the exercise's torch.nn.LSTM, got {type(torch_lstm).__name__}."
    if torch_lstm.num_layers != 1 or torch_lstm.bidirectional or torch_lstm.proj_size or not torch_lstm.bias:
        return "torch_lstm should be the exercise's one-layer, one-direction nn.LSTM with biases."
    return None


def _exercise_2_context(x_post: Any, lengths: Any, bi_weights: Any) -> str | None:
    """Why the exercise-2 inputs are not a post-padded batch, its lengths and bidirectional weights, or None."""
    x = _as_array(x_post)
    if x is None or x.ndim != 3 or 0 in x.shape:
        return "x_post should be the post-padded (batch, time, features) batch of the exercise."
    lens = _as_array(lengths)
    if lens is None or lens.shape != x.shape[:1] or np.any(lens != np.round(lens)) or np.any(lens < 1) \
            or np.any(lens > x.shape[1]):
        return f"lengths should be the {x.shape[0]} lengths (1 to {x.shape[1]}) of x_post's sequences."
    ok = isinstance(bi_weights, Mapping) and set(bi_weights) >= {"forward", "backward"}
    for d in ("forward", "backward") if ok else ():
        w = bi_weights[d]
        ok = ok and isinstance(w, Mapping) and all(_as_array(w.get(k)) is not None for k in ("kernel", "recurrent_kernel"))
        ok = ok and _as_array(w["kernel"]).ndim == 2 and _as_array(w["kernel"]).shape[0] == x.shape[2]
    if not ok:
        return "bi_weights should be the exercise's {'forward': {...}, 'backward': {...}} Keras-layout weights."
    return None


@checker
def exercise_1(answer: Any, torch_lstm: Any) -> bool:
    """Is ``answer`` the Keras-layout dict of ``torch_lstm``'s weights?"""
    from ..bridge import torch_lstm_weights

    problem = _exercise_torch_lstm(torch_lstm)
    if problem:
        return _not_yet(problem)
    expected = torch_lstm_weights(torch_lstm)
    if answer is None:
        return _not_yet(
            "answer is None. Expected a dict with 'kernel' "
            f"{expected['kernel'].shape}, 'recurrent_kernel' {expected['recurrent_kernel'].shape}\n"
            f"and 'bias' {expected['bias'].shape}."
        )
    if not isinstance(answer, Mapping):
        return _not_yet(f"answer must be a dict, got {type(answer).__name__}.")
    missing = [k for k in expected if k not in answer]
    if missing:
        return _not_yet(f"answer is missing the key(s) {missing}.")
    params = {n: p.detach().cpu().numpy().astype(np.float64) for n, p in torch_lstm.named_parameters()}
    for key in ("kernel", "recurrent_kernel"):
        got = _as_array(answer[key])
        if got is None:
            return _not_yet(f"answer[{key!r}] is not a numeric array.")
        want = expected[key]
        if got.shape != want.shape:
            hint = " Did you forget to transpose?" if got.shape == want.shape[::-1] else ""
            return _not_yet(f"answer[{key!r}] has shape {got.shape}, expected {want.shape}.{hint}")
        if not _close(got, want):
            return _not_yet(
                f"answer[{key!r}] has the right shape but wrong values; Keras kernels are torch's "
                "weight matrices transposed, gate blocks in the same order (i, f, c, o)."
            )
    bias = _as_array(answer["bias"])
    if bias is None or bias.shape != expected["bias"].shape:
        shape = None if bias is None else bias.shape
        return _not_yet(f"answer['bias'] must have shape {expected['bias'].shape}, got {shape}.")
    if _close(bias, params["bias_ih_l0"]) or _close(bias, params["bias_hh_l0"]):
        return _not_yet("answer['bias'] is only one of torch's two biases; torch adds bias_ih and bias_hh.")
    if _close(bias, (params["bias_ih_l0"] + params["bias_hh_l0"]) / 2):
        return _not_yet("answer['bias'] is the mean of the two torch biases; it must be their sum.")
    if not _close(bias, expected["bias"]):
        return _not_yet("answer['bias'] has wrong values; it must be bias_ih_l0 + bias_hh_l0.")
    return _correct("kernel = weight_ih.T, recurrent_kernel = weight_hh.T, bias = bias_ih + bias_hh.")


@checker
def exercise_2(answer: Any, x_post: Any, lengths: Any, bi_weights: Mapping) -> bool:
    """Is ``answer`` the backward direction's final h on the post-padded ``x_post``?"""
    from ..bridge import bidirectional_lstm_forward, reverse_within_length
    from ..masks import sequence_mask
    from ..reference_lstm import lstm_forward

    problem = _exercise_2_context(x_post, lengths, bi_weights)
    if problem:
        return _not_yet(problem)
    x = _as_array(x_post)
    lengths = _as_array(lengths).astype(np.int64)
    mask = sequence_mask(lengths, x.shape[1])
    _, h_fw, _, h_bw, _ = bidirectional_lstm_forward(x, bi_weights, mask=mask)
    if answer is None:
        return _not_yet(f"answer is None. Expected an array of shape {h_bw.shape} (batch, units).")
    got = _as_array(answer)
    if got is None:
        return _not_yet("answer must be a numeric array.")
    if got.shape != h_bw.shape:
        return _not_yet(f"answer has shape {got.shape}, expected {h_bw.shape} (batch, units).")
    if _close(got, h_bw):
        return _correct(
            "the backward direction reads each sequence reversed within its length;\n"
            "its final h is the state after it has gone back to the first real step."
        )
    bw = bi_weights["backward"]
    if _close(got, h_fw) or _close(got, lstm_forward(x, **bw, mask=mask)[1]):
        return _not_yet("that is a forward pass; the backward direction reads each sequence in reverse.")
    if _close(got, lstm_forward(x[:, ::-1], **bw)[1]):
        return _not_yet(
            "you reversed the whole padded row and ran without a mask, so the backward LSTM read the "
            "padding first. Reverse within each length (br.reverse_within_length) or pass the reversed mask."
        )
    if _close(got, lstm_forward(reverse_within_length(x, lengths), **bw)[1]):
        return _not_yet("the reversal is right, but without mask= the LSTM then steps through the trailing padding.")
    return _not_yet("the values are wrong; use bi_weights['backward'], reverse within lengths and pass the mask.")


_CHOICES = ("post outputs", "post final state", "pre outputs", "pre final state")


def _unmasked_truth(seed: int = 0) -> set[str]:
    """Measure which quantities an unmasked LSTM gets right, on random data."""
    from ..masks import sequence_mask
    from ..padding import pad_sequences
    from ..reference_lstm import lstm_forward, random_lstm_weights
    from ..synthetic import random_ragged_batch

    lengths = np.array([4, 2, 6])
    seqs = random_ragged_batch(lengths, 3, seed=seed)
    w = random_lstm_weights(3, 4, seed=seed + 1)
    right = set()
    for side in ("post", "pre"):
        x = pad_sequences(seqs, padding=side, dtype=np.float64)
        mask = sequence_mask(lengths, padding=side)
        out_m, h_m, c_m = lstm_forward(x, **w, mask=mask)
        out_u, h_u, c_u = lstm_forward(x, **w)
        if np.abs(out_m[mask] - out_u[mask]).max() < _ATOL:
            right.add(f"{side} outputs")
        if max(np.abs(h_m - h_u).max(), np.abs(c_m - c_u).max()) < _ATOL:
            right.add(f"{side} final state")
    return right


@checker
def exercise_3(answer: Any) -> bool:
    """Which of _CHOICES does an unmasked one-direction LSTM get right?"""
    if answer is None:
        return _not_yet(f"answer is None. Expected a set of strings chosen from\n{list(_CHOICES)}.")
    if isinstance(answer, str):
        answer = {answer}
    try:
        answer = set(answer)
    except TypeError:
        return _not_yet(f"answer must be a set of strings, got {type(answer).__name__}.")
    unknown = sorted(a for a in answer if a not in _CHOICES)
    if unknown:
        return _not_yet(f"unknown choice(s) {unknown}; choose from {list(_CHOICES)}.")
    truth = _unmasked_truth()
    wrongly_in = sorted(answer - truth)
    missing = sorted(truth - answer)
    if not wrongly_in and not missing:
        return _correct(
            "only the outputs at real steps of a post-padded batch survive; the padding comes\n"
            "after them. Every final state, and every output under pre-padding, is wrong (for\n"
            "weights with a non-zero cell-candidate bias, as after training; a fresh Keras LSTM\n"
            "is exact under pre-padding by coincidence)."
        )
    parts = []
    for item in wrongly_in:
        side, what = item.split(" ", 1)
        why = (
            "the LSTM steps through the padding after the last real step"
            if what == "final state" and side == "post"
            else "the state drifts through the leading padding before the real steps"
        )
        parts.append(f"{item!r} is wrong without a mask ({why})")
    for item in missing:
        parts.append(f"{item!r} is right: nothing has been padded before those steps")
    return _not_yet("; ".join(parts) + ".")
