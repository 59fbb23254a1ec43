"""Benchmark: how long the explorer takes to redraw after a change (warm, in-process).

Run from the repository root:

    .venv/bin/python benchmarks/bench_explorer.py            # in-process
    .venv/bin/python benchmarks/bench_explorer.py --browser  # also through the web app

One redraw is a control's new value -> the plan rebuilt, the rows selected and pooled,
the sentence, the GRADE row, the forest plot drawn and written as SVG, every output
widget updated (``Explorer.redraw`` runs inside the value assignment). With
``--browser`` the app is also served as ``make explore`` serves it and driven with
Playwright and Debian's chromium: a redraw is then a click -> the page showing the new
sentence and figure (websocket messages each way and the repaint included).
This is a benchmark, not a test: the target is under a second on the machine it runs on.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import urllib.request
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

    from analysis.apps.explorer.serve import address, free_port
    from analysis.review.protocol import WINDOW

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "analysis.apps.explorer.serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(address(port), timeout=5).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            start = time.perf_counter()
            page.goto(address(port))
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
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
    if "--browser" in sys.argv[1:]:
        browser_redraws()
