"""``pool --table``: a multi-site replication published as a table of per-site counts (issue 25.4),
the whole-study rate (PLO, 25.3) and count plans (SMD, ROM, 25.1), checked against metafor 3.8-1.

R 4.2, every reference value below (CI has no R)::

    library(metafor); ctl <- list(threshold=1e-12, tol=1e-12, maxiter=1000)
    x1 <- c(14, 9, 22, 6); n1 <- c(60, 45, 80, 30); x2 <- c(8, 10, 12, 0); n2 <- c(58, 44, 82, 31)
    or <- escalc("OR", ai=x1, n1i=n1, ci=x2, n2i=n2, add=1/2, to="only0")
    r <- rma(yi, vi, data=or, method="REML", control=ctl); p <- predict(r)
    print(c(r$b, r$se, r$tau2, r$I2, r$QE, p$pi.lb, p$pi.ub), digits=15)
    pl <- escalc("PLO", xi=x1 + x2, ni=n1 + n2, add=1/2, to="only0")
    r <- rma(yi, vi, data=pl, method="REML", control=ctl); p <- predict(r)
    print(c(r$b, r$se, r$tau2, r$I2, r$QE, p$pi.lb, p$pi.ub), digits=15)
    comb <- function(m1, s1, n1, m2, s2, n2) { n <- n1 + n2; m <- (n1*m1 + n2*m2)/n      # two cells as one group
      ss <- (n1-1)*s1^2 + (n2-1)*s2^2 + n1*(m1-m)^2 + n2*(m2-m)^2; list(m=m, s=sqrt(ss/(n-1)), n=n) }
    t <- comb(c(2.1, 1.6, 2.4), c(1.9, 1.2, 2.2), c(8, 10, 12), c(1.4, 1.9, 1.7), c(1.5, 1.8, 1.6), c(8, 9, 12))
    c0 <- comb(c(0.9, 1.2, 1.0), c(1.1, 1.3, 0.8), c(8, 10, 11), c(1.0, 0.7, 1.3), c(1.2, 0.9, 1.4), c(8, 10, 12))
    for (ms in c("SMD", "ROM")) {
      e <- escalc(ms, m1i=t$m, sd1i=t$s, n1i=t$n, m2i=c0$m, sd2i=c0$s, n2i=c0$n)
      print(cbind(e$yi, e$vi), digits=15)
      r <- rma(yi, vi, data=e, method="REML", control=ctl); p <- predict(r)
      print(c(r$b, r$se, r$tau2, r$I2, r$QE, p$pi.lb, p$pi.ub), digits=15) }
"""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from analysis.errors import AnalysisError
from analysis.meta.table import pool_table, read_site_table
from tests.conftest import BIN

KUNZ = [("S1", 14, 60, 8, 58), ("S2", 9, 45, 10, 44), ("S3", 22, 80, 12, 82), ("S4", 6, 30, 0, 31)]
# b, se, tau2, I2, QE, pi.lb, pi.ub
R_OR = (0.5689889010219289, 0.2760430968429285, 0.0236775175044885, 7.1651982736296160, 4.6020961403097900,
        -0.0504257976658008, 1.1884035997096585)
R_PLO = (-1.43522289769013, 0.123924054150116, 4.56078205167923e-13, 6.87682024315066e-10, 3.89978856626583,
         -1.67810958064616, -1.19233621473410)
# regan1971 cells per site: confederate_favor (pleasant, unpleasant), no_favor (pleasant, unpleasant)
REGAN = {"S1": ((2.1, 1.9, 8), (1.4, 1.5, 8), (0.9, 1.1, 8), (1.0, 1.2, 8)),
         "S2": ((1.6, 1.2, 10), (1.9, 1.8, 9), (1.2, 1.3, 10), (0.7, 0.9, 10)),
         "S3": ((2.4, 2.2, 12), (1.7, 1.6, 12), (1.0, 0.8, 11), (1.3, 1.4, 12))}
R_SMD_SITES = [(0.544328698481877, 0.1296295895623590), (0.594366477003510, 0.1071607008574398),
               (0.554825745724046, 0.0884197318779153)]
R_SMD = (0.5649826989093295, 0.1877929800324235, 0.0, 0.0, 0.0125146884345075, 0.1969152214963301,
         0.9330501763223289)
R_ROM_SITES = [(0.610909082322973, 0.1443025986017676), (0.606387597604127, 0.1071213923732541),
               (0.572422793291813, 0.0784323511261071)]
R_ROM = (0.59254256875017386, 0.18564756701166321, 0.0, 0.0, 0.00928826981546943, 0.22868002358982775,
         0.95640511391051997)


def _got(r):
    return (r.estimate, r.se, r.tau2, r.i2, r.q, r.pi_low, r.pi_high)


