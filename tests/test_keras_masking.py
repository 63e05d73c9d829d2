"""Tests for lessons_lib.keras_masking and the lesson 02 checkers."""

from __future__ import annotations

import os

import numpy as np
import pytest

import lessons_lib as ll

os.environ.update(ll.KERNEL_ENV)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from lessons_lib import keras_masking as km  # noqa: E402
from lessons_lib.checks import lesson02 as check  # noqa: E402

LENGTHS = [5, 3, 2]


@pytest.fixture(scope="module")
def weights():
    return ll.random_lstm_weights(3, 4, seed=1)


@pytest.fixture(scope="module")
def tokens():
    return ll.random_token_sequences(LENGTHS, 10, seed=2)


def _copy(w):
    return {k: np.array(v, copy=True) for k, v in w.items()}


# --- lstm_layer / bidirectional_lstm -----------------------------------------------------------


def test_lstm_layer_holds_weights_and_matches_numpy_reference(weights):
    before = _copy(weights)
    lstm = km.lstm_layer(weights)
    for got, name in zip(lstm.get_weights(), km.WEIGHT_NAMES):
        np.testing.assert_array_equal(got, weights[name])
    x = ll.pad_sequences(ll.random_ragged_batch(LENGTHS, 3, seed=0))
    for side in ("post", "pre"):
        xs = ll.pad_sequences(ll.random_ragged_batch(LENGTHS, 3, seed=0), padding=side)
        mask = ll.sequence_mask(LENGTHS, padding=side)
        out = lstm(xs, mask=mask).numpy()
        assert out.shape == (3, 4)
        assert ll.compare(out, ll.lstm_forward(xs, **weights, mask=mask)[1], atol=1e-5)
    # unmasked differs from masked: padding is visible with these weights
    assert not ll.compare(lstm(x).numpy(), lstm(x, mask=ll.sequence_mask(LENGTHS)).numpy(), atol=1e-3)
    for name in weights:
        np.testing.assert_array_equal(weights[name], before[name])


def test_lstm_layer_options(weights):
    seq = km.lstm_layer(weights, return_sequences=True, zero_output_for_mask=True)
    x = ll.pad_sequences(ll.random_ragged_batch(LENGTHS, 3, seed=0))
    mask = ll.sequence_mask(LENGTHS)
    out = seq(x, mask=mask).numpy()
    assert out.shape == (3, 5, 4)
    assert np.all(out[~mask] == 0)
    assert km.lstm_layer(weights, use_cudnn=False).use_cudnn is False


def test_lstm_layer_rejects_bad_weights(weights):
    with pytest.raises(TypeError, match="weights must be a dict"):
        km.lstm_layer([1, 2, 3])
    with pytest.raises(ValueError, match=r"weights is missing \['bias'\]"):
        km.lstm_layer({"kernel": weights["kernel"], "recurrent_kernel": weights["recurrent_kernel"]})
    bad = dict(weights, kernel=np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"weights\['kernel'\].*\(3, 5\)"):
        km.lstm_layer(bad)
    bad = dict(weights, recurrent_kernel=np.zeros((3, 16)))
    with pytest.raises(ValueError, match=r"weights\['recurrent_kernel'\].*\(3, 16\)"):
        km.lstm_layer(bad)
    bad = dict(weights, bias=np.zeros(15))
    with pytest.raises(ValueError, match=r"weights\['bias'\].*\(15,\)"):
        km.lstm_layer(bad)


def test_bidirectional_matches_forward_and_reversed_backward(weights):
    backward = ll.random_lstm_weights(3, 4, seed=2)
    bi = km.bidirectional_lstm(weights, backward)
    seqs = ll.random_ragged_batch(LENGTHS, 3, seed=0)
    fw = np.stack([ll.lstm_forward(s[None], **weights)[1][0] for s in seqs])
    bw = np.stack([ll.lstm_forward(s[::-1][None], **backward)[1][0] for s in seqs])
    for side in ("post", "pre"):
        x = ll.pad_sequences(seqs, padding=side)
        out = bi(x, mask=ll.sequence_mask(LENGTHS, padding=side)).numpy()
        assert out.shape == (3, 8)
        assert ll.compare(out[:, :4], fw, atol=1e-5) and ll.compare(out[:, 4:], bw, atol=1e-5)
    seq = km.bidirectional_lstm(weights, backward, return_sequences=True, merge_mode="sum")
    assert tuple(seq(ll.pad_sequences(seqs)).shape) == (3, 5, 4)


