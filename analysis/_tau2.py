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

import numpy as np

from analysis._errors import AnalysisError

#: metafor's names; "FE" is accepted as an alias of "EE".
TAU2_METHODS = ("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")

#: Convergence threshold on the change in tau² between iterations. metafor's
#: default is 1e-5; a tighter threshold costs a step more and makes the
#: converged value agree with metafor run at the same tightness to ~1e-12
#: rather than to metafor's own default tolerance.
TAU2_THRESHOLD = 1e-12
#: Iterations allowed to a Q-profile (or Paule-Mandel) root search.
MAX_ITERATIONS = 200
#: Iterations allowed to the ML/REML/EB solver (safeguarded Newton). The
#: reference datasets need 1-12; bisection bounds the rest.
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


class InterceptOnlyFit:
    """The quantities of :class:`WeightedFit` for ``X`` = a column of ones.

    Everything the estimators need is a weighted sum, computed once into
    scalars through scratch buffers that the model owns: a fresh array per
    evaluation would cost more than the arithmetic at large k (page faults on
    every allocation above glibc's mmap threshold). ``w`` and ``residuals``
    are rebuilt on request, which only the final fit does.
    """

    __slots__ = ("tau2", "X", "_y", "_v", "_sw", "_mu", "q", "ypp_y", "yppp_y", "sum_w2", "_sw3")

    def __init__(self, y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float, work: np.ndarray):
        w, r, scratch = work
        dot = np.ndarray.dot if len(y) <= _BLAS_DOT_MAX_LENGTH else _einsum_dot
        total = np.add.reduce
        np.add(v, tau2, out=w)
        np.reciprocal(w, out=w)
        sw = total(w)
        mu = dot(w, y) / sw
        np.subtract(y, mu, out=r)
        np.multiply(w, r, out=scratch)  # W r
        self.q = float(dot(scratch, r))
        self.ypp_y = float(dot(scratch, scratch))
        np.multiply(w, scratch, out=r)  # W W r; r itself is no longer needed
        self.yppp_y = float(dot(r, scratch) - total(r) ** 2 / sw)
        self.sum_w2 = float(dot(w, w))
        np.multiply(w, w, out=scratch)
        self._sw3 = float(dot(scratch, w))
        self.tau2, self.X, self._y, self._v, self._sw, self._mu = tau2, X, y, v, float(sw), float(mu)

    @property
    def w(self) -> np.ndarray:
        return 1.0 / (self._v + self.tau2)

    @property
    def residuals(self) -> np.ndarray:
        return self._y - self._mu

    @property
    def beta(self) -> np.ndarray:
        return np.array([self._mu])

    @property
    def xwx_inv(self) -> np.ndarray:
        return np.array([[1.0 / self._sw]])

    @property
    def sum_w(self) -> float:
        return self._sw

    @property
    def log_det_xwx(self) -> float:
        return float(np.log(self._sw))

    @property
    def trace_p(self) -> float:
        return self._sw - self.sum_w2 / self._sw

    @property
    def trace_pp(self) -> float:
        sw, sw2 = self._sw, self.sum_w2
        return sw2 - 2.0 * self._sw3 / sw + (sw2 / sw) ** 2


class NormalModel:
    """The normal-normal model's data (``y``, ``v``, design ``X``); fits memoised by tau².

    One meta-analysis evaluates the fit at tau² = 0 for the estimator, the
    likelihood check, Q and both ends of the Q-profile CI, and the final fit
    again for the likelihood check; the memo computes each once.
    """

    __slots__ = ("y", "v", "X", "k", "p", "_fits", "_work")

    def __init__(self, y: np.ndarray, v: np.ndarray, X: np.ndarray):
        self.y, self.v, self.X = y, v, X
        self.k, self.p = X.shape
        self._fits: dict[float, WeightedFit | InterceptOnlyFit] = {}
        self._work = np.empty((3, self.k)) if _is_intercept_only(X) else None

    def sum_log_variance(self, tau2: float) -> float:
        """sum(log(v + tau2)), through the scratch buffer when there is one."""
        if self._work is None:
            return float(np.log(self.v + tau2).sum())
        buffer = np.add(self.v, tau2, out=self._work[0])
        return float(np.log(buffer, out=buffer).sum())

    def fit(self, tau2: float) -> WeightedFit | InterceptOnlyFit:
        """The weighted least-squares fit at ``tau2``."""
        fit = self._fits.get(tau2)
        if fit is None:
            if self._work is not None:
                fit = InterceptOnlyFit(self.y, self.v, self.X, tau2, self._work)
            else:
                fit = WeightedFit(self.y, self.v, self.X, tau2)
            self._fits[tau2] = fit
        return fit


