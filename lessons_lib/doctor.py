"""A padding-leak doctor: does a model ignore its padding?

The test is *padding invariance*. Each sequence's result from a padded batch
must equal its result when it runs alone, as a batch of one, without any
padding, whatever the padding side and amount. :func:`check_padding` runs
that test on any model:

- a Keras model or layer, called as ``model(padded, training=False)``;
- a torch ``nn.Module``, called as ``model(padded, lengths)`` in eval mode
  under ``torch.no_grad()``, with ``padded`` a tensor on the module's device
  and ``lengths`` a CPU int64 tensor (what ``pack_padded_sequence`` wants);
- any other callable, called as ``f(padded, lengths)`` with NumPy arrays.

A torch module or callable whose signature has a ``padding`` parameter also
gets ``padding="post"`` or ``"pre"``: a model that takes lengths must know
which side its padding is on. Any other calling convention (several inputs,
a mask instead of lengths, a dict) fits in a small callable, for example
``lambda padded, lengths, padding: model([padded, sequence_mask(lengths,
padded.shape[1], padding=padding)])``.

On the TensorFlow backend a Keras model runs inside one ``tf.function`` with
a shape-free input signature (about ten times faster than eager calls here;
``bench/bench_doctor.py``), or eagerly if it cannot be traced. Warnings the
model emits are recorded in ``report.warnings``, not shown.

Floats are passed as float32 and integers (token ids) as int64. Keras models
and torch modules run in inference mode (no dropout), and neither the model
nor the sequences are changed: a torch module's training flags are put back
afterwards.

:func:`trace_mask` shows, for a Keras model, each layer's mask in and mask
out, in call order, and where the mask disappears. Its limits: a nested model
is one row (trace it separately), and only one-input models are traced.
"""

from __future__ import annotations

import gc
import inspect
import logging
import math
import numbers
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validate import check_count, check_side
from .masks import sequence_mask  # noqa: F401  (the docstring example uses it)
from .padding import pad_sequences

__all__ = ["MaskTrace", "PaddingReport", "check_padding", "trace_mask"]


# --------------------------------------------------------------------------- inputs


def _as_sequences(sequences: Any) -> tuple[list[np.ndarray], np.dtype]:
    """Copies of the sequences as arrays, and the dtype the padded batch gets."""
    if isinstance(sequences, (str, bytes, dict)) or isinstance(sequences, np.ndarray) and sequences.ndim == 0:
        raise TypeError(f"sequences must be a list of 1-D or 2-D arrays, got {type(sequences).__name__}")
    try:
        items = list(sequences)
    except TypeError:
        raise TypeError(f"sequences must be a list of 1-D or 2-D arrays, got {type(sequences).__name__}") from None
    if not items:
        raise ValueError("sequences is empty: pass at least one sequence")
    arrays = []
    for i, item in enumerate(items):
        if isinstance(item, (str, bytes)) or item is None:
            raise TypeError(f"sequences[{i}] is {item!r}; expected a list or array of numbers")
        if hasattr(item, "detach"):  # a torch tensor
            item = item.detach().cpu().numpy()
        try:
            arr = np.array(item)  # always a copy
        except (ValueError, TypeError) as exc:
            raise ValueError(f"sequences[{i}] is not a rectangular array of numbers ({exc})") from None
        if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise TypeError(f"sequences[{i}] holds non-numeric items (dtype {arr.dtype}); expected numbers")
        if arr.ndim not in (1, 2):
            raise ValueError(f"sequences[{i}] must be 1-D (time,) or 2-D (time, features), got shape {arr.shape}")
        if arr.shape[0] == 0:
            raise ValueError(
                f"sequences[{i}] has length 0: a sequence needs at least one real step "
                "(an empty sequence has no unpadded result to compare with)"
            )
        if arrays and (arr.ndim != arrays[0].ndim or arr.shape[1:] != arrays[0].shape[1:]):
            raise ValueError(
                f"sequences[{i}] has shape {arr.shape} but sequences[0] has shape {arrays[0].shape}; "
                "all must be 1-D, or all 2-D with the same number of features"
            )
        arrays.append(arr)
    floating = any(np.issubdtype(a.dtype, np.floating) for a in arrays)
    dtype = np.dtype(np.float32 if floating else np.int64)
    return [a.astype(dtype) for a in arrays], dtype


