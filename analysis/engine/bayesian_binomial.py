"""Bayesian binomial-normal (logit) model for pooled proportions.

``x_i ~ Binomial(n_i, expit(theta_i))``, ``theta_i ~ N(mu, tau²)``, a prior on
tau (``analysis.engine._tau_priors``) and a flat or normal prior on mu: the model of
the GLMM in ``analysis.engine.proportions`` with the exact binomial likelihood, but
integrated instead of maximised.

Computation (no MCMC):

1. Each study's likelihood ``L_i(mu, tau) = int Binom(x_i | n_i, expit(mu + tau u)) phi(u) du``
   by adaptive Gauss-Hermite quadrature (as lme4 and the GLMM: nodes centred at
   the conditional mode, scaled by the curvature; the helpers of
   ``analysis.engine.proportions``).
2. tau on the composite Gauss-Legendre rule of ``analysis.engine._posterior`` (its
   scale from a pilot normal-normal fit to the escalc logits).
3. For each tau node, mu's conditional posterior (log-concave) is located by
   Newton's method (score and information from the same quadrature); its log
   density and slope are evaluated on a grid around the mode and interpolated
   by cubic Hermite polynomials to fine cells, so mu's marginal posterior is a
   :class:`analysis.engine._posterior.GridMixture` with closed-form CDF, and a new
   study's logit ``mu + tau z`` its convolution with N(0, tau²).

Accuracy is checked against an independent brute-force grid integration in R
(``tests/reference/bayesian_binomial.R``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import special

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._glmm import binomial_loglik, conditional_modes, quadrature
from analysis.engine._posterior import GridMixture, TauRule
from analysis.engine._summary import summary_frame
from analysis.engine._tau_priors import DEFAULT_TAU_PRIOR_SCALE, TauPrior, make_tau_prior
from analysis.engine.bayesian import (
    INTERVALS,
    MAX_PANELS,
    PANELS_PER_SPREAD,
    NormalPosterior,
    PosteriorContract,
    ParameterSummary,
    check_confidence_level,
    check_mu_prior,
    check_proper,
    model_label,
    prior_options,
    summarise_mixture,
    tau_interval,
)
from analysis.engine.formatting import format_number
from analysis.engine.proportion_scales import check_counts, escalc_proportions, study_intervals

#: Adaptive Gauss-Hermite nodes per study likelihood (lme4's nAGQ; the GLMM
#: default is 7). 9 nodes keep the quadrature error of the posterior summaries
#: below 1e-4 posterior SDs for n >= 5 (checked against the brute-force grid).
STUDY_QUADRATURE_POINTS = 9

#: mu given tau: the log posterior and its slope are evaluated at
#: MU_COARSE_POINTS points over mode +- MU_HALF_WIDTH Laplace scales (one
#: scale apart; the conditional posterior is log-concave with at least
#: exponential tails, so 8 scales leave a negligible tail), then interpolated
#: by cubic Hermite polynomials to MU_SUBDIVISIONS cells per interval (cells of
#: 1/8 scale: the piecewise-uniform CDF is then within ~3e-3 posterior SDs of
#: the smooth one; against the brute-force grid the summaries agree to 1.5e-3 SDs).
MU_HALF_WIDTH = 8.0
MU_COARSE_POINTS = 17
MU_SUBDIVISIONS = 8

#: Panels and Gauss-Legendre nodes per panel of the tau rule (fewer than the
#: normal-normal model's: every node costs a mu integration).
TAU_PANELS = 10
TAU_PANEL_NODES = 8

#: Newton iterations for the conditional mode of mu (log-concave; converges
#: quadratically from the normal-normal start; the mode only centres the grid).
MODE_ITERATIONS = 5
#: Newton steps for the conditional modes of the study effects (see _modes).
MODE_NEWTON_STEPS = 6

#: Largest Newton step on the logit scale (guards the first steps).
MAX_STEP = 2.0

PARAMETERS = ("mu", "theta_new", "tau")
SCALES = ("proportion", "logit")


def _modes(x, n, y, v, mu, tau):
    """Conditional modes of u in Binom(x | n, expit(mu + tau u)) phi(u), and the curvature there.

    Starts from the mode under the normal approximation of the escalc logit
    ``y`` (variance ``v``), then takes :data:`MODE_NEWTON_STEPS` Newton steps
    kept inside the bracket ``[tau (x - n), tau x]`` where the score changes
    sign. The quadrature is exact for any centre; the mode only makes it
    accurate with few nodes, so a fixed number of steps suffices (the GLMM's
    helper solves to 1e-13 with bisection, ~10 times slower here).
    """
    lo = tau * (x - n)
    hi = tau * x
    u = np.clip(tau * (y - mu) / (tau * tau + v), lo, hi)
    for _ in range(MODE_NEWTON_STEPS):
        p = special.expit(mu + tau * u)
        u = np.clip(u + (tau * (x - n * p) - u) / (tau * tau * n * p * (1.0 - p) + 1.0), lo, hi)
    p = special.expit(mu + tau * u)
    return u, tau * tau * n * p * (1.0 - p) + 1.0


def _study_loglik(x, n, log_choose, mu, tau, points, y=None, v=None, curvature_needed=True):
    """log L_i, d log L_i / d mu and d² log L_i / d mu² by adaptive Gauss-Hermite quadrature.

    ``mu`` and ``tau`` broadcast against the study axis (last); ``y``, ``v``
    are the escalc logits and variances that start the mode search.
    """
    if y is None:
        u_hat, curvature = conditional_modes(x, n, mu, tau)
    else:
        u_hat, curvature = _modes(x, n, y, v, mu, tau)
    nodes, log_w_over_phi = quadrature(points)
    scale = 1.0 / np.sqrt(curvature)
    u = u_hat[..., None] + scale[..., None] * nodes
    eta = mu[..., None] + tau[..., None] * u
    terms = binomial_loglik(x[:, None], n[:, None], eta, log_choose[:, None]) - 0.5 * u * u + log_w_over_phi
    top = terms.max(axis=-1, keepdims=True)
    weights = np.exp(terms - top)
    total = weights.sum(axis=-1)
    loglik = np.log(scale) + top[..., 0] + np.log(total) - 0.5 * np.log(2.0 * np.pi)
    weights = weights / total[..., None]
    p = special.expit(eta)
    score = x[:, None] - n[:, None] * p
    mean_score = (weights * score).sum(axis=-1)
    if not curvature_needed:
        return loglik, mean_score, None
    info = (weights * (n[:, None] * p * (1.0 - p) - score * score)).sum(axis=-1) + mean_score**2
    return loglik, mean_score, -info


#: Rows (tau nodes) and cells with less probability than this are dropped from
#: the mixtures (they cannot move a CDF by more than their total, < 1e-10).
NEGLIGIBLE = 1e-12


def _pruned(mixture: GridMixture) -> GridMixture:
    """Drop negligible rows, and cell columns negligible in every row."""
    rows = mixture.weights > NEGLIGIBLE
    masses = mixture.masses[rows]
    columns = np.flatnonzero((masses > NEGLIGIBLE).any(axis=0))
    first, last = columns[0], columns[-1] + 1
    weights = mixture.weights[rows] / mixture.weights[rows].sum()
    return GridMixture(weights, mixture.start[rows] + first * mixture.step[rows], mixture.step[rows],
                       masses[:, first:last])


@dataclass(frozen=True)
class BinomialPosterior:
    """Posterior of the binomial-normal model on a tau rule (internal)."""

    events: np.ndarray
    n: np.ndarray
    prior: TauPrior
    mu_prior: tuple[float, float] | None
    rule: TauRule
    pilot: NormalPosterior
    node_probability: np.ndarray
    mu_mixture: GridMixture
    log_norm: float

    @staticmethod
    def rows(events, n, mu_prior, pilot: NormalPosterior, tau):
        """For each tau: log int p(y | mu, tau) p(mu) dmu, and mu's row (first cell, cell width, cell masses)."""
        x = events.astype(float)
        size = n.astype(float)
        log_choose = special.gammaln(size + 1) - special.gammaln(x + 1) - special.gammaln(size - x + 1)
        tau = np.asarray(tau, dtype=float)
        mu, _, _ = pilot.conditional(pilot.yi, pilot.vi, mu_prior, tau)
        tau_col = tau[:, None]
        y, v = pilot.yi, pilot.vi
        for _ in range(MODE_ITERATIONS):
            _, grad, hess = _study_loglik(x, size, log_choose, mu[:, None], tau_col, STUDY_QUADRATURE_POINTS, y, v)
            g, h = grad.sum(axis=1), hess.sum(axis=1)
            if mu_prior is not None:
                g = g - (mu - mu_prior[0]) / mu_prior[1] ** 2
                h = h - 1.0 / mu_prior[1] ** 2
            step = np.clip(-g / np.minimum(h, -1e-12), -MAX_STEP, MAX_STEP)
            mu = mu + step
        scale = 1.0 / np.sqrt(-np.minimum(h, -1e-12))
        # log posterior and its slope on a coarse grid of mode +- MU_HALF_WIDTH scales
        z = np.linspace(-MU_HALF_WIDTH, MU_HALF_WIDTH, MU_COARSE_POINTS)
        grid = mu[:, None] + scale[:, None] * z  # (T, M)
        loglik, score, _ = _study_loglik(x, size, log_choose, grid[..., None], tau[:, None, None],
                                         STUDY_QUADRATURE_POINTS, y, v, curvature_needed=False)
        log_post, slope = loglik.sum(axis=-1), score.sum(axis=-1)
        if mu_prior is not None:
            log_post = log_post - 0.5 * ((grid - mu_prior[0]) / mu_prior[1]) ** 2 - np.log(
                np.sqrt(2.0 * np.pi) * mu_prior[1])
            slope = slope - (grid - mu_prior[0]) / mu_prior[1] ** 2
        # cubic Hermite interpolation of the log density to MU_SUBDIVISIONS cells per coarse interval
        coarse_step = scale * (z[1] - z[0])
        r = np.arange(MU_SUBDIVISIONS) / MU_SUBDIVISIONS
        basis = np.stack([2 * r**3 - 3 * r**2 + 1, r**3 - 2 * r**2 + r, -2 * r**3 + 3 * r**2, r**3 - r**2])
        d0 = slope[:, :-1] * coarse_step[:, None]
        d1 = slope[:, 1:] * coarse_step[:, None]
        fine = (log_post[:, :-1, None] * basis[0] + d0[..., None] * basis[1]
                + log_post[:, 1:, None] * basis[2] + d1[..., None] * basis[3]).reshape(tau.size, -1)
        fine = np.concatenate([fine, log_post[:, -1:]], axis=1)
        step = coarse_step / MU_SUBDIVISIONS
        top = fine.max(axis=1, keepdims=True)
        masses = np.exp(fine - top)
        masses[:, [0, -1]] *= 0.5  # trapezoid rule
        row_total = masses.sum(axis=1)
        log_marginal = np.log(step * row_total) + top[:, 0]
        return log_marginal, grid[:, 0], step, masses / row_total[:, None]

    @classmethod
    def fit(cls, events, n, prior, mu_prior) -> BinomialPosterior:
        yi, vi, _ = escalc_proportions(events, n, "PLO")
        pilot = NormalPosterior.fit(yi, vi, prior, mu_prior)
        scale = pilot.tau_quantile(0.5)
        if not np.isfinite(scale) or scale <= 0:
            scale = pilot.rule.s
        # as in the normal-normal model: more panels for a narrow posterior of tau (many studies)
        spread = (pilot.tau_quantile(0.84) - pilot.tau_quantile(0.16)) / (2.0 * scale)
        panels = int(np.clip(np.ceil(PANELS_PER_SPREAD / max(spread, 1e-12)), TAU_PANELS, MAX_PANELS))
        rule = TauRule.build(scale, prior.upper, panels=panels, nodes=TAU_PANEL_NODES)
        log_marginal, start, step, masses = cls.rows(events, n, mu_prior, pilot, rule.tau)
        log_terms = log_marginal + prior.logpdf(rule.tau) + rule.log_weights
        top = np.max(log_terms)
        if not np.isfinite(top):
            raise AnalysisError("The posterior of tau could not be evaluated (no finite density on the grid).")
        terms = np.exp(log_terms - top)
        probability = terms / terms.sum()
        return cls(events, n, prior, mu_prior, rule, pilot, probability,
                   _pruned(GridMixture(probability, start, step, masses)), float(top + np.log(terms.sum())))

    def tau_density(self, tau) -> np.ndarray:
        tau = np.atleast_1d(np.asarray(tau, dtype=float))
        safe = np.maximum(tau, 0.0)
        log_marginal = self.rows(self.events, self.n, self.mu_prior, self.pilot, safe)[0]
        return np.where(tau < 0, 0.0, np.exp(log_marginal + self.prior.logpdf(safe) - self.log_norm))

    @cached_property
    def _tau_cdf_quantile(self):
        return self.rule.cdf_function(self.node_probability / np.exp(self.rule.log_weights))

    def tau_quantile(self, p: float) -> float:
        return self._tau_cdf_quantile[1](p)

    def tau_cdf(self, tau: float) -> float:
        return self._tau_cdf_quantile[0](tau)

    def predictive_mixture(self) -> GridMixture:
        return self.mu_mixture.convolve(self.rule.tau[self.kept_rows])

    @property
    def kept_rows(self) -> np.ndarray:
        return self.node_probability > NEGLIGIBLE


