"""PyTorch twins of lesson 04's masking layers, as ``nn.Module``s.

Lesson 04 writes each module in its own cells (``#@save lessons_lib.torch_layers``) and this
module holds the identical code, so that tests and later lessons can import it;
``tests/test_taught_code.py`` fails when the two drift apart. Edit one, edit both.

PyTorch has no implicit masks: every module here takes the mask explicitly,
``forward(x, mask)``, with ``mask`` a bool tensor ``(batch, time)`` that is
True on real steps. The results match :mod:`lessons_lib.keras_layers` on the
same numbers, including the all-masked row (zeros, never NaN). Each torch twin
is named ``Torch...``, so that both can live side by side in one notebook.

=======================  ==============================  ===============================
module                   input -> output                 Keras twin
=======================  ==============================  ===============================
``TorchMaskedMeanPool``  (b, t, f) -> (b, f)             ``MaskedMeanPooling1D``
``TorchMaskedMaxPool``   (b, t, f) -> (b, f)             ``MaskedMaxPooling1D``
``TorchMaskedSoftmax``   (b, t, ...) -> same shape       ``MaskedSoftmax``
``TorchLastValidStep``   (b, t, f) -> (b, f)             ``LastValidStep``
=======================  ==============================  ===============================

``TorchLastValidStep`` applied to the outputs of an ``nn.LSTM`` run on a
post-padded batch gives the same vectors as ``h_n`` from a packed run.
The argument checks (:func:`check_inputs`, :func:`check_bool_mask`) are support
code: the modules call them so that a wrong type or shape raises a clear error.

Examples (the lesson proves each one against its Keras twin):

    >>> x, mask = torch.tensor([[[1.0], [3.0], [0.0]]]), torch.tensor([[True, True, False]])
    >>> TorchMaskedMeanPool()(x, mask), TorchMaskedMaxPool()(-x, mask)
    (tensor([[2.]]), tensor([[-1.]]))
    >>> TorchMaskedSoftmax()(torch.zeros(1, 3), mask)
    tensor([[0.5000, 0.5000, 0.0000]])
    >>> TorchLastValidStep()(x, mask)
    tensor([[3.]])
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "TorchLastValidStep",
    "TorchMaskedMaxPool",
    "TorchMaskedMeanPool",
    "TorchMaskedSoftmax",
    "check_bool_mask",
    "check_inputs",
    "last_valid_index",
]


# --- argument checks (support code: the modules call them, the lesson explains them) -----


def check_inputs(x: torch.Tensor, mask: torch.Tensor, rank: int = 3, *, exact: bool = True) -> None:
    """Raise a TypeError or ValueError unless ``x`` has ``rank`` axes and ``mask`` fits it.

    With ``exact=False``, ``x`` may have ``rank`` or more axes. ``x`` needs at least one
    time step, and ``mask`` must be a bool tensor of shape ``(batch, time)``.

    Example:
        >>> check_inputs(torch.zeros(2, 4, 3), torch.ones(2, 4))
        Traceback (most recent call last):
        ...
        TypeError: mask must be a bool tensor, got dtype torch.float32
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a bool torch.Tensor, got {type(mask).__name__}")
    if (x.dim() != rank) if exact else (x.dim() < rank):
        if exact:
            want = f"{rank}-D (batch, time, features)"
        else:
            want = f"at least {rank}-D (batch, time, ...)"
        raise ValueError(f"x must be {want}, got shape {tuple(x.shape)}")
    if x.shape[1] == 0:
        raise ValueError(f"x must have at least one time step, got shape {tuple(x.shape)}")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor, got dtype {mask.dtype}")
    if tuple(mask.shape) != tuple(x.shape[:2]):
        want = tuple(x.shape[:2])
        raise ValueError(f"mask must have shape (batch, time) = {want}, got {tuple(mask.shape)}")


def check_bool_mask(mask: torch.Tensor) -> None:
    """Raise a TypeError unless ``mask`` is a 2-D bool tensor ``(batch, time)``.

    Example:
        >>> check_bool_mask(torch.ones(2, 3))
        Traceback (most recent call last):
        ...
        TypeError: mask must be a 2-D bool tensor, got torch.float32
    """
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool or mask.dim() != 2:
        got = getattr(mask, "dtype", type(mask).__name__)
        raise TypeError(f"mask must be a 2-D bool tensor, got {got}")


# --- the modules lesson 04 teaches (each one is written out in the lesson) ---------------


class TorchMaskedMeanPool(nn.Module):
    """Mean over the real steps, ``(b, t, f) -> (b, f)``; zeros for a row with none."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        check_inputs(x, mask)
        keep = mask.unsqueeze(-1)  # (batch, time, 1)
        total = torch.where(keep, x, torch.zeros_like(x)).sum(dim=1)
        count = keep.sum(dim=1).to(x.dtype)
        return total / count.clamp(min=1.0)  # a row with no real step: 0 / 1, not 0 / 0


class TorchMaskedMaxPool(nn.Module):
    """Maximum over the real steps, ``(b, t, f) -> (b, f)``; zeros for a row with none."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        check_inputs(x, mask)
        keep = mask.unsqueeze(-1)
        best = torch.where(keep, x, torch.full_like(x, float("-inf"))).amax(dim=1)
        return torch.where(mask.any(dim=1, keepdim=True), best, torch.zeros_like(best))


class TorchMaskedSoftmax(nn.Module):
    """Softmax over the time axis (dim 1), real steps only; padded steps get exactly 0.

    A row with no real step gets all zeros, never NaN.
    """

    def forward(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        check_inputs(scores, mask, 2, exact=False)
        keep = mask.reshape(mask.shape + (1,) * (scores.dim() - 2))  # (batch, time, 1, ...)
        keep = keep.expand_as(scores)
        lowest = torch.full_like(scores, torch.finfo(scores.dtype).min)
        top = torch.where(keep, scores, lowest).amax(dim=1, keepdim=True)  # largest REAL score
        # Shift inside `where` so that masked steps never reach exp() (no inf, no NaN gradient).
        shifted = torch.where(keep, scores - top, torch.zeros_like(scores))
        weights = torch.where(keep, shifted.exp(), torch.zeros_like(scores))
        total = weights.sum(dim=1, keepdim=True)
        return weights / torch.where(total > 0, total, torch.ones_like(total))  # empty row: 0 / 1


def last_valid_index(mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last True step in a (batch, time) bool mask; -1 for a row with none.

    Example:
        >>> last_valid_index(torch.tensor([[True, True, False], [False, True, True], [False] * 3]))
        tensor([ 1,  2, -1])
    """
    check_bool_mask(mask)
    if mask.shape[1] == 0:  # no steps at all, so no row has a last one
        return torch.full((mask.shape[0],), -1, dtype=torch.long, device=mask.device)
    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)  # 0, 1, 2, ...
    return torch.where(mask, positions, torch.full_like(positions, -1)).amax(dim=1)


class TorchLastValidStep(nn.Module):
    """The features at each row's last real step, ``(b, t, f) -> (b, f)``; zeros if there are none.

    It picks the last True of each mask row, so pre- and post-padding both work.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        check_inputs(x, mask)
        last = last_valid_index(mask)  # (batch,), -1 for a row with no real step
        picked = x[torch.arange(x.shape[0], device=x.device), last.clamp(min=0)]  # x[b, last[b]]
        return torch.where((last >= 0).unsqueeze(-1), picked, torch.zeros_like(picked))
