"""Which rows of the study table each analysis pools.

The analysis plan (:mod:`analysis.review.plan`), and through it the notebooks, the
claims check and the GRADE table, select rows through these functions, so that
a number in a sentence and the forest plot beside it rest on the same studies.

Rules (protocol, ``data/README.md``)
------------------------------------
- One row per independent patient sample (``cohort_id``): the earliest time
  point in the window.
- Rows flagged ``include_in_pooling``, unless a responder threshold other than
  the studies' own is asked for: then every row with that threshold counts
  (a sample's pooled row first), because a study's row at a common threshold
  is often flagged as a sensitivity-only row.
- Case reports are described, never pooled; registered trials without results
  have nothing to pool (:data:`analysis.review.protocol.NEVER_POOLED_DESIGNS`).
- Sensitivity analysis "stated and computed values only" (``include_inferred=False``):
  :func:`stated_and_computed` first.
"""

from __future__ import annotations

import pandas as pd

from analysis.data import INFERRED_SEPARATOR, INFERRED_VALUES, STUDY_NAMES
from analysis.engine._errors import AnalysisError, check_option
from analysis.review.protocol import (
    ANALYSED_VALUES,
    NEVER_POOLED_DESIGNS,
    PRIMARY_WINDOW,
    TIME_WINDOWS,
    UNCONTROLLED_DESIGNS,
)

__all__ = ["DESIGN_SETS", "as_flag", "controlled_rows", "inferred", "response_rate_rows", "select_designs",
           "stated_and_computed", "without"]

#: Which designs an analysis pools (the explorer's and the multiverse's choice), in the words
#: readers see everywhere (lower case, as inside a sentence; a control capitalises the first letter).
DESIGN_SETS = {
    "all": "every eligible design (never case reports)",
    "controlled": "controlled studies only",
    "randomised": "randomised trials only",
}


def as_flag(series: pd.Series) -> pd.Series:
    """A nullable boolean column as plain booleans, missing counted as False."""
    return series.astype("boolean").fillna(False).astype(bool)


def excluded_ids(studies: pd.DataFrame, exclude=()) -> tuple[str, ...]:
    """The ``study_id`` values that ``exclude`` names, each by its id or by the label readers see.

    Names are checked against every study of the data file (``load_studies`` records them, and
    a subset of its rows keeps the record), else against the rows given. A name that matches no
    study is refused, never ignored: leaving a study out by a misspelt name would otherwise
    change nothing without a word.

    >>> studies = pd.DataFrame({"study_id": ["noppers2011", "cohen2006"],
    ...                         "study_label": ["Noppers 2011", "Cohen 2006"]})
    >>> excluded_ids(studies, ["Noppers 2011", "cohen2006"])
    ('noppers2011', 'cohen2006')
    >>> excluded_ids(studies, ["Nobody 1999"])
    Traceback (most recent call last):
    ...
    analysis.engine._errors.AnalysisError: exclude: 'Nobody 1999' matches no study; name a study by its id or label: cohen2006 (Cohen 2006), noppers2011 (Noppers 2011)
    """
    names = studies.attrs.get(STUDY_NAMES) or dict(zip(studies["study_id"], studies.get("study_label", studies["study_id"])))
    by_name = {**{label: study for study, label in names.items()}, **{study: study for study in names}}
    unknown = [name for name in exclude if name not in by_name]
    if unknown:
        valid = ", ".join(f"{study} ({names[study]})" for study in sorted(names))
        listed = ", ".join(repr(name) for name in unknown)
        raise AnalysisError(f"exclude: {listed} {'matches' if len(unknown) == 1 else 'match'} no study; "
                            f"name a study by its id or label: {valid}")
    return tuple(dict.fromkeys(by_name[name] for name in exclude))


def without(studies: pd.DataFrame, exclude=()) -> pd.DataFrame:
    """``studies`` minus the studies that ``exclude`` names (ids or labels; see :func:`excluded_ids`)."""
    if not len(exclude):
        return studies
    return studies[~studies["study_id"].isin(excluded_ids(studies, exclude))]


def inferred(studies: pd.DataFrame, column: str) -> pd.Series:
    """Whether each row's ``column`` holds a value inferred from wording (provenance ``certainty``).

    Needs the ``inferred_values`` column that :func:`analysis.data.load_studies` adds.
    """
    if INFERRED_VALUES not in studies.columns:
        raise AnalysisError(f"the study table has no {INFERRED_VALUES!r} column, so which values are inferred "
                            "is unknown: load it with analysis.data.load_studies (its provenance records the "
                            "certainty of each value)")
    return studies[INFERRED_VALUES].map(lambda names: column in str(names).split(INFERRED_SEPARATOR))


