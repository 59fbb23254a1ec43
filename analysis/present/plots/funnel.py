"""Contour-enhanced funnel plot (metafor's ``funnel(res, level=c(90, 95, 99), shade=...)``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from analysis.engine._distributions import normal_upper_quantile
from analysis.engine._errors import AnalysisError
from analysis.present.plots._scale import analysis_scale_for
from analysis.present.plots._style import FONT_SIZE, MIN_FONT_SIZE, PALETTE, new_figure, text_size
from analysis.present.plots._table import _set_ticks

#: Shades from the innermost band outwards (metafor's example uses white, gray55, gray75).
_SHADES = ("#FFFFFF", "#8C8C8C", "#BFBFBF", "#E0E0E0", "#EDEDED")


def funnel_plot(result, contours: Sequence[float] | None = (0.90, 0.95, 0.99), *,
                trim_and_fill=None, refline: float | None = None, legend: bool = True,
                title: str | None = None, width: float = 5.5, height: float = 4.2,
                fontsize: float = FONT_SIZE):
    """Funnel plot of study estimates against their standard errors.

    Parameters
    ----------
    result : MetaAnalysisResult or ProportionResult
        Points are the study rows of ``summary_frame()`` (``estimate``, ``se``);
        the dashed vertical line is the pooled estimate of this model, and the
        legend names it by the result's ``model_label``
        (:func:`reference_line_label`). A proportions result is drawn from its
        underlying inverse-variance fit (``result.pooled``, on the model
        scale); a GLMM has none and is refused.
    contours : sequence of float or None
        Confidence levels of the significance contours, as metafor's
        ``level=c(90, 95, 99)``: the region where a study's two-sided p-value
        against ``refline`` is above 0.10 is white, 0.05-0.10 dark grey,
        0.01-0.05 light grey, below 0.01 the background. None draws the
        classic pseudo-confidence funnel around the pooled estimate instead
        (at the result's confidence level).
    trim_and_fill : TrimFillResult, optional
        From :func:`analysis.engine.small_study.trim_and_fill`: the studies it imputes
        (``filled`` rows of its ``fit.summary_frame()``) are drawn as open
        circles, as metafor's ``funnel(trimfill(res))``.
    refline : float, optional
        Centre of the contours on the analysis scale; default the measure's
        null (0), as in metafor's contour-enhanced example (``refline=0``).
    legend : bool
        Explain the shades (to the right of the panel).

    Returns
    -------
    matplotlib.figure.Figure
        Artists tagged ``study-point``, ``filled-point``, ``pooled-line``,
        ``contour-<level>`` (one polygon per level) and ``funnel`` (no contours).
        The legend's title says what the contours' p-values are against
        (:func:`contour_title`), or names the pseudo-confidence limits.

    Notes
    -----
    The y axis is the standard error, 0 at the top, as metafor draws it. The
    contour at level L runs through ``refline ± z_{(1+L)/2} x SE``. Ratio
    measures are drawn on a log axis at natural values; proportions on their
    model scale (e.g. logit), where the contours are straight. Proportions
    have no null value, so their contours are centred on the pooled estimate
    (the shades then show how far each study lies from it) unless ``refline``
    is given.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.4, -0.2, 0.6], [0.04, 0.1, 0.02, 0.2], measure="OR")
    >>> fig = funnel_plot(res)
    >>> len([a for a in fig.axes[0].get_children() if a.get_gid() == "study-point"])
    4
    """
    fit = _inverse_variance_fit(result)
    scale = analysis_scale_for(getattr(fit, "measure", None))
    frame = fit.summary_frame()
    studies = frame[frame["row_type"] == "study"]
    pooled = frame[frame["row_type"] == "pooled"].iloc[0]
    yi = studies["estimate"].to_numpy(float)
    sei = studies["se"].to_numpy(float)
    filled = _filled_studies(trim_and_fill)
    all_se = np.concatenate([sei, filled[1]]) if filled is not None else sei
    all_y = np.concatenate([yi, filled[0]]) if filled is not None else yi
    se_max = float(np.nanmax(all_se)) * 1.05 if np.isfinite(all_se).any() else 1.0

    fontsize = max(float(fontsize), MIN_FONT_SIZE)
    fig = new_figure(width, height)
    small = max(fontsize - 1, MIN_FONT_SIZE)
    line_label = reference_line_label(result)
    legend_title = contour_title(result, refline) if contours else None
    legend_width = max(text_size(fig, t, small)[0] for t in (
        "Filled study (trim and fill)", "0.01 < p ≤ 0.05", *line_label.split("\n"),
        *(legend_title or "").split("\n"))) + 0.5
    right = 1 - (legend_width + 0.2) / width if legend else 0.95
    if right < 0.45:
        raise AnalysisError(f"width={width} inches leaves no room for the legend; "
                            "use a wider figure or legend=False")
    ax = fig.add_axes([0.13, 0.14, right - 0.13, 0.74 if title else 0.80])
    if refline is not None:
        centre = float(refline)
    elif scale.null is not None:
        centre = 0.0  # the null on the analysis scale (log 1 = 0, difference 0)
    else:
        centre = float(pooled["estimate"])  # proportions have no null

    x_extent = [np.nanmin(all_y), np.nanmax(all_y), float(pooled["estimate"])]
    if contours:
        handles, (lo, hi) = _draw_contours(ax, scale, contours, centre, se_max, x_extent)
    else:
        level = float(getattr(fit, "confidence_level", 0.95))
        handles, (lo, hi) = _draw_pseudo_confidence(ax, scale, level, float(pooled["estimate"]), se_max, x_extent)

    ax.add_line(Line2D([float(scale([pooled["estimate"]])[0])] * 2, [0, se_max],
                       color=PALETTE["black"], lw=1.0, ls=(0, (4, 2)), zorder=2,
                       gid="pooled-line"))
    for x, y in zip(scale(yi), sei):
        ax.add_line(Line2D([x], [y], marker="o", markersize=5.5, color=PALETTE["blue"],
                           markeredgecolor=PALETTE["black"], markeredgewidth=0.5,
                           linestyle="none", zorder=3, gid="study-point", clip_on=False))
    if filled is not None:
        for x, y in zip(scale(filled[0]), filled[1]):
            ax.add_line(Line2D([x], [y], marker="o", markersize=5.5, color="white",
                               markeredgecolor=PALETTE["black"], markeredgewidth=0.8,
                               linestyle="none", zorder=3, gid="filled-point", clip_on=False))
        handles.append(Line2D([], [], marker="o", color="white", markeredgecolor="black",
                              linestyle="none", label="Filled study (trim and fill)"))
    handles.append(Line2D([], [], color=PALETTE["black"], lw=1.0, ls=(0, (4, 2)),
                          label=line_label))
    ax.set_xlim(lo, hi)
    ax.set_ylim(se_max, 0)
    _set_ticks(ax, fig, scale, lo, hi, ax.get_position().width * width, fontsize)
    ax.tick_params(axis="y", labelsize=max(fontsize - 1, MIN_FONT_SIZE))
    ax.set_ylabel("Standard error", fontsize=fontsize)
    xlabel = scale.label + (" (log scale)" if scale.axis == "log" else "")
    ax.set_xlabel(xlabel, fontsize=fontsize)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if legend:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  fontsize=max(fontsize - 1, MIN_FONT_SIZE), frameon=False,
                  title=legend_title, alignment="left",
                  title_fontsize=max(fontsize - 1, MIN_FONT_SIZE))
    if title:
        fig.text(0.02, 0.97, title, ha="left", va="top", fontsize=fontsize + 1,
                 fontweight="bold", parse_math=False)
    return fig



def _draw_contours(ax, scale, contours, centre: float, se_max: float, x_extent: list) -> tuple[list, tuple]:
    """Significance contours around ``centre``, widest first; their legend handles and x limits."""
    levels = sorted(float(level) for level in contours)
    if any(not 0 < level < 1 for level in levels):
        raise AnalysisError("contours are confidence levels between 0 and 1, "
                            "e.g. (0.90, 0.95, 0.99)")
    z = normal_upper_quantile((1 - np.asarray(levels)) / 2)
    limits = _padded(scale, [*x_extent, centre - z[-1] * se_max * 1.15, centre + z[-1] * se_max * 1.15])
    ax.set_xscale(scale.axis)
    ax.set_facecolor(_SHADES[len(levels)] if len(levels) < len(_SHADES) else "#EDEDED")
    # Widest band first, each narrower band painted over it.
    for index in range(len(levels) - 1, -1, -1):
        half = z[index] * se_max
        verts = [(centre, 0.0), (centre - half, se_max), (centre + half, se_max)]
        verts = [(float(scale([x])[0]), y) for x, y in verts]
        ax.add_patch(Polygon(verts, closed=True, facecolor=_SHADES[index],
                             edgecolor="none", zorder=0, gid=f"contour-{levels[index]:g}"))
    bounds = [1 - levels[0]] + [1 - lv for lv in levels]
    labels = [f"p > {bounds[0]:.2f}"]
    labels += [f"{1 - levels[i + 1]:.2f} < p ≤ {1 - levels[i]:.2f}"
               for i in range(len(levels) - 1)]
    labels += [f"p ≤ {1 - levels[-1]:.2f}"]
    colours = list(_SHADES[:len(levels)]) + [ax.get_facecolor()]
    handles = [Patch(facecolor=c, edgecolor=PALETTE["grey"], linewidth=0.5, label=t)
               for c, t in zip(colours, labels)]
    return handles, limits


def _draw_pseudo_confidence(ax, scale, level: float, estimate: float, se_max: float,
                            x_extent: list) -> tuple[list, tuple]:
    """The classic funnel: pseudo-confidence limits around the pooled estimate."""
    zc = normal_upper_quantile((1 - level) / 2)
    limits = _padded(scale, [*x_extent, estimate - zc * se_max, estimate + zc * se_max])
    ax.set_xscale(scale.axis)
    ses = np.array([0.0, se_max])
    for sign in (-1, 1):
        ax.add_line(Line2D(scale(estimate + sign * zc * ses), ses, color=PALETTE["grey"],
                           lw=0.8, ls="--", gid="funnel"))
    handles = [Line2D([], [], color=PALETTE["grey"], lw=0.8, ls="--",
                      label=f"{100 * level:g}% pseudo-confidence\nlimits")]
    return handles, limits

def reference_line_label(result) -> str:
    """The legend text of the vertical line: the pooled estimate of the model drawn.

    >>> from analysis.engine.proportions import pool_proportions
    >>> print(reference_line_label(pool_proportions([8, 17, 13], [12, 29, 34], method="PLO")))
    Pooled estimate
    (RE Model (REML, PLO))
    """
    return f"Pooled estimate\n({result.model_label})"


def contour_title(result, refline: float | None = None) -> str:
    """What the contours' p-values test: a study's estimate against ``refline``, the null
    (no effect) or, for proportions, which have none, the pooled estimate."""
    fit = _inverse_variance_fit(result)
    if refline is not None:
        against = f"{refline:g}"
    elif analysis_scale_for(getattr(fit, "measure", None)).null is not None:
        against = "no effect"
    else:
        against = "the pooled estimate"
    return f"Contours: a study's p-value\nagainst {against}"


def _inverse_variance_fit(result):
    if hasattr(result, "prop"):
        if getattr(result, "pooled", None) is None:
            raise AnalysisError("a GLMM has no inverse-variance fit to draw a funnel from; "
                                "pool the proportions with method='PLO' for a funnel plot")
        return result.pooled
    if not hasattr(result, "summary_frame"):
        raise AnalysisError("funnel_plot needs a result from analysis.engine.pooling.meta_analysis")
    return result


def _filled_studies(trim_and_fill):
    """Estimates and SEs of the imputed studies of a ``TrimFillResult``."""
    if trim_and_fill is None:
        return None
    fit, mask = getattr(trim_and_fill, "fit", None), getattr(trim_and_fill, "filled", None)
    if fit is None or mask is None:
        raise AnalysisError("trim_and_fill must be the result of "
                            "analysis.engine.small_study.trim_and_fill")
    frame = fit.summary_frame()
    studies = frame[frame["row_type"] == "study"]
    mask = np.asarray(mask, dtype=bool)
    if mask.size != len(studies):
        raise AnalysisError("trim_and_fill.filled must mark each study of trim_and_fill.fit")
    return studies["estimate"].to_numpy(float)[mask], studies["se"].to_numpy(float)[mask]


def _padded(scale, values):
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    lo, hi = float(values.min()), float(values.max())
    pad = 0.04 * (hi - lo) if hi > lo else 0.5
    return tuple(float(v) for v in scale([lo - pad, hi + pad]))
