"""Tests for analysis.review.claims: every claim of data/claims.csv gets a verdict with its numbers.

The verdict rules themselves are tested on made-up numbers in tests/test_claim_rules.py.
Here: properties that hold for any data (every claim one verdict, numbers copied from the
plan's fits, row order irrelevant, excluded studies left out), end-to-end checks on small
synthetic tables, and the verdicts on the committed data against the reviewed snapshot
``tests/snapshots/claim_verdicts.csv``, which a curator regenerates with
``python -m analysis snapshot-claims`` (``make snapshot``) after adding a trial.
"""

from __future__ import annotations

import pandas as pd
import pytest
from frozen_data import FROZEN, frozen_check, frozen_studies

from analysis.engine._errors import AnalysisError
from analysis.review.claims import SNAPSHOT_PATH, VERDICTS, check_claims, snapshot_differences
from analysis.data import load_claims, load_studies
from analysis.review.evidence_base import load_evidence_base
from analysis.review.plan import AnalysisPlan
from analysis.review.protocol import TIME_WINDOWS

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
    return check_claims(claims, load_evidence_base().in_review(studies))


@pytest.fixture(scope="module")
def frozen():
    """The claims check of the data version whose facts the issue-22 tests state (tests/frozen_data.py)."""
    return frozen_check()


def test_verdicts_on_the_committed_data_match_the_reviewed_snapshot(check):
    expected = pd.read_csv(SNAPSHOT_PATH, dtype=str, keep_default_na=False)
    changes = snapshot_differences(expected, check.snapshot())
    if changes:
        pytest.fail("claim verdicts differ from tests/snapshots/claim_verdicts.csv:\n  " + "\n  ".join(changes)
                    + "\nIf the data changed on purpose, review these, run `make snapshot` and commit the file.",
                    pytrace=False)


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


def test_pooled_response_rate_claims_rest_on_the_plan_primary_fit(claims, studies, check):
    plan = AnalysisPlan()
    fit = plan.response_rate(studies)
    natural = fit.natural()
    primary_window = ~claims["time_window"].astype(str).isin([w for w in TIME_WINDOWS if w != plan.time_window])
    pooled = claims.loc[(claims["analysis"] == "pooled_response_rate") & claims["testable"].astype(bool)
                        & primary_window, "claim_id"]
    assert len(pooled) > 0
    for claim_id in pooled:
        v = check.verdict(claim_id)
        assert v.k == fit.k
        assert v.estimate == pytest.approx(natural.estimate, abs=COPY_TOLERANCE)
        assert (v.ci_lb, v.ci_ub) == pytest.approx((natural.ci_lb, natural.ci_ub), abs=COPY_TOLERANCE)
        assert (v.pi_lb, v.pi_ub) == pytest.approx((natural.pi_lb, natural.pi_ub), abs=COPY_TOLERANCE)


def test_excluded_studies_are_left_out_of_every_verdict(claims, studies, check):
    """Issue 9: under -p exclude, the claims page and the index disagreed on the counts."""
    plan = AnalysisPlan(exclude=("cohen2006",))
    without = check_claims(claims, studies, plan)
    assert without.plan == plan
    assert all("Cohen 2006" not in v.evidence for v in without.verdicts)
    assert without.verdict("C06").k == check.verdict("C06").k - 1
    assert without.verdict("C06").k == plan.response_rate(studies).k


def _modified(claims, claim_id, **values):
    row = claims[claims["claim_id"] == claim_id].copy()
    for column, value in values.items():
        row[column] = value
    return row


