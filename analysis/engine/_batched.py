"""Inverse-variance random-effects fits of many specifications at once (internal).

The multiverse (:mod:`analysis.review.multiverse`) fits the same intercept-only model to
hundreds of subsets of the same few studies. Here the subsets are stacked as the rows
of padded ``(S, K)`` arrays with a mask, and every quantity of
:func:`analysis.engine.pooling.meta_analysis` is computed for all rows at once from sums over
the studies (numpy, no threads, no Python loop over specifications):

- DL: the closed form of :mod:`analysis.engine._tau2`;
- REML: the root of the same estimating equation (``Y'PPY - tr(P)``) by a vectorised
  Newton method, bisected when a step would leave the bracket that the score's signs
  give, stopped at the same relative step (``TAU2_THRESHOLD``), with metafor's
  boundary check (tau² = 0 when its restricted likelihood is higher);
- PM: the root of ``Q(tau²) = k - 1`` by Newton's method on ``1/Q``, bracketed the same way;
- tests ``z`` and ``knha`` (Hartung-Knapp, t with k - 1 df), one study as metafor (z, tau² = 0).

The values equal one-by-one calls of ``meta_analysis`` to the precision of the tau²
solvers (``tests/test_multiverse.py`` checks a random sample of specifications).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._tau2 import MAX_ITERATIONS, TAU2_THRESHOLD

#: tau² estimators the batched fit implements (metafor names).
BATCHED_METHODS = ("DL", "REML", "PM")
#: Inference of the batched fit.
BATCHED_TESTS = ("z", "knha")
#: Restricted log-likelihood gain at tau² = 0 above which the boundary wins (as ``_tau2``'s check).
_BOUNDARY_GAIN = 1e-8


class BatchFit(NamedTuple):
    """One fit per row of the stacked arrays (analysis scale).

    Attributes
    ----------
    k : ndarray of int
        Studies per row.
    estimate, se, ci_lb, ci_ub, tau2 : ndarray
        As the fields of :class:`analysis.engine.pooling.MetaAnalysisResult`.
    """

    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    tau2: np.ndarray


class _Sums(NamedTuple):
    """Intercept-only quantities of the weighted fit at one tau² per row."""

    sum_w: np.ndarray
    mean: np.ndarray
    q: np.ndarray
    ypp_y: np.ndarray
    yppp_y: np.ndarray
    trace_p: np.ndarray
    trace_pp: np.ndarray
    log_det_v: np.ndarray


def stack(groups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad a sequence of ``(yi, vi)`` pairs to ``(S, K)`` arrays ``y, v, mask``."""
    width = max((len(yi) for yi, _ in groups), default=0) or 1
    y = np.zeros((len(groups), width))
    v = np.ones((len(groups), width))
    mask = np.zeros((len(groups), width), dtype=bool)
    for row, (yi, vi) in enumerate(groups):
        y[row, : len(yi)], v[row, : len(vi)], mask[row, : len(yi)] = yi, vi, True
    return y, v, mask


def _sums(y, v, mask, tau2) -> _Sums:
    w = np.where(mask, 1.0 / (v + tau2[:, None]), 0.0)
    w2, sum_w = w * w, w.sum(axis=1)
    mean = (w * y).sum(axis=1) / sum_w
    r = np.where(mask, y - mean[:, None], 0.0)
    r2 = r * r
    w3 = w2 * w
    s_w2, s_w3 = w2.sum(axis=1), w3.sum(axis=1)
    w2r = (w2 * r).sum(axis=1)
    log_v = np.where(mask, np.log(np.where(mask, v + tau2[:, None], 1.0)), 0.0).sum(axis=1)
    return _Sums(sum_w, mean, (w * r2).sum(axis=1), (w2 * r2).sum(axis=1),
                 (w3 * r2).sum(axis=1) - w2r * w2r / sum_w, sum_w - s_w2 / sum_w,
                 s_w2 - 2.0 * s_w3 / sum_w + (s_w2 / sum_w) ** 2, log_v)


