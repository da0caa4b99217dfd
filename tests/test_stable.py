"""lossbook.stable agrees with PyTorch's BCEWithLogitsLoss, stays finite, and rejects bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lossbook.stable import StableBCEWithLogitsLoss, bce_with_logits, bce_with_logits_terms

logit_values = st.floats(min_value=-300.0, max_value=300.0, allow_nan=False, width=32)
label_values = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.tuples(logit_values, label_values, st.floats(0.0, 10.0, width=32)), min_size=1, max_size=12),
    pos_weight=st.floats(min_value=0.125, max_value=10.0, width=32),
    reduction=st.sampled_from(["none", "mean", "sum"]),
)
def test_matches_pytorch(data: list[tuple[float, float, float]], pos_weight: float, reduction: str) -> None:
    # float64: PyTorch's own form, (1 - y) x + log(1 + exp(-x)), cancels badly in float32 for
    # large negative x and soft y; in float64 both forms agree far below the tolerance.
    logits, labels, weights = (torch.tensor(column, dtype=torch.float64) for column in zip(*data))
    pw = torch.tensor(pos_weight, dtype=torch.float64)
    for kwargs in ({}, {"weight": weights}, {"pos_weight": pw}, {"weight": weights, "pos_weight": pw}):
        ours = bce_with_logits(logits, labels, reduction=reduction, **kwargs)
        theirs = F.binary_cross_entropy_with_logits(logits, labels, reduction=reduction, **kwargs)
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(logit_values, label_values), min_size=1, max_size=12))
def test_gradient_is_sigmoid_minus_target(data: list[tuple[float, float]]) -> None:
    logits, labels = (torch.tensor(column) for column in zip(*data))
    logits.requires_grad_(True)
    bce_with_logits(logits, labels, reduction="sum").backward()
    torch.testing.assert_close(logits.grad, torch.sigmoid(logits.detach()) - labels)


def test_gradient_at_zero_is_one_half_minus_target() -> None:
    logits = torch.zeros(2, requires_grad=True)
    bce_with_logits(logits, torch.tensor([1.0, 0.0]), pos_weight=torch.tensor(1.0), reduction="sum").backward()
    torch.testing.assert_close(logits.grad, torch.tensor([-0.5, 0.5]))


def test_extreme_logits_give_the_exact_finite_loss() -> None:
    logits = torch.tensor([-1e4, -200.0, 200.0, 1e4])
    labels = torch.tensor([1.0, 1.0, 0.0, 0.0])
    loss = bce_with_logits_terms(logits, labels)
    assert torch.isfinite(loss).all()
    torch.testing.assert_close(loss, logits.abs())


def test_pos_weight_per_label_column() -> None:
    logits = torch.zeros(4, 3)
    labels = torch.ones(4, 3)
    pos_weight = torch.tensor([1.0, 2.0, 3.0])
    loss = bce_with_logits(logits, labels, pos_weight=pos_weight, reduction="none")
    torch.testing.assert_close(loss, torch.log(torch.tensor(2.0)) * pos_weight.expand(4, 3))


def test_module_stores_its_options() -> None:
    module = StableBCEWithLogitsLoss(weight=torch.tensor([1.0, 2.0]), reduction="sum")
    logits, labels = torch.tensor([0.3, -0.7]), torch.tensor([1.0, 0.0])
    torch.testing.assert_close(
        module(logits, labels),
        F.binary_cross_entropy_with_logits(logits, labels, weight=torch.tensor([1.0, 2.0]), reduction="sum"),
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bce_with_logits(torch.zeros(3), torch.zeros(3).long()), "target must be a floating-point"),
        (lambda: bce_with_logits(torch.zeros(3, dtype=torch.int64), torch.zeros(3)), "input must be a floating-point"),
        (lambda: bce_with_logits(torch.zeros(3), torch.zeros(1, 3)), "must match input shape"),
        (lambda: bce_with_logits(torch.zeros(3), torch.zeros(3), weight=torch.ones(2)), "weight of shape"),
        (lambda: bce_with_logits(torch.zeros(3), torch.zeros(3), pos_weight=torch.ones(2, 3)), "pos_weight of shape"),
        (lambda: bce_with_logits(torch.zeros(3), torch.zeros(3), reduction="avg"), "reduction='avg'"),
        (lambda: StableBCEWithLogitsLoss(reduction="batchmean"), "reduction='batchmean'"),
    ],
)
def test_bad_arguments_raise_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
