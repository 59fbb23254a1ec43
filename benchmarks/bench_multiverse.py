"""Benchmark: the multiverse of the real data, batched, against one-by-one calls and metafor.

Run from the repository root (``make benchmark`` runs it too):

    .venv/bin/python benchmarks/bench_multiverse.py [--sample N]

Three timings of the same specifications, in one run on one machine:

1. ``analysis.review.multiverse`` (batched inverse-variance fits, each GLMM and Bayesian fit once per
   distinct row set), warm (imports and a first call done), best of 3, for the response rate,
   the controlled comparison, and both;
2. a loop of one-by-one calls, ``plan.response_rate(studies)`` or ``plan.controlled(studies).primary``
   for every specification's plan (errors caught, as a user's loop would), once; with
   ``--sample N`` only N specifications per outcome, and the time scaled to the full size
   (said so in the output);
3. metafor in R (``Rscript``, timed by ``system.time`` in the same run): ``rma.glmm`` (GLMM) or
   ``rma`` (PLO, PFT; RR, OR, RD with the plan's tau² estimator and test) once per frequentist
   specification with an estimate. metafor has no Bayesian model, so its total covers fewer
   specifications than ours: the ratio is conservative. Skipped with a message when Rscript or
   metafor is missing.

Ratios are printed as "times faster than batched" (loop / batched, metafor / batched). This is
a benchmark, not a test; the numbers go into the README's benchmark section.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from analysis import AnalysisError
from analysis.data import load_studies
from analysis.review.multiverse import multiverse

ROUNDS = 3

R_SCRIPT = r"""
suppressPackageStartupMessages(library(metafor))
specs <- jsonlite::fromJSON(commandArgs(TRUE)[1], simplifyVector = FALSE)
fit <- function(s) {
  if (s$model == "GLMM") {
    rma.glmm(measure = "PLO", xi = unlist(s$xi), ni = unlist(s$ni))
  } else if (s$outcome == "response_rate") {
    rma(measure = s$model, xi = unlist(s$xi), ni = unlist(s$ni), method = s$method, test = s$test)
  } else {
    rma(measure = s$measure, ai = unlist(s$ai), n1i = unlist(s$n1i), ci = unlist(s$ci), n2i = unlist(s$n2i),
        method = s$method, test = s$test)
  }
}
invisible(fit(specs[[1]]))
elapsed <- system.time(for (s in specs) try(fit(s), silent = TRUE))[["elapsed"]]
cat(jsonlite::toJSON(list(seconds = elapsed, fits = length(specs),
                          metafor = as.character(packageVersion("metafor")),
                          lme4 = as.character(packageVersion("lme4"))), auto_unbox = TRUE))
"""


def best_seconds(call, rounds: int = ROUNDS) -> float:
    call()  # warm-up: imports, caches
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def loop_seconds(universe, studies, sample: int | None, rng) -> tuple[float, int]:
    """Seconds of one-by-one plan calls over every (or a sample of) specification, scaled to all."""
    everything = np.arange(len(universe))
    chosen = everything if sample is None or sample >= len(everything) else rng.choice(everything, sample, replace=False)
    plans = [universe.plan(i) for i in chosen]
    start = time.perf_counter()
    for plan in plans:
        try:
            if universe.outcome == "response_rate":
                plan.response_rate(studies).natural()
            else:
                plan.controlled(studies).primary.natural()
        except AnalysisError:
            pass
    return (time.perf_counter() - start) * len(everything) / len(chosen), len(chosen)


def metafor_specifications(universe, studies) -> list[dict]:
    """The frequentist specifications with an estimate, as inputs of metafor's calls."""
    frame = universe.to_frame()
    model_column = "proportion_model" if universe.outcome == "response_rate" else "comparison_model"
    rows = frame[(frame["reason"] == "") & (frame[model_column] != "BAYES")]
    specs = []
    for row in rows.itertuples():
        plan = universe.plan(row.specification)
        if universe.outcome == "response_rate":
            data = plan.response_rate_rows(studies)
            single = len(data) == 1  # the plan shows one sample as its own logit (PLO, k = 1)
            inverse_variance = isinstance(row.method, str)
            specs.append({"outcome": "response_rate", "model": "PLO" if single else row.proportion_model,
                          "method": row.method if inverse_variance else "REML",
                          "test": row.test if inverse_variance else "z",
                          "xi": data["ketamine_events"].tolist(), "ni": data["ketamine_n"].tolist()})
        else:
            data = plan.controlled_rows(studies)
            specs.append({"outcome": "controlled", "model": "IV", "measure": row.measure, "method": row.method,
                          "test": row.test, "ai": data["ketamine_events"].tolist(),
                          "n1i": data["ketamine_n"].tolist(), "ci": data["control_events"].tolist(),
                          "n2i": data["control_n"].tolist()})
    return specs


