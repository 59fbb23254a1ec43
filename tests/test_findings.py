"""The GRADE summary of findings (analysis.review.findings): absolute effects per 1000, rows, footnotes."""

import math

import pandas as pd

import pytest
from frozen_data import frozen_studies

from analysis.data import load_studies
from analysis.present.findings_table import findings_table
from analysis.review.findings import (
    CERTAINTY_SYMBOLS,
    PER,
    risk_with_treatment,
    summary_of_findings,
)
from analysis.review.plan import AnalysisPlan


@pytest.fixture(scope="module")
def studies():
    return load_studies()


@pytest.fixture(scope="module")
def rows(studies):
    return summary_of_findings(AnalysisPlan(), studies)


@pytest.mark.parametrize("control, relative, measure, expected", [
    (0.25, 2.0, "RR", 0.5), (0.25, 3.0, "OR", 0.5), (0.25, 0.1, "RD", 0.35),
    (0.25, 7.7, "RR", 1.0),   # a risk cannot exceed every patient
    (0.25, -0.4, "RD", 0.0),  # nor fall below none
])
def test_risk_with_treatment(control, relative, measure, expected):
    assert risk_with_treatment(control, relative, measure) == pytest.approx(expected)


def test_rows_cover_the_outcomes_the_issue_names(rows):
    assert [row.key for row in rows] == ["response_rate", "responders_immediate", "responders_1_week",
                                          "responders_8_weeks", "adverse_events", "withdrawals"]


def test_controlled_row_is_control_risk_times_the_pooled_ratio(studies, rows):
    plan = AnalysisPlan()
    trials = plan.controlled_rows(studies)
    control = trials["control_events"].sum() / trials["control_n"].sum()
    natural = plan.controlled(studies).primary.natural()
    row = rows[1]
    assert row.control_risk == pytest.approx(PER * control)
    assert row.ketamine_risk == pytest.approx(PER * control * natural.estimate)
    assert row.ketamine_lb == pytest.approx(PER * control * natural.ci_lb)
    assert row.difference == pytest.approx(row.ketamine_risk - row.control_risk)
    assert row.relative.startswith(f"RR {natural.estimate:.2f}")


def test_no_absolute_effect_from_a_ratio_when_the_control_arms_have_no_events(studies):
    # Noppers 2011 alone (its own fixture): 2/12 vs 0/12 responders at 1 week
    one_trial = studies[studies["study_id"] == "noppers2011"]
    week = summary_of_findings(AnalysisPlan(), one_trial)[2]
    assert AnalysisPlan().controlled_rows(one_trial, "short_term")["control_events"].sum() == 0
    assert week.control_risk == 0 and math.isnan(week.ketamine_risk) and math.isnan(week.difference)
    assert "No responders in the control arms" in week.comment


def test_outcomes_without_data_keep_their_row_and_say_so(rows):
    for row in rows[4:]:
        assert row.certainty is None and row.studies == 0
        assert row.comment.startswith("No controlled study reports")


def test_table_letters_every_downgrade_and_shows_certainty_symbols(rows):
    table, footnotes = findings_table(rows)
    downgrades = sum(len(row.footnotes) for row in rows)
    letters = [line[2] for line in footnotes.data.splitlines() if line.startswith("- ")]
    assert letters == list("abcdefghijklmnopqrstuvwxyz"[:downgrades])
    certainty = table.data["Certainty"].tolist()
    for row, shown in zip(rows, certainty):
        if row.certainty is None:
            assert shown == "not rated (no data)"
        else:
            assert shown.startswith(CERTAINTY_SYMBOLS[row.certainty])
    assert table.caption and not table.data.isna().any().any()
    assert "nan" not in table.to_html().lower()


def test_per_arm_harms_counts_get_a_row_with_absolute_effects(studies):
    """A curator adding a trial with per-arm adverse events gets a summary-of-findings row, not an error."""
    trial = studies[studies["row_id"] == "noppers2011_responders_15min"].copy()
    trial = trial.assign(row_id="synthetic_ae", outcome="adverse_events", ketamine_events=6, ketamine_n=12,
                         control_events=3, control_n=12)
    rows = summary_of_findings(AnalysisPlan(), pd.concat([studies, trial], ignore_index=True))
    harms = next(row for row in rows if row.key == "adverse_events")
    assert harms.studies == 1 and harms.relative.startswith("RR 2.00")
    assert harms.control_risk == pytest.approx(250.0) and harms.ketamine_risk == pytest.approx(500.0)


