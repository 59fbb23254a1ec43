"""Notebooks stay thin, parameterised and committed without outputs (STYLE.md, "Notebooks").

These checks read the committed ``.ipynb`` files only; running them is nbval's job
(``make test`` runs every notebook top to bottom) and the report build's.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from analysis.review.plan import AnalysisPlan
from analysis.apps.report import NOTEBOOK_PATTERN, declared_parameters

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
#: Notebooks that are not report pages: the interactive explorer (issue 13; `make explore`).
#: They follow every rule below except the report's naming and its parameters cell.
APPS = ("explore.ipynb",)
ALL_NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
NOTEBOOKS = [p for p in ALL_NOTEBOOKS if p.name not in APPS]

#: The suite issue 5 asks for. A notebook that does not exist yet is a known gap.
EXPECTED = (
    "00_summary",
    "01_evidence_overview",
    "02_response_rates",
    "03_controlled_trials",
    "04_duration_of_relief",
    "05_sensitivity_and_bias",
    "06_claims_check",
    "07_multiverse",
)
NOT_YET: dict[str, str] = {}

#: Parameters a notebook may declare; the build injects the first two.
#: Every notebook declares exactly these: the build's two and the analysis plan's vocabulary.
KNOWN_PARAMETERS = {"data_dir", "figures_dir", *AnalysisPlan.parameter_names()}
#: Issue 5: across the suite, these can be set from the command line.
REQUIRED_ACROSS_SUITE = {"method", "test", "responder_threshold", "time_window", "exclude"}

#: "Short cells": a code cell longer than this is library code in disguise.
MAX_CODE_CELL_LINES = 30

#: Magics and shell escapes a thin notebook never needs.
FORBIDDEN_TEXT = re.compile(
    r"sys\.path|os\.chdir|%cd\b|%run\b|%load\b|%pip\b|%conda\b|pip install|^\s*!",
    re.MULTILINE,
)
ABSOLUTE_PATH = re.compile(r"^(/|~|[A-Za-z]:[\\/])")
MACHINE_PATH = re.compile(r"(/work/|/home/|/Users/|/tmp/|\b[A-Za-z]:\\\w)")

_transform = TransformerManager().transform_cell


def _ids(paths):
    return [p.stem for p in paths]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(params=ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def notebook(request):
    return request.param.stem, nbformat.read(str(request.param), as_version=4)


@pytest.fixture(params=NOTEBOOKS, ids=_ids(NOTEBOOKS))
def report_notebook(request):
    return request.param.stem, nbformat.read(str(request.param), as_version=4)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.xfail(reason=NOT_YET[n], strict=True)) if n in NOT_YET
     else n for n in EXPECTED],
)
def test_expected_notebook_exists(name):
    assert (NOTEBOOKS_DIR / f"{name}.ipynb").is_file()


def test_every_notebook_is_named_nn_name():
    assert NOTEBOOKS, "no notebooks found"
    assert all((NOTEBOOKS_DIR / name).is_file() for name in APPS), APPS
    for path in NOTEBOOKS:
        assert NOTEBOOK_PATTERN.match(path.name), path.name
    for path in ALL_NOTEBOOKS:
        assert not re.search(r"_v\d|_final|copy|untitled", path.stem, re.IGNORECASE), path.name


def test_committed_without_outputs(notebook):
    name, nb = notebook
    for index, cell in enumerate(_code_cells(nb)):
        assert cell.outputs == [], f"{name} cell {index} has outputs"
        assert cell.execution_count is None, f"{name} cell {index} has an execution count"


def test_markdown_header_first(notebook):
    name, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# "), "the header starts with a title"
    for part in ("**Question**", "**Data**", "data version", "**Method**", "not medical advice"):
        assert part.lower() in first.source.lower(), f"{name}: header lacks {part!r}"


def test_one_parameters_cell_before_other_code(report_notebook):
    name, nb = report_notebook
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name}: {len(tagged)} cells tagged 'parameters'"
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert tagged[0] == first_code, f"{name}: the parameters cell is the first code cell"
    declared = declared_parameters(nb)
    # One vocabulary, declared once: every notebook takes every parameter, with the plan's
    # defaults, so an override means the same in every page and the index (issue 9).
    assert set(declared) == KNOWN_PARAMETERS, set(declared) ^ KNOWN_PARAMETERS
    primary = AnalysisPlan()
    for name in AnalysisPlan.parameter_names():
        default = getattr(primary, name)
        assert declared[name] == (list(default) if isinstance(default, tuple) else default), (name, declared[name])
    assert AnalysisPlan.from_parameters(declared) == primary
    # The build injects both; their defaults keep a plain run (nbval) inside the repository.
    assert declared["data_dir"] == "../data"
    assert declared["figures_dir"] is None


def test_suite_parameters_cover_the_issue():
    declared = set().union(*(declared_parameters(p) for p in NOTEBOOKS))
    assert REQUIRED_ACROSS_SUITE <= declared, REQUIRED_ACROSS_SUITE - declared


def test_no_definitions_path_edits_or_installs(notebook):
    name, nb = notebook
    for index, cell in enumerate(_code_cells(nb)):
        assert not FORBIDDEN_TEXT.search(cell.source), f"{name} cell {index}"
        tree = ast.parse(_transform(cell.source))
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)), (
                f"{name} cell {index}: define functions and classes in the library"
            )
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not ABSOLUTE_PATH.match(node.value), f"{name} cell {index}: {node.value!r}"


def test_code_cells_are_short(notebook):
    name, nb = notebook
    for index, cell in enumerate(_code_cells(nb)):
        lines = len(cell.source.splitlines())
        assert lines <= MAX_CODE_CELL_LINES, f"{name} cell {index}: {lines} lines"


def test_no_machine_paths_anywhere(notebook):
    name, nb = notebook
    text = "\n".join(cell.source for cell in nb.cells)
    assert not MACHINE_PATH.search(text), f"{name}: {MACHINE_PATH.search(text).group(0)!r}"


def test_runs_in_the_venv_python3_kernel(notebook):
    _, nb = notebook
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_hygiene_checks_catch_a_bad_notebook():
    """The checks above are not vacuous: a notebook breaking each rule fails them."""
    bad = nbformat.v4.new_code_cell(
        'import sys\nsys.path.insert(0, "/home/me/analysis")\ndef helper():\n    pass'
    )
    assert MACHINE_PATH.search(r'open("C:\Users\me\data.csv")')
    assert FORBIDDEN_TEXT.search(bad.source)
    assert MACHINE_PATH.search(bad.source)
    tree = ast.parse(_transform(bad.source))
    assert any(isinstance(n, ast.FunctionDef) for n in ast.walk(tree))
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert any(isinstance(c, str) and ABSOLUTE_PATH.match(c) for c in constants)
    assert FORBIDDEN_TEXT.search("%pip install numpy")
    assert FORBIDDEN_TEXT.search("!ls")
