"""Between-study variance (tau²) estimators for the normal-normal model.

Each estimator follows metafor's ``rma.uni()`` (Viechtbauer 2010) for a
weighted regression of ``yi`` on the design matrix ``X`` (an intercept-only
``X`` gives the ordinary random-effects model). Nothing here forms a k x k
matrix: every quadratic form and trace is written with O(k p²) sums, so the
cost grows linearly in the number of studies.

References
----------
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance
estimators in the random-effects model. J Educ Behav Stat 30(3):261-293.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis._errors import AnalysisError

#: metafor's names; "FE" is accepted as an alias of "EE".
TAU2_METHODS = ("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")

#: Convergence threshold on the change in tau² between iterations. metafor's
#: default is 1e-5; a tighter threshold costs one or two more Fisher-scoring
#: steps and makes the converged value agree with metafor run at the same
#: tightness to ~1e-12 rather than to metafor's own default tolerance.
TAU2_THRESHOLD = 1e-12
MAX_ITERATIONS = 200


@dataclass(frozen=True)
class WeightedFit:
    """Weighted least-squares fit of ``y`` on ``X`` with weights 1/(v + tau2).

    ``P`` below is the k x k matrix ``W - W X (X'WX)^-1 X'W`` of metafor's
    source; only the quadratic forms and traces that the estimators need are
    computed from it.
    """

    tau2: float
    w: np.ndarray
    beta: np.ndarray
    xwx_inv: np.ndarray
    residuals: np.ndarray
    X: np.ndarray

    @classmethod
    def at(cls, y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float) -> WeightedFit:
        w = 1.0 / (v + tau2)
        xw = X.T * w
        xwx_inv = np.linalg.inv(xw @ X)
        beta = xwx_inv @ (xw @ y)
        return cls(tau2, w, beta, xwx_inv, y - X @ beta, X)

    @property
    def q(self) -> float:
        """Generalised Q: ``Y'PY``, the weighted residual sum of squares."""
        return float(self.w @ (self.residuals * self.residuals))

    @property
    def ypp_y(self) -> float:
        """``Y'PPY`` (``PY`` equals ``W r``)."""
        wr = self.w * self.residuals
        return float(wr @ wr)

    def _leverage_trace(self, power: int) -> np.ndarray:
        """``(X'WX)^-1 X' W^power X`` (p x p)."""
        return self.xwx_inv @ ((self.X.T * self.w**power) @ self.X)

    @property
    def trace_p(self) -> float:
        return float(self.w.sum() - np.trace(self._leverage_trace(2)))

    @property
    def trace_pp(self) -> float:
        a2 = self._leverage_trace(2)
        return float(
            (self.w**2).sum() - 2.0 * np.trace(self._leverage_trace(3)) + np.trace(a2 @ a2)
        )


def estimate_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str) -> tuple[float, int]:
    """Estimate tau² by ``method``; return ``(tau2, iterations)``.

    Negative moment estimates are truncated at 0, as metafor does. Iterative
    estimators raise :class:`AnalysisError` when they do not converge.
    """
    tau2, iterations = _estimate(y, v, X, method)
    return float(tau2), iterations


def _estimate(y, v, X, method):
    k, p = X.shape
    if method == "EE" or k == 1:
        return 0.0, 0
    if k <= p:
        raise AnalysisError(
            f"cannot estimate tau² with k={k} studies and {p} model coefficients"
        )
    if method == "HS":
        fit0 = WeightedFit.at(y, v, X, 0.0)
        return max(0.0, (fit0.q - k) / fit0.w.sum()), 0
    if method == "DL":
        fit0 = WeightedFit.at(y, v, X, 0.0)
        return max(0.0, (fit0.q - (k - p)) / fit0.trace_p), 0
    if method == "SJ":
        tau2_0 = float(np.var(y))  # var(yi) * (k-1)/k, metafor's default start
        if tau2_0 <= 0:
            return 0.0, 0
        return tau2_0 * WeightedFit.at(y, v, X, tau2_0).q / (k - p), 0
    if method == "PM":
        return _paule_mandel(y, v, X, target=k - p), 0
    start = max(0.0, hedges_tau2(y, v, X))
    if method == "HE":
        return start, 0
    return _fisher_scoring(y, v, X, method, start)


