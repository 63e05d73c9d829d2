"""Lesson 02 widget: pick a Keras masking method and a padding, compare the LSTM's final output.

Controls (``description``: values):

- ``method``: Dropdown, one of ``"none"``, ``"mask_zero"``, ``"Masking"``,
  ``"Masking after Embedding"``, ``"explicit mask"`` (keyword ``method``)
- ``padding``: ToggleButtons ``"post"`` / ``"pre"`` (keyword ``padding``)
- ``pad amount``: IntSlider 0..8 (keyword ``pad_amount``)

The result line (an ``ipywidgets.HTML`` holding plain text, at most 99 characters) reads, e.g.,
``Result: mask_zero, pad 3 post -> max abs diff below 1e-05: padding ignored``;
below it the padded tokens, the mask the LSTM saw, and the output and
reference vectors. The pure computation is
:func:`lessons_lib.keras_masking.masking_method_output` (about 5 ms a call).
"""

from __future__ import annotations

import html

import numpy as np

from ..keras_masking import METHODS, masking_method_output
from . import control_options, toggle_buttons

__all__ = ["PAD_MAX", "masking_widget", "result_text"]

PAD_MAX = 8


def _vector(v: np.ndarray) -> str:
    # + 0.0 turns -0.0 into 0.0, so the text does not flip sign on round-off.
    return "[" + ", ".join(f"{x + 0.0:+.4f}" for x in np.round(np.asarray(v, np.float64), 4)) + "]"


def _line(r: dict) -> str:
    same = r["max_abs_diff"] < 1e-5
    diff = "below 1e-05: padding ignored" if same else f"= {r['max_abs_diff']:.4f}: padding leaks in"
    return f"Result: {r['method']}, pad {r['pad_amount']} {r['padding']} -> max abs diff {diff}"


def _details(r: dict) -> str:
    tokens = " ".join(str(int(t)) for t in r["padded_tokens"])
    seen = " ".join("1" if m else "0" for m in r["mask"])
    return html.escape(
        f"padded tokens: {tokens}\nmask LSTM saw: {seen}\n"
        f"output       : {_vector(r['output'])}\nreference    : {_vector(r['reference'])}"
    ).join(("<pre>", "</pre>"))


def result_text(method: str = "mask_zero", padding: str = "post", pad_amount: int = 3) -> str:
    """The exact line the widget displays for these control values.

    Example:
        >>> result_text("none", "pre", 0)
        'Result: none, pad 0 pre -> max abs diff below 1e-05: padding ignored'
    """
    return _line(masking_method_output(method, padding, pad_amount))


def masking_widget(method: str = "mask_zero", padding: str = "post", pad_amount: int = 3):
    """Build the widget: three controls, the result line and the mask the LSTM saw.

    Returns a ``VBox``; ``w.controls`` maps keyword names to the controls,
    ``w.line`` is the result-line widget and ``w.result`` the latest
    :func:`masking_method_output` dict.
    """
    import ipywidgets as widgets

    choose = widgets.Dropdown(options=list(METHODS), value=method, description="method", **control_options())
    side = toggle_buttons(options=["post", "pre"], value=padding, description="padding")
    amount = widgets.IntSlider(
        value=pad_amount, min=0, max=PAD_MAX, description="pad amount", continuous_update=False, **control_options()
    )
    line = widgets.HTML()
    details = widgets.HTML()
    box = widgets.VBox([choose, side, amount, line, details])
    box.controls = {"method": choose, "padding": side, "pad_amount": amount}
    box.line = line

    def update(_change=None):
        values = dict(method=choose.value, padding=side.value, pad_amount=amount.value)
        box.result = masking_method_output(**values)  # computed once, shown twice
        # Not escaped, so that w.line.value == result_text(...): the line holds no "<" or "&"
        # (a lone ">" is plain text in HTML).
        line.value = _line(box.result)
        details.value = _details(box.result)

    for control in (choose, side, amount):
        control.observe(update, names="value")
    update()
    return box
