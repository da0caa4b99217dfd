"""Draw figures of ``lossbook.plots`` for ``hooks/figures.py``, in a process of its own.

Run as ``python hooks/draw_figures.py``. Reads one JSON list of variants per line on stdin,
each ``[name, width]``, and writes one JSON line per request on stdout: ``{"svgs": [{"light":
svg text, "dark": svg text}, ...]}`` in the order asked (``plots.render_svgs``: the dark one
derived from the light one where the figure allows), or ``{"error": traceback}``. An empty list
answers ``{"figures": [every registered name], "narrow_below": ...}``. ``hooks/figures.py``
chooses the variants and names the files, and starts several of these, so the figures are drawn
on every core; matplotlib and torch are imported here only.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts hooks/ on the path, not the project: the lossbook drawn is this
# project's (as in the build's own process), not whichever one the environment has installed.
sys.path.insert(0, str(ROOT))


def main() -> None:
    import torch

    from lossbook import plots

    # One worker per core already: torch's own intra-op threads only competed with the other
    # worker (7 % more CPU). The figures' tensors are too small for torch to split, so the bytes
    # are the same (every SVG compared with one drawn with the default threads).
    torch.set_num_threads(1)

    with plots.shared_mathtext():  # for the life of this process: one build
        serve(plots)


def serve(plots) -> None:
    for line in sys.stdin:
        variants = json.loads(line)
        try:
            if not variants:
                answer = {"figures": sorted(plots.FIGURES), "narrow_below": plots.NARROW_BELOW}
            else:
                answer = {"svgs": [plots.render_svgs(name, width) for name, width in variants]}
        except Exception:  # reported to the build, which fails naming the figure
            answer = {"error": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
