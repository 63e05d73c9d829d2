"""PyTorch packing helpers: lengths, the PackedSequence layout, zero-length sequences,
masked losses and length-bucketed data loading.

Import it explicitly (it imports torch): ``from lessons_lib import torch_packing as tp``.

What is here:

- :func:`lengths_tensor` turns lengths into the CPU int64 tensor that
  ``pack_padded_sequence`` needs, rejecting floats, negatives and lengths
  longer than the time axis (which PyTorch would accept silently).
- :func:`packed_layout` computes where each (sequence, time step) of a batch
  lands in ``PackedSequence.data``; :func:`plot_packed_layout` draws it.
- :func:`last_valid_step` gathers each sequence's last real step from a
  padded output.
- :func:`lstm_from_keras_weights` builds an ``nn.LSTM`` holding weights in the
  Keras layout (from :func:`lessons_lib.random_lstm_weights`), so torch
  results can be checked against :func:`lessons_lib.lstm_forward`.
- :func:`packed_forward` runs an RNN over a padded batch through packing and
  handles zero-length sequences (clamp the length to 1, then mask).
- :func:`per_sequence_forward` runs each sequence alone: the ground truth.
- :func:`masked_mean` is a mask-weighted mean for losses; given the inputs and
  ``fn=`` it masks them before the op, so NaN or inf in the padding reaches
  neither the value nor the gradients.
- :func:`pad_collate` is a ``collate_fn`` that pads and returns lengths;
  :class:`PadCollate` is its configurable version (padding value, bare
  sequences, per-step targets);
  :class:`BucketBatchSampler` wraps :func:`lessons_lib.bucket_batches` as a
  ``batch_sampler`` for a ``DataLoader``.
- :func:`packing_summary` is the pure function behind the lesson 03 widget.

Lesson 03 writes out :func:`last_valid_step`, :func:`packed_forward` and
:func:`pad_collate` in ``#@save lessons_lib.torch_packing`` cells: each must stay
byte-for-byte the code here (``tools/taught_code.py``), so they are kept short,
and their argument checks live in small private ``_check_*`` helpers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torch.nn.utils import rnn

from ._validate import as_bool_mask, as_lengths, check_count, check_numeric, check_real_number
from .batching import bucket_batches

__all__ = [
    "BucketBatchSampler",
    "PackedLayout",
    "PadCollate",
    "last_valid_step",
    "lengths_tensor",
    "lstm_from_keras_weights",
    "masked_mean",
    "packed_forward",
    "pad_collate",
    "packed_layout",
    "packing_summary",
    "per_sequence_forward",
    "plot_packed_layout",
]


def lengths_tensor(lengths: Any, *, max_len: int | None = None, name: str = "lengths") -> torch.Tensor:
    """Return ``lengths`` as a new 1-D CPU int64 tensor, the form packing needs.

    ``pack_padded_sequence`` casts whatever it gets to int64 (a float 3.7
    silently becomes 3) and does not check lengths against the time axis;
    this helper refuses both.

    Args:
        lengths: list, NumPy array or torch tensor (any device) of ints >= 0.
        max_len: if given, every length must be at most this (the time axis).
        name: the argument name used in error messages.

    Example:
        >>> lengths_tensor([3, 1, 2])
        tensor([3, 1, 2])
    """
    if isinstance(lengths, torch.Tensor):
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise TypeError(f"{name} must hold integers, got a {lengths.dtype} tensor")
        lengths = lengths.detach().cpu().numpy()
    arr = as_lengths(lengths, name)
    if max_len is not None:
        max_len = check_count("max_len", max_len)
        over = np.flatnonzero(arr > max_len)
        if over.size:
            i = int(over[0])
            raise ValueError(f"{name}[{i}] = {arr[i]} is longer than the time axis ({max_len})")
    return torch.from_numpy(arr)


@dataclass(frozen=True)
class PackedLayout:
    """Where each step of each sequence sits in ``PackedSequence.data``.

    Attributes (NumPy int64 arrays):
        lengths: ``(batch,)`` the lengths, in the original batch order.
        batch_sizes: ``(max_len,)`` how many sequences are still running at each step.
        sorted_indices: ``(batch,)`` original index of the sequence at each
            sorted position (longest first), or None for ``enforce_sorted=True``.
        unsorted_indices: ``(batch,)`` sorted position of each original
            sequence (the inverse permutation), or None.
        row_sequence: ``(sum(lengths),)`` original sequence index of each data row.
        row_step: ``(sum(lengths),)`` time step of each data row.
        index_grid: ``(batch, max_len)`` data row of step ``t`` of sequence
            ``b``, -1 on padding.
    """

    lengths: np.ndarray
    batch_sizes: np.ndarray
    sorted_indices: np.ndarray | None
    unsorted_indices: np.ndarray | None
    row_sequence: np.ndarray
    row_step: np.ndarray
    index_grid: np.ndarray

    def row_labels(self) -> list[str]:
        """One label per data row, ``"b{sequence},t{step}"``."""
        return [f"b{b},t{t}" for b, t in zip(self.row_sequence.tolist(), self.row_step.tolist())]


def packed_layout(lengths: ArrayLike, *, enforce_sorted: bool = False) -> PackedLayout:
    """Compute the layout of the PackedSequence that packing these lengths gives.

    ``data`` is time-major: first step 0 of every sequence (longest first),
    then step 1 of every sequence that is at least 2 long, and so on. So
    ``batch_sizes[t]`` is the number of lengths greater than ``t``. The order
    within a step is the sort order ``torch.sort(lengths, descending=True)``,
    exactly as ``pack_padded_sequence(..., enforce_sorted=False)`` uses.

    Args:
        lengths: ``(batch,)`` ints >= 1 (PyTorch cannot pack a zero length).
        enforce_sorted: if True, lengths must already be non-increasing and
            no permutation is recorded (``sorted_indices`` is None).

    Example:
        >>> lay = packed_layout([2, 3, 1])
        >>> lay.batch_sizes.tolist(), lay.sorted_indices.tolist(), lay.row_labels()[:4]
        ([3, 2, 1], [1, 0, 2], ['b1,t0', 'b0,t0', 'b2,t0', 'b1,t1'])
    """
    arr = as_lengths(lengths)
    if arr.size == 0:
        raise ValueError("lengths is empty: there is nothing to pack")
    zero = np.flatnonzero(arr == 0)
    if zero.size:
        raise ValueError(
            f"lengths[{int(zero[0])}] = 0: PyTorch cannot pack a zero-length sequence "
            "(clamp lengths to 1 and mask the result, see packed_forward)"
        )
    if enforce_sorted:
        up = np.flatnonzero(np.diff(arr) > 0)
        if up.size:
            i = int(up[0]) + 1
            raise ValueError(
                f"lengths must be non-increasing when enforce_sorted=True, but lengths[{i}] = {arr[i]} "
                f"> lengths[{i - 1}] = {arr[i - 1]}"
            )
        order = np.arange(arr.size)
    else:
        # The same call pack_padded_sequence makes, so ties are broken the same way.
        order = torch.sort(torch.from_numpy(arr), descending=True)[1].numpy().astype(np.int64)
    max_len = int(arr.max())
    batch_sizes = (arr[None, :] > np.arange(max_len)[:, None]).sum(axis=1).astype(np.int64)
    sorted_lengths = arr[order]
    rows_b, rows_t = [], []
    for t in range(max_len):
        running = order[sorted_lengths > t]  # sorted order, so the first batch_sizes[t] slots
        rows_b.append(running)
        rows_t.append(np.full(running.size, t, dtype=np.int64))
    row_sequence = np.concatenate(rows_b).astype(np.int64)
    row_step = np.concatenate(rows_t)
    grid = np.full((arr.size, max_len), -1, dtype=np.int64)
    grid[row_sequence, row_step] = np.arange(row_sequence.size)
    if enforce_sorted:
        sorted_indices = unsorted_indices = None
    else:
        sorted_indices = order
        unsorted_indices = np.argsort(order).astype(np.int64)
    return PackedLayout(arr, batch_sizes, sorted_indices, unsorted_indices, row_sequence, row_step, grid)


# The picture keeps one size whatever the lengths (a widget's image must not jump as sliders
# move), and its text stays >= 10 pt: at 80 dpi that is >= 11 px on screen at 100% zoom.
PLOT_FIGSIZE = (9.6, 5.0)
PLOT_DPI = 80
PLOT_FONTSIZE = 10


def plot_packed_layout(layout: PackedLayout | ArrayLike, *, axes=None, title: str | None = None):
    """Draw a packed batch: the padded grid, and the ``data`` rows it becomes.

    Top: the padded batch (sequence b by time step t); each real cell shows
    the row of ``data`` it lands in, padding is grey. Bottom: ``data`` row by
    row, each labelled with its sequence ``b``, grouped by time step ``t``
    (the group sizes are ``batch_sizes``).

    The new figure (when ``axes`` is None) is always ``PLOT_FIGSIZE`` inches at
    ``PLOT_DPI`` (768 x 400 px), with text of ``PLOT_FONTSIZE`` pt or more, for
    every batch the lesson 03 widget allows (up to 5 sequences of up to 8 steps).

    Args:
        layout: a :class:`PackedLayout`, or lengths to compute one from.
        axes: two matplotlib Axes to draw on (new figure if None).
        title: title of the top panel.

    Returns:
        The two Axes ``(ax_grid, ax_data)``.

    Example:
        >>> ax_grid, ax_data = plot_packed_layout([2, 3, 1])
        >>> ax_data.get_title()
        'packed.data, grouped by time step t: batch_sizes = [3, 2, 1]'
        >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    if not isinstance(layout, PackedLayout):
        layout = packed_layout(layout)
    grid = layout.index_grid
    batch, max_len = grid.shape
    n_rows = layout.row_sequence.size
    size = PLOT_FONTSIZE
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=PLOT_FIGSIZE, dpi=PLOT_DPI, height_ratios=[3, 1])
    ax_grid, ax_data = axes
    cmap = plt.get_cmap("tab10")
    colours = np.ones((batch, max_len, 3)) * 0.9
    for b in range(batch):
        colours[b, : layout.lengths[b]] = cmap(b % 10)[:3]
    ax_grid.imshow(colours, aspect="auto")
    for (b, t), row in np.ndenumerate(grid):
        ax_grid.text(t, b, str(row) if row >= 0 else "pad", ha="center", va="center",
                     color="white" if row >= 0 else "gray", fontsize=size)
    ax_grid.set_xticks(range(max_len))
    ax_grid.set_yticks(range(batch), [f"b{b} (len {n})" for b, n in enumerate(layout.lengths.tolist())])
    ax_grid.tick_params(labelsize=size)
    ax_grid.set_xlabel("time step t   (number in a cell = row of packed.data)", fontsize=size)
    ax_grid.set_title(title or f"padded batch, lengths {layout.lengths.tolist()}", fontsize=size + 1)
    strip = np.array([cmap(b % 10)[:3] for b in layout.row_sequence])[None, :, :]
    ax_data.imshow(strip, aspect="auto", extent=(-0.5, n_rows - 0.5, 0.5, -0.5))
    for r, b in enumerate(layout.row_sequence.tolist()):
        ax_data.text(r, 0, f"b{b}", ha="center", va="center", color="white", fontsize=size)
    starts = np.concatenate([[0], np.cumsum(layout.batch_sizes)[:-1]])
    for t, (start, group) in enumerate(zip(starts.tolist(), layout.batch_sizes.tolist())):
        if start:
            ax_data.axvline(start - 0.5, color="black", lw=2)
        ax_data.text(start + group / 2 - 0.5, 0.6, f"t{t}", ha="center", va="top", fontsize=size)
    ax_data.set_xlim(-0.5, n_rows - 0.5)
    ax_data.set_ylim(1.4, -0.5)
    ax_data.set_yticks([])
    ax_data.set_xticks(starts.tolist())  # the first row of each time step
    ax_data.tick_params(labelsize=size)
    ax_data.set_xlabel("row of packed.data (ticks: the first row of each time step)", fontsize=size)
    ax_data.set_title(f"packed.data, grouped by time step t: batch_sizes = {layout.batch_sizes.tolist()}",
                      fontsize=size + 1)
    ax_data.figure.tight_layout()
    return ax_grid, ax_data


