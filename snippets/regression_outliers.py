"""Fit a line to data with one corrupted target, with MSELoss, L1Loss and HuberLoss."""
import torch
from torch import nn

torch.manual_seed(0)
x = torch.linspace(0, 1, 20)
clean = 2 * x + 1 + 0.05 * torch.randn(20)  # y = 2x + 1 plus a little Gaussian noise
corrupted = clean.clone()
corrupted[15] = 10.0                          # one gross error


def fit_line(loss_fn: nn.Module, y: torch.Tensor, steps: int = 2000) -> torch.Tensor:
    """(slope, intercept) minimising loss_fn(slope * x + intercept, y), by Adam."""
    slope = torch.zeros((), requires_grad=True)
    intercept = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.Adam([slope, intercept], lr=0.1)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(slope * x + intercept, y).backward()
        optimizer.step()
        schedule.step()
    return torch.stack([slope, intercept]).detach()


reference = fit_line(nn.MSELoss(), clean)
print(" " * 23 + "slope  intercept  slope off  intercept off")
for name, loss_fn, y in [
    ("MSELoss, clean data", nn.MSELoss(), clean),
    ("MSELoss", nn.MSELoss(), corrupted),
    ("L1Loss", nn.L1Loss(), corrupted),
    ("HuberLoss(delta=0.1)", nn.HuberLoss(delta=0.1), corrupted),
]:
    slope, intercept = fit_line(loss_fn, y)
    off = (torch.stack([slope, intercept]) - reference).abs()  # off the clean fit
    print(f"{name:<21} {slope:6.2f} {intercept:10.2f} {off[0]:10.3f} {off[1]:14.3f}")
