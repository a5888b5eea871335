"""The requester's screens as logic: every path through a field script, no window."""
from __future__ import annotations

import pytest

from paradigms.engine.field import APPROACH, END, EXCLUDE, QUIT, FieldTrial, Response
from paradigms.engine.loop import run_participants
from paradigms.engine.schedule import make_schedule
from paradigms.engine.store import SessionStore, read_rows


def _trial(ditf, cond, exp=1):
    e = ditf.experiment(exp)
    return FieldTrial(ditf, e, e.condition(cond), "P1", 1, "t0")


def _feed(trial, *codes):
    for i, c in enumerate(codes):
        trial.respond(Response(c, f"t{i + 1}"))
    return trial.row()


def test_door_in_the_face_agree(ditf):
    row = _feed(_trial(ditf, "rejection_moderation"), "refuse", "agree", "debriefed")
    assert row["first_request_answer"] == "refuse" and row["target_request_answer"] == "agree"
    assert row["complied"] == 1 and row["excluded"] == 0 and row["debriefed"] == 1 and row["data_consent"] == 1
    assert row["t_first_request"] == "t1" and row["t_target_request"] == "t2" and row["t_end"] == "t3"


def test_target_alone_refuse_and_withdraw(ditf):
    row = _feed(_trial(ditf, "smaller_request_only"), "refuse", "withdrew")
    assert row["complied"] == 0 and row["data_consent"] == 0 and row["debriefed"] == 1
    assert "first_request_answer" not in row or row["first_request_answer"] is None


def test_agreeing_to_the_extreme_request_excludes_and_skips_target(ditf):
    t = _trial(ditf, "rejection_moderation")
    t.respond(Response("agree", "t1"))
    assert t.prompt().kind == "debrief"
    row = _feed(t, "not_debriefed")
    assert row["excluded"] == 1 and row["exclusion_reason"] == "agreed_first_request"
    assert row["complied"] is None and row["debriefed"] == 0


def test_exposure_choice_of_counselling_is_not_compliance(ditf):
    row = _feed(_trial(ditf, "exposure_control"), "agree_first", "debriefed")
    assert row["complied"] == 0 and row["target_request_answer"] == "agree_first"


def test_exclusion_menu_and_back(ditf):
    t = _trial(ditf, "rejection_moderation")
    t.respond(Response(EXCLUDE, "t1"))
    assert t.prompt().kind == "exclude"
    t.respond(Response("back", "t2"))
    assert t.prompt().kind == "step"
    row = _feed(t, "refuse", EXCLUDE, "left_before_request", "not_debriefed")
    assert row["excluded"] == 1 and row["exclusion_reason"] == "left_before_request"
    assert row["first_request_answer"] == "refuse" and row["complied"] is None


def test_answer_not_on_screen_refused(ditf):
    t = _trial(ditf, "smaller_request_only")
    with pytest.raises(ValueError, match="not a choice"):
        t.respond(Response("agree_first", "t1"))
    with pytest.raises(ValueError, match="not a choice"):
        t.respond(Response("maybe", "t1"))


def test_every_prompt_key_is_unique(ditf):
    for e in ditf.experiments:
        for c in e.conditions:
            t = FieldTrial(ditf, e, c, "P", 1, "t")
            while not t.done:
                p = t.prompt()
                keys = [ch.key for ch in p.choices]
                assert len(keys) == len(set(keys)), (c.name, p.title)
                t.respond(Response(p.choices[0].code if p.choices[0].code != EXCLUDE else p.choices[1].code, "t"))


class ListIO:
    def __init__(self, codes):
        self.codes = list(codes)

    def wait(self, prompt):
        return Response(self.codes.pop(0), "t")


def test_quit_mid_participant_saves_partial_record(ditf, tmp_path):
    sched = make_schedule(ditf, 1, 6, 1)
    store = SessionStore(tmp_path, ditf, 1, "S1", "E1")
    ids = iter(["A", "B"])
    first = sched.slots[0].condition
    answers = {"rejection_moderation": ["refuse", "agree"], "exposure_control": ["agree"],
               "smaller_request_only": ["agree"]}[first]
    with store:
        store.status = run_participants(ditf, 1, store, iter(sched.slots),
                                         ListIO([APPROACH, *answers, "debriefed", APPROACH, QUIT]),
                                         lambda: next(ids))
    rows = read_rows(store.csv_path)
    assert store.status == "aborted"
    assert [r["participant_id"] for r in rows] == ["A", "B"]
    assert rows[0]["complied"] == "1" and rows[1]["excluded"] == "1"
    assert rows[1]["exclusion_reason"] == "session_quit" and rows[1]["complied"] == ""


def test_end_session_button(ditf, tmp_path):
    store = SessionStore(tmp_path, ditf, 1, "S1", "E1")
    with store:
        store.status = run_participants(ditf, 1, store, iter(make_schedule(ditf, 1, 3, 1).slots),
                                         ListIO([END]), lambda: "X")
    assert store.status == "completed" and read_rows(store.csv_path) == []
