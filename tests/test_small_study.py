"""egger_test, rank_test and trim_and_fill against metafor's regtest, ranktest and trimfill.

Reference values are pinned in tests/reference/sensitivity.json; regenerate
with ``Rscript tests/reference/sensitivity.R`` (metafor 3.8.1 when written).
R is not needed to run these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.engine._errors import AnalysisError
from analysis.engine.pooling import meta_analysis
from analysis.engine.small_study import (
    MIN_STUDIES_FOR_POWER,
    _kendall_cdf,
    egger_test,
    rank_test,
    trim_and_fill,
)

REFERENCE = json.loads((Path(__file__).parent / "reference" / "sensitivity.json").read_text())
DATASETS = REFERENCE["datasets"]

#: tau² is solved to 1e-12 on both sides (the R script tightens metafor's controls).
RELATIVE_TOLERANCE = 1e-6
#: For quantities that are exactly 0 in metafor (tau² on the boundary).
ABSOLUTE_TOLERANCE = 1e-9


def _fit(ref, method=None, test=None):
    data = DATASETS[ref["dataset"]]
    return meta_analysis(
        data["yi"], data["vi"], method=method or ref["method"], test=test or ref["test"], labels=data["labels"]
    )


def _close(actual, expected):
    if expected is None:
        return actual is None or np.isnan(actual)
    return bool(np.isclose(actual, expected, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE))


@pytest.mark.parametrize(
    "ref", REFERENCE["regtest"],
    ids=lambda r: f"{r['dataset']}-{r['method']}-{r['test']}-{r['model']}-{r['predictor']}",
)
def test_egger_test_matches_regtest(ref):
    result = egger_test(_fit(ref), predictor=ref["predictor"], model=ref["model"])
    for key in ("statistic", "pval", "limit_estimate", "limit_ci_lb", "limit_ci_ub"):
        assert _close(getattr(result, key), ref[key]), (key, getattr(result, key), ref[key])
    assert _close(result.df, ref["df"])


@pytest.mark.parametrize(
    "ref", REFERENCE["ranktest"], ids=lambda r: f"{r['dataset']}-{'exact' if r.get('exact', True) else 'normal'}"
)
def test_rank_test_matches_ranktest(ref):
    data = DATASETS[ref["dataset"]]
    res = meta_analysis(data["yi"], data["vi"])
    result = rank_test(res, exact=ref.get("exact", True))
    assert _close(result.tau, ref["tau"])
    assert _close(result.pval, ref["pval"])


def test_rank_test_falls_back_to_normal_approximation_with_ties():
    """molloy2014 has tied sample sizes, hence tied variances: R's p is the same with exact=TRUE or FALSE."""
    data = DATASETS["molloy2014_zcor"]
    result = rank_test(meta_analysis(data["yi"], data["vi"]))
    assert not result.exact
    pair = [r["pval"] for r in REFERENCE["ranktest"] if r["dataset"] == "molloy2014_zcor"]
    assert pair[0] == pair[1] and _close(result.pval, pair[0])
    untied = rank_test(meta_analysis(DATASETS["bcg_rr"]["yi"], DATASETS["bcg_rr"]["vi"]))
    assert untied.exact


def test_kendall_distribution_small_n():
    """n = 3: inversions of the 6 permutations are 0,1,1,2,2,3, so P(T <= 1) = 3/6."""
    assert _kendall_cdf(1, 3) == pytest.approx(0.5)
    assert _kendall_cdf(3, 3) == pytest.approx(1.0)
    assert _kendall_cdf(-1, 3) == 0.0
    # n = 4: Mahonian numbers 1,3,5,6,5,3,1 over 24
    assert _kendall_cdf(2, 4) == pytest.approx(9 / 24)


def _trimfill_id(ref):
    return f"{ref['dataset']}-{ref['method']}-{ref['test']}-{ref['estimator']}-{ref['side_arg']}"


