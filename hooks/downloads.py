"""MkDocs hook: every chapter can be taken away as a script (.py) and a notebook (.ipynb).

Both are made at build time from exactly the blocks the test suite runs: the page's Python
blocks as ``tests/doc_examples.py`` collects them for Sybil (includes resolved as
``pymdownx.snippets`` shows them, blocks inside tabs dedented), in page order, each paired
with the output block shown after it.

* ``downloads/lossbook-<page>.py``: the blocks joined into one script, each preceded by the
  headings the page shows above it as comments. Run in a fresh ``python``, it prints the
  page's output blocks, in order (``tests/test_pages_standalone.py`` runs every one).
* ``downloads/lossbook-<page>.ipynb``: one code cell per block, with the block's output block
  as the cell's stdout (that is what the code prints: the suite compares them), and the
  headings as Markdown cells; written with ``nbformat`` and validated against its schema.

Each page with code gets one line under its title linking to both files. The files are added
to MkDocs' file collection (``File.generated``), so ``mkdocs serve`` serves them and the strict
build checks the links. ``hooks/notebook.py``, which makes the ``*.ipynb`` files under ``docs/``
pages in its ``on_files``, runs before this hook and never sees these notebooks. The notebook page has
its own ``.ipynb`` download and no Markdown source: it gets nothing from this hook.
"""

from __future__ import annotations

import posixpath
import re
import sys
from pathlib import Path
from urllib.parse import urljoin

import nbformat
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `mkdocs` run as a script does not put the project on the path
    sys.path.insert(0, str(ROOT))

from tests.doc_examples import DOCTEST_LANGUAGES, FENCE, PageExample, page_examples  # noqa: E402

FOLDER = "downloads"
REPOSITORY = "https://github.com/lossbook/lossbook"
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
TITLE = re.compile(r"^#[ \t]+(.+?)[ \t]*$", re.MULTILINE)

_downloads: dict[str, str] = {}  # page src_uri -> download name, without suffix


def download_name(src_uri: str) -> str:
    """``losses/binary.md`` -> ``lossbook-losses-binary``; ``index.md`` -> ``lossbook-home``."""
    parts = list(Path(src_uri).with_suffix("").parts)
    if parts[-1] == "index":
        parts = parts[:-1] or ["home"]
    return "-".join(["lossbook", *parts])


def _sections(text: str, examples: list[PageExample], title: str) -> list[list[tuple[int, str]]]:
    """For each example, the headings the page shows between the previous example and it."""
    found, position = [], 0
    for example in examples:
        prose = FENCE.sub("", text[position : example.block.start])  # not a `# comment` in a fence
        open_: list[tuple[int, str]] = []  # the headings still open where the block starts
        for match in HEADING.finditer(prose):
            level = len(match[1])
            open_ = [h for h in open_ if h[0] < level] + [(level, match[2])]
        found.append([h for h in open_ if h != (1, title)])
        position = example.end
    return found


def page_title(text: str, fallback: str) -> str:
    match = TITLE.search(text)
    return match[1] if match else fallback


def script(text: str, examples: list[PageExample], title: str, url: str) -> str:
    lines = [
        f"# {title}",
        f"# The code of {url}, in page order.",
        "# Made from the page at build time; the test suite runs this file and compares what",
        "# it prints with the page. Needs torch 2.13 and the lossbook package:",
        f'#   pip install "lossbook @ git+{REPOSITORY}"',
    ]
    for headings, example in zip(_sections(text, examples, title), examples):
        for level, heading in headings:
            lines += ["", f"# {'#' * level} {heading}"]
        lines += ["", example.block.source.rstrip("\n")]
    return "\n".join(lines) + "\n"


def _cell(kind: str, source: str, **fields) -> dict:
    return {"cell_type": kind, "metadata": {}, "source": source, **fields}


def notebook(text: str, examples: list[PageExample], title: str, url: str) -> str:
    """The page's blocks as an nbformat 4 notebook, each with the output the page shows.

    Cells are plain dicts, validated once against nbformat's schema when written
    (``nbformat.v4.new_*`` validate every cell they make: ten times slower for the same file).
    """
    cells = [_cell(
        "markdown",
        f"# {title}\n\nThe code of [this lossbook page]({url}), in page order, with what it "
        "prints. Made from the page at build time; the test suite checks every output. "
        f'Needs torch 2.13 and `pip install "lossbook @ git+{REPOSITORY}"`.',
    )]
    for count, (headings, example) in enumerate(zip(_sections(text, examples, title), examples), 1):
        if headings:
            cells.append(_cell("markdown", "\n\n".join(f"{'#' * level} {heading}" for level, heading in headings)))
        outputs = []
        if example.expected is not None:
            outputs.append({"output_type": "stream", "name": "stdout", "text": example.expected})
        cells.append(_cell("code", example.block.source.rstrip("\n"), execution_count=count, outputs=outputs))
    book = nbformat.from_dict({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [{"id": f"cell-{index}", **cell} for index, cell in enumerate(cells, 1)],
    })
    invalid: dict = {}
    written = nbformat.writes(book, capture_validation_error=invalid)
    if invalid:
        raise invalid["ValidationError"]
    return written + "\n"


def on_files(files: Files, config) -> Files:
    _downloads.clear()
    for file in list(files.documentation_pages()):
        if not file.src_uri.endswith(".md"):
            continue
        text = Path(file.abs_src_path).read_text(encoding="utf-8")
        examples = page_examples(text, file.src_path)
        if not examples or any(e.block.language in DOCTEST_LANGUAGES for e in examples):
            continue
        name = download_name(file.src_uri)
        title = page_title(text, name)
        url = urljoin(config.get("site_url") or "", file.url)
        files.append(File.generated(config, f"{FOLDER}/{name}.py", content=script(text, examples, title, url)))
        files.append(File.generated(config, f"{FOLDER}/{name}.ipynb", content=notebook(text, examples, title, url)))
        _downloads[file.src_uri] = name
    return files


def download_line(src_uri: str) -> str | None:
    """The Markdown line a page shows under its title, or ``None`` for a page without code."""
    name = _downloads.get(src_uri)
    if name is None:
        return None
    folder = posixpath.relpath(FOLDER, posixpath.dirname(src_uri) or ".")
    return (
        f'Take this page away: [Download as script (.py)]({folder}/{name}.py){{ download="{name}.py" }}'
        f' · [as notebook (.ipynb)]({folder}/{name}.ipynb){{ download="{name}.ipynb" }}\n'
        "{ .lossbook-downloads data-search-exclude }"
    )


def on_page_markdown(markdown: str, page, config, files) -> str:
    line = download_line(page.file.src_uri)
    if line is None:
        return markdown
    title = TITLE.search(markdown)
    if title is None:
        return f"{line}\n\n{markdown}"
    return f"{markdown[: title.end()]}\n\n{line}\n\n{markdown[title.end():].lstrip(chr(10))}"
