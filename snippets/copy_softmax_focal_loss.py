"""Multi-class focal loss from logits and class indices. Copy it: needs only torch."""

import torch


def softmax_focal_loss(logits, target, alpha=None, gamma=2.0, reduction="mean"):
    """-alpha_y (1 - p_y)**gamma log p_y; p_y: softmax probability of the true class.

    logits: (N, C) or (N, C, d1, ...); target: class indices (N,) or (N, d1, ...), any
    integer dtype; alpha: None or one weight per class; gamma >= 0. With gamma=0 and
    alpha=None this is F.cross_entropy.
    """
    if target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"target {target.shape} does not fit logits {logits.shape}")
    if target.is_floating_point() or target.dtype == torch.bool:
        raise ValueError(f"target must hold integer class indices, got {target.dtype}")
    if not 0 <= gamma < float("inf"):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma}")
    target = target.long()
    log_p_y = torch.log_softmax(logits, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
    q = -torch.expm1(log_p_y)  # 1 - p_y, without cancellation when p_y is close to 1
    # the floor keeps the gradient of q**gamma finite where p_y rounds to 1
    loss = -q.clamp(min=torch.finfo(q.dtype).tiny) ** gamma * log_p_y
    if alpha is not None:
        weights = torch.as_tensor(alpha, dtype=logits.dtype, device=logits.device)
        loss = loss * weights[target]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction: 'none', 'mean' or 'sum', got {reduction!r}")
    return loss if reduction == "none" else getattr(loss, reduction)()


scores = torch.tensor([[3.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
print(softmax_focal_loss(scores, torch.tensor([0, 2]), reduction="none"))
