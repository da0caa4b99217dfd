"""The one Sybil configuration: which documents are run as tests, and by which parsers.

* every Markdown page under ``docs/`` (nested folders and ``index.md`` included: Sybil matches
  patterns from the right, so ``*.md`` under ``path="docs"`` finds them all; ``docs/**/*.md``
  would miss ``docs/index.md``), parsed by ``tests/doc_examples.py``;
* the docstring examples of every module of ``lossbook``, in doctest form.

Snippet files are run on their own by ``tests/test_snippets.py`` and, where a page includes
them, as part of that page.
"""

from sybil import Sybil
from sybil.parsers.rest import DocTestParser

from tests.doc_examples import parse_markdown

PAGE_PATTERNS = ["*.md"]

pages = Sybil(parsers=[parse_markdown], path="docs", patterns=PAGE_PATTERNS, name="page")
docstrings = Sybil(parsers=[DocTestParser()], path="lossbook", patterns=["*.py"], name="docstring")

pytest_collect_file = (pages + docstrings).pytest()
