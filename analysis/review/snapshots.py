"""Reviewed expectations of the committed data: what ``make snapshot`` writes and the tests read.

A new trial legitimately moves the pooled numbers, the GRADE ratings and some claim verdicts.
Tests that check such values on the committed data compare them with two files a curator
regenerates and reviews after changing the data, instead of pinning them in code:

- ``claim_verdicts.csv``: every claim's verdict with its numbers (``ClaimsCheck.snapshot``;
  ``tests/test_claims.py``);
- ``headline_numbers.json``: every window's response rate under each model and controlled
  comparison under each model, the multiverse summaries, the claim verdicts, the summary of
  findings, the evidence counts and the GRADE rating of the primary outcomes per domain
  (:func:`headline_numbers`; ``tests/test_headline_numbers.py``).

``python -m analysis snapshot`` (``make snapshot``) writes both and prints what changed: verdict
changes first, each with the claim's words, then every other change. The files live in
``tests/snapshots/`` (or the folder named by ``ANALYSIS_SNAPSHOT_DIR``, as the synthetic-trial
test does with a copy of the data).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from analysis.data import DATA_DIR
from analysis.data._records import _display
from analysis.data.paths import SNAPSHOTS_DIR as SNAPSHOT_DIR

VERDICTS_FILE = "claim_verdicts.csv"
NUMBERS_FILE = "headline_numbers.json"

#: Relative tolerance of :func:`same`: the numbers are recomputed by the same code paths; only
#: floating-point noise below this is forgiven.
REL_TOL = 1e-9


def _number(x):
    x = float(x)
    return None if math.isnan(x) else x


def headline_numbers(data_dir: str | Path | None = None) -> dict[str, object]:
    """Every headline number of the data, keyed by what it is.

    Parameters
    ----------
    data_dir : path, optional
        The data folder (default :data:`analysis.data.DATA_DIR`).

    Returns
    -------
    dict
        ``rate/<window>/<model>``: estimate, CI and prediction interval (or the reason there is
        none); ``controlled/<window>/<model>``: estimate and CI; ``multiverse/<outcome>``:
        specifications, estimable, minimum, maximum, median; ``claim/<id>``: verdict;
        ``findings/<outcome>``: the summary-of-findings row; ``evidence/<count>``: included,
        pooled, controlled and ongoing studies and reports; ``grade/<outcome>/<domain>``: levels
        down (and ``start``, ``certainty``) for the primary response rate and comparison.
    """
    import dataclasses

    from analysis.data import load_claims, load_studies
    from analysis.engine._errors import AnalysisError
    from analysis.review.claims import check_claims
    from analysis.review.evidence_base import load_evidence_base
    from analysis.review.findings import summary_of_findings
    from analysis.review.grade import grade_outcome, load_grade_overrides
    from analysis.review.multiverse import multiverse
    from analysis.review.plan import AnalysisPlan
    from analysis.review.protocol import TIME_WINDOWS

    folder = DATA_DIR if data_dir is None else Path(data_dir)
    studies, plan = load_studies(folder / "studies.csv"), AnalysisPlan()
    numbers: dict[str, object] = {}
    for window in TIME_WINDOWS:
        for model in ("BAYES", "GLMM", "PLO", "PFT"):
            try:
                natural = dataclasses.replace(plan, proportion_model=model).response_rate(studies, window).natural()
            except AnalysisError as error:
                numbers[f"rate/{window}/{model}"] = str(error)
                continue
            numbers[f"rate/{window}/{model}"] = [_number(natural.estimate), _number(natural.ci_lb),
                                                 _number(natural.ci_ub), _number(natural.pi_lb), _number(natural.pi_ub)]
        try:
            models = plan.controlled(studies, window).models()
        except AnalysisError as error:
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
    verdicts = check_claims(load_claims(folder / "claims.csv"), studies, plan).to_frame()
    numbers.update({f"claim/{c}": v for c, v in zip(verdicts["claim_id"], verdicts["verdict"])})
    for row in summary_of_findings(plan, studies):
        numbers[f"findings/{row.key}"] = str(row)
    counts = load_evidence_base(folder).counts()
    numbers.update({f"evidence/{name}": getattr(counts, name)
                    for name in ("studies", "reports", "pooled_studies", "controlled_studies", "ongoing_studies")})
    overrides = load_grade_overrides(folder / "grade_overrides.csv")
    controlled = plan.controlled(studies)
    for key, result, rows, threshold in (
            ("response_rate", plan.response_rate(studies), plan.response_rate_rows(studies), plan.response_rate_threshold),
            ("controlled_responders", controlled.primary, controlled.rows, None)):
        grade = grade_outcome(key, result, rows, overrides=overrides, decision_threshold=threshold)
        numbers[f"grade/{key}/start"], numbers[f"grade/{key}/certainty"] = grade.start, grade.certainty
        numbers.update({f"grade/{key}/{d.domain}": d.downgrade for d in grade.domains})
    return numbers


def same(a, b) -> bool:
    """Two snapshot values agree (numbers within :data:`REL_TOL`, lists element by element).

    >>> same([0.5761676193839257, None], [0.5761676193839257 * (1 + 1e-12), None]), same(0.41, 0.42)
    (True, False)
    """
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def _json(numbers: dict) -> str:
    return json.dumps(numbers, indent=1, ensure_ascii=False) + "\n"


def claim_verdicts(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Every claim's verdict on the data (``ClaimsCheck.snapshot``)."""
    from analysis.review.claims import check_claims
    from analysis.data import load_claims, load_studies

    folder = DATA_DIR if data_dir is None else Path(data_dir)
    return check_claims(load_claims(folder / "claims.csv"), load_studies(folder / "studies.csv")).snapshot()


