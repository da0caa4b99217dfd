"""lossbook's code structure: one home for argument checks, one ``Reduction`` type, no reaching
into another module's private names, and docstrings that the API reference renders as links."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lossbook"
MODULES = sorted(PACKAGE.glob("*.py"))
SPHINX_ROLE = re.compile(r":(func|mod|class|meth|attr|data|obj|exc|ref|py:\w+):`")


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_sphinx_roles_in_docstrings(path: Path) -> None:
    # mkdocstrings prints ":func:`x`" literally; cross-references use [x][lossbook.module.x].
    for node in ast.walk(tree(path)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node) or ""
            match = SPHINX_ROLE.search(doc)
            assert match is None, f"{path.name}: Sphinx role {match.group(0)!r} in a docstring"


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "_validation.py"], ids=lambda p: p.name)
def test_argument_checks_live_in_validation_only(path: Path) -> None:
    names = [
        node.name for node in ast.walk(tree(path))
        if isinstance(node, ast.FunctionDef) and re.match(r"_?check_", node.name)
    ]
    assert not names, f"{path.name} defines argument checks {names}; put them in _validation.py"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_imports_another_modules_private_names(path: Path) -> None:
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lossbook"):
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{path.name} imports private {private} from {node.module}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in {"functional", "modules", "stable", "reductions", "penalties"}:
                assert not node.attr.startswith("_"), f"{path.name} uses {node.value.id}.{node.attr}"


def test_one_reduction_type() -> None:
    from lossbook import _validation, functional, modules, stable

    for module in (functional, modules, stable):
        assert module.Reduction is _validation.Reduction
    for path in MODULES:
        text = path.read_text()
        assert not re.search(r"^Reduction = ", text, re.M) or path.name == "_validation.py"
        assert not re.search(r"reduction: str\b", text), f"{path.name} types reduction as str"