@dataclass(frozen=True)
class BayesianProportionResult(PosteriorContract):
    """Posterior summary of the binomial-normal model (logit scale, back-transformed beside it).

    Attributes
    ----------
    events, n : ndarray
    labels : tuple of str
    confidence_level : float
    interval : {"central", "shortest"}
    tau_prior : TauPrior
    mu_prior : tuple of float or None
    k : int
    mu_mean, mu_sd, mu_median, mu_ci_lb, mu_ci_ub : float
        Posterior of the pooled logit mu.
    tau_mean, tau_median, tau_ci_lb, tau_ci_ub : float
        Posterior of tau (logit scale).
    pred_median, pred_ci_lb, pred_ci_ub : float
        Posterior predictive distribution of a new study's logit.
    prop, prop_ci_lb, prop_ci_ub : float
        Posterior median of the pooled proportion expit(mu) and its credible interval.
    prop_pi_lb, prop_pi_ub : float
        Posterior predictive interval of a new study's proportion.
    study_ci_lb, study_ci_ub : ndarray
        Clopper-Pearson interval of each observed proportion.
    notes : tuple of str
    posterior : BinomialPosterior

    The shared result contract (``estimate``, ``se``, ``ci_lb``, ``ci_ub``,
    ``pi_lb``, ``pi_ub`` on the logit scale, ``tau2``, ``pval`` NaN,
    ``random_effects``, ``tau2_at_boundary``, ``model_label``, ``measure`` "PLO")
    is provided as properties.
    """

    events: np.ndarray = field(repr=False)
    n: np.ndarray = field(repr=False)
    labels: tuple[str, ...] = field(repr=False)
    confidence_level: float
    interval: str
    tau_prior: TauPrior
    mu_prior: tuple[float, float] | None
    k: int
    mu_mean: float
    mu_sd: float
    mu_median: float
    mu_ci_lb: float
    mu_ci_ub: float
    tau_mean: float
    tau_median: float
    tau_ci_lb: float
    tau_ci_ub: float
    pred_median: float
    pred_ci_lb: float
    pred_ci_ub: float
    prop: float
    prop_ci_lb: float
    prop_ci_ub: float
    prop_pi_lb: float
    prop_pi_ub: float
    study_ci_lb: np.ndarray = field(repr=False)
    study_ci_ub: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()
    posterior: BinomialPosterior = field(repr=False, compare=False, default=None)

    measure = "PLO"
    method = "BAYES"
    summary_frame_scale = "natural"

    @property
    def participants(self) -> int:
        """Patients in the pooled samples (the sum of ``n``)."""
        return int(np.sum(self.n))

    def within_variances(self) -> np.ndarray:
        """escalc's PLO sampling variances of the samples (1/2 added where 0 or all events)."""
        return escalc_proportions(self.events, self.n, "PLO")[1]

    def _probability_text(self) -> str:
        return f"P(proportion > 50%) = {format_number(self.prob_above(0.5), 3)}"

    @property
    def model_label(self) -> str:
        return model_label(self.tau_prior).replace("Bayesian RE", "Bayesian binomial-normal")

    @property
    def model_description(self) -> str:
        """E.g. ``"Bayesian binomial-normal random-effects model (half-normal 1 prior on tau)"``."""
        return super().model_description.replace("Bayesian random-effects", "Bayesian binomial-normal random-effects")

    def to_dict(self) -> dict[str, float]:
        """Contract keys (logit scale), then the proportion scale and tau."""
        keys = ("k", "estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "pi_lb", "pi_ub", "prop",
                "prop_ci_lb", "prop_ci_ub", "prop_pi_lb", "prop_pi_ub", "tau_median", "tau_ci_lb", "tau_ci_ub")
        return {key: getattr(self, key) for key in keys}

    def fit_options(self) -> dict[str, object]:
        """Keyword arguments of :func:`bayesian_proportions` that refit with the same options."""
        return {**prior_options(self.tau_prior), "mu_prior": self.mu_prior,
                "confidence_level": self.confidence_level, "interval": self.interval}

    def _studies(self) -> tuple[np.ndarray, ...]:
        return self.events, self.n

    @staticmethod
    def _fit_function():
        return bayesian_proportions

    def _mixture(self, parameter):
        check_option("parameter", parameter, ("mu", "theta_new"))
        return self.posterior.mu_mixture if parameter == "mu" else self.posterior.predictive_mixture()

    def prob_above(self, value: float, parameter: str = "mu", scale: str = "proportion") -> float:
        """Posterior probability that ``parameter`` exceeds ``value``.

        Parameters
        ----------
        value : float
            Threshold: a proportion (``scale="proportion"``, e.g. 0.5) or a logit.
        parameter : {"mu", "theta_new", "tau"}
            The pooled proportion (logit), a new study's, or tau (``value`` on tau's scale).
        scale : {"proportion", "logit"}
        """
        check_option("parameter", parameter, PARAMETERS)
        check_option("scale", scale, SCALES)
        if parameter == "tau":
            return 1.0 - self.posterior.tau_cdf(float(value))
        if scale == "proportion":
            if not 0 < value < 1:
                raise AnalysisError(f"A proportion threshold must lie strictly between 0 and 1; got {value!r}.")
            value = float(special.logit(value))
        return float(1.0 - self._mixture(parameter).cdf(float(value)))

    def density(self, parameter: str, grid) -> np.ndarray:
        """Posterior density of ``parameter`` ("mu", "theta_new": logit scale; "tau") at ``grid``."""
        check_option("parameter", parameter, PARAMETERS)
        if parameter == "tau":
            return self.posterior.tau_density(grid)
        return np.asarray(self._mixture(parameter).pdf(np.asarray(grid, dtype=float)))

    def summary_frame(self) -> pd.DataFrame:
        """One row per study then the pooled row, on the proportion scale (as ``ProportionResult``).

        ``se`` stays on the logit scale (escalc's sqrt(vi) for studies, the
        posterior SD of mu for the pooled row); ``weight`` is NaN (the model
        has no study weights).
        """
        return summary_frame(
            {"label": list(self.labels), "estimate": self.events / self.n, "se": np.sqrt(self.within_variances()),
             "ci_lb": self.study_ci_lb, "ci_ub": self.study_ci_ub, "weight": np.full(self.k, np.nan),
             "events": self.events, "n": self.n},
            {"label": self.model_label, "estimate": self.prop, "se": self.se, "ci_lb": self.prop_ci_lb,
             "ci_ub": self.prop_ci_ub, "weight": np.nan, "pi_lb": self.natural().pi_lb, "pi_ub": self.natural().pi_ub,
             "events": int(self.events.sum()), "n": int(self.n.sum())},
        )


