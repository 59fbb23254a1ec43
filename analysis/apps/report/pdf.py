"""One PDF of the whole report, printed by headless Chromium (``make pdf``).

The index and every report page are joined into one print document (each page a
section that starts on a new sheet; ids prefixed with the page's name so that they stay
unique, and links between pages turned into links inside the PDF), which Chromium
prints with the report's print stylesheet (``@media print`` in ``report.css``). Nothing
is fetched from the network: every request that is not a local file is refused.

Chromium is found at :data:`DEFAULT_CHROMIUM` or at the path in the environment
variable ``CHROMIUM_PATH``; Playwright (from PyPI) drives it, and its own browser
downloads are not needed.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis.engine._errors import AnalysisError
from analysis.apps.report._common import _REPO_ROOT, DISCLAIMER
from analysis.apps.report.layout import STYLESHEET

#: Where Debian's ``apt-get install chromium`` puts the browser.
DEFAULT_CHROMIUM = "/usr/bin/chromium"

#: Name of the temporary print document (written next to the pages, removed afterwards).
_PRINT_FILE = ".print.html"


def chromium_path() -> Path:
    """The Chromium executable: ``$CHROMIUM_PATH`` or :data:`DEFAULT_CHROMIUM`.

    Raises
    ------
    AnalysisError
        If there is no executable file there; the message says how to install one.
    """
    path = Path(os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise AnalysisError(
            f"no Chromium at {path}: install it (Debian/Ubuntu: apt-get install chromium) "
            "or set CHROMIUM_PATH to the browser's executable"
        )
    return path


def report_pages(report_dir: Path) -> list[Path]:
    """The pages in reading order: the index, then the reports in the order it links them.

    Raises
    ------
    AnalysisError
        If the folder has no ``index.html`` (the report was not built).
    """
    from bs4 import BeautifulSoup

    index = report_dir / "index.html"
    if not index.is_file():
        raise AnalysisError(f"{index} does not exist: build the report first (make report)")
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    pages = [index]
    for link in soup.select("ul.kfm-reports a[href]"):
        href = link["href"].partition("#")[0]
        if href.endswith(".html") and "/" not in href and (report_dir / href) not in pages:
            pages.append(report_dir / href)
    return pages


def print_document(report_dir: Path | str) -> str:
    """One HTML document with every page of the report, for printing.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "index.html").write_text(
    ...     '<main><h1 id="top">Report</h1><ul class="kfm-reports">'
    ...     '<li><a href="01_a.html#x">A</a></li></ul></main>')
    >>> _ = (folder / "01_a.html").write_text(
    ...     '<header>banner</header><main><h2 id="x">Section</h2>'
    ...     '<a href="#x">here</a></main>')
    >>> doc = print_document(folder)
    >>> 'href="#01_a--x"' in doc and 'id="01_a--x"' in doc and 'id="page-01_a"' in doc
    True
    >>> "banner" in doc
    False
    """
    from bs4 import BeautifulSoup

    report_dir = Path(report_dir)
    pages = report_pages(report_dir)
    names = {p.name: p.stem for p in pages}
    sections = []
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        main = soup.find("main") or soup.body or soup
        if page.name != "index.html":
            for tag in main.select("header, footer"):
                tag.decompose()
        _relink(main, page.stem, names)
        inner = "".join(str(child) for child in main.children)
        sections.append(f'<section class="kfm-print-page" id="page-{page.stem}">{inner}</section>')
    index = BeautifulSoup(pages[0].read_text(encoding="utf-8"), "html.parser")
    header = index.find("header")
    title = index.title.get_text() if index.title else "Report"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="{STYLESHEET}"></head><body>'
        f"{header or ''}<main>{''.join(sections)}</main>"
        f'<footer class="kfm-footer"><p>{html.escape(DISCLAIMER)}</p></footer>'
        "</body></html>\n"
    )


def _relink(main, stem: str, names: dict[str, str]) -> None:
    """Prefix ids with the page name; point links between pages inside the document."""
    for tag in main.find_all(id=True):
        tag["id"] = f"{stem}--{tag['id']}"
    for tag in main.find_all(attrs={"aria-labelledby": True}):
        tag["aria-labelledby"] = f"{stem}--{tag['aria-labelledby']}"
    for link in main.find_all("a", href=True):
        href = link["href"]
        target, _, anchor = href.partition("#")
        if not target and anchor:
            link["href"] = f"#{stem}--{anchor}"
        elif target in names:
            link["href"] = (f"#{names[target]}--{anchor}" if anchor
                            else f"#page-{names[target]}")


def write_pdf(report_dir: Path | str = _REPO_ROOT / "reports", output: Path | str | None = None,
              *, log=print, browser=None) -> Path:
    """Print the whole report to one PDF (A4) with headless Chromium.

    Parameters
    ----------
    report_dir : path
        A built report (``make report``).
    output : path, optional
        The PDF to write; default ``report.pdf`` in ``report_dir``.
    log : callable
        Receives one line when the PDF is written.
    browser : playwright.sync_api.Browser, optional
        A Chromium already launched by the caller (the tests share one); by default
        Chromium is launched here and closed afterwards.

    Returns
    -------
    pathlib.Path
        The PDF written.

    Raises
    ------
    AnalysisError
        No built report, no Chromium, or a page that tried to fetch from the network.
    """
    from playwright.sync_api import sync_playwright

    report_dir = Path(report_dir).resolve()
    output = Path(output).resolve() if output is not None else report_dir / "report.pdf"
    browser_path = chromium_path() if browser is None else None
    document = report_dir / _PRINT_FILE
    document.write_text(print_document(report_dir), encoding="utf-8")
    refused: list[str] = []
    partial = output.with_name(f".{output.name}.partial")
    try:
        if browser is not None:
            _print(browser, document, partial, refused)
        else:
            with sync_playwright() as playwright:
                launched = playwright.chromium.launch(executable_path=str(browser_path))
                try:
                    _print(launched, document, partial, refused)
                finally:
                    launched.close()
        if refused:
            raise AnalysisError(f"the report asked for {len(refused)} resource(s) from the "
                                f"network, e.g. {refused[0]}; no PDF was written")
        os.replace(partial, output)
    finally:
        document.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    log(f"wrote {output.name} ({output.stat().st_size / 1e6:.1f} MB)")
    return output


def _print(browser, document: Path, pdf: Path, refused: list[str]) -> None:
    page = browser.new_page()
    try:
        page.route("**/*", lambda route: _local_only(route, refused))
        page.goto(document.as_uri(), wait_until="load")
        page.emulate_media(media="print")
        page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True,
                 display_header_footer=True, header_template="<span></span>",
                 footer_template=_FOOTER, outline=True, tagged=True)
    finally:
        page.close()


#: Page footer of the PDF: the report's name and the page number.
_FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#57606a;'
    'display:flex;justify-content:space-between">'
    "<span>Ketamine for fibromyalgia pain: evidence report (not medical advice)</span>"
    '<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>'
)


def _local_only(route, refused: list[str]) -> None:
    url = route.request.url
    if url.startswith(("file:", "data:", "about:")):
        route.continue_()
    else:
        refused.append(url)
        route.abort()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis pdf [--report DIR] [--output FILE]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis pdf",
        description="Print the built report (index and every page) to one PDF with Chromium.")
    parser.add_argument("--report", default=str(_REPO_ROOT / "reports"),
                        help="the built report folder (default: reports/)")
    parser.add_argument("--output", default=None,
                        help="the PDF to write (default: report.pdf in the report folder)")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        write_pdf(args.report, args.output, log=lambda line: print(line, flush=True))
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
