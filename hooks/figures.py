"""MkDocs hook: serve every figure registered in ``lossbook.plots`` as generated SVG files.

Each figure becomes ``figures/<name>.light.svg`` and ``figures/<name>.dark.svg`` in the build,
so pages link them like any other file and ``--strict`` catches a wrong name, and its narrow
variant for phones ``figures/<name>.narrow.light.svg`` / ``.narrow.dark.svg`` (drawn by the same
function, see ``lossbook/plots.py``). SVGs are cached in ``.cache/figures/`` under a hash of the
lossbook sources, these hooks and the versions of matplotlib, torch and numpy (``_sources_key``),
so a rebuild that did not touch ``lossbook/`` does not import matplotlib at all.
On a miss they are drawn by ``hooks/draw_figures.py``: one process that imports torch and
matplotlib once and forks one drawing process per core (at most ``MAX_WORKERS``), each taking
the next figure as it finishes one. The drawing runs in the background while the build renders
the pages (Markdown, KaTeX, the notebook page); the build waits for it in ``on_env``, the first
point that reads an SVG. Each width of a figure is drawn once, light; its dark SVG is the light
one with the palette's colours swapped (``plots.dark_from_light``), except for the figures that
ask for their theme, which are drawn in both.

Pages keep writing ``![alt](figures/<name>.light.svg#only-light)``: this hook wraps each such
image in a ``<picture>`` whose ``<source>`` gives the narrow variant below ``NARROW_BELOW``
(with its own width and height, so the space is reserved), and the browser picks one. The
image keeps its ``src`` and ``#only-light`` suffix, so Material still hides the other palette's
copy, and ``hooks/images.py`` (listed after this hook) still makes it lazy. Both do it in
``on_env``, after every page's ``on_page_content``: no hook after them reads images.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "figures"
WORKER = Path(__file__).with_name("draw_figures.py")
MAX_WORKERS = 4  # drawing processes: one per core, at most this many
THEMES = ("light", "dark")
WIDTHS = ("wide", "narrow")
# Keep in step with lossbook.plots.NARROW_BELOW (not imported here: matplotlib is slow to import).
NARROW_BELOW = "44.9375em"
# The figures' cache key: the versions of what computes and draws them (matplotlib brings its
# fonts), and the sources that do (lossbook's figures and data; these hooks, which choose the
# variants, the processes' settings and the file names).
DRAWN_WITH = ("matplotlib", "torch", "numpy")
DRAWN_BY = ("lossbook", "hooks/figures.py", "hooks/draw_figures.py")

FIGURE_IMG = re.compile(
    r'<img\b[^>]*?\ssrc="(?P<prefix>[^"]*?)figures/(?P<name>[\w-]+)\.(?P<theme>light|dark)\.svg(?P<fragment>#[\w-]*)?"[^>]*>'
)
SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="(?P<w>[\d.]+)(?P<wu>pt|px)?"[^>]*?\sheight="(?P<h>[\d.]+)(?P<hu>pt|px)?"')
PX_PER_UNIT = {"pt": 4 / 3, "px": 1.0, None: 1.0}


def file_name(name: str, theme: str, width: str = "wide") -> str:
    return f"{name}.{theme}.svg" if width == "wide" else f"{name}.{width}.{theme}.svg"


def _sources_key() -> str:
    """What the SVGs depend on: the libraries that compute and draw them, and the code that does."""
    digest = hashlib.sha256()
    for package in DRAWN_WITH:
        digest.update(f"{package}={importlib.metadata.version(package)}\n".encode())
    for path in sorted(p for name in DRAWN_BY for p in ([ROOT / name] if name.endswith(".py") else (ROOT / name).rglob("*.py"))):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _tasks(names: list[str]) -> list[list[tuple[str, str]]]:
    """The variants of every figure, ``(name, width)``, in tasks drawn by one process each, the longest first.

    The worked example's figures go together: they share one seeded training run
    (``plots.worked_example_run``, kept by ``functools.lru_cache`` in the process that draws them),
    so it runs once, not once per process.
    """
    shared = [name for name in names if name.startswith("worked-example-")]
    groups = ([shared] if shared else []) + [[name] for name in names if name not in shared]
    return [[(name, width) for name in group for width in WIDTHS] for group in groups]


class _Drawing(threading.Thread):
    """Every figure drawn by ``hooks/draw_figures.py`` (one drawing process per core), in the background.

    Started in ``on_files``, which waits only for the figure list (the files to register); the
    SVGs are read in this thread as they come while the build renders the pages, and ``result``
    (``on_env``, the first point that needs them) waits for the last. Each width is drawn by
    ``plots.render_svgs`` (light drawn, dark derived from it unless the figure asks for its theme:
    the same bytes as ``plots.render_svg(name, "dark")``) and does not depend on which process draws
    it or in what order (every random draw in ``lossbook.plots`` has its own seeded generator), so
    the files are the same bytes as when drawn one after another.
    """

    def __init__(self) -> None:
        super().__init__(name="figures", daemon=True)  # an interrupted build does not wait for it
        processes = max(1, min(os.cpu_count() or 1, MAX_WORKERS))
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), str(processes)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, encoding="utf-8", cwd=ROOT,
            start_new_session=True,  # its own process group, with the processes it forks: stop() ends them all
        )
        try:
            listing = self._answer("the figure list")
            if listing["narrow_below"] != NARROW_BELOW:
                raise PluginError(f"hooks/figures.py NARROW_BELOW {NARROW_BELOW} != lossbook.plots.NARROW_BELOW {listing['narrow_below']}")
            self.names: list[str] = listing["figures"]
            self.tasks = _tasks(self.names)
            assert self.process.stdin
            self.process.stdin.write(json.dumps(self.tasks) + "\n")
            self.process.stdin.close()
        except BaseException:
            self.stop()
            if self.process.stdout:
                self.process.stdout.close()
            raise
        self.svgs: dict[str, str] = {}
        self.error: BaseException | None = None

    def _answer(self, what: str) -> dict:
        assert self.process.stdout
        line = self.process.stdout.readline()
        if not line:
            raise PluginError(f"the figure process ({WORKER.name}) stopped unexpectedly drawing {what}")
        return json.loads(line)

    def run(self) -> None:
        try:
            for _ in self.tasks:
                answer = self._answer("the figures")
                variants = self.tasks[answer["task"]]
                if "error" in answer:
                    names = ", ".join(dict.fromkeys(name for name, _ in variants))
                    raise PluginError(f"drawing {names} failed:\n{answer['error']}")
                self.svgs.update(
                    (file_name(name, theme, width), themes[theme])
                    for (name, width), themes in zip(variants, answer["svgs"]) for theme in THEMES
                )
            self.process.wait(timeout=10)
        except BaseException as error:  # raised in the build's thread, by result()
            self.error = error
            self.stop()
        finally:
            if self.process.stdout:
                self.process.stdout.close()

    def stop(self) -> None:
        """End the figure process and its drawing processes now (a failed build does not wait for them)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()

    def result(self) -> dict[str, str]:
        """{file name: svg text} of every variant, once all are drawn, in the order of one after another."""
        self.join()
        if self.error is not None:
            raise self.error
        # in the order they were drawn one after another before: figure, width, theme
        return {
            file_name(name, theme, width): self.svgs[file_name(name, theme, width)]
            for name in sorted(self.names) for width in WIDTHS for theme in THEMES
        }


