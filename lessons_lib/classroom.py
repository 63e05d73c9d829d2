"""Support for teaching a room: the hosted playground's page and the student edition.

``LessonLinksAsText`` is an nbconvert preprocessor that ``make playground`` gives Voila: the
playground app serves one notebook, so a Markdown link to another lesson
(``[lesson 01](01_mask_matrices.ipynb)``) would answer "403: Forbidden". It becomes plain
text naming the file and how to open it.
"""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor

#: a Markdown link to a notebook in the same folder: [text](NN_name.ipynb) or (NN_name.ipynb#anchor)
LESSON_LINK = re.compile(r"\[([^\]]+)\]\((?:\./)?([0-9A-Za-z_\-]+\.ipynb)(#[^)]*)?\)")


def lesson_links_as_text(markdown: str, folder: str = "notebooks") -> str:
    """Replace each Markdown link to a notebook by its text and the file's path.

    >>> lesson_links_as_text("see [lesson 01](01_mask_matrices.ipynb).")
    'see lesson 01 (`notebooks/01_mask_matrices.ipynb`, open it with `make lab`).'
    >>> lesson_links_as_text("[docs](https://keras.io)")
    '[docs](https://keras.io)'
    """
    if not isinstance(markdown, str):
        raise TypeError(f"markdown must be a str, got {type(markdown).__name__}")
    return LESSON_LINK.sub(lambda m: f"{m.group(1)} (`{folder}/{m.group(2)}`, open it with `make lab`)", markdown)


class LessonLinksAsText(Preprocessor):
    """nbconvert preprocessor: links to other notebooks become text (see ``lesson_links_as_text``).

    Use: ``voila --VoilaExporter.preprocessors=lessons_lib.classroom.LessonLinksAsText``.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = lesson_links_as_text(cell.source)
        return cell, resources


def set_xsrf_cookie(req, notebook=None, cwd=None):
    """Voila ``prelaunch_hook``: make the page response set the ``_xsrf`` cookie.

    Voila's tab-close beacon (``POST /voila/api/shutdown/<kernel>``) sends that cookie's value;
    without it the server refuses the shutdown and the kernel outlives its tab. Reading
    tornado's ``RequestHandler.xsrf_token`` sets the cookie. Returns None (the notebook is
    not changed).

    >>> class Handler:
    ...     xsrf_token = b"2|abc"
    >>> set_xsrf_cookie(Handler()) is None
    True
    """
    token = getattr(req, "xsrf_token", None)
    if token is None:
        raise TypeError(f"req must be a tornado RequestHandler, got {type(req).__name__}")
    return None
