"""Sensitivity analyses of a fitted meta-analysis: leave-one-out, cumulative,
influence diagnostics and subgroup analysis.

Each function takes a fitted :class:`analysis.engine.pooling.MetaAnalysisResult` and
refits it with the same method, test and confidence level, as metafor's
``leave1out()``, ``cumul()``, ``influence()`` and ``rma(yi, vi, mods = ~
factor(group))`` do; ``tests/reference/sensitivity.R`` pins the metafor values.
:func:`leave_one_out` and :func:`cumulative` also take a
:class:`analysis.engine.proportions.ProportionResult` and refit it with
``pool_proportions`` (the GLMM included, on the logit scale;
``tests/reference/proportions_sensitivity.R`` pins those refits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.engine._distributions import chi2_lower_tail
from analysis.engine._errors import AnalysisError
from analysis.engine.contract import HeterogeneityTest
from analysis.engine.pooling import MetaAnalysisResult, meta_analysis, meta_regression
from analysis.engine.proportions import ProportionResult
from analysis.engine.subgroups import SubgroupPooling, between_subgroup_test, subgroup_difference_test

#: Columns of the leave-one-out and cumulative frames, after ``label`` and ``k``.
REFIT_COLUMNS = (
    "estimate", "se", "statistic", "df", "pval", "ci_lb", "ci_ub",
    "q", "q_p", "tau2", "i2", "h2", "pi_lb", "pi_ub",
)

#: The refit's estimate and CI back on the natural scale (``natural()`` of each refit), so a
#: plot never back-transforms a refit it cannot: a Freeman-Tukey (PFT) refit needs the sample
#: sizes of its own studies.
NATURAL_COLUMNS = ("natural_estimate", "natural_ci_lb", "natural_ci_ub")


def _refit_frame(res, index_sets, labels) -> tuple[pd.DataFrame, list]:
    """Refit ``res`` on each set of study positions; one row per refit.

    A refit the model cannot make (e.g. a GLMM of one study) is a row of NaN,
    and its reason is listed in ``frame.attrs["notes"]``.
    """
    labels, index_sets = list(labels), [np.asarray(indices) for indices in index_sets]
    fits, notes = [], []
    for label, indices in zip(labels, index_sets):
        try:
            fits.append(res.subset(indices))
        except AnalysisError as error:
            fits.append(None)
            notes.append(f"{label}: no refit ({error})")
    frame = pd.DataFrame(
        {
            "label": labels,
            "k": [indices.size for indices in index_sets],
            **{column: [_refit_value(fit, column) for fit in fits] for column in REFIT_COLUMNS},
            **{column: [_natural_value(fit, column) for fit in fits] for column in NATURAL_COLUMNS},
        }
    )
    frame.attrs.update(res.fit_options(), measure=res.measure, notes=notes)
    return frame, fits


def _refit_value(fit, column: str) -> float:
    """A refit's value; NaN if it failed, and for a prediction interval it does not have
    (one study: see :attr:`analysis.engine.contract.PooledResult.has_prediction_interval`)."""
    if fit is None or (column in ("pi_lb", "pi_ub") and not fit.has_prediction_interval):
        return np.nan
    value = getattr(fit, column, None)
    return np.nan if value is None else float(value)


def _natural_value(fit, column: str) -> float:
    """A refit's back-transformed estimate or CI bound (NaN if it failed)."""
    if fit is None:
        return np.nan
    return float(getattr(fit.natural(), column.removeprefix("natural_")))


def _require_studies(res: MetaAnalysisResult, minimum: int, what: str) -> None:
    if res.k < minimum:
        raise AnalysisError(f"{what} needs at least {minimum} studies; the fit has k = {res.k}")


def leave_one_out(res: MetaAnalysisResult | ProportionResult) -> pd.DataFrame:
    """Refit the model k times, each time leaving one study out (metafor's ``leave1out``).

    Parameters
    ----------
    res : MetaAnalysisResult or ProportionResult
        The fit; every refit uses its method, test and confidence level. A
        refit the model cannot make (a GLMM of one study) is a row of NaN, with
        the reason in ``frame.attrs["notes"]``.

    Returns
    -------
    pandas.DataFrame
        One row per omitted study, in the order of ``res.labels``: ``label``
        (the study left out), ``k`` (studies in the refit), ``estimate, se,
        statistic`` (z, or t under ``test="knha"``), ``df`` (NaN for z),
        ``pval, ci_lb, ci_ub, q, q_p, tau2, i2`` (percent), ``h2`` and the
        prediction interval ``pi_lb, pi_ub`` of the refit, and its estimate and CI
        on the natural scale ``natural_estimate, natural_ci_lb, natural_ci_ub``
        (as its ``natural()``; a proportion, or a ratio). ``frame.attrs``
        holds the fit options (``measure``, ``method``, ``test``, ...), so plots
        know the scale.

    Notes
    -----
    With k = 2 each refit has one study: Q = 0, I² = 0 and H² = 1, as metafor
    prints them, and no prediction interval (NaN).

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="DL")
    >>> loo = leave_one_out(res)
    >>> len(loo), round(float(loo.estimate.iloc[3]), 4)
    (4, 0.2556)
    """
    _require_studies(res, 2, "leave-one-out analysis")
    everything = np.arange(res.k)
    frame, _ = _refit_frame(res, (everything[everything != i] for i in everything), res.labels)
    return frame


