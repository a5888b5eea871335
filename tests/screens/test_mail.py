"""The mailing log's PsychoPy screen under a (virtual) display: real key input, one screenshot looked at,
and ``compliance run kunz1976`` driven from outside with real X key presses across two sessions."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from datetime import date

import pandas as pd
import pytest

import paradigms
from paradigms.engine.loop import run_participants
from paradigms.engine.mail import MailDriver
from paradigms.engine.prompts import END, Response
from paradigms.engine.schedule import make_schedule
from paradigms.engine.store import SessionStore

from tests.conftest import BIN

pytestmark = pytest.mark.screen
KUNZ = paradigms.get("kunz1976")


class _Typed:
    def __init__(self, answers):
        self.answers = list(answers)

    def wait(self, prompt):
        return Response(*self.answers.pop(0))


def _sent(root, n):
    """A first session that posted n cards on 2026-01-05 (P0001..)."""
    answers = []
    for i in range(n):
        answers += [("approach", f"2026-01-05T10:{2 * i:02d}:00.000+00:00"),
                    ("sent", f"2026-01-05T10:{2 * i + 1:02d}:00.000+00:00")]
    ids = iter(f"P{i:04d}" for i in range(1, 100))
    store = SessionStore(root, KUNZ, 1, "S1", "E1", None, {"mode": "run"})
    with store:
        run_participants(KUNZ, 1, store, iter(make_schedule(KUNZ, 1, n, seed=1).slots),
                         _Typed(answers + [(END, "2026-01-05T11:00:00.000+00:00")]), lambda: next(ids),
                         MailDriver(KUNZ.session))


def _press_when_shown(screen, presses):
    """Press each key (or type each text) once screen number n is up, as a person would."""
    def run():
        for n, key in presses:
            t0 = time.time()
            while screen.screens_shown < n and time.time() - t0 < 20:
                time.sleep(0.01)
            time.sleep(0.1)
            screen.kb.device.makeResponse(code=None, tDown=0.0, name=key)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_pick_a_card_with_the_arrows_and_record_its_reply(tmp_path):
    from paradigms.screens.mail import MailScreen
    from paradigms.screens.window import open_window
    _sent(tmp_path, 12)
    win = open_window(size=(1280, 800))
    try:
        screen = MailScreen(win, KUNZ)
        screen.screenshot_dir = tmp_path / "shots"
        driver = MailDriver(KUNZ.session)
        store = SessionStore(tmp_path, KUNZ, 1, "S1", "E1", None, {"mode": "run"})
        with store:
            prompt = driver.ready_prompt(KUNZ, store)
        assert len(prompt.cards) == 12
        # down, down, up, down (all on the log screen, which redraws its list): the third card; R acts on it
        presser = _press_when_shown(screen, [(1, "down"), (1, "down"), (1, "up"), (1, "down"), (1, "r")])
        r = screen.wait(prompt)
        presser.join(timeout=10)
        assert r.value == "received:P0003"
        shot = tmp_path / "shots" / "01_ready.png"
        assert shot.is_file() and shot.stat().st_size > 10_000
    finally:
        win.close()


def test_taps_and_keys_between_screens_are_journalled_not_lost(tmp_path):
    """Input that came while no screen was up (a tap on where the next screen's button will be, a key)
    is dropped, so it cannot answer a screen not yet seen, and journalled as on the lab screen."""
    from paradigms.screens.mail import MailScreen
    from paradigms.screens.window import open_window
    _sent(tmp_path, 2)
    win = open_window(size=(1280, 800))
    try:
        screen = MailScreen(win, KUNZ)
        events = []
        screen.journal = lambda name, **f: events.append((name, f))
        with SessionStore(tmp_path, KUNZ, 1, "S1", "E1", None, {"mode": "run"}) as store:
            prompt = MailDriver(KUNZ.session).ready_prompt(KUNZ, store)
        screen.taps._on_press(640, 400, 1, 0)           # the window's own press event, as a finger makes it
        screen.keys._on_press(__import__("pyglet").window.key.R, 0)
        presser = _press_when_shown(screen, [(1, "r")])
        r = screen.wait(prompt)
        presser.join(timeout=10)
        assert r.value == "received:P0001"            # the screen's own R, not the stale one, answered it
        stale = [f for name, f in events if name == "ignored_during_transition"]
        assert {"screen": "ready", "tap": [0.0, 0.0]} in stale and {"screen": "ready", "key": "r"} in stale
    finally:
        win.close()


def _xdo(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20)


def _count(journal, kind):
    return sum(1 for x in journal.read_text().splitlines() if f'"event": "{kind}"' in x) if journal.exists() else 0


def _run(tmp_path, session, keys):
    """``compliance run kunz1976`` in its own process; each key (or ``type:TEXT``) sent with xdotool once the
    screen before it has been answered and the next one drawn."""
    proc = subprocess.Popen([str(BIN / "compliance"), "run", "kunz1976", "--schedule", "cards.csv", "--site", "S1",
                             "--experimenter", "E1", "--data-dir", "d", "--windowed"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COMPLIANCE_WINDOWED": "1"})
    journal = tmp_path / "d" / f"study-kunz1976_exp-1_site-S1_session-{session}_events.jsonl"
    try:
        t0 = time.time()
        wid = None
        while wid is None and time.time() - t0 < 40:
            assert proc.poll() is None, proc.stderr.read()
            out = _xdo("search", "--name", "PsychoPy").stdout.split()
            wid = out[0] if out else None
            time.sleep(0.2)
        _xdo("windowfocus", "--sync", wid)
        for key in keys:
            t0 = time.time()
            while _count(journal, "drawn") <= _count(journal, "response") and time.time() - t0 < 30:
                time.sleep(0.02)
            time.sleep(0.3)
            n = _count(journal, "response")
            if key.startswith("type:"):
                _xdo("type", "--delay", "60", key[5:])
                _xdo("key", "Return")
            else:
                _xdo("key", key)
            t0 = time.time()
            while key not in ("Down", "Up", "q") and _count(journal, "response") == n and time.time() - t0 < 15:
                time.sleep(0.02)
        t0 = time.time()
        while _count(journal, "message") == 0 and time.time() - t0 < 30:
            time.sleep(0.05)
        time.sleep(0.5)
        _xdo("key", "space")  # the session's summary
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    return out, journal


def test_run_sends_cards_then_a_later_session_records_a_reply_with_real_keys(cli, tmp_path):
    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is needed for this test (apt-get install xdotool; .ci/run installs it)")
    cli("schedule", "kunz1976", "--participants", "4", "--seed", "1", "--out", "cards.csv", check=0)
    # session 1: send three cards (S on the log, S on the card), end
    out, _ = _run(tmp_path, 1, ["s", "s", "s", "s", "s", "s", "q", "y"])
    assert "session completed" in out
    first = next((tmp_path / "d").glob("*session-1_data.csv"))
    before = first.read_bytes()
    sent = pd.read_csv(first, dtype=str, keep_default_na=False)
    assert sent["record"].tolist() == ["dispatch"] * 3 and sent["card_answer"].tolist() == ["sent"] * 3
    # session 2: N on the first card is refused (its window is open), then the second card's reply, typed date
    today = date.today().isoformat()
    _, journal = _run(tmp_path, 2, ["n", "Down", "r", f"type:{today}", "d", "q", "y"])
    refused = [json.loads(x) for x in journal.read_text().splitlines() if '"event": "refused"' in x]
    assert len(refused) == 1 and "reply window" in refused[0]["message"] and "is open until" in refused[0]["message"]
    assert first.read_bytes() == before  # session 1's file is never rewritten
    second = pd.read_csv(next((tmp_path / "d").glob("*session-2_data.csv")), dtype=str, keep_default_na=False)
    assert second[["participant_id", "record", "reply", "reply_date", "reply_days", "complied", "debriefed"]
                  ].values.tolist() == [[sent["participant_id"][1], "outcome", "received", today, "0", "1", "1"]]
    res = cli("analyze", "d", check=0)
    assert "2 card(s) have no outcome recorded yet" in res.stdout and "pending" in res.stdout
