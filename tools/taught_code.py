"""One source for taught code: a lesson's `#@save` cells must equal lessons_lib, byte for byte.

Usage: python tools/taught_code.py [notebooks/NN_name.ipynb ...]   (no arguments: every notebook)

The convention (d2l's ``#@save`` idea, checked rather than generated):

* A lesson defines the function or layer it teaches in a code cell whose FIRST
  line is ``#@save lessons_lib.MODULE``, for example ``#@save lessons_lib.keras_layers``.
* Every top-level ``def`` and ``class`` in that cell (decorators included) must
  be identical to the definition of the same name in that module, as
  :func:`inspect.getsource` returns it. Imports and other statements in the
  cell are allowed and not compared.
* Later lessons, tests and the widgets import the library copy. Edit one side,
  and ``tests/test_taught_code.py`` fails until the other side says the same;
  this tool prints exactly which definition differs, and where.

Comparing (rather than generating the module from the notebooks) keeps the
library an ordinary, reviewable Python file, and needs no build step.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import inspect
import json
import pathlib
import re
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^#@save\s+(lessons_lib(?:\.\w+)*)\s*$")


def _definitions(source: str) -> dict[str, str]:
    """Top-level def/class sources of ``source`` (decorators included), by name."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = "\n".join(lines[start - 1 : node.end_lineno])
    return found


def saved_cells(notebook: pathlib.Path) -> list[tuple[int, str, str]]:
    """``(cell index, module name, cell source without the marker)`` for each ``#@save`` cell."""
    nb = json.loads(notebook.read_text())
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        first, _, rest = source.partition("\n")
        match = MARKER.match(first)
        if match:
            cells.append((i, match.group(1), rest))
    return cells


def cell_drift(source: str, module: types.ModuleType, *, where: str = "cell") -> list[str]:
    """Describe every way the definitions in ``source`` differ from ``module``'s; [] when in sync."""
    try:
        defs = _definitions(source)
    except SyntaxError as exc:
        return [f"{where}: does not parse ({exc.msg}, line {exc.lineno})"]
    if not defs:
        return [f"{where}: a #@save cell must define at least one function or class"]
    problems = []
    for name, cell_src in defs.items():
        obj = getattr(module, name, None)
        if obj is None:
            problems.append(f"{where}: {name} is not defined in {module.__name__}")
            continue
        try:
            lib_src = inspect.getsource(obj).rstrip()
        except (OSError, TypeError):
            problems.append(f"{where}: the source of {module.__name__}.{name} cannot be read")
            continue
        if cell_src.rstrip() != lib_src:
            diff = difflib.unified_diff(
                lib_src.splitlines(), cell_src.rstrip().splitlines(),
                f"{module.__name__}.{name}", f"{where}: {name}", lineterm="", n=1,
            )
            problems.append(f"{where}: {name} differs from {module.__name__}.{name}:\n" + "\n".join(diff))
    return problems


def notebook_drift(notebook: pathlib.Path) -> list[str]:
    """Every drift between ``notebook``'s ``#@save`` cells and lessons_lib."""
    problems = []
    for i, module_name, source in saved_cells(notebook):
        where = f"{notebook.name} cell {i}"
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            problems.append(f"{where}: cannot import {module_name} ({exc})")
            continue
        problems += cell_drift(source, module, where=where)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    problems = [p for path in paths for p in notebook_drift(path)]
    total = sum(len(saved_cells(p)) for p in paths)
    for p in problems:
        print(p)
    print(f"{total} #@save cell(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
