"""Shared by the tests: the built site, the browser fixtures, and one Hypothesis profile.

* ``built_site``: the site as ``make build`` writes it, built once per session, in the
  background pool of ``tests/background.py`` (started with the first test).
* The browser fixtures (``browser``, ``site_url``, ``served_site``, ``phone``) live in
  ``tests/browser.py``, registered here as a plugin (``pytest_plugins``); the pool of
  ``tests/background.py`` is registered by the root ``conftest.py``.
* Hypothesis runs derandomized (the examples come from a hash of each test, so every run tries
  the same ones and a failure found once comes back), with no per-example deadline (a slow
  machine is not a failing test) and no example database; a failure prints the blob that
  reproduces it (``@reproduce_failure``). Tests may set ``max_examples``; nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.browser"]  # tests.background: registered by the root conftest.py

settings.register_profile("lossbook", derandomize=True, deadline=None, database=None, print_blob=True)
settings.load_profile("lossbook")


@pytest.fixture(scope="session")
def built_site(background) -> Path:
    """The site as ``make build`` writes it (``mkdocs build --strict``), in a temporary folder."""
    return background.built_site()
