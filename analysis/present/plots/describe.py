"""Captions and alt text of the figures, written from the data each figure draws.

Each ``describe_*`` function takes what the matching plot function takes and returns a
:class:`FigureDescription`: a caption (what the figure shows and how to read it) and an
alt text (what a reader who cannot see it needs: the numbers it shows). Both are read
from the same result objects and frames as the figure (``summary_frame()``, the
sensitivity frames, the duration result), never recomputed, so that the words cannot
disagree with the picture. :func:`analysis.present.plots.show_figure` puts them on the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analysis.present.plots._scale import is_finite, refit_values, scale_for, scale_of

#: Readable protocol windows (as the duration figure labels them).
WINDOW_NAMES = {
    "during_or_immediate": "during or within 4 h of the infusion",
    "short_term": "1 to 7 days after",
    "medium_term": "1 to 4 weeks after",
    "long_term": "8 weeks or more after",
}


@dataclass(frozen=True)
class FigureDescription:
    """The words that go with a figure.

    Attributes
    ----------
    caption : str
        Shown under the figure: what it shows and how to read it.
    alt : str
        The image's alternative text: the figure's result in words and numbers.
    """

    caption: str
    alt: str


def describe_forest_plot(results, *, prediction: bool = True, subgroups=None) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.forest_plot` for the same result(s).

    Parameters
    ----------
    results : result or list of results
        As given to ``forest_plot`` (a ``meta_analysis`` or ``pool_proportions`` result;
        several fits of the same studies are several pooled rows).
    prediction : bool
        As given to ``forest_plot``: whether the prediction interval is drawn.
    subgroups : SubgroupPooling or SubgroupAnalysisResult, optional
        As given to ``forest_plot``: each subgroup's subtotal (or its one study) and the
        test for subgroup differences are described too.

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> fit = pool_proportions([8, 17, 13], [11, 29, 34], method="PLO", labels=["A", "B", "C"])
    >>> print(describe_forest_plot(fit).alt)  # doctest: +NORMALIZE_WHITESPACE
    Forest plot of 3 studies, proportion per study from 38 % (C) to 73 % (A).
    RE Model (REML, PLO): pooled proportion 54 %, 95 % CI 35 % to 72 %,
    95 % prediction interval 24 % to 81 %.
    """
    fits = results if isinstance(results, (list, tuple)) else [results]
    scale = scale_of(fits[0])
    frame = fits[0].summary_frame()
    studies = frame[frame["row_type"] == "study"]
    k = len(studies)
    what = scale.label.lower()
    parts = [f"Forest plot of {_count(k, 'study', 'studies')}"]
    estimates = scale(studies["estimate"].to_numpy(float))
    shown = [(value, label) for value, label in zip(estimates, studies["label"])
             if is_finite(value)]
    if len(shown) > 1:
        low, high = min(shown), max(shown)
        parts[0] += (f", {what} per study from {_value(low[0], scale)} ({low[1]}) to "
                     f"{_value(high[0], scale)} ({high[1]})")
    sentences = [parts[0] + "."]
    for fit in fits:
        pooled = fit.summary_frame()
        pooled = pooled[pooled["row_type"] == "pooled"].iloc[0]
        sentences.append(f"{pooled['label']}: pooled {what} "
                         f"{_interval(pooled, scale, _level(fit), prediction, fit)}.")
    level = _percent(_level(fits[0]))
    pooled_rows = [f.summary_frame().iloc[-1] for f in fits]
    # forest_plot draws the first finite prediction interval as its own grey row
    drawn = next((fit for fit, row in zip(fits, pooled_rows) if prediction and is_finite(row["pi_lb"])), None)
    pi = (f" The grey bar of the row \u201c{drawn.prediction_interval_name.capitalize()}\u201d is the {level} "
          f"{drawn.prediction_interval_name}: where the true effect of a new, similar study is expected to lie."
          if drawn is not None else "")
    model_names = " and ".join(row["label"] for row in pooled_rows)
    pooled_names = " or ".join(dict.fromkeys(
        "credible interval" if fit.interval_name == "CrI" else "confidence interval" for fit in fits))
    caption = (f"{scale.label} in each study (square, with its {level} confidence interval) "
               f"and pooled ({model_names}; diamond, with its {level} {pooled_names}).{pi}")
    if subgroups is not None:
        sentences[1:1] = _subgroup_sentences(subgroups, scale, what)
        caption += (" Studies are grouped under bold subgroup headings; a subgroup of two or more "
                    "studies has its subtotal (diamond, with its heterogeneity), and the test for "
                    "subgroup differences is the last line.")
    return FigureDescription(caption, " ".join(sentences))


