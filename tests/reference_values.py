"""Reference numbers for the analysis tests, computed another way than analysis/ does.

Each constant says where it comes from.  Functions below are textbook formulas
written out by hand (no scipy/statsmodels), used as independent references.
"""
from __future__ import annotations

import math
from fractions import Fraction

# Newcombe, R. G. (1998). Interval estimation for the difference between independent
# proportions: comparison of eleven methods. Statistics in Medicine, 17, 873-890.
# Table II, method 10 (hybrid score), printed to 4 decimals.  The same numbers come from
#   statsmodels.stats.proportion.confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
NEWCOMBE_TABLE_II = [
    # x1, n1, x2, n2, lower, upper
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
]

# Cialdini et al. (1975), Experiment 1 -- exact rational Pearson chi-square by hand:
#   N (ad - bc)^2 / (r1 r2 c1 c2)
# rejection-moderation 12/24 vs both controls 10/48:
CIALDINI_E1_CHI2_MAIN = Fraction(72 * (12 * 38 - 12 * 10) ** 2, 24 * 48 * 22 * 50)   # = 6.41454...
# exposure control 6/24 vs smaller-request-only 4/24:
CIALDINI_E1_CHI2_CONTROLS = Fraction(48 * (6 * 20 - 18 * 4) ** 2, 24 * 24 * 10 * 38)  # = 0.50526...
# The paper (via a secondary note): chi2 = 6.42, p = .011 two-tailed; chi2 = .50.
CIALDINI_E1_PUBLISHED = {"chi2_main": 6.42, "p_main": 0.011, "chi2_controls": 0.50}


def wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson (1927) score interval, written out."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def pearson_2x2(a: int, b: int, c: int, d: int, yates: bool = False) -> float:
    """N (|ad - bc| - N/2)^2 / (r1 r2 c1 c2) with Yates, N (ad - bc)^2 / ... without."""
    n = a + b + c + d
    diff = abs(a * d - b * c)
    if yates:
        diff = max(diff - n / 2, 0.0)
    return n * diff ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))


def chi2_sf_1df(x: float) -> float:
    """P(chi2_1 > x) = erfc(sqrt(x / 2))."""
    return math.erfc(math.sqrt(x / 2))


def fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Sum of hypergeometric probabilities of tables no more probable than the observed one."""
    r1, r2, c1 = a + b, c + d, a + c
    n = r1 + r2

    def prob(k):
        return math.comb(r1, k) * math.comb(r2, c1 - k) / math.comb(n, c1)

    p_obs = prob(a)
    lo, hi = max(0, c1 - r2), min(r1, c1)
    return min(1.0, sum(prob(k) for k in range(lo, hi + 1) if prob(k) <= p_obs * (1 + 1e-7)))


def barnard_brute(x1: int, n1: int, x2: int, n2: int, grid: int = 2000) -> float:
    """Barnard's test, two-sided, pooled Wald statistic, nuisance p maximised on a grid.

    One binomial sample per group (x1 of n1, x2 of n2).
    """
    def wald(k1, k2):
        p = (k1 + k2) / (n1 + n2)
        if p in (0.0, 1.0):
            return 0.0
        return (k1 / n1 - k2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))

    t_obs = abs(wald(x1, x2))
    extreme = [(k1, k2) for k1 in range(n1 + 1) for k2 in range(n2 + 1) if abs(wald(k1, k2)) >= t_obs - 1e-12]
    best = 0.0
    for i in range(1, grid):
        pi = i / grid
        s = sum(math.comb(n1, k1) * pi ** k1 * (1 - pi) ** (n1 - k1) * math.comb(n2, k2) * pi ** k2
                * (1 - pi) ** (n2 - k2) for k1, k2 in extreme)
        best = max(best, s)
    return min(best, 1.0)


def woolf_or(a, b, c, d, z: float = 1.959963984540054):
    lor = math.log(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return math.exp(lor), math.exp(lor - z * se), math.exp(lor + z * se)


def cohens_h(p1, p2):
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def g_statistic(table) -> float:
    """Likelihood-ratio G = 2 sum O ln(O/E) for a k x 2 table."""
    n = sum(sum(r) for r in table)
    cols = [sum(r[j] for r in table) for j in range(2)]
    g = 0.0
    for r in table:
        rs = sum(r)
        for j in range(2):
            if r[j]:
                g += r[j] * math.log(r[j] / (rs * cols[j] / n))
    return 2 * g


def pearson_kx2(table) -> float:
    n = sum(sum(r) for r in table)
    cols = [sum(r[j] for r in table) for j in range(2)]
    return sum((r[j] - sum(r) * cols[j] / n) ** 2 / (sum(r) * cols[j] / n) for r in table for j in range(2))
