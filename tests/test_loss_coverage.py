"""Every loss class of the installed ``torch.nn`` has a section in the book, linked to its API page.

The classes are found by introspection, not from a list: every class in ``torch.nn`` whose name
ends in ``Loss`` or that subclasses ``torch.nn.modules.loss._Loss`` (``AdaptiveLogSoftmaxWithLoss``
is an ``nn.Module`` whose name ends in ``Loss``). A new PyTorch release that adds a loss therefore
fails this test until the book covers it.

A class is covered when some page under ``docs/`` has a Markdown heading with the class name in
backticks (`` `Name` ``, `` `nn.Name` `` or `` `torch.nn.Name` ``), and one such section (the
lines up to the next heading of the same or a higher level, code blocks left out) links to
``https://docs.pytorch.org/docs/2.13/generated/torch.nn.Name.html``; so must every other section
whose heading names the class. This module is the one home of that rule.

"Which loss?" (``docs/losses/index.md``) must route to each of them: a link whose text shows the
class name in backticks, to a page with a section about it (anchors are checked on the built site
by ``tests/test_links.py``).

Deprecated aliases are left out only through :data:`DEPRECATED_ALIASES`, and the test checks that
each of them still exists, subclasses the class it aliases without overriding ``forward``, and
warns that it is deprecated when constructed.
"""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch.nn.modules.loss import _Loss

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API_PAGE = "https://docs.pytorch.org/docs/2.13/generated/torch.nn.{name}.html"

# name -> (the class it is an alias of, why it has no section of its own)
DEPRECATED_ALIASES: dict[str, tuple[str, str]] = {
    "NLLLoss2d": (
        "NLLLoss",
        "deprecated alias (FutureWarning when constructed): NLLLoss takes the same "
        "(N, C, d1, ...) input and is documented in docs/losses/multiclass.md",
    ),
}

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t]*#*[ \t]*$")
CODE_SPAN = re.compile(r"`+([^`]+?)`+")


def loss_class_names() -> list[str]:
    """The loss classes of the installed ``torch.nn``."""
    names = set()
    for name in dir(torch.nn):
        obj = getattr(torch.nn, name)
        if inspect.isclass(obj) and (name.endswith("Loss") or issubclass(obj, _Loss)):
            names.add(name)
    names.add("AdaptiveLogSoftmaxWithLoss")
    return sorted(names)


@dataclass(frozen=True)
class Section:
    page: Path
    line: int  # of the heading, 1-based
    heading: str
    text: str  # the heading and its body up to the next heading of the same or a higher level

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}: {self.heading}"


