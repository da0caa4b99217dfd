"""What a hook keeps of one page in ``.cache/`` between builds (imported by hooks; not a hook).

Each page has one JSON file in the hook's folder, named after the page's source path: a value and
the key it was made under, a hash of everything the value depends on. A build takes the value
back only under the same key, and writes the file whole or not at all: a build beside another
(``mkdocs serve`` and the test suite's) never reads half a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any


def page_file(folder: Path, src_uri: str) -> Path:
    return folder / (re.sub(r"[^\w.-]", "_", src_uri) + ".json")


def read(folder: Path, src_uri: str, key: str) -> Any | None:
    """The value kept for the page under ``key``; None if there is none, one made under another
    key, or a file of another form (written by an earlier version of the hook)."""
    try:
        stored = json.loads(page_file(folder, src_uri).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    return stored.get("value")


def write(folder: Path, src_uri: str, key: str, value: Any) -> None:
    """Keep ``value`` (plain JSON) for the page under ``key``."""
    path = page_file(folder, src_uri)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps({"key": key, "value": value}), encoding="utf-8")
    partial.replace(path)  # atomic: parallel builds never read half a file


def memo(folder: Path, src_uri: str, key: str, make: Callable[[], Any]) -> Any:
    """The value kept for the page under ``key``, or ``make()``'s, then kept."""
    value = read(folder, src_uri, key)
    if value is None:
        value = make()
        write(folder, src_uri, key, value)
    return value
