"""Lesson 01 widget: pad one sequence and compare its final hidden state with the unpadded one.

Controls (``description``: values):

- ``pad amount``: IntSlider 0..10
- ``padding``: ToggleButtons "post" / "pre"
- ``mask``: Checkbox (True: masked steps carry the state; False: the LSTM steps through the zeros)

The result line (at most 99 characters) reads ``Result: pad 3 post, mask on -> max |h - h_ref| = 0.000000``.
"""

from __future__ import annotations


from ..padding_effects import final_state_vs_reference
from ..reference_lstm import random_lstm_weights
from ..synthetic import random_ragged_batch
from . import control_options, toggle_buttons

#: The sequence and weights the widget shows (fixed, so the browser test can recompute them).
SEQUENCE = random_ragged_batch([6], 3, seed=11)[0]
WEIGHTS = random_lstm_weights(3, 4, seed=11)


def compute(pad_amount: int = 3, padding: str = "post", use_mask: bool = False) -> dict:
    """The pure function behind the widget (see :func:`final_state_vs_reference`)."""
    return final_state_vs_reference(SEQUENCE, WEIGHTS, pad_amount, padding, use_mask)


def result_text(pad_amount: int = 3, padding: str = "post", use_mask: bool = False) -> str:
    """The exact line the widget displays for these control values."""
    r = compute(pad_amount, padding, use_mask)
    state = "on" if use_mask else "off"
    return f"Result: pad {pad_amount} {padding}, mask {state} -> max |h - h_ref| = {r['max_abs_diff']:.6f}"


def _details(r: dict) -> str:
    fmt = lambda v: "[" + ", ".join(f"{x:+.4f}" for x in v) + "]"  # noqa: E731
    return (
        "<pre>"
        f"h_ref    (unpadded)      = {fmt(r['reference'])}\n"
        f"h_padded (length {r['padded_length']:>2})   = {fmt(r['padded'])}"
        "</pre>"
    )


def final_state_widget(pad_amount: int = 3, padding: str = "post", use_mask: bool = False):
    """Build the widget: three controls, the result line and the two state vectors.

    Returns a ``VBox``; ``w.controls`` maps names to the controls and
    ``w.result`` holds the latest :func:`compute` result.
    """
    import ipywidgets as widgets

    pad = widgets.IntSlider(value=pad_amount, min=0, max=10, description="pad amount", **control_options())
    side = toggle_buttons(options=["post", "pre"], value=padding, description="padding")
    mask = widgets.Checkbox(value=use_mask, description="mask", **control_options())
    line = widgets.HTML()
    details = widgets.HTML()
    box = widgets.VBox([pad, side, mask, line, details])
    box.controls = {"pad_amount": pad, "padding": side, "use_mask": mask}

    def update(_change=None):
        values = dict(pad_amount=pad.value, padding=side.value, use_mask=mask.value)
        box.result = compute(**values)
        line.value = result_text(**values)
        details.value = _details(box.result)

    for control in (pad, side, mask):
        control.observe(update, names="value")
    update()
    return box
