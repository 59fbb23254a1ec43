"""Cross-checks of a table and its provenance file: every cell that needs a source has a
record, every record points at a cell and agrees with it, and each record names what its
status and certainty require (source, quote, derivation, the reason a value is missing)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from analysis.data._csv import _Raw
from analysis.data._records import (
    CERTAINTY_NEEDS,
    CERTAINTY_OF_STATUS,
    PROVENANCE_CERTAINTIES,
    PROVENANCE_STATUSES,
    DataDictionary,
    Problem,
    ProvenanceCoverage,
    _show,
)

#: Fields a record needs for each status (a derivation may instead be named by its certainty).
FIELDS_NEEDED = (("source", ("reported", "derived")),
                 ("quote", ("reported",)),
                 ("derivation", ("derived",)),
                 ("note", ("not_reported",)))


@dataclass
class _Records:
    """What the provenance file says, gathered line by line."""

    have: set = field(default_factory=set)  # (row_id, column) with a record
    status_counts: Counter = field(default_factory=Counter)
    unknown: dict = field(default_factory=dict)  # row_id -> provenance lines naming it
    inferred: dict = field(default_factory=dict)  # row_id -> columns with inferred values


def _check_provenance(table: _Raw, dictionary: DataDictionary,
                      provenance: _Raw) -> tuple[list[Problem], ProvenanceCoverage]:
    """Every needs_source cell has a provenance row; every provenance row points at a cell."""
    keys = table.columns.get(dictionary.key, [])
    row_of = {k: i for i, k in reversed(list(enumerate(keys)))}
    records = _Records()
    problems: list[Problem] = []
    for j, line in enumerate(provenance.lines):
        problems += _record_problems(j, line, table, dictionary, provenance, row_of, records)
    problems += _unknown_row_problems(records.unknown, table, provenance.file, dictionary.key)
    needed = [spec.column for spec in dictionary.columns
              if spec.needs_source and spec.column in table.columns]
    uncovered = _uncovered_cells(table, dictionary.key, needed, records.have, provenance.file)
    problems += uncovered
    coverage = ProvenanceCoverage(
        file=provenance.file,
        cells_needing_source=len(table) * len(needed),
        cells_with_record=sum(1 for k in keys if k != "") * len(needed) - len(uncovered),
        by_status={s: records.status_counts[s] for s in PROVENANCE_STATUSES},
        inferred=({row_id: tuple(sorted(columns)) for row_id, columns in records.inferred.items()}
                  if "certainty" in provenance.columns else None),
    )
    return problems, coverage


def _record_problems(j: int, line: int, table: _Raw, dictionary: DataDictionary, provenance: _Raw,
                     row_of: dict[str, int], records: _Records) -> list[Problem]:
    """The rules provenance record ``j`` (on ``line``) breaks; what it says goes to ``records``."""
    prov = provenance.columns
    row_id, column, status = prov["row_id"][j], prov["column"][j], prov["status"][j]
    if row_id not in row_of:
        if row_id != "":
            records.unknown.setdefault(row_id, []).append(line)
        return []
    if column not in dictionary:
        return ([Problem(provenance.file, line, "column", column, f"not a column of {table.file}")]
                if column != "" else [])
    records.have.add((row_id, column))
    if status in PROVENANCE_STATUSES:
        records.status_counts[status] += 1
    if column not in table.columns:
        return []
    certainty = prov["certainty"][j] if "certainty" in prov else ""
    if certainty == "inferred":
        records.inferred.setdefault(row_id, []).append(column)
    i = row_of[row_id]
    problems = _cell_contradiction(provenance.file, line, status,
                                   f"{table.file}:{table.lines[i]} column '{column}'",
                                   table.columns[column][i])
    contradiction = _certainty_problems(provenance.file, line, status, certainty)
    problems += contradiction
    for needed_field, when in FIELDS_NEEDED:
        if status in when and needed_field in prov and prov[needed_field][j] == "":
            if needed_field == "derivation" and certainty in CERTAINTY_NEEDS:
                continue  # the certainty's own rule below names what is missing
            reason = " (the reason it is empty)" if needed_field == "note" else ""
            problems.append(Problem(provenance.file, line, needed_field, "",
                                    f"required when status is {status}{reason}"))
    if (certainty in CERTAINTY_NEEDS and not contradiction and "derivation" in prov
            and prov["derivation"][j] == ""):
        problems.append(Problem(provenance.file, line, "derivation", "",
                                f"required when certainty is {certainty} "
                                f"({CERTAINTY_NEEDS[certainty]})"))
    return problems


def _cell_contradiction(file: str, line: int, status: str, where: str, cell: str) -> list[Problem]:
    """A status the cell contradicts: a value reported but the cell empty, or the reverse."""
    if status in ("reported", "derived") and cell == "":
        return [Problem(file, line, "status", status,
                        f"contradicts {where}, which is empty: fill the cell or record not_reported")]
    if status == "not_reported" and cell not in ("", "not_reported"):
        # a category may spell out "not_reported"; any other value contradicts the status
        return [Problem(file, line, "status", status,
                        f"contradicts {where}, which holds {_show(cell)}: a "
                        "value the sources do not give stays empty")]
    return []


def _uncovered_cells(table: _Raw, key: str, needed: list[str], have: set,
                     provenance_file: str) -> list[Problem]:
    """One problem per cell that needs a source and has no provenance record."""
    return [Problem(table.file, table.lines[i], column, table.columns[column][i],
                    f"no provenance row in {provenance_file} for {key} {row_id!r}")
            for i, row_id in enumerate(table.columns.get(key, [])) if row_id != ""
            for column in needed if (row_id, column) not in have]


def _unknown_row_problems(unknown: dict[str, list[int]], table: _Raw, file: str,
                          key: str) -> list[Problem]:
    """One message per row_id that provenance names and the table lacks (one cause: a row
    renamed or deleted), with a hint when the table repeats a key (a row_id typed over)."""
    counts = Counter(table.columns.get(key, []))
    repeated = [(k, [line for line, v in zip(table.lines, table.columns[key]) if v == k][1])
                for k, n in counts.items() if n > 1 and k != ""]
    hint = "".join(f"; {table.file}:{line} repeats {key} {k!r}: was this row's {key} typed over?"
                   for k, line in repeated)
    problems = []
    for row_id, lines in unknown.items():
        more = (f"; and {len(lines) - 1} more row{'s' if len(lines) > 2 else ''} that refer to it"
                if len(lines) > 1 else "")
        problems.append(Problem(file, lines[0], "row_id", row_id,
                                f"no row with this {key} in {table.file}{more}{hint}"))
    return problems


def _certainty_problems(file: str, line: int, status: str, certainty: str) -> list[Problem]:
    """A certainty that contradicts the record's status (the category itself is the dictionary's)."""
    allowed = CERTAINTY_OF_STATUS.get(status)
    if not certainty or certainty not in PROVENANCE_CERTAINTIES or allowed is None or certainty in allowed:
        return []
    return [Problem(file, line, "certainty", certainty,
                    f"contradicts status {status}, which allows only {' or '.join(allowed)}")]
