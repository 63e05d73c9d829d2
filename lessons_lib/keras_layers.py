"""Custom Keras layers that handle masks correctly (lesson 04).

Lesson 04 writes each layer in its own cells (``#@save lessons_lib.keras_layers``)
and this module holds the identical code, so that tests and later lessons can import
it; ``tests/test_taught_code.py`` fails when the two drift apart. Edit one, edit both.

A Keras layer can play three roles with a mask:

* it *consumes* a mask: its ``call(inputs, mask=None)`` receives it;
* it *passes it through*: ``supports_masking = True`` copies the input mask
  to the output;
* it *creates or changes* a mask: its ``compute_mask(inputs, mask=None)``
  returns the mask of its output (defining ``compute_mask`` also sets
  ``supports_masking``).

The layers here, all registered for saving under the package "lessons_lib":

=========================  ================================  =====================
layer                      input -> output                   output mask
=========================  ================================  =====================
``ValueMasking``           (b, t, f) -> (b, t, f)            created from values
``MaskedMeanPooling1D``    (b, t, f) -> (b, f)               none (consumed)
``MaskedMaxPooling1D``     (b, t, f) -> (b, f)               none (consumed)
``LastValidStep``          (b, t, f) -> (b, f)               none (consumed)
``MaskedSoftmax``          (b, t, ...) -> same shape         passed through
``MergeSteps``             (b, t, f) -> (b, ceil(t/size), f)  changed
=========================  ================================  =====================

Every consumer treats ``mask=None`` as "all steps are real" (:func:`real_steps`), and
gives a defined, NaN-free result (zeros) for a row whose steps are all masked. The
argument checks (``check_input_rank``, ``check_mask_rank``, and ``check_count`` /
``check_real_number`` from ``lessons_lib._validate``) are support code: the layers
call them so that a wrong shape or value raises a clear error.

Examples (one per layer; the lesson proves each one on a ragged batch):

    >>> x = np.array([[[1., 0.], [0., 0.]]], "float32")
    >>> keras_mask_of(ValueMasking(0.0)(x)).numpy()
    array([[ True, False]])
    >>> x, m = np.array([[[1.], [3.], [0.]]], "float32"), np.array([[True, True, False]])
    >>> MaskedMeanPooling1D()(x, mask=m).numpy()
    array([[2.]], dtype=float32)
    >>> MaskedMaxPooling1D()(-x, mask=m).numpy()
    array([[-1.]], dtype=float32)
    >>> LastValidStep()(x, mask=m).numpy()
    array([[3.]], dtype=float32)
    >>> MaskedSoftmax()(np.zeros((1, 3), "float32"), mask=m).numpy()
    array([[0.5, 0.5, 0. ]], dtype=float32)
    >>> x, m = np.arange(5, dtype="float32").reshape(1, 5, 1), np.array([[1, 1, 1, 0, 0]], bool)
    >>> y = MergeSteps(2)(x, mask=m)
    >>> y.numpy()[0, :, 0], keras_mask_of(y).numpy()
    (array([0.5, 2. , 0. ], dtype=float32), array([[ True,  True, False]]))

Import this module only after ``ll.setup_notebook(...)`` (it imports Keras).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from ._validate import check_count, check_real_number

__all__ = [
    "ConsumesMask",
    "LastValidStep",
    "MaskedMaxPooling1D",
    "MaskedMeanPooling1D",
    "MaskedSoftmax",
    "MergeSteps",
    "ValueMasking",
    "check_input_rank",
    "check_mask_rank",
    "keras_mask_of",
    "real_steps",
    "POOLINGS",
    "pooling_drift",
]


def keras_mask_of(tensor):
    """The mask Keras attached to ``tensor`` (``_keras_mask``), or None.

    Example:
        >>> x = keras.layers.Masking()(np.zeros((1, 2, 3), "float32"))
        >>> keras_mask_of(x).shape
        TensorShape([1, 2])
    """
    return getattr(tensor, "_keras_mask", None)


# --- argument checks (support code: the layers call them, the lesson explains them) ------


def check_input_rank(layer: keras.layers.Layer, input_shape, rank: int, *, exact=True) -> None:
    """Raise a ValueError naming ``layer`` and the shape unless the input has ``rank`` axes.

    With ``exact=False``, ``rank`` or more axes are accepted.

    Example:
        >>> check_input_rank(keras.layers.Layer(name="pool"), (2, 5), 3)
        Traceback (most recent call last):
        ...
        ValueError: Layer expects 3-D inputs (batch, time, ...), got input shape (2, 5)
    """
    if len(input_shape) == rank or (not exact and len(input_shape) > rank):
        return
    want = f"{rank}-D" if exact else f"at least {rank}-D"
    raise ValueError(
        f"{type(layer).__name__} expects {want} inputs (batch, time, ...), "
        f"got input shape {tuple(input_shape)}"
    )


def check_mask_rank(mask) -> None:
    """Raise a ValueError unless ``mask`` is 2-D, one flag per step ``(batch, time)``.

    Example:
        >>> check_mask_rank(np.ones((2, 5, 3), bool))
        Traceback (most recent call last):
        ...
        ValueError: mask must be 2-D (batch, time), got shape (2, 5, 3)
    """
    if len(mask.shape) != 2:
        raise ValueError(f"mask must be 2-D (batch, time), got shape {tuple(mask.shape)}")


# --- the layers lesson 04 teaches (each one is written out in the lesson) ----------------


@keras.saving.register_keras_serializable(package="lessons_lib")
class ValueMasking(keras.layers.Layer):
    """Mask each step whose features all equal ``mask_value`` (NaN too); zero it, like Masking."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(check_real_number("mask_value", mask_value))

    def build(self, input_shape):
        check_input_rank(self, input_shape, 3)

    def compute_mask(self, inputs, mask=None):
        if math.isnan(self.mask_value):  # NaN != NaN, so compare with isnan
            differs = ops.logical_not(ops.isnan(inputs))
        else:
            differs = ops.not_equal(inputs, self.mask_value)
        # One flag per step, not per feature: (batch, time, features) -> (batch, time).
        return ops.any(differs, axis=-1)

    def call(self, inputs):
        keep = self.compute_mask(inputs)
        return ops.where(ops.expand_dims(keep, -1), inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):  # what load_model passes back to __init__
        return {**super().get_config(), "mask_value": self.mask_value}


