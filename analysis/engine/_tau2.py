"""Between-study variance (tau²) estimators for the normal-normal model.

Each estimator follows metafor's ``rma.uni()`` (Viechtbauer 2010) for a
weighted regression of ``yi`` on the design matrix ``X`` (an intercept-only
``X`` gives the ordinary random-effects model); the Q-profile searches for its
confidence interval are here too. The fits they evaluate come from
:class:`analysis.engine._weighted_fit.NormalModel`, which makes each one cheap.

References
----------
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance
estimators in the random-effects model. J Educ Behav Stat 30(3):261-293.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import math

import numpy as np

from analysis.engine._errors import AnalysisError
from analysis.engine._weighted_fit import NormalModel, WeightedFit, _dot

#: metafor's names; "FE" is accepted as an alias of "EE".
TAU2_METHODS = ("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")

#: Convergence threshold on the change in tau² between iterations (relative above
#: tau² = 1). metafor's default is 1e-5; a tighter threshold costs a step more and
#: makes the converged value agree with metafor run at the same tightness to ~1e-12
#: rather than to metafor's own default tolerance.
TAU2_THRESHOLD = 1e-12
#: Iterations allowed to a Q-profile (or Paule-Mandel) root search.
MAX_ITERATIONS = 200
#: Iterations allowed to the ML/REML/EB solver (safeguarded Newton). The
#: reference datasets need 1-5; bisection bounds the rest.
NEWTON_ITERATIONS = 100


def estimate_tau2(model: NormalModel, method: str) -> tuple[float, int]:
    """Estimate tau² by ``method``; return ``(tau2, iterations)``.

    Negative moment estimates are truncated at 0, as metafor does. Iterative
    estimators raise :class:`AnalysisError` when they do not converge.
    """
    tau2, iterations = _estimate(model, method)
    return float(tau2), iterations


def _estimate(model, method):
    k, p = model.k, model.p
    if method == "EE" or k == 1:
        return 0.0, 0
    if k <= p:
        raise AnalysisError(
            f"cannot estimate tau² with k={k} studies and {p} model coefficients"
        )
    if method == "HS":
        fit0 = model.fit(0.0)
        return max(0.0, (fit0.q - k) / fit0.sum_w), 0
    if method == "DL":
        fit0 = model.fit(0.0)
        return max(0.0, (fit0.q - (k - p)) / fit0.trace_p), 0
    if method == "SJ":
        tau2_0 = float(np.var(model.y))  # var(yi) * (k-1)/k, metafor's default start
        if tau2_0 <= 0:
            return 0.0, 0
        return tau2_0 * model.fit(tau2_0).q / (k - p), 0
    if method == "PM":
        return _paule_mandel(model, target=k - p), 0
    start = max(0.0, hedges_tau2(model))
    if method == "HE":
        return start, 0
    return _safeguarded_newton(model, method, start)


def hedges_tau2(model: NormalModel) -> float:
    """Hedges' (HE) moment estimator, untruncated: (RSS_ols - tr(P_ols V)) / (k - p)."""
    k, p = model.k, model.p
    y, v, X = model.y, model.v, model.X
    if model.sums is not None:  # residuals about the mean: the centred effects
        return float((model.sums.sum_squares - v.sum() * (1 - 1 / k)) / (k - p))
    xtx_inv = np.linalg.inv(X.T @ X)
    resid = y - X @ (xtx_inv @ (X.T @ y))
    trace_pv = v.sum() - np.trace(xtx_inv @ ((X.T * v) @ X))
    return float((_dot(resid, resid) - trace_pv) / (k - p))


def _score(fit: WeightedFit, method: str, k: int, p: int) -> float:
    """Estimating equation of ML, REML or EB at ``fit.tau2`` (zero at the estimate)."""
    if method == "ML":
        return fit.ypp_y - fit.sum_w
    if method == "REML":
        return fit.ypp_y - fit.trace_p
    return fit.q * k / (k - p) - k  # EB


def _information(fit: WeightedFit, method: str) -> float:
    if method == "ML":
        return fit.sum_w2
    if method == "REML":
        return fit.trace_pp
    return fit.sum_w  # EB


