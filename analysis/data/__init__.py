"""Load and validate the project's CSV tables against their data dictionaries.

Every ``data/X.csv`` is described by ``data/X.dictionary.csv`` (the format is fixed in
``docs/architecture.md``): one row per column with its type, unit, whether it is required,
the allowed categories, inclusive bounds and whether each cell needs a provenance record.
The dictionary *is* the validation schema, so the data cannot drift from it unnoticed.

Validation reads the file without changing it, collects every problem at once and raises a
single :class:`DataValidationError` whose message lists each problem as::

    data/studies.csv:7: column 'ketamine_n': value '0': less than the minimum 1

where the line is the row number a spreadsheet shows (the header is line 1; it equals the
line number in a text editor unless a quoted cell holds a line break).

One extension of the dictionary format: a ``minimum`` written ``>0`` (or a ``maximum``
written ``<100``) is exclusive, which is how a standard deviation says it must be positive.

Every cell, of a table or of a dictionary, also passes the markup rule: text from the data is
shown to readers as text, so an HTML tag (``<`` followed by a letter, ``/``, ``!`` or ``?``;
``<50 %`` and ``a < b > c`` are text), a ``javascript:`` or ``data:`` address, or an invisible
character (Unicode Cc other than tab and line breaks, Cf such as bidirectional overrides and
zero-width spaces, Zl, Zp: they can reorder or hide text) is refused. The report escapes data
text whether or not the rule ran; tests that prove it build from markup with the rule off,
through the environment variable :data:`MARKUP_RULE_OFF_VARIABLE` set to ``1`` (an internal
switch for tests: no command or setting of the project offers it).

Public functions
----------------
load_table
    Validate any table against the dictionary beside it; return a typed DataFrame.
load_studies, load_provenance, load_claims, load_prisma
    The project's tables at their default locations (relative to the repository, not the
    working directory); ``load_studies`` also checks provenance coverage.
load_dictionary
    Read and check a data dictionary.
validate
    Validate one file and summarise it (used by ``python -m analysis validate``).

Modules: ``dictionary`` (reading and checking dictionaries), ``_csv`` (strict CSV
reading), ``_cells`` (header and cell rules, typing), ``_provenance`` (a table against its
provenance file), ``_records`` (constants, problems, summaries); this module loads tables.
"""


from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis.data._cells import _check_cells, _check_header, _sorted, _typed
from analysis.data._csv import _Raw, _read_csv
from analysis.data._links import _check_links
from analysis.data._provenance import _check_provenance
from analysis.data._rules import check_rows
from analysis.data._records import (
    COLUMN_TYPES,
    DATA_DIR,
    FILL_MARKER,
    INFERRED_SEPARATOR,
    INFERRED_VALUES,
    MARKUP_RULE_OFF_VARIABLE,
    PROVENANCE_KEY,
    ColumnSpec,
    DataDictionary,
    DataValidationError,
    Problem,
    ProvenanceCoverage,
    ValidationSummary,
    _display,
)
from analysis.data.dictionary import dictionary_path_for, load_dictionary

__all__ = [
    "COLUMN_TYPES",
    "DATA_DIR",
    "FILL_MARKER",
    "MARKUP_RULE_OFF_VARIABLE",
    "ColumnSpec",
    "DataDictionary",
    "DataValidationError",
    "INFERRED_SEPARATOR",
    "INFERRED_VALUES",
    "Problem",
    "ProvenanceCoverage",
    "ValidationSummary",
    "dictionary_path_for",
    "load_claims",
    "load_dictionary",
    "load_prisma",
    "studies_dictionary",
    "load_provenance",
    "load_references",
    "load_registrations",
    "load_studies",
    "load_table",
    "validate",
]

