"""How a result's numbers map to a figure's x axis (scale, labels, null line)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis._errors import AnalysisError

#: Measures whose natural scale is a ratio: drawn on a log axis.
RATIO_MEASURES = frozenset({"RR", "OR", "PETO", "HR", "IRR", "ROM"})
#: Measures of a single proportion.
PROPORTION_MEASURES = frozenset({"PLO", "PFT", "PAS", "PR", "GLMM"})


@dataclass(frozen=True)
class AxisScale:
    """What the x axis shows.

    Attributes
    ----------
    axis : str
        matplotlib scale, ``"log"`` or ``"linear"``.
    to_axis : callable
        Maps values of the result's ``summary_frame()`` to axis positions
        (``exp`` for a log risk ratio; identity when the frame is already on
        the natural scale).
    null : float or None
        Position of the line of no effect, or None (proportions).
    label : str
        Axis label, e.g. ``"Risk ratio"``.
    short : str
        Column header for the estimate, e.g. ``"RR"``.
    """

    axis: str
    to_axis: Callable[[np.ndarray], np.ndarray]
    null: float | None
    label: str
    short: str

    def __call__(self, values):
        values = np.asarray(values, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.to_axis(values)


def _identity(values: np.ndarray) -> np.ndarray:
    return values


def _transforms_module():
    try:
        from analysis import transforms
    except ImportError:  # the module is written in parallel; plots must still import
        return None
    return transforms


def scale_for(measure: str | None, *, frame_is_natural: bool = False) -> AxisScale:
    """The x axis for ``measure``; ``frame_is_natural`` if values are already back-transformed.

    Ratio measures are drawn on a log axis at their natural value (exp of the
    log ratio) so tick labels read 0.5, 1, 2; proportions are drawn as
    proportions; everything else on its own linear scale.

    Examples
    --------
    >>> s = scale_for("RR")
    >>> s.axis, s.null, float(s([0.0])[0])
    ('log', 1.0, 1.0)
    >>> scale_for("MD").axis
    'linear'
    """
    measure = (measure or "GEN").upper()
    transforms = _transforms_module()
    label = short = measure
    if transforms is not None and hasattr(transforms, "measure_label"):
        try:
            label = transforms.measure_label(measure)
        except Exception:  # unknown to transforms: keep the code as label
            label = measure
    names = {"RR": "Risk ratio", "OR": "Odds ratio", "PETO": "Peto odds ratio",
             "HR": "Hazard ratio", "RD": "Risk difference", "MD": "Mean difference",
             "SMD": "Standardised mean difference", "MC": "Mean change",
             "SMCR": "Standardised mean change", "GEN": "Estimate"}
    if label == measure:
        label = names.get(measure, measure)
    if measure in RATIO_MEASURES:
        to_axis = _identity if frame_is_natural else np.exp
        return AxisScale("log", to_axis, 1.0, label, short)
    if measure in PROPORTION_MEASURES:
        if frame_is_natural:
            to_axis = _identity
        elif transforms is not None and hasattr(transforms, "back_transform"):
            def to_axis(values, _m=measure):
                return np.asarray(transforms.back_transform(values, _m), dtype=float)
        elif measure == "PLO":
            def to_axis(values):
                return 1.0 / (1.0 + np.exp(-values))
        elif measure == "PR":
            to_axis = _identity
        else:
            raise AnalysisError(
                f"measure {measure!r}: pass a result whose summary_frame() is on the "
                "proportion scale (analysis.proportions.pool_proportions)"
            )
        return AxisScale("linear", to_axis, None, "Proportion responding", "Proportion")
    return AxisScale("linear", _identity, 0.0, label, short)


def scale_of(result) -> AxisScale:
    """The x axis for a result object (meta_analysis or pool_proportions)."""
    measure = getattr(result, "measure", None)
    natural = _frame_is_natural(result)
    if natural and (measure is None or measure.upper() not in PROPORTION_MEASURES):
        measure = "PR"
    return scale_for(measure, frame_is_natural=natural)


def _frame_is_natural(result) -> bool:
    """pool_proportions' summary_frame() is on the proportion scale already."""
    return hasattr(result, "prop") or hasattr(result, "prop_ci_lb")


def finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def is_finite(value) -> bool:
    return value is not None and math.isfinite(float(value))
