"""Multi-site simulation (issue 25): ``--site-sd`` for the count model (Regan), and each site of one
``simulate`` call with its own stream.

Tolerances are derived from the number of simulated sites (four standard errors of the statistic
under the model), not chosen to pass: every draw is seeded, so each test is fixed, and a change that
moved a statistic by more than sampling error would fail it.
"""
from __future__ import annotations

import json
import math
import subprocess
import zlib

import numpy as np
import pandas as pd
import pytest

import paradigms
from analysis.stats.effects import log_ratio_of_means
from paradigms.engine.sessions import SITE_STREAM_RULE, simulate, simulate_sites, site_seed, site_shifted
from paradigms.errors import UsageError
from tests.conftest import BIN

REGAN = paradigms.get("regan1971")
BASE = REGAN.experiment(1).model
TREATED = [c.name for c in REGAN.experiment(1).conditions if c.role == "treatment"]
CONTROLS = [c.name for c in REGAN.experiment(1).conditions if c.role == "control"]


def _u(model, cell="confederate_favor_pleasant") -> float:
    return math.log(model.cell_means[cell].mean / BASE.cell_means[cell].mean)


# --------------------------------------------------------------------------- #
# 1. --site-sd for a count model
# --------------------------------------------------------------------------- #
def test_count_site_shift_moves_every_treated_cells_log_mean_by_one_draw_and_leaves_controls():
    m = site_shifted(REGAN, 1, BASE, "S4", 7, 0.5)
    u = _u(m)
    assert u != 0
    for c in TREATED:
        assert math.log(m.cell_means[c].mean / BASE.cell_means[c].mean) == pytest.approx(u, abs=1e-12)
        assert f"log mean shifted by {u:+.4f} at site S4 (--site-sd 0.5)" in m.cell_means[c].source
    for c in CONTROLS:
        assert m.cell_means[c] == BASE.cell_means[c]
    # everything but the means is the declared model
    assert (m.dispersion, m.liking_slope, m.max_tickets) == (BASE.dispersion, BASE.liking_slope, BASE.max_tickets)
    assert site_shifted(REGAN, 1, BASE, "S4", 7, 0.5) == m                      # seeded
    assert _u(site_shifted(REGAN, 1, BASE, "S5", 7, 0.5)) != u                  # another site, another draw
    zero = BASE.with_means({"confederate_favor_pleasant": 0.0})                 # a mean of 0 stays 0
    assert site_shifted(REGAN, 1, zero, "S4", 7, 0.5).cell_means["confederate_favor_pleasant"].mean == 0.0
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(UsageError, match="positive number"):
            site_shifted(REGAN, 1, BASE, "S4", 7, bad)


@pytest.mark.parametrize("sd", [0.2, 0.5])
def test_count_site_shifts_have_the_declared_sd(sd):
    k = 400
    us = np.array([_u(site_shifted(REGAN, 1, BASE, f"S{i}", 11, sd)) for i in range(k)])
    # under N(0, sd): SE of the sample SD ~ sd / sqrt(2 (k - 1)), SE of the mean sd / sqrt(k)
    assert abs(us.std(ddof=1) - sd) < 4 * sd / math.sqrt(2 * (k - 1))
    assert abs(us.mean()) < 4 * sd / math.sqrt(k)


def test_simulated_tickets_carry_the_site_shift_so_tau_of_the_ratio_of_means_is_the_sd():
    """The participants drawn at each site (the generator the simulated lab session uses): the
    site's observed log ratio of means (confederate favor vs no favor) moves one for one with its
    drawn shift u, and its between-site variance beyond sampling error is sd^2."""
    sd, k, n = 0.5, 200, 12
    design = REGAN.session.design
    treat = list(TREATED)
    ctrl = [c for c in CONTROLS if c.startswith("no_favor")]
    rng = np.random.default_rng(2025)
    us, yi, vi = [], [], []
    for i in range(k):
        m = site_shifted(REGAN, 1, BASE, f"L{i}", 3, sd)
        t = [m.draw(c, rng, design).tickets for c in treat for _ in range(n)]
        c = [m.draw(c, rng, design).tickets for c in ctrl for _ in range(n)]
        e = log_ratio_of_means(np.mean(t), np.std(t, ddof=1), len(t), np.mean(c), np.std(c, ddof=1), len(c))
        us.append(_u(m))
        yi.append(e.yi)
        vi.append(e.vi)
    us, yi, vi = map(np.array, (us, yi, vi))
    # slope of yi on u: 1 (the shift reaches the data), to 4 OLS standard errors
    slope, icpt = np.polyfit(us, yi, 1)
    resid = yi - (slope * us + icpt)
    se = math.sqrt(resid.var(ddof=2) / (k * us.var()))
    assert abs(slope - 1) < 4 * se
    # the intercept is the declared (unshifted) log ratio of means
    declared = math.log(np.mean([BASE.cell_means[c].mean for c in treat]) /
                        np.mean([BASE.cell_means[c].mean for c in ctrl]))
    assert abs(icpt - declared) < 4 * resid.std(ddof=2) / math.sqrt(k)
    # tau^2 by moments: var(yi) - mean(vi) = sd^2; SE of a normal sample variance var * sqrt(2 / (k - 1))
    tau2 = yi.var(ddof=1) - vi.mean()
    assert abs(tau2 - sd ** 2) < 4 * yi.var(ddof=1) * math.sqrt(2 / (k - 1))


