"""Lesson 04 widget: how a pooled vector drifts as padding grows.

Controls (each a standard ipywidget with a unique ``description``):

* ``pooling``: Dropdown, one of "mean", "max", "last"
  (``MaskedMeanPooling1D``, ``MaskedMaxPooling1D``, ``LastValidStep``);
* ``masked``: Checkbox, True passes the true mask, False passes none;
* ``pad amount``: IntSlider, 0 to 20, zero steps appended to the sequence.

The result line (an ``ipywidgets.HTML`` holding plain text, at most 99 characters) is exactly
``result_text(pooling=..., masked=..., pad_amount=...)``, for example
``Result: mean pooling, masked, pad 4; pooled [0.4900, 0.3180, 0.5260]; drift 0.0000``.
The pure computation is :func:`lessons_lib.keras_layers.pooling_drift`.
"""

from __future__ import annotations

import html
import os

from ..notebook_setup import KERNEL_ENV
from . import control_options

__all__ = ["pooling_drift_widget", "result_text", "PAD_MAX"]

PAD_MAX = 20


def result_text(pooling: str = "mean", masked: bool = True, pad_amount: int = 0) -> str:
    """The one-line text the widget shows for these control values."""
    for key, val in KERNEL_ENV.items():  # quiet TensorFlow if this call imports it first
        os.environ.setdefault(key, val)
    from ..keras_layers import pooling_drift

    r = pooling_drift(pooling, bool(masked), int(pad_amount))
    pooled = ", ".join(f"{v:.4f}" for v in r["pooled"])
    how = "masked" if masked else "unmasked"
    return f"Result: {pooling} pooling, {how}, pad {int(pad_amount)}; pooled [{pooled}]; drift {r['drift']:.4f}"


def pooling_drift_widget(pooling: str = "mean", masked: bool = False, pad_amount: int = 4):
    """A VBox of the three controls and the result line.

    The returned box has ``.controls`` (a dict: "pooling", "masked",
    "pad_amount") and ``.result`` (the HTML line), so code can drive it:
    ``w.controls["pad_amount"].value = 8; w.result.value``.
    """
    import ipywidgets as widgets

    controls = {
        "pooling": widgets.Dropdown(
            options=["mean", "max", "last"], value=pooling, description="pooling", **control_options()
        ),
        "masked": widgets.Checkbox(value=masked, description="masked", **control_options()),
        "pad_amount": widgets.IntSlider(
            value=pad_amount, min=0, max=PAD_MAX, description="pad amount", continuous_update=False,
            **control_options(),
        ),
    }
    result = widgets.HTML()

    def update(_change=None) -> None:
        text = result_text(**{name: c.value for name, c in controls.items()})
        result.value = html.escape(text)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = widgets.VBox([*controls.values(), result])
    box.controls = controls
    box.result = result
    return box
