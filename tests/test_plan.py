"""The analysis plan (analysis.review.plan): one vocabulary, validated once; the protocol's row rules."""

import csv
import math

import pandas as pd
import pytest
from frozen_data import frozen_studies

from analysis import AnalysisError
from analysis import pool_proportions
from analysis.data import DATA_DIR, load_studies
from analysis.review.plan import AnalysisPlan
from analysis.review.protocol import NEVER_POOLED_DESIGNS, TIME_WINDOWS, UNSTATED_TIME_WINDOW


@pytest.fixture(scope="module")
def studies():
    return load_studies()


@pytest.fixture(scope="module")
def one_trial(studies):
    """Noppers 2011 alone: one sample per window, no control responders at 1 week (8/12 vs 3/12,
    6/12 vs 2/12, 2/12 vs 0/12, 0/12 vs 0/12). Its own fixture, so a new trial in data/ leaves
    these k = 1 tests as they are."""
    return studies[studies["study_id"] == "noppers2011"].reset_index(drop=True)


@pytest.mark.parametrize("choices, message", [
    ({"proportion_model": "XX"}, "proportion_model='XX' is not supported"),
    ({"measure": "HR"}, "measure='HR' is not supported"),
    ({"method": "OLS"}, "method='OLS' is not supported"),
    ({"test": "t"}, "test='t' is not supported"),
    ({"proportion_model": "GLMM", "proportion_test": "knha"}, "proportion_test='knha' does not apply to the GLMM"),
    ({"time_window": "later"}, "time_window='later' is not supported"),
    ({"responder_threshold": 150}, "responder_threshold=150 must be a percent"),
    ({"include_unstated_time": "yes"}, "include_unstated_time must be True or False"),
    ({"include_inferred": "no"}, "include_inferred must be True or False"),
    ({"exclude": "cohen2006"}, "exclude must be a list of study ids or labels"),
    ({"response_rate_threshold": 50}, "response_rate_threshold=50 must be a proportion"),
    ({"confidence_level": 95}, "confidence_level=95 must lie strictly between 0 and 1"),
])
def test_every_choice_is_validated_with_a_plain_message(choices, message):
    with pytest.raises(AnalysisError, match=message.replace("(", r"\(").replace("[", r"\[")):
        AnalysisPlan(**choices)


def test_from_parameters_reads_only_the_vocabulary():
    plan = AnalysisPlan.from_parameters({"method": "DL", "exclude": ["a"], "data_dir": "x", "other": 1})
    assert plan == AnalysisPlan(method="DL", exclude=("a",))
    assert plan.defaults_differ() == {"method": "DL", "exclude": ("a",)}


def test_case_reports_are_never_pooled_in_any_subset(studies):
    """Issue 9: notebook 05's "50 % threshold only" analysis pooled two case reports."""
    subsets = AnalysisPlan().response_rate_subsets(studies)
    assert "50% responder threshold only" in subsets
    for name, rows in subsets.items():
        assert not rows["design"].isin(NEVER_POOLED_DESIGNS).any(), name
        assert rows["cohort_id"].is_unique, name
    threshold = subsets["50% responder threshold only"]
    assert (threshold["responder_threshold_percent"] == 50).all()
    # every poolable sample with a 50 % row in the window enters, even one whose own threshold
    # differs (its 50 % row is then a sensitivity-only row, e.g. Cohen 2006: 67 % pooled)
    candidates = studies[(studies["outcome"] == "responders") & studies["ketamine_events"].notna()
                         & ~studies["design"].isin(NEVER_POOLED_DESIGNS)
                         & (studies["responder_threshold_percent"] == 50)
                         & studies["time_window"].isin(["during_or_immediate", "not_reported"])]
    assert set(threshold["cohort_id"]) == set(candidates["cohort_id"])
    assert not set(threshold["cohort_id"]) <= set(subsets["primary analysis"]["cohort_id"]) or (
        set(threshold["row_id"]) != set(subsets["primary analysis"]["row_id"]))


