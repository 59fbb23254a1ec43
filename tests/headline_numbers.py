"""The report's headline numbers on the committed data (``analysis.review.snapshots``).

``python tests/headline_numbers.py`` writes ``tests/snapshots/headline_numbers.json``, as
``make snapshot`` (``python -m analysis snapshot``) does together with the claim verdicts;
``tests/test_headline_numbers.py`` compares the data with it.
"""

from __future__ import annotations

import sys

from analysis.review.snapshots import NUMBERS_FILE, SNAPSHOT_DIR, headline_numbers, write_snapshots

SNAPSHOT = SNAPSHOT_DIR / NUMBERS_FILE

__all__ = ["SNAPSHOT", "headline_numbers"]

if __name__ == "__main__":
    print("\n".join(write_snapshots()), file=sys.stderr)
