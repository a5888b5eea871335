"""``power STUDY --target P`` (issue 26.2): the sample-size search against the linear scan, same run.

Group ``sample size STUDY``: the baseline is the linear scan of every n (the search before issue
26.2, kept as the definition in ``tests/analysis/test_power_sample_size.py``) on the study's first
confirmatory contrast with a published rate (its test, sidedness and allocation from
:func:`analysis.power.design.design_of`); beside it the search (:func:`sample_size_two_proportions`,
the same answers, checked) and the whole ``compliance power STUDY --target 0.8 --json`` in-process
(every confirmatory contrast and, for pollock1998 and regan1971, the simulated plan's search; the
goal is under 1 s).  Group ``sample size 50% vs 40%``: a small effect (n = 392 per group).  Group
``power --target, fresh process``: the command as a user runs it, each study in its own process,
against the least such a process can cost: importing numpy, pandas and scipy.stats, which the
command needs (about 0.8 s of its time on this machine).  Read the ratios printed after the run;
nothing is asserted on time.
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.power.exact import sample_size_two_proportions
from tests.analysis.test_power_sample_size import linear_reference

STUDIES = ("cialdini1975", "burger1986", "pollock1998")


def _case(study):
    from analysis.power.design import designs_of

    d = next(d for d in designs_of(study, 1) if d.p1 is not None and 0 < d.p1 < 1 and 0 < d.p2 < 1)
    return (d.p1, d.p2, 0.8, d.alpha, d.test, d.alternative, d.ratio)


def _params():
    return [pytest.param(s, marks=pytest.mark.benchmark(group=f"sample size {s}")) for s in STUDIES] + [
        pytest.param("small", marks=pytest.mark.benchmark(group="sample size 50% vs 40%"))]


def _args(study):
    return _case(study) if study != "small" else (0.5, 0.4, 0.8, 0.05, "chi2", "two-sided", 1.0)


_ROUNDS = dict(rounds=3, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("study", _params())
def test_linear_scan_baseline(benchmark, study):
    args = _args(study)
    out = benchmark.pedantic(lambda: linear_reference(*args), **_ROUNDS)
    assert out[0] is not None


@pytest.mark.parametrize("study", _params())
def test_search(benchmark, study):
    args = _args(study)
    r = benchmark.pedantic(lambda: sample_size_two_proportions(*args), **_ROUNDS)
    first, _, stable, bound, _, _ = linear_reference(*args)
    assert (r.n_first, r.n_stable, r.n_bound) == (first, stable, bound)


@pytest.mark.parametrize("study", [pytest.param(s, marks=pytest.mark.benchmark(group=f"sample size {s}"))
                                   for s in STUDIES + ("regan1971",)])
def test_power_command_target(benchmark, study):
    from analysis.commands.power import cmd_power, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    ns = parser.parse_args(["power", study, "--target", "0.8", "--json"])
    cmd_power(ns, out=io.StringIO())                  # imports and the study's design cached before the clock
    code = benchmark.pedantic(lambda: cmd_power(ns, out=io.StringIO()), **_ROUNDS)
    assert code == 0


_FRESH = dict(rounds=3, iterations=1, warmup_rounds=1)
_BIN = Path(sys.executable).parent


def _run(argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.benchmark(group="power --target, fresh process")
def test_import_libraries_baseline(benchmark):
    benchmark.pedantic(_run, args=([sys.executable, "-c", "import numpy, pandas, scipy.stats"],), **_FRESH)


@pytest.mark.benchmark(group="power --target, fresh process")
@pytest.mark.parametrize("study", STUDIES + ("regan1971",))
def test_power_target_fresh_process(benchmark, study):
    benchmark.pedantic(_run, args=([str(_BIN / "compliance"), "power", study, "--target", "0.8"],), **_FRESH)
