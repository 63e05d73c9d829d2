"""Tests for lessons_lib.bridge (weights between NumPy, Keras and PyTorch) and lesson 05's checkers."""

from __future__ import annotations

import os

import numpy as np
import pytest

import lessons_lib as ll

os.environ.update(ll.KERNEL_ENV)  # before TensorFlow is imported

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from lessons_lib import bridge as br  # noqa: E402
from lessons_lib.checks import lesson05 as check  # noqa: E402

F, U = 3, 4
LENGTHS = np.array([5, 2, 7, 3])
W_ATOL, OUT_ATOL = 1e-6, 1e-5


@pytest.fixture(scope="module", autouse=True)
def _seeded():
    ll.setup_notebook(0, frameworks=("tensorflow", "torch"), quiet=True)


@pytest.fixture
def weights():
    return ll.random_lstm_weights(F, U, seed=2)


@pytest.fixture
def bi_weights():
    return {"forward": ll.random_lstm_weights(F, U, seed=3), "backward": ll.random_lstm_weights(F, U, seed=4)}


@pytest.fixture
def batch():
    seqs = ll.random_ragged_batch(LENGTHS, F, seed=1)
    return {
        "post": ll.pad_sequences(seqs, padding="post", dtype="float32"),
        "pre": ll.pad_sequences(seqs, padding="pre", dtype="float32"),
    }


def _keras_lstm(bidirectional=False, **kw):
    layer = keras.layers.LSTM(U, return_sequences=True, return_state=True, **kw)
    return keras.layers.Bidirectional(layer) if bidirectional else layer


def _run_keras(layer, x, padding="post"):
    mask = tf.constant(ll.sequence_mask(LENGTHS, x.shape[1], padding=padding))
    return [np.asarray(t) for t in layer(x, mask=mask)]


def _run_packed(lstm, x_post):
    packed = pack_padded_sequence(torch.from_numpy(x_post), torch.as_tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    out, (h, c) = lstm(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x_post.shape[1])
    return out.detach().numpy(), h.detach().numpy(), c.detach().numpy()


def _assert_weights_close(a, b, atol=W_ATOL):
    if "forward" in a:
        for d in ("forward", "backward"):
            _assert_weights_close(a[d], b[d], atol)
        return
    assert set(a) == set(b)
    for k in a:
        assert ll.compare(a[k], b[k], atol=atol), k


# ------------------------------------------------------------------ pure conversions


def test_gate_slices_cover_the_4u_axis_in_order():
    s = br.gate_slices(3)
    assert list(s) == ["i", "f", "c", "o"]
    assert [(v.start, v.stop) for v in s.values()] == [(0, 3), (3, 6), (6, 9), (9, 12)]


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "4"])
def test_gate_slices_rejects_bad_units(bad):
    with pytest.raises(ValueError, match="units"):
        br.gate_slices(bad)


def test_keras_to_torch_weights_shapes_and_bias_split(weights):
    before = {k: v.copy() for k, v in weights.items()}
    t = br.keras_to_torch_weights(**weights)
    assert t["weight_ih"].shape == (4 * U, F) and t["weight_hh"].shape == (4 * U, U)
    np.testing.assert_array_equal(t["weight_ih"], weights["kernel"].T)
    np.testing.assert_array_equal(t["bias_ih"] + t["bias_hh"], weights["bias"])
    assert not t["bias_hh"].any()
    t["bias_ih"][:] = 99  # the result must not alias the input
    for k in weights:
        np.testing.assert_array_equal(weights[k], before[k])


