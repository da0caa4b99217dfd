"""Draw the figures of ``lossbook.plots`` for ``hooks/figures.py``, in a process of its own.

Run as ``python hooks/draw_figures.py <processes>``. It imports torch and ``lossbook.plots`` once,
writes one JSON line ``{"figures": [every registered name], "narrow_below": ...}`` on stdout,
and reads one JSON line on stdin: the tasks, each a list of variants ``[name, width]``. It then
forks ``<processes>`` drawing processes (``multiprocessing``'s fork context: each starts with
torch, matplotlib, its fonts and ``lossbook.plots`` already loaded, instead of importing them
again, about 2 s of CPU each) which take the next task as they finish one, and writes one JSON
line per finished task, in the order they finish: ``{"task": index, "svgs": [{"light": svg,
"dark": svg}, ...]}`` in the order of its variants (``plots.render_svgs``: the dark one derived
from the light one where the figure allows), or ``{"task": index, "error": traceback}``.
``hooks/figures.py`` chooses the tasks and names the files; the build's own process imports
neither matplotlib nor torch.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts hooks/ on the path, not the project: the lossbook drawn is this
# project's (as in the build's own process), not whichever one the environment has installed.
sys.path.insert(0, str(ROOT))


def _write(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def _quiet_stdout() -> None:
    """In a drawing process: stdout carries the answers, so nothing else may print there."""
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the process's life)


def _draw(numbered: tuple[int, list[list[str]]]) -> dict:
    from lossbook import plots  # already imported: the process was forked after the import

    index, variants = numbered
    try:
        return {"task": index, "svgs": [plots.render_svgs(name, width) for name, width in variants]}
    except Exception:  # reported to the build, which fails naming the figure
        return {"task": index, "error": traceback.format_exc()}


def main() -> None:
    processes = int(sys.argv[1])
    import torch

    from lossbook import plots

    # One drawing process per core already: torch's own intra-op threads only competed with the
    # other process (7 % more CPU). The figures' tensors are too small for torch to split, so the
    # bytes are the same (every SVG compared with one drawn with the default threads). Set before
    # the fork, and before any parallel work: no thread pool exists to be copied half-way.
    torch.set_num_threads(1)
    _write({"figures": sorted(plots.FIGURES), "narrow_below": plots.NARROW_BELOW})
    tasks = json.loads(sys.stdin.readline())
    # Entered before the fork: each drawing process keeps its own parses, for its life (one build).
    with plots.shared_mathtext():
        with multiprocessing.get_context("fork").Pool(processes, initializer=_quiet_stdout) as pool:
            for answer in pool.imap_unordered(_draw, enumerate(tasks)):
                _write(answer)


if __name__ == "__main__":
    main()