def _as_tuple(name: str, value: Any, check: Callable[[str, Any], Any]) -> tuple:
    if isinstance(value, (str, numbers.Number, np.generic)):
        value = (value,)
    try:
        values = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a value or a tuple of values, got {value!r}") from None
    if not values:
        raise ValueError(f"{name} is empty: give at least one value")
    out = []
    for i, v in enumerate(values):
        v = check(f"{name}[{i}]", v)
        if v not in out:
            out.append(v)
    return tuple(out)


def _check_atol(atol: Any) -> float:
    if isinstance(atol, (bool, np.bool_)) or not isinstance(atol, numbers.Real):
        raise TypeError(f"atol must be a number, got {atol!r}")
    if not (atol >= 0 and math.isfinite(atol)):
        raise ValueError(f"atol must be a finite number >= 0, got {atol!r}")
    return float(atol)


def _check_value(value: Any, dtype: np.dtype) -> Any:
    v = np.asarray(value)
    if v.ndim != 0 or v.dtype == bool or not np.issubdtype(v.dtype, np.number):
        raise TypeError(f"value must be a number, got {value!r}")
    if np.issubdtype(dtype, np.integer) and not (math.isfinite(float(v)) and float(v) == round(float(v))):
        raise ValueError(f"value={value!r} cannot pad integer token ids; use an integer")
    return v.item()


# --------------------------------------------------------------------------- calling the model


def _kind(model: Any) -> str:
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.Layer):
        return "keras"  # checked first: on Keras's torch backend a Keras layer is also an nn.Module
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    if callable(model):
        return "callable"
    raise TypeError(f"model must be a Keras model, a torch nn.Module or a callable f(padded, lengths), got {type(model).__name__}")


def _takes_padding(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    p = params.get("padding")
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


def _leaves(out: Any, where: str) -> list[np.ndarray]:
    """A model's output (array, tensor, or a list/tuple/dict of them) as a flat list of float64 arrays."""
    if type(out).__name__ == "PackedSequence":  # a tuple subclass: test it first
        raise TypeError(
            f"{where}: the model returned a PackedSequence; return a padded tensor "
            "(nn.utils.rnn.pad_packed_sequence) or a final state instead"
        )
    if isinstance(out, dict):
        return [leaf for key in sorted(out, key=str) for leaf in _leaves(out[key], where)]
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in _leaves(item, where)]
    if hasattr(out, "detach"):  # torch
        out = out.detach().cpu().numpy()
    elif hasattr(out, "numpy") and not isinstance(out, np.ndarray):  # TensorFlow
        out = out.numpy()
    arr = np.asarray(out)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{where}: the model returned {type(out).__name__} with dtype {arr.dtype}; expected numbers")
    return [arr.astype(np.float64)]


