"""MkDocs hook: images load lazily and carry their size.

Every page shows each figure twice, ``#only-light`` and ``#only-dark``, one of them hidden by
Material's CSS. Each ``<img>`` of a page gets ``loading="lazy" decoding="async"`` (a hidden
image is then never fetched, and a figure further down is fetched as the reader scrolls to it)
and, for an SVG of the site that has none, ``width`` and ``height`` read from the SVG's root
element, so the space is reserved and nothing moves when the figure arrives.

It does so in ``on_env``, after every page's ``on_page_content``: the figures are drawn while the
pages are rendered, and ``hooks/figures.py`` (listed before this hook) waits for them in its own
``on_env``. No hook after these two reads a page's images.
"""

from __future__ import annotations

import posixpath
import re

from bs4 import BeautifulSoup

SVG_ROOT = re.compile(r"<svg\b[^>]*>")
LENGTH = re.compile(r'\s(?P<name>width|height)="(?P<value>[\d.]+)(?P<unit>pt|px)?"')
PX_PER_UNIT = {"pt": 4 / 3, "px": 1.0, None: 1.0}


def svg_size(svg: str) -> tuple[int, int] | None:
    """(width, height) in CSS pixels of an SVG document whose root element states them."""
    root = SVG_ROOT.search(svg[:4000])
    if root is None:
        return None
    lengths = {m["name"]: float(m["value"]) * PX_PER_UNIT[m["unit"]] for m in LENGTH.finditer(root[0])}
    if len(lengths) != 2:
        return None
    return round(lengths["width"]), round(lengths["height"])


def _site_path(page_url: str, src: str) -> str:
    """The path inside the site of ``src``, an image URL relative to the page at ``page_url``."""
    folder = posixpath.dirname(page_url.rstrip("/") + "/x") if page_url else ""
    return posixpath.normpath(posixpath.join(folder, src.split("#")[0])).lstrip("/")


IMG = re.compile(r"<img\b[^>]*>")


def _with_size(tag: str, page_url: str, files) -> str:
    image = BeautifulSoup(tag, "html.parser").img  # one tag: its attributes parsed by the library
    if image is None or image.has_attr("loading"):
        return tag
    image["loading"] = "lazy"
    image["decoding"] = "async"
    src = image.get("src", "")
    if src.split("#")[0].endswith(".svg") and "://" not in src and not image.has_attr("width"):
        file = files.get_file_from_path(_site_path(page_url, src))
        size = svg_size(file.content_string) if file is not None else None
        if size:
            image["width"], image["height"] = str(size[0]), str(size[1])
    return image.decode()


def on_env(env, config, files):
    """Every rendered page's images, once the figures are drawn (``hooks/figures.py``'s ``on_env``)."""
    for page in (file.page for file in files if file.page is not None and file.page.content is not None):
        page.content = IMG.sub(lambda match: _with_size(match[0], page.url, files), page.content)
    return env
