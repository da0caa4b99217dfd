"""MkDocs hook: keep each page light (the budget of tests/test_budget.py) without changing it.

Listed after ``hooks/katex.py`` in ``mkdocs.yml``, so it sees the rendered math.

KaTeX fonts. ``hooks/katex.py`` copies KaTeX's stylesheet and its 20 woff2 fonts into the
build; most pages draw with four of them. For each finished page (``on_post_page``, so math
rendered by any earlier step counts) this works out which ``@font-face`` of ``katex.min.css``
every character of KaTeX's visible HTML is drawn with (KaTeX's rules that set
``font-family``/``font-weight``/``font-style``, applied with their cascade and inheritance),
and adds ``<link rel="preload">`` for those fonts to the page's head, so the fonts arrive with
the stylesheets and the math never shifts when they load. After the build (``on_post_build``)
each font in use is cut down to the characters the site's math draws (all of them, whichever
font the analysis gives them: the cut never depends on it), with fontTools from KaTeX's TrueType
file, written as WOFF (fontTools writes WOFF2 only with the brotli package); the stylesheet's
``@font-face`` points at it, and every woff2 file is deleted. The other ``@font-face`` rules stay:
if the analysis ever missed a font, the browser would ask for a deleted file and the browser
tests (no failed requests) would fail, instead of the formula silently changing typeface.
Cut fonts are cached in ``.cache/katex-fonts/``.

Figures. Every page shows each figure twice, ``#only-light`` and ``#only-dark``, one of them
hidden. Images get ``loading="lazy"`` (a hidden image is then never fetched, and a figure
further down is fetched as the reader scrolls to it) and ``width``/``height`` from the SVG
itself, so the space is reserved and nothing moves when a figure arrives.

Notebook pages. mkdocs-jupyter inlines JupyterLab's whole stylesheet (about 600 kB) into the
page. Its rules whose selectors name a class no element of the page has are dropped, then the
custom properties no remaining rule uses (JupyterLab's icon set, its colour palettes).

Search. Material's search index, fetched by every page, holds the text of every page. The math
(KaTeX's HTML spells each formula three times: MathML, TeX annotation and glyphs) and the code
blocks are marked ``data-search-exclude``: prose, headings and inline code stay searchable.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import posixpath
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parent.parent
KATEX_CSS = ROOT / "node_modules" / "katex" / "dist" / "katex.min.css"
KATEX_TTF = ROOT / "node_modules" / "katex" / "dist" / "fonts"
FONT_DIR = "assets/katex/fonts"
FONT_CACHE = ROOT / ".cache" / "katex-fonts"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
WEIGHTS = {"normal": 400, "bold": 700}

Compound = tuple[str | None, frozenset[str]]  # (tag or None, classes)


def _declarations(body: str) -> dict[str, str]:
    found = {}
    for declaration in body.split(";"):
        name, _, value = declaration.partition(":")
        if name.strip() in ("font-family", "font-weight", "font-style"):
            found[name.strip()] = value.replace('"', "").strip()
    return found


def _selector(text: str) -> tuple[list[Compound], list[str]] | None:
    """``.katex .a.b>span`` -> compounds [(None,{katex}), (None,{a,b}), ("span",{})], combinators."""
    parts = re.split(r"\s*(>)\s*|\s+", text.strip())
    compounds, combinators = [], []
    for index, part in enumerate(parts):
        if index % 2:  # a captured combinator: ">" or None (descendant)
            combinators.append(part or " ")
            continue
        match = re.fullmatch(r"([a-z][a-z0-9]*)?((?:\.[\w-]+)*)", part or "")
        if not match or not part:
            return None
        compounds.append((match[1], frozenset(filter(None, match[2].split(".")))))
    return compounds, combinators


def _parse_stylesheet(css: str):
    faces: dict[tuple[str, int, str], str] = {}
    for body in re.findall(r"@font-face\{([^}]*)\}", css):
        family = re.search(r"font-family:\"?([\w-]+)", body)[1]
        weight = WEIGHTS.get(w := re.search(r"font-weight:(\w+)", body)[1], None) or int(w)
        style = re.search(r"font-style:(\w+)", body)[1]
        faces[(family, weight, style)] = re.search(r"url\(fonts/([^)]+\.woff2)\)", body)[1]
    rules = []
    for order, (selectors, body) in enumerate(re.findall(r"([^{}@]+)\{([^{}]*)\}", css)):
        declarations = _declarations(body)
        if not declarations:
            continue
        for text in selectors.split(","):
            parsed = _selector(text)
            if parsed and parsed[0][0] == (None, frozenset({"katex"})):
                specificity = sum(len(c) + (t is not None) for t, c in parsed[0])
                rules.append((specificity, order, parsed, declarations))
    rules.sort(key=lambda rule: rule[:2])
    return faces, rules


def _matches(compounds: list[Compound], combinators: list[str], chain: list[Compound]) -> bool:
    """Does the element at the end of ``chain`` (its ancestors before it) match the selector?"""

    def fits(compound: Compound, element: Compound) -> bool:
        return (compound[0] is None or compound[0] == element[0]) and compound[1] <= element[1]

    def match(ci: int, ei: int) -> bool:
        if not fits(compounds[ci], chain[ei]):
            return False
        if ci == 0:
            return True
        if combinators[ci - 1] == ">":
            return ei > 0 and match(ci - 1, ei - 1)
        return any(match(ci - 1, ancestor) for ancestor in range(ei - 1, -1, -1))

    return match(len(compounds) - 1, len(chain) - 1)


class _FontCollector(HTMLParser):
    """Collect the (family, weight, style) each text run inside ``.katex-html`` is drawn with."""

    def __init__(self, rules) -> None:
        super().__init__(convert_charrefs=True)
        self.rules = rules
        self.stack: list[tuple[str, Compound, dict | None]] = []  # (tag, element, font or None)
        self.used: set[tuple[str, int, str]] = set()
        self.chars: set[str] = set()

    def handle_starttag(self, tag: str, attrs) -> None:
        classes = frozenset((dict(attrs).get("class") or "").split())
        parent = self.stack[-1][2] if self.stack else None
        font = None
        if parent is not None and "katex-mathml" not in classes:
            chain = [element for _, element, f in self.stack if f is not None] + [(tag, classes)]
            font = dict(parent)
            for _, _, (compounds, combinators), declarations in self.rules:
                last_tag, last_classes = compounds[-1]  # cheap test of the element itself first
                if last_classes <= classes and last_tag in (None, tag) and _matches(compounds, combinators, chain):
                    font.update(declarations)
        elif parent is None and "katex" in classes:
            font = {"font-family": "KaTeX_Main", "font-weight": "400", "font-style": "normal"}
        if tag not in VOID:
            self.stack.append((tag, (tag, classes), font))

    def handle_startendtag(self, tag: str, attrs) -> None:
        pass  # <path/>, <line/> inside KaTeX's SVGs: no text

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        font = self.stack[-1][2] if self.stack else None
        if font is not None and data:
            self.chars.update(data)
            weight = font["font-weight"]
            self.used.add((font["font-family"].split(",")[0].strip(), WEIGHTS.get(weight) or int(weight), font["font-style"]))


def _face_file(faces: dict, family: str, weight: int, style: str) -> str | None:
    """The font file a browser picks for the request (CSS font matching, simplified)."""
    candidates = [(w, s) for (f, w, s) in faces if f == family]
    if not candidates:
        return None
    styles = [s for _, s in candidates]
    wanted_style = style if style in styles else ("normal" if "normal" in styles else styles[0])
    weights = [w for w, s in candidates if s == wanted_style]
    best = min(weights, key=lambda w: (abs(w - weight), -w if weight > 500 else w))
    return faces[(family, best, wanted_style)]


_faces, _rules = ({}, []) if not KATEX_CSS.exists() else _parse_stylesheet(KATEX_CSS.read_text(encoding="utf-8"))
_used_files: set[str] = set()
_used_chars: set[str] = set()


KATEX_START = re.compile(r'<span class="katex"[^>]*>')
SPAN_TAG = re.compile(r"<span\b|</span>")
MATHML = re.compile(r'<span class="katex-mathml">.*?</math></span>', re.DOTALL)
_formula_cache: dict[str, tuple[frozenset, frozenset]] = {}  # kept across `mkdocs serve` rebuilds


def _formulas(html: str):
    """Each ``<span class="katex">...</span>`` of the page, its MathML copy left out."""
    for start in KATEX_START.finditer(html):
        depth = 0
        for tag in SPAN_TAG.finditer(html, start.start()):
            depth += 1 if tag[0] == "<span" else -1
            if depth == 0:
                yield MATHML.sub("", html[start.start():tag.end()])
                break


def _analyse_formula(formula: str) -> tuple[frozenset, frozenset]:
    if formula not in _formula_cache:
        collector = _FontCollector(_rules)
        collector.feed(formula)
        collector.close()
        _formula_cache[formula] = frozenset(collector.used), frozenset(collector.chars)
    return _formula_cache[formula]


def analyse(html: str) -> tuple[set[str], set[str]]:
    """(KaTeX woff2 files the math in ``html`` is drawn with, the characters it draws)."""
    faces: set[tuple[str, int, str]] = set()
    chars: set[str] = set()
    for formula in _formulas(html):
        used, drawn = _analyse_formula(formula)
        faces |= used
        chars |= drawn
    return {name for face in faces if (name := _face_file(_faces, *face))}, chars


def fonts_in(html: str) -> set[str]:
    """Names of the KaTeX woff2 files the math in ``html`` is drawn with."""
    return analyse(html)[0]


def served_name(woff2: str) -> str:
    """The file the site serves for KaTeX's ``woff2``: its cut-down WOFF."""
    return woff2.removesuffix(".woff2") + ".woff"


