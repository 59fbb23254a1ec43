"""The explorer's controls and outputs (ipywidgets), wired to :func:`analysis.apps.explorer.explore`.

:class:`Explorer` builds one control per choice of
:class:`~analysis.apps.explorer.choices.ExplorerState` and redraws, in place, the
forest plot, the narrative sentence, the GRADE summary-of-findings row and the
line saying how the result differs from the primary analysis whenever a control
changes. Every widget carries a CSS class ``explorer-<name>`` so that a browser
test (and a stylesheet) can find it. The logic lives in
:mod:`analysis.apps.explorer.choices` and :mod:`analysis.apps.explorer.compute`; this
module only reads controls into a state and writes an exploration out.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from analysis.engine._tau2 import TAU2_METHODS
from analysis.data import load_studies
from analysis.apps.explorer.choices import (
    COMPARISON_MODELS, DESIGNS, MODELS, OUTCOMES, TEST_WORDS, THRESHOLDS, ExplorerState, ModelOption, study_choices,
)
from analysis.apps.explorer.compute import Exploration, explore, figure_svg, outcome_multiverse, primary_result
from analysis.engine.formatting import format_number, format_percent, is_missing
from analysis.review.grade import load_grade_overrides
from analysis.present.tables import MISSING
from analysis.review.plan import CONTROLLED_MEASURES
from analysis.review.protocol import WINDOWS
from analysis.present.safe_html import markdown_to_html, styled_table

#: Dropdown keys of the responder thresholds (a dropdown value cannot be None).
_THRESHOLD_KEYS = {"own" if value is None else f"{value:g}": value for value in THRESHOLDS}

_STYLE = {"description_width": "11em"}

#: The explorer's own small stylesheet. On a phone (narrow screen) each control's label goes
#: above it, full width, so that neither the label nor the dropdown is cut off; the figure
#: scales to the screen (see ``compute.figure_svg``).
PHONE_CSS = """<style>
@media (max-width: 40em) {
  .explorer .widget-inline-hbox { flex-wrap: wrap; height: auto; }
  .explorer .widget-inline-hbox > .widget-label { width: 100% !important; max-width: 100%;
    text-align: left; white-space: normal; overflow: visible; }
  .explorer .widget-dropdown > select, .explorer .widget-slider .slider-container { flex: 1 1 0; min-width: 0; }
  .explorer .widget-checkbox label { white-space: normal; }
}
.explorer-outputs, .explorer-outputs > .widget-html, .explorer-outputs .widget-html-content { max-width: 100%; min-width: 0; }
.explorer-table-scroll { max-width: 100%; overflow-x: auto; }
.explorer-outputs p { overflow-wrap: anywhere; }
</style>"""


def _control_layout() -> widgets.Layout:
    # One Layout per control: a shared one would hide every control with the one hidden.
    return widgets.Layout(width="100%")


def _dropdown(name: str, description: str, options, value) -> widgets.Dropdown:
    control = widgets.Dropdown(options=options, value=value, description=description,
                               layout=_control_layout(), style=_STYLE)
    control.add_class(f"explorer-{name}")
    return control


def _html(name: str) -> widgets.HTML:
    output = widgets.HTML()
    output.add_class(f"explorer-{name}")
    return output


class Explorer:
    """Controls for every choice of :class:`ExplorerState`, and the outputs they redraw.

    Parameters
    ----------
    studies : DataFrame
        ``analysis.data.load_studies()``.
    overrides : DataFrame, optional
        ``analysis.review.grade.load_grade_overrides()`` for the summary-of-findings row.
    models : mapping of str to ModelOption
        The pooling models of the response rate offered (default
        :data:`analysis.apps.explorer.choices.MODELS`); the controlled comparison offers
        :data:`analysis.apps.explorer.choices.COMPARISON_MODELS`.

    Attributes
    ----------
    widget : ipywidgets.Box
        Everything, to display.
    exploration : Exploration
        What is shown now.
    """

    def __init__(self, studies: pd.DataFrame, *, overrides: pd.DataFrame | None = None,
                 models: Mapping[str, ModelOption] = MODELS):
        self.studies, self.overrides, self.models = studies, overrides, models
        self.labels = study_choices(studies)
        self._primary: dict[str, object] = {}
        self._multiverse: dict[str, object] = {}
        self._quiet = False
        primary = ExplorerState.primary(models=models)
        self.controls = {
            "outcome": _dropdown("outcome", "Outcome", [(w, k) for k, w in OUTCOMES.items()], primary.outcome),
            "time_window": _dropdown("window", "Time window", [(w.words, w.name) for w in WINDOWS],
                                     primary.time_window),
            "responder_threshold": _dropdown("threshold", "Responder threshold",
                                             [(THRESHOLDS[v], k) for k, v in _THRESHOLD_KEYS.items()], "own"),
            "designs": _dropdown("designs", "Designs", [(w, k) for k, w in DESIGNS.items()], primary.designs),
            "model": _dropdown("model", "Pooling model", _model_choices(models, primary.model), primary.model),
            "comparison_model": _dropdown("comparison-model", "Pooling model",
                                          _model_choices(COMPARISON_MODELS, primary.comparison_model),
                                          primary.comparison_model),
            "measure": _dropdown("measure", "Measure", list(CONTROLLED_MEASURES), primary.measure),
            "method": _dropdown("method", "tau² estimator", list(TAU2_METHODS), primary.method),
            "test": _dropdown("test", "Test", [(w, k) for k, w in TEST_WORDS.items()], primary.test),
        }
        self.parameters = {}
        for option in [*models.values(), *COMPARISON_MODELS.values()]:
            for parameter in option.parameters:
                if (option.method, parameter.name) in self.parameters:
                    continue  # one slider per model and parameter, shared by both outcomes
                slider = widgets.FloatSlider(value=parameter.default, min=parameter.minimum, max=parameter.maximum,
                                             step=parameter.step, description=parameter.description,
                                             continuous_update=False, layout=_control_layout(), style=_STYLE)
                slider.add_class(f"explorer-parameter-{parameter.name}")
                self.parameters[(option.method, parameter.name)] = slider
        self.study_boxes = {}
        for study_id, label in self.labels.items():
            box = widgets.Checkbox(value=True, description=label, indent=False,
                                   description_allow_html=False)  # a study label is text, never markup
            box.add_class(f"explorer-study-{study_id}")
            self.study_boxes[study_id] = box
        self.outputs = {name: _html(name)
                        for name in ("difference", "sentence", "multiverse", "message", "figure", "grade")}
        for control in [*self.controls.values(), *self.parameters.values(), *self.study_boxes.values()]:
            control.observe(self._changed, names="value")
        self.widget = self._layout()
        self.exploration: Exploration | None = None
        self.redraw()

    @classmethod
    def from_data_dir(cls, data_dir: str | Path = "data", **kwargs) -> Explorer:
        """An explorer of ``data_dir/studies.csv`` with its GRADE overrides."""
        data_dir = Path(data_dir)
        return cls(load_studies(data_dir / "studies.csv"),
                   overrides=load_grade_overrides(data_dir / "grade_overrides.csv"), **kwargs)

    def _layout(self) -> widgets.Box:
        studies = widgets.VBox([widgets.HTML("<b>Studies included</b> (untick to leave one out)"),
                                *self.study_boxes.values()])
        studies.add_class("explorer-studies")
        # Side by side on a wide screen; on a phone the outputs wrap below the controls, and
        # neither is ever wider than the screen (min_width 0 lets a flex item shrink).
        controls = widgets.VBox([*self.controls.values(), *self.parameters.values(), studies],
                                layout=widgets.Layout(flex="0 1 32em", max_width="100%", min_width="0"))
        controls.add_class("explorer-controls")
        outputs = widgets.VBox(list(self.outputs.values()),
                               layout=widgets.Layout(flex="1 1 28em", min_width="0"))
        outputs.add_class("explorer-outputs")
        box = widgets.HBox([widgets.HTML(PHONE_CSS), controls, outputs],
                           layout=widgets.Layout(flex_flow="row wrap", width="100%"))
        box.add_class("explorer")
        return box

    # --------------------------------------------------------------- state

    def state(self) -> ExplorerState:
        """The choices the controls show now."""
        values = {name: control.value for name, control in self.controls.items()}
        values["responder_threshold"] = _THRESHOLD_KEYS[values["responder_threshold"]]
        values["exclude"] = tuple(study for study, box in self.study_boxes.items() if not box.value)
        chosen = values["model"] if values["outcome"] == "response_rate" else values["comparison_model"]
        values["model_parameters"] = tuple((name, slider.value) for (model, name), slider in self.parameters.items()
                                           if model == chosen)
        return ExplorerState(**values, models=self.models)

    def _changed(self, change) -> None:
        if self._quiet:
            return
        if change["owner"] is self.controls["outcome"]:
            self._quiet = True  # the outcome brings its own protocol test: one redraw, not two
            self.controls["test"].value = ExplorerState.primary(change["new"], self.models).test
            self._quiet = False
        self.redraw()

    def _show_applicable(self, state: ExplorerState) -> None:
        rate = state.outcome == "response_rate"
        self.controls["model"].layout.display = None if rate else "none"
        self.controls["comparison_model"].layout.display = "none" if rate else None
        self.controls["measure"].layout.display = "none" if rate else None
        for (model, _), slider in self.parameters.items():
            slider.layout.display = None if model == state.option.method else "none"
        self.controls["method"].disabled = not state.uses_tau2_estimator
        self.controls["test"].disabled = not state.uses_test
        shown_test = state.test if state.uses_test else ExplorerState.primary(state.outcome, self.models).test
        if self.controls["test"].value != shown_test:
            self._quiet = True  # a model without a choice of test shows the protocol's
            self.controls["test"].value = shown_test
            self._quiet = False

    # -------------------------------------------------------------- redraw

    def primary(self, outcome: str):
        """The primary analysis of ``outcome`` (computed once)."""
        if outcome not in self._primary:
            self._primary[outcome] = primary_result(outcome, self.studies)
        return self._primary[outcome]

    def multiverse(self, outcome: str):
        """The multiverse of ``outcome`` (computed once, on first use)."""
        if outcome not in self._multiverse:
            self._multiverse[outcome] = outcome_multiverse(outcome, self.studies)
        return self._multiverse[outcome]

    def redraw(self) -> Exploration:
        """Read the controls, compute, and update every output in place."""
        state = self.state()
        self._show_applicable(state)
        state = self.state()
        exploration = explore(state, self.studies, labels=self.labels, primary=self.primary(state.outcome),
                              overrides=self.overrides, universe=self.multiverse(state.outcome))
        self.exploration = exploration
        out = self.outputs
        out["difference"].value = f"<p><b>Versus the primary analysis.</b> {html.escape(exploration.difference)}</p>"
        out["message"].value = f"<p><b>{html.escape(exploration.message)}</b></p>" if exploration.message else ""
        # the sentence is the narrative's Markdown (data text escaped in it); the others are plain text
        out["sentence"].value = markdown_to_html(exploration.sentence) if exploration.sentence else ""
        out["multiverse"].value = (f"<p><b>Among every defensible analysis.</b> {html.escape(exploration.multiverse)}</p>"
                                   if exploration.multiverse else "")
        figure = exploration.figure()
        out["figure"].value = figure_svg(figure) if figure is not None else ""
        out["grade"].value = _grade_html(exploration)
        return exploration


def _model_choices(models: Mapping[str, ModelOption], primary: str) -> list[tuple[str, str]]:
    """Dropdown entries of ``models``, the protocol's primary model first and marked so."""
    order = sorted(models, key=lambda key: key != primary)
    return [(models[key].label + (" (primary)" if key == primary else ""), key) for key in order]


