"""The multiverse: every defensible analysis of one outcome, and its specification curve.

With five samples and one trial, a conclusion can hinge on analytic choices. A
multiverse meta-analysis (Voracek et al. 2019) runs every combination of the
defensible choices; the specification curve (Simonsohn, Simmons & Nelson 2020)
shows the estimates sorted, with the choices beneath. :func:`multiverse` builds
every specification as an :class:`~analysis.review.plan.AnalysisPlan` (the report's
parameter vocabulary), so each row equals what the plan gives for it:
``plan.response_rate(studies)`` or ``plan.controlled(studies).primary``.

The protocol's defensible choices (:func:`default_choices`)
-----------------------------------------------------------
=========================  ===============================================================
``time_window``            every protocol window (:data:`analysis.review.protocol.TIME_WINDOWS`)
``responder_threshold``    None (each study's own) and every threshold in the data's
                           poolable responder rows (50 and 67 in this data version)
``include_unstated_time``  response rates only: rows without a stated time count or not
``include_inferred``       rows whose numbers are inferred from wording count, or only stated
                           and computed values (:func:`analysis.review.selection.stated_and_computed`)
``designs``                ``all`` eligible designs; ``controlled`` (uncontrolled designs and
                           samples without a control arm left out); ``randomised`` (RCTs only)
``model``                  response rates: GLMM; PLO and PFT with tau² by REML, DL or PM and
                           z or Hartung-Knapp (``knha``) tests; Bayesian binomial-normal with a
                           half-normal(0.5) or half-normal(1) prior on tau. Controlled
                           comparisons: inverse-variance (IV) with the same estimators and
                           tests; Bayesian normal-normal with the same two priors
``measure``                controlled comparisons only: RR, OR, RD
``left_out``               none, or one patient sample of the specification's rows (every
                           report of that sample, through the plan's ``exclude``)
=========================  ===============================================================

Speed: rows are selected once per window, threshold and time rule (designs and the
sample left out then drop rows; a test checks that this equals the plan's own
selection); the inverse-variance fits of all specifications are batched
(:mod:`analysis.engine._batched`); the GLMM and the Bayesian models are fitted once per
distinct set of rows. Specifications whose rows and model are those of an earlier
one are kept and marked (``duplicate_of``).

References
----------
Voracek M, Kossmeier M, Tran US (2019). Which data to meta-analyze, and how? A
specification-curve and multiverse-analysis approach to meta-analysis. Z Psychol 227(1):64-82.
Simonsohn U, Simmons JP, Nelson LD (2020). Specification curve analysis. Nat Hum Behav 4:1208-1214.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.engine._batched import BATCHED_METHODS, BATCHED_TESTS, fit_batch, stack
from analysis.engine._errors import AnalysisError, check_option
from analysis.engine.bayesian_binomial import pooled_proportion
from analysis.data import INFERRED_VALUES
from analysis.engine.formatting import format_effect, format_interval, format_percent, plain
from analysis.review.plan import CONTROLLED_MEASURES, AnalysisPlan
from analysis.engine.proportion_scales import back_transform_proportion, escalc_proportions
from analysis.review.protocol import OUTCOMES, TIME_WINDOWS, WINDOW
from analysis.review.selection import DESIGN_SETS, select_designs
from analysis.engine.transforms import back_transform, measure_scale

__all__ = ["DESIGNS", "OUTCOMES", "Model", "Multiverse", "MultiverseSummary", "default_choices",
           "default_models", "multiverse"]

#: Which designs are pooled (:func:`analysis.review.selection.select_designs`), in words.
DESIGNS = DESIGN_SETS

#: Names of the choices, per outcome, in the order of the frame's columns.
CHOICE_NAMES = {
    "response_rate": ("time_window", "responder_threshold", "include_unstated_time", "include_inferred", "designs",
                      "model", "left_out"),
    "controlled": ("measure", "time_window", "responder_threshold", "include_inferred", "designs", "model",
                   "left_out"),
}

#: Half-normal prior scales on tau of the Bayesian specifications (0.5: the usual default;
#: 1: the calibrated headline choice of benchmarks/coverage.py).
PRIOR_SCALES = (0.5, 1.0)


#: Readers' names of the choices (and of the parts of a model), by column of the frame.
CHOICE_TITLES = {
    "measure": "Measure",
    "time_window": "Time window",
    "responder_threshold": "Responder threshold",
    "include_unstated_time": "Rows without a stated time",
    "include_inferred": "Inferred values",
    "designs": "Designs",
    "model": "Model",
    "proportion_model": "Model",
    "comparison_model": "Model",
    "method": "tau² estimator",
    "test": "Test",
    "tau_prior_scale": "Prior on tau",
    "left_out": "Sample left out",
}

#: Columns of the choice panel beneath the specification curve (the model in its parts).
PANEL_COLUMNS = {
    "response_rate": ("time_window", "responder_threshold", "include_unstated_time", "include_inferred", "designs",
                      "proportion_model", "method", "test", "tau_prior_scale", "left_out"),
    "controlled": ("measure", "time_window", "responder_threshold", "include_inferred", "designs", "comparison_model",
                   "method", "test", "tau_prior_scale", "left_out"),
}

_MODEL_NAMES = {"GLMM": "GLMM", "PLO": "Logit (PLO)", "PFT": "Freeman-Tukey (PFT)", "IV": "Inverse-variance",
                "BAYES": "Bayesian"}


def value_label(column: str, value) -> str:
    """A choice's value as readers see it (tables, figure, page explorer).

    >>> value_label("time_window", "during_or_immediate"), value_label("responder_threshold", None)
    ('≤ 4 h', "each study's own")
    >>> value_label("responder_threshold", 50.0), value_label("test", "knha"), value_label("left_out", None)
    ('50%', 'Hartung-Knapp', 'none')
    """
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if column == "time_window":
        return WINDOW[value].axis_label
    if column == "responder_threshold":
        return "each study's own" if missing else format_percent(float(value) / 100)
    if column in ("include_unstated_time", "include_inferred"):
        return "counted" if value else "left out"
    if column == "designs":
        return DESIGNS[value]
    if column == "measure":
        return measure_scale(value).label
    if column in ("proportion_model", "comparison_model"):
        return _MODEL_NAMES[value]
    if column == "test":
        return "not applicable" if missing else ("Hartung-Knapp" if value == "knha" else "z")
    if column == "tau_prior_scale":
        return "not applicable" if missing else f"half-normal({plain(value)})"
    if missing:
        return "none" if column == "left_out" else "not applicable"
    return str(value)


def as_values(column: pd.Series) -> list:
    """A column's values with every missing value as None (comparable, hashable)."""
    return list(column.astype(object).where(column.notna(), None))