def on_pre_build(config) -> None:
    _used_files.clear()
    _used_chars.clear()


IMG = re.compile(r"<img\b(?P<attributes>[^>]*?)\s*/?>")
SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="(?P<w>[\d.]+)(?P<wu>pt|px)?"[^>]*?\sheight="(?P<h>[\d.]+)(?P<hu>pt|px)?"')
PX_PER_UNIT = {"pt": 4 / 3, "px": 1.0, None: 1.0}
SEARCH_EXCLUDED = re.compile(r'<(?P<tag>span|div) class="(?P<class>katex-display|katex|language-[\w-]+ highlight)">')


def _svg_size(files, url: str) -> tuple[int, int] | None:
    file = files.get_file_from_path(url)
    if file is None or not url.endswith(".svg"):
        return None
    match = SVG_SIZE.search(file.content_string[:2000])
    if not match:
        return None
    return round(float(match["w"]) * PX_PER_UNIT[match["wu"]]), round(float(match["h"]) * PX_PER_UNIT[match["hu"]])


def _lazy_image(match: re.Match[str], page, files) -> str:
    attributes = match["attributes"]
    if "loading=" in attributes:
        return match[0]
    extra = ' loading="lazy" decoding="async"'
    src = re.search(r'\ssrc="([^"]+)"', attributes)
    if src and "://" not in src[1] and "width=" not in attributes:
        url = posixpath.normpath(posixpath.join(posixpath.dirname(page.url.rstrip("/") + "/x"), src[1].split("#")[0]))
        size = _svg_size(files, url.lstrip("/"))
        if size:
            extra += f' width="{size[0]}" height="{size[1]}"'
    return f"<img{attributes}{extra} />"


