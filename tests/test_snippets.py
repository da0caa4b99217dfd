"""Every file in ``snippets/`` runs on its own, and every one is shown on some page.

A page that includes a snippet also runs it in the page's namespace and compares its output
(``tests/doc_examples.py``); this test makes sure the file works when copied alone, run as
``python snippet.py`` (``tests/fresh_python.py``). Each run is started with the session in the
background pool (``tests/background.py``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import fresh_python
from tests.background import CHILD_TIMEOUT, in_background

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = sorted((ROOT / "snippets").glob("*.py"))
PAGES_TEXT = "\n".join(page.read_text(encoding="utf-8") for page in (ROOT / "docs").rglob("*.md"))


def test_there_are_snippets() -> None:
    assert SNIPPETS, "snippets/ holds no .py files"


def run_alone(workdir: Path, snippet: Path) -> subprocess.CompletedProcess:
    """The snippet run as ``python snippet.py`` from an empty folder (``tests/fresh_python.py``)."""
    return fresh_python.run(snippet, workdir, timeout=CHILD_TIMEOUT)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda p: p.name)
@in_background(run_alone)
def test_snippet_runs_on_its_own(snippet: Path, background_job) -> None:
    result = background_job.result()
    assert result.returncode == 0, f"{snippet.name} failed on its own:\n{result.stderr}"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda p: p.name)
def test_snippet_is_shown_on_a_page(snippet: Path) -> None:
    assert f'--8<-- "snippets/{snippet.name}' in PAGES_TEXT, f"no page includes snippets/{snippet.name}"
