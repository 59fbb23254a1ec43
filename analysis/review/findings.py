"""The GRADE summary of findings in the GRADEpro layout, with absolute effects per 1000.

One row per outcome: the outcome and its follow-up; the anticipated absolute effects
(risk with control, from the control arms of the pooled studies; risk with ketamine
and the difference, both with their CI); the relative effect; participants (studies);
the certainty as symbols and words; and lettered footnotes giving the reason for each
downgrade. Rows come from the analysis plan (:mod:`analysis.review.plan`); certainty from
:func:`analysis.review.grade.grade_outcome`. An outcome without data keeps its row, saying so.

Absolute effects (GRADE handbook, section 5.2): with the control risk ``r`` (events
over patients in the control arms pooled), a risk ratio gives ``r x RR``, an odds ratio
``r OR / (1 - r + r OR)``, a risk difference ``r + RD``; each bound of the relative
effect's CI gives the bound of the absolute effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from analysis.data import studies_dictionary
from analysis.engine._errors import AnalysisError
from analysis.engine.contract import PooledResult
from analysis.engine.formatting import format_effect, format_percent
from analysis.review.answer import Answer
from analysis.review.grade import GradeAssessment, grade_outcome
from analysis.review.plan import AnalysisPlan
from analysis.review.protocol import WINDOW
from analysis.review.selection import as_flag

#: GRADE certainty as GRADEpro prints it.
CERTAINTY_SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}

#: Absolute effects are given per this many patients.
PER = 1000

#: Controlled outcomes of the table: key, words, protocol window, follow-up in words.
CONTROLLED_OUTCOMES = (
    ("responders_immediate", "Responders immediately after the infusion",
     "during_or_immediate", "up to 4 h"),
    ("responders_1_week", "Responders at 1 week", "short_term", "1 to 7 days"),
    ("responders_8_weeks", "Responders at 8 weeks or later", "long_term", "8 weeks or more"),
)

#: Harms outcomes: key, words, the ``outcome`` value of data/studies.csv.
HARMS_OUTCOMES = (
    ("adverse_events", "Adverse events (patients with at least one)", "adverse_events"),
    ("withdrawals", "Withdrawals", "withdrawals"),
)


@dataclass(frozen=True)
class FindingsRow:
    """One outcome of the summary of findings.

    Attributes
    ----------
    key, outcome, follow_up : str
        The outcome's key, its words and its follow-up time.
    studies : int
    participants : int or None
    relative : str
        ``"RR 2.67 (0.93 to 7.69)"``; ``"not estimable"`` without a comparison.
    control_risk, ketamine_risk, ketamine_lb, ketamine_ub, difference, difference_lb, difference_ub : float
        Per :data:`PER` patients (NaN where not estimable).
    certainty : str or None
        GRADE certainty (None when there is nothing to rate).
    footnotes : tuple of str
        The reason for each downgrade (lettered when the table is drawn).
    comment : str
    interval : str
        What every interval of the row is, ``"95% CrI"`` or ``"95% CI"`` ("" without one).
    downgraded : tuple of str
        The GRADE domains that lowered the certainty (keys of :data:`analysis.review.grade.DOMAINS`).
    """

    key: str
    outcome: str
    follow_up: str
    studies: int
    participants: int | None
    relative: str
    control_risk: float
    ketamine_risk: float
    ketamine_lb: float
    ketamine_ub: float
    difference: float
    difference_lb: float
    difference_ub: float
    certainty: str | None
    footnotes: tuple[str, ...]
    comment: str
    interval: str = ""
    downgraded: tuple[str, ...] = field(default=(), repr=False)  # the footnotes say it in words


def risk_with_treatment(control_risk: float, relative: float, measure: str) -> float:
    """The risk with ketamine implied by a control risk and a relative effect (natural scale).

    A risk stays within [0, 1] (a ratio's upper bound can imply more than every patient).

    >>> round(risk_with_treatment(0.25, 2.0, "RR"), 3), round(risk_with_treatment(0.25, 3.0, "OR"), 3)
    (0.5, 0.5)
    >>> round(risk_with_treatment(0.25, 0.1, "RD"), 3)
    0.35
    >>> risk_with_treatment(0.25, 7.7, "RR")
    1.0
    """
    return min(max(_risk_with_treatment(control_risk, relative, measure), 0.0), 1.0)


def _risk_with_treatment(control_risk: float, relative: float, measure: str) -> float:
    """:func:`risk_with_treatment` before it is kept within [0, 1] (to say when it was capped)."""
    if measure == "RR":
        return control_risk * relative
    if measure == "OR":
        return control_risk * relative / (1 - control_risk + control_risk * relative)
    if measure == "RD":
        return control_risk + relative
    raise AnalysisError(f"absolute effects for measure={measure!r} are not defined; use RR, OR or RD")


def _footnotes(assessment: GradeAssessment) -> tuple[str, ...]:
    return tuple(f"{d.domain.replace('_', ' ').capitalize()} ({d.judgement}"
                 f"{', curator' if d.overridden else ''}): {d.reason}."
                 for d in assessment.domains if d.downgrade)


def _downgraded(assessment: GradeAssessment) -> tuple[str, ...]:
    return tuple(d.domain for d in assessment.domains if d.downgrade)


def _controlled_row(plan: AnalysisPlan, studies: pd.DataFrame, key, words, window, follow_up, overrides):
    if plan.controlled_rows(studies, window).empty:
        return _empty_row(key, words, follow_up, "No study counts responders in both arms at this time.")
    answer = plan.answer(studies, "controlled", window)  # the question's one answer
    return _comparison_row(plan, answer.rows, key, words, follow_up, overrides, "responders",
                           "more patients respond to ketamine than to the control", answer=answer)


def _probability(fit: PooledResult, threshold: float, event: str) -> list[str]:
    """A posterior's probability statement for the Comments column (none for a frequentist fit)."""
    return [f"Probability that {event}: {format_percent(fit.prob_above(threshold))}."] if fit.is_bayesian else []


def _comparison_row(plan: AnalysisPlan, rows: pd.DataFrame, key, words, follow_up, overrides, events_word,
                    above_null: str, answer: Answer | None = None):
    """A row comparing the arms of ``rows`` (one per sample) with the plan's comparison model
    (the question's :class:`~analysis.review.answer.Answer` when there is one); ``above_null`` says in
    words what an effect above no difference means (for the probability)."""
    fit = answer.fit if answer is not None else plan.compare(plan.comparisons(rows))
    natural = fit.natural()
    control_events, control_n = int(rows["control_events"].sum()), int(rows["control_n"].sum())
    control = control_events / control_n
    comments = [] if fit.k > 1 else [
        "One trial: the Bayesian model widens the interval for the spread a next trial could show."
        if fit.is_bayesian else "One trial: a frequentist random-effects model can only repeat it."]
    comments += _probability(fit, 0.0, above_null)
    if control == 0 and plan.measure != "RD":
        # a ratio times a control risk of 0 is 0 whatever the ratio: no absolute effect follows
        risks = [math.nan] * 3
        events = f"{int(rows['ketamine_events'].sum())}/{int(rows['ketamine_n'].sum())}"
        comments.insert(0, f"No {events_word} in the control arms ({control_events}/{control_n}): the absolute "
                           f"effect cannot be derived from a ratio; ketamine arms {events}.")
    else:
        raw = [_risk_with_treatment(control, value, plan.measure)
               for value in (natural.estimate, natural.ci_lb, natural.ci_ub)]
        risks = [min(max(risk, 0.0), 1.0) for risk in raw]
        capped = [bound for bound, risk in zip(("estimate", "lower bound", "upper bound"), raw)
                  if not 0.0 <= risk <= 1.0]
        if capped:
            above = max(raw) > 1
            comments.append(f"Capped at {'1000' if above else '0'} per 1000: the {' and '.join(capped)} of the "
                            f"relative effect would imply {'more than every' if above else 'fewer than no'} patient.")
    if answer is not None and answer.zero_cell:
        comments.append(f"Zero-cell correction: {answer.zero_cell}.")
    comments.insert(0, _compared_with(rows))
    assessment = grade_outcome(key, fit, rows, label=words, overrides=overrides)
    relative = (answer.text() if answer is not None else
                f"{plan.measure} {format_effect(natural.estimate)} ({100 * fit.confidence_level:g}% "
                f"{fit.interval_name} {natural.interval_text()})")
    return FindingsRow(
        key, words, follow_up, fit.k, assessment.participants, relative,
        PER * control, *(PER * r for r in risks), *(PER * (r - control) for r in risks),
        assessment.certainty, _footnotes(assessment), " ".join(comments), _interval(fit),
        _downgraded(assessment),
    )


def _response_rate_row(plan: AnalysisPlan, studies: pd.DataFrame, overrides, threshold) -> FindingsRow:
    rows = plan.response_rate_rows(studies)
    words = "Response rate in ketamine arms, all designs"
    follow_up = WINDOW[plan.time_window].axis_label.replace("≤", "up to")
    if rows.empty:
        return _empty_row("response_rate", words, follow_up, "No sample reports responders in this window.")
    answer = plan.answer(studies, "response_rate")
    fit: PooledResult = answer.fit
    natural = fit.natural()
    unstated = rows.loc[rows["time_window"] == "not_reported", "study_label"].tolist()
    assessment = grade_outcome("response_rate", fit, rows, label=words, overrides=overrides,
                               decision_threshold=threshold)
    nan = math.nan
    control = (f"Control arm{'s' if ';' in answer.control else ''} among these samples: {answer.control} "
               f"({format_percent(answer.control_risk)})."
               if answer.control_n else "No pooled sample has a control arm to compare with.")
    timing = (f" {' and '.join(unstated)} give no time point; the protocol counts them in this window only."
              if unstated else "")
    return FindingsRow(
        "response_rate", words, follow_up, fit.k, assessment.participants,
        "not estimable (most samples have no control arm)",
        nan, PER * natural.estimate, PER * natural.ci_lb, PER * natural.ci_ub, nan, nan, nan,
        assessment.certainty, _footnotes(assessment),
        " ".join([f"A response rate in any arm includes placebo response and natural fluctuation of pain. "
                  f"{control}{timing}",
                  *_probability(fit, threshold, f"the response rate exceeds {format_percent(threshold)}")]),
        _interval(fit),
        _downgraded(assessment),
    )


def _harms_row(plan: AnalysisPlan, studies: pd.DataFrame, key, words, outcome, overrides) -> FindingsRow:
    included = plan.included(studies)
    rows = included[(included["outcome"] == outcome) & included["ketamine_events"].notna()
                    & included["control_events"].notna() & as_flag(included["include_in_pooling"])]
    if rows.empty:
        described = included[included["adverse_events"].notna()]["cohort_id"].nunique() if outcome == "adverse_events" else 0
        detail = (f" {described} stud{'y describes' if described == 1 else 'ies describe'} adverse events in words "
                  "only (see the harms section)."
                  if described else "")
        return _empty_row(key, words, "as reported",
                          f"No controlled study reports patients with {words.split(' (')[0].lower()} per arm.{detail}")
    rows = rows.sort_values(["cohort_id", "timepoint_hours"]).drop_duplicates("cohort_id")
    return _comparison_row(plan, rows, key, words, "as reported", overrides, "patients with the event",
                           f"ketamine leads to more {words.split(' (')[0].lower()} than the control")


def _compared_with(rows: pd.DataFrame) -> str:
    """"Control: active placebo (midazolam 5 mg IV over 30 min), Noppers 2011." for the rows."""
    parts = []
    for _, row in rows.drop_duplicates("cohort_id").iterrows():
        kind = studies_dictionary()["control"].value_label(row["control"]).lower()
        detail = row.get("control_detail")
        parts.append(f"{kind} ({detail}), {row['study_label']}" if isinstance(detail, str) and detail.strip()
                     else f"{kind}, {row['study_label']}")
    return "Control: " + "; ".join(parts) + "."


def _interval(fit: PooledResult) -> str:
    return f"{100 * fit.confidence_level:g}% {fit.interval_name}"


def _empty_row(key, words, follow_up, comment) -> FindingsRow:
    nan = math.nan
    return FindingsRow(key, words, follow_up, 0, None, "not estimable", nan, nan, nan, nan, nan, nan, nan,
                       None, (), comment)


def summary_of_findings(plan: AnalysisPlan, studies: pd.DataFrame, overrides: pd.DataFrame | None = None
                        ) -> tuple[FindingsRow, ...]:
    """The rows of the GRADE summary of findings: response rate, responders against control at
    each follow-up, adverse events, withdrawals."""
    rows = [_response_rate_row(plan, studies, overrides, plan.response_rate_threshold)]
    rows += [_controlled_row(plan, studies, *outcome, overrides) for outcome in CONTROLLED_OUTCOMES]
    rows += [_harms_row(plan, studies, *outcome, overrides) for outcome in HARMS_OUTCOMES]
    return tuple(rows)
