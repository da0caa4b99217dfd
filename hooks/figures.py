"""MkDocs hook: serve every figure registered in ``lossbook.plots`` as a generated SVG file.

Each figure becomes ``figures/<name>.light.svg`` and ``figures/<name>.dark.svg`` in the build,
so pages link them like any other file and ``--strict`` catches a wrong name. SVGs are cached in
``.cache/figures/`` under a hash of the lossbook sources, so a rebuild that did not touch
``lossbook/`` does not import matplotlib at all.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "figures"
THEMES = ("light", "dark")


def _sources_key() -> str:
    digest = hashlib.sha256(importlib.metadata.version("matplotlib").encode())
    for path in sorted((ROOT / "lossbook").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _render_all(key: str) -> dict[str, str]:
    """Return {file name: svg text}, from the cache when lossbook has not changed."""
    index = CACHE / f"{key}.json"
    if index.exists():
        return json.loads(index.read_text())
    from lossbook import plots  # imported only on a cache miss: matplotlib is slow to import

    svgs = {
        f"{name}.{theme}.svg": plots.render_svg(name, theme)
        for name in sorted(plots.FIGURES)
        for theme in THEMES
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = index.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(svgs))
    partial.replace(index)  # atomic: parallel builds never read half a file
    return svgs


def on_files(files: Files, config) -> Files:
    for file_name, svg in _render_all(_sources_key()).items():
        files.append(File.generated(config, f"figures/{file_name}", content=svg))
    return files
