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
from analysis.review.findings import CONTROLLED_OUTCOMES, PER

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
    "active_placebo": "another drug",
    "saline_placebo": "a drip of salt water",
    "other_analgesic": "another painkiller",
}

#: Why a trial gives a drug as its dummy treatment (an active placebo).
ACTIVE_PLACEBO_WHY = "so people could not easily tell which drug they had"

#: Drugs used as comparison treatments, named in plain words when ``control_detail`` names one.
DRUG_WORDS = {"midazolam": "midazolam, a drug that makes people calm and sleepy"}

#: The protocol's time windows as the key messages say them (the summary of findings' follow-up).
TIME_WORDS = {
    "during_or_immediate": "in the first 4 hours",
    "short_term": "after 1 to 7 days",
    "medium_term": "after 1 to 4 weeks",
    "long_term": "after 8 weeks or more",
}

#: How the certainty of a comparison of ketamine with control begins (:data:`OUTCOME_WORDS`).
COMPARES = "how ketamine compares with a dummy treatment"

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
    keys : tuple of str
        Its ``study_id`` and ``cohort_id`` (what a claim's ``study_ref`` names).
    """

    label: str
    control: str
    control_detail: str
    times: tuple[ArmsAt, ...]
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComparisonFacts:
    """Ketamine against the comparison treatments at one time, all trials together (one row of
    the summary of findings, read by :func:`comparison_facts`).

    Attributes
    ----------
    window : str
        The protocol's time window (a key of :data:`TIME_WORDS`).
    studies : int
    control_risk : float
        Responders over people in the comparison arms, all trials together (0 to 1).
    ketamine_risk, ketamine_low, ketamine_high : float
        The share with ketamine that the pooled relative effect gives at that control risk, and its
        interval (0 to 1; NaN when no one in the comparison arms responded, so that no share follows).
    ketamine_events, ketamine_n, control_events, control_n : int
        Responders and people in the arms of the trials compared (summed).
    certainty : str or None
        GRADE certainty of the comparison (as :class:`CertaintyFacts`).
    """

    window: str
    studies: int
    control_risk: float
    ketamine_risk: float
    ketamine_low: float
    ketamine_high: float
    ketamine_events: int
    ketamine_n: int
    control_events: int
    control_n: int
    certainty: str | None


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
    what = _comparator(trial)
    if not what:
        return ""
    why = f", {ACTIVE_PLACEBO_WHY}" if trial.control == "active_placebo" else ""
    return f"{_capital(comparison_name(trial))} was {what}{why}."


def _comparator(trial: TrialFacts) -> str:
    """The comparison treatment as the data name it: a known drug, else its kind in words ("" when
    that is only its name again: "another painkiller", or a kind without words)."""
    drug = next((words for name, words in DRUG_WORDS.items() if name in trial.control_detail.lower()), "")
    kind = CONTROL_WORDS.get(trial.control, "")
    return drug or ("" if kind == comparison_name(trial) else kind)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


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
                 certainty: Sequence[CertaintyFacts], *, ongoing: int = 0,
                 comparisons: Sequence[ComparisonFacts] = ()) -> PlainText:
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
    comparisons : sequence of ComparisonFacts
        Ketamine against the comparison treatments per time, all trials together (needed with two
        or more trials).

    Returns
    -------
    PlainText
        About 150-250 words (tested), no word of :data:`BANNED_WORDS`. One trial is told time by
        time in counts ("8 of 12"); two or more are summed up per time of ``comparisons`` (the
        summary of findings' absolute effects, "about 7 in 10"), so the text does not grow with
        the number of trials.

    Raises
    ------
    AnalysisError
        With two or more trials and no ``comparisons``.
    """
    if len(trials) > 1 and not comparisons:
        raise AnalysisError(f"key_messages: {len(trials)} trials compared ketamine with another treatment; "
                            "pass comparisons=comparison_facts(findings, plan, studies) to sum them up")
    paragraphs = (*_found(response, trials, comparisons), _harms_sentence(harms))
    sections = [
        ("What did we want to find out?",
         ("We wanted to know if ketamine eases the pain of fibromyalgia, for how many people, "
          "and for how long.",)),
        ("What did we find?", tuple(paragraphs)),
        ("How sure are we?", (_certainty_sentence(certainty),)),
        ("What is still unknown?", (_unknown_sentence(response, trials, harms, certainty, ongoing,
                                                        comparisons),)),
    ]
    return PlainText("Key messages", tuple(sections))


def _found(response: ResponseFacts, trials: Sequence[TrialFacts],
           comparisons: Sequence[ComparisonFacts]) -> tuple[str, ...]:
    """"What did we find?" but its harms: the response rate, then the one trial time by time, or
    two or more trials summed up per time of ``comparisons``."""
    gone = pain_gone(response.threshold_percent)
    k = len(response.studies)
    found = [f"In {_count(k, 'study', 'studies')} with {response.people} people, "
             f"about {in_ten(response.estimate)} in 10 had {gone} after ketamine "
             f"(it could be {_range_words(response.low, response.high)})."]
    if len(trials) > 1:  # the trials' paragraph says how many compared, and why
        given = _join(list(dict.fromkeys(INDEFINITE[comparison_name(t)] for t in trials)), "or")
        what = _comparators_words(trials)
        return (" ".join(found),
                f"{'Only ' if len(trials) < k else ''}{len(trials)} studies also gave {given}"
                f"{f' ({what})' if what else ''}, to see how much was due to ketamine. In them, "
                + _across_trials(trials, comparisons, gone))
    if response.compared < k:
        found.append((f"Only {_count(response.compared, 'study', 'studies')} also counted"
                      if response.compared else "No study counted")
                     + " how many got better with a dummy treatment, so we cannot tell how much "
                       "was due to ketamine.")
    if not trials:
        return " ".join(found), "No study compared ketamine with a dummy treatment in a way we could count."
    trial = trials[0]
    if not trial.times:
        return (" ".join(found),)
    intro = "In that study, " if response.compared == 1 else f"In the study {trial.label}, "
    sentence = _time_sentence(trial, trial.times, gone)
    return " ".join(found), " ".join(p for p in (intro + sentence, comparison_explained(trial)) if p)


#: A comparison treatment's name (:func:`comparison_name`, :func:`other_name`) introduced.
INDEFINITE = {"the dummy treatment": "a dummy treatment", "another painkiller": "another painkiller",
              "the other treatment": "another treatment"}


def other_name(trials: Sequence[TrialFacts]) -> str:
    """The comparison treatment of all ``trials`` ("the dummy treatment"; "the other treatment" when
    they differ in kind)."""
    names = {comparison_name(t) for t in trials}
    return names.pop() if len(names) == 1 else "the other treatment"


def _comparators_words(trials: Sequence[TrialFacts]) -> str:
    """What the trials' comparison treatments were, each once (in how many studies when they differ).

    >>> mid, salt = (TrialFacts(x, c, d, ()) for x, c, d in (("A", "active_placebo", "midazolam"),
    ...                                                        ("B", "saline_placebo", "saline")))
    >>> _comparators_words([mid, mid])
    'midazolam, a drug that makes people calm and sleepy'
    >>> _comparators_words([mid, salt, salt])
    'midazolam, a drug that makes people calm and sleepy, in 1 study; a drip of salt water in 2 studies'
    """
    named = [_comparator(t) for t in trials]
    kinds = list(dict.fromkeys(n for n in named if n))
    if len(kinds) == 1 and len(named) == named.count(kinds[0]):
        return kinds[0]
    return "; ".join(f"{what}{',' if ',' in what else ''} in {_count(named.count(what), 'study', 'studies')}"
                     for what in kinds)


def share_words(proportion: float) -> str:
    """A share as the key messages say it: :func:`in_ten`, without "about 0 in 10" or "about 10 in 10".

    >>> [share_words(p) for p in (0.0, 0.03, 0.25, 0.97, 1.0)]
    ['none', 'fewer than 1 in 10', 'about 3 in 10', 'more than 9 in 10', 'all']
    """
    if proportion in (0.0, 1.0):
        return "none" if proportion == 0 else "all"
    tenths = in_ten(proportion)
    return {0: "fewer than 1 in 10", 10: "more than 9 in 10"}.get(tenths, f"about {tenths} in 10")


def ketamine_share(c: ComparisonFacts) -> float:
    """The share with ketamine that the key messages and the pictures give for ``c``: the summary of
    findings' (``ketamine_risk``), or, where no one in the comparison arms responded (no share follows
    from a ratio then), the ketamine arms' own share.

    >>> ketamine_share(ComparisonFacts("short_term", 2, 0.0, math.nan, math.nan, math.nan, 4, 24, 0, 24, None))
    0.16666666666666666
    """
    return c.ketamine_events / c.ketamine_n if math.isnan(c.ketamine_risk) else c.ketamine_risk


def _arms_in_ten(c: ComparisonFacts) -> tuple[str, str, str]:
    """The share with ketamine (:func:`ketamine_share`) and with the comparison treatment in words, and
    the range of the first ("about 7 in 10", "about 2 in 10", "between about 3 and 10 in 10"); no range
    where the ketamine arms' own share is given."""
    spread = "" if math.isnan(c.ketamine_risk) else _range_words(c.ketamine_low, c.ketamine_high)
    return share_words(ketamine_share(c)), share_words(c.control_risk), spread


def _across_trials(trials: Sequence[TrialFacts], comparisons: Sequence[ComparisonFacts], gone: str) -> str:
    """"about 7 in 10 people who had ketamine and about 2 in 10 who had the dummy treatment had ...
    in the first 4 hours (with ketamine it could be between about 3 and 10 in 10). After 1 to 7
    days it was about 2 in 10 and about 0 in 10; ..." (a time without every trial says how many
    studies it has)."""
    other = other_name(trials)

    def time(c: ComparisonFacts) -> str:
        return TIME_WORDS[c.window] + ("" if c.studies == len(trials) else
                                       f" ({_count(c.studies, 'study', 'studies')})")

    def could_be(words: str) -> str:
        return f" (with ketamine it could be {words})" if words else ""

    first, rest = comparisons[0], comparisons[1:]
    ketamine, control, spread = _arms_in_ten(first)
    sentence = (f"{ketamine} people who had ketamine and {control} who had {other} had {gone} "
                f"{time(first)}{could_be(spread)}.")
    later = []
    for i, c in enumerate(rest):
        ketamine, control, _ = _arms_in_ten(c)  # the range once, for the first time: 250 words at most
        counts = f"{ketamine} in both groups" if ketamine == control else f"{ketamine} and {control}"
        when_ = time(c)
        later.append(f"{when_[0].upper()}{when_[1:]} it was {counts}" if not i else f"{when_}, {counts}")
    return sentence + (" " + "; ".join(later) + "." if later else "")


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
        said = [f"{CERTAINTY_WORDS[lv]} {_outcomes([c.outcome for c in rated if c.level == lv])}." for lv in levels]
        if sum(c.level == levels[-1] for c in rated) > 1:  # the least sure of several: "the other results"
            said[-1] = f"{CERTAINTY_WORDS[levels[-1]]} the other results."
        text = " ".join(said)
    return text + "".join(f" {r[0].upper()}{r[1:]}." for r in reasons)


def _outcomes(outcomes: Sequence[str]) -> str:
    """Outcomes joined, the comparisons at several times said once (so that more trials, rated
    differently per time, do not lengthen the text by a clause each).

    >>> _outcomes(["how many people respond", f"{COMPARES} soon after", f"{COMPARES} after 1 week"])
    'how many people respond and how ketamine compares with a dummy treatment soon after and after 1 week'
    """
    times = [o.removeprefix(COMPARES).strip() for o in outcomes if o.startswith(COMPARES)]
    others = [o for o in outcomes if not o.startswith(COMPARES)]
    return _join(others + ([f"{COMPARES} {_join(times)}"] if times else []))


def _unknown_sentence(response, trials, harms, certainty, ongoing, comparisons=()) -> str:
    unknown = []
    # known only from two or more trials whose comparison soon after the dose GRADE rates
    # moderate or high: few, small or disagreeing trials leave it unknown
    if len(trials) < 2 or not comparisons or comparisons[0].certainty not in ("high", "moderate"):
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


def article_answer(claim: ArticleClaim, response: ResponseFacts, trials: Sequence[TrialFacts],
                   comparisons: Sequence[ComparisonFacts] = ()) -> str:
    """What the evidence shows about one claim, in one or two plain sentences.

    A claim about a trial it names (``study_ref``) is answered with that trial's counts; with
    several trials and none named, with all of them (``comparisons``, as the claims check weighs
    them).

    Raises
    ------
    AnalysisError
        For a claim whose analysis has no plain wording here (choose another key claim).
    """
    gone = pain_gone(response.threshold_percent)
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
    if claim.analysis in ("controlled_rr", "duration") and trials:
        named = next((t for t in trials if _names(claim.study_ref, t.keys)), None)
        if named is None and len(trials) > 1:
            return _trials_answer(claim, trials, comparisons, gone)
        return _trial_answer(claim, named or trials[0], gone, only=len(trials) == 1)
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
    return _names(ref, study.keys)


def _names(ref: str, keys: Sequence[str]) -> bool:
    """True when a claim's ``study_ref`` ("a; b") names one of ``keys``."""
    return any(r.strip() in keys for r in str(ref).split(";") if r.strip())


_DIRECTION_WORDS = {
    "supported": "This difference is unlikely to be chance.",
    "partly supported": "With so few people, this difference could be chance.",
    "compatible": "With so few people, we cannot be sure either way.",
    "not supported": "Ketamine did no better.",
}


_DURATION_WORDS = {
    "supported": "So the benefit was gone by then.",
    "partly supported": "Some benefit may have lasted longer, but with so few people this could be chance.",
    "compatible": "The benefit may have been gone by then, but with so few people we cannot be sure.",
    "not supported": "So some benefit lasted longer than the article says.",
}


def _after(trial: TrialFacts, bound: float, gone: str) -> str:
    """A trial's first and last counts at or after ``bound`` hours (its last when none is)."""
    later = [a for a in trial.times if a.hours >= bound] or [trial.times[-1]]
    return _time_sentence(trial, [later[0]] + ([later[-1]] if len(later) > 1 else []), gone, "still had")


def _against_the_claim(claim: ArticleClaim) -> str:
    """How the share the studies give (``estimate``) stands against the claimed one: ", not 5 in 10.",
    ", as the article says." or, when the article gives no number, "."."""
    if math.isnan(claim.claimed_value):
        return "."
    share, claimed = in_ten(claim.estimate), in_ten(claim.claimed_value)
    return f", not {claimed} in 10." if claimed != share else ", as the article says."


def _trial_answer(claim: ArticleClaim, trial: TrialFacts, gone: str, only: bool = True) -> str:
    """A claim about one trial: ``only`` when it is the one trial with a comparison treatment."""
    other = comparison_name(trial)
    first = trial.times[0]
    if claim.quantity == "response_rate":  # a claimed share of the ketamine arm
        text = (f"In that study ({trial.label}), {of(first.ketamine_events, first.ketamine_n)} people who had ketamine "
                f"had {gone} {when(first.hours)} after: about {in_ten(claim.estimate)} in 10")
        return text + _against_the_claim(claim) + f" With {other} it was {of(first.control_events, first.control_n)}."
    if claim.analysis == "duration" and not math.isnan(claim.claimed_upper):
        intro = "In the one study with a dummy treatment, " if only else f"In that study ({trial.label}), "
        return intro + _after(trial, claim.claimed_upper, gone) + " " + _DURATION_WORDS[claim.verdict]
    intro = "In the one study that compared them, " if only else f"In that study ({trial.label}), "
    text = (f"{intro}{of(first.ketamine_events, first.ketamine_n)} "
            f"people who had ketamine and {of(first.control_events, first.control_n)} who had {other} "
            f"had {gone} {when(first.hours)} after.")
    return text + " " + _DIRECTION_WORDS[claim.verdict]


def _trials_answer(claim: ArticleClaim, trials: Sequence[TrialFacts], comparisons: Sequence[ComparisonFacts],
                   gone: str) -> str:
    """A claim about controlled trials that names none of several: all of them, as the claims check
    weighs them (the duration rule trial by trial, the others on the trials together)."""
    if claim.analysis == "duration" and not math.isnan(claim.claimed_upper):
        return " ".join([*(f"In {t.label}, " + _after(t, claim.claimed_upper, gone) for t in trials),
                         _DURATION_WORDS[claim.verdict]])
    if not comparisons:
        raise AnalysisError(f"claim {claim.claim_id}: {len(trials)} trials compared ketamine with another "
                            "treatment; pass comparisons=comparison_facts(findings, plan, studies)")
    c = next((c for c in comparisons if c.window == claim.time_window), comparisons[0])
    intro = f"In the {len(trials)} studies that compared them, "
    if claim.quantity == "response_rate":  # a claimed share of the ketamine arms (pooled by the check)
        return (f"{intro}about {in_ten(claim.estimate)} in 10 people who had ketamine had {gone} "
                f"{TIME_WORDS[c.window]}{_against_the_claim(claim)}"
                f" With {other_name(trials)} it was about {in_ten(c.control_risk)} in 10.")
    return intro + _across_trials(trials, (c,), gone) + " " + _DIRECTION_WORDS[claim.verdict]


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
                    trials: Sequence[TrialFacts], comparisons: Sequence[ComparisonFacts] = ()) -> ArticleAnswers:
    """Each article's key claims, quoted, with the verdict and a plain answer."""
    answers = tuple(tuple(article_answer(c, response, trials, comparisons) for c in a.claims) for a in articles)
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
    # the times as "What did we find?" says them
    **{key: f"{COMPARES} {TIME_WORDS[window]}" for key, _, window, _ in CONTROLLED_OUTCOMES},
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
        keys = tuple(str(source[c]) for c in ("study_id", "cohort_id") if c in source and pd.notna(source[c]))
        trials.append(TrialFacts(str(group["label"].iloc[0]), str(source["control"]), detail, times, keys))
    return tuple(trials)


def comparison_facts(findings, plan, studies: pd.DataFrame) -> tuple[ComparisonFacts, ...]:
    """Ketamine against control per time of the summary of findings (rows with data), all trials
    together: the row's absolute effects (per 1000 there, proportions here) and the arms' counts of
    the rows the plan compared for that time (``plan.controlled_rows``). ``studies`` are the rows
    the summary of findings was built from."""
    windows = {key: window for key, _, window, _ in CONTROLLED_OUTCOMES}
    facts = []
    for row in findings:
        if row.key not in windows or not row.studies:
            continue
        arms = plan.controlled_rows(studies, windows[row.key])
        facts.append(ComparisonFacts(
            windows[row.key], row.studies, row.control_risk / PER, row.ketamine_risk / PER,
            row.ketamine_lb / PER, row.ketamine_ub / PER,
            *(int(arms[column].sum()) for column in ("ketamine_events", "ketamine_n", "control_events", "control_n")),
            row.certainty))
    return tuple(facts)


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
