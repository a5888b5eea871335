"""Data-only simulations write the same bytes for the same seed as the code before the speed work
(issue 26.4): CSV, event journal and sidecar, apart from wall-clock times and run identifiers.

The reference is ``simulate_reference.json`` beside this file: for each study and experiment, a
small simulation's normalised files, as SHA-256 digests, made by the code of the commit that added
this test (before any of issue 26.4's changes to the loop, the lab trial, the scripted I/O and the
store).  A change that alters what a simulation writes fails here with the study, experiment and
file named.  A change that is *meant* to alter the files (a declaration that adds a column, say)
regenerates the reference with ``python -m tests.engine.test_simulate_identical --regenerate`` and
says so in its commit.

What is normalised away, and why it cannot be compared:

* the journal's ``"t"`` (the wall-clock time each event was journalled: real time, not the
  simulated clock, which is in the CSV and compared);
* the sidecar's ``session_uid`` (a fresh UUID), ``start_time``, ``end_time``, the versions of the
  toolkit, Python and PsychoPy (the machine), and ``journal_sha256`` (a hash of the journal,
  times included; the journal itself is compared).

The sidecar's ``csv_sha256`` is kept: it must say the CSV compared here.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

import paradigms
from paradigms.engine.sessions import simulate

REFERENCE = Path(__file__).with_name("simulate_reference.json")

#: (study, experiment, participants, seed, rates or None): every study and experiment, at n small
#: enough to run in a second or two each yet past the mailing log's first closed window (kunz1976)
CASES = [(pid, e.number, 9 if pid != "regan1971" else 6, seed, None)
         for pid in ("cialdini1975", "burger1986", "pollock1998", "regan1971", "kunz1976")
         for e in paradigms.get(pid).experiments for seed in (3,)]
CASES += [("regan1971", 1, 8, 2026, None), ("burger1986", 1, 12, 7, None),
          ("cialdini1975", 1, 10, 5, {"rejection_moderation": 1.0})]

_T = re.compile(rb'^\{"t": "[^"]*", ', re.M)
_VOLATILE = ("session_uid", "start_time", "end_time", "toolkit_version", "python_version",
             "psychopy_version", "journal_sha256")


def case_id(case) -> str:
    pid, exp, n, seed, rates = case
    return f"{pid}-exp{exp}-n{n}-seed{seed}" + ("-rates" if rates else "")


def normalised(folder: Path) -> dict[str, bytes]:
    """The session's CSV, journal (times blanked) and sidecar (volatile fields dropped), as bytes."""
    csv_path = next(folder.glob("*_data.csv"))
    journal = next(folder.glob("*_events.jsonl")).read_bytes()
    sidecar = json.loads(next(folder.glob("*_data.json")).read_text(encoding="utf-8"))
    for k in _VOLATILE:
        sidecar.pop(k, None)
    return {"csv": csv_path.read_bytes(), "journal": _T.sub(b'{"t": "", ', journal),
            "sidecar": json.dumps(sidecar, indent=2, ensure_ascii=False).encode("utf-8")}


def digests(case, folder: Path) -> dict[str, str]:
    pid, exp, n, seed, rates = case
    simulate(paradigms.get(pid), exp, n, seed=seed, data_dir=folder, rates=rates)
    return {k: hashlib.sha256(v).hexdigest() for k, v in normalised(folder).items()}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_same_files_as_before_the_speed_work(case, tmp_path):
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))[case_id(case)]
    got = digests(case, tmp_path)
    assert got == ref, f"{case_id(case)}: " + ", ".join(k for k in ref if got[k] != ref[k]) + " differ"


def test_the_normalisation_keeps_what_it_must(tmp_path):
    """The journal's answers and the CSV's simulated times count: a changed answer is seen."""
    folder = tmp_path / "a"
    simulate(paradigms.get("regan1971"), 1, 2, seed=1, data_dir=folder)
    files = normalised(folder)
    journal = files["journal"].decode()
    assert journal.count('{"t": "", ') == journal.count("\n") > 60  # every line's time blanked, nothing else
    assert '"value": "as_scripted"' in journal and b"2026-01-05T10:" in files["csv"]
    sidecar = json.loads(files["sidecar"])
    assert sidecar["csv_sha256"] == hashlib.sha256(files["csv"]).hexdigest() and "start_time" not in sidecar


