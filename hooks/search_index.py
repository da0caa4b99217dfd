"""MkDocs hook: keep math and code out of the search index.

Material's search index is fetched by every page and holds the text of every page. The glyphs
of a rendered formula and the body of a code or output block make poor search text and most of
the index's weight, so their outermost elements are marked ``data-search-exclude`` (Material's
search plugin leaves such elements out). Prose, headings and inline code stay searchable.

Listed after ``hooks/katex.py`` in ``mkdocs.yml``: it marks the rendered math.
"""

from __future__ import annotations

import re

# The start tag of a display formula, an inline formula (not inside a display one: KaTeX puts
# the .katex span right after .katex-display's start tag, and excluding the outer one suffices)
# and a highlighted block.
EXCLUDED = re.compile(r'<(?:span|div) class="(?:katex-display|katex|language-[\w-]+ highlight)"')


def on_page_content(html: str, page, config, files) -> str:
    return EXCLUDED.sub(lambda match: match[0] + " data-search-exclude", html)
