# Regenerates tests/reference/pooling.json: metafor reference values for
# analysis.pooling.meta_analysis / meta_regression.
# Run from the repository root:  Rscript tests/reference/pooling.R
# Needs: r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite (Debian packages).
suppressPackageStartupMessages({library(metafor); library(jsonlite)})

# Iterative quantities are solved to 1e-12 (metafor's defaults stop at 1e-5 for
# Fisher scoring and .Machine$double.eps^0.25 for uniroot), so that the pinned
# values are the converged solutions and the Python tests can use 1e-6.
ctrl <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12)

datasets <- list()
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
datasets$bcg_rr <- list(yi = c(bcg$yi), vi = c(bcg$vi), ablat = dat.bcg$ablat,
  call = 'escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)')
hack <- dat.hackshaw1998
datasets$hackshaw1998_or <- list(yi = c(hack$yi), vi = c(hack$vi),
  call = 'dat.hackshaw1998 (yi = log OR, vi as published)')
norm <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
datasets$normand1999_md <- list(yi = c(norm$yi), vi = c(norm$vi),
  call = 'escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)')
mol <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
datasets$molloy2014_zcor <- list(yi = c(mol$yi), vi = c(mol$vi),
  call = 'escalc(measure="ZCOR", ri=ri, ni=ni, data=dat.molloy2014)')
pritz <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)
datasets$pritz1997_plo <- list(yi = c(pritz$yi), vi = c(pritz$vi),
  call = 'escalc(measure="PLO", xi=xi, ni=ni, data=dat.pritz1997)')
datasets$homogeneous <- list(yi = c(0.10, 0.12, 0.09, 0.11, 0.10), vi = c(0.05, 0.04, 0.06, 0.05, 0.03),
  call = "constructed: tau^2 estimates on the boundary (0)")
datasets$bcg_first2 <- list(yi = c(bcg$yi)[1:2], vi = c(bcg$vi)[1:2],
  call = 'first two rows of escalc(measure="RR", ..., data=dat.bcg): k = 2')

methods <- c("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")
tests <- c("z", "knha")
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NA else as.numeric(x)

fits <- list()
for (dname in names(datasets)) {
  d <- datasets[[dname]]
  for (method in methods) for (test in tests) {
    res <- rma(d$yi, d$vi, method = method, test = test, control = ctrl)
    pr <- predict(res)
    k <- res$k
    if (method == "EE") {
      tau2_ci <- c(NA, NA)
    } else {
      ci <- confint(res, control = list(tol = 1e-12, tau2.max = 1e6))
      tau2_ci <- ci$random["tau^2", c("ci.lb", "ci.ub")]
    }
    hts <- if (k >= 3) c(res$b) + c(-1, 1) * qt(0.975, k - 2) * sqrt(res$se^2 + res$tau2) else c(NA, NA)
    fits[[length(fits) + 1]] <- list(
      dataset = dname, method = method, test = test,
      call = sprintf('rma(yi, vi, method="%s", test="%s", control=list(threshold=1e-12, maxiter=1000, tol=1e-12)); predict(res); confint(res, control=list(tol=1e-12, tau2.max=1e6))', method, test),
      k = k, estimate = num(res$b), se = num(res$se), pval = num(res$pval),
      ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), tau2 = num(res$tau2),
      tau2_ci_lb = num(tau2_ci[1]), tau2_ci_ub = num(tau2_ci[2]),
      i2 = num(res$I2), h2 = num(res$H2), q = num(res$QE), q_p = num(res$QEp),
      pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub),
      hts_pi_lb = num(hts[1]), hts_pi_ub = num(hts[2]),
      statistic = num(res$zval), weights = as.numeric(weights(res)))
  }
}

# Simulated k = 13 data (benchmarks/bench_pooling.py, seed 20261122) on which the
# default Fisher scoring oscillates ("did not converge"); halved steps converge.
set_osc <- fromJSON("tests/reference/oscillating_data.json")
datasets$oscillating <- list(yi = set_osc$yi, vi = set_osc$vi,
  call = "benchmarks/bench_pooling.py simulate(13); rma() default control fails to converge")
osc <- rma(set_osc$yi, set_osc$vi, method = "REML", control = list(stepadj = 0.5, threshold = 1e-12, maxiter = 1000))
osc_fail <- inherits(try(rma(set_osc$yi, set_osc$vi, method = "REML"), silent = TRUE), "try-error")
oscillating_reml <- list(call = 'rma(yi, vi, method="REML", control=list(stepadj=0.5, threshold=1e-12, maxiter=1000))',
  default_control_fails = osc_fail, tau2 = num(osc$tau2), estimate = num(osc$b), se = num(osc$se))

# Data found by the property tests on which Fisher scoring oscillates slowly
# (metafor's default converges to 1e-5 only after 40 iterations).
slow <- list(yi = c(0, 0, 1, 1, 1), vi = c(1, 0.0625, 1, 1, 0.5))
slow_fits <- lapply(c("REML", "ML", "EB"), function(m) {
  res <- rma(slow$yi, slow$vi, method = m, control = ctrl)
  list(method = m, call = sprintf('rma(c(0,0,1,1,1), c(1,0.0625,1,1,0.5), method="%s", control=list(threshold=1e-12, maxiter=1000))', m),
       tau2 = num(res$tau2), estimate = num(res$b), se = num(res$se))
})

regressions <- list()
for (method in methods) for (test in tests) {
  d <- datasets$bcg_rr
  res <- rma(d$yi, d$vi, mods = ~ d$ablat, method = method, test = test, control = ctrl)
  regressions[[length(regressions) + 1]] <- list(
    dataset = "bcg_rr", moderator = "ablat", method = method, test = test,
    call = sprintf('rma(yi, vi, mods=~ablat, method="%s", test="%s", control=list(threshold=1e-12, maxiter=1000, tol=1e-12))', method, test),
    beta = as.numeric(res$b), se = as.numeric(res$se), pval = as.numeric(res$pval),
    ci_lb = as.numeric(res$ci.lb), ci_ub = as.numeric(res$ci.ub), tau2 = num(res$tau2),
    i2 = num(res$I2), h2 = num(res$H2), q_e = num(res$QE), q_e_p = num(res$QEp),
    q_m = num(res$QM), q_m_p = num(res$QMp), hat = as.numeric(hatvalues(res)),
    weights = as.numeric(weights(res)))
}

out <- list(
  generated_by = "tests/reference/pooling.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  control = "control=list(threshold=1e-12, maxiter=1000, tol=1e-12); confint(..., control=list(tol=1e-12, tau2.max=1e6)). metafor caps the Q-profile search at tau2.max = max(100, 10 tau2) by default and then reports the cap; analysis.pooling reports the actual root, hence the wider search here",
  hts_note = "HTS prediction interval computed as b +/- qt(0.975, k-2) * sqrt(se^2 + tau2) (Higgins, Thompson & Spiegelhalter 2009)",
  datasets = lapply(datasets, function(d) list(yi = d$yi, vi = d$vi, ablat = d$ablat, call = d$call)),
  fits = fits, regressions = regressions, oscillating_reml = oscillating_reml, slow_scoring = list(yi = slow$yi, vi = slow$vi, fits = slow_fits))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "tests/reference/pooling.json")
cat("wrote tests/reference/pooling.json with", length(fits), "fits and", length(regressions), "regressions\n")
