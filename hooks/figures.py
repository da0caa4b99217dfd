"""MkDocs hook: serve every figure registered in ``lossbook.plots`` as generated SVG files.

Each figure becomes ``figures/<name>.light.svg`` and ``figures/<name>.dark.svg`` in the build,
so pages link them like any other file and ``--strict`` catches a wrong name, and its narrow
variant for phones ``figures/<name>.narrow.light.svg`` / ``.narrow.dark.svg`` (drawn by the same
function, see ``lossbook/plots.py``). SVGs are cached in ``.cache/figures/`` under a hash of the
lossbook sources, so a rebuild that did not touch ``lossbook/`` does not import matplotlib at all.
On a miss they are drawn by one ``hooks/draw_figures.py`` process per core (at most
``MAX_WORKERS``), each taking the next figure as it finishes one: drawing them one after another
took most of a cold build. Each width of a figure is drawn once, light; its dark SVG is the light
one with the palette's colours swapped (``plots.dark_from_light``), except for the figures that
ask for their theme, which are drawn in both.

Pages keep writing ``![alt](figures/<name>.light.svg#only-light)``: this hook wraps each such
image in a ``<picture>`` whose ``<source>`` gives the narrow variant below ``NARROW_BELOW``
(with its own width and height, so the space is reserved), and the browser picks one. The
image keeps its ``src`` and ``#only-light`` suffix, so Material still hides the other palette's
copy, and ``hooks/images.py`` (listed after this hook) still makes it lazy.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "figures"
WORKER = Path(__file__).with_name("draw_figures.py")
MAX_WORKERS = 4  # one process per core, at most this many: each imports torch and matplotlib
THEMES = ("light", "dark")
WIDTHS = ("wide", "narrow")
# Keep in step with lossbook.plots.NARROW_BELOW (not imported here: matplotlib is slow to import).
NARROW_BELOW = "44.9375em"

FIGURE_IMG = re.compile(
    r'<img\b[^>]*?\ssrc="(?P<prefix>[^"]*?)figures/(?P<name>[\w-]+)\.(?P<theme>light|dark)\.svg(?P<fragment>#[\w-]*)?"[^>]*>'
)
SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="(?P<w>[\d.]+)(?P<wu>pt|px)?"[^>]*?\sheight="(?P<h>[\d.]+)(?P<hu>pt|px)?"')
PX_PER_UNIT = {"pt": 4 / 3, "px": 1.0, None: 1.0}

_svgs: dict[str, str] = {}


def file_name(name: str, theme: str, width: str = "wide") -> str:
    return f"{name}.{theme}.svg" if width == "wide" else f"{name}.{width}.{theme}.svg"


def _sources_key() -> str:
    digest = hashlib.sha256(importlib.metadata.version("matplotlib").encode())
    for path in sorted((ROOT / "lossbook").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _tasks(names: list[str]) -> list[list[str]]:
    """The figures in groups drawn by one process each, the longest first.

    The worked example's figures go together: they share one seeded training run
    (``plots.worked_example_run``, kept by ``functools.lru_cache`` in the process that draws them),
    so it runs once, not once per process.
    """
    shared = [name for name in names if name.startswith("worked-example-")]
    return ([shared] if shared else []) + [[name] for name in names if name not in shared]


class _Worker:
    """One ``python hooks/draw_figures.py`` process: a request per line, an answer per line."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, encoding="utf-8", cwd=ROOT,
        )

    def ask(self, variants: list[tuple[str, str]]) -> dict:
        """The worker's answer for ``variants``, each ``(name, width)``, both themes; none: the figure list."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(variants) + "\n")
        self.process.stdin.flush()
        names = ", ".join(dict.fromkeys(name for name, _ in variants)) or "the figure list"
        line = self.process.stdout.readline()
        if not line:
            raise PluginError(f"the figure worker ({WORKER.name}) stopped unexpectedly drawing {names}")
        answer = json.loads(line)
        if "error" in answer:
            raise PluginError(f"drawing {names} failed:\n{answer['error']}")
        return answer

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _draw_in_parallel() -> dict[str, str]:
    """Every figure in all its variants, drawn by one worker process per core.

    Each width is drawn by ``plots.render_svgs`` (light drawn, dark derived from it unless the
    figure asks for its theme: the same bytes as ``plots.render_svg(name, "dark")``) and does not
    depend on which process draws it or in what order (every random draw in ``lossbook.plots`` has
    its own seeded generator), so the files are the same bytes as when drawn one after another.
    """
    workers = [_Worker() for _ in range(max(1, min(os.cpu_count() or 1, MAX_WORKERS)))]
    try:
        listing = workers[0].ask([])
        if listing["narrow_below"] != NARROW_BELOW:
            raise ValueError(f"hooks/figures.py NARROW_BELOW {NARROW_BELOW} != lossbook.plots.NARROW_BELOW {listing['narrow_below']}")
        tasks = queue.SimpleQueue()
        for task in _tasks(listing["figures"]):
            tasks.put(task)
        svgs: dict[str, str] = {}
        errors: list[BaseException] = []

        def serve(worker: _Worker) -> None:
            while not errors:
                try:
                    names = tasks.get_nowait()
                except queue.Empty:
                    return
                variants = [(name, width) for name in names for width in WIDTHS]
                try:
                    drawn = worker.ask(variants)["svgs"]
                    svgs.update(
                        (file_name(name, theme, width), themes[theme])
                        for (name, width), themes in zip(variants, drawn) for theme in THEMES
                    )
                except BaseException as error:  # re-raised below, in the build's thread
                    errors.append(error)

        threads = [threading.Thread(target=serve, args=(worker,)) for worker in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    finally:
        for worker in workers:
            worker.close()
    # in the order they were drawn one after another before: figure, width, theme
    return {
        file_name(name, theme, width): svgs[file_name(name, theme, width)]
        for name in sorted(listing["figures"]) for width in WIDTHS for theme in THEMES
    }


def _render_all(key: str) -> dict[str, str]:
    """Return {file name: svg text}, from the cache when lossbook has not changed."""
    index = CACHE / f"{key}.json"
    if index.exists():
        return json.loads(index.read_text())
    svgs = _draw_in_parallel()
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = index.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(svgs))
    partial.replace(index)  # atomic: parallel builds never read half a file
    return svgs


def _size(svg: str) -> tuple[int, int] | None:
    match = SVG_SIZE.search(svg[:2000])
    if not match:
        return None
    return round(float(match["w"]) * PX_PER_UNIT[match["wu"]]), round(float(match["h"]) * PX_PER_UNIT[match["hu"]])


def on_files(files: Files, config) -> Files:
    _svgs.clear()
    _svgs.update(_render_all(_sources_key()))
    for name, svg in _svgs.items():
        files.append(File.generated(config, f"figures/{name}", content=svg))
    return files


def _with_narrow_source(match: re.Match[str]) -> str:
    narrow = file_name(match["name"], match["theme"], "narrow")
    svg = _svgs.get(narrow)
    if svg is None:
        return match[0]  # not a registered figure: --strict reports the missing file
    size = _size(svg)
    dimensions = f' width="{size[0]}" height="{size[1]}"' if size else ""
    srcset = html.escape(f"{match['prefix']}figures/{narrow}")
    media = f"(max-width: {NARROW_BELOW})"
    return f'<picture><source media="{media}" srcset="{srcset}" type="image/svg+xml"{dimensions}>{match[0]}</picture>'


def on_page_content(html_text: str, page, config, files) -> str:
    return FIGURE_IMG.sub(_with_narrow_source, html_text)
