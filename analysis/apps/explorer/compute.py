"""What the explorer shows for one set of choices, computed without widgets.

:func:`explore` turns an :class:`~analysis.apps.explorer.choices.ExplorerState` into an
:class:`Exploration`: the pooled rows, the pooled result, the forest plot, the
narrative sentence (:func:`analysis.present.narrative.describe_estimate`), the GRADE
summary-of-findings row (:func:`analysis.review.grade.grade_outcome`), one line
comparing it with the protocol's primary analysis and, given the outcome's
multiverse, where the estimate sits on its specification curve. A choice that leaves nothing
to pool gives an Exploration with a plain ``message`` and no result, never an
exception.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import matplotlib
import pandas as pd

from analysis.engine._errors import AnalysisError
from analysis.engine.contract import PooledResult
from analysis.data import studies_dictionary
from analysis.apps.explorer.choices import ExplorerState, describe_changes, select_designs
from analysis.review.protocol import OUTCOMES, WINDOW
from analysis.engine.formatting import format_percent
from analysis.review.grade import GradeAssessment, grade_outcome, evidence_profile
from analysis.review.multiverse import Multiverse, multiverse
from analysis.present.narrative import describe_estimate
from analysis.review.plan import AnalysisPlan
from analysis.present.plots import as_plain_text, forest_plot
from analysis.present.tables import labelled

#: The GRADE outcome key of each outcome (as the summary report grades it; the curators'
#: overrides in data/grade_overrides.csv refer to these keys).
GRADE_OUTCOMES = {"response_rate": "response_rate", "controlled": "controlled_responders"}

#: Forest-plot columns of each outcome (header -> column or template of the pooled rows).
FOREST_COLUMNS = {
    "response_rate": {"Design": "design", "Events / n": "{ketamine_events:.0f}/{ketamine_n:.0f}"},
    "controlled": {"Ketamine": "{ketamine_events:.0f}/{ketamine_n:.0f}",
                   "Control": "{control_events:.0f}/{control_n:.0f}", "Design": "design"},
}


@dataclass(frozen=True)
class Exploration:
    """What the explorer shows for one set of choices.

    Attributes
    ----------
    state : ExplorerState
    plan : AnalysisPlan
        The plan of ``state`` (:meth:`ExplorerState.plan`).
    rows : DataFrame
        The rows pooled (after the designs filter); empty when nothing is left.
    result : PooledResult or None
        None when nothing can be pooled; ``message`` then says why.
    sentence : str
        The estimate in words (:func:`analysis.present.narrative.describe_estimate`).
    grade : GradeAssessment or None
        The summary-of-findings row (None with ``grade_message`` saying why).
    changes : str
        How the choices differ from the primary analysis (:func:`describe_changes`).
    comparison : str
        The result beside the primary analysis's, in numbers.
    message : str
        Why nothing is shown, in plain words ("" when a result is shown).
    grade_message : str
    multiverse : str
        Where the estimate sits among the multiverse's specifications (:func:`multiverse_place`;
        "" when no multiverse was given).
    """

    state: ExplorerState
    plan: AnalysisPlan
    rows: pd.DataFrame = field(repr=False)
    result: PooledResult | None
    sentence: str = ""
    grade: GradeAssessment | None = None
    changes: str = ""
    comparison: str = ""
    message: str = ""
    grade_message: str = ""
    multiverse: str = ""

    @property
    def difference(self) -> str:
        """The line saying how this differs from the primary analysis (choices, then numbers)."""
        return " ".join(part for part in (self.changes, self.comparison) if part)

    def grade_frame(self) -> pd.DataFrame:
        """The summary-of-findings row as a one-row table (empty when there is none)."""
        if self.grade is None:
            return pd.DataFrame()
        return evidence_profile([self.grade]).to_frame().drop(columns=["outcome"]).set_index("label")

    def figure(self):
        """The forest plot of the result (None when there is none)."""
        if self.result is None:
            return None
        favours = ("Favours control", "Favours ketamine") if self.state.outcome == "controlled" else None
        return forest_plot(self.result, data=labelled(self.rows, studies_dictionary()), label_column="study_label",
                           columns=FOREST_COLUMNS[self.state.outcome], favours=favours,
                           counts_header=None, title=OUTCOMES[self.state.outcome])


def pooled(state: ExplorerState, studies: pd.DataFrame) -> tuple[AnalysisPlan, pd.DataFrame, PooledResult]:
    """The plan, the rows and the pooled result of ``state``.

    Raises
    ------
    AnalysisError
        When the choices leave nothing to pool (the message says so plainly).
    """
    plan = state.plan()
    if state.outcome == "response_rate":
        rows = select_designs(plan.response_rate_rows(studies), state.designs)
        return plan, rows, plan.pool_rates(rows)
    rows = select_designs(plan.controlled_rows(studies), state.designs)
    if rows.empty:
        raise AnalysisError(f"no study counts responders in both arms in the {WINDOW[state.time_window].axis_label} "
                            "window with these choices: nothing to compare")
    comparisons = plan.comparisons(rows)
    return plan, comparisons, plan.compare(comparisons)


def headline(result: PooledResult) -> str:
    """``"57% (95% CI 44% to 69%; 5 studies)"``: the estimate in a few words."""
    natural = result.natural()
    studies = f"{result.k} stud{'y' if result.k == 1 else 'ies'}"
    return (f"{natural.format(natural.estimate)} ({100 * result.confidence_level:g}% {result.interval_name} "
            f"{natural.interval_text()}; {studies})")


def compare_with_primary(result: PooledResult, primary: PooledResult) -> str:
    """The result beside the primary analysis's, in one sentence.

    Examples
    --------
    >>> from analysis.engine.proportions import pool_proportions
    >>> primary = pool_proportions([8, 17, 8, 13, 11], [12, 29, 11, 34, 17])
    >>> compare_with_primary(primary, primary)
    'Result as in the primary analysis: 57% (95% CI 44% to 69%; 5 studies).'
    >>> compare_with_primary(pool_proportions([8, 17], [12, 29]), primary)
    'Result 61% (95% CI 45% to 75%; 2 studies), against 57% (95% CI 44% to 69%; 5 studies) in the primary analysis.'
    """
    here, there = headline(result), headline(primary)
    if here == there:
        return f"Result as in the primary analysis: {here}."
    return f"Result {here}, against {there} in the primary analysis."


def multiverse_place(result: PooledResult, universe: Multiverse) -> str:
    """Where ``result``'s estimate sits among the multiverse's specifications, in one sentence.

    For a controlled comparison, among the specifications on the result's measure.

    Examples
    --------
    >>> from analysis.data import load_studies
    >>> from analysis.review.multiverse import Model, multiverse
    >>> universe = multiverse(load_studies(), choices={"model": [Model("PLO", "DL", "z")], "left_out": [False]})
    >>> multiverse_place(AnalysisPlan().response_rate(load_studies()), universe)  # doctest: +ELLIPSIS
    'In the multiverse of ... specifications with an estimate, this estimate ranks ... (lowest first): ...% of them give a higher estimate.'
    """
    measure = result.measure if universe.outcome == "controlled" else None
    rank, n, higher = universe.place(result.natural().estimate, measure)
    return (f"In the multiverse of {n} specifications with an estimate, this estimate ranks {rank} of {n} "
            f"(lowest first): {format_percent(higher)} of them give a higher estimate.")


def explore(state: ExplorerState, studies: pd.DataFrame, *, labels=None, primary: PooledResult | None = None,
            overrides: pd.DataFrame | None = None, universe: Multiverse | None = None) -> Exploration:
    """Everything the explorer shows for ``state``.

    Parameters
    ----------
    state : ExplorerState
    studies : DataFrame
        ``analysis.data.load_studies()``.
    labels : mapping of str to str, optional
        ``study_id -> label`` for the sentence on studies left out.
    primary : PooledResult, optional
        The primary analysis of the same outcome (computed when not given; pass it to
        save the refit on every change).
    overrides : DataFrame, optional
        ``analysis.review.grade.load_grade_overrides()``.
    universe : Multiverse, optional
        The multiverse of the same outcome (:func:`analysis.review.multiverse.multiverse`): the
        exploration then says where its estimate sits on the specification curve.

    Returns
    -------
    Exploration
    """
    changes = describe_changes(state, labels)
    try:
        plan, rows, result = pooled(state, studies)
    except AnalysisError as nothing:
        reason = str(nothing).rstrip(".")
        return Exploration(state, state.plan(), pd.DataFrame(), None, changes=changes,
                           message=f"{reason[:1].upper()}{reason[1:]}.")
    if primary is None:
        primary = primary_result(state.outcome, studies)
    comparison = compare_with_primary(result, primary)
    outcome = "response rate" if state.outcome == "response_rate" else "responders"
    sentence = describe_estimate(result, outcome=outcome)
    try:
        threshold = plan.response_rate_threshold if state.outcome == "response_rate" else None
        grade, grade_message = grade_outcome(GRADE_OUTCOMES[state.outcome], result, rows,
                                             label=OUTCOMES[state.outcome],
                                             overrides=overrides, decision_threshold=threshold), ""
    except AnalysisError as undefined:
        grade, grade_message = None, f"No GRADE rating: {undefined}"
    place = multiverse_place(result, universe) if universe is not None else ""
    return Exploration(state, plan, rows, result, sentence, grade, changes, comparison,
                       grade_message=grade_message, multiverse=place)


def outcome_multiverse(outcome: str, studies: pd.DataFrame) -> Multiverse:
    """The multiverse of ``outcome`` on ``studies`` (the protocol's defensible choices)."""
    return multiverse(studies, outcome)


def primary_result(outcome: str, studies: pd.DataFrame) -> PooledResult:
    """The protocol's primary analysis of ``outcome``."""
    return pooled(ExplorerState.primary(outcome), studies)[2]


def figure_svg(figure) -> str:
    """A figure as inline SVG markup, its text kept as text (searchable, selectable)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "analysis.apps.explorer", "svg.fonttype": "none"}):
        as_plain_text(figure).savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
    markup = buffer.getvalue()
    # scale to the width of its box (a phone's screen) instead of overflowing it
    return markup[markup.index("<svg"):].replace("<svg ", '<svg style="max-width: 100%; height: auto" ', 1)
