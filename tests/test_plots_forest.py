"""Forest plots are tested through what they draw: rows, labels, interval ends, diamonds.

Positions are read back from the artists (tagged with ``gid``) and compared with
the result's ``summary_frame()``; nothing here re-derives a statistic.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from analysis import AnalysisError  # noqa: E402
from analysis.engine.effect_sizes import effect_sizes  # noqa: E402
from analysis.present.plots import forest_plot, overlapping_texts, save_figure  # noqa: E402
from analysis.present.plots._style import MIN_FONT_SIZE, visible_texts  # noqa: E402
from analysis.engine.pooling import meta_analysis  # noqa: E402
from analysis.engine.proportions import pool_proportions  # noqa: E402
from metadat import BCG  # noqa: E402

#: Positions go through float64 exp/log and matplotlib's data arrays only.
POSITION_TOLERANCE = 1e-12



def _fit(method="REML", data=BCG):
    es = effect_sizes(data, "RR")
    return meta_analysis(es["yi"], es["vi"], method=method, measure="RR",
                         labels=list(data["study"]))


def _texts(fig, gid):
    return [t for t in fig.texts if t.get_gid() == gid]


def _lines(fig, gid):
    return [a for a in fig.axes[0].get_children() if a.get_gid() == gid]


@pytest.fixture(scope="module")
def bcg_re():
    return _fit("REML")


@pytest.fixture(scope="module")
def bcg_fig(bcg_re):
    return forest_plot([bcg_re, _fit("EE")])


def test_one_row_per_study_with_labels_in_order(bcg_re, bcg_fig):
    assert [t.get_text() for t in _texts(bcg_fig, "label:study")] == list(BCG["study"])
    assert len(_lines(bcg_fig, "study-ci")) == bcg_re.k
    assert len(_lines(bcg_fig, "study-square")) == bcg_re.k
    assert [t.get_text() for t in _texts(bcg_fig, "label:pooled")] == ["RE Model (REML)",
                                                                        "EE Model"]


def test_ci_ends_and_squares_are_the_summary_frame_values(bcg_re, bcg_fig):
    frame = bcg_re.summary_frame()
    studies = frame[frame["row_type"] == "study"]
    lines = sorted(_lines(bcg_fig, "study-ci"), key=lambda a: a.get_ydata()[0])
    squares = sorted(_lines(bcg_fig, "study-square"), key=lambda a: a.get_ydata()[0])
    drawn_lb = np.log([line.get_xdata()[0] for line in lines])
    drawn_ub = np.log([line.get_xdata()[1] for line in lines])
    np.testing.assert_allclose(drawn_lb, studies["ci_lb"], rtol=0, atol=POSITION_TOLERANCE)
    np.testing.assert_allclose(drawn_ub, studies["ci_ub"], rtol=0, atol=POSITION_TOLERANCE)
    np.testing.assert_allclose(np.log([s.get_xdata()[0] for s in squares]), studies["estimate"],
                               rtol=0, atol=POSITION_TOLERANCE)
    # The square of each study sits on its own CI line.
    assert [s.get_ydata()[0] for s in squares] == [line.get_ydata()[0] for line in lines]


def test_squares_grow_with_weight(bcg_re, bcg_fig):
    squares = sorted(_lines(bcg_fig, "study-square"), key=lambda a: a.get_ydata()[0])
    sizes = np.array([s.get_markersize() for s in squares])
    order = np.argsort(bcg_re.weights)
    assert np.all(np.diff(sizes[order]) >= -1e-9)
    # Area proportional to weight (above the 3 pt floor).
    big = sizes > 3
    ratio = sizes[big] ** 2 / bcg_re.weights[big]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)


def test_diamond_vertices_are_pooled_estimate_and_ci(bcg_re, bcg_fig):
    diamonds = _lines(bcg_fig, "pooled-diamond")
    assert len(diamonds) == 2
    top = min(diamonds, key=lambda d: d.get_xy()[0, 1])
    x = np.log(top.get_xy()[:4, 0])
    expected = [bcg_re.ci_lb, bcg_re.estimate, bcg_re.ci_ub, bcg_re.estimate]
    np.testing.assert_allclose(x, expected, rtol=0, atol=POSITION_TOLERANCE)


def test_estimate_text_matches_metafor_print(bcg_fig):
    # metafor 3.8-1: rma(yi, vi, data=escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg,
    # data=dat.bcg)) prints estimate -0.7145, ci -1.0669 .. -0.3622, pi -1.8667 .. 0.4376;
    # exp() of these to 2 decimals.
    pooled = [t.get_text() for t in _texts(bcg_fig, "estimate:pooled")]
    assert pooled[0] == "0.49 [0.34, 0.70]"
    assert [t.get_text() for t in _texts(bcg_fig, "estimate:prediction")] == ["[0.15, 1.55]"]


def test_glmm_heterogeneity_line_shows_the_likelihood_ratio_test_like_the_narrative():
    from analysis.present.narrative import describe_heterogeneity
    from analysis.present.plots.forest import heterogeneity_text
    from analysis.engine.proportions import pool_proportions

    glmm = pool_proportions([8, 11, 13, 17, 8], [12, 17, 34, 29, 11])
    line = heterogeneity_text(glmm)
    sentence = describe_heterogeneity(glmm)
    # the same statistic under the same name, and the same p-value text, in figure and sentence
    assert f"LRT = {glmm.q_lrt:.2f}, df = 4, p = 0.15" in line
    assert f"LRT = {glmm.q_lrt:.2f} on 4 degrees of freedom, p = 0.15" in sentence
    assert "Q =" not in line.replace("LRT =", "") and "Q =" not in sentence.replace("LRT =", "")


@pytest.mark.parametrize("method, header", [("GLMM", "Proportion [95% CI]"),
                                            ("BAYES", "Proportion [95% CI; pooled CrI]")])
def test_the_interval_header_names_a_posteriors_credible_interval(method, header):
    fit = pool_proportions([8, 11, 13, 17, 8], [12, 17, 34, 29, 11], method=method)
    texts = [t.get_text() for t in visible_texts(forest_plot(fit))]
    assert header in texts


def test_a_p_value_reads_the_same_in_the_figure_and_the_sentence():
    """Issue 9: "p = 0.04" in the text beside "p = 0.042" in the figure."""
    from analysis.present.narrative import describe_heterogeneity
    from analysis.present.plots.forest import heterogeneity_text
    from analysis.engine.pooling import meta_analysis

    res = meta_analysis([0.1, 0.3, 0.35, 0.65], [0.01, 0.02, 0.015, 0.03], method="DL")
    assert 0.04 < res.q_p < 0.045
    assert "p = 0.043" in heterogeneity_text(res)
    assert "p = 0.043" in describe_heterogeneity(res)


def test_heterogeneity_line_word_for_word(bcg_fig):
    # metafor 3.8-1 on dat.bcg (REML): tau^2 0.3132, I^2 92.22%, Q(df = 12) = 152.2330, p < .0001.
    notes = [t.get_text() for t in _texts(bcg_fig, "note")]
    assert notes == ["Heterogeneity: τ² = 0.313; I² = 92%; Q = 152.23, df = 12, p < 0.001"]


def test_prediction_interval_bar_ends(bcg_re, bcg_fig):
    (bar,) = _lines(bcg_fig, "prediction-interval")
    np.testing.assert_allclose(np.log(bar.get_xdata()), [bcg_re.pi_lb, bcg_re.pi_ub], rtol=0,
                               atol=POSITION_TOLERANCE)


def test_no_prediction_bar_for_a_fixed_effect_model():
    fig = forest_plot(_fit("EE"))
    assert _lines(fig, "prediction-interval") == []


def test_ratio_measure_on_log_axis_with_natural_tick_labels(bcg_fig):
    ax = bcg_fig.axes[0]
    assert ax.get_xscale() == "log"
    bcg_fig.canvas.draw()
    locations = ax.get_xticks()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "1" in labels
    # Each label is the natural-scale value at its position (0.5 at 0.5, not at log 0.5).
    np.testing.assert_allclose([float(text) for text in labels], locations, rtol=1e-12)
    (null,) = _lines(bcg_fig, "null-line")
    assert null.get_xdata()[0] == 1.0


def test_weight_column_shows_each_fits_weights(bcg_re, bcg_fig):
    shown = [t.get_text() for t in _texts(bcg_fig, "weight0:study")]
    assert shown == [f"{w:.1f}%" for w in bcg_re.weights]
    headers = [t.get_text() for t in bcg_fig.texts if t.get_gid().startswith("header:weight")]
    assert headers == ["Weight\n(RE)", "Weight\n(FE)"]


def test_favours_labels_sit_either_side_of_the_null_line(bcg_fig):
    bcg_fig.canvas.draw()
    renderer = bcg_fig.canvas.get_renderer()
    (left,), (right,) = _texts(bcg_fig, "favours-left"), _texts(bcg_fig, "favours-right")
    assert (left.get_text(), right.get_text()) == ("Favours control", "Favours ketamine")
    null_x = bcg_fig.axes[0].transData.transform((1.0, 0))[0]
    assert left.get_window_extent(renderer).x1 < null_x < right.get_window_extent(renderer).x0


def test_favours_direction_is_configurable():
    fig = forest_plot(_fit(), favours=("Favours ketamine", "Favours control"))
    assert _texts(fig, "favours-left")[0].get_text() == "Favours ketamine"
    assert _texts(forest_plot(_fit(), favours=None), "favours-left") == []


def test_intervals_beyond_xlim_end_in_arrows(bcg_re):
    frame = bcg_re.summary_frame()
    studies = frame[frame["row_type"] == "study"]
    lo, hi = 0.2, 2.0
    fig = forest_plot(bcg_re, xlim=(lo, hi))
    expected = int((np.exp(studies["ci_lb"]) < lo).sum() + (np.exp(studies["ci_ub"]) > hi).sum())
    assert expected > 0
    # The prediction interval (0.15 to 1.55) runs off the left end too.
    expected += int(np.exp(bcg_re.pi_lb) < lo) + int(np.exp(bcg_re.pi_ub) > hi)
    assert len(_lines(fig, "ci-arrow")) == expected
    for line in _lines(fig, "study-ci"):
        assert lo <= min(line.get_xdata()) and max(line.get_xdata()) <= hi
    assert fig.axes[0].get_xlim() == (lo, hi)


def test_proportions_on_proportion_scale_with_counts():
    events, n = np.array([4, 9, 2, 6, 0]), np.array([10, 18, 11, 12, 8])
    res = pool_proportions(events, n, method="GLMM", labels=list("ABCDE"))
    fig = forest_plot(res)
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear"
    lo, hi = ax.get_xlim()
    assert 0 <= lo < hi <= 1
    frame = res.summary_frame()
    studies = frame[frame["row_type"] == "study"]
    lines = sorted(_lines(fig, "study-ci"), key=lambda a: a.get_ydata()[0])
    np.testing.assert_allclose([line.get_xdata()[0] for line in lines], studies["ci_lb"],
                               rtol=0, atol=POSITION_TOLERANCE)
    np.testing.assert_allclose([line.get_xdata()[1] for line in lines], studies["ci_ub"],
                               rtol=0, atol=POSITION_TOLERANCE)
    assert [t.get_text() for t in _texts(fig, "counts:study")] == ["4/10", "9/18", "2/11",
                                                                   "6/12", "0/8"]
    (diamond,) = _lines(fig, "pooled-diamond")
    np.testing.assert_allclose(diamond.get_xy()[:3, 0], [res.prop_ci_lb, res.prop, res.prop_ci_ub],
                               rtol=0, atol=POSITION_TOLERANCE)
    # No null line, no favours labels, no weight column (the GLMM has no study weights).
    assert _lines(fig, "null-line") == [] and _texts(fig, "favours-left") == []
    assert not any(t.get_gid().startswith("header:weight") for t in fig.texts)


def test_data_columns_by_position_and_by_label(bcg_re):
    columns = {"BCG\nevents/total": "{ai}/{total}", "Author": "study"}
    data = BCG.assign(total=BCG["ai"] + BCG["bi"])
    fig = forest_plot(bcg_re, data=data, columns=columns)
    shown = [t.get_text() for t in _texts(fig, "data:BCG\nevents/total:study")]
    assert shown[0] == "4/123" and len(shown) == 13
    shuffled = data.sample(frac=1, random_state=3)
    fig2 = forest_plot(bcg_re, data=shuffled, columns=columns, label_column="study")
    assert [t.get_text() for t in _texts(fig2, "data:BCG\nevents/total:study")] == shown


def test_missing_values_print_blank():
    data = BCG.assign(route=["IV"] * 12 + [None])
    fig = forest_plot(_fit(), data=data, columns={"Route": "route", "x": "{route}!"})
    assert [t.get_text() for t in _texts(fig, "data:Route:study")] == ["IV"] * 12
    assert len(_texts(fig, "data:x:study")) == 12


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"columns": {"Route": "route"}}, "needs data"),
        ({"data": BCG.iloc[:5], "columns": {"Author": "study"}}, "5 rows but the result has 13"),
        ({"data": BCG, "columns": {"Route": "route"}}, "'route'"),
        ({"xlim": (2, 1)}, "increasing"),
        ({"xlim": (0, 1)}, "positive on a log axis"),
    ],
)
def test_bad_arguments_say_what_to_fix(bcg_re, kwargs, message):
    with pytest.raises(AnalysisError, match=message):
        forest_plot(bcg_re, **kwargs)


def test_results_of_different_studies_are_refused(bcg_re):
    other = _fit(data=BCG.iloc[:5])
    with pytest.raises(AnalysisError, match="same studies"):
        forest_plot([bcg_re, other])


def test_subgroup_blocks_with_subtotals_and_overall_weights(bcg_re):
    early = BCG.iloc[:6]
    late = BCG.iloc[6:]
    groups = {"Before 1970": _fit(data=early), "1970 and later": _fit(data=late)}
    fig = forest_plot(bcg_re, subgroups=groups)
    assert [t.get_text() for t in _texts(fig, "label:header")] == list(groups)
    assert [t.get_text() for t in _texts(fig, "label:pooled")] == [
        "Subtotal", "Subtotal", "RE Model (REML)"]
    diamonds = sorted(_lines(fig, "pooled-diamond"), key=lambda d: d.get_xy()[0, 1])
    for diamond, res in zip(diamonds, [*groups.values(), bcg_re]):
        np.testing.assert_allclose(np.log(diamond.get_xy()[1, 0]), res.estimate, rtol=0,
                                   atol=POSITION_TOLERANCE)
    # Study weights are the overall fit's; each subtotal shows the sum of its studies'.
    weights = dict(zip(bcg_re.labels, bcg_re.weights))
    pooled_weights = [t.get_text() for t in _texts(fig, "weight0:pooled")]
    assert pooled_weights == [f"{sum(weights[s] for s in early['study']):.1f}%",
                              f"{sum(weights[s] for s in late['study']):.1f}%", "100.0%"]
    assert len(_texts(fig, "note")) == 3


def _long_name_fit(k):
    rng = np.random.default_rng(k)
    labels = [f"Investigator{i} and colleagues {1990 + i % 30}, randomised crossover trial of "
              f"intravenous S(+)-ketamine versus active placebo, cohort {i}" for i in range(k)]
    return meta_analysis(rng.normal(0.2, 0.5, k), rng.uniform(0.02, 0.4, k), measure="OR",
                         labels=labels)


@pytest.mark.parametrize("k", [1, 10, 50])
def test_no_text_overlaps_with_long_names(k):
    fig = forest_plot(_long_name_fit(k), title="Responders at 1 week")
    assert overlapping_texts(fig) == []
    assert len(_texts(fig, "label:study")) == k


def test_height_scales_with_rows_and_fonts_are_readable():
    heights = [forest_plot(_long_name_fit(k)).get_size_inches()[1] for k in (1, 10, 50)]
    assert heights[0] < heights[1] < heights[2]
    fig = forest_plot(_long_name_fit(10))
    fig.canvas.draw()
    assert min(t.get_fontsize() for t in visible_texts(fig)) >= MIN_FONT_SIZE


def test_save_figure_writes_svg_and_200_dpi_png(bcg_fig, tmp_path):
    svg, png = save_figure(bcg_fig, tmp_path / "figures" / "forest_bcg")
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    image = matplotlib.image.imread(png)
    width, height = bcg_fig.get_size_inches()
    # Pixel size is int(inches x 200): within one pixel of the exact product.
    assert abs(image.shape[0] - height * 200) < 1 and abs(image.shape[1] - width * 200) < 1
    with pytest.raises(AnalysisError, match="without suffix"):
        save_figure(bcg_fig, tmp_path / "forest.png")


def test_saved_svg_is_reproducible(bcg_fig, tmp_path):
    first = save_figure(bcg_fig, tmp_path / "a", formats=("svg",))[0].read_bytes()
    second = save_figure(bcg_fig, tmp_path / "b", formats=("svg",))[0].read_bytes()
    assert first == second


def test_smallest_font_size_is_never_below_8_points(bcg_re):
    fig = forest_plot(bcg_re, fontsize=6)
    fig.canvas.draw()
    assert min(t.get_fontsize() for t in visible_texts(fig)) >= MIN_FONT_SIZE == 8.0
    assert overlapping_texts(fig) == []


def test_prediction_row_follows_the_random_effects_diamond(bcg_re, bcg_fig):
    kinds = [t.get_gid().split(":")[1] for t in bcg_fig.texts
             if str(t.get_gid()).startswith("label:")]
    assert kinds[-3:] == ["pooled", "prediction", "pooled"]


def test_one_study_says_heterogeneity_is_not_estimable():
    fig = forest_plot(_long_name_fit(1))
    assert [t.get_text() for t in _texts(fig, "note")] == [
        "Heterogeneity: not estimable with one study"]


def test_subgroups_without_overall_weights_show_each_fits_own_weights():
    # A GLMM has no study weights (metafor defines none for rma.glmm): the subgroup
    # fits' weights are shown and no subtotal or overall weight is invented.
    glmm = pool_proportions([4, 9, 2], [10, 18, 11], labels=["A", "B", "C"])
    plo = pool_proportions([6, 3], [12, 8], labels=["D", "E"], method="PLO")
    overall = pool_proportions([4, 9, 2, 6, 3], [10, 18, 11, 12, 8], labels=list("ABCDE"))
    fig = forest_plot(overall, subgroups={"IV": glmm, "SC": plo})
    study_weights = [t.get_text() for t in _texts(fig, "weight0:study")]
    assert study_weights == [f"{w:.1f}%" for w in plo.weights]
    assert [t.get_text() for t in _texts(fig, "weight0:pooled")] == ["100.0%"]
    assert overlapping_texts(fig) == []


def test_no_overlaps_at_the_saved_resolution():
    # Layout is measured at 100 dpi; PNGs are written at 200 dpi, where font hinting differs.
    fig = forest_plot(_long_name_fit(10), title="Responders at 1 week")
    fig.set_dpi(200)
    assert overlapping_texts(fig, tolerance=1.0) == []


def test_subgroup_analysis_result_draws_blocks_and_the_difference_test(bcg_re):
    from analysis.engine.sensitivity import subgroup_analysis

    groups = ["Before 1970"] * 6 + ["1970 and later"] * 7
    fig = forest_plot(subgroups=subgroup_analysis(bcg_re, groups), results=None)
    assert [t.get_text() for t in _texts(fig, "label:header")] == ["Before 1970",
                                                                   "1970 and later"]
    assert len(_lines(fig, "pooled-diamond")) == 3
    # metafor 3.8-1: rma(c(b1, b2), sei=c(se1, se2), method="FE") over the two REML subgroup
    # fits of dat.bcg rows 1-6 and 7-13 gives QE = 2.129741, p = 0.144465; I² = 53.0459%.
    assert _texts(fig, "note")[-1].get_text() == (
        "Test for subgroup differences: Q = 2.13, df = 1, p = 0.14; I² = 53%")


def test_forest_plot_states_the_test_for_overall_effect_of_its_model(bcg_fig):
    """Issue 10: forest plots as readers expect (RevMan prints the test for overall effect)."""
    from analysis.present.plots.forest import overall_effect_text
    from analysis.engine.pooling import meta_analysis

    shown = [t.get_text() for t in _texts(bcg_fig, "overall-test")]
    assert len(shown) == 1 and shown[0].startswith("Test for overall effect: z = ")
    knha = meta_analysis([0.1, 0.3, 0.35, 0.65], [0.01, 0.02, 0.015, 0.03], test="knha")
    assert overall_effect_text(knha) == f"Test for overall effect: t(3) = {knha.statistic:.2f}, p = 0.061"
    bayes = pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17], method="BAYES")
    assert overall_effect_text(bayes) == ""  # a posterior has no test; the text gives its probabilities


def test_a_proportion_s_test_for_overall_effect_says_what_it_tests_against():
    """A GLMM's z tests logit 0, a response rate of 50%: the line says so; the raw and
    Freeman-Tukey scales' 0 is no proportion to test against, so they print none."""
    from analysis.present.plots.forest import overall_effect_text

    glmm = pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17])
    assert overall_effect_text(glmm) == f"Test for overall effect (against 50%): z = {glmm.statistic:.2f}, p = 0.28"
    for method in ("PFT", "PR"):
        assert overall_effect_text(pool_proportions([8, 17, 8], [12, 29, 11], method=method)) == ""


