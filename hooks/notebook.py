"""MkDocs hook: notebook pages (mkdocs-jupyter) cached, and shown in the book's own markup.

Execution cache. mkdocs-jupyter executes every notebook page at every build (about 10 s for the
worked example). Its own cache is keyed on the notebook and the plugin's options only, so
``mkdocs.yml`` switches it off: a change to ``lossbook/`` would otherwise leave stale numbers on
the page. ``on_config`` switches it back on with a cache folder named after a hash of everything
else an execution can depend on: the ``lossbook`` and ``snippets`` sources, ``constraints.txt``
and ``pyproject.toml`` (the pinned toolchain) and the installed versions of torch, nbclient and
mkdocs-jupyter. Any change there means a new folder, hence a fresh execution; ``make clean``
deletes them all. ``LOSSBOOK_NOTEBOOK_CACHE=0`` executes every notebook on every build.

Execution ahead of time. The plugin executes a notebook when its page is rendered, late in the
build, and the build waits on the kernel (about 10 s) with a core idle. With the cache on, a
notebook missing from it is executed from ``on_files`` instead, in a thread (``_Ahead``) that
does what the plugin would do on a miss (``nb2html`` with the plugin's options, then its cache
entry), while the figures are drawn; ``on_pre_page`` waits for it before the plugin renders the
page, which then finds its cache entry. An error in a cell fails the build there, as before.

Markup. nbconvert writes JupyterLab's page: its whole stylesheet inline (about 600 kB), a
clipboard script, MathJax and Mermaid loaders, a prompt column, and cells nested six deep. This
hook keeps what the reader reads and writes it as the other pages do: Markdown cells as they
are, each code cell as a Python block and each text output as an output block (Material's copy
button and code colours, no wrapping, the epoch table a table), headings with Material's
permalinks. Figures are not cell outputs: Markdown cells show them from the light/dark SVG
pipeline (``lossbook.plots``, ``figures/<name>.<theme>.svg``) like every chapter. An output this
hook does not know (an image, HTML, an error) fails the build rather than vanish.

Math. nbconvert leaves a Markdown cell's ``$...$`` and ``$$...$$`` as text; they are rewritten as
``pymdownx.arithmatex`` writes math, for ``hooks/katex.py`` (listed after this hook) to render.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import pathlib
import re
import threading
from pathlib import Path

from bs4 import BeautifulSoup
from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ("lossbook", "snippets", "constraints.txt", "pyproject.toml")
CACHE = ROOT / ".cache" / "mkdocs-jupyter"


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


def on_config(config):
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is None or os.environ.get("LOSSBOOK_NOTEBOOK_CACHE") == "0":
        return config
    plugin.config["cache"] = True
    plugin.config["cache_dir"] = str(CACHE / _inputs_key())
    return config


class _Ahead(threading.Thread):
    """One notebook executed and converted as mkdocs-jupyter does on a cache miss, written to its cache."""

    def __init__(self, plugin, abs_src_path: str) -> None:
        super().__init__(name=f"notebook {abs_src_path}")
        self.plugin, self.abs_src_path = plugin, abs_src_path
        self.error: BaseException | None = None
        config = plugin.config
        self.execute = config["execute"] and not any(
            pathlib.PurePath(abs_src_path).match(pattern) for pattern in config["execute_ignore"] or ()
        )
        from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

        self.cache_path = _get_cache_path(config["cache_dir"], _compute_cache_key(abs_src_path, config, self.execute))

    def run(self) -> None:
        try:
            from mkdocs_jupyter import convert
            from mkdocs_jupyter.plugin import _get_nb_toc_tokens

            config = self.plugin.config
            body = convert.nb2html(
                self.abs_src_path, execute=self.execute, kernel_name=config["kernel_name"],
                theme=config["theme"], allow_errors=config["allow_errors"],
                show_input=config["show_input"], no_input=config["no_input"],
                no_prompt=config["no_prompt"], remove_tag_config=config["remove_tag_config"],
                highlight_extra_classes=config["highlight_extra_classes"],
                include_requirejs=config["include_requirejs"], custom_mathjax_url=config["custom_mathjax_url"],
            )
            toc_tokens, title = _get_nb_toc_tokens(self.abs_src_path, config["toc_depth"])
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.cache_path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps({"content": body, "toc_tokens": toc_tokens, "title": title}), encoding="utf-8")
            partial.replace(self.cache_path)  # atomic: the plugin never reads half a file
        except BaseException as error:  # raised in the build's thread, by on_pre_page
            self.error = error


# Notebooks being executed ahead, by source path: filled in on_files, emptied as their pages are
# rendered, and in on_post_build / on_build_error, so nothing of a build outlives it in serve.
_ahead: dict[str, _Ahead] = {}


def on_files(files, config):
    plugin = config.plugins.get("mkdocs-jupyter")
    _ahead.clear()
    if plugin is None or not plugin.config["cache"]:
        return files
    for file in files:
        if file.abs_src_path and file.src_uri.endswith(".ipynb") and plugin.should_include(file):
            ahead = _Ahead(plugin, file.abs_src_path)
            if not ahead.cache_path.exists():
                _ahead[file.abs_src_path] = ahead
                ahead.start()
    return files


def _wait(abs_src_path: str) -> None:
    ahead = _ahead.pop(abs_src_path, None)
    if ahead is None:
        return
    ahead.join()
    if ahead.error is not None:
        raise PluginError(f"executing {abs_src_path} failed: {ahead.error}") from ahead.error


def on_pre_page(page, config, files):
    if page.file.abs_src_path:
        _wait(page.file.abs_src_path)  # before mkdocs-jupyter renders the page from the cache
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


def on_page_content(content: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return content
    return book_markup(content, page.file.src_uri)
