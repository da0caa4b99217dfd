"""The inputs people pass: integer class targets of every dtype, NumPy and tensor hyper-parameters,
targets that require grad, and modules that hold their tensors as buffers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lossbook
from lossbook import (
    FocalLoss,
    SCELoss,
    SoftmaxFocalLoss,
    focal_loss,
    sce_loss,
    softmax_focal_loss,
    token_loss,
)
from lossbook.reductions import count_items
from lossbook.stable import StableBCEWithLogitsLoss, bce_with_logits

CLASS_DTYPES = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]
REFUSED_DTYPES = [torch.float32, torch.bool, torch.uint16, torch.uint32, torch.complex64]
SCORES = torch.randn(5, 4, 3, generator=torch.Generator().manual_seed(0))
TARGET = torch.tensor([[0, 3, 1], [2, 2, 0], [1, 0, 3], [3, 1, 2], [0, 0, 1]])
CLASS_LOSSES = {
    "softmax_focal_loss": lambda x, t: softmax_focal_loss(x, t, alpha=[0.1, 0.2, 0.3, 0.4]),
    "sce_loss": lambda x, t: sce_loss(x, t, 0.1, 1.0),
    "sce_loss authors-keras": lambda x, t: sce_loss(x, t, 0.1, 1.0, "authors-keras"),
    "sce_loss sceloss-reproduce": lambda x, t: sce_loss(x, t, 0.1, 1.0, "sceloss-reproduce"),
    "token_loss": lambda x, t: token_loss(x, t, 15),
    "count_items": lambda x, t: count_items(t, weight=torch.ones(4)),
}


@pytest.mark.parametrize("dtype", CLASS_DTYPES, ids=str)
@pytest.mark.parametrize("name", sorted(CLASS_LOSSES))
def test_every_integer_class_dtype_gives_the_int64_result(name, dtype):
    fn = CLASS_LOSSES[name]
    assert torch.equal(fn(SCORES, TARGET.to(dtype)), fn(SCORES, TARGET))


@pytest.mark.parametrize("dtype", REFUSED_DTYPES, ids=str)
@pytest.mark.parametrize("name", sorted(CLASS_LOSSES))
def test_other_dtypes_are_refused_naming_target(name, dtype):
    with pytest.raises(ValueError, match=r"targets? must hold integer class indices \(uint8, int8"):
        CLASS_LOSSES[name](SCORES, TARGET.to(dtype))


def test_uint8_targets_as_f_cross_entropy_takes_them():
    # F.cross_entropy (2.13) takes uint8 for (N,) targets; lossbook also for (N, d1, ...)
    classes = TARGET[:, 0].to(torch.uint8)
    torch.testing.assert_close(
        softmax_focal_loss(SCORES[:, :, 0], classes, gamma=0.0),
        F.cross_entropy(SCORES[:, :, 0], classes),
    )
    torch.testing.assert_close(
        softmax_focal_loss(SCORES, TARGET.to(torch.uint8), gamma=0.0),
        F.cross_entropy(SCORES, TARGET),
    )


HYPER = [0.25, np.float32(0.25), np.float64(0.25), torch.tensor(0.25), torch.tensor(0.25).double()]
GAMMAS = [2, 2.0, np.int64(2), np.float32(2.0), torch.tensor(2), torch.tensor(2.0)]


@pytest.mark.parametrize("alpha", HYPER, ids=repr)
@pytest.mark.parametrize("gamma", GAMMAS, ids=repr)
def test_hyper_parameters_of_any_real_type(alpha, gamma):
    x = torch.tensor([1.5, -0.5, 3.0])
    y = torch.tensor([1.0, 0.0, 0.0])
    expected = focal_loss(x, y, alpha=0.25, gamma=2.0)
    assert torch.equal(focal_loss(x, y, alpha=alpha, gamma=gamma), expected)
    assert torch.equal(FocalLoss(alpha=alpha, gamma=gamma)(x, y), expected)
    assert repr(FocalLoss(alpha=alpha, gamma=gamma)) == repr(FocalLoss())
    scores, classes = SCORES[:, :, 0], TARGET[:, 0]
    expected = sce_loss(scores, classes, 0.25, 2.0)
    assert torch.equal(sce_loss(scores, classes, alpha, gamma), expected)
    assert torch.equal(SCELoss(alpha, gamma)(scores, classes), expected)
    assert torch.equal(softmax_focal_loss(scores, classes, gamma=gamma),
                       softmax_focal_loss(scores, classes, gamma=2.0))
    layer = torch.nn.Linear(2, 1)
    assert torch.equal(lossbook.l2_penalty(layer, weight=alpha), lossbook.l2_penalty(layer, 0.25))


@pytest.mark.parametrize(
    "bad, message",
    [
        (True, "must be a real number, got True"),
        ("0.25", "must be a real number, got '0.25'"),
        (torch.tensor([0.25]), "must be a real number or a 0-d real tensor"),
        (torch.tensor(0.25, requires_grad=True), "must not require grad: it is a hyper-parameter"),
        (np.bool_(True), "must be a real number"),
    ],
    ids=repr,
)
def test_hyper_parameters_that_are_not_real_numbers_are_refused(bad, message):
    x, y = torch.zeros(2), torch.tensor([0.0, 1.0])
    with pytest.raises(ValueError, match=f"alpha {message}"):
        focal_loss(x, y, alpha=bad)
    with pytest.raises(ValueError, match=f"gamma {message}"):
        FocalLoss(gamma=bad)
    with pytest.raises(ValueError, match=f"beta {message}"):
        sce_loss(SCORES, TARGET, 0.1, bad)


def test_a_target_that_requires_grad():
    x = torch.tensor([0.5, -1.0])
    y = torch.tensor([1.0, 0.0], requires_grad=True)
    # hard labels have no gradient: refused, never silently ignored
    with pytest.raises(ValueError, match=r"target must not require grad.*pass target.detach\(\)"):
        focal_loss(x, y)
    with pytest.raises(ValueError, match="target must not require grad"):
        lossbook.focal_loss_from_probs(torch.sigmoid(x), y)
    # soft labels are differentiated, as F.binary_cross_entropy_with_logits does
    (ours,) = torch.autograd.grad(bce_with_logits(x, y), y)
    (theirs,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(x, y), y)
    torch.testing.assert_close(ours, theirs)


# ---------------------------------------------------------------- modules hold buffers

def every_module():
    """One instance of every nn.Module class lossbook exports, with every tensor option set."""
    found = {
        "FocalLoss": FocalLoss(alpha=0.25, gamma=2.0),
        "SoftmaxFocalLoss": SoftmaxFocalLoss(alpha=[0.2, 0.3, 0.5]),
        "SCELoss": SCELoss(0.1, 1.0),
        "StableBCEWithLogitsLoss": StableBCEWithLogitsLoss(
            weight=torch.tensor([1.0, 2.0, 0.5]), pos_weight=torch.tensor([3.0, 1.0, 1.0])
        ),
    }
    return found


def test_every_module_class_of_lossbook_is_covered():
    import lossbook.modules
    import lossbook.stable

    classes = {
        name
        for module in (lossbook, lossbook.modules, lossbook.stable)
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, torch.nn.Module)
        and value.__module__.startswith("lossbook")
    }
    assert classes == set(every_module())


@pytest.mark.parametrize("name", sorted(every_module()))
def test_module_tensors_are_buffers(name):
    module = every_module()[name]
    plain = {k: v for k, v in vars(module).items() if isinstance(v, torch.Tensor)}
    assert not plain, f"{name} holds tensors outside its buffers: {sorted(plain)}"
    state = module.state_dict()
    assert set(state) == {k for k, v in module.named_buffers()}
    doubled = module.double()
    assert all(b.dtype == torch.float64 for b in doubled.buffers())
    moved = module.to(torch.device("meta"))
    assert all(b.device.type == "meta" for b in moved.buffers())
    fresh = every_module()[name]
    fresh.load_state_dict(every_module()[name].state_dict())


def test_bce_module_buffers_are_used_and_saved():
    module = every_module()["StableBCEWithLogitsLoss"]
    assert set(module.state_dict()) == {"weight", "pos_weight"}
    x = torch.randn(4, 3, dtype=torch.float64)
    y = (torch.rand(4, 3) < 0.5).double()
    expected = F.binary_cross_entropy_with_logits(
        x, y, weight=module.weight.double(), pos_weight=module.pos_weight.double()
    )
    torch.testing.assert_close(module.double()(x, y), expected)
    assert set(every_module()["SoftmaxFocalLoss"].state_dict()) == {"alpha"}


@pytest.mark.parametrize("dtype", CLASS_DTYPES, ids=str)
def test_reference_log_loss_takes_every_integer_dtype(dtype):
    from lossbook.reference import log_loss

    probs = torch.softmax(SCORES[:, :, 0], dim=1)
    classes = TARGET[:, 0]
    assert torch.equal(log_loss(probs, classes.to(dtype)), log_loss(probs, classes))
    with pytest.raises(ValueError, match="integer labels"):
        log_loss(probs, classes.bool())
