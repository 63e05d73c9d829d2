"""Tests for lessons_lib.torch_packing, its lesson 03 checkers and widget."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessons_lib as ll

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn.utils import rnn  # noqa: E402

from lessons_lib import torch_packing as tp  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(old)


def _batch(lengths, n_features=2, seed=0, dtype=torch.float32):
    seqs = ll.random_ragged_batch(lengths, n_features, seed=seed)
    tensors = [torch.from_numpy(s).to(dtype) for s in seqs]
    return seqs, tensors, rnn.pad_sequence(tensors, batch_first=True)


# ---------------------------------------------------------------- lengths_tensor
@pytest.mark.parametrize("lengths", [[3, 1, 2], np.array([3, 1, 2], dtype=np.int32), torch.tensor([3, 1, 2], dtype=torch.int32)])
def test_lengths_tensor_gives_cpu_int64(lengths):
    out = tp.lengths_tensor(lengths)
    assert out.dtype == torch.int64 and out.device.type == "cpu" and out.tolist() == [3, 1, 2]


def test_lengths_tensor_copies_its_input():
    src = torch.tensor([3, 1, 2])
    out = tp.lengths_tensor(src)
    out[0] = 99
    assert src.tolist() == [3, 1, 2]


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        ([3.0, 1.5], TypeError, ["lengths", "1.5"]),
        (torch.tensor([3.0, 1.0]), TypeError, ["lengths", "float"]),
        (torch.tensor([True, False]), TypeError, ["lengths", "bool"]),
        ([3, -1], ValueError, ["lengths", "-1", "index 1"]),
        ([[1, 2]], ValueError, ["lengths", "1-D"]),
    ],
)
def test_lengths_tensor_rejects_bad_input(bad, exc, words):
    with pytest.raises(exc) as info:
        tp.lengths_tensor(bad)
    for w in words:
        assert w in str(info.value)


def test_lengths_tensor_checks_max_len():
    assert tp.lengths_tensor([4, 2], max_len=4).tolist() == [4, 2]
    with pytest.raises(ValueError, match=r"lengths\[1\] = 5 is longer than the time axis \(4\)"):
        tp.lengths_tensor([4, 5], max_len=4)


# ---------------------------------------------------------------- packed_layout
def _coords(lengths):
    lengths = np.asarray(lengths)
    b, t = np.meshgrid(np.arange(len(lengths)), np.arange(lengths.max()), indexing="ij")
    return torch.from_numpy(np.stack([b, t], -1).astype(np.float32))


def test_packed_layout_matches_torch_on_many_batches():
    rng = np.random.default_rng(0)
    for _ in range(150):
        lengths = rng.integers(1, 6, size=rng.integers(1, 7))  # many ties on purpose
        lay = tp.packed_layout(lengths)
        packed = rnn.pack_padded_sequence(_coords(lengths), torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
        data = packed.data.long().numpy()
        assert (data[:, 0] == lay.row_sequence).all() and (data[:, 1] == lay.row_step).all(), lengths
        assert lay.batch_sizes.tolist() == packed.batch_sizes.tolist()
        assert lay.sorted_indices.tolist() == packed.sorted_indices.tolist()
        assert lay.unsorted_indices.tolist() == packed.unsorted_indices.tolist()
        # index_grid points every real step at its data row, padding at -1
        real = ll.sequence_mask(lengths)
        assert (lay.index_grid[~real] == -1).all()
        assert (lay.row_sequence[lay.index_grid[real]] == np.nonzero(real)[0]).all()


def test_packed_layout_enforce_sorted():
    lengths = [4, 4, 2, 1]
    lay = tp.packed_layout(lengths, enforce_sorted=True)
    packed = rnn.pack_padded_sequence(_coords(lengths), torch.tensor(lengths), batch_first=True)
    assert lay.sorted_indices is None and lay.unsorted_indices is None and packed.sorted_indices is None
    assert (packed.data.long().numpy()[:, 0] == lay.row_sequence).all()
    assert lay.row_labels()[:3] == ["b0,t0", "b1,t0", "b2,t0"]
    with pytest.raises(ValueError, match=r"non-increasing.*lengths\[2\] = 3 > lengths\[1\] = 1"):
        tp.packed_layout([4, 1, 3], enforce_sorted=True)


@pytest.mark.parametrize("bad, exc, pattern", [([3, 0, 2], ValueError, r"lengths\[1\] = 0"), ([], ValueError, "empty"),
                                               ([2.5], TypeError, "lengths"), ([-1], ValueError, "lengths")])
def test_packed_layout_rejects_bad_lengths(bad, exc, pattern):
    with pytest.raises(exc, match=pattern):
        tp.packed_layout(bad)


def test_packed_layout_does_not_mutate_input():
    lengths = np.array([1, 3, 2])
    tp.packed_layout(lengths)
    assert lengths.tolist() == [1, 3, 2]


def test_plot_packed_layout_draws_two_panels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax_grid, ax_data = tp.plot_packed_layout([2, 3, 1])
    assert "lengths [2, 3, 1]" in ax_grid.get_title()
    assert "batch_sizes = [3, 2, 1]" in ax_data.get_title()
    texts = [t.get_text() for t in ax_grid.texts]
    assert texts.count("pad") == 3 and sorted(int(t) for t in texts if t != "pad") == list(range(6))
    plt.close("all")


@pytest.mark.parametrize("lengths", [[1], [4, 1, 3], [8, 8, 8, 8, 8], [8, 1, 1, 1, 1], [1, 2, 3, 4, 5]])
def test_plot_packed_layout_keeps_its_size_and_readable_text(lengths):
    """Issue 16: one figure size for every batch the widget allows, text >= 10 px, labels that do not overlap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax_grid, ax_data = tp.plot_packed_layout(lengths)
    fig = ax_grid.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert tuple(fig.get_size_inches()) == tp.PLOT_FIGSIZE and fig.dpi == tp.PLOT_DPI
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]
    assert min(t.get_fontsize() * fig.dpi / 72 for t in texts) >= 10  # points -> pixels at 100% zoom
    cells = [t for t in ax_data.texts if t.get_text().startswith("b")]
    groups = [t for t in ax_data.texts if t.get_text().startswith("t")]
    ticks = [t for t in ax_data.get_xticklabels() if t.get_text()]
    assert len(cells) == sum(lengths) and len(groups) == max(lengths)
    for row in (cells, groups, ticks):
        boxes = [t.get_window_extent(renderer) for t in row]
        assert all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:])), [t.get_text() for t in row]
    plt.close("all")


