"""Check the claims of the popular articles (``data/claims.csv``) against the evidence.

:func:`check_claims` gives every claim a verdict, the numbers it rests on and a
one-line explanation. The analysis that tests a claim is the claim's own
``analysis`` column (chosen by the curator); the rules below turn the numbers
into a verdict. Each verdict records the rule that decided it.

Verdicts
--------
``supported``, ``partly supported``, ``not supported``, ``not testable``.

Rules
-----
Not testable
    ``testable`` is false or ``analysis`` is ``not_testable`` (the reason is the
    claim's ``note``); or the data hold nothing the rule needs (the explanation
    says what is missing).
Pooled response rate (``pooled_response_rate``)
    The pooled proportion of responders in ketamine arms (``pool_proportions``,
    GLMM by default; rows chosen by :func:`response_rate_rows`, the claim's time
    window, or the primary window with unstated times when the claim gives none).
    A point value: supported if inside the CI, partly supported if inside the
    prediction interval only, not supported otherwise. A one-sided claim ("more
    than half"): supported if the whole CI lies on the claimed side, partly
    supported if the estimate or the prediction interval does, not supported
    otherwise.
One study's numbers (``single_study_check``)
    The rows of the study named in ``study_ref`` (a ``cohort_id`` or
    ``study_id``). A response rate: the study's proportion with its exact
    (Clopper-Pearson) interval; supported if the claimed value is inside it,
    not supported otherwise. A count of patients (``ketamine_n``), sessions
    (``sessions``) or responders (``ketamine_events``): supported if equal, not
    supported otherwise. A direction of effect: see *direction* below. A pain
    score without a number: supported if every patient of the study met its
    responder threshold, partly if some did, not supported if none. A case
    description is not a quantity: not testable.
Direction of effect (controlled comparisons)
    The risk ratio (``measure``) of responders, ketamine against control,
    pooled by ``meta_analysis`` (REML, Hartung-Knapp by default; one study is
    its own estimate with a Wald interval): supported if the CI excludes no
    difference in favour of ketamine, partly supported if the estimate
    favours ketamine but the CI includes no difference, not supported
    otherwise. When the study has responders in the ketamine arm but no
    control counts in the data: partly supported (nothing can be attributed
    to ketamine without a control).
Controlled comparison (``controlled_rr``)
    A claimed proportion is checked against the ketamine arm's proportion
    (the study's exact interval, or the pooled ketamine arms); otherwise the
    claim is read as a direction of effect in its time window (the primary
    window when it gives none).
Duration (``duration``)
    An upper bound U ("gone by U"): the controlled rows at or after U;
    not supported if one shows a benefit whose CI excludes no difference,
    partly supported if one favours ketamine without that, supported if none
    favours ketamine. A lower bound or value L ("still some benefit at L"):
    every row with responder counts at or after L; supported if a controlled
    row shows a benefit whose CI excludes no difference, partly supported if
    some patients still respond there, not supported if none do. No number and
    the long-term window ("short-term relief, no long-term analgesia"):
    supported if the comparison up to 4 h has a CI excluding no difference in
    favour of ketamine and the long-term one does not favour ketamine, partly
    supported if the short-term estimate favours ketamine without that, not
    supported otherwise.
Counts of studies and patients (``study_count``)
    Registered studies: the registered trials of ``study_ref`` found in the
    data. Studies: supported if the claim equals the number of studies with
    a pooled sample (``analysis.review.evidence_base`` defines report, study and
    sample), partly supported if it equals the number of their reports (a
    study reported twice counted twice), not supported otherwise. Patients: the sum over those samples of the
    patients analysed (``n_analysed``, else ``n_enrolled``); supported if equal.
Adverse events (``adverse_events``)
    Each independent sample's ``adverse_events`` text is read for the words in
    :data:`NOT_MILD_WORDS` (then not mild or not short-lived) and
    :data:`MILD_WORDS`; supported if every classified sample is mild, partly
    supported if most are, not supported otherwise.
Study characteristics (``study_characteristics``)
    Share of the pooled samples with one ketamine session at no more than
    ``low_dose_mg_per_kg``: supported from one half, partly supported above 0,
    not supported at 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.review import claim_rules as rules
from analysis.engine._errors import AnalysisError, check_option
from analysis.review.claim_rules import VERDICTS, Claimed
from analysis.data import studies_dictionary
from analysis.data.paths import SNAPSHOTS_DIR
from analysis.engine.formatting import format_count, format_effect, format_percent
from analysis.review.plan import AnalysisPlan
from analysis.engine.proportion_scales import study_intervals
from analysis.review.protocol import PRIMARY_WINDOW, TIME_WINDOWS, WINDOW
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


def _claimed_text(claim) -> str:
    unit = "" if pd.isna(claim["claimed_unit"]) else f" {claim['claimed_unit']}"
    about = "about " if bool(claim["approximate"]) else ""
    parts = []
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


class _Checker:
    def __init__(self, studies, plan: AnalysisPlan, low_dose):
        self.plan = plan
        self.studies = plan.included(studies)
        self.level = plan.confidence_level
        self.low_dose = low_dose
        self.ci_words = f"{100 * plan.confidence_level:g}% CI"

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

    def refs(self, claim) -> pd.DataFrame:
        if pd.isna(claim["study_ref"]):
            return self.studies.iloc[0:0]
        keys = [r.strip() for r in str(claim["study_ref"]).split(";") if r.strip()]
        return self.studies[self.studies["cohort_id"].isin(keys) | self.studies["study_id"].isin(keys)]

    def window(self, claim) -> str:
        w = str(claim["time_window"])
        return w if w in TIME_WINDOWS else self.plan.time_window

    def comparison(self, rows: pd.DataFrame):
        """Pooled (or single-study) comparison of responders; None when no row has both arms."""
        rows = rows[rows["control_events"].notna() & rows["ketamine_events"].notna()]
        if rows.empty:
            return None, rows
        return self.plan.compare(self.plan.comparisons(rows)), rows

    @staticmethod
    def direction(fit) -> str:
        """'significant', 'favours' (ketamine, CI includes null) or 'none'."""
        return rules.direction_state(fit.natural())

    def describe_fit(self, fit) -> str:
        natural = fit.natural()
        return (f"{self.plan.measure} {format_effect(natural.estimate)} ({self.ci_words} "
                f"{natural.interval_text()})")

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

    # -- rules -------------------------------------------------------------
    def pooled_rate(self, claim, rows=None, what="pooled response rate in ketamine arms"):
        window = self.window(claim)
        if rows is None:
            rows = self.plan.response_rate_rows(self.studies, window)
        if len(rows) == 0:
            return self.verdict(claim, "not testable", "no responder rows",
                                f"No study reports responders {_when(window)}.")
        evidence = self.counts_text(rows, control=False)
        if len(rows) == 1:
            return self.single_rate(claim, rows)
        fit = self.plan.pool_rates(rows)
        natural = fit.natural()
        prop, ci, pi = natural.estimate, (natural.ci_lb, natural.ci_ub), (natural.pi_lb, natural.pi_ub)
        ruling = rules.interval(_claimed(claim, True), prop, ci, pi)
        spread = (f"; prediction interval {natural.interval_text(prediction=True)}"
                  if fit.has_prediction_interval else "")
        numbers = (f"{what} {format_percent(prop)} ({self.ci_words} {natural.interval_text()}{spread}; "
                   f"{fit.k} studies, {fit.model_label})")
        if ruling is None:
            return self.verdict(claim, "not testable", "pooled response rate: no number",
                                f"The claim states no number; for context, the {numbers}.",
                                scale="proportion", estimate=prop, ci=ci, pi=pi, k=fit.k, evidence=evidence)
        return self.verdict(claim, ruling.verdict, f"pooled response rate: {ruling.rule}",
                            f"Claimed {_claimed_text(claim)}; {numbers}.", scale="proportion",
                            estimate=prop, ci=ci, pi=pi, k=fit.k, evidence=evidence)

    def single_rate(self, claim, rows, extra=""):
        row = rows.iloc[0]
        events, n = int(row["ketamine_events"]), int(row["ketamine_n"])
        lower, upper = study_intervals([events], [n], self.level)
        ci = (float(lower[0]), float(upper[0]))
        ruling = rules.interval(_claimed(claim, True), events / n, ci)
        evidence = self.counts_text(rows)
        numbers = (f"{row['study_label']}: {events}/{n} = {format_percent(events / n)} in the ketamine arm "
                   f"(exact {self.ci_words} {format_percent(ci[0])} to {format_percent(ci[1])})")
        if ruling is None:
            return self.verdict(claim, "not testable", "single study: no number", f"The claim states no number; {numbers}.",
                                scale="proportion", estimate=events / n, ci=ci, k=1, evidence=evidence)
        return self.verdict(claim, ruling.verdict, f"one study's proportion: {ruling.rule}",
                            f"Claimed {_claimed_text(claim)}; {numbers}{extra}.", scale="proportion",
                            estimate=events / n, ci=ci, k=1, evidence=evidence)

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
        ruling = rules.direction(self.direction(fit))
        meaning = ruling.rule.removeprefix("direction: ")
        evidence = self.counts_text(used)
        pooled = "" if fit.k == 1 else f", {fit.k} studies pooled ({fit.model_label})"
        return self.verdict(claim, ruling.verdict, ruling.rule,
                            f"Responders ketamine vs control {what}: {self.describe_fit(fit)}{pooled}, "
                            f"{meaning}.{self.concerns(claim)}",
                            scale=fit.natural().label.lower(), estimate=estimate, ci=ci, pi=pi, k=fit.k,
                            evidence=evidence)

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

    @staticmethod
    def pain_text(rows) -> str:
        pain = rows[(rows["outcome"] == "pain_intensity") & rows["ketamine_mean"].notna()]
        scale = studies_dictionary()["pain_scale"]
        return "".join(f"; pain {r['ketamine_baseline_mean']:g} before vs {r['ketamine_mean']:g} after "
                       f"({scale.value_label(r['pain_scale'])})" for _, r in pain.iterrows())

    # -- analyses ----------------------------------------------------------
    def check(self, claim) -> ClaimVerdict:
        analysis = str(claim["analysis"])
        if analysis == "not_testable" or not bool(claim["testable"]):
            why = "the curator marked the claim not testable (the note says why)"
            return self.verdict(claim, "not testable", why, str(claim["note"]))
        handler = getattr(self, f"check_{analysis}")
        return handler(claim)

    def check_pooled_response_rate(self, claim):
        return self.pooled_rate(claim)

    def check_single_study_check(self, claim):
        rows = self.refs(claim)
        if rows.empty:
            return self.verdict(claim, "not testable", "study not in the data",
                                f"The study the claim refers to ({claim['study_ref']}) is not in the data.")
        label = rows["study_label"].iloc[0]
        quantity = str(claim["quantity"])
        value = claim["claimed_value"]
        if quantity == "response_rate":
            responders = rows[(rows["outcome"] == "responders") & rows["ketamine_events"].notna()]
            pooled = responders[as_flag(responders["include_in_pooling"])]
            chosen = pooled if not pooled.empty else responders
            if chosen.empty:
                return self.verdict(claim, "not testable", "no responder counts",
                                    f"{label}: no responder counts in the data.")
            return self.single_rate(claim, chosen.sort_values("timepoint_hours").iloc[[0]])
        if quantity in ("patient_count", "session_count", "responder_count"):
            column = {"patient_count": "ketamine_n", "session_count": "sessions",
                      "responder_count": "ketamine_events"}[quantity]
            known = rows[column].dropna()
            if known.empty or pd.isna(value):
                return self.verdict(claim, "not testable", f"{column} not in the data",
                                    f"{label}: {column} is not in the data.")
            found = int(known.max())
            what = {"ketamine_n": "patients given ketamine", "sessions": "ketamine sessions",
                    "ketamine_events": "responders"}[column]
            extra = ""
            if column == "ketamine_n":
                responders = rows[(rows["outcome"] == "responders") & rows["ketamine_events"].notna()
                                  & as_flag(rows["include_in_pooling"])]
                if not responders.empty:
                    extra = f"; of them, responders: {self.counts_text(responders.iloc[[0]], control=False)}"
            ruling = rules.equal_count(found, value, column)
            return self.verdict(claim, ruling.verdict, ruling.rule,
                                f"Claimed {value:g}; {label}: {found} {what} ({column}){extra}.",
                                scale=what, estimate=found, k=1, evidence=f"{label}: {column} = {found}")
        if quantity == "case_description":
            design = ", ".join(sorted(rows["design"].astype(str).unique()))
            return self.verdict(claim, "not testable", "a description, not a quantity",
                                f"A case description has no number to test; {label} is in the data ({design}).")
        if quantity == "pain_score" and pd.isna(value) and pd.isna(claim["claimed_lower"]):
            responders = rows[(rows["outcome"] == "responders") & rows["ketamine_events"].notna()]
            if responders.empty:
                return self.verdict(claim, "not testable", "no responder counts",
                                    f"{label}: no responder counts in the data.")
            events, n = int(responders["ketamine_events"].iloc[0]), int(responders["ketamine_n"].iloc[0])
            ruling = rules.share_responding(events, n)
            threshold = responders["responder_threshold_percent"].iloc[0]
            return self.verdict(claim, ruling.verdict, ruling.rule,
                                f"{label}: {events}/{n} patients with at least {threshold:g}% pain reduction.",
                                scale="proportion", estimate=events / n, k=1,
                                evidence=self.counts_text(responders.iloc[[0]], control=False))
        window = str(claim["time_window"])
        in_window = rows if window not in TIME_WINDOWS else rows[rows["time_window"].isin([window, "not_reported"])]
        in_window = in_window.sort_values("timepoint_hours").drop_duplicates(["cohort_id", "outcome"])
        return self.direction_rule(claim, in_window, f"in {label}")

    def check_controlled_rr(self, claim):
        window = self.window(claim)
        rows = self.refs(claim)
        scope = "the study named" if not rows.empty else "all controlled studies"
        if rows.empty:
            rows = self.studies
        if str(claim["claimed_unit"]).strip() == "proportion" and not pd.isna(claim["claimed_value"]):
            chosen = self.plan.controlled_rows(rows, window)
            if chosen.empty:
                return self.verdict(claim, "not testable", "no controlled rows",
                                    f"No controlled responder counts {_when(window)}.")
            if len(chosen) == 1:
                row = chosen.iloc[0]
                extra = (f"; control arm {int(row['control_events'])}/{int(row['control_n'])} = "
                         f"{format_percent(row['control_events'] / row['control_n'])}")
                return self.single_rate(claim, chosen, extra=extra)
            return self.pooled_rate(claim, chosen, what="pooled response rate in the ketamine arms of controlled trials")
        chosen = self.plan.controlled_rows(rows, window)
        if chosen.empty:
            return self.verdict(claim, "not testable", "no controlled rows",
                                f"No controlled responder counts {_when(window)} ({scope}).")
        result = self.direction_rule(claim, chosen, f"{_when(window)} ({scope})")
        if str(claim["quantity"]) == "pain_reduction_percent":
            note = (f" The claimed {claim['claimed_value']:g}% pain reduction is not a number the data hold; "
                    "the claim is tested as a direction of effect on responders.")
            result = ClaimVerdict(**{**result.__dict__, "explanation": result.explanation + note})
        return result

    def duration_rows(self, claim) -> pd.DataFrame:
        rows = self.refs(claim)
        if rows.empty:
            rows = self.studies
        return rows[rows["outcome"].isin(_RESPONSE_OUTCOMES) & rows["ketamine_events"].notna()
                    & rows["timepoint_hours"].notna()].sort_values(["timepoint_hours", "study_label"])

    def per_row_fits(self, rows):
        fits = []
        for index in rows.index:
            fit, _ = self.comparison(rows.loc[[index]])
            if fit is not None:
                fits.append((rows.loc[index], fit))
        return fits

    def check_duration(self, claim):
        value, lower, upper = claim["claimed_value"], claim["claimed_lower"], claim["claimed_upper"]
        rows = self.duration_rows(claim)
        if not pd.isna(upper) and pd.isna(value) and pd.isna(lower):
            after = rows[rows["timepoint_hours"] >= upper]
            fits = self.per_row_fits(after)
            if not fits:
                return self.verdict(claim, "not testable", "no controlled rows after the bound",
                                    f"No controlled responder counts at or after {_hours(upper)}.")
            ruling = rules.benefit_gone_by([self.direction(fit) for _, fit in fits])
            parts = [f"{_hours(row['timepoint_hours'])} after the infusion ({row['study_label']}): "
                     f"{int(row['ketamine_events'])}/{int(row['ketamine_n'])} vs "
                     f"{int(row['control_events'])}/{int(row['control_n'])}, {self.describe_fit(fit)}"
                     for row, fit in fits]
            _, first_fit = fits[0]
            estimate, ci, _ = self.natural(first_fit)
            return self.verdict(claim, ruling.verdict, ruling.rule,
                                f"Claimed benefit gone by {_hours(upper)}; " + "; ".join(parts) + ".",
                                scale=first_fit.natural().label.lower(), estimate=estimate, ci=ci, k=1,
                                evidence=self.counts_text(after[after.index.isin([r.name for r, _ in fits])]))
        if not pd.isna(value) or not pd.isna(lower):
            bound = value if not pd.isna(value) else lower
            after = rows[rows["timepoint_hours"] >= bound]
            if after.empty:
                return self.verdict(claim, "not testable", "no rows after the bound",
                                    f"No responder counts at or after {_hours(bound)}.")
            fits = self.per_row_fits(after)
            states = [self.direction(fit) for _, fit in fits]
            parts = []
            for _, row in after.iterrows():
                text = (f"{_hours(row['timepoint_hours'])} ({row['study_label']}, {row['design']}): "
                        f"{int(row['ketamine_events'])}/{int(row['ketamine_n'])}")
                if not pd.isna(row["control_events"]):
                    fit = next(f for r, f in fits if r.name == row.name)
                    text += f" vs {int(row['control_events'])}/{int(row['control_n'])}, {self.describe_fit(fit)}"
                parts.append(text)
            ruling = rules.benefit_lasts_until(states, bool((after["ketamine_events"] > 0).any()))
            return self.verdict(claim, ruling.verdict, ruling.rule,
                                f"Claimed benefit at {_hours(bound)} or later; " + "; ".join(parts) + ".",
                                k=after["cohort_id"].nunique(), evidence=self.counts_text(after))
        if str(claim["time_window"]) == "long_term":
            early, _ = self.comparison(self.plan.controlled_rows(
                rows if not self.refs(claim).empty else self.studies, PRIMARY_WINDOW))
            late_rows = self.plan.controlled_rows(self.studies, "long_term")
            late, _ = self.comparison(late_rows)
            if early is None or late is None:
                return self.verdict(claim, "not testable", "short- and long-term comparisons needed",
                                    "The data lack a controlled comparison up to 4 h or at 8 weeks or later.")
            ruling = rules.short_term_only(self.direction(early), self.direction(late))
            estimate, ci, _ = self.natural(late)
            return self.verdict(
                claim, ruling.verdict, ruling.rule,
                f"Up to 4 h: {self.describe_fit(early)} ({early.k} stud{'y' if early.k == 1 else 'ies'}); "
                f"8 weeks or later: {self.describe_fit(late)} ({late.k} stud{'y' if late.k == 1 else 'ies'}).",
                scale=late.natural().label.lower(), estimate=estimate, ci=ci, k=late.k,
                evidence=self.counts_text(late_rows))
        return self.direction_rule(claim, self.plan.controlled_rows(self.studies, self.window(claim)),
                                   _when(self.window(claim)))

    def pooled_samples(self) -> pd.DataFrame:
        cohorts = self.studies.loc[as_flag(self.studies["include_in_pooling"]), "cohort_id"].unique()
        return self.studies[self.studies["cohort_id"].isin(cohorts)]

    def check_study_count(self, claim):
        unit = str(claim["claimed_unit"]).strip()
        value = claim["claimed_value"]
        if unit == "registered studies":
            registered = self.studies[self.studies["design"] == "registered_trial"]
            refs = self.refs(claim)
            found = refs[refs["design"] == "registered_trial"]["cohort_id"].nunique()
            listing = "; ".join(f"{r['study_label']} ({'first posted ' + str(int(r['year'])) if not pd.isna(r['year']) else 'year not shown'})"
                                for _, r in registered.iterrows())
            ruling = rules.equal_count(found, value, "registered trials named by the claim found in the data")
            return self.verdict(claim, ruling.verdict, ruling.rule,
                                f"Claimed {value:g}; {found} of the trials the claim refers to are registered "
                                f"in the data. All registered trials in the data: {listing}.",
                                scale="registered studies", estimate=found, k=found)
        samples = self.pooled_samples()
        as_of = claim.get("as_of_year")
        as_of = None if pd.isna(as_of) else int(as_of)
        # a fixed past document counts the studies published by its year (claim_rules.published_by)
        samples = samples[rules.published_by([None if pd.isna(y) else int(y) for y in samples["year"]], as_of)]
        with_data = samples[samples["ketamine_n"].notna()]
        unit_text = "" if as_of is None else f" published by {as_of} (the document's year)"
        n_samples = with_data["cohort_id"].nunique()
        n_reports = with_data["study_id"].nunique()
        if unit == "studies":
            ruling = rules.study_count(value, n_samples, n_reports)
            designs = with_data.drop_duplicates("cohort_id")["design"].astype(str).value_counts()
            design_text = ", ".join(f"{count} {name}" for name, count in designs.items())
            return self.verdict(claim, ruling.verdict, ruling.rule,
                                f"Claimed {value:g}; the data hold {n_reports} reports of {n_samples} studies with "
                                f"a pooled sample{unit_text} ({design_text}).",
                                scale="studies", estimate=n_samples, k=n_samples,
                                evidence=", ".join(sorted(with_data["study_id"].unique())))
        if unit == "patients":
            per_sample = {}
            for cohort, group in with_data.groupby("cohort_id", sort=True):
                analysed = group["n_analysed"].dropna()
                enrolled = group["n_enrolled"].dropna()
                per_sample[cohort] = int(analysed.max()) if not analysed.empty else int(enrolled.max())
            total = sum(per_sample.values())
            ruling = rules.equal_count(total, value, "sum of patients analysed (else enrolled) over the samples")
            return self.verdict(claim, ruling.verdict, ruling.rule,
                                f"Claimed {value:g}; the {len(per_sample)} pooled samples (one per study)"
                                f"{unit_text} have {total} patients.", scale="patients", estimate=total, k=len(per_sample),
                                evidence="; ".join(f"{c}: {n}" for c, n in per_sample.items()))
        return self.verdict(claim, "not testable", "unit not counted", f"No count in the data for unit {unit!r}.")

    def check_adverse_events(self, claim):
        rows = self.studies[self.studies["adverse_events"].notna()]
        # One description per sample; where reports of a sample differ (the two Grenoble CHU
        # reports), the least favourable, so that the verdict does not depend on row order.
        rank = rows["adverse_events"].map(
            lambda text: 0 if any(w in str(text).lower() for w in NOT_MILD_WORDS) else 1)
        rows = (rows.assign(_rank=rank).sort_values("_rank", kind="stable")
                .drop_duplicates("cohort_id").sort_index())
        mild, not_mild, unclear = [], [], []
        for _, row in rows.iterrows():
            text = str(row["adverse_events"]).lower()
            if any(word in text for word in NOT_MILD_WORDS):
                not_mild.append(row)
            elif any(word in text for word in MILD_WORDS):
                mild.append(row)
            else:
                unclear.append(row)
        classified = len(mild) + len(not_mild)
        ruling = rules.mild_harms(len(mild), len(not_mild))
        if ruling is None:
            return self.verdict(claim, "not testable", "no classifiable adverse-event text",
                                "No adverse-event description in the data can be classified.")
        share = len(mild) / classified
        others = "; ".join(f"{r['study_label']}: {r['adverse_events']}" for r in not_mild)
        explanation = f"{len(mild)} of {classified} samples describe mild or short-lived side effects"
        if others:
            explanation += f"; not mild or not short-lived: {others}"
        return self.verdict(claim, ruling.verdict, ruling.rule, explanation + ".", scale="share of samples",
                            estimate=share, k=classified,
                            evidence="; ".join(f"{r['study_label']}: {r['adverse_events']}" for r in mild + not_mild))

    def check_study_characteristics(self, claim):
        rows = self.studies[as_flag(self.studies["include_in_pooling"])].drop_duplicates("cohort_id")
        known = rows[rows["dose_mg_per_kg"].notna() & rows["sessions"].notna()]
        if known.empty:
            return self.verdict(claim, "not testable", "dose and sessions unknown",
                                "No pooled sample reports both dose per kg and number of sessions.")
        low_single = (known["sessions"] == 1) & (known["dose_mg_per_kg"] <= self.low_dose)
        share = float(low_single.mean())
        ruling = rules.low_dose_share(share, self.low_dose)
        listing = "; ".join(f"{r['study_label']}: {r['dose_mg_per_kg']:g} mg/kg x {int(r['sessions'])}"
                            for _, r in known.iterrows())
        unknown = rows[~rows.index.isin(known.index)]["study_label"].tolist()
        missing = f" (dose or sessions not reported: {', '.join(unknown)})" if unknown else ""
        return self.verdict(claim, ruling.verdict, ruling.rule,
                            f"{int(low_single.sum())} of {len(known)} pooled samples gave one session at "
                            f"{self.low_dose:g} mg/kg or less ({listing}){missing}.",
                            scale="share of samples", estimate=share, k=len(known), evidence=listing)


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
    ...     "timepoint_label": ["1 h"], "include_in_pooling": [True]})
    >>> claims = pd.DataFrame({
    ...     "claim_id": ["C1"], "analysis": ["single_study_check"], "testable": [True],
    ...     "quantity": ["response_rate"], "claimed_value": [50.0], "claimed_lower": [None],
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
    checker = _Checker(studies, plan, low_dose_mg_per_kg)
    verdicts = tuple(checker.check(claim) for _, claim in claims.iterrows())
    return ClaimsCheck(verdicts=verdicts, plan=plan, low_dose_mg_per_kg=low_dose_mg_per_kg)
