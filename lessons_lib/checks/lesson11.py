"""Checkers for lesson 11 (compile, export and serve a variable-length model).

Each checker prints "Correct: ..." or "Not yet: ..." with what is wrong, and
returns a truthy or falsy :class:`CheckResult`. None of them raises, whatever
it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from .. import export as ex
from ._common import CheckResult, checker, verdict

__all__ = ["EXPORT_CANDIDATES", "exercise_1", "exercise_2", "exercise_3"]

_ATOL = 1e-6


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else "no message"


# --- exercise 1: the gather of the last valid step -----------------------------------------------


def _exercise_1_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    out = torch.randn(4, 6, 3, generator=g)  # (batch, time, units), as an LSTM returns it
    lengths = torch.tensor([6, 2, 4, 1])
    return out, lengths


@checker
def exercise_1(answer: Any) -> CheckResult:
    """Is ``answer`` a function ``(out, lengths) -> (batch, units)`` reading each row at step lengths - 1?"""
    out, lengths = _exercise_1_data()
    rows = torch.arange(out.shape[0])
    expected = out[rows, lengths - 1]
    if answer is None:
        return verdict(False, "answer is still None; write a function last_valid_step(out, lengths).")
    if not callable(answer):
        return verdict(False, f"answer must be a function (out, lengths) -> tensor, got {type(answer).__name__}.")
    try:
        got = answer(out.clone(), lengths.clone())
    except IndexError as exc:
        return verdict(False, f"your function raised IndexError ({_first_line(exc)}). Row 0 has length 6 = the time "
                              "axis: indexing with lengths runs one past the end; the last real step is lengths - 1.")
    except Exception as exc:  # any mistake a learner can make
        return verdict(False, f"your function raised {type(exc).__name__} ({_first_line(exc)}).")
    if not isinstance(got, torch.Tensor):
        return verdict(False, f"your function must return a torch tensor, got {type(got).__name__}.")
    if tuple(got.shape) != tuple(expected.shape):
        hint = ""
        if tuple(got.shape) == (out.shape[0], out.shape[0], out.shape[2]):
            hint = " Indexing out[:, lengths - 1] picks every length for every row; pair rows with lengths: out[rows, lengths - 1]."
        return verdict(False, f"your function returned shape {tuple(got.shape)}, expected {tuple(expected.shape)} (batch, units).{hint}")
    got = got.detach().to(torch.float32)
    if torch.allclose(got, expected, atol=_ATOL):
        return verdict(True, "out[torch.arange(batch), lengths - 1] reads each row at its last real step,\n"
                             "with tensor ops only, so it compiles and exports.")
    if torch.allclose(got, out[:, -1], atol=_ATOL):
        return verdict(False, "that is out[:, -1], the last *padded* step: rows shorter than the batch's longest "
                              "have run over padding there. Use each row's own length.")
    if torch.allclose(got[[1, 2, 3]], out[rows, lengths.clamp(max=out.shape[1] - 1)][[1, 2, 3]], atol=_ATOL):
        return verdict(False, "that reads step lengths, one past the last real step (which is lengths - 1).")
    if torch.allclose(got, out[:, 0], atol=_ATOL):
        return verdict(False, "that is step 0, the first step. The last real step of row b is lengths[b] - 1.")
    return verdict(False, "the values are not the outputs at step lengths - 1 of each row.")


# --- exercise 2: pick the dynamic dimensions ----------------------------------------------------


def _axis_name(value: Any) -> str | None:
    """A Dim's name (``torch.export.Dim("batch")``) or a plain string; None for anything else."""
    if isinstance(value, str):
        return value
    name = getattr(value, "__name__", None)
    return name if isinstance(name, str) else None


@checker
def exercise_2(answer: Any) -> CheckResult:
    """Is ``answer`` a dynamic_shapes dict for ``forward(x, lengths)``: batch shared, time dynamic, features fixed?"""
    example = '{"x": {0: batch, 1: time}, "lengths": {0: batch}}'
    if answer is None:
        return verdict(False, f"answer is still None; write a dict shaped like\n{example}.")
    if not isinstance(answer, Mapping):
        return verdict(False, f"answer must be a dict keyed by forward's argument names, got {type(answer).__name__}.")
    unknown = sorted(map(str, set(answer) - {"x", "lengths"}))
    if unknown:
        return verdict(False, f"forward(x, lengths) has no argument(s) {unknown}; the keys are 'x' and 'lengths'.")
    missing = [k for k in ("x", "lengths") if k not in answer]
    if missing:
        return verdict(False, f"answer has no entry for {missing}; every input with a dynamic axis needs one.")
    axes: dict[str, dict[int, str]] = {}
    for key in ("x", "lengths"):
        spec = answer[key]
        if spec is None:
            spec = {}
        if not isinstance(spec, Mapping):
            return verdict(False, f"answer[{key!r}] must be a dict {{axis: Dim}}, got {type(spec).__name__}.")
        axes[key] = {}
        for axis, dim in spec.items():
            if not isinstance(axis, int) or isinstance(axis, bool):
                return verdict(False, f"answer[{key!r}] has the key {axis!r}; axes are ints (0, 1, ...).")
            name = _axis_name(dim)
            if name is None:
                return verdict(False, f"answer[{key!r}][{axis}] must be a torch.export.Dim (or a name), got {type(dim).__name__}.")
            axes[key][axis] = name
    x, lengths = axes["x"], axes["lengths"]
    bad_x = sorted(a for a in x if a not in (0, 1, 2))
    if bad_x or any(a != 0 for a in lengths):
        return verdict(False, "x has axes 0, 1, 2 (batch, time, features) and lengths only axis 0.")
    if 2 in x:
        return verdict(False, "axis 2 of x holds the features: the LSTM's input_size fixes it, so it must stay static.")
    if 0 not in x or 0 not in lengths:
        return verdict(False, "the batch size changes between requests: mark axis 0 of x and of lengths dynamic.")
    if 1 not in x:
        return verdict(False, "the time axis (axis 1 of x) is the whole point: sequences have other lengths in other batches.")
    if x[0] != lengths[0]:
        return verdict(False, f"x's batch is {x[0]!r} and lengths' batch is {lengths[0]!r}: it is one batch, so use the "
                              "same Dim for both (otherwise export may not relate them).")
    if x[1] == x[0]:
        return verdict(False, "batch and time got the same Dim, which tells export they are always equal.")
    return verdict(True, "batch shared by x and lengths, time dynamic, features static.")


