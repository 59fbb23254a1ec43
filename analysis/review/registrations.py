"""Registered trials tracked: status, dates, results, and whether results are overdue.

``data/registrations.csv`` holds one row per registry record (or third-party copy of it)
read for this data version, each with its words quoted. :func:`trial_registrations` turns
them into one row per registered trial:

- **status**: the status of the copy marked ``used`` (its ``note`` says why, e.g. when copies
  disagree), with the statuses of the other copies beside it;
- **completion**: the latest completion date any copy gives (a primary completion date where
  given; a study completion is never earlier than the primary completion, so taking the latest
  date can only delay the flag, never raise it early);
- **results overdue** (protocol, third amendment): the completion date lies more than
  :data:`OVERDUE_AFTER_MONTHS` months before the data version's date (the latest ``checked_on``)
  and no copy shows results. Without a completion date the flag is unknown (None), never False.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

import pandas as pd

from analysis.engine._errors import AnalysisError

#: Results are overdue this many months after the (primary) completion date (protocol).
OVERDUE_AFTER_MONTHS = 12

_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?")


def registry_date(text, *, where: str = "") -> date | None:
    """A registry date written ``YYYY-MM-DD`` or ``YYYY-MM`` (a month counts as its last day).

    >>> registry_date("2024-03"), registry_date("2022-09-30"), registry_date("")
    (datetime.date(2024, 3, 31), datetime.date(2022, 9, 30), None)
    """
    if text is None or (isinstance(text, float) and pd.isna(text)) or str(text).strip() == "":
        return None
    match = _DATE.fullmatch(str(text).strip())
    try:
        year, month = int(match["year"]), int(match["month"])
        day = int(match["day"]) if match["day"] else calendar.monthrange(year, month)[1]
        return date(year, month, day)
    except (TypeError, ValueError):
        raise AnalysisError(f"{where}value {str(text)!r}: not a registry date; write YYYY-MM-DD, or YYYY-MM "
                            "when the registry gives only the month") from None


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the last day of a shorter month when needed).

    >>> add_months(date(2024, 1, 31), 1), add_months(date(2023, 3, 31), 12)
    (datetime.date(2024, 2, 29), datetime.date(2024, 3, 31))
    """
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def results_overdue(completion: date | None, results_posted: bool, as_of: date) -> bool | None:
    """Whether a trial's results are overdue on ``as_of``.

    True when no results are posted and ``completion`` plus :data:`OVERDUE_AFTER_MONTHS`
    months lies before ``as_of``; None when the completion date is unknown.

    >>> results_overdue(date(2024, 3, 31), False, date(2026, 12, 6))
    True
    >>> results_overdue(date(2025, 12, 30), False, date(2026, 12, 6)), results_overdue(None, False, date(2026, 12, 6))
    (False, None)
    """
    if results_posted:
        return False
    if completion is None:
        return None
    return add_months(completion, OVERDUE_AFTER_MONTHS) < as_of


def trial_registrations(registrations: pd.DataFrame) -> pd.DataFrame:
    """One row per registered trial from the registry copies of ``data/registrations.csv``.

    Returns
    -------
    DataFrame
        ``study_id, registry_id, status, other_statuses`` (the other copies' statuses, in
        the order read, without repeats), ``start`` (earliest date given), ``completion``
        (latest date given, a ``date`` or None), ``completion_kind``, ``results_posted``
        (any copy shows results), ``overdue`` (True, False or None), ``as_of`` (the data
        version's date), ``note`` (of the used copy).

    Raises
    ------
    AnalysisError
        When a trial has no copy marked ``used`` or more than one, or a date is malformed.
    """
    as_of = pd.Timestamp(registrations["checked_on"].max()).date()
    trials = []
    for study_id, copies in registrations.groupby("study_id", sort=False):
        used = copies[copies["used"].astype(bool)]
        if len(used) != 1:
            raise AnalysisError(f"data/registrations.csv: study_id {study_id!r}: {len(used)} copies are marked "
                                "used; mark exactly one (the copy whose status the review reports)")
        chosen = used.iloc[0]
        dated = [(registry_date(row["completion_date"], where=f"record {row['record_id']!r}: completion_date: "),
                  row["completion_kind"]) for _, row in copies.iterrows()]
        dated = [(day, kind) for day, kind in dated if day is not None]
        starts = [registry_date(text, where=f"study_id {study_id!r}: start_date: ") for text in copies["start_date"]]
        starts = [day for day in starts if day is not None]
        completion, kind = max(dated, key=lambda pair: pair[0]) if dated else (None, None)
        posted = bool((copies["results_posted"] == "yes").any())
        others = [s for s in dict.fromkeys(copies["status"]) if s not in (chosen["status"], "not_shown")]
        trials.append({
            "study_id": study_id, "registry_id": chosen["registry_id"], "status": chosen["status"],
            "other_statuses": tuple(others), "start": min(starts) if starts else None, "completion": completion,
            "completion_kind": kind, "results_posted": posted,
            "overdue": results_overdue(completion, posted, as_of), "as_of": as_of, "note": chosen["note"],
        })
    frame = pd.DataFrame(trials)
    frame["overdue"] = pd.Series([trial["overdue"] for trial in trials], index=frame.index, dtype=object)
    return frame
