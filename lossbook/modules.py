"""``nn.Module`` forms of the losses in :mod:`lossbook.functional`.

Each class stores its hyperparameters and its ``forward`` is one call to the function, as
``torch.nn.BCEWithLogitsLoss`` is to ``torch.nn.functional.binary_cross_entropy_with_logits``.
Arguments are checked when the module is built, so a wrong hyperparameter fails at once.

Examples:
    >>> import torch
    >>> from lossbook import FocalLoss, SCELoss
    >>> FocalLoss()
    FocalLoss(alpha=0.25, gamma=2.0, reduction='mean')
    >>> criterion = SCELoss(alpha=0.1, beta=1.0)
    >>> criterion(torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([0]))
    tensor(0.8760)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from lossbook import functional
from lossbook._validation import check_non_negative, check_reduction

__all__ = ["FocalLoss", "SoftmaxFocalLoss", "SCELoss"]


class FocalLoss(nn.Module):
    """Binary / multi-label focal loss from logits; see :func:`lossbook.functional.focal_loss`.

    Args:
        alpha: weight of the positive class in [0, 1], or ``None`` for no weighting.
        gamma: focusing parameter, ``>= 0``.
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        - input: \\((*)\\) logits; target: \\((*)\\) labels 0 or 1; output: scalar, or \\((*)\\).

    Examples:
        >>> import torch
        >>> from lossbook import FocalLoss
        >>> criterion = FocalLoss(alpha=0.25, gamma=2.0)
        >>> criterion(torch.tensor([3.0, -2.0]), torch.tensor([1.0, 1.0]))
        tensor(0.2063)
    """

    def __init__(self, alpha: float | None = 0.25, gamma: float = 2.0, reduction: str = "mean") -> None:
        super().__init__()
        functional._check_alpha(alpha)
        check_non_negative("gamma", gamma)
        check_reduction(reduction)
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return functional.focal_loss(input, target, self.alpha, self.gamma, self.reduction)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"


class SoftmaxFocalLoss(nn.Module):
    """Multi-class focal loss; see :func:`lossbook.functional.softmax_focal_loss`.

    ``alpha`` (one weight per class) is stored as a buffer, so it follows ``.to(device)``.

    Args:
        alpha: ``None``, or one weight in [0, 1] per class.
        gamma: focusing parameter, ``>= 0``.
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        - input: \\((N, C)\\) or \\((N, C, d_1, \\dots)\\); target: \\((N)\\) or
          \\((N, d_1, \\dots)\\) class indices; output: scalar, or the shape of ``target``.

    Examples:
        >>> import torch
        >>> from lossbook import SoftmaxFocalLoss
        >>> SoftmaxFocalLoss(alpha=[0.25, 0.75], gamma=1.0)
        SoftmaxFocalLoss(alpha=[0.25, 0.75], gamma=1.0, reduction='mean')
    """

    alpha: torch.Tensor | None

    def __init__(
        self,
        alpha: Sequence[float] | torch.Tensor | None = None,
        gamma: float = 2.0,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if alpha is not None:
            alpha = torch.as_tensor(alpha, dtype=torch.get_default_dtype())
            if alpha.dim() != 1 or not ((alpha >= 0) & (alpha <= 1)).all():
                raise ValueError(f"alpha must be None or a 1-D sequence of weights in [0, 1], got {alpha.tolist()}")
        check_non_negative("gamma", gamma)
        check_reduction(reduction)
        self.register_buffer("alpha", alpha)
        self.gamma = gamma
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return functional.softmax_focal_loss(input, target, self.alpha, self.gamma, self.reduction)

    def extra_repr(self) -> str:
        alpha = None if self.alpha is None else [round(a, 6) for a in self.alpha.tolist()]
        return f"alpha={alpha}, gamma={self.gamma}, reduction={self.reduction!r}"


class SCELoss(nn.Module):
    """Symmetric cross entropy, ``alpha * CE + beta * RCE``; see :func:`lossbook.functional.sce_loss`.

    Args:
        alpha: weight of cross entropy, ``>= 0``.
        beta: weight of reverse cross entropy, ``>= 0``.
        log_zero: the constant A replacing log 0 (the paper's -4.0), or ``"clamp"`` for the
            authors' code (A = ln 1e-4, about -9.21).
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        - input: \\((N, C)\\) or \\((N, C, d_1, \\dots)\\); target: \\((N)\\) or
          \\((N, d_1, \\dots)\\) class indices; output: scalar, or the shape of ``target``.

    Examples:
        >>> from lossbook import SCELoss
        >>> SCELoss(alpha=6.0, beta=0.1, log_zero="clamp")
        SCELoss(alpha=6.0, beta=0.1, log_zero='clamp', reduction='mean')
    """

    def __init__(
        self,
        alpha: float,
        beta: float,
        log_zero: float | Literal["clamp"] = -4.0,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_non_negative("alpha", alpha)
        check_non_negative("beta", beta)
        check_reduction(reduction)
        functional._check_log_zero(log_zero)
        self.alpha = alpha
        self.beta = beta
        self.log_zero = log_zero
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return functional.sce_loss(input, target, self.alpha, self.beta, self.log_zero, self.reduction)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, beta={self.beta}, log_zero={self.log_zero!r}, reduction={self.reduction!r}"
