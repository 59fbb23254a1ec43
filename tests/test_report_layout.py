"""Page layout of the report without a browser: shell, cells, numbered captions, print joining."""

from __future__ import annotations

import re

from pathlib import Path

import nbformat

from analysis.apps.report import layout

from analysis.apps.report.layout import (
    MISSING_ALT,
    STACKED_TABLE_COLUMNS,
    STYLESHEET,
    WIDE_TABLE_COLUMNS,
    finish_body,
    notebook_cells_html,
    page_document,
)
from analysis.present.safe_html import markdown_to_html as _markdown_to_html
from analysis.apps.report.pdf import print_document

TABLE = "<table><thead><tr><th>k</th></tr></thead><tbody><tr><th>A</th><td>1</td></tr></tbody></table>"


def _captions(body: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<caption[^>]*>(.*?)</caption>", body)]


def test_page_shell_links_only_the_shared_stylesheet():
    page = page_document("T", "<main>x</main>")
    assert re.findall(r"<link[^>]*>", page) == [f'<link rel="stylesheet" href="{STYLESHEET}">']
    assert "<script" not in page and "<style" not in page and "http" not in page
    assert '<html lang="en">' in page and 'name="viewport"' in page


def test_tables_numbered_with_their_section_heading_and_parts():
    body, _ = finish_body(f"<h2>Studies</h2>{TABLE}<h2>Model</h2>{TABLE}{TABLE}")
    assert _captions(body) == ["Table 1. Studies", "Table 2. Model (1 of 2)",
                               "Table 3. Model (2 of 2)"]


def test_a_tables_own_caption_is_kept_and_numbered():
    body, _ = finish_body("<h2>S</h2><table><caption>Pooled rates</caption><tr><td>1</td></tr></table>")
    assert _captions(body) == ["Table 1. Pooled rates"]


def test_header_cells_get_scope_and_tables_a_labelled_scroll_box():
    body, _ = finish_body(f"<h2>S</h2>{TABLE}")
    assert '<th scope="col">k</th>' in body and '<th scope="row">A</th>' in body
    box = re.search(r'<div ([^>]*)class="kfm-table-scroll"([^>]*)>', body).group(0)
    assert 'role="region"' in box and 'tabindex="0"' in box and 'aria-labelledby="table-1"' in box
    assert 'id="table-1"' in body


def test_coded_words_may_wrap_after_underscores_and_wide_tables_are_marked():
    cells = "".join(f"<td>single_arm_{i}</td>" for i in range(WIDE_TABLE_COLUMNS + 1))
    body, _ = finish_body(f"<table><tr>{cells}</tr></table>")
    assert "<td>single_<wbr/>arm_<wbr/>0</td>" in body
    assert 'class="kfm-wide"' in body
    narrow, _ = finish_body("<table><tr><td>a_b</td></tr></table>")
    assert "kfm-wide" not in narrow


def _table(columns: int, header_rows: int = 1) -> str:
    header = "".join(f"<th>Column {i}</th>" for i in range(columns))
    cells = "".join(f"<td>{i}</td>" for i in range(columns))
    return (f"<table><thead>{f'<tr>{header}</tr>' * header_rows}</thead>"
            f"<tbody><tr>{cells}</tr><tr>{cells}</tr></tbody></table>")


def test_tables_of_many_columns_become_labelled_cards_on_a_phone():
    body, _ = finish_body(_table(STACKED_TABLE_COLUMNS))
    assert "kfm-stack" in body
    for i in range(STACKED_TABLE_COLUMNS):
        assert body.count(f'<td data-label="Column {i}">{i}</td>') == 2
    # few columns, a header of two rows, or merged cells: the table stays a table
    assert "kfm-stack" not in finish_body(_table(STACKED_TABLE_COLUMNS - 1))[0]
    assert "kfm-stack" not in finish_body(_table(STACKED_TABLE_COLUMNS, header_rows=2))[0]
    merged = _table(STACKED_TABLE_COLUMNS).replace("<td>0</td>", '<td colspan="2">0</td>', 1)
    assert "kfm-stack" not in finish_body(merged)[0]
    assert "table.kfm-stack [data-label]::before" in (Path(layout.__file__).parent / "report.css").read_text()


def test_figures_numbered_and_listed_with_their_caption():
    figure = ('<figure class="kfm-figure"><img src="figures/f.svg" alt="x 1">'
              '<figcaption><span class="kfm-caption-text">Forest plot.</span> '
              '<span class="kfm-figure-files">Full size</span></figcaption></figure>')
    body, figures = finish_body(figure + figure)
    assert [f["caption"] for f in figures] == ["Forest plot.", "Forest plot."]
    assert [f["id"] for f in figures] == ["figure-1", "figure-2"]
    assert body.count('<span class="kfm-number">Figure 2.</span>') == 1


def test_headings_get_unique_ids():
    body, _ = finish_body("<h2>Forest plot</h2><h2>Forest plot</h2><h3 id='kept'>x</h3>")
    assert re.findall(r'id="([^"]+)"', body) == ["forest-plot", "forest-plot-2", "kept"]


def test_cells_render_markdown_and_outputs_but_no_code():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_code = 1")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="printed"),
        nbformat.v4.new_output("display_data", data={"text/html": "<p>html</p>"}),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                     "text/plain": "<Figure>"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "a & b"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\n<b>raw</b>"), code]
    html = notebook_cells_html(nb, _markdown_to_html)
    assert "secret_code" not in html
    assert "<h1>Title</h1>" in html and "&lt;b&gt;raw&lt;/b&gt;" in html
    assert '<pre class="kfm-stream">printed</pre>' in html and "<p>html</p>" in html
    assert f'alt="{MISSING_ALT}"' in html  # an undescribed image is flagged, never silent
    assert "<pre>a &amp; b</pre>" in html


def test_print_document_joins_pages_in_index_order(tmp_path):
    (tmp_path / "index.html").write_text(
        '<header>banner</header><main><h1 id="top">R</h1><ul class="kfm-reports">'
        '<li><a href="02_b.html">B</a></li><li><a href="01_a.html">A</a></li></ul></main>')
    for name in ("01_a", "02_b"):
        (tmp_path / f"{name}.html").write_text(
            f'<header>nav</header><main><h1 id="top">{name}</h1>'
            f'<a href="index.html#top">home</a><a href="figures/x.svg">fig</a></main>'
            "<footer>foot</footer>")
    doc = print_document(tmp_path)
    assert [m for m in re.findall(r'<section class="kfm-print-page" id="([^"]+)"', doc)] == [
        "page-index", "page-02_b", "page-01_a"]
    assert 'id="01_a--top"' in doc and 'id="02_b--top"' in doc and 'id="index--top"' in doc
    assert 'href="#index--top"' in doc and 'href="figures/x.svg"' in doc
    assert "nav" not in doc and doc.count("banner") == 1  # the index's banner, once


def test_index_lists_figures_in_reading_order_with_their_page_and_files():
    from analysis.apps.report._common import NotebookRun
    from analysis.apps.report.pages import _figure_list

    shown = ({"number": 1, "id": "figure-1", "caption": "Leave one out", "src": "figures/05_l.svg"},
             {"number": 2, "id": "figure-2", "caption": "Cumulative", "src": "figures/05_c.svg"})
    runs = (NotebookRun("05_s", "Sensitivity", "", "05_s.html", 1.0, (), shown),)
    files = ("figures/05_c.png", "figures/05_c.svg", "figures/05_l.png", "figures/05_l.svg",
             "figures/spare.png")
    items = re.findall(r"<li>(.*?)</li>", _figure_list(runs, files))
    assert [re.sub(r"<[^>]+>", "", i) for i in items] == [
        "Sensitivity, figure 1: Leave one out (SVG &middot; PNG)",
        "Sensitivity, figure 2: Cumulative (SVG &middot; PNG)",
        "spare (PNG)",
    ]
    assert '<a href="05_s.html#figure-2">' in items[1]


def test_the_multiverse_chooser_is_rendered_from_its_data_and_escapes_it():
    from analysis.present.page_explorer import MIME_TYPE, render_page_explorer

    hostile = "</script><script>alert(1)</script><!--"
    data = {"outcome": "response_rate", "size": 1, "default": 0, "reasons": [""], "studies": [hostile],
            "columns": [{"name": "time_window", "title": f"Window {hostile}", "labels": [hostile]}],
            "rows": [[0, "57%", "95% CI 44% to 69%", 1, "12", 0, 1, 1, "0%", 0, 40.0, 100.0, ""]],
            "curves": {"": {"x": [40.0], "lb": [150.0], "ub": [50.0], "estimate": [100.0], "reference": 110.0,
                            "ticks": [[110.0, f"50% {hostile}"]]}}}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "display_data", data={MIME_TYPE: data, "text/html": "<p>fallback</p>"})])]
    page = notebook_cells_html(nb, _markdown_to_html)
    assert page.count("<script") == 2 and "fallback" not in page
    assert page.count("</script>") == 2 and "alert(1)</script>" not in page and "<!--" not in page
    assert html_title(page) == "Window &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--"
    assert render_page_explorer(data) in page


def html_title(page: str) -> str:
    return re.search(r'<label for="kfm-mv-time_window">(.*?)</label>', page)[1]
