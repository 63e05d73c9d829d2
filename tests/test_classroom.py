"""lessons_lib.classroom: lesson links in the playground app become text, not 403 links."""

import nbformat
import pytest

from lessons_lib.classroom import LessonLinksAsText, lesson_links_as_text


def test_links_to_lessons_become_paths_and_other_links_stay():
    text = "lessons [01](01_mask_matrices.ipynb) to [04](./04_custom_masking_layers.ipynb#top); [k](https://keras.io)"
    out = lesson_links_as_text(text)
    assert "](" not in out.replace("](https://keras.io)", "")
    assert "`notebooks/01_mask_matrices.ipynb`" in out and "`notebooks/04_custom_masking_layers.ipynb`" in out
    assert "[k](https://keras.io)" in out


def test_bad_input_is_rejected_by_name():
    with pytest.raises(TypeError, match="markdown"):
        lesson_links_as_text(None)


def test_preprocessor_changes_markdown_cells_only():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("see [08](08_myths_and_facts.ipynb)"),
        nbformat.v4.new_code_cell("x = '[08](08_myths_and_facts.ipynb)'"),
    ])
    out, _ = LessonLinksAsText().preprocess(nb, {})
    assert out.cells[0].source == "see 08 (`notebooks/08_myths_and_facts.ipynb`, open it with `make lab`)"
    assert out.cells[1].source == "x = '[08](08_myths_and_facts.ipynb)'"


def test_09_links_to_lessons_are_all_rewritten():
    """The playground notebook's lesson links are the kind the preprocessor rewrites."""
    import pathlib

    nb = nbformat.read(pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "09_playground.ipynb", 4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert ".ipynb)" in md
    assert ".ipynb)" not in lesson_links_as_text(md)
