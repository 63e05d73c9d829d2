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
from browser_ui import UPDATE_BUDGET_S, RESULT_TIMEOUT_MS, exercise_widget, record_update_times, result_locator
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
    timings: list[float] = []
    lines = exercise_widget(page, "playground", ("tensorflow", "torch"), PLAYGROUND_CONTROLS, PLAYGROUND_MOVES,
                            artifacts_dir / "voila_09_playground.png", timings)
    record_property("result_lines", lines)
    summary = record_update_times("voila 09_playground", timings, artifacts_dir)
    record_property("update_ms", summary)
    assert summary["median_ms"] <= 1000 * UPDATE_BUDGET_S, f"updates are too slow: {summary}"


def test_playground_is_offline_and_its_links_work(voila_url, page, artifacts_dir):
    """No request leaves localhost, nothing fails to load, no console error; links open something."""
    requests, failed, errors = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    # Errors only: Voila 0.5.13's own widgets manager logs "Unsatisfied version 4.2.5" warnings
    # against JupyterLab 4.6 packages, which no setting removes (the page works regardless).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(voila_url)
    result_locator(page).wait_for(timeout=RESULT_TIMEOUT_MS * 3)
    page.wait_for_timeout(2000)
    outside = [u for u in requests if not re.match(r"^(https?|wss?)://127\.0\.0\.1[:/]|^(data|blob):", u)]
    assert not outside, f"requests leave localhost: {outside}"
    assert not failed, f"requests failed: {failed}"
    assert not errors, f"console errors: {errors[:5]}"
    # Every link opens something (an HTTP 200 page, or an in-page anchor); lesson links are text.
    hrefs = page.locator("a[href]").evaluate_all("els => els.map(a => a.href)")
    for href in hrefs:
        if "#" in href and href.split("#")[0] in (voila_url, voila_url + "/"):
            continue
        resp = page.request.get(href)
        assert resp.status == 200, f"link {href} answers {resp.status}"
    body = page.locator("body").text_content()
    assert "notebooks/01_mask_matrices.ipynb" in body and "notebooks/08_myths_and_facts.ipynb" in body