def _regenerate() -> None:  # pragma: no cover - run by hand, see the module's docstring
    import tempfile
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for i, case in enumerate(CASES):
            out[case_id(case)] = digests(case, Path(d) / str(i))
    REFERENCE.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {REFERENCE} ({len(out)} cases)")


if __name__ == "__main__" and "--regenerate" in sys.argv:  # pragma: no cover
    _regenerate()


_ODD = ["", "plain", 'quote " and \\ backslash', "line\nbreak\ttab\x01", "é ü 漢 😀", "\u2028"]


@pytest.mark.parametrize("durability", ["per_event", "batched"])
def test_a_line_from_encoded_fields_is_the_line_event_writes(tmp_path, durability):
    """The session loop's journal lines (``event_text`` from ``journal_text`` and ``journal_value``)
    against ``event`` with the same fields, byte for byte, for every JSON type a value can have."""
    from paradigms.engine.store import SessionStore, journal_text, journal_value

    values = _ODD + [0, -3, 10**20, 4.0, -0.5, 1e300, float("nan"), True, False, None, [1, "a"], {"k": None}]
    folders = []
    for how in ("event", "text"):
        store = SessionStore(tmp_path / how, paradigms.get("regan1971"), 1, "S1", "E1", durability=durability)
        with store:
            store._now = lambda: "2026-01-05T10:00:00.000+00:00"  # both folders: the same time on every line
            for v in values:
                for key in _ODD[:3]:
                    if how == "event":
                        store.event("response", screen=key, step=None, participant_id="sim-1", value=v)
                    else:
                        place = journal_text(screen=key, step=None) + ", " + journal_text(participant_id="sim-1")
                        store.event_text("response", f"{place}, \"value\": {journal_value(v)}")
            if how == "event":
                store.event("end")
            else:
                store.event_text("end", "")
        folders.append(next((tmp_path / how).glob("*_events.jsonl")).read_bytes())
    assert folders[0] == folders[1] and folders[0].count(b"\n") == len(values) * 3 + 1
    assert json.loads(folders[1].splitlines()[-1]) == {"t": "2026-01-05T10:00:00.000+00:00", "event": "end"}


@pytest.mark.parametrize("start", ["2026-01-05T10:00:00+00:00", "2026-12-31T23:59:59.999500-05:30",
                                   "2024-02-28T23:59:01", "2026-03-29T00:59:58.5+01:00", "Europe/Berlin"])
def test_the_sim_clock_text_is_isoformat(start):
    """The clock's text (its head made once a minute) against ``isoformat`` itself, across minutes,
    hours, days, a year's end and a leap day, at think times long and short."""
    import random
    from datetime import datetime

    from paradigms.engine.simulate import SimClock

    rng = random.Random(start)
    if start == "Europe/Berlin":  # a zone's offset changes (summer time, 29 March 2026, 01:00 UTC)
        from zoneinfo import ZoneInfo
        clock = SimClock(datetime(2026, 3, 29, 1, 40, tzinfo=ZoneInfo(start)))
    else:
        clock = SimClock(datetime.fromisoformat(start))
    texts = set()
    for _ in range(20_000):
        seconds = rng.choice([rng.uniform(0, 200), rng.uniform(0, 0.002), 59.9995, 0.0005, 3600.0])
        text = clock.advance(seconds)
        assert text == clock.t.isoformat(timespec="milliseconds"), clock.t
        texts.add(text[23:])
    if start == "Europe/Berlin":
        assert texts == {"+01:00", "+02:00"}


def test_simclock_whole_microseconds():
    """Each advance moves the clock by exactly ``timedelta(seconds=s)`` (its rounding to the microsecond,
    half to even): the clock against a datetime advanced by timedeltas, at think times drawn as the
    scripted participants draw them, tiny and huge ones, and fractions that are exactly half a
    microsecond (where the rounding's direction shows)."""
    import random
    from datetime import timedelta

    from paradigms.engine.simulate import SIM_EPOCH, SimClock

    rng = random.Random(264)
    clock, t = SimClock(), SIM_EPOCH
    halves = [k / 2_000_000 + w for k in (1, 3, 5, 7, 999_999, 1_000_001) for w in (0, 1, 2, 17)]
    for i in range(60_000):
        lo, hi = rng.choice([(5, 30), (20, 60), (60, 180), (4, 10), (3, 8), (2, 6)])
        seconds = rng.choice([lo + (hi - lo) * rng.random(), rng.random() * 10.0 ** rng.randint(-8, 5),
                              halves[i % len(halves)], 0.0, 2.5e-7, 7.5e-7, 86_400.5])
        text = clock.advance(seconds)
        t += timedelta(seconds=seconds)
        assert clock.t == t, (i, seconds)
        assert text == t.isoformat(timespec="milliseconds")
    assert clock.advance(3) == (t + timedelta(seconds=3)).isoformat(timespec="milliseconds")  # an int: timedelta's own path


