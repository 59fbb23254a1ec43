"""Which rows of the study table each analysis pools.

The notebooks, the claims check and the GRADE table select rows through these
functions, so that a number in a sentence and the forest plot beside it rest
on the same studies.
"""

from __future__ import annotations

import pandas as pd

from analysis._errors import check_option

#: The protocol's time windows after the infusion, in order (data/README.md gives the rules).
TIME_WINDOWS = ("during_or_immediate", "short_term", "medium_term", "long_term")

#: Window of the primary analyses (response rate, controlled comparison) and of claims that give none.
PRIMARY_WINDOW = "during_or_immediate"


def as_flag(series: pd.Series) -> pd.Series:
    """A nullable boolean column as plain booleans, missing counted as False."""
    return series.astype("boolean").fillna(False).astype(bool)


def response_rate_rows(studies: pd.DataFrame, time_window: str = PRIMARY_WINDOW, *,
                       include_unstated_time: bool = True, exclude=()) -> pd.DataFrame:
    """Rows pooled for the response rate in ketamine arms, as notebook 02 selects them.

    Responder rows with ``include_in_pooling`` in ``time_window`` (and, with
    ``include_unstated_time``, rows whose source gives no time), minus ``exclude``
    (study_ids); one row per patient sample (``cohort_id``), the earliest time point;
    ordered by year and label.
    """
    check_option("time_window", time_window, TIME_WINDOWS)
    rows = studies[(studies["outcome"] == "responders") & as_flag(studies["include_in_pooling"])
                   & ~studies["study_id"].isin(list(exclude))]
    windows = [time_window, "not_reported"] if include_unstated_time else [time_window]
    rows = rows[rows["time_window"].isin(windows) & rows["ketamine_events"].notna()]
    rows = rows.sort_values(["cohort_id", "timepoint_hours"]).drop_duplicates("cohort_id")
    return rows.sort_values(["year", "study_label"])


def controlled_rows(studies: pd.DataFrame, time_window: str = PRIMARY_WINDOW, *, exclude=()) -> pd.DataFrame:
    """Rows with responders counted in both arms in ``time_window``, as notebook 03 selects them.

    One row per patient sample (the earliest time point in the window).
    """
    check_option("time_window", time_window, TIME_WINDOWS)
    rows = studies[(studies["outcome"] == "responders") & as_flag(studies["include_in_pooling"])
                   & studies["control_events"].notna() & (studies["time_window"] == time_window)
                   & ~studies["study_id"].isin(list(exclude))]
    return rows.sort_values(["cohort_id", "timepoint_hours"]).drop_duplicates("cohort_id")