def real_steps(inputs, mask=None):
    """The (batch, time) bool mask of the real steps: ``mask``, or all True when there is none."""
    if mask is None:
        return ops.ones(ops.shape(inputs)[:2], dtype="bool")
    check_mask_rank(mask)
    return ops.cast(mask, "bool")


class ConsumesMask(keras.layers.Layer):
    """Base of the layers that read the mask and return one vector per sequence."""

    def build(self, input_shape):
        check_input_rank(self, input_shape, 3)

    def compute_mask(self, inputs, mask=None):
        return None  # the time axis is gone, and so is the mask

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])  # (batch, time, f) -> (batch, f)


@keras.saving.register_keras_serializable(package="lessons_lib")
class MaskedMeanPooling1D(ConsumesMask):
    """Mean over the real steps: ``(batch, time, f) -> (batch, f)``; zeros if there are none."""

    def call(self, inputs, mask=None):
        keep = ops.expand_dims(real_steps(inputs, mask), -1)  # (batch, time, 1)
        total = ops.sum(ops.where(keep, inputs, ops.zeros_like(inputs)), axis=1)
        count = ops.sum(ops.cast(keep, inputs.dtype), axis=1)
        return total / ops.maximum(count, 1.0)  # a row with no real step: 0 / 1, not 0 / 0


@keras.saving.register_keras_serializable(package="lessons_lib")
class MaskedMaxPooling1D(ConsumesMask):
    """Maximum over the real steps: ``(batch, time, f) -> (batch, f)``; zeros if there are none."""

    def call(self, inputs, mask=None):
        keep = real_steps(inputs, mask)
        lowest = ops.full_like(inputs, float("-inf"))  # padded steps can never win
        best = ops.max(ops.where(ops.expand_dims(keep, -1), inputs, lowest), axis=1)
        any_real = ops.expand_dims(ops.any(keep, axis=1), -1)
        return ops.where(any_real, best, ops.zeros_like(best))  # not -inf on an empty row


@keras.saving.register_keras_serializable(package="lessons_lib")
class LastValidStep(ConsumesMask):
    """The features at each row's last real step, ``(b, t, f) -> (b, f)``; zeros if there are none.

    It picks the last True of each mask row, so pre- and post-padding both work.
    """

    def call(self, inputs, mask=None):
        keep = real_steps(inputs, mask)
        positions = ops.expand_dims(ops.arange(ops.shape(inputs)[1]), 0)  # (1, time): 0, 1, 2, ...
        last = ops.max(ops.where(keep, positions, -1), axis=1, keepdims=True)  # -1: no real step
        pick = ops.expand_dims(ops.equal(positions, last), -1)  # True at the last real step only
        return ops.sum(ops.where(pick, inputs, ops.zeros_like(inputs)), axis=1)


