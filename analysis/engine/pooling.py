"""Inverse-variance pooling: random- and fixed-effects models and meta-regression.

The numbers match metafor's ``rma.uni()``, ``confint()`` (Q-profile CI for
tau²) and ``predict()`` for the same fit; ``tests/reference/pooling.R`` pins
them for several metadat datasets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.engine._distributions import (
    chi2_quantile,
    chi2_upper_tail,
    f_upper_tail,
    normal_two_sided_critical,
    normal_two_sided_p,
    t_two_sided_critical,
    t_two_sided_p,
)
from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._inputs import as_numbers, reject_first, study_name
from analysis.engine._summary import effect_size_frame
from analysis.engine._tau2 import TAU2_METHODS, estimate_tau2, q_profile_root
from analysis.engine._weighted_fit import NormalModel, WeightedFit, intercept_design
from analysis.engine.contract import PooledResult

TESTS = ("z", "knha")
PREDICTION_TYPES = ("metafor", "hts")
_DICT_KEYS = (
    "k", "estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "tau2_ci_lb", "tau2_ci_ub",
    "i2", "h2", "q", "q_p", "pi_lb", "pi_ub",
)


@dataclass(frozen=True)
class MetaAnalysisResult(PooledResult):
    """A fitted (intercept-only) meta-analysis; honours the result contract
    (:mod:`analysis.engine.contract`).

    Attributes
    ----------
    yi, vi : ndarray
        Effect sizes and sampling variances of the studies used (missing rows dropped).
    given_labels : tuple of str or None
        The labels passed in (missing rows dropped); ``labels`` is the
        property to read, which names unlabelled studies "Study 1", ....
    measure, method, test, confidence_level, prediction : str / float
        The options the model was fitted with (``measure`` only labels the scale).
    k : int
        Number of studies.
    estimate, se, statistic, pval, ci_lb, ci_ub : float
        Pooled effect on the analysis scale, its standard error, z or t statistic,
        two-sided p-value and confidence interval.
    df : float or None
        Degrees of freedom of the t-distribution (``test="knha"``), else None.
    tau2, tau2_ci_lb, tau2_ci_ub : float
        Between-study variance and its Q-profile confidence interval.
    i2, h2 : float
        I² (percent) and H², as metafor defines them for this model.
    q, q_df, q_p : float
        Cochran's Q (fixed-effect weights), its degrees of freedom and p-value.
    pi_lb, pi_ub : float
        Prediction interval for the effect in a new study.
    weights : ndarray
        Percentage weight of each study (sums to 100), computed on first use.
    notes : tuple of str
        Plain-language notes on anything unusual (k = 1, tau² on the boundary,
        dropped rows, undefined quantities).
    omitted : tuple of str
        Labels of rows dropped because yi or vi was missing.
    iterations : int
        Evaluations of the estimating equation used by an iterative tau²
        estimator (0 for closed forms).
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    given_labels: tuple[str, ...] | None = field(repr=False)
    measure: str
    method: str
    test: str
    confidence_level: float
    prediction: str
    k: int
    estimate: float
    se: float
    statistic: float
    df: float | None
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    tau2_ci_lb: float
    tau2_ci_ub: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_lb: float
    pi_ub: float
    notes: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()
    iterations: int = 0

    @cached_property
    def weights(self) -> np.ndarray:
        """Percentage weight of each study, 100 w / sum(w) with w = 1 / (vi + tau²)."""
        w = 1.0 / (self.vi + self.tau2)
        return 100.0 * w / w.sum()

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """Study labels in the order of ``yi`` ("Study 1", ... when none were given)."""
        if self.given_labels is not None:
            return self.given_labels
        return tuple(f"Study {i + 1}" for i in range(self.k))

    def to_dict(self) -> dict[str, float]:
        """The headline numbers, with exactly the keys of the public contract."""
        return {key: getattr(self, key) for key in _DICT_KEYS}

    def fit_options(self) -> dict[str, object]:
        """Keyword arguments that refit a model with the same options."""
        return {
            "method": self.method,
            "test": self.test,
            "confidence_level": self.confidence_level,
            "measure": self.measure,
            "prediction": self.prediction,
        }

    def subset(self, indices) -> MetaAnalysisResult:
        """Refit on the studies at positions ``indices`` with the same options."""
        indices = np.asarray(indices)
        return meta_analysis(
            self.yi[indices],
            self.vi[indices],
            labels=[self.labels[i] for i in np.arange(self.k)[indices]],
            **self.fit_options(),
        )

    @property
    def random_effects(self) -> bool:
        """False for the equal-effects model, True otherwise."""
        return self.method != "EE"

    @property
    def tau2_at_boundary(self) -> bool:
        """A random-effects model of two or more studies with tau² estimated at 0."""
        return self.random_effects and self.k >= 2 and self.tau2 == 0

    @property
    def model_description(self) -> str:
        """``"equal-effects model"`` or ``"random-effects model (REML, Hartung-Knapp)"``."""
        if not self.random_effects:
            return "equal-effects model"
        test = ", Hartung-Knapp" if self.test == "knha" else ""
        return f"random-effects model ({self.method}{test})"

    @property
    def model_label(self) -> str:
        """``"EE Model"`` or ``"RE Model (REML)"``, as metafor's forest() labels it."""
        return "EE Model" if self.method == "EE" else f"RE Model ({self.method})"

    def summary_frame(self) -> pd.DataFrame:
        """One row per study then one pooled row, on the analysis scale.

        Study intervals are Wald intervals with the normal quantile, as in
        metafor's ``forest()``; the pooled row carries the model's CI and the
        prediction interval.
        """
        return effect_size_frame(self)


