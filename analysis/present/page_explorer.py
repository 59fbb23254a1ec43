"""The multiverse explorer of the static report page: plain controls, no server, no network.

A notebook shows :func:`page_explorer` as its cell's last expression. In Jupyter it reads
as a short paragraph; the report build (:mod:`analysis.apps.report.layout`) finds its data under
:data:`MIME_TYPE` and writes :func:`render_page_explorer`'s HTML into the page: the
multiverse table as JSON in an inline ``<script type="application/json">``, one plain
``<select>`` per choice, an inline SVG of the specification curve with a marker, and a
small inline controller (``page_explorer.js``, vanilla JavaScript) that shows the chosen
specification's estimate, interval, patients, studies and place on the curve. Every
number is written here, in Python, by :mod:`analysis.engine.formatting` (the controller only
looks rows up), so the page shows exactly what the table holds. Without JavaScript the
controls stay hidden and a note points to the figure and tables.

Text from the data reaches the page only through JSON (``<``, ``>`` and ``&`` escaped) and
the controller's ``textContent``: nothing from the data is parsed as HTML.
"""

from __future__ import annotations

import html
import json
from importlib import resources

import numpy as np

from analysis.engine.formatting import format_count, format_effect, format_interval, format_percent
from analysis.review.multiverse import CHOICE_NAMES, CHOICE_TITLES, Multiverse, as_values, value_label

#: MIME type of the explorer's data in a notebook output.
MIME_TYPE = "application/vnd.kfm.multiverse+json"

