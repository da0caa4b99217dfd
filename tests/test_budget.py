"""Performance budget, measured in Chromium on the site served with gzip (``tests/site_server.py``).

* Transfer per page, from a cold cache, everything the page fetches counted as it crosses the
  wire (gzipped HTML, CSS, JavaScript, the search worker and its index, figures, fonts, headers
  included): at most 200 KiB for a chapter page, 400 KiB for a notebook page.
* KaTeX fonts: the site serves only the font files some page draws with
  (``hooks/katex_fonts.py``), and each page preloads exactly the fonts it draws with, so math
  neither shifts the layout when fonts arrive nor fetches a font it does not use.

The visits are shared with ``test_browser.py`` (``tests/browser.py``); the values are
reported in README.md's "Measured" section and by ``make audit``.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import PurePosixPath

import pytest

from tests.browser import loaded_page, source_pages

PAGES = source_pages()
KIB = 1024
BUDGET = {".md": 200 * KIB, ".ipynb": 400 * KIB}
WEIGHTS = {"normal": "400", "bold": "700"}


@pytest.fixture
def loaded(browser, site_url):
    return lambda path: loaded_page(browser, site_url, path)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return response.read().decode("utf-8")


@pytest.mark.parametrize("path", sorted(PAGES), ids=lambda p: p or "home")
def test_transfer_size_is_within_budget(loaded, path: str) -> None:
    page = loaded(path)
    budget = BUDGET[PAGES[path].suffix]
    heaviest = sorted(page.transfer_bytes.items(), key=lambda item: -item[1])[:8]
    assert page.transfer <= budget, (
        f"{page.url} transfers {page.transfer / KIB:.1f} KiB, budget {budget / KIB:.0f} KiB; heaviest:\n"
        + "\n".join(f"  {size / KIB:7.1f} KiB  {url}" for url, size in heaviest)
    )


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
        used = {faces[(f, WEIGHTS.get(w, w), s)] for f, w, s in page.fonts_loaded if f.startswith("KaTeX_")}
        used_anywhere |= used
        html = _get(page.url)
        preloaded = {
            PurePosixPath(href).name
            for href in re.findall(r'<link rel="preload" href="([^"]+\.woff2?)" as="font"', html)
        }
        if preloaded != used:
            problems.append(f"{page.url}: preloads {sorted(preloaded)}, draws with {sorted(used)}")
    assert not problems, "\n".join(problems)
    assert served == used_anywhere, (
        f"served but used by no page: {sorted(served - used_anywhere)}; used but not served: {sorted(used_anywhere - served)}"
    )
