"""Lesson 03 widget: pick up to 5 sequence lengths, see the PackedSequence they make.

Controls (``ipywidgets.IntSlider``, each with a unique ``description``):

- ``sequences``: how many sequences are in the batch, 1..5 (default 3);
- ``len_1`` .. ``len_5``: the length of sequence 1..5, each 1..8
  (defaults 4, 1, 3, 2, 5); lengths of sequences beyond ``sequences`` are ignored.

The widget shows the picture from :func:`lessons_lib.torch_packing.plot_packed_layout`
(always 768 x 400 px, text >= 10 pt, whatever the sliders say) in an
``ipywidgets.Image`` (``widget.plot``) and one line of text in an
``ipywidgets.HTML`` (``widget.result``),
exactly :func:`result_text` of the control values, for example::

    Result: lengths=[4, 1, 3] batch_sizes=[3, 2, 2, 1] sorted_indices=[0, 2, 1] h_n=[[...], ...]

``h_n`` is the final hidden state of a seeded float64 LSTM (2 units) in the
original batch order, rounded to 3 decimals.
"""

from __future__ import annotations

import html
import io

import ipywidgets as widgets
import numpy as np

from ..torch_packing import PLOT_DPI, PLOT_FIGSIZE, packing_summary, plot_packed_layout

__all__ = ["DEFAULTS", "MAX_LENGTH", "MAX_SEQUENCES", "packing_widget", "result_text"]

MAX_SEQUENCES = 5
MAX_LENGTH = 8
DEFAULTS = {"sequences": 3, "len_1": 4, "len_2": 1, "len_3": 3, "len_4": 2, "len_5": 5}


def _lengths(values: dict) -> list[int]:
    for name, val in values.items():
        if name not in DEFAULTS:
            raise TypeError(f"unknown control {name!r}; the controls are {list(DEFAULTS)}")
        high = MAX_SEQUENCES if name == "sequences" else MAX_LENGTH
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or not 1 <= val <= high:
            raise ValueError(f"{name} must be an int in 1..{high}, got {val!r}")
    merged = {**DEFAULTS, **values}
    return [int(merged[f"len_{i}"]) for i in range(1, int(merged["sequences"]) + 1)]


def result_text(**control_values: int) -> str:
    """The exact one-line text the widget shows for these control values.

    Example:
        >>> result_text(sequences=2, len_1=2, len_2=3)
        'Result: lengths=[2, 3] batch_sizes=[2, 2, 1] sorted_indices=[1, 0] h_n=[[-0.213, -0.009], [0.158, -0.163]]'
    """
    lengths = _lengths(control_values)
    summary = packing_summary(lengths)
    h_n = [[round(float(v), 3) + 0.0 for v in row] for row in summary["h_n"]]
    return (
        f"Result: lengths={lengths} batch_sizes={summary['batch_sizes']} "
        f"sorted_indices={summary['sorted_indices']} h_n={h_n}"
    )


def packing_widget() -> widgets.VBox:
    """Sliders for up to 5 lengths, the packed picture, and the result line.

    The returned VBox has ``.controls`` (dict description -> slider),
    ``.result`` (the HTML line) and ``.plot`` (an Image widget with the figure as PNG).
    """
    import matplotlib.pyplot as plt

    controls = {}
    for name, default in DEFAULTS.items():
        high = MAX_SEQUENCES if name == "sequences" else MAX_LENGTH
        controls[name] = widgets.IntSlider(value=default, min=1, max=high, description=name, continuous_update=False)
    result = widgets.HTML()
    # An Image widget (PNG bytes), not an Output: drawing into an Output sends display
    # messages that a plain kernel client (nbval) records as cell output.
    # A fixed display size: the PNG is always PLOT_FIGSIZE at PLOT_DPI (768 x 400 px), text >= 11 px.
    width, height = (int(round(inches * PLOT_DPI)) for inches in PLOT_FIGSIZE)
    plot = widgets.Image(format="png", width=str(width), height=str(height))

    def redraw(_change=None) -> None:
        values = {name: c.value for name, c in controls.items()}
        for i in range(1, MAX_SEQUENCES + 1):
            controls[f"len_{i}"].disabled = i > values["sequences"]
        result.value = html.escape(result_text(**values))
        ax_grid, _ = plot_packed_layout(_lengths(values))
        buffer = io.BytesIO()
        ax_grid.figure.savefig(buffer, format="png", dpi=PLOT_DPI)
        plt.close(ax_grid.figure)
        plot.value = buffer.getvalue()

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([controls["sequences"]]),
                        widgets.HBox([controls[f"len_{i}"] for i in (1, 2, 3)]),
                        widgets.HBox([controls[f"len_{i}"] for i in (4, 5)]), result, plot])
    box.controls = controls
    box.result = result
    box.plot = plot
    return box
