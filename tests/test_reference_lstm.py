"""The NumPy reference LSTM: masking semantics, agreement with Keras, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessons_lib as ll

SIDES = ("pre", "post")


def _keras_lstm(weights, n_features, steps):
    import keras

    units = weights["recurrent_kernel"].shape[0]
    lstm = keras.layers.LSTM(units, return_sequences=True, return_state=True)
    lstm.build((None, steps, n_features))
    lstm.set_weights([weights["kernel"], weights["recurrent_kernel"], weights["bias"]])
    return lstm


@settings(max_examples=20, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 7), min_size=1, max_size=5),
    extra=st.integers(0, 3),
    padding=st.sampled_from(SIDES),
    seed=st.integers(0, 1000),
)
def test_masked_forward_equals_running_each_sequence_alone(lengths, extra, padding, seed):
    w = ll.random_lstm_weights(3, 4, seed=seed)
    seqs = ll.random_ragged_batch(lengths, 3, seed=seed)
    maxlen = max(lengths) + extra
    x = ll.pad_sequences(seqs, maxlen, padding=padding)
    mask = ll.sequence_mask(lengths, maxlen, padding=padding)
    out, h, c = ll.lstm_forward(x, **w, mask=mask)
    valid = ll.unpad_sequences(out, lengths, padding=padding)
    for b, s in enumerate(seqs):
        out_b, h_b, c_b = ll.lstm_forward(s[None], **w)
        np.testing.assert_allclose(valid[b], out_b[0], atol=1e-12)
        np.testing.assert_allclose(h[b], h_b[0], atol=1e-12)
        np.testing.assert_allclose(c[b], c_b[0], atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 6), min_size=1, max_size=4),
    padding=st.sampled_from(SIDES),
    seed=st.integers(0, 1000),
)
def test_masked_forward_equals_keras_lstm(lengths, padding, seed):
    w = ll.random_lstm_weights(3, 5, seed=seed)
    maxlen = max(lengths) + 1
    x = ll.pad_sequences(ll.random_ragged_batch(lengths, 3, seed=seed), maxlen, padding=padding)
    mask = ll.sequence_mask(lengths, maxlen, padding=padding)
    lstm = _keras_lstm(w, 3, maxlen)
    k_out, k_h, k_c = lstm(x, mask=mask)
    out, h, c = ll.lstm_forward(x, **w, mask=mask)
    assert ll.compare(k_out, out, atol=1e-5), ll.compare(k_out, out, atol=1e-5)
    assert ll.compare(k_h, h, atol=1e-5)
    assert ll.compare(k_c, c, atol=1e-5)


def test_unmasked_forward_equals_keras_lstm_and_differs_from_masked():
    w = ll.random_lstm_weights(2, 3, seed=7)
    lengths = [5, 2]
    x = ll.pad_sequences(ll.random_ragged_batch(lengths, 2, seed=7), 6, padding="pre")
    k_out, k_h, _ = _keras_lstm(w, 2, 6)(x, mask=np.ones((2, 6), bool))
    out, h, _ = ll.lstm_forward(x, **w)
    assert ll.compare(k_out, out, atol=1e-5)
    _, h_masked, _ = ll.lstm_forward(x, **w, mask=ll.sequence_mask(lengths, 6, padding="pre"))
    assert not ll.compare(h, h_masked, atol=1e-3)  # pre-padding changes the unmasked answer


def test_masked_steps_carry_state_and_repeat_output():
    w = ll.random_lstm_weights(2, 3, seed=1)
    x = ll.pad_sequences(ll.random_ragged_batch([2], 2, seed=1), 4)
    out, h, _ = ll.lstm_forward(x, **w, mask=ll.sequence_mask([2], 4))
    np.testing.assert_array_equal(out[0, 2], out[0, 1])
    np.testing.assert_array_equal(out[0, 3], out[0, 1])
    np.testing.assert_array_equal(h[0], out[0, 1])


def test_initial_states_are_used_and_not_changed():
    w = ll.random_lstm_weights(2, 3, seed=2)
    h0 = np.full((1, 3), 0.5)
    c0 = np.full((1, 3), -0.5)
    x = np.zeros((1, 2, 2))
    _, h, _ = ll.lstm_forward(x, **w, mask=np.zeros((1, 2), bool), h0=h0, c0=c0)
    np.testing.assert_array_equal(h, h0)
    np.testing.assert_array_equal(h0, 0.5)
    np.testing.assert_array_equal(c0, -0.5)


@pytest.mark.parametrize(
    "change,match",
    [
        (dict(x=np.zeros((2, 3))), r"x must be 3-D, got shape \(2, 3\)"),
        (dict(kernel=np.zeros((4, 12))), r"kernel must have shape \(features=2, 4 \* units\), got \(4, 12\)"),
        (dict(kernel=np.zeros((2, 10))), r"kernel must have shape"),
        (dict(recurrent_kernel=np.zeros((3, 8))), r"recurrent_kernel must have shape \(3, 12\), got \(3, 8\)"),
        (dict(bias=np.zeros(11)), r"bias must have shape \(12,\), got \(11,\)"),
        (dict(mask=np.ones((1, 4), bool)), r"mask must have shape \(batch, time\) = \(1, 3\), got \(1, 4\)"),
        (dict(h0=np.zeros((2, 3))), r"h0 must have shape \(1, 3\), got \(2, 3\)"),
    ],
)
def test_bad_shapes_are_rejected(change, match):
    w = ll.random_lstm_weights(2, 3, seed=0)
    args = dict(x=np.zeros((1, 3, 2)), **w)
    args.update(change)
    with pytest.raises(ValueError, match=match):
        ll.lstm_forward(**args)


def test_non_bool_mask_is_rejected():
    w = ll.random_lstm_weights(2, 3, seed=0)
    with pytest.raises(TypeError, match="mask must be a bool array, got dtype float64"):
        ll.lstm_forward(np.zeros((1, 3, 2)), **w, mask=np.ones((1, 3)))


def test_random_weights_have_nonzero_bias_and_reject_bad_sizes():
    w = ll.random_lstm_weights(3, 4, seed=0)
    assert (w["bias"] != 0).all()
    with pytest.raises(ValueError, match="units must be >= 1, got 0"):
        ll.random_lstm_weights(3, 0)
