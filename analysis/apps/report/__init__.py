"""Build the static report: validate the data, execute every notebook, render HTML.

``make report`` runs ``python -m analysis report``, which calls :func:`main`. The build

1. validates the data (a clear message and exit status 2 on bad data, no traceback);
2. executes every ``notebooks/NN_*.ipynb`` with papermill in a fresh kernel (the venv's
   ``python3`` kernel), two notebooks at a time, injecting ``data_dir``, ``figures_dir`` and
   any ``-p NAME VALUE`` given on the command line into the notebooks that declare them;
3. renders each executed notebook to HTML without code cells (``layout``: Markdown cells and
   outputs in a plain page shell that links the shared ``report.css`` and loads nothing else;
   figures and tables numbered and captioned), with a banner that says the page summarises
   research and is not medical advice;
4. writes ``index.html`` with the headline findings (the outputs of the cells tagged
   ``headline`` in ``00_summary``), what changed since the previous data version
   (:mod:`analysis.apps.report.history`, which carries ``history.json`` over from the previous
   report) and a link to every report and figure;
5. builds all of this in a temporary folder next to ``reports/`` and swaps it in only when
   every step succeeded, so a failed build leaves the previous report untouched.

Figures are saved by the notebooks themselves (the library's save helper, into the
``figures_dir`` parameter), as SVG and PNG in ``reports/figures/``.

Text that comes from the data is escaped where the library writes it
(:mod:`analysis.present.safe_html`: tables, narrative Markdown, figures' alt text). As a second line,
Markdown outputs are rendered with raw HTML escaped and images shown as their text, and HTML
outputs are cleaned so that any tag outside a small table-and-text set (``<script>``,
``<iframe>``, event handlers, ...) appears as text and no image but the report's own is shown.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as _dt
import hashlib
import html
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from analysis.engine._errors import AnalysisError
from analysis.apps.report import history
from analysis.apps.report._common import (
    _REPO_ROOT,
    BUILD_PARAMETERS,
    DISCLAIMER,
    NOTEBOOK_PATTERN,
    BuildError,
    BuildResult,
    NotebookRun,
)
from analysis.apps.report.execution import (
    _execute_and_render,
    _read_notebook,
    _swap_into_place,
)
from analysis.apps.report.layout import copy_stylesheet
from analysis.apps.report.pages import (
    GLOSSARY_TITLE,
    _banner,
    _render_glossary,
    _render_index,
    clean_html_fragment,
)
from analysis.present.glossary import GLOSSARY_PAGE

__all__ = [
    "DISCLAIMER",
    "BuildResult",
    "NotebookRun",
    "build_report",
    "clean_html_fragment",
    "data_version",
    "declared_parameters",
    "main",
    "parse_parameter_value",
]


# --------------------------------------------------------------------------- parameters


def parse_parameter_value(text: str) -> object:
    """Turn a command-line parameter value into a Python value.

    Python literals (numbers, quoted strings, lists, ``None``, ``True``) are parsed as such;
    anything else is kept as a string, so ``-p method DL`` needs no quotes.

    Examples
    --------
    >>> parse_parameter_value("50")
    50
    >>> parse_parameter_value("['Cohen 2006', 'Noppers 2011']")
    ['Cohen 2006', 'Noppers 2011']
    >>> parse_parameter_value("REML")
    'REML'
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def declared_parameters(notebook: Path | Mapping) -> dict[str, object]:
    """Names and default values assigned in a notebook's ``parameters`` cell.

    Parameters
    ----------
    notebook : path or notebook node
        The notebook (a ``.ipynb`` path or an ``nbformat`` node).

    Returns
    -------
    dict
        ``{name: default}`` for every simple assignment in the cell; a default that is not
        a literal is given as its source text.

    Raises
    ------
    AnalysisError
        If the notebook has no cell tagged ``parameters``, or more than one.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells.append(nbformat.v4.new_code_cell(
    ...     'method = "REML"\\nexclude = []', metadata={"tags": ["parameters"]}))
    >>> declared_parameters(nb)
    {'method': 'REML', 'exclude': []}
    """
    nb = _read_notebook(notebook) if isinstance(notebook, (str, Path)) else notebook
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise AnalysisError(
            f"a notebook needs exactly one cell tagged 'parameters'; found {len(cells)}"
        )
    source = cells[0]["source"]
    declared: dict[str, object] = {}
    for node in ast.parse(source).body:
        targets = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    declared[target.id] = ast.literal_eval(value)
                except ValueError:
                    declared[target.id] = ast.get_source_segment(source, value)
    return declared


# --------------------------------------------------------------------------- data


