"""Responders over time after the infusion (duration of relief)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle

from analysis.engine._errors import AnalysisError, check_option
from analysis.present.plots._style import FONT_SIZE, MIN_FONT_SIZE, PALETTE, new_figure, text_size
from analysis.review.protocol import WINDOWS as PROTOCOL_WINDOWS

#: Protocol windows in time order: their axis text and their bounds in hours (open above for the last).
WINDOWS = {w.name: (w.axis_label, (w.hours[0], w.hours[1] if math.isfinite(w.hours[1]) else None))
           for w in PROTOCOL_WINDOWS}
_HOUR_TICKS = ((0.25, "15 min"), (1.0, "1 h"), (4.0, "4 h"), (24.0, "1 d"), (168.0, "1 wk"),
               (672.0, "4 wk"), (1344.0, "8 wk"), (4380.0, "6 mo"), (8760.0, "1 y"))
_COLOURS = ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue",
            "yellow", "black")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h")
_POOLED_OFFSET = 0.3  # pooled diamond to the right of the studies in a window
#: Row types drawn as study arms, with their legend text.
_ARMS = {"study": "Ketamine arm", "control": "Control arm"}
#: A control arm's time point is drawn this factor to the right on the hours axis.
_CONTROL_DODGE = 1.12
_REQUIRED = ("row_type", "label", "time_window", "timepoint_hours", "estimate", "ci_lb", "ci_ub")


def duration_plot(frame, *, x: str = "window", pooled: bool = True, title: str | None = None,
                  width: float = 6.5, height: float = 4.0, fontsize: float = FONT_SIZE):
    """Proportion responding over time after the infusion: one line per study and arm, pooled per window.

    Ketamine arms are filled symbols on solid lines, control arms open symbols on dashed
    lines (the same symbol and colour per study), so the arms read apart in greyscale too.
    A line joins a study arm's time points within a window and across adjacent windows
    that both have data; it is broken across a window without data for that arm.

    Parameters
    ----------
    frame : pandas.DataFrame or DurationResult
        ``analysis.review.duration.responders_over_time(...)`` or its ``to_frame()``:
        study rows (``row_type == "study"``: ``label, time_window,
        timepoint_hours, estimate, ci_lb, ci_ub``), control-arm rows
        (``row_type == "control"``, same columns) and pooled rows per window
        (``estimate, ci_lb, ci_ub, pi_lb`` of the pooled proportion). A window
        with one study (no prediction interval) is shown as that study, not as
        a pooled value. Rows whose window is not a protocol window are not drawn and
        are listed under the axis.
    x : {"window", "hours"}
        ``"window"``: one category per protocol window (≤ 4 h, 1–7 days, 1–4
        weeks, ≥ 8 weeks), studies side by side within it. ``"hours"``: hours
        after the infusion on a log axis (rows without an exact time point are
        listed under the axis), pooled windows as shaded bands; a control arm is
        drawn a little to the right of its time point (x 1.12) so the two
        intervals do not hide each other.
    pooled : bool
        Draw the pooled proportion and CI of each window (where k >= 2).
    title : str, optional
    width, height : float
        Size in inches (the legend is added to the width).
    fontsize : float

    Returns
    -------
    matplotlib.figure.Figure
        Study points ``study-point:<label>`` (with their intervals
        ``study-ci:<label>``), lines ``study-line:<label>`` (one per run of
        adjacent windows with data), the same ``control-point:``,
        ``control-ci:`` and ``control-line:`` for control arms, pooled diamonds
        ``pooled-diamond:<window>`` with ``pooled-ci:<window>`` (window mode)
        or bands ``pooled-band:<window>`` (hours mode), and the text
        ``not-drawn`` listing what is left out.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"row_type": ["study", "study"], "label": ["A", "A"],
    ...     "time_window": ["during_or_immediate", "short_term"],
    ...     "timepoint_hours": [1.0, 48.0], "estimate": [0.6, 0.2],
    ...     "ci_lb": [0.3, 0.05], "ci_ub": [0.85, 0.5]})
    >>> fig = duration_plot(frame)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['≤ 4 h', '1–7 days', '1–4 weeks', '≥ 8 weeks']
    """
    check_option("x", x, ("window", "hours"))
    frame = _checked_frame(frame)
    fontsize = max(float(fontsize), MIN_FONT_SIZE)
    small = max(fontsize - 1, MIN_FONT_SIZE)
    arms, left_out, labels = _arms_to_draw(frame, x)
    has_control = bool((arms["row_type"] == "control").any())

    fig = new_figure(width, height)
    legend_w = max(text_size(fig, s, small)[0]
                   for s in [*labels, *_ARMS.values(), "Pooled (k ≥ 2)",
                             "Pooled proportion (CI)"]) + 0.6
    total_w = width + legend_w
    fig.set_size_inches(total_w, height)
    line = fontsize * 1.3 / 72
    note_lines = []
    if len(left_out):
        names = ", ".join(dict.fromkeys(left_out["label"].astype(str)))
        reason = "no protocol window" if x == "window" else "no exact time point"
        note_lines = _wrap_measured(fig, f"Not drawn ({reason}): {names}", small,
                                    total_w - 0.9)
    bottom = 0.62 + line * 1.2 * len(note_lines)
    top = 0.25 + (line * 1.4 if title else 0.0)
    ax = fig.add_axes([0.7 / total_w, bottom / height, (width - 0.85) / total_w,
                       (height - bottom - top) / height])

    styles = {label: (PALETTE[_COLOURS[i % len(_COLOURS)]], _MARKERS[i % len(_MARKERS)])
              for i, label in enumerate(labels)}
    if x == "window":
        positions = _window_positions(arms, labels)
    else:
        positions = arms["timepoint_hours"].to_numpy(float) * np.where(arms["_arm"] == 1,
                                                                       _CONTROL_DODGE, 1.0)
    arms = arms.assign(_x=positions)
    for (label, arm), rows in arms.groupby(["label", "row_type"], sort=False):
        _draw_arm(ax, rows, arm, label, *styles[label])
    if pooled:
        _draw_pooled(ax, frame[frame["row_type"] == "pooled"], x)
    _set_axes(ax, arms, x, fontsize, small)
    if labels:
        _add_legend(ax, labels, styles, has_control, pooled, x, small)
    if note_lines:
        fig.text(0.7 / total_w, 0.12 / height, "\n".join(note_lines), fontsize=small,
                 ha="left", va="bottom", gid="not-drawn", parse_math=False, linespacing=1.2)
    if title:
        fig.text(0.12 / total_w, 1 - 0.12 / height, title, ha="left", va="top",
                 fontsize=fontsize + 1, fontweight="bold", parse_math=False)
    return fig



def _checked_frame(frame) -> pd.DataFrame:
    """The frame of a DurationResult (or the frame itself), refused without the columns drawn."""
    if hasattr(frame, "to_frame") and not isinstance(frame, pd.DataFrame):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisError("duration_plot needs analysis.review.duration.responders_over_time(...) "
                            "or its to_frame()")
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise AnalysisError(f"frame lacks columns {missing}")
    return frame


def _arms_to_draw(frame: pd.DataFrame, x: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The study and control arms that can be placed on the axis (in drawing order), the
    ketamine arms that cannot (listed under the axis), and the study labels."""
    arms = frame[frame["row_type"].isin(_ARMS)].copy()
    in_window = arms["time_window"].isin(list(WINDOWS))
    if x == "hours":
        in_window &= arms["timepoint_hours"].notna() & (arms["timepoint_hours"] > 0)
    left_out = arms[~in_window & (arms["row_type"] == "study")]
    arms = arms[in_window]
    arms["_window"] = arms["time_window"].map({w: i for i, w in enumerate(WINDOWS)})
    arms["_arm"] = arms["row_type"].map({arm: i for i, arm in enumerate(_ARMS)})
    # Within a window a study's ketamine points come before its control points, so the two
    # lines do not cross each other's intervals.
    arms = arms.sort_values(["_window", "_arm", "timepoint_hours"], kind="stable",
                            na_position="first")
    labels = list(dict.fromkeys(arms.loc[arms["row_type"] == "study", "label"]))
    arms = arms[arms["label"].isin(labels)]  # a control arm is drawn with its ketamine arm
    return arms, left_out, labels


