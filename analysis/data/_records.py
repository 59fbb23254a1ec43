"""Constants and result records of data validation: problems, dictionaries, summaries."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.data.paths import DATA_DIR, REPO_ROOT  # noqa: F401  (re-exported)
from analysis.engine._errors import AnalysisError


COLUMN_TYPES = ("string", "integer", "number", "boolean", "category", "date", "doi", "pmid", "url")
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
    "label",
    "category_labels",
)
#: What ``python -m analysis new-study`` writes in a cell the curator must fill from the
#: source; validation lists every such cell, row by row, until none is left.
FILL_MARKER = "TO_FILL"

PROVENANCE_STATUSES = ("reported", "derived", "not_reported")
#: How certain a recorded value is (``certainty`` of ``provenance.csv``): stated in the quote,
#: computed by arithmetic from stated numbers, inferred from wording; not_applicable for
#: not_reported cells, which hold no value.
PROVENANCE_CERTAINTIES = ("stated", "computed", "inferred", "not_applicable")
#: What each certainty needs in ``derivation``, in the words of the validator's message.
CERTAINTY_NEEDS = {"computed": "the arithmetic from the stated numbers",
                   "inferred": "the reasoning from the source's wording"}
#: The certainty a status allows (a reported value is stated; a missing one has no certainty).
CERTAINTY_OF_STATUS = {"reported": ("stated",), "derived": ("stated", "computed", "inferred"),
                       "not_reported": ("not_applicable",)}
PROVENANCE_KEY = ("row_id", "column")
#: Column ``load_studies`` adds to the study table: the row's inferred columns, "|"-joined.
INFERRED_VALUES = "inferred_values"
INFERRED_SEPARATOR = "|"

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
#: Identifier types: the pattern a cell must match and the rule its message states.
IDENTIFIER_RULES = {
    "doi": (r"10\.[0-9]{4,9}/\S+", "not a DOI; write it as 10.xxxx/suffix, without 'doi:' or https://doi.org/"),
    "pmid": (r"[1-9][0-9]{0,8}", "not a PMID; write the PubMed number only (digits)"),
    "url": (r"https?://\S+", "not a URL; write it in full with http:// or https://"),
}
#: Markup in text (the markup rule). A browser starts a tag, an end tag, a comment or a
#: declaration at '<' followed by a letter, '/', '!' or '?', so "<50 %" and "a < b > c" are text.
_TAG_RE = re.compile(r"<[A-Za-z/!?]")
#: Addresses a browser runs (javascript:, vbscript:) or loads from the text itself (data:).
_ADDRESS_RE = re.compile(r"\b(?:javascript|vbscript)\s*:|\bdata:\s*(?:[a-z]+/[a-z0-9.+-]+|[,;])", re.IGNORECASE)
#: Invisible characters: controls other than tab and line breaks (Unicode Cc), format characters
#: (Cf: bidirectional overrides and isolates, zero-width spaces and joiners, soft hyphens, tag
#: characters) and the line and paragraph separators (Zl, Zp). They can reorder or hide text
#: ("Trojan Source"); right-to-left *letters* (Arabic, Hebrew) are not among them.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_VISIBLE_CONTROLS = frozenset("\t\n\r")
#: Environment variable that switches the markup rule off when set to "1". For tests only
#: (tests/hostile_data.py builds a report from markup to prove that escaping alone holds);
#: no command-line option or documented setting of the project sets it.
MARKUP_RULE_OFF_VARIABLE = "ANALYSIS_TESTS_ONLY_MARKUP_RULE_OFF"
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
    label : str
        The column's name for readers (table headers); empty: the column name.
    category_labels : tuple of str
        A reader's label for each of ``allowed``, in the same order; empty: the codes.
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
    label: str = ""
    category_labels: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        """The column's header for readers: its label, with the unit in brackets.

        >>> ColumnSpec("dose_mg_per_kg", "number", unit="mg/kg", label="Dose").header
        'Dose (mg/kg)'
        """
        name = self.label or self.column
        return f"{name} ({self.unit})" if self.unit and self.unit not in name else name

    def value_label(self, value) -> str:
        """A category code as readers see it (the code itself when it has no label).

        >>> ColumnSpec("route", "category", allowed=("iv", "sc"), category_labels=("Intravenous", "Subcutaneous")).value_label("sc")
        'Subcutaneous'
        """
        if value in self.allowed and self.category_labels:
            return self.category_labels[self.allowed.index(value)]
        return str(value)


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
    inferred : Mapping[str, tuple of str] or None
        For each ``row_id``, the columns whose recorded value is inferred from wording
        (``certainty = inferred``); rows without any are absent. None when the provenance
        records no certainty.
    """

    file: str
    cells_needing_source: int
    cells_with_record: int
    by_status: Mapping[str, int] = field(default_factory=dict)
    inferred: Mapping[str, tuple[str, ...]] | None = None


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
        Distinct ``cohort_id`` values (studies: trials or cohorts), when present.
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


#: The dictionary of data dictionaries: what a ``*.dictionary.csv`` itself must hold.
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
        ColumnSpec("label", "string"),
        ColumnSpec("category_labels", "string"),
    ),
)


# ------------------------------------------------------------------------ messages


def _display(path: Path) -> str:
    """The path as shown in messages: repository-relative when inside the repository."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES and char not in _VISIBLE_CONTROLS


def _show(text: str) -> str:
    """Quote a cell for a message: invalid bytes as \\xNN, line breaks escaped, invisible
    characters as \\uXXXX (a right-to-left override would reorder the message), long cut."""
    if len(text) > _VALUE_SHOWN:
        text = text[: _VALUE_SHOWN - 3] + "..."
    text = _BAD_BYTE_RE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    text = "".join(f"\\u{ord(c):04x}" if _invisible(c) else c for c in text)
    return f"'{text}'"
