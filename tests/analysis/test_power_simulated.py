"""Simulated power of the factorial logistic and count plans (analysis.power.simulated)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import paradigms
from analysis.stats.factorial import treatment_by_moderator
from analysis.power.simulated import simulate_dataset, simulation_power


def test_binary_draws_follow_the_declared_rates():
    exp = paradigms.get("pollock1998").experiment(1)
    d = simulate_dataset(exp, 4000, np.random.default_rng(1))
    for c in exp.conditions:
        got = d.loc[d.condition == c.name, "complied"].mean()
        p = exp.model.rates[c.name].p
        assert abs(got - p) < 4 * math.sqrt(p * (1 - p) / 4000)
        assert set(d.loc[d.condition == c.name, "price"]) == {str(c.factors["price"])}


def test_count_draws_follow_the_declared_cell_means():
    exp = paradigms.get("regan1971").experiment(1)
    d = simulate_dataset(exp, 3000, np.random.default_rng(2))
    for c in exp.conditions:
        mu = exp.model.cell_means[c.name].mean
        y = d.loc[d.condition == c.name, "tickets"]
        # NB2 variance mu + alpha mu^2 (the liking term adds a little): the mean within 5 SE
        se = math.sqrt((mu + 2 * exp.model.dispersion * mu ** 2) / 3000)
        assert abs(y.mean() - mu) < 5 * se
    # liking predicts tickets only where the declared slope is not zero
    r = {lv: np.corrcoef(g["tickets"], g["liking_score"])[0, 1] for lv, g in d.groupby("favor")}
    assert r["no_favor"] > 0.1 and abs(r["confederate_favor"]) < 0.1


def test_same_result_for_any_number_of_jobs():
    a = simulation_power("pollock1998", 1, n=15, simulations=4, seed=7, jobs=1)
    b = simulation_power("pollock1998", 1, n=15, simulations=4, seed=7, jobs=2)
    assert [t.rejections for t in a.tests] == [t.rejections for t in b.tests]
    t = a.tests[0]
    assert t.simulations == 4 and t.power == t.rejections / 4
    assert t.mc_se == pytest.approx(math.sqrt(t.power * (1 - t.power) / 4))


def _direct_p_values(d):
    """The plan's three p values of one data set, straight from statsmodels (not through analysis.stats):
    the interaction's Wald p, and the technique's Wald p with each price as the reference level
    (that coefficient is then the simple effect at that price)."""
    import statsmodels.formula.api as smf

    def fit(ref):
        f = (f"complied ~ C(technique, Treatment(reference='control')) * C(price, Treatment(reference='{ref}'))"
             " + C(reason)")
        return smf.logit(f, data=d).fit(method="newton", maxiter=100, disp=False)
    tech = "C(technique, Treatment(reference='control'))[T.tna]"
    low, high = fit("1"), fit("5")
    inter = f"{tech}:C(price, Treatment(reference='1'))[T.5]"
    return [float(low.pvalues[inter]), float(low.pvalues[tech]), float(high.pvalues[tech])]


def test_simulation_matches_direct_analysis():
    """One simulated data set: each p value the simulation counts is the p value of the direct analysis.

    With one simulation a test is rejected iff p <= alpha, so alpha just above and just below the direct
    p must give 1 and 0 rejections: the simulated p equals the direct one to a relative 1e-6."""
    exp = paradigms.get("pollock1998").experiment(1)
    child = np.random.SeedSequence(7).spawn(1)[0]
    d = simulate_dataset(exp, 40, np.random.default_rng(child))   # 40 a cell: no cell at 0 or 1
    direct = _direct_p_values(d)
    assert all(0 < p < 1 for p in direct)
    for j, p in enumerate(direct):
        above = simulation_power("pollock1998", 1, n=40, simulations=1, seed=7, alpha=min(p * (1 + 1e-6), 1.0))
        below = simulation_power("pollock1998", 1, n=40, simulations=1, seed=7, alpha=p * (1 - 1e-6))
        assert (above.tests[j].rejections, below.tests[j].rejections) == (1, 0), (j, p)
    # and the toolkit's own analysis of the same data set says the same
    r = treatment_by_moderator(d, factor="technique", moderator="price", covariate="reason", treatment="tna",
                               control="control", dropped={"excluded": 0, "withdrawn": 0})
    assert [r.interaction.p] + [s.p for s in r.simple_effects] == pytest.approx(direct, rel=1e-8)


def test_count_plan_simulation_reports_each_contrast():
    exp = paradigms.get("regan1971").experiment(1)
    plan = exp.plan
    on_counts = [k for k in plan.contrasts if k.factor == plan.factors[0]]
    r = simulation_power("regan1971", 1, n=12, simulations=4, seed=1)
    names = [t.name for t in r.tests]
    # each contrast on the counts twice (t test of marginal means, NB rate ratio), then the threshold measure
    assert len(names) == 2 * len(on_counts) + (plan.threshold_contrast is not None) and on_counts
    for i, k in enumerate(on_counts):
        assert names[2 * i].startswith(f"{k.label}: t test of marginal means")
        assert names[2 * i + 1].startswith(f"{k.label}: negative-binomial rate ratio")
    assert all(t.simulations == 4 and t.power == t.rejections / 4 for t in r.tests)
    assert "analyze_count_plan" in r.analysis


def _fake_curve(monkeypatch, first_at: int):
    """simulated power n / (first_at / 0.8): reaches 0.8 first at n = first_at; the n asked, in order."""
    import analysis.power.simulated as sp

    calls = []

    def fake(p, exp, n, *a, **k):
        calls.append(n)
        pw = min(1.0, round(0.8 * n / first_at, 12))
        t = sp.SimulatedTest("interaction", int(pw * 100), 0, 100, pw, 0.0)
        return sp.SimulationPower("x", 1, "FactorialLogitPlan", n, 100, 1, 0.05, (t,), "fake", "fake")

    monkeypatch.setattr(sp, "_simulate", fake)
    return calls


@pytest.mark.parametrize("start,first_at", [(10, 80), (79, 80), (80, 80), (300, 80), (2, 3), (40, 2), (10, 1999)])
def test_simulation_sample_size_steps_then_bisects(monkeypatch, start, first_at):
    import analysis.power.simulated as sp

    calls = _fake_curve(monkeypatch, first_at)
    r = sp.simulation_sample_size("pollock1998", 1, target=0.8, n_start=start)
    assert r.n == first_at and r.power == pytest.approx(0.8)
    assert calls[0] == start and len(set(calls)) == len(calls)    # no n simulated twice
    assert (first_at - 1) in calls or first_at == 2                # the n below was seen to miss
    # steps 1, 2, 4, ... then bisection: about 2 log2 of the distance, not the distance
    assert len(calls) <= 2 * math.ceil(math.log2(abs(first_at - start) + 2)) + 2


def test_simulation_sample_size_says_when_n_max_is_short(monkeypatch):
    import analysis.power.simulated as sp

    calls = _fake_curve(monkeypatch, 80)
    none = sp.simulation_sample_size("pollock1998", 1, target=0.8, n_start=10, n_max=40)
    assert none.n is None and "stays below" in str(none) and max(calls) == 40


@pytest.mark.parametrize("pid", ["pollock1998", "regan1971"])
def test_simulation_sample_size_from_the_pilot_is_the_crossing(pid):
    """Searched from the pilot's start with only the searched test computed, n is where the full
    simulation (every test, the public function) crosses the target: power(n) >= target > power(n - 1)."""
    import analysis.power.simulated as sp

    r = sp.simulation_sample_size(pid, 1, target=0.8, simulations=300, seed=5)
    assert r.n is not None and "pilot" in r.notes[0]
    start = int(r.notes[0].split("n = ")[1].split()[0])
    assert abs(start - r.n) <= max(3, 0.2 * r.n)                     # the pilot's start is close
    at_n = sp.simulation_power(pid, 1, r.n, simulations=300, seed=5).tests[0]
    below = sp.simulation_power(pid, 1, r.n - 1, simulations=300, seed=5).tests[0]
    assert at_n.power == r.power and at_n.power >= 0.8 > below.power
    assert len(r.evaluated) <= 4


@pytest.mark.parametrize("want", range(5))
def test_count_cells_one_test_is_that_of_all(want):
    """CountCells(want=j) gives test j's p value as the full computation does (the others NaN)."""
    from analysis.power.cells import CountCells
    import analysis.power.simulated as sp

    exp = paradigms.get("regan1971").experiment(1)
    ks = [k for k in exp.plan.contrasts if k.factor == exp.plan.factors[0]]
    full = CountCells(exp, ks, int(exp.model.max_tickets))
    one = CountCells(exp, ks, int(exp.model.max_tickets), want)
    for s in np.random.SeedSequence(11).spawn(20):
        draws = sp._count_draws(exp, 12, np.random.default_rng(s))
        a, b = full(draws), one(draws)
        if a is None:
            assert b is None
            continue
        assert len(a) == len(b) and b[want] == a[want]
        assert all(math.isnan(x) for j, x in enumerate(b) if j != want)