def test_torch_to_keras_weights_adds_the_biases():
    rng = np.random.default_rng(0)
    w_ih, w_hh = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    b_ih, b_hh = rng.standard_normal(8), rng.standard_normal(8)
    copies = [a.copy() for a in (w_ih, w_hh, b_ih, b_hh)]
    k = br.torch_to_keras_weights(w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_array_equal(k["kernel"], w_ih.T)
    np.testing.assert_array_equal(k["recurrent_kernel"], w_hh.T)
    np.testing.assert_allclose(k["bias"], b_ih + b_hh)
    for a, c in zip((w_ih, w_hh, b_ih, b_hh), copies):
        np.testing.assert_array_equal(a, c)
    assert "bias" not in br.torch_to_keras_weights(w_ih, w_hh)


def test_pure_conversions_round_trip(weights):
    back = br.torch_to_keras_weights(**br.keras_to_torch_weights(**weights))
    _assert_weights_close(back, weights, atol=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kernel": np.ones((3, 10)), "recurrent_kernel": np.ones((2, 8))}, r"weights\['kernel'\].*4 \* units"),
        ({"kernel": np.ones((3, 8)), "recurrent_kernel": np.ones((8, 2))}, r"weights\['recurrent_kernel'\].*\(2, 8\)"),
        ({"kernel": np.ones((3, 8)), "recurrent_kernel": np.ones((2, 8)), "bias": np.ones(4)}, r"weights\['bias'\].*\(8,\)"),
        ({"kernel": np.ones(8), "recurrent_kernel": np.ones((2, 8))}, r"weights\['kernel'\] must be 2-D"),
    ],
)
def test_keras_to_torch_weights_rejects_bad_shapes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        br.keras_to_torch_weights(**kwargs)


def test_keras_to_torch_weights_rejects_non_float():
    with pytest.raises(TypeError, match=r"weights\['kernel'\] must be a float array"):
        br.keras_to_torch_weights(np.ones((3, 8), dtype=int), np.ones((2, 8)))


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.ones((10, 3)), np.ones((8, 2))), "weight_ih must have shape"),
        ((np.ones((8, 3)), np.ones((2, 8))), r"weight_hh must have shape.*\(8, 2\)"),
        ((np.ones((8, 3)), np.ones((8, 2)), np.ones(8), None), "bias_ih and bias_hh"),
        ((np.ones((8, 3)), np.ones((8, 2)), np.ones(8), np.ones(7)), r"bias_hh must have shape \(4 \* units,\)"),
    ],
)
def test_torch_to_keras_weights_rejects_bad_shapes(args, match):
    with pytest.raises(ValueError, match=match):
        br.torch_to_keras_weights(*args)


# ------------------------------------------------------------------ round trips through the frameworks


def test_round_trip_keras_torch_keras(weights, batch):
    k1 = br.copy_numpy_to_keras(weights, _keras_lstm())
    t = br.copy_keras_to_torch(k1, torch.nn.LSTM(F, U, batch_first=True))
    k2 = br.copy_torch_to_keras(t, _keras_lstm())
    _assert_weights_close(br.keras_lstm_weights(k2), br.keras_lstm_weights(k1))
    _assert_weights_close(br.torch_lstm_weights(t), weights)
    o1, h1, c1 = _run_keras(k1, batch["post"])
    o2, h2, c2 = _run_keras(k2, batch["post"])
    for a, b in ((o1, o2), (h1, h2), (c1, c2)):
        assert ll.compare(a, b, atol=OUT_ATOL)
    to, th, tc = _run_packed(t, batch["post"])
    mask = ll.sequence_mask(LENGTHS)
    assert ll.compare(to[mask], o1[mask], atol=OUT_ATOL)
    assert ll.compare(th[0], h1, atol=OUT_ATOL) and ll.compare(tc[0], c1, atol=OUT_ATOL)


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_round_trip_keras_numpy_torch_outputs(weights, batch, padding):
    k = br.copy_numpy_to_keras(weights, _keras_lstm())
    as_numpy = br.keras_lstm_weights(k)
    _assert_weights_close(as_numpy, weights)
    t = br.copy_numpy_to_torch(as_numpy, torch.nn.LSTM(F, U, batch_first=True))
    _assert_weights_close(br.torch_lstm_weights(t), weights)
    mask = ll.sequence_mask(LENGTHS, padding=padding)
    ref_out, ref_h, ref_c = ll.lstm_forward(batch[padding], **as_numpy, mask=mask)
    k_out, k_h, k_c = _run_keras(k, batch[padding], padding)
    t_out, t_h, t_c = _run_packed(t, batch["post"])
    ref_valid = br.valid_steps(ref_out, LENGTHS, padding=padding)
    assert ll.compare(br.valid_steps(k_out, LENGTHS, padding=padding), ref_valid, atol=OUT_ATOL)
    assert ll.compare(br.valid_steps(t_out, LENGTHS), ref_valid, atol=OUT_ATOL)
    for got in (k_h, t_h[0]):
        assert ll.compare(got, ref_h, atol=OUT_ATOL)
    for got in (k_c, t_c[0]):
        assert ll.compare(got, ref_c, atol=OUT_ATOL)


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_bidirectional_round_trip_and_parity(bi_weights, batch, padding):
    k = br.copy_numpy_to_keras(bi_weights, _keras_lstm(bidirectional=True))
    # Keras's own weight order: forward kernel, recurrent, bias, then backward.
    flat = k.get_weights()
    for i, (d, key) in enumerate((d, key) for d in ("forward", "backward") for key in ("kernel", "recurrent_kernel", "bias")):
        np.testing.assert_array_equal(flat[i], bi_weights[d][key])
    t = br.copy_keras_to_torch(k, torch.nn.LSTM(F, U, batch_first=True, bidirectional=True))
    np.testing.assert_array_equal(t.weight_ih_l0_reverse.detach().numpy(), bi_weights["backward"]["kernel"].T)
    k2 = br.copy_torch_to_keras(t, _keras_lstm(bidirectional=True))
    _assert_weights_close(br.keras_lstm_weights(k2), bi_weights)
    _assert_weights_close(br.torch_lstm_weights(t), bi_weights)

    mask = ll.sequence_mask(LENGTHS, padding=padding)
    ref = br.bidirectional_lstm_forward(batch[padding], bi_weights, mask=mask)
    ref_valid = br.valid_steps(ref[0], LENGTHS, padding=padding)
    for layer in (k, k2):
        got = _run_keras(layer, batch[padding], padding)
        assert ll.compare(br.valid_steps(got[0], LENGTHS, padding=padding), ref_valid, atol=OUT_ATOL)
        for g, r in zip(got[1:], ref[1:]):
            assert ll.compare(g, r, atol=OUT_ATOL)
    t_out, t_h, t_c = _run_packed(t, batch["post"])
    assert ll.compare(br.valid_steps(t_out, LENGTHS), ref_valid, atol=OUT_ATOL)
    for g, r in zip((t_h[0], t_c[0], t_h[1], t_c[1]), ref[1:]):
        assert ll.compare(g, r, atol=OUT_ATOL)


