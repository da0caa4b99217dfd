"""The focal loss as most code writes it, torchvision.ops.sigmoid_focal_loss included.

It takes logits but computes the probability p = sigmoid(x) first, then the loss from p.
The chapter "Custom losses", the tests and benchmarks/bench_focal.py use this one copy.
"""

import torch
import torch.nn.functional as F


# --8<-- [start:common_focal_loss]
def common_focal_loss(x, y, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha is None:
        return loss
    return (alpha * y + (1 - alpha) * (1 - y)) * loss
# --8<-- [end:common_focal_loss]


if __name__ == "__main__":
    logits = torch.tensor([3.0, -2.0, 0.0, 30.0])
    labels = torch.tensor([1.0, 1.0, 0.0, 0.0])
    print(common_focal_loss(logits, labels))
