"""Risk-of-bias traffic-light plot with a summary bar per domain (robvis style)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.patches import Circle, Patch

from analysis.engine._errors import AnalysisError
from analysis.present.plots._style import FONT_SIZE, MIN_FONT_SIZE, PALETTE, new_figure, text_size

#: Judgement -> (fill colour, symbol, legend text), worst last. Colour is never the only
#: carrier: each judgement has its own symbol.
JUDGEMENTS: dict[str, tuple[str, str, str]] = {
    "low": (PALETTE["bluish_green"], "+", "Low"),
    "some_concerns": (PALETTE["yellow"], "−", "Some concerns"),
    "moderate": (PALETTE["yellow"], "−", "Moderate"),
    "high": (PALETTE["vermillion"], "×", "High"),
    "serious": (PALETTE["vermillion"], "×", "Serious"),
    "critical": ("#882255", "!", "Critical"),
    "no_information": (PALETTE["sky_blue"], "?", "No information"),
}
NOT_APPLICABLE = "not_applicable"

#: Domain column -> readable name (columns of data/studies.csv).
DOMAIN_NAMES = {
    "rob_randomisation": "Randomisation process",
    "rob_carryover": "Period and carryover effects",
    "rob_confounding": "Confounding",
    "rob_selection": "Selection of participants",
    "rob_classification": "Classification of interventions",
    "rob_deviations": "Deviations from intended interventions",
    "rob_missing_data": "Missing outcome data",
    "rob_measurement": "Measurement of the outcome",
    "rob_reported_result": "Selection of the reported result",
    "rob_overall": "Overall",
}
TOOL_NAMES = {
    "rob2": "RoB 2 (randomised, parallel)",
    "rob2_crossover": "RoB 2 for crossover trials",
    "robins_i": "ROBINS-I (non-randomised)",
}

_CELL = 0.30  # inches per traffic light
_BAR_HEIGHT = 0.26
_MARGIN = 0.12


def risk_of_bias_plot(table: pd.DataFrame, *, study_column: str = "study_label",
                      tool_column: str | None = "rob_tool", domains: Sequence[str] | None = None,
                      domain_names: Mapping[str, str] | None = None,
                      overall_column: str | None = "rob_overall", title: str | None = None,
                      fontsize: float = FONT_SIZE):
    """Traffic-light plot (studies x domains) and a summary bar per domain.

    Parameters
    ----------
    table : pandas.DataFrame
        Judgements, e.g. ``analysis.data.load_studies()``: one or more rows per
        study (rows of the same study must agree), one column per domain with
        values ``low, some_concerns, high`` (RoB 2), ``low, moderate, serious,
        critical`` (ROBINS-I), ``no_information`` or ``not_applicable``.
    study_column : str
        Column naming the study.
    tool_column : str or None
        Column naming the tool; one block per tool (its own domains), studies
        whose tool is ``not_assessed`` are left out. None: one block.
    domains : sequence of str, optional
        Domain columns; default every ``rob_*`` column that is not a reason or
        the tool, in the tools' domain order (:data:`DOMAIN_NAMES`), overall last.
    domain_names : mapping, optional
        Readable domain names (default :data:`DOMAIN_NAMES`).
    overall_column : str or None
        The overall judgement column, drawn last and headed "Overall".
    title : str, optional
    fontsize : float

    Returns
    -------
    matplotlib.figure.Figure
        Per block: a traffic-light Axes (gid ``traffic-light:<tool>``) whose
        circles carry gid ``rob:<study>:<domain>`` and whose symbol texts are
        the judgement symbols; and a summary Axes (gid ``summary:<tool>``) of
        stacked bars, one per domain, giving the percentage of studies with
        each judgement (bars gid ``bar:<domain>:<judgement>``). Domains that
        do not apply to any study of a block are not drawn.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"study_label": ["A 2001", "B 2005"],
    ...                       "rob_randomisation": ["low", "high"],
    ...                       "rob_overall": ["low", "high"]})
    >>> fig = risk_of_bias_plot(table, tool_column=None)
    >>> sorted(a.get_gid() for a in fig.axes[0].patches)
    ['rob:A 2001:rob_overall', 'rob:A 2001:rob_randomisation', 'rob:B 2005:rob_overall', 'rob:B 2005:rob_randomisation']
    """
    fontsize = max(float(fontsize), MIN_FONT_SIZE)
    small = max(fontsize - 1, MIN_FONT_SIZE)
    names = dict(DOMAIN_NAMES, **(domain_names or {}))
    blocks = _blocks(table, study_column, tool_column, domains, overall_column)
    if not blocks:
        raise AnalysisError("no study has a risk-of-bias judgement to draw")

    fig = new_figure()
    line = fontsize * 1.3 / 72
    label_w = max(text_size(fig, s, fontsize)[0] for _, frame, _ in blocks for s in frame.index)
    n_cols = max(len(cols) for _, _, cols in blocks)
    grid_w = n_cols * _CELL
    bar_labels = [_bar_label(c, cols, overall_column, names)
                  for _, _, cols in blocks for c in cols]
    bar_label_w = max(text_size(fig, s, small)[0] for s in bar_labels)
    bars_w = 2.2
    present = [j for j in JUDGEMENTS
               if any((frame == j).to_numpy().any() for _, frame, _ in blocks)]
    # One legend entry per colour and symbol ("Some concerns / moderate").
    entries: dict[tuple[str, str], list[str]] = {}
    for j in present:
        colour, symbol, text = JUDGEMENTS[j]
        entries.setdefault((colour, symbol), []).append(text)
    legend = [(colour, f"{symbol}  " + " / ".join([texts[0]] + [t.lower() for t in texts[1:]]))
              for (colour, symbol), texts in entries.items()]
    legend_w = sum(text_size(fig, text, small)[0] + 0.55 for _, text in legend)
    width = max(_MARGIN + label_w + 0.1 + grid_w + 0.4 + bar_label_w + 0.1 + bars_w + 0.3,
                legend_w + 2 * _MARGIN)

    heights = []
    for tool, frame, cols in blocks:
        grid_h = (len(frame) + 1) * _CELL
        bars_h = len(cols) * _BAR_HEIGHT + 0.5 + line
        heights.append(line * 1.4 + max(grid_h, bars_h))
    title_h = line * 1.6 if title else 0.0
    legend_h = line * 2.2
    height = _MARGIN + title_h + sum(heights) + legend_h + _MARGIN
    fig.set_size_inches(width, height)

    top = height - _MARGIN - title_h
    for (tool, frame, cols), block_h in zip(blocks, heights):
        _draw_block(fig, tool, frame, cols, top, label_w, grid_w, bars_w, bar_label_w,
                    width, height, fontsize, small, line, names, overall_column)
        top -= block_h
    if title:
        fig.text(_MARGIN, height - _MARGIN, title, transform=fig.dpi_scale_trans, ha="left",
                 va="top", fontsize=fontsize + 1, fontweight="bold", parse_math=False)
    handles = [Patch(facecolor=colour, edgecolor=PALETTE["black"], linewidth=0.5, label=text)
               for colour, text in legend]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               fontsize=small, bbox_to_anchor=(0.5, _MARGIN / height / 2), handlelength=1.2,
               columnspacing=1.0)
    return fig


def _bar_label(column, cols, overall_column, names):
    if column == overall_column:
        return "Overall"
    return f"{_code(column, cols, overall_column)}  {names.get(column, column)}"


def _code(column, cols, overall_column):
    if column == overall_column:
        return "Overall"
    return f"D{[c for c in cols if c != overall_column].index(column) + 1}"


def _blocks(table, study_column, tool_column, domains, overall_column):
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError("risk_of_bias_plot needs a DataFrame (e.g. analysis.data.load_studies())")
    if study_column not in table.columns:
        raise AnalysisError(f"study_column={study_column!r} is not a column of the table")
    if domains is None:
        domains = [c for c in table.columns if c.startswith("rob_") and not c.endswith("_reason")
                   and c != tool_column and c != overall_column]
        known = list(DOMAIN_NAMES)  # the tools' own domain order
        domains.sort(key=lambda c: known.index(c) if c in known else len(known))
        if overall_column and overall_column in table.columns:
            domains.append(overall_column)
    missing = [c for c in domains if c not in table.columns]
    if missing or not domains:
        raise AnalysisError(f"domain columns {missing or 'none'} are not in the table")
    allowed = set(JUDGEMENTS) | {NOT_APPLICABLE}
    keep = [study_column] + ([tool_column] if tool_column else []) + list(domains)
    frame = table[keep].astype(object).where(table[keep].notna(), NOT_APPLICABLE)
    frame = frame.drop_duplicates()
    if frame[study_column].duplicated().any():
        clash = sorted(set(frame.loc[frame[study_column].duplicated(), study_column]))
        raise AnalysisError(f"studies {clash} have rows with different risk-of-bias judgements")
    for column in domains:
        bad = sorted(set(frame[column]) - allowed)
        if bad:
            raise AnalysisError(f"column {column!r} has judgements {bad}; allowed: "
                                f"{', '.join(sorted(allowed))}")
    groups = ([(None, frame)] if not tool_column
              else [(tool, part) for tool, part in frame.groupby(tool_column, sort=False)
                    if tool != "not_assessed"])
    blocks = []
    for tool, part in groups:
        part = part.set_index(study_column)[list(domains)]
        part = part[(part != NOT_APPLICABLE).any(axis=1)]
        cols = [c for c in domains if (part[c] != NOT_APPLICABLE).any()]
        if len(part) and cols:
            blocks.append((tool, part[cols], cols))
    return blocks


def _draw_block(fig, tool, frame, cols, top, label_w, grid_w, bars_w, bar_label_w, width,
                height, fontsize, small, line, names, overall_column):
    name = TOOL_NAMES.get(tool, tool) if tool is not None else None
    head = line * 1.4
    if name:
        fig.text(_MARGIN, top - head / 2, name, transform=fig.dpi_scale_trans, ha="left",
                 va="center", fontsize=fontsize, fontweight="bold", parse_math=False,
                 gid="block-title")
    grid_top = top - head
    n_rows, n_cols = len(frame), len(cols)
    grid_h = (n_rows + 1) * _CELL
    left = _MARGIN + label_w + 0.1
    ax = fig.add_axes([left / width, (grid_top - grid_h) / height, n_cols * _CELL / width,
                       grid_h / height], gid=f"traffic-light:{tool}")
    ax.set_xlim(0, n_cols)
    ax.set_ylim(n_rows + 1, 0)
    ax.axis("off")
    for j, column in enumerate(cols):
        ax.text(j + 0.5, 0.5, _code(column, cols, overall_column).replace("Overall", "All"),
                ha="center", va="center", fontsize=small, fontweight="bold", gid="domain-code")
    for i, (study, judgements) in enumerate(frame.iterrows()):
        y = i + 1.5
        ax.text(-0.1 - 0.1 / _CELL, y, str(study), ha="right", va="center", fontsize=fontsize,
                parse_math=False, gid="study-label", clip_on=False)
        for j, column in enumerate(cols):
            value = judgements[column]
            if value == NOT_APPLICABLE:
                continue
            colour, symbol, _ = JUDGEMENTS[value]
            ax.add_patch(Circle((j + 0.5, y), 0.4, facecolor=colour, edgecolor=PALETTE["black"],
                                linewidth=0.5, gid=f"rob:{study}:{column}"))
            ax.text(j + 0.5, y, symbol, ha="center", va="center_baseline", fontsize=small,
                    fontweight="bold", color="white" if value == "critical" else "black",
                    gid=f"symbol:{value}")
        if overall_column in cols:
            x = cols.index(overall_column)
            ax.plot([x, x], [0.1, n_rows + 1], color=PALETTE["grey"], lw=0.6)

    # Summary: percentage of studies per judgement, one stacked bar per domain.
    bars_left = left + grid_w + 0.4 + bar_label_w + 0.1  # aligned across blocks
    bars_h = n_cols * _BAR_HEIGHT
    sx = fig.add_axes([bars_left / width, (grid_top - _CELL / 2 - bars_h) / height,
                       bars_w / width, bars_h / height], gid=f"summary:{tool}")
    order = list(JUDGEMENTS)
    for r, column in enumerate(cols):
        counts = frame[column].value_counts()
        total = int((frame[column] != NOT_APPLICABLE).sum())
        start = 0.0
        for judgement in order:
            share = 100.0 * counts.get(judgement, 0) / total
            if share > 0:
                sx.barh(r, share, left=start, height=0.75, color=JUDGEMENTS[judgement][0],
                        edgecolor=PALETTE["black"], linewidth=0.4,
                        gid=f"bar:{column}:{judgement}")
                start += share
    sx.set_ylim(n_cols - 0.5, -0.5)
    sx.set_xlim(0, 100)
    sx.set_yticks(range(n_cols))
    sx.set_yticklabels([_bar_label(c, cols, overall_column, names) for c in cols],
                       fontsize=small)
    sx.set_xticks([0, 25, 50, 75, 100])
    sx.set_xticklabels(["0%", "25%", "50%", "75%", "100%"], fontsize=small)
    sx.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        sx.spines[side].set_visible(False)
    sx.set_xlabel(f"Studies (n = {n_rows})", fontsize=small)
