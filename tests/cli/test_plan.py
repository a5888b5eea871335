"""``compliance plan`` (issue 24): the sample size of a replication, its JSON and its errors."""
from __future__ import annotations

import json
import math

import pytest

from analysis.power.exact import power_two_proportions, sample_size_two_proportions


@pytest.fixture(autouse=True)
def _capsys(capsys):
    global _CAP
    _CAP = capsys


def run(*args):
    from paradigms.cli import main

    code = main(["plan", *args])
    cap = _CAP.readouterr()
    return code, cap.out, cap.err


@pytest.fixture(scope="module")
def burger():
    from paradigms.cli import main
    import io
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["plan", "burger1986", "--experiment", "1", "--looks", "2", "--json"]) == 0
    return json.loads(buf.getvalue())


def test_plan_json_answers_the_labs_question(burger):
    d = burger
    assert d["family_size"] == 1 and d["correction"] == "none" and d["alpha_per_test"] == 0.05
    row = d["contrasts"][0]
    p1, p2 = row["rates"]["original"]["p1"], row["rates"]["original"]["p2"]
    assert (p1, p2) == pytest.approx((22 / 30, 12 / 30))                    # the original's 22/30 vs 12/30
    ref = sample_size_two_proportions(p1, p2, 0.8, test="chi2")            # asked another way
    assert d["n_per_condition"] == row["n_per_condition"]["original"] == ref.n_first
    assert d["total_n"] == 2 * d["n_per_condition"]
    pw = d["power"][d["sets_n"]]["power"]
    assert pw == pytest.approx(power_two_proportions(p1, p2, ref.n_first, ref.n_first, test="chi2").power)
    assert pw >= 0.8


def test_three_bases_side_by_side(burger):
    from analysis.stats.effects import cohens_h, z_critical

    row = burger["contrasts"][0]
    o, s, t = (row["rates"][b] for b in ("original", "safeguard", "telescopes"))
    # safeguard: the lower limit of the original's 60% CI of h, 30 and 30 per group, computed here
    h_low = cohens_h(22 / 30, 12 / 30) - z_critical(0.60) * math.sqrt(1 / 30 + 1 / 30)
    assert cohens_h(s["p1"], s["p2"]) == pytest.approx(h_low, abs=1e-9)
    assert o["p1"] > s["p1"] > s["p2"] and t["p2"] == s["p2"]
    ns = row["n_per_condition"]
    assert ns["original"] < ns["safeguard"] and ns["original"] < ns["telescopes"]
    # Simonsohn's small-telescopes test n: about 2.5 times the original's 30
    assert 2.0 < row["telescopes_test_n"] / 30 < 3.2


def test_sequential_plan_in_the_json(burger):
    s = burger["sequential"]
    assert s["boundaries"]["looks"] == 2 and s["boundaries"]["spending"] == "obrien-fleming"
    assert s["boundaries"]["critical_z"] == pytest.approx([2.9625880427, 1.9685956463], abs=1e-5)   # rpact
    assert all(a <= b + 1e-12 for a, b in zip(s["alpha_exact"], s["boundaries"]["alpha_spent"]))
    assert s["power"] >= 0.8 and s["total_n"] >= burger["total_n"]
    assert s["expected_n_h1"] < s["max_n"] and len(s["rejection_regions"]) == 2


def test_text_names_the_family_and_the_contrast_that_sets_n():
    code, out, _ = run("burger1986", "--experiment", "1", "--basis", "safeguard")
    assert code == 0
    assert "Confirmatory family: 1 contrasts, no correction" in out
    assert "Sets N (safeguard power" in out and "total N = " in out


