"""Lesson 12 widget: the doctor's per-sequence differences for one zoo model, side and amount.

Controls (each ``description`` is unique):

- ``"model"``: Dropdown of :data:`lessons_lib.doctor_zoo.WIDGET_MODELS`;
- ``"padding"``: ToggleButtons, ``"post"`` or ``"pre"``;
- ``"extra padding"``: IntSlider, 0 to ``WIDGET_MAX_EXTRA``, padded steps
  beyond the longest sequence.

children[3] is an ``ipywidgets.HTML`` holding one plain-text line, exactly
:func:`result_text` of the control values (at most 99 characters), for example::

    Result: torch_crop, pre +5: NOT invariant, 8 of 8 differ (max 0.511, seq 5)

(``pre +5``: pre-padding, 5 extra steps; ``seq 5``: the sequence that differs most).

children[4] shows one bar per sequence: its difference from the unpadded
result, on a log scale from 1e-7 to 1 (decoration only). The numbers come
from :func:`lessons_lib.doctor_zoo.padding_differences`, computed once per
model for every side and amount (the widget computes all of them when it is
made), so an update only looks them up.
"""

from __future__ import annotations

import html
import math
import os

from ..notebook_setup import KERNEL_ENV
from . import control_options, toggle_buttons

__all__ = ["bars_text", "make_widget", "result_text"]

BAR_WIDTH = 28
_LOG_LOW, _LOG_HIGH = -7.0, 0.0


def _report(model: str):
    for key, val in KERNEL_ENV.items():  # quiet TensorFlow if this call imports it first
        os.environ.setdefault(key, val)
    from ..doctor_zoo import WIDGET_MODELS, padding_differences

    if model not in WIDGET_MODELS:
        raise ValueError(f"model must be one of {WIDGET_MODELS}, got {model!r}")
    return padding_differences(model)


def result_text(model: str = "keras_mask_zero", padding: str = "post", extra_padding: int = 0) -> str:
    """The one line the widget shows for these control values (see the module docstring)."""
    report = _report(model)
    rows = [r for r in report.rows if r["padding"] == padding and r["extra_padding"] == int(extra_padding)]
    if not rows:
        raise ValueError(f"no case padding={padding!r}, extra_padding={extra_padding!r}")
    failing = sum(not r["ok"] for r in rows)
    head = f"Result: {model}, {padding} +{int(extra_padding)}: "
    if not failing:
        return head + f"invariant, 0 of {len(rows)} differ (all < {report.atol:.0e})"
    worst = max(rows, key=lambda r: r["max_diff"])
    size = "an error" if math.isinf(worst["max_diff"]) else f"{worst['max_diff']:.3g}"
    return head + f"NOT invariant, {failing} of {len(rows)} differ (max {size}, seq {worst['sequence']})"


def bars_text(model: str = "keras_mask_zero", padding: str = "post", extra_padding: int = 0) -> str:
    """One text bar per sequence: its difference on a log scale (1e-7 .. 1), and the number."""
    report = _report(model)
    lines = []
    for r in report.rows:
        if r["padding"] != padding or r["extra_padding"] != int(extra_padding):
            continue
        d = r["max_diff"]
        if r["ok"]:
            n, label = 0, f"< {report.atol:.0e}"
        else:
            level = 1.0 if math.isinf(d) else (math.log10(d) - _LOG_LOW) / (_LOG_HIGH - _LOG_LOW)
            n, label = max(1, min(BAR_WIDTH, round(level * BAR_WIDTH))), ("error" if math.isinf(d) else f"{d:.3g}")
        lines.append(f"seq {r['sequence']} (len {r['length']:2d}) |{'#' * n}{'.' * (BAR_WIDTH - n)}| {label}")
    return "\n".join(lines)


def make_widget(model: str = "keras_mask_zero", padding: str = "post", extra_padding: int = 0):
    """A VBox: [model dropdown, padding toggle, extra padding slider, result line, bars].

    Computes every model's differences first (a few seconds, once). The box
    has ``.controls`` ("model", "padding", "extra_padding") and ``.result``.
    """
    import ipywidgets as widgets

    from ..doctor_zoo import WIDGET_MAX_EXTRA, WIDGET_MODELS

    for name in WIDGET_MODELS:
        _report(name)
    controls = {
        "model": widgets.Dropdown(options=list(WIDGET_MODELS), value=model, description="model", **control_options()),
        "padding": toggle_buttons(options=["post", "pre"], value=padding, description="padding"),
        "extra_padding": widgets.IntSlider(
            value=extra_padding, min=0, max=WIDGET_MAX_EXTRA, description="extra padding", continuous_update=False,
            **control_options(),
        ),
    }
    result, bars = widgets.HTML(), widgets.HTML()

    def update(_change=None) -> None:
        values = {name: c.value for name, c in controls.items()}
        result.value = html.escape(result_text(**values))
        bars.value = "<pre>" + html.escape(bars_text(**values)) + "</pre>"

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = widgets.VBox([*controls.values(), result, bars])
    box.controls, box.result, box.bars = controls, result, bars
    return box
