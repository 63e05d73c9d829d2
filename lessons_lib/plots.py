"""Small matplotlib pictures used by the lessons, and the check that keeps figures readable.

The pictures return the Axes they drew on. :func:`figure_problems` says what
makes a figure hard to read at 100% zoom (text under :data:`MIN_TEXT_PX` CSS
px, a stored PNG wider than :data:`MAX_WIDTH_PX`, which JupyterLab would shrink);
:func:`lessons_lib.notebook_setup.setup_notebook` runs it on every figure a
lesson shows when ``LESSONS_CHECK_FIGURES=1`` is set.
"""

from __future__ import annotations

import base64
import binascii
import struct

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["MAX_WIDTH_PX", "MIN_TEXT_PX", "figure_problems", "plot_mask", "png_size"]

#: Smallest text on a shown figure, in CSS px at 100% zoom (fontsize in pt x dpi / 72).
MIN_TEXT_PX = 10.0
#: Widest stored PNG: a wider one is scaled down to the output area, and its text with it.
MAX_WIDTH_PX = 800


def png_size(png: bytes | str) -> tuple[int, int]:
    """(width, height) in pixels of a PNG, given as bytes or as base64 text (as notebooks store it).

    Example:
        >>> png_size(base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(8) + struct.pack(">II", 640, 480)))
        (640, 480)
    """
    if isinstance(png, str):
        png = png.encode("ascii")
    if not isinstance(png, bytes):
        raise TypeError(f"png must be bytes or base64 text, got {type(png).__name__}")
    try:
        head = png if png.startswith(b"\x89PNG") else base64.b64decode(png[:32])
    except binascii.Error:
        head = png
    if not head.startswith(b"\x89PNG") or len(head) < 24:
        raise ValueError(f"png is not a PNG image: starts with {head[:8]!r}")
    return struct.unpack(">II", head[16:24])


def figure_problems(fig, width_px: int | None = None) -> list[str]:
    """What makes a matplotlib figure hard to read when shown at 100% zoom; [] when nothing does.

    A text's size on screen is ``fontsize * fig.dpi / 72`` CSS px, times
    ``MAX_WIDTH_PX / width_px`` when the image is wider than ``MAX_WIDTH_PX``
    (JupyterLab shrinks it to the output area). ``width_px`` is the stored
    PNG's width; by default the figure's tight bounding box at ``fig.dpi``,
    as the inline backend saves it. Every visible, non-empty text is checked:
    titles, labels, tick labels, legends, annotations.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots(figsize=(4, 2), dpi=100)
        >>> _ = ax.set_title("fine", fontsize=10)
        >>> figure_problems(fig)
        []
        >>> _ = ax.text(0.5, 0.5, "tiny", fontsize=6)
        >>> figure_problems(fig)
        ["text 'tiny' is 8.3 px high at 100% (fontsize 6 pt at 100 dpi); keep it >= 10 px"]
        >>> figure_problems(fig, width_px=1000)[0]
        'figure is 1000 px wide: over 800 px, JupyterLab shrinks it (and its text, to 0.80x)'
        >>> plt.close(fig)
    """
    import matplotlib.text

    if width_px is None:
        import matplotlib

        renderer = fig.canvas.get_renderer()
        pad = matplotlib.rcParams["savefig.pad_inches"]
        width_px = round((fig.get_tightbbox(renderer).width + 2 * pad) * fig.dpi)
    if isinstance(width_px, bool) or not isinstance(width_px, (int, np.integer)) or width_px <= 0:
        raise ValueError(f"width_px must be a positive integer, got {width_px!r}")
    problems = []
    scale = min(1.0, MAX_WIDTH_PX / width_px)
    if scale < 1:
        problems.append(
            f"figure is {width_px} px wide: over {MAX_WIDTH_PX} px, JupyterLab shrinks it "
            f"(and its text, to {scale:.2f}x)"
        )
    for text in fig.findobj(matplotlib.text.Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        px = text.get_fontsize() * fig.dpi / 72 * scale
        if px < MIN_TEXT_PX:
            problems.append(
                f"text {text.get_text()[:30]!r} is {px:.1f} px high at 100% "
                f"(fontsize {text.get_fontsize():g} pt at {fig.dpi:g} dpi); keep it >= {MIN_TEXT_PX:g} px"
            )
    return problems


def plot_mask(mask: ArrayLike, *, ax=None, title: str = "mask", annotate: bool = True):
    """Draw a ``(batch, time)`` mask as a heatmap: dark = real step, light = padding.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> ax = plot_mask(np.array([[1, 1, 0], [1, 0, 0]], bool))
        >>> ax.get_title()
        'mask'
    """
    import matplotlib.pyplot as plt

    mask = np.asarray(mask).astype(int)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (batch, time), got shape {mask.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * mask.shape[1] + 1.5, 0.5 * mask.shape[0] + 1))
    ax.imshow(mask, cmap="Blues", vmin=-0.3, vmax=1.2, aspect="equal")
    if annotate:
        for (b, t), v in np.ndenumerate(mask):
            ax.text(t, b, str(v), ha="center", va="center", color="white" if v else "gray", fontsize=9)
    ax.set_xlabel("time step t")
    ax.set_ylabel("sequence b")
    ax.set_xticks(range(mask.shape[1]))
    ax.set_yticks(range(mask.shape[0]))
    ax.set_title(title)
    return ax
