"""Exact power of two proportions, sample size and d33 (analysis.power.exact).

References: brute-force enumeration in plain Python (math.comb, Fractions), scipy's own
tests table by table, a Monte-Carlo check, and R values recorded with the call that made them.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from analysis import AnalysisError
from analysis.power.exact import (BARNARD_MAX_TABLES, d33, normal_power, power_two_proportions, rejection_region,
                            sample_size_two_proportions)


# --------------------------------------------------------------------------- #
# Plain-Python references
# --------------------------------------------------------------------------- #
def _binom(k, n, p):
    return math.comb(n, k) * p ** k * (1 - p) ** (n - k)


def _fisher_p_exact(a, n1, c, n2, alternative="two-sided"):
    """Fisher's p with exact rational hypergeometric probabilities."""
    m, N = a + c, n1 + n2
    lo, hi = max(0, m - n2), min(n1, m)
    pmf = {x: Fraction(math.comb(n1, x) * math.comb(n2, m - x), math.comb(N, m)) for x in range(lo, hi + 1)}
    if alternative == "greater":
        return float(sum(v for x, v in pmf.items() if x >= a))
    if alternative == "less":
        return float(sum(v for x, v in pmf.items() if x <= a))
    return float(sum(v for v in pmf.values() if v <= pmf[a]))


def _pearson_p(a, n1, c, n2, yates=False):
    N, m = n1 + n2, a + c
    if m in (0, N):
        return 1.0
    dev = abs(a * (n2 - c) - c * (n1 - a)) / N
    if yates:
        dev = max(dev - 0.5, 0.0)
    x2 = dev ** 2 * N ** 3 / (n1 * n2 * m * (N - m))
    return math.erfc(math.sqrt(x2 / 2))     # P(chi2_1 >= x2)


def brute_power(p1, p2, n1, n2, pvalue, alpha=0.05):
    return sum(_binom(a, n1, p1) * _binom(c, n2, p2)
               for a in range(n1 + 1) for c in range(n2 + 1) if pvalue(a, n1, c, n2) <= alpha)


@pytest.mark.parametrize("p1,p2,n1,n2,alt", [(0.5, 4 / 24, 12, 12, "two-sided"), (0.3, 0.6, 9, 14, "two-sided"),
                                             (0.7, 0.4, 10, 8, "greater"), (0.2, 0.5, 11, 11, "less"),
                                             (0.5, 0.5, 10, 10, "two-sided")])
def test_fisher_power_equals_brute_force_enumeration(p1, p2, n1, n2, alt):
    ref = brute_power(p1, p2, n1, n2, lambda a, n1, c, n2: _fisher_p_exact(a, n1, c, n2, alt))
    assert power_two_proportions(p1, p2, n1, n2, test="fisher", alternative=alt).power == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("yates", [False, True])
@pytest.mark.parametrize("p1,p2,n1,n2", [(0.5, 4 / 24, 12, 12), (0.25, 0.6, 9, 14), (0.6, 0.3, 20, 7)])
def test_chi2_power_equals_brute_force_enumeration(p1, p2, n1, n2, yates):
    ref = brute_power(p1, p2, n1, n2, lambda a, n1, c, n2: _pearson_p(a, n1, c, n2, yates))
    r = power_two_proportions(p1, p2, n1, n2, test="yates" if yates else "chi2")
    assert r.power == pytest.approx(ref, abs=1e-12)


def _scipy_p(test, alt, a, n1, c, n2):
    t = [[a, n1 - a], [c, n2 - c]]
    if test == "fisher":
        return stats.fisher_exact(t, alternative=alt).pvalue
    if test == "barnard":
        from analysis.stats.binary import barnard_exact_p
        if alt == "two-sided":
            return barnard_exact_p(a, n1, c, n2)
        return stats.barnard_exact(np.array(t).T, alternative=alt, pooled=True).pvalue   # one sample per column
    if a + c in (0, n1 + n2):
        return 1.0
    r = stats.chi2_contingency(t, correction=test == "yates")
    if alt == "two-sided":
        return r.pvalue
    z = math.copysign(math.sqrt(r.statistic), a / n1 - c / n2)
    return stats.norm.sf(z) if alt == "greater" else stats.norm.cdf(z)


@pytest.mark.parametrize("test", ["fisher", "chi2", "yates", "barnard"])
@pytest.mark.parametrize("alt", ["two-sided", "greater", "less"])
def test_rejection_region_agrees_with_each_tables_own_test(test, alt):
    n1, n2 = 7, 9
    R = rejection_region(n1, n2, 0.05, test, alt)
    if test == "barnard":   # each table's own Barnard p is slow: check both sides of the region's edge
        cells = {(a, c) for a in range(n1 + 1) for c in range(n2) if R[a, c] != R[a, c + 1]}
        cells = sorted(cells | {(a, c + 1) for a, c in cells} | {(0, 0), (n1, 0), (0, n2), (n1, n2)})
    else:
        cells = [(a, c) for a in range(n1 + 1) for c in range(n2 + 1)]
    assert R.any()
    for a, c in cells:
        assert R[a, c] == (_scipy_p(test, alt, a, n1, c, n2) <= 0.05), (a, c)


def test_fisher_region_at_moderate_n_agrees_with_scipy_on_the_boundary():
    n = 60
    R = rejection_region(n, n, 0.05, "fisher")
    rng = np.random.default_rng(5)
    # every table next to the region's edge, plus random tables
    edge = {(a, c) for a in range(n + 1) for c in range(n) if R[a, c] != R[a, c + 1]}
    cells = sorted(edge) + [tuple(x) for x in rng.integers(0, n + 1, size=(100, 2))]
    for a, c in cells:
        assert R[a, c] == (stats.fisher_exact([[a, n - a], [c, n - c]]).pvalue <= 0.05), (a, c)


def test_fisher_power_agrees_with_simulation_within_monte_carlo_error():
    p1, p2, n1, n2, sims = 0.35, 0.2, 80, 90, 4000
    rng = np.random.default_rng(2026)
    a = rng.binomial(n1, p1, sims)
    c = rng.binomial(n2, p2, sims)
    cache = {}
    rej = 0
    for x, y in zip(a, c):
        if (x, y) not in cache:
            cache[(x, y)] = stats.fisher_exact([[x, n1 - x], [y, n2 - y]]).pvalue <= 0.05
        rej += cache[(x, y)]
    est, se = rej / sims, math.sqrt(rej / sims * (1 - rej / sims) / sims)
    exact = power_two_proportions(p1, p2, n1, n2).power
    assert abs(est - exact) < 4 * se


# R 4.2, base stats, exact enumeration with R's own fisher.test / chisq.test:
#   fp <- function(p1,p2,n1,n2,alpha=0.05,alt="two.sided"){s<-0; for(a in 0:n1) for(c in 0:n2){
#     if(fisher.test(matrix(c(a,c,n1-a,n2-c),2),alternative=alt)$p.value<=alpha)
#       s<-s+dbinom(a,n1,p1)*dbinom(c,n2,p2)}; s}
#   cp <- function(p1,p2,n1,n2,alpha=0.05,correct=FALSE){s<-0; for(a in 0:n1) for(c in 0:n2){ m<-a+c;
#     if(m==0||m==n1+n2) next; p<-suppressWarnings(chisq.test(matrix(c(a,c,n1-a,n2-c),2),correct=correct)$p.value);
#     if(p<=alpha) s<-s+dbinom(a,n1,p1)*dbinom(c,n2,p2)}; s}
R_EXACT = [
    # (p1, p2, n1, n2, test, alternative, R value, R call)
    (0.5, 4 / 24, 24, 24, "fisher", "two-sided", 0.608895626582956, "fp(0.5,4/24,24,24)"),
    (0.5, 10 / 48, 24, 48, "fisher", "two-sided", 0.648681532843364, "fp(0.5,10/48,24,48)"),
    (0.73, 0.40, 30, 30, "fisher", "greater", 0.753301651755988, 'fp(0.73,0.40,30,30,alt="greater")'),
    (0.5, 4 / 24, 24, 24, "chi2", "two-sided", 0.715656751987465, "cp(0.5,4/24,24,24)"),
    (0.5, 4 / 24, 24, 24, "yates", "two-sided", 0.583807458451892, "cp(0.5,4/24,24,24,correct=TRUE)"),
]


