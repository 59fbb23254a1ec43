"""The engine: meta-analysis methods that know nothing of this review.

Effect sizes, inverse-variance, GLMM and Bayesian pooling, fixed effects, crossover
corrections, subgroups, sensitivity and small-study analyses, number formatting: the part of
the library that matches R's metafor and bayesmeta. It imports nothing from the other wings
(``tests/test_architecture.py`` enforces it), so it could be lifted into another review unchanged.
"""
