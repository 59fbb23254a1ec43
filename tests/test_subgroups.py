"""Subgroup pooling of response rates and the test for subgroup differences, against metafor.

Reference values: ``tests/reference/subgroups.R`` (metafor 3.8.1, lme4 1.1.31): each subgroup's
rma.glmm (k >= 2) or its own logit (k = 1), and RevMan's test for subgroup differences,
rma(yi = estimates, sei = ses, method = "EE")$QE.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError
from analysis.engine.bayesian_binomial import bayesian_proportions
from analysis.data import studies_dictionary
from analysis.review.plan import AnalysisPlan
from analysis.engine.pooling import meta_analysis
from analysis.engine.proportions import pool_proportions
from analysis.engine.subgroups import subgroup_pooling

REFERENCE = json.loads((Path(__file__).parent / "reference" / "subgroups.json").read_text())
#: GLMM optima against lme4 run to rhoend 1e-12 agree to 2e-4 relative on small subsets
#: (tests/test_sensitivity.py, GLMM_RTOL); the Q built on them inherits that.
RTOL = 2e-4
ATOL = 1e-6
#: The protocol's frequentist model of response rates, which the reference values are for.
GLMM_PLAN = AnalysisPlan(proportion_model="GLMM")


def _rows(case) -> pd.DataFrame:
    return pd.DataFrame({"ketamine_events": case["xi"], "ketamine_n": case["ni"], "design": case["group"],
                         "study_label": [f"Study {i + 1}" for i in range(len(case["xi"]))]})


@pytest.fixture(scope="module", params=sorted(REFERENCE["datasets"]))
def case(request):
    case = REFERENCE["datasets"][request.param]
    return case, GLMM_PLAN.pool_rates_by(_rows(case), "design")


def test_each_subgroup_fit_matches_metafor(case):
    expected, result = case
    assert result.groups == tuple(expected["subgroups"])
    for fit, reference in zip(result.fits, expected["subgroups"].values(), strict=True):
        assert fit.k == reference["k"]
        assert fit.method == reference["model"]  # a one-sample subgroup is its own logit
        for key in ("estimate", "se", "ci_lb", "ci_ub"):
            assert getattr(fit, key) == pytest.approx(reference[key], rel=RTOL, abs=ATOL), key
        if reference["k"] >= 2:
            assert fit.tau2 == pytest.approx(reference["tau2"], rel=RTOL, abs=ATOL)
            assert fit.heterogeneity_test.symbol == "LRT"
            assert fit.heterogeneity_test.statistic == pytest.approx(reference["lrt"], rel=RTOL, abs=ATOL)


def test_test_for_subgroup_differences_matches_metafor(case):
    expected, result = case
    assert result.overall.estimate == pytest.approx(expected["overall"]["estimate"], rel=RTOL, abs=ATOL)
    test = result.difference_test
    assert (test.symbol, test.df) == ("Q", expected["q_between_df"])
    assert test.statistic == pytest.approx(expected["q_between"], rel=RTOL)
    assert test.pval == pytest.approx(expected["q_between_p"], rel=RTOL)
    assert result.difference_i2 == pytest.approx(expected["i2_between"], rel=RTOL, abs=ATOL)


def test_a_bayesian_analysis_tests_subgroup_differences_through_its_glmm_fits():
    """A posterior has no test for subgroup differences: RevMan's test on the GLMM fits of the
    same subgroups (metafor's values, as above), named as such; the subtotals stay Bayesian."""
    expected = REFERENCE["datasets"]["ketamine_by_design"]
    result = AnalysisPlan(proportion_model="BAYES").pool_rates_by(_rows(expected), "design")
    assert all(fit.is_bayesian for fit in result.fits) and result.overall.is_bayesian
    assert result.test_model == "RE Model (GLMM)"
    assert result.difference_test.statistic == pytest.approx(expected["q_between"], rel=RTOL)
    assert GLMM_PLAN.pool_rates_by(_rows(expected), "design").test_model == ""


def test_subgroups_follow_the_dictionary_order_and_labels():
    case = REFERENCE["datasets"]["ketamine_by_design"]
    rows = _rows(case).iloc[::-1]  # order of the rows does not matter
    result = GLMM_PLAN.pool_rates_by(rows, "design", studies_dictionary())
    assert result.groups == ("Randomised, parallel groups", "Randomised, crossover", "Single arm, prospective")
    assert [fit.k for fit in result.fits] == [1, 2, 2]


def test_one_subgroup_and_posteriors_have_no_difference_test():
    fit = pool_proportions([4, 9, 2], [10, 18, 11])
    assert subgroup_pooling({"all": fit}, fit).difference_test is None
    posterior = bayesian_proportions([4, 9, 2], [10, 18, 11])
    sub = subgroup_pooling({"a": posterior, "b": posterior}, posterior)
    assert sub.difference_test is None and np.isnan(sub.q_between)


def test_subgroups_must_share_the_analysis_scale():
    rates = pool_proportions([4, 9], [10, 18])
    with pytest.raises(AnalysisError, match="analysis scale"):
        subgroup_pooling({"a": rates, "b": meta_analysis([0.1, 0.2], [0.1, 0.1], measure="RR")}, rates)
    with pytest.raises(AnalysisError, match="value of 'design'"):
        AnalysisPlan().pool_rates_by(pd.DataFrame({"design": [None]}), "design")
