"""Check the claims of the popular articles (``data/claims.csv``) against the evidence.

:func:`check_claims` gives every claim a verdict, the numbers it rests on and a
one-line explanation. The analysis that tests a claim is the claim's own
``analysis`` column (chosen by the curator); each analysis has one small check
registered in :data:`CHECKS` (``@check("duration")``), and the verdict rules are
pure functions of numbers in :mod:`analysis.review.claim_rules`. Each verdict
records the rule that decided it. Numbers come from the plan's answers
(:meth:`analysis.review.plan.AnalysisPlan.answer`), so a claim is checked
against the number, interval and model every page gives; every interval is
named for what it is (CI or CrI).

Verdicts
--------
``supported``, ``partly supported``, ``compatible`` (the evidence's interval
merely contains the claim, with other values: not support), ``not supported``,
``not testable``.

Rules
-----
Not testable
    ``testable`` is false or ``analysis`` is ``not_testable`` (the reason is the
    claim's ``note``); or the data hold nothing the rule needs (the explanation
    says what is missing).
Pooled response rate (``pooled_response_rate``)
    The plan's answer for the response rate in the claim's window (the plan's
    window when it gives none). A point value: compatible inside the interval
    (or the prediction interval), not supported outside. A one-sided claim
    ("more than half"): supported if the whole interval lies on the claimed
    side, partly supported if the estimate does, compatible if only the
    (prediction) interval reaches it. The explanation gives the window and the
    comparison arm beside the uncontrolled number.
One study's numbers (``single_study_check``)
    The rows of the study named in ``study_ref``. A response rate: what the
    study observed against what the claim says it found (within 5 points for
    "about"), with the comparison arm. A count of patients is weighed with how
    many of them responded (all: supported; fewer: partly supported); sessions
    or responders: supported if equal. A direction of effect: see below. A pain
    score without a number: supported if every patient met the responder
    threshold, partly if some did. A case description: not testable.
Direction of effect (controlled comparisons)
    The plan's comparison of responders: supported if its interval excludes no
    difference in favour of ketamine, partly supported if the estimate favours
    ketamine but the interval includes no difference, not supported otherwise.
    Responders without control counts: partly supported (nothing can be
    attributed to ketamine without a control).
Controlled comparison (``controlled_rr``)
    A claimed proportion is checked against the ketamine arm (one study's
    observed proportion, or the pooled ketamine arms), with the control arm
    beside it; otherwise the claim is read as a direction of effect.
Duration (``duration``)
    "Gone by U": the controlled rows at or after U; not supported if one shows
    a benefit whose interval excludes no difference, partly supported if one
    favours ketamine without that, supported if none does. "Still some benefit
    at L": supported if a controlled row after L shows a benefit excluding no
    difference, partly supported if one favours ketamine, not supported if the
    controlled rows show no more responders with ketamine than with control,
    compatible if only uncontrolled responders remain; a missing measurement at
    L is said. "Short-term relief, no long-term analgesia": both parts weighed
    (:func:`analysis.review.claim_rules.combine`).
Counts of studies and patients (``study_count``)
    Registered studies: the registered trials of ``study_ref`` found in the
    data. Studies: supported if the claim equals the number of studies with a
    pooled sample, partly supported if it equals the number of their reports.
    Patients: the patients of those studies (every arm); the explanation says
    why the pooled response rate counts fewer (its ketamine arms only).
Adverse events (``adverse_events``)
    Each independent sample's ``adverse_events`` text is read for the words in
    :data:`NOT_MILD_WORDS` and :data:`MILD_WORDS`; supported if every classified
    sample is mild, partly supported if most are, not supported otherwise.
Study characteristics (``study_characteristics``)
    Share of the pooled samples with one ketamine session at no more than
    ``low_dose_mg_per_kg``: supported from one half, partly supported above 0.

A sentence checked as several claims (e.g. C35 and C35b) says so in each part's
explanation, with the other parts' verdicts. Pass the studies in the review
(``EvidenceBase.in_review``) so that nothing awaiting classification is counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from analysis.review import claim_rules as rules
from analysis.engine._errors import AnalysisError, check_option
from analysis.review.claim_rules import VERDICTS, Claimed
from analysis.data import studies_dictionary
from analysis.data.paths import SNAPSHOTS_DIR
from analysis.engine.formatting import format_effect, format_percent
from analysis.engine.proportion_scales import study_intervals
from analysis.review.plan import AnalysisPlan
from analysis.review.protocol import PRIMARY_WINDOW, TIME_WINDOWS, UNSTATED_TIME_WINDOW, WINDOW
from analysis.review.selection import as_flag

#: Words that mark an adverse-event description as mild or short-lived (matched in lower case).
MILD_WORDS = ("mild", "short-lasting", "short-lived", "declined rapidly", "none",
              "without any complications", "few, minor")
#: Words that mark it as not mild or not short-lived; they win over MILD_WORDS.
NOT_MILD_WORDS = ("withdrawal", "serious", "severe")

#: Default upper bound of a "low" dose. The Ketalar (ketamine hydrochloride) label, section 2.2:
#: "Intravenous Route: The initial dose of KETALAR administered intravenously may range from
#: 1 mg/kg to 4.5 mg/kg" to induce anaesthesia (https://www.drugs.com/dosage/ketalar.html), so
#: an analgesic infusion of at most 0.5 mg/kg is well below an anaesthetic dose.
LOW_DOSE_MG_PER_KG = 0.5

#: Where the verdicts on the committed data are kept for review (``python -m analysis snapshot``;
#: ``analysis.review.snapshots``).
SNAPSHOT_PATH = SNAPSHOTS_DIR / "claim_verdicts.csv"

#: Columns of the snapshot.
SNAPSHOT_COLUMNS = ("claim_id", "verdict", "rule", "scale", "estimate", "ci_lb", "ci_ub", "k")

_RESPONSE_OUTCOMES = ("responders", "relief_persisting")


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class ClaimVerdict:
    """The verdict on one claim and the numbers it rests on.

    Attributes
    ----------
    claim_id, analysis : str
        From ``data/claims.csv``.
    verdict : str
        One of :data:`VERDICTS`.
    claimed : str
        The claim's number in words (e.g. ``"about 0.5 proportion"``, ``"more than 0.5
        proportion"``); empty when it states none.
    scale : str
        What ``estimate`` and its intervals are (``"proportion"``, ``"risk ratio"``,
        ``"patients"``, ...); empty when no number applies.
    estimate, ci_lb, ci_ub, pi_lb, pi_ub : float
        The evidence's number with its confidence and prediction intervals (NaN when
        not applicable).
    k : int
        Studies (patient samples) the numbers rest on (0 when none).
    evidence : str
        The counts behind the numbers, e.g. ``"Noppers 2011 (15 min): 8/12 vs 3/12"``.
    explanation : str
        One line for a reader.
    rule : str
        The rule that decided the verdict (see the module docstring).
    """

    claim_id: str
    analysis: str
    verdict: str
    claimed: str
    scale: str
    estimate: float
    ci_lb: float
    ci_ub: float
    pi_lb: float
    pi_ub: float
    k: int
    evidence: str
    explanation: str
    rule: str


@dataclass(frozen=True)
class ClaimsCheck:
    """Every claim's verdict, with the options the evidence was computed with.

    Attributes
    ----------
    verdicts : tuple of ClaimVerdict
        In the order of the claims table.
    plan : AnalysisPlan
        The analysis plan the evidence was computed with.
    low_dose_mg_per_kg : float
    """

    verdicts: tuple[ClaimVerdict, ...] = field(repr=False)
    plan: AnalysisPlan
    low_dose_mg_per_kg: float

    def to_frame(self) -> pd.DataFrame:
        """One row per claim: every field of :class:`ClaimVerdict`."""
        return pd.DataFrame([v.__dict__ for v in self.verdicts])

    def verdict(self, claim_id: str) -> ClaimVerdict:
        """The verdict of one claim."""
        for v in self.verdicts:
            if v.claim_id == claim_id:
                return v
        raise AnalysisError(f"no claim {claim_id!r} was checked.")

    def snapshot(self) -> pd.DataFrame:
        """The verdicts as a curator reviews them: one row per claim, numbers to 4 significant digits.

        ``python -m analysis snapshot-claims`` writes this to :data:`SNAPSHOT_PATH`; the test
        suite compares the current verdicts with it and prints the differences.
        """
        frame = self.to_frame()[list(SNAPSHOT_COLUMNS)].copy()
        for column in ("estimate", "ci_lb", "ci_ub"):
            frame[column] = [f"{value:.4g}" if pd.notna(value) else "" for value in frame[column]]
        return frame

    def counts(self) -> pd.Series:
        """Number of claims per verdict, in the order of :data:`VERDICTS`."""
        found = pd.Series([v.verdict for v in self.verdicts], dtype=str)
        return found.value_counts().reindex(list(VERDICTS), fill_value=0)


# ------------------------------------------------------------------ helpers

_NAN = float("nan")


def _hours(h: float) -> str:
    if h < 24:
        return f"{h:g} h"
    if h < 24 * 14:
        return f"{h / 24:.3g} d"
    if h < 24 * 365:
        return f"{h / 168:.3g} wk"
    return f"{h / (24 * 365):.3g} y"


def _duration_words(hours: float) -> str:
    """A duration in the unit a reader would use: "2 hours", "1 day", "2 weeks", "8 weeks".

    >>> _duration_words(2), _duration_words(24), _duration_words(336), _duration_words(1344)
    ('2 hours', '1 day', '2 weeks', '8 weeks')
    """
    for size, unit in ((168, "week"), (24, "day"), (1, "hour")):
        if hours >= size and (hours / size).is_integer():
            count = int(hours / size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{hours:g} hours"


def _claimed_text(claim) -> str:
    unit = "" if pd.isna(claim["claimed_unit"]) else f" {claim['claimed_unit']}"
    about = "about " if bool(claim["approximate"]) else ""
    parts = []
    if str(claim["claimed_unit"]).strip() == "proportion":  # written as readers write it: 33%, not 0.333
        for column, words in (("claimed_value", about), ("claimed_lower", "more than "), ("claimed_upper", "less than ")):
            if not pd.isna(claim[column]):
                parts.append(f"{words}{format_percent(claim[column])}")
        return "; ".join(parts)
    if str(claim["claimed_unit"]).strip() == "hours":  # as the claim says it: weeks, days or hours
        for column, words in (("claimed_value", about), ("claimed_lower", "more than "), ("claimed_upper", "less than ")):
            if not pd.isna(claim[column]):
                parts.append(f"{words}{_duration_words(float(claim[column]))}")
        return "; ".join(parts)
    if not pd.isna(claim["claimed_value"]):
        parts.append(f"{about}{claim['claimed_value']:.3g}{unit}")
    if not pd.isna(claim["claimed_lower"]) and not pd.isna(claim["claimed_upper"]):
        parts.append(f"{claim['claimed_lower']:g} to {claim['claimed_upper']:g}{unit}")
    elif not pd.isna(claim["claimed_lower"]):
        parts.append(f"more than {claim['claimed_lower']:g}{unit}")
    elif not pd.isna(claim["claimed_upper"]):
        parts.append(f"less than {claim['claimed_upper']:g}{unit}")
    return "; ".join(parts)


def _given(value) -> bool:
    """A claim's optional cell holds a value (not missing, not empty)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and not pd.isna(value) \
        and str(value).strip() != ""


