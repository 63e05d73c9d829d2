"""pad_sequences, unpad_sequences, sequence_mask, mask_from_padded, lengths_from_mask."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessons_lib as ll

SIDES = ("pre", "post")


def ragged_ints(min_size=1):
    return st.lists(st.lists(st.integers(1, 50), max_size=9), min_size=min_size, max_size=6)


# ---------------------------------------------------------------- properties

@given(seqs=ragged_ints(), padding=st.sampled_from(SIDES), extra=st.integers(0, 3))
def test_pad_then_unpad_round_trips(seqs, padding, extra):
    lengths = [len(s) for s in seqs]
    padded = ll.pad_sequences(seqs, max(lengths) + extra, padding=padding)
    back = ll.unpad_sequences(padded, lengths, padding=padding)
    assert [b.tolist() for b in back] == seqs


@given(
    lengths=st.lists(st.integers(0, 7), min_size=1, max_size=5),
    n_features=st.integers(1, 3),
    padding=st.sampled_from(SIDES),
)
def test_pad_then_unpad_round_trips_2d(lengths, n_features, padding):
    seqs = ll.random_ragged_batch(lengths, n_features, seed=1)
    back = ll.unpad_sequences(ll.pad_sequences(seqs, padding=padding), lengths, padding=padding)
    for a, b in zip(seqs, back):
        np.testing.assert_array_equal(a, b)


@given(lengths=st.lists(st.integers(0, 20), max_size=8), extra=st.integers(0, 4), padding=st.sampled_from(SIDES))
def test_sequence_mask_rows_sum_to_lengths(lengths, extra, padding):
    maxlen = (max(lengths) if lengths else 0) + extra
    mask = ll.sequence_mask(lengths, maxlen, padding=padding)
    assert mask.dtype == bool and mask.shape == (len(lengths), maxlen)
    np.testing.assert_array_equal(mask.sum(1), lengths)
    np.testing.assert_array_equal(ll.lengths_from_mask(mask), lengths)


@given(seqs=ragged_ints(), padding=st.sampled_from(SIDES))
def test_mask_from_padded_matches_sequence_mask_for_nonzero_tokens(seqs, padding):
    padded = ll.pad_sequences(seqs, padding=padding)
    expected = ll.sequence_mask([len(s) for s in seqs], padded.shape[1], padding=padding)
    np.testing.assert_array_equal(ll.mask_from_padded(padded), expected)


def test_loop_version_equals_vectorized_mask():
    lengths = [3, 0, 5, 1]
    loop = np.zeros((4, 5), bool)
    for b, n in enumerate(lengths):
        for t in range(n):
            loop[b, t] = True
    np.testing.assert_array_equal(ll.sequence_mask(lengths, 5), loop)


# ---------------------------------------------------------------- examples

def test_pad_defaults_to_post_and_keeps_dtype():
    out = ll.pad_sequences([np.array([1, 2, 3], np.int32), np.array([4], np.int32)])
    np.testing.assert_array_equal(out, [[1, 2, 3], [4, 0, 0]])
    assert out.dtype == np.int32


def test_pad_truncates_only_when_asked():
    seqs = [[1, 2, 3, 4], [5]]
    np.testing.assert_array_equal(ll.pad_sequences(seqs, 2), [[1, 2], [5, 0]])
    np.testing.assert_array_equal(ll.pad_sequences(seqs, 2, truncating="pre"), [[3, 4], [5, 0]])
    np.testing.assert_array_equal(ll.pad_sequences(seqs, 2, padding="pre", truncating="pre"), [[3, 4], [0, 5]])
    assert ll.pad_sequences(seqs).shape == (2, 4)


def test_pad_zero_length_items_and_nan_value():
    out = ll.pad_sequences([np.ones((2, 3)), np.zeros((0, 3))], value=np.nan)
    assert out.shape == (2, 2, 3) and np.isnan(out[1]).all()
    np.testing.assert_array_equal(ll.mask_from_padded(out, value=np.nan), [[True, True], [False, False]])
    assert ll.pad_sequences([[], []]).shape == (2, 0)
    assert ll.pad_sequences([], maxlen=3).shape == (0, 3)


def test_mask_from_padded_3d_needs_all_features_equal():
    x = np.array([[[0.0, 1.0], [0.0, 0.0], [2.0, 0.0]]])
    np.testing.assert_array_equal(ll.mask_from_padded(x), [[True, False, True]])


def test_lengths_from_mask_accepts_both_sides_and_ints():
    mask = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(ll.lengths_from_mask(mask), [2, 2, 0, 3])


def test_helpers_do_not_change_inputs():
    seqs = [np.array([1, 2, 3]), np.array([4])]
    copies = [s.copy() for s in seqs]
    padded = ll.pad_sequences(seqs, 5, padding="pre")
    padded_copy = padded.copy()
    lengths = np.array([3, 1])
    parts = ll.unpad_sequences(padded, lengths, padding="pre")
    parts[0][0] = 99  # the result must not be a view into padded
    mask = ll.sequence_mask(lengths, 5)
    mask_copy = mask.copy()
    ll.lengths_from_mask(mask)
    ll.mask_from_padded(padded)
    for a, b in zip(seqs, copies):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(padded, padded_copy)
    np.testing.assert_array_equal(lengths, [3, 1])
    np.testing.assert_array_equal(mask, mask_copy)


# ---------------------------------------------------------------- frameworks

@pytest.mark.parametrize("padding,truncating", list(itertools.product(SIDES, SIDES)))
@pytest.mark.parametrize("maxlen", [None, 3, 8])
@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_pad_sequences_agrees_with_keras(padding, truncating, maxlen, kind):
    import keras

    lengths = [5, 0, 2, 7, 3]
    if kind == "1d":
        seqs = ll.random_token_sequences(lengths, 30, seed=3)
        seqs = [s.astype(np.int32) for s in seqs]
        dtype, value = "int32", 0
    else:
        seqs = ll.random_ragged_batch(lengths, 4, seed=3)
        dtype, value = "float32", -1.0
    theirs = keras.utils.pad_sequences(seqs, maxlen, dtype=dtype, padding=padding, truncating=truncating, value=value)
    ours = ll.pad_sequences(seqs, maxlen, padding=padding, truncating=truncating, value=value, dtype=dtype)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=6), n_features=st.integers(1, 3))
def test_pad_sequences_agrees_with_keras_random(lengths, n_features):
    import keras

    seqs = ll.random_ragged_batch(lengths, n_features, seed=len(lengths))
    for padding in SIDES:
        theirs = keras.utils.pad_sequences(seqs, dtype="float32", padding=padding)
        np.testing.assert_array_equal(ll.pad_sequences(seqs, padding=padding), theirs)


@pytest.mark.parametrize("padding", SIDES)
@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_pad_sequences_agrees_with_torch(padding, kind):
    import torch
    from torch.nn.utils.rnn import pad_sequence

    lengths = [4, 1, 6, 2]
    seqs = ll.random_token_sequences(lengths, 20, seed=4) if kind == "1d" else ll.random_ragged_batch(lengths, 3, seed=4)
    theirs = pad_sequence([torch.from_numpy(s) for s in seqs], batch_first=True, padding_value=0, padding_side="left" if padding == "pre" else "right")
    np.testing.assert_array_equal(ll.pad_sequences(seqs, padding=padding), theirs.numpy())


@settings(max_examples=10, deadline=None)
@given(lengths=st.lists(st.integers(0, 6), min_size=1, max_size=5), n_features=st.integers(1, 4), seed=st.integers(0, 100))
def test_mask_from_padded_matches_keras_masking(lengths, n_features, seed):
    import keras

    x = ll.pad_sequences(ll.random_ragged_batch(lengths, n_features, seed=seed), max(lengths) + 1)
    x[0, 0, 0] = 0.0  # one zero feature must not mask the step
    theirs = keras.layers.Masking(mask_value=0.0).compute_mask(x)
    np.testing.assert_array_equal(ll.mask_from_padded(x), np.asarray(theirs))


# ---------------------------------------------------------------- bad input: one test per case

def test_negative_length_is_rejected():
    with pytest.raises(ValueError, match=r"lengths must be >= 0, got -2 at index 1"):
        ll.sequence_mask([3, -2])


def test_non_integer_length_is_rejected():
    with pytest.raises(TypeError, match=r"lengths must hold integers.*2.5 at index 1"):
        ll.sequence_mask([3, 2.5])
    with pytest.raises(TypeError, match="lengths must hold integers"):
        ll.unpad_sequences(np.zeros((2, 3)), [True, False])


def test_length_longer_than_maxlen_is_rejected():
    with pytest.raises(ValueError, match=r"lengths\[1\] = 5 is longer than maxlen = 4"):
        ll.sequence_mask([2, 5], 4)


def test_length_longer_than_time_axis_is_rejected():
    with pytest.raises(ValueError, match=r"lengths\[0\] = 4 is longer than the time axis of padded = 3"):
        ll.unpad_sequences(np.zeros((1, 3)), [4])


def test_lengths_and_batch_must_agree():
    with pytest.raises(ValueError, match="lengths has 3 entries but padded has batch size 2"):
        ll.unpad_sequences(np.zeros((2, 3)), [1, 2, 3])


@pytest.mark.parametrize("bad", ["left", "Post", None, 0])
def test_unknown_padding_word_is_rejected(bad):
    with pytest.raises(ValueError, match=r"padding must be 'pre' or 'post'"):
        ll.pad_sequences([[1]], padding=bad)
    with pytest.raises(ValueError, match=r"padding must be 'pre' or 'post'"):
        ll.sequence_mask([1], padding=bad)


def test_unknown_truncating_word_is_rejected():
    with pytest.raises(ValueError, match=r"truncating must be 'pre' or 'post', got 'start'"):
        ll.pad_sequences([[1]], truncating="start")


def test_disagreeing_feature_sizes_are_rejected():
    with pytest.raises(ValueError, match=r"sequences\[2\] has 4 features but sequences\[0\] has 3"):
        ll.pad_sequences([np.ones((2, 3)), np.ones((1, 3)), np.ones((2, 4))])


def test_mixed_1d_and_2d_items_are_rejected():
    with pytest.raises(ValueError, match=r"sequences\[1\] has shape \(2, 2\)"):
        ll.pad_sequences([[1, 2], np.ones((2, 2))])


def test_3d_item_is_rejected():
    with pytest.raises(ValueError, match=r"sequences\[0\] must be 1-D .* got shape \(1, 1, 1\)"):
        ll.pad_sequences([np.ones((1, 1, 1))])


def test_empty_batch_without_maxlen_is_rejected():
    with pytest.raises(ValueError, match="sequences is empty"):
        ll.pad_sequences([])


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), (2.0, TypeError), (True, TypeError)])
def test_bad_maxlen_is_rejected(bad, exc):
    with pytest.raises(exc, match="maxlen"):
        ll.pad_sequences([[1, 2]], bad)


def test_value_that_does_not_fit_dtype_is_rejected():
    with pytest.raises(ValueError, match=r"value=-0.5 cannot be stored in dtype int64"):
        ll.pad_sequences([np.array([1, 2])], value=-0.5)
    with pytest.raises(ValueError, match=r"value=nan cannot be stored in dtype int64"):
        ll.pad_sequences([np.array([1, 2])], value=float("nan"))


def test_strings_are_rejected():
    with pytest.raises(TypeError, match=r"sequences\[0\] is a str"):
        ll.pad_sequences(["abc"])
    with pytest.raises(TypeError, match="sequences must be a list"):
        ll.pad_sequences(5)


def test_mask_with_holes_is_rejected():
    with pytest.raises(ValueError, match=r"mask row 1 is not one contiguous block .*\[1, 0, 1\]"):
        ll.lengths_from_mask(np.array([[1, 1, 0], [1, 0, 1]], bool))


def test_mask_of_wrong_type_or_shape_is_rejected():
    with pytest.raises(TypeError, match="mask must be bool"):
        ll.lengths_from_mask(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match=r"mask must be 2-D .* got shape \(3,\)"):
        ll.lengths_from_mask(np.array([True, False, True]))


def test_mask_from_padded_rejects_bad_ndim():
    with pytest.raises(ValueError, match=r"padded must be 2-D .* got shape \(3,\)"):
        ll.mask_from_padded(np.zeros(3))


def test_lengths_must_be_1d():
    with pytest.raises(ValueError, match=r"lengths must be 1-D, got shape \(2, 1\)"):
        ll.sequence_mask([[1], [2]])


# ---------------------------------------------------------------- the contract: items that are not numbers
# Before this was enforced, several of these came back as a str, object or all-True array
# (e.g. pad_sequences([[1, "a"]]) -> a '<U21' array, mask_from_padded(x, value="0") -> all True).
# Each now raises TypeError naming the argument and the index.

NOT_NUMBERS = ["a", None, object(), {1: 2}, b"x"]

CONTRACT_CASES = [
    # (call, words the message must contain)
    (lambda: ll.pad_sequences([[1, "a"]]), ["sequences[0][1]", "'a'", "str"]),
    (lambda: ll.pad_sequences([["a", "b"]]), ["sequences[0][0]", "str"]),
    (lambda: ll.pad_sequences([[1, None]]), ["sequences[0][1]", "None"]),
    (lambda: ll.pad_sequences([[1, 2], [None]]), ["sequences[1][0]", "None"]),
    (lambda: ll.pad_sequences([[1, 2], [3, "4"]]), ["sequences[1][1]", "'4'"]),
    (lambda: ll.pad_sequences([np.array([1, "x"], dtype=object)]), ["sequences[0][1]", "'x'"]),
    (lambda: ll.pad_sequences([np.array([1, 2], dtype=object)]), ["sequences[0]", "object array"]),
    (lambda: ll.pad_sequences([[[1.0, "a"]]]), ["sequences[0][0, 1]", "'a'"]),
    (lambda: ll.pad_sequences([["1", "2"]], dtype=float), ["sequences[0][0]", "'1'", "str"]),
    (lambda: ll.pad_sequences([None]), ["sequences[0]", "None"]),
    (lambda: ll.pad_sequences([[1, 2], 3]), ["sequences[1]", "single number"]),
    (lambda: ll.pad_sequences([[1, 2]], dtype=object), ["dtype", "object"]),
    (lambda: ll.pad_sequences([[1, 2], [1]], value="x"), ["value", "'x'"]),
    (lambda: ll.pad_sequences([[1, 2], [1]], value=None), ["value", "None"]),
    (lambda: ll.pad_sequences([[1, 2], [1]], value=True), ["value", "bool"]),
    (lambda: ll.pad_sequences([[1, 2], [1]], value=1 + 2j), ["value", "complex"]),
    (lambda: ll.sequence_mask([2, None]), ["lengths", "None", "index 1"]),
    (lambda: ll.sequence_mask(["2", "1"]), ["lengths", "'2'", "index 0"]),
    (lambda: ll.sequence_mask(np.array([2, 1], dtype=object)), ["lengths", "object", "index 0"]),
    (lambda: ll.sequence_mask([True, False]), ["lengths", "bool", "index 0"]),
    (lambda: ll.mask_from_padded(np.array([[1, 0]]), value="0"), ["value", "'0'"]),
    (lambda: ll.mask_from_padded(np.array([[1, 0]]), value=None), ["value", "None"]),
    (lambda: ll.mask_from_padded(np.array([[1, 0]]), value=True), ["value", "bool"]),
    (lambda: ll.mask_from_padded(np.array([[1, 0]]), value=1j), ["value", "complex"]),
    (lambda: ll.mask_from_padded(np.array([["a", "b"]])), ["padded[0, 0]", "'a'"]),
    (lambda: ll.mask_from_padded([[1, None]]), ["padded[0, 1]", "None"]),
    (lambda: ll.mask_from_padded(np.array([[1, 0]], dtype=object)), ["padded", "object array"]),
    (lambda: ll.mask_from_padded(np.array([[True, False]])), ["padded[0, 0]", "bool"]),
    (lambda: ll.lengths_from_mask([[True, None]]), ["mask must be bool", "mask[0, 1]", "None"]),
    (lambda: ll.lengths_from_mask(np.array([["a", "b"]])), ["mask must be bool", "mask[0, 0]"]),
    (lambda: ll.lengths_from_mask(np.array([[1, 2]])), ["mask must be bool", "mask[0, 1] = 2"]),
    (lambda: ll.unpad_sequences(np.array([["a", "b"]]), [1]), ["padded[0, 0]", "'a'"]),
    (lambda: ll.unpad_sequences([[1, None]], [1]), ["padded[0, 1]", "None"]),
    (lambda: ll.unpad_sequences(np.array([[1, 2]], dtype=object), [1]), ["padded", "object array"]),
    (lambda: ll.unpad_sequences(np.array([[1, 2]]), [None]), ["lengths", "None", "index 0"]),
]


@pytest.mark.parametrize("call,words", CONTRACT_CASES)
def test_items_that_are_not_numbers_raise_type_error_naming_argument_and_index(call, words):
    with pytest.raises(TypeError) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_lstm_forward_rejects_items_that_are_not_numbers():
    w = ll.random_lstm_weights(2, 3)
    x = np.ones((1, 2, 2))
    cases = [
        (dict(x=[[[1.0, None], [1.0, 1.0]]]), ["x[0, 0, 1]", "None"]),
        (dict(x=np.full((1, 2, 2), "a")), ["x[0, 0, 0]", "'a'"]),
        (dict(x=np.ones((1, 2, 2), dtype=object)), ["x", "object array"]),
        (dict(x=np.ones((1, 2, 2), dtype=bool)), ["x", "bool"]),
        (dict(x=x, h0=np.full((1, 3), "a")), ["h0[0, 0]", "'a'"]),
        (dict(x=x, mask=np.array([[True, None]])), ["mask must be a bool array", "mask[0, 1]", "None"]),
        (dict(x=x, mask=np.array([[1, 0]])), ["mask must be a bool array", "mask[0, 0] = 1"]),
    ]
    for kwargs, words in cases:
        with pytest.raises(TypeError) as info:
            ll.lstm_forward(**{**w, **kwargs})
        for word in words:
            assert word in str(info.value), (word, str(info.value))
    with pytest.raises(TypeError, match=r"kernel\[0, 0\]"):
        ll.lstm_forward(x, w["kernel"] > 0, w["recurrent_kernel"], w["bias"])


@settings(max_examples=60, deadline=None)
@given(
    seqs=st.lists(st.lists(st.integers(-5, 50), min_size=1, max_size=6), min_size=1, max_size=5),
    where=st.tuples(st.integers(0, 10), st.integers(0, 10)),
    junk=st.sampled_from(NOT_NUMBERS),
)
def test_pad_sequences_names_the_exact_place_of_any_junk_item(seqs, where, junk):
    i = where[0] % len(seqs)
    j = where[1] % len(seqs[i])
    bad = [list(s) for s in seqs]
    bad[i][j] = junk
    before = [list(s) for s in bad]
    with pytest.raises(TypeError, match=rf"sequences\[{i}\]\[{j}\]"):
        ll.pad_sequences(bad)
    assert bad == before  # nothing changed in place


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 9), min_size=1, max_size=6), k=st.integers(0, 10),
       junk=st.sampled_from(NOT_NUMBERS + [1.5, True]))
def test_length_helpers_name_the_index_of_any_junk_length(lengths, k, junk):
    k %= len(lengths)
    bad = list(lengths)
    bad[k] = junk
    with pytest.raises(TypeError, match="lengths must hold integers") as info:
        ll.sequence_mask(bad, 10)
    assert f"index {k}" in str(info.value)
    with pytest.raises(TypeError, match="lengths must hold integers"):
        ll.unpad_sequences(np.zeros((len(bad), 10)), bad)


@settings(max_examples=40, deadline=None)
@given(value=st.one_of(st.text(max_size=3), st.none(), st.booleans(), st.complex_numbers(allow_nan=False).filter(lambda z: z.imag != 0)))
def test_non_numeric_padding_and_mask_values_are_rejected(value):
    with pytest.raises(TypeError, match="value"):
        ll.pad_sequences([[1, 2], [3]], value=value)
    with pytest.raises(TypeError, match="value"):
        ll.mask_from_padded(np.array([[1, 0]]), value=value)


def test_numbers_of_every_kind_still_work():
    assert ll.pad_sequences([np.array([1, 2], np.uint8), np.array([3], np.uint8)]).dtype == np.uint8
    assert ll.pad_sequences([[1.5], []], value=np.float32(-1)).tolist() == [[1.5], [-1.0]]
    assert ll.pad_sequences([[True, False], [True]]).tolist() == [[True, False], [True, False]]  # flags pad with 0 = False
    np.testing.assert_array_equal(ll.mask_from_padded(np.array([[1.0, np.nan]]), value=np.nan), [[True, False]])
    assert ll.mask_from_padded(np.array([[3, 0]]), value=np.int64(3)).tolist() == [[False, True]]
    assert ll.sequence_mask(np.array([2, 1], np.uint16)).sum() == 3
    assert ll.lengths_from_mask(np.array([[1, 0]], np.int8)).tolist() == [1]
    assert [a.tolist() for a in ll.unpad_sequences(np.array([[True, False]]), [1])] == [[True]]