def test_bidirectional_rejects_mismatched_weights(weights):
    with pytest.raises(ValueError, match="forward_weights .* must have the same sizes"):
        km.bidirectional_lstm(weights, ll.random_lstm_weights(3, 5, seed=2))
    with pytest.raises(ValueError, match="backward_weights is missing"):
        km.bidirectional_lstm(weights, {"kernel": weights["kernel"]})


def test_lstm_arrays_are_set_weights_order(weights):
    before = _copy(weights)
    arrays = km.lstm_arrays(weights)
    assert [a.shape for a in arrays] == [(3, 16), (4, 16), (16,)]
    lstm = keras.layers.LSTM(4)
    lstm.build((None, None, 3))
    lstm.set_weights(arrays)
    for got, want in zip(lstm.get_weights(), km.lstm_layer(weights).get_weights()):
        np.testing.assert_array_equal(got, want)
    arrays[0][0, 0] += 1.0  # the arrays are copies
    np.testing.assert_array_equal(weights["kernel"], before["kernel"])
    with pytest.raises(ValueError, match=r"weights is missing \['bias'\]"):
        km.lstm_arrays({"kernel": weights["kernel"], "recurrent_kernel": weights["recurrent_kernel"]})
    with pytest.raises(TypeError, match="weights must be a dict"):
        km.lstm_arrays([1, 2, 3])


# --- embeddings -----------------------------------------------------------------------------------


def test_embedding_table_and_layer():
    table = km.embedding_table(10, 3, seed=0)
    assert table.shape == (10, 3) and table.dtype == np.float32
    assert np.abs(table[0]).min() > 0  # row 0 is not a zero vector
    np.testing.assert_array_equal(table, km.embedding_table(10, 3, seed=0))
    assert not np.array_equal(table, km.embedding_table(10, 3, seed=1))
    masked = km.embedding_layer(10, 3, mask_zero=True, seed=0)
    plain = km.embedding_layer(10, 3, seed=0)
    np.testing.assert_array_equal(masked.embeddings.numpy(), table)
    np.testing.assert_array_equal(plain.embeddings.numpy(), table)
    ids = np.array([[4, 2, 0], [0, 0, 0]])
    assert masked.compute_mask(ids).numpy().tolist() == [[True, True, False], [False, False, False]]
    assert plain.compute_mask(ids) is None
    np.testing.assert_array_equal(plain(ids).numpy()[0, 2], table[0])


def test_embedding_rejects_bad_input():
    with pytest.raises(ValueError, match="vocab_size must be >= 2, got 1"):
        km.embedding_table(1, 3)
    with pytest.raises(TypeError, match="output_dim must be an int"):
        km.embedding_table(5, 2.0)
    with pytest.raises(TypeError, match="mask_zero must be a bool, got 1"):
        km.embedding_layer(5, 2, mask_zero=1)


# --- _keras_mask ------------------------------------------------------------------------------------


def test_keras_mask_of_and_without_keras_mask(weights, tokens):
    emb = km.embedding_layer(10, 3, mask_zero=True)
    padded = ll.pad_sequences(tokens)
    e = emb(padded)
    np.testing.assert_array_equal(km.keras_mask_of(e), padded != 0)
    assert km.keras_mask_of(np.zeros((2, 3))) is None
    assert km.keras_mask_of(e * 1.0) is None  # raw ops drop the mask
    stripped = km.without_keras_mask(e)
    assert km.keras_mask_of(stripped) is None
    assert km.keras_mask_of(e) is not None  # the input keeps its mask
    np.testing.assert_array_equal(stripped.numpy(), e.numpy())
    lstm = km.lstm_layer(weights)
    ref = km.run_one_by_one(lambda s: lstm(emb(s)), tokens)
    assert ll.compare(lstm(e), ref, atol=1e-5)  # masked without mask=
    assert not ll.compare(lstm(stripped), ref, atol=1e-3)
    with pytest.raises(TypeError, match="tensor must be an array or a tensor, got None"):
        km.without_keras_mask(None)


# --- run_one_by_one -------------------------------------------------------------------------------


