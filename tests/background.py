"""Work in other processes, started at the beginning of the session and run on the other core.

The suite runs in one pytest process, in one order; most of its time goes to work in other
processes that depends on nothing the tests do: ``mkdocs build --strict``, each page's blocks
(``tests/doc_examples.py``), each page's downloaded script, each snippet, the wheel. That work
is started here, in a pool of threads that each wait for a child process, as soon as the
session's first test starts, in the order of the tests that read it; the tests still run one by
one in pytest's order, each waiting for its own result and checking it as before. The report
(which tests, in which order, with which result) is the same as without the pool: only when the
work is done changes.

* :func:`in_background` marks a test whose work runs in the pool: ``job(workdir, **params)``
  returns the result the test checks (a ``CompletedProcess``, say), called in a worker thread
  with an empty folder of its own and the test's parameters; ``after_build=True`` gives it the
  built site too (``site=``) and starts it once the build is done. The test reads the result
  with ``background_job.result()`` (the fixture is the job's future); an exception in the job
  (an assertion included) is raised there, in the test's body, with its traceback: the test
  fails as it did when it did the work itself.
* :func:`once`: ``make()`` run once per session by whichever test or job
  asks first (in its own thread, so no worker ever waits for a queued one), shared by all of
  them: the distributions that a job installs and other tests read (``tests/test_dist.py``).
* :func:`build_site`, the session's ``mkdocs build --strict``, is started first when a selected
  test needs the site (``built_site``, ``served_site``, or a job ``after_build``);
  ``built_site`` (``tests/conftest.py``) waits for it.
* The test modules run in four groups (``pytest_collection_modifyitems``, a stable sort by
  module, so the order is the same on every run): those that need nothing from the pool, those
  that read only the built site, those that read a job's result, and last those that read the
  browser's visits, which ``tests/browser.py`` makes in threads of their own once the site is
  built. Each group runs while the work the next one reads is being done. A browser test that
  reads no visit made ahead (search, copy, ...) runs with the second group, while the visits are
  being made, instead of after them with only the suite's own process at work.

No test times anything: a job that is slow only makes its test wait longer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.doc_examples import page_of, page_runs, run_page

ROOT = Path(__file__).resolve().parent.parent
# Two workers: with the pytest process, three things to do on a 2-core machine; a worker
# spends much of its time waiting for its child, and the child for its disk and imports.
WORKERS = max(2, min(4, (os.cpu_count() or 2)))
# A job's child process is stopped after this many seconds: a guard against a hang, not a time
# limit (the jobs share the machine with the suite; pytest-timeout in pyproject.toml matches it).
CHILD_TIMEOUT = 900
# The tests that read the built site; ``served_site`` is a site built beforehand with LOSSBOOK_SITE.
SITE_FIXTURES = {"built_site"} if os.environ.get("LOSSBOOK_SITE") else {"built_site", "served_site"}
# The fixtures of tests/browser.py whose tests read visits made ahead in other threads.
BROWSER_FIXTURES = {"browser", "phone", "site_url"}


def in_background(job: Callable, after_build: bool = False):
    """Run ``job(workdir, **params)`` (plus ``site=`` if ``after_build``) in the pool for each
    selected case of the decorated test; the test reads the result from ``background_job``."""

    def mark(test):
        test.background_job = (job, after_build)
        return test

    return mark


def build_site(site: Path) -> Path:
    """The site as ``make build`` writes it (``mkdocs build --strict``), into ``site``."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return site


_shared: dict[str, Future] = {}
_shared_lock = threading.Lock()


def once(name: str, make: Callable):
    """``make()``, run once per session by the first caller, in its own thread (a test or a job:
    no worker ever waits for a job still queued); every caller gets its result or its exception."""
    with _shared_lock:
        owner = name not in _shared
        if owner:
            _shared[name] = Future()
            _shared[name].set_running_or_notify_cancel()
    future = _shared[name]
    if owner:
        try:
            future.set_result(make())
        except BaseException as error:  # noqa: BLE001 - raised in every caller
            future.set_exception(error)
    return future.result()


def _job_of(item) -> tuple[Callable, bool] | None:
    return getattr(getattr(item, "function", None), "background_job", None)


