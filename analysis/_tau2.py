"""Between-study variance (tau²) estimators for the normal-normal model.

Each estimator follows metafor's ``rma.uni()`` (Viechtbauer 2010) for a
weighted regression of ``yi`` on the design matrix ``X`` (an intercept-only
``X`` gives the ordinary random-effects model). Nothing here forms a k x k
matrix: every quadratic form and trace is written with O(k p²) sums, so the
cost grows linearly in the number of studies. The intercept-only model, the
common case, gets its own path (:class:`WeightedSums`): nine weighted sums per
value of tau², from which every quantity of a fit follows in scalar arithmetic.

References
----------
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance
estimators in the random-effects model. J Educ Behav Stat 30(3):261-293.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from analysis._errors import AnalysisError

#: metafor's names; "FE" is accepted as an alias of "EE".
TAU2_METHODS = ("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")

#: Convergence threshold on the change in tau² between iterations (relative above
#: tau² = 1). metafor's default is 1e-5; a tighter threshold costs a step more and
#: makes the converged value agree with metafor run at the same tightness to ~1e-12
#: rather than to metafor's own default tolerance.
TAU2_THRESHOLD = 1e-12
#: A solver's last step is applied to the known fit by a first-order update, without a
#: pass over the studies, when it changes no weight by more than this (relative): the
#: update's error is then below its square (see NormalModel.move).
LINEAR_STEP = 1e-6
#: Iterations allowed to a Q-profile (or Paule-Mandel) root search.
MAX_ITERATIONS = 200
#: Iterations allowed to the ML/REML/EB solver (safeguarded Newton). The
#: reference datasets need 1-5; bisection bounds the rest.
FISHER_SCORING_ITERATIONS = 100


#: Above this length, inner products avoid BLAS: OpenBLAS runs ddot single-threaded up to
#: 10,000 elements and splits longer vectors across threads, which on a busy 2-core machine
#: was measured 5-50x slower than numpy's own loop (benchmarks/bench_pooling.py); below it,
#: BLAS is 3-4x faster than einsum.
_BLAS_DOT_MAX_LENGTH = 10_000


def _einsum_dot(a: np.ndarray, b: np.ndarray) -> float:
    return np.einsum("i,i->", a, b)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two vectors."""
    if a.size <= _BLAS_DOT_MAX_LENGTH:
        return a.dot(b)
    return _einsum_dot(a, b)


class WeightedFit:
    """Weighted least-squares fit of ``y`` on ``X`` with weights 1/(v + tau2).

    ``P`` below is the k x k matrix ``W - W X (X'WX)^-1 X'W`` of metafor's
    source; only the quadratic forms and traces that the estimators need are
    computed from it, in O(k p²).
    """

    __slots__ = ("tau2", "w", "beta", "xwx_inv", "residuals", "X")

    def __init__(self, y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float):
        w = 1.0 / (v + tau2)
        xw = X.T * w
        self.tau2, self.w, self.X = tau2, w, X
        self.xwx_inv = np.linalg.inv(xw @ X)
        self.beta = self.xwx_inv @ (xw @ y)
        self.residuals = y - X @ self.beta

    @property
    def q(self) -> float:
        """Generalised Q: ``Y'PY``, the weighted residual sum of squares."""
        return float(_dot(self.w, self.residuals * self.residuals))

    @property
    def ypp_y(self) -> float:
        """``Y'PPY`` (``PY`` equals ``W r``)."""
        wr = self.w * self.residuals
        return float(_dot(wr, wr))

    @property
    def yppp_y(self) -> float:
        """``Y'PPPY``: with ``z = PY = W r``, ``z'Pz = z'Wz - (X'Wz)' (X'WX)^-1 (X'Wz)``."""
        wz = self.w * (self.w * self.residuals)
        b = self.X.T @ wz
        return float(_dot(wz, self.w * self.residuals) - b @ self.xwx_inv @ b)

    @property
    def sum_w(self) -> float:
        return float(self.w.sum())

    @property
    def sum_w2(self) -> float:
        return float(_dot(self.w, self.w))

    @property
    def sum_w3(self) -> float:
        return float(_dot(self.w * self.w, self.w))

    @property
    def log_det_xwx(self) -> float:
        """log det(X'WX), for the restricted likelihood."""
        return float(-np.linalg.slogdet(self.xwx_inv)[1])

    def _leverage_trace(self, power: int) -> np.ndarray:
        """``(X'WX)^-1 X' W^power X`` (p x p)."""
        return self.xwx_inv @ ((self.X.T * self.w**power) @ self.X)

    @property
    def trace_p(self) -> float:
        return float(self.w.sum() - np.trace(self._leverage_trace(2)))

    @property
    def trace_pp(self) -> float:
        a2 = self._leverage_trace(2)
        return float(self.sum_w2 - 2.0 * np.trace(self._leverage_trace(3)) + np.trace(a2 @ a2))


