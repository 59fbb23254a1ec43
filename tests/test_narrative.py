"""Word-for-word tests of analysis.present.narrative on fixed results.

Each result is built with the real functions (pool_proportions, effect_sizes,
meta_analysis, egger_test) from the small fixed datasets below; the sentences were read
and checked against the result fields, then pinned. The numbers inside the sentences are
the results' own (their agreement with metafor is pinned in test_proportions.py and
test_pooling_reference.py); this file tests only the wording and formatting.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.engine._errors import AnalysisError
from analysis.review.duration import responders_over_time
from analysis.engine.effect_sizes import effect_sizes
from analysis.present.narrative import (
    caveats,
    describe_duration,
    describe_estimate,
    describe_heterogeneity,
    describe_prediction_interval,
    format_p,
    format_percent,
    format_tau2,
    i2_band,
    summarise,
)
from analysis.engine.pooling import meta_analysis
from analysis.engine.proportions import pool_proportions
from analysis.engine.small_study import egger_test

#: The responder counts of the five pooled samples of data/studies.csv (<= 4 h with
#: unstated times), copied so that this test does not move when the data are revised.
RESPONSE_ROWS = pd.DataFrame({
    "study_label": ["Sörensen 1995", "Graven-Nielsen 2000", "Cohen 2006", "Guedj 2007a", "Noppers 2011"],
    "design": ["rct_crossover", "rct_crossover", "single_arm_prospective", "single_arm_prospective",
               "rct_parallel"],
    "control": ["saline_placebo", "saline_placebo", "none", "none", "active_placebo"],
    "responder_threshold_percent": [50, 50, 67, 50, 50],
    "time_window": ["during_or_immediate", "during_or_immediate", "not_reported", "not_reported",
                    "during_or_immediate"],
    "ketamine_events": [8, 17, 13, 11, 8],
    "ketamine_n": [11, 29, 34, 17, 12],
})

#: Three made-up two-arm trials; C 2010 has a zero cell.
TRIALS = pd.DataFrame({
    "study_label": ["A 2001", "B 2005", "C 2010"],
    "ai": [8, 12, 5], "n1i": [12, 20, 15], "ci": [3, 4, 0], "n2i": [12, 20, 15],
})

FEW_STUDIES_RE = ("Only 3 studies: the between-study variance, I² and the prediction interval are "
                  "estimated imprecisely.")
BOUNDARY_3 = ("tau² is estimated at 0 (on the boundary): this does not show that the studies agree, "
              "only that 3 studies cannot tell their differences from chance.")
NOT_RUN_3 = ("With 3 studies, small-study (publication bias) tests have little power and were not run; "
             "the protocol runs them only with at least 10 studies.")


@pytest.fixture(scope="module")
def glmm():
    return pool_proportions(RESPONSE_ROWS["ketamine_events"], RESPONSE_ROWS["ketamine_n"],
                            labels=RESPONSE_ROWS["study_label"])


@pytest.fixture(scope="module")
def trials():
    return effect_sizes(TRIALS, "RR")


@pytest.fixture(scope="module")
def random_effects(trials):
    return meta_analysis(trials["yi"], trials["vi"], method="REML", test="knha",
                         labels=trials["study_label"], measure="RR")


def test_response_rate_summary_word_for_word(glmm):
    plo = pool_proportions(RESPONSE_ROWS["ketamine_events"], RESPONSE_ROWS["ketamine_n"], method="PLO",
                           labels=RESPONSE_ROWS["study_label"])
    assert summarise(glmm, RESPONSE_ROWS, compare=plo) == (
        "The pooled response rate was 57% (95% CI 44% to 69%; 5 studies, 103 patients; binomial-normal "
        "random-effects model (GLMM)). Between-study variance tau² = 0.099 (logit scale). I² = 31%: the "
        "share of the variation in study results that reflects real differences between studies rather "
        "than chance, which might not be important. Likelihood-ratio test of heterogeneity: LRT = 6.80 on 4 "
        "degrees of freedom, p = 0.15. The 95% prediction interval, 37% to 75%, is the range in which the "
        "response rate of a new study like these would be expected to lie.\n\n"
        "**Caveats**\n\n"
        "- Every ketamine arm's response rate includes placebo response and the natural fluctuation of pain; "
        "2 of 5 studies (Cohen 2006 and Guedj 2007a) have no control group to show how large that part is, so "
        "the pooled rate cannot be attributed to ketamine alone.\n"
        "- Responder thresholds differ: at least 50% pain reduction in 4 studies; at least 67% pain "
        "reduction in 1 study (Cohen 2006).\n"
        "- Cohen 2006 and Guedj 2007a do not state when response was assessed after ketamine; the protocol "
        "counts them in the window up to 4 h and in no other.\n"
        "- With 5 studies, small-study (publication bias) tests have little power and were not run; the "
        "protocol runs them only with at least 10 studies.\n"
        "- The random-effects model on the logit scale (REML) gives 57% (95% CI 44% to 70%) against 57% "
        "from the binomial-normal random-effects model (GLMM): a difference of 0 percentage points, so the "
        "choice of model changes little."
    )


def test_sentences_use_the_result_fields(glmm):
    # The rounded numbers in the text are the result's own fields.
    text = describe_estimate(glmm)
    assert format_percent(glmm.prop) in text and format_percent(glmm.prop_ci_lb) in text
    assert format_percent(glmm.prop_pi_ub) in describe_prediction_interval(glmm)
    assert format_tau2(glmm.tau2) in describe_heterogeneity(glmm)


def test_risk_ratio_random_effects_word_for_word(random_effects, trials):
    assert describe_estimate(random_effects) == (
        "The pooled risk ratio was 3.08 (95% CI 1.15 to 8.27; 3 studies; random-effects model (REML, "
        "Hartung-Knapp)), favouring ketamine; the confidence interval excludes 1 (no difference).")
    assert describe_heterogeneity(random_effects) == (
        "Between-study variance tau² = 0 (log risk ratio scale): estimated on the boundary, so the model "
        "finds no variation between studies beyond chance. I² = 0%: the share of the variation in study "
        "results that reflects real differences between studies rather than chance, which might not be "
        "important. Cochran's Q = 0.86 on 2 degrees of freedom, p = 0.65.")
    assert describe_prediction_interval(random_effects) == (
        "The 95% prediction interval, 1.15 to 8.27, is the range in which the risk ratio of a new study "
        "like these would be expected to lie. It excludes 1 (no difference): a new study would be expected "
        "to favour ketamine.")
    assert caveats(random_effects, trials) == (
        FEW_STUDIES_RE, BOUNDARY_3, NOT_RUN_3,
        "C 2010: add 0.5 to each cell (zero cell; to='only0').")


def test_equal_effects_word_for_word(trials):
    ee = meta_analysis(trials["yi"], trials["vi"], method="EE", labels=trials["study_label"], measure="RR")
    assert describe_estimate(ee) == (
        "The pooled risk ratio was 3.08 (95% CI 1.56 to 6.12; 3 studies; equal-effects model), favouring "
        "ketamine; the confidence interval excludes 1 (no difference).")
    assert describe_heterogeneity(ee) == (
        "I² = 0%: the share of the variation in study results that reflects real differences between "
        "studies rather than chance, which might not be important. Cochran's Q = 0.86 on 2 degrees of "
        "freedom, p = 0.65.")
    assert describe_prediction_interval(ee) == (
        "The equal-effects model assumes one common effect, so it gives no prediction interval; see the "
        "random-effects model for the spread expected in a new study.")


def test_single_study_word_for_word():
    # Noppers 2011 at 15 min: 8/12 vs 3/12.
    es = effect_sizes(pd.DataFrame({"ai": [8], "n1i": [12], "ci": [3], "n2i": [12]}), "RR")
    one = meta_analysis(es["yi"], es["vi"], method="REML", test="knha", labels=["Noppers 2011"], measure="RR")
    assert describe_estimate(one) == (
        "The risk ratio from the single study (Noppers 2011) was 2.67 (95% CI 0.93 to 7.69; 1 study), "
        "favouring ketamine, but the confidence interval includes 1 (no difference).")
    assert describe_heterogeneity(one) == "With one study, heterogeneity between studies cannot be assessed."
    assert describe_prediction_interval(one) == "With one study there is no prediction interval for a new study."
    assert caveats(one) == (
        "Only one study: the result is that study's own estimate; nothing is pooled.",
        "With 1 study, small-study (publication bias) tests have little power and were not run; the "
        "protocol runs them only with at least 10 studies.")


def test_lower_is_better_word_for_word():
    md = meta_analysis([-12.0, -8.0, -15.0, -3.0], [9.0, 16.0, 25.0, 12.0], labels=list("ABCD"), measure="MD")
    assert describe_estimate(md, benefit="lower") == (
        "The pooled mean difference was -9.12 (95% CI -14.11 to -4.14; 4 studies; random-effects model "
        "(REML)), favouring ketamine; the confidence interval excludes 0 (no difference).")
    assert describe_estimate(md, benefit="higher").endswith(
        "favouring the control; the confidence interval excludes 0 (no difference).")
    assert describe_prediction_interval(md, benefit="lower") == (
        "The 95% prediction interval, -17.46 to -0.79, is the range in which the mean difference of a new "
        "study like these would be expected to lie. It excludes 0 (no difference): a new study would be "
        "expected to favour ketamine.")
    assert describe_heterogeneity(md) == (
        "Between-study variance tau² = 12 (mean difference scale). I² = 45%: the share of the variation in "
        "study results that reflects real differences between studies rather than chance, which may be "
        "moderate. Cochran's Q = 5.50 on 3 degrees of freedom, p = 0.14.")


def test_zero_cell_caveats_for_proportions():
    plo = pool_proportions([0, 5, 7], [10, 12, 14], method="PLO")
    assert caveats(plo)[-1] == ("Study 1 had 0 or all events: 1/2 was added to events and non-events "
                                "(metafor's escalc default).")
    glmm = pool_proportions([0, 5, 7], [10, 12, 14])
    assert caveats(glmm)[-1] == ("Study 1 had 0 or all events: the GLMM uses the counts as they are, but I² "
                                 "uses logits with 1/2 added to events and non-events.")


def test_small_study_caveat_from_the_test_result(random_effects):
    egger = egger_test(random_effects)
    assert egger.low_power
    assert caveats(random_effects, small_study=egger) == (
        FEW_STUDIES_RE, BOUNDARY_3,
        "Small-study tests: with 3 studies the test has little power (fewer than 10); funnel-plot asymmetry "
        "cannot be judged reliably.")


def test_duration_word_for_word():
    data = pd.DataFrame({
        "study_id": ["a", "a", "b"], "study_label": ["A 2011", "A 2011", "B 2000"],
        "timepoint_hours": [0.5, 168, 1.0],
        "time_window": ["during_or_immediate", "short_term", "during_or_immediate"],
        "ketamine_events": [8, 2, 17], "ketamine_n": [12, 12, 29]})
    assert describe_duration(responders_over_time(data)) == (
        "- During or immediately after the infusion (up to 4 h): responders 61% (95% CI 45% to 75%; 2 "
        "studies, 41 patients; binomial-normal random-effects model (GLMM)).\n"
        "- In the short term (1 to 7 days): one study (A 2011), 2/12 responders = 17% (95% CI 2% to 48%).\n"
        "- In the medium term (1 to 4 weeks): no study reports responders.\n"
        "- In the long term (8 weeks or more): no study reports responders.")


@pytest.mark.parametrize(("value", "text"), [(0.5710, "57%"), (0.004, "0.4%"), (0.996, "99.6%"),
                                             (0.0, "0%"), (1.0, "100%")])
def test_format_percent(value, text):
    assert format_percent(value) == text


@pytest.mark.parametrize(("p", "text"), [(0.2821, "p = 0.28"), (0.0042, "p = 0.004"), (0.0009, "p < 0.001")])
def test_format_p(p, text):
    assert format_p(p) == text


@pytest.mark.parametrize(("i2", "band"), [(0, "might not be important"), (39.9, "might not be important"),
                                          (40, "may be moderate"), (60, "may be substantial"),
                                          (75, "is considerable"), (100, "is considerable")])
def test_i2_bands(i2, band):
    assert i2_band(i2) == band


def test_errors(glmm, random_effects):
    with pytest.raises(AnalysisError, match="pooled 5 studies|pools 5 studies"):
        caveats(glmm, RESPONSE_ROWS.head(3))
    with pytest.raises(AnalysisError, match="benefit"):
        describe_estimate(random_effects, benefit="up")
    with pytest.raises(AnalysisError, match="result must be"):
        describe_estimate({"estimate": 1.0})
    with pytest.raises(AnalysisError, match="compare"):
        caveats(random_effects, compare=glmm)


def test_crossover_trials_sentence_names_what_each_trial_reports():
    from analysis.present.narrative import describe_crossover_trials

    rows = pd.DataFrame({
        "study_label": ["A 1995", "A 1995", "B 2000"],
        "control_events": [2.0, None, None],
        "ketamine_mean": [None, 40.0, None],
        "control_mean": [None, 55.0, None],
        "spread_type": [None, "sd", None],
    })
    assert describe_crossover_trials(rows) == (
        "2 included crossover trials (A 1995 and B 2000). Responders in both periods: A 1995. "
        "Per-period pain scores with a stated SD or SE: A 1995."
    )
    assert describe_crossover_trials(rows.iloc[0:0]) == "No included crossover trial is in the data."
    # issue 22, finding 7: page 03 counted a trial awaiting classification that page 01 does not count
    assert describe_crossover_trials(rows, awaiting=["C 1997"]).endswith(
        "C 1997 awaits classification and is not counted.")


#: Two studies, one with a control arm at two time points (15 min and 8 weeks).
TWO_STUDIES_OVER_TIME = pd.DataFrame({
    "study_id": ["a", "a", "b"], "study_label": ["A 2011", "A 2011", "B 2000"],
    "timepoint_hours": [0.5, 1344.0, 1.0],
    "time_window": ["during_or_immediate", "long_term", "during_or_immediate"],
    "ketamine_events": [8, 2, 17], "ketamine_n": [12, 12, 29],
    "control_events": [3, 2, None], "control_n": [12, 12, None]})


def test_duration_sentences_give_the_control_arm_where_one_exists():
    """Issue 10: "In the long term 2/12 responders = 17 %" omitted that the control arm also had 2/12."""
    from analysis.review.duration import responders_over_time
    from analysis.present.narrative import describe_duration

    text = describe_duration(responders_over_time(TWO_STUDIES_OVER_TIME)).splitlines()
    assert text[0].endswith("; control arms: A 2011 3/12 = 25%.")
    assert text[3] == ("- In the long term (8 weeks or more): one study (A 2011), 2/12 responders = 17% "
                       "(95% CI 2% to 48%); in its control arm 2/12 = 17%.")


def test_a_one_sample_window_puts_the_control_arm_beside_the_ketamine_arms_own_count():
    """The model's 14% beside the control's 2/12 = 17% read as fewer responders with ketamine,
    when both arms had 2 of 12: the observed counts go side by side."""
    from analysis.review.duration import responders_over_time
    from analysis.review.plan import AnalysisPlan
    from analysis.present.narrative import describe_duration

    duration = responders_over_time(TWO_STUDIES_OVER_TIME, pool=AnalysisPlan().pool_rates)
    long_term = describe_duration(duration).splitlines()[3]
    fit = duration.fits["long_term"]
    assert format_percent(fit.prop) != "17%"  # the model's estimate is not the observed proportion
    assert long_term.startswith(f"- In the long term (8 weeks or more): responders {format_percent(fit.prop)} (")
    assert long_term.endswith("; observed: ketamine arm 2/12 = 17%, control arm 2/12 = 17%.")
    assert "; control arms:" in describe_duration(duration).splitlines()[0]  # pooled windows list them


def test_calibration_is_stated_only_for_the_calibrated_headline_models():
    from analysis import bayesian_meta_analysis
    from analysis.present.narrative import describe_calibration

    one = bayesian_meta_analysis([0.98], [0.29], measure="RR", tau_prior_scale=1.0)
    two = bayesian_meta_analysis([0.98, 0.2], [0.29, 0.4], measure="RR", tau_prior_scale=1.0)
    # issue 22, finding 5: with one trial the interval covered every run: too wide, not "calibrated"
    assert describe_calibration(one) == (
        "Coverage: in simulations shaped like this evidence (README, Calibration), this model's 95% credible "
        "intervals covered the truth in at least 96% of runs, never less than the 95% asked for. With one study "
        "they covered the truth in every run: wider than 95% needs, because one study cannot show how "
        "much studies differ, so the width comes mostly from the prior.")
    assert "calibrated" not in describe_calibration(one) + describe_calibration(two)
    assert "With one study" not in describe_calibration(two)
    assert "posterior predictive intervals in at least 96%" in describe_calibration(two)
    # another prior, another level, a measure not simulated, or a frequentist model: no sentence
    assert describe_calibration(bayesian_meta_analysis([0.98], [0.29], measure="RR", tau_prior_scale=0.5)) == ""
    assert describe_calibration(bayesian_meta_analysis([0.98], [0.29], measure="OR", tau_prior_scale=1.0)) == ""
    assert describe_calibration(two.refit(confidence_level=0.9)) == ""
    assert describe_calibration(pool_proportions([8, 17], [12, 29])) == ""


def test_inferred_values_left_out_word_for_word():
    """Issue 20: the sentence says whether the headline changes, from the two results."""
    from analysis.present.narrative import describe_inferred_left_out
    rows = pd.DataFrame({"row_id": ["a", "b"], "study_label": ["A 2000", "B 2001"]})
    every = pool_proportions([9, 8], [10, 10], method="PLO", tau_method="DL")
    strict = pool_proportions([8], [10], method="PLO", tau_method="DL")
    assert describe_inferred_left_out(every, rows, strict, rows.iloc[1:]) == (
        "Leaving out the numbers inferred from the sources’ wording rather than stated or computed (A 2000), the "
        "pooled response rate is 80% (95% CI 46% to 95%; 1 study) instead of 84% (95% CI 61% to 95%; 2 studies): "
        "the headline changes: the interval includes 50% instead of lying above it.")
    assert describe_inferred_left_out(every, rows, every, rows) == (
        "No pooled number of the response rate is inferred from the sources’ wording (each is stated or computed "
        "by arithmetic), so leaving inferred values out changes nothing.")
    assert describe_inferred_left_out(every, rows, None, rows.iloc[:0]).endswith(
        "no sample is left to pool, against 84% (95% CI 61% to 95%; 2 studies) with them: the headline cannot be "
        "checked.")


def test_small_study_tests_in_words_from_the_one_run_the_review_makes():
    """The sentence reads the tests the review ran (issue 19: narrative ran them a second time).
    BCG log risk ratios, 13 trials: metafor's regtest(rma(yi, vi)) p = 0.4218 and
    ranktest(rma(yi, vi)) p = 0.9524 (tests/reference/sensitivity.json)."""
    from analysis.present.narrative import describe_small_study_tests
    from analysis.review.small_study_effects import small_study_tests
    from tests.metadat import BCG

    es = effect_sizes(BCG, measure="RR")
    tests = small_study_tests(meta_analysis(es["yi"], es["vi"]))
    assert tests.run and tests.k == 13
    assert describe_small_study_tests(tests) == (
        "Egger's regression test: p = 0.42; rank correlation test (Begg): p = 0.95 (13 studies).")


def test_the_uncontrolled_caveat_says_every_arm_includes_placebo_response_and_names_the_comparison():
    """Issue 22, finding 8: "2 of 5 studies have no control group: their response rates include
    placebo response" implied the other arms' did not; the comparison treatment was never named."""
    from frozen_data import frozen_studies
    from analysis.review.plan import AnalysisPlan

    studies = frozen_studies()  # the data version whose facts it states
    plan = AnalysisPlan()
    rows = plan.response_rate_rows(studies)
    text = summarise(plan.pool_rates(rows), rows)
    assert "Every ketamine arm's response rate includes placebo response" in text
    assert "For comparison, the control arm among them: Noppers 2011 (midazolam 5 mg IV over 30 min): 3/12 = 25%" in text
    assert "their response rates include placebo response" not in text


def test_a_subset_that_swaps_a_row_says_so():
    """Issue 22, finding 7: page 05's "50% threshold only" silently swapped in Cohen's 18/34 from a review table."""
    from analysis.data import load_studies
    from analysis.present.narrative import describe_subset_rows
    from analysis.review.plan import AnalysisPlan

    text = describe_subset_rows(AnalysisPlan().response_rate_subsets(load_studies()))
    assert text.startswith("- 50% responder threshold only: Cohen 2006 counts 18/34 at 50% instead of 13/34 at 67%")
    assert "Pastrak 2021 table" in text
