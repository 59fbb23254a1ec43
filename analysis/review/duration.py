"""Duration of relief: responders over time after the ketamine infusion.

``responders_over_time`` takes the study table (one row per sample x outcome x
time point, columns as in ``data/studies.csv``) and returns, for the plots and
the narrative, every study's proportion of responders at each reported time
point with its exact interval, and the pooled proportion per protocol time
window (``analysis.engine.proportions.pool_proportions``).

Protocol windows (time after the end of the last infusion)
----------------------------------------------------------
``during_or_immediate`` <= 4 h; ``short_term`` 1-7 days; ``medium_term`` 1-4
weeks; ``long_term`` >= 8 weeks. The window is read from the ``time_window``
column (the data carry it with its provenance, also when the source gives a
window but no exact hour); ``classify_time_window`` derives it from hours.

Independence: within a window each patient sample (``cohort_id``, else
``study_id``) contributes one row to the pooled estimate: the earliest time
point in the window (:data:`analysis.review.protocol.TIMEPOINT_IN_WINDOW`, the rule of
every analysis, so that a window means the same here as on every other page).
The analysis plan passes its own selection instead (``windows``: the rows of
each window, rows without a stated time in the one window the protocol gives
them) and its own model (``pool``), so that a window's pooled row here is the
plan's answer for that window. The other rows are kept in the per-study table
with ``used_in_pool = False`` and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine.proportion_scales import study_intervals
from analysis.engine.proportions import METHODS, ProportionResult, pool_proportions
from analysis.review.protocol import TIME_WINDOWS, TIMEPOINT_IN_WINDOW, WINDOW

REQUIRED_COLUMNS = ("study_id", "timepoint_hours", "time_window", "ketamine_events", "ketamine_n")


def classify_time_window(hours) -> np.ndarray:
    """Protocol window of each time point (hours after the end of the infusion).

    Times between windows (4-24 h, 4-8 weeks) and missing times give
    ``"not_classified"``. A time exactly on a shared bound (168 h) goes to the
    earlier window (1 week is still "short term").

    Examples
    --------
    >>> classify_time_window([0.25, 48, 168, 400, 1344, 12]).tolist()
    ['during_or_immediate', 'short_term', 'short_term', 'medium_term', 'long_term', 'not_classified']
    """
    hours = np.asarray(hours, dtype=float)
    out = np.full(hours.shape, "not_classified", dtype=object)
    for window in reversed(TIME_WINDOWS):
        lower, upper = WINDOW[window].hours
        out[(hours >= lower) & (hours <= upper)] = window
    return out


@dataclass(frozen=True)
class DurationResult:
    """Responders over time: per study and pooled per protocol window.

    Attributes
    ----------
    studies : pandas.DataFrame
        One row per input row with counts: ``study_id, label, cohort_id,
        time_window, window_order, timepoint_hours, events, n, proportion,
        ci_lb, ci_ub, control_events, control_n, control_proportion,
        control_ci_lb, control_ci_ub`` (the control arm, NaN without one),
        ``used_in_pool, note``.
    pooled : pandas.DataFrame
        One row per protocol window (all four, in order): ``time_window,
        window_order, k, events, n, method, prop, prop_ci_lb, prop_ci_ub,
        prop_pi_lb, prop_pi_ub, tau2, i2, note``. Windows with k = 0 have
        NaN values and say so in ``note``; with k = 1 the study's own
        proportion and exact interval are given (nothing is pooled).
    fits : dict of str to ProportionResult
        The pooled fit of each window with k >= 2.
    method, interval : str
        Options used. ``confidence_level`` : float.
    notes : tuple of str
    """

    studies: pd.DataFrame = field(repr=False)
    pooled: pd.DataFrame = field(repr=False)
    fits: dict[str, ProportionResult] = field(repr=False)
    method: str
    interval: str
    confidence_level: float
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Study rows (ketamine arms), control-arm rows, then pooled rows in one tidy frame for plotting.

        Columns: ``row_type ("study" | "control" | "pooled"), label, time_window,
        window_order, timepoint_hours, events, n, estimate, ci_lb, ci_ub,
        pi_lb, pi_ub, used_in_pool, note``. A ``"control"`` row is the control arm of the
        study row at the same time point (studies with a control arm only); nothing is
        pooled for control arms.
        """
        s = self.studies
        arms = []
        for row_type, prefix, rows in (("study", "", s),
                                       ("control", "control_", s[s["control_n"].notna()])):
            arms.append(pd.DataFrame({
                "row_type": row_type, "label": rows["label"], "time_window": rows["time_window"],
                "window_order": rows["window_order"], "timepoint_hours": rows["timepoint_hours"],
                "events": rows[prefix + "events"], "n": rows[prefix + "n"],
                "estimate": rows[prefix + "proportion"], "ci_lb": rows[prefix + "ci_lb"],
                "ci_ub": rows[prefix + "ci_ub"], "pi_lb": np.nan, "pi_ub": np.nan,
                "used_in_pool": rows["used_in_pool"], "note": rows["note"],
            }))
        p = self.pooled
        pooled = pd.DataFrame({
            "row_type": "pooled", "label": [f"Pooled ({w}, k = {k})" for w, k in zip(p["time_window"], p["k"])],
            "time_window": p["time_window"], "window_order": p["window_order"], "timepoint_hours": np.nan,
            "events": p["events"], "n": p["n"], "estimate": p["prop"], "ci_lb": p["prop_ci_lb"],
            "ci_ub": p["prop_ci_ub"], "pi_lb": p["prop_pi_lb"], "pi_ub": p["prop_pi_ub"],
            "used_in_pool": True, "note": p["note"],
        })
        return pd.concat([*arms, pooled], ignore_index=True)


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column of ``rows`` as floats (NaN when missing or absent)."""
    if name not in rows.columns:
        return np.full(len(rows), np.nan)
    return pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)


def responders_over_time(
    data: pd.DataFrame,
    method: str = "GLMM",
    confidence_level: float = 0.95,
    *,
    interval: str = "clopper-pearson",
    outcomes=("responders",),
    windows: Mapping[str, pd.Index] | None = None,
    pool: Callable[[pd.DataFrame], ProportionResult] | None = None,
    **model_options,
) -> DurationResult:
    """Responders per study and time point, pooled per protocol time window.

    Parameters
    ----------
    data : pandas.DataFrame
        Rows of ``data/studies.csv`` (or the same columns): ``study_id,
        timepoint_hours, time_window, ketamine_events, ketamine_n``; optional
        ``study_label``, ``cohort_id``, ``outcome``, ``include_in_pooling``.
        Rows without both counts are ignored.
    method : str
        ``pool_proportions`` method for each window (default GLMM).
    confidence_level : float
        For every interval.
    interval : {"clopper-pearson", "wilson"}
        Per-study interval.
    outcomes : sequence of str
        Values of ``outcome`` to use when that column exists.
    windows : mapping of str to index, optional
        The rows of ``data`` (index labels) pooled in each window, as the analysis plan
        selects them; by default one row per sample and window, the earliest time point.
    pool : callable, optional
        Pools a window's rows of ``data`` (the plan's model, also for one sample); by
        default ``pool_proportions`` with ``method``, and one sample is shown unpooled.
    **model_options
        Other options of ``pool_proportions`` (e.g. ``tau_prior_scale`` of the Bayesian model).

    Returns
    -------
    DurationResult

    Examples
    --------
    >>> data = pd.DataFrame({
    ...     "study_id": ["a", "a", "b", "c"], "timepoint_hours": [0.5, 168, 1.0, 2.0],
    ...     "time_window": ["during_or_immediate", "short_term", "during_or_immediate",
    ...                     "during_or_immediate"],
    ...     "ketamine_events": [8, 2, 17, 8], "ketamine_n": [12, 12, 29, 11]})
    >>> res = responders_over_time(data)
    >>> print(res.pooled[["time_window", "k", "method"]].to_string(index=False))
            time_window  k       method
    during_or_immediate  3         GLMM
             short_term  1 single study
            medium_term  0   not pooled
              long_term  0   not pooled
    """
    check_option("method", method, METHODS)
    check_option("interval", interval, ("clopper-pearson", "wilson"))
    rows = _rows_with_counts(data, outcomes)
    studies = _study_rows(rows, confidence_level, interval)
    poolable = _poolable(studies, rows)
    candidates = _choose_rows(studies, poolable, windows)
    duplicate = candidates.index.difference(studies.index[studies["used_in_pool"]])
    studies.loc[duplicate, "note"] = (f"same sample already in this window (the {TIMEPOINT_IN_WINDOW} "
                                      "time point is pooled)")
    # the rows each window pools, in the order of the caller's selection (same sums, same fit)
    fitted_rows = {w: rows.loc[pd.Index(windows.get(w, [])).intersection(studies.index[studies["pooled_in"] == w],
                                                                        sort=False)]
                   if windows is not None else rows.loc[studies.index[studies["pooled_in"] == w]]
                   for w in TIME_WINDOWS}
    studies = studies.sort_values(["window_order", "timepoint_hours", "label"], kind="stable").reset_index(drop=True)

    pooled_rows, fits = [], {}
    for window in TIME_WINDOWS:
        used = studies[studies["pooled_in"] == window]
        row, fit = _pool_window(window, used, fitted_rows[window], method, confidence_level, interval,
                                pool, model_options)
        pooled_rows.append(row)
        if fit is not None:
            fits[window] = fit
    n_dropped = int((~poolable).sum())
    notes = ((f"{n_dropped} row(s) with counts are shown but not pooled (see their note).",)
             if n_dropped else ())
    return DurationResult(
        studies=studies, pooled=pd.DataFrame(pooled_rows), fits=fits, method=method, interval=interval,
        confidence_level=confidence_level, notes=notes,
    )


def _rows_with_counts(data: pd.DataFrame, outcomes) -> pd.DataFrame:
    """The rows of the chosen ``outcomes`` with both ketamine counts, checked."""
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise AnalysisError(f"data lacks the column(s) {', '.join(missing)} (names as in data/studies.csv).")
    rows = data.copy()
    if "outcome" in rows.columns:
        rows = rows[rows["outcome"].isin(list(outcomes))]
    rows = rows[rows["ketamine_events"].notna() & rows["ketamine_n"].notna()]
    if rows.empty:
        raise AnalysisError("No rows with both ketamine_events and ketamine_n for the chosen outcomes.")
    events = rows["ketamine_events"].to_numpy(dtype=float)
    n = rows["ketamine_n"].to_numpy(dtype=float)
    if np.any(events < 0) or np.any(events > n) or np.any(n <= 0):
        raise AnalysisError("Every row needs 0 <= ketamine_events <= ketamine_n and ketamine_n > 0.")
    return rows


def _study_rows(rows: pd.DataFrame, confidence_level: float, interval: str) -> pd.DataFrame:
    """One row per input row: both arms' proportions and intervals, nothing pooled yet."""
    events = rows["ketamine_events"].to_numpy(dtype=float)
    n = rows["ketamine_n"].to_numpy(dtype=float)
    lower, upper = study_intervals(events, n, confidence_level, interval)
    control_events, control_n = _column(rows, "control_events"), _column(rows, "control_n")
    has_control = np.isfinite(control_events) & np.isfinite(control_n) & (control_n > 0)
    control_lower, control_upper = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    if has_control.any():
        control_lower[has_control], control_upper[has_control] = study_intervals(
            control_events[has_control], control_n[has_control], confidence_level, interval)
    order = {w: i for i, w in enumerate(TIME_WINDOWS)}
    return pd.DataFrame({
        "study_id": rows["study_id"].astype(str).to_numpy(),
        "label": (rows["study_label"] if "study_label" in rows.columns else rows["study_id"]).astype(str).to_numpy(),
        "cohort_id": (rows["cohort_id"] if "cohort_id" in rows.columns else rows["study_id"]).astype(str).to_numpy(),
        "time_window": rows["time_window"].astype(str).to_numpy(),
        "window_order": [order.get(w, len(TIME_WINDOWS)) for w in rows["time_window"].astype(str)],
        "timepoint_hours": rows["timepoint_hours"].to_numpy(dtype=float),
        "events": events.astype(np.int64),
        "n": n.astype(np.int64),
        "proportion": events / n,
        "ci_lb": lower,
        "ci_ub": upper,
        "control_events": np.where(has_control, control_events, np.nan),
        "control_n": np.where(has_control, control_n, np.nan),
        "control_proportion": np.where(has_control, control_events / np.where(has_control, control_n, 1), np.nan),
        "control_ci_lb": control_lower,
        "control_ci_ub": control_upper,
        "used_in_pool": False,
        "pooled_in": "",
        "note": "",
    }, index=rows.index)


