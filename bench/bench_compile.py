"""Eager against torch.compile for the export-friendly (padded + lengths) LSTM, forward only.

The model is lesson 11's ``PaddedBiLSTM`` (``lessons_lib.export``): two
one-direction LSTMs over the padded batch, the backward one on the input
reversed within lengths, each read at its last real step. It is compiled with
``fullgraph=True`` and torch's default backend (Inductor); torch 2.13 needs
``torch._dynamo.config.allow_rnn = True`` for that (without it, Dynamo
graph-breaks on every ``nn.LSTM``). The compile warm-up (the first call,
with an empty Inductor cache) and the first call at a new length (a
recompile with dynamic shapes) are reported too. The packed model
(``PackedBiLSTM``, same weights) runs eagerly as a reference: it does
sum(lengths) steps instead of batch x max_len.

One thread, ``torch.no_grad()``, median of repeats with min, max and the
interquartile range. Outputs are checked equal (1e-5) before timing.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time

import lessons_lib as ll
from _common import THREADS, Section, ms, ratio
from lessons_lib import cost

N_FEATURES = 16
UNITS = 64
N_CLASSES = 4
BATCH = 64
MAX_LEN = 200


def _spread(fn, repeats: int, warmup: int = 2) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "q1": q1, "q3": q3,
            "repeats": repeats}


def _lstm_kernels(fn) -> dict[str, int]:
    """The LSTM-like kernels one call of ``fn`` runs, with their counts (torch.profiler)."""
    from torch.profiler import profile

    with profile() as prof:
        fn()
    return {e.key: e.count for e in prof.key_averages() if "lstm" in e.key.lower() or "rnn" in e.key.lower()}


def _fmt(t: dict[str, float]) -> str:
    return f"{ms(t['median'])} ({t['min'] * 1e3:.1f} to {t['max'] * 1e3:.1f})"


def bench_compile(quick: bool) -> Section:
    import torch
    from lessons_lib import export as ex

    batch = 16 if quick else BATCH
    max_len = 40 if quick else MAX_LEN
    repeats = 3 if quick else 21
    lengths = ll.random_lengths(batch, 1, max_len, seed=1)
    x, lengths_t = ex.post_padded_batch(lengths, N_FEATURES, seed=2)
    other_lengths = ll.random_lengths(batch, 1, max_len // 2, seed=3)  # another max length: a new shape
    x_other, lengths_other = ex.post_padded_batch(other_lengths, N_FEATURES, seed=4)

    torch.manual_seed(0)
    packed = ex.PackedBiLSTM(N_FEATURES, UNITS, N_CLASSES).eval()
    padded = ex.copy_packed_weights(packed, ex.PaddedBiLSTM(N_FEATURES, UNITS, N_CLASSES)).eval()

    saved_cache = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    saved_allow_rnn = torch._dynamo.config.allow_rnn
    with tempfile.TemporaryDirectory() as cache, torch.no_grad():
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache  # a cold compile, as on a fresh machine
        torch._dynamo.config.allow_rnn = True
        torch._dynamo.reset()
        try:
            compiled = torch.compile(padded, fullgraph=True)
            t0 = time.perf_counter()
            y_compiled = compiled(x, lengths_t)
            warmup_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            y_other = compiled(x_other, lengths_other)
            new_length_s = time.perf_counter() - t0
            y_eager, y_packed = padded(x, lengths_t), packed(x, lengths_t)
            for name, got, want in (("padded eager vs packed", y_eager, y_packed),
                                    ("compiled vs packed", y_compiled, y_packed),
                                    ("compiled vs packed, new length", y_other, packed(x_other, lengths_other))):
                diff = float((got - want).abs().max())
                if diff > 1e-5:
                    raise AssertionError(f"{name}: max abs diff {diff:.3g} > 1e-5")
            kernels = {"eager": _lstm_kernels(lambda: padded(x, lengths_t)),
                       "compiled": _lstm_kernels(lambda: compiled(x, lengths_t))}
            t = {
                "eager padded": _spread(lambda: padded(x, lengths_t), repeats),
                "compiled padded": _spread(lambda: compiled(x, lengths_t), repeats),
                "eager packed": _spread(lambda: packed(x, lengths_t), repeats),
            }
        finally:
            torch._dynamo.config.allow_rnn = saved_allow_rnn
            torch._dynamo.reset()
            if saved_cache is None:
                os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
            else:
                os.environ["TORCHINDUCTOR_CACHE_DIR"] = saved_cache

    p_steps, k_steps = cost.padded_steps(lengths), cost.packed_steps(lengths)
    sec = Section(
        f"torch.compile vs eager, padded + lengths BiLSTM, forward only (batch {batch}, lengths 1..{max_len}, "
        f"{N_FEATURES} features, {UNITS} units, {THREADS} thread)",
        "Lesson 11's export-friendly model. 'compiled' is `torch.compile(model, fullgraph=True)` (Inductor, "
        "with `torch._dynamo.config.allow_rnn = True`); 'packed' is the packing model, same weights, eager. "
        "Times: median (min to max) of repeated forward calls under `torch.no_grad()`. Warm-up: the first "
        "compiled call, with an empty Inductor cache; new length: the first call at another max length "
        "(Dynamo recompiles with dynamic shapes).",
        ["eager padded", "compiled padded", "eager / compiled", "eager packed", "compile warm-up",
         "first call, new length", "padded steps", "packed steps"],
    )
    sec.rows.append([_fmt(t["eager padded"]), _fmt(t["compiled padded"]),
                     ratio(t["eager padded"]["median"] / t["compiled padded"]["median"]), _fmt(t["eager packed"]),
                     f"{warmup_s:.1f} s", f"{new_length_s:.1f} s", p_steps, k_steps])
    sec.notes.append(
        "The step counts are exact: packing would do packed/padded of the padded model's LSTM steps. "
        "The compiled model still runs every padded step; what compiling can save is per-call overhead "
        "around the LSTM kernel, which it keeps as one call."
    )
    sec.notes.append("LSTM kernels per call (torch.profiler): eager " + str(kernels["eager"])
                     + "; compiled " + str(kernels["compiled"]) + ".")
    sec.data = {
        "conditions": {"device": "CPU", "threads": THREADS, "batch": batch, "lengths": f"uniform 1..{max_len}, seed 1",
                       "max_len": int(lengths.max()), "n_features": N_FEATURES, "units": UNITS,
                       "backend": "inductor", "fullgraph": True, "grad": False, "repeats": repeats},
        "times_s": t,
        "compile_warmup_s": warmup_s,
        "first_call_new_length_s": new_length_s,
        "lstm_kernels_per_call": kernels,
        "padded_steps": p_steps,
        "packed_steps": k_steps,
    }
    return sec


def run(quick: bool = False) -> list[Section]:
    return [bench_compile(quick)]
