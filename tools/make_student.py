"""Write the student edition of the course: ``make student`` (``python tools/make_student.py [DEST]``).

DEST (default ``student/``, git-ignored) gets a copy of what ``make lab`` needs (Makefile,
requirements.txt, pyproject.toml, lessons_lib/ with its checkers, tools/jupyter/, bench/ whose
results lessons 07 and 08 read) and the
notebooks with:

- no solution cells (cells with metadata ``jupyter.source_hidden: true``);
- every answer placeholder as the lesson wrote it: the exercise cells themselves are kept
  unchanged (``answer = None  # your answer``, or the popular wrong answer to improve), and
  nothing after them runs a solution;
- no outputs, execution counts or stored widget state (the student runs everything).

A STUDENT.md says how to start. DEST is replaced each time.
"""

from __future__ import annotations

import pathlib
import shutil
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
COPIED = ["Makefile", "requirements.txt", "pyproject.toml", "lessons_lib", "tools/jupyter", "bench"]
NOTE = """# Ragged sequences into LSTMs: student edition

```bash
make lab    # set everything up (first run: a few minutes) and open the lessons in JupyterLab
```

Start with `notebooks/00_start_here.ipynb`. Each lesson ends with "Check yourself" exercises:
replace the placeholder (`answer = None`, or the wrong answer given) and run the cell; the
checker says "Correct" or "Not yet" with a hint. Solutions are not in this copy.
"""


def is_solution(cell) -> bool:
    """True for a solution cell: metadata ``jupyter.source_hidden`` is true."""
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solution cells, outputs, execution counts or widget state."""
    out = nbformat.from_dict(nb)
    out.cells = [c for c in out.cells if not is_solution(c)]
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.get("metadata", {}).pop("execution", None)
    out.metadata.pop("widgets", None)
    return out


def build(dest: pathlib.Path) -> list[pathlib.Path]:
    """Write the student edition into ``dest`` (replaced); return the notebooks written."""
    dest = pathlib.Path(dest)
    if dest.resolve() == ROOT.resolve() or ROOT.resolve().is_relative_to(dest.resolve()):
        raise ValueError(f"dest must not be the repository or above it, got {dest}")
    if dest.exists():
        shutil.rmtree(dest)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")
    for name in COPIED:
        src, dst = ROOT / name, dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dst, ignore=ignore) if src.is_dir() else shutil.copy2(src, dst)
    (dest / "STUDENT.md").write_text(NOTE)
    (dest / "README.md").write_text(NOTE)
    written = []
    (dest / "notebooks").mkdir()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = dest / "notebooks" / path.name
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "student"
    paths = build(target)
    print(f"student edition: {len(paths)} notebooks in {target}/notebooks (no solutions, no outputs)")
