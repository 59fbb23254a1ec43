"""meta_analysis: published values, invariants and defined behaviour at the edges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import AnalysisError
from analysis.engine.pooling import meta_analysis, meta_regression

_REFERENCE = json.loads((Path(__file__).parent / "reference" / "pooling.json").read_text())
BCG = _REFERENCE["datasets"]["bcg_rr"]
REFERENCE_SLOW = _REFERENCE["slow_scoring"]
#: dat.bcg publication years (metadat), for the two-moderator model of Viechtbauer (2010).
BCG_YEAR = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]


def printed(decimals: int) -> float:
    """Half a unit in the last printed decimal: the tolerance for a published value."""
    return 0.5 * 10.0**-decimals


class TestViechtbauer2010:
    """Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
    J Stat Softw 36(3):1-48. BCG vaccine data (log risk ratios, dat.bcg)."""

    def test_random_effects_model(self):
        # Section 3.3, output of rma(yi, vi, data = dat) (REML):
        # tau^2 0.3132, I^2 92.22%, H^2 12.86, Q(df = 12) = 152.2330,
        # estimate -0.7145, se 0.1798, zval -3.9744, ci -1.0669 to -0.3622.
        res = meta_analysis(BCG["yi"], BCG["vi"])
        assert res.tau2 == pytest.approx(0.3132, abs=printed(4))
        assert res.i2 == pytest.approx(92.22, abs=printed(2))
        assert res.h2 == pytest.approx(12.86, abs=printed(2))
        assert res.q == pytest.approx(152.2330, abs=printed(4))
        assert res.q_df == 12
        assert res.estimate == pytest.approx(-0.7145, abs=printed(4))
        assert res.se == pytest.approx(0.1798, abs=printed(4))
        assert res.statistic == pytest.approx(-3.9744, abs=printed(4))
        assert (res.ci_lb, res.ci_ub) == pytest.approx((-1.0669, -0.3622), abs=printed(4))

    def test_prediction_on_risk_ratio_scale(self):
        # Section 3.3, predict(res, transf = exp): pred 0.4894, ci 0.3441 to 0.6962,
        # credibility/prediction interval 0.1546 to 1.5490.
        res = meta_analysis(BCG["yi"], BCG["vi"])
        natural = np.exp([res.estimate, res.ci_lb, res.ci_ub, res.pi_lb, res.pi_ub])
        assert natural == pytest.approx([0.4894, 0.3441, 0.6962, 0.1546, 1.5490], abs=printed(4))

    def test_tau2_confidence_interval(self):
        # Section 3.3, confint(res): tau^2 0.3132, 95% CI 0.1197 to 1.1115.
        res = meta_analysis(BCG["yi"], BCG["vi"])
        assert (res.tau2_ci_lb, res.tau2_ci_ub) == pytest.approx((0.1197, 1.1115), abs=printed(4))

    def test_mixed_effects_model_with_latitude_and_year(self):
        # Section 3.4, rma(yi, vi, mods = cbind(ablat, year), data = dat):
        # tau^2 0.1108, I^2 71.98%, QE(df = 10) = 28.3251, ablat -0.0280 (se 0.0102).
        fit = meta_regression(BCG["yi"], BCG["vi"], np.column_stack([BCG["ablat"], BCG_YEAR]))
        assert fit.tau2 == pytest.approx(0.1108, abs=printed(4))
        assert fit.i2 == pytest.approx(71.98, abs=printed(2))
        assert fit.q_e == pytest.approx(28.3251, abs=printed(4))
        assert fit.q_e_df == 10
        assert fit.beta[1] == pytest.approx(-0.0280, abs=printed(4))
        assert fit.se[1] == pytest.approx(0.0102, abs=printed(4))


# ---- invariants ---------------------------------------------------------------

METHODS = ("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")
#: Iterative estimators converge to 1e-12; reordering sums changes the last bits only.
INVARIANCE_TOLERANCE = 1e-8

studies = st.lists(
    st.tuples(
        st.floats(-3, 3, allow_nan=False, allow_infinity=False),
        st.floats(0.01, 2, allow_nan=False, allow_infinity=False),
    ),
    min_size=3,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(data=studies, method=st.sampled_from(METHODS), seed=st.integers(0, 2**32 - 1))
def test_study_order_does_not_matter(data, method, seed):
    yi, vi = map(np.array, zip(*data))
    order = np.random.default_rng(seed).permutation(len(yi))
    a = meta_analysis(yi, vi, method=method).to_dict()
    b = meta_analysis(yi[order], vi[order], method=method).to_dict()
    for key in a:
        assert np.isclose(a[key], b[key], rtol=INVARIANCE_TOLERANCE, atol=INVARIANCE_TOLERANCE, equal_nan=True), key


@settings(max_examples=40, deadline=None)
@given(data=studies, method=st.sampled_from(METHODS), shift=st.floats(-5, 5))
def test_shifting_every_effect_shifts_the_estimate(data, method, shift):
    yi, vi = map(np.array, zip(*data))
    a = meta_analysis(yi, vi, method=method)
    b = meta_analysis(yi + shift, vi, method=method)
    assert b.estimate == pytest.approx(a.estimate + shift, abs=1e-7)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-6, abs=1e-9)
    assert b.se == pytest.approx(a.se, rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(value=st.floats(-3, 3), variances=st.lists(st.floats(0.01, 2), min_size=2, max_size=20),
       method=st.sampled_from(METHODS))
def test_identical_effects_give_zero_tau2(value, variances, method):
    res = meta_analysis([value] * len(variances), variances, method=method)
    # SJ multiplies its start value by Q, which is 0 only up to rounding (~1e-60).
    assert res.tau2 == pytest.approx(0.0, abs=1e-12)
    assert res.estimate == pytest.approx(value)
    assert res.i2 == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(data=studies, method=st.sampled_from(METHODS[1:]))
def test_random_effects_equals_fixed_effect_when_tau2_is_zero(data, method):
    yi, vi = map(np.array, zip(*data))
    random = meta_analysis(yi, vi, method=method)
    if random.tau2 > 0:
        return
    fixed = meta_analysis(yi, vi, method="EE")
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "q"):
        assert getattr(random, key) == pytest.approx(getattr(fixed, key), rel=1e-12, abs=1e-14)


def test_identical_effects_example_is_exercised():
    # The property above must not pass vacuously: this case reaches tau2 = 0 for REML.
    res = meta_analysis([0.2, 0.2, 0.2], [0.1, 0.2, 0.3])
    assert res.tau2 == 0.0 and "boundary" in " ".join(res.notes)


# ---- edges -------------------------------------------------------------------


def test_single_study_degrades_cleanly():
    # metafor 3.8.1, rma(0.5, 0.04): estimate 0.5, se 0.2, tau^2 0, QE 0 (p 1), I^2 0, H^2 1;
    # predict() gives a prediction interval equal to the CI. knha with k = 1 has no df,
    # so the z-test is used (metafor returns NA there).
    res = meta_analysis([0.5], [0.04], test="knha", labels=["Only"])
    assert res.k == 1
    assert res.estimate == 0.5
    assert res.se == pytest.approx(0.2)
    assert (res.ci_lb, res.ci_ub) == pytest.approx((0.5 - 1.959964 * 0.2, 0.5 + 1.959964 * 0.2), abs=1e-6)
    assert (res.pi_lb, res.pi_ub) == (res.ci_lb, res.ci_ub)
    assert res.tau2 == 0.0
    assert (res.q, res.q_p, res.i2, res.h2) == (0.0, 1.0, 0.0, 1.0)
    assert np.isnan(res.tau2_ci_lb)
    assert res.df is None
    assert any("heterogeneity cannot be assessed" in note for note in res.notes)
    assert res.weights.tolist() == [100.0]


def test_two_studies_with_hartung_knapp_has_one_degree_of_freedom():
    res = meta_analysis([0.1, 0.5], [0.02, 0.03], test="knha")
    assert res.df == 1
    assert any("k = 2" in note for note in res.notes)
    hts = meta_analysis([0.1, 0.5], [0.02, 0.03], prediction="hts")
    assert np.isnan(hts.pi_lb) and any("at least 3 studies" in note for note in hts.notes)


def test_missing_values_are_dropped_and_named():
    res = meta_analysis([0.1, np.nan, 0.3, 0.2], [0.02, 0.03, np.nan, 0.05], labels=["A", "B", "C", "D"])
    assert res.k == 2
    assert res.labels == ("A", "D")
    assert res.omitted == ("B", "C")
    assert any("B, C" in note for note in res.notes)


def test_all_missing_is_an_error():
    with pytest.raises(AnalysisError, match="nothing to pool"):
        meta_analysis([np.nan], [0.1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "XYZ"}, "method='XYZ' is not supported; choose one of: EE, DL, REML"),
        ({"test": "t"}, "test='t' is not supported; choose one of: z, knha"),
        ({"confidence_level": 95}, "confidence_level=95 must lie strictly between 0 and 1"),
        ({"prediction": "riley"}, "prediction='riley' is not supported; choose one of: metafor, hts"),
    ],
)
def test_bad_options_list_the_allowed_values(kwargs, message):
    with pytest.raises(AnalysisError, match=message.replace("(", r"\(")):
        meta_analysis([0.1, 0.2], [0.1, 0.1], **kwargs)


def test_nonpositive_variance_names_the_study():
    with pytest.raises(AnalysisError, match="study .B.: yi=0.2, vi=0; sampling variances must be positive"):
        meta_analysis([0.1, 0.2], [0.1, 0.0], labels=["A", "B"])


def test_fe_is_an_alias_of_ee():
    a = meta_analysis(BCG["yi"], BCG["vi"], method="FE")
    b = meta_analysis(BCG["yi"], BCG["vi"], method="EE")
    assert a.to_dict() == pytest.approx(b.to_dict(), nan_ok=True)
    assert a.method == "EE"


def test_result_is_frozen_and_dict_has_the_contract_keys():
    res = meta_analysis(BCG["yi"], BCG["vi"])
    with pytest.raises(AttributeError):
        res.estimate = 0  # type: ignore[misc]
    assert list(res.to_dict()) == [
        "k", "estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "tau2_ci_lb", "tau2_ci_ub",
        "i2", "h2", "q", "q_p", "pi_lb", "pi_ub",
    ]


def test_summary_frame_rows_match_the_fit():
    res = meta_analysis(BCG["yi"], BCG["vi"], labels=[f"Trial {i}" for i in range(13)])
    frame = res.summary_frame()
    assert list(frame["row_type"]) == ["study"] * 13 + ["pooled"]
    assert frame["weight"].iloc[:13].sum() == pytest.approx(100)
    pooled = frame.iloc[-1]
    assert pooled["label"] == "RE Model (REML)"
    assert (pooled["estimate"], pooled["ci_lb"], pooled["ci_ub"], pooled["pi_lb"]) == (
        res.estimate, res.ci_lb, res.ci_ub, res.pi_lb)
    first = frame.iloc[0]
    assert first["ci_ub"] - first["estimate"] == pytest.approx(1.959963985 * np.sqrt(BCG["vi"][0]))


def test_subset_refits_with_the_same_options():
    res = meta_analysis(BCG["yi"], BCG["vi"], method="PM", test="knha")
    sub = res.subset([0, 2, 4, 6])
    direct = meta_analysis(np.take(BCG["yi"], [0, 2, 4, 6]), np.take(BCG["vi"], [0, 2, 4, 6]), method="PM", test="knha")
    assert sub.to_dict() == pytest.approx(direct.to_dict())
    assert sub.labels == ("Study 1", "Study 3", "Study 5", "Study 7")


#: Simulated data (benchmarks/bench_pooling.py, k = 13) on which metafor 3.8.1's Fisher
#: scoring oscillates and stops with "Fisher scoring algorithm did not converge".
#: rma(yi, vi, control=list(stepadj=0.5, threshold=1e-12)) converges; its values are pinned
#: in tests/reference/pooling.json as "oscillating_reml".


def test_where_metafors_fisher_scoring_oscillates_the_safeguarded_newton_converges():
    data = _REFERENCE["datasets"]["oscillating"]
    expected = _REFERENCE["oscillating_reml"]
    res = meta_analysis(data["yi"], data["vi"])
    assert res.iterations > 0
    assert res.tau2 == pytest.approx(expected["tau2"], rel=1e-6)
    assert res.estimate == pytest.approx(expected["estimate"], rel=1e-6)


@pytest.mark.parametrize("fit", REFERENCE_SLOW["fits"], ids=lambda f: f["method"])
def test_slowly_oscillating_scoring_matches_metafor(fit):
    res = meta_analysis(REFERENCE_SLOW["yi"], REFERENCE_SLOW["vi"], method=fit["method"])
    assert res.tau2 == pytest.approx(fit["tau2"], rel=1e-6)
    assert res.estimate == pytest.approx(fit["estimate"], rel=1e-6)
    assert res.se == pytest.approx(fit["se"], rel=1e-6)


def test_non_convergence_is_a_clear_error(monkeypatch):
    import analysis.engine._tau2 as tau2_module

    monkeypatch.setattr(tau2_module, "NEWTON_ITERATIONS", 1)
    with pytest.raises(AnalysisError, match="REML estimate of tau² did not converge.*try method='PM'"):
        meta_analysis(BCG["yi"], BCG["vi"])


def test_large_k_matches_the_closed_form_dersimonian_laird():
    # Above 10,000 studies the weighted sums are accumulated block by block
    # (analysis.engine._weighted_fit.WeightedSums); check that path, with a short last block, against
    # DerSimonian & Laird's closed form written out here with plain numpy.
    rng = np.random.default_rng(7)
    vi = rng.uniform(0.01, 0.5, 20_000)
    yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    w = 1 / vi
    q = np.sum(w * (yi - np.sum(w * yi) / w.sum()) ** 2)
    tau2 = (q - (len(yi) - 1)) / (w.sum() - np.sum(w**2) / w.sum())
    w_star = 1 / (vi + tau2)
    res = meta_analysis(yi, vi, method="DL")
    assert res.q == pytest.approx(q, rel=1e-10)
    assert res.tau2 == pytest.approx(tau2, rel=1e-10)
    assert res.estimate == pytest.approx(np.sum(w_star * yi) / w_star.sum(), rel=1e-10)
    assert res.se == pytest.approx(1 / np.sqrt(w_star.sum()), rel=1e-10)


def _reml_score(yi, vi, tau2):
    """REML estimating equation, Y'PPY - tr(P), written out with plain numpy."""
    w = 1 / (vi + tau2)
    mu = np.sum(w * yi) / w.sum()
    return np.sum(w**2 * (yi - mu) ** 2) - (w.sum() - np.sum(w**2) / w.sum())


