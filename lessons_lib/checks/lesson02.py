"""Checkers for lesson 02 (Keras masking). Each prints feedback and returns True or False.

- :func:`exercise_1`: the mask ``keras.layers.Masking(mask_value=0.0)`` computes
  for :func:`exercise_1_data`;
- :func:`exercise_2`: a model over padded token ids that masks correctly
  (the fix for ``Masking`` after ``Embedding``);
- :func:`exercise_3`: the value a Keras MSE loss reports for masked outputs
  (:func:`exercise_3_data`).

No checker raises: any answer, junk included (None, a string, a number, a set, a
dict, an array of the wrong shape), gets "Not yet: ..." and the reason.
"""

from __future__ import annotations

import functools
import numbers
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from ..masks import sequence_mask
from ..padding import pad_sequences
from ..synthetic import random_token_sequences
from ._common import CheckResult, answer_array
from ._common import verdict as _verdict

EXERCISE_2_VOCAB = 20
EXERCISE_2_LENGTHS = (6, 2, 4, 1)
_NOT_AN_ARRAY = (str, bytes, set, frozenset, dict, numbers.Number)


def _say(ok: bool, message: str) -> CheckResult:
    """:func:`verdict`, with the printed text wrapped at 99 characters (lessons are projected)."""
    prefix = "Correct: " if ok else "Not yet: "
    glued = (prefix + message).replace("section ", "section\xa0")  # never "section" | "3"
    text = textwrap.fill(glued, width=99, break_long_words=False, break_on_hyphens=False)
    return _verdict(ok, text[len(prefix) :].replace("\xa0", " "))


def _never_raises(fn: Callable[[Any], CheckResult]) -> Callable[[Any], CheckResult]:
    """Turn any error raised while checking an answer into "Not yet: ..." (a checker never raises)."""

    @functools.wraps(fn)
    def wrapper(answer: Any) -> CheckResult:
        try:
            return fn(answer)
        except Exception as exc:  # a learner's answer can be anything
            text = " ".join(str(exc).split())[:200]
            return _say(False, f"this answer could not be checked ({type(exc).__name__}: {text}).")

    return wrapper


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


@_never_raises
def exercise_1(answer: Any) -> bool:
    """``answer``: ``(3, 4)`` bool, True where ``Masking(mask_value=0.0)`` keeps the step."""
    expected = np.any(exercise_1_data() != 0.0, axis=-1)
    if isinstance(answer, _NOT_AN_ARRAY):
        return _say(
            False, f"answer should be a (3, 4) bool array, True where the step is kept; got {type(answer).__name__}."
        )
    arr = answer_array(answer, expected, "answer")
    if isinstance(arr, CheckResult):
        return arr
    if np.array_equal(arr, ~expected):
        return _say(False, "your answer is inverted: in a Keras mask True means the step is KEPT.")
    if not np.array_equal(arr, expected):
        b, t = (int(i) for i in np.argwhere(arr != expected)[0])
        features = exercise_1_data()[b, t].tolist()
        why = (
            "one feature is non-zero, so the step is kept: a step is masked only when ALL features equal mask_value"
            if expected[b, t]
            else "every feature equals mask_value 0.0, so the step is masked"
        )
        return _say(False, f"step (batch {b}, time {t}) has features {features}: {why}.")
    return _say(True, "a step is masked only when all of its features equal mask_value.")


def exercise_2_batch(padding: str = "post") -> tuple[np.ndarray, list[np.ndarray]]:
    """The padded token batch the checker uses, and the unpadded sequences."""
    seqs = random_token_sequences(list(EXERCISE_2_LENGTHS), EXERCISE_2_VOCAB, seed=22)
    return pad_sequences(seqs, padding=padding), seqs


def _inner_layers(model: Any) -> list:
    """Every layer inside ``model``, nested ones (``Bidirectional``, sub-models) included, in order."""
    flatten = getattr(model, "_flatten_layers", None)
    if flatten is None:
        return []
    return [layer for layer in flatten(include_self=False, recursive=True) if layer is not model]


