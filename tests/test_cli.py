"""``python -m analysis``: run as a user runs it, in a subprocess, and read what it prints.

The validate messages themselves are pinned in ``tests/test_data_validation.py``; here the
point is the command's contract: summary on stdout and exit 0 for valid data, every problem
on stderr and exit 1 for invalid data, a one-line error for a missing file, never a
traceback, and the working directory never matters.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from analysis.__main__ import main
from analysis.data import DATA_DIR
from analysis.data._records import _display

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data_corpus"
C = "tests/data_corpus/"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_validate_valid_file_prints_summary_and_exits_0():
    result = run("validate", str(CORPUS / "provenance_valid" / "studies.csv"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (
        f"{C}provenance_valid/studies.csv: valid: 2 rows, 2 studies, 5 columns; provenance: "
        f"6 of 6 sourced cells have a record in {C}provenance_valid/provenance.csv "
        "(3 reported, 1 derived, 2 not_reported)\n")


def test_a_reader_that_stops_early_gets_no_traceback():
    """``python -m analysis validate | head -1``: the pipe closes before the output ends."""
    shell = subprocess.run(f"'{sys.executable}' -m analysis validate | head -c 10 >/dev/null",
                           shell=True, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert shell.returncode == 0
    assert shell.stderr == ""


def test_validate_invalid_file_lists_every_problem_on_stderr_and_exits_1():
    result = run("validate", "tests/data_corpus/sd_not_positive.csv",
                 "--dictionary", "tests/data_corpus/valid.dictionary.csv")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"{C}sd_not_positive.csv:3: column 'pain_sd': value '0': "
        "not greater than the exclusive minimum 0\n"
        f"{C}sd_not_positive.csv:4: column 'pain_sd': value '-4.1': "
        "not greater than the exclusive minimum 0\n"
        "2 problems in 1 file; nothing was changed\n")


def test_validate_many_problems_without_traceback():
    result = run("validate", "tests/data_corpus/many_problems.csv",
                 "--dictionary", "tests/data_corpus/valid.dictionary.csv")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    # 19 problems pinned in test_data_validation.py, then the count line
    assert len(lines) == 20
    assert lines[-1] == "19 problems in 1 file; nothing was changed"
    assert "Traceback" not in result.stderr


def test_validate_missing_file_is_one_line():
    result = run("validate", "no_such_file.csv")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "error: no_such_file.csv: file not found\n"
    result = run("validate", "tests/data_corpus")
    assert result.returncode == 1
    assert result.stderr == "error: tests/data_corpus: is a directory; give a CSV file\n"


def test_validate_broken_encoding_and_empty_file():
    for name, message in (
        ("utf16.csv", "file is UTF-16 (little-endian) encoded (byte-order mark 0xFF 0xFE); "
                      "save it as UTF-8"),
        ("empty.csv", "file is empty; it needs a header row and data rows"),
    ):
        result = run("validate", f"tests/data_corpus/{name}",
                     "--dictionary", "tests/data_corpus/valid.dictionary.csv")
        assert result.returncode == 1
        assert result.stderr.splitlines()[0] == f"{C}{name}:1: {message}"
        assert "Traceback" not in result.stderr


def test_validate_malformed_dictionary():
    result = run("validate", "tests/data_corpus/bad_header.csv")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"{C}bad_header.dictionary.csv:1: column 'needs_source': missing column: a data "
        "dictionary has the columns column,type,unit,required,allowed,minimum,maximum,"
        "needs_source,description,label,category_labels")


def test_validate_without_file_checks_the_project_data_from_any_directory(tmp_path):
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    data = _display(DATA_DIR)  # data/, or the copy ANALYSIS_DATA_DIR names
    assert first.startswith(f"{data}/studies.csv: valid: ")
    assert f"sourced cells have a record in {data}/provenance.csv" in first
    assert result.stdout.splitlines()[-1] == (f"{data}: the PRISMA counts agree with the data, and every "
                                              "report has a reference")


def test_no_command_is_a_usage_error():
    result = run()
    assert result.returncode == 2
    assert "usage: python -m analysis" in result.stderr
    assert "Traceback" not in result.stderr


def test_report_passes_its_arguments_through(monkeypatch):
    seen = []
    fake = types.ModuleType("analysis.apps.report")
    fake.main = lambda args: seen.append(args) or 0
    monkeypatch.setitem(sys.modules, "analysis.apps.report", fake)
    assert main(["report", "--output", "x", "-p", "a", "1"]) == 0
    assert seen == [["--output", "x", "-p", "a", "1"]]


def test_report_import_failure_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "analysis.apps.report", None)  # import raises ImportError
    assert main(["report"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: the report builder analysis.apps.report cannot be "
                                   "imported (")
    assert captured.out == ""


@pytest.mark.parametrize("argv", [["validate", "--dictionary", "x.csv"]])
def test_dictionary_needs_a_file(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "--dictionary needs a FILE" in capsys.readouterr().err
