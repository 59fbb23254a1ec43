"""Funnel, leave-one-out, cumulative, duration, risk-of-bias and PRISMA figures,
tested through what they draw (positions, counts, texts) rather than that they render."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from analysis import AnalysisError  # noqa: E402
from analysis.review.evidence_base import load_evidence_base  # noqa: E402
from analysis.present.plots.prisma import REASONS_SHOWN, STAGE_TEXT, stage_totals  # noqa: E402
from analysis.review.duration import responders_over_time  # noqa: E402
from analysis.engine.effect_sizes import effect_sizes  # noqa: E402
from analysis.present.plots import (  # noqa: E402
    cumulative_plot,
    duration_plot,
    describe_funnel_plot,
    describe_leave_one_out_plot,
    funnel_plot,
    leave_one_out_plot,
    overlapping_texts,
    prisma_plot,
    risk_of_bias_plot,
)
from analysis.present.plots.risk_of_bias import JUDGEMENTS  # noqa: E402
from analysis.engine.pooling import meta_analysis  # noqa: E402
from analysis.engine.proportions import pool_proportions  # noqa: E402
from analysis.engine.sensitivity import cumulative, leave_one_out  # noqa: E402
from analysis.engine.small_study import trim_and_fill  # noqa: E402
from metadat import BCG  # noqa: E402

#: Positions pass through float64 exp/log and matplotlib's arrays only.
POSITION_TOLERANCE = 1e-12
#: R 4.x: qnorm(c(0.95, 0.975, 0.995)), printed with digits = 16.
R_QNORM = {0.90: 1.644853626951472, 0.95: 1.959963984540054, 0.99: 2.575829303548900}



@pytest.fixture(scope="module")
def bcg():
    es = effect_sizes(BCG, "RR")
    return meta_analysis(es["yi"], es["vi"], measure="RR", labels=list(BCG["study"]))


def _tagged(fig, gid, axes=0):
    return [a for a in fig.axes[axes].get_children() if a.get_gid() == gid]


def _texts(fig, gid):
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_gid() == gid]


# ------------------------------------------------------------------ funnel


def test_funnel_points_are_study_estimates_and_standard_errors(bcg):
    fig = funnel_plot(bcg)
    frame = bcg.summary_frame()
    studies = frame[frame["row_type"] == "study"]
    points = _tagged(fig, "study-point")
    assert len(points) == bcg.k
    x = np.log([p.get_xdata()[0] for p in points])
    y = np.array([p.get_ydata()[0] for p in points])
    np.testing.assert_allclose(x, studies["estimate"], rtol=0, atol=POSITION_TOLERANCE)
    np.testing.assert_allclose(y, studies["se"], rtol=0, atol=POSITION_TOLERANCE)
    (pooled,) = _tagged(fig, "pooled-line")
    np.testing.assert_allclose(np.log(pooled.get_xdata()), [bcg.estimate] * 2, rtol=0,
                               atol=POSITION_TOLERANCE)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert ax.get_ylim()[0] > ax.get_ylim()[1] == 0  # SE 0 at the top, as metafor draws it


@pytest.mark.parametrize("level", [0.90, 0.95, 0.99])
def test_funnel_contours_run_through_null_plus_minus_z_se(bcg, level):
    fig = funnel_plot(bcg, contours=(0.90, 0.95, 0.99))
    (polygon,) = _tagged(fig, f"contour-{level:g}")
    apex, left, right = np.log(polygon.get_xy()[:3, 0])
    se_bottom = polygon.get_xy()[1, 1]
    assert apex == pytest.approx(0.0, abs=POSITION_TOLERANCE)  # refline = 0 (RR = 1)
    assert left == pytest.approx(-R_QNORM[level] * se_bottom, rel=1e-12)
    assert right == pytest.approx(R_QNORM[level] * se_bottom, rel=1e-12)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:4] == ["p > 0.10", "0.05 < p ≤ 0.10", "0.01 < p ≤ 0.05", "p ≤ 0.01"]


def test_funnel_trim_and_fill_points(bcg):
    # metafor 3.8-1: trimfill(rma(yi, vi)) on dat.bcg RR imputes k0 = 1 study on the right.
    tf = trim_and_fill(bcg)
    assert (tf.k0, tf.side) == (1, "right")
    fig = funnel_plot(bcg, trim_and_fill=tf)
    filled = _tagged(fig, "filled-point")
    assert len(filled) == 1
    fit_frame = tf.fit.summary_frame()
    imputed = fit_frame[fit_frame["row_type"] == "study"][tf.filled]
    assert np.log(filled[0].get_xdata()[0]) == pytest.approx(imputed["estimate"].iloc[0],
                                                             abs=POSITION_TOLERANCE)
    assert overlapping_texts(fig) == []


def test_funnel_without_contours_draws_the_pseudo_confidence_funnel(bcg):
    fig = funnel_plot(bcg, contours=None)
    lines = _tagged(fig, "funnel")
    assert len(lines) == 2
    for line in lines:
        x, y = np.log(line.get_xdata()), line.get_ydata()
        assert x[0] == pytest.approx(bcg.estimate, abs=POSITION_TOLERANCE)
        assert abs(x[1] - bcg.estimate) == pytest.approx(R_QNORM[0.95] * y[1], rel=1e-12)


@pytest.mark.parametrize("model", ["REML", "EE"])
def test_funnel_reference_line_is_the_estimate_of_the_model_its_legend_names(model):
    """Issue 10: the vertical line is the pooled estimate of the model the legend names, and
    the contours say what their p-values are against (proportions: the pooled estimate)."""
    events, n = [8, 17, 13, 11, 8], [11, 29, 34, 17, 12]
    plo = pool_proportions(events, n, method="PLO", tau_method=model)
    fig = funnel_plot(plo)
    (line,) = _tagged(fig, "pooled-line")
    np.testing.assert_allclose(line.get_xdata(), [plo.estimate] * 2, rtol=0, atol=POSITION_TOLERANCE)
    legend = fig.axes[0].get_legend()
    assert f"Pooled estimate\n({plo.model_label})" in [t.get_text() for t in legend.get_texts()]
    assert plo.model_label == ("RE Model (REML, PLO)" if model == "REML" else "EE Model (PLO)")
    assert legend.get_title().get_text() == "Contours: a study's p-value\nagainst the pooled estimate"
    caption = describe_funnel_plot(plo).caption
    assert f"({plo.model_label}, logit proportion scale)" in caption and "against the pooled estimate" in caption


def test_funnel_legend_of_a_ratio_says_no_effect_or_the_pseudo_confidence_limits(bcg):
    legend = funnel_plot(bcg).axes[0].get_legend()
    assert legend.get_title().get_text() == "Contours: a study's p-value\nagainst no effect"
    legend = funnel_plot(bcg, contours=None).axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "95% pseudo-confidence\nlimits", "Pooled estimate\n(RE Model (REML))"]


def test_funnel_of_proportions_uses_the_inverse_variance_fit():
    events, n = np.array([4, 9, 2, 6, 3]), np.array([10, 18, 11, 12, 8])
    plo = pool_proportions(events, n, method="PLO")
    fig = funnel_plot(plo)
    assert len(_tagged(fig, "study-point")) == 5
    with pytest.raises(AnalysisError, match="GLMM"):
        funnel_plot(pool_proportions(events, n, method="GLMM"))
    with pytest.raises(AnalysisError, match="between 0 and 1"):
        funnel_plot(plo, contours=(95,))


# ------------------------------------------------------- leave-one-out, cumulative


def test_leave_one_out_rows_match_the_frame(bcg):
    frame = leave_one_out(bcg)
    fig = leave_one_out_plot(frame, bcg)
    assert [t.get_text() for t in _texts(fig, "label:study")] == [
        f"Omitting {s}" for s in BCG["study"]]
    lines = sorted(_tagged(fig, "study-ci"), key=lambda a: a.get_ydata()[0])
    np.testing.assert_allclose(np.log([line.get_xdata()[0] for line in lines]), frame["ci_lb"],
                               rtol=0, atol=POSITION_TOLERANCE)
    np.testing.assert_allclose(np.log([line.get_xdata()[1] for line in lines]), frame["ci_ub"],
                               rtol=0, atol=POSITION_TOLERANCE)
    squares = sorted(_tagged(fig, "study-square"), key=lambda a: a.get_ydata()[0])
    np.testing.assert_allclose(np.log([s.get_xdata()[0] for s in squares]), frame["estimate"],
                               rtol=0, atol=POSITION_TOLERANCE)
    (diamond,) = _tagged(fig, "pooled-diamond")
    np.testing.assert_allclose(np.log(diamond.get_xy()[:3, 0]),
                               [bcg.ci_lb, bcg.estimate, bcg.ci_ub], rtol=0,
                               atol=POSITION_TOLERANCE)
    assert [t.get_text() for t in _texts(fig, "i2:study")] == [f"{v:.1f}" for v in frame["i2"]]
    assert overlapping_texts(fig) == []


def test_cumulative_rows_in_order_added(bcg):
    frame = cumulative(bcg, order=BCG["year"])
    fig = cumulative_plot(frame)
    labels = [t.get_text() for t in _texts(fig, "label:study")]
    assert labels[0] == "+ Aronson 1948" and labels[-1] == "+ TPT Madras 1980"
    assert [t.get_text() for t in _texts(fig, "k:study")] == [str(k) for k in range(1, 14)]
    last = max(_tagged(fig, "study-square"), key=lambda a: a.get_ydata()[0])
    # The last step is the fit of all studies.
    assert np.log(last.get_xdata()[0]) == pytest.approx(bcg.estimate, abs=1e-10)
    assert fig.axes[0].get_xscale() == "log"


def test_glmm_cumulative_plot_is_on_the_proportion_scale_with_its_unfittable_step():
    # The refits are logits (the GLMM's scale); the plot draws them as proportions, like
    # the full fit's diamond, and the one-study step (no GLMM) as a row saying so.
    glmm = pool_proportions([4, 9, 2, 7, 5], [10, 12, 9, 11, 10], labels=list("ABCDE"))
    frame = cumulative(glmm)
    fig = cumulative_plot(frame, glmm)
    assert [t.get_text() for t in _texts(fig, "estimate:study")][0] == "no fit"
    squares = sorted(_tagged(fig, "study-square"), key=lambda a: a.get_ydata()[0])
    assert len(squares) == 4
    expit = 1 / (1 + np.exp(-frame["estimate"].iloc[1:].to_numpy()))
    np.testing.assert_allclose(sorted(s.get_xdata()[0] for s in squares), sorted(expit),
                               rtol=0, atol=POSITION_TOLERANCE)
    (diamond,) = _tagged(fig, "pooled-diamond")
    assert diamond.get_xy()[1, 0] == pytest.approx(glmm.prop, abs=POSITION_TOLERANCE)
    assert overlapping_texts(fig) == []


def test_sensitivity_plot_needs_the_frame_columns():
    with pytest.raises(AnalysisError, match="ci_lb"):
        leave_one_out_plot(pd.DataFrame({"label": ["a"], "estimate": [0.1]}), measure="MD")


# ------------------------------------------------------------------ duration

DURATION = pd.DataFrame(
    {
        "study_id": ["a", "a", "a", "b", "c", "d"],
        "timepoint_hours": [0.5, 2.0, 168.0, 1.0, 2.0, np.nan],
        "time_window": ["during_or_immediate", "during_or_immediate", "short_term",
                        "during_or_immediate", "during_or_immediate", "not_reported"],
        "ketamine_events": [8, 6, 2, 17, 8, 5],
        "ketamine_n": [12, 12, 12, 29, 11, 10],
    }
)


@pytest.fixture(scope="module")
def duration():
    return responders_over_time(DURATION)


def test_duration_by_window_draws_each_study_point_and_the_pooled_window(duration):
    fig = duration_plot(duration)
    studies = duration.studies[duration.studies["time_window"] != "not_reported"]
    points = [a for a in fig.axes[0].get_children()
              if str(a.get_gid()).startswith("study-point:")]
    assert len(points) == len(studies) == 5
    drawn = sorted(p.get_ydata()[0] for p in points)
    np.testing.assert_allclose(drawn, sorted(studies["proportion"]), rtol=0,
                               atol=POSITION_TOLERANCE)
    # Pooled only where k >= 2 (the short-term window has one study: drawn as itself).
    pooled = duration.pooled.set_index("time_window")
    (diamond,) = _tagged(fig, "pooled-diamond:during_or_immediate")
    assert diamond.get_xy()[0, 1] == pytest.approx(pooled.loc["during_or_immediate", "prop"])
    (ci,) = _tagged(fig, "pooled-ci:during_or_immediate")
    np.testing.assert_allclose(ci.get_ydata(), pooled.loc["during_or_immediate",
                                                           ["prop_ci_lb", "prop_ci_ub"]],
                               rtol=0, atol=POSITION_TOLERANCE)
    assert _tagged(fig, "pooled-diamond:short_term") == []
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "≤ 4 h", "1–7 days", "1–4 weeks", "≥ 8 weeks"]
    (note,) = _texts(fig, "not-drawn")
    assert note.get_text() == "Not drawn (no protocol window): d"
    assert overlapping_texts(fig) == []


def test_duration_by_hours_on_a_log_axis(duration):
    fig = duration_plot(duration.to_frame(), x="hours")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    (line,) = _tagged(fig, "study-line:a")
    np.testing.assert_allclose(line.get_xdata(), [0.5, 2.0, 168.0])
    (band,) = _tagged(fig, "pooled-band:during_or_immediate")
    pooled = duration.pooled.set_index("time_window").loc["during_or_immediate"]
    assert band.get_y() == pytest.approx(pooled["prop_ci_lb"])
    assert band.get_y() + band.get_height() == pytest.approx(pooled["prop_ci_ub"])
    assert overlapping_texts(fig) == []
    with pytest.raises(AnalysisError, match="x='days'"):
        duration_plot(duration, x="days")


CONTROLLED = pd.DataFrame(
    {
        "study_id": ["a", "a", "a", "a", "b"],
        "timepoint_hours": [0.25, 2.5, 168.0, 1344.0, 1.0],
        "time_window": ["during_or_immediate", "during_or_immediate", "short_term", "long_term",
                        "during_or_immediate"],
        "ketamine_events": [8, 6, 2, 2, 17], "ketamine_n": [12, 12, 12, 12, 29],
        "control_events": [3, 2, 0, 2, np.nan], "control_n": [12, 12, 12, 12, np.nan],
    }
)


def test_duration_draws_control_arms_as_their_own_series():
    """Issue 10: the duration figure shows control arms, apart from ketamine arms in greyscale
    too (open symbols, dashed lines) and named in the legend."""
    for x in ("window", "hours"):
        fig = duration_plot(responders_over_time(CONTROLLED), x=x)
        controls = _tagged(fig, "control-point:a")
        np.testing.assert_allclose(sorted(p.get_ydata()[0] for p in controls),
                                   sorted([3 / 12, 2 / 12, 0, 2 / 12]), rtol=0, atol=POSITION_TOLERANCE)
        assert _tagged(fig, "control-point:b") == []  # b has no control arm
        ketamine, control = _tagged(fig, "study-point:a")[0], controls[0]
        assert ketamine.get_marker() == control.get_marker()  # one symbol per study
        assert control.get_markerfacecolor() == "white" != ketamine.get_markerfacecolor()
        (study_line, *_), (control_line, *_) = _tagged(fig, "study-line:a"), _tagged(fig, "control-line:a")
        assert study_line.get_linestyle() == "-" and control_line.get_linestyle() == "--"
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][-3:-1] == [
            "Ketamine arm", "Control arm"]
        xs = [p.get_xdata()[0] for p in _tagged(fig, "study-point:a") + controls]
        assert len(set(xs)) == len(xs)  # no control point hides its ketamine point
        assert overlapping_texts(fig) == []


@pytest.mark.parametrize("x", ["window", "hours"])
def test_duration_lines_break_across_a_window_without_data(x):
    """Issue 10: no line is drawn across a window where a study arm has no data (here 1-4
    weeks): the runs are <= 4 h to 1-7 days, and >= 8 weeks alone (no line)."""
    fig = duration_plot(responders_over_time(CONTROLLED), x=x)
    for tag in ("study-line:a", "control-line:a"):
        (line,) = _tagged(fig, tag)
        points = sorted(p.get_xdata()[0] for p in _tagged(fig, tag.replace("line", "point")))
        # 15 min, 2.5 h and 1 week are joined; the 8-week point stands alone
        np.testing.assert_allclose(line.get_xdata(), points[:3], rtol=0, atol=POSITION_TOLERANCE)


# ------------------------------------------------------------------ risk of bias

ROB = pd.DataFrame(
    {
        "study_label": ["Alpha 2001", "Alpha 2001", "Beta 2005", "Gamma 2010", "Case 2016"],
        "rob_tool": ["rob2", "rob2", "rob2", "robins_i", "not_assessed"],
        "rob_randomisation": ["low", "low", "high", "not_applicable", "not_applicable"],
        "rob_missing_data": ["some_concerns", "some_concerns", "low", "serious",
                             "not_applicable"],
        "rob_confounding": ["not_applicable", "not_applicable", "not_applicable", "critical",
                            "not_applicable"],
        "rob_overall": ["some_concerns", "some_concerns", "high", "critical", "not_applicable"],
        "rob_overall_reason": ["x", "x", "y", "z", ""],
    }
)


def test_traffic_lights_one_circle_per_applicable_judgement():
    fig = risk_of_bias_plot(ROB)
    circles = [p for ax in fig.axes for p in ax.patches if str(p.get_gid()).startswith("rob:")]
    gids = sorted(c.get_gid() for c in circles)
    assert gids == sorted([
        "rob:Alpha 2001:rob_randomisation", "rob:Alpha 2001:rob_missing_data",
        "rob:Alpha 2001:rob_overall", "rob:Beta 2005:rob_randomisation",
        "rob:Beta 2005:rob_missing_data", "rob:Beta 2005:rob_overall",
        "rob:Gamma 2010:rob_missing_data", "rob:Gamma 2010:rob_confounding",
        "rob:Gamma 2010:rob_overall"])
    by_gid = {c.get_gid(): c for c in circles}
    assert matplotlib.colors.to_hex(by_gid["rob:Beta 2005:rob_overall"].get_facecolor()) == \
        JUDGEMENTS["high"][0].lower()
    symbols = sorted(t.get_text() for t in fig.findobj(matplotlib.text.Text)
                     if str(t.get_gid()).startswith("symbol:"))
    assert symbols == sorted(["+", "−", "−", "×", "+", "×", "×", "!", "!"])
    titles = [t.get_text() for t in _texts(fig, "block-title")]
    assert titles == ["RoB 2 (randomised, parallel)", "ROBINS-I (non-randomised)"]
    assert overlapping_texts(fig) == []


def test_summary_bars_give_the_share_of_studies_per_judgement():
    fig = risk_of_bias_plot(ROB)
    summary = [ax for ax in fig.axes if ax.get_gid() == "summary:rob2"][0]
    widths = {p.get_gid(): p.get_width() for p in summary.patches}
    assert widths == {"bar:rob_randomisation:low": 50.0, "bar:rob_randomisation:high": 50.0,
                      "bar:rob_missing_data:low": 50.0,
                      "bar:rob_missing_data:some_concerns": 50.0,
                      "bar:rob_overall:some_concerns": 50.0, "bar:rob_overall:high": 50.0}
    labels = [t.get_text() for t in summary.get_yticklabels()]
    assert labels == ["D1  Randomisation process", "D2  Missing outcome data", "Overall"]
    robins = [ax for ax in fig.axes if ax.get_gid() == "summary:robins_i"][0]
    assert [t.get_text() for t in robins.get_yticklabels()] == [
        "D1  Confounding", "D2  Missing outcome data", "Overall"]


def test_risk_of_bias_refuses_inconsistent_or_unknown_judgements():
    clash = ROB.copy()
    clash.loc[1, "rob_overall"] = "high"
    with pytest.raises(AnalysisError, match="Alpha 2001"):
        risk_of_bias_plot(clash)
    unknown = ROB.assign(rob_overall=["good"] * 5)
    with pytest.raises(AnalysisError, match="'good'"):
        risk_of_bias_plot(unknown)


# ------------------------------------------------------------------ PRISMA

PRISMA = pd.DataFrame(
    {
        "stage": ["identified_databases", "identified_other_sources", "duplicates_removed",
                  "duplicates_removed", "records_screened", "excluded_at_screening",
                  "reports_sought_for_retrieval", "reports_sought_for_retrieval",
                  "reports_not_retrieved", "reports_assessed_for_eligibility",
                  "reports_assessed_for_eligibility", "reports_excluded", "reports_excluded",
                  "included_qualitative_synthesis", "included_reports",
                  "included_quantitative_synthesis"],
        "route": ["databases_registers", "other_methods", "databases_registers",
                  "databases_registers", "databases_registers", "databases_registers",
                  "databases_registers", "other_methods", "other_methods", "databases_registers",
                  "other_methods", "databases_registers", "other_methods", "", "", ""],
        "count": [40, 2, 10, 5, 25, 15, 10, 2, 1, 10, 1, 4, 0, 6, 7, 1],
        "unit": ["records", "reports", "records", "records", "reports", "reports", "reports",
                 "reports", "reports", "reports", "reports", "reports", "reports", "studies",
                 "reports", "studies"],
        "reason_label": ["", "Citation searching", "Same address", "Mirror copy (same report)", "",
                         "Off-topic: no ketamine, or not fibromyalgia", "", "",
                         "Not held: the library's copy is lost", "", "",
                         "Mixed population (pain clinics); no fibromyalgia-only data", "", "", "", ""],
    }
)


def _box_texts(fig) -> dict[str, str]:
    return {t.get_gid()[5:]: t.get_text() for t in fig.texts if str(t.get_gid()).startswith("text:")}


def _flat(text: str) -> str:
    """A box's text with the line breaks of wrapping undone."""
    return " ".join(text.split())


