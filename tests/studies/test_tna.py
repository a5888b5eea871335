"""That's-not-all paradigms (Burger 1986; Pollock et al. 1998): declarations, schedule,
the interruption-timing deviation, and the data-only simulated customer."""
from __future__ import annotations

import csv
import itertools
import re
from collections import Counter
from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest

import paradigms
from paradigms.engine.field import APPROACH, END, FieldTrial, Response
from paradigms.engine.loop import run_participants
from paradigms.engine.schedule import make_schedule
from paradigms.engine.sessions import simulate
from paradigms.engine.store import SessionStore

from tests.conftest import ROOT


@pytest.fixture
def burger():
    return paradigms.get("burger1986")


@pytest.fixture
def pollock():
    return paradigms.get("pollock1998")


def _prices(text: str) -> list[float]:
    """Prices in spoken order: "$1.25", "75 cents", "one dollar"."""
    out = []
    for m in re.finditer(r"\$(\d+(?:\.\d+)?)|(\d+) cents|one dollar", text):
        out.append(float(m.group(1)) if m.group(1) else int(m.group(2)) / 100 if m.group(2) else 1.0)
    return out


def _published():
    with open(ROOT / "data" / "published" / "published_results.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- #
# Declarations
# --------------------------------------------------------------------------- #
def test_both_paradigms_are_registered():
    assert {"burger1986", "pollock1998"} <= set(paradigms.names())


@pytest.mark.parametrize("pid", ["burger1986", "pollock1998"])
def test_treatments_interrupt_before_the_decision_and_controls_do_not(pid):
    p = paradigms.get(pid)
    for e in p.experiments:
        for c in e.conditions:
            *before, last = c.steps
            assert last.target and [s.target for s in before] == [False] * len(before)
            if c.role == "treatment":
                assert len(before) == 1, c.name
                cue_step = before[0]
                assert cue_step.cue.startswith("INTERRUPT NOW") and cue_step.cue_after > 0
                # exactly one answer flags the deviation; neither excludes nor ends the script
                flags = [a for a in cue_step.answers if a.sets.get("protocol_deviation") == "spoke_before_cue"]
                assert len(flags) == 1
                assert all("excluded" not in a.sets and not a.ends for a in cue_step.answers)
            else:
                assert before == [] and not last.cue, c.name


@pytest.mark.parametrize("pid", ["burger1986", "pollock1998"])
def test_buying_sets_the_final_price_and_not_buying_zero(pid):
    p = paradigms.get(pid)
    for e in p.experiments:
        for c in e.conditions:
            target = c.steps[-1]
            by_complied = {a.sets["complied"]: a.sets["amount_paid"] for a in target.answers}
            assert by_complied[0] == 0.0
            # the price paid is the last price the script says aloud
            spoken = _prices(" ".join(s.say for s in c.steps))
            assert spoken and spoken[-1] == by_complied[1], (c.name, spoken)


def test_pollock_is_a_complete_2x2x3_factorial(pollock):
    e = pollock.experiment(1)
    cells = [(c.factors["price"], c.factors["technique"], c.factors["reason"]) for c in e.conditions]
    assert sorted(cells) == sorted(itertools.product(("1", "5"), ("tna", "control"), ("none", "weak", "good")))
    assert e.factors == ("price", "technique", "reason")
    cols = pollock.columns(1)
    assert cols.index("condition") < cols.index("price")  # factor columns sit beside condition
    for c in e.conditions:
        assert (c.role == "treatment") == (c.factors["technique"] == "tna")
        announced = "$1.25" if c.factors["price"] == "1" else "$6.25"
        assert (announced in c.steps[0].say) == (c.factors["technique"] == "tna")
    # each contrast compares cells that differ in technique only
    for k in e.contrasts:
        t, (ctl,) = e.condition(k.treatment).factors, k.control
        ctl = e.condition(ctl).factors
        assert t["technique"] == "tna" and ctl["technique"] == "control"
        assert (t["price"], t["reason"]) == (ctl["price"], ctl["reason"])
    assert len(e.contrasts) == 6 and sum(k.confirmatory for k in e.contrasts) >= 1


def test_reason_text_is_in_the_final_offer_of_its_cells_only(pollock):
    from paradigms.pollock1998 import REASON_TEXT
    weak, good = REASON_TEXT["weak"], REASON_TEXT["good"]
    assert weak and good and weak != good and not REASON_TEXT["none"]
    for c in pollock.experiment(1).conditions:
        final = c.steps[-1].say
        reason = c.factors["reason"]
        assert (weak in final) == (reason == "weak") and (good in final) == (reason == "good")
        assert all(weak not in s.say and good not in s.say for s in c.steps[:-1])


def test_burger_rates_are_the_published_ones_and_the_conflict_is_recorded(burger):
    pub = [r for r in _published() if r["study"] == "burger1986" and r["experiment"] == "1"
           and r["statistic"] == "rate"]
    tna = {float(r["value"]) for r in pub if r["condition"] == "thats_not_all"}
    ctl = {float(r["value"]) for r in pub if r["condition"] == "control"}
    assert len(ctl) == 2  # the reference keeps both control figures
    rates = burger.experiment(1).model.rates
    assert rates["thats_not_all"].p in tna
    assert rates["control"].p in ctl
    other = (ctl - {rates["control"].p}).pop()
    assert f"{round(100 * other)}%" in rates["control"].source and "CONFLICT" in rates["control"].source


@pytest.mark.parametrize("pid", ["burger1986", "pollock1998"])
def test_no_simulation_rate_is_invented(pid):
    """Every default rate is a figure of the reference data; borrowed ones say so."""
    p = paradigms.get(pid)
    printed = {float(r["value"]) for r in _published() if r["study"] == pid and r["statistic"] == "rate"
               and r["value"] not in ("", "NA")}
    for e in p.experiments:
        for name, rate in e.model.rates.items():
            assert rate.p in printed, (e.number, name, rate.p)
            assert rate.source


def test_pollock_no_reason_cells_use_the_no_reason_figures(pollock):
    pub = {r["condition"]: float(r["value"]) for r in _published()
           if r["study"] == "pollock1998" and r["statistic"] == "rate" and r["value"] not in ("", "NA")}
    rates = pollock.experiment(1).model.rates
    for name in ("cheap_thats_not_all_no_reason", "cheap_control_no_reason"):
        assert rates[name].p == pub[name]
    for tech in ("thats_not_all", "control"):
        for reason in ("no", "weak", "good"):
            assert rates[f"expensive_{tech}_{reason}_reason"].p == pub[f"expensive_{tech}"]


def test_exclusion_reasons_are_codes_of_the_common_codebook(burger, pollock):
    from paradigms.base import COMMON_MEASURES
    allowed = next(m for m in COMMON_MEASURES if m.name == "exclusion_reason").allowed
    for p in (burger, pollock):
        assert set(p.exclusion_reasons) <= set(allowed)
        assert "agreed_first_request" not in p.exclusion_reasons  # no first request to agree to


# --------------------------------------------------------------------------- #
# Schedule
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("n,seed", [(120, 7), (36, 2026)])
def test_pollock_schedule_is_balanced_over_the_twelve_cells(pollock, n, seed):
    e = pollock.experiment(1)
    s = make_schedule(pollock, 1, n, seed)
    counts = Counter(slot.condition for slot in s.slots)
    assert set(counts) == set(e.condition_names) and set(counts.values()) == {n // 12}
    for b in set(slot.block for slot in s.slots):
        assert sorted(x.condition for x in s.slots if x.block == b) == sorted(e.condition_names)
    assert s.factors == ("price", "technique", "reason")
    for slot, levels in zip(s.slots, s.factor_levels):
        f = e.condition(slot.condition).factors
        assert levels == (f["price"], f["technique"], f["reason"])
    # each factor is balanced too
    for i, f in enumerate(s.factors):
        per = Counter(lv[i] for lv in s.factor_levels)
        assert len(set(per.values())) == 1
    assert make_schedule(pollock, 1, n, seed).to_csv() == s.to_csv()
    assert make_schedule(pollock, 1, n, seed + 1).to_csv() != s.to_csv()


# --------------------------------------------------------------------------- #
# The interruption deviation
# --------------------------------------------------------------------------- #
def test_customer_answering_first_is_flagged_not_excluded(burger):
    e = burger.experiment(1)
    trial = FieldTrial(burger, e, e.condition("thats_not_all"), "P1", 1, "2026-01-05T10:00:00+00:00")
    assert trial.prompt().step.cue  # the first screen is the timed opening offer
    for code in ("answered_first", "agree", "debriefed"):
        trial.respond(Response(code, "2026-01-05T10:00:05+00:00"))
    row = trial.row()
    assert row["protocol_deviation"] == "spoke_before_cue"
    assert row["opening_offer_answer"] == "answered_first"
    assert row["excluded"] == 0 and not row["exclusion_reason"]
    assert row["complied"] == 1 and row["amount_paid"] == 0.75


def test_interrupting_in_time_records_no_deviation(pollock):
    e = pollock.experiment(1)
    trial = FieldTrial(pollock, e, e.condition("expensive_thats_not_all_good_reason"), "P2", 1, "t0")
    for code in ("in_time", "refuse", "debriefed"):
        trial.respond(Response(code, "t1"))
    row = trial.row()
    assert row.get("protocol_deviation") is None and row["opening_offer_answer"] == "in_time"
    assert row["complied"] == 0 and row["amount_paid"] == 0.0
    assert (row["price"], row["technique"], row["reason"]) == ("5", "tna", "good")


@pytest.mark.parametrize("after_s,flag", [(0.6, "interrupted_before_cue"), (2.4, "interrupted_before_cue"),
                                           (2.5, None), (3.1, None)])
def test_interrupting_before_the_banner_is_a_deviation(burger, after_s, flag):
    """I tapped before the banner is due (2.5 s after the Approach tap) is flagged, kept, not excluded."""
    from datetime import datetime, timedelta
    e = burger.experiment(1)
    t0 = datetime.fromisoformat("2026-01-05T10:00:00.000+00:00")
    trial = FieldTrial(burger, e, e.condition("thats_not_all"), "P1", 1, t0.isoformat())
    step = trial.prompt().step
    assert step.cue_after == 2.5 and step.before_cue == {"protocol_deviation": "interrupted_before_cue"}
    for code, dt in (("in_time", after_s), ("agree", after_s + 5), ("debriefed", after_s + 9)):
        trial.respond(Response(code, (t0 + timedelta(seconds=dt)).isoformat()))
    row = trial.row()
    assert row.get("protocol_deviation") == flag
    assert row["opening_offer_answer"] == "in_time" and row["excluded"] == 0 and row["complied"] == 1


def test_cue_is_timed_from_the_tap_that_put_the_screen_up(burger):
    """After Exclude... and Back, the opening offer is back on screen: its cue counts from Back."""
    e = burger.experiment(1)
    trial = FieldTrial(burger, e, e.condition("thats_not_all"), "P1", 1, "2026-01-05T10:00:00+00:00")
    trial.respond(Response("exclude", "2026-01-05T10:00:02+00:00"))
    trial.respond(Response("back", "2026-01-05T10:00:03+00:00"))
    trial.respond(Response("in_time", "2026-01-05T10:00:04+00:00"))  # 4 s after Approach, 1 s after Back
    assert trial.values["protocol_deviation"] == "interrupted_before_cue"


class _ListIO:
    """A scripted IO that taps the given codes in order (then ends the session)."""

    def __init__(self, codes):
        self.codes = list(codes)
        self.prompts = []

    def wait(self, prompt):
        self.prompts.append(prompt)
        code = self.codes.pop(0) if self.codes else END
        return Response(code, "2026-01-05T10:00:00.000+00:00")


def test_run_field_session_writes_the_flagged_row_and_the_loader_keeps_it(burger, tmp_path):
    from analysis.load.sessions import load_sessions
    from paradigms.engine.schedule import Slot

    slots = iter([Slot(1, 1, "thats_not_all"), Slot(2, 1, "control")])
    io = _ListIO([APPROACH, "answered_first", "refuse", "debriefed", APPROACH, "agree", "debriefed", END])
    ids = iter(["P1", "P2"])
    with SessionStore(tmp_path, burger, 1, "S1", "E1", 1) as store:
        status = run_participants(burger, 1, store, slots, io, lambda: next(ids))
    assert status == "completed"
    cue_prompts = [p for p in io.prompts if p.step is not None and p.step.cue]
    assert len(cue_prompts) == 1 and cue_prompts[0].condition == "thats_not_all"
    loaded = load_sessions(store.csv_path)
    d = loaded.data.set_index("participant_id")
    assert d.loc["P1", "protocol_deviation"] == "spoke_before_cue"
    assert int(d.loc["P1", "excluded"]) == 0 and len(loaded.analysable()) == 2
    assert pd.isna(d.loc["P2", "protocol_deviation"]) and float(d.loc["P2", "amount_paid"]) == 0.75


# --------------------------------------------------------------------------- #
# Data-only simulation
# --------------------------------------------------------------------------- #
def test_data_only_simulation_is_reproducible(pollock, tmp_path):
    a = simulate(pollock, 1, 48, seed=11, data_dir=tmp_path / "a")
    b = simulate(pollock, 1, 48, seed=11, data_dir=tmp_path / "b")
    c = simulate(pollock, 1, 48, seed=12, data_dir=tmp_path / "c")
    assert a.csv_path.read_bytes() == b.csv_path.read_bytes()
    assert a.csv_path.read_bytes() != c.csv_path.read_bytes()
    assert a.rows == 48


def _sim(pid, experiment, n, seed, path, speak_first, monkeypatch):
    p = paradigms.get(pid)
    p = replace(p, session=replace(p.session, speak_first=speak_first))  # the assumption is declared data
    res = simulate(p, experiment, n, seed=seed, data_dir=path)
    return res, pd.read_csv(res.csv_path, dtype=str, keep_default_na=False)


def _seconds(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


@pytest.mark.parametrize("speak_first", [0.0, 1.0])
def test_simulated_customer_speaking_first_answers_before_the_cue(speak_first, tmp_path, monkeypatch):
    from paradigms.vocab.sales import INTERRUPT_AFTER_S
    res, d = _sim("burger1986", 2, 40, 5, tmp_path, speak_first, monkeypatch)
    tna = d[d["condition"] == "price_reduction"]
    ctl = d[d["condition"] == "price_reduction_control"]
    assert len(tna) == 20
    flagged = tna["protocol_deviation"] == "spoke_before_cue"
    assert flagged.all() if speak_first else not flagged.any()
    assert (ctl["protocol_deviation"] == "").all() and (ctl["opening_offer_answer"] == "").all()
    assert (d["excluded"] == "0").all()
    lag = [_seconds(s, t) for s, t in zip(tna["t_start"], tna["t_opening_offer"])]
    assert all((x < INTERRUPT_AFTER_S) if speak_first else (x > INTERRUPT_AFTER_S) for x in lag)
    import json
    assert json.loads(res.sidecar_path.read_text())["simulated_speak_first_p"] == speak_first


def test_default_speak_first_rate_is_small_but_not_zero(tmp_path):
    res = simulate(paradigms.get("burger1986"), 1, 400, seed=3, data_dir=tmp_path)
    d = pd.read_csv(res.csv_path, dtype=str, keep_default_na=False)
    share = (d.loc[d["condition"] == "thats_not_all", "protocol_deviation"] == "spoke_before_cue").mean()
    assert 0 < share < 0.2


def test_simulated_rows_carry_factors_prices_and_pass_the_loader(pollock, tmp_path):
    from analysis.load.sessions import load_sessions
    res = simulate(pollock, 1, 120, seed=9, data_dir=tmp_path)
    d = load_sessions(res.csv_path).data
    e = pollock.experiment(1)
    for _, r in d.iterrows():
        f = e.condition(r["condition"]).factors
        assert (r["price"], r["technique"], r["reason"]) == (f["price"], f["technique"], f["reason"])
        assert float(r["amount_paid"]) == (float(r["price"]) if r["complied"] == 1 else 0.0)
    # the default rates differ between the prices: the simulated $1 box sells better than the $5 box
    rate = d.groupby("price")["complied"].mean()
    assert rate["1"] > rate["5"]


def test_rate_override_reaches_the_simulated_customer(burger, tmp_path):
    res = simulate(burger, 1, 40, seed=1, data_dir=tmp_path, rates={"thats_not_all": 1.0, "control": 0.0})
    d = pd.read_csv(res.csv_path)
    assert (d.loc[d["condition"] == "thats_not_all", "complied"] == 1).all()
    assert (d.loc[d["condition"] == "control", "complied"] == 0).all()


def test_cli_simulates_burger_experiment_6(cli, tmp_path):
    proc = cli("simulate", "burger1986", "--experiment", "6", "--participants", "8", "--seed", "2",
               "--data-dir", tmp_path / "d", check=0)
    assert "bargain_control" in proc.stdout
    assert list((tmp_path / "d").glob("study-burger1986_exp-6_*_data.csv"))
