"""How long the padding doctor takes on a two-layer model (lesson 12, issue 15's speed target).

Input: 16 token-id sequences, lengths uniform in 1..30 (seed 0), ids 1..19.
One `doctor.check_padding` call with its defaults: 2 sides x 2 extra paddings
(0, 5), so 4 padded-batch calls plus 16 calls of one sequence alone: 20 model
calls. Models (seeded weights, `lessons_lib.doctor_zoo`):

- Keras: `keras_explicit_mask`, Embedding -> LSTM(8, return_sequences=True,
  mask=) -> LSTM(8, mask=); the doctor runs it in one shape-free
  `tf.function` (traced once per check, which is included in the time);
- the same Keras model through a plain function (`f(padded, lengths)`), so
  every call is eager: what the doctor would cost without the `tf.function`;
- torch: `PackedLSTM(num_layers=2)`, packed with `enforce_sorted=False`.

Each check builds nothing: the model is built once; every timed run is a
complete `check_padding` call. Median, min and max of the repeated runs.
"""

from __future__ import annotations

import gc
import statistics
import time

import numpy as np

import lessons_lib as ll
from _common import Section
from lessons_lib import doctor
from lessons_lib import doctor_zoo as zoo

N_SEQUENCES = 16
MAX_LEN = 30
GOAL_S = 5.0


def _times(fn, repeats: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def run(quick: bool = False) -> list[Section]:
    repeats = 3 if quick else 7
    lengths = ll.random_lengths(N_SEQUENCES, 1, MAX_LEN, seed=0)
    seqs = ll.random_token_sequences(lengths, zoo.VOCAB, seed=0)
    keras_model = zoo.build("keras_explicit_mask")
    with_torch = zoo.torch_class("PackedLSTM")(num_layers=2)
    zoo.honest_weights(with_torch, seed=0)
    candidates = {
        "Keras, two LSTMs with mask= (doctor's tf.function)": keras_model,
        "Keras, same model through f(padded, lengths) (eager calls)": lambda padded, lengths: keras_model(padded),
        "torch, 2-layer packed LSTM": with_torch,
    }
    sec = Section(
        f"Padding doctor: {N_SEQUENCES} sequences (lengths 1..{MAX_LEN}), 2 sides x 2 extra paddings",
        "Wall time of one `doctor.check_padding(model, sequences)` call with the default sides and amounts "
        f"(20 model calls: 4 padded batches + {N_SEQUENCES} sequences alone). Median of {repeats} runs (3 for the "
        "eager row) after one warm-up, with min and max. Every model passes (it is padding-invariant).",
        ["model", "median", "min", "max", "verdict"],
    )
    for name, model in candidates.items():
        report = doctor.check_padding(model, seqs)
        assert report.ok and len(report.rows) == 4 * N_SEQUENCES, name
        # The eager row is ~10x slower and only there for comparison: fewer runs.
        runs = _times(lambda m=model: doctor.check_padding(m, seqs), 3 if "eager" in name else repeats)
        median = statistics.median(runs)
        sec.rows.append([name, f"{median:.2f} s", f"{min(runs):.2f} s", f"{max(runs):.2f} s",
                         "pass" if report.ok else "fail"])
        sec.data[name] = {"median_s": median, "min_s": min(runs), "max_s": max(runs), "runs_s": runs}
    slowest = max(v["median_s"] for k, v in sec.data.items() if "eager" not in k)
    met = "met" if slowest < GOAL_S else "NOT met"
    sec.notes.append(
        f"Goal (a two-layer Keras or torch model, {N_SEQUENCES} sequences, 2 sides, 2 amounts, under {GOAL_S:.0f} s): "
        f"{met}; the slower of the doctor's two runs takes {slowest:.2f} s (median)."
    )
    sec.data["goal_s"] = GOAL_S
    sec.data["lengths"] = np.asarray(lengths).tolist()
    return [sec]
