"""The drawing engine shared by forest, leave-one-out and cumulative plots.

Rows are laid out in inches from measured text: every column is as wide as
its widest cell, every row as tall as its tallest cell, and the figure grows
with the number of rows. The interval panel is one Axes whose y data unit is
the inch (0 at the top of the first row), so the text rows and the drawn
intervals share one vertical coordinate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, MaxNLocator, NullFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from analysis.present.plots._scale import AxisScale, finite
from analysis.present.plots._style import FONT_SIZE, MIN_FONT_SIZE, PALETTE, new_figure, text_size

# Geometry in inches (fixed for the house style, not options).
_MARGIN = 0.12
_COLUMN_GAP = 0.18
_LINE = 1.3 / 72  # line height per point of font size
_ROW_PAD = 0.45  # extra row height, as a fraction of a line
_PANEL_GAP = 0.15


@dataclass
class Row:
    """One line of a forest-style table (internal).

    kind: ``study`` (square + CI), ``pooled`` (diamond), ``prediction`` (bar),
    ``header`` (bold group title), ``note`` (text spanning the left block) or
    ``blank``. Values are axis positions (already on the axis scale).
    """

    kind: str
    label: str = ""
    cells: dict = field(default_factory=dict)
    estimate: float = math.nan
    ci_lb: float = math.nan
    ci_ub: float = math.nan
    size: float = math.nan  # relative square area (weights); NaN draws a default square
    bold: bool = False
    gid: str = "note"  # of a note's text: "note" (heterogeneity, subgroups) or "overall-test"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    align: str = "center"  # left | center | right
    side: str = "left"  # left of the panel or right of it


def _wrap(text: str, width: int | None) -> str:
    import textwrap

    if not width or len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=True))


def draw_table(rows: list[Row], columns: list[Column], scale: AxisScale, *,
               xlim=None, favours=None, title=None, plot_width=3.0, fontsize=FONT_SIZE,
               wrap=48, xlabel=None):
    """Lay out and draw ``rows``; return the Figure (see module docstring)."""
    fontsize = max(float(fontsize), MIN_FONT_SIZE)
    small = max(fontsize - 0.5, MIN_FONT_SIZE)  # notes and favours labels
    line = fontsize * _LINE
    fig = new_figure()
    left_cols, right_cols = _split_columns(columns)
    widths, left_width, right_width = _column_widths(fig, rows, left_cols, right_cols, fontsize, small, wrap)

    # Panel width: wide enough for the two "favours" labels side by side.
    fav_widths = [text_size(fig, f, small)[0] for f in (favours or ("", ""))]
    panel = max(float(plot_width), sum(fav_widths) + 0.4, 1.2)
    fig_width = (_MARGIN + left_width + _PANEL_GAP + panel
                 + (_PANEL_GAP + right_width if right_cols else 0.0) + _MARGIN)
    if title:  # a long title widens the figure rather than running off it
        fig_width = max(fig_width, text_size(fig, title, fontsize + 1, "bold")[0] + 2 * _MARGIN)

    # Row heights from line counts.
    heights = [(_line_count(r, left_cols + right_cols, wrap) + _ROW_PAD) * line if r.kind != "blank"
               else 0.5 * line for r in rows]
    header_lines = max([c.header.count("\n") + 1 for c in left_cols + right_cols] + [1])
    header_h = (header_lines + _ROW_PAD) * line
    title_h = (text_size(fig, title, fontsize + 1, "bold")[1] + 0.5 * line) if title else 0.0
    body_h = sum(heights)
    tick_h = (3.5 + 3.5) / 72 + line  # tick length + pad + label
    bottom_h = tick_h + (line * 1.2 if favours else 0.0) + line * 1.3 + _MARGIN
    fig_height = _MARGIN + title_h + header_h + body_h + bottom_h
    fig.set_size_inches(fig_width, fig_height)

    panel_left = _MARGIN + left_width + _PANEL_GAP
    ax = _panel(fig, panel_left, panel, fig_width, fig_height, bottom_h, body_h)
    trans = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    centres = np.cumsum(heights) - np.asarray(heights) / 2
    anchors = _column_anchors(left_cols, right_cols, widths, panel_left + panel + _PANEL_GAP)

    _draw_header(fig, left_cols + right_cols, anchors, header_h, trans, fontsize, fig_width)
    if title:
        fig.text(_MARGIN, fig_height - _MARGIN, title, transform=fig.dpi_scale_trans,
                 ha="left", va="top", fontsize=fontsize + 1, fontweight="bold",
                 gid="title", parse_math=False)

    # Axis limits and scale.
    ax.set_xscale(scale.axis)
    lo, hi = _limits(rows, scale, xlim)
    ax.set_xlim(lo, hi)
    _draw_rows(fig, ax, rows, centres, heights, left_cols + right_cols, anchors, trans, (lo, hi),
               fontsize, small, line, wrap)
    if scale.null is not None and lo <= scale.null <= hi:
        ax.axvline(scale.null, color=PALETTE["grey"], lw=0.8, zorder=0, gid="null-line")

    _set_ticks(ax, fig, scale, lo, hi, panel, fontsize)
    _draw_axis_labels(fig, scale, (lo, hi), panel_left, panel, fig_width, bottom_h - tick_h - 0.6 * line,
                      favours, fav_widths, xlabel, fontsize, small, line)
    return fig


def _split_columns(columns: list[Column]) -> tuple[list[Column], list[Column]]:
    """The label column and the other left-hand columns; the right-hand columns."""
    label_col = Column("label", columns[0].header if columns and columns[0].key == "label"
                       else "", "left", "left")
    other = [c for c in columns if c.key != "label"]
    return [label_col] + [c for c in other if c.side == "left"], [c for c in other if c.side == "right"]


def _cell(row: Row, col: Column, wrap) -> str:
    if col.key == "label":
        return "" if row.kind == "note" else _wrap(row.label, wrap)
    return str(row.cells.get(col.key, ""))


def _weight(row: Row, col: Column) -> str:
    return "bold" if (row.bold or row.kind in ("header", "pooled")) and col.key == "label" else "normal"


def _line_count(row: Row, cols: list[Column], wrap) -> int:
    texts = [_cell(row, c, wrap) for c in cols]
    return max([t.count("\n") + 1 for t in texts] + [1])


def _column_widths(fig, rows, left_cols, right_cols, fontsize, small, wrap) -> tuple[dict, float, float]:
    """Each column's width from its measured text; the left block (wide enough for the notes)
    and the right block."""
    widths = {}
    for col in left_cols + right_cols:
        w = text_size(fig, col.header, fontsize, "bold")[0]
        for row in rows:
            w = max(w, text_size(fig, _cell(row, col, wrap), fontsize, _weight(row, col))[0])
        widths[col.key] = w
    left_width = sum(widths[c.key] for c in left_cols) + _COLUMN_GAP * (len(left_cols) - 1)
    note_width = max([text_size(fig, r.label, small, style="italic")[0]
                      for r in rows if r.kind == "note"] or [0.0])
    if note_width > left_width:
        widths["label"] += note_width - left_width
        left_width = note_width
    right_width = (sum(widths[c.key] for c in right_cols)
                   + _COLUMN_GAP * max(len(right_cols) - 1, 0))
    return widths, left_width, right_width


def _panel(fig, panel_left, panel, fig_width, fig_height, bottom_h, body_h):
    """The plotting panel between the column blocks, y running down the rows."""
    ax = fig.add_axes([panel_left / fig_width, bottom_h / fig_height,
                       panel / fig_width, body_h / fig_height])
    ax.set_ylim(body_h, 0)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.patch.set_alpha(0)
    return ax


def _column_anchors(left_cols, right_cols, widths, right_start: float) -> dict[str, float]:
    """Each column's x anchor in inches (left block from the margin, right block after the panel)."""
    anchors = {}
    x = _MARGIN
    for col in left_cols:
        anchors[col.key] = _anchor(x, widths[col.key], col.align)
        x += widths[col.key] + _COLUMN_GAP
    x = right_start
    for col in right_cols:
        anchors[col.key] = _anchor(x, widths[col.key], col.align)
        x += widths[col.key] + _COLUMN_GAP
    return anchors


