"""Symmetric cross entropy: the paper's formula, and each published code it claims to reproduce.

The two references below are written from what the published code computes (which values it
clips, at what, and where), not from lossbook:

* The authors' Keras code: YisenWang/symmetric_cross_entropy_for_noisy_labels, ``loss.py`` at
  commit 235d93b25fdaab0e106d6f8c782a03ec175f9bc1, ``symmetric_cross_entropy(alpha, beta)``.
  ``y_pred`` is the model's softmax output (``models.py`` at c74d4426e9a423b3424d8fa9c026f54467ddc808
  ends in ``Activation(tf.nn.softmax)``); ``y_true`` is one-hot. The CE term clips ``y_pred``
  to [1e-7, 1] before its log; the RCE term clips ``y_true`` to [1e-4, 1] before its log and
  uses ``y_pred`` unclipped; each term is averaged over the batch, then
  ``alpha * CE + beta * RCE``.
* The PyTorch reproduction: HanxunH/SCELoss-Reproduce, ``loss.py`` at commit
  6bfa56da55b1ed4ec17e0d7f636af4d998ccf6af, class ``SCELoss``. CE is
  ``nn.CrossEntropyLoss()`` on the logits (no clip); RCE clamps ``softmax(pred)`` to
  [1e-7, 1] and the one-hot label to [1e-4, 1] before its log; ``alpha * ce + beta *
  rce.mean()``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
from lossbook import SCELoss, sce_loss

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True)


def keras_authors_sce(logits, labels, alpha, beta):
    """Per item, what the authors' Keras code averages (see the module docstring)."""
    y_pred = torch.softmax(logits, dim=1)
    y_true = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    ce = -(y_true * torch.log(torch.clamp(y_pred, 1e-7, 1.0))).sum(dim=1)
    rce = -(y_pred * torch.log(torch.clamp(y_true, 1e-4, 1.0))).sum(dim=1)
    return alpha * ce + beta * rce


def pytorch_reproduction_sce(logits, labels, alpha, beta):
    """Per item, what HanxunH/SCELoss-Reproduce averages (see the module docstring)."""
    ce = F.cross_entropy(logits, labels, reduction="none")
    pred = torch.clamp(F.softmax(logits, dim=1), min=1e-7, max=1.0)
    one_hot = torch.clamp(F.one_hot(labels, logits.shape[1]).to(logits.dtype), min=1e-4, max=1.0)
    rce = -torch.sum(pred * torch.log(one_hot), dim=1)
    return alpha * ce + beta * rce


def paper_rce(pred, labels, log_zero):
    """RCE of the paper: -sum_k p_k log q_k with log 0 := A, i.e. -A (1 - p_y)."""
    p_y = torch.softmax(pred, dim=1).gather(1, labels.unsqueeze(1)).squeeze(1)
    return -log_zero * (1 - p_y)


REFERENCES = {
    "authors-keras": keras_authors_sce,
    "sceloss-reproduce": pytorch_reproduction_sce,
}


@st.composite
def scores_and_classes(draw, low=-30.0, high=30.0, dtype=torch.float64):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(2, 6))
    values = draw(st.lists(st.floats(low, high, width=32), min_size=n * c, max_size=n * c))
    classes = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    return torch.tensor(values, dtype=dtype).reshape(n, c), torch.tensor(classes)


weights = st.floats(0.0, 10.0)


# ---------------------------------------------------------------- the published codes

@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    data=scores_and_classes(dtype=torch.float32),
    alpha=weights,
    beta=weights,
    code=st.sampled_from(sorted(REFERENCES)),
)
def test_property_each_code_is_reproduced_in_float32_loss_and_gradient(data, alpha, beta, code):
    # Logits up to +-30 put probabilities far below both clips (1e-7 and 1e-4).
    x, y = data
    reference = REFERENCES[code]
    for reduction, pick in (("none", lambda t: t), ("mean", torch.mean), ("sum", torch.sum)):
        ours_x = x.clone().requires_grad_()
        theirs_x = x.clone().requires_grad_()
        ours = sce_loss(ours_x, y, alpha, beta, log_zero=code, reduction=reduction)
        theirs = pick(reference(theirs_x, y, alpha, beta))
        torch.testing.assert_close(ours, theirs)
        (ours_grad,) = torch.autograd.grad(ours.sum(), ours_x)
        (theirs_grad,) = torch.autograd.grad(theirs.sum(), theirs_x)
        torch.testing.assert_close(ours_grad, theirs_grad)


