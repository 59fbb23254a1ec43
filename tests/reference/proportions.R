# Reference values for analysis.proportions (tests/test_proportions.py).
#
# Regenerate from the repository root with:
#     Rscript tests/reference/proportions.R
# It writes tests/reference/proportions.json: every fit below, the exact R
# call that produced it, and the versions of R, metafor, lme4 and metadat.
# The tests read only the JSON; R is not a test dependency.

suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
  library(jsonlite)
})

datasets <- list(
  # Pritz (1997): 14 case series, several with all events (xi == ni).
  pritz1997 = list(xi = dat.pritz1997$xi, ni = dat.pritz1997$ni,
                   source = "metadat::dat.pritz1997"),
  # de Bruin et al. (2009): 13 studies, adherence proportions.
  debruin2009 = list(xi = dat.debruin2009$xi, ni = dat.debruin2009$ni,
                     source = "metadat::dat.debruin2009"),
  # Constructed: studies with 0 and with n events (handled without
  # correction by the GLMM, with add = 1/2 to "only0" by escalc for PLO/PR).
  zeros_and_all = list(xi = c(0, 3, 10, 7, 12, 1), ni = c(15, 20, 10, 25, 30, 8),
                       source = "constructed"),
  # Constructed: nearly identical proportions, tau2 estimated on the boundary.
  homogeneous = list(xi = c(10, 11, 9, 10), ni = c(20, 21, 19, 20),
                     source = "constructed"),
  # Constructed: small ketamine-like series (k = 3).
  small_k3 = list(xi = c(4, 9, 2), ni = c(10, 12, 9), source = "constructed"),
  # Constructed (simulated): 9 of 11 studies with all events; the optimiser
  # has to travel far from the inverse-variance starting values.
  near_all_events = list(xi = c(2, 43, 127, 171, 50, 78, 175, 197, 70, 96, 63),
                         ni = c(2, 43, 127, 171, 50, 78, 177, 198, 70, 96, 63),
                         source = "constructed")
)

glmm_fields <- function(res) {
  pr <- predict(res)
  prt <- predict(res, transf = transf.ilogit)
  list(estimate = c(res$beta), se = res$se, zval = res$zval, pval = res$pval,
       ci_lb = res$ci.lb, ci_ub = res$ci.ub, tau2 = res$tau2,
       i2 = res$I2, h2 = res$H2, qe_wald = res$QE.Wld, qe_wald_p = res$QEp.Wld,
       qe_lrt = res$QE.LRT, qe_lrt_p = res$QEp.LRT, loglik = res$fit.stats["ll", "ML"],
       pi_lb = pr$pi.lb, pi_ub = pr$pi.ub,
       prop = prt$pred, prop_ci_lb = prt$ci.lb, prop_ci_ub = prt$ci.ub,
       prop_pi_lb = prt$pi.lb, prop_pi_ub = prt$pi.ub)
}

uni_fields <- function(res, transf, targs = NULL) {
  pr <- predict(res)
  prt <- predict(res, transf = transf, targs = targs)
  list(estimate = c(res$beta), se = res$se, zval = res$zval, pval = res$pval,
       ci_lb = res$ci.lb, ci_ub = res$ci.ub, tau2 = res$tau2,
       i2 = res$I2, h2 = res$H2, q = res$QE, q_p = res$QEp,
       pi_lb = pr$pi.lb, pi_ub = pr$pi.ub,
       prop = prt$pred, prop_ci_lb = prt$ci.lb, prop_ci_ub = prt$ci.ub,
       prop_pi_lb = prt$pi.lb, prop_pi_ub = prt$pi.ub,
       yi = c(res$yi), vi = c(res$vi))
}

transfs <- list(PLO = transf.ilogit, PR = NULL, PAS = transf.iarcsin,
                PFT = transf.ipft.hm)

cases <- list()
# Fisher scoring for REML to 1e-12 (metafor's default threshold is 1e-5), so the
# pinned values are the converged solution, as in tests/reference/pooling.R.
uni_ctrl <- list(threshold = 1e-12, maxiter = 1000)
tight <- list(glmerCtrl = list(optimizer = "bobyqa",
                               optCtrl = list(rhobeg = 0.02, rhoend = 1e-12, maxfun = 1e5)))
