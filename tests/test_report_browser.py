"""The built report opened in a real browser, as a reader opens it (issue 11).

Playwright (from PyPI) drives Debian's Chromium (``/usr/bin/chromium``, or the browser at
``$CHROMIUM_PATH``: the ``browser`` fixture of ``tests/conftest.py``) over the session's one
build of the real notebooks (``built_report`` in ``tests/conftest.py``). Every page is opened
once at a phone width (390 px) and once at a desktop width (1280 px); what the tests check is
measured in the page by JavaScript and collected first, so that each page loads only once per
width:

- no sideways scroll of the page (``scrollWidth <= innerWidth``);
- every image loads (``naturalWidth > 0``) and has alt text written from its result;
- every local link and anchor resolves; nothing is requested from the network (every
  request that is not a local file is refused and recorded);
- one ``h1`` and no skipped heading level, ``lang`` set, numbered captions for figures and
  tables, ``scope`` on table headers, text contrast of at least WCAG AA;
- printed (A4, print stylesheet), no table or figure is wider than the page;
- ``make pdf`` (:func:`analysis.apps.report.pdf.write_pdf`) writes one PDF of the report.

Without Chromium the tests are skipped with a reason that says how to enable them, and the
end of the run says so again; with ``REQUIRE_BROWSER_TESTS=1`` (set by ``.ci/run``) they
fail instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from analysis.apps.report.layout import MISSING_ALT, STYLESHEET
from report_build import markup_rule_off

#: Viewport widths in CSS pixels: a common phone, a laptop.
WIDTHS = (390, 1280)

#: Width of the printable area of an A4 sheet with the print stylesheet's 12 mm side
#: margins, in CSS pixels (96 per inch): (210 - 24) mm / 25.4 x 96.
A4_PRINT_WIDTH = round((210 - 24) / 25.4 * 96)

#: WCAG 2.1 AA minimum contrast: normal text, and large text (>= 24 px, or >= 18.66 px bold).
AA_NORMAL, AA_LARGE = 4.5, 3.0

#: Budget of one page with everything it loads (HTML, stylesheet, images), in bytes.
PAGE_WEIGHT_BUDGET = 1_000_000

#: Alt texts that say nothing (nbconvert's default among them).
EMPTY_ALTS = ("no description has been provided", MISSING_ALT.lower(), "figure", "image")

#: Measures one page in the browser (returns plain JSON).
MEASURE_JS = r"""
() => {
  const parseRGB = (text) => {
    const m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    let layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parseRGB(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
    }
    let colour = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
      colour = [r * a + colour[0] * (1 - a), g * a + colour[1] * (1 - a), b * a + colour[2] * (1 - a)];
    }
    return colour;
  };
  const contrast = [];
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    const [r, g, b, a] = parseRGB(style.color);
    const bg = background(el);
    const fg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = (size >= 24 || (bold && size >= 18.66)) ? 3.0 : 4.5;
    if (ratio < needed) contrast.push({text: el.textContent.trim().slice(0, 60), ratio, needed});
  }
  const rect = (el) => el.getBoundingClientRect();
  return {
    lang: document.documentElement.lang,
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    images: [...document.images].map(img => ({
      src: img.getAttribute("src"), alt: img.getAttribute("alt"),
      naturalWidth: img.naturalWidth, right: rect(img).right, width: rect(img).width,
      layoutWidth: Number(img.getAttribute("width")) || 0,
      panelRight: img.closest(".kfm-figure-pan") ? rect(img.closest(".kfm-figure-pan")).right : null,
      link: img.closest("a") ? img.closest("a").getAttribute("href") : null})),
    links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
    stylesheets: [...document.querySelectorAll("link[rel=stylesheet]")].map(l => l.getAttribute("href")),
    inlineStyles: document.querySelectorAll("style").length,
    scripts: document.querySelectorAll("script").length,
    ids: [...document.querySelectorAll("[id]")].map(e => e.id),
    headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(h => Number(h.tagName[1])),
    tables: [...document.querySelectorAll("table")].map(t => ({
      caption: t.caption ? t.caption.textContent.trim() : null,
      unscoped: [...t.querySelectorAll("th")].filter(th => !["col", "row", "colgroup", "rowgroup"].includes(th.getAttribute("scope"))).length,
      boxed: t.parentElement.classList.contains("kfm-table-scroll"),
      boxRight: rect(t.parentElement).right})),
    figures: [...document.querySelectorAll("figure")].map(f => ({
      caption: f.querySelector("figcaption") ? f.querySelector("figcaption").textContent.trim() : null})),
    contrast,
    // list items that overprint their neighbour (a multi-column list gone wrong)
    overlaps: [...document.querySelectorAll("li + li")].filter(li => {
      const a = rect(li.previousElementSibling), b = rect(li);
      return b.top < a.bottom - 1 && b.left < a.right - 1 && a.left < b.right - 1;
    }).map(li => li.textContent.trim().slice(0, 60)),
  };
}
"""

#: Measures, under print media, whether anything is wider than the printable width.
PRINT_JS = r"""
() => {
  const main = document.querySelector("main").getBoundingClientRect();
  const wide = [];
  for (const el of document.querySelectorAll("main table, main figure img, main pre")) {
    const r = el.getBoundingClientRect();
    if (r.right > main.right + 1 || el.scrollWidth > el.clientWidth + 1) {
      wide.push({tag: el.tagName, right: r.right, mainRight: main.right,
                 caption: (el.caption ? el.caption.textContent : el.getAttribute("alt") || "").slice(0, 60)});
    }
  }
  // a header word wider than its cell has been broken inside the word ("Respo/nder")
  const brokenHeaders = [];
  for (const th of document.querySelectorAll("main thead th")) {
    const style = getComputedStyle(th);
    const inner = th.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const word of th.textContent.split(/\s+/).filter(Boolean)) {
      const probe = document.createElement("span");
      probe.style.cssText = "position:absolute;visibility:hidden;white-space:nowrap";
      probe.style.fontFamily = style.fontFamily; probe.style.fontSize = style.fontSize;
      probe.style.fontWeight = style.fontWeight; probe.style.letterSpacing = style.letterSpacing;
      probe.textContent = word;
      th.appendChild(probe);
      const w = probe.getBoundingClientRect().width;
      probe.remove();
      if (w > inner + 1) brokenHeaders.push(word);
    }
  }
  return {mainWidth: main.width, wide, brokenHeaders};
}
"""


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def report(browser, built_report) -> Path:
    assert built_report["status"] == 0, built_report["stderr"]
    return built_report["output"]


def _pages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.html"))


def _open(context, path: Path, requests: list[str]):
    page = context.new_page()

    def route(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            requests.append(f"{path.name}: {url}")
            route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return page


@pytest.fixture(scope="session")
def measured(browser, report) -> dict:
    """``{(page name, width): facts}`` for every page at every width, plus the requests."""
    facts, requests = {}, []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        for path in _pages(report):
            page = _open(context, path, requests)
            facts[(path.name, width)] = page.evaluate(MEASURE_JS)
            page.close()
        context.close()
    return {"facts": facts, "requests": requests}


@pytest.fixture(scope="session")
def printed(browser, report) -> dict:
    """Every page under print media at the printable width of an A4 sheet."""
    results, requests = {}, []
    context = browser.new_context(viewport={"width": A4_PRINT_WIDTH, "height": 1100})
    for path in _pages(report):
        page = _open(context, path, requests)
        page.emulate_media(media="print")
        results[path.name] = page.evaluate(PRINT_JS)
        page.close()
    context.close()
    return {"results": results, "requests": requests}


def _each(measured):
    return sorted(measured["facts"].items())


# ---------------------------------------------------------------------------- tests


def test_every_page_was_opened_at_both_widths(measured, report):
    names = {p.name for p in _pages(report)}
    assert {"index.html", "02_response_rates.html"} <= names
    assert set(measured["facts"]) == {(n, w) for n in names for w in WIDTHS}


def test_no_page_scrolls_sideways(measured):
    wide = [(name, width, f["scrollWidth"]) for (name, width), f in _each(measured)
            if f["scrollWidth"] > f["innerWidth"]]
    assert wide == [], "pages wider than the screen (page, width, scrollWidth)"


def test_no_list_item_overprints_another(measured):
    overlaps = [(name, width, f["overlaps"]) for (name, width), f in _each(measured)
                if f["overlaps"]]
    assert overlaps == []


def test_nothing_is_requested_from_the_network(measured, printed):
    assert measured["requests"] == [] and printed["requests"] == []


#: The one page with a script: the multiverse chooser (its data and its controller, both inline).
SCRIPTED_PAGES = {"07_multiverse.html": 2}


def test_pages_load_no_script_and_one_shared_stylesheet(measured, report):
    assert (report / STYLESHEET).is_file()
    for (name, width), f in _each(measured):
        assert f["scripts"] == SCRIPTED_PAGES.get(name, 0), name
        assert f["stylesheets"] == [STYLESHEET], name
        assert f["inlineStyles"] == 0, name


def test_every_image_loads_and_has_alt_text_from_its_result(measured):
    count = 0
    for (name, width), f in _each(measured):
        for image in f["images"]:
            count += 1
            where = f"{name} at {width} px: {image['src'][:60]}"
            assert image["naturalWidth"] > 0, f"{where} did not load"
            alt = (image["alt"] or "").strip()
            assert alt.lower() not in EMPTY_ALTS and "no description" not in alt.lower(), where
            # written from the result: it names what is shown and gives its numbers
            assert len(alt) >= 40 and re.search(r"\d", alt), f"{where}: alt {alt!r}"
    assert count >= 2 * 8, "expected every figure of the report on its page"


def test_figures_fit_the_phone_and_open_full_size(measured, report):
    """A figure fits the page; on a phone it keeps its own size in a panel that scrolls sideways
    (issue 22: the forest plots shrank to a third and their text could not be read)."""
    for (name, width), f in _each(measured):
        for image in f["images"]:
            if image["panelRight"] is None:  # not a report figure (e.g. a missing-figure placeholder)
                assert image["right"] <= f["innerWidth"] + 1, (name, width, image["src"])
                continue
            assert image["panelRight"] <= f["innerWidth"] + 1, (name, width, image["src"])
            if width < 640:  # on a phone: drawn at its own size, never shrunk (the panel scrolls)
                assert image["width"] >= image["layoutWidth"] - 1, (name, width, image)
            assert image["link"] and image["link"].endswith(".svg"), (name, image["src"])
            assert (report / unquote(image["link"])).is_file(), image["link"]


def test_every_local_link_and_anchor_resolves(measured, report):
    ids = {name: set(f["ids"]) for (name, _), f in measured["facts"].items()}
    checked = 0
    for (name, width), f in _each(measured):
        if width != WIDTHS[0]:
            continue  # the same HTML at both widths
        for href in f["links"] + [i["src"] for i in f["images"]]:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "mailto", "data"):
                continue  # not followed offline; no page requests them (tested above)
            target = unquote(parts.path) or name
            assert (report / target).is_file(), f"{name}: link {href!r} points nowhere"
            if parts.fragment:
                assert parts.fragment in ids.get(target, set()), f"{name}: no anchor {href!r}"
            checked += 1
    assert checked > 20


def test_page_language_and_heading_hierarchy(measured):
    for (name, width), f in _each(measured):
        assert f["lang"] == "en", name
        levels = f["headings"]
        assert levels.count(1) == 1 and levels[0] == 1, (name, levels)
        skips = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
        assert skips == [], f"{name}: heading levels skip {skips}"


def test_tables_are_numbered_captioned_scoped_and_boxed(measured):
    for (name, width), f in _each(measured):
        for number, table in enumerate(f["tables"], start=1):
            assert table["caption"] and re.match(rf"Table {number}\. \S", table["caption"]), \
                (name, table["caption"])
            assert table["unscoped"] == 0, (name, table["caption"])
            assert table["boxed"], (name, table["caption"])
            assert table["boxRight"] <= f["innerWidth"] + 1, (name, width, table["caption"])


def test_tables_of_many_columns_read_as_labelled_cards_on_a_phone(browser, report):
    """At phone width each row of a stacked table is a card; each cell shows its column's header."""
    script = """() => [...document.querySelectorAll("table.kfm-stack")].map(t => {
        const cell = t.querySelector("tbody td[data-label]");
        return {rowDisplay: getComputedStyle(t.querySelector("tbody tr")).display,
                label: getComputedStyle(cell, "::before").content, header: cell.dataset.label,
                headerHidden: t.tHead.getBoundingClientRect().height <= 1};
    })"""
    shown = {}
    for width in (min(WIDTHS), max(WIDTHS)):
        context = browser.new_context(viewport={"width": width, "height": 900})
        shown[width] = _open(context, report / "01_evidence_overview.html", []).evaluate(script)
        context.close()
    assert shown[min(WIDTHS)], "no stacked table on page 01"
    for card in shown[min(WIDTHS)]:
        assert card["rowDisplay"] == "block" and card["headerHidden"]
        assert card["label"] == f'"{card["header"]}"'
    # on a wide screen the same tables are tables
    assert all(t["rowDisplay"] == "table-row" and not t["headerHidden"] for t in shown[max(WIDTHS)])