def _check_tensor(name: str, value: Any, ndim_min: int) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.dim() < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} dimensions, got shape {tuple(value.shape)}")
    return value


def _check_last_valid_step(output: Any, lengths: Any, batch_first: bool) -> None:
    """Raise if ``last_valid_step(output, lengths)`` would gather anything but real steps."""
    output = _check_tensor("output", output, 2)
    batch, time = output.shape[:2] if batch_first else output.shape[1::-1]
    lens = lengths_tensor(lengths, max_len=time)
    if lens.numel() != batch:
        raise ValueError(f"lengths has {lens.numel()} entries but output has batch size {batch}")
    zero = torch.nonzero(lens == 0).flatten()
    if zero.numel():
        raise ValueError(f"lengths[{int(zero[0])}] = 0: a zero-length sequence has no last step")


def last_valid_step(output: torch.Tensor, lengths: torch.Tensor | list[int], *,
                    batch_first: bool = True) -> torch.Tensor:
    """Each sequence's output at its last real step, ``output[b, lengths[b] - 1]`` (post-padding).

    ``output``: ``(batch, time, ...)``, or ``(time, batch, ...)`` if not batch_first;
    ``lengths``: ``(batch,)`` ints in 1..time. Returns ``(batch, ...)``.

    >>> last_valid_step(torch.arange(6.).reshape(2, 3, 1), [2, 3]).flatten().tolist()
    [1.0, 5.0]
    """
    _check_last_valid_step(output, lengths, batch_first)  # raises on bad input
    if not batch_first:
        output = output.transpose(0, 1)  # (time, batch, ...) -> (batch, time, ...)
    lengths = torch.as_tensor(lengths).cpu()
    return output[torch.arange(len(lengths)), lengths - 1]  # (b, lengths[b] - 1) for each b


