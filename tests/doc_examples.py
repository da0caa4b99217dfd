"""How a page's code blocks become tests.

A page is a program: its Python blocks run top to bottom in one namespace. They run in a process
of their own (:func:`run_page`, started for each page with the session in the background pool of
``tests/background.py``, from an empty folder as ``tests/fresh_python.py`` runs a script), which
notes where each block's output starts; Sybil's test of each block compares that block's output
(so the suite's own process, which runs the other tests, does not also train the pages' models).
A block that raises fails with its traceback, and every block after it fails as not run.
Doctest blocks (``pycon``) run in Sybil's namespace for the document. Two ways to show output,
both compared exactly with what the code prints:

* a ```` ```python ```` block followed by an ```` ```output ```` block;
* a ```` ```pycon ```` block in doctest form (``>>>`` prompts followed by the output).

Every fence whose language is Python is collected, whatever attributes follow the language
(``python title="x.py" hl_lines="2"`` or ``{ .python .copy }``): Sybil's stock Markdown parser
skips those silently, this one does not. A block whose body is a ``--8<--`` include runs the
included file (or section, or line range) exactly as ``pymdownx.snippets`` shows it.

A Python block that prints without an output block after it fails, and so does an output
block with no Python block before it: nothing printed goes unchecked, nothing shown is unrun.
:func:`python_blocks` is also what ``tests/test_site.py`` uses to check the built HTML.
"""

from __future__ import annotations

import doctest
import io
import json
import re
import secrets
import subprocess
import textwrap
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from sybil import Document, Example, Region

ROOT = Path(__file__).resolve().parent.parent

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n"
    r"(?P<body>.*?)"
    r"^(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
PYTHON_LANGUAGES = {"python", "py", "python3", "py3"}
DOCTEST_LANGUAGES = {"pycon"}
OUTPUT_LANGUAGES = {"output"}
INCLUDE = re.compile(r'^-{1,}8<-{1,}[ \t]+"(?P<target>[^"]+)"[ \t]*$')
SECTION_MARK = re.compile(r"--8<--\s*\[(?:start|end):[^\]]*\]")


@dataclass(frozen=True)
class Fence:
    language: str
    source: str  # the code as the reader sees it, includes resolved
    start: int
    end: int
    line: int


def fence_language(info: str) -> str:
    """The language of a fence's info string: ``python`` for ``python title="a"`` and ``{ .python }``."""
    info = info.strip()
    if info.startswith("{"):
        classes = re.findall(r"(?<![\w-])\.([\w+-]+)", info)
        return classes[0].lower() if classes else ""
    return info.split(None, 1)[0].lower() if info else ""


def resolve_includes(body: str, origin: str) -> str:
    """Replace ``--8<-- "path[:section | :start:end]"`` lines as pymdownx.snippets does."""
    lines = []
    for line in body.splitlines():
        match = INCLUDE.match(line.strip())
        if not match:
            lines.append(line)
            continue
        lines.extend(read_snippet(match["target"], origin).splitlines())
    return "\n".join(lines) + "\n"


def read_snippet(target: str, origin: str) -> str:
    path_text, _, selector = target.partition(":")
    path = ROOT / path_text
    if not path.is_file():
        raise FileNotFoundError(f"{origin}: included file {path_text!r} does not exist")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if selector and re.fullmatch(r"\d*(:\d*)?", selector):
        start, _, end = selector.partition(":")
        lines = lines[int(start or 1) - 1 : int(end) if end else None]
    elif selector:
        start_mark = f"--8<-- [start:{selector}]"
        end_mark = f"--8<-- [end:{selector}]"
        starts = [i for i, l in enumerate(lines) if l.strip().endswith(start_mark)]
        ends = [i for i, l in enumerate(lines) if l.strip().endswith(end_mark)]
        if len(starts) != 1 or len(ends) != 1:
            raise ValueError(f"{origin}: section {selector!r} must occur once in {path_text}")
        lines = lines[starts[0] + 1 : ends[0]]
    kept = [l for l in lines if not SECTION_MARK.search(l)]
    return "\n".join(kept) + "\n"


def fences(text: str, origin: str) -> list[Fence]:
    """Every fenced block of a Markdown text, outermost first, with includes resolved."""
    found = []
    position = 0
    while True:
        match = FENCE.search(text, position)
        if match is None:
            return found
        indent = match["indent"]
        body = textwrap.dedent(match["body"]) if indent else match["body"]
        language = fence_language(match["info"])
        line = text.count("\n", 0, match.start()) + 1
        if language in PYTHON_LANGUAGES | DOCTEST_LANGUAGES:
            body = resolve_includes(body, f"{origin}:{line}")
        found.append(Fence(language, body, match.start(), match.end(), line))
        # Continue after the whole block: fences shown inside a block of another language
        # (a ```markdown example, say) are text for the reader, not code to run.
        position = match.end()


def python_blocks(text: str, origin: str) -> list[Fence]:
    """The blocks of a page that are run: Python and doctest fences."""
    return [f for f in fences(text, origin) if f.language in PYTHON_LANGUAGES | DOCTEST_LANGUAGES]


@dataclass(frozen=True)
class PageExample:
    """A block that runs, with the output block shown after it (``None`` if there is none)."""

    block: Fence
    expected: str | None
    end: int  # where the example ends in the page: after its output block, if any