def _when(window: str) -> str:
    """A protocol window in words for a sentence: "in the short term (1 to 7 days)"."""
    words = WINDOW[window].words
    return words[0].lower() + words[1:] if words.startswith("In ") else words[0].lower() + words[1:]


def _claimed(claim, as_proportion: bool) -> Claimed:
    """The claim's number, converted from percent when compared with a proportion."""
    factor = 0.01 if as_proportion and str(claim["claimed_unit"]).strip() == "percent" else 1.0
    return Claimed(*(float(claim[c]) * factor if not pd.isna(claim[c]) else _NAN
                     for c in ("claimed_value", "claimed_lower", "claimed_upper")))


def _row_label(row) -> str:
    time = row["timepoint_label"] if isinstance(row["timepoint_label"], str) else "time not stated"
    return f"{row['study_label']} ({time})"


#: Each check, registered by the claim's ``analysis`` (``data/claims.csv``): a small function
#: ``check(context, claim) -> ClaimVerdict``. Other analyses slot in with :func:`check`.
CHECKS: dict[str, Callable] = {}


def check(analysis: str):
    """Register a check for claims whose ``analysis`` is ``analysis``."""
    def register(function):
        CHECKS[analysis] = function
        return function
    return register


class _Context:
    """What every check needs: the plan, the included studies, and the building blocks of a
    verdict (rows a claim refers to, its window, the answers and their words)."""

    def __init__(self, studies, plan: AnalysisPlan, low_dose):
        self.plan = plan
        self.all_studies = studies
        self.studies = plan.included(studies)
        self.level = plan.confidence_level
        self.low_dose = low_dose
        self.dictionary = studies_dictionary()

    # -- building blocks ---------------------------------------------------
    def verdict(self, claim, verdict, rule, explanation, *, scale="", estimate=_NAN, ci=(_NAN, _NAN),
                pi=(_NAN, _NAN), k=0, evidence=""):
        check_option("verdict", verdict, VERDICTS)
        return ClaimVerdict(
            claim_id=str(claim["claim_id"]), analysis=str(claim["analysis"]), verdict=verdict,
            claimed=_claimed_text(claim), scale=scale, estimate=float(estimate), ci_lb=float(ci[0]),
            ci_ub=float(ci[1]), pi_lb=float(pi[0]), pi_ub=float(pi[1]), k=int(k), evidence=evidence,
            explanation=explanation, rule=rule,
        )

    def ruled(self, claim, ruling: rules.Ruling, explanation, **numbers):
        return self.verdict(claim, ruling.verdict, ruling.rule, explanation, **numbers)

    def label(self, column: str, value) -> str:
        """A code of ``data/studies.csv`` in the dictionary's words ("case report", not ``case_report``)."""
        text = self.dictionary[column].value_label(value) if column in self.dictionary else str(value)
        return text if text[:2].isupper() else text[:1].lower() + text[1:]

    def refs(self, claim) -> pd.DataFrame:
        if pd.isna(claim["study_ref"]):
            return self.studies.iloc[0:0]
        keys = [r.strip() for r in str(claim["study_ref"]).split(";") if r.strip()]
        return self.studies[self.studies["cohort_id"].isin(keys) | self.studies["study_id"].isin(keys)]

    def window(self, claim) -> str:
        w = str(claim["time_window"])
        return w if w in TIME_WINDOWS else self.plan.time_window

    def comparison(self, rows: pd.DataFrame):
        """The plan's comparison model on ``rows`` (one row: that row's own comparison);
        None when no row has both arms."""
        rows = rows[rows["control_events"].notna() & rows["ketamine_events"].notna()]
        if rows.empty:
            return None, rows
        return self.plan.compare(self.plan.comparisons(rows)), rows

    def describe_fit(self, fit) -> str:
        """``"RR 2.67 (95% CrI 0.25 to 28.27)"``: the interval named for what it is."""
        natural = fit.natural()
        return (f"{self.plan.measure} {format_effect(natural.estimate)} ({100 * self.level:g}% "
                f"{fit.interval_name} {natural.interval_text()})")

    @staticmethod
    def natural(fit):
        natural = fit.natural()
        return natural.estimate, (natural.ci_lb, natural.ci_ub), (natural.pi_lb, natural.pi_ub)

    @staticmethod
    def counts_text(rows: pd.DataFrame, control=True) -> str:
        parts = []
        for _, row in rows.iterrows():
            text = f"{_row_label(row)}: {int(row['ketamine_events'])}/{int(row['ketamine_n'])}"
            if control and not pd.isna(row["control_events"]):
                text += f" vs {int(row['control_events'])}/{int(row['control_n'])}"
            parts.append(text)
        return "; ".join(parts)

    def comparison_arm(self, rows: pd.DataFrame, window: str) -> str:
        """The comparison arm beside an uncontrolled number: the control arms of ``rows``, else
        those of the controlled studies in the same window; "" when there are none."""
        controlled = rows[rows["control_events"].notna() & rows["control_n"].notna()]
        where = "of these samples"
        if controlled.empty:
            controlled = self.plan.controlled_rows(self.studies, window)
            where = f"of the controlled studies {_when(window)}"
        if controlled.empty:
            return " No controlled study counts responders in this window to compare with."
        arms = "; ".join(f"{_row_label(r)}: {int(r['control_events'])}/{int(r['control_n'])} "
                         f"({self.control_words(r)})" for _, r in controlled.iterrows())
        events, n = int(controlled["control_events"].sum()), int(controlled["control_n"].sum())
        return (f" For comparison, the control arm{'s' if len(controlled) > 1 else ''} {where}: {arms} = "
                f"{format_percent(events / n)} responded; a response rate without its control includes "
                "placebo response and natural fluctuation of pain.")

    def control_words(self, row) -> str:
        """The comparison treatment named: ``"active placebo: midazolam 5 mg IV over 30 min"``."""
        kind = self.label("control", row["control"])
        detail = row.get("control_detail")
        return f"{kind}: {detail}" if isinstance(detail, str) and detail.strip() else kind

    # -- shared rules --------------------------------------------------------
    def pooled_rate(self, claim, rows=None, what="pooled response rate in ketamine arms"):
        window = self.window(claim)
        if rows is None:
            rows = self.plan.response_rate_rows(self.studies, window)
        if len(rows) == 0:
            return self.verdict(claim, "not testable", "no responder rows",
                                f"No study reports responders {_when(window)}.")
        # the question's one answer, for one sample too (the plan's model, as on every page)
        answer = self.plan.answer(self.studies, "response_rate", window, rows=rows)
        fit, natural = answer.fit, answer.natural
        prop, ci, pi = natural.estimate, (natural.ci_lb, natural.ci_ub), (natural.pi_lb, natural.pi_ub)
        ruling = rules.interval(_claimed(claim, True), prop, ci, pi, interval_name=fit.interval_name)
        spread = (f"; {fit.prediction_interval_name} {natural.interval_text(prediction=True)}"
                  if fit.has_prediction_interval else "")
        unstated = rows.loc[rows["time_window"] == "not_reported", "study_label"].tolist()
        timing = (f" Measured {_when(window)}" + (f" ({' and '.join(unstated)}: no stated time, counted in this "
                                                  "window only)" if unstated else "") + ".")
        numbers = (f"{what} {answer.text().removesuffix(')')}{spread}; "
                   f"{_studies(fit.k)}, {fit.model_label}).{timing}{self.comparison_arm(rows, window)}")
        numbers_kw = dict(scale="proportion", estimate=prop, ci=ci, pi=pi, k=fit.k,
                          evidence=self.counts_text(rows, control=False))
        if ruling is None:
            return self.verdict(claim, "not testable", "pooled response rate: no number",
                                f"The claim states no number; for context, the {numbers}", **numbers_kw)
        return self.verdict(claim, ruling.verdict, f"pooled response rate: {ruling.rule}",
                            f"Claimed {_claimed_text(claim)}; {numbers}", **numbers_kw)

    def single_rate(self, claim, rows, extra=""):
        """What one study observed, against what the claim says it found (:func:`rules.reported`)."""
        row = rows.iloc[0]
        events, n = int(row["ketamine_events"]), int(row["ketamine_n"])
        lower, upper = study_intervals([events], [n], self.level)
        ci = (float(lower[0]), float(upper[0]))
        ruling = rules.reported(events / n, _claimed(claim, True), bool(claim["approximate"]))
        numbers = (f"{_row_label(row)}: {events}/{n} = {format_percent(events / n)} in the ketamine arm "
                   f"(exact {100 * self.level:g}% CI {format_percent(ci[0])} to {format_percent(ci[1])})")
        numbers_kw = dict(scale="proportion", estimate=events / n, ci=ci, k=1, evidence=self.counts_text(rows))
        if ruling is None:
            return self.verdict(claim, "not testable", "single study: no number",
                                f"The claim states no number; {numbers}.{extra}", **numbers_kw)
        return self.verdict(claim, ruling.verdict, f"one study's proportion: {ruling.rule}",
                            f"Claimed {_claimed_text(claim)}; {numbers}.{extra}", **numbers_kw)

    def direction_rule(self, claim, rows, what):
        fit, used = self.comparison(rows)
        if fit is None and _given(claim.get("reported_favours")):
            return self.reported_rule(claim, what)
        if fit is None:
            responders = rows[rows["ketamine_events"].notna() & (rows["outcome"].isin(_RESPONSE_OUTCOMES))]
            if responders.empty:
                return self.verdict(claim, "not testable", "direction: no outcome data",
                                    f"No responder counts {what} in the data.")
            events = responders["ketamine_events"].astype(int)
            evidence = self.counts_text(responders, control=False)
            pain = self.pain_text(rows)
            if (events > 0).any():
                return self.verdict(
                    claim, "partly supported", "direction: responders without control counts",
                    f"{evidence}{pain}: responders after ketamine, but the data hold no control "
                    f"counts, so the change cannot be attributed to ketamine.{self.concerns(claim)}",
                    k=responders["cohort_id"].nunique(), evidence=evidence)
            return self.verdict(claim, "not supported", "direction: no responders",
                                f"No responders after ketamine {what} ({evidence}).", evidence=evidence)
        estimate, ci, pi = self.natural(fit)
        ruling = rules.direction(rules.direction_state(fit.natural()))
        meaning = ruling.rule.removeprefix("direction: ").replace("the interval", f"the {fit.interval_name}")
        pooled = "" if fit.k == 1 else f", {fit.k} studies pooled ({fit.model_label})"
        return self.verdict(claim, ruling.verdict, ruling.rule,
                            f"Responders ketamine vs control {what}: {self.describe_fit(fit)}{pooled}, "
                            f"{meaning}.{self.concerns(claim)}",
                            scale=fit.natural().label.lower(), estimate=estimate, ci=ci, pi=pi, k=fit.k,
                            evidence=self.counts_text(used))

    def reported_rule(self, claim, what):
        """The comparison with control the source itself reports (``reported_*`` columns of the claim)."""
        p_below = float(claim["reported_p_below"]) if _given(claim.get("reported_p_below")) else math.nan
        ruling = rules.reported_comparison(str(claim["reported_favours"]), p_below)
        return self.verdict(claim, ruling.verdict, ruling.rule,
                            f"The source reports {what}: \u201c{claim['reported_quote']}\u201d "
                            f"({claim['reported_source']}); the data hold no counts to compare.",
                            k=1, evidence=str(claim["reported_quote"]))

    @staticmethod
    def concerns(claim) -> str:
        """The claim's own outcome, when it is a direction of effect tested on responders."""
        if str(claim["quantity"]) != "direction_of_effect" or pd.isna(claim["comparison"]):
            return ""
        return f" Tested on responders; the claim concerns: {claim['comparison']}."

    def pain_text(self, rows) -> str:
        pain = rows[(rows["outcome"] == "pain_intensity") & rows["ketamine_mean"].notna()]
        return "".join(f"; pain {r['ketamine_baseline_mean']:g} before vs {r['ketamine_mean']:g} after "
                       f"({self.label('pain_scale', r['pain_scale'])})" for _, r in pain.iterrows())

    def per_row_fits(self, rows):
        """Each row's own comparison by the plan's model (the model every page uses for that row)."""
        fits = []
        for index in rows.index:
            fit, _ = self.comparison(rows.loc[[index]])
            if fit is not None:
                fits.append((rows.loc[index], fit))
        return fits

    def duration_rows(self, claim) -> pd.DataFrame:
        rows = self.refs(claim)
        if rows.empty:
            rows = self.studies
        return rows[rows["outcome"].isin(_RESPONSE_OUTCOMES) & rows["ketamine_events"].notna()
                    & rows["timepoint_hours"].notna()].sort_values(["timepoint_hours", "study_label"])

    def pooled_samples(self) -> pd.DataFrame:
        cohorts = self.studies.loc[as_flag(self.studies["include_in_pooling"]), "cohort_id"].unique()
        return self.studies[self.studies["cohort_id"].isin(cohorts)]

    def check(self, claim) -> ClaimVerdict:
        analysis = str(claim["analysis"])
        if analysis == "not_testable" or not bool(claim["testable"]):
            why = "the curator marked the claim not testable (the note says why)"
            return self.verdict(claim, "not testable", why, str(claim["note"]))
        if analysis not in CHECKS:
            raise AnalysisError(f"claim {claim['claim_id']}: no check for analysis={analysis!r}; "
                                f"checks: {', '.join(sorted(CHECKS))}")
        return CHECKS[analysis](self, claim)


