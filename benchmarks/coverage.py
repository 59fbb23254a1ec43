"""Calibration benchmark: coverage and width of intervals at this evidence's size.

Run from the repository root (about 20 minutes on 2 busy cores at the default 400 replicates):

    .venv/bin/python benchmarks/coverage.py [--replicates N] [--workers W]

Response rates (single-arm proportions): k = 1, 2, 3, 5, 10 samples, each
n ~ Uniform{10..35}, true pooled response p ~ Uniform(0.20, 0.70) per
replicate, between-study SD tau = 0, 0.3, 0.6, 1.0 on the logit scale. For each
replicate the 95 % interval should cover the true logit mu, and the 95 %
prediction interval a new study's true logit mu + tau z. Methods:

- ``GLMM``: ``pool_proportions(method="GLMM")`` (Wald CI, metafor's PI);
- ``PLO-HK``: inverse-variance logit model, REML, Hartung-Knapp CI (and its t-based PI);
- ``BAYES-HN0.5``, ``BAYES-HN1``, ``BAYES-HC0.5``: ``bayesian_proportions`` with
  half-normal 0.5, half-normal 1, half-Cauchy 0.5 priors on tau.

Controlled comparisons (log RR): k = 1, 2, 3, 5 two-arm trials, n per arm
~ Uniform{10..35}, control risk ~ Uniform(0.2, 0.5), true log RR 0.4, tau = 0,
0.3, 0.6 (treatment risk capped at 0.99). Methods: ``REML-HK`` (escalc RR +
``meta_analysis(method="REML", test="knha")``) and the normal-normal Bayesian
model at the same three priors.

The GLMM refuses k = 1 ("n/a" in the tables, and a method with an n/a cell
is not called calibrated); at k = 1 the inverse-variance models return the
single study's own Wald interval with tau² = 0 (as metafor does), so their
prediction interval equals that interval. Monte Carlo standard error of a coverage near 95 % with R
replicates: sqrt(0.95 x 0.05 / R) (1.09 points at R = 400). Widths are mean
widths on the proportion scale (response rates) and the log RR scale.
"""

from __future__ import annotations

import argparse
import itertools
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy import special

from analysis import AnalysisError
from analysis.engine.bayesian import bayesian_meta_analysis
from analysis.engine.bayesian_binomial import bayesian_proportions
from analysis.engine.effect_sizes import effect_sizes
from analysis.engine.pooling import meta_analysis
from analysis.engine.proportions import pool_proportions

PRIORS = {"BAYES-HN0.5": ("half_normal", 0.5), "BAYES-HN1": ("half_normal", 1.0), "BAYES-HC0.5": ("half_cauchy", 0.5)}
PROPORTION_METHODS = ("GLMM", "PLO-HK", *PRIORS)
RR_METHODS = ("REML-HK", *PRIORS)
PROPORTION_K = (1, 2, 3, 5, 10)
PROPORTION_TAU = (0.0, 0.3, 0.6, 1.0)
RR_K = (1, 2, 3, 5)
RR_TAU = (0.0, 0.3, 0.6)
TRUE_LOG_RR = 0.4
SEED = 20261128


def _proportion_intervals(method, events, n):
    """(ci_lb, ci_ub, pi_lb, pi_ub) on the logit scale."""
    if method == "GLMM":
        res = pool_proportions(events, n, method="GLMM")
    elif method == "PLO-HK":
        res = pool_proportions(events, n, method="PLO", test="knha")
    else:
        prior, scale = PRIORS[method]
        res = bayesian_proportions(events, n, tau_prior=prior, tau_prior_scale=scale)
    return res.ci_lb, res.ci_ub, res.pi_lb, res.pi_ub


def _rr_intervals(method, yi, vi):
    if method == "REML-HK":
        res = meta_analysis(yi, vi, method="REML", test="knha", measure="RR")
    else:
        prior, scale = PRIORS[method]
        res = bayesian_meta_analysis(yi, vi, tau_prior=prior, tau_prior_scale=scale, measure="RR")
    return res.ci_lb, res.ci_ub, res.pi_lb, res.pi_ub


def _record(rows, scenario, method, target, new_target, intervals, transform):
    if intervals is None or not np.all(np.isfinite(intervals)):
        rows.append({**scenario, "method": method, "ci_cover": np.nan, "pi_cover": np.nan,
                     "ci_width": np.nan, "pi_width": np.nan})
        return
    ci_lb, ci_ub, pi_lb, pi_ub = intervals
    rows.append({**scenario, "method": method,
                 "ci_cover": float(ci_lb <= target <= ci_ub), "pi_cover": float(pi_lb <= new_target <= pi_ub),
                 "ci_width": float(transform(ci_ub) - transform(ci_lb)),
                 "pi_width": float(transform(pi_ub) - transform(pi_lb))})


def _safe(function, *args):
    try:
        return function(*args)
    except AnalysisError:
        return None


def proportion_scenario(args):
    k, tau, replicates, seed = args
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(replicates):
        mu = special.logit(rng.uniform(0.2, 0.7))
        n = rng.integers(10, 36, k)
        events = rng.binomial(n, special.expit(mu + tau * rng.standard_normal(k)))
        new = mu + tau * rng.standard_normal()
        scenario = {"k": k, "tau": tau}
        for method in PROPORTION_METHODS:
            _record(rows, scenario, method, mu, new, _safe(_proportion_intervals, method, events, n), special.expit)
    return rows