def test_case_report_rows_at_the_threshold_exist_but_stay_out(studies):
    case = studies[(studies["design"] == "case_report") & (studies["responder_threshold_percent"] == 50)]
    assert not case.empty  # the data hold such rows; the subset above leaves them out
    rows = AnalysisPlan(responder_threshold=50).response_rate_rows(studies)
    assert not rows["row_id"].isin(case["row_id"]).any()


def test_exclude_leaves_a_study_out_of_every_analysis(studies):
    plan = AnalysisPlan(exclude=("noppers2011",))
    assert "noppers2011" not in set(plan.response_rate_rows(studies)["study_id"])
    assert "noppers2011" not in set(plan.included(studies)["study_id"])
    assert "noppers2011" not in set(plan.controlled_rows(studies)["study_id"])
    controlled = tuple(studies.loc[studies["control_events"].notna(), "study_id"].unique())
    with pytest.raises(AnalysisError, match="no study counts responders in both arms"):
        AnalysisPlan(exclude=controlled).controlled(studies)


def test_exclude_takes_the_label_readers_see(studies):
    """Issue 19: ``exclude=("Noppers 2011",)``, the label every table shows, changed nothing."""
    by_label = AnalysisPlan(exclude=("Noppers 2011",)).response_rate_rows(studies)
    by_id = AnalysisPlan(exclude=("noppers2011",)).response_rate_rows(studies)
    assert "noppers2011" not in set(by_label["study_id"])
    assert list(by_label["row_id"]) == list(by_id["row_id"])


def test_exclude_refuses_a_name_that_matches_no_study(studies):
    with pytest.raises(AnalysisError, match=r"'Nobody 1999' matches no study; name a study by its id or "
                                            r"label: .*noppers2011 \(Noppers 2011\)"):
        AnalysisPlan(exclude=("Nobody 1999",)).response_rate(studies)


def test_one_sample_is_shown_as_itself_not_as_a_glmm(one_trial):
    plan = AnalysisPlan(proportion_model="GLMM", time_window="short_term", include_unstated_time=False)
    rate = plan.response_rate(one_trial)
    assert rate.k == 1 and rate.method == "PLO"
    assert rate.notes[0].startswith("one sample only: nothing is pooled and the GLMM cannot be fitted")
    assert not rate.has_prediction_interval


def test_the_bayesian_default_pools_one_sample_with_its_prior(one_trial):
    """The protocol amendment's headline model works at k = 1: the prior on tau carries the spread.

    Its posterior predictive interval then is the prior's, not the evidence's: kept in the
    ``prop_pi_*`` fields, but no prediction interval for a reader (issue 10: none drawn or
    stated for one study)."""
    plan = AnalysisPlan(time_window="short_term", include_unstated_time=False)
    assert plan.proportion_model == "BAYES"
    rate = plan.response_rate(one_trial)
    assert rate.k == 1 and rate.is_bayesian and not rate.has_prediction_interval
    assert rate.prop_pi_lb < rate.prop_ci_lb < rate.prop < rate.prop_ci_ub < rate.prop_pi_ub
    assert math.isnan(rate.natural().pi_lb)


def test_undefined_mantel_haenszel_is_a_reason_not_a_crash(one_trial):
    controlled = AnalysisPlan(time_window="short_term").controlled(one_trial)
    assert controlled.mantel_haenszel is None
    assert "no events in the control arm" in controlled.mantel_haenszel_note
    assert controlled.random_effects.k == 1


def test_the_plan_uses_its_options(studies):
    plan = AnalysisPlan(proportion_model="PFT", proportion_test="knha", method="DL", measure="OR", test="z",
                        confidence_level=0.9)
    rate = plan.response_rate(studies)
    assert (rate.method, rate.tau_method, rate.test, rate.confidence_level) == ("PFT", "DL", "knha", 0.9)
    fit = plan.controlled(studies).random_effects
    assert (fit.measure, fit.method, fit.test, fit.confidence_level) == ("OR", "DL", "z", 0.9)
    assert set(plan.response_rate_models(studies)) == {"PFT", "GLMM", "BAYES", "PLO"}
    assert isinstance(plan.controlled(studies).comparisons, pd.DataFrame)


