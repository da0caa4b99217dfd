"""MkDocs hook: notebook pages, executed at build time, cached, and shown in the book's own markup.

Pages. A notebook under ``docs/`` (``*.ipynb``; the site has one, ``worked-example.ipynb``) is a
page of the site: ``on_files`` makes it one (``worked-example/``), and publishes the ``.ipynb``
next to it (``worked-example/worked-example.ipynb``, its download link). Its content is
mkdocs-jupyter's conversion (``mkdocs_jupyter.convert.nb2html``: executed with nbclient, with
the options in ``NB2HTML``; an error in a cell fails the build) and its table of contents and
title are mkdocs-jupyter's (``_get_nb_toc_tokens``). This hook calls them itself instead of
listing mkdocs-jupyter under ``plugins:``: the plugin imports nbconvert and jupytext at every
build (about half a second), and a build whose notebook is in the cache needs neither.

Execution cache. A notebook is executed only when it, or anything else an execution can depend
on, has changed: its conversion is kept in ``.cache/notebooks/<inputs>/<notebook>.json``, where
``<inputs>`` is a hash of the ``lossbook`` and ``snippets`` sources, ``constraints.txt`` and
``pyproject.toml`` (the pinned toolchain), the installed versions of torch, nbclient and
mkdocs-jupyter, and ``<notebook>`` a hash of the notebook and ``NB2HTML``. ``make clean``
deletes them all; ``LOSSBOOK_NOTEBOOK_CACHE=0`` executes every notebook on every build.

Execution ahead of time. A notebook missing from the cache is executed from ``on_files``, in a
thread (``_Ahead``), while the figures are drawn; the page's ``render`` waits for it (about 10 s
with a core idle otherwise). An error in a cell fails the build there.

Markup. nbconvert writes JupyterLab's page: its whole stylesheet inline (about 600 kB), a
clipboard script, MathJax and Mermaid loaders, a prompt column, and cells nested six deep. This
hook keeps what the reader reads and writes it as the other pages do: Markdown cells as they
are, each code cell as a Python block and each text output as an output block (Material's copy
button and code colours, no wrapping, the epoch table a table), headings with Material's
permalinks. Figures are not cell outputs: Markdown cells show them from the light/dark SVG
pipeline (``lossbook.plots``, ``figures/<name>.<theme>.svg``) like every chapter. An output this
hook does not know (an image, HTML, an error) fails the build rather than vanish.

The markup is kept in ``.cache/notebooks/markup/``, under a hash of the converted page, this file
and BeautifulSoup's version: a rebuild does not parse the notebook's 600 kB again (about 0.2 s).

Math. nbconvert leaves a Markdown cell's ``$...$`` and ``$$...$$`` as text; they are rewritten as
``pymdownx.arithmatex`` writes math, for ``hooks/katex.py`` (listed after this hook) to render.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import re
import threading
import types
from pathlib import Path, PurePosixPath

from bs4 import BeautifulSoup
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc

from page_cache import memo

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ("lossbook", "snippets", "constraints.txt", "pyproject.toml")
CACHE = ROOT / ".cache" / "notebooks"
# mkdocs_jupyter.convert.nb2html's options: executed, an error in a cell fails the build, no
# RequireJS from a CDN; the rest its defaults (tests/test_worked_example.py checks them).
NB2HTML = {
    "execute": True, "kernel_name": "python3", "theme": "", "allow_errors": False,
    "show_input": True, "no_input": False, "no_prompt": False, "remove_tag_config": {},
    "highlight_extra_classes": "", "include_requirejs": False, "custom_mathjax_url": "",
}
TOC_DEPTH = 6  # headings of every level in the page's table of contents


def _inputs_key() -> str:
    digest = hashlib.sha256()
    for package in ("torch", "nbclient", "mkdocs-jupyter"):
        try:
            digest.update(f"{package}={importlib.metadata.version(package)}".encode())
        except importlib.metadata.PackageNotFoundError:
            pass
    for name in INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                digest.update(file.relative_to(ROOT).as_posix().encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _cache_path(abs_src_path: str, inputs: str) -> Path:
    digest = hashlib.sha256(Path(abs_src_path).read_bytes())
    digest.update(json.dumps([NB2HTML, TOC_DEPTH], sort_keys=True).encode())
    return CACHE / inputs / f"{digest.hexdigest()}.json"


class _NotebookPage(File):
    """A notebook file as a page: ``worked-example.ipynb`` is written to ``worked-example/index.html``."""

    cache_path: Path | None = None  # its conversion in the cache, set by on_files

    def is_documentation_page(self) -> bool:
        return True


def notebook_pages(files: Files) -> Files:
    """``files`` with each ``docs/*.ipynb`` a page (``tests/site_support.py`` lists the nav with it)."""
    return Files([
        _NotebookPage(file.src_path, file.src_dir, file.dest_dir, file.use_directory_urls)
        if file.src_uri.endswith(".ipynb") and file.src_dir is not None else file  # not a generated copy
        for file in files
    ])


class _Ahead(threading.Thread):
    """One notebook executed and converted (``mkdocs_jupyter.convert``), written to the cache if on."""

    def __init__(self, abs_src_path: str, cache_path: Path | None) -> None:
        super().__init__(name=f"notebook {abs_src_path}")
        self.abs_src_path, self.cache_path = abs_src_path, cache_path
        self.result: dict | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            from mkdocs_jupyter import convert
            from mkdocs_jupyter.plugin import _get_nb_toc_tokens

            body = convert.nb2html(self.abs_src_path, **NB2HTML)
            toc_tokens, title = _get_nb_toc_tokens(self.abs_src_path, TOC_DEPTH)
            self.result = {"content": body, "toc_tokens": toc_tokens, "title": title}
            if self.cache_path is not None:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                partial = self.cache_path.with_suffix(f".{os.getpid()}.tmp")
                partial.write_text(json.dumps(self.result), encoding="utf-8")
                partial.replace(self.cache_path)  # atomic: a parallel build never reads half a file
        except BaseException as error:  # raised in the build's thread, by the page's render
            self.error = error


# Notebooks being executed ahead, by source path: filled in on_files, emptied as their pages are
# rendered, and in on_post_build / on_build_error, so nothing of a build outlives it in serve.
_ahead: dict[str, _Ahead] = {}


def on_files(files, config):
    _ahead.clear()
    cached = os.environ.get("LOSSBOOK_NOTEBOOK_CACHE") != "0"
    inputs = _inputs_key() if cached else ""
    files = notebook_pages(files)
    for file in list(files.documentation_pages()):
        if isinstance(file, _NotebookPage):
            # the .ipynb next to its page (worked-example/worked-example.ipynb): its download link
            source = PurePosixPath(file.dest_uri).parent / PurePosixPath(file.src_uri).name
            files.append(File.generated(config, str(source), abs_src_path=file.abs_src_path))
            file.cache_path = path = _cache_path(file.abs_src_path, inputs) if cached else None
            if path is None or not path.exists():
                _ahead[file.abs_src_path] = ahead = _Ahead(file.abs_src_path, path)
                ahead.start()
    return files


def _wait(abs_src_path: str) -> dict | None:
    """The conversion executed ahead for ``abs_src_path``, or None if it was in the cache."""
    ahead = _ahead.pop(abs_src_path, None)
    if ahead is None:
        return None
    ahead.join()
    if ahead.error is not None:
        raise PluginError(f"executing {abs_src_path} failed: {ahead.error}") from ahead.error
    return ahead.result


def _render(page, config, files) -> None:
    """A notebook page's ``render``: its conversion (executed ahead, or from the cache)."""
    converted = _wait(page.file.abs_src_path)
    if converted is None:
        converted = json.loads(page.file.cache_path.read_text(encoding="utf-8"))
    page.content = converted["content"]
    page.toc = get_toc(converted["toc_tokens"])
    if converted["title"] is not None:
        page.title = converted["title"]


def on_pre_page(page, config, files):
    if isinstance(page.file, _NotebookPage):
        page.render = types.MethodType(_render, page)
    return page


def on_post_build(config) -> None:
    for path in list(_ahead):
        _wait(path)


def on_build_error(error) -> None:
    for ahead in list(_ahead.values()):
        ahead.join()
    _ahead.clear()


# --- Math ---------------------------------------------------------------------------------------

CODE = re.compile(r"(<(code|pre)\b.*?</\2>)", re.DOTALL)  # left alone: $ in code is not math
DOLLAR_MATH = re.compile(
    r"(?<!\\)\$\$(?P<display>.+?)(?<!\\)\$\$"
    r"|(?<![\\$])\$(?![\s$])(?P<inline>[^$]+?)(?<![\\\s])\$",
    re.DOTALL,
)


def _arithmatex(match: re.Match[str]) -> str:
    if match["display"] is not None:
        return f'<div class="arithmatex">\\[{match["display"]}\\]</div>'
    return f'<span class="arithmatex">\\({match["inline"]}\\)</span>'


def markdown_math(cell_html: str) -> str:
    """A Markdown cell's ``$``-delimited math, outside code, in arithmatex's markup."""
    parts = CODE.split(cell_html)
    # split() with two groups yields [text, code, tag name, text, ...]: rewrite text parts only
    return "".join(
        DOLLAR_MATH.sub(_arithmatex, part) if index % 3 == 0 else part
        for index, part in enumerate(parts)
        if index % 3 != 2
    )


# --- Markup -------------------------------------------------------------------------------------

def _block(language: str, code_html: str) -> str:
    """A highlighted block as pymdownx.highlight writes it."""
    return f'<div class="language-{language} highlight"><pre><span></span><code>{code_html}</code></pre></div>'


def _markdown_cell(cell, where: str) -> str:
    rendered = cell.select_one(".jp-RenderedMarkdown")
    if rendered is None:
        raise PluginError(f"{where}: a Markdown cell without rendered Markdown")
    for link in rendered.select("a.anchor-link"):
        link["class"] = "headerlink"
        link["title"] = "Permanent link"
    return markdown_math(rendered.decode_contents())


def _code_cell(cell, where: str) -> str:
    source = cell.select_one(".jp-InputArea .highlight-ipynb pre")
    if source is None:
        raise PluginError(f"{where}: a code cell without its source")
    first = source.contents[0] if source.contents else None
    if getattr(first, "name", None) == "span" and not first.contents and not first.attrs:
        first.decompose()  # Pygments' leading <span></span>: _block writes its own
    parts = [_block("python", source.decode_contents().rstrip("\n"))]
    for output in cell.select(".jp-OutputArea-output"):
        text = output.find("pre", recursive=False)
        kinds = set(output.get("class", ())) & {"jp-RenderedText", "jp-OutputArea-executeResult"}
        if text is None or not kinds:
            raise PluginError(
                f"{where}: a cell output that is not text ({' '.join(output.get('class', ()))}); "
                "show figures from lossbook.plots in a Markdown cell instead"
            )
        parts.append(_block("output", html.escape(text.get_text().rstrip("\n"), quote=False)))
    return "".join(parts)


def book_markup(content: str, where: str) -> str:
    """The cells of a notebook page in the markup of the book's other pages."""
    soup = BeautifulSoup(content, "html.parser")
    cells = [cell for cell in soup.select("div.jp-Cell") if cell.find_parent("div", class_="jp-Cell") is None]
    if not cells:
        raise PluginError(f"{where}: no notebook cells found in mkdocs-jupyter's HTML")
    out = []
    for cell in cells:
        classes = cell.get("class", ())
        if "jp-MarkdownCell" in classes:
            out.append(_markdown_cell(cell, where))
        elif "jp-CodeCell" in classes:
            out.append(_code_cell(cell, where))
        else:
            raise PluginError(f"{where}: a notebook cell of unknown kind ({' '.join(classes)})")
    return "\n".join(out)


def cached_book_markup(content: str, where: str) -> str:
    """:func:`book_markup`, kept for each notebook in ``.cache/notebooks/markup/``."""
    made_by = Path(__file__).read_bytes() + importlib.metadata.version("beautifulsoup4").encode()
    key = hashlib.sha256(made_by + content.encode()).hexdigest()
    return memo(CACHE / "markup", where, key, lambda: book_markup(content, where))


def on_page_content(content: str, page, config, files) -> str:
    if not isinstance(page.file, _NotebookPage):
        return content
    return cached_book_markup(content, page.file.src_uri)
