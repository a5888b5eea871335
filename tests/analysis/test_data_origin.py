"""Issue 16.9: simulated, pilot and real sessions are never pooled silently; every output made
from simulated data says so (table header, plot title, JSON field)."""
from __future__ import annotations

import json

import pytest

import paradigms
from analysis import DataValidationError, load_sessions


def _sim(d, site, seed, mode=None, pilot=None, n=24):
    """A simulated session, or (``mode`` given) one run by (scripted) people, as a real or pilot run."""
    if mode is not None:
        from tests.helpers.people import run_by_people
        return run_by_people(d, site, seed, n, pilot=bool(pilot))
    from paradigms.engine.sessions import simulate
    return simulate(paradigms.get("cialdini1975"), 1, n, seed=seed, data_dir=d, site=site)


@pytest.fixture
def mixed(tmp_path):
    d = tmp_path / "sessions"
    _sim(d / "real", "S1", 1, mode="run", pilot=False)
    _sim(d / "sim", "SIM", 2)
    return d


def test_simulated_and_real_sessions_are_not_pooled_without_asking(mixed, cli):
    with pytest.raises(DataValidationError, match=r"simulated sessions of cialdini1975 experiment 1 would be "
                                                  r"pooled with real sessions.*--include-simulated"):
        load_sessions(mixed)
    proc = cli("analyze", mixed)
    assert proc.returncode == 2 and "--include-simulated" in proc.stderr and "\n" not in proc.stderr.strip()


def test_pooled_on_request_and_labelled_simulated(mixed, cli, tmp_path):
    loaded = load_sessions(mixed, include_simulated=True)
    assert len(loaded.data) == 48
    assert loaded.origin_of("cialdini1975", 1) == ("real", "simulated")
    text = cli("analyze", mixed, "--include-simulated", check=0).stdout
    assert text.lstrip().startswith("SIMULATED DATA")
    js = json.loads(cli("analyze", mixed, "--include-simulated", "--json", check=0).stdout)
    assert js["simulated"] is True and js["data_origin"] == ["real", "simulated"]
    assert {"paradigm", "experiment", "conditions", "contrasts"} <= set(js)      # nothing renamed


def test_only_simulated_data_analyse_and_are_labelled(tmp_path, cli):
    _sim(tmp_path / "sim", "SIM", 3)
    proc = cli("analyze", tmp_path / "sim", "--json", check=0)
    js = json.loads(proc.stdout)
    assert js["simulated"] is True and js["data_origin"] == ["simulated"]
    assert "SIMULATED DATA" in cli("analyze", tmp_path / "sim", check=0).stdout


def test_real_data_are_not_labelled(tmp_path, cli):
    _sim(tmp_path / "real", "S1", 4, mode="run", pilot=False)
    js = json.loads(cli("analyze", tmp_path / "real", "--json", check=0).stdout)
    assert js["simulated"] is False and js["data_origin"] == ["real"]
    assert "SIMULATED" not in cli("analyze", tmp_path / "real", check=0).stdout


def test_pilot_and_real_need_include_pilot(tmp_path, cli):
    d = tmp_path / "s"
    _sim(d / "real", "S1", 5, mode="run", pilot=False)
    _sim(d / "pilot", "S2", 6, mode="pilot", pilot=True)
    proc = cli("analyze", d)
    assert proc.returncode == 2 and "pilot sessions" in proc.stderr and "--include-pilot" in proc.stderr
    js = json.loads(cli("analyze", d, "--include-pilot", "--json", check=0).stdout)
    assert js["data_origin"] == ["pilot", "real"] and js["simulated"] is False


def test_plot_title_says_simulated(mixed, cli, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    titles = []
    real_savefig = matplotlib.figure.Figure.savefig

    def spy(fig, *a, **k):
        titles.extend(ax.get_title() for ax in fig.axes)
        return real_savefig(fig, *a, **k)

    from analysis import cli as acli
    import argparse
    args = argparse.Namespace(paths=[str(mixed)], json=False, plot=str(tmp_path / "p.png"), force=False,
                              include_simulated=True, include_pilot=False)
    import io
    matplotlib.figure.Figure.savefig = spy
    try:
        acli.cmd_analyze(args, out=io.StringIO())
    finally:
        matplotlib.figure.Figure.savefig = real_savefig
    plt.close("all")
    assert titles and all("SIMULATED" in t for t in titles if t), titles
