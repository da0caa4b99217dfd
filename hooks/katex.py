"""MkDocs hook: render every formula with KaTeX at build time, and ship KaTeX's fonts, cut down.

Rendering. ``pymdownx.arithmatex`` (generic mode) wraps TeX in ``<span class="arithmatex">\\(...\\)</span>``
and ``<div class="arithmatex">\\[...\\]</div>`` (``hooks/notebook.py`` writes the notebook's math in
the same form), each of which ``hooks/search_index.py`` has put in a ``<lossbook-math>``. This hook
replaces each with KaTeX's HTML, so pages need no math JavaScript, math never shifts the layout,
and instant navigation needs no re-rendering. KaTeX's outer element (``<span class="katex">``
inline, ``<span class="katex-display">`` for a display formula) is merged into the
``<lossbook-math>``, which takes its class and attributes: one element less a formula. A formula KaTeX cannot
parse fails the build, naming the page. KaTeX comes from the npm registry (``package-lock.json``,
installed into ``node_modules/`` by ``make``).

Only KaTeX's HTML is kept (``output: "html"``), not its hidden MathML copy, which doubled the
elements of every formula: on a long chapter the browser's style and layout work grows with the
element count. Screen readers get the formula from ``role="img"`` and an ``aria-label`` holding
its TeX source, the form in which the book's readers write formulas; the glyphs are presentation.

Fonts. KaTeX's stylesheet is served under ``assets/katex/`` with one source per ``@font-face``:
``fonts/<face>.woff2``. Which faces a formula draws with is worked out when it is rendered: the
stylesheet's rules that set ``font-family``/``font-weight``/``font-style`` (parsed with tinycss2)
are matched against the formula's elements (BeautifulSoup and soupsieve) with their cascade and
inheritance. Each page preloads the faces that the formulas drawn at load draw with, so the math
never shifts when they arrive (``overrides/main.html`` shows the text once they have); the faces
drawn only by formulas in blocks the browser skips off screen (``lossbook-skip``,
``hooks/offscreen.py``) are named in ``<meta name="lossbook-later-fonts">`` and fetched after the
load event, when no formula needs them yet: fetched before the first paint, they delayed it for
nothing (Lighthouse counts every request that ends before the largest paint in that paint's time). After the build each face some page uses is cut down to the characters the site's
math draws, with fontTools from KaTeX's TrueType file, and written as WOFF2 (fontTools compresses
it with the brotli package; a third smaller than WOFF, and the text waits for these fonts). Faces no page uses are not written: if the analysis ever missed
one, the browser would ask for a missing file and the browser tests (no failed requests) fail,
instead of a formula silently changing typeface.

Caches. Rendered formulas (HTML, faces, characters) are kept in ``.cache/katex/``, keyed by the
KaTeX version and this hook's sources, so a rebuild starts no Node process; cut fonts are kept in
``.cache/katex-fonts/``. The state of one build lives in ``_build``, created in ``on_pre_build``
and dropped in ``on_post_build``: nothing outlives a build of ``mkdocs serve`` in memory.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import logging
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import soupsieve
import tinycss2
from bs4 import BeautifulSoup, NavigableString
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parent.parent
KATEX = ROOT / "node_modules" / "katex"
KATEX_DIST = KATEX / "dist"
RENDERER = Path(__file__).with_name("katex_render.mjs")
CACHE = ROOT / ".cache" / "katex"
FONT_CACHE = ROOT / ".cache" / "katex-fonts"
FONT_DIR = "assets/katex/fonts"
STYLESHEET = "assets/katex/katex.min.css"
FONT_PROPERTIES = ("font-family", "font-weight", "font-style")
WEIGHTS = {"normal": 400, "bold": 700}

MATH = re.compile(
    r'<lossbook-math(?P<wrapper>[^>]*)>'
    r'<(?P<tag>span|div) class="arithmatex">(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])</(?P=tag)>',
    re.DOTALL,
)
UNWRAPPED = re.compile(r'<(?:span|div) class="arithmatex">')
OUTER = re.compile(r'<span (?P<attributes>[^>]*)>(?P<inner>.*)</span>', re.DOTALL)  # KaTeX's outer element
CLASS = re.compile(r'\sclass="(?P<names>[^"]*)"')

Face = tuple[str, int, str]  # (family, weight, style) as CSS font matching sees it


# --- KaTeX's stylesheet: its font faces and the rules that pick them (tinycss2) ---------------

def _text(tokens) -> str:
    return tinycss2.serialize(tokens).strip()


def _weight(value: str) -> int:
    return WEIGHTS.get(value) or int(value)


def _font_shorthand(tokens) -> dict[str, str]:
    """``font: normal 1.21em KaTeX_Main, serif`` -> style/weight before the size, family after it."""
    found: dict[str, str] = {}
    values = [t for t in tokens if t.type not in ("whitespace", "comment")]
    size = next(i for i, t in enumerate(values) if t.type in ("dimension", "percentage"))
    for token in values[:size]:
        if token.type == "ident" and token.lower_value == "italic":
            found["font-style"] = "italic"
        elif (token.type == "ident" and token.lower_value == "bold") or token.type == "number":
            found["font-weight"] = str(token.value if token.type == "ident" else int(token.value))
    family = values[size + 1] if size + 1 < len(values) and values[size + 1].type != "literal" else values[size + 2]
    found["font-family"] = family.value
    found.setdefault("font-weight", "400")
    found.setdefault("font-style", "normal")
    return found


@dataclass
class Rule:
    order: int
    specificity: tuple[int, int]  # (classes, type selectors): KaTeX's selectors use no ids
    selector: soupsieve.SoupSieve
    subject: frozenset[str]  # classes the matched element itself must have
    declarations: dict[str, str]


def _split_selectors(prelude) -> list[list]:
    selectors, current = [], []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append(current)
            current = []
        else:
            current.append(token)
    return selectors + [current]


def _rule(tokens, order: int, declarations: dict[str, str]) -> Rule | None:
    try:
        selector = soupsieve.compile(_text(tokens))
    except soupsieve.SelectorSyntaxError:
        return None  # pseudo-elements (::before): they draw no text of the formula
    subject: set[str] = set()
    classes = types = 0
    previous = None
    for token in tokens:
        if token.type == "whitespace" or (token.type == "literal" and token.value in (">", "+", "~")):
            subject = set()
        elif token.type == "ident" and previous is not None and previous.type == "literal" and previous.value == ".":
            subject.add(token.value)
            classes += 1
        elif token.type == "ident":
            types += 1
        elif token.type == "literal" and token.value == ":":
            return None  # :not(), :first-child...: no KaTeX font rule uses them
        previous = token
    return Rule(order, (classes, types), selector, frozenset(subject), declarations)


@dataclass
class KatexStyles:
    """KaTeX's ``@font-face`` rules and the style rules that set font properties."""

    faces: dict[Face, str]  # -> font file stem, e.g. "KaTeX_Main-Regular"
    rules_by_class: dict[str, list[Rule]]
    # Whether an element's font follows from the tags and classes of it and its ancestors alone:
    # true when no selector looks at siblings, attributes or pseudo-classes (KaTeX's do not). Then
    # the font found for one such path is reused for every element on the same path (the matching
    # was most of a cold build's formula time), in ``_fonts``, which lives as long as this object:
    # one build.
    by_path: bool = False
    _fonts: dict[tuple, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, css: str) -> KatexStyles:
        faces: dict[Face, str] = {}
        rules: list[Rule] = []
        for order, node in enumerate(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)):
            declarations = [
                d for d in tinycss2.parse_declaration_list(node.content or [], skip_comments=True, skip_whitespace=True)
                if d.type == "declaration"
            ]
            values = {d.lower_name: d.value for d in declarations}
            if node.type == "at-rule" and node.lower_at_keyword == "font-face":
                urls = [t.value for t in values["src"] if t.type == "url" and t.value.endswith(".woff2")]
                face = (_text(values["font-family"]).strip('"'), _weight(_text(values["font-weight"])), _text(values["font-style"]))
                faces[face] = Path(urls[0]).stem
            elif node.type == "qualified-rule":
                fonts = {name: _text(value).replace('"', "") for name, value in values.items() if name in FONT_PROPERTIES}
                if "font" in values:
                    fonts = {**_font_shorthand(values["font"]), **fonts}
                if not fonts:
                    continue
                for tokens in _split_selectors(node.prelude):
                    rule = _rule(tokens, order, fonts)
                    if rule is not None:
                        rules.append(rule)
        rules.sort(key=lambda rule: (rule.specificity, rule.order))  # the cascade: later wins
        by_class: dict[str, list[Rule]] = {}
        for rule in rules:
            key = min(rule.subject) if rule.subject else ""
            by_class.setdefault(key, []).append(rule)
        by_path = not any(set(rule.selector.pattern) & set("+~[:") for rule in rules)
        return cls(faces, by_class, by_path)

    def face_file(self, family: str, weight: int, style: str) -> str | None:
        """The font file a browser picks for the request (CSS font matching, for KaTeX's faces)."""
        candidates = [(w, s) for (f, w, s) in self.faces if f == family]
        if not candidates:
            return None
        styles = [s for _, s in candidates]
        wanted_style = style if style in styles else ("normal" if "normal" in styles else styles[0])
        weights = [w for w, s in candidates if s == wanted_style]
        best = min(weights, key=lambda w: (abs(w - weight), -w if weight > 500 else w))
        return self.faces[(family, best, wanted_style)]

    def analyse(self, formula: str) -> tuple[set[str], set[str]]:
        """(font files the formula's text is drawn with, the characters it draws)."""
        files: set[str] = set()
        chars: set[str] = set()
        root = BeautifulSoup(formula, "html.parser").find(class_="katex")

        def walk(element, inherited: dict[str, str], path: tuple) -> None:
            classes = set(element.get("class") or ())
            path = (*path, (element.name, frozenset(classes)))
            font = self._fonts.get(path) if self.by_path else None
            if font is None:
                candidates = [r for key in ("", *classes) for r in self.rules_by_class.get(key, ())]
                font = dict(inherited)
                for rule in sorted(candidates, key=lambda rule: (rule.specificity, rule.order)):
                    if rule.subject <= classes and rule.selector.match(element):
                        font.update(rule.declarations)
                if self.by_path:
                    self._fonts[path] = font
            for child in element.children:
                if isinstance(child, NavigableString):
                    if child.strip() and "font-family" in font:
                        chars.update(str(child))
                        family = font["font-family"].split(",")[0].strip()
                        name = self.face_file(family, _weight(font["font-weight"]), font["font-style"])
                        if name:
                            files.add(name)
                elif child.name not in ("svg", "math"):  # KaTeX's SVGs draw lines, not text
                    walk(child, font, path)

        walk(root, {}, ())
        return files, chars


