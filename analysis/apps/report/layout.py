"""Page layout of the report: the HTML shell, notebook cells as HTML, numbered captions.

Every page is a small, self-contained HTML document that links one shared stylesheet
(``report.css``, copied into the report folder) and loads nothing else: no web font, no
CDN, and no script, except the inline chooser of the multiverse page
(:mod:`analysis.present.page_explorer`), which the build writes from its data. Notebook cells are rendered here rather than by an nbconvert template,
so that no page carries JupyterLab's CSS, require.js or MathJax.

At render time, figures (the ``<figure>`` elements of :func:`analysis.present.plots.show_figure`)
and tables are numbered per page ("Figure 2.", "Table 3."); each table gets a
``<caption>`` (its own, or the heading of the section it is in), ``scope`` on its header
cells, and a scroll box of its own, so that a wide table never widens the page.
"""

from __future__ import annotations

import html
import re
import shutil
from importlib import resources
from pathlib import Path

from analysis.present.page_explorer import MIME_TYPE as MULTIVERSE_MIME_TYPE
from analysis.present.page_explorer import render_page_explorer

#: The shared stylesheet, written once into the report folder and linked by every page.
STYLESHEET = "report.css"

#: Alt text given to an image output that did not come with one (the browser tests reject it).
MISSING_ALT = "figure without a description (display figures with analysis.present.plots.show_figure)"

#: Tables with more columns than this are printed in a smaller type (class ``kfm-wide``).
WIDE_TABLE_COLUMNS = 8

#: Tables with at least this many columns and one header row become a stack of cards on a
#: phone (class ``kfm-stack``; each cell labelled with its column's header in ``data-label``).
STACKED_TABLE_COLUMNS = 5

_SLUG = re.compile(r"[^a-z0-9]+")


def copy_stylesheet(folder: Path) -> Path:
    """Write :data:`STYLESHEET` into ``folder``; return its path."""
    target = Path(folder) / STYLESHEET
    with resources.as_file(resources.files("analysis.apps.report") / STYLESHEET) as source:
        shutil.copyfile(source, target)
    return target


def page_document(title: str, body: str, *, description: str = "") -> str:
    """A complete HTML page: language, viewport, title and the shared stylesheet.

    Parameters
    ----------
    title : str
        Plain text for ``<title>`` (escaped here).
    body : str
        HTML of the page body (already safe).
    description : str
        Plain text for ``<meta name="description">``; omitted when empty.

    Examples
    --------
    >>> page = page_document("A & B", "<main>x</main>")
    >>> '<html lang="en">' in page, "<title>A &amp; B</title>" in page
    (True, True)
    >>> "<script" in page
    False
    """
    meta = (f'<meta name="description" content="{html.escape(description)}">'
            if description else "")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n{meta}"
        f'<link rel="stylesheet" href="{STYLESHEET}">\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- cells


def notebook_cells_html(nb, markdown_to_html) -> str:
    """HTML of a notebook's Markdown cells and code-cell outputs (no code).

    Outputs must already be cleaned (``pages._clean_outputs``): HTML and Markdown outputs
    then carry safe ``text/html``. Images without an HTML wrapper get :data:`MISSING_ALT`.

    Parameters
    ----------
    nb : nbformat.NotebookNode
    markdown_to_html : callable
        Renders a Markdown string to safe HTML.
    """
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(f'<div class="kfm-text">{markdown_to_html(cell.source)}</div>')
        elif cell.cell_type == "code":
            rendered = [_output_html(output) for output in cell.get("outputs", [])]
            rendered = [r for r in rendered if r]
            if rendered:
                parts.append('<div class="kfm-output">' + "\n".join(rendered) + "</div>")
    return "\n".join(parts)


def _output_html(output) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        text = _join(output.get("text", ""))
        css = "kfm-stream" if output.get("name") == "stdout" else "kfm-stream kfm-stderr"
        return f'<pre class="{css}">{html.escape(text)}</pre>' if text.strip() else ""
    if kind == "error":  # a failed cell never reaches a page (the build stops), but be safe
        return f'<pre class="kfm-stream kfm-stderr">{html.escape(output.get("ename", ""))}</pre>'
    data = output.get("data") or {}
    if MULTIVERSE_MIME_TYPE in data:  # the multiverse chooser: its HTML is written here, from its data
        return render_page_explorer(data[MULTIVERSE_MIME_TYPE])
    if "text/html" in data:
        return _join(data["text/html"])
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return (f'<figure class="kfm-figure"><img alt="{html.escape(MISSING_ALT)}" '
                    f'src="data:{mime};base64,{_join(data[mime]).strip()}"></figure>')
    if "text/plain" in data:
        return f"<pre>{html.escape(_join(data['text/plain']))}</pre>"
    return ""


