"""Constants and records shared by the report build: disclaimer, kernel, timeouts, results."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from analysis.engine._errors import AnalysisError
from analysis.data.paths import REPO_ROOT

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

#: Cell tag marking the plain-language outputs (key messages, icon arrays, the articles answered)
#: that open the index, before anything technical.
PLAIN_TAG = "plain"

#: Parameters the build itself injects into every notebook that declares them.
BUILD_PARAMETERS = ("data_dir", "figures_dir")

#: Seconds a single cell may run before the build gives up on the notebook.
CELL_TIMEOUT_SECONDS = 600

#: Seconds to wait for a kernel to start.
KERNEL_START_TIMEOUT_SECONDS = 120

_REPO_ROOT = REPO_ROOT

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
    figures : tuple of dict
        The figures the page shows, in order: ``number``, ``id`` (anchor on the page),
        ``caption`` and ``src`` (for the index's list of figures).
    plain_html : tuple of str
        Cleaned HTML fragments from cells tagged ``plain`` (the top of the index page).
    """

    name: str
    title: str
    summary: str
    html_file: str
    seconds: float
    headline_html: tuple[str, ...] = ()
    figures: tuple[dict, ...] = ()
    plain_html: tuple[str, ...] = ()


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


