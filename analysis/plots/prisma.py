"""PRISMA 2020 flow diagram from the counts in data/prisma.csv."""

from __future__ import annotations

import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from analysis._errors import AnalysisError
from analysis.plots._style import FONT_SIZE, MIN_FONT_SIZE, PALETTE, new_figure, text_size

#: Stage -> box text (the unit is appended from the data: "(n = 74 reports)").
STAGE_TEXT = {
    "identified_databases": "Identified from databases and registers",
    "identified_other_sources": "Identified from other sources",
    "duplicates_removed": "Duplicates removed",
    "records_screened": "Screened",
    "excluded_at_screening": "Excluded at screening",
    "reports_sought_for_retrieval": "Sought for retrieval",
    "reports_not_retrieved": "Not retrieved",
    "reports_assessed_for_eligibility": "Assessed for eligibility",
    "reports_excluded": "Excluded",
    "registered_studies_without_results": "Registered, no results yet",
    "included_qualitative_synthesis": "Included in the review",
    "included_quantitative_synthesis": "Included in pooled response rates",
    "included_quantitative_controlled": "Included in controlled comparisons",
}

#: The diagram, top to bottom: (phase, main-column stages, side-column stages).
LAYOUT = (
    ("Identification", ("identified_databases", "identified_other_sources"),
     ("duplicates_removed",)),
    ("Screening", ("records_screened",), ("excluded_at_screening",)),
    ("Screening", ("reports_sought_for_retrieval",), ("reports_not_retrieved",)),
    ("Screening", ("reports_assessed_for_eligibility",),
     ("reports_excluded", "registered_studies_without_results")),
    ("Included", ("included_qualitative_synthesis", "included_quantitative_synthesis",
                  "included_quantitative_controlled"), ()),
)

_PAD = 0.08
_MAIN_W = 2.7
_SIDE_W = 3.6
_GAP_X = 0.45
_GAP_Y = 0.28
_PHASE_W = 0.32
_MARGIN = 0.12


def prisma_plot(prisma: pd.DataFrame, *, title: str | None = None, fontsize: float = FONT_SIZE,
                reasons: bool = True):
    """PRISMA 2020 flow diagram: boxes of counts, exclusions to the side with reasons.

    Parameters
    ----------
    prisma : pandas.DataFrame
        ``data/prisma.csv`` (columns ``stage, count, unit, reason``): one row
        per stage, or one row per reason for stages with several reasons (the
        stage total is the sum of its rows, as the data dictionary defines it).
    title : str, optional
    fontsize : float
    reasons : bool
        List each reason with its count under the exclusion boxes.

    Returns
    -------
    matplotlib.figure.Figure
        Boxes are patches with gid ``box:<stage>``; their texts carry gid
        ``text:<stage>`` and start with the stage text and ``(n = <total>
        <unit>)``. Arrows carry gid ``arrow``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"stage": ["records_screened", "excluded_at_screening",
    ...                                 "included_qualitative_synthesis"],
    ...                       "count": [12, 9, 3], "unit": ["reports", "reports", "studies"],
    ...                       "reason": ["", "off_topic", ""]})
    >>> fig = prisma_plot(table)
    >>> [t.get_text().split("\\n")[1] for t in fig.texts if t.get_gid() == "text:records_screened"]
    ['(n = 12 reports)']
    """
    boxes = _box_texts(prisma, reasons)
    fontsize = max(float(fontsize), MIN_FONT_SIZE)
    small = max(fontsize - 1, MIN_FONT_SIZE)
    fig = new_figure()
    line = fontsize * 1.3 / 72

    rows = []
    for phase, main, side in LAYOUT:
        main_text = [boxes[s] for s in main if s in boxes]
        side_text = [boxes[s] for s in side if s in boxes]
        if not main_text and not side_text:
            continue
        main_stages = [s for s in main if s in boxes]
        side_stages = [s for s in side if s in boxes]
        main_h = [text_size(fig, t, fontsize)[1] + 2 * _PAD for t in main_text]
        side_h = [text_size(fig, t, small)[1] + 2 * _PAD for t in side_text]
        height = max(sum(main_h) + 0.12 * max(len(main_h) - 1, 0),
                     sum(side_h) + 0.12 * max(len(side_h) - 1, 0))
        rows.append((phase, main_stages, main_h, side_stages, side_h, height))

    # A phase band must be tall enough for its rotated label.
    for phase in dict.fromkeys(r[0] for r in rows):
        members = [i for i, r in enumerate(rows) if r[0] == phase]
        span = sum(rows[i][5] for i in members) + _GAP_Y * (len(members) - 1)
        need = text_size(fig, phase, fontsize, "bold")[0] + 0.2
        if span < need:
            last = rows[members[-1]]
            rows[members[-1]] = (*last[:5], last[5] + need - span)
    main_w = max([_MAIN_W] + [text_size(fig, boxes[s], fontsize)[0] + 2 * _PAD
                              for r in rows for s in r[1]])
    side_w = max([_SIDE_W] + [text_size(fig, boxes[s], small)[0] + 2 * _PAD
                              for r in rows for s in r[3]])
    title_h = line * 1.6 if title else 0.0
    width = _MARGIN + _PHASE_W + 0.12 + main_w + _GAP_X + side_w + _MARGIN
    height = _MARGIN + title_h + sum(r[5] for r in rows) + _GAP_Y * (len(rows) - 1) + _MARGIN
    fig.set_size_inches(width, height)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")

    x_main = _MARGIN + _PHASE_W + 0.12
    x_side = x_main + main_w + _GAP_X
    y = height - _MARGIN - title_h
    previous_bottom = None
    phases: dict[str, list[float]] = {}
    for phase, main_stages, main_h, side_stages, side_h, row_h in rows:
        top = y
        stacked_top = top
        main_centres = []
        for stage, h in zip(main_stages, main_h):
            _box(ax, x_main, stacked_top - h, main_w, h, boxes[stage], fontsize, stage,
                 PALETTE["blue"])
            main_centres.append(stacked_top - h / 2)
            if previous_bottom is not None and stage == main_stages[0]:
                _arrow(ax, (x_main + main_w / 2, previous_bottom),
                       (x_main + main_w / 2, stacked_top))
            stacked_top -= h + 0.12
        if main_stages:
            previous_bottom = stacked_top + 0.12
        side_top = top
        for stage, h in zip(side_stages, side_h):
            _box(ax, x_side, side_top - h, side_w, h, boxes[stage], small, stage,
                 PALETTE["grey"])
            if main_centres:
                target_y = side_top - h / 2
                if target_y >= previous_bottom:  # level with the main box: from its edge
                    _arrow(ax, (x_main + main_w, target_y), (x_side, target_y))
                else:  # below it: from the flow line that leaves the main box
                    _arrow(ax, (x_main + main_w / 2, target_y), (x_side, target_y))
            side_top -= h + 0.12
        phases.setdefault(phase, []).extend([top, top - row_h])
        y -= row_h + _GAP_Y

    for phase, ys in phases.items():
        lo, hi = min(ys), max(ys)
        ax.add_patch(FancyBboxPatch((_MARGIN, lo), _PHASE_W, hi - lo,
                                    boxstyle="round,pad=0,rounding_size=0.05",
                                    facecolor=PALETTE["sky_blue"], edgecolor="none",
                                    gid=f"phase:{phase}"))
        ax.text(_MARGIN + _PHASE_W / 2, (lo + hi) / 2, phase, rotation=90, ha="center",
                va="center", fontsize=fontsize, fontweight="bold", gid="phase-label")
    if title:
        ax.text(_MARGIN, height - _MARGIN, title, ha="left", va="top", fontsize=fontsize + 1,
                fontweight="bold", parse_math=False)
    return fig


