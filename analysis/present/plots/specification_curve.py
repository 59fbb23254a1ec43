"""The specification curve of a multiverse (Simonsohn, Simmons & Nelson 2020).

Top: every estimable specification's estimate, sorted, with its interval, the
reference line (the 50 % mark of a response rate, or no effect) and the plan's own
specification highlighted. Beneath: one row per value of each choice, with a mark
where a specification made that choice. The thousands of marks and intervals are
rasterised inside the SVG (text and axes stay vectors), which keeps the file small. Everything is read from the multiverse's
frame (:meth:`analysis.review.multiverse.Multiverse.curve`); nothing is refitted.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, NullFormatter

from analysis.engine.formatting import format_number
from analysis.review.multiverse import value_label
from analysis.present.plots._style import FONT_SIZE, MIN_FONT_SIZE, PALETTE, new_figure

#: Colour of an interval by where it lies against the reference value.
SIDE_COLOURS = {"above": PALETTE["blue"], "below": PALETTE["vermillion"], "includes": PALETTE["grey"]}
_SIDE_WORDS = {"above": "above the reference", "below": "below the reference", "includes": "includes it"}
#: Ticks of a ratio axis (log scale), those inside the data's range.
RATIO_TICKS = (0.01, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 100.0, 1000.0)
#: Height of one row of the choice panel, in inches.
PANEL_ROW_INCHES = 0.15


def panel_rows(universe, curve) -> list[tuple[str, str, np.ndarray]]:
    """``(choice, value, marks)`` per row of the choice panel (:meth:`Multiverse.by_choice`):
    ``marks`` is a boolean per specification of ``curve`` (in its order)."""
    measure = curve["measure"].iloc[0] if universe.outcome == "controlled" and len(curve) else None
    return [(choice, value, curve.index.isin(rows.index)) for choice, value, rows in universe.by_choice(measure)]


def specification_curve_plot(universe, *, measure: str | None = None, width: float = 7.5,
                             fontsize: float = FONT_SIZE):
    """Specification curve with the choice panel beneath.

    Parameters
    ----------
    universe : analysis.review.multiverse.Multiverse
    measure : str, optional
        Controlled comparisons: which measure's curve (default the base plan's).
    width : float
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes. Top: intervals (``LineCollection`` ``intervals``), estimates (``estimates``,
        x = rank 1..N), the reference line (``reference``) and the plan's own
        specification (``default``, when it is on the curve). Bottom: marks (``choices``)
        with one y tick label per choice value.

    Examples
    --------
    >>> from analysis.data import load_studies
    >>> from analysis.review.multiverse import Model, multiverse
    >>> universe = multiverse(load_studies(), choices={"model": [Model("PLO", "DL", "z")], "left_out": [False]})
    >>> fig = specification_curve_plot(universe)
    >>> estimates = next(c for c in fig.axes[0].collections if c.get_gid() == "estimates")
    >>> len(estimates.get_offsets()) == len(universe.curve())
    True
    """
    curve = universe.curve(measure)
    outcome = universe.outcome
    rows = panel_rows(universe, curve)
    n = len(curve)
    rank = np.arange(1, n + 1)
    top_inches = 2.6
    fig = new_figure(width, top_inches + PANEL_ROW_INCHES * len(rows) + 0.9)
    grid = fig.add_gridspec(2, 1, height_ratios=[top_inches, PANEL_ROW_INCHES * max(len(rows), 1)], hspace=0.12)
    top = fig.add_subplot(grid[0])
    panel = fig.add_subplot(grid[1], sharex=top)

    colours = [SIDE_COLOURS[side] for side in curve["side"]]
    segments = np.stack([np.column_stack([rank, curve["ci_lb"]]), np.column_stack([rank, curve["ci_ub"]])], axis=1)
    top.add_collection(LineCollection(segments, colors=colours, linewidths=0.6, alpha=0.6, gid="intervals",
                                   rasterized=True))
    top.scatter(rank, curve["estimate"], s=4, color=PALETTE["black"], zorder=3, gid="estimates", rasterized=True)
    reference = float(curve["reference"].iloc[0]) if n else float(universe.to_frame()["reference"].iloc[0])
    top.axhline(reference, color=PALETTE["black"], linestyle="--", linewidth=0.8, gid="reference")
    default = np.flatnonzero(curve["is_default"].to_numpy()) if n else []
    if len(default):
        i = default[0]
        top.errorbar([rank[i]], [curve["estimate"].iloc[i]],
                     yerr=[[curve["estimate"].iloc[i] - curve["ci_lb"].iloc[i]],
                           [curve["ci_ub"].iloc[i] - curve["estimate"].iloc[i]]],
                     fmt="D", color=PALETTE["orange"], markeredgecolor=PALETTE["black"], markersize=6,
                     elinewidth=2, zorder=4, gid="default", label="the plan's primary analysis")
    handles = [Line2D([], [], color=colour, linewidth=1.5, label=f"interval {_SIDE_WORDS[side]}")
               for side, colour in SIDE_COLOURS.items() if (curve["side"] == side).any()]
    legend = top.legend(handles=[*top.get_legend_handles_labels()[0], *handles], fontsize=MIN_FONT_SIZE,
                        frameon=True, loc="upper left", framealpha=0.9, edgecolor="none")
    legend.set_zorder(5)
    is_proportion = outcome == "response_rate"
    if is_proportion:
        top.set_ylim(0, 1)
        top.yaxis.set_major_formatter(lambda value, _: f"{100 * value:.0f}%")
        top.set_ylabel("Pooled response rate", fontsize=fontsize)
    else:
        scale = curve["measure"].iloc[0] if n else universe.base.measure
        if scale in ("RR", "OR"):
            top.set_yscale("log")
            low, high = top.get_ylim()
            top.set_yticks([t for t in RATIO_TICKS if low <= t <= high],
                           [format_number(t, 2 if t < 1 else 0) for t in RATIO_TICKS if low <= t <= high])
            top.yaxis.set_minor_formatter(NullFormatter())
        top.set_ylabel(value_label("measure", scale), fontsize=fontsize)
    top.set_xlim(0.5, n + 0.5)
    top.set_xticks([t for t in MaxNLocator(8, integer=True).tick_values(1, n) if 1 <= t <= n])
    top.tick_params(labelbottom=False, labelsize=MIN_FONT_SIZE)

    labels = []
    for y, (choice, value, marks) in enumerate(rows):
        x = rank[marks]
        panel.scatter(x, np.full(x.size, y), marker="|", s=12, linewidths=0.7, color=PALETTE["black"], gid="choices",
                      rasterized=True)
        labels.append(f"{choice}: {value}")
    panel.set_yticks(range(len(rows)), labels, fontsize=MIN_FONT_SIZE)
    panel.set_ylim(len(rows) - 0.5, -0.5)
    panel.set_xlabel("Specifications, sorted by estimate", fontsize=fontsize)
    panel.tick_params(labelsize=MIN_FONT_SIZE)
    for ax in (top, panel):
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.42, right=0.95, top=0.98, bottom=0.9 / fig.get_size_inches()[1] * 0.8)
    return fig