def _draw_header(fig, cols, anchors, header_h, trans, fontsize, fig_width) -> None:
    """Column headers above the rows, and the rule under them."""
    header_y = -header_h / 2
    for col in cols:
        if col.header:
            _text(fig, anchors[col.key], header_y, col.header, trans, col.align, fontsize,
                  "bold", gid=f"header:{col.key}")
    fig.add_artist(Line2D([_MARGIN, fig_width - _MARGIN], [0, 0], transform=trans,
                          color=PALETTE["black"], lw=0.6))


def _draw_rows(fig, ax, rows, centres, heights, cols, anchors, trans, limits, fontsize, small, line, wrap) -> None:
    """Every row's texts, and its mark: a square and interval (study), a diamond (pooled), a bar
    (prediction interval)."""
    lo, hi = limits
    sizes = np.array([r.size for r in rows if r.kind == "study"], dtype=float)
    max_size = np.nanmax(sizes) if np.isfinite(sizes).any() else math.nan
    side_max = min(0.75 * line, 0.16) * 72  # points
    for row, y, h in zip(rows, centres, heights):
        if row.kind == "blank":
            continue
        if row.kind == "note":
            _text(fig, _MARGIN, y, row.label, trans, "left", small,
                  "normal", gid=row.gid, style="italic")
            continue
        for col in cols:
            text = _cell(row, col, wrap)
            if text:
                _text(fig, anchors[col.key], y, text, trans, col.align, fontsize,
                      _weight(row, col), gid=f"{col.key}:{row.kind}")
        if row.kind == "study":
            _draw_interval(ax, row, y, lo, hi, fontsize)
            if lo <= row.estimate <= hi:
                rel = row.size / max_size if np.isfinite(row.size) and max_size > 0 else 0.5
                side = max(side_max * math.sqrt(max(rel, 0.0)), 3.0)
                ax.add_line(Line2D([row.estimate], [y], marker="s", markersize=side,
                                   color=PALETTE["blue"], markeredgecolor=PALETTE["black"],
                                   markeredgewidth=0.4, linestyle="none", zorder=3,
                                   clip_on=False, gid="study-square"))
        elif row.kind == "pooled":
            half = min(0.32 * h, 0.45 * line)
            verts = [(row.ci_lb, y), (row.estimate, y - half), (row.ci_ub, y),
                     (row.estimate, y + half)]
            colour = PALETTE["vermillion"] if row.bold else PALETTE["black"]
            ax.add_patch(Polygon(verts, closed=True, facecolor=colour, edgecolor=colour,
                                 zorder=3, gid="pooled-diamond"))
        elif row.kind == "prediction":
            _draw_interval(ax, row, y, lo, hi, fontsize, gid="prediction-interval",
                           lw=2.2, colour=PALETTE["grey"])


