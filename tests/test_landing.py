"""The landing page cannot go stale: its chapter list is the navigation, and it says where to go.

``docs/index.md`` lists every chapter under "The chapters", as nested Markdown list items
(``- [Title](page.md): what it holds`` for a page, ``- Section`` with indented items for a
section). The list must be the ``nav`` of ``mkdocs.yml`` (read with MkDocs' own
``load_config``), Home left out: the same pages, the same titles, the same sections, in the
same order. A chapter added to the navigation and not to the landing page fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from mkdocs.config import load_config

ROOT = Path(__file__).resolve().parent.parent
LANDING = ROOT / "docs" / "index.md"
REPOSITORY = "https://github.com/lossbook/lossbook"
ITEM = re.compile(r"^(?P<indent> *)- (?:\[(?P<title>[^\]]+)\]\((?P<path>[^)#\s]+)\)(?::.*)?|(?P<section>[^\[].*?))$")

Entry = tuple[int, str, "str | None"]  # depth, title, page (None for a section)


def nav_entries() -> list[Entry]:
    """The navigation as (depth, title, page) in order, sections included, Home left out."""
    config = load_config(str(ROOT / "mkdocs.yml"))
    found: list[Entry] = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, str):
                found.append((depth, item, item))
                continue
            ((title, value),) = item.items()
            if isinstance(value, list):
                found.append((depth, title, None))
                walk(value, depth + 1)
            else:
                found.append((depth, title, value))

    walk(config["nav"], 0)
    return [entry for entry in found if entry[2] != "index.md"]


def landing_entries(text: str) -> list[Entry]:
    """The list under "## The chapters" as (depth, title, page), 4 spaces of indent per level."""
    match = re.search(r"^## The chapters\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, "docs/index.md has no '## The chapters' section"
    found: list[Entry] = []
    for line in match[1].splitlines():
        item = ITEM.match(line)
        if not item:
            continue
        depth = len(item["indent"]) // 4
        if item["section"] is not None:
            found.append((depth, item["section"].strip(), None))
        else:
            found.append((depth, item["title"], item["path"]))
    return found


def test_chapter_list_is_the_navigation() -> None:
    nav = nav_entries()
    landing = landing_entries(LANDING.read_text(encoding="utf-8"))
    assert len(nav) > 10, f"the navigation has only {len(nav)} entries: {nav}"
    missing = [entry for entry in nav if entry not in landing]
    extra = [entry for entry in landing if entry not in nav]
    assert not missing and not extra, (
        "docs/index.md's chapter list differs from mkdocs.yml's nav.\n"
        f"in nav, not on the landing page: {missing}\non the landing page, not in nav: {extra}"
    )
    assert landing == nav, f"same entries, another order:\nlanding: {landing}\nnav:     {nav}"


def test_landing_list_parser_reads_sections_and_pages() -> None:
    text = (
        "## The chapters\n\n- [A](a.md): about a,\n  continued.\n- Part\n    - [B](p/b.md): b.\n"
        "- [C](c.ipynb)\n\n## Next\n- [D](d.md)\n"
    )
    assert landing_entries(text) == [(0, "A", "a.md"), (0, "Part", None), (1, "B", "p/b.md"), (0, "C", "c.ipynb")]


@pytest.fixture(scope="module")
def landing_html(built_site: Path) -> BeautifulSoup:
    return BeautifulSoup((built_site / "index.html").read_text(encoding="utf-8"), "html.parser")


def test_landing_page_says_where_to_go(landing_html: BeautifulSoup) -> None:
    cards = landing_html.select("article .grid.cards li")
    targets = {a.get("href") for card in cards for a in card.find_all("a")}
    assert {"losses/", "cross-entropy-family/", "custom-losses/"} <= targets, targets


def test_landing_page_says_why_to_trust_it(landing_html: BeautifulSoup) -> None:
    article = landing_html.select_one("article")
    links = {a.get("href") for a in article.find_all("a")}
    assert {
        f"{REPOSITORY}/tree/main/tests",  # the tests
        f"{REPOSITORY}/actions/workflows/test.yml",  # the CI
        REPOSITORY,
    } <= links, links
    assert "PyTorch 2.13.0" in article.get_text()
    workflow = ROOT / ".github" / "workflows" / "test.yml"
    assert workflow.is_file(), "the landing page links to a CI workflow that does not exist"


def test_every_page_has_an_edit_link(built_site: Path) -> None:
    soup = BeautifulSoup((built_site / "losses" / "binary" / "index.html").read_text(encoding="utf-8"), "html.parser")
    edits = [a["href"] for a in soup.select("a.md-content__button[href]")]
    assert f"{REPOSITORY}/edit/main/docs/losses/binary.md" in edits, edits
