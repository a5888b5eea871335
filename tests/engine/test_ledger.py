"""The slot ledger under two tablets, old logs, and crashes (issue 15 items 8-12, issue 13 items 5-6)."""
from __future__ import annotations

import collections
import json
import subprocess
import sys

import pytest

from paradigms.engine.schedule import SlotLedger, load_schedule, make_schedule, write_schedule

from tests.conftest import ROOT


def test_two_processes_claiming_at_once_never_share_a_slot(ditf, tmp_path):
    """Issue 15.8: two tablets on one schedule folder, claiming slots concurrently."""
    n = 400
    write_schedule(make_schedule(ditf, 1, n, 3), tmp_path / "s.csv")
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-m", "tests.helpers.claim_slots", str(tmp_path / "s.csv"),
                               str(go), str(n)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    go.touch()
    outs = [p.communicate(timeout=200)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    got = [[int(x) for x in out.split()] for out in outs]
    assert got[0] and got[1], "both processes must have claimed slots for the test to mean anything"
    claimed = got[0] + got[1]
    dupes = [s for s, c in collections.Counter(claimed).items() if c > 1]
    assert dupes == [], f"{len(dupes)} slots were handed to both processes"
    assert sorted(claimed) == list(range(1, n + 1))
    logged = [json.loads(x)["slot"] for x in (tmp_path / "s.csv.slots.log").read_text().splitlines()
              if '"slot"' in x]
    assert sorted(logged) == list(range(1, n + 1))
    led = SlotLedger(load_schedule(tmp_path / "s.csv", ditf, 1))
    assert led.remaining() == 0


def _claim(ditf, path, k):
    led = SlotLedger(load_schedule(path, ditf, 1))
    return [led.claim_next(session_file="x").slot for _ in range(k)]


def test_a_new_schedule_never_inherits_an_old_slot_log(ditf, tmp_path):
    """Issue 15.9: an old NAME.slots.log where a new schedule is written."""
    from paradigms.engine.schedule import ScheduleError
    path = tmp_path / "s.csv"
    write_schedule(make_schedule(ditf, 1, 12, 1), path)
    assert _claim(ditf, path, 5) == [1, 2, 3, 4, 5]
    old_log = (tmp_path / "s.csv.slots.log").read_bytes()
    for suffix in ("", ".sha256", ".meta.json"):
        (tmp_path / f"s.csv{suffix}").unlink()
    # writing a schedule where the old log remains is refused, naming the log
    with pytest.raises(FileExistsError, match=r"s\.csv\.slots\.log"):
        write_schedule(make_schedule(ditf, 1, 12, 2), path)
    # and a log that turns up beside another schedule is refused, never resumed at slot 6
    (tmp_path / "s.csv.slots.log").unlink()
    write_schedule(make_schedule(ditf, 1, 12, 2), path)
    (tmp_path / "s.csv.slots.log").write_bytes(old_log)
    led = SlotLedger(load_schedule(path, ditf, 1))
    with pytest.raises(ScheduleError, match="belongs to another schedule"):
        led.claim_next()
    with pytest.raises(ScheduleError, match="belongs to another schedule"):
        led.remaining()
    assert (tmp_path / "s.csv.slots.log").read_bytes() == old_log


def _rehash(path, sha=True, meta=True):
    import hashlib
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if sha:
        path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    if meta:
        m = path.with_name(path.name + ".meta.json")
        d = json.loads(m.read_text())
        d["sha256"] = digest
        m.write_text(json.dumps(d))


@pytest.mark.parametrize("rehashed, culprit", [((True, False), r"\.meta\.json"),
                                               ((False, True), r"\.sha256"),
                                               ((True, True), "seed 1 makes")])
def test_edited_schedule_refused_naming_the_record_that_disagrees(ditf, tmp_path, rehashed, culprit):
    """Issue 15.10: the content is checked against every recorded hash (and against its seed)."""
    from paradigms.engine.schedule import ScheduleError
    path = tmp_path / "s.csv"
    write_schedule(make_schedule(ditf, 1, 6, 1), path)
    lines = path.read_text().splitlines()
    a, b = lines[1].split(","), lines[2].split(",")
    a[2], b[2] = b[2], a[2]  # swap two conditions: still balanced, different assignment
    assert a[2] != b[2]
    path.write_text("\n".join([lines[0], ",".join(a), ",".join(b), *lines[3:]]) + "\n")
    _rehash(path, *rehashed)
    with pytest.raises(ScheduleError, match=culprit):
        load_schedule(path, ditf, 1)


@pytest.mark.parametrize("content", ["", "\n", "not-a-hash  s.csv\n"])
def test_empty_or_malformed_hash_file_is_a_one_line_error(ditf, tmp_path, content):
    """Issue 15.15: an empty .sha256 gave an IndexError."""
    from paradigms.engine.schedule import ScheduleError
    path = tmp_path / "s.csv"
    write_schedule(make_schedule(ditf, 1, 6, 1), path)
    (tmp_path / "s.csv.sha256").write_text(content)
    with pytest.raises(ScheduleError, match=r"s\.csv\.sha256"):
        load_schedule(path, ditf, 1)


def test_negative_seed_refused(ditf):
    """Issue 15.10: --seed -5 gave the schedule of --seed 5."""
    from paradigms.engine.schedule import ScheduleError
    with pytest.raises(ScheduleError, match="--seed"):
        make_schedule(ditf, 1, 6, -5)
