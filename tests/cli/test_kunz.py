"""Kunz & Woolcott (1976) from the command line: every command of issue 17's "What a user must be able to do"
(``compliance run`` is driven with real keys in tests/screens/test_mail.py), the published figures, and the
verdicts on Meier (2016)."""
from __future__ import annotations

import json
import math

import pytest

import paradigms
from analysis.replication.published import load_published
from analysis.replication.verdict import load_replications, replicate
from analysis.replication.whole_study import compare_whole_study


def test_list_protocol_and_schedule(cli, tmp_path):
    assert "kunz1976" in cli("list", check=0).stdout
    text = cli("protocol", "kunz1976", check=0).stdout
    assert "Addresses never enter the toolkit" in text and "keyed by the pseudonymous id" in text
    assert "Season's greetings" in text and "RECONSTRUCTION" in text
    assert "A mailed card has no debriefing in person" in text and "debriefed = 1" in text
    cli("schedule", "kunz1976", "--participants", "600", "--seed", "1", "--out", "schedules/cards.csv", check=0)
    assert (tmp_path / "schedules" / "cards.csv.sha256").is_file()
    assert (tmp_path / "schedules" / "cards.csv").read_text().count("\n") == 601


def test_simulate_then_analyze_600_cards(cli, tmp_path):
    res = cli("simulate", "kunz1976", "--participants", "600", "--seed", "1", "--data-dir", "data/sessions/cards",
              check=0)
    assert "simulated 600 cards (1200 records" in res.stdout
    out = cli("analyze", "data/sessions/cards", check=0).stdout
    assert "analysed N = 600" in out and "high_status vs low_status" in out and "pending" not in out
    js = json.loads(cli("analyze", "data/sessions/cards", "--json", check=0).stdout)
    assert js["n_analysed"] == 600 and {c["condition"]: c["n"] for c in js["conditions"]} == {
        "high_status": 300, "low_status": 300}


def test_reproduce_shows_the_conflicting_reply_counts(cli):
    out = cli("reproduce", "kunz1976", check=0).stdout
    conflict = [ln for ln in out.splitlines() if ln.strip().startswith("Source conflict:")]
    assert len(conflict) == 1
    for figure in ("117", "nearly 200", "over 200"):
        assert figure in conflict[0]
    assert "about 600" in out and "20%" in out
    js = json.loads(cli("reproduce", "kunz1976", "--json", check=0).stdout)
    assert js["n_mismatch"] == 0 and any("117" in c for c in js["conflicts"])


def test_published_rows_carry_no_guessed_number():
    pub = load_published()
    k = pub[pub.study == "kunz1976"]
    assert k.loc[k.statistic == "n", "value"].isna().all()  # 'about 600' is not a number
    assert sorted(k.loc[k.statistic == "complied", "as_printed"]) == ["117", "nearly 200", "over 200"]
    assert k.loc[(k.statistic == "complied") & k.value.notna(), "value"].tolist() == [117]
    meier = load_replications().query("replication == 'meier2016'")
    assert meier.loc[meier.statistic == "rate", "value"].tolist() == [0.02]
    assert meier.loc[meier.statistic == "complied", "value"].isna().all()  # a rounded rate, never a count


def _wilson(k, n, z=1.959963984540054):
    """Wilson's score interval written out (Wilson, 1927), to check statsmodels' method='wilson'."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_whole_study_consistency_over_every_count_the_rounding_allows():
    reps = load_replications()
    c = compare_whole_study("kunz1976", 1, reps[reps.replication == "meier2016"])
    # 2% printed to the percent: k/755 in [1.5%, 2.5%) -> k = 12..18
    assert c.replication_counts == tuple(range(12, 19))
    assert c.ci_low == pytest.approx(_wilson(12, 755)[0], rel=1e-12)
    assert c.ci_high == pytest.approx(_wilson(18, 755)[1], rel=1e-12)
    assert c.ci_high < 0.195  # the original's 20% (at least 19.5%) is far outside
    assert c.consistency.decision == "failed"
    others = [x for x in c.criteria if x.criterion != "consistency_ci"]
    assert {x.decision for x in others} == {"not computable"}
    assert all("the original's n is not published (as printed: 'about 600')" in x.reason for x in others)


def test_replicate_meier_gives_the_verdicts_the_counts_allow_and_says_why_not(cli):
    out = cli("replicate", "kunz1976", "--published", "meier2016", check=0).stdout
    assert "the replication varied the sender's similarity, not status" in out
    assert "original inside the replication's 95% CI: failed" in out
    assert "any of 12..18 of 755" in out
    js = json.loads(cli("replicate", "kunz1976", "--published", "meier2016", "--json", check=0).stdout)
    assert set(js["table"]["higher- vs lower-status sender"].values()) == {"not computable"}
    assert any("failed" in n for n in js["notes"])
    whole = js["whole_study"]  # the whole-study comparison as data, not only as notes
    assert whole["replication_counts"] == list(range(12, 19)) and whole["replication_n"] == 755
    assert whole["original_rate"] == 0.2 and whole["ci_high"] < 0.2
    r = replicate(study="kunz1976", published="meier2016")
    assert r.experiment == 1 and len(r.contrasts) == 1


def test_the_declaration_says_what_is_reconstructed():
    p = paradigms.get("kunz1976")
    assert p.session.window_days == 56 and p.setting == "mail"
    assert "RECONSTRUCTION" in p.provenance and "RECONSTRUCTION" in p.debriefing
    e1, e2 = p.experiments
    assert e1.condition_names == ("high_status", "low_status")
    assert e2.condition_names == ("more_similar", "less_similar")
    for e in p.experiments:
        assert all("simulation assumption" in r.source for r in e.model.rates.values())