for (name in names(datasets)) {
  d <- datasets[[name]]
  xi <- d$xi; ni <- d$ni
  res <- rma.glmm(measure = "PLO", xi = xi, ni = ni)
  cases[[length(cases) + 1]] <- list(
    dataset = name, source = d$source, xi = xi, ni = ni, method = "GLMM",
    call = "rma.glmm(measure=\"PLO\", xi=xi, ni=ni); predict(res, transf=transf.ilogit)",
    result = glmm_fields(res))
  # The same model with lme4's optimiser run to a much tighter tolerance: its
  # defaults stop ~1e-5 (relative) from the optimum; this pins the optimum.
  res <- rma.glmm(measure = "PLO", xi = xi, ni = ni, control = tight)
  cases[[length(cases) + 1]] <- list(
    dataset = name, source = d$source, xi = xi, ni = ni, method = "GLMM_tight",
    call = paste0("rma.glmm(measure=\"PLO\", xi=xi, ni=ni, control=list(glmerCtrl=list(",
                  "optimizer=\"bobyqa\", optCtrl=list(rhobeg=0.02, rhoend=1e-12, maxfun=1e5))))"),
    result = glmm_fields(res))
  for (measure in c("PLO", "PFT", "PAS", "PR")) {
    for (tau_method in c("REML", "DL")) {
      dat <- escalc(measure = measure, xi = xi, ni = ni)
      res <- rma(yi, vi, data = dat, method = tau_method, control = uni_ctrl)
      tf <- transfs[[measure]]
      targs <- if (measure == "PFT") list(ni = ni) else NULL
      if (is.null(tf)) tf <- FALSE
      cases[[length(cases) + 1]] <- list(
        dataset = name, source = d$source, xi = xi, ni = ni, method = measure,
        tau_method = tau_method,
        call = sprintf(paste0("dat <- escalc(measure=\"%s\", xi=xi, ni=ni); ",
                              "res <- rma(yi, vi, data=dat, method=\"%s\", control=list(threshold=1e-12, maxiter=1000)); ",
                              "predict(res, transf=%s%s)"),
                       measure, tau_method,
                       c(PLO = "transf.ilogit", PR = "FALSE", PAS = "transf.iarcsin",
                         PFT = "transf.ipft.hm")[[measure]],
                       if (measure == "PFT") ", targs=list(ni=ni)" else ""),
        result = uni_fields(res, tf, targs))
    }
  }
}

# Exact per-study intervals: binom.test (Clopper-Pearson) and prop.test
# without continuity correction (Wilson score interval).
intervals <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  cp <- t(mapply(function(x, n) binom.test(x, n)$conf.int, d$xi, d$ni))
  wi <- t(mapply(function(x, n) prop.test(x, n, correct = FALSE)$conf.int, d$xi, d$ni))
  intervals[[name]] <- list(xi = d$xi, ni = d$ni,
                            cp_lb = cp[, 1], cp_ub = cp[, 2],
                            wilson_lb = wi[, 1], wilson_ub = wi[, 2])
}

# Timing of rma.glmm (for benchmarks/bench_proportions.py).
reps <- 20
timing <- list()
for (name in c("pritz1997", "debruin2009", "zeros_and_all")) {
  d <- datasets[[name]]
  st <- system.time(for (i in seq_len(reps)) rma.glmm(measure = "PLO", xi = d$xi, ni = d$ni))
  timing[[name]] <- list(reps = reps, seconds_per_fit = unname(st["elapsed"]) / reps)
}

out <- list(
  generated_by = "tests/reference/proportions.R",
  r_version = R.version.string,
  packages = list(metafor = as.character(packageVersion("metafor")),
                  lme4 = as.character(packageVersion("lme4")),
                  metadat = as.character(packageVersion("metadat")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  interval_calls = list(clopper_pearson = "binom.test(x, n)$conf.int",
                        wilson = "prop.test(x, n, correct=FALSE)$conf.int"),
  cases = cases, intervals = intervals,
  glmm_timing = timing,
  glmm_timing_call = "system.time(for (i in 1:reps) rma.glmm(measure=\"PLO\", xi=xi, ni=ni))")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/proportions.json")
