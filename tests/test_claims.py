"""Tests for analysis.claims: every claim of data/claims.csv gets a verdict with its numbers.

Expected numbers are never typed in: they come from data/studies.csv through the real
functions (pool_proportions, clopper_pearson, effect_sizes, meta_analysis), whose own
agreement with metafor / R's binom.test is pinned in tests/test_proportions.py,
tests/test_transforms.py and tests/test_pooling_reference.py. The verdicts pinned here
are those the documented rules give for the data as committed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis._errors import AnalysisError
from analysis.claims import VERDICTS, check_claims
from analysis.data import load_claims, load_studies
from analysis.effect_sizes import effect_sizes
from analysis.pooling import meta_analysis
from analysis.selection import controlled_rows, response_rate_rows
from analysis.proportions import pool_proportions
from analysis.transforms import clopper_pearson

#: The check only copies numbers from the fits; equality up to float noise.
COPY_TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def claims():
    return load_claims()


@pytest.fixture(scope="module")
def studies():
    return load_studies()


@pytest.fixture(scope="module")
def check(claims, studies):
    return check_claims(claims, studies)


def _row(studies, row_id):
    return studies.set_index("row_id").loc[row_id]


def test_every_claim_gets_one_verdict_in_order(claims, check):
    frame = check.to_frame()
    assert frame["claim_id"].tolist() == claims["claim_id"].tolist()
    assert set(frame["verdict"]) <= set(VERDICTS)
    assert frame["explanation"].str.len().gt(0).all()
    assert frame["rule"].str.len().gt(0).all()
    assert int(check.counts().sum()) == len(claims)


def test_claims_marked_untestable_are_not_testable(claims, check):
    frame = check.to_frame().set_index("claim_id")
    untestable = claims[~claims["testable"].astype(bool) | (claims["analysis"] == "not_testable")]
    assert len(untestable) > 0
    for claim_id, note in zip(untestable["claim_id"], untestable["note"]):
        assert frame.loc[claim_id, "verdict"] == "not testable"
        assert frame.loc[claim_id, "explanation"] == note


def test_testable_claims_with_data_get_a_substantive_verdict(claims, check):
    # Every claim the curator marked testable has the data it needs (the checks below name them).
    frame = check.to_frame().set_index("claim_id")
    testable = claims[claims["testable"].astype(bool) & (claims["analysis"] != "not_testable")]
    substantive = frame.loc[testable["claim_id"], "verdict"] != "not testable"
    # C17 is a case description: no quantity, so not testable by rule.
    assert substantive.drop("C17").all()
    assert frame.loc["C17", "verdict"] == "not testable"


def test_pooled_response_rate_claims_rest_on_the_primary_fit(studies, check):
    # C06/C36 "about 50%", C39 "more than half": the pooled GLMM response rate of the primary
    # window (<= 4 h with unstated times), as notebook 02 computes it.
    rows = response_rate_rows(studies)
    fit = pool_proportions(rows["ketamine_events"], rows["ketamine_n"], method="GLMM",
                           labels=rows["study_label"])
    for claim_id in ("C06", "C36", "C39"):
        v = check.verdict(claim_id)
        assert v.k == fit.k == 5
        assert v.estimate == pytest.approx(fit.prop, abs=COPY_TOLERANCE)
        assert (v.ci_lb, v.ci_ub) == pytest.approx((fit.prop_ci_lb, fit.prop_ci_ub), abs=COPY_TOLERANCE)
        assert (v.pi_lb, v.pi_ub) == pytest.approx((fit.prop_pi_lb, fit.prop_pi_ub), abs=COPY_TOLERANCE)
    # 0.5 lies inside the CI -> supported; "more than 0.5": the estimate is above 0.5 but
    # the CI includes it -> partly supported.
    assert fit.prop_ci_lb < 0.5 < fit.prop < fit.prop_ci_ub
    assert check.verdict("C06").verdict == "supported"
    assert check.verdict("C36").verdict == "supported"
    assert check.verdict("C39").verdict == "partly supported"


def test_single_study_response_rate_uses_the_exact_interval(studies, check):
    # C34: "approximately two-thirds response rate" (Guedj 2007) against 11/17 with the
    # Clopper-Pearson interval (R's binom.test, pinned in tests/test_transforms.py).
    row = _row(studies, "guedj2007a_responders_after")
    interval = clopper_pearson(row["ketamine_events"], row["ketamine_n"])
    v = check.verdict("C34")
    assert v.estimate == row["ketamine_events"] / row["ketamine_n"]
    assert (v.ci_lb, v.ci_ub) == pytest.approx((float(interval.ci_lb), float(interval.ci_ub)), abs=1e-12)
    assert v.ci_lb <= 2 / 3 <= v.ci_ub
    assert v.verdict == "supported"


def test_a_third_responding_to_s_ketamine_is_not_supported(studies, check):
    # C35: "about a third ... immediately experienced a 50% reduction" (Noppers 2011).
    # The ketamine arm at 15 min is 8/12; its exact interval starts above 1/3.
    row = _row(studies, "noppers2011_responders_15min")
    interval = clopper_pearson(row["ketamine_events"], row["ketamine_n"])
    v = check.verdict("C35")
    assert v.estimate == row["ketamine_events"] / row["ketamine_n"]
    assert v.ci_lb == pytest.approx(float(interval.ci_lb), abs=1e-12)
    assert float(interval.ci_lb) > 1 / 3
    assert v.verdict == "not supported"
    assert "control arm 3/12" in v.explanation


def test_controlled_claims_use_the_random_effects_risk_ratio(studies, check):
    # C01 / C10 / C23: direction of effect on responders, ketamine vs control, <= 4 h.
    rows = controlled_rows(studies)
    es = effect_sizes(rows, "RR", columns={"ai": "ketamine_events", "n1i": "ketamine_n",
                                          "ci": "control_events", "n2i": "control_n"})
    fit = meta_analysis(es["yi"], es["vi"], method="REML", test="knha", measure="RR")
    assert fit.k == 1  # only Noppers 2011 counts responders in both arms
    for claim_id in ("C01", "C10", "C23"):
        v = check.verdict(claim_id)
        assert v.scale == "risk ratio"
        assert v.estimate == pytest.approx(np.exp(fit.estimate), abs=1e-12)
        assert (v.ci_lb, v.ci_ub) == pytest.approx((np.exp(fit.ci_lb), np.exp(fit.ci_ub)), abs=1e-12)
        # favours ketamine, CI includes 1 -> partly supported
        assert v.ci_lb < 1 < v.estimate
        assert v.verdict == "partly supported"
    assert "not a number the data hold" in check.verdict("C01").explanation


def _single_rr(studies, row_id):
    rows = studies[studies["row_id"] == row_id]
    es = effect_sizes(rows, "RR", columns={"ai": "ketamine_events", "n1i": "ketamine_n",
                                          "ci": "control_events", "n2i": "control_n"})
    return meta_analysis(es["yi"], es["vi"], measure="RR")


def test_duration_upper_bounds(studies, check):
    # C02 "lasting less than 2 hours": Noppers at t=180 min (2.5 h after the end) still
    # favours ketamine, CI includes 1 -> partly supported.
    fit = _single_rr(studies, "noppers2011_responders_180min")
    v = check.verdict("C02")
    assert v.estimate == pytest.approx(np.exp(fit.estimate), abs=1e-12)
    assert np.exp(fit.ci_lb) < 1 < np.exp(fit.estimate)
    assert v.verdict == "partly supported"
    # C41 "disappeared by the eighth week": week-8 responders 2/12 vs 2/12, RR 1 -> supported.
    week8 = _row(studies, "noppers2011_responders_week8")
    assert week8["ketamine_events"] == week8["control_events"]
    assert check.verdict("C41").estimate == pytest.approx(1.0, abs=1e-12)
    assert check.verdict("C41").verdict == "supported"


def test_duration_lower_bounds_and_pattern(check):
    # C25 (days or weeks) and C40 (two weeks): patients still respond later, no controlled
    # difference -> partly supported. C26 (short-term yes, long-term no): short-term RR
    # favours ketamine with a CI including 1, long-term RR 1 -> partly supported.
    for claim_id in ("C25", "C40", "C26"):
        assert check.verdict(claim_id).verdict == "partly supported"
    assert "Hanna 2016" in check.verdict("C40").explanation


def test_counts_of_studies_and_patients(claims, studies, check):
    # C21: 6 reports (Guedj 2007a and 2007b share one cohort) of 5 independent samples.
    pooled = studies[studies["cohort_id"].isin(studies.loc[studies["include_in_pooling"], "cohort_id"])]
    with_data = pooled[pooled["ketamine_n"].notna()]
    assert check.verdict("C21").estimate == with_data["cohort_id"].nunique()
    assert with_data["study_id"].nunique() == claims.set_index("claim_id").loc["C21", "claimed_value"]
    assert check.verdict("C21").verdict == "partly supported"
    # C22: 115 patients = sum of patients analysed (else enrolled) over those samples.
    per_sample = with_data.groupby("cohort_id").apply(
        lambda g: g["n_analysed"].max() if g["n_analysed"].notna().any() else g["n_enrolled"].max())
    assert check.verdict("C22").estimate == per_sample.sum()
    assert check.verdict("C22").verdict == "supported"
    # C09: the two Belgian registrations are in the data as registered trials.
    assert check.verdict("C09").verdict == "supported"


def test_single_study_counts(studies, check):
    # C13: 11 patients given ketamine in Sörensen 1995; C18: 10 sessions in Hanna 2018.
    assert check.verdict("C13").estimate == _row(studies, "sorensen1995_responders_immediate")["ketamine_n"]
    assert check.verdict("C13").verdict == "supported"
    assert check.verdict("C18").estimate == _row(studies, "hanna2018_responders_after10")["sessions"]
    assert check.verdict("C18").verdict == "supported"


def test_uncontrolled_direction_claims_are_partly_supported(check):
    # C03 (Guedj, single arm), C05/C16 (Graven-Nielsen), C31 (Sörensen 1995): responders
    # after ketamine but no control counts in the data.
    for claim_id in ("C03", "C05", "C16", "C31"):
        v = check.verdict(claim_id)
        assert v.verdict == "partly supported"
        assert "cannot be attributed to ketamine" in v.explanation
    assert "81.8 before vs 31.8 after" in check.verdict("C03").explanation


def test_adverse_events_and_study_characteristics(check):
    # C24: the Grenoble series' withdrawal syndromes make "mild and short-term" partly supported.
    v = check.verdict("C24")
    assert v.verdict == "partly supported"
    assert "withdrawal" in v.explanation
    # C37: every pooled sample with dose and sessions known had one session at <= 0.5 mg/kg.
    assert check.verdict("C37").verdict == "supported"
    assert check.verdict("C37").estimate == 1.0


def _modified(claims, claim_id, **values):
    row = claims[claims["claim_id"] == claim_id].copy()
    for column, value in values.items():
        row[column] = value
    return row


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.55, "supported"), (0.40, "partly supported"), (0.90, "not supported")],
)
def test_point_value_rule_for_the_pooled_rate(claims, studies, check, value, expected):
    # CI 44% to 69%, prediction interval 37% to 75% (C06's numbers, checked above).
    v0 = check.verdict("C06")
    assert v0.pi_lb < 0.40 < v0.ci_lb < 0.55 < v0.ci_ub < 0.90 and v0.pi_ub < 0.90
    one = check_claims(_modified(claims, "C06", claimed_value=value), studies)
    assert one.verdicts[0].verdict == expected


def test_percent_claims_are_compared_as_proportions(claims, studies):
    one = check_claims(_modified(claims, "C06", claimed_value=55.0, claimed_unit="percent"), studies)
    assert one.verdicts[0].verdict == "supported"


def test_results_do_not_depend_on_row_order(claims, studies, check):
    shuffled = studies.sample(frac=1.0, random_state=3)
    again = check_claims(claims, shuffled).to_frame()
    pd.testing.assert_frame_equal(
        again.drop(columns=["evidence", "explanation"]),
        check.to_frame().drop(columns=["evidence", "explanation"]),
        check_exact=False, rtol=1e-6,
    )


def test_options_are_checked(claims, studies):
    with pytest.raises(AnalysisError, match="measure"):
        check_claims(claims, studies, measure="HR")
    with pytest.raises(AnalysisError, match="claims lacks"):
        check_claims(claims.drop(columns=["study_ref"]), studies)
    with pytest.raises(AnalysisError, match="no claim"):
        check_claims(claims.head(1), studies).verdict("C99")


def test_frame_columns(check):
    assert list(check.to_frame().columns) == [
        "claim_id", "analysis", "verdict", "claimed", "scale", "estimate", "ci_lb", "ci_ub",
        "pi_lb", "pi_ub", "k", "evidence", "explanation", "rule",
    ]
