"""Figures stay readable at 100% zoom: the check itself, the kernel hook, and the stored PNGs."""

from __future__ import annotations

import json
import os
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from lessons_lib import plots  # noqa: E402
from lessons_lib.notebook_setup import CHECK_ENV, KERNEL_ENV  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_small_text_is_reported_with_its_size():
    fig, ax = plt.subplots(figsize=(4, 2), dpi=100)
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_title("big enough", fontsize=10)  # 13.9 px
    ax.legend(fontsize=7)  # 9.7 px
    problems = plots.figure_problems(fig)
    plt.close(fig)
    assert problems == [
        "text 'a line' is 9.7 px high at 100% (fontsize 7 pt at 100 dpi); keep it >= 10 px"
    ]


def test_the_limit_is_10_px_at_the_figures_own_dpi():
    fig, ax = plt.subplots(figsize=(4, 2), dpi=72)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("exactly 10 px", fontsize=10)  # 10 pt at 72 dpi = 10 px
    ax.set_ylabel("just under", fontsize=9.9)
    problems = plots.figure_problems(fig)
    plt.close(fig)
    assert len(problems) == 1 and problems[0].startswith("text 'just under' is 9.9 px")


def test_a_wide_figure_is_reported_and_its_text_counted_shrunk():
    fig, ax = plt.subplots(figsize=(11, 3), dpi=100)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("12 pt is 16.7 px, shrunk to 1100 -> 800 px: 12.1 px", fontsize=12)
    ax.set_xlabel("8 pt", fontsize=8)  # 11.1 px, shrunk: 8.1 px
    problems = plots.figure_problems(fig, width_px=1100)
    plt.close(fig)
    assert problems[0].startswith("figure is 1100 px wide: over 800 px")
    assert len(problems) == 2 and problems[1].startswith("text '8 pt' is 8.1 px high")


def test_default_width_is_the_tight_png_width():
    fig, ax = plt.subplots(figsize=(10, 2), dpi=100)
    ax.plot(np.arange(3))
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    saved = plots.png_size(buf.getvalue())[0]
    estimated = plots.figure_problems(fig)[0].split()[2]
    plt.close(fig)
    assert abs(int(estimated) - saved) <= 2


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "800"])
def test_bad_width_is_a_clear_error(bad):
    fig = plt.figure()
    with pytest.raises(ValueError, match="width_px must be a positive integer, got"):
        plots.figure_problems(fig, width_px=bad)
    plt.close(fig)


def test_png_size_rejects_junk():
    with pytest.raises(ValueError, match="png is not a PNG image"):
        plots.png_size(b"GIF89a" + bytes(30))
    with pytest.raises(TypeError, match="png must be bytes or base64 text, got int"):
        plots.png_size(3)


CELLS = [
    "from lessons_lib import setup_notebook\nsetup_notebook(0, quiet=True)",
    # shown by plt.show() (the inline backend closes it at once)
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
    "ax.set_title('tiny', fontsize=5)\nplt.show()",
    # shown at the end of the cell
    "fig, ax = plt.subplots(figsize=(3, 2))\nax.set_title('fine', fontsize=10)",
    "fig, ax = plt.subplots(figsize=(12, 2))\nax.set_title('wide', fontsize=10)\nplt.show()",
]


def _run(env_extra: dict[str, str]) -> list[str]:
    """Stderr of each cell of a small notebook run in a real kernel."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    saved = dict(os.environ)
    os.environ.update({**KERNEL_ENV, **env_extra})
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return ["".join(o.text for o in c.outputs if o.get("name") == "stderr") for c in nb.cells]


@pytest.mark.slow
def test_the_kernel_check_fires_on_unreadable_figures_only_when_asked():
    checked = _run(CHECK_ENV)
    assert checked[0] == "" and checked[2] == ""
    assert checked[1] == (
        "figure check: text 'tiny' is 6.9 px high at 100% (fontsize 5 pt at 100 dpi); "
        "keep it >= 10 px\n"
    )
    assert checked[3].startswith("figure check: figure is ") and "over 800 px" in checked[3]
    assert _run({"LESSONS_CHECK_FIGURES": "0"}) == ["", "", "", ""]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_figures_are_at_most_800_px_wide(path):
    """Wider PNGs are scaled down by JupyterLab, and their text with them."""
    widths = [
        (i, plots.png_size(out["data"]["image/png"])[0])
        for i, cell in enumerate(json.loads(path.read_text())["cells"])
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]
    assert all(w <= plots.MAX_WIDTH_PX for _, w in widths), widths
