"""technique_by_price with a technique × price cell at rate 0 (issue 16, item 6).

The data set is the issue's: ``compliance simulate pollock1998 --participants 480 --seed 1
--rate expensive_thats_not_all_no_reason=0 --rate expensive_thats_not_all_weak_reason=0
--rate expensive_thats_not_all_good_reason=0`` (40 per cell; nobody buys the $5 box after
that's-not-all).  Its cell counts are typed in below, so that the test does not depend on the
simulator's random stream.

R 4.2.2, individual rows (the whole script)::

    cells <- expand.grid(reason = c("none", "weak", "good"), technique = c("tna", "control"),
                         price = c("1", "5"), stringsAsFactors = FALSE)
    cells$k <- c(21, 32, 31, 11, 17, 14, 0, 0, 0, 6, 15, 11); cells$n <- 40
    d <- cells[rep(seq_len(nrow(cells)), cells$n), c("reason", "technique", "price")]
    d$complied <- unlist(lapply(seq_len(nrow(cells)), function(i)
        rep(c(1, 0), c(cells$k[i], cells$n[i] - cells$k[i]))))
    d$technique <- factor(d$technique, levels = c("control", "tna"))
    d$price <- factor(d$price, levels = c("1", "5")); d$reason <- factor(d$reason)
    m <- glm(complied ~ technique * price + reason, family = binomial, data = d)
    summary(m)$coefficients["techniquetna", ]
      # 1.5367929351  0.2848085342  5.39588091899  6.818816154e-08   (OR = exp() = 4.6496545899)
    m0 <- glm(complied ~ technique + price + reason, family = binomial, data = d)
    anova(m0, m, test = "LRT")   # Deviance 80.1403586, Df 1
    summary(m)$coefficients["techniquetna:price5", ]   # -19.10, SE 583.9: glm's stand-in for -Inf

logistf is not in Debian, so the Firth reference is an independent R implementation
(``optim`` BFGS on the penalised log-likelihood with its analytic modified score, the
profile by ``optim`` at each fixed value, the CI limits by ``uniroot``), at the $5 price
(``d$price <- factor(d$price, levels = c("5", "1"))``, so ``techniquetna`` is the $5 effect)::

    X <- model.matrix(~ technique * price + reason, d); y <- d$complied
    pl <- function(b) { eta <- drop(X %*% b); p <- plogis(eta)
      sum(y * eta - log1p(exp(eta))) + 0.5 * determinant(crossprod(X, X * p * (1 - p)))$modulus[1] }
    gr <- function(b) { eta <- drop(X %*% b); p <- plogis(eta); XW <- X * sqrt(p * (1 - p))
      h <- rowSums((XW %*% solve(crossprod(XW))) * XW); drop(crossprod(X, y - p + h * (0.5 - p))) }
    fit <- optim(rep(0, ncol(X)), pl, gr, method = "BFGS",
                 control = list(fnscale = -1, reltol = 1e-15, maxit = 1000))
    j <- which(colnames(X) == "techniquetna")
    prof <- function(v) optim(fit$par[-j], function(b) pl(append(b, v, j - 1)),
                              function(b) gr(append(b, v, j - 1))[-j], method = "BFGS",
                              control = list(fnscale = -1, reltol = 1e-15, maxit = 1000))$value
    dev <- function(v) 2 * (fit$value - prof(v)) - qchisq(0.95, 1)
    uniroot(dev, c(fit$par[j] - 10, fit$par[j]), tol = 1e-10)$root        # -9.36612430
    uniroot(dev, c(fit$par[j], fit$par[j] + 10), tol = 1e-10)$root        # -2.53556285
    fit$par[j]                                                           # -4.51949650
    2 * (fit$value - prof(0))                                            # 46.04226200, p 1.1572934e-11
"""
from __future__ import annotations

import json
import math
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from analysis.stats.factorial import _firth, technique_by_price

# (price, technique, reason) -> (complied, n)
EDGE = {
    ("1", "tna", "none"): (21, 40), ("1", "tna", "weak"): (32, 40), ("1", "tna", "good"): (31, 40),
    ("1", "control", "none"): (11, 40), ("1", "control", "weak"): (17, 40), ("1", "control", "good"): (14, 40),
    ("5", "tna", "none"): (0, 40), ("5", "tna", "weak"): (0, 40), ("5", "tna", "good"): (0, 40),
    ("5", "control", "none"): (6, 40), ("5", "control", "weak"): (15, 40), ("5", "control", "good"): (11, 40),
}


