"""Presentation: words, tables and figures drawn from result objects only.

Narrative sentences, publication and study tables, figures (``plots``) and the multiverse
chooser of the static page. Nothing here computes a statistic: the table, the figure and the
sentence read the same result object, so they cannot disagree.
"""
