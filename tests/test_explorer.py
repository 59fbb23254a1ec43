"""The explorer's logic (choices -> plan, what changed, what is shown) and its widget wiring, in-process.

The numbers themselves are the plan's (tested against metafor elsewhere): these tests check
that the explorer asks the plan for the right analysis and says so in the right words. The
browser test (``test_explorer_browser.py``) checks the same through the served app.
"""

from __future__ import annotations

import dataclasses
import html
import itertools

import pytest
from frozen_data import frozen_studies

from analysis.data import DATA_DIR
from analysis.engine._errors import AnalysisError
from analysis.apps.explorer import MODELS, ExplorerState, ModelOption, ModelParameter, describe_changes, explore
from analysis.apps.explorer import compute
from analysis.apps.explorer.choices import DESIGNS, THRESHOLDS, select_designs, study_choices
from analysis.apps.explorer.compute import figure_svg
from analysis.apps.explorer.widgets import Explorer
from analysis.engine.formatting import format_percent
from analysis.review.grade import grade_outcome, load_grade_overrides
from analysis.present.narrative import describe_estimate
from analysis.review.plan import AnalysisPlan
from analysis.review.protocol import NEVER_POOLED_DESIGNS, TIME_WINDOWS, UNCONTROLLED_DESIGNS
from analysis.present.safe_html import markdown_to_html

DATA = DATA_DIR  # data/, or the copy with a synthetic trial (tests/test_new_trial.py)
LABELS = {"noppers2011": "Noppers 2011", "cohen2006": "Cohen 2006"}


@pytest.fixture(scope="module")
def studies():
    from analysis.data import load_studies

    return load_studies(DATA / "studies.csv")


@pytest.fixture(scope="module")
def explorer(studies):
    return Explorer(studies)


# ------------------------------------------------------------------ choices -> plan


@pytest.mark.parametrize("outcome", ["response_rate", "controlled"])
def test_the_primary_choices_are_the_protocols_plan(outcome):
    state = ExplorerState.primary(outcome)
    assert state.plan() == AnalysisPlan()
    assert describe_changes(state) == "Same choices as the protocol's primary analysis."


def test_an_inverse_variance_model_takes_the_estimator_and_test():
    plan = ExplorerState(model="PLO", method="DL", test="knha").plan()
    assert (plan.proportion_model, plan.method, plan.proportion_test) == ("PLO", "DL", "knha")
    assert plan.defaults_differ() == {"proportion_model": "PLO", "method": "DL", "proportion_test": "knha"}


@pytest.mark.parametrize("model", ["GLMM", "BAYES"])
def test_the_glmm_and_the_bayesian_model_ignore_estimator_and_test(model):
    state = ExplorerState(model=model, method="DL", test="knha")
    assert not state.uses_tau2_estimator and not state.uses_test
    assert state.plan() == AnalysisPlan(proportion_model=model)
    assert describe_changes(state) == describe_changes(ExplorerState(model=model))


def test_the_bayesian_comparison_ignores_estimator_and_test():
    state = ExplorerState(outcome="controlled", method="DL", test="z")
    assert state.comparison_model == "BAYES" and not state.uses_tau2_estimator and not state.uses_test
    assert state.plan() == AnalysisPlan()
    assert describe_changes(state) == "Same choices as the protocol's primary analysis."


def test_the_prior_scale_reaches_the_plan_and_the_sentence():
    state = ExplorerState(model_parameters=(("tau_prior_scale", 0.5),))
    assert state.plan().defaults_differ() == {"tau_prior_scale": 0.5}
    assert describe_changes(state) == "Changed from the primary analysis: prior scale of τ 0.5."
    assert ExplorerState(model_parameters=(("tau_prior_scale", 1.0),)) == ExplorerState()


def test_controlled_choices_map_to_the_controlled_plan():
    plan = ExplorerState(outcome="controlled", comparison_model="IV", measure="OR", method="PM", test="z",
                         model="PFT").plan()
    assert plan.defaults_differ() == {"comparison_model": "IV", "measure": "OR", "method": "PM", "test": "z"}