def prose_lines(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of a page outside front matter and fenced code blocks."""
    lines = text.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":
        closing = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if closing is not None:
            start = closing + 1
    kept, fence = [], None
    for number, line in enumerate(lines[start:], start + 1):
        if fence is None:
            match = FENCE_OPEN.match(line)
            if match:
                fence = match["fence"]
                continue
            kept.append((number, line))
        elif line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
            fence = None
    return kept


def sections(page: Path) -> list[Section]:
    """Every heading of ``page`` with its section."""
    lines = prose_lines(page.read_text(encoding="utf-8"))
    headings = [
        (index, len(match["hashes"]), match["text"])
        for index, (_, line) in enumerate(lines)
        if (match := HEADING.match(line))
    ]
    found = []
    for position, (index, level, heading) in enumerate(headings):
        end = next((i for i, lvl, _ in headings[position + 1:] if lvl <= level), len(lines))
        body = "\n".join(line for _, line in lines[index:end])
        found.append(Section(page, lines[index][0], heading, body))
    return found


def names_in_heading(heading: str) -> set[str]:
    """Class names a heading shows in backticks: `Name`, `nn.Name` or `torch.nn.Name`."""
    names = set()
    for span in CODE_SPAN.findall(heading):
        span = span.strip()
        for prefix in ("torch.nn.", "nn."):
            if span.startswith(prefix):
                span = span[len(prefix):]
        names.add(span)
    return names


def links_to(text: str, url: str) -> bool:
    """Whether ``text`` has a Markdown link (inline, autolink or reference) to exactly ``url``."""
    escaped = re.escape(url)
    inline = rf"\]\(\s*<?{escaped}>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
    autolink = rf"<{escaped}>"
    reference = rf"^ {{0,3}}\[[^\]]+\]:\s*<?{escaped}>?(?:\s|$)"
    return any(re.search(pattern, text, re.MULTILINE) for pattern in (inline, autolink, reference))


def all_sections() -> list[Section]:
    return [section for page in sorted(DOCS.rglob("*.md")) for section in sections(page)]


SECTIONS = all_sections()
LOSSES = loss_class_names()
COVERED = [name for name in LOSSES if name not in DEPRECATED_ALIASES]


def sections_of(name: str) -> list[Section]:
    return [section for section in SECTIONS if name in names_in_heading(section.heading)]


def test_introspection_finds_the_loss_classes() -> None:
    # Guards against a listing that finds nothing (so that every test below would pass vacuously).
    expected = {"MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss", "AdaptiveLogSoftmaxWithLoss"}
    assert expected <= set(LOSSES), f"introspection of torch.nn missed {expected - set(LOSSES)}"
    assert "Module" not in LOSSES and "Linear" not in LOSSES


@pytest.mark.parametrize("name", COVERED)
def test_every_loss_class_has_a_section(name: str) -> None:
    assert sections_of(name), (
        f"torch.nn.{name} has no section: no page under docs/ has a heading with `{name}` "
        "in backticks"
    )


@pytest.mark.parametrize("name", COVERED)
def test_every_loss_section_links_to_its_api_page(name: str) -> None:
    found = sections_of(name)
    if not found:
        pytest.fail(f"torch.nn.{name} has no section (see test_every_loss_class_has_a_section)")
    url = API_PAGE.format(name=name)
    unlinked = [str(section) for section in found if not links_to(section.text, url)]
    assert not unlinked, (
        f"every section about torch.nn.{name} links to {url}; these do not: " + "; ".join(unlinked)
    )


WHICH_LOSS = DOCS / "losses" / "index.md"
LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")


def routes_in_which_loss(name: str) -> list[str]:
    """Targets of the links on "Which loss?" whose text shows ``name`` in backticks and that lead
    to a page with a section about it."""
    text = "\n".join(line for _, line in prose_lines(WHICH_LOSS.read_text(encoding="utf-8")))
    routes = []
    for link in LINK.finditer(text):
        if name not in names_in_heading(link["text"]):
            continue
        page = (WHICH_LOSS.parent / link["target"].split("#", 1)[0]).resolve()
        if page.is_file() and any(name in names_in_heading(s.heading) for s in sections(page)):
            routes.append(link["target"])
    return routes


@pytest.mark.parametrize("name", COVERED)
def test_which_loss_routes_to_every_loss(name: str) -> None:
    assert routes_in_which_loss(name), (
        f"docs/losses/index.md has no link with `{name}` in its text to a page with a section "
        f"about torch.nn.{name}"
    )


@pytest.mark.parametrize("alias", sorted(DEPRECATED_ALIASES))
def test_excluded_names_are_deprecated_aliases(alias: str) -> None:
    target_name, reason = DEPRECATED_ALIASES[alias]
    assert reason, f"{alias}: give the reason it is excluded"
    assert alias in LOSSES, f"torch.nn.{alias} no longer exists: remove it from DEPRECATED_ALIASES"
    alias_class, target = getattr(torch.nn, alias), getattr(torch.nn, target_name)
    assert alias_class is not target and issubclass(alias_class, target), (
        f"torch.nn.{alias} is not a subclass of torch.nn.{target_name}"
    )
    assert "forward" not in vars(alias_class), f"torch.nn.{alias} overrides forward: not an alias"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        alias_class()
    deprecations = [
        warning for warning in caught
        if issubclass(warning.category, (DeprecationWarning, FutureWarning))
        and "deprecated" in str(warning.message)
    ]
    assert deprecations, f"constructing torch.nn.{alias} does not warn that it is deprecated"
    assert sections_of(target_name), f"the class {alias} aliases, {target_name}, has no section"


# The helpers above decide what counts; these pin down their behaviour on small inputs.


def test_headings_in_code_blocks_and_front_matter_are_not_sections(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "---\ndescription: x\n---\n\n# Title\n\n```python\n# `MSELoss` in a comment\n```\n\n"
        "    ~~~~\n    ## `L1Loss`\n    ~~~~\n\n## `HuberLoss(delta)` and `nn.MSELoss`\n\ntext\n",
        encoding="utf-8",
    )
    found = sections(page)
    assert [s.heading for s in found] == ["Title", "`HuberLoss(delta)` and `nn.MSELoss`"]
    assert names_in_heading(found[1].heading) == {"HuberLoss(delta)", "MSELoss"}


def test_a_section_ends_at_the_next_heading_of_its_level(tmp_path: Path) -> None:
    url = API_PAGE.format(name="MSELoss")
    page = tmp_path / "page.md"
    page.write_text(f"## `MSELoss`\n\n### More\n\n[api]({url})\n\n## `L1Loss`\n\n[api]({url})\n")
    mse, more, l1 = sections(page)
    assert links_to(mse.text, url) and links_to(more.text, url)
    assert links_to(l1.text, url)  # the link after the L1Loss heading belongs to that section only
    page.write_text(f"## `MSELoss`\n\ntext\n\n## `L1Loss`\n\n[api]({url})\n")
    mse, l1 = sections(page)
    assert not links_to(mse.text, url)


def test_only_the_exact_api_url_counts() -> None:
    url = API_PAGE.format(name="MSELoss")
    assert links_to(f"[PyTorch API: torch.nn.MSELoss]({url})", url)
    assert links_to(f"see <{url}>", url)
    assert links_to(f"[api][1]\n\n[1]: {url}\n", url)
    assert not links_to(f"the page {url} as text", url)
    assert not links_to(f"[api]({url.replace('2.13', 'stable')})", url)
    assert not links_to(f"[api]({API_PAGE.format(name='MSELossX')})", url)
