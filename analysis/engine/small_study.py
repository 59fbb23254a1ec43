"""Small-study effects: Egger's regression test, the rank correlation test and
trim-and-fill, as metafor's ``regtest()``, ``ranktest()`` and ``trimfill()``.

Each function takes a fitted :class:`analysis.engine.pooling.MetaAnalysisResult` and
uses its method, test and confidence level. With fewer than
:data:`MIN_STUDIES_FOR_POWER` studies the results still compute but carry
``low_power=True`` and a ``note`` the narrative uses; a review that follows
Sterne et al. runs them only where k >= 10. ``tests/reference/sensitivity.R`` pins the metafor values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.engine._distributions import normal_two_sided_p, t_two_sided_critical, t_two_sided_p
from analysis.engine._errors import AnalysisError, check_option
from analysis.engine.pooling import MetaAnalysisResult, meta_analysis, meta_regression

#: Below this many studies the tests have too little power to tell asymmetry from chance
#: (Sterne et al. 2011, BMJ 343:d4002; Cochrane Handbook 13.3.5.4).
MIN_STUDIES_FOR_POWER = 10
EGGER_PREDICTORS = ("sei", "vi")
EGGER_MODELS = ("rma", "lm")
TRIMFILL_ESTIMATORS = ("L0", "R0", "Q0")
SIDES = ("left", "right")
TRIMFILL_MAX_ITERATIONS = 100


def _power_note(k: int) -> tuple[bool, str]:
    low_power = k < MIN_STUDIES_FOR_POWER
    return low_power, (f"with {k} studies the test has little power" if low_power else "")


@dataclass(frozen=True)
class EggerTestResult:
    """Regression test for funnel plot asymmetry (metafor's ``regtest``).

    Attributes
    ----------
    model, predictor, method, test : str
        ``model="rma"``: the meta-regression ``rma(yi, vi, mods = ~ predictor)``
        with the fit's method and test; ``"lm"``: weighted least squares with
        weights 1/vi and a multiplicative dispersion (Egger's original test;
        ``test`` is then ``"t"``).
    k : int
    statistic, df, pval : float
        Test of the predictor's coefficient: z (``df`` None) or t with ``df`` = k - 2.
    slope : float
        Coefficient of the predictor.
    limit_estimate, limit_ci_lb, limit_ci_ub : float
        Intercept: the estimate as the standard error (or variance) goes to 0,
        with its confidence interval.
    confidence_level : float
    low_power : bool
        True when k < 10.
    note : str
        ``"with k studies the test has little power"`` when ``low_power``, else "".
    """

    model: str
    predictor: str
    method: str
    test: str
    k: int
    statistic: float
    df: float | None
    pval: float
    slope: float
    limit_estimate: float
    limit_ci_lb: float
    limit_ci_ub: float
    confidence_level: float
    low_power: bool
    note: str

    def to_dict(self) -> dict[str, object]:
        """Every field, by name."""
        return dict(self.__dict__)


def egger_test(res: MetaAnalysisResult, predictor: str = "sei", *, model: str = "rma") -> EggerTestResult:
    """Egger's regression test for funnel plot asymmetry (metafor's ``regtest``).

    Parameters
    ----------
    res : MetaAnalysisResult
        The fit; ``model="rma"`` uses its method, test and confidence level.
    predictor : {"sei", "vi"}
        Standard error (metafor's default) or sampling variance as the predictor.
    model : {"rma", "lm"}
        metafor's default mixed-effects meta-regression, or the classical
        weighted regression with multiplicative dispersion.

    Returns
    -------
    EggerTestResult

    Notes
    -----
    ``rma``: yi = b0 + b1 sei + u_i + e_i with the fit's tau² estimator; the
    test is of b1 (z, or t with k - 2 df under Knapp-Hartung). ``lm``:
    weighted least squares with weights 1/vi, t with k - 2 df. The intercept
    b0 is the "limit estimate" that regtest prints.

    References
    ----------
    Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis
    detected by a simple, graphical test. BMJ 315:629-634.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="DL")
    >>> egg = egger_test(res)
    >>> round(egg.statistic, 4), egg.low_power, egg.note
    (0.93, True, 'with 4 studies the test has little power')
    """
    check_option("predictor", predictor, EGGER_PREDICTORS)
    check_option("model", model, EGGER_MODELS)
    if res.k < 3:
        raise AnalysisError(f"the regression test needs at least 3 studies; the fit has k = {res.k}")
    x = np.sqrt(res.vi) if predictor == "sei" else res.vi
    if model == "rma":
        reg = meta_regression(
            res.yi, res.vi, x, method=res.method, test=res.test, confidence_level=res.confidence_level
        )
        beta, df = reg.beta, reg.df
        statistic, pval = float(reg.statistic[1]), float(reg.pval[1])
        limit_ci = (reg.ci_lb[0], reg.ci_ub[0])
    else:
        X = np.column_stack([np.ones(res.k), x])
        w = 1 / res.vi
        xwx_inv = np.linalg.inv((X.T * w) @ X)
        beta = xwx_inv @ ((X.T * w) @ res.yi)
        df = float(res.k - 2)
        dispersion = np.sum(w * (res.yi - X @ beta) ** 2) / df
        se = np.sqrt(np.diag(xwx_inv) * dispersion)
        statistic = float(beta[1] / se[1])
        pval = float(t_two_sided_p(statistic, df))
        crit = t_two_sided_critical(res.confidence_level, df)
        limit_ci = (beta[0] - crit * se[0], beta[0] + crit * se[0])
    low_power, note = _power_note(res.k)
    return EggerTestResult(
        model=model, predictor=predictor, method=res.method, test=res.test if model == "rma" else "t",
        k=res.k, statistic=statistic, df=df, pval=pval, slope=float(beta[1]),
        limit_estimate=float(beta[0]), limit_ci_lb=float(limit_ci[0]),
        limit_ci_ub=float(limit_ci[1]), confidence_level=res.confidence_level,
        low_power=low_power, note=note,
    )


@dataclass(frozen=True)
class RankTestResult:
    """Begg and Mazumdar's rank correlation test (metafor's ``ranktest``).

    Attributes
    ----------
    k : int
    tau : float
        Kendall's tau (tau-b) between the standardised effects and the variances.
    pval : float
        Two-sided p-value.
    exact : bool
        Whether the p-value is exact (R's ``cor.test(method="kendall",
        exact=TRUE)``); False when asked for the normal approximation or when
        ties force it (R then uses the tie-corrected variance).
    low_power : bool
    note : str
    """

    k: int
    tau: float
    pval: float
    exact: bool
    low_power: bool
    note: str

    def to_dict(self) -> dict[str, object]:
        """Every field, by name."""
        return dict(self.__dict__)


def _kendall_cdf(q: int, n: int) -> float:
    """P(T <= q) for T the number of concordant pairs of n untied pairs under independence.

    T has the Mahonian distribution (inversions of a random permutation),
    built up one element at a time; probabilities are renormalised at each
    step so that large n does not overflow.
    """
    dist = np.array([1.0])
    for m in range(2, n + 1):
        # adding the m-th element adds 0..m-1 inversions, each equally likely
        cumulative = np.concatenate([[0.0], np.cumsum(dist)])
        size = dist.size + m - 1
        upper = np.minimum(np.arange(size) + 1, dist.size)
        lower = np.maximum(np.arange(size) - m + 1, 0)
        dist = (cumulative[upper] - cumulative[lower]) / m
    if q < 0:
        return 0.0
    return float(min(1.0, dist[: q + 1].sum()))


def _tie_counts(values: np.ndarray) -> np.ndarray:
    _, counts = np.unique(values, return_counts=True)
    return counts[counts > 1].astype(float)


def rank_test(res: MetaAnalysisResult, *, exact: bool = True) -> RankTestResult:
    """Rank correlation test for funnel plot asymmetry (metafor's ``ranktest``).

    Parameters
    ----------
    res : MetaAnalysisResult
        Only its ``yi`` and ``vi`` are used (as in metafor).
    exact : bool
        Exact p-value where there are no ties (metafor's default); False for the
        normal approximation.

    Returns
    -------
    RankTestResult

    Notes
    -----
    With the equal-effects estimate theta and its variance v_theta = 1 / sum(1/vi),
    the standardised effects (yi - theta) / sqrt(vi - v_theta) are correlated with
    vi by Kendall's tau-b. The exact p-value is R's: with T the number of
    concordant pairs, 2 P(T <= q) or 2 P(T >= q), whichever tail q lies in,
    capped at 1. Otherwise z = S / sqrt(Var S) with the tie-corrected variance
    of R's ``cor.test``, no continuity correction.

    References
    ----------
    Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation
    test for publication bias. Biometrics 50(4):1088-1101.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="DL")
    >>> rank = rank_test(res)
    >>> round(rank.tau, 4), round(rank.pval, 4), rank.exact
    (0.3333, 0.75, True)
    """
    n = res.k
    if n < 2:
        raise AnalysisError(f"the rank correlation test needs at least 2 studies; the fit has k = {n}")
    yi, vi = res.yi, res.vi
    w = 1 / vi
    theta = np.sum(w * yi) / np.sum(w)
    standardised = (yi - theta) / np.sqrt(vi - 1 / np.sum(w))
    from scipy.stats import kendalltau  # here only: scipy.stats takes half a second to import

    tau = float(kendalltau(standardised, vi, variant="b").statistic)
    ties = min(np.unique(standardised).size, np.unique(vi).size) < n
    low_power, note = _power_note(n)
    if not np.isfinite(tau):
        return RankTestResult(n, float("nan"), float("nan"), False, low_power, note)
    if exact and not ties:
        q = int(np.round((tau + 1) * n * (n - 1) / 4))
        if q > n * (n - 1) / 4:
            tail = 1 - _kendall_cdf(q - 1, n)
        else:
            tail = _kendall_cdf(q, n)
        return RankTestResult(n, tau, min(2 * tail, 1.0), True, low_power, note)
    tx, ty = _tie_counts(standardised), _tie_counts(vi)
    t0 = n * (n - 1) / 2
    s = tau * np.sqrt((t0 - np.sum(tx * (tx - 1)) / 2) * (t0 - np.sum(ty * (ty - 1)) / 2))
    var_s = (
        (n * (n - 1) * (2 * n + 5) - np.sum(tx * (tx - 1) * (2 * tx + 5)) - np.sum(ty * (ty - 1) * (2 * ty + 5))) / 18
        + np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1)) / (2 * n * (n - 1))
        + (np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2)) / (9 * n * (n - 1) * (n - 2)) if n > 2 else 0.0)
    )
    z = s / np.sqrt(var_s)
    return RankTestResult(n, tau, float(normal_two_sided_p(z)), False, low_power, note)


@dataclass(frozen=True)
class TrimFillResult:
    """Trim-and-fill (metafor's ``trimfill``).

    Attributes
    ----------
    k0 : int
        Estimated number of missing studies.
    se_k0 : float
        Standard error of k0 as metafor reports it (NaN where its formula
        takes the root of a negative number).
    p_k0 : float
        For ``estimator="R0"``: p-value of the test that k0 = 0; NaN otherwise.
    side : {"left", "right"}
        Side of the funnel plot on which studies are imputed.
    estimator : {"L0", "R0", "Q0"}
    fit : MetaAnalysisResult
        The adjusted model refitted on observed plus filled studies with the
        options of the original fit (the original fit itself when k0 = 0).
    filled : ndarray of bool
        Which rows of ``fit.yi`` / ``fit.vi`` are imputed (the last k0; labelled
        ``"Filled 1"``, ...).
    iterations : int
        Trimming iterations until k0 stopped changing.
    low_power : bool
    note : str
    """

    k0: int
    se_k0: float
    p_k0: float
    side: str
    estimator: str
    fit: MetaAnalysisResult
    filled: np.ndarray = field(repr=False)
    iterations: int
    low_power: bool
    note: str

    @property
    def yi(self) -> np.ndarray:
        """Observed then filled effect sizes."""
        return self.fit.yi

    @property
    def vi(self) -> np.ndarray:
        """Observed then filled sampling variances."""
        return self.fit.vi

    def to_dict(self) -> dict[str, object]:
        """k0, its SE and p, side, estimator and the adjusted fit's ``to_dict()``."""
        return {
            "k0": self.k0, "se_k0": self.se_k0, "p_k0": self.p_k0, "side": self.side,
            "estimator": self.estimator, **self.fit.to_dict(),
        }


def _trimfill_k0(centred: np.ndarray, k: int, estimator: str) -> tuple[float, float]:
    """One trimming step: k0 (unrounded) and its SE from the signed ranks."""
    order = np.argsort(np.abs(centred), kind="stable")
    ranks = np.empty(k)
    ranks[order] = np.arange(1, k + 1)  # R's rank(ties.method="first")
    signed = np.sign(centred) * ranks
    if estimator == "R0":
        negative = -signed[signed < 0]
        if negative.size == 0:
            raise AnalysisError("R0 trim-and-fill is undefined: no study lies below the centre")
        k0 = k - negative.max() - 1
        return k0, np.sqrt(2 * max(0.0, k0) + 2)
    wilcoxon = signed[signed > 0].sum()
    if estimator == "L0":
        k0 = (4 * wilcoxon - k * (k + 1)) / (2 * k - 1)
    else:
        with np.errstate(invalid="ignore"):
            k0 = k - 0.5 - np.sqrt(2 * k**2 - 4 * wilcoxon + 0.25)
    if not np.isfinite(k0):
        raise AnalysisError(
            f"{estimator} trim-and-fill is undefined here (the root of a negative number); use L0"
        )
    var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0**3 + 27 * k0**2 + 17 * k0
              - 18 * k * k0**2 - 18 * k * k0 + 6 * k**2 * k0) / 24
    with np.errstate(invalid="ignore"):
        if estimator == "L0":
            se = 4 * np.sqrt(var_sr) / (2 * k - 1)
        else:
            se = 2 * np.sqrt(var_sr) / np.sqrt((k - 0.5) ** 2 - k0 * (2 * k - k0 - 1))
    return k0, se


def trim_and_fill(res: MetaAnalysisResult, estimator: str = "L0", side: str | None = None) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill (metafor's ``trimfill``).

    Parameters
    ----------
    res : MetaAnalysisResult
    estimator : {"L0", "R0", "Q0"}
        Estimator of the number of missing studies.
    side : {"left", "right"}, optional
        Side on which to impute studies. Default, as metafor: from the sign
        of the slope of ``rma(yi, vi, mods = ~ sqrt(vi))`` with the fit's
        method: a negative slope imputes on the right, otherwise on the left.

    Returns
    -------
    TrimFillResult

    Notes
    -----
    The studies are sorted (mirrored first when imputing on the right); the
    k0 most extreme ones are trimmed, the model refitted with the fit's
    method, and k0 re-estimated from the signed ranks of the centred effects
    until it stops changing. The k0 trimmed studies are then mirrored about the
    last centre, 2 mu - y_i, with their own variances, and the model refitted on
    all k + k0 studies. metafor refits that last model with its default test
    and level; here the fit's own test and confidence level are kept (the
    reference values pass them through ``trimfill(..., test=)``).

    References
    ----------
    Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based method
    of testing and adjusting for publication bias in meta-analysis.
    Biometrics 56(2):455-463.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="DL")
    >>> tf = trim_and_fill(res)
    >>> tf.k0, tf.side, round(tf.fit.estimate, 4)
    (1, 'left', 0.2526)
    """
    check_option("estimator", estimator, TRIMFILL_ESTIMATORS)
    if res.k < 2:
        raise AnalysisError(f"trim-and-fill needs at least 2 studies; the fit has k = {res.k}")
    if side is None:
        if res.k < 3:
            raise AnalysisError("with 2 studies the side cannot be estimated; give side='left' or 'right'")
        slope = meta_regression(res.yi, res.vi, np.sqrt(res.vi), method=res.method).beta[1]
        side = "right" if slope < 0 else "left"
    check_option("side", side, SIDES)
    flip = -1.0 if side == "right" else 1.0
    order = np.argsort(flip * res.yi, kind="stable")
    yi, vi = flip * res.yi[order], res.vi[order]
    k = res.k
    k0, previous, iterations = 0, -1, 0
    while k0 != previous:
        previous = k0
        iterations += 1
        if iterations > TRIMFILL_MAX_ITERATIONS:
            raise AnalysisError(f"trim-and-fill did not converge in {TRIMFILL_MAX_ITERATIONS} iterations")
        centre = meta_analysis(yi[: k - k0], vi[: k - k0], method=res.method).estimate
        k0_raw, se_k0 = _trimfill_k0(yi - centre, k, estimator)
        k0 = int(max(0, np.round(k0_raw)))  # numpy rounds half to even, as R does
        if k0 >= k:
            raise AnalysisError(f"trim-and-fill ({estimator}) estimates k0 >= k: no study would remain")
    se_k0 = float(max(0.0, se_k0)) if np.isfinite(se_k0) else float("nan")
    p_k0 = float(0.5 ** (k0 + 1)) if estimator == "R0" else float("nan")
    if k0 > 0:
        filled_yi = flip * (2 * centre - yi[k - k0:])
        fit = meta_analysis(
            np.concatenate([res.yi, filled_yi]),
            np.concatenate([res.vi, vi[k - k0:]]),
            labels=[*res.labels, *(f"Filled {i + 1}" for i in range(k0))],
            **res.fit_options(),
        )
    else:
        fit = res
    low_power, note = _power_note(k)
    return TrimFillResult(
        k0=k0, se_k0=se_k0, p_k0=p_k0, side=side, estimator=estimator, fit=fit,
        filled=np.arange(fit.k) >= k, iterations=iterations, low_power=low_power, note=note,
    )
