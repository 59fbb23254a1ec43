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

out <- list(
  generated_by = "tests/reference/fixed_effects.R",
  r_version = R.version.string,
  packages = list(metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  cases = cases)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "tests/reference/fixed_effects.json")
