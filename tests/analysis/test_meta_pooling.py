"""Random-effects pooling checked against R's metafor 3.8-1 (R 4.2), to 1e-6.

Every reference value below was printed by this R script (CI has no R; rerun it by hand
with ``Rscript`` to check a change)::

    library(metafor)
    x1 <- c(12, 15, 9, 20, 7, 25, 11, 30); n1 <- c(24, 30, 20, 40, 18, 50, 26, 45)
    x2 <- c(6, 10, 2, 18, 0, 8, 9, 12);    n2 <- c(25, 31, 22, 38, 17, 48, 27, 44)
    or <- escalc("OR", ai=x1, n1i=n1, ci=x2, n2i=n2, add=1/2, to="only0")
    rd <- escalc("RD", ai=x1, n1i=n1, ci=x2, n2i=n2, add=1/2, to="only0")
    ctl <- list(threshold=1e-12, tol=1e-12, maxiter=1000)   # converge fully (REML, PM)
    for (d in list(list("log_or", or), list("rd", rd))) for (m in c("DL","REML","PM"))
      for (t in c("z","knha")) {
        r <- rma(yi, vi, data=d[[2]], method=m, test=t, control=ctl); p <- predict(r)
        print(c(r$b, r$se, r$ci.lb, r$ci.ub, r$zval, r$pval, r$tau2, r$I2, r$H2,
                r$QE, r$QEp, p$pi.lb, p$pi.ub), digits=15) }
    mh <- rma.mh(ai=x1, n1i=n1, ci=x2, n2i=n2, measure="OR", correct=FALSE)
    c(mh$b, mh$se, mh$ci.lb, mh$ci.ub, mh$MH, mh$MHp, mh$TA, mh$TAp)
    fe <- rma(yi, vi, data=or, method="FE"); c(fe$b, fe$se, fe$ci.lb, fe$ci.ub)
    site <- factor(rep(1:8, 2)); treated <- rep(1:0, each=8)
    g <- glm(cbind(c(x1, x2), c(n1 - x1, n2 - x2)) ~ treated + site, family=binomial,
             control=glm.control(epsilon=1e-14, maxit=100))
    summary(g)$coefficients["treated", c(1, 2, 4)]
    h <- escalc("OR", ai=rep(10,5), n1i=rep(25,5), ci=rep(5,5), n2i=rep(25,5))
    for (m in c("DL","REML","PM")) { r <- rma(yi, vi, data=h, method=m, control=ctl)
      p <- predict(r); c(r$b, r$se, r$tau2, r$I2, r$H2, r$QE, p$pi.lb, p$pi.ub) }
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, stats

from analysis.errors import AnalysisError
from analysis.meta.pooling import ESTIMATORS, fixed_effects, random_effects, site_effect

X1 = [12, 15, 9, 20, 7, 25, 11, 30]
N1 = [24, 30, 20, 40, 18, 50, 26, 45]
X2 = [6, 10, 2, 18, 0, 8, 9, 12]
N2 = [25, 31, 22, 38, 17, 48, 27, 44]
SITES = [f"S{i}" for i in range(1, 9)]

# escalc(..., add=1/2, to="only0"): site 5 has a zero cell
YI_OR = [1.15267950993839, 0.741937344729377, 2.10191439753189, 0.105360515657827, 3.12790404666247,
         1.6094379124341, 0.382992252256106, 1.67397643357167]
VI_OR = [0.385964912280702, 0.280952380952381, 0.752020202020202, 0.205555555555556, 2.27743271221532, 0.23,
         0.324242424242424, 0.214583333333333]
YI_RD = [0.26, 0.17741935483871, 0.359090909090909, 0.0263157894736842, 0.366959064327485, 0.333333333333333,
         0.0897435897435898, 0.393939393939394]
VI_RD = [0.0177126666666667, 0.015382442124579, 0.0161315740045079, 0.0128107231374836, 0.0140750622823717,
         0.00789351851851852, 0.017618254222462, 0.00944616041034774]

FIELDS = ("estimate", "se", "ci_low", "ci_high", "statistic", "pvalue", "tau2", "i2", "h2", "q", "q_p",
          "pi_low", "pi_high")
# rma(yi, vi, method=, test=) and predict(): b, se, ci.lb, ci.ub, zval, pval, tau2, I2, H2, QE, QEp, pi.lb, pi.ub
METAFOR = {
    ("log_or", "DL", "z"): (1.10844922270988, 0.281405384693263, 0.556904803655441, 1.65999364176431, 3.93897659036661, 8.18299131149488e-05, 0.266948734982802, 44.5309495824888, 1.80280713744526, 12.6196499621168, 0.0819359448030584, -0.0446656106276004, 2.26156405604735),  # noqa: E501
    ("log_or", "DL", "knha"): (1.10844922270988, 0.281576644448925, 0.44262626056383, 1.77427218485592, 3.93658083709048, 0.00562796337842089, 0.266948734982802, 44.5309495824888, 1.80280713744526, 12.6196499621168, 0.0819359448030584, -0.282935033175828, 2.49983347859558),  # noqa: E501
    ("log_or", "REML", "z"): (1.10526729641894, 0.276257995416412, 0.563811574961539, 1.64672301787634, 4.00085179345827, 6.3114880234548e-05, 0.246639250851722, 42.5858032691883, 1.74172949712861, 12.6196499621168, 0.0819359448030584, -0.00856789067684161, 2.21910248351472),  # noqa: E501
    ("log_or", "REML", "knha"): (1.10526729641894, 0.280732606675907, 0.44144016646023, 1.76909442637764, 3.93708201375738, 0.0056243472911874, 0.246639250851722, 42.5858032691883, 1.74172949712861, 12.6196499621168, 0.0819359448030584, -0.243708970114602, 2.45424356295248),  # noqa: E501
    ("log_or", "PM", "z"): (1.10857534412104, 0.281610209300339, 0.556629476213587, 1.66052121202849, 3.93655949787934, 8.26581336935416e-05, 0.267766229813673, 44.6064897582806, 1.80526562703162, 12.6196499621168, 0.0819359448030584, -0.0460922212421941, 2.26324290948427),  # noqa: E501
    ("log_or", "PM", "knha"): (1.10857534412104, 0.281610209300339, 0.442673013713337, 1.77447767452874, 3.93655949787934, 0.00562811740130053, 0.267766229813673, 44.6064897582806, 1.80526562703162, 12.6196499621168, 0.0819359448030584, -0.284488482113621, 2.5016391703557),  # noqa: E501
    ("rd", "DL", "z"): (0.260509837106135, 0.0492836129765725, 0.163915730644042, 0.357103943568228, 5.28593220691778, 1.2506620798258e-07, 0.00619978796435329, 32.2252516396837, 1.47547578440811, 10.3283304908568, 0.17071815203492, 0.0784476181662676, 0.442572056046003),  # noqa: E501
    ("rd", "DL", "knha"): (0.260509837106135, 0.0490633854510341, 0.144493366003375, 0.376526308208895, 5.30965881606616, 0.00111165881171769, 0.00619978796435329, 32.2252516396837, 1.47547578440811, 10.3283304908568, 0.17071815203492, 0.0411343310475854, 0.479885343164685),  # noqa: E501
    ("rd", "REML", "z"): (0.260328115893533, 0.0496996291005587, 0.162918632811439, 0.357737598975627, 5.23802934961152, 1.62300256886987e-07, 0.0065175178853805, 33.3263642430501, 1.49984321185869, 10.3283304908568, 0.17071815203492, 0.0745180409133336, 0.446138190873732),  # noqa: E501
    ("rd", "REML", "knha"): (0.260328115893533, 0.0490698077348564, 0.144296458502696, 0.37635977328437, 5.30526056470791, 0.00111697386258859, 0.0065175178853805, 33.3263642430501, 1.49984321185869, 10.3283304908568, 0.17071815203492, 0.0369322634424008, 0.483723968344665),  # noqa: E501
    ("rd", "PM", "z"): (0.260609815115563, 0.0490597292168242, 0.1644545127593, 0.356765117471826, 5.31209240808837, 1.08373621015131e-07, 0.00603007706690152, 31.6220741385299, 1.46246027120791, 10.3283304908568, 0.17071815203492, 0.0805816647908473, 0.440637965440279),  # noqa: E501
    ("rd", "PM", "knha"): (0.260609815115563, 0.0490597292168242, 0.144601989632886, 0.376617640598241, 5.31209240808837, 0.00110873004983097, 0.00603007706690152, 31.6220741385299, 1.46246027120791, 10.3283304908568, 0.17071815203492, 0.043412492315209, 0.477807137915918),  # noqa: E501
}
# rma.mh(correct=FALSE): log OR, se, ci.lb, ci.ub, CMH, p, Tarone's test, p
METAFOR_MH = (1.10546025178923, 0.193787434072211, 0.725643860351263, 1.48527664322719, 34.1287655987491,
              5.15830655227367e-09, 14.3135782243644, 0.0458769958107014)
METAFOR_FE = (1.05676282727174, 0.20049756737521, 0.663794816228439, 1.44973083831505)
R_GLM_TREATED = (1.12910385702755, 0.194949465794429, 6.96455232859718e-09)  # estimate, SE, p
# the same table at 5 sites: b, se, tau2, I2, H2, QE, pi.lb, pi.ub (identical for DL, REML, PM)
METAFOR_HOMOGENEOUS = (0.980829253011726, 0.288675134594813, 0, 0, 1, 0, 0.41503638597364, 1.54662212004981)


def _effects():
    return [site_effect(s, *t) for s, t in zip(SITES, zip(X1, N1, X2, N2))]


def test_site_effects_match_escalc_with_half_added_only_to_tables_with_a_zero_cell():
    es = _effects()
    np.testing.assert_allclose([e.log_or for e in es], YI_OR, rtol=0, atol=1e-12)
    np.testing.assert_allclose([e.var_log_or for e in es], VI_OR, rtol=0, atol=1e-12)
    np.testing.assert_allclose([e.rd for e in es], YI_RD, rtol=0, atol=1e-12)
    np.testing.assert_allclose([e.var_rd for e in es], VI_RD, rtol=0, atol=1e-12)
    assert [e.corrected for e in es] == [False] * 4 + [True] + [False] * 3
    assert "0.5 added" in es[4].notes[0] and "0.5 added" in str(es[4])
    with pytest.raises(AnalysisError, match="no participants"):
        site_effect("S9", 0, 0, 3, 10)


@pytest.mark.parametrize("measure", ["log_or", "rd"])
@pytest.mark.parametrize("method", ESTIMATORS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_random_effects_match_metafor(measure, method, test):
    y, v = (YI_OR, VI_OR) if measure == "log_or" else (YI_RD, VI_RD)
    r = random_effects(y, v, method=method, test=test, measure=measure, sites=SITES)
    got = [getattr(r, f) for f in FIELDS]
    np.testing.assert_allclose(got, METAFOR[(measure, method, test)], rtol=0, atol=1e-6)
    assert r.method == method and r.test == test and r.k == 8 and r.q_df == 7
    assert math.isclose(r.tau, math.sqrt(r.tau2))
    assert math.isclose(sum(r.weights), 100.0) and r.sites == tuple(SITES)


def test_dl_agrees_with_statsmodels_when_tau2_is_positive():
    from statsmodels.stats.meta_analysis import combine_effects

    sm = combine_effects(np.array(YI_OR), np.array(VI_OR), method_re="dl", use_t=False)
    r = random_effects(YI_OR, VI_OR, method="DL")
    assert sm.tau2 > 0
    assert math.isclose(r.tau2, sm.tau2, rel_tol=1e-12)
    assert math.isclose(r.estimate, sm.mean_effect_re, rel_tol=1e-12)
    # statsmodels' I2 is (Q - df)/Q; metafor's (ours) is tau2 / (tau2 + typical v): equal for DL only
    assert math.isclose(r.i2 / 100, sm.i2, rel_tol=1e-10)


@pytest.mark.parametrize("method", ESTIMATORS)
def test_homogeneous_sites_give_zero_heterogeneity_never_negative(method):
    y = [site_effect(f"S{i}", 10, 25, 5, 25).log_or for i in range(5)]
    v = [site_effect(f"S{i}", 10, 25, 5, 25).var_log_or for i in range(5)]
    r = random_effects(y, v, method=method)
    got = (r.estimate, r.se, r.tau2, r.i2, r.h2, r.q, r.pi_low, r.pi_high)
    np.testing.assert_allclose(got, METAFOR_HOMOGENEOUS, rtol=0, atol=1e-6)
    assert r.tau2 == 0.0 and r.i2 == 0.0 and r.h2 == 1.0 and r.tau == 0.0


def test_negative_dl_moment_estimate_is_truncated_and_said():
    from statsmodels.stats.meta_analysis import combine_effects

    y, v = np.array([0.50, 0.52, 0.49, 0.51]), np.array([0.10, 0.20, 0.15, 0.12])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels takes sqrt of its negative tau2
        sm = combine_effects(y, v, method_re="dl", use_t=False)
    assert sm.tau2 < 0 and sm.i2 < 0  # the statsmodels gap this module closes
    r = random_effects(y, v, method="DL")
    assert r.tau2 == 0.0 and r.i2 == 0.0 and r.h2 == 1.0
    assert any("truncated at 0" in n for n in r.notes)
    # with tau2 = 0 the random-effects estimate is the fixed-effect one
    assert math.isclose(r.estimate, sm.mean_effect_fe, rel_tol=1e-12)


def test_reml_is_the_maximum_of_the_restricted_likelihood():
    y, v = np.array(YI_OR), np.array(VI_OR)

    def neg_reml(t2):
        w = 1 / (v + t2)
        mu = w @ y / w.sum()
        return 0.5 * (np.sum(np.log(v + t2)) + np.log(w.sum()) + w @ (y - mu) ** 2)

    brute = optimize.minimize_scalar(neg_reml, bounds=(0, 10), method="bounded", options={"xatol": 1e-12}).x
    assert math.isclose(random_effects(y, v, method="REML").tau2, brute, abs_tol=1e-7)


def test_result_reads_as_apa_and_converts_to_json():
    r = random_effects(YI_OR, VI_OR, method="REML", sites=SITES)
    s = str(r)
    assert s.startswith("REML, k = 8: OR = 3.02, 95% CI [1.76, 5.19]")
    assert "τ² = 0.247" in s and "I² = 42.6%" in s and "Q(7) = 12.62, p = .082" in s and "95% PI" in s
    d = r.to_dict()
    assert math.isclose(d["odds_ratio"], math.exp(METAFOR[("log_or", "REML", "z")][0]), rel_tol=1e-9)
    assert d["method"] == "REML" and d["apa"] == s
    knha = str(random_effects(YI_OR, VI_OR, method="REML", test="knha"))
    assert "t(7) = 3.94" in knha and "Hartung-Knapp" in knha


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(AnalysisError, match="at least two"):
        random_effects([0.1], [0.2])
    with pytest.raises(AnalysisError, match="known estimators"):
        random_effects([0.1, 0.2], [0.2, 0.1], method="HS")
    with pytest.raises(AnalysisError, match="positive finite variance"):
        random_effects([0.1, 0.2], [0.2, 0.0])


def _breslow_day(tables, log_or):
    """Brute force: the expected a of each stratum under the common OR, solved numerically."""
    stat = 0.0
    psi = math.exp(log_or)
    for a, b, c, d in tables:
        m1, n1, n2 = a + c, a + b, c + d
        lo, hi = max(0, m1 - n2), min(n1, m1)

        def f(e):
            return e * (n2 - m1 + e) - psi * (n1 - e) * (m1 - e)
        e = optimize.brentq(f, lo, hi, xtol=1e-14)
        var = 1 / (1 / e + 1 / (n1 - e) + 1 / (m1 - e) + 1 / (n2 - m1 + e))
        stat += (a - e) ** 2 / var
    return stat


def test_fixed_effect_checks_match_metafor_r_glm_and_brute_force():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = fixed_effects(_effects())
    got_mh = (f.mh_log_or, f.mh_se, f.mh_ci_low, f.mh_ci_high, f.cmh_statistic, f.cmh_p, f.tarone, f.tarone_p)
    np.testing.assert_allclose(got_mh, METAFOR_MH, rtol=0, atol=1e-6)
    np.testing.assert_allclose((f.iv_log_or, f.iv_se, f.iv_ci_low, f.iv_ci_high), METAFOR_FE, rtol=0, atol=1e-6)
    np.testing.assert_allclose((f.logit_log_or, f.logit_se, f.logit_p), R_GLM_TREATED, rtol=0, atol=1e-6)
    tables = [(a, n - a, c, m - c) for a, n, c, m in zip(X1, N1, X2, N2)]
    bd = _breslow_day(tables, f.mh_log_or)
    assert math.isclose(f.breslow_day, bd, rel_tol=1e-8)
    assert math.isclose(f.breslow_day_p, stats.chi2.sf(bd, 7), rel_tol=1e-8)
    assert f.k == 8 and f.logit_sites == 8
    assert "Mantel-Haenszel OR = 3.02" in str(f)


def test_logit_leaves_out_sites_without_variation_and_says_so():
    es = _effects() + [site_effect("S9", 10, 10, 12, 12)]
    f = fixed_effects(es)
    assert f.k == 9 and f.logit_sites == 8
    assert any("everybody or nobody" in n for n in f.notes)
    np.testing.assert_allclose(f.logit_log_or, R_GLM_TREATED[0], atol=1e-6)


def test_site_factor_logit_equals_statsmodels_glm_with_dummies():
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    k = 40
    n1, n2 = rng.integers(5, 40, k), rng.integers(5, 40, k)
    base = rng.normal(-0.5, 0.8, k)
    x1 = rng.binomial(n1, 1 / (1 + np.exp(-(base + 0.7))))
    x2 = rng.binomial(n2, 1 / (1 + np.exp(-base)))
    es = [site_effect(f"S{i}", *t) for i, t in enumerate(zip(x1, n1, x2, n2))]
    f = fixed_effects(es)
    keep = [(a + c) not in (0, n + m) for a, n, c, m in zip(x1, n1, x2, n2)]
    idx = np.flatnonzero(keep)
    X = np.zeros((2 * len(idx), len(idx) + 1))
    X[: len(idx), 0] = 1.0
    for j in range(len(idx)):
        X[[j, len(idx) + j], j + 1] = 1.0
    endog = np.column_stack([np.concatenate([x1[idx], x2[idx]]),
                             np.concatenate([n1[idx] - x1[idx], n2[idx] - x2[idx]])])
    glm = sm.GLM(endog, X, family=sm.families.Binomial()).fit(method="IRLS", tol=1e-12, maxiter=100)
    assert f.logit_sites == len(idx)
    np.testing.assert_allclose([f.logit_log_or, f.logit_se], [glm.params[0], glm.bse[0]], rtol=1e-8)
