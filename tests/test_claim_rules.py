"""Each verdict rule of the claims check on made-up numbers (analysis.review.claim_rules)."""

import math

import pytest

from analysis.review import claim_rules as rules
from analysis.review.claim_rules import Claimed
from analysis.engine.contract import NaturalScale

CI, PI = (0.44, 0.69), (0.37, 0.75)


@pytest.mark.parametrize("claimed, verdict", [
    (Claimed(value=0.55), "compatible"),         # issue 22: an interval merely containing a value is no support
    (Claimed(value=0.40), "compatible"),         # inside the prediction interval only
    (Claimed(value=0.90), "not supported"),
    (Claimed(lower=0.40), "supported"),          # the whole CI above the bound
    (Claimed(lower=0.50), "partly supported"),   # the estimate above, the CI not
    (Claimed(lower=0.60), "compatible"),         # only the prediction interval reaches above
    (Claimed(lower=0.80), "not supported"),
    (Claimed(upper=0.80), "supported"),
    (Claimed(upper=0.60), "partly supported"),
    (Claimed(upper=0.30), "not supported"),
])
def test_interval_rule(claimed, verdict):
    assert rules.interval(claimed, 0.57, CI, PI).verdict == verdict


def test_interval_rule_without_prediction_interval_uses_the_ci():
    assert rules.interval(Claimed(value=0.40), 0.57, CI).verdict == "not supported"
    assert rules.interval(Claimed(lower=0.60), 0.57, CI).rule == "estimate below the bound; only the CI reaches above it"
    assert "CrI" in rules.interval(Claimed(value=0.5), 0.57, CI, interval_name="CrI").rule
    assert rules.interval(Claimed(), 0.57, CI) is None


def _rr(estimate, lower, upper):
    return NaturalScale("RR", "Risk ratio", estimate, lower, upper, math.nan, math.nan, 1.0, False)


@pytest.mark.parametrize("natural, state, verdict", [
    (_rr(3.5, 1.2, 10.0), "significant", "supported"),
    (_rr(2.7, 0.9, 7.7), "favours", "partly supported"),
    (_rr(1.0, 0.3, 3.0), "none", "not supported"),
    (_rr(1.0 + 2e-16, 0.07, 15.0), "none", "not supported"),  # a posterior median of no difference, rounded
    (_rr(1.001, 0.07, 15.0), "favours", "partly supported"),
    (_rr(0.5, 0.2, 0.9), "none", "not supported"),
])
def test_direction(natural, state, verdict):
    assert rules.direction_state(natural) == state
    assert rules.direction(state).verdict == verdict


@pytest.mark.parametrize("states, verdict", [
    ([], "not testable"), (["none"], "compatible"), (["none", "favours"], "partly supported"),
    (["favours", "significant"], "not supported"),
])
def test_benefit_gone_by(states, verdict):
    assert rules.benefit_gone_by(states).verdict == verdict


@pytest.mark.parametrize("states, responders, verdict", [
    (["significant"], True, "supported"), (["favours"], True, "partly supported"),
    # issue 22: responders matched by the control arm are no residual benefit (2/12 vs 2/12 at week 8)
    (["none"], True, "not supported"),
    ([], True, "compatible"), ([], False, "not supported"),
])
def test_benefit_lasts_until(states, responders, verdict):
    assert rules.benefit_lasts_until(states, responders).verdict == verdict


@pytest.mark.parametrize("early, late, verdict", [
    # no benefit left in the long term is only compatible while the interval holds one
    ("significant", "none", "compatible"), ("favours", "none", "compatible"),
    # every part weighed: one part holds, the other does not
    ("significant", "favours", "partly supported"), ("none", "none", "partly supported"),
    ("none", "significant", "not supported"),
])
def test_short_term_only(early, late, verdict):
    assert rules.short_term_only(early, late).verdict == verdict


