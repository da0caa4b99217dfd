"""MkDocs hook: the copy button of a doctest block copies its code without the output lines.

Material's copy button copies the code element's text with ``data-md-copying`` set on it, and
``docs/stylesheets/extra.css`` hides the prompts (``.gp``) and the output (``.go``) while it
does. Pygments ends each output line's span before the line break, so hiding the span would
leave an empty line in the copy for every output line; this hook moves the line break inside
the span, so the whole output line disappears from the copy, and the code copies as the
program it is. (Without it, Pygments would have to wrap every line of every block in a span of
its own -- ``line_spans`` -- which doubled the elements of the code blocks of every page.)
"""

from __future__ import annotations

import re

OUTPUT_LINE = re.compile(r'(<span class="go">[^<]*)</span>\n')


def on_page_content(html: str, page, config, files) -> str:
    if 'class="go"' not in html:
        return html
    return OUTPUT_LINE.sub(lambda match: match[1] + "\n</span>", html)
