"""Links, anchors and page metadata of the built site, read from its HTML (no browser needed).

* every internal link (``<a href>``, ``<link href>``, ``<img src>``, ``<script src>``) of every
  page resolves to a file of the site, and every ``#fragment`` to an element of the target page
  (an ``id``, or an ``<a name>``); absolute links to ``site_url`` count as internal;
* every page has a non-empty ``<meta name="description">``, and a Markdown page's is the
  ``description:`` of its front matter (what search engines show under the title).

``404.html`` is left out: its links are absolute from ``site_url`` (``/lossbook/...``), as a
static host needs for an error page served at any depth, so they resolve only once deployed.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml

from tests.site_support import built_html, site_url, source_pages

ROOT = Path(__file__).resolve().parent.parent
SITE_URL = site_url()
PAGES = source_pages()
LINKING = (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"), ("source", "src"), ("iframe", "src"))
BASE = "http://site.invalid/"  # a stand-in origin to resolve relative URLs against


def html_files(site: Path) -> list[Path]:
    return sorted(path for path in site.rglob("*.html") if path.relative_to(site).as_posix() != "404.html")


@cache
def _anchors(path: Path) -> frozenset[str]:
    soup = built_html(path)
    return frozenset(
        [element["id"] for element in soup.find_all(id=True)] + [a["name"] for a in soup.find_all("a", attrs={"name": True})]
    )


def _target(site: Path, url_path: str) -> Path | None:
    """The file a static host serves for ``url_path`` (``/x/`` -> ``x/index.html``)."""
    candidate = site / unquote(url_path).lstrip("/")
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def broken_links(site: Path, page: Path) -> list[str]:
    page_url = urljoin(BASE, page.relative_to(site).as_posix())
    problems = []
    for tag, attribute in LINKING:
        for element in built_html(page).find_all(tag):
            raw = element.get(attribute)
            if not raw or (tag == "link" and "canonical" in (element.get("rel") or [])):
                continue
            if raw.startswith(SITE_URL):
                raw = "/" + raw[len(SITE_URL):]
            url = urlsplit(urljoin(page_url, raw))
            if f"{url.scheme}://{url.netloc}/" != BASE:
                continue  # another origin (https:, mailto:...): not this check's business
            target = _target(site, url.path)
            if target is None:
                problems.append(f"<{tag} {attribute}={raw!r}>: no file at {url.path}")
            elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _anchors(target):
                problems.append(f"<{tag} {attribute}={raw!r}>: no #{unquote(url.fragment)} in {target.relative_to(site)}")
    return problems


def test_the_site_has_pages(built_site: Path) -> None:
    assert len(html_files(built_site)) >= len(PAGES)


def test_every_internal_link_and_anchor_resolves(built_site: Path) -> None:
    problems = {
        page.relative_to(built_site).as_posix(): found
        for page in html_files(built_site)
        if (found := broken_links(built_site, page))
    }
    assert not problems, "broken links:\n" + "\n".join(
        f"{page}:\n" + "\n".join(f"  {problem}" for problem in found) for page, found in problems.items()
    )


def _front_matter_description(source: Path) -> str | None:
    match = re.match(r"---\n(.*?)\n---\n", source.read_text(encoding="utf-8"), re.DOTALL)
    return (yaml.safe_load(match[1]) or {}).get("description") if match else None


@pytest.mark.parametrize("path", sorted(PAGES), ids=lambda p: p or "home")
def test_every_page_has_a_meta_description(built_site: Path, path: str) -> None:
    html = built_site / path / "index.html"
    assert html.is_file(), f"{PAGES[path]} was not built to {html}"
    meta = built_html(html).find("meta", attrs={"name": "description"})
    content = (meta.get("content") or "").strip() if meta else ""
    assert content, f"{html.relative_to(built_site)} has no meta description"
    if PAGES[path].suffix == ".md":
        wanted = _front_matter_description(PAGES[path])
        assert wanted, f"{PAGES[path].relative_to(ROOT)} has no 'description:' in its front matter"
        assert content == " ".join(wanted.split()), f"{html}: meta description is not the page's own"
