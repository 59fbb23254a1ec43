"""Posterior densities of a Bayesian meta-analysis, with the priors beside them.

Two panels: the pooled effect mu (with a new study's effect, the posterior
predictive, dashed) and the heterogeneity tau, each with its prior drawn in
grey (a flat mu prior is not drawn). The curves are the result's own
``density()`` and ``prior_density()``; nothing is recomputed.
"""

from __future__ import annotations

import numpy as np

from analysis.present.plots._style import FONT_SIZE, MIN_FONT_SIZE, PALETTE, new_figure

#: Points per curve.
GRID_POINTS = 401
#: The mu panel spans the predictive interval widened by this fraction on each side.
MARGIN = 0.15


def posterior_plot(result, *, xlabel: str | None = None, width: float = 7.0, height: float = 3.0,
                   fontsize: float = FONT_SIZE):
    """Posterior densities of mu and tau (and the predictive, from two studies), priors in grey.

    Parameters
    ----------
    result : BayesianResult or BayesianProportionResult
        Anything with ``density(parameter, grid)``, ``prior_density(parameter, grid)``,
        the ``pred_ci_*`` and ``tau_ci_ub`` bounds and ``tau_prior``.
    xlabel : str, optional
        Label of the effect axis (default: the analysis scale, e.g. "Log risk ratio": the
        densities are drawn on it, not on the ratio scale).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes; lines tagged (``gid``) ``mu-posterior``, ``theta_new-posterior``,
        ``mu-prior`` (only for a normal mu prior), ``tau-posterior``, ``tau-prior``.

    Examples
    --------
    >>> from analysis.engine.bayesian import bayesian_meta_analysis
    >>> res = bayesian_meta_analysis([0.2, 0.5, -0.1], [0.04, 0.09, 0.05], measure="RR")
    >>> fig = posterior_plot(res)
    >>> sorted(line.get_gid() for ax in fig.axes for line in ax.get_lines())
    ['mu-posterior', 'tau-posterior', 'tau-prior', 'theta_new-posterior']
    """
    fig = new_figure(width, height)
    mu_ax, tau_ax = fig.subplots(1, 2)
    # one study has no predictive distribution for a reader (contract): mu's interval sets the axis
    predictive = result.has_prediction_interval
    lo, hi = (result.pred_ci_lb, result.pred_ci_ub) if predictive else (result.mu_ci_lb, result.mu_ci_ub)
    span = hi - lo
    mu_grid = np.linspace(lo - MARGIN * span, hi + MARGIN * span, GRID_POINTS)
    mu_ax.plot(mu_grid, result.density("mu", mu_grid), color=PALETTE["blue"], gid="mu-posterior",
               label="pooled effect μ")
    if predictive:
        mu_ax.plot(mu_grid, result.density("theta_new", mu_grid), color=PALETTE["blue"], linestyle="--",
                   gid="theta_new-posterior", label="new study")
    mu_prior = result.prior_density("mu", mu_grid)
    if np.all(np.isfinite(mu_prior)):
        mu_ax.plot(mu_grid, mu_prior, color=PALETTE["grey"], gid="mu-prior", label="prior")
    scale = result.measure_scale
    mu_ax.set_xlabel(xlabel or (scale.analysis_label if scale is not None else f"effect ({result.measure})"),
                     fontsize=fontsize)
    mu_ax.set_ylabel("density", fontsize=fontsize)
    mu_ax.legend(fontsize=MIN_FONT_SIZE, frameon=False)

    tau_grid = np.linspace(0.0, 1.5 * max(result.tau_ci_ub, float(result.tau_prior.quantile(0.9))
                                          if result.tau_prior.proper else result.tau_ci_ub), GRID_POINTS)
    tau_ax.plot(tau_grid, result.density("tau", tau_grid), color=PALETTE["vermillion"], gid="tau-posterior",
                label="posterior")
    if result.tau_prior.proper:
        tau_ax.plot(tau_grid, result.prior_density("tau", tau_grid), color=PALETTE["grey"], gid="tau-prior",
                    label=f"prior: {result.tau_prior.label}")
    tau_ax.set_xlabel("between-study SD τ", fontsize=fontsize)
    tau_ax.legend(fontsize=MIN_FONT_SIZE, frameon=False)
    for ax in (mu_ax, tau_ax):
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=MIN_FONT_SIZE)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig
