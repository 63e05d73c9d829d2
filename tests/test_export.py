"""lessons_lib.export: the synced copy of lesson 11's taught code, and its support helpers."""

from __future__ import annotations

import ast
import json
import pathlib
import warnings

import numpy as np
import pytest
import torch

from lessons_lib import export as ex

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "11_compile_and_export.ipynb"
TAUGHT = ("PackedBiLSTM", "reverse_within_lengths", "PaddedBiLSTM", "copy_packed_weights", "lstm_while_loop_export")


def test_taught_code_is_saved_from_the_lesson():
    """Each definition lesson 11 teaches sits in a `#@save lessons_lib.export` cell.

    tests/test_taught_code.py checks that those cells equal lessons_lib/export.py byte for byte.
    """
    saved = set()
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("#@save lessons_lib.export\n"):
            saved |= {n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert set(TAUGHT) <= saved, f"not in a #@save cell of lesson 11: {sorted(set(TAUGHT) - saved)}"


def _models(seed: int = 0, n_features: int = 3, units: int = 5, n_classes: int = 2):
    torch.manual_seed(seed)
    packed = ex.PackedBiLSTM(n_features, units, n_classes).eval()
    padded = ex.copy_packed_weights(packed, ex.PaddedBiLSTM(n_features, units, n_classes)).eval()
    return packed, padded


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_padded_form_equals_packed_on_post_padded_batches(seed):
    packed, padded = _models(seed)
    lengths = np.random.default_rng(seed).integers(1, 12, size=6)
    x, lengths_t = ex.post_padded_batch(lengths, 3, seed=seed)
    with torch.no_grad():
        assert torch.allclose(padded(x, lengths_t), packed(x, lengths_t), atol=1e-5)


def test_padded_form_differs_from_packed_under_pre_padding():
    """The gather at lengths - 1 is for post-padding; pre-padded input must not pass silently."""
    packed, padded = _models()
    x, lengths = ex.post_padded_batch([5, 2, 3], 3, seed=4)
    pre = torch.stack([torch.roll(row, int(x.shape[1] - n), dims=0) for row, n in zip(x, lengths)])
    with torch.no_grad():
        assert not torch.allclose(padded(pre, lengths), packed(x, lengths), atol=1e-3)


def test_reverse_within_lengths_keeps_padding_at_the_end_and_is_an_involution():
    x = torch.tensor([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0], [6, 7, 8, 9, 10]])[:, :, None]
    lengths = torch.tensor([3, 2, 5])
    rev = ex.reverse_within_lengths(x, lengths)
    assert rev[:, :, 0].tolist() == [[3, 2, 1, 0, 0], [5, 4, 0, 0, 0], [10, 9, 8, 7, 6]]
    assert torch.equal(ex.reverse_within_lengths(rev, lengths), x)
    assert x[0, 0, 0] == 1  # input untouched


def test_copy_packed_weights_maps_reverse_parameters_to_the_backward_lstm():
    packed, padded = _models()
    assert torch.equal(padded.backward_lstm.weight_hh_l0, packed.lstm.weight_hh_l0_reverse)
    assert torch.equal(padded.forward_lstm.bias_ih_l0, packed.lstm.bias_ih_l0)
    assert torch.equal(padded.head.weight, packed.head.weight)


def test_post_padded_batch_shapes_zero_padding_and_seed():
    x, lengths = ex.post_padded_batch([3, 1, 2], 4, seed=5)
    assert tuple(x.shape) == (3, 3, 4) and x.dtype == torch.float32 and lengths.dtype == torch.int64
    assert bool((x[1, 1:] == 0).all()) and bool((x[2, 2:] == 0).all()) and bool((x[1, 0] != 0).all())
    assert torch.equal(x, ex.post_padded_batch([3, 1, 2], 4, seed=5)[0])
    assert not torch.equal(x, ex.post_padded_batch([3, 1, 2], 4, seed=6)[0])


@pytest.mark.parametrize(
    ("lengths", "exc", "match"),
    [
        ([3, 0], ValueError, r"lengths\[1\] = 0"),
        ([2, -1], ValueError, r"lengths\[1\] = -1"),
        ([], ValueError, "non-empty"),
        ([[1, 2]], ValueError, "1-D"),
        ([1.5, 2], TypeError, "integers"),
        (["a"], TypeError, "integers"),
        (object(), (TypeError, ValueError), "lengths"),
    ],
)
def test_post_padded_batch_rejects_bad_lengths(lengths, exc, match):
    with pytest.raises(exc, match=match):
        ex.post_padded_batch(lengths, 2)


