"""L1 and L2 penalties, the weights-only selection and the optimizer parameter groups."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lossbook import l1_penalty, l2_penalty, param_groups
from lossbook.penalties import select_parameters


def mixed_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Embedding(5, 3), nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LayerNorm(4),
        nn.GroupNorm(2, 4), nn.Linear(4, 2),
    )


def test_weights_only_by_default() -> None:
    names = [name for name, _ in select_parameters(mixed_model())]
    assert names == ["0.weight", "1.weight", "5.weight"]


def test_include_all_and_a_predicate() -> None:
    model = mixed_model()
    assert [n for n, _ in select_parameters(model, "all")] == [n for n, _ in model.named_parameters()]
    assert [n for n, _ in select_parameters(model, lambda name, p: p.dim() == 1 and "bias" in name)] == [
        "1.bias", "2.bias", "3.bias", "4.bias", "5.bias",
    ]


def test_lstm_biases_are_not_weights() -> None:
    names = [name for name, _ in select_parameters(nn.LSTM(2, 3))]
    assert names == ["weight_ih_l0", "weight_hh_l0"]


def test_values_match_the_formulas() -> None:
    model = mixed_model()
    weights = [model[0].weight, model[1].weight, model[5].weight]
    expected_l1 = 0.3 * sum(w.abs().sum() for w in weights)
    expected_l2 = 0.5 * 0.3 * sum(w.pow(2).sum() for w in weights)
    torch.testing.assert_close(l1_penalty(model, weight=0.3), expected_l1)
    torch.testing.assert_close(l2_penalty(model, weight=0.3), expected_l2)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-10, 10, width=32), min_size=1, max_size=8), st.floats(0, 5))
def test_l2_gradient_is_lambda_w_and_l1_gradient_is_lambda_sign(values: list[float], lam: float) -> None:
    layer = nn.Linear(len(values), 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([values]))
    l2_penalty(layer, weight=lam).backward()
    torch.testing.assert_close(layer.weight.grad, lam * layer.weight.detach())
    assert layer.bias.grad is None  # the bias is not penalised
    layer.weight.grad = None
    l1_penalty(layer, weight=lam).backward()
    torch.testing.assert_close(layer.weight.grad, lam * layer.weight.detach().sign())


def test_gradient_is_finite_at_zero() -> None:
    layer = nn.Linear(3, 2)
    nn.init.zeros_(layer.weight)
    (l1_penalty(layer, 0.1) + l2_penalty(layer, 0.1)).backward()
    assert torch.isfinite(layer.weight.grad).all()


def test_shared_parameters_count_once() -> None:
    shared = nn.Linear(2, 2, bias=False)
    model = nn.Sequential(shared, shared)
    torch.testing.assert_close(l2_penalty(model, 1.0), 0.5 * shared.weight.pow(2).sum())


def test_a_model_without_weights_has_zero_penalty() -> None:
    assert l1_penalty(nn.ReLU(), 1.0).item() == 0.0
    assert l2_penalty(nn.LayerNorm(3), 1.0).item() == 0.0


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, "0.1", True, None])
def test_bad_coefficients_are_refused(bad) -> None:
    with pytest.raises(ValueError, match="weight"):
        l1_penalty(nn.Linear(2, 1), weight=bad)
    with pytest.raises(ValueError, match="weight"):
        l2_penalty(nn.Linear(2, 1), weight=bad)
    with pytest.raises(ValueError, match="weight_decay"):
        param_groups(nn.Linear(2, 1), weight_decay=bad)


def test_bad_include_and_model_are_refused() -> None:
    with pytest.raises(ValueError, match="include='biases'"):
        l2_penalty(nn.Linear(2, 1), 0.1, include="biases")
    with pytest.raises(TypeError, match="torch.nn.Module"):
        l2_penalty(torch.zeros(3), 0.1)


def test_param_groups_split_every_parameter_once() -> None:
    model = mixed_model()
    groups = param_groups(model, weight_decay=0.01, lr=0.5)
    assert [g["weight_decay"] for g in groups] == [0.01, 0.0]
    assert all(g["lr"] == 0.5 for g in groups)
    decayed = {id(p) for p in groups[0]["params"]}
    others = {id(p) for p in groups[1]["params"]}
    assert decayed == {id(p) for _, p in select_parameters(model)}
    assert decayed.isdisjoint(others)
    assert decayed | others == {id(p) for p in model.parameters()}


def test_empty_groups_are_left_out() -> None:
    groups = param_groups(nn.Linear(2, 1, bias=False), weight_decay=0.1)
    assert len(groups) == 1 and groups[0]["weight_decay"] == 0.1


def test_sgd_with_groups_equals_a_weights_only_l2_penalty() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(16, 3), torch.randn(16, 1)

    def run(use_groups: bool) -> list[torch.Tensor]:
        torch.manual_seed(1)
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
        if use_groups:
            optimizer = torch.optim.SGD(param_groups(model, weight_decay=0.2), lr=0.1, momentum=0.9)
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(5):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            if not use_groups:
                loss = loss + l2_penalty(model, weight=0.2)
            loss.backward()
            optimizer.step()
        return [p.detach() for p in model.parameters()]

    for a, b in zip(run(True), run(False)):
        torch.testing.assert_close(a, b)