def test_figures_are_numbered_and_captioned(measured):
    pages_with_figures = 0
    for (name, width), f in _each(measured):
        for number, figure in enumerate(f["figures"], start=1):
            assert figure["caption"] and re.match(rf"Figure {number}\. \w.{{20}}",
                                                  figure["caption"]), (name, figure)
        pages_with_figures += bool(f["figures"])
    assert pages_with_figures >= 2 * 5


def test_text_contrast_passes_wcag_aa(measured):
    failures = [(name, width, c["text"], round(c["ratio"], 2)) for (name, width), f in
                _each(measured) for c in f["contrast"]]
    assert failures == []


def test_page_weight_within_budget(built_report):
    report = built_report["output"]
    css = (report / STYLESHEET).stat().st_size
    for page in _pages(report):
        text = page.read_text(encoding="utf-8")
        images = set(re.findall(r'<img[^>]* src="([^"]+)"', text))
        local = [report / unquote(src) for src in images if not src.startswith("data:")]
        weight = page.stat().st_size + css + sum(p.stat().st_size for p in local)
        assert weight <= PAGE_WEIGHT_BUDGET, (page.name, weight)


def test_printed_tables_and_figures_fit_the_sheet(printed):
    for name, result in printed["results"].items():
        assert result["mainWidth"] <= A4_PRINT_WIDTH
        assert result["wide"] == [], f"{name}: cut off on paper"