def _draw_axis_labels(fig, scale, limits, panel_left, panel, fig_width, y_fav, favours, fav_widths,
                      xlabel, fontsize, small, line) -> None:
    """The two "favours" labels either side of the null, then the axis label, below the ticks."""
    lo, hi = limits
    null_x = None
    if scale.null is not None and lo <= scale.null <= hi:
        null_x = panel_left + panel * _fraction(scale, lo, hi, scale.null)
    if favours:
        centre = null_x if null_x is not None else panel_left + panel / 2
        gap = 0.08
        left_x = max(centre - gap, _MARGIN + fav_widths[0])
        right_x = min(centre + gap, fig_width - _MARGIN - fav_widths[1])
        right_x = max(right_x, left_x + 2 * gap)
        fig.text(left_x, y_fav, favours[0], transform=fig.dpi_scale_trans, ha="right",
                 va="center", fontsize=small, gid="favours-left", parse_math=False)
        fig.text(right_x, y_fav, favours[1], transform=fig.dpi_scale_trans, ha="left",
                 va="center", fontsize=small, gid="favours-right", parse_math=False)
        y_label = y_fav - 1.2 * line
    else:
        y_label = y_fav
    label = xlabel if xlabel is not None else scale.label + (" (log scale)"
                                                             if scale.axis == "log" else "")
    fig.text(panel_left + panel / 2, y_label, label, transform=fig.dpi_scale_trans,
             ha="center", va="center", fontsize=fontsize, gid="xlabel", parse_math=False)


def _anchor(x: float, width: float, align: str) -> float:
    return {"left": x, "center": x + width / 2, "right": x + width}[align]


def _text(fig, x, y, s, trans, align, fontsize, weight, gid, style="normal"):
    va = "center_baseline" if "\n" not in s else "center"
    return fig.text(x, y, s, transform=trans, ha=align, va=va, fontsize=fontsize,
                    fontweight=weight, fontstyle=style, gid=gid, parse_math=False,
                    linespacing=1.1)


def _draw_interval(ax, row, y, lo, hi, fontsize, gid="study-ci", lw=1.0,
                   colour=PALETTE["black"]):
    if not (np.isfinite(row.ci_lb) or np.isfinite(row.ci_ub)):
        return
    a = row.ci_lb if np.isfinite(row.ci_lb) else -np.inf
    b = row.ci_ub if np.isfinite(row.ci_ub) else np.inf
    if b < lo or a > hi:
        # Entirely off the axis: an arrow at the side it lies on.
        _arrow(ax, lo if b < lo else hi, y, "<" if b < lo else ">", fontsize)
        return
    start, end = max(a, lo), min(b, hi)
    ax.add_line(Line2D([start, end], [y, y], color=colour, lw=lw, solid_capstyle="butt",
                       zorder=2, gid=gid))
    if a < lo:
        _arrow(ax, lo, y, "<", fontsize)
    if b > hi:
        _arrow(ax, hi, y, ">", fontsize)


def _arrow(ax, x, y, direction, fontsize):
    ax.add_line(Line2D([x], [y], marker=direction, markersize=0.5 * fontsize,
                       color=PALETTE["black"], linestyle="none", clip_on=False, zorder=3,
                       gid="ci-arrow"))


