"""Tests for lessons_lib.keras_layers, its widget (widgets.lesson04) and its checkers (checks.lesson04)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import lessons_lib as ll

os.environ.update(ll.KERNEL_ENV)  # before TensorFlow is imported

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from lessons_lib import keras_layers as kl  # noqa: E402
from lessons_lib.checks import lesson04 as check  # noqa: E402
from lessons_lib.widgets import lesson04 as w04  # noqa: E402

LENGTHS = [5, 2, 0, 4]
STEPS = 6


def _batch(padding="post", seed=0, lengths=LENGTHS, steps=STEPS, features=3):
    seqs = ll.random_ragged_batch(lengths, features, seed=seed)
    return seqs, ll.pad_sequences(seqs, steps, padding=padding), ll.sequence_mask(lengths, steps, padding=padding)


def _np(t):
    return np.asarray(t)


def _record(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in caught]


def _lstm(units, features, seed=2, **kwargs):
    w = ll.random_lstm_weights(features, units, seed=seed)
    lstm = layers.LSTM(units, **kwargs)
    lstm.build((None, None, features))
    lstm.set_weights([w["kernel"], w["recurrent_kernel"], w["bias"]])
    return lstm, w


POOLERS = [
    (kl.MaskedMeanPooling1D, lambda s: s.mean(axis=0)),
    (kl.MaskedMaxPooling1D, lambda s: s.max(axis=0)),
    (kl.LastValidStep, lambda s: s[-1]),
]


# ---- shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", [c for c, _ in POOLERS])
def test_pooling_shapes_eager_and_symbolic(cls):
    _, padded, mask = _batch()
    assert _np(cls()(padded, mask=mask)).shape == (4, 3)
    out = cls()(keras.Input((None, 3)))
    assert tuple(out.shape) == (None, 3)
    assert cls().compute_output_shape((None, 7, 3)) == (None, 3)


def test_softmax_shapes():
    _, padded, mask = _batch()
    assert _np(kl.MaskedSoftmax()(padded[..., 0], mask=mask)).shape == (4, STEPS)
    assert _np(kl.MaskedSoftmax()(padded, mask=mask)).shape == (4, STEPS, 3)
    assert tuple(kl.MaskedSoftmax()(keras.Input((None, 1))).shape) == (None, None, 1)


@pytest.mark.parametrize("steps,size,expected", [(6, 2, 3), (7, 2, 4), (5, 3, 2), (4, 1, 4), (2, 5, 1)])
def test_merge_steps_shapes(steps, size, expected):
    x = np.ones((2, steps, 3), np.float32)
    assert _np(kl.MergeSteps(size)(x)).shape == (2, expected, 3)
    assert kl.MergeSteps(size).compute_output_shape((None, steps, 3)) == (None, expected, 3)
    assert tuple(kl.MergeSteps(size)(keras.Input((None, 3))).shape) == (None, None, 3)


def test_value_masking_shape_and_mask_shape():
    _, padded, mask = _batch()
    out = kl.ValueMasking(0.0)(padded)
    assert _np(out).shape == padded.shape
    assert _np(kl.keras_mask_of(out)).shape == mask.shape


# ---- behaviour --------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("cls,ref", POOLERS)
def test_pooling_matches_per_sequence_reference(cls, ref, padding):
    seqs, padded, mask = _batch(padding)
    got = _np(cls()(padded, mask=mask))
    expected = np.stack([ref(s) if len(s) else np.zeros(3, np.float32) for s in seqs])
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("cls", [c for c, _ in POOLERS])
def test_no_mask_means_every_step_is_real(cls):
    _, padded, _ = _batch(lengths=[3, 1], steps=3)
    full = np.ones(padded.shape[:2], bool)
    np.testing.assert_allclose(_np(cls()(padded)), _np(cls()(padded, mask=full)), atol=0)


def test_unmasked_pooling_differs_from_masked():
    _, padded, mask = _batch(seed=4)
    for cls in (kl.MaskedMeanPooling1D, kl.MaskedMaxPooling1D, kl.LastValidStep):
        assert np.abs(_np(cls()(padded)) - _np(cls()(padded, mask=mask))).max() > 1e-3, cls.__name__


def test_masked_mean_matches_keras_global_average_pooling_on_nonempty_rows():
    _, padded, mask = _batch(lengths=[5, 2, 4])
    keras_avg = _np(layers.GlobalAveragePooling1D()(padded, mask=mask))
    np.testing.assert_allclose(_np(kl.MaskedMeanPooling1D()(padded, mask=mask)), keras_avg, atol=1e-6)


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_softmax_sums_to_one_over_real_steps_and_zero_on_padding(padding):
    _, padded, mask = _batch(padding)
    scores = padded[..., :1] * 3.0
    w = _np(kl.MaskedSoftmax()(scores, mask=mask))[..., 0]
    assert (w[~mask] == 0).all()
    sums = w.sum(axis=1)
    np.testing.assert_allclose(sums[mask.any(1)], 1.0, atol=1e-6)
    assert (sums[~mask.any(1)] == 0).all()
    expected = _np(layers.Softmax(axis=1)(scores, mask=mask[..., None]))[..., 0]
    np.testing.assert_allclose(w, expected, atol=1e-6)


def test_softmax_large_scores_do_not_overflow():
    scores = np.array([[1000.0, 999.0, -5.0]], np.float32)
    w = _np(kl.MaskedSoftmax()(scores, mask=np.array([[True, True, False]])))
    np.testing.assert_allclose(w, [[1 / (1 + np.exp(-1.0)), np.exp(-1.0) / (1 + np.exp(-1.0)), 0.0]], atol=1e-6)


def test_last_valid_step_equals_lstm_final_state():
    _, padded, mask = _batch(lengths=[5, 2, 4])
    lstm, w = _lstm(4, 3, return_sequences=True)
    outputs = lstm(padded, mask=mask)
    _, h, _ = ll.lstm_forward(padded, **w, mask=mask)
    np.testing.assert_allclose(_np(kl.LastValidStep()(outputs, mask=mask)), h, atol=1e-5)


def test_value_masking_masks_a_step_only_when_all_features_match():
    x = np.array([[[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]], np.float32)
    out = kl.ValueMasking(0.0)(x)
    assert _np(kl.keras_mask_of(out)).tolist() == [[True, False, True]]
    np.testing.assert_array_equal(_np(out), x)


def test_value_masking_matches_keras_masking_and_zeroes_masked_steps():
    x = np.array([[[1.0, -1.0], [-1.0, -1.0], [3.0, 4.0]]], np.float32)
    ours, theirs = kl.ValueMasking(-1.0)(x), layers.Masking(-1.0)(x)
    np.testing.assert_array_equal(_np(kl.keras_mask_of(ours)), _np(kl.keras_mask_of(theirs)))
    np.testing.assert_array_equal(_np(ours), _np(theirs))


def test_value_masking_nan_value():
    x = np.array([[[1.0, 2.0], [np.nan, np.nan]]], np.float32)
    out = kl.ValueMasking(float("nan"))(x)
    assert _np(kl.keras_mask_of(out)).tolist() == [[True, False]]
    assert not np.isnan(_np(out)).any()


@pytest.mark.parametrize("size", [1, 2, 3])
def test_merge_steps_values_and_mask(size):
    seqs, padded, mask = _batch(lengths=[5, 2, 0, 4], steps=7)
    out = kl.MergeSteps(size)(layers.Masking(0.0)(padded))
    n_out = -(-7 // size)
    for row, s in enumerate(seqs):
        blocks = [s[i : i + size].mean(axis=0) for i in range(0, len(s), size)]
        if blocks:
            np.testing.assert_allclose(_np(out)[row, : len(blocks)], np.stack(blocks), atol=1e-6)
        assert (_np(out)[row, len(blocks) :] == 0).all()
    expected_mask = ll.sequence_mask(-(-np.array([5, 2, 0, 4]) // size), n_out)
    np.testing.assert_array_equal(_np(kl.keras_mask_of(out)), expected_mask)


def test_merge_steps_without_mask_gives_no_mask_and_plain_block_means():
    x = np.arange(10, dtype=np.float32).reshape(1, 5, 2)
    out = kl.MergeSteps(2)(x)
    assert kl.keras_mask_of(out) is None
    np.testing.assert_allclose(_np(out)[0], [[1, 2], [5, 6], [8, 9]])


# ---- mask propagation through a model ----------------------------------------


def test_value_masking_then_lstm_equals_keras_masking_then_lstm():
    _, padded, mask = _batch(lengths=[5, 2, 4])
    lstm_a, w = _lstm(4, 3)
    lstm_b, _ = _lstm(4, 3)
    inputs = keras.Input((None, 3))
    ours = keras.Model(inputs, lstm_a(kl.ValueMasking(0.0)(inputs)))
    theirs = keras.Model(inputs, lstm_b(layers.Masking(0.0)(inputs)))
    np.testing.assert_allclose(_np(ours(padded)), _np(theirs(padded)), atol=1e-6)
    _, h, _ = ll.lstm_forward(padded, **w, mask=mask)
    np.testing.assert_allclose(_np(ours(padded)), h, atol=1e-5)


def test_merge_steps_model_matches_reference_on_merged_sequences():
    seqs, padded, _ = _batch(lengths=[5, 2, 4], steps=6)
    lstm, w = _lstm(4, 3)
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, lstm(kl.MergeSteps(2)(kl.ValueMasking(0.0)(inputs))))
    merged = [np.stack([s[i : i + 2].mean(axis=0) for i in range(0, len(s), 2)]) for s in seqs]
    merged_lengths = [len(m) for m in merged]
    _, h, _ = ll.lstm_forward(ll.pad_sequences(merged, 3), **w, mask=ll.sequence_mask(merged_lengths, 3))
    np.testing.assert_allclose(_np(model(padded)), h, atol=1e-5)


def test_whole_model_builds_and_runs_without_mask_warnings():
    def build():
        inputs = keras.Input((None, 3))
        seq = layers.LSTM(4, return_sequences=True)(kl.MergeSteps(2)(kl.ValueMasking(0.0)(inputs)))
        pooled = layers.Concatenate()(
            [kl.MaskedMeanPooling1D()(seq), kl.MaskedMaxPooling1D()(seq), kl.LastValidStep()(seq)]
        )
        attention = kl.MaskedSoftmax()(layers.Dense(1)(seq))
        model = keras.Model(inputs, [pooled, attention])
        return model, model(_batch()[1])

    (model, (pooled, attention)), messages = _record(build)
    assert not [m for m in messages if "mask" in m], messages
    assert _np(pooled).shape == (4, 12) and _np(attention).shape == (4, 3, 1)
    assert not np.isnan(_np(pooled)).any()
    # The padding reached the attention layer as a mask: merged steps that are all padding get 0.
    merged_mask = ll.sequence_mask(-(-np.array(LENGTHS) // 2), 3)
    assert (_np(attention)[..., 0][~merged_mask] == 0).all()


def test_softmax_passes_mask_and_consumers_drop_it():
    _, padded, mask = _batch()
    masked = layers.Masking(0.0)(padded)
    np.testing.assert_array_equal(_np(kl.keras_mask_of(kl.MaskedSoftmax()(masked))), mask)
    for cls in (kl.MaskedMeanPooling1D, kl.MaskedMaxPooling1D, kl.LastValidStep):
        out, messages = _record(lambda cls=cls: cls()(masked))
        assert kl.keras_mask_of(out) is None and not messages, (cls.__name__, messages)


def test_consumers_read_the_implicit_mask():
    seqs, padded, mask = _batch(lengths=[5, 2, 4])
    got = _np(kl.MaskedMeanPooling1D()(layers.Masking(0.0)(padded)))
    np.testing.assert_allclose(got, np.stack([s.mean(0) for s in seqs]), atol=1e-6)


# ---- all-masked rows -----------------------------------------------------------------


@pytest.mark.parametrize("cls", [c for c, _ in POOLERS] + [kl.MaskedSoftmax, kl.MergeSteps])
def test_all_masked_rows_give_zeros_and_finite_gradients(cls):
    x = tf.constant(np.random.default_rng(0).normal(size=(2, 4, 3)).astype(np.float32) * 50)
    mask = np.array([[False] * 4, [True, True, False, False]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = cls()(x, mask=mask)
        loss = tf.reduce_sum(out * out)
    grad = tape.gradient(loss, x).numpy()
    assert (_np(out)[0] == 0).all(), cls.__name__
    assert np.isfinite(_np(out)).all() and np.isfinite(grad).all(), cls.__name__
    assert (grad[0] == 0).all() and (grad[1][~mask[1]] == 0).all()


def test_keras_global_average_pooling_gives_nan_where_ours_gives_zero():
    x = np.ones((1, 3, 2), np.float32)
    mask = np.zeros((1, 3), bool)
    assert np.isnan(_np(layers.GlobalAveragePooling1D()(x, mask=mask))).all()  # the pitfall the lesson names
    assert (_np(kl.MaskedMeanPooling1D()(x, mask=mask)) == 0).all()


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [c for c, _ in POOLERS] + [kl.MergeSteps, kl.ValueMasking])
def test_wrong_rank_is_rejected_with_the_shape(cls):
    with pytest.raises(ValueError, match=r"expects 3-D inputs.*\(2, 5\)"):
        cls()(np.zeros((2, 5), np.float32))


def test_softmax_rejects_1d_input():
    with pytest.raises(ValueError, match=r"MaskedSoftmax expects.*\(5,\)"):
        kl.MaskedSoftmax()(np.zeros((5,), np.float32))


def test_mask_of_wrong_rank_is_rejected():
    with pytest.raises(ValueError, match=r"mask must be 2-D.*\(2, 5, 3\)"):
        kl.MaskedMeanPooling1D()(np.zeros((2, 5, 3), np.float32), mask=np.ones((2, 5, 3), bool))


@pytest.mark.parametrize("value", ["0", None, True, [0.0]])
def test_value_masking_rejects_non_numbers(value):
    with pytest.raises(TypeError, match="mask_value"):
        kl.ValueMasking(value)


def test_merge_steps_rejects_bad_size():
    with pytest.raises(ValueError, match="size must be >= 1, got 0"):
        kl.MergeSteps(0)
    with pytest.raises(TypeError, match="size must be an int, got 1.5"):
        kl.MergeSteps(1.5)


def test_inputs_are_not_mutated():
    _, padded, mask = _batch()
    padded_copy, mask_copy = padded.copy(), mask.copy()
    for cls in (kl.MaskedMeanPooling1D, kl.MaskedMaxPooling1D, kl.LastValidStep, kl.MaskedSoftmax, kl.MergeSteps):
        cls()(padded, mask=mask)
    kl.ValueMasking(0.0)(padded)
    np.testing.assert_array_equal(padded, padded_copy)
    np.testing.assert_array_equal(mask, mask_copy)


# ---- serialization ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [kl.ValueMasking(-1.0), kl.MergeSteps(3), kl.MaskedSoftmax(), kl.MaskedMeanPooling1D(), kl.MaskedMaxPooling1D(), kl.LastValidStep()],
    ids=lambda l: type(l).__name__,
)
def test_layer_config_round_trip(layer):
    name = keras.saving.get_registered_name(type(layer))
    assert name == f"lessons_lib>{type(layer).__name__}"
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()


def test_model_save_and_load_keeps_config_and_masking(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, 3))
    x = kl.MergeSteps(2, name="merge")(kl.ValueMasking(-1.0, name="vm")(inputs))
    seq = layers.LSTM(4, return_sequences=True)(x)
    pooled = layers.Concatenate()([kl.MaskedMeanPooling1D()(seq), kl.MaskedMaxPooling1D()(seq), kl.LastValidStep()(seq)])
    model = keras.Model(inputs, [layers.Dense(2)(pooled), kl.MaskedSoftmax()(layers.Dense(1)(seq))])
    seqs = ll.random_ragged_batch([5, 2, 4], 3, seed=1)
    batch = ll.pad_sequences(seqs, 6, value=-1.0)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)  # no custom_objects: the layers are registered
    assert reloaded.get_layer("vm").mask_value == -1.0 and reloaded.get_layer("merge").size == 2
    for a, b in zip(model(batch), reloaded(batch)):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-6)
    longer = reloaded(ll.pad_sequences(seqs, 10, value=-1.0))
    np.testing.assert_allclose(_np(longer[0]), _np(reloaded(batch)[0]), atol=1e-6)
    assert (_np(longer[1])[:, 3:] == 0).all()


# ---- widget pure function and widget ------------------------------------------------


def test_pooling_drift_masked_never_drifts_and_unmasked_mean_grows():
    for pooling in kl.POOLINGS:
        for pad in (0, 3, 20):
            assert kl.pooling_drift(pooling, True, pad)["drift"] == 0.0
    drifts = [kl.pooling_drift("mean", False, pad)["drift"] for pad in (0, 2, 8, 16)]
    assert drifts[0] == 0.0 and all(a < b for a, b in zip(drifts, drifts[1:]))
    assert kl.pooling_drift("max", False, 1)["drift"] > 0  # the all-negative feature loses to a zero
    assert kl.pooling_drift("last", False, 1)["drift"] > 0


def test_pooling_drift_values_and_custom_sequence():
    seq = np.array([[1.0, -2.0], [3.0, -4.0]])
    r = kl.pooling_drift("mean", False, 2, sequence=seq)
    np.testing.assert_allclose(r["pooled"], [1.0, -1.5])
    np.testing.assert_allclose(r["reference"], [2.0, -3.0])
    assert r["drift"] == pytest.approx(1.5)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"pooling": "median"}, ValueError, "pooling must be one of.*'median'"),
        ({"pad_amount": -1}, ValueError, "pad_amount must be >= 0"),
        ({"masked": "yes"}, TypeError, "masked must be True or False"),
        ({"sequence": np.zeros((0, 3))}, ValueError, r"sequence must be 2-D.*\(0, 3\)"),
    ],
)
def test_pooling_drift_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        kl.pooling_drift(**kwargs)


def test_widget_shows_result_text_for_its_controls():
    widget = w04.pooling_drift_widget()
    descriptions = [c.description for c in widget.children[:-1]]
    assert descriptions == ["pooling", "masked", "pad amount"]
    assert widget.result.value == w04.result_text(pooling="mean", masked=False, pad_amount=4)
    widget.controls["pooling"].value = "max"
    widget.controls["masked"].value = True
    widget.controls["pad_amount"].value = 11
    assert widget.result.value == w04.result_text(pooling="max", masked=True, pad_amount=11)
    assert widget.result.value.startswith("Result: max pooling, masked, pad 11;")
    assert widget.result.value.endswith("drift 0.0000")


# ---- checkers: wrong answers say "Not yet", right ones "Correct" ------------------------


def test_exercise_1_checker(capsys):
    assert not check.exercise_1(None)
    assert not check.exercise_1(np.ones((4, 3), bool))
    assert "row 1" in capsys.readouterr().out
    assert not check.exercise_1(np.ones((4, 2), bool))
    right = ll.sequence_mask(-(-np.array(check.EXERCISE_1_LENGTHS) // 3), 3)
    # The expected answer is what the layer itself produces.
    padded = ll.pad_sequences(ll.random_ragged_batch(check.EXERCISE_1_LENGTHS, 2, seed=0), check.EXERCISE_1_STEPS)
    np.testing.assert_array_equal(_np(kl.keras_mask_of(kl.MergeSteps(3)(layers.Masking(0.0)(padded)))), right)
    capsys.readouterr()
    assert check.exercise_1(right)
    assert capsys.readouterr().out.startswith("Correct:")


def test_exercise_2_checker(capsys):
    class Plain(layers.Layer):
        def call(self, inputs):
            return inputs + 1.0

    class Passes(Plain):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

    class WrongValues(Passes):
        def call(self, inputs):
            return inputs * 2.0

    class Broken(layers.Layer):
        def call(self, inputs):
            raise RuntimeError("boom")

    assert not check.exercise_2(None)
    assert not check.exercise_2(Plain)
    assert "warned" in capsys.readouterr().out
    assert not check.exercise_2(WrongValues)
    assert not check.exercise_2(Broken)
    assert "RuntimeError: boom" in capsys.readouterr().out
    assert check.exercise_2(Passes)


def test_exercise_3_checker(capsys):
    def naive(scores, mask):
        e = np.exp(scores) * mask
        return e / e.sum(axis=1, keepdims=True)

    def wrong_axis(scores, mask):
        e = np.exp(scores) * mask
        return e / e.sum(axis=0, keepdims=True)

    def right(scores, mask):
        return _np(kl.MaskedSoftmax()(scores.astype(np.float32), mask=mask)).astype(np.float64)

    assert not check.exercise_3(None)
    assert not check.exercise_3(naive)
    assert "NaN" in capsys.readouterr().out
    assert not check.exercise_3(wrong_axis)
    assert not check.exercise_3(lambda s, m: 1 / 0)
    assert check.exercise_3(right)


def test_exercise_2_instance_instead_of_class_gets_a_clear_hint(capsys):
    class Passes(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return inputs + 1.0

    assert not check.exercise_2(Passes())
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "instance" in out and "exercise_2(Passes)" in out
    assert "missing a required argument" not in out


def _softmax_shift_by_all_steps(scores, mask):
    """A plausible wrong answer: shifted by the maximum over ALL steps (padding included), guarded."""
    e = np.exp(scores - scores.max(axis=1, keepdims=True)) * mask
    total = e.sum(axis=1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


def _softmax_exp_of_every_step(scores, mask):
    """A plausible wrong answer: the right shift, but exp() of padded scores too, then * mask."""
    top = np.where(mask, scores, -np.inf).max(axis=1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0.0)) * mask
    total = e.sum(axis=1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


def test_exercise_3_rejects_a_shift_by_the_max_over_all_steps(capsys):
    # Its padded scores are large (1000), so the wrong shift underflows every real weight to 0.
    assert (check.EXERCISE_3_SCORES[~check.EXERCISE_3_MASK] >= 1000).any()
    assert not check.exercise_3(_softmax_shift_by_all_steps)
    out = capsys.readouterr().out
    assert out.startswith("Not yet: row 4") and "largest REAL score" in out
    assert not check.exercise_3(_softmax_exp_of_every_step)
    out = capsys.readouterr().out
    assert out.startswith("Not yet: row 4") and "NaN" in out and "exponentiate the real steps only" in out


def test_exercise_3_accepts_the_lesson_solution_and_the_torch_twin(capsys):
    def solution(scores, mask):  # the hidden solution cell of lesson 04
        top = np.where(mask, scores, -np.inf).max(axis=1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        e = np.where(mask, np.exp(np.where(mask, scores - top, 0.0)), 0.0)
        total = e.sum(axis=1, keepdims=True)
        return e / np.where(total > 0, total, 1.0)

    import torch

    from lessons_lib import torch_layers as tl

    def torch_twin(scores, mask):
        return tl.TorchMaskedSoftmax()(torch.from_numpy(scores), torch.from_numpy(mask)).numpy()

    assert check.exercise_3(solution) and check.exercise_3(torch_twin)
    assert capsys.readouterr().out.count("Correct:") == 2


JUNK = [None, "abc", b"x", 3, 2.5, True, np.zeros((2, 2)), np.zeros((4, 3, 2)), {1, 2}, {"a": 1}, [[1], [1, 2]],
        [None] * 4, np.array([["a"] * 3] * 4), object(), lambda: None, int, keras.layers.Layer]


@pytest.mark.parametrize("exercise", [check.exercise_1, check.exercise_2, check.exercise_3], ids=lambda f: f.__name__)
@pytest.mark.parametrize("junk", JUNK, ids=lambda j: type(j).__name__)
def test_every_checker_answers_junk_with_not_yet_and_never_raises(exercise, junk, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning reaching the learner's stderr would be a defect too
        result = exercise(junk)
    out = capsys.readouterr().out
    assert not result and out.startswith("Not yet: ") and out.count("\n") == 1, out
    assert "could not be checked" not in out  # a real reason, not a safety net's catch-all


@pytest.mark.parametrize(
    "returned",
    ["abc", {1}, {"a": 1}, [[1], [1, 2]], np.zeros((5, 4), complex), 3, np.zeros((2, 2)), None, object()],
    ids=lambda r: type(r).__name__,
)
def test_exercise_3_answers_junk_returned_by_the_function(returned, capsys):
    assert not check.exercise_3(lambda scores, mask: returned)
    assert capsys.readouterr().out.startswith("Not yet: ")


def test_exercise_2_answers_an_odd_layer_output(capsys):
    class ReturnsDict(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return {"x": inputs}

    assert not check.exercise_2(ReturnsDict)
    assert capsys.readouterr().out.startswith("Not yet: ")