def test_compliance_verify_passes_on_a_folder_of_every_study(tmp_path, cli):
    """The journal is part of the tamper evidence: a folder simulated by the fast paths (every study
    into one folder, the lab study with the most journal lines per participant among them) verifies,
    and a journal line changed afterwards is caught."""
    folder = tmp_path / "data"
    for pid in ("cialdini1975", "burger1986", "pollock1998", "regan1971", "kunz1976"):
        simulate(paradigms.get(pid), 1, 15, seed=6, data_dir=folder)
    ok = cli("verify", folder, check=0)
    assert "5 session(s)" in ok.stdout and "all match" in ok.stdout
    journal = next(folder.glob("study-regan1971_*_events.jsonl"))
    journal.write_bytes(journal.read_bytes().replace(b'"value": "as_scripted"', b'"value": "deviated"', 1))
    assert cli("verify", folder).returncode != 0


@pytest.mark.parametrize("pid", ["regan1971", "burger1986"])
def test_batched_journal_is_the_per_event_journal(tmp_path, pid):
    """A batched store gets a screen's ``show`` line with its ``response`` line (the loop holds it): the
    journal, CSV and sidecar are those a per-event store writes line by line (times apart)."""
    got = {}
    for how in ("per_event", "batched"):
        simulate(paradigms.get(pid), 1, 5, seed=11, data_dir=tmp_path / how, durability=how)
        got[how] = normalised(tmp_path / how)
    assert got["batched"]["journal"] == got["per_event"]["journal"]
    assert got["batched"]["csv"] == got["per_event"]["csv"]
    assert got["batched"]["journal"].count(b'"event": "show"') > 10


@pytest.mark.parametrize("method", ["wait", "answer"])
def test_a_screen_that_raises_leaves_its_show_line(tmp_path, monkeypatch, method):
    """The held ``show`` line is written when the screen raises (Ctrl-C keeps what a data-only run
    simulated): the journal says which screen was on when the session stopped.  ``wait``: the general
    path (``ScriptedIO.unseen`` off); ``answer``: the path for an IO that shows nothing."""
    from paradigms.engine.simulate import ScriptedIO

    def stuck(self, prompt):
        if prompt.kind == "consent":
            raise KeyboardInterrupt
        return real(self, prompt)

    real = getattr(ScriptedIO, method)
    monkeypatch.setattr(ScriptedIO, method, stuck)
    monkeypatch.setattr(ScriptedIO, "unseen", method == "answer")
    with pytest.raises(KeyboardInterrupt):
        simulate(paradigms.get("regan1971"), 1, 2, seed=1, data_dir=tmp_path, durability="batched")
    lines = [json.loads(x) for x in next(tmp_path.glob("*_events.jsonl")).read_text().splitlines()]
    shows = [x for x in lines if x["event"] == "show"]
    assert shows[-1]["screen"] == "consent"
    assert lines[-1]["event"] == "show"  # nothing after it: the screen never answered


def test_response_behaves_as_the_frozen_dataclass_it_was():
    """Response (now a named tuple): the same fields, read-only, equal only to an equal response
    (never to a tuple of its fields, either way round), hashed as the dataclass hashed it."""
    from paradigms.engine.prompts import Response

    r = Response("agree", "2026-01-05T10:00:04.000+00:00")
    assert (r.value, r.t) == ("agree", "2026-01-05T10:00:04.000+00:00")
    assert r == Response(value="agree", t=r.t) and not r != Response("agree", r.t)
    assert r != Response("agree", "x") and r != Response(3, r.t)
    assert not r == ("agree", r.t) and not ("agree", r.t) == r and r != ("agree", r.t)
    assert r != None and hash(r) == hash(("agree", r.t))  # the frozen dataclass: hash of its fields' tuple
    with pytest.raises(AttributeError):
        r.value = "refuse"
    assert repr(r) == "Response(value='agree', t='2026-01-05T10:00:04.000+00:00')"
