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

VERDICTS = ("supported", "partly supported", "not supported", "not testable")

#: A comparison's state: CI excludes no difference in favour of ketamine; estimate favours
#: ketamine but the CI includes no difference; no benefit.
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
             pi: tuple[float, float] = (math.nan, math.nan)) -> Ruling | None:
    """A claimed value or bound against an estimate with its CI (and prediction interval).

    Value: supported inside the CI, partly supported inside the prediction interval only,
    not supported otherwise. Lower bound ("more than half"): supported if the whole CI is
    above it, partly supported if the estimate (or, failing that, the prediction interval
    or CI) reaches above it, not supported otherwise; an upper bound likewise. None when
    the claim states no number.

    >>> interval(Claimed(value=0.5), 0.57, (0.44, 0.69))
    Ruling(verdict='supported', rule='claimed value inside the CI')
    >>> interval(Claimed(lower=0.5), 0.57, (0.44, 0.69)).verdict
    'partly supported'
    """
    has_pi = _given(pi[0])
    if _given(claimed.value):
        v = claimed.value
        if ci[0] <= v <= ci[1]:
            return Ruling("supported", "claimed value inside the CI")
        if has_pi and pi[0] <= v <= pi[1]:
            return Ruling("partly supported", "claimed value inside the prediction interval only")
        return Ruling("not supported", "claimed value outside the " + ("prediction interval" if has_pi else "CI"))
    spread = "prediction interval" if has_pi else "CI"
    if _given(claimed.lower) and not _given(claimed.upper):
        bound = claimed.lower
        if ci[0] > bound:
            return Ruling("supported", "whole CI above the claimed lower bound")
        if estimate > bound:
            return Ruling("partly supported", "estimate above the claimed lower bound, CI includes it")
        if (pi[1] if has_pi else ci[1]) > bound:
            return Ruling("partly supported", f"{spread} reaches above the bound")
        return Ruling("not supported", "evidence entirely at or below the claimed lower bound")
    if _given(claimed.upper) and not _given(claimed.lower):
        bound = claimed.upper
        if ci[1] < bound:
            return Ruling("supported", "whole CI below the claimed upper bound")
        if estimate < bound:
            return Ruling("partly supported", "estimate below the claimed upper bound, CI includes it")
        if (pi[0] if has_pi else ci[0]) < bound:
            return Ruling("partly supported", f"{spread} reaches below the bound")
        return Ruling("not supported", "evidence entirely at or above the claimed upper bound")
    return None


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
    Ruling(verdict='partly supported', rule='direction: favouring ketamine, but the CI includes no difference')
    """
    return {
        "significant": Ruling("supported", "direction: favouring ketamine, the CI excludes no difference"),
        "favours": Ruling("partly supported", "direction: favouring ketamine, but the CI includes no difference"),
        "none": Ruling("not supported", "direction: not favouring ketamine"),
    }[state]


def benefit_gone_by(states: list[str]) -> Ruling:
    """"Relief is gone by U": the states of the controlled comparisons at or after U.

    >>> benefit_gone_by(["none", "favours"]).verdict
    'partly supported'
    """
    if "significant" in states:
        return Ruling("not supported", "upper bound: a benefit with CI excluding no difference after it")
    if "favours" in states:
        return Ruling("partly supported", "upper bound: responders favour ketamine after it, CI includes no difference")
    return Ruling("supported", "upper bound: no benefit over control after it")


def benefit_lasts_until(states: list[str], any_responders: bool) -> Ruling:
    """"Some benefit is still there at L": controlled states at or after L, and whether anyone responds.

    >>> benefit_lasts_until([], True).verdict
    'partly supported'
    """
    if "significant" in states:
        return Ruling("supported", "lower bound: a benefit with CI excluding no difference after it")
    if any_responders:
        return Ruling("partly supported", "lower bound: some patients still respond, no controlled difference")
    return Ruling("not supported", "lower bound: no responders after it")


def short_term_only(early: str, late: str) -> Ruling:
    """"Short-term relief, no long-term analgesia", from the early and the long-term states.

    >>> short_term_only("significant", "none").verdict
    'supported'
    """
    if early == "significant" and late == "none":
        return Ruling("supported", "short term: benefit (CI excludes no difference); long term: none")
    if early == "favours" and late == "none":
        return Ruling("partly supported", "short term: favours ketamine, CI includes no difference; long term: none")
    return Ruling("not supported", "short- and long-term pattern not as claimed")


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
