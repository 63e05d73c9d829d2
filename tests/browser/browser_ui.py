"""Driving ipywidgets through the real UI (JupyterLab or Voila) with playwright.

A widget follows the course's convention (see lessons_lib/widgets/*.py):
standard controls with unique descriptions, and one line of plain text that
starts with ``Result:`` and equals ``result_text(**control_values)``.

A :class:`Control` names a control by its description, its kind, and the
keyword of ``result_text`` it feeds. The tests read the controls' current
values from the page, compute the expected lines with ``result_text`` in a
separate Python process (set up like a lesson kernel), move controls with
the mouse and keyboard, and wait for the displayed line to change to the
expected text.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULT_TIMEOUT_MS = 60_000
RUN_ALL_TIMEOUT_MS = 300_000


@dataclass(frozen=True)
class Control:
    """One widget control: its ``description``, kind and ``result_text`` keyword.

    kind: "slider" (IntSlider), "dropdown", "toggle" (ToggleButtons) or "checkbox".
    labels: for dropdowns whose option labels differ from their values, label -> value.
    """

    description: str
    kind: str
    keyword: str
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Move:
    """Change one control through the UI.

    For a slider, ``to`` is a target value, or ``by`` a step count from the
    current value (the other way if that leaves the slider's range), reached
    with arrow keys. For a dropdown, ``to`` is the option label to pick (None:
    the next option); for toggle buttons, the button text (None: the first
    button that is not active); for a checkbox, it is clicked once.
    """

    description: str
    to: Any = None
    by: int | None = None
    #: other keywords the widget changes as a consequence (e.g. a reset dependent dropdown)
    also: dict[str, Any] = field(default_factory=dict)


def _page(root):
    """The Page of a root that is either a Page or a Locator."""
    return root.page if hasattr(root, "page") else root


def _exact(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def control_locator(root, control: Control):
    """The DOM element of a control, found by its visible description."""
    if control.kind == "checkbox":
        return root.locator(".widget-checkbox").filter(has=_page(root).locator("span", has_text=_exact(control.description)))
    css = {"slider": ".widget-slider", "dropdown": ".widget-dropdown", "toggle": ".widget-toggle-buttons"}[control.kind]
    label = _page(root).locator("label.widget-label", has_text=_exact(control.description))
    return root.locator(css).filter(has=label).first


def _text(s: str) -> str:
    # ipywidgets shows spaces in option labels as non-breaking spaces.
    return s.replace("\xa0", " ").strip()


def _option_labels(el) -> list[str]:
    return [_text(t) for t in el.locator("select").evaluate("s => [...s.options].map(o => o.textContent)")]


def read_value(root, control: Control) -> Any:
    """The control's current value as the page shows it.

    Uses textContent, not innerText: JupyterLab skips rendering off-screen
    cells (content-visibility), and innerText of those is empty.
    """
    el = control_locator(root, control)
    if control.kind == "slider":
        return int(_text(el.locator(".widget-readout").text_content()))
    if control.kind == "dropdown":
        index = el.locator("select").evaluate("s => s.selectedIndex")
        label = _option_labels(el)[index]
        return control.labels.get(label, label)
    if control.kind == "toggle":
        active = el.locator("button.mod-active")
        active.wait_for(state="attached")
        text = _text(active.text_content())
        return control.labels.get(text, text)
    if control.kind == "checkbox":
        return el.locator("input[type=checkbox]").is_checked()
    raise ValueError(f"unknown control kind {control.kind!r}")


def apply_move(root, control: Control, move: Move) -> None:
    """Move a control through the UI, as a person would (keyboard, click, select)."""
    el = control_locator(root, control)
    el.scroll_into_view_if_needed()
    if control.kind == "slider":
        current = read_value(root, control)
        handle = el.locator(".noUi-handle")
        handle.focus()
        key = "ArrowRight" if move.to > current else "ArrowLeft"
        for _ in range(abs(move.to - current)):
            handle.press(key)
    elif control.kind == "dropdown":
        el.locator("select").select_option(index=_option_labels(el).index(move.to))
    elif control.kind == "toggle":
        el.locator("button", has_text=_exact(move.to)).click()
    elif control.kind == "checkbox":
        el.locator("input[type=checkbox]").click()
    else:
        raise ValueError(f"unknown control kind {control.kind!r}")


def resolve(root, control: Control, move: Move, current: Any) -> Move:
    """Turn a relative move (slider ``by``, toggle ``to=None``) into an absolute one."""
    el = control_locator(root, control)
    if control.kind == "slider" and move.by is not None:
        handle = el.locator(".noUi-handle")
        low = round(float(handle.get_attribute("aria-valuemin")))
        high = round(float(handle.get_attribute("aria-valuemax")))
        target = current + move.by if low <= current + move.by <= high else current - move.by
        return Move(move.description, to=target, also=move.also)
    if control.kind == "toggle" and move.to is None:
        texts = [_text(t) for t in el.locator("button").all_text_contents()]
        label = next(t for t in texts if control.labels.get(t, t) != current)
        return Move(move.description, to=label, also=move.also)
    if control.kind == "dropdown" and move.to is None:
        texts = _option_labels(el)
        shown = [control.labels.get(t, t) for t in texts]
        label = texts[(shown.index(current) + 1) % len(texts)]
        return Move(move.description, to=label, also=move.also)
    return move


def unit_steps(control: Control, move: Move, current: Any) -> list[Move]:
    """A slider move of k steps as k one-step moves (others unchanged).

    Each arrow key press is one update of the widget, and the kernel runs them
    one after another: timing k presses from the last one would count the
    earlier updates still queued. One step at a time, each update is checked
    and timed on its own.
    """
    if control.kind != "slider" or abs(move.to - current) <= 1:
        return [move]
    sign = 1 if move.to > current else -1
    targets = list(range(current + sign, move.to + sign, sign))
    return [Move(move.description, to=t, also=move.also if t == move.to else {}) for t in targets]


def value_after(control: Control, move: Move, current: Any) -> Any:
    if control.kind == "checkbox":
        return not current
    if control.kind in ("dropdown", "toggle"):
        return control.labels.get(move.to, move.to)
    return move.to


def _box(locator) -> dict:
    box = locator.bounding_box()
    if box is None or box["width"] == 0:
        raise AssertionError(f"{locator} is not laid out (hidden or off-screen?)")
    return box


def layout_problems(root, controls: list[Control], tolerance_px: float = 1.5) -> list[str]:
    """What is misaligned in a widget's controls, as the page lays them out (empty: nothing).

    - a toggle's label must sit on the row of its buttons (vertical centres within
      ``tolerance_px`` + 3 px, label left of the first button), all buttons on one row;
    - no description label may be cut off (ipywidgets ends a too-narrow label with an ellipsis);
    - every slider's track must start at the same x;
    - every description label (sliders, dropdowns, toggles) must end at the same x.
    """
    problems = []
    tracks, label_ends = {}, {}
    for c in controls:
        if c.kind == "checkbox":
            continue
        el = control_locator(root, c)
        el.scroll_into_view_if_needed()
        label_el = el.locator("label.widget-label").first
        label = _box(label_el)
        label_ends[c.description] = label["x"] + label["width"]
        if label_el.evaluate("e => e.scrollWidth > e.clientWidth"):
            problems.append(f"{c.kind} {c.description!r}: label text cut off (ellipsis); widen the description")
        if c.kind == "toggle":
            buttons = [_box(b) for b in el.locator("button").all()]
            label_mid = label["y"] + label["height"] / 2
            first_mid = buttons[0]["y"] + buttons[0]["height"] / 2
            if abs(label_mid - first_mid) > tolerance_px + 3:
                problems.append(
                    f"toggle {c.description!r}: label centre y {label_mid:.0f} but buttons' {first_mid:.0f}"
                )
            if label["x"] + label["width"] > buttons[0]["x"] + tolerance_px:
                problems.append(f"toggle {c.description!r}: label ends right of the first button")
            if any(abs(b["y"] - buttons[0]["y"]) > tolerance_px for b in buttons):
                problems.append(f"toggle {c.description!r}: buttons wrap onto more than one row")
        if c.kind == "slider":
            tracks[c.description] = _box(el.locator(".slider-container"))["x"]
    for name, xs in (("slider tracks start", tracks), ("description labels end", label_ends)):
        if xs and max(xs.values()) - min(xs.values()) > tolerance_px:
            problems.append(f"{name} at different x: { {k: round(v, 1) for k, v in xs.items()} }")
    return problems


def result_locator(root):
    """The one-line ``Result: ...`` text of the widget."""
    return root.locator(".widget-html-content").filter(has_text=re.compile(r"^\s*Result:")).first


def widget_root(page, controls: list[Control]):
    """The output area holding the widget whose first control is ``controls[0]``."""
    first = controls[0]
    text = page.locator("label.widget-label, .widget-checkbox span", has_text=_exact(first.description))
    return (
        page.locator(".jp-OutputArea-output")
        .filter(has=text)
        .filter(has=page.locator(".widget-html-content", has_text=re.compile(r"^\s*Result:")))
        .first
    )


def expected_texts(module: str, frameworks: tuple[str, ...], calls: list[dict]) -> list[str]:
    """``lessons_lib.widgets.<module>.result_text(**kw)`` for each kw, in a fresh Python.

    A separate process set up like a lesson kernel (``setup_notebook``: seeds,
    one thread, determinism) keeps the test process itself untouched.
    """
    script = (
        "import json, sys\n"
        "import lessons_lib as ll\n"
        f"ll.setup_notebook(0, frameworks={tuple(frameworks)!r}, quiet=True)\n"
        f"from lessons_lib.widgets import {module} as w\n"
        "calls = json.loads(sys.stdin.read())\n"
        "print(json.dumps([w.result_text(**kw) for kw in calls]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(calls), capture_output=True, text=True,
        cwd=ROOT / "notebooks", timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"result_text failed in a subprocess:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def count_code_cells(path: pathlib.Path) -> int:
    nb = json.loads(path.read_text())
    return sum(c["cell_type"] == "code" for c in nb["cells"])


def _click_menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=_exact(menu)).click()
    page.locator(".lm-Menu-itemLabel", has_text=_exact(item)).click()


def open_and_run_all(page, lab_url: str, name: str, n_code_cells: int) -> float:
    """Open a notebook in JupyterLab, clear its stored outputs, run all cells; return seconds taken.

    Clearing first means every widget on the page afterwards is a live one
    from this run, and that "done" can be read from the prompts: each of the
    ``n_code_cells`` prompts must show an execution count again.
    """
    start = time.monotonic()
    # ?reset: a fresh workspace, so notebooks opened by earlier tests are not restored next to this one.
    page.goto(f"{lab_url}/lab/tree/{name}?reset")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=RUN_ALL_TIMEOUT_MS)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=RUN_ALL_TIMEOUT_MS)
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    _click_menu(page, "Edit", "Clear Outputs of All Cells")
    # Cells whose source is hidden (solutions) show no prompt until expanded.
    _click_menu(page, "View", "Expand All Code")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]"
        ".every(p => !/\\d/.test(p.textContent))",
        timeout=30_000,
    )
    _click_menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        "n => { const ps = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]"
        ".map(p => p.textContent.trim());"
        " return ps.length >= n && ps.every(p => /^\\[\\d+\\]:$/.test(p)); }",
        arg=n_code_cells,
        timeout=RUN_ALL_TIMEOUT_MS,
    )
    return time.monotonic() - start


def shut_down_kernel(page) -> None:
    """Stop the notebook's kernel (each lesson kernel holds TensorFlow/PyTorch in memory)."""
    _click_menu(page, "Kernel", "Shut Down Kernel")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='unknown'], "
                           ".jp-Notebook-ExecutionIndicator[data-status='dead']", timeout=30_000)