def _limits(rows, scale, xlim):
    if xlim is not None:
        lo, hi = (float(v) for v in xlim)
        if not lo < hi or (scale.axis == "log" and lo <= 0):
            from analysis.engine._errors import AnalysisError

            raise AnalysisError(f"xlim={xlim!r} must be increasing"
                                + (" and positive on a log axis" if scale.axis == "log" else ""))
        return lo, hi
    values = finite([v for r in rows if r.kind in ("study", "pooled", "prediction")
                     for v in (r.ci_lb, r.ci_ub, r.estimate)])
    if scale.axis == "log":
        values = values[values > 0]
    if scale.null is not None:
        values = np.append(values, scale.null)
    if values.size == 0:
        return (0.5, 2.0) if scale.axis == "log" else (-1.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    if scale.axis == "log":
        # Out to the next 1-2-5 value, so the axis ends on a labelled tick.
        nice = [m * 10.0 ** e for e in range(math.floor(math.log10(lo)) - 1,
                                             math.ceil(math.log10(hi)) + 2) for m in (1, 2, 5)]
        # The null line never sits on the axis end: its "favours" labels need room.
        lo_room = 1 - 1e-9 if scale.null is not None and math.isclose(lo, scale.null) else 1
        hi_room = 1 + 1e-9 if scale.null is not None and math.isclose(hi, scale.null) else 1
        return (max(t for t in nice if t <= lo * (1 + 1e-9) * lo_room),
                min(t for t in nice if t >= hi * (1 - 1e-9) * hi_room))
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    step = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    step = float(step[1] - step[0])
    lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    if scale.null is not None and math.isclose(lo, scale.null, abs_tol=1e-12):
        lo -= step
    if scale.null is not None and math.isclose(hi, scale.null, abs_tol=1e-12):
        hi += step
    if scale.null is None and lo >= -1e-12 and hi <= 1 + 1e-12:  # proportions
        return max(lo, 0.0), min(hi, 1.0)
    return lo, hi


def _fraction(scale, lo, hi, value):
    if scale.axis == "log":
        return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (value - lo) / (hi - lo)


def tick_label(value: float) -> str:
    """Natural-scale tick text: ``0.5``, ``1``, ``20`` (no float noise, no ``-0``).

    Examples
    --------
    >>> [tick_label(v) for v in (0.1 + 0.2, 1.0, 20.0, -0.0, 0.25)]
    ['0.3', '1', '20', '0', '0.25']
    """
    text = format(float(f"{value:.10g}"), "g")
    return "0" if text in ("-0", "0") else text


_LOG_TICK_SETS = (
    (1, 2, 5),
    (1, 3),
    (1,),
)


def _log_candidates(lo, hi):
    first, last = math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1
    for mantissas in _LOG_TICK_SETS:
        ticks = [m * 10.0 ** e for e in range(first, last + 1) for m in mantissas]
        yield sorted(t for t in ticks if lo <= t <= hi)
    for step in (2, 3, 4):
        ticks = [10.0 ** e for e in range(first, last + 1) if e % step == 0]
        yield [t for t in ticks if lo <= t <= hi]


def _linear_candidates(lo, hi):
    for nbins in (10, 8, 6, 5, 4, 3, 2, 1):
        ticks = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        yield [float(t) for t in ticks if lo - 1e-12 <= t <= hi + 1e-12]


def _set_ticks(ax, fig, scale, lo, hi, panel, fontsize):
    """Choose the densest 'nice' tick set whose measured labels do not touch."""
    tick_size = max(fontsize - 1, MIN_FONT_SIZE)
    candidates = _log_candidates(lo, hi) if scale.axis == "log" else _linear_candidates(lo, hi)
    chosen = None
    fallback = None
    for ticks in candidates:
        if len(ticks) < 2:
            if ticks and fallback is None:
                fallback = ticks
            continue
        if _ticks_fit(fig, scale, ticks, lo, hi, panel, tick_size):
            chosen = ticks
            break
    if chosen is None:
        chosen = fallback or [lo, hi]
        if scale.axis == "log":  # a narrow log range: fall back to linear 'nice' values
            for ticks in _linear_candidates(lo, hi):
                if len(ticks) >= 2 and _ticks_fit(fig, scale, ticks, lo, hi, panel, tick_size):
                    chosen = ticks
                    break
    ax.xaxis.set_major_locator(FixedLocator(chosen))
    ax.set_xticklabels([tick_label(t) for t in chosen], fontsize=tick_size)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", length=3.5, pad=3.5, width=0.8)


def _ticks_fit(fig, scale, ticks, lo, hi, panel, tick_size):
    gap = 0.06
    positions = [panel * _fraction(scale, lo, hi, t) for t in ticks]
    widths = [text_size(fig, tick_label(t), tick_size)[0] for t in ticks]
    for i in range(len(ticks) - 1):
        if positions[i + 1] - positions[i] < (widths[i] + widths[i + 1]) / 2 + gap:
            return False
    return True