def _draw_pooled(ax, pooled_rows: pd.DataFrame, x: str) -> None:
    """Each window's pooled proportion: a diamond with its CI (window axis) or a band (hours)."""
    order = {w: i for i, w in enumerate(WINDOWS)}
    for _, row in pooled_rows.iterrows():
        window = row["time_window"]
        if window not in WINDOWS or not np.isfinite(row["estimate"]):
            continue
        if not (np.isfinite(row["ci_lb"]) and np.isfinite(row.get("pi_lb", np.nan))):
            continue  # one study (no prediction interval) is shown as itself, not pooled
        if x == "window":
            cx, half = order[window] + _POOLED_OFFSET, 0.07
            ax.add_line(Line2D([cx, cx], [row["ci_lb"], row["ci_ub"]],
                               color=PALETTE["black"], lw=2.2, zorder=3,
                               gid=f"pooled-ci:{window}"))
            verts = [(cx - half, row["estimate"]), (cx, row["estimate"] + 0.022),
                     (cx + half, row["estimate"]), (cx, row["estimate"] - 0.022)]
            ax.add_patch(Polygon(verts, closed=True, facecolor=PALETTE["black"], zorder=5,
                                 gid=f"pooled-diamond:{window}"))
        else:
            lo_h, hi_h = WINDOWS[window][1]
            lo_h = max(lo_h, 0.1)
            hi_h = hi_h if hi_h is not None else 8760.0
            ax.add_patch(Rectangle((lo_h, row["ci_lb"]), hi_h - lo_h,
                                   row["ci_ub"] - row["ci_lb"], facecolor=PALETTE["grey"],
                                   alpha=0.25, edgecolor="none", zorder=1,
                                   gid=f"pooled-band:{window}"))
            ax.add_line(Line2D([lo_h, hi_h], [row["estimate"]] * 2, color=PALETTE["black"],
                               lw=1.4, zorder=3, gid=f"pooled-line:{window}"))