def cumulative(res: MetaAnalysisResult | ProportionResult, order=None, *, decreasing: bool = False, positions=None) -> pd.DataFrame:
    """Cumulative meta-analysis: add the studies one at a time (metafor's ``cumul``).

    Parameters
    ----------
    res : MetaAnalysisResult or ProportionResult
        As for :func:`leave_one_out` (a GLMM's first step, one study, is a row of NaN).
    order : sequence, optional
        A sort key with one value per study of ``res`` (e.g. publication year),
        as metafor's ``order`` argument: studies are added in ascending order of
        the key, ties in their original order (R's ``order()`` is stable), and
        missing keys last. Default: the order of ``res``.
    decreasing : bool
        Sort the key in decreasing order (metafor's ``decreasing=TRUE``).
    positions : sequence of int, optional
        Alternatively, the study positions (0-based) in the order to add them;
        a permutation of ``range(res.k)``. Give ``order`` or ``positions``, not both.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``label`` (the study added at that step), ``k``, and
        the columns of :func:`leave_one_out` for the fit of the first ``k``
        studies. The last row is the full fit.

    Notes
    -----
    The first step has one study: Q = 0, I² = 0 and H² = 1, as metafor prints
    them, and no prediction interval (NaN; metafor repeats the CI).

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="DL")
    >>> steps = cumulative(res, order=[2004, 2001, 2010, 2007])
    >>> list(steps.label), round(float(steps.estimate.iloc[-1]), 4)
    (['Study 2', 'Study 1', 'Study 4', 'Study 3'], 0.3119)
    """
    if order is not None and positions is not None:
        raise AnalysisError("give either order (a sort key) or positions, not both")
    if positions is not None:
        sequence = np.asarray(positions)
        if sorted(sequence.tolist()) != list(range(res.k)):
            raise AnalysisError(f"positions must be a permutation of 0..{res.k - 1}")
    elif order is not None:
        key = pd.Series(list(order))
        if len(key) != res.k:
            raise AnalysisError(f"order has {len(key)} values but the fit has {res.k} studies")
        sequence = key.sort_values(ascending=not decreasing, kind="stable", na_position="last").index.to_numpy()
    else:
        sequence = np.arange(res.k)
    frame, _ = _refit_frame(
        res, (sequence[: step + 1] for step in range(res.k)), (res.labels[i] for i in sequence)
    )
    return frame