def _why_unmasked(layers: list) -> str:
    """A hint naming the masking mistake in ``layers`` (a model's layers, in order)."""
    import keras

    wrapped = {id(getattr(layer, side, None)) for layer in layers for side in ("forward_layer", "backward_layer")}
    recurrent = [
        layer
        for layer in layers
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)) and id(layer) not in wrapped
    ]
    embeddings = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Embedding)]
    maskings = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Masking)]
    mask_zero = [i for i in embeddings if getattr(layers[i], "mask_zero", False)]
    if mask_zero and any(j > mask_zero[0] for j in maskings):
        return (
            "Masking replaces an incoming mask: it computes a new one from the values it receives, and an "
            "embedded vector is never all 0.0, so the mask of Embedding(mask_zero=True) is thrown away "
            "(section 3). Remove the Masking layer."
        )
    if embeddings and any(j > embeddings[0] for j in maskings):
        return (
            "Masking after an Embedding masks nothing: token 0 becomes a non-zero vector, so no step has "
            "all features equal to mask_value (section 3). Give the Embedding mask_zero=True and remove the "
            "Masking layer."
        )
    if not mask_zero and not maskings:
        return "No layer makes a mask: give the Embedding mask_zero=True."
    if len(recurrent) > 1:
        return (
            "The mask may reach the first recurrent layer only (from Keras 3.16 recurrent layers do not pass "
            "it on): pass mask= to each recurrent layer, or use a single LSTM."
        )
    return "The padding is not masked: does the mask reach the LSTM?"


@_never_raises
def exercise_2(model: Any) -> bool:
    """``model``: takes ``(batch, time)`` token ids in ``0 .. 19`` (0 = padding), returns the final LSTM output.

    It is correct when its output for a padded batch (post and pre) matches
    running each sequence alone. An ``LSTM`` inside ``Bidirectional`` counts.
    """
    if model is None:
        return _say(False, "model is still None; build a keras model from token ids to the final LSTM output.")
    import keras

    from ..keras_masking import run_one_by_one, short_error_message

    if isinstance(model, type):
        return _say(False, f"model is the class {model.__name__}, not a model; build one, e.g. keras.Sequential([...]).")
    if isinstance(model, keras.layers.Layer) and not isinstance(model, keras.Model):
        return _say(
            False,
            f"model is a layer ({type(model).__name__}), not a model; put the layers in a model, "
            "e.g. keras.Sequential([keras.Input(...), keras.layers.Embedding(...), ...]).",
        )
    if not isinstance(model, keras.Model):
        return _say(False, f"model should be a keras Model (e.g. keras.Sequential([...])), got {type(model).__name__}.")
    layers = _inner_layers(model)
    if not any(isinstance(layer, keras.layers.LSTM) for layer in layers):
        return _say(False, "the model should contain a keras.layers.LSTM layer (Bidirectional(LSTM) counts).")
    for padding in ("post", "pre"):
        padded, seqs = exercise_2_batch(padding)
        try:
            out = model(padded)
        except Exception as exc:  # the learner's model may fail in many ways
            return _say(False, f"calling the model failed: {type(exc).__name__}: {short_error_message(exc)}")
        if isinstance(out, (list, tuple, dict)):
            return _say(
                False, f"the model returns {len(out)} tensors (return_state=True?); return only the final output."
            )
        out = np.asarray(out)
        if out.ndim == 3 and out.shape[:2] == padded.shape:
            return _say(
                False,
                f"the output has shape {out.shape}, one vector per step: the last LSTM has return_sequences=True. "
                "The exercise asks for the final output, shape (batch, units): leave return_sequences off.",
            )
        if out.ndim != 2 or out.shape[0] != len(seqs):
            return _say(False, f"the output should be 2-D (batch, units), got shape {out.shape}.")
        try:
            ref = run_one_by_one(model, seqs)
        except Exception as exc:
            return _say(
                False, f"running each sequence alone failed: {type(exc).__name__}: {short_error_message(exc)}"
            )
        if ref.shape != out.shape:
            return _say(False, f"each sequence alone gives shape {ref.shape[1:]}, the batch {out.shape[1:]}.")
        if np.allclose(ref, ref[:1], atol=1e-6):
            return _say(False, "the output does not depend on the tokens; feed them through Embedding and LSTM.")
        diff = float(np.abs(out - ref).max())
        if not diff <= 1e-5:
            return _say(
                False,
                f"with {padding}-padding the batch output differs from running each sequence alone by "
                f"{diff:.4f}. {_why_unmasked(layers)}",
            )
    return _say(True, "with post- and pre-padding the batch matches each sequence run alone (diff < 1e-05).")


