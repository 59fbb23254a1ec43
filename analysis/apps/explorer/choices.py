"""The explorer's choices: what a reader can change, as plain values.

:class:`ExplorerState` holds one set of choices; :meth:`ExplorerState.plan`
maps it onto the protocol's :class:`~analysis.review.plan.AnalysisPlan`, and
:func:`describe_changes` says in one sentence how it differs from the
protocol's primary analysis of the same outcome. Nothing here knows about
widgets (:mod:`analysis.apps.explorer.widgets` wires these to controls), so every
rule is tested as a plain function.

Pooling models are entries of :data:`MODELS` (response rates) and
:data:`COMPARISON_MODELS` (controlled comparisons): a model that takes extra
parameters (e.g. a prior scale) declares them as :class:`ModelParameter`
values, and the explorer shows one slider each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._tau2 import TAU2_METHODS
from analysis.review.plan import COMPARISON_MODELS as COMPARISON_MODEL_NAMES
from analysis.review.plan import CONTROLLED_MEASURES, AnalysisPlan
from analysis.engine.proportions import METHODS as PROPORTION_MODELS
from analysis.engine.pooling import TESTS
from analysis.review.protocol import NEVER_POOLED_DESIGNS, OUTCOMES, PRIMARY_WINDOW, TIME_WINDOWS, WINDOW
from analysis.review.selection import DESIGN_SETS, select_designs  # noqa: F401  (the explorer's designs filter, re-exported)


#: Responder thresholds offered: each study's own (None) or 50 % only.
THRESHOLDS = {None: "Each study's own threshold", 50.0: "50% pain reduction only"}

#: Designs included, in the words of :data:`analysis.review.selection.DESIGN_SETS`, as a control shows them.
DESIGNS = {key: words[0].upper() + words[1:] for key, words in DESIGN_SETS.items()}

#: Tests, in words.
TEST_WORDS = {"z": "z (normal) test", "knha": "Hartung-Knapp"}


@dataclass(frozen=True)
class ModelParameter:
    """A numeric parameter of a pooling model, shown as a slider.

    Attributes
    ----------
    name : str
        A field of :class:`~analysis.review.plan.AnalysisPlan` (the plan pools with it), or
        else a keyword argument of :func:`analysis.engine.proportions.pool_proportions`.
    description : str
        Label of the slider.
    default, minimum, maximum, step : float
    """

    name: str
    description: str
    default: float
    minimum: float
    maximum: float
    step: float


@dataclass(frozen=True)
class ModelOption:
    """A pooling model the explorer offers.

    Attributes
    ----------
    method : str
        The plan's ``proportion_model`` or ``comparison_model`` (``pool_proportions(method=...)``).
    label : str
        The model in the dropdown.
    words : str
        The model in a sentence (lower case unless a name).
    uses_tau2_estimator, uses_test : bool
        Whether the tau² estimator and the test apply (inverse-variance models).
    parameters : tuple of ModelParameter
        Extra keyword arguments of ``pool_proportions`` (one slider each).
    """

    method: str
    label: str
    words: str
    uses_tau2_estimator: bool
    uses_test: bool
    parameters: tuple[ModelParameter, ...] = ()


#: The prior scale of the Bayesian models' half-normal prior on tau, as a slider.
TAU_PRIOR_SCALE = ModelParameter("tau_prior_scale", "Prior scale of τ", AnalysisPlan().tau_prior_scale, 0.1, 2.0, 0.1)

#: Pooling models of the response rate. Adding a model is one entry.
MODELS = {
    option.method: option for option in (
        ModelOption("BAYES", "Bayesian binomial-normal", "Bayesian binomial-normal model", False, False,
                    (TAU_PRIOR_SCALE,)),
        ModelOption("GLMM", "Binomial-normal GLMM", "binomial-normal GLMM", False, False),
        ModelOption("PLO", "Logit, inverse variance (PLO)", "logit inverse-variance model (PLO)", True, True),
        ModelOption("PFT", "Freeman-Tukey double arcsine, inverse variance (PFT)",
                    "Freeman-Tukey inverse-variance model (PFT)", True, True),
    )
}

#: Models of the controlled comparison (the plan's ``comparison_model``).
COMPARISON_MODELS = {
    option.method: option for option in (
        ModelOption("BAYES", "Bayesian random effects", "Bayesian random-effects model", False, False,
                    (TAU_PRIOR_SCALE,)),
        ModelOption("IV", "Inverse-variance random effects", "inverse-variance random-effects model", True, True),
    )
}


@dataclass(frozen=True)
class ExplorerState:
    """One set of choices in the explorer.

    Attributes
    ----------
    outcome : {"response_rate", "controlled"}
    time_window : str
        A protocol window (:data:`analysis.review.protocol.TIME_WINDOWS`).
    responder_threshold : float or None
        None: each study's own threshold; 50: only rows at 50 %.
    designs : {"all", "controlled", "randomised"}
    exclude : tuple of str
        ``study_id`` values left out.
    model : str
        Key of :data:`MODELS` (response rate).
    comparison_model : str
        Key of :data:`COMPARISON_MODELS` (controlled comparison).
    model_parameters : tuple of (str, float)
        Values of the outcome's model's :class:`ModelParameter` s, by name.
    method : str
        tau² estimator (metafor names), where it applies.
    test : {"z", "knha"}
        Inference, where it applies.
    measure : {"RR", "OR", "RD"}
        Measure of the controlled comparison.
    """

    outcome: str = "response_rate"
    time_window: str = PRIMARY_WINDOW
    responder_threshold: float | None = None
    designs: str = "all"
    exclude: tuple[str, ...] = ()
    model: str = AnalysisPlan().proportion_model
    comparison_model: str = AnalysisPlan().comparison_model
    model_parameters: tuple[tuple[str, float], ...] = ()
    method: str = AnalysisPlan().method
    test: str = AnalysisPlan().proportion_test
    measure: str = AnalysisPlan().measure
    models: Mapping[str, ModelOption] = field(default_factory=lambda: MODELS, repr=False, compare=False)
    comparison_models: Mapping[str, ModelOption] = field(default_factory=lambda: COMPARISON_MODELS,
                                                         repr=False, compare=False)

    def __post_init__(self):
        check_option("outcome", self.outcome, tuple(OUTCOMES))
        _check_plan_models(self.models, PROPORTION_MODELS, "proportion_model")
        _check_plan_models(self.comparison_models, COMPARISON_MODEL_NAMES, "comparison_model")
        check_option("time_window", self.time_window, TIME_WINDOWS)
        check_option("designs", self.designs, tuple(DESIGNS))
        check_option("model", self.model, tuple(self.models))
        check_option("comparison_model", self.comparison_model, tuple(self.comparison_models))
        check_option("method", self.method, TAU2_METHODS)
        check_option("test", self.test, TESTS)
        check_option("measure", self.measure, CONTROLLED_MEASURES)
        object.__setattr__(self, "exclude", tuple(sorted(self.exclude)))
        allowed = {p.name for p in self.option.parameters}
        unknown = sorted({name for name, _ in self.model_parameters} - allowed)
        if unknown:
            raise AnalysisError(f"model {self.option.method!r} takes no parameter {', '.join(unknown)}; "
                                f"it takes: {', '.join(sorted(allowed)) or 'none'}")
        # every parameter with its value, so that a default given or left out is the same choice
        object.__setattr__(self, "model_parameters", tuple(sorted(self.parameter_values.items())))

    @classmethod
    def primary(cls, outcome: str = "response_rate", models: Mapping[str, ModelOption] = MODELS) -> ExplorerState:
        """The protocol's primary analysis of ``outcome`` as explorer choices."""
        protocol = AnalysisPlan()
        test = protocol.test if outcome == "controlled" else protocol.proportion_test
        return cls(outcome=outcome, time_window=protocol.time_window,
                   responder_threshold=protocol.responder_threshold, exclude=protocol.exclude,
                   model=protocol.proportion_model, comparison_model=protocol.comparison_model,
                   method=protocol.method, test=test, measure=protocol.measure, models=models)

    @property
    def option(self) -> ModelOption:
        """The :class:`ModelOption` of the outcome's model (``model`` or ``comparison_model``)."""
        if self.outcome == "controlled":
            return self.comparison_models[self.comparison_model]
        return self.models[self.model]

    @property
    def uses_tau2_estimator(self) -> bool:
        """Whether the tau² estimator applies to these choices."""
        return self.option.uses_tau2_estimator

    @property
    def uses_test(self) -> bool:
        """Whether the choice of test applies to these choices."""
        return self.option.uses_test

    @property
    def parameter_values(self) -> dict[str, float]:
        """Every parameter of the model, its default unless set."""
        values = {p.name: p.default for p in self.option.parameters}
        values.update(dict(self.model_parameters))
        return values

    def plan(self) -> AnalysisPlan:
        """The :class:`~analysis.review.plan.AnalysisPlan` of these choices.

        Choices that do not apply keep the protocol's value (the GLMM and the Bayesian
        models have no test to choose); the model's parameters set the plan's fields of
        the same name. Every model offered is one the plan pools (checked when the state is
        made), so the explorer has no pooling path of its own.
        """
        protocol = AnalysisPlan()
        rate = self.outcome == "response_rate"
        return AnalysisPlan(
            proportion_model=self.model if rate else protocol.proportion_model,
            comparison_model=self.comparison_model if not rate else protocol.comparison_model,
            measure=self.measure if not rate else protocol.measure,
            method=self.method if self.uses_tau2_estimator else protocol.method,
            test=self.test if not rate and self.uses_test else protocol.test,
            proportion_test=self.test if rate and self.uses_test else protocol.proportion_test,
            time_window=self.time_window,
            responder_threshold=self.responder_threshold,
            exclude=self.exclude,
            **self.parameter_values,
        )


