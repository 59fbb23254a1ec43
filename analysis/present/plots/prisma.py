"""PRISMA 2020 flow diagram (new reviews with databases, registers and other sources).

Two columns, as the PRISMA 2020 template draws them: identification via databases and
registers on the left, via other methods on the right, each with its exclusions beside it,
joining in the included studies at the bottom. The counts are the flow of
:meth:`analysis.review.evidence_base.EvidenceBase.flow` (``data/prisma.csv`` plus the reports not
retrieved and excluded, counted from their data files); reasons are printed as their reader
labels, punctuation included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from analysis.engine._errors import AnalysisError
from analysis.present.plots._style import FONT_SIZE, MIN_FONT_SIZE, PALETTE, new_figure, text_size

#: Stage -> the box's words (the count and unit follow: "(n = 95 reports)").
STAGE_TEXT = {
    "identified_databases": "Records identified from databases and registers",
    "identified_other_sources": "Records identified from other methods",
    "duplicates_removed": "Records removed before screening: duplicates",
    "records_screened": "Records screened",
    "excluded_at_screening": "Records excluded",
    "reports_sought_for_retrieval": "Reports sought for retrieval",
    "reports_not_retrieved": "Reports not retrieved",
    "reports_assessed_for_eligibility": "Reports assessed for eligibility",
    "reports_excluded": "Reports excluded",
    "registered_studies_without_results": "Ongoing studies: registered, no results yet",
    "included_qualitative_synthesis": "Studies included in review",
    "included_reports": "Reports of included studies",
    "included_quantitative_synthesis": "Studies in the pooled response rate",
    "included_quantitative_controlled": "Studies in the controlled comparison",
}

#: The two columns: route code and heading.
ROUTES = (("databases_registers", "Identification of studies via databases and registers"),
          ("other_methods", "Identification of studies via other methods"))

#: Rows of the two columns: (phase, main-box stages, side-box stages).
ROWS = (
    ("Identification", ("identified_databases", "identified_other_sources"), ("duplicates_removed",)),
    ("Screening", ("records_screened",), ("excluded_at_screening",)),
    ("Screening", ("reports_sought_for_retrieval",), ("reports_not_retrieved",)),
    ("Screening", ("reports_assessed_for_eligibility",),
     ("reports_excluded", "registered_studies_without_results")),
)

#: The boxes of the included studies, top to bottom (stages sharing a box are one tuple).
INCLUDED = (("included_qualitative_synthesis", "included_reports"),
            ("included_quantitative_synthesis",), ("included_quantitative_controlled",))

#: Stages whose reasons are listed under their count.
REASONS_SHOWN = {"identified_other_sources", "duplicates_removed", "excluded_at_screening",
                 "reports_not_retrieved", "reports_excluded"}

#: Box widths in inches: main and side box of each column (narrow enough for a phone).
_WIDTHS = {"databases_registers": (1.35, 1.65), "other_methods": (1.15, 1.15)}
_TOKENS = re.compile(r"\(n = [^)]*\)|\S+")  # a count is never broken across lines
_PAD = 0.07
_GAP_X = 0.2
_GAP_COLUMNS = 0.22
_GAP_Y = 0.24
_GAP_SIDE = 0.1
_PHASE_W = 0.3
_MARGIN = 0.1


def stage_totals(flow: pd.DataFrame) -> pd.DataFrame:
    """Total count and unit per route and stage (rows of one stage are its reasons and add up).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"stage": ["duplicates_removed"] * 2, "count": [3, 4],
    ...                   "unit": ["records"] * 2})
    >>> stage_totals(t)[["route", "stage", "count"]].values.tolist()
    [['databases_registers', 'duplicates_removed', 7]]
    """
    missing = [c for c in ("stage", "count", "unit") if c not in flow.columns]
    if missing:
        raise AnalysisError(f"the PRISMA table lacks columns {missing} (see data/prisma.csv)")
    unknown = sorted(set(flow["stage"].astype(str)) - set(STAGE_TEXT))
    if unknown:
        raise AnalysisError(f"unknown PRISMA stages {unknown}; known: {', '.join(STAGE_TEXT)}")
    flow = _with_routes(flow)
    grouped = flow.groupby(["route", "stage"], sort=False)
    units = grouped["unit"].nunique()
    if (units > 1).any():
        raise AnalysisError(f"stages {sorted(s for _, s in units[units > 1].index)} mix units")
    return grouped.agg(count=("count", "sum"), unit=("unit", "first")).reset_index()


def _with_routes(flow: pd.DataFrame) -> pd.DataFrame:
    """The flow with string columns; a table without routes is all databases and registers."""
    flow = flow.assign(stage=flow["stage"].astype(str), unit=flow["unit"].astype(str))
    route = flow["route"].astype(object) if "route" in flow else pd.Series("", index=flow.index)
    route = route.where(route.notna() & (route != ""), "")
    included = flow["stage"].isin([s for box in INCLUDED for s in box])
    return flow.assign(route=route.mask(~included & (route == ""), ROUTES[0][0]).astype(str))


def _count(count: int, unit: str) -> str:
    if count == 1:
        unit = "study" if unit == "studies" else unit.removesuffix("s")
    return f"(n = {count} {unit})"


def stage_texts(flow: pd.DataFrame, reasons: bool = True) -> dict[tuple[str, str], list[str]]:
    """Lines of each box: ``(route, stage) -> [heading with count, "• reason (n = k)", ...]``.

    Reasons are the flow's ``reason_label`` (else ``reason``) as written, punctuation intact.
    """
    flow = _with_routes(flow)
    texts = {}
    for row in stage_totals(flow).itertuples(index=False):
        lines = [f"{STAGE_TEXT[row.stage]} {_count(int(row.count), row.unit)}"]
        if reasons and row.stage in REASONS_SHOWN:
            rows = flow[(flow["stage"] == row.stage) & (flow["route"] == row.route)]
            for _, r in rows.iterrows():
                label = _reason(r)
                if label:
                    lines.append(f"• {label} (n = {int(r['count'])})")
        texts[(row.route, row.stage)] = lines
    return texts


def _reason(row) -> str:
    for column in ("reason_label", "reason"):
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _wrap(lines: list[str], width: float, fontsize: float, weight: str = "normal") -> str:
    """Word-wrap each line to ``width`` inches (measured); breaks only at spaces."""
    out = []
    for line in lines:
        indent = "   " if line.startswith("• ") else ""
        current = ""
        for word in _TOKENS.findall(line):
            trial = f"{current} {word}" if current else word
            if current and text_size(None, trial, fontsize, weight)[0] > width:
                out.append(current)
                current = indent + word
            else:
                current = trial
        out.append(current)
    return "\n".join(out)


def prisma_plot(flow: pd.DataFrame, *, title: str | None = None, fontsize: float = FONT_SIZE,
                reasons: bool = True):
    """PRISMA 2020 flow diagram in the two-column layout.

    Parameters
    ----------
    flow : pandas.DataFrame
        The flow (``EvidenceBase.flow()``; columns ``stage, count, unit`` and optionally
        ``route``, ``reason``, ``reason_label``): one row per stage, route and reason; a
        stage's total is the sum of its rows. Without ``route`` every stage is in the
        databases-and-registers column.
    title : str, optional
    fontsize : float
    reasons : bool
        List each reason with its count in the exclusion boxes.

    Returns
    -------
    matplotlib.figure.Figure
        Boxes are patches with gid ``box:<route>:<stage>`` (the included boxes
        ``box:included:<stage>``); their texts carry gid ``text:<route>:<stage>`` and
        start with the stage's words and ``(n = <total> <unit>)``. Arrows carry gid ``arrow``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"stage": ["records_screened", "excluded_at_screening",
    ...                                 "included_qualitative_synthesis"],
    ...                       "count": [12, 9, 3], "unit": ["reports", "reports", "studies"],
    ...                       "reason_label": ["", "Off-topic: no ketamine", ""]})
    >>> fig = prisma_plot(table)
    >>> [" ".join(t.get_text().split()) for t in fig.texts
    ...  if t.get_gid() == "text:databases_registers:excluded_at_screening"]
    ['Records excluded (n = 9 reports) • Off-topic: no ketamine (n = 9)']
    """
    fontsize = max(float(fontsize), MIN_FONT_SIZE)
    texts = stage_texts(flow, reasons)
    routes = [route for route, _ in ROUTES if any(key[0] == route for key in texts)]
    columns = _columns(routes)
    rows = _measure_rows(texts, routes, columns, fontsize)
    included_w = _span(columns[routes[0]])
    included = [_Box(f"included:{box[0]}", _wrap([line for s in box if ("", s) in texts for line in texts[("", s)]],
                                                 included_w - 2 * _PAD, fontsize), fontsize)
                for box in INCLUDED if any(("", s) in texts for s in box)]
    headings = [_Box(f"heading:{route}", _wrap([heading], _span(columns[route]) - 2 * _PAD, fontsize, "bold"),
                     fontsize, "bold") for route, heading in ROUTES if route in routes]
    heading_h = max(b.height for b in headings)
    title_h = text_size(None, title, fontsize + 1, "bold")[1] + 0.12 if title else 0.0
    width = max(column[0] + _span(column) for column in columns.values()) + _MARGIN
    height = (2 * _MARGIN + title_h + heading_h + _GAP_Y * (len(rows) + 1) + sum(r.height for r in rows)
              + sum(b.height for b in included) + _GAP_Y * max(len(included) - 1, 0))
    fig = new_figure(width, height)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")

    y = height - _MARGIN
    if title:
        ax.text(_MARGIN, y, title, ha="left", va="top", fontsize=fontsize + 1, fontweight="bold",
                parse_math=False)
        y -= title_h
    for route, box in zip(routes, headings):
        box.draw(ax, columns[route][0], y - heading_h, _span(columns[route]), PALETTE["light_grey"],
                 height=heading_h, fill=PALETTE["light_grey"])
    y -= heading_h + _GAP_Y
    phases: dict[str, list[float]] = {}
    last = {}  # bottom of the last main box of each column, where its next arrow starts
    for row in rows:
        for route, (main, side) in row.cells.items():
            _draw_cell(ax, y, columns[route], main, side, last, route)
        phases.setdefault(row.phase, []).extend([y, y - row.height])
        y -= row.height + _GAP_Y
    _draw_included(ax, y, included, routes, columns, last, included_w, phases)
    _draw_phases(ax, phases, fontsize)
    return fig


@dataclass(frozen=True)
class _Box:
    """A box's key (``<route>:<stage>``), wrapped text and height."""

    key: str
    text: str
    fontsize: float
    weight: str = "normal"

    @property
    def height(self) -> float:
        return text_size(None, self.text, self.fontsize, self.weight)[1] + 2 * _PAD

    def draw(self, ax, x, y, w, colour, *, height=None, fill="white"):
        h = self.height if height is None else height
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.04",
                                    facecolor=fill, edgecolor=colour, linewidth=1.0, gid=f"box:{self.key}"))
        ax.figure.text(x + _PAD, y + h / 2, self.text, transform=ax.figure.dpi_scale_trans, ha="left",
                       va="center", fontsize=self.fontsize, gid=f"text:{self.key}", parse_math=False,
                       linespacing=1.2, fontweight=self.weight)


