"""Regan (1971): the declaration, the lab-session logic and the data-only simulation (no screen)."""
from __future__ import annotations

import csv
import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import paradigms
from paradigms.base import DeclarationError
from paradigms.engine.field import END
from paradigms.engine.lab import AGREE, DECLINE, NEXT, LabTrial, parse_rating, parse_tickets
from paradigms.engine.loop import run_participants
from paradigms.engine.prompts import Response
from paradigms.engine.schedule import make_schedule
from paradigms.engine.sessions import simulate
from paradigms.engine.store import SessionStore
from paradigms.protocol import render_protocol


@pytest.fixture(scope="module")
def regan():
    return paradigms.get("regan1971")


# --------------------------------------------------------------------------- #
# Declaration
# --------------------------------------------------------------------------- #
def test_six_cells_crossing_favor_and_liking(regan):
    exp = regan.experiment(1)
    cells = {(c.factors["favor"], c.factors["liking"]) for c in exp.conditions}
    assert cells == {(f, lk) for f in ("confederate_favor", "experimenter_favor", "no_favor")
                     for lk in ("pleasant", "unpleasant")}
    assert regan.setting == "lab" and regan.outcome == "count"
    cols = regan.columns(1)
    # factor columns sit beside condition; no binary 'complied' column in a count paradigm
    assert {"favor", "liking", "tickets", "liking_score", "knew_partner", "suspicion"} <= set(cols)
    assert "complied" not in cols
    assert [c for c in cols if c.startswith("painting_")] == [f"painting_{i:02d}" for i in range(1, 13)]
    tickets = next(m for m in regan.codebook(1) if m.name == "tickets")
    assert (tickets.dtype, tickets.minimum, tickets.maximum) == ("integer", 0, 20)
    # exclusion codes used by the lab, and the engine's own, are the codes the codebook allows
    allowed = next(m for m in regan.codebook(1) if m.name == "exclusion_reason").allowed
    assert set(allowed) == set(regan.exclusion_reasons) | {"session_quit", "session_crash", "declined_consent"}
    assert {"suspicious", "knew_confederate"} <= set(regan.exclusion_reasons)


def test_confirmatory_favor_contrasts_are_declared(regan):
    exp = regan.experiment(1)
    confirmatory = {(k.factor, k.treatment, k.control) for k in exp.contrasts if k.confirmatory}
    assert confirmatory == {("favor", "confederate_favor", ("no_favor",)),
                            ("favor", "confederate_favor", ("experimenter_favor",))}
    # a favor contrast pools both liking levels on each side
    k = next(k for k in exp.contrasts if k.confirmatory)
    assert set(exp.members(k.treatment, k.factor)) == {"confederate_favor_pleasant", "confederate_favor_unpleasant"}
    for k in exp.contrasts:
        if k.factor is None:  # the within-liking versions: same liking level on both sides
            lk = exp.condition(k.treatment).factors["liking"]
            assert all(exp.condition(c).factors["liking"] == lk for c in k.control)


def test_protocol_carries_every_script_and_marks_reconstructions(regan):
    text = render_protocol(regan)
    for c in regan.experiment(1).conditions:
        assert f"### Script: `{c.name}`" in text
        for s in c.steps:
            assert s.say in text
    assert "25 cents" in regan.provenance or "25 cents" in text
    assert "any would help, the more the better" in text.lower()
    assert "RECONSTRUCTION" in text and "WEAK SOURCE" in text
    assert regan.consent in text and regan.debriefing in text
    # the model table names the source of the weak cell means
    assert "one blog (weak" in text and "| `no_favor_pleasant` | 0.80 |" in text


def test_model_description_is_json_safe_and_cites_sources(regan):
    d = regan.experiment(1).model.describe()
    again = json.loads(json.dumps(d))
    assert again["kind"] == "count"
    assert again["cell_means"]["confederate_favor_pleasant"]["mean"] == 1.91
    assert all("weak" in v["source"] for v in again["cell_means"].values())
    assert "assumption" in again["dispersion"]["source"]


