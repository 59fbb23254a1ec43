"""The report build, run for real: papermill executes the notebooks, the library renders them.

One full build of the real notebooks on the hostile copy of the real data (markup in labels,
notes and quotes: ``tests/report_build.py``) is shared by most tests, and with
``test_report_browser.py`` and ``test_hostile_data.py`` (the ``built_report`` fixture of
``tests/conftest.py``); the failure tests use a two-notebook
suite so that they stay fast.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import nbformat
import pytest

from analysis.apps import report
from analysis.apps.report import DISCLAIMER, main

from analysis.review.plan import AnalysisPlan
from hostile_data import hostile_label
from report_build import build_dirs as _build_dirs, copy_data as _copy_data
from tests.one_answer import check_one_answer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(built_report):
    """The session's build of the real notebooks (``tests/conftest.py``), shared with the
    browser tests: real data with one malicious label, ``-p method DL``, over an old report."""
    return built_report


def _pages(output: Path) -> list[Path]:
    return sorted(output.glob("*.html"))


def test_build_succeeds(built):
    assert built["status"] == 0, built["stderr"]


def test_the_build_gives_one_answer_per_question(built):
    """Issue 22 on the real data (``-p method DL``; one label carries markup, so only the numbers
    are compared): each question's number, interval and model are the same on every page."""
    assert built["status"] == 0
    check_one_answer(built["output"], AnalysisPlan(method="DL"), ROOT / "data")


def test_index_links_every_report(built):
    output = built["output"]
    index = (output / "index.html").read_text(encoding="utf-8")
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for name in notebooks:
        assert f'href="{name}.html"' in index, name
        assert (output / f"{name}.html").is_file(), name


def test_index_says_how_to_start_the_explorer(built):
    index = (built["output"] / "index.html").read_text(encoding="utf-8")
    assert "<code>make explore</code>" in index and "notebooks/explore.ipynb" in index


def test_progress_line_per_notebook(built):
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    lines = built["stdout"].splitlines()
    assert lines[0].startswith("validating data")
    for name in notebooks:
        assert any(re.fullmatch(rf"\[\d+/{len(notebooks)}\] {name}: ok \(\d+\.\d s\)", line)
                   for line in lines), name
    assert lines[-1].startswith("report ready in")


def test_no_code_in_pages(built):
    for page in _pages(built["output"]):
        text = page.read_text(encoding="utf-8")
        body = text[text.index("<body"):]  # the head's CSS names every class
        # nbconvert marks every rendered code input with these (checked: present when
        # exclude_input is False)
        assert "jp-InputPrompt" not in body and 'class="highlight' not in body, page.name


def test_every_page_says_not_medical_advice(built):
    for page in _pages(built["output"]):
        assert html.escape(DISCLAIMER) in page.read_text(encoding="utf-8"), page.name


def test_empty_table_cells_read_as_a_dash(built):
    pages = [p.read_text(encoding="utf-8") for p in _pages(built["output"])]
    assert any(re.search(r"<td[^>]*>–</td>", page) for page in pages)
    for page in pages:
        assert not re.search(r"<td[^>]*>(NaN|nan|None|&lt;NA&gt;|NaT)</td>", page)


def _category_codes() -> set[str]:
    """Every coded category value of the data with an underscore (rct_crossover, some_concerns, ...)."""
    from analysis.data import load_dictionary

    codes = set()
    for path in (ROOT / "data").glob("*.dictionary.csv"):
        for spec in load_dictionary(path).columns:
            codes |= {value for value in spec.allowed if "_" in value}
    return codes


def test_no_table_shows_a_code_a_snake_case_header_a_missing_marker_or_an_empty_body(built):
    """Issue 10: no DataFrame reaches a reader as it is."""
    codes = _category_codes()
    assert {"rct_crossover", "some_concerns", "single_arm_prospective"} <= codes
    for page in _pages(built["output"]):
        text = page.read_text(encoding="utf-8")
        for table in re.findall(r"<table\b.*?</table>", text, flags=re.DOTALL):
            headers = [html.unescape(re.sub(r"<[^>]+>", "", h)).strip()
                       for h in re.findall(r"<th\b[^>]*>(.*?)</th>", table, flags=re.DOTALL)]
            cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                     for c in re.findall(r"<td\b[^>]*>(.*?)</td>", table, flags=re.DOTALL)]
            assert cells, f"{page.name}: a table without a body"
            assert "<caption" in table, f"{page.name}: a table without a caption"
            snake = [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)]
            assert not snake, f"{page.name}: snake_case headers {snake}"
            leaked = [c for c in cells if c in codes or c in ("nan", "NaN", "None", "True", "False")]
            assert not leaked, f"{page.name}: coded or missing values shown: {leaked[:5]}"