@keras.saving.register_keras_serializable(package="lessons_lib")
class MaskedSoftmax(keras.layers.Layer):
    """Softmax over the time axis (axis 1) of scores (batch, time, ...), real steps only.

    Padded steps get exactly 0, and a row with no real step all zeros, never NaN.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        check_input_rank(self, input_shape, 2, exact=False)

    def call(self, inputs, mask=None):
        keep = real_steps(inputs, mask)
        for _ in range(len(inputs.shape) - 2):  # (batch, time) -> (batch, time, 1, ...)
            keep = ops.expand_dims(keep, -1)
        keep = ops.broadcast_to(keep, ops.shape(inputs))
        lowest = ops.full_like(inputs, np.finfo(np.float32).min)
        top = ops.max(ops.where(keep, inputs, lowest), axis=1, keepdims=True)  # largest REAL score
        # Shift inside `where` so that masked steps never reach exp() (no inf, no NaN gradient).
        shifted = ops.where(keep, inputs - top, ops.zeros_like(inputs))
        weights = ops.where(keep, ops.exp(shifted), ops.zeros_like(inputs))
        total = ops.sum(weights, axis=1, keepdims=True)
        return weights / ops.where(total > 0, total, ops.ones_like(total))  # empty row: 0 / 1

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="lessons_lib")
class MergeSteps(keras.layers.Layer):
    """Merge each block of ``size`` steps into the mean of its real steps.

    ``(batch, time, f) -> (batch, ceil(time / size), f)``; ``compute_mask`` returns the new,
    shorter mask. Blocks start at step 0 of the padded array (right for post-padding).
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = check_count("size", size, minimum=1)

    def build(self, input_shape):
        check_input_rank(self, input_shape, 3)

    def _block_sums(self, tensor):
        """Sum each block of ``size`` steps of a (batch, time, channels) tensor, from step 0."""
        padded = ops.pad(tensor, [[0, 0], [0, self.size - 1], [0, 0]])
        return ops.average_pool(padded, self.size, strides=self.size, padding="valid") * self.size

    def call(self, inputs, mask=None):
        keep = ops.expand_dims(real_steps(inputs, mask), -1)
        total = self._block_sums(ops.where(keep, inputs, ops.zeros_like(inputs)))
        count = self._block_sums(ops.cast(keep, inputs.dtype))  # real steps in each block
        return total / ops.maximum(count, 1.0)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        count = self._block_sums(ops.expand_dims(ops.cast(mask, "float32"), -1))
        return count[..., 0] > 0  # the shorter mask: a block is real if any of its steps is

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else -(-steps // self.size), input_shape[2])

    def get_config(self):  # what load_model passes back to __init__
        return {**super().get_config(), "size": self.size}


# --- the pure function behind lesson 04's widget --------------------------------

#: Pooling choices of :func:`pooling_drift` (the widget's "pooling" dropdown).
POOLINGS = {"mean": MaskedMeanPooling1D, "max": MaskedMaxPooling1D, "last": LastValidStep}


def _default_sequence() -> np.ndarray:
    rng = np.random.default_rng(4)
    seq = rng.normal(0.5, 1.0, size=(5, 3))
    seq[:, 2] = -np.abs(seq[:, 2]) - 0.1  # negative on every step: a zero pad wins an unmasked max
    return np.round(seq, 2).astype(np.float32)


def pooling_drift(
    pooling: str = "mean", masked: bool = True, pad_amount: int = 0, *, sequence=None
) -> dict:
    """Pool one post-padded sequence and measure how far it moves from the unpadded result.

    The sequence ``(time, features)`` (by default a fixed 5x3 example whose
    last feature is negative on every step) is
    padded with ``pad_amount`` zero steps at the end, then pooled by the
    layer in :data:`POOLINGS`, with the true mask (``masked=True``) or with no
    mask (every step counts).

    Returns:
        ``{"pooled": (f,), "reference": (f,), "drift": float}`` where
        ``reference`` is the pooling of the unpadded sequence and ``drift`` the
        largest absolute difference between the two.

    Example:
        >>> pooling_drift("mean", masked=True, pad_amount=10)["drift"]
        0.0
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {sorted(POOLINGS)}, got {pooling!r}")
    if not isinstance(masked, (bool, np.bool_)):
        raise TypeError(f"masked must be True or False, got {masked!r}")
    pad_amount = check_count("pad_amount", pad_amount)
    seq = _default_sequence() if sequence is None else np.asarray(sequence, dtype=np.float32)
    if seq.ndim != 2 or seq.shape[0] == 0:
        raise ValueError(f"sequence must be 2-D (time >= 1, features), got shape {seq.shape}")
    layer = POOLINGS[pooling]()
    padded = np.concatenate([seq, np.zeros((pad_amount, seq.shape[1]), np.float32)])[None]
    mask = (np.arange(padded.shape[1]) < seq.shape[0])[None] if masked else None
    pooled = np.asarray(layer(padded, mask=mask))[0].astype(np.float64)
    reference = np.asarray(layer(seq[None]))[0].astype(np.float64)
    drift = float(np.abs(pooled - reference).max())
    return {"pooled": pooled, "reference": reference, "drift": drift}
