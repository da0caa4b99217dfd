"""MkDocs hook: how the blocks of the text are drawn while the page loads.

Three jobs with one aim, that the text drawn at load costs no more than it must and never moves:
the blocks the browser may skip off screen, a wrapper for each table, and the blocks shown only
once they are parsed whole.

``docs/stylesheets/layout.css`` gives each block marked ``lossbook-skip`` ``content-visibility:
auto`` (issue 13: the browser then styles and lays out only the blocks near the screen). Which
blocks those are is decided here, at build time, so the stylesheet needs no selector that looks
at a block's position or contents (``:nth-child``, ``:nth-last-child``, ``:last-child``,
``:has()``): with those, Chromium restyled every block of the text each time a sibling was added
or moved (after parsing, and when Material wraps a table at load), which a Chrome trace of
losses/binary and the API reference showed as whole-page style recalculations.

A block is marked when it is a child of the page's content or of a ``.doc-contents`` (the API
reference's docstrings), is a paragraph (one that holds no display formula: the formula's margins
collapse through it), list, display formula (``<lossbook-math>``), ``<details>``, admonition, or
a code block's ``<pre>``, and is none of these, which stay drawn:

* the first 10 blocks of the page (on screen as the page loads: a block skipped there would be
  painted once at its estimated height, then at its height, a layout shift), and the first 10
  of the first docstring;
* the last 6 blocks of the page, or, on a page that ends with a docstring, the last 6 blocks of
  that docstring (estimates are on the high side; near the end of the page a skipped block would
  overlap the dark footer for a tool that measures it without drawing it, and axe-core then takes
  the footer for the text's background). Keeping the whole of the API reference's last docstring
  drawn, as this hook first did, drew 554 elements more at load.

Tables. Material wraps each table (``table:not([class])``) in its ``.md-typeset__scrollwrap`` at
load, by taking the table out of the page and putting it back inside the wrapper: the whole table
is styled and laid out again, and Chromium restyled the blocks around it too (the rules on an
element's position among its siblings, and layout.css's ``:has()`` rules, are invalidated by the
move; on the API reference, 27 tables moved at load cost a style recalculation of 65 ms in a
trace without throttling). Every table of the text is therefore written in Material's own
wrapper, where ``overrides/main.html`` makes Material leave it: the page's HTML is what it would
be after Material's move, and nothing moves at load. A table that is itself a block of the text
and is skipped off screen has its wrapper in a skipped ``lossbook-table`` block.

Whole blocks. The browser draws frames while the page is still arriving, and a frame can show a
block cut where the parser paused. Most blocks then only grow downwards, into space nothing else
has yet. Some move what is already drawn as the rest of them arrives: a display formula is
centred, so each symbol that arrives moves the ones before it to the left; an inline formula
never breaks across lines, so one begun at a line's end moves whole to the next line once it
is too long; a table's columns are as wide as their widest cell so far, so a row that arrives
can widen or narrow every column above it. Each formula's ``<lossbook-math>`` and each table's
outer wrapper is therefore marked ``lossbook-whole`` and ends with an empty ``<lossbook-end>``
element; layout.css hides a ``lossbook-whole`` element (it still takes its space) until its
``<lossbook-end>`` has been parsed. (``hooks/katex.py`` makes the ``<lossbook-math>`` KaTeX's own
outer element, so the marker adds no element to a formula.) A browser without ``:has()`` ignores
that rule and draws them as they come. Checked by ``tests/test_browser.py``, which loads pages
whose HTML arrives in pieces: before this, it measured layout shifts of 0.001 to 0.002
(worked-example, cross-entropy-family) to 0.044 (losses/ at 390 px).

Formulas drawn later. ``hooks/katex.py`` preloads only the fonts of the formulas drawn at load;
which formulas are in a skipped block is known here, so this hook leaves it on the page, one flag
a formula in page order: ``page.lossbook_skipped_formulas`` (the order in which KaTeX's hook
meets them).

The page is read with the standard library's ``html.parser`` before ``hooks/katex.py`` renders
the math (a formula is then one element, not dozens); the text of ``<pre>`` blocks is not
tokenized (their tags do not matter here). The scan still took about 0.2 s of a rebuild over
the 18 pages, so its result for a page is kept in ``.cache/offscreen/``, under a hash of the page's
HTML, this file and Python's version: an unchanged page is not scanned again.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from page_cache import memo

FIRST, LAST = 10, 6
SKIPPABLE = {"p", "ul", "ol", "dl", "lossbook-math", "details", "table"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# A table's wrapper (see layout.css, "Tables"): the markup Material wraps tables in, so that its
# wrapping at load changes nothing; a table that is a block of the text skipped off screen has it
# in a skipped block. The wrapper is a whole block (see "Whole blocks" above): marked, and ending
# with END.
WHOLE = "lossbook-whole"
END = "<lossbook-end></lossbook-end>"
MATERIAL_WRAPPER = (f'<div class="md-typeset__scrollwrap {WHOLE}"><div class="md-typeset__table">', f"</div>{END}</div>")
SKIPPED_WRAPPER = ('<div class="lossbook-table lossbook-skip">' + MATERIAL_WRAPPER[0], MATERIAL_WRAPPER[1] + "</div>")
CLASS = re.compile(r'\sclass="([^"]*)"')


@dataclass
class Block:
    tag: str
    classes: list[str]
    start: int  # offset of the block's start tag (or, for a code block, of its <pre>)
    tag_text: str
    parent: Element | None  # the content root (None) or the .doc-contents holding it
    index: int
    display_math: bool = False
    pre: tuple[int, str] = (0, "")  # a code block's <pre>: offset and tag text


@dataclass
class Element:
    tag: str
    classes: list[str]
    children: int = 0  # element children seen so far
    block: Block | None = None  # set when the element is a candidate block
    top: int = -1  # index of the top-level block it belongs to
    blocks: list[Block] = field(default_factory=list)  # candidate blocks among its children
    parent: Element | None = None
    start: tuple[int, str] = (0, "")  # offset and text of its start tag


class _Scanner(HTMLParser):
    CDATA_CONTENT_ELEMENTS = ("script", "style", "pre")  # a <pre>'s code is not tokenized

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=False)
        self.lines = [0]
        for match in re.finditer("\n", html):
            self.lines.append(match.end())
        self.root = Element("", [])
        self.stack: list[Element] = [self.root]
        self.top_level: list[Element] = []
        self.doc_contents: list[Element] = []
        self.tables: list[tuple[int, int]] = []  # (start, end) of each table Material wraps
        self._table: list[int | None] = []
        self.formulas: list[tuple[Element, int]] = []  # each <lossbook-math>, with the offset of its end tag

    def position(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs) -> None:
        parent = self.stack[-1]
        classes = (dict(attrs).get("class") or "").split()
        text = self.get_starttag_text() or ""
        element = Element(tag, classes, top=parent.top, parent=parent, start=(self.position(), text))
        if "doc-contents" in classes:
            self.doc_contents.append(element)
        index = parent.children
        parent.children += 1
        if parent is self.root:
            element.top = index
            self.top_level.append(element)
        container = parent is self.root or "doc-contents" in parent.classes
        if container and (tag in SKIPPABLE or "admonition" in classes or "highlight" in classes) and not (tag == "table" and classes):
            element.block = Block(tag, classes, self.position(), text, None if parent is self.root else parent, index)
            parent.blocks.append(element.block)
        if tag == "pre" and parent.block is not None and "highlight" in parent.block.classes and not parent.block.pre[1]:
            parent.block.pre = (self.position(), text)
        if tag == "div" and "arithmatex" in classes:
            for open_element in self.stack:
                if open_element.block is not None:
                    open_element.block.display_math = True
        if tag == "table":
            self._table.append(None if classes or self._table else self.position())
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.stack[-1].children += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._table:
            start = self._table.pop()
            if start is not None:
                self.tables.append((start, self.position() + len("</table>")))
        for depth in range(len(self.stack) - 1, 0, -1):  # close up to the matching element
            if self.stack[depth].tag == tag:
                if tag == "lossbook-math":
                    self.formulas.append((self.stack[depth], self.position()))
                del self.stack[depth:]
                return


def _with_class(tag_text: str, name: str) -> str:
    match = CLASS.search(tag_text)
    if match:
        return tag_text[: match.end(1)] + " " + name + tag_text[match.end(1):]
    end = -2 if tag_text.endswith("/>") else -1
    return tag_text[:end] + f' class="{name}"' + tag_text[end:]


def edits(html: str) -> tuple[list[tuple[int, int, str]], list[bool]]:
    """(offset, length replaced, new text) of each change to the page, in page order; and for
    each formula (``<lossbook-math>``), in page order, whether it is in a block skipped off
    screen (the block itself or one around it)."""
    scanner = _Scanner(html)
    scanner.feed(html)
    scanner.close()
    top = scanner.top_level
    count = len(top)
    first_doc = next((element for element in top if element.tag == "div" and "doc" in element.classes), None)
    # A page that ends with a docstring: its last blocks are the last of that docstring's blocks.
    ends_with_doc = bool(top) and "doc" in top[-1].classes
    last_doc_starts = sorted(
        block.start for doc_contents in scanner.doc_contents if ends_with_doc and doc_contents.top == count - 1
        for block in doc_contents.blocks
    )[-LAST:]
    changes = []
    classes: dict[int, tuple[str, list[str]]] = {}  # start tag's offset -> its text, classes to add
    skipped_tables: set[int] = set()  # the start of each table that is a block skipped off screen

    def visit(blocks: list[Block], in_first_doc: bool) -> None:
        for block in blocks:
            if block.tag == "p" and block.display_math:
                continue
            first = block.index < FIRST and (block.parent is None or in_first_doc)
            last = block.index >= count - LAST if block.parent is None else block.start in last_doc_starts
            if block.tag == "table":
                if not (first or last):
                    skipped_tables.add(block.start)
                continue
            if first or last:
                continue
            start, tag_text = block.pre if "highlight" in block.classes else (block.start, block.tag_text)
            if tag_text:
                classes.setdefault(start, (tag_text, []))[1].append("lossbook-skip")

    visit(scanner.root.blocks, False)
    for doc_contents in scanner.doc_contents:
        visit(doc_contents.blocks, first_doc is not None and doc_contents.parent is first_doc)
    for start, end in scanner.tables:
        opening, closing = SKIPPED_WRAPPER if start in skipped_tables else MATERIAL_WRAPPER
        changes += [(start, 0, opening), (end, 0, closing)]
    skipped_starts = {start for start, (_, names) in classes.items() if "lossbook-skip" in names}
    skipped_starts |= skipped_tables  # a table in a skipped wrapper

    def in_skipped_block(element: Element | None) -> bool:
        while element is not None:
            if element.start[0] in skipped_starts:
                return True
            element = element.parent
        return False

    skipped_formulas = []
    for formula, end in scanner.formulas:
        start, tag_text = formula.start
        skipped_formulas.append(in_skipped_block(formula))
        classes.setdefault(start, (tag_text, []))[1].append(WHOLE)
        changes.append((end, 0, END))
    for start, (tag_text, names) in classes.items():
        changes.append((start, len(tag_text), _with_class(tag_text, " ".join(names))))
    # An insertion before a replacement at the same place.
    return sorted(changes, key=lambda change: change[:2]), skipped_formulas


CACHE = Path(__file__).resolve().parent.parent / ".cache" / "offscreen"


def cached_edits(html: str, src_uri: str) -> tuple[list[tuple[int, int, str]], list[bool]]:
    """:func:`edits`, kept for each page in ``.cache/offscreen/`` under a hash of what they depend on."""
    key = hashlib.sha256(Path(__file__).read_bytes() + sys.version.encode() + html.encode()).hexdigest()
    changes, skipped_formulas = memo(CACHE, src_uri, key, lambda: edits(html))
    return [tuple(change) for change in changes], skipped_formulas


def on_page_content(html: str, page, config, files) -> str:
    changes, page.lossbook_skipped_formulas = cached_edits(html, page.file.src_uri)
    pieces, position = [], 0
    for offset, length, text in changes:
        pieces += [html[position:offset], text]
        position = offset + length
    return "".join(pieces) + html[position:]
