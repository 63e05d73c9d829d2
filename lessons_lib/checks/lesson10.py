"""Checkers for lesson 10 (beyond one LSTM).

Each checker prints "Correct: ..." or "Not yet: ..." with what is wrong, and
returns a :class:`~lessons_lib.checks._common.CheckResult`. None of them raises,
whatever the answer (None, a string, a number, a set, a dict, a wrong shape).

- exercise 1: turn a Keras mask (True = keep) into a torch ``key_padding_mask`` (True = ignore);
- exercise 2: the token-mean loss over two batches;
- exercise 3: the first layer of a Keras model that drops the mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import CheckResult, checker, verdict

__all__ = [
    "exercise_1",
    "exercise_1_data",
    "exercise_2",
    "exercise_2_data",
    "exercise_3",
    "exercise_3_model",
    "first_layer_dropping_mask",
]


def _as_numpy(value: Any) -> np.ndarray | None:
    """A NumPy view of an array-like answer (NumPy, torch, TF, nested lists), or None for junk."""
    if isinstance(value, (str, bytes, set, frozenset, dict)) or value is None:
        return None
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        try:
            value = value.numpy()
        except Exception:  # noqa: BLE001 - any object a learner may pass
            return None
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001
        return None
    if arr.dtype == object:
        return None
    return arr


# --------------------------------------------------------------------------- exercise 1


def exercise_1_data() -> np.ndarray:
    """A Keras-style mask, ``(4, 6)`` bool, True at real steps (lengths 6, 4, 1, 3).

    Example:
        >>> exercise_1_data().sum(axis=1).tolist()
        [6, 4, 1, 3]
    """
    lengths = np.array([6, 4, 1, 3])
    return np.arange(6)[None, :] < lengths[:, None]


@checker
def exercise_1(answer: Any) -> CheckResult:
    """Is ``answer`` the torch ``key_padding_mask`` for :func:`exercise_1_data` (True = padding)?"""
    keras_mask = exercise_1_data()
    expected = ~keras_mask
    if answer is None:
        return verdict(False, "answer is still None; give a (4, 6) bool array or tensor, True where torch should ignore.")
    arr = _as_numpy(answer)
    if arr is None:
        return verdict(False, f"answer must be an array or tensor of bools, got {type(answer).__name__}.")
    if arr.shape != expected.shape:
        hint = " It looks transposed." if arr.shape == expected.shape[::-1] else ""
        return verdict(False, f"answer should have shape (batch, keys) = {expected.shape}, got {arr.shape}.{hint}")
    if arr.dtype != bool:
        values = set(np.unique(arr).tolist()) if np.issubdtype(arr.dtype, np.number) else set()
        if values <= {0, 1}:
            return verdict(
                False,
                f"answer has dtype {arr.dtype}. torch reads a float key_padding_mask as numbers ADDED to the "
                "attention scores, not as ignore/keep; make it bool (for example with ~ on the bool mask).",
            )
        return verdict(False, f"answer should be a bool array, got dtype {arr.dtype}.")
    if np.array_equal(arr, keras_mask):
        return verdict(
            False,
            "that is the Keras mask itself (True = keep). torch's key_padding_mask means True = IGNORE: "
            "with it, attention would look at the padding only, and the full-length row would be NaN.",
        )
    if not np.array_equal(arr, expected):
        where = tuple(int(i) for i in np.argwhere(arr != expected)[0])
        return verdict(False, f"answer differs at {where}: True must mark exactly the padded steps.")
    return verdict(True, "key_padding_mask = ~mask: True marks the padding, which torch's attention ignores.")


# --------------------------------------------------------------------------- exercise 2


def exercise_2_data() -> dict[str, list[np.ndarray]]:
    """Two batches of per-token losses and their masks (post-padded).

    Returns ``{"losses": [(2, 5), (3, 3)], "masks": [(2, 5), (3, 3)]}``; losses
    at padded steps are garbage on purpose (they must not count).

    Example:
        >>> [m.sum() for m in exercise_2_data()["masks"]]
        [np.int64(6), np.int64(5)]
    """
    rng = np.random.default_rng(10)
    lengths = [np.array([5, 1]), np.array([3, 1, 1])]
    masks = [np.arange(5)[None] < lengths[0][:, None], np.arange(3)[None] < lengths[1][:, None]]
    losses = [np.round(rng.uniform(0.1, 3.0, size=m.shape), 2) for m in masks]
    for loss, mask in zip(losses, masks):
        loss[~mask] = 9.0  # what an unmasked sum would pick up
    return {"losses": losses, "masks": masks}


def _ex2_candidates() -> dict[str, float]:
    data = exercise_2_data()
    losses, masks = data["losses"], data["masks"]
    per_batch = [float(l[m].mean()) for l, m in zip(losses, masks)]
    sequences = [float(row[mrow].mean()) for l, m in zip(losses, masks) for row, mrow in zip(l, m)]
    return {
        "right": float(sum(l[m].sum() for l, m in zip(losses, masks)) / sum(m.sum() for m in masks)),
        "mean of batch means": float(np.mean(per_batch)),
        "evaluate": float(np.average(per_batch, weights=[len(m) for m in masks])),
        "sequence mean": float(np.mean(sequences)),
        "unmasked": float(np.mean(np.concatenate([l.ravel() for l in losses]))),
        "sum": float(sum(l[m].sum() for l, m in zip(losses, masks))),
    }


@checker
def exercise_2(answer: Any) -> CheckResult:
    """Is ``answer`` the token mean of :func:`exercise_2_data` over both batches?"""
    if answer is None:
        return verdict(False, "answer is still None; give one float.")
    arr = _as_numpy(answer)
    if arr is None or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        return verdict(False, f"answer must be one number, got {type(answer).__name__}.")
    if arr.size != 1:
        return verdict(False, f"answer must be one number (the loss over both batches), got shape {arr.shape}.")
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        return verdict(False, f"answer is {value}; a loss over real tokens is a finite number.")
    cand = _ex2_candidates()
    close = lambda key: abs(value - cand[key]) < 1e-6  # noqa: E731
    if close("right"):
        return verdict(True, f"{cand['right']:.4f} = sum of the real tokens' losses / number of real tokens.")
    hints = {
        "mean of batch means": "that is the mean of the two per-batch means; the batches hold different "
        "numbers of tokens, so sum all real losses and divide once by the total token count.",
        "evaluate": "that is what Keras evaluate reports (per-batch means weighted by sequences per batch), "
        "not the token mean.",
        "sequence mean": "that is the sequence mean (each sequence counts once); the token mean counts each token once.",
        "unmasked": "the padded steps (loss 9.0) were counted; keep only the steps where the mask is True.",
        "sum": "that is the sum of the real losses; divide by the number of real tokens.",
    }
    for key, hint in hints.items():
        if close(key):
            return verdict(False, hint)
    return verdict(False, f"{value:.4f} is not the token mean; sum losses[mask] over both batches, divide by the total count.")


# --------------------------------------------------------------------------- exercise 3


def exercise_3_model():
    """A small functional Keras model with named layers; one of them drops the mask.

    ``Input -> Masking "masking" -> Dense "project" -> LayerNormalization "norm"
    -> Conv1D(same) "smooth" -> LSTM "lstm" -> Dense "head"``. Built with the
    expected "destroy the mask" warnings caught.
    """
    import warnings

    import keras

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Conv1D (and, under Keras 3.16, the LSTM) warn that the mask is lost
        inputs = keras.Input((None, 3), name="features")
        t = keras.layers.Masking(0.0, name="masking")(inputs)
        t = keras.layers.Dense(4, name="project")(t)
        t = keras.layers.LayerNormalization(name="norm")(t)
        t = keras.layers.Conv1D(4, 3, padding="same", name="smooth")(t)
        t = keras.layers.LSTM(4, name="lstm")(t)
        outputs = keras.layers.Dense(2, name="head")(t)
    return keras.Model(inputs, outputs)


def first_layer_dropping_mask(model: Any) -> str | None:
    """Name of the first layer of a functional Keras model whose input has a mask and output has none.

    Example (needs Keras):
        >>> first_layer_dropping_mask(exercise_3_model())  # doctest: +SKIP
        'smooth'
    """
    for layer in getattr(model, "layers", []):
        try:
            inputs, outputs = layer.input, layer.output
        except (AttributeError, ValueError):
            continue
        ins = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if any(getattr(t, "_keras_mask", None) is not None for t in ins) and getattr(outputs, "_keras_mask", None) is None:
            return layer.name
    return None


@checker
def exercise_3(answer: Any, model: Any) -> CheckResult:
    """Is ``answer`` the name (or the layer object) of the first layer of ``model`` that drops the mask?"""
    try:
        names = [layer.name for layer in model.layers]
        expected = first_layer_dropping_mask(model)
    except Exception:  # noqa: BLE001 - the model argument itself may be junk
        return verdict(False, "model must be the Keras model from check.exercise_3_model().")
    if answer is None:
        return verdict(False, f"answer is still None; give a layer name, one of\n{names}.")
    name = getattr(answer, "name", answer) if not isinstance(answer, str) and hasattr(answer, "name") else answer
    if not isinstance(name, str):
        return verdict(False, f"answer must be a layer name (a string), one of {names}; got {type(answer).__name__}.")
    name = name.strip()
    if name not in names:
        return verdict(False, f"{name!r} is not a layer of this model; the layers are {names}.")
    if name == expected:
        return verdict(True, f"{expected!r} receives a mask and its output carries none (Conv1D has no masking support).")
    position = names.index(name)
    if expected is not None and position > names.index(expected):
        return verdict(False, f"{name!r} comes after the mask is already gone; look earlier in the model.")
    hints = {
        "features": "the Input layer carries no mask yet; Masking makes it.",
        "masking": "Masking is what makes the mask.",
        "project": "Dense works step by step and passes the mask on (see the table in section 6).",
        "norm": "LayerNormalization works step by step and passes the mask on (see the table in section 6).",
    }
    return verdict(False, hints.get(name, f"{name!r} passes the mask on; check each layer's output for _keras_mask."))
