"""How a result's numbers map to a figure's x axis (scale, labels, null line)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis.engine import transforms
from analysis.engine._errors import AnalysisError


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


_ALIASES = transforms.MEASURE_ALIASES


def scale_for(measure: str | None, *, frame_is_natural: bool = False) -> AxisScale:
    """The x axis for ``measure``; ``frame_is_natural`` if values are already back-transformed.

    Scale, label, null value and back-transformation come from
    :func:`analysis.engine.transforms.measure_scale`: ratio measures are drawn on a
    log axis at their natural value (exp of the log ratio) so tick labels read
    0.5, 1, 2; proportions as proportions; everything else on its own scale.
    ``measure=None`` or ``"GEN"`` (a generic outcome) is drawn as given.

    Examples
    --------
    >>> s = scale_for("RR")
    >>> s.axis, s.null, float(s([0.0])[0]), s.label
    ('log', 1.0, 1.0, 'Risk ratio')
    >>> scale_for("MD").axis
    'linear'
    """
    code = (measure or "GEN").upper()
    if code == "GEN":
        return AxisScale("linear", _identity, 0.0, "Estimate", "Estimate")
    code, label = _ALIASES.get(code, (code, None))
    try:
        info = transforms.measure_scale(code)
    except AnalysisError:
        raise AnalysisError(f"no axis scale for measure {measure!r}; known: "
                            f"{', '.join(transforms.SCALES)}, PETO, GEN") from None
    label = label or info.label
    short = "Proportion" if info.null_value is None else (measure or code).upper()
    if frame_is_natural or info.transformation == "identity":
        to_axis = _identity
    elif info.needs_ni:
        raise AnalysisError(
            f"measure {code!r} needs the studies' sample sizes to back-transform: pass the "
            "result of analysis.engine.proportions.pool_proportions, whose summary_frame() is on "
            "the proportion scale"
        )
    else:
        to_axis = info.back_transform
    return AxisScale(info.axis_scale, to_axis, info.null_value, label, short)


def analysis_scale_for(measure: str | None) -> AxisScale:
    """An axis on which straight lines of the analysis scale stay straight.

    Ratio measures keep their log axis at natural values (exp is linear on a
    log axis); measures with a curved back-transformation (PLO, PAS, PFT)
    are drawn on the analysis scale itself, e.g. "Logit proportion". Funnel
    plots need this: their contours are straight lines in (estimate, SE).

    Examples
    --------
    >>> analysis_scale_for("PLO").label, analysis_scale_for("RR").axis
    ('Logit proportion', 'log')
    """
    code = (measure or "GEN").upper()
    code = _ALIASES.get(code, (code, None))[0]
    if code in transforms.SCALES:
        info = transforms.measure_scale(code)
        if info.transformation not in ("exp", "identity"):
            return AxisScale("linear", _identity, None, info.analysis_label, code)
    return scale_for(measure)


def scale_of(result) -> AxisScale:
    """The x axis for a result object (meta_analysis or pool_proportions)."""
    if _frame_is_natural(result):
        return scale_for("PR", frame_is_natural=True)
    return scale_for(getattr(result, "measure", None))


def _frame_is_natural(result) -> bool:
    """Whether the result's summary_frame() is on the natural scale already (proportions)."""
    return result.summary_frame_scale == "natural"


def finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def is_finite(value) -> bool:
    return value is not None and math.isfinite(float(value))


def refit_values(frame, result=None, measure: str | None = None):
    """The axis of a leave-one-out or cumulative frame and the values it draws.

    Parameters
    ----------
    frame : pandas.DataFrame
        As ``analysis.sensitivity.leave_one_out`` or ``cumulative`` return it.
    result : pooled result, optional
        The fit with every study.
    measure : str, optional
        The scale when neither ``result`` nor ``frame.attrs`` names it.

    Returns
    -------
    scale : AxisScale
    refits : pandas.DataFrame
        ``estimate, ci_lb, ci_ub`` of each refit, as ``scale`` takes them: the refits' own
        back-transformed ``natural_*`` columns when the frame has them (a Freeman-Tukey
        refit is back-transformed with its own studies' sample sizes), else the analysis
        scale.
    pooled : tuple of float or None
        The full fit's estimate and CI on the same footing (None without ``result``).
    """
    names = ("estimate", "ci_lb", "ci_ub")
    natural = all(f"natural_{name}" in frame.columns for name in names)
    scale = scale_for(getattr(result, "measure", None) or measure or frame.attrs.get("measure"),
                      frame_is_natural=natural)
    refits = frame[[f"natural_{name}" if natural else name for name in names]].set_axis(
        list(names), axis=1)
    pooled = None
    if result is not None:
        full = result.natural() if natural else result
        pooled = (full.estimate, full.ci_lb, full.ci_ub)
    return scale, refits, pooled
