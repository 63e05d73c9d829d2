"""Re-execute notebooks top to bottom in a fresh kernel and store clean outputs.

Usage: python tools/refresh_notebooks.py [notebooks/NN_name.ipynb ...]
(no arguments: every notebook under notebooks/). ``make notebooks`` runs it.

Each notebook runs in a fresh kernel of the current Python environment, with
the notebook's folder as working directory and lessons_lib.KERNEL_ENV set,
exactly as ``pytest --nbval --nbval-current-env`` runs it. Volatile data is
dropped: per-cell timing metadata, and the frames of expected tracebacks
(cells tagged ``raises-exception``), which hold machine paths; nbval does not
compare tracebacks, only the exception name and message.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

from lessons_lib.notebook_setup import KERNEL_ENV

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _clean(nb: nbformat.NotebookNode) -> list[str]:
    problems = []
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if out.output_type == "error":
                out.traceback = [f"{out.ename}: {out.evalue}"]
            if out.output_type == "stream" and out.name == "stderr":
                problems.append(f"cell {i} wrote to stderr: {out.text[:200]!r}")
    return problems


def refresh(path: pathlib.Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    problems = _clean(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    for p in problems:
        print(f"  WARNING {path.name}: {p}", file=sys.stderr)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    os.environ.update(KERNEL_ENV)
    for path in paths:
        seconds = refresh(path.resolve())
        print(f"{path.name}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