def lstm_from_keras_weights(
    weights: dict[str, ArrayLike],
    *,
    reverse_weights: dict[str, ArrayLike] | None = None,
    batch_first: bool = True,
    dtype: torch.dtype = torch.float32,
) -> nn.LSTM:
    """Build a one-layer ``nn.LSTM`` holding weights given in the Keras layout.

    ``weight_ih_l0 = kernel.T``, ``weight_hh_l0 = recurrent_kernel.T``,
    ``bias_ih_l0 = bias`` and ``bias_hh_l0 = 0`` (torch adds its two biases);
    the gate order i, f, g(c), o is the same in both libraries.

    Args:
        weights: ``{"kernel": (F, 4u), "recurrent_kernel": (u, 4u), "bias": (4u,)}``,
            e.g. from :func:`lessons_lib.random_lstm_weights`.
        reverse_weights: weights of the backward direction; giving them makes
            the LSTM bidirectional.
        batch_first: passed to ``nn.LSTM``.
        dtype: parameter dtype (float64 for exact comparisons).

    Example:
        >>> import lessons_lib as ll
        >>> lstm = lstm_from_keras_weights(ll.random_lstm_weights(2, 3, seed=0))
        >>> lstm.input_size, lstm.hidden_size, lstm.bidirectional
        (2, 3, False)
    """
    directions = [("", weights)] + ([("_reverse", reverse_weights)] if reverse_weights is not None else [])
    shapes = []
    for label, w in directions:
        if not isinstance(w, dict) or not {"kernel", "recurrent_kernel", "bias"} <= set(w):
            what = "reverse_weights" if label else "weights"
            raise TypeError(f"{what} must be a dict with kernel, recurrent_kernel and bias, got {type(w).__name__}")
        k, rk, b = (np.asarray(w[n], dtype=np.float64) for n in ("kernel", "recurrent_kernel", "bias"))
        if k.ndim != 2 or k.shape[1] % 4:
            raise ValueError(f"kernel must have shape (features, 4 * units), got {k.shape}")
        units = k.shape[1] // 4
        if rk.shape != (units, 4 * units) or b.shape != (4 * units,):
            raise ValueError(
                f"recurrent_kernel must be ({units}, {4 * units}) and bias ({4 * units},), got {rk.shape} and {b.shape}"
            )
        shapes.append((k.shape[0], units))
    if len(set(shapes)) != 1:
        raise ValueError(f"weights and reverse_weights must have the same (features, units), got {shapes}")
    n_features, units = shapes[0]
    lstm = nn.LSTM(n_features, units, batch_first=batch_first, bidirectional=len(directions) == 2, dtype=dtype)
    with torch.no_grad():
        for label, w in directions:
            getattr(lstm, f"weight_ih_l0{label}").copy_(torch.as_tensor(np.asarray(w["kernel"]).T, dtype=dtype))
            getattr(lstm, f"weight_hh_l0{label}").copy_(torch.as_tensor(np.asarray(w["recurrent_kernel"]).T, dtype=dtype))
            getattr(lstm, f"bias_ih_l0{label}").copy_(torch.as_tensor(np.asarray(w["bias"]), dtype=dtype))
            getattr(lstm, f"bias_hh_l0{label}").zero_()
    return lstm


