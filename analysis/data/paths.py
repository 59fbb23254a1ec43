"""Where the project's folders are: one home for the repository root and its parts."""

from __future__ import annotations

from pathlib import Path

#: The checkout's root folder (the library lives in ``analysis/`` below it).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: The evidence base: input only, code never writes here.
DATA_DIR = REPO_ROOT / "data"

#: The report's notebooks.
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

#: Where the report is built.
REPORTS_DIR = REPO_ROOT / "reports"

#: Reviewed expectations on the committed data (``make snapshot``).
SNAPSHOTS_DIR = REPO_ROOT / "tests" / "snapshots"