@dataclass(frozen=True)
class _Row:
    """One row of the two columns: its phase, per route the main box and side boxes, its height."""

    phase: str
    cells: dict
    height: float


def _columns(routes: list[str]) -> dict[str, tuple[float, float, float, float]]:
    """Per route: x of the main box, its width, x of the side boxes, their width (inches)."""
    x, columns = _MARGIN + _PHASE_W + 0.08, {}
    for route in routes:
        main_w, side_w = _WIDTHS[route]
        columns[route] = (x, main_w, x + main_w + _GAP_X, side_w)
        x += main_w + _GAP_X + side_w + _GAP_COLUMNS
    return columns


def _measure_rows(texts, routes, columns, fontsize) -> list[_Row]:
    """The rows of :data:`ROWS` that have a box, with their wrapped texts and heights."""
    rows = []
    for phase, main_stages, side_stages in ROWS:
        cells = {}
        for route in routes:
            _, main_w, _, side_w = columns[route]
            stages = [s for s in main_stages if (route, s) in texts]
            main = (_Box(f"{route}:{stages[0]}", "\n".join(_wrap(texts[(route, s)], main_w - 2 * _PAD, fontsize)
                                                             for s in stages), fontsize) if stages else None)
            side = [_Box(f"{route}:{s}", _wrap(texts[(route, s)], side_w - 2 * _PAD, fontsize), fontsize)
                    for s in side_stages if (route, s) in texts]
            if main or side:
                cells[route] = (main, side)
        if cells:
            height = max(max(main.height if main else 0, sum(b.height for b in side) + _GAP_SIDE * max(len(side) - 1, 0))
                         for main, side in cells.values())
            rows.append(_Row(phase, cells, height))
    return rows