def _dersimonian_laird(y, v, mask, k):
    at_zero = _sums(y, v, mask, np.zeros(len(y)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 1, np.maximum(0.0, (at_zero.q - (k - 1)) / at_zero.trace_p), 0.0)


def _upper_bracket(y, v, mask, tau2, above):
    """Double ``tau2`` in the rows where ``above(sums)`` holds until it no longer does."""
    upper = np.maximum(tau2, 1.0)
    for _ in range(MAX_ITERATIONS):
        with np.errstate(invalid="ignore", divide="ignore"):
            still = above(_sums(y, v, mask, upper))
        if not still.any():
            return upper
        upper = np.where(still, 2.0 * upper, upper)
    raise AnalysisError("the batched tau² search found no upper bound")


def _bracketed_newton(y, v, mask, start, active, function, slope, name):
    """Root of ``function`` (decreasing in tau²) in the ``active`` rows; others keep ``start``."""
    lower = np.zeros_like(start)
    upper = _upper_bracket(y, v, mask, np.where(active, start, 0.0),
                           lambda s: active & (function(s) > 0))
    tau2 = np.where(active, np.clip(start, lower, upper), start)
    done = ~active
    for _ in range(MAX_ITERATIONS):
        if done.all():
            return tau2
        sums = _sums(y, v, mask, tau2)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = function(sums)
        lower = np.where(~done & (value > 0), tau2, lower)
        upper = np.where(~done & (value <= 0), tau2, upper)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = -value / slope(sums)
        finished = np.abs(step) <= TAU2_THRESHOLD * np.maximum(1.0, tau2)
        candidate = tau2 + step
        outside = ~np.isfinite(candidate) | (candidate <= lower) | (candidate >= upper)
        candidate = np.where(outside, 0.5 * (lower + upper), candidate)
        newly = ~done & finished
        tau2 = np.where(done | newly, np.where(newly, np.maximum(tau2 + step, 0.0), tau2), candidate)
        done |= newly
    raise AnalysisError(f"the batched {name} estimate of tau² did not converge in {MAX_ITERATIONS} iterations")


def _restricted_loglik(sums: _Sums) -> np.ndarray:
    """Restricted log-likelihood up to a constant of the row's k."""
    return -0.5 * (sums.log_det_v + sums.q + np.log(sums.sum_w))


def _reml(y, v, mask, k):
    zeros = np.zeros(len(y))
    at_zero = _sums(y, v, mask, zeros)
    active = (k > 1) & (at_zero.ypp_y - at_zero.trace_p > 0)  # positive score at 0: the root lies above
    start = _dersimonian_laird(y, v, mask, k)
    tau2 = _bracketed_newton(y, v, mask, start, active, lambda s: s.ypp_y - s.trace_p,
                             lambda s: -2.0 * s.yppp_y + s.trace_pp, "REML")
    tau2 = np.where(active, tau2, 0.0)
    gain = _restricted_loglik(at_zero) - _restricted_loglik(_sums(y, v, mask, tau2))
    return np.where(active & (tau2 > TAU2_THRESHOLD) & (gain > _BOUNDARY_GAIN), 0.0, tau2)


def _paule_mandel(y, v, mask, k):
    target = np.maximum(k - 1, 1).astype(float)
    at_zero = _sums(y, v, mask, np.zeros(len(y)))
    active = (k > 1) & (at_zero.q > target)
    start = _dersimonian_laird(y, v, mask, k)
    tau2 = _bracketed_newton(y, v, mask, start, active, lambda s: 1.0 / target - 1.0 / s.q,
                             lambda s: -s.ypp_y / s.q**2, "PM")
    return np.where(active, tau2, 0.0)


_ESTIMATORS = {"DL": _dersimonian_laird, "REML": _reml, "PM": _paule_mandel}


def fit_batch(y, v, mask, method: str = "REML", test: str = "z", confidence_level: float = 0.95) -> BatchFit:
    """Fit the random-effects model to every row of the stacked ``y, v`` (``mask``: which cells are studies).

    Every row needs at least one study. See the module docstring for the methods.
    """
    check_option("method", method, BATCHED_METHODS)
    check_option("test", test, BATCHED_TESTS)
    y, v, mask = np.asarray(y, float), np.asarray(v, float), np.asarray(mask, bool)
    k = mask.sum(axis=1)
    if y.ndim != 2 or y.shape != v.shape or y.shape != mask.shape or np.any(k == 0):
        raise AnalysisError("fit_batch needs (S, K) arrays y, v, mask with at least one study per row")
    tau2 = _ESTIMATORS[method](y, v, mask, k)
    sums = _sums(y, v, mask, tau2)
    variance = 1.0 / sums.sum_w
    tail = 1.0 - (1.0 - confidence_level) / 2.0
    crit = np.full(len(y), special.ndtri(tail))
    if test == "knha":
        several = k > 1
        with np.errstate(invalid="ignore", divide="ignore"):
            s2w = sums.q / (k - 1)
        variance = np.where(several, variance * np.where(s2w > np.finfo(float).eps, s2w, 0.0), variance)
        crit = np.where(several, special.stdtrit(np.maximum(k - 1, 1), tail), crit)
    se = np.sqrt(variance)
    estimate = sums.mean
    return BatchFit(k, estimate, se, estimate - crit * se, estimate + crit * se, tau2)