def _fit(events: np.ndarray, n: np.ndarray, prior: TauPrior, mu_prior) -> BinomialPosterior:
    """The joint posterior of checked counts, refused where it would be improper."""
    check_proper(prior, mu_prior, events.size)
    if mu_prior is None and (np.all(events == 0) or np.all(events == n)):
        raise AnalysisError(
            "Every study has 0 events (or every study has all events): with a flat mu prior the "
            "posterior is improper. Give mu_prior=(mean, sd) or report the per-study exact intervals."
        )
    return BinomialPosterior.fit(events, n, prior, mu_prior)


def pooled_proportion(events, n, *, tau_prior_scale: float = DEFAULT_TAU_PRIOR_SCALE,
                      confidence_level: float = 0.95) -> tuple[float, float, float]:
    """Only the pooled proportion of :func:`bayesian_proportions` with a half-normal prior:
    ``(prop, prop_ci_lb, prop_ci_ub)``, the same numbers by the same path, without the
    predictive and tau summaries (for many fits at once, e.g. a multiverse).

    >>> res = bayesian_proportions([7, 16, 20, 9, 6], [11, 29, 34, 17, 12])
    >>> pooled_proportion([7, 16, 20, 9, 6], [11, 29, 34, 17, 12]) == (res.prop, res.prop_ci_lb, res.prop_ci_ub)
    True
    """
    confidence_level = check_confidence_level(confidence_level)
    events, n, _ = check_counts(events, n, None)
    posterior = _fit(events, n, make_tau_prior("half_normal", tau_prior_scale), None)
    mu = summarise_mixture(posterior.mu_mixture, confidence_level, "central")
    return tuple(float(x) for x in special.expit([mu.median, mu.ci_lb, mu.ci_ub]))


