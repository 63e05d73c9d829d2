"""The course's robust Keras masking recipes under both masking regimes.

Keras <= 3.15: recurrent layers pass their mask on. Keras 3.16 (keras-team/keras
PR #23235) sets ``supports_masking = False`` on ``RNN``, ``Bidirectional`` and
``TimeDistributed``; ``simulate_keras_316()`` flips exactly that flag, so the
``regime`` fixture runs each test once as installed ("3.15") and once simulated
("3.16"). Layers are built and called inside the fixture's context.

The robust recipes (what lessons 02 and 04 teach) must equal the unpadded
reference, each sequence run alone, to 1e-5 in both regimes. The claims the
lessons make about the old regime (a mask on the LSTM output, ``evaluate``
returning the masked loss, a stacked LSTM masked without ``mask=``) must be
true under 3.15 and false under 3.16.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lessons_lib as ll
from lessons_lib import keras_masking as km
from lessons_lib.keras_regime import (
    PROPAGATES,
    STOPS,
    keras_mask_regime,
    recurrent_layers_pass_mask,
    simulate_keras_316,
)

import keras  # noqa: E402  (after lessons_lib: it sets the quiet TensorFlow environment)

# Under 3.16 every masked LSTM call warns that it "will therefore destroy the mask information": expected here.
pytestmark = pytest.mark.filterwarnings("ignore:.*destroy the mask information")

ATOL = 1e-5
LENGTHS = [5, 3, 2]


def _keras_version() -> tuple[int, int]:
    major, minor = keras.__version__.split(".")[:2]
    return int(major), int(minor)


@pytest.fixture(params=["3.15", "3.16"])
def regime(request):
    """"3.15": Keras as installed (skipped if it is already 3.16 or later); "3.16": simulated."""
    if request.param == "3.15":
        if _keras_version() >= (3, 16):
            pytest.skip(f"installed Keras {keras.__version__} is already past 3.15")
        assert recurrent_layers_pass_mask(), "Keras <= 3.15 must pass masks through recurrent layers"
        yield request.param
    else:
        with simulate_keras_316():
            assert keras_mask_regime() == STOPS
            yield request.param


@pytest.fixture
def data():
    """Token batch (post- and pre-padded), seeded layers with non-zero biases, and references."""
    tokens = ll.random_token_sequences(LENGTHS, vocab_size=10, seed=2)
    return {
        "tokens": tokens,
        "post": ll.pad_sequences(tokens, padding="post"),
        "pre": ll.pad_sequences(tokens, padding="pre"),
        "weights": ll.random_lstm_weights(3, 4, seed=1),
        "top_weights": ll.random_lstm_weights(4, 4, seed=5),
        "backward_weights": ll.random_lstm_weights(3, 4, seed=2),
    }


def _emb(mask_zero: bool):
    return km.embedding_layer(10, 3, mask_zero=mask_zero, seed=0)


def _max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


def test_fixture_really_switches_the_regime(regime):
    expected = PROPAGATES if regime == "3.15" else STOPS
    assert keras_mask_regime() == expected


def test_simulation_is_undone_after_the_context():
    with simulate_keras_316():
        assert not recurrent_layers_pass_mask()
    if _keras_version() < (3, 16):
        assert recurrent_layers_pass_mask()


# --- robust recipes: right in both regimes ---------------------------------------


@pytest.mark.parametrize("side", ["post", "pre"])
def test_masked_embedding_lstm_equals_each_sequence_alone(regime, data, side):
    emb, lstm = _emb(True), km.lstm_layer(data["weights"])
    reference = km.run_one_by_one(lambda s: lstm(emb(s)), data["tokens"])
    numpy_reference = np.stack(
        [ll.lstm_forward(emb.embeddings.numpy()[t][None], **data["weights"])[1][0] for t in data["tokens"]]
    )
    assert _max_diff(reference, numpy_reference) < ATOL
    inp = keras.Input((None,), dtype="int32")
    functional = keras.Model(inp, lstm(emb(inp)))
    assert _max_diff(lstm(emb(data[side])), reference) < ATOL
    assert _max_diff(functional(data[side]), reference) < ATOL
    # and the padding matters: without the mask the answer is wrong (the test can fail)
    assert _max_diff(lstm(_emb(False)(data[side])), reference) > 0.01


@pytest.mark.parametrize("side", ["post", "pre"])
def test_explicit_mask_argument_equals_each_sequence_alone(regime, data, side):
    emb, lstm = _emb(False), km.lstm_layer(data["weights"])
    reference = km.run_one_by_one(lambda s: lstm(emb(s)), data["tokens"])
    inp = keras.Input((None,), dtype="int32")
    model = keras.Model(inp, lstm(emb(inp), mask=keras.ops.not_equal(inp, 0)))
    assert _max_diff(model(data[side]), reference) < ATOL
    assert _max_diff(model(data[side][:2]), reference[:2]) < ATOL


@pytest.mark.parametrize("side", ["post", "pre"])
def test_stacked_lstms_with_explicit_mask_equal_each_sequence_alone(regime, data, side):
    emb = _emb(True)
    first = km.lstm_layer(data["weights"], return_sequences=True)
    top = km.lstm_layer(data["top_weights"])
    reference = km.run_one_by_one(lambda s: top(first(emb(s))), data["tokens"])
    inp = keras.Input((None,), dtype="int32")
    step_mask = keras.ops.not_equal(inp, 0)
    model = keras.Model(inp, top(first(emb(inp), mask=step_mask), mask=step_mask))
    assert _max_diff(model(data[side]), reference) < ATOL


@pytest.mark.parametrize("side", ["post", "pre"])
def test_bidirectional_masked_equals_each_sequence_alone(regime, data, side):
    emb = _emb(True)
    bi = km.bidirectional_lstm(data["weights"], data["backward_weights"])
    reference = km.run_one_by_one(lambda s: bi(emb(s)), data["tokens"])
    assert _max_diff(bi(emb(data[side])), reference) < ATOL
    inp = keras.Input((None,), dtype="int32")
    explicit = keras.Model(inp, bi(_emb(False)(inp), mask=keras.ops.not_equal(inp, 0)))
    assert _max_diff(explicit(data[side]), reference) < ATOL


def _tagger(data):
    emb = _emb(True)
    seq_lstm = km.lstm_layer(data["weights"], return_sequences=True)
    head = keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(seed=3))
    tagger = keras.Sequential([keras.Input((None,), dtype="int32"), emb, seq_lstm, head])
    mask = data["post"] != 0
    y_true = np.random.default_rng(4).standard_normal(mask.shape + (1,)).astype("float32") * mask[..., None]
    y_pred = tagger(data["post"])
    per_step = ((np.asarray(y_pred) - y_true) ** 2)[..., 0]
    return tagger, mask, y_true, y_pred, per_step


def test_masked_loss_via_sample_weight_is_the_masked_mean(regime, data):
    tagger, mask, y_true, y_pred, per_step = _tagger(data)
    target = km.masked_mean(per_step, mask)
    assert abs(target - per_step.mean()) > 0.01  # padding changes the plain mean
    loss = keras.losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert abs(float(loss(y_true, y_pred, sample_weight=mask)) - target) < ATOL
    tagger.compile(loss=loss, weighted_metrics=["mae"])
    scores = tagger.evaluate(
        data["post"], y_true, sample_weight=mask.astype("float32"), batch_size=3, verbose=0, return_dict=True
    )
    abs_err = np.abs(np.asarray(y_pred) - y_true)[..., 0]
    assert abs(scores["loss"] - target) < 1e-4
    assert abs(scores["mae"] - km.masked_mean(abs_err, mask)) < 1e-4


def test_masked_loss_function_is_the_masked_mean(regime, data):
    _, mask, y_true, y_pred, per_step = _tagger(data)
    keep = keras.ops.cast(mask, "float32")
    squared = keras.ops.squeeze(keras.ops.square(y_pred - y_true), -1)
    value = float(keras.ops.sum(squared * keep) / keras.ops.sum(keep))
    assert abs(value - km.masked_mean(per_step, mask)) < ATOL


def test_lstm_uses_the_mask_it_receives_in_both_regimes(regime, data):
    """The upstream change does not touch the LSTM's own use of its input mask."""
    emb = _emb(True)
    seq_lstm = km.lstm_layer(data["weights"], return_sequences=True)
    out = np.asarray(seq_lstm(emb(data["post"])))
    alone = [np.asarray(seq_lstm(emb(t[None])))[0] for t in data["tokens"]]
    for row, (length, a) in enumerate(zip(LENGTHS, alone)):
        assert _max_diff(out[row, :length], a) < ATOL
        if length < out.shape[1]:  # padded steps repeat the last real output (generic kernel)
            assert _max_diff(out[row, length:], np.broadcast_to(a[-1], out[row, length:].shape)) < ATOL