def _frame(cells=EDGE) -> pd.DataFrame:
    rows = []
    for (price, tech, reason), (k, n) in cells.items():
        rows += [dict(price=price, technique=tech, reason=reason, complied=int(i < k), excluded=0,
                      data_consent=1) for i in range(n)]
    return pd.DataFrame(rows)


def _pooled(cells, price, tech):
    return (sum(v[0] for key, v in cells.items() if key[:2] == (price, tech)),
            sum(v[1] for key, v in cells.items() if key[:2] == (price, tech)))


def test_the_issues_data_gives_rs_one_dollar_effect_and_interaction_lr_test():
    res = technique_by_price(_frame())
    s1, s5 = res.simple_effects
    assert (s1.price, s1.method) == ("1", "wald")
    assert s1.odds_ratio == pytest.approx(4.6496545899, rel=1e-8)
    assert s1.z == pytest.approx(5.39588091899, rel=1e-8)
    assert s1.p == pytest.approx(6.818816154e-08, rel=1e-7)
    se = math.log(s1.or_ci_high / s1.odds_ratio) / stats.norm.ppf(0.975)
    assert se == pytest.approx(0.2848085342, rel=1e-8)
    # glm stops 20 iterations short of the infinite interaction coefficient: deviance ~2e-6 above the limit
    assert res.interaction.lr_chi2 == pytest.approx(80.1403586, rel=1e-7)
    assert res.interaction.lr_p == pytest.approx(stats.chi2.sf(80.14036075, 1), rel=1e-6)
    # the ratio of odds ratios is not estimable and says why
    assert res.interaction.method == "none" and math.isnan(res.interaction.estimate)
    assert math.isnan(res.interaction.p)
    assert res.interaction.not_estimable == ("the ML ratio of odds ratios is 0 under separation: rate 0 or 1 in "
                                             "tna / 5 (0/120 complied)")
    assert str(res.interaction).endswith("LR χ²(1) = 80.14, p < .001")
    assert "not estimable" in str(res.interaction)


def test_the_five_dollar_effect_is_firths_with_profile_penalised_likelihood_ci_as_in_r():
    res = technique_by_price(_frame())
    s5 = res.simple_effects[1]
    assert (s5.price, s5.method) == ("5", "firth")
    assert math.log(s5.odds_ratio) == pytest.approx(-4.51949650, abs=2e-8)
    assert math.log(s5.or_ci_low) == pytest.approx(-9.36612430, abs=2e-8)
    assert math.log(s5.or_ci_high) == pytest.approx(-2.53556285, abs=2e-8)
    assert s5.lr_chi2 == pytest.approx(46.04226200, rel=1e-8)
    assert s5.p == pytest.approx(1.1572934e-11, rel=1e-6)
    assert math.isnan(s5.z)
    text = str(s5)
    assert "OR = 0.01 (Firth penalised estimate; the ML odds ratio is 0: tna 0/120, control 32/120 complied)" in text
    assert "95% profile penalised-likelihood CI [0.00, 0.08], penalised LR χ²(1) = 46.04, p < .001" in text
    # the risk difference is still the pooled counts'
    assert s5.risk_difference == pytest.approx(0 / 120 - 32 / 120)
    note = " ".join(res.notes)
    assert "separation (rate 0 or 1 in tna / 5 (0/120 complied))" in note
    assert "simple effect at price 1: ML estimate, Wald CI and z" in note
    assert "simple effect at price 5: the ML odds ratio is not finite, so Firth's" in note
    assert "the ratio of odds ratios is not estimable (its ML value is 0)" in note
    assert "technique × price × reason: not tested under separation" in res.notes


