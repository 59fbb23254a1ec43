"""Forest plots drawn from result objects' ``summary_frame()``.

Nothing is recomputed here: study intervals, weights, pooled estimates,
prediction intervals and heterogeneity statistics are read from the result,
then mapped to the axis (``exp`` for ratio measures drawn on a log axis).
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.engine._errors import AnalysisError
from analysis.present.plots._scale import AxisScale, is_finite, scale_of
from analysis.engine.formatting import format_number, format_p
from analysis.present.plots._style import FONT_SIZE
from analysis.present.plots._table import Column, Row, draw_table
from analysis.engine.subgroups import MIN_SUBTOTAL_STUDIES

#: Default labels under the axis: left of the null line, right of it.
DEFAULT_FAVOURS = ("Favours control", "Favours ketamine")


def forest_plot(results, *, data: pd.DataFrame | None = None,
                columns: Mapping[str, str] | None = None, label_column: str | None = None,
                subgroups: Mapping[str, object] | None = None, prediction: bool = True,
                heterogeneity: bool = True, favours: Sequence[str] | None = DEFAULT_FAVOURS,
                xlim: Sequence[float] | None = None, digits: int = 2, weights: bool = True,
                xlabel: str | None = None, label_header: str = "Study", counts_header: str | None = "Events / n", title: str | None = None, wrap: int | None = 48,
                plot_width: float = 3.0, fontsize: float = FONT_SIZE):
    """Forest plot of one or more fits of the same studies, optionally by subgroup.

    Parameters
    ----------
    results : result or sequence of results
        ``MetaAnalysisResult`` (``analysis.engine.pooling.meta_analysis``) or a
        proportions result (``analysis.engine.proportions.pool_proportions``). Give
        several fits of the same studies (e.g. random and fixed effects) to
        draw one pooled diamond each; study rows come from the first. With
        ``subgroups`` these are the overall fits (may be None).
    data : pandas.DataFrame, optional
        Study-level table supplying the extra ``columns``; its rows are
        matched to the studies by position, or by ``data[label_column]``
        against the result's labels.
    columns : mapping of str to str, optional
        Header -> column of ``data``, or a ``str.format`` template over the
        row, e.g. ``{"Ketamine": "{ketamine_events}/{ketamine_n}",
        "Mean (SD)": "{ketamine_mean:.1f} ({ketamine_sd:.1f})", "Route": "route"}``.
        Missing values print as blanks. Headers may contain ``"\\n"``.
    label_column : str, optional
        Column of ``data`` holding the study labels used by the results.
    subgroups : mapping of str to result(s), SubgroupPooling or SubgroupAnalysisResult, optional
        One block per subgroup, as RevMan draws them: a bold title, its studies
        and, where the subgroup has two or more studies, its subtotal
        diamond(s) with their own heterogeneity line and test for overall
        effect (a one-study subgroup is that study, with no subtotal). Given
        ``analysis.review.plan.AnalysisPlan.pool_rates_by`` (or
        ``analysis.engine.sensitivity.subgroup_analysis``), its fits are the blocks,
        its overall fit is the default ``results``, and its test for subgroup
        differences is printed at the bottom. When overall ``results`` are
        given, study weights are the overall fit's weights and the subtotal
        weight is their sum (as RevMan prints them).
    prediction : bool
        Draw the prediction interval of each random-effects fit of two or more
        studies as a grey bar on its own row (with subgroups, of the overall
        fit only, as RevMan does).
    heterogeneity : bool
        Print "Heterogeneity: τ² = ...; I² = ...; Q = ..., df = ..., p = ..."
        under the pooled rows (from the first random-effects fit, else the
        first fit).
    favours : pair of str or None
        Texts placed left and right of the null line under the axis. For
        pain scores (lower is better) pass ``("Favours ketamine", "Favours
        control")``. None omits them (default for proportions too).
    xlim : pair of float, optional
        Axis limits on the natural scale (e.g. ``(0.1, 10)`` for a risk
        ratio). Intervals running beyond them end in arrows.
    digits : int
        Decimals of the printed estimates and intervals.
    weights : bool
        Print a weight column (one per fit when several are given).
    xlabel : str, optional
        Axis label; default the measure's natural-scale name from
        :mod:`analysis.engine.transforms` (e.g. "Risk ratio (log scale)").
    counts_header : str or None
        Header of the events/n column that proportion results
        (``summary_frame()`` with ``events`` and ``n``) get; None omits it.
    label_header, title : str
    wrap : int or None
        Wrap study labels longer than this many characters onto more lines.
    plot_width : float
        Minimum width of the interval panel in inches.
    fontsize : float
        Body text in points (never below 8).

    Returns
    -------
    matplotlib.figure.Figure
        Artists carry ``gid`` tags the tests use: ``study-ci``,
        ``study-square``, ``pooled-diamond``, ``prediction-interval``,
        ``ci-arrow``, ``null-line``, and texts ``label:study``,
        ``label:pooled``, ``estimate:study``, ``weight0:study``, ``note``,
        ``favours-left``, ``favours-right``, ``header:<column>``.

    Notes
    -----
    Study intervals are those of ``summary_frame()`` (Wald intervals with the
    normal quantile, as metafor's ``forest()``); squares have an area
    proportional to the study weight. Ratio measures are drawn on a log axis
    at their natural values, so tick labels read 0.5, 1, 2.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.2, 0.5, -0.1], [0.04, 0.09, 0.05], measure="RR",
    ...                     labels=["Sörensen 1995", "Graven-Nielsen 2000", "Noppers 2011"])
    >>> fig = forest_plot(res)
    >>> [t.get_text() for t in fig.texts if t.get_gid() == "label:study"]
    ['Sörensen 1995', 'Graven-Nielsen 2000', 'Noppers 2011']
    >>> fig.axes[0].get_xscale()
    'log'
    """
    subgroup_test = None
    if subgroups is not None and hasattr(subgroups, "by_group"):
        # pool_rates_by() or subgroup_analysis(): its fits, overall fit and test.
        subgroup_test = subgroups
        if results is None:
            results = subgroups.overall
        subgroups = subgroups.by_group
    blocks = _blocks(results, subgroups)
    first = next(fit for block in blocks for fit in block[1])
    scale = scale_of(first)
    if favours is not None:
        if scale.null is None:
            favours = None
        elif len(favours) != 2:
            raise AnalysisError("favours must be a pair (left of the null, right of the null)")
    overall = [] if subgroups is not None and results is None else _as_list(results)
    layout = _weight_layout(blocks, overall, by_subgroup=subgroups is not None, weights=weights)
    cells = _StudyCells(layout, digits, counts_header,
                        _data_lookup(data, columns, label_column, blocks))

    rows: list[Row] = []
    for name, fits in blocks:
        rows.extend(_block_rows(name, fits, scale, cells, prediction=prediction and subgroups is None,
                                heterogeneity=heterogeneity))
    if subgroups is not None and overall:
        frames = [_frame(fit) for fit in overall]
        rows.extend(_pooled_rows(overall, frames, scale, digits, prediction, heterogeneity,
                                 subtotal=False, weight_text=(100.0 if layout.overall is not None
                                                         else None),
                                 n_weight=layout.columns, highlight=True))
    if subgroup_test is not None and heterogeneity:
        text = subgroup_difference_text(subgroup_test)
        if text:
            rows.append(Row("note", label=text))
    cols = _columns(blocks, overall, first, scale, layout, label_header=label_header,
                    counts_header=counts_header, data_headers=list(columns or {}))
    return draw_table(rows, cols, scale, xlim=xlim, favours=favours, title=title,
                      plot_width=plot_width, fontsize=fontsize, wrap=wrap, xlabel=xlabel)


@dataclass(frozen=True)
class _WeightLayout:
    """How many weight columns the plot prints and where study weights come from.

    ``overall`` maps each study label to the overall fit's weight when subgroups are drawn
    beside an overall fit (RevMan's weights); else each block's own fits give them.
    """

    shown: bool
    columns: int
    overall: dict | None


def _weight_layout(blocks, overall, *, by_subgroup: bool, weights: bool) -> _WeightLayout:
    """The weight columns: none without weights, one per fit, or one from the overall fit."""
    # A one-study subgroup has no subtotal, so its own "100%" says nothing.
    has_weights = any(_has_weights(fit) for name, fits in blocks for fit in fits
                      if _has_subtotal(name, fits))
    shown = weights and has_weights
    columns = (len(overall) if by_subgroup and overall else
               max(len(fits) for _, fits in blocks)) if shown else 0
    by_label = (_weights_by_label(overall[0])
                if by_subgroup and overall and _has_weights(overall[0]) else None)
    if by_label is not None:
        columns = 1 if shown else 0
    return _WeightLayout(shown, columns, by_label)


@dataclass(frozen=True)
class _StudyCells:
    """What a study row prints beside its label: weights, estimate, counts, data columns."""

    layout: _WeightLayout
    digits: int
    counts_header: str | None
    lookup: Callable | None


def _block_rows(name, fits, scale: AxisScale, cells: _StudyCells, *, prediction: bool,
                heterogeneity: bool) -> list[Row]:
    """One block's rows: its title (a subgroup's), its studies, its subtotal, a blank line."""
    rows = [Row("header", label=str(name), bold=True)] if name is not None else []
    frames = [_frame(fit) for fit in fits]
    _check_same_studies(frames, fits)
    studies = frames[0][frames[0]["row_type"] == "study"]
    subtotal = _has_subtotal(name, fits)
    member_weights = []
    for position, (_, study) in enumerate(studies.iterrows()):
        row = _study_row(name, position, study, frames, scale, cells, subtotal=subtotal)
        member_weights.append(row.size)
        rows.append(row)
    layout = cells.layout
    subtotal_weight = float(np.nansum(member_weights)) if layout.overall is not None else None
    if subtotal:
        rows.extend(_pooled_rows(fits, frames, scale, cells.digits, prediction, heterogeneity,
                                 subtotal=name is not None, weight_text=subtotal_weight,
                                 n_weight=layout.columns, highlight=name is None))
    if name is not None:
        rows.append(Row("blank"))
    return rows


def _study_row(name, position: int, study: pd.Series, frames, scale: AxisScale,
               cells: _StudyCells, *, subtotal: bool) -> Row:
    """A study's row: its interval on the axis scale, its square's weight and its cells."""
    row = Row("study", label=str(study["label"]))
    row.estimate, row.ci_lb, row.ci_ub = scale([study["estimate"], study["ci_lb"], study["ci_ub"]])
    layout = cells.layout
    if layout.overall is not None:
        w = [layout.overall.get(row.label, math.nan)]
    elif subtotal:
        w = [_study_weight(f, position) for f in frames]
    else:
        w = [math.nan] * len(frames)
    row.size = w[0]
    if layout.shown:
        for j, value in enumerate(w[:layout.columns]):
            row.cells[f"weight{j}"] = format_number(value, 1) + "%" if is_finite(value) else ""
    row.cells["estimate"] = _interval_text(row, cells.digits)
    if cells.counts_header and {"events", "n"} <= set(study.index):
        row.cells["counts"] = f"{_plain(study['events'])}/{_plain(study['n'])}"
    if cells.lookup is not None:
        row.cells.update(cells.lookup(name, position, row.label))
    return row


def _columns(blocks, overall, first, scale: AxisScale, layout: _WeightLayout, *,
             label_header: str, counts_header: str | None, data_headers: list[str]) -> list[Column]:
    """The table's columns: label, counts, data columns, weights, estimate with its interval."""
    cols = [Column("label", label_header, "left")]
    if counts_header and any({"events", "n"} <= set(_frame(fit).columns)
                             for _, fits in blocks for fit in fits):
        cols.append(Column("counts", counts_header, "center"))
    for header in data_headers:
        cols.append(Column(f"data:{header}", header, "center"))
    for j in range(layout.columns):
        if layout.overall is not None or layout.columns == 1:
            header = "Weight"
        else:
            header = f"Weight\n({_model_name(blocks[0][1][j])})"
        cols.append(Column(f"weight{j}", header, "right"))
    level = getattr(first, "confidence_level", 0.95)
    # studies have confidence intervals; a posterior's pooled rows, credible intervals
    posterior = any(fit.is_bayesian for fit in [*(f for _, fits in blocks for f in fits), *(overall or ())])
    interval = "CI; pooled CrI" if posterior else "CI"
    cols.append(Column("estimate", f"{scale.short} [{_percent(level)} {interval}]", "right",
                       side="right"))
    return cols

