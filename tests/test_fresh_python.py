"""``tests/fresh_python.run`` gives a script what ``python script.py`` gives it: each case runs
the same script both ways and compares what it printed and how it ended."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import fresh_python

ROOT = Path(__file__).resolve().parent.parent

SCRIPTS = {
    "what it sees": """
        import os, sys
        print(__name__, os.path.basename(__file__), [os.path.basename(a) for a in sys.argv])
        print(os.getcwd() == os.path.dirname(os.path.abspath(__file__)))
        print(sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
        print({ROOT!r} in sys.path, "torch" in globals())
        print(sys.stdin.read() == "")
    """,
    "torch as a new process has it": """
        import torch
        print(torch.get_num_threads(), torch.get_default_dtype(), torch.is_grad_enabled())
    """,
    "an optimizer's step (torch._dynamo preloaded)": """
        import sys, torch
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
        optimizer.zero_grad()
        model(torch.randn(4, 3)).square().mean().backward()
        optimizer.step()
        print([p.detach().sum().item().hex() for p in model.parameters()], "torch._dynamo" in sys.modules)
    """,
    "exit code": """
        import sys
        print("before")
        sys.exit(3)
    """,
    "exit message": """
        import sys
        sys.exit("stopped")
    """,
    "exception": """
        print("before")
        raise ValueError("the message")
    """,
    "atexit and stderr": """
        import atexit, sys
        atexit.register(lambda: print("at exit"))
        print("to stderr", file=sys.stderr)
    """,
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_runs_as_python_does(name: str, tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPTS[name]).replace("{ROOT!r}", repr(str(ROOT))), encoding="utf-8")
    expected = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    got = fresh_python.run(script, tmp_path, timeout=300)
    assert (got.returncode, got.stdout) == (expected.returncode, expected.stdout)
    # The last line of a traceback (the frames differ: runpy's are in the forked run's)
    assert got.stderr.strip().splitlines()[-1:] == expected.stderr.strip().splitlines()[-1:]


def test_a_run_over_its_time_is_stopped(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("import time\ntime.sleep(60)\n", encoding="utf-8")
    with pytest.raises(subprocess.TimeoutExpired):
        fresh_python.run(script, tmp_path, timeout=1)


def test_each_run_draws_its_own_random_seeds(tmp_path: Path) -> None:
    """A new process seeds torch's, numpy's and Python's generators afresh; so does each run."""
    script = tmp_path / "script.py"
    script.write_text(
        "import random, numpy, torch\nprint(torch.initial_seed(), numpy.random.random(), random.random())\n",
        encoding="utf-8",
    )
    first, second = (fresh_python.run(script, tmp_path, timeout=300) for _ in range(2))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert all(a != b for a, b in zip(first.stdout.split(), second.stdout.split(), strict=True)), (first.stdout, second.stdout)


def test_other_cpu_kernels_are_used_as_in_a_new_process(tmp_path: Path) -> None:
    """``env=OTHER_CPU_KERNELS`` takes effect in the forked run as in a new process started with
    it: ATen's kernels are the portable ones, MKL's instructions are capped, and a float32 sum
    whose last bits depend on the kernels' vector width is the one a new process computes."""
    script = tmp_path / "script.py"
    script.write_text(
        "import os, torch\n"
        "torch.manual_seed(0)\n"
        "print(torch.backends.cpu.get_cpu_capability(), os.environ['MKL_ENABLE_INSTRUCTIONS'],\n"
        "      torch.randn(10**6).sum().item().hex())\n",
        encoding="utf-8",
    )
    env = {**os.environ, **fresh_python.OTHER_CPU_KERNELS}
    expected = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    got = fresh_python.run(script, tmp_path, timeout=300, env=fresh_python.OTHER_CPU_KERNELS)
    assert got.returncode == expected.returncode == 0, got.stderr + expected.stderr
    assert got.stdout.split()[:2] == ["DEFAULT", "SSE4_2"], got.stdout
    assert got.stdout == expected.stdout
