"""``compliance analyze`` on every kind of paradigm: binary, binary with a declared
interaction model, and count; plus contrasts declared on factor levels."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from scipy.stats import chi2_contingency

import paradigms
from paradigms.base import BinaryModel, Condition, Contrast, ContrastPlan, DeclarationError, Experiment, Rate, Step, Answer
from paradigms.engine.sessions import simulate


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    root = tmp_path_factory.mktemp("sims")
    out = {}
    for pid, n in (("pollock1998", 240), ("regan1971", 60), ("cialdini1975", 36)):
        p = paradigms.get(pid)
        out[pid] = simulate(p, p.experiments[0].number, n, seed=5, data_dir=root / pid).csv_path.parent
    return out


def test_pollock_json_carries_the_interaction_model(cli, sims):
    d = json.loads(cli("analyze", sims["pollock1998"], "--json", check=0).stdout)
    assert {"term", "estimate", "ci_low", "ci_high", "p"} <= set(d["interaction"])
    assert [s["price"] for s in d["simple_effects"]] == ["1", "5"]
    for s in d["simple_effects"]:
        assert {"risk_difference", "rd_ci_low", "rd_ci_high", "odds_ratio", "p"} <= set(s)
    # the simple effect's risk difference is the raw difference of the pooled rates at that price
    df = pd.read_csv(next(sims["pollock1998"].glob("*_data.csv")))
    at1 = df[df.price == 1]
    rd = at1[at1.technique == "tna"].complied.mean() - at1[at1.technique == "control"].complied.mean()
    assert d["simple_effects"][0]["risk_difference"] == pytest.approx(rd)
    assert d["notes"] is not None and d["paradigm"] == "pollock1998"  # the experiment's own keys survive


def test_pollock_plots_rates_and_the_interaction(cli, sims, tmp_path):
    out = cli("analyze", sims["pollock1998"], "--plot", tmp_path / "p.png", check=0).stdout
    for name in ("p.png", "p-pollock1998-e1-interaction.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        assert name in out


def test_regan_json_and_plot(cli, sims, tmp_path):
    proc = cli("analyze", sims["regan1971"], "--json", "--plot", tmp_path / "regan.png", check=0)
    d = json.loads(proc.stdout)
    assert d["paradigm"] == "regan1971" and d["experiment"] == 1
    assert {"favor", "liking", "n", "mean", "sd"} <= set(d["cells"][0])
    assert {"term", "F", "df1", "df2", "p"} <= set(d["anova"][0])
    assert {"favor", "r", "n"} <= set(d["liking_correlation"][0])
    df = pd.read_csv(next(sims["regan1971"].glob("*_data.csv")))
    means = df.groupby(["favor", "liking"])["tickets"].mean()
    for c in d["cells"]:
        assert c["mean"] == pytest.approx(means[(c["favor"], c["liking"])])
    png = (tmp_path / "regan.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_mixed_folders_give_one_result_each(cli, sims):
    d = json.loads(cli("analyze", *sims.values(), "--json", check=0).stdout)
    assert [x["paradigm"] for x in d] == ["pollock1998", "regan1971", "cialdini1975"]


def _toy(contrasts):
    yes = Answer("agree", "Yes [Y]", "y", sets={"complied": 1})
    no = Answer("refuse", "No [N]", "n", sets={"complied": 0})
    step = Step("target_request", "Would you?", (yes, no), target=True)
    conds = tuple(Condition(f"{a}_{b}", "treatment" if a == "t" else "control", "", (step,), {"f": a, "g": b})
                  for a in ("t", "c") for b in ("x", "y"))
    return Experiment(1, "toy", conds, ContrastPlan(contrasts), BinaryModel({c.name: Rate(0.5, "") for c in conds}))


def test_factor_contrast_pools_every_condition_at_the_levels():
    exp = _toy((Contrast("t", ("c",), "t vs c", factor="f"),))
    assert exp.members("t", "f") == ("t_x", "t_y") and exp.members(("c",), "f") == ("c_x", "c_y")
    with pytest.raises(DeclarationError, match="factor 'f' has no level 'z'"):
        _toy((Contrast("z", ("c",), "bad", factor="f"),))
    with pytest.raises(DeclarationError, match="unknown condition"):
        _toy((Contrast("t", ("c",), "levels given as conditions"),))


def test_binary_factor_contrast_matches_scipy_on_pooled_counts():
    from analysis.stats.binary import analyze_experiment
    exp = _toy((Contrast("t", ("c",), "t vs c", factor="f"),))
    counts = {"t_x": (9, 12), "t_y": (7, 12), "c_x": (3, 12), "c_y": (5, 12)}
    rows = [{"condition": c, "complied": int(i < k)} for c, (k, n) in counts.items() for i in range(n)]
    fake = type("P", (), {"id": "toy", "experiment": staticmethod(lambda n: exp)})()
    res = analyze_experiment(pd.DataFrame(rows), fake, 1, warn=False)
    (k,) = res.contrasts
    table = [[16, 24 - 16], [8, 24 - 8]]
    chi2, pval, *_ = chi2_contingency(table, correction=False)
    assert k.treatment == "f=t" and k.n_treatment == 24 and k.n_control == 24
    assert k.risk_difference == pytest.approx(16 / 24 - 8 / 24)
    assert k.chi2 == pytest.approx(chi2) and k.chi2_p == pytest.approx(pval)