def _as_list(results) -> list:
    if results is None:
        return []
    if isinstance(results, (list, tuple)):
        return list(results)
    return [results]


def _has_subtotal(name, fits) -> bool:
    """Every fit of a plot without subgroups has its pooled row; a subgroup needs two studies."""
    return name is None or any(fit.k >= MIN_SUBTOTAL_STUDIES for fit in fits)


def _blocks(results, subgroups):
    if subgroups is None:
        fits = _as_list(results)
        if not fits:
            raise AnalysisError("forest_plot needs at least one result")
        return [(None, fits)]
    if not isinstance(subgroups, Mapping) or not subgroups:
        raise AnalysisError("subgroups must be a non-empty mapping of name -> result(s)")
    return [(name, _as_list(fits)) for name, fits in subgroups.items()]


def _frame(result) -> pd.DataFrame:
    if not hasattr(result, "summary_frame"):
        raise AnalysisError(f"{type(result).__name__} has no summary_frame(); pass a result "
                            "from analysis.engine.pooling or analysis.engine.proportions")
    frame = result.summary_frame()
    missing = {"label", "row_type", "estimate", "ci_lb", "ci_ub"} - set(frame.columns)
    if missing:
        raise AnalysisError(f"summary_frame() lacks columns {sorted(missing)}")
    return frame