def _subgroup_sentences(subgroups, scale, what) -> list[str]:
    from analysis.present.plots.forest import subgroup_difference_text
    from analysis.engine.subgroups import MIN_SUBTOTAL_STUDIES

    sentences = []
    for group, fit in subgroups.by_group.items():
        if fit.k < MIN_SUBTOTAL_STUDIES:
            sentences.append(f"{group} (one study, {fit.labels[0]}): no subtotal.")
            continue
        pooled = fit.summary_frame().iloc[-1]
        sentences.append(f"{group} ({_count(fit.k, 'study', 'studies')}): subtotal {what} "
                         f"{_interval(pooled, scale, _level(fit), prediction=False, fit=fit)}.")
    difference = subgroup_difference_text(subgroups)
    return sentences + ([difference + "."] if difference else [])


def describe_funnel_plot(result) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.funnel_plot` (studies and pooled line).

    The funnel plot draws the inverse-variance fit (``result.pooled`` of a proportions
    result) on its analysis scale; so does this description.
    """
    from analysis.present.plots.funnel import contour_title

    fit = result.pooled if getattr(result, "pooled", None) is not None else result
    frame = fit.summary_frame()
    studies = frame[frame["row_type"] == "study"]
    pooled = frame[frame["row_type"] == "pooled"].iloc[0]
    analysis_label = _analysis_scale_name(fit)
    se = studies["se"].to_numpy(float)
    alt = (f"Funnel plot of {_count(len(studies), 'study', 'studies')}: estimate on the "
           f"{analysis_label} scale against its standard error (from {min(se):.2f} to "
           f"{max(se):.2f}); the pooled estimate of the {result.model_label}, "
           f"{float(pooled['estimate']):.2f}, is the vertical line.")
    against = contour_title(result).split("against ")[-1]
    caption = (f"Contour-enhanced funnel plot ({result.model_label}, {analysis_label} scale): "
               "each study's estimate against its standard error; the dashed vertical line is "
               f"this model's pooled estimate, and the shaded regions mark a study's two-sided "
               f"p-value against {against} (above 0.10, 0.05 to 0.10, 0.01 to 0.05, 0.01 or "
               "below). With fewer than 10 studies, asymmetry cannot be judged reliably.")
    return FigureDescription(caption, alt)


def describe_leave_one_out_plot(frame: pd.DataFrame, result) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.leave_one_out_plot`."""
    return _describe_refits(frame, result, "Leave-one-out plot", "omitting {}",
                            "The pooled estimate refitted without each study in turn")


def describe_cumulative_plot(frame: pd.DataFrame, result) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.cumulative_plot`."""
    return _describe_refits(frame, result, "Cumulative meta-analysis plot", "up to {}",
                            "The pooled estimate as studies are added one at a time")


def _describe_refits(frame, result, kind, template, what) -> FigureDescription:
    scale, refits, pooled = refit_values(frame, result)
    estimates = scale(refits["estimate"].to_numpy(float))
    fitted = [(value, label) for value, label in zip(estimates, frame["label"])
              if is_finite(value)]
    name = scale.label.lower()
    text = f"{kind} of {_count(len(frame), 'refit', 'refits')}"
    if fitted:
        low, high = min(fitted), max(fitted)
        text += (f": pooled {name} from {_value(low[0], scale)} "
                 f"({template.format(low[1])}) to {_value(high[0], scale)} "
                 f"({template.format(high[1])})")
    unfitted = len(frame) - len(fitted)
    if unfitted:
        text += f"; {_count(unfitted, 'refit', 'refits')} without an estimate"
    sentences = [text + "."]
    if result is not None:
        row = pd.Series(dict(zip(("estimate", "ci_lb", "ci_ub"), pooled)))
        sentences.append(f"With all studies ({result.model_label}): "
                         f"{_interval(row, scale, _level(result), prediction=False)}.")
    caption = (f"{what} ({scale.label.lower()}, with {_percent(_level(result))} confidence "
               "intervals); the bottom row is the fit with every study.")
    return FigureDescription(caption, " ".join(sentences))


