"""The caches that spare a rebuild work already done: the search plugin's entries of an unchanged
page (``hooks/search_index.py``), the compiled Jinja templates (``hooks/template_cache.py``), the
figures' SVGs (``hooks/figures.py``), each page's off-screen edits (``hooks/offscreen.py``) and the
notebook page's markup (``hooks/notebook.py``); the last two and the search entries are kept by
``hooks/page_cache.py``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

import importlib.metadata
import shutil

from hooks import figures, notebook, offscreen, page_cache, search_index, template_cache


class _Index:
    """Material's SearchIndex as the hook sees it: ``entries`` and ``add_entry_from_context``."""

    def __init__(self) -> None:
        self.entries: list[dict] = [{"location": "other/", "title": "Other", "text": "before"}]
        self.indexed: list[str] = []

    def add_entry_from_context(self, page) -> None:
        self.indexed.append(page.url)
        self.entries += [{"location": page.url, "title": page.title, "text": page.content[3:-4]}]


def _page(content: str = "<p>text</p>", toc_id: str = "a") -> SimpleNamespace:
    item = SimpleNamespace(id=toc_id, url=f"#{toc_id}", children=[])
    return SimpleNamespace(
        file=SimpleNamespace(src_uri="losses/binary.md"), url="losses/binary/", title="Binary",
        meta={"description": "d"}, toc=[item], content=content,
    )


def _index_with_cache() -> _Index:
    index = _Index()
    index.add_entry_from_context = search_index._cached(index, {"lang": ["en"]})
    return index


def test_an_unchanged_page_gets_its_entries_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "CACHE", tmp_path)
    first = _index_with_cache()
    first.add_entry_from_context(_page())
    assert first.indexed == ["losses/binary/"]
    again = _index_with_cache()
    again.add_entry_from_context(_page())
    assert again.indexed == [], "the page was parsed again"
    assert again.entries == first.entries
    for changed in (_page(content="<p>new text</p>"), _page(toc_id="b")):
        index = _index_with_cache()
        index.add_entry_from_context(changed)
        assert index.indexed == ["losses/binary/"], "a changed page was answered from the cache"
        assert index.entries[-1]["text"] == changed.content[3:-4]


def test_compiled_templates_are_reused_until_their_source_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(template_cache, "CACHE", tmp_path / "jinja")
    sources = {"page.html": "<h1>{{ title }}</h1>"}

    def render() -> str:
        env = template_cache.on_env(jinja2.Environment(loader=jinja2.DictLoader(sources)), None, None)
        return env.get_template("page.html").render(title="Binary")

    assert render() == "<h1>Binary</h1>"
    assert list((tmp_path / "jinja").iterdir()), "nothing was written to the cache"
    compile_ = jinja2.Environment.compile
    with monkeypatch.context() as patch:
        patch.setattr(jinja2.Environment, "compile", lambda *args, **kwargs: pytest.fail("compiled again"))
        assert render() == "<h1>Binary</h1>"
    sources["page.html"] = "<h2>{{ title }}</h2>"
    compiled = []
    monkeypatch.setattr(jinja2.Environment, "compile", lambda *a, **k: compiled.append(1) or compile_(*a, **k))
    assert render() == "<h2>Binary</h2>"
    assert compiled, "an edited template was not compiled afresh"


class _Drawing:
    """``hooks/figures.py``'s drawing, without processes: each drawing's SVGs say which drawing it was."""

    count = 0

    def __init__(self) -> None:
        _Drawing.count += 1
        self.names = ["curve"]
        self.svg = f"<svg>drawing {_Drawing.count}</svg>"

    def start(self) -> None:
        pass

    def result(self) -> dict[str, str]:
        return {figures.file_name("curve", theme, width): self.svg for width in figures.WIDTHS for theme in figures.THEMES}


class _File(SimpleNamespace):
    """A generated file as ``hooks/figures.py`` makes it (``File.generated``), without a site."""

    @classmethod
    def generated(cls, config, src_uri: str, content: str) -> _File:
        return cls(src_uri=src_uri, content_string=content)


