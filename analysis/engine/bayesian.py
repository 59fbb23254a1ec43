"""Bayesian random-effects meta-analysis: the normal-normal model (bayesmeta).

``y_i ~ N(theta_i, v_i)``, ``theta_i ~ N(mu, tau²)``, a prior on tau (see
``analysis.engine._tau_priors``) and a flat or normal prior on mu. As in R's
bayesmeta (Röver 2020) the posterior is computed by numerical integration, not
MCMC: given tau, mu is normal with

    mu_hat(tau) = (sum w_i y_i + m0 / s0²) / (sum w_i + 1 / s0²),
    V(tau) = 1 / (sum w_i + 1 / s0²),   w_i = 1 / (v_i + tau²)

(the prior terms drop out for a flat prior), and the marginal posterior of tau
is

    p(tau | y) ∝ p(tau) V^(1/2) prod (v_i + tau²)^(-1/2)
                 exp(-1/2 [sum w_i (y_i - mu_hat)² + (mu_hat - m0)² / s0²]).

It is integrated by composite Gauss-Legendre quadrature (``analysis.engine._posterior``)
on a scale set by a pilot pass, so the marginal posteriors of mu, of a new
study's effect ``theta_new ~ N(mu, tau²)`` and of each study's ``theta_i`` are
mixtures of normals over the tau nodes, with exact CDFs. Quantiles are accurate
to ~1e-6 posterior SDs (tests compare against bayesmeta and against a doubled rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from analysis.engine._errors import AnalysisError, check_option
from analysis.engine._posterior import PANELS, NormalMixture, TauRule, shortest_interval
from analysis.engine._summary import study_labels, summary_frame, wald_interval
from analysis.engine._tau_priors import DEFAULT_TAU_PRIOR_SCALE, TauPrior, make_tau_prior
from analysis.engine.contract import PooledResult
from analysis.engine.formatting import format_number

INTERVALS = ("central", "shortest")

#: Panels of the tau rule: at least PANELS (analysis.engine._posterior), more when the
#: pilot posterior of tau is narrow relative to its median (relative spread
#: (q84 - q16) / (2 median) below PANELS_PER_SPREAD / PANELS, i.e. about 100+
#: studies), up to MAX_PANELS; keeps tau's interval within ~1e-3 posterior SDs.
PANELS_PER_SPREAD = 3.0
MAX_PANELS = 96
PARAMETERS = ("mu", "theta_new", "tau")

#: The keys of ``BayesianResult.to_dict()``, in order.
SUMMARY_KEYS = ("k", "mu_mean", "mu_sd", "mu_median", "mu_ci_lb", "mu_ci_ub", "tau_median", "tau_ci_lb",
                "tau_ci_ub", "pred_median", "pred_ci_lb", "pred_ci_ub")


def check_mu_prior(mu_prior) -> tuple[float, float] | None:
    """``None`` (flat) or a ``(mean, sd)`` pair with finite mean and positive finite sd."""
    if mu_prior is None:
        return None
    try:
        mean, sd = (float(value) for value in mu_prior)
    except (TypeError, ValueError):
        raise AnalysisError(f"mu_prior must be None (flat) or a (mean, sd) pair; got {mu_prior!r}.") from None
    if not (np.isfinite(mean) and np.isfinite(sd) and sd > 0):
        raise AnalysisError(f"mu_prior=(mean, sd) needs a finite mean and a positive, finite sd; got {mu_prior!r}.")
    return mean, sd


def check_proper(prior: TauPrior, mu_prior, k: int) -> None:
    """Refuse priors and study counts that give an improper posterior.

    With the improper uniform prior on tau the marginal likelihood of tau falls
    like tau^(1-k) (flat mu prior) or tau^(-k) (normal mu prior), so the
    posterior is proper only for k >= 3, respectively k >= 2.
    """
    if prior.proper:
        return
    needed = 3 if mu_prior is None else 2
    if k < needed:
        raise AnalysisError(
            f"The posterior is improper with tau_prior={prior.name!r}, "
            f"{'a flat' if mu_prior is None else 'a normal'} mu prior and k = {k} "
            f"(needs k >= {needed}); use a proper tau prior such as 'half_normal'."
        )


def check_confidence_level(confidence_level: float) -> float:
    """``confidence_level`` as a float strictly between 0 and 1, else an AnalysisError."""
    if not 0 < confidence_level < 1:
        raise AnalysisError("confidence_level must lie strictly between 0 and 1 (e.g. 0.95).")
    return float(confidence_level)


@dataclass(frozen=True)
class NormalPosterior:
    """The posterior of the normal-normal model on a tau rule (internal).

    ``node_probability`` are the posterior probabilities of the tau nodes
    (quadrature weights included); ``mu_hat``, ``mu_var`` the conditional
    posterior of mu at each node.
    """

    yi: np.ndarray
    vi: np.ndarray
    prior: TauPrior
    mu_prior: tuple[float, float] | None
    rule: TauRule
    node_probability: np.ndarray
    mu_hat: np.ndarray
    mu_var: np.ndarray
    log_norm: float

    @staticmethod
    def conditional(yi, vi, mu_prior, tau):
        """mu_hat(tau), V(tau) and log p(y | tau) (flat mu prior: up to a constant), per tau."""
        tau = np.asarray(tau, dtype=float)
        total = vi[None, :] + tau[:, None] ** 2
        w = 1.0 / total
        sw = w.sum(axis=1)
        swy = w @ yi
        if mu_prior is not None:
            sw = sw + 1.0 / mu_prior[1] ** 2
            swy = swy + mu_prior[0] / mu_prior[1] ** 2
        mu_hat = swy / sw
        resid = ((yi[None, :] - mu_hat[:, None]) ** 2 * w).sum(axis=1)
        loglik = -0.5 * np.log(total).sum(axis=1) - 0.5 * resid - 0.5 * np.log(sw)
        if mu_prior is not None:
            loglik = loglik - 0.5 * (mu_hat - mu_prior[0]) ** 2 / mu_prior[1] ** 2 - np.log(mu_prior[1])
        return mu_hat, 1.0 / sw, loglik

    @classmethod
    def fit(cls, yi, vi, prior: TauPrior, mu_prior, scale: float | None = None) -> NormalPosterior:
        """Integrate on a rule whose scale is ``scale`` or the median of a pilot pass."""
        if scale is None:
            pilot_scale = float(np.sqrt(np.median(vi)))
            if prior.proper:
                pilot_scale = float(np.sqrt(pilot_scale * prior.quantile(0.5)))
            pilot = cls._on_rule(yi, vi, prior, mu_prior, TauRule.build(pilot_scale, prior.upper))
            scale = pilot.tau_quantile(0.5)
            if not np.isfinite(scale) or scale <= 0:
                return cls._on_rule(yi, vi, prior, mu_prior, TauRule.build(pilot_scale, prior.upper))
            # A posterior of tau narrow relative to its median (many studies) needs more panels.
            spread = (pilot.tau_quantile(0.84) - pilot.tau_quantile(0.16)) / (2.0 * scale)
            panels = int(np.clip(np.ceil(PANELS_PER_SPREAD / max(spread, 1e-12)), PANELS, MAX_PANELS))
            return cls._on_rule(yi, vi, prior, mu_prior, TauRule.build(scale, prior.upper, panels=panels))
        return cls._on_rule(yi, vi, prior, mu_prior, TauRule.build(scale, prior.upper))

    @classmethod
    def _on_rule(cls, yi, vi, prior, mu_prior, rule: TauRule) -> NormalPosterior:
        mu_hat, mu_var, loglik = cls.conditional(yi, vi, mu_prior, rule.tau)
        log_terms = loglik + prior.logpdf(rule.tau) + rule.log_weights
        top = np.max(log_terms)
        if not np.isfinite(top):
            raise AnalysisError("The posterior of tau could not be evaluated (no finite density on the grid).")
        terms = np.exp(log_terms - top)
        log_norm = top + np.log(terms.sum())
        return cls(yi, vi, prior, mu_prior, rule, terms / terms.sum(), mu_hat, mu_var, float(log_norm))

    # -- tau
    def tau_density(self, tau) -> np.ndarray:
        tau = np.atleast_1d(np.asarray(tau, dtype=float))
        _, _, loglik = self.conditional(self.yi, self.vi, self.mu_prior, np.maximum(tau, 0.0))
        return np.where(tau < 0, 0.0, np.exp(loglik + self.prior.logpdf(np.maximum(tau, 0.0)) - self.log_norm))

    @cached_property
    def _tau_cdf_quantile(self):
        density = np.exp(self.tau_log_density_nodes() - self.log_norm)
        return self.rule.cdf_function(density)

    def tau_log_density_nodes(self):
        _, _, loglik = self.conditional(self.yi, self.vi, self.mu_prior, self.rule.tau)
        return loglik + self.prior.logpdf(self.rule.tau)

    def tau_quantile(self, p: float) -> float:
        return self._tau_cdf_quantile[1](p)

    def tau_cdf(self, tau: float) -> float:
        return self._tau_cdf_quantile[0](tau)

    # -- mu, theta_new, theta_i
    def mu_mixture(self) -> NormalMixture:
        return NormalMixture(self.node_probability, self.mu_hat, np.sqrt(self.mu_var))

    def predictive_mixture(self) -> NormalMixture:
        return self.mu_mixture().convolve(self.rule.tau)

    def study_mixture(self, i: int) -> NormalMixture:
        """Posterior of theta_i (shrinkage estimate): given tau, normal with
        mean (1 - B) y_i + B mu_hat, variance v_i tau² / (v_i + tau²) + B² V, B = v_i / (v_i + tau²)."""
        tau2 = self.rule.tau**2
        shrink = self.vi[i] / (self.vi[i] + tau2)
        mean = (1.0 - shrink) * self.yi[i] + shrink * self.mu_hat
        var = self.vi[i] * tau2 / (self.vi[i] + tau2) + shrink**2 * self.mu_var
        return NormalMixture(self.node_probability, mean, np.sqrt(var))

    def study_weights(self) -> np.ndarray:
        """Percent weight of each y_i in the posterior mean of mu (bayesmeta's ``weights``)."""
        w = 1.0 / (self.vi[None, :] + self.rule.tau[:, None] ** 2)
        return 100.0 * (self.node_probability * self.mu_var) @ w


@dataclass(frozen=True)
class ParameterSummary:
    """Posterior summary of one scalar parameter (internal)."""

    mean: float
    sd: float
    median: float
    ci_lb: float
    ci_ub: float


def summarise_mixture(mixture: NormalMixture, confidence_level: float, interval: str) -> ParameterSummary:
    """Mean, SD, median and the central or shortest interval of a mixture."""
    tail = (1.0 - confidence_level) / 2.0
    if interval == "central":
        lb, ub = mixture.quantile(tail), mixture.quantile(1.0 - tail)
    else:
        lb, ub = shortest_interval(mixture.quantile, confidence_level)
    return ParameterSummary(mixture.mean(), mixture.sd(), mixture.quantile(0.5), lb, ub)


def tau_interval(quantile, confidence_level: float, interval: str) -> tuple[float, float]:
    """Central or shortest credible interval of tau from its quantile function."""
    tail = (1.0 - confidence_level) / 2.0
    if interval == "central":
        return quantile(tail), quantile(1.0 - tail)
    return shortest_interval(quantile, confidence_level, lower_bound=0.0)


def model_label(prior: TauPrior) -> str:
    """Pooled-row label, e.g. ``"Bayesian RE (half-normal 0.5)"``."""
    return f"Bayesian RE ({prior.label})"


class PosteriorContract(PooledResult):
    """The result contract (:mod:`analysis.engine.contract`) for posterior summaries (both Bayesian results).

    Needs ``mu_median, mu_sd, mu_ci_lb, mu_ci_ub, pred_ci_lb, pred_ci_ub,
    tau_median, tau_prior, mu_prior``. Intervals are credible intervals and the
    prediction interval is the posterior predictive interval of a new study's
    effect (:attr:`is_bayesian`); there is no p-value, I² or heterogeneity test:
    tau's posterior (``tau_median``, ``tau_ci_lb``, ``tau_ci_ub``) describes
    the heterogeneity.
    """

    is_bayesian = True
    interval_name = "CrI"
    prediction_interval_name = "posterior predictive interval"
    heterogeneity_test = None

    @property
    def i2(self) -> float:
        """I² (percent) implied by the posterior median of tau², as metafor defines I² for a GLMM.

        ``100 tau² / (tau² + s²)`` with the typical within-study variance
        ``s² = (k - 1) / (sum w - sum w² / sum w)``, ``w = 1 / vi``; NaN for one study.
        GRADE's inconsistency rule reads it.
        """
        vi = self.within_variances()
        if vi.size < 2:
            return float("nan")
        w = 1.0 / vi
        typical = (vi.size - 1) / (w.sum() - np.sum(w**2) / w.sum())
        return float(100.0 * self.tau2 / (self.tau2 + typical))

    def within_variances(self) -> np.ndarray:
        """The studies' sampling variances on the analysis scale."""
        return np.asarray(self.vi, dtype=float)

    @property
    def model_description(self) -> str:
        """E.g. ``"Bayesian random-effects model (half-normal 0.5 prior on tau)"``."""
        return f"Bayesian random-effects model ({self.tau_prior.label} prior on tau)"

    @property
    def has_prediction_interval(self) -> bool:
        """A posterior predictive interval for a reader: two or more studies (the contract's rule).

        With one study the interval a proper prior on tau gives is the prior's, not the
        evidence's, so no text, table or figure shows one (issue 10); ``pred_*`` keep it.
        """
        return self.k >= 2 and math.isfinite(self.pi_lb) and math.isfinite(self.pi_ub)

    def refit(self, **options) -> PosteriorContract:
        """Refit the same studies with some options changed (e.g. another ``tau_prior``)."""
        return self._fit_function()(*self._studies(), labels=self.labels, **{**self.fit_options(), **options})

    def subset(self, indices) -> PosteriorContract:
        """Refit on the studies at positions ``indices`` with the same options."""
        indices = np.asarray(indices)
        return self._fit_function()(*(data[indices] for data in self._studies()),
                                    labels=[self.labels[i] for i in np.arange(self.k)[indices]],
                                    **self.fit_options())

    def _heterogeneity_lines(self, scale_name: str, level: str) -> list[str]:
        return [f"tau (between-study SD, {scale_name}): posterior median {format_number(self.tau_median, 4)} "
                f"({level} CrI {format_number(self.tau_ci_lb, 4)} to {format_number(self.tau_ci_ub, 4)}); "
                f"prior {self.tau_prior.label}"]

    def _estimate_line(self, level: str) -> str:
        return (f"  posterior median {format_number(self.estimate, 4)}, posterior SD {format_number(self.se, 4)}, "
                f"{level} CrI {format_number(self.ci_lb, 4)} to {format_number(self.ci_ub, 4)}, "
                f"{self._probability_text()}")

    def _probability_text(self) -> str:
        return f"P(mu > 0) = {format_number(self.prob_above(0.0), 3)}"

    @property
    def estimate(self) -> float:
        """Posterior median of mu."""
        return self.mu_median

    @property
    def se(self) -> float:
        """Posterior SD of mu."""
        return self.mu_sd

    @property
    def ci_lb(self) -> float:
        """Lower end of mu's credible interval."""
        return self.mu_ci_lb

    @property
    def ci_ub(self) -> float:
        """Upper end of mu's credible interval."""
        return self.mu_ci_ub

    @property
    def pi_lb(self) -> float:
        """Lower end of the posterior predictive interval of a new study's effect."""
        return self.pred_ci_lb

    @property
    def pi_ub(self) -> float:
        """Upper end of the posterior predictive interval."""
        return self.pred_ci_ub

    @property
    def tau2(self) -> float:
        """Posterior median of tau² (the square of tau's median)."""
        return self.tau_median**2

    @property
    def pval(self) -> float:
        """NaN: a posterior has no p-value (see ``prob_above``)."""
        return float("nan")

    @property
    def random_effects(self) -> bool:
        """True."""
        return True

    @property
    def tau2_at_boundary(self) -> bool:
        """False: the posterior of tau is never a point at 0."""
        return False

    @property
    def model_label(self) -> str:
        """Pooled-row label, e.g. ``"Bayesian RE (half-normal 0.5)"``."""
        return model_label(self.tau_prior)

    def prior_density(self, parameter: str, grid) -> np.ndarray:
        """Prior density of ``parameter`` ("mu" or "tau") at ``grid`` (NaN for a flat or improper prior)."""
        check_option("parameter", parameter, ("mu", "tau"))
        grid = np.asarray(grid, dtype=float)
        if parameter == "tau":
            return self.tau_prior.pdf(grid) if self.tau_prior.proper else np.full(grid.shape, np.nan)
        if self.mu_prior is None:
            return np.full(grid.shape, np.nan)
        mean, sd = self.mu_prior
        return np.exp(-0.5 * ((grid - mean) / sd) ** 2) / (np.sqrt(2.0 * np.pi) * sd)


@dataclass(frozen=True)
class BayesianResult(PosteriorContract):
    """Posterior summary of the normal-normal random-effects model.

    Attributes
    ----------
    yi, vi : ndarray
        Study estimates and their within-study variances (analysis scale).
    labels : tuple of str
    measure : str
        metafor code of the analysis scale (``"GEN"`` unless given).
    confidence_level : float
        Probability of every credible interval.
    interval : {"central", "shortest"}
        Kind of credible interval.
    tau_prior : TauPrior
    mu_prior : tuple of float or None
        ``(mean, sd)`` of the normal prior on mu; None for the flat prior.
    k : int
    mu_mean, mu_sd, mu_median, mu_ci_lb, mu_ci_ub : float
        Posterior of the pooled effect mu.
    tau_mean, tau_median, tau_ci_lb, tau_ci_ub : float
        Posterior of tau.
    pred_mean, pred_sd, pred_median, pred_ci_lb, pred_ci_ub : float
        Posterior predictive distribution of a new study's effect
        ``theta_new ~ N(mu, tau²)``.
    notes : tuple of str
    posterior : NormalPosterior
        The integrated posterior (densities, CDFs, shrinkage).

    The result contract shared with the frequentist results is provided as
    properties: ``estimate`` (posterior median of mu), ``se`` (posterior SD),
    ``ci_lb``/``ci_ub`` (credible interval), ``pi_lb``/``pi_ub`` (posterior
    predictive interval), ``tau2`` (posterior median of tau²), ``pval`` (NaN),
    ``random_effects`` (True), ``tau2_at_boundary`` (False), ``model_label``.
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    labels: tuple[str, ...] = field(repr=False)
    measure: str
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
    pred_mean: float
    pred_sd: float
    pred_median: float
    pred_ci_lb: float
    pred_ci_ub: float
    notes: tuple[str, ...] = ()
    posterior: NormalPosterior = field(repr=False, compare=False, default=None)

    @property
    def weights(self) -> np.ndarray:
        """Percent weight of each study in the posterior mean of mu (the rest is the mu prior's)."""
        return self.posterior.study_weights()

    def to_dict(self) -> dict[str, float]:
        """The headline numbers, keys :data:`SUMMARY_KEYS`."""
        return {key: getattr(self, key) for key in SUMMARY_KEYS}

    def fit_options(self) -> dict[str, object]:
        """Keyword arguments of :func:`bayesian_meta_analysis` that refit with the same options."""
        return {**prior_options(self.tau_prior), "mu_prior": self.mu_prior,
                "confidence_level": self.confidence_level, "measure": self.measure, "interval": self.interval}

    def _studies(self) -> tuple[np.ndarray, ...]:
        return self.yi, self.vi

    @staticmethod
    def _fit_function():
        return bayesian_meta_analysis

    def _mixture(self, parameter: str) -> NormalMixture:
        check_option("parameter", parameter, ("mu", "theta_new"))
        return self.posterior.mu_mixture() if parameter == "mu" else self.posterior.predictive_mixture()

    def prob_above(self, value: float, parameter: str = "mu") -> float:
        """Posterior probability that ``parameter`` exceeds ``value``.

        Parameters
        ----------
        value : float
            Threshold on the analysis scale (e.g. 0 for "log RR > 0").
        parameter : {"mu", "theta_new", "tau"}
            The pooled effect, a new study's effect, or tau.
        """
        check_option("parameter", parameter, PARAMETERS)
        if parameter == "tau":
            return 1.0 - self.posterior.tau_cdf(float(value))
        return float(1.0 - self._mixture(parameter).cdf(float(value)))

    def quantile(self, p: float, parameter: str = "mu") -> float:
        """Posterior quantile of ``parameter`` ("mu", "theta_new" or "tau")."""
        check_option("parameter", parameter, PARAMETERS)
        if parameter == "tau":
            return self.posterior.tau_quantile(float(p))
        return self._mixture(parameter).quantile(float(p))

    def density(self, parameter: str, grid) -> np.ndarray:
        """Posterior density of ``parameter`` ("mu", "theta_new" or "tau") at ``grid``."""
        check_option("parameter", parameter, PARAMETERS)
        if parameter == "tau":
            return self.posterior.tau_density(grid)
        return np.asarray(self._mixture(parameter).pdf(np.asarray(grid, dtype=float)))

    def shrinkage(self) -> pd.DataFrame:
        """Posterior of each study's true effect theta_i: mean, sd, median and interval."""
        rows = [summarise_mixture(self.posterior.study_mixture(i), self.confidence_level, self.interval)
                for i in range(self.k)]
        return pd.DataFrame({"label": list(self.labels), "mean": [r.mean for r in rows],
                             "sd": [r.sd for r in rows], "median": [r.median for r in rows],
                             "ci_lb": [r.ci_lb for r in rows], "ci_ub": [r.ci_ub for r in rows]})

    def summary_frame(self) -> pd.DataFrame:
        """One row per study then the pooled row (the shared layout).

        Study rows: the observed ``yi`` with Wald intervals and the posterior
        mean weights, plus the shrinkage estimates in ``shrunk_median``,
        ``shrunk_ci_lb``, ``shrunk_ci_ub``. Pooled row: posterior median and SD
        of mu, the credible and the posterior predictive interval (NaN for one study).
        """
        ci_lb, ci_ub = wald_interval(self.yi, self.vi, self.confidence_level)
        shrunk = self.shrinkage()
        pi_lb, pi_ub = (self.pi_lb, self.pi_ub) if self.has_prediction_interval else (np.nan, np.nan)
        return summary_frame(
            {"label": list(self.labels), "estimate": self.yi, "se": np.sqrt(self.vi), "ci_lb": ci_lb,
             "ci_ub": ci_ub, "weight": self.weights, "shrunk_median": shrunk["median"].to_numpy(),
             "shrunk_ci_lb": shrunk["ci_lb"].to_numpy(), "shrunk_ci_ub": shrunk["ci_ub"].to_numpy()},
            {"label": self.model_label, "estimate": self.estimate, "se": self.se, "ci_lb": self.ci_lb,
             "ci_ub": self.ci_ub, "weight": float(np.sum(self.weights)), "pi_lb": pi_lb, "pi_ub": pi_ub,
             "shrunk_median": np.nan, "shrunk_ci_lb": np.nan, "shrunk_ci_ub": np.nan},
        )


#: Priors of the prior-sensitivity table: name -> options of the refit. Turner's
#: "any outcome" predictive distribution applies to log odds ratios (and, by
#: Turner et al.'s argument, roughly to log risk ratios); it is not meant for logits
#: of single proportions.
SENSITIVITY_PRIORS = {
    "half-normal 0.5": {"tau_prior": "half_normal", "tau_prior_scale": 0.5},
    "half-normal 1": {"tau_prior": "half_normal", "tau_prior_scale": 1.0},
    "half-Cauchy 0.5": {"tau_prior": "half_cauchy", "tau_prior_scale": 0.5},
    "Turner (any outcome)": {"tau_prior": "turner", "tau_prior_scale": None, "tau_prior_outcome": None},
}


def prior_sensitivity(result, priors: dict | None = None, threshold: float = 0.0) -> pd.DataFrame:
    """One row per prior: the result refitted with it (same studies and other options).

    Parameters
    ----------
    result : BayesianResult or BayesianProportionResult
        Anything with ``refit(**options)``.
    priors : dict, optional
        Row label -> refit options; default :data:`SENSITIVITY_PRIORS`.
    threshold : float
        ``prob_above`` threshold (analysis scale for ``BayesianResult``, the
        proportion scale for proportions).

    Returns
    -------
    pandas.DataFrame
        Columns ``prior, estimate, ci_lb, ci_ub, pi_lb, pi_ub, tau_median, tau_ci_lb, tau_ci_ub,
        prob_above`` (analysis scale).

    Examples
    --------
    >>> res = bayesian_meta_analysis([0.2, 0.5, -0.1], [0.04, 0.09, 0.05])
    >>> list(prior_sensitivity(res).prior)
    ['half-normal 0.5', 'half-normal 1', 'half-Cauchy 0.5', 'Turner (any outcome)']
    """
    rows = []
    for label, options in (priors or SENSITIVITY_PRIORS).items():
        fit = result.refit(**options)
        rows.append({"prior": label, "estimate": fit.estimate, "ci_lb": fit.ci_lb, "ci_ub": fit.ci_ub,
                     "pi_lb": fit.pi_lb, "pi_ub": fit.pi_ub, "tau_median": fit.tau_median,
                     "tau_ci_lb": fit.tau_ci_lb, "tau_ci_ub": fit.tau_ci_ub,
                     "prob_above": fit.prob_above(threshold)})
    return pd.DataFrame(rows)


def prior_options(prior: TauPrior) -> dict[str, object]:
    """The keyword arguments that rebuild ``prior`` (tau_prior, tau_prior_scale, and the table's
    outcome and comparison for Turner's and Rhodes' priors)."""
    options = {"tau_prior": prior.name,
               "tau_prior_scale": prior.scale if prior.name in ("half_normal", "half_cauchy", "uniform") else None}
    if prior.name in ("turner", "rhodes"):
        options.update(tau_prior_outcome=prior.outcome, tau_prior_comparison=prior.comparison)
    return options


def _check_effects(yi, vi, labels):
    y = np.asarray(yi, dtype=float).ravel() if np.ndim(yi) else np.atleast_1d(np.asarray(yi, dtype=float))
    v = np.asarray(vi, dtype=float).ravel() if np.ndim(vi) else np.atleast_1d(np.asarray(vi, dtype=float))
    if y.shape != v.shape:
        raise AnalysisError(f"yi and vi must have the same length (got {y.size} and {v.size}).")
    if y.size == 0:
        raise AnalysisError("No studies given: yi and vi are empty.")
    labels = study_labels(labels, y.size)
    for name, values in (("yi", y), ("vi", v)):
        bad = ~np.isfinite(values)
        if np.any(bad):
            which = ", ".join(label for label, b in zip(labels, bad) if b)
            raise AnalysisError(f"{name} is missing or not finite for {which}; drop those studies first.")
    if np.any(v <= 0):
        which = ", ".join(f"{label} ({value:g})" for label, value in zip(labels, v) if value <= 0)
        raise AnalysisError(f"Every vi must be positive (a sampling variance); not so for {which}.")
    return y, v, labels


def bayesian_meta_analysis(
    yi,
    vi,
    *,
    tau_prior: str = "half_normal",
    tau_prior_scale: float | None = DEFAULT_TAU_PRIOR_SCALE,
    mu_prior=None,
    confidence_level: float = 0.95,
    labels=None,
    measure: str | None = None,
    interval: str = "central",
    tau_prior_outcome: str | None = None,
    tau_prior_comparison: str = "pharmacological vs. placebo / control",
) -> BayesianResult:
    """Bayesian random-effects meta-analysis (normal-normal model), as R's bayesmeta.

    Parameters
    ----------
    yi, vi : array-like
        Study estimates and sampling variances on the analysis scale (e.g.
        escalc's log RR, logit).
    tau_prior : {"half_normal", "half_cauchy", "uniform", "improper_uniform", "turner", "rhodes"}
        Prior on tau; see ``analysis.engine._tau_priors``.
    tau_prior_scale : float or None
        Scale (half-normal, half-Cauchy) or upper bound (uniform); must be None
        for the others (pass ``tau_prior_scale=None`` with ``"turner"``).
    mu_prior : None or (mean, sd)
        Flat (None) or normal prior on mu.
    confidence_level : float
        Probability of the credible and predictive intervals.
    labels : sequence of str, optional
    measure : str, optional
        metafor code of the analysis scale (recorded; default "GEN").
    interval : {"central", "shortest"}
        Equal-tailed or shortest credible intervals (bayesmeta's default is
        shortest; the report uses central).
    tau_prior_outcome, tau_prior_comparison : str, optional
        Outcome and comparison type for ``turner`` / ``rhodes`` (None: the
        published "any outcome" distribution).

    Returns
    -------
    BayesianResult

    Notes
    -----
    k = 1 is allowed with a proper tau prior: the posterior of tau is then
    the prior (a flat mu prior absorbs the single study), and mu's interval
    widens by the prior's tau. An improper posterior is refused (see
    :func:`check_proper`).

    References
    ----------
    Röver C (2020). Bayesian random-effects meta-analysis using the bayesmeta R
    package. J Stat Softw 93(6):1-51.
    Friede T, Röver C, Wandel S, Neuenschwander B (2017). Meta-analysis of two
    studies in the presence of heterogeneity with applications in rare
    diseases. Biom J 59(4):658-671.

    Examples
    --------
    >>> res = bayesian_meta_analysis([0.2, 0.5, -0.1], [0.04, 0.09, 0.05])
    >>> print(f"{res.mu_median:.3f} [{res.mu_ci_lb:.3f}, {res.mu_ci_ub:.3f}]")
    0.169 [-0.512, 0.898]
    >>> print(f"{res.prob_above(0.0):.3f}")
    0.770
    """
    check_option("interval", interval, INTERVALS)
    confidence_level = check_confidence_level(confidence_level)
    prior = make_tau_prior(tau_prior, tau_prior_scale, outcome=tau_prior_outcome, comparison=tau_prior_comparison)
    mu_prior = check_mu_prior(mu_prior)
    y, v, labels = _check_effects(yi, vi, labels)
    k = y.size
    check_proper(prior, mu_prior, k)
    notes = []
    if k == 1:
        notes.append("One study: the posterior of tau is driven by its prior "
                     f"({prior.label}); the interval for mu includes that heterogeneity.")
    posterior = NormalPosterior.fit(y, v, prior, mu_prior)
    mu = summarise_mixture(posterior.mu_mixture(), confidence_level, interval)
    pred = summarise_mixture(posterior.predictive_mixture(), confidence_level, interval)
    tau_lb, tau_ub = tau_interval(posterior.tau_quantile, confidence_level, interval)
    tau_mean = float(posterior.node_probability @ posterior.rule.tau)
    return BayesianResult(
        yi=y, vi=v, labels=labels, measure=measure or "GEN", confidence_level=confidence_level,
        interval=interval, tau_prior=prior, mu_prior=mu_prior, k=k,
        mu_mean=mu.mean, mu_sd=mu.sd, mu_median=mu.median, mu_ci_lb=mu.ci_lb, mu_ci_ub=mu.ci_ub,
        tau_mean=tau_mean, tau_median=posterior.tau_quantile(0.5), tau_ci_lb=tau_lb, tau_ci_ub=tau_ub,
        pred_mean=pred.mean, pred_sd=pred.sd, pred_median=pred.median, pred_ci_lb=pred.ci_lb,
        pred_ci_ub=pred.ci_ub, notes=tuple(notes), posterior=posterior,
    )

