"""Icon arrays, tested through the people they draw (collections by gid) and their words."""

from __future__ import annotations

import math

import pytest
from test_plain import plain_layer_with
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from analysis.engine._errors import AnalysisError
from analysis.present import plain
from analysis.present.plain import ArmsAt, ComparisonFacts, ResponseFacts, StudyCount, TrialFacts, pain_gone
from analysis.present.plots import overlapping_texts
from analysis.present.plots._style import MIN_FONT_SIZE
from analysis.present.plots.describe import (
    describe_comparison_icon_array,
    describe_response_icon_array,
    describe_trials_icon_array,
    icon_array_legend,
)
from analysis.present.plots.icon_array import (
    NOT_RESPONDED,
    RESPONDED,
    UNCERTAIN,
    comparison_icon_array,
    comparison_pictures,
    response_icon_array,
    trials_icon_array,
)

RESPONSE = ResponseFacts(0.576, 0.415, 0.752, (StudyCount("A 2000", 2000, 8, 11, False),
                                               StudyCount("B 2011", 2011, 8, 12, True)), 50.0, 0)
TRIAL = TrialFacts("N 2011", "active_placebo", "midazolam 5 mg", (
    ArmsAt(0.25, 8, 12, 3, 12), ArmsAt(2.5, 6, 12, 2, 12), ArmsAt(168, 2, 12, 0, 12), ArmsAt(1344, 2, 12, 2, 12)))
GONE = ("had at least half their pain gone", "did not")


def _people(fig) -> dict[str, int]:
    return {c.get_gid(): len(c.get_offsets()) for c in fig.findobj(PathCollection) if c.get_gid()}


def test_response_array_draws_the_estimate_and_the_band():
    fig = response_icon_array(RESPONSE, legend=icon_array_legend(RESPONSE))
    assert _people(fig) == {RESPONDED: 58, NOT_RESPONDED: 42}
    band = [p for p in fig.findobj(Rectangle) if p.get_gid() == UNCERTAIN]
    assert len(band) == 75 - 42  # people 43 to 75
    assert overlapping_texts(fig) == []


def test_response_array_refuses_an_estimate_outside_its_interval():
    with pytest.raises(AnalysisError, match="must lie within its interval"):
        response_icon_array(ResponseFacts(0.9, 0.1, 0.5, (), 50.0, 0), legend=("a", "b", "c"))


def test_comparison_array_draws_each_arm_at_each_time():
    fig = comparison_icon_array(TRIAL, legend=GONE)
    people = _people(fig)
    for i, at in enumerate(TRIAL.times):
        assert people[f"{RESPONDED}:{i}:ketamine"] == at.ketamine_events
        assert people[f"{NOT_RESPONDED}:{i}:ketamine"] == at.ketamine_n - at.ketamine_events
        assert people[f"{RESPONDED}:{i}:control"] == at.control_events
        assert people[f"{NOT_RESPONDED}:{i}:control"] == at.control_n - at.control_events
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels[:3] == ["15 minutes after", "Ketamine: 8 of 12", "Dummy treatment: 3 of 12"]
    assert "8 weeks after" in labels
    assert overlapping_texts(fig) == []


def test_comparison_array_needs_a_time_point():
    with pytest.raises(AnalysisError, match="N 2011 has no time point"):
        comparison_icon_array(TrialFacts("N 2011", "active_placebo", "", ()), legend=GONE)


def test_response_array_words():
    words = describe_response_icon_array(RESPONSE)
    assert words.alt == ("Icon array of 100 people: 58 dark figures had at least half their pain gone, 42 grey "
                         "figures did not; a light band behind people 43 to 75 shows the range of uncertainty.")
    assert "some of these people would have got better anyway, without ketamine" in words.caption


