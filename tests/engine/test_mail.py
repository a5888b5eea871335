"""Kunz & Woolcott (1976): the mailing log across sessions, its bad input, and the loader's join.

A card is two records: a dispatch record when it is posted, an outcome record days or weeks
later, in another session.  The tests drive the one session loop with the responses a technician
gives, at the times given, and read the files back through the loader.
"""
from __future__ import annotations

import json
import warnings
from datetime import date

import pandas as pd
import pytest

import paradigms
from analysis import load_sessions
from analysis.errors import DataValidationError
from analysis.load.mail import PendingOutcomeWarning
from paradigms.engine.loop import run_participants
from paradigms.engine.mail import MailDriver
from paradigms.engine.prompts import END, Response, SessionScreen
from paradigms.engine.schedule import make_schedule
from paradigms.engine.store import SessionStore

KUNZ = paradigms.get("kunz1976")
DAY1 = "2026-01-05T10:{:02d}:00.000+00:00"
LATER = "2026-01-26T09:{:02d}:00.000+00:00"   # three weeks on: windows open until 2026-03-02
AFTER = "2026-03-10T09:{:02d}:00.000+00:00"   # the windows of cards sent on 2026-01-05 have closed


class TypedIO(SessionScreen):
    """The technician: each screen gets the next (value, time); the prompts are kept to look at."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.prompts = []

    def wait(self, prompt):
        self.prompts.append(prompt)
        value, t = self.answers.pop(0)
        return Response(value, t)


def _session(root, answers, slots=None, session=None):
    """One mail session with these answers; returns the IO (its prompts) and the store."""
    io = TypedIO(answers)
    ids = iter(f"P{i:04d}" for i in range(1, 1000)) if slots is not None else iter(())
    store = SessionStore(root, KUNZ, 1, "S1", "E1", session, {"mode": "run"})
    with store:
        store.status = run_participants(KUNZ, 1, store, iter(slots or ()), io, lambda: next(ids), MailDriver(KUNZ.session))
    return io, store


def _send(n, minute=0):
    """Answers that send n cards, each posted."""
    out = []
    for i in range(n):
        out += [("approach", DAY1.format(minute + 2 * i)), ("sent", DAY1.format(minute + 2 * i + 1))]
    return out


def _events(store):
    return [json.loads(x) for x in store.events_path.read_text().splitlines()]


@pytest.fixture
def sent4(tmp_path):
    """Session 1 posts four cards (P0001..P0004) on 2026-01-05."""
    slots = make_schedule(KUNZ, 1, 4, seed=1).slots
    _, store = _session(tmp_path, _send(4) + [(END, DAY1.format(30))], slots=slots)
    return tmp_path, store


def test_a_card_is_a_dispatch_record_then_an_outcome_record_in_a_later_session(sent4):
    root, first = sent4
    before = first.csv_path.read_bytes()
    io, second = _session(root, [
        ("received:P0002", LATER.format(0)), ("2026-01-20", LATER.format(1)), ("posted", LATER.format(2)),
        (END, LATER.format(3))])
    # the log screen lists the four cards out, by slot, with their windows
    ready = io.prompts[0]
    assert [c.participant_id for c in ready.cards] == ["P0001", "P0002", "P0003", "P0004"]
    assert all(c.window_closes == "2026-03-02" and c.window_open for c in ready.cards)
    assert first.csv_path.read_bytes() == before  # nothing rewritten: the outcome went to the new session's file
    rows = pd.read_csv(second.csv_path, dtype=str, keep_default_na=False)
    assert rows[["participant_id", "record", "reply", "reply_date", "reply_days", "complied", "debriefed"]
                ].values.tolist() == [["P0002", "outcome", "received", "2026-01-20", "15", "1", "1"]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_sessions(root)
    data = loaded.data.set_index("participant_id")
    assert list(data.index) == ["P0002"]  # the one card whose outcome is in
    assert int(data.loc["P0002", "complied"]) == 1 and data.loc["P0002", "outcome_file"] == str(second.csv_path)
    pending = loaded.report[loaded.report["status"] == "pending"]
    assert sorted(pending["participant_id"]) == ["P0001", "P0003", "P0004"]
    # open or closed depends on the day the test runs (the join's own test fixes the day)
    assert pending["reason"].str.match(r"reply window (open until|closed) 2026-03-02").all()
    assert not (loaded.report["status"] == "excluded").any()  # pending is never a refusal, nor an exclusion
    assert any(issubclass(w.category, PendingOutcomeWarning) and "3 card(s)" in str(w.message) for w in caught)
    # the analysis says how many are pending, beside the excluded and the withdrawn
    from analysis.api import analyze
    (res,) = analyze(loaded, warn=False)
    assert (res.n_analysed, res.n_pending, res.to_dict()["n_pending"]) == (1, 3, 3)
    assert "analysed N = 1; excluded 0; withdrawn 0 (never analysed); pending 3 (outcome not known yet" in str(res)


def test_no_reply_once_the_window_has_closed_and_a_returned_card(sent4):
    root, _ = sent4
    _session(root, [("none:P0001", AFTER.format(0)), ("posted", AFTER.format(1)),
                    ("returned:P0003", AFTER.format(2)), ("confirm", AFTER.format(3)),
                    ("received:P0004", AFTER.format(4)), ("2026-03-05", AFTER.format(5)),
                    ("not_posted", AFTER.format(6)), (END, AFTER.format(7))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingOutcomeWarning)
        loaded = load_sessions(root)
    d = loaded.data.set_index("participant_id")
    assert int(d.loc["P0001", "complied"]) == 0 and d.loc["P0001", "reply"] == "none"
    # a reply after the window (59 days) is recorded and coded late: not compliance
    assert int(d.loc["P0004", "reply_days"]) == 59 and int(d.loc["P0004", "complied"]) == 0
    assert int(d.loc["P0004", "debriefed"]) == 0
    rep = loaded.report.set_index("participant_id")
    assert rep.loc["P0003", "status"] == "excluded" and rep.loc["P0003", "reason"] == "returned"
    assert rep.loc["P0002", "status"] == "pending"
    assert list(loaded.analysable()["participant_id"].sort_values()) == ["P0001", "P0004"]


@pytest.mark.parametrize("answers, message", [
    ([("received:P0999", LATER.format(0))], "card 'P0999' was never sent"),
    ([("none:P0001", LATER.format(0))], "the reply window of card 1 (P0001) is open until 2026-03-02"),
    ([("received", LATER.format(0))], "pick the card first"),
])
def test_the_log_refuses_an_outcome_it_cannot_have(sent4, answers, message):
    root, _ = sent4
    io, store = _session(root, answers + [(END, LATER.format(9))])
    assert store.n_rows == 0  # nothing written
    refused = [e for e in _events(store) if e["event"] == "refused"]
    assert len(refused) == 1 and message in refused[0]["message"]
    assert message in io.prompts[1].error  # the log screen shows why, in one line


def test_a_reply_dated_before_its_card_was_sent_or_in_the_future_is_refused(sent4):
    root, _ = sent4
    io, store = _session(root, [("received:P0001", LATER.format(0)), ("2026-01-02", LATER.format(1)),
                                ("2026-02-30", LATER.format(2)), ("2026-02-01", LATER.format(3)),
                                ("2026-01-19", LATER.format(4)), ("posted", LATER.format(5)), (END, LATER.format(6))])
    refused = [e["message"] for e in _events(store) if e["event"] == "refused"]
    cond = make_schedule(KUNZ, 1, 4, seed=1).slots[0].condition.replace("_", " ")
    assert refused == [f"the reply is dated 2026-01-02, before card 1 (P0001, {cond}, sent 2026-01-05) was sent",
                       "'2026-02-30' is not a date: type it as YYYY-MM-DD, e.g. 2026-01-20",
                       "2026-02-01 is after today (2026-01-26): type the day the reply arrived"]
    assert io.prompts[2].error == refused[0]  # the date screen shows the refusal
    rows = pd.read_csv(store.csv_path, dtype=str, keep_default_na=False)
    assert rows["reply_date"].tolist() == ["2026-01-19"]


def test_a_second_reply_for_the_same_card_is_refused_in_a_later_session(sent4):
    root, _ = sent4
    _session(root, [("received:P0001", LATER.format(0)), ("2026-01-19", LATER.format(1)), ("posted", LATER.format(2)),
                    (END, LATER.format(3))])
    io, store = _session(root, [("received:P0001", AFTER.format(0)), (END, AFTER.format(1))])
    (refused,) = [e["message"] for e in _events(store) if e["event"] == "refused"]
    assert "has its outcome already (received, received 2026-01-19" in refused and "nothing written" in refused
    assert store.n_rows == 0
    # the card no longer shows on the log
    assert "P0001" not in [c.participant_id for c in io.prompts[0].cards]


def test_back_records_nothing_and_the_schedule_used_up_still_lets_outcomes_in(sent4):
    root, _ = sent4
    _, store = _session(root, [("received:P0001", LATER.format(0)), ("", LATER.format(1)),
                               ("none:P0002", AFTER.format(0)), ("back", AFTER.format(1)), (END, AFTER.format(2))])
    assert store.n_rows == 0 and store.csv_path.read_text().count("\n") == 1  # the header only


# --------------------------------------------------------------------------- #
# The loader, on files as a hand (or a second tablet) might have left them
# --------------------------------------------------------------------------- #
def _files(root):
    return sorted(root.glob("*_data.csv"))


def _edit(path, fn):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = fn(df)
    path.write_text(df.to_csv(index=False, lineterminator="\n"))
    side = path.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta.pop("csv_sha256", None)
    side.write_text(json.dumps(meta))


@pytest.fixture
def replied(sent4):
    root, _ = sent4
    _session(root, [("received:P0001", LATER.format(0)), ("2026-01-19", LATER.format(1)), ("posted", LATER.format(2)),
                    (END, LATER.format(3))])
    return root


def _load(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingOutcomeWarning)
        return load_sessions(root)


def test_loader_refuses_an_outcome_for_a_card_never_sent(replied):
    _edit(_files(replied)[1], lambda df: df.assign(participant_id="P0999"))
    with pytest.raises(DataValidationError, match=r"session-2_data.csv: line 2 \(data row 1\), column "
                                                  r"'participant_id': an outcome record for card 'P0999', which "
                                                  r"was never sent"):
        _load(replied)


def test_loader_refuses_a_reply_dated_before_its_dispatch(replied):
    _edit(_files(replied)[1], lambda df: df.assign(reply_date="2026-01-04"))
    with pytest.raises(DataValidationError, match=r"column 'reply_date': 2026-01-04 is before the card was sent "
                                                  r"\(2026-01-05"):
        _load(replied)


def test_loader_refuses_a_second_outcome_for_a_card(replied):
    _edit(_files(replied)[1], lambda df: pd.concat([df, df.assign(reply_date="2026-01-21", reply_days="16")]))
    with pytest.raises(DataValidationError, match=r"line 3 \(data row 2\), column 'reply': a second outcome record "
                                                  r"for card 'P0001' \(the first: .*session-2_data.csv line 2"):
        _load(replied)


def test_loader_refuses_complied_that_the_dates_contradict(replied):
    _edit(_files(replied)[1], lambda df: df.assign(complied="0"))
    with pytest.raises(DataValidationError, match=r"column 'complied': 0, but the reply came after 14 days and "
                                                  r"the window is 56 days"):
        _load(replied)


def test_a_window_still_open_at_analysis_is_a_stated_warning_and_pending(replied):
    from analysis.load.mail import join_records
    from analysis.load.sessions import read_session_csv
    rows = [r for f in _files(replied) for r in read_session_csv(f)[0]]
    with pytest.warns(PendingOutcomeWarning, match=r"3 card\(s\) have no outcome recorded yet: reported as pending, "
                                                   r"not analysed \(never counted as refusals\); 3 with the reply "
                                                   r"window still open, the last until 2026-03-02"):
        joined = join_records(rows, today=date(2026, 2, 1))
    assert [r.get("pending") for r in joined] == [None, "reply window open until 2026-03-02",
                                                  "reply window open until 2026-03-02",
                                                  "reply window open until 2026-03-02"]
    with pytest.warns(PendingOutcomeWarning, match="3 whose window has closed: record 'no reply' for them"):
        join_records(rows, today=date(2026, 3, 3))


def test_simulated_cards_join_one_row_per_card(tmp_path):
    from paradigms.engine.sessions import simulate
    res = simulate(KUNZ, 1, 60, seed=1, data_dir=tmp_path)
    raw = pd.read_csv(res.csv_path)
    assert (raw["record"] == "dispatch").sum() == 60 and (raw["record"] == "outcome").sum() == 60
    loaded = load_sessions(tmp_path, include_simulated=True)
    assert len(loaded.data) == 60 and loaded.data["complied"].notna().all()
    replies = raw[raw["reply"] == "received"]
    assert replies["reply_days"].between(4, 35).all()
    assert int(loaded.data["complied"].sum()) == len(replies)


def test_an_empty_data_consent_is_not_a_withdrawal(tmp_path):
    """Not asked (empty) is not withdrawn (0): the columnar loader read an all-empty column as zeros.
    A mailed card's data_consent is always empty; so is a field participant's who could not be debriefed."""
    from analysis import rows_from_counts, write_session_csv
    rows = rows_from_counts("cialdini1975", 1, {"rejection_moderation": (3, 5), "exposure_control": (1, 4)})
    for r in rows:
        r["data_consent"], r["debriefed"] = "", "0"
    write_session_csv(tmp_path / "a_data.csv", rows, rows[0].keys())
    loaded = load_sessions(tmp_path)
    assert len(loaded.analysable()) == 9 and loaded.report.empty


def test_run_goes_on_after_every_slot_is_used_to_record_outcomes(tmp_path):
    """A field schedule with every slot used is refused; a mailing log's is not: its replies come later."""
    from contextlib import contextmanager

    from paradigms.engine.sessions import create_schedule, run_session

    sched = create_schedule(KUNZ, 1, 2, seed=5, out=tmp_path / "cards.csv")
    answers = []

    @contextmanager
    def present(paradigm, experiment, **kw):
        yield TypedIO(answers)

    answers[:] = [("approach", DAY1.format(0)), ("sent", DAY1.format(1)), ("approach", DAY1.format(2)),
                  ("sent", DAY1.format(3)), ("approach", DAY1.format(4))]  # the third: no slot left, the session ends
    first = run_session(KUNZ, 1, sched.path, "S1", "E1", tmp_path / "d", present=present)
    assert first.rows == 2
    pid = pd.read_csv(first.csv_path)["participant_id"][0]
    answers[:] = [(f"received:{pid}", LATER.format(0)), ("2026-01-12", LATER.format(1)), ("posted", LATER.format(2)),
                  (END, LATER.format(3))]
    second = run_session(KUNZ, 1, sched.path, "S1", "E1", tmp_path / "d", present=present)
    assert second.rows == 1 and pd.read_csv(second.csv_path)["reply_days"].tolist() == [7]
