"""The Bayesian models against R's bayesmeta, a brute-force integration, and Röver (2020).

- tests/reference/bayesian.json: bayesmeta 3.4 (written by tests/reference/bayesian.R,
  which records the versions and every call).
- tests/reference/bayesian_binomial.json: an independent dense-grid integration
  of the binomial-normal model in base R (tests/reference/bayesian_binomial.R).
- Published values: Röver C (2020), Bayesian random-effects meta-analysis using
  the bayesmeta R package, J Stat Softw 93(6), Section 3.4 (the Crins et al.
  example ``ma01``), pp. 21-27.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.engine._tau_priors import make_tau_prior
from analysis.engine.bayesian import bayesian_meta_analysis
from analysis.engine.bayesian_binomial import bayesian_proportions

HERE = Path(__file__).parent / "reference"
BAYESMETA = json.loads((HERE / "bayesian.json").read_text())
BRUTE_FORCE = json.loads((HERE / "bayesian_binomial.json").read_text())

#: bayesmeta integrates tau with R's integrate() (rel.tol ~1.5e-11) and, with
#: delta = 1e-4 and epsilon = 1e-6 as the script sets them, approximates the
#: marginals of mu and theta by a mixture within ~1e-4 posterior SDs; ours is
#: accurate to ~1e-6 SD. The issue asks for 1 % of the posterior SD; we hold
#: ourselves to 0.1 %.
SD_FRACTION = 1e-3
#: Probabilities: 0.1 % of an SD times a density of at most ~0.4 / SD.
PROBABILITY_ATOL = 5e-4
#: Densities are closed-form mixtures on both sides.
DENSITY_RTOL = 1e-3

#: The brute-force grid (cells of 1/10 of mu's posterior SD, 400 tau cells,
#: linear interpolation of CDFs) is itself accurate to ~0.2 % of the SD; our
#: binomial model's cells add ~0.1 %. Both well within the 1 % the issue asks.
BRUTE_FORCE_SD_FRACTION = 5e-3
BRUTE_FORCE_PROBABILITY_ATOL = 2e-3

#: Röver (2020) prints bayesmeta's default-accuracy results (delta = 0.01,
#: epsilon = 1e-4: the mixture for mu is within ~1e-3 SD); printed to 7 digits.
PUBLISHED_SD_FRACTION = 5e-3


def _case_id(case):
    extra = "-shortest" if case["interval"] == "shortest" else ""
    return f"{case['dataset']}-{case['tau_prior']}-{case['tau_prior_scale']}{extra}"


def _fit(case):
    data = BAYESMETA["datasets"][case["dataset"]]
    y = np.atleast_1d(np.asarray(data["y"], dtype=float))
    sigma = np.atleast_1d(np.asarray(data["sigma"], dtype=float))
    mu_prior = tuple(case["mu_prior"]) if case.get("mu_prior") is not None else None
    return bayesian_meta_analysis(
        y, sigma**2, tau_prior=case["tau_prior"], tau_prior_scale=case["tau_prior_scale"],
        tau_prior_outcome=case.get("tau_prior_outcome"), mu_prior=mu_prior, interval=case["interval"],
        labels=np.atleast_1d(data["labels"]),
    )


CASES = BAYESMETA["cases"]


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_summary_matches_bayesmeta(case):
    res = _fit(case)
    ref = case["summary"]
    mu_sd, pred_sd, tau_sd = ref["mu"]["sd"], ref["theta"]["sd"], ref["tau"]["sd"]
    assert res.mu_sd == pytest.approx(mu_sd, abs=SD_FRACTION * mu_sd)
    for ours, key in (("mu_mean", "mean"), ("mu_median", "median"), ("mu_ci_lb", "lower"), ("mu_ci_ub", "upper")):
        assert getattr(res, ours) == pytest.approx(ref["mu"][key], abs=SD_FRACTION * mu_sd), ours
    for ours, key in (("pred_median", "median"), ("pred_ci_lb", "lower"), ("pred_ci_ub", "upper"),
                      ("pred_sd", "sd")):
        assert getattr(res, ours) == pytest.approx(ref["theta"][key], abs=SD_FRACTION * pred_sd), ours
    for ours, key in (("tau_mean", "mean"), ("tau_median", "median"), ("tau_ci_lb", "lower"), ("tau_ci_ub", "upper")):
        assert getattr(res, ours) == pytest.approx(ref["tau"][key], abs=SD_FRACTION * tau_sd), ours


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_probabilities_quantiles_densities_match_bayesmeta(case):
    res = _fit(case)
    for value, expected in zip(case["mu_probe"], case["prob_mu_above"]):
        assert res.prob_above(value) == pytest.approx(expected, abs=PROBABILITY_ATOL)
    for value, expected in zip(case["mu_probe"], case["prob_theta_new_above"]):
        assert res.prob_above(value, "theta_new") == pytest.approx(expected, abs=PROBABILITY_ATOL)
    for value, expected in zip(case["tau_probe"], case["prob_tau_above"]):
        assert res.prob_above(value, "tau") == pytest.approx(expected, abs=PROBABILITY_ATOL)
    tau_sd = case["summary"]["tau"]["sd"]
    for p, expected in zip(case["tau_quantiles"]["p"], case["tau_quantiles"]["value"]):
        assert res.quantile(p, "tau") == pytest.approx(expected, abs=SD_FRACTION * tau_sd)
    for name, parameter in (("density_mu", "mu"), ("density_tau", "tau"), ("density_theta_new", "theta_new")):
        grid = case[name]
        np.testing.assert_allclose(res.density(parameter, grid["x"]), grid["density"], rtol=DENSITY_RTOL)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_shrinkage_and_weights_match_bayesmeta(case):
    res = _fit(case)
    shrink = res.shrinkage()
    ref = case["shrinkage"]
    sd = np.atleast_1d(ref["sd"])
    for ours, key in (("mean", "mean"), ("sd", "sd"), ("median", "median"), ("ci_lb", "lower"), ("ci_ub", "upper")):
        assert np.all(np.abs(shrink[ours].to_numpy() - np.atleast_1d(ref[key])) <= SD_FRACTION * sd), ours
    weights = np.atleast_1d(case["weights"])
    # bayesmeta appends the weight of the mu prior's mean when that prior is normal.
    np.testing.assert_allclose(res.weights / 100.0, weights[:res.k], atol=1e-6)
    assert 1.0 - res.weights.sum() / 100.0 == pytest.approx(weights[res.k:].sum(), abs=1e-6)


def test_published_crins_example():
    """Röver (2020), Section 3.4: ``ma01 <- bayesmeta(crins.es, mu.prior.mean = 0, mu.prior.sd = 4,
    tau.prior = function(t) dhalfnormal(t, scale = 0.5))``; ``ma01$summary`` (p. 23, shortest
    intervals), ``1 - ma01$pposterior(mu = 0)`` and ``1 - ma01$pposterior(tau = 1)`` (p. 25),
    ``ma01$qposterior(tau.p = 0.99)`` (p. 25) and the central 99 % interval of tau (p. 27)."""
    data = BAYESMETA["datasets"]["crins"]
    y, vi = np.asarray(data["y"]), np.asarray(data["sigma"]) ** 2
    res = bayesian_meta_analysis(y, vi, tau_prior_scale=0.5, mu_prior=(0, 4), interval="shortest")
    tau_sd, mu_sd, theta_sd = 0.2593672, 0.3295301, 0.5671855
    published = {
        "tau_median": (0.3445023, tau_sd), "tau_mean": (0.3810562, tau_sd), "tau_ci_lb": (0.0, tau_sd),
        "tau_ci_ub": (0.8607193, tau_sd),
        "mu_median": (-1.5734819, mu_sd), "mu_mean": (-1.5764365, mu_sd), "mu_sd": (0.3295301, mu_sd),
        "mu_ci_lb": (-2.2311251, mu_sd), "mu_ci_ub": (-0.9263075, mu_sd),
        "pred_median": (-1.5701653, theta_sd), "pred_sd": (0.5671855, theta_sd),
        "pred_ci_lb": (-2.7661319, theta_sd), "pred_ci_ub": (-0.4072970, theta_sd),
    }
    for key, (value, sd) in published.items():
        assert getattr(res, key) == pytest.approx(value, abs=PUBLISHED_SD_FRACTION * sd), key
    assert res.prob_above(0.0) == pytest.approx(6.187343e-05, abs=1e-5)
    assert res.prob_above(1.0, "tau") == pytest.approx(0.02097488, abs=1e-5)
    assert res.quantile(0.99, "tau") == pytest.approx(1.109186, abs=1e-5)
    assert res.quantile(0.005, "tau") == pytest.approx(0.003547657, abs=1e-6)
    assert res.quantile(0.995, "tau") == pytest.approx(1.205400562, abs=1e-5)


def test_published_turner_prior_quantiles():
    """Röver (2020), Section 3.4 p. 31: ``TurnerEtAlPrior("surgical", "pharmacological",
    "placebo / control")$qprior(c(0.025, 0.5, 0.975))`` = 0.06233896 0.34300852 1.88734045."""
    prior = make_tau_prior("turner", outcome="surgical / device related success / failure")
    np.testing.assert_allclose(prior.quantile([0.025, 0.5, 0.975]), [0.06233896, 0.34300852, 1.88734045],
                               rtol=1e-7)


@pytest.mark.parametrize("name", sorted(BAYESMETA["priors"]))
def test_prior_tables_match_bayesmeta(name):
    ref = BAYESMETA["priors"][name]
    prior = (make_tau_prior("turner", outcome="surgical / device related success / failure")
             if name == "turner_surgical" else make_tau_prior("rhodes"))
    np.testing.assert_allclose(prior.quantile(ref["p"]), ref["quantile"], rtol=1e-10)
    np.testing.assert_allclose(prior.pdf(ref["x"]), ref["density"], rtol=1e-10)


BINOMIAL = BRUTE_FORCE["cases"]


@pytest.mark.parametrize("case", BINOMIAL, ids=[f"{c['name']}-{c['tau_prior']}-{c['tau_prior_scale']}"
                                                for c in BINOMIAL])
def test_binomial_matches_brute_force(case):
    mu_prior = tuple(case["mu_prior"]) if case.get("mu_prior") is not None else None
    res = bayesian_proportions(np.atleast_1d(case["events"]), np.atleast_1d(case["n"]), tau_prior=case["tau_prior"],
                               tau_prior_scale=case["tau_prior_scale"], mu_prior=mu_prior)
    mu_sd = case["mu"]["sd"]
    for ours, key in (("mu_mean", "mean"), ("mu_sd", "sd"), ("mu_median", "median"), ("mu_ci_lb", "lower"),
                      ("mu_ci_ub", "upper")):
        assert getattr(res, ours) == pytest.approx(case["mu"][key], abs=BRUTE_FORCE_SD_FRACTION * mu_sd), ours
    for ours, key in (("pred_median", "median"), ("pred_ci_lb", "lower"), ("pred_ci_ub", "upper")):
        assert getattr(res, ours) == pytest.approx(case["pred"][key], abs=BRUTE_FORCE_SD_FRACTION * mu_sd), ours
    # tau's posterior SD is not in the file: a quarter of the 95 % interval's width stands in for it.
    tau_scale = (case["tau"]["upper"] - case["tau"]["lower"]) / 4
    for ours, key in (("tau_median", "median"), ("tau_ci_lb", "lower"), ("tau_ci_ub", "upper")):
        assert getattr(res, ours) == pytest.approx(case["tau"][key], abs=BRUTE_FORCE_SD_FRACTION * tau_scale), ours
    assert res.prob_above(0.5) == pytest.approx(case["prob_mu_above_half"], abs=BRUTE_FORCE_PROBABILITY_ATOL)
    assert res.prob_above(0.5, "theta_new") == pytest.approx(case["prob_theta_new_above_half"],
                                                             abs=BRUTE_FORCE_PROBABILITY_ATOL)
