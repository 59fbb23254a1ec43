"""Plain-language words for the people who read the popular articles: key messages and answers.

The technical pages are written for methodologists; this module writes for people with
fibromyalgia, their families, patient advocates and journalists, in the shape of a Cochrane
plain language summary: what we wanted to find out, what we found, how sure we are, what is
still unknown. Numbers are natural frequencies ("about 6 in 10 people", "8 of 12 people who had
ketamine"); certainty is GRADE's, said in words ("we are very uncertain") with everyday reasons;
no technical word of :data:`BANNED_WORDS` is used.

The words are built from a few small, named facts (:class:`ResponseFacts`,
:class:`TrialFacts`, :class:`HarmsFacts`, :class:`CertaintyFacts`, :class:`ArticleFacts`),
which the adapters at the end of the module (``*_facts``) fill from the results the report
already computes (the pooled response rate, the responders over time, the GRADE summary of
findings, the claims check), so that the plain layer repeats what the technical pages say and
is tested word for word on made-up facts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.engine._errors import AnalysisError
from analysis.present.safe_html import escape

#: Words no plain-language text may use (issue 24): readers of the articles do not know them.
BANNED_WORDS = ("posterior", "credible", "tau", "logit", "heterogeneity", "random-effects",
                "random effects", "Bayesian", "GLMM", "CI", "CrI", "inverse variance",
                "inverse-variance")

#: The claims page the article answers link to (its section listing every verdict).
CLAIMS_PAGE = "06_claims_check.html#every-claim-and-its-verdict"

#: A verdict of :mod:`analysis.claims` as a mark readers understand without a legend.
VERDICT_MARKS = {
    "supported": ("✔", "Backed by the studies"),
    "partly supported": ("◐", "Partly backed by the studies"),
    "compatible": ("≈", "Fits the studies, but they cannot confirm it"),
    "not supported": ("✘", "Not backed by the studies"),
    "not testable": ("?", "The studies cannot tell"),
}

#: GRADE certainty in words (Cochrane's plain-language phrases, Santesso et al. 2020).
CERTAINTY_WORDS = {
    "high": "We are confident in",
    "moderate": "We are fairly sure about",
    "low": "We are not sure about",
    "very low": "We are very uncertain about",
}

#: Each GRADE domain's downgrade as an everyday reason.
REASONS = {
    "imprecision": "the studies were few and small",
    "risk_of_bias": "some studies had flaws in how they were run",
    "inconsistency": "the studies' results differed a lot",
    "indirectness": "the studies did not test ketamine the way clinics use it",
    "publication_bias": "some studies may never have been published",
}

#: What a kind of comparison treatment is, in plain words (``control`` of data/studies.csv).
CONTROL_WORDS = {
    "active_placebo": "so people could not easily tell which drug they had",
    "saline_placebo": "a drip of salt water",
    "other_analgesic": "another painkiller",
}

#: Drugs used as comparison treatments, named in plain words when ``control_detail`` names one.
DRUG_WORDS = {"midazolam": "midazolam, a drug that makes people calm and sleepy"}

_FRACTIONS = {50: "half", 67: "two thirds", 66: "two thirds", 75: "three quarters", 33: "a third",
              30: "a third", 25: "a quarter"}


# ----------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class StudyCount:
    """One study's responders after ketamine (for the pooled response rate).

    Attributes
    ----------
    label : str
        E.g. ``"Sörensen 1995"``.
    year : int
    events, n : int
        People who responded, people counted.
    compared : bool
        True when the study also counted responders on a comparison treatment.
    keys : tuple of str
        Its ``study_id`` and ``cohort_id`` (what a claim's ``study_ref`` names).
    """

    label: str
    year: int
    events: int
    n: int
    compared: bool
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResponseFacts:
    """The pooled share of people who responded soon after ketamine.

    Attributes
    ----------
    estimate, low, high : float
        Proportion (0 to 1) and its interval.
    studies : tuple of StudyCount
    threshold_percent : float
        The smallest responder threshold of the studies (pain reduction, percent).
    repeated_doses : int
        Studies known to have given more than one dose of ketamine.
    """

    estimate: float
    low: float
    high: float
    studies: tuple[StudyCount, ...]
    threshold_percent: float
    repeated_doses: int

    @property
    def people(self) -> int:
        return sum(s.n for s in self.studies)

    @property
    def compared(self) -> int:
        return sum(s.compared for s in self.studies)


@dataclass(frozen=True)
class ArmsAt:
    """Responders in both arms of a trial at one time after the dose."""

    hours: float
    ketamine_events: int
    ketamine_n: int
    control_events: int
    control_n: int


@dataclass(frozen=True)
class TrialFacts:
    """A trial that counted responders with ketamine and with a comparison treatment.

    Attributes
    ----------
    label : str
    control : str
        ``control`` of data/studies.csv (``active_placebo``, ``saline_placebo``, ...).
    control_detail : str
        The comparison treatment in the source's words (only a known drug name is used).
    times : tuple of ArmsAt
        In time order.
    """

    label: str
    control: str
    control_detail: str
    times: tuple[ArmsAt, ...]


@dataclass(frozen=True)
class HarmsFacts:
    """What the studies say about side effects and people who stopped early.

    Attributes
    ----------
    counted : int
        Studies that counted people with side effects in both groups.
    described : int
        Studies that describe side effects in words only.
    withdrawals_counted : int
        Studies that counted people who stopped early in both groups.
    """

    counted: int
    described: int
    withdrawals_counted: int


@dataclass(frozen=True)
class CertaintyFacts:
    """GRADE certainty of one outcome, with the domains that lowered it.

    Attributes
    ----------
    outcome : str
        The outcome in plain words ("how many people respond").
    level : str or None
        ``"high"``, ``"moderate"``, ``"low"``, ``"very low"``; None when not rated.
    downgraded : tuple of str
        Keys of :data:`REASONS`.
    """

    outcome: str
    level: str | None
    downgraded: tuple[str, ...]


@dataclass(frozen=True)
class ArticleClaim:
    """One claim of an article and the verdict on it (from the claims check)."""

    claim_id: str
    quote: str
    analysis: str
    quantity: str
    time_window: str
    verdict: str
    claimed_value: float
    claimed_lower: float
    claimed_upper: float
    estimate: float
    ci_lb: float
    ci_ub: float
    study_ref: str


@dataclass(frozen=True)
class ArticleFacts:
    """A popular article and the claims the index answers for it."""

    title: str
    site: str
    published: str
    claims: tuple[ArticleClaim, ...]


# ----------------------------------------------------------------------------- words


def in_ten(proportion: float) -> int:
    """A proportion as people in 10, rounded half up.

    >>> in_ten(0.576), in_ten(0.415), in_ten(0.75), in_ten(0.04)
    (6, 4, 8, 0)
    """
    return int(math.floor(10 * proportion + 0.5))


def of(events: int, n: int) -> str:
    """``"8 of 12"``."""
    return f"{events} of {n}"


def pain_gone(threshold_percent: float) -> str:
    """The responder threshold in words.

    >>> pain_gone(50), pain_gone(67), pain_gone(40)
    ('at least half their pain gone', 'at least two thirds of their pain gone', 'at least 40% less pain')
    """
    words = _FRACTIONS.get(int(round(threshold_percent)))
    if words is None:
        return f"at least {threshold_percent:g}% less pain"
    return f"at least {words} {'of ' if words != 'half' else ''}their pain gone"


def when(hours: float) -> str:
    """A time after the dose in words.

    >>> when(0.25), when(2.5), when(48), when(168), when(1344)
    ('15 minutes', '2 and a half hours', '2 days', '1 week', '8 weeks')
    """
    if hours < 1:
        return f"{round(hours * 60)} minutes"
    if hours < 24:
        whole, half = divmod(round(hours * 2), 2)
        return f"{whole} and a half hours" if half else f"{whole} hour{'s' if whole != 1 else ''}"
    if hours < 168:
        days = round(hours / 24)
        return f"{days} day{'s' if days != 1 else ''}"
    weeks = round(hours / 168)
    return f"{weeks} week{'s' if weeks != 1 else ''}"


def _join(parts: Sequence[str], last: str = "and") -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f", {last} " + parts[-1] if len(parts) > 2 else f"{parts[0]} {last} {parts[1]}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _range_words(low: float, high: float) -> str:
    lo, hi = in_ten(low), in_ten(high)
    return f"about {lo} in 10" if lo == hi else f"between about {lo} and {hi} in 10"


def comparison_name(trial: TrialFacts) -> str:
    """The comparison treatment as the key messages name it ("the dummy treatment")."""
    return "another painkiller" if trial.control == "other_analgesic" else "the dummy treatment"


def comparison_explained(trial: TrialFacts) -> str:
    """What the comparison treatment was, in one or two sentences.

    >>> t = TrialFacts("X 2011", "active_placebo", "midazolam 5 mg IV", ())
    >>> comparison_explained(t)
    'The dummy treatment was midazolam, a drug that makes people calm and sleepy, so people could not easily tell which drug they had.'
    >>> comparison_explained(TrialFacts("Y", "saline_placebo", "saline", ()))
    'The dummy treatment was a drip of salt water.'
    """
    kind = CONTROL_WORDS.get(trial.control, "")
    drug = next((words for name, words in DRUG_WORDS.items()
                 if name in trial.control_detail.lower()), "")
    subject = comparison_name(trial)
    subject = subject[0].upper() + subject[1:]
    if drug and trial.control == "active_placebo":
        return f"{subject} was {drug}, {kind}."
    if drug or kind:
        return f"{subject} was {drug or kind}."
    return ""


def _time_sentence(trial: TrialFacts, arms: Sequence[ArmsAt], gone: str, verb: str = "had") -> str:
    """"8 of 12 people who had ketamine and 3 of 12 who had the dummy treatment had ... 15 minutes
    after. After 1 week it was 2 of 12 and 0 of 12; ..."."""
    other = comparison_name(trial)
    first, rest = arms[0], arms[1:]
    sentence = (f"{of(first.ketamine_events, first.ketamine_n)} people who had ketamine and "
                f"{of(first.control_events, first.control_n)} who had {other} {verb} {gone} "
                f"{when(first.hours)} after.")
    later = []
    for i, a in enumerate(rest):
        same = a.ketamine_events == a.control_events and a.ketamine_n == a.control_n
        counts = (f"{of(a.ketamine_events, a.ketamine_n)} in both groups" if same else
                  f"{of(a.ketamine_events, a.ketamine_n)} and {of(a.control_events, a.control_n)}")
        later.append(f"after {when(a.hours)}, {counts}" if i else f"After {when(a.hours)} it was {counts}")
    return sentence + (" " + "; ".join(later) + "." if later else "")


@dataclass(frozen=True)
class PlainText:
    """Plain-language sections: a heading and paragraphs each (bullets when a list).

    Attributes
    ----------
    title : str
    sections : tuple of (str, tuple of str)
        Each section's heading and paragraphs (plain text).
    """

    title: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def text(self) -> str:
        """Every paragraph, as one text (what readability is measured on)."""
        return "\n\n".join(p for _, paragraphs in self.sections for p in paragraphs)

    @property
    def words(self) -> int:
        return len(re.findall(r"[A-Za-z0-9][\w'’-]*", self.text))

    def _repr_html_(self) -> str:
        parts = [f'<div class="kfm-plain"><h2>{escape(self.title)}</h2>']
        for heading, paragraphs in self.sections:
            parts.append(f"<h3>{escape(heading)}</h3>")
            parts.extend(f"<p>{escape(p)}</p>" for p in paragraphs)
        return "".join(parts) + "</div>"


def key_messages(response: ResponseFacts, trials: Sequence[TrialFacts], harms: HarmsFacts,
                 certainty: Sequence[CertaintyFacts], *, ongoing: int = 0) -> PlainText:
    """The key messages of the index, in the Cochrane plain-language-summary shape.

    Parameters
    ----------
    response : ResponseFacts
        The pooled response rate in ketamine arms.
    trials : sequence of TrialFacts
        Trials that counted responders in both arms (each with its time points).
    harms : HarmsFacts
    certainty : sequence of CertaintyFacts
        One per outcome of the summary of findings that has data.
    ongoing : int
        Registered studies without results.

    Returns
    -------
    PlainText
        About 150-250 words (tested), no word of :data:`BANNED_WORDS`.
    """
    gone = pain_gone(response.threshold_percent)
    k = len(response.studies)
    found = [f"In {_count(k, 'study', 'studies')} with {response.people} people, "
             f"about {in_ten(response.estimate)} in 10 had {gone} after ketamine "
             f"(it could be {_range_words(response.low, response.high)})."]
    if response.compared < k:
        found.append((f"Only {_count(response.compared, 'study', 'studies')} also counted"
                      if response.compared else "No study counted")
                     + " how many got better with a dummy treatment, so we cannot tell how much "
                       "was due to ketamine.")
    paragraphs = [" ".join(found)]
    for trial in trials:
        arms = [a for a in trial.times]
        if not arms:
            continue
        intro = ("In that study, " if len(trials) == 1 and response.compared == 1
                 else f"In the study {trial.label}, ")
        sentence = _time_sentence(trial, arms, gone)
        paragraphs.append(" ".join(p for p in (intro + sentence, comparison_explained(trial)) if p))
    if not trials:
        paragraphs.append("No study compared ketamine with a dummy treatment in a way we could count.")
    paragraphs.append(_harms_sentence(harms))
    sections = [
        ("What did we want to find out?",
         ("We wanted to know if ketamine eases the pain of fibromyalgia, for how many people, "
          "and for how long.",)),
        ("What did we find?", tuple(paragraphs)),
        ("How sure are we?", (_certainty_sentence(certainty),)),
        ("What is still unknown?", (_unknown_sentence(response, trials, harms, certainty, ongoing),)),
    ]
    return PlainText("Key messages", tuple(sections))


def _harms_sentence(harms: HarmsFacts) -> str:
    if harms.counted:
        return (f"{_count(harms.counted, 'study', 'studies')} counted side effects in each group; "
                "the technical pages give the numbers.")
    text = "No study counted side effects or people who stopped early in each group"
    if harms.described:
        text += f"; {_count(harms.described, 'study only describes', 'studies only describe')} the side effects"
    return text + "."


def _certainty_sentence(certainty: Sequence[CertaintyFacts]) -> str:
    rated = [c for c in certainty if c.level is not None]
    if not rated:
        return "No result could be rated, because the studies give too little to go on."
    levels = [lv for lv in ("high", "moderate", "low", "very low") if any(c.level == lv for c in rated)]
    reasons = [REASONS[d] for d in REASONS if any(d in c.downgraded for c in rated)]
    if len(levels) == 1:
        text = f"{CERTAINTY_WORDS[levels[0]]} these results."
    else:
        text = " ".join(f"{CERTAINTY_WORDS[lv]} {_join([c.outcome for c in rated if c.level == lv])}."
                        for lv in levels)
    return text + "".join(f" {r[0].upper()}{r[1:]}." for r in reasons)


def _unknown_sentence(response, trials, harms, certainty, ongoing) -> str:
    unknown = []
    if len(trials) < 2:
        unknown.append("if ketamine works better than a dummy treatment")
    if not any(a.hours >= 1344 for t in trials for a in t.times) or any(
            c.level in ("low", "very low") for c in certainty):
        unknown.append("how long any relief lasts")
    if not response.repeated_doses:
        unknown.append("if repeated doses help more")
    if not harms.counted:
        unknown.append("how often side effects happen")
    text = f"We do not know {_join(unknown, 'or')}." if unknown else "The main questions have clear answers."
    if ongoing:
        text += (f" {_count(ongoing, 'registered study has', 'registered studies have')} "
                 "not yet shared results.")
    return text


# ----------------------------------------------------------------------------- articles


def article_answer(claim: ArticleClaim, response: ResponseFacts, trials: Sequence[TrialFacts]) -> str:
    """What the evidence shows about one claim, in one or two plain sentences.

    Raises
    ------
    AnalysisError
        For a claim whose analysis has no plain wording here (choose another key claim).
    """
    gone = pain_gone(response.threshold_percent)
    trial = trials[0] if trials else None
    if claim.verdict == "not testable":
        return "The studies we found do not measure this, so they cannot tell."
    if claim.analysis == "pooled_response_rate":
        text = (f"In {_count(len(response.studies), 'study', 'studies')}, about "
                f"{in_ten(claim.estimate)} in 10 people had {gone} after ketamine "
                f"(it could be {_range_words(claim.ci_lb, claim.ci_ub)}).")
        return text + " " + {
            "supported": "That fits the article's number.",
            "partly supported": "So the article may be right, but fewer could also be true.",
            "compatible": "The article's number fits in that range, but so do many others.",
            "not supported": "That does not fit the article's number.",
        }[claim.verdict]
    if claim.analysis in ("controlled_rr", "duration") and trial is not None:
        return _trial_answer(claim, trial, gone)
    if claim.analysis == "single_study_check" and claim.quantity == "patient_count":
        study = next((s for s in response.studies if _matches(s, claim.study_ref)), None)
        count = f"{claim.estimate:.0f}"
        text = (f"The study gave ketamine to {count} people"
                + (", as the article says." if claim.verdict == "supported" else "."))
        if study is not None:
            text += f" Of them, {study.events} had {gone} after it."
        return text
    raise AnalysisError(f"claim {claim.claim_id}: no plain wording for analysis "
                        f"{claim.analysis!r} ({claim.quantity}); choose another key claim in "
                        "data/references.csv (column key_claims) or add one in analysis.present.plain")


def _matches(study: StudyCount, ref: str) -> bool:
    return any(r.strip() in study.keys for r in str(ref).split(";") if r.strip())


def _trial_answer(claim: ArticleClaim, trial: TrialFacts, gone: str) -> str:
    other = comparison_name(trial)
    first = trial.times[0]
    if claim.quantity == "response_rate":  # a claimed share of the ketamine arm
        share = in_ten(claim.estimate)
        claimed = in_ten(claim.claimed_value)
        text = (f"In that study ({trial.label}), {of(first.ketamine_events, first.ketamine_n)} people who had ketamine "
                f"had {gone} {when(first.hours)} after: about {share} in 10")
        text += f", not {claimed} in 10." if claimed != share else ", as the article says."
        return text + f" With {other} it was {of(first.control_events, first.control_n)}."
    if claim.analysis == "duration" and not math.isnan(claim.claimed_upper):
        bound = claim.claimed_upper
        later = [a for a in trial.times if a.hours >= bound] or [trial.times[-1]]
        text = "In the one study with a dummy treatment, " + _time_sentence(
            trial, [later[0]] + ([later[-1]] if len(later) > 1 else []), gone, "still had")
        return text + " " + {
            "supported": "So the benefit was gone by then.",
            "partly supported": "Some benefit may have lasted longer, but with so few people "
                                "this could be chance.",
            "compatible": "The benefit may have been gone by then, but with so few people we cannot be sure.",
            "not supported": "So some benefit lasted longer than the article says.",
        }[claim.verdict]
    text = (f"In the one study that compared them, {of(first.ketamine_events, first.ketamine_n)} "
            f"people who had ketamine and {of(first.control_events, first.control_n)} who had {other} "
            f"had {gone} {when(first.hours)} after.")
    return text + " " + {
        "supported": "This difference is unlikely to be chance.",
        "partly supported": "With so few people, this difference could be chance.",
        "compatible": "With so few people, we cannot be sure either way.",
        "not supported": "Ketamine did no better.",
    }[claim.verdict]


@dataclass(frozen=True)
class ArticleAnswers:
    """The five articles answered: one block per article.

    Attributes
    ----------
    articles : tuple of ArticleFacts
    answers : tuple of tuple of str
        Per article, the answer to each of its claims.
    """

    articles: tuple[ArticleFacts, ...]
    answers: tuple[tuple[str, ...], ...]

    @property
    def text(self) -> str:
        """Every answer (our words only, not the articles' quotes)."""
        return "\n\n".join(a for answers in self.answers for a in answers)

    def _repr_html_(self) -> str:
        parts = ['<div class="kfm-plain kfm-articles"><h2>The articles you may have read</h2>']
        for article, answers in zip(self.articles, self.answers):
            published = article.published or "date not shown"
            parts.append(f'<div class="kfm-article"><h3>{escape(article.title)}</h3>'
                         f'<p class="kfm-meta">{escape(article.site)}, {escape(published)}</p>')
            for claim, answer in zip(article.claims, answers):
                mark, words = VERDICT_MARKS[claim.verdict]
                parts.append(
                    f"<blockquote><p>“{escape(claim.quote)}”</p></blockquote>"
                    f'<p><strong class="kfm-verdict">{mark} {escape(words)}.</strong> '
                    f"{escape(answer)}</p>")
            parts.append("</div>")
        parts.append(f'<p><a href="{CLAIMS_PAGE}">Every claim of these articles, checked in '
                     "detail</a></p></div>")
        return "".join(parts)


def article_answers(articles: Sequence[ArticleFacts], response: ResponseFacts,
                    trials: Sequence[TrialFacts]) -> ArticleAnswers:
    """Each article's key claims, quoted, with the verdict and a plain answer."""
    answers = tuple(tuple(article_answer(c, response, trials) for c in a.claims) for a in articles)
    return ArticleAnswers(tuple(articles), answers)


def banned_words_in(text: str) -> list[str]:
    """The words of :data:`BANNED_WORDS` in ``text`` (whole words; CI and CrI in capitals only).

    >>> banned_words_in("The CI and the posterior; a civic tau-like taupe")
    ['posterior', 'CI']
    """
    found = []
    for word in BANNED_WORDS:
        flags = 0 if word in ("CI", "CrI", "GLMM") else re.IGNORECASE
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, flags):
            found.append(word)
    return found