def test_prisma_has_two_columns_with_their_boxes_and_counts():
    fig = prisma_plot(PRISMA)
    text = {key: _flat(value) for key, value in _box_texts(fig).items()}
    assert text["heading:databases_registers"] == "Identification of studies via databases and registers"
    assert text["heading:other_methods"] == "Identification of studies via other methods"
    db, other = "databases_registers:", "other_methods:"
    assert text[db + "duplicates_removed"] == ("Records removed before screening: duplicates (n = 15 records) "
                                               "• Same address (n = 10) • Mirror copy (same report) (n = 5)")
    assert text[db + "records_screened"] == "Records screened (n = 25 reports)"
    assert text[other + "reports_sought_for_retrieval"] == "Reports sought for retrieval (n = 2 reports)"
    assert text[other + "reports_not_retrieved"] == ("Reports not retrieved (n = 1 report) "
                                                     "• Not held: the library's copy is lost (n = 1)")
    assert text[other + "reports_excluded"] == "Reports excluded (n = 0 reports)"
    assert text["included:included_qualitative_synthesis"] == (
        "Studies included in review (n = 6 studies) Reports of included studies (n = 7 reports)")
    # a count is never split across lines
    assert all("(n =\n" not in t and "(n = 1\n" not in t for t in _box_texts(fig).values())
    # the other-methods column sits to the right of the databases column, at the same heights
    boxes = {p.get_gid()[4:]: p for p in fig.axes[0].patches if str(p.get_gid()).startswith("box:")}
    left, right = boxes[db + "reports_sought_for_retrieval"], boxes[other + "reports_sought_for_retrieval"]
    assert right.get_x() > boxes[db + "excluded_at_screening"].get_x() > left.get_x()
    assert right.get_y() + right.get_height() == pytest.approx(left.get_y() + left.get_height())
    # down each column (4 + 2, and 1 into the pooled box), to each side box (5), and the elbow
    # from the other-methods column into the included studies
    assert len([p for p in fig.axes[0].patches if p.get_gid() == "arrow"]) == 13
    assert overlapping_texts(fig) == []


