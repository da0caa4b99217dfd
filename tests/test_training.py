"""``lossbook.fit``: history, whole-epoch metrics, early stopping, restore of the best epoch, no hidden steps."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics.classification import BinaryAUROC

from lossbook import fit, l2_penalty, make_rings
from lossbook.training import History


def rings_loaders(seed: int = 0, batch_size: int = 32):
    X, y = make_rings(n_pos=60, n_neg=90, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(X), generator=generator)
    train, val = order[:100], order[100:]
    train_loader = DataLoader(TensorDataset(X[train], y[train]), batch_size=batch_size, shuffle=True, generator=generator)
    val_loader = DataLoader(TensorDataset(X[val], y[val]), batch_size=batch_size)
    return train_loader, val_loader, (X[val], y[val])


def small_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))


def test_history_rows_and_keys() -> None:
    train, val, _ = rings_loaders()
    model = small_net()
    history = fit(model, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=0.01),
                  train, val, epochs=3, patience=None, progress=False,
                  penalty=lambda m: l2_penalty(m, 0.01))
    assert isinstance(history, History) and len(history) == 3
    assert list(history[0]) == ["epoch", "lr", "train_loss", "train_objective", "train_auc",
                                "val_loss", "val_objective", "val_auc"]
    assert [row["epoch"] for row in history] == [1, 2, 3]
    for row in history:
        assert row["train_objective"] > row["train_loss"]
        assert row["val_objective"] > row["val_loss"]


def test_val_objective_is_val_loss_plus_the_final_penalty() -> None:
    train, val, (X_val, y_val) = rings_loaders()
    model = small_net()
    history = fit(model, nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  train, val, epochs=1, progress=False, penalty=lambda m: l2_penalty(m, 0.5))
    with torch.no_grad():
        loss = nn.BCEWithLogitsLoss()(model(X_val), y_val).item()
        penalty = l2_penalty(model, 0.5).item()
    assert history[0]["val_loss"] == pytest.approx(loss, rel=1e-5)
    assert history[0]["val_objective"] == pytest.approx(loss + penalty, rel=1e-5)


def test_metric_is_computed_over_the_whole_epoch() -> None:
    train, val, (X_val, y_val) = rings_loaders(batch_size=10)
    model = small_net()
    history = fit(model, nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=0.0),
                  train, val, epochs=1, progress=False)
    with torch.no_grad():
        logits = model(X_val)
    whole = BinaryAUROC()(logits, y_val).item()
    batches = [BinaryAUROC()(logits[i:i + 10], y_val[i:i + 10]).item() for i in range(0, len(y_val), 10)]
    assert history[0]["val_auc"] == pytest.approx(whole, abs=1e-6)
    assert sum(batches) / len(batches) != pytest.approx(whole, abs=1e-6)  # the mean of batch AUCs differs


def test_losses_are_averaged_over_examples_not_batches() -> None:
    X, y = torch.arange(5.0).reshape(5, 1), torch.zeros(5, 1)
    loader = DataLoader(TensorDataset(X, y), batch_size=2)  # batches of 2, 2 and 1
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.zero_()
    history = fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.0), loader, loader,
                  epochs=1, metrics={}, monitor="val_loss", mode="min", progress=False)
    assert history[0]["val_loss"] == pytest.approx((0 + 1 + 4 + 9 + 16) / 5)


def test_early_stopping_and_restore_of_the_best_epoch() -> None:
    # The same seeded run, stopped at different epochs, passes through the same weights; so the
    # model restored after early stopping must equal a run of exactly `best_epoch` epochs.
    def run(epochs: int, **options):
        train, val, _ = rings_loaders()
        model = small_net()
        history = fit(model, nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=0.5), train, val,
                      epochs=epochs, monitor="val_loss", mode="max", progress=False, **options)
        return history, [p.detach().clone() for p in model.parameters()]

    history, restored = run(10, patience=2)
    losses = history.column("val_loss")
    best = max(range(len(losses)), key=losses.__getitem__) + 1  # mode="max": the largest val_loss
    assert history.best_epoch == best
    assert len(history) == best + 2 < 10  # stopped after 2 epochs without improvement
    assert all(loss <= losses[best - 1] for loss in losses[best:])
    for a, b in zip(restored, run(best)[1]):
        assert torch.equal(a, b)
    history, last = run(len(history), patience=None, restore_best=False)
    assert not all(torch.equal(a, b) for a, b in zip(last, restored))


def test_no_gradient_clipping() -> None:
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    loader = DataLoader(TensorDataset(torch.ones(1, 1), torch.full((1, 1), 100.0)), batch_size=1)
    fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01), loader, None, epochs=1,
        metrics={}, monitor="train_loss", mode="min", progress=False)
    # gradient -200 (norm 200): one plain step moves the weight by 0.01 * 200 = 2
    assert model.weight.item() == pytest.approx(2.0)


def test_scheduler_and_lr_column() -> None:
    train, val, _ = rings_loaders()
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, nn.BCEWithLogitsLoss(), optimizer, train, val, epochs=3, patience=None,
                  scheduler=scheduler, progress=False)
    assert history.column("lr") == pytest.approx([0.1, 0.05, 0.025])


def test_progress_bar_goes_to_stderr_and_can_be_turned_off(capsys) -> None:
    train, val, _ = rings_loaders()
    for progress in (False, True):
        model = small_net()
        fit(model, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters()), train, val,
            epochs=1, progress=progress)
        captured = capsys.readouterr()
        assert captured.out == ""
        assert ("epochs" in captured.err) is progress


def test_table_marks_the_best_epoch() -> None:
    train, val, _ = rings_loaders()
    model = small_net()
    history = fit(model, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=0.05), train, val,
                  epochs=4, patience=None, progress=False)
    lines = history.table().splitlines()
    assert lines[0].split()[:3] == ["epoch", "lr", "train_loss"]
    marked = [line for line in lines if line.endswith(" *")]
    assert len(marked) == 1 and marked[0].split()[0] == str(history.best_epoch)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"mode": "maximum"}, "mode"),
        ({"patience": 0}, "patience"),
        ({"monitor": "val_accuracy"}, "monitor='val_accuracy'"),
    ],
)
def test_bad_arguments_are_refused(options, message) -> None:
    train, val, _ = rings_loaders()
    model = small_net()
    arguments = {"epochs": 1, "progress": False, **options}
    with pytest.raises(ValueError, match=message):
        fit(model, nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=0.1), train, val, **arguments)
