"""Support for lesson 11 (compile, export and serve a variable-length model).

The models and the reversal below are *taught* in
``notebooks/11_compile_and_export.ipynb``, where they are written out in
plain PyTorch. This module keeps the one synced copy that the benchmark
(``bench/bench_compile.py``), the exercise checkers and the tests import;
``tests/test_export.py`` fails if the notebook's cells and this copy drift
apart.

Besides those, it holds support code only: seeded post-padded batches, a
context manager that shortens an expected error to its first line (torch's
compiler errors embed file paths and hints that change between machines),
one that keeps an exporter quiet, and a reader for the benchmark's recorded
numbers. Nothing happens on import beyond importing torch.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import pathlib
import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.export._patches import register_lstm_while_loop_decomposition
from torch.nn.utils.rnn import pack_padded_sequence

__all__ = [
    "PackedBiLSTM",
    "PaddedBiLSTM",
    "copy_packed_weights",
    "load_bench_results",
    "lstm_while_loop_export",
    "post_padded_batch",
    "quiet",
    "reverse_within_lengths",
    "short_error",
]

BENCH_RESULTS = pathlib.Path(__file__).resolve().parents[1] / "bench" / "results"


# --- taught code (synced with the lesson; tests/test_export.py checks the copy) ---------------


class PackedBiLSTM(nn.Module):
    """A bidirectional LSTM classifier that packs inside ``forward`` (the usual training code)."""

    def __init__(self, n_features: int, units: int, n_classes: int):
        super().__init__()
        self.lstm = nn.LSTM(n_features, units, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * units, n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)  # h_n: (2 directions, batch, units), in batch order
        return self.head(torch.cat([h_n[0], h_n[1]], dim=-1))


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse the first ``lengths[b]`` steps of each row of ``x``; padding stays at the end."""
    t = torch.arange(x.shape[1], device=x.device)
    index = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (batch, time)
    return torch.gather(x, 1, index[:, :, None].expand(-1, -1, x.shape[2]))


