"""Benchmark: how long the explorer takes to redraw after a change (warm, in-process).

Run from the repository root:

    .venv/bin/python benchmarks/bench_explorer.py

One redraw is a control's new value -> the plan rebuilt, the rows selected and pooled,
the sentence, the GRADE row, the forest plot drawn and written as SVG, every output
widget updated (``Explorer.redraw`` runs inside the value assignment). The browser's
own round trip (a websocket message each way and the page repaint) is not included.
This is a benchmark, not a test: the target is under a second on the machine it runs on.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from analysis.explorer.widgets import Explorer

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


if __name__ == "__main__":
    main()
