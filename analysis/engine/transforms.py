"""Scales of the effect-size measures, their back-transformations, and exact
and Wilson intervals for single proportions.

Every measure of :mod:`analysis.engine.effect_sizes` is computed on an *analysis
scale* (log RR, logit, Freeman-Tukey double arcsine, ...). Plots and
sentences show it on its *natural scale* (RR, proportion, ...). This module
says, per measure, how to go from one to the other (metafor's ``transf.*``
functions), which axis a forest plot uses, a human label, and the value of
no effect; so that plots and narrative never decide it themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import special

from analysis.engine._distributions import beta_quantile, normal_quantile
from analysis.engine._errors import AnalysisError, check_option

__all__ = [
    "SCALES",
    "MeasureScale",
    "ProportionInterval",
    "back_transform",
    "clopper_pearson",
    "iarcsin",
    "ilogit",
    "ipft",
    "ipft_hm",
    "measure_scale",
    "wilson",
]


# --------------------------------------------------------------- transforms


def ilogit(x) -> np.ndarray:
    """Inverse logit, ``1 / (1 + exp(-x))`` (metafor's ``transf.ilogit``).

    >>> ilogit([0.0, 2.0]).round(4)
    array([0.5   , 0.8808])
    """
    return np.asarray(special.expit(np.asarray(x, dtype=float)))


def iarcsin(x) -> np.ndarray:
    """Inverse arcsine square root, ``sin(x)²``, clamped to [0, 1] outside
    [0, π/2] (metafor's ``transf.iarcsin``).

    >>> iarcsin([-0.1, np.pi / 4, 2.0]).round(4)
    array([0. , 0.5, 1. ])
    """
    x = np.asarray(x, dtype=float)
    z = np.sin(x) ** 2
    z = np.where(x < 0, 0.0, z)
    return np.where(x > np.arcsin(1.0), 1.0, z)


def _pft(p, n):
    """Freeman-Tukey double arcsine of proportion ``p`` with size ``n`` (``transf.pft``)."""
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def ipft(x, ni) -> np.ndarray:
    """Inverse Freeman-Tukey double arcsine with a sample size per value
    (metafor's ``transf.ipft``; Miller 1978).

    ``p = (1 - sgn(cos 2x) √(1 - (sin 2x + (sin 2x - 1/sin 2x)/n)²)) / 2``,
    set to 0 below the transform of p = 0 and to 1 above that of p = 1.

    >>> float(ipft(0.7853981633974483, 8))
    0.5
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(ni, dtype=float)
    s = np.sin(2 * x)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = 0.5 * (1 - np.sign(np.cos(2 * x)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
        z = np.where(x > _pft(1.0, n), 1.0, z)
        z = np.where(x < _pft(0.0, n), 0.0, z)
    return z


def ipft_hm(x, ni) -> np.ndarray:
    """Inverse Freeman-Tukey double arcsine with the harmonic mean of the
    sample sizes ``ni`` (metafor's ``transf.ipft.hm(x, targs=list(ni=ni))``),
    as used for a pooled PFT estimate (Miller 1978).

    >>> float(ipft_hm(0.7853981633974483, [8, 12, 20]))
    0.5
    """
    n = np.asarray(ni, dtype=float)
    if n.size == 0 or np.all(np.isnan(n)):
        raise AnalysisError("ipft_hm needs the studies' sample sizes ni")
    harmonic_mean = 1 / np.nanmean(1 / n)
    return ipft(x, harmonic_mean)


def _identity(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


# --------------------------------------------------------------- scales


@dataclass(frozen=True)
class MeasureScale:
    """How one measure is shown.

    Attributes
    ----------
    measure : str
        metafor's measure code.
    label : str
        Natural-scale name for axes and tables, e.g. "Risk ratio".
    analysis_label : str
        Name of the analysis scale, e.g. "Log risk ratio".
    axis_scale : {"log", "linear"}
        Axis for the natural scale in a forest plot.
    null_value : float or None
        No-effect value on the natural scale (1 for RR/OR, 0 for differences,
        None for single proportions, which have no null).
    null_value_analysis : float or None
        No-effect value on the analysis scale (0, or None).
    transformation : str
        The back-transformation, by metafor's name: "exp", "transf.ilogit",
        "transf.ipft.hm", "transf.iarcsin" or "identity".
    needs_ni : bool
        True when the back-transformation needs the sample sizes (PFT).
    """

    measure: str
    label: str
    analysis_label: str
    axis_scale: str
    null_value: float | None
    null_value_analysis: float | None
    transformation: str
    needs_ni: bool = False
    _function: Callable = field(default=_identity, repr=False, compare=False)

    def back_transform(self, x, *, ni=None) -> np.ndarray:
        """Values ``x`` on the analysis scale, back on the natural scale.

        Parameters
        ----------
        x : array_like
            Estimates or interval bounds on the analysis scale.
        ni : array_like, optional
            Sample sizes of the studies; required for PFT (harmonic mean).

        Returns
        -------
        numpy.ndarray
        """
        if self.needs_ni:
            if ni is None:
                raise AnalysisError(
                    f"back-transforming {self.measure} needs the studies' sample sizes: "
                    "pass ni=..."
                )
            return self._function(x, ni)
        return self._function(x)


def _scale(measure, label, analysis_label, axis, null, transformation, function, needs_ni=False):
    null_analysis = None if null is None else 0.0
    return MeasureScale(
        measure, label, analysis_label, axis, null, null_analysis, transformation,
        needs_ni, function,
    )  # fmt: skip


#: Scale, label, null value and back-transformation per measure.
SCALES: dict[str, MeasureScale] = {
    s.measure: s
    for s in (
        _scale("RR", "Risk ratio", "Log risk ratio", "log", 1.0, "exp", np.exp),
        _scale("OR", "Odds ratio", "Log odds ratio", "log", 1.0, "exp", np.exp),
        _scale("RD", "Risk difference", "Risk difference", "linear", 0.0, "identity", _identity),
        _scale("MD", "Mean difference", "Mean difference", "linear", 0.0, "identity", _identity),
        _scale(
            "SMD", "Standardised mean difference (Hedges' g)",
            "Standardised mean difference (Hedges' g)", "linear", 0.0, "identity", _identity,
        ),
        _scale("MC", "Mean change", "Mean change", "linear", 0.0, "identity", _identity),
        _scale(
            "SMCR", "Standardised mean change", "Standardised mean change",
            "linear", 0.0, "identity", _identity,
        ),
        _scale("PR", "Proportion", "Proportion", "linear", None, "identity", _identity),
        _scale("PLO", "Proportion", "Logit proportion", "linear", None, "transf.ilogit", ilogit),
        _scale(
            "PFT", "Proportion", "Freeman-Tukey double arcsine proportion", "linear", None,
            "transf.ipft.hm", ipft_hm, needs_ni=True,
        ),
        _scale("PAS", "Proportion", "Arcsine square-root proportion", "linear", None,
               "transf.iarcsin", iarcsin),
    )
}  # fmt: skip


#: Measures shown like another one: code -> (the other's code, label). Peto's log odds ratio
#: is a log odds ratio; a proportion GLMM (``pool_proportions(method="GLMM")``) is on the logit scale.
MEASURE_ALIASES: dict[str, tuple[str, str | None]] = {
    "PETO": ("OR", "Peto odds ratio"),
    "GLMM": ("PLO", None),
}


def scale_of_measure(measure: str | None) -> MeasureScale | None:
    """The :class:`MeasureScale` of ``measure``, aliases resolved; None for a generic ``"GEN"``.

    >>> scale_of_measure("PETO").label, scale_of_measure("GEN") is None
    ('Peto odds ratio', True)
    """
    code = (measure or "GEN").upper()
    if code == "GEN":
        return None
    if code in MEASURE_ALIASES:
        base, label = MEASURE_ALIASES[code]
        scale = measure_scale(base)
        return replace(scale, measure=code, label=label or scale.label)
    return measure_scale(code)


def measure_scale(measure: str) -> MeasureScale:
    """The :class:`MeasureScale` of ``measure``.

    >>> s = measure_scale("RR")
    >>> s.label, s.axis_scale, s.null_value, s.null_value_analysis
    ('Risk ratio', 'log', 1.0, 0.0)
    """
    return SCALES[check_option("measure", measure, tuple(SCALES))]


def back_transform(x, measure: str, *, ni=None) -> np.ndarray:
    """Back-transform analysis-scale values of ``measure`` to its natural scale.

    Parameters
    ----------
    x : array_like
        Values on the analysis scale (estimates, interval bounds).
    measure : str
        metafor's measure code (a key of ``SCALES``).
    ni : array_like, optional
        Sample sizes of the studies; required for PFT, whose inverse uses
        their harmonic mean (metafor's ``transf.ipft.hm``).

    Returns
    -------
    numpy.ndarray
        exp for RR and OR; inverse logit for PLO; ``transf.ipft.hm`` for PFT;
        ``sin(x)²`` for PAS; unchanged for RD, MD, SMD, MC, SMCR and PR.

    Examples
    --------
    >>> back_transform([0.0, np.log(2)], "RR")
    array([1., 2.])
    >>> back_transform(0.0, "PLO")
    array(0.5)
    """
    return np.asarray(measure_scale(measure).back_transform(x, ni=ni))


# --------------------------------------------------------------- intervals


@dataclass(frozen=True)
class ProportionInterval:
    """A confidence interval for a single proportion per study.

    Attributes
    ----------
    events, n : numpy.ndarray
        Inputs, as floats.
    estimate : numpy.ndarray
        ``events / n``.
    ci_lb, ci_ub : numpy.ndarray
        Lower and upper bound (proportions, in [0, 1]).
    method : {"clopper-pearson", "wilson"}
    confidence_level : float
    """

    events: np.ndarray
    n: np.ndarray
    estimate: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    method: str
    confidence_level: float


def _proportion_inputs(events, n, confidence_level):
    x = np.asarray(events, dtype=float)
    size = np.asarray(n, dtype=float)
    if not 0 < confidence_level < 1:
        raise AnalysisError(f"confidence_level must be in (0, 1), not {confidence_level!r}")
    with np.errstate(invalid="ignore"):
        bad = (size <= 0) | (x < 0) | (x > size)
    if np.any(bad):
        raise AnalysisError(
            "need 0 <= events <= n and n > 0; offending (events, n): "
            + ", ".join(f"({a:g}, {b:g})" for a, b in zip(*np.broadcast_arrays(x, size)[:2])
                        if not (0 <= a <= b and b > 0))
        )
    return np.broadcast_arrays(x, size)


def clopper_pearson(events, n, confidence_level: float = 0.95) -> ProportionInterval:
    """Exact (Clopper-Pearson) interval, as R's ``binom.test(x, n)$conf.int``.

    Parameters
    ----------
    events, n : array_like
        Events and sample size per study.
    confidence_level : float
        Two-sided coverage, 0.95 by default.

    Returns
    -------
    ProportionInterval

    Notes
    -----
    With α = 1 - confidence_level: lower = Beta⁻¹(α/2; x, n - x + 1), 0 when
    x = 0; upper = Beta⁻¹(1 - α/2; x + 1, n - x), 1 when x = n
    (Clopper & Pearson 1934).

    Examples
    --------
    >>> ci = clopper_pearson(0, 15)
    >>> float(ci.ci_lb), round(float(ci.ci_ub), 4)
    (0.0, 0.218)
    """
    x, size = _proportion_inputs(events, n, confidence_level)
    alpha = 1 - confidence_level
    with np.errstate(invalid="ignore"):
        lower = np.where(x == 0, 0.0, beta_quantile(alpha / 2, x, size - x + 1))
        upper = np.where(x == size, 1.0, beta_quantile(1 - alpha / 2, x + 1, size - x))
    return ProportionInterval(x, size, x / size, lower, upper, "clopper-pearson", confidence_level)


def wilson(events, n, confidence_level: float = 0.95) -> ProportionInterval:
    """Wilson score interval, as R's ``prop.test(x, n, correct=FALSE)$conf.int``.

    Parameters
    ----------
    events, n : array_like
        Events and sample size per study.
    confidence_level : float
        Two-sided coverage, 0.95 by default.

    Returns
    -------
    ProportionInterval

    Notes
    -----
    With p = x/n, z the 1 - α/2 normal quantile and c = z²/(2n):
    bounds = (p + c ∓ z √(p(1-p)/n + c/(2n))) / (1 + 2c), the lower set to 0
    when p = 0 and the upper to 1 when p = 1, as R does (Wilson 1927).

    Examples
    --------
    >>> ci = wilson(4, 8)
    >>> round(float(ci.ci_lb), 4), round(float(ci.ci_ub), 4)
    (0.2152, 0.7848)
    """
    x, size = _proportion_inputs(events, n, confidence_level)
    z = normal_quantile((1 + confidence_level) / 2)
    p = x / size
    c = z**2 / (2 * size)
    half = z * np.sqrt(p * (1 - p) / size + c / (2 * size))
    lower = np.where(p <= 0, 0.0, (p + c - half) / (1 + 2 * c))
    upper = np.where(p >= 1, 1.0, (p + c + half) / (1 + 2 * c))
    return ProportionInterval(
        x, size, p, np.maximum(lower, 0.0), np.minimum(upper, 1.0), "wilson", confidence_level
    )
