"""Lesson 03 widget: pick up to 5 sequence lengths, see the PackedSequence they make.

Controls (``ipywidgets.IntSlider``, each with a unique ``description``):

- ``sequences``: how many sequences are in the batch, 1..5 (default 3);
- ``len_1`` .. ``len_5``: the length of sequence 1..5, each 1..8
  (defaults 4, 1, 3, 2, 5); lengths of sequences beyond ``sequences`` are ignored.

The widget shows one line of text in an ``ipywidgets.HTML`` (``widget.result``),
exactly :func:`result_text` of the control values (at most 99 characters), for example::

    Result: lengths=[4, 1, 3] batch_sizes=[3, 2, 2, 1] sorted_indices=[0, 2, 1]

then ``h_n``, the final hidden state of a seeded float64 LSTM (2 units) in the
original batch order, rounded to 3 decimals (``widget.details``), and the picture
of :func:`lessons_lib.torch_packing.plot_packed_layout` (the padded grid, each
real cell numbered with its row of ``packed.data``, and the data rows grouped by
time step), drawn as an HTML table by :func:`layout_html` (``widget.plot``):
matplotlib takes 0.3-0.6 s to draw and encode that figure, too slow for a slider.
"""

from __future__ import annotations

import html
import io

import ipywidgets as widgets
import numpy as np

from ..torch_packing import packed_layout, packing_summary
from . import control_options

__all__ = ["DEFAULTS", "MAX_LENGTH", "MAX_SEQUENCES", "h_n_text", "layout_html", "packing_widget", "result_text"]

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
        'Result: lengths=[2, 3] batch_sizes=[2, 2, 1] sorted_indices=[1, 0]'
    """
    lengths = _lengths(control_values)
    layout = packed_layout(lengths)
    return (
        f"Result: lengths={lengths} batch_sizes={layout.batch_sizes.tolist()} "
        f"sorted_indices={layout.sorted_indices.tolist()}"
    )


def h_n_text(**control_values: int) -> str:
    """The final hidden state line below the result (``packing_summary``'s ``h_n``, 3 decimals).

    Example:
        >>> h_n_text(sequences=2, len_1=2, len_2=3)
        'h_n (original order) = [[-0.213, -0.009], [0.158, -0.163]]'
    """
    summary = packing_summary(_lengths(control_values))
    h_n = [[round(float(v), 3) + 0.0 for v in row] for row in summary["h_n"]]
    return f"h_n (original order) = {h_n}"


# tab10, the colours plot_packed_layout gives sequences 0..4
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
_CELL = "display:inline-block;box-sizing:border-box;text-align:center;font:12px/24px monospace;height:24px;"


def _cell(text: str, width: int, colour: str | None) -> str:
    look = f"background:{colour};color:white;" if colour else "background:#e6e6e6;color:gray;"
    return f'<span style="{_CELL}width:{width}px;margin:1px;{look}">{html.escape(text)}</span>'


def layout_html(lengths: list[int]) -> str:
    """The picture of ``plot_packed_layout(lengths)`` as HTML: the padded grid, then the data rows.

    Top: one row per sequence ``b`` (label ``b{b} (len n)``), one cell per time step, each
    real cell showing the row of ``packed.data`` it lands in, padding grey ("pad").
    Bottom: the rows of ``packed.data``, each labelled with its sequence, in groups of
    ``batch_sizes[t]`` (one group per time step ``t``).

    Example:
        >>> page = layout_html([2, 1])
        >>> page.count(">pad<"), page.count(">b0<"), "batch_sizes = [2, 1]" in page
        (1, 2, True)
    """
    layout = packed_layout(lengths)
    grid = layout.index_grid
    head = "".join(_cell(f"t{t}", 36, None).replace("background:#e6e6e6;", "") for t in range(grid.shape[1]))
    rows = [f'<div><span style="{_CELL}width:86px;">time step</span>{head}</div>']
    for b, n in enumerate(layout.lengths.tolist()):
        cells = "".join(
            _cell(str(r), 36, _COLOURS[b]) if r >= 0 else _cell("pad", 36, None) for r in grid[b].tolist()
        )
        rows.append(f'<div><span style="{_CELL}width:86px;">b{b} (len {n})</span>{cells}</div>')
    starts = np.concatenate([[0], np.cumsum(layout.batch_sizes)[:-1]]).tolist()
    groups = []
    for t, (start, size) in enumerate(zip(starts, layout.batch_sizes.tolist())):
        seqs = layout.row_sequence[start:start + size].tolist()
        cells = "".join(_cell(f"b{b}", 22, _COLOURS[b]) for b in seqs)
        groups.append(
            f'<span style="display:inline-block;border-left:2px solid black;padding:0 2px;">{cells}'
            f'<br><span style="font:11px monospace;">t{t}</span></span>'
        )
    return (
        f"<div><b>padded batch, lengths {layout.lengths.tolist()}</b> (number in a cell = row of packed.data)"
        + "".join(rows)
        + f"<b>packed.data, grouped by time step t: batch_sizes = {layout.batch_sizes.tolist()}</b>"
        + f'<div style="white-space:nowrap;">{"".join(groups)}</div></div>'
    )


def packing_widget() -> widgets.VBox:
    """Sliders for up to 5 lengths, the result line, ``h_n`` and the packed picture.

    The returned VBox has ``.controls`` (dict description -> slider),
    ``.result`` (the HTML line), ``.details`` (the ``h_n`` line) and ``.plot``
    (an HTML widget holding :func:`layout_html`).
    """
    controls = {}
    for name, default in DEFAULTS.items():
        high = MAX_SEQUENCES if name == "sequences" else MAX_LENGTH
        controls[name] = widgets.IntSlider(
            value=default, min=1, max=high, description=name, continuous_update=False, **control_options()
        )
    result = widgets.HTML()
    details = widgets.HTML()
    plot = widgets.HTML()

    def redraw(_change=None) -> None:
        values = {name: c.value for name, c in controls.items()}
        for i in range(1, MAX_SEQUENCES + 1):
            controls[f"len_{i}"].disabled = i > values["sequences"]
        result.value = html.escape(result_text(**values))
        details.value = f"<pre>{html.escape(h_n_text(**values))}</pre>"
        plot.value = layout_html(_lengths(values))

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([*controls.values(), result, details, plot])
    box.controls = controls
    box.result = result
    box.details = details
    box.plot = plot
    return box
