"""``analysis.pool`` and ``compliance pool`` on session files; ``simulate --site/--site-sd``.

The end-to-end figures are the metafor values of ``tests/analysis/test_meta_pooling.py`` (same tables,
written as session files of a two-condition paradigm), so pooling from files is checked
against R too.
"""
from __future__ import annotations

import json
import math
import random
import statistics

import numpy as np
import pandas as pd
import pytest

import paradigms
from analysis import AnalysisError, DataValidationError, pool
from analysis.meta.pooling import PoolWarning
from analysis.results import jsonable
from analysis.load.synthetic import rows_from_counts, write_session_csv
from tests.analysis.test_meta_pooling import FIELDS, METAFOR, METAFOR_MH, N1, N2, SITES, X1, X2

STUDY, EXP = "burger1986", 1   # thats_not_all (treatment) vs control: one confirmatory contrast


def _write_site(root, site, counts, study=STUDY, exp=EXP, session=1, experimenter="E1", sidecar=None):
    stem = f"study-{study}_exp-{exp}_site-{site}_session-{session}"
    rows = rows_from_counts(study, exp, counts, site=site, session=session, experimenter=experimenter,
                            id_prefix=f"{stem}-")
    path = write_session_csv(root / f"{stem}_data.csv", rows, paradigms.get(study).columns(exp))
    if sidecar is not None:
        (root / f"{stem}_data.json").write_text(json.dumps({"site": site, "experimenter": experimenter,
                                                            **sidecar}), encoding="utf-8")
    return path


@pytest.fixture
def eight_sites(tmp_path):
    for s, a, n, c, m in zip(SITES, X1, N1, X2, N2):
        _write_site(tmp_path / s.lower(), s, {"thats_not_all": (a, n), "control": (c, m)})
    return tmp_path


def test_pool_from_files_matches_metafor(eight_sites):
    res = pool(eight_sites, method="REML")
    assert (res.study, res.experiment, res.by, res.n_sites) == (STUDY, EXP, "site", 8)
    (c,) = res.contrasts
    assert [s.site for s in c.sites] == SITES
    assert [(s.complied_treatment, s.n_treatment, s.complied_control, s.n_control) for s in c.sites] == \
        list(zip(X1, N1, X2, N2))
    for r in c.random:
        np.testing.assert_allclose([getattr(r, f) for f in FIELDS], METAFOR[("log_or", r.method, "z")], atol=1e-6)
    for r in c.random_rd:
        np.testing.assert_allclose([getattr(r, f) for f in FIELDS], METAFOR[("rd", r.method, "z")], atol=1e-6)
    np.testing.assert_allclose([c.fixed.mh_log_or, c.fixed.mh_se], METAFOR_MH[:2], atol=1e-6)
    assert c.headline.method == "REML" and c.sites[4].corrected
    assert "1 site(s) with a zero cell: 0.5 added" in " ".join(c.notes)
    knha = pool(eight_sites, method="pm", knha=True).contrasts[0].headline
    np.testing.assert_allclose([getattr(knha, f) for f in FIELDS], METAFOR[("log_or", "PM", "knha")], atol=1e-6)


def test_excluded_and_withdrawn_rows_are_not_pooled(eight_sites, tmp_path):
    path = next((eight_sites / "s1").glob("*_data.csv"))
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    extra = df.iloc[[0, 1]].copy()
    extra["participant_id"] = ["x-excluded", "x-withdrawn"]
    extra["slot"] = [str(len(df) + 1), str(len(df) + 2)]   # new slots: a slot filled twice is refused
    extra["excluded"] = ["1", "0"]
    extra["exclusion_reason"] = ["knows_requester", ""]
    extra["data_consent"] = ["1", "0"]
    pd.concat([df, extra]).to_csv(path, index=False)
    s1 = pool(eight_sites).contrasts[0].sites[0]
    assert (s1.complied_treatment, s1.n_treatment) == (X1[0], N1[0])


def test_a_site_missing_a_condition_is_reported_and_left_out(eight_sites):
    _write_site(eight_sites / "s9", "S9", {"thats_not_all": (5, 10)})
    (c,) = pool(eight_sites).contrasts
    assert c.left_out == (("S9", "no analysed participant in control"),)
    assert len(c.sites) == 8 and c.headline.k == 8
    np.testing.assert_allclose(c.headline.estimate, METAFOR[("log_or", "REML", "z")][0], atol=1e-6)
    assert "left out" in str(c) and "S9" in " ".join(c.notes)


