"""One real build of the report, shared by ``test_report.py``, ``test_report_browser.py`` and
``test_hostile_data.py``.

The build runs the real notebooks on the hostile copy of the real data (``tests/hostile_data.py``:
markup, script end tags, Markdown, invisible characters and a very long string in labels, notes,
quotes and titles), with ``-p method DL``, over a folder that holds a stale page from an "old"
report. The validator refuses markup, so the build switches its markup rule off
(:func:`markup_rule_off`, for tests only): the pages must be safe by escaping alone, and every
other check of the report holds with such data too.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

from analysis.apps.report import main
from analysis.data import MARKUP_RULE_OFF_VARIABLE

ROOT = Path(__file__).resolve().parent.parent

#: Start of the skip reason of every browser test when no Chromium can be launched
#: (``tests/conftest.py`` repeats it at the end of the run).
BROWSER_SKIP_PREFIX = "browser tests did not run"


def copy_data(target: Path) -> Path:
    """Copy every ``data/*.csv`` into the new folder ``target``."""
    target.mkdir()
    for path in (ROOT / "data").glob("*.csv"):
        shutil.copy(path, target / path.name)
    return target


@contextlib.contextmanager
def markup_rule_off():
    """Switch the validator's markup rule off here and in every kernel started meanwhile."""
    before = os.environ.get(MARKUP_RULE_OFF_VARIABLE)
    os.environ[MARKUP_RULE_OFF_VARIABLE] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ[MARKUP_RULE_OFF_VARIABLE]
        else:
            os.environ[MARKUP_RULE_OFF_VARIABLE] = before


def build_dirs(output: Path) -> list[Path]:
    """Temporary build or old-report folders left next to ``output`` (there should be none)."""
    return sorted(output.parent.glob(f"{output.name}_build_*")) + sorted(
        output.parent.glob(f"{output.name}_old_*"))


def build_real_report(root: Path) -> dict:
    """Build the real notebooks from the hostile copy of the data (``tests/hostile_data.py``) into
    ``root / "reports"``, over a stale page of an "old" report, with ``-p method DL``; return
    status, folder, data folder and output."""
    from hostile_data import hostile_copy

    data = hostile_copy(root / "data")
    output = root / "reports"
    output.mkdir()
    (output / "stale_page.html").write_text("from the previous build")
    stdout, stderr = io.StringIO(), io.StringIO()
    with markup_rule_off(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["--notebooks", str(ROOT / "notebooks"), "--data", str(data),
                       "--output", str(output), "-p", "method", "DL"])
    return {"status": status, "output": output, "data": data, "stdout": stdout.getvalue(),
            "stderr": stderr.getvalue()}
