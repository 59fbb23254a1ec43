"""The verdict rules of the claims check: small pure functions from numbers to a ruling.

Each rule takes numbers (an estimate and its intervals, counts, states of
comparisons) and returns a :class:`Ruling`: the verdict and the rule's name for
it. Which rows the numbers come from, and how the verdict is worded, live in
:mod:`analysis.review.claims`; this module knows nothing of data frames, so each rule
is tested on its own with made-up numbers (``tests/test_claim_rules.py``), as
:mod:`analysis.review.grade` does per domain.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from analysis.engine.contract import NaturalScale

#: The verdicts, strongest first. "compatible": the evidence's interval merely contains the
#: claim (it contains other values too), which is not support.
VERDICTS = ("supported", "partly supported", "compatible", "not supported", "not testable")

#: How far a study's observed proportion may lie from a claimed one and still be what the claim
#: says: "about" a value (approximate) within 5 percentage points (e.g. 11/17 = 65 % is "about two
#: thirds"; 8/12 = 67 % is not "about a third"); a value given exactly within rounding to a percent.
REPORTED_TOLERANCE = {True: 0.05, False: 0.005}

#: A comparison's state: its interval (CI or CrI) excludes no difference in favour of ketamine;
#: the estimate favours ketamine but the interval includes no difference; no benefit.
DIRECTION_STATES = ("significant", "favours", "none")


class Ruling(NamedTuple):
    """A verdict (one of :data:`VERDICTS`) and the rule that decided it."""

    verdict: str
    rule: str


class Claimed(NamedTuple):
    """A claim's number on the scale of the evidence: a value, or a one-sided bound (NaN if absent)."""

    value: float = math.nan
    lower: float = math.nan
    upper: float = math.nan


def _given(x: float) -> bool:
    return x is not None and not math.isnan(x)


def interval(claimed: Claimed, estimate: float, ci: tuple[float, float],
             pi: tuple[float, float] = (math.nan, math.nan), *, interval_name: str = "CI") -> Ruling | None:
    """A claimed value or bound against an estimate with its interval (and prediction interval).

    Value: the interval merely containing it is not support: compatible inside the interval
    (or inside the prediction interval only), not supported outside both. Lower bound ("more
    than half"): supported if the whole interval is above it, partly supported if the estimate
    is, compatible if only the interval (or prediction interval) reaches above it, not
    supported otherwise; an upper bound likewise. None when the claim states no number.
    ``interval_name`` ("CI" or "CrI") names the interval in the rule.

    >>> interval(Claimed(value=0.5), 0.57, (0.44, 0.69), interval_name="CrI")
    Ruling(verdict='compatible', rule='claimed value inside the CrI (which holds other values too)')
    >>> interval(Claimed(lower=0.5), 0.57, (0.44, 0.69)).verdict
    'partly supported'
    """
    has_pi = _given(pi[0])
    name = interval_name
    if _given(claimed.value):
        v = claimed.value
        if ci[0] <= v <= ci[1]:
            return Ruling("compatible", f"claimed value inside the {name} (which holds other values too)")
        if has_pi and pi[0] <= v <= pi[1]:
            return Ruling("compatible", f"claimed value inside the prediction interval only")
        return Ruling("not supported", "claimed value outside the " + ("prediction interval" if has_pi else name))
    spread = "prediction interval" if has_pi else name
    if _given(claimed.lower) and not _given(claimed.upper):
        bound = claimed.lower
        if ci[0] > bound:
            return Ruling("supported", f"whole {name} above the claimed lower bound")
        if estimate > bound:
            return Ruling("partly supported", f"estimate above the claimed lower bound, {name} includes it")
        if (pi[1] if has_pi else ci[1]) > bound:
            return Ruling("compatible", f"estimate below the bound; only the {spread} reaches above it")
        return Ruling("not supported", "evidence entirely at or below the claimed lower bound")
    if _given(claimed.upper) and not _given(claimed.lower):
        bound = claimed.upper
        if ci[1] < bound:
            return Ruling("supported", f"whole {name} below the claimed upper bound")
        if estimate < bound:
            return Ruling("partly supported", f"estimate below the claimed upper bound, {name} includes it")
        if (pi[0] if has_pi else ci[0]) < bound:
            return Ruling("compatible", f"estimate above the bound; only the {spread} reaches below it")
        return Ruling("not supported", "evidence entirely at or above the claimed upper bound")
    return None


