"""Exact Fisher power (analysis.power.exact) against the floor of the issue.

Group ``power n=N`` (N per group): the baseline is the issue's floor, one vectorised
``scipy.stats.hypergeom.pmf`` over all (N+1)² tables (every table's conditional
probability computed once); ``test_fisher_exact_power`` is one full exact power point
(rejection region + binomial sum).  The engine computes the same probabilities from a
table of log-factorials, so its ratio to this floor is below 1 (scipy's hypergeom.pmf
costs ~10 µs per cell).  ``test_logfactorial_pmf`` is that cheaper floor, for reference.
Goal of the issue: n = 1000 per group in <= 1 s (read the absolute time).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

from analysis.power.exact import power_two_proportions

SIZES = (24, 100, 500, 1000)


def _params():
    return [pytest.param(n, marks=pytest.mark.benchmark(group=f"power n={n:04d}")) for n in SIZES]


def _rounds(n):
    return dict(rounds=1 if n >= 500 else 5, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("n", _params())
def test_fisher_hypergeom_pmf_baseline(benchmark, n):
    k1 = np.arange(n + 1)[:, None]
    k2 = np.arange(n + 1)[None, :]
    out = benchmark.pedantic(lambda: stats.hypergeom.pmf(k1, 2 * n, n, k1 + k2), **_rounds(n))
    assert out.shape == (n + 1, n + 1)


@pytest.mark.parametrize("n", _params())
def test_fisher_exact_power(benchmark, n):
    r = benchmark.pedantic(lambda: power_two_proportions(0.5, 0.4, n), **_rounds(n))
    assert 0 < r.power <= 1


@pytest.mark.parametrize("n", _params())
def test_logfactorial_pmf(benchmark, n):
    k1 = np.arange(n + 1)[:, None]
    k2 = np.arange(n + 1)[None, :]

    def pmf():
        lf = gammaln(np.arange(2 * n + 2) + 1.0)
        m = k1 + k2
        return np.exp(2 * lf[n] + lf[m] + lf[2 * n - m] - lf[2 * n] - lf[k1] - lf[n - k1] - lf[k2] - lf[n - k2])
    out = benchmark.pedantic(pmf, **_rounds(n))
    assert out.shape == (n + 1, n + 1)