# ------------------------------------------------------------------ checks


@check("pooled_response_rate")
def _pooled_response_rate(ctx: _Context, claim) -> ClaimVerdict:
    return ctx.pooled_rate(claim)


_COUNTS = {"patient_count": ("ketamine_n", "patients given ketamine"),
           "session_count": ("sessions", "ketamine sessions"),
           "responder_count": ("ketamine_events", "responders")}


@check("single_study_check")
def _single_study(ctx: _Context, claim) -> ClaimVerdict:
    rows = ctx.refs(claim)
    if rows.empty:
        return ctx.verdict(claim, "not testable", "study not in the data",
                           f"The study the claim refers to ({claim['study_ref']}) is not in the data.")
    label = rows["study_label"].iloc[0]
    quantity = str(claim["quantity"])
    responders = rows[(rows["outcome"] == "responders") & rows["ketamine_events"].notna()]
    if quantity == "response_rate":
        pooled = responders[as_flag(responders["include_in_pooling"])]
        chosen = pooled if not pooled.empty else responders
        if chosen.empty:
            return ctx.verdict(claim, "not testable", "no responder counts", f"{label}: no responder counts in the data.")
        first = chosen.sort_values("timepoint_hours").iloc[[0]]
        return ctx.single_rate(claim, first, extra=ctx.comparison_arm(first, ctx.window(claim)))
    if quantity in _COUNTS:
        return _study_count_of(ctx, claim, rows, responders, label)
    if quantity == "case_description":
        designs = ", ".join(sorted(ctx.label("design", d) for d in rows["design"].astype(str).unique()))
        return ctx.verdict(claim, "not testable", "a description, not a quantity",
                           f"A case description has no number to test; {label} is in the data ({designs}).")
    if quantity == "pain_score" and pd.isna(claim["claimed_value"]) and pd.isna(claim["claimed_lower"]):
        if responders.empty:
            return ctx.verdict(claim, "not testable", "no responder counts", f"{label}: no responder counts in the data.")
        events, n = int(responders["ketamine_events"].iloc[0]), int(responders["ketamine_n"].iloc[0])
        threshold = responders["responder_threshold_percent"].iloc[0]
        return ctx.ruled(claim, rules.share_responding(events, n),
                         f"{label}: {events}/{n} patients with at least {threshold:g}% pain reduction.",
                         scale="proportion", estimate=events / n, k=1,
                         evidence=ctx.counts_text(responders.iloc[[0]], control=False))
    window = str(claim["time_window"])
    # rows without a stated time belong to the one window the protocol assigns them
    allowed = [window] + (["not_reported"] if window == UNSTATED_TIME_WINDOW else [])
    in_window = rows if window not in TIME_WINDOWS else rows[rows["time_window"].isin(allowed)]
    in_window = in_window.sort_values("timepoint_hours").drop_duplicates(["cohort_id", "outcome"])
    return ctx.direction_rule(claim, in_window, f"in {label}")


