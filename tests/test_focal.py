"""lossbook's focal losses against the formulations they replace, at every logit, plus argument checks.

The "common formulation" (as ``torchvision.ops.sigmoid_focal_loss`` computes it: probabilities
first) is imported from ``snippets/common_focal_loss.py``, the one copy the chapter and the
benchmark use too, so the tests need no torchvision.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
from lossbook import FocalLoss, SoftmaxFocalLoss, focal_loss, focal_loss_from_probs, softmax_focal_loss
from lossbook.functional import _SigmoidFocalLoss

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "snippets"))
from common_focal_loss import common_focal_loss as common_elementwise  # noqa: E402

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True)


def common_focal_loss(x, y, alpha=0.25, gamma=2.0, reduction="none"):
    """The usual formulation: p = sigmoid(x), then the factors multiplied together."""
    loss = common_elementwise(x, y, alpha=alpha, gamma=gamma)
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def loss_and_grad(fn, x, y, **kwargs):
    x = x.detach().clone().requires_grad_()
    loss = fn(x, y, reduction="none", **kwargs)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), grad


def close(actual, expected, rtol, atol=0.0):
    """Element-wise |actual - expected| <= atol + rtol * |expected|, with a useful message."""
    error = (actual - expected).abs()
    bound = atol + rtol * expected.abs()
    worst = (error - bound).argmax()
    assert bool((error <= bound).all()), (
        f"at index {worst.item()}: got {actual.flatten()[worst].item()!r}, "
        f"expected {expected.flatten()[worst].item()!r}"
    )


gammas = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0]) | st.floats(0.0, 6.0)
alphas = st.none() | st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]) | st.floats(0.0, 1.0)
shapes = st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple)


@st.composite
def logits_and_labels(draw, low=-1e4, high=1e4, dtype=torch.float32):
    shape = draw(shapes)
    n = math.prod(shape)
    special = st.sampled_from([v for v in (0.0, -0.0, 15.0, -15.0, 17.0, -17.0, 88.0, -88.0, 104.0, -104.0, low, high) if low <= v <= high])
    values = draw(st.lists(st.floats(low, high, width=32) | special, min_size=n, max_size=n))
    labels = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n))
    return (
        torch.tensor(values, dtype=dtype).reshape(shape),
        torch.tensor(labels, dtype=dtype).reshape(shape),
    )


# ---------------------------------------------------------------- finite everywhere

GRID = torch.cat([torch.linspace(-1e4, 1e4, 20001), torch.arange(-120.0, 120.0, 0.25)])


@pytest.mark.parametrize("gamma", [0.0, 0.1, 0.5, 0.99, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, 0.25, 0.75])
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_loss_and_grad_finite_for_every_float32_logit(gamma, alpha, label):
    y = torch.full_like(GRID, label)
    loss, grad = loss_and_grad(focal_loss, GRID, y, alpha=alpha, gamma=gamma)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    assert (loss >= 0).all()


def test_common_formulation_gives_nan_gradients_where_the_book_does_not():
    x = torch.tensor([-30.0, -17.0, 0.0, 17.0, 30.0])
    for label in (0.0, 1.0):
        y = torch.full_like(x, label)
        _, common_grad = loss_and_grad(common_focal_loss, x, y, alpha=0.25, gamma=0.5)
        _, book_grad = loss_and_grad(focal_loss, x, y, alpha=0.25, gamma=0.5)
        assert torch.isnan(common_grad).any()
        assert torch.isfinite(book_grad).all()


@PROPERTY
@given(data=logits_and_labels(), alpha=alphas, gamma=gammas)
def test_property_finite_in_float32(data, alpha, gamma):
    x, y = data
    loss, grad = loss_and_grad(focal_loss, x, y, alpha=alpha, gamma=gamma)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()


# ---------------------------------------------------------------- equal to the references

@PROPERTY
@given(data=logits_and_labels(-15.0, 15.0, torch.float64), alpha=alphas, gamma=gammas)
def test_property_equals_common_formulation_in_float64(data, alpha, gamma):
    # |x| <= 15 keeps the reference itself accurate to 1e-6: its 1 - sigmoid(x) and its BCE
    # lose about e^|x| * 1e-16 relative to cancellation.
    x, y = data
    loss, grad = loss_and_grad(focal_loss, x, y, alpha=alpha, gamma=gamma)
    ref_loss, ref_grad = loss_and_grad(common_focal_loss, x, y, alpha=alpha, gamma=gamma)
    close(loss, ref_loss, rtol=1e-6, atol=1e-300)
    close(grad, ref_grad, rtol=1e-6, atol=1e-300)


@PROPERTY
@given(data=logits_and_labels(-15.0, 15.0, torch.float32), alpha=alphas, gamma=gammas)
def test_property_float32_matches_float64_truth(data, alpha, gamma):
    # In float32 the common formulation is itself wrong by up to ~1e-3 relative at |x| ~ 10
    # (1 - p rounds); lossbook's float32 result is compared with the exact float64 value instead.
    x, y = data
    if gamma == 0 and alpha is None:  # then focal_loss is BCEWithLogits, which cancels in float32
        gamma = 1e-300
    loss, grad = loss_and_grad(focal_loss, x, y, alpha=alpha, gamma=gamma)
    true_loss, true_grad = loss_and_grad(common_focal_loss, x.double(), y.double(), alpha=alpha, gamma=gamma)
    close(loss.double(), true_loss, rtol=1e-5, atol=1e-30)
    close(grad.double(), true_grad, rtol=1e-5, atol=1e-30)


def test_float32_agrees_with_common_formulation_where_that_is_accurate():
    x = torch.linspace(-4.0, 4.0, 801)
    for label in (0.0, 1.0):
        y = torch.full_like(x, label)
        for gamma in (0.5, 2.0):
            loss, grad = loss_and_grad(focal_loss, x, y, gamma=gamma)
            ref_loss, ref_grad = loss_and_grad(common_focal_loss, x, y, gamma=gamma)
            close(loss, ref_loss, rtol=1e-5, atol=1e-7)
            close(grad, ref_grad, rtol=1e-5, atol=1e-7)


def test_large_logits_match_the_exact_asymptotics():
    # Far out, -log p_t = |x| for a wrong label and (1 - p_t)**gamma = 1: the loss is a_t |x|.
    x = torch.tensor([-1e4, -300.0, 300.0, 1e4])
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    loss, grad = loss_and_grad(focal_loss, x, y, alpha=0.25, gamma=0.5)
    assert torch.equal(loss, torch.tensor([0.25e4, 0.25 * 300, 0.75 * 300, 0.75e4]))
    assert torch.equal(grad, torch.tensor([-0.25, -0.25, 0.75, 0.75]))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gamma_0_without_alpha_is_bce_with_logits_exactly(reduction):
    torch.manual_seed(0)
    x = torch.randn(4, 7) * 30
    y = (torch.rand(4, 7) < 0.5).float()
    expected = F.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    assert torch.equal(focal_loss(x, y, alpha=None, gamma=0.0, reduction=reduction), expected)


@PROPERTY
@given(data=logits_and_labels(-15.0, 15.0, torch.float64))
def test_property_fused_node_at_gamma_0_equals_bce(data):
    # focal_loss hands gamma=0, alpha=None to PyTorch; the fused node itself must agree too.
    x, y = data
    loss, _ = _SigmoidFocalLoss.apply(x, y, None, 0.0, "none")
    close(loss, F.binary_cross_entropy_with_logits(x, y, reduction="none"), rtol=1e-6, atol=1e-300)


@PROPERTY
@given(data=logits_and_labels(-15.0, 15.0, torch.float64), alpha=alphas)
def test_property_gamma_0_with_alpha_is_weighted_bce(data, alpha):
    x, y = data
    weight = None if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    expected = F.binary_cross_entropy_with_logits(x, y, weight=weight, reduction="none")
    close(focal_loss(x, y, alpha=alpha, gamma=0.0, reduction="none"), expected, rtol=1e-6, atol=1e-300)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.7])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_gradcheck_float64(gamma, alpha):
    torch.manual_seed(1)
    x = torch.cat([torch.randn(20) * 3, torch.tensor([-40.0, -17.0, 0.0, 17.0, 40.0])])
    x = x.double().requires_grad_()
    y = (torch.rand(25) < 0.5).double()
    for reduction in ("none", "sum", "mean"):
        assert torch.autograd.gradcheck(
            lambda inp: focal_loss(inp, y, alpha=alpha, gamma=gamma, reduction=reduction), (x,)
        )


def test_no_gradient_is_computed_without_requires_grad():
    x = torch.randn(10)
    y = (torch.rand(10) < 0.5).float()
    assert focal_loss(x, y).grad_fn is None
    with torch.no_grad():
        assert focal_loss(x.requires_grad_(), y).grad_fn is None


@PROPERTY
@given(data=logits_and_labels(-50.0, 50.0, torch.float64), alpha=alphas, gamma=gammas)
def test_property_reductions(data, alpha, gamma):
    x, y = data
    none = focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="none")
    assert none.shape == x.shape
    close(focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="sum"), none.sum(), rtol=1e-12, atol=1e-300)
    close(focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="mean"), none.mean(), rtol=1e-12, atol=1e-300)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=logits_and_labels(-20.0, 20.0, torch.float64), alpha=alphas, gamma=st.sampled_from([0.5, 2.0]))
def test_property_bfloat16_roughly_right(data, alpha, gamma):
    x, y = data
    loss, grad = loss_and_grad(focal_loss, x.bfloat16(), y.bfloat16(), alpha=alpha, gamma=gamma)
    assert loss.dtype == grad.dtype == torch.bfloat16
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    # compare with the exact value at the bfloat16-rounded logits
    true_loss, true_grad = loss_and_grad(focal_loss, x.bfloat16().double(), y, alpha=alpha, gamma=gamma)
    close(loss.double(), true_loss, rtol=5e-2, atol=1e-3)
    close(grad.double(), true_grad, rtol=5e-2, atol=1e-3)


def test_targets_of_other_dtypes():
    x = torch.tensor([1.0, -2.0, 3.0])
    expected = focal_loss(x, torch.tensor([1.0, 0.0, 1.0]))
    assert torch.equal(focal_loss(x, torch.tensor([1, 0, 1])), expected)
    assert torch.equal(focal_loss(x, torch.tensor([True, False, True])), expected)


# ---------------------------------------------------------------- probability form

def test_reference_demo_with_probability_form():
    y = torch.tensor([[1.0], [0.0]])
    easy = torch.tensor([[0.9], [0.1]])
    hard = torch.tensor([[0.5], [0.5]])
    assert f"{focal_loss_from_probs(easy, y).item():.4f}" == "0.0005"
    assert f"{focal_loss_from_probs(hard, y).item():.4f}" == "0.0866"
    assert f"{F.binary_cross_entropy(easy, y).item():.4f}" == "0.1054"
    assert f"{F.binary_cross_entropy(hard, y).item():.4f}" == "0.6931"


@PROPERTY
@given(data=logits_and_labels(-10.0, 10.0, torch.float64), alpha=alphas, gamma=gammas)
def test_property_probability_form_equals_logit_form(data, alpha, gamma):
    x, y = data
    from_probs = focal_loss_from_probs(torch.sigmoid(x), y, alpha=alpha, gamma=gamma, reduction="none")
    close(from_probs, focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="none"), rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------- softmax focal loss

def reference_softmax_focal(x, y, alpha=None, gamma=2.0):
    p = torch.softmax(x, dim=1).gather(1, y.unsqueeze(1)).squeeze(1)
    loss = -((1 - p) ** gamma) * torch.log(p)
    if alpha is not None:
        loss = loss * torch.as_tensor(alpha, dtype=x.dtype)[y]
    return loss


@st.composite
def scores_and_classes(draw, low=-1e4, high=1e4, dtype=torch.float32):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(2, 5))
    extra = draw(st.lists(st.integers(1, 3), max_size=1))
    count = n * c * math.prod(extra)
    values = draw(st.lists(st.floats(low, high, width=32) | st.sampled_from([low, high, 0.0]), min_size=count, max_size=count))
    x = torch.tensor(values, dtype=dtype).reshape(n, c, *extra)
    classes = draw(st.lists(st.integers(0, c - 1), min_size=count // c, max_size=count // c))
    return x, torch.tensor(classes).reshape(n, *extra)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_softmax_gamma_0_without_alpha_is_cross_entropy(reduction):
    torch.manual_seed(2)
    x = torch.randn(16, 5) * 10
    y = torch.randint(0, 5, (16,))
    got = softmax_focal_loss(x, y, alpha=None, gamma=0.0, reduction=reduction)
    expected = F.cross_entropy(x, y, reduction=reduction)
    if reduction == "none":
        assert torch.equal(got, expected)
    else:
        close(got, expected, rtol=1e-6)


@PROPERTY
@given(data=scores_and_classes(-15.0, 15.0, torch.float64), gamma=gammas, use_alpha=st.booleans())
def test_property_softmax_equals_reference(data, gamma, use_alpha):
    x, y = data
    alpha = torch.linspace(0.1, 0.9, x.shape[1]).tolist() if use_alpha else None
    got = softmax_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="none")
    close(got, reference_softmax_focal(x, y, alpha, gamma), rtol=1e-6, atol=1e-200)


@PROPERTY
@given(data=scores_and_classes(), gamma=gammas)
def test_property_softmax_finite_in_float32(data, gamma):
    x, y = data
    x = x.requires_grad_()
    loss = softmax_focal_loss(x, y, gamma=gamma)
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_softmax_gradcheck_float64(gamma):
    torch.manual_seed(3)
    x = (torch.randn(6, 4, dtype=torch.float64) * 3).requires_grad_()
    y = torch.randint(0, 4, (6,))
    assert torch.autograd.gradcheck(lambda inp: softmax_focal_loss(inp, y, alpha=[0.2, 0.4, 0.6, 0.8], gamma=gamma), (x,))


def test_softmax_focal_module_and_alpha_buffer():
    torch.manual_seed(4)
    x = torch.randn(3, 2, 5)
    y = torch.randint(0, 2, (3, 5))
    module = SoftmaxFocalLoss(alpha=[0.25, 0.75], gamma=1.0, reduction="sum")
    assert torch.equal(module(x, y), softmax_focal_loss(x, y, alpha=[0.25, 0.75], gamma=1.0, reduction="sum"))
    assert "alpha" in dict(module.named_buffers())
    assert repr(module) == "SoftmaxFocalLoss(alpha=[0.25, 0.75], gamma=1.0, reduction='sum')"


# ---------------------------------------------------------------- modules

@pytest.mark.parametrize("kwargs", [{}, {"alpha": None, "gamma": 0.5}, {"alpha": 0.75, "gamma": 0.0, "reduction": "none"}])
def test_module_equals_function(kwargs):
    torch.manual_seed(5)
    x = torch.randn(8, 3) * 5
    y = (torch.rand(8, 3) < 0.3).float()
    assert torch.equal(FocalLoss(**kwargs)(x, y), focal_loss(x, y, **kwargs))


def test_module_repr_and_top_level_names():
    assert repr(FocalLoss()) == "FocalLoss(alpha=0.25, gamma=2.0, reduction='mean')"
    for name in ("focal_loss", "FocalLoss", "softmax_focal_loss", "SoftmaxFocalLoss", "focal_loss_from_probs"):
        assert hasattr(lossbook, name)


# ---------------------------------------------------------------- argument checks

X = torch.tensor([0.5, -1.0])
Y = torch.tensor([1.0, 0.0])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: focal_loss(X, torch.tensor([1.0, 0.0, 1.0])), "target shape"),
        (lambda: focal_loss(X, torch.tensor([1.0, 0.5])), "target must hold only 0 and 1"),
        (lambda: focal_loss(X, torch.tensor([2.0, 0.0])), "target must hold only 0 and 1"),
        (lambda: focal_loss(X, torch.tensor([float("nan"), 0.0])), "target must hold only 0 and 1"),
        (lambda: focal_loss(X, Y, reduction="avg"), "reduction='avg'"),
        (lambda: focal_loss(X, Y, alpha=1.5), r"alpha must be a number in \[0, 1\]"),
        (lambda: focal_loss(X, Y, alpha=-0.1), r"alpha must be a number in \[0, 1\]"),
        (lambda: focal_loss(X, Y, alpha="0.25"), "alpha must be a real number"),
        (lambda: focal_loss(X, Y, gamma=-1.0), "gamma must be a finite number >= 0"),
        (lambda: focal_loss(X, Y, gamma=float("nan")), "gamma must be"),
        (lambda: focal_loss(torch.tensor([1, 0]), Y), "input must be a floating-point tensor"),
        (lambda: FocalLoss(alpha=2.0), r"alpha must be a number in \[0, 1\]"),
        (lambda: FocalLoss(gamma=-2.0), "gamma must be"),
        (lambda: FocalLoss(reduction="batchmean"), "reduction="),
        (lambda: focal_loss_from_probs(torch.tensor([1.2, 0.5]), Y), "input must hold probabilities"),
        (lambda: focal_loss_from_probs(torch.tensor([-0.1, 0.5]), Y), "input must hold probabilities"),
        (lambda: focal_loss_from_probs(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 3.0])), "target must hold only"),
        (lambda: focal_loss_from_probs(torch.tensor([0.5, 0.5]), Y, alpha=7), r"alpha must be a number in \[0, 1\]"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([0, 3])), r"target must hold class indices in \[0, 3\)"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([-1, 0])), "target must hold class indices"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([0.0, 1.0])), "integer class indices"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([0, 1, 2])), "target shape"),
        (lambda: softmax_focal_loss(torch.randn(3), torch.tensor([0, 1, 2])), "input must have shape"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([0, 1]), alpha=[0.5, 0.5]), "one weight per class"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([0, 1]), alpha=0.25), "one weight per class"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([0, 1]), alpha=[0.5, 0.5, 1.5]), r"alpha must hold weights in \[0, 1\]"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([0, 1]), gamma=-0.5), "gamma must be"),
        (lambda: softmax_focal_loss(torch.randn(2, 3), torch.tensor([0, 1]), reduction="max"), "reduction="),
        (lambda: softmax_focal_loss(torch.tensor([[1, 2]]), torch.tensor([0])), "input must be a floating-point"),
        (lambda: SoftmaxFocalLoss(alpha=[0.5, -0.5]), r"alpha must hold weights in \[0, 1\]"),
        (lambda: focal_loss(X, Y.clone().requires_grad_()), "target must not require grad"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
