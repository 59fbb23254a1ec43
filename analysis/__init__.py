"""Meta-analysis library for the ketamine-for-fibromyalgia evidence suite.

The library is four wings, importing one way (``docs/architecture.md``):
``analysis.engine`` (meta-analysis methods with metafor's names; knows nothing of this review)
<- ``analysis.data`` (load + validate ``data/``) <- ``analysis.review`` (protocol, rows, plan,
judgements) <- ``analysis.present`` (words, tables, figures) <- ``analysis.apps`` (report,
explorer).

The names exported here are a public contract: checks outside the project
call them.
"""

from analysis.engine._errors import AnalysisError
from analysis.engine.bayesian import bayesian_meta_analysis
from analysis.engine.crossover import correlation_sweep
from analysis.engine.effect_sizes import effect_sizes
from analysis.engine.fixed_effects import mantel_haenszel, peto
from analysis.engine.pooling import meta_analysis, meta_regression
from analysis.engine.proportions import pool_proportions
from analysis.engine.sensitivity import cumulative, influence, leave_one_out, subgroup_analysis
from analysis.engine.small_study import egger_test, rank_test, trim_and_fill
from analysis.review.multiverse import multiverse
from analysis.review.plan import AnalysisPlan

__all__ = [
    "AnalysisError",
    "AnalysisPlan",
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
