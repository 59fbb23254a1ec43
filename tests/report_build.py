"""One real build of the report, shared by ``test_report.py`` and ``test_report_browser.py``.

The build runs the real notebooks on a copy of the real data in which one study label
carries markup (``MALICIOUS``), with ``-p method DL``, over a folder that holds a stale
page from an "old" report. The validator refuses markup, so the build switches its markup
rule off (:func:`markup_rule_off`, for tests only): the pages must be safe by escaping alone.
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

#: A study label an attacker (or a careless copy-paste) might put in the data.
MALICIOUS = "<script>alert(1)</script>"
MALICIOUS_LABEL = f"Noppers 2011 {MALICIOUS}"

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
    """Build the real notebooks into ``root / "reports"``; return status, folder and output."""
    data = copy_data(root / "data")
    studies = data / "studies.csv"
    text = studies.read_text(encoding="utf-8")
    assert text.count(",Noppers 2011,") >= 1
    studies.write_text(text.replace(",Noppers 2011,", f",{MALICIOUS_LABEL},"), encoding="utf-8")
    output = root / "reports"
    output.mkdir()
    (output / "stale_page.html").write_text("from the previous build")
    stdout, stderr = io.StringIO(), io.StringIO()
    with markup_rule_off(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["--notebooks", str(ROOT / "notebooks"), "--data", str(data),
                       "--output", str(output), "-p", "method", "DL"])
    return {"status": status, "output": output, "stdout": stdout.getvalue(),
            "stderr": stderr.getvalue()}
