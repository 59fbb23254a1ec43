"""Leave-one-out and cumulative forest plots from the tidy frames of analysis.engine.sensitivity."""

from __future__ import annotations

import pandas as pd

from analysis.engine._errors import AnalysisError
from analysis.present.plots._scale import is_finite, refit_values
from analysis.engine.formatting import format_number
from analysis.present.plots._style import FONT_SIZE
from analysis.present.plots._table import Column, Row, draw_table
from analysis.present.plots.forest import DEFAULT_FAVOURS, _interval_text

_REQUIRED = ("label", "estimate", "ci_lb", "ci_ub")


def leave_one_out_plot(frame: pd.DataFrame, result=None, *, measure: str | None = None,
                       favours=DEFAULT_FAVOURS, xlim=None, digits: int = 2,
                       title: str | None = None, fontsize: float = FONT_SIZE,
                       plot_width: float = 3.0):
    """Forest-style plot of the pooled estimate with each study left out in turn.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per omitted study, as ``analysis.engine.sensitivity.leave_one_out``
        returns it: ``label`` (the study left out), ``estimate``, ``ci_lb``,
        ``ci_ub`` on the analysis scale (the refits' own ``natural_*`` values
        are drawn when the frame has them); ``i2``, ``tau2`` and ``k`` are
        shown as columns when present.
    result : MetaAnalysisResult, optional
        The fit with all studies: drawn as a diamond at the bottom and used for
        the axis scale.
    measure : str, optional
        Axis scale when ``result`` is not given (else ``frame.attrs["measure"]``).
    favours, xlim, digits, title, fontsize, plot_width
        As in :func:`analysis.present.plots.forest_plot`.

    Returns
    -------
    matplotlib.figure.Figure
        Rows tagged like the forest plot (``study-ci``, ``study-square``,
        ``pooled-diamond``, texts ``label:study``).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"label": ["A", "B"], "estimate": [0.1, 0.3],
    ...                       "ci_lb": [-0.2, 0.0], "ci_ub": [0.4, 0.6]})
    >>> fig = leave_one_out_plot(frame, measure="MD")
    >>> [t.get_text() for t in fig.texts if t.get_gid() == "label:study"]
    ['Omitting A', 'Omitting B']
    """
    return _sensitivity_plot(frame, result, measure, "Omitting {}", "Study left out",
                             favours, xlim, digits, title, fontsize, plot_width)


def cumulative_plot(frame: pd.DataFrame, result=None, *, measure: str | None = None,
                    favours=DEFAULT_FAVOURS, xlim=None, digits: int = 2,
                    title: str | None = None, fontsize: float = FONT_SIZE,
                    plot_width: float = 3.0):
    """Forest-style plot of a cumulative meta-analysis (studies added in order).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per step, as ``analysis.engine.sensitivity.cumulative`` returns it:
        ``label`` (the study added), ``estimate``, ``ci_lb``, ``ci_ub`` on the
        analysis scale; ``k``, ``i2`` and ``tau2`` are shown when present.
    result, measure, favours, xlim, digits, title, fontsize, plot_width
        As in :func:`leave_one_out_plot`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"label": ["A 1995", "B 2000"], "estimate": [0.1, 0.3],
    ...                       "ci_lb": [-0.5, 0.0], "ci_ub": [0.7, 0.6]})
    >>> fig = cumulative_plot(frame, measure="RR")
    >>> [t.get_text() for t in fig.texts if t.get_gid() == "label:study"]
    ['+ A 1995', '+ B 2000']
    """
    return _sensitivity_plot(frame, result, measure, "+ {}", "Study added",
                             favours, xlim, digits, title, fontsize, plot_width)


def _sensitivity_plot(frame, result, measure, template, header, favours, xlim, digits, title,
                      fontsize, plot_width):
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisError("expected the DataFrame returned by analysis.engine.sensitivity")
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise AnalysisError(f"frame lacks columns {missing}; expected at least "
                            f"{', '.join(_REQUIRED)}")
    scale, refits, pooled = refit_values(frame, result, measure)
    if scale.null is None:
        favours = None
    extra = [(key, head, d) for key, head, d in (("k", "k", 0), ("tau2", "τ²", 3),
                                                  ("i2", "I² (%)", 1)) if key in frame.columns]
    rows = []
    for (_, record), values in zip(frame.iterrows(), refits.itertuples(index=False)):
        row = Row("study", label=template.format(record["label"]))
        row.estimate, row.ci_lb, row.ci_ub = scale(list(values))
        # a refit the model could not make (see frame.attrs["notes"]) is a row without an interval
        row.cells["estimate"] = _interval_text(row, digits) if is_finite(row.estimate) else "no fit"
        for key, _, places in extra:
            value = record[key]
            row.cells[key] = format_number(value, places) if is_finite(value) else ""
        rows.append(row)
    if result is not None:
        row = Row("pooled", label=f"All studies: {result.model_label}", bold=True)
        row.estimate, row.ci_lb, row.ci_ub = scale(list(pooled))
        row.cells["estimate"] = _interval_text(row, digits)
        for key, _, places in extra:
            value = getattr(result, key, None)
            row.cells[key] = format_number(value, places) if is_finite(value) else ""
        rows.append(row)
    columns = [Column("label", header, "left")]
    columns += [Column(key, head, "right") for key, head, _ in extra]
    level = getattr(result, "confidence_level", 0.95) if result is not None else 0.95
    columns.append(Column("estimate", f"{scale.short} [{100 * level:g}% CI]", "right",
                          side="right"))
    return draw_table(rows, columns, scale, xlim=xlim, favours=favours, title=title,
                      plot_width=plot_width, fontsize=fontsize, wrap=48)
