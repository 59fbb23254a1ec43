"""Single proportions as counts and on metafor's scales: the checks of events and n,
``escalc``'s PLO, PR, PFT and PAS measures, the pooled value back as a proportion (through
:mod:`analysis.engine.transforms`, the one home of metafor's back-transformations), and per-study
intervals. Shared by the frequentist (:mod:`analysis.engine.proportions`) and the Bayesian
(:mod:`analysis.engine.bayesian_binomial`) pooling of proportions and by the multiverse.
"""

from __future__ import annotations

import numpy as np

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._inputs import as_numbers, reject_first
from analysis.engine._summary import study_labels
from analysis.engine.effect_sizes import MEASURES
from analysis.engine.transforms import clopper_pearson, iarcsin, ilogit, ipft, wilson

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


def back_transform_proportion(values, method: str, n_harmonic: float) -> np.ndarray:
    """A pooled model's values back on the proportion scale (``analysis.engine.transforms``):
    inverse logit (GLMM, PLO), metafor's ``transf.iarcsin`` (PAS), ``transf.ipft`` with the
    harmonic-mean n (PFT, as ``transf.ipft.hm``); PR is already a proportion."""
    if method in ("GLMM", "PLO"):
        return ilogit(values)
    if method == "PAS":
        return iarcsin(values)
    if method == "PFT":
        return ipft(values, n_harmonic)
    return np.asarray(values, dtype=float)


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