def _validate_raw(path: Path, dictionary_path: Path | None,
                  key: Sequence[str] | None) -> tuple[_Raw | None, DataDictionary | None,
                                                      list[Problem]]:
    """Read and check a table; return what could be read and every problem found."""
    file = _display(path)
    if not path.exists():
        raise DataValidationError([Problem(file, 1, None, None, "file not found")])
    if path.is_dir():
        raise DataValidationError([Problem(file, 1, None, None,
                                           "is a directory, not a CSV file")])
    dictionary_path = dictionary_path_for(path) if dictionary_path is None else dictionary_path
    if not Path(dictionary_path).is_file():
        return None, None, [Problem(file, 1, None, None,
                                    f"no data dictionary: expected "
                                    f"{_display(Path(dictionary_path))} beside it")]
    try:
        dictionary = load_dictionary(dictionary_path)
    except DataValidationError as error:
        return None, None, list(error.problems)
    raw = _read_csv(path)
    if isinstance(raw, list):
        return None, dictionary, raw
    problems = raw.problems + _check_header(raw, dictionary)
    problems += _check_cells(raw, dictionary,
                             key=(dictionary.key,) if key is None else tuple(key))
    problems += _check_links(raw, path) + check_rows(raw)
    problems = _marked_to_fill(raw, problems)
    return raw, dictionary, _sorted(problems, {raw.file: raw.header})


def _marked_to_fill(raw: _Raw, problems: list[Problem]) -> list[Problem]:
    """One message per row for the cells ``python -m analysis new-study`` marked to fill.

    Other rules say nothing about a marked cell: its value is not one yet.
    """
    marked: dict[int, list[str]] = {}
    for column, cells in raw.columns.items():
        for line, cell in zip(raw.lines, cells):
            if cell == FILL_MARKER:
                marked.setdefault(line, []).append(column)
    if not marked:
        return problems
    kept = [p for p in problems
            if not (p.file == raw.file and p.column in marked.get(p.line, ()))]
    order = {name: i for i, name in enumerate(raw.header)}
    runs: list[tuple[list[int], list[str]]] = []  # consecutive rows marked in the same columns
    for line, columns in sorted(marked.items()):
        columns.sort(key=order.get)
        if runs and runs[-1][1] == columns and raw.lines.index(line) == raw.lines.index(runs[-1][0][-1]) + 1:
            runs[-1][0].append(line)
        else:
            runs.append(([line], columns))
    for lines, columns in runs:
        cells = f"{len(columns)} cell{'s' if len(columns) != 1 else ''}"
        rows = f"rows {lines[0]} to {lines[-1]} ({len(lines)} rows): {cells} each" if len(lines) > 1 else cells
        kept.append(Problem(raw.file, lines[0], None, None,
                            f"{rows} still marked {FILL_MARKER}: {', '.join(columns)}"))
    return kept


def load_table(path: str | Path, dictionary_path: str | Path | None = None, *,
               key: Sequence[str] | None = None) -> pd.DataFrame:
    """Validate a CSV table against its data dictionary and return it typed.

    Parameters
    ----------
    path : str or Path
        The table, UTF-8 without byte-order mark, comma-separated, header first.
    dictionary_path : str or Path, optional
        Its dictionary; by default ``X.dictionary.csv`` beside ``X.csv``.
    key : sequence of str, optional
        Column(s) whose values must be unique together; by default the dictionary's first
        column.

    Returns
    -------
    pandas.DataFrame
        One row per data row, columns in dictionary order, typed by the dictionary:
        integer as ``Int64``, number as ``float64``, boolean as ``boolean``, category as
        ``Categorical`` with the allowed values as categories, date as ``datetime64``,
        string as ``str``. Empty cells are missing values.

    Raises
    ------
    DataValidationError
        Listing every problem at once (file, line, column, value, rule): wrong types,
        values outside the dictionary's bounds (a number or another column of the same row),
        unknown categories, duplicate keys, missing required values, an empty or header-only
        file, a byte-order mark, bytes that are not UTF-8, stray or missing columns, rows
        with the wrong number of fields, empty rows, leading or trailing whitespace, text
        cells a spreadsheet would run as formulas, markup (an HTML tag, a ``javascript:`` or
        ``data:`` address, an invisible character), and a malformed dictionary.

    Notes
    -----
    The file is read once and never written. The formula rule (a cell starting with ``=``,
    ``+``, ``-`` or ``@``) applies to text cells; in integer and number columns it applies
    only to cells that are not numbers, because negative numbers are legitimate there.

    Examples
    --------
    >>> table = load_table(DATA_DIR.parent / "tests/data_corpus/valid.csv")
    >>> table["ketamine_n"].tolist()
    [11, 31]
    >>> str(table["ketamine_n"].dtype)
    'Int64'
    """
    path = Path(path)
    raw, dictionary, problems = _validate_raw(
        path, None if dictionary_path is None else Path(dictionary_path), key)
    if problems:
        raise DataValidationError(problems)
    return _typed(raw, dictionary)