def on_page_content(html: str, page, config, files) -> str:
    html = IMG.sub(lambda match: _lazy_image(match, page, files), html)
    return SEARCH_EXCLUDED.sub(lambda m: f'<{m["tag"]} class="{m["class"]}" data-search-exclude>', html)


def _css_statements(css: str) -> list[tuple[str, str | None]]:
    """Top-level statements of a stylesheet: (prelude, block body) or (statement, None)."""
    statements, i, n = [], 0, len(css)
    while i < n:
        start, depth, quote = i, 0, None
        while i < n:
            c = css[i]
            if quote:
                if c == "\\":
                    i += 1
                elif c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif css.startswith("/*", i):
                i = css.find("*/", i + 2)
                i = n if i < 0 else i + 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif depth == 0 and c == ";":
                statements.append((css[start:i + 1], None))
                i += 1
                break
            elif depth == 0 and c == "{":
                body_start, braces = i + 1, 1
                i += 1
                while i < n and braces:
                    c = css[i]
                    if quote:
                        if c == "\\":
                            i += 1
                        elif c == quote:
                            quote = None
                    elif c in "\"'":
                        quote = c
                    elif c == "{":
                        braces += 1
                    elif c == "}":
                        braces -= 1
                    i += 1
                statements.append((css[start:body_start - 1], css[body_start:i - 1]))
                break
            i += 1
        else:
            if css[start:].strip():
                statements.append((css[start:], None))
    return statements


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, quote, start = [], 0, None, 0
    for i, c in enumerate(text):
        if quote:
            quote = None if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _selector_classes(selector: str) -> set[str]:
    selector = re.sub(r"\[[^\]]*\]|:not\((?:[^()]|\([^()]*\))*\)", "", selector)
    return set(re.findall(r"\.(-?[_a-zA-Z][\w-]*)", selector))


def _prune_rules(css: str, classes: set[str]) -> str:
    kept = []
    for prelude, body in _css_statements(css):
        head = prelude.strip()
        if body is None:
            kept.append(prelude.strip())
        elif head.startswith(("@media", "@supports", "@layer", "@container", "@document")):
            inner = _prune_rules(body, classes)
            if inner:
                kept.append(f"{head}{{{inner}}}")
        elif head.startswith("@"):
            kept.append(f"{head}{{{body}}}")
        else:
            selectors = [
                sel.strip() for sel in _split_top_level(head, ",")
                if all(c in classes or c.startswith("md-") for c in _selector_classes(sel))
            ]
            if selectors:
                kept.append(f"{','.join(selectors)}{{{body.strip()}}}")
    return "".join(kept)