def test_run_one_by_one_stacks_and_does_not_mutate():
    seqs = [np.arange(3.0), np.arange(1.0)]
    before = [s.copy() for s in seqs]

    def fn(batch):
        assert batch.shape[0] == 1
        return batch.sum(axis=1) + batch.shape[1]

    out = km.run_one_by_one(fn, seqs)
    assert out.shape == (2,) and out.tolist() == [6.0, 1.0]
    for s, b in zip(seqs, before):
        np.testing.assert_array_equal(s, b)
    tf_out = km.run_one_by_one(lambda b: tf.reduce_sum(tf.constant(b), axis=1, keepdims=True), seqs)
    assert tf_out.shape == (2, 1)


def test_run_one_by_one_rejects_bad_input():
    with pytest.raises(TypeError, match="fn must be callable, got int"):
        km.run_one_by_one(3, [np.ones(2)])
    with pytest.raises(ValueError, match="sequences must be a non-empty list"):
        km.run_one_by_one(lambda b: b, [])
    with pytest.raises(ValueError, match=r"sequences\[1\] has length 0"):
        km.run_one_by_one(lambda b: b, [np.ones(2), np.ones(0)])


# --- errors ---------------------------------------------------------------------------------------


def test_short_error_message_strips_noise():
    exc = ValueError(
        "Exception encountered when calling LSTM.call().\n\n\x1b[1m{{function_node __wrapped__X_device_/job:"
        "localhost/replica:0/task:0/device:CPU:0}} condition [3,1] bad [Op:SelectV2] name: \x1b[0m\n\n"
        "Arguments received by LSTM.call():\n  • sequences=tf.Tensor(shape=(2, 5, 2))"
    )
    assert km.short_error_message(exc) == "in LSTM.call(): condition [3,1] bad"
    assert km.short_error_message(ValueError("plain message")) == "plain message"
    with pytest.raises(TypeError, match="exc must be an exception, got str"):
        km.short_error_message("oops")


def test_call_explained_keeps_type_and_shortens(weights):
    assert km.call_explained(lambda a, b=0: a + b, 1, b=2) == 3
    inp = keras.Input((5, 3))
    lstm = km.lstm_layer(weights)
    wrong = keras.Model(inp, lstm(inp, mask=tf.constant(ll.sequence_mask(LENGTHS, 5))))
    x = ll.pad_sequences(ll.random_ragged_batch(LENGTHS, 3, seed=0))
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        km.call_explained(wrong, x[:2])
    msg = info.value.message
    assert msg == "in LSTM.call(): condition [3,1], then [2,4], and else [2,4] must be broadcastable"
    ragged = tf.ragged.constant([s.tolist() for s in ll.random_ragged_batch([1, 2], 3)], ragged_rank=1)
    with pytest.raises(ValueError, match=r"^in LSTM.call\(\): Cannot index into an inner ragged dimension.$"):
        km.call_explained(lstm, ragged)
    with pytest.raises(TypeError, match="fn must be callable"):
        km.call_explained(None)


# --- cuDNN rule -------------------------------------------------------------------------------------


def test_cudnn_mask_ok_cases():
    post = ll.sequence_mask([5, 3, 2])
    assert km.cudnn_mask_ok(post) == {"right_padded": True, "no_empty_row": True, "ok": True}
    assert km.cudnn_mask_ok(ll.sequence_mask([5, 3, 2], padding="pre"))["right_padded"] is False
    assert km.cudnn_mask_ok(ll.sequence_mask([5, 0]))["no_empty_row"] is False
    assert km.cudnn_mask_ok(np.array([[True, False, True]]))["ok"] is False  # a hole
    before = post.copy()
    km.cudnn_mask_ok(post)
    np.testing.assert_array_equal(post, before)


def test_cudnn_mask_ok_agrees_with_keras_private_checks():
    import importlib

    # the package attribute `rnn` is a function; import the module by name
    tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")

    rng = np.random.default_rng(0)
    masks = [ll.sequence_mask([4, 1, 3]), ll.sequence_mask([4, 1, 3], padding="pre"), ll.sequence_mask([4, 0])]
    masks += [rng.random((3, 4)) < 0.6 for _ in range(20)]
    for m in masks:
        ours = km.cudnn_mask_ok(m)
        assert ours["right_padded"] == bool(tf_rnn._is_sequence_right_padded(tf.constant(m)))
        assert ours["no_empty_row"] == (not bool(tf_rnn._has_fully_masked_sequence(tf.constant(m))))


def test_cudnn_mask_ok_rejects_bad_input():
    with pytest.raises(ValueError, match=r"mask must be 2-D .*got shape \(3,\)"):
        km.cudnn_mask_ok(np.ones(3, bool))
    with pytest.raises(TypeError, match="mask must be a bool array, got dtype int64"):
        km.cudnn_mask_ok(np.ones((2, 3), np.int64))


