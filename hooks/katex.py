"""MkDocs hook: render every formula to HTML with KaTeX at build time.

``pymdownx.arithmatex`` (generic mode) wraps TeX in ``<span class="arithmatex">\\(...\\)</span>``
and ``<div class="arithmatex">\\[...\\]</div>``. This hook replaces each with KaTeX's HTML, so
pages need no math JavaScript, math never shifts the layout, and instant navigation needs no
re-rendering. KaTeX itself comes from the npm registry (``package-lock.json``, installed into
``node_modules/`` by ``make``); its stylesheet and woff2 fonts are served from the site under
``assets/katex/``. A formula KaTeX cannot parse fails the build, naming the page.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
RENDERER = Path(__file__).with_name("katex_render.mjs")

MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])</(?P=tag)>',
    re.DOTALL,
)
# Keep only the woff2 source of each @font-face: every browser that runs the site reads it.
OTHER_FONT_FORMATS = re.compile(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')


class KatexRenderer:
    """One long-lived Node process per build, fed one formula per line."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._cache: dict[tuple[str, bool], str] = {}

    def render(self, tex: str, display: bool, where: str) -> str:
        key = (tex, display)
        if key not in self._cache:
            answer = self._ask({"tex": tex, "display": display})
            if "error" in answer:
                raise PluginError(f"KaTeX cannot render {tex!r} on {where}: {answer['error']}")
            self._cache[key] = answer["html"]
        return self._cache[key]

    def _ask(self, request: dict) -> dict:
        if self._process is None:
            if shutil.which("node") is None:
                raise PluginError("Node.js is needed to render the math: install nodejs, then run make")
            if not KATEX_DIST.exists():
                raise PluginError(f"{KATEX_DIST} is missing: run 'npm ci' (make does this)")
            self._process = subprocess.Popen(
                ["node", str(RENDERER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True, encoding="utf-8", cwd=ROOT,
            )
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise PluginError("the KaTeX renderer (node hooks/katex_render.mjs) stopped unexpectedly")
        return json.loads(line)

    def close(self) -> None:
        if self._process is not None:
            self._process.stdin.close()
            self._process.wait(timeout=10)
            self._process = None


_renderer = KatexRenderer()


def render_math(text: str, where: str) -> str:
    """Replace every arithmatex element in ``text`` by KaTeX HTML."""

    def replace(match: re.Match[str]) -> str:
        display = match["display"] is not None
        tex = html.unescape(match["display"] if display else match["inline"])
        return _renderer.render(tex.strip(), display, where)

    return MATH.sub(replace, text)


# Notebook pages (mkdocs-jupyter): nbconvert leaves Jupyter's $...$ and $$...$$ as text in the
# HTML of Markdown cells, and adds a MathJax loader and a Mermaid loader (which imports from a
# CDN). The math is rendered here like every other page's; the loaders are dropped, since the
# page then needs no math JavaScript and has no Mermaid diagrams.
NOTEBOOK_MARKDOWN_CELL = re.compile(
    r'(?P<open><div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>)(?P<body>.*?)(?P<close></div>)',
    re.DOTALL,
)
NOTEBOOK_CODE = re.compile(r"(<(code|pre)\b.*?</\2>)", re.DOTALL)  # left alone: $ in code is not math
DOLLAR_MATH = re.compile(
    r"(?<!\\)\$\$(?P<display>.+?)(?<!\\)\$\$"
    r"|(?<![\\$])\$(?![\s$])(?P<inline>[^$]+?)(?<![\\\s])\$",
    re.DOTALL,
)
NOTEBOOK_LOADERS = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->"
    r'|<script type="module">(?:(?!</script>).)*?\.jp-Mermaid.*?</script>',
    re.DOTALL,
)


def render_notebook_math(content: str, where: str) -> str:
    """Render the $-delimited math of a notebook page's Markdown cells; drop nbconvert's loaders."""

    def replace(match: re.Match[str]) -> str:
        display = match["display"] is not None
        tex = html.unescape(match["display"] if display else match["inline"])
        return _renderer.render(tex.strip(), display, where)

    def cell(match: re.Match[str]) -> str:
        parts = NOTEBOOK_CODE.split(match["body"])
        # split() with two groups yields [text, code, tag name, text, ...]: render text parts only
        body = "".join(
            DOLLAR_MATH.sub(replace, part) if index % 3 == 0 else part
            for index, part in enumerate(parts)
            if index % 3 != 2
        )
        return match["open"] + body + match["close"]

    return NOTEBOOK_LOADERS.sub("", NOTEBOOK_MARKDOWN_CELL.sub(cell, content))


def on_page_content(content: str, page, config, files) -> str:
    if page.file.src_uri.endswith(".ipynb"):
        content = render_notebook_math(content, page.file.src_uri)
    return render_math(content, page.file.src_uri)


def on_files(files: Files, config) -> Files:
    if not KATEX_DIST.exists():
        raise PluginError(f"{KATEX_DIST} is missing: run 'npm ci' (make does this)")
    css = OTHER_FONT_FORMATS.sub("", (KATEX_DIST / "katex.min.css").read_text(encoding="utf-8"))
    files.append(File.generated(config, "assets/katex/katex.min.css", content=css))
    for font in sorted((KATEX_DIST / "fonts").glob("*.woff2")):
        files.append(File.generated(config, f"assets/katex/fonts/{font.name}", abs_src_path=str(font)))
    return files


def on_post_build(config) -> None:
    _renderer.close()
