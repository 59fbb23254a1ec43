"""Captions and alt text of the figures, and the HTML figure that carries them (issue 11).

The words are tested against the same result objects the figures draw: every number in an
alt text must be the result's number, formatted (proportions as whole percentages, ratios
with two decimals), so figure, table and sentence cannot disagree.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError
from analysis.data import load_studies
from analysis.review.evidence_base import load_evidence_base
from analysis.review.duration import responders_over_time
from analysis.engine.effect_sizes import effect_sizes
from analysis.present.plots import (
    FigureDescription,
    describe_cumulative_plot,
    describe_duration_plot,
    describe_forest_plot,
    describe_funnel_plot,
    describe_leave_one_out_plot,
    describe_prisma_plot,
    describe_risk_of_bias_plot,
    forest_plot,
    show_figure,
)
from analysis.present.plots.prisma import stage_texts
from analysis.engine.pooling import meta_analysis
from analysis.engine.proportions import pool_proportions
from analysis.engine.sensitivity import cumulative, leave_one_out
from metadat import BCG

DATA = Path(__file__).resolve().parent.parent / "data"

EVENTS, N, LABELS = [8, 17, 13, 11, 8], [11, 29, 34, 17, 12], ["A", "B", "C", "D", "E"]


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %"


@pytest.fixture(scope="module")
def bcg():
    es = effect_sizes(BCG, "RR")
    return meta_analysis(es["yi"], es["vi"], method="REML", measure="RR",
                         labels=BCG["study"])


@pytest.fixture(scope="module")
def rates():
    return pool_proportions(EVENTS, N, method="GLMM", labels=LABELS)


def test_forest_alt_of_a_proportion_gives_the_pooled_percentages(rates):
    alt = describe_forest_plot(rates).alt
    frame = rates.summary_frame()
    pooled = frame.iloc[-1]
    assert alt.startswith("Forest plot of 5 studies, proportion per study from ")
    expected = (f"{pooled['label']}: pooled proportion {_pct(pooled['estimate'])}, 95 % CI "
                f"{_pct(pooled['ci_lb'])} to {_pct(pooled['ci_ub'])}, 95 % prediction interval "
                f"{_pct(pooled['pi_lb'])} to {_pct(pooled['pi_ub'])}.")
    assert alt.endswith(expected)
    studies = frame[frame["row_type"] == "study"].set_index("label")["estimate"]
    assert f"from {_pct(studies.min())} ({studies.idxmin()}) to {_pct(studies.max())} " \
           f"({studies.idxmax()})" in alt


def test_forest_alt_of_a_ratio_is_back_transformed_with_two_decimals(bcg):
    alt = describe_forest_plot(bcg).alt
    rr, lo, hi = np.exp([bcg.estimate, bcg.ci_lb, bcg.ci_ub])
    assert f"pooled risk ratio {rr:.2f}, 95 % CI {lo:.2f} to {hi:.2f}" in alt
    assert f"Forest plot of {bcg.k} studies, risk ratio per study" in alt


def test_forest_description_names_every_model_drawn(bcg):
    equal = meta_analysis(bcg.yi, bcg.vi, method="EE", measure="RR", labels=bcg.labels)
    text = describe_forest_plot([bcg, equal])
    assert "RE Model (REML)" in text.caption and "EE Model" in text.caption
    assert text.alt.count("pooled risk ratio") == 2


def test_forest_of_one_study_gives_no_range():
    one = meta_analysis([0.98], [0.29], measure="RR", labels=["Noppers 2011"])
    alt = describe_forest_plot(one).alt
    assert alt.startswith("Forest plot of 1 study.")
    assert "per study from" not in alt


def test_forest_caption_mentions_the_prediction_row_only_when_drawn(rates, bcg):
    assert "Prediction interval" in describe_forest_plot(rates).caption
    equal = meta_analysis(bcg.yi, bcg.vi, method="EE", measure="RR", labels=bcg.labels)
    assert not math.isfinite(equal.summary_frame()["pi_lb"].iloc[-1])
    assert "Prediction interval" not in describe_forest_plot(equal).caption
    hidden = describe_forest_plot(rates, prediction=False)
    assert "Prediction interval" not in hidden.caption and "prediction" not in hidden.alt


def test_leave_one_out_and_cumulative_alt_give_the_range_of_refits(rates):
    frame = leave_one_out(rates)
    alt = describe_leave_one_out_plot(frame, rates).alt
    proportions = 1 / (1 + np.exp(-frame["estimate"].to_numpy(float)))
    low, high = frame["label"][np.argmin(proportions)], frame["label"][np.argmax(proportions)]
    assert (f"from {_pct(proportions.min())} (omitting {low}) to {_pct(proportions.max())} "
            f"(omitting {high})") in alt
    assert f"With all studies ({rates.model_label}): {_pct(rates.prop)}" in alt
    by_year = cumulative(rates, order=np.arange(5))
    text = describe_cumulative_plot(by_year, rates)
    # the GLMM cannot be fitted to the first study alone: that step has no estimate
    assert "1 refit without an estimate" in text.alt
    assert text.caption.startswith("The pooled estimate as studies are added")


def test_funnel_alt_is_on_the_analysis_scale(rates):
    logit = pool_proportions(EVENTS, N, method="PLO", labels=LABELS).pooled
    alt = describe_funnel_plot(logit).alt
    assert alt.startswith("Funnel plot of 5 studies: estimate on the logit proportion scale")
    assert f"the pooled estimate of the RE Model (REML), {logit.estimate:.2f}, is the vertical line" in alt


def test_duration_alt_gives_each_window():
    duration = responders_over_time(load_studies(DATA / "studies.csv"))
    alt = describe_duration_plot(duration).alt
    for _, row in duration.pooled.iterrows():
        if row["k"] == 0:
            continue
        assert f"{_pct(row['prop'])} (95 % CI {_pct(row['prop_ci_lb'])} to " \
               f"{_pct(row['prop_ci_ub'])})" in alt
    assert alt.count("no study") == int((duration.pooled["k"] == 0).sum())


def test_risk_of_bias_alt_counts_the_studies_drawn():
    studies = load_studies(DATA / "studies.csv")
    alt = describe_risk_of_bias_plot(studies).alt
    reports = studies.drop_duplicates("study_id")
    for tool, name in (("rob2_crossover", "RoB 2 for crossover trials"),
                       ("robins_i", "ROBINS-I (non-randomised)")):
        n = int((reports["rob_tool"] == tool).sum())
        assert f"{name}: {n} studies" in alt
    assert "not_assessed" not in alt


def test_prisma_alt_gives_every_box_with_its_count_and_reasons():
    flow = load_evidence_base(DATA).flow()
    alt = describe_prisma_plot(flow).alt
    for (route, stage), lines in stage_texts(flow).items():
        assert lines[0][:1].lower() + lines[0][1:] in alt, stage
        for reason in lines[1:]:
            assert reason.removeprefix("• ") in alt, reason
    assert "Identification of studies via other methods: records identified from other methods (n = 1 report)" in alt
    assert "_" not in alt


def test_show_figure_saves_and_links_the_svg(rates, tmp_path):
    fig = forest_plot(rates)
    text = describe_forest_plot(rates)
    shown = show_figure(fig, "02_forest", text, figures_dir=tmp_path / "figures")
    assert [p.name for p in shown.files] == ["02_forest.svg", "02_forest.png"]
    assert all(p.stat().st_size > 0 for p in shown.files)
    page = shown._repr_html_()
    assert '<a class="kfm-figure-link" href="figures/02_forest.svg">' in page
    assert f'alt="{text.alt}"' in page
    assert re.search(r'<figcaption><span class="kfm-caption-text">Proportion in each study', page)
    width, height = fig.get_size_inches()
    assert f'width="{round(width * 96)}" height="{round(height * 96)}"' in page


def test_only_a_figure_wider_than_a_phone_says_to_scroll_sideways(rates):
    from analysis.present.plots.display import PHONE_COLUMN_PX
    from analysis.present.plots._style import new_figure

    wide = show_figure(forest_plot(rates), "wide", describe_forest_plot(rates))
    narrow = show_figure(new_figure(3.5, 2), "narrow", FigureDescription("A caption.", "An alt text."))
    assert wide.width > PHONE_COLUMN_PX >= narrow.width
    assert "Scroll the figure sideways" in wide._repr_html_()
    assert "Scroll the figure sideways" not in narrow._repr_html_()
    assert "scroll sideways" not in narrow._repr_html_()  # nor in its label for screen readers


def test_show_figure_without_folder_embeds_the_png(rates):
    shown = show_figure(forest_plot(rates), "preview", describe_forest_plot(rates))
    assert shown.files == () and shown.src.startswith("data:image/png;base64,")
    assert "kfm-figure-link" not in shown._repr_html_()


@pytest.mark.parametrize("name, description, message", [
    ("02_forest.svg", FigureDescription("c", "a"), "without a suffix"),
    ("Forest plot", FigureDescription("c", "a"), "lower-case letters"),
    ("02_forest", "a caption", "must be a FigureDescription"),
    ("02_forest", FigureDescription("c", " "), "must not be empty"),
])
def test_show_figure_refuses_bad_input(rates, name, description, message):
    with pytest.raises(AnalysisError, match=message):
        show_figure(forest_plot(rates), name, description)


def test_alt_text_escapes_in_html(tmp_path):
    text = FigureDescription('A "quoted" <b>caption</b>', "Alt with <script> & 1 number")
    fig = forest_plot(pool_proportions(EVENTS, N, method="PLO", labels=LABELS))
    page = show_figure(fig, "x", text)._repr_html_()
    assert "<script>" not in page and "&lt;b&gt;caption&lt;/b&gt;" in page


def test_figure_descriptions_are_frozen():
    text = FigureDescription("c", "a")
    with pytest.raises(AttributeError):
        text.alt = "b"  # type: ignore[misc]


def test_forest_alt_with_subgroups_gives_each_subtotal_and_the_difference_test():
    """Issue 10: the subgroups' subtotals and the test for subgroup differences, word for word."""
    from analysis.review.plan import AnalysisPlan

    rows = pd.DataFrame({"study_label": list("ABCDE"), "ketamine_events": [8, 8, 17, 13, 11],
                         "ketamine_n": [12, 11, 29, 34, 17],
                         "design": ["parallel", "crossover", "crossover", "single", "single"]})
    by_design = AnalysisPlan(proportion_model="GLMM").pool_rates_by(rows, "design")
    text = describe_forest_plot(by_design.overall, subgroups=by_design)
    assert text.alt == (
        "Forest plot of 5 studies, proportion per study from 38 % (D) to 73 % (B). "
        "parallel (one study, A): no subtotal. "
        "crossover (2 studies): subtotal proportion 63 %, 95 % CI 47 % to 76 %. "
        "single (2 studies): subtotal proportion 49 %, 95 % CI 31 % to 67 %. "
        "Test for subgroup differences: Q = 1.67, df = 2, p = 0.43; I² = 0%. "
        "RE Model (GLMM): pooled proportion 57 %, 95 % CI 44 % to 69 %, "
        "95 % prediction interval 37 % to 75 %.")
    assert "subgroup headings" in text.caption
    assert "subgroup" not in describe_forest_plot(by_design.overall).caption


