"""compare, setup_notebook, checkers, the lesson 01 widget and the authoring/refresh tools."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import lessons_lib as ll
from lessons_lib.checks import lesson01
from lessons_lib.padding_effects import final_state_vs_reference, numeric_input_gradient

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_compare_reports_diff_and_allclose():
    same = ll.compare([1.0, 2.0], [1.0, 2.0 + 1e-9])
    assert same and same.max_abs_diff < 1e-8
    assert repr(same) == "max abs diff < 1e-06 -> allclose(atol=1e-06): True"
    diff = ll.compare(np.zeros(3), [0.0, 0.25, -0.5], atol=1e-3, label="x")
    assert not diff and diff.max_abs_diff == 0.5
    assert repr(diff) == "x: max abs diff = 0.5 -> allclose(atol=1e-03): False"


def test_compare_handles_nan_torch_and_bad_shapes():
    import torch

    assert ll.compare(torch.tensor([1.0, float("nan")]), np.array([1.0, np.nan]))
    assert not ll.compare([np.nan], [0.0])
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        ll.compare(np.zeros(2), np.zeros(3))


def test_setup_notebook_prints_versions_and_rejects_unknown(capsys):
    ll.setup_notebook(0, frameworks=("torch",))
    line = capsys.readouterr().out.strip()
    assert line.startswith("python 3.11 | numpy ") and "torch 2.13.0" in line and line.endswith("device CPU")
    import torch

    assert torch.are_deterministic_algorithms_enabled() and torch.get_num_threads() == 1
    with pytest.raises(ValueError, match="unknown"):
        ll.setup_notebook(0, frameworks=("jax",))


def test_setup_notebook_switches_ipython_to_minimal_tracebacks_quietly(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("xmode", "Context")
        capsys.readouterr()
        ll.setup_notebook(0, quiet=True)
        assert shell.InteractiveTB.mode == "Minimal"
        assert capsys.readouterr().out == ""  # no "Exception reporting mode: Minimal" in the setup cell
        ll.setup_notebook(0, quiet=True, xmode="context")
        assert shell.InteractiveTB.mode == "Context"
        shell.run_line_magic("xmode", "Verbose")
        capsys.readouterr()
        ll.setup_notebook(0, quiet=True, xmode=None)  # opting out leaves the mode alone
        assert shell.InteractiveTB.mode == "Verbose"
        with pytest.raises(ValueError, match="xmode must be None or one of"):
            ll.setup_notebook(0, xmode="short")
        assert capsys.readouterr().out == ""
    finally:
        InteractiveShell.clear_instance()


def test_setup_notebook_outside_ipython_leaves_exceptions_alone(capsys):
    from lessons_lib.notebook_setup import set_exception_mode

    assert set_exception_mode("Minimal") is False
    ll.setup_notebook(0, quiet=True)
    assert capsys.readouterr().out == ""


def test_minimal_xmode_in_a_kernel_gives_a_one_line_error():
    """In a real kernel, an error after the setup cell is one line; the setup cell prints no mode notice."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import lessons_lib as ll\nll.setup_notebook(0)"),
        nbformat.v4.new_code_cell("1 / 0"),
    ]
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    setup_text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "Exception reporting mode" not in setup_text and setup_text.startswith("python 3.")
    (error,) = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert error.ename == "ZeroDivisionError"
    assert len(error.traceback) == 1, error.traceback  # Minimal: just "ZeroDivisionError: division by zero"


def test_final_state_vs_reference_mask_fixes_both_sides():
    w = ll.random_lstm_weights(3, 4, seed=5)
    seq = ll.random_ragged_batch([5], 3, seed=5)[0]
    for side in ("pre", "post"):
        assert final_state_vs_reference(seq, w, 4, side, use_mask=True)["max_abs_diff"] < 1e-12
        assert final_state_vs_reference(seq, w, 4, side, use_mask=False)["max_abs_diff"] > 1e-3
    assert final_state_vs_reference(seq, w, 0, "pre", use_mask=False)["max_abs_diff"] == 0
    with pytest.raises(ValueError, match="pad_amount must be >= 0, got -1"):
        final_state_vs_reference(seq, w, -1)
    with pytest.raises(ValueError, match=r"sequence must be 2-D"):
        final_state_vs_reference(seq[0], w, 1)


def test_numeric_gradient_matches_analytic_and_keeps_input():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = numeric_input_gradient(lambda a: float((a**3).sum()), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-6)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])


def test_lesson01_checkers(capsys):
    assert not lesson01.exercise_1(None)
    capsys.readouterr()
    assert lesson01.exercise_1(ll.sequence_mask([2, 4, 1], 5, padding="pre"))
    assert lesson01.exercise_2(np.array([3, 1, 5, 0]))
    assert capsys.readouterr().out == "Correct: mask is right.\nCorrect: lengths is right.\n"
    assert not lesson01.exercise_2([3, 1, 5, 0.0])
    assert "integers" in capsys.readouterr().out