# --- masked_mean --------------------------------------------------------------------------------------


def test_masked_mean_values_and_bad_input():
    vals = np.array([[1.0, 3.0, 100.0], [2.0, 0.0, 0.0]])
    mask = np.array([[True, True, False], [True, False, False]])
    before = vals.copy()
    assert km.masked_mean(vals, mask) == pytest.approx(2.0)
    np.testing.assert_array_equal(vals, before)
    assert km.masked_mean(vals, np.zeros_like(mask)) == 0.0
    with pytest.raises(TypeError, match="mask must be a bool array, got dtype float64"):
        km.masked_mean(vals, mask.astype(float))
    with pytest.raises(ValueError, match=r"mask must have the shape of values \(2, 3\), got \(3,\)"):
        km.masked_mean(vals, np.ones(3, bool))


def test_masked_mean_is_what_keras_losses_report(weights, tokens):
    emb = km.embedding_layer(10, 3, mask_zero=True)
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            emb,
            km.lstm_layer(weights, return_sequences=True),
            keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(seed=3)),
        ]
    )
    padded = ll.pad_sequences(tokens)
    mask = padded != 0
    y_true = np.random.default_rng(4).standard_normal(padded.shape + (1,)).astype("float32")
    y_pred = model(padded)
    assert km.keras_mask_of(y_pred) is not None
    per_step = ((y_pred.numpy() - y_true) ** 2)[..., 0]
    keras_loss = float(keras.losses.MeanSquaredError()(y_true, y_pred))
    assert keras_loss == pytest.approx(km.masked_mean(per_step, mask), abs=1e-5)
    assert abs(keras_loss - per_step.mean()) > 1e-3  # the masked and unmasked losses differ


# --- masking_method_output (the widget's pure function) --------------------------------------------


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_masking_methods(padding):
    for method in km.METHODS:
        r = km.masking_method_output(method, padding, 3)
        assert r["output"].shape == r["reference"].shape == (km.DEMO_UNITS,)
        assert r["padded_tokens"].shape == r["mask"].shape == (km.DEMO_TOKENS.size + 3,)
        real = r["padded_tokens"] != 0
        if method in ("none", "Masking after Embedding"):
            assert r["mask"].all() and r["max_abs_diff"] > 1e-3, method
        else:
            np.testing.assert_array_equal(r["mask"], real)
            assert r["max_abs_diff"] < 1e-5, method
    for method in km.METHODS:  # no padding: every method is right
        assert km.masking_method_output(method, padding, 0)["max_abs_diff"] < 1e-5


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_masking_method_output_equals_plain_eager_keras(padding):
    """The compiled LSTM calls give what the plain eager calls ``lstm(x)`` / ``lstm(x, mask=...)`` give."""
    layers = km._demo_layers(km.DEMO_VOCAB, km.DEMO_DIM, km.DEMO_UNITS, km.DEMO_SEED)
    lstm, table = layers["lstm"], layers["table"]
    toks = km.DEMO_TOKENS
    for n in (0, 2, 5):
        padded = ll.pad_sequences([toks], toks.size + n, padding=padding, value=0)
        eager = {
            "none": lstm(layers["embed"](padded)),
            "mask_zero": lstm(layers["embed_mask_zero"](padded)),  # the mask travels on the tensor
            "Masking": lstm(layers["masking"](
                ll.pad_sequences([table[toks]], toks.size + n, padding=padding, value=0.0).astype("float32"))),
            "Masking after Embedding": lstm(layers["masking"](layers["embed"](padded))),
            "explicit mask": lstm(layers["embed"](padded), mask=padded != 0),
        }
        reference = lstm(table[toks][None]).numpy()[0]
        for method, out in eager.items():
            r = km.masking_method_output(method, padding, n)
            np.testing.assert_allclose(r["output"], out.numpy()[0], rtol=0, atol=1e-6, err_msg=method)
            np.testing.assert_allclose(r["reference"], reference, rtol=0, atol=1e-6)


def test_masking_method_output_custom_tokens_not_mutated():
    toks = np.array([2, 5, 1])
    r = km.masking_method_output("mask_zero", "post", 2, tokens=toks)
    assert r["padded_tokens"].tolist() == [2, 5, 1, 0, 0]
    assert toks.tolist() == [2, 5, 1]


