"""The binomial-normal (logit) random-effects model fitted by maximum likelihood.

The engine behind ``pool_proportions(method="GLMM")``: metafor's
``rma.glmm(measure="PLO")``, i.e. lme4's ``glmer`` with adaptive Gauss-Hermite
quadrature (``nAGQ`` points) over each study's random effect, written in numpy
and scipy. :func:`fit_binomial_normal` returns the estimates;
:mod:`analysis.engine.proportions` turns them into a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize, special

from analysis.engine._errors import AnalysisError

#: lme4 ``nAGQ``; rma.glmm's default is 7.
DEFAULT_QUADRATURE_POINTS = 7

#: Convergence of the conditional-mode search (absolute, on the u scale).
MODE_TOLERANCE = 1e-13
MODE_MAX_ITERATIONS = 200

#: Newton iterations on (theta, mu): stop when the step is this small. The
#: central-difference gradient carries noise of ~1e-9 (the modes are solved
#: to 1e-13), so a smaller threshold would chase noise.
OUTER_TOLERANCE = 1e-8
OUTER_MAX_ITERATIONS = 100

#: Step for the central-difference derivatives of the deviance. lme4's
#: ``deriv12`` uses 1e-4 as well; the truncation error is O(step^2).
DERIVATIVE_STEP = 1e-4

#: tau² below this is reported as on the boundary (theta is optimised to
#: ~1e-10, so tau2 = theta² is then < 1e-20).
TAU2_BOUNDARY = 1e-12

#: tau² above this (logit scale: tau = 10) means the likelihood keeps rising
#: with tau (e.g. studies at 0 and at all events); a note says so.
TAU2_LARGE = 100.0


@dataclass(frozen=True)
class _GlmmFit:
    """Maximum-likelihood fit of the binomial-normal model (internal)."""

    mu: float
    tau2: float
    vcov_mu: float
    loglik: float
    hessian: np.ndarray
    used_hessian: bool
    iterations: int


@lru_cache(maxsize=16)
def quadrature(points: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = hermegauss(points)
    # hermegauss integrates against exp(-z^2/2); dividing by sqrt(2 pi) gives
    # a rule for the standard normal density (weights sum to one).
    log_weights = np.log(weights / np.sqrt(2.0 * np.pi))
    log_phi = -0.5 * nodes**2 - 0.5 * np.log(2.0 * np.pi)
    log_w_over_phi = log_weights - log_phi
    nodes.setflags(write=False)
    log_w_over_phi.setflags(write=False)
    return nodes, log_w_over_phi


def conditional_modes(x, n, mu, tau, start=None):
    """Mode of log Binom(x | n, expit(mu + tau u)) - u^2/2 for every study.

    The score ``tau (x - n p) - u`` is strictly decreasing in ``u`` and changes
    sign on ``[tau (x - n), tau x]`` (for ``tau >= 0``), so Newton's method is
    safeguarded by bisection on that bracket. ``start`` (e.g. the modes at a
    nearby parameter value) only changes the number of iterations.
    """
    lo = np.minimum(tau * (x - n), tau * x)
    hi = np.maximum(tau * (x - n), tau * x)
    u = np.clip(np.zeros_like(x) if start is None else start, lo, hi)
    for _ in range(MODE_MAX_ITERATIONS):
        p = special.expit(mu + tau * u)
        score = tau * (x - n * p) - u
        curvature = tau * tau * n * p * (1.0 - p) + 1.0
        step = score / curvature
        if np.all(np.abs(step) <= MODE_TOLERANCE * (1.0 + np.abs(u))):
            u = u + step
            break
        positive = score > 0
        lo = np.where(positive, u, lo)
        hi = np.where(positive, hi, u)
        u_new = u + step
        outside = (u_new <= lo) | (u_new >= hi)
        u = np.where(outside & (hi > lo), 0.5 * (lo + hi), u_new)
    p = special.expit(mu + tau * u)
    curvature = tau * tau * n * p * (1.0 - p) + 1.0
    return u, curvature


def binomial_loglik(x, n, eta, log_choose):
    # x * eta - n * log(1 + exp(eta)), written to stay finite for large |eta|.
    return log_choose + x * eta - n * np.logaddexp(0.0, eta)


class _BinomialNormal:
    """Adaptive Gauss-Hermite marginal log-likelihood of one data set.

    Keeps the conditional modes of the last evaluation as the starting point
    of the next one (the optimiser moves in small steps).
    """

    def __init__(self, x, n, points):
        self.x = x
        self.n = n
        self.log_choose = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
        self.nodes, self.log_w_over_phi = quadrature(points)
        self.u_start = None

    def loglik(self, mu, theta):
        tau = abs(theta)
        u_hat, curvature = conditional_modes(self.x, self.n, mu, tau, self.u_start)
        self.u_start = u_hat
        scale = 1.0 / np.sqrt(curvature)
        u = u_hat[:, None] + scale[:, None] * self.nodes[None, :]
        eta = mu + tau * u
        terms = (
            binomial_loglik(self.x[:, None], self.n[:, None], eta, self.log_choose[:, None])
            - 0.5 * u**2
            + self.log_w_over_phi[None, :]
        )
        top = terms.max(axis=1)
        per_study = np.log(scale) + top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
        return float(per_study.sum()) - 0.5 * np.log(2.0 * np.pi) * self.x.size


def _marginal_loglik(x, n, mu, theta, points=DEFAULT_QUADRATURE_POINTS):
    """Adaptive Gauss-Hermite approximation of the marginal log-likelihood."""
    return _BinomialNormal(x, n, points).loglik(mu, theta)


def _derivatives(f, z, step):
    """Central-difference gradient and Hessian of ``f`` at ``z`` (2 parameters)."""
    f0 = f(z)
    grad = np.empty(2)
    hess = np.empty((2, 2))
    e = np.eye(2) * step
    fp = [f(z + e[i]) for i in range(2)]
    fm = [f(z - e[i]) for i in range(2)]
    for i in range(2):
        grad[i] = (fp[i] - fm[i]) / (2.0 * step)
        hess[i, i] = (fp[i] - 2.0 * f0 + fm[i]) / step**2
    fpp = f(z + e[0] + e[1])
    fmm = f(z - e[0] - e[1])
    fpm = f(z + e[0] - e[1])
    fmp = f(z - e[0] + e[1])
    hess[0, 1] = hess[1, 0] = (fpp - fpm - fmp + fmm) / (4.0 * step**2)
    return f0, grad, hess


def fit_binomial_normal(events, n, start_mu, start_tau, points=DEFAULT_QUADRATURE_POINTS):
    """Fit the model; ``start_*`` are starting values (e.g. from a DL fit on logits)."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)

    model = _BinomialNormal(x, n, points)

    def deviance(z):
        return -2.0 * model.loglik(z[1], z[0])

    z = np.array([max(start_tau, 0.1), start_mu], dtype=float)
    iterations = 0
    converged = False
    for iterations in range(1, OUTER_MAX_ITERATIONS + 1):
        f0, grad, hess = _derivatives(deviance, z, DERIVATIVE_STEP)
        eigenvalues = np.linalg.eigvalsh(hess)
        if np.all(eigenvalues > 0):
            step = -np.linalg.solve(hess, grad)
        else:
            # Far from the optimum the deviance need not be convex: take a
            # gradient step scaled by the largest curvature instead.
            step = -grad / max(np.max(np.abs(eigenvalues)), 1.0)
        t = 1.0
        while t > 1e-8 and deviance(z + t * step) > f0 + 1e-12 * abs(f0):
            t *= 0.5
        if t <= 1e-8 and np.max(np.abs(grad)) < 1e-5:
            # No decrease along a Newton step with a vanishing gradient: at
            # the optimum up to the noise of the finite differences.
            converged = True
            break
        z = z + t * step
        if np.max(np.abs(t * step)) < OUTER_TOLERANCE:
            converged = True
            break
    if not converged:
        # Fall back to a derivative-free search from the last point.
        opt = optimize.minimize(
            deviance, z, method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 5000},
        )
        diverging = opt.status == 2 and opt.x[0] ** 2 > TAU2_LARGE
        if not opt.success and not diverging:
            # (a search that runs out of iterations far out on the tau axis is the
            # likelihood rising without bound: its point is kept and flagged as
            # implausibly large by the caller)
            raise AnalysisError(
                "The binomial-normal GLMM did not converge; check the events and n "
                "(e.g. a single study, or every study with 0 events)."
            )
        z = opt.x
    z[0] = abs(z[0])
    if z[0] ** 2 < TAU2_BOUNDARY:
        # On the boundary: report tau2 = 0 exactly, as lme4 does (theta >= 0).
        z[0] = 0.0
    _, _, hess = _derivatives(deviance, z, DERIVATIVE_STEP)
    cov = 2.0 * _inverse_or_none(hess)
    used_hessian = cov is not None and np.all(np.linalg.eigvalsh(cov) > 0)
    if used_hessian:
        vcov_mu = float(cov[1, 1])
    else:
        # lme4 falls back to the variance from the fixed-effect block when the
        # full Hessian is not positive definite (e.g. theta on the boundary).
        vcov_mu = float(2.0 / hess[1, 1])
    return _GlmmFit(
        mu=float(z[1]),
        tau2=float(z[0] ** 2),
        vcov_mu=vcov_mu,
        loglik=_marginal_loglik(x, n, z[1], z[0], points),
        hessian=hess,
        used_hessian=bool(used_hessian),
        iterations=iterations,
    )


def _inverse_or_none(matrix):
    try:
        return np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return None


def fixed_effect_logit(events, n):
    """ML estimate of a common logit (``glm(cbind(x, n - x) ~ 1, binomial)``)."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    p = x.sum() / n.sum()
    mu = float(special.logit(p))
    return mu, float(1.0 / (n.sum() * p * (1.0 - p)))


def binomial_loglik_sum(events, n, probabilities):
    """Sum of binomial log-likelihoods; 0 * log 0 taken as 0."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    log_choose = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    return float(np.sum(log_choose + special.xlogy(x, p) + special.xlog1py(n - x, -p)))
