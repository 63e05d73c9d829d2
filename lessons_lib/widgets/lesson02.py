"""Lesson 02 widget: pick a Keras masking method and a padding, compare the LSTM's final output.

Controls (``description``: values):

- ``method``: Dropdown, one of ``"none"``, ``"mask_zero"``, ``"Masking"``,
  ``"Masking after Embedding"``, ``"explicit mask"`` (keyword ``method``)
- ``padding``: ToggleButtons ``"post"`` / ``"pre"`` (keyword ``padding``)
- ``pad amount``: IntSlider 0..8 (keyword ``pad_amount``)

The result line (an ``ipywidgets.HTML`` holding plain text) reads, e.g.,
``Result: mask_zero, pad 3 post -> output [...] vs reference [...], max abs diff < 1e-05``.
The pure computation is :func:`lessons_lib.keras_masking.masking_method_output`.
"""

from __future__ import annotations

import numpy as np

from ..keras_masking import METHODS, masking_method_output

PAD_MAX = 8


def _vector(v: np.ndarray) -> str:
    # + 0.0 turns -0.0 into 0.0, so the text does not flip sign on round-off.
    return "[" + ", ".join(f"{x + 0.0:+.4f}" for x in np.round(np.asarray(v, np.float64), 4)) + "]"


def result_text(method: str = "mask_zero", padding: str = "post", pad_amount: int = 3) -> str:
    """The exact line the widget displays for these control values."""
    r = masking_method_output(method, padding, pad_amount)
    diff = "< 1e-05" if r["max_abs_diff"] < 1e-5 else f"= {r['max_abs_diff']:.4f}"
    return (
        f"Result: {method}, pad {pad_amount} {padding} -> output {_vector(r['output'])} "
        f"vs reference {_vector(r['reference'])}, max abs diff {diff}"
    )


def masking_widget(method: str = "mask_zero", padding: str = "post", pad_amount: int = 3):
    """Build the widget: three controls, the result line and the mask the LSTM saw.

    Returns a ``VBox``; ``w.controls`` maps keyword names to the controls,
    ``w.line`` is the result-line widget and ``w.result`` the latest
    :func:`masking_method_output` dict.
    """
    import ipywidgets as widgets

    choose = widgets.Dropdown(options=list(METHODS), value=method, description="method")
    side = widgets.ToggleButtons(options=["post", "pre"], value=padding, description="padding")
    amount = widgets.IntSlider(
        value=pad_amount, min=0, max=PAD_MAX, description="pad amount", continuous_update=False
    )
    line = widgets.HTML()
    details = widgets.HTML()
    box = widgets.VBox([choose, side, amount, line, details])
    box.controls = {"method": choose, "padding": side, "pad_amount": amount}
    box.line = line

    def update(_change=None):
        values = dict(method=choose.value, padding=side.value, pad_amount=amount.value)
        box.result = masking_method_output(**values)
        line.value = result_text(**values)
        tokens = " ".join(str(int(t)) for t in box.result["padded_tokens"])
        seen = " ".join("1" if m else "0" for m in box.result["mask"])
        details.value = f"<pre>padded tokens: {tokens}\nmask LSTM saw: {seen}</pre>"

    for control in (choose, side, amount):
        control.observe(update, names="value")
    update()
    return box