def test_bayesian_models_of_the_plan(studies, one_trial):
    plan = AnalysisPlan(proportion_model="BAYES", comparison_model="BAYES", tau_prior_scale=0.5)
    rate = plan.response_rate(studies)
    assert rate.is_bayesian and rate.tau_prior.label == "half-normal 0.5"
    controlled = plan.controlled(studies)
    assert controlled.primary is controlled.bayesian and controlled.bayesian.is_bayesian
    assert not controlled.random_effects.is_bayesian
    assert controlled.bayesian.natural().label == "Risk ratio"
    # one sample is a proper posterior with a proper prior on tau: shown as such, not replaced
    one = AnalysisPlan(proportion_model="BAYES", time_window="short_term", include_unstated_time=False)
    assert one.response_rate(one_trial).k == 1 and one.response_rate(one_trial).is_bayesian
    with pytest.raises(AnalysisError, match="tau_prior_scale"):
        AnalysisPlan(tau_prior_scale=0)


# ---------------------------------------------- issue 22: one question, one answer


@pytest.mark.parametrize("primary_window", TIME_WINDOWS)
def test_rows_without_a_stated_time_belong_to_one_window_only(studies, primary_window):
    """Finding 2: whatever window the plan asks for, Cohen 2006 and Guedj 2007a (no stated time)
    count only in the window the protocol assigns them (they measured right after the infusion)."""
    plan = AnalysisPlan(time_window=primary_window, include_unstated_time=True)
    for window in TIME_WINDOWS:
        rows = plan.response_rate_rows(studies, window)
        unstated = set(rows.loc[rows["time_window"] == "not_reported", "study_id"])
        assert bool(unstated) == (window == UNSTATED_TIME_WINDOW), (primary_window, window, unstated)
    assert {"cohen2006", "guedj2007a"} <= set(plan.response_rate_rows(studies, UNSTATED_TIME_WINDOW)["study_id"])


def test_one_time_point_per_sample_and_window_everywhere():
    """Finding 1: "immediately after" is Noppers' 15-min row on every page: the response rate,
    the controlled comparison, the control risk and the duration page."""
    studies = frozen_studies()  # one controlled trial: the data version of tests/frozen_data.py
    plan = AnalysisPlan()
    rate, controlled = plan.answer(studies, "response_rate"), plan.answer(studies, "controlled")
    noppers = rate.rows[rate.rows["cohort_id"] == "noppers2011"]
    assert noppers["timepoint_hours"].tolist() == controlled.rows["timepoint_hours"].tolist() == [0.25]
    assert (controlled.control_events, controlled.control_n) == (3, 12)
    duration = plan.duration(studies)
    pooled = duration.studies[duration.studies["pooled_in"] == "during_or_immediate"]
    assert pooled.loc[pooled["study_id"] == "noppers2011", "timepoint_hours"].tolist() == [0.25]


@pytest.mark.parametrize("window", TIME_WINDOWS)
def test_the_duration_page_pools_each_window_as_the_plans_answer(studies, window):
    plan = AnalysisPlan()
    duration = plan.duration(studies)
    row = duration.pooled.set_index("time_window").loc[window]
    if row["k"] == 0:
        with pytest.raises(AnalysisError, match="nothing to pool"):
            plan.answer(studies, "response_rate", window)
        return
    answer = plan.answer(studies, "response_rate", window)
    assert row["k"] == answer.k
    assert (row["prop"], row["prop_ci_lb"], row["prop_ci_ub"]) == (
        answer.natural.estimate, answer.natural.ci_lb, answer.natural.ci_ub)