def _synthetic_studies():
    """Three single-arm samples and one controlled trial (made-up counts)."""
    base = {"design": "single_arm_prospective", "control": "none", "control_events": None, "control_n": None,
            "outcome": "responders", "time_window": "during_or_immediate", "timepoint_hours": 1.0,
            "timepoint_label": "1 h", "include_in_pooling": True, "responder_threshold_percent": 50.0,
            "route": "iv", "year": 2020}
    rows = [
        {"row_id": "a", "study_id": "a", "cohort_id": "a", "study_label": "A 2020", "ketamine_events": 12, "ketamine_n": 20},
        {"row_id": "b", "study_id": "b", "cohort_id": "b", "study_label": "B 2021", "ketamine_events": 15, "ketamine_n": 25},
        {"row_id": "c", "study_id": "c", "cohort_id": "c", "study_label": "C 2022", "ketamine_events": 9, "ketamine_n": 15},
        {"row_id": "d", "study_id": "d", "cohort_id": "d", "study_label": "D 2023", "ketamine_events": 14, "ketamine_n": 20,
         "design": "rct_parallel", "control": "placebo", "control_events": 4, "control_n": 20},
    ]
    frame = pd.DataFrame([{**base, **row} for row in rows])
    return frame.astype({"control_events": "float", "control_n": "float", "include_in_pooling": "boolean"})


def _synthetic_claim(**values):
    claim = {"claim_id": "X1", "analysis": "pooled_response_rate", "testable": True, "quantity": "response_rate",
             "claimed_value": None, "claimed_lower": None, "claimed_upper": None, "claimed_unit": "proportion",
             "approximate": True, "time_window": None, "study_ref": None, "note": None, "comparison": None}
    return pd.DataFrame([{**claim, **values}])


def test_percent_claims_are_compared_as_proportions():
    studies = _synthetic_studies()
    rate = AnalysisPlan().response_rate(studies)
    inside = round(100 * rate.prop)
    one = check_claims(_synthetic_claim(claimed_value=float(inside), claimed_unit="percent"), studies)
    assert one.verdicts[0].verdict == "compatible"  # inside the interval: compatible, not support
    assert one.verdicts[0].estimate == pytest.approx(rate.prop, abs=COPY_TOLERANCE)


def test_direction_claims_on_a_synthetic_trial():
    studies = _synthetic_studies()
    claim = _synthetic_claim(analysis="controlled_rr", quantity="direction_of_effect")
    # 14/20 vs 4/20: RR 3.5 with a CI above 1 (one trial, Wald interval) ...
    verdict = check_claims(claim, studies, AnalysisPlan(comparison_model="IV")).verdicts[0]
    assert verdict.estimate == pytest.approx(3.5)
    assert verdict.ci_lb > 1
    assert verdict.verdict == "supported"
    assert verdict.evidence == "D 2023 (1 h): 14/20 vs 4/20"
    # ... but one trial cannot tell how effects vary between settings: the Bayesian default's
    # credible interval, which allows for a next trial that differs, includes no difference
    bayesian = check_claims(claim, studies).verdicts[0]
    assert bayesian.estimate == pytest.approx(3.5, rel=1e-6)
    assert bayesian.ci_lb < 1 < bayesian.ci_ub
    assert bayesian.verdict == "partly supported"


def test_results_do_not_depend_on_row_order(claims, studies, check):
    shuffled = studies.sample(frac=1.0, random_state=3)
    again = check_claims(claims, load_evidence_base().in_review(shuffled)).to_frame()
    pd.testing.assert_frame_equal(
        again.drop(columns=["evidence", "explanation"]),
        check.to_frame().drop(columns=["evidence", "explanation"]),
        check_exact=False, rtol=1e-6,
    )


def test_options_are_checked(claims, studies):
    with pytest.raises(AnalysisError, match="measure"):
        check_claims(claims, studies, AnalysisPlan(measure="HR"))
    with pytest.raises(AnalysisError, match="claims lacks"):
        check_claims(claims.drop(columns=["study_ref"]), studies)
    with pytest.raises(AnalysisError, match="no claim"):
        check_claims(claims.head(1), studies).verdict("C99")


def test_frame_columns(check):
    assert list(check.to_frame().columns) == [
        "claim_id", "analysis", "verdict", "claimed", "scale", "estimate", "ci_lb", "ci_ub",
        "pi_lb", "pi_ub", "k", "evidence", "explanation", "rule",
    ]


# ------------------------------------------------------------------ issue 22


