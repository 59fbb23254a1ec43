"""The engine's tail probabilities and quantiles (``analysis.engine._distributions``, through
scipy.special) equal scipy.stats', and ``import analysis`` does not import scipy.stats (half a
second in every notebook kernel and command)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from analysis.engine import _distributions as d

X = np.linspace(0.01, 30, 300)
P = np.linspace(1e-6, 1 - 1e-6, 500)


@pytest.mark.parametrize("df", [1, 2, 5, 17])
def test_chi_square_tails(df):
    np.testing.assert_allclose(d.chi2_upper_tail(X, df), stats.chi2.sf(X, df), rtol=1e-12)
    np.testing.assert_allclose(d.chi2_lower_tail(X, df), stats.chi2.cdf(X, df), rtol=1e-12)


@pytest.mark.parametrize("df", [1, 3, 12])
def test_t_tails_and_critical_values(df):
    np.testing.assert_allclose(d.t_two_sided_p(X - 15, df), 2 * stats.t.sf(abs(X - 15), df), rtol=1e-12)
    assert d.t_two_sided_critical(0.95, df) == pytest.approx(stats.t.isf(0.025, df), rel=1e-12)


def test_normal_quantiles_and_tails():
    np.testing.assert_allclose(d.normal_quantile(P), stats.norm.ppf(P), rtol=1e-12)
    np.testing.assert_allclose(d.normal_upper_quantile(P), stats.norm.isf(P), rtol=1e-12)
    np.testing.assert_allclose(d.normal_two_sided_p(X - 15), 2 * stats.norm.sf(abs(X - 15)), rtol=1e-12)
    assert d.normal_two_sided_critical(0.9) == pytest.approx(stats.norm.isf(0.05), rel=1e-14)


@pytest.mark.parametrize("a, b", [(1, 12), (3, 10), (11, 2), (0.5, 0.5)])
def test_beta_quantiles(a, b):
    np.testing.assert_allclose(d.beta_quantile(P, a, b), stats.beta.ppf(P, a, b), rtol=1e-10)


def test_importing_the_library_leaves_scipy_stats_alone():
    code = "import sys, analysis; print('scipy.stats' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