def test_unbuilt_keras_layer_is_built_by_copy(weights):
    layer = keras.layers.LSTM(U)
    assert not layer.built
    br.copy_numpy_to_keras(weights, layer)
    assert layer.built and layer.cell.kernel.shape == (F, 4 * U)


def test_no_bias_layers(weights):
    no_bias = {k: v for k, v in weights.items() if k != "bias"}
    k = br.copy_numpy_to_keras(no_bias, keras.layers.LSTM(U, use_bias=False))
    t = br.copy_keras_to_torch(k, torch.nn.LSTM(F, U, bias=False))
    assert "bias" not in br.torch_lstm_weights(t)
    _assert_weights_close(br.keras_lstm_weights(k), no_bias)


def test_torch_bias_split_does_not_matter(weights, batch):
    t = br.copy_numpy_to_torch(weights, torch.nn.LSTM(F, U, batch_first=True))
    out1 = _run_packed(t, batch["post"])
    with torch.no_grad():
        t.bias_hh_l0.copy_(0.3 * t.bias_ih_l0)
        t.bias_ih_l0.mul_(0.7)
    out2 = _run_packed(t, batch["post"])
    for a, b in zip(out1, out2):
        assert ll.compare(a, b, atol=OUT_ATOL)
    _assert_weights_close(br.torch_lstm_weights(t), weights)


def test_copy_does_not_mutate_the_weights_dict(weights):
    before = {k: v.copy() for k, v in weights.items()}
    br.copy_numpy_to_torch(weights, torch.nn.LSTM(F, U))
    br.copy_numpy_to_keras(weights, keras.layers.LSTM(U))
    assert set(weights) == set(before)
    for k in weights:
        np.testing.assert_array_equal(weights[k], before[k])


def test_keras_lstm_weights_returns_copies(weights):
    k = br.copy_numpy_to_keras(weights, keras.layers.LSTM(U))
    got = br.keras_lstm_weights(k)
    got["kernel"][:] = 0
    np.testing.assert_array_equal(br.keras_lstm_weights(k)["kernel"], weights["kernel"])


# ------------------------------------------------------------------ bad layers and bad weights


