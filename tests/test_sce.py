"""Symmetric cross entropy: its two pieces, both choices of A, extreme logits and argument checks."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
from lossbook import SCELoss, sce_loss

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True)


def authors_sce(pred, labels, alpha, beta):
    """The published SCE code, rewritten: probabilities and one-hot labels clamped at 1e-4."""
    ce = F.cross_entropy(pred, labels, reduction="none")
    probs = torch.softmax(pred, dim=1).clamp(min=1e-4, max=1.0)
    one_hot = F.one_hot(labels, pred.shape[1]).to(pred.dtype).clamp(min=1e-4, max=1.0)
    rce = -(probs * torch.log(one_hot)).sum(dim=1)
    return alpha * ce + beta * rce


def paper_rce(pred, labels, log_zero):
    """RCE of the paper: -sum_k p_k log q_k with log 0 := A, i.e. -A (1 - p_y)."""
    p_y = torch.softmax(pred, dim=1).gather(1, labels.unsqueeze(1)).squeeze(1)
    return -log_zero * (1 - p_y)


@st.composite
def scores_and_classes(draw, low=-30.0, high=30.0, dtype=torch.float64):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(2, 6))
    values = draw(st.lists(st.floats(low, high, width=32), min_size=n * c, max_size=n * c))
    classes = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    return torch.tensor(values, dtype=dtype).reshape(n, c), torch.tensor(classes)


weights = st.floats(0.0, 10.0)


@PROPERTY
@given(data=scores_and_classes())
def test_property_alpha_1_beta_0_is_cross_entropy(data):
    x, y = data
    torch.testing.assert_close(sce_loss(x, y, alpha=1.0, beta=0.0, reduction="none"), F.cross_entropy(x, y, reduction="none"))


@PROPERTY
@given(data=scores_and_classes(), log_zero=st.sampled_from([-4.0, math.log(1e-4), -1.0]) | st.floats(-20.0, -1e-3))
def test_property_alpha_0_beta_1_is_reverse_cross_entropy(data, log_zero):
    x, y = data
    got = sce_loss(x, y, alpha=0.0, beta=1.0, log_zero=log_zero, reduction="none")
    torch.testing.assert_close(got, paper_rce(x, y, log_zero), rtol=1e-9, atol=1e-12)


@PROPERTY
@given(data=scores_and_classes(), alpha=weights, beta=weights)
def test_property_sum_of_the_pieces(data, alpha, beta):
    x, y = data
    ce = sce_loss(x, y, alpha=1.0, beta=0.0, reduction="none")
    rce = sce_loss(x, y, alpha=0.0, beta=1.0, reduction="none")
    torch.testing.assert_close(sce_loss(x, y, alpha, beta, reduction="none"), alpha * ce + beta * rce)


@PROPERTY
@given(data=scores_and_classes(), alpha=weights, beta=weights)
def test_property_clamp_reproduces_the_authors_code(data, alpha, beta):
    x, y = data
    for reduction, pick in (("none", lambda t: t), ("mean", torch.mean), ("sum", torch.sum)):
        got = sce_loss(x, y, alpha, beta, log_zero="clamp", reduction=reduction)
        torch.testing.assert_close(got, pick(authors_sce(x, y, alpha, beta)), rtol=1e-9, atol=1e-12)


@PROPERTY
@given(data=scores_and_classes())
def test_property_clamp_is_ln_1e4_up_to_the_probability_floor(data):
    # Without the probability clamp the two differ by at most (C - 1) * 1e-4 * 9.21.
    x, y = data
    exact = sce_loss(x, y, 0.0, 1.0, log_zero=math.log(1e-4), reduction="none")
    clamped = sce_loss(x, y, 0.0, 1.0, log_zero="clamp", reduction="none")
    assert ((clamped - exact).abs() <= (x.shape[1] - 1) * 1e-4 * 9.2104 + 1e-12).all()


def test_paper_and_code_differ_by_the_ratio_of_their_constants():
    x = torch.tensor([[0.0, 2.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([0])
    paper = sce_loss(x, y, 0.0, 1.0, log_zero=-4.0)
    code = sce_loss(x, y, 0.0, 1.0, log_zero=math.log(1e-4))
    assert math.isclose((code / paper).item(), math.log(1e-4) / -4.0, rel_tol=1e-12)


@PROPERTY
@given(data=scores_and_classes(-1e4, 1e4, torch.float32), log_zero=st.sampled_from([-4.0, "clamp"]))
def test_property_finite_for_extreme_float32_logits(data, log_zero):
    x, y = data
    x = x.requires_grad_()
    loss = sce_loss(x, y, alpha=0.1, beta=1.0, log_zero=log_zero)
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


@pytest.mark.parametrize("log_zero", [-4.0, "clamp"])
def test_gradcheck_float64(log_zero):
    torch.manual_seed(0)
    x = (torch.randn(5, 4, dtype=torch.float64) * 2).requires_grad_()
    y = torch.randint(0, 4, (5,))
    assert torch.autograd.gradcheck(lambda inp: sce_loss(inp, y, 0.1, 1.0, log_zero=log_zero), (x,))


def test_spatial_dimensions_match_flattened_rows():
    torch.manual_seed(1)
    x = torch.randn(2, 3, 4)
    y = torch.randint(0, 3, (2, 4))
    rows = sce_loss(x.permute(0, 2, 1).reshape(-1, 3), y.reshape(-1), 0.1, 1.0, reduction="none")
    torch.testing.assert_close(sce_loss(x, y, 0.1, 1.0, reduction="none"), rows.reshape(2, 4))


@pytest.mark.parametrize("kwargs", [{"alpha": 0.1, "beta": 1.0}, {"alpha": 6.0, "beta": 0.1, "log_zero": "clamp", "reduction": "sum"}])
def test_module_equals_function(kwargs):
    torch.manual_seed(2)
    x = torch.randn(7, 10)
    y = torch.randint(0, 10, (7,))
    assert torch.equal(SCELoss(**kwargs)(x, y), sce_loss(x, y, **kwargs))


def test_module_repr_and_top_level_names():
    assert repr(SCELoss(0.01, 1.0)) == "SCELoss(alpha=0.01, beta=1.0, log_zero=-4.0, reduction='mean')"
    assert lossbook.sce_loss is sce_loss and lossbook.SCELoss is SCELoss


SCORES = torch.randn(2, 3)
CLASSES = torch.tensor([0, 2])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sce_loss(SCORES, CLASSES, alpha=-0.1, beta=1.0), "alpha must be a finite number >= 0"),
        (lambda: sce_loss(SCORES, CLASSES, alpha=0.1, beta=-1.0), "beta must be a finite number >= 0"),
        (lambda: sce_loss(SCORES, CLASSES, alpha=float("inf"), beta=1.0), "alpha must be"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, log_zero=4.0), "log_zero must be a finite negative number"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, log_zero=0.0), "log_zero must be"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, log_zero=float("-inf")), "log_zero must be"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, log_zero="clip"), "log_zero must be"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, reduction="avg"), "reduction="),
        (lambda: sce_loss(SCORES, torch.tensor([0, 3]), 0.1, 1.0), r"target must hold class indices in \[0, 3\)"),
        (lambda: sce_loss(SCORES, torch.tensor([0.0, 1.0]), 0.1, 1.0), "target must hold class indices as an integer"),
        (lambda: sce_loss(SCORES, torch.tensor([0, 1, 2]), 0.1, 1.0), "target shape"),
        (lambda: sce_loss(torch.tensor([[1, 2]]), torch.tensor([0]), 0.1, 1.0), "input must be a floating-point"),
        (lambda: SCELoss(alpha=-1.0, beta=1.0), "alpha must be"),
        (lambda: SCELoss(alpha=0.1, beta=1.0, log_zero=2.0), "log_zero must be"),
        (lambda: SCELoss(alpha=0.1, beta=1.0, reduction="none!"), "reduction="),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_alpha_and_beta_are_required():
    with pytest.raises(TypeError):
        sce_loss(SCORES, CLASSES)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        SCELoss()  # type: ignore[call-arg]
