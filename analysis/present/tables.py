"""Tables for readers: captioned, labelled, formatted; no DataFrame reaches a reader as it is.

Every table the report shows goes through :func:`reader_table` (rows of the data
tables) or :func:`results_table` (pooled results). Headers come from the data
dictionaries' reader labels (with units), coded values are shown by their labels,
numbers in the house style of :mod:`analysis.engine.formatting`, missing values as a dash,
the index hidden. Tables are pandas ``Styler`` objects (pandas' own publication-table
tool), so they render as HTML in JupyterLab and in the static report alike; every one is
made by :func:`analysis.present.safe_html.styled_table`, which escapes every cell, header and
caption (text from the data is never markup).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from analysis.engine._errors import AnalysisError
from analysis.engine.bayesian import SENSITIVITY_PRIORS, prior_sensitivity
from analysis.engine.contract import PooledResult
from analysis.data import INFERRED_SEPARATOR, INFERRED_VALUES, DataDictionary
from analysis.engine.formatting import format_count, format_number, format_percent, is_missing
from analysis.review.protocol import WINDOW
from analysis.present.safe_html import escape_markdown, styled_table

#: What a reader sees for a missing value.
MISSING = "–"

#: The mark of a value inferred from the source's wording, and what it means under a table.
INFERRED_MARK = "†"
INFERRED_NOTE = (f"{INFERRED_MARK} Inferred from the source's wording, not stated in it or computed from stated "
                 "numbers (the reasoning is in data/provenance.csv). The sensitivity analysis \"stated and computed "
                 "values only\" leaves out rows whose counts are inferred and counts an inferred time as not stated.")

#: Number formats by name: how a column's values are written.
FORMATS = {
    "count": format_count,
    "percent": format_percent,
    "number": lambda value: format_number(value, 2),
    "whole": lambda value: format_number(value, 0),
    "text": str,
}


def _default_format(spec) -> str:
    if spec is None:
        return "text"
    if spec.type == "integer":
        return "count"
    if spec.type == "number":
        return "whole" if spec.unit in ("percent", "hours", "minutes", "days") else "number"
    return "text"


def _cell(value, spec, fmt: str) -> str:
    if is_missing(value):
        return MISSING
    if isinstance(value, bool) or (spec is not None and spec.type == "boolean"):
        return "Yes" if bool(value) else "No"
    if spec is not None and spec.type == "category":
        return spec.value_label(value)
    if fmt == "percent" and spec is not None and spec.unit == "percent":
        value = float(value) / 100
    return FORMATS[fmt](value) if fmt != "text" else str(value)


def reader_table(frame: pd.DataFrame, *, caption: str, columns: Sequence[str] | Mapping[str, str],
                 dictionary: DataDictionary | None = None, formats: Mapping[str, str] | None = None,
                 empty: str = "No rows.") -> Styler | Markdown:
    """A captioned table of ``frame``'s ``columns`` for readers.

    Parameters
    ----------
    frame : DataFrame
        Rows to show (its index is not shown).
    caption : str
        What the table shows, in a sentence.
    columns : sequence of str or mapping
        The columns to show, in order; a mapping gives the header of each. Without a
        header, a column's header is its reader label (with unit) from ``dictionary``.
    dictionary : DataDictionary, optional
        The data dictionary of ``frame`` (category labels, types, units).
    formats : mapping, optional
        Column -> a key of :data:`FORMATS`; default by the dictionary type (counts as whole
        numbers, percentages and durations without decimals, others with two).
    empty : str
        Shown instead of a table when ``frame`` has no rows.

    Notes
    -----
    A value the provenance records as inferred from wording (the ``inferred_values`` column
    of :func:`analysis.data.load_studies`) is shown with :data:`INFERRED_MARK`, and the
    caption then ends with :data:`INFERRED_NOTE`.

    Returns
    -------
    pandas.io.formats.style.Styler or IPython.display.Markdown
        The table, or the ``empty`` message (never an empty table).

    Examples
    --------
    >>> from analysis.data import load_dictionary, DATA_DIR
    >>> d = load_dictionary(DATA_DIR / "studies.dictionary.csv")
    >>> rows = pd.DataFrame({"study_label": ["A 2020"], "design": ["rct_crossover"], "include_in_pooling": [True],
    ...                      "ketamine_n": [12.0], "dose_mg_per_kg": [float("nan")]})
    >>> table = reader_table(rows, caption="Studies.", columns=list(rows.columns), dictionary=d)
    >>> list(table.data.columns), table.data.iloc[0].tolist()
    (['Study', 'Design', 'Pooled', 'Ketamine: patients', 'Dose (mg/kg)'], ['A 2020', 'Randomised, crossover', 'Yes', '12', '–'])
    """
    if not caption:
        raise AnalysisError("every table needs a caption that says what it shows")
    if frame.empty:
        return Markdown(f"*{escape_markdown(caption)}* {escape_markdown(empty)}")
    names = list(columns)
    headers = dict(columns) if isinstance(columns, Mapping) else {}
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise AnalysisError(f"the table has no column {', '.join(missing)}; columns: {', '.join(frame.columns)}")
    formats = dict(formats or {})
    inferred = _inferred_columns(frame)
    shown = {}
    for name in names:
        spec = dictionary[name] if dictionary is not None and name in dictionary else None
        header = headers.get(name) or (spec.header if spec is not None else name)
        fmt = formats.get(name, _default_format(spec))
        shown[header] = [_cell(value, spec, fmt) + (INFERRED_MARK if name in marked else "")
                         for value, marked in zip(frame[name], inferred)]
    marks = any(set(names) & marked for marked in inferred)
    return styled_table(pd.DataFrame(shown), f"{caption} {INFERRED_NOTE}" if marks else caption)


def _inferred_columns(frame: pd.DataFrame) -> list[set[str]]:
    """Per row of ``frame``, the columns whose value is inferred (none without the column)."""
    if INFERRED_VALUES not in frame.columns:
        return [set() for _ in range(len(frame))]
    return [set(str(names).split(INFERRED_SEPARATOR)) - {""} for names in frame[INFERRED_VALUES]]


def results_table(results: Mapping[str, PooledResult], *, caption: str, primary: str | None = None) -> Styler:
    """One row per pooled result on the natural scale: studies, patients, estimate, CI, PI,
    heterogeneity. The scale is named in the header, so no analysis-scale number stands
    unlabelled beside a percentage; intervals are headed CI, CrI (all Bayesian) or "CI or CrI".

    ``primary``: the key of the primary analysis; the first column then says which row is the
    primary analysis and which are sensitivity analyses, instead of showing the keys.

    Examples
    --------
    >>> from analysis import pool_proportions
    >>> fits = {"GLMM": pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17])}
    >>> results_table(fits, caption="Models.").data.iloc[0].tolist()
    ['GLMM', 'binomial-normal random-effects model (GLMM)', '5', '103', '57%', '44% to 69%', '37% to 75%', '31%']
    """
    if not results:
        raise AnalysisError("results_table needs at least one result")
    names = {result.interval_name for result in results.values()}
    interval = names.pop() if len(names) == 1 else "CI or CrI"
    rows = []
    for name, result in results.items():
        natural = result.natural()
        rows.append({
            "Analysis": name if primary is None else
            "Primary analysis" if name == primary else "Sensitivity analysis",
            "Model": result.model_description,
            "Studies": str(result.k),
            "Patients": format_count(result.participants) if result.participants is not None else MISSING,
            f"{natural.label}": natural.format(natural.estimate),
            f"{100 * result.confidence_level:g}% {interval}": natural.interval_text(),
            "Prediction interval": natural.interval_text(prediction=True) if result.has_prediction_interval
            else "none (see notes)" if result.random_effects and result.k > 1 else MISSING,
            "I²": f"{format_number(result.i2, 0)}%" if not is_missing(getattr(result, "i2", None)) else MISSING,
        })
    return styled_table(pd.DataFrame(rows), caption)


def study_table(result: PooledResult, *, caption: str, rows: pd.DataFrame | None = None) -> Styler:
    """The forest plot's numbers as a table: each study and the pooled row, on the natural scale.

    ``rows``: the pooled rows of the study table (``study_label``, ``inferred_values``); a
    study whose counts are inferred from wording is then marked (:data:`INFERRED_MARK`).

    Examples
    --------
    >>> from analysis import pool_proportions
    >>> fit = pool_proportions([8, 17], [12, 29], labels=["A", "B"])
    >>> study_table(fit, caption="Studies.").data.iloc[0].tolist()
    ['A', '8/12', '67%', '35% to 90%']
    """
    frame = result.summary_frame()
    natural = result.natural()
    scale = result.measure_scale
    to_natural = (lambda v: v) if result.summary_frame_scale == "natural" or scale is None else (
        lambda v: float(scale.back_transform(v)))
    label = natural.label
    counts = ("ketamine_events", "ketamine_n")
    inferred = ({} if rows is None else
                {study: bool(set(counts) & marked) for study, marked in zip(rows["study_label"], _inferred_columns(rows))})
    table_rows = []
    for _, row in frame.iterrows():
        events = (f"{format_count(row['events'])}/{format_count(row['n'])}"
                  + (INFERRED_MARK if inferred.get(row["label"]) else "")
                  if "events" in frame.columns and not is_missing(row.get("events")) else MISSING)
        estimate, lower, upper = (to_natural(row[c]) for c in ("estimate", "ci_lb", "ci_ub"))
        table_rows.append({
            "Study": row["label"],
            "Responders / patients": events,
            label: natural.format(estimate),
            f"{100 * result.confidence_level:g}% CI": f"{natural.format(lower)} to {natural.format(upper)}",
            "Weight": f"{format_number(row['weight'], 1)}%" if not is_missing(row["weight"]) else MISSING,
        })
    table = pd.DataFrame(table_rows)
    if "events" not in frame.columns:
        table = table.drop(columns="Responders / patients")
    if (table["Weight"] == MISSING).all():  # the GLMM has no study weights
        table = table.drop(columns="Weight")
    return styled_table(table, f"{caption} {INFERRED_NOTE}" if any(inferred.values()) else caption)


def labelled(frame: pd.DataFrame, dictionary: DataDictionary) -> pd.DataFrame:
    """``frame`` with every category column's codes replaced by their reader labels (for figures).

    >>> from analysis.data import load_dictionary, DATA_DIR
    >>> d = load_dictionary(DATA_DIR / "studies.dictionary.csv")
    >>> labelled(pd.DataFrame({"design": ["rct_crossover"], "route": ["iv"]}), d).iloc[0].tolist()
    ['Randomised, crossover', 'Intravenous']
    """
    out = frame.copy()
    for name in out.columns:
        if name in dictionary and dictionary[name].type == "category":
            out[name] = [dictionary[name].value_label(v) if not is_missing(v) else v for v in out[name]]
    return out


def duration_table(duration, *, caption: str = "Responders per protocol window") -> Styler:
    """Per window: samples, responders / patients, the proportion with its CI and prediction interval."""
    rows = []
    for row in duration.pooled.itertuples(index=False):
        pooled = row.time_window in duration.fits
        single = row.k == 1
        rows.append({
            "Time after the infusion": WINDOW[row.time_window].axis_label,
            "Samples": str(int(row.k)),
            "Responders / patients": f"{int(row.events)}/{int(row.n)}" if row.k else MISSING,
            "Proportion": format_percent(row.prop) if not is_missing(row.prop) else MISSING,
            f"{100 * duration.confidence_level:g}% CI":
                f"{format_percent(row.prop_ci_lb)} to {format_percent(row.prop_ci_ub)}"
                if not is_missing(row.prop_ci_lb) else MISSING,
            "Prediction interval": f"{format_percent(row.prop_pi_lb)} to {format_percent(row.prop_pi_ub)}"
            if pooled and not is_missing(row.prop_pi_lb) else MISSING,
            "How": (duration.fits[row.time_window].model_description if pooled
                    else "one study, its exact interval" if single else "no study"),
        })
    return styled_table(pd.DataFrame(rows), caption)


def prior_sensitivity_table(result, *, threshold: float, caption: str) -> Styler:
    """The Bayesian result under each prior of the sensitivity analysis, on the natural scale.

    ``threshold`` is on the analysis scale of a comparison (0: no difference) or the proportion
    scale of a response rate; the last column is the posterior probability of exceeding it.
    """
    natural = result.natural()
    # Turner's predictive distributions are for log odds ratios, not for a single proportion's logit
    priors = {label: options for label, options in SENSITIVITY_PRIORS.items()
              if not (natural.is_proportion and label.startswith("Turner"))}
    frame = prior_sensitivity(result, priors, threshold=threshold)
    scale = result.measure_scale
    back = (lambda v: float(scale.back_transform(v))) if scale is not None else (lambda v: v)
    level = f"{100 * result.confidence_level:g}%"
    above = (f"P(above {format_percent(threshold)})" if natural.is_proportion else
             f"P({natural.label.lower()} above {natural.null_value:g})" if natural.null_value is not None
             else f"P(above {threshold:g})")
    predictive = f"{level} predictive interval"
    rows = [{
        "Prior on tau": row.prior,
        natural.label: natural.format(back(row.estimate)),
        f"{level} CrI": f"{natural.format(back(row.ci_lb))} to {natural.format(back(row.ci_ub))}",
        predictive: f"{natural.format(back(row.pi_lb))} to {natural.format(back(row.pi_ub))}",
        "tau (posterior median)": format_number(row.tau_median, 2),
        above: format_percent(row.prob_above),
    } for row in frame.itertuples()]
    if not result.has_prediction_interval:  # one study: no predictive interval for a reader
        rows = [{key: value for key, value in row.items() if key != predictive} for row in rows]
    return styled_table(pd.DataFrame(rows), caption)


def notes_list(notes: Sequence[str]) -> Markdown:
    """A result's notes as a bulleted list, or a line saying there are none (never an empty table)."""
    if not notes:
        return Markdown("*No notes: nothing unusual in this fit.*")
    return Markdown("\n".join(f"- {escape_markdown(note[0].upper() + note[1:])}" for note in notes))