def test_without_reason_the_model_is_saturated_and_every_number_has_a_closed_form():
    res = technique_by_price(_frame(), reason=None)
    (k1, n1), (k0, n0) = _pooled(EDGE, "1", "tna"), _pooled(EDGE, "1", "control")
    (k5, n5), (c5, m5) = _pooled(EDGE, "5", "tna"), _pooled(EDGE, "5", "control")
    s1, s5 = res.simple_effects
    # $1: the crude odds ratio, Woolf's SE
    assert s1.method == "wald"
    assert s1.odds_ratio == pytest.approx((k1 / (n1 - k1)) / (k0 / (n0 - k0)), rel=1e-10)
    woolf = math.sqrt(1 / k1 + 1 / (n1 - k1) + 1 / k0 + 1 / (n0 - k0))
    assert s1.p == pytest.approx(2 * stats.norm.sf(math.log(s1.odds_ratio) / woolf), rel=1e-8)
    # $5: Firth in a saturated model adds 1/2 to each cell (hat values 1)
    assert s5.method == "firth"
    assert s5.odds_ratio == pytest.approx(((k5 + .5) / (n5 - k5 + .5)) / ((c5 + .5) / (m5 - c5 + .5)), rel=1e-9)
    # LR: the saturated log-likelihood (tna / 5 adds 0) against the additive model's
    def ll(k, n):
        return (k * math.log(k / n) if k else 0.0) + ((n - k) * math.log(1 - k / n) if n - k else 0.0)
    d = _frame()
    red = smf.logit("complied ~ C(technique) + C(price)", data=d).fit(disp=0, tol=1e-12)
    sat = ll(k1, n1) + ll(k0, n0) + ll(k5, n5) + ll(c5, m5)
    assert res.interaction.lr_chi2 == pytest.approx(2 * (sat - red.llf), rel=1e-9)


def test_firth_penalised_score_is_zero_at_the_estimate_and_penalty_matches_by_hand():
    # a hand check of the penalised fit on individual rows: U*(b) = X'(y - pi + h (1/2 - pi)) = 0
    d = _frame()
    import patsy
    X = np.asarray(patsy.dmatrix("C(technique, Treatment('control')) * C(price, Treatment('5')) + C(reason)", d))
    y = d["complied"].to_numpy(float)
    beta, value, ok = _firth(X, y, np.ones_like(y))
    assert ok
    pi = 1 / (1 + np.exp(-X @ beta))
    w = pi * (1 - pi)
    info = X.T @ (X * w[:, None])
    h = w * np.einsum("ij,jk,ik->i", X, np.linalg.inv(info), X)
    assert np.max(np.abs(X.T @ (y - pi + h * (0.5 - pi)))) < 1e-7
    by_hand = np.sum(y * np.log(pi) + (1 - y) * np.log(1 - pi)) + 0.5 * np.linalg.slogdet(info)[1]
    assert value == pytest.approx(by_hand, rel=1e-10)


def test_a_reason_level_at_rate_one_leaves_the_interaction_estimable():
    cells = dict(EDGE)
    cells.update({("1", "tna", "none"): (12, 30), ("5", "tna", "none"): (4, 30), ("5", "tna", "weak"): (3, 30),
                  ("5", "tna", "good"): (5, 30)})
    for p in ("1", "5"):
        for t in ("tna", "control"):
            cells[(p, t, "good")] = (25, 25)  # everyone complied with a good reason
    res = technique_by_price(_frame(cells))
    assert res.interaction.method == "wald" and all(s.method == "wald" for s in res.simple_effects)
    # at the ML limit the good-reason rows are fitted exactly: the other rows' fit is the estimate
    rest = _frame(cells).query("reason != 'good'")
    f = smf.logit("complied ~ C(technique, Treatment('control')) * C(price, Treatment('1')) + C(reason)",
                  data=rest).fit(disp=0, tol=1e-12)
    name = "C(technique, Treatment('control'))[T.tna]:C(price, Treatment('1'))[T.5]"
    assert res.interaction.coef == pytest.approx(f.params[name], rel=1e-8)
    assert res.interaction.se == pytest.approx(f.bse[name], rel=1e-6)
    assert any("good (100/100 complied)" in n for n in res.notes)


