"""One linear model trained four times: no penalty, an L1 penalty, two L2 penalties.

Only 3 of the 20 inputs matter. L1 sets most of the other 17 weights to (almost) zero;
L2 makes every weight smaller but sets none of them to zero. "unused" is the sum of the
absolute values of those 17 weights.
"""

import torch
from torch import nn

from lossbook import l1_penalty, l2_penalty

# --8<-- [start:run]
torch.manual_seed(0)
X = torch.randn(200, 20)
true_w = torch.zeros(20)
true_w[:3] = torch.tensor([2.0, -3.0, 1.5])
y = X @ true_w + 0.5 * torch.randn(200)

penalties = {
    "none": lambda model: torch.zeros(()),
    "L1, 0.1": lambda model: l1_penalty(model, weight=0.1),
    "L2, 0.1": lambda model: l2_penalty(model, weight=0.1),
    "L2, 0.5": lambda model: l2_penalty(model, weight=0.5),
}
header = f"{'penalty':8}  {'|w| < 0.005':>11}  {'||w||':>6}  {'unused':>6}"
print(f"{header}  first 5 weights")
for name, penalty in penalties.items():
    torch.manual_seed(1)  # the same initial weights for every run
    model = nn.Linear(20, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
    for step in range(1500):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X).squeeze(1), y) + penalty(model)
        loss.backward()
        optimizer.step()
    w = model.weight.detach().squeeze(0)
    near_zero = int((w.abs() < 0.005).sum())
    unused = w[3:].abs().sum()  # the 17 weights of inputs that do not matter
    first = " ".join(f"{v:+.3f}" for v in w[:5].tolist())
    print(f"{name:8}  {near_zero:>11}  {w.norm():6.3f}  {unused:6.3f}  {first}")
    if name.startswith("L1"):
        small = w[w.abs() < 0.005].abs().max()
        exact = int((w == 0).sum())
        note = (f"L1: {exact} weights exactly 0, largest near-zero one {small:.4f}, "
                f"lr * 0.1 = {0.02 * 0.1:.4f}")
print(note)
# --8<-- [end:run]
