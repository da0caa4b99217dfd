"""Each page, taken away, prints what the page shows.

Sybil runs a page's blocks in one namespace inside the test process. This test does what a
reader does: it takes the script the site offers under the page's title ("Download as script",
made at build time by ``hooks/downloads.py`` from the blocks the suite runs), runs it as
``python page.py`` from an empty folder (``tests/fresh_python.py``: a process of its own, which
starts with torch imported), and compares everything it prints with the page's output blocks
joined in order. It catches a page that only works because of state left by the test
process (imports, seeds, print options), and code that is not self-contained. The script runs
with other CPU kernels than the page's own blocks (``fresh_python.OTHER_CPU_KERNELS``: ATen's
portable kernels, MKL's SSE4.2 path), so that a page whose numbers depend on the CPU's vector
instructions fails here, not first on a machine with other ones. The notebook
offered next to it must hold the same code, one cell per block, with the page's outputs.
The scripts run in the background pool (``tests/background.py``) once the site is built.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from tests import fresh_python
from tests.background import CHILD_TIMEOUT, in_background

from tests.doc_examples import DOCTEST_LANGUAGES, normalise, page_examples
from tests.site_support import built_html

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [
    page for page in sorted(DOCS.rglob("*.md"))
    if page_examples(page.read_text(encoding="utf-8"), str(page))
]


def download(site: Path, page: Path, suffix: str) -> Path:
    """The file a page's download link points at, read from the built page itself."""
    relative = page.relative_to(DOCS).with_suffix("")
    html = site / (relative.parent if relative.name == "index" else relative) / "index.html"
    soup = built_html(html)
    links = [a for a in soup.select("article p.lossbook-downloads a[download]") if a["href"].endswith(suffix)]
    assert len(links) == 1, f"{page.name}: {len(links)} links to a {suffix} download under the title"
    target = (html.parent / links[0]["href"]).resolve()
    assert target.is_file(), f"{page.name}: the download {links[0]['href']} is missing"
    return target


def run_download(workdir: Path, site: Path, page: Path) -> subprocess.CompletedProcess:
    """The page's downloaded script, copied into an empty folder and run there as ``python
    page.py`` (``tests/fresh_python.py``)."""
    script = workdir / "page.py"
    shutil.copyfile(download(site, page, ".py"), script)
    return fresh_python.run(script, workdir, timeout=CHILD_TIMEOUT, env=fresh_python.OTHER_CPU_KERNELS)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
@in_background(run_download, after_build=True)
def test_downloaded_script_prints_what_the_page_shows(page: Path, background_job) -> None:
    examples = page_examples(page.read_text(encoding="utf-8"), str(page))
    doctests = [e.block.line for e in examples if e.block.language in DOCTEST_LANGUAGES]
    assert not doctests, f"pages show code as python + output blocks; doctest form at lines {doctests}"
    result = background_job.result()
    assert result.returncode == 0, f"{page.name} fails as one script:\n{result.stderr[-3000:]}"
    shown = "\n".join(normalise(e.expected) for e in examples if e.expected is not None)
    assert normalise(result.stdout) == normalise(shown)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_downloaded_notebook_holds_the_blocks_and_their_outputs(built_site: Path, page: Path) -> None:
    examples = page_examples(page.read_text(encoding="utf-8"), str(page))
    book = nbformat.read(download(built_site, page, ".ipynb"), as_version=4)
    nbformat.validate(book)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert [cell.source for cell in code] == [e.block.source.rstrip("\n") for e in examples]
    for cell, example in zip(code, examples):
        printed = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        assert normalise(printed) == normalise(example.expected or ""), f"{page.name}: cell {cell.source[:60]!r}"
        assert all(o.output_type == "stream" for o in cell.outputs)
    assert book.metadata.kernelspec.name == "python3"


def test_the_notebook_page_offers_only_its_own_download(built_site: Path) -> None:
    """The notebook page is not a Markdown page: no second download is made for it."""
    assert not list((built_site / "downloads").glob("*worked-example*"))
    assert (built_site / "worked-example" / "worked-example.ipynb").is_file()
