"""Custom losses written to be copied: focal loss and symmetric cross entropy.

Functions in the style of ``torch.nn.functional``: ``(input, target, ..., reduction="mean")``
with ``reduction`` one of ``"none"``, ``"mean"``, ``"sum"``. The ``nn.Module`` wrappers are in
:mod:`lossbook.modules`. Every function checks its arguments and raises ``ValueError`` naming
the argument that is wrong.

* :func:`focal_loss`: binary / multi-label focal loss from logits, computed in log space and
  fused into one autograd node with a hand-derived gradient (finite for any finite logit);
* :func:`focal_loss_from_probs`: the same loss from probabilities, as tutorials write it
  (kept for comparison: it breaks at extreme logits);
* :func:`softmax_focal_loss`: multi-class focal loss with class-index targets;
* :func:`sce_loss`: symmetric cross entropy, ``alpha * CE + beta * RCE``, for noisy labels.

Examples:
    >>> import torch
    >>> from lossbook.functional import focal_loss, softmax_focal_loss, sce_loss
    >>> logits = torch.tensor([2.0, -1.0, 0.5])
    >>> labels = torch.tensor([1.0, 0.0, 0.0])
    >>> focal_loss(logits, labels)
    tensor(0.1002)
    >>> scores = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    >>> classes = torch.tensor([0, 1])
    >>> softmax_focal_loss(scores, classes)
    tensor(1.3061)
    >>> sce_loss(scores, classes, alpha=0.1, beta=1.0)
    tensor(2.4774)
"""

from __future__ import annotations

# --8<-- [start:focal_loss]
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from lossbook._validation import (
    check_binary_labels,
    check_floating,
    check_in_closed_interval,
    check_non_negative,
    check_reduction,
    check_same_shape,
    reduce,
)


def _check_alpha(alpha: float | None) -> None:
    if alpha is None:
        return
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
        raise ValueError(f"alpha must be a number in [0, 1] or None, got {alpha!r}")
    check_in_closed_interval("alpha", alpha, 0.0, 1.0)


def _check_binary_args(input, target, alpha, gamma, reduction) -> torch.Tensor:
    """Check the arguments of the binary focal losses; return the labels in input's dtype."""
    check_floating("input", input)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    check_same_shape(input, target)
    _check_alpha(alpha)
    check_non_negative("gamma", gamma)
    check_reduction(reduction)
    check_binary_labels("target", target)
    return target.to(input.dtype)


class _SigmoidFocalLoss(torch.autograd.Function):
    """Element-wise focal loss from logits; the gradient is computed in the forward pass.

    With s = +1 for a positive label and -1 for a negative one, z = s x and p_t = sigmoid(z):
    log p_t = logsigmoid(z) and 1 - p_t = sigmoid(-z) are exact for every finite z, and

        loss     = -a_t (1 - p_t)**gamma log p_t
        dloss/dx = -s a_t (1 - p_t)**gamma ((1 - p_t) - gamma p_t log p_t)

    Every factor of the gradient is bounded (p_t log p_t lies in [-1/e, 0]): no 0 * inf.
    """

    @staticmethod
    def forward(ctx, input, target, alpha, gamma):
        sign = target * 2 - 1  # s: +1 for a positive label, -1 for a negative one
        z = input * sign
        log_p_t = F.logsigmoid(z)
        q = torch.sigmoid(torch.neg(z))  # 1 - p_t
        if gamma == 0:
            modulating = torch.ones_like(q)
        else:
            modulating = q * q if gamma == 2 else q**gamma
        if alpha is None:
            weight = modulating.neg_()  # -(1 - p_t)**gamma
        else:  # -a_t (1 - p_t)**gamma, with -a_t = -alpha for positives, -(1 - alpha) for negatives
            weight = modulating.mul_((target - 1).mul_(1 - alpha).sub_(target, alpha=alpha))
        loss = weight * log_p_t
        if ctx.needs_input_grad[0]:
            p_t = torch.sigmoid(z)
            inner = torch.addcmul(q, p_t, log_p_t, value=-gamma)  # (1-p_t) - gamma p_t log p_t
            ctx.save_for_backward(inner.mul_(weight).mul_(sign))
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (local_grad,) = ctx.saved_tensors
        return grad_output * local_grad, None, None, None


def focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary (or multi-label) focal loss from logits, as in RetinaNet.

    With \(p_t = \sigma(x)\) for a positive label and \(1 - \sigma(x)\) for a negative one,

    $$
    \operatorname{FL}(x, y) = -\alpha_t\,(1 - p_t)^{\gamma}\,\log p_t ,
    \qquad \alpha_t = \begin{cases}\alpha & y = 1\\ 1 - \alpha & y = 0\end{cases}
    $$

    computed in log space (\(\log p_t\) and \(\log(1 - p_t)\) come from ``logsigmoid``), so
    the loss and its gradient are finite for every finite logit, for every ``gamma >= 0``.
    One autograd node computes the loss and its gradient together. With ``gamma=0`` and
    ``alpha=None`` it is ``F.binary_cross_entropy_with_logits``, which it then calls.

    Args:
        input: logits, any shape, floating point.
        target: labels of the same shape, each 0 or 1 (any dtype).
        alpha: weight of the positive class in [0, 1] (negatives get ``1 - alpha``); the
            RetinaNet default 0.25 *down*-weights positives. ``None`` weighs both classes 1.
        gamma: focusing parameter, ``>= 0``; 0 gives (weighted) binary cross entropy.
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``. RetinaNet divides the ``"sum"`` by the
            number of positive anchors instead of taking the mean.

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Shape:
        - input: \((*)\), any number of dimensions.
        - target: \((*)\), the same shape as ``input``.
        - output: scalar, or \((*)\) with ``reduction="none"``.

    Examples:
        >>> import torch
        >>> from lossbook import focal_loss
        >>> logits = torch.tensor([3.0, -2.0, 0.0, 30.0])
        >>> labels = torch.tensor([1.0, 1.0, 0.0, 0.0])
        >>> focal_loss(logits, labels, reduction="none")
        tensor([2.7321e-05, 4.1252e-01, 1.2997e-01, 2.2500e+01])
        >>> focal_loss(logits, labels, alpha=None, gamma=0.5)
        tensor(8.1242)
    """
    labels = _check_binary_args(input, target, alpha, gamma, reduction)
    if gamma == 0 and alpha is None:
        return F.binary_cross_entropy_with_logits(input, labels, reduction=reduction)
    loss = _SigmoidFocalLoss.apply(input, labels, alpha, float(gamma))
    return reduce(loss, reduction)
# --8<-- [end:focal_loss]

import math  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Literal  # noqa: E402

from lossbook._validation import check_class_indices, check_probabilities  # noqa: E402

__all__ = ["focal_loss", "focal_loss_from_probs", "softmax_focal_loss", "sce_loss", "SCE_CLAMP"]

#: Pass ``log_zero=SCE_CLAMP`` to :func:`sce_loss` to reproduce the authors' published code.
SCE_CLAMP = "clamp"
#: The probability floor of the authors' SCE code; its log, about -9.21, is their effective A.
SCE_CLAMP_MIN = 1e-4


def _check_log_zero(log_zero: float | str) -> None:
    if isinstance(log_zero, str) and log_zero == SCE_CLAMP:
        return
    if not isinstance(log_zero, (int, float)) or isinstance(log_zero, bool) or not -math.inf < log_zero < 0:
        raise ValueError(f"log_zero must be a finite negative number or {SCE_CLAMP!r}, got {log_zero!r}")


# --8<-- [start:focal_loss_from_probs]
def focal_loss_from_probs(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | None = 0.75,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Focal loss from probabilities, as tutorials write it; prefer :func:`focal_loss`.

    $$
    \operatorname{FL}(p, y) = -\alpha_t\,(1 - p_t)^{\gamma}\,\log p_t ,
    \qquad p_t = \begin{cases}p & y = 1\\ 1 - p & y = 0\end{cases}
    $$

    The log comes from ``F.binary_cross_entropy``, which clamps it at -100, so the loss stops
    growing once a probability rounds to 0 or 1; for ``gamma < 1`` the gradient is ``nan``
    where \(p_t\) rounds to 1. The default ``alpha=0.75`` is the tutorial's: it *up*-weights
    positives (RetinaNet's 0.25 down-weights them).

    Args:
        input: probabilities in [0, 1], any shape.
        target: labels of the same shape, each 0 or 1.
        alpha: weight of the positive class in [0, 1], or ``None`` for no weighting.
        gamma: focusing parameter, ``>= 0``.
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        - input: \((*)\); target: \((*)\); output: scalar, or \((*)\) with ``reduction="none"``.

    Examples:
        >>> import torch
        >>> from lossbook import focal_loss_from_probs
        >>> focal_loss_from_probs(torch.tensor([[0.9], [0.1]]), torch.tensor([[1.0], [0.0]]))
        tensor(0.0005)
    """
    labels = _check_binary_args(input, target, alpha, gamma, reduction)
    check_probabilities("input", input)
    bce = F.binary_cross_entropy(input, labels, reduction="none")
    p_t = labels * input + (1 - labels) * (1 - input)
    loss = (1 - p_t) ** gamma * bce
    if alpha is not None:
        loss = (labels * alpha + (1 - labels) * (1 - alpha)) * loss
    return reduce(loss, reduction)
