"""Command line: ``python -m analysis validate [FILE]``, ``new-study``, ``report``, ``pdf``.

``validate`` checks a table against the data dictionary beside it (``X.dictionary.csv``)
and prints a one-line summary per file; with no FILE it checks every table in ``data/``
(the studies table together with its provenance). Problems go to standard error, one per
line, and the exit status is 1; there is never a traceback for bad data.

With no FILE it also checks the data folder as a whole, as the report build does: the PRISMA
counts against the data and a reference for every report (``--data DIR`` checks another
folder, e.g. a copy).

``new-study ID [--like STUDY_ID]`` adds a new study's skeleton to ``data/`` (the one command
that writes there; ``analysis.data.new_study``) and prints the curator's checklist.

``report`` hands its arguments to ``analysis.apps.report.main``, ``pdf`` to
``analysis.apps.report.pdf.main`` (one PDF of the built report, printed by headless Chromium).

``snapshot`` (alias ``snapshot-claims``) writes the reviewed expectations of the data to
``tests/snapshots/`` (``analysis.review.snapshots``: claim verdicts and headline numbers): run it after
adding a trial, review the differences it prints (verdict changes first), and commit the files
with the data.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path


from analysis.data import (
    DATA_DIR,
    DataValidationError,
    Problem,
    validate,
)
from analysis.data._records import _display


def _data_tables(folder: Path) -> list[Path]:
    """Every table in ``folder`` (dictionaries excluded): studies first, provenance last."""
    tables = [p for p in sorted(folder.glob("*.csv"))
              if not p.name.endswith(".dictionary.csv")]
    return sorted(tables, key=lambda p: (p.name != "studies.csv", p.name == "provenance.csv"))


def _command_validate(args: argparse.Namespace) -> int:
    folder = DATA_DIR if args.data is None else Path(args.data)
    if args.file is not None:
        paths = [Path(args.file)]
    else:
        paths = _data_tables(folder)
        if not paths:
            print(f"error: no tables found in {_display(folder)}/", file=sys.stderr)
            return 1
    if args.dictionary is not None and not Path(args.dictionary).is_file():
        print(f"error: {args.dictionary}: dictionary file not found", file=sys.stderr)
        return 1
    problems: list[Problem] = []
    for path in paths:
        if not path.exists():
            print(f"error: {path}: file not found", file=sys.stderr)
            return 1
        if path.is_dir():
            print(f"error: {path}: is a directory; give a CSV file", file=sys.stderr)
            return 1
        try:
            summary = validate(path, args.dictionary)
        except DataValidationError as error:
            problems += [p for p in error.problems if p not in problems]
            continue
        except OSError as error:  # unreadable file, permission denied
            print(f"error: {path}: {error.strerror}", file=sys.stderr)
            return 1
        print(summary)
    if args.file is None and not problems:
        # the review as a whole, as the report build checks it: PRISMA counts, references
        from analysis.review.evidence_base import check_data_folder

        problems = check_data_folder(folder)
        if not problems:
            print(f"{_display(folder)}: the PRISMA counts agree with the data, and every report "
                  "has a reference")
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        files = len({p.file for p in problems})
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} "
              f"file{'s' if files != 1 else ''}; nothing was changed", file=sys.stderr)
        return 1
    return 0


def _command_new_study(args: argparse.Namespace) -> int:
    from analysis.engine._errors import AnalysisError
    from analysis.data.new_study import new_study

    try:
        added = new_study(args.study_id, args.like, args.data)
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(added.checklist())
    return 0


def _hand_over(module: str, what: str, args: Sequence[str]) -> int:
    """Run ``module.main(args)``; a module that cannot be imported is one error line."""
    try:
        # import_module goes through sys.modules (the package attribute may be stale)
        target = importlib.import_module(module)
    except ImportError as error:
        print(f"error: {what} {module} cannot be imported ({error})", file=sys.stderr)
        return 1
    status = target.main(list(args))
    return status if isinstance(status, int) else 0


def _command_report(args: Sequence[str]) -> int:
    return _hand_over("analysis.apps.report", "the report builder", args)


def _command_snapshot(args: argparse.Namespace) -> int:
    from analysis.engine._errors import AnalysisError
    from analysis.review.snapshots import write_snapshots

    try:
        print("\n".join(write_snapshots(args.data)))
    except AnalysisError as error:  # bad data: the first line says which file
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _command_pdf(args: Sequence[str]) -> int:
    return _hand_over("analysis.apps.report.pdf", "the PDF printer", args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Ketamine for fibromyalgia meta-analysis: data validation and reports.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "validate", help="check data tables against their dictionaries",
        description="Check a table against the data dictionary beside it "
                    "(X.dictionary.csv); with no FILE, every table in data/.")
    check.add_argument("file", nargs="?", metavar="FILE", help="a CSV table")
    check.add_argument("--dictionary", metavar="PATH",
                       help="the dictionary to use instead of X.dictionary.csv beside FILE")
    check.add_argument("--data", metavar="DIR",
                       help="the data folder to check (default: data/ of the repository)")
    check.set_defaults(handler=_command_validate)
    start = commands.add_parser(
        "new-study", help="start a new study in data/: rows, provenance, reference, screening "
                          "(cells to fill marked TO_FILL) and a checklist",
        description="Add a new study's rows to data/studies.csv (the shape of --like's rows, or one "
                    "blank row), a provenance record per sourced cell, its reference and its "
                    "screening decision, every value to take from the paper marked TO_FILL; print "
                    "what to do next. The only command that writes to data/.")
    start.add_argument("study_id", metavar="ID", help="the new study_id, e.g. smith2026")
    start.add_argument("--like", metavar="STUDY_ID",
                       help="an existing study whose rows (outcomes, time points) to copy in shape")
    start.add_argument("--data", metavar="DIR",
                       help="the data folder to write to (default: data/ of the repository)")
    start.set_defaults(handler=_command_new_study)
    snapshot = commands.add_parser(
        "snapshot", aliases=["snapshot-claims"],
        help="record the claim verdicts and headline numbers of the data for review",
        description="Write tests/snapshots/claim_verdicts.csv and headline_numbers.json (the "
                    "expectations the tests compare with) and print what changed: claim verdicts "
                    "first, each with the claim's words, then numbers.")
    snapshot.add_argument("--data", metavar="DIR", help="the data folder (default: data/)")
    snapshot.set_defaults(handler=_command_snapshot)
    commands.add_parser("report", add_help=False,
                        help="build the HTML report (arguments go to analysis.apps.report)")
    commands.add_parser("pdf", add_help=False,
                        help="print the built report to one PDF (arguments go to "
                             "analysis.apps.report.pdf)")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["report"]:
        # everything after 'report', options included, belongs to analysis.apps.report
        return _command_report(argv[1:])
    if argv[:1] == ["pdf"]:
        return _command_pdf(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "validate" and args.dictionary is not None and args.file is None:
        parser.error("--dictionary needs a FILE")
    return args.handler(args)


def run() -> int:
    """:func:`main` for the shell: a reader that stops early (``| head``) ends it quietly."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that it cannot fail too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    sys.exit(run())