def describe_duration_plot(duration) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.duration_plot` (``pooled=True``).

    Each window gives the ketamine arms (pooled, or the one study) and then every control
    arm drawn in it, from the same frame the figure draws (``to_frame()``).
    """
    frame = duration.to_frame() if hasattr(duration, "to_frame") else duration
    pooled = _pooled_windows(frame)
    controls = frame[frame["row_type"] == "control"]
    level = _percent(_level(duration))
    sentences = []
    for _, row in pooled.iterrows():
        window = WINDOW_NAMES.get(row["time_window"], str(row["time_window"]))
        k = int(row["k"]) if is_finite(row["k"]) else 0
        if k == 0:
            sentences.append(f"{window}: no study")
        else:
            fit = getattr(duration, "fits", {}).get(row["time_window"])
            name = fit.interval_name if fit is not None else "CI"
            value = (f"{_pct(row['prop'])} ({level} {name} {_pct(row['prop_ci_lb'])} to "
                     f"{_pct(row['prop_ci_ub'])})")
            source = f"arms {value}, pooled, {k} studies" if k > 1 else f"arm {value}, one study"
            sentences.append(f"{window}: ketamine {source}" + _control_text(
                controls[controls["time_window"] == row["time_window"]], level))
    alt = ("Responders after ketamine by time after the infusion. "
           + "; ".join(s[0].upper() + s[1:] for s in sentences) + ".")
    caption = ("Proportion of responders by time after the infusion: each study's ketamine arm "
               "(filled symbols, solid lines) and control arm where it has one (open symbols, "
               f"dashed lines), with exact {level} confidence intervals, and the pooled proportion "
               "of the ketamine arms per protocol window where two or more studies report it. "
               "Lines join a study's time points only across adjacent windows that both have "
               "data.")
    return FigureDescription(caption, alt)


def _control_text(controls: pd.DataFrame, level: str) -> str:
    """", control arm of A 2011 25 % at 15 min (3/12, 95 % CI 5 % to 57 %)", per study drawn."""
    texts = []
    for label, arm in controls.groupby("label", sort=False):
        points = [f"{_pct(row['estimate'])}{_at_time(row['timepoint_hours'])} "
                  f"({int(row['events'])}/{int(row['n'])}, {level} CI {_pct(row['ci_lb'])} to "
                  f"{_pct(row['ci_ub'])})" for _, row in arm.iterrows()]
        texts.append(f", control arm of {label} " + " and ".join(points))
    return "".join(texts)


def _at_time(hours) -> str:
    """" at 15 min", " at 2.5 h", " at 7 days", " at 8 weeks"; "" without a time."""
    if not is_finite(hours):
        return ""
    hours = float(hours)
    if hours < 1:
        return f" at {hours * 60:g} min"
    if hours < 48:
        return f" at {hours:g} h"
    return f" at {hours / 24:g} days" if hours < 336 else f" at {hours / 168:g} weeks"


def _pooled_windows(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame[frame["row_type"] == "pooled"].copy()
    if "k" not in rows.columns:  # to_frame() labels carry k: "Pooled (short_term, k = 1)"
        rows["k"] = rows["label"].str.extract(r"k = (\d+)", expand=False).astype(float)
    return rows.rename(columns={"estimate": "prop", "ci_lb": "prop_ci_lb",
                                "ci_ub": "prop_ci_ub"})


def describe_risk_of_bias_plot(table: pd.DataFrame, *, study_column: str = "study_label",
                               tool_column: str = "rob_tool",
                               overall_column: str = "rob_overall") -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.risk_of_bias_plot` (same defaults)."""
    from analysis.present.plots.risk_of_bias import JUDGEMENTS, TOOL_NAMES, _blocks

    blocks = _blocks(table, study_column, tool_column, None, overall_column)
    sentences = []
    for tool, frame, columns in blocks:
        counts = frame[overall_column].value_counts() if overall_column in columns else None
        overall = ""
        if counts is not None:
            overall = ", overall " + ", ".join(
                f"{n} {JUDGEMENTS[j][2].lower() if j in JUDGEMENTS else j.replace('_', ' ')}"
                for j, n in counts.items())
        name = TOOL_NAMES.get(tool, str(tool)) if tool is not None else "risk of bias"
        sentences.append(f"{name}: {_count(len(frame), 'study', 'studies')}, "
                         f"{_count(len(columns), 'domain', 'domains')}{overall}")
    alt = "Risk-of-bias traffic-light plot. " + "; ".join(sentences) + "."
    caption = ("Risk of bias per study and domain (traffic lights, each judgement with its "
               "own symbol) and the share of studies with each judgement per domain; one "
               "panel per assessment tool. Studies not assessed are not shown.")
    return FigureDescription(caption, alt)


def describe_prisma_plot(flow: pd.DataFrame) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.prisma_plot`: every box's words and counts.

    Examples
    --------
    >>> flow = pd.DataFrame({"stage": ["records_screened", "excluded_at_screening"],
    ...                      "count": [12, 9], "unit": ["reports", "reports"],
    ...                      "reason_label": ["", "Off-topic: no ketamine"]})
    >>> describe_prisma_plot(flow).alt
    'PRISMA 2020 flow diagram. Identification of studies via databases and registers: records screened (n = 12 reports); records excluded (n = 9 reports): Off-topic: no ketamine (n = 9).'
    """
    from analysis.present.plots.prisma import ROUTES, stage_texts

    texts = stage_texts(flow)
    parts = []
    for route, heading in (*ROUTES, ("", "Included")):
        boxes = [_box_words(lines) for (r, _), lines in texts.items() if r == route]
        if boxes:
            parts.append(f"{heading}: " + "; ".join(boxes))
    alt = "PRISMA 2020 flow diagram. " + ". ".join(parts) + "."
    caption = ("PRISMA 2020 flow diagram: identification of studies via databases and registers "
               "(left) and via other methods (right), each with its exclusions and their reasons. "
               "Counts from data/prisma.csv; reports not retrieved and reports excluded are counted "
               "from data/awaiting_classification.csv and data/excluded_studies.csv.")
    return FigureDescription(caption, alt)


