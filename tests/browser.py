"""A real browser over the built site: fixtures, and one recorded visit per page and configuration.

``tests/conftest.py`` registers this module as a pytest plugin (``pytest_plugins``), so every
test can ask for its fixtures: :func:`site_url` (the built site served with gzip on 127.0.0.1,
``tests/site_support.py``), :func:`browser` (Debian's Chromium driven by Playwright: one
browser for the whole session) and :func:`phone` (the pages at 390 px). Chromium is Debian's
headless shell, ``/usr/bin/chromium-headless-shell`` (package ``chromium-headless-shell``:
Chromium's Blink and rendering without the windowed browser around it, as Playwright runs
headless; less CPU for the suite than ``/usr/bin/chromium``, README.md's "Measured"), or the
path in ``LOSSBOOK_CHROMIUM``; Playwright's own downloaded browsers are never used. Without
Chromium or the ``playwright`` package the browser tests skip, saying what to install; with
``REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.

The pages are those of ``nav:`` in ``mkdocs.yml`` (``tests/site_support.py``). Each page is loaded
once per configuration:

* :func:`visit`: 1280x800 in a fresh browser context (cold cache, as a first-time reader gets
  it): console, requests, bytes on the wire, math, fonts, images, axe-core and the wide layout
  (code blocks, figures), in light mode, then in dark mode switched with the page's own toggle;
* :func:`phone` (fixture): 390x844, one context per colour scheme (``prefers-color-scheme``)
  for all pages: the page's width, display formulas, tables, figures and images.

Both are made ahead, as soon as the site is built, each kind in a thread with its own Chromium
(:func:`prefetched_visits`); the tests read the records.

Nothing waits for "network idle": a load waits for the load event, then for what the checks read,
each explicitly: the search index and the sitemap (responses Material's script asks for), web
fonts (``document.fonts.ready``), the copy buttons (elements), the images in view (their
``complete`` flag or load event), and every request still in flight (its response). Timeouts
are generous and name what did not arrive, so a slow machine is slow, not broken.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import urllib.request
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.background import once
from tests.site_support import ROOT, nav_pages, source_pages  # noqa: F401 - source_pages: used via this module

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("LOSSBOOK_CHROMIUM", "/usr/bin/chromium-headless-shell")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
WIDE = {"width": 1280, "height": 800}  # both sidebars shown: every nav link visible
PHONE = {"width": 390, "height": 844}
VIEWPORT = WIDE
SCHEMES = ("light", "dark")
WAIT_MS = 60_000  # for anything the page loads: generous, so a busy machine is slow, not failing
# Legible text in a figure, as drawn on screen: the font size in CSS px, the SVG's own size
# times the scale the page draws it at. 10 px is 5/8 of the book's 16 px body text; the wide
# two-panel figures drew their ticks at 5 to 6 px on a phone (issue 10). Sub- and superscripts
# are drawn by matplotlib at 0.7 of their base size, and are held to 0.7 of the bound.
LEGIBLE_PX = 10.0
SCRIPT_SCALE = 0.7
NARROW_MIN_WIDTH = 340  # px: at 390, a figure's narrow variant fills the 358 px text column


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def served_site(request: pytest.FixtureRequest) -> Path:
    """The site the browser tests look at: the session's ``built_site``.

    ``LOSSBOOK_SITE=/path/to/site`` takes a site built beforehand instead (for working on the
    browser checks without rebuilding).
    """
    prebuilt = os.environ.get("LOSSBOOK_SITE")
    return Path(prebuilt) if prebuilt else request.getfixturevalue("built_site")


_server = contextlib.ExitStack()
# The visits at 1280 px and on the phone load each page from a second server of the same site,
# whose pages arrive in PIECES pieces, 10 ms apart (about 1.5 s a page): the browser draws
# frames of half-parsed pages, and a block that moves as the rest of it arrives shows as a layout
# shift (a centred formula, a table's columns: hooks/offscreen.py). The headless shell draws
# fewer of those frames than the full Chromium did with 100 pieces; with 150 it finds as many
# shifts (README.md, Measured). Its URL, by the session's.
PIECES = 150
# The threads that make the visits ahead (prefetched_visits), each with a Chromium.
PREFETCH_THREADS = 2
_in_pieces: dict[str, str] = {}


def session_url(site: Path) -> str:
    """The site served with gzip on loopback for the rest of the session (one server, and the
    one that sends pages in pieces, started by the first to ask: the prefetch thread or the
    ``site_url`` fixture)."""
    from tests.site_support import serve

    def start() -> str:
        url = _server.enter_context(serve(site))
        _in_pieces[url] = _server.enter_context(serve(site, pieces=PIECES))
        return url

    return once("site server", start)


@pytest.fixture(scope="session")
def site_url(served_site: Path, prefetched_visits) -> str:
    """The site served with gzip on loopback, under the path of ``site_url``, for the session
    (closed after the prefetch thread has stopped: :func:`prefetched_visits`)."""
    return session_url(served_site)


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright; make does it)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM}: install it (apt-get install chromium-headless-shell) or set LOSSBOOK_CHROMIUM"
    if not AXE.is_file():
        return f"{AXE.relative_to(ROOT)} is missing: run npm ci (make does it)"
    return None


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium headless shell (:data:`CHROMIUM`), shared by every browser test."""
    reason = missing_browser()
    if reason:
        _unavailable(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# --- What the page is asked --------------------------------------------------------------------

# Collected in the page before any of its scripts run: layout shifts (as Lighthouse counts them),
# and what moved in each, for the failure message: the element, where it was and where it went.
INIT_SCRIPT = """
window.__layoutShift = 0;
window.__layoutShiftSources = [];
const describeShifted = node => {
  if (!node) return "(an element since removed)";
  const el = node.nodeType === 1 ? node : node.parentElement;
  if (!el) return "(a node outside the document)";
  const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].slice(0, 3).map(c => "." + c).join("");
  return `${name} "${(el.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 40)}"`;
};
const box = r => `${Math.round(r.x)},${Math.round(r.y)} ${Math.round(r.width)}x${Math.round(r.height)}`;
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__layoutShift += entry.value;
    window.__layoutShiftSources.push(`${entry.value.toFixed(4)} at ${Math.round(entry.startTime)} ms: `
      + (entry.sources || []).map(s => `${describeShifted(s.node)} ${box(s.previousRect)} -> ${box(s.currentRect)}`).join("; "));
  }
}).observe({type: "layout-shift", buffered: true});
"""

# Text of the content outside code and rendered math: TeX delimiters or commands left there mean
# a formula was not rendered.
RAW_TEX_JS = """() => {
  const article = document.querySelector("article").cloneNode(true);
  article.querySelectorAll("pre, code, .katex, .highlight, script, style").forEach(e => e.remove());
  return article.textContent;
}"""
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\(?:frac|sum|mathrm|begin|end|left|right|log|exp)\b|\$[^\s$][^$\n]*\$")

MATH_JS = """() => ({
  rendered: document.querySelectorAll("article .katex").length,
  errors: document.querySelectorAll(".katex-error").length,
  unrendered: document.querySelectorAll(".arithmatex, script[type^='math/']").length,
})"""

# Material mounts a code block (its copy button) when the block scrolls into view
# (`content.lazy` in mkdocs.yml): ready when every block shown in the viewport has its button.
SHOWN_CODE_JS = """(inView) => [...document.querySelectorAll("article pre > code")].filter(code => {
  const box = code.parentElement.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && (!inView || (box.bottom > 0 && box.top < innerHeight));
})"""
CODE_BUTTONS_READY_JS = f"""() => ({SHOWN_CODE_JS})(true)
  .every(code => code.parentElement.querySelector(":scope > .md-code__nav"))"""
# The page scrolled down a screen at a time, so that Material mounts each block as it comes into
# view; then any block still without its button (one that grew past a step as the blocks above
# it were drawn) scrolled into view on its own; then back up.
MOUNT_ALL_CODE_JS = f"""async () => {{
  const frame = () => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  for (let top = 0; top < document.documentElement.scrollHeight; top += innerHeight) {{
    scrollTo(0, top);
    await frame();
  }}
  for (const code of ({SHOWN_CODE_JS})(false)) {{
    if (code.parentElement.querySelector(":scope > .md-code__nav")) continue;
    code.parentElement.scrollIntoView({{block: "center"}});
    await frame();
  }}
  scrollTo(0, 0);
}}"""
ALL_CODE_BUTTONS_JS = f"""() => ({SHOWN_CODE_JS})(false)
  .every(code => code.parentElement.querySelector(":scope > .md-code__nav"))"""

# Shown and starting less than ``below`` px under the viewport's bottom (0: inside the viewport,
# an image the browser fetches now, lazy or not).
SHOWN_WITHIN_JS = """(img, below) => {
  const box = img.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight + below && getComputedStyle(img).display !== "none";
}"""
IMAGES_IN_VIEW_COMPLETE_JS = f"() => [...document.images].filter(img => ({SHOWN_WITHIN_JS})(img, 0)).every(img => img.complete)"

# What a cold load transfers depends on how far ahead of the reader the browser fetches lazy
# images: Chrome fetches those within 1,250 px below the screen on a fast connection (2,500 px
# and more on slower ones); the headless shell that runs these tests fetches further ahead (at
# 1280x800, regularization's figure 2,759 px below the screen: 16 kB on the wire). The budget
# counts the images a reader's Chrome fetches on a fast connection: those shown and starting
# within LAZY_MARGIN_PX below the first screen (their URLs, without the fragment).
LAZY_MARGIN_PX = 1250
IMAGES_AT_LOAD_JS = f"""(margin) => [...document.images].filter(img => ({SHOWN_WITHIN_JS})(img, margin))
  .map(img => {{ const url = new URL(img.currentSrc || img.src); url.hash = ""; return url.href; }})"""
# The page's icon: a browser with tabs fetches it with the page, the headless shell does not;
# fetched here so that its bytes count as they would for a reader.
FETCH_ICON_JS = """async () => {
  const icon = document.querySelector('link[rel~="icon"]');
  if (!icon) return "";
  await (await fetch(icon.href, {cache: "no-store"})).arrayBuffer();
  return icon.href;
}"""

# Images are lazy (hooks/images.py): make each load now and wait for its load or error
# event (up to timeoutMs), then list those that failed and those still loading.
IMAGES_JS = """async (timeoutMs) => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  const settled = img => img.complete ? Promise.resolve() : new Promise(done => {
    img.addEventListener("load", done, {once: true});
    img.addEventListener("error", done, {once: true});
  });
  let timer;
  const timeout = new Promise(done => { timer = setTimeout(done, timeoutMs); });
  await Promise.race([Promise.all(images.map(settled)), timeout]);
  clearTimeout(timer);
  const name = img => img.currentSrc || img.src;
  return {
    broken: images.filter(img => img.complete && !(img.naturalWidth > 0 && img.naturalHeight > 0)).map(name),
    loading: images.filter(img => !img.complete).map(name),
  };
}"""

FONTS_JS = """() => [...document.fonts].filter(f => f.status === "loaded")
  .map(f => [f.family.replace(/"/g, ""), f.weight, f.style])"""

# Every rule in light mode; in dark mode only the rules whose result depends on colours (the
# page's elements and text are the same in both).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
# Text in code blocks and formulas is drawn in a few styles, each on hundreds of spans, and
# axe-core's contrast rule works out the colours in front of and behind every one of them: most
# of axe-core's time on a long page. A span whose text style and whose ancestors' backgrounds are
# those of a span already checked on the page gives the same result, so for the run it is hidden
# from axe-core (visibility: hidden keeps its box: nothing moves) and shown again afterwards.
# Only spans that draw nothing but their text are hidden: no child element, no background of
# their own; what lies behind the others is the same with them hidden. Same style means the same
# colour, text fill and stroke, size, weight, shadow, opacity, filter and blending, and the same
# backgrounds (colour, image, ::before and ::after), opacity, filter and blending in each
# ancestor. tests/test_browser.py checks that a low-contrast token or formula is still found.
REPEATED_TEXT_CLASS = "lossbook-axe-repeat"
HIDE_REPEATED_TEXT_JS = f"""() => {{
  const own = s => [s.color, s.webkitTextFillColor, s.webkitTextStrokeColor, s.webkitTextStrokeWidth, s.fontSize,
    s.fontWeight, s.textShadow, s.opacity, s.filter, s.mixBlendMode].join(";");
  const layer = s => [s.backgroundColor, s.backgroundImage, s.opacity, s.filter, s.mixBlendMode, s.backdropFilter].join(";");
  const behind = new Map();
  const ancestry = el => {{
    if (!el) return "";
    if (!behind.has(el)) {{
      behind.set(el, ancestry(el.parentElement) + "|" + layer(getComputedStyle(el))
        + layer(getComputedStyle(el, "::before")) + layer(getComputedStyle(el, "::after")));
    }}
    return behind.get(el);
  }};
  const seen = new Set();
  const repeats = [...document.querySelectorAll("article pre *, article .katex *")].filter(el => {{
    if (el.childElementCount || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) return false;
    const style = getComputedStyle(el);
    if (style.backgroundImage !== "none" || !/^rgba\\(.*, 0\\)$|^transparent$/.test(style.backgroundColor)) return false;
    const key = ancestry(el.parentElement) + "#" + own(style);
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  }});
  const hide = document.createElement("style");
  hide.id = "{REPEATED_TEXT_CLASS}";
  hide.textContent = ".{REPEATED_TEXT_CLASS} {{ visibility: hidden !important; }}";
  document.head.append(hide);
  repeats.forEach(el => el.classList.add("{REPEATED_TEXT_CLASS}"));
  return repeats.length;
}}"""
SHOW_REPEATED_TEXT_JS = f"""() => {{
  document.querySelectorAll(".{REPEATED_TEXT_CLASS}").forEach(el => el.classList.remove("{REPEATED_TEXT_CLASS}"));
  document.getElementById("{REPEATED_TEXT_CLASS}").remove();
}}"""
# axe-core on the page (``rules``: only those, or all), repeated text styles hidden for the run:
# the violations, and how many elements were left out as repeats.
AXE_JS = f"""async (rules) => {{
  const options = {{resultTypes: ["violations"]}};
  if (rules) options.runOnly = {{type: "rule", values: rules}};
  const repeats = ({HIDE_REPEATED_TEXT_JS})();
  let result;
  try {{
    result = await axe.run(document, options);
  }} finally {{
    ({SHOW_REPEATED_TEXT_JS})();
  }}
  return {{repeats, violations: result.violations.map(v => ({{
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 300)),
    count: v.nodes.length,
  }}))}};
}}"""

# Where an element is, for messages: the heading it follows and the start of its text.
WHERE_JS = """
const where = (el, text) => {
  const heading = document.evaluate("preceding::*[self::h1 or self::h2 or self::h3 or self::h4][@id][1]",
    el, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  const snippet = (text ?? el.textContent).replace(/\\s+/g, " ").trim().slice(0, 60);
  return `${heading ? "#" + heading.id : "top"}: ${JSON.stringify(snippet)}`;
};
"""

# Shows every code block for measuring: tabs that are not selected and closed <details>.
REVEAL_CSS = ".tabbed-set > .tabbed-content > .tabbed-block { display: block !important; }"

# The sides of an element on which an inset box-shadow of a visible colour shows: a negative
# horizontal offset throws it on the right edge, a positive one on the left.
SHADOW_SIDES_JS = """
const shadowSides = el => {
  const sides = {left: false, right: false};
  const shadows = getComputedStyle(el).boxShadow;
  if (shadows === "none") return sides;
  for (const shadow of shadows.split(/,(?![^(]*\\))/)) {
    if (!/\\binset\\b/.test(shadow)) continue;
    const colour = shadow.match(/rgba?\\([^)]*\\)/);
    const alpha = colour ? (colour[0].startsWith("rgba") ? parseFloat(colour[0].split(",")[3]) : 1) : 1;
    const offset = parseFloat(shadow.replace(/rgba?\\([^)]*\\)/, "").trim().split(/\\s+/)[0]);
    if (alpha > 0.05 && offset < 0) sides.right = true;
    if (alpha > 0.05 && offset > 0) sides.left = true;
  }
  return sides;
};
"""

# At 1280: each code block's overflow, and whether the copy button covers text of its first line.
CODE_JS = WHERE_JS + """() => {
  document.querySelectorAll("article details:not([open])").forEach(d => { d.open = true; });
  const intersects = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const firstLine = code => {
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let node, started = false;
    while ((node = walker.nextNode())) {
      const text = node.textContent;
      if (!started) {
        if (!text.trim()) continue;
        range.setStart(node, text.length - text.trimStart().length);
        started = true;
      }
      const end = text.indexOf("\\n");
      if (end >= 0) { range.setEnd(node, end); return range; }
      range.setEnd(node, text.length);
    }
    return started ? range : null;
  };
  return [...document.querySelectorAll("article pre")].filter(pre => pre.getClientRects().length).map(pre => {
    const code = pre.querySelector(":scope > code") || pre;
    const line = firstLine(code);
    const button = pre.querySelector(":scope > .md-code__nav");
    const covered = line && button ? [...line.getClientRects()].filter(r => r.width > 0)
      .some(r => intersects(r, button.getBoundingClientRect())) : false;
    return {
      where: where(pre, line ? line.toString() : ""),
      overflow: Math.max(pre.scrollWidth - pre.clientWidth, code.scrollWidth - code.clientWidth),
      covered,
    };
  });
}"""

# The figures shown (one palette's copy of each): which file the browser chose and how wide it
# is drawn. Run after IMAGES_JS, so lazy figures have loaded.
FIGURES_JS = WHERE_JS + """() => [...document.querySelectorAll("article img")]
  .filter(img => /(^|\\/)figures\\/[^\\/]+\\.svg(#|$)/.test(img.getAttribute("src") || ""))
  .filter(img => getComputedStyle(img).display !== "none" && img.getClientRects().length)
  .map(img => ({
    where: where(img.closest("figure") || img, img.alt),
    src: img.currentSrc,
    width: img.getBoundingClientRect().width,
    narrow: !!img.parentElement.matches("picture") && !!img.parentElement.querySelector("source[media]"),
  }))"""

# Text sizes of an SVG opened as a document, at its natural size: the font size of each text
# run times the scale its transforms draw it at. A run smaller than the largest run of its
# <text> element is a sub- or superscript.
SVG_TEXT_JS = """() => {
  const svg = document.documentElement;
  const scaleOf = el => { const m = el.getScreenCTM(); return Math.hypot(m.a, m.b); };
  const base = [], script = [];
  for (const text of svg.querySelectorAll("text")) {
    const runs = [...text.querySelectorAll("tspan")].filter(t => t.textContent.trim());
    const sized = (runs.length ? runs : [text]).map(el => ({
      px: parseFloat(getComputedStyle(el).fontSize) * scaleOf(text), text: el.textContent.trim(),
    }));
    const largest = Math.max(...sized.map(s => s.px));
    for (const s of sized) (s.px < largest - 0.01 ? script : base).push(s);
  }
  const smallest = list => list.reduce((a, b) => (b.px < a.px ? b : a), {px: Infinity, text: ""});
  return {width: svg.getBoundingClientRect().width, base: smallest(base), script: smallest(script)};
}"""

# At 390: what makes the page wider than the window (elements sticking out of the viewport
# that no scrolling box of their own contains).
# The page title's box below the last line of its visible text, in px (an empty line there is
# a blank band under the title: Material's permalink wrapped alone onto it, invisible).
TITLE_BLANK_JS = """() => {
  const title = document.querySelector("article h1");
  if (!title) return 0;
  const range = document.createRange();
  let bottom = title.getBoundingClientRect().top;
  const walker = document.createTreeWalker(title, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement, style = getComputedStyle(parent);
    if (!walker.currentNode.textContent.trim() || style.opacity === "0" || style.visibility !== "visible") continue;
    range.selectNodeContents(walker.currentNode);
    for (const rect of range.getClientRects()) bottom = Math.max(bottom, rect.bottom);
  }
  const box = title.getBoundingClientRect(), padding = parseFloat(getComputedStyle(title).paddingBottom);
  return Math.round(box.bottom - padding - bottom);
}"""

PAGE_WIDTH_JS = WHERE_JS + """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = el => { const s = getComputedStyle(el); return /auto|scroll|hidden|clip/.test(s.overflowX); };
  const culprits = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right <= width + 1 || !box.width) continue;
    let parent = el.parentElement, contained = false;
    while (parent && parent !== document.body) {
      if (scrolls(parent) && parent.getBoundingClientRect().right <= width + 1) { contained = true; break; }
      parent = parent.parentElement;
    }
    if (!contained) culprits.push(`<${el.tagName.toLowerCase()} class="${el.className}"> to ${Math.round(box.right)} px, ${where(el)}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, culprits: culprits.slice(0, 8)};
}"""

# At 390: each display formula, whether it is wider than its box, whether the box can scroll,
# and on which sides an inner shadow shows (layout.css; a visible colour, offset inwards from
# that side), as the box is at its start (scrollLeft 0).
FORMULAS_JS = WHERE_JS + SHADOW_SIDES_JS + """() => [...document.querySelectorAll("article .katex-display")]
  .filter(el => el.getClientRects().length)
  .map(el => {
    el.scrollLeft = 0;
    const tex = el.querySelector("annotation[encoding='application/x-tex']");
    const sides = shadowSides(el);
    return {
      where: where(el, tex ? tex.textContent : el.textContent),
      overflow: el.scrollWidth - el.clientWidth,
      scrolls: /auto|scroll/.test(getComputedStyle(el).overflowX),
      shadow_left: sides.left, shadow_right: sides.right,
    };
  })"""

# Hides the glyphs of the formulas and the fixed page chrome, so a screenshot of a formula's box
# shows only what its own background draws: the page colour, and the shadows that say "more".
SHADOWS_ONLY_CSS = """
article .katex-display > * { visibility: hidden !important; }
.md-header, .md-tabs, .md-top, .md-dialog { visibility: hidden !important; }
"""

# At 390: table cells with an identifier broken over two lines, and tables wider than the column
# without a scrolling box of their own.
TABLES_JS = WHERE_JS + """() => {
  const problems = [];
  const article = document.querySelector("article").getBoundingClientRect();
  for (const table of document.querySelectorAll("article table")) {
    if (!table.getClientRects().length) continue;
    for (const code of table.querySelectorAll("td code, th code")) {
      if (code.getClientRects().length > 1) problems.push(`identifier broken over lines: ${where(code)}`);
    }
    if (table.getBoundingClientRect().right > article.right + 1) {
      let box = table.parentElement, scrolls = false;
      while (box && box.tagName !== "ARTICLE") {
        if (/auto|scroll/.test(getComputedStyle(box).overflowX) && box.scrollWidth > box.clientWidth) { scrolls = true; break; }
        box = box.parentElement;
      }
      if (!scrolls) problems.push(`table wider than the column and not in a scrolling box: ${where(table)}`);
    }
  }
  return problems;
}"""


# --- Records -----------------------------------------------------------------------------------


@dataclass
class Visit:
    """What one page showed at 1280x800 (light, then dark)."""

    url: str
    ok: bool = False  # the page itself loaded (status 200)
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    # URL -> bytes on the wire: what the page fetched by the time it was ready (LAZY_MARGIN_PX for
    # its images) and its icon
    transfer_bytes: dict[str, int] = field(default_factory=dict)
    images_at_load: list[str] = field(default_factory=list)  # IMAGES_AT_LOAD_JS
    icon: str = ""  # the URL of the page's icon
    math: dict = field(default_factory=dict)
    raw_tex: list[str] = field(default_factory=list)
    broken_images: dict[str, list[str]] = field(default_factory=dict)  # scheme -> image URLs
    loading_images: dict[str, list[str]] = field(default_factory=dict)  # scheme -> still loading
    axe: dict[str, list[dict]] = field(default_factory=dict)  # scheme -> violations
    layout_shift: float = 0.0
    layout_shift_sources: list[str] = field(default_factory=list)  # one line per shift: what moved
    fonts_loaded: list[tuple[str, str, str]] = field(default_factory=list)
    code_blocks: list[dict] = field(default_factory=list)  # CODE_JS
    figures: dict[str, list[dict]] = field(default_factory=dict)  # scheme -> FIGURES_JS + text sizes

    @property
    def transfer(self) -> int:
        return sum(self.transfer_bytes.values())


@dataclass
class PhoneVisit:
    """What one page showed at 390x844 in one colour scheme."""

    url: str
    scheme: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    page_width: dict = field(default_factory=dict)  # PAGE_WIDTH_JS
    formulas: list[dict] = field(default_factory=list)  # FORMULAS_JS + the shadows seen
    table_problems: list[str] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    loading_images: list[str] = field(default_factory=list)
    figures_fetched: list[str] = field(default_factory=list)  # figure files loaded before any was forced
    layout_shift: float = 0.0
    layout_shift_sources: list[str] = field(default_factory=list)  # one line per shift: what moved
    title_blank: int = 0  # TITLE_BLANK_JS
    code_blocks: list[dict] = field(default_factory=list)  # CODE_JS, every block mounted (light only)


def format_violations(violations: list[dict]) -> str:
    return "\n".join(
        f"  {v['id']} ({v['impact']}, {v['count']} elements): {v['help']}\n" + "\n".join(f"    {n}" for n in v["nodes"])
        for v in violations
    )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Requests:
    """The requests of a context: those still in flight, and problems (failed, other origins)."""

    def __init__(self, context, origin: str, record, failures: bool = True) -> None:
        self.pending: dict = {}
        self.finished: list = []
        self.closing = False
        self.record = record

        def on_request(request) -> None:
            self.pending[id(request)] = request
            if urlsplit(request.url).scheme not in ("data", "blob", "about") and origin_of(request.url) != origin:
                self.record.foreign_requests.append(request.url)

        def on_finished(request) -> None:
            self.pending.pop(id(request), None)
            self.finished.append(request)

        def on_failed(request) -> None:
            self.pending.pop(id(request), None)
            if failures and not self.closing:  # requests cut off by closing the context are not the page's fault
                self.record.failed_requests.append(f"{request.failure} {request.url}")

        def on_response(response) -> None:
            if response.status >= 400:
                self.record.failed_requests.append(f"{response.status} {response.url}")

        context.on("request", on_request)
        context.on("requestfinished", on_finished)
        context.on("requestfailed", on_failed)
        context.on("response", on_response)

    def settle(self) -> None:
        """Wait until every request started so far has its response body (or has failed)."""
        for request in list(self.pending.values()):
            response = request.response()  # None if it failed
            if response is not None:
                response.finished()


def record_problems(page, context, visit, origin: str, failures: bool = True) -> Requests:
    """Listen for console errors, failed requests and requests to other origins.

    ``failures=False`` leaves out failed requests: where one tab goes from page to page, a
    request the previous page left in flight is cancelled by the next load.
    """
    requests = Requests(context, origin, visit, failures)
    page.on(
        "console",
        lambda message: message.type == "error"
        and visit.console_errors.append(f"{message.text} ({message.location.get('url') or 'page'})"),
    )
    page.on("pageerror", lambda error: visit.console_errors.append(f"uncaught: {error}"))
    return requests


def new_context(browser, viewport: dict | None = None, **options):
    context = browser.new_context(viewport=viewport or VIEWPORT, **options)
    context.add_init_script(INIT_SCRIPT)
    context.set_default_timeout(WAIT_MS)
    return context


def _is_search_index(response) -> bool:
    return urlsplit(response.url).path.endswith("/search/search_index.json")


def open_page(page, url: str, requests: Requests, first_in_context: bool = True):
    """Go to ``url`` and wait until it is ready to be measured; return the response.

    Ready: the load event; in a fresh context also the search index that Material's script
    fetches (it counts in the page's weight); web fonts; the copy buttons; the images in view;
    and every request started so far.
    """
    if first_in_context:
        with page.expect_response(_is_search_index, timeout=WAIT_MS) as index:
            response = page.goto(url, wait_until="load", timeout=WAIT_MS)
        index.value.finished()
    else:
        response = page.goto(url, wait_until="load", timeout=WAIT_MS)
    if response is None or not response.ok:
        return response
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_function(CODE_BUTTONS_READY_JS, timeout=WAIT_MS)
    wait_for_images_in_view(page, requests)
    return response


def wait_for_images_in_view(page, requests: Requests) -> None:
    page.wait_for_function(IMAGES_IN_VIEW_COMPLETE_JS, timeout=WAIT_MS)
    requests.settle()


def load_all_images(page) -> tuple[list[str], list[str]]:
    """(broken, still loading) image URLs once every image was asked to load now."""
    result = page.evaluate(IMAGES_JS, WAIT_MS)
    return result["broken"], result["loading"]


# A colour as matplotlib's SVG backend writes it, and a marker's id (a hash of its path and its
# colours): all that a figure's dark SVG derived from its light one changes
# (lossbook.plots.dark_from_light), and nothing that sizes its text.
COLOURS_AND_MARKER_IDS = re.compile(r'#[0-9a-fA-F]{6}(?![\w-])|(?<=id=")m[0-9a-f]{10}(?=")|(?<=href="#)m[0-9a-f]{10}(?=")')
_svg_key: dict[str, str] = {}  # SVG URL -> its text key
_svg_text: dict[str, dict] = {}  # text key -> SVG_TEXT_JS's result


def text_key(svg: str) -> str:
    """A hash of ``svg`` without its colours and marker ids: a figure's light and dark SVGs share
    it when they differ only in their colours, and so do their text sizes."""
    return hashlib.sha256(COLOURS_AND_MARKER_IDS.sub("", svg).encode()).hexdigest()


def svg_text_key(url: str) -> str:
    """:func:`text_key` of the SVG at ``url`` (fetched once per session)."""
    if url not in _svg_key:
        with urllib.request.urlopen(url, timeout=WAIT_MS / 1000) as response:
            _svg_key[url] = text_key(response.read().decode("utf-8"))
    return _svg_key[url]


def measure_figures(page, context) -> list[dict]:
    """FIGURES_JS, with the smallest text of each as drawn on screen (px).

    The text sizes of each SVG file come from :data:`SVG_TEXT_JS` in one extra tab, once per
    session for each file that differs in more than its colours (:func:`svg_text_key`: the dark
    SVG of a figure is measured only if it differs from the light one in more; 124 files took
    17 s of CPU to measure one by one).
    """
    figures = page.evaluate(FIGURES_JS)
    wanted = {svg_text_key(src): src for src in sorted({figure["src"] for figure in figures})}
    missing = {key: url for key, url in wanted.items() if key not in _svg_text}
    if missing:
        tab = context.new_page()
        try:
            for key, url in missing.items():
                response = tab.goto(url, wait_until="load", timeout=WAIT_MS)
                assert response is not None and response.ok, f"{url}: {response and response.status}"
                _svg_text[key] = tab.evaluate(SVG_TEXT_JS)
        finally:
            tab.close()
    for figure in figures:
        sizes = _svg_text[svg_text_key(figure["src"])]
        scale = figure["width"] / sizes["width"]
        figure["base_px"], figure["base_text"] = sizes["base"]["px"] * scale, sizes["base"]["text"]
        figure["script_px"], figure["script_text"] = sizes["script"]["px"] * scale, sizes["script"]["text"]
        figure["file"] = urlsplit(figure["src"]).path.rsplit("/", 1)[-1]
    return figures


def measure_code_blocks(page) -> list[dict]:
    """:data:`CODE_JS` with every code block shown (tabs not selected, closed ``<details>``) and
    mounted by Material, so that each has its copy button."""
    page.add_style_tag(content=REVEAL_CSS)
    page.evaluate("document.querySelectorAll('article details:not([open])').forEach(d => { d.open = true; })")
    page.evaluate(MOUNT_ALL_CODE_JS)
    page.wait_for_function(ALL_CODE_BUTTONS_JS, timeout=WAIT_MS)
    return page.evaluate(CODE_JS)


def switch_to_dark(page) -> None:
    """The reader's way to dark mode: the palette toggle in the header. Transitions are switched
    off so that colour checks see the final colours."""
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
    page.locator('label[title="Switch to dark mode"]').click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")


# --- The visits --------------------------------------------------------------------------------

_visits: dict[str, Visit] = {}


def loaded_page(browser, site_url: str, path: str) -> Visit:
    """:func:`visit`, failing the test at once if the page itself did not load."""
    result = visit(browser, site_url, path)
    assert result.ok, f"{result.url} did not load: {result.failed_requests[:3]}"
    return result


def visit(browser, site_url: str, path: str) -> Visit:
    """Load ``path`` once (cached) at 1280x800, in light mode, then switch to dark, from the
    server of the session at ``site_url`` that sends pages in pieces (:data:`PIECES`); or the
    record the prefetch thread made of that very visit (:func:`prefetched_visits`)."""
    if path in _prefetched:
        return _prefetched[path].result()
    return _visit(browser, site_url, path)


def _visit(browser, site_url: str, path: str) -> Visit:
    if path in _visits:
        return _visits[path]
    site_url = _in_pieces[site_url]
    result = Visit(url=site_url + path)
    context = new_context(browser, WIDE, color_scheme="light")
    requests = None
    try:
        page = context.new_page()
        requests = record_problems(page, context, result, origin_of(site_url))
        response = open_page(page, result.url, requests)
        if response is None or not response.ok:
            result.failed_requests.append(f"the page itself: {response and response.status} {result.url}")
            return result
        result.ok = True
        result.icon = page.evaluate(FETCH_ICON_JS)
        requests.settle()
        at_load = set(map(id, requests.finished))
        result.images_at_load = page.evaluate(IMAGES_AT_LOAD_JS, LAZY_MARGIN_PX)
        result.title = page.title()
        result.layout_shift = page.evaluate("window.__layoutShift")
        result.layout_shift_sources = page.evaluate("window.__layoutShiftSources")
        result.math = page.evaluate(MATH_JS)
        text = page.evaluate(RAW_TEX_JS)
        result.raw_tex = [text[max(0, m.start() - 40): m.end() + 40] for m in RAW_TEX.finditer(text)]
        result.fonts_loaded = [tuple(face) for face in page.evaluate(FONTS_JS)]
        page.add_script_tag(path=str(AXE))
        for scheme in SCHEMES:
            if scheme == "dark":
                switch_to_dark(page)
                wait_for_images_in_view(page, requests)
            result.broken_images[scheme], result.loading_images[scheme] = load_all_images(page)
            result.figures[scheme] = measure_figures(page, context)
            result.axe[scheme] = page.evaluate(AXE_JS, None if scheme == "light" else COLOUR_RULES)["violations"]
        result.code_blocks = measure_code_blocks(page)
        requests.settle()
        for request in requests.finished:  # every image is loaded by now
            image = request.resource_type == "image"
            if (request.url in result.images_at_load) if image else (id(request) in at_load):
                sizes = request.sizes()
                result.transfer_bytes[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
    finally:
        if requests is not None:
            requests.closing = True
        context.close()
        _visits[path] = result
    return result


class PhoneVisits:
    """``measure(path, scheme)``: the page at 390x844 in ``scheme`` (a :class:`PhoneVisit`, cached).

    One browser context per colour scheme serves every page, one page load each.
    """

    def __init__(self, browser, site_url: str) -> None:
        self.browser, self.site_url = browser, _in_pieces[site_url]
        self.contexts: dict[str, tuple] = {}
        self.visits: dict[tuple[str, str], PhoneVisit] = {}
        self.current: dict[str, PhoneVisit] = {}

    def measure(self, path: str, scheme: str) -> PhoneVisit:
        browser, site_url, contexts, visits, current = self.browser, self.site_url, self.contexts, self.visits, self.current
        if (path, scheme) in visits:
            return visits[(path, scheme)]
        result = PhoneVisit(url=site_url + path, scheme=scheme)
        if scheme not in contexts:
            context = new_context(browser, PHONE, color_scheme=scheme)
            page = context.new_page()
            current[scheme] = result
            proxy = _Forward(lambda: current[scheme])
            requests = record_problems(page, context, proxy, origin_of(site_url), failures=False)
            contexts[scheme] = (context, page, requests)
        context, page, requests = contexts[scheme]
        current[scheme] = result
        visits[(path, scheme)] = result
        start = len(requests.finished)
        response = open_page(page, result.url, requests, first_in_context=False)
        if response is None or not response.ok:
            result.failed_requests.append(f"the page itself: {response and response.status} {result.url}")
            return result
        result.figures_fetched = [r.url for r in requests.finished[start:] if "/figures/" in urlsplit(r.url).path]
        result.layout_shift = page.evaluate("window.__layoutShift")
        result.layout_shift_sources = page.evaluate("window.__layoutShiftSources")
        result.broken_images, result.loading_images = load_all_images(page)
        result.figures = measure_figures(page, context)
        result.page_width = page.evaluate(PAGE_WIDTH_JS)
        result.title_blank = page.evaluate(TITLE_BLANK_JS)
        result.table_problems = page.evaluate(TABLES_JS)
        result.formulas = page.evaluate(FORMULAS_JS)
        if scheme == "light":  # where the copy buttons sit does not depend on the colours
            result.code_blocks = measure_code_blocks(page)
        requests.settle()
        return result

    def close(self) -> None:
        for context, _, requests in self.contexts.values():
            requests.closing = True
            context.close()


@pytest.fixture(scope="session")
def phone(browser, site_url):
    """``phone(path, scheme)``: the page at 390x844 in ``scheme`` (a :class:`PhoneVisit`, cached);
    the prefetch thread's record of it when it made one (:func:`prefetched_visits`)."""
    visits = PhoneVisits(browser, site_url)

    def measure(path: str, scheme: str) -> PhoneVisit:
        if (path, scheme) in _prefetched:
            return _prefetched[(path, scheme)].result()
        return visits.measure(path, scheme)

    yield measure
    visits.close()


# --- The visits, made ahead --------------------------------------------------------------------

# The records the prefetch threads make or will make: path -> Visit (1280 px), (path, scheme) ->
# PhoneVisit.
_prefetched: dict = {}


def visits_read(item, paths: list[str] | None = None) -> list:
    """The visits a test reads, in the order it reads them: a test with a ``path`` (and a
    ``scheme``) parameter that uses ``phone`` reads that phone visit (a ``(path, scheme)`` key); one
    with a ``path`` that uses ``loaded`` or ``browser`` reads that page's visit at 1280 px (a
    ``path`` key); one without parameters that uses ``loaded`` reads them all; any other, none."""
    paths = paths if paths is not None else [page.url for page in nav_pages()]
    names = set(getattr(item, "fixturenames", ()))
    params = item.callspec.params if hasattr(item, "callspec") else {}
    if "phone" in names:
        if {"path", "scheme"} <= params.keys():
            return [(params["path"], params["scheme"])]
        return [(path, scheme) for scheme in SCHEMES for path in paths]
    if "path" in params and names & {"loaded", "browser"}:
        return [params["path"]]
    if "loaded" in names:
        return paths
    return []


def _wanted_visits(items) -> list:
    """The visits the selected tests read (:func:`visits_read`), in the order they read them."""
    paths = [page.url for page in nav_pages()]
    wanted: dict = {}
    for item in items:
        wanted.update(dict.fromkeys(visits_read(item, paths)))
    return list(wanted)


def _prefetch(site: Path, work: deque, stop: threading.Event) -> None:
    """Make the visits of ``work`` (shared with the other prefetch thread), taking the next one
    until none is left, in a Chromium of this thread's own, each record into its future; an
    error is that visit's (or, if this thread's browser fails, every visit not yet taken's)."""
    from playwright.sync_api import sync_playwright

    key = None
    try:
        url = session_url(site)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            phones = PhoneVisits(chromium, url)
            try:
                while not stop.is_set():
                    try:
                        key = work.popleft()
                    except IndexError:
                        break
                    future = _prefetched[key]
                    try:
                        future.set_result(phones.measure(*key) if isinstance(key, tuple) else _visit(chromium, url, key))
                    except Exception as error:  # noqa: BLE001 - the test that reads this visit raises it
                        future.set_exception(error)
            finally:
                phones.close()
                chromium.close()
    except BaseException as error:  # noqa: BLE001
        if key is not None and not _prefetched[key].done():  # the visit this thread had taken
            _prefetched[key].set_exception(error)
        while True:
            try:
                _prefetched[work.popleft()].set_exception(error)
            except IndexError:
                break


@pytest.fixture(scope="session", autouse=True)
def prefetched_visits(request: pytest.FixtureRequest, background):
    """The visits the selected tests read, made as soon as the site is built, while the tests
    that need no site still run: in two threads, each with its own Chromium, which take the
    next visit in test order from one queue (the visits at 1280 px come first), each visit
    exactly as :func:`phone` or :func:`visit` makes it (same steps, same waits); the tests then
    read the records. The 1280 px visits count layout shifts while the rest of the suite keeps the
    machine busy, and their pages arrive in pieces (:data:`PIECES`): a page must not shift
    however slowly it arrives or loads. Without a browser, nothing is made ahead (the
    ``browser`` fixture skips or fails those tests)."""
    keys = _wanted_visits(request.session.items)
    if not keys or missing_browser():
        yield
        _server.close()
        return
    for key in keys:
        _prefetched[key] = Future()
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(site: Path) -> None:
        work = deque(keys)
        for _ in range(PREFETCH_THREADS):
            threads.append(threading.Thread(target=_prefetch, args=(site, work, stop), name="prefetch-visits", daemon=True))
            threads[-1].start()

    def failed(error: BaseException) -> None:
        for future in _prefetched.values():
            future.set_exception(error)

    prebuilt = os.environ.get("LOSSBOOK_SITE")
    if prebuilt:
        start(Path(prebuilt))
    else:
        background.when_built(start, failed)
    yield
    stop.set()
    for thread in threads:
        thread.join()
    _server.close()


class _Forward:
    """The record that problems of a shared context go to: the visit in progress."""

    def __init__(self, target) -> None:
        self._target = target

    def __getattr__(self, name: str):
        return getattr(self._target(), name)


def edge_shadows(image) -> tuple[bool, bool]:
    """Whether the left and the right 3 px of a formula's box (glyphs hidden) differ from the page
    colour, taken in the middle of the box, where the shadows never reach."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    if width < 20 or height < 4:
        return False, False
    background = rgb.getpixel((width // 2, height // 2))

    def differs(columns) -> bool:
        return any(
            sum(abs(a - b) for a, b in zip(rgb.getpixel((x, y)), background)) > 24
            for x in columns
            for y in range(height // 4, 3 * height // 4)
        )

    return differs(range(0, 3)), differs(range(width - 3, width))
