"""Tests for analysis.engine.transforms: back-transformations against metafor's
``transf.*``, intervals against R's binom.test / prop.test.

Reference values: tests/reference/effect_sizes.json, written by
tests/reference/effect_sizes.R (the exact R call of each set is stored with it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError
from analysis.engine.effect_sizes import MEASURES, effect_sizes
from analysis.engine.transforms import (
    SCALES,
    back_transform,
    clopper_pearson,
    iarcsin,
    ilogit,
    ipft,
    ipft_hm,
    measure_scale,
    wilson,
)

REFERENCE = json.loads((Path(__file__).parent / "reference" / "effect_sizes.json").read_text())

# Closed forms (and qbeta/qnorm, which R and scipy both compute to full double
# precision); the JSON holds 15 significant digits. Observed agreement < 5e-15.
REL_TOL = 1e-10
# Bounds that R sets to exactly 0 or 1 are exactly 0 or 1 here.
ABS_TOL = 0.0

TRANSFORMS = {
    "ilogit": lambda t: ilogit(t["x"]),
    "exp": lambda t: back_transform(t["x"], "RR"),
    "iarcsin": lambda t: iarcsin(t["x"]),
    "iarcsin_grid": lambda t: back_transform(t["x"], "PAS"),
    "ipft_hm": lambda t: back_transform(t["x"], "PFT", ni=t["ni"]),
    "ipft_hm_grid": lambda t: ipft_hm(t["x"], t["ni"]),
    "ipft": lambda t: ipft(t["x"], t["ni"]),
}


@pytest.mark.parametrize("ref", REFERENCE["transforms"], ids=lambda t: t["name"])
def test_back_transforms_match_metafor(ref):
    # ref["call"] is the metafor call that produced ref["value"]
    np.testing.assert_allclose(TRANSFORMS[ref["name"]](ref), ref["value"], rtol=REL_TOL,
                               atol=ABS_TOL)  # fmt: skip


@pytest.mark.parametrize("ref", REFERENCE["intervals"], ids=lambda r: str(r["confidence_level"]))
def test_clopper_pearson_matches_binom_test(ref):
    # ref["clopper_pearson_call"]: binom.test(x, n, conf.level=...)$conf.int per (x, n)
    ci = clopper_pearson(ref["x"], ref["n"], ref["confidence_level"])
    np.testing.assert_allclose(ci.ci_lb, ref["clopper_pearson_lb"], rtol=REL_TOL, atol=ABS_TOL)
    np.testing.assert_allclose(ci.ci_ub, ref["clopper_pearson_ub"], rtol=REL_TOL, atol=ABS_TOL)
    assert ci.method == "clopper-pearson"


@pytest.mark.parametrize("ref", REFERENCE["intervals"], ids=lambda r: str(r["confidence_level"]))
def test_wilson_matches_prop_test(ref):
    # ref["wilson_call"]: prop.test(x, n, conf.level=..., correct=FALSE)$conf.int per (x, n)
    ci = wilson(ref["x"], ref["n"], ref["confidence_level"])
    np.testing.assert_allclose(ci.ci_lb, ref["wilson_lb"], rtol=REL_TOL, atol=ABS_TOL)
    np.testing.assert_allclose(ci.ci_ub, ref["wilson_ub"], rtol=REL_TOL, atol=ABS_TOL)
    np.testing.assert_array_equal(ci.estimate, np.divide(ref["x"], ref["n"]))


def test_every_effect_size_measure_has_a_scale():
    assert set(SCALES) == set(MEASURES)


@pytest.mark.parametrize(
    ("measure", "axis", "null", "null_analysis", "label"),
    [
        ("RR", "log", 1.0, 0.0, "Risk ratio"),
        ("OR", "log", 1.0, 0.0, "Odds ratio"),
        ("RD", "linear", 0.0, 0.0, "Risk difference"),
        ("MD", "linear", 0.0, 0.0, "Mean difference"),
        ("SMD", "linear", 0.0, 0.0, "Standardised mean difference (Hedges' g)"),
        ("MC", "linear", 0.0, 0.0, "Mean change"),
        ("SMCR", "linear", 0.0, 0.0, "Standardised mean change"),
        ("PR", "linear", None, None, "Proportion"),
        ("PLO", "linear", None, None, "Proportion"),
        ("PFT", "linear", None, None, "Proportion"),
        ("PAS", "linear", None, None, "Proportion"),
    ],
)
def test_scale_metadata(measure, axis, null, null_analysis, label):
    scale = measure_scale(measure)
    assert (scale.axis_scale, scale.null_value, scale.null_value_analysis, scale.label) == (
        axis, null, null_analysis, label,
    )  # fmt: skip
    if null is not None:
        # the analysis-scale null maps onto the natural-scale null
        assert float(back_transform(null_analysis, measure)) == null


@pytest.mark.parametrize("measure", ["PR", "PLO", "PAS"])
def test_round_trip_recovers_observed_proportions(measure):
    # rows without zero cells get no correction, so back_transform(yi) = xi/ni
    data = pd.DataFrame({"xi": [16, 4, 43, 25], "ni": [17, 8, 58, 42]})
    out = effect_sizes(data, measure)
    np.testing.assert_allclose(back_transform(out["yi"], measure), data.xi / data.ni,
                               rtol=REL_TOL)  # fmt: skip


def test_pft_study_wise_inverse_recovers_observed_proportions():
    data = pd.DataFrame({"xi": [0, 16, 4, 12], "ni": [15, 17, 8, 12]})
    out = effect_sizes(data, "PFT")
    np.testing.assert_allclose(ipft(out["yi"], data.ni), data.xi / data.ni, rtol=REL_TOL,
                               atol=1e-15)  # fmt: skip


def test_pft_needs_sample_sizes():
    with pytest.raises(AnalysisError, match="needs the studies' sample sizes"):
        back_transform(0.8, "PFT")
    with pytest.raises(AnalysisError, match="measure='XX' is not supported"):
        measure_scale("XX")


def test_interval_inputs_checked():
    with pytest.raises(AnalysisError, match=r"offending \(events, n\): \(5, 4\)"):
        clopper_pearson([1, 5], [4, 4])
    with pytest.raises(AnalysisError, match="confidence_level must be in"):
        wilson(1, 4, confidence_level=95)


def test_intervals_contain_estimate_and_nest_by_level():
    x, n = np.array([0, 3, 7, 10]), np.array([10, 10, 10, 10])
    for method in (clopper_pearson, wilson):
        wide, narrow = method(x, n, 0.95), method(x, n, 0.80)
        assert np.all(wide.ci_lb <= narrow.ci_lb) and np.all(narrow.ci_ub <= wide.ci_ub)
        assert np.all(narrow.ci_lb <= x / n) and np.all(x / n <= narrow.ci_ub)