def _check_rnn(module: Any) -> nn.RNNBase:
    if not isinstance(module, nn.RNNBase):
        raise TypeError(f"rnn must be a torch.nn.LSTM, GRU or RNN, got {type(module).__name__}")
    return module


def _check_packed_forward(module: Any, padded: Any, lengths: Any, total_length: Any) -> None:
    """Raise if ``packed_forward(module, padded, lengths, total_length=...)`` cannot run as documented."""
    module = _check_rnn(module)
    padded = _check_tensor("padded", padded, 3)
    time_axis = 1 if module.batch_first else 0
    batch, time = padded.shape[1 - time_axis], padded.shape[time_axis]
    lens = lengths_tensor(lengths, max_len=time)
    if lens.numel() != batch:
        raise ValueError(f"lengths has {lens.numel()} entries but padded has batch size {batch}")
    if total_length is not None:
        check_count("total_length", total_length, minimum=time)


def packed_forward(module: nn.RNNBase, padded: torch.Tensor, lengths: torch.Tensor | list[int], *,
                   total_length: int | None = None) -> tuple[torch.Tensor, tuple | torch.Tensor]:
    """Run an LSTM/GRU/RNN over a post-padded batch through packing; zero lengths are allowed.

    ``padded``: ``(batch, time, features)`` (time first if not ``module.batch_first``);
    ``lengths``: ``(batch,)`` ints in 0..time. Returns ``(output, hidden)`` like the module,
    in the original batch order, output padded with zeros to ``total_length`` (default: time);
    an empty sequence gets zero outputs and a zero ``h_n`` (and ``c_n``).

    >>> lstm = nn.LSTM(2, 3, batch_first=True)
    >>> out, (h_n, c_n) = packed_forward(lstm, torch.ones(2, 4, 2), [4, 0])
    >>> tuple(out.shape), h_n[0, 1].tolist()
    ((2, 4, 3), [0.0, 0.0, 0.0])
    """
    _check_packed_forward(module, padded, lengths, total_length)  # raises on bad input
    lengths = torch.as_tensor(lengths).cpu()  # packing wants the lengths on the CPU
    bf = module.batch_first
    safe = lengths.clamp(min=1)  # packing refuses 0; an empty sequence reads one padding step
    packed = rnn.pack_padded_sequence(padded, safe, batch_first=bf, enforce_sorted=False)
    packed_out, hidden = module(packed)
    total_length = total_length or padded.shape[1 if bf else 0]
    output, _ = rnn.pad_packed_sequence(packed_out, batch_first=bf, total_length=total_length)
    real = (lengths > 0).to(padded.device)  # False for the empty sequences
    output = torch.where(real.view(-1, 1, 1) if bf else real.view(1, -1, 1), output, 0.0)
    if isinstance(hidden, tuple):  # LSTM: (h_n, c_n), each (layers * directions, batch, units)
        return output, tuple(torch.where(real.view(1, -1, 1), state, 0.0) for state in hidden)
    return output, torch.where(real.view(1, -1, 1), hidden, 0.0)  # GRU and RNN: h_n


