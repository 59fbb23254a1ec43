"""Data text reaches readers as text (issue 21): the report and the explorer on hostile data.

The hostile corpus (``tests/data_corpus/hostile/values.csv``, applied by
``tests/hostile_data.py``) puts markup, script end tags, Markdown links and images, quotes and
ampersands, a very long string and right-to-left and zero-width characters into labels,
notes, quotes, citations, a claim's quote, a dictionary label, a GRADE reason and a PRISMA
detail. The validator refuses it; with its markup rule switched off (a test-only switch)
one report is built from it for this module, and

- no page, figure file or printed document holds an element, an event handler or an
  address that came from the data, and the data's text is there, as text;
- in Chromium, no page (and not the PDF's document) creates such an element, requests
  anything from the network or opens a dialog;
- the explorer (Voilà, as ``make explore`` serves it) on the same data does none of it either.
"""

from __future__ import annotations

import html
import json
import os
import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.data import (
    MARKUP_RULE_OFF_VARIABLE,
    DataValidationError,
    load_dictionary,
    load_studies,
    validate,
)
from hostile_data import (
    FIND_INJECTED_JS,
    MARKER,
    explorer_folder,
    hostile_label,
    hostile_copy,
    hostile_values,
)
from report_build import markup_rule_off
from servers import EXPLORER_POOL, open_explorer, running, wait_until_up

#: The label of the issue's example, which several pages and figures show.
LABEL = hostile_label()

#: How the markup rule's messages begin (``analysis.data``): a tag, an address, a control character.
MARKUP_RULES = ("looks like an HTML tag", "holds a javascript: or data: address", "holds the invisible character")

ROOT = Path(__file__).resolve().parents[1]
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

#: The first render of the explorer starts a kernel and runs the notebook.
FIRST_RENDER_MS = 120_000


@pytest.fixture(scope="module")
def hostile(built_report) -> dict:
    """The session's report build (``tests/report_build.py``): the hostile copy of the data,
    markup rule off."""
    return built_report


@pytest.fixture(scope="module")
def pages(hostile) -> dict[str, str]:
    assert hostile["status"] == 0, hostile["stderr"][-3000:]
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(hostile["output"].glob("*.html"))}


# ----------------------------------------------------------------------- the validator


def test_the_validator_refuses_the_corpus_markup_and_nothing_else(tmp_path):
    data = hostile_copy(tmp_path / "data")
    problems = []
    for name in sorted({row["file"] for row in hostile_values()}):
        try:
            if name.endswith(".dictionary.csv"):
                load_dictionary(data / name)
            else:  # against the repository's dictionary: a broken one would hide the cells' problems
                validate(data / name, ROOT / "data" / name.replace(".csv", ".dictionary.csv"))
        except DataValidationError as error:
            problems += error.problems
    flagged = {(Path(p.file).name, p.column, p.value): p.rule for p in problems}
    for row in hostile_values():
        rule = flagged.get((row["file"], row["column"], row["value"]))
        if row["refused"] == "yes":
            assert rule is not None and rule.startswith(MARKUP_RULES), (row["attack"], rule)
        else:
            assert rule is None, (row["attack"], rule)
    assert all(rule.startswith(MARKUP_RULES) for rule in flagged.values()), flagged


def test_with_the_markup_rule_off_the_corpus_is_valid(tmp_path):
    data = hostile_copy(tmp_path / "data")
    with markup_rule_off():
        studies = load_studies(data / "studies.csv")
    assert LABEL in set(studies["study_label"])
    assert MARKUP_RULE_OFF_VARIABLE not in os.environ


# ------------------------------------------------------------------- the built report


class _Elements(HTMLParser):
    """Start tags of a page that carry the corpus's marker or an event handler."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        values = dict(attrs)
        if MARKER in (values.get("class") or "").split() or any(n.startswith("on") for n in names):
            self.found.append(self.get_starttag_text()[:160])
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if not self._script:
            self.text.append(data)


def _parse(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    parser.close()
    return parser


def test_the_report_builds_from_hostile_data(hostile):
    assert hostile["status"] == 0, hostile["stderr"][-3000:]


def test_no_page_holds_an_element_from_the_data(pages):
    found = {name: _parse(text).found for name, text in pages.items()}
    assert not {name: tags for name, tags in found.items() if tags}


def _text(page: str) -> str:
    """A page's text as a reader copies it: ``<wbr>`` (a place to break a long run) adds nothing."""
    return " ".join("".join(_parse(page).text).split())


def test_the_data_text_is_on_the_pages_as_text(pages):
    overview = _text(pages["01_evidence_overview.html"])
    for row in hostile_values():
        if row["file"] == "studies.csv" and row["column"] in ("study_label", "adverse_events"):
            assert " ".join(row["value"].split()) in overview, row["attack"]
    citation = next(r["value"] for r in hostile_values() if r["column"] == "citation")
    assert " ".join(citation.split()) in overview
    claims = _text(pages["06_claims_check.html"])
    quote = next(r["value"] for r in hostile_values() if r["file"] == "claims.csv" and r["column"] == "quote")
    assert quote in claims


def test_the_librarys_own_markup_still_works(pages):
    """Escape the data, then add the markup: links to DOIs, bold lead-ins, footnotes, figures."""
    assert re.search(r'<a href="https://doi\.org/10\.[^"]+">10\.', pages["01_evidence_overview.html"])
    assert "<strong>Response rate after ketamine.</strong>" in pages["00_summary.html"]
    assert "<strong>Footnotes.</strong>" in pages["00_summary.html"]
    assert re.search(r'<img [^>]*src="figures/02_forest_response_rates\.svg"', pages["02_response_rates.html"])


