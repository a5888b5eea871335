"""compliance replicate / analysis.replicate: the verdict table end to end, the published
replication, the consistency search, the plot, and bad input."""
from __future__ import annotations

import json
import math

import pytest

from analysis import rows_from_counts, write_session_csv
from analysis.errors import AnalysisError
from analysis.replication.verdict import (DERIVED, RATES_ONLY, W_AND_N, Replication, compare, counts_side,
                                  load_replications, replicate)
from analysis.replication.criteria import CRITERIA, FAILED, NOT_COMPUTABLE, SUCCEEDED

E1 = ("rejection_moderation", "exposure_control", "smaller_request_only")


def _site(tmp_path, counts, study="cialdini1975", experiment=1, name="site1"):
    rows = rows_from_counts(study, experiment, counts, site="S1")  # the file name says site S1
    write_session_csv(tmp_path / name / f"study-{study}_exp-{experiment}_site-S1_session-1_data.csv", rows)
    return tmp_path / name


# --------------------------------------------------------------------------- #
# Simulated replications: the original's rates, and no effect
# --------------------------------------------------------------------------- #
def test_original_rates_at_500_per_condition_replicate_on_every_criterion(tmp_path):
    # Cialdini et al. (1975) Experiment 1 rates, 12/24, 6/24, 4/24, at n = 500 per condition
    folder = _site(tmp_path, {"rejection_moderation": (250, 500), "exposure_control": (125, 500),
                              "smaller_request_only": (83, 500)})
    r = replicate(folder)
    assert (r.study, r.experiment) == ("cialdini1975", 1)
    import paradigms
    assert [k.label for k in r.contrasts] == [k.label for k in paradigms.get("cialdini1975").experiment(1)
                                             .plan.confirmatory]
    for k in r.contrasts:
        assert [c.criterion for c in k.criteria] == list(CRITERIA)
        assert all(c.decision == SUCCEEDED for c in k.criteria), (k.label, k.decisions)
        assert k.fraction_h == pytest.approx(1, abs=0.02)  # the same rates: the same effect


def test_equal_rates_fail_significance_and_pass_equivalence_at_a_generous_bound():
    r = replicate(study="cialdini1975", experiment=1, sesoi_h=0.3,
                  counts={c: (125, 500) for c in E1})
    for k in r.contrasts:
        assert k.criterion("significance").decision == FAILED
        eq = k.criterion("equivalence")
        assert eq.p < 0.05 and "equivalent to zero" in eq.reason  # the TOST establishes equivalence ...
        assert eq.decision == FAILED                              # ... so the replication failed by it
        assert (eq.bound, eq.scale) == (0.3, "h")
        assert k.criterion("bayes_factor").decision == FAILED
        assert k.criterion("small_telescopes").decision == FAILED


def test_the_original_sides_come_from_the_published_data():
    r = replicate(study="cialdini1975", experiment=1, counts={c: (10, 20) for c in E1})
    paper = r.contrasts[0]
    assert paper.original.counts == (12, 24, 10, 48) and paper.original.status == "counts"
    assert paper.test == "chi2"  # reproduce finds the paper's χ² = 6.42 under Pearson without correction
    assert paper.replication.counts == (10, 20, 20, 40)
    # d33 of the paper's design from analysis.power.exact (exact power of the χ² test), against the original's control rate
    from analysis.power.exact import d33
    ref = d33(24, 48, 10 / 48, test="chi2")
    assert paper.d33_h == pytest.approx(abs(ref.cohens_h)) and paper.sesoi == paper.d33_h


def test_derived_counts_are_marked():
    # Burger (1986) Experiment 1: 73% vs 40% of n = 30, counts derived
    r = replicate(study="burger1986", experiment=1, counts={"thats_not_all": (40, 60), "control": (25, 60)})
    k = r.contrasts[0]
    assert k.original.status == DERIVED
    computed = [c for c in k.criteria if c.decision != NOT_COMPUTABLE]
    assert computed and all(c.derived and "(derived counts)" in c.cell for c in computed)
    assert "derived" in str(r)