@pytest.mark.parametrize("layer", [keras.layers.GRU(U), keras.layers.Dense(U), keras.layers.SimpleRNN(U)])
def test_keras_non_lstm_is_a_type_error(layer, weights):
    with pytest.raises(TypeError, match=f"keras_layer must be a keras.layers.LSTM.*got {type(layer).__name__}"):
        br.keras_lstm_weights(layer)
    with pytest.raises(TypeError, match="keras_layer"):
        br.copy_numpy_to_keras(weights, layer)
    with pytest.raises(TypeError, match="keras_layer"):
        br.copy_torch_to_keras(torch.nn.LSTM(F, U), layer)


def test_keras_bidirectional_gru_is_a_type_error():
    with pytest.raises(TypeError, match="forward layer is GRU"):
        br.keras_lstm_weights(keras.layers.Bidirectional(keras.layers.GRU(U)))


@pytest.mark.parametrize("module", [torch.nn.GRU(F, U), torch.nn.Linear(F, U), torch.nn.LSTMCell(F, U)])
def test_torch_non_lstm_is_a_type_error(module, weights):
    name = type(module).__name__
    with pytest.raises(TypeError, match=f"torch_lstm must be a torch.nn.LSTM, got {name}"):
        br.torch_lstm_weights(module)
    with pytest.raises(TypeError, match="torch_lstm"):
        br.copy_numpy_to_torch(weights, module)
    with pytest.raises(TypeError, match="torch_lstm"):
        br.copy_keras_to_torch(br.copy_numpy_to_keras(weights, keras.layers.LSTM(U)), module)


def test_stacked_or_projected_torch_lstm_is_a_value_error(weights):
    with pytest.raises(ValueError, match="num_layers=2"):
        br.copy_numpy_to_torch(weights, torch.nn.LSTM(F, U, num_layers=2))
    with pytest.raises(ValueError, match="proj_size=2"):
        br.torch_lstm_weights(torch.nn.LSTM(F, U, proj_size=2))


def test_keras_nonstandard_activation_or_go_backwards_is_a_value_error(weights):
    with pytest.raises(ValueError, match="activation='relu'"):
        br.copy_numpy_to_keras(weights, keras.layers.LSTM(U, activation="relu"))
    with pytest.raises(ValueError, match="recurrent_activation='hard_sigmoid'"):
        br.copy_numpy_to_keras(weights, keras.layers.LSTM(U, recurrent_activation="hard_sigmoid"))
    with pytest.raises(ValueError, match="go_backwards=True"):
        br.copy_numpy_to_keras(weights, keras.layers.LSTM(U, go_backwards=True))


def test_unbuilt_keras_layer_has_no_weights():
    with pytest.raises(ValueError, match="keras_layer .*LSTM.* is not built"):
        br.keras_lstm_weights(keras.layers.LSTM(U))


def test_wrong_shapes_name_the_array(weights):
    other = ll.random_lstm_weights(F + 1, U, seed=0)
    with pytest.raises(ValueError, match=r"weights\['kernel'\].*input_size=3.*expects \(16, 3\)"):
        br.copy_numpy_to_torch(other, torch.nn.LSTM(F, U))
    k = br.copy_numpy_to_keras(weights, keras.layers.LSTM(U))
    with pytest.raises(ValueError, match=r"weights\['kernel'\] has shape \(4, 16\) but the Keras layer expects \(3, 16\)"):
        br.copy_numpy_to_keras(other, k)
    np.testing.assert_array_equal(br.keras_lstm_weights(k)["kernel"], weights["kernel"])  # unchanged
    wider = ll.random_lstm_weights(F, U + 1, seed=0)
    with pytest.raises(ValueError, match=r"weights\['kernel'\] gives weight_ih_l0 shape \(20, 3\).*hidden_size=4"):
        br.copy_numpy_to_torch(wider, torch.nn.LSTM(F, U))
    with pytest.raises(ValueError, match=r"weights\['recurrent_kernel'\].*\(4, 16\)"):
        br.copy_numpy_to_torch({**weights, "recurrent_kernel": np.ones((3, 16), "float32")}, torch.nn.LSTM(F, U))


def test_torch_layer_unchanged_after_a_failed_copy(weights, bi_weights):
    t = br.copy_numpy_to_torch(bi_weights, torch.nn.LSTM(F, U, bidirectional=True))
    broken = {"forward": weights, "backward": ll.random_lstm_weights(F + 1, U, seed=9)}
    with pytest.raises(ValueError, match=r"weights\['backward'\]\['kernel'\]"):
        br.copy_numpy_to_torch(broken, t)
    _assert_weights_close(br.torch_lstm_weights(t), bi_weights)


