# Regenerates tests/reference/sensitivity.json: metafor reference values for
# analysis.sensitivity (leave_one_out, cumulative, influence, subgroup_analysis)
# and analysis.small_study (egger_test, rank_test, trim_and_fill).
# Run from the repository root:  Rscript tests/reference/sensitivity.R
# Needs: r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite (Debian packages).
suppressPackageStartupMessages({library(metafor); library(jsonlite)})

# Iterative tau² estimators are solved to 1e-12 (metafor's default threshold is
# 1e-5) so that the pinned values are converged solutions and the Python tests
# can use a relative tolerance of 1e-6. leave1out(), cumul(), influence() and
# regtest() reuse the control list of the fit; trimfill() does not, so it is
# passed through trimfill()'s '...'.
ctrl <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12)
CTRL <- "control=list(threshold=1e-12, maxiter=1000, tol=1e-12)"

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
hack <- dat.hackshaw1998
norm <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
mol <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
pritz <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)

datasets <- list(
  bcg_rr = list(yi = c(bcg$yi), vi = c(bcg$vi), labels = paste(dat.bcg$author, dat.bcg$year),
    order = dat.bcg$year, group = dat.bcg$alloc,
    call = 'escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg); order = year; group = alloc'),
  hackshaw1998_or = list(yi = c(hack$yi), vi = c(hack$vi), labels = paste(hack$author, hack$year),
    order = hack$year, group = hack$design,
    call = 'dat.hackshaw1998 (yi = log OR, vi as published); order = year (with ties); group = design'),
  normand1999_md = list(yi = c(norm$yi), vi = c(norm$vi), labels = as.character(dat.normand1999$source),
    order = dat.normand1999$n1i + dat.normand1999$n2i, group = ifelse(grepl("Orpington", dat.normand1999$source), "Orpington", "other"),
    call = 'escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999); order = n1i + n2i; group = Orpington or other'),
  molloy2014_zcor = list(yi = c(mol$yi), vi = c(mol$vi), labels = paste(mol$authors, mol$year),
    order = mol$year, group = mol$controls,
    call = 'escalc(measure="ZCOR", ri=ri, ni=ni, data=dat.molloy2014); order = year; group = controls'),
  pritz1997_plo = list(yi = c(pritz$yi), vi = c(pritz$vi), labels = as.character(pritz$authors),
    order = -pritz$ni, group = ifelse(pritz$ni >= 20, "n>=20", "n<20"),
    call = 'escalc(measure="PLO", xi=xi, ni=ni, data=dat.pritz1997); order = -ni; group = ni >= 20')
)

combos <- expand.grid(method = c("REML", "DL", "EE"), test = c("z", "knha"), stringsAsFactors = FALSE)
num <- function(x) { x <- as.numeric(x); ifelse(is.na(x), NA, x) }
fit <- function(d, method, test, ...) rma(d$yi, d$vi, method = method, test = test, slab = d$labels, control = ctrl, ...)
# metafor omits the tau2 column for EE models; it is 0 there by definition.
col <- function(x, name, n) if (is.null(x[[name]])) rep(0, n) else num(x[[name]])
# Prediction intervals of refits on subsets (leave1out() and cumul() do not report them).
pis <- function(d, method, test, subsets) {
  out <- t(sapply(subsets, function(s) {
    r <- suppressWarnings(rma(d$yi[s], d$vi[s], method = method, test = test, control = ctrl))
    if (method == "EE") c(NA, NA) else { p <- predict(r); c(p$pi.lb, p$pi.ub) }
  }))
  list(pi_lb = num(out[, 1]), pi_ub = num(out[, 2]))
}

leave1out_refs <- list(); cumul_refs <- list(); influence_refs <- list()
regtest_refs <- list(); trimfill_refs <- list(); subgroup_refs <- list()

