"""Simulated power of the factorial logistic and count plans (analysis.power.simulated)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import paradigms
from analysis.stats.factorial import technique_by_price
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


def test_same_result_for_any_number_of_jobs_and_simulation_matches_direct_analysis():
    a = simulation_power("pollock1998", 1, n=15, simulations=4, seed=7, jobs=1)
    b = simulation_power("pollock1998", 1, n=15, simulations=4, seed=7, jobs=2)
    assert [t.rejections for t in a.tests] == [t.rejections for t in b.tests]
    # the first replicate, redrawn and analysed by hand with the same seed
    exp = paradigms.get("pollock1998").experiment(1)
    child = np.random.SeedSequence(7).spawn(4)[0]
    d = simulate_dataset(exp, 15, np.random.default_rng(child))
    r = technique_by_price(d, technique="technique", price="price", reason="reason", treatment="tna",
                           control="control")
    assert 0 <= r.interaction.p <= 1
    t = a.tests[0]
    assert t.simulations == 4 and t.power == t.rejections / 4
    assert t.mc_se == pytest.approx(math.sqrt(t.power * (1 - t.power) / 4))


def test_count_plan_simulation_reports_each_contrast():
    r = simulation_power("regan1971", 1, n=12, simulations=4, seed=1)
    names = [t.name for t in r.tests]
    assert any("t test of marginal means" in n for n in names)
    assert any("negative-binomial" in n for n in names)
    assert all(0 <= t.power <= 1 for t in r.tests)
    assert "analyze_count_plan" in r.analysis


def test_simulation_sample_size_doubles_then_bisects(monkeypatch):
    import analysis.power.simulated as sp

    calls = []

    def fake(paradigm, experiment, n, *a, **k):
        calls.append(n)
        pw = min(1.0, n / 100)          # power reaches 0.8 first at n = 80
        t = sp.SimulatedTest("interaction", int(pw * 100), 0, 100, pw, 0.0)
        return sp.SimulationPower("x", 1, "FactorialLogitPlan", n, 100, 1, 0.05, (t,), "fake", "fake")

    monkeypatch.setattr(sp, "simulation_power", fake)
    r = sp.simulation_sample_size("pollock1998", 1, target=0.8, n_start=10)
    assert r.n == 80 and r.power == pytest.approx(0.8)
    assert calls[:4] == [10, 20, 40, 80] and len(set(calls)) == len(calls)    # no n simulated twice
    none = sp.simulation_sample_size("pollock1998", 1, target=0.8, n_start=10, n_max=40)
    assert none.n is None and "stays below" in str(none)