def test_prisma_prints_reasons_with_their_punctuation():
    text = _flat("\n".join(_box_texts(prisma_plot(PRISMA)).values()))
    for reason, n in (("Off-topic: no ketamine, or not fibromyalgia", 15), ("Not held: the library's copy is lost", 1),
                      ("Mixed population (pain clinics); no fibromyalgia-only data", 4),
                      ("Mirror copy (same report)", 5)):
        assert f"• {reason} (n = {n})" in text, reason


def test_prisma_from_the_project_data():
    flow = load_evidence_base().flow()
    fig = prisma_plot(flow)
    text = {key: _flat(value) for key, value in _box_texts(fig).items()}
    everything = " ".join(text.values())
    for row in stage_totals(flow).itertuples():
        unit = row.unit if row.count != 1 else ("study" if row.unit == "studies" else row.unit[:-1])
        count = f"{STAGE_TEXT[row.stage]} (n = {row.count} {unit})"
        if row.route:
            assert text[f"{row.route}:{row.stage}"].startswith(count)
        assert count in everything
    for reason in flow["reason_label"][flow["stage"].isin(REASONS_SHOWN)]:
        assert not reason or f"• {reason} (n = " in everything, reason
    assert overlapping_texts(fig) == []


def test_prisma_refuses_unknown_stages():
    with pytest.raises(AnalysisError, match="unknown PRISMA stages"):
        prisma_plot(pd.DataFrame({"stage": ["found"], "count": [1], "unit": ["records"]}))