def per_sequence_forward(module: nn.RNNBase, sequences: Sequence[torch.Tensor]):
    """Run each sequence through the module on its own: no padding, no packing.

    The ground truth for what a batched run should return.

    Args:
        module: an ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN``.
        sequences: list of ``(length_i, features)`` tensors, each length >= 1.

    Returns:
        ``(outputs, hidden)``: a list of ``(length_i, directions * units)``
        outputs, and ``h_n`` or ``(h_n, c_n)`` stacked along the batch axis,
        each ``(layers * directions, batch, units)``.

    Example:
        >>> lstm = nn.LSTM(2, 3, batch_first=True)
        >>> outs, (h_n, c_n) = per_sequence_forward(lstm, [torch.ones(4, 2), torch.ones(1, 2)])
        >>> [tuple(o.shape) for o in outs], tuple(h_n.shape)
        ([(4, 3), (1, 3)], (1, 2, 3))
    """
    module = _check_rnn(module)
    if len(sequences) == 0:
        raise ValueError("sequences is empty")
    outputs, hiddens = [], []
    for i, seq in enumerate(sequences):
        seq = _check_tensor(f"sequences[{i}]", seq, 2)
        if seq.dim() != 2 or seq.shape[0] == 0:
            raise ValueError(f"sequences[{i}] must have shape (length >= 1, features), got {tuple(seq.shape)}")
        x = seq.unsqueeze(0) if module.batch_first else seq.unsqueeze(1)
        out, hidden = module(x)
        outputs.append(out[0] if module.batch_first else out[:, 0])
        hiddens.append(hidden)
    if isinstance(hiddens[0], tuple):
        stacked = tuple(torch.cat([h[k] for h in hiddens], dim=1) for k in range(len(hiddens[0])))
    else:
        stacked = torch.cat(hiddens, dim=1)
    return outputs, stacked


def _as_mask_tensor(mask: Any) -> torch.Tensor:
    if not isinstance(mask, torch.Tensor):
        return torch.from_numpy(as_bool_mask("mask", mask).copy())
    if mask.dtype != torch.bool:
        if mask.is_floating_point() or mask.is_complex() or not torch.isin(mask, torch.tensor([0, 1], dtype=mask.dtype)).all():
            raise TypeError(f"mask must be bool (or 0/1 integers), got dtype {mask.dtype}")
        mask = mask.bool()
    return mask