class Model(NamedTuple):
    """A pooling model in the plan's vocabulary.

    ``name`` is the plan's ``proportion_model`` (response rates: GLMM, PLO, PFT, BAYES) or
    ``comparison_model`` (controlled: IV, BAYES); ``method`` and ``test`` apply to
    inverse-variance models, ``tau_prior_scale`` to Bayesian ones (None otherwise).
    """

    name: str
    method: str | None = None
    test: str | None = None
    tau_prior_scale: float | None = None

    @property
    def label(self) -> str:
        """For readers: ``"GLMM"``, ``"PLO, REML, Hartung-Knapp"``, ``"Bayesian, half-normal(1)"``."""
        if self.name == "BAYES":
            return f"Bayesian, half-normal({plain(self.tau_prior_scale)})"
        if self.method is None:
            return self.name
        return f"{self.name}, {self.method}, {value_label('test', self.test)}"

    @property
    def inverse_variance(self) -> bool:
        return self.method is not None

    def plan_fields(self, outcome: str) -> dict[str, object]:
        """The plan's fields this model sets."""
        fields = {"proportion_model" if outcome == "response_rate" else "comparison_model": self.name}
        if self.method is not None:
            fields["method"] = self.method
            fields["proportion_test" if outcome == "response_rate" else "test"] = self.test
        if self.tau_prior_scale is not None:
            fields["tau_prior_scale"] = float(self.tau_prior_scale)
        return fields


def default_models(outcome: str = "response_rate") -> tuple[Model, ...]:
    """The protocol's defensible models of ``outcome`` (module docstring)."""
    check_option("outcome", outcome, OUTCOMES)
    inverse_variance = ("PLO", "PFT") if outcome == "response_rate" else ("IV",)
    models = [Model("GLMM")] if outcome == "response_rate" else []
    models += [Model(name, method, test) for name in inverse_variance
               for method in BATCHED_METHODS for test in BATCHED_TESTS]
    models += [Model("BAYES", tau_prior_scale=scale) for scale in PRIOR_SCALES]
    return tuple(models)


