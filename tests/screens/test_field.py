"""The requester's PsychoPy screen under a (virtual) display."""
from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from paradigms.engine.field import QUIT, FieldTrial
from paradigms.engine.sessions import simulate
from paradigms.screens.registry import present

pytestmark = pytest.mark.screen


def _press_when_shown(screen, presses):
    """Press each key once screen number n is up, as a person would (input that arrives
    while a screen is still being built is dropped on purpose)."""
    def run():
        for n, key in presses:
            t0 = time.time()
            while screen.screens_shown < n and time.time() - t0 < 20:
                time.sleep(0.01)
            time.sleep(0.05)
            screen.kb.device.makeResponse(code=None, tDown=0.0, name=key)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_visual_simulation_writes_the_data_only_schema(ditf, tmp_path):
    shots = tmp_path / "shots"
    vis = simulate(ditf, 1, 6, seed=3, data_dir=tmp_path / "v", mode="visual", present=present, time_scale=0.005,
                   screenshot_dir=shots)
    dat = simulate(ditf, 1, 6, seed=3, data_dir=tmp_path / "d")
    v = pd.read_csv(vis.csv_path, dtype=str, keep_default_na=False)
    d = pd.read_csv(dat.csv_path, dtype=str, keep_default_na=False)
    assert list(v.columns) == list(d.columns)
    # same seed, same scripted answers: the screen changes how answers arrive, not what they are
    same = ["participant_id", "slot", "condition", "complied", "first_request_answer", "target_request_answer",
            "excluded", "debriefed", "data_consent"]
    assert v[same].equals(d[same])
    assert all(t.startswith("20") for t in v["t_target_request"])
    titles = {p.name.split("_", 1)[1] for p in shots.glob("*.png")}
    assert {"ready.png", "debriefing.png", "step_1_of_2__first_request.png",
            "step_2_of_2__target_request.png"} <= titles


def test_escape_asks_then_quits(ditf):
    from paradigms.screens.field import FieldScreen
    from paradigms.screens.window import open_window
    win = open_window(size=(800, 500))
    try:
        screen = FieldScreen(win, ditf)
        e = ditf.experiment(1)
        prompt = FieldTrial(ditf, e, e.condition("smaller_request_only"), "P1", 1, "t").prompt()
        # Esc on the script (screen 1), N on the question (screen 2), Esc back on the script
        # (screen 3), Y on the question (screen 4): the first Esc is cancelled, the second confirmed
        presser = _press_when_shown(screen, [(1, "escape"), (2, "n"), (3, "escape"), (4, "y")])
        assert screen.wait(prompt).value == QUIT
        presser.join(timeout=10)
        assert screen.screens_shown == 4
    finally:
        win.close()


def test_keyboard_shortcut_gives_the_answer(ditf):
    from paradigms.screens.field import FieldScreen
    from paradigms.screens.window import open_window
    win = open_window(size=(800, 500))
    try:
        screen = FieldScreen(win, ditf)
        e = ditf.experiment(1)
        prompt = FieldTrial(ditf, e, e.condition("exposure_control"), "P1", 1, "t").prompt()
        _press_when_shown(screen, [(1, "c")])
        assert screen.wait(prompt).value == "agree_first"
    finally:
        win.close()


def test_a_key_that_is_no_choice_on_the_screen_is_journalled_not_dropped(ditf):
    """Issue 13, finding 3 (nothing vanishes unseen): a key that is no choice on the screen shown is
    journalled as ``ignored_not_a_choice``, and the next key that is one is taken."""
    from paradigms.screens.field import FieldScreen
    from paradigms.screens.window import open_window
    win = open_window(size=(800, 500))
    try:
        screen = FieldScreen(win, ditf)
        events = []
        screen.journal = lambda name, **kw: events.append((name, kw))
        e = ditf.experiment(1)
        prompt = FieldTrial(ditf, e, e.condition("exposure_control"), "P1", 1, "t").prompt()
        _press_when_shown(screen, [(1, "z"), (1, "c")])
        assert screen.wait(prompt).value == "agree_first"
        ignored = [kw for name, kw in events if name == "ignored_not_a_choice"]
        assert ignored == [{"screen": "step", "key": "z"}]
    finally:
        win.close()
