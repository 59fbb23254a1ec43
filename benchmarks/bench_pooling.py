"""Speed of meta_analysis(...).to_dict() beside the alternatives, in one process.

Run: ``make benchmark`` (or ``.venv/bin/python benchmarks/bench_pooling.py``).
Compares, at k = 13, 100, 10^4 and 10^5 simulated studies:
- analysis.meta_analysis(yi, vi, method="REML").to_dict()  (REML + Q-profile CI for tau²
  + prediction interval: more work than the alternatives do),
- statsmodels.stats.meta_analysis.combine_effects(yi, vi, method_re="iterated")
  (Paule-Mandel; statsmodels has no REML for this function),
- PyMARE's REML estimator, when pymare is installed.
Each k is timed on several simulated datasets (and, at k = 13, on metadat's dat.bcg, the
classic 13-trial example); the table shows the median over datasets of each candidate's
median time per fit, and the ratio to ours (> 1: ours is faster). One dataset alone is a
poor yardstick: how many iterations an estimator needs depends on the data.
"""

from __future__ import annotations

import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

from analysis.pooling import meta_analysis

SIZES = (13, 100, 10_000, 100_000)
#: Simulated datasets per size (seeds 0, 1, ...).
DATASETS_PER_SIZE = 5
#: Repeat until this much time is spent per candidate and dataset, at least 5 times.
BUDGET_SECONDS = 0.3
BCG = Path(__file__).resolve().parent.parent / "tests" / "reference" / "pooling.json"


def datasets(k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Simulated datasets of size k, plus dat.bcg when k = 13."""
    found = [simulate(k, seed) for seed in range(DATASETS_PER_SIZE)]
    if k == 13:
        bcg = json.loads(BCG.read_text())["datasets"]["bcg_rr"]
        found.append((np.array(bcg["yi"]), np.array(bcg["vi"])))
    return found


def simulate(k: int, seed: int = 20261122) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.5, k)
    yi = rng.normal(-0.4, np.sqrt(vi + 0.1))
    return yi, vi


def median_seconds(func) -> float:
    func()  # warm-up
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < BUDGET_SECONDS:
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
        if len(times) >= 2000:
            break
    return statistics.median(times)


def candidates():
    from statsmodels.stats.meta_analysis import combine_effects

    found = {
        "analysis REML": lambda yi, vi: meta_analysis(yi, vi, method="REML").to_dict(),
        "statsmodels PM": lambda yi, vi: combine_effects(yi, vi, method_re="iterated"),
    }
    try:
        from pymare import Dataset
        from pymare.estimators import VarianceBasedLikelihoodEstimator

        def pymare_reml(yi, vi):
            VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(
                Dataset(y=yi, v=vi)
            ).summary().get_fe_stats()

        found["PyMARE REML"] = pymare_reml
    except ImportError:
        pass
    return found


def main() -> None:
    warnings.simplefilter("ignore")
    found = candidates()
    names = list(found)
    print(f"{'k':>8} " + " ".join(f"{name:>16}" for name in names) + "   ratios (other / analysis)")
    for k in SIZES:
        sets = datasets(k)
        seconds = {
            name: statistics.median(median_seconds(lambda f=found[name], y=y, v=v: f(y, v)) for y, v in sets)
            for name in names
        }
        base = seconds["analysis REML"]
        ratios = ", ".join(f"{name}: {seconds[name] / base:.1f}x" for name in names[1:])
        print(f"{k:>8} " + " ".join(f"{seconds[n] * 1e3:>13.3f} ms" for n in names) + f"   {ratios}")


if __name__ == "__main__":
    main()