@pytest.mark.parametrize("p1,p2,n1,n2,test,alt,value,call", R_EXACT)
def test_exact_power_matches_r_enumeration(p1, p2, n1, n2, test, alt, value, call):
    assert power_two_proportions(p1, p2, n1, n2, test=test, alternative=alt).power == pytest.approx(value, abs=1e-9)


# R 4.2, library(pwr) 1.3: normal approximation with Cohen's h
R_PWR = [
    (0.5, 4 / 24, 24, 24, 0.05, "two-sided", 0.714947669222166,
     "pwr.2p2n.test(h=ES.h(0.5,4/24),n1=24,n2=24,sig.level=0.05)$power"),
    (0.5, 4 / 24, 30, 45, 0.01, "greater", 0.779238627891337,
     'pwr.2p2n.test(h=ES.h(0.5,4/24),n1=30,n2=45,sig.level=0.01,alternative="greater")$power'),
    (0.2, 0.35, 40, 60, 0.05, "less", 0.505968768672808,
     'pwr.2p2n.test(h=ES.h(0.2,0.35),n1=40,n2=60,sig.level=0.05,alternative="less")$power'),
]


@pytest.mark.parametrize("p1,p2,n1,n2,alpha,alt,value,call", R_PWR)
def test_normal_approximation_matches_r_pwr(p1, p2, n1, n2, alpha, alt, value, call):
    assert normal_power(p1, p2, n1, n2, alpha, alt) == pytest.approx(value, abs=1e-9)
    r = power_two_proportions(p1, p2, n1, n2, alpha=alpha, alternative=alt)
    assert r.power_normal == pytest.approx(value, abs=1e-9)
    assert r.cohens_h == pytest.approx(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2)))


def test_cialdini_exact_and_normal_power_differ_and_the_result_reads():
    r = power_two_proportions(0.5, 4 / 24, 24)
    assert r.power_normal - r.power > 0.1            # the teaching point of the issue
    text = str(r)
    assert "Fisher" in text and "n = 24 and 24" in text and ".61" in text
    d = r.to_dict()
    assert d["n1"] == d["n2"] == 24 and d["test"] == "fisher" and d["power"] == r.power


def test_size_under_h0_is_at_most_alpha_for_exact_tests():
    for test in ("fisher", "barnard"):
        assert power_two_proportions(0.3, 0.3, 15, 15, test=test).power <= 0.05


def test_barnard_above_the_table_limit_is_not_computed():
    n = int(math.isqrt(BARNARD_MAX_TABLES))        # (n + 1)^2 > limit
    r = power_two_proportions(0.5, 0.4, n, test="barnard")
    assert math.isnan(r.power) and not r.computed and "not computed" in r.notes[0]
    assert "not computed" in str(r)
    assert not math.isnan(r.power_normal)


@pytest.mark.parametrize("kwargs,word", [
    (dict(p1=0, p2=0.2, n1=10), "p1 = 0"), (dict(p1=0.5, p2=1.2, n1=10), "p2 = 1.2"),
    (dict(p1=0.5, p2=0.2, n1=1), "n1 = 1"), (dict(p1=0.5, p2=0.2, n1=10, n2=0), "n2 = 0"),
    (dict(p1=0.5, p2=0.2, n1=10, alpha=1.5), "alpha = 1.5"), (dict(p1=0.5, p2=0.2, n1=10, test="z"), "'z'"),
    (dict(p1=0.5, p2=0.2, n1=10, alternative="up"), "'up'"), (dict(p1=0.5, p2=0.2, n1=10.5), "10.5"),
])
def test_bad_input_is_a_one_line_error_naming_the_value(kwargs, word):
    with pytest.raises(AnalysisError) as e:
        power_two_proportions(**kwargs)
    assert word in str(e.value) and "\n" not in str(e.value)