def test_short_error_keeps_type_and_first_lines_and_cuts_paths():
    with pytest.raises(KeyError) as info:
        with ex.short_error():
            raise KeyError("one")
    assert type(info.value) is KeyError
    with pytest.raises(RuntimeError) as info:
        with ex.short_error(max_lines=2):
            raise RuntimeError("first in /usr/lib/python3/site-packages/torch/nn/utils/rnn.py\n\nsecond\nthird")
    assert str(info.value) == "first in rnn.py\nsecond"
    with ex.short_error():
        pass  # no error: nothing happens


def test_short_error_with_a_torch_compiler_error():
    packed, _ = _models()
    x, lengths = ex.post_padded_batch([3, 2], 3)
    torch._dynamo.reset()
    with pytest.raises(torch._dynamo.exc.Unsupported) as info:
        with ex.short_error():
            torch.compile(packed, fullgraph=True, backend="eager")(x, lengths)
    assert str(info.value) == "Attempted to call function marked as skipped"
    torch._dynamo.reset()


def test_short_error_falls_back_when_the_class_needs_its_own_constructor():
    class Picky(Exception):
        def __init__(self, code, text):
            super().__init__(text)
            self.code = code

        def __str__(self):
            return f"{self.code}: {self.args[0]}"

    with pytest.raises(Exception) as info:
        with ex.short_error():
            raise Picky(3, "bad\nmore")
    assert "bad" in str(info.value) and "more" not in str(info.value)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_short_error_rejects_bad_max_lines(bad):
    with pytest.raises(ValueError, match="max_lines"):
        with ex.short_error(max_lines=bad):
            pass


def test_quiet_captures_stdout_warnings_and_restores_logger_levels():
    import logging

    logger = logging.getLogger("lessons_lib.test_quiet")
    logger.setLevel(logging.INFO)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with ex.quiet("lessons_lib.test_quiet") as captured:
            print("hello")
            warnings.warn("hidden")
            assert logger.level == logging.ERROR
    assert captured.getvalue() == "hello\n" and not seen
    assert logger.level == logging.INFO
    with pytest.raises(TypeError, match="logger names"):
        with ex.quiet(3):
            pass


def test_load_bench_results_reads_the_committed_compile_json():
    recorded = ex.load_bench_results("compile")
    (section,) = recorded["sections"].values()
    assert section["conditions"]["threads"] == 1 and section["conditions"]["batch"] == 64
    assert {"eager padded", "compiled padded", "eager packed"} <= set(section["times_s"])
    assert section["compile_warmup_s"] > 0 and section["packed_steps"] < section["padded_steps"]


@pytest.mark.parametrize("bad", ["../etc", "", 3, None, "Compile"])
def test_load_bench_results_rejects_bad_names(bad):
    with pytest.raises(ValueError, match="name"):
        ex.load_bench_results(bad)


def test_load_bench_results_missing_file_says_how_to_make_it():
    with pytest.raises(FileNotFoundError, match="--only nosuchbench"):
        ex.load_bench_results("nosuchbench")


_PATCH_SCRIPT = """
import torch
from torch.export._patches import register_lstm_while_loop_decomposition
from lessons_lib import export as ex

torch.manual_seed(0)
packed = ex.PackedBiLSTM(3, 4, 2).eval()
padded = ex.copy_packed_weights(packed, ex.PaddedBiLSTM(3, 4, 2)).eval()
x, lengths = ex.post_padded_batch([6, 3, 5, 2], 3, seed=0)
x_b, lengths_b = ex.post_padded_batch([9, 1, 4], 3, seed=1)
batch, time = torch.export.Dim("batch"), torch.export.Dim("time")
shapes = {"x": {0: batch, 1: time}, "lengths": {0: batch}}


def export(patch):
    try:
        with ex.quiet(), patch():
            program = torch.export.export(padded, (x, lengths), dynamic_shapes=shapes)
    except Exception as exc:
        return type(exc).__name__
    with torch.no_grad():
        return "ok" if torch.allclose(program.module()(x_b, lengths_b), packed(x_b, lengths_b), atol=1e-5) else "wrong"


import contextlib
import sys

patches = {"patch": register_lstm_while_loop_decomposition, "none": contextlib.nullcontext,
           "cleared": ex.lstm_while_loop_export}
print(" ".join(export(patches[name]) for name in sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        # a fresh process: the patch works, and the cache then keeps the while_loop kernel
        (["patch", "none"], ["ok", "ok"]),
        # the unrolling decomposition cached first: the patch has no effect until the cache is cleared
        (["none", "patch", "cleared"], ["UserError", "UserError", "ok"]),
    ],
)
def test_while_loop_patch_needs_a_fresh_dispatch_cache(sequence, expected):
    """The lesson's claim about torch 2.13's patch, measured in fresh processes."""
    import os
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _PATCH_SCRIPT, *sequence], capture_output=True, text=True,
                         timeout=300, env={k: v for k, v in os.environ.items() if k != "TORCH_LOGS"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == expected, run.stdout