@pytest.fixture()
def kunz_table(tmp_path):
    p = tmp_path / "sites.csv"
    lines = ["site,condition,complied,n"]
    for s, a, n1, c, n2 in KUNZ:
        lines += [f"{s},high_status,{a},{n1}", f"{s},low_status,{c},{n2}"]
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.fixture()
def regan_table(tmp_path):
    p = tmp_path / "regan.csv"
    names = ("confederate_favor_pleasant", "confederate_favor_unpleasant", "no_favor_pleasant", "no_favor_unpleasant")
    lines = ["site,condition,mean,sd,n"]
    for s, cells in REGAN.items():
        lines += [f"{s},{c},{m},{sd},{n}" for c, (m, sd, n) in zip(names, cells)]
        lines += [f"{s},experimenter_favor_pleasant,1.1,1.0,8", f"{s},experimenter_favor_unpleasant,1.2,1.1,8"]
    p.write_text("\n".join(lines) + "\n")
    return p


def test_binary_table_pools_as_metafor_with_the_zero_cell_rule_and_the_whole_study_rate(kunz_table):
    res = pool_table(kunz_table, "kunz1976", 1)
    c = res.contrasts[0]
    np.testing.assert_allclose(_got(c.headline), R_OR, rtol=1e-9, atol=1e-10)
    assert [s.corrected for s in c.sites] == [False, False, False, True]
    (rate,) = [p for p in res.pools if p.measure == "PLO"]
    np.testing.assert_allclose(_got(rate.headline), R_PLO, rtol=1e-9, atol=1e-9)
    assert res.data_origin == ("table",) and not res.simulated and "from the table" in str(res)


def test_count_table_pools_hedges_g_and_ratio_of_means_as_metafor(regan_table):
    res = pool_table(regan_table, "regan1971", 1)
    smd, rom = [p for p in res.pools if p.label == res.pools[0].label]
    assert (smd.measure, rom.measure) == ("SMD", "ROM")
    np.testing.assert_allclose([(s.yi, s.vi) for s in smd.sites], R_SMD_SITES, rtol=1e-12)
    np.testing.assert_allclose([(s.yi, s.vi) for s in rom.sites], R_ROM_SITES, rtol=1e-12)
    np.testing.assert_allclose(_got(smd.headline), R_SMD, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_got(rom.headline), R_ROM, rtol=1e-9, atol=1e-12)
    assert "ratio of means = 1.81" in str(res)   # exp(0.5925)


@pytest.mark.parametrize("body,match", [
    ("S1,high_status,4,10\nS1,middle_status,3,10\n", r"line 3, field 'condition': 'middle_status' is not a cond"),
    ("S1,high_status,-1,10\nS1,low_status,3,10\n", r"line 2, field 'complied': -1 is negative"),
    ("S1,high_status,12,10\nS1,low_status,3,10\n", r"line 2, field 'complied': 12 complied of n = 10 is imposs"),
    ("S1,high_status,2.5,10\nS1,low_status,3,10\n", r"line 2, field 'complied': 2.5 is not a whole number"),
    ("S1,high_status,4,10\nS1,low_status,3,10\nS2,high_status,4,10\n", r"line 4: site 'S2' has one condition"),
    ("S1,high_status,4,10\nS1,high_status,3,10\n", r"line 3: site 'S1', condition 'high_status' again"),
    ("S1,high_status,4,\nS1,low_status,3,10\n", r"line 2, field 'n': empty"),
])
def test_bad_tables_are_one_line_errors_naming_file_line_and_field(tmp_path, body, match):
    p = tmp_path / "bad.csv"
    p.write_text("site,condition,complied,n\n" + body)
    with pytest.raises(AnalysisError, match=match) as e:
        read_site_table(p, "kunz1976", 1)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_a_count_table_needs_mean_and_sd(tmp_path, kunz_table):
    with pytest.raises(AnalysisError, match="no column 'mean'; a table for regan1971 .count plan. needs"):
        read_site_table(kunz_table, "regan1971", 1)


def test_cli_pools_a_table_and_refuses_a_bad_one_with_exit_2(tmp_path, kunz_table):
    run = subprocess.run([str(BIN / "compliance"), "pool", "--table", str(kunz_table), "--study", "kunz1976",
                          "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    d = json.loads(run.stdout)
    for key in ("study", "experiment", "contrasts", "methods", "apa", "n_sites", "pools", "simulated"):
        assert key in d
    assert d["contrasts"][0]["headline"]["estimate"] == pytest.approx(R_OR[0], rel=1e-9)
    bad = tmp_path / "bad.csv"
    bad.write_text("site,condition,complied,n\nS1,high_status,4,10\n")
    run = subprocess.run([str(BIN / "compliance"), "pool", "--table", str(bad), "--study", "kunz1976"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1 and "one condition" in run.stderr
    run = subprocess.run([str(BIN / "compliance"), "pool", "--table", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2 and "--study" in run.stderr


def test_forest_plot_draws_count_measures_and_titles_simulated(tmp_path, regan_table):
    import dataclasses

    from analysis.plots.forest import plot_forest

    res = pool_table(regan_table, "regan1971", 1)
    fig = plot_forest(dataclasses.replace(res, data_origin=("simulated",)))
    texts = [t.get_text() for t in fig.texts]
    assert any("SIMULATED DATA" in t for t in texts)
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert any("Hedges' g" in x for x in labels) and any("ratio of means" in x for x in labels)
    assert len(fig.axes) == len(res.pools)
