# Reference values for analysis.bayesian (tests/test_bayesian_reference.py).
#
# Regenerate from the repository root with:
#     Rscript tests/reference/bayesian.R
# It writes tests/reference/bayesian.json: every fit below, the exact R call
# that produced it, and the versions of R, bayesmeta, metafor and metadat.
# The tests read only the JSON; R is not a test dependency.
#
# bayesmeta 3.4 is on CRAN (source mirrored at github.com/cran/bayesmeta).
# Its plotting dependency forestplot is not packaged for Debian; installing a
# stub package named forestplot (exporting forestplot, fpDrawPointCI,
# fpDrawSummaryCI, fpDrawBarCI, fpColors) lets it install with R CMD INSTALL;
# nothing here draws a plot.
#
# bayesmeta approximates the marginal posteriors of mu and theta by a
# discrete mixture whose accuracy is set by delta and epsilon (Röver and
# Friede 2017, the DIRECT algorithm); the defaults (0.01, 1e-4) are tightened
# to delta = 1e-4, epsilon = 1e-6 so that bayesmeta's own error is far below
# the tests' tolerance. Integrals use its default rel.tol.integrate.

suppressPackageStartupMessages({
  library(bayesmeta)
  library(metafor)
  library(jsonlite)
})

DELTA <- 1e-4
EPSILON <- 1e-6

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
data("CrinsEtAl2014", package = "bayesmeta")
crins <- escalc(measure = "OR", ai = exp.AR.events, n1i = exp.total,
                ci = cont.AR.events, n2i = cont.total, data = CrinsEtAl2014)

datasets <- list(
  bcg = list(y = as.numeric(bcg$yi), sigma = sqrt(as.numeric(bcg$vi)),
             labels = paste(dat.bcg$author, dat.bcg$year),
             source = "metadat::dat.bcg, escalc(measure='RR')"),
  crins = list(y = as.numeric(crins$yi), sigma = sqrt(as.numeric(crins$vi)),
               labels = as.character(CrinsEtAl2014$publication),
               source = "bayesmeta::CrinsEtAl2014, escalc(measure='OR') as Röver (2020) Section 3"),
  # Constructed: one study (k = 1 needs a proper tau prior).
  single = list(y = 0.4, sigma = 0.3, labels = "A", source = "constructed"),
  # Constructed: two studies (Friede et al. 2017's setting).
  pair = list(y = c(-0.2, 0.6), sigma = c(0.25, 0.35), labels = c("A", "B"), source = "constructed"),
  # Constructed: four standardised mean differences.
  smd4 = list(y = c(0.31, 0.62, -0.05, 0.44), sigma = c(0.21, 0.28, 0.19, 0.33),
              labels = c("A", "B", "C", "D"), source = "constructed")
)

# Each case: dataset, prior name and scale as analysis.bayesian spells them,
# the R prior, mu prior, interval type, and probe points.
cases <- list(
  list(dataset = "bcg", tau_prior = "half_normal", tau_prior_scale = 0.5,
       r_prior = "function(t) dhalfnormal(t, scale = 0.5)"),
  list(dataset = "bcg", tau_prior = "half_cauchy", tau_prior_scale = 0.5,
       r_prior = "function(t) dhalfcauchy(t, scale = 0.5)"),
  list(dataset = "bcg", tau_prior = "uniform", tau_prior_scale = 2,
       r_prior = "function(t) dunif(t, min = 0, max = 2)", tau_probe = c(0.1, 0.5), tau_p = c(0.005, 0.5, 0.9)),
  list(dataset = "bcg", tau_prior = "improper_uniform", tau_prior_scale = NULL,
       r_prior = "\"uniform\""),
  list(dataset = "bcg", tau_prior = "half_normal", tau_prior_scale = 0.5,
       r_prior = "function(t) dhalfnormal(t, scale = 0.5)", interval = "shortest"),
  # Röver (2020) Section 3.4: ma01.
  list(dataset = "crins", tau_prior = "half_normal", tau_prior_scale = 0.5,
       r_prior = "function(t) dhalfnormal(t, scale = 0.5)", mu_prior = c(0, 4)),
  list(dataset = "crins", tau_prior = "half_normal", tau_prior_scale = 0.5,
       r_prior = "function(t) dhalfnormal(t, scale = 0.5)", mu_prior = c(0, 4), interval = "shortest"),
  # Röver (2020) Section 3.4: ma02 (Turner et al.'s prior, surgical outcome, pharmacological vs control).
  list(dataset = "crins", tau_prior = "turner", tau_prior_scale = NULL,
       tau_prior_outcome = "surgical / device related success / failure",
       r_prior = "TurnerEtAlPrior('surgical / device related success / failure', 'pharmacological', 'placebo / control')$dprior",
       mu_prior = c(0, 4)),
  list(dataset = "crins", tau_prior = "half_cauchy", tau_prior_scale = 0.5,
       r_prior = "function(t) dhalfcauchy(t, scale = 0.5)"),
  list(dataset = "single", tau_prior = "half_normal", tau_prior_scale = 0.5,
       r_prior = "function(t) dhalfnormal(t, scale = 0.5)"),
  # (With one study and a half-Cauchy prior bayesmeta 3.4 stops: its integrate()
  # for the 97.5 % quantile of tau reports a divergent integral. Turner's
  # lighter-tailed prior is used for k = 1 instead.)
  list(dataset = "single", tau_prior = "turner", tau_prior_scale = NULL, tau_prior_outcome = NULL,
       r_prior = "TurnerEtAlPrior()$dprior"),
  list(dataset = "pair", tau_prior = "half_normal", tau_prior_scale = 0.5,
       r_prior = "function(t) dhalfnormal(t, scale = 0.5)"),
  list(dataset = "pair", tau_prior = "half_normal", tau_prior_scale = 1,
       r_prior = "function(t) dhalfnormal(t, scale = 1)", mu_prior = c(0, 2)),
  list(dataset = "pair", tau_prior = "turner", tau_prior_scale = NULL, tau_prior_outcome = NULL,
       r_prior = "TurnerEtAlPrior()$dprior"),
  # (bayesmeta 3.4 stops on this data with Rhodes et al.'s log-t prior: "extremely bad
  # integrand behaviour" in its normalising integral; the prior itself is pinned below.)
  list(dataset = "smd4", tau_prior = "half_cauchy", tau_prior_scale = 1,
       r_prior = "function(t) dhalfcauchy(t, scale = 1)", mu_prior = c(0, 1))
)