#: Reader headers of the summary-of-findings row.
_GRADE_HEADERS = {"label": "Outcome", "k": "Studies", "participants": "Participants", "start": "Starting level",
                  "risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency", "indirectness": "Indirectness",
                  "imprecision": "Imprecision", "publication_bias": "Publication bias", "certainty": "Certainty"}


def _grade_html(exploration: Exploration) -> str:
    if exploration.grade is None:
        return f"<p>{html.escape(exploration.grade_message)}</p>" if exploration.grade_message else ""
    frame = exploration.grade_frame()
    grade = exploration.grade
    percent = grade.scale == "Proportion"
    number = format_percent if percent else (lambda v: format_number(v, 2))
    shown = frame.drop(columns=["reasons", "scale", "estimate", "ci_lb", "ci_ub"]).reset_index()
    level = f"{100 * exploration.result.confidence_level:g}% {exploration.result.interval_name}"
    shown.insert(3, f"{grade.scale} ({level})",
                 f"{number(grade.estimate)} ({number(grade.ci_lb)} to {number(grade.ci_ub)})")
    shown["participants"] = shown["participants"].map(lambda v: MISSING if is_missing(v) else f"{int(v)}")
    table = styled_table(shown.rename(columns=_GRADE_HEADERS), css_class="explorer-grade-table").to_html()
    certainty = exploration.grade.certainty
    # the table scrolls inside its own box on a phone; the text around it wraps to the screen
    return (f"<p><b>Summary of findings (GRADE): certainty {html.escape(certainty)}</b></p>"
            f'<div class="explorer-table-scroll">{table}</div>'
            f"<p>{html.escape(frame['reasons'].iloc[0])}</p>")
