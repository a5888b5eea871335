"""Issue 23, with real X input (xdotool) into ``compliance run`` in its own process: why a session
cannot start is on the screen until Esc (a tablet has no terminal), and a lab participant who
declines consent sees the hand-over screen, never the experimenter's ready screen."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pandas as pd
import pytest

from tests.conftest import BIN

pytestmark = pytest.mark.screen


def _xdo(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20)


def _need_xdotool():
    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is needed for this test (apt-get install xdotool; .ci/run installs it)")


def _window(proc, err_path, timeout=40.0):
    """The session window's X id; the session's own stderr if it died first."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"the session ended (rc {proc.returncode}): {err_path.read_text()}")
        out = _xdo("search", "--name", "PsychoPy").stdout.split()
        if out:
            return out[0]
        time.sleep(0.2)
    raise AssertionError("the session window never appeared")


def _start(tmp_path, paradigm, *extra, env=None):
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "w") as err, open(tmp_path / "stdout.txt", "w") as out:
        proc = subprocess.Popen([str(BIN / "compliance"), "run", paradigm, "--schedule", "s.csv", "--site", "S1",
                                 "--experimenter", "E1", "--window-size", "800x1280", *extra], cwd=tmp_path,
                                stdout=out, stderr=err, text=True, env={**os.environ, **(env or {})})
    return proc, err_path


def _other_folder(tmp_path):
    """The schedule's first slot was taken by a session of another data folder."""
    from paradigms.engine.schedule import SlotLedger, load_schedule
    import paradigms
    ledger = SlotLedger(load_schedule(tmp_path / "s.csv", paradigms.get("cialdini1975"), 1))
    ledger.claim_next(session_file="study-cialdini1975_exp-1_site-S1_session-1_data.csv",
                      session_uid="x" * 32, dataset_uid="urn:uuid:another-folder")
    return "recorded in another data folder"


def _tampered(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(p.read_text().replace("exposure_control", "rejection_moderation", 1))
    return "does not match"


@pytest.mark.parametrize("spoil", [_other_folder, _tampered], ids=["another-folder", "changed-schedule"])
def test_a_refused_start_is_on_the_screen_until_esc(cli, tmp_path, spoil):
    _need_xdotool()
    cli("schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "s.csv", check=0)
    reason = spoil(tmp_path)
    shot = tmp_path / "refusal.png"
    proc, err_path = _start(tmp_path, "cialdini1975", "--data-dir", "d",
                            env={"COMPLIANCE_REFUSAL_SCREEN": "1", "COMPLIANCE_REFUSAL_SHOT": str(shot)})
    try:
        wid = _window(proc, err_path)
        t0 = time.time()
        while not shot.exists() and time.time() - t0 < 30:
            time.sleep(0.1)
        assert shot.exists(), f"no refusal screen: {err_path.read_text()}"
        time.sleep(1.0)
        assert proc.poll() is None, "the window closed by itself: the technician never saw why"
        _xdo("windowfocus", "--sync", wid)
        _xdo("key", "Escape")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = err_path.read_text()
    assert proc.returncode == 2 and reason in err and len(err.strip().splitlines()) == 1, err
    from PIL import Image
    assert Image.open(shot).size == (800, 1280)
    assert not (tmp_path / "d").exists() or not list((tmp_path / "d").glob("*_data.csv"))


def test_declined_consent_hands_the_screen_over_before_the_ready_screen(cli, tmp_path):
    _need_xdotool()
    cli("schedule", "regan1971", "--participants", "6", "--seed", "3", "--out", "s.csv", check=0)
    proc, err_path = _start(tmp_path, "regan1971", "--data-dir", "d")
    journal = tmp_path / "d" / "study-regan1971_exp-1_site-S1_session-1_events.jsonl"

    def events():
        if not journal.exists():
            return []
        return [json.loads(x) for x in journal.read_text().split("\n")[:-1] if x.strip()]

    def press(key, then_screen):
        """``key`` once the screen before it is up; then until ``then_screen`` is drawn."""
        n = sum(1 for e in events() if e["event"] == "drawn")
        _xdo("key", key)
        t0 = time.time()
        while time.time() - t0 < 30:
            drawn = [e for e in events() if e["event"] == "drawn"]
            if len(drawn) > n:
                assert drawn[-1]["screen"] == then_screen, (key, drawn[-1])
                time.sleep(0.3)
                return
            assert proc.poll() is None, err_path.read_text()
            time.sleep(0.05)
        raise AssertionError(f"nothing was drawn after {key}: {events()[-5:]}")

    try:
        wid = _window(proc, err_path)
        t0 = time.time()
        while not any(e["event"] == "drawn" for e in events()) and time.time() - t0 < 40:
            time.sleep(0.1)
        _xdo("windowfocus", "--sync", wid)
        time.sleep(0.5)
        press("space", "cue_card")
        press("space", "consent")
        press("n", "handover")  # declined: the participant's screen is handed over
        drawn = [e for e in events() if e["event"] == "drawn"]
        assert drawn[-1]["audience"] == "participant"
        _xdo("key", "space")  # the participant's keys do not move the hand-over screen on
        time.sleep(1.0)
        assert [e for e in events() if e["event"] == "drawn"][-1]["screen"] == "handover"
        press("F9", "ready")
        press("q", "confirm_end")
        press("y", "message")
        _xdo("key", "space")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err_path.read_text()
    ev = events()
    shown = [e.get("screen") for e in ev if e["event"] == "show"]
    assert shown[shown.index("consent") + 1] == "handover" and shown[shown.index("consent") + 2] == "ready"
    df = pd.read_csv(next((tmp_path / "d").glob("*_data.csv")))
    assert len(df) == 1 and df.loc[0, "exclusion_reason"] == "declined_consent"