def test_duration_alt_gives_the_control_arms_word_for_word():
    """Issue 10: every control arm the duration figure draws is in its alt text (issue 22: the window
    pools the earliest time point of A 2011, 8/12 at 15 min, as every page does)."""
    data = pd.DataFrame({
        "study_id": ["a", "a", "a", "b"], "study_label": ["A 2011", "A 2011", "A 2011", "B 2000"],
        "timepoint_hours": [0.25, 2.5, 1344.0, 1.0],
        "time_window": ["during_or_immediate", "during_or_immediate", "long_term", "during_or_immediate"],
        "ketamine_events": [8, 6, 2, 17], "ketamine_n": [12, 12, 12, 29],
        "control_events": [3, 2, 2, None], "control_n": [12, 12, 12, None]})
    text = describe_duration_plot(responders_over_time(data))
    assert text.alt == (
        "Responders after ketamine by time after the infusion. During or within 4 h of the infusion: "
        "ketamine arms 61 % (95 % CI 45 % to 75 %), pooled, 2 studies, control arm of A 2011 "
        "25 % at 15 min (3/12, 95 % CI 5 % to 57 %) and 17 % at 2.5 h (2/12, 95 % CI 2 % to 48 %); "
        "1 to 7 days after: no study; 1 to 4 weeks after: no study; 8 weeks or more after: "
        "ketamine arm 17 % (95 % CI 2 % to 48 %), one study, control arm of A 2011 17 % at 8 weeks "
        "(2/12, 95 % CI 2 % to 48 %).")
    assert "control arm where it has one (open symbols, dashed lines)" in text.caption
    assert "only across adjacent windows that both have data" in text.caption


def test_credible_intervals_are_not_called_confidence_intervals():
    """Issue 22, finding 4: the forest plot's alt text called a posterior's interval "95 % CI"."""
    from frozen_data import frozen_studies
    from analysis.review.plan import AnalysisPlan
    from analysis.present.plots import describe_duration_plot, describe_forest_plot

    studies = frozen_studies()  # the data version whose facts it states
    plan = AnalysisPlan()
    bayes = plan.response_rate(studies)
    described = describe_forest_plot(bayes)
    assert "95 % CrI" in described.alt and "95 % CI" not in described.alt
    assert "posterior predictive interval" in described.alt
    assert "diamond, with its 95 % credible interval" in described.caption
    controlled = plan.controlled(studies)
    both = describe_forest_plot([controlled.primary, controlled.random_effects])
    assert "95 % CrI" in both.alt and "95 % CI" in both.alt
    duration = describe_duration_plot(plan.duration(studies))
    assert "ketamine arms 58 % (95 % CrI" in duration.alt
    glmm = describe_forest_plot(AnalysisPlan(proportion_model="GLMM").response_rate(studies))
    assert "CrI" not in glmm.alt
