r"""A small, explicit training loop: where the data loss, the penalties and the metrics meet.

`fit` trains for up to ``epochs`` epochs and, after each, evaluates on the validation data,
records one row of history, keeps a copy of the best weights so far and stops early when the
monitored value has not improved for ``patience`` epochs. At the end the best weights are loaded
back into the model. It does nothing else: no gradient clipping, no mixed precision, no
learning-rate changes unless you pass a scheduler. Needs the ``train`` extra (torchmetrics,
tqdm), imported only when `fit` runs.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn

from lossbook._validation import check_choice, check_integer

MODES = ("min", "max")


class History(list):
    """The rows `fit` recorded, one ``dict`` per epoch, plus where the best epoch was.

    It is a ``list`` of ``dict`` (so ``history[-1]["val_loss"]`` and
    ``pandas.DataFrame(history)`` work), with three extra attributes and two methods.

    Attributes:
        monitor: the key early stopping watched, e.g. ``"val_auc"``.
        mode: ``"max"`` or ``"min"``.
        best_epoch: the epoch (counted from 1) whose weights the model holds at the end.
    """

    def __init__(self, monitor: str, mode: str) -> None:
        super().__init__()
        self.monitor = monitor
        self.mode = mode
        self.best_epoch: int | None = None

    def column(self, key: str) -> list[float]:
        """The values of ``key``, one per epoch."""
        return [row[key] for row in self]

    def table(self, columns: list[str] | None = None, digits: int = 4) -> str:
        """The history as a plain-text table; ``*`` marks the best epoch.

        Args:
            columns: the keys to show, in order; default all of them.
            digits: decimals shown for floating-point values.

        Examples:
            >>> from lossbook.training import History
            >>> history = History(monitor="val_loss", mode="min")
            >>> history += [{"epoch": 1, "val_loss": 0.5}, {"epoch": 2, "val_loss": 0.25}]
            >>> history.best_epoch = 2
            >>> print(history.table())
            epoch  val_loss
                1    0.5000
                2    0.2500 *
            >>> print(history.table(columns=["val_loss"], digits=2))
            val_loss
                0.50
                0.25 *
        """
        if not self:
            return "(no epochs)"
        keys = list(self[0]) if columns is None else list(columns)
        missing = [key for key in keys if key not in self[0]]
        if missing:
            raise ValueError(f"columns {missing} are not in the history; it has {list(self[0])}")

        def cell(value: Any) -> str:
            return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

        cells = [[cell(row[key]) for key in keys] for row in self]
        widths = [max(len(key), *(len(line[i]) for line in cells)) for i, key in enumerate(keys)]
        lines = ["  ".join(key.rjust(width) for key, width in zip(keys, widths))]
        for row, line in zip(self, cells):
            text = "  ".join(value.rjust(width) for value, width in zip(line, widths))
            lines.append(text + (" *" if row.get("epoch") == self.best_epoch else ""))
        return "\n".join(lines)


def _run_epoch(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    loader: Iterable,
    metrics: Mapping[str, Any],
    device: torch.device,
    optimizer: torch.optim.Optimizer | None = None,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
) -> dict[str, float]:
    """One pass over ``loader``: trains when an optimizer is given, else evaluates."""
    training = optimizer is not None
    model.train(training)
    for metric in metrics.values():
        metric.reset()
    loss_sum = penalty_sum = 0.0
    count = 0
    with torch.set_grad_enabled(training):
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            if training:
                objective = loss if penalty is None else loss + penalty(model)
                optimizer.zero_grad()
                objective.backward()
                optimizer.step()  # no gradient clipping, nothing else
                if penalty is not None:
                    penalty_sum += (objective - loss).item() * len(targets)
            loss_sum += loss.item() * len(targets)
            count += len(targets)
            for metric in metrics.values():
                metric.update(outputs.detach(), targets)
    if count == 0:
        raise ValueError("a data loader yielded no batches")
    result = {"loss": loss_sum / count}
    if training and penalty is not None:
        result["objective"] = (loss_sum + penalty_sum) / count
    for name, metric in metrics.items():
        result[name] = float(metric.compute())  # over the whole epoch, not a mean of batches
    return result


# --8<-- [start:fit]
def fit(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    epochs: int = 10,
    *,
    metrics: Mapping[str, Any] | None = None,
    monitor: str = "val_auc",
    mode: str = "max",
    patience: int | None = 3,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    scheduler: Any = None,
    restore_best: bool = True,
    progress: bool = True,
) -> History:
    r"""Train ``model``, validate after every epoch, stop early and restore the best epoch.

    Each training step minimises the objective \(J = L + \Omega\): the data loss
    ``loss_fn(model(x), y)`` plus, if given, ``penalty(model)`` (for example
    ``lambda m: l1_penalty(m, 0.001) + l2_penalty(m, 0.001)``). Nothing else happens to the
    gradients: no clipping, no scaling.

    After each epoch one row is added to the history:

    - ``epoch`` (from 1) and ``lr``, the learning rate of the optimizer's first parameter group
      during the epoch;
    - ``train_loss``: the data loss averaged over the epoch's examples (the model changes during
      the epoch, so this is a running figure); with a penalty, also ``train_objective``, the
      mean of loss + penalty that was minimised;
    - ``val_loss``: the data loss on the validation data, *without* the penalty, which is the
      number to compare across models; with a penalty, also ``val_objective``, the same plus the
      penalty at the end of the epoch;
    - ``train_<name>`` and ``val_<name>`` for each metric, computed over all of the epoch's
      predictions at once (an AUC of the whole epoch, not a mean of per-batch AUCs).

    A copy of the ``state_dict`` is kept whenever ``monitor`` improves (strictly); training stops
    after ``patience`` epochs without improvement, and the best copy is loaded back at the end.

    Args:
        model: the network; batches are moved to the device of its first parameter.
        loss_fn: ``(outputs, targets) -> scalar``, the mean loss of a batch.
        optimizer: a ``torch.optim`` optimizer over the model's parameters.
        train_loader: yields ``(inputs, targets)`` batches.
        val_loader: the same for validation, or ``None`` (then monitor a ``train_`` key).
        epochs: the maximum number of epochs.
        metrics: ``{name: torchmetrics metric}``, updated with ``(outputs, targets)``; default
            ``{"auc": BinaryAUROC()}``, which accepts logits. Give ``{}`` for none.
        monitor: the history key early stopping and the checkpoint watch.
        mode: ``"max"`` if larger is better for ``monitor``, ``"min"`` if smaller is.
        patience: epochs without improvement before stopping; ``None`` never stops early.
        penalty: ``model -> scalar`` added to the training objective, or ``None``.
        scheduler: a learning-rate scheduler stepped once after each epoch (``ReduceLROnPlateau``
            is given the monitored value), or ``None``.
        restore_best: load the best epoch's weights into ``model`` at the end.
        progress: show a tqdm progress bar over the epochs (on stderr).

    Returns:
        The `History`: one ``dict`` per epoch, with ``best_epoch`` and ``table()``.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> from lossbook import fit, make_rings
        >>> X, y = make_rings(n_pos=100, n_neg=100, seed=0)
        >>> g = torch.Generator().manual_seed(0)
        >>> train = DataLoader(
        ...     TensorDataset(X[::2], y[::2]), batch_size=20, shuffle=True, generator=g
        ... )
        >>> val = DataLoader(TensorDataset(X[1::2], y[1::2]), batch_size=100)
        >>> _ = torch.manual_seed(0)
        >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
        >>> optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        >>> history = fit(
        ...     model, nn.BCEWithLogitsLoss(), optimizer, train, val, epochs=3, progress=False
        ... )
        >>> print(history.table())
        epoch      lr  train_loss  train_auc  val_loss  val_auc
            1  0.0500      0.6899     0.5944    0.6886   0.5832
            2  0.0500      0.6853     0.6716    0.7003   0.5696
            3  0.0500      0.6024     0.7708    0.6520   0.6608 *
    """
    check_integer("epochs", epochs, minimum=1)
    check_choice("mode", mode, MODES)
    if patience is not None:  # None: no early stopping
        check_integer("patience", patience, minimum=1)
    from tqdm import tqdm  # imported here: `import lossbook` needs torch only

    if metrics is None:
        from torchmetrics.classification import BinaryAUROC

        metrics = {"auc": BinaryAUROC()}
    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    train_metrics = {name: copy.deepcopy(metric).to(device) for name, metric in metrics.items()}
    val_metrics = {name: copy.deepcopy(metric).to(device) for name, metric in metrics.items()}

    keys = ["train_loss", *(["train_objective"] if penalty is not None else [])]
    keys += [f"train_{name}" for name in metrics]
    if val_loader is not None:
        keys += ["val_loss", *(["val_objective"] if penalty is not None else [])]
        keys += [f"val_{name}" for name in metrics]
    if monitor not in keys:
        raise ValueError(f"monitor={monitor!r} is not recorded; choose one of {', '.join(map(repr, keys))}")

    history = History(monitor, mode)
    best_value = -math.inf if mode == "max" else math.inf
    best_state = None
    waited = 0
    bar = tqdm(range(1, epochs + 1), desc="epochs", disable=not progress, unit="epoch")
    for epoch in bar:
        row: dict[str, Any] = {"epoch": epoch, "lr": float(optimizer.param_groups[0]["lr"])}
        train = _run_epoch(model, loss_fn, train_loader, train_metrics, device, optimizer, penalty)
        row.update({f"train_{key}": value for key, value in train.items()})
        if val_loader is not None:
            val = _run_epoch(model, loss_fn, val_loader, val_metrics, device)
            row["val_loss"] = val.pop("loss")
            if penalty is not None:
                with torch.no_grad():
                    row["val_objective"] = row["val_loss"] + float(penalty(model))
            row.update({f"val_{key}": value for key, value in val.items()})
        history.append(row)
        bar.set_postfix({key: f"{row[key]:.4f}" for key in ("train_loss", monitor)})

        value = row[monitor]
        if (value > best_value) if mode == "max" else (value < best_value):
            best_value, waited = value, 0
            best_state = copy.deepcopy(model.state_dict())
            history.best_epoch = epoch
        else:
            waited += 1
        if scheduler is not None:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(value)
            else:
                scheduler.step()
        if patience is not None and waited >= patience:
            break
    bar.close()
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return history
# --8<-- [end:fit]
