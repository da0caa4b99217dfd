"""Forward + backward time of lossbook's focal loss against the common formulation, on the CPU.

The common formulation takes p = sigmoid(x) first and builds the loss from it, as
``torchvision.ops.sigmoid_focal_loss`` does (written out below, so torchvision is not needed).
lossbook's ``focal_loss`` works in log space and computes its gradient in the forward pass of a
single autograd node. Both run in the same process, interleaved, and the script prints the
best (smallest) of several repeats, the figure least disturbed by other processes, and the ratio lossbook / common (below 1 means lossbook is faster).
Timings vary from run to run and machine to machine; no test checks them.

    python benchmarks/bench_focal.py
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from lossbook import focal_loss
from machine import cpu_model  # benchmarks/machine.py


def common_focal_loss(x: torch.Tensor, y: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """The usual formulation: probabilities first, then the factors multiplied together."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    alpha_t = alpha * y + (1 - alpha) * (1 - y)
    return (alpha_t * loss).mean()


def machine() -> str:
    return f"{cpu_model()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def time_once(loss_fn, x: torch.Tensor, y: torch.Tensor) -> float:
    x.grad = None
    start = time.perf_counter()
    loss_fn(x, y).backward()
    return time.perf_counter() - start


def main() -> None:
    torch.manual_seed(0)
    print(f"focal loss, forward + backward, float32 on the CPU: {machine()}")
    print("best of n runs in milliseconds; ratio = lossbook / common")
    print(f"{'elements':>10} {'runs':>5} {'lossbook (ms)':>14} {'common (ms)':>12} {'ratio':>6}")
    for size, repeats in ((10**5, 51), (10**6, 21), (10**7, 7)):
        x = (torch.randn(size) * 4).requires_grad_()
        y = (torch.rand(size) < 0.1).float()
        ours, common = [], []
        for fn in (focal_loss, common_focal_loss):  # warm-up
            time_once(fn, x, y)
        for _ in range(repeats):  # interleaved, so both see the same machine load
            ours.append(time_once(focal_loss, x, y))
            common.append(time_once(common_focal_loss, x, y))
        t_ours, t_common = min(ours), min(common)
        print(f"{size:>10.0e} {repeats:>5} {t_ours * 1e3:>14.2f} {t_common * 1e3:>12.2f} {t_ours / t_common:>6.2f}")


if __name__ == "__main__":
    main()
