"""Binary focal loss from logits (Lin et al., 2017). Copy it: needs only torch."""

import torch
import torch.nn.functional as F


def focal_loss(logits, labels, alpha=0.25, gamma=2.0, reduction="mean"):
    """-alpha_t (1 - p_t)**gamma log p_t, in log space: finite for every finite logit.

    logits: any shape; labels: the same shape, 0 or 1; alpha: weight of the positives in
    [0, 1] (negatives get 1 - alpha), or None; gamma >= 0. Works with double backward,
    torch.func and torch.compile (plain tensor operations only).
    """
    if labels.shape != logits.shape:
        raise ValueError(f"labels {labels.shape} must match logits {logits.shape}")
    if alpha is not None and not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1] or None, got {alpha}")
    if not 0 <= gamma < float("inf"):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma}")
    y = labels.to(logits.dtype)
    z = logits * (2 * y - 1)  # z = x for a positive label, -x for a negative one
    log_p_t = F.logsigmoid(z)  # log p_t, exact even where p_t rounds to 0
    # (1 - p_t)**gamma as exp(gamma log(1 - p_t)): a finite derivative for gamma < 1
    modulating = torch.exp(gamma * F.logsigmoid(-z))
    loss = -modulating * log_p_t
    if alpha is not None:
        loss = loss * (alpha * y + (1 - alpha) * (1 - y))
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction: 'none', 'mean' or 'sum', got {reduction!r}")
    return loss if reduction == "none" else getattr(loss, reduction)()


x = torch.tensor([3.0, -2.0, 0.0, 30.0], requires_grad=True)
y = torch.tensor([1.0, 1.0, 0.0, 0.0])
loss = focal_loss(x, y, gamma=0.5)
loss.backward()
print(loss, x.grad)
