"""Binary cross entropy on logits, written out in the form that never overflows.

The chapter "Binary classification" derives the stable form of binary cross entropy on a logit
\\(x\\) and a target \\(y\\),

$$
\\ell = \\max(x, 0) - x\\,y + \\log\\left(1 + e^{-|x|}\\right),
$$

and checks ``nn.BCEWithLogitsLoss`` against it. ``bce_with_logits_terms`` is that formula on
its own (only ``torch``, meant to be copied); ``bce_with_logits`` adds the argument checks, the
``weight`` and ``pos_weight`` options and the reduction, with the same meaning as in
``torch.nn.functional.binary_cross_entropy_with_logits``; ``StableBCEWithLogitsLoss`` is the
module form.

Examples:
    >>> import torch
    >>> from lossbook.stable import bce_with_logits
    >>> logits = torch.tensor([-200.0, -2.0, 0.0, 3.0, 200.0])
    >>> labels = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
    >>> bce_with_logits(logits, labels, reduction="none")
    tensor([2.0000e+02, 1.2693e-01, 6.9315e-01, 4.8587e-02, 2.0000e+02])
"""

from __future__ import annotations

import torch
from torch import nn

from lossbook._validation import (
    Reduction,
    check_broadcastable_to,
    check_floating,
    check_reduction,
    check_same_shape,
    reduce,
)

__all__ = ["bce_with_logits_terms", "bce_with_logits", "StableBCEWithLogitsLoss"]


# --8<-- [start:bce_with_logits_terms]
def bce_with_logits_terms(
    logits: torch.Tensor, target: torch.Tensor, pos_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Element-wise binary cross entropy of logits, ``max(x, 0) - x*y + log1p(e^-|x|)``.

    No exponential sees a positive argument, so nothing overflows. With ``pos_weight`` w
    the positive term is weighted as in PyTorch:
    ``(1 - y)*x + (1 + (w - 1)*y) * log(1 + exp(-x))``.

    Args:
        logits: raw scores x, any shape, floating point.
        target: labels y in [0, 1], same shape as ``logits``.
        pos_weight: weight of the positive term, broadcast against ``logits``, or
            ``None``.

    Returns:
        The loss of each element, with the shape of ``logits``.

    Examples:
        >>> import torch
        >>> from lossbook.stable import bce_with_logits_terms
        >>> ones = torch.tensor([1.0, 1.0, 1.0])
        >>> bce_with_logits_terms(torch.tensor([-100.0, 0.0, 2.0]), ones)
        tensor([100.0000,   0.6931,   0.1269])
        >>> x, y = torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0])
        >>> bce_with_logits_terms(x, y, torch.tensor(3.0))
        tensor([2.0794, 0.6931])
    """
    magnitude = logits.abs()
    log1p_exp_neg_abs = torch.log1p(torch.exp(-magnitude))  # exp of x <= 0: no overflow
    # max(x, 0) as (x + |x|) / 2: the same value, and autograd's slope at x = 0 is 1/2
    relu = (logits + magnitude) / 2
    if pos_weight is None:
        return relu - logits * target + log1p_exp_neg_abs
    # log(1 + exp(-x)) = log(1 + exp(x)) - x
    softplus_neg = relu - logits + log1p_exp_neg_abs
    return (1 - target) * logits + (1 + (pos_weight - 1) * target) * softplus_neg
# --8<-- [end:bce_with_logits_terms]


def bce_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    pos_weight: torch.Tensor | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Binary cross entropy on logits, as ``F.binary_cross_entropy_with_logits`` computes it.

    $$
    \\ell_n = -w_n \\Big[ p\\, y_n \\log \\sigma(x_n) + (1 - y_n) \\log\\big(1 - \\sigma(x_n)\\big) \\Big],
    $$

    evaluated in the overflow-free form of ``bce_with_logits_terms``, then reduced:
    ``"none"`` returns every \\(\\ell_n\\), ``"sum"`` their sum and ``"mean"`` their sum divided
    by the number of elements (not by the sum of the weights).

    Args:
        input: logits \\(x\\), any shape, floating point (no sigmoid applied).
        target: labels \\(y\\) in \\([0, 1]\\) (soft labels allowed), same shape and a floating dtype.
        weight: \\(w\\), a factor for each element's loss, broadcast to the input's shape.
        pos_weight: \\(p\\), a factor for the positive term only, broadcast to the input's shape
            (shape ``(L,)`` gives one factor per label column); for class imbalance use
            the number of negatives divided by the number of positives.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``.

    Raises:
        ValueError: if a tensor is not floating point, the shapes differ, ``weight`` or
            ``pos_weight`` does not broadcast to the input, or ``reduction`` is unknown.

    Shape:
        - input: \\((*)\\), any number of dimensions.
        - target: \\((*)\\), the same shape as the input.
        - output: scalar, or \\((*)\\) for ``reduction="none"``.

    Examples:
        >>> import torch
        >>> import torch.nn.functional as F
        >>> from lossbook.stable import bce_with_logits
        >>> logits = torch.tensor([[2.0, -1.0], [-3.0, 0.5]])
        >>> labels = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> bce_with_logits(logits, labels)
        tensor(0.9907)
        >>> F.binary_cross_entropy_with_logits(logits, labels)
        tensor(0.9907)
        >>> weights = torch.tensor([3.0, 1.0])
        >>> bce_with_logits(logits, labels, pos_weight=weights, reduction="sum")
        tensor(10.3139)
        >>> bce_with_logits(logits, labels.long())
        Traceback (most recent call last):
        ...
        ValueError: target must be a floating-point tensor, got dtype torch.int64
    """
    check_floating("input", input)
    check_floating("target", target)
    check_same_shape("target", target, input)
    if weight is not None:
        check_broadcastable_to("weight", weight, input.shape)
    if pos_weight is not None:
        check_broadcastable_to("pos_weight", pos_weight, input.shape)
    check_reduction(reduction)
    loss = bce_with_logits_terms(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


class StableBCEWithLogitsLoss(nn.Module):
    """Module form of ``bce_with_logits``; stores ``weight``, ``pos_weight`` and ``reduction``.

    ``weight`` and ``pos_weight`` are buffers, as in ``nn.BCEWithLogitsLoss``: they are in
    ``state_dict()`` and follow ``.to(device)`` and ``.double()``.

    Args:
        weight: a factor for each element's loss, broadcast to the input's shape.
        pos_weight: a factor for the positive term, broadcast to the input's shape.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Shape:
        - input: \\((*)\\), logits.
        - target: \\((*)\\), the same shape, floating point.

    Examples:
        >>> import torch
        >>> from lossbook.stable import StableBCEWithLogitsLoss
        >>> loss = StableBCEWithLogitsLoss(pos_weight=torch.tensor(3.0))
        >>> loss(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]))
        tensor(1.3863)
    """

    def __init__(
        self,
        weight: torch.Tensor | None = None,
        pos_weight: torch.Tensor | None = None,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        for name, tensor in (("weight", weight), ("pos_weight", pos_weight)):
            if tensor is not None:
                check_floating(name, tensor)
        check_reduction(reduction)  # fail now on an unknown reduction, not at the first call
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return bce_with_logits(input, target, self.weight, self.pos_weight, self.reduction)