def test_direction_mismatch(weights, bi_weights):
    with pytest.raises(ValueError, match="1 direction.*bidirectional=True"):
        br.copy_numpy_to_torch(weights, torch.nn.LSTM(F, U, bidirectional=True))
    with pytest.raises(ValueError, match="2 direction.*bidirectional=False"):
        br.copy_numpy_to_torch(bi_weights, torch.nn.LSTM(F, U))
    with pytest.raises(ValueError, match="2 direction.*has 1"):
        br.copy_numpy_to_keras(bi_weights, keras.layers.LSTM(U))
    with pytest.raises(ValueError, match="both 'forward' and 'backward'"):
        br.copy_numpy_to_torch({"forward": weights}, torch.nn.LSTM(F, U, bidirectional=True))
    with pytest.raises(ValueError, match="1 direction.*bidirectional=True"):
        br.copy_keras_to_torch(br.copy_numpy_to_keras(weights, keras.layers.LSTM(U)), torch.nn.LSTM(F, U, bidirectional=True))
    with pytest.raises(ValueError, match=r"1 direction\(s\) but keras_layer \(Bidirectional\) has 2"):
        br.copy_torch_to_keras(br.copy_numpy_to_torch(weights, torch.nn.LSTM(F, U)), _keras_lstm(bidirectional=True))


def test_bias_mismatch(weights):
    with pytest.raises(ValueError, match="has a bias but torch_lstm has bias=False"):
        br.copy_numpy_to_torch(weights, torch.nn.LSTM(F, U, bias=False))
    with pytest.raises(ValueError, match="has a bias but the Keras layer has use_bias=False"):
        br.copy_numpy_to_keras(weights, keras.layers.LSTM(U, use_bias=False))


def test_weights_must_be_a_dict_with_known_keys(weights):
    with pytest.raises(TypeError, match="weights must be a dict"):
        br.copy_numpy_to_torch([weights["kernel"]], torch.nn.LSTM(F, U))
    with pytest.raises(ValueError, match=r"missing \['recurrent_kernel'\]"):
        br.copy_numpy_to_torch({"kernel": weights["kernel"]}, torch.nn.LSTM(F, U))
    with pytest.raises(ValueError, match=r"unexpected \['weight_ih'\]"):
        br.copy_numpy_to_torch({**weights, "weight_ih": 1}, torch.nn.LSTM(F, U))


# ------------------------------------------------------------------ NumPy bidirectional reference


def test_reverse_within_length_post_and_pre():
    tokens = np.array([[1, 2, 3, 0], [4, 5, 0, 0], [0, 0, 0, 0]])
    out = br.reverse_within_length(tokens, [3, 2, 0])
    np.testing.assert_array_equal(out, [[3, 2, 1, 0], [5, 4, 0, 0], [0, 0, 0, 0]])
    pre = np.array([[0, 1, 2, 3], [0, 0, 4, 5]])
    np.testing.assert_array_equal(br.reverse_within_length(pre, [3, 2], padding="pre"), [[0, 3, 2, 1], [0, 0, 5, 4]])
    np.testing.assert_array_equal(tokens, [[1, 2, 3, 0], [4, 5, 0, 0], [0, 0, 0, 0]])  # input untouched


def test_reverse_within_length_is_an_involution_on_3d(batch):
    for side in ("post", "pre"):
        x = batch[side]
        once = br.reverse_within_length(x, LENGTHS, padding=side)
        np.testing.assert_array_equal(br.reverse_within_length(once, LENGTHS, padding=side), x)
        for got, seq in zip(ll.unpad_sequences(once, LENGTHS, padding=side), ll.unpad_sequences(x, LENGTHS, padding=side)):
            np.testing.assert_array_equal(got, seq[::-1])


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.zeros((2, 3)), [1, 4]), {}, ValueError, r"lengths\[1\] = 4 is longer than the time axis"),
        ((np.zeros((2, 3)), [1]), {}, ValueError, "lengths has 1 entries but padded has batch size 2"),
        ((np.zeros((2, 3)), [1, -1]), {}, ValueError, "lengths must be >= 0, got -1 at index 1"),
        ((np.zeros((2, 3)), [1, 2]), {"padding": "left"}, ValueError, "padding must be 'pre' or 'post', got 'left'"),
        ((np.zeros(3), [1]), {}, ValueError, "padded must be 2-D"),
        ((np.zeros((2, 3)), [1.5, 2]), {}, TypeError, "lengths must hold integers"),
    ],
)
def test_reverse_within_length_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        br.reverse_within_length(*args, **kwargs)


