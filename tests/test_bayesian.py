"""Invariants of the Bayesian models (analysis.engine.bayesian, analysis.engine.bayesian_binomial).

Comparisons with bayesmeta and with the brute-force binomial integration are
in tests/test_bayesian_reference.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from analysis import AnalysisError, bayesian_meta_analysis, effect_sizes, meta_analysis
from analysis.engine import _posterior
from analysis.engine._tau_priors import RHODES_OUTCOMES, TURNER_OUTCOMES, make_tau_prior
from analysis.engine.bayesian import SUMMARY_KEYS, NormalPosterior
from analysis.engine.bayesian_binomial import bayesian_proportions
from tests.metadat import BCG

YI = np.array([0.31, 0.62, -0.05, 0.44, 0.10])
VI = np.array([0.04, 0.08, 0.03, 0.11, 0.05])

#: Quadrature error of the posterior summaries relative to the posterior SD:
#: the tau rule integrates the smooth posterior to ~1e-8, quantiles are solved
#: to 1e-10 SD; 1e-6 leaves room for both.
SD_FRACTION = 1e-6
#: scipy's dblquad (adaptive QUADPACK) at relative tolerance 1e-8 agrees with
#: ours to a few 1e-6 posterior SDs; it takes seconds, so it is not run tighter.
DBLQUAD_RTOL = 1e-8
DBLQUAD_SD_FRACTION = 1e-5
#: Monte Carlo tolerance: 4 standard errors of a proportion from 200,000 draws.
MC_DRAWS = 200_000


def test_to_dict_keys_and_contract():
    res = bayesian_meta_analysis(YI, VI, measure="RR", tau_prior_scale=0.5)
    assert tuple(res.to_dict()) == SUMMARY_KEYS
    assert res.k == 5 and res.measure == "RR" and res.confidence_level == 0.95
    assert (res.estimate, res.se, res.ci_lb, res.ci_ub) == (res.mu_median, res.mu_sd, res.mu_ci_lb, res.mu_ci_ub)
    assert (res.pi_lb, res.pi_ub) == (res.pred_ci_lb, res.pred_ci_ub)
    assert res.tau2 == pytest.approx(res.tau_median**2)
    assert np.isnan(res.pval) and res.random_effects and not res.tau2_at_boundary
    assert res.model_label == "Bayesian RE (half-normal 0.5)"
    assert res.labels == tuple(f"Study {i}" for i in range(1, 6)) and res.notes == ()


def test_intervals_are_ordered():
    res = bayesian_meta_analysis(YI, VI)
    assert res.mu_ci_lb < res.mu_median < res.mu_ci_ub
    assert res.pred_ci_lb < res.mu_ci_lb and res.mu_ci_ub < res.pred_ci_ub
    assert 0 < res.tau_ci_lb < res.tau_median < res.tau_ci_ub


def test_study_order_does_not_matter():
    order = np.array([3, 0, 4, 1, 2])
    a = bayesian_meta_analysis(YI, VI).to_dict()
    b = bayesian_meta_analysis(YI[order], VI[order]).to_dict()
    for key in SUMMARY_KEYS:
        assert b[key] == pytest.approx(a[key], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("k", [5, 300])
def test_rule_refinement_changes_nothing(monkeypatch, k):
    """Four times the panels and twice the nodes give the same summaries (the quadrature has
    converged), for a few studies and for many (a narrow posterior of tau)."""
    rng = np.random.default_rng(k)
    yi, vi = (YI, VI) if k == 5 else (rng.normal(0.2, 0.4, k), rng.uniform(0.01, 0.1, k))
    base = bayesian_meta_analysis(yi, vi, tau_prior="half_cauchy", tau_prior_scale=0.5)
    build = _posterior.TauRule.build.__func__

    def finer(cls, s, upper=np.inf, panels=_posterior.PANELS, nodes=_posterior.PANEL_NODES):
        return build(cls, s, upper, panels=4 * panels, nodes=2 * nodes)

    monkeypatch.setattr(_posterior.TauRule, "build", classmethod(finer))
    fine = bayesian_meta_analysis(yi, vi, tau_prior="half_cauchy", tau_prior_scale=0.5)
    for key in ("mu_mean", "mu_sd", "mu_median", "mu_ci_lb", "mu_ci_ub", "pred_ci_lb", "pred_ci_ub"):
        assert getattr(fine, key) == pytest.approx(getattr(base, key), abs=SD_FRACTION * base.mu_sd)
    tau_scale = (base.tau_ci_ub - base.tau_ci_lb) / 4
    for key in ("tau_median", "tau_ci_lb", "tau_ci_ub"):
        assert getattr(fine, key) == pytest.approx(getattr(base, key), abs=SD_FRACTION * tau_scale)


def test_against_direct_two_dimensional_integration():
    """mu's posterior mean and P(mu > 0) by scipy's dblquad of the unnormalised joint posterior."""
    res = bayesian_meta_analysis(YI, VI, tau_prior_scale=0.5)
    prior = make_tau_prior("half_normal", 0.5)

    def joint(mu, tau):
        return np.exp(np.sum(stats.norm.logpdf(YI, mu, np.sqrt(VI + tau**2))) + prior.logpdf(tau))

    lo, hi = res.mu_mean - 12 * res.mu_sd, res.mu_mean + 12 * res.mu_sd
    total = integrate.dblquad(joint, 0, 4, lo, hi, epsabs=0, epsrel=DBLQUAD_RTOL)[0]
    first = integrate.dblquad(lambda mu, tau: mu * joint(mu, tau), 0, 4, lo, hi, epsabs=0, epsrel=DBLQUAD_RTOL)[0]
    above = integrate.dblquad(joint, 0, 4, 0.0, hi, epsabs=0, epsrel=DBLQUAD_RTOL)[0]
    assert res.mu_mean == pytest.approx(first / total, abs=DBLQUAD_SD_FRACTION * res.mu_sd)
    assert res.prob_above(0.0) == pytest.approx(above / total, abs=DBLQUAD_SD_FRACTION)


def test_prob_above_matches_the_intervals():
    res = bayesian_meta_analysis(YI, VI)
    assert res.prob_above(res.mu_ci_lb) == pytest.approx(0.975, abs=1e-9)
    assert res.prob_above(res.mu_median) == pytest.approx(0.5, abs=1e-9)
    assert res.prob_above(res.pred_ci_ub, "theta_new") == pytest.approx(0.025, abs=1e-9)
    assert res.prob_above(res.tau_ci_ub, "tau") == pytest.approx(0.025, abs=1e-9)
    assert res.quantile(0.975, "tau") == pytest.approx(res.tau_ci_ub)


def test_shortest_interval_is_shorter_and_keeps_its_probability():
    central = bayesian_meta_analysis(YI, VI)
    short = bayesian_meta_analysis(YI, VI, interval="shortest")
    assert short.tau_ci_lb == 0.0  # the posterior density of tau is highest at 0 here
    assert short.tau_ci_ub - short.tau_ci_lb <= central.tau_ci_ub - central.tau_ci_lb
    assert short.mu_ci_ub - short.mu_ci_lb <= central.mu_ci_ub - central.mu_ci_lb + 1e-12
    mass = short.prob_above(short.mu_ci_lb) - short.prob_above(short.mu_ci_ub)
    assert mass == pytest.approx(0.95, abs=1e-8)


def test_monte_carlo_draws_from_the_posterior_agree():
    """Draw tau from its discretised posterior, then mu | tau exactly: the mixture is what it says."""
    res = bayesian_meta_analysis(YI, VI)
    post = res.posterior
    rng = np.random.default_rng(12)
    nodes = rng.choice(post.rule.tau.size, size=MC_DRAWS, p=post.node_probability)
    mu = rng.normal(post.mu_hat[nodes], np.sqrt(post.mu_var[nodes]))
    theta = rng.normal(mu, post.rule.tau[nodes])
    tolerance = 4 * np.sqrt(0.25 / MC_DRAWS)
    assert np.mean(mu > 0.2) == pytest.approx(res.prob_above(0.2), abs=tolerance)
    assert np.mean(theta > 0.5) == pytest.approx(res.prob_above(0.5, "theta_new"), abs=tolerance)


def test_single_study_with_proper_prior():
    res = bayesian_meta_analysis([0.4], [0.09], labels=["Trial"], tau_prior_scale=0.5)
    prior = make_tau_prior("half_normal", 0.5)
    # With one study and a flat mu prior the posterior of tau is the prior.
    assert res.tau_median == pytest.approx(float(prior.quantile(0.5)), rel=1e-8)
    assert res.mu_median == pytest.approx(0.4, abs=1e-9)  # symmetric around the single estimate
    # The interval is wider than the study's own: heterogeneity is added.
    assert res.mu_ci_ub - res.mu_ci_lb > 2 * 1.96 * 0.3
    assert res.notes and "One study" in res.notes[0]


def test_improper_posterior_is_refused():
    with pytest.raises(AnalysisError, match="improper.*k = 2.*k >= 3"):
        bayesian_meta_analysis([0.1, 0.3], [0.04, 0.05], tau_prior="improper_uniform", tau_prior_scale=None)
    # a normal mu prior makes k = 2 proper
    res = bayesian_meta_analysis([0.1, 0.3], [0.04, 0.05], tau_prior="improper_uniform", tau_prior_scale=None,
                                 mu_prior=(0, 1))
    assert np.isfinite(res.tau_median)
    with pytest.raises(AnalysisError, match="improper"):
        bayesian_proportions([0, 0], [10, 12])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tau_prior": "lognormal"}, "tau_prior='lognormal' is not supported; choose one of: half_normal"),
        ({"tau_prior_scale": 0}, "positive, finite tau_prior_scale"),
        ({"tau_prior_scale": -1}, "positive, finite tau_prior_scale"),
        ({"tau_prior": "turner"}, "takes no tau_prior_scale"),
        ({"tau_prior": "turner", "tau_prior_scale": None, "tau_prior_outcome": "hair loss"},
         "turner outcome='hair loss' is not supported"),
        ({"mu_prior": (0, 0)}, "positive, finite sd"),
        ({"mu_prior": 3}, "mu_prior must be None"),
        ({"interval": "hpd"}, "interval='hpd' is not supported"),
        ({"confidence_level": 95}, "strictly between 0 and 1"),
    ],
)
def test_options_are_validated(kwargs, message):
    with pytest.raises(AnalysisError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bayesian_meta_analysis(YI, VI, **kwargs)


def test_bad_data_names_the_study():
    with pytest.raises(AnalysisError, match="vi must be positive.*B \\(0\\)"):
        bayesian_meta_analysis([0.1, 0.2], [0.1, 0.0], labels=["A", "B"])
    with pytest.raises(AnalysisError, match="yi is missing or not finite for B"):
        bayesian_meta_analysis([0.1, np.nan], [0.1, 0.1], labels=["A", "B"])
    with pytest.raises(AnalysisError, match="same length"):
        bayesian_meta_analysis([0.1, 0.2], [0.1])


def test_summary_frame_layout_and_shrinkage():
    res = bayesian_meta_analysis(YI, VI, labels=list("ABCDE"))
    frame = res.summary_frame()
    assert list(frame.columns[:9]) == ["label", "row_type", "estimate", "se", "ci_lb", "ci_ub", "weight",
                                       "pi_lb", "pi_ub"]
    assert list(frame.row_type) == ["study"] * 5 + ["pooled"]
    assert frame.weight.iloc[:5].sum() == pytest.approx(100.0)  # flat mu prior: all weight on the studies
    pooled = frame.iloc[-1]
    assert (pooled.estimate, pooled.pi_lb) == (res.mu_median, res.pred_ci_lb)
    # Shrinkage: every study's posterior median lies between its estimate and mu's posterior median.
    studies = frame.iloc[:5]
    low = np.minimum(studies.estimate, res.mu_median)
    high = np.maximum(studies.estimate, res.mu_median)
    assert np.all((studies.shrunk_median >= low) & (studies.shrunk_median <= high))


def test_densities_integrate_to_one():
    res = bayesian_meta_analysis(YI, VI, tau_prior_scale=0.5)
    # the mixture has heavier tails than a normal: integrate far out
    mu = np.linspace(res.mu_mean - 40 * res.mu_sd, res.mu_mean + 40 * res.mu_sd, 20001)
    assert integrate.trapezoid(res.density("mu", mu), mu) == pytest.approx(1.0, abs=1e-6)
    tau = np.linspace(0, 5, 20001)
    assert integrate.trapezoid(res.density("tau", tau), tau) == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.isnan(res.prior_density("mu", mu[:3])))
    assert res.prior_density("tau", [0.0])[0] == pytest.approx(2 * stats.norm.pdf(0, 0, 0.5))


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_controlled_comparison_from_escalc(measure):
    """The controlled comparison: the Bayesian model on escalc's log RR, log OR or RD."""
    es = effect_sizes(BCG, measure=measure)
    res = bayesian_meta_analysis(es["yi"], es["vi"], labels=BCG["study"], measure=measure)
    reml = meta_analysis(es["yi"], es["vi"], method="REML", measure=measure)
    assert res.k == 13 and res.measure == measure
    # Same model, weakly informative prior, 13 studies: close to REML, with wider intervals.
    assert res.mu_median == pytest.approx(reml.estimate, abs=0.25 * reml.se)
    assert res.mu_ci_ub - res.mu_ci_lb > reml.ci_ub - reml.ci_lb
    assert res.prob_above(0.0) < 0.05  # the vaccine lowers the risk on every scale


