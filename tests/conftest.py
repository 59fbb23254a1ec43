"""Shared fixtures: one real report build per session; the note when browser tests skip."""

from __future__ import annotations

import pytest

from report_build import BROWSER_SKIP_PREFIX, build_real_report


@pytest.fixture(scope="session")
def built_report(tmp_path_factory):
    """The real notebooks built once for the session (see ``tests/report_build.py``)."""
    return build_real_report(tmp_path_factory.mktemp("build"))


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
            f"{len(skipped)} browser test(s) of tests/test_report_browser.py were skipped: "
            f"{reason.removeprefix('Skipped: ')}")