def test_rates_only_original_says_original_n_unknown():
    o = compare(__import__("analysis.replication.verdict", fromlist=["Side"]).Side("original", RATES_ONLY, p1=0.55, p2=0.36),
                counts_side("replication", 60, 100, 40, 100))
    d = {c.criterion: c for c in o.criteria}
    assert d["significance"].decision == SUCCEEDED and d["consistency_ci"].decision in (SUCCEEDED, FAILED)
    for name in ("prediction_interval", "small_telescopes", "bayes_factor", "fixed_effect", "mantel_haenszel",
                 "equivalence"):
        assert d[name].decision == NOT_COMPUTABLE and "original n unknown" in d[name].reason


def test_result_shapes_for_the_report():
    r = replicate(study="cialdini1975", experiment=1, counts={c: (30, 60) for c in E1})
    t = r.table()
    assert list(t.columns) == [(k.label, col) for k in r.contrasts for col in ("finding", "replication succeeded?")]
    assert list(t.index)[2:] == list(CRITERIA.values())
    f = r.to_frame()
    assert len(f) == len(r.contrasts) * len(CRITERIA) and {"contrast", "criterion", "decision", "p"} <= set(f.columns)
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert set(d["table"]) == {k.label for k in r.contrasts}
    with pytest.raises(Exception):
        r.study = "x"
    assert isinstance(r, Replication) and "significance" in str(r)


# --------------------------------------------------------------------------- #
# The published replication: Genschow et al. (2021), known by w and N only
# --------------------------------------------------------------------------- #
def test_genschow_verdicts_work_from_w_and_n():
    r = replicate(published="genschow2021")
    assert (r.study, r.experiment) == ("cialdini1975", 3)
    paper = r.contrasts[0]
    assert paper.label.startswith("door-in-the-face vs the two controls combined")
    assert paper.original.status == W_AND_N and paper.original.n == 72
    assert paper.original.w == pytest.approx(math.sqrt(2.88 / 72), abs=0.005)   # FReD: w = .20
    assert (paper.replication.w, paper.replication.n) == (0.17, 391)
    d = paper.decisions
    for name in ("significance", "consistency_ci", "prediction_interval", "small_telescopes", "equivalence",
                 "fixed_effect"):
        assert d[name] != NOT_COMPUTABLE
    for name in ("bayes_factor", "bayes_factor_directional", "mantel_haenszel"):
        assert d[name] == NOT_COMPUTABLE
    assert d["significance"] == SUCCEEDED and d["small_telescopes"] == SUCCEEDED
    assert paper.criterion("significance").p == pytest.approx(0.000775, abs=2e-5)   # χ² = 391 · .17² = 11.30
    assert paper.fraction_w == pytest.approx(0.17 / 0.2, abs=0.01)
    # the other confirmatory contrasts: nothing published
    for k in r.contrasts[1:]:
        assert set(k.decisions.values()) == {NOT_COMPUTABLE}
    assert any("w and N" in n for n in paper.notes)


def test_replications_file_has_source_and_confidence_per_row():
    reps = load_replications()
    assert set(reps["replication"]) == {"genschow2021", "meier2016"}
    assert (reps["source"] != "").all() and set(reps["confidence"]) <= {"primary", "secondary", "weak"}
    assert reps.loc[reps["as_printed"] == "51% vs 34%", "value"].isna().all()  # the unverified write-up: not data


# --------------------------------------------------------------------------- #
# Bad input: one line, exit 2
# --------------------------------------------------------------------------- #
def test_bad_input_in_python():
    with pytest.raises(AnalysisError, match="has no participants"):
        replicate(study="cialdini1975", experiment=1, counts={"rejection_moderation": (5, 10),
                                                              "exposure_control": (3, 10)})
    with pytest.raises(AnalysisError, match="k must be between"):
        replicate(study="cialdini1975", experiment=1, counts={c: (11, 10) for c in E1})
    with pytest.raises(AnalysisError, match="unknown published replication 'nobody1999'"):
        replicate(published="nobody1999")
    with pytest.raises(AnalysisError, match="replicates cialdini1975 Experiment 3, not cialdini1975 Experiment 1"):
        replicate(published="genschow2021", study="cialdini1975", experiment=1)
    with pytest.raises(AnalysisError, match="CountPlan"):
        replicate(study="regan1971", experiment=1, counts={"no_favor_pleasant": (1, 2)})