def _poolable_thresholds(studies: pd.DataFrame) -> tuple[float, ...]:
    rows = studies[(studies["outcome"] == "responders") & studies["ketamine_events"].notna()]
    return tuple(sorted(float(t) for t in rows["responder_threshold_percent"].dropna().unique()))


def default_choices(studies: pd.DataFrame, outcome: str = "response_rate") -> dict[str, tuple]:
    """The protocol's defensible choices for ``outcome`` on ``studies`` (module docstring)."""
    check_option("outcome", outcome, OUTCOMES)
    choices = {
        "time_window": TIME_WINDOWS,
        "responder_threshold": (None, *_poolable_thresholds(studies)),
        "include_unstated_time": (True, False),
        # only a table loaded with its provenance knows which values are inferred
        "include_inferred": (True, False) if INFERRED_VALUES in studies.columns else (True,),
        "designs": tuple(DESIGNS),
        "model": default_models(outcome),
        "measure": CONTROLLED_MEASURES,
        "left_out": (False, True),
    }
    if outcome == "controlled":
        choices.pop("include_unstated_time")
        choices["designs"] = ("all", "randomised")  # controlled rows have a control arm by definition
    else:
        choices.pop("measure")
    return choices


def _check_choices(choices: Mapping[str, Sequence], outcome: str) -> dict[str, tuple]:
    names = CHOICE_NAMES[outcome]
    unknown = sorted(set(choices) - set(names))
    if unknown:
        raise AnalysisError(f"multiverse choice {unknown[0]!r} does not apply to outcome={outcome!r}; "
                            f"choices: {', '.join(names)}")
    checked = {}
    for name, values in choices.items():
        values = (values,) if isinstance(values, (str, bool, Model)) or values is None else tuple(values)
        if not values:
            raise AnalysisError(f"multiverse choice {name!r} has no values")
        for value in values:
            _check_value(name, value, outcome)
        checked[name] = values
    return checked


def _check_value(name: str, value, outcome: str) -> None:
    allowed = {"time_window": TIME_WINDOWS, "designs": tuple(DESIGNS), "measure": CONTROLLED_MEASURES}
    if name in allowed:
        check_option(name, value, allowed[name])
    elif name in ("include_unstated_time", "include_inferred", "left_out") and not isinstance(value, bool):
        raise AnalysisError(f"multiverse choice {name!r} takes True or False, not {plain(value)}")
    elif name == "model":
        names = ("GLMM", "PLO", "PFT", "BAYES") if outcome == "response_rate" else ("IV", "BAYES")
        if not isinstance(value, Model) or value.name not in names:
            raise AnalysisError(f"multiverse model {value!r} is not one of the batched models "
                                f"({', '.join(names)}); build it with analysis.review.multiverse.Model")
        if value.inverse_variance != (value.name in ("PLO", "PFT", "IV")):
            raise AnalysisError(f"multiverse model {value!r}: {value.name} needs a tau² method and a test "
                                "exactly when it is an inverse-variance model")
        if value.inverse_variance:
            check_option("method", value.method, BATCHED_METHODS)
            check_option("test", value.test, BATCHED_TESTS)
        if (value.name == "BAYES") != (value.tau_prior_scale is not None):
            raise AnalysisError(f"multiverse model {value!r}: tau_prior_scale belongs to BAYES models only")
    elif name == "responder_threshold" and value is not None:
        AnalysisPlan(responder_threshold=value)  # the plan's own check and message


