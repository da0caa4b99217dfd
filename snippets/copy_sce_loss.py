"""Symmetric cross entropy (Wang et al., 2019): copy this file, it needs only torch."""

import math

import torch


def sce_loss(logits, target, alpha, beta, log_zero=-4.0, reduction="mean"):
    """alpha * CE + beta * RCE; RCE = -A (1 - p_y), where A = log_zero replaces log 0.

    logits: (N, C) or (N, C, d1, ...); target: class indices, any integer dtype.
    log_zero: the paper's A (-4.0); math.log(1e-4) is the A of the published codes, or
    "sceloss-reproduce" computes exactly what HanxunH/SCELoss-Reproduce computes (its
    probabilities clamped at 1e-7 in RCE).
    """
    if target.is_floating_point() or target.dtype == torch.bool:
        raise ValueError(f"target must hold integer class indices, got {target.dtype}")
    if not (alpha >= 0 and beta >= 0):
        raise ValueError(f"alpha and beta must be >= 0, got {alpha} and {beta}")
    index = target.long().unsqueeze(1)
    log_p_y = torch.log_softmax(logits, dim=1).gather(1, index).squeeze(1)
    probs = torch.softmax(logits, dim=1)
    if log_zero == "sceloss-reproduce":
        others = probs.clamp(min=1e-7, max=1.0).scatter(1, index, 0.0).sum(dim=1)
        rce = -math.log(1e-4) * others  # sum over k != y of the clamped p_k
    elif isinstance(log_zero, (int, float)) and log_zero < 0:
        rce = -log_zero * probs.scatter(1, index, 0.0).sum(dim=1)  # -A (1 - p_y)
    else:
        raise ValueError(f"log_zero: < 0 or 'sceloss-reproduce', got {log_zero!r}")
    loss = alpha * -log_p_y + beta * rce
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction: 'none', 'mean' or 'sum', got {reduction!r}")
    return loss if reduction == "none" else getattr(loss, reduction)()


scores = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
print(sce_loss(scores, torch.tensor([0, 0]), alpha=0.1, beta=1.0, reduction="none"))