def test_the_example_of_the_issue_one_confident_item():
    # logits [20, 0, 0], label 0: each wrong class has p = e^-20 = 2.06e-9.
    x = torch.tensor([[20.0, 0.0, 0.0]])
    y = torch.tensor([0])
    reproduction = sce_loss(x, y, 0.0, 1.0, log_zero="sceloss-reproduce")
    keras = sce_loss(x, y, 0.0, 1.0, log_zero="authors-keras")
    # the reproduction floors each wrong probability at 1e-7: 2 * 1e-7 * ln(1e4)
    assert math.isclose(reproduction.item(), 2e-7 * math.log(1e4), rel_tol=1e-5)
    # the Keras code does not clip in RCE: 2 * e^-20 / (1 + 2 e^-20) * ln(1e4)
    p_other = math.exp(-20) / (1 + 2 * math.exp(-20))
    assert math.isclose(keras.item(), 2 * p_other * math.log(1e4), rel_tol=1e-4)


def test_where_each_clip_stops_the_gradient():
    # The reproduction's clamp at 1e-7 gives a probability below it no RCE gradient; the
    # authors' clip at 1e-7 in CE gives a true class below it no CE gradient.
    x = torch.tensor([[20.0, 0.0, 0.0], [0.0, 20.0, 0.0]], requires_grad=True)
    y = torch.tensor([0, 0])  # the second item is confidently "wrong"
    sce_loss(x, y, 0.0, 1.0, log_zero="sceloss-reproduce", reduction="sum").backward()
    assert torch.equal(x.grad[0], torch.zeros(3))  # every p_k != p_y is below 1e-7
    x.grad = None
    sce_loss(x, y, 1.0, 0.0, log_zero="authors-keras", reduction="sum").backward()
    assert torch.equal(x.grad[1], torch.zeros(3))  # p_y = 2e-9 is clipped: no CE gradient
    x.grad = None
    sce_loss(x, y, 1.0, 0.0, reduction="sum").backward()  # exact CE: p - onehot
    torch.testing.assert_close(x.grad[1], torch.softmax(x[1].detach(), 0) - torch.eye(3)[0])


