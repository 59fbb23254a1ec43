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
        if row["category_labels"]:
            labels = row["category_labels"].split("|")
            if ctype != "category":
                problem("category_labels", "category labels apply only to category columns")
            elif len(labels) != len(row["allowed"].split("|")):
                problem("category_labels", f"{len(labels)} labels for {len(row['allowed'].split('|'))} "
                                           "allowed values; give one label per value, in the same order")
            elif any(label.strip() != label or not label for label in labels):
                problem("category_labels", "labels must be non-empty and separated by '|' without spaces")
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
            label=row["label"],
            category_labels=tuple(row["category_labels"].split("|")) if row["category_labels"] else (),
        )
        for line, row in zip(lines, rows)
    )
    return DataDictionary(file, columns)


def dictionary_path_for(path: str | Path) -> Path:
    """The dictionary that describes ``path``: ``X.dictionary.csv`` beside ``X.csv``.

    >>> dictionary_path_for("data/studies.csv").as_posix()
    'data/studies.dictionary.csv'
    """
    path = Path(path)
    return path.with_name(path.stem + ".dictionary.csv")