def stage_totals(prisma: pd.DataFrame) -> pd.DataFrame:
    """Total count and unit per stage (rows of one stage are its reasons and add up).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"stage": ["duplicates_removed"] * 2, "count": [3, 4],
    ...                   "unit": ["records"] * 2})
    >>> int(stage_totals(t).loc["duplicates_removed", "count"])
    7
    """
    missing = [c for c in ("stage", "count", "unit") if c not in prisma.columns]
    if missing:
        raise AnalysisError(f"the PRISMA table lacks columns {missing} (see data/prisma.csv)")
    unknown = sorted(set(prisma["stage"]) - set(STAGE_TEXT))
    if unknown:
        raise AnalysisError(f"unknown PRISMA stages {unknown}; known: {', '.join(STAGE_TEXT)}")
    units = prisma.groupby("stage", sort=False)["unit"].nunique()
    if (units > 1).any():
        raise AnalysisError(f"stages {sorted(units[units > 1].index)} mix units")
    return prisma.groupby("stage", sort=False).agg(count=("count", "sum"), unit=("unit", "first"))


def _box_texts(prisma, reasons):
    totals = stage_totals(prisma)
    texts = {}
    for stage, row in totals.iterrows():
        count = int(row["count"])
        unit = str(row["unit"])
        if count == 1 and unit == {"studies": "studies"}.get(unit):
            unit = "study"
        elif count == 1 and unit.endswith("s"):
            unit = unit[:-1]
        text = f"{STAGE_TEXT[stage]}\n(n = {count} {unit})"
        rows = prisma[prisma["stage"] == stage]
        if reasons and "reason" in prisma.columns:
            listed = rows[rows["reason"].fillna("").astype(str).str.strip() != ""]
            if len(listed) > 1 or (len(listed) == 1 and stage in _EXCLUSIONS):
                text += "".join(f"\n• {_humanise(r['reason'])} (n = {int(r['count'])})"
                                for _, r in listed.iterrows())
        texts[stage] = text
    return texts


_EXCLUSIONS = {"duplicates_removed", "excluded_at_screening", "reports_not_retrieved",
               "reports_excluded", "registered_studies_without_results"}


def _humanise(reason: str) -> str:
    text = str(reason).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _box(ax, x, y, w, h, text, fontsize, stage, colour):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.04",
                                facecolor="white", edgecolor=colour, linewidth=1.0,
                                gid=f"box:{stage}"))
    ax.figure.text(x + _PAD, y + h / 2, text, transform=ax.figure.dpi_scale_trans, ha="left",
                   va="center", fontsize=fontsize, gid=f"text:{stage}", parse_math=False,
                   linespacing=1.2)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9,
                                 color=PALETTE["black"], linewidth=0.8, shrinkA=0, shrinkB=0,
                                 gid="arrow"))
