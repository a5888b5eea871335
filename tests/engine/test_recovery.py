"""After a crash: nothing stays "running", no participant only in the journal, every slot accounted for
(issue 15 items 11, 12 and 14; issue 13 items 5 and 6).  Crashes are real SIGKILLs of subprocesses."""
from __future__ import annotations

import io
import json
import random
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pandas as pd
import pytest

from paradigms.engine import sessions
from paradigms.engine.schedule import SlotLedger, load_schedule, make_schedule, write_schedule
from paradigms.engine.simulate import ScriptedIO, ScriptedParticipant, SimClock

from tests.conftest import BIN, ROOT


def _die(schedule, data, point):
    proc = subprocess.run([sys.executable, "-m", "tests.helpers.dying_session", str(schedule), str(data), point],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _journal(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def _tree(path):
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def fake_screen(monkeypatch):
    """run_session without a window: the scripted participant answers ``n`` passers-by, then ends."""
    shown = []

    @contextmanager
    def present(paradigm, experiment, size=None, fullscreen=False, scripted=None, time_scale=1.0):
        io = ScriptedIO(ScriptedParticipant(paradigm.experiment(experiment).model, random.Random(2),
                                            fake_screen_n[0]), SimClock())
        io.show_recovery = shown.append
        yield io

    fake_screen_n = [2]
    real = sessions.run_session
    monkeypatch.setattr(sessions, "run_session", lambda *a, **kw: real(*a, **{**kw, "present": present}))
    return fake_screen_n, shown


def test_killed_simulation_is_marked_interrupted_by_the_next_command(cli, tmp_path):
    """15.11: killed simulations stayed "running"."""
    proc = subprocess.Popen([str(BIN / "compliance"), "simulate", "cialdini1975", "--participants", "90000",
                             "--data-dir", "d", "--quiet"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        t0 = time.time()
        while time.time() - t0 < 120:
            files = list((tmp_path / "d").glob("*_data.csv")) if (tmp_path / "d").exists() else []
            if files and files[0].read_text().count("\n") > 20:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    (side,) = (tmp_path / "d").glob("*_data.json")
    assert json.loads(side.read_text())["status"] == "running"
    out = cli("simulate", "cialdini1975", "--participants", "3", "--data-dir", "d", "--quiet", check=0).stdout
    meta = json.loads(side.read_text())
    csv_path = side.with_suffix(".csv")
    # the kill may cut a batched write inside a row: only the rows that end in a line break are complete
    text = csv_path.read_text(encoding="utf-8")
    n = len(pd.read_csv(io.StringIO(text[: text.rfind("\n") + 1])))
    assert meta["status"] == "interrupted" and meta["n_rows"] == n >= 20
    import hashlib
    assert meta["csv_sha256"] == hashlib.sha256(csv_path.read_bytes()).hexdigest()
    assert "recovered from an interrupted session: study-cialdini1975_exp-1_site-SIM_session-1" in out


def test_session_killed_before_its_sidecar_is_found_and_given_one(cli, ditf, tmp_path):
    """15.11: a session killed in its first milliseconds had no sidecar and was never recovered."""
    write_schedule(make_schedule(ditf, 1, 6, 1), tmp_path / "s.csv")
    _die(tmp_path / "s.csv", tmp_path / "d", "before-sidecar")
    (csv_path,) = (tmp_path / "d").glob("*_data.csv")
    assert not csv_path.with_suffix(".json").exists()
    out = cli("simulate", "cialdini1975", "--participants", "3", "--data-dir", "d", "--quiet", check=0).stdout
    meta = json.loads(csv_path.with_suffix(".json").read_text())
    assert meta["status"] == "interrupted" and meta["n_rows"] == 0 and meta["site"] == "S1"
    assert "study-cialdini1975_exp-1_site-S1_session-1" in out


def test_a_crash_while_writing_a_row_leaves_no_answer_only_in_the_journal(ditf, tmp_path):
    """15.12: debriefed, but no row (the kill fell between the journal and the row)."""
    write_schedule(make_schedule(ditf, 1, 12, 1), tmp_path / "s.csv")
    _die(tmp_path / "s.csv", tmp_path / "d", "row:2")
    (csv_path,) = (tmp_path / "d").glob("*_data.csv")
    rows = pd.read_csv(csv_path)
    assert len(rows) == 1
    journal = _journal(csv_path.with_name(csv_path.name.replace("_data.csv", "_events.jsonl")))
    debriefed = {e["participant_id"] for e in journal if e.get("screen") == "debrief" and e.get("event") == "response"}
    assert debriefed, "the session must have got as far as a debriefing"
    assert debriefed <= set(rows["participant_id"]), "a debriefed participant is in the journal only"


def test_next_run_records_the_lost_slot_and_says_so(ditf, tmp_path, fake_screen, capsys):
    """13.5: after a crash the next run resumed at the next slot; the slot in progress had no row."""
    write_schedule(make_schedule(ditf, 1, 12, 1), tmp_path / "s.csv")
    data = tmp_path / "d"
    _die(tmp_path / "s.csv", data, "row:2")  # participant 2 (slot 2) was in progress
    journal = _journal(next(data.glob("*_events.jsonl")))
    pid2 = next(e["participant_id"] for e in journal if e.get("event") == "participant" and e["slot"] == 2)
    fake_screen[0][0] = 2
    told = []
    res = sessions.run_session(ditf, 1, tmp_path / "s.csv", "S1", "E1", data, on_recovery=told.append)
    (rec,) = told
    assert rec.sessions == ("study-cialdini1975_exp-1_site-S1_session-1_data.json",)
    assert [s.slot for s in rec.lost_slots] == [2] and rec.lost_slots[0].participant_id == pid2
    assert "slot 2 was in progress" in str(rec) and "recorded as lost" in str(rec)
    assert fake_screen[1] == [rec] and res.recovery == rec  # the screen was told, and the caller
    new = pd.read_csv(res.csv_path)
    lost = new[new["slot"] == 2]
    assert len(lost) == 1 and lost["excluded"].item() == 1 and lost["exclusion_reason"].item() == "session_crash"
    assert lost["participant_id"].item() == pid2 and pd.isna(lost["complied"].item())
    assert list(new["slot"]) == [2, 3, 4]
    # every slot taken so far is accounted for, exactly once, across the folder
    slots = pd.concat([pd.read_csv(p) for p in data.glob("*_data.csv")])["slot"]
    assert sorted(slots) == [1, 2, 3, 4]
    old_meta = json.loads(next(data.glob("*session-1_data.json")).read_text())
    assert old_meta["status"] == "interrupted" and old_meta["n_rows"] == 1
    # a further run finds nothing more to recover
    told.clear()
    res2 = sessions.run_session(ditf, 1, tmp_path / "s.csv", "S1", "E1", data, on_recovery=told.append)
    assert told == [] and not res2.recovery
    assert list(pd.read_csv(res2.csv_path)["slot"]) == [5, 6]


def test_pilot_runs_never_take_real_slots(ditf, tmp_path, fake_screen):
    """13.6: a --pilot run used up slots of the pre-registered schedule."""
    write_schedule(make_schedule(ditf, 1, 12, 1), tmp_path / "s.csv")
    res = sessions.run_session(ditf, 1, tmp_path / "s.csv", "S1", "E1", tmp_path / "pilot", pilot=True)
    assert list(pd.read_csv(res.csv_path)["slot"]) == [1, 2]
    assert not (tmp_path / "s.csv.slots.log").exists()
    meta = json.loads(res.sidecar_path.read_text())
    assert meta["pilot"] is True and meta["mode"] == "pilot"
    real = sessions.run_session(ditf, 1, tmp_path / "s.csv", "S1", "E1", tmp_path / "d")
    assert list(pd.read_csv(real.csv_path)["slot"]) == [1, 2]


def test_a_run_into_another_data_folder_is_refused_and_the_log_names_sessions_unambiguously(
        ditf, tmp_path, fake_screen):
    """13.6: a run into another --data-dir consumed slots; the log named two different "session-1" files."""
    from paradigms.engine.schedule import ScheduleError
    write_schedule(make_schedule(ditf, 1, 12, 1), tmp_path / "s.csv")
    first = sessions.run_session(ditf, 1, tmp_path / "s.csv", "S1", "E1", tmp_path / "d")
    log_before = (tmp_path / "s.csv.slots.log").read_bytes()
    with pytest.raises(ScheduleError, match="another data folder.*--pilot"):
        sessions.run_session(ditf, 1, tmp_path / "s.csv", "S1", "E1", tmp_path / "elsewhere")
    assert (tmp_path / "s.csv.slots.log").read_bytes() == log_before
    assert not (tmp_path / "elsewhere").exists()
    claims = SlotLedger(load_schedule(tmp_path / "s.csv", ditf, 1)).claims()
    meta = json.loads(first.sidecar_path.read_text())
    desc = json.loads((tmp_path / "d" / "dataset_description.json").read_text())
    assert [c["slot"] for c in claims] == [1, 2]
    for c in claims:
        assert c["session_file"] == first.csv_path.name and (tmp_path / "d" / c["session_file"]).is_file()
        assert c["session_uid"] == meta["session_uid"] and c["dataset_uid"] == desc["identifier"]
    # privacy (15.18): the schedule is named by file name and hash, not by the path as typed
    assert meta["schedule_file"] == "s.csv" and str(tmp_path) not in first.sidecar_path.read_text()


def test_run_with_a_bad_code_touches_nothing(cli, ditf, tmp_path):
    """15.14: `run` with a bad --site still marked other sessions interrupted."""
    write_schedule(make_schedule(ditf, 1, 12, 1), tmp_path / "s.csv")
    _die(tmp_path / "s.csv", tmp_path / "d", "row:2")
    before = _tree(tmp_path / "d"), (tmp_path / "s.csv.slots.log").read_bytes()
    for flag, bad in (("--site", "S 1"), ("--experimenter", "E/1"), ("--session", "0")):
        args = {"--site": "S1", "--experimenter": "E1", "--session": "9", flag: bad}
        proc = cli("run", "cialdini1975", "--schedule", "s.csv", "--data-dir", "d",
                   *[x for kv in args.items() for x in kv])
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert (_tree(tmp_path / "d"), (tmp_path / "s.csv.slots.log").read_bytes()) == before, flag


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_corrupt_dataset_description_leaves_the_folder_as_it_was(cli, tmp_path, content):
    """15.14: a corrupt dataset_description.json left a session behind."""
    cli("simulate", "cialdini1975", "--participants", "3", "--data-dir", "d", "--quiet", check=0)
    (tmp_path / "d" / "dataset_description.json").write_text(content)
    before = _tree(tmp_path / "d")
    proc = cli("simulate", "cialdini1975", "--participants", "3", "--data-dir", "d", "--quiet")
    assert proc.returncode == 2 and "dataset_description.json" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert _tree(tmp_path / "d") == before


def test_a_simulation_that_fails_half_way_leaves_nothing(ditf, tmp_path, monkeypatch):
    """15.14: a command that exits non-zero leaves the data folder as it found it."""
    from paradigms.engine import simulate as sim
    calls = []

    def boom(self, prompt, condition):
        calls.append(1)
        if len(calls) > 10:
            raise OverflowError("the model produced an impossible value")
        return real(self, prompt, condition)
    real = sim.ScriptedParticipant.choose
    monkeypatch.setattr(sim.ScriptedParticipant, "choose", boom)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    with pytest.raises(OverflowError):
        sessions.simulate(ditf, 1, 30, 1, tmp_path / "d")
    assert {str(k): v for k, v in _tree(tmp_path / "d").items()} == {"notes.txt": b"mine"}
