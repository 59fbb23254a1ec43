# Reference values for analysis.bayesian_binomial (tests/test_bayesian_reference.py).
#
# Regenerate from the repository root with:
#     Rscript tests/reference/bayesian_binomial.R
# It writes tests/reference/bayesian_binomial.json.
#
# An independent brute-force integration of the binomial-normal model
#   x_i ~ Binomial(n_i, plogis(mu + tau u_i)), u_i ~ N(0, 1),
# with a prior on tau and a flat or normal prior on mu. No quadrature shared
# with the Python code: every integral is a dense fixed grid.
#   - study effects: trapezoid rule over u in [-8, 8] (U_POINTS nodes);
#   - tau: midpoint rule in v = tau / (tau + 0.5) on (0, 1) (TAU_POINTS cells);
#   - mu: trapezoid rule on [m - 10 s, m + 10 s] (MU_POINTS nodes), m and s the
#     posterior mean and SD of mu from a coarser first pass;
#   - CDFs: cumulative sums, interpolated with monotone cubic splines.
# Base R only (plus jsonlite).

suppressPackageStartupMessages(library(jsonlite))

U_POINTS <- 321
TAU_POINTS <- 400
MU_POINTS <- 201
COARSE_TAU_POINTS <- 60
COARSE_MU_POINTS <- 81
LEVEL <- 0.95

priors <- list(
  half_normal = function(t, s) 2 * dnorm(t, 0, s),
  half_cauchy = function(t, s) 2 * dcauchy(t, 0, s)
)

study_lik <- function(x, n, mu, tau, u, wu) {
  # L(mu) = int dbinom(x, n, plogis(mu + tau u)) phi(u) du, for a vector mu
  p <- plogis(outer(mu, tau * u, "+"))
  as.vector(dbinom(x, n, p) %*% (dnorm(u) * wu))
}

posterior_grid <- function(x, n, prior, scale, mu_prior, mu_range,
                           TAU_POINTS = get("TAU_POINTS", globalenv()), MU_POINTS = get("MU_POINTS", globalenv())) {
  u <- seq(-8, 8, length.out = U_POINTS)
  wu <- rep(u[2] - u[1], U_POINTS); wu[c(1, U_POINTS)] <- wu[1] / 2
  v <- (seq_len(TAU_POINTS) - 0.5) / TAU_POINTS
  tau <- 0.5 * v / (1 - v)
  wtau <- (1 / TAU_POINTS) * 0.5 / (1 - v)^2
  mu <- seq(mu_range[1], mu_range[2], length.out = MU_POINTS)
  wmu <- rep(mu[2] - mu[1], MU_POINTS); wmu[c(1, MU_POINTS)] <- wmu[1] / 2
  joint <- matrix(0, TAU_POINTS, MU_POINTS)
  for (j in seq_along(tau)) {
    loglik <- rep(0, MU_POINTS)
    for (i in seq_along(x)) loglik <- loglik + log(study_lik(x[i], n[i], mu, tau[j], u, wu))
    if (!is.null(mu_prior)) loglik <- loglik + dnorm(mu, mu_prior[1], mu_prior[2], log = TRUE)
    joint[j, ] <- exp(loglik) * priors[[prior]](tau[j], scale)
  }
  w <- joint * outer(wtau, wmu)
  w <- w / sum(w)
  list(tau = tau, mu = mu, w = w, wtau = wtau, wmu = wmu, joint = joint)
}

spline_quantile <- function(points, cdf, p) {
  keep <- !duplicated(cdf)
  f <- splinefun(cdf[keep], points[keep], method = "hyman")
  f(p)
}

