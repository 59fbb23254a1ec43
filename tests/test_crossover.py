"""Crossover trials: effect sizes for a stated correlation and the sweep over it.

Reference values: the "crossover" section of tests/reference/fixed_effects.json
(escalc(measure="MC"/"SMCR", ..., ri=r) + rma(method="REML") + predict(),
metafor 3.8-1), written by tests/reference/fixed_effects.R.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis import AnalysisError
from analysis.engine.crossover import (
    DEFAULT_CORRELATIONS,
    PARALLEL_NOTE,
    correlation_sweep,
    crossover_binary_effect_sizes,
    crossover_effect_sizes,
)
from analysis.engine.pooling import meta_analysis

REFERENCE = json.loads((Path(__file__).parent / "reference" / "fixed_effects.json").read_text())["crossover"]
DATA = REFERENCE["data"]
ARGS = (DATA["m1i"], DATA["sd1i"], DATA["m2i"], DATA["sd2i"], DATA["ni"])

#: escalc values are closed form; REML is solved to 1e-12 in R and in analysis.engine.pooling.
RTOL = 1e-6
#: tau² is 0 (boundary) for some r: compared absolutely.
ATOL = 1e-10

MEASURE = {"MC": "MD", "SMCR": "SMD"}


@pytest.mark.parametrize("measure", ["MD", "SMD"])
def test_sweep_matches_metafor(measure):
    expected = [s for s in REFERENCE["sweep"] if MEASURE[s["measure"]] == measure]
    sweep = correlation_sweep(*ARGS, measure=measure)
    assert list(sweep["correlation"]) == list(DEFAULT_CORRELATIONS) == [s["ri"] for s in expected]
    for (_, row), ref in zip(sweep.iterrows(), expected):
        for key in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "i2", "pi_lb", "pi_ub"):
            assert row[key] == pytest.approx(ref[key], rel=RTOL, abs=ATOL), (ref["ri"], key)


@pytest.mark.parametrize("ref", REFERENCE["sweep"], ids=lambda s: f"{s['measure']}-{s['ri']}")
def test_effect_sizes_match_escalc(ref):
    out = crossover_effect_sizes(*ARGS, correlation=ref["ri"], measure=MEASURE[ref["measure"]])
    np.testing.assert_allclose(out["yi"], ref["yi"], rtol=RTOL)
    np.testing.assert_allclose(out["vi"], ref["vi"], rtol=RTOL)
    assert out.attrs["correlation"] == ref["ri"]


def test_md_variance_formula():
    # vi = (sd1^2 + sd2^2 - 2 r sd1 sd2) / n, written out for one trial.
    out = crossover_effect_sizes([38], [20], [55], [22], [10], correlation=0.6)
    assert out["vi"][0] == pytest.approx((20**2 + 22**2 - 2 * 0.6 * 20 * 22) / 10, rel=1e-12)
    assert out["yi"][0] == -17


def test_higher_correlation_narrows_the_interval():
    sweep = correlation_sweep(*ARGS)
    width = (sweep["ci_ub"] - sweep["ci_lb"]).to_numpy()
    assert np.all(np.diff(width) < 0)


def test_other_studies_are_pooled_unchanged():
    other_yi, other_vi = [-10.0], [30.0]
    sweep = correlation_sweep(*ARGS, correlations=[0.5], other_yi=other_yi, other_vi=other_vi)
    es = crossover_effect_sizes(*ARGS, correlation=0.5)
    direct = meta_analysis(np.append(es["yi"], other_yi), np.append(es["vi"], other_vi))
    assert sweep["k"][0] == 5
    assert sweep["estimate"][0] == pytest.approx(direct.estimate, rel=1e-12)


def test_binary_crossover_is_analysed_as_parallel_and_says_so():
    out = crossover_binary_effect_sizes([6, 0], [10, 12], [2, 3], [10, 12], measure="RR")
    assert out["yi"][0] == pytest.approx(np.log(6 / 2), rel=1e-12)
    assert out["vi"][0] == pytest.approx(1 / 6 - 1 / 10 + 1 / 2 - 1 / 10, rel=1e-12)
    assert all(PARALLEL_NOTE in note for note in out["es_note"])
    assert "add 0.5" in out["es_correction"][1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"correlations": [1.0]}, "strictly between -1 and 1"),
        ({"correlations": []}, "at least one"),
        ({"measure": "SMCC"}, "choose one of: MD, SMD"),
        ({"other_yi": [1.0]}, "both other_yi and other_vi"),
    ],
)
def test_errors(kwargs, message):
    with pytest.raises(AnalysisError, match=message):
        correlation_sweep(*ARGS, **kwargs)