def _check_same_studies(frames, fits):
    labels = [tuple(f.loc[f["row_type"] == "study", "label"]) for f in frames]
    if any(lab != labels[0] for lab in labels[1:]):
        raise AnalysisError("results drawn together must be fits of the same studies "
                            "in the same order")
    scales = {scale_of(fit).axis for fit in fits}
    if len(scales) > 1:
        raise AnalysisError("results drawn together must share one measure")


def _study_weight(frame, position) -> float:
    if "weight" not in frame.columns:
        return math.nan
    return float(frame.loc[frame["row_type"] == "study", "weight"].iloc[position])


def _has_weights(result) -> bool:
    frame = _frame(result)
    studies = frame[frame["row_type"] == "study"]
    return "weight" in studies.columns and bool(studies["weight"].notna().any())


def _weights_by_label(result) -> dict:
    frame = _frame(result)
    studies = frame[frame["row_type"] == "study"]
    if "weight" not in studies.columns:
        return {}
    return dict(zip(studies["label"].astype(str), studies["weight"].astype(float)))


def _model_name(result) -> str:
    """Weight header of a fit: a posterior's weights are not a frequentist model's."""
    if result.is_bayesian:
        return "Bayesian"
    return "RE" if result.random_effects else "FE"


def _percent(level) -> str:
    return f"{100 * float(level):g}%"


