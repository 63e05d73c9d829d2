"""Checkers for lesson 12 (test your own model with the padding doctor).

Each checker prints "Correct: ..." or "Not yet: ..." and returns a truthy or
falsy :class:`~lessons_lib.checks._common.CheckResult`; it never raises, even
on junk answers or a model that fails to run.
"""

from __future__ import annotations

import inspect
import numbers
import warnings

import numpy as np

from ._common import CheckResult, checker, verdict

__all__ = ["EXERCISE_1_LOST_AT", "exercise_1", "exercise_1_model", "exercise_2", "exercise_3"]

EXERCISE_1_LOST_AT = "standardize"


def _fail(message: str) -> CheckResult:
    return verdict(False, message)


def _ok(message: str) -> CheckResult:
    return verdict(True, message)


def exercise_1_model():
    """The model of exercise 1: one of its layers drops the mask. Which one?"""
    import keras
    from keras import layers, ops

    class Standardize(layers.Layer):
        """Centres each step's features (and, having no supports_masking, drops the mask)."""

        def call(self, inputs):
            return inputs - ops.mean(inputs, axis=-1, keepdims=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the lost mask warns while the graph is built; trace_mask shows it
        return keras.Sequential(
            [
                keras.Input((None,), dtype="int64", name="tokens"),
                layers.Embedding(20, 4, mask_zero=True, name="embed_tokens"),
                layers.Dense(4, name="project"),
                Standardize(name=EXERCISE_1_LOST_AT),
                layers.Dropout(0.1, name="dropout"),
                layers.LSTM(8, name="encoder"),
                layers.Dense(3, name="classify"),
            ],
            name="exercise_1",
        )


_EXERCISE_1_HINTS = {
    "embed_tokens": "the Embedding with mask_zero=True is where the mask is made (mask out: True)",
    "project": "Dense passes the mask on: its mask out is True",
    "dropout": "the mask is already gone when it reaches the dropout (mask in: False); look one row up",
    "encoder": "the LSTM is where the damage shows, but its input already has no mask; which row has mask in True and mask out False?",
    "classify": "by the time the Dense head runs, the time axis is gone; look for the first row with mask in True and mask out False",
}


@checker
def exercise_1(answer) -> bool:
    """The name of the layer in ``exercise_1_model()`` where the mask is lost."""
    if answer is None:
        return _fail("set `answer` to a layer name (a string), read from the trace")
    if not isinstance(answer, str):
        return _fail(f"give the layer's name as a string, got {type(answer).__name__}")
    name = answer.strip().strip("'\"")
    if name.lower() == EXERCISE_1_LOST_AT:
        return _ok(f"'{EXERCISE_1_LOST_AT}' gets a mask (mask in: True) and passes none on\n"
                   "although its output keeps the time axis")
    if name in _EXERCISE_1_HINTS:
        return _fail(_EXERCISE_1_HINTS[name])
    names = ", ".join(["embed_tokens", "project", EXERCISE_1_LOST_AT, "dropout", "encoder", "classify"])
    return _fail(f"there is no layer named {name!r}; the layers are {names}")


def _layers_of(model) -> list:
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        for attr in ("forward_layer", "backward_layer", "layer"):
            inner = getattr(layer, attr, None)
            if inner is not None:
                found.append(inner)
        found += _layers_of(layer) if hasattr(layer, "layers") else []
    return found


def _exercise_sequences() -> list[np.ndarray]:
    from ..doctor_zoo import zoo_sequences

    return zoo_sequences("tokens")


@checker
def exercise_2(model) -> bool:
    """A Keras model (token ids in, one vector per sequence out) with an LSTM that the doctor passes."""
    import keras

    from ..doctor import check_padding

    if model is None:
        return _fail("pass your fixed model, e.g. exercise_2(build_model())")
    if isinstance(model, type) or not isinstance(model, keras.Layer):
        if inspect.isfunction(model) or inspect.ismethod(model):
            return _fail("pass the model itself, not the function that builds it: exercise_2(build_model())")
        return _fail(f"expected a Keras model, got {type(model).__name__}")
    recurrent = [layer for layer in _layers_of(model) if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))]
    if not recurrent:
        return _fail("keep the LSTM: the exercise is to make an LSTM model ignore its padding, not to remove it")
    seqs = _exercise_sequences()
    try:
        report = check_padding(model, seqs)
        alone = np.stack([np.asarray(model(s[None], training=False))[0] for s in seqs[:3]])
    except Exception as exc:  # noqa: BLE001 - the learner's model failed: say how
        text = str(exc).strip().splitlines()
        return _fail(f"the doctor could not run your model: {type(exc).__name__}: {text[0][:160] if text else ''}")
    if alone.ndim != 2:
        return _fail(f"return one vector per sequence (batch, units); each sequence gives shape {alone.shape[1:]}")
    if np.ptp(alone, axis=0).max() < 1e-6:
        return _fail("every sequence gets the same output: a model that ignores its input passes trivially")
    if not report.ok:
        failing = [c for c in report.cases() if c["failing"]]
        names = [layer.__class__.__name__ for layer in _layers_of(model)]
        hint = ""
        if "Masking" in names and "Embedding" in names and names.index("Masking") > names.index("Embedding"):
            hint = ("\nMasking(0) after an Embedding compares embedding vectors with 0, and they never are;\n"
                    "mask the token ids instead.")
        return _fail(f"the doctor still finds a leak in {len(failing)} of {len(report.cases())} cases.{hint}")
    return _ok("the doctor passes your model on both sides, with and without extra padding")


def _crop_model():
    from ..doctor_zoo import build

    return build("torch_crop")


@checker
def exercise_3(answer) -> bool:
    """``(padding, extra_padding)``: a side and an amount of extra padding that make the doctor fail ``torch_crop``."""
    from ..doctor import check_padding
    from ..doctor_zoo import CROP_STEPS, LENGTHS

    if answer is None:
        return _fail('set `answer` to a tuple (side, extra padding), for example ("post", 3)')
    if isinstance(answer, dict):
        answer = (answer.get("padding"), answer.get("extra_padding"))
    if isinstance(answer, (str, bytes)) or not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return _fail('give a tuple of two things: the padding side and the extra padding, e.g. ("pre", 2)')
    side, extra = answer
    if side not in ("post", "pre"):
        return _fail(f"the side must be 'post' or 'pre', got {side!r}")
    if isinstance(extra, bool) or not isinstance(extra, numbers.Integral) or extra < 0:
        return _fail(f"the extra padding must be an int >= 0, got {extra!r}")
    if extra > 100:
        return _fail("that much padding would reveal almost anything; find a small amount that is enough")
    report = check_padding(_crop_model(), _exercise_sequences(), padding=(side,), extra_padding=(int(extra),))
    longest = max(LENGTHS)
    if report.ok:
        if side == "post":
            return _fail(
                f"with post-padding the crop to {CROP_STEPS} steps only cuts padding: "
                "every real step sits at the start. Which side puts real steps at the end?"
            )
        return _fail(
            f"pre-padding is the right side, but {longest} + {extra} = {longest + extra} steps fit in the "
            f"{CROP_STEPS} steps the model keeps; add more"
        )
    return _ok(
        f"{longest} + {extra} = {longest + extra} pre-padded steps are more than the {CROP_STEPS} the model keeps,\n"
        "so the crop cuts real steps; a test with extra padding (0, 2) never sees it"
    )
