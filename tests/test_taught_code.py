"""The code a lesson teaches and the lessons_lib copy later lessons import are one source.

See tools/taught_code.py for the ``#@save lessons_lib.MODULE`` convention.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("taught_code", ROOT / "tools" / "taught_code.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_cells_equal_lessons_lib(path):
    problems = tool.notebook_drift(path)
    assert not problems, "\n\n".join(problems)


def _module_from_source(tmp_path: pathlib.Path, source: str, monkeypatch) -> types.ModuleType:
    file = tmp_path / "fake_lib.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location("fake_lib", file)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # inspect finds a class's source through sys.modules
    spec.loader.exec_module(module)
    return module


LIB = '''import dataclasses


def lengths_of(mask):
    """Lengths of a post-padded mask."""
    return mask.sum(axis=1)


@dataclasses.dataclass
class Thing:
    x: int = 1
'''


def test_identical_definitions_are_in_sync(tmp_path, monkeypatch):
    module = _module_from_source(tmp_path, LIB, monkeypatch)
    cell = "import numpy as np\n\n" + LIB.split("\n", 2)[2]  # the same defs, other imports around them
    assert tool.cell_drift(cell, module) == []


def test_a_change_on_the_notebook_side_is_caught(tmp_path, monkeypatch):
    module = _module_from_source(tmp_path, LIB, monkeypatch)
    cell = LIB.replace("axis=1", "axis=-1")
    problems = tool.cell_drift(cell, module)
    assert len(problems) == 1 and "lengths_of differs" in problems[0] and "axis=-1" in problems[0]


def test_a_change_on_the_library_side_is_caught(tmp_path, monkeypatch):
    module = _module_from_source(tmp_path, LIB.replace("x: int = 1", "x: int = 2"), monkeypatch)
    problems = tool.cell_drift(LIB, module)
    assert len(problems) == 1 and "Thing differs" in problems[0]


def test_a_decorator_is_part_of_the_definition(tmp_path, monkeypatch):
    module = _module_from_source(tmp_path, LIB, monkeypatch)
    problems = tool.cell_drift(LIB.replace("@dataclasses.dataclass\n", ""), module)
    assert len(problems) == 1 and "Thing differs" in problems[0]


def test_missing_names_and_empty_cells_are_reported(tmp_path, monkeypatch):
    module = _module_from_source(tmp_path, LIB, monkeypatch)
    assert "not defined in fake_lib" in tool.cell_drift("def other():\n    pass\n", module)[0]
    assert "at least one function or class" in tool.cell_drift("x = 1\n", module)[0]
    assert "does not parse" in tool.cell_drift("def broken(:\n", module)[0]


def test_a_notebook_with_a_drifted_cell_fails(tmp_path):
    """End to end on a real notebook: copy a #@save cell, change one character, expect a failure."""
    saved = [(p, cells) for p in NOTEBOOKS if (cells := tool.saved_cells(p))]
    if not saved:
        pytest.skip("no lesson has a #@save cell yet")
    path, cells = saved[0]
    nb = json.loads(path.read_text())
    index = cells[0][0]
    lines = "".join(nb["cells"][index]["source"]).split("\n")
    first_def = next(i for i, line in enumerate(lines) if line.startswith(("def ", "class ")))
    lines[first_def] += "  # changed by hand"
    nb["cells"][index]["source"] = "\n".join(lines)
    copy = tmp_path / path.name
    copy.write_text(json.dumps(nb))
    assert tool.notebook_drift(path) == []
    assert tool.notebook_drift(copy) != []
