"""Shared fixtures: one real report build and one browser per test process; the note when
browser tests skip; how ``make test`` shares the work between its processes.

Tests that build the report, start a kernel or a server, or drive a browser carry the
``build`` mark (the modules in :data:`BUILD_MODULES`, and nbval's notebook runs), so
``make test-fast`` (``-m "not build"``) runs every unit, reference and doctest test in
under a minute; ``make test`` runs everything, in two processes (pytest-xdist): each file is one
group that one process runs, and the files that share the session's report build are one, so
that nothing is built twice.
"""

from __future__ import annotations

import os

import pytest

from analysis.engine._errors import AnalysisError
from report_build import BROWSER_SKIP_PREFIX, build_real_report


#: Test modules whose tests build the report, run notebooks, serve apps, drive a browser or
#: re-run part of the suite on other data, the slowest first (see :func:`_rank`).
BUILD_MODULES = (
    "test_report.py", "test_report_browser.py", "test_hostile_data.py", "test_report_overrides.py",
    "test_new_trial.py", "test_explorer_browser.py", "test_explorer_server.py", "test_history.py",
    "test_lab.py",
)

#: The files whose tests use the session's one report build (``built_report``): one group, so
#: that one process builds it once.
BUILT_REPORT_FILES = ("test_report.py", "test_report_browser.py", "test_hostile_data.py")
BUILT_REPORT_GROUP = "built_report"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark the slow tests ``build`` (those of :data:`BUILD_MODULES` and the notebooks nbval
    runs) and put the slowest groups first (:func:`_rank`); refuse a test that uses the
    session's build outside :data:`BUILT_REPORT_FILES` (a second process would build again)."""
    for item in items:
        if item.path.name in BUILD_MODULES or item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.build)
        if "built_report" in getattr(item, "fixturenames", ()) and item.path.name not in BUILT_REPORT_FILES:
            raise pytest.UsageError(
                f"{item.nodeid} uses built_report: move it to one of {', '.join(BUILT_REPORT_FILES)} "
                "(tests/conftest.py), so that one test process builds the report")
    items[:] = sorted(items, key=lambda item: _rank(_group(item.nodeid)))


def _group(nodeid: str) -> str:
    """The group a test runs in: its file (a notebook's cells run in order in one kernel, a
    module's fixtures are built once), or :data:`BUILT_REPORT_GROUP`."""
    path = nodeid.split("::")[0]
    return BUILT_REPORT_GROUP if path.rsplit("/", 1)[-1] in BUILT_REPORT_FILES else path


def _rank(group: str) -> int:
    """Build modules first, slowest first, then the notebooks, then the rest (collection order
    within a rank). ``make test`` hands groups to its processes in this order, so the long ones
    start first and the processes finish together."""
    name = "test_report.py" if group == BUILT_REPORT_GROUP else group.rsplit("/", 1)[-1]
    if name in BUILD_MODULES:
        return BUILD_MODULES.index(name)
    return len(BUILD_MODULES) + (0 if name.endswith(".ipynb") else 1)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist (``make test -n 2``) hands out whole groups (:func:`_group`) in the order of
    :func:`_rank`."""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    config.option.loadscopereorder = False  # keep the order above, not "most tests first"
    return ByGroup(config, log)


@pytest.fixture(scope="session")
def built_report(tmp_path_factory):
    """The real notebooks built once for the session (see ``tests/report_build.py``)."""
    return build_real_report(tmp_path_factory.mktemp("build"))


def _browser_problem() -> str | None:
    """Why no browser can be launched here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("Playwright is not installed; run 'make test' (it installs the pinned "
                "dependencies) or pip install -c constraints.txt -e .")
    from analysis.apps.report.pdf import chromium_path

    try:
        chromium_path()
    except AnalysisError as error:
        return str(error)
    return None


@pytest.fixture(scope="session")
def browser():
    """The one Chromium of this test process (Debian's, or ``$CHROMIUM_PATH``), driven by
    Playwright; every browser test opens its own context or page in it. Without a browser the
    tests skip, saying why, unless ``REQUIRE_BROWSER_TESTS=1`` (CI), where they fail."""
    problem = _browser_problem()
    if problem:
        if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
            pytest.fail(f"REQUIRE_BROWSER_TESTS=1 but {problem}")
        pytest.skip(f"{BROWSER_SKIP_PREFIX}: {problem}")
    from playwright.sync_api import sync_playwright

    from analysis.apps.report.pdf import chromium_path

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path()))
        yield launched
        launched.close()


def pytest_terminal_summary(terminalreporter):
    """Say plainly, at the end of the run, that the browser tests were skipped and why."""
    skipped = [
        report for report in terminalreporter.stats.get("skipped", [])
        if BROWSER_SKIP_PREFIX in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        reason = str(skipped[0].longrepr[-1]) if isinstance(skipped[0].longrepr, tuple) else ""
        terminalreporter.write_sep("!", "BROWSER TESTS DID NOT RUN", yellow=True, bold=True)
        terminalreporter.write_line(
            f"{len(skipped)} browser test(s) were skipped: "
            f"{reason.removeprefix('Skipped: ')}")