for (dname in names(datasets)) {
  d <- datasets[[dname]]
  k <- length(d$yi)
  for (j in seq_len(nrow(combos))) {
    method <- combos$method[j]; test <- combos$test[j]
    res <- fit(d, method, test)
    fcall <- sprintf('res <- rma(yi, vi, method="%s", test="%s", %s)', method, test, CTRL)

    l1 <- leave1out(res)
    p <- pis(d, method, test, lapply(seq_len(k), function(i) -i))
    leave1out_refs[[length(leave1out_refs) + 1]] <- list(
      dataset = dname, method = method, test = test,
      call = paste0(fcall, "; leave1out(res); predict() of each refit for pi_lb/pi_ub"),
      estimate = num(l1$estimate), se = num(l1$se), statistic = num(l1[[3]]), pval = num(l1$pval),
      ci_lb = num(l1$ci.lb), ci_ub = num(l1$ci.ub), q = num(l1$Q), q_p = num(l1$Qp),
      tau2 = col(l1, "tau2", k), i2 = num(l1$I2), h2 = num(l1$H2), pi_lb = p$pi_lb, pi_ub = p$pi_ub)

    cu <- suppressWarnings(cumul(res, order = d$order))
    o <- order(d$order)
    p <- pis(d, method, test, lapply(seq_len(k), function(i) o[seq_len(i)]))
    cumul_refs[[length(cumul_refs) + 1]] <- list(
      dataset = dname, method = method, test = test,
      call = paste0(fcall, "; cumul(res, order=<order key of the dataset>); predict() of each refit for pi_lb/pi_ub"),
      labels = as.character(cu$slab),
      estimate = num(cu$estimate), se = num(cu$se), statistic = num(cu[[3]]), pval = num(cu$pvals),
      ci_lb = num(cu$ci.lb), ci_ub = num(cu$ci.ub), q = num(cu$Q), q_p = num(cu$Qp),
      tau2 = col(cu, "tau2", k), i2 = num(cu$I2), h2 = num(cu$H2), pi_lb = p$pi_lb, pi_ub = p$pi_ub)

    inf <- influence(res)
    influence_refs[[length(influence_refs) + 1]] <- list(
      dataset = dname, method = method, test = test, call = paste0(fcall, "; influence(res)"),
      rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits), cook_d = num(inf$inf$cook.d),
      cov_r = num(inf$inf$cov.r), tau2_del = num(inf$inf$tau2.del), qe_del = num(inf$inf$QE.del),
      hat = num(inf$inf$hat), weight = num(inf$inf$weight), dfbetas = num(inf$dfbs$intrcpt),
      inf = as.logical(inf$is.infl))

    for (predictor in c("sei", "vi")) for (model in c("rma", "lm")) {
      rt <- regtest(res, model = model, predictor = predictor)
      regtest_refs[[length(regtest_refs) + 1]] <- list(
        dataset = dname, method = method, test = test, predictor = predictor, model = model,
        call = paste0(fcall, sprintf('; regtest(res, model="%s", predictor="%s")', model, predictor)),
        statistic = num(rt$zval), pval = num(rt$pval), df = if (is.null(rt$dfs)) NA else num(rt$dfs),
        limit_estimate = num(rt$est), limit_ci_lb = num(rt$ci.lb), limit_ci_ub = num(rt$ci.ub))
    }

    tf_runs <- list(c("L0", "auto"), c("L0", "left"), c("L0", "right"), c("R0", "auto"), c("Q0", "auto"))
    for (run in tf_runs) {
      estimator <- run[1]; side <- run[2]
      tf <- tryCatch(if (side == "auto") trimfill(res, estimator = estimator, test = test, control = ctrl)
                     else trimfill(res, estimator = estimator, side = side, test = test, control = ctrl),
                     error = function(e) conditionMessage(e))
      if (is.character(tf)) {
        # Q0 can take the square root of a negative number; metafor then stops.
        trimfill_refs[[length(trimfill_refs) + 1]] <- list(
          dataset = dname, method = method, test = test, estimator = estimator, side_arg = side, error = tf)
        next
      }
      trimfill_refs[[length(trimfill_refs) + 1]] <- list(
        dataset = dname, method = method, test = test, estimator = estimator, side_arg = side,
        call = paste0(fcall, sprintf('; trimfill(res, estimator="%s"%s, test="%s", %s)', estimator,
          if (side == "auto") "" else sprintf(', side="%s"', side), test, CTRL)),
        k0 = tf$k0, se_k0 = num(tf$se.k0), p_k0 = num(tf$p.k0), side = tf$side,
        yi = num(tf$yi), vi = num(tf$vi), filled = as.logical(tf$fill),
        estimate = num(tf$beta), se = num(tf$se), pval = num(tf$pval), ci_lb = num(tf$ci.lb),
        ci_ub = num(tf$ci.ub), tau2 = num(tf$tau2), q = num(tf$QE), i2 = num(tf$I2))
    }

    g <- factor(d$group)
    me <- rma(d$yi, d$vi, mods = ~ g, method = method, test = test, control = ctrl)
    levels_g <- levels(g)
    sep <- lapply(levels_g, function(l) suppressWarnings(rma(d$yi[g == l], d$vi[g == l], method = method, test = test, control = ctrl)))
    ee <- lapply(levels_g, function(l) suppressWarnings(rma(d$yi[g == l], d$vi[g == l], method = "EE", control = ctrl)))
    ee_all <- rma(d$yi, d$vi, method = "EE")
    between <- rma(sapply(sep, function(r) c(r$beta)), sei = sapply(sep, function(r) r$se), mods = ~ levels_g, method = "EE")
    between_ee <- rma(sapply(ee, function(r) c(r$beta)), sei = sapply(ee, function(r) r$se), mods = ~ levels_g, method = "EE")
    subgroup_refs[[length(subgroup_refs) + 1]] <- list(
      dataset = dname, method = method, test = test,
      call = paste0(fcall, sprintf('; rma(yi, vi, mods=~factor(group), method="%s", test="%s", %s); rma(yi, vi, subset=group==g, method="%s", test="%s") per group; rma(yi, vi, subset=group==g, method="EE") per group; rma(b, sei=se, mods=~group, method="EE") over the separate fits', method, test, CTRL, method, test)),
      levels = levels_g,
      q_m = num(me$QM), q_m_df = num(me$QMdf[1]), q_m_df2 = num(me$QMdf[2]), q_m_p = num(me$QMp),
      tau2_common = num(me$tau2),
      group_estimate = sapply(sep, function(r) num(r$beta)), group_se = sapply(sep, function(r) num(r$se)),
      group_tau2 = sapply(sep, function(r) num(r$tau2)), group_k = sapply(sep, function(r) r$k),
      q_between = num(between$QM), q_between_p = num(between$QMp),
      q_between_fixed = num(between_ee$QM), q_between_fixed_p = num(between_ee$QMp),
      q_total_fixed = num(ee_all$QE), q_within_fixed = sapply(ee, function(r) num(r$QE)))
  }
}

