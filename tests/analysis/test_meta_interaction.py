"""Pollock et al. (1998) pooled over sites: the technique x price interaction of each site as a log ratio
of odds ratios (LROR), its variance and the zero-cell rule, checked against metafor 3.8-1 and R's glm
(R 4.2.2; CI has no R, so the reference values are recorded here).

Each site's 2 x 2 (technique x price) table sums the three reason cells.  S4 has nobody buying at $5
with that's-not-all (a zero cell in the $5 table) and S5 everybody at $1 with that's-not-all (a zero
"did not buy" cell in the $1 table): metafor's ``add = 1/2, to = "only0"`` corrects each table alone.
The R call, verbatim::

    library(metafor); ctl <- list(threshold=1e-12, tol=1e-12, maxiter=1000)
    cells <- list(  # per site: (n, complied) in the order price 1, 5 x reason none, weak, good x technique tna, control
      S1=c(7,4, 10,2, 6,6, 7,3, 8,8, 7,2, 6,0, 7,0, 6,1, 7,1, 6,2, 10,3),
      S2=c(8,8, 7,2, 7,5, 7,5, 9,7, 10,4, 7,1, 10,4, 8,2, 6,1, 8,0, 6,1),
      S3=c(8,7, 6,5, 9,6, 8,3, 8,6, 10,5, 6,4, 6,2, 8,5, 6,3, 8,6, 10,2),
      S4=c(7,6, 6,5, 7,7, 8,7, 10,8, 9,1, 6,0, 6,1, 7,0, 7,1, 8,0, 7,3),
      S5=c(9,9, 9,5, 9,9, 7,3, 10,10, 9,3, 7,3, 7,0, 7,2, 6,1, 9,3, 6,1))
    d <- do.call(rbind, lapply(names(cells), function(s) { v <- matrix(cells[[s]], ncol=2, byrow=TRUE)
      data.frame(site=s, price=rep(c("1","5"), each=6), technique=rep(c("tna","control"), 6), n=v[,1], y=v[,2]) }))
    a <- aggregate(cbind(y, n) ~ site + price + technique, data=d, FUN=sum)
    get <- function(s, p, t, col) a[a$site==s & a$price==p & a$technique==t, col]
    S <- names(cells)
    or <- function(p) escalc("OR", ai=sapply(S, get, p, "tna", "y"), n1i=sapply(S, get, p, "tna", "n"),
                              ci=sapply(S, get, p, "control", "y"), n2i=sapply(S, get, p, "control", "n"),
                              add=1/2, to="only0")
    o1 <- or("1"); o5 <- or("5")
    yi <- o5$yi - o1$yi; vi <- o5$vi + o1$vi
    print(cbind(yi, vi), digits=15)
    for (m in c("REML", "DL", "PM")) { r <- rma(yi, vi, method=m, control=ctl); p <- predict(r)
      print(c(r$b, r$se, r$tau2, r$I2, r$QE, p$pi.lb, p$pi.ub), digits=15) }
    for (s in c("S1", "S2", "S3")) {   # no zero cell: the saturated logit's interaction is the same number
      g <- glm(cbind(y, n - y) ~ relevel(factor(technique), "control") * price, binomial, data=a[a$site == s, ])
      print(c(coef(g)[4], vcov(g)[4, 4]), digits=15) }

Its output::

                         yi                vi
    [1,] -2.679062664228957 1.290569561157796
    [2,] -2.692782728971422 1.080332167832168
    [3,]  0.538654678818574 0.806178032493822
    [4,] -4.408654068594609 2.850721396632874
    [5,] -2.763395377817976 2.941499954357187
    [1] -2.146075821646532  0.879314907878482  2.264968530008111 60.816399500396024
    [5] 10.817212636629485 -5.562357274681153  1.270205631388089
    [1] -2.159774575466682  0.905272533903628  2.487096612626060 63.021897281975285
    [5] 10.817212636629485 -5.723792708935324  1.404243558001961
    [1] -2.120232601075739  0.835427012555339  1.906302719598481 56.640683642769162
    [5] 10.817212636629485 -5.283156028893695  1.042690826742217
    tna:price5 -2.67906266417562   1.29056427101365
    tna:price5 -2.69278272891087   1.08032809308579
    tna:price5  0.538654678818580  0.806178015061904
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import paradigms
from analysis.meta.pooling import pool_counts

CELLS = {  # (n, complied) in the order price 1, 5 x reason none, weak, good x technique tna, control
    "S1": [(7, 4), (10, 2), (6, 6), (7, 3), (8, 8), (7, 2), (6, 0), (7, 0), (6, 1), (7, 1), (6, 2), (10, 3)],
    "S2": [(8, 8), (7, 2), (7, 5), (7, 5), (9, 7), (10, 4), (7, 1), (10, 4), (8, 2), (6, 1), (8, 0), (6, 1)],
    "S3": [(8, 7), (6, 5), (9, 6), (8, 3), (8, 6), (10, 5), (6, 4), (6, 2), (8, 5), (6, 3), (8, 6), (10, 2)],
    "S4": [(7, 6), (6, 5), (7, 7), (8, 7), (10, 8), (9, 1), (6, 0), (6, 1), (7, 0), (7, 1), (8, 0), (7, 3)],
    "S5": [(9, 9), (9, 5), (9, 9), (7, 3), (10, 10), (9, 3), (7, 3), (7, 0), (7, 2), (6, 1), (9, 3), (6, 1)],
}
R_SITES = [(-2.679062664228957, 1.290569561157796), (-2.692782728971422, 1.080332167832168),
           (0.538654678818574, 0.806178032493822), (-4.408654068594609, 2.850721396632874),
           (-2.763395377817976, 2.941499954357187)]
# b, se, tau2, I2, QE, pi.lb, pi.ub
R_POOL = {
    "REML": (-2.146075821646532, 0.879314907878482, 2.264968530008111, 60.816399500396024, 10.817212636629485,
             -5.562357274681153, 1.270205631388089),
    "DL": (-2.159774575466682, 0.905272533903628, 2.487096612626060, 63.021897281975285, 10.817212636629485,
           -5.723792708935324, 1.404243558001961),
    "PM": (-2.120232601075739, 0.835427012555339, 1.906302719598481, 56.640683642769162, 10.817212636629485,
           -5.283156028893695, 1.042690826742217),
}
R_GLM = [(-2.67906266417562, 1.29056427101365), (-2.69278272891087, 1.08032809308579),
         (0.538654678818580, 0.806178015061904)]


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    conds = paradigms.get("pollock1998").experiment(1).conditions
    order = [(c.factors["price"], c.factors["reason"], c.factors["technique"]) for c in conds]
    want = [(p, r, t) for p in ("1", "5") for r in ("none", "weak", "good") for t in ("tna", "control")]
    assert sorted(order) == sorted(want)
    name = {(c.factors["price"], c.factors["reason"], c.factors["technique"]): c.name for c in conds}
    rows = [(s, name[key], n, x) for s, cells in CELLS.items() for key, (n, x) in zip(want, cells)]
    return pd.DataFrame(rows, columns=["site", "condition", "n", "complied"])


def _lror(res):
    (p,) = [p for p in res.pools if p.measure == "LROR"]
    return p


def test_each_sites_interaction_is_metafors_difference_of_two_log_odds_ratios(counts):
    p = _lror(pool_counts(counts, "pollock1998", 1))
    assert [s.site for s in p.sites] == list(CELLS)
    np.testing.assert_allclose([(s.yi, s.vi) for s in p.sites], R_SITES, rtol=1e-12)
    assert [s.corrected for s in p.sites] == [False, False, False, True, True]
    assert any("2 site(s) with a zero cell" in n for n in p.notes)
    assert p.label.endswith("at price=5 / at price=1")       # the direction of the ratio, said


@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
def test_the_interaction_pools_as_metafor_rma_with_every_estimator(counts, method):
    p = _lror(pool_counts(counts, "pollock1998", 1, method=method))
    r = p.headline
    assert r.method == method
    np.testing.assert_allclose((r.estimate, r.se, r.tau2, r.i2, r.q, r.pi_low, r.pi_high), R_POOL[method],
                               rtol=1e-8, atol=1e-10)


# a saturated model: no residual degrees of freedom, every cell fitted exactly (statsmodels warns of both)
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:Perfect separation")
def test_without_a_zero_cell_the_interaction_is_the_saturated_logits_coefficient(counts):
    """R's glm (above) and statsmodels' GLM, two other ways to the same number."""
    import statsmodels.api as sm

    p = _lror(pool_counts(counts, "pollock1998", 1))
    for site, (b, v), sv in zip(("S1", "S2", "S3"), R_GLM, p.sites):
        # R's glm stops at epsilon = 1e-8 on the deviance, so its variance is off in the 6th digit
        assert (sv.yi, sv.vi) == pytest.approx((b, v), rel=1e-5)
        cells = np.array(CELLS[site]).reshape(2, 3, 2, 2).sum(axis=1)  # price x technique x (n, complied)
        tna = np.array([1, 0, 1, 0])
        price5 = np.array([0, 0, 1, 1])
        n, y = cells[..., 0].ravel(), cells[..., 1].ravel()
        x = np.column_stack([np.ones(4), tna, price5, tna * price5])
        fit = sm.GLM(np.column_stack([y, n - y]), x, family=sm.families.Binomial()).fit(tol=1e-14)
        assert (sv.yi, sv.vi) == pytest.approx((fit.params[3], fit.cov_params()[3, 3]), rel=1e-9)
