"""Checking a table's header and cells against its dictionary, and typing its columns."""

from __future__ import annotations

import datetime
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.data._csv import _bad_bytes_rule, _Raw
from analysis.data._records import (
    _ADDRESS_RE,
    _BAD_BYTE_RE,
    _BOUND_RE,
    _DATE_RE,
    _FORMULA_RULE,
    _INTEGER_RE,
    _META,
    _NUMBER_RE,
    _TAG_RE,
    DICTIONARY_COLUMNS,
    FORMULA_PREFIXES,
    IDENTIFIER_RULES,
    MARKUP_RULE_OFF_VARIABLE,
    ColumnSpec,
    DataDictionary,
    Problem,
    _invisible,
)

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
_IDENTIFIERS = {kind: (re.compile(pattern), rule)
                for kind, (pattern, rule) in IDENTIFIER_RULES.items()}
_MISTYPED_NEGATIVE = re.compile(r"-[0-9.]*")  # '-1.2.3', '-': a bad number, not a formula


def _is_real_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def markup_rule_on() -> bool:
    """Whether the markup rule applies (always, unless a test switched it off).

    The switch is the environment variable :data:`MARKUP_RULE_OFF_VARIABLE` set to ``1``,
    which the kernels of a report build inherit; it exists so that a test can build the
    report from markup and prove that the escaping alone keeps the pages safe
    (``tests/hostile_data.py``). It is no way around validation for a user.
    """
    return os.environ.get(MARKUP_RULE_OFF_VARIABLE) != "1"


def _markup_rule(text: str) -> str | None:
    """The markup rule: no HTML tag, no javascript: or data: address, no invisible character.

    >>> _markup_rule("<50 % in a < b > c") is None
    True
    >>> _markup_rule("Smith <b>2011</b>")
    "looks like an HTML tag ('<' then a letter, '/', '!' or '?'); text from the data is shown as text, never as markup: remove the tag, or put a space after '<'"
    >>> _markup_rule("Noppers\u202e 2011")
    'holds the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE), which can reorder or hide text; delete it'
    """
    hidden = None
    if not (text.isascii() and text.isprintable()):  # printable ASCII hides nothing: no scan
        hidden = next((c for c in text if _invisible(c)), None)
    if hidden is not None:
        name = unicodedata.name(hidden, "a control character")
        return (f"holds the invisible character U+{ord(hidden):04X} ({name}), which can reorder "
                "or hide text; delete it")
    if _TAG_RE.search(text):
        return ("looks like an HTML tag ('<' then a letter, '/', '!' or '?'); text from the data is "
                "shown as text, never as markup: remove the tag, or put a space after '<'")
    if _ADDRESS_RE.search(text):
        return "holds a javascript: or data: address, which a browser would run or load; remove it"
    return None


def _cell_rule(text: str, spec: ColumnSpec, allowed: frozenset[str], markup: bool = True) -> str | None:
    """The first rule ``text`` breaks in a column described by ``spec``, or None.

    One cell gets one message, the most basic broken rule: encoding, whitespace, missing,
    markup (unless ``markup`` is false), formula, type. Bounds need the whole row and are
    checked afterwards.
    """
    if _BAD_BYTE_RE.search(text):
        return _bad_bytes_rule(text)
    if text != text.strip():
        return "leading or trailing whitespace"
    if text == "":
        return "missing required value" if spec.required else None
    if markup and (rule := _markup_rule(text)) is not None:
        return rule
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
    if kind in _IDENTIFIERS and not _IDENTIFIERS[kind][0].fullmatch(text):
        return _IDENTIFIERS[kind][1]
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
    markup = markup_rule_on()
    for spec in present:
        allowed = frozenset(spec.allowed)
        ok = []
        for line, text in zip(lines, raw.columns[spec.column]):
            rule = _cell_rule(text, spec, allowed, markup)
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
    table = pd.DataFrame(columns, index=pd.RangeIndex(len(raw)))
    table.attrs.update(file=raw.file, lines=list(raw.lines))  # where each row is, for messages
    return table


