"""The site as a reader gets it: every page loaded in Chromium from a local server.

For every page (whatever pages exist: they are found under ``docs/``), in a fresh browser:

* no console error, no failed request, no request to any origin but the site's own;
* every formula rendered by KaTeX: no TeX left in the text, no ``.katex-error``, no layout
  shift while the page loads; still so after moving between pages with instant navigation;
* every image loaded (non-zero natural size), in light and in dark mode;
* no axe-core accessibility violation, in light and in dark mode.

And on the home page and the API reference: search finds the focal loss page, and a code
block's copy button copies the code without ``>>>`` prompts or output lines.

How the browser is found, and what happens without one: ``tests/browser.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import (
    MATH_JS,
    RAW_TEX,
    RAW_TEX_JS,
    Visit,
    format_violations,
    loaded_page,
    new_context,
    origin_of,
    record_problems,
    source_pages,
    visit,
)
from tests.doc_examples import python_blocks
from tests.site_server import page_paths

PAGES = source_pages()
PATHS = sorted(PAGES)
SCHEMES = ("light", "dark")


def page_id(path: str) -> str:
    return path or "home"


@pytest.fixture
def loaded(browser, site_url):
    return lambda path: loaded_page(browser, site_url, path)


def test_every_built_page_is_checked(built_site: Path) -> None:
    assert page_paths(built_site) == PATHS, "the built pages differ from the pages found under docs/"


@pytest.mark.parametrize("path", PATHS, ids=page_id)
def test_no_console_errors_failed_or_foreign_requests(browser, site_url: str, path: str) -> None:
    page: Visit = visit(browser, site_url, path)
    assert not page.console_errors, f"{page.url}: console errors:\n" + "\n".join(page.console_errors)
    assert not page.failed_requests, f"{page.url}: failed requests:\n" + "\n".join(page.failed_requests)
    assert not page.foreign_requests, f"{page.url}: requests to other origins:\n" + "\n".join(page.foreign_requests)


@pytest.mark.parametrize("path", PATHS, ids=page_id)
def test_every_formula_is_rendered_without_layout_shift(loaded, path: str) -> None:
    page = loaded(path)
    assert not page.raw_tex, f"{page.url}: TeX left in the text:\n" + "\n".join(page.raw_tex)
    assert page.math["errors"] == 0, f"{page.url}: {page.math['errors']} formulas KaTeX could not render"
    assert page.math["unrendered"] == 0, f"{page.url}: {page.math['unrendered']} formulas left for a script"
    if "\\(" in PAGES[path].read_text(encoding="utf-8") or "$$" in PAGES[path].read_text(encoding="utf-8"):
        assert page.math["rendered"] > 0, f"{page.url}: the page has math but shows no rendered formula"
    assert page.layout_shift < 0.001, f"{page.url}: layout shift {page.layout_shift:.4f} while loading"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=page_id)
def test_every_image_loads(loaded, path: str, scheme: str) -> None:
    page = loaded(path)
    assert not page.broken_images[scheme], f"{page.url} ({scheme}): images not loaded: {page.broken_images[scheme]}"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=page_id)
def test_no_accessibility_violations(loaded, path: str, scheme: str) -> None:
    page = loaded(path)
    violations = page.axe[scheme]
    assert not violations, f"{page.url} ({scheme}): axe-core finds\n{format_violations(violations)}"


def test_formulas_survive_instant_navigation(browser, site_url: str, loaded) -> None:
    """Click through the navigation from the home page: each page arrives without a reload."""
    expected = {path: loaded(path) for path in PATHS}  # math counts as each page shows on a direct load
    context = new_context(browser)
    problems = Visit(url=site_url)
    try:
        page = context.new_page()
        record_problems(page, context, problems, origin_of(site_url))
        page.goto(site_url, wait_until="load")
        page.wait_for_load_state("networkidle")  # instant navigation starts once the sitemap is read
        page.evaluate("window.__sameDocument = true")
        for path in [p for p in PATHS if p] + [""]:
            url = site_url + path
            links = page.locator(".md-sidebar--primary a.md-nav__link")
            index = links.evaluate_all("(links, url) => links.findIndex(a => a.href === url)", url)
            assert index >= 0, f"no navigation link to {url} in the sidebar of {page.url}"
            links.nth(index).click()
            page.wait_for_url(url)
            page.wait_for_function("title => document.title === title", arg=expected[path].title, timeout=5000)
            page.wait_for_function(
                "n => document.querySelectorAll('article .katex').length === n", arg=expected[path].math["rendered"],
                timeout=5000,
            )
            assert page.evaluate("window.__sameDocument === true"), f"{url}: the page was reloaded, not swapped in"
            math = page.evaluate(MATH_JS)
            assert math["errors"] == 0 and math["unrendered"] == 0, f"{url} after instant navigation: {math}"
            left = RAW_TEX.findall(page.evaluate(RAW_TEX_JS))
            assert not left, f"{url} after instant navigation: TeX left in the text: {left}"
    finally:
        context.close()
    assert not problems.console_errors, "console errors while navigating:\n" + "\n".join(problems.console_errors)
    assert not problems.failed_requests, "failed requests while navigating:\n" + "\n".join(problems.failed_requests)
    assert not problems.foreign_requests, "foreign requests while navigating:\n" + "\n".join(problems.foreign_requests)


def test_search_finds_the_focal_loss_page(browser, site_url: str) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(site_url, wait_until="load")
        page.locator(".md-search__input").click()
        page.locator(".md-search__input").press_sequentially("focal", delay=20)
        results = page.locator(".md-search-result__list a")
        results.first.wait_for(timeout=10_000)
        hrefs = results.evaluate_all("links => links.map(a => a.href)")
    finally:
        context.close()
    assert any(re.search(r"/custom-losses/(?:$|#|\?)", href) for href in hrefs), (
        f"searching 'focal' shows no result on custom-losses/: {hrefs}"
    )


def expected_copy_of_doctest(shown: str) -> str:
    """What copying a ``pycon`` block must give: the source lines, prompts removed, no output."""
    kept = []
    for line in shown.splitlines():
        if line.startswith((">>> ", "... ")):
            kept.append(line[4:])
        elif line in (">>>", "...") or not line.strip():
            kept.append("")
    return "\n".join(kept)


def _copied_texts(browser, url: str, selector: str, limit: int) -> list[tuple[str, str]]:
    """(code as shown, clipboard after clicking the block's copy button) for each block."""
    context = new_context(browser, permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        blocks = page.locator(selector)
        found = []
        for index in range(min(blocks.count(), limit)):
            block = blocks.nth(index)
            block.hover()
            page.evaluate("navigator.clipboard.writeText('')")
            block.locator('button.md-code__button[data-md-type="copy"], button.md-clipboard').first.click()
            page.wait_for_function("async () => (await navigator.clipboard.readText()) !== ''", timeout=5000)
            shown = block.locator("code").evaluate("code => code.textContent")
            found.append((shown, page.evaluate("navigator.clipboard.readText()")))
        return found
    finally:
        context.close()


def _normalise(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").splitlines())


def test_copy_button_copies_the_code_of_a_python_block(browser, site_url: str) -> None:
    source = python_blocks(PAGES[""].read_text(encoding="utf-8"), "docs/index.md")
    first_python = next(block for block in source if block.language != "pycon")
    copied = _copied_texts(browser, site_url, "div.language-python", limit=1)
    assert copied, "the home page shows no Python block"
    assert _normalise(copied[0][1]) == _normalise(first_python.source)


def test_copy_button_leaves_out_prompts_and_output(browser, site_url: str) -> None:
    copied = _copied_texts(browser, site_url + "reference/", "div.language-pycon", limit=4)
    assert copied, "the API reference shows no doctest (pycon) block"
    for shown, clipboard in copied:
        assert ">>>" in shown, f"the block does not show its prompts:\n{shown}"
        expected = expected_copy_of_doctest(shown)
        assert _normalise(clipboard) == _normalise(expected), (
            f"copying\n{shown}\ngave\n{clipboard}\ninstead of\n{expected}"
        )