def _study_count_of(ctx: _Context, claim, rows, responders, label) -> ClaimVerdict:
    """A count of one study's patients, sessions or responders; a count of patients is read
    with what happened to them when the study counts its responders."""
    column, what = _COUNTS[str(claim["quantity"])]
    value = claim["claimed_value"]
    known = rows[column].dropna()
    if known.empty or pd.isna(value):
        return ctx.verdict(claim, "not testable", f"{what} not in the data", f"{label}: {what} not in the data.")
    found = int(known.max())
    extra, ruling = "", rules.equal_count(found, value, what)
    if column == "ketamine_n":
        pooled = responders[as_flag(responders["include_in_pooling"])].sort_values("timepoint_hours")
        events = int(pooled["ketamine_events"].iloc[0]) if not pooled.empty else None
        if events is not None:
            extra = (f"; of them, {events} responded ({ctx.counts_text(pooled.iloc[[0]])}), so not every one "
                     "of them had a clear change" if events < found else f"; all {events} responded")
        ruling = rules.count_with_outcome(found, value, events)
    return ctx.ruled(claim, ruling, f"Claimed {value:g}; {label}: {found} {what}{extra}.",
                     scale=what, estimate=found, k=1, evidence=f"{label}: {what} = {found}")


@check("controlled_rr")
def _controlled(ctx: _Context, claim) -> ClaimVerdict:
    window = ctx.window(claim)
    rows = ctx.refs(claim)
    scope = "the study named" if not rows.empty else "all controlled studies"
    chosen = ctx.plan.controlled_rows(rows if not rows.empty else ctx.studies, window)
    if chosen.empty:
        return ctx.verdict(claim, "not testable", "no controlled rows",
                           f"No controlled responder counts {_when(window)} ({scope}).")
    if str(claim["claimed_unit"]).strip() == "proportion" and not pd.isna(claim["claimed_value"]):
        if len(chosen) == 1:
            return ctx.single_rate(claim, chosen, extra=ctx.comparison_arm(chosen, window))
        return ctx.pooled_rate(claim, chosen, what="pooled response rate in the ketamine arms of controlled trials")
    result = ctx.direction_rule(claim, chosen, f"{_when(window)} ({scope})")
    if str(claim["quantity"]) == "pain_reduction_percent":
        note = (f" The claimed {claim['claimed_value']:g}% pain reduction is not a number the data hold; "
                "the claim is tested as a direction of effect on responders.")
        result = ClaimVerdict(**{**result.__dict__, "explanation": result.explanation + note})
    return result