# --------------------------------------------------------------------------- #
# Schedule
# --------------------------------------------------------------------------- #
def test_schedule_is_balanced_over_the_six_cells_in_blocks(regan):
    s = make_schedule(regan, 1, 60, seed=11)
    counts = Counter(slot.condition for slot in s.slots)
    assert set(counts) == set(regan.experiment(1).condition_names) and set(counts.values()) == {10}
    for block in range(1, 11):
        assert len({x.condition for x in s.slots if x.block == block}) == 6
    assert s.factors == ("favor", "liking")
    cond = regan.experiment(1).condition
    assert all(lv == (cond(x.condition).factors["favor"], cond(x.condition).factors["liking"])
               for x, lv in zip(s.slots, s.factor_levels))
    # a cut-short last block still differs by at most one per cell
    assert max(Counter(x.condition for x in make_schedule(regan, 1, 63, seed=2).slots).values()) == 11


# --------------------------------------------------------------------------- #
# Validation of entries
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("text", ["-1", "21", "two", "", "   ", None, "3.5", "1e1", "٣"])
def test_ticket_entry_refuses(text):
    with pytest.raises(ValueError, match="^tickets: ") as exc:
        parse_tickets(text)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("text,n", [("0", 0), ("20", 20), (" 7\n", 7), ("05", 5)])
def test_ticket_entry_accepts(text, n):
    assert parse_tickets(text) == n


@pytest.mark.parametrize("value", [0, 10, 4.5, "x", None])
def test_rating_refuses_off_scale(value):
    with pytest.raises(ValueError, match="like_01"):
        parse_rating(value, 1, 9, "like_01")


# --------------------------------------------------------------------------- #
# The lab trial, screen by screen
# --------------------------------------------------------------------------- #
def _trial(regan, cond="no_favor_pleasant"):
    exp = regan.experiment(1)
    return LabTrial(regan, exp, regan.session.design, exp.condition(cond), "sim-test", 1, "2026-01-01T00:00:00")


def _answer(trial, prompt, tickets=("3", "3")):
    k = prompt.kind
    if k in ("painting", "rating"):
        return 5
    if k == "text":
        return 'Art, "mostly"'
    if k == "fidelity":
        return "as_scripted"
    if k == "tickets":
        return tickets[0]
    if k == "tickets_confirm":
        return tickets[1]
    if k == "exclusion":
        return "none"
    if k == "debrief":
        return "keep"
    if k == "consent":
        return AGREE
    return NEXT


def test_trial_walks_through_every_screen_and_fills_the_row(regan):
    t = _trial(regan)
    kinds = []
    while not t.done:
        p = t.prompt()
        kinds.append(p.kind)
        t.respond(Response(_answer(t, p), "2026-01-01T00:10:00"))
    assert kinds[:3] == ["cue_card", "consent", "break"]
    assert kinds.count("painting") == 12 and kinds.count("break") == 3
    assert kinds[-4:] == ["tickets", "tickets_confirm", "exclusion", "debrief"]
    # the second break falls between the two blocks of six paintings
    i = [j for j, k in enumerate(kinds) if k == "break"]
    assert kinds[i[0] + 1:i[1]].count("painting") == 6 and kinds[i[1] + 1:i[2]].count("painting") == 6
    row = t.row()
    assert set(row) <= set(regan.columns(1))
    assert row["tickets"] == 3 and row["liking_score"] == 5.0 and row["suspicion"] == 'Art, "mostly"'
    assert (row["favor"], row["liking"], row["debriefed"], row["data_consent"], row["excluded"]) == \
           ("no_favor", "pleasant", 1, 1, 0)
    assert row["drink_answer"] == "as_scripted" and row["t_ticket_request"] == "2026-01-01T00:10:00"


