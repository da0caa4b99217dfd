"""MkDocs hook: reuse an executed notebook page while nothing it can depend on has changed.

mkdocs-jupyter executes every notebook page at every build (about 10 s for the worked example),
which alone breaks the rebuild budget of issue 6 (3 s after touching a chapter). Its own cache
is keyed on the notebook and the plugin's options only, so ``mkdocs.yml`` switches it off: a
change to ``lossbook/`` would otherwise leave stale numbers on the page.

This hook switches the cache back on with a cache folder named after a hash of everything else
an execution can depend on: the ``lossbook`` and ``snippets`` sources, ``constraints.txt`` and
``pyproject.toml`` (the pinned toolchain) and the installed versions of torch and nbclient. Any
change there means a new folder, hence a fresh execution; the plugin deletes the entries of the
current folder no notebook uses, and ``make clean`` deletes them all. ``LOSSBOOK_NOTEBOOK_CACHE=0``
executes every notebook on every build, as before.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ("lossbook", "snippets", "constraints.txt", "pyproject.toml")
CACHE = ROOT / ".cache" / "mkdocs-jupyter"


def _inputs_key() -> str:
    digest = hashlib.sha256()
    for package in ("torch", "nbclient", "mkdocs-jupyter"):
        try:
            digest.update(f"{package}={importlib.metadata.version(package)}".encode())
        except importlib.metadata.PackageNotFoundError:
            pass
    for name in INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                digest.update(file.relative_to(ROOT).as_posix().encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def on_config(config):
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is None or os.environ.get("LOSSBOOK_NOTEBOOK_CACHE") == "0":
        return config
    plugin.config["cache"] = True
    plugin.config["cache_dir"] = str(CACHE / _inputs_key())
    return config
