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


def check_broadcastable_to(name: str, tensor: torch.Tensor, shape: torch.Size) -> None:
    """Raise ``ValueError`` unless ``tensor`` broadcasts to ``shape`` without changing it."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or None, got {type(tensor).__name__}")
    try:
        broadcast = torch.broadcast_shapes(tensor.shape, shape)
    except RuntimeError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(
            f"{name} of shape {tuple(tensor.shape)} must broadcast to the input shape {tuple(shape)}"
        )


def check_non_negative(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number ``>= 0``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < float("inf"):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_binary_labels(name: str, target: torch.Tensor) -> None:
    """Raise ``ValueError`` unless every value of ``target`` is 0 or 1 (NaN fails too)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(target).__name__}")
    values = target if target.is_floating_point() else target.to(torch.float32)
    if torch.count_nonzero(values * (values - 1)):  # zero exactly at 0 and 1
        bad = target[(target != 0) & (target != 1)].flatten()[:3].tolist()
        raise ValueError(f"{name} must hold only 0 and 1 (hard labels), got values such as {bad}")


def check_probabilities(name: str, tensor: torch.Tensor) -> None:
    """Raise ``ValueError`` unless every value of ``tensor`` is in [0, 1] (NaN fails too)."""
    if not ((tensor >= 0) & (tensor <= 1)).all():
        bad = tensor[~((tensor >= 0) & (tensor <= 1))].flatten()[:3].tolist()
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values such as {bad}")


def check_class_indices(name: str, target: torch.Tensor, num_classes: int) -> None:
    """Raise ``ValueError`` unless ``target`` is an integer tensor with values in [0, num_classes)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(target).__name__}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise ValueError(f"{name} must hold class indices as an integer tensor, got dtype {target.dtype}")
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(
            f"{name} must hold class indices in [0, {num_classes}), "
            f"got values from {target.min().item()} to {target.max().item()}"
        )
