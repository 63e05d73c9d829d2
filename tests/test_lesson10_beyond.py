"""lessons_lib.beyond (lesson 10's NumPy references) and the lesson 10 widget."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import beyond
from lessons_lib.masks import sequence_mask
from lessons_lib.padding import pad_sequences
from lessons_lib.synthetic import random_ragged_batch

torch = pytest.importorskip("torch")


def _torch_gru_from_keras(w, units, order=("r", "z", "h")):
    block = {"z": slice(0, units), "r": slice(units, 2 * units), "h": slice(2 * units, 3 * units)}
    pick = lambda a: np.concatenate([a[..., block[g]] for g in order], axis=-1)  # noqa: E731
    gru = torch.nn.GRU(w["kernel"].shape[0], units, batch_first=True).double()
    arrays = {"weight_ih_l0": pick(w["kernel"]).T, "weight_hh_l0": pick(w["recurrent_kernel"]).T,
              "bias_ih_l0": pick(w["bias"][0]), "bias_hh_l0": pick(w["bias"][1])}
    gru.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64)) for k, v in arrays.items()})
    return gru


def test_gru_forward_matches_torch_gru_with_reordered_gates():
    w = beyond.random_gru_weights(3, 4, seed=1)
    lengths = np.array([5, 2, 3])
    x = pad_sequences(random_ragged_batch(lengths, 3, seed=2), dtype=np.float64)
    mask = sequence_mask(lengths)
    out, h = beyond.gru_forward(x, **w, mask=mask)
    gru = _torch_gru_from_keras(w, 4)
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.from_numpy(x), torch.from_numpy(lengths), batch_first=True,
                                                     enforce_sorted=False)
    with torch.no_grad():
        h_t = gru(packed)[1][0].numpy()
    np.testing.assert_allclose(h, h_t, atol=1e-10)
    wrong = _torch_gru_from_keras(w, 4, order=("z", "r", "h"))
    with torch.no_grad():
        assert np.abs(wrong(packed)[1][0].numpy() - h).max() > 1e-2
    # masked steps keep the state: outputs after the end repeat the last real output
    np.testing.assert_array_equal(out[1, 2:], np.repeat(out[1, 1:2], 3, axis=0))


def test_gru_forward_matches_keras_gru():
    keras = pytest.importorskip("keras")
    w = beyond.random_gru_weights(3, 4, seed=3)
    x = random_ragged_batch([4], 3, seed=4)[0][None]
    layer = keras.layers.GRU(4, return_sequences=True)
    layer.build((None, None, 3))
    layer.set_weights([w["kernel"], w["recurrent_kernel"], w["bias"]])
    np.testing.assert_allclose(beyond.gru_forward(x, **w)[0], np.asarray(layer(x)), atol=1e-5)


def test_attention_pool_ignores_masked_steps_and_nan_for_empty_rows():
    rng = np.random.default_rng(0)
    out = rng.standard_normal((2, 4, 3))
    v = rng.standard_normal(3)
    mask = np.array([[True, True, False, False], [False, False, False, False]])
    pooled = beyond.attention_pool(out, v, mask)
    short = beyond.attention_pool(out[:1, :2], v)
    np.testing.assert_allclose(pooled[0], short[0], atol=1e-12)
    assert np.isnan(pooled[1]).all()
    before = out.copy()
    beyond.attention_pool(out, v)
    np.testing.assert_array_equal(out, before)


def test_conv1d_same_matches_torch():
    rng = np.random.default_rng(1)
    x, k, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((3, 3, 2)), rng.standard_normal(2)
    conv = torch.nn.Conv1d(3, 2, 3, padding=1).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(k.transpose(2, 1, 0)))
        conv.bias.copy_(torch.from_numpy(b))
        want = conv(torch.from_numpy(x).transpose(1, 2)).transpose(1, 2).numpy()
    np.testing.assert_allclose(beyond.conv1d_same(x, k, b), want, atol=1e-12)


@pytest.mark.parametrize("model", beyond.MODELS)
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_padding_gaps(model, padding):
    gaps = beyond.padding_gaps(model, 3, padding)
    assert set(gaps) == {"masked", "unmasked"} and all(len(v) == len(beyond.LENGTHS) for v in gaps.values())
    assert min(gaps["unmasked"]) > 1e-3  # every sequence has padding when pad_amount > 0
    if model == "+Conv1D":
        assert min(gaps["masked"]) > 1e-4  # the convolution mixes padding into each edge
    else:
        assert max(gaps["masked"]) < 1e-9


def test_padding_gaps_without_padding_the_longest_sequence_is_exact():
    for model in beyond.MODELS:
        gaps = beyond.padding_gaps(model, 0)
        assert gaps["unmasked"][0] < 1e-9 and gaps["masked"][0] < 1e-9


@pytest.mark.parametrize(
    "kwargs, error",
    [({"model": "lstm", "pad_amount": 1}, ValueError), ({"model": "GRU", "pad_amount": -1}, ValueError),
     ({"model": "GRU", "pad_amount": 7}, ValueError), ({"model": "GRU", "pad_amount": 1.5}, ValueError),
     ({"model": "GRU", "pad_amount": True}, ValueError), ({"model": "GRU", "pad_amount": 1, "padding": "mid"}, ValueError)],
)
def test_padding_gaps_rejects_bad_input(kwargs, error):
    with pytest.raises(error) as info:
        beyond.padding_gaps(**kwargs)
    bad = [v for v in kwargs.values() if v not in ("GRU",) and not (v == 1 and not isinstance(v, bool))]
    assert repr(bad[0]) in str(info.value) or str(bad[0]) in str(info.value)


def test_reference_functions_reject_bad_shapes():
    w = beyond.random_gru_weights(3, 2)
    with pytest.raises(ValueError, match="x must be 3-D"):
        beyond.gru_forward(np.zeros((2, 3)), **w)
    with pytest.raises(ValueError, match="GRU weights"):
        beyond.gru_forward(np.zeros((1, 2, 4)), **w)
    with pytest.raises(TypeError, match="mask must be a bool"):
        beyond.gru_forward(np.zeros((1, 2, 3)), **w, mask=np.ones((1, 2)))
    with pytest.raises(ValueError, match="score_vector"):
        beyond.attention_pool(np.zeros((1, 2, 3)), [1.0])
    with pytest.raises(ValueError, match="kernel must be"):
        beyond.conv1d_same(np.zeros((1, 2, 3)), np.zeros((2, 3, 1)), [0.0])
    with pytest.raises(ValueError, match="model must be one of"):
        beyond.model_forward("RNN", np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="features"):
        beyond.model_forward("GRU", np.zeros((1, 2, 5)))


def test_widget_result_text_and_controls():
    pytest.importorskip("ipywidgets")
    from lessons_lib.widgets import lesson10

    w = lesson10.gaps_widget()
    assert {n: c.value for n, c in w.controls.items()} == lesson10.DEFAULTS
    assert w.text == lesson10.result_text(**lesson10.DEFAULTS) and w.text.startswith("Result: stacked, pad 2 post")
    w.controls["model"].value = "+Conv1D"
    w.controls["pad_amount"].value = 5
    w.controls["padding"].value = "pre"
    assert w.text == lesson10.result_text("+Conv1D", 5, "pre")
    gaps = beyond.padding_gaps("+Conv1D", 5, "pre")
    assert w.text.endswith(f"largest gap: masked {max(gaps['masked']):.4f}, unmasked {max(gaps['unmasked']):.4f}")
    assert all(f"unmasked {u:.4f}" in w.children[4].value for u in gaps["unmasked"])  # every sequence's gap below
    assert "-&gt;" in w.line.value  # the HTML line is escaped
    assert [c.description for c in w.controls.values()] == ["model", "pad amount", "padding"]