def _score_slope(fit, method: str, k: int, p: int) -> float:
    """Derivative of the estimating equation in tau² (dP/dtau² = -PP)."""
    if method == "ML":
        return -2.0 * fit.yppp_y + fit.sum_w2
    if method == "REML":
        return -2.0 * fit.yppp_y + fit.trace_pp
    return -fit.ypp_y * k / (k - p)  # EB


def _newton_step(fit, method: str, score: float, k: int, p: int) -> tuple[float, bool]:
    """Newton step for the root of the estimating equation, or a Fisher-scoring step;
    returns ``(step, is_newton)``.

    For ML and REML, Newton's method runs on score / Σw² (same root): the
    score is close to Σw²(r² - v - tau²), so the raw Newton step crawls from
    below the root (the score falls like 1/tau² there), while the scaled one
    follows a w²-weighted mean of r² - v minus tau², nearly linear (exactly,
    when the studies share one variance). With dΣw²/dtau² = -2Σw³, the step is
    -score / (score' + 2 score Σw³ / Σw²). Where that slope is not negative,
    the Fisher-scoring step (metafor's algorithm, always towards the root) is
    taken instead.
    """
    slope = _score_slope(fit, method, k, p)
    if method != "EB":
        slope += 2.0 * score * fit.sum_w3 / fit.sum_w2
    if slope < 0:
        return -score / slope, True
    return score / _information(fit, method), False


def _safeguarded_newton(model, method, tau2) -> tuple[float, int]:
    """ML, REML and EB: the root of the estimating equation, from metafor's start value.

    Newton's method (:func:`_newton_step`, quadratic convergence near the
    root) with two safeguards: a Fisher-scoring step where Newton's slope has
    the wrong sign, and a bracket from the signs of the score, bisected when a
    step would leave it. Plain Fisher scoring converges linearly and can
    oscillate forever (metafor then stops with an error); the root found is
    the same. Stops at the first iterate whose step is below
    ``TAU2_THRESHOLD`` (relative above 1), so the fit there is the final fit;
    or one step earlier, once quadratic convergence is under way (the step
    shrank at least a hundredfold from the Newton step before it) and the
    error left after the step, estimated from the observed rate as step³ /
    previous², is below a hundredth of the threshold: that last step is then
    taken by :meth:`NormalModel.move` when it is small enough for a
    first-order update. Returns (tau², fits evaluated).
    """
    k, p = model.k, model.p
    score_at_zero = _score(model.fit(0.0), method, k, p)
    boundary_descent = score_at_zero <= 0.0
    lower = 0.0 if score_at_zero > 0 else None  # positive score: the root lies above
    upper = None  # non-positive score: the root lies below
    previous = None  # relative size of the Newton step that led here, if one did
    for iteration in range(1, NEWTON_ITERATIONS + 1):
        fit = model.fit(tau2)
        score = _score(fit, method, k, p)
        if score > 0:
            lower = tau2
        else:
            upper = tau2
            if boundary_descent and _zero_is_better(model, method, tau2):
                # the objective falls from tau² = 0 to here: the maximum is on the
                # boundary (metafor's ll0check lands there too)
                return 0.0, iteration
        step, newton = _newton_step(fit, method, score, k, p)
        if tau2 == 0.0 and step < 0.0:  # maximum on the boundary
            return 0.0, iteration
        scale = max(1.0, tau2)
        if abs(step) <= TAU2_THRESHOLD * scale:
            break
        size = abs(step) / scale
        quadratic = newton and previous is not None and size <= 0.01 * previous
        if quadratic and size**3 / previous**2 <= 0.01 * TAU2_THRESHOLD:
            moved = model.move(tau2, step)
            if moved is not None:
                tau2 = moved
                break
        candidate = tau2 + step
        previous = size if newton else None
        if lower is not None and upper is not None and not lower < candidate < upper:
            candidate, previous = (lower + upper) / 2, None
        while candidate < 0.0:  # metafor's step halving at the boundary
            step /= 2.0
            candidate, previous = tau2 + step, None
        tau2 = candidate
    else:
        raise AnalysisError(
            f"the {method} estimate of tau² did not converge in {NEWTON_ITERATIONS} "
            "iterations; try method='PM' or method='DL'"
        )
    if method in ("ML", "REML"):
        tau2 = _boundary_check(model, method, tau2)
    return tau2, iteration


_LOG_2PI = math.log(2 * math.pi)