class _NeverUsedFilter(logging.Filter):
    """Drops TensorFlow's "Object was never used" log records.

    An exception raised inside a Keras RNN loop leaves TensorArrays behind,
    and TensorFlow logs each one when it is garbage collected.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Object was never used" not in record.getMessage()


class _Runner:
    """Calls one model the way its kind wants, in inference mode, recording warnings.

    A Keras model on the TensorFlow backend runs inside one ``tf.function``
    with a shape-free input signature, traced once for every batch shape:
    several times faster than eager calls. If it cannot be traced, it runs
    eagerly.
    """

    def __init__(self, model: Any):
        self.model = model
        self.kind = _kind(model)
        self.warnings: list[str] = []
        self.had_error = False
        fn = model.forward if self.kind == "torch" else model
        self.takes_padding = self.kind != "keras" and _takes_padding(fn)
        self._graph: dict[tuple, Any] = {}
        self._eager = True
        if self.kind == "keras":
            import keras

            self._eager = keras.backend.backend() != "tensorflow"

    def __enter__(self) -> _Runner:
        self._caught = warnings.catch_warnings(record=True)
        self._log = self._caught.__enter__()
        warnings.simplefilter("always")
        if self.kind == "torch":
            import torch

            self._flags = [(m, m.training) for m in self.model.modules()]
            self.model.eval()
            self._no_grad = torch.no_grad()
            self._no_grad.__enter__()
            first = next(iter(self.model.parameters()), None)
            if first is None:
                first = next(iter(self.model.buffers()), None)
            self._device = first.device if first is not None else None
        return self

    def __exit__(self, *exc) -> None:
        if self.kind == "torch":
            self._no_grad.__exit__(*exc)
            for module, flag in self._flags:
                module.training = flag
        self._caught.__exit__(*exc)
        for w in self._log:
            text = str(w.message)
            if text not in self.warnings:
                self.warnings.append(text)
        if self.had_error and self.kind == "keras":
            tf_logger, quiet = logging.getLogger("tensorflow"), _NeverUsedFilter()
            tf_logger.addFilter(quiet)
            try:
                gc.collect()
            finally:
                tf_logger.removeFilter(quiet)

    def _keras(self, x: np.ndarray) -> Any:
        if not self._eager:
            key = (x.ndim, x.dtype.str)
            if key not in self._graph:
                import tensorflow as tf

                fn = tf.function(lambda t: self.model(t, training=False), reduce_retracing=True)
                try:
                    self._graph[key] = fn.get_concrete_function(tf.TensorSpec([None] * x.ndim, x.dtype))
                except Exception:  # noqa: BLE001 - not traceable (Python-side logic): run eagerly
                    self._eager = True
                    return self.model(x, training=False)
            return self._graph[key](x)
        return self.model(x, training=False)

    def __call__(self, padded: np.ndarray, lengths: np.ndarray, side: str) -> Any:
        kwargs = {"padding": side} if self.takes_padding else {}
        try:
            if self.kind == "keras":
                return self._keras(padded)
            if self.kind == "torch":
                import torch

                x = torch.from_numpy(padded.copy())
                if self._device is not None:
                    x = x.to(self._device)
                return self.model(x, torch.from_numpy(lengths.copy()), **kwargs)
            return self.model(padded.copy(), lengths.copy(), **kwargs)
        except Exception:
            self.had_error = True
            raise


class _Failed(str):
    """The text of an exception a model call raised (kept instead of the exception and its frames)."""


def _describe(exc: BaseException) -> str:
    """``Name: first line`` of an exception, without ANSI colours or Keras's wrapper text."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    parts = [p.strip() for p in text.split("\n\n") if p.strip()]
    if len(parts) > 1 and parts[0].startswith("Exception encountered"):
        text = parts[1]
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:160]}"


def _wrong_batch(leaves: list[np.ndarray], batch: int) -> str | None:
    """Why the outputs do not have ``batch`` rows first, or None when they do."""
    for j, leaf in enumerate(leaves):
        if leaf.ndim == 0 or leaf.shape[0] != batch:
            which = f"output {j}" if len(leaves) > 1 else "output"
            return f"the model's {which} has shape {leaf.shape} but the batch has {batch} sequence(s)"
    return None


# --------------------------------------------------------------------------- the report


def _fmt_diff(d: float, atol: float) -> str:
    if math.isinf(d):
        return "error" if d > 0 else "-"
    return f"< {atol:.0e}" if d <= atol else f"{d:.3g}"