def _generalised_q(yi, vi, tau2):
    w = 1 / (vi + tau2)
    return np.sum(w * (yi - np.sum(w * yi) / w.sum()) ** 2)


@pytest.mark.parametrize("k, offset", [(25_003, 0.0), (25_003, 1000.0), (40, 1000.0)])
def test_reml_and_q_profile_roots_match_plain_numpy_root_finding(k, offset):
    # Blocks of 10,000 with a short last one (k = 25,003), and effects far from zero,
    # where sums of uncentred powers would lose digits: the REML estimate and the
    # Q-profile bounds must be the roots that scipy's brentq finds on the textbook formulas.
    from scipy import optimize, stats

    rng = np.random.default_rng(11)
    vi = rng.uniform(0.01, 0.5, k)
    yi = offset + rng.normal(0.3, np.sqrt(vi + 0.05))
    res = meta_analysis(yi, vi, method="REML")
    tau2 = optimize.brentq(lambda t: _reml_score(yi, vi, t), 1e-6, 10, xtol=1e-14, rtol=1e-14)
    assert res.tau2 == pytest.approx(tau2, rel=1e-9)
    w = 1 / (vi + tau2)
    assert res.estimate == pytest.approx(np.sum(w * yi) / w.sum(), rel=1e-12)
    for bound, quantile in ((res.tau2_ci_lb, 0.975), (res.tau2_ci_ub, 0.025)):
        target = stats.chi2.ppf(quantile, k - 1)
        if _generalised_q(yi, vi, 0.0) <= target:  # Q never reaches the target: bound at 0
            assert bound == 0.0
            continue
        root = optimize.brentq(lambda t, q=target: _generalised_q(yi, vi, t) - q, 0, 10, xtol=1e-14, rtol=1e-14)
        assert bound == pytest.approx(root, rel=1e-9)


