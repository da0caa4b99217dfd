"""The worked example (``docs/worked-example.ipynb``) shows the outputs of a real run.

* the site build executes the notebook (``hooks/notebook.py`` with mkdocs-jupyter's converter,
  ``execute``; errors fail the build), and the text each code cell prints on the built page is
  compared, cell by cell, with the output stored in the committed notebook, so the numbers on
  the page cannot go stale (when they change on purpose, re-execute it in place with
  ``.venv/bin/jupyter-nbconvert --to notebook --execute --inplace docs/worked-example.ipynb``).
  The build reuses an execution only while the notebook, ``lossbook/``, ``snippets/`` and the
  pinned toolchain are unchanged (a test below checks that key), so a fresh checkout, as in CI,
  always executes it; the suite does not execute it a second time;
* the built page publishes the ``.ipynb`` next to it, renders its math with KaTeX and loads
  nothing from another origin;
* the page looks like the book (``hooks/notebook.py``): code and output blocks as on every
  chapter, no prompt column, no JupyterLab stylesheet, figures from the light/dark SVG pipeline
  shown by Markdown cells, so the cells a reader sees hold no figure plumbing; its search entry
  starts with prose;
* the figures are drawn from the same run: ``lossbook.plots.worked_example_run`` repeats the
  notebook's seeded training, and must print the notebook's epoch table and predictions.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup

from tests.site_support import built_html

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "worked-example.ipynb"


def text_outputs(cell) -> list[tuple[str, str]]:
    """The text a code cell shows: streams, plain-text results and errors (images are left out)."""
    found = []
    for output in cell.get("outputs", []):
        kind = output["output_type"]
        if kind == "stream":
            found.append((output["name"], output["text"]))
        elif kind in ("execute_result", "display_data"):
            found.append((kind, output.get("data", {}).get("text/plain", "")))
        elif kind == "error":
            found.append(("error", f"{output['ename']}: {output['evalue']}"))
    return found


def built_outputs(built_site: Path) -> list[list[str]]:
    """The text each code cell printed in the build's run, as the built page shows it: one list
    per code block, of the output blocks that follow it."""
    article = built_html(built_site / "worked-example" / "index.html").find("article")
    cells: list[list[str]] = []
    for block in article.select("div.language-python.highlight, div.language-output.highlight"):
        if "language-python" in block["class"]:
            cells.append([])
        else:
            assert cells, "an output block before the first code block"
            cells[-1].append(block.select_one("pre code").get_text())
    return cells


def test_every_text_output_matches_the_stored_notebook(built_site: Path) -> None:
    stored = [cell for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    shown = built_outputs(built_site)
    assert stored, "the notebook has no code cells"
    assert len(shown) == len(stored), f"the page shows {len(shown)} code blocks, the notebook has {len(stored)} code cells"
    for number, (old, new) in enumerate(zip(stored, shown), start=1):
        expected = [text.rstrip("\n") for _, text in text_outputs(old)]
        assert new == expected, (
            f"code cell {number} prints something else in the build's run than the stored notebook shows.\n"
            f"--- stored\n{expected}\n--- this run\n{new}\n"
            "If the change is intended, re-execute the notebook and commit it:\n"
            "  .venv/bin/jupyter-nbconvert --to notebook --execute --inplace docs/worked-example.ipynb"
        )


def test_the_stored_notebook_holds_the_outputs_of_a_run() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code), "some code cells were never executed"
    shown = "".join(text for cell in code for _, text in text_outputs(cell))
    assert not re.search(r"0x[0-9a-f]{6,}", shown), "an output shows a memory address, which changes every run"
    for number, cell in enumerate(code, start=1):
        kinds = {output["output_type"] for output in cell.outputs}
        assert kinds <= {"stream"}, f"code cell {number} outputs {kinds}: only printed text is shown as a book output block"
        assert not re.search(r"\bplots\b|show_figure|alt=|savefig", cell.source), (
            f"code cell {number} holds figure plumbing; draw figures with @figure in lossbook/plots.py"
        )


def test_the_figures_come_from_the_notebooks_run() -> None:
    from lossbook import plots

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    shown = [text for cell in notebook.cells if cell.cell_type == "code" for _, text in text_outputs(cell)]
    table = next(text for text in shown if text.startswith("epoch "))
    columns = table.splitlines()[0].split()
    run = plots.worked_example_run()
    assert run["history"].table(columns=columns) + "\n" == table, "the figures' run trained differently"
    predicted = int(re.search(r"predicted positives: (\d+)", "".join(shown))[1])
    assert int(run["predicted"].sum()) == predicted, "the figures' run predicts differently"
    figures = {name for name in plots.FIGURES if name.startswith("worked-example-")}
    markdown = "".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    for name in sorted(figures):
        for theme in ("light", "dark"):
            assert f"../figures/{name}.{theme}.svg#only-{theme}" in markdown, f"the page does not show {name} ({theme})"


def test_the_run_reaches_the_expected_auc(built_site: Path) -> None:
    shown = "".join(text for cell in built_outputs(built_site) for text in cell)
    auc = float(re.search(r"validation AUC: ([0-9.]+)", shown)[1])
    assert 0.96 <= auc <= 0.99, f"validation AUC {auc} is outside the expected 0.97-0.98 range"
    without = float(re.search(r"without penalties: ([0-9.]+)", shown)[1])
    with_penalties = float(re.search(r"with penalties: +([0-9.]+)", shown)[1])
    assert with_penalties > without, "the penalties add to the loss"


def test_the_notebook_conversion_settings() -> None:
    from mkdocs.config import load_config

    from hooks import notebook

    options = notebook.NB2HTML
    assert options["execute"] is True, "the notebook must be executed at build time"
    assert options["allow_errors"] is False, "an error in a cell must fail the build"
    assert options["include_requirejs"] is False, "RequireJS would be loaded from a CDN"
    # mkdocs-jupyter's own cache key covers the notebook file and plugin options only, so a cached
    # page would survive a change to lossbook/ and show numbers that no longer hold: the hook
    # renders the notebook page itself, with a cache key that covers them.
    config = load_config(str(ROOT / "mkdocs.yml"))
    assert "mkdocs-jupyter" not in config.plugins, "the plugin would render the page with its own cache"
    for changed in ("lossbook/plots.py", "constraints.txt"):
        assert changed.split("/")[0] in notebook.INPUTS, f"a change to {changed} must execute the notebook again"


def test_the_built_page_renders_math_and_loads_nothing_from_elsewhere(built_site: Path) -> None:
    page = built_site / "worked-example" / "index.html"
    html = page.read_text(encoding="utf-8")
    soup = built_html(page)
    article = soup.find("article")
    published = built_site / "worked-example" / "worked-example.ipynb"
    assert published.read_bytes() == NOTEBOOK.read_bytes(), "the downloadable .ipynb is not the notebook"
    assert soup.find("a", href="worked-example.ipynb"), "the page has no download link"
    text = copy.copy(article)
    for code in text.find_all(["code", "pre", "lossbook-math"]):
        code.decompose()
    assert "$" not in text.get_text(), "raw TeX left on the page"
    assert article.select(".katex"), "no formula was rendered by KaTeX"
    assert "mathjax" not in html.lower(), "the page still carries a MathJax loader"
    for script in soup.find_all("script"):
        assert not re.search(r"https?://", script.get("src") or ""), f"script loaded from {script['src']}"
        assert not re.search(r"""(?:import\(|src=|href=)\s*["']https?://""", script.string or ""), (
            "an inline script loads code from another origin"
        )
    assert "the best epoch" in html and "validation AUC: " in html
    for image in article.find_all("img"):
        target = (page.parent / image["src"].split("#")[0]).resolve()
        assert target.is_file(), f"missing figure {image['src']}"
    # MkDocs does not rewrite links in a notebook's HTML: they must be written as site URLs.
    for link in article.find_all("a", href=True):
        href = link["href"].split("#")[0]
        if not href or re.match(r"^[a-z]+:", href):
            continue
        target = (page.parent / href).resolve()
        assert target.is_file() or (target / "index.html").is_file(), f"broken link {link['href']!r}"


def test_the_built_page_looks_like_the_book(built_site: Path) -> None:
    article = built_html(built_site / "worked-example" / "index.html").find("article")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not article.select("style, [class*='jp-'], .jupyter-wrapper"), "JupyterLab's markup or stylesheet is left"
    assert "In [" not in article.get_text(), "the page shows a prompt column"
    assert len(article.select("div.language-python.highlight")) == len(code)
    captions = [c.get_text(" ", strip=True) for c in article.select("figure figcaption")]
    assert captions and all(c.startswith(f"Figure {n}.") for n, c in enumerate(captions, start=1)), captions
    for figure in article.select("figure"):
        sources = sorted(image["src"].split("#")[1] for image in figure.find_all("img"))
        assert sources == ["only-dark", "only-light"], f"a figure without its light and dark SVG: {figure}"
        assert all(len(image.get("alt", "")) > 40 for image in figure.find_all("img")), "a figure without alt text"


def test_the_search_entry_starts_with_prose(built_site: Path) -> None:
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    entries = [d for d in index["docs"] if d["location"].startswith("worked-example/") and d["text"]]
    assert entries, "the notebook page is not in the search index"
    first = BeautifulSoup(entries[0]["text"], "html.parser").get_text()
    assert first.startswith("One complete training run"), f"the search entry starts {first[:60]!r}"
    assert not any("Copied!" in d["text"] or "In [" in d["text"] for d in entries)
