"""Benchmark: the Bayesian models against R's bayesmeta.

Run from the repository root:

    .venv/bin/python benchmarks/bench_bayesian.py

Times a full posterior summary (``to_dict()``: mu, tau and predictive
quantiles) of ``bayesian_meta_analysis`` at k = 5, 10, 20 and of
``bayesian_proportions`` at k = 5, 10 (best of 3 rounds, warm). When Rscript
and bayesmeta are installed, bayesmeta(y, sigma, tau.prior = half-normal 0.5,
interval.type = "central") on the same normal-normal data is timed in the same
run (its default accuracy settings) and the ratio printed; otherwise that is
said. Targets (issue 12): <= 5 ms normal-normal at k <= 20, <= 50 ms
binomial-normal at k <= 10. This is a benchmark, not a test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from analysis.engine.bayesian import bayesian_meta_analysis
from analysis.engine.bayesian_binomial import bayesian_proportions

REPEATS = 20
R_REPEATS = 3
TARGET_NORMAL_MS = 5.0
TARGET_BINOMIAL_MS = 50.0

R_SCRIPT = """
suppressPackageStartupMessages(library(bayesmeta))
d <- jsonlite::fromJSON(commandArgs(TRUE)[1])
out <- sapply(seq_along(d$y), function(i) {
  y <- d$y[[i]]; s <- d$sigma[[i]]
  t <- system.time(for (r in seq_len(d$repeats))
    bayesmeta(y, s, tau.prior = function(t) dhalfnormal(t, scale = 0.5), interval.type = "central"))
  t[["elapsed"]] / d$repeats
})
cat(jsonlite::toJSON(out, digits = NA))
"""


def best_seconds(fit, repeats=REPEATS):
    fit()  # warm-up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            fit()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def normal_data(k, rng):
    return rng.normal(0.2, 0.3, k), rng.uniform(0.02, 0.2, k)


def binomial_data(k, rng):
    n = rng.integers(10, 36, k)
    return rng.binomial(n, 0.55), n


def bayesmeta_seconds(datasets):
    """Seconds per bayesmeta() fit for each (y, vi), or None when R or bayesmeta is missing."""
    if shutil.which("Rscript") is None:
        return None, "Rscript not found"
    check = subprocess.run(["Rscript", "-e", "library(bayesmeta)"], capture_output=True, text=True)
    if check.returncode != 0:
        return None, "R package bayesmeta not installed"
    payload = {"y": [list(y) for y, _ in datasets], "sigma": [list(np.sqrt(v)) for _, v in datasets],
               "repeats": R_REPEATS}
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.json"
        script = Path(folder) / "bench.R"
        data.write_text(json.dumps(payload))
        script.write_text(R_SCRIPT)
        result = subprocess.run(["Rscript", str(script), str(data)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout), None


def main():
    rng = np.random.default_rng(2026)
    normal = {k: normal_data(k, rng) for k in (5, 10, 20)}
    binomial = {k: binomial_data(k, rng) for k in (5, 10)}
    r_seconds, reason = bayesmeta_seconds(list(normal.values()))
    print("normal-normal model, half-normal(0.5) prior, full summary (to_dict)")
    header = f"{'k':>4}{'ours ms':>10}{'target':>9}{'bayesmeta ms':>14}{'ratio R/py':>12}"
    print(header)
    print("-" * len(header))
    for i, (k, (y, v)) in enumerate(normal.items()):
        ours = 1000 * best_seconds(lambda: bayesian_meta_analysis(y, v).to_dict())
        if r_seconds is None:
            r_text, ratio = "skipped", "-"
        else:
            r_text, ratio = f"{1000 * r_seconds[i]:.0f}", f"{1000 * r_seconds[i] / ours:.0f}"
        print(f"{k:>4}{ours:>10.2f}{TARGET_NORMAL_MS:>9.0f}{r_text:>14}{ratio:>12}")
    if reason:
        print(f"bayesmeta timing skipped: {reason}")
    print()
    print("binomial-normal model, half-normal(0.5) prior, full summary (to_dict)")
    header = f"{'k':>4}{'ours ms':>10}{'target':>9}"
    print(header)
    print("-" * len(header))
    for k, (events, n) in binomial.items():
        ours = 1000 * best_seconds(lambda: bayesian_proportions(events, n).to_dict(), repeats=5)
        print(f"{k:>4}{ours:>10.1f}{TARGET_BINOMIAL_MS:>9.0f}")


if __name__ == "__main__":
    main()
