"""The API reference as a reader meets it: links not roles, whole tables, examples that copy.

* No Sphinx role (``:func:``, ``:mod:``, ``:class:``, ``:meth:``) is left as text on a built
  page (the API reference above all) or in the search index: cross-references are mkdocstrings/autorefs links.
* A "Returns" table has one row: each function returns one value, and a description wrapped
  over two lines stays one row (``returns_multiple_items: false`` in ``mkdocs.yml``).
* Copying the doctest blocks in order and pasting them into ``python`` works. The copy button
  copies what ``docs/stylesheets/extra.css`` leaves visible while Material marks the code with
  ``data-md-copying``; this test applies those very rules (read from the stylesheet) to the
  built HTML with soupsieve, feeds the text to an interactive interpreter in a fresh process,
  and requires that exactly the exceptions the doctests show are raised, nothing else.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.site_support import built_html

ROOT = Path(__file__).resolve().parent.parent
STYLESHEET = ROOT / "docs" / "stylesheets" / "extra.css"
ROLE = r":(?:func|mod|class|meth):"  # a Sphinx role, as text


@pytest.fixture(scope="module")
def reference(built_site: Path) -> BeautifulSoup:
    return built_html(built_site / "reference" / "index.html")


def test_no_sphinx_role_on_any_page(built_site: Path) -> None:
    found = []
    for path in sorted(built_site.rglob("*.html")):
        article = built_html(path).select_one("article")
        text = article.get_text() if article else ""
        found += [f"{path.relative_to(built_site)}: {role}" for role in sorted(set(re.findall(ROLE + r"`?[\w.]*", text)))]
    assert not found, "pages show Sphinx roles as text:\n" + "\n".join(found)


def test_no_sphinx_role_in_the_search_index(built_site: Path) -> None:
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    found = sorted({
        f"{doc['location']}: {match}"
        for doc in index["docs"]
        for match in re.findall(ROLE + r"(?:<code>)?[\w.]*", doc["title"] + " " + doc["text"])
    })
    assert not found, f"the search index holds Sphinx roles as text: {found}"


def test_returns_tables_are_whole(reference: BeautifulSoup) -> None:
    tables = [
        table for table in reference.select("article table")
        if [th.get_text(strip=True) for th in table.select("thead th")][:2] == ["Type", "Description"]
    ]
    assert len(tables) >= 5, f"expected the Returns tables of the reference, found {len(tables)}"
    split = [table.get_text(" ", strip=True)[:120] for table in tables if len(table.select("tbody tr")) != 1]
    assert not split, "Returns tables split over several rows:\n" + "\n".join(split)


# -- copying the examples ---------------------------------------------------------------------

def copy_hidden_selectors(css: str) -> list[str]:
    """The selectors extra.css hides while Material copies (``code[data-md-copying] ...``)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    selectors = []
    for group, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if re.search(r"display\s*:\s*none", body):
            selectors += [s.strip() for s in group.split(",") if "data-md-copying" in s]
    return selectors


def copied_text(pre, selectors: list[str]) -> str:
    """What the copy button puts on the clipboard for one block."""
    block = BeautifulSoup(str(pre), "html.parser")
    code = block.find("code")
    code["data-md-copying"] = ""
    for element in [e for selector in selectors for e in block.select(selector)]:
        element.decompose() if not element.decomposed else None
    for anchor in code.find_all("a"):  # line-number anchors are empty
        anchor.decompose()
    return code.get_text()


def doctest_blocks(reference: BeautifulSoup) -> list:
    return [pre for pre in reference.select("article div.highlight pre") if pre.select_one(".gp")]


CONSOLE = r"""
import code, sys
console = code.InteractiveConsole()
for line in sys.stdin.read().splitlines():
    console.push(line)
console.push("")
"""


def test_copying_the_examples_in_order_runs(reference: BeautifulSoup, tmp_path: Path) -> None:
    selectors = copy_hidden_selectors(STYLESHEET.read_text(encoding="utf-8"))
    assert any(".gt" in s for s in selectors), "extra.css does not hide a doctest's Traceback line"
    blocks = doctest_blocks(reference)
    assert len(blocks) >= 10, f"the API reference shows {len(blocks)} doctest blocks"
    copied = [copied_text(pre, selectors) for pre in blocks]
    for text in copied:
        assert ">>>" not in text and "Traceback" not in text, f"copied text keeps prompts or a traceback:\n{text}"
    expected = [m for pre in blocks for m in re.findall(r"^(\w+(?:Error|Exception)):", pre.get_text(), re.MULTILINE)]
    # Pasted block by block into a REPL: a blank line ends each block, as a reader's paste does.
    result = subprocess.run(
        [sys.executable, "-c", CONSOLE], input="\n\n".join(copied), cwd=tmp_path,
        capture_output=True, text=True, timeout=240,
    )
    raised = re.findall(r"^(\w+(?:Error|Exception)):", result.stderr, re.MULTILINE)
    errors = re.findall(r"^(?:\w+(?:Error|Exception): .*|  File \"<console>\".*\n.*)$", result.stderr, re.MULTILINE)
    assert raised == expected, (
        f"pasting the reference's examples raised {raised}, the doctests show {expected}:\n" + "\n".join(errors)
    )


def test_copy_simulation_hides_prompts_outputs_and_tracebacks() -> None:
    """A doctest block as Pygments writes it, through hooks/code_blocks.py, then copied."""
    from hooks.code_blocks import on_page_content

    html = on_page_content(
        '<pre><span></span><code><span class="gp">&gt;&gt;&gt; </span>f<span class="p">()</span>\n'
        '<span class="gt">Traceback (most recent call last):</span>\n'
        '<span class="c">...</span>\n'
        '<span class="gr">ValueError</span>: bad\n'
        '<span class="gp">&gt;&gt;&gt; </span>g<span class="p">()</span>\n'
        '<span class="go">1</span>\n</code></pre>',
        None, None, None,
    )
    pre = BeautifulSoup(html, "html.parser").find("pre")
    selectors = copy_hidden_selectors(STYLESHEET.read_text(encoding="utf-8"))
    assert copied_text(pre, selectors) == "f()\ng()\n"


def test_each_docstring_example_runs_alone() -> None:
    """A reader copies one object's example, not the whole page: each must import what it uses.

    The docstring doctests (conftest.py) run with the module's globals; here each runs in an
    empty namespace, as a paste into a fresh interpreter does.
    """
    import doctest
    import importlib
    import pkgutil

    import lossbook

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    failing = []
    for info in pkgutil.iter_modules(lossbook.__path__):
        module = importlib.import_module(f"lossbook.{info.name}")
        for test in finder.find(module, globs={}):
            if test.examples and runner.run(test, out=lambda _: None).failed:
                failing.append(test.name)
    assert not failing, "examples that fail in a fresh namespace: " + ", ".join(failing)