def influence(res: MetaAnalysisResult) -> pd.DataFrame:
    """Case-deletion influence diagnostics (metafor's ``influence.rma.uni``).

    Parameters
    ----------
    res : MetaAnalysisResult

    Returns
    -------
    pandas.DataFrame
        One row per study, in the order of ``res.labels``:

        ``label``
        ``rstudent``
            Studentised deleted residual: (y_i - mu_(-i)) /
            sqrt(s2w_(-i) (v_i + tau2_(-i)) + Var(mu_(-i))).
        ``dffits``
            (mu - mu_(-i)) / sqrt(s2w_(-i) h_i (tau2_(-i) + v_i)).
        ``cook_d``
            Cook's distance (mu - mu_(-i))² / Var(mu).
        ``cov_r``
            Covariance ratio Var(mu_(-i)) / Var(mu).
        ``tau2_del``, ``qe_del``
            tau² and Cochran's Q with study i left out.
        ``hat``
            Leverage w_i / sum(w) of the full fit.
        ``weight``
            Percentage weight in the full fit.
        ``dfbetas``
            (mu - mu_(-i)) / sqrt(s2w_(-i) / sum_j 1 / (v_j + tau2_(-i))), the sum
            over all k studies.
        ``inf``
            True where metafor marks the study as influential (``*``):
            |dffits| > 3 sqrt(p / (k - p)), or P(chi²_1 <= cook_d) > 0.5, or
            hat > 3 p / k, or |dfbetas| > 1, with p = 1.

    Notes
    -----
    ``s2w`` is 1 for ``test="z"`` and the Knapp-Hartung scale factor of the
    deleted fit for ``test="knha"``; variances of the pooled estimate carry it
    too. Formulas as in metafor 3.8 (Viechtbauer & Cheung 2010).

    References
    ----------
    Viechtbauer W, Cheung MW-L (2010). Outlier and influence diagnostics for
    meta-analysis. Res Synth Methods 1(2):112-125.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6, 1.5], [0.02, 0.03, 0.015, 0.04, 0.05], method="DL")
    >>> inf = influence(res)
    >>> list(inf.label[inf.inf])
    ['Study 5']
    """
    _require_studies(res, 2, "influence diagnostics")
    k, p = res.k, 1
    everything = np.arange(k)
    frame, fits = _refit_frame(res, (everything[everything != i] for i in everything), res.labels)
    yi, vi = res.yi, res.vi
    estimate_del = frame["estimate"].to_numpy()
    var_del = frame["se"].to_numpy() ** 2
    tau2_del = frame["tau2"].to_numpy()
    # Knapp-Hartung scale of each deleted fit, recovered from its variance
    # (exactly 1 under test="z").
    s2w_del = np.array(
        [var * np.sum(1 / (fit.vi + fit.tau2)) for var, fit in zip(var_del, fits)]
    )
    w_full = 1 / (vi + res.tau2)
    hat = w_full / w_full.sum()
    var_full = res.se**2
    change = res.estimate - estimate_del
    residual = yi - estimate_del
    residual[np.abs(residual) < 100 * np.finfo(float).eps] = 0.0
    rstudent = residual / np.sqrt(vi * s2w_del + var_del + tau2_del * s2w_del)
    dffits = change / np.sqrt(s2w_del * hat * (tau2_del + vi))
    var_all_del = 1 / np.array([np.sum(1 / (vi + t)) for t in tau2_del])
    dfbetas = change / np.sqrt(s2w_del * var_all_del)
    cook_d = change**2 / var_full
    with np.errstate(invalid="ignore"):
        inf = (
            (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
            | (chi2_lower_tail(cook_d, 1) > 0.5)
            | (hat > 3 * p / k)
            | (np.abs(dfbetas) > 1)
        )
    frame = pd.DataFrame(
        {
            "label": list(res.labels),
            "rstudent": rstudent,
            "dffits": dffits,
            "cook_d": cook_d,
            "cov_r": var_del / var_full,
            "tau2_del": tau2_del,
            "qe_del": frame["q"].to_numpy(),
            "hat": hat,
            "weight": res.weights,
            "dfbetas": dfbetas,
            "inf": inf,
        }
    )
    frame.attrs.update(res.fit_options())
    return frame


@dataclass(frozen=True, kw_only=True)
class SubgroupAnalysisResult(SubgroupPooling):
    """Separate fits per subgroup and the tests for subgroup differences.

    Attributes
    ----------
    groups : tuple of str
        Subgroup names, in order of first appearance.
    fits : tuple of MetaAnalysisResult
        One fit per subgroup (same options as the overall fit), aligned with ``groups``.
    overall : MetaAnalysisResult
        The fit of all studies.
    q_m, q_m_df, q_m_df2, q_m_p : float
        Test of subgroup differences from the mixed-effects model
        ``rma(yi, vi, mods = ~ factor(group))`` (one tau² common to all
        subgroups): chi² with ``q_m_df`` = G - 1 degrees of freedom under
        ``test="z"`` (``q_m_df2`` None), F with (``q_m_df``, ``q_m_df2``)
        under ``test="knha"``. NaN with one subgroup.
    tau2_common : float
        The common tau² of that model.
    q_between, q_between_df, q_between_p, i2_between : float
        Test of subgroup differences from the separate fits (each subgroup
        with its own tau²): Q = sum_g (mu_g - mu_bar)² / se_g², chi² with
        G - 1 degrees of freedom, and I² of subgroup differences
        100 max(0, (Q - df) / Q) (percent), as RevMan reports for the chosen model.
    q_between_fixed, q_between_fixed_p, i2_between_fixed : float
        The same from separate equal-effects fits, equal to
        Q_total - sum of Q_within (RevMan's fixed-effect test).
    """

    q_m: float
    q_m_df: int
    q_m_df2: float | None
    q_m_p: float
    tau2_common: float
    q_between_fixed: float
    q_between_fixed_p: float
    i2_between_fixed: float

    @property
    def difference_test(self) -> HeterogeneityTest | None:
        """The test for subgroup differences as RevMan prints it: across separate fits of the
        overall model's kind (``q_between``; ``q_between_fixed`` for an equal-effects fit)."""
        if self.overall.random_effects:
            return subgroup_difference_test(self.q_between, self.q_between_df, self.q_between_p)
        return subgroup_difference_test(self.q_between_fixed, self.q_between_df, self.q_between_fixed_p)

    @property
    def difference_i2(self) -> float:
        """I² of subgroup differences (percent) of :attr:`difference_test`."""
        return self.i2_between if self.overall.random_effects else self.i2_between_fixed

    def fit(self, group: str) -> MetaAnalysisResult:
        """The fit of one subgroup."""
        if group not in self.groups:
            raise AnalysisError(f"no subgroup {group!r}; the subgroups are: {', '.join(self.groups)}")
        return self.fits[self.groups.index(group)]

    def summary_frame(self) -> pd.DataFrame:
        """Subgroup blocks then the overall row, for a subgroup forest plot.

        Columns: ``group, label, row_type, estimate, se, ci_lb, ci_ub, weight,
        pi_lb, pi_ub``. Each block is the subgroup fit's own ``summary_frame()``
        (``row_type`` ``"study"`` rows, weights in percent of the subgroup, then
        one ``"pooled"`` row labelled like ``"RE Model (REML): random"``); the
        last row has ``row_type`` ``"overall"`` and ``group`` None.
        """
        blocks = []
        for group, fit in zip(self.groups, self.fits):
            block = fit.summary_frame()
            block.loc[block.row_type == "pooled", "label"] = f"{fit.model_label}: {group}"
            block.insert(0, "group", group)
            blocks.append(block)
        overall = self.overall.summary_frame().iloc[[-1]].copy()
        overall["row_type"] = "overall"
        overall.insert(0, "group", None)
        return pd.concat([*blocks, overall], ignore_index=True)


def _between_test(fits) -> tuple[float, float, float]:
    """Cochran's Q across subgroup estimates weighted by 1/se², its p and I²."""
    return between_subgroup_test([fit.estimate for fit in fits], [fit.se for fit in fits])


def subgroup_analysis(res: MetaAnalysisResult, groups) -> SubgroupAnalysisResult:
    """Fit each subgroup separately and test for subgroup differences.

    Parameters
    ----------
    res : MetaAnalysisResult
        The overall fit; subgroups are refitted with its options.
    groups : sequence
        Subgroup of each study of ``res`` (converted to str; no missing values).

    Returns
    -------
    SubgroupAnalysisResult

    Notes
    -----
    Three tests are reported because users meet all three: metafor's
    moderator test with a common tau² (``q_m``), the test across separate
    random-effects fits (``q_between``, each subgroup with its own tau²), and
    the fixed-effect decomposition Q_total - sum Q_within (``q_between_fixed``).
    With one subgroup, its fit is the overall fit and the tests are NaN.

    Examples
    --------
    >>> from analysis.engine.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.015, 0.04], method="EE")
    >>> sub = subgroup_analysis(res, ["a", "a", "b", "b"])
    >>> round(sub.q_between_fixed, 4), round(sub.q_between_fixed, 4) == round(sub.q_between, 4)
    (2.4763, True)
    """
    labels = pd.Series(list(groups), dtype=object)
    if len(labels) != res.k:
        raise AnalysisError(f"groups has {len(labels)} values but the fit has {res.k} studies")
    if labels.isna().any():
        raise AnalysisError("groups has missing values; give every study a subgroup")
    labels = labels.astype(str).to_numpy()
    names = tuple(pd.unique(labels))
    members = [np.flatnonzero(labels == name) for name in names]
    fits = tuple(res.subset(indices) for indices in members)
    nan = float("nan")
    if len(names) == 1:
        return SubgroupAnalysisResult(
            groups=names, fits=fits, overall=res, q_m=nan, q_m_df=0, q_m_df2=None, q_m_p=nan,
            tau2_common=res.tau2, q_between=nan, q_between_df=0, q_between_p=nan, i2_between=nan,
            q_between_fixed=nan, q_between_fixed_p=nan, i2_between_fixed=nan,
        )
    dummies = np.column_stack([(labels == name).astype(float) for name in names[1:]])
    mixed = meta_regression(
        res.yi, res.vi, dummies, method=res.method, test=res.test, confidence_level=res.confidence_level
    )
    ee_fits = [meta_analysis(res.yi[ix], res.vi[ix], method="EE") for ix in members]
    q_between, q_between_p, i2_between = _between_test(fits)
    q_fixed, q_fixed_p, i2_fixed = _between_test(ee_fits)
    return SubgroupAnalysisResult(
        groups=names, fits=fits, overall=res, q_m=mixed.q_m, q_m_df=mixed.q_m_df,
        q_m_df2=mixed.df, q_m_p=mixed.q_m_p, tau2_common=mixed.tau2,
        q_between=q_between, q_between_df=len(names) - 1, q_between_p=q_between_p,
        i2_between=i2_between, q_between_fixed=q_fixed, q_between_fixed_p=q_fixed_p,
        i2_between_fixed=i2_fixed,
    )
