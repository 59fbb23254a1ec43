"""Rules between the columns of one row that the dictionaries state in words.

A dictionary entry says what one column may hold; a few of its descriptions also tie columns
together ("Protocol window from timepoint_hours: during_or_immediate <= 4 h; ..."). Those
sentences are checked here, each rule applied to any table that has its columns, and each
message names both cells. ``tests/test_data_validation.py`` checks that the descriptions in
``data/studies.dictionary.csv`` still say what these rules check.

Cells that fail their own column's rules (a time point that is not a number) are left to
those messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from analysis.data._csv import _Raw
from analysis.data._records import Problem

#: The windows of ``time_window`` in hours after the infusion, as its dictionary entry words
#: them: (name, lower bound, lower bound inclusive, upper bound, upper bound inclusive).
WINDOW_HOURS = (
    ("during_or_immediate", 0.0, True, 4.0, True),
    ("short_term", 4.0, False, 168.0, True),
    ("medium_term", 168.0, False, 1344.0, False),
    ("long_term", 1344.0, True, math.inf, False),
)

#: Designs whose rows the ``include_in_pooling`` entry says are never pooled.
NEVER_POOLED = ("case_report", "registered_trial")


def window_of(hours: float) -> str:
    """The ``time_window`` a time point falls in, by the dictionary's words.

    >>> window_of(1), window_of(4), window_of(4.5), window_of(168), window_of(1344)
    ('during_or_immediate', 'during_or_immediate', 'short_term', 'short_term', 'long_term')
    """
    for name, low, low_in, high, high_in in WINDOW_HOURS:
        if (hours > low or (low_in and hours == low)) and (hours < high or (high_in and hours == high)):
            return name
    raise ValueError(f"no window holds {hours} hours")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _window_matches_hours(row: Mapping[str, str]) -> tuple[str, str] | None:
    hours = _number(row["timepoint_hours"])
    if hours is None or hours < 0 or row["time_window"] == "":
        return None
    expected = window_of(hours)
    if row["time_window"] == expected:
        return None
    return ("time_window", f"timepoint_hours is {row['timepoint_hours']}, which falls in "
                           f"{expected} (the dictionary: during_or_immediate <= 4 h; short_term "
                           "> 4 h to <= 168 h; medium_term > 168 h to < 1344 h; long_term >= 1344 h)")


def _pooled_rows_have_a_year(row: Mapping[str, str]) -> tuple[str, str] | None:
    if row["include_in_pooling"] == "true" and row["year"] == "":
        return ("year", "missing: every row with include_in_pooling = true has a year "
                        "(the cumulative analysis orders by it)")
    return None


def _unpooled_rows_say_why(row: Mapping[str, str]) -> tuple[str, str] | None:
    if row["include_in_pooling"] == "false" and row["exclusion_reason"] == "":
        return ("exclusion_reason", "missing: a row with include_in_pooling = false says why")
    return None


def _never_pooled_designs(row: Mapping[str, str]) -> tuple[str, str] | None:
    if row["design"] in NEVER_POOLED and row["include_in_pooling"] == "true":
        return ("include_in_pooling", f"a {row['design']} row is never pooled (protocol); "
                                      "write false and give the exclusion_reason")
    return None


@dataclass(frozen=True)
class RowRule:
    """A rule over some columns of one row: ``check`` returns (column, rule) when broken."""

    columns: tuple[str, ...]
    check: Callable[[Mapping[str, str]], tuple[str, str] | None]


#: Every cross-column rule; a table with all of a rule's columns is checked by it.
ROW_RULES = (
    RowRule(("time_window", "timepoint_hours"), _window_matches_hours),
    RowRule(("include_in_pooling", "year"), _pooled_rows_have_a_year),
    RowRule(("include_in_pooling", "exclusion_reason"), _unpooled_rows_say_why),
    RowRule(("design", "include_in_pooling"), _never_pooled_designs),
)


def check_rows(raw: _Raw) -> list[Problem]:
    """Every broken cross-column rule of ``raw``, one message per row and rule."""
    problems = []
    for rule in ROW_RULES:
        if not all(column in raw.columns for column in rule.columns):
            continue
        for i, line in enumerate(raw.lines):
            row = {column: raw.columns[column][i] for column in rule.columns}
            broken = rule.check(row)
            if broken is not None:
                column, text = broken
                problems.append(Problem(raw.file, line, column, raw.columns[column][i], text))
    return problems