def test_cli_analyze_json_keeps_its_keys_and_adds_the_method(tmp_path, capsys):
    import paradigms
    from analysis import cli
    from analysis.load.synthetic import rows_from_counts, write_session_csv
    exp = paradigms.get("pollock1998").experiment(1)
    name = {(c.factors["price"], c.factors["technique"], c.factors["reason"]): c.name for c in exp.conditions}
    rows = rows_from_counts("pollock1998", 1, {name[key]: v for key, v in EDGE.items()}, site="S1")
    factors = {c.name: c.factors for c in exp.conditions}
    for r in rows:
        r.update(factors[r["condition"]])
    write_session_csv(tmp_path / "study-pollock1998_exp-1_site-S1_session-1_data.csv", rows)
    assert cli.main(["analyze", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    inter = doc["interaction"]
    assert set(inter) >= {"term", "estimate", "ci_low", "ci_high", "p", "coef", "se", "z", "lr_chi2", "lr_p",
                          "model_term", "confidence", "method", "not_estimable"}
    assert inter["estimate"] is None and inter["lr_chi2"] == pytest.approx(80.1403586, rel=1e-7)
    s1, s5 = doc["simple_effects"]
    for s in (s1, s5):
        assert set(s) >= {"price", "risk_difference", "rd_ci_low", "rd_ci_high", "odds_ratio", "or_ci_low",
                          "or_ci_high", "z", "p", "method", "lr_chi2", "not_estimable"}
    assert (s1["method"], s5["method"]) == ("wald", "firth")
    assert s1["odds_ratio"] == pytest.approx(4.6496545899, rel=1e-8)
    assert math.log(s5["odds_ratio"]) == pytest.approx(-4.51949650, abs=2e-8)
    assert doc["factorial_model"]["interaction"]["method"] == "none"
    assert cli.main(["analyze", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "ratio of odds ratios not estimable" in text and "LR χ²(1) = 80.14, p < .001" in text
    assert "OR = 4.65, 95% CI" in text and "Firth penalised estimate" in text


def test_a_cell_at_rate_one_makes_the_odds_ratio_infinite_at_the_limit_and_firth_finite():
    cells = dict(EDGE)
    cells.update({("1", "tna", r): (40, 40) for r in ("none", "weak", "good")})
    cells.update({("5", "tna", "none"): (5, 40), ("5", "tna", "weak"): (9, 40), ("5", "tna", "good"): (7, 40)})
    res = technique_by_price(_frame(cells))
    s1, s5 = res.simple_effects
    assert (s1.method, s5.method) == ("firth", "wald")
    assert s1.not_estimable == "the ML odds ratio is infinite: tna 120/120, control 42/120 complied"
    assert s1.or_ci_low < s1.odds_ratio < s1.or_ci_high and s1.odds_ratio > 50
    # the $5 effect at the limit: the ML fit of the other cells (tna / 1 is fitted exactly), one
    # parameter per technique x price cell plus reason
    rest = _frame(cells).query("not (price == '1' and technique == 'tna')")
    rest = rest.assign(cell=rest["technique"] + rest["price"])
    f = smf.logit("complied ~ C(cell, Treatment('control5')) + C(reason)", data=rest).fit(disp=0, tol=1e-12)
    assert math.log(s5.odds_ratio) == pytest.approx(f.params["C(cell, Treatment('control5'))[T.tna5]"], rel=1e-8)
    assert s5.p == pytest.approx(f.pvalues["C(cell, Treatment('control5'))[T.tna5]"], rel=1e-6)
    assert res.interaction.method == "none"
    assert "ratio of odds ratios is 0" in res.interaction.not_estimable


@pytest.mark.parametrize("seed", range(6))
def test_tiny_degenerate_data_never_raise_and_every_reported_estimate_is_coherent(seed):
    rng = np.random.default_rng(seed)
    keys = list(EDGE)
    for _ in range(5):
        cells = {}
        for key in keys:
            m = int(rng.integers(1, 6))
            cells[key] = (int(rng.binomial(m, rng.choice([0.0, 0.0, 0.3, 0.7, 1.0, 1.0]))), m)
        for reason in ("reason", None):
            res = technique_by_price(_frame(cells), reason=reason)
            str(res)
            json.dumps(res.to_dict())
            assert res.interaction.method in ("wald", "none")
            assert math.isfinite(res.interaction.lr_chi2) and res.interaction.lr_chi2 >= 0
            for s in res.simple_effects:
                assert s.method in ("wald", "firth")
                assert s.or_ci_low <= s.odds_ratio <= s.or_ci_high and 0 <= s.p <= 1
                assert (s.method == "firth") == bool(s.not_estimable)


def test_the_plot_gives_the_lr_test_where_the_ratio_has_no_wald_test(tmp_path, monkeypatch):
    """Under separation the interaction plot's title gives the interaction's LR test, not 'NA'."""
    import matplotlib.pyplot as plt

    from analysis.plots import rates as plot_mod
    from analysis.results import ChiSquareResult, ExperimentAnalysis
    model = technique_by_price(_frame())
    titles = []
    monkeypatch.setattr(plt.Axes, "set_title", lambda self, text, **kw: titles.append(text))
    res = ExperimentAnalysis("pollock1998", 1, "", (), (), ChiSquareResult(float("nan"), 1, 480, float("nan")),
                             None, 480, 0, 0, interaction=model)
    plot_mod.plot_interaction(res, tmp_path / "i.png")
    assert "not estimable; LR χ²(1) = 80.14, p < .001" in titles[-1] and "NA" not in titles[-1]