def data_version(data_dir: Path | str) -> str:
    """A short checksum of every ``.csv`` file in ``data_dir`` (names and bytes).

    Two builds with the same version used byte-identical data.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "studies.csv").write_text("study_id\\nA\\n")
    >>> data_version(d)
    'sha256:...'
    >>> len(data_version(d))
    19
    """
    digest = hashlib.sha256()
    for path in sorted(Path(data_dir).glob("*.csv")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()[:12]


def _validate_data(data_dir: Path) -> None:
    """Validate every table in ``data_dir`` and the folder as a whole (as ``analysis validate``).

    Raises
    ------
    AnalysisError
        Listing every problem of every table (one per line), or naming the unreadable file.
    """
    if not data_dir.is_dir():
        raise AnalysisError(f"data folder {data_dir} does not exist")
    from analysis import data as data_module

    tables = sorted(p for p in data_dir.glob("*.csv") if not p.name.endswith(".dictionary.csv"))
    if not any(p.name == "studies.csv" for p in tables):
        raise AnalysisError(f"{data_dir / 'studies.csv'} does not exist")
    problems: list[str] = []
    for path in tables:
        try:
            data_module.validate(path)
        except data_module.DataValidationError as exc:
            problems += [str(p) for p in exc.problems if str(p) not in problems]
        except AnalysisError as exc:
            problems.append(str(exc))
        except (OSError, UnicodeError) as exc:
            problems.append(f"{path.name}: cannot be read ({exc})")
    if not problems:  # the review as a whole, as `python -m analysis validate` checks it
        from analysis.review.evidence_base import check_data_folder

        problems = [str(p) for p in check_data_folder(data_dir)]
    if problems:
        raise AnalysisError(
            f"the data are not valid ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}); nothing was built:\n  "
            + "\n  ".join(problems)
        )


def _code_version() -> str:
    """``git describe`` of the working tree (with ``-dirty``), or ``unknown``."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=10"],
            cwd=_REPO_ROOT, capture_output=True, text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def build_report(
    notebooks_dir: Path | str = _REPO_ROOT / "notebooks",
    output_dir: Path | str = _REPO_ROOT / "reports",
    data_dir: Path | str = _REPO_ROOT / "data",
    parameters: Mapping[str, object] | None = None,
    workers: int = 2,
    log: Callable[[str], None] = print,
) -> BuildResult:
    """Validate the data, execute and render every notebook, and swap the result in.

    Parameters
    ----------
    notebooks_dir : path
        Folder with the ``NN_name.ipynb`` notebooks.
    output_dir : path
        The report folder (``reports/``); replaced only if the whole build succeeds.
    data_dir : path
        Data folder; validated first and passed to each notebook as ``data_dir``.
    parameters : mapping, optional
        Extra parameters, injected into each notebook whose ``parameters`` cell declares
        them. A name that no notebook declares is an error.
    workers : int
        Notebooks executed at the same time (each in its own kernel).
    log : callable
        Receives one progress line per step.

    Returns
    -------
    BuildResult

    Raises
    ------
    AnalysisError
        Bad data, an unknown parameter, or a notebook that failed (the message names it).
        The previous report is left as it was and the temporary folder is removed.
    """
    start = time.perf_counter()
    notebooks_dir, output_dir, data_dir = (
        Path(notebooks_dir).resolve(), Path(output_dir).resolve(), Path(data_dir).resolve())
    parameters = dict(parameters or {})
    if workers < 1:
        raise AnalysisError(f"workers must be at least 1, not {workers}")

    log(f"validating data in {_display_path(data_dir)}")
    _validate_data(data_dir)
    version = data_version(data_dir)

    sources = sorted(p for p in notebooks_dir.glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))
    if not sources:
        raise AnalysisError(f"no notebooks named NN_name.ipynb in {_display_path(notebooks_dir)}")
    declared = {p.stem: declared_parameters(p) for p in sources}
    known = set().union(*(set(d) for d in declared.values())) - set(BUILD_PARAMETERS)
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise AnalysisError(
            f"no notebook has a parameter named {', '.join(unknown)}; "
            f"parameters: {', '.join(sorted(known)) or '(none)'}"
        )

    _check_parameter_types(parameters, declared)
    _check_plan(parameters)
    _check_exclusions(parameters, data_dir)

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{output_dir.name}_build_", dir=output_dir.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; a report is for reading
        figures_dir = tmp / "figures"
        figures_dir.mkdir()
        (tmp / "notebooks").mkdir()
        copy_stylesheet(tmp)
        code = _code_version()
        built = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        banner = _banner("{title}", version, code, built, index_link=True)
        jobs = []
        for source in sources:
            injected = {k: v for k, v in parameters.items() if k in declared[source.stem]}
            if "data_dir" in declared[source.stem]:
                injected["data_dir"] = str(data_dir)
            if "figures_dir" in declared[source.stem]:
                injected["figures_dir"] = str(figures_dir)
            jobs.append({
                "source": str(source),
                "executed": str(tmp / "notebooks" / source.name),
                "html": str(tmp / f"{source.stem}.html"),
                "parameters": injected,
                "banner": banner,
            })
        log(f"executing {len(jobs)} notebooks ({min(workers, len(jobs))} at a time)")
        runs = _run_jobs(jobs, workers, log)
        figures = tuple(
            str(p.relative_to(tmp)) for p in sorted(figures_dir.rglob("*")) if p.is_file()
        )
        changes = history.record_build(data_dir, output_dir, tmp, data_version=version,
                                       built=built, code=code)
        (tmp / "index.html").write_text(
            _render_index(runs, figures, version, code, built, parameters,
                          changes_html=history.render_changes(changes)), encoding="utf-8")
        (tmp / GLOSSARY_PAGE).write_text(
            _render_glossary(banner.replace("{title}", html.escape(GLOSSARY_TITLE))), encoding="utf-8")
        log(f"wrote index.html ({len(runs)} reports, {len(figures)} figure files) and {GLOSSARY_PAGE}")
        _swap_into_place(tmp, output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    log(f"report ready in {_display_path(output_dir)} ({seconds:.1f} s)")
    return BuildResult(output_dir, runs, figures, seconds, version, parameters)


def _check_plan(parameters: Mapping[str, object]) -> None:
    """Refuse overrides the analysis plan rejects (a value outside its set, a combination
    that does not apply), before any notebook runs: every notebook takes every plan parameter."""
    from analysis.review.plan import AnalysisPlan

    chosen = {name: value for name, value in parameters.items() if name in AnalysisPlan.parameter_names()}
    try:
        AnalysisPlan(**chosen)
    except AnalysisError as error:
        raise AnalysisError(f"parameters refused before any notebook ran: {error}") from None


def _check_exclusions(parameters: Mapping[str, object], data_dir: Path) -> None:
    """Refuse ``-p exclude`` names that match no study of ``data_dir`` before any notebook runs."""
    if not parameters.get("exclude"):
        return
    from analysis.data import load_studies
    from analysis.review.selection import excluded_ids

    try:
        excluded_ids(load_studies(data_dir / "studies.csv"), parameters["exclude"])
    except AnalysisError as error:
        raise AnalysisError(f"parameters refused before any notebook ran: {error}") from None


def _check_parameter_types(parameters: Mapping[str, object], declared: Mapping[str, dict]) -> None:
    """Refuse a value whose type differs from the notebooks' default (None takes anything).

    Catches ``-p exclude cohen2006`` (a string where a list is expected) before any kernel
    starts; integers are accepted where a float is declared and vice versa.
    """
    numbers = (int, float)
    for name, value in parameters.items():
        for defaults in declared.values():
            if name not in defaults or defaults[name] is None or value is None:
                continue
            default = defaults[name]
            same = isinstance(value, type(default)) or (
                isinstance(value, numbers) and isinstance(default, numbers)
                and not isinstance(value, bool) and not isinstance(default, bool))
            if not same:
                raise AnalysisError(
                    f"parameter {name} takes a {type(default).__name__} like {default!r}, "
                    f"not {value!r}; e.g. -p {name} \"{default!r}\""
                )


def _run_jobs(jobs: list[dict], workers: int, log) -> tuple[NotebookRun, ...]:
    """Run the notebook jobs, ``workers`` at a time; stop at the first failure."""
    results: dict[str, NotebookRun] = {}
    total = len(jobs)
    if workers == 1 or total == 1:
        for job in jobs:
            run = _execute_and_render(job)
            results[run.name] = run
            log(f"[{len(results)}/{total}] {run.name}: ok ({run.seconds:.1f} s)")
    else:
        # Separate processes: each papermill run owns its kernel and event loop.
        with ProcessPoolExecutor(max_workers=min(workers, total),
                                 mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_execute_and_render, job): job for job in jobs}
            try:
                for future in as_completed(futures):
                    run = future.result()
                    results[run.name] = run
                    log(f"[{len(results)}/{total}] {run.name}: ok ({run.seconds:.1f} s)")
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    return tuple(results[Path(job["source"]).stem] for job in jobs)


def _display_path(path: Path) -> str:
    """A path relative to the working directory when possible (keeps logs short)."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis report",
        description="Validate the data, execute every notebook and render the static report.",
    )
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="set a notebook parameter, e.g. -p method DL -p exclude \"['Cohen 2006']\"",
    )
    parser.add_argument("--notebooks", default=str(_REPO_ROOT / "notebooks"),
                        help="folder with the notebooks (default: notebooks/)")
    parser.add_argument("--data", default=str(_REPO_ROOT / "data"),
                        help="data folder (default: data/)")
    parser.add_argument("--output", default=str(_REPO_ROOT / "reports"),
                        help="report folder to (re)place (default: reports/)")
    parser.add_argument("--workers", type=int, default=2,
                        help="notebooks executed at the same time (default: 2)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of ``python -m analysis report``; returns the exit status.

    Exit status 0 on success, 2 on bad data or options, 1 if a notebook failed. Errors are
    printed as one ``error:`` line on standard error, without a traceback.
    """
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    parameters = {name: parse_parameter_value(value) for name, value in args.parameter}
    try:
        build_report(args.notebooks, args.output, args.data, parameters, args.workers,
                     log=lambda line: print(line, flush=True))
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("error: the previous report (if any) was left unchanged", file=sys.stderr)
        return 1
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
