"""Fixed-effect pooling of 2x2 tables: Mantel-Haenszel and Peto.

``mantel_haenszel`` matches metafor's ``rma.mh`` (measures RR, OR, RD) and
``peto`` matches ``rma.peto``. Both are sensitivity analyses beside the
random-effects model of ``analysis.engine.pooling``. Results stay on the analysis
scale (log RR, log OR, risk difference).

Tables are ``ai`` (events, treated), ``bi`` (non-events, treated), ``ci``
(events, control), ``di`` (non-events, control). A positive log RR / log OR /
RD means more events in the treated group.

Zero cells, as metafor handles them
-----------------------------------
- The pooled estimates use the counts **uncorrected** (metafor's
  ``add=c(1/2, 0)``: the second value, for the MH/Peto computation, is 0).
  Tables with no events (or only events) in both arms stay in the
  computation (``drop00=c(TRUE, FALSE)``): they add nothing to the MH OR or
  RR, or to Peto's OR, but they do add weight to the MH risk difference.
- The per-study ``yi``/``vi`` (metafor's ``escalc`` values, used only for the
  heterogeneity test Q of ``rma.mh`` and for the per-study rows) add 1/2 to
  every cell of tables with a zero cell (``to="only0"``); tables with zero
  events in both arms (or all events in both) get no ``yi`` and are left out
  of Q and its degrees of freedom.
- If the estimate is undefined (MH OR with ``sum(ai di / N) = 0`` or
  ``sum(bi ci / N) = 0``; MH RR with no events in one arm overall; Peto with
  no events at all), an ``AnalysisError`` says so (metafor returns NA).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.engine._distributions import chi2_upper_tail, normal_two_sided_critical, normal_two_sided_p
from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._summary import effect_size_frame, study_labels
from analysis.engine.contract import PooledResult
from analysis.engine.effect_sizes import MEASURES

MH_MEASURES = ("RR", "OR", "RD")

#: escalc's continuity correction for the per-study yi/vi (``add=1/2``, ``to="only0"``).
ZERO_CELL_ADD = 0.5


@dataclass(frozen=True)
class FixedEffectResult(PooledResult):
    """A Mantel-Haenszel or Peto fixed-effect meta-analysis of 2x2 tables; honours the
    result contract (:mod:`analysis.engine.contract`: tau2 is 0 and the prediction interval
    NaN, by the model's assumption).

    Attributes
    ----------
    method : str
        ``"MH"`` or ``"PETO"``.
    measure : str
        ``"RR"``, ``"OR"``, ``"RD"`` (MH) or ``"PETO"`` (Peto's log OR).
    labels : tuple of str
        Study labels.
    ai, bi, ci, di : ndarray
        The tables, as given.
    confidence_level : float
        For the CI of the estimate and the per-study rows.
    correct : bool or None
        MH only: continuity correction of the CMH test.
    k : int
        Number of tables.
    k_yi : int
        Tables with a per-study estimate (those without zero events, or all
        events, in both arms); the heterogeneity test uses k_yi - 1 df.
    estimate, se, statistic, pval, ci_lb, ci_ub : float
        Pooled value (log RR, log OR or RD), its SE, z, two-sided p and CI.
    q, q_df, q_p : float
        Heterogeneity test. MH: Cochran's Q of the escalc yi around the MH
        estimate with weights 1/vi. Peto: sum (O - E)^2 / V - (sum (O - E))^2 / sum V.
    i2, h2 : float
        I² = max(0, 100 (Q - df) / Q) (percent) and H² = Q / df.
    cmh, cmh_p, cochran, cochran_p : float or None
        MH OR only: the Cochran-Mantel-Haenszel test (metafor's ``MH``, with
        (N - 1) in the variance) and Cochran's test (``CO``, with N), with the
        continuity correction when ``correct``.
    breslow_day, breslow_day_p, tarone, tarone_p : float or None
        MH OR only: Breslow-Day test of homogeneity of the ORs and Tarone's
        corrected version, on the ``k_pos`` informative tables.
    k_pos : int or None
        Tables used by the Breslow-Day test (MH OR) or with V > 0 (Peto).
    weights : ndarray
        Percentage weights, as metafor's ``weights()``: MH OR ``bi ci / N``,
        MH RR ``ci n1 / N``, MH RD ``n1 n2 / N``; Peto ``V``.
    yi, vi : ndarray
        Per-study escalc values (NaN for tables without one; see ``k_yi``).
    notes : tuple of str
        Zero-cell handling and other remarks.
    """

    method: str
    measure: str
    labels: tuple[str, ...] = field(repr=False)
    ai: np.ndarray = field(repr=False)
    bi: np.ndarray = field(repr=False)
    ci: np.ndarray = field(repr=False)
    di: np.ndarray = field(repr=False)
    confidence_level: float
    correct: bool | None
    k: int
    k_yi: int
    estimate: float
    se: float
    statistic: float
    pval: float
    ci_lb: float
    ci_ub: float
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    cmh: float | None
    cmh_p: float | None
    cochran: float | None
    cochran_p: float | None
    breslow_day: float | None
    breslow_day_p: float | None
    tarone: float | None
    tarone_p: float | None
    k_pos: int | None
    weights: np.ndarray = field(repr=False)
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()

    random_effects = False
    tau2_at_boundary = False
    tau2 = 0.0
    pi_lb = float("nan")
    pi_ub = float("nan")

    @property
    def model_description(self) -> str:
        """``"Mantel-Haenszel fixed-effect model"`` or ``"Peto fixed-effect model"``."""
        return "Mantel-Haenszel fixed-effect model" if self.method == "MH" else "Peto fixed-effect model"

    @property
    def participants(self) -> int:
        """Patients in all tables (both arms)."""
        return int(np.sum(self.ai + self.bi + self.ci + self.di))

    @property
    def model_label(self) -> str:
        """``"FE Model (MH)"`` or ``"FE Model (Peto)"``."""
        return "FE Model (MH)" if self.method == "MH" else "FE Model (Peto)"

    def to_dict(self) -> dict[str, object]:
        """Headline numbers (analysis scale)."""
        keys = ("k", "estimate", "se", "pval", "ci_lb", "ci_ub", "q", "q_p", "i2", "h2")
        out: dict[str, object] = {"method": self.method, "measure": self.measure}
        out.update({key: getattr(self, key) for key in keys})
        return out

    def summary_frame(self) -> pd.DataFrame:
        """One row per table then the pooled row (analysis scale).

        Columns as ``MetaAnalysisResult.summary_frame()``: ``label, row_type,
        estimate, se, ci_lb, ci_ub, weight, pi_lb, pi_ub`` (study CIs are Wald
        intervals from the escalc yi/vi; a fixed-effect model has no
        prediction interval, so pi_lb/pi_ub are NaN, as for
        ``meta_analysis(method="EE")``).
        """
        return effect_size_frame(self)


def _tables(ai, bi, ci, di, labels):
    arrays = []
    for name, values in (("ai", ai), ("bi", bi), ("ci", ci), ("di", di)):
        a = np.asarray(values)
        if a.ndim != 1:
            raise AnalysisError(f"{name} must be one-dimensional (one count per study).")
        if np.any(pd.isna(a)):
            raise AnalysisError(f"{name} has missing values; drop those studies first.")
        a = a.astype(float)
        if np.any(a < 0) or np.any(a != np.round(a)):
            raise AnalysisError(f"{name} must hold non-negative whole numbers (counts).")
        arrays.append(a)
    if len({a.size for a in arrays}) != 1:
        raise AnalysisError("ai, bi, ci and di must have the same length.")
    if arrays[0].size == 0:
        raise AnalysisError("No studies given.")
    a, b, c, d = arrays
    if np.any(a + b == 0) or np.any(c + d == 0):
        raise AnalysisError("Every arm needs at least one patient (ai + bi > 0 and ci + di > 0).")
    return a, b, c, d, study_labels(labels, a.size)


def _escalc(a, b, c, d, measure):
    """Per-study yi/vi as escalc(add=1/2, to="only0", drop00=TRUE)."""
    double_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = np.where(zero, ZERO_CELL_ADD, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure != "PETO":  # RR, OR, RD: the formulas of analysis.engine.effect_sizes
            yi, vi = MEASURES[measure].formula({"ai": a, "bi": b, "ci": c, "di": d, "n1i": n1, "n2i": n2})
        else:  # PETO
            n = n1 + n2
            xt, yt = a + c, b + d
            expected = xt * n1 / n
            variance = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
            yi = (a - expected) / variance
            vi = 1 / variance
    yi = np.where(double_zero, np.nan, yi)
    vi = np.where(double_zero, np.nan, vi)
    return yi, vi, zero, double_zero


def _heterogeneity(q, df):
    if df > 0:
        return float(chi2_upper_tail(q, df)), float(max(0.0, 100.0 * (q - df) / q)) if q > 0 else 0.0, q / df
    return 1.0, 0.0, 1.0


def _zero_notes(labels, zero, double_zero, method, measure):
    notes = []
    if np.any(zero):
        which = ", ".join(label for label, z in zip(labels, zero) if z)
        notes.append(
            f"Tables with a zero cell ({which}) enter the {method} estimate uncorrected; their "
            "per-study yi/vi add 1/2 to every cell (escalc's add=1/2, to='only0')."
        )
    if np.any(double_zero):
        which = ", ".join(label for label, z in zip(labels, double_zero) if z)
        effect = "add weight to the MH risk difference" if measure == "RD" else "contribute nothing to the estimate"
        notes.append(
            f"Tables with no events (or only events) in both arms ({which}) have no per-study "
            f"estimate and are left out of the heterogeneity test; they {effect} (metafor's drop00=c(TRUE, FALSE))."
        )
    return notes


def _check_level(confidence_level):
    if not 0 < confidence_level < 1:
        raise AnalysisError("confidence_level must lie strictly between 0 and 1 (e.g. 0.95).")


def mantel_haenszel(
    ai, bi, ci, di, measure: str = "OR", confidence_level: float = 0.95, *, labels=None, correct: bool = True
) -> FixedEffectResult:
    """Mantel-Haenszel fixed-effect meta-analysis of 2x2 tables (metafor's ``rma.mh``).

    Parameters
    ----------
    ai, bi, ci, di : array-like of int
        Events and non-events in the treated (ai, bi) and control (ci, di) arms.
    measure : {"OR", "RR", "RD"}
        Log odds ratio, log risk ratio or risk difference.
    confidence_level : float
        For the CI of the pooled value.
    labels : sequence of str, optional
        Study labels.
    correct : bool
        Continuity correction (1/2) in the CMH test (OR only), as ``rma.mh``.

    Returns
    -------
    FixedEffectResult

    Notes
    -----
    OR: ``R = sum ai di / N``, ``S = sum bi ci / N``, estimate ``log(R / S)``,
    SE of Robins, Breslow and Greenland (1986). RR: ``R = sum ai n2 / N``,
    ``S = sum ci n1 / N``, SE of Greenland and Robins (1985). RD: estimate
    ``sum (ai n2 - ci n1) / N / sum n1 n2 / N`` with the variance of
    Greenland and Robins (1985) (Sato's form, as metafor). Zero cells: see the
    module docstring.

    References
    ----------
    Mantel N, Haenszel W (1959). J Natl Cancer Inst 22:719-748.
    Robins J, Breslow N, Greenland S (1986). Biometrics 42:311-323.
    Greenland S, Robins JM (1985). Biometrics 41:55-68.
    Tarone RE (1985). Biometrika 72:91-95.

    Examples
    --------
    >>> res = mantel_haenszel([4, 6, 3], [119, 300, 228], [11, 29, 11], [128, 274, 209])
    >>> print(f"{res.estimate:.4f} (SE {res.se:.4f})")
    -1.4135 (SE 0.3155)
    """
    check_option("measure", measure, MH_MEASURES)
    _check_level(confidence_level)
    a, b, c, d, labels = _tables(ai, bi, ci, di, labels)
    n1, n2 = a + b, c + d
    n = n1 + n2
    yi, vi, zero, double_zero = _escalc(a, b, c, d, measure)
    notes = _zero_notes(labels, zero, double_zero, "MH", measure)
    cmh = cmh_p = cochran = cochran_p = None
    breslow_day = breslow_day_p = tarone = tarone_p = None
    k_pos = None
    if measure == "OR":
        p_, q_ = (a + d) / n, (b + c) / n
        r_i, s_i = a * d / n, b * c / n
        r, s = r_i.sum(), s_i.sum()
        if r == 0 or s == 0:
            raise AnalysisError(
                "The MH odds ratio is undefined: every table has a zero in "
                + ("ai or di" if r == 0 else "bi or ci")
                + " (metafor returns NA). Use measure='RD' or Peto's method."
            )
        odds_ratio = r / s
        estimate = np.log(odds_ratio)
        se = np.sqrt(0.5 * (np.sum(p_ * r_i) / r**2 + np.sum(p_ * s_i + q_ * r_i) / (r * s) + np.sum(q_ * s_i) / s**2))
        weights = s_i
        xt, yt = a + c, b + d
        if xt.sum() > 0 and yt.sum() > 0:
            deviation = abs(np.sum(a - n1 / n * xt)) - (0.5 if correct else 0.0)
            cochran = float(deviation**2 / np.sum(n1 / n * (n2 / n) * (xt * (yt / n))))
            cmh = float(deviation**2 / np.sum(n1 / n * (n2 / n) * (xt * (yt / (n - 1)))))
            cochran_p = float(chi2_upper_tail(cochran, 1))
            cmh_p = float(chi2_upper_tail(cmh, 1))
        breslow_day, breslow_day_p, tarone, tarone_p, k_pos = _breslow_day(a, n1, n2, n, xt, yt, odds_ratio)
    elif measure == "RR":
        r, s = np.sum(a * n2 / n), np.sum(c * n1 / n)
        if a.sum() == 0 or c.sum() == 0:
            raise AnalysisError(
                "The MH risk ratio is undefined: no events in the "
                + ("treated" if a.sum() == 0 else "control")
                + " arm of any table (metafor returns NA). Use measure='RD'."
            )
        estimate = np.log(r / s)
        se = np.sqrt(np.sum(n1 / n * (n2 / n) * (a + c) - a / n * c) / (r * s))
        weights = c * n1 / n
    else:
        denominator = np.sum(n1 * (n2 / n))
        estimate = np.sum(a * (n2 / n) - c * (n1 / n)) / denominator
        se = np.sqrt(
            (estimate * np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2)
             + np.sum(a * (n2 - c) / n + c * (n1 - a) / n) / 2)
            / denominator**2
        )
        weights = n1 * n2 / n
    has_yi = ~np.isnan(yi)
    k_yi = int(has_yi.sum())
    q = float(max(0.0, np.sum((yi[has_yi] - estimate) ** 2 / vi[has_yi]))) if k_yi > 1 else 0.0
    q_p, i2, h2 = _heterogeneity(q, k_yi - 1)
    return _result(
        "MH", measure, labels, (a, b, c, d), confidence_level, correct, estimate, se,
        q, k_yi, q_p, i2, h2, weights, yi, vi, notes,
        cmh=cmh, cmh_p=cmh_p, cochran=cochran, cochran_p=cochran_p, breslow_day=breslow_day,
        breslow_day_p=breslow_day_p, tarone=tarone, tarone_p=tarone_p, k_pos=k_pos,
    )


def _breslow_day(a, n1, n2, n, xt, yt, odds_ratio):
    """Breslow-Day and Tarone tests, on tables with a positive fitted count (as metafor)."""
    if odds_ratio == 1:
        fitted = n1 / n * xt
    else:
        big_a = odds_ratio * (n1 + xt) + (n2 - xt)
        big_b = np.sqrt(big_a**2 - 4 * n1 * xt * odds_ratio * (odds_ratio - 1))
        fitted = (big_a - big_b) / (2 * (odds_ratio - 1))
    pos = (fitted > 0) & (xt > 0) & (yt > 0)
    k_pos = int(pos.sum())
    n11 = fitted[pos]
    n12 = n1[pos] - n11
    n21 = xt[pos] - n11
    n22 = n11 - n1[pos] - xt[pos] + n[pos]
    precision = 1 / (1 / n11 + 1 / n12 + 1 / n21 + 1 / n22)
    residual = a[pos] - n11
    bd = float(max(0.0, np.sum(residual**2 / precision)))
    ta = float(max(0.0, bd - np.sum(residual) ** 2 / np.sum(precision)))
    if k_pos > 1:
        return bd, float(chi2_upper_tail(bd, k_pos - 1)), ta, float(chi2_upper_tail(ta, k_pos - 1)), k_pos
    return bd, None, ta, None, k_pos


def peto(ai, bi, ci, di, confidence_level: float = 0.95, *, labels=None) -> FixedEffectResult:
    """Peto's one-step odds ratio (metafor's ``rma.peto``).

    Parameters
    ----------
    ai, bi, ci, di : array-like of int
        Events and non-events in the treated (ai, bi) and control (ci, di) arms.
    confidence_level : float
        For the CI of the pooled log OR.
    labels : sequence of str, optional
        Study labels.

    Returns
    -------
    FixedEffectResult
        ``measure="PETO"``; estimate is the pooled log odds ratio.

    Notes
    -----
    ``O - E = ai - (ai + ci) n1 / N``, ``V = (ai + ci)(bi + di) n1 n2 / (N^2 (N - 1))``;
    estimate ``sum(O - E) / sum V``, SE ``1 / sqrt(sum V)``. Counts are used
    uncorrected; tables with ``V = 0`` (no events, or only events, in both
    arms) carry no information and are left out of Q.

    References
    ----------
    Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during
    and after myocardial infarction. Prog Cardiovasc Dis 27:335-371.

    Examples
    --------
    >>> res = peto([4, 6, 3], [119, 300, 228], [11, 29, 11], [128, 274, 209])
    >>> print(f"{res.estimate:.4f} (SE {res.se:.4f})")
    -1.2373 (SE 0.2566)
    """
    _check_level(confidence_level)
    a, b, c, d, labels = _tables(ai, bi, ci, di, labels)
    n1, n2 = a + b, c + d
    n = n1 + n2
    yi, vi, zero, double_zero = _escalc(a, b, c, d, "PETO")
    notes = _zero_notes(labels, zero, double_zero, "Peto", "PETO")
    xt, yt = a + c, b + d
    observed_minus_expected = a - xt * n1 / n
    variance = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
    total = variance.sum()
    if total == 0:
        raise AnalysisError(
            "One of the two outcomes never occurred in any table: Peto's method cannot be used."
        )
    estimate = observed_minus_expected.sum() / total
    se = np.sqrt(1 / total)
    informative = variance > 0
    k_pos = int(informative.sum())
    q = float(max(0.0, np.sum(observed_minus_expected[informative] ** 2 / variance[informative])
                  - observed_minus_expected.sum() ** 2 / total))
    k_yi = int((~np.isnan(yi)).sum())
    if k_pos > 1:
        q_p, i2, h2 = _heterogeneity(q, k_yi - 1)
    else:
        q_p, i2, h2 = 1.0, 0.0, 1.0
    return _result(
        "PETO", "PETO", labels, (a, b, c, d), confidence_level, None, estimate, se,
        q, k_yi, q_p, i2, h2, variance, yi, vi, notes, k_pos=k_pos,
    )


def _result(method, measure, labels, tables, confidence_level, correct, estimate, se, q, k_yi,
            q_p, i2, h2, weights, yi, vi, notes, **tests):
    crit = normal_two_sided_critical(confidence_level)
    z = estimate / se
    a, b, c, d = tables
    defaults = dict(cmh=None, cmh_p=None, cochran=None, cochran_p=None, breslow_day=None,
                    breslow_day_p=None, tarone=None, tarone_p=None, k_pos=None)
    defaults.update(tests)
    if a.size == 1:
        notes.append("k = 1: the pooled value is that table's own estimate; no heterogeneity test.")
    return FixedEffectResult(
        method=method, measure=measure, labels=labels, ai=a, bi=b, ci=c, di=d,
        confidence_level=confidence_level, correct=correct, k=int(a.size), k_yi=k_yi,
        estimate=float(estimate), se=float(se), statistic=float(z),
        pval=float(normal_two_sided_p(z)), ci_lb=float(estimate - crit * se),
        ci_ub=float(estimate + crit * se), q=float(q), q_df=max(k_yi - 1, 0), q_p=float(q_p),
        i2=float(i2), h2=float(h2), weights=100 * weights / weights.sum(), yi=yi, vi=vi,
        notes=tuple(notes), **defaults,
    )
