"""Each replication criterion recomputed another way: numerical integration, brute force, R.

R values were computed with R 4.2 (metafor 3.8-1, pwr); the call is written beside each.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from analysis.errors import AnalysisError
from analysis.replication.criteria import (CRITERIA, DECISIONS, FAILED, INCONCLUSIVE, NOT_COMPUTABLE, SUCCEEDED,
                                           Criterion, bf10_two_proportions, bf_plus0_two_proportions,
                                           consistency_ci, consistency_w, equivalence, equivalence_w, fixed_effect,
                                           fixed_effect_w, log_odds_ratio, mantel_haenszel, not_computable,
                                           prediction_interval, prediction_interval_w, prob_p1_greater,
                                           replication_bayes_factor, significance, significance_w,
                                           small_telescopes, small_telescopes_w, two_sample_p_values, w33)
from tests.reference_values import chi2_sf_1df, pearson_2x2

# Cialdini et al. (1975) Experiment 1, the paper's test: 12/24 vs 10/48; a replication at
# n = 500 per condition with the original's rates: 250/500 vs 208/1000 (125 + 83).
ORIG = (12, 24, 10, 48)
REP = (250, 500, 208, 1000)


# --------------------------------------------------------------------------- #
# The result shape
# --------------------------------------------------------------------------- #
def test_every_criterion_has_the_same_shape_and_a_valid_decision():
    rows = [significance(*REP, direction=1), consistency_ci(1.335, *REP), prediction_interval(*ORIG, *REP),
            small_telescopes(*REP, h33=0.5, direction=1), equivalence(*REP, direction=1, sesoi=0.5),
            replication_bayes_factor(*ORIG, *REP), replication_bayes_factor(*ORIG, *REP, directional=True),
            fixed_effect(*ORIG, *REP, direction=1), mantel_haenszel(*ORIG, *REP, direction=1)]
    assert [r.criterion for r in rows] == list(CRITERIA)
    for r in rows:
        assert isinstance(r, Criterion) and r.decision in DECISIONS
        d = r.to_dict()
        assert set(d) >= {"criterion", "decision", "estimate", "low", "high", "bound", "statistic", "p", "reason",
                          "apa", "label"}
        assert str(r) == r.sentence and r.sentence.endswith(".")
    with pytest.raises(Exception):
        rows[0].decision = FAILED  # frozen


def test_bad_decision_and_not_computable():
    with pytest.raises(AnalysisError, match="is not one of"):
        Criterion("significance", "maybe")
    c = not_computable("prediction_interval", "original n unknown")
    assert c.decision == NOT_COMPUTABLE and c.cell == "not computable: original n unknown"


@pytest.mark.parametrize("bad", [(5, 4, 1, 10), (1, 10, -1, 10), (0, 0, 1, 10)])
def test_bad_counts_are_one_line_errors(bad):
    with pytest.raises(AnalysisError) as e:
        significance(*bad, direction=1)
    assert "\n" not in str(e.value)


# --------------------------------------------------------------------------- #
# Significance
# --------------------------------------------------------------------------- #
def test_significance_chi2_against_hand_formula_and_r():
    stat, p2, p1 = two_sample_p_values(60, 100, 40, 100, "chi2", direction=1)
    assert stat == pytest.approx(pearson_2x2(60, 40, 40, 60), rel=1e-12)
    assert p2 == pytest.approx(chi2_sf_1df(stat), rel=1e-10)
    assert p2 == pytest.approx(0.00467773498105, rel=1e-9)  # R: prop.test(c(60,40), c(100,100), correct=FALSE)
    assert p1 == pytest.approx(p2 / 2, rel=1e-10)           # in the observed direction, half the two-sided p
    _, _, p_other = two_sample_p_values(60, 100, 40, 100, "chi2", direction=-1)
    assert p_other == pytest.approx(1 - p2 / 2, rel=1e-10)


def test_significance_fisher_one_sided_against_r():
    # R: fisher.test(matrix(c(12,10,12,38),2), alternative="greater")$p.value
    assert two_sample_p_values(*ORIG, "fisher", 1)[2] == pytest.approx(0.0126836022435, rel=1e-9)
    # R: fisher.test(matrix(c(30,18,20,32),2), alternative="less")$p.value
    assert two_sample_p_values(30, 50, 18, 50, "fisher", -1)[2] == pytest.approx(0.995536596784, rel=1e-9)


def test_significance_decisions():
    assert significance(60, 100, 40, 100, direction=1).decision == SUCCEEDED
    opposite = significance(60, 100, 40, 100, direction=-1)
    assert opposite.decision == FAILED and "opposite" in opposite.reason
    assert significance(50, 100, 48, 100, direction=1).decision == FAILED


# --------------------------------------------------------------------------- #
# Consistency and the prediction interval
# --------------------------------------------------------------------------- #
def test_log_odds_ratio_against_metafor():
    # R: escalc(measure="OR", ai=c(12,250), bi=c(12,250), ci=c(10,208), di=c(38,792))
    for (x1, n1, x2, n2), yi, vi in ((ORIG, 1.33500106673, 0.2929824561404), (REP, 1.33702331211, 0.0140703185703)):
        lor, var, corrected = log_odds_ratio(x1, n1, x2, n2)
        assert (lor, var) == (pytest.approx(yi, rel=1e-10), pytest.approx(vi, rel=1e-10)) and not corrected
    lor, var, corrected = log_odds_ratio(0, 10, 5, 10)
    assert corrected and var == pytest.approx(1 / 0.5 + 1 / 10.5 + 1 / 5.5 + 1 / 5.5)


def test_consistency_ci_is_the_woolf_interval():
    c = consistency_ci(math.log(3.8), *REP)
    se = math.sqrt(0.0140703185703)
    assert (c.low, c.high) == (pytest.approx(1.33702331211 - 1.959963984540054 * se, rel=1e-9),
                               pytest.approx(1.33702331211 + 1.959963984540054 * se, rel=1e-9))
    assert c.decision == SUCCEEDED
    assert consistency_ci(math.log(10), *REP).decision == FAILED


def test_prediction_interval_patil_peng_leek_by_hand():
    c = prediction_interval(*ORIG, *REP)
    half = 1.959963984540054 * math.sqrt(0.2929824561404 + 0.0140703185703)
    assert c.low == pytest.approx(1.33500106673 - half, rel=1e-9)
    assert c.high == pytest.approx(1.33500106673 + half, rel=1e-9)
    assert c.decision == SUCCEEDED
    # a replication with no effect at n = 500 per side falls below the original's PI
    assert prediction_interval(*ORIG, 125, 500, 250, 1000).decision == FAILED


# --------------------------------------------------------------------------- #
# Small telescopes
# --------------------------------------------------------------------------- #
def test_small_telescopes_z_and_verdicts():
    h = 2 * math.asin(math.sqrt(0.5)) - 2 * math.asin(math.sqrt(0.208))
    se = math.sqrt(1 / 500 + 1 / 1000)
    c = small_telescopes(*REP, h33=0.5, direction=1)
    assert c.statistic == pytest.approx((h - 0.5) / se) and c.p == pytest.approx(stats.norm.cdf((h - 0.5) / se))
    assert c.decision == SUCCEEDED and "detectable" in c.reason
    tiny = small_telescopes(110, 500, 100, 500, h33=0.5, direction=1)
    assert tiny.decision == FAILED and "too small to have been detected by the original" in tiny.reason
    unsure = small_telescopes(6, 20, 5, 20, h33=0.5, direction=1)
    assert unsure.decision == INCONCLUSIVE
    assert small_telescopes(*REP, h33=math.nan, direction=1).decision == NOT_COMPUTABLE


def test_w33_against_r_pwr():
    # R: uniroot(function(w) pwr.chisq.test(w=w, N=72, df=1)$power - 1/3, c(.01, 1), tol=1e-12)$root
    assert w33(72) == pytest.approx(0.180143550378, rel=1e-9)
    # pwr.chisq.test(N=72, df=1, power=1/3) with uniroot's default tolerance gives 0.180140062961
    assert w33(72) == pytest.approx(0.180140062961, abs=1e-4)


# --------------------------------------------------------------------------- #
# Equivalence
# --------------------------------------------------------------------------- #
def test_tost_on_rd_matches_statsmodels():
    from statsmodels.stats.proportion import tost_proportions_2indep

    c = equivalence(52, 100, 48, 100, direction=1, sesoi=0.2, scale="RD")
    ref = tost_proportions_2indep(52, 100, 48, 100, -0.2, 0.2, method="wald", compare="diff",
                                  correction=False)
    assert c.p == pytest.approx(ref.pvalue, rel=1e-6)
    assert c.decision == FAILED and "equivalent to zero" in c.reason


def test_tost_duality_with_the_90_ci():
    """TOST at α rejects exactly when the (1 − 2α) CI lies inside (−Δ, Δ)."""
    for x1, x2 in [(125, 125), (130, 110), (150, 100), (140, 125)]:
        for bound in (0.05, 0.1, 0.2, 0.3):
            c = equivalence(x1, 500, x2, 500, direction=1, sesoi=bound)
            inside = -bound < c.low and c.high < bound
            assert (c.p < 0.05) == inside


def test_equivalence_verdicts():
    assert equivalence(125, 500, 125, 500, direction=1, sesoi=0.3).decision == FAILED
    assert equivalence(*REP, direction=1, sesoi=0.3).decision == SUCCEEDED
    assert equivalence(6, 20, 5, 20, direction=1, sesoi=0.3).decision == INCONCLUSIVE
    assert equivalence(*REP, direction=1, sesoi=math.nan).decision == NOT_COMPUTABLE


# --------------------------------------------------------------------------- #
# Bayes factors: closed form against numerical integration
# --------------------------------------------------------------------------- #
def _lik(x, n):
    return lambda p: p ** x * (1 - p) ** (n - x)


def _bf10_numeric(x1, n1, x2, n2):
    m1, _ = integrate.dblquad(lambda p2, p1: _lik(x1, n1)(p1) * _lik(x2, n2)(p2), 0, 1, 0, 1, epsabs=0, epsrel=1e-10)
    m0, _ = integrate.quad(lambda p: _lik(x1, n1)(p) * _lik(x2, n2)(p), 0, 1, epsabs=0, epsrel=1e-12)
    return m1 / m0


def _bfplus_numeric(x1, n1, x2, n2):
    # H+: density 2 on p1 > p2
    m1, _ = integrate.dblquad(lambda p2, p1: 2 * _lik(x1, n1)(p1) * _lik(x2, n2)(p2), 0, 1, 0, lambda p1: p1,
                              epsabs=0, epsrel=1e-10)
    m0, _ = integrate.quad(lambda p: _lik(x1, n1)(p) * _lik(x2, n2)(p), 0, 1, epsabs=0, epsrel=1e-12)
    return m1 / m0


@pytest.mark.parametrize("x1,n1,x2,n2", [(12, 24, 10, 48), (5, 10, 5, 10), (3, 20, 9, 20), (0, 8, 4, 8)])
def test_bf10_and_bfplus0_against_integration(x1, n1, x2, n2):
    assert bf10_two_proportions(x1, n1, x2, n2) == pytest.approx(_bf10_numeric(x1, n1, x2, n2), rel=1e-6)
    assert bf_plus0_two_proportions(x1, n1, x2, n2) == pytest.approx(_bfplus_numeric(x1, n1, x2, n2), rel=1e-6)
    # H-: the mirror
    assert bf_plus0_two_proportions(x1, n1, x2, n2, direction=-1) == pytest.approx(
        _bfplus_numeric(x2, n2, x1, n1), rel=1e-6)


def test_prob_p1_greater_against_integration():
    for a1, b1, a2, b2 in [(13, 13, 11, 39), (1, 1, 1, 1), (4, 7, 9, 3)]:
        num, _ = integrate.quad(lambda t: stats.beta.pdf(t, a2, b2) * stats.beta.sf(t, a1, b1), 0, 1,
                                epsabs=0, epsrel=1e-12)
        assert prob_p1_greater(a1, b1, a2, b2) == pytest.approx(num, rel=1e-9)


class _BetaPdf:
    """A beta density written out (scipy.stats.beta.pdf is too slow inside dblquad)."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.norm = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b))

    def pdf(self, p):
        return self.norm * p ** (self.a - 1) * (1 - p) ** (self.b - 1)


