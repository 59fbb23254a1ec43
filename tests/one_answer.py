"""Issue 22's check on a built report: one question, one answer, on every page that gives it.

Used by the override builds (``tests/test_report_overrides.py``) and the session's default
build (``tests/test_report.py``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from analysis import AnalysisError
from analysis.data import load_studies
from analysis.review.findings import CONTROLLED_OUTCOMES
from analysis.review.plan import AnalysisPlan
from analysis.review.protocol import PRIMARY_WINDOW, TIME_WINDOWS


def page_text(page: Path) -> str:
    """The visible text of a page, tags removed, entities decoded, whitespace collapsed."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.DOTALL)
    raw = re.sub(r"<wbr\s*/?>", "", raw)  # a place to break a long run adds no character
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def answer_fragment(answer) -> str:
    """How every page writes an answer's number: ``"2.67 (95% CrI 0.25 to 28.27"`` (estimate, level,
    the interval's true name, bounds); sentences and table cells go on differently after it."""
    return f"{answer.estimate_text()} ({answer.interval_text()}"


def expected_answers(plan: AnalysisPlan, data: Path) -> dict[str, list]:
    """Page -> the answers (analysis.review.answer.Answer) that page must give, each exactly as answered."""
    studies = load_studies(data / "studies.csv")

    def answer(outcome, window):
        try:
            return plan.answer(studies, outcome, window)
        except AnalysisError:  # nothing to answer in that window with these choices
            return None

    rate = answer("response_rate", plan.time_window)
    controlled = {window: answer("controlled", window) for window in TIME_WINDOWS}
    per_window_rates = [answer("response_rate", window) for window in TIME_WINDOWS]
    one_row = [a for a in controlled.values() if a is not None and len(a.rows) == 1]
    pages = {
        "02_response_rates": [rate],
        "03_controlled_trials": [controlled[plan.time_window]],
        # the duration page: every window's response rate, and each time point's comparison
        "04_duration_of_relief": per_window_rates + one_row,
        # the summary of findings: the response rate and the three follow-ups against control
        "00_summary": [rate] + [controlled[window] for _, _, window, _ in CONTROLLED_OUTCOMES],
        # claims about the pooled rate (C06) and short-term efficacy against control (C10)
        "06_claims_check": [rate, controlled[PRIMARY_WINDOW]],
    }
    return {page: [a for a in answers if a is not None] for page, answers in pages.items()}


def check_one_answer(output: Path, plan: AnalysisPlan, data: Path) -> None:
    """Issue 22: each question's number, interval, interval name and model are the same on every
    page that gives it: the pages, the summary of findings, the claims verdicts."""
    for page, answers in expected_answers(plan, data).items():
        if not (output / f"{page}.html").exists():
            continue  # a build of some notebooks only
        text = page_text(output / f"{page}.html")
        for answer in answers:
            assert answer_fragment(answer) in text, (page, answer.outcome, answer.time_window, answer_fragment(answer))
            # the same interval under the other name (sensitivity models give other intervals, named)
            wrong = "CI" if answer.interval_type == "CrI" else "CrI"
            misnamed = f"{answer.estimate_text()} ({100 * plan.confidence_level:g}% {wrong} {answer.natural.interval_text()}"
            assert misnamed not in text, (page, "interval misnamed", misnamed)
    studies = load_studies(data / "studies.csv")
    models = {"02_response_rates": plan.answer(studies, "response_rate").fit.model_description,
              "03_controlled_trials": plan.answer(studies, "controlled").fit.model_description}
    for page, model in models.items():
        assert model in page_text(output / f"{page}.html"), (page, model)