# --------------------------------------------------------------------------- #
# Sample size: the saw-tooth
# --------------------------------------------------------------------------- #
def test_sample_size_first_and_stable_n_follow_the_exact_curve():
    r = sample_size_two_proportions(0.5, 4 / 24, target=0.80)
    curve = dict(r.curve)      # the n the search evaluated (issue 26.2: not every n)
    pw = {n: power_two_proportions(0.5, 4 / 24, n).power for n in range(2, r.n_bound + 1)}
    # first: reaches the target there and at no smaller n
    assert pw[r.n_first] >= 0.80 and all(pw[n] < 0.80 for n in range(2, r.n_first))
    # stable: every n from it up to the bound is at or above; the one before is below
    assert all(pw[n] >= 0.80 for n in range(r.n_stable, r.n_bound + 1))
    assert r.n_stable == r.n_first or pw[r.n_stable - 1] < 0.80
    assert all(curve[n] == power_two_proportions(0.5, 4 / 24, n).power for n in curve)
    # each point is the exact power
    assert curve[r.n_first] == pytest.approx(power_two_proportions(0.5, 4 / 24, r.n_first).power)
    assert r.n_normal == 30    # R: pwr.2p.test(h=ES.h(0.5,4/24),sig.level=0.05,power=0.8)$n = 29.479


def test_sample_size_reports_a_saw_tooth_when_power_dips_back():
    # a one-sided Fisher curve of a moderate effect saw-tooths around the target
    r = sample_size_two_proportions(0.6, 0.3, target=0.80, test="fisher", alternative="greater")
    curve = {n: power_two_proportions(0.6, 0.3, n, test="fisher", alternative="greater").power
             for n in range(2, r.n_bound + 1)}      # every n (the search evaluates only some)
    dips = [n for n in range(r.n_first, r.n_bound + 1) if curve[n] < 0.80]
    if dips:
        assert r.n_stable > max(dips)
    else:
        assert r.n_stable == r.n_first
    # somewhere on this curve exact power is not monotone in n
    pw = [curve[n] for n in sorted(curve)]
    assert any(b < a for a, b in zip(pw, pw[1:]))


def test_sample_size_not_reached_within_n_max():
    r = sample_size_two_proportions(0.5, 0.45, target=0.9, n_max=40)
    assert r.n_first is None and r.n_stable is None and "not reached" in str(r)


def test_sample_size_bad_target():
    with pytest.raises(AnalysisError, match="target = 1.2"):
        sample_size_two_proportions(0.5, 0.2, target=1.2)


# --------------------------------------------------------------------------- #
# d33
# --------------------------------------------------------------------------- #
def test_d33_is_the_effect_with_one_third_power_and_nothing_smaller_reaches_it():
    r = d33(24, 24, 4 / 24)
    assert r.power == pytest.approx(1 / 3, abs=1e-6)
    # independent check: brute-force Fisher power at the root, and just below it
    at = brute_power(r.p_treatment, 4 / 24, 24, 24, _fisher_p_exact)
    below = brute_power(r.p_treatment - 1e-4, 4 / 24, 24, 24, _fisher_p_exact)
    assert at >= 1 / 3 - 1e-9 and below < 1 / 3
    assert r.cohens_h == pytest.approx(2 * math.asin(math.sqrt(r.p_treatment)) - 2 * math.asin(math.sqrt(4 / 24)))
    assert r.risk_difference == pytest.approx(r.p_treatment - 4 / 24)
    # every grid rate below the root has less power
    for p in np.linspace(4 / 24 + 0.01, r.p_treatment - 0.01, 7):
        assert power_two_proportions(p, 4 / 24, 24).power < 1 / 3


def test_d33_decreases_with_larger_designs_and_goes_down_for_less():
    small, big = d33(24, 24, 0.3), d33(200, 200, 0.3)
    assert big.risk_difference < small.risk_difference
    down = d33(50, 50, 0.5, alternative="less")
    assert down.direction == "decrease" and down.p_treatment < 0.5
    assert down.power == pytest.approx(1 / 3, abs=1e-6)


def test_d33_not_reachable_with_tiny_design():
    r = d33(2, 2, 0.5)
    assert math.isnan(r.p_treatment) and "not computable" in str(r)