def test_log_of_the_clamped_label_is_minus_4_in_base_10_only():
    assert math.isclose(math.log10(1e-4), -4.0)
    assert math.isclose(math.log(1e-4), -4.0 * math.log(10))
    x = torch.tensor([[0.0, 2.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([0])
    paper = sce_loss(x, y, 0.0, 1.0, log_zero=-4.0)
    code = sce_loss(x, y, 0.0, 1.0, log_zero=math.log(1e-4))
    assert math.isclose((code / paper).item(), math.log(10), rel_tol=1e-12)


@PROPERTY
@given(data=scores_and_classes())
def test_property_codes_are_ln_1e4_up_to_their_clips(data):
    # With A = ln 1e-4 in the paper's formula, the reproduction differs by its probability
    # floor only: at most (C - 1) * 1e-7 * 9.2104 per item (CE is the same).
    x, y = data
    exact = sce_loss(x, y, 1.0, 1.0, log_zero=math.log(1e-4), reduction="none")
    clamped = sce_loss(x, y, 1.0, 1.0, log_zero="sceloss-reproduce", reduction="none")
    assert ((clamped - exact).abs() <= (x.shape[1] - 1) * 1e-7 * 9.2104 + 1e-12).all()


# ---------------------------------------------------------------- the paper's formula

@PROPERTY
@given(data=scores_and_classes())
def test_property_alpha_1_beta_0_is_cross_entropy(data):
    x, y = data
    torch.testing.assert_close(
        sce_loss(x, y, alpha=1.0, beta=0.0, reduction="none"),
        F.cross_entropy(x, y, reduction="none"),
    )


@PROPERTY
@given(
    data=scores_and_classes(),
    log_zero=st.sampled_from([-4.0, math.log(1e-4), -1.0]) | st.floats(-20.0, -1e-3),
)
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


def test_rce_gradient_vanishes_with_the_true_class_probability():
    # d RCE / d x_j = A p_y (delta_jy - p_j): it is p_y times a bounded factor.
    x = torch.tensor([[0.0, 0.0, 0.0], [-5.0, 0.0, 0.0], [-20.0, 0.0, 0.0]], dtype=torch.float64)
    x.requires_grad_()
    y = torch.tensor([0, 0, 0])
    sce_loss(x, y, 0.0, 1.0, log_zero=-4.0, reduction="sum").backward()
    p = torch.softmax(x.detach(), dim=1)
    expected = -4.0 * p[:, :1] * (torch.eye(3)[0] - p)
    torch.testing.assert_close(x.grad, expected)
    assert x.grad[2].abs().max() < 1e-8 < x.grad[1].abs().max()


@PROPERTY
@given(
    data=scores_and_classes(-1e4, 1e4, torch.float32),
    log_zero=st.sampled_from([-4.0, "authors-keras", "sceloss-reproduce"]),
)
def test_property_finite_for_extreme_float32_logits(data, log_zero):
    x, y = data
    x = x.requires_grad_()
    loss = sce_loss(x, y, alpha=0.1, beta=1.0, log_zero=log_zero)
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


@pytest.mark.parametrize("log_zero", [-4.0, "authors-keras", "sceloss-reproduce"])
def test_gradcheck_float64(log_zero):
    torch.manual_seed(0)
    x = (torch.randn(5, 4, dtype=torch.float64) * 2).requires_grad_()
    y = torch.randint(0, 4, (5,))
    assert torch.autograd.gradcheck(lambda inp: sce_loss(inp, y, 0.1, 1.0, log_zero=log_zero), (x,))


def test_spatial_dimensions_match_flattened_rows():
    torch.manual_seed(1)
    x = torch.randn(2, 3, 4)
    y = torch.randint(0, 3, (2, 4))
    for log_zero in (-4.0, "authors-keras", "sceloss-reproduce"):
        rows = sce_loss(x.permute(0, 2, 1).reshape(-1, 3), y.reshape(-1), 0.1, 1.0, log_zero, "none")
        torch.testing.assert_close(sce_loss(x, y, 0.1, 1.0, log_zero, "none"), rows.reshape(2, 4))


# ---------------------------------------------------------------- module and arguments

@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": 0.1, "beta": 1.0},
        {"alpha": 6.0, "beta": 0.1, "log_zero": "authors-keras", "reduction": "sum"},
        {"alpha": np.float32(0.5), "beta": torch.tensor(2.0), "log_zero": "sceloss-reproduce"},
    ],
)
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
        (lambda: sce_loss(SCORES, CLASSES, alpha="0.1", beta=1.0), "alpha must be a real number"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, log_zero=4.0), "log_zero must be a finite negative number"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, log_zero=0.0), "log_zero must be"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, log_zero=float("-inf")), "log_zero must be"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, log_zero="clamp"), "'authors-keras' or 'sceloss-reproduce'"),
        (lambda: sce_loss(SCORES, CLASSES, 0.1, 1.0, reduction="avg"), "reduction="),
        (lambda: sce_loss(SCORES, torch.tensor([0, 3]), 0.1, 1.0), r"target must hold class indices in \[0, 3\)"),
        (lambda: sce_loss(SCORES, torch.tensor([0.0, 1.0]), 0.1, 1.0), "target must hold integer class indices"),
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