def test_figures_are_drawn_again_when_anything_they_depend_on_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "lossbook").mkdir(parents=True)
    (project / "lossbook" / "plots.py").write_text("CURVE = 1\n")
    (project / "hooks").mkdir()
    for name in ("figures.py", "draw_figures.py"):
        shutil.copy(Path(figures.__file__).with_name(name), project / "hooks" / name)
    monkeypatch.setattr(figures, "ROOT", project)
    monkeypatch.setattr(figures, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(figures, "_Drawing", _Drawing)
    monkeypatch.setattr(figures, "File", _File)
    versions = {package: importlib.metadata.version(package) for package in ("matplotlib", "torch", "numpy")}
    monkeypatch.setattr(figures.importlib.metadata, "version", lambda package: versions[package])

    def build() -> str:
        """The SVG a build serves as ``figures/curve.light.svg``."""
        files = figures.on_files([], None)
        figures.on_env(None, None, [])
        return next(file.content_string for file in files if file.src_uri == "figures/curve.light.svg")

    first = build()
    assert build() == first, "an unchanged project was drawn again, not served from the cache"
    changes = [
        lambda: (project / "lossbook" / "plots.py").write_text("CURVE = 2\n"),
        lambda: (project / "lossbook" / "data.py").write_text("RINGS = 2\n"),  # a new module
        lambda: (project / "hooks" / "draw_figures.py").write_text("# other settings\n"),
        lambda: (project / "hooks" / "figures.py").write_text("# other file names\n"),
        *(lambda package=package: versions.update({package: versions[package] + ".post1"}) for package in versions),
    ]
    served = first
    for change in changes:
        change()
        again = build()
        assert again != served, "a cache written before the change was served"
        assert again == f"<svg>drawing {_Drawing.count}</svg>", "the figures were not drawn afresh"
        served = again


def test_a_pages_offscreen_edits_are_reused_only_for_the_same_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offscreen, "CACHE", tmp_path / "offscreen")
    scans: list[str] = []
    scan = offscreen.edits
    monkeypatch.setattr(offscreen, "edits", lambda html: scans.append(html) or scan(html))
    first = "<p>one</p>" * 30 + "<table><tr><td>a</td></tr></table>" + '<lossbook-math class="katex">x</lossbook-math>'
    made = offscreen.cached_edits(first, "losses/binary.md")
    assert offscreen.cached_edits(first, "losses/binary.md") == made == scan(first)
    assert scans == [first], "an unchanged page was scanned again"
    second = first.replace("one", "two")
    assert offscreen.cached_edits(second, "losses/binary.md") == scan(second)
    assert scans == [first, second], "a changed page was given the edits of its old HTML"


def test_the_notebooks_markup_is_reused_only_for_the_same_conversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notebook, "CACHE", tmp_path / "notebooks")
    made: list[str] = []
    markup = notebook.book_markup
    monkeypatch.setattr(notebook, "book_markup", lambda content, where: made.append(content) or markup(content, where))

    def converted(text: str) -> str:
        return (
            '<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedMarkdown">'
            f"<p>{text} $x$</p></div></div>"
        )

    first = notebook.cached_book_markup(converted("one"), "worked-example.ipynb")
    assert notebook.cached_book_markup(converted("one"), "worked-example.ipynb") == first
    assert '<span class="arithmatex">' in first and made == [converted("one")]
    second = notebook.cached_book_markup(converted("two"), "worked-example.ipynb")
    assert "two" in second and "one" not in second, "a changed notebook was given its old markup"
    assert len(made) == 2


def test_a_page_file_of_another_key_or_form_is_made_again(tmp_path: Path) -> None:
    """``hooks/page_cache.py``: a value is taken back only under its key; a file written in
    another form (an earlier version of a hook's cache) is made again, not read, nor a crash."""
    made: list[int] = []
    assert page_cache.memo(tmp_path, "losses/binary.md", "k1", lambda: made.append(1) or [1]) == [1]
    assert page_cache.memo(tmp_path, "losses/binary.md", "k1", lambda: made.append(2) or [2]) == [1]
    assert page_cache.memo(tmp_path, "losses/binary.md", "k2", lambda: made.append(3) or [3]) == [3]
    page_cache.page_file(tmp_path, "losses/binary.md").write_text('{"key": "k2", "entries": [4]}', encoding="utf-8")
    assert page_cache.read(tmp_path, "losses/binary.md", "k2") is None
    assert page_cache.memo(tmp_path, "losses/binary.md", "k2", lambda: made.append(5) or [5]) == [5]
    assert made == [1, 3, 5]