def test_to_frame_has_a_row_per_site_and_per_pooled_estimate(eight_sites):
    res = pool(eight_sites)
    f = res.to_frame()
    sites = f[(f["row"] == "site") & (f["measure"] == "log_or")]
    assert list(sites["label"]) == SITES
    assert math.isclose(sites["weight"].sum(), 100.0)
    pooled = f[f["row"] == "pooled"]
    assert sorted(zip(pooled["measure"], pooled["method"])) == sorted(
        (m, e) for m in ("log_or", "rd") for e in ("DL", "REML", "PM"))
    reml = pooled[(pooled["measure"] == "log_or") & (pooled["method"] == "REML")].iloc[0]
    np.testing.assert_allclose(reml[["estimate", "se", "tau2", "i2", "pi_low", "pi_high"]].astype(float),
                               np.array(METAFOR[("log_or", "REML", "z")])[[0, 1, 6, 7, 11, 12]], atol=1e-6)
    assert set(f["row"]) == {"site", "pooled", "fixed"}
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["contrasts"][0]["headline"]["method"] == "REML"
    assert len(d["contrasts"][0]["sites"]) == 8 and d["methods"]["REML"].startswith("restricted")


def test_different_experiments_in_one_call_are_refused(tmp_path):
    _write_site(tmp_path, "S1", {"thats_not_all": (5, 10), "control": (3, 10)})
    _write_site(tmp_path, "S2", {"price_reduction": (5, 10), "price_reduction_control": (3, 10)}, exp=2)
    with pytest.raises(AnalysisError, match="different experiments in one call: burger1986 experiment 1 .*"
                                            "burger1986 experiment 2"):
        pool(tmp_path)


def test_one_site_only_is_refused(tmp_path):
    _write_site(tmp_path, "S1", {"thats_not_all": (5, 10), "control": (3, 10)})
    _write_site(tmp_path, "S1", {"thats_not_all": (5, 10), "control": (3, 10)}, session=2)
    with pytest.raises(AnalysisError, match=r"only one site \(S1\).*at least two"):
        pool(tmp_path)


def test_a_missing_site_label_names_file_line_and_column(eight_sites):
    path = next((eight_sites / "s2").glob("*_data.csv"))
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[3, "site"] = ""
    df.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match=r"site-S2_session-1_data.csv: line 5 \(data row 4\), "
                                                  r"column 'site': empty"):
        pool(eight_sites)
    with pytest.raises(AnalysisError, match="no column 'lab' to pool by"):
        pool(eight_sites / "s1", eight_sites / "s3", by="lab")


def test_a_site_label_that_disagrees_with_its_file_name_or_sidecar_is_refused(tmp_path):
    _write_site(tmp_path, "S1", {"thats_not_all": (5, 10), "control": (3, 10)})
    p = _write_site(tmp_path, "S2", {"thats_not_all": (5, 10), "control": (3, 10)})
    p.rename(p.with_name(p.name.replace("site-S2", "site-S3")))
    with pytest.raises(AnalysisError, match="the file name says site 'S3' but column 'site' says 'S2'"):
        pool(tmp_path)
    other = tmp_path / "b"
    _write_site(other, "S1", {"thats_not_all": (5, 10), "control": (3, 10)})
    p = _write_site(other, "S2", {"thats_not_all": (5, 10), "control": (3, 10)}, sidecar={})
    side = p.with_name(p.name.replace(".csv", ".json"))
    side.write_text(json.dumps({"site": "S7"}))
    with pytest.raises(AnalysisError, match="field 'site' is 'S7'"):
        pool(other)


def test_one_label_with_two_schedules_is_a_stated_warning(tmp_path):
    _write_site(tmp_path, "S1", {"thats_not_all": (5, 10), "control": (3, 10)}, experimenter="E1",
                sidecar={"schedule_sha256": "a" * 64})
    _write_site(tmp_path, "S1", {"thats_not_all": (6, 10), "control": (2, 10)}, session=2, experimenter="E2",
                sidecar={"schedule_sha256": "b" * 64})
    _write_site(tmp_path, "S2", {"thats_not_all": (4, 10), "control": (3, 10)}, sidecar={"schedule_sha256": "c" * 64})
    with pytest.warns(PoolWarning, match="site 'S1': sessions follow 2 different pre-registered schedules"):
        res = pool(tmp_path)
    assert any("E1" in n and "E2" in n for n in res.notes)
    assert "two sites under one label" in str(res)
    s1 = res.contrasts[0].sites[0]
    assert (s1.complied_treatment, s1.n_treatment) == (11, 20)  # pooled as one site, and said so


