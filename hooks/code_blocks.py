"""MkDocs hook: code blocks keep what Material's script gives them, before it has run.

Material's script mounts each code block when it scrolls into view (``content.lazy`` in
``mkdocs.yml``: mounting all of them at load forced one layout of the whole page per block). Two
things must hold before that:

* Keyboard. A block wider than the column scrolls sideways, and a scrollable region must be
  reachable by keyboard; Material gives an overflowing block ``tabindex="0"`` when it mounts it
  (and takes it away from one that fits). Every block is written with ``tabindex="0"``, so one
  that overflows is reachable before it is mounted too.
* Copy. The copy button copies the code element's text with ``data-md-copying`` set on it, and
  ``docs/stylesheets/extra.css`` hides the prompts (``.gp``) and the output (``.go``) of doctest
  blocks while it does. Pygments ends each output line's span before the line break, so hiding
  the span would leave an empty line in the copy for every output line; the line break is moved
  inside the span, so the copy is the program without its output. A doctest's expected exception
  (its ``Traceback`` line ``.gt``, the ``...`` and the error line ``.gr``) is wrapped, line breaks
  included, in one ``.gt`` span, which the stylesheet hides too. (Otherwise Pygments would
  have to wrap every line of every block in a span of its own, ``line_spans``, which doubled the
  elements of the code blocks of every page.)
* The copy button. It sits at the top right of the block, over the code; ``layout.css`` keeps the
  right edge of the lines clear of it, but a line longer than the block is wide scrolls under it
  (at 390 px, 212 of the site's 528 first lines). Each code element carries the length of its first
  line in characters (``--lossbook-first-line``), and ``layout.css`` starts the code below the
  button where that line would reach it at the block's width.
* Fewer elements. Pygments wraps every name in ``<span class="n">``, and Material colours that
  class with ``--md-code-hl-name-color``, which is the code's own colour: the spans (a tenth of
  a long chapter's elements) change nothing the reader sees, so their text is kept without them.
"""

from __future__ import annotations

import html as html_text
import re

CODE_START = re.compile(r"(<pre\b[^>]*>(?:<span></span>)?)<code>")
OUTPUT_LINE = re.compile(r'(<span class="go">[^<]*)</span>\n')
NAME = re.compile(r'<span class="n">([^<]*)</span>')
TAG = re.compile(r"<[^>]*>")
# From a Traceback line to the end of the next error line, with no prompt in between.
TRACEBACK = re.compile(r'<span class="gt">(?:(?!<span class="gp">).)*?<span class="gr">[^\n]*\n', re.DOTALL)


def first_line_length(code_html: str) -> int:
    """Characters in the first line of a code block that holds any text, as drawn (its indent included)."""
    lines = html_text.unescape(TAG.sub("", code_html)).split("\n")
    return next((len(line.rstrip()) for line in lines if line.strip()), 0)


def _code_start(match: re.Match[str]) -> str:
    end = match.string.find("</code>", match.end())
    length = first_line_length(match.string[match.end() : end])
    return f'{match[1]}<code tabindex="0" style="--lossbook-first-line: {length}">'


def on_page_content(html: str, page, config, files) -> str:
    html = CODE_START.sub(_code_start, html)
    html = NAME.sub(r"\1", html)
    if 'class="go"' in html:
        html = OUTPUT_LINE.sub(lambda match: match[1] + "\n</span>", html)
    if 'class="gt"' in html:
        html = TRACEBACK.sub(lambda match: f'<span class="gt">{match[0]}</span>', html)
    return html