def _check_plan_models(models: Mapping[str, ModelOption], known: Sequence[str], field_name: str) -> None:
    """Refuse a model entry the analysis plan cannot pool (its method or a parameter unknown)."""
    for option in models.values():
        unknown = [p.name for p in option.parameters if p.name not in AnalysisPlan.parameter_names()]
        if option.method not in known or unknown:
            what = (f"parameter {', '.join(unknown)}" if unknown else f"method {option.method!r}")
            raise AnalysisError(
                f"explorer model {option.label!r}: the analysis plan has no {what}; offer models the plan "
                f"pools ({field_name}: {', '.join(known)}) with parameters among its fields "
                f"({', '.join(AnalysisPlan.parameter_names())})")


def study_choices(studies: pd.DataFrame) -> dict[str, str]:
    """The studies a reader can leave out, ``study_id -> label``, in the order of the table.

    Studies that never enter a pooled analysis (case reports, registered trials without
    results) and studies with no responder counts are not offered.
    """
    rows = studies[(studies["outcome"] == "responders") & studies["ketamine_events"].notna()
                   & ~studies["design"].isin(NEVER_POOLED_DESIGNS)]
    rows = rows.sort_values(["year", "study_label"]).drop_duplicates("study_id")
    return dict(zip(rows["study_id"], rows["study_label"]))