def test_count_paradigms_are_pooled_by_smd_and_rom_and_say_simulated(tmp_path):
    # issue 25.1: Regan is pooled (it was refused); every site's g is recomputed here from the raw rows
    from paradigms.engine.sessions import simulate

    for i, s in enumerate(("S1", "S2", "S3")):
        simulate(paradigms.get("regan1971"), 1, 24, seed=3 + i, data_dir=tmp_path, site=s)
    res = pool(tmp_path)
    assert res.contrasts == () and [p.measure for p in res.pools[:2]] == ["SMD", "ROM"]
    assert res.simulated and str(res).startswith("SIMULATED DATA") and jsonable(res)["simulated"] is True
    exp = paradigms.get("regan1971").experiment(1)
    k = exp.plan.confirmatory[0] if hasattr(exp.plan, "confirmatory") else [c for c in exp.plan.contrasts
                                                                            if c.confirmatory][0]
    rows = pd.concat(pd.read_csv(f) for f in sorted(tmp_path.rglob("*_data.csv")))
    rows = rows[rows["excluded"] != 1]
    smd = res.pools[0]
    for sv in smd.sites:
        d = rows[rows["site"] == sv.site]
        t = d[d["condition"].isin(exp.members(k.treatment, k.factor))]["tickets"].to_numpy(float)
        c = d[d["condition"].isin(exp.members(k.control, k.factor))]["tickets"].to_numpy(float)
        m = len(t) + len(c) - 2
        sp = math.sqrt(((len(t) - 1) * t.var(ddof=1) + (len(c) - 1) * c.var(ddof=1)) / m)
        j = math.exp(math.lgamma(m / 2) - math.log(math.sqrt(m / 2)) - math.lgamma((m - 1) / 2))
        assert sv.yi == pytest.approx(j * (t.mean() - c.mean()) / sp, rel=1e-10)
        assert sv.n == len(t) + len(c)


# --------------------------------------------------------------------------- #
# simulate --site / --site-sd
# --------------------------------------------------------------------------- #
def test_site_shift_moves_every_treatment_log_odds_by_one_draw_and_leaves_controls():
    from paradigms.engine.sessions import site_shifted

    p = paradigms.get("cialdini1975")
    base = p.experiment(1).model
    m = site_shifted(p, 1, base, "S4", 7, 0.5)
    logit = lambda q: math.log(q / (1 - q))  # noqa: E731
    u = logit(m.rates["rejection_moderation"].p) - logit(base.rates["rejection_moderation"].p)
    assert u != 0 and "shifted by" in m.rates["rejection_moderation"].source
    for c in ("exposure_control", "smaller_request_only"):
        assert m.rates[c] == base.rates[c]
    assert site_shifted(p, 1, base, "S4", 7, 0.5) == m                       # seeded
    assert site_shifted(p, 1, base, "S5", 7, 0.5).rates != m.rates           # another site, another draw
    # the draws have the SD asked for: 400 sites, seeded, so this is fixed, not flaky
    us = [logit(site_shifted(p, 1, base, f"S{i}", 1, 0.5).rates["rejection_moderation"].p) for i in range(400)]
    assert 0.45 < statistics.stdev(us) < 0.55
    # a count model is shifted too (tests/engine/test_simulate_sites.py); a model of neither kind is refused
    with pytest.raises(ValueError, match="neither a binary nor a count model"):
        site_shifted(p, 1, object(), "S1", 1, 0.5)