def test_replication_bf_is_the_bf_of_the_replication_with_the_original_posterior_as_prior():
    """Ly et al. (2019), eq. for evidence updating: BF_r0 = p(d_rep | H_r) / p(d_rep | H0, d_orig)."""
    ox1, on1, ox2, on2 = 12, 24, 10, 48
    x1, n1, x2, n2 = 14, 30, 9, 40
    post1 = _BetaPdf(ox1 + 1, on1 - ox1 + 1)
    post2 = _BetaPdf(ox2 + 1, on2 - ox2 + 1)
    post0 = _BetaPdf(ox1 + ox2 + 1, on1 + on2 - ox1 - ox2 + 1)
    m1, _ = integrate.dblquad(lambda p2, p1: post1.pdf(p1) * post2.pdf(p2) * _lik(x1, n1)(p1) * _lik(x2, n2)(p2),
                              0, 1, 0, 1, epsabs=0, epsrel=1e-9)
    m0, _ = integrate.quad(lambda p: post0.pdf(p) * _lik(x1, n1)(p) * _lik(x2, n2)(p), 0, 1, epsabs=0, epsrel=1e-12)
    c = replication_bayes_factor(ox1, on1, ox2, on2, x1, n1, x2, n2)
    assert c.estimate == pytest.approx(m1 / m0, rel=1e-6)
    # directional: H+ posterior (truncated to p1 > p2 and renormalised) as the prior
    z, _ = integrate.dblquad(lambda p2, p1: post1.pdf(p1) * post2.pdf(p2), 0, 1, 0, lambda p1: p1,
                             epsabs=0, epsrel=1e-10)
    m1p, _ = integrate.dblquad(lambda p2, p1: post1.pdf(p1) * post2.pdf(p2) * _lik(x1, n1)(p1) * _lik(x2, n2)(p2) / z,
                               0, 1, 0, lambda p1: p1, epsabs=0, epsrel=1e-10)
    cd = replication_bayes_factor(ox1, on1, ox2, on2, x1, n1, x2, n2, directional=True)
    assert cd.estimate == pytest.approx(m1p / m0, rel=1e-6)