summarise <- function(x, n, prior, scale, mu_prior) {
  y <- qlogis((x + 0.5) / (n + 1))
  coarse <- posterior_grid(x, n, prior, scale, mu_prior, c(min(y) - 8, max(y) + 8),
                           COARSE_TAU_POINTS, COARSE_MU_POINTS)
  pm <- colSums(coarse$w)
  m <- sum(pm * coarse$mu); s <- sqrt(sum(pm * coarse$mu^2) - m^2)
  g <- posterior_grid(x, n, prior, scale, mu_prior, c(m - 10 * s, m + 10 * s))
  # mu: density on the mu nodes (trapezoid weights removed), CDF by trapezoid
  dens_mu <- colSums(g$joint * g$wtau)
  dens_mu <- dens_mu / sum(dens_mu * g$wmu)
  h <- g$mu[2] - g$mu[1]
  cdf_mu <- c(0, cumsum((head(dens_mu, -1) + tail(dens_mu, -1)) / 2 * h))
  mean_mu <- sum(dens_mu * g$wmu * g$mu)
  sd_mu <- sqrt(sum(dens_mu * g$wmu * g$mu^2) - mean_mu^2)
  q_mu <- spline_quantile(g$mu, cdf_mu, c((1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2))
  # tau: midpoint cells; CDF at the cell edges
  ptau <- rowSums(g$w)
  v_edges <- seq(0, 1, length.out = TAU_POINTS + 1)
  tau_edges <- 0.5 * v_edges / (1 - v_edges)
  cdf_tau <- c(0, cumsum(ptau))
  finite <- is.finite(tau_edges)
  q_tau <- spline_quantile(tau_edges[finite], cdf_tau[finite], c((1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2))
  # predictive: theta_new = mu + tau z
  pred_cdf <- function(t) sum(g$w * pnorm((t - outer(rep(1, TAU_POINTS), g$mu)) / g$tau))
  q_pred <- sapply(c((1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2), function(p)
    uniroot(function(t) pred_cdf(t) - p, c(m - 30 * s - 20, m + 30 * s + 20), tol = 1e-10)$root)
  list(mu = list(mean = mean_mu, sd = sd_mu, lower = q_mu[1], median = q_mu[2], upper = q_mu[3]),
       tau = list(lower = q_tau[1], median = q_tau[2], upper = q_tau[3]),
       pred = list(lower = q_pred[1], median = q_pred[2], upper = q_pred[3]),
       prob_mu_above_half = 1 - approx(g$mu, cdf_mu, 0)$y,
       prob_theta_new_above_half = 1 - pred_cdf(0))
}

cases <- list(
  list(name = "evidence_shape", events = c(7, 16, 20, 9, 6), n = c(11, 29, 34, 17, 12),
       tau_prior = "half_normal", tau_prior_scale = 0.5),
  list(name = "evidence_shape", events = c(7, 16, 20, 9, 6), n = c(11, 29, 34, 17, 12),
       tau_prior = "half_normal", tau_prior_scale = 1),
  list(name = "evidence_shape", events = c(7, 16, 20, 9, 6), n = c(11, 29, 34, 17, 12),
       tau_prior = "half_cauchy", tau_prior_scale = 0.5),
  list(name = "heterogeneous", events = c(2, 15, 20, 4, 11, 9), n = c(20, 22, 30, 25, 14, 35),
       tau_prior = "half_normal", tau_prior_scale = 1),
  list(name = "zeros_and_all", events = c(0, 3, 10, 7), n = c(15, 20, 10, 25),
       tau_prior = "half_normal", tau_prior_scale = 0.5),
  list(name = "single", events = 3, n = 12, tau_prior = "half_normal", tau_prior_scale = 0.5),
  list(name = "all_zero_normal_mu_prior", events = c(0, 0), n = c(12, 10),
       tau_prior = "half_normal", tau_prior_scale = 0.5, mu_prior = c(0, 2))
)

results <- lapply(cases, function(case) {
  started <- proc.time()[["elapsed"]]
  out <- summarise(case$events, case$n, case$tau_prior, case$tau_prior_scale, case$mu_prior)
  message(sprintf("%s %s %g: %.1f s", case$name, case$tau_prior, case$tau_prior_scale,
                  proc.time()[["elapsed"]] - started))
  c(case, out)
})

writeLines(toJSON(list(
  generated_by = "tests/reference/bayesian_binomial.R",
  r_version = R.version.string,
  grid = list(u_points = U_POINTS, tau_points = TAU_POINTS, mu_points = MU_POINTS, level = LEVEL),
  cases = results
), auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), "tests/reference/bayesian_binomial.json")
