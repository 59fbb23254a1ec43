"""Single proportions as counts and on metafor's scales: the checks of events and n,
``escalc``'s PLO, PR, PFT and PAS measures and their back-transformations, and per-study
intervals. Shared by the frequentist (:mod:`analysis.engine.proportions`) and the Bayesian
(:mod:`analysis.engine.bayesian_binomial`) pooling of proportions and by the multiverse.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._inputs import as_numbers, reject_first
from analysis.engine._summary import study_labels
from analysis.engine.effect_sizes import MEASURES
from analysis.engine.transforms import clopper_pearson, wilson

#: Per-study intervals of a proportion.
INTERVALS = ("clopper-pearson", "wilson")

#: escalc's default continuity correction for PLO and PR: 1/2 added to the
#: events and non-events of studies with 0 or n events only (``to="only0"``).
#: PFT and PAS need none (escalc's default ``add`` is 0 for them).
ZERO_CELL_ADD = 0.5

#: Largest sample size accepted: beyond this a count is a data-entry mistake, not a study.
MAX_SAMPLE_SIZE = 10**9


def check_counts(events, n, labels):
    """``events``, ``n`` as whole-number arrays and the study labels, or a clear error naming the study."""
    names = None if labels is None else [str(label) for label in labels]
    x = as_numbers(events, "events", names)
    size = as_numbers(n, "n", names)
    if np.ndim(events) > 1 or np.ndim(n) > 1 or x.shape != size.shape:
        raise AnalysisError("events and n must be one-dimensional and of the same length.")
    if x.size == 0:
        raise AnalysisError("No studies given: events and n are empty.")
    labels = study_labels(labels, x.size)
    values = {"events": x, "n": size}
    reject_first(np.isnan(x) | np.isnan(size), labels, values,
                 "events and n must not be missing; drop that study first")
    reject_first((x != np.round(x)) | (size != np.round(size)), labels, values,
                 "events and n must be whole numbers (counts of patients)")
    reject_first((size <= 0) | (size > MAX_SAMPLE_SIZE), labels, values,
                 f"n must be a positive count of patients (at most {MAX_SAMPLE_SIZE:g})")
    reject_first((x < 0) | (x > size), labels, values, "events must lie between 0 and n")
    return x.astype(np.int64), size.astype(np.int64), labels


def escalc_proportions(events: np.ndarray, n: np.ndarray, measure: str):
    """yi, vi and the per-study correction flag, as metafor's ``escalc``."""
    corrected = np.zeros(events.shape, dtype=bool)
    x = events.astype(float)
    m = (n - events).astype(float)
    if measure in ("PLO", "PR"):
        corrected = (events == 0) | (events == n)
        x = np.where(corrected, x + ZERO_CELL_ADD, x)
        m = np.where(corrected, m + ZERO_CELL_ADD, m)
    yi, vi = MEASURES[measure].formula({"xi": x, "mi": m, "ni": x + m})  # analysis.engine.effect_sizes
    return yi, vi, corrected


def pft(p, n):
    """metafor's ``transf.pft``: the Freeman-Tukey transform of a proportion."""
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (n + 1.0))))


def inverse_pft(t, n_harmonic: float) -> np.ndarray:
    """metafor's ``transf.ipft.hm`` (Miller 1978 with the harmonic-mean n)."""
    t = np.asarray(t, dtype=float)
    s = np.sin(2.0 * t)
    with np.errstate(invalid="ignore", divide="ignore"):
        inner = 1.0 - (s + (s - 1.0 / s) / n_harmonic) ** 2
        z = 0.5 * (1.0 - np.sign(np.cos(2.0 * t)) * np.sqrt(inner))
    z = np.where(t > pft(1.0, n_harmonic), 1.0, z)
    z = np.where(t < pft(0.0, n_harmonic), 0.0, z)
    return z


def back_transform_proportion(values, method: str, n_harmonic: float) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if method in ("GLMM", "PLO"):
        return special.expit(values)
    if method == "PAS":
        # metafor's transf.iarcsin: sin^2, clipped to [0, 1] outside [0, pi/2].
        return np.where(values < 0, 0.0, np.where(values > np.arcsin(1.0), 1.0, np.sin(values) ** 2))
    if method == "PFT":
        return inverse_pft(values, n_harmonic)
    return values  # PR: already a proportion (metafor's predict with transf=FALSE)


def study_intervals(events, n, confidence_level: float = 0.95, interval: str = "clopper-pearson"):
    """Per-study confidence intervals for a proportion.

    Parameters
    ----------
    events, n : array-like of int
        Events (responders) and sample sizes.
    confidence_level : float
        Coverage of each interval.
    interval : {"clopper-pearson", "wilson"}
        Exact interval (R's ``binom.test``) or Wilson score interval without
        continuity correction (R's ``prop.test(x, n, correct=FALSE)``).

    Returns
    -------
    lower, upper : ndarray
        Interval bounds, on the proportion scale.

    Notes
    -----
    Clopper-Pearson: ``lower = Beta^-1(alpha/2; x, n - x + 1)`` (0 when x = 0),
    ``upper = Beta^-1(1 - alpha/2; x + 1, n - x)`` (1 when x = n).

    Examples
    --------
    >>> lower, upper = study_intervals([3], [10])
    >>> print(f"{lower[0]:.4f} {upper[0]:.4f}")
    0.0667 0.6525
    """
    check_option("interval", interval, INTERVALS)
    compute = clopper_pearson if interval == "clopper-pearson" else wilson
    ci = compute(events, n, confidence_level)
    return ci.ci_lb, ci.ci_ub