def test_bidirectional_reference_without_mask_is_a_plain_reversal(bi_weights, batch):
    x = batch["post"]
    out, h_f, c_f, h_b, c_b = br.bidirectional_lstm_forward(x, bi_weights)
    fw = ll.lstm_forward(x, **bi_weights["forward"])
    bw = ll.lstm_forward(x[:, ::-1], **bi_weights["backward"])
    np.testing.assert_allclose(out[..., :U], fw[0])
    np.testing.assert_allclose(out[..., U:], bw[0][:, ::-1])
    np.testing.assert_allclose(h_b, bw[1])
    np.testing.assert_allclose(c_f, fw[2])


def test_bidirectional_reference_backward_state_matches_per_sequence_run(bi_weights, batch):
    mask = ll.sequence_mask(LENGTHS)
    out, _, _, h_b, _ = br.bidirectional_lstm_forward(batch["post"], bi_weights, mask=mask)
    for i, seq in enumerate(ll.unpad_sequences(batch["post"], LENGTHS)):
        o, h, _ = ll.lstm_forward(seq[None, ::-1], **bi_weights["backward"])
        np.testing.assert_allclose(h_b[i], h[0], atol=1e-12)
        np.testing.assert_allclose(out[i, : LENGTHS[i], U:], o[0, ::-1], atol=1e-12)


def test_bidirectional_reference_bad_input(bi_weights, weights, batch):
    with pytest.raises(ValueError, match="'forward'.*'backward'"):
        br.bidirectional_lstm_forward(batch["post"], weights)
    with pytest.raises(ValueError, match="x must be 3-D"):
        br.bidirectional_lstm_forward(batch["post"][0], bi_weights)
    with pytest.raises(TypeError, match="mask must be a bool array"):
        br.bidirectional_lstm_forward(batch["post"], bi_weights, mask=np.ones((4, 7)))
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(4, 7\)"):
        br.bidirectional_lstm_forward(batch["post"], bi_weights, mask=np.ones((4, 6), bool))


def test_valid_steps():
    out = np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_array_equal(br.valid_steps(out, [2, 1]), [[0, 1], [2, 3], [6, 7]])
    np.testing.assert_array_equal(br.valid_steps(out, [2, 1], padding="pre"), [[2, 3], [4, 5], [10, 11]])
    np.testing.assert_array_equal(br.valid_steps(torch.from_numpy(out), [2, 1]), br.valid_steps(out, [2, 1]))
    assert br.valid_steps(out, [0, 0]).shape == (0, 2)
    with pytest.raises(ValueError, match="outputs must be 3-D"):
        br.valid_steps(out[0], [1, 1])
    with pytest.raises(ValueError, match=r"lengths\[0\] = 4"):
        br.valid_steps(out, [4, 1])


# ------------------------------------------------------------------ gradients


