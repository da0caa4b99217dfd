"""The "copy this" implementations in snippets/ run with only torch, and agree with lossbook.

Each ``snippets/copy_*.py`` is run in a fresh interpreter started with ``-I -S`` (no
PYTHONPATH, no user site, no site-packages ``.pth`` files, so lossbook's editable install is
invisible), with only the directory that holds torch on ``sys.path`` and an import hook that
refuses ``lossbook``; the child computes each case's loss and gradient and saves them, and the
test compares them with lossbook's functions on the same inputs (float32 precision). The
children run in the background pool (``tests/background.py``), started with the session.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import lossbook
from tests.background import CHILD_TIMEOUT, in_background

ROOT = Path(__file__).resolve().parent.parent
TORCH_DIR = str(Path(torch.__file__).resolve().parent.parent)

GEN = torch.Generator().manual_seed(0)
LOGITS = torch.cat([torch.randn(40, generator=GEN) * 5, torch.tensor([-1e4, -90.0, 30.0, 1e4])])
LABELS = (torch.rand(44, generator=GEN) < 0.3).float()
SCORES = torch.randn(6, 4, 3, generator=GEN) * 6
CLASSES = torch.randint(0, 4, (6, 3), generator=GEN)

CASES = {
    "copy_focal_loss.py": ("focal_loss", lossbook.focal_loss, (LOGITS, LABELS), [
        {}, {"alpha": None, "gamma": 0.5, "reduction": "none"}, {"alpha": 0.75, "gamma": 0.0},
        {"gamma": 3.0, "reduction": "sum"},
    ]),
    "copy_softmax_focal_loss.py": ("softmax_focal_loss", lossbook.softmax_focal_loss,
                                   (SCORES, CLASSES.to(torch.uint8)), [
        {}, {"alpha": [0.1, 0.2, 0.3, 0.4], "gamma": 1.0, "reduction": "none"},
        {"gamma": 0.0, "reduction": "sum"},
    ]),
    "copy_sce_loss.py": ("sce_loss", lossbook.sce_loss, (SCORES, CLASSES), [
        {"alpha": 0.1, "beta": 1.0}, {"alpha": 0.01, "beta": 1.0, "reduction": "none"},
        {"alpha": 6.0, "beta": 0.1, "log_zero": -9.210340371976182, "reduction": "sum"},
        {"alpha": 0.1, "beta": 1.0, "log_zero": "sceloss-reproduce", "reduction": "none"},
    ]),
}

CHILD = textwrap.dedent("""
    import importlib.abc, runpy, sys
    class RefuseLossbook(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "lossbook":
                raise ModuleNotFoundError(f"{name} is not installed here")
    sys.meta_path.insert(0, RefuseLossbook())
    sys.path[:] = [p for p in sys.path if "site-packages" not in p] + [sys.argv[1]]
    import torch
    try:
        import lossbook
    except ModuleNotFoundError:
        pass
    else:
        raise SystemExit("lossbook is importable")
    namespace = runpy.run_path(sys.argv[2])
    fn_name, args, cases = torch.load(sys.argv[3])
    results = []
    for kwargs in cases:
        first = args[0].clone().requires_grad_()
        loss = namespace[fn_name](first, *args[1:], **kwargs)
        (grad,) = torch.autograd.grad(loss.sum(), first)
        results.append((loss.detach(), grad))
    torch.save(results, sys.argv[4])
""")


def run_without_lossbook(workdir: Path, snippet: str) -> list:
    """The child's (loss, gradient) for each case of ``snippet``."""
    fn_name, _, args, cases = CASES[snippet]
    torch.save((fn_name, args, cases), workdir / "cases.pt")
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", CHILD, TORCH_DIR, str(ROOT / "snippets" / snippet),
         str(workdir / "cases.pt"), str(workdir / "results.pt")],
        cwd=workdir, capture_output=True, text=True, timeout=CHILD_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return torch.load(workdir / "results.pt")


@pytest.mark.parametrize("snippet", sorted(CASES))
@in_background(run_without_lossbook)
def test_copy_runs_without_lossbook_and_matches_it(snippet, background_job):
    fn_name, ours, args, cases = CASES[snippet]
    for kwargs, (loss, grad) in zip(cases, background_job.result(), strict=True):
        first = args[0].clone().requires_grad_()
        expected = ours(first, *args[1:], **kwargs)
        (expected_grad,) = torch.autograd.grad(expected.sum(), first)
        torch.testing.assert_close(loss, expected.detach(), msg=lambda m: f"{kwargs}: {m}")
        torch.testing.assert_close(grad, expected_grad, msg=lambda m: f"{kwargs}: {m}")


def test_every_copy_snippet_is_tested():
    assert {p.name for p in (ROOT / "snippets").glob("copy_*.py")} == set(CASES)