def test_masking_method_output_rejects_bad_input():
    with pytest.raises(ValueError, match="method must be one of .* got 'masking'"):
        km.masking_method_output("masking")
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post', got 'left'"):
        km.masking_method_output("none", "left")
    with pytest.raises(ValueError, match="pad_amount must be >= 0, got -1"):
        km.masking_method_output("none", "post", -1)
    with pytest.raises(TypeError, match="pad_amount must be an int"):
        km.masking_method_output("none", "post", 1.5)
    with pytest.raises(ValueError, match=r"tokens\[1\] = 0 must be in 1..11"):
        km.masking_method_output("none", "post", 1, tokens=np.array([3, 0]))
    with pytest.raises(ValueError, match="tokens must be a non-empty 1-D array of ints"):
        km.masking_method_output("none", "post", 1, tokens=np.array([1.0, 2.0]))


# --- checkers ---------------------------------------------------------------------------------------


def _said(capsys) -> str:
    """What the checker printed, on one line (its feedback is wrapped for projection)."""
    return " ".join(capsys.readouterr().out.split())


def test_exercise_1(capsys):
    x = check.exercise_1_data()
    right = keras.layers.Masking(mask_value=0.0).compute_mask(x).numpy()
    assert bool(check.exercise_1(right)) is True
    assert _said(capsys).startswith("Correct:")
    assert bool(check.exercise_1(None)) is False
    wrong = ~np.any(x == 0.0, axis=-1)  # "zeros are masked": a step with one zero feature dropped
    assert bool(check.exercise_1(wrong)) is False
    out = _said(capsys)
    assert "Not yet: answer is still None" in out and "ALL features equal mask_value" in out
    assert bool(check.exercise_1(~right)) is False
    assert "inverted: in a Keras mask True means the step is KEPT" in _said(capsys)
    assert bool(check.exercise_1(right.astype(int))) is False
    assert bool(check.exercise_1(right[:2])) is False
    assert "shape (3, 4)" in _said(capsys)


def _token_model(*layers):
    return keras.Sequential([keras.Input((None,), dtype="int32"), *layers])


def test_exercise_2(capsys):
    fixed = _token_model(keras.layers.Embedding(20, 3, mask_zero=True), keras.layers.LSTM(4))
    buggy = _token_model(keras.layers.Embedding(20, 3), keras.layers.Masking(0.0), keras.layers.LSTM(4))
    assert bool(check.exercise_2(fixed)) is True
    assert _said(capsys).startswith("Correct:")
    assert bool(check.exercise_2(buggy)) is False
    assert "Masking after an Embedding masks nothing" in _said(capsys)
    assert bool(check.exercise_2(None)) is False
    assert bool(check.exercise_2(3)) is False
    no_lstm = _token_model(keras.layers.Embedding(20, 3))
    assert bool(check.exercise_2(no_lstm)) is False
    assert "LSTM" in _said(capsys)


def test_exercise_2_accepts_a_bidirectional_lstm(capsys):
    bi = _token_model(keras.layers.Embedding(20, 3, mask_zero=True), keras.layers.Bidirectional(keras.layers.LSTM(4)))
    assert bool(check.exercise_2(bi)) is True
    assert _said(capsys).startswith("Correct:")


def test_exercise_2_names_the_plausible_mistakes(capsys):
    """Each plausible wrong model gets its own reason, not a crash or a generic message."""
    emb = lambda **kw: keras.layers.Embedding(20, 3, **kw)  # noqa: E731
    cases = {
        "return_sequences=True": (
            _token_model(emb(mask_zero=True), keras.layers.LSTM(4, return_sequences=True)),
            "shape (4, 6, 4), one vector per step: the last LSTM has return_sequences=True",
        ),
        "mask_zero then Masking": (
            _token_model(emb(mask_zero=True), keras.layers.Masking(0.0), keras.layers.LSTM(4)),
            "Masking replaces an incoming mask",
        ),
        "no mask": (_token_model(emb(), keras.layers.LSTM(4)), "No layer makes a mask"),
        "return_state": (
            _token_model(emb(mask_zero=True), keras.layers.LSTM(4, return_state=True)),
            "returns 3 tensors (return_state=True?)",
        ),
        "the class": (keras.Sequential, "model is the class Sequential, not a model"),
        "a bare layer": (keras.layers.LSTM(4), "model is a layer (LSTM), not a model"),
        "a function": (lambda t: t, "should be a keras Model"),
    }
    for name, (model, hint) in cases.items():
        assert bool(check.exercise_2(model)) is False, name
        out = _said(capsys)
        assert out.startswith("Not yet:") and hint in out, (name, out)
        assert "all input arrays must have the same shape" not in out, name


