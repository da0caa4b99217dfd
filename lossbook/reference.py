"""Cross entropy, log loss, entropy and KL divergence written out from their definitions.

These are the formulas of the chapter "How the classification losses relate", one short
function each, used there to check PyTorch's built-in losses. They take probabilities, so they
are for teaching and checking; train with the built-in losses, which take logits. Each is shown
on a page and meant to be copied, so each needs nothing but ``torch``. Every function returns
the mean over the rows (items) of its input.

Examples:
    >>> import torch
    >>> from lossbook.reference import binary_cross_entropy, log_loss
    >>> from lossbook.reference import entropy, kl_divergence
    >>> binary_cross_entropy(torch.tensor([0.9, 0.2]), torch.tensor([1.0, 0.0]))
    tensor(0.1643)
    >>> log_loss(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]), torch.tensor([0, 2]))
    tensor(0.2899)
    >>> entropy(torch.tensor([[1.0, 0.0], [0.5, 0.5]]))
    tensor(0.3466)
    >>> kl_divergence(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.9, 0.1]]))
    tensor(0.5108)
"""

from __future__ import annotations

import torch


# --8<-- [start:binary_cross_entropy]
def binary_cross_entropy(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean negative Bernoulli log-likelihood; probs and labels have the same shape."""
    if probs.shape != labels.shape:
        raise ValueError(
            f"labels shape {tuple(labels.shape)} must match probs {tuple(probs.shape)}"
        )
    log_likelihood = torch.xlogy(labels, probs) + torch.xlogy(1 - labels, 1 - probs)
    return -log_likelihood.mean()
# --8<-- [end:binary_cross_entropy]


# --8<-- [start:log_loss]
def log_loss(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of -log(probability of the true class); probs (N, C), labels (N,)."""
    shape_ok = probs.dim() == 2 and labels.shape == probs.shape[:1]
    if not shape_ok or labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(
            f"need probs of shape (N, C) and integer labels of shape (N,), "
            f"got {tuple(probs.shape)} and {tuple(labels.shape)} ({labels.dtype})"
        )
    true_class_probs = probs[torch.arange(len(labels)), labels.long()]  # uint8: no mask
    return -true_class_probs.log().mean()
# --8<-- [end:log_loss]


# --8<-- [start:entropy_and_kl]
def cross_entropy(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """H(p, q) = -sum_k p_k log q_k, averaged over rows; p, q: (N, C) distributions."""
    if p.shape != q.shape:
        raise ValueError(f"q shape {tuple(q.shape)} must match p {tuple(p.shape)}")
    return -torch.xlogy(p, q).sum(dim=-1).mean()


def entropy(p: torch.Tensor) -> torch.Tensor:
    """H(p) = -sum_k p_k log p_k, with 0 log 0 = 0, averaged over rows."""
    return -torch.xlogy(p, p).sum(dim=-1).mean()


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) = H(p, q) - H(p), averaged over rows."""
    return cross_entropy(p, q) - entropy(p)
# --8<-- [end:entropy_and_kl]
