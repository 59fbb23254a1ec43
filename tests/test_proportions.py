"""pool_proportions against metafor's rma.glmm / rma.uni and R's binom.test.

Reference values: tests/reference/proportions.json, written by
tests/reference/proportions.R (metafor 3.8-1, lme4 1.1-31; versions and exact
calls are in the JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis import AnalysisError
from analysis.engine.proportion_scales import study_intervals
from analysis.engine.proportions import pool_proportions

REFERENCE = json.loads((Path(__file__).parent / "reference" / "proportions.json").read_text())

#: rma.glmm with lme4's default optimiser settings stops about 1e-5 (relative)
#: from the optimum (Nelder-Mead, FtolAbs = 1e-5 on the deviance); the issue
#: asks for 1e-4.
GLMM_RTOL = 1e-4
#: The same fits with lme4's optimiser run to rhoend = 1e-12 agree with ours to
#: ~1e-8 in estimate, tau² and log-likelihood. The SE comes from a
#: finite-difference Hessian (step 1e-4) in both and agrees to ~8e-7; a CI
#: bound near zero (mu + 1.96 se with mu < 0) amplifies that to ~2e-6.
GLMM_TIGHT_RTOL = 3e-6
#: Closed-form / Fisher-scoring fits of rma.uni.
UNI_RTOL = 1e-6
#: Quantities that are zero in exact arithmetic (tau² on the boundary, a logit
#: of 0 for a pooled proportion of 1/2) are compared absolutely: lme4's
#: optimiser stops ~2e-8 from 0 on the "homogeneous" set.
ATOL = 1e-7
#: Beta quantiles (scipy vs R's qbeta): both ~1e-15; the Wilson formula is closed form.
INTERVAL_RTOL = 1e-10

GLMM_KEYS = {
    "estimate": "estimate", "se": "se", "zval": "statistic", "pval": "pval",
    "ci_lb": "ci_lb", "ci_ub": "ci_ub", "tau2": "tau2", "i2": "i2", "h2": "h2",
    "qe_lrt": "q_lrt", "qe_lrt_p": "q_lrt_p", "loglik": "loglik",
    "pi_lb": "pi_lb", "pi_ub": "pi_ub", "prop": "prop", "prop_ci_lb": "prop_ci_lb",
    "prop_ci_ub": "prop_ci_ub", "prop_pi_lb": "prop_pi_lb", "prop_pi_ub": "prop_pi_ub",
}
UNI_KEYS = {
    "estimate": "estimate", "se": "se", "zval": "statistic", "pval": "pval",
    "ci_lb": "ci_lb", "ci_ub": "ci_ub", "tau2": "tau2", "i2": "i2", "h2": "h2",
    "q": "q", "q_p": "q_p", "pi_lb": "pi_lb", "pi_ub": "pi_ub", "prop": "prop",
    "prop_ci_lb": "prop_ci_lb", "prop_ci_ub": "prop_ci_ub", "prop_pi_lb": "prop_pi_lb",
    "prop_pi_ub": "prop_pi_ub",
}


def _cases(method):
    return [c for c in REFERENCE["cases"] if c["method"] == method]


def _id(case):
    return f"{case['dataset']}-{case.get('tau_method', 'ML')}"


def _compare(res, expected, keys, rtol):
    for r_key, attr in keys.items():
        got = getattr(res, attr)
        assert got == pytest.approx(expected[r_key], rel=rtol, abs=ATOL), r_key


@pytest.fixture(scope="module")
def glmm_fits():
    return {c["dataset"]: pool_proportions(c["xi"], c["ni"]) for c in _cases("GLMM")}


@pytest.mark.parametrize("case", _cases("GLMM"), ids=_id)
def test_glmm_matches_rma_glmm(case, glmm_fits):
    # rma.glmm(measure="PLO", xi=xi, ni=ni) and predict(res, transf=transf.ilogit)
    _compare(glmm_fits[case["dataset"]], case["result"], GLMM_KEYS, GLMM_RTOL)


def _tight_cases():
    for case in _cases("GLMM_tight"):
        if case["dataset"] == "near_all_events":
            # R warns here: "convergence code 3 from bobyqa: a trust region step
            # failed to reduce q"; its SE then differs from ours by 4e-6
            # (relative). The default-control fit agrees to GLMM_RTOL.
            yield pytest.param(case, marks=pytest.mark.xfail(
                strict=True, reason="lme4's tight bobyqa run stops early (code 3) on this data"))
        else:
            yield case


@pytest.mark.parametrize("case", list(_tight_cases()), ids=_id)
def test_glmm_matches_rma_glmm_at_tight_tolerance(case, glmm_fits):
    keys = {k: v for k, v in GLMM_KEYS.items() if k != "pval"}
    _compare(glmm_fits[case["dataset"]], case["result"], keys, GLMM_TIGHT_RTOL)


@pytest.mark.parametrize("case", _cases("GLMM"), ids=_id)
def test_glmm_wald_heterogeneity(case, glmm_fits):
    res = glmm_fits[case["dataset"]]
    if np.any(res.corrected):
        # R's QE.Wld is an artefact of glm's divergence here; we report none.
        assert res.q is None and res.q_p is None
        assert any("Wald heterogeneity test" in note for note in res.notes)
    else:
        assert res.q == pytest.approx(case["result"]["qe_wald"], rel=GLMM_RTOL)
        assert res.q_p == pytest.approx(case["result"]["qe_wald_p"], rel=GLMM_RTOL)


@pytest.mark.parametrize("case", [c for m in ("PLO", "PFT", "PAS", "PR") for c in _cases(m)],
                         ids=lambda c: f"{c['method']}-{_id(c)}")
def test_inverse_variance_matches_rma_uni(case):
    # escalc(measure, xi, ni) + rma(yi, vi, method) + predict(res, transf=...)
    res = pool_proportions(case["xi"], case["ni"], method=case["method"], tau_method=case["tau_method"])
    np.testing.assert_allclose(res.yi, case["result"]["yi"], rtol=UNI_RTOL)
    np.testing.assert_allclose(res.vi, case["result"]["vi"], rtol=UNI_RTOL)
    _compare(res, case["result"], UNI_KEYS, UNI_RTOL)


@pytest.mark.parametrize("name", sorted(REFERENCE["intervals"]))
def test_study_intervals_match_r(name):
    ref = REFERENCE["intervals"][name]
    lower, upper = study_intervals(ref["xi"], ref["ni"])  # binom.test(x, n)$conf.int
    np.testing.assert_allclose(lower, ref["cp_lb"], rtol=INTERVAL_RTOL, atol=1e-15)
    np.testing.assert_allclose(upper, ref["cp_ub"], rtol=INTERVAL_RTOL)
    lower, upper = study_intervals(ref["xi"], ref["ni"], interval="wilson")  # prop.test(correct=FALSE)
    np.testing.assert_allclose(lower, ref["wilson_lb"], rtol=INTERVAL_RTOL, atol=1e-15)
    np.testing.assert_allclose(upper, ref["wilson_ub"], rtol=INTERVAL_RTOL)


def test_zero_and_all_events_are_recorded(glmm_fits):
    res = glmm_fits["zeros_and_all"]
    np.testing.assert_array_equal(res.corrected, [True, False, True, False, False, False])
    assert any("enter the GLMM uncorrected" in note for note in res.notes)
    plo = pool_proportions(res.events, res.n, method="PLO")
    assert any("add=1/2, to='only0'" in note for note in plo.notes)
    pft = pool_proportions(res.events, res.n, method="PFT")
    assert not pft.corrected.any()


def test_diverging_tau2_is_flagged():
    res = pool_proportions([50, 0, 0], [50, 50, 50])
    assert any("implausibly large" in note for note in res.notes)


@pytest.mark.parametrize("start_mu", [-1.5383735056137522, -1.5383735056137517])
def test_diverging_tau2_does_not_hinge_on_the_last_bit_of_the_start(start_mu):
    # Two DL starts one ulp apart (both seen from meta_analysis on these logits): with the
    # first, Nelder-Mead runs out of iterations on the flat ridge far out on the tau axis.
    from analysis.engine._glmm import TAU2_LARGE, fit_binomial_normal

    fit = fit_binomial_normal(np.array([50.0, 0, 0]), np.array([50.0, 50, 50]), start_mu, np.sqrt(26.37931453309418))
    assert fit.tau2 > TAU2_LARGE


def test_boundary_tau2_is_zero_and_noted(glmm_fits):
    res = glmm_fits["homogeneous"]
    assert res.tau2 == 0.0
    assert res.pi_lb == res.ci_lb and res.pi_ub == res.ci_ub
    assert any("boundary" in note for note in res.notes)


def test_study_order_does_not_matter():
    case = _cases("GLMM")[0]
    order = np.random.default_rng(1).permutation(len(case["xi"]))
    a = pool_proportions(case["xi"], case["ni"])
    b = pool_proportions(np.array(case["xi"])[order], np.array(case["ni"])[order])
    assert b.estimate == pytest.approx(a.estimate, rel=1e-9)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-7)
    assert b.se == pytest.approx(a.se, rel=1e-7)


def test_laplace_differs_from_seven_points_but_is_close():
    case = _cases("GLMM")[0]
    seven = pool_proportions(case["xi"], case["ni"])
    laplace = pool_proportions(case["xi"], case["ni"], quadrature_points=1)
    assert laplace.quadrature_points == 1
    assert laplace.tau2 != seven.tau2
    assert laplace.estimate == pytest.approx(seven.estimate, rel=0.05)


def test_summary_frame_and_to_dict():
    case = _cases("GLMM")[0]
    res = pool_proportions(case["xi"], case["ni"], labels=[f"S{i}" for i in range(len(case["xi"]))])
    frame = res.summary_frame()
    assert list(frame.columns) == [
        "label", "row_type", "estimate", "se", "ci_lb", "ci_ub", "weight", "pi_lb", "pi_ub", "events", "n",
    ]
    assert list(frame["row_type"]) == ["study"] * res.k + ["pooled"]
    pooled = frame.iloc[-1]
    assert pooled["label"] == "RE Model (GLMM)"
    assert pooled["estimate"] == res.prop and pooled["pi_ub"] == res.prop_pi_ub
    np.testing.assert_allclose(frame["estimate"][:-1], np.array(case["xi"]) / np.array(case["ni"]))
    d = res.to_dict()
    for key in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "prop", "prop_ci_lb", "prop_ci_ub",
                "pi_lb", "pi_ub", "k", "method"):
        assert key in d
    iv = pool_proportions(case["xi"], case["ni"], method="PLO")
    assert iv.summary_frame()["weight"][:-1].sum() == pytest.approx(100.0)
    assert iv.summary_frame().iloc[-1]["label"] == "RE Model (REML, PLO)"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "logit"}, "choose one of: GLMM, PLO"),
        ({"interval": "exact"}, "clopper-pearson"),
        ({"tau_method": "XX"}, "REML"),
        ({"confidence_level": 95}, "between 0 and 1"),
    ],
)
def test_options_are_checked(kwargs, message):
    with pytest.raises(AnalysisError, match=message):
        pool_proportions([1, 2], [5, 6], **kwargs)


@pytest.mark.parametrize(
    "events, n, message",
    [
        ([3], [10], "at least two studies"),
        ([0, 0], [10, 12], "does not exist"),
        ([11, 2], [10, 12], "between 0 and n"),
        ([1.5, 2], [10, 12], "whole numbers"),
        ([1, 2], [10], "same length"),
    ],
)
def test_bad_input_is_rejected(events, n, message):
    with pytest.raises(AnalysisError, match=message):
        pool_proportions(events, n)