def _needs_site(item) -> bool:
    job = _job_of(item)
    return bool(SITE_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(job and job[1])


class Background:
    """The pool, the build, and one future per job, keyed by the test's node id."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp = tmp_path_factory
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="background")
        self.jobs: dict[str, Future] = {}
        self.site: Future | None = None

    def start_build(self) -> Future:
        if self.site is None:
            self.site = self.pool.submit(build_site, self.tmp.mktemp("site"))
        return self.site

    def when_built(self, callback: Callable, failed: Callable) -> None:
        """``callback(site)`` once the build is done (in the thread that did it), or
        ``failed(error)`` if it failed."""
        def done(site: Future) -> None:
            if site.exception() is not None:
                failed(site.exception())
            else:
                callback(site.result())

        self.start_build().add_done_callback(done)

    def built_site(self) -> Path:
        return self.start_build().result()

    def start(self, items) -> None:
        """Start the build if a selected test needs it, then every job, in test order; a job
        that needs the site is queued once the build is done (then in test order too)."""
        if any(_needs_site(item) for item in items):
            self.start_build()
        # The Python blocks of each page whose tests are selected, run in a process of their own
        # (tests/doc_examples.py); Sybil's tests read what each block printed.
        for page in dict.fromkeys(page for page in map(page_of, items) if page is not None):
            future = page_runs[str(page)] = self.jobs[f"page run: {page}"] = Future()
            self._submit(future, run_page, {"workdir": self.tmp.mktemp("page"), "page": page})
        after: list[tuple[Future, Callable, dict]] = []
        for item in items:
            found = _job_of(item)
            if found is None:
                continue
            job, after_build = found
            params = dict(getattr(item, "callspec", None).params) if hasattr(item, "callspec") else {}
            future: Future = Future()
            self.jobs[item.nodeid] = future
            call = (future, job, {"workdir": self.tmp.mktemp("job"), **params})
            if after_build:
                after.append(call)
            else:
                self._submit(*call)
        if after:
            def queue(site: Future) -> None:
                for future, job, kwargs in after:
                    if site.exception() is not None:
                        future.set_exception(site.exception())
                    else:
                        self._submit(future, job, {**kwargs, "site": site.result()})

            self.start_build().add_done_callback(queue)

    def _submit(self, future: Future, job: Callable, kwargs: dict) -> None:
        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(job(**kwargs))
            except BaseException as error:  # noqa: BLE001 - handed to the test that reads it
                future.set_exception(error)

        self.pool.submit(run)

    def job(self, nodeid: str) -> Future:
        assert nodeid in self.jobs, f"{nodeid}: no background job was started for this test"
        return self.jobs[nodeid]

    def close(self) -> None:
        for future in self.jobs.values():
            future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)


def pytest_collection_modifyitems(items: list) -> None:
    """First the modules that need nothing from the pool, then those that read only the built
    site, then those whose tests read a job, then those that read the browser's visits; each
    module's tests kept together and in their order, but for the browser tests that read no visit
    made ahead, which go with the second group. The sort is stable: the same order on every run."""
    def module(item) -> str | None:
        return getattr(getattr(item, "module", None), "__name__", None)

    from tests.browser import visits_read

    site = {module(item) for item in items if _needs_site(item)}
    jobs = {module(item) for item in items if _job_of(item)}
    browser = {module(item) for item in items if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ()))}

    def group(item) -> int:
        name = module(item)
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())) and not visits_read(item):
            return 1
        return 3 if name in browser else 2 if name in jobs else 1 if name in site else 0

    items.sort(key=group)


_early: list[Background] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """On a run of the whole suite (``make test``: the ``testpaths``, no ``-k`` or ``-m``), the
    build starts before collection, which takes a while (every module imported, every page
    parsed) and needs nothing built. A run of some tests starts it only if one of them needs it."""
    config = session.config
    whole = (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not config.option.keyword and not config.option.markexpr and not config.option.collectonly
    )
    factory = getattr(config, "_tmp_path_factory", None)
    if whole and factory is not None:
        _early.append(Background(factory))
        _early[0].start_build()


@pytest.fixture(scope="session", autouse=True)
def background(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The session's pool, started with the first test (or its build before collection, see
    :func:`pytest_sessionstart`): every job of the selected tests."""
    pool = _early[0] if _early else Background(tmp_path_factory)
    pool.start(request.session.items)
    yield pool
    pool.close()


@pytest.fixture
def background_job(background: Background, request: pytest.FixtureRequest) -> Future:
    """This test's job: ``.result()`` waits for what it returned, or raises what it raised."""
    return background.job(request.node.nodeid)
