"""The Keras claims of lessons 02 and 04, checked on whichever Keras backend this process runs.

Run it as ``KERAS_BACKEND=torch python tests/keras_backend_claims.py`` (or
``tensorflow``): the backend is fixed when Keras is first imported, so
``tests/test_keras_backends.py`` starts one subprocess per backend. Each claim
is a function that asserts; every claim runs, each prints ``ok`` or ``FAILED``
with the reason, and the last line is a summary. The exit status is 1 if any
claim failed.

Only backend-neutral code is used (``keras.ops``, ``lessons_lib`` NumPy helpers and
``lessons_lib.keras_layers``); ``lessons_lib.keras_masking`` imports TensorFlow and
is not used here.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
import warnings

import numpy as np

import lessons_lib as ll  # NumPy only: padding, masks, the reference LSTM, synthetic data

import keras  # noqa: E402  (after lessons_lib, which sets quiet TensorFlow defaults)
from keras import layers, ops  # noqa: E402

from lessons_lib import keras_layers as kl  # noqa: E402
from lessons_lib.keras_regime import recurrent_layers_pass_mask  # noqa: E402

ATOL = 1e-5
LENGTHS = [5, 3, 2]
TOKENS = ll.random_token_sequences(LENGTHS, vocab_size=10, seed=2)
POST = ll.pad_sequences(TOKENS, padding="post")
PRE = ll.pad_sequences(TOKENS, padding="pre")
WEIGHTS = ll.random_lstm_weights(3, 4, seed=1)  # non-zero biases: padding effects are visible
BACKWARD = ll.random_lstm_weights(3, 4, seed=2)
TABLE = (np.random.default_rng(0).standard_normal((10, 3))).astype("float32")  # row 0 is not zero

CLAIMS = []


def claim(fn):
    CLAIMS.append(fn)
    return fn


def numpy_of(x) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def diff(a, b) -> float:
    return float(np.abs(numpy_of(a) - numpy_of(b)).max())


def lstm_layer(weights=WEIGHTS, **kwargs) -> keras.layers.LSTM:
    units = weights["kernel"].shape[1] // 4
    lstm = layers.LSTM(units, **kwargs)
    lstm.build((None, None, weights["kernel"].shape[0]))
    lstm.set_weights([weights["kernel"], weights["recurrent_kernel"], weights["bias"]])
    return lstm


def embedding(mask_zero: bool) -> keras.layers.Embedding:
    emb = layers.Embedding(10, 3, mask_zero=mask_zero)
    emb.build((None, None))
    emb.set_weights([TABLE])
    return emb


def alone(fn, sequences) -> np.ndarray:
    return np.stack([numpy_of(fn(np.asarray(s)[None]))[0] for s in sequences])


def mask_of(x):
    m = getattr(x, "_keras_mask", None)
    return None if m is None else numpy_of(m).astype(bool)


# --- lesson 02 ----------------------------------------------------------------------


@claim
def embedding_mask_zero_masks_id_0_and_keeps_its_vector():
    emb = embedding(True)
    assert (numpy_of(emb.compute_mask(POST)).astype(bool) == (POST != 0)).all()
    e = emb(POST)
    assert np.abs(TABLE[0]).min() > 0 and np.allclose(numpy_of(e)[2, 4], TABLE[0])
    assert (mask_of(e) == (POST != 0)).all(), "the eager tensor carries _keras_mask"


@claim
def masked_lstm_equals_each_sequence_alone_pre_and_post():
    emb, lstm = embedding(True), lstm_layer()
    reference = alone(lambda s: lstm(emb(s)), TOKENS)
    numpy_reference = np.stack([ll.lstm_forward(TABLE[t][None], **WEIGHTS)[1][0] for t in TOKENS])
    assert diff(reference, numpy_reference) < ATOL
    for padded in (POST, PRE):
        assert diff(lstm(emb(padded)), reference) < ATOL
        assert diff(lstm(embedding(False)(padded)), reference) > 0.01, "without the mask it must be wrong"


@claim
def masking_needs_all_features_equal_to_mask_value():
    x = np.array([[[1.0, 2.0], [0.0, 5.0], [0.0, 0.0]]], dtype="float32")
    assert numpy_of(layers.Masking(0.0).compute_mask(x)).astype(bool).tolist() == [[True, True, False]]
    features = ll.random_ragged_batch(LENGTHS, 3, seed=3)
    lstm = lstm_layer()
    masked = layers.Masking(-1.0)(ll.pad_sequences(features, value=-1.0))
    assert diff(lstm(masked), alone(lstm, features)) < ATOL


@claim
def masking_after_embedding_masks_nothing():
    after = layers.Masking(0.0)(embedding(False)(POST))
    assert mask_of(after).all()
    lstm = lstm_layer()
    reference = alone(lambda s: lstm(embedding(True)(s)), TOKENS)
    assert diff(lstm(after), reference) > 0.01


@claim
def explicit_mask_argument_works_for_any_batch():
    emb, lstm = embedding(False), lstm_layer()
    reference = alone(lambda s: lstm(emb(s)), TOKENS)
    inp = keras.Input((None,), dtype="int32")
    model = keras.Model(inp, lstm(emb(inp), mask=ops.not_equal(inp, 0)))
    assert diff(model(POST), reference) < ATOL
    assert diff(model(POST[:2]), reference[:2]) < ATOL
    assert diff(model(PRE), reference) < ATOL


@claim
def constant_mask_is_right_only_for_its_batch():
    emb, lstm = embedding(False), lstm_layer()
    inp = keras.Input((None,), dtype="int32")
    wrong = keras.Model(inp, lstm(emb(inp), mask=ops.convert_to_tensor(POST != 0)))
    assert diff(wrong(POST), alone(lambda s: lstm(emb(s)), TOKENS)) < ATOL
    other = ll.random_token_sequences([2, 5, 4], vocab_size=10, seed=5)
    assert diff(wrong(ll.pad_sequences(other)), alone(lambda s: lstm(emb(s)), other)) > 0.01
    try:
        wrong(POST[:2])
    except Exception as exc:  # the type differs between backends (see the summary line)
        print(f"    another batch size raises {type(exc).__name__}")
    else:
        raise AssertionError("a batch of another size should fail with a constant mask of 3 rows")


@claim
def raw_ops_between_layers_drop_the_mask():
    emb, lstm = embedding(True), lstm_layer()
    e = emb(POST)
    assert mask_of(e * 1.0) is None
    inp = keras.Input((None,), dtype="int32")
    doubled = emb(inp) * 2.0
    assert getattr(doubled, "_keras_mask", None) is None
    reference = alone(lambda s: lstm(emb(s) * 2.0), TOKENS)
    assert diff(keras.Model(inp, lstm(doubled))(POST), reference) > 0.01
    fixed = keras.Model(inp, lstm(emb(inp) * 2.0, mask=ops.not_equal(inp, 0)))
    assert diff(fixed(POST), reference) < ATOL


@claim
def masked_steps_repeat_the_previous_output_and_zeros_before_the_start():
    emb, seq_lstm = embedding(True), lstm_layer(return_sequences=True)
    out_post, out_pre = numpy_of(seq_lstm(emb(POST))), numpy_of(seq_lstm(emb(PRE)))
    assert np.allclose(out_post[2, 2:], out_post[2, 1]) and np.allclose(out_pre[2, :3], 0)
    zero = numpy_of(lstm_layer(return_sequences=True, zero_output_for_mask=True)(emb(POST)))
    assert np.allclose(zero[2, 2:], 0) and np.allclose(zero[POST != 0], out_post[POST != 0], atol=1e-6)
    h0, c0 = np.full((3, 4), 0.5, "float32"), np.full((3, 4), 0.3, "float32")
    with_state = numpy_of(seq_lstm(emb(PRE), mask=PRE != 0, initial_state=[h0, c0]))
    assert np.allclose(with_state[2, :3], 0), "zeros before the start, not the initial state"


@claim
def bidirectional_masked_equals_each_sequence_alone():
    bi = layers.Bidirectional(layers.LSTM(4))
    bi.build((None, None, 3))
    bi.set_weights([WEIGHTS[k] for k in ("kernel", "recurrent_kernel", "bias")]
                   + [BACKWARD[k] for k in ("kernel", "recurrent_kernel", "bias")])
    emb = embedding(True)
    reference = alone(lambda s: bi(emb(s)), TOKENS)
    for padded in (POST, PRE):
        assert diff(bi(emb(padded)), reference) < ATOL
    backward = np.stack([ll.lstm_forward(TABLE[t[::-1]][None], **BACKWARD)[1][0] for t in TOKENS])
    assert diff(numpy_of(bi(emb(POST)))[:, 4:], backward) < ATOL


def tagger_and_targets():
    seq_lstm = lstm_layer(return_sequences=True)
    head = layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(seed=3))
    tagger = keras.Sequential([keras.Input((None,), dtype="int32"), embedding(True), seq_lstm, head])
    mask = POST != 0
    y_true = np.random.default_rng(4).standard_normal(mask.shape + (1,)).astype("float32") * mask[..., None]
    y_pred = tagger(POST)
    per_step = ((numpy_of(y_pred) - y_true) ** 2)[..., 0]
    return tagger, mask, y_true, y_pred, per_step


@claim
def masked_loss_explicit_and_in_evaluate():
    tagger, mask, y_true, y_pred, per_step = tagger_and_targets()
    target = per_step[mask].mean()
    assert abs(target - per_step.mean()) > 0.01
    loss = keras.losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert abs(float(numpy_of(loss(y_true, y_pred, sample_weight=mask))) - target) < ATOL
    tagger.compile(loss=loss, weighted_metrics=["mae"])
    scores = tagger.evaluate(POST, y_true, sample_weight=mask.astype("float32"), batch_size=3, verbose=0,
                             return_dict=True)
    assert abs(scores["loss"] - target) < 1e-4
    assert abs(scores["mae"] - np.abs(numpy_of(y_pred) - y_true)[..., 0][mask].mean()) < 1e-4


@claim
def implicit_mask_propagation_follows_the_installed_regime():
    """Keras <= 3.15: the LSTM output carries the mask, and evaluate masks the loss (3.16: neither)."""
    passes = recurrent_layers_pass_mask()
    tagger, mask, y_true, y_pred, per_step = tagger_and_targets()
    assert (mask_of(y_pred) is not None) == passes
    tagger.compile(loss="mse")
    evaluated = tagger.evaluate(POST, y_true, batch_size=3, verbose=0, return_dict=True)["loss"]
    expected = per_step[mask].mean() if passes else per_step.mean()
    assert abs(float(numpy_of(keras.losses.MeanSquaredError()(y_true, y_pred))) - expected) < ATOL
    assert abs(evaluated - expected) < 1e-4


@claim
def lstm_fast_path_and_masks():
    """TensorFlow: cuDNN only (none on CPU). torch and JAX: any mask -> NotImplementedError -> generic loop."""
    from keras.src import backend as keras_backend

    emb, lstm = embedding(True), lstm_layer()
    x = emb(POST)
    h = c = ops.zeros((3, 4))
    args = (lstm.cell.kernel, lstm.cell.recurrent_kernel, lstm.cell.bias, lstm.cell.activation,
            lstm.cell.recurrent_activation)
    try:
        keras_backend.lstm(x, h, c, ops.convert_to_tensor(POST != 0), *args)
    except NotImplementedError:
        refused_masked = True
    else:
        refused_masked = False
    assert refused_masked, "a masked call must leave the fast path"
    if keras.backend.backend() == "torch":
        last, _, _ = keras_backend.lstm(x, h, c, None, *args)  # unmasked: torch's fast path runs, on CPU too
        unmasked = alone(lambda s: lstm(embedding(False)(s)), [POST[i] for i in range(3)])
        assert diff(last, unmasked) < ATOL


# --- lesson 04 ----------------------------------------------------------------------

SEQS = ll.random_ragged_batch(np.array([5, 2, 4]), 3, seed=4)
PADDED = ll.pad_sequences(SEQS, 6)
MASK = ll.sequence_mask([5, 2, 4], 6)


@claim
def value_masking_matches_keras_masking():
    assert (mask_of(kl.ValueMasking(0.0)(PADDED)) == mask_of(layers.Masking(0.0)(PADDED))).all()
    inputs = keras.Input((None, 3))
    lstm = lstm_layer()
    ours = keras.Model(inputs, lstm(kl.ValueMasking(0.0)(inputs)))
    _, h_true, _ = ll.lstm_forward(PADDED, **WEIGHTS, mask=MASK)
    assert diff(ours(PADDED), h_true) < ATOL
    assert (mask_of(kl.ValueMasking(float("nan"))(ll.pad_sequences(SEQS, 6, value=np.nan))) == MASK).all()


@claim
def a_layer_without_mask_support_drops_the_mask_with_a_warning():
    class Scale(layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = Scale()(layers.Masking(0.0)(PADDED))
    assert mask_of(out) is None
    assert any("destroy the mask information" in str(w.message) for w in caught)


@claim
def masked_poolings_softmax_last_step_match_numpy_with_an_empty_row():
    x = np.concatenate([PADDED, np.zeros((1, 6, 3), np.float32)])
    m = ll.sequence_mask([5, 2, 4, 0], 6)
    means = np.stack([s.mean(0) for s in SEQS] + [np.zeros(3)])
    maxes = np.stack([s.max(0) for s in SEQS] + [np.zeros(3)])
    lasts = np.stack([s[-1] for s in SEQS] + [np.zeros(3)])
    assert diff(kl.MaskedMeanPooling1D()(x, mask=m), means) < 1e-6
    assert diff(kl.MaskedMaxPooling1D()(x, mask=m), maxes) < 1e-6
    assert diff(kl.LastValidStep()(x, mask=m), lasts) < 1e-6
    scores = np.random.default_rng(3).normal(size=(4, 6, 1)).astype(np.float32)
    weights = numpy_of(kl.MaskedSoftmax()(scores, mask=m))[..., 0]
    assert np.allclose(weights[:3].sum(1), 1, atol=1e-6) and (weights[~m] == 0).all() and not np.isnan(weights).any()


@claim
def merge_steps_changes_the_mask():
    merged = kl.MergeSteps(2)(layers.Masking(0.0)(PADDED))
    assert tuple(merged.shape) == (3, 3, 3)
    assert (mask_of(merged) == ll.sequence_mask([3, 1, 2], 3)).all()


def lesson04_model():
    inputs = keras.Input((None, 3))
    x = kl.MergeSteps(2, name="merge")(kl.ValueMasking(-1.0, name="value_masking")(inputs))
    step_mask = kl.keras_mask_of(x)
    seq_out = layers.LSTM(4, return_sequences=True, name="lstm")(x, mask=step_mask)
    pooled = layers.Concatenate()([p(seq_out, mask=step_mask) for p in
                                   (kl.MaskedMeanPooling1D(), kl.MaskedMaxPooling1D(), kl.LastValidStep())])
    attention = kl.MaskedSoftmax(name="attention")(layers.Dense(1, name="score")(seq_out), mask=step_mask)
    return keras.Model(inputs, [layers.Dense(2, name="head")(pooled), attention])


@claim
def save_and_reload_keeps_working_masks():
    model = lesson04_model()
    padded_m1 = ll.pad_sequences(SEQS, 6, value=-1.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lesson04.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path)
    assert reloaded.get_layer("value_masking").mask_value == -1.0 and reloaded.get_layer("merge").size == 2
    before, after = model(padded_m1), reloaded(padded_m1)
    assert diff(before[0], after[0]) < 1e-6 and diff(before[1], after[1]) < 1e-6
    longer = reloaded(ll.pad_sequences(SEQS, 10, value=-1.0))
    assert diff(longer[0], after[0]) < 1e-6 and (numpy_of(longer[1])[:, 3:] == 0).all()


def main() -> int:
    backend = keras.backend.backend()
    print(f"backend {backend} | keras {keras.__version__} | recurrent layers pass the mask: {recurrent_layers_pass_mask()}"
          f" | tensorflow imported: {'tensorflow' in sys.modules}")
    failed = []
    for fn in CLAIMS:
        try:
            fn()
        except Exception:
            failed.append(fn.__name__)
            print(f"FAILED {fn.__name__}\n" + traceback.format_exc(limit=3))
        else:
            print(f"ok {fn.__name__}")
    print(f"SUMMARY backend={backend}: {len(CLAIMS) - len(failed)} of {len(CLAIMS)} claims hold"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