# ----------------------------------------------------------------------------- adapters
# The only place that knows the library's result objects: the lead re-points these when the
# report's results move (issue 22); the words above read only the facts.

#: Outcomes of the summary of findings (``FindingsRow.key``) in plain words.
OUTCOME_WORDS = {
    "response_rate": "how many people respond",
    "responders_immediate": "how ketamine compares with a dummy treatment soon after",
    "responders_1_week": "how ketamine compares with a dummy treatment after 1 week",
    "responders_8_weeks": "how ketamine compares with a dummy treatment after 8 weeks",
    "adverse_events": "side effects",
    "withdrawals": "people stopping early",
}


def response_facts(result, rows: pd.DataFrame) -> ResponseFacts:
    """Facts of the pooled response rate (``plan.response_rate``) and the rows it pooled."""
    natural = result.natural()
    studies = tuple(
        StudyCount(str(r["study_label"]), int(r["year"]), int(r["ketamine_events"]), int(r["ketamine_n"]),
                   bool(pd.notna(r.get("control_events")) and pd.notna(r.get("control_n"))),
                   tuple(str(r[c]) for c in ("study_id", "cohort_id") if c in r and pd.notna(r[c])))
        for _, r in rows.iterrows())
    thresholds = pd.to_numeric(rows["responder_threshold_percent"], errors="coerce").dropna()
    sessions = pd.to_numeric(rows["sessions"], errors="coerce")
    return ResponseFacts(float(natural.estimate), float(natural.ci_lb), float(natural.ci_ub), studies,
                         float(thresholds.min()) if len(thresholds) else 50.0, int((sessions > 1).sum()))


