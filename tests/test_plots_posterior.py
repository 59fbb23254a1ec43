"""posterior_plot draws the result's own densities (tested through the data it draws)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.engine.bayesian import bayesian_meta_analysis
from analysis.engine.bayesian_binomial import bayesian_proportions
from analysis.present.plots.posterior import posterior_plot


def _lines(fig):
    return {line.get_gid(): line for ax in fig.axes for line in ax.get_lines()}


def test_curves_are_the_result_densities():
    res = bayesian_meta_analysis([0.2, 0.5, -0.1, 0.3], [0.04, 0.09, 0.05, 0.07], tau_prior_scale=0.5,
                                 mu_prior=(0, 1), measure="RR")
    lines = _lines(posterior_plot(res))
    assert set(lines) == {"mu-posterior", "theta_new-posterior", "mu-prior", "tau-posterior", "tau-prior"}
    for gid, parameter in (("mu-posterior", "mu"), ("theta_new-posterior", "theta_new"), ("tau-posterior", "tau")):
        x, y = lines[gid].get_data()
        np.testing.assert_allclose(y, res.density(parameter, x))
    x, y = lines["tau-prior"].get_data()
    np.testing.assert_allclose(y, 2 * np.exp(-0.5 * (x / 0.5) ** 2) / (0.5 * np.sqrt(2 * np.pi)))
    x, y = lines["mu-prior"].get_data()
    np.testing.assert_allclose(y, np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi))
    # The effect axis covers the whole predictive interval.
    x = lines["theta_new-posterior"].get_data()[0]
    assert x.min() < res.pred_ci_lb and x.max() > res.pred_ci_ub


def test_flat_mu_prior_is_not_drawn_and_proportions_work():
    res = bayesian_proportions([7, 16, 20], [11, 29, 34])
    lines = _lines(posterior_plot(res, xlabel="logit"))
    assert "mu-prior" not in lines
    x, y = lines["mu-posterior"].get_data()
    assert y.max() == pytest.approx(res.density("mu", x).max())
    assert posterior_plot(res).axes[0].get_xlabel() == "Logit proportion"
    # the densities are on the analysis scale, and the axis says so (not "RR" under log values)
    ratio = bayesian_meta_analysis([0.2, 0.5], [0.04, 0.09], measure="RR")
    assert posterior_plot(ratio).axes[0].get_xlabel() == "Log risk ratio"
    from analysis.present.plots import describe_posterior_plot

    assert "on the log risk ratio scale" in describe_posterior_plot(ratio).caption