def _set_axes(ax, arms: pd.DataFrame, x: str, fontsize: float, small: float) -> None:
    """Windows or log hours along x, the share responding (0-100 %) up y."""
    if x == "window":
        ax.set_xlim(-0.5, len(WINDOWS) - 0.5)
        ax.set_xticks(range(len(WINDOWS)))
        ax.set_xticklabels([text for text, _ in WINDOWS.values()], fontsize=small)
        for boundary in np.arange(0.5, len(WINDOWS) - 0.5):
            ax.axvline(boundary, color=PALETTE["light_grey"], lw=0.8, zorder=0)
        ax.set_xlabel("Time after the infusion (protocol window)", fontsize=fontsize)
    else:
        ax.set_xscale("log")
        hours = arms["timepoint_hours"].to_numpy(float)
        lo = min([0.2, *hours]) if len(hours) else 0.2
        hi = max([1344.0 * 1.3, *(hours * 1.3)]) if len(hours) else 2000.0
        ax.set_xlim(lo, hi)
        ticks = [(t, s) for t, s in _HOUR_TICKS if lo <= t <= hi]
        ax.set_xticks([t for t, _ in ticks])
        ax.set_xticklabels([s for _, s in ticks], fontsize=small)
        ax.minorticks_off()
        ax.set_xlabel("Time after the infusion (log scale)", fontsize=fontsize)
    ax.set_ylim(0, 1)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_yticklabels([f"{v:.0%}" for v in np.linspace(0, 1, 6)], fontsize=small)
    ax.set_ylabel("Patients responding", fontsize=fontsize)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _add_legend(ax, labels, styles, has_control: bool, pooled: bool, x: str, small: float) -> None:
    """One entry per study, the two arms' line styles (if a control arm is drawn), the pooled mark."""
    handles = [Line2D([], [], color=styles[s][0], marker=styles[s][1],
                      markeredgecolor=PALETTE["black"], markeredgewidth=0.5, label=s)
               for s in labels]
    if has_control:
        handles += [Line2D([], [], color=PALETTE["black"], marker="o", label=text,
                           **_arm_style(arm, PALETTE["grey"]))
                    for arm, text in _ARMS.items()]
    if pooled and x == "window":
        handles.append(Polygon([(0, 0)], closed=True, facecolor=PALETTE["black"],
                               label="Pooled (k ≥ 2)"))
    elif pooled:
        handles.append(Rectangle((0, 0), 1, 1, facecolor=PALETTE["grey"], alpha=0.25,
                                 label="Pooled proportion (CI)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              fontsize=small, frameon=False)

def _arm_style(arm: str, colour: str) -> dict:
    """Filled symbol on a solid line (ketamine) or open symbol on a dashed line (control)."""
    if arm == "control":
        return {"linestyle": (0, (3.5, 2)), "markerfacecolor": "white", "markeredgecolor": colour,
                "markeredgewidth": 1.1}
    return {"linestyle": "-", "markerfacecolor": colour, "markeredgecolor": PALETTE["black"],
            "markeredgewidth": 0.5}


def _draw_arm(ax, rows: pd.DataFrame, arm: str, label: str, colour: str, marker: str) -> None:
    """One study arm: its points with intervals, and lines over runs of adjacent windows."""
    tag = "study" if arm == "study" else "control"
    style = _arm_style(arm, colour)
    for run in _runs(rows["_window"].to_numpy(int)):
        if len(run) > 1:
            ax.add_line(Line2D(rows["_x"].iloc[run], rows["estimate"].iloc[run], color=colour,
                               lw=1.0, alpha=0.8, zorder=2, linestyle=style["linestyle"],
                               gid=f"{tag}-line:{label}"))
    for _, row in rows.iterrows():
        ax.add_line(Line2D([row["_x"]] * 2, [row["ci_lb"], row["ci_ub"]], color=colour,
                           lw=0.8, zorder=2, gid=f"{tag}-ci:{label}"))
        ax.add_line(Line2D([row["_x"]], [row["estimate"]], marker=marker, markersize=6,
                           color=colour, zorder=4, gid=f"{tag}-point:{label}", label=label,
                           clip_on=False, **{**style, "linestyle": "none"}))


def _runs(windows: np.ndarray) -> list[list[int]]:
    """Positions split where the window order jumps by more than one (a window without data).

    >>> _runs(np.array([0, 0, 1, 3]))
    [[0, 1, 2], [3]]
    """
    runs = [[0]] if len(windows) else []
    for i in range(1, len(windows)):
        if windows[i] - windows[i - 1] > 1:
            runs.append([])
        runs[-1].append(i)
    return runs


def _window_positions(points: pd.DataFrame, labels: list[str]) -> np.ndarray:
    """Side-by-side slots within each window: one slot per study, its points spread in it.

    A study's points in a window (its ketamine arm's time points, then its control arm's)
    share the study's slot evenly, so no two of them sit on one x.
    """
    slot = {label: i for i, label in enumerate(labels)}
    spread = 0.62  # studies fill [window - 0.4, window + 0.22]; the pooled value sits at +0.3
    step = spread / max(len(labels), 1)
    keys = list(zip(points["label"], points["_window"].astype(int)))
    counts = pd.Series(keys).value_counts().to_dict()
    positions, seen = [], {}
    for key in keys:
        index = seen.get(key, 0)
        seen[key] = index + 1
        start = key[1] - 0.4 + step * slot[key[0]]
        positions.append(start + step * (index + 0.5) / counts[key])
    return np.asarray(positions, dtype=float)


def _wrap_measured(fig, text: str, fontsize: float, width: float) -> list[str]:
    """Split ``text`` at spaces into lines no wider than ``width`` inches (measured)."""
    lines, current = [], ""
    for word in text.split(" "):
        trial = f"{current} {word}".strip()
        if current and text_size(fig, trial, fontsize)[0] > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return lines + ([current] if current else [])