def _gone_by(ctx: _Context, claim, rows, upper) -> ClaimVerdict:
    after = rows[rows["timepoint_hours"] >= upper]
    fits = ctx.per_row_fits(after)
    if not fits:
        return ctx.verdict(claim, "not testable", "no controlled rows after the bound",
                           f"No controlled responder counts at or after {_hours(upper)}.")
    ruling = rules.benefit_gone_by([rules.direction_state(fit.natural()) for _, fit in fits])
    parts = [f"{_hours(row['timepoint_hours'])} after the infusion ({row['study_label']}): "
             f"{int(row['ketamine_events'])}/{int(row['ketamine_n'])} vs "
             f"{int(row['control_events'])}/{int(row['control_n'])}, {ctx.describe_fit(fit)}"
             for row, fit in fits]
    _, first_fit = fits[0]
    estimate, ci, _ = ctx.natural(first_fit)
    return ctx.ruled(claim, ruling, f"Claimed benefit gone by {_hours(upper)}; " + "; ".join(parts) + ".",
                     scale=first_fit.natural().label.lower(), estimate=estimate, ci=ci, k=1,
                     evidence=ctx.counts_text(after[after.index.isin([r.name for r, _ in fits])]))


def _lasts_until(ctx: _Context, claim, rows, bound) -> ClaimVerdict:
    after = rows[rows["timepoint_hours"] >= bound]
    if after.empty:
        return ctx.verdict(claim, "not testable", "no rows after the bound",
                           f"No responder counts at or after {_hours(bound)}.")
    fits = ctx.per_row_fits(after)
    parts = []
    for _, row in after.iterrows():
        text = (f"{_hours(row['timepoint_hours'])} ({row['study_label']}, {ctx.label('design', row['design'])}): "
                f"{int(row['ketamine_events'])}/{int(row['ketamine_n'])}")
        if not pd.isna(row["control_events"]):
            fit = next(f for r, f in fits if r.name == row.name)
            text += f" vs {int(row['control_events'])}/{int(row['control_n'])}, {ctx.describe_fit(fit)}"
        parts.append(text)
    first = float(after["timepoint_hours"].min())
    gap = ("" if math.isclose(first, bound, rel_tol=0.1) else
           f"No measurement at {_hours(bound)}; the nearest after it is at {_hours(first)}. ")
    ruling = rules.benefit_lasts_until([rules.direction_state(fit.natural()) for _, fit in fits],
                                       bool((after["ketamine_events"] > 0).any()))
    return ctx.ruled(claim, ruling, f"Claimed benefit at {_hours(bound)} or later. {gap}" + "; ".join(parts) + ".",
                     k=after["cohort_id"].nunique(), evidence=ctx.counts_text(after))