def test_make_pdf_writes_one_pdf_of_every_page(report, tmp_path, browser):
    from analysis.apps.report.pdf import write_pdf

    lines = []
    pdf = write_pdf(report, tmp_path / "report.pdf", log=lines.append, browser=browser)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= len(_pages(report)), pages  # every report page starts a new sheet
    assert lines == [f"wrote report.pdf ({len(data) / 1e6:.1f} MB)"]
    assert not (report / ".print.html").exists()


# ------------------------------------------------------------ the multiverse chooser

CHOOSER_JS = r"""
() => {
  const root = document.getElementById("kfm-multiverse");
  const text = (key) => root.querySelector(`[data-show="${key}"]`).textContent;
  const marker = root.querySelector(".kfm-mv-marker");
  const box = root.getBoundingClientRect();
  return {estimate: text("estimate"), interval: text("interval"), patients: text("patients"),
          studies: text("studies"), place: text("place"), status: root.querySelector(".kfm-mv-status").textContent,
          specification: root.getAttribute("data-specification"),
          markerShown: marker.style.display !== "none", markerX: Number(marker.getAttribute("cx")),
          formVisible: !root.querySelector("form").hidden, right: box.right,
          selects: [...root.querySelectorAll("select")].map(s => ({id: s.id, right: s.getBoundingClientRect().right}))};
}
"""


