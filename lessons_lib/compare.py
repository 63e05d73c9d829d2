"""How far apart are two results? One small helper every parity claim uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Comparison", "compare"]


def _to_numpy(a: ArrayLike) -> np.ndarray:
    if hasattr(a, "detach"):  # a torch tensor
        a = a.detach().cpu().numpy()
    elif hasattr(a, "numpy") and not isinstance(a, np.ndarray):  # a TF tensor
        a = a.numpy()
    return np.asarray(a, dtype=np.float64)


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare`. ``bool(cmp)`` is ``cmp.allclose``."""

    max_abs_diff: float
    allclose: bool
    atol: float
    label: str = ""

    def __bool__(self) -> bool:
        return self.allclose

    def __repr__(self) -> str:
        # Differences below atol print as "< atol" so stored outputs do not
        # depend on the last bits of float arithmetic; real differences print
        # as a number with 3 significant digits.
        if self.allclose:
            diff = f"< {self.atol:.0e}"
        else:
            diff = f"= {self.max_abs_diff:.3g}"
        prefix = f"{self.label}: " if self.label else ""
        return f"{prefix}max abs diff {diff} -> allclose(atol={self.atol:.0e}): {self.allclose}"


def compare(a: ArrayLike, b: ArrayLike, *, atol: float = 1e-6, label: str = "") -> Comparison:
    """Compare two arrays (NumPy, TF or torch) of the same shape.

    Returns a :class:`Comparison` whose repr reads like
    ``max abs diff < 1e-06 -> allclose(atol=1e-06): True``. Equal within
    ``atol`` means ``max |a - b| <= atol`` (no relative tolerance).

    Example:
        >>> compare([1.0, 2.0], [1.0, 2.0000001])
        max abs diff < 1e-06 -> allclose(atol=1e-06): True
        >>> compare([0.0, 1.0], [0.5, 1.0], label="pre vs post")
        pre vs post: max abs diff = 0.5 -> allclose(atol=1e-06): False
    """
    x, y = _to_numpy(a), _to_numpy(b)
    if x.shape != y.shape:
        raise ValueError(f"a and b must have the same shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        return Comparison(0.0, True, atol, label)
    nan_x, nan_y = np.isnan(x), np.isnan(y)
    if (nan_x != nan_y).any():
        return Comparison(float("nan"), False, atol, label)
    diff = float(np.max(np.abs(np.where(nan_x, 0.0, x - y))))
    return Comparison(diff, diff <= atol, atol, label)
