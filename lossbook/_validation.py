"""Argument checks shared by every loss in lossbook.

Each check raises ``ValueError`` (or ``TypeError`` for a wrong type) whose message names the
argument, the value it got and what is allowed, so a mistake is caught where it is made.
"""

from __future__ import annotations

from typing import Literal

import torch

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


def check_reduction(reduction: str) -> None:
    """Raise ``ValueError`` unless ``reduction`` is one of ``"none"``, ``"mean"``, ``"sum"``."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction={reduction!r} is not supported; use one of {', '.join(map(repr, REDUCTIONS))}"
        )


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply ``reduction`` to an element-wise loss, as ``torch.nn`` losses do."""
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def check_floating(name: str, tensor: torch.Tensor) -> None:
    """Raise ``TypeError`` unless ``tensor`` is a floating-point tensor."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")


def check_same_shape(input: torch.Tensor, target: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``input`` and ``target`` have the same shape."""
    if input.shape != target.shape:
        raise ValueError(
            f"target shape {tuple(target.shape)} must match input shape {tuple(input.shape)}"
        )


def check_in_closed_interval(name: str, value: float, low: float, high: float) -> None:
    """Raise ``ValueError`` unless ``low <= value <= high``."""
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