def test_replication_bf_verdicts_and_huge_values():
    big = replication_bayes_factor(*ORIG, *REP)
    assert big.decision == SUCCEEDED and big.estimate > 1e20 and math.isfinite(big.statistic)
    null = replication_bayes_factor(*ORIG, 125, 500, 250, 1000)
    assert null.decision == FAILED and null.estimate < 1 / 3
    assert replication_bayes_factor(*ORIG, 3, 6, 2, 6).decision == INCONCLUSIVE


# --------------------------------------------------------------------------- #
# Fixed-effect combination
# --------------------------------------------------------------------------- #
def test_fixed_effect_against_metafor():
    # R: rma(yi, vi, data=escalc("OR", ai=c(12,250), bi=c(12,250), ci=c(10,208), di=c(38,792)), method="FE")
    c = fixed_effect(*ORIG, *REP, direction=1)
    assert c.estimate == pytest.approx(1.33693064519, rel=1e-9)
    assert (c.low, c.high) == (pytest.approx(1.10983210063, rel=1e-9), pytest.approx(1.56402918974, rel=1e-9))
    assert c.statistic == pytest.approx(11.5383210384, rel=1e-9)
    assert c.decision == SUCCEEDED


def test_mantel_haenszel_against_r():
    # R: mantelhaen.test(array(c(12,10,12,38, 250,208,250,792), dim=c(2,2,2)), correct=FALSE)
    c = mantel_haenszel(*ORIG, *REP, direction=1)
    assert math.exp(c.estimate) == pytest.approx(3.80733944954, rel=1e-9)
    assert math.exp(c.low) == pytest.approx(3.03384895509, rel=1e-8)
    assert math.exp(c.high) == pytest.approx(4.77803407440, rel=1e-8)
    assert c.statistic == pytest.approx(140.231366943, rel=1e-9)
    assert mantel_haenszel(*ORIG, *REP, direction=-1).decision == FAILED