def test_bayesian_rows_state_their_posterior_probabilities(studies, rows):
    plan = AnalysisPlan()
    rate = plan.response_rate(studies)
    assert rows[0].comment.endswith(
        f"Probability that the response rate exceeds 50%: {round(100 * rate.prob_above(0.5))}%.")
    comparison = plan.controlled(studies).primary
    assert (f"Probability that more patients respond to ketamine than to the control: "
            f"{round(100 * comparison.prob_above(0.0))}%.") in rows[1].comment
    frequentist = summary_of_findings(AnalysisPlan(proportion_model="GLMM", comparison_model="IV"), studies)
    assert not any("Probability" in row.comment for row in frequentist)


# ------------------------------------------------------ issue 22: one answer, said truthfully


def test_each_row_is_the_questions_one_answer_with_its_interval_named():
    studies = frozen_studies()
    plan = AnalysisPlan()
    rows = {row.key: row for row in summary_of_findings(plan, studies)}
    for key, window in (("responders_immediate", "during_or_immediate"), ("responders_1_week", "short_term"),
                        ("responders_8_weeks", "long_term")):
        answer = plan.answer(studies, "controlled", window)
        assert rows[key].relative == answer.text() and rows[key].interval == "95% CrI"
        assert rows[key].control_risk == 1000 * answer.control_risk
    # finding 1: the control risk up to 4 h is Noppers' 15-min arm, 3/12
    assert rows["responders_immediate"].control_risk == 250
    table, _ = findings_table(tuple(rows.values()))
    assert "Relative effect (95% CrI)" in table.data.columns and not any("CI)" in c for c in table.data.columns)
    frequentist = summary_of_findings(AnalysisPlan(comparison_model="IV", proportion_model="GLMM"), studies)
    assert "Relative effect (95% CI)" in findings_table(frequentist)[0].data.columns


def test_capped_absolute_effects_say_so():
    """Finding 5: an upper bound of 1000 per 1000 is a cap (RR 28 x 250 per 1000), said in the comment."""
    row = {r.key: r for r in summary_of_findings(AnalysisPlan(), load_studies())}["responders_immediate"]
    assert row.ketamine_ub == 1000
    assert "Capped at 1000 per 1000: the upper bound of the relative effect would imply more than every patient" in row.comment


def test_the_zero_cell_correction_is_stated_where_it_is_used():
    rows = {r.key: r for r in summary_of_findings(AnalysisPlan(), load_studies())}
    assert "Zero-cell correction: add 0.5 to each cell of Noppers 2011" in rows["responders_1_week"].comment
    assert "Zero-cell" not in rows["responders_immediate"].comment


def test_the_response_rate_row_puts_the_comparison_arm_beside_it():
    """Finding 6/8: an uncontrolled rate comes with the control arm there is (midazolam 3/12), and
    every arm's rate includes placebo response, not only the uncontrolled ones."""
    row = summary_of_findings(AnalysisPlan(), frozen_studies())[0]
    assert "Control arm among these samples: Noppers 2011 (Fifteen min after termination of infusion): 3/12 (25%)" in row.comment
    assert "A response rate in any arm includes placebo response" in row.comment
    assert "Cohen 2006 and Guedj 2007a give no time point; the protocol counts them in this window only" in row.comment


def test_the_comparison_treatment_is_named():
    """Finding 8: the comparison treatment (midazolam, an active placebo) was never named."""
    rows = {r.key: r for r in summary_of_findings(AnalysisPlan(), frozen_studies())}
    for key in ("responders_immediate", "responders_1_week", "responders_8_weeks"):
        assert rows[key].comment.startswith("Control: active placebo (midazolam 5 mg IV over 30 min), Noppers 2011.")
