"""The enumeration kernel of exact Fisher power (issue 26.2): the rejection region, checked table
by table against exact rational arithmetic and against scipy.stats.fisher_exact."""
from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from scipy import stats

from analysis.power.exact import _fisher_region, power_two_proportions


def _exact_p(k1: int, k2: int, n1: int, n2: int, alternative: str) -> Fraction:
    """Fisher's p of one table in rational arithmetic (the hypergeometric probabilities as fractions)."""
    m = k1 + k2
    pm = {x: Fraction(comb(n1, x) * comb(n2, m - x), comb(n1 + n2, m)) for x in range(max(0, m - n2), min(n1, m) + 1)}
    if alternative == "less":
        return sum(v for x, v in pm.items() if x <= k1)
    if alternative == "greater":
        return sum(v for x, v in pm.items() if x >= k1)
    return sum(v for v in pm.values() if v <= pm[k1])


@pytest.mark.parametrize("n1,n2", [(3, 7), (13, 17), (24, 24)])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("alpha", ["1/20", "1/2"])
def test_region_is_exact_rational_fishers_test(n1, n2, alternative, alpha):
    """Every table against p <= α in exact arithmetic.  α = 1/2 puts many one-sided p values exactly
    on α (n1 = n2: P(K1 <= k | m) = 1/2 by symmetry), where float sums round either way."""
    a = Fraction(alpha)
    reject = _fisher_region(n1, n2, float(a), alternative)
    for k1 in range(n1 + 1):
        for k2 in range(n2 + 1):
            want = (0 < k1 + k2 < n1 + n2) and _exact_p(k1, k2, n1, n2, alternative) <= a
            assert bool(reject[k1, k2]) == want, (k1, k2)


@pytest.mark.parametrize("n1,n2", [(40, 40), (57, 33)])
def test_region_agrees_with_scipy_fisher_exact(n1, n2):
    reject = _fisher_region(n1, n2, 0.05, "two-sided")
    for k1 in range(0, n1 + 1, 3):
        for k2 in range(n2 + 1):
            p = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
            if abs(p - 0.05) > 1e-9:
                assert bool(reject[k1, k2]) == (p <= 0.05 and 0 < k1 + k2 < n1 + n2), (k1, k2, p)


def test_power_is_the_binomial_sum_over_the_region():
    """n = 1000 per group: power = Σ Bin(k1) Bin(k2) over the region, summed here without the matrix product."""
    r = power_two_proportions(0.5, 0.45, 1000)
    reject = _fisher_region(1000, 1000, 0.05, "two-sided")
    k1, k2 = np.nonzero(reject)
    want = float(np.sum(stats.binom.pmf(k1, 1000, 0.5) * stats.binom.pmf(k2, 1000, 0.45)))
    assert r.power == pytest.approx(want, rel=1e-10)
    # the region is two tails of each diagonal k1 + k2 = m: no holes
    m = k1 + k2
    for mm in (900, 950, 1000):
        ks = np.sort(k1[m == mm])
        low, high = ks[ks < mm / 2], ks[ks > mm / 2]
        assert np.all(np.diff(low) == 1) and np.all(np.diff(high) == 1)