# --8<-- [end:focal_loss_from_probs]


def _check_class_args(input: torch.Tensor, target: torch.Tensor) -> None:
    check_floating("input", input)
    if input.dim() < 2:
        raise ValueError(f"input must have shape (N, C) or (N, C, d1, ...), got {tuple(input.shape)}")
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"target shape {tuple(target.shape)} must be {tuple(expected)} "
            f"for input of shape {tuple(input.shape)} (class dimension 1 removed)"
        )
    check_class_indices("target", target, input.shape[1])


def _class_alpha(alpha, input: torch.Tensor) -> torch.Tensor | None:
    if alpha is None:
        return None
    num_classes = input.shape[1]
    if isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
        raise ValueError(f"alpha must be None or one weight per class ({num_classes} values), got {alpha!r}")
    weights = torch.as_tensor(alpha, dtype=input.dtype, device=input.device)
    if weights.shape != (num_classes,):
        raise ValueError(f"alpha must hold one weight per class ({num_classes} values), got shape {tuple(weights.shape)}")
    if not ((weights >= 0) & (weights <= 1)).all():
        raise ValueError(f"alpha must hold weights in [0, 1], got {weights.tolist()}")
    return weights


def softmax_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: Sequence[float] | torch.Tensor | None = None,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multi-class focal loss from logits with class-index targets.

    With \(p_{y}\) the softmax probability of the true class,

    $$
    \operatorname{FL}(x, y) = -\alpha_{y}\,(1 - p_{y})^{\gamma}\,\log p_{y} ,
    $$

    where \(\log p_y\) comes from ``log_softmax`` and \(1 - p_y\) from ``-expm1(log p_y)``.
    With ``gamma=0`` and ``alpha=None`` it equals ``F.cross_entropy``. ``"mean"`` divides by the
    number of items even when ``alpha`` is given (``cross_entropy`` with ``weight`` divides by
    the sum of the weights instead).

    Args:
        input: logits, floating point, classes along dimension 1.
        target: class indices (integer tensor) in [0, C).
        alpha: ``None``, or one weight in [0, 1] per class (sequence or 1-D tensor of length C).
        gamma: focusing parameter, ``>= 0``.
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        - input: \((N, C)\) or \((N, C, d_1, \dots)\).
        - target: \((N)\) or \((N, d_1, \dots)\).
        - output: scalar, or the shape of ``target`` with ``reduction="none"``.

    Examples:
        >>> import torch
        >>> from lossbook import softmax_focal_loss
        >>> scores = torch.tensor([[3.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
        >>> softmax_focal_loss(scores, torch.tensor([0, 2]), reduction="none")
        tensor([2.6784e-04, 4.8827e-01])
        >>> softmax_focal_loss(scores, torch.tensor([0, 2]), alpha=[0.25, 0.25, 0.5], gamma=1.0)
        tensor(0.1836)
    """
    _check_class_args(input, target)
    weights = _class_alpha(alpha, input)
    check_non_negative("gamma", gamma)
    check_reduction(reduction)
    log_p_y = F.log_softmax(input, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
    if gamma == 0:
        loss = -log_p_y
    else:
        # 1 - p_y without cancellation; the floor keeps pow's gradient finite when p_y rounds to 1
        q = (-torch.expm1(log_p_y)).clamp(min=torch.finfo(input.dtype).tiny)
        loss = -(q**gamma) * log_p_y
    if weights is not None:
        loss = loss * weights[target]
    return reduce(loss, reduction)


# --8<-- [start:sce_loss]
def sce_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float,
    beta: float,
    log_zero: float | Literal["clamp"] = -4.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Symmetric cross entropy (Wang et al., 2019): ``alpha * CE + beta * RCE``.

    Reverse cross entropy swaps the roles of label and prediction, \(-\sum_k p_k \log y_k\),
    with \(\log 0\) of the one-hot label replaced by a constant \(A < 0\), so that

    $$
    \operatorname{SCE} = -\alpha \log p_{y} \;-\; \beta A\,(1 - p_{y}).
    $$

    The paper uses \(A = -4\) (the default ``log_zero=-4.0``). The authors' published code
    instead clamps the one-hot label (and the probabilities) at \(10^{-4}\), so its \(A\) is
    \(\ln 10^{-4} \approx -9.21\): pass ``log_zero="clamp"`` (``lossbook.functional.SCE_CLAMP``)
    to reproduce that code exactly, or ``log_zero=math.log(1e-4)`` for the same \(A\) without
    the probability clamp.

    Args:
        input: logits, floating point, classes along dimension 1.
        target: class indices (integer tensor) in [0, C).
        alpha: weight of cross entropy, ``>= 0`` (the authors used 0.1 on CIFAR-10).
        beta: weight of reverse cross entropy, ``>= 0`` (1.0 on CIFAR-10).
        log_zero: the constant \(A\) that replaces \(\log 0\), a negative number, or ``"clamp"``.
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        - input: \((N, C)\) or \((N, C, d_1, \dots)\).
        - target: \((N)\) or \((N, d_1, \dots)\).
        - output: scalar, or the shape of ``target`` with ``reduction="none"``.

    Examples:
        >>> import torch
        >>> from lossbook import sce_loss
        >>> scores = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
        >>> classes = torch.tensor([0, 0])
        >>> sce_loss(scores, classes, alpha=0.1, beta=1.0, reduction="none")
        tensor([0.8760, 4.1284])
        >>> sce_loss(scores, classes, alpha=0.1, beta=1.0, log_zero="clamp", reduction="none")
        tensor([1.9859, 9.1028])
    """
    _check_class_args(input, target)
    check_non_negative("alpha", alpha)
    check_non_negative("beta", beta)
    _check_log_zero(log_zero)
    check_reduction(reduction)
    log_probs = F.log_softmax(input, dim=1)
    index = target.unsqueeze(1)
    log_p_y = log_probs.gather(1, index).squeeze(1)
    ce = -log_p_y
    if log_zero == SCE_CLAMP:  # the authors' code: -sum_k clamp(p_k) * log(clamp(onehot_k))
        probs = log_probs.exp().clamp(min=SCE_CLAMP_MIN, max=1.0)
        floor = torch.log(input.new_tensor(SCE_CLAMP_MIN))
        rce = -floor * (probs.sum(dim=1) - probs.gather(1, index).squeeze(1))
    else:  # -A * (1 - p_y), with 1 - p_y = -expm1(log p_y)
        rce = log_zero * torch.expm1(log_p_y)
    return reduce(alpha * ce + beta * rce, reduction)
# --8<-- [end:sce_loss]
