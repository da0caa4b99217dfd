"""``torch.compile`` with its default backend, inductor, gives the eager focal loss and gradient.

``tests/test_transforms.py`` compiles every loss with ``backend="aot_eager"`` (the full graph,
forward and backward, without code generation). This test runs inductor itself, which writes
and compiles C++ kernels: about 23 s of CPU, 17 of them in the compiler. It runs as a script in a
process of its own (``tests/fresh_python.py``), started with the session in the background pool
(``tests/background.py``), so that the compiler works beside the suite's own process instead of
holding it up.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests import fresh_python
from tests.background import CHILD_TIMEOUT, in_background

SCRIPT = """\
import torch
import torch._inductor.config
from lossbook import focal_loss

# Compile each kernel on its own: by default inductor first precompiles its common headers (a
# 155 MB file), which pays back over many kernels; this script compiles two, and with it the
# compiler took 21.4 s of CPU instead of 17.5 s and 16.6 s (alone on this machine, no cache).
# The kernels are the same either way.
torch._inductor.config.cpp_cache_precompile_headers = False

torch.manual_seed(0)
x = (torch.randn(64) * 4).requires_grad_()
y = (torch.rand(64) < 0.2).float()
compiled = torch.compile(focal_loss, fullgraph=True)  # the default backend: inductor
(compiled_grad,) = torch.autograd.grad(compiled(x, y), x)
(eager_grad,) = torch.autograd.grad(focal_loss(x, y), x)
torch.testing.assert_close(compiled(x, y), focal_loss(x, y))
torch.testing.assert_close(compiled_grad, eager_grad)
# The loss was captured as one graph and compiled (with TORCHDYNAMO_DISABLE=1, say, none is,
# and the compiled function is the eager one).
print("graphs captured:", torch._dynamo.utils.counters["stats"]["unique_graphs"])
"""


def compile_with_inductor(workdir: Path) -> subprocess.CompletedProcess:
    script = workdir / "inductor_focal.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return fresh_python.run(script, workdir, timeout=CHILD_TIMEOUT)


@in_background(compile_with_inductor)
def test_focal_loss_with_inductor(background_job) -> None:
    result = background_job.result()
    assert result.returncode == 0, f"inductor's focal loss differs from eager, or failed:\n{result.stderr[-3000:]}"
    assert result.stdout == "graphs captured: 1\n", result.stdout
