"""analysis.stats.counts, each result recomputed another way inside the test.

Data: the data-only simulation of Regan (1971) (240 participants, seed 21),
made unbalanced by dropping rows, so that type II sums of squares differ from
type I and the cell sizes differ.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

import paradigms
from analysis.stats.counts import analyze_count_plan, analyze_counts, correlation_difference, prepare
from paradigms.engine.sessions import simulate

REGAN = paradigms.get("regan1971")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    r = simulate(paradigms.get("regan1971"), 1, 240, seed=21, data_dir=tmp_path_factory.mktemp("regan"))
    df = pd.read_csv(r.csv_path)
    rng = np.random.default_rng(0)
    drop = rng.choice(len(df), 31, replace=False)  # unbalance the cells
    return df.drop(df.index[drop]).reset_index(drop=True)


@pytest.fixture(scope="module")
def res(data):
    return analyze_count_plan(data, REGAN.experiment(1))


def _rss(formula, df):
    return float(smf.ols(formula, data=df).fit().ssr)


def test_cells_match_pandas(data, res):
    g = data.groupby(["favor", "liking"])["tickets"]
    for c in res.cells:
        y = g.get_group((c.favor, c.liking)).to_numpy(float)
        assert c.n == len(y)
        assert c.mean == pytest.approx(y.mean()) and c.sd == pytest.approx(y.std(ddof=1))
        lo, hi = stats.t.interval(0.95, len(y) - 1, loc=y.mean(), scale=stats.sem(y))
        assert (c.ci_low, c.ci_high) == pytest.approx((lo, hi))
    assert len({c.n for c in res.cells}) > 1  # the data really are unbalanced


def test_anova_is_type_two_by_nested_model_comparison(data, res):
    full = smf.ols("tickets ~ C(favor) * C(liking)", data=data).fit()
    rss_add = _rss("tickets ~ C(favor) + C(liking)", data)
    ss = {"favor": _rss("tickets ~ C(liking)", data) - rss_add,
          "liking": _rss("tickets ~ C(favor)", data) - rss_add,
          "favor x liking": rss_add - full.ssr}
    dfs = {"favor": 2, "liking": 1, "favor x liking": 2}
    terms = {t.term: t for t in res.anova}
    for name in ss:
        t = terms[name]
        F = (ss[name] / dfs[name]) / (full.ssr / full.df_resid)
        assert t.ss == pytest.approx(ss[name], rel=1e-9)
        assert (t.df1, t.df2) == (dfs[name], full.df_resid)
        assert t.F == pytest.approx(F, rel=1e-9)
        assert t.p == pytest.approx(stats.f.sf(F, dfs[name], full.df_resid), rel=1e-9)
        assert t.partial_eta2 == pytest.approx(ss[name] / (ss[name] + full.ssr))
    # unbalanced data: type II (favor adjusted for liking) is not type I (favor entered first)
    type_one = _rss("tickets ~ 1", data) - _rss("tickets ~ C(favor)", data)
    assert abs(terms["favor"].ss - type_one) > 1e-6


def _design(data):
    X = pd.DataFrame({"const": 1.0,
                      "cf": (data.favor == "confederate_favor").astype(float),
                      "ef": (data.favor == "experimenter_favor").astype(float),
                      "pl": (data.liking == "pleasant").astype(float)})
    X["cf_pl"], X["ef_pl"] = X.cf * X.pl, X.ef * X.pl
    return X


def test_poisson_glm_matches_the_discrete_poisson_model(data, res):
    X = _design(data)
    disc = sm.Poisson(data["tickets"].to_numpy(float), X).fit(disp=0)
    assert res.poisson.loglik == pytest.approx(disc.llf, rel=1e-7)
    rr = {t.term: t.rate_ratio for t in res.poisson.terms}
    assert rr["favor[confederate_favor]"] == pytest.approx(math.exp(disc.params["cf"]), rel=1e-5)
    assert rr["liking[pleasant]"] == pytest.approx(math.exp(disc.params["pl"]), rel=1e-5)
    assert rr["favor[experimenter_favor]:liking[pleasant]"] == pytest.approx(math.exp(disc.params["ef_pl"]), rel=1e-5)
    # the LR test of the interaction, from two discrete fits
    add = sm.Poisson(data["tickets"].to_numpy(float), X[["const", "cf", "ef", "pl"]]).fit(disp=0)
    lr = {t.term: t for t in res.poisson.tests}["favor x liking"]
    assert lr.chi2 == pytest.approx(2 * (disc.llf - add.llf), rel=1e-6) and lr.df == 2
    mu = disc.predict(X)
    pearson = np.sum((data["tickets"] - mu) ** 2 / mu) / (len(data) - 6)
    assert res.poisson.pearson_dispersion == pytest.approx(pearson, rel=1e-5)


def test_negative_binomial_estimates_alpha(data, res):
    X = _design(data)
    disc = sm.NegativeBinomial(data["tickets"].to_numpy(float), X, loglike_method="nb2").fit(
        method="newton", maxiter=200, disp=0)
    nb = res.negative_binomial
    assert nb.alpha == pytest.approx(disc.params["alpha"], rel=1e-3)
    assert nb.loglik == pytest.approx(disc.llf, rel=1e-6)
    # alpha is estimated, not fixed at 1: the ML fit is at least as likely as the GLM family's alpha = 1
    fixed = smf.glm("tickets ~ C(favor) * C(liking)", data=data,
                    family=sm.families.NegativeBinomial(alpha=1.0)).fit()
    assert nb.loglik >= fixed.llf - 1e-6 and abs(nb.alpha - 1.0) > 1e-3
    pois = sm.Poisson(data["tickets"].to_numpy(float), X).fit(disp=0)
    assert nb.alpha_lr_chi2 == pytest.approx(2 * (disc.llf - pois.llf), rel=1e-4)
    assert nb.alpha_lr_p == pytest.approx(0.5 * stats.chi2.sf(2 * (disc.llf - pois.llf), 1), rel=1e-3)


def test_planned_contrasts_match_a_cell_means_t_test(data, res):
    d = data.assign(cell=data.favor + "|" + data.liking)
    fit = smf.ols("tickets ~ 0 + C(cell)", data=d).fit()
    names = list(fit.params.index)
    for c in res.contrasts:
        vec = np.zeros(len(names))
        for lk in ("pleasant", "unpleasant"):
            vec[names.index(f"C(cell)[{c.treatment}|{lk}]")] += 0.5
            for ctrl in c.control:
                vec[names.index(f"C(cell)[{ctrl}|{lk}]")] -= 0.5 / len(c.control)
        tt = fit.t_test(vec)
        assert c.estimate == pytest.approx(float(np.squeeze(tt.effect)), rel=1e-9)
        assert c.t == pytest.approx(float(np.squeeze(tt.tvalue)), rel=1e-9)
        assert c.p == pytest.approx(float(np.squeeze(tt.pvalue)), rel=1e-7)
        lo, hi = np.squeeze(tt.conf_int(alpha=0.05))
        assert (c.ci_low, c.ci_high) == pytest.approx((lo, hi), rel=1e-7)
        assert c.df == fit.df_resid
        assert c.rate_ratio > 0 and c.rr_low < c.rate_ratio < c.rr_high
    labels = {(c.treatment, c.control) for c in res.contrasts}
    assert labels == {("confederate_favor", ("no_favor",)), ("confederate_favor", ("experimenter_favor",))}


def test_correlations_and_fisher_z_by_hand(data, res):
    by = {c.favor: c for c in res.liking_correlation}
    for favor, g in data.groupby("favor"):
        r, p = stats.pearsonr(g["liking_score"], g["tickets"])
        assert by[favor].r == pytest.approx(r) and by[favor].p == pytest.approx(p) and by[favor].n == len(g)
    nf, cf = by["no_favor"], by["confederate_favor"]
    z = (np.arctanh(nf.r) - np.arctanh(cf.r)) / np.sqrt(1 / (nf.n - 3) + 1 / (cf.n - 3))
    test = next(d for d in res.correlation_difference if (d.first, d.second) == ("no_favor", "confederate_favor"))
    assert test.z == pytest.approx(z) and test.p == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))))
    # the simulated pattern: liking tracks tickets with no favor
    assert nf.r > cf.r


def test_fisher_z_of_equal_correlations_is_zero():
    from analysis.stats.counts import Correlation
    d = correlation_difference(Correlation("a", 0.3, 40, 0.01, 0, 1), Correlation("b", 0.3, 90, 0.01, 0, 1))
    assert d.z == 0 and d.p == pytest.approx(1.0)
    bad = correlation_difference(Correlation("a", 0.3, 3, 0.01, 0, 1), Correlation("b", 0.3, 90, 0.01, 0, 1))
    assert math.isnan(bad.z)


def test_threshold_newcombe_and_fisher_exact_by_hand(data, res):
    th = res.threshold
    t = data[data.favor == "confederate_favor"]["tickets"] > 1
    c = data[data.favor != "confederate_favor"]["tickets"] > 1
    k1, n1, k2, n2 = int(t.sum()), len(t), int(c.sum()), len(c)
    assert (th.k1, th.n1, th.k2, th.n2) == (k1, n1, k2, n2)
    l1, u1 = proportion_confint(k1, n1, method="wilson")
    l2, u2 = proportion_confint(k2, n2, method="wilson")
    d = k1 / n1 - k2 / n2
    lo = d - math.sqrt((k1 / n1 - l1) ** 2 + (u2 - k2 / n2) ** 2)
    hi = d + math.sqrt((u1 - k1 / n1) ** 2 + (k2 / n2 - l2) ** 2)
    assert th.difference == pytest.approx(d) and (th.ci_low, th.ci_high) == pytest.approx((lo, hi), rel=1e-9)
    odds, p = stats.fisher_exact(np.array([[k1, n1 - k1], [k2, n2 - k2]]))
    assert th.fisher_p == pytest.approx(p) and th.odds_ratio == pytest.approx(odds)
    assert {r.level: r.n for r in th.rates} == data.groupby("favor").size().to_dict()


def test_excluded_and_withdrawn_rows_are_never_analysed(data):
    d = data.copy()
    d["exclusion_reason"] = d["exclusion_reason"].astype(object)
    d["tickets"] = d["tickets"].astype(float)
    d.loc[d.index[:5], ["excluded", "exclusion_reason", "tickets"]] = [1, "suspicious", 20]
    d.loc[d.index[5:9], ["data_consent", "tickets"]] = [0, 20]
    d.loc[d.index[9], "tickets"] = np.nan
    r = analyze_count_plan(d, REGAN.experiment(1))
    assert (r.n, r.n_excluded, r.n_withdrawn, r.n_missing_outcome) == (len(d) - 10, 5, 4, 1)
    kept = d.iloc[10:]
    assert r.cells[0].mean == pytest.approx(
        kept[(kept.favor == r.cells[0].favor) & (kept.liking == r.cells[0].liking)]["tickets"].mean())


def test_bad_counts_are_refused_naming_the_column(data):
    d = data.copy()
    d["tickets"] = d["tickets"].astype(object)
    d.loc[d.index[3], "tickets"] = "two"
    with pytest.raises(ValueError, match="row 4, column tickets: 'two'"):
        prepare(d)
    with pytest.raises(ValueError, match="liking_score"):
        analyze_counts(data.drop(columns=["liking_score"]))


def test_dict_and_text(res):
    d = res.to_dict()
    json.dumps(d)
    assert {"favor", "liking", "n", "mean", "sd"} <= set(d["cells"][0])
    assert {"term", "F", "df1", "df2", "p"} <= set(d["anova"][0])
    assert {"favor", "r", "n"} <= set(d["liking_correlation"][0])
    assert d["negative_binomial"]["alpha"] > 0 and d["threshold"]["threshold"] == 1
    text = str(res)
    assert "F(2, " in text and "type II" in text and "Newcombe" in text and "alpha = " in text
    assert str(res.anova[0]).startswith("favor: F(2, ")


def test_analysis_does_not_import_psychopy(tmp_path):
    code = ("import sys, pandas as pd; import analysis.stats.counts as c; import paradigms.regan1971; "
            "assert 'psychopy' not in sys.modules, 'psychopy imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
