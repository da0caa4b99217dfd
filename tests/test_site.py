"""Checks of the built site's HTML: what a reader is shown was run, and renders without help.

* every Python code block on a page is one the suite executed, in the same order and with the
  same text (``tests/doc_examples.py`` collects them from the Markdown; the API reference page
  shows docstring examples, which Sybil runs from ``lossbook/``);
* every Markdown page is collected by the Sybil configuration in ``conftest.py``;
* no formula is left as raw TeX, no image is missing, nothing is loaded from another origin.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import pages as sybil_pages
from tests.doc_examples import normalise, python_blocks
from tests.site_support import built_html, docs_dir, html_file, nav_pages

ROOT = Path(__file__).resolve().parent.parent
DOCS = docs_dir()
MARKDOWN_PAGES = sorted(DOCS.rglob("*.md"))
CODE_LANGUAGES = ("python", "py", "python3", "py3", "pycon")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def html_path(site: Path, page: Path) -> Path:
    """The built HTML of the page whose source is ``page``, at the URL MkDocs gives it."""
    return html_file(site, {nav_page.source: nav_page.url for nav_page in nav_pages()}[page])


def shown_code_blocks(soup: BeautifulSoup) -> list[str]:
    selector = ", ".join(f"div.language-{language}" for language in CODE_LANGUAGES)
    return [normalise(block.find("code").get_text()) for block in soup.select(selector)]


def _flush_left(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines())


def docstrings_of_lossbook() -> list[str]:
    found = []
    for path in sorted((ROOT / "lossbook").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                docstring = ast.get_docstring(node, clean=True)
                if docstring:
                    found.append(_flush_left(docstring))
    return found


def test_every_markdown_page_is_collected_by_sybil() -> None:
    assert MARKDOWN_PAGES, "no pages found under docs/"
    missed = [str(page.relative_to(ROOT)) for page in MARKDOWN_PAGES if not sybil_pages.should_parse(page)]
    assert not missed, f"Sybil does not collect these pages: {missed}"


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_code_block_shown_was_executed(built_site: Path, page: Path) -> None:
    shown = shown_code_blocks(built_html(html_path(built_site, page)))
    text = page.read_text(encoding="utf-8")
    executed = [normalise(block.source) for block in python_blocks(text, str(page))]
    if re.search(r"^::: ", text, re.MULTILINE):  # mkdocstrings: blocks come from docstrings
        docstrings = docstrings_of_lossbook()
        not_run = [block for block in shown if block not in executed and not any(_flush_left(block) in d for d in docstrings)]
        assert not not_run, f"{page.name} shows code blocks that no test runs:\n\n" + "\n\n".join(not_run)
    else:
        assert shown == executed, (
            f"{page.name}: the built page shows {len(shown)} Python blocks, the suite ran {len(executed)}"
        )


def _all_html(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_no_raw_tex_and_no_katex_errors(built_site: Path) -> None:
    for path in _all_html(built_site):
        html = path.read_text(encoding="utf-8")
        assert 'class="arithmatex"' not in html, f"{path}: math left unrendered"
        assert "katex-error" not in html, f"{path}: KaTeX could not render a formula"


def test_every_image_exists_and_nothing_loads_from_another_origin(built_site: Path) -> None:
    for path in _all_html(built_site):
        soup = built_html(path)
        for tag, attribute in (("img", "src"), ("script", "src"), ("link", "href"), ("iframe", "src")):
            for element in soup.find_all(tag):
                url = element.get(attribute)
                if not url or (tag == "link" and "canonical" in (element.get("rel") or [])):
                    continue
                assert not EXTERNAL.match(url), f"{path}: <{tag}> loads {url} from another origin"
                if tag == "img" and not url.startswith("data:"):
                    target = (path.parent / url.split("#")[0].split("?")[0]).resolve()
                    assert target.is_file(), f"{path}: image {url} is missing"


def test_header_and_sidebars_are_drawn_only_whole(built_site: Path) -> None:
    """Every page shows its header and its sidebars only once each is parsed whole
    (overrides/main.html, layout.css): an empty ``<lossbook-end>`` follows the header and the
    sidebars as their sibling, which layout.css waits for (``:has(~ ...)``). No frame is held
    for them: a render-blocking ``<link rel="expect">``, which held the first frame until the
    sidebars were parsed, made the first paint late in 12 of 16 Lighthouse runs of the home page
    (5 of 16 without it). Whether anything still shifts while a page arrives is measured by the
    browser tests, which load pages in pieces."""
    for path in _all_html(built_site):
        soup = built_html(path)
        if soup.find("article") is None:
            continue  # a redirect stub; the 404 page has an article and is checked too
        expects = soup.head.select('link[rel="expect"]')
        assert not expects, f"{path}: render-blocking rel=expect links in <head>: {expects}"
        header = soup.find("header", class_="md-header")
        assert header.find_next_sibling(class_="lossbook-header-end") is not None, f"{path}: no end marker after the header"
        sidebars = soup.select(".md-sidebar")
        assert sidebars, f"{path}: no sidebars"
        for sidebar in sidebars:
            assert sidebar.find_next_sibling(class_="lossbook-nav-end") is not None, f"{path}: no end marker after {sidebar['class']}"