@pytest.mark.parametrize("bidirectional", [False, True])
def test_masked_keras_and_packed_torch_gradients_agree(weights, bi_weights, batch, bidirectional):
    w = bi_weights if bidirectional else weights
    layer = br.copy_numpy_to_keras(w, _keras_lstm(bidirectional))
    t = br.copy_numpy_to_torch(w, torch.nn.LSTM(F, U, batch_first=True, bidirectional=bidirectional))
    width = 2 * U if bidirectional else U
    y = ll.pad_sequences(ll.random_ragged_batch(LENGTHS, width, seed=5), dtype="float32")
    mask = ll.sequence_mask(LENGTHS).astype("float32")[..., None]
    with tf.GradientTape() as tape:
        out = layer(batch["post"], mask=tf.constant(mask[..., 0] > 0))[0]
        loss_k = tf.reduce_sum(mask * (out - y) ** 2)
    grad_k = tape.gradient(loss_k, br.keras_lstm_variables(layer))
    packed = pack_padded_sequence(torch.from_numpy(batch["post"]), torch.as_tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    out_t, _ = pad_packed_sequence(t(packed)[0], batch_first=True, total_length=7)
    loss_t = (torch.from_numpy(mask) * (out_t - torch.from_numpy(y)) ** 2).sum()
    loss_t.backward()
    grad_t = br.torch_lstm_gradients(t)
    assert abs(float(loss_k) - loss_t.item()) < OUT_ATOL * max(1.0, abs(loss_t.item()))
    grad_k = {d: {k: v.numpy() for k, v in g.items()} for d, g in grad_k.items()} if bidirectional else {
        k: v.numpy() for k, v in grad_k.items()}
    _assert_weights_close(grad_k, grad_t, atol=OUT_ATOL)
    assert ll.compare(t.bias_ih_l0.grad, t.bias_hh_l0.grad, atol=1e-6)


def test_torch_lstm_gradients_before_backward():
    with pytest.raises(ValueError, match=r"torch_lstm.weight_ih_l0.grad is None"):
        br.torch_lstm_gradients(torch.nn.LSTM(F, U))


def test_keras_lstm_variables_are_the_layers_variables(weights):
    k = br.copy_numpy_to_keras(weights, keras.layers.LSTM(U))
    v = br.keras_lstm_variables(k)
    assert v["kernel"] is k.cell.kernel and v["bias"] is k.cell.bias


# ------------------------------------------------------------------ lesson 05 checkers


def _torch_params(lstm):
    return {n: p.detach().numpy() for n, p in lstm.named_parameters()}


def test_exercise_1_feedback(capsys):
    lstm = torch.nn.LSTM(2, 3)
    p = _torch_params(lstm)
    good = {"kernel": p["weight_ih_l0"].T, "recurrent_kernel": p["weight_hh_l0"].T, "bias": p["bias_ih_l0"] + p["bias_hh_l0"]}
    assert bool(check.exercise_1(good, lstm)) is True
    assert capsys.readouterr().out.startswith("Correct:")
    cases = [
        (None, "answer is None"),
        ([1, 2], "must be a dict"),
        ({"kernel": good["kernel"]}, "missing"),
        ({**good, "kernel": p["weight_ih_l0"]}, "forget to transpose"),
        ({**good, "bias": p["bias_ih_l0"]}, "only one of torch's two biases"),
        ({**good, "bias": (p["bias_ih_l0"] + p["bias_hh_l0"]) / 2}, "mean of the two"),
        ({**good, "recurrent_kernel": good["recurrent_kernel"][:, ::-1]}, "wrong values"),
        ({**good, "bias": good["bias"][:5]}, "must have shape"),
    ]
    for answer, message in cases:
        assert bool(check.exercise_1(answer, lstm)) is False
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and message in out, (answer, out)


def test_exercise_2_feedback(bi_weights, batch, capsys):
    x = batch["post"]
    mask = ll.sequence_mask(LENGTHS)
    right = ll.lstm_forward(br.reverse_within_length(x, LENGTHS), **bi_weights["backward"], mask=mask)[1]
    assert bool(check.exercise_2(right, x, LENGTHS, bi_weights)) is True
    assert capsys.readouterr().out.startswith("Correct:")
    cases = [
        (None, "answer is None"),
        (right[:2], "expected (4, 4)"),
        (ll.lstm_forward(x, **bi_weights["forward"], mask=mask)[1], "forward pass"),
        (ll.lstm_forward(x[:, ::-1], **bi_weights["backward"])[1], "padding first"),
        (ll.lstm_forward(br.reverse_within_length(x, LENGTHS), **bi_weights["backward"])[1], "without mask="),
        (right + 1, "values are wrong"),
        ("abc", "numeric array"),
    ]
    for answer, message in cases:
        assert bool(check.exercise_2(answer, x, LENGTHS, bi_weights)) is False
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and message in out, out


def test_exercise_3_feedback(capsys):
    assert bool(check.exercise_3({"post outputs"})) is True
    assert capsys.readouterr().out.startswith("Correct:")
    cases = [
        (None, "answer is None"),
        ({"post outputs", "pre final state"}, "'pre final state' is wrong"),
        (set(), "'post outputs' is right"),
        ({"post outputs", "post final state"}, "steps through the padding"),
        ({"post outputs", "nonsense"}, "unknown choice"),
        (5, "must be a set"),
    ]
    for answer, message in cases:
        assert bool(check.exercise_3(answer)) is False
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and message in out, out


def test_exercise_3_truth_is_measured():
    assert check._unmasked_truth(seed=0) == {"post outputs"}
    assert check._unmasked_truth(seed=7) == {"post outputs"}