#: Armed before a move: records, in the page's own clock, the last user event (key, click,
#: select) and the moment the result line first shows the expected text. Their difference is
#: the update time a learner sees: event -> kernel -> compute -> comm message -> DOM.
_ARM_TIMER = """([el, expected]) => {
  const norm = s => s.replace(/\\s+/g, ' ').trim();
  const t = {start: null, end: null};
  const types = ['keydown', 'pointerdown', 'mousedown', 'click', 'input', 'change'];
  const onEvent = () => { if (t.end === null) t.start = performance.now(); };
  for (const type of types) document.addEventListener(type, onEvent, true);
  const obs = new MutationObserver(() => {
    if (t.end === null && t.start !== null && norm(el.textContent) === norm(expected)) {
      t.end = performance.now();
      obs.disconnect();
      for (const type of types) document.removeEventListener(type, onEvent, true);
    }
  });
  obs.observe(el, {subtree: true, childList: true, characterData: true});
  window.__lessonsUpdateTimer = t;
}"""


#: The course's promise: a widget update takes at most this long in the browser (median of a test's moves).
UPDATE_BUDGET_S = 0.100


def record_update_times(name: str, timings: list[float], artifacts_dir: pathlib.Path) -> dict:
    """Summarise one widget's update times; store them in test-artifacts/update_times.json.

    With LESSONS_RECORD_TIMES=1 the summary also replaces this widget's entry in
    bench/results/widget_update_times.json (the figures the README quotes).
    """
    import os
    import statistics

    summary = {"moves": len(timings), "median_ms": round(1000 * statistics.median(timings), 1),
               "min_ms": round(1000 * min(timings), 1), "max_ms": round(1000 * max(timings), 1),
               "all_ms": [round(1000 * t, 1) for t in timings]}
    targets = [artifacts_dir / "update_times.json"]
    if os.environ.get("LESSONS_RECORD_TIMES") == "1":
        targets.append(ROOT / "bench" / "results" / "widget_update_times.json")
    for path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[name] = summary
        path.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n")
    return summary