@dataclass
class PaddingReport:
    """The result of :func:`check_padding`.

    Attributes:
        ok: True when every sequence matched its unpadded result within
            ``atol`` in every case (padding side x extra padding) tried.
        max_diff: the largest absolute difference seen (``inf`` where the
            model raised).
        rows: one dict per case and sequence: ``padding``, ``extra_padding``,
            ``sequence`` (its index), ``length``, ``max_diff``, ``ok``, and
            ``error`` (the model's exception as text, or None).
        atol: the tolerance used.
        per_step: for each model output, whether it was compared step by step.
        warnings: the distinct warnings the model emitted during the calls.
    """

    ok: bool
    max_diff: float
    rows: list[dict]
    atol: float
    per_step: list[bool] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def worst(self) -> dict:
        """The row with the largest difference (the first one on a tie)."""
        return max(self.rows, key=lambda r: r["max_diff"])

    def cases(self) -> list[dict]:
        """One dict per (padding, extra_padding): ``max_diff``, ``failing`` (count), ``sequences``."""
        out: dict[tuple, dict] = {}
        for r in self.rows:
            case = out.setdefault(
                (r["padding"], r["extra_padding"]),
                {"padding": r["padding"], "extra_padding": r["extra_padding"], "max_diff": 0.0, "failing": 0, "sequences": 0},
            )
            case["max_diff"] = max(case["max_diff"], r["max_diff"])
            case["failing"] += not r["ok"]
            case["sequences"] += 1
        return list(out.values())

    def diffs(self, padding: str, extra_padding: int) -> np.ndarray:
        """Per-sequence differences for one case, in sequence order."""
        found = [r["max_diff"] for r in self.rows if r["padding"] == padding and r["extra_padding"] == extra_padding]
        if not found:
            tried = sorted({(r["padding"], r["extra_padding"]) for r in self.rows})
            raise ValueError(f"no case padding={padding!r}, extra_padding={extra_padding!r} in this report; tried {tried}")
        return np.array(found)

    def verdict(self) -> str:
        """The verdict that ends ``str(report)``: one line, or two when the model is not invariant."""
        cases = self.cases()
        n = cases[0]["sequences"]
        if self.ok:
            return f"OK: padding-invariant within atol {self.atol:.0e} in all {len(cases)} cases ({n} sequences each)"
        w = self.worst
        failing = sum(c["failing"] > 0 for c in cases)
        where = f"padding={w['padding']!r}, extra_padding={w['extra_padding']}, sequence {w['sequence']} (length {w['length']})"
        if w["error"]:
            return f"NOT invariant in {failing} of {len(cases)} cases; the model failed\nwith {where}: {w['error']}"
        return (
            f"NOT invariant in {failing} of {len(cases)} cases; max diff {w['max_diff']:.3g} > atol {self.atol:.0e}\n"
            f"worst: {where}"
        )

    def __str__(self) -> str:
        lines = ["padding  extra  max diff  failing"]
        for c in self.cases():
            lines.append(
                f"{c['padding']:7s}  {c['extra_padding']:5d}  {_fmt_diff(c['max_diff'], self.atol):8s}  "
                f"{c['failing']} of {c['sequences']}"
            )
        for text in self.warnings[:3]:
            lines.append("warning: " + text.split(". ")[0].strip()[:150])
        if len(self.warnings) > 3:
            lines.append(f"... and {len(self.warnings) - 3} more warning(s) in report.warnings")
        lines.append(self.verdict())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<PaddingReport ok={self.ok} max_diff={self.max_diff:.3g}: {len(self.rows)} rows; print() it for the table>"


# --------------------------------------------------------------------------- check_padding


def _per_step_flags(per_step: bool | None, calls: dict, refs: list, lengths: np.ndarray) -> list[bool]:
    """For each output leaf: compare step by step (True) or whole (False)."""
    some = next(iter(v for v in calls.values() if not isinstance(v, _Failed)), None)
    ref = next((r for r in refs if not isinstance(r, _Failed)), None)
    n_leaves = len(some if some is not None else ref)
    flags = []
    for j in range(n_leaves):
        padded_ok = all(
            isinstance(v, _Failed) or (v[j].ndim >= 2 and v[j].shape[1] == steps)
            for (_, _, steps), v in calls.items()
        )
        refs_ok = all(isinstance(r, _Failed) or (r[j].ndim >= 2 and r[j].shape[1] == n) for r, n in zip(refs, lengths))
        has_time = padded_ok and refs_ok
        if per_step is True and not has_time:
            shapes = [v[j].shape for v in calls.values() if not isinstance(v, _Failed)][:1]
            raise ValueError(
                f"per_step=True but output {j} (shape {shapes[0] if shapes else '?'}) has no time axis "
                "as long as the batch's (axis 1)"
            )
        flags.append(has_time if per_step is None else per_step)
    return flags


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    both_nan = np.isnan(a) & np.isnan(b)
    d = np.abs(a - b)
    d = np.where(both_nan, 0.0, d)
    d = np.where(np.isnan(d), np.inf, d)
    return float(d.max()) if d.size else 0.0