# --- Rendering ---------------------------------------------------------------------------------

class KatexRenderer:
    """One long-lived Node process for the formulas of one build that the cache lacks (a page's sent at once)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None

    def render_all(self, formulas: list[tuple[str, bool]]) -> list[dict]:
        """The answers for ``formulas`` (TeX, display), in order: all sent at once, not one per round trip."""
        if self._process is None:
            if shutil.which("node") is None:
                raise PluginError("Node.js is needed to render the math: install nodejs, then run make")
            self._process = subprocess.Popen(
                ["node", str(RENDERER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True, encoding="utf-8", cwd=ROOT,
            )
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin and stdout

        def send() -> None:  # in a thread: node's answers are read while the requests are written
            try:
                stdin.write("".join(json.dumps({"tex": tex, "display": display}) + "\n" for tex, display in formulas))
                stdin.flush()
            except OSError:
                pass  # node stopped: reported below, when its answers run out

        sender = threading.Thread(target=send)
        sender.start()
        answers = []
        for _ in formulas:
            line = stdout.readline()
            if not line:
                break
            answers.append(json.loads(line))
        sender.join()
        if len(answers) < len(formulas):
            raise PluginError("the KaTeX renderer (node hooks/katex_render.mjs) stopped unexpectedly")
        return answers

    def close(self) -> None:
        if self._process is not None:
            self._process.stdin.close()
            self._process.wait(timeout=10)
            self._process = None


def _cache_key() -> str:
    digest = hashlib.sha256()
    digest.update((KATEX / "package.json").read_bytes())  # KaTeX's version
    for source in (Path(__file__), RENDERER):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Build:
    """Everything one build needs and learns; nothing of it is kept for the next build."""

    cache_file: Path
    formulas: dict[str, dict] = field(default_factory=dict)  # "d|tex" / "i|tex" -> html, fonts, chars
    used: set[str] = field(default_factory=set)  # the keys this build rendered: what the cache keeps
    new: int = 0
    renderer: KatexRenderer = field(default_factory=KatexRenderer)
    rendered: dict[str, dict] = field(default_factory=dict)  # KaTeX's answers for the page being built
    page_fonts: dict[str, set[str]] = field(default_factory=dict)  # page URL -> font files
    drawn_fonts: dict[str, set[str]] = field(default_factory=dict)  # page URL -> those drawn at load
    chars: set[str] = field(default_factory=set)
    _styles: KatexStyles | None = None

    @property
    def styles(self) -> KatexStyles:
        """KaTeX's stylesheet, parsed when a formula is missing from the cache (0.1 s)."""
        if self._styles is None:
            self._styles = KatexStyles.parse((KATEX_DIST / "katex.min.css").read_text(encoding="utf-8"))
        return self._styles

    def render_missing(self, formulas: list[tuple[str, bool]]) -> None:
        """Render at once the formulas of a page that the cache lacks (``formula`` then uses them)."""
        missing = list(dict.fromkeys((tex, display) for tex, display in formulas if _key(tex, display) not in self.formulas))
        if missing:
            for (tex, display), answer in zip(missing, self.renderer.render_all(missing)):
                self.rendered[_key(tex, display)] = answer

    def formula(self, tex: str, display: bool, where: str) -> dict:
        key = _key(tex, display)
        if key not in self.formulas:
            if key not in self.rendered:  # a formula on its own, outside a page's batch
                self.render_missing([(tex, display)])
            answer = self.rendered.pop(key)
            if "error" in answer:
                raise PluginError(f"KaTeX cannot render {tex!r} on {where}: {answer['error']}")
            fonts, chars = self.styles.analyse(answer["html"])
            label = html.escape(tex, quote=True)
            rendered = answer["html"].replace('<span class="katex">', f'<span class="katex" role="img" aria-label="{label}">', 1)
            self.formulas[key] = {
                # KaTeX hides its HTML from screen readers (aria-hidden); inside role="img" it is
                # hidden anyway (an image's content is presentational): 20 bytes less a formula.
                "html": rendered.replace('<span class="katex-html" aria-hidden="true">', '<span class="katex-html">', 1),
                "fonts": sorted(fonts),
                "chars": "".join(sorted(chars)),
            }
            self.new += 1
        self.used.add(key)
        return self.formulas[key]


