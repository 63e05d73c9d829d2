"""Tests for lessons_lib.torch_layers, including agreement with lessons_lib.keras_layers."""

from __future__ import annotations

import os

import numpy as np
import pytest

import lessons_lib as ll

os.environ.update(ll.KERNEL_ENV)  # before TensorFlow is imported

import torch  # noqa: E402

from lessons_lib import keras_layers as kl  # noqa: E402
from lessons_lib import torch_layers as tl  # noqa: E402

LENGTHS = [5, 2, 0, 4]
STEPS = 6


def _batch(padding="post", seed=0, lengths=LENGTHS, steps=STEPS, features=3):
    seqs = ll.random_ragged_batch(lengths, features, seed=seed)
    padded = ll.pad_sequences(seqs, steps, padding=padding)
    mask = ll.sequence_mask(lengths, steps, padding=padding)
    return seqs, padded, mask


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


PAIRS = [
    (tl.TorchMaskedMeanPool, kl.MaskedMeanPooling1D),
    (tl.TorchMaskedMaxPool, kl.MaskedMaxPooling1D),
    (tl.TorchLastValidStep, kl.LastValidStep),
]


@pytest.mark.parametrize("module", [m for m, _ in PAIRS])
def test_pooling_shapes(module):
    _, padded, mask = _batch()
    assert tuple(module()(_t(padded), _t(mask)).shape) == (4, 3)


@pytest.mark.parametrize("shape", [(4, STEPS), (4, STEPS, 1), (4, STEPS, 2, 3)])
def test_softmax_shapes(shape):
    scores = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    out = tl.TorchMaskedSoftmax()(scores, _t(ll.sequence_mask(LENGTHS, STEPS)))
    assert out.shape == scores.shape


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("module,keras_cls", PAIRS)
def test_pooling_agrees_with_keras(module, keras_cls, padding):
    _, padded, mask = _batch(padding, seed=3)
    got = module()(_t(padded), _t(mask))
    ll_cmp = ll.compare(got, keras_cls()(padded, mask=mask), atol=1e-6)
    assert ll_cmp, ll_cmp


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("trailing", [(), (1,), (2,)])
def test_softmax_agrees_with_keras(padding, trailing):
    _, _, mask = _batch(padding)
    scores = np.random.default_rng(1).normal(size=(4, STEPS) + trailing).astype(np.float32) * 4
    got = tl.TorchMaskedSoftmax()(_t(scores), _t(mask))
    ll_cmp = ll.compare(got, kl.MaskedSoftmax()(scores, mask=mask), atol=1e-6)
    assert ll_cmp, ll_cmp


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_pooling_matches_per_sequence_reference(padding):
    seqs, padded, mask = _batch(padding, seed=5)
    x, m = _t(padded), _t(mask)
    for module, ref in ((tl.TorchMaskedMeanPool, np.mean), (tl.TorchMaskedMaxPool, np.max)):
        expected = np.stack([ref(s, axis=0) if len(s) else np.zeros(3) for s in seqs])
        np.testing.assert_allclose(module()(x, m).numpy(), expected, atol=1e-6)
    last = np.stack([s[-1] if len(s) else np.zeros(3) for s in seqs])
    np.testing.assert_allclose(tl.TorchLastValidStep()(x, m).numpy(), last, atol=0)


def test_softmax_weights_sum_to_one_and_are_zero_on_padding():
    _, _, mask = _batch()
    scores = torch.randn(4, STEPS, generator=torch.Generator().manual_seed(2)) * 100
    w = tl.TorchMaskedSoftmax()(scores, _t(mask)).numpy()
    assert (w[~mask] == 0).all() and np.isfinite(w).all()
    np.testing.assert_allclose(w.sum(1)[mask.any(1)], 1.0, atol=1e-6)
    assert (w.sum(1)[~mask.any(1)] == 0).all()


def test_last_valid_index():
    mask = torch.tensor([[True, True, False], [False, True, True], [False, False, False], [True, False, True]])
    assert tl.last_valid_index(mask).tolist() == [1, 2, -1, 2]
    assert tl.last_valid_index(torch.zeros(2, 0, dtype=torch.bool)).tolist() == [-1, -1]


def test_last_valid_step_equals_packed_h_n():
    lengths = np.array([5, 2, 6, 4])
    _, padded, mask = _batch(lengths=lengths)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4, batch_first=True)
    x = _t(padded)
    with torch.no_grad():
        outputs, _ = lstm(x)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, _t(lengths), batch_first=True, enforce_sorted=False)
        _, (h_n, _) = lstm(packed)
    np.testing.assert_allclose(tl.TorchLastValidStep()(outputs, _t(mask)).numpy(), h_n[0].numpy(), atol=1e-6)


@pytest.mark.parametrize("module", [m for m, _ in PAIRS] + [tl.TorchMaskedSoftmax])
def test_all_masked_rows_give_zeros_and_finite_gradients(module):
    x = (torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(0)) * 50).requires_grad_()
    mask = torch.tensor([[False] * 4, [True, True, False, False]])
    out = module()(x, mask)
    (out * out).sum().backward()
    assert (out[0] == 0).all() and torch.isfinite(out).all()
    assert torch.isfinite(x.grad).all() and (x.grad[0] == 0).all() and (x.grad[1][~mask[1]] == 0).all()


@pytest.mark.parametrize("module", [m for m, _ in PAIRS] + [tl.TorchMaskedSoftmax])
def test_bad_input(module):
    x = torch.zeros(2, 4, 3)
    with pytest.raises(TypeError, match="mask must be a bool tensor, got dtype torch.float32"):
        module()(x, torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(2, 4\), got \(2, 5\)"):
        module()(x, torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask must be a bool torch.Tensor, got ndarray"):
        module()(x, np.ones((2, 4), bool))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        module()(np.zeros((2, 4, 3)), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"x must .*got shape \(2,\)"):
        module()(torch.zeros(2), torch.ones(2, 4, dtype=torch.bool))


@pytest.mark.parametrize("module", [m for m, _ in PAIRS])
def test_pooling_rejects_wrong_rank_and_empty_time(module):
    with pytest.raises(ValueError, match=r"x must be 3-D .*got shape \(2, 4\)"):
        module()(torch.zeros(2, 4), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"at least one time step, got shape \(2, 0, 3\)"):
        module()(torch.zeros(2, 0, 3), torch.ones(2, 0, dtype=torch.bool))


def test_last_valid_index_rejects_non_bool():
    with pytest.raises(TypeError, match="mask must be a 2-D bool tensor"):
        tl.last_valid_index(torch.ones(2, 3))


def test_inputs_are_not_mutated():
    _, padded, mask = _batch()
    x, m = _t(padded), _t(mask)
    x_copy, m_copy = x.clone(), m.clone()
    for module in (tl.TorchMaskedMeanPool, tl.TorchMaskedMaxPool, tl.TorchLastValidStep, tl.TorchMaskedSoftmax):
        module()(x, m)
    assert torch.equal(x, x_copy) and torch.equal(m, m_copy)