@pytest.mark.parametrize("ref", [r for r in REFERENCE["trimfill"] if "error" not in r], ids=_trimfill_id)
def test_trim_and_fill_matches_trimfill(ref):
    side = None if ref["side_arg"] == "auto" else ref["side_arg"]
    result = trim_and_fill(_fit(ref), estimator=ref["estimator"], side=side)
    assert (result.k0, result.side) == (ref["k0"], ref["side"])
    assert _close(result.se_k0, ref["se_k0"]), (result.se_k0, ref["se_k0"])
    assert _close(result.p_k0, ref["p_k0"])
    np.testing.assert_allclose(result.yi, ref["yi"], rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
    np.testing.assert_allclose(result.vi, ref["vi"], rtol=RELATIVE_TOLERANCE)
    assert result.filled.tolist() == ref["filled"]
    fit = result.fit.to_dict()
    for key, ref_key in (("estimate", "estimate"), ("se", "se"), ("pval", "pval"), ("ci_lb", "ci_lb"),
                         ("ci_ub", "ci_ub"), ("tau2", "tau2"), ("q", "q"), ("i2", "i2")):
        assert _close(fit[key], ref[ref_key]), (key, fit[key], ref[ref_key])


@pytest.mark.parametrize("ref", [r for r in REFERENCE["trimfill"] if "error" in r], ids=_trimfill_id)
def test_trim_and_fill_fails_where_metafor_stops(ref):
    side = None if ref["side_arg"] == "auto" else ref["side_arg"]
    with pytest.raises(AnalysisError, match="undefined"):
        trim_and_fill(_fit(ref), estimator=ref["estimator"], side=side)


def test_reference_has_filled_studies_on_both_sides():
    sides = {r["side"] for r in REFERENCE["trimfill"] if r.get("k0", 0) > 0 and r["side_arg"] == "auto"}
    assert sides == {"left", "right"}


def test_trim_and_fill_without_missing_studies_returns_the_fit():
    ref = next(r for r in REFERENCE["trimfill"] if r["dataset"] == "normand1999_md" and r["method"] == "REML"
               and r["test"] == "z" and r["estimator"] == "L0" and r["side_arg"] == "auto")
    assert ref["k0"] == 0
    res = _fit(ref)
    result = trim_and_fill(res)
    assert result.fit is res and not result.filled.any()


def test_trim_and_fill_labels_filled_studies():
    data = DATASETS["hackshaw1998_or"]
    res = meta_analysis(data["yi"], data["vi"], labels=data["labels"])
    result = trim_and_fill(res)
    assert result.k0 == 7
    assert result.fit.labels[-7:] == tuple(f"Filled {i}" for i in range(1, 8))
    assert result.fit.labels[: res.k] == res.labels
    assert result.to_dict()["k0"] == 7 and result.to_dict()["estimate"] == result.fit.estimate


@pytest.mark.parametrize("function", [egger_test, rank_test, trim_and_fill])
def test_low_power_flag(function):
    data = DATASETS["normand1999_md"]  # k = 9
    small = function(meta_analysis(data["yi"], data["vi"]))
    assert small.low_power and small.note == "with 9 studies the test has little power"
    data = DATASETS["bcg_rr"]  # k = 13
    large = function(meta_analysis(data["yi"], data["vi"]))
    assert len(data["yi"]) >= MIN_STUDIES_FOR_POWER
    assert not large.low_power and large.note == ""


def test_errors():
    two = meta_analysis([0.1, 0.4], [0.02, 0.03])
    with pytest.raises(AnalysisError, match="at least 3"):
        egger_test(two)
    with pytest.raises(AnalysisError, match="side"):
        trim_and_fill(two)
    with pytest.raises(AnalysisError, match="choose one of"):
        egger_test(meta_analysis(*[DATASETS["bcg_rr"][c] for c in ("yi", "vi")]), predictor="ni")
    with pytest.raises(AnalysisError, match="choose one of"):
        trim_and_fill(two, estimator="L1")
