"""The playground app: framework, masking method, padding, lengths, weights, direction, guessing.

:func:`make_playground` returns an ``ipywidgets.VBox``; the compute is
:func:`lessons_lib.playground.run_playground`, the pictures are
:func:`lessons_lib.playground.gap_svg` and :func:`lessons_lib.playground.batch_svg`.
Controls (descriptions are unique, for browser tests) and the keyword each maps
to in :func:`result_text`:

==========================================  =============  ===================================
description                                 widget         values (keyword of ``result_text``)
==========================================  =============  ===================================
``Framework``                               Dropdown       "keras", "pytorch" (``framework``)
``Method``                                  Dropdown       ``METHODS[framework]`` (``method``);
                                                           the options change with the
                                                           framework, the value resets to the
                                                           first option
``Padding``                                 ToggleButtons  "post", "pre" (``padding``)
``Pad amount``                              IntSlider      0 .. 50 (``pad_amount``)
``Length 1``                                IntSlider      0 .. 6 (``length_1``)
``Length 2``                                IntSlider      0 .. 6 (``length_2``)
``Length 3``                                IntSlider      0 .. 6 (``length_3``)
``Fresh Keras init (zero candidate bias)``  Checkbox       ``fresh_init``
``Bidirectional``                           Checkbox       ``bidirectional``
``Guess first``                             Checkbox       ``guess_mode``
``Your guess``                              ToggleButtons  "?", "equal", "different" (``guess``)
==========================================  =============  ===================================

Defaults: keras, "mask= argument", post, pad amount 2, lengths 5, 3, 2, trained-like
weights, one direction, guess mode off, guess "?".
Sliders use ``continuous_update=False``.

Guess mode: with ``Guess first`` on and the guess "?", the result line reads
"Result: hidden until you guess: ..." and the pictures are hidden. Picking
"equal" or "different" reveals them and says whether the guess was right.
While guess mode is on, changing any other control (or switching guess mode)
sets the guess back to "?", so each new setting is guessed before it shows.

The result line is an ``ipywidgets.HTML`` with CSS class ``result-line``
whose text is exactly :func:`result_text` for the current values (at most 99
characters); below it a second HTML (class ``result-details``) shows the gap
plot, the batch heatmap with its mask, the step count, the cuDNN flag and the
myth of lesson 08 that each current setting demonstrates (as text: the links
are in the notebook, so that they also work, as text, in the Voila app).
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from . import control_options, toggle_buttons
from ..playground import (
    MAX_LENGTH,
    MAX_PAD,
    METHODS,
    batch_svg,
    gap_svg,
    run_playground,
    summary_line,
    warm_up_keras,
)

__all__ = ["DEFAULTS", "GUESSES", "MYTHS", "details_html", "make_playground", "myths_for", "result_text"]

DEFAULTS = {
    "framework": "keras",
    "method": "mask= argument",
    "padding": "post",
    "pad_amount": 2,
    "length_1": 5,
    "length_2": 3,
    "length_3": 2,
    "fresh_init": False,
    "bidirectional": False,
    "guess_mode": False,
    "guess": "?",
}
GUESSES = ("?", "equal", "different")
#: Myth number in notebooks/08_myths_and_facts.ipynb -> what it says (short).
MYTHS = {
    1: "multiplying outputs by a mask prevents learning from padding",
    3: "Masking(mask_value=0) masks values equal to 0",
    6: "post-padding is more efficient than pre-padding",
    7: "masking avoids computation on padded data",
    10: "pack_padded_sequence significantly improves efficiency",
    11: "enforce_sorted=False lets you use sequences of any length",
    12: "a bidirectional LSTM over padded input is fine if you take the last output",
}


def myths_for(framework: str, method: str, padding: str, bidirectional: bool, error: str | None = None) -> list[int]:
    """The myths of lesson 08 that this setting demonstrates, in order.

    Example:
        >>> myths_for("pytorch", "pack_padded_sequence", "post", True)
        [7, 10, 12]
    """
    found = {7}  # every setting shows the step count
    if method in ("no mask", "multiply outputs by mask"):
        found.add(1)
    if method == "Masking layer":
        found.add(3)
    if framework == "keras":
        found.add(6)  # the cuDNN flag, post against pre
    if method == "pack_padded_sequence":
        found.add(10)
        if error:
            found.add(11)
    if bidirectional:
        found.add(12)
    return sorted(found)


def _run(framework, method, padding, pad_amount, length_1, length_2, length_3, fresh_init, bidirectional):
    return run_playground(framework, method, padding, pad_amount, [length_1, length_2, length_3],
                          fresh_init=fresh_init, bidirectional=bidirectional)


def _split(values: dict) -> tuple[dict, str | None]:
    run = {k: v for k, v in values.items() if k not in ("guess_mode", "guess")}
    return run, (values["guess"] if values["guess_mode"] else None)


def result_text(
    framework: str = "keras",
    method: str = "mask= argument",
    padding: str = "post",
    pad_amount: int = 2,
    length_1: int = 5,
    length_2: int = 3,
    length_3: int = 2,
    fresh_init: bool = False,
    bidirectional: bool = False,
    guess_mode: bool = False,
    guess: str = "?",
) -> str:
    """Exactly the ``Result: ...`` line the app shows for these control values.

    Example:
        >>> result_text(guess_mode=True)
        'Result: hidden until you guess: equal to the reference, or different?'
    """
    if guess not in GUESSES:
        raise ValueError(f"guess must be one of {GUESSES}, got {guess!r}")
    values = dict(locals())
    run, shown_guess = _split(values)
    if shown_guess == "?":
        return summary_line({"error": None}, "?")
    return summary_line(_run(**run), shown_guess)


_STYLE_BOX = 'style="font-size: 13px; line-height: 1.4; width: 600px"'


def details_html(res: dict, framework: str, method: str, padding: str, bidirectional: bool) -> str:
    """The details panel: gap plot, batch heatmap with mask, steps, cuDNN, myths, final states."""
    lines = []
    if res["error"]:
        lines.append(f"<b>Not computed:</b> {html.escape(res['error'])}.")
    else:
        batch, time = res["mask"].shape
        per = "per direction, two directions" if bidirectional else "one direction"
        how = (f"{batch} rows x {time} steps" if res["steps"] != res["real_steps"]
               else "only the real steps: sum(lengths)")
        lines.append(f"<b>Steps computed:</b> {res['steps']} ({how}; {per}); "
                     f"{res['real_steps']} of them read real data.")
        if res["cudnn_ok"] is None:
            lines.append("<b>cuDNN (Keras, TensorFlow backend):</b> n/a for PyTorch.")
        else:
            why = ("no mask is given" if method in ("no mask", "multiply outputs by mask")
                   else "the mask is strictly right-padded, no empty row" if res["cudnn_ok"]
                   else "the mask is not strictly right-padded, or a row is empty")
            lines.append(f"<b>cuDNN would accept this:</b> {'yes' if res['cudnn_ok'] else 'no'} ({why}).")
        h = np.round(np.asarray(res["h"]), 4).tolist()
        ref = np.round(np.asarray(res["h_reference"]), 4).tolist()
        for b, (row, row_ref) in enumerate(zip(h, ref)):
            lines.append(f"row {b + 1}: final state {row}, reference {row_ref}")
    myths = myths_for(framework, method, padding, bidirectional, res["error"])
    lines.append("<b>Myths of lesson 08 shown here:</b> "
                 + "; ".join(f"{n}: {html.escape(MYTHS[n])}" for n in myths) + ".")
    pictures = gap_svg(res) + "<br>" + batch_svg(res)
    return f"<div {_STYLE_BOX}>{pictures}<br>" + "<br>".join(lines) + "</div>"


_HIDDEN = (f"<div {_STYLE_BOX}><b>Hidden until you guess.</b> Will the final state and the real-step "
           "outputs equal the unpadded reference? Pick <i>equal</i> or <i>different</i>.</div>")


def make_playground() -> widgets.VBox:
    """Build the app. Each control change recomputes and redraws the result.

    The returned VBox has ``.controls`` (dict: keyword -> widget),
    ``.result`` (the HTML result line) and ``.details`` (the HTML panel).
    """
    warm_up_keras()  # the default framework: trace its calls now, not on the first move
    framework = widgets.Dropdown(options=[("Keras", "keras"), ("PyTorch", "pytorch")],
                                 value=DEFAULTS["framework"], description="Framework", **control_options())
    method = widgets.Dropdown(options=list(METHODS[DEFAULTS["framework"]]), value=DEFAULTS["method"],
                              description="Method", **control_options())
    padding = toggle_buttons(options=["post", "pre"], value=DEFAULTS["padding"], description="Padding")
    sliders = {"pad_amount": ("Pad amount", 0, MAX_PAD)} | {
        f"length_{i}": (f"Length {i}", 0, MAX_LENGTH) for i in (1, 2, 3)
    }
    controls = {"framework": framework, "method": method, "padding": padding}
    for key, (desc, low, high) in sliders.items():
        controls[key] = widgets.IntSlider(value=DEFAULTS[key], min=low, max=high, description=desc,
                                          continuous_update=False, **control_options())
    checks = {"fresh_init": "Fresh Keras init (zero candidate bias)", "bidirectional": "Bidirectional",
              "guess_mode": "Guess first"}
    for key, desc in checks.items():
        controls[key] = widgets.Checkbox(value=DEFAULTS[key], description=desc, indent=False,
                                         layout=widgets.Layout(width="auto"))
    guess = toggle_buttons(options=list(GUESSES), value=DEFAULTS["guess"], description="Your guess")
    guess.layout.width = "460px"  # three buttons beside the label, on one row
    controls["guess"] = guess
    result = widgets.HTML().add_class("result-line")
    details = widgets.HTML().add_class("result-details")

    def show(_change=None):
        values = {k: c.value for k, c in controls.items()}
        run, shown_guess = _split(values)
        if shown_guess == "?":
            result.value = html.escape(summary_line({"error": None}, "?"))
            details.value = _HIDDEN
            return
        res = _run(**run)
        result.value = html.escape(summary_line(res, shown_guess))
        details.value = details_html(res, values["framework"], values["method"], values["padding"],
                                     values["bidirectional"])

    def reset_guess():
        # In guess mode a new setting is guessed afresh; hold the observer so we draw once.
        if guess.value != "?":
            guess.unobserve(show, "value")
            guess.value = "?"
            guess.observe(show, "value")

    def on_setting(_change=None):
        if controls["guess_mode"].value:
            reset_guess()
        show()

    def on_guess_mode(_change):
        reset_guess()
        show()

    def on_framework(change):
        # Swapping the options fires a method change; hold it so the app computes once.
        method.unobserve(on_setting, "value")
        method.options = list(METHODS[change["new"]])
        method.value = METHODS[change["new"]][0]
        method.observe(on_setting, "value")
        on_setting()

    framework.observe(on_framework, "value")
    controls["guess_mode"].observe(on_guess_mode, "value")
    guess.observe(show, "value")
    for key, control in controls.items():
        if key not in ("framework", "guess_mode", "guess"):
            control.observe(on_setting, "value")
    show()
    # The labelled controls in one column (their labels end at one x), the checkboxes beside it.
    left = widgets.VBox([framework, method, padding, *[controls[k] for k in sliders], guess])
    right = widgets.VBox([controls[k] for k in checks])
    # Two columns side by side; on a narrow (zoomed) page the second wraps below the first.
    columns = widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap"))
    app = widgets.VBox([columns, result, details])
    app.controls, app.result, app.details = controls, result, details
    return app
