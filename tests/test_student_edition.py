"""The student edition (``make student``, tools/make_student.py): built, then run top to bottom.

Built into a temporary folder. Checked for every notebook: no solution cell, no output, no
stored widget state, every exercise cell kept as the lesson wrote it. Run with nbclient, top to
bottom in a fresh kernel: no error except in cells tagged ``raises-exception``, and every
checker call prints "Not yet:" and never "Correct:". Running all twelve notebooks takes several
minutes, so ``make test`` runs 01 and 03 (NumPy and PyTorch, about a minute); set
``LESSONS_STUDENT_ALL=1`` to run every notebook.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALWAYS = {"01_mask_matrices.ipynb", "03_pytorch_packing.ipynb"}
RUN_ALL = os.environ.get("LESSONS_STUDENT_ALL") == "1"
CHECK_CALL = re.compile(r"\bcheck\.exercise_\w*\(")


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    dest = tmp_path_factory.mktemp("student") / "course"
    make_student.build(dest)
    return dest


def test_edition_has_what_make_lab_needs(edition):
    for name in ["Makefile", "requirements.txt", "pyproject.toml", "STUDENT.md",
                 "lessons_lib/checks/_common.py", "tools/jupyter/jupyter_lab_config.py"]:
        assert (edition / name).exists(), name
    assert sorted(p.name for p in (edition / "notebooks").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def test_student_folder_is_git_ignored():
    assert "student/" in (ROOT / ".gitignore").read_text().split()


def test_refuses_to_overwrite_the_repository():
    with pytest.raises(ValueError, match="dest"):
        make_student.build(ROOT)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_solutions_no_outputs_exercises_kept(edition, path):
    teacher = nbformat.read(path, as_version=4)
    student = nbformat.read(edition / "notebooks" / path.name, as_version=4)
    assert not any(make_student.is_solution(c) for c in student.cells)
    assert "widgets" not in student.metadata
    assert all(not c.outputs and c.execution_count is None for c in student.cells if c.cell_type == "code")
    kept = [c.source for c in teacher.cells if not make_student.is_solution(c)]
    assert [c.source for c in student.cells] == kept
    solutions = sum(make_student.is_solution(c) for c in teacher.cells)
    assert len(student.cells) == len(teacher.cells) - solutions


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


@pytest.mark.slow
@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.stem, marks=[] if (RUN_ALL or p.name in ALWAYS) else [
        pytest.mark.skip(reason="set LESSONS_STUDENT_ALL=1 to run every student notebook")])
    for p in NOTEBOOKS
])
def test_student_notebook_runs_and_every_checker_says_not_yet(edition, path):
    nb = nbformat.read(edition / "notebooks" / path.name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(edition / "notebooks")}}).execute()
    checks = [c for c in nb.cells if c.cell_type == "code" and CHECK_CALL.search(c.source)]
    errors = [c.source[:80] for c in nb.cells if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.outputs)
              and "raises-exception" not in c.metadata.get("tags", [])]
    assert not errors, f"{path.name}: untagged cells raised: {errors}"
    for cell in checks:
        out = _stdout(cell)
        assert "Not yet:" in out and "Correct:" not in out, f"{path.name}: {cell.source[:80]!r} printed {out!r}"
    if path.name.startswith(("01", "03")):
        assert len(checks) == 3