def test_window_threshold_and_studies_reach_the_plan():
    plan = ExplorerState(time_window="long_term", responder_threshold=50.0, exclude=("noppers2011",)).plan()
    assert plan.defaults_differ() == {"time_window": "long_term", "responder_threshold": 50.0,
                                      "exclude": ("noppers2011",)}


def test_describe_changes_names_every_change_word_for_word():
    state = ExplorerState(outcome="controlled", time_window="medium_term", responder_threshold=50.0,
                          designs="randomised", exclude=("noppers2011", "cohen2006"), measure="RD",
                          comparison_model="IV", method="DL", test="z")
    assert describe_changes(state, LABELS) == (
        "Changed from the primary analysis: window 1–4 weeks (primary ≤ 4 h); only rows at a 50% responder "
        "threshold (primary: each study's own); randomised trials only; Cohen 2006, Noppers 2011 left out; "
        "inverse-variance random-effects model (primary Bayesian random-effects model); "
        "measure RD (primary RR); tau² estimator DL (primary REML); test z (normal) test (primary Hartung-Knapp).")


def test_describe_changes_names_the_model_and_its_estimator():
    assert describe_changes(ExplorerState(model="PFT", method="PM", designs="controlled")) == (
        "Changed from the primary analysis: controlled studies only; Freeman-Tukey inverse-variance model "
        "(PFT) (primary Bayesian binomial-normal model); tau² estimator PM (primary REML).")


@pytest.mark.parametrize("choice, message", [
    ({"designs": "rct"}, "designs"),
    ({"model": "MCMC"}, "model"),
    ({"time_window": "one_week"}, "time_window"),
    ({"model": "GLMM", "model_parameters": (("tau_prior_scale", 0.5),)}, "takes no parameter tau_prior_scale"),
    ({"comparison_model": "MCMC", "outcome": "controlled"}, "comparison_model"),
])
def test_bad_choices_are_refused_with_their_name(choice, message):
    with pytest.raises(AnalysisError, match=message):
        ExplorerState(**choice)


# ------------------------------------------------------------------ rows


def test_designs_filters_match_the_plans_sensitivity_subsets(studies):
    plan = AnalysisPlan()
    rows, subsets = plan.response_rate_rows(studies), plan.response_rate_subsets(studies)
    assert list(select_designs(rows, "randomised")["row_id"]) == list(subsets["randomised trials only"]["row_id"])
    assert list(select_designs(rows, "controlled")["row_id"]) == list(
        subsets["uncontrolled studies excluded"]["row_id"])
    assert list(select_designs(rows, "all")["row_id"]) == list(rows["row_id"])
    assert not select_designs(rows, "controlled")["design"].isin(UNCONTROLLED_DESIGNS).any()


def test_the_studies_offered_are_those_that_can_be_pooled(studies):
    offered = study_choices(studies)
    designs = studies.drop_duplicates("study_id").set_index("study_id")["design"]
    assert offered and not designs[list(offered)].isin(NEVER_POOLED_DESIGNS).any()
    primary = set(AnalysisPlan().response_rate_rows(studies)["study_id"])
    assert primary <= set(offered)
    assert offered["noppers2011"] == "Noppers 2011"


# ------------------------------------------------------------------ what is shown


def test_the_primary_exploration_is_the_plans_primary_analysis(studies):
    shown = explore(ExplorerState(), studies)
    primary = AnalysisPlan().response_rate(studies)
    assert shown.result.to_dict() == pytest.approx(primary.to_dict(), rel=0, abs=0, nan_ok=True)
    assert shown.sentence == describe_estimate(primary)
    assert shown.difference == ("Same choices as the protocol's primary analysis. Result as in the primary "
                                "analysis: " + compute.headline(primary) + ".")