def trial_facts(duration, studies: pd.DataFrame) -> tuple[TrialFacts, ...]:
    """Trials with responders counted in both arms, per time point (``plan.duration``)."""
    rows = duration.studies
    rows = rows[rows["control_n"].notna() & rows["timepoint_hours"].notna()]
    trials = []
    for study_id, group in rows.groupby("study_id", sort=False):
        source = studies[studies["study_id"] == study_id].iloc[0]
        times = tuple(ArmsAt(float(r["timepoint_hours"]), int(r["events"]), int(r["n"]),
                             int(r["control_events"]), int(r["control_n"]))
                      for _, r in group.sort_values("timepoint_hours").iterrows())
        detail = source["control_detail"] if isinstance(source["control_detail"], str) else ""
        trials.append(TrialFacts(str(group["label"].iloc[0]), str(source["control"]), detail, times))
    return tuple(trials)


def harms_facts(findings, included: pd.DataFrame) -> HarmsFacts:
    """Side effects and withdrawals: the summary of findings' harms rows and the studies' words."""
    by_key = {row.key: row for row in findings}
    described = int(included[included["adverse_events"].notna()]["cohort_id"].nunique())
    counted = by_key["adverse_events"].studies if "adverse_events" in by_key else 0
    return HarmsFacts(counted, described if not counted else 0,
                      by_key["withdrawals"].studies if "withdrawals" in by_key else 0)