def metafor_seconds(specs: list[dict]):
    """(result, None) with metafor's seconds for ``specs``, or (None, reason)."""
    if shutil.which("Rscript") is None:
        return None, "Rscript not found"
    check = subprocess.run(["Rscript", "-e", "library(metafor); library(jsonlite)"], capture_output=True, text=True)
    if check.returncode != 0:
        return None, "R package metafor (or jsonlite) not installed"
    with tempfile.TemporaryDirectory() as folder:
        data, script = Path(folder) / "specs.json", Path(folder) / "bench.R"
        data.write_text(json.dumps(specs))
        script.write_text(R_SCRIPT)
        result = subprocess.run(["Rscript", str(script), str(data)], capture_output=True, text=True)
    if result.returncode != 0:
        return None, f"Rscript failed: {result.stderr.strip()[-300:]}"
    return json.loads(result.stdout), None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None,
                        help="time the one-by-one loop on this many specifications per outcome (scaled to all)")
    args = parser.parse_args(argv)
    studies = load_studies()
    rng = np.random.default_rng(20261128)
    universes = {outcome: multiverse(studies, outcome) for outcome in ("response_rate", "controlled")}
    batched = {outcome: best_seconds(lambda o=outcome: multiverse(studies, o)) for outcome in universes}
    both = best_seconds(lambda: [multiverse(studies, o) for o in universes])
    print("multiverse of the real data (data/studies.csv), warm, best of 3")
    header = f"{'outcome':<15}{'specs':>7}{'estimable':>10}{'batched s':>11}{'loop s':>9}{'loop/batched':>14}"
    print(header)
    print("-" * len(header))
    total_loop = 0.0
    for outcome, universe in universes.items():
        loop, timed = loop_seconds(universe, studies, args.sample, rng)
        total_loop += loop
        note = "" if timed == len(universe) else f"  (loop: {timed} timed, scaled)"
        print(f"{outcome:<15}{len(universe):>7}{len(universe.estimable()):>10}{batched[outcome]:>11.2f}"
              f"{loop:>9.1f}{loop / batched[outcome]:>14.0f}{note}")
    size = sum(len(u) for u in universes.values())
    print(f"{'both':<15}{size:>7}{sum(len(u.estimable()) for u in universes.values()):>10}{both:>11.2f}"
          f"{total_loop:>9.1f}{total_loop / both:>14.0f}")
    print("target: both within 2 s warm")
    print()
    specs = [spec for universe in universes.values() for spec in metafor_specifications(universe, studies)]
    result, reason = metafor_seconds(specs)
    if result is None:
        print(f"metafor timing skipped: {reason}")
        return
    print(f"metafor {result['metafor']} (lme4 {result['lme4']}): {result['fits']} frequentist specifications "
          f"with an estimate (rma.glmm / rma, one call each) in {result['seconds']:.1f} s; "
          f"batched multiverse (all {size}, Bayesian included) {both:.2f} s: "
          f"metafor/batched {result['seconds'] / both:.0f}")


if __name__ == "__main__":
    main()
