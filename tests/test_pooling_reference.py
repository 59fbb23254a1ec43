"""meta_analysis / meta_regression against metafor (pinned in tests/reference/pooling.json).

Regenerate the JSON with ``Rscript tests/reference/pooling.R``; it records the
metafor version and every R call.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.engine.pooling import meta_analysis, meta_regression

REFERENCE = json.loads((Path(__file__).parent / "reference" / "pooling.json").read_text())
DATASETS = REFERENCE["datasets"]

#: Closed-form quantities and iterative ones solved to 1e-12 on both sides
#: (the R script tightens metafor's convergence controls) agree far below this.
RELATIVE_TOLERANCE = 1e-6
#: Quantities that are exactly 0 in metafor (tau² on the boundary) are compared absolutely.
ABSOLUTE_TOLERANCE = 1e-9

FIT_KEYS = (
    "k", "estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "tau2_ci_lb", "tau2_ci_ub",
    "i2", "h2", "q", "q_p", "pi_lb", "pi_ub",
)


def _close(actual, expected):
    if expected is None:
        return actual is None or np.isnan(actual)
    return np.allclose(actual, expected, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)


def _fit_id(fit):
    return f"{fit['dataset']}-{fit['method']}-{fit['test']}"


@pytest.mark.parametrize("fit", REFERENCE["fits"], ids=_fit_id)
def test_meta_analysis_matches_metafor(fit):
    data = DATASETS[fit["dataset"]]
    result = meta_analysis(data["yi"], data["vi"], method=fit["method"], test=fit["test"])
    got = result.to_dict()
    mismatches = {key: (got[key], fit[key]) for key in FIT_KEYS if not _close(got[key], fit[key])}
    assert not mismatches, mismatches
    assert _close(result.statistic, fit["statistic"])
    np.testing.assert_allclose(result.weights, fit["weights"], rtol=RELATIVE_TOLERANCE)


@pytest.mark.parametrize(
    "fit", [f for f in REFERENCE["fits"] if f["method"] != "EE"], ids=_fit_id
)
def test_hts_prediction_interval(fit):
    data = DATASETS[fit["dataset"]]
    result = meta_analysis(
        data["yi"], data["vi"], method=fit["method"], test=fit["test"], prediction="hts"
    )
    assert _close(result.pi_lb, fit["hts_pi_lb"])
    assert _close(result.pi_ub, fit["hts_pi_ub"])


@pytest.mark.parametrize(
    "reg", REFERENCE["regressions"], ids=lambda r: f"{r['dataset']}-{r['method']}-{r['test']}"
)
def test_meta_regression_matches_metafor(reg):
    data = DATASETS[reg["dataset"]]
    result = meta_regression(
        data["yi"], data["vi"], data[reg["moderator"]], method=reg["method"], test=reg["test"]
    )
    for key in ("beta", "se", "pval", "ci_lb", "ci_ub", "hat", "weights"):
        np.testing.assert_allclose(getattr(result, key), reg[key], rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE, err_msg=key)
    for key in ("tau2", "i2", "h2", "q_e", "q_e_p", "q_m", "q_m_p"):
        assert _close(getattr(result, key), reg[key]), (key, getattr(result, key), reg[key])


def test_reference_covers_every_method_and_test():
    combos = {(f["method"], f["test"]) for f in REFERENCE["fits"]}
    assert combos == {(m, t) for m in ("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB") for t in ("z", "knha")}
    assert REFERENCE["metafor_version"]
