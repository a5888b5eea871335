"""Simulated power of a multi-site replication (analysis.power.multisite, issue 26.5), as a ratio to a
row-level baseline measured in the same run.

Group ``multisite power 1000 x 10``: 1,000 simulated replications of 10 sites of 50 per arm.  The
baseline is how such a simulation is usually written: each replication's participants drawn as rows of
a DataFrame (site, arm, complied), the site tables counted by a groupby, each site's log OR and Woolf
variance, and the sites pooled by statsmodels' ``combine_effects`` (Paule-Mandel, its iterated
estimator: statsmodels has no REML) in a Python loop.  Beside it ``multisite_power_rates`` (binomial
counts per site, REML by :func:`analysis.meta.random.random_effects`).  No timing is asserted: ``make
bench`` prints the ratio.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.power.multisite import multisite_power_rates

P1, P2, N, SITES, TAU, SIMS = 0.4, 0.3, 50, 10, 0.2, 1000
GROUP = pytest.mark.benchmark(group="multisite power 1000 x 10")


def _row_level(sims: int = SIMS) -> float:
    from statsmodels.stats.meta_analysis import combine_effects

    rejections = 0
    site = np.repeat(np.arange(SITES), 2 * N)
    arm = np.tile(np.repeat([1, 0], N), SITES)
    for child in np.random.SeedSequence(1).spawn(sims):
        rng = np.random.default_rng(child)
        u = rng.normal(0.0, TAU, SITES)
        p = np.where(arm == 1, 1 / (1 + np.exp(-(np.log(P1 / (1 - P1)) + u[site]))), P2)
        rows = pd.DataFrame({"site": site, "arm": arm, "complied": rng.random(len(site)) < p})
        x = rows.groupby(["site", "arm"])["complied"].sum().unstack()
        a, c = x[1].to_numpy(float), x[0].to_numpy(float)
        b, d = N - a, N - c
        zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        a, b, c, d = (v + 0.5 * zero for v in (a, b, c, d))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = combine_effects(np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d, method_re="iterated")
        z = res.mean_effect_re / res.sd_eff_w_re
        rejections += abs(z) >= 1.959963984540054
    return rejections / sims


@GROUP
def test_row_level_combine_effects_loop_baseline(benchmark):
    power = benchmark.pedantic(_row_level, rounds=1, iterations=1, warmup_rounds=0)
    assert 0 < power <= 1


@GROUP
def test_multisite_power(benchmark):
    r = benchmark.pedantic(lambda: multisite_power_rates(P1, P2, SITES, N, N, TAU, simulations=SIMS, seed=1),
                           rounds=3, iterations=1, warmup_rounds=0)
    assert 0 < r.power <= 1
