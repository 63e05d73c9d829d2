"""PyTorch versions of lesson 04's masking layers, as ``nn.Module``s.

PyTorch has no implicit masks: every module here takes the mask explicitly,
``forward(x, mask)``, with ``mask`` a bool tensor ``(batch, time)`` that is
True on real steps. The results match :mod:`lessons_lib.keras_layers` on the
same numbers, including the all-masked row (zeros, never NaN).

==================  ==============================  ===============================
module              input -> output                 Keras twin
==================  ==============================  ===============================
``MaskedMeanPool``  (b, t, f) -> (b, f)             ``MaskedMeanPooling1D``
``MaskedMaxPool``   (b, t, f) -> (b, f)             ``MaskedMaxPooling1D``
``MaskedSoftmax``   (b, t, ...) -> same shape       ``MaskedSoftmax``
``LastValidStep``   (b, t, f) -> (b, f)             ``LastValidStep``
==================  ==============================  ===============================

``LastValidStep`` applied to the outputs of an ``nn.LSTM`` run on a
post-padded batch gives the same vectors as ``h_n`` from a packed run.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LastValidStep", "MaskedMaxPool", "MaskedMeanPool", "MaskedSoftmax", "last_valid_index"]


def _check(x: torch.Tensor, mask: torch.Tensor, *, min_rank: int = 3, exact_rank: bool = True) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a bool torch.Tensor, got {type(mask).__name__}")
    if (x.dim() != min_rank) if exact_rank else (x.dim() < min_rank):
        want = f"{min_rank}-D (batch, time, features)" if exact_rank else f"at least {min_rank}-D (batch, time, ...)"
        raise ValueError(f"x must be {want}, got shape {tuple(x.shape)}")
    if x.shape[1] == 0:
        raise ValueError(f"x must have at least one time step, got shape {tuple(x.shape)}")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor, got dtype {mask.dtype}")
    if tuple(mask.shape) != tuple(x.shape[:2]):
        raise ValueError(f"mask must have shape (batch, time) = {tuple(x.shape[:2])}, got {tuple(mask.shape)}")


def _expand_like(mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(batch, time) -> (batch, time, 1, ...) so that it broadcasts against x."""
    return mask.reshape(mask.shape + (1,) * (x.dim() - 2))


def last_valid_index(mask: torch.Tensor) -> torch.Tensor:
    """Index of the last True step of each row, or -1 for a row with none.

    Example:
        >>> last_valid_index(torch.tensor([[True, True, False], [False, True, True], [False, False, False]]))
        tensor([ 1,  2, -1])
    """
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool or mask.dim() != 2:
        raise TypeError(f"mask must be a 2-D bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)}")
    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    if mask.shape[1] == 0:
        return torch.full((mask.shape[0],), -1, dtype=torch.long, device=mask.device)
    return torch.where(mask, positions, torch.full_like(positions, -1)).amax(dim=1)


class MaskedMeanPool(nn.Module):
    """Mean over real steps, ``(b, t, f) -> (b, f)``; zeros for an all-masked row.

    Example:
        >>> x = torch.tensor([[[1.0], [3.0], [0.0]]])
        >>> MaskedMeanPool()(x, torch.tensor([[True, True, False]]))
        tensor([[2.]])
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _check(x, mask)
        keep = mask.unsqueeze(-1)
        total = torch.where(keep, x, torch.zeros_like(x)).sum(dim=1)
        count = keep.sum(dim=1).to(x.dtype)
        return total / count.clamp(min=1.0)


class MaskedMaxPool(nn.Module):
    """Maximum over real steps, ``(b, t, f) -> (b, f)``; zeros for an all-masked row.

    Example:
        >>> x = torch.tensor([[[-1.0], [-3.0], [0.0]]])
        >>> MaskedMaxPool()(x, torch.tensor([[True, True, False]]))
        tensor([[-1.]])
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _check(x, mask)
        keep = mask.unsqueeze(-1)
        best = torch.where(keep, x, torch.full_like(x, float("-inf"))).amax(dim=1)
        return torch.where(mask.any(dim=1, keepdim=True), best, torch.zeros_like(best))


class MaskedSoftmax(nn.Module):
    """Softmax over the time axis (dim 1) using real steps only.

    Weights sum to 1 over the real steps of each row, are exactly 0 on padded
    steps, and are all 0 (not NaN) on a row with no real step.

    Example:
        >>> MaskedSoftmax()(torch.zeros(1, 3), torch.tensor([[True, True, False]]))
        tensor([[0.5000, 0.5000, 0.0000]])
    """

    def forward(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _check(scores, mask, min_rank=2, exact_rank=False)
        keep = _expand_like(mask, scores).expand_as(scores)
        lowest = torch.full_like(scores, torch.finfo(scores.dtype).min)
        top = torch.where(keep, scores, lowest).amax(dim=1, keepdim=True)
        # Shift inside `where` so that masked steps never reach exp() (no inf, no NaN gradient).
        shifted = torch.where(keep, scores - top, torch.zeros_like(scores))
        weights = torch.where(keep, shifted.exp(), torch.zeros_like(scores))
        total = weights.sum(dim=1, keepdim=True)
        return weights / torch.where(total > 0, total, torch.ones_like(total))


class LastValidStep(nn.Module):
    """The features at each row's last real step, ``(b, t, f) -> (b, f)``.

    Works for pre- and post-padding; an all-masked row gives zeros.

    Example:
        >>> x = torch.tensor([[[1.0], [2.0], [0.0]]])
        >>> LastValidStep()(x, torch.tensor([[True, True, False]]))
        tensor([[2.]])
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _check(x, mask)
        last = last_valid_index(mask)
        picked = x[torch.arange(x.shape[0], device=x.device), last.clamp(min=0)]
        return torch.where((last >= 0).unsqueeze(-1), picked, torch.zeros_like(picked))
