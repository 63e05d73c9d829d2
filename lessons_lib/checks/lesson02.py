"""Checkers for lesson 02 (Keras masking). Each prints feedback and returns True or False.

- :func:`exercise_1`: the mask ``keras.layers.Masking(mask_value=0.0)`` computes
  for :func:`exercise_1_data`;
- :func:`exercise_2`: a model over padded token ids that masks correctly
  (the fix for ``Masking`` after ``Embedding``);
- :func:`exercise_3`: the value a Keras MSE loss reports for masked outputs
  (:func:`exercise_3_data`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..masks import sequence_mask
from ..padding import pad_sequences
from ..synthetic import random_token_sequences
from ._common import CheckResult, answer_array
from ._common import verdict as _verdict

EXERCISE_2_VOCAB = 20
EXERCISE_2_LENGTHS = (6, 2, 4, 1)




def exercise_1_data() -> np.ndarray:
    """A ``(3, 4, 2)`` float32 batch: some steps all zero, some with only one zero feature."""
    x = np.array(
        [
            [[0.5, 0.0], [1.0, 2.0], [0.0, 0.0], [0.0, 0.0]],
            [[0.0, 0.0], [0.0, 0.0], [0.0, 3.0], [1.5, 0.0]],
            [[2.0, 1.0], [0.0, 0.0], [0.0, -1.0], [0.0, 0.0]],
        ],
        dtype=np.float32,
    )
    return x


def exercise_1(answer: Any) -> bool:
    """``answer``: ``(3, 4)`` bool, True where ``Masking(mask_value=0.0)`` keeps the step."""
    expected = np.any(exercise_1_data() != 0.0, axis=-1)
    arr = answer_array(answer, expected, "answer")
    if isinstance(arr, CheckResult):
        return arr
    if not np.array_equal(arr, expected):
        b, t = (int(i) for i in np.argwhere(arr != expected)[0])
        features = exercise_1_data()[b, t].tolist()
        why = (
            "one feature is non-zero, so the step is kept: a step is masked only when ALL features equal mask_value"
            if expected[b, t]
            else "every feature equals mask_value 0.0, so the step is masked"
        )
        return _verdict(False, f"step (batch {b}, time {t}) has features {features}: {why}.")
    return _verdict(True, "a step is masked only when all of its features equal mask_value.")


def exercise_2_batch(padding: str = "post") -> tuple[np.ndarray, list[np.ndarray]]:
    """The padded token batch the checker uses, and the unpadded sequences."""
    seqs = random_token_sequences(list(EXERCISE_2_LENGTHS), EXERCISE_2_VOCAB, seed=22)
    return pad_sequences(seqs, padding=padding), seqs


def exercise_2(model: Any) -> bool:
    """``model``: takes ``(batch, time)`` token ids in ``0 .. 19`` (0 = padding), returns the final LSTM output.

    It is correct when its output for a padded batch (post and pre) matches
    running each sequence alone.
    """
    if model is None:
        return _verdict(False, "model is still None; build a keras model from token ids to the final LSTM output.")
    if not callable(model):
        return _verdict(False, f"model should be a keras Model, got {type(model).__name__}.")
    import keras

    from ..keras_masking import run_one_by_one, short_error_message

    layers = getattr(model, "layers", [])
    if not any(isinstance(layer, keras.layers.LSTM) for layer in layers):
        return _verdict(False, "the model should contain a keras.layers.LSTM layer.")
    for padding in ("post", "pre"):
        padded, seqs = exercise_2_batch(padding)
        try:
            out = np.asarray(model(padded))
            ref = run_one_by_one(model, seqs)
        except Exception as exc:  # the learner's model may fail in many ways
            return _verdict(False, f"calling the model failed: {type(exc).__name__}: {short_error_message(exc)}")
        if out.ndim != 2 or out.shape[0] != len(seqs):
            return _verdict(False, f"the output should be 2-D (batch, units), got shape {out.shape}.")
        if np.allclose(ref, ref[:1], atol=1e-6):
            return _verdict(False, "the output does not depend on the tokens; feed them through Embedding and LSTM.")
        diff = float(np.abs(out - ref).max())
        if diff > 1e-5:
            return _verdict(
                False,
                f"with {padding}-padding the batch output differs from running each sequence alone by "
                f"{diff:.4f}; the padding is not masked (does the mask reach the LSTM?).",
            )
    return _verdict(True, "with post- and pre-padding the batch matches each sequence run alone (diff < 1e-05).")


def exercise_3_data() -> dict[str, np.ndarray]:
    """``y_true`` and ``y_pred`` of shape (2, 4, 1) and the ``mask`` (2, 4) that ``y_pred`` carries."""
    y_true = np.array([[1.0, 2.0, 0.0, 0.0], [3.0, 1.0, 0.0, 2.0]], dtype=np.float32)[..., None]
    y_pred = np.array([[2.0, 2.0, 4.0, 1.0], [1.0, 1.0, 3.0, 2.0]], dtype=np.float32)[..., None]
    mask = sequence_mask([2, 4], 4)
    return {"y_true": y_true, "y_pred": y_pred, "mask": mask}


def exercise_3(answer: Any) -> bool:
    """``answer``: the float ``keras.losses.MeanSquaredError()`` returns when ``y_pred`` carries ``mask``."""
    from ..keras_masking import masked_mean

    data = exercise_3_data()
    per_step = ((data["y_pred"] - data["y_true"]) ** 2).mean(axis=-1)
    expected = masked_mean(per_step, data["mask"])
    if answer is None:
        return _verdict(False, "answer is still None; give one float.")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _verdict(False, f"answer should be a float, got {type(answer).__name__}.")
    if abs(value - expected) < 1e-4:
        return _verdict(True, f"{expected:.4f} = sum of the squared errors at real steps / number of real steps.")
    if abs(value - per_step.mean()) < 1e-4:
        return _verdict(False, f"{value:.4f} is the mean over ALL steps; Keras leaves out the masked ones.")
    if abs(value - np.where(data["mask"], per_step, 0).sum() / per_step.size) < 1e-4:
        return _verdict(
            False, f"{value:.4f} zeroes the masked steps but still divides by all {per_step.size} steps."
        )
    return _verdict(False, f"{value:.4f} is not it; average the per-step squared errors over the real steps only.")