def test_markup_in_the_data_is_shown_as_text(built):
    """The build's data carry markup (tests/hostile_data.py; test_hostile_data.py checks it all)."""
    from bs4 import BeautifulSoup

    label = hostile_label()
    pages = {p.name: p.read_text(encoding="utf-8") for p in _pages(built["output"])}
    for name, text in pages.items():
        assert label not in text, name
        assert "<script class=hostile>" not in text, name
    # The overview lists every study label as text (escaped; a long run may hold places to break)
    assert label in BeautifulSoup(pages["01_evidence_overview.html"], "html.parser").get_text("")


def test_figures_saved_as_svg_and_png_and_listed(built):
    output = built["output"]
    figures = sorted((output / "figures").iterdir())
    stems = {p.stem for p in figures}
    assert stems, "the notebooks saved no figure"
    index = (output / "index.html").read_text(encoding="utf-8")
    for stem in stems:
        for suffix in (".svg", ".png"):
            assert (output / "figures" / f"{stem}{suffix}").stat().st_size > 0
            assert f'href="figures/{stem}{suffix}"' in index


def test_old_report_replaced_and_no_temporary_folder_left(built):
    output = built["output"]
    assert not (output / "stale_page.html").exists()
    assert _build_dirs(output) == []


def test_command_line_parameters_reach_the_notebooks_that_declare_them(built):
    executed = built["output"] / "notebooks"
    for name in ("02_response_rates", "03_controlled_trials"):
        nb = nbformat.read(str(executed / f"{name}.ipynb"), as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and 'method = "DL"' in injected[0].source, name
    # every notebook declares the plan's vocabulary, so every one takes the override
    overview = nbformat.read(str(executed / "01_evidence_overview.ipynb"), as_version=4)
    injected = [c for c in overview.cells
                if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'method = "DL"' in injected[0].source


def test_headline_findings_on_the_index(built):
    index = (built["output"] / "index.html").read_text(encoding="utf-8")
    assert index.count('class="kfm-headline"') >= 1
    assert "No headline findings" not in index


def test_index_opens_with_the_plain_layer_before_anything_technical(built):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((built["output"] / "index.html").read_text(encoding="utf-8"), "html.parser")
    main = soup.find("main")
    first = main.find(["section", "h2", "div"])
    assert first.name == "section" and "kfm-plain-layer" in first["class"]
    headings = [h.get_text(" ", strip=True) for h in main.find_all("h2")]
    assert headings[:2] == ["Key messages", "The articles you may have read"]
    assert "Headline findings" in headings[2:]
    layer = first.get_text(" ", strip=True)
    assert "We are very uncertain" in layer and "8 of 12 people who had ketamine" in layer
    assert len(first.select(".kfm-article")) == 5
    assert [f.find("img")["src"] for f in first.find_all("figure")] == [
        "figures/00_icons_response.svg", "figures/00_icons_trial_1.svg"]
    for figure in first.find_all("figure"):
        assert "people" in figure.find("img")["alt"]
    assert first.find("a", href="06_claims_check.html#every-claim-and-its-verdict")


def test_glossary_page_and_first_uses_linked_on_the_technical_pages(built):
    from analysis.present.glossary import TERMS

    output = built["output"]
    glossary = (output / "glossary.html").read_text(encoding="utf-8")
    for term in TERMS:
        assert f'id="{term.anchor}"' in glossary, term.key
    index = (output / "index.html").read_text(encoding="utf-8")
    assert 'href="glossary.html"' in index
    page = (output / "02_response_rates.html").read_text(encoding="utf-8")
    linked = re.findall(r'<a class="kfm-term" href="glossary.html#(term-[a-z-]+)">', page)
    assert len(linked) == len(set(linked))  # the first use only
    assert {"term-bayesian", "term-interval", "term-response"} <= set(linked)


def test_claims_page_gives_a_verdict_per_claim(built):
    page = (built["output"] / "06_claims_check.html").read_text(encoding="utf-8")
    with (ROOT / "data" / "claims.csv").open(newline="", encoding="utf-8") as handle:
        claim_ids = [row["claim_id"] for row in csv.DictReader(handle)]
    assert claim_ids
    # header cells carry their scope since issue 11; tables show labels, not column names (issue 10)
    assert re.search(r'<th[^>]*scope="col"[^>]*>Verdict</th>', page)
    assert "claims in popular articles" in page
    for claim_id in claim_ids:
        assert re.search(rf"<td[^>]*>{claim_id}</td>", page), claim_id


# ------------------------------------------------------------------ failures, fast suites


#: A library call that raises, as a notebook meets bad options.
FAILING_CELL = 'from analysis.engine._errors import check_option\ncheck_option("method", "XX", ("REML",))'


def _tiny_suite(folder: Path, *, failing: bool) -> Path:
    folder.mkdir()
    for name, body in (("00_summary", "print('summary')"),
                       ("01_check", FAILING_CELL if failing else "print('fine')")):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.cells = [
            nbformat.v4.new_markdown_cell(f"# {name}"),
            nbformat.v4.new_code_cell('data_dir = "../data"', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(body),
        ]
        nbformat.write(nb, str(folder / f"{name}.ipynb"))
    return folder


def test_failed_notebook_leaves_previous_report_intact(tmp_path, capsys):
    notebooks = _tiny_suite(tmp_path / "notebooks", failing=True)
    output = tmp_path / "reports"
    output.mkdir()
    (output / "index.html").write_text("the last good report")
    status = main(["--notebooks", str(notebooks), "--data", str(ROOT / "data"),
                   "--output", str(output)])
    captured = capsys.readouterr()
    assert status == 1
    assert ("error: 01_check: code cell 2 raised AnalysisError: method='XX' is not supported; "
            "choose one of: REML (at analysis/engine/_errors.py:") in captured.err
    assert "in check_option)" in captured.err
    assert "Traceback" not in captured.err
    assert [p.name for p in output.iterdir()] == ["index.html"]
    assert (output / "index.html").read_text() == "the last good report"
    assert _build_dirs(output) == []


def test_bad_data_stops_before_any_notebook(tmp_path, capsys):
    data = _copy_data(tmp_path / "data")
    studies = data / "studies.csv"
    with studies.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("ketamine_n")
    rows[1][column] = "-3"  # an impossible sample size
    with studies.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    output = tmp_path / "reports"
    status = main(["--notebooks", str(ROOT / "notebooks"), "--data", str(data),
                   "--output", str(output)])
    captured = capsys.readouterr()
    assert status == 2
    assert "error: the data are not valid" in captured.err
    assert "ketamine_n" in captured.err
    assert "Traceback" not in captured.err
    assert "executing" not in captured.out
    assert not output.exists()
    assert _build_dirs(output) == []


def test_unknown_parameter_is_refused(tmp_path, capsys):
    status = main(["--notebooks", str(ROOT / "notebooks"), "--data", str(ROOT / "data"),
                   "--output", str(tmp_path / "reports"), "-p", "methd", "DL"])
    captured = capsys.readouterr()
    assert status == 2
    assert "no notebook has a parameter named methd" in captured.err
    assert "method" in captured.err  # the message lists the parameters that exist
    assert not (tmp_path / "reports").exists()


def test_parameter_of_the_wrong_type_is_refused(tmp_path, capsys):
    status = main(["--notebooks", str(ROOT / "notebooks"), "--data", str(ROOT / "data"),
                   "--output", str(tmp_path / "reports"), "-p", "exclude", "cohen2006"])
    captured = capsys.readouterr()
    assert status == 2
    assert "parameter exclude takes a list like [], not 'cohen2006'" in captured.err
    assert not (tmp_path / "reports").exists()


def test_parameter_values_are_python_literals_or_text():
    assert report.parse_parameter_value("['cohen2006']") == ["cohen2006"]
    assert report.parse_parameter_value("50") == 50
    assert report.parse_parameter_value("None") is None
    assert report.parse_parameter_value("DL") == "DL"


def test_swap_replaces_a_folder_whole(tmp_path):
    old, new = tmp_path / "reports", tmp_path / "reports_build_x"
    old.mkdir()
    (old / "a.txt").write_text("old")
    new.mkdir()
    (new / "b.txt").write_text("new")
    report._swap_into_place(new, old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]
    assert [p.name for p in old.iterdir()] == ["b.txt"]


def test_clean_html_escapes_what_is_not_table_markup():
    cleaned = report.clean_html_fragment(
        '<table><tr><td onclick="x()">A <iframe src="e"></iframe></td></tr></table>')
    assert cleaned == ('<table><tbody><tr><td>A &lt;iframe src="e"&gt;&lt;/iframe&gt;</td></tr>'
                       "</tbody></table>")


# ------------------------------------------------------------------ kernel start-up


def _flaky(failures: list[Exception]):
    """A stand-in for one notebook's execution that raises ``failures`` in turn, then succeeds."""
    calls = []

    def execute():
        calls.append(len(calls))
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "executed"

    return execute, calls


def test_a_kernel_that_never_started_is_started_again():
    """Two kernels started at once can pick the same port and die before they start
    (jupyter_client); no cell has run, so the build starts the kernel again."""
    from analysis.apps.report.execution import _KERNEL_NOT_STARTED, _execute_with_kernel_restarts

    execute, calls = _flaky([RuntimeError(_KERNEL_NOT_STARTED)])
    assert _execute_with_kernel_restarts(execute) == "executed" and len(calls) == 2


def test_a_kernel_that_failed_after_starting_is_not_retried():
    from analysis.apps.report.execution import KERNEL_START_ATTEMPTS, _KERNEL_NOT_STARTED, _execute_with_kernel_restarts

    execute, calls = _flaky([RuntimeError("Kernel died")])
    with pytest.raises(RuntimeError, match="Kernel died"):
        _execute_with_kernel_restarts(execute)
    assert len(calls) == 1
    execute, calls = _flaky([RuntimeError(_KERNEL_NOT_STARTED)] * KERNEL_START_ATTEMPTS)
    with pytest.raises(RuntimeError, match="kernel_info"):
        _execute_with_kernel_restarts(execute)
    assert len(calls) == KERNEL_START_ATTEMPTS