def _draw_cell(ax, y, column, main, side, last, route):
    """A row's main box (with the arrow from the box above) and its side boxes (arrows to them)."""
    x_main, main_w, x_side, side_w = column
    centre = x_main + main_w / 2
    bottom = y
    if main:
        main.draw(ax, x_main, y - main.height, main_w, PALETTE["blue"])
        if route in last:
            _arrow(ax, (centre, last[route]), (centre, y))
        bottom = last[route] = y - main.height
    top = y
    for box in side:
        box.draw(ax, x_side, top - box.height, side_w, PALETTE["grey"])
        level = top - box.height / 2
        # level with the main box: from its edge; below it: from the flow line leaving it
        _arrow(ax, (x_main + main_w if level >= bottom else centre, level), (x_side, level))
        top -= box.height + _GAP_SIDE


def _draw_included(ax, y, boxes, routes, columns, last, width, phases):
    """The included boxes under the first column; the other columns join the first by an elbow."""
    x_main, main_w, _, _ = columns[routes[0]]
    centre = x_main + main_w / 2
    for i, box in enumerate(boxes):
        box.draw(ax, x_main, y - box.height, width, PALETTE["bluish_green"])
        _arrow(ax, (centre, last.get(routes[0], y + _GAP_Y)), (centre, y))
        if i == 0:
            for route in routes[1:]:
                if route in last:
                    x_other, w_other, _, _ = columns[route]
                    _arrow(ax, (x_other + w_other / 2, last[route]), (x_main + width, y - box.height / 2),
                           connection="angle,angleA=90,angleB=0,rad=0")
        last[routes[0]] = y - box.height
        phases.setdefault("Included", []).extend([y, y - box.height])
        y -= box.height + _GAP_Y


def _draw_phases(ax, phases, fontsize):
    """The phase bands at the left, each as tall as its rows, with its rotated name."""
    for phase, ys in phases.items():
        lo, hi = min(ys), max(ys)
        ax.add_patch(FancyBboxPatch((_MARGIN, lo), _PHASE_W, hi - lo,
                                    boxstyle="round,pad=0,rounding_size=0.05",
                                    facecolor=PALETTE["sky_blue"], edgecolor="none",
                                    gid=f"phase:{phase}"))
        ax.text(_MARGIN + _PHASE_W / 2, (lo + hi) / 2, phase, rotation=90, ha="center",
                va="center", fontsize=fontsize, fontweight="bold", gid="phase-label")


def _span(column) -> float:
    """Width of a column's main box, the gap and its side box."""
    x_main, _, x_side, side_w = column
    return x_side + side_w - x_main


def _arrow(ax, start, end, connection="arc3"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9,
                                 connectionstyle=connection, color=PALETTE["black"],
                                 linewidth=0.8, shrinkA=0, shrinkB=0, gid="arrow"))