def test_leaving_a_study_out_is_the_plans_analysis_without_it(studies):
    shown = explore(ExplorerState(exclude=("noppers2011",)), studies, labels=LABELS)
    expected = AnalysisPlan(exclude=("noppers2011",)).response_rate(studies)
    assert shown.result.to_dict() == pytest.approx(expected.to_dict(), rel=0, abs=0, nan_ok=True)
    assert "Noppers 2011" not in shown.result.labels
    assert shown.difference == (
        "Changed from the primary analysis: Noppers 2011 left out. Result "
        f"{compute.headline(expected)}, against {compute.headline(AnalysisPlan().response_rate(studies))} "
        "in the primary analysis.")


def test_the_controlled_outcome_is_the_plans_primary_model(studies):
    shown = explore(ExplorerState.primary("controlled"), studies)
    expected = AnalysisPlan().controlled(studies).primary
    assert expected.is_bayesian
    assert shown.result.to_dict() == pytest.approx(expected.to_dict(), rel=0, abs=0, nan_ok=True)
    assert shown.sentence == describe_estimate(expected, outcome="responders")


def test_the_grade_row_is_grade_outcome_of_the_same_result(studies):
    shown = explore(ExplorerState(time_window="short_term"), studies)
    expected = grade_outcome("response_rate", shown.result, shown.rows, label="Response rate in ketamine arms",
                             decision_threshold=AnalysisPlan().response_rate_threshold)
    assert shown.grade == expected
    frame = shown.grade_frame()
    assert list(frame.index) == ["Response rate in ketamine arms"]
    assert frame["certainty"].iloc[0] == expected.certainty


def test_the_grade_row_applies_the_curators_overrides(studies):
    overrides = load_grade_overrides(DATA / "grade_overrides.csv")
    shown = explore(ExplorerState.primary("controlled"), studies, overrides=overrides)
    primary = AnalysisPlan().controlled(studies)
    expected = grade_outcome("controlled_responders", primary.primary, primary.rows,
                             label="Responders, ketamine versus control", overrides=overrides)
    assert shown.grade == expected
    assert set(overrides["outcome"]) <= {"controlled_responders", "response_rate"}
    overridden = overrides.loc[overrides["outcome"] == "controlled_responders", "domain"]
    assert all(shown.grade.domain(domain).overridden for domain in overridden)


def test_nothing_to_pool_gives_a_plain_message(studies):
    everyone = tuple(study_choices(studies))
    shown = explore(ExplorerState(exclude=everyone), studies)
    assert shown.result is None and shown.figure() is None and shown.grade_frame().empty
    assert shown.message == "No patient sample is left to pool with these choices."
    controlled = tuple(studies.loc[studies["control_events"].notna(), "study_id"].unique())
    shown = explore(ExplorerState(outcome="controlled", test="knha", exclude=controlled), studies)
    assert shown.message == ("No study counts responders in both arms in the ≤ 4 h window with these "
                             "choices: nothing to compare.")


@pytest.mark.parametrize("outcome", ["response_rate", "controlled"])
def test_every_row_choice_gives_a_result_or_a_plain_message(studies, outcome):
    """Every window x threshold x designs choice: a figure, a sentence and a GRADE row, or words.

    (Run once over every model, estimator, test and measure too: 2184 choices, none raised.)
    """
    primary = compute.primary_result(outcome, studies)
    for window, threshold, designs in itertools.product(TIME_WINDOWS, THRESHOLDS, DESIGNS):
        state = ExplorerState.primary(outcome)
        state = dataclasses.replace(state, time_window=window, responder_threshold=threshold, designs=designs)
        shown = explore(state, studies, primary=primary)
        if shown.result is None:
            assert shown.message.startswith(("No patient sample", "No study counts")), shown.message
            continue
        assert shown.message == "" and shown.sentence and shown.grade is not None
        assert list(shown.result.labels) == list(shown.rows["study_label"])
        assert figure_svg(shown.figure()).startswith("<svg")


