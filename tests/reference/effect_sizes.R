# Reference values for analysis.effect_sizes and analysis.transforms
# (tests/test_effect_sizes.py, tests/test_transforms.py).
#
# Regenerate from the repository root with:
#     Rscript tests/reference/effect_sizes.R
# It writes tests/reference/effect_sizes.json: every input table, the exact R
# call that produced each set of values, and the versions of R, metafor,
# metadat and jsonlite. The tests read only the JSON; R is not a test
# dependency. Missing values (NA in R) are written as null.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

# ---------------------------------------------------------------- datasets
# BCG vaccine trials (Colditz et al. 1994) plus constructed 2x2 tables with
# zero cells: no events in group 1, none in group 2, none in either, and all
# patients with events in both groups (bi = di = 0).
bcg_zero <- data.frame(
  ai = c(dat.bcg$tpos, 0, 4, 0, 20, 7),
  bi = c(dat.bcg$tneg, 20, 16, 20, 0, 0),
  ci = c(dat.bcg$cpos, 3, 0, 0, 20, 2),
  di = c(dat.bcg$cneg, 17, 20, 20, 0, 8)
)
bcg_zero$n1i <- bcg_zero$ai + bcg_zero$bi
bcg_zero$n2i <- bcg_zero$ci + bcg_zero$di
bcg_source <- "metadat::dat.bcg (ai=tpos, bi=tneg, ci=cpos, di=cneg) + 5 constructed rows with zero cells"

# BCG without zero cells, for to = "if0all" (no table has a zero: no correction).
bcg <- data.frame(ai = dat.bcg$tpos, bi = dat.bcg$tneg, ci = dat.bcg$cpos, di = dat.bcg$cneg)
bcg$n1i <- bcg$ai + bcg$bi
bcg$n2i <- bcg$ci + bcg$di

