"""``run(script, cwd)``: a Python script run as ``python script.py`` from ``cwd``, without paying
for torch's import each time.

The suite runs every snippet and every page's downloaded script on its own, about thirty
processes; each spent 1.7 s of CPU importing torch before its first line did anything. Here
each run is a process forked from one server process (``multiprocessing``'s forkserver) that has
imported torch and nothing of this project. What the script sees is what ``python script.py``
gives it:

* ``__name__ == "__main__"``, ``__file__``, ``sys.argv == [script]``, the working directory;
* ``sys.path``: the script's folder, then the interpreter's own path as a new ``python`` process
  of this environment has it (asked once of one), not the test process's (which has the project);
* stdout and stderr at the file-descriptor level, into files read back afterwards; stdin empty;
* random seeds of its own: torch's and numpy's generators are seeded afresh, as a new process
  seeds them, and Python's ``random`` reseeds itself after a fork;
* environment variables given as ``env``, set before the script starts: :data:`OTHER_CPU_KERNELS`
  makes torch use other CPU kernels than a plain run on the same machine;
* ``atexit`` handlers run at the end; an uncaught exception prints its traceback and exits 1;
  ``sys.exit(n)`` exits ``n``; a run over ``timeout`` seconds is killed and raises
  :class:`subprocess.TimeoutExpired`, as :func:`subprocess.run` does.

Already in ``sys.modules``: ``torch`` and ``torch._dynamo`` (:data:`PRELOAD`, and what they
import), and what ``multiprocessing`` needs to start the run (this module and
``tests/background.py``; the test process's main module, pytest's). A script still has to import
torch to use it: the name is not defined in its namespace.
"""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from tests.background import once


# Other CPU kernels than the machine's best, for ``run(..., env=OTHER_CPU_KERNELS)``: ATen's
# portable kernels instead of its AVX2 or AVX-512 ones, and MKL's SSE4.2 code path. Float32
# results can differ in their last bits from one set of kernels to another, and a training run
# grows such bits into other printed numbers: a page whose numbers pass only with the kernels of
# the machine its outputs were made on prints other numbers under these. Both are read when torch
# first runs a kernel, which the server that the runs are forked from has not done.
OTHER_CPU_KERNELS = {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}


# What the server imports before it forks a run. torch._dynamo too: torch imports it at the first
# call of an optimizer's step or zero_grad (they are wrapped by torch._disable_dynamo), which most
# pages and snippets make, and it took 1.65 s of CPU each time (sympy, torch.distributed, ...).
# Imported, it changes nothing a script prints: torch's threads, dtype, seeds and CPU kernels are
# as before (OTHER_CPU_KERNELS still takes effect, tests/test_fresh_python.py), and it adds one
# warnings filter, the one sympy adds when it is imported.
PRELOAD = ["torch", "torch._dynamo"]


def _start():
    """The forkserver context, its server preloading :data:`PRELOAD`; and a new interpreter's sys.path."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    probe = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sys.path[1:]))"],
        capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(),
    )
    return context, json.loads(probe.stdout)


def _main(script: str, cwd: str, path: list[str], out: str, err: str, args: list[str], env: dict[str, str]) -> None:
    """In the forked process: become ``python script.py *args`` run from ``cwd``."""
    os.environ.update(env)
    for fd, name in ((1, out), (2, err)):
        handle = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(handle, fd)
        os.close(handle)
    os.chdir(cwd)
    # Fresh random seeds, as a new process draws them (Python's random reseeds itself on fork).
    if "torch" in sys.modules:
        sys.modules["torch"].seed()
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()
    sys.argv = [script, *args]
    sys.path[:] = [str(Path(script).parent), *path]
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if not isinstance(stop.code, (int, type(None))):
            print(stop.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - reported as python reports it
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(
    script: Path, cwd: Path, timeout: float, args: list[str] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python script *args`` run from ``cwd``, with ``env`` added to its environment: its
    return code, stdout and stderr as text."""
    context, path = once("fresh_python: the forkserver and a new interpreter's sys.path", _start)
    with tempfile.TemporaryDirectory() as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        process = context.Process(target=_main, args=(str(script), str(cwd), path, str(out), str(err), list(args), dict(env or {})))
        process.start()
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired([sys.executable, str(script), *args], timeout)
        return subprocess.CompletedProcess(
            [sys.executable, str(script), *args], process.exitcode,
            out.read_text(encoding="utf-8", errors="replace"), err.read_text(encoding="utf-8", errors="replace"),
        )
