"""A real browser over the built site: fixtures and one recorded visit per page.

``tests/conftest.py`` imports the fixtures :func:`site_url` (the built site served with gzip on
127.0.0.1, see ``tests/site_server.py``) and :func:`browser` (Debian's Chromium driven by
Playwright: one browser for the whole session). Chromium is ``/usr/bin/chromium`` or the path
in ``LOSSBOOK_CHROMIUM``; the tool's own downloaded browsers are never used. Without Chromium
or the ``playwright`` package the browser tests skip, saying what to install; with
``REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.

:func:`visit` loads a page once in a fresh browser context (cold cache, as a first-time reader
gets it), records everything the tests look at, then switches the palette to dark with the
page's own toggle and records what depends on the colours. Visits are cached, so the checks
of ``test_browser.py`` and ``test_budget.py`` share one load per page.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("LOSSBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}  # wide enough for both sidebars: every nav link visible


def source_pages() -> dict[str, Path]:
    """URL path of every page (``""``, ``"losses/binary/"``) -> its source under ``docs/``."""
    pages = {}
    for source in sorted(DOCS.rglob("*")):
        if source.suffix not in (".md", ".ipynb") or any(p.startswith(".") for p in source.relative_to(DOCS).parts):
            continue
        relative = source.relative_to(DOCS).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "index" else relative.parts
        pages["".join(f"{part}/" for part in parts)] = source
    return pages


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


@pytest.fixture(scope="session")
def site_url(served_site: Path):
    """The site served with gzip on loopback, under the path of ``site_url``, for the session."""
    from tests.site_server import serve

    with serve(served_site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, shared by every browser test."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed (pip install playwright; make does it)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM}: install it (apt-get install chromium) or set LOSSBOOK_CHROMIUM")
    if not AXE.is_file():
        _unavailable(f"{AXE.relative_to(ROOT)} is missing: run npm ci (make does it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Collected in the page before any of its scripts run: layout shifts (as Lighthouse counts them).
INIT_SCRIPT = """
window.__layoutShift = 0;
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__layoutShift += entry.value;
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

# Images are lazy (hooks/page_weight.py): make each load now, wait, then list those that failed.
IMAGES_JS = """async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done, {once: true});
    img.addEventListener("error", done, {once: true});
    setTimeout(done, 5000);
  })));
  return images.filter(img => !(img.complete && img.naturalWidth > 0 && img.naturalHeight > 0))
    .map(img => img.getAttribute("src"));
}"""

FONTS_JS = """() => [...document.fonts].filter(f => f.status === "loaded")
  .map(f => [f.family.replace(/"/g, ""), f.weight, f.style])"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 300)),
    count: v.nodes.length,
  }));
}"""


@dataclass
class Visit:
    url: str
    ok: bool = False  # the page itself loaded (status 200)
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    transfer_bytes: dict[str, int] = field(default_factory=dict)  # URL -> bytes on the wire
    math: dict = field(default_factory=dict)
    raw_tex: list[str] = field(default_factory=list)
    broken_images: dict[str, list[str]] = field(default_factory=dict)  # scheme -> image srcs
    axe: dict[str, list[dict]] = field(default_factory=dict)  # scheme -> violations
    layout_shift: float = 0.0
    fonts_loaded: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def transfer(self) -> int:
        return sum(self.transfer_bytes.values())


def format_violations(violations: list[dict]) -> str:
    return "\n".join(
        f"  {v['id']} ({v['impact']}, {v['count']} elements): {v['help']}\n" + "\n".join(f"    {n}" for n in v["nodes"])
        for v in violations
    )


def record_problems(page, context, visit: Visit, origin: str) -> None:
    """Listen for console errors, failed requests and requests to other origins."""

    def on_request(request) -> None:
        if urlsplit(request.url).scheme in ("data", "blob", "about"):
            return
        if origin_of(request.url) != origin:
            visit.foreign_requests.append(request.url)

    def on_response(response) -> None:
        if response.status >= 400:
            visit.failed_requests.append(f"{response.status} {response.url}")

    context.on("request", on_request)
    context.on("response", on_response)
    context.on("requestfailed", lambda request: visit.failed_requests.append(f"{request.failure} {request.url}"))
    page.on(
        "console",
        lambda message: message.type == "error"
        and visit.console_errors.append(f"{message.text} ({message.location.get('url') or 'page'})"),
    )
    page.on("pageerror", lambda error: visit.console_errors.append(f"uncaught: {error}"))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def new_context(browser, **options):
    context = browser.new_context(viewport=VIEWPORT, **options)
    context.add_init_script(INIT_SCRIPT)
    return context


_visits: dict[str, Visit] = {}


def loaded_page(browser, site_url: str, path: str) -> Visit:
    """:func:`visit`, failing the test at once if the page itself did not load."""
    result = visit(browser, site_url, path)
    assert result.ok, f"{result.url} did not load: {result.failed_requests[:3]}"
    return result


def visit(browser, site_url: str, path: str) -> Visit:
    """Load ``site_url + path`` once (cached), in light mode, then switch to dark mode."""
    if path in _visits:
        return _visits[path]
    result = Visit(url=site_url + path)
    origin = origin_of(site_url)
    context = new_context(browser, color_scheme="light")
    finished = []
    context.on("requestfinished", lambda request: finished.append(request))
    try:
        page = context.new_page()
        record_problems(page, context, result, origin)
        response = page.goto(result.url, wait_until="load")
        if response is None or not response.ok:
            result.failed_requests.append(f"the page itself: {response and response.status} {result.url}")
            _visits[path] = result
            return result
        result.ok = True
        page.wait_for_load_state("networkidle")  # the search worker has fetched its index
        page.evaluate("document.fonts.ready.then(() => true)")
        for request in finished:
            sizes = request.sizes()
            result.transfer_bytes[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        result.title = page.title()
        result.layout_shift = page.evaluate("window.__layoutShift")
        result.math = page.evaluate(MATH_JS)
        text = page.evaluate(RAW_TEX_JS)
        result.raw_tex = [text[max(0, m.start() - 40): m.end() + 40] for m in RAW_TEX.finditer(text)]
        result.fonts_loaded = [tuple(face) for face in page.evaluate(FONTS_JS)]
        page.add_script_tag(path=str(AXE))
        result.broken_images["light"] = page.evaluate(IMAGES_JS)
        result.axe["light"] = page.evaluate(AXE_JS)
        # The reader's way to dark mode: the palette toggle in the header. Transitions are
        # switched off so that colour checks see the final colours.
        page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
        page.locator('label[title="Switch to dark mode"]').click()
        page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
        page.wait_for_load_state("networkidle")
        result.broken_images["dark"] = page.evaluate(IMAGES_JS)
        result.axe["dark"] = page.evaluate(AXE_JS)
    finally:
        context.close()
    _visits[path] = result
    return result