def test_alt_text_and_the_chooser_hold_the_data_as_text(pages):
    """The escaping that held before issue 21 (alt text, the chooser's inline data) still does."""
    alts = [html.unescape(alt) for text in pages.values() for alt in re.findall(r'<img [^>]*alt="([^"]*)"', text)]
    assert any(LABEL in alt for alt in alts)
    chooser = re.search(r'<script[^>]*id="kfm-multiverse-data"[^>]*>(.*?)</script>',
                        pages["07_multiverse.html"], flags=re.DOTALL)
    assert chooser and LABEL in json.dumps(json.loads(chooser[1]), ensure_ascii=False)


def test_figure_files_hold_the_data_as_text(hostile):
    files = sorted((hostile["output"] / "figures").glob("*.svg"))
    for svg in files:
        for element in ElementTree.parse(svg).getroot().iter():
            tag = element.tag.rsplit("}", 1)[-1]
            assert tag not in ("script", "foreignObject", "a", "iframe"), (svg.name, tag)
            if tag == "image":  # matplotlib's own rasters, embedded
                assert element.get(XLINK_HREF, "").startswith("data:image/png;base64,"), svg.name
            assert MARKER not in (element.get("class") or "").split(), svg.name
            assert not any(name.startswith("on") for name in element.attrib), svg.name
    # matplotlib draws text as paths and keeps each string, escaped, in a comment beside it
    assert any(html.escape(LABEL, quote=False) in svg.read_text(encoding="utf-8") for svg in files)


def test_the_printed_document_holds_no_element_from_the_data(hostile):
    from analysis.apps.report.pdf import print_document

    assert not _parse(print_document(hostile["output"])).found


# -------------------------------------------------------------------------- in Chromium


#: Hovers over every element a CSS selector finds, in one round trip (not one per element), as
#: a reader's pointer would: any event handler left in the page would fire.
HOVER_JS = """selector => {
  for (const el of document.querySelectorAll(selector))
    el.dispatchEvent(new MouseEvent("mouseover", {bubbles: true, cancelable: true, composed: true}));
}"""


def _watch(page, requests: list[str], dialogs: list[str], allowed: tuple[str, ...]) -> None:
    """Refuse and record every request outside ``allowed``; record and dismiss every dialog."""
    def route(route):
        url = route.request.url
        if url.startswith(allowed):
            route.continue_()
        else:
            requests.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))


def test_no_page_creates_an_element_request_or_dialog_from_the_data(browser, pages, hostile):
    found, requests, dialogs = {}, [], []
    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        for name in pages:
            page = context.new_page()
            _watch(page, requests, dialogs, ("file:", "about:", "data:image/png"))
            page.goto((hostile["output"] / name).as_uri(), wait_until="load")
            page.evaluate(HOVER_JS, "img, td, a")  # a hover would fire any handler left
            page.wait_for_timeout(100)
            injected = page.evaluate(FIND_INJECTED_JS)
            if injected:
                found[(name, width)] = injected
            if name == "01_evidence_overview.html":
                assert LABEL in page.inner_text("body")
            page.close()
        context.close()
    assert not found
    assert not requests
    assert not dialogs


def test_the_pdf_is_printed_without_a_request(browser, pages, hostile, tmp_path):
    from analysis.apps.report.pdf import write_pdf

    pdf = write_pdf(hostile["output"], tmp_path / "report.pdf", log=lambda line: None, browser=browser)
    assert pdf.stat().st_size > 0


# --------------------------------------------------------------------------- the explorer


@pytest.fixture(scope="module")
def explorer(browser, hostile, tmp_path_factory):
    """The explorer served by Voilà (as ``make explore``) from the hostile data, markup rule off."""
    from analysis.apps.explorer.serve import address, free_port, voila_command

    root = tmp_path_factory.mktemp("explore")
    notebook = explorer_folder(root / "app", hostile["data"])
    port = free_port()
    log = root / "server.log"
    with running(voila_command(port, notebook, pool=EXPLORER_POOL), log, cwd=notebook.parent,
                 env={**os.environ, MARKUP_RULE_OFF_VARIABLE: "1"}) as server:
        wait_until_up(address(port), server, log)
        yield address(port), log


def test_the_explorer_creates_no_element_request_or_dialog_from_the_data(browser, explorer):
    url, log = explorer
    requests, dialogs = [], []
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    try:
        _watch(page, requests, dialogs, (url, "data:", "about:", "blob:"))
        open_explorer(page, url, log, FIRST_RENDER_MS)
        assert LABEL in page.inner_text(".explorer-studies") if page.query_selector(".explorer-studies") \
            else LABEL in page.inner_text("body")
        before = page.evaluate(FIND_INJECTED_JS)
        # leave every study but the hostile one out: the sentence, the line on the primary
        # analysis and the figure then name it
        boxes = page.locator("input[type=checkbox]")
        for i in range(boxes.count()):
            box = boxes.nth(i)
            label = box.locator("xpath=..").inner_text()
            if "Noppers" not in label and box.is_checked():
                box.uncheck()
        page.wait_for_function("label => document.querySelector('.explorer-sentence').innerText.includes(label)",
                               arg="Noppers 2011</script>", timeout=60_000)
        page.evaluate(HOVER_JS, ".explorer-sentence *, .explorer-difference *, .explorer-grade *")
        page.wait_for_timeout(200)
        after = page.evaluate(FIND_INJECTED_JS)
        sentence = page.inner_text(".explorer-sentence")
    finally:
        page.close()
    assert not before and not after
    assert LABEL in sentence
    assert not [r for r in requests if not r.startswith(url)]
    assert not dialogs
