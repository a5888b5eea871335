"""Speed of ``compliance pool`` at scale, as ratios to loading the same files.

Group ``pool``: the baseline loads and validates 500 sites' session files
(:func:`analysis.load.sessions.load_sessions`); beside it, pooling those 500 sites (load
included), and pooling already loaded data at 500 and at 5 sites.  Pooling works
on per-site counts, so the pooled part should add little to the load, and 500
sites little more than 5.  Each site has two participants per condition (3,000 rows):
the loader, not pooling, sets the pace, so the files are kept small.
"""
from __future__ import annotations

import random

import pytest

import paradigms
from analysis.load.sessions import load_sessions
from analysis.meta.pooling import pool
from analysis.load.synthetic import rows_from_counts, write_session_csv

STUDY, EXP = "cialdini1975", 1   # three confirmatory contrasts
P = paradigms.get(STUDY)
RATES = {"rejection_moderation": 0.5, "exposure_control": 0.25, "smaller_request_only": 0.17}


def _write_sites(root, k: int, per_condition: int = 2):
    rng = random.Random(k)
    cols = P.columns(EXP)
    for i in range(1, k + 1):
        counts = {c: (sum(rng.random() < p for _ in range(per_condition)), per_condition) for c, p in RATES.items()}
        stem = f"study-{STUDY}_exp-{EXP}_site-S{i}_session-1"
        write_session_csv(root / f"{stem}_data.csv",
                          rows_from_counts(STUDY, EXP, counts, site=f"S{i}", id_prefix=f"{stem}-"), cols)
    return root


@pytest.fixture(scope="module")
def sites500(tmp_path_factory):
    return _write_sites(tmp_path_factory.mktemp("pool500"), 500)


@pytest.fixture(scope="module")
def sites5(tmp_path_factory):
    return _write_sites(tmp_path_factory.mktemp("pool5"), 5)


@pytest.mark.benchmark(group="pool")
def test_pool_load_500_sites_baseline(benchmark, sites500):
    benchmark.pedantic(lambda: load_sessions(sites500), rounds=1, iterations=1)


@pytest.mark.benchmark(group="pool")
def test_pool_500_sites_from_files(benchmark, sites500):
    benchmark.pedantic(lambda: pool(sites500), rounds=1, iterations=1)


@pytest.fixture(scope="module")
def loaded500(sites500):
    return load_sessions(sites500)


@pytest.mark.benchmark(group="pool")
def test_pool_500_sites_loaded(benchmark, loaded500):
    benchmark.pedantic(lambda: pool(loaded500), rounds=5, iterations=1)


@pytest.mark.benchmark(group="pool")
def test_pool_5_sites_loaded(benchmark, sites5):
    loaded = load_sessions(sites5)
    benchmark.pedantic(lambda: pool(loaded), rounds=5, iterations=1)