def test_one_sample_is_shown_as_itself(studies):
    rows = AnalysisPlan().response_rate_rows(studies)
    keep = rows["study_id"].iloc[0]
    shown = explore(ExplorerState(exclude=tuple(s for s in study_choices(studies) if s != keep)), studies)
    assert shown.result.k == 1
    assert shown.sentence.startswith(f"The response rate in the single sample ({rows['study_label'].iloc[0]})")


def test_the_figure_draws_the_pooled_rows(studies):
    shown = explore(ExplorerState(designs="randomised"), studies)
    svg = figure_svg(shown.figure())
    assert svg.startswith("<svg")
    for label in shown.rows["study_label"]:
        assert f">{html.escape(label)}<" in svg
    assert "Cohen 2006" not in svg  # a single-arm study


# ------------------------------------------------------------------ a model with parameters


def test_a_model_the_plan_pools_is_one_entry(studies):
    """Adding a model the plan pools needs only its MODELS entry; the explorer pools it through
    the plan (it has no pooling path of its own)."""
    models = {**MODELS, "PAS": ModelOption("PAS", "Arcsine, inverse variance (PAS)", "arcsine inverse-variance model",
                                           True, True)}
    app = Explorer(studies, models=models)
    app.controls["model"].value = "PAS"
    assert app.state().plan().proportion_model == "PAS"
    expected = AnalysisPlan(proportion_model="PAS").response_rate(studies)
    assert app.exploration.result.to_dict() == expected.to_dict()


def test_a_model_the_plan_cannot_pool_is_refused(studies):
    """Issue 19: a model or parameter the plan does not know used to take a route of its own."""
    points = ModelParameter("quadrature_points", "Quadrature points", 5, 3, 21, 2)
    models = {**MODELS, "GLMM": ModelOption("GLMM", "GLMM with nodes", "GLMM", False, False, (points,))}
    with pytest.raises(AnalysisError, match="explorer model 'GLMM with nodes': the analysis plan has no "
                                            "parameter quadrature_points"):
        Explorer(studies, models=models)
    with pytest.raises(AnalysisError, match="the analysis plan has no method 'XYZ'"):
        ExplorerState(models={"XYZ": ModelOption("XYZ", "Mystery", "mystery model", False, False)})


def test_the_prior_slider_is_the_plans_prior_scale(studies):
    app = Explorer(studies)
    slider = app.parameters[("BAYES", "tau_prior_scale")]
    assert slider.layout.display is None and slider.value == AnalysisPlan().tau_prior_scale
    slider.value = 0.5
    expected = AnalysisPlan(tau_prior_scale=0.5).response_rate(studies)
    assert app.exploration.result.to_dict() == pytest.approx(expected.to_dict(), rel=0, abs=0, nan_ok=True)
    app.controls["outcome"].value = "controlled"  # one prior slider for both Bayesian models
    assert slider.layout.display is None
    expected = AnalysisPlan(tau_prior_scale=0.5).controlled(studies).primary
    assert app.exploration.result.to_dict() == pytest.approx(expected.to_dict(), rel=0, abs=0, nan_ok=True)


# ------------------------------------------------------------------ widgets


def test_the_explorer_starts_on_the_primary_analysis(explorer, studies):
    assert explorer.state() == ExplorerState()
    assert explorer.exploration.result.to_dict() == pytest.approx(AnalysisPlan().response_rate(studies).to_dict(), rel=0, abs=0, nan_ok=True)
    # the narrative's Markdown, rendered as the report renders it
    assert explorer.outputs["sentence"].value == markdown_to_html(explorer.exploration.sentence)
    assert explorer.outputs["sentence"].value == f"<p>{html.escape(explorer.exploration.sentence)}</p>\n"
    assert explorer.outputs["figure"].value.startswith("<svg")
    certainty = explorer.exploration.grade.certainty
    assert f"Summary of findings (GRADE): certainty {certainty}" in explorer.outputs["grade"].value


