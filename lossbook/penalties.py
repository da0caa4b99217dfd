"""L1 and L2 penalties on a model's weights, and optimizer parameter groups for weight decay.

The objective a model is trained on is often a data loss plus a penalty on its parameters:

$$
J(w) = L(w) + \\lambda_1 \\sum_i |w_i| + \\tfrac{1}{2}\\lambda_2 \\sum_i w_i^2 .
$$

By default only *weights* are penalised: biases and the scale and shift of normalisation layers
(``BatchNorm``, ``LayerNorm``, ``GroupNorm``, ...) are left alone, because shrinking them towards
zero does not make the model simpler, it only moves its operating point. ``include`` chooses:
``"weights"`` (the default), ``"all"``, or a function ``(name, parameter) -> bool``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Literal, Union

import torch
from torch import nn

from lossbook._validation import check_include, check_module, check_non_negative

Include = Union[Literal["weights", "all"], Callable[[str, nn.Parameter], bool]]



# --8<-- [start:weights]
# Layers whose parameters are a scale and a shift, not weights.
NORM_LAYERS: tuple[type[nn.Module], ...] = tuple(
    layer
    for layer in (
        nn.modules.batchnorm._NormBase,  # BatchNorm*d, InstanceNorm*d, SyncBatchNorm
        nn.LayerNorm,
        nn.GroupNorm,
        getattr(nn, "RMSNorm", None),
    )
    if layer is not None
)


def is_weight(module: nn.Module, local_name: str) -> bool:
    """Whether the parameter ``local_name`` held directly by ``module`` is a weight.

    A bias (any name containing ``"bias"``, such as ``bias`` or an LSTM's
    ``bias_ih_l0``) is not, and neither is a parameter of a normalisation layer;
    everything else is.

    Examples:
        >>> from torch import nn
        >>> from lossbook.penalties import is_weight
        >>> is_weight(nn.Linear(2, 3), "weight"), is_weight(nn.Linear(2, 3), "bias")
        (True, False)
        >>> is_weight(nn.LayerNorm(3), "weight")
        False
    """
    return "bias" not in local_name and not isinstance(module, NORM_LAYERS)
# --8<-- [end:weights]


def select_parameters(model: nn.Module, include: Include = "weights") -> list[tuple[str, nn.Parameter]]:
    """The ``(name, parameter)`` pairs of ``model`` that ``include`` selects, each shared parameter once.

    Args:
        model: the module whose parameters are searched (recursively).
        include: ``"weights"`` (no biases, no normalisation parameters), ``"all"``, or a function
            ``(name, parameter) -> bool`` called with the dotted name from ``named_parameters()``.

    Examples:
        >>> from torch import nn
        >>> from lossbook.penalties import select_parameters
        >>> net = nn.Sequential(nn.Linear(2, 3), nn.LayerNorm(3), nn.Linear(3, 1))
        >>> [name for name, _ in select_parameters(net)]
        ['0.weight', '2.weight']
        >>> first_norm = lambda name, p: name.startswith("1.")
        >>> [name for name, _ in select_parameters(net, include=first_norm)]
        ['1.weight', '1.bias']
    """
    check_module("model", model)
    check_include(include)
    chosen: list[tuple[str, nn.Parameter]] = []
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for local_name, parameter in module.named_parameters(recurse=False):
            if id(parameter) in seen:
                continue
            seen.add(id(parameter))
            name = f"{module_name}.{local_name}" if module_name else local_name
            if include == "all":
                keep = True
            elif include == "weights":
                keep = is_weight(module, local_name)
            else:
                keep = bool(include(name, parameter))
            if keep:
                chosen.append((name, parameter))
    return chosen


# --8<-- [start:sums]
def sum_abs(tensors: Iterable[torch.Tensor]) -> torch.Tensor:
    """The sum of the absolute values of all elements of ``tensors`` (0 for none)."""
    total = torch.zeros(())
    for tensor in tensors:
        total = total + tensor.abs().sum()
    return total


def sum_squares(tensors: Iterable[torch.Tensor]) -> torch.Tensor:
    """The sum of the squares of all elements of ``tensors``.

    Never a norm: the gradient of a norm is nan at 0.
    """
    total = torch.zeros(())
    for tensor in tensors:
        total = total + tensor.pow(2).sum()
    return total
# --8<-- [end:sums]


def l1_penalty(model: nn.Module, weight: float = 1.0, include: Include = "weights") -> torch.Tensor:
    """L1 penalty: ``weight`` times the sum of absolute values of the selected parameters.

    $$
    \\Omega_1(w) = \\lambda \\sum_i |w_i|
    $$

    Its gradient is \\(\\lambda\\,\\operatorname{sign}(w_i)\\), the same pull for a small weight as for
    a large one, which is what drives weights to exactly zero.

    Args:
        model: the module whose parameters are penalised.
        weight: the coefficient \\(\\lambda \\ge 0\\).
        include: ``"weights"`` (default: no biases, no normalisation parameters), ``"all"``, or a
            function ``(name, parameter) -> bool``.

    Shape:
        Output: a scalar tensor, differentiable with respect to the selected parameters.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from lossbook.penalties import l1_penalty
        >>> layer = nn.Linear(2, 1)
        >>> with torch.no_grad():
        ...     _ = layer.weight.copy_(torch.tensor([[3.0, -4.0]]))
        ...     _ = layer.bias.fill_(10.0)
        ...
        >>> l1_penalty(layer, weight=0.1)
        tensor(0.7000, grad_fn=<MulBackward0>)
        >>> l1_penalty(layer, weight=0.1, include="all")
        tensor(1.7000, grad_fn=<MulBackward0>)
    """
    weight = check_non_negative("weight", weight)
    return weight * sum_abs(parameter for _, parameter in select_parameters(model, include))


def l2_penalty(model: nn.Module, weight: float = 1.0, include: Include = "weights") -> torch.Tensor:
    """L2 penalty: half of ``weight`` times the sum of squares of the selected parameters.

    $$
    \\Omega_2(w) = \\tfrac{1}{2}\\lambda \\sum_i w_i^2
    $$

    Its gradient is \\(\\lambda w_i\\), which is what ``weight_decay=λ`` adds in ``torch.optim.SGD``.
    The sum of squares is used, never the norm \\(\\lVert w \\rVert\\): the norm's gradient
    \\(w / \\lVert w \\rVert\\) is ``nan`` at \\(w = 0\\).

    Args:
        model: the module whose parameters are penalised.
        weight: the coefficient \\(\\lambda \\ge 0\\).
        include: ``"weights"`` (default: no biases, no normalisation parameters), ``"all"``, or a
            function ``(name, parameter) -> bool``.

    Shape:
        Output: a scalar tensor, differentiable with respect to the selected parameters.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from lossbook.penalties import l2_penalty
        >>> layer = nn.Linear(2, 1)
        >>> with torch.no_grad():
        ...     _ = layer.weight.copy_(torch.tensor([[3.0, -4.0]]))
        ...     _ = layer.bias.fill_(10.0)
        ...
        >>> l2_penalty(layer, weight=0.1)
        tensor(1.2500, grad_fn=<MulBackward0>)
        >>> zero = nn.Linear(2, 1, bias=False)
        >>> _ = nn.init.zeros_(zero.weight)
        >>> l2_penalty(zero, weight=0.1).backward()
        >>> zero.weight.grad  # finite at zero
        tensor([[0., 0.]])
    """
    weight = check_non_negative("weight", weight)
    return 0.5 * weight * sum_squares(parameter for _, parameter in select_parameters(model, include))


# --8<-- [start:param_groups]
def param_groups(
    model: nn.Module, weight_decay: float, include: Include = "weights", **options: Any
) -> list[dict[str, Any]]:
    """Parameter groups: ``weight_decay`` on the selected parameters, none on the rest.

    Pass the result to a ``torch.optim`` optimizer in place of ``model.parameters()``.
    Build it from the network itself, not from a wrapper that also holds a loss or a
    metric with parameters of its own: those would be decayed too. ``include`` selects
    as in [l2_penalty][lossbook.penalties.l2_penalty]; ``**options`` (``lr``, ...) go to
    both groups. A group that would be empty is left out.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from lossbook.penalties import param_groups
        >>> net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
        >>> groups = param_groups(net, weight_decay=1e-4)
        >>> [(len(g["params"]), g["weight_decay"]) for g in groups]
        [(2, 0.0001), (4, 0.0)]
        >>> optimizer = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    """
    if isinstance(weight_decay, bool) or not (
        isinstance(weight_decay, (int, float)) and 0 <= weight_decay < math.inf
    ):  # the rule of lossbook._validation.check_non_negative, written out for the page
        raise ValueError(
            f"weight_decay must be a finite number >= 0, got {weight_decay!r}"
        )
    chosen = {id(parameter) for _, parameter in select_parameters(model, include)}
    decayed: list[nn.Parameter] = []
    others: list[nn.Parameter] = []
    for parameter in model.parameters():  # model order; shared parameters once
        (decayed if id(parameter) in chosen else others).append(parameter)
    groups = [
        {"params": decayed, "weight_decay": weight_decay, **options},
        {"params": others, "weight_decay": 0.0, **options},
    ]
    return [group for group in groups if group["params"]]
# --8<-- [end:param_groups]
