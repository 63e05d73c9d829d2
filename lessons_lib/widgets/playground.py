"""The playground app: pick a framework, a masking method, padding and lengths.

:func:`make_playground` returns an ``ipywidgets.VBox``; the compute is
:func:`lessons_lib.playground.run_playground`. Controls (descriptions are
unique, for browser tests) and the keyword each maps to in :func:`result_text`:

=================  =====================  ==========================================
description        widget                 values (keyword of ``result_text``)
=================  =====================  ==========================================
``Framework``      Dropdown               "keras", "pytorch" (``framework``)
``Method``         Dropdown               ``METHODS[framework]`` (``method``); the
                                          options change with the framework and the
                                          value resets to the first option
``Padding``        ToggleButtons          "post", "pre" (``padding``)
``Pad amount``     IntSlider              0 .. 4 (``pad_amount``)
``Length 1``       IntSlider              0 .. 6 (``length_1``)
``Length 2``       IntSlider              0 .. 6 (``length_2``)
``Length 3``       IntSlider              0 .. 6 (``length_3``)
=================  =====================  ==========================================

Defaults: keras, "mask= argument", post, pad amount 2, lengths 5, 3, 2.
Sliders use ``continuous_update=False`` (a run takes tens of milliseconds).

The result line is an ``ipywidgets.HTML`` with CSS class ``result-line``
whose text is exactly :func:`result_text` for the current values; below it a
second HTML (class ``result-details``) shows the padded batch, the outputs,
the final states and the reference.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from ..playground import MAX_LENGTH, MAX_PAD, METHODS, run_playground, summary_line

__all__ = ["DEFAULTS", "details_text", "make_playground", "result_text"]

DEFAULTS = {
    "framework": "keras",
    "method": "mask= argument",
    "padding": "post",
    "pad_amount": 2,
    "length_1": 5,
    "length_2": 3,
    "length_3": 2,
}


def _run(framework, method, padding, pad_amount, length_1, length_2, length_3):
    lengths = [length_1, length_2, length_3]
    return run_playground(framework, method, padding, pad_amount, lengths)


def result_text(
    framework: str = "keras",
    method: str = "mask= argument",
    padding: str = "post",
    pad_amount: int = 2,
    length_1: int = 5,
    length_2: int = 3,
    length_3: int = 2,
) -> str:
    """Exactly the ``Result: ...`` line the app shows for these control values.

    Example:
        >>> result_text("keras", "mask= argument", "pre", 2, 5, 3, 2)  # doctest: +SKIP
        'Result: keras, mask= argument, pre-padding +2, lengths [5, 3, 2]: final state diff < 1e-05, ...'
    """
    res = _run(framework, method, padding, pad_amount, length_1, length_2, length_3)
    return summary_line(res, framework, method, padding, pad_amount)


def _rows(name: str, arr: np.ndarray | None) -> list[str]:
    if arr is None:
        return [f"{name}: (not computed)"]
    text = np.array2string(np.round(arr, 4), precision=4, suppress_small=True, floatmode="fixed")
    return [f"{name}:"] + ["  " + line for line in text.splitlines()]


def details_text(res: dict) -> str:
    """The details panel as plain text: mask, final states, reference, per-row diffs."""
    lines = ["mask (1 = real step, 0 = padding):"]
    lines += ["  " + " ".join(str(int(v)) for v in row) for row in res["mask"]]
    lines += _rows("final state h the layer hands on (batch, units)", res["h"])
    lines += _rows("reference h: each sequence alone, no padding", res["h_reference"])
    if res["h_diff"] is not None:
        lines.append("per-row max |h - reference|: " + ", ".join(f"{v:.4f}" for v in res["h_diff"]))
        lines.append("per-row max |output - reference| at real steps: " + ", ".join(f"{v:.4f}" for v in res["output_diff"]))
        lines += _rows("outputs of row 1 (time, units)", res["outputs"][0])
    return "\n".join(lines)


def make_playground() -> widgets.VBox:
    """Build the app. Each control change recomputes and redraws the result.

    The returned VBox has ``.controls`` (dict: keyword -> widget),
    ``.result`` (the HTML result line) and ``.details`` (the HTML panel).
    """
    style = {"description_width": "90px"}
    framework = widgets.Dropdown(options=[("Keras", "keras"), ("PyTorch", "pytorch")],
                                 value=DEFAULTS["framework"], description="Framework", style=style)
    method = widgets.Dropdown(options=list(METHODS[DEFAULTS["framework"]]), value=DEFAULTS["method"],
                              description="Method", style=style)
    padding = widgets.ToggleButtons(options=["post", "pre"], value=DEFAULTS["padding"], description="Padding",
                                    style=style)
    sliders = {"pad_amount": ("Pad amount", 0, MAX_PAD)} | {
        f"length_{i}": (f"Length {i}", 0, MAX_LENGTH) for i in (1, 2, 3)
    }
    controls = {"framework": framework, "method": method, "padding": padding}
    for key, (desc, low, high) in sliders.items():
        controls[key] = widgets.IntSlider(value=DEFAULTS[key], min=low, max=high, description=desc,
                                          continuous_update=False, style=style)
    result = widgets.HTML().add_class("result-line")
    details = widgets.HTML().add_class("result-details")

    def refresh(_change=None):
        values = {k: c.value for k, c in controls.items()}
        res = _run(**values)
        result.value = html.escape(summary_line(res, values["framework"], values["method"], values["padding"],
                                                values["pad_amount"]))
        details.value = '<pre style="line-height: 1.3; font-family: monospace">' + html.escape(details_text(res)) + "</pre>"

    def on_framework(change):
        # Swapping the options fires a method change; hold it so the app computes once.
        method.unobserve(refresh, "value")
        method.options = list(METHODS[change["new"]])
        method.value = METHODS[change["new"]][0]
        method.observe(refresh, "value")
        refresh()

    framework.observe(on_framework, "value")
    for key, control in controls.items():
        if key != "framework":
            control.observe(refresh, "value")
    refresh()
    app = widgets.VBox([framework, method, padding, *[controls[k] for k in sliders], result, details])
    app.controls, app.result, app.details = controls, result, details
    return app
