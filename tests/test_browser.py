"""The site as a reader gets it: every page loaded in Chromium from a local server.

For every page of the navigation (``nav:`` in ``mkdocs.yml``, read by MkDocs), in a fresh browser
at 1280x800, light and dark:

* no console error, no failed request, no request to any origin but the site's own;
* every formula rendered by KaTeX: no TeX left in the text, no ``.katex-error``, no layout
  shift while the page loads; still so after moving between pages with instant navigation;
* every image loaded (non-zero natural size), in light and in dark mode;
* no axe-core accessibility violation: every rule in light mode, the colour rules
  (contrast, links told apart from text) in dark mode; in code and formulas, each text style is
  checked once per page (``tests.browser.AXE_JS``);
* no code block scrolls sideways, and no copy button covers text of a block's first line;
* every figure's text is legible: :data:`tests.browser.LEGIBLE_PX` or more on screen.

And at 390x844 (a phone), light and dark, on every page:

* the page never scrolls sideways;
* every display formula fits, or scrolls in its own box that shows a shadow on the side where
  it goes on, and shows none when it fits;
* no identifier in a table cell is broken over two lines; a table wider than the column
  scrolls in its own box;
* no copy button covers text of a block's first line (in light mode);
* figures show their narrow variant, drawn at least 340 px wide, with legible text, and the
  page fetches no other copy (wide, or the other scheme's); every image loads.

On the home page and the API reference: search finds the focal loss page, and a code block's
copy button copies the code without ``>>>`` prompts or output lines.

How the browser is found, what happens without one, and how each page is loaded and measured:
``tests/browser.py``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.browser import (
    AXE,
    AXE_JS,
    COLOUR_RULES,
    LEGIBLE_PX,
    MATH_JS,
    NARROW_MIN_WIDTH,
    PHONE,
    RAW_TEX,
    RAW_TEX_JS,
    REPEATED_TEXT_CLASS,
    SCHEMES,
    SCRIPT_SCALE,
    SHADOW_SIDES_JS,
    SHADOWS_ONLY_CSS,
    WAIT_MS,
    Visit,
    edge_shadows,
    format_violations,
    loaded_page,
    new_context,
    origin_of,
    record_problems,
    text_key,
    visit,
)
from tests.doc_examples import python_blocks
from tests.site_support import nav_pages, page_paths

NAV = nav_pages()
PAGES = {page.url: page.source for page in NAV}
PATHS = [page.url for page in NAV]  # in nav order
IDS = [page.id for page in NAV]


@pytest.fixture
def loaded(browser, site_url):
    return lambda path: loaded_page(browser, site_url, path)


def test_every_built_page_is_checked(built_site: Path) -> None:
    assert page_paths(built_site) == sorted(PATHS), "the built pages differ from the pages of nav: in mkdocs.yml"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_no_console_errors_failed_or_foreign_requests(browser, site_url: str, path: str) -> None:
    page: Visit = visit(browser, site_url, path)
    assert not page.console_errors, f"{page.url}: console errors:\n" + "\n".join(page.console_errors)
    assert not page.failed_requests, f"{page.url}: failed requests:\n" + "\n".join(page.failed_requests)
    assert not page.foreign_requests, f"{page.url}: requests to other origins:\n" + "\n".join(page.foreign_requests)


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_formula_is_rendered_without_layout_shift(loaded, path: str) -> None:
    page = loaded(path)
    assert not page.raw_tex, f"{page.url}: TeX left in the text:\n" + "\n".join(page.raw_tex)
    assert page.math["errors"] == 0, f"{page.url}: {page.math['errors']} formulas KaTeX could not render"
    assert page.math["unrendered"] == 0, f"{page.url}: {page.math['unrendered']} formulas left for a script"
    if "\\(" in PAGES[path].read_text(encoding="utf-8") or "$$" in PAGES[path].read_text(encoding="utf-8"):
        assert page.math["rendered"] > 0, f"{page.url}: the page has math but shows no rendered formula"
    assert page.layout_shift < 0.001, f"{page.url}: layout shift {page.layout_shift:.4f} while loading:\n" + "\n".join(
        page.layout_shift_sources
    )


def _image_problems(url: str, broken: list[str], loading: list[str]) -> str:
    return "\n".join(
        [f"{url}: image failed to load (error or zero size): {src}" for src in broken]
        + [f"{url}: image still loading after {WAIT_MS / 1000:.0f} s: {src}" for src in loading]
    )


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_image_loads(loaded, path: str, scheme: str) -> None:
    page = loaded(path)
    problems = _image_problems(f"{page.url} ({scheme})", page.broken_images[scheme], page.loading_images[scheme])
    assert not problems, problems


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_no_accessibility_violations(loaded, path: str, scheme: str) -> None:
    page = loaded(path)
    violations = page.axe[scheme]
    assert not violations, (
        f"{page.url} ({scheme}): axe-core finds (spans of code and formulas that repeat a text style "
        f"already checked are left out of the counts)\n{format_violations(violations)}"
    )


def test_axe_leaves_out_only_repeats_of_a_text_style(browser, site_url: str) -> None:
    """The contrast check skips spans of code and formulas whose text style it has already
    checked on the page (``AXE_JS``), and nothing else: one token of a code block and one symbol
    of a formula drawn in a low-contrast grey, each the last shown of its kind on the page and so
    a repeat of a style checked before it, are both found; the spans hidden for the run are shown
    again after it."""
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(site_url, wait_until="load")
        page.add_script_tag(path=str(AXE))
        page.evaluate("""() => {
          const last = selector => [...document.querySelectorAll(selector)]
            .filter(el => !el.childElementCount && el.textContent.trim() && el.getClientRects().length).at(-1);
          for (const el of [last("article pre code span"), last("article .katex-html span")]) {
            el.style.color = "#d0d0d0";
            el.classList.add("low-contrast");
          }
        }""")
        result = page.evaluate(AXE_JS, COLOUR_RULES)
        left_hidden = page.evaluate(f"document.querySelectorAll('.{REPEATED_TEXT_CLASS}, #{REPEATED_TEXT_CLASS}').length")
    finally:
        context.close()
    assert result["repeats"] > 100, f"only {result['repeats']} repeated spans left out: is AXE_JS still finding them?"
    found = {v["id"]: v for v in result["violations"]}
    assert "color-contrast" in found, "a low-contrast token and formula symbol were not found"
    assert found["color-contrast"]["count"] == 2, format_violations(result["violations"])
    assert all(".low-contrast" in node for node in found["color-contrast"]["nodes"]), format_violations(result["violations"])
    assert left_hidden == 0, f"{left_hidden} elements still hidden after the axe-core run"


# --- Layout at 1280 px -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_code_blocks_fit_and_the_copy_button_covers_no_text(loaded, path: str) -> None:
    """At 1280x800 (tabs and collapsed blocks shown too): no code block scrolls sideways, and
    the copy button does not overlap the first line's text (their boxes, as drawn)."""
    page = loaded(path)
    assert page.code_blocks or "```" not in PAGES[path].read_text(encoding="utf-8"), f"{page.url}: no code block measured"
    problems = [f"scrolls {block['overflow']} px sideways: {block['where']}" for block in page.code_blocks if block["overflow"] > 1]
    problems += [f"the copy button covers the first line: {block['where']}" for block in page.code_blocks if block["covered"]]
    assert not problems, f"{page.url} at 1280 px, {len(problems)} of {len(page.code_blocks)} code blocks:\n" + "\n".join(problems)