_build: Build | None = None


def _key(tex: str, display: bool) -> str:
    return f"{'d' if display else 'i'}|{tex}"


def on_pre_build(config) -> None:
    global _build
    if not KATEX_DIST.exists():
        raise PluginError(f"{KATEX_DIST} is missing: run 'npm ci' (make does this)")
    cache_file = CACHE / f"{_cache_key()}.json"
    _build = Build(cache_file)
    if cache_file.exists():
        _build.formulas = json.loads(cache_file.read_text(encoding="utf-8"))


def on_files(files: Files, config) -> Files:
    """KaTeX's stylesheet, each ``@font-face`` pointing at the cut-down WOFF the build writes."""
    css = tinycss2.parse_stylesheet((KATEX_DIST / "katex.min.css").read_text(encoding="utf-8"))
    for node in css:
        if node.type == "at-rule" and node.lower_at_keyword == "font-face":
            declarations = tinycss2.parse_declaration_list(node.content, skip_comments=True, skip_whitespace=True)
            stem = next(Path(t.value).stem for d in declarations if d.type == "declaration" and d.lower_name == "src"
                        for t in d.value if t.type == "url")
            kept = [f"{d.name}:{_text(d.value)}" for d in declarations if d.type == "declaration" and d.lower_name != "src"]
            node.content = tinycss2.parse_blocks_contents(";".join([f'src:url(fonts/{stem}.woff2) format("woff2")', *kept]))
    files.append(File.generated(config, STYLESHEET, content=tinycss2.serialize(css)))
    return files


