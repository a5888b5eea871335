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


# --------------------------------------------------------------------------- #
# One input for every analysis (issue 21): the plan's type chooses, the loader decides who is analysed.
# --------------------------------------------------------------------------- #
def test_every_plan_type_gets_the_same_input_and_the_registry_chooses_by_type(sims, monkeypatch):
    import analysis.api as api
    from analysis.load.inputs import AnalysisInput
    from analysis.load.sessions import load_sessions
    from paradigms.base import CountPlan, FactorialLogitPlan

    seen = {}
    for kind, run in list(api.ANALYSES.items()):
        def spy(inp, warn=True, kind=kind, run=run):
            seen[kind.__name__] = inp
            return run(inp, warn)
        monkeypatch.setitem(api.ANALYSES, kind, spy)
    for pid in ("pollock1998", "regan1971", "cialdini1975"):
        loaded = load_sessions(sims[pid])
        api.analyze(loaded, warn=False)
    assert set(seen) == {"FactorialLogitPlan", "CountPlan", "ContrastPlan"}
    for name, inp in seen.items():
        assert isinstance(inp, AnalysisInput)
        assert inp.experiment is inp.paradigm.experiment(inp.experiment.number)
        # the frame is the analysable rows of this experiment, as the loader decided
        loaded = load_sessions(sims[inp.paradigm.id])
        assert len(inp.frame) == len(loaded.analysable())
        assert (inp.frame.get("excluded", pd.Series(dtype=float)).fillna(0) != 1).all()
    assert isinstance(seen["FactorialLogitPlan"].plan, FactorialLogitPlan)
    assert isinstance(seen["CountPlan"].plan, CountPlan)


def test_a_subclass_of_a_plan_gets_its_parents_analysis_and_an_unknown_plan_is_refused(sims):
    from dataclasses import dataclass, replace
    from analysis.api import analyze_input
    from analysis.errors import DataValidationError
    from analysis.load.inputs import analysis_input
    from analysis.load.sessions import load_sessions

    p = paradigms.get("cialdini1975")
    loaded = load_sessions(sims["cialdini1975"])

    @dataclass(frozen=True)
    class MyPlan(ContrastPlan):
        pass
    exp = p.experiments[0]
    mine = replace(exp, plan=MyPlan(exp.plan.contrasts))
    a = analyze_input(analysis_input(loaded, p, exp), warn=False)
    b = analyze_input(analysis_input(loaded, p, mine), warn=False)
    assert [k.pvalue for k in a.contrasts] == [k.pvalue for k in b.contrasts]

    class Unknown:
        pass
    # an Experiment checks its plan's type, so the odd one is put in the input by hand
    inp = replace(analysis_input(loaded, p, exp), experiment=type("E", (), {"plan": Unknown(), "number": 1})())
    with pytest.raises(DataValidationError, match="declares a Unknown, which 'analyze' does not know"):
        analyze_input(inp)


def test_the_factorial_model_counts_the_withdrawn_as_the_contrasts_do(tmp_path):
    """Issue 21: status is applied once, by the loader; the factorial model used to re-apply it to rows
    the loader had already dropped, and so reported 0 withdrawn."""
    import csv
    from analysis.api import analyze
    res = simulate(paradigms.get("pollock1998"), 1, 96, seed=3, data_dir=tmp_path)
    rows = list(csv.DictReader(res.csv_path.open(encoding="utf-8")))
    rows[0]["data_consent"] = "0"
    rows[1]["data_consent"] = "0"
    rows[2]["excluded"], rows[2]["exclusion_reason"] = "1", "other"
    with res.csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.warns(Warning):   # the sidecar's hash no longer matches the edited file
        (out,) = analyze(tmp_path, warn=False)
    assert (out.n_withdrawn, out.n_excluded) == (2, 1)
    assert (out.interaction.n_withdrawn, out.interaction.n_excluded) == (2, 1)
    assert out.interaction.n == out.n_analysed == 96 - 3
