"""The multiverse (analysis.review.multiverse, analysis.engine._batched): every row is the plan's own analysis."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError
from analysis.engine._batched import fit_batch, stack
from analysis.data import load_studies
from analysis.review.multiverse import CHOICE_NAMES, Model, default_choices, default_models, multiverse
from analysis.review.plan import AnalysisPlan
from analysis.engine.pooling import meta_analysis
from analysis.review.protocol import UNCONTROLLED_DESIGNS
from analysis.review.selection import response_rate_rows

#: Closed-form models (and the batched tau² solvers, which stop at a relative step of 1e-12)
#: agree with one-by-one calls far below this.
BATCHED_RTOL = 1e-8
#: The GLMM and the Bayesian models are fitted by the one-by-one code itself, once per row set.
ITERATIVE_RTOL = 1e-6
#: Specifications checked against one-by-one plans per outcome (each takes a plan's selection).
SAMPLE = 40


@pytest.fixture(scope="module")
def studies():
    return load_studies()


@pytest.fixture(scope="module")
def rates(studies):
    return multiverse(studies, "response_rate")


@pytest.fixture(scope="module")
def controlled(studies):
    return multiverse(studies, "controlled")


def _one_by_one(universe, studies, specification):
    plan = universe.plan(specification)
    if universe.outcome == "response_rate":
        return plan.response_rate(studies)
    return plan.controlled(studies).primary


def _sample(universe, seed):
    frame = universe.to_frame()
    rng = np.random.default_rng(seed)
    estimable = frame[frame["reason"] == ""]
    chosen = list(rng.choice(estimable["specification"], SAMPLE - 8, replace=False))
    chosen += list(rng.choice(frame.loc[frame["reason"] != "", "specification"], 8, replace=False))
    return sorted(int(i) for i in chosen)


@pytest.mark.parametrize("outcome, seed", [("response_rate", 20261128), ("controlled", 15)])
def test_a_random_sample_of_rows_equals_one_by_one_plans(outcome, seed, rates, controlled, studies):
    universe = rates if outcome == "response_rate" else controlled
    frame = universe.to_frame()
    for specification in _sample(universe, seed):
        row = frame.loc[specification]
        if row["reason"]:
            with pytest.raises(AnalysisError) as error:
                _one_by_one(universe, studies, specification)
            assert str(error.value) == row["reason"]
            assert row["k"] == 0 and math.isnan(row["estimate"])
            continue
        result = _one_by_one(universe, studies, specification)
        natural = result.natural()
        batched = row["method"] is not None and not pd.isna(row["method"])
        rtol = BATCHED_RTOL if batched else ITERATIVE_RTOL
        assert row["k"] == result.k
        assert row["patients"] == result.participants or outcome == "controlled"
        np.testing.assert_allclose([row["estimate"], row["ci_lb"], row["ci_ub"]],
                                   [natural.estimate, natural.ci_lb, natural.ci_ub], rtol=rtol,
                                   err_msg=f"specification {specification}: {row.to_dict()}")


def test_every_combination_of_the_choices_is_a_row(rates, studies):
    frame = rates.to_frame()
    choices = default_choices(studies)
    models = len(choices["model"])
    assert len(frame) % models == 0
    data_choices = [c for c in CHOICE_NAMES["response_rate"] if c not in ("model", "left_out")]
    combos = frame[frame["left_out"].isna()].groupby(data_choices, dropna=False).size()
    assert len(combos) == math.prod(len(choices[c]) for c in data_choices)
    assert (combos == models).all()
    # leaving one out: one row per model for each sample of the specification's rows
    without = frame[frame["left_out"].isna()].drop_duplicates(data_choices)
    assert len(frame) == models * int((1 + without["k"]).sum())
    assert frame["specification"].tolist() == list(range(len(frame)))


def test_the_plans_default_is_one_row_and_equals_the_primary_analysis(rates, controlled, studies):
    row = rates.default_row()
    assert rates.to_frame()["is_default"].sum() == 1
    primary = AnalysisPlan().response_rate(studies).natural()
    assert row["estimate"] == pytest.approx(primary.estimate, rel=ITERATIVE_RTOL)
    assert rates.plan(row["specification"]) == AnalysisPlan()
    comparison = AnalysisPlan().controlled(studies).primary.natural()
    assert controlled.default_row()["ci_ub"] == pytest.approx(comparison.ci_ub, rel=BATCHED_RTOL)


def test_duplicates_point_to_an_identical_earlier_row(rates):
    frame = rates.to_frame()
    duplicates = frame[frame["duplicate_of"].notna()]
    assert len(duplicates) > 0
    first = frame.loc[duplicates["duplicate_of"].astype(int)]
    assert (first["specification"].to_numpy() < duplicates["specification"].to_numpy()).all()
    for column in ("estimate", "ci_lb", "ci_ub", "k", "studies", "model", "reason"):
        left, right = duplicates[column].to_numpy(), first[column].to_numpy()
        assert ((left == right) | (pd.isna(left) & pd.isna(right))).all(), column


def test_rows_without_an_estimate_keep_their_reason(rates):
    frame = rates.to_frame()
    empty = frame[frame["k"] == 0]
    assert len(empty) > 0 and (empty["reason"] != "").all() and empty["estimate"].isna().all()
    assert (frame.loc[frame["reason"] == "", "estimate"].notna()).all()


def test_sides_follow_the_interval_and_the_50_percent_mark(rates):
    rows = rates.estimable()
    above = rows["ci_lb"] > 0.5
    below = rows["ci_ub"] < 0.5
    expected = np.where(above, "above", np.where(below, "below", "includes"))
    assert (rows["side"].to_numpy() == expected).all()
    assert (rows["excludes_reference"] == (above | below)).all()
    assert ((rows["ci_lb"] <= rows["estimate"]) & (rows["estimate"] <= rows["ci_ub"])).all()


def test_summary_reads_the_curve(rates, controlled):
    summary = rates.summary()
    rows = rates.estimable()
    assert summary.specifications == len(rates) and summary.estimable == len(rows)
    assert summary.minimum == rows["estimate"].min() and summary.maximum == rows["estimate"].max()
    assert summary.median == pytest.approx(float(np.median(rows["estimate"])))
    assert summary.above == pytest.approx((rows["side"] == "above").mean())
    assert summary.above + summary.below + summary.includes == pytest.approx(1.0)
    assert summary.reference == 0.5 and summary.is_proportion
    risk_ratios = controlled.summary()
    assert risk_ratios.reference == 1.0 and not risk_ratios.is_proportion
    assert risk_ratios.estimable == (controlled.estimable()["measure"] == "RR").sum()
    assert controlled.summary("RD").reference == 0.0


def test_rank_places_a_specification_on_the_curve(rates):
    curve = rates.curve()
    lowest, highest = curve.iloc[0]["specification"], curve.iloc[-1]["specification"]
    assert rates.rank(lowest)[:2] == (1, len(curve))
    rank, n, higher = rates.rank(highest)
    assert rank == n and higher == 0.0
    middle = curve.iloc[len(curve) // 2]
    assert rates.rank(middle["specification"])[2] == pytest.approx((curve["estimate"] > middle["estimate"]).mean())
    empty = rates.to_frame().query("k == 0")["specification"].iloc[0]
    with pytest.raises(AnalysisError, match="has no estimate"):
        rates.rank(empty)


def test_choices_narrow_the_multiverse(studies):
    universe = multiverse(studies, choices={"time_window": "during_or_immediate", "responder_threshold": [None],
                                            "include_unstated_time": [True], "include_inferred": [True],
                                            "designs": ["all", "controlled"],
                                            "model": [Model("PLO", "DL", "z")], "left_out": [False]})
    frame = universe.to_frame()
    assert len(frame) == 2 and list(frame["designs"]) == ["all", "controlled"]
    assert frame.loc[1, "k"] < frame.loc[0, "k"]
    # the controlled designs' samples of the primary window, counted here from the rows
    rows = response_rate_rows(studies, "during_or_immediate", include_unstated_time=True)
    controlled = rows[~rows["design"].isin(UNCONTROLLED_DESIGNS)]
    assert frame.loc[1, "studies"] == "; ".join(controlled["study_label"])


@pytest.mark.parametrize("outcome, choices, message", [
    ("response_rate", {"windows": ["short_term"]}, "multiverse choice 'windows' does not apply"),
    ("response_rate", {"measure": ["RR"]}, "multiverse choice 'measure' does not apply"),
    ("controlled", {"include_unstated_time": [True]}, "'include_unstated_time' does not apply"),
    ("response_rate", {"time_window": ["later"]}, "time_window='later' is not supported"),
    ("response_rate", {"designs": ["cohorts"]}, "designs='cohorts' is not supported"),
    ("response_rate", {"responder_threshold": [150]}, "responder_threshold=150 must be a percent"),
    ("response_rate", {"left_out": ["yes"]}, "'left_out' takes True or False, not 'yes'"),
    ("response_rate", {"model": ["GLMM"]}, "multiverse model 'GLMM' is not one of the batched models"),
    ("response_rate", {"model": [Model("IV", "DL", "z")]}, "is not one of the batched models"),
    ("response_rate", {"model": [Model("PLO")]}, "PLO needs a tau² method and a test"),
    ("response_rate", {"model": [Model("PLO", "SJ", "z")]}, "method='SJ' is not supported"),
    ("controlled", {"model": [Model("BAYES")]}, "tau_prior_scale belongs to BAYES models only"),
    ("response_rate", {"time_window": []}, "multiverse choice 'time_window' has no values"),
    ("pain", None, "outcome='pain' is not supported"),
])
def test_bad_choices_are_refused_by_name(studies, outcome, choices, message):
    with pytest.raises(AnalysisError, match=message.replace("(", r"\(").replace("²", ".")):
        multiverse(studies, outcome, choices)


def test_default_models_are_the_protocols():
    labels = [model.label for model in default_models()]
    assert labels[0] == "GLMM" and "PFT, PM, Hartung-Knapp" in labels and labels[-1] == "Bayesian, half-normal(1)"
    assert len(labels) == 1 + 2 * 3 * 2 + 2
    assert [m.name for m in default_models("controlled")].count("IV") == 6


# ------------------------------------------------------------ batched fits


def _random_groups(seed, count=200):
    rng = np.random.default_rng(seed)
    groups = []
    for _ in range(count):
        k = int(rng.integers(1, 9))
        tau = rng.choice([0.0, 0.1, 0.5, 1.5])
        vi = rng.uniform(0.005, 2.0, k)
        groups.append((rng.normal(rng.normal(), np.sqrt(vi + tau**2)), vi))
    groups.append((np.array([0.3, 0.3, 0.3]), np.array([0.1, 0.2, 0.3])))  # identical effects: tau² = 0
    return groups


@pytest.mark.parametrize("method, test", list(itertools.product(("DL", "REML", "PM"), ("z", "knha"))))
def test_batched_fits_equal_one_by_one_fits(method, test):
    groups = _random_groups(7)
    fit = fit_batch(*stack(groups), method, test, 0.9)
    for i, (yi, vi) in enumerate(groups):
        single = meta_analysis(yi, vi, method=method, test=test, confidence_level=0.9)
        np.testing.assert_allclose([fit.estimate[i], fit.se[i], fit.ci_lb[i], fit.ci_ub[i]],
                                   [single.estimate, single.se, single.ci_lb, single.ci_ub], rtol=BATCHED_RTOL)
        assert fit.tau2[i] == pytest.approx(single.tau2, rel=BATCHED_RTOL, abs=1e-12)
    assert fit.tau2[-1] == 0.0


def test_batched_fits_refuse_an_empty_row():
    y, v, mask = stack([(np.array([0.1]), np.array([0.2])), (np.array([]), np.array([]))])
    with pytest.raises(AnalysisError, match="at least one study per row"):
        fit_batch(y, v, mask)


# ------------------------------------------------------------ figure, words


def test_the_curve_draws_the_sorted_estimates_and_the_choices(rates):
    from analysis.present.plots import overlapping_texts, specification_curve_plot

    fig = specification_curve_plot(rates)
    top, panel = fig.axes
    curve = rates.curve()
    drawn = next(c for c in top.collections if c.get_gid() == "estimates").get_offsets()
    np.testing.assert_array_equal(drawn[:, 0], np.arange(1, len(curve) + 1))
    np.testing.assert_allclose(drawn[:, 1], np.sort(rates.estimable()["estimate"]))
    intervals = next(c for c in top.collections if c.get_gid() == "intervals").get_segments()
    np.testing.assert_allclose([s[0][1] for s in intervals], curve["ci_lb"])
    default = next(line for line in top.get_lines() if line.get_gid() == "default")
    rank, _, _ = rates.rank(rates.default_row()["specification"])
    assert list(default.get_xdata()) == [rank]
    assert [line.get_ydata()[0] for line in top.get_lines() if line.get_gid() == "reference"] == [0.5]
    labels = [t.get_text() for t in panel.get_yticklabels()]
    assert "Time window: ≤ 4 h" in labels and "Responder threshold: each study's own" in labels
    assert "Sample left out: Noppers 2011" in labels and "Model: GLMM" in labels
    marks = [c for c in panel.collections if c.get_gid() == "choices"]
    windows = [m for m, label in zip(marks, labels) if label.startswith("Time window")]
    assert sum(len(m.get_offsets()) for m in windows) == len(curve)  # each specification has one window
    assert overlapping_texts(fig) == []


def test_the_curve_of_a_ratio_is_on_a_log_axis_with_no_effect_at_1(controlled):
    from analysis.present.plots import specification_curve_plot

    top = specification_curve_plot(controlled).axes[0]
    assert top.get_yscale() == "log" and top.get_ylabel() == "Risk ratio"
    assert [line.get_ydata()[0] for line in top.get_lines() if line.get_gid() == "reference"] == [1.0]


def test_the_figure_words_come_from_the_summary(rates):
    from analysis.present.plots import describe_specification_curve

    described = describe_specification_curve(rates)
    summary = rates.summary()
    default = rates.default_row()
    rank, n, _ = rates.rank(default["specification"])
    assert described.alt.startswith(f"Specification curve of {summary.estimable} specifications with an estimate "
                                    f"(of {len(rates)}): pooled response rate from "
                                    f"{100 * summary.minimum:.0f} % to {100 * summary.maximum:.0f} %")
    assert f"rank {rank} of {n} from the lowest" in described.alt
    assert f"gives {100 * default['estimate']:.0f} %" in described.alt
    assert "the diamond is the plan's primary analysis" in described.caption


def test_the_sentence_word_for_word():
    from analysis.review.multiverse import MultiverseSummary
    from analysis.present.narrative import describe_multiverse

    summary = MultiverseSummary("controlled", 90, 30, 12, 0.8, 5.0, 2.6666, 0.1, 0.0, 0.9, 1.0, False, "RR")
    assert describe_multiverse(summary) == (
        "Across 30 specifications with an estimate (of 90 combinations of the protocol’s analytic choices), "
        "the risk ratio ranged from 0.80 to 5.00 (median 2.67); 10% of the intervals lay above 1.00 "
        "(no difference), 0% below it and 90% included it.")


def test_the_package_exports_the_function(studies):
    import analysis

    universe = analysis.multiverse(studies, choices={"model": [Model("PFT", "PM", "knha")], "left_out": [False]})
    assert set(universe.to_frame()["model"]) == {"PFT, PM, Hartung-Knapp"}


def test_inferred_values_are_a_choice(studies):
    """Issue 20: "stated and computed values only" is a choice of the multiverse, equal to the plan's."""
    universe = multiverse(studies, choices={"time_window": "during_or_immediate", "responder_threshold": [None],
                                            "include_unstated_time": [True], "include_inferred": [True, False],
                                            "designs": ["all"], "model": [Model("BAYES", tau_prior_scale=1.0)],
                                            "left_out": [False]})
    frame = universe.to_frame()
    assert frame["include_inferred"].tolist() == [True, False]
    assert frame["is_default"].tolist() == [True, False]
    # Sörensen 1995's responder count is inferred: leaving inferred values out drops that sample
    k = AnalysisPlan().response_rate(studies).k
    assert frame["k"].tolist() == [k, k - 1] and "Sörensen 1995" not in frame.loc[1, "studies"]
    by_plan = AnalysisPlan(include_inferred=False).response_rate(studies)
    assert frame.loc[1, "estimate"] == pytest.approx(by_plan.natural().estimate, rel=1e-9)
    assert universe.plan(1) == AnalysisPlan(include_inferred=False)
