"""Command line: ``python -m analysis validate [FILE]`` and ``python -m analysis report``.

``validate`` checks a table against the data dictionary beside it (``X.dictionary.csv``)
and prints a one-line summary per file; with no FILE it checks every table in ``data/``
(the studies table together with its provenance). Problems go to standard error, one per
line, and the exit status is 1; there is never a traceback for bad data.

``report`` hands its arguments to ``analysis.apps.report.main``, ``pdf`` to
``analysis.apps.report.pdf.main`` (one PDF of the built report, printed by headless Chromium).

``snapshot-claims`` writes the verdicts of every claim on the committed data to
``tests/snapshots/claim_verdicts.csv``: run it after adding a trial, review the
differences it prints, and commit the file with the data.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis.data import (
    DATA_DIR,
    DataValidationError,
    Problem,
    validate,
)


def _data_tables() -> list[Path]:
    """Every table in data/ (dictionaries excluded): studies first, provenance last."""
    tables = [p for p in sorted(DATA_DIR.glob("*.csv"))
              if not p.name.endswith(".dictionary.csv")]
    return sorted(tables, key=lambda p: (p.name != "studies.csv", p.name == "provenance.csv"))


def _command_validate(args: argparse.Namespace) -> int:
    if args.file is not None:
        paths = [Path(args.file)]
    else:
        paths = _data_tables()
        if not paths:
            print(f"error: no tables found in {DATA_DIR.name}/", file=sys.stderr)
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
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        files = len({p.file for p in problems})
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} "
              f"file{'s' if files != 1 else ''}; nothing was changed", file=sys.stderr)
        return 1
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


def _command_snapshot_claims(args: argparse.Namespace) -> int:
    from analysis.review.claims import SNAPSHOT_PATH, check_claims, snapshot_differences
    from analysis.data import load_claims, load_studies

    found = check_claims(load_claims(), load_studies()).snapshot()
    if SNAPSHOT_PATH.exists():
        changes = snapshot_differences(pd.read_csv(SNAPSHOT_PATH, dtype=str, keep_default_na=False), found)
        print("\n".join(changes) if changes else "no verdict changed")
    SNAPSHOT_PATH.parent.mkdir(parents=True, exist_ok=True)
    found.to_csv(SNAPSHOT_PATH, index=False)
    print(f"wrote {SNAPSHOT_PATH.relative_to(SNAPSHOT_PATH.parents[2])} ({len(found)} claims)")
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
    check.set_defaults(handler=_command_validate)
    snapshot = commands.add_parser(
        "snapshot-claims", help="record the claim verdicts on the committed data for review",
        description="Write tests/snapshots/claim_verdicts.csv and print what changed.")
    snapshot.set_defaults(handler=_command_snapshot_claims)
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


if __name__ == "__main__":
    sys.exit(main())
