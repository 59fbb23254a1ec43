"""The report's headline numbers on the committed data, for the before/after check of a change
that should move none of them (tests/test_headline_numbers.py).

``python tests/headline_numbers.py`` writes ``tests/snapshots/headline_numbers.json``: every
window's response rate under each response-rate model, every window's controlled comparison
under each comparison model, the multiverse summaries, the claims verdicts and the summary of
findings. Regenerate it (and review the differences) when a change or new data is meant to
move a number.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "snapshots" / "headline_numbers.json"


def _number(x):
    x = float(x)
    return None if math.isnan(x) else x


def headline_numbers() -> dict[str, object]:
    """Every headline number, keyed by what it is."""
    import analysis
    from analysis.data import load_claims, load_studies
    from analysis.review.claims import check_claims
    from analysis.review.findings import summary_of_findings
    from analysis.review.multiverse import multiverse
    from analysis.review.protocol import TIME_WINDOWS

    studies, plan = load_studies(), analysis.AnalysisPlan()
    numbers: dict[str, object] = {}
    for window in TIME_WINDOWS:
        for model in ("BAYES", "GLMM", "PLO", "PFT"):
            try:
                natural = dataclasses.replace(plan, proportion_model=model).response_rate(studies, window).natural()
            except analysis.AnalysisError as error:
                numbers[f"rate/{window}/{model}"] = str(error)
                continue
            numbers[f"rate/{window}/{model}"] = [_number(natural.estimate), _number(natural.ci_lb),
                                                 _number(natural.ci_ub), _number(natural.pi_lb), _number(natural.pi_ub)]
        try:
            models = plan.controlled(studies, window).models()
        except analysis.AnalysisError as error:
            numbers[f"controlled/{window}"] = str(error)
            continue
        for name, result in models.items():
            natural = result.natural()
            numbers[f"controlled/{window}/{name}"] = [_number(natural.estimate), _number(natural.ci_lb),
                                                      _number(natural.ci_ub)]
    for outcome in ("response_rate", "controlled"):
        summary = multiverse(studies, outcome).summary()
        numbers[f"multiverse/{outcome}"] = [summary.specifications, summary.estimable, _number(summary.minimum),
                                            _number(summary.maximum), _number(summary.median)]
    verdicts = check_claims(load_claims(), studies, plan).to_frame()
    numbers.update({f"claim/{c}": v for c, v in zip(verdicts["claim_id"], verdicts["verdict"])})
    for row in summary_of_findings(plan, studies):
        numbers[f"findings/{row.key}"] = str(row)
    return numbers


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(headline_numbers(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}", file=sys.stderr)
