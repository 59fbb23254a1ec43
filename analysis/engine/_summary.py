"""The shared layout of ``summary_frame()``: study rows, then one pooled row.

Every result type (inverse-variance, Mantel-Haenszel/Peto, proportions) hands
plots and narrative the same columns, so a forest plot can draw any of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.engine._distributions import normal_two_sided_critical
from analysis.engine._errors import AnalysisError

#: Columns every summary frame has, in this order; extra columns follow.
SUMMARY_COLUMNS = ("label", "row_type", "estimate", "se", "ci_lb", "ci_ub", "weight", "pi_lb", "pi_ub")


def study_labels(labels, k: int) -> tuple[str, ...]:
    """Labels as a tuple of str, or "Study 1", ... when none are given.

    >>> study_labels(None, 2), study_labels(["A", 3], 2)
    (('Study 1', 'Study 2'), ('A', '3'))
    """
    if labels is None:
        return tuple(f"Study {i + 1}" for i in range(k))
    labels = tuple(str(label) for label in labels)
    if len(labels) != k:
        raise AnalysisError(f"{len(labels)} labels given for {k} studies")
    return labels


def wald_interval(yi, vi, confidence_level: float) -> tuple[np.ndarray, np.ndarray]:
    """yi ± z sqrt(vi): the per-study interval metafor's forest() draws."""
    half_width = normal_two_sided_critical(confidence_level) * np.sqrt(vi)
    return yi - half_width, yi + half_width


def summary_frame(studies: dict, pooled: dict) -> pd.DataFrame:
    """Stack study rows (``row_type="study"``, no prediction interval) and one pooled row.

    Parameters
    ----------
    studies : dict
        Column name -> one value per study (label, estimate, se, ci_lb, ci_ub,
        weight, and any extra columns).
    pooled : dict
        Column name -> the pooled row's value (the same columns plus pi_lb, pi_ub).

    Examples
    --------
    >>> frame = summary_frame(
    ...     {"label": ["A"], "estimate": [0.1], "se": [0.2], "ci_lb": [-0.3], "ci_ub": [0.5], "weight": [100.0]},
    ...     {"label": "Pooled", "estimate": 0.1, "se": 0.2, "ci_lb": -0.3, "ci_ub": 0.5, "weight": 100.0,
    ...      "pi_lb": -0.4, "pi_ub": 0.6},
    ... )
    >>> list(frame.row_type), list(frame.columns[:3])
    (['study', 'pooled'], ['label', 'row_type', 'estimate'])
    """
    study_rows = pd.DataFrame({"row_type": "study", "pi_lb": np.nan, "pi_ub": np.nan, **studies})
    pooled_row = pd.DataFrame({"row_type": ["pooled"], **{key: [value] for key, value in pooled.items()}})
    frame = pd.concat([study_rows, pooled_row], ignore_index=True)
    extra = [column for column in frame.columns if column not in SUMMARY_COLUMNS]
    return frame[list(SUMMARY_COLUMNS) + extra]


def effect_size_frame(result) -> pd.DataFrame:
    """:func:`summary_frame` for a result built on per-study ``yi``/``vi``.

    Study rows are Wald intervals from ``yi`` and ``vi`` (as metafor's
    ``forest()`` draws them) with ``result.weights``; the pooled row carries
    ``result``'s estimate, SE and CI, labelled ``result.model_label``, and its
    prediction interval where it has one (NaN otherwise: one study, or a
    fixed-effect model).
    """
    pi_lb, pi_ub = (result.pi_lb, result.pi_ub) if result.has_prediction_interval else (np.nan, np.nan)
    ci_lb, ci_ub = wald_interval(result.yi, result.vi, result.confidence_level)
    return summary_frame(
        {"label": list(result.labels), "estimate": result.yi, "se": np.sqrt(result.vi),
         "ci_lb": ci_lb, "ci_ub": ci_ub, "weight": result.weights},
        {"label": result.model_label, "estimate": result.estimate, "se": result.se,
         "ci_lb": result.ci_lb, "ci_ub": result.ci_ub, "weight": 100.0,
         "pi_lb": pi_lb, "pi_ub": pi_ub},
    )
