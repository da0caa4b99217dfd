"""The conventions every page follows (issue 10), checked statically, offline.

* **Code that fits.** No line of a code or output block a reader sees is longer than 88
  characters: every fence of every page (any language, includes resolved as
  ``pymdownx.snippets`` shows them, by ``tests/doc_examples.py``), every file in ``snippets/``
  (a page links to the whole file), the code cells of the notebook pages, and the docstring
  examples the API reference shows (read from its built HTML).
* **Excerpts, not files.** None of those blocks is longer than 40 lines.
* **Figures with numbered captions.** In the built HTML, every image of a page's content sits in
  a ``<figure>`` whose ``<figcaption>`` starts with ``Figure N.``, numbered 1, 2, 3 ... in page
  order; the alt text is kept, and neither points at a panel by its side.
* **Links out.** Every external link of the built site is https and has one of the allowed forms
  below. (That each loss section links to its PyTorch API page is ``tests/test_loss_coverage.py``'s
  rule.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
from bs4 import BeautifulSoup

from tests.doc_examples import fences
from tests.site_support import built_html

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
MARKDOWN_PAGES = sorted(DOCS.rglob("*.md"))
NOTEBOOK_PAGES = sorted(DOCS.rglob("*.ipynb"))
MAX_WIDTH = 88
MAX_LINES = 40
SITE_URL = "https://lossbook.github.io/lossbook/"

# Where the site may link to, besides itself. Each entry: a pattern the whole URL must match.
ALLOWED_LINKS = {
    r"https://arxiv\.org/abs/[\w.\-/]+": "a cited paper, on arXiv",
    r"https://doi\.org/10\.\d{4,}/\S+": "a cited paper, by its DOI",
    r"https://docs\.pytorch\.org/docs/2\.13/\S*": "PyTorch's documentation, of the version the book is tested on",
    r"https://github\.com/lossbook/lossbook(?:[/?#]\S*)?": "the book's own repository: sources, tests, CI, edit links",
    # Listed with a reason:
    r"https://squidfunk\.github\.io/mkdocs-material/": "the theme's credit in every page's footer",
    r"https://github\.com/YisenWang/symmetric_cross_entropy_for_noisy_labels": (
        "SCE's published code (the authors'), which lossbook reproduces and tests/test_sce.py cites"
    ),
    r"https://github\.com/HanxunH/SCELoss-Reproduce": (
        "SCE's widely used PyTorch reproduction, which lossbook reproduces and tests/test_sce.py cites"
    ),
    r"https://github\.com/pytorch/pytorch/issues/\d+": "a PyTorch bug report, cited where a page shows the bug",
}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@dataclass(frozen=True)
class Block:
    where: str  # file:line of the opening fence, or the cell
    language: str
    text: str
    page_line: int | None = None  # page line of the block's first line; None with an include

    def line(self, number: int) -> str:
        if self.page_line is None:
            return f"line {number} of the block"
        return f"line {number} of the block (page line {self.page_line + number - 1})"


def page_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(
            f"{_rel(page)}:{fence.line}", fence.language, fence.source,
            None if "--8<--" in text[fence.start : fence.end] else fence.line + 1,
        )
        for fence in fences(text, str(page))
    ]


def notebook_blocks(page: Path) -> list[Block]:
    book = nbformat.read(page, as_version=4)
    return [
        Block(f"{_rel(page)}: cell {index}", "python", cell.source)
        for index, cell in enumerate(book.cells, 1)
        if cell.cell_type == "code"
    ]


def reader_blocks() -> list[Block]:
    blocks = [block for page in MARKDOWN_PAGES for block in page_blocks(page)]
    blocks += [block for page in NOTEBOOK_PAGES for block in notebook_blocks(page)]
    return blocks


def _too_wide(lines: list[str]) -> list[tuple[int, int]]:
    return [(number, len(line)) for number, line in enumerate(lines, 1) if len(line) > MAX_WIDTH]


def test_no_line_of_a_page_block_is_longer_than_88_characters() -> None:
    found = [
        f"{block.where} ({block.language or 'no language'}): {block.line(number)} has {width} characters"
        for block in reader_blocks()
        for number, width in _too_wide(block.text.splitlines())
    ]
    assert not found, f"{len(found)} lines wider than {MAX_WIDTH} characters:\n" + "\n".join(found)


def test_no_line_of_a_snippet_file_is_longer_than_88_characters() -> None:
    found = [
        f"{_rel(path)}:{number}: {width} characters"
        for path in sorted(SNIPPETS.glob("*.py"))
        for number, width in _too_wide(path.read_text(encoding="utf-8").splitlines())
    ]
    assert not found, f"{len(found)} lines wider than {MAX_WIDTH} characters:\n" + "\n".join(found)


def test_no_page_block_is_longer_than_40_lines() -> None:
    found = [
        f"{block.where} ({block.language or 'no language'}): {count} lines"
        for block in reader_blocks()
        if (count := len(block.text.rstrip("\n").splitlines())) > MAX_LINES
    ]
    assert not found, f"{len(found)} blocks longer than {MAX_LINES} lines:\n" + "\n".join(found)


def _shown_blocks(soup: BeautifulSoup) -> list[list[str]]:
    return [
        pre.get_text().rstrip("\n").splitlines()
        for pre in soup.select("article.md-content__inner div.highlight pre")
    ]


def test_api_reference_examples_fit(built_site: Path) -> None:
    """The docstring examples the API reference shows: 88 characters, 40 lines at most."""
    blocks = _shown_blocks(built_html(built_site / "reference" / "index.html"))
    assert blocks, "the API reference shows no code block"
    found = [f"block {block[0].strip()[:50]!r}...: {len(block)} lines" for block in blocks if len(block) > MAX_LINES]
    found += [
        f"block {block[0].strip()[:50]!r}..., line {number}: {width} characters"
        for block in blocks
        for number, width in _too_wide(block)
    ]
    assert not found, "the API reference shows blocks that do not fit:\n" + "\n".join(found)


# -- figures --------------------------------------------------------------------------------

def _content_pages(site: Path) -> list[Path]:
    return sorted(
        path for path in site.rglob("index.html")
        if path.relative_to(site).parts[0] not in ("assets", "search", "downloads")
    )


CAPTION = re.compile(r"Figure (\d+)\.\s")


# "Left:", "(right)", "left panel", "on the right", a sentence that starts "Left, ...": on a
# phone the panels of a figure stack.
SIDE = re.compile(
    r"(?i:\b(?:left|right)\b\s*(?::|\)|panel)|\bon the (?:left|right)\b)|(?:^|\.\s+)(?:Left|Right)\b"
)


def figure_problems(html: str | BeautifulSoup) -> list[str]:
    """Every content image in a figure captioned "Figure N.", N = 1, 2, ... in page order.

    Neither the caption nor the alt text points at a panel by side: say first and second.
    """
    soup = html if isinstance(html, BeautifulSoup) else BeautifulSoup(html, "html.parser")
    article = soup.select_one("article.md-content__inner")
    if article is None:
        return ["no article element"]
    problems, numbers = [], []
    for image in article.find_all("img"):
        figure = image.find_parent("figure")
        label = (image.get("alt") or image.get("src") or "")[:60]
        if not image.get("alt"):
            problems.append(f"image {image.get('src')} has no alt text")
        if figure is None:
            problems.append(f"image not inside a <figure>: {label!r}")
            continue
        caption = figure.find("figcaption")
        if caption is None:
            problems.append(f"figure without a <figcaption>: {label!r}")
        if SIDE.search(image.get("alt") or ""):
            problems.append(f"alt text names a panel by its side: {label!r}")
    for figure in article.find_all("figure"):
        if not figure.find("img"):
            continue
        caption = figure.find("figcaption")
        text = caption.get_text(" ", strip=True) if caption else ""
        match = CAPTION.match(text + " ")
        if caption is not None and not match:
            problems.append(f"caption does not start with 'Figure N.': {text[:60]!r}")
        if SIDE.search(text):
            problems.append(f"caption names a panel by its side: {text[:60]!r}")
        numbers.append(int(match[1]) if match else None)
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"figures are numbered {numbers}, expected 1..{len(numbers)} in page order")
    return problems


def test_every_figure_has_a_numbered_caption(built_site: Path) -> None:
    found = list(dict.fromkeys(  # a figure's light and dark images give the same problem
        f"{path.relative_to(built_site).parent.as_posix() or 'home'}: {problem}"
        for path in _content_pages(built_site)
        for problem in figure_problems(built_html(path))
    ))
    assert not found, f"{len(found)} figure problems:\n" + "\n".join(found)


def test_figure_check_catches_what_it_should() -> None:
    good = (
        '<article class="md-content__inner"><figure><img src="a.svg" alt="a"><img src="b.svg" alt="a">'
        "<figcaption>Figure 1. Look here.</figcaption></figure>"
        '<figure><img src="c.svg" alt="c"><figcaption>Figure 2. And there.</figcaption></figure></article>'
    )
    assert figure_problems(good) == []
    bare = '<article class="md-content__inner"><p><img src="a.svg" alt="a"></p></article>'
    assert figure_problems(bare) == ["image not inside a <figure>: 'a'"]
    skipped = good.replace("Figure 2.", "Figure 3.")
    assert figure_problems(skipped) == ["figures are numbered [1, 3], expected 1..2 in page order"]
    unnamed = good.replace("Figure 1. Look", "Look")
    assert figure_problems(unnamed)[0].startswith("caption does not start with 'Figure N.'")
    sided = good.replace('alt="c"', 'alt="Left: c"').replace("And there.", "And there (right).")
    assert figure_problems(sided) == [
        "alt text names a panel by its side: 'Left: c'",
        "caption names a panel by its side: 'Figure 2. And there (right).'",
    ]
    assert figure_problems(good.replace('alt="a"', 'alt="Two. Right, coloured"', 1))[0].startswith("alt")
    assert figure_problems(good.replace("Look here.", "Confidently right, or left out.")) == []


# -- external links -------------------------------------------------------------------------------

def link_problem(url: str) -> str | None:
    """Why an external link is not allowed, or None for an allowed one (or an internal one)."""
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return None  # relative: a page of the site
    if url.startswith(SITE_URL):
        return None
    if parts.scheme != "https":
        return "not https"
    if not any(re.fullmatch(pattern, url) for pattern in ALLOWED_LINKS):
        return "not an allowed form (arXiv abs, DOI, PyTorch 2.13 docs, the repository, or listed)"
    return None


def test_link_rules() -> None:
    assert link_problem("../losses/binary/#bceloss") is None
    assert link_problem("https://arxiv.org/abs/1708.02002") is None
    assert link_problem("https://doi.org/10.1109/ICCV.2017.324") is None
    assert link_problem("https://docs.pytorch.org/docs/2.13/generated/torch.nn.MSELoss.html") is None
    assert link_problem("https://github.com/lossbook/lossbook/blob/main/snippets/x.py") is None
    assert link_problem("http://arxiv.org/abs/1708.02002") == "not https"
    assert link_problem("https://arxiv.org/pdf/1708.02002") is not None
    assert link_problem("https://pytorch.org/docs/stable/generated/torch.nn.MSELoss.html") is not None
    assert link_problem("https://github.com/someone/else") is not None
    assert link_problem("https://github.com/lossbook/lossbookish") is not None


def test_every_external_link_has_an_allowed_form(built_site: Path) -> None:
    found = []
    for path in sorted(built_site.rglob("*.html")):
        for anchor in built_html(path).find_all("a", href=True):
            problem = link_problem(anchor["href"])
            if problem:
                found.append(f"{path.relative_to(built_site)}: {anchor['href']} ({problem})")
    assert not found, f"{len(found)} links out of an allowed form:\n" + "\n".join(sorted(set(found)))
