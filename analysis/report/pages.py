"""HTML pages of the report: cleaning outputs, banner, notebook pages and the index."""

from __future__ import annotations

import html
import re
from pathlib import Path

from analysis.report._common import (
    DISCLAIMER,
    HEADLINE_TAG,
    SUMMARY_NOTEBOOK,
    BuildError,
)

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


#: How to start the interactive explorer (issue 13), on the index page under the reports.
EXPLORE_HINT = ('<p class="kfm-meta">Explore the analysis yourself: in a copy of the repository run '
                "<code>make explore</code> and open the address it prints (a web app, no code), or open "
                "<code>notebooks/explore.ipynb</code> with <code>make lab</code>. Change the time window, the "
                "studies, the designs or the model, and the forest plot, the sentence and the certainty "
                "rating are redrawn.</p>")


def _render_index(result_runs, figures, version, code, built, parameters, changes_html="") -> str:
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
    if changes_html:  # analysis.report.history.render_changes (already escaped)
        parts.append(changes_html)
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
    parts.append(EXPLORE_HINT)
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


