"""Custom Keras layers that handle masks correctly (lesson 04).

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

Every consumer treats ``mask=None`` as "all steps are real", and gives a
defined, NaN-free result (zeros) for a row whose steps are all masked.

Import this module only after ``ll.setup_notebook(...)`` (it imports Keras).
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np
from keras import ops

from ._validate import check_count

__all__ = [
    "LastValidStep",
    "MaskedMaxPooling1D",
    "MaskedMeanPooling1D",
    "MaskedSoftmax",
    "MergeSteps",
    "ValueMasking",
    "keras_mask_of",
    "POOLINGS",
    "pooling_drift",
]

_register = keras.saving.register_keras_serializable(package="lessons_lib")


def keras_mask_of(tensor):
    """The mask Keras attached to ``tensor`` (``_keras_mask``), or None.

    Example:
        >>> x = keras.layers.Masking()(np.zeros((1, 2, 3), "float32"))
        >>> keras_mask_of(x).shape
        TensorShape([1, 2])
    """
    return getattr(tensor, "_keras_mask", None)


def _check_rank(layer: keras.layers.Layer, input_shape, ranks: tuple[int, ...]) -> None:
    if len(input_shape) not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise ValueError(
            f"{type(layer).__name__} expects {want} inputs (batch, time, ...), got input shape {tuple(input_shape)}"
        )


def _step_mask(inputs, mask):
    """The (batch, time) bool mask to use: ``mask`` or all True."""
    if mask is None:
        return ops.ones(ops.shape(inputs)[:2], dtype="bool")
    if len(mask.shape) != 2:
        raise ValueError(f"mask must be 2-D (batch, time), got shape {tuple(mask.shape)}")
    return ops.cast(mask, "bool")


@_register
class ValueMasking(keras.layers.Layer):
    """Mask every time step whose features *all* equal ``mask_value``.

    The correct version of the custom masking layer found in many articles:
    the mask is per *step*, ``(batch, time)``, as in ``keras.layers.Masking``
    (a step is masked only when all its features equal ``mask_value``);
    ``compute_mask`` hands it to the next layers; masked steps are set to 0
    in the output, as ``Masking`` does. Unlike ``Masking``, a NaN
    ``mask_value`` works (NaN-padded steps are masked and output as 0).

    Args:
        mask_value: a real number (or NaN) marking padded steps.

    Example:
        >>> x = np.array([[[1., 0.], [0., 0.]]], "float32")
        >>> keras_mask_of(ValueMasking(0.0)(x)).numpy()
        array([[ True, False]])
    """

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise TypeError(f"mask_value must be a real number, got {mask_value!r}")
        self.mask_value = float(mask_value)

    def build(self, input_shape):
        _check_rank(self, input_shape, (3,))

    def compute_mask(self, inputs, mask=None):
        if math.isnan(self.mask_value):
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

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class _ConsumesMask(keras.layers.Layer):
    """Base for layers that read the mask and return one vector per sequence."""

    def build(self, input_shape):
        _check_rank(self, input_shape, (3,))

    def compute_mask(self, inputs, mask=None):
        # The time axis is gone, so no mask goes further.
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@_register
class MaskedMeanPooling1D(_ConsumesMask):
    """Mean over the real time steps: ``(batch, time, f) -> (batch, f)``.

    A row with no real step gives zeros (``keras.layers.GlobalAveragePooling1D``
    gives NaN there).

    Example:
        >>> x = np.array([[[1.], [3.], [0.]]], "float32")
        >>> MaskedMeanPooling1D()(x, mask=np.array([[True, True, False]])).numpy()
        array([[2.]], dtype=float32)
    """

    def call(self, inputs, mask=None):
        keep = ops.expand_dims(_step_mask(inputs, mask), -1)
        total = ops.sum(ops.where(keep, inputs, ops.zeros_like(inputs)), axis=1)
        count = ops.sum(ops.cast(keep, inputs.dtype), axis=1)
        return total / ops.maximum(count, 1.0)


@_register
class MaskedMaxPooling1D(_ConsumesMask):
    """Maximum over the real time steps: ``(batch, time, f) -> (batch, f)``.

    A row with no real step gives zeros. (``keras.layers.GlobalMaxPooling1D``
    does not support masks: it warns and takes the maximum over padding too.)

    Example:
        >>> x = np.array([[[-1.], [-3.], [0.]]], "float32")
        >>> MaskedMaxPooling1D()(x, mask=np.array([[True, True, False]])).numpy()
        array([[-1.]], dtype=float32)
    """

    def call(self, inputs, mask=None):
        step_mask = _step_mask(inputs, mask)
        keep = ops.expand_dims(step_mask, -1)
        lowest = ops.full_like(inputs, float("-inf"))
        best = ops.max(ops.where(keep, inputs, lowest), axis=1)
        any_real = ops.expand_dims(ops.any(step_mask, axis=1), -1)
        return ops.where(any_real, best, ops.zeros_like(best))


@_register
class LastValidStep(_ConsumesMask):
    """The features at each row's last real step: ``(batch, time, f) -> (batch, f)``.

    Works for pre- and post-padding (it picks the last True of each mask row).
    A row with no real step gives zeros. Fed with LSTM outputs
    (``return_sequences=True``) and the same mask, it returns the final
    state ``h``.

    Example:
        >>> x = np.array([[[1.], [2.], [0.]]], "float32")
        >>> LastValidStep()(x, mask=np.array([[True, True, False]])).numpy()
        array([[2.]], dtype=float32)
    """

    def call(self, inputs, mask=None):
        step_mask = _step_mask(inputs, mask)
        positions = ops.expand_dims(ops.arange(ops.shape(inputs)[1]), 0)
        last = ops.max(ops.where(step_mask, positions, -1), axis=1, keepdims=True)  # -1: no real step
        pick = ops.expand_dims(ops.equal(positions, last), -1)
        return ops.sum(ops.where(pick, inputs, ops.zeros_like(inputs)), axis=1)


@_register
class MaskedSoftmax(keras.layers.Layer):
    """Softmax over the *time* axis (axis 1) using real steps only.

    Input: scores ``(batch, time)`` or ``(batch, time, ...)``; the mask is
    ``(batch, time)``. Output: weights of the same shape that sum to 1 over
    the real steps of each row (for each trailing index) and are exactly 0 on
    padded steps. A row with no real step gives all zeros, never NaN. The
    input mask is passed through unchanged.

    Example:
        >>> s = np.zeros((1, 3), "float32")
        >>> MaskedSoftmax()(s, mask=np.array([[True, True, False]])).numpy()
        array([[0.5, 0.5, 0. ]], dtype=float32)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"MaskedSoftmax expects inputs (batch, time, ...), got input shape {tuple(input_shape)}")

    def call(self, inputs, mask=None):
        keep = _step_mask(inputs, mask)
        for _ in range(len(inputs.shape) - 2):
            keep = ops.expand_dims(keep, -1)
        keep = ops.broadcast_to(keep, ops.shape(inputs))
        lowest = ops.full_like(inputs, np.finfo(np.float32).min)
        top = ops.max(ops.where(keep, inputs, lowest), axis=1, keepdims=True)
        # Shift inside `where` so that masked steps never reach exp() (no inf, no NaN gradient).
        shifted = ops.where(keep, inputs - top, ops.zeros_like(inputs))
        weights = ops.where(keep, ops.exp(shifted), ops.zeros_like(inputs))
        total = ops.sum(weights, axis=1, keepdims=True)
        return weights / ops.where(total > 0, total, ops.ones_like(total))

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape


@_register
class MergeSteps(keras.layers.Layer):
    """Merge each block of ``size`` consecutive steps into one (mean of its real steps).

    ``(batch, time, f) -> (batch, ceil(time / size), f)``. A merged step is
    real when at least one step of its block is real, so ``compute_mask``
    returns a new, shorter mask. Blocks start at step 0 of the padded array:
    with post-padding this is the same as merging each sequence on its own;
    with pre-padding the blocks are shifted by the padding.

    Args:
        size: number of steps merged into one (int >= 1).

    Example:
        >>> x = np.arange(5, dtype="float32").reshape(1, 5, 1)
        >>> m = np.array([[True, True, True, False, False]])
        >>> y = MergeSteps(2)(x, mask=m)
        >>> y.numpy()[0, :, 0], keras_mask_of(y).numpy()
        (array([0.5, 2. , 0. ], dtype=float32), array([[ True,  True, False]]))
    """

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.size = check_count("size", size, minimum=1)

    def build(self, input_shape):
        _check_rank(self, input_shape, (3,))

    def _block_sums(self, tensor):
        """Sum each block of ``size`` steps of a (batch, time, channels) tensor.

        Padding the time axis by ``size - 1`` zero steps and pooling with
        "valid" windows gives ceil(time / size) blocks starting at step 0,
        with static padding, so it also works while Keras builds a model
        with an unknown number of steps.
        """
        padded = ops.pad(tensor, [[0, 0], [0, self.size - 1], [0, 0]])
        return ops.average_pool(padded, self.size, strides=self.size, padding="valid") * self.size

    def call(self, inputs, mask=None):
        keep = ops.expand_dims(_step_mask(inputs, mask), -1)
        total = self._block_sums(ops.where(keep, inputs, ops.zeros_like(inputs)))
        count = self._block_sums(ops.cast(keep, inputs.dtype))
        return total / ops.maximum(count, 1.0)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        count = self._block_sums(ops.expand_dims(ops.cast(mask, "float32"), -1))
        return count[..., 0] > 0

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else -(-steps // self.size), input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


# --- the pure function behind lesson 04's widget --------------------------------

#: Pooling choices of :func:`pooling_drift` (the widget's "pooling" dropdown).
POOLINGS = {"mean": MaskedMeanPooling1D, "max": MaskedMaxPooling1D, "last": LastValidStep}


def _default_sequence() -> np.ndarray:
    rng = np.random.default_rng(4)
    seq = rng.normal(0.5, 1.0, size=(5, 3))
    seq[:, 2] = -np.abs(seq[:, 2]) - 0.1  # negative on every step, so zero padding wins an unmasked max
    return np.round(seq, 2).astype(np.float32)


def pooling_drift(pooling: str = "mean", masked: bool = True, pad_amount: int = 0, *, sequence=None) -> dict:
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
    return {"pooled": pooled, "reference": reference, "drift": float(np.abs(pooled - reference).max())}