def on_page_content(content: str, page, config, files) -> str:
    assert _build is not None
    fonts = _build.page_fonts.setdefault(page.url, set())
    drawn = _build.drawn_fonts.setdefault(page.url, set())
    # Whether each formula, in page order, is in a block skipped off screen (hooks/offscreen.py).
    skipped = iter(page.lossbook_skipped_formulas)

    def tex_of(match: re.Match[str]) -> tuple[str, bool]:
        display = match["display"] is not None
        return html.unescape(match["display"] if display else match["inline"]).strip(), display

    _build.render_missing([tex_of(match) for match in MATH.finditer(content)])

    def replace(match: re.Match[str]) -> str:
        tex, display = tex_of(match)
        formula = _build.formula(tex, display, page.file.src_uri)
        fonts.update(formula["fonts"])
        later = next(skipped, None)
        if later is None:
            raise PluginError(f"{page.file.src_uri}: hooks/offscreen.py saw fewer formulas than this hook renders")
        if not later:
            drawn.update(formula["fonts"])
        _build.chars.update(formula["chars"])
        return _merged(match["wrapper"], formula["html"])

    content = MATH.sub(replace, content)
    if next(skipped, None) is not None:
        raise PluginError(f"{page.file.src_uri}: hooks/offscreen.py saw more formulas than this hook rendered")
    if UNWRAPPED.search(content):
        raise PluginError(f"{page.file.src_uri}: a formula outside a <lossbook-math> (hooks/search_index.py wraps each)")
    return content


