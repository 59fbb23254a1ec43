"""The library's wings import one way: engine <- data <- review <- present <- apps.

The engine (``analysis/engine``) knows nothing of this review, so it could be lifted into
another one unchanged; the review never writes words for pages; presentation never reaches
into the apps. Read from the source's import statements (top-level and inside functions).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import analysis

PACKAGE = Path(analysis.__file__).parent

#: Each wing and the wings it may import from (itself included).
ALLOWED = {
    "engine": {"engine"},
    "data": {"engine", "data"},
    "review": {"engine", "data", "review"},
    "present": {"engine", "data", "review", "present"},
    "apps": {"engine", "data", "review", "present", "apps"},
}


def _wing(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "analysis" and parts[1] in ALLOWED else None


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``import analysis...`` / ``from analysis... import x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "analysis":  # from analysis import wing
                found += [(node.lineno, f"analysis.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.startswith("analysis")]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def test_the_top_of_the_library_holds_only_the_wings():
    loose = sorted(p.name for p in PACKAGE.iterdir() if p.suffix == ".py")
    assert loose == ["__init__.py", "__main__.py"]
    wings = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__"))
    assert wings == sorted(ALLOWED)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_point_down_the_wings(path):
    own = path.relative_to(PACKAGE).parts[0]
    wrong = [f"line {line}: {name}" for line, name in _imports(path)
             if _wing(name) is not None and _wing(name) not in ALLOWED[own]]
    assert not wrong, f"{path.relative_to(PACKAGE.parent)} ({own}) imports upward: {wrong}"


def test_the_checker_sees_an_upward_import(tmp_path):
    """The rule can fail: an engine module importing the plan is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from analysis.review.plan import AnalysisPlan\nimport numpy\n")
    assert [_wing(name) for _, name in _imports(bad)] == ["review"]
    assert "review" not in ALLOWED["engine"]


PUBLIC = ("AnalysisError", "AnalysisPlan", "bayesian_meta_analysis", "correlation_sweep",
          "cumulative", "effect_sizes", "egger_test", "influence", "leave_one_out",
          "mantel_haenszel", "meta_analysis", "meta_regression", "multiverse", "peto",
          "pool_proportions", "rank_test", "subgroup_analysis", "trim_and_fill")


def test_public_names_import_from_the_package():
    assert set(PUBLIC) <= set(analysis.__all__)
    for name in PUBLIC:
        assert getattr(analysis, name).__name__ == name


def test_no_public_name_shadows_a_module():
    """``analysis.multiverse`` is the function; no submodule of the same name hides behind it."""
    for name in analysis.__all__:
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(f"analysis.{name}")


#: The longest function body (code lines: no docstring, blank or comment line) a module may hold.
MAX_FUNCTION_LINES = 80


def _code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    """Lines of ``function``'s body that hold code (its docstring, blanks and comments aside)."""
    body = function.body
    first = body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        start = first.end_lineno + 1
    else:
        start = first.lineno
    return sum(1 for line in lines[start - 1:function.end_lineno]
               if line.strip() and not line.strip().startswith("#"))


def _long_functions(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    return [f"{node.name} (line {node.lineno}): {n} lines"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and (n := _code_lines(node, lines)) > MAX_FUNCTION_LINES]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_function_is_longer_than_80_lines_of_code(path):
    assert _long_functions(path) == []


def test_the_length_check_counts_code_not_docstrings(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    doc = '    """' + "\n    words" * 50 + '\n    """\n'
    fine = tmp_path / "fine.py"
    fine.write_text(f"def f():\n{doc}    # a comment\n\n{body}\n")
    assert _long_functions(fine) == []
    long = tmp_path / "long.py"
    long.write_text(f"def g():\n{doc}{body}\n    return x0\n")
    assert _long_functions(long) == [f"g (line 1): {MAX_FUNCTION_LINES + 1} lines"]