def log_likelihood(model, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood of the normal-normal model at ``tau2``."""
    k, p = model.k, model.p
    fit = model.fit(tau2)
    ll = -0.5 * (k - p if reml else k) * _LOG_2PI - 0.5 * model.sum_log_variance(tau2) - 0.5 * fit.q
    if reml:
        ll -= 0.5 * fit.log_det_xwx
    return float(ll)


def _zero_is_better(model, method, tau2) -> bool:
    """Whether tau² = 0 beats ``tau2``: higher (restricted) likelihood, or for EB
    (whose estimating equation decreases in tau²) simply a non-positive value at 0."""
    if method == "EB":
        return True
    if tau2 == 0.0:
        return False
    reml = method == "REML"
    return log_likelihood(model, 0.0, reml) - log_likelihood(model, tau2, reml) > 1e-8


def _boundary_check(model, method, tau2) -> float:
    """metafor's ``ll0check``: prefer tau² = 0 when it has the higher likelihood."""
    if tau2 > TAU2_THRESHOLD and _zero_is_better(model, method, tau2):
        return 0.0
    return tau2


def _paule_mandel(model, target: float) -> float:
    """Root of the generalised Q statistic: Q(tau²) = target (0 if Q(0) < target)."""
    return q_profile_root(model, target, default_at_zero=0.0)


def q_profile_root(model, target: float, default_at_zero: float) -> float:
    """Solve ``Q(tau²) = target`` for tau² >= 0, Q being decreasing in tau².

    Returns ``default_at_zero`` when ``Q(0) <= target`` (no root above 0).
    Halley's method on 1/Q, which is close to linear in tau² (Q behaves like
    c / (tau² + typical variance)), safeguarded by bisection; the search
    starts from the fit already evaluated whose Q is nearest the target, inside
    the bracket that the known fits give. With Q' = -Y'PPY and (Y'PPY)' =
    -2 Y'PPPY: f = 1/Q - 1/target, f' = Y'PPY / Q², f'' = 2 (Y'PPY)² / Q³ -
    2 Y'PPPY / Q².

    It stops without evaluating the last step once the error left after it is
    below ``TAU2_THRESHOLD`` (relative above 1), by either of two estimates:
    Newton's bound |f''/(2f')| step², for a step already below the square root
    of the threshold (Halley's error is smaller still); or, when a Halley step
    of at most 10% was followed by one at least a hundredfold smaller (cubic
    convergence under way), the observed rate: error ≈ C step³ with C = step /
    previous³ (steps relative to tau² above 1), held to a hundredth of the
    threshold since C is itself an estimate. On 600 random datasets (every
    random-effects method) the bounds agreed with a search iterated to a step
    below 1e-12 to within 1e-13.
    """
    if model.fit(0.0).q <= target:
        return default_at_zero
    tau2, lower, upper = model.nearest_known(target)
    small_step = math.sqrt(TAU2_THRESHOLD)
    previous = None  # relative size of the Halley step that led here, if one did
    for _ in range(MAX_ITERATIONS):
        fit = model.fit(tau2)
        q, ypp = fit.q, fit.ypp_y
        if q > target:
            lower = max(lower, tau2)
        else:
            upper = min(upper, tau2)
        f = 1.0 / q - 1.0 / target
        f1 = ypp / q**2
        if not f1 > 0:
            tau2, previous = (lower + upper) / 2 if upper < math.inf else max(2 * tau2, 1.0), None
            continue
        f2 = 2.0 * ypp**2 / q**3 - 2.0 * fit.yppp_y / q**2
        denominator = 2.0 * f1**2 - f * f2
        step = -(2.0 * f * f1 / denominator if denominator > 0 else f / f1)
        candidate = tau2 + step
        scale = max(1.0, abs(candidate))
        size = abs(step) / scale
        if size <= small_step and abs(f2 / (2.0 * f1)) * step**2 <= TAU2_THRESHOLD * scale:
            return float(max(candidate, 0.0))
        cubic = previous is not None and previous <= 0.1 and size <= 0.01 * previous
        if cubic and size**4 / previous**3 <= 0.01 * TAU2_THRESHOLD:
            return float(max(candidate, 0.0))
        if lower < candidate < upper:
            tau2, previous = candidate, size
        else:
            tau2, previous = (lower + upper) / 2 if upper < math.inf else max(2 * tau2, 1.0), None
    raise AnalysisError(f"the search for tau² where Q = {target:.4g} did not converge")