@dataclass(frozen=True)
class MetaRegressionResult:
    """A fitted mixed-effects meta-regression (metafor's ``rma(yi, vi, mods=...)``).

    Attributes
    ----------
    beta, se, statistic, pval, ci_lb, ci_ub : ndarray
        Coefficients (intercept first when ``intercept=True``) and their inference.
    coefficient_names : tuple of str
    tau2 : float
        Residual between-study variance.
    i2, h2 : float
        Residual I² (percent) and H².
    q_e, q_e_df, q_e_p : float
        Test for residual heterogeneity.
    q_m, q_m_df, q_m_p : float
        Omnibus test of the moderators (all coefficients but the intercept):
        chi-square for ``test="z"``, F (divided by ``q_m_df``) for ``"knha"``.
    df : float or None
        Residual degrees of freedom for ``test="knha"``.
    hat : ndarray
        Diagonal of the hat matrix.
    weights : ndarray
        Percentage weights (sum 100).
    notes : tuple of str
        Studies dropped for a missing yi, vi or moderator, by name.
    omitted : tuple of str
        Labels of those studies.
    """

    beta: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    coefficient_names: tuple[str, ...]
    tau2: float
    i2: float
    h2: float
    q_e: float
    q_e_df: int
    q_e_p: float
    q_m: float
    q_m_df: int
    q_m_p: float
    df: float | None
    hat: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    k: int
    p: int
    method: str
    test: str
    confidence_level: float
    vcov: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()


class _Fit(NamedTuple):
    """Everything both result types share, computed once."""

    model: NormalModel
    fit: WeightedFit
    vcov: np.ndarray
    df: float | None
    crit: float
    q_e: float
    q_e_p: float
    i2: float
    h2: float
    iterations: int


#: Largest |yi| and sqrt-range of vi the weighted sums can hold without overflow
#: (sums of w^3 e^2 stay below 1e300 for k up to 10^5); anything beyond is a unit mistake.
MAX_EFFECT = 1e50
VARIANCE_RANGE = (1e-50, 1e50)


