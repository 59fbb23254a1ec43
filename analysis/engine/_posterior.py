"""Numerical machinery shared by the Bayesian models (internal).

Three pieces:

- :class:`TauRule`: composite Gauss-Legendre quadrature over tau in [0, inf),
  through ``u = tau / (tau + s)`` (``s`` near the posterior median of tau, so
  the posterior's bulk fills the middle of [0, 1) whatever its scale; a
  half-Cauchy tail becomes a bounded density near u = 1). Within each panel the
  posterior density is the polynomial through its Gauss-Legendre nodes, so the
  CDF at any tau (and hence quantiles) is as accurate as the integral.
- :class:`NormalMixture`: a mixture of normals over the tau nodes (the
  normal-normal model's posteriors of mu and of a new study's effect), with
  exact CDF and density.
- :class:`GridMixture`: a mixture over the tau nodes of piecewise-uniform
  densities on fine cells, optionally convolved with N(0, tau²) (the
  binomial-normal model, where mu given tau is not normal), with closed-form
  CDF and density.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.polynomial import legendre
from scipy import optimize, special

#: Gauss-Legendre nodes per panel and number of panels of the tau rule. 12
#: panels of 8 nodes integrate the posterior of tau to ~1e-8 relative accuracy
#: for posteriors whose relative spread (SD / median) exceeds 0.1, which covers
#: every meta-analysis of up to a few dozen studies (checked against bayesmeta
#: in tests/test_bayesian_reference.py and against doubled rules in tests).
PANEL_NODES = 8
PANELS = 12

#: Tolerance of quantile root finding, in posterior SDs (the quadrature error is
#: ~1e-6 SD for the normal-normal model and ~1e-3 SD for the binomial-normal
#: model; solving further would not make the quantile more accurate).
QUANTILE_XTOL = 1e-8

_SQRT_2PI = np.sqrt(2.0 * np.pi)


@lru_cache(maxsize=8)
def _legendre_panel(nodes: int):
    x, w = legendre.leggauss(nodes)
    # Discrete Legendre transform: coefficients of the interpolating polynomial
    # through the nodes, c_l = (2l + 1)/2 sum_q w_q g_q P_l(x_q).
    vander = legendre.legvander(x, nodes - 1)  # (q, l)
    transform = (vander * w[:, None]).T * ((2 * np.arange(nodes) + 1) / 2.0)[:, None]  # (l, q)
    for array in (x, w, transform):
        array.setflags(write=False)
    return x, w, transform


@dataclass(frozen=True)
class TauRule:
    """Composite Gauss-Legendre rule for tau on [0, upper).

    Attributes
    ----------
    s : float
        Scale of the map ``u = tau / (tau + s)``.
    u_edges : ndarray
        Panel edges in u.
    tau : ndarray
        Nodes (panels x nodes, flattened).
    log_weights : ndarray
        log(Gauss-Legendre weight x dtau/du) at the nodes: integral of f over
        tau = sum exp(log f(tau) + log_weights).
    """

    s: float
    u_edges: np.ndarray
    tau: np.ndarray
    log_weights: np.ndarray

    @classmethod
    def build(cls, s: float, upper: float = np.inf, panels: int = PANELS, nodes: int = PANEL_NODES) -> TauRule:
        """Rule with scale ``s`` on [0, upper)."""
        u_max = 1.0 if not np.isfinite(upper) else upper / (upper + s)
        edges = np.linspace(0.0, u_max, panels + 1)
        x, w, _ = _legendre_panel(nodes)
        half = 0.5 * np.diff(edges)
        mid = 0.5 * (edges[:-1] + edges[1:])
        u = (mid[:, None] + half[:, None] * x[None, :]).ravel()
        wu = (half[:, None] * w[None, :]).ravel()
        tau = s * u / (1.0 - u)
        log_w = np.log(wu) + np.log(s) - 2.0 * np.log1p(-u)
        return cls(s=s, u_edges=edges, tau=tau, log_weights=log_w)

    @property
    def shape(self) -> tuple[int, int]:
        return self.u_edges.size - 1, self.tau.size // (self.u_edges.size - 1)

    def cdf_function(self, density):
        """CDF of tau given its normalised density at the nodes (on the tau scale).

        Returns the functions tau -> P(tau' <= tau) and p -> tau (quantile).
        """
        panels, nodes = self.shape
        _, w, transform = _legendre_panel(nodes)
        half = 0.5 * np.diff(self.u_edges)
        u = self.tau / (self.tau + self.s)
        # density in u: g(u) = f(tau) dtau/du
        g = (density * self.s / (1.0 - u) ** 2).reshape(panels, nodes)
        coefs = g @ transform.T  # (panel, l) Legendre coefficients on [-1, 1]
        antiderivative = legendre.legint(coefs, lbnd=-1, axis=1) * half[:, None]
        masses = legendre.legval(1.0, antiderivative.T)
        total = masses.sum()
        cumulative = np.concatenate([[0.0], np.cumsum(masses)]) / total

        def quantile(p: float) -> float:
            if p <= 0:
                return 0.0
            j = min(int(np.searchsorted(cumulative, p, side="right")) - 1, panels - 1)
            target = (p - cumulative[j]) * total
            x = optimize.brentq(lambda x: legendre.legval(x, antiderivative[j]) - target, -1.0, 1.0,
                                xtol=1e-13, rtol=1e-14) if target > 0 else -1.0
            u_value = self.u_edges[j] + half[j] * (x + 1.0)
            return float(self.s * u_value / (1.0 - u_value))

        def cdf(tau_value: float) -> float:
            if tau_value <= 0:
                return 0.0
            u_value = tau_value / (tau_value + self.s)
            if u_value >= self.u_edges[-1]:
                return 1.0
            j = min(int(np.searchsorted(self.u_edges, u_value, side="right")) - 1, panels - 1)
            x = (u_value - self.u_edges[j]) / half[j] - 1.0
            return float(cumulative[j] + legendre.legval(x, antiderivative[j]) / total)

        return cdf, quantile


@dataclass(frozen=True)
class NormalMixture:
    """Mixture over rows of ``N(center, scale²)`` with probabilities ``weights``.

    The normal-normal model's marginal posteriors: mu given tau is normal, so
    mu's posterior is this mixture over the tau nodes, and a new study's
    effect its convolution with ``N(0, tau²)``.
    """

    weights: np.ndarray
    center: np.ndarray
    scale: np.ndarray

    def convolve(self, extra_sd) -> NormalMixture:
        """Distribution of X + N(0, extra_sd²) (extra_sd per row)."""
        return NormalMixture(self.weights, self.center, np.sqrt(self.scale**2 + np.asarray(extra_sd) ** 2))

    def mean(self) -> float:
        return float(self.weights @ self.center)

    def sd(self) -> float:
        mean = self.mean()
        return float(np.sqrt(max(self.weights @ (self.center**2 + self.scale**2) - mean**2, 0.0)))

    def cdf(self, x) -> np.ndarray:
        """P(X <= x), vectorised over x."""
        x = np.asarray(x, dtype=float)
        return special.ndtr((x[..., None] - self.center) / self.scale) @ self.weights

    def pdf(self, x) -> np.ndarray:
        """Density at x, vectorised over x."""
        x = np.asarray(x, dtype=float)
        z = (x[..., None] - self.center) / self.scale
        return (np.exp(-0.5 * z * z) / (_SQRT_2PI * self.scale)) @ self.weights

    def quantile(self, p: float) -> float:
        """x with P(X <= x) = p."""
        return mixture_quantile(self, p)


#: First bracket of a quantile: the normal approximation's quantile +- this many SDs.
BRACKET_SDS = 0.25


def mixture_quantile(mixture, p: float) -> float:
    """Quantile of a mixture with ``cdf``, ``mean`` and ``sd``: Brent's method in a bracket
    grown from the normal approximation (most quantiles need 1-2 bracket and ~6 Brent steps)."""
    mean, sd = mixture.mean(), mixture.sd()
    guess = mean + sd * float(special.ndtri(p))
    width = BRACKET_SDS * sd
    lo, hi = guess - width, guess + width
    f_lo, f_hi = float(mixture.cdf(lo)) - p, float(mixture.cdf(hi)) - p
    while f_lo > 0:
        lo, hi, f_hi = lo - 2.0 * width, lo, f_lo
        width *= 2.0
        f_lo = float(mixture.cdf(lo)) - p
    while f_hi < 0:
        lo, hi, f_lo = hi, hi + 2.0 * width, f_hi
        width *= 2.0
        f_hi = float(mixture.cdf(hi)) - p
    return _illinois(lambda x: float(mixture.cdf(x)) - p, lo, hi, f_lo, f_hi, QUANTILE_XTOL * sd)


def _illinois(f, lo, hi, f_lo, f_hi, xtol, max_iterations=100):
    """Root of an increasing f in [lo, hi] (f_lo <= 0 <= f_hi given) by the Illinois
    variant of regula falsi: superlinear on smooth CDFs, and it reuses the bracket's values."""
    side = 0
    x = previous = lo
    for _ in range(max_iterations):
        x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (lo + hi)
        if abs(x - previous) <= xtol or hi - lo <= xtol:
            break
        previous = x
        fx = f(x)
        if fx == 0:
            return x
        if fx < 0:
            lo, f_lo = x, fx
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi = x, fx
            if side == 1:
                f_lo *= 0.5
            side = 1
    return float(x)


def shortest_interval(quantile, level: float, lower_bound: float = -np.inf) -> tuple[float, float]:
    """Shortest interval with probability ``level`` of a unimodal distribution.

    ``quantile`` is the inverse CDF; the interval ``[q(p), q(p + level)]``
    is minimised over ``p`` in [0, 1 - level]. ``lower_bound`` is the support's
    lower end (0 for tau), used when the optimum is at p = 0.
    """
    def width(p):
        return quantile(p + level) - (lower_bound if p <= 0 else quantile(p))

    result = optimize.minimize_scalar(width, bounds=(0.0, 1.0 - level), method="bounded",
                                      options={"xatol": 1e-10})
    p = float(result.x)
    if np.isfinite(lower_bound) and width(0.0) <= width(p):
        return lower_bound, quantile(level)
    return quantile(p), quantile(p + level)


def _integrated_normal_cdf(y, sd):
    """psi(y) = int_{-inf}^{y} Phi(t / sd) dt = y Phi(y / sd) + sd phi(y / sd) (psi(y) = max(y, 0) at sd = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = y / sd
        value = y * special.ndtr(z) + sd * np.exp(-0.5 * z * z) / _SQRT_2PI
    return np.where(sd > 0, value, np.maximum(y, 0.0))


@dataclass(frozen=True)
class GridMixture:
    """Mixture over rows of piecewise-uniform densities, optionally convolved with N(0, extra_sd²).

    Row ``t`` puts probability ``weights[t] * masses[t, m]`` uniformly on the
    cell ``[start[t] + m step[t] - step[t]/2, ... + step[t]/2]``; with
    ``extra_sd`` each cell is convolved with ``N(0, extra_sd[t]²)``. The CDF is
    closed-form for both (the convolution of a uniform cell and a normal is
    ``[psi(x - a) - psi(x - b)] / (b - a)``, ``psi`` the integrated normal CDF),
    so quantiles need no further approximation; the only error is that of
    representing a smooth row density by cells (``O(step²)`` in the CDF).
    """

    weights: np.ndarray
    start: np.ndarray
    step: np.ndarray
    masses: np.ndarray
    extra_sd: np.ndarray | None = None

    def convolve(self, extra_sd) -> GridMixture:
        return GridMixture(self.weights, self.start, self.step, self.masses, np.asarray(extra_sd, dtype=float))

    @property
    def _nodes(self) -> np.ndarray:
        return self.start[:, None] + self.step[:, None] * np.arange(self.masses.shape[1])

    def mean(self) -> float:
        return float(self.weights @ (self.masses * self._nodes).sum(axis=1))

    def sd(self) -> float:
        # The cells approximate a smooth density whose variance is that of the
        # node masses (the trapezoid rule); the cells' own width is not added.
        row_second = (self.masses * self._nodes**2).sum(axis=1)
        if self.extra_sd is not None:
            row_second = row_second + self.extra_sd**2
        mean = self.mean()
        return float(np.sqrt(max(self.weights @ row_second - mean**2, 0.0)))

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        half = 0.5 * self.step[:, None]
        offset = x[..., None, None] - self._nodes  # (..., T, M)
        if self.extra_sd is None:
            inside = np.clip((offset + half) / self.step[:, None], 0.0, 1.0)
        else:
            sd = self.extra_sd[:, None]
            inside = (_integrated_normal_cdf(offset + half, sd) - _integrated_normal_cdf(offset - half, sd)) / (
                self.step[:, None])
        return (inside * self.masses).sum(axis=-1) @ self.weights

    def pdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        half = 0.5 * self.step[:, None]
        offset = x[..., None, None] - self._nodes
        if self.extra_sd is None:
            inside = (np.abs(offset) <= half) / self.step[:, None]
        else:
            sd = self.extra_sd[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                inside = (special.ndtr((offset + half) / sd) - special.ndtr((offset - half) / sd)) / self.step[:, None]
        return (inside * self.masses).sum(axis=-1) @ self.weights

    def quantile(self, p: float) -> float:
        """x with P(X <= x) = p (Brent's method on the CDF)."""
        return mixture_quantile(self, p)
