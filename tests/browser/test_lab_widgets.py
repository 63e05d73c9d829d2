"""Every notebook with a widget, run in real JupyterLab in headless Chromium.

For each notebook: open it (in a temporary copy of notebooks/), clear the
stored outputs, run all cells from the menu, find the widget by its control
descriptions, check that the displayed ``Result:`` line equals
``result_text`` of the values the controls show, move controls through the
UI (arrow keys on sliders, clicks on toggle buttons and checkboxes, picking
dropdown options), and after each move assert that the line changes to the
expected value. Each move is timed in the page (key press, click or
selection to the new text; a slider moved k steps counts as k moves); the median must be at most
100 ms. Before the moves, the controls' layout is checked (``layout_problems``: toggle labels on
their buttons' row, slider tracks and description labels aligned). A screenshot goes to
test-artifacts/browser/.

One JupyterLab server and one Chromium serve the whole session (fixtures in
conftest.py).
"""

from __future__ import annotations

import json

import pytest
from browser_ui import (
    UPDATE_BUDGET_S,
    count_code_cells,
    exercise_widget,
    layout_problems,
    open_and_run_all,
    record_update_times,
    shut_down_kernel,
    widget_root,
)
from widget_specs import NOTEBOOKS, SPECS


#: Widgets whose control layout is not asserted (none: every widget uses
#: lessons_lib.widgets.control_options / toggle_buttons).
LAYOUT_NOT_CHECKED: set[str] = set()


def _present(name: str):
    marks = [] if (NOTEBOOKS / name).exists() else [pytest.mark.skip(reason=f"{name} is not in notebooks/ yet")]
    return pytest.param(name, marks=marks, id=name.removesuffix(".ipynb"))


def test_every_notebook_with_a_widget_has_a_browser_test():
    """No browser needed: a new widget notebook must get an entry in widget_specs.SPECS."""
    view = "application/vnd.jupyter.widget-view+json"
    with_widgets = set()
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        if any(view in out.get("data", {}) for c in cells for out in c.get("outputs", [])):
            with_widgets.add(path.name)
    assert with_widgets, "no notebook displays a widget?"
    assert with_widgets <= set(SPECS), f"no browser test for {sorted(with_widgets - set(SPECS))}"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("name", [_present(n) for n in SPECS])
def test_widget_in_jupyterlab(name, lab_url, page, artifacts_dir, record_property):
    module, frameworks, controls, moves = SPECS[name]
    seconds = open_and_run_all(page, lab_url, name, count_code_cells(NOTEBOOKS / name))
    record_property("run_all_seconds", round(seconds, 1))
    try:
        root = widget_root(page, controls)
        root.scroll_into_view_if_needed()
        if name not in LAYOUT_NOT_CHECKED:
            problems = layout_problems(root, controls)
            assert not problems, problems
        timings: list[float] = []
        lines = exercise_widget(root, module, frameworks, controls, moves,
                                artifacts_dir / f"lab_{name.removesuffix('.ipynb')}.png", timings)
        record_property("result_lines", lines)
        summary = record_update_times(f"lab {name.removesuffix('.ipynb')}", timings, artifacts_dir)
        record_property("update_ms", summary)
        assert summary["median_ms"] <= 1000 * UPDATE_BUDGET_S, f"updates are too slow: {summary}"
    finally:
        shut_down_kernel(page)