def test_exercise_2_stacked_lstms_in_both_regimes(capsys):
    """Two stacked LSTMs pass up to Keras 3.15; from 3.16 the second sees no mask, and the hint says so."""
    import warnings

    from lessons_lib.keras_regime import recurrent_layers_pass_mask, simulate_keras_316

    def stacked():
        return _token_model(
            keras.layers.Embedding(20, 3, mask_zero=True), keras.layers.LSTM(4, return_sequences=True), keras.layers.LSTM(4)
        )

    assert bool(check.exercise_2(stacked())) is recurrent_layers_pass_mask()
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 3.16 "destroy the mask" warning
        with simulate_keras_316():
            assert bool(check.exercise_2(stacked())) is False
            bi = _token_model(
                keras.layers.Embedding(20, 3, mask_zero=True), keras.layers.Bidirectional(keras.layers.LSTM(4))
            )
            assert bool(check.exercise_2(bi)) is True  # one recurrent layer: right in 3.16 too
    out = _said(capsys)
    assert "pass mask= to each recurrent layer" in out and out.count("Correct:") == 1, out


def test_exercise_3(capsys):
    data = check.exercise_3_data()
    per_step = ((data["y_pred"] - data["y_true"]) ** 2)[..., 0]
    assert bool(check.exercise_3(per_step[data["mask"]].mean())) is True
    assert _said(capsys).startswith("Correct: 2.3333")
    assert bool(check.exercise_3(np.float32(14 / 6))) is True  # any real number type
    capsys.readouterr()
    assert bool(check.exercise_3(per_step.mean())) is False
    assert "ALL steps" in _said(capsys)
    assert bool(check.exercise_3(np.where(data["mask"], per_step, 0).mean())) is False
    assert "divides by all 8 steps" in _said(capsys)
    mean_of_means = np.mean([per_step[b][data["mask"][b]].mean() for b in range(2)])  # 1.875
    assert bool(check.exercise_3(mean_of_means)) is False
    assert "1.8750 is the mean of the per-sequence means [0.5, 3.25]" in _said(capsys)
    assert bool(check.exercise_3(14.0)) is False
    assert "sum over the real steps; divide it by their number, 6" in _said(capsys)
    assert bool(check.exercise_3("2.3333")) is False  # a string is not a float, even a right one
    assert bool(check.exercise_3(5.0)) is False
    assert bool(check.exercise_3(np.nan)) is False
    assert "finite" in _said(capsys)


JUNK = {
    "None": None,
    "a string": "abc",
    "an int": 3,
    "a float": 2.5,
    "True": True,
    "an array of the wrong shape": np.zeros((2, 2)),
    "an empty list": [],
    "a ragged list": [[1, 2], [3]],
    "a set": {1, 2},
    "a dict": {"answer": 1},
    "an object": object(),
}


@pytest.mark.parametrize("exercise", [check.exercise_1, check.exercise_2, check.exercise_3], ids=lambda f: f.__name__)
@pytest.mark.parametrize("junk", list(JUNK), ids=str)
def test_every_checker_answers_junk_with_not_yet(exercise, junk, capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would reach the notebook's stderr
        result = exercise(JUNK[junk])
    out = capsys.readouterr().out
    assert bool(result) is False and out.startswith("Not yet: ") and out.count("Not yet:") == 1, out
    assert "could not be checked" not in out, out  # each junk answer has its own reason


def test_a_checker_never_raises_even_when_its_own_code_fails(capsys, monkeypatch):
    monkeypatch.setattr(check, "exercise_1_data", lambda: 1 / 0)
    assert bool(check.exercise_1(np.zeros((3, 4), bool))) is False
    assert "could not be checked (ZeroDivisionError" in _said(capsys)


def test_exercise_3_expected_value_is_keras_loss():
    data = check.exercise_3_data()
    y_pred = tf.constant(data["y_pred"])
    y_pred._keras_mask = tf.constant(data["mask"])  # what a masking model attaches
    keras_loss = float(keras.losses.MeanSquaredError()(data["y_true"], y_pred))
    assert keras_loss == pytest.approx(14 / 6, abs=1e-6)
