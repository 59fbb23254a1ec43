"""Tests for analysis.review.grade: each domain's downgrade on constructed tables, and overrides.

The tables are made up to put each rule on each side of its threshold; the pooled
results come from the real functions (meta_analysis, pool_proportions). Preconditions
(the I², CI or share that puts a case on one side) are asserted before the judgement so
that a change in the numbers cannot silently change what a test covers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.engine._errors import AnalysisError
from analysis.review.selection import controlled_rows, response_rate_rows
from analysis.data import load_studies
from analysis.engine.effect_sizes import effect_sizes
from analysis.review.grade import (
    DOMAINS,
    I2_SERIOUS,
    I2_VERY_SERIOUS,
    OPTIMAL_INFORMATION_SIZE,
    grade_outcome,
    load_grade_overrides,
    evidence_profile,
)
from analysis.engine.pooling import meta_analysis
from analysis.engine.proportions import pool_proportions


def table(k, **columns):
    """k study rows with benign defaults (randomised, low risk, repeated sessions)."""
    base = {
        "design": ["rct_parallel"] * k, "rob_tool": ["rob2"] * k, "rob_overall": ["low"] * k,
        "sessions": [5] * k, "time_window": ["medium_term"] * k,
        "responder_threshold_percent": [50] * k, "ketamine_n": [100] * k, "control_n": [100] * k,
    }
    base.update(columns)
    return pd.DataFrame(base)


def fit(yi, vi, **options):
    return meta_analysis(yi, vi, labels=[f"S{i + 1}" for i in range(len(yi))], measure="RR", **options)


# A precise, consistent benefit: RR about 1.5 in four large trials.
CLEAN_YI = [0.40, 0.42, 0.38, 0.41]
CLEAN_VI = [0.01, 0.012, 0.011, 0.009]


def test_clean_randomised_evidence_stays_high():
    g = grade_outcome("x", fit(CLEAN_YI, CLEAN_VI), table(4))
    assert g.start == "high"
    assert [d.judgement for d in g.domains] == [
        "not serious", "not serious", "not serious", "not serious", "not assessable"]
    assert g.certainty == "high"
    assert g.participants == 800
    assert g.to_frame()["domain"].tolist() == list(DOMAINS)


def test_non_randomised_evidence_starts_low():
    data = table(4, design=["rct_parallel", "single_arm_prospective", "rct_parallel", "rct_parallel"])
    g = grade_outcome("x", fit(CLEAN_YI, CLEAN_VI), data)
    assert g.start == "low" and g.certainty == "low"
    assert g.start_reason == "1 of 4 studies are not randomised (S2)"


@pytest.mark.parametrize(
    ("overall", "expected"),
    [
        (["low", "low", "some_concerns", "low"], 0),            # concerns carry < 50% of the weight
        (["some_concerns", "some_concerns", "high", "low"], 1),  # high + concerns > 50%
        (["high", "high", "high", "low"], 2),                    # high alone > 50%
    ],
)
def test_risk_of_bias_by_share_of_weight(overall, expected):
    g = grade_outcome("x", fit(CLEAN_YI, CLEAN_VI), table(4, rob_overall=overall))
    assert g.domain("risk_of_bias").downgrade == expected


def test_risk_of_bias_uses_sample_sizes_for_the_glmm():
    # The GLMM has no weights: shares come from n. 34 of 46 patients are in the high-risk study.
    res = pool_proportions([8, 13], [12, 34], labels=["A", "B"])
    data = table(2, rob_overall=["low", "high"])
    judgement = grade_outcome("x", res, data).domain("risk_of_bias")
    assert judgement.downgrade == 2
    assert judgement.reason.startswith("73.9% of the weight at high risk, 0.0% with some concerns (sample sizes")


def test_robins_i_confounding_is_not_counted_twice():
    # A single-arm study at serious risk only through confounding: the low start already counts it.
    data = table(2, design=["single_arm_prospective"] * 2, rob_tool=["robins_i"] * 2,
                 rob_overall=["serious"] * 2, rob_confounding=["serious"] * 2,
                 rob_measurement=["low", "low"], rob_selection=["low", "low"])
    g = grade_outcome("x", fit(CLEAN_YI[:2], CLEAN_VI[:2]), data)
    assert g.start == "low"
    assert g.domain("risk_of_bias").downgrade == 0
    data["rob_measurement"] = ["serious", "serious"]
    assert grade_outcome("x", fit(CLEAN_YI[:2], CLEAN_VI[:2]), data).domain("risk_of_bias").downgrade == 2


def test_inconsistency_thresholds():
    one = grade_outcome("x", fit([0.4], [0.01]), table(1)).domain("inconsistency")
    assert (one.judgement, one.downgrade) == ("not assessable", 0)

    moderate = fit([0.1, 0.5, 0.3, 0.7], [0.03] * 4)
    very = fit([0.0, 0.8, 0.2, 1.2], [0.01] * 4)
    assert I2_SERIOUS <= moderate.i2 < I2_VERY_SERIOUS <= very.i2
    assert grade_outcome("x", moderate, table(4)).domain("inconsistency").downgrade == 1
    assert grade_outcome("x", very, table(4)).domain("inconsistency").downgrade == 2

    # I² below 50% but the prediction interval includes no difference while the CI does not.
    crossing = fit([0.6, 0.0, 0.9, 0.3, 0.5, 0.2], [0.06] * 6)
    assert crossing.i2 < I2_SERIOUS and crossing.ci_lb > 0 > crossing.pi_lb
    judgement = grade_outcome("x", crossing, table(6)).domain("inconsistency")
    assert judgement.downgrade == 1
    assert judgement.reason == ("I² = 41%; the prediction interval includes no difference while the CI "
                                "does not")


def test_indirectness_single_sessions_and_thresholds():
    res = fit(CLEAN_YI, CLEAN_VI)
    lab = table(4, sessions=[1, 1, 1, 5], time_window=["during_or_immediate"] * 3 + ["medium_term"])
    judgement = grade_outcome("x", res, lab).domain("indirectness")
    assert judgement.downgrade == 1
    assert "from a single ketamine session assessed within 4 h" in judgement.reason
    thresholds = table(4, responder_threshold_percent=[50, 50, 67, 50])
    judgement = grade_outcome("x", res, thresholds).domain("indirectness")
    assert judgement.downgrade == 1
    assert judgement.reason == "responder thresholds differ between studies (50%, 67% pain reduction)"
    # One lab study out of four (about a quarter of the weight) is not enough.
    one_lab = table(4, sessions=[1, 5, 5, 5], time_window=["during_or_immediate"] + ["medium_term"] * 3)
    assert grade_outcome("x", res, one_lab).domain("indirectness").downgrade == 0


def test_imprecision_reasons_add_up():
    res = fit(CLEAN_YI, CLEAN_VI)
    small = table(4, ketamine_n=[20] * 4, control_n=[20] * 4)
    judgement = grade_outcome("x", res, small).domain("imprecision")
    assert judgement.downgrade == 1
    assert judgement.reason == "160 participants, fewer than the optimal information size of 300"

    null = fit([0.3, -0.1, 0.2, 0.0], [0.05] * 4)
    assert np.exp(null.ci_lb) < 1 < np.exp(null.ci_ub)
    assert grade_outcome("x", null, table(4)).domain("imprecision").downgrade == 1
    assert grade_outcome("x", null, small).domain("imprecision").downgrade == 2

    # A decision threshold inside the CI counts as well (response rate 8/12 + 13/34, CI includes 0.5).
    rate = pool_proportions([8, 13], [12, 34])
    assert rate.prop_ci_lb < 0.5 < rate.prop_ci_ub
    judgement = grade_outcome("x", rate, table(2), decision_threshold=0.5,
                              optimal_information_size=40).domain("imprecision")
    assert judgement.downgrade == 1
    assert "includes the decision threshold 0.5" in judgement.reason
    assert OPTIMAL_INFORMATION_SIZE == 300


def test_publication_bias_needs_ten_studies():
    res = fit(CLEAN_YI, CLEAN_VI)
    judgement = grade_outcome("x", res, table(4)).domain("publication_bias")
    assert (judgement.judgement, judgement.downgrade) == ("not assessable", 0)
    assert judgement.reason.startswith("4 studies: small-study tests are not informative below 10")

    # Twelve studies: small studies (large vi) show larger effects -> Egger p < 0.10.
    vi = np.array([0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.07, 0.09, 0.12, 0.15, 0.2, 0.25])
    asymmetric = fit(0.1 + 1.5 * np.sqrt(vi), vi)
    symmetric = fit(0.1 + np.array([1, -1] * 6) * 0.5 * np.sqrt(vi), vi)
    assert grade_outcome("x", asymmetric, table(12)).domain("publication_bias").downgrade == 1
    judgement = grade_outcome("x", symmetric, table(12)).domain("publication_bias")
    assert judgement.downgrade == 0 and judgement.reason.startswith("Egger's test p = ")


OVERRIDES = pd.DataFrame({
    "override_id": ["y.publication_bias"], "outcome": ["y"], "domain": ["publication_bias"],
    "downgrade": [1], "reason": ["registered trials without results"], "curator": ["JD"],
    "date": [pd.Timestamp("2026-01-02")],
})


def test_override_replaces_the_computed_judgement_and_keeps_it():
    res = fit(CLEAN_YI, CLEAN_VI)
    plain = grade_outcome("y", res, table(4))
    g = grade_outcome("y", res, table(4), overrides=OVERRIDES, label="Outcome Y")
    judgement = g.domain("publication_bias")
    assert judgement.overridden and judgement.downgrade == 1 and judgement.judgement == "serious"
    assert judgement.reason == "registered trials without results"
    assert (judgement.computed_judgement, judgement.computed_downgrade) == ("not assessable", 0)
    assert judgement.curator == "JD" and judgement.date == "2026-01-02"
    assert (plain.certainty, g.certainty) == ("high", "moderate")
    # Other outcomes are untouched.
    assert not grade_outcome("z", res, table(4), overrides=OVERRIDES).domain("publication_bias").overridden
    sof = evidence_profile([g, plain]).to_frame()
    assert sof.loc[0, "publication_bias"] == "serious (-1) [override]"
    assert sof.loc[0, "reasons"] == "publication bias: registered trials without results"
    assert sof.loc[1, "publication_bias"] == "not assessable"
    assert sof["certainty"].tolist() == ["moderate", "high"]


def test_certainty_never_goes_below_very_low():
    data = table(4, design=["single_arm_prospective"] * 4, rob_overall=["critical"] * 4,
                 rob_tool=["not_assessed"] * 4, ketamine_n=[5] * 4, control_n=[5] * 4)
    g = grade_outcome("x", fit([0.0, 0.8, 0.2, 1.2], [0.2] * 4), data)
    assert g.total_downgrade >= 2 and g.certainty == "very low"


def test_errors():
    res = fit(CLEAN_YI, CLEAN_VI)
    with pytest.raises(AnalysisError, match="pools 4 studies"):
        grade_outcome("x", res, table(3))
    with pytest.raises(AnalysisError, match="design"):
        grade_outcome("x", res, table(4).drop(columns=["design"]))
    with pytest.raises(AnalysisError, match="result must be"):
        grade_outcome("x", "not a result", table(4))
    bad = OVERRIDES.assign(downgrade=[3])
    with pytest.raises(AnalysisError, match="0, 1 or 2"):
        grade_outcome("y", res, table(4), overrides=bad)
    with pytest.raises(AnalysisError, match="more than one override"):
        grade_outcome("y", res, table(4), overrides=pd.concat([OVERRIDES, OVERRIDES]))
    with pytest.raises(AnalysisError, match="GradeAssessment"):
        evidence_profile([res])


def test_real_data_overrides_file_loads():
    overrides = load_grade_overrides()
    assert set(overrides["domain"].astype(str)) <= set(DOMAINS)
    assert not overrides.duplicated(["outcome", "domain"]).any()


def test_real_outcomes_are_rated():
    # The two outcomes the notebooks pool (rows chosen as notebooks 02 and 03 choose them).
    studies = load_studies()
    rows = response_rate_rows(studies)
    rate = pool_proportions(rows["ketamine_events"], rows["ketamine_n"], labels=rows["study_label"])
    g1 = grade_outcome("response_rate", rate, rows, overrides=load_grade_overrides())
    assert g1.start == "low"  # Cohen 2006 and Guedj 2007a are single-arm
    assert g1.k == len(rows) and g1.participants == int(rows["ketamine_n"].sum())
    controlled = controlled_rows(studies)
    es = effect_sizes(controlled, "RR", columns={"ai": "ketamine_events", "n1i": "ketamine_n",
                                                 "ci": "control_events", "n2i": "control_n"})
    rr = meta_analysis(es["yi"], es["vi"], test="knha", labels=es["study_label"], measure="RR")
    g2 = grade_outcome("controlled_responders", rr, controlled, overrides=load_grade_overrides())
    # the ratings themselves depend on the data: tests/snapshots/headline_numbers.json holds them
    # for review (tests/test_headline_numbers.py); here only what follows from the rows
    assert g2.start == "high"
    assert (g2.domain("inconsistency").judgement == "not assessable") == (rr.k == 1)
    if rr.natural().ci_lb < 1 < rr.natural().ci_ub:
        assert g2.domain("imprecision").downgrade >= 1
    for g in (g1, g2):
        assert g.certainty in ("very low", "low", "moderate", "high")
        assert all(d.reason for d in g.domains)


def test_a_single_infusion_is_indirect_at_every_follow_up():
    """Issue 22, finding 8: indirectness was downgraded at the first window but not at 1 and 8 weeks,
    though all three rest on the same single infusion."""
    res = fit(CLEAN_YI, CLEAN_VI)
    for window in ("during_or_immediate", "short_term", "long_term"):
        rows = table(4, sessions=[1, 1, 1, 1], time_window=[window] * 4)
        judgement = grade_outcome("x", res, rows).domain("indirectness")
        assert judgement.downgrade == 1, window
        assert ("assessed within 4 h" in judgement.reason) == (window == "during_or_immediate")


def test_a_credible_interval_is_named_as_such_in_the_footnotes():
    """Issue 22, finding 4: the summary of findings' footnotes called a posterior's CrI "the CI"."""
    from frozen_data import frozen_studies
    from analysis.review.plan import AnalysisPlan

    studies = frozen_studies()
    fit = AnalysisPlan().controlled(studies).primary
    reason = grade_outcome("x", fit, AnalysisPlan().controlled_rows(studies)).domain("imprecision").reason
    assert reason.startswith("the CrI (0.25 to 28.27) includes 1")
