"""Lesson 06 widget: one test utterance, more and more padding, two models' probabilities.

Controls (each ``description`` is unique):

- ``"utterance"``: IntSlider, 0..369, index into the Japanese Vowels test split;
- ``"extra padding"``: IntSlider, 0..60, zero steps added to that utterance;
- ``"unmasked model"``: Dropdown, ``"pre"`` or ``"post"``: which unmasked model
  (trained on pre- or post-padded batches) to compare with the packed one.

The widget shows one plain-text line in an ``ipywidgets.HTML`` (children[3]),
exactly :func:`result_text` for the current control values (at most 99 characters), for example::

    Result: speaker 1, 19 steps + 0 zeros | packed: 1, p(true) 0.998 | unmasked post: 1, p(true) 0.992

that is: the utterance's true speaker and length, then for each model the
speaker it predicts and the probability it gives the true speaker.
children[4] is an HTML table of all nine probabilities (decoration only).
The controls start at :data:`INITIAL`.
The models are the torch classifiers of lesson 06: ``"packed"`` (lengths
given, so padding is skipped) and the unmasked ``"pre"`` and ``"post"`` ones.
:func:`default_models` retrains them with ``training.RECIPE`` (a few seconds,
deterministic on one thread), so :func:`result_text` also works outside the
notebook, for example in a browser test.
"""

from __future__ import annotations

import functools

import ipywidgets as widgets
import numpy as np

from ..datasets import RaggedSplit, prepare_japanese_vowels
from . import control_options

__all__ = ["INITIAL", "MAX_EXTRA_PADDING", "default_models", "make_widget", "probabilities", "result_text"]

MAX_EXTRA_PADDING = 60

#: The value each control is created with, in the order of the widget's children
#: (utterance, extra padding, unmasked model). The lesson's driving cell puts the
#: controls back to these, so that the stored widget state is the creation state.
INITIAL = {"utterance": 0, "extra_padding": 0, "unmasked": "post"}


@functools.lru_cache(maxsize=1)
def default_models() -> tuple[dict, RaggedSplit]:
    """Train the packed, unmasked-pre and unmasked-post torch models of lesson 06.

    Same data pipeline, recipe and seeds as the notebook, on one thread, so
    the result is the same in any process. Returns ``(models, test_split)``.
    """
    import torch

    from ..padding import pad_sequences
    from ..training import RECIPE, TorchLSTMClassifier, fit_torch

    data = prepare_japanese_vowels()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    models = {}
    try:
        for name in ("packed", "pre", "post"):
            side = "post" if name == "packed" else name
            model = TorchLSTMClassifier(12, 9, units=RECIPE["units"], seed=RECIPE["seed"])
            lengths = {"lengths": data.train.lengths, "lengths_val": data.val.lengths} if name == "packed" else {}
            fit_torch(
                model,
                pad_sequences(data.train.sequences, padding=side, dtype="float32"),
                data.train.labels,
                pad_sequences(data.val.sequences, padding=side, dtype="float32"),
                data.val.labels,
                epochs=RECIPE["epochs"],
                batch_size=RECIPE["batch_size"],
                learning_rate=RECIPE["learning_rate"],
                seed=RECIPE["seed"],
                name=name,
                **lengths,
            )
            models[name] = model
    finally:
        torch.set_num_threads(threads)
    return models, data.test


def probabilities(
    utterance: int = 0, extra_padding: int = 0, unmasked: str = "post", *, models=None, test=None
) -> tuple[np.ndarray, np.ndarray]:
    """(packed probabilities, unmasked probabilities), each of shape (9,)."""
    from ..training import probabilities_with_padding

    if models is None or test is None:
        models, test = default_models()
    if unmasked not in ("pre", "post"):
        raise ValueError(f"unmasked must be 'pre' or 'post', got {unmasked!r}")
    if isinstance(utterance, bool) or not isinstance(utterance, (int, np.integer)) or not 0 <= utterance < len(test.labels):
        raise ValueError(f"utterance must be an int in 0..{len(test.labels) - 1}, got {utterance!r}")
    seq = test.sequences[utterance]
    p_packed = probabilities_with_padding(models["packed"], seq, extra_padding, padding="post", packed=True)
    p_unmasked = probabilities_with_padding(models[unmasked], seq, extra_padding, padding=unmasked)
    return p_packed, p_unmasked


def result_text(utterance: int = 0, extra_padding: int = 0, unmasked: str = "post", *, models=None, test=None) -> str:
    """The exact line the widget shows for these control values (see the module docstring)."""
    if models is None or test is None:
        models, test = default_models()
    p_packed, p_unmasked = probabilities(utterance, extra_padding, unmasked, models=models, test=test)
    label = int(test.labels[utterance])
    steps = len(test.sequences[utterance])
    return (
        f"Result: speaker {label + 1}, {steps} steps + {extra_padding} zeros | "
        f"packed: {int(p_packed.argmax()) + 1}, p(true) {p_packed[label]:.3f} | "
        f"unmasked {unmasked}: {int(p_unmasked.argmax()) + 1}, p(true) {p_unmasked[label]:.3f}"
    )


def _table(p_packed: np.ndarray, p_unmasked: np.ndarray, unmasked: str, utterance: int) -> str:
    head = "".join(f"<th>{k + 1}</th>" for k in range(len(p_packed)))
    rows = "".join(
        f"<tr><td>{name}</td>" + "".join(f"<td>{v:.2f}</td>" for v in p) + "</tr>"
        for name, p in (("packed", p_packed), (f"unmasked {unmasked}", p_unmasked))
    )
    caption = f"<caption>test utterance {utterance}: probability of each speaker</caption>"
    return f"<table>{caption}<tr><th>speaker</th>{head}</tr>{rows}</table>"


def make_widget(models: dict | None = None, test: RaggedSplit | None = None) -> widgets.VBox:
    """A VBox: [utterance slider, extra padding slider, unmasked dropdown, result line, table].

    ``models`` maps "packed", "pre", "post" to trained ``TorchLSTMClassifier``
    objects and ``test`` is the standardised test split; both default to
    :func:`default_models`.
    """
    if models is None or test is None:
        models, test = default_models()
    # One description width for all three (lessons_lib.widgets.DESCRIPTION_WIDTH): the tracks line up.
    utterance = widgets.IntSlider(
        value=INITIAL["utterance"], min=0, max=len(test.labels) - 1, description="utterance",
        continuous_update=False, **control_options(),
    )
    extra = widgets.IntSlider(
        value=INITIAL["extra_padding"], min=0, max=MAX_EXTRA_PADDING, description="extra padding",
        continuous_update=False, **control_options(),
    )
    which = widgets.Dropdown(
        options=["pre", "post"], value=INITIAL["unmasked"], description="unmasked model", **control_options()
    )
    line = widgets.HTML()
    table = widgets.HTML()

    def update(_change=None) -> None:
        values = {"utterance": utterance.value, "extra_padding": extra.value, "unmasked": which.value}
        line.value = result_text(**values, models=models, test=test)
        p_packed, p_unmasked = probabilities(**values, models=models, test=test)
        table.value = _table(p_packed, p_unmasked, which.value, utterance.value)

    for control in (utterance, extra, which):
        control.observe(update, names="value")
    update()
    return widgets.VBox([utterance, extra, which, line, table])