# --------------------------------------------------------------------------- #
# Issue 26.1: the tests on sufficient statistics give the row-level analysis's p values
# --------------------------------------------------------------------------- #
def _pvalues(pid, n, sims, seed, fit_on):
    import analysis.power.simulated as sp

    exp = paradigms.get(pid).experiment(1)
    _, analyse, _ = sp._tests_of(exp)
    kids = np.random.SeedSequence(seed).spawn(sims)
    return np.array(sp._replicate_block(exp, n, kids, analyse, 4, fit_on), dtype=float)


@pytest.mark.parametrize("pid,n,sims", [("pollock1998", 40, 30), ("pollock1998", 6, 20), ("regan1971", 16, 12),
                                        ("regan1971", 3, 12)])
def test_cell_statistics_give_the_row_level_p_values_for_the_same_seeds(pid, n, sims):
    """The same data sets (same seeds) analysed on their cells and on their rows
    (technique_by_price / analyze_count_plan): the same p values, so the same rejections at any α.
    Small n puts cells at rate 0 or 1 (separation): those data sets go to the rows, as they must."""
    cells = _pvalues(pid, n, sims, 11, "cells")
    rows = _pvalues(pid, n, sims, 11, "rows")
    assert np.array_equal(np.isnan(cells), np.isnan(rows))
    np.testing.assert_allclose(cells, rows, rtol=1e-7, atol=1e-12, equal_nan=True)
    for alpha in (0.01, 0.05, 0.10):
        assert np.array_equal(np.nan_to_num(cells, nan=1) <= alpha, np.nan_to_num(rows, nan=1) <= alpha)