#: Studies per block of work: inner products of up to 10,000 elements run
#: single-threaded in OpenBLAS (see _BLAS_DOT_MAX_LENGTH).
_BLOCK_LENGTH = _BLAS_DOT_MAX_LENGTH


class _WorkRows:
    """Named views of one block of work memory: rows ``1, e, e², w, w², w³``."""

    __slots__ = ("e", "e2", "w", "w2", "w3", "powers", "basis")

    def __init__(self, work: np.ndarray):
        self.e, self.e2, self.w, self.w2, self.w3 = work[1:]
        # shaped so that one vecdot call pairs every power of w with every power of e
        self.powers, self.basis = work[3:, np.newaxis], work[np.newaxis, :3]


class WeightedSums:
    """The nine weighted sums from which an intercept-only fit is computed.

    With ``w = 1/(v + tau2)`` and the centred effects ``e = y - mean(y)``,
    :meth:`at` returns ``s[a][b] = sum(w**(a + 1) * e**b)`` for ``a, b`` in
    0, 1, 2. Centring keeps the differences taken from these sums (``Q = Σwe²
    - (Σwe)²/Σw``, ...) well conditioned when the effects sit far from zero.

    Work memory is one block of rows (``1, e, e², w, w², w³``), allocated once
    per model: with more than one block, ``e`` and ``e²`` are recomputed per
    block rather than kept for every study, because fresh memory costs more
    than the arithmetic here (first-touch page faults: about 0.45 ms per
    100,000 doubles, about two fits' worth of work).
    """

    __slots__ = ("center", "sum_squares", "min_v", "_blocks", "_sums")

    def __init__(self, y: np.ndarray, v: np.ndarray):
        k = y.size
        self.center = float(np.add.reduce(y)) / k
        self.min_v = float(np.minimum.reduce(v))
        length = min(k, _BLOCK_LENGTH)
        work = np.empty((6, length))
        work[0] = 1.0
        #: per block: its y and v, and the work rows cut to its length
        self._blocks = [
            (y[i : i + length], v[i : i + length], _WorkRows(work[:, : min(length, k - i)]))
            for i in range(0, k, length)
        ]
        self._sums = np.empty((3, 3))
        self.sum_squares = 0.0
        for y_block, _, rows in self._blocks:
            self._centre(y_block, rows)
            self.sum_squares += float(rows.e.dot(rows.e))

    def _centre(self, y_block: np.ndarray, rows: _WorkRows) -> None:
        """Fill ``e`` and ``e²`` into the work rows for one block."""
        np.subtract(y_block, self.center, rows.e)
        np.multiply(rows.e, rows.e, rows.e2)

    def _block_sums(self, v_block: np.ndarray, tau2: float, rows: _WorkRows) -> np.ndarray:
        """The nine sums over one block whose ``e`` and ``e²`` are in the work rows."""
        w1, w2, w3 = rows.w, rows.w2, rows.w3
        np.add(v_block, tau2, w1)
        np.divide(1.0, w1, w1)
        np.multiply(w1, w1, w2)
        np.multiply(w2, w1, w3)
        # all nine inner products (w^a . e^b) in one call
        return np.vecdot(rows.powers, rows.basis, out=self._sums)

    def at(self, tau2: float) -> list[list[float]]:
        """``s[a][b] = Σ w^(a+1) e^b`` at ``tau2`` (see the class docstring)."""
        if len(self._blocks) == 1:  # e and e² stay in the work rows from construction
            _, v_block, rows = self._blocks[0]
            return self._block_sums(v_block, tau2, rows).tolist()
        total = np.zeros((3, 3))
        for y_block, v_block, rows in self._blocks:
            self._centre(y_block, rows)
            total += self._block_sums(v_block, tau2, rows)
        return total.tolist()

    def sum_log_variance(self, tau2: float) -> float:
        """``sum(log(v + tau2))``, block by block in a work row."""
        total = 0.0
        for _, v_block, rows in self._blocks:
            row = np.add(v_block, tau2, rows.w)
            total += float(np.add.reduce(np.log(row, row)))
        return total