@dataclass(frozen=True)
class MultiverseSummary:
    """How much the answer depends on the choices (estimable specifications only).

    Attributes
    ----------
    outcome : str
    specifications, estimable, distinct : int
        All specifications, those on the curve (with an estimate; for controlled
        comparisons, on the summary's measure), and those with rows and a model not seen
        before.
    minimum, maximum, median : float
        Of the estimates on the natural scale (proportion or ratio/difference).
    above, below, includes : float
        Shares (0-1) of estimable specifications whose interval lies above, below or
        includes the reference value.
    reference : float
        The 50 % mark (``response_rate_threshold``) or the null value of the measure.
    is_proportion : bool
    measure : str or None
        Controlled comparisons: the measure summarised (RR, OR, RD).
    """

    outcome: str
    specifications: int
    estimable: int
    distinct: int
    minimum: float
    maximum: float
    median: float
    above: float
    below: float
    includes: float
    reference: float
    is_proportion: bool
    measure: str | None = None

    @property
    def what(self) -> str:
        """What the estimates are, in words: "pooled response rate", "risk ratio"."""
        return "pooled response rate" if self.is_proportion else measure_scale(self.measure).label.lower()

    def format(self, value: float) -> str:
        """A value of the summary in the house style."""
        return format_percent(value) if self.is_proportion else format_effect(value)

    def __str__(self) -> str:
        fmt = self.format
        return (f"{self.specifications} specifications ({self.estimable} estimable, {self.distinct} distinct): "
                f"estimates {format_interval(self.minimum, self.maximum, percent=self.is_proportion)}, "
                f"median {fmt(self.median)}; intervals above {fmt(self.reference)}: "
                f"{format_percent(self.above)}, below: {format_percent(self.below)}, "
                f"including it: {format_percent(self.includes)}")


