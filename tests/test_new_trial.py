"""Adding a trial, as the README's "When a new trial is published" walks it (issue 23).

- ``python -m analysis new-study ID [--like STUDY_ID]`` writes the skeleton (tested on copies of
  ``data/``; it is the one command that writes there);
- ``python -m analysis validate`` checks what the report build checks, and names the cause;
- a synthetic randomised trial (20 + 20 patients, ``tests/synthetic_trial.py``) is added to a copy
  of ``data/`` with its provenance, reference, screening and PRISMA counts, the snapshots are
  regenerated into the copy, and the tests that read the committed data run against the copy:
  they pass, so a new trial needs ``make snapshot``, never an edited test.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.review.claims import check_claims
from analysis.data import FILL_MARKER, DataValidationError, load_claims, load_studies, load_table
from analysis.review.evidence_base import check_data_folder
from analysis.review.snapshots import SNAPSHOT_DIR, read_numbers, write_snapshots
from tests.synthetic_trial import STUDY_ID, add_synthetic_trial, copy_data

ROOT = Path(__file__).resolve().parent.parent

#: The tests that read the committed data (data/ or tests/snapshots/), re-run on the copy with the
#: synthetic trial. Whole modules, or single tests of modules that are otherwise self-contained.
RERUN = ("test_claims.py", "test_evidence_base.py", "test_explorer.py", "test_findings.py", "test_grade.py",
         "test_headline_numbers.py", "test_multiverse.py", "test_narrative.py", "test_plain.py", "test_plan.py",
         "test_plots_describe.py", "test_tables.py",
         "test_cli.py::test_validate_without_file_checks_the_project_data_from_any_directory",
         "test_data_validation.py::test_real_studies_table_is_valid",
         "test_data_validation.py::test_real_data_tables_are_all_valid",
         "test_data_validation.py::test_every_study_and_every_seed_article_has_a_reference",
         "test_plots_figures.py::test_prisma_from_the_project_data")

#: Library modules whose examples (doctests) read the committed data, re-run the same way.
RERUN_DOCTESTS = ("analysis/review/multiverse.py", "analysis/present/plots/specification_curve.py",
                  "analysis/present/narrative.py",
                  "analysis/apps/explorer/compute.py")

#: Modules that read the committed data but are not re-run, and why.
NOT_RERUN = {
    "test_history.py": "adds a synthetic trial of its own and rebuilds the index",
    "test_report_overrides.py": "report builds, on their own synthetic data",
    "test_explorer_browser.py": "a browser against the web app; the logic is re-run in test_explorer.py",
    "test_sensitivity.py": "reference values of metafor; no committed data",
    "test_small_study.py": "reference values of metafor; no committed data",
    "test_new_trial.py": "this file",
    "test_snapshots.py": "what make snapshot writes and prints, expected from the data it reads; "
                         "make snapshot itself runs on the copy with the trial here (with_trial)",
}

#: Not re-run: the Voila server test (its start-up, not the data).
DESELECT = ("test_explorer.py::test_the_app_prints_its_address_and_stops_on_ctrl_c",)


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _validate(folder: Path, capsys) -> tuple[int, list[str]]:
    status = main(["validate", "--data", str(folder)])
    return status, capsys.readouterr().err.splitlines()


# ------------------------------------------------------------------ new-study


def test_new_study_like_an_existing_one_writes_its_shape_marked_to_fill(tmp_path, capsys):
    data = copy_data(tmp_path / "data")
    before = {p.name: p.read_bytes() for p in data.glob("*.csv")}
    assert main(["new-study", "smith2026", "--like", "noppers2011", "--data", str(data)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("started smith2026 from noppers2011 (4 rows)")
    assert "make snapshot" in printed and "prisma.csv" in printed and "references.csv" in printed
    # appended, never rewritten: the earlier bytes are untouched
    for name in ("studies.csv", "provenance.csv", "references.csv", "screening.csv"):
        assert (data / name).read_bytes().startswith(before[name]), name
    rows = [r for r in _rows(data / "studies.csv") if r["study_id"] == "smith2026"]
    template = [r for r in _rows(data / "studies.csv") if r["study_id"] == "noppers2011"]
    assert [r["row_id"] for r in rows] == [r["row_id"].replace("noppers2011", "smith2026") for r in template]
    for new, old in zip(rows, template):
        assert new["cohort_id"] == "smith2026"
        for column, value in new.items():
            if column not in ("row_id", "study_id", "cohort_id"):
                # nothing copied: a cell the template fills is to fill, the others stay empty
                assert value == (FILL_MARKER if old[column] else ""), column
    sourced = [c for c in _rows(data / "provenance.csv") if c["row_id"] in {r["row_id"] for r in rows}]
    assert len(sourced) == 4 * 30 and {c["status"] for c in sourced} == {c["certainty"] for c in sourced} == {FILL_MARKER}
    assert [r["study_id"] for r in _rows(data / "references.csv")][-1] == "smith2026"
    assert _rows(data / "screening.csv")[-1]["report_id"] == "smith2026"
    # the validator lists what is left to fill, a few lines, one per run of rows
    status, errors = _validate(data, capsys)
    assert status == 1
    first = len(template) and sum(1 for _ in _rows(data / "studies.csv")) - 2  # header is line 1
    assert errors[0].startswith(f"{data}/studies.csv:{first}: rows {first} to {first + 3} (4 rows): 52 cells each "
                                f"still marked {FILL_MARKER}: study_label, year, citation,")
    assert len(errors) == 5 and errors[-1] == "4 problems in 4 files; nothing was changed"


def test_new_study_from_a_blank_row(tmp_path, capsys):
    data = copy_data(tmp_path / "data")
    assert main(["new-study", "smith2026", "--data", str(data)]) == 0
    assert "from a blank row" in capsys.readouterr().out
    (row,) = [r for r in _rows(data / "studies.csv") if r["study_id"] == "smith2026"]
    assert row["row_id"] == "smith2026_row1" and row["design"] == FILL_MARKER and row["note"] == ""


@pytest.mark.parametrize("argv, message", [
    (["new-study", "noppers2011"], "already has study_id 'noppers2011'"),
    (["new-study", "Smith 2026"], "use lower-case letters, digits and underscores"),
    (["new-study", "smith2026", "--like", "nobody1999"], "--like 'nobody1999': no such study_id"),
])
def test_new_study_refuses_and_writes_nothing(tmp_path, capsys, argv, message):
    data = copy_data(tmp_path / "data")
    before = {p.name: p.read_bytes() for p in data.glob("*.csv")}
    assert main([*argv, "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in data.glob("*.csv")} == before


# ------------------------------------------------------------------ validate: the cause, once


def test_a_time_window_that_contradicts_the_time_point_is_refused(tmp_path):
    data = copy_data(tmp_path / "data")
    text = (data / "studies.csv").read_text(encoding="utf-8")
    # Noppers 2011 at 15 min (0.25 h) labelled short_term: the dictionary says <= 4 h is during_or_immediate
    row = next(line for line in text.splitlines() if line.startswith("noppers2011_responders_15min,"))
    (data / "studies.csv").write_text(text.replace(row, row.replace(",during_or_immediate,", ",short_term,")),
                                      encoding="utf-8")
    with pytest.raises(DataValidationError) as caught:
        load_studies(data / "studies.csv")
    assert [str(p) for p in caught.value.problems] == [
        f"{data}/studies.csv:2: column 'time_window': value 'short_term': timepoint_hours is 0.25, which falls "
        "in during_or_immediate (the dictionary: during_or_immediate <= 4 h; short_term > 4 h to <= 168 h; "
        "medium_term > 168 h to < 1344 h; long_term >= 1344 h)"]


def test_the_window_rule_says_what_the_dictionary_says():
    from analysis.data._rules import NEVER_POOLED, WINDOW_HOURS
    from analysis.review.protocol import NEVER_POOLED_DESIGNS, TIME_WINDOWS

    words = next(r for r in _rows(ROOT / "data" / "studies.dictionary.csv") if r["column"] == "time_window")
    assert ("during_or_immediate <= 4 h; short_term > 4 h to <= 168 h (7 d); medium_term > 168 h to < 1344 h "
            "(8 wk); long_term >= 1344 h") in words["description"]
    assert tuple(name for name, *_ in WINDOW_HOURS) == TIME_WINDOWS
    assert NEVER_POOLED == NEVER_POOLED_DESIGNS


def test_a_duplicated_row_id_is_one_cause_with_its_knock_on_summarised(tmp_path, capsys):
    data = copy_data(tmp_path / "data")
    rows = list(csv.reader((data / "studies.csv").open(encoding="utf-8", newline="")))
    renamed = rows[2][0]
    rows[2][0] = rows[1][0]
    with (data / "studies.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    status, errors = _validate(data, capsys)
    records = sum(r["row_id"] == renamed for r in _rows(data / "provenance.csv"))
    assert status == 1 and len(errors) == 3, errors
    assert errors[0].endswith(f"column 'row_id': value '{rows[1][0]}': duplicate key; first at line 2")
    assert f"value '{renamed}': no row with this row_id in" in errors[1]
    assert f"and {records - 1} more rows that refer to it" in errors[1]
    assert f"studies.csv:3 repeats row_id '{rows[1][0]}': was this row's row_id typed over?" in errors[1]


def test_a_semicolon_separated_file_is_named_as_such_in_one_line(tmp_path, capsys):
    data = copy_data(tmp_path / "data")
    rows = list(csv.reader((data / "studies.csv").open(encoding="utf-8", newline="")))
    with (data / "studies.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\n").writerows(rows)
    status, errors = _validate(data, capsys)
    assert status == 1 and errors == [
        f"{data}/studies.csv:1: the header is separated by semicolons (';'), not commas: save the file as "
        "comma-separated CSV (in a spreadsheet: CSV UTF-8, comma-delimited)",
        "1 problem in 1 file; nothing was changed"]


def test_a_merge_conflict_is_one_message_naming_its_lines(tmp_path, capsys):
    """Two curators' branches merged by git with a conflict in one row: one cause, one message."""
    data = copy_data(tmp_path / "data")
    lines = (data / "studies.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    theirs = lines[5].replace("Noppers", "Nopers", 1)
    lines[5:6] = ["<<<<<<< HEAD\n", lines[5], "=======\n", theirs, ">>>>>>> curator-branch\n"]
    (data / "studies.csv").write_text("".join(lines), encoding="utf-8")
    status, errors = _validate(data, capsys)
    assert status == 1 and errors == [
        f"{data}/studies.csv:6: a merge conflict left by git (lines 6 to 10, from '<<<<<<< HEAD' to "
        "'>>>>>>> curator-branch'): keep one version of the rows between the markers and delete the "
        "marker lines",
        "1 problem in 1 file; nothing was changed"]


def test_an_extra_header_column_is_named_first_not_after_a_thousand_knock_ons(tmp_path, capsys):
    data = copy_data(tmp_path / "data")
    text = (data / "provenance.csv").read_text(encoding="utf-8")
    (data / "provenance.csv").write_text(text.replace("\n", ",comment\n", 1), encoding="utf-8")
    status, errors = _validate(data, capsys)
    lines, fields = len(text.splitlines()), len(text.splitlines()[0].split(","))
    assert status == 1 and errors == [
        f"{data}/provenance.csv:1: column 'comment': stray column: not in the dictionary {data}/provenance.dictionary.csv",
        f"{data}/provenance.csv:2: every data row (lines 2 to {lines}) has {fields} fields but the header has "
        f"{fields + 1}: the header "
        "names a column the rows do not have",
        f"{data}/provenance.csv:1: provenance coverage of {data}/studies.csv not checked until the problems with "
        "the columns or rows above are fixed",
        "3 problems in 1 file; nothing was changed"]


def test_validate_checks_the_prisma_counts_and_the_references_as_the_report_does(tmp_path, capsys):
    """A trial typed into studies.csv alone: validate names the PRISMA rows to change and the
    missing reference (the report refused to build, or left the trial out of its references)."""
    data = copy_data(tmp_path / "data")
    text = (data / "studies.csv").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("noppers2011_responders_15min,"))
    clone = row.replace("noppers2011", "jones2027").replace(",Noppers 2011,", ",Jones 2027,")
    line = len(_rows(data / "studies.csv")) + 2  # the header is line 1
    (data / "studies.csv").write_text(text + clone + "\n", encoding="utf-8")
    provenance = (data / "provenance.csv").read_text(encoding="utf-8")
    extra = [line.replace("noppers2011_responders_15min,", "jones2027_responders_15min,", 1)
             for line in provenance.splitlines() if line.startswith("noppers2011_responders_15min,")]
    (data / "provenance.csv").write_text(provenance + "\n".join(extra) + "\n", encoding="utf-8")
    status, errors = _validate(data, capsys)
    prisma = {r["stage"]: r for r in _rows(data / "prisma.csv")}
    included = int(prisma["included_qualitative_synthesis"]["count"])
    assert status == 1
    assert any(re.search(rf"prisma.csv:\d+: column 'count': value '{included}': row P09: included_qualitative_synthesis: "
                         rf"data/prisma.csv says {included}, the data count {included + 1} .*write {included + 1}$", e)
               for e in errors), errors
    assert any(f"studies.csv:{line}: column 'study_id': value 'jones2027': no reference in references.csv for "
               "this report (Jones 2027)" in e for e in errors), errors


