"""How long the site takes to build: cold, and again after a chapter is touched (`make bench-build`).

The project is copied to a temporary folder (``node_modules`` linked, not copied) so that the
cold build really starts cold, with no figure cache (``.cache/figures``), no rendered formulas
(``.cache/katex``), no cut-down KaTeX fonts (``.cache/katex-fonts``), no executed notebook
(``.cache/notebooks``), no search entries (``.cache/search``) and no compiled templates
(``.cache/jinja``), without disturbing builds running in the checkout. Then:

* cold: ``mkdocs build --strict`` in a new process, every cache empty: figures drawn with
  matplotlib, every formula rendered by KaTeX, every notebook executed;
* rebuild: ``touch`` one chapter, ``mkdocs build --strict`` again in a new process, caches
  warm (what ``make build`` costs after an edit);
* serve rebuild: the same rebuild inside one Python process that has built once already, which
  is what ``mkdocs serve`` does after each save (no interpreter start, imports already loaded).

Targets (issues 6 and 13): cold <= 20 s, rebuild <= 3 s, on a 2-core machine. Times are wall-clock
medians of ``--repeat`` runs (default 1 cold, 3 rebuilds) and depend on the machine's load; each is
printed with its CPU seconds (user + system, over all the build's processes), which depend on it
less, and with the load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py

ROOT = Path(__file__).resolve().parent.parent
# What a build reads: hooks/downloads.py imports tests/doc_examples.py; hooks/notebook.py hashes
# constraints.txt into its cache key.
COPIED = ("docs", "hooks", "lossbook", "snippets", "overrides", "tests", "mkdocs.yml", "pyproject.toml",
          "constraints.txt", "README.md")
CHAPTER = "docs/cross-entropy-family.md"


def copy_project(target: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", ".pytest_cache"))
        elif source.exists():
            shutil.copy2(source, target / name)
    (target / "node_modules").symlink_to(ROOT / "node_modules")


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes and the processes they waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_build(project: Path, site: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all its processes) of one ``mkdocs build`` in a new process."""
    cpu = children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=project, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"mkdocs build failed:\n{result.stderr[-3000:]}")
    return elapsed, children_cpu() - cpu


SERVE_REBUILD = """
import logging, sys, time, pathlib
from mkdocs.commands.build import build
from mkdocs.config import load_config
logging.basicConfig(level=logging.WARNING)
site, chapter, repeat = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3])
build(load_config(site_dir=site))  # the first build of `mkdocs serve`
for _ in range(repeat):
    chapter.touch()
    started, cpu = time.perf_counter(), time.process_time()
    build(load_config(site_dir=site))  # what serve runs after a save
    print(time.perf_counter() - started, time.process_time() - cpu, flush=True)
"""


def serve_rebuilds(project: Path, site: Path, repeat: int) -> list[tuple[float, float]]:
    """Wall-clock and CPU seconds of each rebuild inside one process (CPU: that process's own)."""
    result = subprocess.run(
        [sys.executable, "-c", SERVE_REBUILD, str(site), str(project / CHAPTER), str(repeat)],
        cwd=project, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    if result.returncode != 0:
        print(f"in-process build failed:\n{result.stderr[-3000:]}", file=sys.stderr)
    return [(float(wall), float(cpu)) for wall, cpu in (line.split() for line in result.stdout.splitlines())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rebuilds to time (median reported)")
    args = parser.parse_args()
    import torch  # for the version line only

    print(f"bench_build: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}")
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*") if p.suffix in (".md", ".ipynb"))
    print(f"pages ({len(pages)}): {', '.join(pages)}")
    with tempfile.TemporaryDirectory(prefix="lossbook-bench-") as tmp:
        project, site = Path(tmp) / "project", Path(tmp) / "site"
        project.mkdir()
        copy_project(project)
        loads = [os.getloadavg()[0]]  # the machine may be shared: each time is printed with its load
        cold, cold_cpu = cli_build(project, site)
        loads.append(os.getloadavg()[0])
        rebuilds = []
        for _ in range(args.repeat):
            (project / CHAPTER).touch()
            rebuilds.append(cli_build(project, site))
        loads.append(os.getloadavg()[0])
        in_process = serve_rebuilds(project, site, args.repeat)
        loads.append(os.getloadavg()[0])
    rebuild, serve = statistics.median(w for w, _ in rebuilds), statistics.median(w for w, _ in in_process)
    rebuild_cpu, serve_cpu = statistics.median(c for _, c in rebuilds), statistics.median(c for _, c in in_process)
    print(f"cold build (empty caches, new process)        {cold:6.1f} s   target <= 20 s  {'ok' if cold <= 20 else 'OVER'}")
    print(f"  its CPU time, all processes (figure workers, kernel, node): {cold_cpu:.1f} s")
    print(f"rebuild after touching {CHAPTER:<22} {rebuild:6.1f} s   target <= 3 s   {'ok' if rebuild <= 3 else 'OVER'}")
    print(f"  its CPU time, all processes: {rebuild_cpu:.1f} s (median)")
    print(f"  same rebuild inside `mkdocs serve`          {serve:6.1f} s   (CPU {serve_cpu:.1f} s, median)")
    print(f"  rebuilds: {', '.join(f'{w:.1f}' for w, _ in rebuilds)} s (new process); "
          f"{', '.join(f'{w:.1f}' for w, _ in in_process)} s (in process)")
    print(f"  their CPU: {', '.join(f'{c:.1f}' for _, c in rebuilds)} s (new process); "
          f"{', '.join(f'{c:.1f}' for _, c in in_process)} s (in process)")
    print(f"  ratio cold / rebuild: {cold / rebuild:.1f}x")
    print(f"  1-minute load average before the cold build, after it, after the rebuilds, after the serve rebuilds: "
          f"{', '.join(f'{load:.2f}' for load in loads)} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