def _interval_text(row: Row, digits: int) -> str:
    if not is_finite(row.estimate):
        return ""
    return (f"{format_number(row.estimate, digits)} "
            f"[{format_number(row.ci_lb, digits)}, {format_number(row.ci_ub, digits)}]")


def _pooled_rows(fits, frames, scale: AxisScale, digits, prediction, heterogeneity, *,
                 subtotal, weight_text, n_weight, highlight) -> list[Row]:
    rows = []
    prediction_drawn = False
    for j, (fit, frame) in enumerate(zip(fits, frames)):
        pooled = frame[frame["row_type"] == "pooled"]
        if pooled.empty:
            continue
        p = pooled.iloc[0]
        # RevMan's "Subtotal": the model is named in the overall row (and here only when several are drawn)
        label = str(p["label"]) if not subtotal else "Subtotal" if len(fits) == 1 else f"Subtotal: {p['label']}"
        row = Row("pooled", label=label, bold=highlight and j == 0)
        row.estimate, row.ci_lb, row.ci_ub = scale([p["estimate"], p["ci_lb"], p["ci_ub"]])
        row.cells["estimate"] = _interval_text(row, digits)
        if n_weight:
            total = weight_text if weight_text is not None else (
                100.0 if "weight" in frame.columns and frame["weight"].notna().any()
                else math.nan)
            column = 0 if weight_text is not None else j
            if is_finite(total) and column < n_weight:
                row.cells[f"weight{column}"] = format_number(total, 1) + "%"
        rows.append(row)
        # The prediction interval goes right under its own (first random-effects) diamond.
        if prediction and not prediction_drawn and fit.has_prediction_interval:
            pi = Row("prediction", label=fit.prediction_interval_name.capitalize())
            pi.ci_lb, pi.ci_ub = scale([p["pi_lb"], p["pi_ub"]])
            pi.cells["estimate"] = (f"[{format_number(pi.ci_lb, digits)}, "
                                    f"{format_number(pi.ci_ub, digits)}]")
            rows.append(pi)
            prediction_drawn = True
    if heterogeneity:
        source = _heterogeneity_source(fits)
        text = heterogeneity_text(source)
        if text:
            rows.append(Row("note", label=text))
        overall = overall_effect_text(source)
        if overall:
            rows.append(Row("note", label=overall, gid="overall-test"))
    return rows