def test_trial_refuses_bad_entries_and_shows_why(regan):
    t = _trial(regan)
    while t.prompt().kind != "painting":
        p = t.prompt()
        t.respond(Response(_answer(t, p), "t"))
    with pytest.raises(ValueError, match="painting_01: 10 is outside 1..9"):
        t.respond(Response(10, "t"))
    assert t.prompt().kind == "painting" and "outside" in t.prompt().error
    t.respond(Response(9, "t"))
    assert t.prompt().error == "" and t.values["painting_01"] == 9
    while t.prompt().kind != "tickets":
        p = t.prompt()
        t.respond(Response(_answer(t, p), "t"))
    for bad in ("-1", "21", "two", ""):
        with pytest.raises(ValueError):
            t.respond(Response(bad, "t"))
        assert t.prompt().kind == "tickets"
    t.respond(Response("4", "t"))
    with pytest.raises(ValueError, match="differ \\(4 then 5\\)"):
        t.respond(Response("5", "t"))
    assert t.prompt().kind == "tickets" and "differ" in t.prompt().error  # back to the first entry
    t.respond(Response("5", "t"))
    t.respond(Response("5", "t"))
    assert t.values["tickets"] == 5 and t.prompt().kind == "exclusion"
    with pytest.raises(ValueError, match="not a choice"):
        t.respond(Response("maybe", "t"))
    t.respond(Response("suspicious", "t"))
    t.respond(Response("withdraw", "t2"))
    row = t.row()
    assert (row["excluded"], row["exclusion_reason"], row["debriefed"], row["data_consent"], row["t_end"]) == \
           (1, "suspicious", 1, 0, "t2")


def test_declined_consent_keeps_only_a_marked_slot(regan):
    t = _trial(regan)
    t.respond(Response(NEXT, "t"))
    t.respond(Response(DECLINE, "t1"))
    assert t.done
    row = t.row()
    assert (row["excluded"], row["data_consent"], row["debriefed"]) == (1, 0, 0)
    assert row.get("tickets") is None and not any(k.startswith("painting_") for k in row)


# --------------------------------------------------------------------------- #
# Data-only simulation
# --------------------------------------------------------------------------- #
def test_data_only_is_reproducible_with_a_seed(regan, tmp_path):
    a = simulate(regan, 1, 24, seed=4, data_dir=tmp_path / "a")
    b = simulate(regan, 1, 24, seed=4, data_dir=tmp_path / "b")
    c = simulate(regan, 1, 24, seed=5, data_dir=tmp_path / "c")
    assert a.csv_path.read_bytes() == b.csv_path.read_bytes()
    assert a.csv_path.read_bytes() != c.csv_path.read_bytes()
    df = pd.read_csv(a.csv_path, dtype=str, keep_default_na=False)
    assert tuple(df.columns) == regan.columns(1) and len(df) == 24
    assert Counter(df["condition"]).most_common()[-1][1] == 4  # balanced: 4 per cell
    assert (df["condition"] == df["favor"] + "_" + df["liking"]).all()
    t = pd.to_numeric(df["tickets"])
    assert ((t >= 0) & (t <= 20)).all()
    likes = df[["like_01", "like_02", "like_03", "like_04"]].astype(int)
    assert np.allclose(likes.mean(axis=1), df["liking_score"].astype(float))
    meta = json.loads(a.sidecar_path.read_text())
    assert meta["simulation_model"]["kind"] == "count" and meta["n_rows"] == 24


def test_model_draws_follow_the_model(regan):
    """Cell means within 4 SE of the model's; liking tracks tickets in no favor, not in confederate favor."""
    DESIGN = regan.session.design
    model = regan.experiment(1).model
    rng = np.random.default_rng(9)
    rows = []
    for cond in regan.experiment(1).condition_names:
        for _ in range(2000):
            p = model.draw(cond, rng, DESIGN)
            rows.append({"condition": cond, **model.cell_factors[cond], "tickets": p.tickets,
                         "liking_score": np.mean([p.values[f"like_0{i}"] for i in range(1, 5)])})
    df = pd.DataFrame(rows)
    for cond, g in df.groupby("condition"):
        mu = model.cell_means[cond].mean
        var = mu + model.dispersion * mu ** 2 + mu ** 2 * (np.exp(0.6 ** 2) - 1)  # upper bound incl. liking
        assert abs(g["tickets"].mean() - mu) < 4 * np.sqrt(var / len(g)), cond
    within = {f: g.groupby("liking")[["tickets", "liking_score"]].apply(
        lambda h: h["tickets"].corr(h["liking_score"])).mean() for f, g in df.groupby("favor")}
    assert within["no_favor"] > 0.2 and abs(within["confederate_favor"]) < 0.06


