"""Meta-analysis library for the ketamine-for-fibromyalgia evidence suite.

Data flows one way: ``analysis.data`` (load + validate) -> ``effect_sizes``
-> pooling, proportions, sensitivity and small-study analyses -> plots and
narrative. Method and measure names follow R's metafor; see
``docs/architecture.md`` for the modules and their contracts.

The names exported here are a public contract: checks outside the project
call them.
"""

from analysis._errors import AnalysisError
from analysis.bayesian import bayesian_meta_analysis
from analysis.crossover import correlation_sweep
from analysis.effect_sizes import effect_sizes
from analysis.fixed_effects import mantel_haenszel, peto
from analysis.pooling import meta_analysis, meta_regression
from analysis.multiverse import multiverse  # the function: analysis.multiverse(studies, outcome, choices)
from analysis.proportions import pool_proportions
from analysis.sensitivity import cumulative, influence, leave_one_out, subgroup_analysis
from analysis.small_study import egger_test, rank_test, trim_and_fill

__all__ = [
    "AnalysisError",
    "bayesian_meta_analysis",
    "correlation_sweep",
    "cumulative",
    "effect_sizes",
    "egger_test",
    "influence",
    "leave_one_out",
    "mantel_haenszel",
    "meta_analysis",
    "meta_regression",
    "multiverse",
    "peto",
    "pool_proportions",
    "rank_test",
    "subgroup_analysis",
    "trim_and_fill",
]