def test_simulated_power_on_cells_rejects_as_the_row_level_fits():
    a = simulation_power("pollock1998", 1, n=25, simulations=30, seed=4)
    b = simulation_power("pollock1998", 1, n=25, simulations=30, seed=4, fit_on="rows")
    assert [(t.rejections, t.undefined) for t in a.tests] == [(t.rejections, t.undefined) for t in b.tests]
    assert any("cell statistics" in x for x in a.notes) and not any("cell statistics" in x for x in b.notes)
    with pytest.raises(Exception, match="fit_on"):
        simulation_power("pollock1998", 1, n=5, simulations=2, fit_on="table")


def test_the_cell_glm_is_the_binomial_glm_of_statsmodels():
    """The Newton fit on cell counts against statsmodels' binomial GLM on the same 12 cells."""
    import statsmodels.api as sm
    from analysis.power.cells import FactorialCells, _logit_cells_many

    exp = paradigms.get("pollock1998").experiment(1)
    fc = FactorialCells(exp)
    rng = np.random.default_rng(3)
    m = rng.integers(20, 40, size=len(fc.cells)).astype(float)
    k = np.array([rng.integers(1, int(mi)) for mi in m], dtype=float)
    beta, cov, fine = _logit_cells_many(fc.X, k[None], m[None])
    assert fine.tolist() == [True]
    beta, cov = beta[0], cov[0]
    ref = sm.GLM(np.column_stack([k, m - k]), fc.X, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(beta, ref.params, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(cov, ref.cov_params(), rtol=1e-5, atol=1e-6)  # statsmodels stops at 1e-8


@pytest.mark.parametrize("kind", ["overdispersed", "underdispersed"])
def test_nb_dispersion_from_frequency_tables_matches_the_row_level_profile(kind):
    from analysis.power.cells import _nb2_alpha_cells
    from analysis.stats.counts import _nb2_profile

    rng = np.random.default_rng(8)
    if kind == "overdispersed":
        ys = [rng.negative_binomial(2, 2 / (2 + mu), size=30) for mu in (1.0, 2.0, 3.5)]
    else:  # less variable than Poisson: the profile maximum is on the boundary, alpha = 0
        ys = [np.full(30, 2) + (np.arange(30) % 2) for _ in range(3)]
    ys = [np.minimum(y, 10) for y in ys]
    h = np.array([np.bincount(y, minlength=11) for y in ys], dtype=float)
    mean = np.array([y.mean() for y in ys])
    y = np.concatenate(ys).astype(float)
    X = np.kron(np.eye(3), np.ones((30, 1)))
    ref = _nb2_profile(y, X, ci=False)
    got = _nb2_alpha_cells(h, np.arange(11.0), mean)
    assert got == pytest.approx(ref.alpha, rel=1e-8, abs=1e-12)
    assert (got == 0) == (kind == "underdispersed")


@pytest.mark.parametrize("n", [6, 24, 80])
def test_factorial_cells_fitted_together_as_one_at_a_time(n):
    """FactorialCells.many (every regular data set's Newton-Raphson at once) gives each data set
    the p values of FactorialCells.__call__ (one at a time), and None for the same data sets."""
    from analysis.power.cells import FactorialCells
    import analysis.power.simulated as sp

    exp = paradigms.get("pollock1998").experiment(1)
    fc = FactorialCells(exp)
    data = [sp._binary_draws(exp, n, np.random.default_rng(s)) for s in np.random.SeedSequence(3).spawn(150)]
    one, many = [fc(d) for d in data], fc.many(data)
    assert [a is None for a in one] == [b is None for b in many]
    pairs = [(x, y) for a, b in zip(one, many) if a is not None for x, y in zip(a, b)]
    assert len(pairs) >= 100 * 3 and all(abs(x - y) <= 1e-12 for x, y in pairs)
    assert n > 6 or any(a is None for a in one)          # the small n has irregular data sets to pass through