def test_rate_override_sets_cell_means(regan, tmp_path):
    r = simulate(regan, 1, 60, seed=2, data_dir=tmp_path / "a", rates={"no_favor": 0.0,
                                                                       "confederate_favor_pleasant": 0.0})
    df = pd.read_csv(r.csv_path)
    zero = df["condition"].isin(["no_favor_pleasant", "no_favor_unpleasant", "confederate_favor_pleasant"])
    assert (df.loc[zero, "tickets"] == 0).all() and df.loc[~zero, "tickets"].sum() > 0
    meta = json.loads(r.sidecar_path.read_text())
    assert meta["simulation_model"]["cell_means"]["no_favor_unpleasant"]["source"] == "set on the command line"
    with pytest.raises(DeclarationError, match="unknown condition 'zoo'"):
        simulate(regan, 1, 3, seed=2, data_dir=tmp_path / "b", rates={"zoo": 0.5})


def test_exclusions_and_withdrawals_are_coded(regan, tmp_path):
    from dataclasses import replace

    # the simulation model is declared data: a study with other assumptions is the same study, replaced
    exp = regan.experiment(1)
    model = replace(exp.model, p_suspicious=0.3, p_knew_confederate=0.2, p_withdraw=0.25)
    r = simulate(replace(regan, experiments=(replace(exp, model=model),)), 1, 200, seed=3, data_dir=tmp_path)
    df = pd.read_csv(r.csv_path, keep_default_na=False)
    ex = df[df.excluded == 1]
    assert set(ex["exclusion_reason"]) == {"suspicious", "knew_confederate"}
    knew = df[df.exclusion_reason == "knew_confederate"]
    assert (knew["knew_partner"] > 1).all() and (df.loc[df.excluded == 0, "knew_partner"] == 1).all()
    assert 25 < (df.data_consent == 0).sum() < 75 and (df.debriefed == 1).all()


def test_free_text_is_quoted_and_round_trips(regan, tmp_path):
    text = 'He said "buy some", I think; about favors,\nnot art'
    with SessionStore(tmp_path, regan, 1, "S1", "E1", 1) as store:
        store.append({"participant_id": "P1", "condition": "no_favor_pleasant", "excluded": 0, "debriefed": 1,
                      "t_start": "a", "t_end": "b", "suspicion": text, "tickets": 2})
    with open(store.csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["suspicion"] == text and rows[0]["tickets"] == "2"
    assert pd.read_csv(store.csv_path)["suspicion"].iloc[0] == text


def test_quit_mid_session_saves_the_participant_as_excluded(regan, tmp_path):
    from paradigms.engine.prompts import QUIT

    class IO:
        def __init__(self):
            self.n = 0

        def wait(self, prompt):
            self.n += 1
            if prompt.kind == "painting" and prompt.index == 3:
                return Response(QUIT, "tq")
            return Response({"ready": NEXT, "consent": AGREE}.get(prompt.kind, _answer(None, prompt)), "t")

    slots = iter(make_schedule(regan, 1, 6, seed=1).slots)
    with SessionStore(tmp_path, regan, 1, "S1", "E1", 1) as store:
        status = run_participants(regan, 1, store, slots, IO(), lambda: "P1")
    assert status == "aborted"
    df = pd.read_csv(store.csv_path, keep_default_na=False)
    assert len(df) == 1 and df.loc[0, "exclusion_reason"] == "session_quit" and df.loc[0, "painting_02"] == 5
    assert df.loc[0, "painting_03"] == "" and df.loc[0, "tickets"] == ""
    events = [json.loads(x) for x in store.events_path.read_text().splitlines()]
    # the row is on disk first; then the participant's screen is handed over before the session's end
    assert [(e["event"], e.get("screen")) for e in events[-3:]] == [
        ("row_written", None), ("show", "handover"), ("response", "handover")]
    assert all("chars" in e for e in events if e.get("screen", "").startswith("text:"))


def test_end_session_from_the_ready_screen(regan, tmp_path):
    class IO:
        def wait(self, prompt):
            return Response(END, "t")

    with SessionStore(tmp_path, regan, 1, "S1", "E1", 1) as store:
        assert run_participants(regan, 1, store, iter(()), IO(), lambda: "P") == "completed"
    assert store.n_rows == 0
