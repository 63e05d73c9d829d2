"""Each stored widget is in its creation state (no browser, no kernel, no imports of the widgets).

A lesson's widget cell creates a widget; the next cell drives it from code and must put every
control back, so that the widget stored in the notebook (what a class sees before anything runs)
shows the values its own cell asked for. For each notebook that displays a widget, this test
reads the creation value of each control from source, without running anything:

1. the keyword given in the widget cell's factory call (``w01.final_state_widget(pad_amount=3)``);
2. else the factory's default for that keyword;
3. else the widget module's ``DEFAULTS[keyword]``;
4. else ``result_text``'s default for that keyword;

and compares it with the control's value in the stored widget state
(``metadata.widgets``), found by the control's description (tests/browser/widget_specs.py).
"""

from __future__ import annotations

import ast
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from widget_specs import SPECS  # noqa: E402

VIEW_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
_MISSING = object()


def _literal_defaults(fn: ast.FunctionDef) -> dict:
    args = fn.args
    out = {}
    for a, d in zip(args.args[len(args.args) - len(args.defaults):], args.defaults):
        try:
            out[a.arg] = ast.literal_eval(d)
        except ValueError:
            pass
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        if d is not None:
            try:
                out[a.arg] = ast.literal_eval(d)
            except ValueError:
                pass
    return out


def module_sources(module: str) -> tuple[dict[str, dict], dict]:
    """(function name -> literal defaults, DEFAULTS dict) of lessons_lib/widgets/<module>.py."""
    tree = ast.parse((ROOT / "lessons_lib" / "widgets" / f"{module}.py").read_text())
    functions, defaults = {}, {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = _literal_defaults(node)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DEFAULTS" for t in node.targets):
            defaults = ast.literal_eval(node.value)
    return functions, defaults


def factory_call(source: str, module: str, functions: dict) -> tuple[str, dict]:
    """(factory name, literal keywords) of the widget cell's call into the widget module."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in functions:
            kwargs = {}
            for kw in node.keywords:
                try:
                    kwargs[kw.arg] = ast.literal_eval(kw.value)
                except ValueError:
                    pass
            return node.func.attr, kwargs
    raise AssertionError(f"no call into lessons_lib.widgets.{module} in the widget cell:\n{source}")


def creation_value(keyword: str, factory: str, call: dict, functions: dict, defaults: dict):
    for source in (call, functions[factory], defaults, functions.get("result_text", {})):
        if keyword in source:
            return source[keyword]
    return _MISSING


def stored_value(state: dict, control) -> object:
    """The value the stored model of ``control`` (found by description) holds."""
    models = [m["state"] for m in state.values() if m["state"].get("description") == control.description]
    assert len(models) == 1, f"{len(models)} stored models are described {control.description!r}"
    model = models[0]
    if control.kind in ("dropdown", "toggle"):
        label = model["_options_labels"][model["index"]]
        return control.labels.get(label, label)
    return model["value"]


def widget_cells(nb: dict) -> list[str]:
    return [
        "".join(c["source"]) for c in nb["cells"]
        if any(VIEW_MIME in o.get("data", {}) for o in c.get("outputs", []))
    ]


WITH_WIDGETS = [p for p in NOTEBOOKS if widget_cells(json.loads(p.read_text()))]
def _param(path: pathlib.Path):
    return pytest.param(path, id=path.stem)


def test_some_notebooks_have_widgets():
    assert len(WITH_WIDGETS) >= 5


@pytest.mark.parametrize("path", [_param(p) for p in WITH_WIDGETS])
def test_stored_widget_is_in_its_creation_state(path):
    nb = json.loads(path.read_text())
    module, _, controls, _ = SPECS[path.name]
    functions, defaults = module_sources(module)
    (cell,) = widget_cells(nb)
    factory, call = factory_call(cell, module, functions)
    state = nb["metadata"]["widgets"][STATE_MIME]["state"]
    wrong = {}
    for control in controls:
        expected = creation_value(control.keyword, factory, call, functions, defaults)
        assert expected is not _MISSING, f"{path.name}: no creation value found for {control.keyword!r}"
        got = stored_value(state, control)
        if got != expected:
            wrong[control.description] = f"stored {got!r}, created {expected!r}"
    assert not wrong, (
        f"{path.name}: the stored widget is not in the state its cell creates: {wrong} "
        "(the cell that drives it must put every control back, then refresh the notebook)"
    )


def test_check_catches_a_moved_control():
    """The check itself: a stored slider moved away from its creation value is reported."""
    path = ROOT / "notebooks" / "01_mask_matrices.ipynb"
    nb = json.loads(path.read_text())
    _, _, controls, _ = SPECS[path.name]
    state = nb["metadata"]["widgets"][STATE_MIME]["state"]
    slider = next(m for m in state.values() if m["state"].get("description") == "pad amount")
    slider["state"]["value"] = 8
    assert stored_value(state, controls[0]) == 8
    functions, defaults = module_sources("lesson01")
    factory, call = factory_call(widget_cells(nb)[0], "lesson01", functions)
    assert factory == "final_state_widget" and call == {"pad_amount": 3, "padding": "post", "use_mask": False}
    assert creation_value("pad_amount", factory, call, functions, defaults) == 3
