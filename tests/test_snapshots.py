"""``make snapshot`` (analysis.review.snapshots): what it writes and what it prints.

The numbers a new trial legitimately moves (pooled estimates, GRADE ratings, evidence counts,
claim verdicts) are compared with ``tests/snapshots/headline_numbers.json`` and
``tests/snapshots/claim_verdicts.csv`` (``tests/test_headline_numbers.py``,
``tests/test_claims.py``), which a curator regenerates with ``make snapshot`` and reviews,
instead of being pinned in test code.
"""

from __future__ import annotations

import json

import pandas as pd

from analysis.__main__ import main
from analysis.data import load_claims
from analysis.review.snapshots import (
    NUMBERS_FILE,
    VERDICTS_FILE,
    claim_verdicts,
    headline_numbers,
    read_numbers,
    verdict_changes,
    write_snapshots,
)


def test_headline_numbers_hold_the_evidence_counts_and_the_grade_of_each_domain():
    numbers = headline_numbers()
    assert {"evidence/studies", "grade/response_rate/certainty", "grade/controlled_responders/imprecision",
            "grade/controlled_responders/inconsistency"} <= set(numbers)
    assert numbers["grade/controlled_responders/start"] == "high"


def test_make_snapshot_prints_verdict_changes_first_with_the_claims_words(tmp_path):
    """A snapshot that differs from the data: the printout leads with the claim's words."""
    current_verdicts = claim_verdicts().astype(str)
    current_numbers = json.loads(json.dumps(headline_numbers()))
    verdicts, numbers = current_verdicts.copy(), dict(current_numbers)
    claim = current_verdicts.iloc[0]
    other = "not supported" if claim["verdict"] != "not supported" else "supported"
    verdicts.loc[0, "verdict"], verdicts.loc[0, "k"] = other, "99"
    verdicts.to_csv(tmp_path / VERDICTS_FILE, index=False)
    numbers["evidence/studies"] = 99
    (tmp_path / NUMBERS_FILE).write_text(json.dumps(numbers), encoding="utf-8")
    report = write_snapshots(snapshot_dir=tmp_path)
    quote = load_claims().set_index("claim_id").loc[claim["claim_id"], "quote"]
    assert report[0] == "Claim verdicts that changed:"
    assert report[1] == f'  {claim["claim_id"]} ("{quote}"): verdict {other} -> {claim["verdict"]}'
    assert report[2:4] == ["Claims' numbers that changed:", f'  {claim["claim_id"]}: k 99 -> {claim["k"]}']
    assert report[4] == "Headline numbers that changed:"
    assert report[5] == f"  evidence/studies: 99 -> {current_numbers['evidence/studies']}"
    assert report[6].startswith("wrote claim_verdicts.csv")
    # written: a second run finds nothing to report
    again = write_snapshots(snapshot_dir=tmp_path)
    assert again[:2] == ["No claim verdict changed.", "No headline number changed."]
    assert read_numbers(tmp_path) == current_numbers


def test_the_command_writes_both_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("analysis.review.snapshots.SNAPSHOT_DIR", tmp_path)
    assert main(["snapshot"]) == 0
    assert (tmp_path / VERDICTS_FILE).is_file() and (tmp_path / NUMBERS_FILE).is_file()
    assert "wrote claim_verdicts.csv" in capsys.readouterr().out


def test_a_claim_dropped_or_added_is_a_verdict_change():
    old = pd.DataFrame({"claim_id": ["C1"], "verdict": ["supported"]})
    new = pd.DataFrame({"claim_id": ["C2"], "verdict": ["not testable"]})
    words = pd.DataFrame({"claim_id": ["C1", "C2"], "quote": ["one", "two"]})
    assert verdict_changes(old, new, words) == (
        ['C1 ("one"): no longer checked (was supported)', 'C2 ("two"): new claim, verdict not testable'], [])
