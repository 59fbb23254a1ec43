"""One question, one answer: the result every page, table, sentence and check reads.

A question is an outcome, a protocol time window and a comparison ("the response
rate in ketamine arms up to 4 h"; "responders, ketamine against control, at
1 week"). :meth:`analysis.review.plan.AnalysisPlan.answer` answers it once, and the
pages, the summary of findings, the claims check and the explorer read this
result instead of choosing rows or a model again: a number cannot then appear
with two intervals, two models or two names for its interval.

An :class:`Answer` carries what a reader needs to know about where the number
came from: the rows used, the model, the kind of interval (CI or CrI), the
zero-cell correction where one was added, the estimate and its intervals on the
natural scale, and the comparison arm beside any number without one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from analysis.engine.contract import NaturalScale, PooledResult
from analysis.engine.formatting import format_effect, format_percent

#: The questions the plan answers: outcome -> the comparison in words.
OUTCOMES = {
    "response_rate": "ketamine arms (no control group needed)",
    "controlled": "ketamine against control",
}


def _label(row) -> str:
    time = row["timepoint_label"] if isinstance(row.get("timepoint_label"), str) else "time not stated"
    return f"{row['study_label']} ({time})"


def arm_counts(rows: pd.DataFrame, arm: str = "control") -> str:
    """Each row's counts of one arm, ``"Noppers 2011 (15 min): 3/12"``; "" when no row has that arm.

    >>> rows = pd.DataFrame({"study_label": ["A 2011", "B 2000"], "timepoint_label": ["15 min", None],
    ...                      "control_events": [3, None], "control_n": [12, None]})
    >>> arm_counts(rows)
    'A 2011 (15 min): 3/12'
    """
    events, n = f"{arm}_events", f"{arm}_n"
    if events not in rows.columns:
        return ""
    known = rows[rows[events].notna() & rows[n].notna()]
    return "; ".join(f"{_label(r)}: {int(r[events])}/{int(r[n])}" for _, r in known.iterrows())


@dataclass(frozen=True)
class Answer:
    """The answer to one question (outcome x time window x comparison).

    Attributes
    ----------
    outcome : str
        A key of :data:`OUTCOMES`.
    time_window : str
        The protocol window.
    rows : DataFrame
        The rows used (one per patient sample; rows without a stated time only in the
        window the protocol assigns them).
    fit : PooledResult
        The plan's model fitted to ``rows`` (for one sample too: its own posterior or estimate).
    zero_cell : str
        The zero-cell correction in words, naming the rows it was added to ("" when none).
    control_events, control_n : int
        Responders and patients in the control arms of ``rows`` (0, 0 when none has one):
        the comparison arm beside a number that has none of its own.
    control : str
        The control arms' counts per row, ``"Noppers 2011 (15 min): 3/12"``.
    """

    outcome: str
    time_window: str
    rows: pd.DataFrame = field(repr=False)
    fit: PooledResult = field(repr=False)
    zero_cell: str = ""
    control_events: int = 0
    control_n: int = 0
    control: str = ""

    @property
    def comparison(self) -> str:
        """The comparison in words."""
        return OUTCOMES[self.outcome]

    @property
    def model(self) -> str:
        """The model's short label (figures, tables): ``"Bayesian RE (half-normal 1)"``."""
        return self.fit.model_label

    @property
    def interval_type(self) -> str:
        """``"CI"`` (confidence interval) or ``"CrI"`` (credible interval of a posterior)."""
        return self.fit.interval_name

    @property
    def natural(self) -> NaturalScale:
        """Estimate and intervals on the scale readers use."""
        return self.fit.natural()

    @property
    def k(self) -> int:
        return self.fit.k

    @property
    def control_risk(self) -> float:
        """Responders over patients in the control arms (NaN without one)."""
        return self.control_events / self.control_n if self.control_n else math.nan

    def estimate_text(self) -> str:
        """The estimate as the report writes it: ``"58%"``, ``"2.67"``."""
        natural = self.natural
        return format_percent(natural.estimate) if natural.is_proportion else format_effect(natural.estimate)

    def interval_text(self) -> str:
        """``"95% CrI 42% to 75%"``: level, the interval's true name, its bounds."""
        level = f"{100 * self.fit.confidence_level:g}%"
        return f"{level} {self.interval_type} {self.natural.interval_text()}"

    def text(self) -> str:
        """The number with its interval: ``"RR 2.67 (95% CrI 0.25 to 28.27)"``, ``"58% (95% CrI 42% to 75%)"``.

        Every page, table, sentence and claims verdict that gives this answer gives this text.
        """
        prefix = "" if self.natural.is_proportion else f"{self.natural.measure} "
        return f"{prefix}{self.estimate_text()} ({self.interval_text()})"

    def control_text(self) -> str:
        """The comparison arm in words, ``"control arms 3/12 = 25%"``; "" when no row has one."""
        if not self.control_n:
            return ""
        return (f"control arm{'s' if len(self.rows) > 1 else ''} {self.control_events}/{self.control_n} = "
                f"{format_percent(self.control_risk)}")
