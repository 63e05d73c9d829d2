"""Run notebooks under the simulated Keras 3.16 masking regime and report broken cells.

Usage: python tools/run_under_keras316.py [notebooks/NN_name.ipynb ...]
(no arguments: every notebook whose setup cell uses TensorFlow).

Each notebook runs top to bottom in a fresh kernel, exactly as the refresh tool
runs it, except that one cell is put first:
``lessons_lib.keras_regime.simulate_keras_316(permanent=True)``, which sets
``supports_masking = False`` on ``RNN``, ``Bidirectional`` and
``TimeDistributed`` as Keras 3.16 does. Outputs are expected to differ (Keras
warns on stderr, and some printed numbers are regime-dependent); an error is
not, except in cells tagged ``raises-exception``. Nothing is written back.
tests/test_notebooks_keras316.py runs the same check on every Keras notebook;
tests/test_keras_regimes.py checks the robust recipes under both regimes.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

import nbformat
from nbclient import NotebookClient

from lessons_lib.notebook_setup import KERNEL_ENV

ROOT = pathlib.Path(__file__).resolve().parents[1]
PATCH_CELL = "from lessons_lib.keras_regime import simulate_keras_316\nsimulate_keras_316(permanent=True)"


def keras_notebooks() -> list[pathlib.Path]:
    """Notebooks that run Keras: the setup cell asks for TensorFlow, or the code picks the
    framework "keras" by name (09 imports TensorFlow lazily, on its first Keras run)."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        setup = next((c.source for c in nb.cells if c.cell_type == "code" and "setup_notebook" in c.source), "")
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        if '"tensorflow"' in setup or '"keras"' in code:
            found.append(path)
    return found


def unexpected_errors(path: pathlib.Path, timeout: int = 600) -> list[str]:
    """Run one notebook under the simulated 3.16 regime; describe each cell that raised unexpectedly."""
    os.environ.update(KERNEL_ENV)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PATCH_CELL))
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    problems = []
    for i, cell in enumerate(nb.cells[1:]):
        if cell.cell_type != "code":
            continue
        expected = "raises-exception" in cell.metadata.get("tags", [])
        for out in cell.outputs:
            if out.output_type == "error" and not expected:
                first = cell.source.strip().splitlines()[0][:80] if cell.source.strip() else ""
                problems.append(f"{path.name} cell {i} ({first!r}): {out.ename}: {out.evalue[:300]}")
    setup = next((c for c in nb.cells if c.cell_type == "code" and "setup_notebook" in c.source), None)
    shown = "".join(o.get("text", "") for o in (setup.outputs if setup else []))
    if '"tensorflow"' in (setup.source if setup else "") and "do not pass the mask on" not in shown:
        problems.append(f"{path.name}: the setup cell did not report the simulated 3.16 regime: {shown!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or keras_notebooks()
    failed = 0
    for path in paths:
        problems = unexpected_errors(path)
        print(f"{path.name}: {'OK' if not problems else f'{len(problems)} unexpected error(s)'}", flush=True)
        for p in problems:
            print("  " + p)
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