def exercise_3_data() -> dict[str, np.ndarray]:
    """``y_true`` and ``y_pred`` of shape (2, 4, 1) and the ``mask`` (2, 4) that ``y_pred`` carries."""
    y_true = np.array([[1.0, 2.0, 0.0, 0.0], [3.0, 1.0, 0.0, 2.0]], dtype=np.float32)[..., None]
    y_pred = np.array([[2.0, 2.0, 4.0, 1.0], [1.0, 1.0, 3.0, 2.0]], dtype=np.float32)[..., None]
    mask = sequence_mask([2, 4], 4)
    return {"y_true": y_true, "y_pred": y_pred, "mask": mask}


@_never_raises
def exercise_3(answer: Any) -> bool:
    """``answer``: the float ``keras.losses.MeanSquaredError()`` returns when ``y_pred`` carries ``mask``."""
    from ..keras_masking import masked_mean

    data = exercise_3_data()
    per_step = ((data["y_pred"] - data["y_true"]) ** 2).mean(axis=-1)
    mask = data["mask"]
    expected = masked_mean(per_step, mask)
    if answer is None:
        return _say(False, "answer is still None; give one float.")
    if isinstance(answer, (str, bytes, bool, np.bool_)):
        return _say(False, f"answer should be one float, got {type(answer).__name__} {answer!r}.")
    try:
        arr = np.asarray(answer)
    except Exception:
        arr = np.asarray(None)
    if arr.ndim != 0 or arr.dtype.kind not in "iuf":
        shape = f" of shape {arr.shape}" if arr.ndim else ""
        return _say(False, f"answer should be one float, got {type(answer).__name__}{shape}.")
    value = float(arr)
    if not np.isfinite(value):
        return _say(False, f"answer is {value}; give a finite float.")
    if abs(value - expected) < 1e-4:
        return _say(True, f"{expected:.4f} = sum of the squared errors at real steps / number of real steps.")
    n_real = int(mask.sum())
    if abs(value - per_step.mean()) < 1e-4:
        return _say(False, f"{value:.4f} is the mean over ALL steps; Keras leaves out the masked ones.")
    if abs(value - np.where(mask, per_step, 0).sum() / per_step.size) < 1e-4:
        return _say(
            False, f"{value:.4f} zeroes the masked steps but still divides by all {per_step.size} steps."
        )
    row_means = [float(per_step[b][mask[b]].mean()) for b in range(len(mask))]
    if abs(value - np.mean(row_means)) < 1e-4:
        return _say(
            False,
            f"{value:.4f} is the mean of the per-sequence means {[round(m, 4) for m in row_means]}, which weights "
            f"each sequence equally. Keras weights each real STEP equally: the sum over the {n_real} real steps "
            f"/ {n_real}.",
        )
    if abs(value - per_step[mask].sum()) < 1e-4:
        return _say(False, f"{value:.4f} is the sum over the real steps; divide it by their number, {n_real}.")
    return _say(False, f"{value:.4f} is not it; average the per-step squared errors over the real steps only.")
