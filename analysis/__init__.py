"""Meta-analysis library for the ketamine-for-fibromyalgia evidence suite.

Data flows one way: ``analysis.data`` (load + validate) -> ``effect_sizes``
-> pooling -> plots / narrative. Method and measure names follow R's metafor.
"""

from analysis._errors import AnalysisError

__all__ = ["AnalysisError"]
