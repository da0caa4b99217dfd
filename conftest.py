"""The one Sybil configuration: which documents are run as tests, and by which parsers.

* every Markdown page under ``docs/`` (nested folders and ``index.md`` included: Sybil matches
  patterns from the right, so ``*.md`` under ``path="docs"`` finds them all; ``docs/**/*.md``
  would miss ``docs/index.md``), parsed by ``tests/doc_examples.py``, whose blocks run in the
  session's background pool (``tests/background.py``);
* the docstring examples of every module of ``lossbook``, in doctest form.

Snippet files are run on their own by ``tests/test_snippets.py`` and, where a page includes
them, as part of that page.
"""

import os

# One intra-op thread for torch in the suite's process and every process it starts (the
# environment is inherited). The suite runs its work concurrently (tests/background.py:
# the build, snippets and scripts in other processes, the browser visits): with torch's
# default of one thread per core, two-thread operations wait on each other's spinning threads
# and a snippet took 6 times as long (4.8 s against 28.5 s with the machine loaded). Set before
# torch is first imported, which is what OpenMP reads. Every value the pages print came out the
# same with one thread and with two (whole-suite runs of each on this 2-core machine).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# torch.compile's inductor backend (tests/test_inductor.py) compiles its C++ kernels in the
# process that compiles, instead of in a pool of worker processes that each import torch first:
# on two cores already busy with the suite, the pool cost about 3 s of CPU and saved no time.
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")


from sybil import Sybil
from sybil.parsers.rest import DocTestParser

from tests.doc_examples import parse_markdown

# The session's pool of work in other processes (the build, the pages' blocks, ...), registered
# here so that a run of the pages alone (pytest docs/) has it too.
pytest_plugins = ["tests.background"]

PAGE_PATTERNS = ["*.md"]

# ``background``: the session's pool, which runs each page's blocks (tests/doc_examples.py).
pages = Sybil(parsers=[parse_markdown], path="docs", patterns=PAGE_PATTERNS, name="page", fixtures=["background"])
docstrings = Sybil(parsers=[DocTestParser()], path="lossbook", patterns=["*.py"], name="docstring")

pytest_collect_file = (pages + docstrings).pytest()
