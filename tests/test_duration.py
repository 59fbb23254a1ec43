"""Responders over time: per-study rows, window choice, and pooling per window.

The pooled numbers themselves are pool_proportions (checked against metafor in
tests/test_proportions.py); here the tests check which rows enter which
window and that the pooled row is exactly that fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError
from analysis.review.duration import TIME_WINDOWS, classify_time_window, responders_over_time
from analysis.engine.proportion_scales import study_intervals
from analysis.engine.proportions import pool_proportions

#: The GLMM converges to ~1e-9 (relative); a different study order takes a
#: different Newton path to the same optimum.
ORDER_RTOL = 1e-7


def _table():
    return pd.DataFrame({
        "study_id": ["a", "a", "a", "b", "c", "d", "e", "f"],
        "cohort_id": ["a", "a", "a", "b", "c", "c", "e", "f"],
        "study_label": ["A", "A", "A", "B", "C", "C2", "E", "F"],
        "outcome": ["responders"] * 7 + ["pain_intensity"],
        "timepoint_hours": [0.25, 2.5, 168.0, np.nan, 1.0, 3.0, 1344.0, 1.0],
        "time_window": ["during_or_immediate", "during_or_immediate", "short_term",
                        "during_or_immediate", "during_or_immediate", "during_or_immediate",
                        "long_term", "during_or_immediate"],
        "ketamine_events": [8, 6, 2, 17, 8, 5, 3, np.nan],
        "ketamine_n": [12, 12, 12, 29, 11, 11, 20, 10],
        "include_in_pooling": [True, True, True, True, True, True, False, True],
    })


def test_classify_time_window_follows_the_protocol():
    # Protocol: <= 4 h, 1-7 d, 1-4 wk, >= 8 wk.
    hours = [0, 4, 4.5, 24, 168, 169, 672, 673, 1344, np.nan]
    assert classify_time_window(hours).tolist() == [
        "during_or_immediate", "during_or_immediate", "not_classified", "short_term", "short_term",
        "medium_term", "medium_term", "not_classified", "long_term", "not_classified",
    ]


def test_one_row_per_sample_and_window_latest():
    res = responders_over_time(_table())
    used = res.studies[res.studies["used_in_pool"]]
    immediate = used[used["time_window"] == "during_or_immediate"]
    # Sample a: 2.5 h (latest) not 0.25 h; sample c: 3 h (study d, same cohort) not 1 h; b has no hour.
    assert sorted(zip(immediate["label"], immediate["timepoint_hours"].fillna(-1))) == [
        ("A", 2.5), ("B", -1.0), ("C2", 3.0),
    ]
    dropped = res.studies[~res.studies["used_in_pool"]]
    assert set(dropped["label"]) == {"A", "C", "E"}
    assert "include_in_pooling is false" in set(dropped["note"])


def test_earliest_choice():
    res = responders_over_time(_table(), choose="earliest")
    immediate = res.studies[res.studies["used_in_pool"] & (res.studies["time_window"] == "during_or_immediate")]
    assert sorted(immediate["timepoint_hours"].dropna()) == [0.25, 1.0]


def test_pooled_row_is_the_pool_proportions_fit():
    res = responders_over_time(_table())
    row = res.pooled.set_index("time_window").loc["during_or_immediate"]
    direct = pool_proportions([6, 17, 5], [12, 29, 11])
    assert row["k"] == 3 and row["events"] == 28 and row["n"] == 52
    assert row["prop"] == pytest.approx(direct.prop, rel=ORDER_RTOL)
    assert row["prop_ci_lb"] == pytest.approx(direct.prop_ci_lb, rel=ORDER_RTOL)
    assert row["prop_pi_ub"] == pytest.approx(direct.prop_pi_ub, rel=ORDER_RTOL)
    assert res.fits["during_or_immediate"].k == 3


def test_every_window_is_reported_with_single_and_empty_windows_explained():
    res = responders_over_time(_table())
    assert list(res.pooled["time_window"]) == list(TIME_WINDOWS)
    pooled = res.pooled.set_index("time_window")
    assert pooled.loc["short_term", "method"] == "single study"
    lower, upper = study_intervals([2], [12])
    assert pooled.loc["short_term", "prop_ci_lb"] == pytest.approx(lower[0], rel=1e-12)
    assert pooled.loc["medium_term", "k"] == 0 and "no study" in pooled.loc["medium_term", "note"]
    # The long-term row of sample e is excluded from pooling (include_in_pooling false).
    assert pooled.loc["long_term", "k"] == 0


def test_to_frame_for_plots():
    res = responders_over_time(_table())
    frame = res.to_frame()
    assert list(frame.columns) == [
        "row_type", "label", "time_window", "window_order", "timepoint_hours", "events", "n",
        "estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "used_in_pool", "note",
    ]
    assert (frame["row_type"] == "study").sum() == 7  # the pain_intensity row is not a responder row
    assert (frame["row_type"] == "pooled").sum() == 4


def test_wilson_interval_option():
    res = responders_over_time(_table(), interval="wilson")
    lower, _ = study_intervals([8], [12], interval="wilson")
    first = res.studies[(res.studies["label"] == "A") & (res.studies["timepoint_hours"] == 0.25)]
    assert first["ci_lb"].iloc[0] == pytest.approx(lower[0], rel=1e-12)


def test_errors():
    with pytest.raises(AnalysisError, match="lacks the column"):
        responders_over_time(_table().drop(columns="time_window"))
    with pytest.raises(AnalysisError, match="choose one of: latest, earliest"):
        responders_over_time(_table(), choose="middle")
    with pytest.raises(AnalysisError, match="No rows"):
        responders_over_time(_table(), outcomes=("global_improvement",))
