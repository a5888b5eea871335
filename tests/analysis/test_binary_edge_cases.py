"""Binary edge cases of the logistic regression (issue 16, item 6).

R values: R 4.2.2, ``glm(..., family = binomial)`` and ``anova(m, test = "LRT")``."""
from __future__ import annotations

import math

import pytest
from scipy import stats

from analysis.stats.binary import analyze_experiment, logistic_regression
from analysis.load.synthetic import frame_from_counts


def _people(counts):
    return frame_from_counts("cialdini1975", 1, counts)


def test_lr_test_is_reported_under_separation_as_in_r():
    # R: d <- data.frame(c = factor(rep(c("ec", "rm", "sro"), each = 24), levels = c("ec", "rm", "sro")),
    #      y = c(rep(0, 24), rep(1, 12), rep(0, 12), rep(1, 4), rep(0, 20)))
    #    anova(glm(y ~ c, family = binomial, data = d), test = "LRT")  ->  Deviance 21.37968982, p 2.2775e-05
    r = logistic_regression(_people({"rejection_moderation": (12, 24), "exposure_control": (0, 24),
                                     "smaller_request_only": (4, 24)}), reference="exposure_control")
    # glm stops its iterations short of the infinite coefficient: its deviance is ~1e-7 off the limit
    assert r.lr_chi2 == pytest.approx(21.37968982, rel=1e-7) and r.lr_df == 2
    assert r.lr_p == pytest.approx(2.2775e-05, rel=1e-4)
    assert "LR χ²(2) = 21.38, p < .001" in str(r)
    # the terms against a reference with no compliers: Firth (0.5 per cell), SE from the penalised
    # information, z and p by Wald on it (issue 25.5).  R (brglm2 0.9):
    #   d <- data.frame(c = factor(c("ec", "rm", "sro"), levels = c("ec", "rm", "sro")),
    #                   x = c(0, 12, 4), n = c(24, 24, 24))
    #   summary(glm(cbind(x, n - x) ~ c, binomial, d, method = "brglmFit", type = "AS_mean"))$coefficients
    #   crm  3.89182029811063 1.51410600910330 2.57037504290435 0.01015884685620508
    #   csro 2.37547280874254 1.55181984448828 1.53076584062235 0.12582727481977032
    terms = {x.condition: x for x in r.terms}
    for name, want in (("rejection_moderation", (3.89182029811063, 1.51410600910330, 2.57037504290435,
                                                 0.01015884685620508)),
                       ("smaller_request_only", (2.37547280874254, 1.55181984448828, 1.53076584062235,
                                                 0.12582727481977032))):
        t = terms[name]
        assert (t.coef, t.se, t.z, t.pvalue) == pytest.approx(want, rel=1e-9)
        assert t.pvalue == pytest.approx(2 * stats.norm.sf(abs(t.coef / t.se)), rel=1e-12)
    assert "Firth" in str(r) and "separation" in str(r) and "penalised information" in str(r)


def test_two_conditions_one_without_compliers_matches_r():
    # R: d <- data.frame(c = factor(rep(c("rm", "sro"), c(10, 24)), levels = c("sro", "rm")),
    #      y = c(rep(0, 10), rep(1, 4), rep(0, 20)))
    #    anova(glm(y ~ c, family = binomial, data = d), test = "LRT")  ->  Deviance 3.003379796, p 0.083091
    r = logistic_regression(_people({"rejection_moderation": (0, 10), "smaller_request_only": (4, 24)}),
                            reference="smaller_request_only")
    assert r.lr_chi2 == pytest.approx(3.003379796, rel=1e-7) and r.lr_p == pytest.approx(0.083091, abs=1e-6)


def test_ml_terms_without_separation_match_an_iterative_fit():
    import statsmodels.formula.api as smf
    d = _people({"rejection_moderation": (12, 24), "exposure_control": (6, 24), "smaller_request_only": (4, 24)})
    r = logistic_regression(d, reference="exposure_control")
    fit = smf.logit("complied ~ C(condition, Treatment('exposure_control'))", data=d).fit(disp=0)
    for t in r.terms:
        name = f"C(condition, Treatment('exposure_control'))[T.{t.condition}]"
        assert t.coef == pytest.approx(fit.params[name], rel=1e-7)
        assert t.se == pytest.approx(fit.bse[name], rel=1e-6) and t.pvalue == pytest.approx(fit.pvalues[name], rel=1e-6)
        assert t.method == "wald"
    assert r.lr_chi2 == pytest.approx(fit.llr, rel=1e-7)


def test_a_missing_reference_condition_chooses_another_and_says_so():
    counts = {"rejection_moderation": (12, 24), "exposure_control": (0, 0), "smaller_request_only": (4, 24)}
    r = logistic_regression(_people(counts), reference="exposure_control")
    assert r.reference == "rejection_moderation" and len(r.terms) == 1
    assert "'exposure_control' has no participants: 'rejection_moderation' is the reference instead" in r.notes[0]
    (t,) = r.terms
    assert t.odds_ratio == pytest.approx((4 / 20) / (12 / 12))
    assert r.lr_chi2 == pytest.approx(2 * sum(o * math.log(o / e) for o, e in zip(
        (12, 12, 4, 20), (24 * 16 / 48, 24 * 32 / 48, 24 * 16 / 48, 24 * 32 / 48))), rel=1e-9)
    res = analyze_experiment(_people(counts), "cialdini1975", 1, warn=False)
    assert res.logit is not None and res.logit.terms
