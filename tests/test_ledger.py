"""The slot ledger under two tablets, old logs, and crashes (issue 15 items 8-12, issue 13 items 5-6)."""
from __future__ import annotations

import collections
import json
import subprocess
import sys

import pytest

from paradigms.engine.schedule import SlotLedger, load_schedule, make_schedule, write_schedule

from .conftest import ROOT


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