class InterceptOnlyFit:
    """The quantities of :class:`WeightedFit` for ``X`` = a column of ones.

    Every one is a function of the nine sums of :class:`WeightedSums` (with
    ``d`` the weighted mean of the centred effects and ``r = e - d`` the
    residuals): ``Q = Σwr²``, ``Y'PPY = Σw²r²``, ``Y'PPPY = Σw³r² -
    (Σw²r)²/Σw``, ``tr(P) = Σw - Σw²/Σw``, ``tr(PP) = Σw² - 2Σw³/Σw +
    (Σw²/Σw)²``. ``w`` and ``residuals`` are rebuilt on request, which only
    the final fit does.
    """

    __slots__ = ("tau2", "X", "_y", "_v", "sum_w", "sum_w2", "sum_w3", "_mean", "_w2r", "q", "ypp_y", "yppp_y")

    def __init__(self, y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float, sums: WeightedSums):
        (s10, s11, s12), (s20, s21, s22), (s30, s31, s32) = sums.at(tau2)
        d = s11 / s10
        self.q = s12 - d * s11
        self.ypp_y = s22 - d * (2.0 * s21 - d * s20)
        self._w2r = w2r = s21 - d * s20
        self.yppp_y = s32 - d * (2.0 * s31 - d * s30) - w2r * w2r / s10
        self.sum_w, self.sum_w2, self.sum_w3 = s10, s20, s30
        self.tau2, self.X, self._y, self._v, self._mean = tau2, X, y, v, sums.center + d

    def moved(self, step: float) -> InterceptOnlyFit:
        """This fit carried to ``tau2 + step`` to first order in the step.

        With dw/dtau² = -w²: dΣw = -Σw², dΣw² = -2Σw³, dmean = -Σw²r/Σw, dQ =
        -Y'PPY, dY'PPY = -2Y'PPPY (Σw³ and Y'PPPY, which only steer the
        solvers, are kept). Every weight changes by the factor 1/(1 + step w),
        so the error is of order (step max(w))² relatively.
        """
        moved = object.__new__(InterceptOnlyFit)
        moved.X, moved._y, moved._v = self.X, self._y, self._v
        moved.tau2 = self.tau2 + step
        moved.sum_w = self.sum_w - step * self.sum_w2
        moved.sum_w2 = self.sum_w2 - 2.0 * step * self.sum_w3
        moved._mean = self._mean - step * self._w2r / self.sum_w
        moved.q = self.q - step * self.ypp_y
        moved.ypp_y = self.ypp_y - 2.0 * step * self.yppp_y
        moved.sum_w3, moved._w2r, moved.yppp_y = self.sum_w3, self._w2r, self.yppp_y
        return moved

    @property
    def w(self) -> np.ndarray:
        return 1.0 / (self._v + self.tau2)

    @property
    def residuals(self) -> np.ndarray:
        return self._y - self._mean

    @property
    def beta(self) -> np.ndarray:
        return np.array([self._mean])

    @property
    def xwx_inv(self) -> np.ndarray:
        return np.array([[1.0 / self.sum_w]])

    @property
    def log_det_xwx(self) -> float:
        return math.log(self.sum_w)

    @property
    def trace_p(self) -> float:
        return self.sum_w - self.sum_w2 / self.sum_w

    @property
    def trace_pp(self) -> float:
        sw, sw2 = self.sum_w, self.sum_w2
        return sw2 - 2.0 * self.sum_w3 / sw + (sw2 / sw) ** 2