@pytest.mark.parametrize("args,word", [
    (("nosuchstudy",), "nosuchstudy"),
    (("burger1986", "--target", "1.5"), "--target"),
    (("burger1986", "--looks", "0"), "--looks"),
    (("regan1971",), "ContrastPlan"),
    (("pollock1998",), "interaction"),
    # issue 22.7: a plan whose n lies beyond the exact search's limit is refused before any work
    # (it used to enumerate millions of tables at every n for minutes)
    (("cialdini1975", "--alpha", "1e-300"), "beyond the exact search's 1,414 per group"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    code, out, err = run(*args)
    assert code == 2 and word in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- #
# compliance preregister
# --------------------------------------------------------------------------- #
def _schedule(tmp_path, n=66):
    from paradigms.cli import main

    assert main(["schedule", "burger1986", "--experiment", "1", "--participants", str(n), "--seed", "5",
                 "--out", str(tmp_path / "s.csv")]) == 0
    _CAP.readouterr()
    return tmp_path / "s.csv"


def test_preregister_writes_the_declaration_and_prints_its_hash(tmp_path):
    import hashlib

    from analysis.commands.preregister import read_preregistration

    sched = _schedule(tmp_path)
    out = tmp_path / "prereg.md"
    from paradigms.cli import main

    assert main(["preregister", "burger1986", "--schedule", str(sched), "--looks", "2", "--out", str(out)]) == 0
    printed = _CAP.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert hashlib.sha256(out.read_bytes()).hexdigest() in printed
    # AsPredicted's questions in OSF's order
    heads = [ln for ln in text.splitlines() if ln.startswith("## ")]
    assert [h.split(". ", 1)[1] for h in heads] == ["Data collection", "Hypotheses", "Dependent variable", "Conditions",
                                                    "Analyses", "Outliers and exclusions", "Sample size", "Other"]
    sha = (tmp_path / "s.csv.sha256").read_text().split()[0]
    assert sha in text and "is higher than" in text and "`thats_not_all` (treatment)" in text
    facts = read_preregistration(out)
    assert facts["schedule"]["sha256"] == sha and facts["sequential"]["looks"] == 2
    assert facts["total_n"] == facts["sequential"]["total_n"]
    assert "Pearson" in facts["contrasts"][0]["description"]


def test_preregister_refuses_to_overwrite(tmp_path):
    out = tmp_path / "prereg.md"
    out.write_text("mine", encoding="utf-8")
    from paradigms.cli import main

    code = main(["preregister", "burger1986", "--out", str(out)])
    err = _CAP.readouterr().err
    assert code == 2 and "never overwritten" in err and out.read_text(encoding="utf-8") == "mine"


def test_preregister_checks_the_schedule_is_of_the_study(tmp_path):
    sched = _schedule(tmp_path)
    from paradigms.cli import main

    code = main(["preregister", "cialdini1975", "--schedule", str(sched), "--out", str(tmp_path / "p.md")])
    err = _CAP.readouterr().err
    assert code == 2 and "burger1986" in err and not (tmp_path / "p.md").exists()


# --------------------------------------------------------------------------- #
# compliance analyze --interim
# --------------------------------------------------------------------------- #
def _sequential_prereg(tmp_path):
    from paradigms.cli import main

    sched = _schedule(tmp_path)
    out = tmp_path / "prereg.md"
    assert main(["preregister", "burger1986", "--schedule", str(sched), "--looks", "2", "--out", str(out)]) == 0
    _CAP.readouterr()
    from analysis.commands.preregister import read_preregistration

    return out, read_preregistration(out)


def _write(tmp_path, counts, sha=None):
    from analysis.load.synthetic import rows_from_counts, write_session_csv

    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    csv = data / "study-burger1986_exp-1_site-S1_session-1_data.csv"
    write_session_csv(csv, rows_from_counts("burger1986", 1, counts, site="S1"))
    if sha is not None:
        side = csv.with_name(csv.name.replace("_data.csv", "_data.json"))
        meta = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
        meta["schedule_sha256"] = sha
        side.write_text(json.dumps(meta), encoding="utf-8")
    return data


def test_interim_says_which_look_its_boundary_and_continue(tmp_path):
    from analysis.power.sequential import exact_sequential
    from paradigms.cli import main

    prereg, facts = _sequential_prereg(tmp_path)
    s = facts["sequential"]
    n1, n2 = s["n1"][0], s["n2"][0]
    data = _write(tmp_path, {"thats_not_all": (n1 // 2, n1), "control": (n2 // 2, n2)})
    assert main(["analyze", str(data), "--interim", str(prereg)]) == 0
    line = [ln for ln in _CAP.readouterr().out.splitlines() if ln.startswith("interim")]
    assert len(line) == 1 and f"look 1 of 2 (n = {n1} and {n2}" in line[0] and line[0].endswith(": continue")
    ref = exact_sequential(s["n1"][-1], s["n2"][-1], 2, s["alpha"], s["spending"], s["alternative"])
    assert f"{ref.critical_exact[0]:.3f}" in line[0]


def test_interim_stops_at_the_end_with_adjusted_p_and_repeated_ci(tmp_path):
    from analysis.power.sequential import boundaries, stagewise_p
    from paradigms.cli import main

    prereg, facts = _sequential_prereg(tmp_path)
    s = facts["sequential"]
    n1, n2 = s["n1"][-1], s["n2"][-1]
    x1, x2 = int(0.8 * n1), int(0.3 * n2)
    sha = facts["schedule"]["sha256"]
    data = _write(tmp_path, {"thats_not_all": (x1, n1), "control": (x2, n2)}, sha=sha)
    # the sidecar was edited here (a hand-made schedule hash), so the tamper evidence fails: accepted, labelled
    assert main(["analyze", str(data), "--interim", "--accept-unverified"]) == 0   # found by the schedule hash
    out = _CAP.readouterr().out
    assert "look 2 of 2" in out and "stop: reject H0" in out
    assert "stage-wise ordering" in out and "repeated confidence interval" in out
    # the adjusted p at the last look: stopping at look 1 or beating |z| at look 2, under H0 (<= the nominal
    # two-sided p plus the alpha spent at look 1)
    from scipy import stats
    from analysis.power.exact import _z_statistic

    z = float(_z_statistic(n1, n2, False)[x1, x2])
    d = boundaries(2, s["alpha"], s["spending"], s["alternative"])
    p = stagewise_p(d, 2, z)
    assert 2 * stats.norm.sf(abs(z)) <= p <= 2 * stats.norm.sf(abs(z)) + d.alpha_look[0] + 1e-9


def test_stagewise_p_at_the_last_boundary_is_alpha():
    from analysis.power.sequential import boundaries, stagewise_p

    for kind in ("obrien-fleming", "pocock"):
        d = boundaries(3, 0.05, kind)
        assert stagewise_p(d, 3, d.critical[2]) == pytest.approx(0.05, abs=1e-7)
        assert stagewise_p(d, 2, d.critical[1]) == pytest.approx(d.alpha_spent[1], abs=1e-7)


# --------------------------------------------------------------------------- #
# Adherence: replicate and report --preregistration
# --------------------------------------------------------------------------- #
def _fixed_prereg(tmp_path):
    from analysis.commands.preregister import read_preregistration
    from paradigms.cli import main

    sched = _schedule(tmp_path)
    out = tmp_path / "prereg.md"
    assert main(["preregister", "burger1986", "--schedule", str(sched), "--out", str(out)]) == 0
    _CAP.readouterr()
    return out, read_preregistration(out)


def test_replicate_without_deviation_says_so(tmp_path):
    from paradigms.cli import main

    prereg, facts = _fixed_prereg(tmp_path)
    n = facts["n_per_condition"]
    data = _write(tmp_path, {"thats_not_all": (int(0.7 * n), n), "control": (int(0.4 * n), n)},
                  sha=facts["schedule"]["sha256"])
    assert main(["replicate", str(data), "--json"]) == 0              # found beside the data
    d = json.loads(_CAP.readouterr().out)
    assert d["adherence"]["deviations"] == [] and d["adherence"]["deviation_free"]
    assert main(["replicate", str(data), "--preregistration", str(prereg)]) == 0
    assert "no deviation" in _CAP.readouterr().out


def test_replicate_lists_every_deviation(tmp_path):
    from paradigms.cli import main

    prereg, facts = _fixed_prereg(tmp_path)
    n = facts["n_per_condition"]
    data = _write(tmp_path, {"thats_not_all": (10, n - 3), "control": (5, n)}, sha="0" * 64)
    assert main(["replicate", str(data), "--preregistration", str(prereg), "--json"]) == 0
    dev = json.loads(_CAP.readouterr().out)["adherence"]["deviations"]
    assert any(f"N reached {2 * n - 3}, planned {2 * n} (fewer)" in x for x in dev)
    assert any("another schedule" in x for x in dev)
    # with --counts: a test other than the registered one is caught through the facts
    from analysis.power.adherence import check_adherence

    a = check_adherence(facts, "p", {"thats_not_all": (20, n), "control": (10, n)},
                        tests={facts["contrasts"][0]["label"]: "fisher"}, exclusions={"rain": 3})
    assert any("tested with fisher, registered chi2" in x for x in a.deviations)
    assert any("'rain' (3 participants) is not declared" in x for x in a.deviations)


def test_report_has_an_adherence_section(tmp_path):
    from paradigms.cli import main

    prereg, facts = _fixed_prereg(tmp_path)
    n = facts["n_per_condition"]
    data = _write(tmp_path, {"thats_not_all": (int(0.7 * n), n), "control": (int(0.4 * n), n + 2)})
    out = tmp_path / "r.html"
    assert main(["report", str(data), "--preregistration", str(prereg), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Adherence to the pre-registration" in html and f"N reached {2 * n + 2}, planned {2 * n} (more)" in html


def test_a_sequential_stop_without_crossing_is_a_deviation(tmp_path):
    from analysis.power.adherence import check_adherence

    _, facts = _sequential_prereg(tmp_path)
    s = facts["sequential"]
    n1, n2 = s["n1"][0], s["n2"][0]
    a = check_adherence(facts, "p", {"thats_not_all": (n1 // 2, n1), "control": (n2 // 2, n2)},
                        contrast_counts=(n1 // 2, n1, n2 // 2, n2))
    assert any("stopped at look 1 of 2" in x and "without crossing" in x for x in a.deviations)
    x1 = n1                                                          # everybody complied: crosses at look 1
    b = check_adherence(facts, "p", {"thats_not_all": (x1, n1), "control": (0, n2)}, contrast_counts=(x1, n1, 0, n2))
    assert not any("without crossing" in x for x in b.deviations)


def test_interim_json_is_one_object_with_look_boundaries_decision_p_and_ci(tmp_path):
    # issue 24.3: analyze --interim --json (was text only)
    from analysis.power.sequential import boundaries, exact_sequential, repeated_ci, stagewise_p
    from paradigms.cli import main

    prereg, facts = _sequential_prereg(tmp_path)
    s = facts["sequential"]
    ref = exact_sequential(s["n1"][-1], s["n2"][-1], 2, s["alpha"], s["spending"], s["alternative"])
    # look 1, continue: no adjusted p or CI yet
    n1, n2 = s["n1"][0], s["n2"][0]
    data = _write(tmp_path, {"thats_not_all": (n1 // 2, n1), "control": (n2 // 2, n2)})
    assert main(["analyze", str(data), "--interim", str(prereg), "--json"]) == 0
    d = json.loads(_CAP.readouterr().out)
    assert isinstance(d, dict) and "contrasts" in d and "data_origin" in d      # the analysis' keys kept
    i = d["interim"]
    assert (i["preregistration"], i["sequential"], i["look"], i["looks"], i["decision"], i["stopped"]) == (
        "prereg.md", True, 1, 2, "continue", False)
    assert (i["n1"], i["n2"], i["planned_n1"], i["planned_n2"]) == (n1, n2, n1, n2)
    assert i["critical"] == ref.critical_exact[0] and i["critical_normal"] == ref.design.critical[0]
    assert i["boundaries"]["critical_z_exact"] == list(ref.critical_exact)
    assert i["boundaries"]["n1"] == list(ref.n1) and i["boundaries"]["alpha_spent"] == list(ref.design.alpha_spent)
    assert i["pvalue_stagewise"] is None and i["repeated_ci"] is None and i["pvalue"] is None
    assert i["z"] == i["statistic"] and i["risk_difference"] == pytest.approx(0.0, abs=0.05)
    # the last look, a stop: the stage-wise p and the repeated CI, as the functions give them
    n1, n2 = s["n1"][-1], s["n2"][-1]
    x1, x2 = int(0.8 * n1), int(0.3 * n2)
    data = _write(tmp_path, {"thats_not_all": (x1, n1), "control": (x2, n2)})
    assert main(["analyze", str(data), "--interim", str(prereg), "--json"]) == 0
    i = json.loads(_CAP.readouterr().out)["interim"]
    assert (i["look"], i["decision"], i["stopped"]) == (2, "stop: reject H0", True)
    d2 = boundaries(2, s["alpha"], s["spending"], s["alternative"])
    assert i["pvalue_stagewise"] == i["pvalue"] == pytest.approx(stagewise_p(d2, 2, i["z"]), rel=1e-12)
    lo, hi = repeated_ci(d2, 2, x1, n1, x2, n2)
    assert i["repeated_ci"] == [pytest.approx(lo, rel=1e-12), pytest.approx(hi, rel=1e-12)]
    assert i["risk_difference"] == pytest.approx(x1 / n1 - x2 / n2, rel=1e-12)
    assert i["ci_low"] < i["risk_difference"] < i["ci_high"]