def stated_and_computed(studies: pd.DataFrame) -> pd.DataFrame:
    """``studies`` without inferred numbers: rows with an inferred value of
    :data:`analysis.review.protocol.ANALYSED_VALUES` left out, an inferred time window made unstated
    (``not_reported``), as if the reasoning behind them had not been made."""
    keep = ~pd.concat([inferred(studies, column) for column in ANALYSED_VALUES], axis=1).any(axis=1)
    rows = studies[keep]
    window = inferred(rows, "time_window")
    if window.any():
        rows = rows.assign(time_window=rows["time_window"].astype(object).where(~window, "not_reported"))
    return rows


def _poolable_responders(studies: pd.DataFrame, responder_threshold: float | None) -> pd.DataFrame:
    rows = studies[(studies["outcome"] == "responders") & studies["ketamine_events"].notna()
                   & ~studies["design"].isin(NEVER_POOLED_DESIGNS)]
    if responder_threshold is None:
        return rows[as_flag(rows["include_in_pooling"])]
    rows = rows[rows["responder_threshold_percent"] == responder_threshold]
    return rows.assign(_pooled=as_flag(rows["include_in_pooling"]))


def _one_per_sample(rows: pd.DataFrame) -> pd.DataFrame:
    """The earliest row of each patient sample (a pooled row before a sensitivity-only one)."""
    keys, ascending = ["cohort_id", "timepoint_hours"], [True, True]
    if "_pooled" in rows.columns:
        keys, ascending = ["cohort_id", "_pooled", "timepoint_hours"], [True, False, True]
    rows = rows.sort_values(keys, ascending=ascending).drop_duplicates("cohort_id")
    return rows.drop(columns="_pooled", errors="ignore")


def response_rate_rows(studies: pd.DataFrame, time_window: str = PRIMARY_WINDOW, *,
                       include_unstated_time: bool = True, exclude=(),
                       responder_threshold: float | None = None, include_inferred: bool = True) -> pd.DataFrame:
    """Rows pooled for the response rate in ketamine arms.

    Responder rows in ``time_window`` (and, with ``include_unstated_time``, rows whose
    source gives no time), minus ``exclude`` (study_ids); with ``responder_threshold``
    (percent) only rows at that threshold; without ``include_inferred``, only rows whose
    numbers are stated or computed (:func:`stated_and_computed`); one row per patient
    sample; ordered by year and label.
    """
    check_option("time_window", time_window, TIME_WINDOWS)
    studies = without(studies, exclude)  # names are checked against every row, before any is set aside
    studies = studies if include_inferred else stated_and_computed(studies)
    rows = _poolable_responders(studies, responder_threshold)
    windows = [time_window, "not_reported"] if include_unstated_time else [time_window]
    rows = _one_per_sample(rows[rows["time_window"].isin(windows)])
    return rows.sort_values(["year", "study_label"])


def controlled_rows(studies: pd.DataFrame, time_window: str = PRIMARY_WINDOW, *, exclude=(),
                    responder_threshold: float | None = None, include_inferred: bool = True) -> pd.DataFrame:
    """Rows with responders counted in both arms in ``time_window``; one per patient sample
    (without ``include_inferred``, only rows whose numbers are stated or computed)."""
    check_option("time_window", time_window, TIME_WINDOWS)
    studies = without(studies, exclude)  # names are checked against every row, before any is set aside
    studies = studies if include_inferred else stated_and_computed(studies)
    rows = _poolable_responders(studies, responder_threshold)
    rows = rows[rows["control_events"].notna() & (rows["time_window"] == time_window)]
    return _one_per_sample(rows)


def select_designs(rows: pd.DataFrame, designs: str) -> pd.DataFrame:
    """Keep the rows of the chosen designs (:data:`DESIGN_SETS`).

    "controlled" drops single-arm studies and rows without a control arm (as the plan's
    sensitivity subset "uncontrolled studies excluded"); "randomised" keeps designs
    starting with ``rct``. Case reports are never pooled in any choice.
    """
    check_option("designs", designs, tuple(DESIGN_SETS))
    if designs == "controlled":
        return rows[~rows["design"].isin(UNCONTROLLED_DESIGNS) & (rows["control"] != "none")]
    if designs == "randomised":
        return rows[rows["design"].str.startswith("rct")]
    return rows