def check_padding(
    model: Any,
    sequences: Sequence[Any],
    *,
    padding: str | Iterable[str] = ("post", "pre"),
    extra_padding: int | Iterable[int] = (0, 5),
    value: float = 0,
    per_step: bool | None = None,
    atol: float = 1e-5,
) -> PaddingReport:
    """Test that ``model`` gives each sequence the same result padded in a batch as alone.

    For each padding side and each amount of extra padding, the sequences are
    padded into one batch of ``max length + extra`` steps and the model runs
    once on it. Each sequence also runs alone, as a batch of one, unpadded:
    its *reference*. An output whose axis 1 is as long as the batch's time
    axis (in every call) is compared at the real steps only; any other output
    is compared whole, row by row.

    Args:
        model: a Keras model (``model(padded, training=False)``), a torch
            ``nn.Module`` (``model(padded, lengths)``, lengths a CPU int64
            tensor, eval mode, no grad), or any callable ``f(padded, lengths)``
            taking NumPy arrays. A torch module or callable with a ``padding``
            parameter also gets ``padding="post"`` or ``"pre"``.
        sequences: list of 1-D token-id or 2-D ``(time, features)`` arrays,
            each at least one step long.
        padding: the sides to try, "post" and/or "pre".
        extra_padding: padded steps added beyond the longest sequence; 0 leaves
            the longest one unpadded, so add more to pad every sequence.
        value: the padding value.
        per_step: None (decide per output, as above), True or False to force it.
        atol: largest absolute difference that still counts as equal.

    Returns:
        A :class:`PaddingReport`; ``print(report)`` shows a table and a verdict.

    An exception raised by the model in some calls is recorded as a failure of
    those rows (``row["error"]``); if every call raises, it is re-raised.

    Example:
        >>> def mean_over_real_steps(padded, lengths, padding):
        ...     mask = sequence_mask(lengths, padded.shape[1], padding=padding)
        ...     return (padded * mask).sum(axis=1) / lengths
        >>> seqs = [np.array([1.0, 2.0, 3.0]), np.array([4.0])]
        >>> check_padding(mean_over_real_steps, seqs).ok
        True
        >>> report = check_padding(lambda padded, lengths: padded.mean(axis=1), seqs)
        >>> print(report.verdict())
        NOT invariant in 4 of 4 cases; max diff 3.5 > atol 1e-05
        worst: padding='post', extra_padding=5, sequence 1 (length 1)
    """
    runner = _Runner(model)  # TypeError for a model that is not callable
    items, dtype = _as_sequences(sequences)
    sides = _as_tuple("padding", padding, check_side)
    extras = _as_tuple("extra_padding", extra_padding, lambda n, v: check_count(n, v))
    if per_step is not None and not isinstance(per_step, (bool, np.bool_)):
        raise TypeError(f"per_step must be None, True or False, got {per_step!r}")
    atol = _check_atol(atol)
    value = _check_value(value, dtype)
    lengths = np.array([len(a) for a in items], dtype=np.int64)
    longest = int(lengths.max())

    calls: dict[tuple[str, int, int], Any] = {}
    refs: list[Any] = []
    first_error: list[BaseException] = []
    with runner:
        for i, seq in enumerate(items):
            where = f"sequence {i} run alone"
            try:
                out = runner(seq[None], lengths[i : i + 1], "post")
            except Exception as exc:  # noqa: BLE001 - the model's own failure is a finding
                refs.append(_Failed(_describe(exc) + " (when run alone)"))
                first_error = first_error or [exc]
                continue
            leaves = _leaves(out, where)
            wrong = _wrong_batch(leaves, 1)
            # A model that only fits one batch (a constant mask=) may broadcast a batch of one: a finding.
            refs.append(_Failed(f"{wrong} (when run alone)") if wrong else leaves)
        for side in sides:
            for extra in extras:
                steps = longest + extra
                padded = pad_sequences(items, steps, padding=side, value=value, dtype=dtype)
                where = f"padding={side!r}, extra_padding={extra}"
                try:
                    out = runner(padded, lengths, side)
                except Exception as exc:  # noqa: BLE001
                    calls[(side, extra, steps)] = _Failed(_describe(exc))
                    first_error = first_error or [exc]
                    continue
                leaves = _leaves(out, where)
                wrong = _wrong_batch(leaves, len(items))
                if wrong:  # the output's layout is wrong: nothing can be compared
                    raise ValueError(
                        f"{where}: {wrong}; the batch axis must come first "
                        "(for a torch h_n of shape (layers, batch, units), return h_n[-1])"
                    )
                calls[(side, extra, steps)] = leaves
        if all(isinstance(v, _Failed) for v in [*refs, *calls.values()]):
            raise first_error[0]
        first_error.clear()  # its traceback holds the model's frames: let them go now
    n_leaves = {len(v) for v in [*calls.values(), *refs] if not isinstance(v, _Failed)}
    if len(n_leaves) > 1:
        raise ValueError(f"the model returned a different number of outputs from call to call: {sorted(n_leaves)}")
    flags = _per_step_flags(per_step, calls, refs, lengths)

    rows = []
    for (side, extra, steps), out in calls.items():
        for i, n in enumerate(lengths):
            ref = refs[i]
            error = out if isinstance(out, _Failed) else ref if isinstance(ref, _Failed) else None
            if error is not None:
                diff, text = math.inf, str(error)
            else:
                diff, text = 0.0, None
                for j, step_wise in enumerate(flags):
                    got = out[j][i]
                    if step_wise:
                        got = got[:n] if side == "post" else got[steps - n :]
                    want = ref[j][0]
                    if got.shape != want.shape:
                        raise ValueError(
                            f"padding={side!r}, extra_padding={extra}: output {j} of sequence {i} has shape "
                            f"{got.shape} in the batch but {want.shape} alone; pass per_step=True or False"
                        )
                    diff = max(diff, _difference(got, want))
            rows.append(
                {"padding": side, "extra_padding": extra, "sequence": i, "length": int(n), "max_diff": diff,
                 "ok": bool(diff <= atol), "error": text}
            )
    max_diff = max(r["max_diff"] for r in rows)
    return PaddingReport(
        ok=all(r["ok"] for r in rows), max_diff=max_diff, rows=rows, atol=atol, per_step=flags, warnings=runner.warnings
    )