def test_turner_prior_table():
    prior = make_tau_prior("turner", outcome="pain")
    assert TURNER_OUTCOMES.index("pain") == 11
    assert (prior.log_location, prior.log_scale) == (-1.83, 1.52)
    # log tau² ~ N(-1.83, 1.52²): tau's median is exp(-1.83 / 2)
    assert float(prior.quantile(0.5)) == pytest.approx(np.exp(-1.83 / 2))


def test_pilot_scale_does_not_matter():
    a = NormalPosterior.fit(YI, VI, make_tau_prior("half_normal", 0.5), None)
    b = NormalPosterior.fit(YI, VI, make_tau_prior("half_normal", 0.5), None, scale=a.rule.s * 4)
    assert b.tau_quantile(0.5) == pytest.approx(a.tau_quantile(0.5), rel=1e-7)
    assert b.mu_mixture().quantile(0.025) == pytest.approx(a.mu_mixture().quantile(0.025), abs=1e-7)


# -- binomial-normal model

EVENTS = [7, 16, 20, 9, 6]
SIZES = [11, 29, 34, 17, 12]


def test_binomial_contract_and_scales():
    res = bayesian_proportions(EVENTS, SIZES)
    d = res.to_dict()
    assert res.measure == "PLO" and res.k == 5 and np.isnan(res.pval)
    assert d["prop"] == pytest.approx(1 / (1 + np.exp(-res.estimate)))
    assert res.prop_ci_lb < res.prop < res.prop_ci_ub
    assert res.prop_pi_lb < res.prop_ci_lb and res.prop_ci_ub < res.prop_pi_ub
    assert res.prob_above(res.prop) == pytest.approx(0.5, abs=1e-9)
    assert res.prob_above(res.prop_ci_lb) == pytest.approx(0.975, abs=1e-9)
    assert res.prob_above(res.estimate, scale="logit") == pytest.approx(0.5, abs=1e-9)
    assert res.prob_above(res.prop_pi_ub, "theta_new") == pytest.approx(0.025, abs=1e-9)
    frame = res.summary_frame()
    assert list(frame.row_type) == ["study"] * 5 + ["pooled"]
    assert frame.estimate.iloc[-1] == res.prop
    with pytest.raises(AnalysisError, match="strictly between 0 and 1"):
        res.prob_above(50)


