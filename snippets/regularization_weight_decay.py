"""weight_decay against an explicit L2 penalty: SGD, SGD with momentum, Adam and AdamW.

Each run starts from the same weights and takes 20 steps on the same data. Runs that
compute the same updates end with the same parameters (up to float32 rounding).
"""

import torch
from torch import nn

from lossbook import l2_penalty

# --8<-- [start:train]
torch.manual_seed(0)
X, y = torch.randn(64, 4), torch.randn(64, 1)
decay, lr = 0.1, 0.05


def train(optimizer_class, penalty=0.0, decoupled=0.0, **options):
    """20 steps from the same start; the L2 penalty covers all parameters."""
    torch.manual_seed(1)
    model = nn.Linear(4, 1)
    optimizer = optimizer_class(model.parameters(), lr=lr, **options)
    for step in range(20):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss = loss + l2_penalty(model, weight=penalty, include="all")
        loss.backward()
        if decoupled:  # AdamW's decay by hand: w <- (1 - lr * decay) * w, then Adam
            with torch.no_grad():
                for p in model.parameters():
                    p.mul_(1 - lr * decoupled)
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])
# --8<-- [end:train]


# --8<-- [start:compare]
def compare(name, a, b):
    difference = (a - b).abs().max().item()
    # Under 1e-6 is float32 rounding: its size depends on the CPU's vector instructions.
    shown = "under 1e-6 (rounding)" if difference < 1e-6 else f"= {difference:.1e}"
    print(f"{name:40} max |difference| {shown}")


SGD, Adam, AdamW = torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW
compare("SGD: weight_decay vs L2 penalty",
        train(SGD, weight_decay=decay), train(SGD, penalty=decay))
compare("SGD+momentum: weight_decay vs L2 penalty",
        train(SGD, momentum=0.9, weight_decay=decay),
        train(SGD, momentum=0.9, penalty=decay))
compare("Adam: weight_decay vs L2 penalty",
        train(Adam, weight_decay=decay), train(Adam, penalty=decay))
compare("AdamW vs Adam with L2 penalty",
        train(AdamW, weight_decay=decay), train(Adam, penalty=decay))
compare("AdamW vs decay by hand, then Adam",
        train(AdamW, weight_decay=decay), train(Adam, decoupled=decay))
compare("AdamW vs Adam(decoupled_weight_decay)",
        train(AdamW, weight_decay=decay),
        train(Adam, weight_decay=decay, decoupled_weight_decay=True))
for name, params in [("Adam, no decay", train(Adam)),
                     ("Adam + L2 penalty", train(Adam, penalty=decay)),
                     ("AdamW", train(AdamW, weight_decay=decay))]:
    print(f"{name:18}", " ".join(f"{v:+.4f}" for v in params.tolist()))
# --8<-- [end:compare]