def test_an_answer_names_its_model_interval_and_zero_cell_correction(studies):
    """Finding 4: a posterior's interval is a CrI, and the zero-cell correction is stated where used."""
    week = AnalysisPlan().answer(studies, "controlled", "short_term")
    assert week.interval_type == "CrI" and week.model.startswith("Bayesian")
    assert week.text().startswith("RR 5.00 (95% CrI ")
    assert "add 0.5 to each cell of Noppers 2011" in week.zero_cell
    iv = AnalysisPlan(comparison_model="IV").answer(studies, "controlled", "short_term")
    assert iv.interval_type == "CI" and "95% CI" in iv.text()
    assert AnalysisPlan().answer(studies, "controlled").zero_cell == ""
    with pytest.raises(AnalysisError, match="outcome='pain' is not supported"):
        AnalysisPlan().answer(studies, "pain")


# ------------------------------------------------- sensitivity: stated and computed values only


def test_stated_and_computed_values_only_reproduced_by_hand(studies):
    """Issue 20: the pooled response rate without inferred numbers, reproduced from the CSV files
    read with the csv module (not through the library's selection): the primary analysis's rows
    minus every row whose events, patients or threshold the provenance records as inferred."""
    with open(DATA_DIR / "provenance.csv", newline="", encoding="utf-8") as handle:
        inferred = {record["row_id"] for record in csv.DictReader(handle)
                    if record["certainty"] == "inferred"
                    and record["column"] in ("ketamine_events", "ketamine_n", "responder_threshold_percent")}
    primary = AnalysisPlan().response_rate_rows(studies)
    kept = primary[~primary["row_id"].isin(inferred)]
    # among the pooled rows only Sörensen 1995's 8 of 11 is inferred (a new trial's stated rows stay)
    assert sorted(set(primary["row_id"]) - set(kept["row_id"])) == ["sorensen1995_responders_immediate"]
    assert len(kept) == len(primary) - 1
    by_hand = pool_proportions([int(e) for e in kept["ketamine_events"]], [int(n) for n in kept["ketamine_n"]],
                               method="BAYES", tau_prior_scale=1.0)
    plan = AnalysisPlan(include_inferred=False)
    result = plan.response_rate(studies)
    assert result.k == len(kept) and result.participants == sum(int(n) for n in kept["ketamine_n"])
    assert result.natural().estimate == pytest.approx(by_hand.natural().estimate, rel=1e-12)
    assert (result.natural().ci_lb, result.natural().ci_ub) == pytest.approx(
        (by_hand.natural().ci_lb, by_hand.natural().ci_ub), rel=1e-12)
    assert "stated and computed values only" in AnalysisPlan().response_rate_subsets(studies)


def test_an_inferred_time_window_counts_as_unstated():
    """A row whose window is inferred is pooled only where rows without a stated time are."""
    rows = pd.DataFrame({
        "row_id": ["a", "b"], "study_id": ["a", "b"], "cohort_id": ["a", "b"], "study_label": ["A", "B"],
        "year": [2000, 2001], "design": ["rct_crossover"] * 2, "control": ["saline_placebo"] * 2,
        "outcome": ["responders"] * 2, "time_window": ["during_or_immediate"] * 2, "timepoint_hours": [1.0, 1.0],
        "responder_threshold_percent": [50.0, 50.0], "include_in_pooling": [True, True],
        "ketamine_events": [5, 6], "ketamine_n": [10, 10], "control_events": [1, 2], "control_n": [10, 10],
        "inferred_values": ["time_window", ""]})
    assert AnalysisPlan().response_rate_rows(rows)["row_id"].tolist() == ["a", "b"]
    assert AnalysisPlan(include_inferred=False).response_rate_rows(rows)["row_id"].tolist() == ["a", "b"]
    assert AnalysisPlan(include_inferred=False, include_unstated_time=False).response_rate_rows(
        rows)["row_id"].tolist() == ["b"]
    assert AnalysisPlan(include_inferred=False).controlled_rows(rows)["row_id"].tolist() == ["b"]
    rows.loc[1, "inferred_values"] = "control_events|time_window"
    assert AnalysisPlan(include_inferred=False).controlled_rows(rows).empty
    with pytest.raises(AnalysisError, match="no 'inferred_values' column"):
        AnalysisPlan(include_inferred=False).response_rate_rows(rows.drop(columns="inferred_values"))
