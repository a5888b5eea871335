"""P4 (issue 14): 100,000 data-only simulated participants, against drawing the same outcomes in numpy.

Group ``P4-simulate-100k``.  The baseline draws, for each condition of Cialdini et al.'s
Experiment 1, as many Bernoulli outcomes as the schedule gives it, at the model's rate
(``rng.random(n) < p``): the least a simulation must do.  Beside it, ``compliance simulate``'s
work (:func:`paradigms.engine.sessions.simulate`): each of the 100,000 passers-by goes through
the real session logic (the trial state machine the screens use) and is written to the session
CSV and its event journal, batched as data-only runs are (one fsync at close).  The ratio is the
price of the real session code and the files; the goal is 100,000 participants in <= 10 s.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

import paradigms
from paradigms.engine.schedule import make_schedule
from paradigms.engine.sessions import simulate

P = paradigms.get("cialdini1975")
N = 100_000


@pytest.fixture(scope="module")
def per_condition():
    slots = make_schedule(P, 1, N, seed=1).slots
    rates = P.experiment(1).model.rates
    counts: dict[str, int] = {}
    for s in slots:
        counts[s.condition] = counts.get(s.condition, 0) + 1
    return [(n, rates[c].p) for c, n in counts.items()]


@pytest.mark.benchmark(group="P4-simulate-100k")
def test_p4_numpy_draws_baseline(benchmark, per_condition):
    def draw():
        rng = np.random.default_rng(1)
        return [rng.random(n) < p for n, p in per_condition]
    out = benchmark(draw)
    assert sum(len(x) for x in out) == N


@pytest.mark.benchmark(group="P4-simulate-100k")
def test_p4_simulate_data_only_100k(benchmark, tmp_path):
    counter = iter(range(10**6))
    cpu = []

    def run():
        t0 = time.process_time()
        res = simulate(P, 1, N, seed=1, data_dir=tmp_path / str(next(counter)))
        cpu.append(time.process_time() - t0)
        return res
    res = benchmark.pedantic(run, rounds=2, iterations=1)
    # on a shared machine the wall time includes waiting for a core: the CPU time says what the work costs
    benchmark.extra_info["cpu_s"] = min(cpu)
    assert res.rows == N


# Issue 26.4: every study at 100,000 participants (kunz1976: cards, each a dispatch and an outcome record)
# data-only, beside the same numpy draws as P4's baseline.  The goal is 100,000 of any study within 20 s
# of CPU; the ratio summary (benchmarks/conftest.py) prints each study's wall time as a multiple of the
# numpy draws and its CPU time (time.process_time) beside it.  Nothing is asserted: the machine is
# shared.  Before issue 26.4's loop work regan1971 took 11.7 s CPU for 20,000 (about 58 s for 100,000).
# With the loop's path for an IO that shows nothing (loop._run_unseen) one run here gave, CPU for 100,000:
# regan1971 18.2 s, kunz1976 10.5, pollock1998 4.7, burger1986 4.4, cialdini1975 4.0 (machine shared by three).
STUDIES = ["cialdini1975", "burger1986", "pollock1998", "regan1971", "kunz1976"]


@pytest.mark.benchmark(group="P4-simulate-100k-each (goal: CPU <= 20 s)")
def test_p4_each_numpy_draws_baseline(benchmark, per_condition):
    def draw():
        rng = np.random.default_rng(1)
        return [rng.random(n) < p for n, p in per_condition]
    out = benchmark(draw)
    assert sum(len(x) for x in out) == N


@pytest.mark.benchmark(group="P4-simulate-100k-each (goal: CPU <= 20 s)")
@pytest.mark.parametrize("pid", STUDIES)
def test_p4_simulate_each_study_100k(benchmark, tmp_path, pid):
    p = paradigms.get(pid)
    times = []

    def run():
        c0, w0 = time.process_time(), time.perf_counter()
        res = simulate(p, 1, N, seed=1, data_dir=tmp_path / "run")
        times.append((time.process_time() - c0, time.perf_counter() - w0))
        return res
    res = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["cpu_s"], benchmark.extra_info["wall_s"] = times[0]
    assert res.rows >= N