def test_binomial_study_order_and_single_study():
    order = [4, 2, 0, 3, 1]
    a = bayesian_proportions(EVENTS, SIZES).to_dict()
    b = bayesian_proportions(np.array(EVENTS)[order], np.array(SIZES)[order]).to_dict()
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-9, abs=1e-12, nan_ok=True)
    one = bayesian_proportions([3], [12])
    assert one.k == 1 and one.prop_ci_lb < 3 / 12 < one.prop_ci_ub


def test_binomial_agrees_with_normal_model_for_large_samples():
    """With large n the binomial likelihood is normal on the logit scale: both models agree."""
    events = np.array([300, 420, 510, 260])
    n = np.array([600, 700, 900, 500])
    res = bayesian_proportions(events, n)
    p = events / n
    normal = bayesian_meta_analysis(np.log(p / (1 - p)), 1 / (n * p * (1 - p)))
    assert res.mu_median == pytest.approx(normal.mu_median, abs=0.02 * normal.mu_sd)
    assert res.tau_median == pytest.approx(normal.tau_median, rel=0.02)


def test_rhodes_and_bounded_uniform_priors():
    """Rhodes et al.'s log-t prior (bayesmeta 3.4 cannot integrate it on this data; see
    tests/reference/bayesian.R) and a uniform prior whose bound cuts the posterior."""
    rhodes = bayesian_meta_analysis(YI, VI, tau_prior="rhodes", tau_prior_scale=None,
                                    tau_prior_outcome=RHODES_OUTCOMES[3])
    assert rhodes.tau_prior.log_location == -3.16 and rhodes.tau_prior.log_scale == 2.50
    assert rhodes.prob_above(rhodes.tau_ci_ub, "tau") == pytest.approx(0.025, abs=1e-9)
    bounded = bayesian_meta_analysis(YI, VI, tau_prior="uniform", tau_prior_scale=0.2)
    assert bounded.tau_ci_ub < 0.2 and bounded.prob_above(0.2, "tau") == pytest.approx(0.0, abs=1e-12)
    assert bounded.density("tau", [0.25])[0] == 0.0
    tau = np.linspace(0, 0.2, 4001)
    assert integrate.trapezoid(bounded.density("tau", tau), tau) == pytest.approx(1.0, abs=1e-6)