# --- the lessons' claims about the old regime: true under 3.15, false under 3.16 ----


def test_mask_on_the_lstm_output_only_under_315(regime, data):
    seq_lstm = km.lstm_layer(data["weights"], return_sequences=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seq_out = seq_lstm(_emb(True)(data["post"]))
        after_dense = keras.layers.Dense(2)(seq_out)
    carries = km.keras_mask_of(seq_out) is not None
    assert carries == (regime == "3.15")
    assert (km.keras_mask_of(after_dense) is not None) == (regime == "3.15")
    warned = any("destroy the mask information" in str(w.message) for w in caught)
    assert warned == (regime == "3.16")


def test_evaluate_is_the_masked_loss_only_under_315(regime, data):
    tagger, mask, y_true, y_pred, per_step = _tagger(data)
    implicit = float(keras.losses.MeanSquaredError()(y_true, y_pred))
    tagger.compile(loss="mse")
    evaluated = tagger.evaluate(data["post"], y_true, batch_size=3, verbose=0, return_dict=True)["loss"]
    masked, unmasked = km.masked_mean(per_step, mask), float(per_step.mean())
    expected = masked if regime == "3.15" else unmasked
    assert abs(implicit - expected) < ATOL
    assert abs(evaluated - expected) < 1e-4
    assert abs(masked - unmasked) > 0.01  # the two regimes really give different numbers


def test_stacked_lstm_without_mask_argument_is_masked_only_under_315(regime, data):
    emb = _emb(True)
    first = km.lstm_layer(data["weights"], return_sequences=True)
    top = km.lstm_layer(data["top_weights"])
    reference = km.run_one_by_one(lambda s: top(first(emb(s))), data["tokens"])
    inp = keras.Input((None,), dtype="int32")
    implicit = keras.Model(inp, top(first(emb(inp))))
    diff = _max_diff(implicit(data["post"]), reference)
    if regime == "3.15":
        assert diff < ATOL
    else:
        assert diff > 0.01


def test_sample_weight_with_default_reduction_is_robust_only_under_315(regime, data):
    """The trap lesson 02 shows: the default reduction divides by all steps once no mask rides on y_pred."""
    _, mask, y_true, y_pred, per_step = _tagger(data)
    value = float(keras.losses.MeanSquaredError()(y_true, y_pred, sample_weight=mask))
    expected = km.masked_mean(per_step, mask) if regime == "3.15" else per_step[mask].sum() / per_step.size
    assert abs(value - expected) < ATOL