def _window(name: str) -> str:
    return WINDOW[name].axis_label


def describe_changes(state: ExplorerState, labels: Mapping[str, str] | None = None) -> str:
    """How ``state`` differs from the protocol's primary analysis of its outcome, in words.

    Parameters
    ----------
    state : ExplorerState
    labels : mapping of str to str, optional
        ``study_id -> study label`` for the studies left out (default: the ids).

    Returns
    -------
    str
        One sentence.

    Examples
    --------
    >>> describe_changes(ExplorerState())
    "Same choices as the protocol's primary analysis."
    >>> describe_changes(ExplorerState(time_window="short_term", exclude=("noppers2011",), model="PLO"),
    ...                  {"noppers2011": "Noppers 2011"})
    'Changed from the primary analysis: window 1–7 days (primary ≤ 4 h); Noppers 2011 left out; logit inverse-variance model (PLO) (primary Bayesian binomial-normal model).'
    """
    labels = labels or {}
    primary = ExplorerState.primary(state.outcome, state.models)
    changes = []
    if state.time_window != primary.time_window:
        changes.append(f"window {_window(state.time_window)} (primary {_window(primary.time_window)})")
    if state.responder_threshold != primary.responder_threshold:
        changes.append(f"only rows at a {state.responder_threshold:g}% responder threshold "
                       "(primary: each study's own)")
    if state.designs != primary.designs:
        changes.append(DESIGN_SETS[state.designs])
    if state.exclude:
        names = [labels.get(study, study) for study in state.exclude]
        changes.append(f"{', '.join(names)} left out")
    if state.option != primary.option:
        changes.append(f"{state.option.words} (primary {primary.option.words})")
    changed = [p for p in state.option.parameters
               if state.option != primary.option or state.parameter_values[p.name] != p.default]
    if changed:
        changes.append(", ".join(f"{p.description.lower()} {state.parameter_values[p.name]:g}" for p in changed))
    if state.outcome == "controlled" and state.measure != primary.measure:
        changes.append(f"measure {state.measure} (primary {primary.measure})")
    if state.uses_tau2_estimator and state.method != primary.method:
        changes.append(f"tau² estimator {state.method} (primary {primary.method})")
    if state.uses_test and state.test != primary.test:
        changes.append(f"test {TEST_WORDS[state.test]} (primary {TEST_WORDS[primary.test]})")
    if not changes:
        return "Same choices as the protocol's primary analysis."
    return "Changed from the primary analysis: " + "; ".join(changes) + "."