def test_prior_sensitivity_rows_are_refits():
    from analysis.engine.bayesian import prior_sensitivity

    res = bayesian_meta_analysis(YI, VI, labels=list("ABCDE"), tau_prior_scale=0.5)
    table = prior_sensitivity(res)
    assert list(table.prior) == ["half-normal 0.5", "half-normal 1", "half-Cauchy 0.5", "Turner (any outcome)"]
    hn1 = bayesian_meta_analysis(YI, VI, tau_prior_scale=1.0)
    row = table.set_index("prior").loc["half-normal 1"]
    assert (row.estimate, row.ci_ub, row.prob_above) == (hn1.estimate, hn1.ci_ub, hn1.prob_above(0.0))
    rates = prior_sensitivity(bayesian_proportions(EVENTS, SIZES), threshold=0.5).set_index("prior")
    assert rates.loc["half-normal 0.5", "prob_above"] == bayesian_proportions(EVENTS, SIZES, tau_prior_scale=0.5).prob_above(0.5)


def test_the_printed_summary_names_the_posterior_predictive_interval():
    from analysis.engine.proportions import pool_proportions

    events, n = [8, 17, 13], [12, 29, 34]
    bayesian = pool_proportions(events, n, method="BAYES", tau_prior_scale=1.0).summary()
    assert "95% posterior predictive interval: " in bayesian and "95% prediction interval" not in bayesian
    assert "95% prediction interval: " in pool_proportions(events, n).summary()


def test_one_default_prior_scale_for_the_engine_and_the_plan():
    """A direct call and the report's plan use the same half-normal scale (issue 19: the engine
    said 0.5 while the plan said 1, so the library and the report gave different answers)."""
    import inspect

    from analysis import AnalysisPlan, pool_proportions
    from analysis.engine._tau_priors import DEFAULT_TAU_PRIOR_SCALE

    for function in (bayesian_meta_analysis, bayesian_proportions, pool_proportions):
        assert inspect.signature(function).parameters["tau_prior_scale"].default == DEFAULT_TAU_PRIOR_SCALE
    assert AnalysisPlan().tau_prior_scale == DEFAULT_TAU_PRIOR_SCALE
    direct = pool_proportions(EVENTS, SIZES, method="BAYES")
    planned = AnalysisPlan().pool_rates(pd.DataFrame({"ketamine_events": EVENTS, "ketamine_n": SIZES,
                                                       "study_label": list("ABCDE")}))
    assert (direct.prop, direct.prop_ci_lb, direct.prop_ci_ub) == (planned.prop, planned.prop_ci_lb, planned.prop_ci_ub)