def _poolable(studies: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Which rows may be pooled at all; the others get the reason in ``note``."""
    poolable = np.ones(len(studies), dtype=bool)
    if "include_in_pooling" in rows.columns:
        flag = rows["include_in_pooling"].map(lambda v: str(v).strip().lower() == "true").to_numpy()
        studies.loc[~flag, "note"] = "include_in_pooling is false"
        poolable &= flag
    outside = ~studies["time_window"].isin(TIME_WINDOWS).to_numpy()
    studies.loc[outside & poolable, "note"] = "time point not in a protocol window"
    return poolable & ~outside


def _choose_rows(studies: pd.DataFrame, poolable: np.ndarray,
                 windows: Mapping[str, pd.Index] | None) -> pd.DataFrame:
    """Set ``pooled_in`` and ``used_in_pool``: the caller's ``windows``, else one row per sample
    and window (the earliest time point, the protocol's one rule); return the poolable rows."""
    if windows is None:
        candidates = studies[poolable].copy()
        candidates = candidates.assign(_h=candidates["timepoint_hours"].fillna(np.inf)).sort_values("_h", kind="stable")
        chosen = candidates.drop_duplicates(["cohort_id", "time_window"])
        studies.loc[chosen.index, "pooled_in"] = chosen["time_window"]
    else:
        unknown = [w for w in windows if w not in TIME_WINDOWS]
        if unknown:
            raise AnalysisError(f"windows names {unknown}; the protocol windows are {', '.join(TIME_WINDOWS)}")
        candidates = studies[poolable]
        for window, index in windows.items():
            index = pd.Index([label for label in index if label in studies.index])  # the plan's order
            studies.loc[index, "pooled_in"] = window
            unstated = index[studies.loc[index, "time_window"] != window]
            studies.loc[unstated, "note"] = (f"no stated time: counted in the window "
                                             f"{WINDOW[window].axis_label} only (protocol)")
    studies["used_in_pool"] = studies["pooled_in"] != ""
    return candidates


def _pool_window(window: str, used: pd.DataFrame, fitted_rows: pd.DataFrame, method: str,
                 confidence_level: float, interval: str, pool, model_options) -> tuple[dict, object]:
    """The pooled row of one window (and its fit, None when nothing was fitted)."""
    k = len(used)
    row = {"time_window": window, "window_order": TIME_WINDOWS.index(window), "k": k,
           "events": int(used["events"].sum()), "n": int(used["n"].sum()), "method": method,
           "prop": np.nan, "prop_ci_lb": np.nan, "prop_ci_ub": np.nan, "prop_pi_lb": np.nan,
           "prop_pi_ub": np.nan, "tau2": np.nan, "i2": np.nan, "note": ""}
    if k == 0:
        row.update(method="not pooled", note="no study reports responders in this window")
        return row, None
    if pool is not None:
        fit = pool(fitted_rows)
        row.update(method=fit.method, prop=fit.prop, prop_ci_lb=fit.prop_ci_lb, prop_ci_ub=fit.prop_ci_ub,
                   prop_pi_lb=fit.prop_pi_lb if fit.has_prediction_interval else np.nan,
                   prop_pi_ub=fit.prop_pi_ub if fit.has_prediction_interval else np.nan,
                   tau2=fit.tau2, i2=getattr(fit, "i2", np.nan) if k > 1 else np.nan,
                   note="; ".join(fit.notes))
        return row, fit
    if k == 1:
        only = used.iloc[0]
        row.update(method="single study", prop=only["proportion"], prop_ci_lb=only["ci_lb"],
                   prop_ci_ub=only["ci_ub"],
                   note=f"one study ({only['label']}): its own proportion and {interval} interval, not pooled")
        return row, None
    try:
        fit = pool_proportions(used["events"], used["n"], method=method,
                               confidence_level=confidence_level, labels=used["label"],
                               interval=interval, **model_options)
    except AnalysisError as error:
        row["note"] = f"not pooled: {error}"
        return row, None
    row.update(prop=fit.prop, prop_ci_lb=fit.prop_ci_lb, prop_ci_ub=fit.prop_ci_ub,
               prop_pi_lb=fit.prop_pi_lb, prop_pi_ub=fit.prop_pi_ub, tau2=fit.tau2, i2=fit.i2,
               note="; ".join(fit.notes))
    return row, fit