def hedges_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """Hedges' (HE) moment estimator, untruncated: (RSS_ols - tr(P_ols V)) / (k - p)."""
    k, p = X.shape
    xtx_inv = np.linalg.inv(X.T @ X)
    resid = y - X @ (xtx_inv @ (X.T @ y))
    trace_pv = v.sum() - np.trace(xtx_inv @ ((X.T * v) @ X))
    return float((resid @ resid - trace_pv) / (k - p))


def _fisher_scoring(y, v, X, method, tau2) -> tuple[float, int]:
    """ML, REML and EB by Fisher scoring with step halving at the boundary (metafor)."""
    k, p = X.shape
    for iteration in range(1, MAX_ITERATIONS + 1):
        fit = WeightedFit.at(y, v, X, tau2)
        if method == "ML":
            step = (fit.ypp_y - fit.w.sum()) / (fit.w**2).sum()
        elif method == "REML":
            step = (fit.ypp_y - fit.trace_p) / fit.trace_pp
        else:  # EB
            step = (fit.q * k / (k - p) - k) / fit.w.sum()
        while tau2 + step < 0.0:
            step /= 2.0
        tau2 += step
        if abs(step) <= TAU2_THRESHOLD * max(1.0, tau2):
            if method in ("ML", "REML"):
                tau2 = _boundary_check(y, v, X, method, tau2)
            return tau2, iteration
    raise AnalysisError(
        f"the {method} estimate of tau² did not converge in {MAX_ITERATIONS} Fisher-scoring "
        "iterations; try method='PM' or method='DL'"
    )


def log_likelihood(y, v, X, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood of the normal-normal model at ``tau2``."""
    k, p = X.shape
    fit = WeightedFit.at(y, v, X, tau2)
    ll = -0.5 * (k - p if reml else k) * np.log(2 * np.pi) - 0.5 * np.log(v + tau2).sum() - 0.5 * fit.q
    if reml:
        ll -= 0.5 * np.linalg.slogdet(np.linalg.inv(fit.xwx_inv))[1]
    return float(ll)


def _boundary_check(y, v, X, method, tau2) -> float:
    """metafor's ``ll0check``: prefer tau² = 0 when it has the higher likelihood."""
    reml = method == "REML"
    if tau2 > TAU2_THRESHOLD and log_likelihood(y, v, X, 0.0, reml) - log_likelihood(
        y, v, X, tau2, reml
    ) > 1e-8:
        return 0.0
    return tau2


def _paule_mandel(y, v, X, target: float) -> float:
    """Root of the generalised Q statistic: Q(tau²) = target (0 if Q(0) < target)."""
    return q_profile_root(y, v, X, target, default_at_zero=0.0)


def q_profile_root(y, v, X, target: float, default_at_zero: float) -> float:
    """Solve ``Q(tau²) = target`` for tau² >= 0, Q being decreasing in tau².

    Returns ``default_at_zero`` when ``Q(0) <= target`` (no root above 0).
    Newton steps on Q (dQ/dtau² = -Y'PPY) safeguarded by bisection.
    """
    fit = WeightedFit.at(y, v, X, 0.0)
    if fit.q <= target:
        return default_at_zero
    lower, upper = 0.0, np.inf
    tau2 = 0.0
    for _ in range(MAX_ITERATIONS):
        excess = fit.q - target
        if excess > 0:
            lower = tau2
        else:
            upper = tau2
        slope = fit.ypp_y
        candidate = tau2 + excess / slope if slope > 0 else np.inf
        if not (lower < candidate < upper):
            candidate = (lower + upper) / 2 if np.isfinite(upper) else max(2 * tau2, 1.0)
        if abs(candidate - tau2) <= TAU2_THRESHOLD * max(1.0, candidate):
            return float(candidate)
        tau2 = candidate
        fit = WeightedFit.at(y, v, X, tau2)
    raise AnalysisError(f"the search for tau² where Q = {target:.4g} did not converge")
