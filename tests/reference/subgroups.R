# Reference values for subgroup pooling of response rates and the test for subgroup
# differences (analysis.subgroups, AnalysisPlan.pool_rates_by; tests/test_subgroups.py).
#
# Each subgroup is pooled with the binomial-normal GLMM (rma.glmm, PLO) when it has two or
# more studies; a one-study subgroup is its own logit (rma.uni, measure="PLO", k = 1), as
# AnalysisPlan.pool_rates shows one sample. The test for subgroup differences is RevMan's:
# Cochran's Q across the subgroup estimates with weights 1 / se², which is metafor's
# rma(yi = estimates, sei = ses, method = "EE")$QE; I² = max(0, (Q - df) / Q) in percent.
#
# Regenerate from the repository root with:
#     Rscript tests/reference/subgroups.R
# It writes tests/reference/subgroups.json. The tests read only the JSON; R is not a test
# dependency.

suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
  library(jsonlite)
})

# lme4's optimiser run to a tight tolerance, as in tests/reference/proportions_sensitivity.R.
tight <- list(glmerCtrl = list(optimizer = "bobyqa",
                               optCtrl = list(rhobeg = 0.02, rhoend = 1e-12, maxfun = 1e5)))

fit_group <- function(xi, ni) {
  if (length(xi) >= 2) {
    res <- rma.glmm(measure = "PLO", xi = xi, ni = ni, control = tight)
    list(k = res$k, model = "GLMM", estimate = c(res$beta), se = res$se, ci_lb = res$ci.lb,
         ci_ub = res$ci.ub, tau2 = res$tau2, lrt = res$QE.LRT, lrt_p = res$QEp.LRT)
  } else {
    res <- rma(measure = "PLO", xi = xi, ni = ni, method = "REML")
    list(k = res$k, model = "PLO", estimate = c(res$beta), se = res$se, ci_lb = res$ci.lb,
         ci_ub = res$ci.ub)
  }
}

datasets <- list(
  # The response-rate samples of data/studies.csv when this file was made (issue 10), with
  # their design: Noppers 2011, Sörensen 1995, Graven-Nielsen 2000, Cohen 2006, Guedj 2007a.
  ketamine_by_design = list(
    xi = c(8, 8, 17, 13, 11), ni = c(12, 11, 29, 34, 17),
    group = c("rct_parallel", "rct_crossover", "rct_crossover", "single_arm_prospective",
              "single_arm_prospective"),
    source = "data/studies.csv response-rate rows (issue 10), written out"),
  debruin2009_by_patients = list(
    xi = dat.debruin2009$xi, ni = dat.debruin2009$ni, group = as.character(dat.debruin2009$patients),
    source = "metadat::dat.debruin2009, subgroups by 'patients'")
)

out_sets <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  groups <- unique(d$group)
  fits <- lapply(groups, function(g) fit_group(d$xi[d$group == g], d$ni[d$group == g]))
  names(fits) <- groups
  between <- rma(yi = sapply(fits, `[[`, "estimate"), sei = sapply(fits, `[[`, "se"), method = "EE")
  df <- length(groups) - 1
  overall <- rma.glmm(measure = "PLO", xi = d$xi, ni = d$ni, control = tight)
  out_sets[[name]] <- list(
    source = d$source, xi = d$xi, ni = d$ni, group = d$group, subgroups = fits,
    overall = list(estimate = c(overall$beta), se = overall$se),
    q_between = between$QE, q_between_df = df, q_between_p = between$QEp,
    i2_between = 100 * max(0, (between$QE - df) / between$QE))
}

out <- list(
  generated_by = "tests/reference/subgroups.R",
  r_version = R.version.string,
  packages = list(metafor = as.character(packageVersion("metafor")),
                  lme4 = as.character(packageVersion("lme4")),
                  metadat = as.character(packageVersion("metadat"))),
  call = paste0("per subgroup: rma.glmm(measure=\"PLO\", xi, ni, control=<bobyqa, rhoend 1e-12>) ",
                "(k >= 2) or rma(measure=\"PLO\", xi, ni) (k = 1); between: ",
                "rma(yi=estimates, sei=ses, method=\"EE\")$QE"),
  datasets = out_sets)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/reference/subgroups.json")
