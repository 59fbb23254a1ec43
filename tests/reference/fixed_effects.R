# Reference values for analysis.fixed_effects (tests/test_fixed_effects.py).
#
# Regenerate from the repository root with:
#     Rscript tests/reference/fixed_effects.R
# It writes tests/reference/fixed_effects.json: each fit, the exact R call and
# the versions of R, metafor and metadat. The tests read only the JSON.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

yusuf <- dat.yusuf1985[dat.yusuf1985$table == "6" & !is.na(dat.yusuf1985$ai), ]
collins <- dat.collins1985a[!is.na(dat.collins1985a$d.xti), ]
tables <- list(
  bcg = list(ai = dat.bcg$tpos, bi = dat.bcg$tneg, ci = dat.bcg$cpos, di = dat.bcg$cneg,
             source = "metadat::dat.bcg (ai=tpos, bi=tneg, ci=cpos, di=cneg)"),
  yusuf1985_table6 = list(ai = yusuf$ai, bi = yusuf$n1i - yusuf$ai, ci = yusuf$ci,
                          di = yusuf$n2i - yusuf$ci,
                          source = "metadat::dat.yusuf1985, table == \"6\", rows with data"),
  collins1985a_deaths = list(ai = collins$d.xti, bi = collins$nti - collins$d.xti,
                             ci = collins$d.xci, di = collins$nci - collins$d.xci,
                             source = "metadat::dat.collins1985a, deaths (d.xti/nti vs d.xci/nci), rows with data"),
  # Constructed sparse set: single zero cells, one double-zero table (row 3),
  # and a table with all events in one arm (row 5).
  sparse = list(ai = c(0, 2, 0, 5, 15), bi = c(10, 10, 8, 15, 0),
                ci = c(1, 0, 0, 3, 11), di = c(9, 11, 9, 17, 4), source = "constructed")
)

mh_fields <- function(res) {
  list(estimate = c(res$beta), se = res$se, zval = res$zval, pval = res$pval,
       ci_lb = res$ci.lb, ci_ub = res$ci.ub, q = res$QE, q_p = res$QEp,
       i2 = res$I2, h2 = res$H2, k = res$k, k_yi = res$k.yi,
       cmh = res$MH, cmh_p = res$MHp, cochran = res$CO, cochran_p = res$COp,
       breslow_day = res$BD, breslow_day_p = res$BDp, tarone = res$TA, tarone_p = res$TAp,
       k_pos = res$k.pos, weights = unname(weights(res)),
       yi = c(res$yi.f), vi = c(res$vi.f))
}
peto_fields <- function(res) {
  list(estimate = c(res$beta), se = res$se, zval = res$zval, pval = res$pval,
       ci_lb = res$ci.lb, ci_ub = res$ci.ub, q = res$QE, q_p = res$QEp,
       i2 = res$I2, h2 = res$H2, k = res$k, k_yi = res$k.yi, k_pos = res$k.pos,
       weights = unname(weights(res)), yi = c(res$yi.f), vi = c(res$vi.f))
}

cases <- list()
for (name in names(tables)) {
  t <- tables[[name]]
  for (measure in c("OR", "RR", "RD")) {
    for (correct in c(TRUE, FALSE)) {
      res <- rma.mh(ai = t$ai, bi = t$bi, ci = t$ci, di = t$di, measure = measure, correct = correct)
      cases[[length(cases) + 1]] <- list(
        dataset = name, source = t$source, ai = t$ai, bi = t$bi, ci = t$ci, di = t$di,
        method = "MH", measure = measure, correct = correct,
        call = sprintf("rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure=\"%s\", correct=%s); weights(res)",
                       measure, correct),
        result = mh_fields(res))
    }
  }
  res <- rma.peto(ai = t$ai, bi = t$bi, ci = t$ci, di = t$di)
  cases[[length(cases) + 1]] <- list(
    dataset = name, source = t$source, ai = t$ai, bi = t$bi, ci = t$ci, di = t$di,
    method = "PETO", measure = "PETO",
    call = "rma.peto(ai=ai, bi=bi, ci=ci, di=di); weights(res)",
    result = peto_fields(res))
}

# Crossover trials (analysis.crossover.correlation_sweep): within-patient mean
# differences (escalc MC) and standardised mean changes (SMCR) for a stated
# correlation ri, pooled with REML, for each r of the sensitivity range.
# Constructed data (VAS 0-100, ketamine period first).
cross <- list(m1i = c(38, 45, 52, 30), sd1i = c(20, 24, 18, 22),
              m2i = c(55, 50, 60, 48), sd2i = c(22, 20, 21, 25), ni = c(10, 12, 9, 20))
sweep <- list()
for (measure in c("MC", "SMCR")) for (r in c(0, 0.25, 0.5, 0.75, 0.9)) {
  dat <- escalc(measure = measure, m1i = cross$m1i, sd1i = cross$sd1i, m2i = cross$m2i,
                sd2i = cross$sd2i, ni = cross$ni, ri = rep(r, 4))
  res <- rma(yi, vi, data = dat, method = "REML", control = list(threshold = 1e-12, maxiter = 1000))
  pr <- predict(res)
  sweep[[length(sweep) + 1]] <- list(
    measure = measure, ri = r,
    call = sprintf(paste0("escalc(measure=\"%s\", m1i, sd1i, m2i, sd2i, ni, ri=%s); ",
                          "rma(yi, vi, method=\"REML\", control=list(threshold=1e-12, maxiter=1000)); predict(res)"),
                   measure, r),
    yi = c(dat$yi), vi = c(dat$vi), estimate = c(res$beta), se = res$se, ci_lb = res$ci.lb,
    ci_ub = res$ci.ub, tau2 = res$tau2, i2 = res$I2, pi_lb = pr$pi.lb, pi_ub = pr$pi.ub)
}

out <- list(
  generated_by = "tests/reference/fixed_effects.R",
  r_version = R.version.string,
  packages = list(metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  cases = cases,
  crossover = list(data = cross, sweep = sweep))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "tests/reference/fixed_effects.json")
