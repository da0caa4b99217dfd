"""Argument checks for every function and module in lossbook: the one home of each rule.

Each check raises ``TypeError`` for a wrong type and ``ValueError`` for a wrong value, with a
message that names the argument, the value it got and what is allowed. One rule, one wording.

Policy for checks on tensors:

* shapes, dtypes and hyper-parameters (Python numbers) are always checked: this costs nothing
  and never waits for a device;
* checks on the *values inside* a tensor (labels 0 or 1, class indices in range, probabilities
  in [0, 1]) run in eager mode on CPU tensors only. They are skipped under ``torch.compile``
  (they would break the graph), inside ``torch.func`` transforms (``vmap`` and ``grad`` cannot
  branch on values) and for tensors on an accelerator (reading a value back would make the host
  wait for the device on every call). ``lossbook.set_value_checks`` turns them on for every
  device (debugging) or off everywhere.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Literal, get_args

import torch

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = get_args(Reduction)

#: Integer dtypes that ``F.cross_entropy`` accepts as class indices.
CLASS_INDEX_DTYPES: tuple[torch.dtype, ...] = (
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
)

ValueChecks = Literal["cpu", "always", "never"]
_value_checks: list[str] = ["cpu"]


def set_value_checks(mode: ValueChecks) -> None:
    """Choose when lossbook checks the values inside tensors (labels, class indices).

    Args:
        mode: ``"cpu"`` (the default): in eager mode, for CPU tensors only; ``"always"``: for
            tensors on every device too, at the cost of a host-device sync per call;
            ``"never"``: no value checks. Under ``torch.compile`` and inside ``torch.func``
            transforms they are skipped whatever the mode.

    Examples:
        >>> import torch
        >>> from lossbook import focal_loss, set_value_checks
        >>> set_value_checks("never")
        >>> focal_loss(torch.tensor([0.0]), torch.tensor([0.5]))  # not checked: wrong, silently
        tensor(0.0866)
        >>> set_value_checks("cpu")
    """
    if mode not in get_args(ValueChecks):
        raise ValueError(f"mode={mode!r} is not supported; use one of 'cpu', 'always', 'never'")
    _value_checks[0] = mode


def _in_functorch_transform() -> bool:
    return torch._C._functorch.peek_interpreter_stack() is not None


def values_checked(tensor: torch.Tensor) -> bool:
    """Whether the values inside ``tensor`` are checked now (see the policy above)."""
    mode = _value_checks[0]
    if mode == "never" or torch.compiler.is_compiling() or _in_functorch_transform():
        return False
    return mode == "always" or tensor.device.type == "cpu"


# ---------------------------------------------------------------- Python values

def check_reduction(reduction: object) -> None:
    """Raise ``ValueError`` unless ``reduction`` is one of ``"none"``, ``"mean"``, ``"sum"``."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        allowed = ", ".join(map(repr, REDUCTIONS))
        raise ValueError(f"reduction={reduction!r} is not supported; use one of {allowed}")


