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
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis._errors import AnalysisError

__all__ = [
    "COLUMN_TYPES",
    "DATA_DIR",
    "ColumnSpec",
    "DataDictionary",
    "DataValidationError",
    "Problem",
    "ProvenanceCoverage",
    "ValidationSummary",
    "dictionary_path_for",
    "load_claims",
    "load_dictionary",
    "load_prisma",
    "load_provenance",
    "load_studies",
    "load_table",
    "validate",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"

COLUMN_TYPES = ("string", "integer", "number", "boolean", "category", "date")
"""Column types a data dictionary may use (``docs/architecture.md``)."""

DICTIONARY_COLUMNS = (
    "column",
    "type",
    "unit",
    "required",
    "allowed",
    "minimum",
    "maximum",
    "needs_source",
    "description",
)
PROVENANCE_STATUSES = ("reported", "derived", "not_reported")
PROVENANCE_KEY = ("row_id", "column")

# A spreadsheet runs a text cell starting with one of these as a formula (OWASP "CSV
# injection"). Numeric columns legitimately start with '-', so there the rule applies only
# to cells that are not valid numbers.
FORMULA_PREFIXES = ("=", "+", "-", "@")
_FORMULA_RULE = (
    "starts with '=', '+', '-' or '@', so a spreadsheet would run it as a formula; reword it"
)

_INTEGER_RE = r"-?[0-9]+"
_NUMBER_RE = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_NAME_RE = r"[a-z][a-z0-9_]*"
_BOUND_RE = re.compile(rf"(?P<op>[<>]?)(?:(?P<number>{_NUMBER_RE})|(?P<name>{_NAME_RE}))")
_BAD_BYTE_RE = re.compile("[\udc80-\udcff]")
_VALUE_SHOWN = 80  # longer cell values are cut in messages (provenance quotes can be long)

_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, located for a person who will fix it.

    Attributes
    ----------
    file : str
        The file as shown to the user (relative to the repository when inside it).
    line : int
        Spreadsheet row number; the header is line 1.
    column : str or None
        The column concerned, if any.
    value : str or None
        The cell's text, if the problem is about one cell.
    rule : str
        What is wrong, phrased so that it says what to fix.

    Examples
    --------
    >>> str(Problem("data/x.csv", 3, "n", "0", "less than the minimum 1"))
    "data/x.csv:3: column 'n': value '0': less than the minimum 1"
    >>> str(Problem("data/x.csv", 1, None, None, "file is empty"))
    'data/x.csv:1: file is empty'
    """

    file: str
    line: int
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}"]
        if self.column is not None:
            parts.append(f"column {_show(self.column)}")
        if self.value is not None:
            parts.append(f"value {_show(self.value)}")
        parts.append(self.rule)
        return ": ".join(parts)


class DataValidationError(AnalysisError):
    """A data file (or its dictionary) breaks one or more rules.

    ``problems`` holds every :class:`Problem` found; the message lists them one per line.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        files = list(dict.fromkeys(p.file for p in self.problems))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {', '.join(files)}:"
        super().__init__("\n".join([head, *map(str, self.problems)]))


@dataclass(frozen=True)
class ColumnSpec:
    """One row of a data dictionary.

    Attributes
    ----------
    column : str
        Column name (snake_case).
    type : str
        One of :data:`COLUMN_TYPES`.
    unit : str
        Unit of the values, empty when not applicable.
    required : bool
        Whether every row must have a value.
    allowed : tuple of str
        Allowed values of a ``category`` column, in dictionary order; empty otherwise.
    minimum, maximum : str or None
        Inclusive bound as written in the dictionary: a number or another numeric column's
        name. A leading ``>`` (minimum) or ``<`` (maximum) makes the bound exclusive
        (``>0`` for a standard deviation).
    needs_source : bool
        Whether every cell of the column needs a row in ``provenance.csv``.
    description : str
        What the column means.
    line : int
        Line of this entry in the dictionary file.
    """

    column: str
    type: str
    unit: str = ""
    required: bool = False
    allowed: tuple[str, ...] = ()
    minimum: str | None = None
    maximum: str | None = None
    needs_source: bool = False
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class DataDictionary:
    """A parsed, checked data dictionary.

    Attributes
    ----------
    file : str
        The dictionary file as shown in messages.
    columns : tuple of ColumnSpec
        The entries in dictionary order; the first is the key column.
    """

    file: str
    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in dictionary order."""
        return tuple(spec.column for spec in self.columns)

    @property
    def key(self) -> str:
        """The key column (the dictionary's first entry)."""
        return self.columns[0].column

    def __getitem__(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.column == name:
                return spec
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names


@dataclass(frozen=True)
class ProvenanceCoverage:
    """How many cells that need a source have a provenance record.

    Attributes
    ----------
    file : str
        The provenance file.
    cells_needing_source : int
        Rows times ``needs_source=yes`` columns of the table.
    cells_with_record : int
        Those of them that have a provenance row.
    by_status : Mapping[str, int]
        Provenance rows for this table by status (reported, derived, not_reported).
    """

    file: str
    cells_needing_source: int
    cells_with_record: int
    by_status: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ValidationSummary:
    """What :func:`validate` found in a valid file.

    Attributes
    ----------
    file : str
        The validated file.
    rows : int
        Data rows (header excluded).
    columns : int
        Columns.
    key : tuple of str
        The key column(s).
    studies : int or None
        Distinct ``study_id`` values, when the table has that column.
    cohorts : int or None
        Distinct ``cohort_id`` values (independent patient samples), when present.
    provenance : ProvenanceCoverage or None
        Provenance coverage, for the studies table.
    """

    file: str
    rows: int
    columns: int
    key: tuple[str, ...]
    studies: int | None = None
    cohorts: int | None = None
    provenance: ProvenanceCoverage | None = None

    def __str__(self) -> str:
        text = f"{self.file}: valid: {self.rows} rows"
        if self.studies is not None:
            text += f", {self.studies} studies"
        if self.cohorts is not None:
            text += f", {self.cohorts} cohorts"
        text += f", {self.columns} columns"
        if self.provenance is not None:
            cov = self.provenance
            statuses = ", ".join(f"{n} {s}" for s, n in cov.by_status.items())
            text += (
                f"; provenance: {cov.cells_with_record} of {cov.cells_needing_source} "
                f"sourced cells have a record in {cov.file} ({statuses})"
            )
        return text


# ------------------------------------------------------------------------ utilities


def _display(path: Path) -> str:
    """The path as shown in messages: repository-relative when inside the repository."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _show(text: str) -> str:
    """Quote a cell for a message: invalid bytes as \\xNN, line breaks escaped, long cut."""
    if len(text) > _VALUE_SHOWN:
        text = text[: _VALUE_SHOWN - 3] + "..."
    text = _BAD_BYTE_RE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return f"'{text}'"


def dictionary_path_for(path: str | Path) -> Path:
    """The dictionary that describes ``path``: ``X.dictionary.csv`` beside ``X.csv``.

    >>> dictionary_path_for("data/studies.csv").as_posix()
    'data/studies.dictionary.csv'
    """
    path = Path(path)
    return path.with_name(path.stem + ".dictionary.csv")


@dataclass
class _Raw:
    """A CSV file read as text: header, columns of cell strings, spreadsheet lines."""

    file: str
    header: list[str]
    columns: dict[str, list[str]]  # one entry per *distinct* header name
    lines: list[int]  # spreadsheet line of each kept row
    problems: list[Problem]

    def __len__(self) -> int:
        return len(self.lines)


def _read_csv(path: Path) -> _Raw | list[Problem]:
    """Read a CSV file strictly; return the table or the problems that stop reading it."""
    file = _display(path)
    data = path.read_bytes()  # read once, never written: validation does not touch the file
    problems: list[Problem] = []
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            return [Problem(file, 1, None, None,
                            f"file is {name} encoded (byte-order mark "
                            f"{' '.join(f'0x{b:02X}' for b in bom)}); save it as UTF-8")]
    if data.startswith(_UTF8_BOM):
        # Excel writes one; pandas and R then see a column named '\ufeffrow_id'
        problems.append(Problem(file, 1, None, None,
                                "file starts with a UTF-8 byte-order mark (BOM); "
                                "save it as UTF-8 without BOM"))
        data = data[len(_UTF8_BOM):]
    if not data.strip():
        return [*problems, Problem(file, 1, None, None,
                                   "file is empty; it needs a header row and data rows")]
    # surrogateescape keeps every undecodable byte, so the problem can name the byte and
    # the cell it sits in instead of failing on the whole file.
    text = data.decode("utf-8", errors="surrogateescape")
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), strict=True):
            records.append(record)
    except csv.Error as error:
        problems.append(Problem(file, len(records) + 1, None, None,
                                f"malformed CSV ({error}); check the quotes in this row"))
        return problems
    header, body = records[0], records[1:]
    for position, name in enumerate(header, start=1):
        if _BAD_BYTE_RE.search(name):
            problems.append(Problem(file, 1, name, None, _bad_bytes_rule(name)))
        elif name == "":
            problems.append(Problem(file, 1, None, None,
                                    f"header field {position} is empty (a trailing comma?)"))
        elif name != name.strip():
            problems.append(Problem(file, 1, name, None,
                                    "leading or trailing whitespace in the column name"))
    counts = Counter(header)
    for name, count in counts.items():
        if count > 1 and name != "":
            problems.append(Problem(file, 1, name, None,
                                    f"column name appears {count} times in the header"))
    kept_rows: list[list[str]] = []
    kept_lines: list[int] = []
    if not any(cell.strip() for row in body for cell in row):
        problems.append(Problem(file, 1, None, None, "file has a header but no data rows"))
        body = []
    for line, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            # a blank spreadsheet row: editing residue, with no key to refer to it by
            problems.append(Problem(file, line, None, None, "empty row; delete it"))
            continue
        if len(row) != len(header):
            problems.append(Problem(file, line, None, None,
                                    f"row has {len(row)} fields but the header has "
                                    f"{len(header)}"))
            continue
        kept_rows.append(row)
        kept_lines.append(line)
    positions = {name: header.index(name) for name in counts if name != ""}
    columns = {name: [row[i] for row in kept_rows] for name, i in positions.items()}
    return _Raw(file, header, columns, kept_lines, problems)


def _bad_bytes_rule(text: str) -> str:
    found = list(dict.fromkeys(f"0x{ord(c) - 0xDC00:02X}" for c in _BAD_BYTE_RE.findall(text)))
    if len(found) == 1:
        return f"byte {found[0]} is not valid UTF-8; save the file as UTF-8"
    return f"bytes {', '.join(found)} are not valid UTF-8; save the file as UTF-8"


# ------------------------------------------------------------------------ dictionary

# The dictionary of dictionaries: a data dictionary is itself checked by the same rules.
_META = DataDictionary(
    "docs/architecture.md",
    (
        ColumnSpec("column", "string", required=True),
        ColumnSpec("type", "category", required=True, allowed=COLUMN_TYPES),
        ColumnSpec("unit", "string"),
        ColumnSpec("required", "category", required=True, allowed=("yes", "no")),
        ColumnSpec("allowed", "string"),
        ColumnSpec("minimum", "bound"),
        ColumnSpec("maximum", "bound"),
        ColumnSpec("needs_source", "category", required=True, allowed=("yes", "no")),
        ColumnSpec("description", "string", required=True),
    ),
)


def load_dictionary(path: str | Path) -> DataDictionary:
    """Read and check a data dictionary.

    Parameters
    ----------
    path : str or Path
        A ``X.dictionary.csv`` file with the columns
        ``column,type,unit,required,allowed,minimum,maximum,needs_source,description``.

    Returns
    -------
    DataDictionary
        The entries in file order; the first is the key column.

    Raises
    ------
    DataValidationError
        Listing every problem: the file-level rules of :func:`load_table`, plus unknown
        types, ``allowed`` on a non-category column (or missing on a category column),
        bounds that are neither numbers nor numeric columns, bounds on non-numeric columns,
        minimum above maximum, names that are not snake_case, and a key column that is not
        required.

    Examples
    --------
    >>> d = load_dictionary(DATA_DIR.parent / "tests/data_corpus/valid.dictionary.csv")
    >>> d.key, d["ketamine_events"].maximum
    ('study_id', 'ketamine_n')
    """
    path = Path(path)
    file = _display(path)
    if not path.is_file():
        raise DataValidationError([Problem(file, 1, None, None, "dictionary file not found")])
    raw = _read_csv(path)
    if isinstance(raw, list):
        raise DataValidationError(raw)
    problems = raw.problems
    problems += _check_header(raw, _META)
    if problems:
        raise DataValidationError(_sorted(problems, {raw.file: raw.header}))
    problems += _check_cells(raw, _META, key=("column",))
    lines = raw.lines
    rows = [{name: raw.columns[name][i] for name in DICTIONARY_COLUMNS}
            for i in range(len(raw))]
    entries = {}
    for line, row in zip(lines, rows):
        entries.setdefault(row["column"], (line, row))
    numeric = {name for name, (_, row) in entries.items() if row["type"] in ("integer", "number")}
    for line, row in zip(lines, rows):
        name, ctype = row["column"], row["type"]

        def problem(column: str, rule: str) -> None:
            problems.append(Problem(file, int(line), column, row[column], rule))

        if name and name.strip() == name and not re.fullmatch(_NAME_RE, name):
            problem("column", "column names must be snake_case (a-z, 0-9, _; a letter first)")
        if ctype == "category":
            if not row["allowed"]:
                problem("allowed", "a category column needs its allowed values, "
                                   "separated by '|'")
            else:
                values = row["allowed"].split("|")
                if any(v == "" or v != v.strip() for v in values):
                    problem("allowed", "allowed values must be non-empty and separated by "
                                       "'|' without spaces")
                duplicated = sorted({v for v in values if values.count(v) > 1})
                if duplicated:
                    problem("allowed", f"allowed value listed twice: {', '.join(duplicated)}")
        elif row["allowed"] and ctype in COLUMN_TYPES:
            problem("allowed", f"allowed values apply only to category columns, "
                               f"not to a {ctype} column")
        for bound, op in (("minimum", ">"), ("maximum", "<")):
            text = row[bound]
            if not text or _BAD_BYTE_RE.search(text) or text != text.strip():
                continue
            match = _BOUND_RE.fullmatch(text)
            if ctype not in ("integer", "number") and ctype in COLUMN_TYPES:
                problem(bound, f"bounds apply only to integer and number columns, "
                               f"not to a {ctype} column")
            elif match is None or match["op"] not in ("", op):
                problem(bound, f"a {bound} must be a number or the name of a numeric column"
                               f" (optionally prefixed with '{op}' for an exclusive bound)")
            elif match["name"] is not None and match["name"] not in entries:
                problem(bound, f"no column {match['name']!r} in this dictionary")
            elif match["name"] is not None and match["name"] not in numeric:
                problem(bound, f"column {match['name']!r} is not an integer or number "
                               f"column")
            elif match["name"] == name:
                problem(bound, "a column cannot bound itself")
        low, high = (_BOUND_RE.fullmatch(row[b] or "") for b in ("minimum", "maximum"))
        if (low and high and low["number"] is not None and high["number"] is not None
                and float(low["number"]) > float(high["number"])):
            problem("maximum", f"maximum is less than the minimum {row['minimum']}")
    if rows and rows[0]["required"] == "no":
        problems.append(Problem(file, int(lines[0]), "required", "no",
                                "the first entry is the key column and must be required"))
    if problems:
        raise DataValidationError(_sorted(problems, {raw.file: raw.header}))
    columns = tuple(
        ColumnSpec(
            column=row["column"],
            type=row["type"],
            unit=row["unit"],
            required=row["required"] == "yes",
            allowed=tuple(row["allowed"].split("|")) if row["allowed"] else (),
            minimum=row["minimum"] or None,
            maximum=row["maximum"] or None,
            needs_source=row["needs_source"] == "yes",
            description=row["description"],
            line=line,
        )
        for line, row in zip(lines, rows)
    )
    return DataDictionary(file, columns)


# ---------------------------------------------------------------------- validation


def _check_header(raw: _Raw, dictionary: DataDictionary) -> list[Problem]:
    problems = []
    present = set(raw.header)
    if dictionary is _META:
        stray = missing = f"a data dictionary has the columns {','.join(DICTIONARY_COLUMNS)}"
    else:
        stray = f"not in the dictionary {dictionary.file}"
        missing = f"the dictionary {dictionary.file} defines it"
    for name in raw.header:
        if name and name.strip() == name and not _BAD_BYTE_RE.search(name) \
                and name not in dictionary:
            problems.append(Problem(raw.file, 1, name, None, f"stray column: {stray}"))
    for name in dictionary.names:
        if name not in present:
            problems.append(Problem(raw.file, 1, name, None, f"missing column: {missing}"))
    return problems


_INTEGER = re.compile(_INTEGER_RE)
_NUMBER = re.compile(_NUMBER_RE)
_DATE = re.compile(_DATE_RE)
_MISTYPED_NEGATIVE = re.compile(r"-[0-9.]*")  # '-1.2.3', '-': a bad number, not a formula


def _is_real_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _cell_rule(text: str, spec: ColumnSpec, allowed: frozenset[str]) -> str | None:
    """The first rule ``text`` breaks in a column described by ``spec``, or None.

    One cell gets one message, the most basic broken rule: encoding, whitespace, missing,
    formula, type. Bounds need the whole row and are checked afterwards.
    """
    if _BAD_BYTE_RE.search(text):
        return _bad_bytes_rule(text)
    if text != text.strip():
        return "leading or trailing whitespace"
    if text == "":
        return "missing required value" if spec.required else None
    kind = spec.type
    if kind == "integer" or kind == "number":
        if (_INTEGER if kind == "integer" else _NUMBER).fullmatch(text):
            return None
        if text[0] in FORMULA_PREFIXES and not _MISTYPED_NEGATIVE.fullmatch(text):
            return _FORMULA_RULE
        return "not an integer" if kind == "integer" else "not a number"
    if kind == "bound":
        # only in the dictionary of dictionaries ('-5' is a valid bound, not a formula);
        # load_dictionary checks bounds, knowing the other columns and their types
        return None
    if text[0] in FORMULA_PREFIXES:
        return _FORMULA_RULE
    if kind == "boolean" and text not in ("true", "false"):
        return "not a boolean; write true or false"
    if kind == "category" and text not in allowed:
        return f"unknown category; allowed: {', '.join(spec.allowed)}"
    if kind == "date" and not (_DATE.fullmatch(text) and _is_real_date(text)):
        return "not a date; write YYYY-MM-DD"
    return None


def _check_cells(raw: _Raw, dictionary: DataDictionary,
                 key: Sequence[str]) -> list[Problem]:
    """Check every cell of the columns the file and the dictionary share.

    Plain loops over column lists with compiled patterns: the tables are a few hundred
    rows, where pandas' per-operation overhead costs more than the loop it would replace.
    """
    problems: list[Problem] = []
    file, lines = raw.file, raw.lines
    present = [spec for spec in dictionary.columns if spec.column in raw.columns]
    checked: dict[str, list[bool]] = {}  # per column: cell passed its own rules
    for spec in present:
        allowed = frozenset(spec.allowed)
        ok = []
        for line, text in zip(lines, raw.columns[spec.column]):
            rule = _cell_rule(text, spec, allowed)
            if rule is not None:
                problems.append(Problem(file, line, spec.column, text, rule))
            ok.append(rule is None)
        checked[spec.column] = ok

    def numbers(name: str) -> list[float | int | None]:
        """Parsed values of a numeric column; None where empty or invalid."""
        kind = dictionary[name].type
        parse = int if kind == "integer" else float  # Python's float() is correctly rounded
        return [parse(text) if good and text else None
                for text, good in zip(raw.columns[name], checked[name])]

    for spec in present:
        if spec.type not in ("integer", "number") or (spec.minimum is None
                                                       and spec.maximum is None):
            continue
        values = numbers(spec.column)
        for bound, op in ((spec.minimum, ">"), (spec.maximum, "<")):
            if bound is None:
                continue
            match = _BOUND_RE.fullmatch(bound)
            exclusive = match["op"] == op
            if match["number"] is not None:
                limits = [float(match["number"])] * len(values)
                shown = [match["number"]] * len(values)
                what = ("the exclusive " if exclusive else "the ") + (
                    "minimum" if op == ">" else "maximum")
            elif match["name"] in raw.columns:
                limits = numbers(match["name"])
                shown = [f"({text})" for text in raw.columns[match["name"]]]
                what = f"column '{match['name']}'"
            else:  # the referenced column is missing from the file: reported already
                continue
            if op == ">":
                verb = "not greater than" if exclusive else "less than"
            else:
                verb = "not less than" if exclusive else "greater than"
            for i, (x, limit) in enumerate(zip(values, limits)):
                if x is None or limit is None:
                    continue
                if op == ">":
                    broken = x <= limit if exclusive else x < limit
                else:
                    broken = x >= limit if exclusive else x > limit
                if broken:
                    problems.append(Problem(file, lines[i], spec.column,
                                            raw.columns[spec.column][i],
                                            f"{verb} {what} {shown[i]}"))

    if key and all(name in raw.columns for name in key):
        first_line: dict[tuple[str, ...], int] = {}
        label = ", ".join(key)
        for i, line in enumerate(lines):
            value = tuple(raw.columns[name][i] for name in key)
            if not all(value) or not all(checked.get(name, [True] * len(lines))[i]
                                         for name in key):
                continue
            if value in first_line:
                problems.append(Problem(file, line, label, ", ".join(value),
                                        f"duplicate key; first at line {first_line[value]}"))
            else:
                first_line[value] = line
    return problems


def _sorted(problems: list[Problem], headers: Mapping[str, Sequence[str]]) -> list[Problem]:
    """Order problems as a reader fixes them: by file (in ``headers`` order), line, column."""
    rank = {file: i for i, file in enumerate(headers)}
    position = {file: {name: i for i, name in enumerate(header)}
                for file, header in headers.items()}

    def order(problem: Problem) -> tuple[int, int, int]:
        columns = position.get(problem.file, {})
        return (rank.get(problem.file, len(rank)), problem.line,
                columns.get(problem.column, -1) if problem.column is not None else -1)

    return sorted(problems, key=order)


def _typed(raw: _Raw, dictionary: DataDictionary) -> pd.DataFrame:
    """Convert a validated text table to typed columns, in dictionary order."""
    columns = {}
    for spec in dictionary.columns:
        texts = raw.columns[spec.column]
        if spec.type == "integer":
            column = pd.array([int(v) if v else None for v in texts], dtype="Int64")
        elif spec.type == "number":
            column = np.array([float(v) if v else np.nan for v in texts], dtype=float)
        elif spec.type == "boolean":
            column = pd.array([v == "true" if v else None for v in texts], dtype="boolean")
        elif spec.type == "category":
            code = {value: i for i, value in enumerate(spec.allowed)}
            column = pd.Categorical.from_codes([code[v] if v else -1 for v in texts],
                                               categories=list(spec.allowed))
        elif spec.type == "date":
            column = np.array([v if v else "NaT" for v in texts], dtype="datetime64[s]")
        else:
            column = pd.array([v if v else None for v in texts], dtype="str")
        columns[spec.column] = column
    return pd.DataFrame(columns, index=pd.RangeIndex(len(raw)))


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
    return raw, dictionary, _sorted(problems, {raw.file: raw.header})


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
        cells a spreadsheet would run as formulas, and a malformed dictionary.

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


def _check_provenance(table: _Raw, dictionary: DataDictionary,
                      provenance: _Raw) -> tuple[list[Problem], ProvenanceCoverage]:
    """Every needs_source cell has a provenance row; every provenance row points at a cell."""
    problems: list[Problem] = []
    prov = provenance.columns
    needed = [spec.column for spec in dictionary.columns
              if spec.needs_source and spec.column in table.columns]
    key = dictionary.key
    keys = table.columns.get(key, [])
    row_of = {k: i for i, k in reversed(list(enumerate(keys)))}
    have = set()
    status_counts: Counter[str] = Counter()
    for j, line in enumerate(provenance.lines):
        row_id, column, status = prov["row_id"][j], prov["column"][j], prov["status"][j]
        if row_id not in row_of:
            if row_id != "":
                problems.append(Problem(provenance.file, line, "row_id", row_id,
                                        f"no row with this {key} in {table.file}"))
            continue
        if column not in dictionary:
            if column != "":
                problems.append(Problem(provenance.file, line, "column", column,
                                        f"not a column of {table.file}"))
            continue
        have.add((row_id, column))
        if status in PROVENANCE_STATUSES:
            status_counts[status] += 1
        if column not in table.columns:
            continue
        i = row_of[row_id]
        cell = table.columns[column][i]
        where = f"{table.file}:{table.lines[i]} column '{column}'"
        if status in ("reported", "derived") and cell == "":
            problems.append(Problem(provenance.file, line, "status", status,
                                    f"contradicts {where}, which is empty: fill the cell "
                                    "or record not_reported"))
        elif status == "not_reported" and cell not in ("", "not_reported"):
            # a category may spell out "not_reported"; any other value contradicts the status
            problems.append(Problem(provenance.file, line, "status", status,
                                    f"contradicts {where}, which holds {_show(cell)}: a "
                                    "value the sources do not give stays empty"))
        for needed_field, when in (("source", ("reported", "derived")),
                                   ("quote", ("reported",)),
                                   ("derivation", ("derived",)),
                                   ("note", ("not_reported",))):
            if status in when and needed_field in prov and prov[needed_field][j] == "":
                reason = " (the reason it is empty)" if needed_field == "note" else ""
                problems.append(Problem(provenance.file, line, needed_field, "",
                                        f"required when status is {status}{reason}"))
    covered = 0
    for i, row_id in enumerate(keys):
        if row_id == "":
            continue
        for column in needed:
            if (row_id, column) in have:
                covered += 1
            else:
                problems.append(Problem(table.file, table.lines[i], column,
                                        table.columns[column][i],
                                        f"no provenance row in {provenance.file} "
                                        f"for {key} {row_id!r}"))
    coverage = ProvenanceCoverage(
        file=provenance.file,
        cells_needing_source=len(table) * len(needed),
        cells_with_record=covered,
        by_status={s: status_counts[s] for s in PROVENANCE_STATUSES},
    )
    return problems, coverage


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
            if raw is not None and prov_raw is not None and all(
                    c in prov_raw.columns for c in ("row_id", "column", "status")):
                more, coverage = _check_provenance(raw, dictionary, prov_raw)
                problems = _sorted(problems + more, {raw.file: raw.header,
                                                     prov_raw.file: prov_raw.header})
    if problems:
        raise DataValidationError(problems)
    table = _typed(raw, dictionary)
    summary = _summary(raw.file, table, (dictionary.key,), coverage)
    return table, summary


def _summary(file: str, table: pd.DataFrame, key: tuple[str, ...],
             coverage: ProvenanceCoverage | None = None) -> ValidationSummary:
    def distinct(column: str) -> int | None:
        return int(table[column].nunique()) if column in table else None

    return ValidationSummary(file=file, rows=len(table), columns=len(table.columns), key=key,
                             studies=distinct("study_id"), cohorts=distinct("cohort_id"),
                             provenance=coverage)


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
        As :func:`load_table`.

    Raises
    ------
    DataValidationError
        Every problem of :func:`load_table` for the table and for ``provenance.csv``, plus:
        a ``needs_source`` cell without a provenance row, a provenance row whose ``row_id``
        or ``column`` does not exist in the table, a ``reported``/``derived`` record for an
        empty cell or a ``not_reported`` record for a cell holding a value (other than the
        category ``not_reported``), and a record missing the
        field its status needs (``source`` and ``quote`` for reported, ``source`` and
        ``derivation`` for derived, ``note`` giving the reason for not_reported).
    """
    path = DATA_DIR / "studies.csv" if path is None else Path(path)
    table, _ = _studies_with_provenance(
        path, None if provenance_path is None else Path(provenance_path))
    return table


def load_provenance(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``data/provenance.csv`` (key: ``row_id`` and ``column`` together)."""
    path = DATA_DIR / "provenance.csv" if path is None else Path(path)
    return load_table(path, key=PROVENANCE_KEY)


def load_claims(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``data/claims.csv``, the checked claims of the popular articles."""
    return load_table(DATA_DIR / "claims.csv" if path is None else Path(path))


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