def _short_term_only(ctx: _Context, claim) -> ClaimVerdict:
    early_rows = ctx.plan.controlled_rows(ctx.refs(claim) if not ctx.refs(claim).empty else ctx.studies,
                                          PRIMARY_WINDOW)
    late_rows = ctx.plan.controlled_rows(ctx.studies, "long_term")
    early, _ = ctx.comparison(early_rows)
    late, _ = ctx.comparison(late_rows)
    if early is None or late is None:
        return ctx.verdict(claim, "not testable", "short- and long-term comparisons needed",
                           "The data lack a controlled comparison up to 4 h or at 8 weeks or later.")
    ruling = rules.short_term_only(rules.direction_state(early.natural()), rules.direction_state(late.natural()))
    estimate, ci, _ = ctx.natural(late)
    return ctx.ruled(
        claim, ruling,
        f"Up to 4 h: {ctx.describe_fit(early)} ({_studies(early.k)}); "
        f"8 weeks or later: {ctx.describe_fit(late)} ({_studies(late.k)}).",
        scale=late.natural().label.lower(), estimate=estimate, ci=ci, k=late.k, evidence=ctx.counts_text(late_rows))


@check("duration")
def _duration(ctx: _Context, claim) -> ClaimVerdict:
    value, lower, upper = claim["claimed_value"], claim["claimed_lower"], claim["claimed_upper"]
    rows = ctx.duration_rows(claim)
    if not pd.isna(upper) and pd.isna(value) and pd.isna(lower):
        return _gone_by(ctx, claim, rows, upper)
    if not pd.isna(value) or not pd.isna(lower):
        return _lasts_until(ctx, claim, rows, value if not pd.isna(value) else lower)
    if str(claim["time_window"]) == "long_term":
        return _short_term_only(ctx, claim)
    return ctx.direction_rule(claim, ctx.plan.controlled_rows(ctx.studies, ctx.window(claim)), _when(ctx.window(claim)))


def _studies(k: int) -> str:
    return f"{k} stud{'y' if k == 1 else 'ies'}"


