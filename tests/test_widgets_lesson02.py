"""Tests for the lesson 02 widget (driven from code, no browser)."""

from __future__ import annotations

import os

import pytest

import lessons_lib as ll

os.environ.update(ll.KERNEL_ENV)

pytest.importorskip("ipywidgets")

from lessons_lib import keras_masking as km  # noqa: E402
from lessons_lib.widgets import lesson02  # noqa: E402


def test_result_text_format():
    text = lesson02.result_text("mask_zero", "post", 3)
    assert text.startswith("Result: mask_zero, pad 3 post -> output [")
    assert text.endswith("max abs diff < 1e-05")
    assert "\n" not in text
    bug = lesson02.result_text("Masking after Embedding", "post", 3)
    assert "max abs diff = 0." in bug
    assert bug.split("->")[1] == lesson02.result_text("none", "post", 3).split("->")[1]


def test_widget_line_follows_controls():
    w = lesson02.masking_widget()
    descriptions = [c.description for c in w.controls.values()]
    assert descriptions == ["method", "padding", "pad amount"]
    assert list(w.controls["method"].options) == list(km.METHODS)
    assert w.controls["pad_amount"].min == 0 and w.controls["pad_amount"].max == lesson02.PAD_MAX
    assert w.line.value == lesson02.result_text("mask_zero", "post", 3)
    w.controls["method"].value = "none"
    w.controls["padding"].value = "pre"
    w.controls["pad_amount"].value = 5
    assert w.line.value == lesson02.result_text("none", "pre", 5)
    assert w.result["pad_amount"] == 5 and w.result["method"] == "none"


def test_result_text_rejects_bad_values():
    with pytest.raises(ValueError, match="method must be one of"):
        lesson02.result_text("bogus", "post", 1)