def bayesian_proportions(
    events,
    n,
    *,
    tau_prior: str = "half_normal",
    tau_prior_scale: float | None = DEFAULT_TAU_PRIOR_SCALE,
    mu_prior=None,
    confidence_level: float = 0.95,
    labels=None,
    interval: str = "central",
    tau_prior_outcome: str | None = None,
    tau_prior_comparison: str = "pharmacological vs. placebo / control",
) -> BayesianProportionResult:
    """Bayesian binomial-normal random-effects model for single proportions.

    Parameters
    ----------
    events, n : array-like of int
        Events (responders) and sample size of each study.
    tau_prior, tau_prior_scale, tau_prior_outcome, tau_prior_comparison
        Prior on tau (logit scale); as :func:`analysis.engine.bayesian.bayesian_meta_analysis`.
    mu_prior : None or (mean, sd)
        Flat or normal prior on the pooled logit.
    confidence_level : float
    labels : sequence of str, optional
    interval : {"central", "shortest"}

    Returns
    -------
    BayesianProportionResult

    Notes
    -----
    Studies with 0 or n events need no correction (the binomial likelihood is
    exact). With a flat mu prior the posterior is improper when every study
    has 0 events (or every study has all events): the likelihood does not
    vanish as mu goes to -inf (+inf); that is refused.

    Examples
    --------
    >>> res = bayesian_proportions([7, 16, 20, 9, 6], [11, 29, 34, 17, 12])
    >>> print(f"{res.prop:.3f} [{res.prop_ci_lb:.3f}, {res.prop_ci_ub:.3f}]")
    0.563 [0.435, 0.684]
    """
    check_option("interval", interval, INTERVALS)
    confidence_level = check_confidence_level(confidence_level)
    prior = make_tau_prior(tau_prior, tau_prior_scale, outcome=tau_prior_outcome, comparison=tau_prior_comparison)
    mu_prior = check_mu_prior(mu_prior)
    events, n, labels = check_counts(events, n, labels)
    k = events.size
    posterior = _fit(events, n, prior, mu_prior)
    notes = []
    if k == 1:
        notes.append(f"One study: the posterior of tau is driven by its prior ({prior.label}).")
    mu = summarise_mixture(posterior.mu_mixture, confidence_level, interval)
    pred: ParameterSummary = summarise_mixture(posterior.predictive_mixture(), confidence_level, interval)
    tau_lb, tau_ub = tau_interval(posterior.tau_quantile, confidence_level, interval)
    study_lb, study_ub = study_intervals(events, n, confidence_level, "clopper-pearson")
    back = special.expit([mu.median, mu.ci_lb, mu.ci_ub, pred.ci_lb, pred.ci_ub])
    return BayesianProportionResult(
        events=events, n=n, labels=labels, confidence_level=confidence_level, interval=interval,
        tau_prior=prior, mu_prior=mu_prior, k=k,
        mu_mean=mu.mean, mu_sd=mu.sd, mu_median=mu.median, mu_ci_lb=mu.ci_lb, mu_ci_ub=mu.ci_ub,
        tau_mean=float(posterior.node_probability @ posterior.rule.tau),
        tau_median=posterior.tau_quantile(0.5), tau_ci_lb=tau_lb, tau_ci_ub=tau_ub,
        pred_median=pred.median, pred_ci_lb=pred.ci_lb, pred_ci_ub=pred.ci_ub,
        prop=float(back[0]), prop_ci_lb=float(back[1]), prop_ci_ub=float(back[2]),
        prop_pi_lb=float(back[3]), prop_pi_ub=float(back[4]),
        study_ci_lb=study_lb, study_ci_ub=study_ub, notes=tuple(notes), posterior=posterior,
    )