@pytest.mark.parametrize("yi, vi", [([0.0, np.inf], [1.0, 1.0]), ([0.0, 2.0], [np.inf, 1.0]), ([-np.inf, np.inf], [1.0, 1.0])])
def test_non_finite_input_is_an_error_without_numpy_warnings(yi, vi):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AnalysisError, match="must be finite"):
            meta_analysis(yi, vi)


def test_a_moved_fit_agrees_with_the_fit_it_stands_for():
    # NormalModel.move replaces a pass over the studies by a first-order update when the
    # step changes no weight by more than LINEAR_STEP; the update must match a real fit.
    from analysis.engine._weighted_fit import (
        LINEAR_STEP,
        InterceptOnlyFit,
        NormalModel,
        intercept_design,
    )

    rng = np.random.default_rng(3)
    vi = rng.uniform(0.01, 0.5, 200)
    yi = rng.normal(0.2, np.sqrt(vi + 0.1))
    X = intercept_design(200)
    model = NormalModel(yi, vi, X)
    tau2 = 0.1
    step = 0.9 * LINEAR_STEP * (vi.min() + tau2)
    moved = model.fit(model.move(tau2, step))
    exact = InterceptOnlyFit(yi, vi, X, tau2 + step, NormalModel(yi, vi, X).sums)
    for name in ("sum_w", "sum_w2", "q", "ypp_y"):
        assert getattr(moved, name) == pytest.approx(getattr(exact, name), rel=1e-11), name
    assert moved.beta[0] == pytest.approx(exact.beta[0], rel=1e-12)
    assert model.move(tau2, 2 * LINEAR_STEP * (vi.min() + tau2)) is None  # too far for a linear update


def test_evaluations_per_analysis_stay_few():
    # How many weighted fits (passes over the studies) one REML analysis with its Q-profile
    # CI evaluates, on sets simulated as the benchmark's are: the README's speed rests on this.
    import statistics

    import analysis.engine._tau2 as tau2_module

    counts = []
    original = tau2_module.NormalModel.fit

    def counting_fit(model, tau2):
        if tau2 not in model._fits:
            counts[-1] += 1
        return original(model, tau2)

    rng = np.random.default_rng(20261122)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tau2_module.NormalModel, "fit", counting_fit)
        for k in (13, 100, 1000) * 20:
            vi = rng.uniform(0.01, 0.5, k)
            yi = rng.normal(-0.4, np.sqrt(vi + rng.choice([0.02, 0.1, 0.3])))
            counts.append(0)
            meta_analysis(yi, vi).to_dict()
    assert statistics.median(counts) <= 8
    assert max(counts) <= 12
