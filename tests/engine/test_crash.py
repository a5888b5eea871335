"""Nothing is lost on a crash: SIGKILL a real session process after k participants."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pandas as pd
import pytest

from paradigms.engine.schedule import SlotLedger, load_schedule, make_schedule, write_schedule
from paradigms.engine.sessions import _mark_interrupted
from paradigms.engine.store import find_interrupted

from tests.conftest import ROOT


@pytest.mark.parametrize("k", [0, 1, 4])
def test_sigkill_after_k_participants_leaves_k_rows(ditf, tmp_path, k):
    write_schedule(make_schedule(ditf, 1, 30, 9), tmp_path / "s.csv")
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.blocking_session", str(tmp_path / "s.csv"),
                             str(data)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for i in range(k + 1):  # the session pauses at each "ready" screen
            assert proc.stdout.readline().strip() == f"ROW {i}"
            if i < k:
                proc.stdin.write("\n")
                proc.stdin.flush()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    (csv_path,) = data.glob("*_data.csv")
    df = pd.read_csv(csv_path)  # parses
    assert len(df) == k
    assert df["participant_id"].is_unique
    # the ledger recorded exactly the slots that were used, so the next session resumes after them
    led = SlotLedger(load_schedule(tmp_path / "s.csv", ditf, 1))
    assert led.used() == list(range(1, k + 1))
    assert list(df["slot"]) == list(range(1, k + 1))
    assert led.claim_next().slot == k + 1
    # the killed session is found and marked interrupted, with its row count
    (side,) = find_interrupted(data)
    _mark_interrupted(side)
    meta = json.loads(side.read_text())
    assert meta["status"] == "interrupted" and meta["n_rows"] == k
    assert find_interrupted(data) == []


def test_answer_given_before_a_crash_is_in_the_journal(ditf, tmp_path):
    """The events journal has every tap, including those of the participant in progress."""
    from paradigms.engine.store import SessionStore
    store = SessionStore(tmp_path, ditf, 1, "S1", "E1").open()
    store.event("tap", screen="step", step="target_request", code="agree", participant_id="P9")
    # no close(): the process "dies" here
    lines = [json.loads(x) for x in store.events_path.read_text().splitlines()]
    assert lines[-1]["code"] == "agree" and lines[-1]["participant_id"] == "P9"