def page_examples(text: str, origin: str) -> list[PageExample]:
    """Pair each Python block of a page with the output block right after it.

    Raises ``ValueError`` for an output block that does not follow a Python block directly.
    """
    blocks = fences(text, origin)
    examples = []
    for index, block in enumerate(blocks):
        previous = blocks[index - 1] if index else None
        adjacent = previous is not None and not text[previous.end : block.start].strip()
        if block.language in OUTPUT_LANGUAGES:
            if not (adjacent and previous.language in PYTHON_LANGUAGES):
                raise ValueError(f"{origin}:{block.line}: output block without a python block just before it")
            examples[-1] = PageExample(previous, block.source, block.end)
        elif block.language in PYTHON_LANGUAGES | DOCTEST_LANGUAGES:
            examples.append(PageExample(block, None, block.end))
    return examples


def parse_markdown(document: Document):
    """Sybil parser: one region per Python or doctest block, with the output block after it."""
    for example in page_examples(document.text, document.path):
        if example.block.language in DOCTEST_LANGUAGES:
            yield Region(example.block.start, example.end, parsed=example.block, evaluator=_evaluate_doctest)
        else:
            yield Region(example.block.start, example.end, parsed=example, evaluator=_evaluate_python)


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


# Runs the blocks of BLOCKS (a JSON list of [file:line, source]) in one namespace, writing MARK
# and the block's line on a line of their own to stdout before each; stops at the first block that
# raises, after printing its traceback to stderr and MARK "raised" to stdout.
RUNNER = """\
import json, sys, traceback
blocks = json.loads(open(sys.argv[1], encoding="utf-8").read())
mark = sys.argv[2]
namespace = {"__name__": "__main__"}
for where, source in blocks:
    print(mark, where, flush=True)
    try:
        exec(compile(source, where, "exec"), namespace)
    except BaseException:
        sys.stdout.flush()
        traceback.print_exc()
        print(mark, "raised", flush=True)
        break
"""


@dataclass
class PageRun:
    """What the blocks of a page printed when run in order: block line -> its output; the line of
    the block that raised, if one did, with the traceback."""

    outputs: dict[int, str] = field(default_factory=dict)
    raised: int | None = None
    traceback: str = ""


def run_page(workdir: Path, page: Path) -> PageRun:
    """The Python blocks of ``page`` run in order in a process of their own
    (``tests/fresh_python.py``), from ``workdir``; doctest blocks are left to Sybil."""
    from tests import fresh_python
    from tests.background import CHILD_TIMEOUT

    origin = str(page.relative_to(ROOT))
    blocks = [e.block for e in page_examples(page.read_text(encoding="utf-8"), origin) if e.block.language in PYTHON_LANGUAGES]
    (workdir / "blocks.json").write_text(json.dumps([[f"{origin}:{b.line}", b.source] for b in blocks]), encoding="utf-8")
    (workdir / "run_blocks.py").write_text(RUNNER, encoding="utf-8")
    mark = f"lossbook-block-{secrets.token_hex(8)}"
    result: subprocess.CompletedProcess = fresh_python.run(
        workdir / "run_blocks.py", workdir, timeout=CHILD_TIMEOUT, args=[str(workdir / "blocks.json"), mark]
    )
    run = PageRun()
    current = None
    for piece in result.stdout.split(mark + " ")[1:]:
        head, _, printed = piece.partition("\n")
        if head == "raised":
            run.raised, run.traceback = current, result.stderr
            break
        current = int(head.rsplit(":", 1)[1])
        run.outputs[current] = printed
    if result.returncode != 0 and run.raised is None:
        raise AssertionError(f"{origin}: the run of its blocks ended with code {result.returncode}:\n{result.stderr[-3000:]}")
    return run


# The runs of the pages whose blocks are selected: page path (as Sybil has it) -> Future of a
# PageRun, filled by tests/background.py when the session starts.
page_runs: dict[str, Future] = {}


def page_of(item) -> Path | None:
    """The Markdown page whose Python block a (Sybil) test item checks, or None."""
    example = getattr(item, "example", None)
    if example is None or getattr(example.region, "evaluator", None) is not _evaluate_python:
        return None
    return Path(example.path)


def _evaluate_python(example: Example) -> None:
    block, expected = example.parsed.block, example.parsed.expected
    assert str(example.path) in page_runs, f"{example.path}: its blocks were not started with the session (tests/background.py)"
    run: PageRun = page_runs[str(example.path)].result()
    if run.raised == block.line:
        raise AssertionError(f"the block at line {block.line} raised:\n{run.traceback}")
    if block.line not in run.outputs:
        raise AssertionError(f"the block at line {block.line} did not run: the block at line {run.raised} raised before it")
    got = normalise(run.outputs[block.line])
    if expected is None:
        if got:
            raise AssertionError(
                f"the block at line {block.line} printed output that no output block shows:\n{got}"
            )
        return
    if got != normalise(expected):
        raise AssertionError(
            f"output of the block at line {block.line} differs from the page.\n"
            f"--- page shows\n{normalise(expected)}\n--- code printed\n{got}"
        )


def _evaluate_doctest(example: Example) -> None:
    block: Fence = example.parsed
    test = doctest.DocTestParser().get_doctest(
        block.source, example.namespace, str(example.path), str(example.path), block.line
    )
    report = io.StringIO()
    runner = doctest.DocTestRunner()  # exact comparison: no flags
    runner.run(test, out=report.write, clear_globs=False)
    if runner.failures:
        raise AssertionError(report.getvalue())