def test_checks_are_a_table_of_small_named_functions():
    """Issue 19: one registered function per analysis of data/claims.csv, none dispatched by name lookup."""
    from analysis.review.claims import CHECKS
    from analysis.data import load_dictionary
    from analysis.data import DATA_DIR

    allowed = load_dictionary(DATA_DIR / "claims.dictionary.csv")["analysis"].allowed
    assert set(CHECKS) == set(allowed) - {"not_testable"}
    assert all(callable(f) and f.__name__.startswith("_") for f in CHECKS.values())


def test_an_uncontrolled_number_comes_with_its_comparison_arm(frozen):
    """Finding 6: "about 50 % of his patients" against an uncontrolled pooled 58 %: compatible, not
    supported, with the midazolam arm's 3/12 beside it and the time it was measured."""
    for claim_id in ("C06", "C36"):
        v = frozen.verdict(claim_id)
        assert v.verdict == "compatible"
        assert "3/12 (active placebo: midazolam" in v.explanation and "25% responded" in v.explanation
        assert "Measured during or immediately after the infusion (up to 4 h)" in v.explanation
        assert "CrI" in v.explanation and "95% CI" not in v.explanation


def test_every_part_of_a_claim_is_weighed(frozen):
    """Finding 6: "eleven patients received significant changes" while 8 of 11 responded; "about a
    third ... did not last": the number is wrong (8/12), the second half fits the data (2/12 vs 2/12
    at 8 weeks) without being shown by them (the interval still holds a benefit), and each says so."""
    eleven = frozen.verdict("C13")
    assert eleven.verdict == "partly supported" and "8 responded" in eleven.explanation
    third, lasting = frozen.verdict("C35"), frozen.verdict("C35b")
    assert third.verdict == "not supported" and "8/12 = 67%" in third.explanation
    assert lasting.verdict == "compatible"
    assert "other part: C35b: compatible" in third.explanation and "other part: C35: not supported" in lasting.explanation


def test_no_residual_benefit_from_a_time_without_data(frozen):
    """Finding 6: "after two weeks ... residual benefit": no two-week data; at 8 weeks 2/12 vs 2/12."""
    v = frozen.verdict("C40")
    assert v.verdict == "not supported"
    assert "No measurement at 2 wk; the nearest after it is at 8 wk" in v.explanation


def test_both_patient_counts_are_explained(frozen):
    """Finding 6/7: 115 patients in the studies, 103 in the response rate's ketamine arms: both said."""
    v = frozen.verdict("C22")
    assert v.verdict == "supported" and v.estimate == 115
    assert "The pooled response rate counts 103 of them: its ketamine arms only" in v.explanation


def test_no_code_name_reaches_a_reader(check):
    """Issue 19: "Hanna 2018 is in the data (case_report)" became the dictionary's words."""
    import re

    text = " ".join(check.to_frame()[["explanation", "rule"]].to_numpy().ravel())
    assert "(case report)" in check.verdict("C17").explanation
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)


def test_one_summary_per_article_under_its_real_title(claims, check):
    from analysis.present.claim_tables import articles_table
    from analysis.data import load_references

    references = load_references()
    table = articles_table(check, claims, references).data
    assert len(table) == claims["seed_file"].nunique()
    listed = references[references["seed_file"].isin(claims["seed_file"])]
    assert sorted(table["Article"]) == sorted(listed["citation"])  # the reference list's titles
    assert not table["Article"].str.contains("no article title").any()
    assert table["Claims"].astype(int).sum() == len(claims)


def test_the_claims_check_counts_the_samples_the_summary_of_findings_counts(frozen):
    """Finding 7: a claim counted 7 samples with adverse events where the summary of findings
    counted 6 (Sörensen 1997 awaits classification)."""
    from analysis.review.findings import summary_of_findings

    evidence = load_evidence_base(FROZEN)
    harms = summary_of_findings(AnalysisPlan(), evidence.included(frozen_studies()))[4]
    assert frozen.verdict("C24").k == 6 and "6 studies describe adverse events" in harms.comment