def test_comparison_array_words_say_one_study_and_what_the_active_placebo_is():
    words = describe_comparison_icon_array(TRIAL, 50.0)
    assert words.caption.startswith("One study (N 2011) gave some people ketamine and others a dummy treatment. "
                                    "The dummy treatment was midazolam, a drug that makes people calm and "
                                    "sleepy, so people could not easily tell which drug they had (an active "
                                    "placebo).")
    assert "This is one small study" in words.caption
    assert ("2 and a half hours after, 6 of 12 and 2 of 12; 1 week after, 2 of 12 and 0 of 12; "
            "8 weeks after, 2 of 12 and 2 of 12.") in words.alt


# ----------------------------------------------------------------------------- two or more trials

# Made-up trials summed up per time as the summary of findings gives them (tests/test_plain.py's): no one
# on the dummy treatment responded at 1 to 7 days, so the ketamine arms' own share (4 of 24) is drawn.
TRIALS = (TRIAL, TrialFacts("Dunn 2012", "saline_placebo", "saline", (ArmsAt(2.0, 9, 10, 1, 10),)))
COMPARISONS = (ComparisonFacts("during_or_immediate", 2, 3 / 24, 0.56, 0.21, 1.0, 16, 24, 3, 24, "low"),
               ComparisonFacts("short_term", 2, 0.0, math.nan, math.nan, math.nan, 4, 24, 0, 24, "very low"),
               ComparisonFacts("long_term", 1, 1 / 14, 0.09, 0.01, 0.6, 1, 14, 1, 14, "very low"))


def _of_100(share: float) -> int:
    return int(math.floor(100 * share + 0.5))


def _shares(c: ComparisonFacts) -> tuple[float, float]:
    """The shares the key messages say for ``c``: the summary of findings', or the ketamine arms' own
    where no one on the comparison responded."""
    return (c.ketamine_events / c.ketamine_n if math.isnan(c.ketamine_risk) else c.ketamine_risk), c.control_risk


def _check_summed_up(trials, comparisons, threshold=50.0):
    """The figure's people per arm and time are the facts' shares of 100; its words say the same."""
    gone = pain_gone(threshold)
    fig = trials_icon_array(trials, comparisons, legend=(f"had {gone}", "did not"))
    people, texts = _people(fig), [t.get_text() for t in fig.axes[0].texts]
    words = describe_trials_icon_array(trials, comparisons, threshold)
    for i, c in enumerate(comparisons):
        for key, share in zip(("ketamine", "control"), _shares(c)):
            assert people[f"{RESPONDED}:{i}:{key}"] == _of_100(share), (c, key)
            assert people[f"{NOT_RESPONDED}:{i}:{key}"] == 100 - _of_100(share), (c, key)
        ketamine, control = (_of_100(s) for s in _shares(c))
        assert f"{plain.TIME_WORDS[c.window]}" in words.alt.lower()
        assert f"{ketamine} and {control}" in words.alt
        assert f"{ketamine} of 100{'*' if math.isnan(c.ketamine_risk) else ''}" in texts
        assert f"{control} of 100" in texts
        assert plain.TIME_WORDS[c.window] in " ".join(texts).lower()
    assert len(people) == 4 * len(comparisons)  # nothing else is a person but the legend's symbols
    assert texts[0] == "Out of 100 people like those in the studies"
    assert texts[-2:] == [f"had {gone}", "did not"]  # the legend
    assert min(t.get_fontsize() for t in fig.axes[0].texts) >= MIN_FONT_SIZE
    assert overlapping_texts(fig) == []
    assert "Out of 100 people like those in the studies" in words.caption
    assert "the most likely numbers" in words.caption
    assert plain.banned_words_in(words.caption + " " + words.alt) == []
    assert not any(t.label in words.caption + words.alt for t in trials)  # summed up, no trial named
    return fig, words


def test_summed_up_array_draws_the_shares_of_the_key_messages():
    _check_summed_up(TRIALS, COMPARISONS)