def multiverse_choice_table(universe, *, measure: str | None = None,
                            caption: str = "How the estimate depends on each choice") -> Styler:
    """Per value of each choice: the specifications that made it (with an estimate), their
    median estimate and range, and where their intervals lie against the reference value."""
    summary = universe.summary(measure)
    reference = summary.format(summary.reference)
    rows = []
    for choice, value, subset in universe.by_choice(measure):
        sides = subset["side"].value_counts(normalize=True)
        rows.append({
            "Choice": choice,
            "Value": value,
            "Specifications": format_count(len(subset)),
            f"Median {summary.what}": summary.format(subset["estimate"].median()),
            "Range": f"{summary.format(subset['estimate'].min())} to {summary.format(subset['estimate'].max())}",
            f"Intervals above {reference}": format_percent(sides.get("above", 0.0)),
            f"Including {reference}": format_percent(sides.get("includes", 0.0)),
            f"Below {reference}": format_percent(sides.get("below", 0.0)),
        })
    return styled_table(pd.DataFrame(rows), caption)


def multiverse_reasons_table(universe, *, caption: str = "Specifications without an estimate") -> Styler | Markdown:
    """Why some specifications have no estimate, with how many."""
    counts = universe.to_frame().query("reason != ''")["reason"].value_counts()
    if counts.empty:
        return Markdown(f"*{escape_markdown(caption)}:* none; every specification has an estimate.")
    rows = [{"Reason": reason[0].upper() + reason[1:], "Specifications": format_count(n)} for reason, n in counts.items()]
    return styled_table(pd.DataFrame(rows), caption)
