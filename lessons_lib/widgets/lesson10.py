"""Lesson 10 widget: pick a model and a padding amount, see each sequence's gap to running it alone.

Controls (``description``: values):

- ``model``: Dropdown, one of :data:`lessons_lib.beyond.MODELS`
  ("stacked", "bidirectional", "GRU", "+attention", "+Conv1D"), default "stacked";
- ``pad amount``: IntSlider 0..6 extra padding steps, default 2;
- ``padding``: ToggleButtons "post" / "pre", default "post".

The result line (at most 99 characters) reads, for example::

    Result: stacked, pad 2 post -> largest gap: masked 0.0000, unmasked 0.2286

where a sequence's gap is the max abs difference between its result in the
padded batch and the same sequence run alone, and "largest" is over the three
sequences (lengths 5, 3, 2); the lines below the result list every sequence's gap
(:func:`lessons_lib.beyond.padding_gaps`, NumPy, about 2 ms an update).
"""

from __future__ import annotations

import html

from ..beyond import LENGTHS, MAX_PAD, MODELS, padding_gaps
from . import control_options, toggle_buttons

__all__ = ["DEFAULTS", "gaps_widget", "result_text"]

DEFAULTS = {"model": "stacked", "pad_amount": 2, "padding": "post"}


def result_text(model: str = "stacked", pad_amount: int = 2, padding: str = "post") -> str:
    """The exact line the widget shows for these control values.

    Example:
        >>> result_text("GRU", 0, "post")
        'Result: GRU, pad 0 post -> largest gap: masked 0.0000, unmasked 0.5216'
    """
    gaps = padding_gaps(model, pad_amount, padding)
    return (
        f"Result: {model}, pad {pad_amount} {padding} -> largest gap: masked {max(gaps['masked']):.4f}, "
        f"unmasked {max(gaps['unmasked']):.4f}"
    )


def _details(model: str, pad_amount: int, padding: str) -> str:
    gaps = padding_gaps(model, pad_amount, padding)
    rows = "\n".join(
        f"length {n}: masked {m:.4f}   unmasked {u:.4f}" for n, m, u in zip(LENGTHS, gaps["masked"], gaps["unmasked"])
    )
    return f"<pre>{html.escape(rows)}</pre>"


def gaps_widget(model: str = "stacked", pad_amount: int = 2, padding: str = "post"):
    """Build the widget: three controls, the result line and a per-sequence table.

    Returns a ``VBox``; ``w.controls`` maps ``model``, ``pad_amount``, ``padding``
    to their controls, ``w.line`` is the HTML result line and ``w.text`` the same line as plain text.
    """
    import ipywidgets as widgets

    chooser = widgets.Dropdown(options=list(MODELS), value=model, description="model", **control_options())
    pad = widgets.IntSlider(value=pad_amount, min=0, max=MAX_PAD, description="pad amount", **control_options())
    side = toggle_buttons(options=["post", "pre"], value=padding, description="padding")
    line = widgets.HTML()
    details = widgets.HTML()
    box = widgets.VBox([chooser, pad, side, line, details])
    box.controls = {"model": chooser, "pad_amount": pad, "padding": side}
    box.line = line

    def update(_change=None) -> None:
        values = {name: c.value for name, c in box.controls.items()}
        box.text = result_text(**values)
        line.value = html.escape(box.text)
        details.value = _details(**values)

    for control in box.controls.values():
        control.observe(update, names="value")
    update()
    return box