@dataclass(frozen=True)
class Multiverse:
    """Every specification of one outcome (see :func:`multiverse`).

    Attributes
    ----------
    outcome : str
    base : AnalysisPlan
        The plan the specifications vary (its confidence level and 50 % mark apply to all).
    choices : dict
        The choices enumerated, by name.
    frame : DataFrame
        See :meth:`to_frame`.
    """

    outcome: str
    base: AnalysisPlan
    choices: Mapping[str, tuple]
    _specs: tuple = field(repr=False)
    _exclusions: _Exclusions = field(repr=False)
    frame: pd.DataFrame = field(repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    def to_frame(self) -> pd.DataFrame:
        """One row per specification.

        Columns: ``specification`` (number), the choices (:data:`CHOICE_NAMES`; ``model``
        as its reader's label, with ``proportion_model``/``comparison_model``, ``method``,
        ``test``, ``tau_prior_scale`` beside it, None where they do not apply; ``left_out``
        the label of the sample left out or None), ``k``, ``patients``, ``studies``
        (labels), ``estimate``, ``ci_lb``, ``ci_ub`` (natural scale), ``reference``,
        ``side`` ("above", "below" or "includes" the reference), ``excludes_reference``,
        ``is_default`` (the base plan's own specification), ``duplicate_of`` (the first
        specification with the same rows and model, or NA) and ``reason`` (why a
        specification has no estimate; empty otherwise).
        """
        return self.frame.copy()

    def plan(self, specification: int) -> AnalysisPlan:
        """The :class:`AnalysisPlan` of a specification (its number in the frame)."""
        return self._exclusions.plan(self._specs[int(specification)], self.base, self.outcome)

    def estimable(self) -> pd.DataFrame:
        """The rows with an estimate."""
        return self.frame[self.frame["reason"] == ""]

    def curve(self, measure: str | None = None) -> pd.DataFrame:
        """The specification curve: estimable rows sorted by estimate (ties by number).

        Controlled comparisons are on one scale at a time: ``measure`` (default the base
        plan's) selects it.
        """
        rows = self.estimable()
        if self.outcome == "controlled":
            measure = measure or self.base.measure
            check_option("measure", measure, tuple(self.choices["measure"]))
            rows = rows[rows["measure"] == measure]
        return rows.sort_values(["estimate", "specification"], kind="stable")

    def by_choice(self, measure: str | None = None) -> list[tuple[str, str, pd.DataFrame]]:
        """``(choice, value, rows)`` for every value of every choice of the panel (:data:`PANEL_COLUMNS`):
        the rows of :meth:`curve` that made it. Values in the order they were enumerated;
        choices with one value on the curve are left out."""
        curve = self.curve(measure)
        groups = []
        for column in PANEL_COLUMNS[self.outcome]:
            values = as_values(curve[column])
            present = set(values)
            distinct = [v for v in dict.fromkeys(as_values(self.frame[column])) if v in present]
            if len(distinct) < 2:
                continue
            for value in distinct:
                rows = curve[[v == value for v in values]]
                groups.append((CHOICE_TITLES[column], value_label(column, value), rows))
        return groups

    def default_row(self) -> pd.Series | None:
        """The base plan's own specification, if the choices include it."""
        rows = self.frame[self.frame["is_default"]]
        return rows.iloc[0] if len(rows) else None

    def summary(self, measure: str | None = None) -> MultiverseSummary:
        """Range, median and the share of specifications on each side of the reference value
        (of :meth:`curve`; every specification with an estimate, duplicates included)."""
        rows = self.curve(measure)
        if rows.empty:
            raise AnalysisError(f"no specification of the {self.outcome} multiverse has an estimate")
        shares = rows["side"].value_counts(normalize=True)
        return MultiverseSummary(
            self.outcome, len(self.frame), len(rows), int(self.frame["duplicate_of"].isna().sum()),
            float(rows["estimate"].min()), float(rows["estimate"].max()), float(rows["estimate"].median()),
            float(shares.get("above", 0.0)), float(shares.get("below", 0.0)),
            float(shares.get("includes", 0.0)), float(rows["reference"].iloc[0]), self.outcome == "response_rate",
            rows["measure"].iloc[0] if self.outcome == "controlled" else None)

    def place(self, estimate: float, measure: str | None = None) -> tuple[int, int, float]:
        """Where an estimate (natural scale) falls on :meth:`curve`: ``(rank, n, share_higher)``,
        ``rank`` = 1 + the specifications with a lower estimate."""
        values = self.curve(measure)["estimate"].to_numpy(float)
        if values.size == 0:
            raise AnalysisError(f"no specification of the {self.outcome} multiverse has an estimate")
        return int((values < estimate).sum()) + 1, int(values.size), float((values > estimate).mean())

    def rank(self, specification: int) -> tuple[int, int, float]:
        """``(rank, n, share_higher)``: the specification's place on :meth:`curve` (1 = lowest
        estimate), the length of the curve and the share of it with a higher estimate."""
        row = self.frame.loc[int(specification)]
        if row["reason"]:
            raise AnalysisError(f"specification {specification} has no estimate: {row['reason']}")
        rows = self.curve(row.get("measure") if self.outcome == "controlled" else None)
        positions = list(rows["specification"])
        higher = float((rows["estimate"] > row["estimate"]).mean())
        return positions.index(int(specification)) + 1, len(positions), higher


# ---------------------------------------------------------------- enumeration


class _Data(NamedTuple):
    """Choices that select rows (everything but the model and the measure)."""

    time_window: str
    responder_threshold: float | None
    include_unstated_time: bool
    designs: str
    include_inferred: bool = True


#: Columns the row selection reads (a narrow copy selects faster; same rows).
_SELECTION_COLUMNS = ("row_id", "study_id", "cohort_id", "study_label", "year", "design", "control", "outcome",
                      "time_window", "timepoint_hours", "responder_threshold_percent", "include_in_pooling",
                      "ketamine_events", "ketamine_n", "control_events", "control_n")


def _narrow(studies: pd.DataFrame) -> pd.DataFrame:
    """The columns the selection reads, as plain float and object columns: the same rows are
    selected, about three times faster than through pandas' nullable and string dtypes."""
    columns = {}
    for name in (*_SELECTION_COLUMNS, *([INFERRED_VALUES] if INFERRED_VALUES in studies.columns else [])):
        column = studies[name]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
            columns[name] = pd.Series(column.astype(float).to_numpy(), index=studies.index)
        else:
            values = column.astype(object).where(column.notna(), None).to_numpy()
            columns[name] = pd.Series(values, index=studies.index, dtype=object)
    return pd.DataFrame(columns)


def _selections(studies, base, outcome, choices):
    """Yield ``(data choices, rows)`` for every data combination (before leaving a sample out)."""
    narrow = _narrow(studies)
    unstated = choices.get("include_unstated_time", (base.include_unstated_time,))
    inferred = choices.get("include_inferred", (base.include_inferred,))
    for window, threshold, include, with_inferred in itertools.product(
            choices["time_window"], choices["responder_threshold"], unstated, inferred):
        plan = replace(base, time_window=window, responder_threshold=threshold, include_unstated_time=include,
                       include_inferred=with_inferred)
        rows = plan.response_rate_rows(narrow) if outcome == "response_rate" else plan.controlled_rows(narrow)
        for designs in choices["designs"]:
            yield _Data(window, threshold, include, designs, with_inferred), select_designs(rows, designs)


class _RowSet(NamedTuple):
    """The rows of a specification, with what the frame shows of them (shared across models)."""

    rows: pd.DataFrame
    key: tuple[str, ...]
    patients: int
    studies: str


def _row_set(rows: pd.DataFrame, outcome: str) -> _RowSet:
    patients = rows["ketamine_n"].sum() + (rows["control_n"].sum() if outcome == "controlled" else 0)
    return _RowSet(rows, tuple(rows["row_id"]), int(patients), "; ".join(rows["study_label"]))


class _Spec(NamedTuple):
    data: _Data
    measure: str | None
    model: Model
    left_out: str | None  # cohort_id
    left_out_label: str | None
    rowset: _RowSet

    @property
    def rows(self) -> pd.DataFrame:
        return self.rowset.rows


def _specifications(studies, base, outcome, choices):
    measures = choices.get("measure", (None,))
    for data, rows in _selections(studies, base, outcome, choices):
        left_out = [None] + (list(rows["cohort_id"]) if True in choices["left_out"] else [])
        if False not in choices["left_out"]:
            left_out = left_out[1:]
        labels = dict(zip(rows["cohort_id"], rows["study_label"]))
        for cohort in left_out:
            rowset = _row_set(rows if cohort is None else rows[rows["cohort_id"] != cohort], outcome)
            for measure, model in itertools.product(measures, choices["model"]):
                yield _Spec(data, measure, model, cohort, labels.get(cohort), rowset)


class _Exclusions(NamedTuple):
    """study_id values left out by each ``designs`` value and with each patient sample."""

    designs: Mapping[str, frozenset]
    cohorts: Mapping[str, frozenset]

    @classmethod
    def of(cls, studies: pd.DataFrame, designs) -> _Exclusions:
        every = frozenset(studies["study_id"])
        return cls({name: every - frozenset(select_designs(studies, name)["study_id"]) for name in designs},
                   {cohort: frozenset(ids) for cohort, ids in studies.groupby("cohort_id")["study_id"]})

    def plan(self, spec: _Spec, base: AnalysisPlan, outcome: str) -> AnalysisPlan:
        exclude = set(base.exclude) | self.designs[spec.data.designs]
        if spec.left_out is not None:
            exclude |= self.cohorts[spec.left_out]
        fields = dict(time_window=spec.data.time_window, responder_threshold=spec.data.responder_threshold,
                      include_unstated_time=spec.data.include_unstated_time,
                      include_inferred=spec.data.include_inferred, exclude=tuple(sorted(exclude)),
                      **spec.model.plan_fields(outcome))
        if spec.measure is not None:
            fields["measure"] = spec.measure
        return replace(base, **fields)


# ---------------------------------------------------------------- fitting


class _Estimate(NamedTuple):
    estimate: float
    ci_lb: float
    ci_ub: float
    reason: str = ""


_NOT_ESTIMABLE = _Estimate(math.nan, math.nan, math.nan)


def _reason(call) -> str:
    """The AnalysisError a one-by-one call raises (the reason a specification has no estimate)."""
    try:
        call()
    except AnalysisError as error:
        return str(error)
    raise AssertionError("a specification the batch found not estimable was estimable one by one")


class _Fitter:
    """Fits every specification of one outcome, each distinct computation once."""

    def __init__(self, plan: AnalysisPlan, outcome: str):
        self.plan, self.outcome = plan, outcome
        self._comparisons: dict[tuple, pd.DataFrame] = {}
        self._reasons: dict[str, str] = {}

    def comparisons(self, spec: _Spec) -> pd.DataFrame:
        """``rows`` with yi/vi of the specification's measure (the plan's ``comparisons``)."""
        key = (spec.measure, spec.rowset.key)
        if key not in self._comparisons:
            self._comparisons[key] = replace(self.plan, measure=spec.measure).comparisons(spec.rows)
        return self._comparisons[key]

    def effects(self, spec: _Spec):
        """yi, vi and the back-transform of an inverse-variance model on the specification's rows."""
        if self.outcome == "response_rate":
            rows, name = spec.rows, spec.model.name
            events, n = rows["ketamine_events"].to_numpy(int), rows["ketamine_n"].to_numpy(int)
            yi, vi, _ = escalc_proportions(events, n, name)
            n_harmonic = float(1.0 / np.mean(1.0 / n))
            return yi, vi, lambda values: back_transform_proportion(values, name, n_harmonic)
        comparisons = self.comparisons(spec)
        return (comparisons["yi"].to_numpy(float), comparisons["vi"].to_numpy(float),
                lambda values: back_transform(values, spec.measure))

    def inverse_variance(self, specs) -> dict[int, _Estimate]:
        """Batched fits: one stacked fit per (model, measure) over every distinct row set."""
        results = {}
        groups: dict[tuple, dict[tuple, list[int]]] = {}
        for i, spec in enumerate(specs):
            if spec.model.inverse_variance and len(spec.rows):
                by_rows = groups.setdefault((spec.model, spec.measure), {})
                by_rows.setdefault(spec.rowset.key, []).append(i)
        for (model, _), by_rows in groups.items():
            effects = [self.effects(specs[members[0]]) for members in by_rows.values()]
            y, v, mask = stack([(yi, vi) for yi, vi, _ in effects])
            fit = fit_batch(y, v, mask, model.method, model.test, self.plan.confidence_level)
            for row, members in enumerate(by_rows.values()):
                natural = effects[row][2]([fit.estimate[row], fit.ci_lb[row], fit.ci_ub[row]])
                results.update(dict.fromkeys(members, _Estimate(*map(float, natural))))
        return results

    def binomial(self, spec: _Spec) -> _Estimate:
        """GLMM or Bayesian binomial-normal model of one row set, as ``plan.pool_rates`` fits it."""
        rows, model, plan = spec.rows, spec.model, self.plan
        try:
            if model.name == "BAYES":  # the posterior's pooled proportion only, by the engine's own path
                return _Estimate(*pooled_proportion(rows["ketamine_events"].to_numpy(int),
                                                    rows["ketamine_n"].to_numpy(int),
                                                    tau_prior_scale=model.tau_prior_scale,
                                                    confidence_level=plan.confidence_level))
            natural = plan.pool_rates(rows, model.name).natural()
        except AnalysisError as error:
            return _Estimate(math.nan, math.nan, math.nan, str(error))
        return _Estimate(natural.estimate, natural.ci_lb, natural.ci_ub)

    def bayesian_comparison(self, spec: _Spec) -> _Estimate:
        """Bayesian normal-normal model of one row set, as ``plan.controlled(...).primary``."""
        plan = replace(self.plan, measure=spec.measure, tau_prior_scale=spec.model.tau_prior_scale)
        natural = plan.compare_bayesian(self.comparisons(spec)).natural()
        return _Estimate(natural.estimate, natural.ci_lb, natural.ci_ub)

    def empty(self, spec: _Spec) -> _Estimate:
        """No row left: the plan's own message (it names the window of a comparison)."""
        window = spec.data.time_window
        if window not in self._reasons:
            plan = AnalysisPlan(time_window=window)
            call = (lambda: plan.pool_rates(spec.rows)) if self.outcome == "response_rate" else (
                lambda: plan.controlled(spec.rows))
            self._reasons[window] = _reason(call)
        return _NOT_ESTIMABLE._replace(reason=self._reasons[window])

    def all(self, specs) -> list[_Estimate]:
        results = self.inverse_variance(specs)
        cache: dict[tuple, _Estimate] = {}
        for i, spec in enumerate(specs):
            if i in results:
                continue
            if len(spec.rows) == 0:
                results[i] = self.empty(spec)
                continue
            key = (spec.model, spec.measure, spec.rowset.key)
            if key not in cache:
                cache[key] = (self.binomial(spec) if self.outcome == "response_rate"
                              else self.bayesian_comparison(spec))
            results[i] = cache[key]
        return [results[i] for i in range(len(specs))]


# ---------------------------------------------------------------- the function


def multiverse(studies: pd.DataFrame, outcome: str = "response_rate", choices: Mapping[str, Sequence] | None = None,
               *, plan: AnalysisPlan | None = None) -> Multiverse:
    """Run every combination of the defensible analytic choices for one outcome.

    Parameters
    ----------
    studies : DataFrame
        ``data/studies.csv`` as :func:`analysis.data.load_studies` gives it.
    outcome : {"response_rate", "controlled"}
        The pooled response rate in ketamine arms, or responders against control.
    choices : mapping, optional
        Values per choice name (:data:`CHOICE_NAMES`), replacing those of
        :func:`default_choices` (the protocol's defensible set, module docstring). Models
        are :class:`Model` values; ``left_out`` is ``(False, True)`` for none and each
        sample in turn.
    plan : AnalysisPlan, optional
        The base plan (default ``AnalysisPlan()``): its confidence level, 50 % mark and
        exclusions hold for every specification, and its own specification is marked
        ``is_default``.

    Returns
    -------
    Multiverse
        ``to_frame()`` (one row per specification), ``summary()``, ``plan(i)``, ``rank(i)``.

    Examples
    --------
    >>> from analysis.data import load_studies
    >>> studies = load_studies()  # the five samples of 2011 (a newer trial would move the numbers)
    >>> studies = studies[studies["year"] <= 2011]
    >>> universe = multiverse(studies, choices={"time_window": ["during_or_immediate"],
    ...                       "responder_threshold": [None], "include_unstated_time": [True], "include_inferred": [True],
    ...                       "designs": ["all"], "left_out": [False], "model": [Model("GLMM")]})
    >>> row = universe.to_frame().iloc[0]
    >>> int(row["k"]), int(row["patients"]), f"{row['estimate']:.3f}", row["side"]
    (5, 103, '0.571', 'includes')
    """
    check_option("outcome", outcome, OUTCOMES)
    base = plan or AnalysisPlan()
    chosen = {**default_choices(studies, outcome), **_check_choices(choices or {}, outcome)}
    specs = list(_specifications(studies, base, outcome, chosen))
    estimates = _Fitter(base, outcome).all(specs)
    frame = _frame(specs, estimates, base, outcome)
    return Multiverse(outcome, base, chosen, tuple(specs), _Exclusions.of(studies, chosen["designs"]), frame)


def _frame(specs, estimates, base, outcome) -> pd.DataFrame:
    seen: dict[tuple, int] = {}
    records = []
    default = _default_key(base, outcome)
    for i, (spec, estimate) in enumerate(zip(specs, estimates)):
        key = (spec.model, spec.measure, spec.rowset.key)
        duplicate_of = seen.setdefault(key, i)
        reference = (base.response_rate_threshold if outcome == "response_rate"
                     else measure_scale(spec.measure).null_value)
        side = None
        if not estimate.reason:
            side = ("above" if estimate.ci_lb > reference else "below" if estimate.ci_ub < reference
                    else "includes")
        record = {
            "specification": i,
            "measure": spec.measure,
            "time_window": spec.data.time_window,
            "responder_threshold": spec.data.responder_threshold,
            "include_unstated_time": spec.data.include_unstated_time,
            "include_inferred": spec.data.include_inferred,
            "designs": spec.data.designs,
            "model": spec.model.label,
            ("proportion_model" if outcome == "response_rate" else "comparison_model"): spec.model.name,
            "method": spec.model.method,
            "test": spec.model.test,
            "tau_prior_scale": spec.model.tau_prior_scale,
            "left_out": spec.left_out_label,
            "k": len(spec.rows),
            "patients": spec.rowset.patients,
            "studies": spec.rowset.studies,
            "estimate": estimate.estimate,
            "ci_lb": estimate.ci_lb,
            "ci_ub": estimate.ci_ub,
            "reference": float(reference),
            "side": side,
            "excludes_reference": side in ("above", "below"),
            "is_default": (spec.data, spec.measure, spec.model, spec.left_out) == default,
            "duplicate_of": pd.NA if duplicate_of == i else duplicate_of,
            "reason": estimate.reason,
        }
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame["duplicate_of"] = frame["duplicate_of"].astype("Int64")
    if outcome == "response_rate":
        frame = frame.drop(columns="measure")
    else:
        frame = frame.drop(columns="include_unstated_time")
    return frame


def _default_key(base: AnalysisPlan, outcome: str):
    data = _Data(base.time_window, base.responder_threshold, base.include_unstated_time, "all",
                 base.include_inferred)
    if outcome == "response_rate":
        name = base.proportion_model
        inverse_variance = name in ("PLO", "PFT")
        model = Model(name, base.method if inverse_variance else None,
                      base.proportion_test if inverse_variance else None,
                      float(base.tau_prior_scale) if name == "BAYES" else None)
        return data, None, model, None
    data = data._replace(include_unstated_time=base.include_unstated_time)
    inverse_variance = base.comparison_model == "IV"
    model = Model(base.comparison_model, base.method if inverse_variance else None,
                  base.test if inverse_variance else None,
                  float(base.tau_prior_scale) if not inverse_variance else None)
    return data, base.measure, model, None
