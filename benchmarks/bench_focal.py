"""Forward + backward time of lossbook's focal loss and the common formulation, eager and compiled.

The common formulation takes p = sigmoid(x) first and builds the loss from it, as
``torchvision.ops.sigmoid_focal_loss`` does; it is imported from ``snippets/common_focal_loss.py``,
the one copy the chapter and the tests use too. lossbook's ``focal_loss`` works in log space;
in eager mode it computes its gradient in the forward pass of a single autograd node, and under
``torch.compile`` it hands the compiler the unfused log-space formula.

Four variants run in the same process at each size, interleaved so that all see the same machine
load: eager lossbook, eager common, and both under ``torch.compile`` (inductor, compiled once per
size before timing). The script prints the best (smallest) of several repeats, the figure least
disturbed by other processes, and two ratios: lossbook / common in eager mode and compiled
lossbook / compiled common (below 1 means lossbook is faster). Timings vary from run to run and
machine to machine; no test checks them.

    python benchmarks/bench_focal.py
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

import torch

from lossbook import focal_loss
from machine import cpu_model  # benchmarks/machine.py

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "snippets"))
from common_focal_loss import common_focal_loss  # noqa: E402  snippets/common_focal_loss.py

SIZES = ((10**5, 41), (10**6, 15), (10**7, 5))


def lossbook_mean(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return focal_loss(x, y, alpha=0.25, gamma=2.0)


def common_mean(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return common_focal_loss(x, y, alpha=0.25, gamma=2.0).mean()


def time_once(loss_fn, x: torch.Tensor, y: torch.Tensor) -> float:
    x.grad = None
    start = time.perf_counter()
    loss_fn(x, y).backward()
    return time.perf_counter() - start


def main() -> None:
    torch.manual_seed(0)
    variants = {
        "eager lossbook": lossbook_mean,
        "eager common": common_mean,
        "compiled lossbook": torch.compile(lossbook_mean, dynamic=False),
        "compiled common": torch.compile(common_mean, dynamic=False),
    }
    print(f"focal loss, forward + backward, float32, alpha=0.25, gamma=2, mean; "
          f"{datetime.date.today()}")
    print(f"{cpu_model()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print("best of n runs in milliseconds; ratio = lossbook / common (below 1: lossbook faster)")
    print(f"{'':>15}{'eager':^27}{'torch.compile':^27}")
    print(f"{'elements':>9}{'runs':>6}" + f"{'lossbook':>10}{'common':>10}{'ratio':>7}" * 2)
    for size, repeats in SIZES:
        x = (torch.randn(size) * 4).requires_grad_()
        y = (torch.rand(size) < 0.1).float()
        times: dict[str, list[float]] = {name: [] for name in variants}
        for fn in variants.values():  # warm-up, and compilation for this size
            time_once(fn, x, y)
            time_once(fn, x, y)
        for _ in range(repeats):
            for name, fn in variants.items():
                times[name].append(time_once(fn, x, y))
        best = {name: min(values) * 1e3 for name, values in times.items()}
        row = f"{size:>9.0e}{repeats:>6}"
        for mode in ("eager", "compiled"):
            ours, common = best[f"{mode} lossbook"], best[f"{mode} common"]
            row += f"{ours:>10.2f}{common:>10.2f}{ours / common:>7.2f}"
        print(row)


if __name__ == "__main__":
    main()