# ---------------------------------------------------------------------- provenance


def _structure_broken(raw: _Raw, problems: Sequence[Problem]) -> bool:
    """Rows were left out or the header is wrong: cross-checks would list only knock-ons."""
    return raw.dropped > 0 or any(p.file == raw.file and p.line == 1 and p.column is not None
                                  for p in problems)


def _studies_with_provenance(path: Path, provenance_path: Path | None
                             ) -> tuple[pd.DataFrame, ValidationSummary]:
    raw, dictionary, problems = _validate_raw(path, None, None)
    coverage = None
    if dictionary is not None and any(spec.needs_source for spec in dictionary.columns):
        provenance_path = (path.with_name("provenance.csv") if provenance_path is None
                           else provenance_path)
        if not provenance_path.is_file():
            problems.append(Problem(_display(provenance_path), 1, None, None,
                                    f"file not found; the needs_source columns of "
                                    f"{_display(path)} need it"))
        else:
            prov_raw, prov_dictionary, prov_problems = _validate_raw(
                provenance_path, None, PROVENANCE_KEY)
            problems += prov_problems
            if raw is not None and prov_raw is not None and (
                    _structure_broken(raw, problems) or _structure_broken(prov_raw, prov_problems)):
                problems.append(Problem(prov_raw.file, 1, None, None,
                                        f"provenance coverage of {raw.file} not checked until "
                                        "the problems with the columns or rows above are fixed"))
            elif raw is not None and prov_raw is not None and all(
                    c in prov_raw.columns for c in ("row_id", "column", "status")):
                more, coverage = _check_provenance(raw, dictionary, prov_raw)
                problems = _sorted(problems + more, {raw.file: raw.header,
                                                     prov_raw.file: prov_raw.header})
    if problems:
        raise DataValidationError(problems)
    table = _typed(raw, dictionary)
    if coverage is not None and coverage.inferred is not None:
        inferred = coverage.inferred
        table[INFERRED_VALUES] = [INFERRED_SEPARATOR.join(inferred.get(row_id, ()))
                                  for row_id in table[dictionary.key]]
    summary = _summary(raw.file, table, (dictionary.key,), coverage)
    return table, summary


def _summary(file: str, table: pd.DataFrame, key: tuple[str, ...],
             coverage: ProvenanceCoverage | None = None) -> ValidationSummary:
    def distinct(column: str) -> int | None:
        return int(table[column].nunique()) if column in table else None

    return ValidationSummary(file=file, rows=len(table), columns=len(table.columns), key=key,
                             studies=distinct("study_id"), cohorts=distinct("cohort_id"),
                             provenance=coverage)


#: Key of ``load_studies()``'s ``DataFrame.attrs`` holding every study's id and label.
STUDY_NAMES = "study_names"


