"""Custom losses written to be copied: focal loss and symmetric cross entropy.

Functions in the style of ``torch.nn.functional``: ``(input, target, ..., reduction="mean")``
with ``reduction`` one of ``"none"``, ``"mean"``, ``"sum"``. The ``nn.Module`` wrappers are in
[lossbook.modules][]. Every function checks its arguments (``lossbook._validation`` says which
checks run when) and raises ``ValueError`` naming the argument that is wrong.

* [focal_loss][lossbook.functional.focal_loss]: binary / multi-label focal loss from logits,
  computed in log space and fused into one autograd node with a hand-derived gradient (finite
  for any finite logit);
* [focal_loss_from_probs][lossbook.functional.focal_loss_from_probs]: the same loss from
  probabilities, as tutorials write it (kept for comparison: it breaks at extreme logits);
* [softmax_focal_loss][lossbook.functional.softmax_focal_loss]: multi-class focal loss with
  class-index targets;
* [sce_loss][lossbook.functional.sce_loss]: symmetric cross entropy, ``alpha * CE + beta *
  RCE``, for noisy labels, as the paper writes it or as either published code computes it.

All of them work under ``torch.compile(..., fullgraph=True)``, ``torch.func.grad``, ``vmap``
and ``jvp``, and give second derivatives (double backward).

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

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F

from lossbook._validation import (
    SCE_CODES,
    Reduction,
    check_binary_labels,
    check_class_alpha,
    check_class_target,
    check_floating,
    check_focal_hyperparameters,
    check_log_zero,
    check_no_grad,
    check_non_negative,
    check_probabilities,
    check_reduction,
    check_same_shape,
    check_tensor,
    reduce,
)

__all__ = [
    "focal_loss",
    "focal_loss_from_probs",
    "softmax_focal_loss",
    "sce_loss",
    "SCE_AUTHORS_KERAS",
    "SCE_REPRODUCE_PYTORCH",
]


# ---------------------------------------------------------------- binary focal loss

def _binary_focal_args(input, target, alpha, gamma, reduction):
    """Check the arguments of the binary focal losses; the labels come back in input's dtype."""
    check_floating("input", input)
    check_tensor("target", target)
    check_same_shape("target", target, input)
    check_no_grad("target", target, "focal loss takes hard labels 0 or 1, which have no gradient")
    alpha, gamma = check_focal_hyperparameters(alpha, gamma, reduction)
    check_binary_labels("target", target)
    return target.to(input.dtype), alpha, gamma


# --8<-- [start:focal_terms]
def focal_terms(x, y, alpha, gamma, with_grad):
    """Element-wise focal loss and, if with_grad, its derivative by x: no 0 * inf."""
    sign = y * 2 - 1  # s = +1 for a positive label, -1 for a negative one
    z = x * sign
    log_p_t = F.logsigmoid(z)  # exact for every finite z
    q = torch.sigmoid(torch.neg(z))  # 1 - p_t, exact too
    if gamma == 0:
        modulating = torch.ones_like(q)
    else:
        modulating = q * q if gamma == 2 else q**gamma
    if alpha is None:
        weight = modulating.neg_()  # -(1 - p_t)**gamma
    else:  # -a_t (1 - p_t)**gamma: -alpha for positives, -(1 - alpha) for negatives
        weight = modulating.mul_((y - 1).mul_(1 - alpha).sub_(y, alpha=alpha))
    loss = weight * log_p_t
    if not with_grad:
        return loss, None
    # dloss/dx = -s a_t (1 - p_t)**gamma ((1 - p_t) - gamma p_t log p_t)
    inner = torch.addcmul(q, torch.sigmoid(z), log_p_t, value=-gamma)
    return loss, inner.mul_(weight).mul_(sign)
# --8<-- [end:focal_terms]


# --8<-- [start:focal_grad]
def focal_grad(x, y, alpha, gamma):
    """dloss/dx of the focal loss, in operations autograd can differentiate again."""
    sign = y * 2 - 1
    z = x * sign
    log_p_t = F.logsigmoid(z)
    # (1 - p_t)**gamma as exp(gamma log(1 - p_t)): a finite derivative for every gamma
    modulating = torch.exp(gamma * F.logsigmoid(-z))
    a_t = 1.0 if alpha is None else y * alpha + (1 - y) * (1 - alpha)
    inner = torch.sigmoid(-z) - gamma * torch.sigmoid(z) * log_p_t
    return -sign * a_t * modulating * inner
# --8<-- [end:focal_grad]