def update_seconds(root) -> float:
    """Seconds from the last user event to the expected text, for the move just made."""
    t = _page(root).evaluate("() => window.__lessonsUpdateTimer")
    if not t or t["start"] is None or t["end"] is None:
        raise AssertionError(f"the update timer saw no event or no matching text: {t}")
    return (t["end"] - t["start"]) / 1000


def exercise_widget(root, module: str, frameworks: tuple[str, ...], controls: list[Control], moves: list[Move],
                    screenshot: pathlib.Path, timings: list[float] | None = None) -> list[str]:
    """Read the controls, move them one by one, assert each displayed line; return the lines seen.

    Asserts first that the line shown before any move equals ``result_text``
    of the values the page shows, then, after every move, that it changes to
    ``result_text`` of the new values (and differs from the line before).
    A slider move of k steps is made (and checked, and timed) as k single key presses.
    With ``timings`` (a list), appends each update's time in seconds, measured
    in the page from the key press, click or selection to the new text.
    """
    from playwright.sync_api import expect

    by_desc = {c.description: c for c in controls}
    values = {c.keyword: read_value(root, c) for c in controls}
    states = [dict(values)]
    resolved = []
    for move in moves:
        control = by_desc[move.description]
        move = resolve(root, control, move, values[control.keyword])
        for step in unit_steps(control, move, values[control.keyword]):
            values[control.keyword] = value_after(control, step, values[control.keyword])
            values.update(step.also)
            states.append(dict(values))
            resolved.append(step)
    moves = resolved
    expected = expected_texts(module, frameworks, states)
    line = result_locator(root)
    expect(line).to_have_text(expected[0], timeout=RESULT_TIMEOUT_MS)
    for move, before, after in zip(moves, expected, expected[1:]):
        assert after != before, f"move {move} should change the result line, but result_text gives the same"
        if timings is not None:
            line.evaluate(f"el => ({_ARM_TIMER})([el, {json.dumps(after)}])")
        apply_move(root, by_desc[move.description], move)
        expect(line).to_have_text(after, timeout=RESULT_TIMEOUT_MS)
        if timings is not None:
            timings.append(update_seconds(root))
    for c in controls:  # the controls really show the values we computed for
        assert read_value(root, c) == values[c.keyword], (c.description, read_value(root, c), values[c.keyword])
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    _page(root).screenshot(path=str(screenshot), full_page=False)
    return expected