# --------------------------------------------------------------------------- #
# From w and N
# --------------------------------------------------------------------------- #
def test_w_criteria_brute_force():
    w, n = 0.17, 391
    s = significance_w(w, n)
    assert s.p == pytest.approx(chi2_sf_1df(n * w * w), rel=1e-10) and s.decision == SUCCEEDED
    # CI of w by brute-force inversion of the noncentral chi-square over a fine grid of noncentralities
    c = consistency_w(0.20, w, n)
    lam = np.linspace(0, 60, 600001)
    cdf = stats.ncx2.cdf(n * w * w, 1, np.maximum(lam, 1e-12))
    lo = math.sqrt(lam[np.argmax(cdf <= 0.975)] / n)
    hi = math.sqrt(lam[np.argmax(cdf <= 0.025)] / n)
    assert (c.low, c.high) == (pytest.approx(lo, abs=1e-4), pytest.approx(hi, abs=1e-4))
    assert c.decision == SUCCEEDED
    pi = prediction_interval_w(0.20, 72, w, n)
    half = 1.959963984540054 * math.sqrt(1 / 69 + 1 / 388)
    assert (pi.low, pi.high) == (pytest.approx(math.atanh(0.2) - half), pytest.approx(math.atanh(0.2) + half))
    st = small_telescopes_w(w, n, w33(72))
    assert st.p == pytest.approx(stats.ncx2.cdf(n * w * w, 1, n * w33(72) ** 2)) and st.decision == SUCCEEDED
    assert equivalence_w(0.01, 2000, 0.1).decision == FAILED
    fe = fixed_effect_w(0.2, 72, w, n)
    est = (69 * math.atanh(0.2) + 388 * math.atanh(w)) / (69 + 388)
    assert fe.estimate == pytest.approx(est) and fe.decision == SUCCEEDED
