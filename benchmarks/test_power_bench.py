"""Exact and simulated power (analysis.power), as ratios to baselines measured in the same run.

Exact power (issue 26.2).  Group ``power n=N`` (N per group): the baseline is the issue's floor,
one vectorised ``scipy.stats.hypergeom.pmf`` over all (N+1)² tables (every table's conditional
probability computed once); ``test_fisher_exact_power`` is one full exact power point (rejection
region + binomial sum); ``test_logfactorial_pmf`` the cheaper floor of a log-factorial table.
Group ``power vs R n=N``: when ``Rscript`` is installed, R's vectorised enumeration
(``benchmarks/r/fisher_power.R``: dhyper over every table, order(m, d), cumulative sums) is
timed by R itself (best of 3, CPU and wall) and printed beside ours, with both powers; the
goal is at most half of R's time and n = 1000 within 0.25 s.

Simulated power (issue 26.1).  Group ``simulated power 1000``: the baseline draws 1,000 Pollock
data sets' arrays only (the least a simulation does); beside it 1,000 Pollock and 1,000 Regan
data sets drawn and analysed (goals: 2 s and 10 s on one core; CPU time beside the wall time).
Group ``simulated power 10 data sets``: the row-level analysis (``fit_on="rows"``: a DataFrame
and statsmodels per data set, what every data set cost before) is the baseline of the cell fit.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

from analysis.power.exact import power_two_proportions

SIZES = (24, 100, 500, 1000)
RSCRIPT = shutil.which("Rscript")
R_FILE = Path(__file__).resolve().parent / "r" / "fisher_power.R"


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


def _cpu_timed(fn, rounds: int):
    """(result, best CPU seconds, best wall seconds) over ``rounds`` calls."""
    cpu = wall = float("inf")
    for _ in range(rounds):
        c, w = time.process_time(), time.perf_counter()
        out = fn()
        cpu, wall = min(cpu, time.process_time() - c), min(wall, time.perf_counter() - w)
    return out, cpu, wall


@pytest.mark.parametrize("n", [pytest.param(n, marks=pytest.mark.benchmark(group=f"power vs R n={n}"))
                               for n in (1000, 2000)])
def test_fisher_power_vs_r(benchmark, request, n):
    if RSCRIPT is None:
        pytest.skip("R is not installed: group 'power n=N' (the hypergeometric floor) is the baseline")
    proc = subprocess.run([RSCRIPT, str(R_FILE), str(n)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    r_cpu, r_wall, r_power = map(float, proc.stdout.split()[-3:])
    power_two_proportions(0.5, 0.4, 20)                      # imports done before the clock
    r, cpu, wall = _cpu_timed(lambda: power_two_proportions(0.5, 0.4, n), 3)
    benchmark.pedantic(lambda: power_two_proportions(0.5, 0.4, n), rounds=1, iterations=1)
    benchmark.extra_info.update(cpu_s=cpu, r_cpu_s=r_cpu, r_wall_s=r_wall)
    assert r.power == pytest.approx(r_power, rel=1e-9)    # the same number as R's enumeration
    rows = request.config.__dict__.setdefault("_power_vs_r", [])
    rows.append((n, cpu, wall, r_cpu, r_wall, r.power, r_power))


# --------------------------------------------------------------------------- #
# Simulated power
# --------------------------------------------------------------------------- #
def _sim_cpu(benchmark, fn):
    cpu = []

    def run():
        t = time.process_time()
        out = fn()
        cpu.append(time.process_time() - t)
        return out
    out = benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info["cpu_s"] = min(cpu)
    return out


@pytest.mark.benchmark(group="simulated power 1000")
def test_simulated_draws_only_baseline(benchmark):
    import paradigms
    from analysis.power.simulated import _binary_draws

    pol = paradigms.get("pollock1998").experiment(1)

    def draw():
        for s in np.random.SeedSequence(1).spawn(1000):
            _binary_draws(pol, 40, np.random.default_rng(s))
    _sim_cpu(benchmark, draw)


@pytest.mark.benchmark(group="simulated power 1000")
@pytest.mark.parametrize("pid", ["pollock1998", "regan1971"])
def test_simulated_power_1000(benchmark, pid):
    from analysis.power.simulated import simulation_power

    simulation_power(pid, 1, n=10, simulations=2)           # imports done before the clock
    r = _sim_cpu(benchmark, lambda: simulation_power(pid, 1, n=40, simulations=1000, seed=1))
    assert r.tests[0].simulations == 1000


def _ten(pid):
    return pytest.param(pid, marks=pytest.mark.benchmark(group=f"simulated power 10 data sets {pid}"))


def _ten_sets(benchmark, pid, fit_on):
    from analysis.power.simulated import simulation_power

    simulation_power(pid, 1, n=10, simulations=2, fit_on=fit_on)
    r = _sim_cpu(benchmark, lambda: simulation_power(pid, 1, n=40, simulations=10, seed=1, fit_on=fit_on))
    assert r.tests[0].simulations == 10


@pytest.mark.parametrize("pid", [_ten("pollock1998"), _ten("regan1971")])
def test_simulated_rows_baseline(benchmark, pid):
    _ten_sets(benchmark, pid, "rows")


@pytest.mark.parametrize("pid", [_ten("pollock1998"), _ten("regan1971")])
def test_simulated_cells(benchmark, pid):
    _ten_sets(benchmark, pid, "cells")