def reported(observed: float, claimed: Claimed, approximate: bool) -> Ruling | None:
    """What one study observed (a proportion) against what a claim says it found.

    Supported when the observed value is the claimed one (within :data:`REPORTED_TOLERANCE`;
    a bound: on its side), not supported otherwise; None when the claim states no number.

    >>> reported(11 / 17, Claimed(value=2 / 3), approximate=True).verdict
    'supported'
    >>> reported(8 / 12, Claimed(value=1 / 3), approximate=True).verdict
    'not supported'
    """
    if _given(claimed.value):
        tolerance = REPORTED_TOLERANCE[bool(approximate)]
        if abs(observed - claimed.value) <= tolerance + 1e-12:
            return Ruling("supported", "the study observed the claimed value")
        return Ruling("not supported", "the study observed another value than the claimed one")
    if _given(claimed.lower) and not _given(claimed.upper):
        return (Ruling("supported", "the study observed more than the claimed bound") if observed > claimed.lower
                else Ruling("not supported", "the study observed no more than the claimed bound"))
    if _given(claimed.upper) and not _given(claimed.lower):
        return (Ruling("supported", "the study observed less than the claimed bound") if observed < claimed.upper
                else Ruling("not supported", "the study observed no less than the claimed bound"))
    return None


def count_with_outcome(found: int, claimed: float, responders: int | None) -> Ruling:
    """A count of patients that the claim says had an effect ("eleven patients received
    significant changes"): both parts weighed, the count and how many of them responded.

    >>> count_with_outcome(11, 11, 8)
    Ruling(verdict='partly supported', rule='count equal to the patients given ketamine, but not all of them responded')
    >>> count_with_outcome(11, 11, None).verdict, count_with_outcome(11, 12, 11).verdict
    ('supported', 'not supported')
    """
    if found != claimed:
        return Ruling("not supported", "count differs from the patients given ketamine")
    if responders is None or responders == found:
        return Ruling("supported", "count equal to the patients given ketamine")
    return Ruling("partly supported", "count equal to the patients given ketamine, but not all of them responded")


def combine(rulings: list[Ruling]) -> Ruling:
    """One verdict for a claim of several parts, weighing every part.

    Every part the same: that verdict. A part not supported beside one that holds (supported,
    partly supported or compatible): partly supported. Otherwise the weakest part that holds.
    Parts that cannot be tested do not count unless no part can be.

    >>> combine([Ruling("not supported", "a"), Ruling("supported", "b")])
    Ruling(verdict='partly supported', rule='parts: a; b')
    >>> combine([Ruling("supported", "a"), Ruling("compatible", "b")]).verdict
    'compatible'
    """
    tested = [r for r in rulings if r.verdict != "not testable"] or list(rulings)
    verdicts = {r.verdict for r in tested}
    rule = "parts: " + "; ".join(r.rule for r in tested)
    if len(verdicts) == 1:
        return Ruling(tested[0].verdict, rule)
    if "not supported" in verdicts:
        return Ruling("partly supported", rule)
    return Ruling(max(verdicts, key=VERDICTS.index), rule)


def direction_state(natural: NaturalScale) -> str:
    """``"significant"``, ``"favours"`` or ``"none"`` for a comparison of responders (higher favours ketamine).

    >>> from analysis.engine.contract import NaturalScale
    >>> direction_state(NaturalScale("RR", "Risk ratio", 2.7, 0.9, 7.7, math.nan, math.nan, 1.0, False))
    'favours'

    An estimate equal to the null up to rounding error (a posterior median of exactly no
    difference, computed by numerical integration) favours neither arm:

    >>> direction_state(NaturalScale("RR", "Risk ratio", 1 + 2e-16, 0.07, 15.0, math.nan, math.nan, 1.0, False))
    'none'
    """
    if natural.ci_lb > natural.null_value:
        return "significant"
    if natural.estimate > natural.null_value and not math.isclose(natural.estimate, natural.null_value,
                                                                   rel_tol=1e-9, abs_tol=1e-12):
        return "favours"
    return "none"


