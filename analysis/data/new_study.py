"""Start a new study in the data: ``python -m analysis new-study ID [--like STUDY_ID]``.

The one command that writes to ``data/``, and only on a curator's explicit request. It adds
the skeleton a new report needs in four tables, every value that must come from the paper
marked :data:`~analysis.data.FILL_MARKER`, so that ``python -m analysis validate`` lists, row by
row, what is still to fill:

- ``studies.csv``: the rows of the nearest study (``--like``: one row per outcome and time point
  it has) or one blank row; ``row_id``, ``study_id`` and ``cohort_id`` are the new study's; a
  cell the template fills is marked (a blank row: every sourced or required cell), the others
  stay empty. Nothing is copied from the template but the shape of its rows: a value no source
  gives is a defect.
- ``provenance.csv``: a record per sourced cell of the new rows (status, certainty and source
  marked; the status and certainty chosen say which of location, quote, derivation and note it
  needs).
- ``references.csv``: the report's reference (citation marked).
- ``screening.csv``: the report's screening decision (search, location and quote marked; the
  quote must be a line of ``data/search.md``).

Nothing is written when the study exists already or the tables cannot be read; a table is
appended to, never rewritten (its other rows keep their bytes).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analysis.engine._errors import AnalysisError
from analysis.data._records import DATA_DIR, FILL_MARKER, _display
from analysis.data.dictionary import load_dictionary

_ID = re.compile(r"[a-z][a-z0-9_]*")
_IDENTITY = ("row_id", "study_id", "cohort_id")


@dataclass(frozen=True)
class NewStudy:
    """What :func:`new_study` added.

    Attributes
    ----------
    study_id : str
    like : str or None
        The template study.
    folder : Path
        The data folder written to.
    rows : tuple of str
        ``row_id`` of the new rows of ``studies.csv``.
    marked_cells : int
        Cells of those rows marked to fill.
    provenance_records : int
        Records added to ``provenance.csv``.
    """

    study_id: str
    like: str | None
    folder: Path
    rows: tuple[str, ...]
    marked_cells: int
    provenance_records: int

    def checklist(self) -> str:
        """What the curator does next, in order, as printed by the command."""
        d = _display(self.folder)
        source = f"from {self.like} ({len(self.rows)} row{'s' if len(self.rows) != 1 else ''})" if self.like \
            else "from a blank row"
        return "\n".join([
            f"started {self.study_id} {source} in {d}/:",
            f"  {d}/studies.csv: {len(self.rows)} new row{'s' if len(self.rows) != 1 else ''} "
            f"({', '.join(self.rows)}), {self.marked_cells} cells marked {FILL_MARKER}",
            f"  {d}/provenance.csv: {self.provenance_records} records marked {FILL_MARKER}",
            f"  {d}/references.csv and {d}/screening.csv: one row each",
            "",
            f"Next (python -m analysis validate lists every cell still marked {FILL_MARKER}, row by row):",
            f"  1. studies.csv: fill each {FILL_MARKER} cell from the paper; a value it does not give is left "
            "empty, never guessed. One row per sample x outcome x time point: rename a row_id "
            "(<study_id>_<outcome>_<time>, in provenance.csv too), add or delete rows to match the paper. "
            "time_window follows timepoint_hours (<= 4 h, > 4 h to 7 d, to < 8 wk, >= 8 wk).",
            "  2. provenance.csv: for every sourced cell, status reported (source, location, verbatim quote), "
            "derived (source, derivation: the arithmetic) or not_reported (note: why it is empty), and its "
            "certainty: stated, computed (the arithmetic) or inferred (the reasoning); not_applicable when empty.",
            "  3. references.csv: the citation, and the DOI, PMID or address a source shows "
            "(identifier_source says where).",
            "  4. data/search.md: the search that found it and its screening line "
            f"'{self.study_id} | sought_for_full_text'; screening.csv: search, location and that line as "
            "quote (a new search is a new value of 'search' in screening.dictionary.csv). Found another "
            "way (a reference list, a colleague): delete the screening row and count it in prisma.csv "
            "under identified_other_sources.",
            "  5. prisma.csv: validate names each count to change (records identified and duplicates of "
            "the new search; included, pooled and controlled studies), with the number to write.",
            "  6. make validate (until it prints no problem), make snapshot (review the verdict changes it "
            "prints first, then commit tests/snapshots/), make report, make test.",
        ])


def new_study(study_id: str, like: str | None = None, data_dir: str | Path | None = None) -> NewStudy:
    """Add a new study's skeleton to the data folder (see the module docstring).

    Parameters
    ----------
    study_id : str
        The new report's ``study_id``: lower-case letters, digits and underscores, starting with
        a letter (first author + year, e.g. ``smith2026``).
    like : str, optional
        An existing ``study_id`` whose rows (outcomes and time points) the new study copies in
        shape; default one blank row.
    data_dir : path, optional
        The data folder (default ``data/`` of the repository).

    Returns
    -------
    NewStudy

    Raises
    ------
    AnalysisError
        A malformed or existing ``study_id``, an unknown ``like``, a table that cannot be read.
        Nothing is written then.
    """
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    if not _ID.fullmatch(study_id):
        raise AnalysisError(f"study_id {study_id!r}: use lower-case letters, digits and underscores, "
                            "starting with a letter (first author + year, e.g. smith2026)")
    tables = {name: _read(folder / f"{name}.csv") for name in ("studies", "provenance", "references", "screening")}
    for name, column in (("studies", "study_id"), ("references", "ref_id"), ("screening", "report_id")):
        if any(row.get(column) == study_id for row in tables[name][1]):
            raise AnalysisError(f"{_display(folder / f'{name}.csv')} already has {column} {study_id!r}; "
                                "choose another study_id (e.g. with a letter: smith2026b)")
    dictionary = load_dictionary(folder / "studies.dictionary.csv")
    sourced = [spec.column for spec in dictionary.columns if spec.needs_source]
    if like is None:
        templates = [{}]
        row_ids = [f"{study_id}_row1"]
    else:
        templates = [row for row in tables["studies"][1] if row.get("study_id") == like]
        if not templates:
            known = sorted({row.get("study_id", "") for row in tables["studies"][1]})
            raise AnalysisError(f"--like {like!r}: no such study_id in {_display(folder / 'studies.csv')}; "
                                f"known: {', '.join(known)}")
        row_ids = [_new_row_id(row["row_id"], like, study_id) for row in templates]
    rows, marked = [], 0
    for row_id, template in zip(row_ids, templates):
        row = {"row_id": row_id, "study_id": study_id, "cohort_id": study_id}
        for spec in dictionary.columns:
            if spec.column in _IDENTITY:
                continue
            fill = template.get(spec.column, "") != "" if like else spec.needs_source or spec.required
            row[spec.column] = FILL_MARKER if fill else ""
            marked += fill
        rows.append(row)
    # the status says which other fields the record needs (validate names them)
    provenance = [{"row_id": row_id, "column": column, "status": FILL_MARKER, "certainty": FILL_MARKER,
                   "source": FILL_MARKER} for row_id in row_ids for column in sourced]
    reference = {"ref_id": study_id, "kind": "study_report", "study_id": study_id, "citation": FILL_MARKER}
    screening = {"report_id": study_id, "search": FILL_MARKER, "decision": "sought_for_retrieval",
                 "source": "data/search.md", "location": FILL_MARKER, "quote": FILL_MARKER}
    additions = {"studies": rows, "provenance": provenance, "references": [reference], "screening": [screening]}
    texts = {name: _appended(folder / f"{name}.csv", tables[name][0], new) for name, new in additions.items()}
    for name, text in texts.items():  # everything computed first: all tables or none
        (folder / f"{name}.csv").write_bytes(text)
    return NewStudy(study_id, like, folder, tuple(row_ids), marked, len(provenance))


def _new_row_id(row_id: str, like: str, study_id: str) -> str:
    """``noppers2011_responders_15min`` -> ``smith2026_responders_15min``."""
    return study_id + row_id[len(like):] if row_id.startswith(like) else f"{study_id}_{row_id}"


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a comma-separated table; an unreadable one is an error."""
    if not path.is_file():
        raise AnalysisError(f"{_display(path)}: file not found")
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, strict=True)
            return list(reader.fieldnames or []), list(reader)
    except (UnicodeError, csv.Error) as error:
        raise AnalysisError(f"{_display(path)} cannot be read ({error}); run python -m analysis "
                            "validate and fix it first") from None


def _appended(path: Path, header: Sequence[str], rows: Sequence[dict]) -> bytes:
    """The file's bytes with ``rows`` appended in its own column order (missing cells empty)."""
    unknown = sorted({column for row in rows for column in row} - set(header))
    if unknown:
        raise AnalysisError(f"{_display(path)} has no column {', '.join(unknown)}; run python -m "
                            "analysis validate and fix its header first")
    data = path.read_bytes()
    newline = "\r\n" if b"\r\n" in data[:4096] else "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    if data and not data.endswith(b"\n"):
        data += newline.encode()
    return data + out.getvalue().encode("utf-8")