# --- exercise 3: which module exports? ----------------------------------------------------------


class GatherWithIndex(ex.PaddedBiLSTM):
    """Reads the last real step with ``Tensor.gather`` and an index built from lengths."""

    def forward(self, x, lengths):
        index = (lengths - 1)[:, None, None].expand(-1, 1, self.head.in_features // 2)
        out_fw, _ = self.forward_lstm(x)
        out_bw, _ = self.backward_lstm(ex.reverse_within_lengths(x, lengths))
        last_fw, last_bw = out_fw.gather(1, index)[:, 0], out_bw.gather(1, index)[:, 0]
        return self.head(torch.cat([last_fw, last_bw], dim=-1))


class LastColumn(ex.PaddedBiLSTM):
    """Reads the last column of the padded outputs."""

    def forward(self, x, lengths):
        out_fw, _ = self.forward_lstm(x)
        out_bw, _ = self.backward_lstm(ex.reverse_within_lengths(x, lengths))
        return self.head(torch.cat([out_fw[:, -1], out_bw[:, -1]], dim=-1))


class PythonLoop(ex.PaddedBiLSTM):
    """Reads each row's last real step in a Python loop over the lengths."""

    def forward(self, x, lengths):
        out_fw, _ = self.forward_lstm(x)
        out_bw, _ = self.backward_lstm(ex.reverse_within_lengths(x, lengths))
        pairs = enumerate(lengths.tolist())
        last = [torch.cat([out_fw[i, n - 1], out_bw[i, n - 1]]) for i, n in pairs]
        return self.head(torch.stack(last))


#: The modules of exercise 3, by the names the learner answers with.
EXPORT_CANDIDATES = {"gather_with_index": GatherWithIndex, "last_column": LastColumn, "python_loop": PythonLoop}

# Measured on torch 2.13 (tests/test_checks_lesson11.py re-measures it): exported with a dynamic
# batch and time under export.lstm_while_loop_export(), then run on a batch of another size.
_TRUTH = {
    "gather_with_index": "exports, right numbers",
    "last_column": "exports, wrong numbers",
    "python_loop": "export fails",
}
_HINTS = {
    "last_column": "last_column exports fine, but out[:, -1] is the last padded step: the numbers are wrong\n"
                   "for every row shorter than the longest.",
    "python_loop": "python_loop calls lengths.tolist(): the values become Python ints, so export specializes\n"
                   "the batch to the example's and fails with 'Constraints violated'.",
    "gather_with_index": "gather_with_index is the same read as out[rows, lengths - 1], written with Tensor.gather:\n"
                         "tensor ops only, so it exports and gives the packed model's numbers.",
}


@checker
def exercise_3(answer: Any) -> CheckResult:
    """Is ``answer`` the set of candidate names that export with dynamic dims *and* give the right numbers?"""
    names = sorted(EXPORT_CANDIDATES)
    right = {n for n, v in _TRUTH.items() if v == "exports, right numbers"}
    if answer is None:
        return verdict(False, f"answer is still None; give a set of names chosen from\n{names}.")
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        return verdict(False, f"answer must be a set of names from {names}, got {type(answer).__name__}.")
    if not all(isinstance(a, str) for a in answer):
        return verdict(False, f"answer must hold names (strings) from {names}.")
    unknown = sorted(set(answer) - set(names))
    if unknown:
        return verdict(False, f"unknown name(s) {unknown}; choose from {names}.")
    chosen = set(answer)
    wrong_in = sorted(chosen - right)
    if wrong_in:
        return verdict(False, "\n".join(_HINTS[n] for n in wrong_in))
    if right - chosen:
        return verdict(False, "\n".join(_HINTS[n] for n in sorted(right - chosen)))
    return verdict(True, "only gather_with_index.\n" + _HINTS["last_column"] + "\n" + _HINTS["python_loop"])