def _merged(wrapper: str, formula: str) -> str:
    """``<lossbook-math{wrapper}>`` with KaTeX's outer element merged into it: its classes first,
    then the wrapper's; its other attributes after the wrapper's; then what it held."""
    outer = OUTER.fullmatch(formula)
    if outer is None:
        raise PluginError(f"KaTeX's HTML does not have one outer <span>: {formula[:80]!r}")
    names = CLASS.search(" " + outer["attributes"])["names"]
    others = CLASS.sub("", " " + outer["attributes"])
    found = CLASS.search(wrapper)
    if found:
        wrapper = f'{wrapper[:found.start("names")]}{names} {found["names"]}{wrapper[found.end("names"):]}'
    else:
        wrapper += f' class="{names}"'
    return f"<lossbook-math{wrapper}{others}>{outer['inner']}"


def on_post_page(output: str, page, config) -> str:
    """Preload the fonts the math drawn at load draws with; name the others, fetched after load."""
    assert _build is not None
    drawn = _build.drawn_fonts.get(page.url, set())
    later = sorted(_build.page_fonts.get(page.url, set()) - drawn)
    links = "".join(
        f'<link rel="preload" href="{get_relative_url(f"{FONT_DIR}/{name}.woff2", page.url)}" as="font" type="font/woff2" crossorigin>'
        for name in sorted(drawn)
    )
    if later:
        links += f'<meta name="lossbook-later-fonts" content="{" ".join(later)}">'
    return output.replace("</head>", links + "</head>", 1) if links else output


def _cut_font(stem: str, chars: set[str]) -> Path:
    """KaTeX's font ``stem`` cut down to ``chars``, as WOFF2 (cached)."""
    source = KATEX_DIST / "fonts" / f"{stem}.ttf"
    text = "".join(sorted(chars))
    version = importlib.metadata.version("fonttools")
    key = hashlib.sha256(f"{version}|{hashlib.sha256(source.read_bytes()).hexdigest()}|{text}".encode()).hexdigest()[:16]
    cached = FONT_CACHE / f"{stem}.{key}.woff2"
    if not cached.exists():
        from fontTools import subset  # imported only on a cache miss: 0.1 s

        logging.getLogger("fontTools").setLevel(logging.ERROR)  # KaTeX's fonts carry 1970 timestamps
        options = subset.Options()
        options.flavor = "woff2"
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


def _save_cache(build: Build) -> None:
    if not build.new and build.used == build.formulas.keys():
        return
    kept = {key: build.formulas[key] for key in sorted(build.used)}  # formulas no page has any more go
    build.cache_file.parent.mkdir(parents=True, exist_ok=True)
    partial = build.cache_file.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    partial.replace(build.cache_file)  # atomic: parallel builds never read half a file


def on_post_build(config) -> None:
    global _build
    build, _build = _build, None
    assert build is not None
    build.renderer.close()
    _save_cache(build)
    fonts = Path(config["site_dir"]) / FONT_DIR
    fonts.mkdir(parents=True, exist_ok=True)
    for stale in fonts.glob("*.woff*"):  # from an earlier build into the same folder
        stale.unlink()
    for stem in sorted(set().union(*build.page_fonts.values())):
        shutil.copyfile(_cut_font(stem, build.chars), fonts / f"{stem}.woff2")


def on_build_error(error) -> None:
    global _build
    if _build is not None:
        _build.renderer.close()
    _build = None
