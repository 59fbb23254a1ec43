"""Icon arrays: people drawn as figures, shaded by what happened to them.

:func:`response_icon_array` draws 100 people like those studied: the pooled share who
responded soon after ketamine (dark), with the range of uncertainty as a lighter band behind
the figures. :func:`comparison_icon_array` draws the people of a trial with a comparison arm,
one row per time after the dose, ketamine beside the comparison treatment, so that a fading
effect is seen; :func:`trials_icon_array` sums up two or more such trials per time, 100 people
with ketamine beside 100 with the comparison treatment (:func:`comparison_pictures` picks which
the index shows). All draw from the facts of :mod:`analysis.present.plain`, so that the picture,
its caption (:func:`analysis.present.plots.describe.describe_response_icon_array`) and the key
messages cannot disagree. Each kind of figure is one collection with a ``gid``
(:data:`RESPONDED`, :data:`NOT_RESPONDED`, :data:`UNCERTAIN`), which the tests count.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.path import Path

from analysis.engine._errors import AnalysisError
from analysis.present.plain import (TIME_WORDS, ComparisonFacts, ResponseFacts, TrialFacts, ketamine_share,
                                    other_name, when)
from analysis.present.plots._style import FONT_SIZE, PALETTE, new_figure, text_size

#: gid of the figures of people who responded, who did not, and of the uncertainty band's cells.
RESPONDED, NOT_RESPONDED, UNCERTAIN = "icons-responded", "icons-not-responded", "icons-uncertain"

#: Colours: responders dark blue, the others light grey, the band a light sky blue.
COLOURS = {RESPONDED: PALETTE["blue"], NOT_RESPONDED: "#C8C8C8", UNCERTAIN: "#C6E3F6"}

#: People drawn in :func:`response_icon_array` (a row of ten per line).
PEOPLE = 100
_COLUMNS = 10
_CELL = 0.36  # inches per figure in the 100-person array


def person_marker() -> Path:
    """A person (head and shoulders) as a marker path, centred on the origin.

    >>> bool(person_marker().get_extents().height > 1.5)
    True
    """
    head = Path.circle(center=(0.0, 0.55), radius=0.3)
    body = Path([(-0.55, -0.95), (-0.55, -0.2), (-0.3, 0.12), (0.3, 0.12), (0.55, -0.2), (0.55, -0.95),
                 (-0.55, -0.95)], [Path.MOVETO] + [Path.LINETO] * 5 + [Path.CLOSEPOLY])
    return Path.make_compound_path(head, body)


def _people(ax, xy: np.ndarray, kind: str, size: float, gid: str | None = None) -> None:
    """One collection of figures at ``xy`` (inches), coloured by ``kind``, tagged ``gid`` (else kind)."""
    collection = ax.scatter(xy[:, 0], xy[:, 1], marker=person_marker(), s=size, color=COLOURS[kind],
                            linewidths=0, zorder=3)
    collection.set_gid(gid or kind)


def _arm(ax, corner: tuple[float, float], n: int, dark: int, per_row: int, cell: float, tag: str,
         scale: float = 0.75) -> None:
    """``n`` people in rows of ``per_row`` from the top left ``corner`` (inches), the first ``dark`` of
    them responders, tagged ``"<RESPONDED or NOT_RESPONDED>:<tag>"``; figures ``scale`` of a cell high."""
    index = np.arange(n)
    xy = np.column_stack([corner[0] + (index % per_row + 0.5) * cell, corner[1] - (index // per_row + 0.5) * cell])
    size = (scale * cell * 72) ** 2
    _people(ax, xy[:dark], RESPONDED, size, f"{RESPONDED}:{tag}")
    _people(ax, xy[dark:], NOT_RESPONDED, size, f"{NOT_RESPONDED}:{tag}")


def _wrap(text: str, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` inches (measured, at :data:`FONT_SIZE`)."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_size(None, candidate)[0] <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _legend(ax, entries, top: float, width: float, size: float) -> None:
    """Legend rows from ``top`` down: a symbol (a figure or a band cell) and its wrapped words."""
    y = top
    for gid, words in entries:
        lines = _wrap(words, width - 0.45)
        centre = y - 0.15
        if gid == UNCERTAIN:
            ax.add_patch(Rectangle((0.05, centre - 0.12), 0.24, 0.24, facecolor=COLOURS[gid], edgecolor="none"))
        else:
            ax.scatter([0.17], [centre], marker=person_marker(), s=size, color=COLOURS[gid], linewidths=0)
        for line in lines:
            ax.text(0.4, y - 0.15, line, fontsize=FONT_SIZE, va="center", ha="left")
            y -= 0.2
        y -= 0.1


def _legend_height(entries, width: float) -> float:
    return sum(0.2 * len(_wrap(words, width - 0.45)) + 0.1 for _, words in entries) + 0.1


def _counts(response: ResponseFacts) -> tuple[int, int, int]:
    """People of 100 at the estimate, the low and the high end of the interval (rounded)."""
    values = [int(np.floor(PEOPLE * v + 0.5)) for v in (response.estimate, response.low, response.high)]
    if not 0 <= values[1] <= values[0] <= values[2] <= PEOPLE:
        raise AnalysisError(f"response_icon_array: estimate {response.estimate} must lie within its "
                            f"interval {response.low} to {response.high}, all between 0 and 1")
    return values[0], values[1], values[2]


def response_icon_array(response: ResponseFacts, *, legend: tuple[str, str, str]):
    """100 people like those studied: responders dark, the uncertainty band shaded behind them.

    Parameters
    ----------
    response : ResponseFacts
        The pooled response rate (estimate and interval, proportions).
    legend : tuple of str
        The three legend lines (responded, band, did not), from
        :func:`analysis.present.plots.describe.icon_array_legend`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    estimate, low, high = _counts(response)
    rows = PEOPLE // _COLUMNS
    width = _COLUMNS * _CELL
    entries = list(zip((RESPONDED, UNCERTAIN, NOT_RESPONDED), legend))
    legend_height = _legend_height(entries, width)
    height = rows * _CELL + legend_height
    fig = new_figure(width, height)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    index = np.arange(PEOPLE)
    centres = np.column_stack([(index % _COLUMNS + 0.5) * _CELL,
                               height - (index // _COLUMNS + 0.5) * _CELL])
    for i in range(low, high):  # the band: people low+1 .. high (1-based)
        x, y = centres[i]
        cell = Rectangle((x - _CELL / 2, y - _CELL / 2), _CELL, _CELL, facecolor=COLOURS[UNCERTAIN],
                         edgecolor="none", zorder=1)
        cell.set_gid(UNCERTAIN)
        ax.add_patch(cell)
    size = (0.75 * _CELL * 72) ** 2
    _people(ax, centres[:estimate], RESPONDED, size)
    _people(ax, centres[estimate:], NOT_RESPONDED, size)
    _legend(ax, entries, legend_height - 0.05, width, size * 0.6)
    return fig


def comparison_icon_array(trial: TrialFacts, *, legend: tuple[str, str], per_row: int = 6):
    """The people of one trial, ketamine beside the comparison treatment, at each time point.

    One block per time after the dose (a label, then each arm's people: responders dark, the
    others grey), so that a reader sees the difference between the arms fade.

    Parameters
    ----------
    trial : TrialFacts
    legend : tuple of str
        The two legend lines (responded, did not).
    per_row : int
        Figures per line within an arm.

    Returns
    -------
    matplotlib.figure.Figure
        Each block's figures are collections with the gid ``"<RESPONDED or NOT_RESPONDED>:<time
        index>:<ketamine or control>"``.
    """
    if not trial.times:
        raise AnalysisError(f"comparison_icon_array: {trial.label} has no time point with both arms counted")
    cell = 0.3
    names = (("Ketamine", "ketamine"),
             ("Another painkiller" if trial.control == "other_analgesic" else "Dummy treatment", "control"))
    widest = max(text_size(None, f"{name}: {n} of {n}")[0] for name, _ in names
                 for n in (max(a.ketamine_n, a.control_n) for a in trial.times))
    arm_width = max(per_row * cell, widest + 0.1)
    gap = 0.3
    label_height = 0.5
    lines = [max(int(np.ceil(getattr(a, f"{k}_n") / per_row)) for _, k in names) for a in trial.times]
    width = 2 * arm_width + gap + 0.1
    entries = list(zip((RESPONDED, NOT_RESPONDED), legend))
    legend_height = _legend_height(entries, width)
    height = sum(label_height + n * cell + 0.15 for n in lines) + legend_height
    fig = new_figure(width, height)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    size = (0.75 * cell * 72) ** 2
    top = height
    for i, (at, n_lines) in enumerate(zip(trial.times, lines)):
        ax.text(0.05, top - 0.14, f"{when(at.hours).capitalize()} after", fontsize=FONT_SIZE,
                fontweight="bold", va="center", ha="left")
        for column, (name, key) in enumerate(names):
            events, n = getattr(at, f"{key}_events"), getattr(at, f"{key}_n")
            left = 0.05 + column * (arm_width + gap)
            ax.text(left, top - 0.36, f"{name}: {events} of {n}", fontsize=FONT_SIZE, va="center", ha="left")
            _arm(ax, (left, top - label_height), n, events, per_row, cell, f"{i}:{key}")
        top -= label_height + n_lines * cell + 0.15
    _legend(ax, entries, legend_height - 0.05, width, size * 0.6)
    return fig


def hundreds(c: ComparisonFacts) -> tuple[int, int]:
    """People of 100 who responded with ketamine and with the comparison treatment at the time of ``c``
    (:func:`analysis.present.plain.ketamine_share` and the control risk, rounded half up).

    >>> hundreds(ComparisonFacts("short_term", 2, 0.0, float("nan"), float("nan"), float("nan"), 4, 24, 0, 24, None))
    (17, 0)
    """
    values = tuple(int(np.floor(PEOPLE * p + 0.5)) for p in (ketamine_share(c), c.control_risk))
    if not all(0 <= v <= PEOPLE for v in values):
        raise AnalysisError(f"trials_icon_array: shares {ketamine_share(c)} and {c.control_risk} "
                            f"({c.window}) must lie between 0 and 1")
    return values[0], values[1]


def arm_names(trials) -> tuple[str, str]:
    """The two arms of :func:`trials_icon_array` as its labels name them ("Ketamine", "Dummy treatment")."""
    other = other_name(trials).removeprefix("the ")
    return "Ketamine", other[0].upper() + other[1:]


def time_words(c: ComparisonFacts, trials) -> str:
    """The time of ``c`` as the key messages say it, with how many of the trials it has when not all
    ("after 8 weeks or more (1 of 2 studies)")."""
    return TIME_WORDS[c.window] + ("" if c.studies == len(trials) else f" ({c.studies} of {len(trials)} studies)")


def trials_icon_array(trials, comparisons, *, legend: tuple[str, str]):
    """Two or more trials summed up: at each time, 100 people like those in the studies with ketamine
    beside 100 with the comparison treatment, as many dark as the key messages' shares.

    The shares are those of :func:`analysis.present.plain.comparison_facts` (the summary of findings'
    absolute effects), as the key messages say them, so that the picture and the sentence beside it
    cannot disagree. Only the most likely share is drawn, without a band: a Cochrane plain language
    summary gives the best estimate as a natural frequency and says how sure we are in words (its
    template asks for no intervals), and the intervals of a few small trials span most of the 100
    people, so a band would hide the difference between the arms that the picture is there to show.
    The caption says the picture shows the most likely number.

    Parameters
    ----------
    trials : sequence of TrialFacts
        The trials compared (their comparison treatment names the second arm).
    comparisons : sequence of ComparisonFacts
        One per time, from :func:`analysis.present.plain.comparison_facts`.
    legend : tuple of str
        The two legend lines (responded, did not).

    Returns
    -------
    matplotlib.figure.Figure
        Each arm's figures are collections with the gid ``"<RESPONDED or NOT_RESPONDED>:<time
        index>:<ketamine or control>"``, as :func:`comparison_icon_array`'s.
    """
    if not comparisons:
        raise AnalysisError("trials_icon_array: no time with ketamine and a comparison treatment counted")
    cell, gap, label_height = 0.165, 0.2, 0.78  # 3.6 inches wide, as the 100-person array: a phone shows it whole
    names = arm_names(trials)
    arm_width = max(_COLUMNS * cell, *(text_size(None, name)[0] + 0.1 for name in names))
    width = 2 * arm_width + gap + 0.1
    title = _wrap(f"Out of {PEOPLE} people like those in the studies", width - 0.1)
    notes = [_wrap(f"* No one on {other_name(trials)} {legend[0]} then, so for ketamine this is the share in the "
                   "studies' ketamine groups", width - 0.1) if np.isnan(c.ketamine_risk) else [] for c in comparisons]
    entries = list(zip((RESPONDED, NOT_RESPONDED), legend))
    legend_height = _legend_height(entries, width)
    block = label_height + PEOPLE // _COLUMNS * cell + 0.2
    height = 0.22 * len(title) + 0.1 + sum(block + 0.2 * len(n) for n in notes) + legend_height
    fig = new_figure(width, height)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    top = height - 0.05
    for line in title:
        ax.text(0.05, top - 0.1, line, fontsize=FONT_SIZE, va="center", ha="left")
        top -= 0.22
    top -= 0.05
    size = (0.8 * cell * 72) ** 2
    for i, (c, note) in enumerate(zip(comparisons, notes)):
        heading = time_words(c, trials)
        ax.text(0.05, top - 0.14, heading[0].upper() + heading[1:], fontsize=FONT_SIZE, fontweight="bold",
                va="center", ha="left")
        for column, (name, key, dark) in enumerate(zip(names, ("ketamine", "control"), hundreds(c))):
            left = 0.05 + column * (arm_width + gap)
            ax.text(left, top - 0.38, name, fontsize=FONT_SIZE, va="center", ha="left")
            mark = "*" if key == "ketamine" and note else ""
            ax.text(left, top - 0.58, f"{dark} of {PEOPLE}{mark}", fontsize=FONT_SIZE, va="center", ha="left")
            _arm(ax, (left, top - label_height), PEOPLE, dark, _COLUMNS, cell, f"{i}:{key}", scale=0.8)
        top -= block
        for line in note:
            ax.text(0.05, top + 0.02, line, fontsize=FONT_SIZE, fontstyle="italic", va="center", ha="left")
            top -= 0.2
    _legend(ax, entries, legend_height - 0.05, width, size * 0.6)
    return fig


def comparison_pictures(trials, comparisons, response: ResponseFacts) -> list[tuple]:
    """The index's pictures of ketamine against the comparison treatments, with their names and words:
    one trial drawn person by person (:func:`comparison_icon_array`), or two or more summed up per time
    (:func:`trials_icon_array`), as the key messages tell them.

    Returns
    -------
    list of (Figure, str, FigureDescription)
        For :func:`analysis.present.plots.show_figure`: none without a trial with both arms counted.
    """
    from analysis.present.plots.describe import (comparison_legend, describe_comparison_icon_array,
                                                 describe_trials_icon_array)

    legend = comparison_legend(response)
    if len(trials) > 1:
        return [(trials_icon_array(trials, comparisons, legend=legend), "00_icons_trials",
                 describe_trials_icon_array(trials, comparisons, response.threshold_percent))]
    return [(comparison_icon_array(trial, legend=legend), f"00_icons_trial_{number}",
             describe_comparison_icon_array(trial, response.threshold_percent))
            for number, trial in enumerate(trials, start=1)]