def test_each_control_redraws_in_place(studies):
    app = Explorer(studies)
    outputs = dict(app.outputs)
    app.study_boxes["cohen2006"].value = False
    assert app.state().exclude == ("cohen2006",)
    app.controls["time_window"].value = "short_term"
    app.controls["model"].value = "PLO"
    app.controls["method"].value = "DL"
    expected = explore(ExplorerState(exclude=("cohen2006",), time_window="short_term", model="PLO", method="DL"),
                       studies, labels=app.labels)
    assert app.exploration.sentence == expected.sentence
    assert app.exploration.difference == expected.difference
    assert app.outputs["figure"].value == figure_svg(expected.figure())
    assert app.outputs == outputs  # the same widgets, updated


def test_switching_outcome_shows_the_controls_that_apply():
    app = Explorer(frozen_studies())  # one trial: the data version of tests/frozen_data.py
    assert app.controls["method"].disabled and app.controls["test"].disabled  # the Bayesian model
    assert app.controls["comparison_model"].layout.display == "none"
    app.controls["outcome"].value = "controlled"
    assert app.controls["test"].value == "knha" and app.controls["test"].disabled  # the Bayesian model
    assert app.controls["model"].layout.display == "none" and app.controls["measure"].layout.display is None
    # every other control stays visible (each has its own Layout)
    assert all(c.layout.display is None for n, c in app.controls.items() if n != "model")
    app.controls["comparison_model"].value = "IV"
    assert not app.controls["method"].disabled and not app.controls["test"].disabled
    assert app.state().plan().comparison_model == "IV"
    # one trial: metafor's normal-theory CI, not Hartung-Knapp (issue 22, finding 8)
    assert app.exploration.result.model_description == (
        "random-effects model (REML; one study: its own estimate with a normal-theory CI)")
    app.controls["comparison_model"].value = "BAYES"
    app.controls["outcome"].value = "response_rate"
    assert app.controls["test"].value == "z" and app.state() == ExplorerState()


def test_a_choice_leaving_nothing_clears_the_outputs(studies):
    app = Explorer(studies)
    for box in app.study_boxes.values():
        box.value = False
    assert app.outputs["figure"].value == "" and app.outputs["sentence"].value == ""
    assert "No patient sample is left to pool" in app.outputs["message"].value
    app.study_boxes["noppers2011"].value = True
    assert app.outputs["message"].value == "" and app.exploration.result.k == 1


# ------------------------------------------------------------------ the web app


def test_the_exploration_says_where_it_sits_in_the_multiverse(studies):
    from analysis.review.multiverse import multiverse

    universe = multiverse(studies)
    shown = explore(ExplorerState.primary(), studies, universe=universe)
    # the same question only (issue 22, finding 3): the curve of the window shown
    curve = universe.curve(time_window="during_or_immediate")["estimate"]
    estimate = shown.result.natural().estimate
    rank, n = int((curve < estimate).sum()) + 1, len(curve)
    higher = format_percent((curve > estimate).mean())
    assert shown.multiverse == (f"Of the {n} specifications of the multiverse with an estimate for the same "
                                f"question (window ≤ 4 h), this estimate ranks {rank} of {n} (lowest first): "
                                f"{higher} of them give a higher estimate.")
    # the primary analysis is itself a specification: its place is its rank on the curve
    assert rank == universe.rank(universe.default_row()["specification"])[0]
    assert explore(ExplorerState.primary(), studies).multiverse == ""
    nothing = explore(ExplorerState(time_window="medium_term", designs="randomised"), studies, universe=universe)
    assert nothing.result is None and nothing.multiverse == ""


def test_a_comparison_is_placed_among_specifications_of_its_measure(studies):
    from analysis.review.multiverse import multiverse

    universe = multiverse(studies, "controlled")
    shown = explore(ExplorerState.primary("controlled").__class__(outcome="controlled", measure="RD", test="knha"),
                    studies, universe=universe)
    differences = universe.curve("RD", "during_or_immediate")
    assert f"Of the {len(differences)} specifications" in shown.multiverse