def _prepare(yi, vi, labels, mods=None):
    """Validate inputs and drop rows with a missing yi, vi (or moderator) together.

    Returns ``yi, vi, labels, omitted, mods``. Labels stay ``None`` when none were given
    (the result names studies "Study 1", ... on demand), so large k pays nothing for them.
    """
    if labels is not None:
        labels = np.asarray([str(label) for label in labels], dtype=object)
    yi = as_numbers(yi, "yi", labels)
    vi = as_numbers(vi, "vi", labels)
    if yi.shape != vi.shape:
        raise AnalysisError(f"yi has {yi.size} values but vi has {vi.size}")
    if labels is not None and labels.size != yi.size:
        raise AnalysisError(f"{labels.size} labels given for {yi.size} studies")
    if mods is not None:
        mods = np.asarray(mods, dtype=object)
        if mods.shape[0] != yi.size:
            raise AnalysisError(f"mods has {mods.shape[0]} rows but there are {yi.size} studies")
        mods = np.column_stack([as_numbers(column, "mods", labels) for column in mods.reshape(yi.size, -1).T])

    with np.errstate(all="ignore"):  # the checks below report bad values by name
        if (mods is None and yi.size and yi.dot(yi) <= MAX_EFFECT**2
                and VARIANCE_RANGE[0] <= np.minimum.reduce(vi) and np.maximum.reduce(vi) <= VARIANCE_RANGE[1]):
            # every value finite and in range (a NaN anywhere makes a comparison false)
            return yi, vi, None if labels is None else tuple(labels), (), None
    missing = np.isnan(yi) | np.isnan(vi)
    if mods is not None:
        missing |= np.isnan(mods).any(axis=1)
    omitted = tuple(study_name(labels, i) for i in np.flatnonzero(missing))
    positions = np.flatnonzero(~missing)
    yi, vi = yi[positions], vi[positions]
    mods = None if mods is None else mods[positions]
    if yi.size == 0:
        raise AnalysisError("no study has both yi and vi: nothing to pool")
    values = {"yi": yi, "vi": vi}
    reject_first(~np.isfinite(yi) | ~np.isfinite(vi), labels, values,
                 "effect sizes and sampling variances must be finite numbers", positions)
    reject_first(vi <= 0, labels, values, "sampling variances must be positive", positions)
    reject_first((np.abs(yi) > MAX_EFFECT) | (vi < VARIANCE_RANGE[0]) | (vi > VARIANCE_RANGE[1]), labels, values,
                 f"values beyond |yi| <= {MAX_EFFECT:g} and {VARIANCE_RANGE[0]:g} <= vi <= "
                 f"{VARIANCE_RANGE[1]:g} cannot be pooled (check the units)", positions)
    if labels is None and not omitted:
        return yi, vi, None, omitted, mods
    return yi, vi, tuple(study_name(labels, i) for i in positions), omitted, mods


def _omitted_note(omitted) -> str:
    return (f"{len(omitted)} stud{'y' if len(omitted) == 1 else 'ies'} without an effect size, variance"
            f" or moderator omitted: {', '.join(omitted)}")


def _check_options(method: str, test: str, confidence_level: float) -> str:
    method = "EE" if method == "FE" else method
    check_option("method", method, TAU2_METHODS)
    check_option("test", test, TESTS)
    if not 0 < confidence_level < 1:
        raise AnalysisError(f"confidence_level={confidence_level!r} must lie strictly between 0 and 1")
    return method


def _fit(yi, vi, X, method, test, confidence_level) -> _Fit:
    k, p = X.shape
    model = NormalModel(yi, vi, X)
    tau2, iterations = estimate_tau2(model, method)
    fit = model.fit(tau2)
    vcov = fit.xwx_inv
    df = None
    if test == "knha" and k > p:
        df = float(k - p)
        s2w = fit.q / (k - p)
        vcov = vcov * (s2w if s2w > np.finfo(float).eps else 0.0)
        crit = t_two_sided_critical(confidence_level, df)
    else:
        crit = normal_two_sided_critical(confidence_level)
    if k > p:
        fit0 = model.fit(0.0)
        q_e = max(0.0, fit0.q)
        q_e_p = float(chi2_upper_tail(q_e, k - p))
        if method == "EE":
            i2 = max(0.0, 100 * (q_e - (k - p)) / q_e) if q_e > 0 else 0.0
            h2 = q_e / (k - p)
        else:
            typical_v = (k - p) / fit0.trace_p
            i2 = 100 * tau2 / (typical_v + tau2)
            h2 = tau2 / typical_v + 1
    else:
        q_e, q_e_p, i2, h2 = 0.0, 1.0, 0.0, 1.0
    return _Fit(model, fit, vcov, df, crit, q_e, q_e_p, i2, h2, iterations)