def test_subgroups_by_design_draw_subtotals_only_where_two_studies_pool():
    """Issue 10: subgroups by design (RevMan): header, studies, a subtotal diamond with its
    heterogeneity line where the subgroup has two or more studies, the overall estimate,
    and the test for subgroup differences; prediction interval of the overall fit only."""
    import pandas as pd

    from analysis.review.plan import AnalysisPlan

    rows = pd.DataFrame({"study_label": list("ABCDE"), "ketamine_events": [8, 8, 17, 13, 11],
                         "ketamine_n": [12, 11, 29, 34, 17],
                         "design": ["parallel", "crossover", "crossover", "single", "single"]})
    by_design = AnalysisPlan(proportion_model="GLMM").pool_rates_by(rows, "design")
    fig = forest_plot(subgroups=by_design, results=None)
    assert [t.get_text() for t in _texts(fig, "label:header")] == ["parallel", "crossover", "single"]
    assert [t.get_text() for t in _texts(fig, "label:pooled")] == [
        "Subtotal", "Subtotal", "RE Model (GLMM)"]
    diamonds = sorted(_lines(fig, "pooled-diamond"), key=lambda d: d.get_xy()[0, 1])
    for diamond, fit in zip(diamonds, [*by_design.fits[1:], by_design.overall], strict=True):
        np.testing.assert_allclose(diamond.get_xy()[1, 0], fit.prop, rtol=0, atol=POSITION_TOLERANCE)
    assert len(_lines(fig, "prediction-interval")) == 1
    notes = [t.get_text() for t in _texts(fig, "note")]
    assert notes[0].startswith("Heterogeneity: τ² = 0; I² = 0%; LRT = 0.70, df = 1")  # crossover
    assert notes[-1] == "Test for subgroup differences: Q = 1.67, df = 2, p = 0.43; I² = 0%"
    assert sum(n.startswith("Heterogeneity") for n in notes) == 3  # two subtotals and overall
    assert len(_texts(fig, "overall-test")) == 3
    assert all("(against 50%)" in t.get_text() for t in _texts(fig, "overall-test"))
    # a Bayesian analysis: posterior subtotals, the test from the GLMM fits and named so
    bayes = forest_plot(subgroups=AnalysisPlan(proportion_model="BAYES").pool_rates_by(rows, "design"),
                        results=None)
    assert _texts(bayes, "note")[-1].get_text() == (
        "Test for subgroup differences (RE Model (GLMM) fits): Q = 1.67, df = 2, p = 0.43; I² = 0%")
    # no weight column: the GLMM has no study weights, a one-study subgroup's "100%" says nothing
    assert not _texts(fig, "weight0:study")
    assert overlapping_texts(fig) == []


def test_weight_columns_of_a_posterior_and_a_frequentist_fit_are_named_apart():
    from analysis.engine.bayesian import bayesian_meta_analysis

    yi, vi, labels = [0.2, 0.5, -0.1], [0.04, 0.09, 0.05], ["A", "B", "C"]
    fig = forest_plot([bayesian_meta_analysis(yi, vi, measure="RR", labels=labels),
                       meta_analysis(yi, vi, measure="RR", labels=labels)])
    headers = [t.get_text() for t in fig.texts if str(t.get_gid()).startswith("header:weight")]
    assert headers == ["Weight\n(Bayesian)", "Weight\n(RE)"]
