"""The review: this protocol's facts, rows, plan and judgements.

Time windows and never-pooled designs (``protocol``), which rows each analysis pools
(``selection``), report / study / sample and the PRISMA flow (``evidence_base``), the analysis
plan (``plan``), duration, the multiverse, GRADE, the summary of findings and the claims check.
It reads ``analysis.data`` and calls ``analysis.engine``; it writes no words for pages.
"""