def _illegible(figures: list[dict]) -> list[str]:
    problems = []
    for figure in figures:
        if figure["base_px"] < LEGIBLE_PX:
            problems.append(
                f"{figure['file']} drawn {figure['width']:.0f} px wide: text {figure['base_text']!r} is "
                f"{figure['base_px']:.1f} px (< {LEGIBLE_PX:g}), {figure['where']}"
            )
        if figure["script_px"] < SCRIPT_SCALE * LEGIBLE_PX:
            problems.append(
                f"{figure['file']} drawn {figure['width']:.0f} px wide: sub/superscript {figure['script_text']!r} is "
                f"{figure['script_px']:.1f} px (< {SCRIPT_SCALE * LEGIBLE_PX:g}), {figure['where']}"
            )
    return problems


def test_text_sizes_are_measured_again_for_more_than_a_change_of_colours() -> None:
    """The figures' text is measured once for a light SVG and a dark one that differs from it only
    in its colours (``text_key``), but again for an SVG whose text differs in more."""
    plots = pytest.importorskip("lossbook.plots")
    svgs = plots.render_svgs("focal-modulating-factor", "narrow")  # dark derived, markers recoloured
    assert svgs["light"] != svgs["dark"] and text_key(svgs["light"]) == text_key(svgs["dark"])
    bigger = svgs["dark"].replace("font-size: 7.7px", "font-size: 8.7px", 1)
    assert bigger != svgs["dark"] and text_key(bigger) != text_key(svgs["light"])


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_figures_are_legible_at_1280(loaded, path: str, scheme: str) -> None:
    page = loaded(path)
    problems = _illegible(page.figures[scheme])
    problems += [f"{figure['file']}: the narrow variant is shown at 1280 px" for figure in page.figures[scheme] if ".narrow." in figure["file"]]
    assert not problems, f"{page.url} ({scheme}):\n" + "\n".join(problems)


