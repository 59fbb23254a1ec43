"""Tests for analysis.engine.effect_sizes against metafor's escalc().

Reference values: tests/reference/effect_sizes.json, written by
tests/reference/effect_sizes.R (metafor 3.8-1, metadat 1.2-0; the exact
escalc() call of every case is stored beside its values).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import AnalysisError
from analysis.engine.effect_sizes import MEASURES, effect_sizes

REFERENCE = json.loads((Path(__file__).parent / "reference" / "effect_sizes.json").read_text())

# escalc() values are closed forms; the only differences are floating-point
# rounding and the 15 significant digits jsonlite writes (digits = NA), so
# 1e-10 relative leaves four orders of magnitude to spare (observed: < 5e-15).
REL_TOL = 1e-10
# Exact zeros in R (e.g. log RR of two identical proportions) are exact here
# too, up to one rounding of numbers of order 1.
ABS_TOL = 1e-15

INPUT_NAMES = {"ai", "bi", "ci", "di", "n1i", "n2i", "m1i", "m2i", "sd1i", "sd2i", "xi", "ni", "ri"}


def _as_float(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _case_inputs(case):
    """The data frame with exactly the inputs the R call passed, and the options."""
    used = [name for name in re.findall(r"(\w+)=\1\b", case["call"]) if name in INPUT_NAMES]
    data = pd.DataFrame({name: _as_float(case["data"][name]) for name in used})
    options = case["options"] if isinstance(case["options"], dict) else {}
    return data, options


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: c["name"])
def test_matches_metafor_escalc(case):
    # case["call"] is the metafor call; case["source"] names the dataset.
    data, options = _case_inputs(case)
    out = effect_sizes(data, case["measure"], **options)
    expected_yi, expected_vi = _as_float(case["yi"]), _as_float(case["vi"])
    np.testing.assert_allclose(out["yi"], expected_yi, rtol=REL_TOL, atol=ABS_TOL)
    np.testing.assert_allclose(out["vi"], expected_vi, rtol=REL_TOL, atol=ABS_TOL)
    # where metafor gives NA, the row says why
    assert (out["es_note"] != "").tolist() == np.isnan(expected_yi).tolist()


def test_reference_covers_every_measure():
    assert {case["measure"] for case in REFERENCE["cases"]} == set(MEASURES)


# ------------------------------------------------------------------ output shape


@pytest.fixture
def trials():
    """Constructed two-arm trials: a zero cell in 'b', all events in 'c'."""
    return pd.DataFrame(
        {
            "study": ["a", "b", "c"],
            "ketamine_responders": [6, 0, 10],
            "ketamine_n": [12, 10, 10],
            "placebo_responders": [2, 3, 10],
            "placebo_n": [12, 11, 10],
        }
    ).set_index("study")


MAPPING = {"ai": "ketamine_responders", "n1i": "ketamine_n", "ci": "placebo_responders",
           "n2i": "placebo_n"}  # fmt: skip


def test_returns_copy_with_index_and_columns_kept(trials):
    before = trials.copy()
    out = effect_sizes(trials, "RR", columns=MAPPING)
    pd.testing.assert_frame_equal(trials, before)
    assert out is not trials
    assert list(out.index) == ["a", "b", "c"]
    assert list(out.columns) == [*trials.columns, "yi", "vi", "es_correction", "es_note"]


def test_column_mapping_equals_metafor_names(trials):
    renamed = trials.rename(columns={v: k for k, v in MAPPING.items()})
    mapped = effect_sizes(trials, "OR", columns=MAPPING)
    direct = effect_sizes(renamed, "OR")
    np.testing.assert_array_equal(mapped["yi"], direct["yi"])
    np.testing.assert_array_equal(mapped["vi"], direct["vi"])


def test_correction_recorded_per_row(trials):
    out = effect_sizes(trials, "RD", columns=MAPPING)
    # metafor's escalc() adds 1/2 to RD tables with a zero cell too
    assert out["es_correction"].tolist() == [
        "none",
        "add 0.5 to each cell (zero cell; to='only0')",
        "add 0.5 to each cell (zero cell; to='only0')",
    ]
    # row b: (0 + 1/2)/(10 + 1) - (3 + 1/2)/(11 + 1)
    assert out.loc["b", "yi"] == pytest.approx(0.5 / 11 - 3.5 / 12, rel=REL_TOL)
    assert out.attrs["measure"] == "RD"
    assert out.attrs["add"] == 0.5 and out.attrs["to"] == "only0"
    assert out.attrs["drop00"] is False and out.attrs["vtype"] == "LS"
    assert out.attrs["escalc_call"] == (
        'escalc(measure="RD", ai=ketamine_responders, ci=placebo_responders, '
        "n1i=ketamine_n, n2i=placebo_n, data=data)"
    )


def test_smd_records_hedges_correction():
    data = pd.DataFrame({"m1i": [3.0], "sd1i": [2.0], "n1i": [10], "m2i": [5.0], "sd2i": [2.5],
                         "n2i": [11]})  # fmt: skip
    out = effect_sizes(data, "SMD")
    assert out["es_correction"].tolist() == ["Hedges' exact small-sample correction J"]
    # J(19) = Γ(9.5) / (√9.5 Γ(9)), computed here independently with math.gamma
    from math import gamma, sqrt

    j = gamma(9.5) / (sqrt(9.5) * gamma(9))
    s_pooled = sqrt((9 * 2.0**2 + 10 * 2.5**2) / 19)
    assert out["yi"].iloc[0] == pytest.approx(j * (3.0 - 5.0) / s_pooled, rel=REL_TOL)


def test_to_none_leaves_zero_cells_unestimable_with_note(trials):
    out = effect_sizes(trials, "RR", columns=MAPPING, to="none")
    assert np.isnan(out.loc["b", "yi"]) and np.isnan(out.loc["b", "vi"])
    assert out.loc["b", "es_note"].startswith("not estimable")
    # row c (10/10 vs 10/10) has no zero event count: log RR = 0, vi = 0
    assert out.loc["c", "yi"] == 0 and out.loc["c", "vi"] == 0
    assert out["es_correction"].tolist() == ["none"] * 3


def test_drop00_notes_dropped_rows(trials):
    out = effect_sizes(trials, "OR", columns=MAPPING, drop00=True)
    assert np.isnan(out.loc["c", "yi"])
    assert out.loc["c", "es_note"].startswith("dropped")
    assert out.loc["b", "es_note"] == ""


def test_missing_input_gives_nan_in_that_row_only(trials):
    trials.loc["a", "placebo_n"] = np.nan
    out = effect_sizes(trials, "RR", columns=MAPPING)
    assert np.isnan(out.loc["a", "yi"]) and np.isnan(out.loc["a", "vi"])
    assert out.loc["a", "es_note"] == "not computed: missing n2i (column 'placebo_n')"
    assert out.loc[["b", "c"], "yi"].notna().all()
    assert (out.loc[["b", "c"], "es_note"] == "").all()


def test_missing_continuous_input_is_named():
    data = pd.DataFrame({"m1i": [3.0, 4.0], "sd1i": [2.0, np.nan], "n1i": [10, 12],
                         "m2i": [5.0, 5.0], "sd2i": [2.5, 2.0], "n2i": [11, 12]})  # fmt: skip
    out = effect_sizes(data, "MD")
    assert out["es_note"].tolist() == ["", "not computed: missing sd1i (column 'sd1i')"]
    assert out["yi"].iloc[0] == -2.0 and np.isnan(out["yi"].iloc[1])


def test_row_order_does_not_matter():
    case = next(c for c in REFERENCE["cases"] if c["name"] == "normand1999_SMD")
    data, _ = _case_inputs(case)
    shuffled = data.sample(frac=1, random_state=7)
    a = effect_sizes(data, "SMD").loc[shuffled.index]
    b = effect_sizes(shuffled, "SMD")
    pd.testing.assert_frame_equal(a, b)


def test_scalar_correlation_equals_column():
    data = pd.DataFrame({"m1i": [62.1, 48.0], "m2i": [45.3, 41.5], "sd1i": [14.2, 20.1],
                         "sd2i": [18.7, 22.4], "ni": [20, 11]})  # fmt: skip
    scalar = effect_sizes(data, "SMCR", ri=0.5)
    column = effect_sizes(data.assign(ri=0.5), "SMCR")
    pd.testing.assert_frame_equal(scalar, column, check_like=True)
    assert scalar.attrs["ri"] == 0.5 and scalar["ri"].tolist() == [0.5, 0.5]
    with pytest.raises(AnalysisError, match="not both"):
        effect_sizes(data.assign(ri=0.5), "MC", ri=0.5)
    with pytest.raises(AnalysisError, match="MC and SMCR only"):
        effect_sizes(pd.DataFrame({"xi": [1], "ni": [2]}), "PR", ri=0.5)


# ------------------------------------------------------------------ invalid input


@pytest.mark.parametrize(
    ("measure", "data", "message"),
    [
        ("RR", {"ai": [1, 2], "n1i": [5, -3], "ci": [1, 1], "n2i": [5, 5]},
         r"index 1, column 'n1i' \(n1i\) = -3: group sizes must be > 0"),
        ("OR", {"ai": [1, 7], "n1i": [5, 5], "ci": [1, 1], "n2i": [5, 5]},
         r"index 1, column 'ai' \(ai\) = 7: more events than n1i"),
        ("RD", {"ai": [1], "bi": [4], "n1i": [6], "ci": [1], "di": [4]},
         r"column 'n1i' \(n1i\) = 6: differs from ai \+ bi"),
        ("PLO", {"xi": [-1], "ni": [5]}, r"column 'xi' \(xi\) = -1: event counts must be >= 0"),
        ("SMD", {"m1i": [1], "sd1i": [0], "n1i": [5], "m2i": [1], "sd2i": [1], "n2i": [5]},
         r"column 'sd1i' \(sd1i\) = 0: standard deviations must be > 0"),
        ("MC", {"m1i": [1], "m2i": [0], "sd1i": [1], "sd2i": [1], "ni": [5], "ri": [1.2]},
         r"column 'ri' \(ri\) = 1.2: correlations must be in \[-1, 1\]"),
        ("MD", {"m1i": [1], "sd1i": [1], "n1i": [0], "m2i": [1], "sd2i": [1], "n2i": [5]},
         r"column 'n1i' \(n1i\) = 0: sample sizes must be > 0"),
    ],
)  # fmt: skip
def test_invalid_values_raise_naming_row_and_column(measure, data, message):
    with pytest.raises(AnalysisError, match=message):
        effect_sizes(pd.DataFrame(data), measure)


def test_error_names_mapped_column_and_index_label(trials):
    trials.loc["c", "placebo_responders"] = 11
    with pytest.raises(
        AnalysisError, match=r"index 'c', column 'placebo_responders' \(ci\) = 11: more events"
    ):
        effect_sizes(trials, "RR", columns=MAPPING)


def test_change_score_sd_idiom_is_allowed_for_mc_only():
    # metafor's documented idiom: sd1i = SD of change scores, sd2i = 0, ri = 0
    data = pd.DataFrame({"m1i": [5.4], "m2i": [3.1], "sd1i": [2.2], "sd2i": [0.0], "ni": [24],
                         "ri": [0.0]})  # fmt: skip
    assert effect_sizes(data, "MC")["vi"].iloc[0] == pytest.approx(2.2**2 / 24, rel=REL_TOL)
    with pytest.raises(AnalysisError, match="standard deviations must be > 0"):
        effect_sizes(data.assign(ri=0.5), "MC")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measure": "HR"}, "measure='HR' is not supported; choose one of: RR, OR"),
        ({"measure": "RR", "to": "some"}, "to='some' is not supported"),
        ({"measure": "RR", "add": -1}, "add must be a finite number >= 0"),
        ({"measure": "RR", "add": "1/2"}, "add must be a finite number >= 0"),
        ({"measure": "MD", "add": 0.5}, "takes none of them"),
        ({"measure": "PLO", "drop00": True}, "two-group binary measures"),
        ({"measure": "RR", "columns": {"n1": "x"}}, r"unknown input name\(s\) \['n1'\]"),
    ],
)
def test_invalid_options_raise(kwargs, message):
    data = pd.DataFrame({"ai": [1], "n1i": [5], "ci": [1], "n2i": [5], "xi": [1], "ni": [5]})
    with pytest.raises(AnalysisError, match=message):
        effect_sizes(data, **kwargs)


def test_absent_or_non_numeric_column_raises():
    with pytest.raises(AnalysisError, match=r"needs column\(s\) not in data: sd2i"):
        effect_sizes(pd.DataFrame({"m1i": [1], "sd1i": [1], "n1i": [5], "m2i": [1],
                                   "n2i": [5]}), "MD")  # fmt: skip
    with pytest.raises(AnalysisError, match="needs bi .* or n1i"):
        effect_sizes(pd.DataFrame({"ai": [1], "ci": [1], "n2i": [5]}), "RR")
    with pytest.raises(AnalysisError, match="column 'ni' \\(ni\\) must be numeric"):
        effect_sizes(pd.DataFrame({"xi": [1], "ni": ["ten"]}), "PR")


def test_missing_non_events_filled_from_group_size():
    # as metafor's escalc(): bi missing but n1i given -> bi = n1i - ai
    data = pd.DataFrame({"ai": [3, 3], "bi": [np.nan, 7], "n1i": [10, np.nan],
                         "ci": [1, 1], "di": [9, 9]})  # fmt: skip
    out = effect_sizes(data, "OR")
    assert out["yi"].iloc[0] == out["yi"].iloc[1]
    assert (out["es_note"] == "").all()


# ------------------------------------------------------------------ invariants

_tables = st.tuples(*[st.integers(0, 40)] * 4).filter(lambda t: t[0] + t[1] > 0 and t[2] + t[3] > 0)


@settings(max_examples=60, deadline=None)
@given(st.lists(_tables, min_size=1, max_size=6))
def test_swapping_groups_negates_yi_and_keeps_vi(tables):
    # log RR, log OR and RD are antisymmetric in the two groups, and the
    # zero-cell rule treats both groups alike, so the swap is exact.
    data = pd.DataFrame(tables, columns=["ai", "bi", "ci", "di"])
    swapped = data.rename(columns={"ai": "ci", "bi": "di", "ci": "ai", "di": "bi"})
    for measure in ("RR", "OR", "RD"):
        a, b = effect_sizes(data, measure), effect_sizes(swapped, measure)
        np.testing.assert_allclose(b["yi"], -a["yi"], rtol=REL_TOL, atol=1e-14)
        np.testing.assert_allclose(b["vi"], a["vi"], rtol=REL_TOL)
        assert b["es_correction"].tolist() == a["es_correction"].tolist()