def meta_analysis(
    yi,
    vi,
    method: str = "REML",
    test: str = "z",
    confidence_level: float = 0.95,
    *,
    labels=None,
    measure: str = "GEN",
    prediction: str = "metafor",
) -> MetaAnalysisResult:
    """Pool effect sizes with an equal-effects or random-effects model.

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes (analysis scale, e.g. log RR) and their sampling variances.
        Rows where either is missing are dropped and listed in ``omitted``.
    method : {"REML", "EE", "DL", "ML", "PM", "HS", "SJ", "HE", "EB"}
        tau² estimator, with metafor's names ("FE" is accepted for "EE").
    test : {"z", "knha"}
        Normal-theory inference, or Hartung-Knapp(-Sidik-Jonkman) t-based
        inference with k - 1 degrees of freedom (no truncation, as metafor's
        ``test="knha"``).
    confidence_level : float
        For the CI of the estimate, the CI of tau² and the prediction interval.
    labels : sequence of str, optional
        Study labels (default ``"Study 1"``, ...).
    measure : str
        metafor measure code of ``yi`` (``"RR"``, ``"SMD"``, ...); it labels the
        scale and tells plots how to back-transform.
    prediction : {"metafor", "hts"}
        ``"metafor"``: ``predict()`` for the same fit, estimate ± crit x
        sqrt(se² + tau²) with the test's quantile. ``"hts"``: Higgins,
        Thompson and Spiegelhalter (2009) with the t(k - 2) quantile (undefined
        for k < 3).

    Returns
    -------
    MetaAnalysisResult

    Notes
    -----
    Weights are 1 / (vi + tau²). Q uses the fixed-effect weights 1 / vi. I² is
    100 tau² / (tau² + s²) with metafor's typical within-study variance
    s² = (k - 1) / tr(P) for random-effects models, and 100 (Q - df) / Q for
    the equal-effects model. The CI of tau² is the Q-profile interval (Viechtbauer
    2007); it is reported for random-effects models only (NaN, with a note,
    otherwise). With k = 1 the study is returned as the estimate with tau² = 0,
    a normal-theory CI, Q = 0, I² = 0 and H² = 1, as metafor does, and a note
    says heterogeneity cannot be assessed. With k = 2, Hartung-Knapp has one
    degree of freedom; the HTS prediction interval needs k >= 3. The
    equal-effects model has no prediction interval (NaN, with a note).

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
    package. J Stat Softw 36(3):1-48.
    Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of
    random-effects meta-analysis. J R Stat Soc A 172(1):137-159.

    Examples
    --------
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="DL")
    >>> round(res.estimate, 4), round(res.tau2, 4)
    (0.3119, 0.0113)
    """
    method = _check_options(method, test, confidence_level)
    check_option("prediction", prediction, PREDICTION_TYPES)
    yi, vi, labels, omitted, _ = _prepare(yi, vi, labels)
    k = yi.size
    notes: list[str] = []
    if omitted:
        notes.append(_omitted_note(omitted))
    if k == 1:
        notes.append(
            "only one study: its own estimate is returned with tau² = 0, a normal-theory CI, "
            "Q = 0, I² = 0 and H² = 1 (as metafor does); heterogeneity cannot be assessed"
        )
    test_used = "z" if k == 1 else test
    X = intercept_design(k)
    core = _fit(yi, vi, X, method, test_used, confidence_level)
    estimate = float(core.fit.beta[0])
    se = math.sqrt(core.vcov[0, 0])
    statistic = estimate / se if se > 0 else np.nan
    if core.df is None:
        pval = float(normal_two_sided_p(statistic))
    else:
        pval = float(t_two_sided_p(statistic, core.df))
    tau2 = core.fit.tau2
    if method == "EE":
        tau2_ci = (np.nan, np.nan)
        if k > 1:
            notes.append("equal-effects model: tau² is 0 by assumption, so it has no confidence interval")
    elif k == 1:
        tau2_ci = (np.nan, np.nan)
    else:
        tau2_ci = _tau2_confidence_interval(core.model, confidence_level)
        if tau2 == 0:
            notes.append(f"the {method} estimate of tau² is on the boundary (0)")
    q, q_p, i2, h2 = core.q_e, core.q_e_p, core.i2, core.h2
    if test_used == "knha" and k == 2:
        notes.append("k = 2: the Hartung-Knapp interval has 1 degree of freedom and is very wide")
    if method == "EE":
        pi_lb = pi_ub = np.nan
        notes.append("equal-effects model: no prediction interval (metafor's predict() gives none)")
    else:
        pi_lb, pi_ub = _prediction_interval(estimate, se, tau2, core.crit, k, confidence_level, prediction, notes)
    return MetaAnalysisResult(
        yi=yi, vi=vi, given_labels=labels, measure=measure, method=method, test=test,
        confidence_level=confidence_level, prediction=prediction, k=k,
        estimate=estimate, se=se, statistic=float(statistic), df=core.df, pval=pval,
        ci_lb=estimate - core.crit * se, ci_ub=estimate + core.crit * se,
        tau2=tau2, tau2_ci_lb=float(tau2_ci[0]), tau2_ci_ub=float(tau2_ci[1]),
        i2=float(i2), h2=float(h2), q=float(q), q_df=k - 1, q_p=float(q_p),
        pi_lb=pi_lb, pi_ub=pi_ub, notes=tuple(notes),
        omitted=omitted, iterations=core.iterations,
    )


def _prediction_interval(estimate, se, tau2, crit, k, confidence_level, prediction, notes):
    if prediction == "hts":
        if k < 3:
            notes.append("the HTS prediction interval needs at least 3 studies (t with k - 2 df)")
            return np.nan, np.nan
        crit = t_two_sided_critical(confidence_level, k - 2)
    half_width = crit * math.sqrt(se**2 + tau2)
    return float(estimate - half_width), float(estimate + half_width)


