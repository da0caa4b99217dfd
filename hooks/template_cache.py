"""MkDocs hook: the Jinja templates compiled once, not again by every build in a new process.

MkDocs compiles the theme's templates and mkdocstrings its handler's at every build that starts
a new process (about 80 templates, a tenth of a rebuild's time). Jinja's bytecode cache keeps the
compiled code in ``.cache/jinja/``: an entry is found by the template's name and used only if a
checksum of the template's source matches and it was written by the same Jinja and Python, so an
edited template, or another version of the theme, is compiled afresh. ``mkdocs serve`` keeps its
compiled templates in memory between builds as before.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import FileSystemBytecodeCache

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "jinja"


def _cache() -> FileSystemBytecodeCache:
    CACHE.mkdir(parents=True, exist_ok=True)
    return FileSystemBytecodeCache(str(CACHE))


def on_config(config):
    # mkdocstrings renders the API reference while the pages' Markdown is converted, before
    # on_env: its handler (made once per build, kept by the plugin) gets the cache now.
    mkdocstrings = config.plugins.get("mkdocstrings")
    if mkdocstrings is not None:
        mkdocstrings.handlers.get_handler("python").env.bytecode_cache = _cache()
    return config


def on_env(env, config, files):
    env.bytecode_cache = _cache()  # the theme's templates, which render every page
    return env
