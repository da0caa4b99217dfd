"""What the tests and the benchmarks know about the site, in one place.

* :func:`mkdocs_config`: ``mkdocs.yml`` read by MkDocs itself (``load_config``), once per process;
  :func:`site_url` and :func:`site_path` come from it.
* :func:`nav_pages`: every page of the navigation, in nav order, with its source under ``docs/``
  and the URL MkDocs gives it (``File.url``: ``""``, ``"losses/"``, ``"losses/binary/"``); a
  notebook becomes a page through ``hooks/notebook.py``'s ``notebook_pages``, as in a build.
  :func:`page_paths` lists the pages of a built site, to compare with it.
* :func:`serve`: a built site served on loopback the way a static host does (gzip for text,
  ``404.html`` for misses, under the path of ``site_url``), optionally with each page's HTML
  arriving in pieces, as over a slow connection; :func:`gzip_size` is what a file costs on the
  wire from it.

Used by the browser tests (``tests/browser.py`` and the tests that use it), ``tests/test_site.py``,
``tests/test_links.py`` and ``make audit`` (``benchmarks/audit.py``). :func:`built_html` is a
built page parsed once for every test that reads it.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "mkdocs.yml"


@cache
def mkdocs_config():
    """``mkdocs.yml`` as MkDocs reads it (``mkdocs.config.load_config``), validated."""
    import os

    from mkdocs.config import load_config

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    return load_config(str(CONFIG_FILE))


def docs_dir() -> Path:
    """``docs_dir`` of ``mkdocs.yml``, absolute."""
    return Path(mkdocs_config()["docs_dir"])


def site_url() -> str:
    """``site_url`` of ``mkdocs.yml`` (where the site is deployed), ending in ``/``."""
    url = mkdocs_config()["site_url"] or "http://localhost/"
    return url if url.endswith("/") else url + "/"


def site_path() -> str:
    """The path of ``site_url`` (``/lossbook/``)."""
    return urlsplit(site_url()).path


@dataclass(frozen=True)
class NavPage:
    title: str
    source: Path  # the file under docs/
    url: str  # relative to the site's root: "", "losses/", "losses/binary/"

    @property
    def id(self) -> str:
        """A short name for test ids and messages: ``home``, ``losses``, ``losses/binary``."""
        return self.url.rstrip("/") or "home"


@cache
def nav_pages() -> tuple[NavPage, ...]:
    """Every page in ``nav:``, in nav order, with the URL MkDocs gives it."""
    from mkdocs.structure.files import get_files
    from mkdocs.structure.nav import get_navigation

    config = mkdocs_config()
    files = get_files(config)
    # Notebooks are pages only once hooks/notebook.py has made them pages, as it does in a build.
    from hooks.notebook import notebook_pages

    files = notebook_pages(files)
    navigation = get_navigation(files, config)
    return tuple(
        NavPage(title=page.title or "", source=Path(page.file.abs_src_path), url=page.url)
        for page in navigation.pages
    )


def page_urls() -> list[str]:
    """The URL of every page in the navigation, in nav order."""
    return [page.url for page in nav_pages()]


def source_pages() -> dict[str, Path]:
    """URL of every page in the navigation -> its source file, in nav order."""
    return {page.url: page.source for page in nav_pages()}


def html_file(site: Path, url: str) -> Path:
    """The file of a built site that serves the page ``url`` (``losses/`` -> ``losses/index.html``)."""
    return site / url / "index.html" if url == "" or url.endswith("/") else site / url


def page_paths(site: Path) -> list[str]:
    """URL paths (``""``, ``"losses/"``...) of every page of a built site, 404.html excepted."""
    return sorted(
        "" if path.parent == site else path.parent.relative_to(site).as_posix() + "/"
        for path in site.rglob("index.html")
    )


# --- The server --------------------------------------------------------------------------------

GZIP_LEVEL = 6  # nginx's gzip_comp_level is 1..9; 6 is the usual setting of static hosts
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/xml")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".py": "text/plain; charset=utf-8",
    ".ipynb": "application/json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".map": "application/json",
    ".gz": "application/gzip",
}


class _Handler(SimpleHTTPRequestHandler):
    """Compression follows what GitHub Pages and nginx do: text types (HTML, CSS, JavaScript,
    JSON, SVG, XML) are gzipped when the request accepts it; fonts and images already compressed
    are sent as they are. Compressed bodies are cached in memory: a file is compressed once."""

    cache: dict[tuple, bytes | list[bytes]]
    base_path: str
    deployed_url: str
    pieces: int  # an HTML document is written in this many pieces (see serve), or at once if 0

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: tests read results, not logs
        pass

    def _resolve(self) -> tuple[Path | None, HTTPStatus]:
        root = Path(self.directory).resolve()
        path = unquote(urlsplit(self.path).path)
        if path + "/" == self.base_path:
            return root, HTTPStatus.MOVED_PERMANENTLY
        if not path.startswith(self.base_path):
            missing = root / "404.html"
            return (missing if missing.is_file() else None), HTTPStatus.NOT_FOUND
        path = "/" + path[len(self.base_path):]
        target = (root / path.lstrip("/")).resolve()
        if root != target and root not in target.parents:
            return None, HTTPStatus.NOT_FOUND
        if target.is_dir():
            if not path.endswith("/"):
                return target, HTTPStatus.MOVED_PERMANENTLY
            target = target / "index.html"
        if target.is_file():
            return target, HTTPStatus.OK
        missing = root / "404.html"
        return (missing if missing.is_file() else None), HTTPStatus.NOT_FOUND

    def _respond(self, with_body: bool) -> None:
        target, status = self._resolve()
        if status == HTTPStatus.MOVED_PERMANENTLY:
            self.send_response(status)
            self.send_header("Location", urlsplit(self.path).path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if target is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        content_type = TYPES.get(target.suffix, "application/octet-stream")
        body = target.read_bytes()
        if target.name == "sitemap.xml":
            # The sitemap lists the deployed URLs; Material's instant navigation matches links
            # against it with the page's host but not its port, so list this server's URLs.
            host = self.headers.get("Host", "")
            body = body.replace(self.deployed_url.encode(), f"http://{host}{self.base_path}".encode())
        encoding = None
        if content_type.startswith(COMPRESSIBLE) and "gzip" in self.headers.get("Accept-Encoding", ""):
            key = (target, len(body))
            if key not in self.cache:
                self.cache[key] = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
            body, encoding = self.cache[key], "gzip"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")  # what GitHub Pages sends
        self.send_header("Vary", "Accept-Encoding")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        if not with_body:
            return
        if self.pieces and status == HTTPStatus.OK and content_type.startswith("text/html"):
            key = (target, len(body), encoding)
            if key not in self.cache:
                self.cache[key] = _cut_after_tags(body, encoding == "gzip", self.pieces)
            for piece in self.cache[key]:
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(PIECE_GAP)
        else:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(with_body=False)


PIECE_GAP = 0.01  # seconds between two pieces of an HTML document (serve's ``pieces``)


def _cut_after_tags(body: bytes, gzipped: bool, count: int) -> list[bytes]:
    """``body`` (gzipped or not) cut into about ``count`` pieces of its bytes, each ending where
    the HTML it decodes to so far ends with a ">": the browser then has whole tags and whole
    runs of text between them, as when its parser pauses. (A piece ending inside a word would
    show the word's start on one line and the whole word on the next, which no page can
    prevent.) The bytes are the host's, in the same order.

    Each piece ends at the first such place at least ``len(body) / count`` bytes after the last
    cut. Gzipped, the bytes up to there are decoded at once and the rest a byte at a time until
    one ends a tag (what a byte decodes to does not depend on how the bytes before it were fed)."""
    size, cuts, decoder = len(body) / count, [0], zlib.decompressobj(wbits=31)
    while True:
        last = cuts[-1]  # where the piece starts; gzipped, the bytes before it are decoded
        first = math.ceil(last + size)  # the first byte count the piece may end at
        if gzipped:
            decoder.decompress(body[last:first - 1])
            end = max(last, first - 1)
            while end < len(body) - 1 and not decoder.decompress(body[end:end + 1]).endswith(b">"):
                end += 1
            end += 1
        else:
            end = body.find(b">", first - 1) + 1 or len(body)
        if end >= len(body):
            return [body[start:stop] for start, stop in zip(cuts, [*cuts[1:], len(body)])]
        cuts.append(end)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that closed its connection before the response was written (a browser that
        stopped a request, as Lighthouse does at the end of a run) is not an error of the site;
        any other exception is printed as the standard library prints it."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path, port: int = 0, base_path: str | None = None, pieces: int = 0) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 until the ``with`` block ends; yield its URL.

    ``pieces``: when not 0, each HTML page found (not the 404 page, which a browser may stop
    reading: it asks for a missing favicon) is written in about that many pieces (of its bytes
    on the wire, each ending after a tag: :func:`_cut_after_tags`), :data:`PIECE_GAP` apart, as
    over a slow connection, so that the browser parses and draws frames of a page that has
    partly arrived; other files are written at once.

    ``port=0`` picks a free port (the operating system's choice, bound at once: no race). The
    site is served under ``base_path``, by default the path of ``site_url``
    (``http://127.0.0.1:<port>/lossbook/``), as it is deployed: Material's instant navigation and
    the absolute links of ``404.html`` rely on it. The server runs in a daemon thread.
    """
    base_path = site_path() if base_path is None else base_path
    attributes = {"cache": {}, "base_path": base_path, "deployed_url": site_url(), "pieces": pieces}
    handler = partial(type("Handler", (_Handler,), attributes), directory=str(site))
    server = _Server(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{base_path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def gzip_size(path: Path) -> int:
    """Bytes ``path`` takes on the wire from :func:`serve` (gzipped if its type is compressible)."""
    content_type = TYPES.get(path.suffix, "application/octet-stream")
    body = path.read_bytes()
    if content_type.startswith(COMPRESSIBLE):
        return len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))
    return len(body)


@cache
def built_html(path: Path):
    """The built HTML file ``path`` parsed (BeautifulSoup, ``html.parser``), once per process:
    the tests that read a page share one tree, and only read it. Each page was parsed about
    eight times a run, half of the time of the tests that read the built site."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
