"""HTML pages of the report: cleaning outputs, banner, notebook pages and the index."""

from __future__ import annotations

import html
import re
from pathlib import Path

from analysis.present.glossary import GLOSSARY_PAGE
from analysis.apps.report._common import (
    DISCLAIMER,
    HEADLINE_TAG,
    SUMMARY_NOTEBOOK,
)
from analysis.apps.report.layout import (
    MISSING_ALT,
    finish_body,
    glossary_body,
    link_glossary_terms,
    notebook_cells_html,
    page_document,
)
from analysis.present.safe_html import markdown_to_html

# Tags and attributes allowed in HTML outputs (pandas tables, simple text); anything else
# is escaped and shows as text. ``style`` is kept for pandas' scoped table CSS.
_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd",
        "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "img", "li", "mark", "ol", "p", "pre", "s", "small",
        "span", "strong", "style", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "u", "ul", "wbr",
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
#: The only images an HTML output may show: the report's own figure files (a relative
#: address) or a PNG the notebook embedded. An image from anywhere else would be fetched
#: from the network when the page opens.
_LOCAL_IMAGE = re.compile(r"(?![a-z][a-z0-9+.-]*:|//)[^\\]*|data:image/png;base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter: the allowed attributes, and images only from :data:`_LOCAL_IMAGE`."""
    if name not in _ALLOWED_ATTRIBUTES["*"] and name not in _ALLOWED_ATTRIBUTES.get(tag, ()):
        return False
    if name == "src":
        return bool(_LOCAL_IMAGE.fullmatch(value))
    if name == "href" and value.lower().startswith("data:"):
        return False  # a link to a data: address would open content made by the page itself
    return True

# --------------------------------------------------------------------------- HTML


def clean_html_fragment(fragment: str) -> str:
    """Escape every tag in an HTML fragment that is not plain table-and-text markup.

    Used on every HTML output of the notebooks before it is written to a page, as a second
    line of defence: the library escapes text from the data where it writes HTML
    (:mod:`analysis.present.safe_html`), and this keeps anything else from running in the reader's
    browser or fetching from the network (images only from the report's own files).

    Examples
    --------
    >>> clean_html_fragment("<p>Smith <script>alert(1)</script></p>")
    '<p>Smith &lt;script&gt;alert(1)&lt;/script&gt;</p>'
    >>> clean_html_fragment('<a href="javascript:x()" onclick="y()">z</a>')
    '<a>z</a>'
    >>> clean_html_fragment('<img src="https://example.org/t.png"><img src="figures/a.svg" alt="A">')
    '<img><img src="figures/a.svg" alt="A">'
    """
    import bleach  # a dependency of nbconvert

    return bleach.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=_ALLOWED_PROTOCOLS,
        strip=False,
        strip_comments=True,
    )


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
                data["text/html"] = markdown_to_html(_join(data["text/markdown"]))
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


def _headline_fragments(nb, tag: str = HEADLINE_TAG) -> tuple[str, ...]:
    """HTML for the outputs of cells tagged ``tag`` (already cleaned)."""
    fragments = []
    for cell in nb.cells:
        if tag not in cell.get("metadata", {}).get("tags", []):
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
                    f'<figure class="kfm-figure"><img alt="{html.escape(MISSING_ALT)}" '
                    f'src="data:image/png;base64,{_join(data["image/png"]).strip()}"></figure>'
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
    nav = (f'<nav aria-label="Breadcrumb"><a href="index.html">Evidence report: all pages</a>'
           f' &rsaquo; <span aria-current="page">{html.escape(title)}</span></nav>'
           if index_link else "")
    return (
        '<header class="kfm-banner">'
        f"{nav}"
        f'<p class="kfm-disclaimer" role="note"><strong>Not medical advice.</strong> '
        f"{html.escape(DISCLAIMER)}</p>"
        f"{_meta_line(version, code, built)}"
        "</header>"
    )


def _meta_line(version: str, code: str, built: str) -> str:
    return (
        f'<p class="kfm-meta">Data version {html.escape(version)} &middot; code '
        f"{html.escape(code)} &middot; built {html.escape(built)} &middot; "
        "a dash (–) in a table: no value (not reported by the source, or not applicable)</p>"
    )


def _footer() -> str:
    return f'<footer class="kfm-footer"><p>{html.escape(DISCLAIMER)}</p></footer>'


