"""Performance budget: what keeps a page fast on a phone, checked without timing anything.

* Elements per page, counted in the built HTML (``built_site``): the browser's style and layout
  work, which Lighthouse's total blocking time measures on a slow phone, grows with them. At most
  6,000 on a page, 8,000 on the API reference (measured 2026-12-01: 686 on the home page, 4,478
  to 5,434 on the longest chapters, 7,211 on the reference, 1,129 on the notebook page; they
  were 862, 6,806 to 7,641, 9,488 and 1,689). Two causes of the old counts are checked by name:
  formulas carry no hidden MathML copy (``hooks/katex.py`` labels them with their TeX instead)
  and code blocks have no span per line (``hooks/code_blocks.py``).
* Transfer per page, measured in Chromium on the site served with gzip (``tests/site_support.py``),
  from a cold cache, everything the page fetches by the time it is ready counted as it crosses
  the wire (gzipped HTML, CSS, JavaScript, the search worker and its index, fonts, the page's
  icon, headers included), and of its lazy figures those a reader's Chrome fetches at load on a
  fast connection (``LAZY_MARGIN_PX`` in ``tests/browser.py``): at most 200 kB for a chapter
  page, 300 kB for the notebook page.
* KaTeX fonts: the site serves only the font files some page draws with (``hooks/katex.py``),
  and each page fetches exactly the fonts it draws with: it preloads those of the formulas drawn
  at load (the text waits for them, so math never shifts the layout when they arrive) and names
  the others in ``<meta name="lossbook-later-fonts">``, fetched after the load event; no font is
  in both, and no page fetches a font it does not use.

The visits are shared with ``test_browser.py`` (``tests/browser.py``); the values are
reported in README.md's "Measured" section and by ``make audit`` (with the timings).
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import tinycss2

from tests.browser import WAIT_MS, loaded_page, new_context, source_pages
from tests.site_support import built_html

PAGES = source_pages()
ROOT = Path(__file__).resolve().parent.parent
KB = 1000
IMAGE_SUFFIXES = {".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif"}
BUDGET = {".md": 200 * KB, ".ipynb": 300 * KB}
ELEMENTS = 6000
ELEMENTS_OF = {
    "reference/": 8000,  # every docstring of the package, with its tables and doctests
    # The longest chapter: three losses with their excerpts, the copy-this files, the SCE
    # variants and the speed table (6,500 elements when the budget was set, 2026-12-02).
    "custom-losses/": 6600,
}
WEIGHTS = {"normal": "400", "bold": "700"}


@pytest.fixture
def loaded(browser, site_url):
    return lambda path: loaded_page(browser, site_url, path)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return response.read().decode("utf-8")


def _elements(built_site, path: str):
    return built_html(built_site / path / "index.html")


@pytest.mark.parametrize("path", sorted(PAGES), ids=lambda p: p or "home")
def test_element_count_is_within_budget(built_site, path: str) -> None:
    soup = _elements(built_site, path)
    count = len(soup.find_all(True))
    budget = ELEMENTS_OF.get(path, ELEMENTS)
    article = soup.find("article")
    heaviest = sorted(
        ((len(child.find_all(True)), f"<{child.name} class='{' '.join(child.get('class', []))}'>")
         for child in (article.find_all(True, recursive=False) if article else [])),
        reverse=True,
    )[:5]
    assert count <= budget, f"{path or 'home'}: {count} elements, budget {budget}; largest blocks: {heaviest}"


@pytest.mark.parametrize("path", sorted(PAGES), ids=lambda p: p or "home")
def test_formulas_and_code_blocks_carry_no_duplicate_elements(built_site, path: str) -> None:
    soup = _elements(built_site, path)
    assert not soup.select(".katex-mathml, .katex math"), f"{path or 'home'}: a formula carries a MathML copy"
    unlabelled = [str(k)[:120] for k in soup.select(".katex") if k.get("role") != "img" or not k.get("aria-label")]
    assert not unlabelled, f"{path or 'home'}: formulas without role=img and a TeX label: {unlabelled[:3]}"
    assert not soup.select("code > span[id^='__span']"), f"{path or 'home'}: code blocks wrap each line in a span"


@pytest.mark.parametrize("path", sorted(PAGES), ids=lambda p: p or "home")
def test_blocks_skipped_off_screen_are_marked_at_build_time(built_site, path: str) -> None:
    """``hooks/offscreen.py``: the blocks the browser skips are marked in the HTML, never the first
    10 or the last 6 of the text (on screen at load; next to the footer), and every table of the
    text is written in Material's own wrapper, so that Material's wrapping of tables at load moves
    nothing."""
    inner = _elements(built_site, path).select_one(".md-content__inner")
    blocks = [child for child in inner.find_all(True, recursive=False) if "md-content__button" not in child.get("class", [])]
    marked = lambda block: "lossbook-skip" in block.get("class", []) or block.select_one(":scope > pre.lossbook-skip")
    drawn = [str(block)[:80] for block in blocks[:10] + blocks[-6:] if marked(block)]
    assert not drawn, f"{path or 'home'}: blocks skipped although on screen at load or at the end: {drawn}"
    loose = [
        str(table)[:80] for table in inner.select("table:not([class])")
        if "md-typeset__table" not in table.parent.get("class", [])
        or "md-typeset__scrollwrap" not in table.parent.parent.get("class", [])
    ]
    assert not loose, f"{path or 'home'}: tables not written in Material's wrapper: {loose}"
    if len(blocks) > 40:  # a long page: most of its blocks are skipped
        assert len(inner.select(".lossbook-skip")) > len(blocks) // 3, f"{path or 'home'}: few blocks skipped"


@pytest.mark.parametrize("path", sorted(PAGES), ids=lambda p: p or "home")
def test_formulas_and_tables_are_drawn_only_whole(built_site, path: str) -> None:
    """``hooks/offscreen.py``: each formula (KaTeX's ``.katex`` and ``.katex-display``), and each
    table among the blocks of the text, is or is in a ``lossbook-whole`` element whose last child
    is ``<lossbook-end>``, which layout.css waits for before it shows the element. (What it
    prevents is measured by the browser tests, which load pages that arrive in pieces.)"""
    inner = _elements(built_site, path).select_one(".md-content__inner")

    def whole(element) -> bool:
        holder = element if "lossbook-whole" in element.get("class", []) else element.find_parent(class_="lossbook-whole")
        return holder is not None and holder.find_all(True, recursive=False)[-1].name == "lossbook-end"

    tables = [
        table for table in inner.select("table:not([class])")
        if not table.find_parent(class_="admonition") and not table.find_parent("details")
    ]
    loose = [str(element)[:80] for element in inner.select(".katex, .katex-display") + tables if not whole(element)]
    assert not loose, f"{path or 'home'}: drawn before they are whole: {loose}"


def test_the_stylesheet_selects_no_block_by_position() -> None:
    """Positional selectors in layout.css made Chromium restyle every block of the text when a
    sibling was added or moved; the blocks to skip are marked at build time instead."""
    css = (ROOT / "docs" / "stylesheets" / "layout.css").read_text(encoding="utf-8")
    rules = [rule for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True) if rule.type == "qualified-rule"]
    positional = [
        tinycss2.serialize(rule.prelude).strip() for rule in rules
        if re.search(r":(nth-|last-|first-|only-)", tinycss2.serialize(rule.prelude))
    ]
    assert not positional, f"positional selectors: {positional}"


@pytest.mark.parametrize("path", sorted(PAGES), ids=lambda p: p or "home")
def test_transfer_size_is_within_budget(loaded, path: str) -> None:
    page = loaded(path)
    budget = BUDGET[PAGES[path].suffix]
    heaviest = sorted(page.transfer_bytes.items(), key=lambda item: -item[1])[:8]
    assert page.transfer <= budget, (
        f"{page.url} transfers {page.transfer / KB:.1f} kB, budget {budget / KB:.0f} kB; heaviest:\n"
        + "\n".join(f"  {size / KB:7.1f} kB  {url}" for url, size in heaviest)
    )


def test_the_transfer_counts_what_a_readers_chrome_fetches(loaded) -> None:
    """The bytes counted are those a reader's Chrome on a fast connection fetches, whatever the
    browser that runs the tests: the page's icon (which the headless shell does not fetch by
    itself) and, of the images, exactly those shown within ``LAZY_MARGIN_PX`` below the first
    screen (the headless shell fetches lazy images from further ahead)."""
    problems = []
    for path in sorted(PAGES):
        page = loaded(path)
        images = {url for url in page.transfer_bytes if PurePosixPath(urlsplit(url).path).suffix in IMAGE_SUFFIXES}
        if page.icon not in page.transfer_bytes:
            problems.append(f"{page.url}: its icon {page.icon or '(none)'} is not counted")
        if images - {page.icon} != set(page.images_at_load):
            problems.append(f"{page.url}: images counted {sorted(images - {page.icon})}, fetched at load {page.images_at_load}")
    assert not problems, "\n".join(problems)


def _font_faces(site_url: str) -> dict[tuple[str, str, str], str]:
    """(family, weight, style) -> woff2 file name, from the stylesheet the site serves."""
    css = _get(site_url + "assets/katex/katex.min.css")
    faces = {}
    for body in re.findall(r"@font-face\{([^}]*)\}", css):
        family = re.search(r'font-family:"?([\w-]+)', body)[1]
        weight = re.search(r"font-weight:(\w+)", body)[1]
        style = re.search(r"font-style:(\w+)", body)[1]
        faces[(family, WEIGHTS.get(weight, weight), style)] = re.search(r"url\(fonts/([^)]+\.woff2?)\)", body)[1]
    return faces


def test_only_the_fonts_in_use_are_served_and_preloaded(loaded, site_url: str, served_site) -> None:
    faces = _font_faces(site_url)
    served = {path.name for path in (served_site / "assets" / "katex" / "fonts").glob("*.woff*")}
    used_anywhere: set[str] = set()
    problems = []
    for path in sorted(PAGES):
        page = loaded(path)
        url = site_url + path  # the page's HTML, at once (the visit's server sends it in pieces)
        used = {faces[(f, WEIGHTS.get(w, w), s)] for f, w, s in page.fonts_loaded if f.startswith("KaTeX_")}
        used_anywhere |= used
        html = _get(url)
        preloaded = {
            PurePosixPath(href).name
            for href in re.findall(r'<link rel="preload" href="([^"]+\.woff2?)" as="font"', html)
        }
        named = re.search(r'<meta name="lossbook-later-fonts" content="([^"]*)">', html)
        later = {f"{name}.woff2" for name in (named[1].split() if named else ())}
        if preloaded & later or preloaded | later != used:
            problems.append(f"{url}: preloads {sorted(preloaded)}, then fetches {sorted(later)}, draws with {sorted(used)}")
    assert not problems, "\n".join(problems)
    assert served == used_anywhere, (
        f"served but used by no page: {sorted(served - used_anywhere)}; used but not served: {sorted(used_anywhere - served)}"
    )


def test_material_asks_for_search_later_and_leaves_drawn_tables(browser, site_url: str) -> None:
    """Two costs of Material's script at load, avoided by ``overrides/main.html``, checked by the
    order of events (not their duration) on losses/, whose table is drawn at load:

    * the search index and the sitemap are requested after the load event (once the text has
      been drawn), and search still finds a loss;
    * the table stays in the wrapper it is written in (``hooks/offscreen.py``): Material moves it
      into no second wrapper (moving it styled and laid out every element of the table again).
    """
    context = new_context(browser)
    try:
        page = context.new_page()
        with page.expect_response(lambda response: response.url.endswith("/search/search_index.json"), timeout=WAIT_MS) as index:
            page.goto(site_url + "losses/", wait_until="load")
        index.value.finished()
        starts = page.evaluate(
            """() => {
                const load = performance.getEntriesByType("navigation")[0].loadEventStart;
                return performance.getEntriesByType("resource")
                    .filter(entry => /\\/(?:search_index\\.json|sitemap\\.xml)$/.test(entry.name))
                    .map(entry => [entry.name.split("/").pop(), entry.startTime - load]);
            }"""
        )
        assert sorted(name for name, _ in starts) == ["search_index.json", "sitemap.xml"], starts
        early = [f"{name} requested {-after:.0f} ms before the load event" for name, after in starts if after < 0]
        assert not early, early
        page.keyboard.press("s")  # Material's key for the search box
        page.keyboard.type("huber")
        page.wait_for_function("() => document.querySelectorAll('.md-search-result__item').length > 0", timeout=WAIT_MS)
        tables = page.evaluate(
            """() => [...document.querySelectorAll(".md-content table")].map(table =>
                [table.closest(".md-typeset__scrollwrap") !== null,
                 table.closest(".md-typeset__scrollwrap .md-typeset__scrollwrap") !== null,
                 table.closest(".md-typeset__scrollwrap").classList.contains("lossbook-whole")])"""
        )
        moved = [i for i, table in enumerate(tables) if table != [True, False, True]]
        assert tables and not moved, f"losses/'s tables {moved}: not in the wrapper they are written in, or in two: {tables}"
    finally:
        context.close()


def test_material_restyles_no_whole_page_at_load(browser, site_url: str) -> None:
    """Three changes that each made Chromium restyle every element of the page at load, kept out
    by ``overrides/main.html`` and checked by what the page does, not by timing (issue 13):

    * the class attribute of ``<html>`` and ``<body>`` changes only in ``<head>``, before anything
      is styled, and is never set to the value it already has (Material sets "js" again, its
      focus-visible polyfill adds "js-focus-visible");
    * the text is held until the KaTeX fonts arrive by a style element of its own, not a class;
    * the page has one ``<meta name="color-scheme">``, written before the text (Material's own,
      added to ``<head>``, restyled the page even empty).
    """
    context = new_context(browser, viewport={"width": 412, "height": 823})
    context.add_init_script(
        """window.lossbookClassSets = [];
        new MutationObserver(records => records.forEach(record => window.lossbookClassSets.push(
            [record.target.tagName, record.oldValue, record.target.getAttribute("class"), document.body !== null])))
          .observe(document, {subtree: true, attributes: true, attributeFilter: ["class"], attributeOldValue: true});"""
    )
    try:
        page = context.new_page()
        page.goto(site_url + "losses/kl-divergence/", wait_until="load")
        page.wait_for_function("() => getComputedStyle(document.querySelector('.md-content')).visibility === 'visible'", timeout=WAIT_MS)
        page.wait_for_timeout(500)  # Material's timers after the load event
        sets = page.evaluate("() => window.lossbookClassSets.filter(set => set[0] === 'HTML' || set[0] === 'BODY')")
        late = [set_ for set_ in sets if set_[3]]
        same = [set_ for set_ in sets if set_[1] == set_[2]]
        assert sets and not late and not same, f"class sets on <html> or <body> once the body exists {late}, or to the same value {same}"
        schemes = page.evaluate("() => [...document.querySelectorAll('meta[name=color-scheme]')].map(meta => meta.content)")
        assert schemes == ["light"], f"color-scheme metas: {schemes}"
    finally:
        context.close()
