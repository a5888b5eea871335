# Exact power of Fisher's two-sided test by vectorised enumeration in R (the baseline of issue 26.2):
# every table's dhyper, p values as cumulative sums within each m after order(m, d), ties at
# fisher.test's relative 1e-7; prints "CPU-seconds elapsed-seconds power" (best of 3) for n per group.
# Rscript benchmarks/r/fisher_power.R 1000
fisher_power <- function(n1, n2, p1, p2, alpha) {
  N <- n1 + n2
  k1 <- rep(0:n1, times = n2 + 1); k2 <- rep(0:n2, each = n1 + 1); m <- k1 + k2
  d <- dhyper(k1, n1, n2, m)
  o <- order(m, d); ds <- d[o]; ms <- m[o]
  cs <- cumsum(ds); first <- match(ms, ms); before <- c(0, cs)[first]
  L <- length(ds)
  tie <- c(ms[-1] == ms[-L] & ds[-1] <= ds[-L] * (1 + 1e-7), FALSE)
  runend <- rev(cummin(rev(ifelse(tie, L + 1, seq_len(L)))))
  p <- numeric(L); p[o] <- cs[runend] - before
  reject <- p <= alpha & m > 0 & m < N
  sum(dbinom(k1, n1, p1) * dbinom(k2, n2, p2) * reject)
}
args <- commandArgs(TRUE); n <- as.integer(args[1])
fisher_power(20, 20, 0.5, 0.4, 0.05)
best <- c(Inf, Inf)
for (i in 1:3) { t <- system.time(pw <- fisher_power(n, n, 0.5, 0.4, 0.05)); if (t[["elapsed"]] < best[2]) best <- c(t[["user.self"]] + t[["sys.self"]], t[["elapsed"]]) }
cat(sprintf("%.4f %.4f %.15g\n", best[1], best[2], pw))
