"""Where the project's folders are: one home for the repository root and its parts."""

from __future__ import annotations

import os
from pathlib import Path

#: The checkout's root folder (the library lives in ``analysis/`` below it).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: The evidence base: input only (``python -m analysis new-study`` appends a new study's skeleton
#: on a curator's request); the folder named by the environment variable ``ANALYSIS_DATA_DIR``
#: instead, when set (the test suite points it at a copy with a synthetic trial,
#: ``tests/test_new_trial.py``).
DATA_DIR = Path(os.environ.get("ANALYSIS_DATA_DIR") or REPO_ROOT / "data")

#: The report's notebooks.
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

#: Where the report is built.
REPORTS_DIR = REPO_ROOT / "reports"

#: Reviewed expectations on the committed data (``make snapshot``); ``ANALYSIS_SNAPSHOT_DIR``
#: names another folder (the snapshots of a data copy).
SNAPSHOTS_DIR = Path(os.environ.get("ANALYSIS_SNAPSHOT_DIR") or REPO_ROOT / "tests" / "snapshots")