# --- Layout at 390 px (a phone) ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_phone_page_does_not_scroll_sideways(phone, path: str, scheme: str) -> None:
    page = phone(path, scheme)
    assert not page.failed_requests, page.failed_requests
    width = page.page_width
    assert width["scrollWidth"] <= width["width"], (
        f"{page.url} ({scheme}) at 390 px is {width['scrollWidth']} px wide; sticking out:\n" + "\n".join(width["culprits"])
    )
    assert not page.console_errors, f"{page.url} ({scheme}) at 390 px: console errors:\n" + "\n".join(page.console_errors)
    assert not page.foreign_requests, f"{page.url} ({scheme}) at 390 px: requests to other origins:\n" + "\n".join(page.foreign_requests)
    problems = _image_problems(f"{page.url} ({scheme}, 390 px)", page.broken_images, page.loading_images)
    assert not problems, problems


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_phone_title_has_no_blank_line(phone, path: str) -> None:
    """The page title ends with its last visible line: no empty line under it (Material's
    permalink, invisible until focused, wrapped onto a line of its own under "Worked example:
    rings", a blank band of 40 px)."""
    page = phone(path, "light")
    # Below the last line's text rectangles lies the rest of its line box: 4 to 5 px at 390 px.
    assert page.title_blank <= 12, f"{page.url} at 390 px: the title's box goes on {page.title_blank} px below its text"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_phone_copy_button_covers_no_text(phone, path: str) -> None:
    """At 390x844 (tabs and collapsed blocks shown too), the copy button does not overlap the
    first line's text. Lines may scroll sideways here; a first line that would run under the
    button starts below it (layout.css). In light mode: the colours move nothing."""
    page = phone(path, "light")
    assert page.code_blocks or "```" not in PAGES[path].read_text(encoding="utf-8"), f"{page.url}: no code block measured"
    covered = [block["where"] for block in page.code_blocks if block["covered"]]
    assert not covered, f"{page.url} at 390 px, the copy button covers the first line of {len(covered)} of {len(page.code_blocks)} code blocks:\n" + "\n".join(covered)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_phone_page_does_not_shift_while_arriving(phone, path: str, scheme: str) -> None:
    """Nothing drawn moves while the page arrives in pieces and loads (tests/browser.py, PIECES):
    the frames of a half-parsed page show no block that the rest of it moves."""
    page = phone(path, scheme)
    assert page.layout_shift < 0.001, f"{page.url} ({scheme}) at 390 px: layout shift {page.layout_shift:.4f} while loading:\n" + "\n".join(
        page.layout_shift_sources
    )


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_phone_formulas_fit_or_show_there_is_more(phone, path: str, scheme: str) -> None:
    """A display formula wider than the column scrolls in its own box, and a shadow at its right
    edge says so; one that fits shows no shadow; at its start, no shadow on the left. Read from
    the box's style (the test below checks that it is what a screenshot shows)."""
    page = phone(path, scheme)
    problems = []
    for formula in page.formulas:
        wide = formula["overflow"] > 1
        if wide and not formula["scrolls"]:
            problems.append(f"wider than the column by {formula['overflow']} px and cannot scroll: {formula['where']}")
        elif wide and not formula["shadow_right"]:
            problems.append(f"wider than the column by {formula['overflow']} px, no shadow on the right: {formula['where']}")
        elif not wide and formula["shadow_right"]:
            problems.append(f"fits, yet shows a shadow on the right: {formula['where']}")
        if formula["shadow_left"]:
            problems.append(f"shows a shadow on the left at the start: {formula['where']}")
    assert not problems, f"{page.url} ({scheme}) at 390 px:\n" + "\n".join(problems)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_phone_formula_shadow_shows_exactly_where_there_is_more(browser, site_url: str, scheme: str) -> None:
    """What the check above reads from the style is what a reader sees: on formula boxes made to
    measure, whatever the pages hold, a screenshot of the box (glyphs hidden) shows a shadow at
    the right edge of a formula twice the column's width at its start, at the left edge at its
    end, and none on a formula half the column's width, and the style says the same."""
    from PIL import Image  # Pillow, a dependency of matplotlib

    context = new_context(browser, PHONE, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(site_url, wait_until="load")
        page.evaluate("""() => {
          const article = document.querySelector("article");
          for (const [id, share] of [["wide", 2], ["narrow", 0.5]]) {
            const display = document.createElement("span");
            display.className = "katex-display";
            display.id = `test-${id}`;
            display.innerHTML = `<span class="katex" style="display:inline-block; width:${share * article.clientWidth}px">x</span>`;
            article.prepend(display);
          }
        }""")
        page.add_style_tag(content=SHADOWS_ONLY_CSS)

        def shadows(selector: str) -> tuple[bool, bool]:
            seen = edge_shadows(Image.open(io.BytesIO(page.locator(selector).screenshot())))
            styled = page.evaluate("selector => {" + SHADOW_SIDES_JS + " return shadowSides(document.querySelector(selector)); }", selector)
            assert seen == (styled["left"], styled["right"]), f"{selector}: the screenshot shows {seen}, the style says {styled}"
            return seen

        assert shadows("#test-wide") == (False, True), "a formula wider than the column: shadow on the right only"
        page.evaluate("document.querySelector('#test-wide').scrollLeft = 1e6")
        assert shadows("#test-wide") == (True, False), "scrolled to its end: shadow on the left only"
        page.evaluate("document.querySelector('#test-wide').scrollLeft = 40")
        assert shadows("#test-wide") == (True, True), "scrolled part way: shadows on both sides"
        assert shadows("#test-narrow") == (False, False), "a formula that fits: no shadow"
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_phone_tables_keep_identifiers_whole(phone, path: str, scheme: str) -> None:
    page = phone(path, scheme)
    assert not page.table_problems, f"{page.url} ({scheme}) at 390 px:\n" + "\n".join(page.table_problems)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_phone_figures_are_narrow_and_legible(phone, path: str, scheme: str) -> None:
    page = phone(path, scheme)
    problems = _illegible(page.figures)
    for figure in page.figures:
        if not figure["narrow"]:
            problems.append(f"{figure['file']} has no narrow variant (a <picture> with a <source media>): {figure['where']}")
        elif ".narrow." not in figure["file"]:
            problems.append(f"{figure['file']}: the wide variant is shown at 390 px: {figure['where']}")
        if figure["width"] < NARROW_MIN_WIDTH:
            problems.append(f"{figure['file']} is drawn {figure['width']:.0f} px wide (< {NARROW_MIN_WIDTH}): {figure['where']}")
        if f".{scheme}.svg" not in figure["file"]:
            problems.append(f"{figure['file']} is shown in the {scheme} scheme: {figure['where']}")
    # Lazy, and the right copy: as the page loads, only narrow figures of this scheme are fetched.
    problems += [f"fetched {url} on a phone in the {scheme} scheme" for url in page.figures_fetched if f".narrow.{scheme}.svg" not in url]
    assert not problems, f"{page.url} ({scheme}) at 390 px:\n" + "\n".join(problems)


def test_formulas_survive_instant_navigation(browser, site_url: str, loaded) -> None:
    """Click through the navigation from the home page: each page arrives without a reload."""
    expected = {path: loaded(path) for path in PATHS}  # math counts as each page shows on a direct load
    context = new_context(browser)
    problems = Visit(url=site_url)
    try:
        page = context.new_page()
        record_problems(page, context, problems, origin_of(site_url))
        # Instant navigation starts once Material's script has read the sitemap.
        with page.expect_response(lambda response: response.url.endswith("/sitemap.xml"), timeout=WAIT_MS) as sitemap:
            page.goto(site_url, wait_until="load")
        sitemap.value.finished()
        page.evaluate("window.__sameDocument = true")
        for path in [p for p in PATHS if p] + [""]:
            url = site_url + path
            links = page.locator(".md-sidebar--primary a.md-nav__link")
            index = links.evaluate_all("(links, url) => links.findIndex(a => a.href === url)", url)
            assert index >= 0, f"no navigation link to {url} in the sidebar of {page.url}"
            links.nth(index).click()
            page.wait_for_url(url)
            page.wait_for_function("title => document.title === title", arg=expected[path].title, timeout=WAIT_MS)
            page.wait_for_function(
                "n => document.querySelectorAll('article .katex').length === n", arg=expected[path].math["rendered"],
                timeout=WAIT_MS,
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
        results.first.wait_for(timeout=WAIT_MS)
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
            page.wait_for_function("async () => (await navigator.clipboard.readText()) !== ''", timeout=WAIT_MS)
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