CUSTOM_PROPERTY = re.compile(r"^\s*(--[\w-]+)\s*:(.*)$", re.DOTALL)


def _prune_custom_properties(css: str, html: str) -> str:
    """Drop ``--name: value`` declarations that no remaining rule (nor the page) refers to."""
    definitions: dict[str, list[str]] = {}

    def walk(text: str, visit) -> str:
        out = []
        for prelude, body in _css_statements(text):
            if body is None:
                out.append(prelude.strip())
            elif prelude.strip().startswith("@") and "{" in body:
                out.append(f"{prelude.strip()}{{{walk(body, visit)}}}")
            else:
                out.append(f"{prelude.strip()}{{{visit(body)}}}")
        return "".join(out)

    def collect(body: str) -> str:
        for declaration in _split_top_level(body, ";"):
            if match := CUSTOM_PROPERTY.match(declaration):
                definitions.setdefault(match[1], []).append(match[2])
        return body

    walk(css, collect)
    plain = re.sub(r"(?<![\w-])--[\w-]+\s*:[^;{}]*", "", css)  # the CSS without custom property definitions
    used = set(re.findall(r"var\(\s*(--[\w-]+)", plain)) | set(re.findall(r"var\(\s*(--[\w-]+)", html))
    pending = list(used)
    while pending:
        for value in definitions.get(pending.pop(), []):
            for name in re.findall(r"var\(\s*(--[\w-]+)", value):
                if name not in used:
                    used.add(name)
                    pending.append(name)

    def prune(body: str) -> str:
        return ";".join(
            d for d in _split_top_level(body, ";")
            if not ((match := CUSTOM_PROPERTY.match(d)) and match[1] not in used)
        )

    return walk(css, prune)


STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.DOTALL)


def trim_inline_css(html: str) -> str:
    """Remove the rules and custom properties of the page's inline stylesheets it does not use."""
    classes = {name for value in re.findall(r'class="([^"]*)"', html) for name in value.split()}
    outside = STYLE.sub("", html)

    def trim(match: re.Match[str]) -> str:
        if len(match[2]) < 2000:
            return match[0]
        css = _prune_rules(match[2], classes)
        return match[1] + _prune_custom_properties(css, outside) + match[3]

    return STYLE.sub(trim, html)


def on_post_page(output: str, page, config) -> str:
    if page.file.src_uri.endswith(".ipynb"):
        output = trim_inline_css(output)
    fonts, chars = analyse(output)
    _used_files.update(fonts)
    _used_chars.update(chars)
    if not fonts:
        return output
    links = "".join(
        f'<link rel="preload" href="{get_relative_url(f"{FONT_DIR}/{served_name(name)}", page.url)}" as="font" type="font/woff" crossorigin>'
        for name in sorted(fonts)
    )
    return output.replace("</head>", links + "</head>", 1)


def _cut_font(woff2: str, chars: set[str]) -> Path:
    """KaTeX's font ``woff2`` cut down to ``chars``, as WOFF (cached)."""
    source = KATEX_TTF / woff2.replace(".woff2", ".ttf")
    text = "".join(sorted(chars))
    version = importlib.metadata.version("fonttools")
    key = hashlib.sha256(f"{version}|{hashlib.sha256(source.read_bytes()).hexdigest()}|{text}".encode()).hexdigest()[:16]
    cached = FONT_CACHE / f"{served_name(woff2)[:-5]}.{key}.woff"
    if not cached.exists():
        from fontTools import subset  # imported only on a cache miss: 0.1 s

        logging.getLogger("fontTools").setLevel(logging.ERROR)  # KaTeX's fonts carry 1970 timestamps
        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["*"]
        options.hinting = False
        options.desubroutinize = True
        font = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        FONT_CACHE.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        subset.save_font(font, str(partial), options)
        partial.replace(cached)  # atomic: parallel builds never read half a file
    return cached


def on_post_build(config) -> None:
    site = Path(config["site_dir"])
    fonts = site / FONT_DIR
    stylesheet = site / "assets" / "katex" / "katex.min.css"
    css = stylesheet.read_text(encoding="utf-8")
    for name in sorted(_used_files):
        shutil.copyfile(_cut_font(name, _used_chars), fonts / served_name(name))
        css = css.replace(f'url(fonts/{name}) format("woff2")', f'url(fonts/{served_name(name)}) format("woff")')
    stylesheet.write_text(css, encoding="utf-8")
    for font in fonts.glob("*.woff2"):
        font.unlink()
