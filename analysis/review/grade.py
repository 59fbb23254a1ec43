"""GRADE certainty of evidence per outcome, computed from the data and the pooled result.

:func:`grade_outcome` rates one outcome: the starting level from the study designs,
then each of the five GRADE domains (risk of bias, inconsistency, indirectness,
imprecision, publication bias) with a downgrade of 0, 1 or 2 levels and the reason,
computed by the rules below. A curator can replace any computed judgement through
``data/grade_overrides.csv`` (:func:`load_grade_overrides`); the override is shown
as such, beside the computed judgement it replaces. :func:`evidence_profile`
puts several outcomes in one table.

Rules (each threshold is a named constant)
-----------------------------------------
Start
    High when every pooled study is randomised (``design`` starting with ``rct``),
    low otherwise (traditional GRADE: non-randomised evidence starts low because of
    confounding). Upgrading (large effect, dose-response) is not computed; a curator
    override can express it.
Risk of bias
    Each study's level from ``rob_overall`` (high / serious / critical: high risk;
    some concerns / moderate / no information / not assessed: concerns). When the
    outcome starts low, ROBINS-I confounding is already counted by the start, so those
    studies are judged on their other ROBINS-I domains. Shares of weight use the
    result's weights (percent), or the sample sizes when the model has none (GLMM).
    Two levels if more than :data:`RISK_SHARE` of the weight is at high risk; one if
    more than that share is at high risk or with concerns.
Inconsistency
    Not assessable with one study. Two levels if I² >= :data:`I2_VERY_SERIOUS`; one if
    I² >= :data:`I2_SERIOUS`, or if the prediction interval includes no difference
    while the confidence interval does not (comparative measures).
Indirectness
    One level if any of: more than :data:`INDIRECT_SHARE` of the weight from a single
    ketamine session assessed within 4 h (laboratory-style settings, whereas clinical
    use is repeated infusions judged over weeks); responder thresholds that differ
    between the pooled studies.
Imprecision
    One level per reason, at most two: the CI includes no difference (comparative
    measures); the CI includes the ``decision_threshold`` (when given); fewer
    participants than the optimal information size (``optimal_information_size``,
    default :data:`OPTIMAL_INFORMATION_SIZE`).
Publication bias
    With fewer than :data:`MIN_STUDIES_FOR_SMALL_STUDY_TESTS` studies: not assessable,
    no downgrade, with a note. Otherwise Egger's test (the one given, or
    ``small_study_tests`` on the inverse-variance fit): one level if p < :data:`EGGER_ALPHA`.

References
----------
Guyatt GH et al. (2011). GRADE guidelines (series), J Clin Epidemiol 64.
Schünemann HJ et al. (eds.). Cochrane Handbook for Systematic Reviews of Interventions,
chapter 14 (Completing 'Summary of findings' tables and grading the certainty of the
evidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.engine._errors import AnalysisError, check_option
from analysis.data import DATA_DIR, load_table
from analysis.engine.contract import PooledResult
from analysis.engine.pooling import MetaAnalysisResult
from analysis.review.protocol import MIN_STUDIES_FOR_SMALL_STUDY_TESTS, PRIMARY_WINDOW
from analysis.review.small_study_effects import small_study_tests

DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
LEVELS = ("very low", "low", "moderate", "high")
JUDGEMENTS = {0: "not serious", 1: "serious", 2: "very serious"}
NOT_ASSESSABLE = "not assessable"

#: Share of weight (fraction) above which risk of bias or concerns downgrade.
RISK_SHARE = 0.5
#: I² (percent) for one and two levels of inconsistency (Cochrane Handbook 10.10.2 bands:
#: 50-90 "substantial", 75-100 "considerable").
I2_SERIOUS = 50.0
I2_VERY_SERIOUS = 75.0
#: Share of weight (fraction) from single sessions assessed within 4 h that makes the
#: evidence indirect for repeated clinical use.
INDIRECT_SHARE = 0.5
#: Optimal information size in participants (GRADE guidelines 6, Guyatt 2011: a rule of
#: thumb of 300 events or participants for dichotomous outcomes, 400 for continuous).
OPTIMAL_INFORMATION_SIZE = 300
#: Egger's test at the 10% level, as usual for its low power.
EGGER_ALPHA = 0.10

_HIGH_RISK = ("high", "serious", "critical")
_LOW_RISK = ("low",)
_ROBINS_NON_CONFOUNDING = ("rob_selection", "rob_classification", "rob_deviations", "rob_missing_data",
                           "rob_measurement", "rob_reported_result")
_SEVERITY = {"low": 0, "some_concerns": 1, "moderate": 1, "no_information": 1, "not_applicable": -1,
             "high": 2, "serious": 2, "critical": 3}


@dataclass(frozen=True)
class DomainJudgement:
    """The judgement of one GRADE domain for one outcome.

    Attributes
    ----------
    domain : str
        One of :data:`DOMAINS`.
    downgrade : int
        Levels taken off (0, 1 or 2): the override's when ``overridden``.
    judgement : str
        ``"not serious"``, ``"serious"``, ``"very serious"`` or ``"not assessable"``.
    reason : str
        Why (the curator's reason when ``overridden``).
    overridden : bool
        True when a curator's row of ``data/grade_overrides.csv`` replaced the computed one.
    computed_downgrade : int
    computed_judgement, computed_reason : str
        What the rules gave (kept when overridden, so a reader sees both).
    curator, date : str
        Of the override; empty otherwise.
    """

    domain: str
    downgrade: int
    judgement: str
    reason: str
    overridden: bool
    computed_downgrade: int
    computed_judgement: str
    computed_reason: str
    curator: str = ""
    date: str = ""


@dataclass(frozen=True)
class GradeAssessment:
    """GRADE certainty of one outcome.

    Attributes
    ----------
    outcome : str
        Key of the outcome (as in ``data/grade_overrides.csv``).
    label : str
        Outcome in words for the table.
    k : int
        Studies pooled.
    participants : int or None
        Participants in the pooled studies (None when unknown).
    scale : str
        What ``estimate`` is (e.g. "Proportion", "Risk ratio").
    estimate, ci_lb, ci_ub : float
        Pooled result on its natural scale.
    start : str
        ``"high"`` or ``"low"``; ``start_reason`` says why.
    start_reason : str
    domains : tuple of DomainJudgement
        In the order of :data:`DOMAINS`.
    certainty : str
        One of :data:`LEVELS`.
    """

    outcome: str
    label: str
    k: int
    participants: int | None
    scale: str
    estimate: float
    ci_lb: float
    ci_ub: float
    start: str
    start_reason: str
    domains: tuple[DomainJudgement, ...] = field(repr=False)
    certainty: str

    @property
    def total_downgrade(self) -> int:
        """Levels taken off over all domains."""
        return sum(d.downgrade for d in self.domains)

    def domain(self, name: str) -> DomainJudgement:
        """The judgement of one domain."""
        check_option("domain", name, DOMAINS)
        return next(d for d in self.domains if d.domain == name)

    def to_frame(self) -> pd.DataFrame:
        """One row per domain: ``domain, judgement, downgrade, reason, overridden,
        computed_judgement, computed_downgrade, computed_reason, curator, date``."""
        return pd.DataFrame([d.__dict__ for d in self.domains])


@dataclass(frozen=True)
class EvidenceProfile:
    """A GRADE evidence profile: the certainty assessment of several outcomes, domain by domain
    (the summary of findings for readers is :func:`analysis.review.findings.summary_of_findings`)."""

    assessments: tuple[GradeAssessment, ...] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per outcome.

        Columns: ``outcome, label, k, participants, scale, estimate, ci_lb, ci_ub, start``,
        one column per domain (the judgement, with ``(-n)`` for a downgrade and
        ``[override]`` when a curator's), ``certainty`` and ``reasons`` (every downgrade
        and note, ``domain: reason``, separated by ``; ``).
        """
        rows = []
        for a in self.assessments:
            row = {"outcome": a.outcome, "label": a.label, "k": a.k, "participants": a.participants,
                   "scale": a.scale, "estimate": a.estimate, "ci_lb": a.ci_lb, "ci_ub": a.ci_ub,
                   "start": a.start}
            reasons = []
            for d in a.domains:
                text = d.judgement + (f" (-{d.downgrade})" if d.downgrade else "")
                row[d.domain] = text + (" [override]" if d.overridden else "")
                if d.downgrade or d.judgement == NOT_ASSESSABLE or d.overridden:
                    reasons.append(f"{d.domain.replace('_', ' ')}: {d.reason}")
            row["certainty"] = a.certainty
            row["reasons"] = "; ".join(reasons)
            rows.append(row)
        return pd.DataFrame(rows)


def evidence_profile(assessments) -> EvidenceProfile:
    """Collect :class:`GradeAssessment` objects into one table."""
    assessments = tuple(assessments)
    if not all(isinstance(a, GradeAssessment) for a in assessments):
        raise AnalysisError("evidence_profile takes GradeAssessment objects (from grade_outcome).")
    return EvidenceProfile(assessments)


def load_grade_overrides(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``data/grade_overrides.csv`` (validated against its dictionary).

    Raises
    ------
    AnalysisError
        When two rows override the same domain of the same outcome.
    """
    table = load_table(DATA_DIR / "grade_overrides.csv" if path is None else Path(path))
    duplicated = table.duplicated(["outcome", "domain"], keep=False)
    if duplicated.any():
        pairs = sorted({f"{o}/{d}" for o, d in zip(table.loc[duplicated, "outcome"], table.loc[duplicated, "domain"])})
        raise AnalysisError(f"grade overrides: more than one row for {', '.join(pairs)}; keep one per outcome and domain.")
    return table


# ------------------------------------------------------------------ helpers


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _computed(domain: str, downgrade: int, reason: str, assessable: bool = True) -> DomainJudgement:
    judgement = JUDGEMENTS[downgrade] if assessable else NOT_ASSESSABLE
    return DomainJudgement(domain, downgrade, judgement, reason, False, downgrade, judgement, reason)


def _weights(result, data: pd.DataFrame) -> np.ndarray:
    weights = getattr(result, "weights", None)
    if weights is None:
        weights = np.asarray(result.n, dtype=float)
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum()


def _participants(result, data: pd.DataFrame) -> int | None:
    """The result's own count of patients, else the rows' ``n_analysed`` (or both arms' n)."""
    if result.participants is not None:
        return result.participants
    if "n_analysed" not in data.columns and "ketamine_n" not in data.columns:
        return None
    total = 0
    for _, row in data.iterrows():
        analysed = row.get("n_analysed")
        if analysed is not None and not pd.isna(analysed):
            total += int(analysed)
            continue
        arms = [row.get(c) for c in ("ketamine_n", "control_n")]
        known = [int(a) for a in arms if a is not None and not pd.isna(a)]
        if not known:
            return None
        total += sum(known)
    return total


def _study_risk(row, start_low: bool) -> str:
    """'high', 'concerns' or 'low' for one study."""
    if start_low and str(row.get("rob_tool")) == "robins_i":
        levels = [str(row.get(c)) for c in _ROBINS_NON_CONFOUNDING if c in row.index]
        worst = max((_SEVERITY.get(level, 1) for level in levels), default=1)
        return "high" if worst >= 2 else ("low" if worst == 0 else "concerns")
    overall = str(row.get("rob_overall"))
    if overall in _HIGH_RISK:
        return "high"
    if overall in _LOW_RISK:
        return "low"
    return "concerns"


# ------------------------------------------------------------------ domains


def _risk_of_bias(result, rows, weights, start_low) -> DomainJudgement:
    if "rob_overall" not in rows.columns:
        raise AnalysisError("data needs the rob_overall column (and rob_tool and the rob_ domains) of data/studies.csv.")
    risks = np.array([_study_risk(row, start_low) for _, row in rows.iterrows()])
    high = float(weights[risks == "high"].sum())
    concerns = float(weights[risks == "concerns"].sum())
    labels = list(result.labels)
    named = "; ".join(f"{labels[i]}: {risks[i]}" for i in range(len(labels)))
    basis = ("weights" if getattr(result, "weights", None) is not None else "sample sizes")
    note = (" (ROBINS-I studies judged without the confounding domain, which the low start already counts)"
            if start_low and "robins_i" in set(rows.get("rob_tool", pd.Series(dtype=str)).astype(str)) else "")
    shares = f"{_pct(high)} of the weight at high risk, {_pct(concerns)} with some concerns ({basis}; {named}){note}"
    if high > RISK_SHARE:
        return _computed("risk_of_bias", 2, shares)
    if high + concerns > RISK_SHARE:
        return _computed("risk_of_bias", 1, shares)
    return _computed("risk_of_bias", 0, shares)


def _inconsistency(result, natural) -> DomainJudgement:
    if result.k == 1:
        return _computed("inconsistency", 0, "one study: inconsistency cannot be assessed", assessable=False)
    i2 = result.i2
    pi_text = ""
    pi_crosses = False
    if natural.null_value is not None and result.has_prediction_interval:
        null = natural.null_value
        pi_crosses = not natural.includes_null and natural.pi_lb <= null <= natural.pi_ub
        if pi_crosses:
            pi_text = "; the prediction interval includes no difference while the CI does not"
    reason = f"I² = {i2:.0f}%{pi_text}"
    if i2 >= I2_VERY_SERIOUS:
        return _computed("inconsistency", 2, reason)
    if i2 >= I2_SERIOUS or pi_crosses:
        return _computed("inconsistency", 1, reason)
    return _computed("inconsistency", 0, reason)


def _indirectness(result, rows, weights) -> DomainJudgement:
    concerns = []
    if "sessions" in rows.columns and "time_window" in rows.columns:
        sessions = pd.to_numeric(rows["sessions"], errors="coerce").astype(float)
        single = (sessions == 1).to_numpy(dtype=bool)
        early = (rows["time_window"].astype(str) == PRIMARY_WINDOW).to_numpy(dtype=bool)
        share = float(weights[single & early].sum())
        if share > INDIRECT_SHARE:
            concerns.append(f"{_pct(share)} of the weight comes from a single ketamine session assessed within "
                            "4 h (laboratory-style settings), whereas clinical use is repeated infusions judged "
                            "over weeks")
    if "responder_threshold_percent" in rows.columns:
        thresholds = pd.to_numeric(rows["responder_threshold_percent"], errors="coerce").dropna().unique()
        if len(thresholds) > 1:
            listed = ", ".join(f"{t:g}%" for t in sorted(thresholds))
            concerns.append(f"responder thresholds differ between studies ({listed} pain reduction)")
    if concerns:
        return _computed("indirectness", 1, "; ".join(concerns))
    return _computed("indirectness", 0, "no indirectness found in the study characteristics "
                                         "(sessions, time of assessment, responder thresholds)")


def _imprecision(result, participants, decision_threshold, optimal_information_size, natural) -> DomainJudgement:
    lower, upper, null = natural.ci_lb, natural.ci_ub, natural.null_value
    reasons = []
    if null is not None and lower <= null <= upper:
        reasons.append(f"the CI ({lower:.2f} to {upper:.2f}) includes {null:g} (no difference)")
    if decision_threshold is not None and lower <= decision_threshold <= upper:
        reasons.append(f"the CI ({lower:.2f} to {upper:.2f}) includes the decision threshold {decision_threshold:g}")
    if participants is None:
        size = "participants unknown: the optimal information size was not checked"
    elif participants < optimal_information_size:
        reasons.append(f"{participants} participants, fewer than the optimal information size of "
                       f"{optimal_information_size}")
        size = ""
    else:
        size = f"{participants} participants reach the optimal information size of {optimal_information_size}"
    if reasons:
        return _computed("imprecision", min(2, len(reasons)), "; ".join(reasons))
    text = f"the CI ({lower:.2f} to {upper:.2f}) is on one side of every threshold checked"
    return _computed("imprecision", 0, text + (f"; {size}" if size else ""))


def _publication_bias(result, small_study) -> DomainJudgement:
    if result.k < MIN_STUDIES_FOR_SMALL_STUDY_TESTS:
        return _computed("publication_bias", 0,
                         f"{result.k} stud{'y' if result.k == 1 else 'ies'}: small-study tests are not informative "
                         f"below {MIN_STUDIES_FOR_SMALL_STUDY_TESTS} (protocol), so publication bias was not "
                         "assessed and not downgraded (a curator override can record suspected non-reporting)",
                         assessable=False)
    if small_study is None:
        fit = getattr(result, "pooled", result)  # a pooled proportion's inverse-variance fit, if any
        if not isinstance(fit, MetaAnalysisResult):
            return _computed("publication_bias", 0, "no inverse-variance fit to test; pass small_study",
                             assessable=False)
        small_study = small_study_tests(fit).egger
    p = small_study.pval
    if p < EGGER_ALPHA:
        return _computed("publication_bias", 1, f"Egger's test p = {p:.3f} (< {EGGER_ALPHA:g}): funnel asymmetry")
    return _computed("publication_bias", 0, f"Egger's test p = {p:.3f}: no evidence of funnel asymmetry")


def _apply_overrides(outcome: str, domains: list[DomainJudgement], overrides) -> list[DomainJudgement]:
    if overrides is None or len(overrides) == 0:
        return domains
    missing = [c for c in ("outcome", "domain", "downgrade", "reason", "curator", "date") if c not in overrides.columns]
    if missing:
        raise AnalysisError(f"overrides lacks the column(s) {', '.join(missing)} (see data/grade_overrides.csv).")
    mine = overrides[overrides["outcome"].astype(str) == outcome]
    out = []
    for d in domains:
        rows = mine[mine["domain"].astype(str) == d.domain]
        if len(rows) > 1:
            raise AnalysisError(f"more than one override for {outcome}/{d.domain}.")
        if rows.empty:
            out.append(d)
            continue
        row = rows.iloc[0]
        for domain in mine["domain"].astype(str):
            check_option("override domain", domain, DOMAINS)
        downgrade = int(row["downgrade"])
        if downgrade not in JUDGEMENTS:
            raise AnalysisError(f"override {outcome}/{d.domain}: downgrade must be 0, 1 or 2 (got {downgrade}).")
        date = row["date"]
        date_text = date.strftime("%Y-%m-%d") if hasattr(date, "strftime") else str(date)
        out.append(DomainJudgement(
            domain=d.domain, downgrade=downgrade, judgement=JUDGEMENTS[downgrade], reason=str(row["reason"]),
            overridden=True, computed_downgrade=d.computed_downgrade, computed_judgement=d.computed_judgement,
            computed_reason=d.computed_reason, curator=str(row["curator"]), date=date_text,
        ))
    return out


def grade_outcome(outcome: str, result, data: pd.DataFrame, *, label: str | None = None, small_study=None,
                  overrides: pd.DataFrame | None = None, decision_threshold: float | None = None,
                  optimal_information_size: int = OPTIMAL_INFORMATION_SIZE) -> GradeAssessment:
    """Rate the certainty of one outcome with GRADE.

    Parameters
    ----------
    outcome : str
        Key of the outcome (``data/grade_overrides.csv`` refers to it), e.g.
        ``"response_rate"`` or ``"controlled_responders"``.
    result : PooledResult
        The pooled result of the outcome (any result of the contract, :mod:`analysis.engine.contract`).
    data : pandas.DataFrame
        The rows of ``data/studies.csv`` that were pooled, one per study in the order of
        ``result`` (``design``, ``rob_*``, ``sessions``, ``time_window``,
        ``responder_threshold_percent``, ``n_analysed``, ``ketamine_n``, ``control_n``).
    label : str, optional
        Outcome in words (default: ``outcome``).
    small_study : EggerTestResult, optional
        Egger's test on ``result`` (computed when k >= 10 and not given).
    overrides : pandas.DataFrame, optional
        :func:`load_grade_overrides` (rows for other outcomes are ignored).
    decision_threshold : float, optional
        A value on the natural scale whose inclusion in the CI makes the result
        imprecise (e.g. 0.5 for "half of patients respond").
    optimal_information_size : int
        Participants below which the result is imprecise.

    Returns
    -------
    GradeAssessment

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> rows = pd.DataFrame({
    ...     "design": ["rct_parallel", "single_arm_prospective"], "rob_tool": ["rob2", "robins_i"],
    ...     "rob_overall": ["low", "serious"], "rob_measurement": ["low", "serious"],
    ...     "sessions": [1, 1], "time_window": ["during_or_immediate", "not_reported"],
    ...     "responder_threshold_percent": [50, 50]})
    >>> res = pool_proportions([8, 13], [12, 34], labels=["A", "B"])
    >>> g = grade_outcome("response_rate", res, rows)
    >>> g.start, [d.downgrade for d in g.domains], g.certainty
    ('low', [2, 0, 0, 1, 0], 'very low')
    """
    if not isinstance(result, PooledResult):
        raise AnalysisError("result must be a pooled result (see analysis.engine.contract), "
                            f"not {type(result).__name__}.")
    if len(data) != result.k:
        raise AnalysisError(f"data has {len(data)} rows but the result pools {result.k} studies; pass the rows "
                            "that were pooled, in the order of the result.")
    if "design" not in data.columns:
        raise AnalysisError("data needs the design column of data/studies.csv.")
    rows = data.reset_index(drop=True)
    randomised = rows["design"].astype(str).str.startswith("rct")
    if randomised.all():
        start, start_reason = "high", "every study is randomised"
    else:
        other = [result.labels[i] for i in np.flatnonzero(~randomised.to_numpy())]
        start = "low"
        start_reason = f"{len(other)} of {result.k} studies are not randomised ({', '.join(other)})"
    weights = _weights(result, rows)
    natural = result.natural()
    participants = _participants(result, rows)
    domains = [
        _risk_of_bias(result, rows, weights, start == "low"),
        _inconsistency(result, natural),
        _indirectness(result, rows, weights),
        _imprecision(result, participants, decision_threshold, optimal_information_size, natural),
        _publication_bias(result, small_study),
    ]
    domains = _apply_overrides(outcome, domains, overrides)
    level = LEVELS.index(start) - sum(d.downgrade for d in domains)
    return GradeAssessment(
        outcome=outcome, label=label or outcome, k=result.k, participants=participants, scale=natural.label,
        estimate=natural.estimate, ci_lb=natural.ci_lb, ci_ub=natural.ci_ub, start=start,
        start_reason=start_reason, domains=tuple(domains), certainty=LEVELS[max(0, level)],
    )
