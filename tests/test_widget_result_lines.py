"""Every lesson widget's ``Result:`` line is at most 99 characters, for every control value.

Each ``result_text`` is swept over its whole control grid, except where the grid is
too large (lesson 03: 5 sliders of 8 values; lesson 06: 370 utterances x 61
paddings), where the sample includes the values that make the line longest
(most sequences, longest lengths; 3-digit utterance numbers, 2-digit paddings).
"""

from __future__ import annotations

import itertools
import os

import pytest

import lessons_lib as ll

os.environ.update(ll.KERNEL_ENV)
pytest.importorskip("ipywidgets")

MAX_CHARS = 99
SIDES = ("post", "pre")


def _check(lines: list[str]) -> None:
    assert lines, "nothing was swept"
    for line in lines:
        assert line.startswith("Result: ") and "\n" not in line, line
    longest = max(lines, key=len)
    assert len(longest) <= MAX_CHARS, f"{len(longest)} characters: {longest}"


def test_lesson01_lines():
    from lessons_lib.widgets import lesson01 as w

    _check([w.result_text(n, side, mask) for n in range(11) for side in SIDES for mask in (False, True)])


def test_lesson02_lines():
    from lessons_lib.keras_masking import METHODS
    from lessons_lib.widgets import lesson02 as w

    lines = [w.result_text(m, side, n) for m in METHODS for side in SIDES for n in range(w.PAD_MAX + 1)]
    _check(lines)
    assert len(set(lines)) > len(METHODS), "the line should depend on the controls"
    assert not any("<" in line or "&" in line for line in lines), "the widget shows this line unescaped"


def test_lesson03_lines():
    from lessons_lib.torch_packing import packing_summary
    from lessons_lib.widgets import lesson03 as w

    values = []
    for n in range(1, w.MAX_SEQUENCES + 1):
        for lengths in itertools.product((1, 5, w.MAX_LENGTH), repeat=n):
            values.append({"sequences": n, **{f"len_{i + 1}": v for i, v in enumerate(lengths)}})
    lines = [w.result_text(**v) for v in values]
    _check(lines)
    longest = w.result_text(sequences=5, len_1=8, len_2=8, len_3=8, len_4=8, len_5=8)
    assert len(longest) == max(map(len, lines))
    # the line's lists are the ones torch's PackedSequence has
    s = packing_summary([3, 8, 1])
    assert w.result_text(sequences=3, len_1=3, len_2=8, len_3=1) == (
        f"Result: lengths=[3, 8, 1] batch_sizes={s['batch_sizes']} sorted_indices={s['sorted_indices']}"
    )


def test_lesson04_lines():
    from lessons_lib.widgets import lesson04 as w

    poolings, pads = ("mean", "max", "last"), range(w.PAD_MAX + 1)
    _check([w.result_text(p, m, n) for p in poolings for m in (False, True) for n in pads])


@pytest.mark.slow
def test_lesson06_lines():
    from lessons_lib.widgets import lesson06 as w

    models, test = w.default_models()
    utterances = sorted({0, 9, 99, *range(100, len(test.labels), 13), len(test.labels) - 1})
    lines = [w.result_text(u, e, side, models=models, test=test)
             for u in utterances for e in (0, 9, 10, w.MAX_EXTRA_PADDING) for side in ("pre", "post")]
    _check(lines)


def test_lesson10_lines():
    from lessons_lib.beyond import MAX_PAD, MODELS
    from lessons_lib.widgets import lesson10 as w

    _check([w.result_text(m, n, side) for m in MODELS for n in range(MAX_PAD + 1) for side in SIDES])


@pytest.mark.slow
def test_lesson12_lines():
    from lessons_lib.doctor_zoo import WIDGET_MAX_EXTRA, WIDGET_MODELS
    from lessons_lib.widgets import lesson12 as w

    lines = [w.result_text(m, side, e) for m in WIDGET_MODELS for side in SIDES for e in range(WIDGET_MAX_EXTRA + 1)]
    _check(lines)
    assert any("NOT invariant" in line for line in lines) and any(": invariant" in line for line in lines)
