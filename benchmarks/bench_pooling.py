"""Speed of meta_analysis(...).to_dict() beside the alternatives, in one process.

Run: ``make benchmark`` (or ``.venv/bin/python benchmarks/bench_pooling.py``).
Compares, at k = 13, 100, 10^4 and 10^5 simulated studies:
- analysis.meta_analysis(yi, vi, method="REML").to_dict()  (REML + Q-profile CI for tau²
  + prediction interval: more work than the alternatives do),
- statsmodels.stats.meta_analysis.combine_effects(yi, vi, method_re="iterated")
  (Paule-Mandel; statsmodels has no REML for this function),
- PyMARE's REML estimator, when pymare is installed.
Each k is timed on several simulated datasets (and, at k = 13, on metadat's dat.bcg, the
classic 13-trial example): one dataset alone is a poor yardstick, since how many iterations
an estimator needs depends on the data. On each dataset the candidates take turns, in short
bursts, for several rounds, so that a machine whose speed drifts (a shared virtual machine's
does, by up to 2x within seconds) slows them alike; a candidate's time on a dataset is the
median over rounds of its median per burst. The table gives, per k, the median over
datasets of each candidate's time, and of each ratio to ours (> 1: ours is faster) with its
range over datasets.
"""

from __future__ import annotations

import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

from analysis.engine.pooling import meta_analysis

SIZES = (13, 100, 10_000, 100_000)
#: Simulated datasets per size (seeds 0, 1, ...).
DATASETS_PER_SIZE = 5
#: Rounds in which every candidate takes one burst on a dataset.
ROUNDS = 7
#: Repeat a call until this much time is spent in one burst, at least 3 times.
BURST_SECONDS = 0.04
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


def burst_median(func) -> float:
    """Median seconds per call over one burst of repeated calls."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < BURST_SECONDS:
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved_seconds(funcs: dict, yi: np.ndarray, vi: np.ndarray) -> dict[str, float]:
    """Each candidate's seconds per call on one dataset, the candidates taking turns."""
    for func in funcs.values():
        func(yi, vi)  # warm-up
    bursts: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(ROUNDS):
        for name, func in funcs.items():
            bursts[name].append(burst_median(lambda func=func: func(yi, vi)))
    return {name: statistics.median(times) for name, times in bursts.items()}


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
    others = names[1:]
    print(f"{'k':>8} " + " ".join(f"{name:>16}" for name in names) + "   ratio other / analysis: median (range over datasets)")
    for k in SIZES:
        timings = [interleaved_seconds(found, yi, vi) for yi, vi in datasets(k)]
        seconds = {name: statistics.median(t[name] for t in timings) for name in names}
        ratios = []
        for name in others:
            per_dataset = [t[name] / t["analysis REML"] for t in timings]
            ratios.append(
                f"{name}: {statistics.median(per_dataset):.1f}x ({min(per_dataset):.1f}-{max(per_dataset):.1f})"
            )
        print(f"{k:>8} " + " ".join(f"{seconds[n] * 1e3:>13.3f} ms" for n in names) + "   " + ", ".join(ratios))


if __name__ == "__main__":
    main()