@pytest.mark.parametrize("args, message", [
    (("cialdini1975", "--experiment", "1", "--counts", "rejection_moderation=5/4", "exposure_control=1/4",
      "smaller_request_only=1/4"), "K = 5 must be between 0 and N = 4"),
    (("cialdini1975", "--experiment", "1", "--counts", "rejection_moderation=5/10", "exposure_control=0/0",
      "smaller_request_only=1/4"), "condition 'exposure_control' has no participants"),
    (("cialdini1975", "--experiment", "3", "--published", "nobody1999"), "unknown published replication"),
])
def test_bad_input_on_the_command_line(cli, args, message):
    proc = cli("replicate", *args, check=2)
    err = proc.stderr.strip()
    assert message in err and len(err.splitlines()) == 1 and proc.stdout == ""


@pytest.mark.parametrize("args, message", [
    (("cialdini1975", "--experiment", "1", "--counts", "rejection_moderation=five/10"), "expected NAME=K/N"),
    (("cialdini1975", "--experiment", "2", "--published", "genschow2021"), "it replicates cialdini1975 Experiment 3"),
    (("burger1986", "--experiment", "1", "--published", "genschow2021"), "it replicates cialdini1975 Experiment 3"),
    (("cialdini1975", "--experiment", "1", "--counts", "rejection_moderation=5/10", "--sesoi-h", "-1"),
     "--sesoi-h -1.0: must be a positive number"),
    (("cialdini1975", "--counts", "rejection_moderation=5/10"), "--counts needs --experiment N"),
    (("cialdini1975", "--experiment", "1"), "a study id needs --counts or --published"),
    (("no/such/folder",), "no such file or folder, and not a study id"),
])
def test_bad_input_in_the_handler(capsys, args, message):
    from analysis import cli

    assert cli.main(["replicate", *args]) == 2
    cap = capsys.readouterr()
    assert message in cap.err and len(cap.err.strip().splitlines()) == 1 and cap.out == ""


def test_data_of_another_experiment_than_named(cli, tmp_path):
    folder = _site(tmp_path, {c: (5, 10) for c in E1})
    proc = cli("replicate", folder, "--experiment", "2", check=2)
    assert "the data are a replication of cialdini1975 Experiment 1, not of cialdini1975 Experiment 2" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_data_with_an_empty_condition(cli, tmp_path):
    folder = _site(tmp_path, {"rejection_moderation": (5, 10), "exposure_control": (3, 10)})
    proc = cli("replicate", folder, check=2)
    assert "condition 'smaller_request_only' has no participants" in proc.stderr


# --------------------------------------------------------------------------- #
# The command line: text, JSON, plot
# --------------------------------------------------------------------------- #
def test_cli_json_and_plot(tmp_path, capsys):
    from analysis import cli

    folder = _site(tmp_path, {"rejection_moderation": (60, 120), "exposure_control": (30, 120),
                              "smaller_request_only": (25, 120)})
    png = tmp_path / "verdict.png"
    assert cli.main(["replicate", str(folder), "--sesoi-h", "0.2", "--json", "--plot", str(png)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["study"] == "cialdini1975" and len(d["contrasts"]) == 3
    k = d["contrasts"][0]
    assert {"original", "replication", "criteria", "decisions", "d33_h", "sesoi"} <= set(k)
    eq = [c for c in k["criteria"] if c["criterion"] == "equivalence"][0]
    assert eq["bound"] == 0.2 and eq["scale"] == "h"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["replicate", str(folder), "--plot", str(png)]) == 2
    assert "already exists" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["replicate", str(folder), "--plot", str(tmp_path / "notes.txt"), "--force"]) == 2
    assert "not an image" in capsys.readouterr().err and (tmp_path / "notes.txt").read_text() == "mine"


def test_cli_counts_and_published(cli):
    out = cli("replicate", "cialdini1975", "--experiment", "1", "--counts", "rejection_moderation=66/130",
              "exposure_control=40/130", "smaller_request_only=44/131", check=0).stdout
    assert "replication Bayes factor" in out and "66/130" in out
    out = cli("replicate", "cialdini1975", "--experiment", "3", "--published", "genschow2021", check=0).stdout
    assert "w = 0.17" in out and "not computable" in out