def _box_words(lines: list[str]) -> str:
    head = lines[0][:1].lower() + lines[0][1:]
    reasons = [line.removeprefix("• ") for line in lines[1:]]
    return head + (": " + ", ".join(reasons) if reasons else "")


# --------------------------------------------------------------------------- formatting


def _interval(row, scale, level, prediction=True, fit=None) -> str:
    """The pooled row's estimate and intervals, each named for what it is (a posterior's are a
    credible interval, CrI, and a posterior predictive interval)."""
    name = fit.interval_name if fit is not None else "CI"
    prediction_name = fit.prediction_interval_name if fit is not None else "prediction interval"
    text = (f"{_value(scale([row['estimate']])[0], scale)}, {_percent(level)} {name} "
            f"{_value(scale([row['ci_lb']])[0], scale)} to "
            f"{_value(scale([row['ci_ub']])[0], scale)}")
    if prediction and "pi_lb" in row and is_finite(row["pi_lb"]):
        text += (f", {_percent(level)} {prediction_name} "
                 f"{_value(scale([row['pi_lb']])[0], scale)} to "
                 f"{_value(scale([row['pi_ub']])[0], scale)}")
    return text


def _value(value: float, scale) -> str:
    """A proportion as a whole percentage, anything else with two decimals."""
    if not is_finite(value):
        return "not estimable"
    if scale.null is None and scale.label.lower() == "proportion":
        return _pct(value)
    return f"{float(value):.2f}"


def _pct(value) -> str:
    return "not estimable" if not is_finite(value) else f"{100 * float(value):.0f} %"


def _percent(level) -> str:
    return f"{100 * float(level):g} %"


def _level(result) -> float:
    level = getattr(result, "confidence_level", None)
    return 0.95 if level is None or (isinstance(level, float) and math.isnan(level)) else level


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _analysis_scale_name(fit) -> str:
    from analysis.present.plots._scale import analysis_scale_for

    return analysis_scale_for(getattr(fit, "measure", None)).label.lower()