def test_simulated_multisite_replication_pools_end_to_end(cli, tmp_path):
    for i in range(1, 5):
        cli("simulate", "burger1986", "--participants", 60, "--seed", i, "--site", f"Lab{i}", "--site-sd", 0.5,
            "--data-dir", tmp_path / f"site{i}", "--quiet", check=0)
    side = json.loads(next((tmp_path / "site3").glob("*_data.json")).read_text())
    assert side["site"] == "Lab3"
    assert "shifted by" in side["simulation_model"]["rates"]["thats_not_all"]["source"]
    assert "shifted" not in side["simulation_model"]["rates"]["control"]["source"]
    proc = cli("pool", *sorted(tmp_path.glob("site*")), "--plot", tmp_path / "forest.png", check=0)
    assert "4 sites (by 'site')" in proc.stdout and "REML, k = 4" in proc.stdout
    assert (tmp_path / "forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    js = cli("pool", tmp_path, "--by", "site", "--method", "dl", "--json", check=0)
    d = json.loads(js.stdout)
    assert d["n_sites"] == 4 and d["contrasts"][0]["headline"]["method"] == "DL"
    assert [s["site"] for s in d["contrasts"][0]["sites"]] == ["Lab1", "Lab2", "Lab3", "Lab4"]
    direct = pool(tmp_path, method="DL").contrasts[0].headline
    assert math.isclose(d["contrasts"][0]["headline"]["estimate"], direct.estimate, rel_tol=1e-12)


def test_cli_bad_input_is_one_line_and_exit_2(cli, tmp_path):
    _write_site(tmp_path, "S1", {"thats_not_all": (5, 10), "control": (3, 10)})
    proc = cli("pool", tmp_path, "--plot", tmp_path / "forest.png")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("compliance: error: only one site (S1)") and proc.stderr.count("\n") == 1
    assert not (tmp_path / "forest.png").exists()
    proc = cli("pool", tmp_path, "--plot", tmp_path / "nowhere" / "f.png")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    _write_site(tmp_path, "S2", {"thats_not_all": (5, 10), "control": (3, 10)})
    for extra in ((), ("--force",)):
        proc = cli("pool", tmp_path, "--plot", notes, *extra)
        assert proc.returncode == 2 and ("already exists" in proc.stderr or "is not an image" in proc.stderr)
    assert notes.read_text() == "my notes"



# --------------------------------------------------------------------------- #
# --include-original
# --------------------------------------------------------------------------- #
@pytest.fixture
def ditf_sites(tmp_path):
    counts = [(14, 30, 9, 30, 5, 30), (11, 28, 8, 29, 6, 30), (17, 30, 6, 30, 7, 31), (9, 25, 7, 25, 3, 26)]
    for i, (a, n, b, m, c, o) in enumerate(counts, start=1):
        _write_site(tmp_path, f"S{i}", {"rejection_moderation": (a, n), "exposure_control": (b, m),
                                        "smaller_request_only": (c, o)}, study="cialdini1975", exp=1)
    return tmp_path


def test_include_original_adds_a_marked_row_and_pools_with_and_without_it(ditf_sites):
    from analysis.meta.pooling import random_effects
    from analysis.replication.original import original_effect

    plain = pool(ditf_sites)
    res = pool(ditf_sites, include_original=True)
    assert res.include_original and not plain.include_original
    exp = paradigms.get("cialdini1975").experiment(1)
    for k, c, c0 in zip(exp.plan.confirmatory, res.contrasts, plain.contrasts):
        oe = original_effect("cialdini1975", 1, k)
        assert oe.counts_known
        o = c.original
        assert o.original and o.site == "Original"
        assert (o.complied_treatment, o.n_treatment, o.complied_control, o.n_control) == \
            (oe.treatment.complied, oe.treatment.n, oe.control.complied, oe.control.n)
        # without it: the same as a plain pooling; with it: one more site, computed independently here
        assert [r.estimate for r in c.random] == [r.estimate for r in c0.random]
        assert all(r.k == 4 for r in c.random) and all(r.k == 5 for r in c.with_original)
        want = random_effects([s.log_or for s in c.sites] + [o.log_or], [s.var_log_or for s in c.sites] +
                              [o.var_log_or], method="REML")
        got = c.result("REML", with_original=True)
        assert math.isclose(got.estimate, want.estimate, rel_tol=1e-12)
        assert math.isclose(got.tau2, want.tau2, rel_tol=1e-9, abs_tol=1e-12)
        assert "Original" not in [s.site for s in c.sites]              # never mixed into the sites
        assert "With the original study" in str(c) and "(the original study)" in str(c)
    f = res.to_frame()
    assert set(f["row"]) == {"site", "original", "pooled", "pooled_with_original", "fixed"}
    assert (f["row"] == "original").sum() == 2 * len(res.contrasts)    # log OR and RD rows
    # the fixed-effect checks are of the replication sites alone
    assert res.contrasts[0].fixed.k == 4


def test_include_original_on_the_command_line_with_the_forest_plot(cli, ditf_sites):
    proc = cli("pool", ditf_sites, "--include-original", "--plot", ditf_sites / "forest.png", check=0)
    assert "Original (the original study)" in proc.stdout
    assert "With the original study as one more site" in proc.stdout
    assert (ditf_sites / "forest.png").read_bytes()[:4] == b"\x89PNG"
    d = json.loads(cli("pool", ditf_sites, "--include-original", "--json", check=0).stdout)
    c = d["contrasts"][0]
    assert c["original"]["original"] is True and len(c["with_original"]) == 3