def overall_effect_text(result) -> str:
    """RevMan's "Test for overall effect" line: the z (or t) statistic and its p-value; "" when the
    model has no test (a posterior: its probabilities are in the text).

    A proportion has no "no effect": on the logit scale the test is against 50%, and the line
    says so; on the other proportion scales (raw, arcsine, Freeman-Tukey) 0 is no proportion a
    reader would test against, so no line is printed.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> overall_effect_text(meta_analysis([0.1, 0.3, 0.35, 0.65], [0.01, 0.02, 0.015, 0.03], method="DL"))
    'Test for overall effect: z = 2.99, p = 0.003'
    >>> from analysis.engine.proportions import pool_proportions
    >>> overall_effect_text(pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17]))
    'Test for overall effect (against 50%): z = 1.08, p = 0.28'
    """
    statistic = getattr(result, "statistic", None)
    if statistic is None or not is_finite(statistic) or not is_finite(result.pval):
        return ""
    against = ""
    if scale_of(result).null is None:  # a proportion
        if result.measure != "PLO":
            return ""
        against = " (against 50%)"
    df = getattr(result, "df", None)
    name = f"t({df:g})" if df is not None and is_finite(df) else "z"
    return f"Test for overall effect{against}: {name} = {format_number(statistic, 2)}, {format_p(result.pval)}"


def _heterogeneity_source(fits):
    for fit in fits:
        if fit.random_effects:
            return fit
    return fits[0]


def heterogeneity_text(result) -> str:
    """The heterogeneity line of a forest plot, from the result's fields.

    Fields that a result does not carry are left out; a GLMM shows its
    likelihood-ratio test (as the narrative does) instead of the Wald Q; with
    one study there is nothing to estimate, and the line says so.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.65], [0.01, 0.02, 0.015, 0.03], method="DL")
    >>> heterogeneity_text(res)
    'Heterogeneity: τ² = 0.029; I² = 63%; Q = 8.15, df = 3, p = 0.043'
    """
    if result.k < 2:
        return "Heterogeneity: not estimable with one study"
    parts = []
    if result.random_effects and is_finite(result.tau2):
        tau2 = result.tau2
        parts.append("τ² = " + ("0" if tau2 == 0 else "< 0.001" if tau2 < 0.001 else format_number(tau2, 3)))
    if is_finite(result.i2):
        parts.append(f"I² = {format_number(result.i2, 0)}%")
    test = result.heterogeneity_test
    if test is not None:
        parts.append(f"{test.symbol} = {format_number(test.statistic, 2)}, df = {test.df:g}, {format_p(test.pval)}")
    return "Heterogeneity: " + "; ".join(parts) if parts else ""