# --------------------------------------------------------------------------- trace_mask


class MaskTrace(list):
    """What :func:`trace_mask` returns: a list of row dicts that prints as a table.

    ``lost_at`` is the name of the first layer that drops the mask, or None.
    """

    lost_at: str | None = None

    def __str__(self) -> str:
        lines = [f"{'layer':20s} {'class':20s} mask in  mask out  masked steps  warned"]
        for r in self:
            masked = "-" if r["masked_steps"] is None else str(r["masked_steps"])
            lines.append(
                f"{r['layer'][:20]:20s} {r['class'][:20]:20s} {str(r['mask_in']):8s} {str(r['mask_out']):9s} "
                f"{masked:13s} {str(r['warned']):6s} {'<- mask lost' if r['lost'] else ''}".rstrip()
            )
        lines.append(f"mask lost at: {self.lost_at}" if self.lost_at else "mask lost at: nowhere")
        return "\n".join(lines)


def _mask_of(x: Any):
    return getattr(x, "_keras_mask", None)


def _trace_op(op: Any, args: tuple, kwargs: dict, steps: int, rows: list) -> Any:
    import keras

    flat_in = [t for t in keras.tree.flatten((args, kwargs)) if t is not None]
    explicit = kwargs.get("mask") is not None
    mask_in = explicit or any(_mask_of(t) is not None for t in flat_in)
    if getattr(op, "_call_has_training_arg", False) or "training" in getattr(op, "_call_context_args", ()):
        kwargs = {**kwargs, "training": False}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = op(*args, **kwargs)
    flat_out = [t for t in keras.tree.flatten(out) if t is not None]
    masks = [_mask_of(t) for t in flat_out if _mask_of(t) is not None]
    first = next((t for t in keras.tree.flatten(args) if hasattr(t, "shape")), None)
    in_rank = len(first.shape) if first is not None else 2
    # A (batch, units) output of a (batch, time, features) input has no time axis, even when units == time.
    time_axis = any(len(t.shape) >= max(2, in_rank) and t.shape[1] == steps for t in flat_out)
    consumes = bool(getattr(op, "_call_has_mask_arg", False))
    masked = int(sum(int(np.size(m) - np.count_nonzero(np.asarray(m))) for m in masks)) if masks else None
    if not isinstance(op, keras.Layer) and flat_out and all("bool" in str(t.dtype) for t in flat_out):
        return out  # a mask computation (Embedding's or Masking's not_equal/any, or your own): not a layer
    rows.append(
        {
            "layer": op.name,
            "class": type(op).__name__,
            "mask_in": bool(mask_in),
            "mask_out": bool(masks),
            "warned": any("mask" in str(w.message) for w in caught),
            "time_axis": bool(time_axis),
            "masked_steps": masked,
            # Lost: the output still has the time axis but no mask, or the layer dropped a mask it never read.
            "lost": bool(mask_in and not masks and (time_axis or not consumes)),
        }
    )
    return out