def direction(state: str) -> Ruling:
    """A claim that ketamine works better than control, from the comparison's state.

    >>> direction("favours")
    Ruling(verdict='partly supported', rule='direction: favouring ketamine, but the interval includes no difference')
    """
    return {
        "significant": Ruling("supported", "direction: favouring ketamine, the interval excludes no difference"),
        "favours": Ruling("partly supported", "direction: favouring ketamine, but the interval includes no difference"),
        "none": Ruling("not supported", "direction: not favouring ketamine"),
    }[state]


def benefit_gone_by(states: list[str]) -> Ruling:
    """"Relief is gone by U": the states of the controlled comparisons at or after U.

    No more responders with ketamine than with control after U is compatible with the claim, not
    support for it: the interval still holds a benefit (absence of evidence is not evidence of
    absence; issue 22).

    With no controlled comparison after U there is nothing to test the claim against.

    >>> benefit_gone_by(["none", "favours"]).verdict, benefit_gone_by(["none"]).verdict
    ('partly supported', 'compatible')
    >>> benefit_gone_by([]).verdict
    'not testable'
    """
    if "significant" in states:
        return Ruling("not supported", "upper bound: a benefit with interval excluding no difference after it")
    if "favours" in states:
        return Ruling("partly supported", "upper bound: responders favour ketamine after it, interval includes no difference")
    if states:
        return Ruling("compatible", "upper bound: no more responders with ketamine than with control after it, "
                                    "but the interval still holds a benefit")
    return Ruling("not testable", "upper bound: no controlled comparison after it")


def benefit_lasts_until(states: list[str], any_responders: bool) -> Ruling:
    """"Some benefit is still there at L": controlled states at or after L, and whether anyone responds.

    Responders in a ketamine arm are no benefit of ketamine when the control arm has as many:
    with controlled comparisons that all show none, the claim is not supported; with none to
    compare, responders are compatible with a benefit but cannot show one.

    >>> benefit_lasts_until([], True).verdict, benefit_lasts_until(["none"], True).verdict
    ('compatible', 'not supported')
    """
    if "significant" in states:
        return Ruling("supported", "lower bound: a benefit with interval excluding no difference after it")
    if "favours" in states:
        return Ruling("partly supported", "lower bound: responders favour ketamine after it, interval includes no difference")
    if states:
        return Ruling("not supported", "lower bound: after it, no more responders with ketamine than with control")
    if any_responders:
        return Ruling("compatible", "lower bound: some patients still respond, no control arm to compare with")
    return Ruling("not supported", "lower bound: no responders after it")


def short_term_only(early: str, late: str) -> Ruling:
    """"Short-term relief, no long-term analgesia": both parts weighed (:func:`combine`), the
    short-term benefit (:func:`direction` of the early state) and none left in the long term
    (:func:`benefit_gone_by` of the late state).

    >>> short_term_only("significant", "none").verdict, short_term_only("none", "none").verdict
    ('compatible', 'partly supported')
    """
    return combine([direction(early), benefit_gone_by([late])])


def equal_count(found: int, claimed: float, what: str) -> Ruling:
    """A count of patients, sessions or responders: supported only if equal.

    >>> equal_count(12, 12, "ketamine_n")
    Ruling(verdict='supported', rule='count equal to ketamine_n')
    """
    if found == claimed:
        return Ruling("supported", f"count equal to {what}")
    return Ruling("not supported", f"count differs from {what}")


def share_responding(events: int, n: int) -> Ruling:
    """A pain-score claim without a number: every patient, some, or none responding.

    >>> share_responding(1, 1).verdict, share_responding(0, 5).verdict
    ('supported', 'not supported')
    """
    verdict = "supported" if events == n else ("partly supported" if events > 0 else "not supported")
    return Ruling(verdict, "pain score without a number: share of patients responding")