# ---------------------------------------------------------------- lstm_from_keras_weights
def test_lstm_from_keras_weights_matches_reference():
    seqs, _, padded = _batch([4, 1, 3], dtype=torch.float64)
    w = ll.random_lstm_weights(2, 3, seed=1)
    w_copy = {k: v.copy() for k, v in w.items()}
    lstm = tp.lstm_from_keras_weights(w, dtype=torch.float64)
    with torch.no_grad():
        out, (h, c) = lstm(padded)
    ref_out, ref_h, ref_c = ll.lstm_forward(ll.pad_sequences(seqs), **w)
    assert ll.compare(out, ref_out, atol=1e-10) and ll.compare(h[0], ref_h, atol=1e-10) and ll.compare(c[0], ref_c, atol=1e-10)
    assert all(np.array_equal(w[k], w_copy[k]) for k in w)
    lstm32 = tp.lstm_from_keras_weights(w)
    assert lstm32.weight_ih_l0.dtype == torch.float32 and lstm32.batch_first
    assert torch.equal(lstm32.bias_hh_l0, torch.zeros(12))


def test_lstm_from_keras_weights_bidirectional_reverse_half():
    seqs, _, padded = _batch([3, 3])
    w_f, w_b = ll.random_lstm_weights(2, 3, seed=1), ll.random_lstm_weights(2, 3, seed=2)
    bi = tp.lstm_from_keras_weights(w_f, reverse_weights=w_b, dtype=torch.float64)
    assert bi.bidirectional
    with torch.no_grad():
        _, (h, _) = bi(padded.double())
    _, h_back, _ = ll.lstm_forward(ll.pad_sequences([s[::-1] for s in seqs]), **w_b)
    assert ll.compare(h[1], h_back, atol=1e-10)


def test_lstm_from_keras_weights_rejects_bad_weights():
    w = ll.random_lstm_weights(2, 3)
    with pytest.raises(TypeError, match="weights must be a dict"):
        tp.lstm_from_keras_weights({"kernel": w["kernel"]})
    with pytest.raises(ValueError, match="kernel must have shape"):
        tp.lstm_from_keras_weights({**w, "kernel": np.zeros((2, 5))})
    with pytest.raises(ValueError, match="recurrent_kernel"):
        tp.lstm_from_keras_weights({**w, "bias": np.zeros(5)})
    with pytest.raises(ValueError, match="same"):
        tp.lstm_from_keras_weights(w, reverse_weights=ll.random_lstm_weights(2, 4))


# ---------------------------------------------------------------- last_valid_step
def test_last_valid_step_equals_h_n_and_not_last_row():
    _, tensors, padded = _batch([4, 1, 3])
    lstm = tp.lstm_from_keras_weights(ll.random_lstm_weights(2, 3, seed=1))
    lengths = torch.tensor([4, 1, 3])
    with torch.no_grad():
        out_p, (h, _) = lstm(rnn.pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False))
    out, _ = rnn.pad_packed_sequence(out_p, batch_first=True)
    before = out.clone()
    got = tp.last_valid_step(out, lengths)
    assert torch.equal(got, h[0]) and not torch.allclose(out[:, -1], h[0])
    assert torch.equal(out, before)
    got_tm = tp.last_valid_step(out.transpose(0, 1), [4, 1, 3], batch_first=False)
    assert torch.equal(got_tm, h[0])