normand <- dat.normand1999[, c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")]

# Pritz (1997) case series (several with xi == ni) plus one constructed
# series with no events (xi = 0).
pritz_zero <- data.frame(xi = c(dat.pritz1997$xi, 0), ni = c(dat.pritz1997$ni, 15))
debruin <- data.frame(xi = dat.debruin2009$xi, ni = dat.debruin2009$ni)

# Constructed pre-post (or crossover) summaries: means, SDs at the two
# occasions, within-patient correlation and n. The last row uses metafor's
# documented idiom for a reported SD of change scores (sd1i = SD of change,
# sd2i = 0, ri = 0); it is used for MC only.
prepost <- data.frame(
  m1i  = c(62.1, 48.0, 7.1, 55.5, 30.2, 5.4),
  m2i  = c(45.3, 41.5, 5.0, 57.0, 21.9, 3.1),
  sd1i = c(14.2, 20.1, 1.9, 18.0, 9.5, 2.2),
  sd2i = c(18.7, 22.4, 2.3, 17.2, 11.0, 0),
  ni   = c(20, 11, 35, 8, 14, 24),
  ri   = c(0.5, 0.3, 0.72, -0.1, 0.9, 0)
)
prepost_source <- "constructed pre-post summaries (6 rows; row 6: SD of change scores with sd2i = 0, ri = 0)"

# ---------------------------------------------------------------- escalc cases
cases <- list()
add_case <- function(name, data, source, measure, call, args = list()) {
  res <- do.call(escalc, c(list(measure = measure, data = data), args))
  cases[[length(cases) + 1]] <<- list(
    name = name, measure = measure, source = source,
    call = call, options = args[setdiff(names(args), c("ai", "bi", "ci", "di", "n1i", "n2i",
                                                     "m1i", "m2i", "sd1i", "sd2i", "xi", "ni", "ri"))],
    data = as.list(data),
    yi = as.numeric(res$yi), vi = as.numeric(res$vi))
}

tab4 <- alist(ai = ai, bi = bi, ci = ci, di = di)
tab_n <- alist(ai = ai, n1i = n1i, ci = ci, n2i = n2i)
for (m in c("RR", "OR", "RD")) {
  add_case(paste0("bcg_zero_", m), bcg_zero, bcg_source, m,
           sprintf('escalc(measure="%s", ai=ai, bi=bi, ci=ci, di=di, data=bcg_zero)', m), tab4)
  add_case(paste0("bcg_zero_", m, "_n"), bcg_zero, bcg_source, m,
           sprintf('escalc(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=bcg_zero)', m), tab_n)
}
add_case("bcg_zero_RR_all", bcg_zero, bcg_source, "RR",
         'escalc(measure="RR", ai=ai, bi=bi, ci=ci, di=di, data=bcg_zero, to="all")',
         c(tab4, list(to = "all")))
add_case("bcg_zero_OR_if0all", bcg_zero, bcg_source, "OR",
         'escalc(measure="OR", ai=ai, bi=bi, ci=ci, di=di, data=bcg_zero, to="if0all")',
         c(tab4, list(to = "if0all")))
add_case("bcg_OR_if0all", bcg, "metadat::dat.bcg (ai=tpos, bi=tneg, ci=cpos, di=cneg)", "OR",
         'escalc(measure="OR", ai=ai, bi=bi, ci=ci, di=di, data=bcg, to="if0all", add=1)',
         c(tab4, list(to = "if0all", add = 1)))
add_case("bcg_zero_RR_none", bcg_zero, bcg_source, "RR",
         'escalc(measure="RR", ai=ai, bi=bi, ci=ci, di=di, data=bcg_zero, to="none")',
         c(tab4, list(to = "none")))
add_case("bcg_zero_OR_add0", bcg_zero, bcg_source, "OR",
         'escalc(measure="OR", ai=ai, bi=bi, ci=ci, di=di, data=bcg_zero, add=0)',
         c(tab4, list(add = 0)))
add_case("bcg_zero_OR_drop00", bcg_zero, bcg_source, "OR",
         'escalc(measure="OR", ai=ai, bi=bi, ci=ci, di=di, data=bcg_zero, drop00=TRUE)',
         c(tab4, list(drop00 = TRUE)))
add_case("bcg_zero_RD_add0", bcg_zero, bcg_source, "RD",
         'escalc(measure="RD", ai=ai, bi=bi, ci=ci, di=di, data=bcg_zero, add=0)',
         c(tab4, list(add = 0)))
add_case("bcg_zero_RR_add0.25_all", bcg_zero, bcg_source, "RR",
         'escalc(measure="RR", ai=ai, bi=bi, ci=ci, di=di, data=bcg_zero, add=0.25, to="all")',
         c(tab4, list(add = 0.25, to = "all")))

for (m in c("MD", "SMD")) {
  add_case(paste0("normand1999_", m), normand, "metadat::dat.normand1999", m,
           sprintf('escalc(measure="%s", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)', m),
           alist(m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i))
}

prop_sources <- list(pritz_zero = "metadat::dat.pritz1997 + 1 constructed row with xi = 0 (ni = 15)",
                     debruin2009 = "metadat::dat.debruin2009")
prop_data <- list(pritz_zero = pritz_zero, debruin2009 = debruin)
for (d in names(prop_data)) {
  for (m in c("PR", "PLO", "PFT", "PAS")) {
    add_case(paste0(d, "_", m), prop_data[[d]], prop_sources[[d]], m,
             sprintf('escalc(measure="%s", xi=xi, ni=ni, data=%s)', m, d),
             alist(xi = xi, ni = ni))
  }
}
add_case("pritz_zero_PLO_add0", pritz_zero, prop_sources$pritz_zero, "PLO",
         'escalc(measure="PLO", xi=xi, ni=ni, data=pritz_zero, add=0)',
         c(alist(xi = xi, ni = ni), list(add = 0)))
add_case("pritz_zero_PFT_add0.5", pritz_zero, prop_sources$pritz_zero, "PFT",
         'escalc(measure="PFT", xi=xi, ni=ni, data=pritz_zero, add=0.5)',
         c(alist(xi = xi, ni = ni), list(add = 0.5)))
add_case("pritz_zero_PR_all", pritz_zero, prop_sources$pritz_zero, "PR",
         'escalc(measure="PR", xi=xi, ni=ni, data=pritz_zero, to="all")',
         c(alist(xi = xi, ni = ni), list(to = "all")))

add_case("prepost_MC", prepost, prepost_source, "MC",
         'escalc(measure="MC", m1i=m1i, m2i=m2i, sd1i=sd1i, sd2i=sd2i, ni=ni, ri=ri, data=prepost)',
         alist(m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni, ri = ri))
prepost_smcr <- prepost[1:5, ]
add_case("prepost_SMCR", prepost_smcr, "constructed pre-post summaries (rows 1-5)", "SMCR",
         'escalc(measure="SMCR", m1i=m1i, m2i=m2i, sd1i=sd1i, ni=ni, ri=ri, data=prepost[1:5, ])',
         alist(m1i = m1i, m2i = m2i, sd1i = sd1i, ni = ni, ri = ri))

# ---------------------------------------------------------------- transforms
# Back-transformations of the escalc values above (pritz_zero), as a forest
# plot or predict() would apply them.
pz_plo <- escalc("PLO", xi = xi, ni = ni, data = pritz_zero)
pz_pft <- escalc("PFT", xi = xi, ni = ni, data = pritz_zero)
pz_pas <- escalc("PAS", xi = xi, ni = ni, data = pritz_zero)
grid <- c(-0.3, 0, 0.1, 0.4, 0.7853981633974483, 1.2, 1.5707963267948966, 1.7)
transforms <- list(
  list(name = "ilogit", call = "transf.ilogit(yi)  # yi: PLO for pritz_zero",
       x = as.numeric(pz_plo$yi), value = transf.ilogit(as.numeric(pz_plo$yi))),
  list(name = "exp", call = "exp(c(-2, -0.5, 0, 0.3, 1.7))  # back-transform for RR, OR",
       x = c(-2, -0.5, 0, 0.3, 1.7), value = exp(c(-2, -0.5, 0, 0.3, 1.7))),
  list(name = "iarcsin", call = "transf.iarcsin(yi)  # yi: PAS for pritz_zero",
       x = as.numeric(pz_pas$yi), value = transf.iarcsin(as.numeric(pz_pas$yi))),
  list(name = "iarcsin_grid", call = "transf.iarcsin(grid)",
       x = grid, value = transf.iarcsin(grid)),
  list(name = "ipft_hm", call = "transf.ipft.hm(yi, targs=list(ni=ni))  # yi: PFT for pritz_zero",
       x = as.numeric(pz_pft$yi), ni = pritz_zero$ni,
       value = transf.ipft.hm(as.numeric(pz_pft$yi), targs = list(ni = pritz_zero$ni))),
  list(name = "ipft_hm_grid", call = "transf.ipft.hm(grid, targs=list(ni=pritz_zero$ni))",
       x = grid, ni = pritz_zero$ni,
       value = transf.ipft.hm(grid, targs = list(ni = pritz_zero$ni))),
  list(name = "ipft", call = "transf.ipft(yi, ni)  # study-wise n",
       x = as.numeric(pz_pft$yi), ni = pritz_zero$ni,
       value = transf.ipft(as.numeric(pz_pft$yi), pritz_zero$ni))
)

# ---------------------------------------------------------------- intervals
interval_x <- c(0, 1, 4, 10, 16, 17, 43, 0, 12, 3)
interval_n <- c(15, 17, 8, 10, 17, 17, 58, 1, 12, 250)
intervals <- list()
for (level in c(0.95, 0.90)) {
  cp <- t(mapply(function(x, n) binom.test(x, n, conf.level = level)$conf.int, interval_x, interval_n))
  wi <- t(mapply(function(x, n) suppressWarnings(prop.test(x, n, conf.level = level, correct = FALSE))$conf.int,
                 interval_x, interval_n))
  intervals[[length(intervals) + 1]] <- list(
    confidence_level = level, x = interval_x, n = interval_n,
    clopper_pearson_call = sprintf("binom.test(x, n, conf.level=%s)$conf.int", level),
    clopper_pearson_lb = cp[, 1], clopper_pearson_ub = cp[, 2],
    wilson_call = sprintf("suppressWarnings(prop.test(x, n, conf.level=%s, correct=FALSE))$conf.int", level),
    wilson_lb = wi[, 1], wilson_ub = wi[, 2])
}

out <- list(
  generated_by = "tests/reference/effect_sizes.R",
  r_version = R.version.string,
  packages = list(metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  escalc_defaults = 'add=1/2 (0 for PAS, PFT), to="only0", drop00=FALSE, vtype="LS"',
  cases = cases,
  transforms = transforms,
  intervals = intervals
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
           "tests/reference/effect_sizes.json")