def test_plot_draws_every_contrast(tmp_path):
    from analysis.plots.replication import plot_replication

    r = replicate(published="genschow2021")
    p = plot_replication(r, tmp_path / "g.png")
    assert p.stat().st_size > 10_000


# --------------------------------------------------------------------------- #
# What each test found, and apart whether that counts as the replication succeeding (issue 21.5)
# --------------------------------------------------------------------------- #
def test_equivalence_says_what_tost_found_and_apart_what_it_means_everywhere():
    """20/60 vs 19/60 and 18/60: TOST establishes equivalence within ±d33 (computed here by hand from
    Cohen's h and its SE), so the finding is "equivalent within ±..." and the replication did not succeed;
    the text, the JSON, the table and the frame say the same."""
    from scipy import stats

    from analysis.replication.criteria import FAILED
    r = replicate(study="cialdini1975", experiment=1, counts={"rejection_moderation": (20, 60),
                                                              "exposure_control": (19, 60),
                                                              "smaller_request_only": (18, 60)})
    k = r.contrasts[1]  # door-in-the-face vs exposure control: 20/60 vs 19/60
    eq = k.criterion("equivalence")
    h = 2 * math.asin(math.sqrt(20 / 60)) - 2 * math.asin(math.sqrt(19 / 60))
    se = math.sqrt(2 / 60)
    p_tost = max(stats.norm.sf((h + k.d33_h) / se), stats.norm.cdf((h - k.d33_h) / se))
    assert p_tost < 0.05 and eq.p == pytest.approx(p_tost, rel=1e-9)
    bound = f"±{k.d33_h:.2f}"
    assert eq.finding == f"equivalent within {bound}" and eq.replication_succeeded is False
    assert eq.decision == FAILED  # the old key, unchanged
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    row = next(c for c in d["contrasts"][1]["criteria"] if c["criterion"] == "equivalence")
    assert row["finding"] == eq.finding and row["replication_succeeded"] is False and row["decision"] == "failed"
    assert d["findings"][k.label]["equivalence"] == {"finding": eq.finding, "replication_succeeded": False}
    t = r.table()
    label = CRITERIA["equivalence"]
    assert t.loc[label, (k.label, "finding")] == eq.finding
    assert t.loc[label, (k.label, "replication succeeded?")] == "no"
    line = next(ln for ln in str(r).splitlines() if ln.startswith(label) and bound in ln)
    assert line.split()[-1] == "no" and "failed" not in line
    # not equivalent: the finding says so, whatever the verdict
    big = replicate(study="cialdini1975", experiment=1, counts={"rejection_moderation": (45, 60),
                                                                "exposure_control": (15, 60),
                                                                "smaller_request_only": (15, 60)})
    eq2 = big.contrasts[1].criterion("equivalence")
    assert eq2.finding.startswith("not equivalent within ±") and eq2.replication_succeeded is True


def test_whole_study_comparison_is_a_row_of_the_table_where_no_contrast_is_computable():
    """Kunz & Woolcott (1976) vs Meier (2016): no contrast is published by both; the original's 20% lies
    outside the replication's CI (2% of 755, Wilson, over every count the rounding allows): that verdict is
    in the table and the JSON table, not only in a note."""
    r = replicate(study="kunz1976", published="meier2016")
    assert all(c.decision == NOT_COMPUTABLE for k in r.contrasts for c in k.criteria)
    t = r.table()
    whole = list(dict.fromkeys(label for label, _ in t.columns if label.startswith("whole study")))
    assert len(whole) == 1
    row = CRITERIA["consistency_ci"]
    assert t.loc[row, (whole[0], "replication succeeded?")] == "no"
    assert "outside" in t.loc[row, (whole[0], "finding")] and "20%" in t.loc[row, (whole[0], "finding")]
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["table"][whole[0]]["consistency_ci"] == "failed"
    assert d["findings"][whole[0]]["consistency_ci"]["replication_succeeded"] is False
    text = str(r)
    assert f"] {whole[0]}" in text
