"""Each page, pasted into a fresh ``python``, prints what the page shows.

Sybil runs a page's blocks in one namespace inside the test process. This test does what a
reader does: it joins the page's Python blocks in order into one script, runs it in a new
interpreter from an empty folder, and compares everything it prints with the page's output
blocks joined in the same order. It catches a page that only works because of state left by
the test process (imports, seeds, print options), and code that is not self-contained.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.doc_examples import DOCTEST_LANGUAGES, normalise, page_examples

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [
    page for page in sorted(DOCS.rglob("*.md"))
    if page_examples(page.read_text(encoding="utf-8"), str(page))
]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_pasted_into_fresh_python_prints_what_it_shows(page: Path, tmp_path: Path) -> None:
    examples = page_examples(page.read_text(encoding="utf-8"), str(page))
    doctests = [e.block.line for e in examples if e.block.language in DOCTEST_LANGUAGES]
    assert not doctests, f"pages show code as python + output blocks; doctest form at lines {doctests}"
    script = tmp_path / "page.py"
    script.write_text("\n".join(e.block.source for e in examples), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, f"{page.name} fails as one script:\n{result.stderr[-3000:]}"
    shown = "\n".join(normalise(e.expected) for e in examples if e.expected is not None)
    assert normalise(result.stdout) == normalise(shown)
