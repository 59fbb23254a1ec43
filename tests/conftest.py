"""Shared fixtures: one real report build per session; the note when browser tests skip.

Tests that build the report, start a kernel or a server, or drive a browser carry the
``build`` mark (the modules in :data:`BUILD_MODULES`, and nbval's notebook runs), so
``make test-fast`` (``-m "not build"``) runs every unit, reference and doctest test in
under a minute; ``make test`` runs everything.
"""

from __future__ import annotations

import os

import pytest

from analysis.engine._errors import AnalysisError
from report_build import BROWSER_SKIP_PREFIX, build_real_report


#: Test modules whose tests build the report, run notebooks, serve apps, drive a browser or
#: re-run part of the suite on other data.
BUILD_MODULES = frozenset({
    "test_report.py", "test_report_overrides.py", "test_report_browser.py", "test_history.py",
    "test_explorer_browser.py", "test_explorer_server.py", "test_lab.py", "test_hostile_data.py",
    "test_new_trial.py",
})


def pytest_collection_modifyitems(items):
    """Mark the slow tests ``build``: those of :data:`BUILD_MODULES` and the notebooks nbval runs."""
    for item in items:
        if item.path.name in BUILD_MODULES or item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.build)


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