def load_studies(path: str | Path | None = None,
                 provenance_path: str | Path | None = None) -> pd.DataFrame:
    """Load the validated study table, with its provenance coverage checked.

    Parameters
    ----------
    path : str or Path, optional
        Default ``data/studies.csv`` in the repository (not the working directory).
    provenance_path : str or Path, optional
        Default ``provenance.csv`` beside ``path``.

    Returns
    -------
    pandas.DataFrame
        As :func:`load_table`, plus one column computed from the provenance (when its
        dictionary declares ``certainty``): :data:`INFERRED_VALUES`, the row's columns whose
        value is inferred from wording, joined by ``"|"`` (empty when none), which the
        tables flag and the sensitivity analysis "stated and computed values only" reads.

    Raises
    ------
    DataValidationError
        Every problem of :func:`load_table` for the table and for ``provenance.csv``, plus:
        a ``needs_source`` cell without a provenance row, a provenance row whose ``row_id``
        or ``column`` does not exist in the table, a ``reported``/``derived`` record for an
        empty cell or a ``not_reported`` record for a cell holding a value (other than the
        category ``not_reported``), and a record missing the
        field its status needs (``source`` and ``quote`` for reported, ``source`` and
        ``derivation`` for derived, ``note`` giving the reason for not_reported), a
        ``certainty`` its status does not allow (reported is stated; not_reported is
        not_applicable), and a computed value without its arithmetic or an inferred one
        without its reasoning in ``derivation``.
    """
    path = DATA_DIR / "studies.csv" if path is None else Path(path)
    table, _ = _studies_with_provenance(
        path, None if provenance_path is None else Path(provenance_path))
    # every study of the file, by id, with its label: a subset of the rows keeps it, so a study
    # left out by a misspelt name is refused even where an analysis sees only some rows
    labels = table["study_label"] if "study_label" in table.columns else table["study_id"]  # a table may lack labels
    table.attrs[STUDY_NAMES] = dict(zip(table["study_id"], labels))
    return table


def load_provenance(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``data/provenance.csv`` (key: ``row_id`` and ``column`` together)."""
    path = DATA_DIR / "provenance.csv" if path is None else Path(path)
    return load_table(path, key=PROVENANCE_KEY)


@lru_cache(maxsize=1)
def studies_dictionary() -> DataDictionary:
    """The dictionary of ``data/studies.csv``, read once: reader labels of the study table's codes."""
    return load_dictionary(DATA_DIR / "studies.dictionary.csv")


def load_claims(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``data/claims.csv``, the checked claims of the popular articles."""
    return load_table(DATA_DIR / "claims.csv" if path is None else Path(path))


def load_registrations(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``data/registrations.csv``: status, dates and results of each registry copy read."""
    return load_table(DATA_DIR / "registrations.csv" if path is None else Path(path))


def load_references(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``data/references.csv``: identifiers (DOI, PMID, URL, dates) of every cited work."""
    return load_table(DATA_DIR / "references.csv" if path is None else Path(path))


def load_prisma(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``data/prisma.csv``, the counts of the PRISMA flow."""
    return load_table(DATA_DIR / "prisma.csv" if path is None else Path(path))


def validate(path: str | Path, dictionary_path: str | Path | None = None
             ) -> ValidationSummary:
    """Validate one table and summarise it; the studies table includes provenance coverage.

    A file named ``studies.csv`` is checked with :func:`load_studies` (its provenance is
    ``provenance.csv`` beside it) unless another dictionary is given, ``provenance.csv``
    with its two-column key, and any other file with :func:`load_table`.

    Parameters
    ----------
    path : str or Path
        The table.
    dictionary_path : str or Path, optional
        Its dictionary, by default ``X.dictionary.csv`` beside it.

    Returns
    -------
    ValidationSummary
        Rows, columns, key, distinct studies and cohorts, provenance coverage.

    Raises
    ------
    DataValidationError
        As the loader used.

    Examples
    --------
    >>> print(validate(DATA_DIR.parent / "tests/data_corpus/valid.csv"))
    tests/data_corpus/valid.csv: valid: 2 rows, 2 studies, 8 columns
    """
    path = Path(path)
    if path.name == "studies.csv" and dictionary_path is None:
        return _studies_with_provenance(path, None)[1]
    key = PROVENANCE_KEY if path.name == "provenance.csv" else None
    table = load_table(path, dictionary_path, key=key)
    return _summary(_display(path), table, tuple(key) if key else (table.columns[0],))