@check("study_count")
def _study_count(ctx: _Context, claim) -> ClaimVerdict:
    unit = str(claim["claimed_unit"]).strip()
    value = claim["claimed_value"]
    if unit == "registered studies":
        return _registered(ctx, claim, value)
    samples = ctx.pooled_samples()
    as_of = claim.get("as_of_year")
    as_of = None if pd.isna(as_of) else int(as_of)
    # a fixed past document counts the studies published by its year (claim_rules.published_by)
    samples = samples[rules.published_by([None if pd.isna(y) else int(y) for y in samples["year"]], as_of)]
    by_year = "" if as_of is None else f" published by {as_of} (the document's year)"
    with_data = samples[samples["ketamine_n"].notna()]
    n_samples, n_reports = with_data["cohort_id"].nunique(), with_data["study_id"].nunique()
    if unit == "studies":
        designs = with_data.drop_duplicates("cohort_id")["design"].astype(str).value_counts()
        design_text = ", ".join(f"{count} {ctx.label('design', name).lower()}" for name, count in designs.items())
        return ctx.ruled(claim, rules.study_count(value, n_samples, n_reports),
                         f"Claimed {value:g}; the data hold {n_reports} reports of {n_samples} studies with "
                         f"a pooled sample{by_year} ({design_text}).",
                         scale="studies", estimate=n_samples, k=n_samples,
                         evidence=", ".join(sorted(with_data["study_id"].unique())))
    if unit == "patients":
        return _patients(ctx, claim, value, with_data, by_year)
    return ctx.verdict(claim, "not testable", "unit not counted", f"No count in the data for unit {unit!r}.")


def _registered(ctx: _Context, claim, value) -> ClaimVerdict:
    registered = ctx.studies[ctx.studies["design"] == "registered_trial"]
    refs = ctx.refs(claim)
    found = refs[refs["design"] == "registered_trial"]["cohort_id"].nunique()
    listing = "; ".join(f"{r['study_label']} ({'first posted ' + str(int(r['year'])) if not pd.isna(r['year']) else 'year not shown'})"
                        for _, r in registered.iterrows())
    return ctx.ruled(claim, rules.equal_count(found, value, "the registered trials named by the claim found in the data"),
                     f"Claimed {value:g}; {found} of the trials the claim refers to are registered "
                     f"in the data. All registered trials in the data: {listing}.",
                     scale="registered studies", estimate=found, k=found)


def _patients(ctx: _Context, claim, value, with_data, by_year: str = "") -> ClaimVerdict:
    """Patients of the studies with a pooled sample, every arm counted; and why the response rate
    counts fewer (its ketamine arms only)."""
    per_sample = {}
    for cohort, group in with_data.groupby("cohort_id", sort=True):
        analysed, enrolled = group["n_analysed"].dropna(), group["n_enrolled"].dropna()
        per_sample[cohort] = int(analysed.max()) if not analysed.empty else int(enrolled.max())
    total = sum(per_sample.values())
    rate_rows = ctx.plan.response_rate_rows(ctx.studies)
    in_rate = int(rate_rows["ketamine_n"].sum())
    why = (f" The pooled response rate counts {in_rate} of them: its ketamine arms only "
           f"({', '.join(f'{r.study_label} {int(r.ketamine_n)}' for r in rate_rows.itertuples())}); the others were "
           "in control arms or given other drugs in the same studies." if in_rate != total else "")
    return ctx.ruled(claim, rules.equal_count(total, value, "the patients of the studies (every arm)"),
                     f"Claimed {value:g}; the {len(per_sample)} studies with a pooled sample{by_year} have {total} "
                     f"patients analysed (else enrolled), every arm counted.{why}",
                     scale="patients", estimate=total, k=len(per_sample),
                     evidence="; ".join(f"{c}: {n}" for c, n in per_sample.items()))


@check("adverse_events")
def _adverse_events(ctx: _Context, claim) -> ClaimVerdict:
    rows = ctx.studies[ctx.studies["adverse_events"].notna()]
    # One description per sample; where reports of a sample differ (the two Grenoble CHU
    # reports), the least favourable, so that the verdict does not depend on row order.
    rank = rows["adverse_events"].map(lambda text: 0 if any(w in str(text).lower() for w in NOT_MILD_WORDS) else 1)
    rows = rows.assign(_rank=rank).sort_values("_rank", kind="stable").drop_duplicates("cohort_id").sort_index()
    mild, not_mild = [], []
    for _, row in rows.iterrows():
        text = str(row["adverse_events"]).lower()
        if any(word in text for word in NOT_MILD_WORDS):
            not_mild.append(row)
        elif any(word in text for word in MILD_WORDS):
            mild.append(row)
    ruling = rules.mild_harms(len(mild), len(not_mild))
    if ruling is None:
        return ctx.verdict(claim, "not testable", "no classifiable adverse-event text",
                           "No adverse-event description in the data can be classified.")
    classified = len(mild) + len(not_mild)
    others = "; ".join(f"{r['study_label']}: {r['adverse_events']}" for r in not_mild)
    explanation = f"{len(mild)} of {classified} samples describe mild or short-lived side effects"
    if others:
        explanation += f"; not mild or not short-lived: {others}"
    return ctx.ruled(claim, ruling, explanation + ".", scale="share of samples", estimate=len(mild) / classified,
                     k=classified,
                     evidence="; ".join(f"{r['study_label']}: {r['adverse_events']}" for r in mild + not_mild))


