"""``compliance power STUDY --sites K --site-sd TAU --n N``: the multi-site flags, their JSON and errors."""
from __future__ import annotations

import json
import math

import pytest

import tests.cli.test_power as base
from tests.cli.test_power import js, run


@pytest.fixture(autouse=True)
def _capsys(capsys):
    base._CAP = capsys      # run() reads the command's output through the module's capsys


def test_sites_adds_a_multisite_key_and_keeps_every_other_key():
    plain = js("cialdini1975", "--n", "20")
    with_sites = js("cialdini1975", "--n", "20", "--sites", "4", "--site-sd", "0.2", "--simulations", "20",
                    "--seed", "3")
    assert set(plain) | {"multisite"} == set(with_sites)
    assert plain["multisite"] is None
    assert [c["power"] for c in plain["contrasts"]] == [c["power"] for c in with_sites["contrasts"]]
    ms = with_sites["multisite"]
    confirmatory = [c["label"] for c in plain["contrasts"]]
    assert [m["contrast"] for m in ms] == confirmatory
    assert all(m["sites"] == 4 and m["tau"] == 0.2 and m["simulations"] == 20 and m["data"] == "SIMULATED"
               for m in ms)
    assert ms[0]["n_control"] == 2 * ms[0]["n_treatment"] == 40      # 1:2, the declared allocation


def test_contrast_picks_one_and_the_text_says_simulated():
    r = run("cialdini1975", "--n", "20", "--sites", "3", "--site-sd", "0", "--contrast", "1",
            "--simulations", "20")
    block = r.stdout[r.stdout.index("Multi-site replication"):]
    assert block.count("SIMULATED") == 2 and block.count("  SIMULATED: ") == 1 and "door-in-the-face vs exposure control" in block
    assert "3 sites of n = 20 per condition" in block


def test_rates_with_sites():
    d = js("--rates", "0.5", "0.3", "--n", "30", "--sites", "5", "--site-sd", "0.1", "--simulations", "20",
           "--alternative", "greater")
    (m,) = d["multisite"]
    assert (m["p_treatment"], m["p_control"], m["alternative"], m["n_treatment"]) == (0.5, 0.3, "greater", 30)


@pytest.mark.parametrize("args,message", [
    (["cialdini1975", "--sites", "1", "--site-sd", "0.2", "--n", "20"], "--sites 1: give at least 2"),
    (["cialdini1975", "--sites", "1001", "--site-sd", "0.2", "--n", "20"], "--sites 1001: at most 1,000"),
    (["cialdini1975", "--sites", "900", "--site-sd", "0.2", "--n", "20", "--simulations", "10000"],
     "--simulations x --sites 9000000 site tables: at most 5,000,000"),
    (["cialdini1975", "--sites", "5", "--n", "20"], "--sites: give --site-sd TAU"),
    (["cialdini1975", "--sites", "5", "--site-sd", "-0.5", "--n", "20"], "--site-sd -0.5: a standard deviation"),
    (["cialdini1975", "--sites", "5", "--site-sd", "11", "--n", "20"], "--site-sd 11.0: at most 10"),
    (["cialdini1975", "--sites", "5", "--site-sd", "0.2"], "--sites: give --n N, the participants per condition at "
                                                           "each site, or --target POWER"),
    (["cialdini1975", "--sites", "5", "--site-sd", "0.2", "--target", "0.8", "--n-max", "20000"],
     "--n-max 20000 per condition: at most 10,000"),
    (["cialdini1975", "--site-sd", "0.2", "--n", "20"], "--site-sd goes with --sites"),
    (["cialdini1975", "--contrast", "0", "--n", "20"], "--contrast goes with --sites"),
    (["cialdini1975", "--knha", "--n", "20"], "--knha goes with --sites"),
    (["cialdini1975", "--sites", "5", "--site-sd", "0.2", "--n", "20", "--contrast", "9"],
     "--contrast 9: cialdini1975 experiment 1 has 4 contrasts"),
    (["pollock1998", "--sites", "5", "--site-sd", "0.2", "--n", "20"], "declares a FactorialLogitPlan"),
    (["regan1971", "--sites", "5", "--site-sd", "0.2", "--n", "20"], "declares a CountPlan"),
])
def test_bad_flags_are_refused_in_one_line_with_exit_2(args, message):
    r = run(*args, check=False)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("compliance: error: ") and message in lines[0], r.stderr
    assert r.stdout == ""


def test_sites_with_target_adds_the_n_per_site_and_keeps_every_other_key():
    """--sites K --site-sd TAU --target P: the n per condition per site at which the simulated power of
    the pooled test reaches P, under a new key; at that n the power (multisite_power itself, the same
    seed) is at or above P and at n - 1 below it."""
    from analysis.power.multisite import multisite_power

    plain = js("cialdini1975", "--sites", "6", "--site-sd", "0.3", "--n", "5", "--contrast", "1",
               "--simulations", "200", "--seed", "4")
    d = js("cialdini1975", "--sites", "6", "--site-sd", "0.3", "--n", "5", "--contrast", "1", "--target", "0.8",
           "--simulations", "200", "--seed", "4")
    assert set(plain) | {"multisite_sample_size"} == set(d) and d["multisite"] == plain["multisite"]
    (m,) = d["multisite_sample_size"]
    n = m["n"]
    assert m["data"] == "SIMULATED" and m["sites"] == 6 and m["tau"] == 0.3 and n >= 2
    at = multisite_power("cialdini1975", 1, 1, 6, n, 0.3, simulations=200, seed=4)
    below = multisite_power("cialdini1975", 1, 1, 6, n - 1, 0.3, simulations=200, seed=4)
    assert at.power == m["power"] >= 0.8 > below.power
    assert abs(m["start"] - n) <= max(2, 0.25 * n) and len(m["evaluated"]) <= 4    # the normal theory's start


def test_a_target_beyond_what_k_sites_can_give_says_more_sites():
    """With τ > 0 the pooled test's power tends to Φ(|θ|√K/τ − z) as n grows: a target above that is not
    reached by more participants per site; the search says so after one point at --n-max."""
    from scipy.stats import norm

    d = js("--rates", "0.5", "0.4", "--sites", "3", "--site-sd", "0.5", "--target", "0.9", "--n-max", "300",
           "--simulations", "100")
    (m,) = d["multisite_sample_size"]
    theta = math.log(0.5 / 0.5) - math.log(0.4 / 0.6)     # logit .5 - logit .4
    assert m["ceiling"] == pytest.approx(norm.cdf(theta * math.sqrt(3) / 0.5 - norm.ppf(0.975)), abs=1e-12)
    assert m["n"] is None and [e["n"] for e in m["evaluated"]] == [300] and "more sites" in m["apa"]


def test_the_console_script_refuses_too(cli):
    r = cli("power", "cialdini1975", "--sites", "0", "--site-sd", "0.2", "--n", "20")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert json  # the JSON tests above parse the command's own output
