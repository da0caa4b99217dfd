r"""Token losses averaged over the right count: padding, gradient accumulation, data parallel.

``reduction="mean"`` divides a batch's summed loss by the number of non-ignored items *in that
call*. When one optimizer step is made of several calls (micro-batches under gradient
accumulation, ranks under data-parallel training) with different numbers of items, averaging
the per-call means is not the mean over the step. The fix is to sum each call's loss and divide
by the number of items in the whole step:

$$
\mathcal{L} = \frac{1}{N} \sum_{m} \sum_{i \in m} \ell_i,
\qquad N = \sum_{m} n_m .
$$

[count_items][lossbook.reductions.count_items] computes \(N\) (summed over ranks when ``torch.distributed`` is
initialised) and [token_loss][lossbook.reductions.token_loss] computes one call's share \(\sum_{i \in m} \ell_i / N\).
The chapter "Reductions at scale" shows both in use.

Examples:
    >>> import torch
    >>> import torch.nn.functional as F
    >>> from lossbook.reductions import count_items, token_loss
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> target = torch.tensor([0, 1, -100])  # the last item is padding
    >>> n_items = count_items(target)
    >>> n_items
    tensor(2)
    >>> token_loss(logits, target, n_items)
    tensor(0.2201)
    >>> F.cross_entropy(logits, target)
    tensor(0.2201)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F

from lossbook._validation import (
    check_class_dtype,
    check_class_weight,
    check_floating,
    check_integer,
    check_n_items,
    values_checked,
)

__all__ = ["count_items", "sum_then_divide", "token_loss"]


def count_items(
    targets: torch.Tensor | Sequence[torch.Tensor],
    *,
    ignore_index: int = -100,
    weight: torch.Tensor | None = None,
    group: dist.ProcessGroup | None = None,
) -> torch.Tensor:
    r"""Count the targets that are not ``ignore_index``, over all micro-batches and all ranks.

    This is the denominator that ``F.cross_entropy(..., reduction="mean")`` would use if the
    whole optimizer step were one call: the number of non-ignored targets, or, with class
    ``weight``, the sum of the weights of their classes,

    $$
    N = \sum_{r} \sum_{m} \sum_{i \in m,\ y_i \ne \text{ignore}} w_{y_i}
    \qquad (w_{y_i} = 1 \text{ without weights}),
    $$

    where \(m\) runs over the micro-batches of ``targets`` and \(r\) over the ranks.
    When ``torch.distributed`` is initialised, the local count is summed over the ranks of
    ``group`` with one ``all_reduce`` (every rank must call this function, with its own
    targets); otherwise it is the local count.

    Args:
        targets: class indices of one batch, or a sequence of them (the micro-batches of one
            optimizer step on this rank). Any integer dtype and shape.
        ignore_index: target value that marks padding, as in ``F.cross_entropy``.
        weight: optional class weights, shape ``(C,)``, as passed to the loss.
        group: process group to sum over; ``None`` is the default (world) group.

    Returns:
        A 0-dimensional tensor on the targets' device: ``int64`` when counting,
            the dtype of ``weight`` when summing weights.

    Shape:
        - targets: any shape, or a non-empty sequence of tensors of any shapes.
        - weight: \((C)\).
        - output: scalar.

    Examples:
        >>> import torch
        >>> from lossbook.reductions import count_items
        >>> short = torch.tensor([[3, 1, -100, -100]])
        >>> long = torch.tensor([[2, 2, 0, 1]])
        >>> count_items(short)
        tensor(2)
        >>> count_items([short, long])  # all the micro-batches of one step
        tensor(6)
        >>> count_items(short, weight=torch.tensor([1.0, 0.5, 1.0, 2.0]))
        tensor(2.5000)
    """
    batches = [targets] if isinstance(targets, torch.Tensor) else targets
    if isinstance(batches, (str, bytes)) or not isinstance(batches, Sequence):
        raise TypeError(f"targets must be a tensor or a sequence of tensors, got {type(targets).__name__}")
    if len(batches) == 0:
        raise ValueError("targets must hold at least one tensor, got an empty sequence")
    for index, batch in enumerate(batches):
        check_class_dtype("targets" if batches is not targets else f"targets[{index}]", batch)
    check_integer("ignore_index", ignore_index)
    check_class_weight(weight)

    total = None
    for batch in batches:
        kept = batch != ignore_index  # no data-dependent shapes: no wait for an accelerator
        if weight is None:
            count = kept.sum(dtype=torch.int64)
        else:
            if values_checked(batch):
                classes = batch[kept]
                if classes.numel() and (classes.min() < 0 or classes.max() >= weight.numel()):
                    raise ValueError(
                        f"targets hold class indices outside [0, {weight.numel() - 1}] "
                        f"(the classes of weight) that are not ignore_index={ignore_index}"
                    )
            safe = torch.where(kept, batch, torch.zeros_like(batch)).long()  # uint8 is a mask
            count = torch.where(kept, weight.to(batch.device)[safe], 0).sum()
        total = count if total is None else total + count
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(total, op=dist.ReduceOp.SUM, group=group)
    return total


def sum_then_divide(loss_sum: torch.Tensor, n_items: int | float | torch.Tensor) -> torch.Tensor:
    r"""Divide a summed loss by the number of items of the whole step.

    $$
    \text{loss} = \frac{\sum_{i \in \text{this call}} \ell_i}{N}
    $$

    with \(N\) the count of the whole optimizer step (all micro-batches, all ranks), usually
    from [count_items][lossbook.reductions.count_items]. Summing the results of every call of a step gives the mean over
    the step, whatever the sizes of the calls.

    Args:
        loss_sum: a loss computed with ``reduction="sum"``; floating point.
        n_items: the positive count \(N\), a number or a one-element tensor. A tensor on
            an accelerator is not checked, to avoid waiting for the device.

    Shape:
        - loss_sum: any shape, usually a scalar.
        - output: same as ``loss_sum``.

    Examples:
        >>> import torch
        >>> from lossbook.reductions import sum_then_divide
        >>> sum_then_divide(torch.tensor(6.0), 4)
        tensor(1.5000)
        >>> sum_then_divide(torch.tensor(6.0), torch.tensor(4))
        tensor(1.5000)
    """
    if not isinstance(loss_sum, torch.Tensor):
        raise ValueError(f"loss_sum must be a floating-point tensor, got {loss_sum!r}")
    check_floating("loss_sum", loss_sum)
    check_n_items(n_items)
    return loss_sum / n_items


def token_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    n_items: int | float | torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
) -> torch.Tensor:
    r"""Cross entropy summed over this call's items and divided by the step's count ``n_items``.

    $$
    \text{loss} = \frac{1}{N} \sum_{i:\ y_i \ne \text{ignore}} -w_{y_i}
    \log \frac{e^{x_{i, y_i}}}{\sum_c e^{x_{i,c}}}
    $$

    With ``n_items`` from [count_items][lossbook.reductions.count_items] on this call's own ``target`` it equals
    ``F.cross_entropy(input, target, weight=weight, ignore_index=ignore_index)``. With the
    count of all micro-batches (and ranks) of a step, the losses of the calls add up to that
    mean over the whole step, and so do their gradients. Under ``DistributedDataParallel``,
    which averages gradients over ranks, multiply the result by the world size.

    Args:
        input: logits, as for ``F.cross_entropy``.
        target: class indices, ``ignore_index`` where there is nothing to predict.
        n_items: the positive count \(N\) of the step, see [count_items][lossbook.reductions.count_items].
        weight: optional class weights of shape ``(C,)``; pass the same to
            [count_items][lossbook.reductions.count_items].
        ignore_index: target value that contributes nothing, as in ``F.cross_entropy``.

    Shape:
        - input: \((N, C)\) or \((N, C, d_1, \dots, d_K)\).
        - target: \((N)\) or \((N, d_1, \dots, d_K)\).
        - output: scalar.

    Examples:
        >>> import torch
        >>> import torch.nn.functional as F
        >>> from lossbook.reductions import count_items, token_loss
        >>> logits = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5], [3.0, 0.0]])
        >>> target = torch.tensor([0, 1, -100, 1])
        >>> first, second = slice(0, 2), slice(2, 4)  # two micro-batches: 2 and 1 items
        >>> n_items = count_items([target[first], target[second]])
        >>> token_loss(logits[first], target[first], n_items) + token_loss(
        ...     logits[second], target[second], n_items)
        tensor(1.1629)
        >>> F.cross_entropy(logits, target)  # the whole step in one call
        tensor(1.1629)
    """
    check_class_dtype("target", target)
    check_integer("ignore_index", ignore_index)
    check_class_weight(weight)
    check_n_items(n_items)
    loss_sum = F.cross_entropy(
        input, target.long(), weight=weight, ignore_index=ignore_index, reduction="sum"
    )
    return sum_then_divide(loss_sum, n_items)