# ------------------------------------------------------------------ a synthetic trial, end to end


@pytest.fixture(scope="module")
def with_trial(tmp_path_factory):
    """A copy of data/ with the synthetic trial, and its snapshots regenerated (make snapshot)."""
    data = copy_data(tmp_path_factory.mktemp("new_trial") / "data")
    add_synthetic_trial(data)
    snapshots = shutil.copytree(SNAPSHOT_DIR, data.parent / "snapshots")
    report = write_snapshots(data, snapshots)
    return data, report


def test_the_synthetic_trial_is_valid_and_moves_the_snapshots(with_trial):
    data, report = with_trial
    assert check_data_folder(data) == []
    studies = load_table(data / "studies.csv")
    assert (studies["study_id"] == STUDY_ID).sum() == 4
    # make snapshot printed what a reviewer reads: the numbers the trial moved, verdicts first
    k = read_numbers()["evidence/controlled_studies"]
    assert report[0] in ("Claim verdicts that changed:", "No claim verdict changed.")
    assert "Headline numbers that changed:" in report
    assert f"  evidence/controlled_studies: {k} -> {k + 1}" in report, report


def test_every_module_that_reads_the_committed_data_is_rerun_or_says_why():
    reads = re.compile(r"load_studies\(\)|load_evidence_base\(\)|load_claims\(\)|DATA_DIR|headline_numbers\b"
                       r"|load_references\(\)|load_prisma\(\)|claim_verdicts\(\)|SNAPSHOT_PATH|SNAPSHOTS_DIR")
    readers = {p.name for p in (ROOT / "tests").glob("test_*.py") if reads.search(p.read_text(encoding="utf-8"))}
    rerun = {entry.split("::")[0] for entry in RERUN}
    assert readers - rerun - set(NOT_RERUN) == set()
    examples = {p.relative_to(ROOT).as_posix() for p in (ROOT / "analysis").rglob("*.py")
                if re.search(r">>> .*load_studies\(\)", p.read_text(encoding="utf-8"))}
    assert examples == set(RERUN_DOCTESTS)


