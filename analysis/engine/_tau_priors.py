"""Prior distributions for the between-study SD tau of the Bayesian models.

Each prior is a :class:`TauPrior` with a vectorised log-density, CDF and
quantile function on the tau scale (not tau²). Scales are on the analysis
scale of the effect (log RR, log OR, logit).

- ``half_normal``: |N(0, scale²)|; the usual weakly informative default
  (scale 0.5 on log-ratio and logit scales; Friede et al. 2017, Röver et al. 2021).
- ``half_cauchy``: |Cauchy(0, scale)|; heavier tail (Gelman 2006).
- ``uniform``: uniform on [0, scale].
- ``improper_uniform``: constant on [0, infinity) (bayesmeta's default
  ``tau.prior="uniform"``); the posterior is proper only with at least 3
  studies under a flat mu prior (2 under a normal mu prior).
- ``turner``: the log-normal predictive distribution for tau² of Turner et
  al. (2015, Table IV) for log odds ratios, by outcome type and comparison;
  ``log tau² ~ N(m, s²)``, so tau is log-normal with ``(m/2, s/2)``.
- ``rhodes``: the predictive distribution for tau² of Rhodes et al. (2015,
  Table 3) for standardised mean differences; a log-Student-t with 5 degrees
  of freedom (not a log-normal), so ``log tau² = m + s T_5``.

The Turner and Rhodes tables are transcribed from bayesmeta 3.4's
``TurnerEtAlPrior()`` and ``RhodesEtAlPrior()`` (R/bayesmeta.R), which cite
the same tables; ``tests/reference/bayesian.R`` pins bayesmeta's densities.

References
----------
Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive
distributions for between-study heterogeneity and simple methods for their
application in Bayesian meta-analysis. Stat Med 34(6):984-998, Table IV.
Rhodes KM, Turner RM, Higgins JPT (2015). Predictive distributions were
developed for the extent of heterogeneity in meta-analyses of continuous
outcome data. J Clin Epidemiol 68(1):52-60, Table 3.
Röver C (2020). Bayesian random-effects meta-analysis using the bayesmeta R
package. J Stat Softw 93(6):1-51. doi:10.18637/jss.v093.i06.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.engine._errors import AnalysisError, check_option

TAU_PRIORS = ("half_normal", "half_cauchy", "uniform", "improper_uniform", "turner", "rhodes")

#: Turner et al. (2015) Table IV: comparison types (columns).
TURNER_COMPARISONS = (
    "pharmacological vs. placebo / control",
    "pharmacological vs. pharmacological",
    "non-pharmacological vs. placebo / control",
    "non-pharmacological vs. pharmacological",
    "non-pharmacological vs. non-pharmacological",
)

#: Turner et al. (2015) Table IV: outcome types (rows).
TURNER_OUTCOMES = (
    "all-cause mortality",
    "obstetric outcomes",
    "cause-specific mortality / major morbidity event / composite (mortality or morbidity)",
    "resource use / hospital stay / process",
    "surgical / device related success / failure",
    "withdrawals / drop-outs",
    "internal / structure-related outcomes",
    "general physical health indicators",
    "adverse events",
    "infection / onset of new disease",
    "signs / symptoms reflecting continuation / end of condition",
    "pain",
    "quality of life / functioning (dichotomized)",
    "mental health indicators",
    "biological markers (dichotomized)",
    "subjective outcomes (various)",
)

# Mean of log tau² (one tuple per comparison type, outcomes in TURNER_OUTCOMES order).
_TURNER_MEAN = (
    (-3.95, -3.52, -3.71, -2.34, -2.14, -2.99, -2.71, -2.29, -1.87, -2.49, -2.06, -1.83, -2.54, -2.12, -1.77, -2.70),
    (-4.18, -3.75, -3.95, -2.58, -2.37, -3.23, -2.94, -2.53, -2.10, -2.73, -2.29, -2.06, -2.78, -2.35, -2.00, -2.93),
    (-4.17, -3.74, -3.93, -2.56, -2.36, -3.21, -2.93, -2.51, -2.10, -2.71, -2.28, -2.05, -2.77, -2.34, -1.99, -2.92),
    (-2.92, -2.49, -2.68, -1.31, -1.11, -1.96, -1.67, -1.26, -0.84, -1.46, -1.03, -0.80, -1.51, -1.09, -0.74, -1.67),
    (-3.50, -3.08, -3.27, -1.90, -1.69, -2.55, -2.26, -1.85, -1.43, -2.05, -1.61, -1.38, -2.10, -1.67, -1.33, -2.26),
)
# SD of log tau², same layout.
_TURNER_SD = (
    (1.34, 1.74, 1.74, 1.74, 1.74, 1.74, 1.74, 1.53, 1.52, 1.52, 1.51, 1.52, 1.54, 1.53, 1.52, 1.52),
    (1.41, 1.79, 1.79, 1.79, 1.79, 1.79, 1.79, 1.58, 1.58, 1.58, 1.58, 1.58, 1.60, 1.60, 1.58, 1.58),
    (1.55, 1.91, 1.91, 1.91, 1.91, 1.91, 1.92, 1.72, 1.71, 1.71, 1.71, 1.71, 1.73, 1.72, 1.71, 1.71),
    (1.02, 1.50, 1.51, 1.50, 1.50, 1.51, 1.51, 1.25, 1.24, 1.24, 1.24, 1.25, 1.27, 1.27, 1.24, 1.25),
    (1.26, 1.68, 1.68, 1.68, 1.68, 1.68, 1.68, 1.46, 1.45, 1.45, 1.45, 1.45, 1.47, 1.47, 1.45, 1.45),
)
#: Turner et al. (2015) p. 993: the marginal ("any outcome") distribution, log tau² ~ N(-2.56, 1.74²).
TURNER_ANY = (-2.56, 1.74)

#: Rhodes et al. (2015) Table 3 ("other" medical areas): comparison types.
RHODES_COMPARISONS = (
    "pharmacological vs. placebo / control",
    "pharmacological vs. pharmacological",
    "non-pharmacological (any)",
)
#: Rhodes et al. (2015) Table 3: outcome types.
RHODES_OUTCOMES = (
    "obstetric outcome",
    "resource use and hospital stay / process",
    "internal and external structure-related outcome",
    "general physical health and adverse event and pain and quality of life / functioning",
    "signs / symptoms reflecting continuation / end of condition and infection / onset of new acute / chronic disease",
    "mental health outcome",
    "biological marker",
    "various subjectively measured outcomes",
)
_RHODES_LOCATION = (
    (-4.13, -2.55, -2.43, -3.16, -3.00, -2.99, -3.41, -2.76),
    (-4.40, -2.83, -2.70, -3.44, -3.27, -3.27, -3.68, -3.03),
    (-3.99, -2.41, -2.29, -3.02, -2.86, -3.85, -3.27, -2.62),
)
_RHODES_SCALE = (
    (2.34, 2.73, 2.50, 2.50, 2.50, 2.16, 2.83, 2.58),
    (2.31, 2.70, 2.46, 2.44, 2.47, 2.14, 2.78, 2.59),
    (2.11, 2.57, 2.32, 2.27, 2.33, 1.93, 2.66, 2.41),
)
#: Rhodes et al. (2015) Section 3.3: the general (any outcome) distribution, log tau² = -3.44 + 2.59 T_5.
RHODES_ANY = (-3.44, 2.59)
#: Degrees of freedom of Rhodes et al.'s log-t distribution.
RHODES_DF = 5


@dataclass(frozen=True)
class TauPrior:
    """A prior on tau (the between-study SD).

    Attributes
    ----------
    name : str
        One of :data:`TAU_PRIORS`.
    scale : float
        Scale (half-normal, half-Cauchy), upper bound (uniform); for ``turner``
        and ``rhodes`` the location and scale of log tau² are ``log_location``
        and ``log_scale`` instead.
    log_location, log_scale : float
        ``turner``: mean and SD of log tau²; ``rhodes``: location and scale of
        the log-t for log tau². NaN otherwise.
    proper : bool
        Whether the prior integrates to one.
    upper : float
        Upper end of the support (``inf`` unless uniform).
    label : str
        Short description, e.g. ``"half-normal 0.5"``.
    """

    name: str
    scale: float
    log_location: float = np.nan
    log_scale: float = np.nan
    proper: bool = True
    upper: float = np.inf
    label: str = ""
    outcome: str | None = None
    comparison: str | None = None

    def logpdf(self, tau) -> np.ndarray:
        """Log density at ``tau`` (-inf outside the support)."""
        tau = np.asarray(tau, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.name == "half_normal":
                z = tau / self.scale
                out = np.log(2.0) - 0.5 * z * z - 0.5 * np.log(2.0 * np.pi) - np.log(self.scale)
            elif self.name == "half_cauchy":
                z = tau / self.scale
                out = np.log(2.0 / np.pi) - np.log(self.scale) - np.log1p(z * z)
            elif self.name == "uniform":
                out = np.where(tau <= self.scale, -np.log(self.scale), -np.inf)
            elif self.name == "improper_uniform":
                out = np.zeros_like(tau)
            elif self.name == "turner":
                # log tau ~ N(m/2, (s/2)^2)
                m, s = self.log_location / 2.0, self.log_scale / 2.0
                z = (np.log(tau) - m) / s
                out = -0.5 * z * z - 0.5 * np.log(2.0 * np.pi) - np.log(s) - np.log(tau)
            else:  # rhodes: log tau = m/2 + (s/2) T_5
                m, s = self.log_location / 2.0, self.log_scale / 2.0
                z = (np.log(tau) - m) / s
                df = RHODES_DF
                log_t = (special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
                         - (df + 1) / 2 * np.log1p(z * z / df))
                out = log_t - np.log(s) - np.log(tau)
        # log-normal and log-t densities vanish at 0 (the formula gives NaN there).
        return np.where((tau < 0) | ((tau == 0) & ~np.isfinite(out)), -np.inf, out)

    def pdf(self, tau) -> np.ndarray:
        """Density at ``tau``."""
        return np.exp(self.logpdf(tau))

    def cdf(self, tau) -> np.ndarray:
        """P(tau' <= tau) (NaN for the improper prior)."""
        tau = np.maximum(np.asarray(tau, dtype=float), 0.0)
        with np.errstate(divide="ignore"):
            if self.name == "half_normal":
                return 2.0 * special.ndtr(tau / self.scale) - 1.0
            if self.name == "half_cauchy":
                return 2.0 / np.pi * np.arctan(tau / self.scale)
            if self.name == "uniform":
                return np.minimum(tau / self.scale, 1.0)
            if self.name == "turner":
                return special.ndtr((np.log(tau) - self.log_location / 2.0) / (self.log_scale / 2.0))
            if self.name == "rhodes":
                return special.stdtr(RHODES_DF, (np.log(tau) - self.log_location / 2.0) / (self.log_scale / 2.0))
        return np.full_like(tau, np.nan)

    def quantile(self, p) -> np.ndarray:
        """Inverse of :meth:`cdf` (NaN for the improper prior)."""
        p = np.asarray(p, dtype=float)
        if self.name == "half_normal":
            return self.scale * special.ndtri((p + 1.0) / 2.0)
        if self.name == "half_cauchy":
            return self.scale * np.tan(np.pi * p / 2.0)
        if self.name == "uniform":
            return self.scale * p
        if self.name == "turner":
            return np.exp(self.log_location / 2.0 + self.log_scale / 2.0 * special.ndtri(p))
        if self.name == "rhodes":
            return np.exp(self.log_location / 2.0 + self.log_scale / 2.0 * special.stdtrit(RHODES_DF, p))
        return np.full_like(p, np.nan)


def _lookup(table_mean, table_sd, outcomes, comparisons, outcome, comparison, any_values, name):
    if outcome is None:
        return any_values
    check_option(f"{name} outcome", outcome, outcomes)
    check_option(f"{name} comparison", comparison, comparisons)
    column = comparisons.index(comparison)
    row = outcomes.index(outcome)
    return table_mean[column][row], table_sd[column][row]


#: The half-normal scale every Bayesian function uses unless told otherwise, on the log-ratio or
#: logit scale: half-normal(1) kept its 95 % intervals at or above nominal coverage at k <= 5 in
#: simulations of one to five studies (``benchmarks/coverage.py``), where half-normal(0.5) fell
#: short at large heterogeneity. ``analysis.review.plan.AnalysisPlan`` uses the same value, so a
#: direct call and the report give the same result.
DEFAULT_TAU_PRIOR_SCALE = 1.0


def make_tau_prior(name: str, scale: float | None = None, *, outcome: str | None = None,
                   comparison: str = "pharmacological vs. placebo / control") -> TauPrior:
    """Build a :class:`TauPrior` from its name and scale, checking both.

    Parameters
    ----------
    name : {"half_normal", "half_cauchy", "uniform", "improper_uniform", "turner", "rhodes"}
    scale : float, optional
        Positive scale (half-normal, half-Cauchy) or upper bound (uniform);
        required for those, not allowed for the others.
    outcome, comparison : str, optional
        ``turner`` / ``rhodes``: outcome type and comparison type of the
        published table (:data:`TURNER_OUTCOMES`, :data:`TURNER_COMPARISONS`,
        :data:`RHODES_OUTCOMES`, :data:`RHODES_COMPARISONS`); no outcome gives
        the marginal ("any outcome") distribution.

    Examples
    --------
    >>> make_tau_prior("half_normal", 0.5).label
    'half-normal 0.5'
    >>> prior = make_tau_prior("turner", outcome="pain")
    >>> prior.log_location, prior.log_scale
    (-1.83, 1.52)
    """
    check_option("tau_prior", name, TAU_PRIORS)
    scaled = name in ("half_normal", "half_cauchy", "uniform")
    if scaled:
        if scale is None or not np.isfinite(scale) or scale <= 0:
            raise AnalysisError(
                f"tau_prior={name!r} needs a positive, finite tau_prior_scale (got {scale!r}); "
                "e.g. 0.5 on the log-ratio or logit scale."
            )
        scale = float(scale)
        pretty = {"half_normal": "half-normal", "half_cauchy": "half-Cauchy", "uniform": "uniform(0,"}[name]
        label = f"{pretty} {scale:g}" + (")" if name == "uniform" else "")
        return TauPrior(name=name, scale=scale, upper=scale if name == "uniform" else np.inf, label=label)
    if scale is not None:
        raise AnalysisError(f"tau_prior={name!r} takes no tau_prior_scale (got {scale!r}); leave it as None.")
    if name == "improper_uniform":
        return TauPrior(name=name, scale=np.nan, proper=False, label="improper uniform")
    if name == "turner":
        location, log_scale = _lookup(_TURNER_MEAN, _TURNER_SD, TURNER_OUTCOMES, TURNER_COMPARISONS,
                                      outcome, comparison, TURNER_ANY, "turner")
        label = f"Turner log-normal({location:g}, {log_scale:g}²) for tau²"
    else:
        location, log_scale = _lookup(_RHODES_LOCATION, _RHODES_SCALE, RHODES_OUTCOMES, RHODES_COMPARISONS,
                                      outcome, comparison, RHODES_ANY, "rhodes")
        label = f"Rhodes log-t5({location:g}, {log_scale:g}) for tau²"
    return TauPrior(name=name, scale=np.nan, log_location=location, log_scale=log_scale, label=label,
                    outcome=outcome, comparison=comparison if outcome is not None else None)