class NormalModel:
    """The normal-normal model's data (``y``, ``v``, design ``X``); fits memoised by tau².

    One meta-analysis evaluates the fit at tau² = 0 for the estimator, the
    likelihood check, Q and both ends of the Q-profile CI, and the final fit
    again for the likelihood check; the memo computes each once.
    """

    __slots__ = ("y", "v", "X", "k", "p", "_fits", "sums")

    def __init__(self, y: np.ndarray, v: np.ndarray, X: np.ndarray):
        self.y, self.v, self.X = y, v, X
        self.k, self.p = X.shape
        self._fits: dict[float, WeightedFit | InterceptOnlyFit] = {}
        self.sums = WeightedSums(y, v) if _is_intercept_only(X) else None

    def sum_log_variance(self, tau2: float) -> float:
        """sum(log(v + tau2))."""
        if self.sums is not None:
            return self.sums.sum_log_variance(tau2)
        return float(np.log(self.v + tau2).sum())

    def nearest_known(self, target: float) -> tuple[float, float, float]:
        """For a search of ``Q(tau²) = target``: the evaluated tau² whose Q is nearest
        the target (on the 1/Q scale), and the bracket (lower, upper) that the
        evaluated fits give (Q decreases in tau²)."""
        lower, upper = 0.0, math.inf
        nearest, distance = 0.0, math.inf
        for tau2, fit in self._fits.items():
            q = fit.q
            if q > target:
                lower = max(lower, tau2)
            else:
                upper = min(upper, tau2)
            if q > 0:
                gap = abs(target - q) / q  # |1/Q - 1/target|, times target
                if gap < distance:
                    nearest, distance = tau2, gap
        return nearest, lower, upper

    def move(self, tau2: float, step: float) -> float | None:
        """Take a last, tiny solver step without a new pass over the studies.

        For the intercept-only model, when ``step`` changes every weight
        1/(v + tau2) by at most ``LINEAR_STEP`` (relative), the fit at ``tau2 +
        step`` is the known fit at ``tau2`` carried to first order
        (:meth:`InterceptOnlyFit.moved`; error below ``LINEAR_STEP``²); it is
        remembered and the new tau² returned. Otherwise None.
        """
        target = tau2 + step
        if self.sums is None or target < 0.0 or target in self._fits:
            return None
        if abs(step) > LINEAR_STEP * (self.sums.min_v + min(tau2, target)):
            return None
        self._fits[target] = self.fit(tau2).moved(step)
        return target

    def fit(self, tau2: float) -> WeightedFit | InterceptOnlyFit:
        """The weighted least-squares fit at ``tau2``."""
        fit = self._fits.get(tau2)
        if fit is None:
            if self.sums is not None:
                fit = InterceptOnlyFit(self.y, self.v, self.X, tau2, self.sums)
            else:
                fit = WeightedFit(self.y, self.v, self.X, tau2)
            self._fits[tau2] = fit
        return fit


@lru_cache(maxsize=64)
def intercept_design(k: int) -> np.ndarray:
    """The k x 1 design matrix of the intercept-only model.

    A read-only broadcast of one value (row stride 0): O(1) to build, and
    recognisable in O(1) by :class:`NormalModel`; read-only, so one per k is
    remembered and shared.
    """
    return np.broadcast_to(1.0, (k, 1))


def _is_intercept_only(X: np.ndarray) -> bool:
    return X.shape[1] == 1 and X.strides[0] == 0 and X[0, 0] == 1.0


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
    return _fisher_scoring(model, method, start)


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


def _fisher_scoring(model, method, tau2) -> tuple[float, int]:
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
    for iteration in range(1, FISHER_SCORING_ITERATIONS + 1):
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
            f"the {method} estimate of tau² did not converge in {FISHER_SCORING_ITERATIONS} "
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