def test_the_data_dependent_tests_pass_with_the_new_trial(with_trial):
    """README: add the trial, make validate, make snapshot, make test: green, no test edited."""
    data, _ = with_trial
    env = dict(os.environ, ANALYSIS_DATA_DIR=str(data), ANALYSIS_SNAPSHOT_DIR=str(data.parent / "snapshots"))
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules",
            *(f"tests/{entry}" for entry in RERUN), *RERUN_DOCTESTS,
            *(f"--deselect=tests/{entry}" for entry in DESELECT)]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout)


def test_claims_about_a_past_document_keep_their_verdict_when_a_trial_is_added(with_trial):
    """Issue 23: '6 clinical trials involving 115 patients' (a 2024 review) flipped with a 2026
    trial; such claims (as_of_year in data/claims.csv) count the studies published by then."""
    data, _ = with_trial
    claims = load_claims()
    fixed = claims[claims["as_of_year"].notna()]
    assert not fixed.empty and (fixed["as_of_year"] < 2030).all()
    before = check_claims(claims, load_studies()).snapshot().set_index("claim_id")
    after = check_claims(load_claims(data / "claims.csv"), load_studies(data / "studies.csv")).snapshot().set_index("claim_id")
    for claim in fixed["claim_id"]:
        assert after.loc[claim].equals(before.loc[claim]), claim
    # without the document's year the same claims would count the new trial
    live = fixed.assign(as_of_year=pd.NA)
    live_before = check_claims(live, load_studies()).snapshot()["k"].astype(int).to_numpy()
    live_after = check_claims(live, load_studies(data / "studies.csv")).snapshot()["k"].astype(int).to_numpy()
    assert (live_after == live_before + 1).all()
