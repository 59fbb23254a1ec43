"""Icon arrays, tested through the people they draw (collections by gid) and their words."""

from __future__ import annotations

import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from analysis.engine._errors import AnalysisError
from analysis.present.plain import ArmsAt, ResponseFacts, StudyCount, TrialFacts
from analysis.present.plots import overlapping_texts
from analysis.present.plots.describe import (
    describe_comparison_icon_array,
    describe_response_icon_array,
    icon_array_legend,
)
from analysis.present.plots.icon_array import (
    NOT_RESPONDED,
    RESPONDED,
    UNCERTAIN,
    comparison_icon_array,
    response_icon_array,
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