def _join(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


# --------------------------------------------------------------------------- captions


def finish_body(body: str, *, id_prefix: str = "") -> tuple[str, list[dict]]:
    """Number figures and tables, caption and scope tables, give headings ids.

    Parameters
    ----------
    body : str
        Safe HTML of the page content.
    id_prefix : str
        Prepended to generated ids (keeps ids unique when pages are joined for print).

    Returns
    -------
    html : str
        The finished HTML.
    figures : list of dict
        One ``{"number", "id", "caption", "src"}`` per figure, in page order.

    Examples
    --------
    >>> body, figures = finish_body(
    ...     "<h2>Results</h2><table><thead><tr><th>k</th></tr></thead>"
    ...     "<tbody><tr><th>A</th><td>1</td></tr></tbody></table>"
    ...     '<figure><img src="f.svg" alt="x"><figcaption>Forest plot</figcaption></figure>')
    >>> re.search(r"<caption[^>]*>(.*?)</caption>", body)[1]
    '<span class="kfm-caption-inner"><span class="kfm-number">Table 1.</span> Results</span>'
    >>> '<div aria-labelledby="table-1" class="kfm-table-scroll"' in body
    True
    >>> '<th scope="col">k</th>' in body and '<th scope="row">A</th>' in body
    True
    >>> figures[0]["caption"]
    'Forest plot'
    >>> "Figure 1.</span> Forest plot" in body
    True
    """
    from bs4 import BeautifulSoup  # a dependency of nbconvert

    soup = BeautifulSoup(body, "html.parser")
    for style in soup.find_all("style"):  # pandas' scoped table CSS: the stylesheet does it
        style.decompose()
    used_ids = {tag["id"] for tag in soup.find_all(id=True)}
    # tables under one heading are its parts: "Model (1 of 2)", "Model (2 of 2)"
    sections = [_heading_before(table) for table in soup.find_all("table")]
    parts = {heading: sections.count(heading) for heading in sections}
    seen: dict[str, int] = {}
    table_number = figure_number = 0
    figures = []
    for tag in soup.find_all(["h1", "h2", "h3", "h4", "table", "figure"]):
        if tag.name == "table":
            heading = sections[table_number]
            table_number += 1
            seen[heading] = seen.get(heading, 0) + 1
            _finish_table(soup, tag, table_number, heading, seen[heading], parts[heading],
                          id_prefix, used_ids)
        elif tag.name == "figure":
            figure_number += 1
            figures.append(_finish_figure(soup, tag, figure_number, id_prefix, used_ids))
        elif not tag.get("id"):
            slug = _SLUG.sub("-", tag.get_text(" ", strip=True).lower()).strip("-")
            tag["id"] = _unique(id_prefix + (slug or "section"), used_ids)
    return str(soup), figures


def _heading_before(tag) -> str:
    previous = tag.find_previous(["h1", "h2", "h3", "h4"])
    return previous.get_text(" ", strip=True) if previous is not None else ""


def _finish_table(soup, table, number, heading, part, parts, id_prefix, used_ids) -> None:
    table.attrs.pop("border", None)
    caption = table.find("caption")
    text = caption.get_text(" ", strip=True) if caption is not None else heading
    if caption is None:
        if parts > 1:
            text = f"{text} ({part} of {parts})" if text else f"part {part} of {parts}"
        caption = soup.new_tag("caption")
        table.insert(0, caption)
    caption.clear()
    # the inner span stays in view (sticky) and wraps to the screen while a wide table scrolls
    inner = soup.new_tag("span", attrs={"class": "kfm-caption-inner"})
    label = soup.new_tag("span", attrs={"class": "kfm-number"})
    label.string = f"Table {number}."
    inner.append(label)
    inner.append(f" {text}" if text else "")
    caption.append(inner)
    caption["id"] = _unique(f"{id_prefix}table-{number}", used_ids)
    for th in table.find_all("th"):
        if not th.get("scope"):
            th["scope"] = "col" if th.find_parent("thead") is not None else "row"
    _allow_breaks_after_underscores(soup, table)
    columns = max((len(row.find_all(["th", "td"])) for row in table.find_all("tr")), default=0)
    if columns > WIDE_TABLE_COLUMNS:
        table["class"] = [*table.get("class", []), "kfm-wide"]
    if columns >= STACKED_TABLE_COLUMNS and _label_cells(table):
        table["class"] = [*table.get("class", []), "kfm-stack"]
    if not (table.parent is not None and "kfm-table-scroll" in table.parent.get("class", [])):
        box = soup.new_tag("div", attrs={
            "class": "kfm-table-scroll", "role": "region", "tabindex": "0",
            "aria-labelledby": caption["id"]})
        table.wrap(box)


def _label_cells(table) -> bool:
    """Give each body cell its column's header (``data-label``), for the phone's card layout.

    Only for a table with one header row and no merged cells; returns whether it was done.
    """
    header_rows = table.find("thead").find_all("tr") if table.find("thead") is not None else []
    if len(header_rows) != 1 or table.find(attrs={"colspan": True}) or table.find(attrs={"rowspan": True}):
        return False
    labels = [cell.get_text(" ", strip=True) for cell in header_rows[0].find_all(["th", "td"])]
    body = [row.find_all(["th", "td"], recursive=False) for row in table.find("tbody").find_all("tr")] \
        if table.find("tbody") is not None else []
    if not body or any(len(cells) != len(labels) for cells in body):
        return False
    for cells in body:
        for cell, label in zip(cells, labels):
            if label:
                cell["data-label"] = label
    return True


def _allow_breaks_after_underscores(soup, table) -> None:
    """Let ``single_arm_prospective`` wrap after its underscores (``<wbr>``).

    Without it, coded values and snake_case headers are unbreakable words that set the
    minimum width of their column, and a table of them cannot fit a phone or a sheet.
    """
    for text in list(table.find_all(string=lambda s: "_" in s)):
        if text.parent is None or text.parent.name in ("caption", "style"):
            continue
        pieces = str(text).split("_")
        nodes = []
        for i, piece in enumerate(pieces):
            nodes.append(piece + ("_" if i < len(pieces) - 1 else ""))
            if i < len(pieces) - 1:
                nodes.append(soup.new_tag("wbr"))
        first = soup.new_string(nodes[0])
        text.replace_with(first)
        anchor = first
        for node in nodes[1:]:
            node = soup.new_string(node) if isinstance(node, str) else node
            anchor.insert_after(node)
            anchor = node


def _finish_figure(soup, figure, number, id_prefix, used_ids) -> dict:
    figure["id"] = _unique(f"{id_prefix}figure-{number}", used_ids)
    img = figure.find("img")
    caption = figure.find("figcaption")
    own = caption.find(class_="kfm-caption-text") if caption is not None else None
    text = (own or caption).get_text(" ", strip=True) if caption is not None else ""
    if caption is None:
        caption = soup.new_tag("figcaption")
        figure.append(caption)
    label = soup.new_tag("span", attrs={"class": "kfm-number"})
    label.string = f"Figure {number}."
    caption.insert(0, label)
    caption.insert(1, " ")
    return {"number": number, "id": figure["id"], "caption": text,
            "src": img.get("src", "") if img is not None else ""}


def _unique(candidate: str, used: set[str]) -> str:
    name, n = candidate, 1
    while name in used:
        n += 1
        name = f"{candidate}-{n}"
    used.add(name)
    return name


# --------------------------------------------------------------------------- glossary

#: Elements whose text is never linked to the glossary (headings, links, code, the chooser's
#: controls, table headers and captions, quotations).
_NO_GLOSSARY_LINKS = frozenset({"a", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "script", "style",
                                "select", "option", "label", "button", "caption", "th", "summary",
                                "title", "head", "blockquote"})


def link_glossary_terms(body: str, terms=None) -> str:
    """Link the first use of each glossary term in ``body`` to its entry on the glossary page.

    Only running text is linked (not headings, links, code, table headers or captions); the link
    is a plain relative ``<a>``, so it works offline, in print and on a phone.

    Examples
    --------
    >>> html_text = ("<h2>Bayesian model</h2><p>A Bayesian model; the Bayesian interval.</p>"
    ...              "<p>95% CI 42% to 75%</p>")
    >>> print(link_glossary_terms(html_text))  # doctest: +NORMALIZE_WHITESPACE
    <h2>Bayesian model</h2><p>A <a class="kfm-term" href="glossary.html#term-bayesian">Bayesian</a>
    model; the Bayesian interval.</p><p>95% <a class="kfm-term"
    href="glossary.html#term-interval">CI</a> 42% to 75%</p>
    """
    from bs4 import BeautifulSoup, NavigableString

    from analysis.present.glossary import TERMS

    soup = BeautifulSoup(body, "html.parser")
    for term in TERMS if terms is None else terms:
        pattern = term.pattern()
        for text in soup.find_all(string=pattern.search):
            if not isinstance(text, NavigableString) or type(text) is not NavigableString:
                continue  # comments, doctype
            if any(parent.name in _NO_GLOSSARY_LINKS for parent in text.parents):
                continue
            match = pattern.search(str(text))
            before, word, after = str(text)[:match.start()], match.group(0), str(text)[match.end():]
            link = soup.new_tag("a", attrs={"class": "kfm-term", "href": term.href})
            link.string = word
            text.replace_with(before, link, after) if before or after else text.replace_with(link)
            break
    return str(soup)


def glossary_body() -> str:
    """The glossary as HTML: a heading, a sentence and one entry per term (anchored)."""
    from analysis.present.glossary import TERMS

    entries = "".join(f'<dt id="{term.anchor}">{html.escape(term.word)}</dt>'
                      f"<dd>{html.escape(term.meaning)}</dd>" for term in TERMS)
    return ("<p>The technical pages of this report use some words that statisticians use. Here is "
            "what each one means, in everyday words. On each page, the first use of a word is "
            "linked here.</p>"
            f'<dl class="kfm-glossary">{entries}</dl>')