def test_last_valid_step_rejects_bad_input():
    out = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"lengths\[1\] = 0"):
        tp.last_valid_step(out, [2, 0])
    with pytest.raises(ValueError, match=r"lengths\[0\] = 4 is longer"):
        tp.last_valid_step(out, [4, 1])
    with pytest.raises(ValueError, match="3 entries but output has batch size 2"):
        tp.last_valid_step(out, [1, 1, 1])
    with pytest.raises(TypeError, match="output must be a torch.Tensor"):
        tp.last_valid_step(np.zeros((2, 3, 4)), [1, 1])


# ---------------------------------------------------------------- packed_forward / per_sequence_forward
def test_packed_forward_matches_each_sequence_alone_bidirectional():
    _, tensors, padded = _batch([2, 5, 1, 3])
    bi = tp.lstm_from_keras_weights(ll.random_lstm_weights(2, 3, seed=1), reverse_weights=ll.random_lstm_weights(2, 3, seed=2))
    with torch.no_grad():
        out, (h, c) = tp.packed_forward(bi, padded, [2, 5, 1, 3], total_length=7)
        alone, (h_a, c_a) = tp.per_sequence_forward(bi, tensors)
    assert out.shape == (4, 7, 6)
    assert ll.compare(h, h_a, atol=1e-6) and ll.compare(c, c_a, atol=1e-6)
    for b, n in enumerate([2, 5, 1, 3]):
        assert ll.compare(out[b, :n], alone[b], atol=1e-6) and bool((out[b, n:] == 0).all())


def test_packed_forward_zero_lengths_give_zeros_and_leave_others_alone():
    _, tensors, padded = _batch([4, 1, 3])
    lstm = tp.lstm_from_keras_weights(ll.random_lstm_weights(2, 3, seed=1))
    before = padded.clone()
    with torch.no_grad():
        out, (h, c) = tp.packed_forward(lstm, padded, torch.tensor([4, 0, 3]))
        _, (h_a, _) = tp.per_sequence_forward(lstm, tensors)
        _, (h_clamped, _) = lstm(rnn.pack_padded_sequence(padded, torch.tensor([4, 1, 3]), batch_first=True, enforce_sorted=False))
    assert torch.equal(padded, before)
    assert bool((out[1] == 0).all() and (h[:, 1] == 0).all() and (c[:, 1] == 0).all())
    assert not bool((h_clamped[:, 1] == 0).all())  # the mask is what makes it zero
    assert ll.compare(h[:, [0, 2]], h_a[:, [0, 2]], atol=1e-6)


def test_packed_forward_zero_length_gets_no_gradient():
    _, _, padded = _batch([3, 2])
    x = padded.clone().requires_grad_(True)
    lstm = tp.lstm_from_keras_weights(ll.random_lstm_weights(2, 3, seed=1))
    out, (h, _) = tp.packed_forward(lstm, x, [3, 0])
    (out.sum() + h.sum()).backward()
    assert bool((x.grad[1] == 0).all()) and bool((x.grad[0] != 0).any())


def test_packed_forward_gru_time_major():
    _, tensors, padded = _batch([3, 1])
    gru = nn.GRU(2, 4)  # batch_first=False
    with torch.no_grad():
        out, h = tp.packed_forward(gru, padded.transpose(0, 1), [3, 0])
        _, h_alone = tp.per_sequence_forward(gru, tensors[:1])
    assert out.shape == (3, 2, 4) and isinstance(h, torch.Tensor)
    assert ll.compare(h[:, :1], h_alone, atol=1e-6) and bool((h[:, 1] == 0).all())


def test_packed_forward_rejects_bad_input():
    lstm = nn.LSTM(2, 3, batch_first=True)
    x = torch.zeros(2, 3, 2)
    with pytest.raises(TypeError, match="rnn must be"):
        tp.packed_forward(nn.Linear(2, 3), x, [1, 1])
    with pytest.raises(ValueError, match=r"lengths\[1\] = 4 is longer"):
        tp.packed_forward(lstm, x, [1, 4])
    with pytest.raises(ValueError, match="batch size 2"):
        tp.packed_forward(lstm, x, [1])
    with pytest.raises(ValueError, match="total_length must be >= 3, got 2"):
        tp.packed_forward(lstm, x, [1, 1], total_length=2)
    with pytest.raises(ValueError, match="padded must have at least 3"):
        tp.packed_forward(lstm, torch.zeros(2, 3), [1, 1])