@pytest.fixture(scope="session")
def rates_multiverse(report):
    """The response-rate multiverse of the build's own data and parameters (``-p method DL``)."""
    from analysis.data import load_studies
    from analysis.review.multiverse import multiverse
    from analysis.review.plan import AnalysisPlan

    with markup_rule_off():  # the build's data carry markup on purpose (tests/report_build.py)
        studies = load_studies(report.parent / "data" / "studies.csv")
    return multiverse(studies, plan=AnalysisPlan(method="DL"))


def _choose(page, universe, specification):
    """Set every select to the specification's values (their positions, in enumeration order)."""
    from analysis.review.multiverse import CHOICE_NAMES, as_values

    frame = universe.to_frame()
    for name in CHOICE_NAMES[universe.outcome]:
        values = as_values(frame[name])
        position = list(dict.fromkeys(values)).index(values[specification])
        page.select_option(f"#kfm-mv-{name}", str(position))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_chooser_shows_the_tables_row_for_each_specification(browser, report, rates_multiverse, width):
    from analysis.engine.formatting import format_count, format_interval, format_percent

    universe = rates_multiverse
    frame = universe.to_frame()
    errors, requests = [], []
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = _open(context, report / "07_multiverse.html", requests)
    page.on("pageerror", lambda error: errors.append(str(error)))
    start = page.evaluate(CHOOSER_JS)
    default = universe.default_row()
    assert start["formVisible"] and start["specification"] == str(default["specification"])
    assert "the plan's primary analysis" in start["status"]
    assert start["interval"].startswith("95% CrI ")  # the plan's primary model is Bayesian
    rng = __import__("numpy").random.default_rng(width)
    estimable = frame.loc[frame["reason"] == "", "specification"].to_numpy()
    chosen = [int(i) for i in rng.choice(estimable, 6, replace=False)]
    chosen.append(int(frame.loc[frame["reason"] != "", "specification"].iloc[0]))
    for specification in chosen:
        row = frame.loc[specification]
        _choose(page, universe, specification)
        shown = page.evaluate(CHOOSER_JS)
        assert shown["specification"] == str(specification)
        assert shown["patients"] == format_count(row["patients"])
        if row["reason"]:
            assert shown["estimate"] == "–" and row["reason"] in shown["status"]
            assert not shown["markerShown"]
            continue
        assert shown["estimate"] == format_percent(row["estimate"])
        name = "CrI" if row["proportion_model"] == "BAYES" else "CI"
        assert shown["interval"] == f"95% {name} {format_interval(row['ci_lb'], row['ci_ub'], percent=True)}"
        assert shown["studies"] == f"{row['studies']} (k = {row['k']})"
        rank, n, higher = universe.rank(specification)
        # ranked among the specifications of its own question (time window), as Multiverse.rank
        assert shown["place"].startswith(f"rank {rank} of {n} in its time window (lowest first); "
                                         f"{format_percent(higher)} ")
        assert shown["markerShown"]
    # a left-out sample that is not among the chosen rows: no such specification
    page.select_option("#kfm-mv-time_window", "1")  # 1-7 days: Noppers only (with the studies' own threshold)
    page.select_option("#kfm-mv-include_unstated_time", "1")
    page.select_option("#kfm-mv-designs", "0")
    page.select_option("#kfm-mv-responder_threshold", "0")
    labels = page.eval_on_selector_all("#kfm-mv-left_out option", "options => options.map(o => o.textContent)")
    cohen = next(label for label in labels if label.startswith("Cohen 2006"))  # the build's data mark it
    page.select_option("#kfm-mv-left_out", str(labels.index(cohen)))
    missing = page.evaluate(CHOOSER_JS)
    assert missing["specification"] == "" and "No such specification" in missing["status"]
    assert errors == [] and requests == []
    assert all(s["right"] <= width for s in shown["selects"]) and shown["right"] <= width
    context.close()


def test_the_choosers_instruction_is_not_printed_without_its_controls(browser, report):
    """Issue 22, finding 9: print showed "Pick a value for each choice" with no controls to pick."""
    context = browser.new_context(viewport={"width": A4_PRINT_WIDTH, "height": 1100})
    page = context.new_page()
    page.goto((report / "07_multiverse.html").as_uri())
    page.emulate_media(media="print")
    assert "Pick a value for each choice" not in page.inner_text("body")
    page.emulate_media(media="screen")
    assert "Pick a value for each choice" in page.inner_text("body")
    context.close()


def test_printed_headers_break_between_words(printed):
    """Issue 22, finding 9: printed headers broke inside words ("Respo/nder/thresh/old", "S/t/u/d/i/e/s")."""
    for name, result in printed["results"].items():
        assert result["brokenHeaders"] == [], (name, result["brokenHeaders"][:5])


def test_without_javascript_the_page_says_where_the_numbers_are(browser, report):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 900})
    page = _open(context, report / "07_multiverse.html", [])
    assert page.locator("#kfm-multiverse form").is_hidden()
    assert page.locator("#kfm-multiverse noscript").count() == 1
    assert "specification curve" in page.locator("#kfm-multiverse").inner_text()
    context.close()