def subgroup_difference_text(analysis) -> str:
    """The "Test for subgroup differences" line, from a subgroup result's ``difference_test``.

    Cochran's Q across the subgroups' own fits, as RevMan prints it (for
    ``subgroup_analysis``, from separate fits of the overall model's kind; for a
    posterior, from the frequentist fits its ``test_model`` names, and the line says
    which); "" when there is no test (one subgroup).

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> from analysis.engine.sensitivity import subgroup_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.65], [0.01, 0.02, 0.015, 0.03], method="DL")
    >>> subgroup_difference_text(subgroup_analysis(res, ["iv", "iv", "sc", "sc"]))
    'Test for subgroup differences: Q = 2.88, df = 1, p = 0.090; I² = 65%'
    """
    test = analysis.difference_test
    if test is None:
        return ""
    model = getattr(analysis, "test_model", "")
    text = (f"Test for subgroup differences{f' ({model} fits)' if model else ''}: {test.symbol} = "
            f"{format_number(test.statistic, 2)}, df = {test.df:g}, {format_p(test.pval)}")
    i2 = analysis.difference_i2
    if is_finite(i2):
        text += f"; I² = {format_number(i2, 0)}%"
    return text


def _data_lookup(data, columns, label_column, blocks):
    if not columns:
        return None
    if data is None:
        raise AnalysisError("columns= needs data= (the study table the columns come from)")
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError("data must be a pandas DataFrame")
    for header, spec in columns.items():
        if "{" not in spec and spec not in data.columns:
            raise AnalysisError(f"column {spec!r} (for header {header!r}) is not in data; "
                                f"available: {', '.join(map(str, data.columns))}")
    if label_column is not None:
        if label_column not in data.columns:
            raise AnalysisError(f"label_column={label_column!r} is not a column of data")
        keys = data[label_column].astype(str)
        if keys.duplicated().any():
            raise AnalysisError(f"data[{label_column!r}] has duplicate labels: "
                                f"{sorted(set(keys[keys.duplicated()]))}")
        by_label = {key: record for key, record in zip(keys, data.to_dict("records"))}
    else:
        if len(blocks) > 1 or blocks[0][0] is not None:
            raise AnalysisError("with subgroups, give label_column= to match data rows to "
                                "studies")
        k = int((_frame(blocks[0][1][0])["row_type"] == "study").sum())
        if len(data) != k:
            raise AnalysisError(f"data has {len(data)} rows but the result has {k} studies; "
                                "give label_column= to match rows by label")
        by_label = None
        records = data.to_dict("records")

    def lookup(group, position, label):
        if by_label is not None:
            if label not in by_label:
                raise AnalysisError(f"study {label!r} is not in data[{label_column!r}]")
            record = by_label[label]
        else:
            record = records[position]
        return {f"data:{header}": _render_cell(spec, record) for header, spec in columns.items()}

    return lookup


def _render_cell(spec: str, record: dict) -> str:
    if "{" not in spec:
        return _plain(record.get(spec))
    try:
        fields = {name.split(".")[0].split("[")[0]
                  for _, name, _, _ in string.Formatter().parse(spec) if name}
        if any(_missing(record.get(name)) for name in fields):
            return ""
        return spec.format(**record)
    except (KeyError, ValueError, IndexError) as error:
        raise AnalysisError(f"cannot format {spec!r} with the data row: {error}") from None


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