def test_per_sequence_forward_rejects_bad_input():
    lstm = nn.LSTM(2, 3, batch_first=True)
    with pytest.raises(ValueError, match="sequences is empty"):
        tp.per_sequence_forward(lstm, [])
    with pytest.raises(ValueError, match=r"sequences\[1\]"):
        tp.per_sequence_forward(lstm, [torch.zeros(2, 2), torch.zeros(0, 2)])
    with pytest.raises(TypeError, match="rnn must be"):
        tp.per_sequence_forward("lstm", [torch.zeros(2, 2)])


# ---------------------------------------------------------------- masked_mean
def test_masked_mean_value_nan_padding_and_no_mutation():
    values = torch.tensor([[1.0, 3.0, float("nan")], [5.0, float("inf"), 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    before = values.clone()
    assert float(tp.masked_mean(values, mask)) == pytest.approx(3.0)
    assert torch.equal(values.isnan(), before.isnan()) and torch.equal(mask, torch.tensor([[True, True, False], [True, False, False]]))
    assert float(tp.masked_mean(values, np.array([[1, 1, 0], [1, 0, 0]]))) == pytest.approx(3.0)


def test_masked_mean_3d_divides_by_features_too():
    values = torch.arange(12.0).reshape(2, 3, 2)
    mask = torch.tensor([[True, False, False], [True, True, False]])
    expected = float(torch.cat([values[0, :1], values[1, :2]]).mean())
    assert float(tp.masked_mean(values, mask)) == pytest.approx(expected)


def test_masked_mean_rejects_bad_input():
    v = torch.zeros(2, 3)
    with pytest.raises(TypeError, match="mask must be bool"):
        tp.masked_mean(v, torch.full((2, 3), 0.5))
    with pytest.raises(TypeError, match="mask must be bool"):
        tp.masked_mean(v, torch.full((2, 3), 2))
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(2, 3\), got \(3, 2\)"):
        tp.masked_mean(v, torch.ones(3, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="selects no step"):
        tp.masked_mean(v, torch.zeros(2, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="values must be a torch.Tensor"):
        tp.masked_mean([[1.0]], [[True]])


# ---------------------------------------------------------------- PadCollate
def test_pad_collate_sequences_and_pairs():
    a, b = torch.ones(3, 2), torch.ones(1, 2)
    padded, lengths = tp.PadCollate(padding_value=-1.0)([a, b])
    assert padded.shape == (2, 3, 2) and lengths.dtype == torch.int64 and lengths.tolist() == [3, 1]
    assert bool((padded[1, 1:] == -1).all())
    padded, lengths, y = tp.PadCollate()([(a, torch.tensor(1.0)), (b, torch.tensor(2.0))])
    assert y.tolist() == [1.0, 2.0]
    _, _, tags = tp.PadCollate(per_step_targets=True)([(a, torch.tensor([1, 2, 3])), (b, torch.tensor([4]))])
    assert tags.tolist() == [[1, 2, 3], [4, -100, -100]]
    assert torch.equal(a, torch.ones(3, 2))


def test_pad_collate_rejects_bad_batches():
    with pytest.raises(ValueError, match="batch is empty"):
        tp.PadCollate()([])
    with pytest.raises(TypeError, match=r"batch\[1\]"):
        tp.PadCollate()([(torch.ones(2), 1), torch.ones(2)])
    with pytest.raises(ValueError, match=r"batch\[0\]: per-step target has shape \(2,\) but the sequence has length 3"):
        tp.PadCollate(per_step_targets=True)([(torch.ones(3), torch.ones(2))])


def test_pad_collate_pads_keeps_lengths_and_equals_pad_collate_class():
    pairs = [(torch.ones(3, 2), torch.tensor(1.0)), (2 * torch.ones(1, 2), torch.tensor(0.0))]
    padded, lengths, targets = tp.pad_collate(pairs)
    assert padded.shape == (2, 3, 2) and bool((padded[1, 1:] == 0).all()) and bool((padded[1, 0] == 2).all())
    assert lengths.dtype == torch.int64 and lengths.device.type == "cpu" and lengths.tolist() == [3, 1]
    assert targets.tolist() == [1.0, 0.0]
    assert all(torch.equal(a, b) for a, b in zip(tp.PadCollate()(pairs), (padded, lengths, targets)))
    assert torch.equal(pairs[0][0], torch.ones(3, 2))  # nothing changed in place
    loader = torch.utils.data.DataLoader(pairs, batch_size=2, collate_fn=tp.pad_collate)
    assert next(iter(loader))[1].tolist() == [3, 1]


@pytest.mark.parametrize(
    "batch, exc, pattern",
    [
        ([], ValueError, "batch is empty"),
        (torch.ones(2, 3), TypeError, "batch must be a list of .sequence, target. pairs, got Tensor"),
        ([torch.ones(2, 2)], TypeError, r"batch\[0\] must be a \(sequence, target\) pair, got Tensor"),
        ([(torch.ones(2), torch.tensor(1.0), 3)], TypeError, r"batch\[0\] must be a \(sequence, target\) pair"),
        ([([1.0, 2.0], torch.tensor(1.0))], TypeError, r"batch\[0\]\[0\] must be a torch.Tensor, got list"),
        ([(torch.tensor(1.0), torch.tensor(1.0))], ValueError, r"batch\[0\]\[0\] must have at least 1"),
        ([(torch.ones(2), 1.0)], TypeError, r"batch\[0\]\[1\] \(the target\) must be a torch.Tensor, got float"),
        ([(torch.ones(2, 2), torch.tensor(1.0)), (torch.ones(3, 4), torch.tensor(1.0))], ValueError,
         r"batch\[1\]\[0\] has shape \(3, 4\), but batch\[0\]\[0\] has \(2, 2\)"),
        ([(torch.ones(2), torch.tensor(1.0)), (torch.ones(3), torch.ones(2))], ValueError,
         r"batch\[1\]\[1\] has shape \(2,\), but batch\[0\]\[1\] has \(\)"),
    ],
)
def test_pad_collate_rejects_bad_batches(batch, exc, pattern):
    with pytest.raises(exc, match=pattern):
        tp.pad_collate(batch)


# ---------------------------------------------------------------- BucketBatchSampler
def test_bucket_sampler_epochs_cover_every_index_and_differ():
    lengths = ll.random_lengths(100, 1, 30, seed=1)
    sampler = tp.BucketBatchSampler(lengths, 8, seed=3, bucket_size_multiplier=4)
    e0, e1 = list(sampler), list(sampler)
    for epoch in (e0, e1):
        assert sorted(i for b in epoch for i in b) == list(range(100))
        assert len(epoch) == len(sampler) == 13
    assert e0 != e1
    sampler.set_epoch(0)
    assert list(sampler) == e0
    assert [b.tolist() for b in ll.bucket_batches(lengths, 8, seed=3, bucket_size_multiplier=4)] == e0
    assert ll.padding_fraction(lengths, e0) < ll.padding_fraction(lengths, ll.random_batches(lengths, 8, seed=0))


def test_bucket_sampler_drop_last_len_and_dataloader():
    lengths = [5, 1, 4, 2, 3, 6, 2]
    sampler = tp.BucketBatchSampler(lengths, 2, drop_last=True, bucket_size_multiplier=1)
    assert len(sampler) == 3 and all(len(b) == 2 for b in sampler)
    data = [torch.ones(n, 2) for n in lengths]
    loader = torch.utils.data.DataLoader(data, batch_sampler=tp.BucketBatchSampler(lengths, 3), collate_fn=tp.PadCollate())
    seen = sorted(int(n) for _, lens in loader for n in lens)
    assert seen == sorted(lengths)


@pytest.mark.parametrize("kwargs, exc, pattern", [({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
                                                  ({"batch_size": 2.0}, TypeError, "batch_size must be an int"),
                                                  ({"batch_size": 2, "seed": -1}, ValueError, "seed")])
def test_bucket_sampler_rejects_bad_arguments(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        tp.BucketBatchSampler([1, 2, 3], **kwargs)


# ---------------------------------------------------------------- packing_summary and the widget
def test_packing_summary_matches_reference_lstm():
    s = tp.packing_summary([2, 5, 3])
    w = ll.random_lstm_weights(2, 2, seed=0)
    seqs = ll.random_ragged_batch([2, 5, 3], 2, seed=0)
    _, h_ref, _ = ll.lstm_forward(ll.pad_sequences(seqs), **w, mask=ll.sequence_mask([2, 5, 3]))
    assert ll.compare(s["h_n"], h_ref, atol=1e-6)
    assert s["batch_sizes"] == [3, 3, 2, 1, 1] and s["sorted_indices"] == [1, 2, 0]


def test_widget_result_text_and_driving():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    from lessons_lib.widgets import lesson03 as w03

    text = w03.result_text()
    assert text == "Result: lengths=[4, 1, 3] batch_sizes=[3, 2, 2, 1] sorted_indices=[0, 2, 1]"
    widget = w03.packing_widget()
    assert widget.result.value == text
    assert widget.details.value == f"<pre>{w03.h_n_text()}</pre>" and "h_n (original order) = [[" in widget.details.value
    assert widget.plot.value == w03.layout_html([4, 1, 3])
    descriptions = [c.description for c in widget.controls.values()]
    assert descriptions == list(w03.DEFAULTS) and len(set(descriptions)) == 6
    widget.controls["sequences"].value = 2
    widget.controls["len_2"].value = 7
    assert widget.result.value == w03.result_text(sequences=2, len_2=7)
    assert widget.controls["len_3"].disabled and not widget.controls["len_2"].disabled
    assert widget.plot.value == w03.layout_html([4, 7])
    for n, length in ((1, 1), (5, 8), (3, 2)):  # the picture follows the sliders
        widget.controls["sequences"].value = n
        widget.controls["len_1"].value = length
        lengths = [length, 7, 3, 2, 5][:n]
        assert widget.plot.value == w03.layout_html(lengths)
        lay = tp.packed_layout(lengths)
        # every real cell shows its data row, every padded one "pad", every data row its sequence
        assert widget.plot.value.count(">pad<") == int((lay.index_grid < 0).sum())
        for row in range(sum(lengths)):
            assert f">{row}<" in widget.plot.value
        assert sum(widget.plot.value.count(f">b{b}<") for b in range(n)) == sum(lengths)
        assert f"batch_sizes = {lay.batch_sizes.tolist()}" in widget.plot.value
    with pytest.raises(ValueError, match="len_1 must be an int in 1..8, got 9"):
        w03.result_text(len_1=9)
    with pytest.raises(TypeError, match="unknown control 'len_6'"):
        w03.result_text(len_6=1)


# ---------------------------------------------------------------- checkers
def test_exercise_1(capsys):
    from lessons_lib.checks import lesson03 as check

    assert check.exercise_1([4, 3, 2, 1, 1]) and "Correct" in capsys.readouterr().out
    assert check.exercise_1(torch.tensor([4, 3, 2, 1, 1])) and check.exercise_1(np.array([4.0, 3, 2, 1, 1]))
    for wrong, hint in ((None, "got None"), ([5, 3, 2, 1], "sorted lengths"), ([4, 3, 2, 1], "one entry per time step"),
                        ([4, 3, 3, 1, 1], "time step 2"), ("abc", "list of ints"), ([[4, 3, 2, 1, 1]], "1-D"),
                        ([4.5, 3, 2, 1, 1], "whole numbers")):
        capsys.readouterr()
        assert bool(check.exercise_1(wrong)) is False
        assert hint in capsys.readouterr().out


def _bi_setup():
    _, _, padded = _batch([4, 1, 3])
    bi = tp.lstm_from_keras_weights(ll.random_lstm_weights(2, 3, seed=1), reverse_weights=ll.random_lstm_weights(2, 3, seed=2))
    lengths = torch.tensor([4, 1, 3])
    with torch.no_grad():
        out, (h, _) = tp.packed_forward(bi, padded, lengths)
    return out, h, lengths


def _honest(out, lengths):
    """What a learner writes: the gather for the forward half, step 0 for the backward half."""
    H = out.shape[-1] // 2
    forward = out[torch.arange(len(lengths)), lengths - 1, :H]
    return torch.cat([forward, out[:, 0, H:]], dim=1)


def test_exercise_2_accepts_honest_answers(capsys):
    from lessons_lib.checks import lesson03 as check

    out, h, lengths = _bi_setup()
    for right in (_honest, lambda o, n: torch.cat([tp.last_valid_step(o, n)[:, :3], o[:, 0, 3:]], dim=1)):
        capsys.readouterr()
        assert check.exercise_2(right, out, h, lengths) and "Correct" in capsys.readouterr().out
    before = out.clone()
    check.exercise_2(lambda o, n: o.zero_(), out, h, lengths)  # the learner's function gets copies
    assert torch.equal(out, before)


def test_exercise_2_enforces_from_the_output_only(capsys):
    """Issue 12: the target itself, cat([bi_h[0], bi_h[1]]), must not pass, as a tensor or as a function."""
    from lessons_lib.checks import lesson03 as check

    out, h, lengths = _bi_setup()
    target = torch.cat([h[0], h[1]], dim=1)
    cases = [
        (target, "cannot show it was built from bi_out only"),
        (_honest(out, lengths), "cannot show it was built from bi_out only"),
        (lambda o, n: target, "right on bi_out, but not on a second batch"),
        (lambda o, n: _honest(out, lengths), "right on bi_out, but not on a second batch"),
        (lambda o, n: torch.cat([o[torch.arange(3), n - 1, :3], o[:, 0, 3:]], dim=1), "raised IndexError"),
    ]
    for wrong, hint in cases:
        capsys.readouterr()
        assert bool(check.exercise_2(wrong, out, h, lengths)) is False
        printed = capsys.readouterr().out
        assert printed.startswith("Not yet: ") and hint in printed, printed


def test_exercise_2_specific_hints(capsys):
    from lessons_lib.checks import lesson03 as check

    out, h, lengths = _bi_setup()
    cases = [
        (None, "still None"),
        (lambda o, n: o[:, -1], "padding"),
        (lambda o, n: torch.cat([o[:, 0, :3], o[:, 0, 3:]], 1), "forward direction"),
        (lambda o, n: torch.cat([_honest(o, n)[:, :3], o[:, -1, 3:]], 1), "backward direction ends at time step 0"),
        (lambda o, n: _honest(o, n)[:, :3], "expected shape (3, 6)"),
    ]
    for wrong, hint in cases:
        capsys.readouterr()
        assert bool(check.exercise_2(wrong, out, h, lengths)) is False
        assert hint in capsys.readouterr().out


def test_exercise_3(capsys):
    from lessons_lib.checks import lesson03 as check

    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(3, 4, generator=gen)
    target = torch.randn(3, 4, generator=gen)
    lengths = torch.tensor([4, 1, 3])
    mask = torch.from_numpy(ll.sequence_mask([4, 1, 3]))
    right = tp.masked_mean((pred - target) ** 2, mask)
    assert check.exercise_3(right, pred, target, lengths) and "Correct" in capsys.readouterr().out
    assert check.exercise_3(float(right), pred, target, lengths)
    assert check.exercise_3(((pred - target) ** 2)[mask].mean().numpy(), pred, target, lengths)
    per_seq = torch.stack([((pred[b, :n] - target[b, :n]) ** 2).mean() for b, n in enumerate([4, 1, 3])]).mean()
    zeroed = ((pred - target) ** 2 * mask).mean()  # padding zeroed, still divided by all 12 steps
    for wrong, hint in ((None, "got None"), ("abc", "expected one number"), (((pred - target) ** 2).mean(), "unmasked"),
                        (per_seq, "per-sequence"), (zeroed, "zeroes the padding steps but still divides by all 12"),
                        (((pred - target) ** 2 * mask).sum(), "the sum over the real steps"), (0.0, "divide")):
        capsys.readouterr()
        assert bool(check.exercise_3(wrong, pred, target, lengths)) is False
        assert hint in capsys.readouterr().out


class _BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")


JUNK = [None, "abc", "0.5", b"x", 3, 2.5, True, 1 + 2j, float("nan"), np.ones((2, 3)), np.array(["a", "b"]),
        np.array([1 + 2j]), torch.ones(7, 7), torch.tensor(True), {1, 2}, {"a": 1}, [], [[1], [2, 3]], (None,),
        object(), _BadRepr(), print, lambda: 1, lambda o, n: None, lambda o, n: "x", lambda o, n: np.ones((3, 6)),
        lambda o, n: torch.ones(3, 6, dtype=torch.bool), lambda o, n: 1 / 0, lambda *a: torch.full((3, 6), float("nan"))]


@pytest.mark.parametrize("junk", JUNK, ids=[f"junk{i}" for i in range(len(JUNK))])
def test_every_lesson03_checker_answers_junk_with_not_yet(junk, capsys):
    """Issue 12: junk gets "Not yet: ..." with a reason, and no checker raises."""
    from lessons_lib.checks import lesson03 as check

    out, h, lengths = _bi_setup()
    pred, target = torch.zeros(3, 4), torch.ones(3, 4)
    for run in (lambda: check.exercise_1(junk), lambda: check.exercise_2(junk, out, h, lengths),
                lambda: check.exercise_3(junk, pred, target, lengths)):
        capsys.readouterr()
        result = run()
        verdict_line = capsys.readouterr().out.strip().splitlines()[-1]  # junk such as print() prints too
        assert bool(result) is False and verdict_line.startswith("Not yet: ") and len(verdict_line) > 12, verdict_line


def test_lesson03_checkers_survive_wrong_trailing_arguments(capsys):
    from lessons_lib.checks import lesson03 as check

    assert bool(check.exercise_2(_honest, "bi_out", None, [4, 1, 3])) is False
    assert "check.exercise_2(answer, bi_out, bi_h, lengths_t)" in capsys.readouterr().out
    assert bool(check.exercise_3(0.5, "pred", None, None)) is False
    assert capsys.readouterr().out.startswith("Not yet: ")


# ---------------------------------------------------------------- the contract: items that are not numbers
@pytest.mark.parametrize(
    "call,words",
    [
        (lambda: tp.lengths_tensor([3, None]), ["lengths", "None", "index 1"]),
        (lambda: tp.lengths_tensor(["3"]), ["lengths", "'3'", "index 0"]),
        (lambda: tp.lengths_tensor(np.array([3, 1], dtype=object)), ["lengths", "object", "index 0"]),
        (lambda: tp.lengths_tensor([True, False]), ["lengths", "bool", "index 0"]),
        (lambda: tp.packed_layout([2, "1"]), ["lengths", "index"]),
        (lambda: tp.packed_forward(nn.LSTM(2, 3, batch_first=True), torch.ones(2, 2, 2), [2, None]), ["lengths", "None", "index 1"]),
        (lambda: tp.last_valid_step(torch.ones(2, 3, 4), [1, None]), ["lengths", "None", "index 1"]),
        (lambda: tp.BucketBatchSampler([1, None, 2], 2), ["lengths", "None", "index 1"]),
        (lambda: tp.packing_summary([2, None]), ["lengths", "None", "index 1"]),
        (lambda: tp.per_sequence_forward(nn.LSTM(2, 3), ["ab"]), ["sequences[0]", "torch.Tensor"]),
        (lambda: tp.PadCollate()(["ab"]), ["batch[0]", "'ab'", "str"]),
        (lambda: tp.PadCollate()([torch.ones(2), [1.0, None]]), ["batch[1]"]),
        (lambda: tp.PadCollate()([(torch.ones(2), "cat")]), ["batch[0][1]", "'cat'"]),
        (lambda: tp.PadCollate(padding_value="x"), ["padding_value", "'x'"]),
        (lambda: tp.PadCollate(padding_value=None), ["padding_value", "None"]),
        (lambda: tp.PadCollate(target_padding_value=True), ["target_padding_value", "bool"]),
        (lambda: tp.masked_mean(torch.ones(1, 2), np.array([["a", "b"]])), ["mask must be bool", "mask[0, 0]"]),
        (lambda: tp.masked_mean(torch.ones(1, 2), [[True, None]]), ["mask must be bool", "mask[0, 1]", "None"]),
        (lambda: tp.masked_mean(torch.ones(1, 2, dtype=torch.bool), [[True, False]]), ["values", "bool"]),
        (lambda: tp.masked_mean(torch.ones(1, 2), [[True, False]], fill="0", fn=torch.exp), ["fill", "'0'"]),
    ],
)
def test_torch_helpers_reject_items_that_are_not_numbers(call, words):
    with pytest.raises(TypeError) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


# ---------------------------------------------------------------- masked_mean: safe for gradients too
def _nan_padded_regression():
    """pred from a Linear layer; targets padded with NaN (a common 'no target here' marker)."""
    torch.manual_seed(0)
    layer = nn.Linear(2, 1)
    x = torch.randn(3, 4, 2)
    lengths = [4, 1, 3]
    mask = torch.from_numpy(ll.sequence_mask(lengths))
    target = torch.where(mask, torch.randn(3, 4), torch.tensor(float("nan")))
    return layer, x, mask, target


def test_masked_mean_of_a_precomputed_loss_leaks_nan_into_gradients():
    layer, x, mask, target = _nan_padded_regression()
    loss = tp.masked_mean((layer(x)[..., 0] - target) ** 2, mask)  # the op ran on the padding first
    assert torch.isfinite(loss)  # the value is fine ...
    loss.backward()
    assert torch.isnan(layer.weight.grad).all()  # ... the gradient is not: 0 * nan = nan


def test_masked_mean_with_fn_keeps_nan_out_of_value_and_gradients():
    layer, x, mask, target = _nan_padded_regression()
    pred = layer(x)[..., 0]
    loss = tp.masked_mean((pred, target), mask, fn=lambda p, t: (p - t) ** 2)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(layer.weight.grad).all() and torch.isfinite(layer.bias.grad).all()
    # and it is the same loss (and gradient) as the mean over the real steps only
    layer2, *_ = _nan_padded_regression()
    pred2 = layer2(x)[..., 0]
    truth = ((pred2[mask] - target[mask]) ** 2).mean()
    truth.backward()
    assert loss.item() == pytest.approx(truth.item(), abs=1e-6)
    torch.testing.assert_close(layer.weight.grad, layer2.weight.grad)


def test_masked_mean_fill_keeps_log_finite_and_checks_fn_shape():
    v = torch.tensor([[1.0, float("inf"), 0.0]], requires_grad=True)
    mask = torch.tensor([[True, False, False]])
    loss = tp.masked_mean(v, mask, fn=torch.log, fill=1.0)
    loss.backward()
    assert loss.item() == 0.0 and v.grad.tolist() == [[1.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match=r"fn must keep the \(batch, time\) axes"):
        tp.masked_mean(torch.ones(2, 3), torch.ones(2, 3, dtype=torch.bool), fn=lambda a: a.sum(1))
    with pytest.raises(TypeError, match="pass fn="):
        tp.masked_mean((torch.ones(2, 3), torch.ones(2, 3)), torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="fn must be callable"):
        tp.masked_mean(torch.ones(2, 3), torch.ones(2, 3, dtype=torch.bool), fn=3)


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(1, 5), min_size=1, max_size=4), poison=st.sampled_from([float("nan"), float("inf"), -float("inf")]))
def test_masked_mean_gradient_is_finite_whatever_sits_in_the_padding(lengths, poison):
    mask = torch.from_numpy(ll.sequence_mask(lengths, 5))
    gen = torch.Generator().manual_seed(len(lengths))
    pred = torch.randn(len(lengths), 5, generator=gen).masked_fill(~mask, poison).requires_grad_(True)
    target = torch.randn(len(lengths), 5, generator=gen).masked_fill(~mask, poison)
    loss = tp.masked_mean((pred, target), mask, fn=lambda p, t: (p - t) ** 2)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    assert float(pred.grad[~mask].abs().sum()) == 0.0
