r"""Small synthetic data sets for the training examples.

`make_rings` draws the two-ring problem of the worked example: a minority class on an inner
ring and a majority class on an outer ring, which no straight line separates.
"""

from __future__ import annotations

import math

import torch

from lossbook._validation import check_integer


# --8<-- [start:make_rings]
def make_rings(
    n_pos: int = 1000, n_neg: int = 6000, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Points on two noisy concentric rings: positives inside, negatives outside.

    A point's radius is \(r = r_0 + \varepsilon\) with \(\varepsilon \sim \mathcal N(0, 1)\)
    (\(r_0 = 5\) for positives, \(r_0 = 8\) for negatives) and its angle is uniform on
    \([0, 2\pi)\); the point is \((r\cos\theta, r\sin\theta)\). The positives come first.
    The draws use a ``torch.Generator`` seeded with ``seed``, so the same seed gives the same
    tensors and the global random state is left untouched.

    Args:
        n_pos: number of positives (label 1), on the ring of radius 5.
        n_neg: number of negatives (label 0), on the ring of radius 8.
        seed: seed of the generator.

    Returns:
        ``(X, y)``: the points and their labels, both ``float32``.

    Shape:
        - X: \((N, 2)\) with \(N = n_{pos} + n_{neg}\).
        - y: \((N, 1)\), the shape of a model's single logit output, so ``loss_fn(model(X), y)``
          needs no reshaping.

    Examples:
        >>> import torch
        >>> from lossbook import make_rings
        >>> X, y = make_rings(n_pos=3, n_neg=2, seed=0)
        >>> X.shape, y.shape, X.dtype
        (torch.Size([5, 2]), torch.Size([5, 1]), torch.float32)
        >>> y.flatten()
        tensor([1., 1., 1., 0., 0.])
        >>> X.norm(dim=1)
        tensor([6.5410, 4.7066, 2.8212, 8.5684, 8.2100])
        >>> torch.equal(make_rings(seed=1)[0], make_rings(seed=1)[0])
        True
    """
    n_pos = check_integer("n_pos", n_pos, minimum=0)
    n_neg = check_integer("n_neg", n_neg, minimum=0)
    seed = check_integer("seed", seed)
    generator = torch.Generator().manual_seed(seed)

    def ring(n: int, radius: float) -> torch.Tensor:
        r = radius + torch.randn(n, 1, generator=generator)
        theta = 2 * math.pi * torch.rand(n, 1, generator=generator)
        return torch.cat([r * torch.cos(theta), r * torch.sin(theta)], dim=1)

    X = torch.cat([ring(n_pos, 5.0), ring(n_neg, 8.0)])
    y = torch.cat([torch.ones(n_pos, 1), torch.zeros(n_neg, 1)])
    return X, y
# --8<-- [end:make_rings]
