"""MkDocs hook: keep math and code out of the search index.

Material's search index is fetched by every page and holds the text of every page. The glyphs
of a rendered formula and the body of a code or output block make poor search text and much of
the index's weight, so they are marked ``data-search-exclude``, which Material's search plugin
honours: prose, headings and inline code stay searchable.

Code blocks carry the attribute on their ``<div class="language-... highlight">``. A formula is
wrapped in a ``<lossbook-math data-search-exclude>`` element: the search plugin matches a closing
tag to the excluded element by its tag name only, so an excluded ``<span>`` would be let go at
the first ``</span>`` inside KaTeX's HTML, which is all spans; an element of its own tag name is
excluded to its end. It is an inline custom element with no style of its own. Listed before
``hooks/katex.py``, it wraps the math as ``pymdownx.arithmatex`` (and ``hooks/notebook.py``)
write it, which KaTeX then renders inside the wrapper.
"""

from __future__ import annotations

import re

CODE_BLOCK = re.compile(r'<div class="language-[\w-]+ highlight"')
MATH = re.compile(r'<(?P<tag>span|div) class="arithmatex">.*?</(?P=tag)>', re.DOTALL)


def on_page_content(html: str, page, config, files) -> str:
    html = CODE_BLOCK.sub(lambda match: match[0] + " data-search-exclude", html)
    return MATH.sub(lambda match: f"<lossbook-math data-search-exclude>{match[0]}</lossbook-math>", html)