def describe_posterior_plot(result) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.posterior.posterior_plot` (a Bayesian result)."""
    natural = result.natural()
    level = f"{100 * result.confidence_level:g} %"
    estimate = natural.format(natural.estimate).replace("%", " %")
    interval = natural.interval_text().replace("%", " %")
    alt = (f"Posterior densities of a Bayesian random-effects model of {_count(result.k, 'study', 'studies')} "
           f"with a {result.tau_prior.label} prior on tau: pooled {natural.label.lower()} {estimate}, "
           f"{level} credible interval {interval}; between-study SD tau posterior median "
           f"{result.tau_median:.2f} ({level} credible interval {result.tau_ci_lb:.2f} to {result.tau_ci_ub:.2f}).")
    effects = ("the pooled effect and a new study's effect" if result.has_prediction_interval
               else "the pooled effect (one study: no new study's effect)")
    scale = result.measure_scale  # the scale the densities are drawn on, as the figure's axis names it
    scale_name = scale.analysis_label.lower() if scale is not None else _analysis_scale_name(result)
    caption = (f"Posterior densities ({result.model_label}): {effects} "
               f"on the {scale_name} scale, and the between-study SD tau; grey lines "
               "are the priors, so the figure shows how much the data moved them.")
    return FigureDescription(caption, alt)


def describe_specification_curve(universe, *, measure: str | None = None) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.specification_curve.specification_curve_plot`."""
    summary = universe.summary(measure, time_window=None)  # the whole curve the figure draws
    curve = universe.curve(measure)
    level = _percent(universe.base.confidence_level)

    def value(x):
        return _pct(x) if summary.is_proportion else f"{float(x):.2f}"

    reference = value(summary.reference)
    windows = len(universe.windows(measure))
    alt = (f"Specification curve of {_count(summary.estimable, 'specification', 'specifications')} with an "
           f"estimate (of {summary.specifications}; {_count(windows, 'time window', 'time windows')}, "
           f"each a different question): {summary.what} from {value(summary.minimum)} to "
           f"{value(summary.maximum)}, median {value(summary.median)}; intervals above {reference}: "
           f"{_pct(summary.above)}, below: {_pct(summary.below)}, including it: {_pct(summary.includes)}.")
    default = curve[curve["is_default"]]
    if len(default):
        row = default.iloc[0]
        rank, n, _ = universe.rank(row["specification"])
        alt += (f" The plan's primary analysis ({row['model']}) gives {value(row['estimate'])} ({level} interval "
                f"{value(row['ci_lb'])} to {value(row['ci_ub'])}), rank {rank} of {n} from the lowest in its window.")
    mark = summary.reference_words  # as the figure's legend says it
    caption = (f"Every defensible specification's {summary.what}, sorted, with its {level} interval (blue: above "
               f"{mark}; vermillion: below {mark}; grey: includes {mark}); the diamond is the plan's primary "
               "analysis. Each time window is a different question; the panel beneath marks the window too. "
               "Beneath, a mark in each row shows the choices each specification made.")
    return FigureDescription(caption, alt)


def icon_array_legend(response) -> tuple[str, str, str]:
    """The legend lines of :func:`analysis.present.plots.icon_array.response_icon_array`.

    >>> from analysis.present.plain import ResponseFacts
    >>> icon_array_legend(ResponseFacts(0.576, 0.415, 0.752, (), 50.0, 0))
    ('58 had at least half their pain gone (best estimate)', 'The true number could be anywhere in the shaded band: 42 to 75', '42 did not')
    """
    from analysis.present.plain import pain_gone
    from analysis.present.plots.icon_array import PEOPLE, _counts

    estimate, low, high = _counts(response)
    return (f"{estimate} had {pain_gone(response.threshold_percent)} (best estimate)",
            f"The true number could be anywhere in the shaded band: {low} to {high}",
            f"{PEOPLE - estimate} did not")


def comparison_legend(response) -> tuple[str, str]:
    """The legend lines of :func:`analysis.present.plots.icon_array.comparison_icon_array`.

    >>> from analysis.present.plain import ResponseFacts
    >>> comparison_legend(ResponseFacts(0.5, 0.4, 0.6, (), 50.0, 0))
    ('had at least half their pain gone', 'did not')
    """
    from analysis.present.plain import pain_gone

    return f"had {pain_gone(response.threshold_percent)}", "did not"


def describe_response_icon_array(response) -> FigureDescription:
    """Caption and alt text of the 100-person icon array of the pooled response rate.

    >>> from analysis.present.plain import ResponseFacts, StudyCount
    >>> facts = ResponseFacts(0.576, 0.415, 0.752, (StudyCount("A 2000", 2000, 8, 11, False),
    ...                       StudyCount("B 2011", 2011, 8, 12, True)), 50.0, 0)
    >>> print(describe_response_icon_array(facts).caption)  # doctest: +NORMALIZE_WHITESPACE
    Out of 100 people like those studied, about 58 had at least half their pain gone after
    ketamine (dark figures). The shaded band shows how sure we can be: the true number could be
    anywhere from 42 to 75. Only 1 of the 2 studies also counted people on a dummy treatment, so
    some of these people would have got better anyway, without ketamine. Based on 2 studies with 23
    people.
    """
    from analysis.present.plain import pain_gone
    from analysis.present.plots.icon_array import PEOPLE, _counts

    estimate, low, high = _counts(response)
    gone = pain_gone(response.threshold_percent)
    k = len(response.studies)
    if response.compared == k:
        control = "Every study also counted people on a dummy treatment; this picture shows only ketamine."
    else:
        control = ((f"Only {response.compared} of the {k} studies also counted" if response.compared
                    else "None of the studies counted") + " people on a dummy treatment, so some of these "
                   "people would have got better anyway, without ketamine.")
    caption = (f"Out of {PEOPLE} people like those studied, about {estimate} had {gone} after ketamine "
               f"(dark figures). The shaded band shows how sure we can be: the true number could be "
               f"anywhere from {low} to {high}. {control} Based on {_count(k, 'study', 'studies')} with "
               f"{response.people} people.")
    alt = (f"Icon array of {PEOPLE} people: {estimate} dark figures had {gone}, {PEOPLE - estimate} grey "
           f"figures did not; a light band behind people {low + 1} to {high} shows the range of "
           "uncertainty.")
    return FigureDescription(caption, alt)


def describe_comparison_icon_array(trial, threshold_percent: float = 50.0) -> FigureDescription:
    """Caption and alt text of the icon array of one trial's arms over time.

    ``threshold_percent`` is the responder threshold (pain reduction) the figures are shaded by.

    >>> from analysis.present.plain import ArmsAt, TrialFacts
    >>> t = TrialFacts("N 2011", "active_placebo", "midazolam", (ArmsAt(0.25, 8, 12, 3, 12),
    ...                ArmsAt(1344, 2, 12, 2, 12)))
    >>> d = describe_comparison_icon_array(t, 50)
    >>> print(d.caption)  # doctest: +NORMALIZE_WHITESPACE
    One study (N 2011) gave some people ketamine and others a dummy treatment. The dummy treatment
    was midazolam, a drug that makes people calm and sleepy, so people could not easily tell which
    drug they had (an active placebo). Each figure is one person in the study; dark figures had at
    least half their pain gone. 15 minutes after: 8 of 12 with ketamine, 3 of 12 with the dummy
    treatment. 8 weeks after: 2 of 12 with ketamine, 2 of 12 with the dummy treatment. This is one
    small study, so chance plays a large part.
    >>> print(d.alt)  # doctest: +NORMALIZE_WHITESPACE
    Icon arrays of the 12 people given ketamine and the 12 given the dummy treatment in N 2011, at 2
    times: 15 minutes after, 8 of 12 and 3 of 12 had at least half their pain gone; 8 weeks after, 2
    of 12 and 2 of 12.
    """
    from analysis.present.plain import comparison_explained, comparison_name, pain_gone, when

    gone = pain_gone(threshold_percent)
    other = comparison_name(trial)
    active = " (an active placebo)" if trial.control == "active_placebo" else ""
    explained = comparison_explained(trial)
    explained = explained[:-1] + active + "." if explained else ""
    times = " ".join(f"{when(a.hours).capitalize()} after: {a.ketamine_events} of {a.ketamine_n} with ketamine, "
                     f"{a.control_events} of {a.control_n} with {other}." for a in trial.times)
    some = "another painkiller" if trial.control == "other_analgesic" else "a dummy treatment"
    caption = (f"One study ({trial.label}) gave some people ketamine and others {some}. "
               f"{explained} Each figure is one person in the study; dark figures had {gone}. {times} "
               "This is one small study, so chance plays a large part.")
    first = trial.times[0]
    counts = "; ".join(
        (f"{when(a.hours)} after, {a.ketamine_events} of {a.ketamine_n} and {a.control_events} of "
         f"{a.control_n}" + (f" had {gone}" if i == 0 else "")) for i, a in enumerate(trial.times))
    alt = (f"Icon arrays of the {first.ketamine_n} people given ketamine and the {first.control_n} given "
           f"{other} in {trial.label}, at {len(trial.times)} times: {counts}.")
    return FigureDescription(" ".join(caption.split()), alt)


def _about(n: int) -> str:
    return "none" if n == 0 else f"about {n}"


def describe_trials_icon_array(trials, comparisons, threshold_percent: float = 50.0) -> FigureDescription:
    """Caption and alt text of :func:`analysis.present.plots.icon_array.trials_icon_array`, from the
    same facts (the people of 100 it draws, :func:`analysis.present.plots.icon_array.hundreds`).

    >>> from analysis.present.plain import ArmsAt, ComparisonFacts, TrialFacts
    >>> t = [TrialFacts(x, "saline_placebo", "saline", (ArmsAt(1.0, 1, 2, 1, 2),)) for x in ("A", "B")]
    >>> c = (ComparisonFacts("during_or_immediate", 2, 3 / 24, 0.56, 0.21, 1.0, 16, 24, 3, 24, "low"),
    ...      ComparisonFacts("short_term", 2, 0.0, math.nan, math.nan, math.nan, 4, 24, 0, 24, "very low"),
    ...      ComparisonFacts("long_term", 1, 1 / 14, 0.09, 0.01, 0.6, 1, 14, 1, 14, "very low"))
    >>> d = describe_trials_icon_array(t, c, 50)
    >>> print(d.caption)  # doctest: +NORMALIZE_WHITESPACE
    2 studies gave some people ketamine and others a dummy treatment. Out of 100 people like those in
    the studies, about 56 who had ketamine and about 13 who had the dummy treatment had at least half
    their pain gone in the first 4 hours. After 1 to 7 days: about 17 with ketamine and none with the
    dummy treatment; as no one on the dummy treatment had at least half their pain gone then, the
    number with ketamine is the share in the studies' ketamine groups (4 of 24 people). After 8 weeks
    or more (1 of 2 studies): about 9 with ketamine and about 7 with the dummy treatment. Each figure
    is one person; dark figures had at least half their pain gone. The pictures show the most likely
    numbers; the true numbers could be higher or lower (the key messages say how sure we are).
    >>> print(d.alt)  # doctest: +NORMALIZE_WHITESPACE
    Icon arrays of 100 people with ketamine and 100 with the dummy treatment, at 3 times: in the first
    4 hours, 56 and 13 had at least half their pain gone; after 1 to 7 days, 17 and 0; after 8 weeks or
    more (1 of 2 studies), 9 and 7.
    """
    from analysis.present.plain import INDEFINITE, other_name, pain_gone
    from analysis.present.plots.icon_array import PEOPLE, hundreds, time_words

    gone, other = pain_gone(threshold_percent), other_name(trials)
    first, *rest = comparisons
    ketamine, control = hundreds(first)

    def own(c) -> str:  # where no one on the comparison responded, the figure draws the ketamine arms' share
        return (f"as no one on {other} had {gone} then, the number with ketamine is the share in the studies' "
                f"ketamine groups ({c.ketamine_events} of {c.ketamine_n} people)" if math.isnan(c.ketamine_risk) else "")

    said = [f"Out of {PEOPLE} people like those in the studies, {_about(ketamine)} who had ketamine and "
            f"{_about(control)} who had {other} had {gone} {time_words(first, trials)}"
            + (f"; {own(first)}." if own(first) else ".")]
    for c in rest:
        ketamine, control = hundreds(c)
        when_ = time_words(c, trials)
        said.append(f"{when_[0].upper()}{when_[1:]}: {_about(ketamine)} with ketamine and {_about(control)} "
                    f"with {other}" + (f"; {own(c)}." if own(c) else "."))
    caption = (f"{_count(len(trials), 'study', 'studies')} gave some people ketamine and others "
               f"{INDEFINITE[other]}. {' '.join(said)} Each figure is one person; dark figures had {gone}. "
               "The pictures show the most likely numbers; the true numbers could be higher or lower (the key "
               "messages say how sure we are).")
    counts = "; ".join(f"{time_words(c, trials)}, {' and '.join(map(str, hundreds(c)))}"
                       + (f" had {gone}" if i == 0 else "") for i, c in enumerate(comparisons))
    alt = (f"Icon arrays of {PEOPLE} people with ketamine and {PEOPLE} with {other}, at "
           f"{len(comparisons)} times: {counts}.")
    return FigureDescription(caption, alt)
