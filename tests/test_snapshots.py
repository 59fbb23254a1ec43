"""Reviewed expectations of the committed data (analysis.snapshots, ``make snapshot``).

The numbers a new trial legitimately moves (pooled estimates, GRADE ratings, evidence counts)
are compared with ``tests/snapshots/headline_numbers.csv``, which a curator regenerates with
``make snapshot`` and reviews, instead of being pinned in test code. The claim verdicts have
their own snapshot (``tests/test_claims.py``).
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.data import load_claims
from analysis.snapshots import (
    NUMBERS_FILE,
    VERDICTS_FILE,
    claim_verdicts,
    headline_numbers,
    number_changes,
    read_snapshot,
    verdict_changes,
    write_snapshots,
)


def test_headline_numbers_match_the_reviewed_snapshot():
    changes = number_changes(read_snapshot(NUMBERS_FILE), headline_numbers())
    if changes:
        pytest.fail(f"headline numbers differ from tests/snapshots/{NUMBERS_FILE}:\n  " + "\n  ".join(changes)
                    + "\nIf the data changed on purpose, review these, run `make snapshot` and commit the file.",
                    pytrace=False)


def test_headline_numbers_name_every_value_once_in_words():
    numbers = headline_numbers()
    assert numbers["name"].is_unique and (numbers["what"] != "").all()
    assert {"response_rate.k", "controlled_responders.estimate", "grade.response_rate.certainty",
            "grade.controlled_responders.imprecision", "evidence.studies"} <= set(numbers["name"])


def test_make_snapshot_prints_verdict_changes_first_with_the_claims_words(tmp_path, capsys):
    """A snapshot that differs from the data: the printout leads with the claim's words."""
    verdicts, numbers = claim_verdicts().astype(str), headline_numbers()
    claim = verdicts.iloc[0]
    other = "not supported" if claim["verdict"] != "not supported" else "supported"
    verdicts.loc[0, "verdict"], verdicts.loc[0, "k"] = other, "99"
    verdicts.to_csv(tmp_path / VERDICTS_FILE, index=False)
    numbers.loc[numbers["name"] == "response_rate.k", "value"] = "99"
    numbers.to_csv(tmp_path / NUMBERS_FILE, index=False)
    report = write_snapshots(snapshot_dir=tmp_path)
    quote = load_claims().set_index("claim_id").loc[claim["claim_id"], "quote"]
    assert report[0] == "Claim verdicts that changed:"
    assert report[1] == f'  {claim["claim_id"]} ("{quote}"): verdict {other} -> {claim["verdict"]}'
    assert report[2:4] == ["Claims' numbers that changed:", f'  {claim["claim_id"]}: k 99 -> {claim["k"]}']
    assert report[4] == "Headline numbers that changed:"
    assert report[5].startswith("  response_rate.k (samples in the pooled response rate (primary plan)): 99 -> ")
    # written: a second run finds nothing to report
    again = write_snapshots(snapshot_dir=tmp_path)
    assert again[:2] == ["No claim verdict changed.", "No headline number changed."]
    assert read_snapshot(NUMBERS_FILE, tmp_path).equals(headline_numbers())


def test_the_command_writes_both_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("analysis.snapshots.SNAPSHOT_DIR", tmp_path)
    assert main(["snapshot"]) == 0
    assert (tmp_path / VERDICTS_FILE).is_file() and (tmp_path / NUMBERS_FILE).is_file()
    assert "wrote claim_verdicts.csv" in capsys.readouterr().out


def test_a_claim_dropped_or_added_is_a_verdict_change():
    old = pd.DataFrame({"claim_id": ["C1"], "verdict": ["supported"]})
    new = pd.DataFrame({"claim_id": ["C2"], "verdict": ["not testable"]})
    words = pd.DataFrame({"claim_id": ["C1", "C2"], "quote": ["one", "two"]})
    assert verdict_changes(old, new, words) == (
        ['C1 ("one"): no longer checked (was supported)', 'C2 ("two"): new claim, verdict not testable'], [])
