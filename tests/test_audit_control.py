"""The control of ``make audit`` (``benchmarks/control/``): one page of Material for MkDocs with its
default settings, audited beside the book's pages (``benchmarks/audit.py``) so that each audit
shows what the theme alone scores on the machine at that time.

Built here, in this process, with the installed MkDocs and Material and strictly, as the audit
builds it in a process of its own: it builds, it is Material's own page (its stylesheet and
script, the same ones the book's pages load) with nothing of the book's, and it asks nothing of
another origin (the audit runs offline).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.site_support import built_html, site_url

ROOT = Path(__file__).resolve().parent.parent
CONTROL = ROOT / "benchmarks" / "control" / "mkdocs.yml"
# What a browser fetches when it loads the page (a link to follow, <a href>, is not fetched).
FETCHED = (("link", "href"), ("img", "src"), ("script", "src"), ("source", "src"), ("iframe", "src"))


@pytest.fixture(scope="module")
def control_page(tmp_path_factory: pytest.TempPathFactory):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    site = tmp_path_factory.mktemp("control")
    build(load_config(str(CONTROL), site_dir=str(site), strict=True))
    return built_html(site / "index.html")


def _assets(page, tag: str, attribute: str) -> list[str]:
    return [element[attribute] for element in page.find_all(tag, attrs={attribute: True})]


def test_the_control_is_materials_page_with_nothing_of_the_books(control_page, built_site: Path) -> None:
    generator = control_page.find("meta", attrs={"name": "generator"})["content"]
    assert f"mkdocs-material-{version('mkdocs-material')}" in generator
    stylesheets = [href for href in _assets(control_page, "link", "href") if href.endswith(".css")]
    scripts = _assets(control_page, "script", "src")
    assert len(stylesheets) == 1 and stylesheets[0].startswith("assets/stylesheets/main."), stylesheets
    assert len(scripts) == 1 and scripts[0].startswith("assets/javascripts/bundle."), scripts
    # The same stylesheet and script as the book's pages: the control measures the theme the book uses.
    book = built_html(built_site / "index.html")
    assert stylesheets[0] in _assets(book, "link", "href")
    assert scripts[0] in _assets(book, "script", "src")
    assert not control_page.select(".katex, .arithmatex, img"), "the control holds text only"


def test_the_control_asks_nothing_of_another_origin(control_page) -> None:
    ours = urlsplit(site_url()).netloc
    foreign = [
        f"<{tag} {attribute}={element[attribute]}>"
        for tag, attribute in FETCHED
        for element in control_page.find_all(tag, attrs={attribute: True})
        if urlsplit(element[attribute]).netloc not in ("", ours)
    ]
    assert not foreign, f"the audit runs offline; the control would fetch from another origin: {foreign}"