@check("study_characteristics")
def _study_characteristics(ctx: _Context, claim) -> ClaimVerdict:
    rows = ctx.studies[as_flag(ctx.studies["include_in_pooling"])].drop_duplicates("cohort_id")
    known = rows[rows["dose_mg_per_kg"].notna() & rows["sessions"].notna()]
    if known.empty:
        return ctx.verdict(claim, "not testable", "dose and sessions unknown",
                           "No pooled sample reports both dose per kg and number of sessions.")
    low_single = (known["sessions"] == 1) & (known["dose_mg_per_kg"] <= ctx.low_dose)
    share = float(low_single.mean())
    listing = "; ".join(f"{r['study_label']}: {r['dose_mg_per_kg']:g} mg/kg x {int(r['sessions'])}"
                        for _, r in known.iterrows())
    unknown = rows[~rows.index.isin(known.index)]["study_label"].tolist()
    missing = f" (dose or sessions not reported: {', '.join(unknown)})" if unknown else ""
    return ctx.ruled(claim, rules.low_dose_share(share, ctx.low_dose),
                     f"{int(low_single.sum())} of {len(known)} pooled samples gave one session at "
                     f"{ctx.low_dose:g} mg/kg or less ({listing}){missing}.",
                     scale="share of samples", estimate=share, k=len(known), evidence=listing)


def _with_other_parts(verdicts: list[ClaimVerdict], claims: pd.DataFrame) -> tuple[ClaimVerdict, ...]:
    """A sentence checked as several claims (one part each, e.g. C35 and C35b) says so in each
    part's explanation, with the other parts' verdicts, so that no part is read alone."""
    if "quote" not in claims.columns:
        return tuple(verdicts)
    by_id = {v.claim_id: v for v in verdicts}
    quotes = dict(zip(claims["claim_id"].astype(str), claims["quote"].astype(str)))
    out = []
    for v in verdicts:
        others = [by_id[c] for c, q in quotes.items() if q == quotes[v.claim_id] and c != v.claim_id]
        if others:
            parts = "; ".join(f"{o.claim_id}: {o.verdict}" for o in others)
            v = ClaimVerdict(**{**v.__dict__, "explanation": f"{v.explanation} The same sentence's other "
                                                             f"part{'s' if len(others) > 1 else ''}: {parts}."})
        out.append(v)
    return tuple(out)


def snapshot_differences(expected: pd.DataFrame, found: pd.DataFrame) -> list[str]:
    """Readable differences between two snapshots: claims added, removed, and changed fields.

    >>> old = pd.DataFrame({"claim_id": ["C1", "C2"], "verdict": ["supported", "supported"]})
    >>> new = pd.DataFrame({"claim_id": ["C1", "C3"], "verdict": ["not supported", "supported"]})
    >>> snapshot_differences(old, new)
    ['C1: verdict supported -> not supported', 'C2: no longer checked', 'C3: new claim, verdict supported']
    """
    old = expected.astype(str).set_index("claim_id")
    new = found.astype(str).set_index("claim_id")
    lines = []
    for claim_id in sorted(set(old.index) | set(new.index)):
        if claim_id not in new.index:
            lines.append(f"{claim_id}: no longer checked")
        elif claim_id not in old.index:
            lines.append(f"{claim_id}: new claim, verdict {new.loc[claim_id, 'verdict']}")
        else:
            lines += [f"{claim_id}: {column} {old.loc[claim_id, column]} -> {new.loc[claim_id, column]}"
                      for column in new.columns if old.loc[claim_id, column] != new.loc[claim_id, column]]
    return lines


def check_claims(claims: pd.DataFrame, studies: pd.DataFrame, plan: AnalysisPlan | None = None, *,
                 low_dose_mg_per_kg: float = LOW_DOSE_MG_PER_KG) -> ClaimsCheck:
    """Give every claim of ``data/claims.csv`` a verdict with its numbers.

    Parameters
    ----------
    claims : pandas.DataFrame
        ``analysis.data.load_claims()`` (columns as in ``data/claims.dictionary.csv``).
    studies : pandas.DataFrame
        ``analysis.data.load_studies()``.
    plan : AnalysisPlan, optional
        Rows, models and windows of the evidence (default: the protocol's primary plan);
        its ``exclude`` leaves studies out of every verdict, as in every report.
    low_dose_mg_per_kg : float
        Upper bound of a "low" dose for claims about study characteristics.

    Returns
    -------
    ClaimsCheck
        One :class:`ClaimVerdict` per claim, in order; ``to_frame()`` for display.

    Notes
    -----
    The rules are in the module docstring and, as functions of numbers, in
    :mod:`analysis.review.claim_rules`; each verdict names the one it used.

    Examples
    --------
    >>> import pandas as pd
    >>> studies = pd.DataFrame({
    ...     "row_id": ["a"], "study_id": ["s1"], "cohort_id": ["s1"], "study_label": ["Smith 2020"],
    ...     "outcome": ["responders"], "ketamine_events": [6], "ketamine_n": [10],
    ...     "control_events": [None], "control_n": [None], "timepoint_hours": [1.0],
    ...     "timepoint_label": ["1 h"], "include_in_pooling": [True], "design": ["single_arm_prospective"],
    ...     "time_window": ["during_or_immediate"]})
    >>> claims = pd.DataFrame({
    ...     "claim_id": ["C1"], "analysis": ["single_study_check"], "testable": [True],
    ...     "quantity": ["response_rate"], "claimed_value": [60.0], "claimed_lower": [None],
    ...     "claimed_upper": [None], "claimed_unit": ["percent"], "approximate": [True],
    ...     "time_window": [None], "study_ref": ["s1"], "note": [None]})
    >>> v = check_claims(claims, studies).verdict("C1")
    >>> v.verdict, v.evidence
    ('supported', 'Smith 2020 (1 h): 6/10')
    """
    plan = plan or AnalysisPlan()
    missing = [c for c in ("claim_id", "analysis", "testable", "quantity", "claimed_value", "claimed_lower",
                           "claimed_upper", "claimed_unit", "approximate", "time_window", "study_ref", "note")
               if c not in claims.columns]
    if missing:
        raise AnalysisError(f"claims lacks the column(s) {', '.join(missing)} (names as in data/claims.csv).")
    context = _Context(studies, plan, low_dose_mg_per_kg)
    verdicts = _with_other_parts([context.check(claim) for _, claim in claims.iterrows()], claims)
    return ClaimsCheck(verdicts=verdicts, plan=plan, low_dose_mg_per_kg=low_dose_mg_per_kg)
