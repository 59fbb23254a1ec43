"""mantel_haenszel and peto against metafor's rma.mh and rma.peto.

Reference values: tests/reference/fixed_effects.json, written by
tests/reference/fixed_effects.R (metafor 3.8-1; versions and calls in the JSON).
Datasets: dat.bcg, dat.yusuf1985 (table 6), dat.collins1985a (deaths; several
zero cells and double-zero tables) and a constructed sparse set.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis import AnalysisError
from analysis.engine.fixed_effects import mantel_haenszel, peto

REFERENCE = json.loads((Path(__file__).parent / "reference" / "fixed_effects.json").read_text())

#: Closed-form estimators: agreement to rounding error. 1e-10 relative.
RTOL = 1e-10
#: p-values of large statistics are tiny; compare them absolutely as well.
ATOL = 1e-14

SCALAR_KEYS = {
    "estimate": "estimate", "se": "se", "zval": "statistic", "pval": "pval", "ci_lb": "ci_lb",
    "ci_ub": "ci_ub", "q": "q", "q_p": "q_p", "i2": "i2", "h2": "h2", "k": "k", "k_yi": "k_yi",
    "cmh": "cmh", "cmh_p": "cmh_p", "cochran": "cochran", "cochran_p": "cochran_p",
    "breslow_day": "breslow_day", "breslow_day_p": "breslow_day_p", "tarone": "tarone",
    "tarone_p": "tarone_p", "k_pos": "k_pos",
}


def _fit(case):
    tables = (case["ai"], case["bi"], case["ci"], case["di"])
    if case["method"] == "PETO":
        return peto(*tables)
    return mantel_haenszel(*tables, measure=case["measure"], correct=case["correct"])


def _id(case):
    return f"{case['dataset']}-{case['measure']}-{case.get('correct', '')}"


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=_id)
def test_matches_metafor(case):
    # rma.mh(ai, bi, ci, di, measure=..., correct=...) / rma.peto(ai, bi, ci, di)
    res = _fit(case)
    expected = case["result"]
    for r_key, attr in SCALAR_KEYS.items():
        if r_key not in expected:
            continue
        got = getattr(res, attr)
        if expected[r_key] is None:
            assert got is None, r_key
        else:
            assert got == pytest.approx(expected[r_key], rel=RTOL, abs=ATOL), r_key
    np.testing.assert_allclose(res.weights, expected["weights"], rtol=RTOL, atol=1e-12)
    ref_yi = np.array([np.nan if v is None else v for v in expected["yi"]])
    ref_vi = np.array([np.nan if v is None else v for v in expected["vi"]])
    np.testing.assert_allclose(res.yi, ref_yi, rtol=RTOL)
    np.testing.assert_allclose(res.vi, ref_vi, rtol=RTOL)


def test_sparse_tables_are_documented_in_notes():
    case = next(c for c in REFERENCE["cases"] if c["dataset"] == "sparse" and c["measure"] == "RD")
    res = _fit(case)
    assert any("add=1/2, to='only0'" in note for note in res.notes)
    assert any("add weight to the MH risk difference" in note for note in res.notes)
    # The double-zero table (study 3) carries RD weight but no per-study yi.
    assert np.isnan(res.yi[2]) and res.weights[2] > 0
    assert res.k == 5 and res.k_yi == 4 and res.q_df == 3


def test_study_order_does_not_matter():
    case = next(c for c in REFERENCE["cases"] if c["dataset"] == "bcg" and c["measure"] == "OR")
    order = np.random.default_rng(7).permutation(len(case["ai"]))
    tables = [np.array(case[key])[order] for key in ("ai", "bi", "ci", "di")]
    a, b = _fit(case), mantel_haenszel(*tables, measure="OR")
    assert b.estimate == pytest.approx(a.estimate, rel=1e-12)
    assert b.breslow_day == pytest.approx(a.breslow_day, rel=1e-10)


def test_single_table():
    res = mantel_haenszel([10], [20], [5], [25], measure="RR")
    assert res.estimate == pytest.approx(np.log((10 / 30) / (5 / 30)), rel=1e-12)
    assert res.q == 0.0 and res.q_p == 1.0 and res.i2 == 0.0
    assert any("k = 1" in note for note in res.notes)


def test_summary_frame_rows():
    case = next(c for c in REFERENCE["cases"] if c["dataset"] == "yusuf1985_table6" and c["method"] == "PETO")
    res = _fit(case)
    frame = res.summary_frame()
    assert list(frame["row_type"]) == ["study"] * res.k + ["pooled"]
    assert frame.iloc[-1]["label"] == "FE Model (Peto)"
    assert frame["weight"][:-1].sum() == pytest.approx(100.0)
    assert set(res.to_dict()) >= {"estimate", "se", "ci_lb", "ci_ub", "q", "i2"}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mantel_haenszel([0, 0], [5, 5], [1, 2], [4, 3], measure="RR"), "no events in the treated"),
        (lambda: mantel_haenszel([0, 0], [5, 5], [0, 2], [4, 3], measure="OR"), "undefined"),
        (lambda: peto([0, 0], [5, 5], [0, 0], [4, 3]), "never occurred"),
        (lambda: mantel_haenszel([1], [2], [3], [4], measure="HR"), "choose one of: RR, OR, RD"),
        (lambda: mantel_haenszel([1, 2], [2], [3], [4]), "same length"),
        (lambda: peto([-1], [2], [3], [4]), "non-negative"),
    ],
)
def test_errors(call, message):
    with pytest.raises(AnalysisError, match=message):
        call()
