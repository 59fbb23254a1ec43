"""The result contract (analysis.engine.contract): one set of names for every pooled result."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import special

from analysis import mantel_haenszel, meta_analysis, peto, pool_proportions
from analysis.engine.contract import NaturalScale, PooledResult
from analysis.present.narrative import caveats, describe_heterogeneity, describe_prediction_interval

EVENTS, N = [8, 17, 8, 13, 11], [12, 29, 11, 34, 17]
TABLES = dict(ai=[3, 4, 7], bi=[5, 6, 2], ci=[2, 3, 1], di=[6, 7, 9])
CONTRACT_FIELDS = ("k", "measure", "confidence_level", "estimate", "se", "pval", "ci_lb", "ci_ub",
                   "pi_lb", "pi_ub", "tau2", "labels", "notes", "model_label", "model_description",
                   "random_effects", "tau2_at_boundary", "has_prediction_interval", "participants")


def _results():
    return {
        "REML": meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], measure="RR"),
        "EE": meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="EE", measure="RR"),
        "GLMM": pool_proportions(EVENTS, N),
        "PLO": pool_proportions(EVENTS, N, method="PLO"),
        "PFT": pool_proportions(EVENTS, N, method="PFT"),
        "MH": mantel_haenszel(**TABLES, measure="RR"),
        "PETO": peto(**TABLES),
    }


@pytest.mark.parametrize("name", list(_results()))
def test_every_result_honours_the_contract(name):
    result = _results()[name]
    assert isinstance(result, PooledResult)
    for field in CONTRACT_FIELDS:
        getattr(result, field)  # raises if the contract is not met
    natural = result.natural()
    assert isinstance(natural, NaturalScale)
    assert natural.ci_lb <= natural.estimate <= natural.ci_ub
    frame = result.summary_frame()
    pooled = frame[frame["row_type"] == "pooled"].iloc[0]
    # the frame's pooled row and natural() agree on whether there is a prediction interval
    assert math.isnan(pooled["pi_lb"]) == (not result.has_prediction_interval)
    text = result.summary()
    assert result.model_label in text and f"k = {result.k}" in text


def test_fixed_effect_models_have_no_prediction_interval_and_tau2_zero():
    for result in (_results()["MH"], _results()["PETO"], _results()["EE"]):
        assert not result.random_effects and not result.has_prediction_interval
        assert result.tau2 == 0 and not result.tau2_at_boundary
        assert math.isnan(result.natural().pi_lb)


def test_proportion_to_dict_keys_each_on_one_documented_scale():
    """Issue 9: ci_lb on the logit scale beside pi_lb as a proportion."""
    glmm = pool_proportions(EVENTS, N)
    out = glmm.to_dict()
    assert list(out) == ["k", "method", "measure", "estimate", "se", "pval", "ci_lb", "ci_ub", "pi_lb",
                         "pi_ub", "tau2", "i2", "prop", "prop_ci_lb", "prop_ci_ub", "prop_pi_lb",
                         "prop_pi_ub"]
    assert out["measure"] == "PLO"
    for key in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"):
        prop_key = "prop" if key == "estimate" else f"prop_{key}"
        assert out[prop_key] == pytest.approx(special.expit(out[key]), rel=1e-12)
    assert out["pi_lb"] < 0 < out["prop_pi_lb"]  # the logit and the proportion really differ here


def test_one_study_has_no_prediction_interval_anywhere():
    """Issue 10: page 03 said one study has no prediction interval while its forest plot drew one."""
    one = meta_analysis([0.4], [0.09], measure="RR", test="knha")
    assert not one.has_prediction_interval
    assert math.isnan(one.natural().pi_lb)
    pooled = one.summary_frame().iloc[-1]
    assert math.isnan(pooled["pi_lb"]) and math.isnan(pooled["pi_ub"])
    assert describe_prediction_interval(one) == "With one study there is no prediction interval for a new study."


def test_boundary_is_read_from_the_contract_not_from_note_text():
    """Issue 9: the narrative found tau² = 0 by searching notes for "boundary"."""
    glmm = pool_proportions([8, 17], [12, 29])
    assert glmm.tau2_at_boundary
    silent = dataclasses.replace(glmm, notes=())  # the same fit without any note
    assert any("on the boundary" in line for line in caveats(silent))
    assert "estimated on the boundary" in describe_heterogeneity(silent)
    spread = pool_proportions([1, 17, 10], [12, 19, 11])
    assert not spread.tau2_at_boundary
    assert not any("on the boundary" in line for line in caveats(spread))


def test_heterogeneity_test_is_named_by_the_model():
    results = _results()
    assert results["GLMM"].heterogeneity_test.symbol == "LRT"
    assert results["GLMM"].heterogeneity_test.statistic == results["GLMM"].q_lrt
    assert results["PLO"].heterogeneity_test.symbol == "Q"
    assert results["MH"].heterogeneity_test.df == results["MH"].q_df
    assert meta_analysis([0.4], [0.09]).heterogeneity_test is None


def test_natural_scale_back_transforms_ratios_and_keeps_proportions():
    results = _results()
    reml = results["REML"]
    natural = reml.natural()
    assert natural.label == "Risk ratio" and natural.null_value == 1.0 and not natural.is_proportion
    assert natural.estimate == pytest.approx(np.exp(reml.estimate))
    assert natural.pi_ub == pytest.approx(np.exp(reml.pi_ub))
    assert results["PETO"].natural().label == "Peto odds ratio"
    pft = results["PFT"].natural()
    assert pft.is_proportion and pft.estimate == results["PFT"].prop
    generic = meta_analysis([0.1, 0.3], [0.02, 0.03]).natural()
    assert generic.label == "Estimate" and generic.null_value is None


def test_participants_counted_once_by_the_result():
    results = _results()
    assert results["GLMM"].participants == sum(N)
    assert results["MH"].participants == sum(map(sum, TABLES.values()))
    assert results["REML"].participants is None


def test_bayesian_results_honour_the_contract_and_give_grade_an_i2():
    from analysis import bayesian_meta_analysis

    rate = pool_proportions(EVENTS, N, method="BAYES", tau_prior_scale=1.0)
    comparison = bayesian_meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], measure="RR")
    for result in (rate, comparison):
        assert isinstance(result, PooledResult) and result.is_bayesian and result.interval_name == "CrI"
        assert result.heterogeneity_test is None and np.isnan(result.pval)
        vi = result.within_variances()
        w = 1 / vi
        typical = (len(vi) - 1) / (w.sum() - (w**2).sum() / w.sum())
        assert result.i2 == pytest.approx(100 * result.tau2 / (result.tau2 + typical))
        assert "CrI" in result.summary() and "posterior median" in result.summary()
    assert rate.natural().estimate == pytest.approx(rate.prop)
    assert rate.participants == sum(N)
    assert np.isnan(bayesian_meta_analysis([0.98], [0.29]).i2)  # one study: no I²


def _one_study_fits():
    from analysis.engine.bayesian import bayesian_meta_analysis
    from analysis.engine.bayesian_binomial import bayesian_proportions

    return {"inverse variance": meta_analysis([0.4], [0.09], measure="RR", labels=["A"]),
            "logit proportion": pool_proportions([8], [12], method="PLO", labels=["A"]),
            "Bayesian": bayesian_meta_analysis([0.4], [0.09], measure="RR", labels=["A"]),
            "Bayesian proportion": bayesian_proportions([8], [12], labels=["A"])}


@pytest.mark.parametrize("name", list(_one_study_fits()))
def test_one_study_has_no_prediction_interval_in_any_figure_table_or_text(name):
    """Issue 10: no prediction interval drawn or stated for one study; the posterior predictive
    interval of a Bayesian fit of one study (the prior's, not the evidence's) included."""
    import pandas as pd

    from analysis.present.narrative import summarise
    from analysis.present.plots import describe_forest_plot, forest_plot
    from analysis.present.tables import results_table

    fit = _one_study_fits()[name]
    assert not fit.has_prediction_interval
    assert math.isnan(fit.natural().pi_lb) and math.isnan(fit.summary_frame().iloc[-1]["pi_lb"])
    fig = forest_plot(fit)
    assert not [a for a in fig.axes[0].get_children() if a.get_gid() == "prediction-interval"]
    assert not any("rediction" in t.get_text() for t in fig.texts)
    description = describe_forest_plot(fit)
    assert "rediction" not in description.alt + description.caption
    text = summarise(fit, pd.DataFrame({"study_label": ["A"]}))
    assert "predictive interval" not in text and "there is no prediction interval" in text
    table = results_table({name: fit}, caption="one study").data
    assert table["Prediction interval"].tolist() == ["–"]


def test_one_study_posterior_draws_and_tabulates_no_predictive_distribution():
    from analysis.present.plots import describe_posterior_plot
    from analysis.present.plots.posterior import posterior_plot
    from analysis.present.tables import prior_sensitivity_table

    for fit in list(_one_study_fits().values())[2:]:
        gids = {line.get_gid() for ax in posterior_plot(fit).axes for line in ax.get_lines()}
        assert "theta_new-posterior" not in gids and "mu-posterior" in gids
        assert "new study's effect" not in describe_posterior_plot(fit).caption.replace("no new study's", "")
        columns = prior_sensitivity_table(fit, threshold=0.5 if fit.measure == "PLO" else 0.0,
                                          caption="priors").data.columns
        assert not any("predictive" in column for column in columns)
