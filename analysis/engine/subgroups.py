"""Subgroup pooling of any pooled result and RevMan's test for subgroup differences.

Each subgroup is pooled on its own with the analysis's model (the plan's GLMM, an
inverse-variance model, ...); the test for subgroup differences is Cochran's Q across
the subgroup estimates, each weighted by 1 / se² (Borenstein et al. 2009, ch. 19;
RevMan's "Test for subgroup differences"), so it needs nothing but the fits. metafor
gives the same as ``rma(yi = estimates, sei = ses, method = "EE")$QE``;
``tests/reference/subgroups.R`` pins it for the GLMM.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from analysis.engine._distributions import chi2_upper_tail
from analysis.engine._errors import AnalysisError
from analysis.engine.contract import HeterogeneityTest, PooledResult

#: Studies a subgroup needs for a subtotal (one study is shown as itself).
MIN_SUBTOTAL_STUDIES = 2


def between_subgroup_test(estimates, ses) -> tuple[float, float, float]:
    """Cochran's Q across subgroup estimates weighted by 1 / se², its p-value and I² (percent).

    I² of subgroup differences is 100 max(0, (Q - df) / Q), as RevMan prints it.

    Examples
    --------
    >>> q, p, i2 = between_subgroup_test([0.2, 0.6], [0.1, 0.15])
    >>> round(q, 4), round(p, 4), round(i2, 1)
    (4.9231, 0.0265, 79.7)
    """
    estimates, ses = np.asarray(estimates, dtype=float), np.asarray(ses, dtype=float)
    weights = 1 / ses**2
    centre = np.sum(weights * estimates) / np.sum(weights)
    q = float(np.sum(weights * (estimates - centre) ** 2))
    df = len(estimates) - 1
    i2 = 100 * max(0.0, (q - df) / q) if q > 0 else 0.0
    return q, float(chi2_upper_tail(q, df)), i2


@dataclass(frozen=True)
class SubgroupPooling:
    """Per-subgroup fits of one model, the overall fit and the test for subgroup differences.

    Attributes
    ----------
    groups : tuple of str
        Subgroup names (reader labels), in display order.
    fits : tuple of PooledResult
        The fit of each subgroup, aligned with ``groups`` (one study: its own estimate).
    overall : PooledResult
        The fit of every study.
    q_between, q_between_p, i2_between : float
        Cochran's Q across the subgroup estimates (1 / se² weights), its p-value (chi²
        with ``q_between_df`` = G - 1 degrees of freedom) and I² (percent). NaN with one
        subgroup, and for posterior summaries (no frequentist test of a posterior).
    q_between_df : int
    test_model : str
        ``model_label`` of the fits the test comes from when they are not ``fits`` (a
        Bayesian analysis tested through its frequentist counterpart); "" otherwise.
    """

    groups: tuple[str, ...]
    fits: tuple[PooledResult, ...]
    overall: PooledResult
    q_between: float
    q_between_df: int
    q_between_p: float
    i2_between: float
    test_model: str = ""

    @property
    def by_group(self) -> dict[str, PooledResult]:
        """``{group: fit}`` in display order (what ``forest_plot(subgroups=...)`` draws)."""
        return dict(zip(self.groups, self.fits))

    @property
    def difference_test(self) -> HeterogeneityTest | None:
        """The test for subgroup differences (Cochran's Q), or None when there is none."""
        return subgroup_difference_test(self.q_between, self.q_between_df, self.q_between_p)

    @property
    def difference_i2(self) -> float:
        """I² of subgroup differences, percent."""
        return self.i2_between


def subgroup_difference_test(q, df, p) -> HeterogeneityTest | None:
    """The test for subgroup differences as a :class:`HeterogeneityTest` (None when q is NaN)."""
    if q is None or not np.isfinite(q):
        return None
    return HeterogeneityTest("Q", "test for subgroup differences", float(q), float(df), float(p))


def subgroup_pooling(fits: Mapping[str, PooledResult], overall: PooledResult, *,
                     test_fits: Mapping[str, PooledResult] | None = None) -> SubgroupPooling:
    """Collect subgroup fits and test for subgroup differences (RevMan's method).

    Parameters
    ----------
    fits : mapping of str to PooledResult
        Each subgroup's fit with the same model and on the same analysis scale as
        ``overall`` (a single-study subgroup: that study's own estimate and SE).
    overall : PooledResult
        The fit of all studies.
    test_fits : mapping of str to PooledResult, optional
        The same subgroups fitted by a frequentist model to test the differences with, when
        ``fits`` are posteriors (which have no such test); its label is kept in ``test_model``.

    Returns
    -------
    SubgroupPooling

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> a = meta_analysis([0.1, 0.3], [0.02, 0.03], method="EE")
    >>> b = meta_analysis([0.35, 0.6], [0.015, 0.04], method="EE")
    >>> overall = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="EE")
    >>> round(subgroup_pooling({"a": a, "b": b}, overall).q_between, 4)
    2.4763
    """
    if not fits:
        raise AnalysisError("subgroup_pooling needs at least one subgroup fit")
    groups, results = tuple(str(g) for g in fits), tuple(fits.values())
    tested = results if test_fits is None else tuple(test_fits[g] for g in fits)
    if any(fit.measure != overall.measure for fit in (*results, *tested)):
        raise AnalysisError("subgroup fits must be on the overall fit's analysis scale "
                            f"({overall.measure})")
    nan = float("nan")
    testable = len(tested) > 1 and not any(fit.is_bayesian for fit in tested)
    q, p, i2 = (between_subgroup_test([f.estimate for f in tested], [f.se for f in tested])
                if testable else (nan, nan, nan))
    # the model of the pooled subgroups (a one-study subgroup is that study's own estimate)
    model = (next((f.model_label for f in tested if f.k >= MIN_SUBTOTAL_STUDIES), tested[0].model_label)
             if test_fits is not None else "")
    return SubgroupPooling(groups, results, overall, q, len(results) - 1, p, i2, model)
