"""Registered trials tracked (issue 20): status of the copy used, dates, the "results overdue" flag."""

from datetime import date

import pandas as pd
import pytest

from analysis import AnalysisError
from analysis.data import load_registrations
from analysis.review.registrations import registry_date, results_overdue, trial_registrations

AS_OF = "2026-06-15"


def _copies(**changes):
    """Two made-up copies of one made-up trial; ``changes`` set columns of the second."""
    rows = pd.DataFrame({
        "record_id": ["a_old", "a_new"], "study_id": ["a", "a"], "registry_id": ["NCT00000001"] * 2,
        "status": ["recruiting", "terminated"], "start_date": ["2020-01", ""],
        "completion_date": ["2024-05", ""], "completion_kind": ["primary_completion", None],
        "results_posted": ["not_shown", "not_shown"], "used": [False, True],
        "checked_on": pd.to_datetime(["2026-01-01", AS_OF]), "note": ["", "terminated: the later state"]})
    for column, value in changes.items():
        rows.loc[1, column] = value
    return rows


@pytest.mark.parametrize("completion, posted, expected", [
    ("2025-06-14", False, True),    # 12 months and a day before the data version: overdue
    ("2025-06-15", False, False),   # exactly 12 months: not yet
    ("2025-06", False, False),      # a month counts as its last day: 30 June 2025
    ("2025-05", False, True),
    ("2024-05", True, False),       # results posted: never overdue
    ("", False, None),              # no completion date: unknown, not "not overdue"
])
def test_results_overdue_on_made_up_dates(completion, posted, expected):
    assert results_overdue(registry_date(completion), posted, date(2026, 6, 15)) is expected


def test_the_used_copy_gives_the_status_and_the_others_are_kept():
    trial = trial_registrations(_copies()).iloc[0]
    assert trial["status"] == "terminated" and trial["other_statuses"] == ("recruiting",)
    assert trial["completion"] == date(2024, 5, 31) and trial["start"] == date(2020, 1, 31)
    assert trial["as_of"] == date(2026, 6, 15) and trial["overdue"] is True


def test_the_latest_completion_of_any_copy_is_taken():
    trial = trial_registrations(_copies(completion_date="2025-09", completion_kind="study_completion")).iloc[0]
    assert trial["completion"] == date(2025, 9, 30) and trial["overdue"] is False


def test_results_in_any_copy_clear_the_flag():
    assert trial_registrations(_copies(results_posted="yes")).iloc[0]["overdue"] is False


def test_exactly_one_copy_is_used_and_dates_are_checked():
    with pytest.raises(AnalysisError, match="2 copies are marked used"):
        trial_registrations(_copies().assign(used=True))
    with pytest.raises(AnalysisError, match="record 'a_new': completion_date: value '2025/09'"):
        trial_registrations(_copies(completion_date="2025/09"))


def test_the_real_registrations():
    """ESKEFIB is terminated (not listed as ongoing without saying so); its copies disagree."""
    trials = trial_registrations(load_registrations()).set_index("study_id")
    assert trials.loc["eskefib_nct04436250", "status"] == "terminated"
    assert "recruiting" in trials.loc["eskefib_nct04436250", "other_statuses"]
    assert trials.loc["nct07230171", "overdue"] is None  # no completion date in its stored copy