def _tau2_confidence_interval(model: NormalModel, confidence_level) -> tuple[float, float]:
    """Q-profile CI (Viechtbauer 2007), as metafor's ``confint(res)``; the searches start
    from the fits the estimator left on ``model``."""
    k, p = model.k, model.p
    if k <= p:
        return np.nan, np.nan
    alpha = 1 - confidence_level
    upper_target = chi2_quantile(alpha / 2, k - p)  # lower quantile: gives the upper bound
    lower_target = chi2_quantile(1 - alpha / 2, k - p)
    upper = q_profile_root(model, upper_target, default_at_zero=0.0)
    lower = q_profile_root(model, lower_target, default_at_zero=0.0)
    return lower, upper


def meta_regression(
    yi,
    vi,
    mods,
    method: str = "REML",
    test: str = "z",
    confidence_level: float = 0.95,
    *,
    intercept: bool = True,
    coefficient_names=None,
    labels=None,
) -> MetaRegressionResult:
    """Mixed-effects meta-regression, as metafor's ``rma(yi, vi, mods=mods)``.

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances.
    mods : array-like, shape (k,) or (k, m)
        Moderators; an intercept column is prepended when ``intercept`` is true.
        A study missing yi, vi or a moderator is dropped from all three together
        (metafor's ``na.action = "na.omit"``) and named in ``notes``.
    method, test, confidence_level
        As for :func:`meta_analysis`.
    intercept : bool
        Add an intercept column (metafor's default).
    coefficient_names : sequence of str, optional
    labels : sequence of str, optional
        Study labels, used to name dropped studies and bad values.

    Returns
    -------
    MetaRegressionResult

    Notes
    -----
    The omnibus moderator test (``q_m``) covers every coefficient except the
    intercept (metafor's default ``btt``); with ``test="knha"`` it is an F
    statistic with (m, k - p) degrees of freedom.

    Examples
    --------
    >>> fit = meta_regression([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], [1, 2, 3, 4], method="EE")
    >>> round(float(fit.beta[1]), 4)
    0.1465
    """
    method = _check_options(method, test, confidence_level)
    yi, vi, _, omitted, mods = _prepare(yi, vi, labels, mods)
    X = np.column_stack([np.ones(len(yi)), mods]) if intercept else mods
    k, p = X.shape
    if np.linalg.matrix_rank(X) < p:
        raise AnalysisError("the moderator matrix is rank-deficient (redundant moderators)")
    if k <= p:
        raise AnalysisError(f"meta-regression needs more studies (k={k}) than coefficients (p={p})")
    core = _fit(yi, vi, X, method, test, confidence_level)
    beta = core.fit.beta
    se = np.sqrt(np.diag(core.vcov))
    statistic = beta / se
    if core.df is None:
        pval = normal_two_sided_p(statistic)
    else:
        pval = t_two_sided_p(statistic, core.df)
    btt = slice(1, p) if intercept else slice(0, p)
    m = p - 1 if intercept else p
    if m > 0:
        b = beta[btt]
        q_m = float(b @ np.linalg.solve(core.vcov[btt, btt], b))
        if core.df is None:
            q_m_p = float(chi2_upper_tail(q_m, m))
        else:
            q_m /= m
            q_m_p = float(f_upper_tail(q_m, m, core.df))
    else:
        q_m, q_m_p = np.nan, np.nan
    w = core.fit.w
    hat = w * np.einsum("ij,jk,ik->i", X, core.fit.xwx_inv, X)
    if coefficient_names is None:
        coefficient_names = (["intrcpt"] if intercept else []) + [f"mod{i + 1}" for i in range(mods.shape[1])]
    return MetaRegressionResult(
        beta=beta, se=se, statistic=statistic, pval=pval,
        ci_lb=beta - core.crit * se, ci_ub=beta + core.crit * se,
        coefficient_names=tuple(coefficient_names), tau2=core.fit.tau2,
        i2=core.i2, h2=core.h2, q_e=core.q_e, q_e_df=k - p, q_e_p=core.q_e_p,
        q_m=q_m, q_m_df=m, q_m_p=q_m_p, df=core.df, hat=hat,
        weights=100 * w / w.sum(), k=k, p=p, method=method, test=test,
        confidence_level=confidence_level, vcov=core.vcov,
        notes=(_omitted_note(omitted),) if omitted else (), omitted=omitted,
    )
