"""Crossover trials: within-patient effects with a stated correlation.

In a crossover trial every patient receives ketamine and the control, so the
two period means are correlated. Reports rarely give that correlation (or the
SD of the within-patient differences), so the analysis states a value ``r``
and shows how the pooled result moves over a range of values
(``correlation_sweep``), as the protocol requires.

Continuous outcomes
-------------------
``MD``: the mean within-patient difference (ketamine minus control) with
``vi = (sd1^2 + sd2^2 - 2 r sd1 sd2) / n`` -- metafor's ``escalc(measure="MC")``
with ``m1i`` = ketamine, ``m2i`` = control. ``SMD``: metafor's ``SMCR``
(standardised by ``sd1i``, the ketamine-period SD, with Hedges' correction;
``vi = 2 (1 - r) / n + yi^2 / (2 n)``). Both come from
``analysis.engine.effect_sizes``.

Binary outcomes
---------------
Paired binary data (who responded on ketamine *and* on control) are almost
never reported. Crossover responder counts are therefore analysed as if the
two periods were independent groups (RR / OR / RD of ``analysis.engine.effect_sizes``).
With a positive within-patient correlation this overstates the variance, so
it is a conservative approximation (Elbourne et al. 2002); it is recorded in
the ``es_note`` column of every row it is applied to.

References
----------
Elbourne DR, Altman DG, Higgins JPT, Curtin F, Worthington HV, Vail A (2002).
Meta-analyses involving cross-over trials: methodological issues.
Int J Epidemiol 31:140-149.
Higgins JPT et al. (eds). Cochrane Handbook, section 23.2 (crossover trials).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine.effect_sizes import effect_sizes
from analysis.engine.pooling import meta_analysis

CONTINUOUS_MEASURES = ("MD", "SMD")
BINARY_MEASURES = ("RR", "OR", "RD")

#: The protocol's sensitivity range for the within-patient correlation.
DEFAULT_CORRELATIONS = (0.0, 0.25, 0.5, 0.75, 0.9)

#: Recorded on every crossover row analysed as parallel groups.
PARALLEL_NOTE = (
    "crossover responders analysed as two independent groups "
    "(paired data not reported; conservative when the within-patient correlation is positive)"
)

_ESCALC_MEASURE = {"MD": "MC", "SMD": "SMCR"}


def _check_correlation(correlation: float) -> float:
    correlation = float(correlation)
    if not -1.0 < correlation < 1.0:
        raise AnalysisError(
            f"correlation={correlation} must lie strictly between -1 and 1 "
            "(the within-patient correlation between the ketamine and control periods)."
        )
    return correlation


def crossover_effect_sizes(m1i, sd1i, m2i, sd2i, ni, correlation: float, measure: str = "MD") -> pd.DataFrame:
    """Within-patient effect sizes of crossover trials for a stated correlation.

    Parameters
    ----------
    m1i, sd1i : array-like
        Mean and SD of the outcome in the ketamine period.
    m2i, sd2i : array-like
        Mean and SD in the control period.
    ni : array-like of int
        Patients who completed both periods.
    correlation : float
        Within-patient correlation ``r`` between the periods (stated; see
        ``correlation_sweep`` for the sensitivity range).
    measure : {"MD", "SMD"}
        Mean difference (metafor's ``MC``) or standardised mean change
        (metafor's ``SMCR``, standardised by ``sd1i``).

    Returns
    -------
    pandas.DataFrame
        The inputs with ``ri``, ``yi``, ``vi`` (and ``es_correction``,
        ``es_note`` from ``analysis.engine.effect_sizes``); ``attrs["correlation"]``
        records ``r``.

    Examples
    --------
    >>> out = crossover_effect_sizes([30], [20], [50], [22], [10], correlation=0.5)
    >>> print(f"{out.yi[0]:.1f} {out.vi[0]:.2f}")
    -20.0 44.40
    """
    check_option("measure", measure, CONTINUOUS_MEASURES)
    correlation = _check_correlation(correlation)
    data = pd.DataFrame({"m1i": m1i, "sd1i": sd1i, "m2i": m2i, "sd2i": sd2i, "ni": ni})
    out = effect_sizes(data, _ESCALC_MEASURE[measure], ri=correlation)
    out.attrs["correlation"] = correlation
    return out


def crossover_binary_effect_sizes(ketamine_events, ketamine_n, control_events, control_n,
                                  measure: str = "RR") -> pd.DataFrame:
    """Effect sizes for crossover responder counts, analysed as parallel groups.

    Parameters
    ----------
    ketamine_events, ketamine_n, control_events, control_n : array-like of int
        Responders and patients assessed in each period.
    measure : {"RR", "OR", "RD"}
        As ``analysis.engine.effect_sizes`` (escalc defaults, 1/2 added to tables
        with a zero cell).

    Returns
    -------
    pandas.DataFrame
        ``ai, n1i, ci, n2i, yi, vi, es_correction, es_note``; ``es_note``
        states the parallel-groups approximation on every row.

    Examples
    --------
    >>> out = crossover_binary_effect_sizes([6], [10], [2], [10])
    >>> print(f"{out.yi[0]:.4f}")
    1.0986
    """
    check_option("measure", measure, BINARY_MEASURES)
    data = pd.DataFrame({"ai": ketamine_events, "n1i": ketamine_n, "ci": control_events, "n2i": control_n})
    out = effect_sizes(data, measure)
    out["es_note"] = [f"{note}; {PARALLEL_NOTE}" if note else PARALLEL_NOTE for note in out["es_note"]]
    return out


def correlation_sweep(
    m1i,
    sd1i,
    m2i,
    sd2i,
    ni,
    correlations: Sequence[float] = DEFAULT_CORRELATIONS,
    measure: str = "MD",
    method: str = "REML",
    test: str = "z",
    confidence_level: float = 0.95,
    *,
    labels=None,
    other_yi=None,
    other_vi=None,
    other_labels=None,
) -> pd.DataFrame:
    """Pool crossover trials once per assumed within-patient correlation.

    Parameters
    ----------
    m1i, sd1i, m2i, sd2i, ni : array-like
        Ketamine-period and control-period means and SDs, and patients, of
        each crossover trial (see ``crossover_effect_sizes``).
    correlations : sequence of float
        Values of ``r`` to try (default 0, 0.25, 0.5, 0.75, 0.9).
    measure : {"MD", "SMD"}
        Effect measure.
    method, test, confidence_level
        Passed to ``analysis.engine.pooling.meta_analysis``.
    labels : sequence of str, optional
        Labels of the crossover trials.
    other_yi, other_vi, other_labels : array-like, optional
        Studies whose effect does not depend on ``r`` (e.g. parallel trials on
        the same scale), pooled unchanged beside the crossover trials.

    Returns
    -------
    pandas.DataFrame
        One row per correlation: ``correlation, measure, method, test``, then
        every key of ``MetaAnalysisResult.to_dict()`` (``k, estimate, se,
        pval, ci_lb, ci_ub, tau2, ..., pi_lb, pi_ub``).

    Notes
    -----
    A larger ``r`` shrinks the variance of each within-patient difference,
    so crossover trials gain weight and the CI narrows; the sweep shows
    whether a conclusion depends on the unreported correlation.

    Examples
    --------
    >>> sweep = correlation_sweep([30, 40], [20, 25], [50, 55], [22, 20], [10, 12],
    ...                           correlations=[0.0, 0.5])
    >>> print(sweep[["correlation", "estimate"]].round(2).to_string(index=False))
     correlation  estimate
             0.0    -17.46
             0.5    -17.48
    """
    check_option("measure", measure, CONTINUOUS_MEASURES)
    correlations = [_check_correlation(r) for r in correlations]
    if not correlations:
        raise AnalysisError("correlations is empty; give at least one value of r.")
    if (other_yi is None) != (other_vi is None):
        raise AnalysisError("Give both other_yi and other_vi, or neither.")
    k_cross = len(np.atleast_1d(ni))
    labels = list(labels) if labels is not None else [f"Crossover {i + 1}" for i in range(k_cross)]
    extra_yi = np.atleast_1d(np.asarray(other_yi, dtype=float)) if other_yi is not None else np.empty(0)
    extra_vi = np.atleast_1d(np.asarray(other_vi, dtype=float)) if other_vi is not None else np.empty(0)
    if other_labels is not None:
        extra_labels = list(other_labels)
    else:
        extra_labels = [f"Other {i + 1}" for i in range(extra_yi.size)]
    rows = []
    for r in correlations:
        es = crossover_effect_sizes(m1i, sd1i, m2i, sd2i, ni, correlation=r, measure=measure)
        yi = np.concatenate([es["yi"].to_numpy(dtype=float), extra_yi])
        vi = np.concatenate([es["vi"].to_numpy(dtype=float), extra_vi])
        fit = meta_analysis(yi, vi, method=method, test=test, confidence_level=confidence_level,
                            labels=labels + extra_labels, measure=measure)
        rows.append({"correlation": r, "measure": measure, "method": fit.method, "test": test, **fit.to_dict()})
    return pd.DataFrame(rows)