def read_snapshot(name: str, snapshot_dir: str | Path | None = None) -> pd.DataFrame:
    """A reviewed snapshot file as text (empty cells stay empty strings)."""
    folder = SNAPSHOT_DIR if snapshot_dir is None else Path(snapshot_dir)
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def verdict_changes(expected: pd.DataFrame, found: pd.DataFrame, claims: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Claims whose verdict changed (each with its words), then their other changed fields.

    >>> old = pd.DataFrame({"claim_id": ["C1"], "verdict": ["supported"], "estimate": ["0.5"]})
    >>> new = pd.DataFrame({"claim_id": ["C1"], "verdict": ["not supported"], "estimate": ["0.4"]})
    >>> words = pd.DataFrame({"claim_id": ["C1"], "quote": ["Ketamine helps half"]})
    >>> verdict_changes(old, new, words)
    (['C1 ("Ketamine helps half"): verdict supported -> not supported'], ['C1: estimate 0.5 -> 0.4'])
    """
    old, new = expected.astype(str).set_index("claim_id"), found.astype(str).set_index("claim_id")
    quote = dict(zip(claims["claim_id"].astype(str), claims["quote"].astype(str)))
    verdicts, numbers = [], []
    for claim in sorted(set(old.index) | set(new.index)):
        words = f'{claim} ("{quote.get(claim, "")}")'
        if claim not in new.index:
            verdicts.append(f"{words}: no longer checked (was {old.loc[claim, 'verdict']})")
        elif claim not in old.index:
            verdicts.append(f"{words}: new claim, verdict {new.loc[claim, 'verdict']}")
        else:
            for column in new.columns:
                before, after = old.loc[claim].get(column, ""), new.loc[claim, column]
                if before != after:
                    line = f"{column} {before} -> {after}"
                    (verdicts.append(f"{words}: {line}") if column == "verdict"
                     else numbers.append(f"{claim}: {line}"))
    return verdicts, numbers


def number_changes(expected: dict, found: dict) -> list[str]:
    """Headline numbers that differ, new or gone (keys say what each is).

    >>> number_changes({"rate/a": [0.5], "claim/C1": "supported"}, {"rate/a": [0.6], "claim/C1": "supported"})
    ['rate/a: [0.5] -> [0.6]']
    """
    return [f"{key}: {expected.get(key, '(absent)')!r} -> {found.get(key, '(absent)')!r}"
            for key in sorted(set(expected) | set(found)) if not same(expected.get(key), found.get(key))]


def read_numbers(snapshot_dir: str | Path | None = None) -> dict:
    """The reviewed headline numbers (``headline_numbers.json``)."""
    folder = SNAPSHOT_DIR if snapshot_dir is None else Path(snapshot_dir)
    return json.loads((folder / NUMBERS_FILE).read_text(encoding="utf-8"))


def write_snapshots(data_dir: str | Path | None = None, snapshot_dir: str | Path | None = None) -> list[str]:
    """Write both snapshots of ``data_dir`` into ``snapshot_dir``; return the report to print.

    Verdict changes come first, each with the claim's words; then the claims' other changed
    numbers; then the headline numbers that changed (claim verdicts, already listed, left out).
    """
    from analysis.data import load_claims

    data = DATA_DIR if data_dir is None else Path(data_dir)
    folder = SNAPSHOT_DIR if snapshot_dir is None else Path(snapshot_dir)
    verdicts = claim_verdicts(data)
    numbers = json.loads(_json(headline_numbers(data)))  # as the file holds them
    report = []
    if (folder / VERDICTS_FILE).exists():
        changed, moved = verdict_changes(read_snapshot(VERDICTS_FILE, folder), verdicts,
                                         load_claims(data / "claims.csv"))
        report += ["Claim verdicts that changed:", *(f"  {line}" for line in changed)] if changed \
            else ["No claim verdict changed."]
        report += ["Claims' numbers that changed:", *(f"  {line}" for line in moved)] if moved else []
    if (folder / NUMBERS_FILE).exists():
        moved = [line for line in number_changes(read_numbers(folder), numbers) if not line.startswith("claim/")]
        report += ["Headline numbers that changed:", *(f"  {line}" for line in moved)] if moved \
            else ["No headline number changed."]
    folder.mkdir(parents=True, exist_ok=True)
    verdicts.to_csv(folder / VERDICTS_FILE, index=False)
    (folder / NUMBERS_FILE).write_text(_json(numbers), encoding="utf-8")
    report.append(f"wrote {VERDICTS_FILE} ({len(verdicts)} claims) and {NUMBERS_FILE} ({len(numbers)} numbers) "
                  f"in {_display(folder)}; review the changes above and commit them with the data")
    return report