def certainty_facts(findings) -> tuple[CertaintyFacts, ...]:
    """GRADE certainty per outcome of the summary of findings (rows without data are left out)."""
    return tuple(CertaintyFacts(OUTCOME_WORDS.get(row.key, row.outcome.lower()), row.certainty,
                                tuple(row.downgraded))
                 for row in findings if row.certainty is not None)


def article_facts(claims: pd.DataFrame, check, references: pd.DataFrame) -> tuple[ArticleFacts, ...]:
    """The popular articles of ``data/references.csv`` with the claims named in ``key_claims``.

    Raises
    ------
    AnalysisError
        When ``key_claims`` names a claim that is not in ``data/claims.csv`` or belongs to
        another article.
    """
    articles = []
    rows = references[references["kind"] == "popular_article"].sort_values("seed_file")
    for _, ref in rows.iterrows():
        keys = [k.strip() for k in str(ref["key_claims"]).split(";") if k.strip()] \
            if isinstance(ref["key_claims"], str) else []
        chosen = []
        for key in keys:
            match = claims[claims["claim_id"] == key]
            if match.empty or match["seed_file"].iloc[0] != ref["seed_file"]:
                raise AnalysisError(
                    f"data/references.csv: row {ref['ref_id']!r}: column 'key_claims': value {key!r}: "
                    f"not a claim of {ref['seed_file']} in data/claims.csv")
            c, v = match.iloc[0], check.verdict(key)
            chosen.append(ArticleClaim(
                key, str(c["quote"]), str(c["analysis"]), str(c["quantity"]), str(c["time_window"]),
                v.verdict, *(float(c[f]) if pd.notna(c[f]) else math.nan
                             for f in ("claimed_value", "claimed_lower", "claimed_upper")),
                v.estimate, v.ci_lb, v.ci_ub, str(c["study_ref"]) if pd.notna(c["study_ref"]) else ""))
        if not chosen:
            continue
        title = str(claims[claims["claim_id"] == keys[0]]["article_title"].iloc[0])
        published = ref["published"].strftime("%-d %B %Y") if pd.notna(ref["published"]) else ""
        articles.append(ArticleFacts(title, str(ref["site"]) if pd.notna(ref["site"]) else "site not shown",
                                     published, tuple(chosen)))
    return tuple(articles)
