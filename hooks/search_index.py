"""MkDocs hook: keep math and code out of the search index, and index an unchanged page once.

Material's search index is fetched by every page and holds the text of every page. The glyphs
of a rendered formula and the body of a code or output block make poor search text and much of
the index's weight, so they are marked ``data-search-exclude``, which Material's search plugin
honours: prose, headings and inline code stay searchable.

Code blocks carry the attribute on their ``<div class="language-... highlight">``. A formula is
wrapped in a ``<lossbook-math data-search-exclude>`` element: the search plugin matches a closing
tag to the excluded element by its tag name only, so an excluded ``<span>`` would be let go at
the first ``</span>`` inside KaTeX's HTML, which is all spans; an element of its own tag name is
excluded to its end. Listed before ``hooks/katex.py``, it wraps the math as
``pymdownx.arithmatex`` (and ``hooks/notebook.py``) write it; ``hooks/katex.py`` then makes the
wrapper the formula's outer element (KaTeX's ``.katex`` or ``.katex-display``).

Cache. The search plugin parses every page's final HTML at every build (about a fifth of a
rebuild's time). Its entries for a page are a function of the page's HTML, URL, title, metadata
and table of contents and of the plugin's version, so ``on_config`` wraps the plugin's
``add_entry_from_context`` to keep them in ``.cache/search/`` under a hash of those: a page whose
hash is unchanged gets the entries the plugin made for it last time, in the same order.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from pathlib import Path

import page_cache

CODE_BLOCK = re.compile(r'<div class="language-[\w-]+ highlight"')
MATH = re.compile(r'<(?P<tag>span|div) class="arithmatex">.*?</(?P=tag)>', re.DOTALL)
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "search"


def on_page_content(html: str, page, config, files) -> str:
    html = CODE_BLOCK.sub(lambda match: match[0] + " data-search-exclude", html)
    return MATH.sub(lambda match: f"<lossbook-math data-search-exclude>{match[0]}</lossbook-math>", html)


def _toc(items) -> list:
    return [[item.id, item.url, _toc(item.children)] for item in items]


def _page_key(page, plugin_config: dict) -> str:
    """A hash of everything the search plugin reads to index ``page`` (see ``SearchIndex``)."""
    what = {
        "material": importlib.metadata.version("mkdocs-material"),
        "config": plugin_config,
        "url": page.url,
        "title": page.title,
        "meta": page.meta,
        "toc": _toc(page.toc),
        "content": page.content,
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=repr).encode()).hexdigest()


def _cached(index, plugin_config: dict):
    """``index.add_entry_from_context``, answered from the cache for a page indexed before."""
    add = index.add_entry_from_context

    def add_entry_from_context(page) -> None:
        key = _page_key(page, plugin_config)
        stored = page_cache.read(CACHE, page.file.src_uri, key)
        if stored is not None:
            index.entries.extend(stored)
            return
        first = len(index.entries)
        add(page)
        entries = index.entries[first:]
        if json.loads(json.dumps(entries)) != entries:
            return  # not plain JSON (a tag or boost of another type): not cached
        page_cache.write(CACHE, page.file.src_uri, key, entries)

    return add_entry_from_context


def on_config(config):
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    index = getattr(plugin, "search_index", None)
    if index is not None:
        index.add_entry_from_context = _cached(index, dict(plugin.config))
    return config
