"""The store's durability policy (issue 14 part 4): ``per_event`` for real sessions, ``batched``
for data-only simulations; same bytes either way, and a killed batched run is still recovered."""
from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import time
from contextlib import contextmanager

import pandas as pd
import pytest

from paradigms.engine import sessions
from paradigms.engine import store as store_mod
from paradigms.engine.recovery import count_csv_rows
from paradigms.engine.schedule import make_schedule, write_schedule
from paradigms.engine.simulate import ScriptedIO, ScriptedParticipant, SimClock
from paradigms.engine.store import SessionStore

from tests.conftest import BIN


def _row(pid, slot=1):
    return {"participant_id": pid, "slot": slot, "condition": "smaller_request_only", "excluded": 0,
            "debriefed": 1, "data_consent": 1, "t_start": "2026-01-01T10:00:00", "t_end": "2026-01-01T10:01:00",
            "complied": slot % 2}


def _sidecar(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def fixed_clock(monkeypatch):
    """One fixed time for both policies (the journal's times are the wall clock's, not the seed's)."""
    def now():
        return "2026-01-05T10:00:00.000+00:00"
    monkeypatch.setattr(store_mod, "now_iso", now)
    monkeypatch.setattr(store_mod, "_IsoClock", lambda: now)


@pytest.fixture
def count_fsyncs(monkeypatch):
    calls = []
    real = os.fsync

    def fsync(fd):
        calls.append(fd)
        return real(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    return calls


@pytest.mark.parametrize("policy", ["per_event", "batched"])
def test_the_sidecar_says_which_policy_wrote_the_files(ditf, tmp_path, policy):
    with SessionStore(tmp_path, ditf, 1, "S1", "E1", durability=policy) as s:
        s.append(_row("P1"))
        assert _sidecar(s.sidecar_path)["durability"] == policy  # from the start, for recovery to read
    side = _sidecar(s.sidecar_path)
    assert side["durability"] == policy and side["status"] == "completed" and side["n_rows"] == 1


def test_per_event_is_the_default(ditf, tmp_path):
    with SessionStore(tmp_path, ditf, 1, "S1", "E1") as s:
        pass
    assert s.durability == "per_event" and _sidecar(s.sidecar_path)["durability"] == "per_event"


def test_an_unknown_policy_is_refused_before_anything_is_written(ditf, tmp_path):
    with pytest.raises(ValueError, match="durability must be per_event or batched, not 'lazy'"):
        SessionStore(tmp_path / "d", ditf, 1, "S1", "E1", durability="lazy")
    assert not (tmp_path / "d").exists()


def test_per_event_fsyncs_every_row_and_event_batched_only_at_close(ditf, tmp_path, count_fsyncs):
    per_event = SessionStore(tmp_path / "a", ditf, 1, "S1", "E1").open()
    batched = SessionStore(tmp_path / "b", ditf, 1, "S1", "E1", durability="batched").open()
    for store in (per_event, batched):
        before = len(count_fsyncs)
        for i in range(10):
            store.event("tap", screen="step", code="agree", participant_id=f"P{i}")
            store.append(_row(f"P{i}", i + 1))
        store.during = len(count_fsyncs) - before
        before = len(count_fsyncs)
        store.close()
        store.at_close = len(count_fsyncs) - before
    assert per_event.during == 30  # 10 taps, 10 rows, 10 row_written events
    assert batched.during == 0
    # CSV, journal, then the sidecar (its temporary file and its folder), then the folder's record
    # chain (its close entry and the folder: issue 22)
    assert batched.at_close == 6 and per_event.at_close == 4


def test_batched_writes_whole_lines_csv_ahead_of_journal(ditf, tmp_path):
    """A kill between two blocks leaves complete rows, and no journalled row missing from the CSV."""
    store = SessionStore(tmp_path, ditf, 1, "S1", "E1", durability="batched", block_lines=7).open()
    header = store.csv_path.read_text()
    assert header.startswith("participant_id,") and header.count("\n") == 1  # the header is on disk at open

    class Journal:  # checks, as each block of the journal is written, that its rows are on disk already
        def __init__(self, fh):
            self.fh, self.blocks = fh, 0

        def write(self, text):
            on_disk = store.csv_path.read_text()
            for line in text.splitlines():
                ev = json.loads(line)
                if ev["event"] == "row_written":
                    assert f"\n{ev['participant_id']}," in on_disk
            self.blocks += 1
            return self.fh.write(text)

        def __getattr__(self, name):
            return getattr(self.fh, name)
    store._events = spy = Journal(store._events)
    states = {header}
    for i in range(40):
        store.event("show", screen="step", step="target_request")
        store.append(_row(f"P{i:02d}", i + 1))
        csv_text, journal = store.csv_path.read_text(), store.events_path.read_text()
        assert csv_text.endswith("\n") and (journal == "" or journal.endswith("\n"))
        on_disk = set(pd.read_csv(io.StringIO(csv_text), dtype=str)["participant_id"])
        journalled = {json.loads(x)["participant_id"] for x in journal.splitlines()
                      if json.loads(x)["event"] == "row_written"}
        assert journalled <= on_disk
        states.add(csv_text)
    assert 3 < len(states) < 20  # written in blocks: rows reached the disk before close, but not one by one
    store.close()
    assert count_csv_rows(store.csv_path) == 40 and len(store.events_path.read_text().splitlines()) == 80
    assert len(states) - 1 <= spy.blocks <= len(states)  # one write per block (and what is left, at close)


def test_same_seed_same_bytes_under_either_policy(ditf, tmp_path, fixed_clock):
    runs = {p: sessions.simulate(ditf, 1, 120, seed=7, data_dir=tmp_path / p, durability=p)
            for p in ("per_event", "batched")}
    a, b = runs["per_event"], runs["batched"]
    assert a.csv_path.read_bytes() == b.csv_path.read_bytes()
    journal_a = a.csv_path.with_name(a.csv_path.name.replace("_data.csv", "_events.jsonl")).read_bytes()
    journal_b = b.csv_path.with_name(b.csv_path.name.replace("_data.csv", "_events.jsonl")).read_bytes()
    assert journal_a == journal_b and journal_a.count(b"\n") > 120 * 5
    sa, sb = _sidecar(a.sidecar_path), _sidecar(b.sidecar_path)
    assert (sa["durability"], sb["durability"]) == ("per_event", "batched")
    assert sa["csv_sha256"] == sb["csv_sha256"] and sa["journal_sha256"] == sb["journal_sha256"]
    # every other key of the sidecar is the same too, bar what names the session and the policy
    differ = {k for k in sa.keys() | sb.keys() if sa.get(k) != sb.get(k)}
    assert differ == {"durability", "session_uid"}


def test_data_only_simulation_is_batched_and_visual_per_event(ditf, tmp_path, monkeypatch):
    res = sessions.simulate(ditf, 1, 5, seed=1, data_dir=tmp_path / "d")
    assert _sidecar(res.sidecar_path)["durability"] == "batched"
    opened = []

    def spy(*args, **kw):
        opened.append(kw.get("durability", "per_event"))
        raise RuntimeError("stop here")  # the visual run needs no window for this check
    monkeypatch.setattr(sessions, "SessionStore", spy)
    with pytest.raises(RuntimeError, match="stop here"):
        sessions.simulate(ditf, 1, 5, seed=1, data_dir=tmp_path / "v", mode="visual", present=object())
    assert opened == ["per_event"]


def test_a_real_session_is_per_event(ditf, tmp_path, count_fsyncs):
    """run_session passes no policy, so the store's default (per_event) holds; each row is fsynced."""
    @contextmanager
    def present(paradigm, experiment, size=None, fullscreen=False, scripted=None, time_scale=1.0):
        yield ScriptedIO(ScriptedParticipant(paradigm.experiment(experiment).model, random.Random(2), 3),
                         SimClock())
    write_schedule(make_schedule(ditf, 1, 6, 1), tmp_path / "s.csv")
    res = sessions.run_session(ditf, 1, tmp_path / "s.csv", "S1", "E1", tmp_path / "d", present=present)
    side = _sidecar(res.sidecar_path)
    assert side["durability"] == "per_event" and side["mode"] == "run" and res.rows == 3
    journal = res.csv_path.with_name(res.csv_path.name.replace("_data.csv", "_events.jsonl"))
    assert len(count_fsyncs) >= 3 + len(journal.read_text().splitlines())  # each row, each event


def test_a_killed_batched_simulation_is_recovered_by_the_next_command(cli, tmp_path):
    proc = subprocess.Popen([str(BIN / "compliance"), "simulate", "cialdini1975", "--participants", "90000",
                             "--seed", "3", "--data-dir", "d", "--quiet"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        t0 = time.time()
        while time.time() - t0 < 120 and proc.poll() is None:
            files = list((tmp_path / "d").glob("*_data.csv")) if (tmp_path / "d").exists() else []
            if files and files[0].read_text().count("\n") > 20:  # the first block is on disk
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the simulation ended before it could be killed"
    (side,) = (tmp_path / "d").glob("*_data.json")
    csv_path = side.with_suffix(".csv")
    events = side.with_name(side.name.replace("_data.json", "_events.jsonl"))
    before = _sidecar(side)
    assert before["status"] == "running" and before["durability"] == "batched"
    # the complete rows parse (a kill inside a block's write may cut its last line: recovery drops it)
    text = csv_path.read_text()
    rows = pd.read_csv(io.StringIO(text[: text.rfind("\n") + 1]), dtype=str)
    assert 20 <= len(rows) < 90000 and rows["participant_id"].is_unique
    journalled = {e["participant_id"] for e in map(json.loads, events.read_text().splitlines()[:-1])
                  if e["event"] == "row_written"}
    assert journalled <= set(rows["participant_id"])  # the CSV's block is written before the journal's
    out = cli("simulate", "cialdini1975", "--participants", "3", "--data-dir", "d", "--quiet", check=0).stdout
    after = _sidecar(side)
    assert after["status"] == "interrupted" and after["n_rows"] == len(rows) == count_csv_rows(csv_path)
    assert after["durability"] == "batched"
    assert "recovered from an interrupted session: study-cialdini1975_exp-1_site-SIM_session-1" in out