def rr_scenario(args):
    k, tau, replicates, seed = args
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(replicates):
        n1 = rng.integers(10, 36, k)
        n2 = rng.integers(10, 36, k)
        control = rng.uniform(0.2, 0.5, k)
        theta = TRUE_LOG_RR + tau * rng.standard_normal(k)
        treated = np.minimum(control * np.exp(theta), 0.99)
        table = pd.DataFrame({"ai": rng.binomial(n1, treated), "n1i": n1, "ci": rng.binomial(n2, control), "n2i": n2})
        es = effect_sizes(table, measure="RR")
        new = TRUE_LOG_RR + tau * rng.standard_normal()
        scenario = {"k": k, "tau": tau}
        for method in RR_METHODS:
            _record(rows, scenario, method, TRUE_LOG_RR, new,
                    _safe(_rr_intervals, method, es["yi"].to_numpy(), es["vi"].to_numpy()), lambda x: x)
    return rows


def summarise(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    table = frame.groupby(["method", "k", "tau"], sort=False).agg(
        ci_cover=("ci_cover", "mean"), pi_cover=("pi_cover", "mean"),
        ci_width=("ci_width", "mean"), pi_width=("pi_width", "mean")).reset_index()
    table[["ci_cover", "pi_cover"]] *= 100
    return table


def overall(table: pd.DataFrame) -> pd.DataFrame:
    """Per method: worst coverage over the grid (where available), mean widths, and the calibration verdict."""
    grouped = table.groupby("method", sort=False)
    result = pd.DataFrame({
        "min_ci_cover": grouped.ci_cover.min(), "min_pi_cover": grouped.pi_cover.min(),
        "mean_ci_width": grouped.ci_width.mean(), "mean_pi_width": grouped.pi_width.mean(),
        "cells_na": grouped.ci_cover.apply(lambda s: int(s.isna().sum())),
    })
    result["calibrated"] = (result.min_ci_cover >= 94) & (result.min_pi_cover >= 93) & (result.cells_na == 0)
    return result


def markdown(table: pd.DataFrame, first: str, second: str, methods, digits: int) -> str:
    """Rows (k, tau), one column per method with "first / second" (e.g. CI / PI coverage)."""
    head = "| k | τ | " + " | ".join(methods) + " |"
    lines = [head, "|---" * (len(methods) + 2) + "|"]
    indexed = table.set_index(["method", "k", "tau"])
    for k, tau in table[["k", "tau"]].drop_duplicates().itertuples(index=False):
        cells = []
        for method in methods:
            a, b = indexed.loc[(method, k, tau), [first, second]]
            cells.append("n/a" if np.isnan(a) else f"{a:.{digits}f} / {b:.{digits}f}")
        lines.append(f"| {k} | {tau:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def overall_markdown(summary: pd.DataFrame) -> str:
    lines = ["| method | min CI coverage | min PI coverage | mean CI width | mean PI width | cells n/a | calibrated |",
             "|---|---|---|---|---|---|---|"]
    for method, row in summary.iterrows():
        lines.append(f"| {method} | {row.min_ci_cover:.1f} | {row.min_pi_cover:.1f} | {row.mean_ci_width:.3f} | "
                     f"{row.mean_pi_width:.3f} | {row.cells_na} | {'yes' if row.calibrated else 'no'} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    seeds = np.random.SeedSequence(SEED).generate_state(64)
    proportion_jobs = [(k, tau, args.replicates, int(seeds[i]))
                       for i, (k, tau) in enumerate(itertools.product(PROPORTION_K, PROPORTION_TAU))]
    rr_jobs = [(k, tau, args.replicates, int(seeds[40 + i])) for i, (k, tau) in enumerate(itertools.product(RR_K, RR_TAU))]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        proportion_rows = list(itertools.chain.from_iterable(pool.map(proportion_scenario, proportion_jobs)))
        rr_rows = list(itertools.chain.from_iterable(pool.map(rr_scenario, rr_jobs)))
    mc_se = 100 * np.sqrt(0.95 * 0.05 / args.replicates)
    print(f"{args.replicates} replicates per cell (Monte Carlo SE of a 95 % coverage: {mc_se:.2f} points); "
          f"seed {SEED}; {time.perf_counter() - started:.0f} s")
    for title, rows, methods in (("Response rates (logit scale; widths on the proportion scale)", proportion_rows,
                                  PROPORTION_METHODS),
                                 ("Controlled comparisons (log RR)", rr_rows, RR_METHODS)):
        table = summarise(rows)
        print(f"\n## {title}\n")
        print("### Coverage (%) of the 95 % interval / of the 95 % prediction interval\n")
        print(markdown(table, "ci_cover", "pi_cover", methods, digits=1))
        print("\n### Mean width of the interval / of the prediction interval\n")
        print(markdown(table, "ci_width", "pi_width", methods, digits=3))
        print("\n### Over the grid (calibrated: CI >= 94 % and PI >= 93 % in every cell)\n")
        print(overall_markdown(overall(table)))


if __name__ == "__main__":
    main()
