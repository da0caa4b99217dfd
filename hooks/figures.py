"""MkDocs hook: serve every figure registered in ``lossbook.plots`` as generated SVG files.

Each figure becomes ``figures/<name>.light.svg`` and ``figures/<name>.dark.svg`` in the build,
so pages link them like any other file and ``--strict`` catches a wrong name, and its narrow
variant for phones ``figures/<name>.narrow.light.svg`` / ``.narrow.dark.svg`` (drawn by the same
function, see ``lossbook/plots.py``). SVGs are cached in ``.cache/figures/`` under a hash of the
lossbook sources, so a rebuild that did not touch ``lossbook/`` does not import matplotlib at all.

Pages keep writing ``![alt](figures/<name>.light.svg#only-light)``: this hook wraps each such
image in a ``<picture>`` whose ``<source>`` gives the narrow variant below ``NARROW_BELOW``
(with its own width and height, so the space is reserved), and the browser picks one. The
image keeps its ``src`` and ``#only-light`` suffix, so Material still hides the other palette's
copy, and ``hooks/page_weight.py`` (listed after this hook) still makes it lazy.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "figures"
THEMES = ("light", "dark")
WIDTHS = ("wide", "narrow")
# Keep in step with lossbook.plots.NARROW_BELOW (not imported here: matplotlib is slow to import).
NARROW_BELOW = "44.9375em"

FIGURE_IMG = re.compile(
    r'<img\b[^>]*?\ssrc="(?P<prefix>[^"]*?)figures/(?P<name>[\w-]+)\.(?P<theme>light|dark)\.svg(?P<fragment>#[\w-]*)?"[^>]*>'
)
SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="(?P<w>[\d.]+)(?P<wu>pt|px)?"[^>]*?\sheight="(?P<h>[\d.]+)(?P<hu>pt|px)?"')
PX_PER_UNIT = {"pt": 4 / 3, "px": 1.0, None: 1.0}

_svgs: dict[str, str] = {}


def file_name(name: str, theme: str, width: str = "wide") -> str:
    return f"{name}.{theme}.svg" if width == "wide" else f"{name}.{width}.{theme}.svg"


def _sources_key() -> str:
    digest = hashlib.sha256(importlib.metadata.version("matplotlib").encode())
    for path in sorted((ROOT / "lossbook").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _render_all(key: str) -> dict[str, str]:
    """Return {file name: svg text}, from the cache when lossbook has not changed."""
    index = CACHE / f"{key}.json"
    if index.exists():
        return json.loads(index.read_text())
    from lossbook import plots  # imported only on a cache miss: matplotlib is slow to import

    if plots.NARROW_BELOW != NARROW_BELOW:
        raise ValueError(f"hooks/figures.py NARROW_BELOW {NARROW_BELOW} != lossbook.plots.NARROW_BELOW {plots.NARROW_BELOW}")
    svgs = {
        file_name(name, theme, width): plots.render_svg(name, theme, width)
        for name in sorted(plots.FIGURES)
        for width in WIDTHS
        for theme in THEMES
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = index.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(svgs))
    partial.replace(index)  # atomic: parallel builds never read half a file
    return svgs


def _size(svg: str) -> tuple[int, int] | None:
    match = SVG_SIZE.search(svg[:2000])
    if not match:
        return None
    return round(float(match["w"]) * PX_PER_UNIT[match["wu"]]), round(float(match["h"]) * PX_PER_UNIT[match["hu"]])


def on_files(files: Files, config) -> Files:
    _svgs.clear()
    _svgs.update(_render_all(_sources_key()))
    for name, svg in _svgs.items():
        files.append(File.generated(config, f"figures/{name}", content=svg))
    return files


def _with_narrow_source(match: re.Match[str]) -> str:
    narrow = file_name(match["name"], match["theme"], "narrow")
    svg = _svgs.get(narrow)
    if svg is None:
        return match[0]  # not a registered figure: --strict reports the missing file
    size = _size(svg)
    dimensions = f' width="{size[0]}" height="{size[1]}"' if size else ""
    srcset = html.escape(f"{match['prefix']}figures/{narrow}")
    media = f"(max-width: {NARROW_BELOW})"
    return f'<picture><source media="{media}" srcset="{srcset}" type="image/svg+xml"{dimensions}>{match[0]}</picture>'


def on_page_content(html_text: str, page, config, files) -> str:
    return FIGURE_IMG.sub(_with_narrow_source, html_text)
