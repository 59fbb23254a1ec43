"""Build the static report: validate the data, execute every notebook, render HTML.

``make report`` runs ``python -m analysis report``, which calls :func:`main`. The build

1. validates the data (a clear message and exit status 2 on bad data, no traceback);
2. executes every ``notebooks/NN_*.ipynb`` with papermill in a fresh kernel (the venv's
   ``python3`` kernel), two notebooks at a time, injecting ``data_dir``, ``figures_dir`` and
   any ``-p NAME VALUE`` given on the command line into the notebooks that declare them;
3. renders each executed notebook to HTML without code cells (nbconvert,
   ``exclude_input=True``), with a banner that says the page summarises research and is not
   medical advice;
4. writes ``index.html`` with the headline findings (the outputs of the cells tagged
   ``headline`` in ``00_summary``) and a link to every report and figure;
5. builds all of this in a temporary folder next to ``reports/`` and swaps it in only when
   every step succeeded, so a failed build leaves the previous report untouched.

Figures are saved by the notebooks themselves (the library's save helper, into the
``figures_dir`` parameter), as SVG and PNG in ``reports/figures/``.

Text that comes from the data is escaped: Markdown outputs are rendered with raw HTML
escaped, and HTML outputs are cleaned so that any tag outside a small table-and-text set
(``<script>``, ``<iframe>``, event handlers, ...) appears as text.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import ctypes
import datetime as _dt
import errno
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from analysis._errors import AnalysisError

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

#: The statement every generated page carries.
DISCLAIMER = (
    "This report summarises published research on ketamine for fibromyalgia pain. "
    "It is not medical advice: do not start, stop or change any treatment because of it; "
    "talk to a qualified clinician."
)

#: Kernel the notebooks run in (``make`` installs the venv's interpreter under this name).
KERNEL_NAME = "python3"

#: Notebooks the build executes: two digits, an underscore, a descriptive name.
NOTEBOOK_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")

#: The notebook whose ``headline``-tagged cell outputs go on the index page.
SUMMARY_NOTEBOOK = "00_summary"

#: Cell tag marking the outputs that form the headline findings.
HEADLINE_TAG = "headline"

#: Parameters the build itself injects into every notebook that declares them.
BUILD_PARAMETERS = ("data_dir", "figures_dir")

#: Seconds a single cell may run before the build gives up on the notebook.
CELL_TIMEOUT_SECONDS = 600

#: Seconds to wait for a kernel to start.
KERNEL_START_TIMEOUT_SECONDS = 120

_REPO_ROOT = Path(__file__).resolve().parent.parent

# Tags and attributes allowed in HTML outputs (pandas tables, simple text); anything else
# is escaped and shows as text. ``style`` is kept for pandas' scoped table CSS.
_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd",
        "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "img", "li", "mark", "ol", "p", "pre", "s", "small",
        "span", "strong", "style", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "u", "ul",
    }
)
_ALLOWED_ATTRIBUTES = {
    "*": ["class", "id", "title", "align"],
    "a": ["href"],
    "img": ["src", "alt", "width", "height"],
    "table": ["border"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan", "scope"],
}
_ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "data"})

_PAGE_CSS = """
<style>
  .kfm-banner { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
    max-width: 1100px; margin: 0 auto 1rem auto; padding: 0.75rem 1rem;
    border-bottom: 1px solid #d0d7de; font-size: 0.95rem; color: #24292f; }
  .kfm-banner a { color: #0550ae; }
  .kfm-disclaimer { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
    padding: 0.6rem 0.9rem; margin: 0.5rem 0; }
  .kfm-meta { color: #57606a; font-size: 0.85rem; }
  body.jp-Notebook, main { max-width: 1100px; margin-left: auto; margin-right: auto; }
  .jp-Cell { padding-left: 0.5rem; padding-right: 0.5rem; }
  .jp-RenderedHTMLCommon table, table.dataframe { border-collapse: collapse;
    font-size: 0.85rem; margin: 0.5rem 0 1rem 0; }
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th, table.dataframe td,
  table.dataframe th { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem;
    text-align: left !important; vertical-align: top; max-width: 28rem; }
  .jp-RenderedHTMLCommon thead th, table.dataframe thead th { background: #f6f8fa; }
  .jp-RenderedHTMLCommon tbody tr:nth-child(even), table.dataframe tbody tr:nth-child(even)
    { background: #f9fafb; }
  .jp-OutputArea-output { overflow-x: auto; }
  .jp-RenderedImage img, .jp-OutputArea-output img { max-width: 100%; height: auto; }
  .jp-OutputArea-output pre { white-space: pre-wrap; }
</style>
"""

_INDEX_CSS = """
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f;
    max-width: 1000px; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
  h1 { font-size: 1.7rem; margin-bottom: 0.25rem; }
  h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
  a { color: #0550ae; }
  .kfm-disclaimer { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
    padding: 0.6rem 0.9rem; margin: 1rem 0; }
  .kfm-meta { color: #57606a; font-size: 0.85rem; }
  .kfm-headline { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px;
    padding: 0.5rem 1rem; margin: 0.75rem 0; }
  .kfm-headline pre { white-space: pre-wrap; font-family: inherit; margin: 0.25rem 0; }
  .kfm-headline img { max-width: 100%; height: auto; }
  table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0; }
  td, th { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left;
    vertical-align: top; }
  thead th { background: #f6f8fa; }
  ul.kfm-reports li { margin: 0.4rem 0; }
  .kfm-figures { columns: 2; font-size: 0.9rem; }
</style>
"""


@dataclass(frozen=True)
class NotebookRun:
    """One executed and rendered notebook.

    Attributes
    ----------
    name : str
        Notebook stem, e.g. ``"02_response_rates"``.
    title : str
        The first Markdown heading of the notebook (plain text).
    summary : str
        The notebook's question line (plain text; empty if it has none).
    html_file : str
        File name of the rendered page inside the report folder.
    seconds : float
        Wall-clock time to execute and render it.
    headline_html : tuple of str
        Cleaned HTML fragments from cells tagged ``headline`` (for the index page).
    """

    name: str
    title: str
    summary: str
    html_file: str
    seconds: float
    headline_html: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildResult:
    """Outcome of :func:`build_report`.

    Attributes
    ----------
    output_dir : pathlib.Path
        Folder holding the finished report.
    runs : tuple of NotebookRun
        Every notebook, in file-name order.
    figures : tuple of str
        Figure files (relative to ``output_dir``) the notebooks saved.
    seconds : float
        Wall-clock time of the whole build.
    data_version : str
        Checksum of the data files the build used (see :func:`data_version`).
    parameters : dict
        The command-line parameters injected into the notebooks.
    """

    output_dir: Path
    runs: tuple[NotebookRun, ...]
    figures: tuple[str, ...]
    seconds: float
    data_version: str
    parameters: Mapping[str, object] = field(default_factory=dict)


class BuildError(AnalysisError):
    """A notebook failed or the report could not be written; the message says which."""


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
    """Validate every table in ``data_dir`` against its dictionary (as ``analysis validate``).

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


# --------------------------------------------------------------------------- HTML


def clean_html_fragment(fragment: str) -> str:
    """Escape every tag in an HTML fragment that is not plain table-and-text markup.

    Used on every HTML output of the notebooks before it is written to a page, so that
    text from the data which happens to contain markup cannot run in the reader's browser.

    Examples
    --------
    >>> clean_html_fragment("<p>Smith <script>alert(1)</script></p>")
    '<p>Smith &lt;script&gt;alert(1)&lt;/script&gt;</p>'
    >>> clean_html_fragment('<a href="javascript:x()" onclick="y()">z</a>')
    '<a>z</a>'
    """
    import bleach  # a dependency of nbconvert

    return bleach.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        protocols=_ALLOWED_PROTOCOLS,
        strip=False,
        strip_comments=True,
    )


def _markdown_to_html(text: str) -> str:
    """Render Markdown with any raw HTML in it escaped (so data text shows as text)."""
    import mistune  # a dependency of nbconvert

    render = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return render(text)


def _clean_outputs(nb) -> None:
    """Make every output safe to embed: escape Markdown's raw HTML, clean HTML outputs."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            if "text/html" in data:
                data["text/html"] = _show_missing_as_dash(clean_html_fragment(_join(data["text/html"])))
            elif "text/markdown" in data:
                data["text/html"] = _markdown_to_html(_join(data["text/markdown"]))
            data.pop("text/markdown", None)
            # JavaScript outputs would run in the reader's browser: drop them.
            data.pop("application/javascript", None)


#: How pandas writes an empty cell into an HTML table (float, nullable, object, datetime).
_MISSING_CELL = re.compile(r"<td>(?:NaN|&lt;NA&gt;|None|NaT|nan)</td>")


def _show_missing_as_dash(fragment: str) -> str:
    """Table cells without a value read as a dash, not as pandas' NaN or <NA>.

    >>> _show_missing_as_dash("<tr><td>NaN</td><td>&lt;NA&gt;</td><td>3</td></tr>")
    '<tr><td class="kfm-missing">–</td><td class="kfm-missing">–</td><td>3</td></tr>'
    """
    return _MISSING_CELL.sub('<td class="kfm-missing">–</td>', fragment)


def _join(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _headline_fragments(nb) -> tuple[str, ...]:
    """HTML for the outputs of cells tagged ``headline`` (already cleaned)."""
    fragments = []
    for cell in nb.cells:
        if HEADLINE_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                fragments.append(f"<pre>{html.escape(_join(output['text']))}</pre>")
                continue
            data = output.get("data") or {}
            if "text/html" in data:
                fragments.append(_join(data["text/html"]))
            elif "image/png" in data:
                fragments.append(
                    f'<img alt="headline figure" src="data:image/png;base64,'
                    f'{_join(data["image/png"]).strip()}">'
                )
            elif "text/plain" in data:
                fragments.append(f"<pre>{html.escape(_join(data['text/plain']))}</pre>")
    return tuple(fragments)


def _notebook_title_and_summary(nb, fallback: str) -> tuple[str, str]:
    """First Markdown heading and the ``Question`` line (both plain text)."""
    title, summary = fallback, ""
    header = next((cell.source for cell in nb.cells if cell.cell_type == "markdown"), "")
    for paragraph in re.split(r"\n\s*\n", header):
        text = " ".join(line.strip() for line in paragraph.splitlines())
        if title == fallback and text.startswith("#"):
            title = text.lstrip("#").strip()
        elif not summary and re.match(r"^\**question\**\s*:?", text, re.IGNORECASE):
            summary = re.sub(r"^\**question\**\s*:?\s*\**:?\s*", "", text, flags=re.I)
    return _plain(title), _plain(summary)


def _plain(markdown_text: str) -> str:
    """Drop the simplest Markdown emphasis and code marks from a one-line string."""
    return re.sub(r"[*_`]", "", markdown_text).strip()


def _banner(title: str, version: str, code: str, built: str, index_link: bool) -> str:
    nav = '<a href="index.html">&larr; All reports</a> &middot; ' if index_link else ""
    return (
        '<div class="kfm-banner" role="note">'
        f"{nav}<strong>{html.escape(title)}</strong>"
        f'<p class="kfm-disclaimer"><strong>Not medical advice.</strong> '
        f"{html.escape(DISCLAIMER)}</p>"
        f'<p class="kfm-meta">Data version {html.escape(version)} &middot; code '
        f"{html.escape(code)} &middot; built {html.escape(built)} &middot; "
        "a dash (–) in a table: no value (not reported by the source, or not applicable)</p>"
        "</div>"
    )


def _render_page(nb, title: str, banner: str) -> str:
    """HTML for an executed notebook, without code cells, with the banner and CSS."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb.metadata["title"] = title  # nbconvert uses it for <title>; it escapes it itself
    body, _ = exporter.from_notebook_node(nb)
    body = body.replace("</head>", _PAGE_CSS + "</head>", 1)
    body, n = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + banner, body, count=1)
    if n != 1:
        raise BuildError("nbconvert produced a page without a <body> tag")
    footer = f'<p class="kfm-banner kfm-meta">{html.escape(DISCLAIMER)}</p>'
    return body.replace("</body>", footer + "</body>", 1)


def _render_index(result_runs, figures, version, code, built, parameters) -> str:
    headline = [f for run in result_runs if run.name == SUMMARY_NOTEBOOK for f in run.headline_html]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Ketamine for fibromyalgia pain: evidence report</title>",
        _INDEX_CSS,
        "</head><body>",
        "<h1>Ketamine for fibromyalgia pain: evidence report</h1>",
        f'<p class="kfm-disclaimer"><strong>Not medical advice.</strong> '
        f"{html.escape(DISCLAIMER)}</p>",
        f'<p class="kfm-meta">Data version {html.escape(version)} &middot; code '
        f"{html.escape(code)} &middot; built {html.escape(built)} &middot; "
        "a dash (–) in a table: no value (not reported by the source, or not applicable)</p>",
    ]
    if parameters:
        shown = ", ".join(f"{k} = {v!r}" for k, v in sorted(parameters.items()))
        parts.append(f'<p class="kfm-meta">Parameters changed for this build: '
                     f"{html.escape(shown)}</p>")
    parts.append("<h2>Headline findings</h2>")
    if headline:
        parts.extend(f'<div class="kfm-headline">{fragment}</div>' for fragment in headline)
    else:
        parts.append(
            "<p>No headline findings were produced (the summary notebook has no output "
            f"tagged <code>{HEADLINE_TAG}</code>).</p>"
        )
    parts.append('<h2>Reports</h2><ul class="kfm-reports">')
    for run in result_runs:
        summary = f"<br><small>{html.escape(run.summary)}</small>" if run.summary else ""
        notebook = f"notebooks/{run.name}.ipynb"
        parts.append(
            f'<li><a href="{html.escape(run.html_file)}">{html.escape(run.title)}</a>'
            f' <small>(<a href="{html.escape(notebook)}">executed notebook</a>)</small>'
            f"{summary}</li>"
        )
    parts.append("</ul>")
    parts.append("<h2>Figures</h2>")
    if figures:
        parts.append('<ul class="kfm-figures">')
        parts.extend(
            f'<li><a href="{html.escape(f)}">{html.escape(Path(f).name)}</a></li>'
            for f in figures
        )
        parts.append("</ul>")
    else:
        parts.append("<p>No figures were saved.</p>")
    parts.append(f'<p class="kfm-meta">{html.escape(DISCLAIMER)}</p></body></html>')
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- execution


def _read_notebook(path: Path | str):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def _execute_and_render(job: dict) -> NotebookRun:
    """Worker: execute one notebook with papermill, then render its page (own process)."""
    import nbformat
    import papermill

    start = time.perf_counter()
    source = Path(job["source"])
    executed = Path(job["executed"])
    stderr_log = executed.with_suffix(".stderr.txt")
    try:
        with _kernel_stderr_to(stderr_log):
            papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=job["parameters"],
                kernel_name=KERNEL_NAME,
                cwd=str(source.parent),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=KERNEL_START_TIMEOUT_SECONDS,
                execution_timeout=CELL_TIMEOUT_SECONDS,
            )
    except papermill.PapermillExecutionError as exc:
        raise BuildError(
            f"{source.stem}: {_cell_name(executed, exc.cell_index)} raised "
            f"{exc.ename}: {exc.evalue}{_error_location(exc.traceback)}"
            f"{_stderr_tail(stderr_log)}"
        ) from None
    except Exception as exc:  # kernel died, timeout, unreadable notebook, ...
        raise BuildError(
            f"{source.stem}: {type(exc).__name__}: {exc}{_stderr_tail(stderr_log)}"
        ) from None
    stderr_log.unlink(missing_ok=True)
    nb = nbformat.read(str(executed), as_version=4)
    title, summary = _notebook_title_and_summary(nb, source.stem)
    _clean_outputs(nb)
    headline = _headline_fragments(nb) if source.stem == SUMMARY_NOTEBOOK else ()
    page = _render_page(nb, title, job["banner"].replace("{title}", html.escape(title)))
    Path(job["html"]).write_text(page, encoding="utf-8")
    return NotebookRun(
        name=source.stem,
        title=title,
        summary=summary,
        html_file=Path(job["html"]).name,
        seconds=time.perf_counter() - start,
        headline_html=headline,
    )


@contextlib.contextmanager
def _kernel_stderr_to(path: Path):
    """Send this process's stderr (inherited by the kernel it starts) to ``path``.

    The kernel writes start-up warnings to stderr; they would drown the progress lines.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _cell_name(executed: Path, cell_index: int) -> str:
    """``code cell N`` as the author counts them (the injected parameters cell excluded)."""
    import nbformat

    try:
        cells = nbformat.read(str(executed), as_version=4).cells
    except (OSError, ValueError):
        return f"cell {cell_index}"
    # papermill adds a banner cell pointing at the error; cell_index does not count it
    cells = [c for c in cells
             if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    number = sum(
        1 for cell in cells[: cell_index + 1]
        if cell.cell_type == "code"
        and "injected-parameters" not in cell.get("metadata", {}).get("tags", [])
    )
    return f"code cell {number}"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FRAME = re.compile(r"File (?P<file>\S+?):(?P<line>\d+), in (?P<where>[^\s(]+)")


def _error_location(traceback_lines) -> str:
    """`` (at analysis/x.py:12 in f)``: the innermost frame of a kernel traceback, if any.

    >>> _error_location(["\\x1b[36mFile \\x1b[39m/repo/analysis/_tau2.py:73, in fit(y)", "NameError"])
    ' (at /repo/analysis/_tau2.py:73 in fit)'
    """
    frames = [_FRAME.search(_ANSI.sub("", str(line))) for line in traceback_lines or ()]
    frames = [f for f in frames if f]
    if not frames:
        return ""
    last = frames[-1]
    where = last["file"]
    with contextlib.suppress(ValueError):
        where = str(Path(where).relative_to(_REPO_ROOT))
    return f" (at {where}:{last['line']} in {last['where']})"


def _stderr_tail(path: Path, lines: int = 8) -> str:
    """The kernel's last stderr lines (without its routine start-up warning), if any."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    kept = [
        line for line in text.splitlines()
        if line.strip() and "without encryption" not in line
    ][-lines:]
    return ("\nkernel stderr:\n  " + "\n  ".join(kept)) if kept else ""


def _swap_into_place(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` (both folders on the same file system).

    Uses Linux's ``renameat2(RENAME_EXCHANGE)`` where available, so there is no moment
    without a report; elsewhere, two renames with a roll-back.
    """
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new)  # `new` now holds the old report
        return
    old = target.with_name(f"{target.name}_old_{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2; False if the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


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

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{output_dir.name}_build_", dir=output_dir.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; a report is for reading
        figures_dir = tmp / "figures"
        figures_dir.mkdir()
        (tmp / "notebooks").mkdir()
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
        (tmp / "index.html").write_text(
            _render_index(runs, figures, version, code, built, parameters), encoding="utf-8")
        log(f"wrote index.html ({len(runs)} reports, {len(figures)} figure files)")
        _swap_into_place(tmp, output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    log(f"report ready in {_display_path(output_dir)} ({seconds:.1f} s)")
    return BuildResult(output_dir, runs, figures, seconds, version, parameters)


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