#: Size of the curve's drawing (SVG user units; it scales to its box).
SVG_WIDTH, SVG_HEIGHT, SVG_MARGIN = 600.0, 220.0, 48.0
#: Ratio axes are drawn on a log scale between these bounds.
RATIO_AXIS = (0.01, 1000.0)
#: Gridlines of each kind of axis.
AXIS_TICKS = {"proportion": (0.0, 0.25, 0.5, 0.75, 1.0), "ratio": (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
              "difference": (-1.0, -0.5, 0.0, 0.5, 1.0)}


class PageExplorer:
    """What a notebook displays: the explorer's data, and a paragraph for Jupyter."""

    def __init__(self, data: dict):
        self.data = data

    def _repr_mimebundle_(self, include=None, exclude=None):
        note = ("<p>On the report page, controls here pick a specification and show its estimate, "
                "interval, patients, studies and place on the curve.</p>")
        return {MIME_TYPE: self.data, "text/html": note}


def _axis(outcome: str, measure: str | None) -> str:
    if outcome == "response_rate":
        return "proportion"
    return "ratio" if measure in ("RR", "OR") else "difference"


def _y(values, axis: str) -> np.ndarray:
    """SVG y of values on the axis (top = high)."""
    values = np.asarray(values, dtype=float)
    if axis == "ratio":
        low, high = np.log(RATIO_AXIS)
        position = (np.log(np.clip(values, *RATIO_AXIS)) - low) / (high - low)
    elif axis == "difference":
        position = (np.clip(values, -1, 1) + 1) / 2
    else:
        position = np.clip(values, 0, 1)
    return np.round(SVG_HEIGHT - SVG_MARGIN / 2 - position * (SVG_HEIGHT - SVG_MARGIN), 1)


def _x(rank, n: int) -> np.ndarray:
    span = SVG_WIDTH - SVG_MARGIN - 8
    return np.round(SVG_MARGIN + (np.asarray(rank, float) - 0.5) / max(n, 1) * span, 1)


def _tick_text(value: float, axis: str) -> str:
    return format_percent(value) if axis == "proportion" else format_effect(value) if value < 1 else f"{value:g}"


def _curve_data(universe: Multiverse, measure: str | None) -> dict:
    """One curve in SVG coordinates: x, interval ends and estimates per rank, reference, gridlines."""
    curve = universe.curve(measure)
    axis = _axis(universe.outcome, measure)
    n = len(curve)
    reference = curve["reference"].iloc[0] if n else universe.to_frame()["reference"].iloc[0]
    return {
        "x": _x(np.arange(1, n + 1), n).tolist(),
        "lb": _y(curve["ci_lb"], axis).tolist(),
        "ub": _y(curve["ci_ub"], axis).tolist(),
        "estimate": _y(curve["estimate"], axis).tolist(),
        "reference": float(_y([reference], axis)[0]),
        "ticks": [[float(_y([tick], axis)[0]), _tick_text(tick, axis)] for tick in AXIS_TICKS[axis]],
    }


def _curve_svg(group: str, curve: dict) -> str:
    """One curve (gridlines, intervals, estimates, reference) as an SVG group; numbers only."""
    x, low, high, mid = (list(map(float, curve[key])) for key in ("x", "lb", "ub", "estimate"))
    intervals = " ".join(f"M{a:g} {b:g}V{c:g}" for a, b, c in zip(x, low, high))
    estimates = " ".join(f"{'M' if i == 0 else 'L'}{a:g} {b:g}" for i, (a, b) in enumerate(zip(x, mid)))
    right = SVG_WIDTH - 8
    grid = "".join(
        f'<line class="kfm-mv-grid" x1="{SVG_MARGIN:g}" x2="{right:g}" y1="{float(y):g}" y2="{float(y):g}"/>'
        f'<text class="kfm-mv-tick" x="{SVG_MARGIN - 4:g}" y="{float(y) + 4:g}" text-anchor="end">'
        f"{html.escape(str(text))}</text>" for y, text in curve["ticks"])
    reference = float(curve["reference"])
    return (f'<g data-curve="{html.escape(group)}">{grid}<path class="kfm-mv-intervals" d="{intervals}"/>'
            f'<line class="kfm-mv-reference" x1="{SVG_MARGIN:g}" x2="{right:g}" y1="{reference:g}" '
            f'y2="{reference:g}"/><path class="kfm-mv-estimates" d="{estimates}"/></g>')


def page_explorer_data(universe: Multiverse) -> dict:
    """The explorer's data: choices (values and labels), one row per specification, the curves.

    Each row is ``[choice indices..., estimate, interval, k, patients, studies index,
    rank, curve length, share higher, reason index, marker x, marker y, curve]``; texts
    are written by :mod:`analysis.engine.formatting` (``interval`` with its level, a credible interval
    "CrI" for the Bayesian models).
    """
    frame = universe.to_frame()
    outcome = universe.outcome
    names = CHOICE_NAMES[outcome]
    columns, codes = [], []
    for name in names:
        values = as_values(frame[name])
        distinct = list(dict.fromkeys(values))
        position = {value: i for i, value in enumerate(distinct)}
        labels = [value if name == "model" else value_label(name, value) for value in distinct]
        columns.append({"name": name, "title": CHOICE_TITLES[name], "labels": labels})
        codes.append([position[value] for value in values])
    measures = list(dict.fromkeys(frame["measure"])) if outcome == "controlled" else [None]
    places = {}
    for measure in measures:
        curve = universe.curve(measure)
        n = len(curve)
        ordered = np.sort(curve["estimate"].to_numpy(float))
        axis = _axis(outcome, measure)
        for rank, (specification, estimate) in enumerate(zip(curve["specification"], curve["estimate"]), 1):
            higher = (n - np.searchsorted(ordered, estimate, side="right")) / n
            places[specification] = (rank, n, format_percent(higher), float(_x([rank], n)[0]),
                                     float(_y([estimate], axis)[0]), measure or "")
    studies = list(dict.fromkeys(frame["studies"]))
    reasons = list(dict.fromkeys(frame["reason"]))
    level = f"{100 * universe.base.confidence_level:g}%"
    models = frame["proportion_model" if outcome == "response_rate" else "comparison_model"].tolist()
    is_proportion = outcome == "response_rate"
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        estimable = not row.reason
        fmt = format_percent if is_proportion else format_effect
        rank, n, higher, x, y, curve = places.get(row.specification, (None, None, "", None, None, ""))
        rows.append([*(code[i] for code in codes),
                     fmt(row.estimate) if estimable else "",
                     f"{level} {'CrI' if models[i] == 'BAYES' else 'CI'} "
                     f"{format_interval(row.ci_lb, row.ci_ub, percent=is_proportion)}" if estimable else "",
                     int(row.k), format_count(row.patients), studies.index(row.studies), rank, n, higher,
                     reasons.index(row.reason), x, y, curve])
    default = universe.default_row()
    return {
        "outcome": outcome,
        "columns": columns,
        "rows": rows,
        "studies": studies,
        "reasons": reasons,
        "default": None if default is None else int(default["specification"]),
        "curves": {measure or "": _curve_data(universe, measure) for measure in measures},
        "size": len(frame),
    }


def page_explorer(universe: Multiverse) -> PageExplorer:
    """The explorer of the report page for ``universe`` (a notebook cell's last expression)."""
    return PageExplorer(page_explorer_data(universe))


def _json_for_script(data) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _controller() -> str:
    return (resources.files("analysis.present") / "page_explorer.js").read_text(encoding="utf-8")


def render_page_explorer(data: dict) -> str:
    """The explorer's HTML for a report page (see the module docstring).

    >>> html_text = render_page_explorer({"outcome": "response_rate", "columns": [], "rows": [], "studies": [],
    ...                                   "reasons": [], "default": None, "curves": {}, "size": 0})
    >>> html_text.count("<script"), "<noscript>" in html_text, 'id="kfm-multiverse-data"' in html_text
    (2, True, True)
    """
    outcome = "pooled response rate" if data["outcome"] == "response_rate" else "comparison"
    curves = "".join(_curve_svg(str(group), curve) for group, curve in data["curves"].items())
    fields = "".join(
        f'<div class="kfm-mv-field"><label for="kfm-mv-{html.escape(c["name"])}">{html.escape(c["title"])}</label>'
        f'<select id="kfm-mv-{html.escape(c["name"])}" data-column="{j}"></select></div>'
        for j, c in enumerate(data["columns"]))
    results = "".join(f'<dt>{html.escape(title)}</dt><dd data-show="{key}"></dd>' for key, title in (
        ("estimate", "Estimate"), ("interval", "Interval"), ("patients", "Patients"), ("studies", "Studies"),
        ("place", "Place on the curve")))
    svg = (f'<svg class="kfm-mv-curve" viewBox="0 0 {SVG_WIDTH:g} {SVG_HEIGHT:g}" role="img" '
           f'aria-label="Specification curve with the chosen specification marked">{curves}'
           f'<line class="kfm-mv-marker-line" x1="0" x2="0" y1="{SVG_MARGIN / 2}" y2="{SVG_HEIGHT - SVG_MARGIN / 2}"/>'
           '<circle class="kfm-mv-marker" r="6" cx="0" cy="0"/></svg>')
    return (
        f'<section class="kfm-mv" id="kfm-multiverse" aria-label="Choose a specification">'
        f'<noscript><p>The chooser of this section needs JavaScript. Every specification of the {outcome} '
        "is in the specification curve and the tables on this page.</p></noscript>"
        f'<form class="kfm-mv-form" hidden>{fields}</form>'
        f'<div class="kfm-mv-result" hidden><p class="kfm-mv-status" aria-live="polite"></p>'
        f"<dl>{results}</dl>{svg}</div>"
        f'<script type="application/json" id="kfm-multiverse-data">{_json_for_script(data)}</script>'
        f"<script>{_controller()}</script></section>"
    )
