"""The protocol's fixed facts, each in one place (``../shared/PROTOCOL.md``, ``data/README.md``).

Time windows (names, bounds, words), the designs that are never pooled or have no
control group, and the minimum number of studies for small-study tests. Selection,
duration, narrative, GRADE, plots and the small-study tests all read them here.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from analysis.engine.small_study import MIN_STUDIES_FOR_POWER


class TimeWindow(NamedTuple):
    """A protocol window after the end of the infusion.

    Attributes
    ----------
    name : str
        The value in ``data/studies.csv`` (``time_window``).
    hours : tuple of float
        Inclusive bounds in hours (the upper bound of the last window is infinite).
    axis_label : str
        Short text for a figure's axis.
    words : str
        The window in a sentence, capitalised.
    """

    name: str
    hours: tuple[float, float]
    axis_label: str
    words: str


#: The windows, in time order: <= 4 h, 1-7 d, 1-4 wk, >= 8 wk.
WINDOWS = (
    TimeWindow("during_or_immediate", (0.0, 4.0), "≤ 4 h",
               "During or immediately after the infusion (up to 4 h)"),
    TimeWindow("short_term", (24.0, 7 * 24.0), "1–7 days", "In the short term (1 to 7 days)"),
    TimeWindow("medium_term", (7 * 24.0, 28 * 24.0), "1–4 weeks", "In the medium term (1 to 4 weeks)"),
    TimeWindow("long_term", (56 * 24.0, math.inf), "≥ 8 weeks", "In the long term (8 weeks or more)"),
)

#: Window names in time order.
TIME_WINDOWS = tuple(window.name for window in WINDOWS)

#: Each window by name.
WINDOW = {window.name: window for window in WINDOWS}

#: Window of the primary analyses (response rate, controlled comparison) and of claims that give none.
PRIMARY_WINDOW = "during_or_immediate"

#: The values a pooled row's numbers rest on: the sensitivity analysis "stated and computed
#: values only" (``AnalysisPlan(include_inferred=False)``) leaves out a row when any of them is
#: inferred from wording (``certainty`` of ``data/provenance.csv``). An inferred time window
#: makes the row's time unstated instead (it then counts only where rows without a stated
#: time do).
ANALYSED_VALUES = ("ketamine_events", "ketamine_n", "control_events", "control_n", "responder_threshold_percent")

#: Designs whose rows never enter a pooled analysis (protocol: case reports are described,
#: never pooled; registered trials without results have nothing to pool).
NEVER_POOLED_DESIGNS = ("case_report", "registered_trial")

#: The questions the review pools, in the words readers see (explorer, multiverse, titles).
OUTCOMES = {
    "response_rate": "Response rate in ketamine arms",
    "controlled": "Responders, ketamine versus control",
}

#: Designs without a control group.
UNCONTROLLED_DESIGNS = ("single_arm_prospective", "single_arm_retrospective", "case_report")

#: Small-study tests are run only with at least this many studies (protocol; the engine's
#: rule from Sterne et al. 2011, BMJ 343:d4002, adopted unchanged).
MIN_STUDIES_FOR_SMALL_STUDY_TESTS = MIN_STUDIES_FOR_POWER


class Calibration(NamedTuple):
    """How often a headline model's 95 % intervals covered the truth in simulations shaped
    like this evidence (``benchmarks/coverage.py``; protocol amendment in ``data/README.md``).

    Attributes
    ----------
    prior : tuple of (str, float)
        The model's prior on tau: name and scale.
    interval, prediction : float
        Worst-cell coverage of the 95 % credible and posterior predictive intervals.
    shortfall : str
        Where the coverage fell short of the amendment's targets, and how the other
        candidates did ("" when it did not fall short).
    """

    prior: tuple[str, float]
    interval: float
    prediction: float
    shortfall: str


#: Interval coverage targets of the amendment: credible and prediction intervals.
COVERAGE_TARGETS = (0.94, 0.93)

#: The headline Bayesian models' calibration, by the measure simulated (PLO: response rates on
#: the logit scale; RR: controlled comparisons on the log RR scale), as the amendment records it.
#: Other measures (OR, RD) were not simulated and get no calibration statement.
CALIBRATION = {
    "PLO": Calibration(("half_normal", 1.0), 0.908, 0.908,
                       "when samples differ widely (a between-study SD of 1 on the logit scale); "
                       "no model tested did better"),
    "RR": Calibration(("half_normal", 1.0), 0.958, 0.965, ""),
}