def _check_loss_input(name: str, value: Any) -> torch.Tensor:
    value = _check_tensor(name, value, 2)
    if value.dtype == torch.bool or value.is_complex():
        raise TypeError(f"{name} must hold real numbers, got a {value.dtype} tensor; cast it with .float()")
    return value


def masked_mean(
    values: torch.Tensor | tuple[torch.Tensor, ...],
    mask: Any,
    *,
    fn: Any = None,
    fill: float = 0.0,
) -> torch.Tensor:
    """Mean over the real steps only, with NaN or inf in the padding kept out of the value *and* the gradients.

    Padding is *selected away* (``torch.where``), never multiplied by 0. With
    ``fn``, the padding of each input is replaced by ``fill`` **before** ``fn``
    runs, then ``fn``'s result is reduced over the real steps. This order is
    what keeps gradients finite: ``torch.where(mask, fn(x), 0)`` hides a NaN of
    ``fn(x)`` in the value, but its backward pass still multiplies the zero
    gradient by ``fn'(x)`` at the padding, and ``0 * nan = nan``.

    Args:
        values: ``(batch, time, ...)`` tensor, or a tuple of them (the inputs
            of ``fn``, e.g. ``(pred, target)``). Without ``fn``, ``values`` is
            averaged as it is (e.g. squared errors you computed yourself:
            safe for the value, but the gradient of whatever produced a NaN
            there can still be NaN; pass the inputs and ``fn`` instead).
        mask: ``(batch, time)`` bool (or 0/1) tensor or array, True on real steps.
        fn: optional elementwise function of the (masked) inputs, e.g.
            ``lambda p, t: (p - t) ** 2``.
        fill: the value the padding of each input gets before ``fn`` runs;
            ``fn(fill, ...)`` must be finite (use 1.0 for ``torch.log``).

    Returns:
        A 0-d tensor: ``sum(out[mask]) / (mask.sum() * prod(out.shape[2:]))``
        where ``out`` is ``values`` or ``fn(*masked inputs)``.

    Example:
        >>> masked_mean(torch.tensor([[1., 3., 100.]]), torch.tensor([[True, True, False]]))
        tensor(2.)
        >>> p = torch.tensor([[1., 2., 0.]], requires_grad=True)
        >>> t = torch.tensor([[0., 0., float("nan")]])  # NaN marks "no target" in the padding
        >>> loss = masked_mean((p, t), torch.tensor([[True, True, False]]), fn=lambda p, t: (p - t) ** 2)
        >>> loss.backward(); loss.item(), p.grad.tolist()
        (2.5, [[1.0, 2.0, 0.0]])
    """
    inputs = values if isinstance(values, tuple) else (values,)
    if not inputs:
        raise ValueError("values is an empty tuple: give at least one tensor")
    names = [f"values[{k}]" for k in range(len(inputs))] if isinstance(values, tuple) else ["values"]
    inputs = tuple(_check_loss_input(n, v) for n, v in zip(names, inputs))
    mask = _as_mask_tensor(mask)
    for n, v in zip(names, inputs):
        if tuple(mask.shape) != tuple(v.shape[:2]):
            raise ValueError(f"mask must have shape (batch, time) = {tuple(v.shape[:2])}, got {tuple(mask.shape)}")
    if fn is None and len(inputs) != 1:
        raise TypeError("values is a tuple: pass fn= to combine them (e.g. fn=lambda p, t: (p - t) ** 2)")
    if fn is not None and not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    check_real_number("fill", fill)
    count = int(mask.sum())
    if count == 0:
        raise ValueError("mask selects no step: the mean of nothing is undefined")

    def select(v: torch.Tensor, other: float) -> torch.Tensor:
        keep = mask.to(v.device).reshape(mask.shape + (1,) * (v.dim() - 2))
        return torch.where(keep, v, torch.full((), other, dtype=v.dtype, device=v.device))

    if fn is None:
        out = inputs[0]
    else:
        out = fn(*(select(v, fill) for v in inputs))  # the padding is replaced before fn runs
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"fn must return a torch.Tensor, got {type(out).__name__}")
        if tuple(out.shape[:2]) != tuple(mask.shape):
            raise ValueError(f"fn must keep the (batch, time) axes {tuple(mask.shape)}, got {tuple(out.shape)}")
        out = _check_loss_input("fn(...)", out)
    total = select(out, 0.0).sum()
    per_step = int(np.prod(out.shape[2:], dtype=np.int64))
    return total / (count * per_step)