ranktest_refs <- list()
for (dname in names(datasets)) {
  d <- datasets[[dname]]
  res <- fit(d, "REML", "z")
  rk <- ranktest(res)
  ranktest_refs[[length(ranktest_refs) + 1]] <- list(dataset = dname, call = "ranktest(rma(yi, vi)) (exact=TRUE by default: R's exact Kendall p unless there are ties)",
    tau = num(rk$tau), pval = num(rk$pval))
  # ranktest() depends only on yi and vi, not on the fit's method
  rk <- ranktest(res, exact = FALSE)
  ranktest_refs[[length(ranktest_refs) + 1]] <- list(dataset = dname, call = "ranktest(rma(yi, vi), exact=FALSE)",
    exact = FALSE, tau = num(rk$tau), pval = num(rk$pval))
}
# Tied variances force the normal approximation with the tie-corrected variance.
ties <- list(yi = c(0.1, 0.3, 0.2, 0.5, 0.4, 0.9, 0.6), vi = c(0.01, 0.02, 0.02, 0.04, 0.04, 0.04, 0.09))
rk <- suppressWarnings(ranktest(ties$yi, ties$vi))
ranktest_refs[[length(ranktest_refs) + 1]] <- list(dataset = "tied_variances",
  call = "ranktest(yi, vi) with tied vi (R falls back to the normal approximation)", tau = num(rk$tau), pval = num(rk$pval))
datasets$tied_variances <- list(yi = ties$yi, vi = ties$vi, labels = paste("Study", 1:7), order = 1:7, group = rep("a", 7),
  call = "constructed: tied sampling variances")

out <- list(
  generated_by = "tests/reference/sensitivity.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  control = CTRL,
  notes = c(
    "leave1out()/cumul() do not report prediction intervals; pi_lb/pi_ub come from predict() of the same refits (NA for EE)",
    "trimfill() refits the filled data with the default test='z' and level unless they are passed through '...'; test=res$test is passed here because analysis.small_study keeps the fit's test",
    "q_between: test of subgroup differences from separate fits with the model's method (RevMan's random-effects test); q_between_fixed: from separate EE fits, equal to Q_total - sum(Q_within)"),
  datasets = lapply(datasets, function(d) list(yi = d$yi, vi = d$vi, labels = d$labels, order = d$order, group = as.character(d$group), call = d$call)),
  leave1out = leave1out_refs, cumul = cumul_refs, influence = influence_refs,
  regtest = regtest_refs, ranktest = ranktest_refs, trimfill = trimfill_refs, subgroup = subgroup_refs)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "tests/reference/sensitivity.json")
cat("wrote tests/reference/sensitivity.json\n")
