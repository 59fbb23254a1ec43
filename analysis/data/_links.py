"""Rules that look beyond one table: quotes against the repository file they cite, and
``study_id`` values against the studies table beside the file.

- A table with ``source`` and ``quote`` columns: a ``source`` written as a relative path
  (``data/search.md``; not a web address or ``doi:...``) must be a file of this repository,
  and the row's ``quote`` must be in it
  verbatim (whitespace collapsed, as the data README says quotes are stored). A path in
  ``data/`` is read in the table's own folder when it is there (a copy of ``data/`` quotes its
  own ``search.md``), else in this repository.
- A table with a ``study_id`` column, other than ``studies.csv`` itself, whose folder holds a
  ``studies.csv``: every ``study_id`` it names must be a ``study_id`` there.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

from analysis.data._csv import _Raw
from analysis.data._records import REPO_ROOT, Problem, _display

# A repository path: no scheme or prefix (web addresses, 'doi:...' and 'PMID ...' are not files).
_PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)+")
_SPACE = re.compile(r"\s+")


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@functools.lru_cache(maxsize=16)
def _file_text(path: Path, mtime: float) -> str:
    return _collapse(path.read_text(encoding="utf-8", errors="replace"))


def _check_quotes(raw: _Raw, table: Path) -> list[Problem]:
    if "source" not in raw.columns or "quote" not in raw.columns:
        return []
    problems = []
    folder = table.resolve().parent
    for line, source, quote in zip(raw.lines, raw.columns["source"], raw.columns["quote"]):
        if not _PATH.fullmatch(source):
            continue
        # 'data/search.md' is the one beside the table: a copy of data/ quotes its own
        top, _, rest = source.partition("/")
        beside = folder / rest
        path = beside if top == "data" and beside.is_file() else REPO_ROOT / source
        if not path.is_file():
            problems.append(Problem(raw.file, line, "source", source,
                                    "no such file in the repository"))
        elif quote and _collapse(quote) not in _file_text(path, path.stat().st_mtime):
            problems.append(Problem(raw.file, line, "quote", quote,
                                    f"not found verbatim in {source}; copy the sentence from it"))
    return problems


def _check_study_ids(raw: _Raw, path: Path) -> list[Problem]:
    studies = path.with_name("studies.csv")
    if "study_id" not in raw.columns or path.name == "studies.csv" or not studies.is_file():
        return []
    with studies.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        if "study_id" not in (reader.fieldnames or ()):
            return []  # the studies table's own problems say why it cannot be read
        known = {row.get("study_id") for row in reader}
    return [Problem(raw.file, line, "study_id", value, f"no such study_id in {_display(studies)}")
            for line, value in zip(raw.lines, raw.columns["study_id"])
            if value and value not in known]


def _check_links(raw: _Raw, path: Path) -> list[Problem]:
    """Every cross-file problem of ``raw`` (read from ``path``)."""
    return _check_quotes(raw, path) + _check_study_ids(raw, path)
