"""The playground app served by Voila (as ``make playground`` does), driven in headless Chromium.

Voila runs notebooks/09_playground.ipynb (a temporary copy) on a free
loopback port with no token, removing the cell tagged ``voila-hide`` (the
notebook's own code check). The test waits for the app, checks that it shows
widgets only (no code, exactly one ``Result:`` line), moves every kind of
control through the UI, and asserts the result line after each move.
"""

from __future__ import annotations

import re

import pytest
from browser_ui import RESULT_TIMEOUT_MS, exercise_widget, result_locator
from widget_specs import PLAYGROUND_CONTROLS, PLAYGROUND_MOVES

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_playground_in_voila(voila_url, page, artifacts_dir, record_property):
    page.goto(voila_url)
    line = result_locator(page)
    line.wait_for(timeout=RESULT_TIMEOUT_MS * 3)  # Voila executes the notebook first (TensorFlow import)
    # Widgets only: no code cells, and the hidden check cell printed nothing into the app.
    body = page.locator("body").text_content()
    assert "setup_notebook" not in body and "make_playground" not in body, "code is visible in the app"
    assert page.locator(".cm-editor, .jp-InputArea-editor").count() == 0
    assert page.get_by_text(re.compile(r"^\s*Result:")).count() == 1
    lines = exercise_widget(page, "playground", ("tensorflow", "torch"), PLAYGROUND_CONTROLS, PLAYGROUND_MOVES,
                            artifacts_dir / "voila_09_playground.png")
    record_property("result_lines", lines)