summary_fields <- function(fit) {
  s <- fit$summary
  out <- list()
  for (param in c("tau", "mu", "theta")) {
    out[[param]] <- list(median = s["median", param], mean = s["mean", param], sd = s["sd", param],
                         lower = s["95% lower", param], upper = s["95% upper", param])
  }
  out
}

results <- list()
for (case in cases) {
  d <- datasets[[case$dataset]]
  interval <- if (is.null(case$interval)) "central" else case$interval
  mu_prior <- case$mu_prior
  prior_fn <- eval(parse(text = case$r_prior))
  args <- list(y = d$y, sigma = d$sigma, labels = d$labels, tau.prior = prior_fn,
               interval.type = interval, delta = DELTA, epsilon = EPSILON)
  if (!is.null(mu_prior)) {
    args$mu.prior.mean <- mu_prior[1]
    args$mu.prior.sd <- mu_prior[2]
  }
  started <- proc.time()[["elapsed"]]
  fit <- do.call(bayesmeta, args)
  message(sprintf("%s %s: %.1f s", case$dataset, case$tau_prior, proc.time()[["elapsed"]] - started))
  call <- sprintf(
    "bayesmeta(y, sigma, tau.prior = %s%s, interval.type = '%s', delta = %g, epsilon = %g)",
    case$r_prior,
    if (is.null(mu_prior)) "" else sprintf(", mu.prior.mean = %g, mu.prior.sd = %g", mu_prior[1], mu_prior[2]),
    interval, DELTA, EPSILON)
  mu_probe <- c(0, fit$summary["median", "mu"] + 0.25)
  tau_probe <- c(0.1, 0.5)
  tau_p <- if (is.null(case$tau_p)) c(0.005, 0.9, 0.99) else case$tau_p
  grid_mu <- fit$summary["median", "mu"] + c(-2, -1, 0, 1, 2) * fit$summary["sd", "mu"]
  grid_tau <- c(0.05, 0.2, 0.5, 1.0)
  theta <- fit$theta
  results[[length(results) + 1]] <- list(
    dataset = case$dataset,
    tau_prior = case$tau_prior,
    tau_prior_scale = case$tau_prior_scale,
    tau_prior_outcome = case$tau_prior_outcome,
    mu_prior = mu_prior,
    interval = interval,
    call = call,
    summary = summary_fields(fit),
    mu_probe = mu_probe,
    prob_mu_above = 1 - fit$pposterior(mu = mu_probe),
    prob_theta_new_above = 1 - fit$pposterior(mu = mu_probe, predict = TRUE),
    tau_probe = tau_probe,
    prob_tau_above = 1 - fit$pposterior(tau = tau_probe),
    tau_quantiles = list(p = tau_p, value = fit$qposterior(tau.p = tau_p)),
    density_mu = list(x = grid_mu, density = fit$dposterior(mu = grid_mu)),
    density_tau = list(x = grid_tau, density = fit$dposterior(tau = grid_tau)),
    density_theta_new = list(x = grid_mu, density = fit$dposterior(mu = grid_mu, predict = TRUE)),
    shrinkage = list(median = unname(theta["median", ]), mean = unname(theta["mean", ]),
                     sd = unname(theta["sd", ]), lower = unname(theta["95% lower", ]),
                     upper = unname(theta["95% upper", ])),
    weights = unname(fit$weights)
  )
}

turner_surgical <- TurnerEtAlPrior("surgical", "pharmacological", "placebo / control")
rhodes_any <- RhodesEtAlPrior()
priors <- list(
  turner_surgical = list(call = "TurnerEtAlPrior('surgical', 'pharmacological', 'placebo / control')",
                         p = c(0.025, 0.5, 0.975), quantile = turner_surgical$qprior(c(0.025, 0.5, 0.975)),
                         x = c(0.1, 0.5, 1), density = turner_surgical$dprior(c(0.1, 0.5, 1))),
  rhodes_any = list(call = "RhodesEtAlPrior()",
                    p = c(0.025, 0.5, 0.975), quantile = rhodes_any$qprior(c(0.025, 0.5, 0.975)),
                    x = c(0.1, 0.5, 1), density = rhodes_any$dprior(c(0.1, 0.5, 1)))
)

out <- list(
  generated_by = "tests/reference/bayesian.R",
  r_version = R.version.string,
  packages = list(bayesmeta = as.character(packageVersion("bayesmeta")),
                  metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  accuracy = list(delta = DELTA, epsilon = EPSILON),
  datasets = lapply(datasets, function(d) list(y = d$y, sigma = d$sigma, labels = d$labels, source = d$source)),
  cases = results,
  priors = priors
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           "tests/reference/bayesian.json")
