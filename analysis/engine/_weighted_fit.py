"""The weighted fit of the normal-normal model at a given tau², built for speed.

:class:`NormalModel` holds ``yi``, ``vi`` and the design matrix and returns the
:class:`WeightedFit` at any tau² (memoised per model), from which every tau²
estimator (:mod:`analysis.engine._tau2`) and result (:mod:`analysis.engine.pooling`) reads
its quantities. Nothing here forms a k x k matrix: every quadratic form and
trace is written with O(k p²) sums, so the cost grows linearly in the number of
studies. The intercept-only model, the common case, gets its own path
(:class:`WeightedSums`): nine weighted sums per value of tau², from which every
quantity of a fit follows in scalar arithmetic.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

#: A solver's last step is applied to the known fit by a first-order update, without a
#: pass over the studies, when it changes no weight by more than this (relative): the
#: update's error is then below its square (see NormalModel.move).
LINEAR_STEP = 1e-6
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
