"""What the browser tests do with each widget: its controls and the moves made through the UI.

Control descriptions, kinds and ``result_text`` keywords come from each widget
module's docstring (lessons_lib/widgets/*.py). Relative moves (``by=`` on a
slider, ``to=None`` on a toggle or dropdown) start from whatever the page shows
after "Run All Cells", because a lesson's own check cell may leave the widget
in any state.
"""

from __future__ import annotations

import pathlib

from browser_ui import Control, Move

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"

#: notebook -> (widget module, frameworks its result_text needs, controls, moves)
SPECS = {
    "01_mask_matrices.ipynb": (
        "lesson01",
        (),
        [Control("pad amount", "slider", "pad_amount"), Control("padding", "toggle", "padding"),
         Control("mask", "checkbox", "use_mask")],
        [Move("pad amount", by=2), Move("padding"), Move("mask"), Move("pad amount", by=-1)],
    ),
    "02_keras_masking.ipynb": (
        "lesson02",
        ("tensorflow",),
        [Control("method", "dropdown", "method"), Control("padding", "toggle", "padding"),
         Control("pad amount", "slider", "pad_amount")],
        [Move("pad amount", by=1), Move("padding"), Move("method", to="Masking after Embedding"),
         Move("method", to="explicit mask")],
    ),
    "03_pytorch_packing.ipynb": (
        "lesson03",
        ("torch",),
        [Control("sequences", "slider", "sequences")]
        + [Control(f"len_{i}", "slider", f"len_{i}") for i in range(1, 6)],
        [Move("len_1", by=2), Move("sequences", by=1), Move("len_2", by=1)],
    ),
    "04_custom_masking_layers.ipynb": (
        "lesson04",
        ("tensorflow",),
        [Control("pooling", "dropdown", "pooling"), Control("masked", "checkbox", "masked"),
         Control("pad amount", "slider", "pad_amount")],
        [Move("pad amount", by=2), Move("masked"), Move("pooling")],
    ),
    "06_training_on_real_sequences.ipynb": (
        "lesson06",
        ("torch",),
        [Control("utterance", "slider", "utterance"), Control("extra padding", "slider", "extra_padding"),
         Control("unmasked model", "dropdown", "unmasked")],
        [Move("extra padding", by=5), Move("unmasked model"), Move("utterance", by=1)],
    ),
    "12_test_your_own_model.ipynb": (
        "lesson12",
        ("tensorflow", "torch"),
        [Control("model", "dropdown", "model"), Control("padding", "toggle", "padding"),
         Control("extra padding", "slider", "extra_padding")],
        [Move("extra padding", by=2), Move("padding"), Move("model", to="torch_crop"), Move("extra padding", by=3)],
    ),
}

PLAYGROUND_CONTROLS = [
    Control("Framework", "dropdown", "framework", labels={"Keras": "keras", "PyTorch": "pytorch"}),
    Control("Method", "dropdown", "method"),
    Control("Padding", "toggle", "padding"),
    Control("Pad amount", "slider", "pad_amount"),
    Control("Length 1", "slider", "length_1"),
    Control("Length 2", "slider", "length_2"),
    Control("Length 3", "slider", "length_3"),
    Control("Fresh Keras init (zero candidate bias)", "checkbox", "fresh_init"),
    Control("Bidirectional", "checkbox", "bidirectional"),
    Control("Guess first", "checkbox", "guess_mode"),
    Control("Your guess", "toggle", "guess"),
]
#: Starts from the defaults (Keras, mask= argument, post, 2, lengths 5 3 2, trained weights, one
#: direction, no guessing): the notebook's own check cell puts them back. Switching the framework
#: resets the method; in guess mode every other change (and switching guess mode) resets the guess.
#: The first switch to PyTorch imports it (seconds): one slow move, counted in the median.
PLAYGROUND_MOVES = [
    Move("Method", to="no mask"),
    Move("Pad amount", to=50),
    Move("Padding", to="pre"),
    Move("Fresh Keras init (zero candidate bias)"),
    Move("Padding", to="post"),
    Move("Bidirectional"),
    Move("Guess first"),
    Move("Your guess", to="different"),
    Move("Pad amount", by=-1, also={"guess": "?"}),
    Move("Your guess", to="equal"),
    Move("Guess first", also={"guess": "?"}),
    Move("Framework", to="PyTorch", also={"method": "pack_padded_sequence"}),
    Move("Length 2", to=0),
    Move("Length 2", to=3),
    Move("Framework", to="Keras", also={"method": "mask= argument"}),
    Move("Padding", to="pre"),
]
SPECS["09_playground.ipynb"] = ("playground", ("tensorflow", "torch"), PLAYGROUND_CONTROLS, PLAYGROUND_MOVES)
SPECS["10_beyond_one_lstm.ipynb"] = (
    "lesson10",
    (),
    [Control("model", "dropdown", "model"), Control("pad amount", "slider", "pad_amount"),
     Control("padding", "toggle", "padding")],
    [Move("pad amount", by=2), Move("model", to="+Conv1D"), Move("padding"), Move("model", to="GRU")],
)
