"""Pooled response rates: single proportions across studies.

``pool_proportions`` fits the binomial-normal random-effects model (``GLMM``,
metafor's ``rma.glmm(measure="PLO")``, which fits it with
``lme4::glmer(..., nAGQ=7)``) or an inverse-variance random-effects model on
a transformed scale (``PLO`` logit, ``PFT`` Freeman-Tukey double arcsine,
``PAS`` arcsine, ``PR`` raw proportion; metafor's ``escalc`` + ``rma.uni``).
The result stays on the model scale; the pooled proportion, its CI and the
prediction interval are back-transformed explicitly and stored beside it.

The GLMM
--------
``x_i ~ Binomial(n_i, expit(mu + tau u_i))``, ``u_i ~ N(0, 1)``; ``mu`` and
``theta = tau`` are estimated by maximum likelihood. The marginal likelihood
of each study is evaluated as lme4 does for ``nAGQ > 1``: Gauss-Hermite nodes
for the standard normal, centred at the conditional mode ``u_hat`` of the
integrand and scaled by ``1 / sqrt(c)``, where ``c = 1 + tau^2 n p (1 - p)``
is its curvature at the mode (for the canonical logit link the IRLS weight is
the observed information, so lme4's Cholesky factor has ``L_ii^2 = c``). The
standard error of ``mu`` is the ``mu`` element of ``2 H^-1``, ``H`` the
Hessian of the deviance over ``(theta, mu)``, as lme4's ``vcov.merMod`` uses
when its finite-difference Hessian is available (the default). The deviance is
an even function of ``theta``, so ``theta`` is optimised without a bound and
reported as ``|theta|``; central differences are then valid at ``theta = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from analysis.engine._distributions import chi2_upper_tail, normal_two_sided_critical, normal_two_sided_p
from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._glmm import (
    DEFAULT_QUADRATURE_POINTS,
    TAU2_BOUNDARY,
    TAU2_LARGE,
    binomial_loglik_sum,
    conditional_modes,
    fit_binomial_normal,
    fixed_effect_logit,
)
from analysis.engine._summary import summary_frame
from analysis.engine.contract import HeterogeneityTest, NaturalScale, PooledResult
from analysis.engine._tau2 import TAU2_METHODS
from analysis.engine._tau_priors import DEFAULT_TAU_PRIOR_SCALE
from analysis.engine.pooling import MetaAnalysisResult, meta_analysis
from analysis.engine.bayesian_binomial import BayesianProportionResult, bayesian_proportions
from analysis.engine.proportion_scales import (
    INTERVALS,
    back_transform_proportion,
    check_counts,
    escalc_proportions,
    study_intervals,
)

METHODS = ("GLMM", "PLO", "PFT", "PAS", "PR", "BAYES")
TESTS = ("z", "knha")


#: The model scale of each inverse-variance method, in words.
_MODEL_SCALE_WORDS = {
    "PLO": "logit scale", "PFT": "Freeman-Tukey double-arcsine scale", "PAS": "arcsine scale",
    "PR": "raw proportion scale",
}

#: Keys of ``ProportionResult.to_dict()``: model scale, then proportion scale (``prop*``).
PROPORTION_DICT_KEYS = (
    "k", "method", "measure", "estimate", "se", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "tau2",
    "i2", "prop", "prop_ci_lb", "prop_ci_ub", "prop_pi_lb", "prop_pi_ub",
)


@dataclass(frozen=True)
class ProportionResult(PooledResult):
    """A pooled proportion (response rate) across studies; honours the result contract
    (:mod:`analysis.engine.contract`).

    Attributes
    ----------
    events, n : ndarray
        Events (responders) and sample sizes of the studies, as given.
    labels : tuple of str
        Study labels.
    method : str
        ``"GLMM"``, ``"PLO"``, ``"PFT"``, ``"PAS"`` or ``"PR"`` (the model scale:
        logit for GLMM and PLO, arcsine / double arcsine, raw proportion).
    tau_method : str or None
        tau² estimator of the inverse-variance models (None for GLMM, which is
        fitted by maximum likelihood).
    test : str
        ``"z"`` (or ``"knha"`` for the inverse-variance models).
    confidence_level : float
        For every interval.
    interval : str
        Per-study interval: ``"clopper-pearson"`` or ``"wilson"``.
    k : int
        Number of studies.
    estimate, se, statistic, pval, ci_lb, ci_ub : float
        Pooled value on the model scale, its standard error, test statistic,
        two-sided p-value and confidence interval.
    tau2 : float
        Between-study variance on the model scale.
    i2, h2 : float
        I² (percent) and H². For the GLMM, as metafor's ``rma.glmm``: from tau²
        and the "typical" within-study variance of the escalc logits
        (``(k - 1) / (sum w - sum w^2 / sum w)``, ``w = 1 / vi``).
    q, q_p : float or None
        Heterogeneity test. Inverse-variance models: Cochran's Q. GLMM: the
        Wald test of the saturated model (metafor's ``QE.Wld``); None when a
        study has 0 or n events (the saturated fit diverges and R's value is
        an artefact of glm's stopping rule).
    q_lrt, q_lrt_p : float or None
        GLMM only: likelihood-ratio test of the saturated against the
        fixed-effect logistic model (metafor's ``QE.LRT``).
    pi_lb, pi_ub : float
        Prediction interval on the model scale (metafor's ``predict()``:
        estimate ± crit x sqrt(se² + tau²)).
    prop, prop_ci_lb, prop_ci_ub, prop_pi_lb, prop_pi_ub : float
        Pooled proportion, its CI and the prediction interval, back-transformed
        (inverse logit; sin²; Freeman-Tukey inverse with the harmonic-mean n;
        none for PR).
    yi, vi : ndarray
        escalc values of the studies on the model scale (for GLMM: the PLO
        logits, used only for I² and the per-study rows).
    corrected : ndarray of bool
        Studies whose yi/vi used the 1/2 correction (PLO, PR, and GLMM's yi).
    study_ci_lb, study_ci_ub : ndarray
        Per-study interval for the observed proportion ``events / n``.
    weights : ndarray or None
        Percentage weights of the inverse-variance model; None for the GLMM
        (metafor defines no weights for ``rma.glmm``).
    loglik : float or None
        GLMM only: the log-likelihood metafor reports (``fit.stats["ll", "ML"]``),
        which is lme4's ``deviance()``-based conditional log-likelihood at the
        conditional modes: ``sum log Binom(x_i | n_i, expit(mu + tau u_hat_i))``.
    marginal_loglik : float or None
        GLMM only: the maximised marginal log-likelihood (adaptive quadrature).
    quadrature_points : int or None
        GLMM only: number of Gauss-Hermite nodes (lme4's ``nAGQ``).
    pooled : MetaAnalysisResult or None
        The underlying inverse-variance fit (None for the GLMM).
    notes : tuple of str
        Zero-cell handling, boundary estimates and other remarks.
    """

    events: np.ndarray = field(repr=False)
    n: np.ndarray = field(repr=False)
    labels: tuple[str, ...] = field(repr=False)
    method: str
    tau_method: str | None
    test: str
    confidence_level: float
    interval: str
    k: int
    estimate: float
    se: float
    statistic: float
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    i2: float
    h2: float
    q: float | None
    q_p: float | None
    q_lrt: float | None
    q_lrt_p: float | None
    pi_lb: float
    pi_ub: float
    prop: float
    prop_ci_lb: float
    prop_ci_ub: float
    prop_pi_lb: float
    prop_pi_ub: float
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    corrected: np.ndarray = field(repr=False)
    study_ci_lb: np.ndarray = field(repr=False)
    study_ci_ub: np.ndarray = field(repr=False)
    weights: np.ndarray | None = field(repr=False, default=None)
    loglik: float | None = None
    marginal_loglik: float | None = None
    quadrature_points: int | None = None
    pooled: MetaAnalysisResult | None = field(repr=False, default=None)
    notes: tuple[str, ...] = ()

    @property
    def measure(self) -> str:
        """metafor measure code of the model scale (``"PLO"`` for the GLMM, whose scale is the logit)."""
        return "PLO" if self.method == "GLMM" else self.method

    def fit_options(self) -> dict[str, object]:
        """Keyword arguments of :func:`pool_proportions` that refit with the same options."""
        return {
            "method": self.method,
            "confidence_level": self.confidence_level,
            "interval": self.interval,
            "tau_method": self.tau_method or "REML",
            "test": self.test,
            "quadrature_points": self.quadrature_points or DEFAULT_QUADRATURE_POINTS,
        }

    def subset(self, indices) -> ProportionResult:
        """Refit on the studies at positions ``indices`` with the same options."""
        indices = np.asarray(indices)
        return pool_proportions(
            self.events[indices], self.n[indices],
            labels=[self.labels[i] for i in np.arange(self.k)[indices]], **self.fit_options(),
        )

    @property
    def model_label(self) -> str:
        """Pooled-row label: ``"RE Model (GLMM)"`` or ``"RE Model (REML, PLO)"``."""
        if self.method == "GLMM":
            return "RE Model (GLMM)"
        if self.tau_method == "EE":
            return f"EE Model ({self.method})"
        return f"RE Model ({self.tau_method}, {self.method})"

    summary_frame_scale = "natural"

    @property
    def random_effects(self) -> bool:
        """The GLMM and the inverse-variance models other than EE are random-effects models."""
        return self.method == "GLMM" or self.tau_method != "EE"

    @property
    def tau2_at_boundary(self) -> bool:
        """tau² estimated at 0 (the GLMM: below :data:`TAU2_BOUNDARY`)."""
        if self.pooled is not None:
            return self.pooled.tau2_at_boundary
        return self.k >= 2 and self.tau2 < TAU2_BOUNDARY

    @property
    def model_description(self) -> str:
        """E.g. ``"binomial-normal random-effects model (GLMM)"``, ``"random-effects model on the logit scale (REML)"``."""
        if self.method == "GLMM":
            return "binomial-normal random-effects model (GLMM)"
        kind = "random-effects" if self.random_effects else "equal-effects"
        words = f"{kind} model on the {_MODEL_SCALE_WORDS[self.method]}"
        return words + (f" ({self.tau_method})" if self.random_effects else "")

    @property
    def participants(self) -> int:
        """Patients in the pooled samples (the sum of ``n``)."""
        return int(np.sum(self.n))

    @property
    def heterogeneity_test(self) -> HeterogeneityTest | None:
        """The GLMM's likelihood-ratio test (metafor's ``QE.LRT``); Cochran's Q otherwise."""
        if self.method == "GLMM":
            return HeterogeneityTest("LRT", "likelihood-ratio test", float(self.q_lrt), float(self.k - 1),
                                     float(self.q_lrt_p))
        return super().heterogeneity_test

    @property
    def q_df(self) -> int:
        """Degrees of freedom of the heterogeneity tests, k - 1."""
        return self.k - 1

    def natural(self) -> NaturalScale:
        """The pooled proportion, its CI and prediction interval (the ``prop*`` fields)."""
        pi = ((self.prop_pi_lb, self.prop_pi_ub) if self.has_prediction_interval
              else (float("nan"), float("nan")))
        return NaturalScale(self.measure, "Proportion", self.prop, self.prop_ci_lb, self.prop_ci_ub,
                            *pi, None, True)

    def to_dict(self) -> dict[str, object]:
        """Headline numbers: keys in :data:`PROPORTION_DICT_KEYS`.

        Keys starting with ``prop`` are on the proportion scale; ``estimate``,
        ``se``, ``ci_lb``, ``ci_ub``, ``pi_lb``, ``pi_ub`` and ``tau2`` on the
        model's scale (``measure``: logit for the GLMM and PLO).
        """
        return {key: getattr(self, key) for key in PROPORTION_DICT_KEYS}

    def summary_frame(self) -> pd.DataFrame:
        """One row per study then the pooled row, on the proportion scale.

        Columns match ``MetaAnalysisResult.summary_frame()`` (``label,
        row_type, estimate, se, ci_lb, ci_ub, weight, pi_lb, pi_ub``) plus
        ``events`` and ``n``. ``estimate`` is the observed proportion with the
        per-study interval of ``interval`` (study rows) or the pooled
        proportion (pooled row); ``se`` stays on the model scale (sqrt(vi),
        and the pooled SE) because a proportion-scale SE is not what the
        intervals are built from. ``weight`` is NaN for the GLMM, which has no
        study weights.
        """
        weights = self.weights if self.weights is not None else np.full(self.k, np.nan)
        natural = self.natural()
        return summary_frame(
            {"label": list(self.labels), "estimate": self.events / self.n, "se": np.sqrt(self.vi),
             "ci_lb": self.study_ci_lb, "ci_ub": self.study_ci_ub, "weight": weights,
             "events": self.events, "n": self.n},
            {"label": self.model_label, "estimate": self.prop, "se": self.se,
             "ci_lb": self.prop_ci_lb, "ci_ub": self.prop_ci_ub,
             "weight": 100.0 if self.weights is not None else np.nan,
             "pi_lb": natural.pi_lb, "pi_ub": natural.pi_ub,
             "events": int(self.events.sum()), "n": int(self.n.sum())},
        )


def pool_proportions(
    events,
    n,
    method: str = "GLMM",
    confidence_level: float = 0.95,
    *,
    labels=None,
    interval: str = "clopper-pearson",
    tau_method: str = "REML",
    test: str = "z",
    quadrature_points: int = DEFAULT_QUADRATURE_POINTS,
    tau_prior: str = "half_normal",
    tau_prior_scale: float | None = DEFAULT_TAU_PRIOR_SCALE,
    mu_prior=None,
) -> ProportionResult | BayesianProportionResult:
    """Pool single proportions (e.g. response rates in ketamine arms).

    Parameters
    ----------
    events, n : array-like of int
        Events (responders) and sample size of each study.
    method : {"GLMM", "PLO", "PFT", "PAS", "PR", "BAYES"}
        ``GLMM``: binomial-normal model by maximum likelihood with adaptive
        Gauss-Hermite quadrature (metafor's ``rma.glmm(measure="PLO")``).
        ``BAYES``: the same model with priors, its posterior by numerical
        integration (:func:`analysis.engine.bayesian_binomial.bayesian_proportions`, whose
        result honours the same contract; ``tau_prior``, ``tau_prior_scale`` and
        ``mu_prior`` apply to it only).
        Otherwise an inverse-variance random-effects model on the logit
        (``PLO``), Freeman-Tukey double-arcsine (``PFT``), arcsine (``PAS``) or
        raw (``PR``) scale (``escalc`` + ``rma``).
    confidence_level : float
        For the CI, the prediction interval and the per-study intervals.
    labels : sequence of str, optional
        Study labels (default ``"Study 1"``, ...).
    interval : {"clopper-pearson", "wilson"}
        Per-study interval for the observed proportions.
    tau_method : str
        tau² estimator of the inverse-variance models (metafor's names,
        default REML); ignored by the GLMM.
    test : {"z", "knha"}
        Inference for the inverse-variance models; the GLMM uses ``z`` (as
        ``rma.glmm``'s default).
    quadrature_points : int
        GLMM only: Gauss-Hermite nodes (lme4's ``nAGQ``; default 7 as
        ``rma.glmm``; 1 gives the Laplace approximation).

    Returns
    -------
    ProportionResult or BayesianProportionResult
        ``BayesianProportionResult`` for ``method="BAYES"``, ``ProportionResult`` otherwise;
        both honour the result contract (``analysis.engine.contract``): see their attributes;
        ``to_dict()`` and ``summary_frame()`` summarise them.

    Notes
    -----
    Studies with 0 or n events need no correction in the GLMM (the binomial
    likelihood is defined). For ``PLO`` and ``PR``, 1/2 is added to events and
    non-events of those studies only (escalc's ``add=1/2, to="only0"``); the
    GLMM's I² uses the same corrected logits, as metafor's. Both are recorded
    in ``notes``. ``PFT`` back-transforms with the harmonic mean of ``n``
    (metafor's ``transf.ipft.hm``).

    References
    ----------
    Stijnen T, Hamza TH, Ozdemir P (2010). Random effects meta-analysis of
    event outcome in the framework of the generalized linear mixed model.
    Stat Med 29:3046-3067.
    Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine
    transformation. Am Stat 32(4):138.

    Examples
    --------
    >>> res = pool_proportions([16, 10, 4, 43], [17, 12, 8, 58])
    >>> print(f"{res.prop:.3f} [{res.prop_ci_lb:.3f}, {res.prop_ci_ub:.3f}]")
    0.768 [0.673, 0.842]
    """
    check_option("method", method, METHODS)
    if method == "BAYES":
        return bayesian_proportions(events, n, tau_prior=tau_prior, tau_prior_scale=tau_prior_scale,
                                    mu_prior=mu_prior, confidence_level=confidence_level, labels=labels)
    check_option("interval", interval, INTERVALS)
    check_option("test", test, TESTS)
    if tau_method == "FE":
        tau_method = "EE"
    check_option("tau_method", tau_method, TAU2_METHODS)
    if not 0 < confidence_level < 1:
        raise AnalysisError("confidence_level must lie strictly between 0 and 1 (e.g. 0.95).")
    common, notes = _study_inputs(events, n, labels, method, confidence_level, interval)
    if method == "GLMM":
        return _glmm_proportions(common, notes, test, quadrature_points)
    return _inverse_variance_proportions(common, notes, tau_method, test)


def _study_inputs(events, n, labels, method, confidence_level, interval) -> tuple[dict, list[str]]:
    """The per-study fields every frequentist model shares, and the zero-cell note if any."""
    events, n, labels = check_counts(events, n, labels)
    model_scale = "PLO" if method == "GLMM" else method
    yi, vi, corrected = escalc_proportions(events, n, model_scale)
    notes: list[str] = []
    if np.any(corrected):
        which = ", ".join(label for label, c in zip(labels, corrected) if c)
        if method == "GLMM":
            notes.append(
                f"Studies with 0 or all events ({which}) enter the GLMM uncorrected; "
                "their logits for I² use 1/2 added to events and non-events (escalc's to='only0')."
            )
        else:
            notes.append(
                f"1/2 added to events and non-events of studies with 0 or all events ({which}), "
                "as escalc's add=1/2, to='only0'."
            )
    study_lb, study_ub = study_intervals(events, n, confidence_level, interval)
    common = dict(
        events=events, n=n, labels=labels, method=method, confidence_level=confidence_level,
        interval=interval, k=events.size, yi=yi, vi=vi, corrected=corrected,
        study_ci_lb=study_lb, study_ci_ub=study_ub,
    )
    return common, notes


def _inverse_variance_proportions(common: dict, notes: list[str], tau_method: str, test: str) -> ProportionResult:
    """escalc + rma on the logit, Freeman-Tukey, arcsine or raw scale, back-transformed."""
    method, n = common["method"], common["n"]
    fit = meta_analysis(common["yi"], common["vi"], method=tau_method, test=test,
                        confidence_level=common["confidence_level"], labels=common["labels"], measure=method)
    notes.extend(fit.notes)
    n_harmonic = float(1.0 / np.mean(1.0 / n))
    if method == "PFT":
        notes.append(f"Back-transformed with the harmonic mean n = {n_harmonic:.6g} (transf.ipft.hm).")
    if method == "PR" and not (0 <= fit.pi_lb and fit.pi_ub <= 1):
        notes.append("On the raw-proportion scale the prediction interval extends beyond [0, 1].")
    back = back_transform_proportion([fit.estimate, fit.ci_lb, fit.ci_ub, fit.pi_lb, fit.pi_ub], method, n_harmonic)
    return ProportionResult(
        **common, tau_method=fit.method, test=test,
        estimate=fit.estimate, se=fit.se, statistic=fit.statistic, pval=fit.pval,
        ci_lb=fit.ci_lb, ci_ub=fit.ci_ub, tau2=fit.tau2, i2=fit.i2, h2=fit.h2,
        q=fit.q, q_p=fit.q_p, q_lrt=None, q_lrt_p=None,
        pi_lb=fit.pi_lb, pi_ub=fit.pi_ub,
        prop=float(back[0]), prop_ci_lb=float(back[1]), prop_ci_ub=float(back[2]),
        prop_pi_lb=float(back[3]), prop_pi_ub=float(back[4]),
        weights=fit.weights, pooled=fit, notes=tuple(notes),
    )


def _glmm_proportions(common: dict, notes: list[str], test: str, quadrature_points: int) -> ProportionResult:
    """The binomial-normal model by maximum likelihood (rma.glmm, measure="PLO")."""
    events, n, k = common["events"], common["n"], common["k"]
    if test != "z":
        raise AnalysisError("The GLMM is fitted with test='z' (rma.glmm's default); use 'z'.")
    if quadrature_points < 1 or int(quadrature_points) != quadrature_points:
        raise AnalysisError("quadrature_points must be a positive whole number (lme4's nAGQ).")
    if k == 1:
        raise AnalysisError(
            "The GLMM needs at least two studies to estimate tau²; with one study report "
            "its own proportion and interval (study_intervals) instead."
        )
    if np.all(events == 0) or np.all(events == n):
        raise AnalysisError(
            "Every study has 0 events (or every study has all events): the GLMM's maximum "
            "likelihood estimate does not exist. Report the per-study exact intervals instead."
        )
    x = events.astype(float)
    size = n.astype(float)
    start = meta_analysis(common["yi"], common["vi"], method="DL")
    glmm = fit_binomial_normal(x, size, start.estimate, float(np.sqrt(start.tau2)), int(quadrature_points))
    if not glmm.used_hessian:
        notes.append(
            "The Hessian of the deviance was not positive definite; the SE comes from the "
            "fixed-effect block only (lme4's fallback)."
        )
    if glmm.tau2 < TAU2_BOUNDARY:
        notes.append("tau² is estimated on the boundary (0): no between-study variance beyond chance.")
    if glmm.tau2 > TAU2_LARGE:
        notes.append(
            f"tau² = {glmm.tau2:.3g} is implausibly large on the logit scale: the likelihood keeps "
            "rising with tau (studies at 0 and at all events); the GLMM estimates are not reliable."
        )
    crit = normal_two_sided_critical(common["confidence_level"])
    se = float(np.sqrt(glmm.vcov_mu))
    z = glmm.mu / se
    ci = (glmm.mu - crit * se, glmm.mu + crit * se)
    half_pi = crit * np.sqrt(se**2 + glmm.tau2)
    pi = (glmm.mu - half_pi, glmm.mu + half_pi)
    heterogeneity = _glmm_heterogeneity(x, size, common["vi"], common["corrected"], glmm.tau2, notes)
    u_hat, _ = conditional_modes(x, size, glmm.mu, np.sqrt(glmm.tau2))
    loglik_conditional = binomial_loglik_sum(x, size, special.expit(glmm.mu + np.sqrt(glmm.tau2) * u_hat))
    back = special.expit([glmm.mu, ci[0], ci[1], pi[0], pi[1]])
    return ProportionResult(
        **common, tau_method=None, test="z",
        estimate=glmm.mu, se=se, statistic=float(z), pval=float(normal_two_sided_p(z)),
        ci_lb=float(ci[0]), ci_ub=float(ci[1]), tau2=glmm.tau2, **heterogeneity,
        pi_lb=float(pi[0]), pi_ub=float(pi[1]),
        prop=float(back[0]), prop_ci_lb=float(back[1]), prop_ci_ub=float(back[2]),
        prop_pi_lb=float(back[3]), prop_pi_ub=float(back[4]),
        weights=None, loglik=loglik_conditional, marginal_loglik=glmm.loglik,
        quadrature_points=int(quadrature_points), pooled=None, notes=tuple(notes),
    )


def _glmm_heterogeneity(x, size, vi, corrected, tau2: float, notes: list[str]) -> dict:
    """I², H² (from the corrected logits' typical variance, as metafor), the LRT and the Wald Q."""
    k = x.size
    w = 1.0 / vi
    typical = (k - 1) / (w.sum() - np.sum(w**2) / w.sum())
    # Saturated (one logit per study) vs fixed-effect logistic model.
    mu_fe, _ = fixed_effect_logit(x, size)
    loglik_fe = binomial_loglik_sum(x, size, np.full(k, special.expit(mu_fe)))
    loglik_sat = binomial_loglik_sum(x, size, x / size)
    q_lrt = max(-2.0 * (loglik_fe - loglik_sat), 0.0)
    if np.any(corrected):
        q = q_p = None
        notes.append(
            "The Wald heterogeneity test of the saturated model is not reported: a study with "
            "0 or all events has no finite logit (metafor's QE.Wld is then an artefact of glm's "
            "stopping rule); the likelihood-ratio test q_lrt is."
        )
    else:
        w_exact = x * (size - x) / size
        logits = special.logit(x / size)
        mean = np.sum(w_exact * logits) / w_exact.sum()
        q = float(max(np.sum(w_exact * (logits - mean) ** 2), 0.0))
        q_p = float(chi2_upper_tail(q, k - 1))
    return dict(i2=float(100.0 * tau2 / (typical + tau2)), h2=float(tau2 / typical + 1.0),
                q=q, q_p=q_p, q_lrt=float(q_lrt), q_lrt_p=float(chi2_upper_tail(q_lrt, k - 1)))