def test_funnel_of_logit_proportions_is_drawn_on_the_logit_scale():
    events, n = np.array([4, 9, 2, 6, 3]), np.array([10, 18, 11, 12, 8])
    plo = pool_proportions(events, n, method="PLO")
    fig = funnel_plot(plo)
    assert fig.axes[0].get_xlabel() == "Logit proportion"
    frame = plo.pooled.summary_frame()
    x = sorted(p.get_xdata()[0] for p in _tagged(fig, "study-point"))
    np.testing.assert_allclose(x, sorted(frame.loc[frame["row_type"] == "study", "estimate"]),
                               rtol=0, atol=POSITION_TOLERANCE)
    (polygon,) = _tagged(fig, "contour-0.95")
    assert polygon.get_xy()[0, 0] == pytest.approx(plo.pooled.estimate, abs=POSITION_TOLERANCE)


def test_freeman_tukey_refits_are_drawn_with_their_own_sample_sizes():
    # Issue 23: '-p proportion_model PFT' stopped notebook 05, because a PFT refit cannot be
    # back-transformed without the sample sizes of its studies; each refit now carries its
    # own natural() values, and the plot and its description draw those.
    pft = pool_proportions([4, 9, 2, 7, 5], [10, 12, 9, 11, 30], method="PFT",
                           labels=list("ABCDE"))
    frame = leave_one_out(pft)
    fig = leave_one_out_plot(frame, pft)
    squares = sorted(_tagged(fig, "study-square"), key=lambda a: a.get_ydata()[0])
    np.testing.assert_allclose([s.get_xdata()[0] for s in squares],
                               [pft.subset([j for j in range(5) if j != i]).prop for i in range(5)],
                               rtol=0, atol=POSITION_TOLERANCE)
    (diamond,) = _tagged(fig, "pooled-diamond")
    assert diamond.get_xy()[1, 0] == pytest.approx(pft.prop, abs=POSITION_TOLERANCE)
    assert "omitting" in describe_leave_one_out_plot(frame, pft).alt
    assert cumulative_plot(cumulative(pft), pft) is not None
