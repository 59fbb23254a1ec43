"""Data dictionaries: read and check ``X.dictionary.csv``, the schema of ``X.csv``."""

from __future__ import annotations

import re
from pathlib import Path

from analysis.data._cells import _check_cells, _check_header, _sorted
from analysis.data._csv import _read_csv
from analysis.data._records import (
    _BAD_BYTE_RE,
    _BOUND_RE,
    _META,
    _NAME_RE,
    COLUMN_TYPES,
    DICTIONARY_COLUMNS,
    ColumnSpec,
    DataDictionary,
    DataValidationError,
    Problem,
    _display,
)

# ------------------------------------------------------------------------ dictionary

# The dictionary of dictionaries: a data dictionary is itself checked by the same rules.


def load_dictionary(path: str | Path) -> DataDictionary:
    """Read and check a data dictionary.

    Parameters
    ----------
    path : str or Path
        A ``X.dictionary.csv`` file with the columns
        ``column,type,unit,required,allowed,minimum,maximum,needs_source,description,label,
        category_labels`` (the last two: a reader's name for the column, and one for each
        allowed value, in order).

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
    >>> from analysis.data import DATA_DIR
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
        problems += [Problem(file, int(line), column, row[column], rule)
                     for column, rule in _entry_problems(row, entries, numeric)]
    if rows and rows[0]["required"] == "no":
        problems.append(Problem(file, int(lines[0]), "required", "no",
                                "the first entry is the key column and must be required"))
    if problems:
        raise DataValidationError(_sorted(problems, {raw.file: raw.header}))
    return DataDictionary(file, tuple(_column_spec(line, row) for line, row in zip(lines, rows)))


def _entry_problems(row: dict, entries: dict, numeric: set[str]) -> list[tuple[str, str]]:
    """The rules one dictionary entry breaks, as (column of the dictionary, rule)."""
    name = row["column"]
    out = []
    if name and name.strip() == name and not re.fullmatch(_NAME_RE, name):
        out.append(("column", "column names must be snake_case (a-z, 0-9, _; a letter first)"))
    out += _allowed_problems(row)
    out += _category_label_problems(row)
    out += _bound_problems(row, entries, numeric)
    return out


def _allowed_problems(row: dict) -> list[tuple[str, str]]:
    """``allowed``: required on a category column, '|'-separated, no repeats; else empty."""
    ctype = row["type"]
    if ctype == "category":
        if not row["allowed"]:
            return [("allowed", "a category column needs its allowed values, separated by '|'")]
        values = row["allowed"].split("|")
        out = []
        if any(v == "" or v != v.strip() for v in values):
            out.append(("allowed", "allowed values must be non-empty and separated by "
                                   "'|' without spaces"))
        duplicated = sorted({v for v in values if values.count(v) > 1})
        if duplicated:
            out.append(("allowed", f"allowed value listed twice: {', '.join(duplicated)}"))
        return out
    if row["allowed"] and ctype in COLUMN_TYPES:
        return [("allowed", f"allowed values apply only to category columns, not to a {ctype} column")]
    return []


def _category_label_problems(row: dict) -> list[tuple[str, str]]:
    """``category_labels``: one reader label per allowed value of a category column."""
    if not row["category_labels"]:
        return []
    labels = row["category_labels"].split("|")
    n_allowed = len(row["allowed"].split("|"))
    if row["type"] != "category":
        return [("category_labels", "category labels apply only to category columns")]
    if len(labels) != n_allowed:
        return [("category_labels", f"{len(labels)} labels for {n_allowed} allowed values; give one "
                                    "label per value, in the same order")]
    if any(label.strip() != label or not label for label in labels):
        return [("category_labels", "labels must be non-empty and separated by '|' without spaces")]
    return []


def _bound_problems(row: dict, entries: dict, numeric: set[str]) -> list[tuple[str, str]]:
    """``minimum``/``maximum``: a number or a numeric column (optionally exclusive), on a
    numeric column, not itself, and the minimum not above the maximum."""
    name, ctype = row["column"], row["type"]
    out = []
    for bound, op in (("minimum", ">"), ("maximum", "<")):
        text = row[bound]
        if not text or _BAD_BYTE_RE.search(text) or text != text.strip():
            continue
        match = _BOUND_RE.fullmatch(text)
        if ctype not in ("integer", "number") and ctype in COLUMN_TYPES:
            out.append((bound, f"bounds apply only to integer and number columns, "
                               f"not to a {ctype} column"))
        elif match is None or match["op"] not in ("", op):
            out.append((bound, f"a {bound} must be a number or the name of a numeric column"
                               f" (optionally prefixed with '{op}' for an exclusive bound)"))
        elif match["name"] is not None and match["name"] not in entries:
            out.append((bound, f"no column {match['name']!r} in this dictionary"))
        elif match["name"] is not None and match["name"] not in numeric:
            out.append((bound, f"column {match['name']!r} is not an integer or number column"))
        elif match["name"] == name:
            out.append((bound, "a column cannot bound itself"))
    low, high = (_BOUND_RE.fullmatch(row[b] or "") for b in ("minimum", "maximum"))
    if (low and high and low["number"] is not None and high["number"] is not None
            and float(low["number"]) > float(high["number"])):
        out.append(("maximum", f"maximum is less than the minimum {row['minimum']}"))
    return out


def _column_spec(line: int, row: dict) -> ColumnSpec:
    """A checked dictionary entry as a :class:`ColumnSpec`."""
    return ColumnSpec(
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
        label=row["label"],
        category_labels=tuple(row["category_labels"].split("|")) if row["category_labels"] else (),
    )

def dictionary_path_for(path: str | Path) -> Path:
    """The dictionary that describes ``path``: ``X.dictionary.csv`` beside ``X.csv``.

    >>> dictionary_path_for("data/studies.csv").as_posix()
    'data/studies.dictionary.csv'
    """
    path = Path(path)
    return path.with_name(path.stem + ".dictionary.csv")
