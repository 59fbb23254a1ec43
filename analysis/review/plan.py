"""The protocol's analysis plan in code: which rows, which model, which windows.

:class:`AnalysisPlan` is declared once and used everywhere: the notebooks
build one from their ``parameters`` cell (:meth:`AnalysisPlan.from_parameters`),
the report build checks command-line overrides against it before any notebook
runs, and the claims check and GRADE table take one. Its fields are the
report's **parameter vocabulary**; every name has one meaning:

=========================  =====================================================
``proportion_model``       pooling model of response rates (GLMM, PLO, PFT, PAS, PR, BAYES;
                           default BAYES, the protocol amendment's headline in data/README.md)
``measure``                controlled comparisons of responders (RR, OR, RD)
``comparison_model``       model of the controlled comparisons: IV (inverse-variance random
                           effects with ``method`` and ``test``) or BAYES (default, as above)
``tau_prior_scale``        scale of the half-normal prior on tau of the Bayesian models
                           (1: the calibrated choice of ``benchmarks/coverage.py``)
``method``                 tau² estimator of every inverse-variance model (metafor names)
``test``                   inference of the inverse-variance controlled comparisons (z, knha)
``proportion_test``        inference of the inverse-variance response-rate models
                           (z, knha); the GLMM is always fitted with z
``time_window``            protocol window of the primary analyses
``responder_threshold``    None: each study's own threshold; a percent: only that one
``include_unstated_time``  response rows whose source gives no time count as primary
``include_inferred``       rows whose numbers are inferred from wording are pooled (False:
                           the sensitivity analysis "stated and computed values only";
                           ``certainty`` in data/provenance.csv)
``exclude``                studies left out of every analysis, by study_id or label (an unknown name is refused)
``response_rate_threshold``  GRADE: the response rate that would change a decision
=========================  =====================================================

Primary analyses: :meth:`AnalysisPlan.response_rate`,
:meth:`AnalysisPlan.controlled`. Sensitivity analyses:
:meth:`AnalysisPlan.response_rate_models` (other pooling models) and
:meth:`AnalysisPlan.response_rate_subsets` (subsets of the studies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import pandas as pd

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._tau2 import TAU2_METHODS
from analysis.engine._tau_priors import DEFAULT_TAU_PRIOR_SCALE
from analysis.engine.bayesian import BayesianResult, bayesian_meta_analysis
from analysis.engine.contract import PooledResult
from analysis.review.duration import DurationResult, responders_over_time
from analysis.engine.effect_sizes import effect_sizes
from analysis.engine.fixed_effects import FixedEffectResult, mantel_haenszel
from analysis.engine.pooling import TESTS, MetaAnalysisResult, meta_analysis
from analysis.engine.proportions import METHODS as PROPORTION_MODELS
from analysis.engine.proportions import ProportionResult, pool_proportions
from analysis.review.protocol import PRIMARY_WINDOW, TIME_WINDOWS, UNCONTROLLED_DESIGNS
from analysis.review.selection import controlled_rows, response_rate_rows, stated_and_computed, without
from analysis.engine.subgroups import SubgroupPooling, subgroup_pooling

#: Controlled measures of responders the plan offers.
CONTROLLED_MEASURES = ("RR", "OR", "RD")

#: Models of the controlled comparisons: inverse-variance random effects, or Bayesian.
COMPARISON_MODELS = ("IV", "BAYES")

#: Pooling models shown side by side with the primary one (protocol: sensitivity analyses).
SENSITIVITY_MODELS = ("GLMM", "BAYES", "PLO", "PFT")

#: Columns of the 2x2 tables of responders, ketamine (group 1) against control.
RESPONDER_COUNTS = {"ai": "ketamine_events", "n1i": "ketamine_n", "ci": "control_events", "n2i": "control_n"}


@dataclass(frozen=True)
class ControlledAnalysis:
    """Responders, ketamine against control, in one time window.

    Attributes
    ----------
    rows : DataFrame
        The pooled rows of ``data/studies.csv``.
    comparisons : DataFrame
        ``rows`` with ``yi``/``vi`` of the plan's measure.
    primary : PooledResult
        The plan's model (``comparison_model``): ``random_effects`` or ``bayesian``.
    random_effects, equal_effects : MetaAnalysisResult
        Inverse-variance random effects (the plan's ``method`` and ``test``) and equal effects.
    bayesian : BayesianResult
        The Bayesian random-effects model with the plan's half-normal prior on tau.
    mantel_haenszel : FixedEffectResult or None
        Sensitivity analysis on the 2x2 tables; None when it is undefined for these
        tables (e.g. the MH risk ratio with no control events), with the reason in
        ``mantel_haenszel_note``.
    mantel_haenszel_note : str
    """

    rows: pd.DataFrame = field(repr=False)
    comparisons: pd.DataFrame = field(repr=False)
    primary: PooledResult
    random_effects: MetaAnalysisResult
    bayesian: BayesianResult
    equal_effects: MetaAnalysisResult
    mantel_haenszel: FixedEffectResult | None
    mantel_haenszel_note: str = ""

    def models(self) -> dict[str, PooledResult]:
        """Every model fitted, by reader name: the primary first, then the sensitivity analyses."""
        fits = {"Bayesian random effects": self.bayesian, "Inverse-variance random effects": self.random_effects,
                "Equal effects": self.equal_effects}
        if self.mantel_haenszel is not None:
            fits["Mantel-Haenszel"] = self.mantel_haenszel
        primary = next(name for name, fit in fits.items() if fit is self.primary)
        return {primary: self.primary, **fits}


@dataclass(frozen=True)
class AnalysisPlan:
    """The protocol's choices, validated when the plan is made (see the module docstring)."""

    proportion_model: str = "BAYES"
    measure: str = "RR"
    comparison_model: str = "BAYES"
    tau_prior_scale: float = DEFAULT_TAU_PRIOR_SCALE
    method: str = "REML"
    test: str = "knha"
    proportion_test: str = "z"
    time_window: str = PRIMARY_WINDOW
    responder_threshold: float | None = None
    include_unstated_time: bool = True
    include_inferred: bool = True
    exclude: tuple[str, ...] = ()
    response_rate_threshold: float = 0.5
    confidence_level: float = 0.95

    def __post_init__(self):
        check_option("proportion_model", self.proportion_model, PROPORTION_MODELS)
        check_option("measure", self.measure, CONTROLLED_MEASURES)
        check_option("comparison_model", self.comparison_model, COMPARISON_MODELS)
        if not 0 < float(self.tau_prior_scale) <= 10:
            raise AnalysisError(f"tau_prior_scale={self.tau_prior_scale!r} must be a positive scale (at most 10) "
                                "of the half-normal prior on tau")
        check_option("method", "EE" if self.method == "FE" else self.method, TAU2_METHODS)
        check_option("test", self.test, TESTS)
        check_option("proportion_test", self.proportion_test, TESTS)
        check_option("time_window", self.time_window, TIME_WINDOWS)
        if self.proportion_model == "GLMM" and self.proportion_test != "z":
            raise AnalysisError(
                f"proportion_test={self.proportion_test!r} does not apply to the GLMM (rma.glmm's z test); "
                "use proportion_test='z', or an inverse-variance proportion_model (PLO, PFT, PAS, PR)"
            )
        if self.responder_threshold is not None and not 0 < float(self.responder_threshold) <= 100:
            raise AnalysisError(f"responder_threshold={self.responder_threshold!r} must be a percent in (0, 100], "
                                "or None for each study's own threshold")
        if not isinstance(self.include_unstated_time, bool):
            raise AnalysisError(f"include_unstated_time must be True or False, not {self.include_unstated_time!r}")
        if not isinstance(self.include_inferred, bool):
            raise AnalysisError(f"include_inferred must be True or False, not {self.include_inferred!r}")
        if isinstance(self.exclude, str) or not all(isinstance(s, str) for s in self.exclude):
            raise AnalysisError(f"exclude must be a list of study ids or labels, not {self.exclude!r}")
        object.__setattr__(self, "exclude", tuple(self.exclude))
        if not 0 < float(self.response_rate_threshold) < 1:
            raise AnalysisError(f"response_rate_threshold={self.response_rate_threshold!r} must be a proportion "
                                "between 0 and 1 (e.g. 0.5 for half of patients)")
        if not 0 < self.confidence_level < 1:
            raise AnalysisError(f"confidence_level={self.confidence_level!r} must lie strictly between 0 and 1")

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The report's parameter vocabulary: the names every notebook declares."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_parameters(cls, namespace: Mapping[str, object]) -> AnalysisPlan:
        """A plan from a notebook's parameters (``globals()``); other names are ignored."""
        return cls(**{name: namespace[name] for name in cls.parameter_names() if name in namespace})

    def defaults_differ(self) -> dict[str, object]:
        """The choices that differ from the protocol's primary analysis, by name."""
        primary = AnalysisPlan()
        return {name: getattr(self, name) for name in self.parameter_names()
                if getattr(self, name) != getattr(primary, name)}

    # ---------------------------------------------------------------- rows

    def included(self, studies: pd.DataFrame) -> pd.DataFrame:
        """Every row of ``studies`` except the excluded studies (and, without ``include_inferred``,
        except rows whose numbers are inferred: :func:`analysis.review.selection.stated_and_computed`)."""
        rows = without(studies, self.exclude)
        return rows if self.include_inferred else stated_and_computed(rows)

    def response_rate_rows(self, studies: pd.DataFrame, time_window: str | None = None) -> pd.DataFrame:
        """Rows of the response-rate analysis (one per patient sample)."""
        window = time_window or self.time_window
        return response_rate_rows(studies, window, exclude=self.exclude,
                                  include_unstated_time=self.include_unstated_time and window == self.time_window,
                                  responder_threshold=self.responder_threshold, include_inferred=self.include_inferred)

    def controlled_rows(self, studies: pd.DataFrame, time_window: str | None = None) -> pd.DataFrame:
        """Rows with responders counted in both arms (one per patient sample)."""
        return controlled_rows(studies, time_window or self.time_window, exclude=self.exclude,
                               responder_threshold=self.responder_threshold, include_inferred=self.include_inferred)

    # ----------------------------------------------------------- analyses

    def pool_rates(self, rows: pd.DataFrame, model: str | None = None) -> ProportionResult:
        """Pool the ketamine arms of ``rows`` with the plan's (or the given) model.

        One sample cannot be pooled, and the GLMM cannot be fitted to it: it is then shown as
        metafor's ``rma.uni`` shows one study, its own logit estimate (``PLO``, k = 1), and the
        result's notes say so.
        """
        model = model or self.proportion_model
        if len(rows) == 0:
            raise AnalysisError("no patient sample is left to pool with these choices")
        single_glmm = model == "GLMM" and len(rows) == 1
        result = pool_proportions(rows["ketamine_events"], rows["ketamine_n"], labels=rows["study_label"],
                                  **self.rate_model_options("PLO" if single_glmm else model))
        if single_glmm:
            note = ("one sample only: nothing is pooled and the GLMM cannot be fitted; shown is the "
                    "sample's own estimate on the logit scale (PLO, k = 1)")
            result = replace(result, notes=(note, *result.notes))
        return result

    def pool_rates_by(self, rows: pd.DataFrame, column: str, dictionary=None) -> SubgroupPooling:
        """:meth:`pool_rates` within each value of ``column`` (e.g. ``"design"``), the overall fit
        and the test for subgroup differences (:func:`analysis.engine.subgroups.subgroup_pooling`).

        Subgroups follow the order of the ``dictionary``'s allowed values and carry its reader
        labels (else their order of appearance and their codes). With a Bayesian model the
        test for subgroup differences comes from the same subgroups fitted by the GLMM (named
        in ``test_model``), since a posterior has no such test.
        """
        if column not in rows.columns or rows[column].isna().any():
            raise AnalysisError(f"every pooled row needs a value of {column!r} to be grouped by it")
        spec = dictionary[column] if dictionary is not None and column in dictionary else None
        values = list(pd.unique(rows[column]))
        if spec is not None:
            values.sort(key=lambda v: spec.allowed.index(v) if v in spec.allowed else len(spec.allowed))
        subsets = {(spec.value_label(v) if spec is not None else str(v)): rows[rows[column] == v] for v in values}
        overall = self.pool_rates(rows)
        # a posterior has no test for subgroup differences: RevMan's test on the protocol's GLMM fits
        tested = ({name: self.pool_rates(subset, "GLMM") for name, subset in subsets.items()}
                  if overall.is_bayesian else None)
        return subgroup_pooling({name: self.pool_rates(subset) for name, subset in subsets.items()}, overall,
                                test_fits=tested)

    def rate_model_options(self, model: str | None = None) -> dict[str, object]:
        """Keyword arguments of ``pool_proportions`` for the plan's (or the given) model."""
        model = model or self.proportion_model
        return {"method": model, "confidence_level": self.confidence_level, "tau_method": self.method,
                "test": "z" if model in ("GLMM", "BAYES") else self.proportion_test,
                "tau_prior_scale": self.tau_prior_scale}

    def response_rate(self, studies: pd.DataFrame, time_window: str | None = None) -> ProportionResult:
        """Primary analysis: the pooled response rate in ketamine arms."""
        return self.pool_rates(self.response_rate_rows(studies, time_window))

    def response_rate_without_inferred(self, studies: pd.DataFrame
                                       ) -> tuple[pd.DataFrame, ProportionResult | None]:
        """Sensitivity analysis "stated and computed values only": the rows and pooled response
        rate of this plan with ``include_inferred=False`` (None when no sample is left)."""
        strict = replace(self, include_inferred=False)
        rows = strict.response_rate_rows(studies)
        return rows, strict.pool_rates(rows) if len(rows) else None

    def response_rate_models(self, studies: pd.DataFrame) -> dict[str, ProportionResult]:
        """The primary rows pooled by each of :data:`SENSITIVITY_MODELS` (and the plan's model)."""
        rows = self.response_rate_rows(studies)
        models = dict.fromkeys((self.proportion_model, *SENSITIVITY_MODELS))
        return {model: self.pool_rates(rows, model) for model in models}

    def response_rate_subsets(self, studies: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Sensitivity subsets of the response-rate rows (protocol), by name; case reports never."""
        primary = self.response_rate_rows(studies)
        threshold = AnalysisPlan(**{**self._choices(), "responder_threshold": 50})
        return {
            "primary analysis": primary,
            "randomised trials only": primary[primary["design"].str.startswith("rct")],
            "uncontrolled studies excluded": primary[~primary["design"].isin(UNCONTROLLED_DESIGNS)
                                                     & (primary["control"] != "none")],
            "intravenous route only": primary[primary["route"] == "iv"],
            "stated time point only": primary[primary["time_window"] != "not_reported"],
            "50% responder threshold only": threshold.response_rate_rows(studies),
            "stated and computed values only": replace(self, include_inferred=False).response_rate_rows(studies),
        }

    def comparisons(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` with ``yi``/``vi`` of the plan's measure (ketamine is group 1)."""
        return effect_sizes(rows, self.measure, columns=RESPONDER_COUNTS)

    def compare(self, comparisons: pd.DataFrame, *, method: str | None = None,
                test: str | None = None) -> PooledResult:
        """Pool ``comparisons`` (from :meth:`comparisons`) with the plan's ``comparison_model``
        (or, given ``method``, the inverse-variance model with that estimator)."""
        if self.comparison_model == "BAYES" and method is None:
            return self.compare_bayesian(comparisons)
        return meta_analysis(comparisons["yi"], comparisons["vi"], method=method or self.method,
                             test=test or self.test, confidence_level=self.confidence_level,
                             labels=comparisons["study_label"], measure=self.measure)

    def compare_bayesian(self, comparisons: pd.DataFrame) -> BayesianResult:
        """The Bayesian random-effects model of ``comparisons`` (half-normal prior on tau, flat on mu)."""
        return bayesian_meta_analysis(comparisons["yi"], comparisons["vi"], tau_prior="half_normal",
                                      tau_prior_scale=self.tau_prior_scale, confidence_level=self.confidence_level,
                                      labels=comparisons["study_label"], measure=self.measure)

    def controlled(self, studies: pd.DataFrame, time_window: str | None = None) -> ControlledAnalysis:
        """Primary analysis of responders, ketamine against control, with its sensitivity models."""
        rows = self.controlled_rows(studies, time_window)
        if rows.empty:
            raise AnalysisError(f"no study counts responders in both arms in the "
                                f"{time_window or self.time_window} window: nothing to compare")
        comparisons = self.comparisons(rows)
        events = rows["ketamine_events"], rows["control_events"]
        try:
            mh, note = mantel_haenszel(events[0], rows["ketamine_n"] - events[0], events[1],
                                       rows["control_n"] - events[1], measure=self.measure,
                                       confidence_level=self.confidence_level, labels=rows["study_label"]), ""
        except AnalysisError as undefined:  # e.g. the MH risk ratio of tables without control events
            mh, note = None, f"No Mantel-Haenszel estimate: {undefined}"
        random_effects = self.compare(comparisons, method=self.method)
        bayesian = self.compare_bayesian(comparisons)
        primary = bayesian if self.comparison_model == "BAYES" else random_effects
        return ControlledAnalysis(rows, comparisons, primary, random_effects, bayesian,
                                  self.compare(comparisons, method="EE", test="z"), mh, note)

    def duration(self, studies: pd.DataFrame) -> DurationResult:
        """Responders over time after the infusion, pooled per window with the plan's model."""
        return responders_over_time(self.included(studies), **self.rate_model_options())

    def _choices(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.parameter_names()}