def _check_pairs(batch: Any) -> None:
    """Raise unless ``batch`` is a non-empty list of ``(sequence, target)`` tensor pairs that stack."""
    if not isinstance(batch, (list, tuple)):
        raise TypeError(f"batch must be a list of (sequence, target) pairs, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("batch is empty: nothing to collate")
    for i, item in enumerate(batch):
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise TypeError(f"batch[{i}] must be a (sequence, target) pair, got {type(item).__name__}")
        seq, target = _check_tensor(f"batch[{i}][0]", item[0], 1), item[1]
        if not isinstance(target, torch.Tensor):
            raise TypeError(f"batch[{i}][1] (the target) must be a torch.Tensor, got {type(target).__name__}")
        first_seq, first_target = batch[0]
        if seq.shape[1:] != first_seq.shape[1:]:
            raise ValueError(f"batch[{i}][0] has shape {tuple(seq.shape)}, but batch[0][0] has "
                             f"{tuple(first_seq.shape)}: only the length (axis 0) may differ")
        if target.shape != first_target.shape:
            raise ValueError(f"batch[{i}][1] has shape {tuple(target.shape)}, but batch[0][1] has "
                             f"{tuple(first_target.shape)}: targets are stacked, so they must match")


def pad_collate(batch: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, ...]:
    """A DataLoader ``collate_fn``: ``(sequence, target)`` pairs -> ``(padded, lengths, targets)``.

    Sequences ``(length_i, features)`` are post-padded with 0 to ``(batch, max_len, features)``;
    ``lengths`` is a CPU int64 tensor, ready for packing; the targets are stacked.

    >>> pairs = [(torch.ones(3, 2), torch.tensor(1.0)), (torch.ones(1, 2), torch.tensor(0.0))]
    >>> padded, lengths, targets = pad_collate(pairs)
    >>> tuple(padded.shape), lengths.tolist(), targets.tolist()
    ((2, 3, 2), [3, 1], [1.0, 0.0])
    """
    _check_pairs(batch)  # raises on bad input
    sequences = [seq for seq, _ in batch]
    lengths = torch.tensor([len(seq) for seq in sequences])  # int64, on the CPU
    padded = rnn.pad_sequence(sequences, batch_first=True)  # post-padding with 0
    targets = torch.stack([target for _, target in batch])
    return padded, lengths, targets


class PadCollate:
    """A ``collate_fn`` that pads a list of sequences and returns their lengths.

    The configurable version of :func:`pad_collate` (lesson 03 writes that one out).
    Each dataset item is a ``(length_i, ...)`` tensor, or a ``(sequence, target)`` pair.

    Returns ``(padded, lengths)`` or ``(padded, lengths, targets)``:
    padded is ``(batch, max_len, ...)`` (post-padding, ``padding_value``);
    lengths a CPU int64 tensor, ready for ``pack_padded_sequence``. Targets
    are stacked, or, with ``per_step_targets=True`` (one target per time
    step, e.g. token tags), padded with ``target_padding_value`` (default
    -100, the ``ignore_index`` of ``cross_entropy``).

    Example:
        >>> padded, lengths = PadCollate()([torch.ones(3, 2), torch.ones(1, 2)])
        >>> tuple(padded.shape), lengths.tolist()
        ((2, 3, 2), [3, 1])
    """

    def __init__(self, *, padding_value: float = 0.0, per_step_targets: bool = False, target_padding_value: float = -100):
        self.padding_value = check_real_number("padding_value", padding_value)
        check_real_number("target_padding_value", target_padding_value)
        self.per_step_targets = per_step_targets
        self.target_padding_value = target_padding_value

    def __call__(self, batch: Sequence[Any]):
        if len(batch) == 0:
            raise ValueError("batch is empty: nothing to collate")
        pairs = isinstance(batch[0], (tuple, list))
        sequences, targets = [], []
        for i, item in enumerate(batch):
            if isinstance(item, (tuple, list)) != pairs or (pairs and len(item) != 2):
                raise TypeError(f"batch[{i}] must be {'a (sequence, target) pair' if pairs else 'a tensor'} like batch[0]")
            seq = item[0] if pairs else item
            if not isinstance(seq, torch.Tensor):
                # torch.as_tensor("ab") fails with a message that names neither the argument nor the item.
                check_numeric(f"batch[{i}][0]" if pairs else f"batch[{i}]", seq, allow_bool=True)
            seq = _check_tensor(f"batch[{i}]", torch.as_tensor(seq), 1)
            sequences.append(seq)
            if pairs:
                target = item[1]
                if not isinstance(target, torch.Tensor):
                    check_numeric(f"batch[{i}][1]", target, allow_bool=True)
                target = torch.as_tensor(target)
                if self.per_step_targets and (target.dim() == 0 or target.shape[0] != seq.shape[0]):
                    raise ValueError(
                        f"batch[{i}]: per-step target has shape {tuple(target.shape)} but the sequence has "
                        f"length {seq.shape[0]}"
                    )
                targets.append(target)
        lengths = torch.tensor([s.shape[0] for s in sequences], dtype=torch.int64)
        padded = rnn.pad_sequence(sequences, batch_first=True, padding_value=self.padding_value)
        if not pairs:
            return padded, lengths
        if self.per_step_targets:
            target_batch = rnn.pad_sequence(targets, batch_first=True, padding_value=self.target_padding_value)
        else:
            target_batch = torch.stack(targets)
        return padded, lengths, target_batch

    def __repr__(self) -> str:
        return (f"PadCollate(padding_value={self.padding_value}, per_step_targets={self.per_step_targets}, "
                f"target_padding_value={self.target_padding_value})")


class BucketBatchSampler(torch.utils.data.Sampler):
    """A ``batch_sampler`` that yields length-bucketed batches of indices.

    Each epoch calls :func:`lessons_lib.bucket_batches` with seed
    ``seed + epoch``, so batches hold similar lengths (little padding) yet
    change from epoch to epoch. The epoch advances by one after every full
    iteration; :meth:`set_epoch` sets it explicitly.

    Args:
        lengths: ``(n,)`` lengths of the dataset's items.
        batch_size, bucket_size_multiplier, drop_last: as in ``bucket_batches``.
        seed: base seed.

    Example:
        >>> sampler = BucketBatchSampler([5, 1, 4, 2], 2, seed=0)
        >>> len(sampler), sorted(len(b) for b in sampler)
        (2, [2, 2])
    """

    def __init__(self, lengths: ArrayLike, batch_size: int, *, seed: int = 0, bucket_size_multiplier: int = 50,
                 drop_last: bool = False):
        self.lengths = as_lengths(lengths)
        self.batch_size = check_count("batch_size", batch_size, minimum=1)
        self.bucket_size_multiplier = check_count("bucket_size_multiplier", bucket_size_multiplier, minimum=1)
        self.seed = check_count("seed", seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose batches the next iteration yields."""
        self.epoch = check_count("epoch", epoch)

    def batches(self, epoch: int | None = None) -> list[np.ndarray]:
        """The batches of ``epoch`` (default: the current one), without advancing."""
        epoch = self.epoch if epoch is None else check_count("epoch", epoch)
        return bucket_batches(self.lengths, self.batch_size, seed=self.seed + epoch,
                              bucket_size_multiplier=self.bucket_size_multiplier, drop_last=self.drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.batches()
        self.epoch += 1
        for b in batches:
            yield b.tolist()

    def __len__(self) -> int:
        # The chunk sizes do not depend on the shuffle, so neither does the count.
        return len(self.batches(0))


def packing_summary(lengths: ArrayLike, *, units: int = 2, n_features: int = 2, seed: int = 0) -> dict[str, Any]:
    """Pack a seeded random batch with these lengths and run a seeded LSTM on it.

    The pure function behind the lesson 03 widget. The LSTM is float64 (weights
    from :func:`lessons_lib.random_lstm_weights`), so the numbers do not depend
    on thread counts.

    Returns:
        ``{"layout": PackedLayout, "batch_sizes": list, "sorted_indices": list,
        "h_n": (batch, units) float64 ndarray}``, ``h_n`` in the original order.

    Example:
        >>> s = packing_summary([2, 3])
        >>> s["batch_sizes"], s["sorted_indices"], s["h_n"].shape
        ([2, 2, 1], [1, 0], (2, 2))
    """
    from .synthetic import random_ragged_batch
    from .reference_lstm import random_lstm_weights

    layout = packed_layout(lengths)
    check_count("units", units, minimum=1)
    lstm = lstm_from_keras_weights(random_lstm_weights(n_features, units, seed=seed), dtype=torch.float64)
    seqs = [torch.from_numpy(a.astype(np.float64)) for a in random_ragged_batch(layout.lengths, n_features, seed=seed)]
    padded = rnn.pad_sequence(seqs, batch_first=True)
    with torch.no_grad():
        packed = rnn.pack_padded_sequence(padded, torch.from_numpy(layout.lengths), batch_first=True,
                                                enforce_sorted=False)
        _, (h_n, _) = lstm(packed)
    return {
        "layout": layout,
        "batch_sizes": packed.batch_sizes.tolist(),
        "sorted_indices": packed.sorted_indices.tolist(),
        "h_n": h_n[0].numpy().copy(),
    }
