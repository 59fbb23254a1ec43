"""Reviewed expectations of the committed data: what ``make snapshot`` writes and the tests read.

A new trial legitimately moves the pooled numbers, the GRADE ratings and some claim verdicts.
Tests that check such values on the committed data compare them with two files a curator
regenerates and reviews after changing the data, instead of pinning them in code:

- ``claim_verdicts.csv``: every claim's verdict with its numbers (``ClaimsCheck.snapshot``);
- ``headline_numbers.csv``: the evidence counts, the primary analyses of the plan and the GRADE
  rating of their outcomes (:func:`headline_numbers`), one named value per row.

``python -m analysis snapshot`` (``make snapshot``) writes both and prints what changed: verdict
changes first, each with the claim's words, then every other change. The files live in
``tests/snapshots/`` (or the folder named by ``ANALYSIS_SNAPSHOT_DIR``, as the synthetic-trial
test does with a copy of the data).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analysis.data import DATA_DIR
from analysis.data._records import REPO_ROOT, _display

#: The folder of the reviewed snapshots.
SNAPSHOT_DIR = Path(os.environ.get("ANALYSIS_SNAPSHOT_DIR") or REPO_ROOT / "tests" / "snapshots")
VERDICTS_FILE = "claim_verdicts.csv"
NUMBERS_FILE = "headline_numbers.csv"
NUMBER_COLUMNS = ("name", "value", "what")


def _digits(value: float) -> str:
    return "" if pd.isna(value) else f"{float(value):.4g}"


def headline_numbers(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The numbers of the data that tests compare with the reviewed snapshot.

    Parameters
    ----------
    data_dir : path, optional
        The data folder (default :data:`analysis.data.DATA_DIR`).

    Returns
    -------
    pandas.DataFrame
        Columns ``name`` (a stable key), ``value`` (text; numbers to 4 significant digits) and
        ``what`` (the value in words), one row per number: evidence counts, the plan's primary
        response rate and controlled comparison (k, patients, estimate, interval, model), and
        for each of those outcomes its GRADE start, certainty and downgrade per domain.
    """
    from analysis.evidence_base import load_evidence_base
    from analysis.grade import grade_outcome, load_grade_overrides
    from analysis.plan import AnalysisPlan

    folder = DATA_DIR if data_dir is None else Path(data_dir)
    evidence = load_evidence_base(folder)
    studies = evidence.studies
    plan = AnalysisPlan()
    overrides = load_grade_overrides(folder / "grade_overrides.csv")
    counts = evidence.counts()
    rows = [("evidence.studies", counts.studies, "included studies (cohort_id)"),
            ("evidence.reports", counts.reports, "reports of the included studies"),
            ("evidence.pooled_studies", counts.pooled_studies, "studies with a pooled response-rate sample"),
            ("evidence.controlled_studies", counts.controlled_studies, "of those, with control-arm responders"),
            ("evidence.ongoing_studies", counts.ongoing_studies, "registered trials without results")]
    rate_rows = plan.response_rate_rows(studies)
    controlled = plan.controlled(studies)
    outcomes = (("response_rate", plan.response_rate(studies), rate_rows, "pooled response rate",
                 plan.response_rate_threshold),
                ("controlled_responders", controlled.primary, controlled.rows,
                 "responders, ketamine vs control", None))
    for key, result, data, words, threshold in outcomes:
        natural = result.natural()
        rows += [(f"{key}.k", result.k, f"samples in the {words} (primary plan)"),
                 (f"{key}.model", result.model_label, f"model of the {words}"),
                 (f"{key}.estimate", _digits(natural.estimate), f"{words}: {natural.label.lower()}"),
                 (f"{key}.ci_lb", _digits(natural.ci_lb), f"{words}: lower bound of the {result.interval_name}"),
                 (f"{key}.ci_ub", _digits(natural.ci_ub), f"{words}: upper bound of the {result.interval_name}")]
        grade = grade_outcome(key, result, data, overrides=overrides, decision_threshold=threshold)
        rows += [(f"grade.{key}.start", grade.start, f"GRADE starting certainty of the {words}"),
                 (f"grade.{key}.certainty", grade.certainty, f"GRADE certainty of the {words}")]
        rows += [(f"grade.{key}.{d.domain}", d.downgrade, f"GRADE levels down for {d.domain} ({d.judgement})")
                 for d in grade.domains]
    return pd.DataFrame([(name, str(value), what) for name, value, what in rows], columns=list(NUMBER_COLUMNS))


def claim_verdicts(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Every claim's verdict on the data (``ClaimsCheck.snapshot``)."""
    from analysis.claims import check_claims
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


def number_changes(expected: pd.DataFrame, found: pd.DataFrame) -> list[str]:
    """Headline numbers that differ, each with its words.

    >>> old = pd.DataFrame({"name": ["a.k"], "value": ["1"], "what": ["samples"]})
    >>> number_changes(old, pd.DataFrame({"name": ["a.k"], "value": ["2"], "what": ["samples"]}))
    ['a.k (samples): 1 -> 2']
    """
    old = dict(zip(expected["name"], expected["value"]))
    lines = []
    for name, value, what in found[list(NUMBER_COLUMNS)].itertuples(index=False):
        if name not in old:
            lines.append(f"{name} ({what}): new, {value}")
        elif old[name] != value:
            lines.append(f"{name} ({what}): {old[name]} -> {value}")
    lines += [f"{name}: no longer computed (was {old[name]})" for name in old if name not in set(found["name"])]
    return lines


def write_snapshots(data_dir: str | Path | None = None, snapshot_dir: str | Path | None = None) -> list[str]:
    """Write both snapshots of ``data_dir`` into ``snapshot_dir``; return the report to print.

    Verdict changes come first, each with the claim's words; then the claims' other changed
    numbers; then the headline numbers that changed.
    """
    from analysis.data import load_claims

    data = DATA_DIR if data_dir is None else Path(data_dir)
    folder = SNAPSHOT_DIR if snapshot_dir is None else Path(snapshot_dir)
    verdicts, numbers = claim_verdicts(data), headline_numbers(data)
    report = []
    if (folder / VERDICTS_FILE).exists():
        changed, moved = verdict_changes(read_snapshot(VERDICTS_FILE, folder), verdicts,
                                         load_claims(data / "claims.csv"))
        report += ["Claim verdicts that changed:", *(f"  {line}" for line in changed)] if changed \
            else ["No claim verdict changed."]
        report += ["Claims' numbers that changed:", *(f"  {line}" for line in moved)] if moved else []
    if (folder / NUMBERS_FILE).exists():
        moved = number_changes(read_snapshot(NUMBERS_FILE, folder), numbers)
        report += ["Headline numbers that changed:", *(f"  {line}" for line in moved)] if moved \
            else ["No headline number changed."]
    folder.mkdir(parents=True, exist_ok=True)
    verdicts.to_csv(folder / VERDICTS_FILE, index=False)
    numbers.to_csv(folder / NUMBERS_FILE, index=False)
    report.append(f"wrote {VERDICTS_FILE} ({len(verdicts)} claims) and {NUMBERS_FILE} ({len(numbers)} numbers) "
                  f"in {_display(folder)}; review the changes above and commit them with the data")
    return report