def _size(svg: str) -> tuple[int, int] | None:
    match = SVG_SIZE.search(svg[:2000])
    if not match:
        return None
    return round(float(match["w"]) * PX_PER_UNIT[match["wu"]]), round(float(match["h"]) * PX_PER_UNIT[match["hu"]])


def _cached(key: str) -> dict[str, str] | None:
    """{file name: svg text} from the cache, if lossbook has not changed since it was written."""
    index = CACHE / f"{key}.json"
    return json.loads(index.read_text()) if index.exists() else None


def _store(key: str, svgs: dict[str, str]) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    index = CACHE / f"{key}.json"
    partial = index.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(svgs))
    partial.replace(index)  # atomic: parallel builds never read half a file


# The state of one build: its cache key, the figures' files, the drawing in progress (if the
# cache missed). Filled in on_files, emptied in on_env (or on_build_error), so nothing of a
# build, and no process, outlives it in `mkdocs serve`.
_build: dict[str, object] = {}


def on_files(files: Files, config) -> Files:
    _build.clear()
    key = _sources_key()
    svgs = _cached(key)
    if svgs is None:
        drawing = _Drawing()  # waits for the figure list only
        drawing.start()
        _build.update(key=key, drawing=drawing)
        names = [file_name(name, theme, width) for name in sorted(drawing.names) for width in WIDTHS for theme in THEMES]
        svgs = dict.fromkeys(names, "")  # the content arrives in on_env; until then, only the names
    _build["files"] = figure_files = {name: File.generated(config, f"figures/{name}", content=svg) for name, svg in svgs.items()}
    for file in figure_files.values():
        files.append(file)
    return files


def _with_narrow_source(match: re.Match[str], svgs: dict[str, str]) -> str:
    narrow = file_name(match["name"], match["theme"], "narrow")
    svg = svgs.get(narrow)
    if svg is None:
        return match[0]  # not a registered figure: --strict reports the missing file
    size = _size(svg)
    dimensions = f' width="{size[0]}" height="{size[1]}"' if size else ""
    srcset = html.escape(f"{match['prefix']}figures/{narrow}")
    media = f"(max-width: {NARROW_BELOW})"
    return f'<picture><source media="{media}" srcset="{srcset}" type="image/svg+xml"{dimensions}>{match[0]}</picture>'


def built_pages(files: Files) -> list:
    """The pages of this build whose content is rendered (``on_env`` runs after every page's ``on_page_content``)."""
    return [file.page for file in files if file.page is not None and file.page.content is not None]


def on_env(env, config, files: Files):
    """Each page's figures in a ``<picture>`` with its narrow source: the first point the SVGs are needed.

    Drawing runs while the pages are rendered; this is where the build waits for it. It runs
    after every hook's ``on_page_content``, so ``hooks/images.py`` (listed after this hook) reads
    the sizes of the figures here too.
    """
    drawing = _build.pop("drawing", None)
    figure_files: dict[str, File] = _build.pop("files", {})
    if drawing is not None:
        svgs = drawing.result()
        _store(_build.pop("key"), svgs)
        for name, file in figure_files.items():
            file.content_string = svgs[name]
    svgs = {name: file.content_string for name, file in figure_files.items()}
    _build.clear()
    for page in built_pages(files):
        page.content = FIGURE_IMG.sub(lambda match: _with_narrow_source(match, svgs), page.content)
    return env


def on_build_error(error) -> None:
    drawing = _build.get("drawing")
    if drawing is not None:
        drawing.stop()
        drawing.join()
    _build.clear()
