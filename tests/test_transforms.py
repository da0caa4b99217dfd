"""Every loss in lossbook under the transforms people use: torch.func, double backward, compile.

For each loss (functions and modules): ``torch.func.grad`` equals ``torch.autograd.grad``,
``vmap`` over a batch of inputs equals a loop, ``jvp`` equals the gradient's dot product with
the tangent, ``gradgradcheck`` passes in float64, and ``torch.compile(fullgraph=True)`` traces
the whole loss (``backend="aot_eager"``: the full graph, forward and backward, without C++
code generation, so the test stays fast) and gives the eager loss and gradient; the default
inductor backend is run by ``tests/test_inductor.py``. L1/L2 penalties take a model, not
(input, target), and are left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch.func import grad, jvp, vmap

from lossbook import (
    FocalLoss,
    SCELoss,
    SoftmaxFocalLoss,
    focal_loss,
    focal_loss_from_probs,
    sce_loss,
    softmax_focal_loss,
)
from lossbook.reductions import sum_then_divide, token_loss
from lossbook.reference import binary_cross_entropy, kl_divergence, log_loss
from lossbook.stable import StableBCEWithLogitsLoss, bce_with_logits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "snippets"))
from common_focal_loss import common_focal_loss  # noqa: E402

GEN = torch.Generator().manual_seed(0)
X = torch.randn(4, 3, generator=GEN, dtype=torch.float64) * 3
BINARY = (torch.rand(4, 3, generator=GEN) < 0.5).double()
CLASSES = torch.tensor([0, 2, 1, 2])
POS_WEIGHT = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
P = torch.softmax(torch.randn(4, 3, generator=GEN, dtype=torch.float64), dim=1)

# name -> loss as a function of the float64 tensor x of shape (4, 3), everything else fixed
LOSSES = {
    "focal_loss": lambda x: focal_loss(x, BINARY),
    "focal_loss gamma=0.5 none": lambda x: focal_loss(x, BINARY, gamma=0.5, reduction="none"),
    "focal_loss gamma=3 sum": lambda x: focal_loss(x, BINARY, alpha=None, gamma=3.0, reduction="sum"),
    "focal_loss_from_probs": lambda x: focal_loss_from_probs(torch.sigmoid(x), BINARY),
    "softmax_focal_loss": lambda x: softmax_focal_loss(x, CLASSES, alpha=[0.2, 0.3, 0.5]),
    "sce_loss paper": lambda x: sce_loss(x, CLASSES, 0.1, 1.0),
    "sce_loss authors-keras": lambda x: sce_loss(x, CLASSES, 0.1, 1.0, "authors-keras"),
    "sce_loss sceloss-reproduce": lambda x: sce_loss(x, CLASSES, 0.1, 1.0, "sceloss-reproduce"),
    "bce_with_logits": lambda x: bce_with_logits(x, BINARY, pos_weight=POS_WEIGHT),
    "token_loss": lambda x: token_loss(x, CLASSES, 4),
    "sum_then_divide": lambda x: sum_then_divide(x.pow(2).sum(), 4),
    "reference.binary_cross_entropy": lambda x: binary_cross_entropy(torch.sigmoid(x), BINARY),
    "reference.log_loss": lambda x: log_loss(torch.softmax(x, dim=1), CLASSES),
    "reference.kl_divergence": lambda x: kl_divergence(P, torch.softmax(x, dim=1)),
    "FocalLoss": lambda x: FocalLoss()(x, BINARY),
    "SoftmaxFocalLoss": lambda x: SoftmaxFocalLoss(alpha=[0.2, 0.3, 0.5]).double()(x, CLASSES),
    "SCELoss": lambda x: SCELoss(0.1, 1.0, "sceloss-reproduce")(x, CLASSES),
    "StableBCEWithLogitsLoss": lambda x: StableBCEWithLogitsLoss(pos_weight=POS_WEIGHT)(x, BINARY),
}
NAMES = sorted(LOSSES)


def autograd_gradient(fn, x):
    x = x.clone().requires_grad_()
    (gradient,) = torch.autograd.grad(fn(x).sum(), x)
    return gradient


@pytest.mark.parametrize("name", NAMES)
def test_func_grad_equals_autograd(name):
    fn = LOSSES[name]
    torch.testing.assert_close(grad(lambda x: fn(x).sum())(X), autograd_gradient(fn, X))


@pytest.mark.parametrize("name", NAMES)
def test_vmap_equals_a_loop(name):
    fn = LOSSES[name]
    batch = torch.stack([X, X * 0.5, -X])
    torch.testing.assert_close(vmap(fn)(batch), torch.stack([fn(x) for x in batch]))


@pytest.mark.parametrize("name", NAMES)
def test_jvp_equals_gradient_dot_tangent(name):
    fn = LOSSES[name]
    tangent = torch.randn(X.shape, generator=torch.Generator().manual_seed(1), dtype=X.dtype)
    value, derivative = jvp(lambda x: fn(x).sum(), (X,), (tangent,))
    torch.testing.assert_close(value, fn(X).sum())
    torch.testing.assert_close(derivative, (autograd_gradient(fn, X) * tangent).sum())


@pytest.mark.parametrize("name", NAMES)
def test_gradgradcheck_float64(name):
    assert torch.autograd.gradgradcheck(LOSSES[name], (X.clone().requires_grad_(),))


@pytest.mark.parametrize("name", NAMES)
def test_compiles_as_one_graph(name):
    fn = LOSSES[name]
    compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")
    x = X.clone().requires_grad_()
    value = compiled(x)
    (gradient,) = torch.autograd.grad(value.sum(), x)
    torch.testing.assert_close(value, fn(X))
    torch.testing.assert_close(gradient, autograd_gradient(fn, X))


# ---------------------------------------------------------------- second derivatives of focal loss

@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.7])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_focal_gradgradcheck_float64(gamma, reduction):
    x = torch.cat([X.flatten(), torch.tensor([-40.0, -17.0, 0.0, 17.0, 40.0], dtype=X.dtype)])
    y = torch.cat([BINARY.flatten(), torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0], dtype=X.dtype)])
    fn = lambda inp: focal_loss(inp, y, alpha=0.25, gamma=gamma, reduction=reduction)  # noqa: E731
    assert torch.autograd.gradgradcheck(fn, (x.clone().requires_grad_(),))


@pytest.mark.parametrize("gamma", [1.0, 2.0, 3.0])
def test_gradient_penalty_matches_the_unfused_formulation(gamma):
    # loss + 10 ||dloss/dx||^2, differentiated again: where the common formulation is accurate
    # (|x| <= 15, float64) it is the truth; a detached gradient would lose the penalty.
    torch.manual_seed(3)
    x = torch.randn(32, dtype=torch.float64) * 4
    y = (torch.rand(32) < 0.3).double()

    def penalised(fn):
        inp = x.clone().requires_grad_()
        loss = fn(inp)
        (g,) = torch.autograd.grad(loss, inp, create_graph=True)
        objective = loss + 10 * g.pow(2).sum()
        (outer,) = torch.autograd.grad(objective, inp)
        return objective.detach(), outer

    ours = penalised(lambda inp: focal_loss(inp, y, alpha=0.25, gamma=gamma))
    theirs = penalised(lambda inp: common_focal_loss(inp, y, alpha=0.25, gamma=gamma).mean())
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-10, atol=0.0)
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-8, atol=1e-14)


def test_second_derivative_is_finite_at_extreme_logits():
    x = torch.tensor([-1e4, -100.0, -17.0, 17.0, 100.0, 1e4], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    for gamma in (0.5, 2.0):
        (g,) = torch.autograd.grad(focal_loss(x, y, gamma=gamma), x, create_graph=True)
        (h,) = torch.autograd.grad(g.pow(2).sum(), x)
        assert torch.isfinite(g).all() and torch.isfinite(h).all()


# ---------------------------------------------------------------- the value-check policy

def test_value_checks_run_in_eager_mode_and_are_skipped_under_compile():
    x = torch.zeros(3)
    bad = torch.tensor([0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="target must hold only 0 and 1"):
        focal_loss(x, bad)
    compiled = torch.compile(focal_loss, fullgraph=True, backend="aot_eager")
    assert torch.isfinite(compiled(x, bad))  # no graph break, no host-device sync: not checked
    # shapes are always checked; with fullgraph=True dynamo reports the ValueError it met
    with pytest.raises(Exception, match=r"target shape \(\S+\) must match input shape"):
        compiled(x, torch.zeros(4))


def test_value_checks_are_skipped_inside_vmap_but_shapes_are_not():
    bad = torch.tensor([[0, 3], [1, 2]])
    x = torch.randn(2, 2, 3)
    assert vmap(lambda s, t: softmax_focal_loss(s.unsqueeze(0), t.unsqueeze(0)))(x[:, 0], bad[:, 0]).shape == (2,)
    with pytest.raises(ValueError, match="target shape"):
        vmap(lambda s: softmax_focal_loss(s, torch.tensor([0, 1, 2])))(x)


def test_set_value_checks_modes():
    from lossbook import set_value_checks

    bad = torch.tensor([0.0, 2.0])
    try:
        set_value_checks("never")
        focal_loss(torch.zeros(2), bad)  # not checked
        set_value_checks("always")
        with pytest.raises(ValueError, match="target must hold only 0 and 1"):
            focal_loss(torch.zeros(2), bad)
    finally:
        set_value_checks("cpu")
    with pytest.raises(ValueError, match="mode='sometimes' is not supported"):
        set_value_checks("sometimes")
