"""Benchmark: how long the explorer takes to redraw after a change (warm, in-process).

Run from the repository root:

    .venv/bin/python benchmarks/bench_explorer.py            # in-process
    .venv/bin/python benchmarks/bench_explorer.py --browser  # also through the web app
    .venv/bin/python benchmarks/bench_explorer.py --open     # opening the page, with and without preheated kernels

One redraw is a control's new value -> the plan rebuilt, the rows selected and pooled,
the sentence, the GRADE row, the forest plot drawn and written as SVG, every output
widget updated (``Explorer.redraw`` runs inside the value assignment). With
``--browser`` the app is also served as ``make explore`` serves it and driven with
Playwright and Debian's chromium: a redraw is then a click -> the page showing the new
sentence and figure (websocket messages each way and the repaint included).
This is a benchmark, not a test: the target is under a second on the machine it runs on.

With ``--open``, the app is served as ``make explore`` serves it, with Voilà's preheated kernels
(``--pool 6``, the default) and without (``--pool 0``), and two things are timed once the server
has settled (every preheated kernel has run the notebook): one reader opening the page in
chromium (navigation -> the forest plot shown), several times, each after the pool has had time
to refill; and six readers at once, the server's part only (six HTTP requests for the page
in parallel threads -> each complete response; six browsers would measure chromium's own
rendering on 2 cores instead), with the count of requests served by a preheated kernel (from
the server's log: "Using pre-heated kernel").
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from analysis.apps.explorer.widgets import Explorer

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 5

#: Changes a reader makes, each followed by its undo: (control, new value).
CHANGES = (
    ("study Noppers 2011 left out", lambda app: app.study_boxes["noppers2011"], False),
    ("window 1-7 days", lambda app: app.controls["time_window"], "short_term"),
    ("model Freeman-Tukey (PFT)", lambda app: app.controls["model"], "PFT"),
    ("model logit (PLO)", lambda app: app.controls["model"], "PLO"),
    ("50% responder threshold", lambda app: app.controls["responder_threshold"], "50"),
    ("randomised trials only", lambda app: app.controls["designs"], "randomised"),
    ("outcome ketamine vs control", lambda app: app.controls["outcome"], "controlled"),
)


def seconds(change) -> float:
    start = time.perf_counter()
    change()
    return time.perf_counter() - start


def main():
    start = time.perf_counter()
    app = Explorer.from_data_dir(ROOT / "data")
    print(f"first draw (cold: imports done, primary analyses and first figure): {time.perf_counter() - start:.2f} s")
    print(f"warm redraws, {REPEATS} repeats each (change and undo); median / max in seconds:")
    everything = []
    for name, control_of, value in CHANGES:
        control = control_of(app)
        times = []
        for _ in range(REPEATS):
            before = control.value
            times.append(seconds(lambda: setattr(control, "value", value)))
            times.append(seconds(lambda: setattr(control, "value", before)))
        everything += times
        print(f"  {name:32s} {statistics.median(times):.3f} / {max(times):.3f}")
    print(f"all {len(everything)} redraws: median {statistics.median(everything):.3f} s, "
          f"max {max(everything):.3f} s")


#: JavaScript: the sentence and the figure's texts, to see when both have changed.
_SHOWN = """() => [document.querySelector(".explorer-sentence").innerText,
                   Array.from(document.querySelectorAll(".explorer-figure svg text"), n => n.textContent).join("|")]"""


def browser_redraws():
    from playwright.sync_api import sync_playwright

    from analysis.apps.explorer.serve import POOL_SIZE
    from analysis.review.protocol import WINDOW

    with _server(POOL_SIZE) as (url, _):
        _wait_for_port(url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            start = time.perf_counter()
            page.goto(url)
            page.locator(".explorer-figure svg").wait_for(timeout=120_000)
            print(f"browser: page with the first figure after {time.perf_counter() - start:.1f} s (kernel start)")
            box = page.locator(".explorer-study-noppers2011 input[type=checkbox]")
            windows = [WINDOW["short_term"].words, WINDOW["during_or_immediate"].words]
            actions = {"study left out / back": lambda i: box.click(),
                       "window switched": lambda i: page.select_option(".explorer-window select",
                                                                       label=windows[i % 2])}
            everything = []
            for name, act in actions.items():
                times = []
                for i in range(2 * REPEATS):
                    before = page.evaluate(_SHOWN)
                    start = time.perf_counter()
                    act(i)
                    page.wait_for_function(f"([s, f]) => {{ const [s2, f2] = ({_SHOWN})(); return s2 !== s && f2 !== f; }}",
                                           arg=before, timeout=30_000)
                    times.append(time.perf_counter() - start)
                everything += times
                print(f"  {name:32s} {statistics.median(times):.3f} / {max(times):.3f}")
            print(f"browser, all {len(everything)} redraws: median {statistics.median(everything):.3f} s, "
                  f"max {max(everything):.3f} s")
            browser.close()


#: Seconds to let a new server settle: every preheated kernel starts and runs the notebook
#: (about 5-8 s each here, two at a time on 2 cores), with a margin.
SETTLE_SECONDS = 75
#: Readers opening the page one after another, and the pause between them (the pool refills).
ARRIVALS, BETWEEN_ARRIVALS = 5, 20
#: Readers opening the page at once.
AT_ONCE = 6


@contextlib.contextmanager
def _server(pool: int):
    """The app as ``make explore`` runs it, with ``pool`` preheated kernels; yields (url, log)."""
    from analysis.apps.explorer.serve import address, free_port

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="bench_explorer_")) / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen([sys.executable, "-m", "analysis.apps.explorer.serve", "--port", str(port),
                                   "--pool", str(pool)], stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT,
                                  start_new_session=True)
    try:
        yield address(port), log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def _wait_for_port(url: str) -> None:
    """Until the server accepts a connection (not a page request: that would take a kernel)."""
    import socket
    from urllib.parse import urlparse

    host, port = urlparse(url).hostname, urlparse(url).port
    for _ in range(240):
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.5)
    raise RuntimeError(f"the explorer did not start on {url}")


def _preheated(log: Path) -> int:
    return log.read_text().count("Using pre-heated kernel")


def opening(pool: int, arrivals: int = ARRIVALS) -> None:
    """One reader at a time, then six at once, on a settled server with ``pool`` preheated kernels."""
    from playwright.sync_api import sync_playwright

    with _server(pool) as (url, log):
        _wait_for_port(url)
        time.sleep(SETTLE_SECONDS)
        times = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            for i in range(arrivals):
                if i:
                    time.sleep(BETWEEN_ARRIVALS)
                page = browser.new_page(viewport={"width": 390, "height": 844})
                start = time.perf_counter()
                page.goto(url)
                page.locator(".explorer-figure svg").wait_for(timeout=120_000)
                times.append(time.perf_counter() - start)
                page.close()
            browser.close()
        print(f"pool {pool}: one reader, page usable (figure shown, chromium at 390 px) after "
              + ", ".join(f"{t:.2f}" for t in times) + f" s (median {statistics.median(times):.2f} s)")
        time.sleep(SETTLE_SECONDS if pool else 0)  # the pool refills before the burst
        before = _preheated(log)

        def fetch(_):
            start = time.perf_counter()
            with urllib.request.urlopen(url, timeout=300) as response:
                response.read()
            return time.perf_counter() - start

        with ThreadPoolExecutor(AT_ONCE) as threads:
            burst = sorted(threads.map(fetch, range(AT_ONCE)))
        served = _preheated(log) - before
        print(f"pool {pool}: {AT_ONCE} readers at once (server's part), complete pages after "
              + ", ".join(f"{t:.2f}" for t in burst) + f" s; {served} of {AT_ONCE} served by a preheated kernel")


if __name__ == "__main__":
    # stopped by a time-out (SIGTERM): unwind, so that every server started here is stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    arguments = sys.argv[1:]
    if "--open" in arguments:
        opening(6)
        opening(0, arrivals=2)
    else:
        main()
        if "--browser" in arguments:
            browser_redraws()
