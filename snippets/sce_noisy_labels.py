"""Cross entropy against symmetric cross entropy with 40% flipped labels (synthetic)."""
import torch
import torch.nn.functional as F
from torch import nn

from lossbook import sce_loss

threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
torch.set_num_threads(1)  # tiny tensors: one thread is fastest and reproducible
torch.set_default_dtype(torch.float64)  # in float32, the table varies by CPU
torch.manual_seed(0)
num_classes, dim, n_train, n_test, noise = 6, 10, 500, 2000, 0.4
centres = torch.randn(num_classes, dim) * 2.0  # one Gaussian blob per class

def sample(n):
    labels = torch.randint(0, num_classes, (n,))
    return centres[labels] + torch.randn(n, dim), labels

(x_train, y_clean), (x_test, y_test) = sample(n_train), sample(n_test)
flip = torch.rand(n_train) < noise  # flip 40% of the labels to another class, uniformly
shift = torch.randint(1, num_classes, (n_train,))
y_noisy = torch.where(flip, (y_clean + shift) % num_classes, y_clean)
runs = {"CE, clean labels": (F.cross_entropy, y_clean),
        "CE": (F.cross_entropy, y_noisy),
        "SCE a=0.1, b=1": (lambda z, y: sce_loss(z, y, alpha=0.1, beta=1.0), y_noisy),
        "SCE a=0.01, b=1": (lambda z, y: sce_loss(z, y, alpha=0.01, beta=1.0), y_noisy)}
print(f"{'trained with':<18}{'flipped labels fitted':>23}{'clean test accuracy':>21}")
for name, (loss_fn, labels) in runs.items():
    torch.manual_seed(1)  # the same initial weights for every run
    model = nn.Sequential(nn.Linear(dim, 256), nn.ReLU(), nn.Linear(256, num_classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(300):  # full batch
        optimizer.zero_grad()
        loss_fn(model(x_train), labels).backward()
        optimizer.step()
    fitted = (model(x_train).argmax(1)[flip] == y_noisy[flip]).float().mean().item()
    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"{name:<18}{fitted:>23.0%}{accuracy:>21.1%}")
torch.set_num_threads(threads)
torch.set_default_dtype(dtype)