def trace_mask(keras_model: Any, padded: Any) -> MaskTrace:
    """Run a Keras model on ``padded`` step by step and say, per layer, whether a mask goes in and comes out.

    Each row, in call order: ``layer`` (name), ``class``, ``mask_in`` (a mask
    reached the layer: carried by an input tensor or passed as ``mask=``),
    ``mask_out`` (its output carries a mask), ``warned`` (Keras warned about a
    mask during the call: "will therefore destroy the mask information"),
    ``time_axis`` (the output still has the batch's time axis),
    ``masked_steps`` (how many (sequence, step) entries the output mask marks
    as padding; None without a mask) and ``lost``: the mask went in, and none
    came out although the output still has the time axis, or the layer does
    not read masks at all. A layer that reads the mask and removes the time
    axis (an LSTM returning its final state, masked pooling) consumes it,
    which is not a loss. ``trace.lost_at`` names the first lost row.

    A functional or ``Sequential`` model runs through its own graph, so a
    ``mask=`` passed explicitly in the graph counts; an unbuilt
    ``Sequential`` runs layer by layer, as Keras does. Limits: one input
    only; a nested model is one row (trace it on its own); operations that
    only compute a mask (boolean outputs, such as the ``not_equal`` inside
    ``Embedding``) are not listed; ``padded`` is
    converted to a plain array, so a ``_keras_mask`` it carries is dropped
    (the model's own layers must make the mask).

    Example:
        >>> import keras
        >>> with warnings.catch_warnings():  # Keras warns while it builds the model: Conv1D drops the mask
        ...     warnings.simplefilter("ignore")
        ...     model = keras.Sequential([keras.Input((None,), dtype="int32"),
        ...                               keras.layers.Embedding(5, 2, mask_zero=True, name="embed"),
        ...                               keras.layers.Conv1D(2, 3, padding="same", name="conv"),
        ...                               keras.layers.LSTM(2, name="lstm")])
        >>> trace = trace_mask(model, np.array([[1, 2, 0]]))
        >>> [(r["layer"], r["mask_in"], r["mask_out"]) for r in trace]
        [('embed', False, True), ('conv', True, False), ('lstm', False, False)]
        >>> trace.lost_at
        'conv'
    """
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(keras_model, keras.Layer):
        raise TypeError(f"keras_model must be a Keras model, got {type(keras_model).__name__}")
    if hasattr(padded, "detach"):
        padded = padded.detach().cpu().numpy()
    arr = np.array(padded)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"padded must hold numbers, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3):
        raise ValueError(f"padded must be 2-D (batch, time) or 3-D (batch, time, features), got shape {arr.shape}")
    graph = getattr(keras_model, "_functional", None) or keras_model
    rows: MaskTrace = MaskTrace()
    steps = arr.shape[1]
    if hasattr(graph, "_run_through_graph") and hasattr(graph, "inputs") and getattr(graph, "_nodes_by_depth", None):
        if len(graph.inputs) != 1:
            raise ValueError(f"trace_mask traces one-input models; this one has {len(graph.inputs)} inputs")
        x = keras.ops.convert_to_tensor(arr, dtype=graph.inputs[0].dtype)
        graph._run_through_graph(
            [x], operation_fn=lambda op: (lambda *args, **kwargs: _trace_op(op, args, kwargs, steps, rows))
        )
    elif isinstance(keras_model, keras.Sequential):
        x, mask = keras.ops.convert_to_tensor(arr), None
        for layer in keras_model.layers:
            kwargs = {"mask": mask} if getattr(layer, "_call_has_mask_arg", False) and mask is not None else {}
            x = _trace_op(layer, (x,), kwargs, steps, rows)
            mask = _mask_of(x)
    else:
        _trace_op(keras_model, (keras.ops.convert_to_tensor(arr),), {}, steps, rows)
    rows.lost_at = next((r["layer"] for r in rows if r["lost"]), None)
    return rows