def published_by(years, as_of_year) -> list[bool]:
    """Which studies a fixed document of ``as_of_year`` could count: those published by then.

    A claim about what a past review contained ("6 trials involving 115 patients") is about that
    document; a trial published after it must not change its verdict. Without a year (a claim
    about the evidence as it stands) every study counts; a study without a year is counted.

    >>> published_by([2011, 2026, None], 2024), published_by([2011, 2026], None)
    ([True, False, True], [True, True])
    """
    if as_of_year is None or as_of_year != as_of_year:  # None or NaN: no fixed document
        return [True for _ in years]
    return [year is None or year != year or year <= as_of_year for year in years]


def study_count(claimed: float, samples: int, reports: int) -> Ruling:
    """A number of studies: the studies with a pooled sample (supported) or their reports (partly).

    >>> study_count(6, 5, 6).verdict
    'partly supported'
    """
    if claimed == samples:
        return Ruling("supported", "equal to the studies with a pooled sample")
    if claimed == reports:
        return Ruling("partly supported", "equal to the reports, not to the studies")
    return Ruling("not supported", "differs from samples and reports")


def mild_harms(mild: int, not_mild: int) -> Ruling | None:
    """Side effects are mild: every classified sample mild (supported), most (partly); None if none classified.

    >>> mild_harms(3, 1).verdict, mild_harms(0, 0)
    ('partly supported', None)
    """
    classified = mild + not_mild
    if classified == 0:
        return None
    if not_mild == 0:
        return Ruling("supported", "every classified sample: mild or short-lived")
    if mild / classified > 0.5:
        return Ruling("partly supported", "most classified samples mild or short-lived")
    return Ruling("not supported", "at most half the classified samples mild or short-lived")


def low_dose_share(share: float, low_dose: float) -> Ruling:
    """Studies used one low-dose session: from half of the samples (supported), some (partly), none.

    >>> low_dose_share(0.2, 0.5).verdict
    'partly supported'
    """
    verdict = "supported" if share >= 0.5 else ("partly supported" if share > 0 else "not supported")
    return Ruling(verdict, f"share of pooled samples with one session at <= {low_dose:g} mg/kg")


#: Who a comparison reported by a study's own text favours (``reported_favours`` of
#: ``data/claims.csv``); ``ketamine_in_part``: ketamine, for part of what the claim says only.
REPORTED_FAVOURS = ("ketamine", "ketamine_in_part", "control", "neither")


def reported_comparison(favours: str, p_below: float, alpha: float = 0.05) -> Ruling:
    """A claim about an effect judged from a comparison with control that the source reports
    (e.g. "reduced by ketamine ... compared with placebo (P<0.03)"), when the data hold no
    counts to compare.

    >>> reported_comparison("ketamine", 0.03)
    Ruling(verdict='supported', rule='direction: a reported comparison with control favours ketamine (P < 0.03)')
    >>> reported_comparison("ketamine_in_part", 0.02).verdict, reported_comparison("ketamine", math.nan).verdict
    ('partly supported', 'partly supported')
    >>> reported_comparison("neither", 0.5).verdict
    'not supported'
    """
    if favours not in REPORTED_FAVOURS:
        raise ValueError(f"favours={favours!r}: one of {', '.join(REPORTED_FAVOURS)}")
    significant = _given(p_below) and p_below <= alpha
    if favours == "ketamine" and significant:
        return Ruling("supported", f"direction: a reported comparison with control favours ketamine (P < {p_below:g})")
    if favours == "ketamine_in_part" and significant:
        return Ruling("partly supported", "direction: reported comparisons with control favour ketamine for part "
                                          f"of the claim only (P < {p_below:g})")
    if favours in ("ketamine", "ketamine_in_part"):
        return Ruling("partly supported", "direction: a reported comparison favours ketamine without a stated "
                                          f"P below {alpha:g}")
    return Ruling("not supported", "direction: the reported comparison does not favour ketamine")
