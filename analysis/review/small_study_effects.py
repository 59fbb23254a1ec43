"""The protocol's small-study tests of a pooled result: run once, read by GRADE and the narrative."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.engine.pooling import MetaAnalysisResult
from analysis.engine.small_study import EggerTestResult, RankTestResult, egger_test, rank_test
from analysis.review.protocol import MIN_STUDIES_FOR_SMALL_STUDY_TESTS


@dataclass(frozen=True)
class SmallStudyTests:
    """Egger's regression test and the rank correlation test, or why they were not run.

    Attributes
    ----------
    k : int
        Studies in the fit.
    minimum : int
        The protocol's minimum number of studies for the tests.
    egger, rank : EggerTestResult, RankTestResult or None
        The tests; None when ``k < minimum`` (not run).
    """

    k: int
    minimum: int
    egger: EggerTestResult | None = None
    rank: RankTestResult | None = None

    @property
    def run(self) -> bool:
        """Whether the tests were run (at least :attr:`minimum` studies)."""
        return self.egger is not None


def small_study_tests(result: MetaAnalysisResult) -> SmallStudyTests:
    """Run the small-study tests the protocol allows on an inverse-variance fit.

    >>> from analysis import meta_analysis
    >>> small_study_tests(meta_analysis([0.1, 0.3, 0.5], [0.02, 0.03, 0.04])).run
    False
    """
    if result.k < MIN_STUDIES_FOR_SMALL_STUDY_TESTS:
        return SmallStudyTests(result.k, MIN_STUDIES_FOR_SMALL_STUDY_TESTS)
    return SmallStudyTests(result.k, MIN_STUDIES_FOR_SMALL_STUDY_TESTS, egger_test(result), rank_test(result))