def intercept_design(k: int) -> np.ndarray:
    """The k x 1 design matrix of the intercept-only model.

    A read-only broadcast of one value (row stride 0): O(1) to build, and
    recognisable in O(1) by :class:`NormalModel`.
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
    if _is_intercept_only(X):
        resid = y - y.mean()
        trace_pv = v.sum() * (1 - 1 / k)
    else:
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


def _fisher_scoring(model, method, tau2) -> tuple[float, int]:
    """ML, REML and EB: the root of the estimating equation, from metafor's start value.

    Newton's method on the score (quadratic convergence near the root), with
    two safeguards: where the score is not decreasing, a Fisher-scoring step
    (metafor's algorithm, always uphill); and a bracket from the signs of the
    score, bisected when a step would leave it. Plain Fisher scoring converges
    linearly and can oscillate forever (metafor then stops with an error);
    the root found is the same. Returns (tau², fits evaluated).
    """
    k, p = model.k, model.p
    score_at_zero = _score(model.fit(0.0), method, k, p)
    boundary_descent = score_at_zero <= 0.0
    lower = 0.0 if score_at_zero > 0 else None  # positive score: the root lies above
    upper = None  # non-positive score: the root lies below
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
        slope = _score_slope(fit, method, k, p)
        step = -score / slope if slope < 0 else score / _information(fit, method)
        if tau2 == 0.0 and step < 0.0:  # maximum on the boundary
            return 0.0, iteration
        candidate = tau2 + step
        if lower is not None and upper is not None and not lower < candidate < upper:
            candidate = (lower + upper) / 2
        while candidate < 0.0:  # metafor's step halving at the boundary
            step /= 2.0
            candidate = tau2 + step
        step, tau2 = candidate - tau2, candidate
        if abs(step) <= TAU2_THRESHOLD * max(1.0, tau2):
            break
    else:
        raise AnalysisError(
            f"the {method} estimate of tau² did not converge in {FISHER_SCORING_ITERATIONS} "
            "iterations; try method='PM' or method='DL'"
        )
    if method in ("ML", "REML"):
        tau2 = _boundary_check(model, method, tau2)
    return tau2, iteration


def log_likelihood(model, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood of the normal-normal model at ``tau2``."""
    k, p = model.k, model.p
    fit = model.fit(tau2)
    ll = -0.5 * (k - p if reml else k) * np.log(2 * np.pi) - 0.5 * model.sum_log_variance(tau2) - 0.5 * fit.q
    if reml:
        ll -= 0.5 * fit.log_det_xwx
    return float(ll)


def _zero_is_better(model, method, tau2) -> bool:
    """Whether tau² = 0 beats ``tau2``: higher (restricted) likelihood, or for EB
    (whose estimating equation decreases in tau²) simply a non-positive value at 0."""
    if method == "EB":
        return True
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


def q_profile_root(model, target: float, default_at_zero: float, start: float = 0.0) -> float:
    """Solve ``Q(tau²) = target`` for tau² >= 0, Q being decreasing in tau².

    Returns ``default_at_zero`` when ``Q(0) <= target`` (no root above 0).
    Halley's method on 1/Q, which is close to linear in tau² (Q behaves like
    c / (tau² + typical variance)), from ``start`` (a tau² whose fit is often
    already known), safeguarded by bisection. With Q' = -Y'PPY and
    (Y'PPY)' = -2 Y'PPPY: f = 1/Q - 1/target, f' = Y'PPY / Q², and
    f'' = 2 (Y'PPY)² / Q³ - 2 Y'PPPY / Q².
    """
    if model.fit(0.0).q <= target:
        return default_at_zero
    lower, upper = 0.0, np.inf
    tau2 = start
    for _ in range(MAX_ITERATIONS):
        fit = model.fit(tau2)
        q, ypp = fit.q, fit.ypp_y
        if q > target:
            lower = tau2
        else:
            upper = tau2
        f = 1.0 / q - 1.0 / target
        f1 = ypp / q**2
        f2 = 2.0 * ypp**2 / q**3 - 2.0 * fit.yppp_y / q**2
        denominator = 2.0 * f1**2 - f * f2
        candidate = tau2 - (2.0 * f * f1 / denominator if denominator > 0 else f / f1) if f1 > 0 else np.inf
        if abs(candidate - tau2) <= TAU2_THRESHOLD * max(1.0, candidate):
            return float(candidate)  # converged (checked before the bracket, which a
            # converged iterate sits on)
        if not (lower < candidate < upper):
            candidate = (lower + upper) / 2 if np.isfinite(upper) else max(2 * tau2, 1.0)
        tau2 = candidate
    raise AnalysisError(f"the search for tau² where Q = {target:.4g} did not converge")