# --8<-- [start:focal_node]
class _SigmoidFocalLoss(torch.autograd.Function):
    """One autograd node: the forward pass computes the loss and its gradient."""

    generate_vmap_rule = True  # torch.func.vmap works through the node

    @staticmethod
    def forward(x, y, alpha, gamma, reduction):
        loss, local_grad = focal_terms(x, y, alpha, gamma, with_grad=True)
        if reduction == "mean":  # d mean / d loss_i = 1 / n, folded into the gradient
            return loss.mean(), local_grad.mul_(1 / loss.numel())
        return (loss.sum() if reduction == "sum" else loss), local_grad

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, y, ctx.alpha, ctx.gamma, ctx.reduction = inputs
        local_grad = output[1]
        ctx.mark_non_differentiable(local_grad)
        ctx.save_for_backward(x, y, local_grad)
        ctx.save_for_forward(local_grad)

    @staticmethod
    def backward(ctx, grad_loss, _):
        x, y, local_grad = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a differentiable gradient
            local_grad = focal_grad(x, y, ctx.alpha, ctx.gamma)
            if ctx.reduction == "mean":
                local_grad = local_grad / x.numel()
        return grad_loss * local_grad, None, None, None, None

    @staticmethod
    def jvp(ctx, x_tangent, *_):
        (local_grad,) = ctx.saved_tensors
        tangent = x_tangent * local_grad
        return (tangent if ctx.reduction == "none" else tangent.sum()), None
# --8<-- [end:focal_node]


def _focal_unfused(x, y, alpha, gamma):
    """The loss in plain log-space operations, for torch.compile to fuse and differentiate."""
    z = x * (y * 2 - 1)
    if gamma >= 1:  # (1 - p_t)**gamma has a finite derivative: q * q is cheapest for gamma 2
        q = torch.sigmoid(torch.neg(z))
        modulating = q * q if gamma == 2 else q**gamma
    else:  # exp(gamma log(1 - p_t)): finite derivative where 1 - p_t rounds to 0
        modulating = torch.exp(gamma * F.logsigmoid(torch.neg(z)))
    loss = -modulating * F.logsigmoid(z)
    return loss if alpha is None else loss * (y * alpha + (1 - y) * (1 - alpha))


def _needs_gradient(x: torch.Tensor) -> bool:
    if not torch.is_grad_enabled():
        return False
    if x.requires_grad or torch._C._functorch.peek_interpreter_stack() is not None:
        return True
    return fwAD.unpack_dual(x).tangent is not None  # forward-mode AD (jvp)


def focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Binary (or multi-label) focal loss from logits, as in RetinaNet.

    With \(p_t = \sigma(x)\) for a positive label and \(1 - \sigma(x)\) for a negative one,

    $$
    \operatorname{FL}(x, y) = -\alpha_t\,(1 - p_t)^{\gamma}\,\log p_t ,
    \qquad \alpha_t = \begin{cases}\alpha & y = 1\\ 1 - \alpha & y = 0\end{cases}
    $$

    computed in log space (\(\log p_t\) and \(\log(1 - p_t)\) come from ``logsigmoid``), so
    the loss and its gradient are finite for every finite logit, for every ``gamma >= 0``.
    In eager mode one autograd node computes the loss and its gradient together (and a
    differentiable gradient when ``create_graph=True`` asks for second derivatives); under
    ``torch.compile`` the same formula is handed to the compiler unfused, to fuse and
    differentiate itself. With ``gamma=0`` and ``alpha=None`` it is
    ``F.binary_cross_entropy_with_logits``, which it then calls.

    Args:
        input: logits, any shape, floating point.
        target: labels of the same shape, each 0 or 1 (any dtype); must not require grad.
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
    labels, alpha, gamma = _binary_focal_args(input, target, alpha, gamma, reduction)
    if gamma == 0 and alpha is None:
        return F.binary_cross_entropy_with_logits(input, labels, reduction=reduction)
    if torch.compiler.is_compiling():
        loss = _focal_unfused(input, labels, alpha, gamma)
    elif _needs_gradient(input):
        return _SigmoidFocalLoss.apply(input, labels, alpha, gamma, reduction)[0]
    else:
        loss, _ = focal_terms(input, labels, alpha, gamma, with_grad=False)
    return reduce(loss, reduction)


