"""``nn.Module`` forms of the losses in [lossbook.functional][].

Each class stores its hyperparameters and its ``forward`` is one call to the function, as
``torch.nn.BCEWithLogitsLoss`` is to ``torch.nn.functional.binary_cross_entropy_with_logits``.
Arguments are checked when the module is built, so a wrong hyperparameter fails at once.
Tensors a module holds are buffers: they are in ``state_dict()`` and follow ``.to()`` and
``.double()``.

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

from lossbook._validation import (
    Reduction,
    check_class_alpha,
    check_focal_hyperparameters,
    check_log_zero,
    check_non_negative,
    check_reduction,
)
from lossbook.functional import focal_loss, sce_loss, softmax_focal_loss

__all__ = ["FocalLoss", "SoftmaxFocalLoss", "SCELoss"]


class FocalLoss(nn.Module):
    """Binary / multi-label focal loss from logits; see [focal_loss][lossbook.functional.focal_loss].

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

    def __init__(
        self, alpha: float | None = 0.25, gamma: float = 2.0, reduction: Reduction = "mean"
    ) -> None:
        super().__init__()
        self.alpha, self.gamma = check_focal_hyperparameters(alpha, gamma, reduction)
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return focal_loss(input, target, self.alpha, self.gamma, self.reduction)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"


class SoftmaxFocalLoss(nn.Module):
    """Multi-class focal loss; see [softmax_focal_loss][lossbook.functional.softmax_focal_loss].

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
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        weights = check_class_alpha(alpha)
        if weights is not None:
            weights = weights.to(torch.get_default_dtype())
        self.gamma = check_non_negative("gamma", gamma)
        check_reduction(reduction)
        self.register_buffer("alpha", weights)
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return softmax_focal_loss(input, target, self.alpha, self.gamma, self.reduction)

    def extra_repr(self) -> str:
        alpha = None if self.alpha is None else [round(a, 6) for a in self.alpha.tolist()]
        return f"alpha={alpha}, gamma={self.gamma}, reduction={self.reduction!r}"


class SCELoss(nn.Module):
    """Symmetric cross entropy, ``alpha * CE + beta * RCE``; see [sce_loss][lossbook.functional.sce_loss].

    Args:
        alpha: weight of cross entropy, ``>= 0``.
        beta: weight of reverse cross entropy, ``>= 0``.
        log_zero: the constant A replacing log 0 (the paper's -4.0), or the published code to
            reproduce: ``"authors-keras"`` or ``"sceloss-reproduce"`` (both A = ln 1e-4).
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        - input: \\((N, C)\\) or \\((N, C, d_1, \\dots)\\); target: \\((N)\\) or
          \\((N, d_1, \\dots)\\) class indices; output: scalar, or the shape of ``target``.

    Examples:
        >>> from lossbook import SCELoss
        >>> SCELoss(alpha=6.0, beta=0.1, log_zero="authors-keras")
        SCELoss(alpha=6.0, beta=0.1, log_zero='authors-keras', reduction='mean')
    """

    def __init__(
        self,
        alpha: float,
        beta: float,
        log_zero: float | Literal["authors-keras", "sceloss-reproduce"] = -4.0,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        self.alpha = check_non_negative("alpha", alpha)
        self.beta = check_non_negative("beta", beta)
        self.log_zero = check_log_zero(log_zero)
        check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sce_loss(input, target, self.alpha, self.beta, self.log_zero, self.reduction)

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, beta={self.beta}, log_zero={self.log_zero!r}, "
            f"reduction={self.reduction!r}"
        )
