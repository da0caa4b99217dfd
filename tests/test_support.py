"""The test support itself: the pages the tests visit, the server, the figures' two widths, and
the Hypothesis profile every property test runs under."""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import time
import zlib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from hypothesis import settings

from tests.site_support import PIECE_GAP, _cut_after_tags, docs_dir, mkdocs_config, nav_pages, page_paths, serve, site_path, site_url


def test_the_hypothesis_profile_is_loaded() -> None:
    current = settings()
    assert current.derandomize is True, "property tests must be derandomized (tests/conftest.py)"
    assert current.deadline is None, "no per-example deadline: a slow machine is not a failing test"
    assert current.database is None
    assert current.print_blob is True


def test_nav_pages_come_from_mkdocs() -> None:
    config = mkdocs_config()
    DOCS_DIR = docs_dir()  # noqa: N806
    pages = nav_pages()
    assert pages[0].url == "" and pages[0].source == DOCS_DIR / "index.md", "the first page of nav: is the home page"
    assert len({page.url for page in pages}) == len(pages), "two nav entries give the same URL"
    sources = {page.source.relative_to(DOCS_DIR).as_posix() for page in pages}
    documents = {
        path.relative_to(DOCS_DIR).as_posix()
        for path in DOCS_DIR.rglob("*")
        if path.suffix in (".md", ".ipynb") and not any(part.startswith(".") for part in path.relative_to(DOCS_DIR).parts)
    }
    assert sources == documents, "every page under docs/ is in nav:, and nav: lists only pages under docs/"
    notebook = next(page for page in pages if page.source.suffix == ".ipynb")
    assert notebook.url.endswith("/") and ".ipynb" not in notebook.url, "a notebook is a page (hooks/notebook.py)"
    assert site_url() == config["site_url"].rstrip("/") + "/"
    assert site_path().startswith("/") and site_path().endswith("/")


def test_the_server_serves_like_a_static_host(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>home</p>" * 50, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text("<p>sub</p>", encoding="utf-8")
    (tmp_path / "404.html").write_text("missing", encoding="utf-8")
    assert page_paths(tmp_path) == ["", "sub/"]
    with serve(tmp_path) as url:
        assert url.endswith(site_path())
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            assert response.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(response.read()).decode() == "<p>home</p>" * 50
        with urllib.request.urlopen(url + "sub", timeout=30) as response:  # noqa: S310 - redirected to sub/
            assert response.url.endswith("/sub/") and response.read() == b"<p>sub</p>"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url + "nothing/", timeout=30)  # noqa: S310
        assert missing.value.code == 404 and missing.value.read() == b"missing"


def test_the_server_can_send_pages_in_pieces(tmp_path: Path) -> None:
    """``serve(..., pieces=n)``: an HTML document arrives in about n pieces, PIECE_GAP apart,
    whole, each piece ending where the HTML so far ends a tag, gzipped or not; other files at
    once."""
    words = [hashlib.sha256(str(i).encode()).hexdigest()[:12] for i in range(2000)]  # text gzip cannot shrink much
    page = "".join(f"<p>{word} and <code>x > {i}</code></p>" for i, word in enumerate(words))
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    (tmp_path / "style.css").write_text("p {}" * 2000, encoding="utf-8")
    for body, gzipped in ((gzip.compress(page.encode(), mtime=0), True), (page.encode(), False)):
        pieces = _cut_after_tags(body, gzipped, 20)
        assert b"".join(pieces) == body and 15 <= len(pieces) <= 20, len(pieces)
        decoder, html = zlib.decompressobj(wbits=31), b""
        for piece in pieces:
            html += decoder.decompress(piece) if gzipped else piece
            assert html.endswith(b">"), f"a piece ends inside a tag or text: {html[-30:]!r}"
    with serve(tmp_path, pieces=20) as url:
        start = time.monotonic()
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            assert gzip.decompress(response.read()).decode() == page
        took = time.monotonic() - start
        assert took >= 14 * PIECE_GAP, f"the page took {took:.3f} s, less than 14 gaps between pieces"
        with urllib.request.urlopen(url + "style.css", timeout=30) as response:  # noqa: S310
            assert response.read() == b"p {}" * 2000


def test_the_server_is_quiet_when_a_client_goes_away(tmp_path: Path, capfd) -> None:
    """A browser that stops a request (Lighthouse does, at the end of each run) is not an error:
    the server prints no traceback for it, and goes on serving."""
    (tmp_path / "index.html").write_bytes(b"<p>home</p>")
    (tmp_path / "big.bin").write_bytes(bytes(range(256)) * 40_000)  # 10 MB: more than a socket buffers
    with serve(tmp_path) as url:
        host, port = urllib.parse.urlsplit(url)[1].split(":")
        for _ in range(3):
            with socket.create_connection((host, int(port)), timeout=30) as client:
                client.sendall(f"GET {site_path()}big.bin HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                client.recv(1024)  # the response has begun
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        time.sleep(0.5)  # the server's threads meet the closed connections
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
            assert response.read() == b"<p>home</p>"
    assert "Traceback" not in capfd.readouterr().err


def test_every_figure_is_drawn_wide_and_narrow() -> None:
    """The narrow variant of each registered figure is narrower than the wide one, its text the
    same size in points, and panels side by side are stacked."""
    pytest.importorskip("matplotlib")
    import re

    from lossbook import plots

    name = "regression-mse"  # two panels, side by side
    assert name in plots.FIGURES
    size = re.compile(r'<svg[^>]*\swidth="([\d.]+)pt"[^>]*\sheight="([\d.]+)pt"')
    wide = [float(v) for v in size.search(plots.render_svg(name, "light")).groups()]
    narrow = [float(v) for v in size.search(plots.render_svg(name, "light", "narrow")).groups()]
    assert narrow[0] < 0.6 * wide[0], f"narrow {narrow} is not much narrower than wide {wide}"
    assert narrow[1] > 1.5 * wide[1], f"narrow {narrow}: the two panels are not stacked (wide {wide})"
    assert not plots.narrow(), "the narrow flag is reset after drawing"
    with pytest.raises(ValueError, match="width must be 'wide' or 'narrow'"):
        plots.render_svg(name, "light", "medium")
