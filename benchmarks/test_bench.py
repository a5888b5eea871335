"""Speed of the parts a session and an analysis spend their time in.

Groups and their baselines:
- ``store``: appending 200 rows through :class:`SessionStore` against writing the same rows
  with ``csv.writer`` once, under each durability policy: ``per_event`` (flush + fsync per row
  and journal event, what real sessions promise) and ``batched`` (blocks, one fsync at close).
- ``simulate``: a 300-participant data-only simulation through the real session logic
  against drawing the same number of Bernoulli outcomes with ``random``, under each policy
  (data-only runs use ``batched``; ``per_event`` is what they cost before issue 14).
  P4, 100,000 participants against numpy, is in ``test_bench_simulate.py``.
- ``load``: loading and validating a folder of session CSVs against ``pandas.read_csv``.
"""
from __future__ import annotations

import csv
import random

import pytest

import paradigms
from paradigms.engine.sessions import simulate
from paradigms.engine.store import SessionStore

P = paradigms.get("cialdini1975")
ROWS = [{"participant_id": f"P{i:05d}", "slot": i, "condition": "smaller_request_only", "excluded": 0,
         "debriefed": 1, "data_consent": 1, "t_start": "2026-01-01T10:00:00", "t_end": "2026-01-01T10:01:00",
         "complied": i % 2} for i in range(200)]


@pytest.mark.benchmark(group="store")
def test_store_csv_writer_baseline(benchmark, tmp_path):
    counter = iter(range(10**6))

    def write():
        with open(tmp_path / f"{next(counter)}.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=P.columns(1), extrasaction="ignore")
            w.writeheader()
            w.writerows(ROWS)
    benchmark(write)


@pytest.mark.benchmark(group="store")
@pytest.mark.parametrize("durability", ["per_event", "batched"])
def test_store_append(benchmark, tmp_path, durability):
    counter = iter(range(10**6))

    def write():
        with SessionStore(tmp_path, P, 1, "S1", "E1", session=next(counter) + 1, durability=durability) as store:
            for r in ROWS:
                store.append(r)
    benchmark.pedantic(write, rounds=5, iterations=1)


@pytest.mark.benchmark(group="simulate")
def test_simulate_random_draws_baseline(benchmark):
    rates = [r.p for r in P.experiment(1).model.rates.values()]

    def draw():
        rng = random.Random(1)
        return [rng.random() < rates[i % 3] for i in range(300)]
    benchmark(draw)


@pytest.mark.benchmark(group="simulate")
@pytest.mark.parametrize("durability", ["per_event", "batched"])
def test_simulate_data_only_300(benchmark, tmp_path, durability):
    counter = iter(range(10**6))
    # per_event fsyncs ~10 times a participant: 3 rounds of it are enough to see the price
    benchmark.pedantic(lambda: simulate(P, 1, 300, seed=1, data_dir=tmp_path / str(next(counter)),
                                        durability=durability),
                       rounds=3 if durability == "per_event" else 5, iterations=1)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    root = tmp_path_factory.mktemp("sessions")
    for s in range(1, 6):
        simulate(P, 1, 300, seed=s, data_dir=root, site=f"S{s}")
    return root


@pytest.mark.benchmark(group="load")
def test_load_read_csv_baseline(benchmark, sessions):
    import pandas as pd
    benchmark(lambda: pd.concat([pd.read_csv(p) for p in sorted(sessions.glob("*_data.csv"))]))


@pytest.mark.benchmark(group="load")
def test_load_and_validate(benchmark, sessions):
    from analysis import load_sessions
    benchmark(lambda: load_sessions(sessions))
