# Reference values for leave-one-out and cumulative analyses of the binomial-normal
# GLMM (analysis.sensitivity on a pool_proportions(method="GLMM") result;
# tests/test_sensitivity.py). metafor 3.8.1 has no leave1out() or cumul() for
# rma.glmm, so each refit is rma.glmm() on the subset, written out below.
#
# Regenerate from the repository root with:
#     Rscript tests/reference/proportions_sensitivity.R
# It writes tests/reference/proportions_sensitivity.json. The tests read only the
# JSON; R is not a test dependency.

suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
  library(jsonlite)
})

# lme4's optimiser run to a tight tolerance, as for the "GLMM_tight" cases of
# tests/reference/proportions.R: the values are the optimum, not lme4's default stop.
tight <- list(glmerCtrl = list(optimizer = "bobyqa",
                               optCtrl = list(rhobeg = 0.02, rhoend = 1e-12, maxfun = 1e5)))
call <- paste0("rma.glmm(measure=\"PLO\", xi=xi[keep], ni=ni[keep], control=list(glmerCtrl=list(",
               "optimizer=\"bobyqa\", optCtrl=list(rhobeg=0.02, rhoend=1e-12, maxfun=1e5))))")

fields <- function(res) {
  list(k = res$k, estimate = c(res$beta), se = res$se, ci_lb = res$ci.lb, ci_ub = res$ci.ub,
       tau2 = res$tau2, i2 = res$I2)
}

datasets <- list(
  debruin2009 = list(xi = dat.debruin2009$xi, ni = dat.debruin2009$ni,
                     source = "metadat::dat.debruin2009"),
  zeros_and_all = list(xi = c(0, 3, 10, 7, 12, 1), ni = c(15, 20, 10, 25, 30, 8),
                       source = "constructed (as in tests/reference/proportions.R)")
)

out_sets <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  xi <- d$xi; ni <- d$ni; k <- length(xi)
  leave1 <- lapply(seq_len(k), function(i) {
    keep <- setdiff(seq_len(k), i)
    fields(rma.glmm(measure = "PLO", xi = xi[keep], ni = ni[keep], control = tight))
  })
  # cumulative in the given order, from two studies (the GLMM needs at least two)
  cumulative <- lapply(2:k, function(j) {
    keep <- seq_len(j)
    fields(rma.glmm(measure = "PLO", xi = xi[keep], ni = ni[keep], control = tight))
  })
  out_sets[[name]] <- list(source = d$source, xi = xi, ni = ni,
                           leave_one_out = leave1, cumulative_from_2 = cumulative)
}

out <- list(
  generated_by = "tests/reference/proportions_sensitivity.R",
  r_version = R.version.string,
  packages = list(metafor = as.character(packageVersion("metafor")),
                  lme4 = as.character(packageVersion("lme4")),
                  metadat = as.character(packageVersion("metadat"))),
  call = call,
  datasets = out_sets)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/proportions_sensitivity.json")