class PaddedBiLSTM(nn.Module):
    """The same classifier without packing.

    It runs over the padding and reads each row at its last real step.
    """

    def __init__(self, n_features: int, units: int, n_classes: int):
        super().__init__()
        self.forward_lstm = nn.LSTM(n_features, units, batch_first=True)
        self.backward_lstm = nn.LSTM(n_features, units, batch_first=True)
        self.head = nn.Linear(2 * units, n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        rows, last = torch.arange(x.shape[0], device=x.device), lengths - 1
        out_fw, _ = self.forward_lstm(x)
        out_bw, _ = self.backward_lstm(reverse_within_lengths(x, lengths))
        return self.head(torch.cat([out_fw[rows, last], out_bw[rows, last]], dim=-1))


def copy_packed_weights(packed: PackedBiLSTM, padded: PaddedBiLSTM) -> PaddedBiLSTM:
    """Copy a PackedBiLSTM's weights into a PaddedBiLSTM (``*_reverse`` to the backward LSTM)."""
    with torch.no_grad():
        for name, param in packed.lstm.named_parameters():
            target = padded.backward_lstm if name.endswith("_reverse") else padded.forward_lstm
            getattr(target, name.removesuffix("_reverse")).copy_(param)
        padded.head.load_state_dict(packed.head.state_dict())
    return padded


@contextlib.contextmanager
def lstm_while_loop_export() -> Iterator[None]:
    """torch 2.13's while_loop LSTM decomposition, usable in a process that already ran an LSTM."""
    lstm_op = torch.ops.aten.lstm.input
    # the patch edits py_kernels but leaves this cache stale (torch 2.13)
    lstm_op._dispatch_cache.clear()
    try:
        with register_lstm_while_loop_decomposition():
            yield
    finally:
        lstm_op._dispatch_cache.clear()


# --- support code ------------------------------------------------------------------------------


def post_padded_batch(lengths: Any, n_features: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded, zero post-padded float32 batch and its int64 lengths, as torch tensors.

    Args:
        lengths: one positive length per sequence.
        n_features: features per step.
        seed: seed of the standard-normal values.

    Returns:
        ``(x, lengths)`` with ``x`` of shape ``(batch, max(lengths), n_features)``.

    Example:
        >>> x, lengths = post_padded_batch([3, 1], 2)
        >>> tuple(x.shape), lengths.tolist(), bool((x[1, 1:] == 0).all())
        ((2, 3, 2), [3, 1], True)
    """
    from .padding import pad_sequences
    from .synthetic import random_ragged_batch

    try:
        arr = np.asarray(lengths)
    except Exception as exc:  # an object numpy cannot take
        raise TypeError(f"lengths must be a sequence of positive integers, got {type(lengths).__name__}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"lengths must be a non-empty 1-D sequence, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"lengths must hold integers, got dtype {arr.dtype}")
    if (arr < 1).any():
        bad = int(np.argmax(arr < 1))
        raise ValueError(f"lengths[{bad}] = {int(arr[bad])}; every length must be >= 1 (packing rejects 0)")
    padded = pad_sequences(random_ragged_batch(arr, n_features, seed=seed), padding="post")
    return torch.from_numpy(np.ascontiguousarray(padded, dtype=np.float32)), torch.as_tensor(arr, dtype=torch.int64)


_ABS_PATH = re.compile(r"(?<![\w.])/(?:[\w.+-]+/)+([\w.+-]+)")


def _short_message(exc: BaseException, max_lines: int) -> str:
    lines = [line.rstrip() for line in str(exc).splitlines() if line.strip()]
    text = "\n".join(lines[:max_lines]) if lines else type(exc).__name__
    return _ABS_PATH.sub(r"\1", text)  # a path differs between machines: keep the file name only


@contextlib.contextmanager
def short_error(max_lines: int = 1) -> Iterator[None]:
    """Re-raise an error from the block as the same exception type, with only its first lines.

    torch's compiler and exporter errors run to dozens of lines of hints,
    file paths and debug context. A lesson shows the sentence that explains
    the failure; absolute paths in it are cut to the file name.

    Example:
        >>> with short_error():
        ...     raise ValueError("first line\\nsecond line in /usr/lib/x.py")
        Traceback (most recent call last):
        ValueError: first line
    """
    if not isinstance(max_lines, int) or isinstance(max_lines, bool) or max_lines < 1:
        raise ValueError(f"max_lines must be a positive int, got {max_lines!r}")
    try:
        yield
    except Exception as exc:
        cls = type(exc)
        short = cls.__new__(cls)
        try:
            Exception.__init__(short, _short_message(exc, max_lines))
            str(short)
        except Exception:  # a class whose str() needs its own constructor's fields
            short = RuntimeError(f"{cls.__name__}: {_short_message(exc, max_lines)}")
        raise short from None


@contextlib.contextmanager
def quiet(*loggers: str) -> Iterator[io.StringIO]:
    """Silence Python warnings, stdout and the named loggers inside the block.

    Exporters print progress and log notices (``torch.onnx`` warns that
    torchvision is not installed; ``model.export`` prints the artifact's
    path); a stored lesson output must not depend on them. What was printed
    is kept in the yielded buffer.

    Example:
        >>> with quiet("torch.onnx") as captured:
        ...     print("progress")
        >>> captured.getvalue()
        'progress\\n'
    """
    for name in loggers:
        if not isinstance(name, str):
            raise TypeError(f"loggers must be logger names (str), got {type(name).__name__}")
    buffer = io.StringIO()
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in loggers]
    try:
        for logger, _ in saved:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(buffer):
            warnings.simplefilter("ignore")
            yield buffer
    finally:
        for logger, level in saved:
            logger.setLevel(level)


def load_bench_results(name: str = "compile") -> dict:
    """The numbers that ``bench/run_all.py --only NAME`` recorded in ``bench/results/NAME.json``.

    Example:
        >>> load_bench_results("compile")["sections"] != {}
        True
    """
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"name must be a benchmark name such as 'compile', got {name!r}")
    path = BENCH_RESULTS / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no recorded results for benchmark {name!r}: run `python bench/run_all.py --only {name}`"
        )
    return json.loads(path.read_text())