def test_a_time_without_a_responder_on_the_comparison_draws_and_says_the_ketamine_arms_own_share():
    fig, words = _check_summed_up(TRIALS, COMPARISONS)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "17 of 100*" in texts and "0 of 100" in texts  # 4 of 24 people with ketamine, none with the dummy
    assert " ".join(texts).count("* No one on the dummy treatment had at least half their pain gone then") == 1
    assert ("After 1 to 7 days: about 17 with ketamine and none with the dummy treatment; as no one on the dummy "
            "treatment had at least half their pain gone then, the number with ketamine is the share in the "
            "studies' ketamine groups (4 of 24 people).") in words.caption
    # the others have no mark
    assert "56 of 100" in texts and "9 of 100" in texts


def test_summed_up_array_needs_a_time():
    with pytest.raises(AnalysisError, match="no time with ketamine and a comparison treatment"):
        trials_icon_array(TRIALS, (), legend=GONE)


def test_summed_up_array_refuses_a_share_outside_0_to_1():
    wrong = ComparisonFacts("during_or_immediate", 2, 0.1, 1.4, 0.2, 1.0, 16, 24, 3, 24, "low")
    with pytest.raises(AnalysisError, match="must lie between 0 and 1"):
        trials_icon_array(TRIALS, (wrong,), legend=GONE)


@pytest.fixture(scope="module", params=[0, 1, 3], ids=["frozen data", "one more trial", "three more trials"])
def layer(request, tmp_path_factory):
    """The plain layer of the frozen data with none, one or three synthetic trials (tests/test_plain.py's)."""
    return plain_layer_with(request.param, tmp_path_factory)


def test_the_index_draws_one_trial_person_by_person_and_more_summed_up(layer):
    trials, comparisons, response = layer["trials"], layer["comparisons"], layer["response"]
    pictures = comparison_pictures(trials, comparisons, response)
    assert len(pictures) == 1  # one figure, whatever the number of trials
    fig, name, words = pictures[0]
    if len(trials) == 1:  # today's figure and words, unchanged
        (trial,) = trials
        assert name == "00_icons_trial_1"
        assert words == describe_comparison_icon_array(trial, response.threshold_percent)
        assert _people(fig) == _people(comparison_icon_array(trial, legend=GONE))
        return
    assert name == "00_icons_trials"
    assert words == describe_trials_icon_array(trials, comparisons, response.threshold_percent)
    _check_summed_up(trials, comparisons, response.threshold_percent)
    assert _people(fig) == _people(trials_icon_array(trials, comparisons, legend=GONE))
    # the key messages beside it say the same shares, time by time
    for c in comparisons:
        ketamine, control = (plain.share_words(s) for s in _shares(c))
        assert ketamine in layer["messages"].text and control in layer["messages"].text


def test_a_first_time_without_a_responder_on_the_comparison_is_said_in_its_sentence():
    first = ComparisonFacts("during_or_immediate", 2, 0.0, math.nan, math.nan, math.nan, 5, 20, 0, 20, "low")
    _, words = _check_summed_up(TRIALS, (first, COMPARISONS[2]))
    assert words.caption.split(". ")[1] == (
        "Out of 100 people like those in the studies, about 25 who had ketamine and none who had the dummy "
        "treatment had at least half their pain gone in the first 4 hours; as no one on the dummy treatment "
        "had at least half their pain gone then, the number with ketamine is the share in the studies' "
        "ketamine groups (5 of 20 people)")


def test_trials_of_different_kinds_of_comparison_are_named_as_the_key_messages_name_them():
    painkiller = TrialFacts("Eng 2015", "other_analgesic", "morphine", (ArmsAt(1.0, 5, 10, 4, 10),))
    fig, words = _check_summed_up((TRIAL, painkiller), COMPARISONS[:1])
    assert "Other treatment" in [t.get_text() for t in fig.axes[0].texts]
    assert words.caption.startswith("2 studies gave some people ketamine and others another treatment.")
    assert "13 who had the other treatment" in words.caption