def test_cli_simulates_a_multisite_regan_folder_and_pool_says_simulated(tmp_path):
    d = tmp_path / "labs"
    run = subprocess.run([str(BIN / "compliance"), "simulate", "regan1971", "--participants", "36", "--seed", "4",
                          "--site", "A", "--site", "B,C,D", "--site-sd", "0.4", "--data-dir", str(d), "--quiet"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("simulated 36 participants at site") == 4
    side = json.loads(next(d.glob("*site-C*_data.json")).read_text())
    assert "log mean shifted by" in side["simulation_model"]["cell_means"]["confederate_favor_pleasant"]["source"]
    assert "shifted" not in side["simulation_model"]["cell_means"]["no_favor_pleasant"]["source"]
    pool = subprocess.run([str(BIN / "compliance"), "pool", str(d)], capture_output=True, text=True)
    assert pool.returncode == 0, pool.stderr
    assert pool.stdout.startswith("SIMULATED DATA") and "4 sites (by 'site')" in pool.stdout
    assert "[ROM: log ratio of means" in pool.stdout and "[SMD:" in pool.stdout
    js = json.loads(subprocess.run([str(BIN / "compliance"), "pool", str(d), "--json"], capture_output=True,
                                   text=True).stdout)
    assert js["simulated"] is True and js["n_sites"] == 4
    assert [s["site"] for s in js["pools"][1]["sites"]] == ["A", "B", "C", "D"]


# --------------------------------------------------------------------------- #
# 3. several sites in one call: a stream each
# --------------------------------------------------------------------------- #
BURGER = paradigms.get("burger1986")


def _csv(res) -> bytes:
    return res.csv_path.read_bytes()


def _outcomes(res) -> list:
    df = pd.read_csv(res.csv_path)
    return list(zip(df["condition"], df["complied"]))


def test_site_seed_is_the_seedsequence_of_seed_and_crc32_of_the_site():
    want = int(np.random.SeedSequence([7, zlib.crc32(b"Lab1")]).generate_state(1)[0])
    assert site_seed(7, "Lab1") == want
    assert site_seed(7, "Lab2") != want and site_seed(8, "Lab1") != want
    with pytest.raises(UsageError, match="--seed must be 0 or more"):
        site_seed(-1, "Lab1")


def test_two_sites_of_one_call_differ_and_the_same_call_twice_gives_identical_files(tmp_path):
    a = simulate_sites(BURGER, 1, 60, 5, ["L1", "L2"], tmp_path / "a")
    b = simulate_sites(BURGER, 1, 60, 5, ["L1", "L2"], tmp_path / "b")
    assert _outcomes(a[0]) != _outcomes(a[1])                   # its own stream: schedule and answers
    assert [_csv(r) for r in a] == [_csv(r) for r in b]         # reproducible
    side = json.loads(a[1].sidecar_path.read_text())
    assert side["seed"] == site_seed(5, "L2")
    assert side["site_stream"] == {"call_seed": 5, "site_seed": site_seed(5, "L2"), "sites_in_call": ["L1", "L2"],
                                   "rule": SITE_STREAM_RULE}
    # one site of the call, simulated alone with its derived seed, is the same data
    alone = simulate(BURGER, 1, 60, site_seed(5, "L2"), tmp_path / "c", site="L2")
    assert _csv(alone) == _csv(a[1])


def test_one_site_is_exactly_simulate_with_the_seed_as_given(tmp_path):
    (one,) = simulate_sites(BURGER, 1, 40, 5, ["L1"], tmp_path / "a", site_sd=0.5)
    direct = simulate(BURGER, 1, 40, 5, tmp_path / "b", site="L1", site_sd=0.5)
    assert _csv(one) == _csv(direct)
    assert "site_stream" not in json.loads(one.sidecar_path.read_text())
    assert json.loads(one.sidecar_path.read_text())["seed"] == 5


def test_bad_sites_are_refused_before_anything_is_written(tmp_path):
    d = tmp_path / "d"
    for sites, msg in ((["A", "A"], "given twice"), (["A", "B C"], "letters and digits")):
        run = subprocess.run([str(BIN / "compliance"), "simulate", "burger1986", "--participants", "5",
                              *[x for s in sites for x in ("--site", s)], "--data-dir", str(d)],
                             capture_output=True, text=True)
        assert run.returncode == 2 and msg in run.stderr and len(run.stderr.strip().splitlines()) == 1
        assert not list(d.glob("*_data.csv")) if d.exists() else True
    simulate_sites(BURGER, 1, 5, 1, ["A"], d, session=2)
    with pytest.raises(Exception, match="session 2 of site A already exists"):
        simulate_sites(BURGER, 1, 5, 1, ["B", "A"], d, session=2)
    assert not list(d.glob("*site-B*"))


def test_a_second_single_site_call_with_the_same_seed_keeps_its_data_and_says_so(tmp_path):
    """The decided rule: a one-site call's data never depend on the site code (pinned seeds keep their
    files); the command notes a folder whose other sites were simulated with the same seed."""
    def run(site, seed):
        return subprocess.run([str(BIN / "compliance"), "simulate", "burger1986", "--participants", "20", "--seed",
                               str(seed), "--site", site, "--data-dir", str(tmp_path), "--quiet"],
                              capture_output=True, text=True)
    assert run("A", 3).stderr == ""
    b = run("B", 3)
    assert b.returncode == 0 and "note: site A was simulated" in b.stderr and "--seed 3" in b.stderr
    assert run("C", 4).stderr == ""

    frame = lambda s: pd.read_csv(next(tmp_path.glob(f"*site-{s}_*_data.csv")))  # noqa: E731
    assert list(frame("A")["complied"]) == list(frame("B")["complied"])
    assert list(frame("A")["condition"]) == list(frame("B")["condition"])
    assert list(frame("A")["participant_id"]) != list(frame("B")["participant_id"])   # pseudonyms are per site
