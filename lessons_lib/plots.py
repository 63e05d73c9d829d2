"""Small matplotlib pictures used by the lessons. Each returns the Axes it drew on."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["plot_mask"]


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