def reduce(loss: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    """Apply ``reduction`` (already checked) to an element-wise loss, as ``torch.nn`` does."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def real_number(name: str, value: object) -> float:
    """``value`` as a ``float``: a real number, a NumPy scalar or a 0-d tensor (no bool).

    A tensor must be 0-d, real and not require grad (a hyper-parameter gets no gradient).
    """
    if isinstance(value, torch.Tensor):
        if value.dim() != 0 or value.is_complex() or value.dtype == torch.bool:
            raise ValueError(
                f"{name} must be a real number or a 0-d real tensor, "
                f"got a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
            )
        if value.requires_grad:
            raise ValueError(f"{name} must not require grad: it is a hyper-parameter")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def check_non_negative(name: str, value: object) -> float:
    """``value`` as a ``float``; ``ValueError`` unless it is a finite real number ``>= 0``."""
    number = real_number(name, value)
    if not 0 <= number < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def check_in_unit_interval(name: str, value: object) -> float:
    """``value`` as a ``float``; ``ValueError`` unless it is a real number in [0, 1]."""
    number = real_number(name, value)
    if not 0 <= number <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return number


def check_integer(name: str, value: object, minimum: int | None = None) -> int:
    """``value`` as an ``int``; ``ValueError`` unless it is an integer (and ``>= minimum``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{name}={value!r} is not supported; use one of {', '.join(map(repr, choices))}"
        )


# ---------------------------------------------------------------- tensors: types and shapes

def check_tensor(name: str, value: object) -> None:
    """Raise ``TypeError`` unless ``value`` is a tensor."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")


def check_floating(name: str, tensor: object) -> None:
    """Raise ``TypeError`` unless a tensor, ``ValueError`` unless floating point."""
    check_tensor(name, tensor)
    if not tensor.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")


def check_same_shape(name: str, tensor: torch.Tensor, input: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``tensor`` has the shape of ``input``."""
    if tensor.shape != input.shape:
        raise ValueError(
            f"{name} shape {tuple(tensor.shape)} must match input shape {tuple(input.shape)}"
        )


def check_broadcastable_to(name: str, tensor: object, shape: torch.Size) -> None:
    """Raise ``ValueError`` unless ``tensor`` broadcasts to ``shape`` without changing it."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or None, got {type(tensor).__name__}")
    try:
        broadcast = torch.broadcast_shapes(tensor.shape, shape)
    except RuntimeError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(
            f"{name} of shape {tuple(tensor.shape)} must broadcast to the input shape "
            f"{tuple(shape)}"
        )


def check_no_grad(name: str, tensor: torch.Tensor, why: str) -> None:
    """Raise ``ValueError`` if ``tensor`` requires grad; ``why`` says why it cannot get one."""
    if tensor.requires_grad:
        raise ValueError(f"{name} must not require grad: {why}; pass {name}.detach()")


def check_class_dtype(name: str, target: object) -> None:
    """Raise unless ``target`` is a tensor of an integer dtype ``F.cross_entropy`` accepts."""
    check_tensor(name, target)
    if target.dtype not in CLASS_INDEX_DTYPES:
        allowed = ", ".join(str(dtype).removeprefix("torch.") for dtype in CLASS_INDEX_DTYPES)
        raise ValueError(
            f"{name} must hold integer class indices ({allowed}), got dtype {target.dtype}"
        )


def check_class_target(input: object, target: object) -> torch.Tensor:
    """Check logits ``(N, C, ...)`` and class indices ``(N, ...)``; return ``target`` as int64.

    The values of ``target`` (in [0, C)) are checked as the module docstring says.
    """
    check_floating("input", input)
    if input.dim() < 2:
        raise ValueError(
            f"input must have shape (N, C) or (N, C, d1, ...), got {tuple(input.shape)}"
        )
    check_class_dtype("target", target)
    expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"target shape {tuple(target.shape)} must be {tuple(expected)} "
            f"for input of shape {tuple(input.shape)} (class dimension 1 removed)"
        )
    check_class_indices("target", target, input.shape[1])
    return target.long()


# ---------------------------------------------------------------- tensors: values (policy above)

def check_binary_labels(name: str, target: torch.Tensor) -> None:
    """Raise ``ValueError`` unless every value of ``target`` is 0 or 1 (NaN fails too)."""
    if not values_checked(target):
        return
    values = target if target.is_floating_point() else target.to(torch.float32)
    if torch.count_nonzero(values * (values - 1)):  # zero exactly at 0 and 1
        bad = target[(target != 0) & (target != 1)].flatten()[:3].tolist()
        raise ValueError(
            f"{name} must hold only 0 and 1 (hard labels), got values such as {bad}"
        )


def check_probabilities(name: str, tensor: torch.Tensor) -> None:
    """Raise ``ValueError`` unless every value of ``tensor`` is in [0, 1] (NaN fails too)."""
    if not values_checked(tensor):
        return
    inside = (tensor >= 0) & (tensor <= 1)
    if not inside.all():
        bad = tensor[~inside].flatten()[:3].tolist()
        raise ValueError(
            f"{name} must hold probabilities in [0, 1], got values such as {bad}"
        )


def check_class_indices(name: str, target: torch.Tensor, num_classes: int) -> None:
    """Raise ``ValueError`` unless every value of ``target`` is in [0, num_classes)."""
    if not values_checked(target) or not target.numel():
        return
    low, high = target.min().item(), target.max().item()
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"{name} must hold class indices in [0, {num_classes}), "
            f"got values from {low} to {high}"
        )


# ---------------------------------------------------------------- other arguments

def check_module(name: str, value: object) -> None:
    """Raise ``TypeError`` unless ``value`` is a ``torch.nn.Module``."""
    if not isinstance(value, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")


def check_include(include: object) -> None:
    """Raise ``ValueError`` unless ``include`` is ``"weights"``, ``"all"`` or a function."""
    if callable(include) or include in ("weights", "all"):
        return
    raise ValueError(
        f"include={include!r} is not supported; "
        f"use 'weights', 'all' or a function (name, parameter) -> bool"
    )


def check_class_weight(weight: object) -> None:
    """Raise unless ``weight`` is ``None`` or a 1-D floating-point tensor of class weights."""
    if weight is None:
        return
    check_tensor("weight", weight)
    if weight.dim() != 1 or not weight.is_floating_point():
        raise ValueError(
            f"weight must be a 1-D floating-point tensor with one entry per class, "
            f"got shape {tuple(weight.shape)} and dtype {weight.dtype}"
        )


def check_n_items(n_items: object) -> None:
    """Raise ``ValueError`` unless ``n_items`` is a positive number or one-element tensor.

    The value of a tensor is checked as the module docstring says (not on an accelerator).
    """
    if isinstance(n_items, torch.Tensor):
        if n_items.numel() != 1:
            raise ValueError(
                f"n_items must be a number or a one-element tensor, "
                f"got shape {tuple(n_items.shape)}"
            )
        if not values_checked(n_items):
            return
        value = n_items.item()
    else:
        value = real_number("n_items", n_items)
    if not value > 0:
        raise ValueError(
            f"n_items must be positive (the number of non-ignored items in the whole step), "
            f"got {value}"
        )


# ---------------------------------------------------------------- hyper-parameters of the losses

def check_focal_hyperparameters(
    alpha: object, gamma: object, reduction: object
) -> tuple[float | None, float]:
    """Check the hyper-parameters of the binary focal losses; return ``(alpha, gamma)``."""
    alpha = None if alpha is None else check_in_unit_interval("alpha", alpha)
    gamma = check_non_negative("gamma", gamma)
    check_reduction(reduction)
    return alpha, gamma


def check_class_alpha(alpha: object) -> torch.Tensor | None:
    """``alpha`` of the multi-class losses as a 1-D tensor of weights in [0, 1], or ``None``."""
    if alpha is None:
        return None
    if isinstance(alpha, torch.Tensor):
        weights = alpha
    elif isinstance(alpha, Sequence) and not isinstance(alpha, str):
        weights = torch.tensor([real_number("alpha", a) for a in alpha])
    else:
        raise ValueError(f"alpha must be None or one weight per class, got {alpha!r}")
    if weights.dim() != 1 or not weights.is_floating_point():
        raise ValueError(
            f"alpha must hold one weight per class (a 1-D sequence or floating-point tensor), "
            f"got shape {tuple(weights.shape)} and dtype {weights.dtype}"
        )
    if values_checked(weights) and not ((weights >= 0) & (weights <= 1)).all():
        raise ValueError(f"alpha must hold weights in [0, 1], got {weights.tolist()}")
    return weights


#: The published SCE codes ``sce_loss`` reproduces, by name: the authors' Keras code and the
#: PyTorch reproduction (HanxunH/SCELoss-Reproduce).
SCE_CODES: tuple[str, str] = ("authors-keras", "sceloss-reproduce")


def check_log_zero(log_zero: object) -> float | str:
    """``log_zero`` of ``sce_loss``: a finite negative number, or the name of a published code."""
    if isinstance(log_zero, str):
        if log_zero in SCE_CODES:
            return log_zero
    else:
        try:
            number = real_number("log_zero", log_zero)
        except ValueError:
            number = math.nan
        if -math.inf < number < 0:
            return number
    raise ValueError(
        f"log_zero must be a finite negative number, {SCE_CODES[0]!r} or {SCE_CODES[1]!r}, "
        f"got {log_zero!r}"
    )