def test_counts_and_shares():
    assert rules.equal_count(11, 11.0, "ketamine_n").verdict == "supported"
    assert rules.equal_count(11, 12.0, "ketamine_n").verdict == "not supported"
    assert [rules.share_responding(e, 4).verdict for e in (4, 2, 0)] == [
        "supported", "partly supported", "not supported"]
    assert [rules.study_count(c, 5, 6).verdict for c in (5, 6, 7)] == [
        "supported", "partly supported", "not supported"]
    assert [rules.mild_harms(m, n).verdict for m, n in ((4, 0), (3, 1), (1, 1))] == [
        "supported", "partly supported", "not supported"]
    assert rules.mild_harms(0, 0) is None
    assert [rules.low_dose_share(s, 0.5).verdict for s in (0.5, 0.1, 0.0)] == [
        "supported", "partly supported", "not supported"]


@pytest.mark.parametrize("observed, claimed, approximate, verdict", [
    (11 / 17, Claimed(value=2 / 3), True, "supported"),      # "about two thirds": 65 %
    (8 / 12, Claimed(value=1 / 3), True, "not supported"),   # "about a third": the trial found two thirds
    (0.25, Claimed(value=1 / 3), True, "not supported"),     # 8 points off is not "about"
    (0.333, Claimed(value=1 / 3), False, "supported"),
    (0.59, Claimed(lower=0.5), False, "supported"),
    (0.5, Claimed(lower=0.5), False, "not supported"),       # "more than half" is exclusive
    (0.4, Claimed(upper=0.5), False, "supported"),
])
def test_what_a_study_observed_against_what_the_claim_says_it_found(observed, claimed, approximate, verdict):
    assert rules.reported(observed, claimed, approximate).verdict == verdict
    assert rules.reported(observed, Claimed(), approximate) is None


@pytest.mark.parametrize("found, claimed, responders, verdict", [
    (11, 11, 11, "supported"), (11, 11, None, "supported"),
    (11, 11, 8, "partly supported"),   # "eleven patients received significant changes": 8 of 11 did
    (11, 12, 8, "not supported"),
])
def test_a_count_of_patients_is_weighed_with_what_happened_to_them(found, claimed, responders, verdict):
    assert rules.count_with_outcome(found, claimed, responders).verdict == verdict


@pytest.mark.parametrize("parts, verdict", [
    (["supported", "supported"], "supported"),
    (["not supported", "supported"], "partly supported"),     # "about a third ... did not last"
    (["not supported", "compatible"], "partly supported"),
    (["supported", "compatible"], "compatible"),
    (["partly supported", "compatible", "supported"], "compatible"),
    (["not supported", "not testable"], "not supported"),    # an untestable part does not count
    (["not testable"], "not testable"),
])
def test_every_part_of_a_claim_is_weighed(parts, verdict):
    ruling = rules.combine([rules.Ruling(v, f"part {i}") for i, v in enumerate(parts)])
    assert ruling.verdict == verdict
    assert all(f"part {i}" in ruling.rule for i, v in enumerate(parts) if v != "not testable" or len(parts) == 1)


def test_direction_rules_name_no_interval_type_they_cannot_know():
    """The rules are pure; the wording of a verdict names CI or CrI from the fit (issue 22, finding 4)."""
    for state in rules.DIRECTION_STATES:
        assert "CI" not in rules.direction(state).rule
    for states in (["significant"], ["favours"], []):
        assert "CI" not in rules.benefit_gone_by(states).rule
        assert "CI" not in rules.benefit_lasts_until(states, True).rule


def test_reported_comparison_judges_an_effect_without_counts():
    """Issue 20: a claim about an effect can be judged from a comparison the source reports."""
    from analysis.review.claim_rules import reported_comparison
    assert reported_comparison("ketamine", 0.03).verdict == "supported"
    assert reported_comparison("ketamine", 0.05).verdict == "supported"      # P < 0.05 stated as the bound
    assert reported_comparison("ketamine", 0.2).verdict == "partly supported"
    assert reported_comparison("ketamine_in_part", 0.01).verdict == "partly supported"
    assert reported_comparison("control", 0.01).verdict == "not supported"
    assert reported_comparison("neither", math.nan).verdict == "not supported"
    with pytest.raises(ValueError, match="favours='maybe'"):
        reported_comparison("maybe", 0.01)
