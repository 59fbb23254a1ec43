"""Benchmark: pool_proportions(method="GLMM") against metafor's rma.glmm.

Run from the repository root:

    .venv/bin/python benchmarks/bench_proportions.py

The R timings are read from tests/reference/proportions.json (written by
tests/reference/proportions.R, which times ``rma.glmm(measure="PLO", xi=xi,
ni=ni)`` with ``system.time`` over repeated fits); they were measured on the
machine that last regenerated the JSON, so the ratio is only meaningful when
both were run on the same machine. This is a benchmark, not a test.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from analysis.engine.proportions import pool_proportions

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "reference" / "proportions.json").read_text())
REPEATS = 20


def seconds_per_fit(events, n, method, repeats=REPEATS):
    pool_proportions(events, n, method=method)  # warm-up (imports, caches)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            pool_proportions(events, n, method=method).to_dict()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def main():
    cases = {c["dataset"]: c for c in REFERENCE["cases"] if c["method"] == "GLMM"}
    print(f"metafor {REFERENCE['packages']['metafor']}, lme4 {REFERENCE['packages']['lme4']}")
    header = f"{'dataset':<16}{'k':>4}{'rma.glmm ms':>14}{'GLMM ms':>10}{'ratio R/py':>12}{'PLO (REML) ms':>15}"
    print(header)
    print("-" * len(header))
    for name, timing in REFERENCE["glmm_timing"].items():
        case = cases[name]
        r_ms = 1000 * timing["seconds_per_fit"]
        py_ms = 1000 * seconds_per_fit(case["xi"], case["ni"], "GLMM")
        plo_ms = 1000 * seconds_per_fit(case["xi"], case["ni"], "PLO")
        print(f"{name:<16}{len(case['xi']):>4}{r_ms:>14.1f}{py_ms:>10.1f}{r_ms / py_ms:>12.1f}{plo_ms:>15.2f}")


if __name__ == "__main__":
    main()