def _feedback(check, answer, capsys) -> str:
    capsys.readouterr()
    assert not check(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet: ") and out.count("\n") == 1
    return out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (ll.sequence_mask([2, 4, 1], 5), "POST-padding mask"),  # the wrong side
        (ll.sequence_mask([2, 4, 1], 5).astype(int), "POST-padding mask"),
        (~ll.sequence_mask([2, 4, 1], 5, padding="pre"), "True marks the padding"),
        (np.arange(5) > (5 - np.array([2, 4, 1]))[:, None], "one True step too few"),
        (ll.sequence_mask([2, 4, 1], 5, padding="pre").astype(int), "the values are right"),
        (ll.sequence_mask([2, 4, 1], 5, padding="pre").T, "one ROW per sequence"),
        (np.eye(3, 5, dtype=bool), "differs at index (0, 0): got True, expected False"),
    ],
)
def test_lesson01_exercise_1_names_the_mistake(answer, says, capsys):
    assert says in _feedback(lesson01.exercise_1, answer, capsys)


_PADDED = lesson01.EXERCISE_2_PADDED


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (np.argmax(_PADDED == 0, axis=1), "row 2 has none, all False, and argmax of all False is 0, not 5"),
        (np.argmax(_PADDED != 0, axis=1), "argmax of a bool mask gives the index of its FIRST True"),
        (np.argmax(_PADDED, axis=1), "where the largest/smallest token sits"),
        (5 - (_PADDED != 0).sum(axis=1), "PADDING steps"),
        ((_PADDED != 0).sum(axis=1) - 1, "indices of the last real steps"),
        ([3, 1, 4, 0], "differs at index (2,): got 4, expected 5"),
    ],
)
def test_lesson01_exercise_2_names_the_mistake(answer, says, capsys):
    assert says in _feedback(lesson01.exercise_2, answer, capsys)


def test_lesson01_checkers_more(capsys):
    assert not lesson01.exercise_3({"a", "d"})
    assert not lesson01.exercise_3({"d"})
    assert not lesson01.exercise_3({"z"})
    assert lesson01.exercise_3({"d", "e"})
    assert capsys.readouterr().out.splitlines()[-1].startswith("Correct: ")


def test_lesson01_widget_follows_its_controls():
    from lessons_lib.widgets import lesson01 as w01

    box = w01.final_state_widget()
    line = box.children[3]
    assert line.value == w01.result_text(3, "post", False)
    box.controls["use_mask"].value = True
    assert line.value == w01.result_text(3, "post", True) and line.value.endswith("= 0.000000")
    box.controls["padding"].value = "pre"
    box.controls["use_mask"].value = False
    box.controls["pad_amount"].value = 7
    assert line.value == w01.result_text(7, "pre", False)
    assert box.result["max_abs_diff"] > 1e-3 and box.result["padded_length"] == 13


def test_py2nb_builds_tags_hidden_cells_and_ids(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import py2nb
    finally:
        sys.path.pop(0)
    nb = py2nb.convert("# %% [markdown]\n# # T\n# %%\nx = 1\n# %% tags=raises-exception hidden\n1/0\n")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[0].source == "# T" and nb.cells[1].id == "c02"
    assert nb.cells[2].metadata == {"tags": ["raises-exception"], "jupyter": {"source_hidden": True}}
    with pytest.raises(ValueError, match="unknown header word"):
        py2nb.convert("# %% hiden\nx = 1\n")


@pytest.mark.slow
def test_refresh_tool_executes_in_order_and_trims_tracebacks(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import py2nb
    finally:
        sys.path.pop(0)
    import nbformat

    path = tmp_path / "01_tiny.ipynb"
    source = (
        "# %%\nprint(6 * 7)\n"
        "# %% tags=raises-exception\nraise ValueError('bad x')\n"
        "# %%\nimport time\nprint('a', flush=True)\ntime.sleep(0.2)\nprint('b')\n"
        "# %%\nimport ipywidgets\nipywidgets.IntSlider(description='n')\n"
    )
    nbformat.write(py2nb.convert(source), path)
    subprocess.run([sys.executable, str(ROOT / "tools" / "refresh_notebooks.py"), str(path)], check=True, capture_output=True)
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == [1, 2, 3, 4]
    assert code[2]["outputs"] == [{"name": "stdout", "output_type": "stream", "text": ["a\n", "b\n"]}]
    view = code[3]["outputs"][0]["data"]["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == f"{1:032x}"  # renumbered from a random UUID
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert sorted(state) == [f"{i:032x}" for i in range(1, len(state) + 1)]
    assert code[0]["outputs"][0]["text"] == ["42\n"]
    assert code[1]["outputs"][0]["traceback"] == ["ValueError: bad x"]
    assert "execution" not in code[0]["metadata"]