def focal_loss_from_probs(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | None = 0.75,
    gamma: float = 2.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Focal loss from probabilities, as tutorials write it; prefer [focal_loss][lossbook.functional.focal_loss].

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
        target: labels of the same shape, each 0 or 1; must not require grad.
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
    labels, alpha, gamma = _binary_focal_args(input, target, alpha, gamma, reduction)
    check_probabilities("input", input)
    bce = F.binary_cross_entropy(input, labels, reduction="none")
    p_t = labels * input + (1 - labels) * (1 - input)
    loss = (1 - p_t) ** gamma * bce
    if alpha is not None:
        loss = (labels * alpha + (1 - labels) * (1 - alpha)) * loss
    return reduce(loss, reduction)


# ---------------------------------------------------------------- softmax focal loss

def softmax_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: Sequence[float] | torch.Tensor | None = None,
    gamma: float = 2.0,
    reduction: Reduction = "mean",
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
        target: class indices in [0, C), any integer dtype ``F.cross_entropy`` accepts
            (uint8, int8, int16, int32, int64).
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
    target = check_class_target(input, target)
    weights = check_class_alpha(alpha)
    if weights is not None and weights.shape[0] != input.shape[1]:
        raise ValueError(
            f"alpha must hold one weight per class ({input.shape[1]} values), "
            f"got {weights.shape[0]}"
        )
    gamma = check_non_negative("gamma", gamma)
    check_reduction(reduction)
    log_p_y = F.log_softmax(input, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
    if gamma == 0:
        loss = -log_p_y
    else:
        # 1 - p_y without cancellation; the floor keeps pow's gradient finite when p_y rounds to 1
        q = (-torch.expm1(log_p_y)).clamp(min=torch.finfo(input.dtype).tiny)
        loss = -(q**gamma) * log_p_y
    if weights is not None:
        loss = loss * weights.to(input.dtype)[target]
    return reduce(loss, reduction)


# ---------------------------------------------------------------- symmetric cross entropy

#: ``log_zero`` that reproduces the authors' Keras code (YisenWang/symmetric_cross_entropy_for_
#: noisy_labels, ``loss.py``): CE of the softmax output clipped at 1e-7, RCE with the one-hot
#: label clipped at 1e-4 and the probabilities unclipped.
SCE_AUTHORS_KERAS = SCE_CODES[0]
#: ``log_zero`` that reproduces the PyTorch reproduction (HanxunH/SCELoss-Reproduce,
#: ``loss.py``): exact CE, RCE with the label clamped at 1e-4 and the probabilities at 1e-7.
SCE_REPRODUCE_PYTORCH = SCE_CODES[1]


# --8<-- [start:sce_terms]
def sce_terms(x, y, log_zero):
    """Per-item CE and RCE of logits x (N, C, ...) and int64 classes y (N, ...)."""
    index = y.unsqueeze(1)
    if log_zero == "authors-keras":  # softmax output clipped at 1e-7 in CE only
        probs = torch.softmax(x, dim=1)
        ce = -torch.log(probs.gather(1, index).squeeze(1).clamp(min=1e-7, max=1.0))
        others = probs.scatter(1, index, 0.0).sum(dim=1)  # sum of p_k over k != y
        return ce, -math.log(1e-4) * others
    log_p_y = F.log_softmax(x, dim=1).gather(1, index).squeeze(1)
    if log_zero == "sceloss-reproduce":  # exact CE; RCE: probabilities clamped at 1e-7
        probs = torch.softmax(x, dim=1).clamp(min=1e-7, max=1.0)
        return -log_p_y, -math.log(1e-4) * probs.scatter(1, index, 0.0).sum(dim=1)
    # the paper: -A (1 - p_y), with 1 - p_y summed from the other classes: exact near p_y = 1
    return -log_p_y, -log_zero * torch.softmax(x, dim=1).scatter(1, index, 0.0).sum(dim=1)
# --8<-- [end:sce_terms]


def sce_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float,
    beta: float,
    log_zero: float | Literal["authors-keras", "sceloss-reproduce"] = -4.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Symmetric cross entropy (Wang et al., 2019): ``alpha * CE + beta * RCE``.

    Reverse cross entropy swaps the roles of label and prediction, \(-\sum_k p_k \log y_k\),
    with \(\log 0\) of the one-hot label replaced by a constant \(A < 0\), so that

    $$
    \operatorname{SCE} = -\alpha \log p_{y} \;-\; \beta A\,(1 - p_{y}).
    $$

    The paper uses \(A = -4\) (the default ``log_zero=-4.0``). Both published codes clamp the
    one-hot label at \(10^{-4}\) instead, so their \(A\) is \(\ln 10^{-4} \approx -9.21\)
    (\(\log_{10} 10^{-4} = -4\): the factor between them is \(\ln 10\)), and each clips the
    predicted probabilities at \(10^{-7}\) somewhere:

    - ``log_zero="authors-keras"`` computes what the authors' Keras code computes: CE from
      the softmax output clipped at \(10^{-7}\), RCE from unclipped probabilities;
    - ``log_zero="sceloss-reproduce"`` computes what the widely used PyTorch reproduction
      (HanxunH/SCELoss-Reproduce) computes: exact CE, RCE from probabilities clamped at
      \(10^{-7}\);
    - ``log_zero=math.log(1e-4)`` is their \(A\) in the paper's formula, without any clip.

    Args:
        input: logits, floating point, classes along dimension 1.
        target: class indices in [0, C), any integer dtype ``F.cross_entropy`` accepts.
        alpha: weight of cross entropy, ``>= 0`` (the authors used 0.1 on CIFAR-10).
        beta: weight of reverse cross entropy, ``>= 0`` (1.0 on CIFAR-10).
        log_zero: the constant \(A\) that replaces \(\log 0\), a negative number, or the name
            of the published code to reproduce.
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
        >>> sce_loss(scores, classes, 0.1, 1.0, log_zero="sceloss-reproduce", reduction="none")
        tensor([1.9859, 9.1028])
    """
    target = check_class_target(input, target)
    alpha = check_non_negative("alpha", alpha)
    beta = check_non_negative("beta", beta)
    log_zero = check_log_zero(log_zero)
    check_reduction(reduction)
    ce, rce = sce_terms(input, target, log_zero)
    return reduce(alpha * ce + beta * rce, reduction)
