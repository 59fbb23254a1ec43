"""User mistakes end in an AnalysisError that names the study and shows the value plainly (issue 9)."""

import numpy as np
import pytest

from analysis import AnalysisError, meta_analysis, meta_regression, pool_proportions

LABELS = ["Cohen 2006", "Noppers 2011", "Guedj 2007a"]


@pytest.mark.parametrize("yi, vi, message", [
    ([np.float64(0.2), 0.3, 0.1], [np.float64(0.0), 0.1, 0.1],
     "study 'Cohen 2006': yi=0.2, vi=0; sampling variances must be positive"),
    ([0.2, "high", 0.1], [0.1, 0.1, 0.1], "study 'Noppers 2011': yi='high' is not a number"),
    ([0.2, 0.1, 1e200], [0.1, 0.1, 1e200], "study 'Guedj 2007a': yi=1e+200, vi=1e+200; values beyond"),
    ([0.2, 0.1, 0.3], [0.1, np.inf, 0.1], "study 'Noppers 2011': yi=0.1, vi=inf; effect sizes and sampling"),
    ([0.2, 0.1, 0.3], [0.1, 1e-80, 0.1], "study 'Noppers 2011': yi=0.1, vi=1e-80; values beyond"),
])
def test_meta_analysis_names_the_study_and_value(yi, vi, message):
    with pytest.raises(AnalysisError) as error:
        meta_analysis(yi, vi, labels=LABELS)
    assert str(error.value).startswith(message)
    assert "np." not in str(error.value)


@pytest.mark.parametrize("events, n, message", [
    ([3, "a", 4], [10, 10, 10], "study 'Noppers 2011': events='a' is not a number"),
    ([3, 12, 4], [10, np.int64(11), 10], "study 'Noppers 2011': events=12, n=11; events must lie between 0 and n"),
    ([3, 2.5, 4], [10, 10, 10], "study 'Noppers 2011': events=2.5, n=10; events and n must be whole numbers"),
    ([3, 1, 1e200], [10, 10, 1e200], "study 'Guedj 2007a': events=1e+200, n=1e+200; n must be a positive count"),
])
def test_pool_proportions_names_the_study_and_value(events, n, message):
    with pytest.raises(AnalysisError) as error:
        pool_proportions(events, n, labels=LABELS)
    assert str(error.value).startswith(message)


def _regression_data(k, missing, seed=1):
    rng = np.random.default_rng(seed)
    yi, vi, mod = rng.normal(size=k), rng.uniform(0.01, 0.1, k), rng.normal(size=k)
    yi[missing] = np.nan
    return yi, vi, mod


def test_meta_regression_drops_a_study_from_effects_and_moderators_together():
    """8 studies, 4 without yi, one moderator: it used to fit a misaligned two-moderator model."""
    yi, vi, mod = _regression_data(8, [1, 3, 5, 7])
    fit = meta_regression(yi, vi, mod, labels=list("ABCDEFGH"))
    keep = [0, 2, 4, 6]
    complete = meta_regression(yi[keep], vi[keep], mod[keep])
    assert (fit.k, fit.p) == (4, 2)
    np.testing.assert_allclose(fit.beta, complete.beta, rtol=1e-12)
    assert fit.omitted == ("B", "D", "F", "H")
    assert fit.notes == ("4 studies without an effect size, variance or moderator omitted: B, D, F, H",)


def test_meta_regression_with_missing_rows_no_longer_fails_to_reshape():
    """10 studies, 2 without yi: it used to end in "ValueError: cannot reshape array"."""
    yi, vi, mod = _regression_data(10, [2, 4])
    fit = meta_regression(yi, vi, mod)
    assert fit.k == 8 and fit.omitted == ("Study 3", "Study 5")


def test_meta_regression_drops_a_study_missing_a_moderator():
    yi, vi, mod = _regression_data(6, [])
    mod[0] = np.nan
    fit = meta_regression(yi, vi, mod, labels=list("ABCDEF"))
    assert fit.k == 5 and fit.omitted == ("A",)
