"""What changed since the previous data version (analysis.apps.report.history).

Follows the README's "When a new trial is published": a synthetic trial is added to a copy of
``data/`` (its rows in studies.csv and a provenance record per sourced cell), the data are
validated, the report is rebuilt, and the index must say what changed.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import nbformat
import pytest

from analysis.engine._errors import AnalysisError
from analysis.data import DATA_DIR, load_studies, validate
from analysis.review.plan import AnalysisPlan
from analysis.apps.report import build_report, data_version, history
from analysis.review.evidence_base import check_data_folder
from analysis.apps.report.history import Changes, Headline, Snapshot
from tests.synthetic_trial import add_synthetic_trial, copy_data


#: The synthetic trial (tests/synthetic_trial.py: added as the README's curator adds one), with
#: characters in its label that every page must escape (&, <).
TRIAL, LABEL = "synthetic2031", "Synthetic & Co < 2031"


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """The committed data and a copy with the synthetic trial added (validated)."""
    root = tmp_path_factory.mktemp("history")
    before = copy_data(root / "before")
    after = copy_data(root / "after")
    add_synthetic_trial(after, TRIAL, LABEL)
    assert check_data_folder(after) == []
    validate(after / "studies.csv")  # step 2: raises on any problem
    return before, after


@pytest.fixture(scope="module")
def snapshots(two_versions):
    before, after = two_versions
    return (history.snapshot(before, data_version=data_version(before)),
            history.snapshot(after, data_version=data_version(after)))


def test_snapshot_records_the_headline_numbers_of_the_committed_data(snapshots):
    before, _ = snapshots
    assert before.data_version == data_version(DATA_DIR)
    assert "noppers2011" in before.studies and before.studies["noppers2011"] == "Noppers 2011"
    assert "noppers2011" in before.pooled
    rate = before.headlines["response_rate"]
    assert rate.ci_lb < rate.estimate < rate.ci_ub and rate.k == len(before.pooled)
    rr = before.headlines["controlled_rr"]
    plan = AnalysisPlan()
    studies = load_studies(DATA_DIR / "studies.csv")
    assert rr.k == len(plan.controlled_rows(studies)) and rr.ci_lb < rr.estimate < rr.ci_ub
    # the plan's own result, with its model and interval named as the plan has them
    primary = plan.controlled(studies).primary
    assert rr.estimate == pytest.approx(primary.natural().estimate, rel=1e-12)
    assert rr.model == f"{primary.natural().label.lower()}, {primary.model_label}, ≤ 4 h"
    assert rr.interval == f"95% {primary.interval_name}"
    assert rate.model == f"{plan.response_rate(studies).model_label}, ≤ 4 h"
    assert set(before.verdicts) == {r["claim_id"] for r in _read(DATA_DIR / "claims.csv")[1]}


def test_a_new_trial_is_reported_as_added_and_the_estimates_move(snapshots):
    before, after = snapshots
    changes = history.compare(before, after)
    assert changes.studies_added == ((TRIAL, LABEL),)
    assert changes.studies_removed == ()
    assert changes.pooled_added == (TRIAL,)
    moved = {key: (old, new) for key, old, new in changes.moved}
    assert set(moved) == {"response_rate", "controlled_rr"}
    assert moved["response_rate"][1].k == moved["response_rate"][0].k + 1
    assert moved["controlled_rr"][1].k == moved["controlled_rr"][0].k + 1
    # 15/20 responders pull the pooled rate up.
    assert moved["response_rate"][1].estimate > moved["response_rate"][0].estimate


def test_removing_the_trial_again_is_reported_as_removed(snapshots):
    before, after = snapshots
    changes = history.compare(after, before)
    assert changes.studies_removed == ((TRIAL, LABEL),)
    assert changes.pooled_removed == (TRIAL,)


def test_identical_data_versions_report_no_change(snapshots):
    before, _ = snapshots
    changes = history.compare(before, before)
    assert not changes.any
    assert "no claim verdict changed" in history.render_changes(changes)


def _snap(version, verdicts, estimate=0.5, studies=None):
    return Snapshot(version, "2026-01-01 10:00 UTC", "abc", studies or {"s1": "Study 1"}, ("s1",),
                    {"response_rate": Headline(estimate, estimate - 0.1, estimate + 0.1, 1, "GLMM, ≤ 4 h"),
                     "controlled_rr": Headline(math.nan, math.nan, math.nan, 0)}, verdicts)


def test_verdict_changes_new_and_dropped_claims_are_listed():
    old = _snap("sha256:old", {"C01": "supported", "C02": "not testable"})
    new = _snap("sha256:new", {"C01": "not supported", "C03": "supported"})
    changes = history.compare(old, new)
    assert changes.verdicts_changed == (("C01", "supported", "not supported"),
                                        ("C02", "not testable", None),
                                        ("C03", None, "supported"))
    page = history.render_changes(changes)
    assert "Claim C01: supported &rarr; not supported" in page
    assert "Claim C02: not testable &rarr; not in the data" in page
    assert "Claim C03: not in the data &rarr; supported" in page


def test_noise_below_the_tolerance_is_not_a_move():
    old = _snap("sha256:old", {}, estimate=0.5)
    new = _snap("sha256:new", {}, estimate=0.5 * (1 + history.RELATIVE_TOLERANCE / 10))
    assert history.compare(old, new).moved == ()
    moved = _snap("sha256:new", {}, estimate=0.51)
    ((key, before, after),) = history.compare(old, moved).moved
    assert key == "response_rate" and (before.estimate, after.estimate) == (0.5, 0.51)


def test_moved_numbers_are_labelled_with_the_plan_model_and_interval():
    """Issue 23: the Bayesian headline was labelled 'GLMM ... 95 % CI' from a fixed table."""
    old = _snap("sha256:old", {}, estimate=0.5)
    new = _snap("sha256:new", {}, estimate=0.6)
    new.headlines["response_rate"] = Headline(0.6, 0.4, 0.8, 2, "Bayesian binomial-normal (half-normal 1), ≤ 4 h",
                                              "95% CrI")
    page = history.render_changes(history.compare(old, new))
    assert ("Pooled response rate in ketamine arms (Bayesian binomial-normal (half-normal 1), ≤ 4 h): "
            "0.5 (95% CI 0.4 to 0.6; k = 1; GLMM, ≤ 4 h) &rarr; 0.6 (95% CrI 0.4 to 0.8; k = 2)") in page
    assert "REML" not in page and "Hartung" not in page


def test_rendered_changes_escape_labels_from_the_data():
    old = _snap("sha256:old", {})
    new = _snap("sha256:new", {}, studies={"s1": "Study 1", "x": "<script>alert(1)</script>"})
    page = history.render_changes(history.compare(old, new))
    assert "<script>" not in page
    assert "Study added: &lt;script&gt;alert(1)&lt;/script&gt; (x)" in page


def test_first_version_has_nothing_to_compare_with():
    page = history.render_changes(Changes(previous=None, current=_snap("sha256:one", {})))
    assert "first one recorded" in page and "sha256:one" in page


def test_history_round_trips_and_a_rebuild_replaces_its_own_entry(tmp_path):
    a, b = _snap("sha256:a", {"C01": "supported"}), _snap("sha256:b", {"C01": "supported"})
    entries = history.append(history.append([], a), b)
    history.write_history(tmp_path, entries)
    assert history.read_history(tmp_path) == entries
    rebuilt = _snap("sha256:b", {"C01": "not supported"})
    entries = history.append(entries, rebuilt)
    assert [e.data_version for e in entries] == ["sha256:a", "sha256:b"]
    assert entries[-1].verdicts == {"C01": "not supported"}
    assert history.previous_version(entries, rebuilt) == a


def test_a_history_that_is_not_ours_is_refused_with_a_plain_message(tmp_path):
    (tmp_path / history.HISTORY_FILE).write_text('{"entries": []}')
    with pytest.raises(AnalysisError, match="not a history of schema 1; delete it"):
        history.read_history(tmp_path)
    (tmp_path / history.HISTORY_FILE).write_text("{")
    with pytest.raises(AnalysisError, match="cannot be read"):
        history.read_history(tmp_path)


def _one_notebook_suite(folder: Path) -> Path:
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# 00_summary"),
                nbformat.v4.new_code_cell('data_dir = "../data"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print('summary')")]
    nbformat.write(nb, str(folder / "00_summary.ipynb"))
    return folder


def test_rebuilding_after_a_new_trial_says_what_changed_on_the_index(two_versions, tmp_path):
    """README steps 1-3: add the trial, validate, rebuild; the index reports the change."""
    before, after = two_versions
    notebooks = _one_notebook_suite(tmp_path / "notebooks")
    output = tmp_path / "reports"
    quiet = {"log": lambda line: None, "workers": 1}
    build_report(notebooks, output, before, **quiet)
    first = (output / "index.html").read_text(encoding="utf-8")
    assert "What changed since the previous data version" in first
    assert "first one recorded" in first

    build_report(notebooks, output, after, **quiet)
    index = (output / "index.html").read_text(encoding="utf-8")
    assert f"Study added: Synthetic &amp; Co &lt; 2031 ({TRIAL})" in index
    assert f"Now in the pooled analyses: {TRIAL}" in index
    assert "Pooled response rate in ketamine arms (Bayesian binomial-normal" in index
    # near the top: before the headline findings
    assert index.index("What changed since the previous data version") < index.index("Headline findings")
    saved = json.loads((output / history.HISTORY_FILE).read_text(encoding="utf-8"))
    assert [e["data_version"] for e in saved["entries"]] == [data_version(before), data_version(after)]

    build_report(notebooks, output, after, **quiet)  # same data again: no new entry
    saved = json.loads((output / history.HISTORY_FILE).read_text(encoding="utf-8"))
    assert len(saved["entries"]) == 2
    assert "Study added: Synthetic" in (output / "index.html").read_text(encoding="utf-8")