def _render_page(nb, title: str, banner: str) -> tuple[str, list[dict]]:
    """An executed notebook as a page (no code cells), with banner, numbered captions.

    Returns the HTML and the figures it shows (see :func:`layout.finish_body`).
    """
    cells = notebook_cells_html(nb, markdown_to_html)
    body, figures = finish_body(cells)
    body = link_glossary_terms(body)
    page = page_document(title, f'{banner}\n<main id="content">\n{body}\n</main>\n{_footer()}')
    return page, figures


#: How to start the interactive explorer (issue 13), on the index page under the reports.
EXPLORE_HINT = ('<p class="kfm-meta">Explore the analysis yourself: in a copy of the repository run '
                "<code>make explore</code> and open the address it prints (a web app, no code), or open "
                "<code>notebooks/explore.ipynb</code> with <code>make lab</code>. Change the time window, the "
                "studies, the designs or the model, and the forest plot, the sentence and the certainty "
                "rating are redrawn.</p>")


def _render_index(result_runs, figures, version, code, built, parameters, changes_html="") -> str:
    headline = [f for run in result_runs if run.name == SUMMARY_NOTEBOOK for f in run.headline_html]
    title = "Ketamine for fibromyalgia pain: evidence report"
    parts = [
        '<header class="kfm-banner">',
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="kfm-disclaimer" role="note"><strong>Not medical advice.</strong> '
        f"{html.escape(DISCLAIMER)}</p>",
        _meta_line(version, code, built),
    ]
    if parameters:
        shown = ", ".join(f"{k} = {v!r}" for k, v in sorted(parameters.items()))
        parts.append(f'<p class="kfm-meta">Parameters changed for this build: '
                     f"{html.escape(shown)}</p>")
    parts += ["</header>", '<main id="content">']
    plain = [f for run in result_runs if run.name == SUMMARY_NOTEBOOK for f in run.plain_html]
    if plain:  # the plain-language layer (analysis.present.plain) opens the page, before anything technical
        parts.append('<section class="kfm-plain-layer" aria-label="In plain words">'
                     + "".join(plain) + "</section>")
    if changes_html:  # analysis.apps.report.history.render_changes (already escaped): where a returning reader looks
        parts.append(changes_html)
    parts.append("<h2>Headline findings</h2>")
    if headline:
        parts.extend(f'<section class="kfm-headline">{fragment}</section>' for fragment in headline)
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
    parts.append(f'<li><a href="{GLOSSARY_PAGE}">{html.escape(GLOSSARY_TITLE)}</a>'
                 "<br><small>The words of the technical pages, each in one or two everyday sentences."
                 "</small></li>")
    parts.append("</ul>")
    parts.append(EXPLORE_HINT)
    parts.append("<h2>Figures</h2>")
    parts.append(_figure_list(result_runs, figures))
    parts.append("</main>")
    parts.append(_footer())
    body, _ = finish_body("\n".join(parts))
    return page_document(title, body, description=DISCLAIMER)


#: Title of the glossary page.
GLOSSARY_TITLE = "Glossary: the technical words in plain language"


def _render_glossary(banner: str) -> str:
    """The glossary page (:mod:`analysis.present.glossary`), with the report's banner and footer."""
    body, _ = finish_body(f"<h1>{html.escape(GLOSSARY_TITLE)}</h1>{glossary_body()}")
    return page_document(GLOSSARY_TITLE,
                         f'{banner}\n<main id="content">\n{body}\n</main>\n{_footer()}')


def _figure_list(result_runs, files) -> str:
    """Every saved figure, in reading order: where it is shown, its caption and its files."""
    if not files:
        return "<p>No figures were saved.</p>"
    stems = {}
    for f in files:
        stems.setdefault(Path(f).with_suffix("").as_posix(), []).append(f)

    def links(stem):
        return " &middot; ".join(
            f'<a href="{html.escape(f)}">{html.escape(Path(f).suffix[1:].upper())}</a>'
            for f in sorted(stems.pop(stem, []), key=lambda f: Path(f).suffix != ".svg"))

    items = []
    for run in result_runs:
        for figure in run.figures:
            stem = Path(figure["src"]).with_suffix("").as_posix()
            where = (f'<a href="{html.escape(run.html_file)}#{html.escape(figure["id"])}">'
                     f'{html.escape(run.title)}, figure {figure["number"]}</a>')
            items.append(f"<li>{where}: {html.escape(figure['caption'])} "
                         f"<small>({links(stem)})</small></li>")
    for stem in sorted(stems):  # saved but shown on no page
        items.append(f"<li>{html.escape(Path(stem).name)} <small>({links(stem)})</small></li>")
    return '<ul class="kfm-figures">' + "".join(items) + "</ul>"
